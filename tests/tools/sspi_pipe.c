// SPDX-License-Identifier: MIT
// sspi_pipe: runs one side of an NTLM handshake through the package table,
// exchanging base64 tokens line by line on stdin/stdout, so that Python tests
// can put real peers (python3-ntlm-auth, gss-ntlmssp) on the other side.
//
//   sspi_pipe client --user U --password P [--domain D] [--target SPN] [--cb HEX]
//   sspi_pipe server --users FILE [--domain NB] [--cb HEX]
//
// Output lines: "TOKEN <b64>" for each token to send, then "OK <name>" or
// "ERR 0x<status> <reason>". Input lines: one base64 token per leg. After OK,
// commands "WRAP <b64>" / "UNWRAP <b64>" seal / unseal (signature || data, the
// GSS_Wrap layout), "SIGN <b64>" / "VERIFY <b64 data> <b64 sig>"; answers
// "DATA <b64>" or "ERR ...". --cb takes the application data of the channel
// bindings (no addresses), in hex. The users FILE has lines DOMAIN:user:password.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/ntlm/ntlm.h"

#define LINE_MAX_BYTES 65536

static const char *users_path;

static int
file_lookup(void *arg, const char *user, const char *domain, uint8_t hash_out[16], char *canon,
            size_t canon_len)
{
    char line[1024];
    int found = GH_ENOTFOUND;
    FILE *f = fopen(users_path, "r");

    (void)arg;
    (void)domain;
    if (f == NULL)
        return GH_EIO;
    while (found != GH_OK && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        if (strcasecmp(c1 + 1, user) != 0)
            continue;
        snprintf(canon, canon_len, "%s", c1 + 1);
        if (ntlm_crypto_nt_hash(c2 + 1, strlen(c2 + 1), hash_out) == SEC_E_OK)
            found = GH_OK;
    }
    fclose(f);
    return found;
}

static void
put_b64(const char *tag, const uint8_t *p, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out == NULL)
        exit(2);
    EVP_EncodeBlock((unsigned char *)out, p, (int)len);
    printf("%s %s\n", tag, out);
    fflush(stdout);
    free(out);
}

/* Decodes base64 into out (allocated); returns the length or -1. */
static long
get_b64(const char *in, uint8_t **out)
{
    size_t n = strlen(in);
    *out = malloc(n + 3);
    if (*out == NULL || n % 4 != 0)
        return -1;
    int len = EVP_DecodeBlock(*out, (const unsigned char *)in, (int)n);
    if (len < 0)
        return -1;
    /* EVP_DecodeBlock counts padding as zero bytes. */
    if (n >= 1 && in[n - 1] == '=')
        len--;
    if (n >= 2 && in[n - 2] == '=')
        len--;
    return len;
}

static char *
read_line(void)
{
    static char line[LINE_MAX_BYTES];
    if (fgets(line, sizeof(line), stdin) == NULL)
        return NULL;
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static struct buf
bindings_from_hex(const char *hex)
{
    struct buf b;
    SEC_CHANNEL_BINDINGS hdr = {0};
    size_t n = strlen(hex) / 2;

    buf_init(&b, 65536);
    hdr.cbApplicationDataLength = (uint32_t)n;
    hdr.dwApplicationDataOffset = sizeof(hdr);
    buf_append(&b, &hdr, sizeof(hdr));
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        uint8_t byte = (uint8_t)v;
        buf_append(&b, &byte, 1);
    }
    return b;
}

static int
fail(SECURITY_STATUS st, const struct sspi_step *step)
{
    printf("ERR 0x%08x %.*s\n", (unsigned)st, (int)step->error_text.len,
           step->error_text.data != NULL ? (const char *)step->error_text.data : "");
    fflush(stdout);
    return 1;
}

