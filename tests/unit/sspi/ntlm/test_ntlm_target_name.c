// SPDX-License-Identifier: MIT
// NTLM service binding (security review "NTLM relay across services"): an
// acceptor given AcceptedTargetNames refuses an AUTHENTICATE whose
// MsvAvTargetName (MS-NLMP 2.2.2.1) names another service (SEC_E_BAD_BINDINGS).
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "harness/check.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/ntlm/ntlm.h"

static int
lookup(void *arg, const char *user, const char *domain, uint8_t hash_out[16], char *canon,
       size_t canon_len)
{
    (void)arg;
    (void)domain;
    if (strcasecmp(user, "alice") != 0)
        return GH_ENOTFOUND;
    snprintf(canon, canon_len, "alice");
    return ntlm_crypto_nt_hash("Secret-1", 8, hash_out) == SEC_E_OK ? GH_OK : GH_EIO;
}

static void
step_init(struct sspi_step *st, struct slice in, const char *target)
{
    memset(st, 0, sizeof(*st));
    st->in_token = in;
    st->target = target;
    st->req_flags = ISC_REQ_CONNECTION | ISC_REQ_INTEGRITY;
    buf_init(&st->out_token, 65536);
    buf_init(&st->error_text, 1024);
}

static void
step_free(struct sspi_step *st)
{
    buf_free(&st->out_token);
    buf_free(&st->error_text);
}

/* One handshake: the client names client_target (NULL: no MsvAvTargetName),
 * the acceptor accepts names[0..count). Returns the acceptor's last status. */
static SECURITY_STATUS
handshake(const char *client_target, const char *const *names, unsigned long count,
          unsigned long flags)
{
    GH_ACCEPTOR_AUTH_DATA cfg = {.Version = GH_ACCEPTOR_AUTH_DATA_V3,
                                 .NbDomainName = "EXAMPLE",
                                 .Flags = flags,
                                 .AcceptedTargetNames = names,
                                 .AcceptedTargetNameCount = count};
    struct sspi_acquire a = {.use = SECPKG_CRED_OUTBOUND, .has_identity = true};
    void *ccred = NULL, *scred = NULL, *cctx = NULL, *sctx = NULL;
    struct sspi_step c1, s1, c2, s2;
    SECURITY_STATUS st;

    a.user = "alice";
    a.domain = "EXAMPLE";
    a.password.bytes = (uint8_t *)"Secret-1";
    a.password.len = 8;
    CHECK_EQ(ntlm_package.acquire_cred(&a, &ccred), SEC_E_OK);
    CHECK_EQ(ntlm_cred_create_acceptor(&cfg, lookup, NULL, &scred), SEC_E_OK);

    step_init(&c1, slice_make(NULL, 0), client_target);
    CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &c1), SEC_I_CONTINUE_NEEDED);
    step_init(&s1, buf_slice(&c1.out_token), NULL);
    CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &s1), SEC_I_CONTINUE_NEEDED);
    step_init(&c2, buf_slice(&s1.out_token), client_target);
    CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &c2), SEC_E_OK);
    step_init(&s2, buf_slice(&c2.out_token), NULL);
    st = ntlm_package.accept_ctx(scred, &sctx, &s2);
    if (st == SEC_E_BAD_BINDINGS)
        CHECK(strstr((const char *)s2.error_text.data, "MsvAvTargetName") != NULL);
    step_free(&c1);
    step_free(&s1);
    step_free(&c2);
    step_free(&s2);
    ntlm_package.delete_ctx(cctx);
    ntlm_package.delete_ctx(sctx);
    ntlm_package.free_cred(ccred);
    ntlm_package.free_cred(scred);
    return st;
}

