// SPDX-License-Identifier: MIT
// gh_token: an immutable identity record with an atomic reference count, and
// per-thread impersonation.
//
// Impersonation changes only what the kernel checks on file access: fsuid,
// fsgid and the supplementary groups. All three are per-thread credentials in
// Linux, but glibc's setgroups() broadcasts to every thread of the process (it
// implements POSIX's process-wide semantics), so the raw system call is used
// instead; setfsuid/setfsgid are plain system calls already. The real,
// effective and saved ids never change, so a revert cannot be refused.
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gatehouse/token.h>
#include <gatehouse/wintypes.h>

#include "sspi/accounts.h"
#include "sspi/nss_cache.h"
#include "sspi/sid.h"
#include "sspi/sid_names.h"
#include "sspi/store/userstore.h"
#include "sspi/token_internal.h"
#include "sspi/wide.h"

#define GROUPS_MAX 4096
#define FIELD_MAX  4096

/* CloseHandle() accepts any HANDLE: this word tells a token from anything
 * else handed to it. */
#define TOKEN_MAGIC 0x4748544bu /* "GHTK" */

struct gh_token {
    uint32_t magic; /* TOKEN_MAGIC while alive */
    atomic_long refs;
    char *user;
    char *domain;
    char *principal;
    char *package;
    char **groups;
    size_t group_count;
    bool has_ids;
    uid_t uid;
    gid_t gid;
    gid_t *gids; /* supplementary groups of the local account */
    size_t gid_count;
    time_t logon_time;
    time_t expiry;
    char *ccache;
    bool owns_ccache;
    /* A Windows identity (token_internal.h); all NULL / 0 without one. */
    char *user_sid;
    char **group_sids;     /* group_count entries, parallel to groups */
    uint32_t *group_attrs; /* group_count entries */
    char **group_names;    /* group_count entries, NULL where unnamed */
    size_t sid_slots;      /* entries allocated in the three arrays above */
    char *logon_domain;
    char *dns_domain;
    char *upn;
    /* On the list of live tokens with a Windows identity (live_lock). */
    bool is_live;
    gh_token *live_prev, *live_next;
};

/* Live tokens with a Windows identity: what LookupAccountSid knows of the
 * accounts that logged on, as Windows' LSA knows its logon sessions
 * (sspi_token_find_sid / _find_name). Tokens without one are not listed. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static gh_token *live_head;

static void
live_add(gh_token *t)
{
    pthread_mutex_lock(&live_lock);
    t->live_next = live_head;
    if (live_head != NULL)
        live_head->live_prev = t;
    live_head = t;
    t->is_live = true;
    pthread_mutex_unlock(&live_lock);
}

static void
live_remove(gh_token *t)
{
    if (!t->is_live)
        return;
    pthread_mutex_lock(&live_lock);
    if (t->live_prev != NULL)
        t->live_prev->live_next = t->live_next;
    else
        live_head = t->live_next;
    if (t->live_next != NULL)
        t->live_next->live_prev = t->live_prev;
    pthread_mutex_unlock(&live_lock);
    t->is_live = false;
}

static void
token_free(gh_token *t)
{
    live_remove(t);
    t->magic = 0;
    if (t->ccache != NULL && t->owns_ccache) {
        const char *path = t->ccache;

        if (strncmp(path, "FILE:", 5) == 0)
            path += 5;
        if (path[0] == '/')
            unlink(path); /* the delegated ticket must not outlive its holder */
    }
    free(t->user);
    free(t->domain);
    free(t->principal);
    free(t->package);
    for (size_t i = 0; i < t->group_count; i++)
        free(t->groups[i]);
    free(t->groups);
    free(t->gids);
    free(t->ccache);
    for (size_t i = 0; i < t->sid_slots; i++) {
        free(t->group_sids[i]);
        free(t->group_names[i]);
    }
    free(t->group_sids);
    free(t->group_names);
    free(t->group_attrs);
    free(t->user_sid);
    free(t->logon_domain);
    free(t->dns_domain);
    free(t->upn);
    free(t);
}

gh_token *
gh_token_dup(gh_token *token)
{
    if (token != NULL)
        atomic_fetch_add(&token->refs, 1);
    return token;
}

void
gh_token_close(gh_token *token)
{
    if (token != NULL && atomic_fetch_sub(&token->refs, 1) == 1)
        token_free(token);
}

