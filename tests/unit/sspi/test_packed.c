// SPDX-License-Identifier: MIT
// Packed contexts through the public API (ExportSecurityContext /
// ImportSecurityContextA) for NTLM and Negotiate/NTLM: the imported context
// answers LIFESPAN / NAMES / PACKAGE_INFO and carries on the message exchange
// (keys, sequence numbers, RC4 state); malformed packed bytes are refused.
// Also Negotiate's acceptor answering request-mic to a client that left the
// mechListMIC out (RFC 4178 5, MS-SPNG 3.2.5.1), and the extended error text
// of a Negotiate failure. Kerberos packed contexts need a KDC: see
// tests/integration/test_fetch_auth.py (the server's record) and test_kerberos.py.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "base/buf.h"
#include "harness/check.h"
#include "sspi/negotiate/spnego_der.h"
#include "sspi/ntlm/crypto.h"

static char dir_path[] = "/tmp/gh-packed-XXXXXX";
static char store_path[512];

static void
setup(void)
{
    uint8_t nt[16];
    char path[600], line[256];
    FILE *f;

    CHECK(mkdtemp(dir_path) != NULL);
    /* No Kerberos here: an unreachable realm, no keytab, no ccache, so that
     * Negotiate settles on NTLM at once. */
    snprintf(path, sizeof(path), "%s/krb5.conf", dir_path);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "[libdefaults]\n default_realm = NOWHERE.TEST\n dns_lookup_kdc = false\n"
               "[realms]\n NOWHERE.TEST = {\n  kdc = 127.0.0.1:1\n }\n");
    fclose(f);
    setenv("KRB5_CONFIG", path, 1);
    snprintf(path, sizeof(path), "FILE:%s/none.keytab", dir_path);
    setenv("KRB5_KTNAME", path, 1);
    snprintf(path, sizeof(path), "FILE:%s/none.ccache", dir_path);
    setenv("KRB5CCNAME", path, 1);
    unsetenv("NTLM_USER_FILE");

    snprintf(store_path, sizeof(store_path), "%s/users", dir_path);
    f = fopen(store_path, "w");
    CHECK(f != NULL);
    CHECK_EQ(ntlm_crypto_nt_hash("Secret-1", 8, nt), SEC_E_OK);
    int n = snprintf(line, sizeof(line), "Alice::");
    for (int i = 0; i < 16; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", nt[i]);
    fprintf(f, "%s:staff,ops:\n", line);
    fclose(f);
    CHECK_EQ(chmod(store_path, 0600), 0);
}

static void
teardown(void)
{
    char path[600];
    const char *names[] = {"krb5.conf", "users"};

    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir_path, names[i]);
        unlink(path);
    }
    rmdir(dir_path);
}

struct pair {
    CredHandle ccred, scred;
    CtxtHandle cctx, sctx;
    bool has_c, has_s;
};

static void
pair_acquire(struct pair *p, const char *package)
{
    SEC_WINNT_AUTH_IDENTITY_A id = {.User = (unsigned char *)"alice",
                                    .UserLength = 5,
                                    .Domain = (unsigned char *)"CORP",
                                    .DomainLength = 4,
                                    .Password = (unsigned char *)"Secret-1",
                                    .PasswordLength = 8,
                                    .Flags = SEC_WINNT_AUTH_IDENTITY_ANSI};
    GH_ACCEPTOR_AUTH_DATA cfg = {
        .Version = GH_ACCEPTOR_AUTH_DATA_V1, .UserStore = store_path, .NbDomainName = "CORP"};

    memset(p, 0, sizeof(*p));
    CHECK_EQ(AcquireCredentialsHandleA(NULL, (SEC_CHAR *)package, SECPKG_CRED_OUTBOUND, NULL, &id,
                                       NULL, NULL, &p->ccred, NULL),
             SEC_E_OK);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, (SEC_CHAR *)package, SECPKG_CRED_INBOUND, NULL, &cfg,
                                       NULL, NULL, &p->scred, NULL),
             SEC_E_OK);
}

