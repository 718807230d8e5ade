// SPDX-License-Identifier: MIT
// The NTLM acceptor with a back end that plays the domain controller: it gets
// the challenge we issued and the client's responses, checks the NTLMv2 proof
// itself and answers with the SessionBaseKey, SIDs and names (what winbind
// returns). What must hold whatever the back end: the MIC and key exchange are
// checked with the key it returns (a wrong key fails the MIC), its refusals
// and "no authority" come through unchanged with its words, and the token
// carries the domain's identity.
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/token.h>

#include "base/buf.h"
#include "base/secret.h"
#include "harness/check.h"
#include "sspi/ntlm/backend.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/ntlm/msg.h"
#include "sspi/ntlm/ntlm.h"
#include "unit/sspi/ntlm/ntlm_step.h"

enum fake_mode {
    FAKE_OK,
    FAKE_WRONG_KEY,
    FAKE_DISABLED,
    FAKE_NO_AUTHORITY
};

struct fake_dc {
    enum fake_mode mode;
    int logons;
    uint8_t last_challenge[8];
    char last_user[64], last_domain[64];
    bool destroyed;
};

static SECURITY_STATUS
fake_logon(void *state, const struct ntlm_logon *in, struct ntlm_logon_result *out,
           unsigned long *detail, struct buf *error_text)
{
    struct fake_dc *dc = state;
    uint8_t hash[16], key[16], proof[16];

    dc->logons++;
    memcpy(dc->last_challenge, in->server_challenge, 8);
    snprintf(dc->last_user, sizeof(dc->last_user), "%s", in->user);
    snprintf(dc->last_domain, sizeof(dc->last_domain), "%s", in->domain);
    if (dc->mode == FAKE_NO_AUTHORITY) {
        buf_append_str(error_text, "NTLM: the domain cannot be asked: test");
        return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    }
    /* The DC's side of MS-NLMP 3.3.2, with the password it knows. */
    CHECK_EQ(ntlm_crypto_nt_hash("Pass-w0rd", 9, hash), SEC_E_OK);
    CHECK_EQ(ntlm_crypto_ntowfv2_utf16(hash, in->user16, in->domain16, key), SEC_E_OK);
    CHECK_EQ(ntlm_crypto_nt_proof(key, in->server_challenge,
                                  slice_make(in->nt_response.ptr + 16, in->nt_response.len - 16),
                                  proof),
             SEC_E_OK);
    if (strcasecmp(in->user, "carol") != 0 || !secret_memeq(proof, in->nt_response.ptr, 16)) {
        buf_append_str(error_text, "NTLM: the domain controller refused: unknown user or wrong "
                                   "password (NT_STATUS_LOGON_FAILURE)");
        return SEC_E_LOGON_DENIED;
    }
    if (dc->mode == FAKE_DISABLED) {
        buf_append_str(error_text, "NTLM: the domain controller refused CORP\\carol: account "
                                   "disabled (NT_STATUS_ACCOUNT_DISABLED)");
        return SEC_E_LOGON_DENIED;
    }
    CHECK_EQ(ntlm_crypto_session_base_key(key, proof, out->session_base_key), SEC_E_OK);
    if (dc->mode == FAKE_WRONG_KEY)
        out->session_base_key[0] ^= 1;
    out->user = strdup("carol");
    out->domain = strdup("CORP");
    out->principal = strdup("carol@CORP.TEST");
    out->local_account = strdup("CORP\\carol");
    out->user_sid = strdup("S-1-5-21-1-2-3-1104");
    out->group_sids = calloc(2, sizeof(char *));
    out->group_sid_attrs = calloc(2, sizeof(uint32_t));
    out->group_sids[0] = strdup("S-1-5-21-1-2-3-513");
    out->group_sids[1] = strdup("S-1-5-21-1-2-3-1105");
    out->group_sid_attrs[0] = out->group_sid_attrs[1] = 7;
    out->group_sid_count = 2;
    out->dns_domain = strdup("CORP.TEST");
    out->upn = strdup("carol@corp.test");
    return SEC_E_OK;
}

static void
fake_destroy(void *state)
{
    ((struct fake_dc *)state)->destroyed = true;
}

static const struct ntlm_backend fake_backend = {"fake", fake_logon, fake_destroy};

