// SPDX-License-Identifier: MIT
// The Schannel package's entry in the registry. Not SECPKG_FLAG_NEGOTIABLE:
// Negotiate never offers it as a mechanism.
#include "sspi/schannel/schannel.h"

const struct sspi_package schannel_package = {
    .name = SCHANNEL_NAME_A,
    .comment = "Schannel Security Package (TLS 1.2 / 1.3 over OpenSSL)",
    .capabilities = SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION |
                    SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR |
                    SECPKG_FLAG_IMPERSONATION | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_STREAM |
                    SECPKG_FLAG_MUTUAL_AUTH,
    .version = 1,
    .rpc_id = 14, /* UNISP_RPC_ID */
    .max_token_bytes = 24576,
    .raw_auth_data = true,
    .acquire_cred = sch_acquire_cred,
    .free_cred = sch_free_cred,
    .query_cred = sch_query_cred,
    .init_ctx = sch_init_ctx,
    .accept_ctx = sch_accept_ctx,
    .delete_ctx = sch_delete_ctx,
    .query_ctx = sch_query_ctx,
    .apply_control = sch_apply_control,
    .encrypt = sch_encrypt,
    .decrypt = sch_decrypt,
};
