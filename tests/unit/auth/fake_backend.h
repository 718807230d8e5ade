// SPDX-License-Identifier: MIT
// A fake security library and user store behind the auth engine's backend seam
// (src/auth/backend.h), so the engine's handshake logic is tested without the
// real packages. The fake "packages" speak a toy protocol:
//   NTLM       leg 1: "NTLMSSP\0" 01 00 00 00        -> CONTINUE, token "CHALLENGE"
//              leg 2: "NTLMSSP\0" 03 00 00 00 user:pw -> OK (no token) or LOGON_DENIED
//   Negotiate  0x60 "user:pw[|cb=<app data>]"       -> OK with token "MUTUAL"
//   Kerberos   (same as Negotiate)
//              0x60 "start" -> CONTINUE "more"; then 0xa1 "user:pw" -> OK
// Channel bindings: when a SECBUFFER_CHANNEL_BINDINGS buffer is passed, a token
// with "|cb=X" must match its application data (else SEC_E_BAD_BINDINGS); a token
// without one fails unless ASC_REQ_ALLOW_MISSING_BINDINGS was requested.
// Passwords: "pw" for every user.
#ifndef GH_TESTS_FAKE_BACKEND_H
#define GH_TESTS_FAKE_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>
#include <gatehouse/sspi.h>

#include "auth/backend.h"
#include "base/b64.h"
#include "base/buf.h"

#define FAKE_ALICE_HA1_SHA256 "5f9116cf7f13dd6ce4754cb420ba4f96c687f8bcca311ee1759d495b852155ca"
#define FAKE_ALICE_HA1_MD5    "f568ad0b3ba31f978e9cb1788c7c2f9e"

struct gh_token {
    atomic_int refs;
    char user[64];
    char package[16];
    char principal[64]; /* "" unless the name given had "@REALM" */
    char domain[64];
};

static atomic_int fake_live_tokens;
static int fake_live_contexts;
static int fake_export_count; /* ExportSecurityContext calls that succeeded */
static unsigned long fake_last_flags;
static int fake_last_had_bindings;
static GH_ACCEPTOR_AUTH_DATA fake_last_acceptor; /* of the last AcquireCredentialsHandle */

static gh_token *
fake_token_new(const char *user, const char *package)
{
    gh_token *t = calloc(1, sizeof(*t));
    atomic_init(&t->refs, 1);
    const char *at = strchr(user, '@');
    snprintf(t->user, sizeof(t->user), "%.*s", (int)(at != NULL ? at - user : 63), user);
    snprintf(t->package, sizeof(t->package), "%s", package);
    snprintf(t->principal, sizeof(t->principal), "%s", at != NULL ? user : "");
    snprintf(t->domain, sizeof(t->domain), "%s", at != NULL ? at + 1 : "FAKE");
    atomic_fetch_add(&fake_live_tokens, 1);
    return t;
}

static gh_token *
fake_dup(gh_token *t)
{
    if (t != NULL)
        atomic_fetch_add(&t->refs, 1);
    return t;
}

static void
fake_close(gh_token *t)
{
    if (t != NULL && atomic_fetch_sub(&t->refs, 1) == 1) {
        atomic_fetch_sub(&fake_live_tokens, 1);
        free(t);
    }
}

static const char *
fake_user(const gh_token *t)
{
    return t->user;
}

static const char *
fake_domain(const gh_token *t)
{
    return t->domain;
}

static const char *
fake_principal(const gh_token *t)
{
    return t->principal[0] != '\0' ? t->principal : NULL;
}

static const char *
fake_package(const gh_token *t)
{
    return t->package;
}

static size_t
fake_group_count(const gh_token *t)
{
    return strcmp(t->user, "alice") == 0 ? 1 : 0;
}

static const char *
fake_group(const gh_token *t, size_t i)
{
    (void)t;
    return i == 0 ? "staff" : NULL;
}

static const char *
fake_ccache(const gh_token *t)
{
    (void)t;
    return NULL;
}

static int
fake_token_create(const char *user, const char *domain, const char *package,
                  const char *const *groups, size_t n, gh_token **out)
{
    (void)domain, (void)groups, (void)n;
    *out = fake_token_new(user, package);
    return GH_OK;
}

