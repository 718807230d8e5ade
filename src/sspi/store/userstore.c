// SPDX-License-Identifier: MIT
// The built-in user store (format and security notes: docs/userstore.md).
//
// One line per user, five fields separated by ':':
//   name : basic : nt : groups : digests
//   name     percent-encoded UTF-8
//   basic    "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>" or empty
//   nt       32 hex digits (MD4 of the UTF-16LE password) or empty
//   groups   percent-encoded names separated by ',' or empty
//   digests  "md5/<realm>/<32 hex>" or "sha256/<realm>/<64 hex>" items separated by ','
// Lines starting with '#' and blank lines are comments. The parser is strict
// (every malformed line is an error naming its number) and bounded; it never
// derives a hash, so parsing costs no more than reading.
#include "sspi/store/userstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <gatehouse/error.h>

#include "base/arena.h"
#include "base/hex.h"
#include "base/secret.h"
#include "sspi/md4.h"
#include "sspi/wide.h"

#define STORE_MAX_FILE_BYTES (16u << 20)
#define STORE_MAX_LINE_BYTES (64u << 10)
#define STORE_MAX_USERS      100000u
#define STORE_MAX_NAME_BYTES 256u
#define STORE_MAX_GROUPS     256u
#define STORE_MAX_DIGESTS    64u
#define STORE_SALT_BYTES     16u
#define STORE_MAX_SALT_BYTES 64u
#define STORE_HASH_BYTES     32u
#define STORE_MAX_PASSWORD   1024u
#define BASIC_PREFIX         "pbkdf2-sha256$"

enum digest_alg {
    DIGEST_MD5 = 0,
    DIGEST_SHA256 = 1,
};

struct digest_entry {
    enum digest_alg alg;
    const char *realm; /* arena */
    char hex[65];
};

struct user_entry {
    const char *name; /* arena */
    size_t line;
    bool has_basic;
    bool has_nt;
    uint32_t iterations;
    size_t salt_len;
    uint8_t salt[STORE_MAX_SALT_BYTES];
    uint8_t hash[STORE_HASH_BYTES];
    uint8_t nt[16];
    const char **groups; /* arena */
    size_t group_count;
    struct digest_entry *digests; /* arena */
    size_t digest_count;
};

struct userstore {
    struct arena *arena;
    struct user_entry *users; /* sorted by name, ASCII case-insensitively */
    size_t count;
};

/* ---- Small helpers -------------------------------------------------------- */
static int
ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int
name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = ascii_lower((unsigned char)*a), cb = ascii_lower((unsigned char)*b);

        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

static bool
is_lower_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

static bool
must_encode(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '%' || c == ':' || c == ',' || c == '/' || c == '$' ||
           c == '#';
}

static int
pct_encode(struct buf *out, const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    int err = GH_OK;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && err == GH_OK; p++) {
        if (must_encode(*p)) {
            char e[3] = {'%', digits[*p >> 4], digits[*p & 15]};

            err = buf_append(out, e, 3);
        } else {
            err = buf_append(out, p, 1);
        }
    }
    return err;
}

/* Decodes a percent-encoded field into the arena; NULL when malformed, too
 * long, or not UTF-8 without NUL. */
