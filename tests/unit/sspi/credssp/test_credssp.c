// SPDX-License-Identifier: MIT
// The CredSSP package through the public SSPI API, our initiator against our
// acceptor in one process: versions 6 (SPNEGO around NTLM) and 2 (raw NTLM),
// delegation and its absence, the delegated password used onward, a wrong
// password (errorCode), a TLS man in the middle (the binding check: no
// credential leaves), tokens split (SEC_E_INCOMPLETE_MESSAGE), the flags and
// codes of InitializeSecurityContext (CredSSP).
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "harness/check.h"
#include "harness/testcerts.h"
#include "sspi/credssp/tsrequest_der.h"
#include "sspi/ntlm/crypto.h"

static char store_path[] = "/tmp/gh-cssp-store-XXXXXX";
static struct testcerts tc;

#define ISC_FLAGS                                                                        \
    (ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_MUTUAL_AUTH | ISC_REQ_DELEGATE | ISC_REQ_STREAM | \
     ISC_REQ_CONNECTION | ISC_REQ_EXTENDED_ERROR | ISC_REQ_SEQUENCE_DETECT |             \
     ISC_REQ_MANUAL_CRED_VALIDATION)
#define ASC_FLAGS (ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR | ASC_REQ_STREAM)

static void
write_store(void)
{
    uint8_t nt[16];
    char line[256];
    int fd = mkstemp(store_path);

    CHECK(fd >= 0);
    CHECK_EQ(ntlm_crypto_nt_hash("Secret-1", 8, nt), SEC_E_OK);
    int n = snprintf(line, sizeof(line), "Alice::");
    for (int i = 0; i < 16; i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", nt[i]);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ":staff:\n");
    CHECK_EQ(write(fd, line, (size_t)n), n);
    close(fd);
}

static SECURITY_STATUS
acquire_server(const char *cert_file, unsigned long flags, CredHandle *out)
{
    PCCERT_CONTEXT cert = NULL;
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION};
    GH_ACCEPTOR_AUTH_DATA ad = {
        .Version = GH_ACCEPTOR_AUTH_DATA_V1, .UserStore = store_path, .NbDomainName = "EXAMPLE"};
    CREDSSP_CRED_EX cx = {.Type = CredsspCredEx,
                          .Version = CREDSSP_CRED_EX_VERSION,
                          .Flags = flags,
                          .Cred = {CredsspSubmitBufferBoth, &sc, &ad}};
    SECURITY_STATUS st;

    CHECK_EQ(GhCertCreateContextFromPemFiles(cert_file, NULL, 0, &cert), SEC_E_OK);
    sc.cCreds = 1;
    sc.paCred = &cert;
    st = AcquireCredentialsHandleA(NULL, CREDSSP_NAME_A, SECPKG_CRED_INBOUND, NULL, &cx, NULL, NULL,
                                   out, NULL);
    CertFreeCertificateContext(cert);
    return st;
}

static SECURITY_STATUS
acquire_client(const char *password, unsigned long flags, CredHandle *out)
{
    SEC_WINNT_AUTH_IDENTITY_A id = {
        .User = (unsigned char *)"Alice",
        .UserLength = 5,
        .Domain = (unsigned char *)"EXAMPLE",
        .DomainLength = 7,
        .Password = (unsigned char *)password,
        .PasswordLength = (unsigned long)strlen(password),
        .Flags = SEC_WINNT_AUTH_IDENTITY_ANSI,
    };
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION};
    CREDSSP_CRED_EX cx = {.Type = CredsspCredEx,
                          .Version = CREDSSP_CRED_EX_VERSION,
                          .Flags = flags,
                          .Cred = {CredsspSubmitBufferBoth, &sc, &id}};

    return AcquireCredentialsHandleA(NULL, CREDSSP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &cx, NULL,
                                     NULL, out, NULL);
}

struct peer {
    bool server;
    CredHandle cred;
    CtxtHandle ctx;
    bool has_ctx;
    unsigned long req;
    unsigned long attrs;
    SECURITY_STATUS st;
    bool split; /* feed every token in two calls: half, then all */
};