static void
step_init(struct sspi_step *st, struct slice in)
{
    ntlm_step_init(st, in, ISC_REQ_CONNECTION | ISC_REQ_INTEGRITY, "HTTP/www.example.com");
}

struct result {
    SECURITY_STATUS st;
    char text[512];
    void *cctx, *sctx;
    uint8_t challenge[8];
};

/* NEGOTIATE -> CHALLENGE -> AUTHENTICATE between our client (as user in
 * domain) and an acceptor on the fake DC. */
static struct result
handshake(struct fake_dc *dc, const char *user, const char *domain, const char *password,
          void **ccred_out, void **scred_out)
{
    struct sspi_acquire a = {.use = SECPKG_CRED_OUTBOUND, .has_identity = true};
    GH_ACCEPTOR_AUTH_DATA cfg = {.Version = GH_ACCEPTOR_AUTH_DATA_V1, .NbDomainName = "CORP"};
    struct sspi_step c1, s1, c2, s2;
    struct result r = {0};

    a.user = user;
    a.domain = domain;
    a.password = (struct secret){(uint8_t *)password, strlen(password)};
    CHECK_EQ(ntlm_package.acquire_cred(&a, ccred_out), SEC_E_OK);
    CHECK_EQ(ntlm_cred_create_acceptor_backend(&cfg, &fake_backend, dc, scred_out), SEC_E_OK);
    step_init(&c1, slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.init_ctx(*ccred_out, &r.cctx, &c1), SEC_I_CONTINUE_NEEDED);
    step_init(&s1, buf_slice(&c1.out_token));
    CHECK_EQ(ntlm_package.accept_ctx(*scred_out, &r.sctx, &s1), SEC_I_CONTINUE_NEEDED);
    memcpy(r.challenge, s1.out_token.data + 24, 8); /* ServerChallenge (2.2.1.2) */
    step_init(&c2, buf_slice(&s1.out_token));
    CHECK_EQ(ntlm_package.init_ctx(*ccred_out, &r.cctx, &c2), SEC_E_OK);
    step_init(&s2, buf_slice(&c2.out_token));
    r.st = ntlm_package.accept_ctx(*scred_out, &r.sctx, &s2);
    snprintf(r.text, sizeof(r.text), "%.*s", (int)s2.error_text.len,
             (const char *)s2.error_text.data);
    ntlm_step_free(&c1);
    ntlm_step_free(&s1);
    ntlm_step_free(&c2);
    ntlm_step_free(&s2);
    return r;
}

static void
finish(struct result *r, void *ccred, void *scred)
{
    ntlm_package.delete_ctx(r->cctx);
    ntlm_package.delete_ctx(r->sctx);
    ntlm_package.free_cred(ccred);
    ntlm_package.free_cred(scred);
}