static const char *
pct_decode(struct arena *a, const char *s, size_t len, size_t max_bytes, bool allow_empty)
{
    char *out;
    size_t n = 0;

    if ((len == 0 && !allow_empty) || len > max_bytes * 3)
        return NULL;
    out = arena_alloc(a, len + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= len)
                return NULL;
            hi = hex_digit_value((uint8_t)s[i + 1]);
            lo = hex_digit_value((uint8_t)s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            out[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (must_encode(c)) {
            return NULL;
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    if (n > max_bytes || (n == 0 && !allow_empty) || !wide_utf8_valid(out, n))
        return NULL;
    return out;
}

/* ---- Parsing ---------------------------------------------------------------- */
struct parse {
    struct userstore *store;
    size_t cap;
    const char *name; /* for messages */
    char *err;
    size_t err_len;
};

static int __attribute__((format(printf, 4, 5)))
fail(struct parse *p, size_t line, int status, const char *fmt, ...)
{
    char reason[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (p->err != NULL && p->err_len > 0) {
        if (line > 0)
            snprintf(p->err, p->err_len, "%s:%zu: %s", p->name, line, reason);
        else
            snprintf(p->err, p->err_len, "%s: %s", p->name, reason);
    }
    return status;
}

/* Splits [s, end) at the first sep; *next is after it (or end). */
static size_t
field_len(const char *s, const char *end, char sep)
{
    const char *q = memchr(s, sep, (size_t)(end - s));

    return q != NULL ? (size_t)(q - s) : (size_t)(end - s);
}

static bool
parse_basic(struct user_entry *u, const char *s, size_t len)
{
    const char *end = s + len, *p;
    size_t n;
    uint64_t iter = 0;

    if (len == 0)
        return true;
    if (len < sizeof(BASIC_PREFIX) - 1 || memcmp(s, BASIC_PREFIX, sizeof(BASIC_PREFIX) - 1) != 0)
        return false;
    p = s + sizeof(BASIC_PREFIX) - 1;
    n = field_len(p, end, '$');
    if (n == 0 || n > 9 || p + n == end)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        iter = iter * 10 + (uint64_t)(p[i] - '0');
    }
    if (iter < USERSTORE_MIN_ITERATIONS || iter > USERSTORE_MAX_ITERATIONS)
        return false;
    p += n + 1;
    n = field_len(p, end, '$');
    if (p + n == end || n % 2 != 0 || n / 2 < STORE_SALT_BYTES || n / 2 > STORE_MAX_SALT_BYTES ||
        !hex_decode(p, n, u->salt, n / 2))
        return false;
    u->salt_len = n / 2;
    p += n + 1;
    if (!hex_decode(p, (size_t)(end - p), u->hash, STORE_HASH_BYTES))
        return false;
    u->iterations = (uint32_t)iter;
    u->has_basic = true;
    return true;
}

static int
parse_groups(struct parse *p, struct user_entry *u, const char *s, size_t len, size_t line)
{
    const char *end = s + len;
    size_t count = 1;

    if (len == 0)
        return GH_OK;
    for (size_t i = 0; i < len; i++)
        count += s[i] == ',';
    if (count > STORE_MAX_GROUPS)
        return fail(p, line, GH_ELIMIT, "more than %u groups", STORE_MAX_GROUPS);
    u->groups = arena_alloc(p->store->arena, count * sizeof(*u->groups));
    if (u->groups == NULL)
        return fail(p, line, GH_ENOMEM, "out of memory");
    while (s <= end) {
        size_t n = field_len(s, end, ',');
        const char *g = pct_decode(p->store->arena, s, n, STORE_MAX_NAME_BYTES, false);

        if (g == NULL)
            return fail(p, line, GH_EPROTO, "malformed group name");
        u->groups[u->group_count++] = g;
        s += n + 1;
    }
    return GH_OK;
}

static int
parse_digests(struct parse *p, struct user_entry *u, const char *s, size_t len, size_t line)
{
    const char *end = s + len;
    size_t count = 1;

    if (len == 0)
        return GH_OK;
    for (size_t i = 0; i < len; i++)
        count += s[i] == ',';
    if (count > STORE_MAX_DIGESTS)
        return fail(p, line, GH_ELIMIT, "more than %u digest entries", STORE_MAX_DIGESTS);
    u->digests = arena_alloc(p->store->arena, count * sizeof(*u->digests));
    if (u->digests == NULL)
        return fail(p, line, GH_ENOMEM, "out of memory");
    while (s <= end) {
        size_t n = field_len(s, end, ','), alg_len, realm_len, hex_len;
        const char *item_end = s + n, *realm, *hex;
        struct digest_entry *d = &u->digests[u->digest_count];

        alg_len = field_len(s, item_end, '/');
        if (alg_len == 3 && memcmp(s, "md5", 3) == 0)
            d->alg = DIGEST_MD5;
        else if (alg_len == 6 && memcmp(s, "sha256", 6) == 0)
            d->alg = DIGEST_SHA256;
        else
            return fail(p, line, GH_EPROTO, "unknown digest algorithm (md5 or sha256)");
        if (s + alg_len == item_end)
            return fail(p, line, GH_EPROTO, "malformed digest entry");
        realm = s + alg_len + 1;
        realm_len = field_len(realm, item_end, '/');
        if (realm + realm_len == item_end)
            return fail(p, line, GH_EPROTO, "malformed digest entry");
        hex = realm + realm_len + 1;
        hex_len = (size_t)(item_end - hex);
        if (hex_len != (d->alg == DIGEST_MD5 ? 32u : 64u) || !is_lower_hex(hex, hex_len))
            return fail(p, line, GH_EPROTO, "malformed digest hash");
        d->realm = pct_decode(p->store->arena, realm, realm_len, STORE_MAX_NAME_BYTES, true);
        if (d->realm == NULL)
            return fail(p, line, GH_EPROTO, "malformed digest realm");
        memcpy(d->hex, hex, hex_len);
        d->hex[hex_len] = '\0';
        for (size_t k = 0; k < u->digest_count; k++) {
            if (u->digests[k].alg == d->alg && strcmp(u->digests[k].realm, d->realm) == 0)
                return fail(p, line, GH_EPROTO, "duplicate digest entry for realm");
        }
        u->digest_count++;
        s += n + 1;
    }
    return GH_OK;
}

static int
parse_line(struct parse *p, const char *s, size_t len, size_t line)
{
    const char *end = s + len, *f[5];
    size_t flen[5];
    struct user_entry u = {.line = line};
    int err;

    for (int i = 0; i < 5; i++) {
        f[i] = s;
        flen[i] = field_len(s, end, ':');
        if (i < 4 && s + flen[i] == end)
            return fail(p, line, GH_EPROTO, "expected 5 fields separated by ':'");
        s += flen[i] + 1;
    }
    if (f[4] + flen[4] != end)
        return fail(p, line, GH_EPROTO, "expected 5 fields separated by ':'");
    u.name = pct_decode(p->store->arena, f[0], flen[0], STORE_MAX_NAME_BYTES, false);
    if (u.name == NULL)
        return fail(p, line, GH_EPROTO, "malformed user name");
    if (!parse_basic(&u, f[1], flen[1]))
        return fail(p, line, GH_EPROTO, "malformed password hash (pbkdf2-sha256$iter$salt$hash)");
    if (flen[2] > 0) {
        if (!hex_decode(f[2], flen[2], u.nt, sizeof(u.nt)))
            return fail(p, line, GH_EPROTO, "malformed NT hash (32 hex digits)");
        u.has_nt = true;
    }
    err = parse_groups(p, &u, f[3], flen[3], line);
    if (err == GH_OK)
        err = parse_digests(p, &u, f[4], flen[4], line);
    if (err != GH_OK)
        return err;
    if (p->store->count == p->cap) {
        size_t cap = p->cap == 0 ? 16 : p->cap * 2;
        struct user_entry *users;

        if (p->store->count >= STORE_MAX_USERS)
            return fail(p, line, GH_ELIMIT, "more than %u users", STORE_MAX_USERS);
        users = realloc(p->store->users, cap * sizeof(*users));
        if (users == NULL)
            return fail(p, line, GH_ENOMEM, "out of memory");
        p->store->users = users;
        p->cap = cap;
    }
    p->store->users[p->store->count++] = u;
    secret_wipe(&u, sizeof(u));
    return GH_OK;
}

static int
entry_cmp(const void *a, const void *b)
{
    const struct user_entry *ua = a, *ub = b;
    int c = name_cmp(ua->name, ub->name);

    if (c != 0)
        return c;
    return ua->line < ub->line ? -1 : ua->line > ub->line;
}

int
userstore_parse(const char *data, size_t len, const char *name, struct userstore **store_out,
                char *err, size_t err_len)
{
    struct parse p = {.name = name != NULL ? name : "(store)", .err = err, .err_len = err_len};
    const char *s = data, *end = data + len;
    size_t line = 0;
    int status = GH_OK;

    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (len > STORE_MAX_FILE_BYTES)
        return fail(&p, 0, GH_ELIMIT, "larger than %u bytes", STORE_MAX_FILE_BYTES);
    p.store = calloc(1, sizeof(*p.store));
    if (p.store == NULL)
        return fail(&p, 0, GH_ENOMEM, "out of memory");
    if (arena_create(16384, &p.store->arena) != GH_OK) {
        status = fail(&p, 0, GH_ENOMEM, "out of memory");
        goto cleanup;
    }
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t raw = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s), n = raw;
        size_t blank = 0;

        line++;
        if (n > 0 && s[n - 1] == '\r')
            n--; /* CRLF files edited on Windows */
        if (n > STORE_MAX_LINE_BYTES) {
            status = fail(&p, line, GH_ELIMIT, "line longer than %u bytes", STORE_MAX_LINE_BYTES);
            goto cleanup;
        }
        while (blank < n && (s[blank] == ' ' || s[blank] == '\t'))
            blank++;
        if (blank < n && s[0] != '#') {
            status = parse_line(&p, s, n, line);
            if (status != GH_OK)
                goto cleanup;
        }
        s += raw + (nl != NULL ? 1 : 0);
    }
    if (p.store->count > 1)
        qsort(p.store->users, p.store->count, sizeof(*p.store->users), entry_cmp);
    for (size_t i = 1; i < p.store->count; i++) {
        if (name_cmp(p.store->users[i - 1].name, p.store->users[i].name) == 0) {
            status = fail(&p, p.store->users[i].line, GH_EPROTO,
                          "duplicate user \"%s\" (first on line %zu)", p.store->users[i].name,
                          p.store->users[i - 1].line);
            goto cleanup;
        }
    }
    *store_out = p.store;
    p.store = NULL;
cleanup:
    userstore_destroy(p.store);
    return status;
}

void
userstore_destroy(struct userstore *store)
{
    if (store == NULL)
        return;
    for (size_t i = 0; i < store->count; i++) {
        struct user_entry *u = &store->users[i];

        for (size_t k = 0; k < u->digest_count; k++)
            secret_wipe(u->digests[k].hex, sizeof(u->digests[k].hex));
    }
    if (store->users != NULL)
        secret_wipe(store->users, store->count * sizeof(*store->users));
    free(store->users);
    arena_destroy(store->arena);
    free(store);
}

/* Reads a whole store file after checking it is a private regular file. */
static int
read_private_file(const char *path, char **data_out, size_t *len_out, bool missing_ok, char *err,
                  size_t err_len)
{
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), status = GH_OK;

    if (fd < 0) {
        if (errno == ENOENT && missing_ok) {
            *data_out = NULL;
            *len_out = 0;
            return GH_OK;
        }
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return GH_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        status = GH_EIO;
        goto cleanup;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, err_len,
                 "%s: accessible by group or others (mode %03o); it holds password "
                 "equivalents: chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        status = GH_EDENIED;
        goto cleanup;
    }
    if ((uint64_t)st.st_size > STORE_MAX_FILE_BYTES) {
        snprintf(err, err_len, "%s: larger than %u bytes", path, STORE_MAX_FILE_BYTES);
        status = GH_ELIMIT;
        goto cleanup;
    }
    data = malloc((size_t)st.st_size + 1);
    if (data == NULL) {
        status = GH_ENOMEM;
        goto cleanup;
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, data + len, (size_t)st.st_size - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the file shrank: parse what is there */
        len += (size_t)n;
    }
    data[len] = '\0'; /* lets the rewriter use string functions safely */
    *data_out = data;
    *len_out = len;
    data = NULL;
cleanup:
    free(data);
    close(fd);
    return status;
}

