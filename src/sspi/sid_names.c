// SPDX-License-Identifier: MIT
// The SID name cache: an open-addressing table of at most max_entries SIDs
// (capacity twice that, a power of two), each with its name (or "unknown")
// and an expiry. When it is full it is emptied: group names are few and
// stable, so a rare full refill costs less than an LRU's bookkeeping.
#include "sspi/sid_names.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wbclient.h>

#include "base/clock.h"
#include "sspi/accounts.h"

struct entry {
    bool is_used;
    struct sid sid;
    char *name; /* owned; NULL: winbind does not know the SID */
    uint64_t expires_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static size_t capacity, used;
static size_t max_entries = SID_NAMES_MAX_ENTRIES;
static uint64_t ttl_ms = SID_NAMES_TTL_MS;
static bool is_enabled = true;
static sid_names_resolver *resolver;
static atomic_uint_fast64_t resolver_calls;

/* ---- winbind ------------------------------------------------------------------ */

static char *
join_name(const char *domain, const char *name)
{
    size_t n;
    char *out;

    if (name == NULL || name[0] == '\0')
        return NULL;
    if (domain == NULL)
        domain = "";
    n = strlen(domain) + strlen(name) + 2;
    out = malloc(n);
    if (out != NULL)
        snprintf(out, n, "%s%s%s", domain, domain[0] != '\0' ? "\\" : "", name);
    return out;
}

static void
to_wbc(const struct sid *s, struct wbcDomainSid *w)
{
    memset(w, 0, sizeof(*w));
    w->sid_rev_num = s->revision;
    w->num_auths = s->sub_count;
    memcpy(w->id_auth, s->authority, 6);
    memcpy(w->sub_auths, s->sub, sizeof(s->sub));
}

static bool
known(enum wbcSidType type)
{
    return type != WBC_SID_NAME_UNKNOWN && type != WBC_SID_NAME_USE_NONE &&
           type != WBC_SID_NAME_INVALID;
}

/* One wbcLookupSids call; false when winbindd refused the batch (it fails
 * the whole batch when one SID is unknown, e.g. S-1-18-1). */
static bool
batch(struct wbcContext *ctx, const struct sid *sids, size_t count, char **names_out,
      wbcErr *err_out)
{
    struct wbcDomainSid *in = calloc(count, sizeof(*in));
    struct wbcDomainInfo *domains = NULL;
    struct wbcTranslatedName *names = NULL;
    int num_domains = 0;

    *err_out = WBC_ERR_NO_MEMORY;
    if (in == NULL)
        return false;
    for (size_t i = 0; i < count; i++)
        to_wbc(&sids[i], &in[i]);
    *err_out = wbcCtxLookupSids(ctx, in, (int)count, &domains, &num_domains, &names);
    for (size_t i = 0; *err_out == WBC_ERR_SUCCESS && i < count; i++) {
        const struct wbcTranslatedName *t = &names[i];
        if (!known(t->type))
            continue;
        names_out[i] = join_name(t->domain_index >= 0 && t->domain_index < num_domains
                                     ? domains[t->domain_index].short_name
                                     : NULL,
                                 t->name);
    }
    wbcFreeMemory(domains);
    wbcFreeMemory(names);
    free(in);
    return *err_out == WBC_ERR_SUCCESS;
}

/* Names as winbindd gives them (Samba's DC lowercases group names: "CORP\\staff";
 * authorization compares case-insensitively). */
static bool
winbind_resolve(const struct sid *sids, size_t count, char **names_out)
{
    struct wbcContext *ctx;
    wbcErr err;
    bool answered;

    if (count > (size_t)INT32_MAX || (ctx = wbcCtxCreate()) == NULL)
        return false;
    answered = batch(ctx, sids, count, names_out, &err);
    /* A refused batch: one SID at a time, an unknown one is just unknown. */
    for (size_t i = 0;
         !answered && err != WBC_ERR_WINBIND_NOT_AVAILABLE && err != WBC_ERR_NO_MEMORY && i < count;
         i++) {
        struct wbcDomainSid w;
        char *domain = NULL, *name = NULL;
        enum wbcSidType type = WBC_SID_NAME_UNKNOWN;
        wbcErr e;

        to_wbc(&sids[i], &w);
        e = wbcCtxLookupSid(ctx, &w, &domain, &name, &type);
        if (e == WBC_ERR_SUCCESS && known(type))
            names_out[i] = join_name(domain, name);
        wbcFreeMemory(domain);
        wbcFreeMemory(name);
        if (e == WBC_ERR_WINBIND_NOT_AVAILABLE) {
            err = e;
            break;
        }
        if (i + 1 == count)
            answered = true;
    }
    wbcCtxFree(ctx);
    if (!answered) {
        for (size_t i = 0; i < count; i++) {
            free(names_out[i]);
            names_out[i] = NULL;
        }
    }
    return answered;
}

static bool
set_account(const char *domain, const char *name, enum wbcSidType type, struct account *out)
{
    out->use = (int)type; /* wbcSidType has SID_NAME_USE's values (MS-LSAT 2.2.13) */
    return known(type) && accounts_set_field(out->domain, domain != NULL ? domain : "") &&
           name != NULL && accounts_set_field(out->name, name);
}

bool
sid_names_winbind_by_sid(const struct sid *sid, struct account *out)
{
    struct wbcContext *ctx;
    struct wbcDomainSid w;
    char *domain = NULL, *name = NULL;
    enum wbcSidType type = WBC_SID_NAME_UNKNOWN;
    bool found = false;

    if (!sid_names_is_enabled())
        return false;
    ctx = wbcCtxCreate();
    if (ctx == NULL)
        return false;
    to_wbc(sid, &w);
    if (wbcCtxLookupSid(ctx, &w, &domain, &name, &type) == WBC_ERR_SUCCESS) {
        out->sid = *sid;
        found = set_account(domain, name, type, out);
    }
    wbcFreeMemory(domain);
    wbcFreeMemory(name);
    wbcCtxFree(ctx);
    return found;
}

bool
sid_names_winbind_by_name(const char *domain, const char *name, struct account *out)
{
    struct wbcContext *ctx;
    struct wbcDomainSid w = {0};
    enum wbcSidType type = WBC_SID_NAME_UNKNOWN;
    char *dom = NULL, *canon = NULL;
    bool found = false;

    if (!sid_names_is_enabled())
        return false;
    ctx = wbcCtxCreate();
    if (ctx == NULL)
        return false;
    if (wbcCtxLookupName(ctx, domain != NULL ? domain : "", name, &w, &type) == WBC_ERR_SUCCESS &&
        w.sid_rev_num == SID_REVISION && w.num_auths <= SID_MAX_SUB_AUTHORITIES) {
        out->sid = (struct sid){.revision = SID_REVISION, .sub_count = (uint8_t)w.num_auths};
        memcpy(out->sid.authority, w.id_auth, 6);
        memcpy(out->sid.sub, w.sub_auths, 4u * w.num_auths);
        /* The names as winbindd spells them (the caller's may differ in case). */
        if (wbcCtxLookupSid(ctx, &w, &dom, &canon, &type) == WBC_ERR_SUCCESS)
            found = set_account(dom, canon, type, out);
    }
    wbcFreeMemory(dom);
    wbcFreeMemory(canon);
    wbcCtxFree(ctx);
    return found;
}

/* ---- the table -------------------------------------------------------------------- */

static uint64_t
sid_hash(const struct sid *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    const uint8_t *p = s->authority;

    for (size_t i = 0; i < 6; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    for (size_t i = 0; i < s->sub_count; i++)
        h = (h ^ s->sub[i]) * 1099511628211ull;
    return h ^ s->sub_count;
}

static void
table_clear(void)
{
    for (size_t i = 0; i < capacity; i++)
        free(table[i].name);
    if (table != NULL)
        memset(table, 0, capacity * sizeof(*table));
    used = 0;
}

static struct entry *
slot_of(const struct sid *s)
{
    size_t i = (size_t)sid_hash(s) & (capacity - 1);

    for (size_t probes = 0; probes < capacity; probes++, i = (i + 1) & (capacity - 1)) {
        if (!table[i].is_used || sid_equal(&table[i].sid, s))
            return &table[i];
    }
    return NULL; /* cannot happen: the table is never more than half full */
}

/* Under the lock. */
static void
table_put(const struct sid *s, const char *name, uint64_t now_ms)
{
    struct entry *e;
    char *copy = NULL;

    if (table == NULL)
        return;
    if (name != NULL && (copy = strdup(name)) == NULL)
        return; /* not cached: looked up again next time */
    e = slot_of(s);
    if (e != NULL && !e->is_used && used >= max_entries) {
        table_clear();
        e = slot_of(s);
    }
    if (e == NULL) {
        free(copy);
        return;
    }
    if (!e->is_used)
        used++;
    free(e->name);
    *e = (struct entry){.is_used = true, .sid = *s, .name = copy, .expires_ms = now_ms + ttl_ms};
}

/* Under the lock: the table is made on first use. */
static void
table_make(void)
{
    size_t cap = 16;

    if (table != NULL || !is_enabled)
        return;
    while (cap < 2 * max_entries)
        cap *= 2;
    table = calloc(cap, sizeof(*table));
    capacity = table != NULL ? cap : 0;
}

void
sid_names_configure(bool enable, uint64_t ttl, size_t max, sid_names_resolver *fn)
{
    pthread_mutex_lock(&lock);
    table_clear();
    free(table);
    table = NULL;
    capacity = 0;
    is_enabled = enable;
    ttl_ms = ttl;
    max_entries = max > 0 ? max : 1;
    resolver = fn;
    atomic_store(&resolver_calls, 0);
    pthread_mutex_unlock(&lock);
}

bool
sid_names_is_enabled(void)
{
    bool v;

    pthread_mutex_lock(&lock);
    v = is_enabled;
    pthread_mutex_unlock(&lock);
    return v;
}

uint64_t
sid_names_resolver_calls(void)
{
    return atomic_load(&resolver_calls);
}

/* The cached names; misses[] gets the indexes to look up. Under the lock. */
static SECURITY_STATUS
from_cache(const struct sid *sids, size_t count, uint64_t now_ms, char **names_out, size_t *misses,
           size_t *miss_count)
{
    *miss_count = 0;
    for (size_t i = 0; i < count; i++) {
        struct entry *e = slot_of(&sids[i]);

        if (e == NULL || !e->is_used || e->expires_ms <= now_ms) {
            misses[(*miss_count)++] = i;
            continue;
        }
        if (e->name != NULL && (names_out[i] = strdup(e->name)) == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
    }
    return SEC_E_OK;
}

static SECURITY_STATUS
resolve_misses(const struct sid *sids, const size_t *misses, size_t miss_count, uint64_t now_ms,
               char **names_out)
{
    struct sid *ask = calloc(miss_count, sizeof(*ask));
    char **got = calloc(miss_count, sizeof(*got));
    sid_names_resolver *fn;
    bool answered;

    if (ask == NULL || got == NULL) {
        free(ask);
        free(got);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    for (size_t k = 0; k < miss_count; k++)
        ask[k] = sids[misses[k]];
    pthread_mutex_lock(&lock);
    fn = resolver != NULL ? resolver : winbind_resolve;
    pthread_mutex_unlock(&lock);
    atomic_fetch_add(&resolver_calls, 1);
    answered = fn(ask, miss_count, got); /* outside the lock: it blocks */
    pthread_mutex_lock(&lock);
    for (size_t k = 0; k < miss_count; k++) {
        if (answered)
            table_put(&ask[k], got[k], now_ms);
        names_out[misses[k]] = got[k]; /* moved */
    }
    pthread_mutex_unlock(&lock);
    free(ask);
    free(got);
    return SEC_E_OK;
}

SECURITY_STATUS
sid_names_lookup(const struct sid *sids, size_t count, uint64_t now_ms, char **names_out)
{
    size_t *misses, miss_count = 0;
    SECURITY_STATUS st;

    for (size_t i = 0; i < count; i++)
        names_out[i] = NULL;
    if (count == 0 || !sid_names_is_enabled())
        return SEC_E_OK;
    if (now_ms == 0)
        now_ms = clock_monotonic_ms();
    misses = calloc(count, sizeof(*misses));
    if (misses == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    pthread_mutex_lock(&lock);
    table_make();
    st = table != NULL ? from_cache(sids, count, now_ms, names_out, misses, &miss_count) : SEC_E_OK;
    pthread_mutex_unlock(&lock);
    if (st == SEC_E_OK && miss_count > 0)
        st = resolve_misses(sids, misses, miss_count, now_ms, names_out);
    free(misses);
    if (st != SEC_E_OK) {
        for (size_t i = 0; i < count; i++) {
            free(names_out[i]);
            names_out[i] = NULL;
        }
    }
    return st;
}
