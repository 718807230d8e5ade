// SPDX-License-Identifier: MIT
// The authentication exchange of fetch: picks a scheme among the server's
// challenges, then runs it to the end.
//
// Negotiate, NTLM and Kerberos run the SSPI loop of the security library
// (AcquireCredentialsHandleA OUTBOUND, then InitializeSecurityContextA until
// SEC_E_OK), one HTTP round trip per leg, with tokens carried base64-encoded
// in WWW-Authenticate / Authorization (RFC 4559 4). Which HTTP scheme name
// carries which package:
//   --auth negotiate  "Negotiate" + the Negotiate package (SPNEGO)
//   --auth kerberos   "Kerberos" if offered, else "Negotiate" carrying raw
//                     Kerberos tokens (Windows and MIT acceptors take them)
//   --auth ntlm       "NTLM" if offered, else "Negotiate" carrying raw NTLM
//                     (what IIS and mod_auth_gssapi with ntlmssp accept)
// Mutual authentication: Negotiate and Kerberos ask for ISC_REQ_MUTUAL_AUTH;
// the context then completes only on the server's last token, which arrives in
// the WWW-Authenticate of the final (non-401) response. A final response
// without it, or a token that does not verify, is an authentication failure:
// the response might come from someone who does not hold the service key.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>
#include <gatehouse/sspi.h>

#include "base/b64.h"
#include "base/secret.h"
#include "cli/fetch.h"
#include "cli/prompt.h"
#include "sspi/status.h"

#define MAX_CBT_BYTES 128
#define MAX_TOKEN_B64 (96 * 1024) /* Kerberos tickets with large PACs fit */
#define MAX_LEGS      8

enum kind {
    KIND_SSPI = 0,
    KIND_BASIC = 1,
    KIND_DIGEST = 2,
};

struct fetch_auth {
    struct fetch_auth_config cfg; /* strings borrowed from the caller */
    enum kind kind;
    const char *scheme;  /* HTTP scheme name we answer with (static) */
    const char *package; /* SSPI package (static), KIND_SSPI only */
    CredHandle cred;
    bool has_cred;
    CtxtHandle ctx;
    bool has_ctx;
    SECURITY_STATUS last;    /* status of the last InitializeSecurityContext */
    unsigned long req_flags; /* ISC_REQ_* */
    unsigned long attrs;     /* ISC_RET_* of the last call */
    bool want_mutual;
    int leg;
    char target[300];
    uint8_t cbt[sizeof(SEC_CHANNEL_BINDINGS) + MAX_CBT_BYTES];
    size_t cbt_len; /* 0: no bindings */
    char rspauth[129];
    int digest_tries;
    char describe[80];
};

int
fetch_auth_mode_parse(const char *name, enum fetch_auth_mode *mode_out)
{
    static const struct {
        const char *name;
        enum fetch_auth_mode mode;
    } modes[] = {
        {"none", FETCH_AUTH_NONE},           {"any", FETCH_AUTH_ANY},
        {"negotiate", FETCH_AUTH_NEGOTIATE}, {"ntlm", FETCH_AUTH_NTLM},
        {"kerberos", FETCH_AUTH_KERBEROS},   {"basic", FETCH_AUTH_BASIC},
        {"digest", FETCH_AUTH_DIGEST},       {"credssp", FETCH_AUTH_CREDSSP},
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcasecmp(name, modes[i].name) == 0) {
            *mode_out = modes[i].mode;
            return GH_OK;
        }
    }
    return GH_EINVAL;
}

