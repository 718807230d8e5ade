// SPDX-License-Identifier: MIT
// whoami: answers with the request as the server sees it and its auth record,
// as JSON: every field of the record (the seed's HTTP_REQUEST_AUTH_INFO). It
// authenticates nobody: the server's auth engine has run before it, and on a
// location without `auth` every request shows "not authenticated".
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/http.h>
#include <gatehouse/module.h>
#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

static const char *
auth_status_name(enum gh_auth_status s)
{
    switch (s) {
    case GH_AUTH_SUCCESS:
        return "success";
    case GH_AUTH_FAILURE:
        return "failure";
    default:
        return "not authenticated";
    }
}

static const char *
auth_type_name(enum gh_auth_type t)
{
    static const char *const names[] = {"none",      "Basic",    "Digest",  "NTLM",
                                        "Negotiate", "Kerberos", "CredSSP", "ClientCertificate"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

/* The SECURITY_STATUS values an auth record can carry, by name. */
static const char *
sec_status_name(int32_t status)
{
    static const struct {
        SECURITY_STATUS status;
        const char *name;
    } names[] = {
        {SEC_E_OK, "SEC_E_OK"},
        {SEC_E_INSUFFICIENT_MEMORY, "SEC_E_INSUFFICIENT_MEMORY"},
        {SEC_E_INVALID_HANDLE, "SEC_E_INVALID_HANDLE"},
        {SEC_E_UNSUPPORTED_FUNCTION, "SEC_E_UNSUPPORTED_FUNCTION"},
        {SEC_E_TARGET_UNKNOWN, "SEC_E_TARGET_UNKNOWN"},
        {SEC_E_INTERNAL_ERROR, "SEC_E_INTERNAL_ERROR"},
        {SEC_E_SECPKG_NOT_FOUND, "SEC_E_SECPKG_NOT_FOUND"},
        {SEC_E_INVALID_TOKEN, "SEC_E_INVALID_TOKEN"},
        {SEC_E_LOGON_DENIED, "SEC_E_LOGON_DENIED"},
        {SEC_E_UNKNOWN_CREDENTIALS, "SEC_E_UNKNOWN_CREDENTIALS"},
        {SEC_E_NO_CREDENTIALS, "SEC_E_NO_CREDENTIALS"},
        {SEC_E_MESSAGE_ALTERED, "SEC_E_MESSAGE_ALTERED"},
        {SEC_E_OUT_OF_SEQUENCE, "SEC_E_OUT_OF_SEQUENCE"},
        {SEC_E_NO_AUTHENTICATING_AUTHORITY, "SEC_E_NO_AUTHENTICATING_AUTHORITY"},
        {SEC_E_CONTEXT_EXPIRED, "SEC_E_CONTEXT_EXPIRED"},
        {SEC_E_INCOMPLETE_MESSAGE, "SEC_E_INCOMPLETE_MESSAGE"},
        {SEC_E_WRONG_PRINCIPAL, "SEC_E_WRONG_PRINCIPAL"},
        {SEC_E_TIME_SKEW, "SEC_E_TIME_SKEW"},
        {SEC_E_ALGORITHM_MISMATCH, "SEC_E_ALGORITHM_MISMATCH"},
        {SEC_E_WRONG_CREDENTIAL_HANDLE, "SEC_E_WRONG_CREDENTIAL_HANDLE"},
        {SEC_E_BAD_BINDINGS, "SEC_E_BAD_BINDINGS"},
        {SEC_E_DELEGATION_POLICY, "SEC_E_DELEGATION_POLICY"},
        {SEC_E_POLICY_NLTM_ONLY, "SEC_E_POLICY_NLTM_ONLY"},
        {SEC_E_NO_CONTEXT, "SEC_E_NO_CONTEXT"},
        {SEC_E_MUTUAL_AUTH_FAILED, "SEC_E_MUTUAL_AUTH_FAILED"},
        {SEC_E_INVALID_PARAMETER, "SEC_E_INVALID_PARAMETER"},
        {SEC_E_NOT_SUPPORTED, "SEC_E_NOT_SUPPORTED"},
        {SEC_E_CERT_UNKNOWN, "SEC_E_CERT_UNKNOWN"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].status == status)
            return names[i].name;
    }
    return "unknown";
}

/* Credentials and session cookies never go back out, not even to their owner:
 * a page that echoes them is how they leak (logs, caches, XSS). */
static bool
is_secret(struct gh_str name)
{
    static const char *const secret[] = {"authorization", "proxy-authorization", "cookie"};

    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (name.len == strlen(secret[i]) && strncasecmp(name.ptr, secret[i], name.len) == 0)
            return true;
    }
    return false;
}

