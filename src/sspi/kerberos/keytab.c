// SPDX-License-Identifier: MIT
// The acceptor keytab's MEMORY copy (keytab.h). MIT keeps a MEMORY keytab
// while a handle to it is open: ours lives as long as the credential, and the
// GSSAPI credential holds its own. Syncing changes adds the file's new keys
// before removing the ones it dropped, so a handshake in between finds either
// the old or the new key, never none.
#include "sspi/kerberos/keytab.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <krb5/krb5.h>
#include <openssl/rand.h>

#include "base/clock.h"

#define MAX_ENTRIES 4096 /* a keytab is a handful of keys; this bounds a hostile file */

struct krb_keytab {
    pthread_mutex_t lock; /* guards everything below: kctx is not shared */
    krb5_context kctx;
    krb5_keytab mem;
    char *path; /* the file */
    char name[64];
    struct stat seen; /* the file when last copied */
    uint64_t checked_ms;
    _Atomic uint64_t generation; /* read without the lock (krb_keytab_generation) */
};

struct entries {
    krb5_keytab_entry *e;
    size_t n;
};

static void
entries_free(krb5_context kctx, struct entries *l)
{
    for (size_t i = 0; i < l->n; i++)
        krb5_free_keytab_entry_contents(kctx, &l->e[i]);
    free(l->e);
    l->e = NULL;
    l->n = 0;
}

/* Every entry of kt into *out. 0 or a krb5 error code. */
static krb5_error_code
read_all(krb5_context kctx, krb5_keytab kt, struct entries *out)
{
    krb5_kt_cursor cur;
    krb5_keytab_entry e;
    krb5_error_code code;

    out->e = NULL;
    out->n = 0;
    code = krb5_kt_start_seq_get(kctx, kt, &cur);
    if (code != 0)
        return code;
    while ((code = krb5_kt_next_entry(kctx, kt, &e, &cur)) == 0) {
        krb5_keytab_entry *grown = NULL;
        if (out->n < MAX_ENTRIES)
            grown = realloc(out->e, (out->n + 1) * sizeof(*out->e));
        if (grown == NULL) {
            krb5_free_keytab_entry_contents(kctx, &e);
            code = ENOMEM;
            break;
        }
        out->e = grown;
        out->e[out->n++] = e;
    }
    krb5_kt_end_seq_get(kctx, kt, &cur);
    if (code == KRB5_KT_END)
        code = 0;
    if (code != 0)
        entries_free(kctx, out);
    return code;
}

static bool
same_entry(krb5_context kctx, const krb5_keytab_entry *a, const krb5_keytab_entry *b)
{
    return a->vno == b->vno && a->key.enctype == b->key.enctype && a->key.length == b->key.length &&
           memcmp(a->key.contents, b->key.contents, a->key.length) == 0 &&
           krb5_principal_compare(kctx, a->principal, b->principal);
}

static bool
contains(krb5_context kctx, const struct entries *l, const krb5_keytab_entry *e)
{
    for (size_t i = 0; i < l->n; i++) {
        if (same_entry(kctx, &l->e[i], e))
            return true;
    }
    return false;
}

/* With the lock held: makes the copy equal to the file. 0 or a krb5 error. */
static krb5_error_code
sync_from_file(struct krb_keytab *kt)
{
    struct entries file = {0}, mem = {0};
    krb5_keytab src = NULL;
    krb5_error_code code;
    char name[4096 + 8];

    if (snprintf(name, sizeof(name), "FILE:%s", kt->path) >= (int)sizeof(name))
        return ENAMETOOLONG;
    code = krb5_kt_resolve(kt->kctx, name, &src);
    if (code == 0)
        code = read_all(kt->kctx, src, &file);
    if (code == 0 && file.n == 0)
        code = KRB5_KT_NOTFOUND;
    if (code == 0)
        code = read_all(kt->kctx, kt->mem, &mem);
    for (size_t i = 0; code == 0 && i < file.n; i++) {
        if (!contains(kt->kctx, &mem, &file.e[i]))
            code = krb5_kt_add_entry(kt->kctx, kt->mem, &file.e[i]);
    }
    for (size_t i = 0; code == 0 && i < mem.n; i++) {
        if (!contains(kt->kctx, &file, &mem.e[i]))
            code = krb5_kt_remove_entry(kt->kctx, kt->mem, &mem.e[i]);
    }
    entries_free(kt->kctx, &file);
    entries_free(kt->kctx, &mem);
    if (src != NULL)
        krb5_kt_close(kt->kctx, src);
    return code;
}