static void __attribute__((format(printf, 2, 3)))
verbose(const struct fetch_auth *a, const char *fmt, ...)
{
    if (a->cfg.verbose == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("* ", a->cfg.verbose);
    vfprintf(a->cfg.verbose, fmt, ap);
    fputc('\n', a->cfg.verbose);
    va_end(ap);
}

/* The library's text for the last failure: the context's, or the thread's when
 * no context exists yet (a failed first call returns none). */
static const char *
extended_error(struct fetch_auth *a)
{
    SecPkgContext_GhExtendedError ee = {0};
    SECURITY_STATUS st =
        QueryContextAttributesA(a->has_ctx ? &a->ctx : NULL, SECPKG_ATTR_GH_EXTENDED_ERROR, &ee);
    if (st != SEC_E_OK || ee.Text == NULL || ee.Text[0] == '\0')
        return NULL;
    return ee.Text;
}

static void
report_sspi(struct fetch_auth *a, const char *call, SECURITY_STATUS st)
{
    const char *text = extended_error(a);
    fprintf(stderr, "fetch: %s: %s", call, sspi_status_name(st));
    if (text != NULL)
        fprintf(stderr, " (%s)", text);
    fputc('\n', stderr);
}

int
fetch_auth_collect(const struct fetch_response *resp, struct fetch_challenges *out)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        if (!slice_eq_nocase(resp->headers[i].name, SLICE_LIT("WWW-Authenticate")))
            continue;
        int err = fetch_challenge_parse(resp->headers[i].value, out);
        if (err != GH_OK)
            return err;
    }
    return GH_OK;
}

static int
acquire(struct fetch_auth *a)
{
    SEC_WINNT_AUTH_IDENTITY_A id = {0};
    void *auth_data = NULL;

    if (a->cfg.user != NULL) {
        /* DOMAIN\user splits; user@REALM and plain names go as the user name. */
        const char *user = a->cfg.user;
        const char *bs = strchr(user, '\\');
        if (bs != NULL) {
            id.Domain = (unsigned char *)user;
            id.DomainLength = (unsigned long)(bs - user);
            user = bs + 1;
        }
        id.User = (unsigned char *)user;
        id.UserLength = (unsigned long)strlen(user);
        id.Password = (unsigned char *)(a->cfg.password != NULL ? a->cfg.password : "");
        id.PasswordLength = (unsigned long)strlen((const char *)id.Password);
        id.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
        auth_data = &id;
    }
    /* CredSSP wraps the identity with the (empty) Schannel credential of its
     * inner TLS: the outer HTTPS already authenticated the server; the inner
     * certificate is bound to the authentication by CredSSP itself. */
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION};
    CREDSSP_CRED cc = {CredsspSubmitBufferBoth, &sc, auth_data};
    if (strcmp(a->package, CREDSSP_NAME_A) == 0)
        auth_data = &cc;
    SECURITY_STATUS st =
        AcquireCredentialsHandleA(NULL, (SEC_CHAR *)a->package, SECPKG_CRED_OUTBOUND, NULL,
                                  auth_data, NULL, NULL, &a->cred, NULL);
    verbose(a, "AcquireCredentialsHandle(%s, %s) -> %s", a->package,
            auth_data != NULL ? "explicit user and password" : "default credentials",
            sspi_status_name(st));
    if (st != SEC_E_OK) {
        report_sspi(a, "AcquireCredentialsHandle", st);
        return GH_EAUTH;
    }
    a->has_cred = true;
    return GH_OK;
}

/* One InitializeSecurityContext leg: input token (may be empty) in, the next
 * Authorization value out (cleared first; empty when there is nothing to send). */
