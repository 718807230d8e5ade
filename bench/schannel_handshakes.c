// SPDX-License-Identifier: MIT
// schannel_handshakes: complete in-process TLS handshakes per second through
// our Schannel package (AcquireCredentialsHandle once per side; per handshake
// Initialize/AcceptSecurityContext until both complete, one 64-byte record
// each way, DeleteSecurityContext both) next to the same work with OpenSSL
// used directly (two SSLs over memory BIOs, same certificate and key, same
// suites), alternating in rounds; prints both rates and the ratio. No session
// resumption on either side (full handshakes). Driven by bench/schannel-handshakes.
//
//   schannel_handshakes --cert FILE (cert+key PEM) --ca FILE --proto 12|13
//                       [--seconds S] [--rounds R]
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <gatehouse/sspi.h>

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
    fprintf(stderr, "schannel_handshakes: %s\n", what);
    exit(1);
}

/* ---- ours ------------------------------------------------------------------ */
static CredHandle scred, ccred;

struct q {
    unsigned char b[65536];
    size_t n;
};

static SECURITY_STATUS
leg(bool server, CtxtHandle *ctx, bool *has, struct q *in, struct q *out)
{
    SecBuffer ib[2] = {{(unsigned long)in->n, SECBUFFER_TOKEN, in->b}, {0, SECBUFFER_EMPTY, NULL}};
    SecBuffer ob[1] = {
        {(unsigned long)(sizeof(out->b) - out->n), SECBUFFER_TOKEN, out->b + out->n}};
    SecBufferDesc id = {SECBUFFER_VERSION, 2, ib}, od = {SECBUFFER_VERSION, 1, ob};
    unsigned long attrs;
    SECURITY_STATUS st;

    if (server)
        st = AcceptSecurityContext(&scred, *has ? ctx : NULL, &id, 0, 0, ctx, &od, &attrs, NULL);
    else
        st = InitializeSecurityContextA(&ccred, *has ? ctx : NULL, "localhost", 0, 0, 0,
                                        in->n ? &id : NULL, 0, ctx, &od, &attrs, NULL);
    if (st < 0)
        return st;
    *has = true;
    size_t extra = ib[1].BufferType == SECBUFFER_EXTRA ? ib[1].cbBuffer : 0;
    memmove(in->b, in->b + in->n - extra, extra);
    in->n = extra;
    out->n += ob[0].cbBuffer;
    return st;
}

static void
record(CtxtHandle *from, CtxtHandle *to)
{
    unsigned char rec[256];
    SecBuffer b[4] = {{5, SECBUFFER_STREAM_HEADER, rec},
                      {64, SECBUFFER_DATA, rec + 5},
                      {32, SECBUFFER_STREAM_TRAILER, rec + 69},
                      {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc d = {SECBUFFER_VERSION, 4, b};

    memset(rec + 5, 'x', 64);
    if (EncryptMessage(from, 0, &d, 0) != SEC_E_OK)
        die("EncryptMessage");
    SecBuffer r[4] = {{b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer, SECBUFFER_DATA, rec},
                      {0, SECBUFFER_EMPTY, NULL},
                      {0, SECBUFFER_EMPTY, NULL},
                      {0, SECBUFFER_EMPTY, NULL}};
    SecBufferDesc rd = {SECBUFFER_VERSION, 4, r};
    if (DecryptMessage(to, &rd, 0, NULL) != SEC_E_OK)
        die("DecryptMessage");
}

static void
ours_one(void)
{
    static struct q to_s, to_c;
    CtxtHandle c, s;
    bool hc = false, hs = false;
    SECURITY_STATUS cs, ss = SEC_I_CONTINUE_NEEDED;

    to_s.n = to_c.n = 0;
    cs = leg(false, &c, &hc, &to_c, &to_s);
    for (int i = 0; i < 10 && (cs != SEC_E_OK || ss != SEC_E_OK); i++) {
        if (to_s.n > 0 && ss != SEC_E_OK)
            ss = leg(true, &s, &hs, &to_s, &to_c);
        if (to_c.n > 0 && cs != SEC_E_OK)
            cs = leg(false, &c, &hc, &to_c, &to_s);
        if (cs < 0 || ss < 0)
            die("handshake failed");
    }
    if (cs != SEC_E_OK || ss != SEC_E_OK)
        die("handshake did not finish");
    /* TLS 1.3: the server's tickets came with its last token; the client
     * reads them as a Windows client does (SEC_I_RENEGOTIATE, then ISC). */
    for (int i = 0; i < 8 && to_c.n > 0; i++) {
        SecBuffer b[4] = {{(unsigned long)to_c.n, SECBUFFER_DATA, to_c.b},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL},
                          {0, SECBUFFER_EMPTY, NULL}};
        SecBufferDesc d = {SECBUFFER_VERSION, 4, b};
        SECURITY_STATUS st = DecryptMessage(&c, &d, 0, NULL);
        size_t extra = b[3].BufferType == SECBUFFER_EXTRA ? b[3].cbBuffer : 0;

        if (st != SEC_I_RENEGOTIATE)
            die("DecryptMessage of the tickets");
        memmove(to_c.b, to_c.b + to_c.n - extra, extra);
        to_c.n = extra;
        if (leg(false, &c, &hc, &to_c, &to_s) != SEC_E_OK)
            die("InitializeSecurityContext after SEC_I_RENEGOTIATE");
    }
    record(&c, &s);
    record(&s, &c);
    DeleteSecurityContext(&c);
    DeleteSecurityContext(&s);
}

/* ---- OpenSSL used directly ------------------------------------------------- */
static SSL_CTX *sctx, *cctx;

static void
pump(BIO *from, BIO *to)
{
    char buf[16384];
    int n;

    while ((n = BIO_read(from, buf, sizeof(buf))) > 0)
        BIO_write(to, buf, n);
}

static void
openssl_one(void)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
    BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
    char msg[64], got[64];
    int rc = 0, rs = 0;

