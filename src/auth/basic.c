// SPDX-License-Identifier: MIT
// Basic (RFC 7617). The credentials are decoded into one buffer sized up
// front, so no reallocation ever leaves a copy of the password behind, and the
// buffer is wiped in every path.
#include "auth/basic.h"

#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/authz_header.h"
#include "auth/b64.h"

int
basic_challenge(struct buf *out, const char *realm)
{
    size_t mark = out->len;
    int err = authz_challenge_begin(out, "Basic");

    if (err == GH_OK)
        err = authz_challenge_param(out, "realm", slice_cstr(realm), true);
    if (err == GH_OK) /* RFC 7617 2.1: the only allowed value is "UTF-8" */
        err = authz_challenge_param(out, "charset", SLICE_LIT("UTF-8"), true);
    if (err != GH_OK)
        out->len = mark;
    return err;
}

bool
basic_is_clean_utf8(struct slice s)
{
    size_t i = 0;

    while (i < s.len) {
        uint8_t c = s.ptr[i];
        if (c < 0x20 || c == 0x7F)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (s.len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s.ptr[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s.ptr[i + k] & 0x3F);
        }
        /* overlong forms, surrogates, beyond U+10FFFF, and C1 controls */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9F))
            return false;
        i += n + 1;
    }
    return true;
}

int
basic_decode(struct slice token68, char **user_out, struct secret *password_out)
{
    struct buf raw;
    char *user = NULL;
    int err;

    *user_out = NULL;
    if (token68.len > b64_encoded_len(BASIC_MAX_CREDENTIALS_BYTES))
        return GH_ELIMIT;
    buf_init(&raw, BASIC_MAX_CREDENTIALS_BYTES + 1);
    err = buf_reserve(&raw, token68.len / 4 * 3 + 1);
    if (err != GH_OK)
        goto cleanup;
    err = b64_decode(&raw, token68);
    if (err != GH_OK)
        goto cleanup;
    const uint8_t *colon = raw.len > 0 ? memchr(raw.data, ':', raw.len) : NULL;
    if (colon == NULL || colon == raw.data) {
        err = GH_EPROTO; /* no user-id / password separator, or empty user-id */
        goto cleanup;
    }
    struct slice user_s = slice_make(raw.data, (size_t)(colon - raw.data));
    struct slice pass_s = slice_make(colon + 1, raw.len - user_s.len - 1);
    if (!basic_is_clean_utf8(user_s) || !basic_is_clean_utf8(pass_s)) {
        err = GH_EPROTO;
        goto cleanup;
    }
    user = strndup((const char *)user_s.ptr, user_s.len);
    if (user == NULL) {
        err = GH_ENOMEM;
        goto cleanup;
    }
    raw.data[raw.len] = 0; /* reserved above: the password is NUL-terminated in place */
    err = secret_set(password_out, pass_s.ptr, pass_s.len + 1);
    if (err != GH_OK)
        goto cleanup;
    password_out->len = pass_s.len;
    *user_out = user;
    user = NULL;
cleanup:
    free(user);
    buf_free_wipe(&raw);
    return err;
}