static int
isc_leg(struct fetch_auth *a, struct slice in_token, struct buf *authz_out)
{
    SecBuffer in_bufs[2];
    unsigned long n_in = 0;
    SecBuffer out_buf = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out_desc = {SECBUFFER_VERSION, 1, &out_buf};
    int err;

    if (in_token.len > 0)
        in_bufs[n_in++] = (SecBuffer){in_token.len, SECBUFFER_TOKEN, (void *)in_token.ptr};
    if (a->cbt_len > 0)
        in_bufs[n_in++] = (SecBuffer){a->cbt_len, SECBUFFER_CHANNEL_BINDINGS, a->cbt};
    SecBufferDesc in_desc = {SECBUFFER_VERSION, n_in, in_bufs};

    a->leg++;
    SECURITY_STATUS st = InitializeSecurityContextA(
        &a->cred, a->has_ctx ? &a->ctx : NULL, a->target, a->req_flags, 0, 0,
        n_in > 0 ? &in_desc : NULL, 0, &a->ctx, &out_desc, &a->attrs, NULL);
    if (st >= 0)
        a->has_ctx = true;
    if (st == SEC_I_COMPLETE_NEEDED || st == SEC_I_COMPLETE_AND_CONTINUE) {
        SECURITY_STATUS cst = CompleteAuthToken(&a->ctx, &out_desc);
        if (cst != SEC_E_OK) {
            report_sspi(a, "CompleteAuthToken", cst);
            st = cst;
        } else {
            st = st == SEC_I_COMPLETE_NEEDED ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
        }
    }
    verbose(a, "leg %d: InitializeSecurityContext(%s, %s) in %zu bytes -> %s, out %lu bytes",
            a->leg, a->package, a->target, in_token.len, sspi_status_name(st),
            (unsigned long)out_buf.cbBuffer);
    a->last = st;
    if (st < 0) {
        report_sspi(a, "InitializeSecurityContext", st);
        err = GH_EAUTH;
        goto cleanup;
    }
    authz_out->len = 0;
    if (out_buf.cbBuffer > 0) {
        err = buf_printf(authz_out, "%s ", a->scheme);
        if (err == GH_OK)
            err = b64_encode(authz_out, slice_make(out_buf.pvBuffer, out_buf.cbBuffer));
        if (err != GH_OK)
            goto cleanup;
    }
    err = GH_OK;
cleanup:
    if (out_buf.pvBuffer != NULL)
        FreeContextBuffer(out_buf.pvBuffer);
    return err;
}

/* Decodes the token68 of our scheme's challenge in resp (empty when absent).
 * GH_OK, GH_EPROTO. */
static int
response_token(const struct fetch_auth *a, const struct fetch_response *resp, struct buf *tok_out,
               bool *present_out)
{
    uint8_t *scratch = malloc(resp->head.len + 1);
    struct fetch_challenges cs = {.scratch = scratch, .scratch_len = resp->head.len + 1};
    int err;

    *present_out = false;
    if (scratch == NULL)
        return GH_ENOMEM;
    err = fetch_auth_collect(resp, &cs);
    if (err != GH_OK)
        goto cleanup;
    const struct fetch_challenge *ch = fetch_challenge_find(&cs, a->scheme);
    if (ch != NULL && ch->token68.len > 0) {
        *present_out = true;
        err = b64_decode(tok_out, ch->token68);
    }
cleanup:
    free(scratch);
    return err;
}

static bool
negotiated_kerberos(struct fetch_auth *a)
{
    if (strcmp(a->package, "Kerberos") == 0)
        return true;
    if (strcmp(a->package, "Negotiate") != 0 || !a->has_ctx)
        return false;
    SecPkgContext_NegotiationInfoA ni = {0};
    if (QueryContextAttributesA(&a->ctx, SECPKG_ATTR_NEGOTIATION_INFO, &ni) != SEC_E_OK)
        return false;
    bool is_krb = ni.PackageInfo != NULL && ni.PackageInfo->Name != NULL &&
                  strcasecmp(ni.PackageInfo->Name, "Kerberos") == 0;
    if (ni.PackageInfo != NULL) {
        snprintf(a->describe, sizeof(a->describe), "%s (%s)", a->scheme,
                 ni.PackageInfo->Name != NULL ? ni.PackageInfo->Name : "?");
        FreeContextBuffer(ni.PackageInfo);
    }
    return is_krb;
}

static int
sspi_finish_check(struct fetch_auth *a)
{
    bool is_krb = negotiated_kerberos(a);
    if (a->want_mutual && is_krb && (a->attrs & ISC_RET_MUTUAL_AUTH) == 0) {
        fprintf(stderr, "fetch: %s: mutual authentication not confirmed by the context\n",
                a->describe);
        return FETCH_AUTH_FAILED;
    }
    verbose(a, "authenticated with %s%s%s", a->describe,
            is_krb && a->want_mutual ? ", mutual authentication verified" : "",
            (a->attrs & ISC_RET_DELEGATE) != 0 ? ", credentials delegated" : "");
    return FETCH_AUTH_DONE;
}