int
userstore_open(const char *path, struct userstore **store_out, char *err, size_t err_len)
{
    char *data = NULL;
    size_t len = 0;
    int status;

    if (err != NULL && err_len > 0)
        err[0] = '\0';
    status = read_private_file(path, &data, &len, false, err, err_len);
    if (status != GH_OK)
        return status;
    status = userstore_parse(data, len, path, store_out, err, err_len);
    if (data != NULL) {
        secret_wipe(data, len);
        free(data);
    }
    return status;
}

/* ---- Lookups ------------------------------------------------------------------ */
static const struct user_entry *
find(const struct userstore *store, const char *user)
{
    size_t lo = 0, hi;

    if (store == NULL || user == NULL)
        return NULL;
    hi = store->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(user, store->users[mid].name);

        if (c == 0)
            return &store->users[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int
userstore_nt_hash(const struct userstore *store, const char *user, uint8_t hash_out[16])
{
    const struct user_entry *u = find(store, user);

    if (u == NULL || !u->has_nt)
        return GH_ENOTFOUND;
    memcpy(hash_out, u->nt, 16);
    return GH_OK;
}

static int
pbkdf2(const char *password, size_t password_len, const uint8_t *salt, size_t salt_len,
       uint32_t iterations, uint8_t out[STORE_HASH_BYTES])
{
    if (password_len > STORE_MAX_PASSWORD)
        return GH_EINVAL;
    if (PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, (int)iterations,
                          EVP_sha256(), STORE_HASH_BYTES, out) != 1)
        return GH_ENOMEM;
    return GH_OK;
}

int
userstore_verify_password(const struct userstore *store, const char *user, const char *password,
                          size_t password_len)
{
    static const uint8_t dummy_salt[STORE_SALT_BYTES];
    const struct user_entry *u = find(store, user);
    uint8_t derived[STORE_HASH_BYTES];
    int err;

    if (u == NULL || !u->has_basic) {
        /* Same work for an unknown user, so timing does not tell who exists. */
        pbkdf2(password, password_len > STORE_MAX_PASSWORD ? 0 : password_len, dummy_salt,
               sizeof(dummy_salt), USERSTORE_DEFAULT_ITERATIONS, derived);
        secret_wipe(derived, sizeof(derived));
        return GH_ENOTFOUND;
    }
    err = pbkdf2(password, password_len, u->salt, u->salt_len, u->iterations, derived);
    if (err == GH_EINVAL)
        return GH_EAUTH;
    if (err != GH_OK)
        return err;
    err = CRYPTO_memcmp(derived, u->hash, sizeof(derived)) == 0 ? GH_OK : GH_EAUTH;
    secret_wipe(derived, sizeof(derived));
    return err;
}

static int
parse_algorithm(const char *algorithm, enum digest_alg *alg_out)
{
    if (algorithm == NULL)
        return GH_EINVAL;
    if (name_cmp(algorithm, "MD5") == 0 || name_cmp(algorithm, "MD5-sess") == 0)
        *alg_out = DIGEST_MD5;
    else if (name_cmp(algorithm, "SHA-256") == 0 || name_cmp(algorithm, "SHA-256-sess") == 0)
        *alg_out = DIGEST_SHA256;
    else
        return GH_EINVAL;
    return GH_OK;
}

int
userstore_digest_ha1(const struct userstore *store, const char *user, const char *realm,
                     const char *algorithm, char hex_out[65])
{
    const struct user_entry *u = find(store, user);
    enum digest_alg alg;

    if (u == NULL || realm == NULL || parse_algorithm(algorithm, &alg) != GH_OK)
        return GH_ENOTFOUND;
    for (size_t i = 0; i < u->digest_count; i++) {
        if (u->digests[i].alg == alg && strcmp(u->digests[i].realm, realm) == 0) {
            memcpy(hex_out, u->digests[i].hex, sizeof(u->digests[i].hex));
            return GH_OK;
        }
    }
    return GH_ENOTFOUND;
}

int
userstore_groups(const struct userstore *store, const char *user, const char *const **groups_out,
                 size_t *count_out)
{
    const struct user_entry *u = find(store, user);

    if (u == NULL)
        return GH_ENOTFOUND;
    *groups_out = (const char *const *)u->groups;
    *count_out = u->group_count;
    return GH_OK;
}

const char *
userstore_canonical_name(const struct userstore *store, const char *user)
{
    const struct user_entry *u = find(store, user);

    return u != NULL ? u->name : NULL;
}

size_t
userstore_count(const struct userstore *store)
{
    return store != NULL ? store->count : 0;
}

const char *
userstore_name_at(const struct userstore *store, size_t index)
{
    if (store == NULL || index >= store->count)
        return NULL;
    return store->users[index].name;
}

int
userstore_describe(const struct userstore *store, size_t index, struct buf *out)
{
    const struct user_entry *u;
    int err;

    if (store == NULL || index >= store->count)
        return GH_ENOTFOUND;
    u = &store->users[index];
    err =
        buf_printf(out, "%s:%s%s", u->name, u->has_basic ? " basic" : "", u->has_nt ? " ntlm" : "");
    for (size_t i = 0; i < u->group_count && err == GH_OK; i++)
        err = buf_printf(out, "%s%s", i == 0 ? " groups=" : ",", u->groups[i]);
    for (size_t i = 0; i < u->digest_count && err == GH_OK; i++)
        err = buf_printf(out, "%s%s@%s", i == 0 ? " digest=" : ",",
                         u->digests[i].alg == DIGEST_MD5 ? "MD5" : "SHA-256", u->digests[i].realm);
    return err;
}

/* ---- Writing -------------------------------------------------------------------- */
static bool
valid_text(const char *s, size_t min_len)
{
    size_t len;

    if (s == NULL)
        return false;
    len = strnlen(s, STORE_MAX_NAME_BYTES + 1);
    return len >= min_len && len <= STORE_MAX_NAME_BYTES && wide_utf8_valid(s, len);
}

static int
ha1_hex(const EVP_MD *md, const char *user, const char *realm, const char *password,
        size_t password_len, char *hex_out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    int ok;

    if (ctx == NULL)
        return GH_ENOMEM;
    /* RFC 7616 3.4.2: A1 = unq(username) ":" unq(realm) ":" passwd */
    ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, user, strlen(user)) == 1 &&
         EVP_DigestUpdate(ctx, ":", 1) == 1 && EVP_DigestUpdate(ctx, realm, strlen(realm)) == 1 &&
         EVP_DigestUpdate(ctx, ":", 1) == 1 && EVP_DigestUpdate(ctx, password, password_len) == 1 &&
         EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return GH_ENOMEM;
    hex_encode(digest, digest_len, hex_out);
    secret_wipe(digest, sizeof(digest));
    return GH_OK;
}

