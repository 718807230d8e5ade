// SPDX-License-Identifier: MIT
// The winbind NTLM back end: the domain controller checks the client's NTLMv2
// response through winbindd's network logon (NetrLogonSamLogon with a
// challenge/response, what wbcAuthenticateUserEx sends at
// WBC_AUTH_USER_LEVEL_RESPONSE), and answers with the user session key (for
// NTLMv2 the SessionBaseKey, MS-NLMP 3.3.2) and the account's SIDs and names.
//
// Why a pool of wbcContexts: one context is one connection to winbindd and is
// not safe for concurrent use; the default (global) context of libwbclient is
// shared by every thread. Each logon takes an idle context (or makes one) and
// gives it back; one that saw winbindd go away is dropped, so the next logon
// connects afresh.
//
// Failures are told apart because they mean different things to an operator:
// the DC's refusal of the account (disabled, expired, locked...) is a logon
// denied with its reason; a winbindd or DC that cannot be reached is
// SEC_E_NO_AUTHENTICATING_AUTHORITY (the client is not at fault), with a text
// that says what to check.
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wbclient.h>

#include "base/secret.h"
#include "sspi/ntlm/backend.h"

#define IDLE_MAX         16  /* idle winbindd connections kept; more are closed after use */
#define WINBIND_NAME_MAX 255 /* bytes of a name in a winbindd request (fstring) */

struct winbind {
    pthread_mutex_t lock;
    struct wbcContext *idle[IDLE_MAX];
    size_t idle_count;
    /* The last domain's realm (its DNS name in capitals), for principals:
     * a network logon's answer does not carry it. Under lock. */
    char realm_domain[64];
    char realm[256];
};