    SSL_set_bio(c, c_in, c_out);
    SSL_set_bio(s, s_in, s_out);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    SSL_set_tlsext_host_name(c, "localhost");
    SSL_set1_host(c, "localhost");
    for (int i = 0; i < 10 && (rc != 1 || rs != 1); i++) {
        if (rc != 1)
            rc = SSL_do_handshake(c);
        pump(c_out, s_in);
        if (rs != 1)
            rs = SSL_do_handshake(s);
        pump(s_out, c_in);
    }
    if (rc != 1 || rs != 1 || SSL_get_verify_result(c) != X509_V_OK)
        die("openssl handshake failed");
    memset(msg, 'x', sizeof(msg));
    SSL_write(c, msg, sizeof(msg));
    pump(c_out, s_in);
    if (SSL_read(s, got, sizeof(got)) != (int)sizeof(got))
        die("openssl read");
    SSL_write(s, msg, sizeof(msg));
    pump(s_out, c_in);
    if (SSL_read(c, got, sizeof(got)) != (int)sizeof(got))
        die("openssl read");
    SSL_free(c);
    SSL_free(s);
}

static void
setup(const char *cert_file, const char *ca_file, int proto)
{
    PCCERT_CONTEXT cert = NULL;
    HCERTSTORE roots = NULL;
    unsigned long p = proto == 13 ? SP_PROT_TLS1_3 : SP_PROT_TLS1_2;
    int v = proto == 13 ? TLS1_3_VERSION : TLS1_2_VERSION;

    if (GhCertCreateContextFromPemFiles(cert_file, NULL, 0, &cert) != SEC_E_OK ||
        GhCertOpenStoreFromPemFile(ca_file, &roots) != SEC_E_OK)
        die("cannot load the certificate");
    SCHANNEL_CRED sc = {.dwVersion = SCHANNEL_CRED_VERSION,
                        .cCreds = 1,
                        .paCred = &cert,
                        .grbitEnabledProtocols = p};
    SCHANNEL_CRED cc = {.dwVersion = SCHANNEL_CRED_VERSION,
                        .hRootStore = roots,
                        .grbitEnabledProtocols = p,
                        .dwFlags = SCH_CRED_DISABLE_RECONNECTS};
    if (AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_INBOUND, NULL, &sc, NULL, NULL,
                                  &scred, NULL) != SEC_E_OK ||
        AcquireCredentialsHandleA(NULL, UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &cc, NULL, NULL,
                                  &ccred, NULL) != SEC_E_OK)
        die("AcquireCredentialsHandle");
    CertFreeCertificateContext(cert);
    CertCloseStore(roots, 0);

    /* The same suites our credential builds: AEAD with ECDHE first. */
    sctx = SSL_CTX_new(TLS_server_method());
    cctx = SSL_CTX_new(TLS_client_method());
    if (sctx == NULL || cctx == NULL || SSL_CTX_use_certificate_chain_file(sctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(sctx, cert_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(cctx, ca_file, NULL) != 1)
        die("openssl contexts");
    SSL_CTX_set_min_proto_version(sctx, v);
    SSL_CTX_set_max_proto_version(sctx, v);
    SSL_CTX_set_min_proto_version(cctx, v);
    SSL_CTX_set_max_proto_version(cctx, v);
    SSL_CTX_set_cipher_list(sctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
}

int
main(int argc, char **argv)
{
    const char *cert = NULL, *ca = NULL;
    double seconds = 4;
    int rounds = 4, proto = 13;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--cert") == 0)
            cert = argv[i + 1];
        else if (strcmp(argv[i], "--ca") == 0)
            ca = argv[i + 1];
        else if (strcmp(argv[i], "--proto") == 0)
            proto = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
    }
    if (cert == NULL || ca == NULL || rounds < 1)
        die("usage: --cert FILE --ca FILE [--proto 12|13] [--seconds S] [--rounds R]");
    setup(cert, ca, proto);
    ours_one(); /* warm up both */
    openssl_one();
    double slice = seconds / (2.0 * rounds);
    long n_ours = 0, n_ossl = 0;
    double t_ours = 0, t_ossl = 0, c_ours = 0, c_ossl = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now(), c0 = cpu_now();
        do {
            ours_one();
            n_ours++;
        } while (now() - t0 < slice);
        t_ours += now() - t0;
        c_ours += cpu_now() - c0;
        t0 = now();
        c0 = cpu_now();
        do {
            openssl_one();
            n_ossl++;
        } while (now() - t0 < slice);
        t_ossl += now() - t0;
        c_ossl += cpu_now() - c0;
    }
    double ours = n_ours / t_ours, ossl = n_ossl / t_ossl;
    printf("TLS1.%d  ours (Schannel via SSPI) %7.0f/s (%6.1f us cpu)  OpenSSL in-process %7.0f/s "
           "(%6.1f us cpu)  ratio %.2fx\n",
           proto - 10, ours, 1e6 * c_ours / n_ours, ossl, 1e6 * c_ossl / n_ossl, ours / ossl);
    FreeCredentialsHandle(&scred);
    FreeCredentialsHandle(&ccred);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return 0;
}