static int
sspi_step(struct fetch_auth *a, const struct fetch_response *resp, struct buf *authz_out)
{
    struct buf tok;
    bool present = false;
    int rc;

    buf_init(&tok, MAX_TOKEN_B64);
    int err = response_token(a, resp, &tok, &present);
    if (err == GH_ENOMEM) {
        rc = GH_ENOMEM;
        goto cleanup;
    }
    if (err != GH_OK) {
        fprintf(stderr, "fetch: %s: malformed WWW-Authenticate token in the %d response\n",
                a->scheme, resp->status);
        rc = FETCH_AUTH_FAILED;
        goto cleanup;
    }
    if (resp->status == 401) {
        if (a->last != SEC_I_CONTINUE_NEEDED || !present) {
            fprintf(stderr, "fetch: %s: the server refused the credentials (401 after leg %d)\n",
                    a->describe, a->leg);
            rc = FETCH_AUTH_FAILED;
            goto cleanup;
        }
        if (a->leg >= MAX_LEGS) {
            fprintf(stderr, "fetch: %s: handshake longer than %d legs\n", a->scheme, MAX_LEGS);
            rc = FETCH_AUTH_FAILED;
            goto cleanup;
        }
        err = isc_leg(a, buf_slice(&tok), authz_out);
        if (err == GH_ENOMEM) {
            rc = GH_ENOMEM;
            goto cleanup;
        }
        if (err != GH_OK) {
            rc = FETCH_AUTH_FAILED;
            goto cleanup;
        }
        if (authz_out->len == 0) {
            fprintf(stderr,
                    "fetch: %s: the server wants another leg but the context has no "
                    "token to send\n",
                    a->describe);
            rc = FETCH_AUTH_FAILED;
            goto cleanup;
        }
        rc = FETCH_AUTH_SEND;
        goto cleanup;
    }
    /* A final response. */
    if (a->last == SEC_I_CONTINUE_NEEDED) {
        if (!present) {
            fprintf(stderr,
                    "fetch: %s: SEC_E_MUTUAL_AUTH_FAILED (the %d response carries no final "
                    "%s token)\n",
                    a->describe, resp->status, a->scheme);
            rc = FETCH_AUTH_FAILED;
            goto cleanup;
        }
        err = isc_leg(a, buf_slice(&tok), authz_out);
        if (err == GH_ENOMEM) {
            rc = GH_ENOMEM;
            goto cleanup;
        }
        if (err != GH_OK || a->last != SEC_E_OK) {
            if (err == GH_OK)
                fprintf(stderr, "fetch: %s: the final token did not complete the context (%s)\n",
                        a->describe, sspi_status_name(a->last));
            rc = FETCH_AUTH_FAILED;
            goto cleanup;
        }
    } else if (present) {
        /* Already complete (e.g. NTLM inside SPNEGO finishing on our side): a
         * further call would start a re-authentication, so the token is left. */
        verbose(a, "final %s token ignored: the context is already complete", a->scheme);
    }
    rc = sspi_finish_check(a);
cleanup:
    buf_free_wipe(&tok);
    return rc;
}

static int
digest_header(struct fetch_auth *a, const struct fetch_challenge *ch, struct buf *authz_out)
{
    struct fetch_digest_input in = {.user = a->cfg.user,
                                    .password = a->cfg.password,
                                    .method = a->cfg.method,
                                    .uri = a->cfg.uri,
                                    .nc = 1};
    authz_out->len = 0;
    int err = fetch_digest_authorization(ch, &in, authz_out, a->rspauth);
    if (err == GH_ENOMEM)
        return GH_ENOMEM;
    if (err != GH_OK) {
        fprintf(stderr, "fetch: Digest: cannot answer the challenge: %s\n", gh_strerror(err));
        return FETCH_AUTH_FAILED;
    }
    const struct fetch_param *alg = fetch_challenge_param(ch, "algorithm");
    snprintf(a->describe, sizeof(a->describe), "Digest (%.*s)", alg ? (int)alg->value.len : 3,
             alg ? (const char *)alg->value.ptr : "MD5");
    verbose(a, "Digest response for realm-bound challenge, algorithm %s, qop %s", a->describe + 7,
            fetch_challenge_param(ch, "qop") != NULL ? "auth" : "none (RFC 2069)");
    return FETCH_AUTH_SEND;
}

