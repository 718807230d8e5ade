// SPDX-License-Identifier: MIT
// The Schannel package through the public SSPI API: our initiator against our
// acceptor in process, TLS 1.2 and 1.3. Handshake tokens delivered whole and
// split at every byte boundary (SECBUFFER_MISSING counts, SECBUFFER_EXTRA),
// several records in one buffer, client certificates requested and not given
// (SEC_I_INCOMPLETE_CREDENTIALS), trust and name failures vs manual
// validation, shutdown, resumption by target name, every query attribute.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <gatehouse/sspi.h>

#include "harness/check.h"
#include "harness/testcerts.h"

#define QCAP (256 * 1024)

static struct testcerts tc;
/* A SECBUFFER_APPLICATION_PROTOCOLS input for the first call of the client
 * ([0]) or the server ([1]); NULL: none. */
static SecBuffer *first_call_alpn[2];
static unsigned long incomplete_seen, extra_seen; /* the split paths really ran */
static unsigned long last_alert_len, last_alert_desc;

struct side {
    bool is_server;
    CredHandle cred;
    CtxtHandle ctx;
    bool has_ctx;
    bool done;
    uint8_t *q; /* bytes from the peer not yet consumed */
    size_t qlen;
    SECURITY_STATUS last;
};

static void
q_push(struct side *s, const void *p, size_t n)
{
    CHECK(s->qlen + n <= QCAP);
    if (s->qlen + n > QCAP)
        return;
    memcpy(s->q + s->qlen, p, n);
    s->qlen += n;
}

static void
q_pop(struct side *s, size_t n)
{
    memmove(s->q, s->q + n, s->qlen - n);
    s->qlen -= n;
}

/* The MISSING count the package must give for the first len bytes of q:
 * computed here independently from the record headers. */
static unsigned long
expected_missing(const uint8_t *q, size_t len)
{
    size_t pos = 0;

    for (;;) {
        if (len - pos < 5)
            return (unsigned long)(5 - (len - pos));
        size_t rec = 5 + (((size_t)q[pos + 3] << 8) | q[pos + 4]);
        if (len - pos < rec)
            return (unsigned long)(pos + rec - len);
        pos += rec;
    }
}

static PCCERT_CONTEXT
load_cert(const char *file)
{
    PCCERT_CONTEXT pc = NULL;

    CHECK_EQ(GhCertCreateContextFromPemFiles(file, NULL, 0, &pc), SEC_E_OK);
    return pc;
}

struct cred_opts {
    const char *cert;  /* PEM file with key, or NULL */
    const char *roots; /* PEM file, or NULL */
    unsigned long protocols;
    unsigned long flags;
};

static SECURITY_STATUS
acquire(bool is_server, const struct cred_opts *o, CredHandle *out)
{
    PCCERT_CONTEXT cert = o->cert != NULL ? load_cert(o->cert) : NULL;
    HCERTSTORE roots = NULL;
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION,
                        .grbitEnabledProtocols = o->protocols,
                        .dwFlags = o->flags};
    SECURITY_STATUS st;

    if (o->roots != NULL)
        CHECK_EQ(GhCertOpenStoreFromPemFile(o->roots, &roots), SEC_E_OK);
    if (cert != NULL) {
        sc.cCreds = 1;
        sc.paCred = &cert;
    }
    sc.hRootStore = roots;
    st = AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A,
                                   is_server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND, NULL,
                                   &sc, NULL, NULL, out, NULL);
    CertFreeCertificateContext(cert); /* the credential keeps its own */
    CertCloseStore(roots, 0);
    return st;
}

static void
side_init(struct side *s, bool is_server)
{
    memset(s, 0, sizeof(*s));
    s->is_server = is_server;
    s->q = malloc(QCAP);
    CHECK(s->q != NULL);
}

static void
side_free(struct side *s)
{
    if (s->has_ctx)
        CHECK_EQ(DeleteSecurityContext(&s->ctx), SEC_E_OK);
    FreeCredentialsHandle(&s->cred);
    free(s->q);
}

/* One Initialize/Accept call over the first feed bytes of s->q; output goes
 * to peer. */
