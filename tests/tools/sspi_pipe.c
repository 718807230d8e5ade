// SPDX-License-Identifier: MIT
// sspi_pipe: one side of an NTLM, Kerberos or Negotiate handshake through our
// package tables, exchanging base64 tokens line by line on stdin/stdout, so
// that the Python tests can put real peers (MIT GSSAPI and gss-ntlmssp through
// python3-gssapi, python3-ntlm-auth, curl) or another sspi_pipe on the other
// side (tests/harness/krbpipe.py drives it).
//
//   sspi_pipe init   --package NTLM|Kerberos|Negotiate [--target SPN] [--flags F,...]
//                    [--user U --password P [--domain D]] [--cb HEX]
//   sspi_pipe accept --package NTLM|Kerberos|Negotiate [--keytab FILE] [--principal SPN]
//                    [--user-store FILE | --users FILE] [--domain NB] [--cb HEX]
//                    [--store-delegated PATH]
//
// Output per leg: "TOKEN <b64>" when there is a token to send, then "CONTINUE"
// (a reply is expected), or "OK <attrs hex> <client> <server> <package>
// <session key bytes>" or "ERR 0x<status> <reason>". Input: one base64 token
// per line. After OK: "SIGN <b64>" -> "DATA <b64 mic>"; "VERIFY <b64 data> <b64
// mic>" -> "OK" | "ERR ..."; "WRAP <b64>" -> "DATA <b64 header||data>" (the GSS
// wrap token); "UNWRAP <b64 header||data> [header len]" -> "DATA <b64>" (the
// header length defaults to the package's security trailer, 16 for NTLM);
// "REIMPORT x" -> "OK <client> <bytes>": the context is exported, imported
// into a new one and replaced by it (packed contexts).
// Flags: mutual, delegate, replay, sequence, conf, integ, connection; the
// default is "conf,integ,connection" for NTLM and none for the others.
// Acceptor users: --user-store names a `gatehouse passwd` store; --users names
// a gss-ntlmssp NTLM_USER_FILE (DOMAIN:user:password lines), converted into a
// temporary store for the run. --domain is the initiator's domain, or the
// acceptor's NetBIOS domain (default GATEHOUSE).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "sspi/kerberos/kerberos.h"
#include "sspi/negotiate/negotiate.h"
#include "sspi/ntlm/ntlm.h"
#include "sspi/package.h"
#include "sspi/store/userstore.h"

#define LINE_MAX_BYTES 200000

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
    (void)buf_append(&b, &hdr, sizeof(hdr));
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            exit(2);
        uint8_t byte = (uint8_t)v;
        (void)buf_append(&b, &byte, 1);
    }
    return b;
}

static unsigned long
parse_flags(const char *s, bool is_acceptor)
{
    unsigned long f = 0;
    char *copy = strdup(s), *save = NULL;

    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "mutual") == 0)
            f |= ISC_REQ_MUTUAL_AUTH;
        else if (strcmp(t, "delegate") == 0)
            f |= ISC_REQ_DELEGATE;
        else if (strcmp(t, "replay") == 0)
            f |= ISC_REQ_REPLAY_DETECT;
        else if (strcmp(t, "sequence") == 0)
            f |= ISC_REQ_SEQUENCE_DETECT;
        else if (strcmp(t, "conf") == 0)
            f |= ISC_REQ_CONFIDENTIALITY;
        else if (strcmp(t, "integ") == 0)
            f |= is_acceptor ? ASC_REQ_INTEGRITY : ISC_REQ_INTEGRITY;
        else if (strcmp(t, "connection") == 0)
            f |= is_acceptor ? ASC_REQ_CONNECTION : ISC_REQ_CONNECTION;
        else if (strcmp(t, "allow-missing-bindings") == 0 && is_acceptor)
            f |= ASC_REQ_ALLOW_MISSING_BINDINGS;
    }
    free(copy);
    return f;
}

static int
fail(SECURITY_STATUS st, const struct buf *text)
{
    printf("ERR 0x%08x %.*s\n", (unsigned)st, (int)text->len,
           text->data != NULL ? (const char *)text->data : "");
    fflush(stdout);
    return 1;
}

