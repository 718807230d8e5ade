// SPDX-License-Identifier: MIT
// The contract between the SSPI entry points (sspi.c) and each security package.
//
// sspi.c validates handles, flags and buffers, converts W strings to UTF-8,
// detects concurrent use of a context, owns the handle table, copies or
// allocates output tokens (ISC_REQ_ALLOCATE_MEMORY), and stores the extended
// error text. A package sees only already-validated, UTF-8, slice-shaped input.
#ifndef GH_SSPI_PACKAGE_H
#define GH_SSPI_PACKAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/secret.h"
#include "base/slice.h"

struct gh_token;

/* AcquireCredentialsHandle's arguments, normalized. */
struct sspi_acquire {
    const char *principal; /* UTF-8 or NULL (pszPrincipal) */
    unsigned long use;     /* SECPKG_CRED_INBOUND / OUTBOUND / BOTH */
    /* Outbound explicit identity (SEC_WINNT_AUTH_IDENTITY_A/W), UTF-8; has_identity
     * is false when pAuthData was NULL (use the default: ccache, NTLM_USER_FILE...). */
    bool has_identity;
    const char *user;       /* may contain "DOMAIN\\user" or "user@REALM" */
    const char *domain;     /* may be NULL or "" */
    struct secret password; /* borrowed for the call: copy what you keep */
    /* Inbound configuration (GH_ACCEPTOR_AUTH_DATA), defaults already applied
     * except where noted as NULL. */
    const GH_ACCEPTOR_AUTH_DATA *acceptor; /* NULL when not given */
    /* Outbound Kerberos credentials from this ccache (GH_INITIATOR_AUTH_DATA),
     * or NULL; has_identity is false then. Borrowed for the call. */
    const char *initiator_ccache;
    /* pAuthData exactly as given, for packages with raw_auth_data (Schannel's
     * SCHANNEL_CRED / SCH_CREDENTIALS): sspi.c then parses none of it and
     * has_identity / acceptor stay unset. Borrowed for the call. */
    void *auth_data;
    /* Output: the reason of a failure (e.g. the KDC's answer to a wrong
     * password), for EXTENDED_ERROR; may be NULL (no text wanted). */
    struct buf *error_text;
};

/* One InitializeSecurityContext / AcceptSecurityContext call. */
struct sspi_step {
    const char *target;      /* UTF-8 target name (initiator), may be NULL */
    unsigned long req_flags; /* ISC_REQ_* or ASC_REQ_* as given */
    struct slice in_token;   /* the SECBUFFER_TOKEN input; empty when none */
    struct slice bindings;   /* the SECBUFFER_CHANNEL_BINDINGS input (a
                                SEC_CHANNEL_BINDINGS header + data); empty when none */
    PSecBufferDesc in;       /* raw input descriptor, for packages that need more */
    PSecBufferDesc out;      /* raw output descriptor (validated, may be NULL) */
    /* Outputs. */
    struct buf out_token;        /* the output token; sspi.c moves it into pOutput */
    unsigned long attrs_out;     /* ISC_RET_* / ASC_RET_* (without ALLOCATED_MEMORY) */
    TimeStamp expiry_out;        /* context expiry (local time, FILETIME units) */
    unsigned long missing_bytes; /* with SEC_E_INCOMPLETE_MESSAGE */
    unsigned long extra_bytes;   /* unconsumed trailing input (SECBUFFER_EXTRA) */
    struct buf error_text;       /* reason for a failure, for EXTENDED_ERROR / logs */
    /* The failure's details for SECPKG_ATTR_GH_ERROR_INFO (zeros: none). */
    unsigned long error_detail; /* GH_SEC_DETAIL_* */
    long error_krb5;            /* krb5_error_code */
    unsigned long error_major;  /* GSS major status */
    const char *error_package;  /* static: the package that failed (NULL: this one) */
};

/* Package entry points. Each returns a SECURITY_STATUS. A package context is
 * created by the first init_ctx/accept_ctx call (*pkg_ctx == NULL on entry) and
 * released only through delete_ctx, whatever the outcome of that call.
 * Unneeded slots may be NULL: sspi.c answers SEC_E_UNSUPPORTED_FUNCTION. */
struct sspi_package {
    const char *name;           /* SecPkgInfo.Name: "NTLM", "Kerberos", "Negotiate" ... */
    const char *comment;        /* SecPkgInfo.Comment */
    unsigned long capabilities; /* SECPKG_FLAG_* */
    unsigned short version;
    unsigned short rpc_id;
    unsigned long max_token_bytes;
    /* pAuthData is the package's own structure (sspi_acquire.auth_data), not
     * SEC_WINNT_AUTH_IDENTITY / GH_ACCEPTOR_AUTH_DATA. */
    bool raw_auth_data;