/* Expiry of every fake token (0: none), for the persisted-identity tests. */
static time_t fake_token_expiry_at;

static time_t
fake_expiry(const gh_token *t)
{
    (void)t;
    return fake_token_expiry_at;
}

/* No Windows identity: the SID and domain accessors stay NULL. */
static const struct auth_token_ops fake_token_ops = {
    fake_dup,
    fake_close,
    fake_user,
    fake_domain,
    fake_principal,
    fake_package,
    fake_group_count,
    fake_group,
    fake_ccache,
    fake_token_create,
    fake_expiry,
    NULL,
    NULL,
    NULL,
    NULL,
};

/* ---- contexts ---- */
struct fake_ctx {
    int package; /* 1 Negotiate, 2 NTLM, 3 Kerberos */
    int state;   /* 0 fresh, 1 waiting for leg 2, 2 complete */
    char user[64];
};

static SECURITY_STATUS SEC_ENTRY
fake_acquire(SEC_CHAR *principal, SEC_CHAR *package, unsigned long use, void *logon,
             void *auth_data, SEC_GET_KEY_FN fn, void *arg, PCredHandle cred, PTimeStamp expiry)
{
    static const char *const names[] = {"Negotiate", "NTLM", "Kerberos"};
    (void)principal, (void)logon, (void)fn, (void)arg, (void)expiry;
    const GH_ACCEPTOR_AUTH_DATA *ad = auth_data;
    if (use != SECPKG_CRED_INBOUND || ad == NULL ||
        (ad->Version != GH_ACCEPTOR_AUTH_DATA_V1 && ad->Version != GH_ACCEPTOR_AUTH_DATA_V2 &&
         ad->Version != GH_ACCEPTOR_AUTH_DATA_V3))
        return SEC_E_INVALID_PARAMETER;
    fake_last_acceptor = *ad;
    for (int i = 0; i < 3; i++) {
        if (strcmp(package, names[i]) == 0) {
            cred->dwLower = (ULONG_PTR_SSPI)(i + 1);
            cred->dwUpper = 0x5eed;
            return SEC_E_OK;
        }
    }
    return SEC_E_SECPKG_NOT_FOUND;
}

static SECURITY_STATUS SEC_ENTRY
fake_free_cred(PCredHandle cred)
{
    cred->dwUpper = 0;
    return SEC_E_OK;
}

static SECURITY_STATUS
set_out(PSecBufferDesc out, const char *text)
{
    out->pBuffers[0].cbBuffer = (unsigned long)strlen(text);
    out->pBuffers[0].pvBuffer = strdup(text);
    return SEC_E_OK;
}

static SECURITY_STATUS
check_user(struct fake_ctx *c, const char *cred, size_t len, PSecBufferDesc in, unsigned long req)
{
    char text[256];
    if (len >= sizeof(text))
        return SEC_E_INVALID_TOKEN;
    memcpy(text, cred, len);
    text[len] = 0;
    char *cb = strstr(text, "|cb=");
    PSecBuffer bind = in->cBuffers > 1 ? &in->pBuffers[1] : NULL;
    fake_last_had_bindings = bind != NULL;
    if (bind != NULL) {
        const SEC_CHANNEL_BINDINGS *h = bind->pvBuffer;
        const char *app = (const char *)bind->pvBuffer + h->dwApplicationDataOffset;
        if (cb == NULL && (req & ASC_REQ_ALLOW_MISSING_BINDINGS) == 0)
            return SEC_E_BAD_BINDINGS;
        if (cb != NULL && (strlen(cb + 4) != h->cbApplicationDataLength ||
                           memcmp(cb + 4, app, h->cbApplicationDataLength) != 0))
            return SEC_E_BAD_BINDINGS;
    }
    if (cb != NULL)
        *cb = 0;
    char *colon = strchr(text, ':');
    if (colon != NULL && strcmp(colon + 1, "authority-down") == 0)
        return SEC_E_NO_AUTHENTICATING_AUTHORITY; /* winbind or a KDC cannot be reached */
    if (colon == NULL || strcmp(colon + 1, "pw") != 0)
        return SEC_E_LOGON_DENIED;
    *colon = 0;
    snprintf(c->user, sizeof(c->user), "%.63s", text);
    c->state = 2;
    return SEC_E_OK;
}

