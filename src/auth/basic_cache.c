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

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <gatehouse/error.h>

#include "base/secret.h"

struct entry {
    uint8_t key[BASIC_CACHE_KEY_BYTES];
    uint64_t expires_ms; /* 0: empty slot */
};

struct basic_cache {
    pthread_mutex_t lock; /* guards entries */
    uint8_t hmac_key[32];
    uint64_t ttl_ms;
    size_t bucket_count;
    struct entry *entries; /* bucket_count * BASIC_CACHE_WAYS */
};

int
basic_cache_create(size_t max_entries, uint64_t ttl_ms, struct basic_cache **out)
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
    if (c->entries == NULL || RAND_bytes(c->hmac_key, sizeof(c->hmac_key)) != 1) {
        free(c->entries);
        free(c);
        return GH_ENOMEM;
    }
    c->ttl_ms = ttl_ms;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return GH_OK;
}

void
basic_cache_destroy(struct basic_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    secret_wipe(c->entries, c->bucket_count * BASIC_CACHE_WAYS * sizeof(*c->entries));
    secret_wipe(c->hmac_key, sizeof(c->hmac_key));
    free(c->entries);
    free(c);
}

bool
basic_cache_key(const struct basic_cache *c, const char *user, const uint8_t *password,
                size_t password_len, uint8_t key_out[BASIC_CACHE_KEY_BYTES])
{
    size_t user_len = strlen(user), n = user_len + 1 + password_len;
    unsigned len = BASIC_CACHE_KEY_BYTES;
    uint8_t *msg = malloc(n > 0 ? n : 1);
    bool ok = msg != NULL;

    /* The 0 separator keeps ("ab", "c") apart from ("a", "bc"): user names
     * never contain NUL (basic_decode refuses controls). */
    if (ok) {
        memcpy(msg, user, user_len);
        msg[user_len] = 0;
        memcpy(msg + user_len + 1, password, password_len);
        ok = HMAC(EVP_sha256(), c->hmac_key, sizeof(c->hmac_key), msg, n, key_out, &len) != NULL;
        secret_wipe(msg, n);
        free(msg);
    }
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
basic_cache_check(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_BYTES], uint64_t now_ms)
{
    unsigned found = 0;

    pthread_mutex_lock(&c->lock);
    struct entry *b = bucket_of(c, key);
    for (size_t i = 0; i < BASIC_CACHE_WAYS; i++) {
        unsigned live = b[i].expires_ms > now_ms;
        unsigned same = CRYPTO_memcmp(b[i].key, key, BASIC_CACHE_KEY_BYTES) == 0;
        found |= live & same;
    }
    pthread_mutex_unlock(&c->lock);
    return found != 0;
}

void
basic_cache_add(struct basic_cache *c, const uint8_t key[BASIC_CACHE_KEY_BYTES], uint64_t now_ms)
{
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
    pthread_mutex_unlock(&c->lock);
}

void
basic_cache_clear(struct basic_cache *c)
{
    pthread_mutex_lock(&c->lock);
    secret_wipe(c->entries, c->bucket_count * BASIC_CACHE_WAYS * sizeof(*c->entries));
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
