// SPDX-License-Identifier: MIT
// In-process NTLM handshakes: client package <-> server package through the
// package table, with the acceptor's NT hashes coming from the lookup seam.
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "harness/check.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/ntlm/msg.h"
#include "sspi/ntlm/ntlm.h"
#include "unit/sspi/ntlm/ntlm_vectors.h"

static const struct {
    const char *user, *password;
} accounts[] = {{"alice", "Secret-1"}, {"User", "Password"}, {"bob", "p\xc3\xa4ssw\xc3\xb6rd"}};

static int
lookup(void *arg, const char *user, const char *domain, uint8_t hash_out[16], char *canon,
       size_t canon_len)
{
    (void)domain;
    (*(int *)arg)++;
    for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
        if (strcasecmp(accounts[i].user, user) == 0) {
            snprintf(canon, canon_len, "%s", accounts[i].user);
            return ntlm_crypto_nt_hash(accounts[i].password, strlen(accounts[i].password),
                                       hash_out) == SEC_E_OK
                       ? GH_OK
                       : GH_EIO;
        }
    }
    return GH_ENOTFOUND;
}

static int lookups;

static void *
client_cred(const char *user, const char *domain, const char *password)
{
    struct sspi_acquire a = {.use = SECPKG_CRED_OUTBOUND, .has_identity = true};
    void *cred = NULL;
    a.user = user;
    a.domain = domain;
    a.password.bytes = (uint8_t *)password;
    a.password.len = strlen(password);
    CHECK_EQ(ntlm_package.acquire_cred(&a, &cred), SEC_E_OK);
    return cred;
}

static void *
server_cred(void)
{
    void *cred = NULL;
    GH_ACCEPTOR_AUTH_DATA cfg = {.Version = GH_ACCEPTOR_AUTH_DATA_V1, .NbDomainName = "EXAMPLE"};
    CHECK_EQ(ntlm_cred_create_acceptor(&cfg, lookup, &lookups, &cred), SEC_E_OK);
    return cred;
}

static void
step_init(struct sspi_step *st, struct slice in, struct slice bindings)
{
    memset(st, 0, sizeof(*st));
    st->in_token = in;
    st->bindings = bindings;
    st->target = "HTTP/www.example.com";
    st->req_flags = ISC_REQ_CONNECTION | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY;
    buf_init(&st->out_token, 65536);
    buf_init(&st->error_text, 1024);
}

static void
step_free(struct sspi_step *st)
{
    buf_free(&st->out_token);
    buf_free(&st->error_text);
}

typedef void tamper_fn(struct buf *auth);

struct loop {
    void *ccred, *scred;
    void *cctx, *sctx;
    struct slice client_cb, server_cb;
    unsigned long server_extra_flags; /* ASC_REQ_* added on the acceptor's legs */
    tamper_fn *tamper;
    SECURITY_STATUS client_st, server_st;
};