static SECURITY_STATUS
side_step(struct side *s, struct side *peer, const char *target, unsigned long req, size_t feed)
{
    SecBuffer in[2] = {{(unsigned long)feed, SECBUFFER_TOKEN, s->q}, {0, SECBUFFER_EMPTY, NULL}};
    unsigned char alert[64];
    SecBuffer out[2] = {{0, SECBUFFER_TOKEN, NULL}, {sizeof(alert), SECBUFFER_ALERT, alert}};
    SecBufferDesc ind = {SECBUFFER_VERSION, 2, in}, outd = {SECBUFFER_VERSION, 2, out};
    SecBuffer with_alpn[3] = {in[0], in[1], {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc alpnd = {SECBUFFER_VERSION, 3, with_alpn};
    SecBuffer *alpn = s->has_ctx ? NULL : first_call_alpn[s->is_server];
    unsigned long attrs = 0;
    SECURITY_STATUS st;

    if (alpn != NULL) {
        /* The client's first call has no token: the ALPN buffer alone. */
        with_alpn[2] = *alpn;
        if (!s->is_server) {
            alpnd.cBuffers = 1;
            alpnd.pBuffers = alpn;
        }
    }
    if (s->is_server)
        st = AcceptSecurityContext(&s->cred, s->has_ctx ? &s->ctx : NULL,
                                   alpn != NULL ? &alpnd : &ind, req | ASC_REQ_ALLOCATE_MEMORY, 0,
                                   &s->ctx, &outd, &attrs, NULL);
    else
        st = InitializeSecurityContextA(&s->cred, s->has_ctx ? &s->ctx : NULL, (char *)target,
                                        req | ISC_REQ_ALLOCATE_MEMORY, 0, 0,
                                        alpn != NULL ? &alpnd
                                        : feed > 0   ? &ind
                                                     : NULL,
                                        0, &s->ctx, &outd, &attrs, NULL);
    if (alpn != NULL && s->is_server) { /* the split-out buffers, read back */
        in[0] = with_alpn[0];
        in[1] = with_alpn[1];
    }
    s->last = st;
    if (st == SEC_E_INCOMPLETE_MESSAGE) {
        CHECK_EQ(in[1].BufferType, SECBUFFER_MISSING);
        CHECK_EQ(in[1].cbBuffer, expected_missing(s->q, feed));
        incomplete_seen++;
        return st;
    }
    if (st < 0 && st != SEC_E_INCOMPLETE_MESSAGE) {
        /* The alert the failing side would send (a 7-byte alert record). */
        last_alert_len = out[1].cbBuffer;
        if (out[1].cbBuffer == 7)
            last_alert_desc = alert[6];
        return st;
    }
    s->has_ctx = true;
    if (st == SEC_I_INCOMPLETE_CREDENTIALS)
        return st; /* nothing consumed: the same input goes again */
    size_t extra = in[1].BufferType == SECBUFFER_EXTRA ? in[1].cbBuffer : 0;
    CHECK(extra <= feed);
    if (extra > 0)
        extra_seen++;
    q_pop(s, feed - extra);
    if (out[0].cbBuffer > 0)
        q_push(peer, out[0].pvBuffer, out[0].cbBuffer);
    FreeContextBuffer(out[0].pvBuffer);
    if (st == SEC_E_OK)
        s->done = true;
    return st;
}

struct hs_opts {
    const char *target;
    unsigned long isc_req, asc_req;
    size_t chunk;                /* 0: whole tokens; n: deliver n more bytes per try */
    CredHandle *new_client_cred; /* given after SEC_I_INCOMPLETE_CREDENTIALS */
    int incomplete_creds_seen;
};

/* Runs the handshake to the end on both sides; returns the first failure
 * or SEC_E_OK. */
static SECURITY_STATUS
handshake(struct side *c, struct side *s, struct hs_opts *o)
{
    SECURITY_STATUS st = SEC_E_OK;

    if (!c->has_ctx) {
        st = side_step(c, s, o->target, o->isc_req, 0);
        if (st < 0)
            return st;
    }
    for (int rounds = 0; rounds < 100000 && !(c->done && s->done && c->qlen == 0);) {
        bool progressed = false;
        struct side *me[2] = {s, c}, *other[2] = {c, s};

        for (int k = 0; k < 2; k++) {
            struct side *x = me[k], *y = other[k];
            size_t feed = o->chunk ? (o->chunk < x->qlen ? o->chunk : x->qlen) : x->qlen;

            if (x->qlen == 0 || x->done)
                continue;
            for (;;) {
                rounds++;
                st = side_step(x, y, o->target, x->is_server ? o->asc_req : o->isc_req, feed);
                if (st == SEC_I_INCOMPLETE_CREDENTIALS) {
                    o->incomplete_creds_seen++;
                    if (o->new_client_cred != NULL) {
                        FreeCredentialsHandle(&x->cred);
                        x->cred = *o->new_client_cred;
                        o->new_client_cred = NULL;
                    }
                    continue;
                }
                if (st != SEC_E_INCOMPLETE_MESSAGE || feed == x->qlen)
                    break;
                feed = o->chunk ? feed + o->chunk : x->qlen;
                if (feed > x->qlen)
                    feed = x->qlen;
            }
            if (st < 0 && st != SEC_E_INCOMPLETE_MESSAGE)
                return st;
            progressed = true;
        }
        if (!progressed)
            break;
    }
    CHECK(c->done);
    CHECK(s->done);
    return c->done && s->done ? SEC_E_OK : SEC_E_INTERNAL_ERROR;
}

/* ---- messages ------------------------------------------------------------ */
static size_t
encrypt_to(struct side *from, struct side *to, const char *text)
{
    SecPkgContext_StreamSizes sz;
    uint8_t rec[16384 + 64];
    size_t n = strlen(text);

    CHECK_EQ(QueryContextAttributesA(&from->ctx, SECPKG_ATTR_STREAM_SIZES, &sz), SEC_E_OK);
    CHECK(sz.cbHeader + n + sz.cbTrailer <= sizeof(rec));
    if (check_failures > 0)
        exit(check_done("test_schannel"));
    memcpy(rec + sz.cbHeader, text, n);
    SecBuffer b[4] = {{sz.cbHeader, SECBUFFER_STREAM_HEADER, rec},
                      {(unsigned long)n, SECBUFFER_DATA, rec + sz.cbHeader},
                      {sz.cbTrailer, SECBUFFER_STREAM_TRAILER, rec + sz.cbHeader + n},
                      {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
    CHECK_EQ(EncryptMessage(&from->ctx, 0, &d, 0), SEC_E_OK);
    CHECK_EQ(b[0].cbBuffer, sz.cbHeader);
    CHECK(b[2].cbBuffer <= sz.cbTrailer);
    size_t total = b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
    q_push(to, rec, total);
    return total;
}

/* Decrypts one record from the front of s->q (all of it offered at once).
 * Post-handshake messages (SEC_I_RENEGOTIATE) go back through Initialize /
 * Accept as Windows wants. Writes the plaintext to out. */
static SECURITY_STATUS
decrypt_one(struct side *s, struct side *peer, char *out, size_t out_len, size_t offer)
{
    for (int tries = 0; tries < 16; tries++) {
        size_t avail = offer ? (offer < s->qlen ? offer : s->qlen) : s->qlen;
        SecBuffer b[4] = {{(unsigned long)avail, SECBUFFER_DATA, s->q},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
        SECURITY_STATUS st = DecryptMessage(&s->ctx, &d, 0, NULL);

        if (st == SEC_E_INCOMPLETE_MESSAGE) {
            CHECK_EQ(b[1].BufferType, SECBUFFER_MISSING);
            CHECK_EQ(b[1].cbBuffer, expected_missing(s->q, avail));
            return st;
        }
        if (st < 0)
            return st;
        CHECK_EQ(b[0].BufferType, SECBUFFER_STREAM_HEADER);
        CHECK_EQ(b[1].BufferType, SECBUFFER_DATA);
        CHECK_EQ(b[2].BufferType, SECBUFFER_STREAM_TRAILER);
        size_t used = b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
        size_t extra = b[3].BufferType == SECBUFFER_EXTRA ? b[3].cbBuffer : 0;
        CHECK_EQ(used + extra, avail);
        if (st == SEC_E_OK) {
            CHECK(b[1].cbBuffer < out_len);
            memcpy(out, b[1].pvBuffer, b[1].cbBuffer);
            out[b[1].cbBuffer] = '\0';
        }
        q_pop(s, used);
        if (st != SEC_I_RENEGOTIATE)
            return st;
        /* Back to the handshake loop with the rest. */
        s->done = false;
        SECURITY_STATUS hs = side_step(s, peer, NULL, 0, s->qlen);
        CHECK_EQ(hs, SEC_E_OK);
    }
    return SEC_E_INTERNAL_ERROR;
}

static void
exchange(struct side *c, struct side *s)
{
    char got[17000];

    encrypt_to(c, s, "GET / HTTP/1.1\r\n\r\n");
    CHECK_EQ(decrypt_one(s, c, got, sizeof(got), 0), SEC_E_OK);
    CHECK_STR_EQ(got, "GET / HTTP/1.1\r\n\r\n");
    /* Three records in one buffer, then the same split at every byte. */
    encrypt_to(s, c, "one");
    encrypt_to(s, c, "two");
    encrypt_to(s, c, "three");
    CHECK_EQ(decrypt_one(c, s, got, sizeof(got), 0), SEC_E_OK);
    CHECK_STR_EQ(got, "one");
    CHECK_EQ(decrypt_one(c, s, got, sizeof(got), 0), SEC_E_OK);
    CHECK_STR_EQ(got, "two");
    encrypt_to(s, c, "four");
    size_t total = c->qlen;
    for (size_t k = 1; k < c->qlen && c->qlen == total; k++) {
        /* "three" is first: every prefix shorter than its record is incomplete. */
        SECURITY_STATUS st = decrypt_one(c, s, got, sizeof(got), k);
        if (st == SEC_E_OK) {
            CHECK_STR_EQ(got, "three");
            break;
        }
        CHECK_EQ(st, SEC_E_INCOMPLETE_MESSAGE);
    }
    CHECK_EQ(decrypt_one(c, s, got, sizeof(got), 0), SEC_E_OK);
    CHECK_STR_EQ(got, "four");
    CHECK_EQ(c->qlen, 0);
}

static void
pair_make(struct side *c, struct side *s, unsigned long protocols, const char *client_cert,
          const char *client_roots, unsigned long client_flags)
{
    struct cred_opts so = {.cert = tc.server, .roots = tc.ca, .protocols = protocols};
    struct cred_opts co = {
        .cert = client_cert, .roots = client_roots, .protocols = protocols, .flags = client_flags};

    side_init(c, false);
    side_init(s, true);
    CHECK_EQ(acquire(true, &so, &s->cred), SEC_E_OK);
    CHECK_EQ(acquire(false, &co, &c->cred), SEC_E_OK);
}

static void
test_loop(unsigned long protocols, size_t chunk)
{
    struct side c, s;
    struct hs_opts o = {.target = "localhost", .chunk = chunk};
    SecPkgContext_ConnectionInfo ci;

    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_CONNECTION_INFO, &ci), SEC_E_OK);
    CHECK_HEX_EQ(ci.dwProtocol,
                 protocols == SP_PROT_TLS1_2 ? SP_PROT_TLS1_2_CLIENT : SP_PROT_TLS1_3_CLIENT);
    CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_CONNECTION_INFO, &ci), SEC_E_OK);
    CHECK_HEX_EQ(ci.dwProtocol,
                 protocols == SP_PROT_TLS1_2 ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_3_SERVER);
    CHECK(ci.aiCipher == CALG_AES_256 || ci.aiCipher == CALG_AES_128 ||
          ci.aiCipher == CALG_CHACHA20);
    CHECK(ci.dwCipherStrength >= 128);
    CHECK_EQ(ci.aiExch, CALG_ECDHE);
    exchange(&c, &s);
    side_free(&c);
    side_free(&s);
}

/* The server asks for a client certificate; the client has none: Windows'
 * SEC_I_INCOMPLETE_CREDENTIALS, the issuer list, then either no certificate
 * or a new credential that has one. */
static void
test_client_cert(unsigned long protocols, bool give_cert)
{
    struct side c, s;
    CredHandle with_cert;
    struct cred_opts co = {.cert = tc.client, .roots = tc.ca, .protocols = protocols};
    struct hs_opts o = {.target = "localhost", .asc_req = ASC_REQ_MUTUAL_AUTH};
    SecPkgContext_IssuerListInfoEx il = {0};
    PCCERT_CONTEXT remote = NULL;
    SECURITY_STATUS st;

    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    CHECK_EQ(acquire(false, &co, &with_cert), SEC_E_OK);
    /* Step by hand to the first SEC_I_INCOMPLETE_CREDENTIALS. */
    CHECK_EQ(side_step(&c, &s, o.target, 0, 0), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(side_step(&s, &c, NULL, o.asc_req, s.qlen), SEC_I_CONTINUE_NEEDED);
    st = side_step(&c, &s, o.target, 0, c.qlen);
    CHECK_EQ(st, SEC_I_INCOMPLETE_CREDENTIALS);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_ISSUER_LIST_EX, &il), SEC_E_OK);
    CHECK_EQ(il.cIssuers, 1);
    if (il.cIssuers == 1) {
        const unsigned char *p = il.aIssuers[0].pbData;
        X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)il.aIssuers[0].cbData);
        char text[128] = "";

        CHECK(name != NULL);
        X509_NAME_oneline(name, text, sizeof(text));
        CHECK_STR_EQ(text, "/CN=gatehouse test CA");
        X509_NAME_free(name);
    }
    FreeContextBuffer(il.aIssuers);
    if (give_cert) {
        FreeCredentialsHandle(&c.cred);
        c.cred = with_cert;
    } else {
        FreeCredentialsHandle(&with_cert);
    }
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    st = QueryContextAttributesA(&s.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote);
    if (give_cert) {
        CHECK_EQ(st, SEC_E_OK);
        SecPkgContext_NamesA names = {0};
        CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
        CHECK_STR_EQ(names.sUserName, "CN=alice");
        FreeContextBuffer(names.sUserName);
        PCCERT_CONTEXT local = NULL;
        CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_LOCAL_CERT_CONTEXT, &local), SEC_E_OK);
        CHECK(local != NULL && remote != NULL && local->cbCertEncoded == remote->cbCertEncoded &&
              memcmp(local->pbCertEncoded, remote->pbCertEncoded, local->cbCertEncoded) == 0);
        CertFreeCertificateContext(local);
    } else {
        CHECK_EQ(st, SEC_E_NO_CREDENTIALS);
    }
    CertFreeCertificateContext(remote);
    exchange(&c, &s);
    side_free(&c);
    side_free(&s);
}