static void
test_target_names(void)
{
    static const char *const web[] = {"HTTP/www.example.com", "HTTP/web"};
    static const char *const with_port[] = {"HTTP/www.example.com:8080"};
    static const char *const with_realm[] = {"HTTP/www.example.com@EXAMPLE.COM"};
    static const struct {
        const char *client; /* NULL: the client sends no MsvAvTargetName */
        const char *const *names;
        unsigned long count, flags;
        SECURITY_STATUS want;
        const char *rule;
    } rows[] = {
        {"cifs/fileserver", NULL, 0, 0, SEC_E_OK, "no names configured: no check (as before)"},
        {"HTTP/www.example.com", web, 2, 0, SEC_E_OK, "exact name"},
        {"HTTP/web", web, 2, 0, SEC_E_OK, "second name of the list"},
        {"http/WWW.Example.COM", web, 2, 0, SEC_E_OK, "SPNs compare case-insensitively"},
        {"HTTP/www.example.com:8443", web, 2, 0, SEC_E_OK, "Chromium adds a non-default port"},
        {"cifs/fileserver.example.com", web, 2, 0, SEC_E_BAD_BINDINGS,
         "relayed from SMB: another service class and host"},
        {"HTTP/other.example.com", web, 2, 0, SEC_E_BAD_BINDINGS, "relayed from another web host"},
        {"HTTP/www.example.com.evil.org", web, 2, 0, SEC_E_BAD_BINDINGS, "a name is not a prefix"},
        {"HTTP/www", web, 2, 0, SEC_E_BAD_BINDINGS, "a prefix of a name is not the name"},
        {"HTTP/www.example.com:", web, 2, 0, SEC_E_BAD_BINDINGS, "empty port"},
        {"HTTP/www.example.com:123456", web, 2, 0, SEC_E_BAD_BINDINGS, "port of 6 digits"},
        {"HTTP/www.example.com:80x", web, 2, 0, SEC_E_BAD_BINDINGS, "port not numeric"},
        {"HTTP/www.example.com:8080", with_port, 1, 0, SEC_E_OK, "configured port, same port"},
        {"HTTP/www.example.com:8443", with_port, 1, 0, SEC_E_BAD_BINDINGS,
         "configured port, another port"},
        {"HTTP/www.example.com", with_port, 1, 0, SEC_E_BAD_BINDINGS,
         "configured port, client without port"},
        {"HTTP/www.example.com", with_realm, 1, 0, SEC_E_OK, "@REALM of the configured name cut"},
        {NULL, web, 2, 0, SEC_E_OK, "no MsvAvTargetName: accepted by default (curl sends none)"},
        {NULL, web, 2, GH_ACCEPTOR_REQUIRE_TARGET_NAME, SEC_E_BAD_BINDINGS,
         "no MsvAvTargetName with GH_ACCEPTOR_REQUIRE_TARGET_NAME"},
        {"HTTP/web", web, 2, GH_ACCEPTOR_REQUIRE_TARGET_NAME, SEC_E_OK, "required and right"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        SECURITY_STATUS st = handshake(rows[i].client, rows[i].names, rows[i].count, rows[i].flags);
        if (st != rows[i].want)
            fprintf(stderr, "row %zu (%s): got 0x%08x\n", i, rows[i].rule, (unsigned)st);
        CHECK_EQ(st, rows[i].want);
    }
}

/* V3 with a count but no array is the caller's mistake, found at acquisition. */
static void
test_bad_config(void)
{
    GH_ACCEPTOR_AUTH_DATA cfg = {.Version = GH_ACCEPTOR_AUTH_DATA_V3, .AcceptedTargetNameCount = 1};
    static const char *const empty[] = {""};
    void *scred = NULL;
    CredHandle h;
    TimeStamp ts;

    CHECK_EQ(ntlm_cred_create_acceptor(&cfg, lookup, NULL, &scred), SEC_E_INVALID_PARAMETER);
    CHECK(scred == NULL);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, NTLMSP_NAME_A, SECPKG_CRED_INBOUND, NULL, &cfg, NULL,
                                       NULL, &h, &ts),
             SEC_E_INVALID_PARAMETER);
    cfg.AcceptedTargetNames = empty;
    CHECK_EQ(ntlm_cred_create_acceptor(&cfg, lookup, NULL, &scred), SEC_E_INVALID_PARAMETER);
    /* A V2 caller's struct ends before AcceptedTargetNames: never read. */
    cfg.Version = GH_ACCEPTOR_AUTH_DATA_V2;
    CHECK_EQ(ntlm_cred_create_acceptor(&cfg, lookup, NULL, &scred), SEC_E_OK);
    ntlm_package.free_cred(scred);
}

int
main(void)
{
    test_target_names();
    test_bad_config();
    return check_done("sspi/ntlm/target_name");
}
