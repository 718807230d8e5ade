// SPDX-License-Identifier: MIT
// A client certificate's identity fields, read from its DER: the SHA-256
// fingerprint, the subject's and issuer's attributes, and the UPN of the
// subjectAltName otherName msUPN (1.3.6.1.4.1.311.20.2.3). What the mapping
// rules (certmap.h) match on. See docs/internals/auth.md.
#ifndef GH_AUTH_CERT_IDENTITY_H
#define GH_AUTH_CERT_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define CERT_MAX_DER_BYTES     (64 * 1024) /* larger leaf certificates are refused */
#define CERT_MAX_NAME_ENTRIES  64          /* attributes per subject or issuer */
#define CERT_MAX_VALUE_BYTES   1024        /* UTF-8 bytes of one attribute value or UPN */
#define CERT_MAX_TYPE_BYTES    64          /* "CN", "emailAddress", or a dotted OID */
#define CERT_FINGERPRINT_BYTES 32          /* SHA-256 */

struct cert_attr {
    char type[CERT_MAX_TYPE_BYTES]; /* OpenSSL short name ("CN", "OU", "DC"), else dotted OID */
    char *value;                    /* owned; UTF-8, no NUL or control bytes */
};

struct cert_identity {
    uint8_t fingerprint[CERT_FINGERPRINT_BYTES]; /* SHA-256 of the whole DER */
    struct cert_attr *subject;                   /* owned; in certificate order */
    size_t subject_count;
    struct cert_attr *issuer; /* owned; in certificate order */
    size_t issuer_count;
    char *upn;        /* owned; the first msUPN otherName, NULL when none */
    size_t upn_count; /* how many msUPN otherNames the certificate carries */
};

/* Reads der[0, len) as one X.509 certificate (nothing may follow it). On
 * success stores a new identity in *id_out (free with cert_identity_destroy).
 * Returns GH_OK; GH_EPROTO when it does not parse or carries a field we refuse
 * (a value with NUL or control bytes, an msUPN that is not a UTF8String, two
 * subjectAltName extensions); GH_ELIMIT past the CERT_MAX_* limits; GH_ENOMEM.
 * On failure why (if not NULL) holds a short reason for logs and audit lines. */
int cert_identity_parse(const uint8_t *der, size_t len, struct cert_identity **id_out, char *why,
                        size_t why_len);

void cert_identity_destroy(struct cert_identity *id); /* NULL-safe */

/* Lowercase hex of the fingerprint into hex_out (65 bytes with the NUL). */
void cert_identity_fingerprint_hex(const struct cert_identity *id, char hex_out[65]);

#endif
