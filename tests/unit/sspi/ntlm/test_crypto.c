// SPDX-License-Identifier: MIT
// NTLM cryptography against MS-NLMP 4.2.4 (NTLMv2) and the channel-binding hash.
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/check.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/ntlm/msg.h"
#include "unit/sspi/ntlm/ntlm_vectors.h"

static void
test_hashes(void)
{
    uint8_t nt[16], v2[16], proof[16], base[16], lm[24], enc[16];
    const struct vector *temp = vec("temp");

    CHECK(ntlm_crypto_get() != NULL);
    CHECK_EQ(ntlm_crypto_nt_hash(vec_str("password"), 8, nt), SEC_E_OK);
    CHECK_MEM_EQ(nt, vec("ntowfv1")->bytes, 16);
    CHECK_EQ(ntlm_crypto_ntowfv2(nt, vec_str("user"), vec_str("domain"), v2), SEC_E_OK);
    CHECK_MEM_EQ(v2, vec("ntowfv2")->bytes, 16);
    /* The same from UTF-16LE (the acceptor's path); the user is uppercased. */
    const uint8_t user16[] = {'u', 0, 's', 0, 'E', 0, 'r', 0};
    const uint8_t dom16[] = {'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0};
    uint8_t v2b[16];
    CHECK_EQ(ntlm_crypto_ntowfv2_utf16(nt, slice_make(user16, sizeof(user16)),
                                       slice_make(dom16, sizeof(dom16)), v2b),
             SEC_E_OK);
    CHECK_MEM_EQ(v2b, vec("ntowfv2")->bytes, 16);

    CHECK_EQ(ntlm_crypto_nt_proof(v2, vec("server_challenge")->bytes,
                                  slice_make(temp->bytes, temp->len), proof),
             SEC_E_OK);
    CHECK_MEM_EQ(proof, vec("ntproofstr")->bytes, 16);
    CHECK_EQ(ntlm_crypto_session_base_key(v2, proof, base), SEC_E_OK);
    CHECK_MEM_EQ(base, vec("session_base_key")->bytes, 16);
    CHECK_EQ(ntlm_crypto_lmv2_response(v2, vec("server_challenge")->bytes,
                                       vec("client_challenge")->bytes, lm),
             SEC_E_OK);
    CHECK_MEM_EQ(lm, vec("lmv2_response")->bytes, 24);
    /* KXKEY = SessionBaseKey for NTLMv2; EncryptedRandomSessionKey = RC4K(KXKEY, RSK). */
    CHECK_EQ(ntlm_crypto_rc4k(base, vec("random_session_key")->bytes, 16, enc), SEC_E_OK);
    CHECK_MEM_EQ(enc, vec("encrypted_session_key")->bytes, 16);
    uint8_t back[16];
    CHECK_EQ(ntlm_crypto_rc4k(base, enc, 16, back), SEC_E_OK);
    CHECK_MEM_EQ(back, vec("random_session_key")->bytes, 16);
}

static void
test_session_keys(void)
{
    uint8_t k[16];
    uint32_t flags = 0;
    const struct vector *f = vec("v2_flags");

    for (size_t i = 0; i < 4; i++)
        flags |= (uint32_t)f->bytes[i] << (8 * i);
    CHECK_HEX_EQ(flags, 0xe28a8233u);
    CHECK_EQ(ntlm_crypto_sealkey(vec("random_session_key")->bytes, flags, true, k), SEC_E_OK);
    CHECK_MEM_EQ(k, vec("sealkey_c2s")->bytes, 16);
    CHECK_EQ(ntlm_crypto_signkey(vec("random_session_key")->bytes, true, k), SEC_E_OK);
    CHECK_MEM_EQ(k, vec("signkey_c2s")->bytes, 16);
}

static void
test_bindings(void)
{
    const struct vector *app = vec("cb_application_data");
    uint8_t cb[sizeof(SEC_CHANNEL_BINDINGS) + 128] = {0};
    SEC_CHANNEL_BINDINGS hdr = {0};
    uint8_t hash[16];

    hdr.cbApplicationDataLength = (uint32_t)app->len;
    hdr.dwApplicationDataOffset = sizeof(hdr);
    memcpy(cb, &hdr, sizeof(hdr));
    memcpy(cb + sizeof(hdr), app->bytes, app->len);
    CHECK_EQ(ntlm_crypto_bindings_hash(slice_make(cb, sizeof(hdr) + app->len), hash), SEC_E_OK);
    CHECK_MEM_EQ(hash, vec("cb_hash")->bytes, 16);
    /* Offsets pointing outside the buffer are refused. */
    hdr.dwApplicationDataOffset = 4096;
    memcpy(cb, &hdr, sizeof(hdr));
    CHECK_EQ(ntlm_crypto_bindings_hash(slice_make(cb, sizeof(hdr) + app->len), hash),
             SEC_E_BAD_BINDINGS);
    CHECK_EQ(ntlm_crypto_bindings_hash(slice_make(cb, 10), hash), SEC_E_BAD_BINDINGS);
}

static void
test_mic(void)
{
    /* The MIC treats its own 16 bytes as zeros: changing them changes nothing. */
    const struct vector *a = vec("authenticate_message");
    uint8_t copy[512], m1[16], m2[16];
    memcpy(copy, a->bytes, a->len);
    struct slice neg = SLICE_LIT("neg"), chal = SLICE_LIT("chal");
    CHECK_EQ(ntlm_crypto_mic(vec("random_session_key")->bytes, neg, chal, slice_make(copy, a->len),
                             72, m1),
             SEC_E_OK);
    memset(copy + 72, 0xEE, 16);
    CHECK_EQ(ntlm_crypto_mic(vec("random_session_key")->bytes, neg, chal, slice_make(copy, a->len),
                             72, m2),
             SEC_E_OK);
    CHECK_MEM_EQ(m1, m2, 16);
    copy[100] ^= 1;
    CHECK_EQ(ntlm_crypto_mic(vec("random_session_key")->bytes, neg, chal, slice_make(copy, a->len),
                             72, m2),
             SEC_E_OK);
    CHECK(memcmp(m1, m2, 16) != 0);
    CHECK_EQ(
        ntlm_crypto_mic(vec("random_session_key")->bytes, neg, chal, slice_make(copy, 80), 72, m2),
        SEC_E_INVALID_TOKEN);
}

/* Nonces from the per-thread pool: never repeated, also not by a child after
 * fork() (it must not hand out the bytes its parent will). */
static void
test_nonce(void)
{
    uint8_t a[8], b[8], child[8];
    int fds[2];

    CHECK_EQ(ntlm_crypto_nonce(a, sizeof(a)), SEC_E_OK);
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        uint8_t n[8] = {0};
        ssize_t w = ntlm_crypto_nonce(n, sizeof(n)) == SEC_E_OK ? write(fds[1], n, sizeof(n)) : 0;
        _exit(w == (ssize_t)sizeof(n) ? 0 : 1);
    }
    CHECK(pid > 0);
    CHECK_EQ(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fds[0]);
    close(fds[1]);
    CHECK_EQ(ntlm_crypto_nonce(b, sizeof(b)), SEC_E_OK);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    CHECK(memcmp(b, child, sizeof(b)) != 0); /* the child drew afresh */
    for (int i = 0; i < 200; i++) {          /* across pool refills */
        CHECK_EQ(ntlm_crypto_nonce(a, sizeof(a)), SEC_E_OK);
        CHECK(memcmp(a, b, sizeof(a)) != 0);
        memcpy(b, a, sizeof(b));
    }
}

int
main(void)
{
    test_hashes();
    test_session_keys();
    test_bindings();
    test_mic();
    test_nonce();
    return check_done("test_crypto");
}