/* Client and server legs until both are done; returns the acceptor's last status. */
static SECURITY_STATUS
pair_run(struct pair *p, int *legs_out)
{
    SECURITY_STATUS cst = SEC_I_CONTINUE_NEEDED, sst = SEC_I_CONTINUE_NEEDED;
    struct buf tok;
    unsigned long attrs;
    int leg = 0;

    buf_init(&tok, 1 << 16);
    while (leg < 10) {
        /* Client leg. */
        if (cst == SEC_I_CONTINUE_NEEDED && (leg == 0 || tok.len > 0)) {
            SecBuffer ib = {(unsigned long)tok.len, SECBUFFER_TOKEN, tok.data};
            SecBufferDesc in = {SECBUFFER_VERSION, 1, &ib};
            SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
            SecBufferDesc out = {SECBUFFER_VERSION, 1, &ob};
            cst = InitializeSecurityContextA(
                &p->ccred, p->has_c ? &p->cctx : NULL, "HTTP/localhost",
                ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONNECTION | ISC_REQ_CONFIDENTIALITY |
                    ISC_REQ_INTEGRITY,
                0, 0, leg == 0 ? NULL : &in, 0, &p->cctx, &out, &attrs, NULL);
            if (cst < 0)
                break;
            /* The last leg reports the attributes too, also when Negotiate's
             * inner package did not run in it (the server's accept-completed). */
            if (cst == SEC_E_OK)
                CHECK((attrs & ISC_RET_CONFIDENTIALITY) != 0);
            p->has_c = true;
            tok.len = 0;
            CHECK_EQ(buf_append(&tok, ob.pvBuffer, ob.cbBuffer), GH_OK);
            FreeContextBuffer(ob.pvBuffer);
            leg++;
        }
        if (tok.len == 0 || sst != SEC_I_CONTINUE_NEEDED)
            break;
        /* Server leg. */
        SecBuffer ib = {(unsigned long)tok.len, SECBUFFER_TOKEN, tok.data};
        SecBufferDesc in = {SECBUFFER_VERSION, 1, &ib};
        SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
        SecBufferDesc out = {SECBUFFER_VERSION, 1, &ob};
        sst = AcceptSecurityContext(&p->scred, p->has_s ? &p->sctx : NULL, &in,
                                    ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_CONNECTION, 0, &p->sctx, &out,
                                    &attrs, NULL);
        if (sst < 0)
            break;
        p->has_s = true;
        tok.len = 0;
        CHECK_EQ(buf_append(&tok, ob.pvBuffer, ob.cbBuffer), GH_OK);
        FreeContextBuffer(ob.pvBuffer);
        leg++;
        if (cst == SEC_E_OK && sst == SEC_E_OK)
            break;
    }
    buf_free(&tok);
    if (legs_out != NULL)
        *legs_out = leg;
    CHECK(cst == SEC_E_OK || sst < 0);
    return sst;
}

static void
pair_free(struct pair *p)
{
    if (p->has_c)
        DeleteSecurityContext(&p->cctx);
    if (p->has_s)
        DeleteSecurityContext(&p->sctx);
    FreeCredentialsHandle(&p->ccred);
    FreeCredentialsHandle(&p->scred);
}

/* Client seals, server side unseals, then the other way round. */
static void
exchange(CtxtHandle *client, CtxtHandle *server, const char *text)
{
    char msg[64];
    uint8_t sig[64];
    unsigned long qop = 0;
    size_t n = strlen(text) + 1;

    memcpy(msg, text, n);
    SecBuffer b[2] = {{sizeof(sig), SECBUFFER_TOKEN, sig}, {(unsigned long)n, SECBUFFER_DATA, msg}};
    SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
    CHECK_EQ(EncryptMessage(client, 0, &d, 0), SEC_E_OK);
    CHECK(memcmp(msg, text, n) != 0);
    CHECK_EQ(DecryptMessage(server, &d, 0, &qop), SEC_E_OK);
    CHECK_STR_EQ(msg, text);
    b[0].cbBuffer = sizeof(sig);
    CHECK_EQ(EncryptMessage(server, 0, &d, 0), SEC_E_OK);
    CHECK_EQ(DecryptMessage(client, &d, 0, &qop), SEC_E_OK);
    CHECK_STR_EQ(msg, text);
    b[0].cbBuffer = sizeof(sig);
    CHECK_EQ(MakeSignature(client, 0, &d, 0), SEC_E_OK);
    CHECK_EQ(VerifySignature(server, &d, 0, &qop), SEC_E_OK);
}