static SECURITY_STATUS SEC_ENTRY
fake_accept(PCredHandle cred, PCtxtHandle ctx, PSecBufferDesc in, unsigned long req,
            unsigned long drep, PCtxtHandle new_ctx, PSecBufferDesc out, unsigned long *attrs,
            PTimeStamp expiry)
{
    (void)drep, (void)expiry;
    fake_last_flags = req;
    struct fake_ctx *c = ctx != NULL ? (struct fake_ctx *)ctx->dwLower : NULL;
    const uint8_t *tok = in->pBuffers[0].pvBuffer;
    size_t len = in->pBuffers[0].cbBuffer;
    int pkg = (int)cred->dwLower;
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        c->package = pkg;
        fake_live_contexts++;
        new_ctx->dwLower = (ULONG_PTR_SSPI)c;
        new_ctx->dwUpper = 0xc0;
    }
    *attrs = ASC_RET_MUTUAL_AUTH | ASC_RET_CONNECTION;
    bool ntlm = len >= 12 && memcmp(tok, "NTLMSSP", 8) == 0;
    if (ntlm && tok[8] == 1 && c->state == 0) {
        c->state = 1;
        c->package = 2;
        set_out(out, "CHALLENGE");
        return SEC_I_CONTINUE_NEEDED;
    }
    if (ntlm && tok[8] == 3) {
        if (c->state != 1)
            return SEC_E_INVALID_TOKEN; /* no NEGOTIATE on this context */
        return check_user(c, (const char *)tok + 12, len - 12, in, req);
    }
    if (pkg != 2 && len == 6 && memcmp(tok, "\x60start", 6) == 0 && c->state == 0) {
        c->state = 1;
        set_out(out, "more");
        return SEC_I_CONTINUE_NEEDED;
    }
    if (pkg != 2 && len > 1 && tok[0] == 0xa1 && c->state == 1) {
        SECURITY_STATUS st = check_user(c, (const char *)tok + 1, len - 1, in, req);
        if (st == SEC_E_OK)
            set_out(out, "MUTUAL");
        return st;
    }
    if (pkg != 2 && len > 1 && tok[0] == 0x60 && c->state == 0) {
        SECURITY_STATUS st = check_user(c, (const char *)tok + 1, len - 1, in, req);
        if (st == SEC_E_OK)
            set_out(out, "MUTUAL");
        return st;
    }
    return SEC_E_INVALID_TOKEN;
}

static SECURITY_STATUS SEC_ENTRY
fake_delete(PCtxtHandle ctx)
{
    free((void *)ctx->dwLower);
    fake_live_contexts--;
    SecInvalidateHandle(ctx);
    return SEC_E_OK;
}

static SECURITY_STATUS SEC_ENTRY
fake_free_buffer(void *p)
{
    free(p);
    return SEC_E_OK;
}

static SECURITY_STATUS SEC_ENTRY
fake_query_token(PCtxtHandle ctx, void **token)
{
    struct fake_ctx *c = (struct fake_ctx *)ctx->dwLower;
    static const char *const names[] = {"", "Kerberos", "NTLM", "Kerberos"};
    if (c->state != 2)
        return SEC_E_INVALID_HANDLE;
    *token = fake_token_new(c->user, names[c->package]);
    return SEC_E_OK;
}

static SECURITY_STATUS SEC_ENTRY
fake_export(PCtxtHandle ctx, unsigned long flags, PSecBuffer packed, void **token)
{
    struct fake_ctx *c = (struct fake_ctx *)ctx->dwLower;
    (void)flags, (void)token;
    if (c->state != 2) /* reads the context: ASan sees an export after delete */
        return SEC_E_INVALID_HANDLE;
    fake_export_count++;
    packed->pvBuffer = strdup("packed");
    packed->cbBuffer = 6;
    return SEC_E_OK;
}

static SecurityFunctionTableA fake_sspi_table = {
    .dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION,
    .AcquireCredentialsHandleA = fake_acquire,
    .FreeCredentialsHandle = fake_free_cred,
    .AcceptSecurityContext = fake_accept,
    .DeleteSecurityContext = fake_delete,
    .FreeContextBuffer = fake_free_buffer,
    .QuerySecurityContextToken = fake_query_token,
    .ExportSecurityContext = fake_export,
};