static void
test_domain_identity(void)
{
    struct fake_dc dc = {.mode = FAKE_OK};
    void *ccred = NULL, *scred = NULL;
    struct result r = handshake(&dc, "carol", "CORP", "Pass-w0rd", &ccred, &scred);
    gh_token *tok = NULL;

    CHECK_EQ(r.st, SEC_E_OK);
    CHECK_EQ(dc.logons, 1);
    CHECK_MEM_EQ(dc.last_challenge, r.challenge, 8); /* the challenge we issued */
    CHECK_STR_EQ(dc.last_user, "carol");
    CHECK_STR_EQ(dc.last_domain, "CORP");
    CHECK(ntlm_ctx_has_mic(r.sctx)); /* verified with the DC's key */
    CHECK_EQ(ntlm_package.query_token(r.sctx, &tok), SEC_E_OK);
    CHECK_STR_EQ(gh_token_user(tok), "carol");
    CHECK_STR_EQ(gh_token_domain(tok), "CORP");
    CHECK_STR_EQ(gh_token_principal(tok), "carol@CORP.TEST");
    CHECK_STR_EQ(gh_token_package(tok), "NTLM");
    CHECK_STR_EQ(gh_token_user_sid(tok), "S-1-5-21-1-2-3-1104");
    CHECK_STR_EQ(gh_token_group_sid(tok, 0), "S-1-5-21-1-2-3-513");
    CHECK_STR_EQ(gh_token_group_sid(tok, 1), "S-1-5-21-1-2-3-1105");
    CHECK_EQ(gh_token_group_attributes(tok, 1), 7);
    CHECK_STR_EQ(gh_token_logon_domain(tok), "CORP");
    CHECK_STR_EQ(gh_token_dns_domain(tok), "CORP.TEST");
    CHECK_STR_EQ(gh_token_upn(tok), "carol@corp.test");
    /* No GH_ACCEPTOR_GROUP_NAMES: the groups are the SIDs, as for Kerberos. */
    CHECK_EQ(gh_token_group_count(tok), 2);
    CHECK_STR_EQ(gh_token_group(tok, 0), "S-1-5-21-1-2-3-513");
    CHECK_STR_EQ(gh_token_group(tok, 1), "S-1-5-21-1-2-3-1105");
    gh_token_close(tok);

    /* Both sides hold the same exported key: a signed message verifies. */
    uint8_t sig[16];
    CHECK_EQ(ntlm_ctx_sign(r.cctx, 0 /* SEND */, SLICE_LIT("hello"), sig), SEC_E_OK);
    CHECK_EQ(ntlm_ctx_verify(r.sctx, 1 /* RECV */, SLICE_LIT("hello"), sig), SEC_E_OK);

    /* The packed context keeps the domain identity. */
    struct buf packed;
    void *imported = NULL;
    buf_init(&packed, 65536);
    CHECK_EQ(ntlm_package.export_ctx(r.sctx, &packed), SEC_E_OK);
    CHECK_EQ(ntlm_package.import_ctx(buf_slice(&packed), &imported), SEC_E_OK);
    CHECK_EQ(ntlm_package.query_token(imported, &tok), SEC_E_OK);
    CHECK_STR_EQ(gh_token_principal(tok), "carol@CORP.TEST");
    CHECK_STR_EQ(gh_token_domain(tok), "CORP");
    CHECK_STR_EQ(gh_token_user_sid(tok), "S-1-5-21-1-2-3-1104");
    CHECK_STR_EQ(gh_token_group_sid(tok, 1), "S-1-5-21-1-2-3-1105");
    CHECK_STR_EQ(gh_token_upn(tok), "carol@corp.test");
    CHECK_EQ(gh_token_group_count(tok), 2);
    gh_token_close(tok);
    ntlm_package.delete_ctx(imported);
    buf_free(&packed);
    finish(&r, ccred, scred);
    CHECK(dc.destroyed); /* the credential owned the back end's state */
}

static void
test_refusals(void)
{
    static const struct {
        const char *name;
        enum fake_mode mode;
        const char *password;
        SECURITY_STATUS want;
        const char *text; /* a part of the extended error */
    } cases[] = {
        {"wrong password", FAKE_OK, "nope", SEC_E_LOGON_DENIED, "NT_STATUS_LOGON_FAILURE"},
        {"account disabled", FAKE_DISABLED, "Pass-w0rd", SEC_E_LOGON_DENIED, "account disabled"},
        {"winbind down", FAKE_NO_AUTHORITY, "Pass-w0rd", SEC_E_NO_AUTHENTICATING_AUTHORITY,
         "cannot be asked"},
        /* A back end whose key is not the client's: the MIC (covering all
         * three messages) does not verify, so the logon fails. */
        {"MIC with a wrong key", FAKE_WRONG_KEY, "Pass-w0rd", SEC_E_LOGON_DENIED, "MIC mismatch"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fake_dc dc = {.mode = cases[i].mode};
        void *ccred = NULL, *scred = NULL;
        struct result r = handshake(&dc, "carol", "CORP", cases[i].password, &ccred, &scred);
        if (r.st != cases[i].want || strstr(r.text, cases[i].text) == NULL)
            fprintf(stderr, "case \"%s\": status 0x%08x, text \"%s\"\n", cases[i].name,
                    (unsigned)r.st, r.text);
        CHECK_EQ(r.st, cases[i].want);
        CHECK(strstr(r.text, cases[i].text) != NULL);
        CHECK(!ntlm_ctx_is_complete(r.sctx));
        finish(&r, ccred, scred);
    }
}

int
main(void)
{
    /* The token looks CORP\\carol up in NSS: keep libnss_winbind from asking
     * a test domain controller that may run meanwhile (its answer would
     * differ from run to run). */
    setenv("_NO_WINBINDD", "1", 1);
    test_domain_identity();
    test_refusals();
    return check_done("test_backend");
}