/* Runs NEGOTIATE -> CHALLENGE -> AUTHENTICATE; returns the acceptor's last status. */
static SECURITY_STATUS
run(struct loop *l)
{
    struct sspi_step c1, s1, c2, s2;

    step_init(&c1, slice_make(NULL, 0), l->client_cb);
    CHECK_EQ(ntlm_package.init_ctx(l->ccred, &l->cctx, &c1), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(c1.out_token.len, 40);
    step_init(&s1, buf_slice(&c1.out_token), l->server_cb);
    s1.req_flags |= l->server_extra_flags;
    CHECK_EQ(ntlm_package.accept_ctx(l->scred, &l->sctx, &s1), SEC_I_CONTINUE_NEEDED);
    step_init(&c2, buf_slice(&s1.out_token), l->client_cb);
    l->client_st = ntlm_package.init_ctx(l->ccred, &l->cctx, &c2);
    CHECK_EQ(l->client_st, SEC_E_OK);
    if (l->tamper != NULL)
        l->tamper(&c2.out_token);
    step_init(&s2, buf_slice(&c2.out_token), l->server_cb);
    s2.req_flags |= l->server_extra_flags;
    l->server_st = ntlm_package.accept_ctx(l->scred, &l->sctx, &s2);
    if (l->server_st != SEC_E_OK)
        CHECK(s2.error_text.len > 0);
    else
        CHECK(s2.attrs_out & ISC_RET_CONFIDENTIALITY);
    step_free(&c1);
    step_free(&s1);
    step_free(&c2);
    step_free(&s2);
    return l->server_st;
}

static void
loop_free(struct loop *l)
{
    ntlm_package.delete_ctx(l->cctx);
    ntlm_package.delete_ctx(l->sctx);
    ntlm_package.free_cred(l->ccred);
    ntlm_package.free_cred(l->scred);
}

static SECURITY_STATUS
one(const char *user, const char *domain, const char *password, tamper_fn *tamper)
{
    struct loop l = {.ccred = client_cred(user, domain, password), .scred = server_cred()};
    l.tamper = tamper;
    SECURITY_STATUS st = run(&l);
    loop_free(&l);
    return st;
}

/* Offsets of the NT response inside an AUTHENTICATE. */
static size_t
nt_offset(struct buf *auth)
{
    return (size_t)auth->data[24] | (size_t)auth->data[25] << 8;
}

static void
flip_proof(struct buf *auth)
{
    auth->data[nt_offset(auth) + 3] ^= 0x01;
}

static void
flip_mic(struct buf *auth)
{
    auth->data[NTLM_AUTHENTICATE_MIC_OFFSET + 5] ^= 0x80;
}

static void
flip_flags(struct buf *auth)
{
    auth->data[61] ^= 0x02; /* NegotiateFlags: covered by the MIC only */
}

static void
flip_blob(struct buf *auth)
{
    auth->data[nt_offset(auth) + 16 + 20] ^= 0x01; /* inside the client challenge */
}

/* Replaces the NT response with a 24-byte NTLMv1 one. */
static void
make_v1(struct buf *auth)
{
    auth->data[20] = 24;
    auth->data[21] = 0;
}

static void
make_anonymous(struct buf *auth)
{
    memset(auth->data + 12, 0, 8); /* LM */
    memset(auth->data + 20, 0, 8); /* NT */
    memset(auth->data + 36, 0, 8); /* user */
}

static void
test_outcomes(void)
{
    CHECK_EQ(one("alice", "EXAMPLE", "Secret-1", NULL), SEC_E_OK);
    CHECK_EQ(one("EXAMPLE\\alice", NULL, "Secret-1", NULL), SEC_E_OK);
    CHECK_EQ(one("alice@example.com", NULL, "Secret-1", NULL), SEC_E_OK);
    CHECK_EQ(one("ALICE", "", "Secret-1", NULL), SEC_E_OK); /* names are case-insensitive */
    CHECK_EQ(one("bob", "EXAMPLE", "p\xc3\xa4ssw\xc3\xb6rd", NULL), SEC_E_OK);
    CHECK_EQ(one("alice", "EXAMPLE", "secret-1", NULL), SEC_E_LOGON_DENIED);
    CHECK_EQ(one("mallory", "EXAMPLE", "Secret-1", NULL), SEC_E_LOGON_DENIED);
    CHECK_EQ(one("alice", "EXAMPLE", "Secret-1", flip_proof), SEC_E_LOGON_DENIED);
    CHECK_EQ(one("alice", "EXAMPLE", "Secret-1", flip_blob), SEC_E_LOGON_DENIED);
    CHECK_EQ(one("alice", "EXAMPLE", "Secret-1", flip_mic), SEC_E_LOGON_DENIED);
    CHECK_EQ(one("alice", "EXAMPLE", "Secret-1", flip_flags), SEC_E_LOGON_DENIED);
    CHECK_EQ(one("alice", "EXAMPLE", "Secret-1", make_v1), SEC_E_LOGON_DENIED);
    CHECK_EQ(one("alice", "EXAMPLE", "Secret-1", make_anonymous), SEC_E_LOGON_DENIED);
}

static struct buf
bindings(const char *app)
{
    struct buf b;
    SEC_CHANNEL_BINDINGS hdr = {0};
    hdr.cbApplicationDataLength = (uint32_t)strlen(app);
    hdr.dwApplicationDataOffset = sizeof(hdr);
    buf_init(&b, 4096);
    buf_append(&b, &hdr, sizeof(hdr));
    buf_append(&b, app, strlen(app));
    return b;
}

static void
test_bindings(void)
{
    struct buf a = bindings("tls-server-end-point:AAAA");
    struct buf b = bindings("tls-server-end-point:BBBB");
    struct {
        struct buf *client, *server;
        unsigned long server_flags;
        SECURITY_STATUS want;
    } cases[] = {
        {&a, &a, 0, SEC_E_OK},
        {&a, &b, 0, SEC_E_BAD_BINDINGS},
        {&a, &b, ASC_REQ_ALLOW_MISSING_BINDINGS, SEC_E_BAD_BINDINGS},
        /* client sent zeros: refused (Extended Protection required)... */
        {NULL, &a, 0, SEC_E_BAD_BINDINGS},
        /* ... unless the acceptor allows it ("when supported" policy) */
        {NULL, &a, ASC_REQ_ALLOW_MISSING_BINDINGS, SEC_E_OK},
        {&a, NULL, 0, SEC_E_OK}, /* acceptor has no channel to bind to */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct loop l = {.ccred = client_cred("alice", "EXAMPLE", "Secret-1"),
                         .scred = server_cred()};
        if (cases[i].client != NULL)
            l.client_cb = buf_slice(cases[i].client);
        if (cases[i].server != NULL)
            l.server_cb = buf_slice(cases[i].server);
        l.server_extra_flags = cases[i].server_flags;
        CHECK_EQ(run(&l), cases[i].want);
        loop_free(&l);
    }
    buf_free(&a);
    buf_free(&b);
}

static void
roundtrip(void *from, void *to)
{
    char msg[] = "a message for the other side";
    char hdr[] = "hdr";
    uint8_t sig[16];
    SecBuffer b[3] = {{sizeof(hdr), SECBUFFER_DATA | SECBUFFER_READONLY, hdr},
                      {sizeof(msg), SECBUFFER_DATA, msg},
                      {sizeof(sig), SECBUFFER_TOKEN, sig}};
    SecBufferDesc d = {SECBUFFER_VERSION, 3, b};
    unsigned long qop = 1;

    CHECK_EQ(ntlm_package.encrypt(from, 0, &d, 0), SEC_E_OK);
    CHECK(memcmp(msg, "a message", 9) != 0);
    CHECK_EQ(ntlm_package.decrypt(to, &d, 0, &qop), SEC_E_OK);
    CHECK_STR_EQ(msg, "a message for the other side");
    CHECK_EQ(qop, 0);
    CHECK_EQ(ntlm_package.make_signature(from, 0, &d, 0), SEC_E_OK);
    CHECK_EQ(ntlm_package.verify_signature(to, &d, 0, &qop), SEC_E_OK);
    /* Tampered, then out of sequence. */
    CHECK_EQ(ntlm_package.make_signature(from, 0, &d, 0), SEC_E_OK);
    msg[0] ^= 1;
    CHECK_EQ(ntlm_package.verify_signature(to, &d, 0, &qop), SEC_E_MESSAGE_ALTERED);
    msg[0] ^= 1;
    CHECK_EQ(ntlm_package.make_signature(from, 0, &d, 0), SEC_E_OK);
    CHECK_EQ(ntlm_package.make_signature(from, 0, &d, 0), SEC_E_OK);
    CHECK_EQ(ntlm_package.verify_signature(to, &d, 0, &qop), SEC_E_OUT_OF_SEQUENCE);
}

static void
test_session_and_queries(void)
{
    struct loop l = {.ccred = client_cred("alice", "WORKGROUP", "Secret-1"),
                     .scred = server_cred()};
    uint8_t kc[16], ks[16], sig[16];

    CHECK_EQ(run(&l), SEC_E_OK);
    CHECK(ntlm_ctx_is_complete(l.cctx) && ntlm_ctx_is_complete(l.sctx));
    CHECK(ntlm_ctx_has_mic(l.sctx));
    CHECK_EQ(ntlm_ctx_session_key(l.cctx, kc), SEC_E_OK);
    CHECK_EQ(ntlm_ctx_session_key(l.sctx, ks), SEC_E_OK);
    CHECK_MEM_EQ(kc, ks, 16);
    /* The acceptor's identity is its own domain and the store's spelling. */
    CHECK_STR_EQ(((struct ntlm_ctx *)l.sctx)->client_name, "EXAMPLE\\alice");
    CHECK_STR_EQ(((struct ntlm_ctx *)l.cctx)->client_name, "WORKGROUP\\alice");

    /* mechListMIC-style use of the helpers. */
    struct slice mechs = SLICE_LIT("\x30\x0c\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a");
    CHECK_EQ(ntlm_ctx_sign(l.cctx, NTLM_DIR_SEND, mechs, sig), SEC_E_OK);
    CHECK_EQ(ntlm_ctx_verify(l.sctx, NTLM_DIR_RECV, mechs, sig), SEC_E_OK);
    CHECK_EQ(ntlm_ctx_reset_rc4(l.cctx, false), SEC_E_OK);
    CHECK_EQ(ntlm_ctx_reset_rc4(l.sctx, false), SEC_E_OK);

    roundtrip(l.cctx, l.sctx);
    roundtrip(l.sctx, l.cctx);

    SecPkgContext_Sizes sizes;
    CHECK_EQ(ntlm_package.query_ctx(l.sctx, SECPKG_ATTR_SIZES, &sizes), SEC_E_OK);
    CHECK_EQ(sizes.cbMaxSignature, 16);
    CHECK_EQ(sizes.cbSecurityTrailer, 16);
    SecPkgContext_Flags flags;
    CHECK_EQ(ntlm_package.query_ctx(l.cctx, SECPKG_ATTR_FLAGS, &flags), SEC_E_OK);
    CHECK(flags.Flags & ISC_RET_INTEGRITY);
    SecPkgContext_Lifespan life;
    CHECK_EQ(ntlm_package.query_ctx(l.sctx, SECPKG_ATTR_LIFESPAN, &life), SEC_E_OK);
    CHECK(life.tsStart.HighPart > 0);
    CHECK_EQ(ntlm_package.query_ctx(l.sctx, 9999, &flags), SEC_E_UNSUPPORTED_FUNCTION);

    /* Re-authentication on the same contexts (keep-alive connection). */
    CHECK_EQ(run(&l), SEC_E_OK);
    loop_free(&l);
}

/* The acceptor verifies MS-NLMP 4.2.4.3's AUTHENTICATE_MESSAGE, given the
 * spec's server challenge and clock (its timestamp is 0). */
static void
test_spec_authenticate(void)
{
    void *scred = server_cred();
    struct ntlm_ctx *ctx = ntlm_context_new(false);
    void *sctx = ctx;
    struct ntlm_fixed_inputs fixed = {.has_server_challenge = true, .has_time = true};
    struct sspi_step s1, s2;
    const uint8_t neg[32] = {'N', 'T', 'L', 'M', 'S',  'S',  'P',  0,
                             1,   0,   0,   0,   0x37, 0x82, 0x88, 0xe2};

    memcpy(fixed.server_challenge, vec("server_challenge")->bytes, 8);
    ntlm_ctx_set_fixed_inputs(sctx, &fixed);
    step_init(&s1, slice_make(neg, sizeof(neg)), slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &s1), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(sctx, (void *)ctx);
    struct ntlm_challenge chal;
    CHECK_EQ(ntlm_msg_decode_challenge(buf_slice(&s1.out_token), &chal), SEC_E_OK);
    CHECK_MEM_EQ(chal.server_challenge, vec("server_challenge")->bytes, 8);
    CHECK(chal.flags & NTLMSSP_NEGOTIATE_UNICODE);

    const struct vector *auth = vec("authenticate_message");
    step_init(&s2, slice_make(auth->bytes, auth->len), slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &s2), SEC_E_OK);
    if (s2.error_text.len > 0)
        fprintf(stderr, "%.*s\n", (int)s2.error_text.len, (char *)s2.error_text.data);
    uint8_t key[16];
    CHECK_EQ(ntlm_ctx_session_key(sctx, key), SEC_E_OK);
    CHECK_MEM_EQ(key, vec("random_session_key")->bytes, 16);
    CHECK(!ntlm_ctx_has_mic(sctx));
    CHECK_STR_EQ(ctx->client_name, "EXAMPLE\\User");
    step_free(&s1);
    step_free(&s2);
    ntlm_package.delete_ctx(sctx);
    ntlm_package.free_cred(scred);
}