static void
write_auth(struct gh_json *j, const struct gh_auth_record *a)
{
    char hex[16];

    gh_json_object_begin(j, "auth");
    gh_json_str(j, "status", auth_status_name(a->status));
    snprintf(hex, sizeof(hex), "0x%08x", (unsigned)a->sec_status);
    gh_json_str(j, "sec_status", hex);
    gh_json_int(j, "sec_status_code", a->sec_status);
    gh_json_str(j, "sec_status_name", sec_status_name(a->sec_status));
    gh_json_int(j, "flags", a->flags);
    gh_json_bool(j, "token_for_cached_cred", (a->flags & GH_AUTH_FLAG_TOKEN_FOR_CACHED_CRED) != 0);
    gh_json_str(j, "type", auth_type_name(a->type));
    gh_json_bool(j, "has_access_token", a->access_token != NULL);
    gh_json_int(j, "context_attributes", a->context_attributes);
    snprintf(hex, sizeof(hex), "0x%08x", (unsigned)a->context_attributes);
    gh_json_str(j, "context_attributes_hex", hex);
    gh_json_bool(j, "mutual_auth", (a->context_attributes & ASC_RET_MUTUAL_AUTH) != 0);
    gh_json_bool(j, "delegated", (a->context_attributes & ASC_RET_DELEGATE) != 0);
    gh_json_int(j, "packed_context_type", a->packed_context_type);
    gh_json_int(j, "packed_context_length", (int64_t)a->packed_context_len);
    gh_json_strn(j, "mutual_auth_data", a->mutual_auth_data, a->mutual_auth_data_len);
    gh_json_str(j, "package", a->package_name);
    gh_json_str(j, "user", a->user_name);
    gh_json_str(j, "domain", a->domain);
    gh_json_str(j, "principal", a->principal);
    gh_json_array_begin(j, "groups");
    for (size_t i = 0; i < a->group_count; i++)
        gh_json_str(j, NULL, a->groups[i]);
    gh_json_array_end(j);
    /* The Windows identity (a PAC; an NTLM logon the DC checked): SIDs, with
     * names where winbind gave one (null otherwise). */
    gh_json_str(j, "user_sid", a->user_sid);
    gh_json_str(j, "logon_domain", a->logon_domain);
    gh_json_str(j, "dns_domain", a->dns_domain);
    gh_json_str(j, "upn", a->access_token != NULL ? gh_token_upn(a->access_token) : NULL);
    gh_json_array_begin(j, "group_sids");
    for (size_t i = 0; a->group_sids != NULL && i < a->group_count; i++) {
        if (a->group_sids[i] == NULL)
            continue;
        gh_json_object_begin(j, NULL);
        gh_json_str(j, "sid", a->group_sids[i]);
        gh_json_str(j, "name",
                    a->access_token != NULL ? gh_token_group_sid_name(a->access_token, i) : NULL);
        gh_json_object_end(j);
    }
    gh_json_array_end(j);
    gh_json_str(j, "delegated_ccache", a->delegated_ccache);
    /* CredSSP's delegated password credentials: the names and the password's
     * length only (a password is never echoed) */
    gh_json_str(j, "delegated_user", a->delegated_user);
    gh_json_str(j, "delegated_domain", a->delegated_domain);
    gh_json_int(j, "delegated_password_len",
                a->delegated_password != NULL ? (int64_t)a->delegated_password_len : -1);
    gh_json_object_end(j);
}

/* The connection's client certificate (the seed's HTTP_SSL_CLIENT_CERT_INFO)
 * as the application sees it, mapping result included; null when none. */
static void
write_client_cert(struct gh_json *j, gh_request *req)
{
    const struct gh_client_cert *cert = NULL;
    bool negotiated = false;

    if (gh_request_client_cert(req, &cert, &negotiated) != GH_OK || cert == NULL) {
        gh_json_str(j, "client_cert", NULL);
        return;
    }
    gh_json_object_begin(j, "client_cert");
    gh_json_str(j, "subject", cert->subject);
    gh_json_str(j, "issuer", cert->issuer);
    gh_json_int(j, "flags", cert->flags);
    gh_json_int(j, "encoded_length", (int64_t)cert->encoded_len);
    gh_json_int(j, "chain_length", (int64_t)cert->chain_len);
    gh_json_bool(j, "negotiated", negotiated);
    gh_json_bool(j, "has_token", cert->token != NULL);
    gh_json_bool(j, "denied_by_mapper", cert->denied_by_mapper);
    gh_json_object_end(j);
}

static enum gh_rq_status
whoami_execute(gh_request *req, void *config)
{
    const struct gh_tls_info *tls = gh_request_tls(req);
    struct gh_json *j = gh_response_json(req, 200);
    struct gh_str name, value;

    (void)config;
    gh_json_str(j, "method", gh_request_method(req));
    gh_json_str(j, "url", gh_request_full_url(req));
    gh_json_str(j, "path", gh_request_path(req));
    gh_json_str(j, "query", gh_request_query(req));
    gh_json_int(j, "http_minor_version", gh_request_minor_version(req));
    gh_json_str(j, "peer", gh_request_peer_text(req));
    gh_json_str(j, "location", gh_request_location(req));
    if (tls == NULL) {
        gh_json_str(j, "tls", NULL);
    } else {
        gh_json_object_begin(j, "tls");
        gh_json_str(j, "protocol", tls->protocol);
        gh_json_str(j, "cipher", tls->cipher);
        gh_json_int(j, "cipher_bits", tls->cipher_bits);
        gh_json_str(j, "server_name", tls->server_name);
        gh_json_str(j, "alpn", tls->alpn);
        gh_json_bool(j, "session_reused", tls->session_reused);
        gh_json_object_end(j);
    }
    /* An array of pairs: names repeat, and order matters. */
    gh_json_array_begin(j, "headers");
    for (size_t i = 0; gh_request_header_at(req, i, &name, &value) == GH_OK; i++) {
        gh_json_object_begin(j, NULL);
        gh_json_strn(j, "name", name.ptr, name.len);
        if (is_secret(name))
            gh_json_str(j, "value", "(redacted)");
        else
            gh_json_strn(j, "value", value.ptr, value.len);
        gh_json_object_end(j);
    }
    gh_json_array_end(j);
    write_auth(j, gh_request_auth(req));
    write_client_cert(j, req);
    if (gh_json_end(j) != GH_OK) {
        gh_response_text(req, 500, NULL);
        return GH_RQ_FINISH;
    }
    return GH_RQ_FINISH;
}

const struct gh_module whoami_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "whoami",
    .description = "the request and its authentication record as JSON",
    .on_execute_handler = whoami_execute,
};
GH_MODULE_EXPORT(whoami_module)
