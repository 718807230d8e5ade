// SPDX-License-Identifier: MIT
// The Schannel package: TLS 1.2 / 1.3 carried in SSPI tokens, over OpenSSL
// with memory BIOs (docs/internals/schannel.md). One job per file:
//   cert.c      CERT_CONTEXT objects and the Cert* / GhCert* functions
//   cred.c      AcquireCredentialsHandle: SCHANNEL_CRED / SCH_CREDENTIALS
//   cache.c     the client's session cache, per credential, keyed by target
//   handshake.c Initialize/AcceptSecurityContext, ApplyControlToken
//   record.c    TLS record framing, EncryptMessage / DecryptMessage
//   query.c     QueryContextAttributes
#ifndef GH_SSPI_SCHANNEL_SCHANNEL_H
#define GH_SSPI_SCHANNEL_SCHANNEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "sspi/package.h"
#include "tls/cred.h"

extern const struct sspi_package schannel_package;

/* ---- cert.c ------------------------------------------------------------- */
/* A CERT_CONTEXT with its OpenSSL objects. The public part comes first, so
 * a PCCERT_CONTEXT from us converts back with sch_cert_of. */
struct sch_cert;
/* A new context for leaf (+ chain, + key; each may be NULL/empty), taking
 * new references to them. NULL on OOM. */
PCCERT_CONTEXT sch_cert_new(X509 *leaf, STACK_OF(X509) * chain, EVP_PKEY *key);
/* The OpenSSL objects of a context made by us; NULL members when absent.
 * false when pc is not ours (a forged pointer cannot be detected: callers
 * pass what we gave them). */
bool sch_cert_parts(PCCERT_CONTEXT pc, X509 **leaf_out, STACK_OF(X509) * *chain_out,
                    EVP_PKEY **key_out);
/* The certificates of a store from GhCertOpenStoreFromPemFile (borrowed). */
STACK_OF(X509) * sch_store_certs(HCERTSTORE store);

/* ---- cache.c ------------------------------------------------------------- */
#define SCH_CACHE_MAX_ENTRIES 256
/* Reference counted: a context keeps the cache of the credential it started
 * with, even after the caller swaps credentials and frees the first one. */
struct sch_cache;
struct sch_cache *sch_cache_new(int64_t lifespan_s); /* NULL on OOM */
struct sch_cache *sch_cache_ref(struct sch_cache *cache);
void sch_cache_unref(struct sch_cache *cache); /* NULL-safe */
/* A new reference to the live session cached for target, or NULL. */
SSL_SESSION *sch_cache_get(struct sch_cache *cache, const char *target);
/* Remembers session (takes a new reference) for target, replacing any. */
void sch_cache_put(struct sch_cache *cache, const char *target, SSL_SESSION *session);
void sch_cache_forget(struct sch_cache *cache, const char *target);

/* ---- cred.c -------------------------------------------------------------- */
struct sch_cred {
    SSL_CTX *ctx;            /* owned */
    bool is_server;          /* INBOUND */
    unsigned long flags;     /* SCH_CRED_* */
    PCCERT_CONTEXT cert;     /* owned reference or NULL */
    STACK_OF(X509) * roots;  /* owned, or NULL: the system's CA store */
    struct sch_cache *cache; /* owned reference; client side */
};

/* ---- record.c ------------------------------------------------------------ */
#define SCH_RECORD_HEADER_BYTES 5
#define SCH_MAX_RECORD_BYTES    (SCH_RECORD_HEADER_BYTES + 16384 + 2048)
/* How many bytes of in form whole TLS records, at most max_records of them
 * (0: no limit): *whole_out. When in ends inside a record, *missing_out is
 * the count still needed to complete it (from its header, or 5 minus what
 * there is of the header), else 0. SEC_E_OK, or SEC_E_ILLEGAL_MESSAGE (not a
 * TLS record: bad type, version or length). */
SECURITY_STATUS sch_record_scan(const uint8_t *in, size_t len, size_t max_records,
                                size_t *whole_out, size_t *missing_out);

/* ---- handshake.c: the context ---------------------------------------------- */
struct sch_ctx {
    SSL *ssl; /* owned */
    BIO *in;  /* owned by ssl: bytes from the peer */
    BIO *out; /* owned by ssl: bytes for the peer */
    bool is_server;
    bool is_complete;           /* the handshake finished */
    bool shutdown_pending;      /* ApplyControlToken(SCHANNEL_SHUTDOWN) seen */
    bool is_close_sent;         /* close_notify sent (or the connection failed) */
    bool is_close_received;     /* close_notify received (or the connection failed) */
    bool incomplete_cred_given; /* SEC_I_INCOMPLETE_CREDENTIALS returned once */
    struct sch_cred *cred_now;  /* borrowed for one call (client cert callback) */
    char *target;               /* owned; the initiator's target name or NULL */
    unsigned long req_flags;
    struct sch_cache *cache; /* borrowed: the credential outlives its contexts */
    struct buf replay;       /* input consumed before SEC_I_INCOMPLETE_CREDENTIALS */
    struct buf alpn;         /* server: the ALPN ids it accepts (wire form), or empty */
};

SECURITY_STATUS sch_init_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step);
SECURITY_STATUS sch_accept_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step);
SECURITY_STATUS sch_apply_control(void *pkg_ctx, PSecBufferDesc input);
void sch_delete_ctx(void *pkg_ctx);
/* OpenSSL's client certificate callback (SSL_CTX_set_client_cert_cb). */
int sch_client_cert(SSL *ssl, X509 **x509_out, EVP_PKEY **pkey_out);
/* OpenSSL's ALPN selection callback (SSL_CTX_set_alpn_select_cb) of server
 * credentials: the first of the context's ids (its SECBUFFER_APPLICATION_PROTOCOLS)
 * that the client offered; none selected when there is no common id. */
int sch_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                    const unsigned char *in, unsigned int in_len, void *arg);
SECURITY_STATUS sch_acquire_cred(const struct sspi_acquire *args, void **pkg_cred_out);
void sch_free_cred(void *pkg_cred);
/* QueryCredentialsAttributes: SUPPORTED_PROTOCOLS, CIPHER_STRENGTHS,
 * SUPPORTED_ALGS (palgSupportedAlgs from sspi_alloc). */
SECURITY_STATUS sch_query_cred(void *pkg_cred, unsigned long attribute, void *buffer);
SECURITY_STATUS sch_encrypt(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg,
                            unsigned long seq_no);
SECURITY_STATUS sch_decrypt(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no,
                            unsigned long *qop_out);
SECURITY_STATUS sch_query_ctx(void *pkg_ctx, unsigned long attribute, void *buffer);
/* Stream sizes of an established context (cbHeader / cbTrailer / ...). */
void sch_stream_sizes(const struct sch_ctx *ctx, SecPkgContext_StreamSizes *sizes_out);

#endif
