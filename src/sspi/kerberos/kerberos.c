// SPDX-License-Identifier: MIT
// The Kerberos package table (see kerberos.h and docs/internals/kerberos.md).
#include "sspi/kerberos/kerberos.h"

#include <gatehouse/sspi.h>

#include "sspi/kerberos/ident.h"
#include "sspi/kerberos/krb_internal.h"

const struct sspi_package kerberos_package = {
    .name = MICROSOFT_KERBEROS_NAME_A,
    .comment = "Kerberos through MIT GSSAPI",
    .capabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_TOKEN_ONLY |
                    SECPKG_FLAG_DATAGRAM | SECPKG_FLAG_CONNECTION | SECPKG_FLAG_MULTI_REQUIRED |
                    SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION |
                    SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_NEGOTIABLE |
                    SECPKG_FLAG_GSS_COMPATIBLE | SECPKG_FLAG_LOGON | SECPKG_FLAG_MUTUAL_AUTH |
                    SECPKG_FLAG_DELEGATION | SECPKG_FLAG_READONLY_WITH_CHECKSUM,
    .version = 1,
    .rpc_id = 16, /* RPC_C_AUTHN_GSS_KERBEROS */
    .max_token_bytes = KRB_MAX_TOKEN_BYTES,
    .acquire_cred = krb_acquire_cred,
    .free_cred = krb_free_cred,
    .query_cred = krb_query_cred,
    .init_ctx = krb_init_ctx,
    .accept_ctx = krb_accept_ctx,
    .complete_token = NULL,
    .delete_ctx = krb_delete_ctx,
    .query_ctx = krb_query_ctx,
    .query_token = krb_query_token,
    .export_ctx = krb_export_ctx,
    .import_ctx = krb_import_ctx,
    .make_signature = krb_make_signature,
    .verify_signature = krb_verify_signature,
    .encrypt = krb_encrypt,
    .decrypt = krb_decrypt,
};

void
kerberos_ticket_cache_counts(uint64_t *hits_out, uint64_t *misses_out)
{
    struct krb_ident_stats stats;

    krb_ident_get_stats(&stats);
    *hits_out = stats.hits;
    *misses_out = stats.misses;
}