/* The best Digest challenge of cs, or NULL. */
static const struct fetch_challenge *
best_digest(const struct fetch_challenges *cs)
{
    const struct fetch_challenge *best = NULL;
    int best_rank = -1;
    for (size_t i = 0; i < cs->count; i++) {
        if (!slice_eq_nocase(cs->items[i].scheme, SLICE_LIT("Digest")))
            continue;
        int r = fetch_digest_rank(&cs->items[i]);
        if (r > best_rank) {
            best_rank = r;
            best = &cs->items[i];
        }
    }
    return best;
}

static int
digest_step(struct fetch_auth *a, const struct fetch_response *resp, struct buf *authz_out)
{
    if (resp->status == 401) {
        uint8_t *scratch = malloc(resp->head.len + 1);
        struct fetch_challenges cs = {.scratch = scratch, .scratch_len = resp->head.len + 1};
        int rc = FETCH_AUTH_FAILED;
        if (scratch == NULL)
            return GH_ENOMEM;
        const struct fetch_challenge *ch = NULL;
        if (fetch_auth_collect(resp, &cs) == GH_OK)
            ch = best_digest(&cs);
        const struct fetch_param *stale = ch != NULL ? fetch_challenge_param(ch, "stale") : NULL;
        if (stale != NULL && slice_eq_nocase(stale->value, SLICE_LIT("true")) &&
            ++a->digest_tries < 3) {
            verbose(a, "Digest nonce is stale: answering the new challenge");
            rc = digest_header(a, ch, authz_out);
        } else {
            fprintf(stderr, "fetch: Digest: the server refused the credentials (401)\n");
        }
        free(scratch);
        return rc;
    }
    const struct h1_header *ai =
        h1_header_find(resp->headers, resp->header_count, SLICE_LIT("Authentication-Info"));
    if (ai == NULL || a->rspauth[0] == '\0') {
        verbose(a, "no rspauth from the server: the response is not authenticated");
        return FETCH_AUTH_DONE;
    }
    int err = fetch_digest_check_rspauth(ai->value, a->rspauth);
    if (err == GH_ENOTFOUND) {
        verbose(a, "Authentication-Info without rspauth");
        return FETCH_AUTH_DONE;
    }
    if (err != GH_OK) {
        fprintf(stderr, "fetch: Digest: the server's rspauth does not verify (%s)\n",
                err == GH_EAUTH ? "wrong value" : "malformed Authentication-Info");
        return FETCH_AUTH_FAILED;
    }
    verbose(a, "Digest rspauth verified");
    return FETCH_AUTH_DONE;
}

/* Tries one SSPI candidate: GH_OK with the first Authorization value in authz_out,
 * GH_EAUTH (reported) or GH_ENOMEM. */
