// SPDX-License-Identifier: MIT
// A strict DER codec for SPNEGO's NegotiationToken (RFC 4178 4.2, MS-SPNG 2.2).
//
// Decoding borrows: every slice in a decoded token points into the input, so
// the input must outlive it. Decoders never allocate and never read outside
// their input; anything that is not valid DER of the expected shape, or that
// exceeds the limits below, is SEC_E_INVALID_TOKEN. Encoders append to a
// struct buf and return SEC_E_OK, SEC_E_INSUFFICIENT_MEMORY or
// SEC_E_INVALID_TOKEN (an argument past a limit).
#ifndef GH_SSPI_NEGOTIATE_SPNEGO_DER_H
#define GH_SSPI_NEGOTIATE_SPNEGO_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/slice.h"

/* Limits. A Kerberos AP-REQ with a large PAC stays well under 64 KiB (Windows'
 * MaxTokenSize is 48000 by default, 65535 at most). */
#define SPNEGO_MAX_TOKEN_BYTES (128 * 1024)
#define SPNEGO_MAX_MECHS       16
#define SPNEGO_MAX_OID_BYTES   64

/* Object identifiers, as the contents octets of their DER encoding. */
extern const struct slice spnego_oid_spnego;  /* 1.3.6.1.5.5.2 */
extern const struct slice spnego_oid_krb5;    /* 1.2.840.113554.1.2.2 */
extern const struct slice spnego_oid_ms_krb5; /* 1.2.840.48018.1.2.2 */
extern const struct slice spnego_oid_ntlm;    /* 1.3.6.1.4.1.311.2.2.10 */
extern const struct slice spnego_oid_negoex;  /* 1.3.6.1.4.1.311.2.2.30 */

/* NegTokenResp negState (RFC 4178 4.2.2). */
enum spnego_neg_state {
    SPNEGO_STATE_ABSENT = -1,
    SPNEGO_ACCEPT_COMPLETED = 0,
    SPNEGO_ACCEPT_INCOMPLETE = 1,
    SPNEGO_REJECT = 2,
    SPNEGO_REQUEST_MIC = 3,
};

/* NegTokenInit (RFC 4178 4.2.1) or NegTokenInit2 (MS-SPNG 2.2.1). */
struct spnego_init {
    struct slice mech_types_der;          /* the MechTypeList's full DER (tag 0x30 ...): the
                                             bytes a mechListMIC covers */
    struct slice mechs[SPNEGO_MAX_MECHS]; /* OID contents octets, in preference order */
    size_t mech_count;                    /* >= 1 */
    bool has_req_flags;
    uint8_t req_flags; /* first octet of ContextFlags: deleg 0x80, mutual 0x40 ... */
    bool has_mech_token;
    struct slice mech_token;
    bool has_neg_hints; /* NegTokenInit2 */
    struct slice hint_name;
    bool has_mic;
    struct slice mech_list_mic;
};

/* NegTokenResp (RFC 4178 4.2.2). */
struct spnego_resp {
    enum spnego_neg_state neg_state;
    bool has_supported_mech;
    struct slice supported_mech;
    bool has_response_token;
    struct slice response_token;
    bool has_mic;
    struct slice mech_list_mic;
};

enum spnego_kind {
    SPNEGO_KIND_INIT = 0,
    SPNEGO_KIND_RESP = 1,
};

struct spnego_token {
    enum spnego_kind kind;
    struct spnego_init init; /* valid when kind == SPNEGO_KIND_INIT */
    struct spnego_resp resp; /* valid when kind == SPNEGO_KIND_RESP */
};

/* Decodes one NegotiationToken: either a NegTokenInit(2) inside the GSS-API
 * InitialContextToken framing ([APPLICATION 0] with the SPNEGO OID, RFC 2743
 * 3.1) or a bare NegTokenResp ([1]). The whole input must be consumed.
 * SEC_E_OK or SEC_E_INVALID_TOKEN. */
SECURITY_STATUS spnego_der_decode(struct slice in, struct spnego_token *out);

/* Reads the mechanism OID of a GSS-API InitialContextToken (0x60 framing)
 * without looking at the inner token; *oid_out borrows from in. Used to tell a
 * raw Kerberos token from a SPNEGO one. SEC_E_OK or SEC_E_INVALID_TOKEN. */
SECURITY_STATUS spnego_der_peek_mech(struct slice in, struct slice *oid_out);

/* Appends the MechTypeList DER (SEQUENCE OF OID) of mechs[0..count). */
SECURITY_STATUS spnego_der_encode_mech_list(const struct slice *mechs, size_t count,
                                            struct buf *out);

/* Appends a framed NegTokenInit: mechTypes, then the optional mechToken and
 * mechListMIC (a NULL slice pointer omits the field). With hint_name non-NULL
 * it is a NegTokenInit2 carrying negHints.hintName instead of a mechListMIC
 * (MS-SPNG 2.2.1; the acceptor's first message). */
SECURITY_STATUS spnego_der_encode_init(const struct slice *mechs, size_t count,
                                       const struct slice *mech_token, const struct slice *mic,
                                       const char *hint_name, struct buf *out);

/* Appends a NegTokenResp; neg_state SPNEGO_STATE_ABSENT and NULL slices omit fields. */
SECURITY_STATUS spnego_der_encode_resp(enum spnego_neg_state neg_state,
                                       const struct slice *supported_mech,
                                       const struct slice *response_token, const struct slice *mic,
                                       struct buf *out);

#endif