/* One call with (part of) in; the output token is appended to *out. */
static SECURITY_STATUS
call(struct peer *p, const uint8_t *data, size_t len, struct buf *out, SecBuffer *extra_out)
{
    SecBuffer ib[2] = {{(unsigned long)len, SECBUFFER_TOKEN, (void *)data},
                       {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc idesc = {SECBUFFER_VERSION, 2, ib};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc odesc = {SECBUFFER_VERSION, 1, &ob};
    SECURITY_STATUS st;

    if (p->server)
        st = AcceptSecurityContext(&p->cred, p->has_ctx ? &p->ctx : NULL, len > 0 ? &idesc : NULL,
                                   p->req, 0, &p->ctx, &odesc, &p->attrs, NULL);
    else
        st = InitializeSecurityContextA(&p->cred, p->has_ctx ? &p->ctx : NULL, "TERMSRV/localhost",
                                        p->req, 0, 0, len > 0 ? &idesc : NULL, 0, &p->ctx, &odesc,
                                        &p->attrs, NULL);
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
        p->has_ctx = true;
    if (ob.pvBuffer != NULL) {
        CHECK_EQ(buf_append(out, ob.pvBuffer, ob.cbBuffer), 0);
        FreeContextBuffer(ob.pvBuffer);
    }
    *extra_out = ib[1];
    return st;
}

/* Feeds the whole of in (in two parts when p->split: what a socket read
 * would give), following SECBUFFER_MISSING and SECBUFFER_EXTRA. */
static SECURITY_STATUS
step(struct peer *p, const struct buf *in, struct buf *out)
{
    const uint8_t *data = in->data;
    size_t left = in->len, offered = p->split && in->len > 1 ? in->len / 2 : in->len;
    SECURITY_STATUS st = SEC_E_OK;
    SecBuffer extra;

    out->len = 0;
    for (int guard = 0; guard < 64; guard++) {
        st = call(p, data, offered, out, &extra);
        if (st == SEC_E_INCOMPLETE_MESSAGE) {
            CHECK_EQ(extra.BufferType, SECBUFFER_MISSING);
            CHECK(extra.cbBuffer > 0);
            CHECK(offered < left); /* only when we held bytes back */
            if (offered >= left)
                break;
            offered = left;
            continue;
        }
        if (extra.BufferType == SECBUFFER_EXTRA && extra.cbBuffer > 0 && st >= 0) {
            CHECK(extra.cbBuffer <= offered);
            size_t used = offered - extra.cbBuffer;
            data += used;
            left -= used;
            offered = left;
            continue;
        }
        if (offered < left && st >= 0) {
            data += offered;
            left -= offered;
            offered = left;
            continue;
        }
        break;
    }
    p->st = st;
    return st;
}

/* Runs the loop; returns the first failure, or SEC_E_OK when both ended. */
static SECURITY_STATUS
run(struct peer *c, struct peer *s)
{
    struct buf a, b;
    SECURITY_STATUS st = SEC_E_OK;

    buf_init(&a, 1 << 20);
    buf_init(&b, 1 << 20);
    c->st = s->st = SEC_I_CONTINUE_NEEDED;
    for (int i = 0; i < 20; i++) {
        st = step(c, &b, &a);
        if (st < 0)
            break;
        if (a.len == 0 && st == SEC_E_OK && s->st == SEC_E_OK)
            break;
        CHECK(a.len > 0);
        st = step(s, &a, &b);
        if (st < 0) {
            /* the error token (errorCode) goes to the client */
            if (b.len > 0)
                (void)step(c, &b, &a);
            break;
        }
        if (st == SEC_E_OK) {
            CHECK_EQ(b.len, 0);
            CHECK_EQ(c->st, SEC_E_OK);
            break;
        }
    }
    buf_free(&a);
    buf_free(&b);
    return st;
}

static void
peers(struct peer *c, struct peer *s)
{
    *c = (struct peer){.server = false, .req = ISC_FLAGS};
    *s = (struct peer){.server = true, .req = ASC_FLAGS};
}

static void
finish(struct peer *c, struct peer *s)
{
    if (c->has_ctx)
        CHECK_EQ(DeleteSecurityContext(&c->ctx), SEC_E_OK);
    if (s->has_ctx)
        CHECK_EQ(DeleteSecurityContext(&s->ctx), SEC_E_OK);
    FreeCredentialsHandle(&c->cred);
    FreeCredentialsHandle(&s->cred);
}

static void
test_delegation(unsigned long version_flags, unsigned long client_flags, bool split)
{
    struct peer c, s;
    SecPkgContext_GhDelegatedCredentials d;
    void *token = NULL;

    peers(&c, &s);
    c.split = s.split = split;
    CHECK_EQ(acquire_client("Secret-1", version_flags | client_flags, &c.cred), SEC_E_OK);
    CHECK_EQ(acquire_server(tc.server, 0, &s.cred), SEC_E_OK);
    CHECK_EQ(run(&c, &s), SEC_E_OK);
    CHECK_EQ(c.st, SEC_E_OK);
    CHECK_EQ(s.st, SEC_E_OK);
    CHECK(c.attrs & ISC_RET_DELEGATE);
    CHECK(s.attrs & ASC_RET_DELEGATE);
    memset(&d, 0, sizeof(d));
    CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_GH_DELEGATED_CREDENTIALS, &d), SEC_E_OK);
    if (d.Identity.User == NULL) {
        finish(&c, &s);
        return;
    }
    CHECK_EQ(d.CredType, 1);
    CHECK_EQ(d.Version, version_flags != 0 ? version_flags >> 28 : 6);
    CHECK_STR_EQ((const char *)d.Identity.User, "Alice");
    CHECK_STR_EQ((const char *)d.Identity.Domain, "EXAMPLE");
    CHECK_STR_EQ((const char *)d.Identity.Password, "Secret-1");
    CHECK_EQ(d.Identity.PasswordLength, 8);
    /* the identity of the inner authentication */
    CHECK_EQ(QuerySecurityContextToken(&s.ctx, &token), SEC_E_OK);
    if (token != NULL) {
        CHECK_STR_EQ(gh_token_user(token), "Alice");
        gh_token_close(token);
    }
    /* the delegated password authenticates onward (NTLM to a backend: ours) */
    {
        CredHandle onward;
        CtxtHandle oc;
        SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        unsigned long attrs;
        CHECK_EQ(AcquireCredentialsHandleA(NULL, NTLMSP_NAME_A, SECPKG_CRED_OUTBOUND, NULL,
                                           &d.Identity, NULL, NULL, &onward, NULL),
                 SEC_E_OK);
        CHECK_EQ(InitializeSecurityContextA(&onward, NULL, "HTTP/backend", ISC_REQ_ALLOCATE_MEMORY,
                                            0, 0, NULL, 0, &oc, &od, &attrs, NULL),
                 SEC_I_CONTINUE_NEEDED);
        FreeContextBuffer(ob.pvBuffer);
        DeleteSecurityContext(&oc);
        FreeCredentialsHandle(&onward);
    }
    /* the TLS channel carries data afterwards */
    SecPkgContext_StreamSizes sz;
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_STREAM_SIZES, &sz), SEC_E_OK);
    finish(&c, &s);
}