/* A server certificate from a CA the client does not trust; a wrong name. */
static void
test_trust(unsigned long protocols)
{
    struct side c, s;
    struct hs_opts o = {.target = "localhost"};
    struct cred_opts so = {.cert = tc.other_server, .protocols = protocols};

    /* Untrusted root: the Windows code, and the context is gone. */
    side_init(&c, false);
    side_init(&s, true);
    CHECK_EQ(acquire(true, &so, &s.cred), SEC_E_OK);
    struct cred_opts co = {.roots = tc.ca, .protocols = protocols};
    CHECK_EQ(acquire(false, &co, &c.cred), SEC_E_OK);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_UNTRUSTED_ROOT);
    side_free(&c);
    side_free(&s);

    /* The same with ISC_REQ_MANUAL_CRED_VALIDATION: the caller judges. */
    side_init(&c, false);
    side_init(&s, true);
    CHECK_EQ(acquire(true, &so, &s.cred), SEC_E_OK);
    CHECK_EQ(acquire(false, &co, &c.cred), SEC_E_OK);
    o.isc_req = ISC_REQ_MANUAL_CRED_VALIDATION;
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    SecPkgContext_Flags fl;
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
    CHECK(fl.Flags & ISC_RET_MANUAL_CRED_VALIDATION);
    PCCERT_CONTEXT remote = NULL;
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote), SEC_E_OK);
    CHECK(remote != NULL && remote->pCertInfo != NULL);
    if (remote != NULL) {
        /* The issuer is the unrelated CA; the chain store holds the leaf. */
        const unsigned char *p = remote->pCertInfo->Issuer.pbData;
        X509_NAME *issuer = d2i_X509_NAME(NULL, &p, (long)remote->pCertInfo->Issuer.cbData);
        char text[128] = "";
        X509_NAME_oneline(issuer, text, sizeof(text));
        CHECK_STR_EQ(text, "/CN=unrelated CA");
        X509_NAME_free(issuer);
        CHECK_STR_EQ(remote->pCertInfo->SubjectPublicKeyInfo.Algorithm.pszObjId,
                     "1.2.840.10045.2.1");
        CHECK_EQ(remote->pCertInfo->SubjectPublicKeyInfo.PublicKey.cbData, 65);
        CHECK_HEX_EQ(remote->dwCertEncodingType, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING);
        PCCERT_CONTEXT e = CertEnumCertificatesInStore(remote->hCertStore, NULL);
        CHECK(e != NULL && e->cbCertEncoded == remote->cbCertEncoded);
        e = CertEnumCertificatesInStore(remote->hCertStore, e);
        CHECK(e == NULL);
    }
    CertFreeCertificateContext(remote);
    exchange(&c, &s);
    side_free(&c);
    side_free(&s);

    /* SCH_CRED_MANUAL_CRED_VALIDATION on the credential does the same. */
    side_init(&c, false);
    side_init(&s, true);
    CHECK_EQ(acquire(true, &so, &s.cred), SEC_E_OK);
    struct cred_opts cm = {
        .roots = tc.ca, .protocols = protocols, .flags = SCH_CRED_MANUAL_CRED_VALIDATION};
    CHECK_EQ(acquire(false, &cm, &c.cred), SEC_E_OK);
    o.isc_req = 0;
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    side_free(&c);
    side_free(&s);

    /* A trusted certificate for another name. */
    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    o.target = "www.example.org";
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_WRONG_PRINCIPAL);
    side_free(&c);
    side_free(&s);
    /* ...an IP address it names, and a service-style target. */
    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    o.target = "127.0.0.1";
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    side_free(&c);
    side_free(&s);
    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    o.target = "TERMSRV/localhost:3389";
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    side_free(&c);
    side_free(&s);
}