static void
test_export_import(const char *package)
{
    struct pair p;
    SecBuffer packed = {0};
    void *token = NULL;
    CtxtHandle imported;

    pair_acquire(&p, package);
    CHECK_EQ(pair_run(&p, NULL), SEC_E_OK);
    exchange(&p.cctx, &p.sctx, "before the export"); /* RC4 and sequence numbers move */

    CHECK_EQ(ExportSecurityContext(&p.sctx, 0, &packed, &token), SEC_E_OK);
    CHECK(packed.pvBuffer != NULL && packed.cbBuffer > 40);
    CHECK(token != NULL && strcmp(gh_token_user(token), "Alice") == 0);
    gh_token_close(token);
    CHECK(memcmp(packed.pvBuffer, "GHPC", 4) == 0);
    CHECK_EQ(ImportSecurityContextA((SEC_CHAR *)package, &packed, NULL, &imported), SEC_E_OK);

    SecPkgContext_Lifespan ls = {0}, ls0 = {0};
    CHECK_EQ(QueryContextAttributesA(&imported, SECPKG_ATTR_LIFESPAN, &ls), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&p.sctx, SECPKG_ATTR_LIFESPAN, &ls0), SEC_E_OK);
    CHECK(ls.tsStart.LowPart == ls0.tsStart.LowPart && ls.tsStart.HighPart == ls0.tsStart.HighPart);
    CHECK(ls.tsExpiry.HighPart == ls0.tsExpiry.HighPart);
    CHECK(ls.tsStart.HighPart != 0);
    SecPkgContext_NamesA names = {0};
    CHECK_EQ(QueryContextAttributesA(&imported, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
    CHECK_STR_EQ(names.sUserName, "CORP\\Alice");
    FreeContextBuffer(names.sUserName);
    SecPkgContext_PackageInfoA pi = {0};
    CHECK_EQ(QueryContextAttributesA(&imported, SECPKG_ATTR_PACKAGE_INFO, &pi), SEC_E_OK);
    CHECK(pi.PackageInfo != NULL && strcmp(pi.PackageInfo->Name, "NTLM") == 0);
    FreeContextBuffer(pi.PackageInfo);
    SecPkgContext_Flags fl = {0}, fl0 = {0};
    CHECK_EQ(QueryContextAttributesA(&imported, SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&p.sctx, SECPKG_ATTR_FLAGS, &fl0), SEC_E_OK);
    CHECK_EQ(fl.Flags, fl0.Flags);
    void *t2 = NULL;
    CHECK_EQ(QuerySecurityContextToken(&imported, &t2), SEC_E_OK);
    CHECK(t2 != NULL && gh_token_group_count(t2) == 2);
    gh_token_close(t2);

    /* The imported context carries on where the original stood. */
    exchange(&p.cctx, &imported, "after the import");
    exchange(&p.cctx, &imported, "and again");

    /* A re-authentication on an imported context has no credentials. */
    SecBuffer ib = {4, SECBUFFER_TOKEN, "abcd"};
    SecBufferDesc in = {SECBUFFER_VERSION, 1, &ib};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &ob};
    unsigned long attrs;
    CHECK_EQ(AcceptSecurityContext(NULL, &imported, &in, ASC_REQ_ALLOCATE_MEMORY, 0, &imported,
                                   &out, &attrs, NULL),
             SEC_E_NO_CREDENTIALS);

    /* Malformed packed contexts: every truncation, and every byte flipped in
     * the envelope, is refused or imports cleanly; nothing crashes or leaks. */
    uint8_t *bytes = packed.pvBuffer;
    for (unsigned long n = 0; n < packed.cbBuffer; n++) {
        SecBuffer cut = {n, SECBUFFER_EMPTY, bytes};
        CtxtHandle h;
        CHECK_EQ(ImportSecurityContextA(NULL, &cut, NULL, &h), SEC_E_INVALID_TOKEN);
    }
    for (unsigned long i = 0; i < packed.cbBuffer; i++) {
        CtxtHandle h;
        bytes[i] ^= 0x80;
        SECURITY_STATUS st = ImportSecurityContextA(NULL, &packed, NULL, &h);
        CHECK(st == SEC_E_OK || st == SEC_E_INVALID_TOKEN || st == SEC_E_SECPKG_NOT_FOUND);
        if (st == SEC_E_OK)
            DeleteSecurityContext(&h);
        bytes[i] ^= 0x80;
    }
    CHECK_EQ(ImportSecurityContextA("Kerberos", &packed, NULL, &imported), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ImportSecurityContextA("NoSuch", &packed, NULL, &imported), SEC_E_SECPKG_NOT_FOUND);

    /* DELETE_OLD: the exported handle goes. */
    SecBuffer again = {0};
    CHECK_EQ(ExportSecurityContext(&p.sctx, SECPKG_CONTEXT_EXPORT_DELETE_OLD, &again, NULL),
             SEC_E_OK);
    p.has_s = false;
    SecPkgContext_Flags f3;
    CHECK_EQ(QueryContextAttributesA(&p.sctx, SECPKG_ATTR_FLAGS, &f3), SEC_E_INVALID_HANDLE);
    FreeContextBuffer(again.pvBuffer);

    FreeContextBuffer(packed.pvBuffer);
    DeleteSecurityContext(&imported);
    pair_free(&p);
}