static void
test_no_delegate(void)
{
    struct peer c, s;
    SecPkgContext_GhDelegatedCredentials d;

    peers(&c, &s);
    c.req &= ~(unsigned long)ISC_REQ_DELEGATE;
    CHECK_EQ(acquire_client("Secret-1", 0, &c.cred), SEC_E_OK);
    CHECK_EQ(acquire_server(tc.server, 0, &s.cred), SEC_E_OK);
    CHECK_EQ(run(&c, &s), SEC_E_OK);
    CHECK(!(c.attrs & ISC_RET_DELEGATE));
    CHECK(!(s.attrs & ASC_RET_DELEGATE));
    CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_GH_DELEGATED_CREDENTIALS, &d), SEC_E_OK);
    CHECK_EQ(d.Identity.UserLength, 0);
    CHECK_EQ(d.Identity.PasswordLength, 0);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_GH_DELEGATED_CREDENTIALS, &d),
             SEC_E_UNSUPPORTED_FUNCTION);
    /* calling again after completion asks for a re-authentication: a new
     * ClientHello on the same context */
    {
        SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
        SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
        unsigned long attrs = 0;
        CHECK_EQ(InitializeSecurityContextA(&c.cred, &c.ctx, "TERMSRV/localhost", ISC_FLAGS, 0, 0,
                                            NULL, 0, &c.ctx, &od, &attrs, NULL),
                 SEC_I_CONTINUE_NEEDED);
        CHECK(attrs & ISC_RET_REAUTHENTICATION);
        CHECK(ob.cbBuffer > 5 && ((uint8_t *)ob.pvBuffer)[0] == 0x16);
        FreeContextBuffer(ob.pvBuffer);
    }
    finish(&c, &s);
}

static void
test_wrong_password(unsigned long version_flags, SECURITY_STATUS client_expect)
{
    struct peer c, s;

    peers(&c, &s);
    CHECK_EQ(acquire_client("wrong", version_flags, &c.cred), SEC_E_OK);
    CHECK_EQ(acquire_server(tc.server, 0, &s.cred), SEC_E_OK);
    CHECK_EQ(run(&c, &s), SEC_E_LOGON_DENIED);
    CHECK_EQ(s.st, SEC_E_LOGON_DENIED);
    CHECK_EQ(c.st, client_expect); /* v6: errorCode tells the client */
    finish(&c, &s);
}