static void
shutdown_send(struct side *x, struct side *peer)
{
    unsigned long type = SCHANNEL_SHUTDOWN;
    SecBuffer b = {sizeof(type), SECBUFFER_TOKEN, &type};
    SecBufferDesc d = {SECBUFFER_VERSION, 1, &b};

    CHECK_EQ(ApplyControlToken(&x->ctx, &d), SEC_E_OK);
    x->done = false;
    CHECK_EQ(side_step(x, peer, NULL, 0, 0), SEC_E_OK);
}

static void
test_shutdown(unsigned long protocols)
{
    struct side c, s;
    struct hs_opts o = {.target = "localhost"};
    char got[64];

    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    exchange(&c, &s);
    shutdown_send(&c, &s);
    CHECK(s.qlen > 0);
    CHECK_EQ(decrypt_one(&s, &c, got, sizeof(got), 0), SEC_I_CONTEXT_EXPIRED);
    CHECK_EQ(s.qlen, 0);
    shutdown_send(&s, &c); /* the answering close_notify */
    CHECK_EQ(decrypt_one(&c, &s, got, sizeof(got), 0), SEC_I_CONTEXT_EXPIRED);
    uint8_t rec[64] = {0};
    SecBuffer b[4] = {{5, SECBUFFER_STREAM_HEADER, rec},
                      {3, SECBUFFER_DATA, rec + 5},
                      {32, SECBUFFER_STREAM_TRAILER, rec + 8},
                      {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
    CHECK_EQ(EncryptMessage(&c.ctx, 0, &d, 0), SEC_E_CONTEXT_EXPIRED);
    side_free(&c);
    side_free(&s);
}

static unsigned long
session_flags(struct side *c)
{
    SecPkgContext_SessionInfo si;

    CHECK_EQ(QueryContextAttributesA(&c->ctx, SECPKG_ATTR_SESSION_INFO, &si), SEC_E_OK);
    return si.dwFlags;
}

/* One client credential, one server credential, three connections: the
 * second to the same target resumes, the third to another target does not. */
static void
test_resume(unsigned long protocols)
{
    struct side c, s, c2, s2;
    struct hs_opts o = {.target = "localhost"};
    char got[64];

    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    CHECK_EQ(session_flags(&c), 0);
    exchange(&c, &s); /* TLS 1.3: the tickets reach the client here */
    (void)got;
    for (int round = 0; round < 2; round++) {
        side_init(&c2, false);
        side_init(&s2, true);
        c2.cred = c.cred;
        s2.cred = s.cred;
        o.target = round == 0 ? "localhost" : "127.0.0.1";
        CHECK_EQ(handshake(&c2, &s2, &o), SEC_E_OK);
        CHECK_EQ(session_flags(&c2), round == 0 ? SSL_SESSION_RECONNECT : 0);
        exchange(&c2, &s2);
        CHECK_EQ(DeleteSecurityContext(&c2.ctx), SEC_E_OK);
        CHECK_EQ(DeleteSecurityContext(&s2.ctx), SEC_E_OK);
        free(c2.q);
        free(s2.q);
    }
    side_free(&c);
    side_free(&s);
}

static void
test_queries(unsigned long protocols)
{
    struct side c, s;
    struct hs_opts o = {.target = "localhost"};
    SecPkgContext_StreamSizes ss;
    SecPkgContext_Sizes sz;
    SecPkgContext_Bindings cb = {0}, sb = {0};
    SecPkgContext_PackageInfoA pi = {0};
    PCCERT_CONTEXT local = NULL, remote = NULL;

    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_STREAM_SIZES, &ss), SEC_E_OK);
    CHECK_EQ(ss.cbHeader, 5);
    CHECK_EQ(ss.cbMaximumMessage, 16384);
    CHECK_EQ(ss.cBuffers, 4);
    CHECK(ss.cbTrailer >= 16 && ss.cbTrailer <= 24);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_SIZES, &sz), SEC_E_OK);
    CHECK_EQ(sz.cbSecurityTrailer, ss.cbTrailer);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_PACKAGE_INFO, &pi), SEC_E_OK);
    CHECK_STR_EQ(pi.PackageInfo->Name, "Schannel");
    FreeContextBuffer(pi.PackageInfo);
    /* tls-server-end-point: the same on both sides, SHA-256 for an ECDSA-SHA256 cert. */
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_ENDPOINT_BINDINGS, &cb), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_ENDPOINT_BINDINGS, &sb), SEC_E_OK);
    CHECK_EQ(cb.BindingsLength, sizeof(SEC_CHANNEL_BINDINGS) + 21 + 32);
    CHECK(cb.BindingsLength == sb.BindingsLength &&
          memcmp(cb.Bindings, sb.Bindings, cb.BindingsLength) == 0);
    CHECK_MEM_EQ((char *)cb.Bindings + cb.Bindings->dwApplicationDataOffset,
                 "tls-server-end-point:", 21);
    FreeContextBuffer(cb.Bindings);
    FreeContextBuffer(sb.Bindings);
    /* tls-unique: TLS 1.2 only, the same on both sides. */
    SECURITY_STATUS st = QueryContextAttributesA(&c.ctx, SECPKG_ATTR_UNIQUE_BINDINGS, &cb);
    if (protocols == SP_PROT_TLS1_3) {
        CHECK_EQ(st, SEC_E_UNSUPPORTED_FUNCTION);
    } else {
        CHECK_EQ(st, SEC_E_OK);
        CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_UNIQUE_BINDINGS, &sb), SEC_E_OK);
        CHECK_EQ(cb.BindingsLength, sizeof(SEC_CHANNEL_BINDINGS) + 11 + 12);
        CHECK(cb.BindingsLength == sb.BindingsLength &&
              memcmp(cb.Bindings, sb.Bindings, cb.BindingsLength) == 0);
        FreeContextBuffer(cb.Bindings);
        FreeContextBuffer(sb.Bindings);
    }
    /* The server's own certificate is the client's remote one. */
    CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_LOCAL_CERT_CONTEXT, &local), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote), SEC_E_OK);
    CHECK(local != NULL && remote != NULL && local->cbCertEncoded == remote->cbCertEncoded &&
          memcmp(local->pbCertEncoded, remote->pbCertEncoded, local->cbCertEncoded) == 0);
    CHECK(CertDuplicateCertificateContext(remote) == remote);
    CertFreeCertificateContext(remote);
    CertFreeCertificateContext(remote);
    CertFreeCertificateContext(local);
    /* The client sent no certificate. */
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_LOCAL_CERT_CONTEXT, &local),
             SEC_E_NO_CREDENTIALS);
    SecPkgContext_IssuerListInfoEx il = {0};
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_ISSUER_LIST_EX, &il), SEC_E_OK);
    CHECK_EQ(il.cIssuers, 0);
    SecPkgContext_Lifespan life, slife;
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_LIFESPAN, &life), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_LIFESPAN, &slife), SEC_E_OK);
    CHECK_MEM_EQ(&life, &slife, sizeof(life)); /* both: the server certificate's validity */
    int64_t start = (int64_t)life.tsStart.HighPart << 32 | life.tsStart.LowPart,
            end = (int64_t)life.tsExpiry.HighPart << 32 | life.tsExpiry.LowPart;
    CHECK_EQ((end - start) / 10000000LL, 86400LL * 30 + 3600);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_DCE_INFO, &sz),
             SEC_E_UNSUPPORTED_FUNCTION);
    side_free(&c);
    side_free(&s);
}