static void
test_export_incomplete(void)
{
    struct pair p;
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &ob};
    SecBuffer packed = {0};
    unsigned long attrs;

    pair_acquire(&p, "NTLM");
    CHECK_EQ(InitializeSecurityContextA(&p.ccred, NULL, "HTTP/localhost", ISC_REQ_ALLOCATE_MEMORY,
                                        0, 0, NULL, 0, &p.cctx, &out, &attrs, NULL),
             SEC_I_CONTINUE_NEEDED);
    p.has_c = true;
    FreeContextBuffer(ob.pvBuffer);
    CHECK_EQ(ExportSecurityContext(&p.cctx, 0, &packed, NULL), SEC_E_NO_CONTEXT);
    CHECK(packed.pvBuffer == NULL);
    CHECK_EQ(ExportSecurityContext(&p.cctx, SECPKG_CONTEXT_EXPORT_TO_KERNEL, &packed, NULL),
             SEC_E_INVALID_PARAMETER);
    pair_free(&p);
}

/* One acceptor leg of the Negotiate server with a DER token; the reply in resp. */
static SECURITY_STATUS
server_leg(struct pair *p, const struct buf *in_tok, struct buf *reply)
{
    SecBuffer ib = {(unsigned long)in_tok->len, SECBUFFER_TOKEN, in_tok->data};
    SecBufferDesc in = {SECBUFFER_VERSION, 1, &ib};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &ob};
    unsigned long attrs;
    SECURITY_STATUS st = AcceptSecurityContext(&p->scred, p->has_s ? &p->sctx : NULL, &in,
                                               ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_CONNECTION, 0,
                                               &p->sctx, &out, &attrs, NULL);

    if (st >= 0)
        p->has_s = true;
    reply->len = 0;
    if (ob.pvBuffer != NULL) {
        CHECK_EQ(buf_append(reply, ob.pvBuffer, ob.cbBuffer), GH_OK);
        FreeContextBuffer(ob.pvBuffer);
    }
    return st;
}