static void
test_protocol_errors(void)
{
    void *scred = server_cred();
    void *ccred = client_cred("alice", "EXAMPLE", "Secret-1");
    void *sctx = NULL, *cctx = NULL;
    struct sspi_step st;

    /* An AUTHENTICATE where a NEGOTIATE belongs. */
    const struct vector *auth = vec("authenticate_message");
    step_init(&st, slice_make(auth->bytes, auth->len), slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &st), SEC_E_INVALID_TOKEN);
    step_free(&st);
    /* Garbage as a CHALLENGE. */
    step_init(&st, slice_make(NULL, 0), slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &st), SEC_I_CONTINUE_NEEDED);
    step_free(&st);
    step_init(&st, SLICE_LIT("NTLMSSP\0garbage"), slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &st), SEC_E_INVALID_TOKEN);
    step_free(&st);
    /* A well-formed CHALLENGE without NEGOTIATE_UNICODE (OEM only) is refused,
     * never answered with an empty "success". */
    ntlm_package.delete_ctx(cctx);
    cctx = NULL;
    step_init(&st, slice_make(NULL, 0), slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &st), SEC_I_CONTINUE_NEEDED);
    step_free(&st);
    uint8_t oem[128];
    const struct vector *chal = vec("challenge_message");
    memcpy(oem, chal->bytes, chal->len);
    oem[20] &= (uint8_t)~0x01; /* clear NTLMSSP_NEGOTIATE_UNICODE */
    step_init(&st, slice_make(oem, chal->len), slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &st), SEC_E_INVALID_TOKEN);
    CHECK_EQ(st.out_token.len, 0);
    step_free(&st);
    /* Credentials used on the wrong side. */
    void *x = NULL;
    step_init(&st, slice_make(NULL, 0), slice_make(NULL, 0));
    CHECK_EQ(ntlm_package.init_ctx(scred, &x, &st), SEC_E_NO_CREDENTIALS);
    CHECK_EQ(ntlm_package.accept_ctx(ccred, &x, &st), SEC_E_NO_CREDENTIALS);
    step_free(&st);
    /* No identity and no NTLM_USER_FILE. */
    struct sspi_acquire a = {.use = SECPKG_CRED_OUTBOUND};
    unsetenv("NTLM_USER_FILE");
    CHECK_EQ(ntlm_package.acquire_cred(&a, &x), SEC_E_NO_CREDENTIALS);
    ntlm_package.delete_ctx(sctx);
    ntlm_package.delete_ctx(cctx);
    ntlm_package.free_cred(scred);
    ntlm_package.free_cred(ccred);
}