static void
test_policy(void)
{
    struct peer c, s;

    /* only NTLM reached, and the client's policy forbids delegating then */
    peers(&c, &s);
    CHECK_EQ(acquire_client("Secret-1", GH_CREDSSP_FLAG_NO_NTLM_DELEGATION, &c.cred), SEC_E_OK);
    CHECK_EQ(acquire_server(tc.server, 0, &s.cred), SEC_E_OK);
    CHECK_EQ(run(&c, &s), SEC_E_POLICY_NLTM_ONLY);
    finish(&c, &s);

    /* delegation disabled on the client */
    peers(&c, &s);
    CHECK_EQ(acquire_client("Secret-1", GH_CREDSSP_FLAG_NO_DELEGATION, &c.cred), SEC_E_OK);
    CHECK_EQ(acquire_server(tc.server, 0, &s.cred), SEC_E_OK);
    CHECK_EQ(run(&c, &s), SEC_E_DELEGATION_POLICY);
    finish(&c, &s);

    /* the server refuses delegated credentials */
    peers(&c, &s);
    CHECK_EQ(acquire_client("Secret-1", 0, &c.cred), SEC_E_OK);
    CHECK_EQ(acquire_server(tc.server, GH_CREDSSP_FLAG_NO_DELEGATION, &s.cred), SEC_E_OK);
    CHECK_EQ(run(&c, &s), SEC_E_DELEGATION_POLICY);
    finish(&c, &s);
}