static int
try_sspi(struct fetch_auth *a, const char *scheme, const char *package, struct buf *authz_out)
{
    a->kind = KIND_SSPI;
    a->scheme = scheme;
    a->package = package;
    snprintf(a->describe, sizeof(a->describe), "%s", scheme);
    if (strcmp(scheme, package) != 0)
        snprintf(a->describe, sizeof(a->describe), "%s (%s)", scheme, package);
    bool credssp = strcmp(package, CREDSSP_NAME_A) == 0;
    /* CredSSP authenticates the server itself (the public-key binding) */
    a->want_mutual = strcmp(package, "NTLM") != 0 && !credssp;
    a->req_flags = ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONNECTION | ISC_REQ_EXTENDED_ERROR;
    if (credssp)
        a->req_flags |= ISC_REQ_MANUAL_CRED_VALIDATION | ISC_REQ_STREAM;
    if (a->want_mutual)
        a->req_flags |= ISC_REQ_MUTUAL_AUTH;
    if (a->cfg.delegate)
        a->req_flags |= ISC_REQ_DELEGATE;
    int err = acquire(a);
    if (err != GH_OK)
        return err;
    err = isc_leg(a, (struct slice){0}, authz_out);
    if (err == GH_OK && authz_out->len == 0) {
        fprintf(stderr, "fetch: %s: the first leg produced no token\n", a->describe);
        err = GH_EAUTH;
    }
    if (err != GH_OK) {
        if (a->has_ctx)
            DeleteSecurityContext(&a->ctx);
        if (a->has_cred)
            FreeCredentialsHandle(&a->cred);
        a->has_ctx = a->has_cred = false;
        a->leg = 0;
    }
    return err;
}

int
fetch_auth_begin(const struct fetch_auth_config *cfg, const struct fetch_challenges *cs,
                 const uint8_t *cbt, size_t cbt_len, struct buf *authz_out,
                 struct fetch_auth **auth_out)
{
    struct fetch_auth *a = calloc(1, sizeof(*a));
    bool has_password = cfg->user != NULL && cfg->password != NULL;
    int rc = FETCH_AUTH_NO_MATCH;
    int err;

    *auth_out = NULL;
    authz_out->len = 0;
    if (a == NULL)
        return GH_ENOMEM;
    a->cfg = *cfg;
    snprintf(a->target, sizeof(a->target), "HTTP/%s", cfg->host);
    if (cbt != NULL && cbt_len > 0 && cbt_len <= MAX_CBT_BYTES) {
        /* SEC_CHANNEL_BINDINGS with only application data: what Windows' HTTP
         * stacks pass for tls-server-end-point (RFC 5929, MS-NLMP 3.1.5.1.2). */
        SEC_CHANNEL_BINDINGS hdr = {.cbApplicationDataLength = (uint32_t)cbt_len,
                                    .dwApplicationDataOffset = sizeof(SEC_CHANNEL_BINDINGS)};
        memcpy(a->cbt, &hdr, sizeof(hdr));
        memcpy(a->cbt + sizeof(hdr), cbt, cbt_len);
        a->cbt_len = sizeof(hdr) + cbt_len;
    }

