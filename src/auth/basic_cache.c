// SPDX-License-Identifier: MIT
// The verified-credentials cache of Basic (basic_cache.h): a set-associative
// table of HMAC keys with expiry times. The bucket comes from the key's first
// bytes: keys are HMAC outputs under a secret, so a client cannot aim many
// entries at one bucket, and an entry evicted early only costs one more
// password verification.
#include "auth/basic_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <gatehouse/error.h>

#include "base/secret.h"

struct entry {
    uint8_t key[BASIC_CACHE_KEY_BYTES];
    uint64_t expires_ms;               /* 0: empty slot */
    char name[BASIC_CACHE_NAME_BYTES]; /* canonical name; "": none */
    gh_token *token;                   /* owned reference, or NULL */
};

struct basic_cache {
    pthread_mutex_t lock; /* guards entries and the use of keyed */
    /* HMAC-SHA256 keyed once with a random key (never kept elsewhere): each
     * key computation duplicates it, which costs far less than keying anew. */
    EVP_MAC_CTX *keyed;
    uint64_t ttl_ms;
    const struct auth_token_ops *tokens; /* borrowed; NULL: no tokens kept */
    size_t bucket_count;
    struct entry *entries; /* bucket_count * BASIC_CACHE_WAYS */
};

/* A fresh random key for HMAC-SHA256 into *out. */
static bool
keyed_mac(EVP_MAC_CTX **out)
{
    uint8_t key[32];
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    bool ok = ctx != NULL && RAND_bytes(key, sizeof(key)) == 1 &&
              EVP_MAC_init(ctx, key, sizeof(key), params) == 1;

    secret_wipe(key, sizeof(key));
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (!ok) {
        EVP_MAC_CTX_free(ctx);
        return false;
    }
    *out = ctx;
    return true;
}

int
basic_cache_create(size_t max_entries, uint64_t ttl_ms, const struct auth_token_ops *tokens,
                   struct basic_cache **out)
{
    struct basic_cache *c;

    *out = NULL;
    if (ttl_ms == 0)
        return GH_EINVAL;
    if (max_entries == 0)
        max_entries = BASIC_CACHE_DEFAULT_ENTRIES;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return GH_ENOMEM;
    c->bucket_count = (max_entries + BASIC_CACHE_WAYS - 1) / BASIC_CACHE_WAYS;
    c->entries = calloc(c->bucket_count * BASIC_CACHE_WAYS, sizeof(*c->entries));
    if (c->entries == NULL || !keyed_mac(&c->keyed)) {
        free(c->entries);
        free(c);
        return GH_ENOMEM;
    }
    c->ttl_ms = ttl_ms;
    c->tokens = tokens;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return GH_OK;
}

/* Closes every entry's token, then wipes the entries. Called with the lock
 * held (or by the only user). */
static void
wipe_entries(struct basic_cache *c)
{
    for (size_t i = 0; i < c->bucket_count * BASIC_CACHE_WAYS; i++) {
        if (c->entries[i].token != NULL)
            c->tokens->close(c->entries[i].token);
    }
    secret_wipe(c->entries, c->bucket_count * BASIC_CACHE_WAYS * sizeof(*c->entries));
}

void
basic_cache_destroy(struct basic_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    wipe_entries(c);
    EVP_MAC_CTX_free(c->keyed); /* OpenSSL cleanses the key state */
    free(c->entries);
    free(c);
}

bool
basic_cache_key(struct basic_cache *c, const char *user, const uint8_t *password,
                size_t password_len, uint8_t key_out[BASIC_CACHE_KEY_BYTES])
{
    static const uint8_t zero = 0;
    size_t len = 0;
    EVP_MAC_CTX *h;
    bool ok;

    pthread_mutex_lock(&c->lock);
    h = EVP_MAC_CTX_dup(c->keyed);
    pthread_mutex_unlock(&c->lock);
    /* The 0 separator keeps ("ab", "c") apart from ("a", "bc"): user names
     * never contain NUL (basic_decode refuses controls). */
    ok = h != NULL && EVP_MAC_update(h, (const uint8_t *)user, strlen(user)) == 1 &&
         EVP_MAC_update(h, &zero, 1) == 1 && EVP_MAC_update(h, password, password_len) == 1 &&
         EVP_MAC_final(h, key_out, &len, BASIC_CACHE_KEY_BYTES) == 1 &&
         len == BASIC_CACHE_KEY_BYTES;
    EVP_MAC_CTX_free(h);
    return ok;
}

static struct entry *
bucket_of(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_BYTES])
{
    uint64_t h;

    memcpy(&h, key, sizeof(h));
    return &c->entries[(h % c->bucket_count) * BASIC_CACHE_WAYS];
}

bool
basic_cache_check(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_BYTES], uint64_t now_ms,
                  char name_out[BASIC_CACHE_NAME_BYTES], gh_token **token_out)
{
    gh_token *token = NULL;
    unsigned found = 0;

    pthread_mutex_lock(&c->lock);
    struct entry *b = bucket_of(c, key);
    for (size_t i = 0; i < BASIC_CACHE_WAYS; i++) {
        unsigned live = b[i].expires_ms > now_ms;
        unsigned same = CRYPTO_memcmp(b[i].key, key, BASIC_CACHE_KEY_BYTES) == 0;
        found |= live & same;
        if ((live & same) != 0 && name_out != NULL) /* names are not secret */
            memcpy(name_out, b[i].name, BASIC_CACHE_NAME_BYTES);
        if ((live & same) != 0)
            token = b[i].token;
    }
    if (token_out != NULL)
        *token_out = token != NULL ? c->tokens->dup(token) : NULL;
    pthread_mutex_unlock(&c->lock);
    return found != 0;
}

void
basic_cache_add(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_BYTES], const char *name,
                gh_token *token, uint64_t now_ms)
{
    size_t name_len = name != NULL ? strlen(name) : 0;

    if (name_len >= BASIC_CACHE_NAME_BYTES)
        return;
    pthread_mutex_lock(&c->lock);
    struct entry *b = bucket_of(c, key);
    struct entry *slot = &b[0];
    for (size_t i = 0; i < BASIC_CACHE_WAYS; i++) {
        if (CRYPTO_memcmp(b[i].key, key, BASIC_CACHE_KEY_BYTES) == 0) {
            slot = &b[i]; /* refresh the same credentials */
            break;
        }
        if (b[i].expires_ms < slot->expires_ms)
            slot = &b[i]; /* empty (0) or expiring first */
    }
    memcpy(slot->key, key, BASIC_CACHE_KEY_BYTES);
    slot->expires_ms = now_ms + c->ttl_ms;
    memset(slot->name, 0, sizeof(slot->name));
    if (name_len > 0)
        memcpy(slot->name, name, name_len);
    gh_token *old = slot->token;
    slot->token = token != NULL && c->tokens != NULL ? c->tokens->dup(token) : NULL;
    if (old != NULL)
        c->tokens->close(old);
    pthread_mutex_unlock(&c->lock);
}

void
basic_cache_clear(struct basic_cache *c)
{
    pthread_mutex_lock(&c->lock);
    wipe_entries(c);
    pthread_mutex_unlock(&c->lock);
}

size_t
basic_cache_count(struct basic_cache *c)
{
    size_t n = 0;

    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->bucket_count * BASIC_CACHE_WAYS; i++)
        n += c->entries[i].expires_ms != 0;
    pthread_mutex_unlock(&c->lock);
    return n;
}