/* NTSTATUS values (MS-ERREF 2.3.1) a network logon may return. */
static const struct {
    uint32_t code;
    const char *name;
    SECURITY_STATUS status;
    const char *reason;
    unsigned long detail; /* GH_SEC_DETAIL_*: the audit reason */
} nt_statuses[] = {
    {0xC000006Du, "NT_STATUS_LOGON_FAILURE", SEC_E_LOGON_DENIED, "unknown user or wrong password",
     GH_SEC_DETAIL_WRONG_PASSWORD},
    {0xC000006Au, "NT_STATUS_WRONG_PASSWORD", SEC_E_LOGON_DENIED, "unknown user or wrong password",
     GH_SEC_DETAIL_WRONG_PASSWORD},
    {0xC0000064u, "NT_STATUS_NO_SUCH_USER", SEC_E_LOGON_DENIED, "unknown user or wrong password",
     GH_SEC_DETAIL_UNKNOWN_USER},
    {0xC0000072u, "NT_STATUS_ACCOUNT_DISABLED", SEC_E_LOGON_DENIED, "account disabled",
     GH_SEC_DETAIL_ACCOUNT_DISABLED},
    {0xC0000071u, "NT_STATUS_PASSWORD_EXPIRED", SEC_E_LOGON_DENIED, "password expired",
     GH_SEC_DETAIL_PASSWORD_EXPIRED},
    {0xC0000224u, "NT_STATUS_PASSWORD_MUST_CHANGE", SEC_E_LOGON_DENIED, "password must change",
     GH_SEC_DETAIL_PASSWORD_EXPIRED},
    {0xC0000234u, "NT_STATUS_ACCOUNT_LOCKED_OUT", SEC_E_LOGON_DENIED, "account locked",
     GH_SEC_DETAIL_ACCOUNT_DISABLED},
    {0xC0000193u, "NT_STATUS_ACCOUNT_EXPIRED", SEC_E_LOGON_DENIED, "account expired",
     GH_SEC_DETAIL_ACCOUNT_DISABLED},
    {0xC000006Eu, "NT_STATUS_ACCOUNT_RESTRICTION", SEC_E_LOGON_DENIED, "account restriction",
     GH_SEC_DETAIL_NONE},
    {0xC000006Fu, "NT_STATUS_INVALID_LOGON_HOURS", SEC_E_LOGON_DENIED, "outside logon hours",
     GH_SEC_DETAIL_NONE},
    {0xC0000070u, "NT_STATUS_INVALID_WORKSTATION", SEC_E_LOGON_DENIED, "workstation not allowed",
     GH_SEC_DETAIL_NONE},
    {0xC000015Bu, "NT_STATUS_LOGON_TYPE_NOT_GRANTED", SEC_E_LOGON_DENIED, "logon type not granted",
     GH_SEC_DETAIL_NONE},
    {0xC0000413u, "NT_STATUS_AUTHENTICATION_FIREWALL_FAILED", SEC_E_LOGON_DENIED,
     "authentication firewall", GH_SEC_DETAIL_NONE},
    {0xC0000022u, "NT_STATUS_ACCESS_DENIED", SEC_E_LOGON_DENIED, "access denied by the DC",
     GH_SEC_DETAIL_NONE},
    /* The DC, or the way to it, is the problem. */
    {0xC000005Eu, "NT_STATUS_NO_LOGON_SERVERS", SEC_E_NO_AUTHENTICATING_AUTHORITY,
     "no domain controller reachable", GH_SEC_DETAIL_NONE},
    {0xC00000DFu, "NT_STATUS_NO_SUCH_DOMAIN", SEC_E_NO_AUTHENTICATING_AUTHORITY, "domain not found",
     GH_SEC_DETAIL_NONE},
    {0xC0000233u, "NT_STATUS_DOMAIN_CONTROLLER_NOT_FOUND", SEC_E_NO_AUTHENTICATING_AUTHORITY,
     "no domain controller reachable", GH_SEC_DETAIL_NONE},
    {0xC0000192u, "NT_STATUS_NETLOGON_NOT_STARTED", SEC_E_NO_AUTHENTICATING_AUTHORITY,
     "netlogon not started", GH_SEC_DETAIL_NONE},
    {0xC000018Du, "NT_STATUS_TRUSTED_RELATIONSHIP_FAILURE", SEC_E_NO_AUTHENTICATING_AUTHORITY,
     "broken trust with the domain", GH_SEC_DETAIL_NONE},
    {0xC000018Bu, "NT_STATUS_NO_TRUST_SAM_ACCOUNT", SEC_E_NO_AUTHENTICATING_AUTHORITY,
     "this machine has no account in the domain", GH_SEC_DETAIL_NONE},
    {0xC00000B5u, "NT_STATUS_IO_TIMEOUT", SEC_E_NO_AUTHENTICATING_AUTHORITY,
     "timeout talking to the domain controller", GH_SEC_DETAIL_NONE},
    {0xC0000236u, "NT_STATUS_CONNECTION_REFUSED", SEC_E_NO_AUTHENTICATING_AUTHORITY,
     "domain controller refused the connection", GH_SEC_DETAIL_NONE},
    {0xC000020Cu, "NT_STATUS_CONNECTION_DISCONNECTED", SEC_E_NO_AUTHENTICATING_AUTHORITY,
     "connection to the domain controller lost", GH_SEC_DETAIL_NONE},
};

struct ntlm_winbind_failure
ntlm_winbind_map_failure(int wbc_err, uint32_t nt_status)
{
    switch (wbc_err) {
    case WBC_ERR_AUTH_ERROR:
        for (size_t i = 0; i < sizeof(nt_statuses) / sizeof(nt_statuses[0]); i++) {
            if (nt_statuses[i].code == nt_status)
                return (struct ntlm_winbind_failure){nt_statuses[i].status, nt_statuses[i].reason,
                                                     nt_statuses[i].name, nt_statuses[i].detail};
        }
        /* Any other refusal is still a refusal of this logon. */
        return (struct ntlm_winbind_failure){SEC_E_LOGON_DENIED, "logon refused by the DC", NULL,
                                             GH_SEC_DETAIL_NONE};
    case WBC_ERR_UNKNOWN_USER:
        return (struct ntlm_winbind_failure){SEC_E_LOGON_DENIED, "unknown user or wrong password",
                                             NULL, GH_SEC_DETAIL_UNKNOWN_USER};
    case WBC_ERR_WINBIND_NOT_AVAILABLE:
        return (struct ntlm_winbind_failure){SEC_E_NO_AUTHENTICATING_AUTHORITY,
                                             "winbind is not available", NULL, GH_SEC_DETAIL_NONE};
    case WBC_ERR_DOMAIN_NOT_FOUND:
        return (struct ntlm_winbind_failure){SEC_E_NO_AUTHENTICATING_AUTHORITY, "domain not found",
                                             NULL, GH_SEC_DETAIL_NONE};
    case WBC_ERR_INVALID_RESPONSE:
        return (struct ntlm_winbind_failure){SEC_E_NO_AUTHENTICATING_AUTHORITY,
                                             "invalid answer from winbindd", NULL,
                                             GH_SEC_DETAIL_NONE};
    case WBC_ERR_NO_MEMORY:
        return (struct ntlm_winbind_failure){SEC_E_INSUFFICIENT_MEMORY, "out of memory", NULL,
                                             GH_SEC_DETAIL_NONE};
    default:
        return (struct ntlm_winbind_failure){SEC_E_INTERNAL_ERROR, "winbind call failed", NULL,
                                             GH_SEC_DETAIL_NONE};
    }
}