    /* Candidates in order of preference for the mode: {HTTP scheme, package}. */
    struct cand {
        const char *scheme;
        const char *package; /* NULL: Basic or Digest */
    };
    static const struct cand any[] = {{"Negotiate", "Negotiate"},
                                      {"Kerberos", "Kerberos"},
                                      {"NTLM", "NTLM"},
                                      {"Digest", NULL},
                                      {"Basic", NULL}};
    static const struct cand negotiate[] = {{"Negotiate", "Negotiate"}};
    static const struct cand kerberos[] = {{"Kerberos", "Kerberos"}, {"Negotiate", "Kerberos"}};
    static const struct cand ntlm[] = {{"NTLM", "NTLM"}, {"Negotiate", "NTLM"}};
    static const struct cand basic[] = {{"Basic", NULL}};
    static const struct cand digest[] = {{"Digest", NULL}};
    static const struct cand credssp[] = {{"CredSSP", CREDSSP_NAME_A}};
    const struct cand *list = NULL;
    size_t n = 0;
#define PICK(arr) (list = (arr), n = sizeof(arr) / sizeof((arr)[0]))
    switch (cfg->mode) {
    case FETCH_AUTH_ANY:
        PICK(any);
        break;
    case FETCH_AUTH_NEGOTIATE:
        PICK(negotiate);
        break;
    case FETCH_AUTH_KERBEROS:
        PICK(kerberos);
        break;
    case FETCH_AUTH_NTLM:
        PICK(ntlm);
        break;
    case FETCH_AUTH_BASIC:
        PICK(basic);
        break;
    case FETCH_AUTH_DIGEST:
        PICK(digest);
        break;
    case FETCH_AUTH_CREDSSP:
        PICK(credssp);
        break;
    case FETCH_AUTH_NONE:
    default:
        break;
    }
#undef PICK
    for (size_t i = 0; i < n; i++) {
        const struct fetch_challenge *ch = fetch_challenge_find(cs, list[i].scheme);
        if (ch == NULL)
            continue;
        if (list[i].package != NULL) {
            err = try_sspi(a, list[i].scheme, list[i].package, authz_out);
            if (err == GH_ENOMEM) {
                rc = GH_ENOMEM;
                goto cleanup;
            }
            if (err == GH_OK) {
                rc = FETCH_AUTH_SEND;
                goto cleanup;
            }
            rc = FETCH_AUTH_FAILED;
            if (cfg->mode != FETCH_AUTH_ANY)
                goto cleanup;
            continue; /* "any": the next scheme may still work */
        }
        if (!has_password) {
            verbose(a, "%s offered, but it needs -u user:password", list[i].scheme);
            if (cfg->mode != FETCH_AUTH_ANY) {
                fprintf(stderr, "fetch: %s needs -u user[:password]\n", list[i].scheme);
                rc = FETCH_AUTH_FAILED;
                goto cleanup;
            }
            continue;
        }
        if (strcmp(list[i].scheme, "Basic") == 0) {
            a->kind = KIND_BASIC;
            a->scheme = "Basic";
            snprintf(a->describe, sizeof(a->describe), "Basic");
            err = fetch_basic_authorization(cfg->user, cfg->password, authz_out);
            if (err == GH_ENOMEM) {
                rc = GH_ENOMEM;
                goto cleanup;
            }
            if (err != GH_OK) {
                fprintf(stderr, "fetch: Basic: the user name cannot hold ':' or control "
                                "characters\n");
                rc = FETCH_AUTH_FAILED;
                goto cleanup;
            }
            verbose(a, "Basic credentials for the user (password not shown)");
            rc = FETCH_AUTH_SEND;
            goto cleanup;
        }
        const struct fetch_challenge *best = best_digest(cs);
        if (best == NULL || fetch_digest_rank(best) < 0) {
            verbose(a, "no Digest challenge we can answer (algorithm, qop)");
            rc = FETCH_AUTH_FAILED;
            if (cfg->mode != FETCH_AUTH_ANY) {
                fprintf(stderr, "fetch: Digest: no challenge with a supported algorithm and qop\n");
                goto cleanup;
            }
            continue;
        }
        a->kind = KIND_DIGEST;
        a->scheme = "Digest";
        rc = digest_header(a, best, authz_out);
        goto cleanup;
    }
cleanup:
    if (rc == FETCH_AUTH_SEND) {
        *auth_out = a;
        a = NULL;
    }
    fetch_auth_destroy(a);
    return rc;
}

int
fetch_auth_step(struct fetch_auth *auth, const struct fetch_response *resp, struct buf *authz_out)
{
    authz_out->len = 0;
    switch (auth->kind) {
    case KIND_SSPI:
        return sspi_step(auth, resp, authz_out);
    case KIND_DIGEST:
        return digest_step(auth, resp, authz_out);
    case KIND_BASIC:
    default:
        if (resp->status == 401) {
            fprintf(stderr, "fetch: Basic: the server refused the credentials (401)\n");
            return FETCH_AUTH_FAILED;
        }
        return FETCH_AUTH_DONE;
    }
}

bool
fetch_auth_needs_same_conn(const struct fetch_auth *auth)
{
    return auth != NULL && auth->kind == KIND_SSPI && auth->last == SEC_I_CONTINUE_NEEDED;
}

const char *
fetch_auth_describe(const struct fetch_auth *auth)
{
    return auth->describe;
}

