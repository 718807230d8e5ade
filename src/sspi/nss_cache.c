// SPDX-License-Identifier: MIT
// The NSS account cache (nss_cache.h). The table is set-associative: a name
// hashes to a bucket of NSS_CACHE_WAYS entries. Lookups copy the answer out
// under the lock; a miss resolves without the lock (NSS may be slow, and two
// threads resolving the same name at once only do the work twice) and then
// stores its answer.
#include "sspi/nss_cache.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

#define NSS_BUF_MAX  (1u << 20)
#define GID_TEXT_LEN 24
#define NAME_MAX_LEN 256 /* longer names are looked up but not cached */

struct entry {
    char *account; /* NULL: empty slot */
    uint64_t expires_ms;
    struct nss_account acct;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards everything below */
static struct entry *table;
static size_t bucket_count;
static size_t max_entries = NSS_CACHE_DEFAULT_ENTRIES;
static uint64_t ttl_ms = NSS_CACHE_DEFAULT_TTL_MS;
static nss_resolve_fn *resolver;

void
nss_account_clear(struct nss_account *a)
{
    for (size_t i = 0; a->group_names != NULL && i < a->gid_count; i++)
        free(a->group_names[i]);
    free(a->group_names);
    free(a->gids);
    memset(a, 0, sizeof(*a));
}

static SECURITY_STATUS
account_copy(const struct nss_account *src, struct nss_account *dst)
{
    memset(dst, 0, sizeof(*dst));
    dst->found = src->found;
    dst->uid = src->uid;
    dst->gid = src->gid;
    if (src->gid_count == 0)
        return SEC_E_OK;
    dst->gids = malloc(src->gid_count * sizeof(*dst->gids));
    dst->group_names = calloc(src->gid_count, sizeof(*dst->group_names));
    if (dst->gids == NULL || dst->group_names == NULL)
        goto oom;
    memcpy(dst->gids, src->gids, src->gid_count * sizeof(*dst->gids));
    dst->gid_count = src->gid_count;
    for (size_t i = 0; i < src->gid_count; i++) {
        dst->group_names[i] = strdup(src->group_names[i]);
        if (dst->group_names[i] == NULL)
            goto oom;
    }
    return SEC_E_OK;
oom:
    dst->gid_count = src->gid_count; /* so that clear frees the names made */
    nss_account_clear(dst);
    return SEC_E_INSUFFICIENT_MEMORY;
}

/* ---- NSS ------------------------------------------------------------------ */

/* Names of the gids (numbers when NSS has no name). */
static SECURITY_STATUS
group_names(struct nss_account *a)
{
    size_t len = 16384;
    char *buf = malloc(len);

    a->group_names = calloc(a->gid_count > 0 ? a->gid_count : 1, sizeof(*a->group_names));
    if (buf == NULL || a->group_names == NULL) {
        free(buf);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    for (size_t i = 0; i < a->gid_count; i++) {
        struct group gr, *found = NULL;
        char number[GID_TEXT_LEN];
        int rc;

        for (;;) {
            rc = getgrgid_r(a->gids[i], &gr, buf, len, &found);
            if (rc != ERANGE || len >= NSS_BUF_MAX)
                break;
            char *p = realloc(buf, len * 2);
            if (p == NULL) {
                free(buf);
                return SEC_E_INSUFFICIENT_MEMORY;
            }
            buf = p;
            len *= 2;
        }
        if (rc != 0 || found == NULL) {
            snprintf(number, sizeof(number), "%lu", (unsigned long)a->gids[i]);
            a->group_names[i] = strdup(number);
        } else {
            a->group_names[i] = strdup(gr.gr_name);
        }
        if (a->group_names[i] == NULL) {
            free(buf);
            return SEC_E_INSUFFICIENT_MEMORY;
        }
    }
    free(buf);
    return SEC_E_OK;
}

/* The supplementary groups of pw (the primary alone when they cannot be had). */
static SECURITY_STATUS
group_list(const struct passwd *pw, struct nss_account *a)
{
    int n = 64;

    for (;;) {
        gid_t *g = realloc(a->gids, (size_t)n * sizeof(*g));
        int want = n;

        if (g == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        a->gids = g;
        if (getgrouplist(pw->pw_name, pw->pw_gid, a->gids, &want) >= 0) {
            a->gid_count = (size_t)want;
            return SEC_E_OK;
        }
        if (want <= n || want > NSS_CACHE_MAX_GROUPS) { /* cannot grow usefully */
            a->gids[0] = pw->pw_gid;
            a->gid_count = 1;
            return SEC_E_OK;
        }
        n = want;
    }
}

static SECURITY_STATUS
resolve_nss(const char *account, struct nss_account *out)
{
    struct passwd pw, *found = NULL;
    size_t len = 16384;
    char *buf = NULL;
    SECURITY_STATUS st;
    int rc;

    memset(out, 0, sizeof(*out));
    for (;;) {
        char *p = realloc(buf, len);
        if (p == NULL) {
            free(buf);
            return SEC_E_INSUFFICIENT_MEMORY;
        }
        buf = p;
        rc = getpwnam_r(account, &pw, buf, len, &found);
        if (rc != ERANGE || len >= NSS_BUF_MAX)
            break;
        len *= 2;
    }
    if (rc != 0 || found == NULL) {
        free(buf);
        return SEC_E_OK; /* no such account: not an error */
    }
    out->found = true;
    out->uid = pw.pw_uid;
    out->gid = pw.pw_gid;
    st = group_list(&pw, out);
    free(buf);
    if (st == SEC_E_OK)
        st = group_names(out);
    if (st != SEC_E_OK)
        nss_account_clear(out);
    return st;
}

/* ---- The table ------------------------------------------------------------ */

static struct entry *
bucket_of(const char *account)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)account; *p != 0; p++)
        h = (h ^ *p) * 1099511628211ull;
    return &table[(h % bucket_count) * NSS_CACHE_WAYS];
}