/* One NTLM initiator leg through the public API (raw NTLM tokens). */
static SECURITY_STATUS
ntlm_leg(struct pair *p, struct slice in_tok, struct buf *out_tok)
{
    SecBuffer ib = {(unsigned long)in_tok.len, SECBUFFER_TOKEN, (void *)in_tok.ptr};
    SecBufferDesc in = {SECBUFFER_VERSION, 1, &ib};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &ob};
    unsigned long attrs;
    SECURITY_STATUS st = InitializeSecurityContextA(
        &p->ccred, p->has_c ? &p->cctx : NULL, "HTTP/localhost",
        ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONNECTION | ISC_REQ_INTEGRITY, 0, 0,
        in_tok.len > 0 ? &in : NULL, 0, &p->cctx, &out, &attrs, NULL);

    if (st >= 0)
        p->has_c = true;
    out_tok->len = 0;
    if (ob.pvBuffer != NULL) {
        CHECK_EQ(buf_append(out_tok, ob.pvBuffer, ob.cbBuffer), GH_OK);
        FreeContextBuffer(ob.pvBuffer);
    }
    return st;
}

/* A SPNEGO initiator that sends the mechListMIC only when the acceptor asks
 * for it (gss-ntlmssp through MIT's SPNEGO), written out by hand around our
 * NTLM package: NegTokenInit {NTLM} + NEGOTIATE, then the AUTHENTICATE (which
 * carries an NTLM MIC, so the acceptor needs a mechListMIC) without one. The
 * acceptor must answer request-mic with its own MIC, not fail; the client's
 * MIC (MakeSignature over the mechTypes DER) then completes it. With
 * send_mic false the client never sends one and the acceptor fails. */
