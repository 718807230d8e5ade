// SPDX-License-Identifier: MIT
// The ticket -> identity cache (ident.h).
//
// One process-wide table, because a ticket reused on many connections lands
// on any worker thread: per-thread tables would each miss once per ticket and
// could not be invalidated together. It is cut into 16 stripes, each a
// set-associative array (4 ways per set) under its own mutex, chosen by the
// key's hash: a lookup locks one stripe for a 4-way probe and a copy of the
// name, so two workers rarely meet on a lock, and nothing else is shared. An
// insert (a miss, once per ticket) may scan its stripe to keep the byte
// budget. Entries are immutable; the PAC is shared by reference with the
// contexts that got it (pac.h).
#include "sspi/kerberos/ident.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sspi/kerberos/pac.h"
#include "sspi/kerberos/replay.h"

#define STRIPES          16u
#define WAYS             4u
#define SLOTS_PER_STRIPE (KRB_IDENT_MAX_ENTRIES / STRIPES)

struct entry {
    struct krb_ident_key key;
    bool used;
    time_t expires;
    size_t bytes;
    char *client_name;   /* owned */
    struct krb_pac *pac; /* owned reference, may be NULL */
};

struct stripe {
    pthread_mutex_t lock; /* guards everything below */
    struct entry slots[SLOTS_PER_STRIPE];
    size_t sets;   /* sets in use: slots [0, sets * WAYS) */
    size_t budget; /* bytes */
    uint32_t ttl_s;
    size_t bytes;
    size_t entries;
    uint64_t hits;
    uint64_t misses;
};

static struct stripe stripes[STRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;

static void
stripes_init(void)
{
    for (size_t i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&stripes[i].lock, NULL);
        stripes[i].sets = SLOTS_PER_STRIPE / WAYS;
        stripes[i].budget = KRB_IDENT_MAX_BYTES / STRIPES;
        stripes[i].ttl_s = KRB_IDENT_TTL_S;
    }
}

static _Atomic uint64_t next_cred = 1;

uint64_t
krb_ident_cred_number(void)
{
    return atomic_fetch_add_explicit(&next_cred, 1, memory_order_relaxed);
}

SECURITY_STATUS
krb_ident_key_make(uint64_t cred, uint64_t generation, struct slice ticket,
                   struct krb_ident_key *key_out)
{
    memset(key_out, 0, sizeof(*key_out));
    key_out->cred = cred;
    key_out->generation = generation;
    return krb_sha256(ticket, key_out->ticket);
}

/* The ticket part is SHA-256 output, already uniform; the credential and
 * generation are mixed in so that one ticket under two credentials spreads. */
static uint64_t
key_hash(const struct krb_ident_key *key)
{
    uint64_t h;

    memcpy(&h, key->ticket, sizeof(h));
    return h ^ (key->cred * 0x9e3779b97f4a7c15ull) ^ (key->generation * 0xc2b2ae3d27d4eb4full);
}

static bool
key_equal(const struct krb_ident_key *a, const struct krb_ident_key *b)
{
    return a->cred == b->cred && a->generation == b->generation &&
           memcmp(a->ticket, b->ticket, sizeof(a->ticket)) == 0;
}

/* With the stripe's lock held. */
static void
entry_drop(struct stripe *s, struct entry *e)
{
    if (!e->used)
        return;
    free(e->client_name);
    krb_pac_free(e->pac);
    s->bytes -= e->bytes;
    s->entries--;
    memset(e, 0, sizeof(*e));
}

static struct stripe *
stripe_of(const struct krb_ident_key *key, struct entry **set_out)
{
    uint64_t h = key_hash(key);
    struct stripe *s = &stripes[h % STRIPES];

    pthread_once(&stripes_once, stripes_init);

    *set_out = &s->slots[((h / STRIPES) % s->sets) * WAYS];
    return s;
}

SECURITY_STATUS
krb_ident_lookup(const struct krb_ident_key *key, time_t now, char **client_name_out,
                 struct krb_pac **pac_out)
{
    struct entry *set;
    SECURITY_STATUS st = SEC_E_INTERNAL_ERROR;