/* ---- user store: alice (group staff) and bob, password "pw" ---- */
static int
fake_db_open(const char *path, void **db_out, char *err, size_t err_len)
{
    if (strcmp(path, "/nonexistent") == 0) {
        snprintf(err, err_len, "%s: No such file or directory", path);
        return GH_EIO;
    }
    *db_out = (void *)"fake-db";
    return GH_OK;
}

static void
fake_db_close(void *db)
{
    (void)db;
}

static atomic_int fake_verify_calls; /* password verifications (Basic) */

static int
fake_db_verify(void *db, const char *user, const char *pw, size_t len)
{
    (void)db;
    atomic_fetch_add(&fake_verify_calls, 1);
    if (strcasecmp(user, "alice") != 0 && strcasecmp(user, "bob") != 0)
        return GH_ENOTFOUND;
    return len == 2 && memcmp(pw, "pw", 2) == 0 ? GH_OK : GH_EAUTH;
}

static int
fake_db_groups(void *db, const char *user, const char *const **groups, size_t *n)
{
    static const char *const staff[] = {"staff"};
    (void)db;
    if (strcasecmp(user, "alice") != 0)
        return GH_ENOTFOUND;
    *groups = staff;
    *n = 1;
    return GH_OK;
}

static const char *
fake_db_canonical(void *db, const char *user)
{
    (void)db;
    return strcasecmp(user, "alice") == 0 ? "alice" : strcasecmp(user, "bob") == 0 ? "bob" : NULL;
}

/* HA1 values computed with the openssl command line for realm "test":
 *   printf 'alice:test:pw' | openssl dgst -sha256 / -md5 */
static int
fake_db_ha1(void *db, const char *user, const char *realm, const char *alg, char hex[129])
{
    (void)db;
    if (strcmp(user, "alice") != 0 || strcmp(realm, "test") != 0)
        return GH_ENOTFOUND;
    if (strcmp(alg, "SHA-256") == 0)
        snprintf(hex, 129, "%s", FAKE_ALICE_HA1_SHA256);
    else if (strcmp(alg, "MD5") == 0)
        snprintf(hex, 129, "%s", FAKE_ALICE_HA1_MD5);
    else
        return GH_EUNSUPPORTED;
    return GH_OK;
}

static const struct auth_userdb_ops fake_userdb_ops = {
    .open = fake_db_open,
    .close = fake_db_close,
    .verify_password = fake_db_verify,
    .digest_ha1 = fake_db_ha1,
    .find_userhash = NULL,
    .groups = fake_db_groups,
    .canonical_name = fake_db_canonical,
};

static const struct auth_backend fake_backend = {
    .sspi = &fake_sspi_table,
    .userdb = &fake_userdb_ops,
    .token = &fake_token_ops,
};

/* ---- Authorization values the fake packages understand -------------------- */

/* "Scheme " + base64(raw[0, len)) in a static buffer (not thread-safe). */
static inline const char *
fake_authorization(const char *scheme, const void *raw, size_t len)
{
    static char out[1024];
    struct buf b;
    buf_init(&b, 900);
    b64_encode(&b, slice_make(raw, len));
    snprintf(out, sizeof(out), "%s %.*s", scheme, (int)b.len, (const char *)b.data);
    buf_free(&b);
    return out;
}

/* The fake NTLM package's first leg. */
static inline const char *
fake_ntlm1(void)
{
    return fake_authorization("NTLM", "NTLMSSP\0\1\0\0\0", 12);
}

/* The fake NTLM package's last leg, carrying cred ("user:password"...). */
static inline const char *
fake_ntlm3(const char *scheme, const char *cred)
{
    char raw[128];
    size_t n = strlen(cred);
    memcpy(raw, "NTLMSSP\0\3\0\0\0", 12);
    memcpy(raw + 12, cred, n);
    return fake_authorization(scheme, raw, 12 + n);
}

/* The fake Kerberos package's one leg (a 0x60 tag, then cred). */
static inline const char *
fake_krb(const char *scheme, const char *cred)
{
    char raw[256];
    size_t n = strlen(cred);
    raw[0] = 0x60;
    memcpy(raw + 1, cred, n);
    return fake_authorization(scheme, raw, 1 + n);
}

#endif