static void
serve_commands(const struct sspi_package *pkg, void **ctx_io)
{
    void *ctx = *ctx_io;
    char *line;

    while ((line = read_line()) != NULL) {
        char *arg = strchr(line, ' ');
        uint8_t *data = NULL, *sig = NULL;
        SECURITY_STATUS st;
        if (arg == NULL)
            break;
        *arg++ = '\0';
        char *arg2 = strchr(arg, ' ');
        if (arg2 != NULL)
            *arg2++ = '\0';
        long len = get_b64(arg, &data);
        if (len < 0)
            break;
        if (strcmp(line, "REIMPORT") == 0) {
            /* Export the context, import it into a new one, carry on with
             * that: "OK <client name> <packed bytes>" or "ERR 0x<status>". */
            struct buf packed;
            void *fresh = NULL;
            SecPkgContext_NamesA names = {0};
            buf_init(&packed, 1 << 20);
            st = pkg->export_ctx != NULL ? pkg->export_ctx(ctx, &packed)
                                         : SEC_E_UNSUPPORTED_FUNCTION;
            if (st == SEC_E_OK)
                st = pkg->import_ctx(buf_slice(&packed), &fresh);
            if (st == SEC_E_OK) {
                pkg->delete_ctx(ctx);
                ctx = fresh;
                *ctx_io = ctx;
                st = pkg->query_ctx(ctx, SECPKG_ATTR_NAMES, &names);
            }
            if (st == SEC_E_OK)
                printf("OK %s %zu\n", names.sUserName, packed.len);
            else
                printf("ERR 0x%08x\n", (unsigned)st);
            fflush(stdout);
            FreeContextBuffer(names.sUserName);
            buf_free_wipe(&packed);
        } else if (strcmp(line, "SIGN") == 0) {
            uint8_t mic[256];
            SecBuffer b[2] = {{(unsigned long)len, SECBUFFER_DATA, data},
                              {sizeof(mic), SECBUFFER_TOKEN, mic}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
            st = pkg->make_signature(ctx, 0, &d, 0);
            if (st == SEC_E_OK)
                put_b64("DATA", mic, b[1].cbBuffer);
            else
                printf("ERR 0x%08x\n", (unsigned)st);
        } else if (strcmp(line, "VERIFY") == 0 && arg2 != NULL) {
            long sl = get_b64(arg2, &sig);
            SecBuffer b[2] = {{(unsigned long)len, SECBUFFER_DATA, data},
                              {(unsigned long)(sl < 0 ? 0 : sl), SECBUFFER_TOKEN, sig}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
            st = pkg->verify_signature(ctx, &d, 0, NULL);
            if (st == SEC_E_OK)
                printf("OK\n");
            else
                printf("ERR 0x%08x\n", (unsigned)st);
        } else if (strcmp(line, "WRAP") == 0) {
            SecPkgContext_Sizes sz;
            st = pkg->query_ctx(ctx, SECPKG_ATTR_SIZES, &sz);
            uint8_t *out = malloc(sz.cbSecurityTrailer + (size_t)len + 1);
            memcpy(out + sz.cbSecurityTrailer, data, (size_t)len);
            SecBuffer b[2] = {{sz.cbSecurityTrailer, SECBUFFER_TOKEN, out},
                              {(unsigned long)len, SECBUFFER_DATA, out + sz.cbSecurityTrailer}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
            if (st == SEC_E_OK)
                st = pkg->encrypt(ctx, 0, &d, 0);
            if (st == SEC_E_OK) {
                /* the header may be shorter than the maximum: close the gap */
                memmove(out + b[0].cbBuffer, out + sz.cbSecurityTrailer, (size_t)len);
                put_b64("DATA", out, b[0].cbBuffer + (size_t)len);
            } else {
                printf("ERR 0x%08x\n", (unsigned)st);
            }
            free(out);
        } else if (strcmp(line, "UNWRAP") == 0) {
            SecPkgContext_Sizes sz = {0};
            long hl = arg2 != NULL ? strtol(arg2, NULL, 10)
                      : pkg->query_ctx(ctx, SECPKG_ATTR_SIZES, &sz) == SEC_E_OK
                          ? (long)sz.cbSecurityTrailer
                          : 0;
            if (hl < 0 || hl > len)
                hl = len;
            SecBuffer b[2] = {{(unsigned long)hl, SECBUFFER_TOKEN, data},
                              {(unsigned long)(len - hl), SECBUFFER_DATA, data + hl}};
            SecBufferDesc d = {SECBUFFER_VERSION, 2, b};
            st = pkg->decrypt(ctx, &d, 0, NULL);
            if (st == SEC_E_OK)
                put_b64("DATA", data + hl, (size_t)(len - hl));
            else
                printf("ERR 0x%08x\n", (unsigned)st);
        }
        fflush(stdout);
        free(data);
        free(sig);
    }
}

static void
report_ok(const struct sspi_package *pkg, void *ctx, unsigned long attrs)
{
    SecPkgContext_NativeNamesA nn = {0};
    SecPkgContext_SessionKey key = {0};
    SecPkgContext_NegotiationInfoA ni = {0};
    const char *pkg_name = pkg->name;

    (void)pkg->query_ctx(ctx, SECPKG_ATTR_NATIVE_NAMES, &nn);
    (void)pkg->query_ctx(ctx, SECPKG_ATTR_SESSION_KEY, &key);
    if (pkg->query_ctx(ctx, SECPKG_ATTR_NEGOTIATION_INFO, &ni) == SEC_E_OK && ni.PackageInfo)
        pkg_name = ni.PackageInfo->Name;
    printf("OK %08lx %s %s %s %lu\n", attrs, nn.sClientName ? nn.sClientName : "-",
           nn.sServerName ? nn.sServerName : "-", pkg_name, key.SessionKeyLength);
    fflush(stdout);
    FreeContextBuffer(nn.sClientName);
    FreeContextBuffer(nn.sServerName);
    FreeContextBuffer(key.SessionKey);
    FreeContextBuffer(ni.PackageInfo);
}

/* Converts a DOMAIN:user:password file into a user store in a new temporary
 * directory; returns the store's path (static) or NULL. */
static char store_dir[64];
static char store_path[128];

static const char *
users_to_store(const char *users)
{
    char line[1024], err[256];
    FILE *f = fopen(users, "r");

    if (f == NULL)
        return NULL;
    snprintf(store_dir, sizeof(store_dir), "/tmp/gh-sspi-pipe.XXXXXX");
    if (mkdtemp(store_dir) == NULL) {
        fclose(f);
        return NULL;
    }
    snprintf(store_path, sizeof(store_path), "%s/users", store_dir);
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        struct userstore_user u = {.name = c1 + 1,
                                   .password = c2 + 1,
                                   .password_len = strlen(c2 + 1),
                                   .iterations = USERSTORE_MIN_ITERATIONS};
        if (userstore_file_put(store_path, &u, err, sizeof(err)) != GH_OK) {
            fprintf(stderr, "sspi_pipe: %s\n", err);
            fclose(f);
            return NULL;
        }
    }
    fclose(f);
    return store_path;
}

static void
remove_store(void)
{
    char lock[160];

    if (store_dir[0] == '\0')
        return;
    snprintf(lock, sizeof(lock), "%s.lock", store_path);
    (void)unlink(store_path);
    (void)unlink(lock);
    (void)rmdir(store_dir);
}

int
main(int argc, char **argv)
{
    const char *package = "Kerberos", *target = NULL, *user = NULL, *password = NULL;
    const char *keytab = NULL, *principal = NULL, *cb_hex = NULL, *store = NULL;
    const char *flags = NULL, *domain = NULL, *user_store = NULL, *users = NULL;
    struct sspi_acquire args = {0};
    GH_ACCEPTOR_AUTH_DATA acc = {.Version = GH_ACCEPTOR_AUTH_DATA_V1};
    void *cred = NULL, *ctx = NULL;
    struct buf cb = {0}, text;
    int rc = 1;

    if (argc < 2)
        return 2;
    bool is_acceptor = strcmp(argv[1], "accept") == 0 || strcmp(argv[1], "server") == 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--package") == 0)
            package = v;
        else if (strcmp(k, "--target") == 0)
            target = v;
        else if (strcmp(k, "--flags") == 0)
            flags = v;
        else if (strcmp(k, "--user") == 0)
            user = v;
        else if (strcmp(k, "--password") == 0)
            password = v;
        else if (strcmp(k, "--keytab") == 0)
            keytab = v;
        else if (strcmp(k, "--principal") == 0)
            principal = v;
        else if (strcmp(k, "--cb") == 0)
            cb_hex = v;
        else if (strcmp(k, "--store-delegated") == 0)
            store = v;
        else if (strcmp(k, "--domain") == 0)
            domain = v;
        else if (strcmp(k, "--user-store") == 0)
            user_store = v;
        else if (strcmp(k, "--users") == 0)
            users = v;
        else
            return 2;
    }
    const struct sspi_package *pkg = strcasecmp(package, "Negotiate") == 0 ? &negotiate_package
                                     : strcasecmp(package, "NTLM") == 0    ? &ntlm_package
                                                                           : &kerberos_package;
    if (flags == NULL)
        flags = pkg == &ntlm_package ? "conf,integ,connection" : "";
    buf_init(&text, 4096);
    if (users != NULL) {
        user_store = users_to_store(users);
        if (user_store == NULL) {
            printf("ERR 0x%08x cannot convert %s\n", (unsigned)SEC_E_INTERNAL_ERROR, users);
            goto cleanup;
        }
    }
    args.principal = principal;
    args.use = is_acceptor ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND;
    if (user != NULL) {
        args.has_identity = true;
        args.user = user;
        args.domain = domain;
        if (password != NULL)
            (void)secret_set(&args.password, password, strlen(password));
    }
    if (is_acceptor) {
        acc.Keytab = keytab;
        acc.UserStore = user_store;
        acc.NbDomainName = domain != NULL ? domain : "GATEHOUSE";
        args.acceptor = &acc;
    }
    if (cb_hex != NULL)
        cb = bindings_from_hex(cb_hex);
    SECURITY_STATUS st = pkg->acquire_cred(&args, &cred);
    secret_free(&args.password);
    if (st != SEC_E_OK) {
        rc = fail(st, &text);
        goto cleanup;
    }
    uint8_t *in = NULL;
    long in_len = 0;
    if (is_acceptor) {
        char *line = read_line();
        if (line == NULL || (in_len = get_b64(line, &in)) < 0)
            goto cleanup;
    }
    for (int legs = 0; legs < 10; legs++) {
        struct sspi_step step = {0};
        step.target = target;
        step.req_flags = parse_flags(flags, is_acceptor);
        step.in_token = slice_make(in, in == NULL ? 0 : (size_t)in_len);
        step.bindings = buf_slice(&cb);
        buf_init(&step.out_token, 200000);
        step.error_text = text;
        st = is_acceptor ? pkg->accept_ctx(cred, &ctx, &step) : pkg->init_ctx(cred, &ctx, &step);
        text = step.error_text;
        free(in);
        in = NULL;
        if (step.out_token.len > 0)
            put_b64("TOKEN", step.out_token.data, step.out_token.len);
        buf_free(&step.out_token);
        if (st == SEC_E_OK) {
            if (store != NULL) {
                void *kctx = ctx;
                const struct sspi_package *inner = pkg;
                if (pkg == &negotiate_package)
                    (void)negotiate_ctx_inner(ctx, &inner, &kctx);
                st = kerberos_ctx_store_delegated(kctx, store, false, &text);
                if (st != SEC_E_OK) {
                    rc = fail(st, &text);
                    goto cleanup;
                }
            }
            report_ok(pkg, ctx, step.attrs_out);
            serve_commands(pkg, &ctx);
            rc = 0;
            goto cleanup;
        }
        if (st != SEC_I_CONTINUE_NEEDED) {
            rc = fail(st, &text);
            goto cleanup;
        }
        printf("CONTINUE\n");
        fflush(stdout);
        char *line = read_line();
        if (line == NULL || (in_len = get_b64(line, &in)) < 0)
            goto cleanup;
    }
cleanup:
    if (ctx != NULL)
        pkg->delete_ctx(ctx);
    if (cred != NULL)
        pkg->free_cred(cred);
    buf_free(&cb);
    buf_free(&text);
    remove_store();
    return rc;
}