bool
sspi_token_is_handle(const void *h)
{
    const gh_token *token = h;

    return token != NULL && h != (const void *)INVALID_HANDLE_VALUE && token->magic == TOKEN_MAGIC;
}

BOOL WINAPI
CloseHandle(HANDLE hObject)
{
    gh_token *token = hObject;

    if (token == NULL || hObject == INVALID_HANDLE_VALUE || token->magic != TOKEN_MAGIC)
        return FALSE;
    gh_token_close(token);
    return TRUE;
}

const char *
gh_token_user(const gh_token *token)
{
    return token != NULL ? token->user : NULL;
}

const char *
gh_token_domain(const gh_token *token)
{
    return token != NULL ? token->domain : NULL;
}

const char *
gh_token_principal(const gh_token *token)
{
    return token != NULL ? token->principal : NULL;
}

const char *
gh_token_package(const gh_token *token)
{
    return token != NULL ? token->package : NULL;
}

size_t
gh_token_group_count(const gh_token *token)
{
    return token != NULL ? token->group_count : 0;
}

const char *
gh_token_group(const gh_token *token, size_t index)
{
    if (token == NULL || index >= token->group_count)
        return NULL;
    return token->groups[index];
}

int
gh_token_unix_ids(const gh_token *token, uid_t *uid_out, gid_t *gid_out)
{
    if (token == NULL || !token->has_ids)
        return GH_ENOTFOUND;
    if (uid_out != NULL)
        *uid_out = token->uid;
    if (gid_out != NULL)
        *gid_out = token->gid;
    return GH_OK;
}

time_t
gh_token_logon_time(const gh_token *token)
{
    return token != NULL ? token->logon_time : 0;
}

time_t
gh_token_expiry(const gh_token *token)
{
    return token != NULL ? token->expiry : 0;
}

const char *
gh_token_delegated_ccache(const gh_token *token)
{
    return token != NULL ? token->ccache : NULL;
}

const char *
gh_token_user_sid(const gh_token *token)
{
    return token != NULL ? token->user_sid : NULL;
}

const char *
gh_token_group_sid(const gh_token *token, size_t index)
{
    if (token == NULL || token->group_sids == NULL || index >= token->group_count)
        return NULL;
    return token->group_sids[index];
}

const char *
gh_token_group_sid_name(const gh_token *token, size_t index)
{
    if (token == NULL || token->group_names == NULL || index >= token->group_count)
        return NULL;
    return token->group_names[index];
}

uint32_t
gh_token_group_attributes(const gh_token *token, size_t index)
{
    if (token == NULL || token->group_attrs == NULL || index >= token->group_count)
        return 0;
    return token->group_attrs[index];
}

const char *
gh_token_logon_domain(const gh_token *token)
{
    return token != NULL ? token->logon_domain : NULL;
}

const char *
gh_token_dns_domain(const gh_token *token)
{
    return token != NULL ? token->dns_domain : NULL;
}

const char *
gh_token_upn(const gh_token *token)
{
    return token != NULL ? token->upn : NULL;
}

/* ---- Construction --------------------------------------------------------- */
static bool
field_ok(const char *s)
{
    size_t len;

    if (s == NULL)
        return true;
    len = strnlen(s, FIELD_MAX + 1);
    return len <= FIELD_MAX && wide_utf8_valid(s, len);
}

