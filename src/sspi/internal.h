// SPDX-License-Identifier: MIT
// Internals of the SSPI entry points (sspi.c, query.c, handles.c, buffers.c):
// the credential and context objects behind the handles. Packages never see
// these; they see package.h.
#ifndef GH_SSPI_INTERNAL_H
#define GH_SSPI_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/slice.h"
#include "sspi/package.h"

struct gh_token;

/* Behind a CredHandle. The handle table holds one reference, every context
 * made from it holds one more, so FreeCredentialsHandle while contexts live
 * only drops the table's reference. */
struct sspi_cred {
    atomic_long refs;
    const struct sspi_package *pkg; /* borrowed: packages are static */
    void *pkg_cred;                 /* owned; released with pkg->free_cred */
    unsigned long use;              /* SECPKG_CRED_* */
    char *principal;                /* owned, UTF-8, may be NULL */
    char *user;                     /* owned, UTF-8, may be NULL (explicit identity) */
};

/* What SECPKG_ATTR_GH_ERROR_INFO reports besides the text. */
struct sspi_error_info {
    SECURITY_STATUS status;
    unsigned long detail;
    long krb5;
    unsigned long major;
    const char *package; /* static */
};

enum sspi_ctx_state {
    CTX_IN_PROGRESS = 0,
    CTX_NEEDS_COMPLETE_FINAL,    /* SEC_I_COMPLETE_NEEDED returned */
    CTX_NEEDS_COMPLETE_CONTINUE, /* SEC_I_COMPLETE_AND_CONTINUE returned */
    CTX_COMPLETE,                /* SEC_E_OK: a further call re-authenticates */
};

/* Behind a CtxtHandle. `busy` is taken (under the handle-table lock) by every
 * entry point for the length of the call: a second thread using the same
 * context at once is refused with SEC_E_INTERNAL_ERROR and changes nothing. */
struct sspi_ctx {
    atomic_bool busy;
    bool is_acceptor;
    enum sspi_ctx_state state;
    const struct sspi_package *pkg; /* borrowed */
    struct sspi_cred *cred;         /* one reference */
    void *pkg_ctx;                  /* owned; released with pkg->delete_ctx */
    unsigned long req_flags;        /* last ISC_REQ_* / ASC_REQ_* */
    unsigned long attrs;            /* last ISC_RET_* / ASC_RET_* returned */
    TimeStamp expiry;
    char *error_text;                  /* owned: last failure text (EXTENDED_ERROR), or NULL */
    struct sspi_error_info error_info; /* the last failure's details (GH_ERROR_INFO) */
    struct gh_token *token;            /* owned reference, cached for SECPKG_ATTR_ACCESS_TOKEN */
};

/* ---- handles.c: the handle table ------------------------------------------
 * A handle is {slot index + 1, generation << 16 | tag | kind}: a deleted handle
 * (stale generation), a handle of the other kind, or garbage fails the lookup
 * with SEC_E_INVALID_HANDLE without touching memory outside the table. */
enum handle_kind {
    HANDLE_CRED = 1,
    HANDLE_CTX = 2,
};

/* Called under the table lock with the object of a valid handle; returns
 * SEC_E_OK to accept (e.g. after taking a reference or the busy flag). */
typedef SECURITY_STATUS handles_claim_fn(void *obj);

/* Registers obj and writes its handle. SEC_E_OK or SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS handles_add(enum handle_kind kind, void *obj, PSecHandle handle_out);
/* Looks handle up; with a valid one runs claim(obj) under the lock and, when it
 * accepts, returns the object. SEC_E_INVALID_HANDLE, or claim's refusal. */
SECURITY_STATUS handles_get(const SecHandle *handle, enum handle_kind kind, handles_claim_fn *claim,
                            void **obj_out);
/* Like handles_get, but on acceptance also removes the entry: the handle is
 * stale from then on and the caller owns the table's reference. */
SECURITY_STATUS handles_remove(const SecHandle *handle, enum handle_kind kind,
                               handles_claim_fn *claim, void **obj_out);
/* Number of live handles (tests, leak checks). */
size_t handles_count(void);

/* ---- buffers.c: SecBufferDesc validation and output placement ----------- */
#define SSPI_MAX_BUFFERS     32
#define SSPI_MAX_TOKEN_BYTES (1u << 20)

/* Checks version, count and pointers of an input descriptor (NULL is fine).
 * SEC_E_OK or SEC_E_INVALID_TOKEN. */
SECURITY_STATUS buffers_check_input(PSecBufferDesc desc);
/* Checks an output descriptor; with allocate, pvBuffer of TOKEN buffers is
 * ignored (it will be overwritten). SEC_E_OK or SEC_E_INVALID_TOKEN. */
SECURITY_STATUS buffers_check_output(PSecBufferDesc desc, bool allocate);
/* The bytes of the first buffer of type in desc; empty when none. */
struct slice buffers_slice(PSecBufferDesc desc, unsigned long type);
/* Places token into the first SECBUFFER_TOKEN of out: allocated with
 * sspi_alloc (allocate) or copied into the caller's buffer. An empty token
 * sets cbBuffer to 0 (and pvBuffer to NULL when allocating). SEC_E_OK,
 * SEC_E_BUFFER_TOO_SMALL (no TOKEN buffer, or it is too small: nothing
 * written) or SEC_E_INSUFFICIENT_MEMORY. */
SECURITY_STATUS buffers_put_token(PSecBufferDesc out, struct slice token, bool allocate);
/* Turns the first SECBUFFER_EMPTY input buffer into SECBUFFER_MISSING or
 * SECBUFFER_EXTRA carrying count; false when there is no EMPTY buffer. */
bool buffers_mark(PSecBufferDesc in, unsigned long type, unsigned long count);

/* ---- sspi.c helpers shared with query.c ---------------------------------- */
SECURITY_STATUS sspi_ctx_claim(void *obj);
void sspi_ctx_release(struct sspi_ctx *ctx);
SECURITY_STATUS sspi_cred_claim(void *obj);
void sspi_cred_unref(struct sspi_cred *cred);
/* Records a failure text for this thread (and ctx when non-NULL). */
void sspi_set_error(struct sspi_ctx *ctx, const char *text);
/* The calling thread's last failure text ("" when none). */
const char *sspi_thread_error(void);
/* The details of the last failure recorded for this thread (and ctx when
 * non-NULL); sspi_set_error clears them, so call this after it. */
void sspi_set_error_info(struct sspi_ctx *ctx, const struct sspi_error_info *info);
/* The calling thread's last failure details (zeros when none). */
const struct sspi_error_info *sspi_thread_error_info(void);

/* query.c */
SECURITY_STATUS query_ctx_attr(struct sspi_ctx *ctx, unsigned long attribute, void *buffer,
                               bool wide);
SECURITY_STATUS query_cred_attr(struct sspi_cred *cred, unsigned long attribute, void *buffer,
                                bool wide);
/* A SecPkgInfoW for pkg in one sspi_alloc block. */
PSecPkgInfoW query_package_info_w(const struct sspi_package *pkg);
/* sspi_alloc'd UTF-16 copy of a UTF-8 string; NULL on OOM or invalid UTF-8. */
SEC_WCHAR *query_wide_dup(const char *s);

#endif