/* The initiator asks for SIGN / SEAL only when ISC_REQ_* says so, and the
 * ISC_RET_* / ASC_RET_* attributes report what was negotiated. */
static void
test_client_flags(void)
{
    static const struct {
        unsigned long req;
        bool want_sign, want_seal;
    } cases[] = {
        {ISC_REQ_CONNECTION, false, false},
        {ISC_REQ_CONNECTION | ISC_REQ_INTEGRITY, true, false},
        {ISC_REQ_CONNECTION | ISC_REQ_SEQUENCE_DETECT, true, false},
        {ISC_REQ_CONNECTION | ISC_REQ_CONFIDENTIALITY, true, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        void *ccred = client_cred("alice", "EXAMPLE", "Secret-1"), *scred = server_cred();
        void *cctx = NULL, *sctx = NULL;
        struct sspi_step c1, s1, c2, s2;

        step_init(&c1, slice_make(NULL, 0), slice_make(NULL, 0));
        c1.req_flags = cases[i].req;
        CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &c1), SEC_I_CONTINUE_NEEDED);
        uint32_t neg_flags = c1.out_token.data[12] | (uint32_t)c1.out_token.data[13] << 8 |
                             (uint32_t)c1.out_token.data[14] << 16 |
                             (uint32_t)c1.out_token.data[15] << 24;
        CHECK_EQ((neg_flags & NTLMSSP_NEGOTIATE_SIGN) != 0, cases[i].want_sign);
        CHECK_EQ((neg_flags & NTLMSSP_NEGOTIATE_SEAL) != 0, cases[i].want_seal);
        CHECK((neg_flags & NTLMSSP_NEGOTIATE_ALWAYS_SIGN) != 0);
        step_init(&s1, buf_slice(&c1.out_token), slice_make(NULL, 0));
        s1.req_flags = ASC_REQ_CONNECTION;
        CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &s1), SEC_I_CONTINUE_NEEDED);
        step_init(&c2, buf_slice(&s1.out_token), slice_make(NULL, 0));
        c2.req_flags = cases[i].req;
        CHECK_EQ(ntlm_package.init_ctx(ccred, &cctx, &c2), SEC_E_OK);
        step_init(&s2, buf_slice(&c2.out_token), slice_make(NULL, 0));
        s2.req_flags = ASC_REQ_CONNECTION;
        CHECK_EQ(ntlm_package.accept_ctx(scred, &sctx, &s2), SEC_E_OK);
        CHECK_EQ((c2.attrs_out & ISC_RET_INTEGRITY) != 0, cases[i].want_sign);
        CHECK_EQ((c2.attrs_out & ISC_RET_SEQUENCE_DETECT) != 0, cases[i].want_sign);
        CHECK_EQ((c2.attrs_out & ISC_RET_CONFIDENTIALITY) != 0, cases[i].want_seal);
        CHECK_EQ((s2.attrs_out & ASC_RET_INTEGRITY) != 0, cases[i].want_sign);
        CHECK_EQ((s2.attrs_out & ASC_RET_CONFIDENTIALITY) != 0, cases[i].want_seal);
        CHECK(c2.attrs_out & ISC_RET_CONNECTION);
        step_free(&c1);
        step_free(&s1);
        step_free(&c2);
        step_free(&s2);
        ntlm_package.delete_ctx(cctx);
        ntlm_package.delete_ctx(sctx);
        ntlm_package.free_cred(ccred);
        ntlm_package.free_cred(scred);
    }
}

static void
test_user_file(void)
{
    char path[] = "/tmp/gh-ntlm-users-XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "# comment\nEXAMPLE:carol:nope\nEXAMPLE:alice:Secret-1\n";
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, text, sizeof(text) - 1), (long)(sizeof(text) - 1));
    close(fd);
    setenv("NTLM_USER_FILE", path, 1);
    struct sspi_acquire a = {.use = SECPKG_CRED_OUTBOUND, .principal = "alice"};
    struct loop l = {.scred = server_cred()};
    CHECK_EQ(ntlm_package.acquire_cred(&a, &l.ccred), SEC_E_OK);
    CHECK_EQ(run(&l), SEC_E_OK);
    loop_free(&l);
    unsetenv("NTLM_USER_FILE");
    unlink(path);
}

int
main(void)
{
    test_outcomes();
    test_bindings();
    test_session_and_queries();
    test_spec_authenticate();
    test_protocol_errors();
    test_user_file();
    test_client_flags();
    CHECK(lookups > 0);
    return check_done("test_ntlm_loop");
}