int
userstore_format_line(const struct userstore_user *user, struct buf *out)
{
    unsigned iterations = user->iterations != 0 ? user->iterations : USERSTORE_DEFAULT_ITERATIONS;
    uint8_t salt[STORE_SALT_BYTES], hash[STORE_HASH_BYTES], nt[16];
    char salt_hex[2 * STORE_SALT_BYTES + 1], hash_hex[2 * STORE_HASH_BYTES + 1], nt_hex[33];
    char ha1[2 * EVP_MAX_MD_SIZE + 1];
    struct buf utf16;
    int err;

    if (!valid_text(user->name, 1) || user->password == NULL ||
        user->password_len > STORE_MAX_PASSWORD ||
        (user->password_len > 0 && !wide_utf8_valid(user->password, user->password_len)) ||
        iterations < USERSTORE_MIN_ITERATIONS || iterations > USERSTORE_MAX_ITERATIONS ||
        user->group_count > STORE_MAX_GROUPS || user->realm_count * 2 > STORE_MAX_DIGESTS)
        return GH_EINVAL;
    for (size_t i = 0; i < user->group_count; i++) {
        if (!valid_text(user->groups[i], 1))
            return GH_EINVAL;
    }
    for (size_t i = 0; i < user->realm_count; i++) {
        if (!valid_text(user->realms[i], 0))
            return GH_EINVAL;
        for (size_t k = 0; k < i; k++) {
            if (strcmp(user->realms[i], user->realms[k]) == 0)
                return GH_EINVAL;
        }
    }
    /* NT hash: MD4 of the UTF-16LE password (MS-NLMP 3.3.1 NTOWFv1). */
    buf_init(&utf16, 2 * 2 * STORE_MAX_PASSWORD + 2);
    err = wide_utf8_to_utf16le(user->password, user->password_len, &utf16);
    if (err == GH_OK)
        err = sspi_md4(utf16.data != NULL ? utf16.data : (const uint8_t *)"", utf16.len, nt);
    buf_free_wipe(&utf16);
    if (err != GH_OK)
        return err == GH_EPROTO ? GH_EINVAL : err;
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return GH_ENOMEM;
    err = pbkdf2(user->password, user->password_len, salt, sizeof(salt), iterations, hash);
    if (err != GH_OK)
        return err;
    hex_encode(salt, sizeof(salt), salt_hex);
    hex_encode(hash, sizeof(hash), hash_hex);
    hex_encode(nt, sizeof(nt), nt_hex);
    secret_wipe(hash, sizeof(hash));
    secret_wipe(nt, sizeof(nt));

    err = pct_encode(out, user->name);
    if (err == GH_OK)
        err = buf_printf(out, ":" BASIC_PREFIX "%u$%s$%s:%s:", iterations, salt_hex, hash_hex,
                         nt_hex);
    for (size_t i = 0; i < user->group_count && err == GH_OK; i++) {
        if (i > 0)
            err = buf_append(out, ",", 1);
        if (err == GH_OK)
            err = pct_encode(out, user->groups[i]);
    }
    if (err == GH_OK)
        err = buf_append(out, ":", 1);
    for (size_t i = 0; i < user->realm_count && err == GH_OK; i++) {
        for (int alg = 0; alg < 2 && err == GH_OK; alg++) {
            err = ha1_hex(alg == 0 ? EVP_md5() : EVP_sha256(), user->name, user->realms[i],
                          user->password, user->password_len, ha1);
            if (err == GH_OK)
                err = buf_printf(out, "%s%s/", i + alg > 0 ? "," : "", alg == 0 ? "md5" : "sha256");
            if (err == GH_OK)
                err = pct_encode(out, user->realms[i]);
            if (err == GH_OK)
                err = buf_printf(out, "/%s", ha1);
        }
    }
    secret_wipe(hash_hex, sizeof(hash_hex));
    secret_wipe(nt_hex, sizeof(nt_hex));
    secret_wipe(ha1, sizeof(ha1));
    return err;
}