static void
test_codes(void)
{
    CredHandle cred;
    CtxtHandle ctx;
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    unsigned long attrs;

    CHECK_EQ(acquire_client("Secret-1", 0, &cred), SEC_E_OK);
    /* no target */
    CHECK_EQ(InitializeSecurityContextA(&cred, NULL, NULL, ISC_FLAGS, 0, 0, NULL, 0, &ctx, &od,
                                        &attrs, NULL),
             SEC_E_TARGET_UNKNOWN);
    /* a flag CredSSP does not support */
    CHECK_EQ(InitializeSecurityContextA(&cred, NULL, "TERMSRV/localhost",
                                        ISC_FLAGS | ISC_REQ_DATAGRAM, 0, 0, NULL, 0, &ctx, &od,
                                        &attrs, NULL),
             SEC_E_UNSUPPORTED_FUNCTION);
    /* a handle that is not one */
    CtxtHandle bogus = {12345, 678};
    CHECK_EQ(InitializeSecurityContextA(&cred, &bogus, "TERMSRV/localhost", ISC_FLAGS, 0, 0, NULL,
                                        0, &ctx, &od, &attrs, NULL),
             SEC_E_INVALID_HANDLE);
    /* the first call gives a ClientHello */
    CHECK_EQ(InitializeSecurityContextA(&cred, NULL, "TERMSRV/localhost", ISC_FLAGS, 0, 0, NULL, 0,
                                        &ctx, &od, &attrs, NULL),
             SEC_I_CONTINUE_NEEDED);
    CHECK(ob.cbBuffer > 5 && ((uint8_t *)ob.pvBuffer)[0] == 0x16);
    FreeContextBuffer(ob.pvBuffer);
    /* garbage from the "server" */
    uint8_t junk[64];
    memset(junk, 0x16, sizeof(junk));
    SecBuffer ib[2] = {{sizeof(junk), SECBUFFER_TOKEN, junk}, {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc id = {SECBUFFER_VERSION, 2, ib};
    ob = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
    SECURITY_STATUS st = InitializeSecurityContextA(&cred, &ctx, "TERMSRV/localhost", ISC_FLAGS, 0,
                                                    0, &id, 0, &ctx, &od, &attrs, NULL);
    CHECK(st < 0);
    if (ob.pvBuffer != NULL)
        FreeContextBuffer(ob.pvBuffer);
    DeleteSecurityContext(&ctx);
    FreeCredentialsHandle(&cred);

    /* an acceptor without a certificate */
    CREDSSP_CRED cc = {CredsspSubmitBufferBoth, NULL, NULL};
    CHECK_EQ(AcquireCredentialsHandleA(NULL, CREDSSP_NAME_A, SECPKG_CRED_INBOUND, NULL, &cc, NULL,
                                       NULL, &cred, NULL),
             SEC_E_NO_CREDENTIALS);
    /* Remote Guard is refused */
    CREDSSP_CRED_EX rg = {CredsspCredEx, CREDSSP_CRED_EX_VERSION, CREDSSP_FLAG_REDIRECT, 0, cc};
    CHECK_EQ(AcquireCredentialsHandleA(NULL, CREDSSP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &rg, NULL,
                                       NULL, &cred, NULL),
             SEC_E_UNSUPPORTED_FUNCTION);
}

/* ISC_REQ_USE_SUPPLIED_CREDS: the delegated identity is the SECBUFFER_PKG_PARAMS one. */
static void
test_supplied(void)
{
    struct peer c, s;

    peers(&c, &s);
    c.req |= ISC_REQ_USE_SUPPLIED_CREDS;
    CHECK_EQ(acquire_client("Secret-1", 0, &c.cred), SEC_E_OK);
    CHECK_EQ(acquire_server(tc.server, 0, &s.cred), SEC_E_OK);
    /* without the PKG_PARAMS buffer: no credentials to delegate */
    CHECK_EQ(run(&c, &s), SEC_E_NO_CREDENTIALS);
    finish(&c, &s);
}

/* A TLS man in the middle: terminates the client's TLS with another
 * certificate and relays the TSRequests to the real server over its own TLS.
 * The bindings cannot match: the exchange fails and no TSRequest with
 * authInfo ever crosses the relay. */
struct mitm {
    CredHandle scred, ccred;
    CtxtHandle sctx, cctx; /* toward the client (acceptor), toward the server */
    bool has_s, has_c;
};

static SECURITY_STATUS
tls_pump(CredHandle *cred, CtxtHandle *ctx, bool *has, bool acceptor, struct buf *in,
         struct buf *out)
{
    SecBuffer ib[2] = {{(unsigned long)in->len, SECBUFFER_TOKEN, in->data},
                       {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc id = {SECBUFFER_VERSION, 2, ib};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    unsigned long attrs;
    SECURITY_STATUS st;

    if (acceptor)
        st = AcceptSecurityContext(cred, *has ? ctx : NULL, &id,
                                   ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM, 0, ctx, &od, &attrs,
                                   NULL);
    else
        st = InitializeSecurityContextA(cred, *has ? ctx : NULL, "localhost",
                                        ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM |
                                            ISC_REQ_MANUAL_CRED_VALIDATION,
                                        0, 0, in->len > 0 ? &id : NULL, 0, ctx, &od, &attrs, NULL);
    if (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED)
        *has = true;
    out->len = 0;
    if (ob.pvBuffer != NULL) {
        (void)buf_append(out, ob.pvBuffer, ob.cbBuffer);
        FreeContextBuffer(ob.pvBuffer);
    }
    if (ib[1].BufferType == SECBUFFER_EXTRA) { /* keep what follows the handshake */
        memmove(in->data, in->data + in->len - ib[1].cbBuffer, ib[1].cbBuffer);
        in->len = ib[1].cbBuffer;
    } else {
        in->len = 0;
    }
    return st;
}

/* Decrypts the records of in (whole) into plain. A TLS 1.3 ticket
 * (SEC_I_RENEGOTIATE) goes back through the handshake call, as on Windows. */
static void
tls_open(CredHandle *cred, CtxtHandle *ctx, bool acceptor, struct buf *in, struct buf *plain)
{
    size_t off = 0;

    while (off + 5 <= in->len) {
        size_t n = 5 + ((size_t)in->data[off + 3] << 8 | in->data[off + 4]);
        SecBuffer b[4] = {{(unsigned long)n, SECBUFFER_DATA, in->data + off},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
        unsigned long qop;
        SECURITY_STATUS st = DecryptMessage(ctx, &d, 0, &qop);

        if (st == SEC_I_RENEGOTIATE) {
            struct buf none, out;
            bool has = true;
            buf_init(&none, 16);
            buf_init(&out, 1 << 16);
            (void)tls_pump(cred, ctx, &has, acceptor, &none, &out);
            CHECK_EQ(out.len, 0);
            buf_free(&none);
            buf_free(&out);
        }
        if (st == SEC_E_OK) {
            for (int i = 0; i < 4; i++)
                if (b[i].BufferType == SECBUFFER_DATA)
                    (void)buf_append(plain, b[i].pvBuffer, b[i].cbBuffer);
        }
        off += n;
    }
    in->len = 0;
}

static void
tls_seal(CtxtHandle *ctx, struct buf *plain, struct buf *out)
{
    SecPkgContext_StreamSizes sz;
    uint8_t rec[20000];

    out->len = 0;
    if (plain->len == 0)
        return;
    CHECK_EQ(QueryContextAttributesA(ctx, SECPKG_ATTR_STREAM_SIZES, &sz), SEC_E_OK);
    CHECK(plain->len <= sz.cbMaximumMessage);
    memcpy(rec + sz.cbHeader, plain->data, plain->len);
    SecBuffer b[4] = {{sz.cbHeader, SECBUFFER_STREAM_HEADER, rec},
                      {(unsigned long)plain->len, SECBUFFER_DATA, rec + sz.cbHeader},
                      {sz.cbTrailer, SECBUFFER_STREAM_TRAILER, rec + sz.cbHeader + plain->len},
                      {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
    CHECK_EQ(EncryptMessage(ctx, 0, &d, 0), SEC_E_OK);
    (void)buf_append(out, rec, b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer);
    plain->len = 0;
}

static void
test_mitm(void)
{
    struct peer c, s;
    struct mitm m = {0};
    struct buf c2m, m2c, m2s, s2m, plain;
    PCCERT_CONTEXT cert = NULL;
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION};
    bool saw_auth_info = false;
    SECURITY_STATUS st = SEC_I_CONTINUE_NEEDED;

    peers(&c, &s);
    CHECK_EQ(acquire_client("Secret-1", 0, &c.cred), SEC_E_OK);
    CHECK_EQ(acquire_server(tc.server, 0, &s.cred), SEC_E_OK);
    CHECK_EQ(GhCertCreateContextFromPemFiles(tc.other_server, NULL, 0, &cert), SEC_E_OK);
    sc.cCreds = 1;
    sc.paCred = &cert;
    CHECK_EQ(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_INBOUND, NULL, &sc, NULL,
                                       NULL, &m.scred, NULL),
             SEC_E_OK);
    CertFreeCertificateContext(cert);
    SCHANNEL_CRED cc = {.dwVersion = SCHANNEL_CRED_VERSION};
    CHECK_EQ(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &cc, NULL,
                                       NULL, &m.ccred, NULL),
             SEC_E_OK);
    buf_init(&c2m, 1 << 20);
    buf_init(&m2c, 1 << 20);
    buf_init(&m2s, 1 << 20);
    buf_init(&s2m, 1 << 20);
    buf_init(&plain, 1 << 20);
    /* the relay's TLS toward the server first */
    SECURITY_STATUS ms = SEC_I_CONTINUE_NEEDED;
    for (int i = 0; i < 10; i++) {
        ms = tls_pump(&m.ccred, &m.cctx, &m.has_c, false, &s2m, &m2s);
        if (m2s.len > 0)
            (void)step(&s, &m2s, &s2m);
        if (ms != SEC_I_CONTINUE_NEEDED)
            break;
    }
    CHECK_EQ(ms, SEC_E_OK);
    /* the client's TLS ends at the relay */
    struct buf empty;
    buf_init(&empty, 16);
    SECURITY_STATUS cs = step(&c, &empty, &c2m);
    SECURITY_STATUS as = SEC_I_CONTINUE_NEEDED;
    for (int i = 0; i < 10 && as != SEC_E_OK; i++) {
        as = tls_pump(&m.scred, &m.sctx, &m.has_s, true, &c2m, &m2c);
        if (as != SEC_I_CONTINUE_NEEDED)
            break; /* the client's first TSRequest may follow its Finished in c2m */
        if (m2c.len > 0)
            cs = step(&c, &m2c, &c2m);
    }
    CHECK_EQ(as, SEC_E_OK);
    /* TLS 1.3 tickets each side sent with its last handshake flight */
    plain.len = 0;
    tls_open(&m.ccred, &m.cctx, false, &s2m, &plain);
    CHECK_EQ(plain.len, 0);
    if (m2c.len > 0) {
        struct buf none;
        buf_init(&none, 1 << 16);
        cs = step(&c, &m2c, &none);
        CHECK_EQ(none.len, 0);
        buf_free(&none);
    }
    /* relay TSRequests both ways until someone fails */
    for (int i = 0; i < 10 && cs >= 0 && st >= 0; i++) {
        plain.len = 0;
        tls_open(&m.scred, &m.sctx, true, &c2m, &plain);
        struct cssp_request r;
        if (cssp_decode_request(buf_slice(&plain), &r) == SEC_E_OK && r.has_auth_info)
            saw_auth_info = true;
        if (plain.len == 0)
            break;
        tls_seal(&m.cctx, &plain, &m2s);
        st = step(&s, &m2s, &s2m);
        plain.len = 0;
        tls_open(&m.ccred, &m.cctx, false, &s2m, &plain);
        if (plain.len == 0)
            break;
        tls_seal(&m.sctx, &plain, &m2c);
        cs = step(&c, &m2c, &c2m);
    }
    CHECK(!saw_auth_info);
    CHECK_EQ(s.st, SEC_E_MUTUAL_AUTH_FAILED);
    CHECK_EQ(c.st, SEC_E_MUTUAL_AUTH_FAILED); /* told by errorCode (version 6) */
    buf_free(&c2m);
    buf_free(&m2c);
    buf_free(&m2s);
    buf_free(&s2m);
    buf_free(&plain);
    buf_free(&empty);
    if (m.has_s)
        DeleteSecurityContext(&m.sctx);
    if (m.has_c)
        DeleteSecurityContext(&m.cctx);
    FreeCredentialsHandle(&m.scred);
    FreeCredentialsHandle(&m.ccred);
    finish(&c, &s);
}

/* A server that answers with a binding over another key (what a man in the
 * middle holding the inner session would send): real TLS, real NTLM, only the
 * server's pubKeyAuth is wrong. The client must refuse with
 * SEC_E_MUTUAL_AUTH_FAILED and send no credentials. */
static void
test_client_checks_binding(void)
{
    struct peer c = {.server = false, .req = ISC_FLAGS};
    struct mitm m = {0}; /* its acceptor half is the fake server's TLS */
    CredHandle ntlm_cred;
    CtxtHandle nctx;
    bool nhas = false;
    struct buf c2s, s2c, plain, tok;
    struct cssp_request r;
    PCCERT_CONTEXT cert = NULL;
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION};
    GH_ACCEPTOR_AUTH_DATA ad = {
        .Version = GH_ACCEPTOR_AUTH_DATA_V1, .UserStore = store_path, .NbDomainName = "EXAMPLE"};
    unsigned long attrs;

    CHECK_EQ(acquire_client("Secret-1", GH_CREDSSP_FLAG_RAW_NTLM, &c.cred), SEC_E_OK);
    CHECK_EQ(GhCertCreateContextFromPemFiles(tc.server, NULL, 0, &cert), SEC_E_OK);
    sc.cCreds = 1;
    sc.paCred = &cert;
    CHECK_EQ(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_INBOUND, NULL, &sc, NULL,
                                       NULL, &m.scred, NULL),
             SEC_E_OK);
    CertFreeCertificateContext(cert);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, NTLMSP_NAME_A, SECPKG_CRED_INBOUND, NULL, &ad, NULL,
                                       NULL, &ntlm_cred, NULL),
             SEC_E_OK);
    buf_init(&c2s, 1 << 20);
    buf_init(&s2c, 1 << 20);
    buf_init(&plain, 1 << 20);
    buf_init(&tok, 1 << 16);
    SECURITY_STATUS cs = step(&c, &s2c, &c2s), as = SEC_I_CONTINUE_NEEDED;
    for (int i = 0; i < 10 && as == SEC_I_CONTINUE_NEEDED; i++) {
        as = tls_pump(&m.scred, &m.sctx, &m.has_s, true, &c2s, &s2c);
        if (as == SEC_I_CONTINUE_NEEDED && s2c.len > 0)
            cs = step(&c, &s2c, &c2s);
    }
    CHECK_EQ(as, SEC_E_OK);
    if (s2c.len > 0) { /* TLS 1.3 tickets */
        struct buf none;
        buf_init(&none, 1 << 16);
        cs = step(&c, &s2c, &none);
        buf_free(&none);
    }
    /* NEGOTIATE -> CHALLENGE */
    tls_open(&m.scred, &m.sctx, true, &c2s, &plain);
    CHECK_EQ(cssp_decode_request(buf_slice(&plain), &r), SEC_E_OK);
    SecBuffer ib = {(unsigned long)r.nego_token.len, SECBUFFER_TOKEN, (void *)r.nego_token.ptr};
    SecBufferDesc id = {SECBUFFER_VERSION, 1, &ib};
    SecBuffer ob = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc od = {SECBUFFER_VERSION, 1, &ob};
    CHECK_EQ(AcceptSecurityContext(&ntlm_cred, NULL, &id,
                                   ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_CONFIDENTIALITY, 0, &nctx, &od,
                                   &attrs, NULL),
             SEC_I_CONTINUE_NEEDED);
    nhas = true;
    struct cssp_request q = {
        .version = 6, .has_nego_token = true, .nego_token = slice_make(ob.pvBuffer, ob.cbBuffer)};
    plain.len = 0;
    CHECK_EQ(cssp_encode_request(&q, &plain), SEC_E_OK);
    FreeContextBuffer(ob.pvBuffer);
    tls_seal(&m.sctx, &plain, &s2c);
    cs = step(&c, &s2c, &c2s);
    CHECK_EQ(cs, SEC_I_CONTINUE_NEEDED);
    /* AUTHENTICATE + the client's binding -> a binding over another key */
    plain.len = 0;
    tls_open(&m.scred, &m.sctx, true, &c2s, &plain);
    CHECK_EQ(cssp_decode_request(buf_slice(&plain), &r), SEC_E_OK);
    CHECK(r.has_pub_key_auth && r.has_client_nonce);
    ib = (SecBuffer){(unsigned long)r.nego_token.len, SECBUFFER_TOKEN, (void *)r.nego_token.ptr};
    ob = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
    CHECK_EQ(AcceptSecurityContext(&ntlm_cred, &nctx, &id,
                                   ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_CONFIDENTIALITY, 0, &nctx, &od,
                                   &attrs, NULL),
             SEC_E_OK);
    if (ob.pvBuffer != NULL)
        FreeContextBuffer(ob.pvBuffer);
    uint8_t msg[16 + 32];
    uint8_t hin[38 + 32 + 21];
    memcpy(hin, "CredSSP Server-To-Client Binding Hash", 38);
    memcpy(hin + 38, r.client_nonce.ptr, 32);
    memcpy(hin + 70, "another server's key", 21);
    unsigned int mdlen = 0;
    CHECK_EQ(EVP_Digest(hin, sizeof(hin), msg + 16, &mdlen, EVP_sha256(), NULL), 1);
    SecBuffer eb[2] = {{16, SECBUFFER_TOKEN, msg}, {32, SECBUFFER_DATA, msg + 16}};
    SecBufferDesc ed = {SECBUFFER_VERSION, 2, eb};
    CHECK_EQ(EncryptMessage(&nctx, 0, &ed, 0), SEC_E_OK);
    q = (struct cssp_request){
        .version = 6, .has_pub_key_auth = true, .pub_key_auth = slice_make(msg, sizeof(msg))};
    plain.len = 0;
    CHECK_EQ(cssp_encode_request(&q, &plain), SEC_E_OK);
    tls_seal(&m.sctx, &plain, &s2c);
    cs = step(&c, &s2c, &c2s);
    CHECK_EQ(cs, SEC_E_MUTUAL_AUTH_FAILED);
    /* nothing, and certainly no authInfo, left the client */
    plain.len = 0;
    tls_open(&m.scred, &m.sctx, true, &c2s, &plain);
    CHECK_EQ(plain.len, 0);
    buf_free(&c2s);
    buf_free(&s2c);
    buf_free(&plain);
    buf_free(&tok);
    if (nhas)
        DeleteSecurityContext(&nctx);
    if (m.has_s)
        DeleteSecurityContext(&m.sctx);
    if (c.has_ctx)
        DeleteSecurityContext(&c.ctx);
    FreeCredentialsHandle(&ntlm_cred);
    FreeCredentialsHandle(&m.scred);
    FreeCredentialsHandle(&c.cred);
}

int
main(void)
{
    if (testcerts_make(&tc) != 0) {
        fprintf(stderr, "cannot make test certificates\n");
        return 1;
    }
    write_store();
    test_delegation(0, 0, false);                                /* v6, SPNEGO */
    test_delegation(0, GH_CREDSSP_FLAG_RAW_NTLM, true);          /* v6, raw NTLM, split */
    test_delegation(2UL << 28, GH_CREDSSP_FLAG_RAW_NTLM, false); /* v2, raw NTLM */
    test_delegation(4UL << 28, 0, false);                        /* v4 */
    test_no_delegate();
    test_wrong_password(0, SEC_E_LOGON_DENIED);
    test_wrong_password(2UL << 28, SEC_I_CONTINUE_NEEDED); /* v2: no errorCode; the client waits */
    test_policy();
    test_codes();
    test_supplied();
    test_mitm();
    test_client_checks_binding();
    unlink(store_path);
    testcerts_remove(&tc);
    return check_done("test_credssp");
}