    *client_name_out = NULL;
    *pac_out = NULL;
    struct stripe *s = stripe_of(key, &set);
    pthread_mutex_lock(&s->lock);
    for (unsigned w = 0; w < WAYS; w++) {
        struct entry *e = &set[w];
        if (!e->used || !key_equal(&e->key, key))
            continue;
        if (e->expires <= now) {
            entry_drop(s, e);
            break;
        }
        *client_name_out = strdup(e->client_name);
        if (*client_name_out == NULL) {
            st = SEC_E_INSUFFICIENT_MEMORY;
            break;
        }
        *pac_out = krb_pac_ref(e->pac);
        st = SEC_E_OK;
        break;
    }
    if (st == SEC_E_OK)
        s->hits++;
    else
        s->misses++;
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* The used entry of from[0, n) that expires first, or NULL (lock held). */
static struct entry *
first_to_expire(struct entry *from, size_t n)
{
    struct entry *victim = NULL;

    for (size_t i = 0; i < n; i++) {
        if (from[i].used && (victim == NULL || from[i].expires < victim->expires))
            victim = &from[i];
    }
    return victim;
}

void
krb_ident_insert(const struct krb_ident_key *key, const char *client_name, struct krb_pac *pac,
                 time_t ticket_end, time_t now)
{
    struct entry *set, *slot = NULL;

    if (ticket_end != 0 && ticket_end <= now)
        return;
    char *name = strdup(client_name);
    if (name == NULL)
        return;
    size_t bytes = sizeof(struct entry) + strlen(name) + 1 + krb_pac_size(pac);
    struct stripe *s = stripe_of(key, &set);
    pthread_mutex_lock(&s->lock);
    if (bytes > s->budget) {
        pthread_mutex_unlock(&s->lock);
        free(name);
        return;
    }
    time_t expires = now + (time_t)s->ttl_s;
    if (ticket_end != 0 && ticket_end < expires)
        expires = ticket_end;
    /* The same key, else a free or expired way, else the one expiring first. */
    for (unsigned w = 0; w < WAYS && slot == NULL; w++) {
        if (set[w].used && key_equal(&set[w].key, key))
            slot = &set[w];
    }
    for (unsigned w = 0; w < WAYS && slot == NULL; w++) {
        if (!set[w].used || set[w].expires <= now)
            slot = &set[w];
    }
    if (slot == NULL)
        slot = first_to_expire(set, WAYS);
    entry_drop(s, slot);
    /* The byte budget: drop what expires first in the whole stripe. */
    while (s->bytes + bytes > s->budget) {
        struct entry *victim = first_to_expire(s->slots, s->sets * WAYS);
        if (victim == NULL)
            break;
        entry_drop(s, victim);
    }
    *slot = (struct entry){
        .key = *key,
        .used = true,
        .expires = expires,
        .bytes = bytes,
        .client_name = name,
        .pac = krb_pac_ref(pac),
    };
    s->bytes += bytes;
    s->entries++;
    pthread_mutex_unlock(&s->lock);
}

void
krb_ident_forget_cred(uint64_t cred)
{
    pthread_once(&stripes_once, stripes_init);
    for (size_t i = 0; i < STRIPES; i++) {
        struct stripe *s = &stripes[i];
        pthread_mutex_lock(&s->lock);
        for (size_t j = 0; j < s->sets * WAYS && s->entries > 0; j++) {
            if (s->slots[j].used && s->slots[j].key.cred == cred)
                entry_drop(s, &s->slots[j]);
        }
        pthread_mutex_unlock(&s->lock);
    }
}

void
krb_ident_get_stats(struct krb_ident_stats *out)
{
    pthread_once(&stripes_once, stripes_init);
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < STRIPES; i++) {
        struct stripe *s = &stripes[i];
        pthread_mutex_lock(&s->lock);
        out->hits += s->hits;
        out->misses += s->misses;
        out->entries += s->entries;
        out->bytes += s->bytes;
        pthread_mutex_unlock(&s->lock);
    }
}

void
krb_ident_configure(uint32_t ttl_s, size_t max_entries, size_t max_bytes)
{
    size_t sets = max_entries / (STRIPES * WAYS);

    if (sets == 0)
        sets = 1;
    if (sets > SLOTS_PER_STRIPE / WAYS)
        sets = SLOTS_PER_STRIPE / WAYS;
    pthread_once(&stripes_once, stripes_init);
    for (size_t i = 0; i < STRIPES; i++) {
        struct stripe *s = &stripes[i];
        pthread_mutex_lock(&s->lock);
        for (size_t j = 0; j < SLOTS_PER_STRIPE; j++)
            entry_drop(s, &s->slots[j]);
        s->sets = sets;
        s->budget = max_bytes / STRIPES;
        s->ttl_s = ttl_s > 0 ? ttl_s : 1;
        s->hits = s->misses = 0;
        pthread_mutex_unlock(&s->lock);
    }
}