/* A SEC_APPLICATION_PROTOCOLS in buf with one ALPN list of the ids in wire
 * form (sspi.h's layout); returns its size. */
static unsigned long
alpn_make(unsigned char *buf, size_t cap, const char *wire, size_t wire_len)
{
    SEC_APPLICATION_PROTOCOLS *p = (SEC_APPLICATION_PROTOCOLS *)buf;
    size_t list = offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolList) + wire_len;
    size_t total = offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolLists) + list;

    CHECK(total <= cap);
    memset(buf, 0, cap);
    p->ProtocolListsSize = (unsigned long)list;
    p->ProtocolLists[0].ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
    p->ProtocolLists[0].ProtocolListSize = (unsigned short)wire_len;
    memcpy(p->ProtocolLists[0].ProtocolList, wire, wire_len);
    return (unsigned long)total;
}

static void
alpn_expect(CtxtHandle *ctx, const char *id)
{
    SecPkgContext_ApplicationProtocol ap;

    memset(&ap, 0xa5, sizeof(ap));
    CHECK_EQ(QueryContextAttributesA(ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &ap), SEC_E_OK);
    if (id == NULL) {
        CHECK_EQ(ap.ProtoNegoStatus, SecApplicationProtocolNegotiationStatus_None);
        CHECK_EQ(ap.ProtocolIdSize, 0);
        return;
    }
    CHECK_EQ(ap.ProtoNegoStatus, SecApplicationProtocolNegotiationStatus_Success);
    CHECK_EQ(ap.ProtoNegoExt, SecApplicationProtocolNegotiationExt_ALPN);
    CHECK_EQ(ap.ProtocolIdSize, strlen(id));
    CHECK_MEM_EQ(ap.ProtocolId, id, strlen(id));
}

/* What Windows code checks after the handshake (the gaps the samples in
 * examples/sspi met): the attributes are exactly those requested (curl's
 * schannel.c fails otherwise), SECPKG_ATTR_CIPHER_INFO, ALPN through
 * SECBUFFER_APPLICATION_PROTOCOLS and SECPKG_ATTR_APPLICATION_PROTOCOL. */