static void
request_mic_case(bool send_mic)
{
    struct pair p;
    struct buf ntlm, der, reply, mech_types;
    struct spnego_token t;
    struct slice oid = spnego_oid_ntlm;

    buf_init(&ntlm, 1 << 16);
    buf_init(&der, 1 << 16);
    buf_init(&reply, 1 << 16);
    buf_init(&mech_types, 256);
    pair_acquire(&p, "Negotiate");
    CHECK_EQ(FreeCredentialsHandle(&p.ccred), SEC_E_OK);
    SEC_WINNT_AUTH_IDENTITY_A id = {.User = (unsigned char *)"alice",
                                    .UserLength = 5,
                                    .Domain = (unsigned char *)"CORP",
                                    .DomainLength = 4,
                                    .Password = (unsigned char *)"Secret-1",
                                    .PasswordLength = 8,
                                    .Flags = SEC_WINNT_AUTH_IDENTITY_ANSI};
    CHECK_EQ(AcquireCredentialsHandleA(NULL, "NTLM", SECPKG_CRED_OUTBOUND, NULL, &id, NULL, NULL,
                                       &p.ccred, NULL),
             SEC_E_OK);
    CHECK_EQ(spnego_der_encode_mech_list(&oid, 1, &mech_types), SEC_E_OK);

    CHECK_EQ(ntlm_leg(&p, slice_make(NULL, 0), &ntlm), SEC_I_CONTINUE_NEEDED);
    struct slice nt = buf_slice(&ntlm);
    CHECK_EQ(spnego_der_encode_init(&oid, 1, &nt, NULL, NULL, &der), SEC_E_OK);
    CHECK_EQ(server_leg(&p, &der, &reply), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(spnego_der_decode(buf_slice(&reply), &t), SEC_E_OK);
    CHECK(t.kind == SPNEGO_KIND_RESP && t.resp.neg_state == SPNEGO_ACCEPT_INCOMPLETE &&
          t.resp.has_response_token);

    CHECK_EQ(ntlm_leg(&p, t.resp.response_token, &ntlm), SEC_E_OK);
    nt = buf_slice(&ntlm);
    der.len = 0;
    CHECK_EQ(spnego_der_encode_resp(SPNEGO_STATE_ABSENT, NULL, &nt, NULL, &der), SEC_E_OK);
    CHECK_EQ(server_leg(&p, &der, &reply), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(spnego_der_decode(buf_slice(&reply), &t), SEC_E_OK);
    CHECK(t.kind == SPNEGO_KIND_RESP && t.resp.neg_state == SPNEGO_REQUEST_MIC);
    CHECK(t.resp.has_mic && t.resp.mech_list_mic.len == 16 && !t.resp.has_response_token);

    /* The acceptor's MIC verifies with the client's NTLM context. */
    uint8_t sig[16];
    unsigned long qop;
    memcpy(sig, t.resp.mech_list_mic.ptr, 16);
    SecBuffer vb[2] = {{(unsigned long)mech_types.len, SECBUFFER_DATA, mech_types.data},
                       {16, SECBUFFER_TOKEN, sig}};
    SecBufferDesc vd = {SECBUFFER_VERSION, 2, vb};
    CHECK_EQ(VerifySignature(&p.cctx, &vd, 0, &qop), SEC_E_OK);

    der.len = 0;
    if (send_mic) {
        vb[1].cbBuffer = 16;
        CHECK_EQ(MakeSignature(&p.cctx, 0, &vd, 0), SEC_E_OK);
        struct slice mk = slice_make(sig, 16);
        CHECK_EQ(spnego_der_encode_resp(SPNEGO_STATE_ABSENT, NULL, NULL, &mk, &der), SEC_E_OK);
        CHECK_EQ(server_leg(&p, &der, &reply), SEC_E_OK);
        CHECK_EQ(spnego_der_decode(buf_slice(&reply), &t), SEC_E_OK);
        CHECK(t.kind == SPNEGO_KIND_RESP && t.resp.neg_state == SPNEGO_ACCEPT_COMPLETED &&
              !t.resp.has_mic);
        SecPkgContext_NamesA names = {0};
        CHECK_EQ(QueryContextAttributesA(&p.sctx, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
        CHECK_STR_EQ(names.sUserName, "CORP\\Alice");
        FreeContextBuffer(names.sUserName);
    } else {
        CHECK_EQ(spnego_der_encode_resp(SPNEGO_ACCEPT_INCOMPLETE, NULL, NULL, NULL, &der),
                 SEC_E_OK);
        CHECK_EQ(server_leg(&p, &der, &reply), SEC_E_INVALID_TOKEN);
        SecPkgContext_GhExtendedError ee = {0};
        CHECK_EQ(QueryContextAttributesA(&p.sctx, SECPKG_ATTR_GH_EXTENDED_ERROR, &ee), SEC_E_OK);
        CHECK(ee.Text != NULL && strstr(ee.Text, "mechListMIC") != NULL);
    }
    buf_free(&ntlm);
    buf_free(&der);
    buf_free(&reply);
    buf_free(&mech_types);
    pair_free(&p);
}

static void
test_request_mic(void)
{
    struct pair p;
    int legs = 0;

    /* Our own initiator sends its MIC with the AUTHENTICATE: no request-mic. */
    pair_acquire(&p, "Negotiate");
    CHECK_EQ(pair_run(&p, &legs), SEC_E_OK);
    CHECK_EQ(legs, 5);
    exchange(&p.cctx, &p.sctx, "negotiate/ntlm");
    pair_free(&p);
    request_mic_case(true);
    request_mic_case(false);
}

static void
test_negotiate_error_text(void)
{
    struct pair p;
    SecBuffer ib = {7, SECBUFFER_TOKEN, "\x01\x02garb"};
    SecBufferDesc in = {SECBUFFER_VERSION, 1, &ib};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &ob};
    unsigned long attrs;
    SecPkgContext_GhExtendedError ee = {0};

    pair_acquire(&p, "Negotiate");
    CHECK_EQ(AcceptSecurityContext(&p.scred, NULL, &in,
                                   ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR, 0, &p.sctx,
                                   &out, &attrs, NULL),
             SEC_E_INVALID_TOKEN);
    CHECK_EQ(QueryContextAttributesA(NULL, SECPKG_ATTR_GH_EXTENDED_ERROR, &ee), SEC_E_OK);
    CHECK(ee.Text != NULL && strstr(ee.Text, "neither a NegTokenInit") != NULL);
    pair_free(&p);
}

int
main(void)
{
    setup();
    test_export_import("NTLM");
    test_export_import("Negotiate");
    test_export_incomplete();
    test_request_mic();
    test_negotiate_error_text();
    teardown();
    return check_done("test_packed");
}
