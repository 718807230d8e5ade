// SPDX-License-Identifier: MIT
// The auth_to_local cache (localname.h): a small table scanned under one
// mutex, the mapping done outside it. Answers "no local account" are kept
// too: they cost as much to find.
#include "sspi/kerberos/localname.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "sspi/kerberos/krb_internal.h"

#define PRINCIPAL_MAX_LEN 512 /* longer names are mapped but not cached */

struct entry {
    char *principal; /* NULL: empty */
    char *local;     /* NULL: no local account */
    uint64_t expires_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards everything below */
static struct entry table[KRB_LOCALNAME_ENTRIES];
static uint64_t ttl_ms = KRB_LOCALNAME_TTL_MS;
static krb_localname_fn *mapper;

/* Only through krb5's auth_to_local rules (by default: principals of the
 * default realm), never by the bare name. */
static SECURITY_STATUS
map_gss(const char *principal, char **local_out)
{
    OM_uint32 major, minor;
    gss_buffer_desc in = {strlen(principal), (void *)principal};
    gss_buffer_desc lname = GSS_C_EMPTY_BUFFER;
    gss_name_t name = GSS_C_NO_NAME;
    SECURITY_STATUS st = SEC_E_OK;

    *local_out = NULL;
    major = gss_import_name(&minor, &in, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &name);
    if (!GSS_ERROR(major))
        major = gss_localname(&minor, name, &krb_mech_oid, &lname);
    if (!GSS_ERROR(major) && lname.length > 0) {
        *local_out = strndup(lname.value, lname.length);
        if (*local_out == NULL)
            st = SEC_E_INSUFFICIENT_MEMORY;
    }
    gss_release_buffer(&minor, &lname);
    if (name != GSS_C_NO_NAME)
        gss_release_name(&minor, &name);
    return st;
}

static void
entry_clear(struct entry *e)
{
    free(e->principal);
    free(e->local);
    memset(e, 0, sizeof(*e));
}

void
krb_localname_configure(uint64_t ttl, krb_localname_fn *map)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < KRB_LOCALNAME_ENTRIES; i++)
        entry_clear(&table[i]);
    ttl_ms = ttl;
    mapper = map;
    pthread_mutex_unlock(&lock);
}

/* With the lock held: true and a copy of the answer when principal is live. */
static bool
find(const char *principal, uint64_t now_ms, char **local_out, SECURITY_STATUS *st)
{
    for (size_t i = 0; i < KRB_LOCALNAME_ENTRIES; i++) {
        struct entry *e = &table[i];
        if (e->principal == NULL || e->expires_ms <= now_ms || strcmp(e->principal, principal) != 0)
            continue;
        *local_out = e->local != NULL ? strdup(e->local) : NULL;
        *st = e->local != NULL && *local_out == NULL ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
        return true;
    }
    return false;
}

/* With the lock held: stores the answer (best effort), replacing the same
 * principal or the entry closest to expiry. */
static void
store(const char *principal, const char *local, uint64_t now_ms)
{
    struct entry *slot = &table[0];
    struct entry fresh = {0};

    for (size_t i = 0; i < KRB_LOCALNAME_ENTRIES; i++) {
        if (table[i].principal != NULL && strcmp(table[i].principal, principal) == 0) {
            slot = &table[i];
            break;
        }
        if (table[i].expires_ms < slot->expires_ms)
            slot = &table[i];
    }
    fresh.principal = strdup(principal);
    fresh.local = local != NULL ? strdup(local) : NULL;
    if (fresh.principal == NULL || (local != NULL && fresh.local == NULL)) {
        entry_clear(&fresh);
        return;
    }
    fresh.expires_ms = now_ms + ttl_ms;
    entry_clear(slot);
    *slot = fresh;
}

SECURITY_STATUS
krb_localname_at(const char *principal, uint64_t now_ms, char **local_out)
{
    SECURITY_STATUS st = SEC_E_OK;
    krb_localname_fn *map;
    bool cacheable;

    *local_out = NULL;
    pthread_mutex_lock(&lock);
    map = mapper != NULL ? mapper : map_gss;
    cacheable = ttl_ms > 0 && strlen(principal) <= PRINCIPAL_MAX_LEN;
    if (cacheable && find(principal, now_ms, local_out, &st)) {
        pthread_mutex_unlock(&lock);
        return st;
    }
    pthread_mutex_unlock(&lock);
    st = map(principal, local_out);
    if (st != SEC_E_OK || !cacheable)
        return st;
    pthread_mutex_lock(&lock);
    store(principal, *local_out, now_ms);
    pthread_mutex_unlock(&lock);
    return SEC_E_OK;
}

SECURITY_STATUS
krb_localname(const char *principal, char **local_out)
{
    return krb_localname_at(principal, clock_monotonic_ms(), local_out);
}