static void
test_porting(unsigned long protocols)
{
    const unsigned long isc =
        ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM;
    const unsigned long asc =
        ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | ASC_REQ_STREAM;
    struct side c, s;
    struct hs_opts o = {.target = "localhost", .isc_req = isc, .asc_req = asc};
    SecPkgContext_Flags fl;
    SecPkgContext_CipherInfo ci, si;
    SecPkgContext_ConnectionInfo conn;
    unsigned char cbuf[128], sbuf[128];
    SecBuffer calpn = {0, SECBUFFER_APPLICATION_PROTOCOLS, cbuf};
    SecBuffer salpn = {0, SECBUFFER_APPLICATION_PROTOCOLS, sbuf};

    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    /* QueryCredentialsAttributes (Schannel): protocols of each side,
     * cipher strengths, algorithms. */
    SecPkgCred_SupportedProtocols sp;
    SecPkgCred_CipherStrengths cs;
    SecPkgCred_SupportedAlgs sa = {0};
    CHECK_EQ(QueryCredentialsAttributesA(&c.cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp), SEC_E_OK);
    CHECK_HEX_EQ(sp.grbitProtocol, protocols & (SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT));
    CHECK_EQ(QueryCredentialsAttributesW(&s.cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp), SEC_E_OK);
    CHECK_HEX_EQ(sp.grbitProtocol, protocols & (SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER));
    CHECK_EQ(QueryCredentialsAttributesA(&c.cred, SECPKG_ATTR_CIPHER_STRENGTHS, &cs), SEC_E_OK);
    CHECK_EQ(cs.dwMinimumCipherStrength, 128);
    CHECK_EQ(cs.dwMaximumCipherStrength, 256);
    CHECK_EQ(QueryCredentialsAttributesA(&c.cred, SECPKG_ATTR_SUPPORTED_ALGS, &sa), SEC_E_OK);
    bool has_aes = false, has_ecdhe = false, has_sha256 = false;
    for (unsigned long i = 0; i < sa.cSupportedAlgs; i++) {
        has_aes |= sa.palgSupportedAlgs[i] == CALG_AES_128;
        has_ecdhe |= sa.palgSupportedAlgs[i] == CALG_ECDHE;
        has_sha256 |= sa.palgSupportedAlgs[i] == CALG_SHA_256;
    }
    CHECK(has_aes && has_ecdhe && has_sha256);
    FreeContextBuffer(sa.palgSupportedAlgs);
    CHECK_EQ(QueryCredentialsAttributesA(&c.cred, SECPKG_CRED_ATTR_NAMES, &sa),
             SEC_E_UNSUPPORTED_FUNCTION);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
    CHECK_HEX_EQ(fl.Flags, isc | ISC_RET_ALLOCATED_MEMORY);
    CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_FLAGS, &fl), SEC_E_OK);
    CHECK_HEX_EQ(fl.Flags, asc | ASC_RET_ALLOCATED_MEMORY);
    /* CIPHER_INFO: the same suite on both sides, its IANA number and name. */
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_CIPHER_INFO, &ci), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesW(&s.ctx, SECPKG_ATTR_CIPHER_INFO, &si), SEC_E_OK);
    CHECK_MEM_EQ(&ci, &si, offsetof(SecPkgContext_CipherInfo, dwMinExchangeLen));
    CHECK_EQ(ci.dwMinExchangeLen, si.dwMinExchangeLen);
    CHECK_EQ(ci.dwMaxExchangeLen, si.dwMaxExchangeLen);
    CHECK_MEM_EQ(ci.szCertificate, si.szCertificate, sizeof(ci.szCertificate));
    CHECK_EQ(ci.dwVersion, SECPKGCONTEXT_CIPHERINFO_V1);
    CHECK_HEX_EQ(ci.dwProtocol, protocols == SP_PROT_TLS1_3 ? 0x0304UL : 0x0303UL);
    CHECK_EQ(ci.dwBaseCipherSuite, ci.dwCipherSuite);
    CHECK(protocols == SP_PROT_TLS1_3
              ? (ci.dwCipherSuite >> 8) == 0x13
              : (ci.dwCipherSuite >> 8) == 0xc0 || (ci.dwCipherSuite >> 8) == 0xcc);
    CHECK(ci.szCipherSuite[0] == 'T' && ci.szCipherSuite[1] == 'L' && ci.szCipherSuite[2] == 'S');
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_CONNECTION_INFO, &conn), SEC_E_OK);
    CHECK_EQ(ci.dwCipherLen, conn.dwCipherStrength);
    CHECK_EQ(ci.dwHashLen, conn.dwHashStrength);
    CHECK(ci.szCipher[0] == 'A' || ci.szCipher[0] == 'C'); /* AES, CHACHA20_POLY1305 */
    CHECK(ci.szHash[0] == 'S' && ci.szHash[3] == '2' + (ci.dwHashLen == 384));
    CHECK(ci.szExchange[0] == 'E' || ci.szExchange[0] == 'D');
    CHECK(ci.szCertificate[0] != 0);
    /* KEY_INFO (A and W) and SESSION_KEY: the same on both sides. */
    SecPkgContext_KeyInfoA ka;
    SecPkgContext_KeyInfoW kw;
    SecPkgContext_SessionKey ck = {0}, sk = {0};
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_KEY_INFO, &ka), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesW(&s.ctx, SECPKG_ATTR_KEY_INFO, &kw), SEC_E_OK);
    CHECK_EQ(ka.KeySize, conn.dwCipherStrength);
    CHECK_EQ(ka.EncryptAlgorithm, conn.aiCipher);
    CHECK_EQ(kw.EncryptAlgorithm, ka.EncryptAlgorithm);
    CHECK_EQ(kw.SignatureAlgorithm, ka.SignatureAlgorithm);
    CHECK(ka.SignatureAlgorithm == CALG_ECDSA || ka.SignatureAlgorithm == CALG_RSA_SIGN);
    CHECK(strcmp(ka.sEncryptAlgorithmName, "AES") == 0 ||
          strcmp(ka.sEncryptAlgorithmName, "CHACHA20_POLY1305") == 0);
    CHECK(kw.sEncryptAlgorithmName[0] == (SEC_WCHAR)ka.sEncryptAlgorithmName[0]);
    FreeContextBuffer(ka.sSignatureAlgorithmName);
    FreeContextBuffer(ka.sEncryptAlgorithmName);
    FreeContextBuffer(kw.sSignatureAlgorithmName);
    FreeContextBuffer(kw.sEncryptAlgorithmName);
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_SESSION_KEY, &ck), SEC_E_OK);
    CHECK_EQ(QueryContextAttributesA(&s.ctx, SECPKG_ATTR_SESSION_KEY, &sk), SEC_E_OK);
    CHECK_EQ(ck.SessionKeyLength, 32);
    CHECK(ck.SessionKeyLength == sk.SessionKeyLength &&
          memcmp(ck.SessionKey, sk.SessionKey, ck.SessionKeyLength) == 0);
    FreeContextBuffer(ck.SessionKey);
    FreeContextBuffer(sk.SessionKey);
    alpn_expect(&c.ctx, NULL); /* none offered */
    alpn_expect(&s.ctx, NULL);
    side_free(&c);
    side_free(&s);

    /* The client offers h2 and http/1.1; the server takes http/1.1 only. */
    calpn.cbBuffer = alpn_make(cbuf, sizeof(cbuf), "\x02h2\x08http/1.1", 12);
    salpn.cbBuffer = alpn_make(sbuf, sizeof(sbuf), "\x08http/1.1", 9);
    first_call_alpn[0] = &calpn;
    first_call_alpn[1] = &salpn;
    o = (struct hs_opts){.target = "localhost", .isc_req = isc, .asc_req = asc};
    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    alpn_expect(&c.ctx, "http/1.1");
    alpn_expect(&s.ctx, "http/1.1");
    side_free(&c);
    side_free(&s);
    /* Nothing in common: the handshake goes on without (None on both sides). */
    calpn.cbBuffer = alpn_make(cbuf, sizeof(cbuf), "\x02h2", 3);
    o = (struct hs_opts){.target = "localhost", .isc_req = isc, .asc_req = asc};
    pair_make(&c, &s, protocols, NULL, tc.ca, 0);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    alpn_expect(&c.ctx, NULL);
    alpn_expect(&s.ctx, NULL);
    side_free(&c);
    side_free(&s);
    first_call_alpn[1] = NULL;
    /* Malformed: lists longer than the buffer, an empty id. No context made. */
    for (int k = 0; k < 2; k++) {
        calpn.cbBuffer = alpn_make(cbuf, sizeof(cbuf), "\x02h2", 3);
        if (k == 0)
            ((SEC_APPLICATION_PROTOCOLS *)cbuf)->ProtocolListsSize = 200;
        else
            ((SEC_APPLICATION_PROTOCOLS *)cbuf)->ProtocolLists[0].ProtocolList[0] = 0;
        pair_make(&c, &s, protocols, NULL, tc.ca, 0);
        CHECK_EQ(side_step(&c, &s, "localhost", isc, 0), SEC_E_INVALID_TOKEN);
        CHECK(!c.has_ctx);
        side_free(&c);
        side_free(&s);
    }
    first_call_alpn[0] = NULL;
}