/* Post-handshake commands: sealing and signing in both directions. */
static void
serve_commands(void *ctx)
{
    char *line;

    while ((line = read_line()) != NULL) {
        char *arg = strchr(line, ' ');
        uint8_t *data = NULL, *sig = NULL;
        if (arg == NULL)
            break;
        *arg++ = '\0';
        char *arg2 = strchr(arg, ' ');
        if (arg2 != NULL)
            *arg2++ = '\0';
        long len = get_b64(arg, &data);
        SECURITY_STATUS st = SEC_E_INVALID_TOKEN;
        if (len >= 0 && strcmp(line, "WRAP") == 0) {
            uint8_t *out = malloc((size_t)len + 16);
            memcpy(out + 16, data, (size_t)len);
            SecBuffer b[2] = {{(unsigned long)len, SECBUFFER_DATA, out + 16},
                              {16, SECBUFFER_TOKEN, out}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
            st = ntlm_package.encrypt(ctx, 0, &d, 0);
            if (st == SEC_E_OK)
                put_b64("DATA", out, (size_t)len + 16);
            free(out);
        } else if (len >= 16 && strcmp(line, "UNWRAP") == 0) {
            SecBuffer b[2] = {{(unsigned long)len - 16, SECBUFFER_DATA, data + 16},
                              {16, SECBUFFER_TOKEN, data}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
            st = ntlm_package.decrypt(ctx, &d, 0, NULL);
            if (st == SEC_E_OK)
                put_b64("DATA", data + 16, (size_t)len - 16);
        } else if (len >= 0 && strcmp(line, "SIGN") == 0) {
            uint8_t s[16];
            SecBuffer b[2] = {{(unsigned long)len, SECBUFFER_DATA, data}, {16, SECBUFFER_TOKEN, s}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
            st = ntlm_package.make_signature(ctx, 0, &d, 0);
            if (st == SEC_E_OK)
                put_b64("DATA", s, 16);
        } else if (len >= 0 && arg2 != NULL && strcmp(line, "VERIFY") == 0 &&
                   get_b64(arg2, &sig) == 16) {
            SecBuffer b[2] = {{(unsigned long)len, SECBUFFER_DATA, data},
                              {16, SECBUFFER_TOKEN, sig}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
            st = ntlm_package.verify_signature(ctx, &d, 0, NULL);
            if (st == SEC_E_OK)
                put_b64("DATA", data, 0);
        }
        if (st != SEC_E_OK) {
            printf("ERR 0x%08x\n", (unsigned)st);
            fflush(stdout);
        }
        free(data);
        free(sig);
    }
}

int
main(int argc, char **argv)
{
    const char *user = NULL, *password = "", *domain = "", *target = NULL, *cb = NULL;
    const char *nb_domain = "GATEHOUSE";
    bool is_client;
    void *cred = NULL, *ctx = NULL;
    struct buf bindings;
    SECURITY_STATUS st;
    int rc = 1;

    if (argc < 2)
        return 2;
    is_client = strcmp(argv[1], "client") == 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--user") == 0)
            user = argv[i + 1];
        else if (strcmp(argv[i], "--password") == 0)
            password = argv[i + 1];
        else if (strcmp(argv[i], "--domain") == 0)
            domain = nb_domain = argv[i + 1];
        else if (strcmp(argv[i], "--target") == 0)
            target = argv[i + 1];
        else if (strcmp(argv[i], "--cb") == 0)
            cb = argv[i + 1];
        else if (strcmp(argv[i], "--users") == 0)
            users_path = argv[i + 1];
        else
            return 2;
    }
    buf_init(&bindings, 65536);
    if (cb != NULL)
        bindings = bindings_from_hex(cb);
    if (is_client) {
        struct sspi_acquire a = {.use = SECPKG_CRED_OUTBOUND, .has_identity = user != NULL};
        a.user = user;
        a.domain = domain;
        a.password.bytes = (uint8_t *)password;
        a.password.len = strlen(password);
        st = ntlm_package.acquire_cred(&a, &cred);
    } else {
        GH_ACCEPTOR_AUTH_DATA cfg = {.Version = GH_ACCEPTOR_AUTH_DATA_V1,
                                     .NbDomainName = nb_domain};
        st = users_path == NULL ? SEC_E_NO_CREDENTIALS
                                : ntlm_cred_create_acceptor(&cfg, file_lookup, NULL, &cred);
    }
    if (st != SEC_E_OK) {
        printf("ERR 0x%08x cannot acquire credentials\n", (unsigned)st);
        return 1;
    }
    for (int leg = 0;; leg++) {
        struct sspi_step step = {.target = target, .bindings = buf_slice(&bindings)};
        uint8_t *in = NULL;
        long in_len = 0;
        buf_init(&step.out_token, 65536);
        buf_init(&step.error_text, 1024);
        if (!is_client || leg > 0) {
            char *line = read_line();
            if (line == NULL || (in_len = get_b64(line, &in)) < 0) {
                printf("ERR 0x%08x bad input token\n", (unsigned)SEC_E_INVALID_TOKEN);
                free(in);
                break;
            }
            step.in_token = slice_make(in, (size_t)in_len);
        }
        step.req_flags = ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_CONNECTION;
        st = is_client ? ntlm_package.init_ctx(cred, &ctx, &step)
                       : ntlm_package.accept_ctx(cred, &ctx, &step);
        free(in);
        if (step.out_token.len > 0 && st >= 0)
            put_b64("TOKEN", step.out_token.data, step.out_token.len);
        if (st == SEC_E_OK) {
            struct ntlm_ctx *c = ctx;
            printf("OK %s\n", c->client_name);
            fflush(stdout);
            rc = 0;
        } else if (st != SEC_I_CONTINUE_NEEDED) {
            fail(st, &step);
        }
        buf_free(&step.out_token);
        buf_free(&step.error_text);
        if (st != SEC_I_CONTINUE_NEEDED)
            break;
    }
    if (rc == 0)
        serve_commands(ctx);
    ntlm_package.delete_ctx(ctx);
    ntlm_package.free_cred(cred);
    buf_free(&bindings);
    return rc;
}
