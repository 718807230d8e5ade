// SPDX-License-Identifier: MIT
// A strict DER codec for MS-CSSP's messages (MS-CSSP 2.2.1): TSRequest,
// TSCredentials, TSPasswordCreds, TSSmartCardCreds (with TSCspDataDetail) and
// TSRemoteGuardCreds.
//
// Decoding borrows: every slice points into the input, which must outlive the
// decoded structure (and, for credentials, be wiped by its owner). Decoders
// never allocate and never read outside their input; anything that is not
// DER of the expected shape, or that exceeds the limits below, is
// SEC_E_INVALID_TOKEN. Encoders append to a struct buf (use buf_free_wipe when
// it holds credentials) and return SEC_E_OK, SEC_E_INSUFFICIENT_MEMORY or
// SEC_E_INVALID_TOKEN (an argument past a limit).
#ifndef GH_SSPI_CREDSSP_TSREQUEST_DER_H
#define GH_SSPI_CREDSSP_TSREQUEST_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/slice.h"

/* Limits. A TSRequest carries one SPNEGO/NTLM/Kerberos token (Kerberos with a
 * large PAC stays under 64 KiB) or a few TLS records of credentials. */
#define CSSP_MAX_MESSAGE_BYTES   (160 * 1024)
#define CSSP_MAX_FIELD_BYTES     (128 * 1024)
#define CSSP_MAX_STRING_BYTES    1024 /* one UTF-16LE name, password, PIN */
#define CSSP_NONCE_BYTES         32
#define CSSP_MAX_SUPPLEMENTAL    8
#define CSSP_VERSION_MAX_ENCODED 0x7fffffff

/* TSCredentials.credType (MS-CSSP 2.2.1.2). */
enum cssp_cred_type {
    CSSP_CRED_PASSWORD = 1,
    CSSP_CRED_SMARTCARD = 2,
    CSSP_CRED_REMOTE_GUARD = 6,
};

/* TSRequest (MS-CSSP 2.2.1). NegoData is a SEQUENCE OF NegoDataItem; MS-CSSP
 * uses exactly one item, and more than one is refused. */
struct cssp_request {
    uint32_t version;
    bool has_nego_token;
    struct slice nego_token;
    bool has_auth_info;
    struct slice auth_info;
    bool has_pub_key_auth;
    struct slice pub_key_auth;
    bool has_error_code;
    uint32_t error_code; /* NTSTATUS: encoded as a signed 32-bit INTEGER; a
                            positive 5-octet form is accepted too */
    bool has_client_nonce;
    struct slice client_nonce; /* exactly CSSP_NONCE_BYTES */
};

/* TSCredentials (MS-CSSP 2.2.1.2). */
struct cssp_credentials {
    uint32_t cred_type;
    struct slice credentials; /* the DER of the inner structure */
};

/* TSPasswordCreds (2.2.1.2.1): UTF-16LE strings; any may be empty. */
struct cssp_password_creds {
    struct slice domain;
    struct slice user;
    struct slice password;
};

/* TSCspDataDetail (2.2.1.2.2.1). */
struct cssp_csp_data {
    int32_t key_spec;
    struct slice card_name, reader_name, container_name, csp_name; /* empty when absent */
};

/* TSSmartCardCreds (2.2.1.2.2). */
struct cssp_smartcard_creds {
    struct slice pin;
    struct cssp_csp_data csp_data;
    struct slice user_hint, domain_hint; /* empty when absent */
};

/* TSRemoteGuardPackageCred (2.2.1.2.3.1). */
struct cssp_package_cred {
    struct slice package_name; /* UTF-16LE */
    struct slice cred_buffer;
};

/* TSRemoteGuardCreds (2.2.1.2.3). */
struct cssp_remote_guard_creds {
    struct cssp_package_cred logon_cred;
    size_t supplemental_count; /* <= CSSP_MAX_SUPPLEMENTAL */
    struct cssp_package_cred supplemental[CSSP_MAX_SUPPLEMENTAL];
};

/* Decoders: SEC_E_OK or SEC_E_INVALID_TOKEN; the whole input must be consumed. */
SECURITY_STATUS cssp_decode_request(struct slice in, struct cssp_request *out);
SECURITY_STATUS cssp_decode_credentials(struct slice in, struct cssp_credentials *out);
SECURITY_STATUS cssp_decode_password_creds(struct slice in, struct cssp_password_creds *out);
SECURITY_STATUS cssp_decode_smartcard_creds(struct slice in, struct cssp_smartcard_creds *out);
SECURITY_STATUS cssp_decode_remote_guard_creds(struct slice in,
                                               struct cssp_remote_guard_creds *out);

/* Encoders (append). Fields flagged absent are omitted. */
SECURITY_STATUS cssp_encode_request(const struct cssp_request *req, struct buf *out);
SECURITY_STATUS cssp_encode_credentials(uint32_t cred_type, struct slice inner, struct buf *out);
SECURITY_STATUS cssp_encode_password_creds(const struct cssp_password_creds *creds,
                                           struct buf *out);
SECURITY_STATUS cssp_encode_smartcard_creds(const struct cssp_smartcard_creds *creds,
                                            struct buf *out);
SECURITY_STATUS cssp_encode_remote_guard_creds(const struct cssp_remote_guard_creds *creds,
                                               struct buf *out);

/* The size of the first complete DER TLV at the start of in (for a stream of
 * TSRequests): SEC_E_OK with *size_out; SEC_E_INCOMPLETE_MESSAGE with
 * *size_out the bytes still missing (1 when the header itself is cut);
 * SEC_E_INVALID_TOKEN when it is not a SEQUENCE or exceeds the limit. */
SECURITY_STATUS cssp_message_size(struct slice in, size_t *size_out);

#endif