void
krb_keytab_free(struct krb_keytab *kt)
{
    if (kt == NULL)
        return;
    if (kt->mem != NULL)
        krb5_kt_close(kt->kctx, kt->mem);
    if (kt->kctx != NULL)
        krb5_free_context(kt->kctx);
    pthread_mutex_destroy(&kt->lock);
    free(kt->path);
    free(kt);
}

SECURITY_STATUS
krb_keytab_load(const char *name, struct krb_keytab **out, struct buf *error_text)
{
    static const char hex[] = "0123456789abcdef";
    struct krb_keytab *kt = NULL;
    uint8_t rnd[12];
    const char *path = name;
    krb5_error_code code;
    size_t n;

    *out = NULL;
    if (strncmp(name, "FILE:", 5) == 0)
        path += 5;
    else if (strchr(name, ':') != NULL)
        return SEC_E_UNSUPPORTED_FUNCTION; /* MEMORY:, DIR:, KDB:...: used as they are */
    kt = calloc(1, sizeof(*kt));
    if (kt == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    pthread_mutex_init(&kt->lock, NULL);
    kt->path = strdup(path);
    if (kt->path == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1 ||
        krb5_init_context(&kt->kctx) != 0) {
        krb_keytab_free(kt);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    n = (size_t)snprintf(kt->name, sizeof(kt->name), "MEMORY:gh-");
    for (size_t i = 0; i < sizeof(rnd); i++) {
        kt->name[n++] = hex[rnd[i] >> 4];
        kt->name[n++] = hex[rnd[i] & 15];
    }
    kt->name[n] = '\0';
    code = krb5_kt_resolve(kt->kctx, kt->name, &kt->mem);
    if (code == 0 && stat(kt->path, &kt->seen) != 0)
        code = KRB5_KT_NOTFOUND;
    if (code == 0)
        code = sync_from_file(kt);
    if (code != 0) {
        if (error_text != NULL) {
            const char *msg = krb5_get_error_message(kt->kctx, code);
            (void)buf_printf(error_text, "cannot read keytab %s: %s", kt->path, msg);
            krb5_free_error_message(kt->kctx, msg);
        }
        krb_keytab_free(kt);
        return code == ENOMEM ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_NO_CREDENTIALS;
    }
    kt->checked_ms = clock_monotonic_ms();
    *out = kt;
    return SEC_E_OK;
}

uint64_t
krb_keytab_generation(struct krb_keytab *kt)
{
    return atomic_load_explicit(&kt->generation, memory_order_relaxed);
}

const char *
krb_keytab_name(const struct krb_keytab *kt)
{
    return kt->name;
}

void
krb_keytab_refresh(struct krb_keytab *kt, uint64_t now_ms)
{
    struct stat st;

    if (now_ms == 0)
        now_ms = clock_monotonic_ms();
    pthread_mutex_lock(&kt->lock);
    if (now_ms - kt->checked_ms >= 1000 || now_ms < kt->checked_ms) {
        kt->checked_ms = now_ms;
        if (stat(kt->path, &st) == 0 &&
            (st.st_size != kt->seen.st_size || st.st_ino != kt->seen.st_ino ||
             st.st_mtim.tv_sec != kt->seen.st_mtim.tv_sec ||
             st.st_mtim.tv_nsec != kt->seen.st_mtim.tv_nsec) &&
            sync_from_file(kt) == 0) {
            kt->seen = st; /* else: try again in a second, keep serving the copy */
            atomic_fetch_add_explicit(&kt->generation, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&kt->lock);
}