/* The decoded name of a (valid) store line, compared with user. */
static bool
line_is_user(const char *s, size_t n, const char *user, struct arena *scratch)
{
    size_t name_len = field_len(s, s + n, ':');
    const char *name = pct_decode(scratch, s, name_len, STORE_MAX_NAME_BYTES, false);

    return name != NULL && name_cmp(name, user) == 0;
}

static int
write_atomically(const char *path, const struct buf *content, char *err, size_t err_len)
{
    size_t path_len = strlen(path), done = 0;
    char *tmp = malloc(path_len + 8);
    int fd, status = GH_EIO;

    if (tmp == NULL)
        return GH_ENOMEM;
    snprintf(tmp, path_len + 8, "%s.XXXXXX", path);
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        snprintf(err, err_len, "%s: cannot create a temporary file: %s", path, strerror(errno));
        free(tmp);
        return GH_EIO;
    }
    while (done < content->len) {
        ssize_t n = write(fd, content->data + done, content->len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done != content->len || fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
        snprintf(err, err_len, "%s: cannot write: %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, err_len, "%s: cannot replace: %s", path, strerror(errno));
        goto fail;
    }
    free(tmp);
    return GH_OK;
fail:
    unlink(tmp);
    free(tmp);
    return status;
}

/* Rewrites the store at path with user's line replaced by new_line (NULL:
 * removed). GH_ENOTFOUND when removing a user that is not there. */
static int
rewrite(const char *path, const char *user, const struct buf *new_line, char *err, size_t err_len)
{
    char *data = NULL, *lock_path = NULL;
    size_t len = 0, path_len = strlen(path);
    struct userstore *check = NULL;
    struct arena *scratch = NULL;
    struct buf out;
    bool replaced = false;
    int lock_fd = -1, status;

    buf_init(&out, STORE_MAX_FILE_BYTES);
    lock_path = malloc(path_len + 6);
    if (lock_path == NULL)
        return GH_ENOMEM;
    snprintf(lock_path, path_len + 6, "%s.lock", path);
    lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
        snprintf(err, err_len, "%s: cannot lock: %s", lock_path, strerror(errno));
        status = GH_EIO;
        goto cleanup;
    }
    status = read_private_file(path, &data, &len, new_line != NULL, err, err_len);
    if (status != GH_OK)
        goto cleanup;
    status = userstore_parse(data != NULL ? data : "", len, path, &check, err, err_len);
    if (status != GH_OK)
        goto cleanup;
    status = arena_create(4096, &scratch) == GH_OK ? GH_OK : GH_ENOMEM;
    if (status != GH_OK)
        goto cleanup;
    if (data == NULL)
        status = buf_append_str(&out, "# gatehouse user store (docs/userstore.md). Keep it mode "
                                      "0600: it holds password equivalents.\n");
    /* No file yet: data is NULL, and NULL + 0 is undefined (C17 6.5.6). */
    const char *end = data != NULL ? data + len : NULL;
    for (const char *s = data; s != NULL && s < end && status == GH_OK;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
        bool is_entry = n > 0 && s[0] != '#' && strspn(s, " \t\r") < n;

        if (is_entry && line_is_user(s, n, user, scratch)) {
            if (new_line != NULL && !replaced) {
                status = buf_append(&out, new_line->data, new_line->len);
                if (status == GH_OK)
                    status = buf_append(&out, "\n", 1);
            }
            replaced = true;
        } else {
            status = buf_append(&out, s, n);
            if (status == GH_OK)
                status = buf_append(&out, "\n", 1);
        }
        s += n + 1;
    }
    if (status == GH_OK && new_line != NULL && !replaced) {
        status = buf_append(&out, new_line->data, new_line->len);
        if (status == GH_OK)
            status = buf_append(&out, "\n", 1);
    }
    if (status != GH_OK) {
        snprintf(err, err_len, "%s: %s", path, gh_strerror(status));
        goto cleanup;
    }
    if (new_line == NULL && !replaced) {
        snprintf(err, err_len, "%s: no user \"%s\"", path, user);
        status = GH_ENOTFOUND;
        goto cleanup;
    }
    status = write_atomically(path, &out, err, err_len);
cleanup:
    if (lock_fd >= 0)
        close(lock_fd); /* releases the lock */
    free(lock_path);
    if (data != NULL) {
        secret_wipe(data, len);
        free(data);
    }
    userstore_destroy(check);
    arena_destroy(scratch);
    buf_free_wipe(&out);
    return status;
}

int
userstore_file_put(const char *path, const struct userstore_user *user, char *err, size_t err_len)
{
    struct buf line;
    int status;

    if (err != NULL && err_len > 0)
        err[0] = '\0';
    buf_init(&line, STORE_MAX_LINE_BYTES);
    status = userstore_format_line(user, &line);
    if (status != GH_OK) {
        if (status == GH_EUNSUPPORTED)
            snprintf(err, err_len,
                     "cannot compute the NT hash: OpenSSL's legacy provider "
                     "(MD4) is not available");
        else if (status == GH_EINVAL)
            snprintf(err, err_len, "invalid user name, group, realm, password or iteration count");
        else
            snprintf(err, err_len, "%s", gh_strerror(status));
        goto cleanup;
    }
    status = rewrite(path, user->name, &line, err, err_len);
cleanup:
    buf_free_wipe(&line);
    return status;
}

int
userstore_file_remove(const char *path, const char *user, char *err, size_t err_len)
{
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (!valid_text(user, 1)) {
        snprintf(err, err_len, "invalid user name");
        return GH_EINVAL;
    }
    return rewrite(path, user, NULL, err, err_len);
}