/* Credentials: file errors, server without a certificate, protocol and
 * cipher limits, the other package name, the SCH_CREDENTIALS shape. */
static void
test_creds(void)
{
    PCCERT_CONTEXT pc = NULL;
    CredHandle h;
    struct side c, s;
    struct hs_opts o = {.target = "localhost"};

    CHECK_EQ(GhCertCreateContextFromPemFiles("/nonexistent.pem", NULL, 0, &pc),
             SEC_E_NO_CREDENTIALS);
    CHECK(pc == NULL);
    CHECK_EQ(GhCertCreateContextFromPemFiles(tc.server, tc.wrong_key, 0, &pc), SEC_E_CERT_UNKNOWN);
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/bad.pem", tc.dir);
    FILE *f = fopen(bad, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n", f);
        fclose(f);
    }
    CHECK_EQ(GhCertCreateContextFromPemFiles(bad, NULL, 0, &pc), SEC_E_NO_CREDENTIALS);
    HCERTSTORE bad_store = NULL;
    CHECK_EQ(GhCertOpenStoreFromPemFile(bad, &bad_store), SEC_E_NO_CREDENTIALS);
    CHECK(bad_store == NULL);
    SecPkgContext_GhExtendedError why = {0};
    CHECK_EQ(QueryContextAttributesA(NULL, SECPKG_ATTR_GH_EXTENDED_ERROR, &why), SEC_E_OK);
    CHECK(why.Text != NULL && strstr(why.Text, "bad.pem") != NULL);
    unlink(bad);
    CHECK_EQ(GhCertCreateContextFromPemFiles(tc.server, NULL, 1, &pc), SEC_E_INVALID_PARAMETER);
    CHECK_EQ(GhCertCreateContextFromPemFiles(tc.server, tc.server_key, 0, &pc), SEC_E_OK);
    CertFreeCertificateContext(pc);
    /* A CA file has no key: fine as a context, refused as a credential with
     * Windows' status for a certificate without a usable private key. */
    CHECK_EQ(GhCertCreateContextFromPemFiles(tc.ca, NULL, 0, &pc), SEC_E_OK);
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION, .cCreds = 1, .paCred = &pc};
    CHECK_EQ(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_INBOUND, NULL, &sc, NULL,
                                       NULL, &h, NULL),
             SEC_E_NO_CREDENTIALS);
    CertFreeCertificateContext(pc);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_INBOUND, NULL, NULL, NULL,
                                       NULL, &h, NULL),
             SEC_E_NO_CREDENTIALS);
    sc = (SCHANNEL_CRED){.dwVersion = SCHANNEL_CRED_VERSION,
                         .grbitEnabledProtocols = SP_PROT_TLS1_1};
    CHECK_EQ(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &sc, NULL,
                                       NULL, &h, NULL),
             SEC_E_ALGORITHM_MISMATCH);
    sc.dwVersion = 3;
    CHECK_EQ(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &sc, NULL,
                                       NULL, &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL,
                                       NULL, &h, NULL),
             SEC_E_OK);
    FreeCredentialsHandle(&h);

    /* Client limited to TLS 1.2, server to TLS 1.3: no common protocol. */
    side_init(&c, false);
    side_init(&s, true);
    struct cred_opts so = {.cert = tc.server, .protocols = SP_PROT_TLS1_3_SERVER};
    struct cred_opts co = {.roots = tc.ca, .protocols = SP_PROT_TLS1_2_CLIENT};
    CHECK_EQ(acquire(true, &so, &s.cred), SEC_E_OK);
    CHECK_EQ(acquire(false, &co, &c.cred), SEC_E_OK);
    last_alert_len = last_alert_desc = 0;
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_ALGORITHM_MISMATCH);
    CHECK_EQ(last_alert_len, 7);
    CHECK_EQ(last_alert_desc, 70); /* protocol_version (RFC 8446 6.2) */
    side_free(&c);
    side_free(&s);

    /* SCH_CREDENTIALS: TLS 1.3 disabled, AES disabled: TLS 1.2 ChaCha20. */
    PCCERT_CONTEXT cert = NULL;
    HCERTSTORE roots = NULL;
    CHECK_EQ(GhCertCreateContextFromPemFiles(tc.server, NULL, 0, &cert), SEC_E_OK);
    CHECK_EQ(GhCertOpenStoreFromPemFile(tc.ca, &roots), SEC_E_OK);
    CRYPTO_SETTINGS no_aes = {.eAlgorithmUsage = TlsParametersCngAlgUsageCipher,
                              .strCngAlgId = {6, 8, (SEC_WCHAR *)u"AES"}};
    TLS_PARAMETERS tp = {
        .grbitDisabledProtocols = SP_PROT_TLS1_3, .cDisabledCrypto = 1, .pDisabledCrypto = &no_aes};
    SCH_CREDENTIALS sch = {.dwVersion = SCH_CREDENTIALS_VERSION,
                           .cCreds = 1,
                           .paCred = &cert,
                           .cTlsParameters = 1,
                           .pTlsParameters = &tp};
    side_init(&c, false);
    side_init(&s, true);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_INBOUND, NULL, &sch, NULL,
                                       NULL, &s.cred, NULL),
             SEC_E_OK);
    SCH_CREDENTIALS sch_c = {.dwVersion = SCH_CREDENTIALS_VERSION, .hRootStore = roots};
    CHECK_EQ(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &sch_c,
                                       NULL, NULL, &c.cred, NULL),
             SEC_E_OK);
    CertFreeCertificateContext(cert);
    CertCloseStore(roots, 0);
    CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
    SecPkgContext_ConnectionInfo ci;
    CHECK_EQ(QueryContextAttributesA(&c.ctx, SECPKG_ATTR_CONNECTION_INFO, &ci), SEC_E_OK);
    CHECK_HEX_EQ(ci.dwProtocol, SP_PROT_TLS1_2_CLIENT);
    CHECK_HEX_EQ(ci.aiCipher, CALG_CHACHA20);
    exchange(&c, &s);
    side_free(&c);
    side_free(&s);

    /* One SECPKG_CRED_BOTH credential on both sides, twice, the first
     * context deleted without close_notify: the second still resumes. */
    for (int round = 0; round < 2; round++) {
        PCCERT_CONTEXT both_cert = load_cert(tc.server);
        HCERTSTORE both_roots = NULL;
        CHECK_EQ(GhCertOpenStoreFromPemFile(tc.ca, &both_roots), SEC_E_OK);
        SCHANNEL_CRED both = {.dwVersion = SCHANNEL_CRED_VERSION,
                              .cCreds = 1,
                              .paCred = &both_cert,
                              .hRootStore = both_roots};
        static CredHandle both_cred;
        if (round == 0)
            CHECK_EQ(AcquireCredentialsHandleA(NULL, SCHANNEL_NAME_A, SECPKG_CRED_BOTH, NULL, &both,
                                               NULL, NULL, &both_cred, NULL),
                     SEC_E_OK);
        CertFreeCertificateContext(both_cert);
        CertCloseStore(both_roots, 0);
        side_init(&c, false);
        side_init(&s, true);
        c.cred = s.cred = both_cred;
        CHECK_EQ(handshake(&c, &s, &o), SEC_E_OK);
        exchange(&c, &s);
        CHECK_EQ(session_flags(&c), round == 1 ? SSL_SESSION_RECONNECT : 0);
        CHECK_EQ(DeleteSecurityContext(&c.ctx), SEC_E_OK);
        CHECK_EQ(DeleteSecurityContext(&s.ctx), SEC_E_OK);
        free(c.q);
        free(s.q);
        if (round == 1)
            FreeCredentialsHandle(&both_cred);
    }

    /* The W entry points: package and target names in UTF-16. */
    CredHandle wc;
    CtxtHandle wctx;
    SecBuffer wout = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc woutd = {SECBUFFER_VERSION, 1, &wout};
    unsigned long wattrs = 0;
    CHECK_EQ(AcquireCredentialsHandleW(NULL, SCHANNEL_NAME_W, SECPKG_CRED_OUTBOUND, NULL, NULL,
                                       NULL, NULL, &wc, NULL),
             SEC_E_OK);
    CHECK_EQ(InitializeSecurityContextW(&wc, NULL, (SEC_WCHAR *)u"localhost",
                                        ISC_REQ_ALLOCATE_MEMORY, 0, 0, NULL, 0, &wctx, &woutd,
                                        &wattrs, NULL),
             SEC_I_CONTINUE_NEEDED);
    CHECK(wout.cbBuffer > 5 && ((unsigned char *)wout.pvBuffer)[0] == 22); /* a ClientHello */
    FreeContextBuffer(wout.pvBuffer);
    CHECK_EQ(DeleteSecurityContext(&wctx), SEC_E_OK);
    FreeCredentialsHandle(&wc);

    /* CERT_INFO of our own certificate: the fields Windows code reads. */
    CHECK_EQ(GhCertCreateContextFromPemFiles(tc.client, NULL, 0, &pc), SEC_E_OK);
    if (pc != NULL) {
        const CERT_INFO *info = pc->pCertInfo;
        const unsigned char *p = pc->pbCertEncoded;
        X509 *x = d2i_X509(NULL, &p, (long)pc->cbCertEncoded);

        CHECK(x != NULL);
        CHECK_EQ(info->dwVersion, 2);
        CHECK_EQ(info->SerialNumber.cbData, 1);
        CHECK_EQ(info->SerialNumber.pbData[0], 11);
        CHECK_STR_EQ(info->SignatureAlgorithm.pszObjId, "1.2.840.10045.4.3.2");
        uint64_t nb =
            (uint64_t)info->NotBefore.dwHighDateTime << 32 | info->NotBefore.dwLowDateTime;
        uint64_t na = (uint64_t)info->NotAfter.dwHighDateTime << 32 | info->NotAfter.dwLowDateTime;
        CHECK(na > nb && (na - nb) / 10000000ULL == 86400ULL * 30 + 3600);
        CHECK(info->SubjectPublicKeyInfo.Algorithm.Parameters.cbData > 0); /* the curve OID */
        X509_free(x);
        CertFreeCertificateContext(pc);
    }

    /* Negotiate never offers Schannel; the package is listed. */
    unsigned long count = 0;
    PSecPkgInfoA infos = NULL;
    bool listed = false;
    CHECK_EQ(EnumerateSecurityPackagesA(&count, &infos), SEC_E_OK);
    for (unsigned long i = 0; i < count; i++) {
        if (strcmp(infos[i].Name, "Schannel") == 0) {
            listed = true;
            CHECK_EQ(infos[i].fCapabilities & SECPKG_FLAG_NEGOTIABLE, 0);
        }
    }
    CHECK(listed);
    FreeContextBuffer(infos);
}

int
main(void)
{
    if (testcerts_make(&tc) != 0) {
        fprintf(stderr, "cannot make test certificates\n");
        return 1;
    }
    test_loop(SP_PROT_TLS1_2, 0);
    test_loop(SP_PROT_TLS1_3, 0);
    incomplete_seen = extra_seen = 0;
    test_loop(SP_PROT_TLS1_2, 1);
    test_loop(SP_PROT_TLS1_3, 1);
    CHECK(incomplete_seen > 1000); /* every byte boundary of every token */
    CHECK(extra_seen > 0);         /* a record complete, the next one not */
    for (int v = 0; v < 2; v++) {
        unsigned long p = v == 0 ? SP_PROT_TLS1_2 : SP_PROT_TLS1_3;

        test_client_cert(p, false);
        test_client_cert(p, true);
        test_trust(p);
        test_shutdown(p);
        test_resume(p);
        test_queries(p);
        test_porting(p);
    }
    test_creds();
    testcerts_remove(&tc);
    return check_done("test_schannel");
}
