// SPDX-License-Identifier: MIT
// The Schannel package through the public SSPI API: our initiator against our
// acceptor in process, TLS 1.2 and 1.3. Handshake tokens delivered whole and
// split at every byte boundary (SECBUFFER_MISSING counts, SECBUFFER_EXTRA),
// several records in one buffer, client certificates requested and not given
// (SEC_I_INCOMPLETE_CREDENTIALS), trust and name failures vs manual
// validation, shutdown, resumption by target name, every query attribute.
#include <stdbool.h>
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
    SecBuffer out[2] = {{0, SECBUFFER_TOKEN, NULL}, {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc ind = {SECBUFFER_VERSION, 2, in}, outd = {SECBUFFER_VERSION, 2, out};
    unsigned long attrs = 0;
    SECURITY_STATUS st;

    if (s->is_server)
        st = AcceptSecurityContext(&s->cred, s->has_ctx ? &s->ctx : NULL, &ind,
                                   req | ASC_REQ_ALLOCATE_MEMORY, 0, &s->ctx, &outd, &attrs, NULL);
    else
        st = InitializeSecurityContextA(&s->cred, s->has_ctx ? &s->ctx : NULL, (char *)target,
                                        req | ISC_REQ_ALLOCATE_MEMORY, 0, 0, feed > 0 ? &ind : NULL,
                                        0, &s->ctx, &outd, &attrs, NULL);
    s->last = st;
    if (st == SEC_E_INCOMPLETE_MESSAGE) {
        CHECK_EQ(in[1].BufferType, SECBUFFER_MISSING);
        CHECK_EQ(in[1].cbBuffer, expected_missing(s->q, feed));
        return st;
    }
    if (st < 0 && st != SEC_E_INCOMPLETE_MESSAGE)
        return st;
    s->has_ctx = true;
    if (st == SEC_I_INCOMPLETE_CREDENTIALS)
        return st; /* nothing consumed: the same input goes again */
    size_t extra = in[1].BufferType == SECBUFFER_EXTRA ? in[1].cbBuffer : 0;
    CHECK(extra <= feed);
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
    SECURITY_STATUS st = side_step(c, s, o->target, o->isc_req, 0);

    if (st < 0)
        return st;
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

int
main(void)
{
    if (testcerts_make(&tc) != 0) {
        fprintf(stderr, "cannot make test certificates\n");
        return 1;
    }
    test_loop(SP_PROT_TLS1_2, 0);
    test_loop(SP_PROT_TLS1_3, 0);
    test_loop(SP_PROT_TLS1_2, 1);
    test_loop(SP_PROT_TLS1_3, 1);
    testcerts_remove(&tc);
    return check_done("test_schannel");
}