static SECURITY_STATUS
add_group(gh_token *t, const char *name)
{
    char *copy;

    if (t->group_count >= GROUPS_MAX)
        return SEC_E_OK; /* a bounded record: further groups are dropped */
    copy = strdup(name);
    if (copy == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    t->groups[t->group_count++] = copy;
    return SEC_E_OK;
}

static SECURITY_STATUS
dup_field(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return SEC_E_OK;
    *out = strdup(s);
    return *out != NULL ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

/* The groups of a Windows identity: the SIDs in canonical form, their
 * names from the SID name cache, and as the display list (groups) the name
 * or, unnamed, the SID. */
static SECURITY_STATUS
add_sid_groups(gh_token *t, const struct sspi_token_info *info)
{
    size_t n = info->group_sid_count > GROUPS_MAX ? GROUPS_MAX : info->group_sid_count;
    struct sid *sids = calloc(n > 0 ? n : 1, sizeof(*sids));
    char canon[SID_STRING_MAX];
    SECURITY_STATUS st = SEC_E_OK;

    t->group_sids = calloc(n > 0 ? n : 1, sizeof(*t->group_sids));
    t->group_names = calloc(n > 0 ? n : 1, sizeof(*t->group_names));
    t->group_attrs = calloc(n > 0 ? n : 1, sizeof(*t->group_attrs));
    if (sids == NULL || t->group_sids == NULL || t->group_names == NULL || t->group_attrs == NULL) {
        free(sids);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    t->sid_slots = n;
    for (size_t i = 0; i < n; i++) {
        if (info->group_sids[i] == NULL || !sid_from_string(info->group_sids[i], &sids[i])) {
            free(sids);
            return SEC_E_INVALID_PARAMETER;
        }
    }
    if (info->lookup_names)
        st = sid_names_lookup(sids, n, 0, t->group_names);
    for (size_t i = 0; i < n && st == SEC_E_OK; i++) {
        (void)sid_to_string(&sids[i], canon, sizeof(canon));
        st = add_group(t, t->group_names[i] != NULL ? t->group_names[i] : canon);
        if (st == SEC_E_OK)
            st = dup_field(canon, &t->group_sids[i]);
        t->group_attrs[i] = info->group_sid_attributes != NULL ? info->group_sid_attributes[i] : 7;
    }
    free(sids);
    return st;
}

static SECURITY_STATUS
set_windows_identity(gh_token *t, const struct sspi_token_info *info)
{
    struct sid user;
    char canon[SID_STRING_MAX];
    SECURITY_STATUS st;

    if (!sid_from_string(info->user_sid, &user) || !sid_to_string(&user, canon, sizeof(canon)))
        return SEC_E_INVALID_PARAMETER;
    st = dup_field(canon, &t->user_sid);
    if (st == SEC_E_OK)
        st = dup_field(info->logon_domain, &t->logon_domain);
    if (st == SEC_E_OK)
        st = dup_field(info->dns_domain, &t->dns_domain);
    if (st == SEC_E_OK)
        st = dup_field(info->upn, &t->upn);
    return st;
}

SECURITY_STATUS
sspi_token_create(const struct sspi_token_info *info, gh_token **token_out)
{
    const char *const *store_groups = NULL;
    size_t store_count = 0, want_groups = 0;
    struct nss_account acct = {0};
    SECURITY_STATUS status;
    gh_token *t;

    if (info == NULL || info->user == NULL || info->package == NULL || info->user[0] == '\0' ||
        !field_ok(info->user) || !field_ok(info->domain) || !field_ok(info->principal) ||
        !field_ok(info->package) || !field_ok(info->delegated_ccache) ||
        !field_ok(info->logon_domain) || !field_ok(info->dns_domain) || !field_ok(info->upn) ||
        (info->user_sid != NULL && info->group_sid_count > 0 && info->group_sids == NULL))
        return SEC_E_INVALID_PARAMETER;
    for (size_t i = 0; info->groups != NULL && i < info->group_count; i++) {
        if (info->groups[i] == NULL || !field_ok(info->groups[i]))
            return SEC_E_INVALID_PARAMETER;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    t->magic = TOKEN_MAGIC;
    atomic_init(&t->refs, 1);
    t->logon_time = info->logon_time != 0 ? info->logon_time : time(NULL);
    t->expiry = info->expiry;
    t->owns_ccache = info->owns_ccache;
    status = dup_field(info->user, &t->user);
    if (status == SEC_E_OK)
        status = dup_field(info->domain != NULL ? info->domain : "", &t->domain);
    if (status == SEC_E_OK)
        status = dup_field(info->package, &t->package);
    if (status == SEC_E_OK)
        status = dup_field(info->delegated_ccache, &t->ccache);
    if (status == SEC_E_OK && info->principal != NULL) {
        status = dup_field(info->principal, &t->principal);
    } else if (status == SEC_E_OK) {
        size_t n = strlen(t->user) + strlen(t->domain) + 2;

        t->principal = malloc(n);
        if (t->principal == NULL)
            status = SEC_E_INSUFFICIENT_MEMORY;
        else if (t->domain[0] != '\0')
            snprintf(t->principal, n, "%s@%s", t->user, t->domain);
        else
            snprintf(t->principal, n, "%s", t->user);
    }
    /* The local account through the NSS cache (nss_cache.h): a lookup per
     * handshake would cost more than the handshake. */
    if (status == SEC_E_OK && info->local_account != NULL)
        status = nss_cache_lookup(info->local_account, &acct);
    if (status != SEC_E_OK)
        goto fail;
    if (acct.found) {
        t->has_ids = true;
        t->uid = acct.uid;
        t->gid = acct.gid;
        t->gids = acct.gids;
        t->gid_count = acct.gid_count;
        acct.gids = NULL; /* moved to the token */
    }

    if (info->user_sid != NULL) {
        status = set_windows_identity(t, info);
        if (status == SEC_E_OK && info->groups == NULL) {
            t->groups =
                calloc(info->group_sid_count > 0 ? info->group_sid_count : 1, sizeof(*t->groups));
            status = t->groups == NULL ? SEC_E_INSUFFICIENT_MEMORY : add_sid_groups(t, info);
            if (status != SEC_E_OK)
                goto fail;
            goto done;
        }
        if (status != SEC_E_OK)
            goto fail;
    }
    if (info->groups != NULL)
        want_groups = info->group_count;
    else if (info->store != NULL &&
             userstore_groups(info->store, info->user, &store_groups, &store_count) == GH_OK)
        want_groups = store_count;
    else if (t->has_ids)
        want_groups = t->gid_count;
    if (want_groups > GROUPS_MAX)
        want_groups = GROUPS_MAX;
    t->groups = calloc(want_groups > 0 ? want_groups : 1, sizeof(*t->groups));
    if (t->groups == NULL) {
        status = SEC_E_INSUFFICIENT_MEMORY;
        goto fail;
    }
    if (info->groups != NULL) {
        for (size_t i = 0; i < want_groups && status == SEC_E_OK; i++)
            status = add_group(t, info->groups[i]);
    } else if (store_groups != NULL) {
        for (size_t i = 0; i < want_groups && status == SEC_E_OK; i++)
            status = add_group(t, store_groups[i]);
    } else if (t->has_ids) {
        for (size_t i = 0; i < want_groups && status == SEC_E_OK; i++)
            status = add_group(t, acct.group_names[i]);
    }
    if (status != SEC_E_OK)
        goto fail;
done:
    nss_account_clear(&acct);
    if (t->user_sid != NULL)
        live_add(t);
    *token_out = t;
    return SEC_E_OK;
fail:
    nss_account_clear(&acct);
    t->owns_ccache = false; /* the caller still owns the file */
    token_free(t);
    return status;
}

/* ---- Accounts the live tokens know (accounts.h) ----------------------------- */

static int
group_use(const char *sid_text)
{
    return strncmp(sid_text, "S-1-5-32-", 9) == 0 ? SidTypeAlias : SidTypeGroup;
}

/* Splits "DOMAIN\name" (or "name") into out's fields. */
static bool
set_split_name(const char *full, struct account *out)
{
    const char *sep = strchr(full, '\\');
    size_t dlen = sep != NULL ? (size_t)(sep - full) : 0;

    if (dlen >= sizeof(out->domain))
        return false;
    memcpy(out->domain, full, dlen);
    out->domain[dlen] = '\0';
    return accounts_set_field(out->name, sep != NULL ? sep + 1 : full);
}

static bool
user_account(const gh_token *t, struct account *out)
{
    const char *domain = t->logon_domain != NULL ? t->logon_domain : t->domain;

    out->use = SidTypeUser;
    return sid_from_string(t->user_sid, &out->sid) && accounts_set_field(out->domain, domain) &&
           accounts_set_field(out->name, t->user);
}

bool
sspi_token_find_sid(const struct sid *sid, struct account *out)
{
    char text[SID_STRING_MAX];
    bool found = false;

    if (!sid_to_string(sid, text, sizeof(text)))
        return false;
    pthread_mutex_lock(&live_lock);
    for (const gh_token *t = live_head; t != NULL && !found; t = t->live_next) {
        if (strcmp(t->user_sid, text) == 0) {
            found = user_account(t, out);
            continue;
        }
        for (size_t i = 0; i < t->sid_slots && !found; i++) {
            if (t->group_names[i] == NULL || t->group_sids[i] == NULL ||
                strcmp(t->group_sids[i], text) != 0)
                continue;
            out->sid = *sid;
            out->use = group_use(text);
            found = set_split_name(t->group_names[i], out);
        }
    }
    pthread_mutex_unlock(&live_lock);
    return found;
}

static bool
same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static bool
in_domain(const gh_token *t, const char *domain)
{
    return domain == NULL || same(domain, t->logon_domain) || same(domain, t->dns_domain) ||
           same(domain, t->domain);
}

bool
sspi_token_find_name(const char *domain, const char *name, struct account *out)
{
    bool found = false;

    pthread_mutex_lock(&live_lock);
    for (const gh_token *t = live_head; t != NULL && !found; t = t->live_next) {
        if (same(name, t->user) && in_domain(t, domain)) {
            found = user_account(t, out);
            continue;
        }
        for (size_t i = 0; i < t->sid_slots && !found; i++) {
            struct account g;
            if (t->group_names[i] == NULL || t->group_sids[i] == NULL ||
                !set_split_name(t->group_names[i], &g) || !same(name, g.name) ||
                (domain != NULL && !same(domain, g.domain)) ||
                !sid_from_string(t->group_sids[i], &g.sid))
                continue;
            g.use = group_use(t->group_sids[i]);
            *out = g;
            found = true;
        }
    }
    pthread_mutex_unlock(&live_lock);
    return found;
}

/* ---- Impersonation ---------------------------------------------------------- */
struct saved_identity {
    bool active;
    gh_token *token;    /* a reference, held while active */
    char user[256 + 1]; /* the impersonated account (GetUserName; UNLEN 256) */
    uid_t fsuid;
    gid_t fsgid;
    gid_t *groups; /* owned */
    size_t group_count;
};

/* A thread must revert before it exits, or its saved group list leaks. */
static _Thread_local struct saved_identity saved;

static uid_t
current_fsuid(void)
{
    return (uid_t)setfsuid((uid_t)-1); /* an invalid id changes nothing, returns the current */
}

static gid_t
current_fsgid(void)
{
    return (gid_t)setfsgid((gid_t)-1);
}

static int
thread_setgroups(size_t count, const gid_t *groups)
{
    return (int)syscall(SYS_setgroups, count, groups);
}

static SECURITY_STATUS
save_identity(void)
{
    int n = getgroups(0, NULL);

    if (n < 0)
        return SEC_E_INTERNAL_ERROR;
    saved.groups = malloc((size_t)(n > 0 ? n : 1) * sizeof(gid_t));
    if (saved.groups == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    n = getgroups(n, saved.groups);
    if (n < 0) {
        free(saved.groups);
        saved.groups = NULL;
        return SEC_E_INTERNAL_ERROR;
    }
    saved.group_count = (size_t)n;
    saved.fsuid = current_fsuid();
    saved.fsgid = current_fsgid();
    return SEC_E_OK;
}

static bool
restore_identity(void)
{
    bool ok = true;

    setfsuid(saved.fsuid);
    setfsgid(saved.fsgid);
    if (thread_setgroups(saved.group_count, saved.groups) != 0)
        ok = false;
    return ok && current_fsuid() == saved.fsuid && current_fsgid() == saved.fsgid;
}

SECURITY_STATUS
sspi_token_impersonate(gh_token *token)
{
    bool was_active = saved.active;
    SECURITY_STATUS status;

    if (token == NULL || !token->has_ids)
        return SEC_E_NO_IMPERSONATION;
    if (!was_active) {
        status = save_identity();
        if (status != SEC_E_OK)
            return status;
    }
    /* Groups first: setgroups needs CAP_SETGID, which the thread keeps, but
     * the order makes every failure below restorable from `saved`. */
    if (thread_setgroups(token->gid_count, token->gids) != 0)
        goto refused;
    setfsgid(token->gid);
    if (current_fsgid() != token->gid)
        goto refused;
    setfsuid(token->uid);
    if (current_fsuid() != token->uid)
        goto refused;
    saved.active = true;
    gh_token_close(saved.token); /* the previous impersonation's, if any */
    saved.token = gh_token_dup(token);
    snprintf(saved.user, sizeof(saved.user), "%s", token->user != NULL ? token->user : "");
    return SEC_E_OK;
refused:
    restore_identity();
    gh_token_close(saved.token);
    free(saved.groups);
    saved = (struct saved_identity){0};
    return SEC_E_NO_IMPERSONATION;
}

SECURITY_STATUS
sspi_token_revert(void)
{
    bool ok;

    if (!saved.active)
        return SEC_E_OK;
    ok = restore_identity();
    gh_token_close(saved.token);
    free(saved.groups);
    saved = (struct saved_identity){0};
    return ok ? SEC_E_OK : SEC_E_INTERNAL_ERROR;
}

const char *
sspi_token_impersonated_user(void)
{
    return saved.active ? saved.user : NULL;
}

bool
sspi_token_is_impersonating(void)
{
    return saved.active;
}

gh_token *
sspi_token_impersonated(void)
{
    return saved.active ? saved.token : NULL;
}
