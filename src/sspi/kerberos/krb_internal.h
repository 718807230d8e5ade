// SPDX-License-Identifier: MIT
// Internals of the Kerberos package, shared by gss.c, context.c, message.c and
// query.c. Nothing outside src/sspi/kerberos includes this.
#ifndef GH_SSPI_KERBEROS_KRB_INTERNAL_H
#define GH_SSPI_KERBEROS_KRB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "base/buf.h"
#include "base/slice.h"
#include "sspi/package.h"

struct krb_keytab;
struct krb_pac;
struct krb_replay;

/* A credential: acquired once per AcquireCredentialsHandle, so the keytab is
 * opened and the ccache read once, not per handshake. */
struct krb_cred {
    gss_cred_id_t gss; /* owned; GSS_C_NO_CREDENTIAL never (acquire fails instead) */
    bool is_initiator;
    bool is_acceptor;
    char *principal;           /* owned: the credential's name as text, or NULL (any keytab key) */
    char *ccache_dir;          /* owned: where delegated credentials are stored, or NULL */
    struct krb_keytab *keytab; /* owned: the acceptor's MEMORY keytab copy, or NULL */
    /* owned reference: our replay cache (MIT's is "none" then), or NULL when
     * MIT's own cache is used (replay.h) */
    struct krb_replay *replay;
    time_t expiry;     /* 0 when unknown / indefinite */
    bool lookup_names; /* GH_ACCEPTOR_GROUP_NAMES: name the PAC's SIDs */
    /* Acceptor: this credential's number in the identity cache (ident.h;
     * 0 for an initiator) and the clock skew MIT allows (libdefaults). */
    uint64_t ident_number;
    uint32_t skew_s;
};

struct krb_ctx {
    gss_ctx_id_t gss; /* owned */
    bool is_acceptor;
    bool is_complete;
    unsigned long req_flags; /* ISC_REQ_* / ASC_REQ_* of the first call */
    unsigned long attrs;     /* ISC_RET_* / ASC_RET_* */
    OM_uint32 gss_flags;     /* ret_flags from GSSAPI */
    gss_name_t target;       /* owned, initiator only */
    gss_cred_id_t delegated; /* owned, acceptor only; GSS_C_NO_CREDENTIAL when none */
    char *client_name;       /* owned, "alice@REALM", complete contexts */
    char *server_name;       /* owned, "HTTP/localhost@REALM"; lazy (krb_ctx_server_name) */
    time_t start;            /* when the context completed */
    time_t expiry;           /* start + lifetime */
    char *delegated_ccache;  /* owned "FILE:/path" after kerberos_ctx_store_delegated */
    bool owns_delegated_ccache;
    gh_token *token; /* owned reference, made on the first query */
    /* owned, acceptor only: the client's PAC (pac.h), read when the context
     * completes; NULL when the ticket carried none (an MIT KDC's). */
    struct krb_pac *pac;
    bool lookup_names; /* from the credential (GH_ACCEPTOR_GROUP_NAMES) */
    /* After ExportSecurityContext: MIT's export took the GSS context away
     * (gss == GSS_C_NO_CONTEXT) and its interprocess token waits here (owned,
     * wiped on free) until the context is used again (krb_ctx_live). */
    uint8_t *exported;
    size_t exported_len;
};

/* gss.c */
SECURITY_STATUS krb_acquire_cred(const struct sspi_acquire *args, void **pkg_cred_out);
void krb_free_cred(void *pkg_cred);
SECURITY_STATUS krb_query_cred(void *pkg_cred, unsigned long attribute, void *buffer);
/* Parses an SSPI target ("HTTP/host", "HTTP@host", "host/fqdn@REALM") into a GSS name. */
SECURITY_STATUS krb_import_target(const char *target, gss_name_t *name_out, struct buf *error_text);
/* Maps a GSSAPI failure to SECURITY_STATUS and writes gss_display_status text
 * ("what: major text; minor text") to error_text (may be NULL). is_reply says
 * the initiator was processing the acceptor's reply (mutual authentication). */
SECURITY_STATUS krb_map_error(OM_uint32 major, OM_uint32 minor, bool is_initiator, bool is_reply,
                              const char *what, struct buf *error_text);
/* Appends the display form of a name; NULL on failure. Caller frees. */
char *krb_name_text(gss_name_t name);
/* The krb5 mechanism OID set {krb5}. */
extern gss_OID_set_desc krb_mech_set;
extern gss_OID_desc krb_mech_oid;

/* context.c */
SECURITY_STATUS krb_init_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step);
SECURITY_STATUS krb_accept_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step);
void krb_delete_ctx(void *pkg_ctx);
/* The acceptor's name of a context ("HTTP/host@REALM"), looked up on first use
 * and kept; NULL when unknown or out of memory. Borrowed from ctx. */
const char *krb_ctx_server_name(struct krb_ctx *ctx);

/* Makes sure ctx->gss is there, importing it back after an export.
 * SEC_E_OK, SEC_E_NO_CONTEXT, or MIT's refusal mapped. */
SECURITY_STATUS krb_ctx_live(struct krb_ctx *ctx);
SECURITY_STATUS krb_export_ctx(void *pkg_ctx, struct buf *out);
SECURITY_STATUS krb_import_ctx(struct slice in, void **pkg_ctx_out);

/* message.c */
SECURITY_STATUS krb_make_signature(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg,
                                   unsigned long seq_no);
SECURITY_STATUS krb_verify_signature(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no,
                                     unsigned long *qop_out);
SECURITY_STATUS krb_encrypt(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg,
                            unsigned long seq_no);
SECURITY_STATUS krb_decrypt(void *pkg_ctx, PSecBufferDesc msg, unsigned long seq_no,
                            unsigned long *qop_out);
/* Sizes of a complete context's per-message tokens. */
SECURITY_STATUS krb_message_sizes(struct krb_ctx *ctx, unsigned long *max_sig_out,
                                  unsigned long *trailer_out);

/* query.c */
SECURITY_STATUS krb_query_ctx(void *pkg_ctx, unsigned long attribute, void *buffer);
SECURITY_STATUS krb_query_token(void *pkg_ctx, gh_token **token_out);

#define KRB_MAX_TOKEN_BYTES 48000 /* Windows' default MaxTokenSize */

#endif