static void
entry_clear(struct entry *e)
{
    free(e->account);
    nss_account_clear(&e->acct);
    e->account = NULL;
    e->expires_ms = 0;
}

/* With the lock held: makes the table on first use. False when out of memory. */
static bool
table_ready(void)
{
    if (table != NULL)
        return true;
    bucket_count = (max_entries + NSS_CACHE_WAYS - 1) / NSS_CACHE_WAYS;
    table = calloc(bucket_count * NSS_CACHE_WAYS, sizeof(*table));
    return table != NULL;
}

void
nss_cache_configure(size_t entries, uint64_t ttl, nss_resolve_fn *resolve)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; table != NULL && i < bucket_count * NSS_CACHE_WAYS; i++)
        entry_clear(&table[i]);
    free(table);
    table = NULL;
    max_entries = entries != 0 ? entries : NSS_CACHE_DEFAULT_ENTRIES;
    ttl_ms = ttl;
    resolver = resolve;
    pthread_mutex_unlock(&lock);
}

size_t
nss_cache_count(void)
{
    size_t n = 0;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; table != NULL && i < bucket_count * NSS_CACHE_WAYS; i++)
        n += table[i].account != NULL;
    pthread_mutex_unlock(&lock);
    return n;
}

/* With the lock held: a copy of the live entry for account, if any. */
static bool
find(const char *account, uint64_t now_ms, struct nss_account *out, SECURITY_STATUS *st)
{
    struct entry *b = bucket_of(account);

    for (size_t i = 0; i < NSS_CACHE_WAYS; i++) {
        if (b[i].account != NULL && b[i].expires_ms > now_ms &&
            strcmp(b[i].account, account) == 0) {
            *st = account_copy(&b[i].acct, out);
            return true;
        }
    }
    return false;
}

/* With the lock held: stores a copy of acct (best effort). */
static void
store(const char *account, uint64_t now_ms, const struct nss_account *acct)
{
    struct entry *b = bucket_of(account), *slot = &b[0];
    struct entry fresh = {0};

    for (size_t i = 0; i < NSS_CACHE_WAYS; i++) {
        if (b[i].account != NULL && strcmp(b[i].account, account) == 0) {
            slot = &b[i];
            break;
        }
        if (b[i].expires_ms < slot->expires_ms)
            slot = &b[i]; /* empty (0) or expiring first */
    }
    fresh.account = strdup(account);
    if (fresh.account == NULL || account_copy(acct, &fresh.acct) != SEC_E_OK) {
        free(fresh.account);
        return;
    }
    fresh.expires_ms = now_ms + ttl_ms;
    entry_clear(slot);
    *slot = fresh;
}

SECURITY_STATUS
nss_cache_lookup_at(const char *account, uint64_t now_ms, struct nss_account *out)
{
    SECURITY_STATUS st = SEC_E_OK;
    nss_resolve_fn *resolve;
    bool cacheable;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&lock);
    resolve = resolver != NULL ? resolver : resolve_nss;
    cacheable = ttl_ms > 0 && strlen(account) <= NAME_MAX_LEN && table_ready();
    if (cacheable && find(account, now_ms, out, &st)) {
        pthread_mutex_unlock(&lock);
        return st;
    }
    pthread_mutex_unlock(&lock);
    st = resolve(account, out);
    if (st != SEC_E_OK || !cacheable)
        return st;
    pthread_mutex_lock(&lock);
    if (table != NULL) /* not reconfigured meanwhile */
        store(account, now_ms, out);
    pthread_mutex_unlock(&lock);
    return SEC_E_OK;
}

SECURITY_STATUS
nss_cache_lookup(const char *account, struct nss_account *out)
{
    return nss_cache_lookup_at(account, clock_monotonic_ms(), out);
}
