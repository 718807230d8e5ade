// SPDX-License-Identifier: MIT
// Unit tests for src/auth/basic.c and src/auth/b64.c (RFC 7617, RFC 4648).
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/b64.h"
#include "auth/basic.h"
#include "harness/check.h"

static void
test_b64(void)
{
    struct buf b;

    buf_init(&b, 256);
    CHECK_EQ(b64_encode(&b, SLICE_LIT("foobar")), GH_OK); /* RFC 4648 10 */
    CHECK_MEM_EQ(b.data, "Zm9vYmFy", 8);
    b.len = 0;
    CHECK_EQ(b64_encode(&b, SLICE_LIT("fo")), GH_OK);
    CHECK_MEM_EQ(b.data, "Zm8=", 4);
    b.len = 0;
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Zm8=")), GH_OK);
    CHECK_EQ(b.len, 2);
    b.len = 0;
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Zm9=")), GH_EPROTO); /* non-zero unused bits */
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Zm8")), GH_EPROTO);  /* missing padding */
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Z=8=")), GH_EPROTO); /* padding in the middle */
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Zm8-")), GH_EPROTO); /* url alphabet */
    CHECK_EQ(b64_decode(&b, SLICE_LIT("Zm 8")), GH_EPROTO);
    CHECK_EQ(b64_decode(&b, SLICE_LIT("====")), GH_EPROTO);
    CHECK_EQ(b.len, 0);
    buf_free(&b);
}

static void
test_challenge(void)
{
    struct buf b;

    buf_init(&b, 256);
    CHECK_EQ(basic_challenge(&b, "WallyWorld"), GH_OK); /* RFC 7617 2.1 example */
    const char *want = "Basic realm=\"WallyWorld\", charset=\"UTF-8\"";
    CHECK_EQ(b.len, strlen(want));
    CHECK_MEM_EQ(b.data, want, b.len);
    buf_free(&b);
}

static void
test_decode(void)
{
    char *user = NULL;
    struct secret pw = {0};

    /* RFC 7617 2: Aladdin / open sesame */
    CHECK_EQ(basic_decode(SLICE_LIT("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &user, &pw), GH_OK);
    CHECK_STR_EQ(user, "Aladdin");
    CHECK(pw.len == 11 && memcmp(pw.bytes, "open sesame", 11) == 0 && pw.bytes[11] == 0);
    free(user);
    secret_free(&pw);

    /* RFC 7617 2.1: test / 123£ in UTF-8 */
    CHECK_EQ(basic_decode(SLICE_LIT("dGVzdDoxMjPCow=="), &user, &pw), GH_OK);
    CHECK_STR_EQ(user, "test");
    CHECK(pw.len == 5 && memcmp(pw.bytes, "123\xc2\xa3", 5) == 0);
    free(user);
    secret_free(&pw);

    /* the password may contain ':' (split at the first colon) */
    CHECK_EQ(basic_decode(SLICE_LIT("dTphOmI="), &user, &pw), GH_OK); /* "u:a:b" */
    CHECK_STR_EQ(user, "u");
    CHECK(pw.len == 3 && memcmp(pw.bytes, "a:b", 3) == 0);
    free(user);
    secret_free(&pw);

    CHECK_EQ(basic_decode(SLICE_LIT("dXNlcg=="), &user, &pw), GH_EPROTO); /* "user": no colon */
    CHECK_EQ(basic_decode(SLICE_LIT("OnB3"), &user, &pw), GH_EPROTO);     /* ":pw": empty user */
    CHECK_EQ(basic_decode(SLICE_LIT("dQ06cA=="), &user, &pw), GH_EPROTO); /* "u\r:p": CTL */
    CHECK_EQ(basic_decode(SLICE_LIT("/zpw"), &user, &pw), GH_EPROTO);     /* "\xff:p": bad UTF-8 */
    CHECK_EQ(basic_decode(SLICE_LIT("dTpw="), &user, &pw), GH_EPROTO);    /* not base64 */
    CHECK(user == NULL);
    CHECK(pw.bytes == NULL);
}

static void
test_utf8(void)
{
    CHECK(basic_is_clean_utf8(SLICE_LIT("J\xc3\xa4s\xc3\xb8n")));
    CHECK(!basic_is_clean_utf8(SLICE_LIT("\xc0\xaf")));         /* overlong */
    CHECK(!basic_is_clean_utf8(SLICE_LIT("\xed\xa0\x80")));     /* surrogate */
    CHECK(!basic_is_clean_utf8(SLICE_LIT("\xc2\x85")));         /* C1 control */
    CHECK(!basic_is_clean_utf8(SLICE_LIT("\xf4\x90\x80\x80"))); /* > U+10FFFF */
    CHECK(!basic_is_clean_utf8(SLICE_LIT("a\x7f")));
    CHECK(!basic_is_clean_utf8(SLICE_LIT("\xe2\x82"))); /* truncated */
}

int
main(void)
{
    test_b64();
    test_challenge();
    test_decode();
    test_utf8();
    return check_done("auth/basic");
}