bool
ntlm_winbind_domain(char *out, size_t len)
{
    struct wbcInterfaceDetails *details = NULL;
    bool ok = WBC_ERROR_IS_OK(wbcInterfaceDetails(&details)) && details != NULL &&
              details->netbios_domain != NULL && details->netbios_domain[0] != '\0' &&
              strlen(details->netbios_domain) < len;

    if (ok)
        snprintf(out, len, "%s", details->netbios_domain);
    wbcFreeMemory(details);
    return ok;
}

SECURITY_STATUS
ntlm_winbind_create(void **state_out)
{
    struct winbind *w = calloc(1, sizeof(*w));

    *state_out = NULL;
    if (w == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    *state_out = w;
    return SEC_E_OK;
}

static void
winbind_destroy(void *state)
{
    struct winbind *w = state;

    if (w == NULL)
        return;
    for (size_t i = 0; i < w->idle_count; i++)
        wbcCtxFree(w->idle[i]);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static struct wbcContext *
ctx_take(struct winbind *w)
{
    struct wbcContext *c = NULL;

    pthread_mutex_lock(&w->lock);
    if (w->idle_count > 0)
        c = w->idle[--w->idle_count];
    pthread_mutex_unlock(&w->lock);
    return c != NULL ? c : wbcCtxCreate();
}

static void
ctx_give(struct winbind *w, struct wbcContext *c)
{
    pthread_mutex_lock(&w->lock);
    if (w->idle_count < IDLE_MAX) {
        w->idle[w->idle_count++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    if (c != NULL)
        wbcCtxFree(c);
}

static char *
sid_text(const struct wbcDomainSid *sid)
{
    char text[WBC_SID_STRING_BUFLEN];
    int n = wbcSidToStringBuf(sid, text, (int)sizeof(text));

    if (n <= 0 || (size_t)n >= sizeof(text))
        return NULL;
    return strdup(text);
}

static char *
dup_nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

/* The realm of NetBIOS domain `domain` into realm_out ("" when winbind does
 * not know it), asked once per domain change. */
static void
domain_realm(struct winbind *w, struct wbcContext *c, const char *domain, char *realm_out,
             size_t realm_len)
{
    struct wbcDomainInfo *dinfo = NULL;

    realm_out[0] = '\0';
    pthread_mutex_lock(&w->lock);
    bool hit = strcasecmp(w->realm_domain, domain) == 0;
    if (hit)
        snprintf(realm_out, realm_len, "%s", w->realm);
    pthread_mutex_unlock(&w->lock);
    if (hit || strlen(domain) >= sizeof(w->realm_domain))
        return;
    if (wbcCtxDomainInfo(c, domain, &dinfo) != WBC_ERR_SUCCESS || dinfo == NULL ||
        dinfo->dns_name == NULL || strlen(dinfo->dns_name) >= sizeof(w->realm)) {
        wbcFreeMemory(dinfo);
        return;
    }
    size_t i = 0;
    for (; dinfo->dns_name[i] != '\0' && i + 1 < realm_len; i++)
        realm_out[i] = (char)toupper((unsigned char)dinfo->dns_name[i]);
    realm_out[i] = '\0';
    wbcFreeMemory(dinfo);
    pthread_mutex_lock(&w->lock);
    snprintf(w->realm_domain, sizeof(w->realm_domain), "%s", domain);
    snprintf(w->realm, sizeof(w->realm), "%s", realm_out);
    pthread_mutex_unlock(&w->lock);
}

/* What the DC told us, into our result. sids[0] is the account, sids[1] its
 * primary group, the rest its other groups (wbclient.h). */
static SECURITY_STATUS
take_info(const struct wbcAuthUserInfo *info, const struct ntlm_logon *in, const char *realm,
          struct ntlm_logon_result *out)
{
    const char *account =
        info->account_name != NULL && info->account_name[0] != '\0' ? info->account_name : in->user;
    const char *domain =
        info->domain_name != NULL && info->domain_name[0] != '\0' ? info->domain_name : in->domain;

    memcpy(out->session_base_key, info->user_session_key, 16);
    out->user = strdup(account);
    out->domain = strdup(domain);
    /* The principal a Kerberos logon of the same account would show:
     * account@REALM (the realm of an AD domain is its DNS name in capitals),
     * else the UPN when the DC gives one. */
    out->upn = dup_nonempty(info->user_principal);
    out->dns_domain = dup_nonempty(realm);
    if (realm[0] != '\0') {
        size_t plen = strlen(account) + strlen(realm) + 2;
        out->principal = malloc(plen);
        if (out->principal != NULL)
            snprintf(out->principal, plen, "%s@%s", account, realm);
    } else {
        out->principal = dup_nonempty(info->user_principal);
    }
    /* NSS (winbind's nss module) spells domain accounts DOMAIN\user; a bare
     * name could be an unrelated local account. */
    size_t len = strlen(domain) + strlen(account) + 2;
    out->local_account = malloc(len);
    if (out->user == NULL || out->domain == NULL || out->local_account == NULL ||
        (realm[0] != '\0' && (out->principal == NULL || out->dns_domain == NULL)) ||
        (info->user_principal != NULL && info->user_principal[0] != '\0' && out->upn == NULL))
        return SEC_E_INSUFFICIENT_MEMORY;
    snprintf(out->local_account, len, "%s\\%s", domain, account);
    if (info->num_sids == 0 || info->sids == NULL)
        return SEC_E_OK;
    out->user_sid = sid_text(&info->sids[0].sid);
    if (out->user_sid == NULL)
        return SEC_E_INTERNAL_ERROR;
    out->group_sids = calloc(info->num_sids, sizeof(char *));
    out->group_sid_attrs = calloc(info->num_sids, sizeof(uint32_t));
    if (out->group_sids == NULL || out->group_sid_attrs == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    for (uint32_t i = 1; i < info->num_sids; i++) {
        char *sid = sid_text(&info->sids[i].sid);
        if (sid == NULL)
            return SEC_E_INTERNAL_ERROR;
        bool seen = false;
        for (size_t k = 0; k < out->group_sid_count && !seen; k++)
            seen = strcmp(out->group_sids[k], sid) == 0;
        if (seen) {
            free(sid);
            continue;
        }
        out->group_sid_attrs[out->group_sid_count] = info->sids[i].attributes;
        out->group_sids[out->group_sid_count++] = sid;
    }
    return SEC_E_OK;
}

static void
describe_failure(wbcErr wst, const struct wbcAuthErrorInfo *err, const struct ntlm_logon *in,
                 struct buf *error_text)
{
    uint32_t nt = err != NULL ? err->nt_status : 0;
    struct ntlm_winbind_failure f = ntlm_winbind_map_failure((int)wst, nt);
    const char *nt_name = err != NULL && err->nt_string != NULL ? err->nt_string : f.nt_name;

    if (f.status == SEC_E_NO_AUTHENTICATING_AUTHORITY) {
        (void)buf_printf(error_text,
                         "NTLM: the domain cannot be asked: %s (%s%s%s): check that winbindd "
                         "runs (wbinfo -p), that this service may open its sockets "
                         "(/run/samba/winbindd/pipe, and the privileged one: root or "
                         "group winbindd_priv) and that winbindd reaches a domain "
                         "controller (wbinfo -P)",
                         f.reason, wbcErrorString(wst), nt_name != NULL ? ", " : "",
                         nt_name != NULL ? nt_name : "");
    } else if (f.status == SEC_E_LOGON_DENIED) {
        (void)buf_printf(error_text, "NTLM: the domain controller refused %s\\%s: %s (%s)",
                         in->domain, in->user, f.reason,
                         nt_name != NULL ? nt_name : wbcErrorString(wst));
    } else {
        (void)buf_printf(error_text, "NTLM: winbind logon failed: %s", wbcErrorString(wst));
    }
}

static SECURITY_STATUS
winbind_logon(void *state, const struct ntlm_logon *in, struct ntlm_logon_result *out,
              unsigned long *detail, struct buf *error_text)
{
    struct winbind *w = state;
    struct wbcAuthUserInfo *info = NULL;
    struct wbcAuthErrorInfo *err = NULL;
    uint8_t *nt = NULL, *lm = NULL;
    SECURITY_STATUS st;

    /* winbindd's request has 256-byte name fields that libwbclient fills by
     * truncating: a longer name would be another name. */
    if (strlen(in->user) > WINBIND_NAME_MAX || strlen(in->domain) > WINBIND_NAME_MAX ||
        strlen(in->workstation) > WINBIND_NAME_MAX) {
        (void)buf_append_str(error_text, "NTLM: user, domain or workstation name longer than "
                                         "winbind takes (255 bytes)");
        return SEC_E_LOGON_DENIED;
    }
    /* wbcAuthUserParams wants writable pointers; the client's bytes are not ours. */
    nt = malloc(in->nt_response.len);
    lm = malloc(in->lm_response.len + 1);
    struct wbcContext *c = ctx_take(w);
    if (nt == NULL || lm == NULL || c == NULL) {
        st = SEC_E_INSUFFICIENT_MEMORY;
        goto cleanup;
    }
    memcpy(nt, in->nt_response.ptr, in->nt_response.len);
    if (in->lm_response.len > 0)
        memcpy(lm, in->lm_response.ptr, in->lm_response.len);
    struct wbcAuthUserParams p = {
        .account_name = in->user,
        .domain_name = in->domain,
        .workstation_name = in->workstation,
        .flags = 0, /* a network logon (not WBC_AUTH_PARAM_FLAGS_INTERACTIVE_LOGON) */
        .parameter_control = 0,
        .level = WBC_AUTH_USER_LEVEL_RESPONSE,
    };
    memcpy(p.password.response.challenge, in->server_challenge, 8);
    p.password.response.nt_length = (uint32_t)in->nt_response.len;
    p.password.response.nt_data = nt;
    p.password.response.lm_length = (uint32_t)in->lm_response.len;
    p.password.response.lm_data = in->lm_response.len > 0 ? lm : NULL;

    wbcErr wst = wbcCtxAuthenticateUserEx(c, &p, &info, &err);
    if (wst == WBC_ERR_SUCCESS && info != NULL) {
        char realm[256];
        domain_realm(w, c,
                     info->domain_name != NULL && info->domain_name[0] != '\0' ? info->domain_name
                                                                               : in->domain,
                     realm, sizeof(realm));
        st = take_info(info, in, realm, out);
        if (st != SEC_E_OK)
            (void)buf_append_str(error_text, "NTLM: cannot read winbind's answer");
    } else {
        if (wst == WBC_ERR_SUCCESS)
            wst = WBC_ERR_INVALID_RESPONSE;
        describe_failure(wst, err, in, error_text);
        struct ntlm_winbind_failure f =
            ntlm_winbind_map_failure((int)wst, err != NULL ? err->nt_status : 0);
        st = f.status;
        *detail = f.detail;
    }
    if (wst == WBC_ERR_WINBIND_NOT_AVAILABLE || wst == WBC_ERR_INVALID_RESPONSE) {
        wbcCtxFree(c); /* a connection that failed is not reused */
        c = NULL;
    }
cleanup:
    if (c != NULL)
        ctx_give(w, c);
    if (info != NULL) {
        secret_wipe(info->user_session_key, sizeof(info->user_session_key));
        secret_wipe(info->lm_session_key, sizeof(info->lm_session_key));
    }
    wbcFreeMemory(info);
    wbcFreeMemory(err);
    free(nt);
    free(lm);
    if (st != SEC_E_OK)
        ntlm_logon_result_free(out);
    return st;
}

const struct ntlm_backend ntlm_backend_winbind = {
    .name = "winbind",
    .logon = winbind_logon,
    .destroy = winbind_destroy,
};