void
fetch_auth_destroy(struct fetch_auth *auth)
{
    if (auth == NULL)
        return;
    if (auth->has_ctx)
        DeleteSecurityContext(&auth->ctx);
    if (auth->has_cred)
        FreeCredentialsHandle(&auth->cred);
    secret_wipe(auth, sizeof(*auth));
    free(auth);
}

int
fetch_auth_answer(const struct fetch_auth_config *cfg, const struct fetch_response *resp,
                  const uint8_t *cbt, size_t cbt_len, struct buf *authz_out,
                  struct fetch_auth **auth_out, FILE *errors)
{
    uint8_t *scratch = malloc(resp->head.len + 1);
    struct fetch_challenges cs = {.scratch = scratch, .scratch_len = resp->head.len + 1};
    int step;

    *auth_out = NULL;
    if (scratch == NULL)
        return GH_ENOMEM;
    int err = fetch_auth_collect(resp, &cs);
    if (err != GH_OK && errors != NULL)
        fprintf(errors, "fetch: malformed WWW-Authenticate in the 401 (%s)\n", gh_strerror(err));
    step = err == GH_OK ? fetch_auth_begin(cfg, &cs, cbt, cbt_len, authz_out, auth_out)
                        : FETCH_AUTH_FAILED;
    if (step == FETCH_AUTH_NO_MATCH) {
        if (errors != NULL) {
            fprintf(errors, "fetch: the server asks for authentication, but no offered "
                            "scheme fits --auth and the credentials given:");
            for (size_t i = 0; i < cs.count; i++)
                fprintf(errors, " %.*s", (int)cs.items[i].scheme.len,
                        (const char *)cs.items[i].scheme.ptr);
            fputc('\n', errors);
        }
        step = FETCH_AUTH_FAILED;
    }
    free(scratch);
    return step;
}

int
fetch_auth_preempt(const struct fetch_auth_config *cfg, const uint8_t *cbt, size_t cbt_len,
                   struct buf *authz_out, struct fetch_auth **auth_out)
{
    /* One challenge without parameters: fetch_auth_begin's choice for the
     * mode then falls on exactly this scheme. */
    static const struct {
        enum fetch_auth_mode mode;
        const char *scheme;
    } first[] = {{FETCH_AUTH_NTLM, "NTLM"},
                 {FETCH_AUTH_NEGOTIATE, "Negotiate"},
                 {FETCH_AUTH_KERBEROS, "Kerberos"},
                 {FETCH_AUTH_BASIC, "Basic"}};
    struct fetch_challenges cs = {.count = 1};

    *auth_out = NULL;
    authz_out->len = 0;
    for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
        if (first[i].mode == cfg->mode) {
            cs.items[0].scheme = slice_cstr(first[i].scheme);
            return fetch_auth_begin(cfg, &cs, cbt, cbt_len, authz_out, auth_out);
        }
    }
    return FETCH_AUTH_NO_MATCH;
}

int
fetch_user_arg(const char *arg, const char *who, char **user_out, char *pw, size_t pw_cap,
               const char **password_out)
{
    *user_out = NULL;
    *password_out = NULL;
    pw[0] = '\0';
    if (arg == NULL || arg[0] == '\0' || strcmp(arg, ":") == 0)
        return GH_OK;
    const char *colon = strchr(arg, ':');
    size_t ulen = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
    char *user = strndup(arg, ulen);
    if (user == NULL)
        return GH_ENOMEM;
    if (colon != NULL) {
        if (strlen(colon + 1) >= pw_cap) {
            fprintf(stderr, "%s: password too long\n", who);
            free(user);
            return GH_EINVAL;
        }
        memcpy(pw, colon + 1, strlen(colon + 1) + 1);
    } else {
        char prompt[320];
        size_t len = 0;
        snprintf(prompt, sizeof(prompt), "Password for %s: ", user);
        if (prompt_password(prompt, true, pw, pw_cap, &len) != 0) {
            fprintf(stderr, "%s: cannot read the password\n", who);
            free(user);
            return GH_EINVAL;
        }
    }
    *user_out = user;
    *password_out = pw;
    return GH_OK;
}