    SECURITY_STATUS (*acquire_cred)(const struct sspi_acquire *args, void **pkg_cred_out);
    void (*free_cred)(void *pkg_cred);
    SECURITY_STATUS (*query_cred)(void *pkg_cred, unsigned long attribute, void *buffer);

    SECURITY_STATUS (*init_ctx)(void *pkg_cred, void **pkg_ctx, struct sspi_step *step);
    SECURITY_STATUS (*accept_ctx)(void *pkg_cred, void **pkg_ctx, struct sspi_step *step);
    SECURITY_STATUS (*complete_token)(void *pkg_ctx, PSecBufferDesc token);
    void (*delete_ctx)(void *pkg_ctx);

    /* Fills the A-form structure for attribute; allocations inside it come from
     * sspi_alloc() so the caller frees them with FreeContextBuffer. sspi.c
     * converts to the W form. SEC_E_UNSUPPORTED_FUNCTION for unknown attributes. */
    SECURITY_STATUS (*query_ctx)(void *pkg_ctx, unsigned long attribute, void *buffer);
    /* A new reference to the authenticated identity (acceptor side, complete contexts). */
    SECURITY_STATUS (*query_token)(void *pkg_ctx, struct gh_token **token_out);
    /* ExportSecurityContext: appends the state of a complete context to out
     * (with the helpers of sspi/packed.h); the context stays usable. SEC_E_OK,
     * SEC_E_NO_CONTEXT (not complete), SEC_E_UNSUPPORTED_FUNCTION,
     * SEC_E_INSUFFICIENT_MEMORY. */
    SECURITY_STATUS (*export_ctx)(void *pkg_ctx, struct buf *out);
    /* ImportSecurityContext: a complete context from what export_ctx wrote.
     * SEC_E_OK, SEC_E_INVALID_TOKEN (malformed: nothing made),
     * SEC_E_INSUFFICIENT_MEMORY, or the underlying library's refusal. */
    SECURITY_STATUS (*import_ctx)(struct slice in, void **pkg_ctx_out);

    /* ApplyControlToken with the caller's validated input descriptor.
     * SEC_E_OK: applied; SEC_I_CONTINUE_NEEDED: applied, and the next
     * InitializeSecurityContext / AcceptSecurityContext continues this
     * context (e.g. Schannel's shutdown emits close_notify) instead of
     * starting a new authentication; the caller sees SEC_E_OK. */
    SECURITY_STATUS (*apply_control)(void *pkg_ctx, PSecBufferDesc input);

    SECURITY_STATUS(*make_signature)
    (void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no);
    SECURITY_STATUS(*verify_signature)
    (void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no, unsigned long *qop_out);
    SECURITY_STATUS(*encrypt)
    (void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no);
    /* SEC_I_RENEGOTIATE from decrypt also makes the next Initialize/Accept
     * call continue this context (post-handshake messages). */
    SECURITY_STATUS(*decrypt)
    (void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no, unsigned long *qop_out);
};

/* A SEC_WINNT_AUTH_IDENTITY_A or _W (told apart by Flags) as UTF-8 strings
 * (sspi.c); absent fields stay NULL. sspi_identity_parse returns SEC_E_OK,
 * SEC_E_UNKNOWN_CREDENTIALS (malformed) or SEC_E_INSUFFICIENT_MEMORY;
 * sspi_identity_free wipes the password. */
struct sspi_identity {
    char *user;
    char *domain;
    char *password; /* wiped on free */
    size_t password_len;
};
SECURITY_STATUS sspi_identity_parse(const void *auth_data, struct sspi_identity *id);
void sspi_identity_free(struct sspi_identity *id);

/* Memory handed to SSPI callers: FreeContextBuffer releases it. NULL on OOM. */
void *sspi_alloc(size_t size);
char *sspi_strdup(const char *s);
/* A SecPkgInfoA for pkg in one sspi_alloc block (QueryContextAttributes PACKAGE_INFO). */
PSecPkgInfoA sspi_package_info_dup(const struct sspi_package *pkg);

/* The registry (registry.c): the only list of packages. */
const struct sspi_package *sspi_registry_find(const char *name); /* case-insensitive */
size_t sspi_registry_count(void);
const struct sspi_package *sspi_registry_at(size_t index);

/* Time helpers: FILETIME-unit TimeStamp from Unix seconds, and "never expires". */
TimeStamp sspi_timestamp_from_unix(int64_t unix_seconds);
TimeStamp sspi_timestamp_never(void);

/* Finds the first buffer of type (ignoring SECBUFFER_ATTRMASK bits) or NULL. */
PSecBuffer sspi_buffer_find(PSecBufferDesc desc, unsigned long type);

#endif
