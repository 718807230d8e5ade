// SPDX-License-Identifier: MIT
// The acceptor keytab's MEMORY copy (src/sspi/kerberos/keytab.c): copied once,
// a key added to or removed from the file is picked up by a refresh after
// the file changed (not before a second has passed), an unreadable or empty
// file fails, non-FILE keytabs are not copied.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <krb5/krb5.h>

#include "harness/check.h"
#include "sspi/kerberos/keytab.h"

static krb5_context kctx;

static void
add_key(const char *ktname, krb5_kvno vno, uint8_t fill)
{
    krb5_keytab kt = NULL;
    krb5_keytab_entry e;
    uint8_t key[32];

    memset(&e, 0, sizeof(e));
    memset(key, fill, sizeof(key));
    CHECK_EQ(krb5_kt_resolve(kctx, ktname, &kt), 0);
    CHECK_EQ(krb5_parse_name(kctx, "HTTP/localhost@TEST.REALM", &e.principal), 0);
    e.vno = vno;
    e.key.enctype = ENCTYPE_AES256_CTS_HMAC_SHA1_96;
    e.key.length = sizeof(key);
    e.key.contents = key;
    CHECK_EQ(krb5_kt_add_entry(kctx, kt, &e), 0);
    krb5_free_principal(kctx, e.principal);
    krb5_kt_close(kctx, kt);
}

static void
remove_key(const char *ktname, krb5_kvno vno, uint8_t fill)
{
    krb5_keytab kt = NULL;
    krb5_keytab_entry e;
    uint8_t key[32];

    memset(&e, 0, sizeof(e));
    memset(key, fill, sizeof(key));
    CHECK_EQ(krb5_kt_resolve(kctx, ktname, &kt), 0);
    CHECK_EQ(krb5_parse_name(kctx, "HTTP/localhost@TEST.REALM", &e.principal), 0);
    e.vno = vno;
    e.key.enctype = ENCTYPE_AES256_CTS_HMAC_SHA1_96;
    e.key.length = sizeof(key);
    e.key.contents = key;
    CHECK_EQ(krb5_kt_remove_entry(kctx, kt, &e), 0);
    krb5_free_principal(kctx, e.principal);
    krb5_kt_close(kctx, kt);
}

/* The key of kvno vno in keytab ktname: its first byte, or -1 when absent. */
static int
key_of(const char *ktname, krb5_kvno vno)
{
    krb5_keytab kt = NULL;
    krb5_principal p = NULL;
    krb5_keytab_entry e;
    int out = -1;

    CHECK_EQ(krb5_kt_resolve(kctx, ktname, &kt), 0);
    CHECK_EQ(krb5_parse_name(kctx, "HTTP/localhost@TEST.REALM", &p), 0);
    if (krb5_kt_get_entry(kctx, kt, p, vno, ENCTYPE_AES256_CTS_HMAC_SHA1_96, &e) == 0) {
        out = e.key.contents[0];
        krb5_free_keytab_entry_contents(kctx, &e);
    }
    krb5_free_principal(kctx, p);
    krb5_kt_close(kctx, kt);
    return out;
}

int
main(void)
{
    char dir[] = "/tmp/gh-keytab-XXXXXX", path[256], fname[300];
    struct krb_keytab *kt = NULL;
    struct buf err;

    CHECK_EQ(krb5_init_context(&kctx), 0);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/http.keytab", dir);
    snprintf(fname, sizeof(fname), "FILE:%s", path);
    buf_init(&err, 1024);

    /* missing file: refused with the reason */
    CHECK_EQ(krb_keytab_load(path, &kt, &err), SEC_E_NO_CREDENTIALS);
    CHECK(kt == NULL);
    CHECK(err.len > 0 && strstr((const char *)err.data, path) != NULL);
    CHECK_EQ(krb_keytab_load("MEMORY:other", &kt, NULL), SEC_E_UNSUPPORTED_FUNCTION);

    add_key(fname, 3, 0x33);
    CHECK_EQ(krb_keytab_load(fname, &kt, NULL), SEC_E_OK);
    const char *mem = krb_keytab_name(kt);
    CHECK(strncmp(mem, "MEMORY:gh-", 10) == 0);
    CHECK_EQ(key_of(mem, 3), 0x33);
    krb_keytab_free(kt);
    CHECK_EQ(krb_keytab_load(path, &kt, NULL), SEC_E_OK); /* a bare path is a FILE */
    mem = krb_keytab_name(kt);
    CHECK_EQ(key_of(mem, 3), 0x33);

    /* rotation: kvno 4 added to the file; seen at the first refresh a second later */
    usleep(20000); /* a distinct mtime even on coarse clocks */
    add_key(fname, 4, 0x44);
    krb_keytab_refresh(kt, 1); /* checked_ms is a monotonic time: long ago */
    CHECK_EQ(key_of(mem, 4), 0x44);
    CHECK_EQ(key_of(mem, 3), 0x33);
    /* then kvno 3 removed from the file: within a second of the last check
     * nothing is looked at; after it, removed from the copy too */
    usleep(20000);
    remove_key(fname, 3, 0x33);
    krb_keytab_refresh(kt, 2);
    CHECK_EQ(key_of(mem, 3), 0x33);
    krb_keytab_refresh(kt, 1001);
    CHECK_EQ(key_of(mem, 3), -1);
    CHECK_EQ(key_of(mem, 4), 0x44);
    usleep(20000);
    add_key(fname, 5, 0x55);
    krb_keytab_refresh(kt, 1002);
    CHECK_EQ(key_of(mem, 5), -1);
    krb_keytab_refresh(kt, 2001);
    CHECK_EQ(key_of(mem, 5), 0x55);
    /* the file gone: the copy keeps serving */
    CHECK_EQ(unlink(path), 0);
    krb_keytab_refresh(kt, 4000);
    CHECK_EQ(key_of(mem, 5), 0x55);
    krb_keytab_free(kt);
    krb_keytab_free(NULL);

    /* an empty keytab file is refused */
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fputc(5, f);
    fputc(2, f);
    fclose(f);
    CHECK_EQ(krb_keytab_load(path, &kt, NULL), SEC_E_NO_CREDENTIALS);
    unlink(path);
    rmdir(dir);
    buf_free(&err);
    krb5_free_context(kctx);
    return check_done("sspi/kerberos/keytab");
}
