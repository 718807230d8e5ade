// SPDX-License-Identifier: MIT
// The Kerberos handshake: InitializeSecurityContext / AcceptSecurityContext
// over gss_init_sec_context / gss_accept_sec_context with the krb5 mechanism.
//
// The wrapper stays thin on purpose (the benchmark compares it with MIT used
// directly): no krb5_context of our own, no per-call credential or keytab
// work, one gss_inquire_context when the context completes.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>
#include <openssl/rand.h>

#include <gatehouse/error.h>
#include <gatehouse/sspi.h>

#include "base/reader.h"
#include "base/secret.h"
#include "sspi/kerberos/ident.h"
#include "sspi/kerberos/kerberos.h"
#include "sspi/kerberos/keytab.h"
#include "sspi/kerberos/krb_internal.h"
#include "sspi/kerberos/pac.h"
#include "sspi/kerberos/replay.h"
#include "sspi/kerberos/skew.h"
#include "sspi/packed.h"

/* ISC_REQ_* / ASC_REQ_* bits 0x1..0x10 equal GSS_C_*_FLAG bits 1..16 and the
 * RET bits; integrity differs between the two sides. */
static OM_uint32
gss_flags_from_req(unsigned long req, bool is_acceptor)
{
    OM_uint32 f = 0;

    if (req & ISC_REQ_DELEGATE)
        f |= GSS_C_DELEG_FLAG;
    if (req & ISC_REQ_MUTUAL_AUTH)
        f |= GSS_C_MUTUAL_FLAG;
    if (req & ISC_REQ_REPLAY_DETECT)
        f |= GSS_C_REPLAY_FLAG;
    if (req & ISC_REQ_SEQUENCE_DETECT)
        f |= GSS_C_SEQUENCE_FLAG;
    if (req & ISC_REQ_CONFIDENTIALITY)
        f |= GSS_C_CONF_FLAG;
    if (req & (is_acceptor ? ASC_REQ_INTEGRITY : ISC_REQ_INTEGRITY))
        f |= GSS_C_INTEG_FLAG;
    return f;
}

static unsigned long
attrs_from_gss(OM_uint32 f, unsigned long req, bool is_acceptor)
{
    unsigned long a = 0;

    if (f & GSS_C_DELEG_FLAG)
        a |= ISC_RET_DELEGATE;
    if (f & GSS_C_MUTUAL_FLAG)
        a |= ISC_RET_MUTUAL_AUTH;
    if (f & GSS_C_REPLAY_FLAG)
        a |= ISC_RET_REPLAY_DETECT;
    if (f & GSS_C_SEQUENCE_FLAG)
        a |= ISC_RET_SEQUENCE_DETECT;
    if (f & GSS_C_CONF_FLAG)
        a |= ISC_RET_CONFIDENTIALITY;
    if (is_acceptor) {
        if (f & GSS_C_INTEG_FLAG)
            a |= ASC_RET_INTEGRITY;
        a |= req & (ASC_REQ_CONNECTION | ASC_REQ_EXTENDED_ERROR);
    } else {
        if (f & GSS_C_INTEG_FLAG)
            a |= ISC_RET_INTEGRITY;
        a |= req & (ISC_REQ_CONNECTION | ISC_REQ_EXTENDED_ERROR);
    }
    return a;
}

/* SEC_CHANNEL_BINDINGS header + data (one buffer, offsets from its start) to
 * GSSAPI's structure (RFC 2744 3.11); the structure borrows from b. */
static SECURITY_STATUS
bindings_from_sspi(struct slice b, struct gss_channel_bindings_struct *cb)
{
    SEC_CHANNEL_BINDINGS h;

    if (b.len < sizeof(h))
        return SEC_E_BAD_BINDINGS;
    memcpy(&h, b.ptr, sizeof(h));
    if ((uint64_t)h.dwInitiatorOffset + h.cbInitiatorLength > b.len ||
        (uint64_t)h.dwAcceptorOffset + h.cbAcceptorLength > b.len ||
        (uint64_t)h.dwApplicationDataOffset + h.cbApplicationDataLength > b.len)
        return SEC_E_BAD_BINDINGS;
    cb->initiator_addrtype = h.dwInitiatorAddrType;
    cb->initiator_address.length = h.cbInitiatorLength;
    cb->initiator_address.value = (void *)(b.ptr + h.dwInitiatorOffset);
    cb->acceptor_addrtype = h.dwAcceptorAddrType;
    cb->acceptor_address.length = h.cbAcceptorLength;
    cb->acceptor_address.value = (void *)(b.ptr + h.dwAcceptorOffset);
    cb->application_data.length = h.cbApplicationDataLength;
    cb->application_data.value = (void *)(b.ptr + h.dwApplicationDataOffset);
    return SEC_E_OK;
}

static void
reset_ctx(struct krb_ctx *ctx)
{
    OM_uint32 minor;

    if (ctx->gss != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&minor, &ctx->gss, GSS_C_NO_BUFFER);
    if (ctx->target != GSS_C_NO_NAME)
        gss_release_name(&minor, &ctx->target);
    if (ctx->delegated != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&minor, &ctx->delegated);
    free(ctx->client_name);
    free(ctx->server_name);
    free(ctx->delegated_ccache);
    gh_token_close(ctx->token);
    krb_pac_free(ctx->pac);
    if (ctx->exported != NULL) {
        secret_wipe(ctx->exported, ctx->exported_len);
        free(ctx->exported);
    }
    bool is_acceptor = ctx->is_acceptor;
    *ctx = (struct krb_ctx){.gss = GSS_C_NO_CONTEXT,
                            .target = GSS_C_NO_NAME,
                            .delegated = GSS_C_NO_CREDENTIAL,
                            .is_acceptor = is_acceptor};
}

void
krb_delete_ctx(void *pkg_ctx)
{
    struct krb_ctx *ctx = pkg_ctx;

    if (ctx == NULL)
        return;
    reset_ctx(ctx);
    free(ctx);
}

/* The first call creates the context; a call on a complete context starts a
 * new handshake on it (SSPI re-authentication). */
static SECURITY_STATUS
ctx_begin(void **pkg_ctx, bool is_acceptor, struct krb_ctx **ctx_out)
{
    struct krb_ctx *ctx = *pkg_ctx;

    if (ctx == NULL) {
        ctx = calloc(1, sizeof(*ctx));
        if (ctx == NULL)
            return SEC_E_INSUFFICIENT_MEMORY;
        ctx->gss = GSS_C_NO_CONTEXT;
        ctx->target = GSS_C_NO_NAME;
        ctx->delegated = GSS_C_NO_CREDENTIAL;
        ctx->is_acceptor = is_acceptor;
        *pkg_ctx = ctx;
    } else if (ctx->is_acceptor != is_acceptor) {
        return SEC_E_INVALID_HANDLE;
    } else if (ctx->is_complete) {
        reset_ctx(ctx);
    }
    *ctx_out = ctx;
    return SEC_E_OK;
}

static SECURITY_STATUS
copy_out(gss_buffer_desc *out, struct sspi_step *step)
{
    OM_uint32 minor;
    int err = GH_OK;

    if (out->length > 0)
        err = buf_append(&step->out_token, out->value, out->length);
    gss_release_buffer(&minor, out);
    if (err == GH_ENOMEM)
        return SEC_E_INSUFFICIENT_MEMORY;
    return err == GH_OK ? SEC_E_OK : SEC_E_BUFFER_TOO_SMALL;
}

/* The display form of the context's initiator (is_source) or acceptor name,
 * through gss_inquire_context; NULL on failure. Caller frees. */
static char *
peer_name_text(struct krb_ctx *ctx, bool is_source)
{
    OM_uint32 major, minor;
    gss_name_t name = GSS_C_NO_NAME;
    char *text;

    major = gss_inquire_context(&minor, ctx->gss, is_source ? &name : NULL,
                                is_source ? NULL : &name, NULL, NULL, NULL, NULL, NULL);
    if (GSS_ERROR(major))
        return NULL;
    text = krb_name_text(name);
    gss_release_name(&minor, &name);
    return text;
}

const char *
krb_ctx_server_name(struct krb_ctx *ctx)
{
    if (ctx->server_name == NULL && krb_ctx_live(ctx) == SEC_E_OK && ctx->gss != GSS_C_NO_CONTEXT)
        ctx->server_name = peer_name_text(ctx, false);
    return ctx->server_name;
}

/* Records the client's name and the lifetime once the context is established.
 * No gss_inquire_context here: it converts both names to union names, and each
 * conversion makes MIT build a fresh krb5_context (reading krb5.conf again),
 * which cost ~20% of a whole handshake. The acceptor has the client's name
 * from gss_accept_sec_context, the initiator from its credential; the server
 * name is looked up only when asked for (krb_ctx_server_name). */
static SECURITY_STATUS
ctx_finish(struct krb_ctx *ctx, gss_name_t src, const struct krb_cred *cred, OM_uint32 time_rec,
           struct sspi_step *step)
{
    /* On an identity cache hit, krb_accept_ctx has set client_name already. */
    if (ctx->client_name == NULL && src != GSS_C_NO_NAME)
        ctx->client_name = krb_name_text(src);
    else if (ctx->client_name == NULL && cred->principal != NULL)
        ctx->client_name = strdup(cred->principal);
    else if (ctx->client_name == NULL)
        ctx->client_name = peer_name_text(ctx, true);
    if (ctx->client_name == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    ctx->start = time(NULL);
    ctx->expiry = time_rec == GSS_C_INDEFINITE ? 0 : ctx->start + (time_t)time_rec;
    ctx->is_complete = true;
    step->expiry_out =
        ctx->expiry == 0 ? sspi_timestamp_never() : sspi_timestamp_from_unix(ctx->expiry);
    return SEC_E_OK;
}

SECURITY_STATUS
krb_init_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    struct krb_cred *cred = pkg_cred;
    struct krb_ctx *ctx;
    struct gss_channel_bindings_struct cb_struct;
    gss_channel_bindings_t cb = GSS_C_NO_CHANNEL_BINDINGS;
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor, tmp, ret_flags = 0, time_rec = 0;
    SECURITY_STATUS st;

    st = ctx_begin(pkg_ctx, false, &ctx);
    if (st != SEC_E_OK)
        return st;
    if (!cred->is_initiator)
        return SEC_E_NO_CREDENTIALS;
    bool is_reply = ctx->gss != GSS_C_NO_CONTEXT;
    if (!is_reply) {
        ctx->req_flags = step->req_flags;
        if (ctx->target == GSS_C_NO_NAME) {
            st = krb_import_target(step->target, &ctx->target, &step->error_text);
            if (st != SEC_E_OK)
                return st;
        }
    } else {
        if (step->in_token.len == 0)
            return SEC_E_INVALID_TOKEN;
        in.value = (void *)step->in_token.ptr;
        in.length = step->in_token.len;
    }
    if (step->bindings.len > 0) {
        st = bindings_from_sspi(step->bindings, &cb_struct);
        if (st != SEC_E_OK)
            return st;
        cb = &cb_struct;
    }
    major = gss_init_sec_context(&minor, cred->gss, &ctx->gss, ctx->target, &krb_mech_oid,
                                 gss_flags_from_req(ctx->req_flags, false), 0, cb, &in, NULL, &out,
                                 &ret_flags, &time_rec);
    if (GSS_ERROR(major)) {
        gss_release_buffer(&tmp, &out);
        step->error_krb5 = (long)(krb5_error_code)minor;
        step->error_major = major;
        return krb_map_error(major, minor, true, is_reply,
                             is_reply ? "cannot verify the server's reply"
                                      : "cannot create the Kerberos request",
                             &step->error_text);
    }
    st = copy_out(&out, step);
    if (st != SEC_E_OK)
        return st;
    ctx->gss_flags = ret_flags;
    ctx->attrs = attrs_from_gss(ret_flags, ctx->req_flags, false);
    step->attrs_out = ctx->attrs;
    if (major & GSS_S_CONTINUE_NEEDED)
        return SEC_I_CONTINUE_NEEDED;
    if ((ctx->req_flags & ISC_REQ_MUTUAL_AUTH) && !(ret_flags & GSS_C_MUTUAL_FLAG)) {
        (void)buf_append_str(&step->error_text, "the server did not authenticate itself");
        return SEC_E_MUTUAL_AUTH_FAILED;
    }
    return ctx_finish(ctx, GSS_C_NO_NAME, cred, time_rec, step);
}

/* Extended Protection: MIT accepts an AP-REQ that carries no channel bindings
 * even when the acceptor has some (RFC 4121 4.1.1.2 leaves it to policy) and
 * says so only by leaving GSS_C_CHANNEL_BOUND_FLAG clear. Like Windows, refuse
 * it unless the application passed ASC_REQ_ALLOW_MISSING_BINDINGS. */
static SECURITY_STATUS
unbound(struct sspi_step *step)
{
    step->out_token.len = 0; /* no AP-REP for a refused client */
    (void)buf_append_str(&step->error_text, "the client sent no channel bindings");
    step->error_detail = GH_SEC_DETAIL_NO_BINDINGS;
    return SEC_E_BAD_BINDINGS;
}

/* The delegated TGT into DIR/cc_<32 random hex> owned by the tokens made
 * from ctx: the file goes when the last of them is closed. A failure to store
 * fails the handshake: the client asked for delegation and the application
 * counts on it (ASC_RET_DELEGATE would otherwise lie). */
static SECURITY_STATUS
store_delegated_in(struct krb_ctx *ctx, const char *dir, struct sspi_step *step)
{
    uint8_t rnd[16];
    char path[4096];
    static const char hex[] = "0123456789abcdef";
    size_t n;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return SEC_E_INTERNAL_ERROR;
    n = (size_t)snprintf(path, sizeof(path), "%s/cc_", dir);
    if (n + 2 * sizeof(rnd) + 1 > sizeof(path))
        return SEC_E_INTERNAL_ERROR;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        path[n++] = hex[rnd[i] >> 4];
        path[n++] = hex[rnd[i] & 15];
    }
    path[n] = '\0';
    return kerberos_ctx_store_delegated(ctx, path, true, &step->error_text);
}

/* The client's PAC, when its ticket has one (Active Directory, Samba): the
 * SIDs and groups of the access token. A PAC that MIT could not verify, or
 * that our decoder refuses, fails the handshake: the identity would
 * otherwise come without the groups a Windows server would see. When the
 * context's authorization data holds no PAC at all (krb_pac_absent: asked of
 * the context, which costs MIT no krb5_context), the name attributes are not
 * asked for: each would cost one. */
static SECURITY_STATUS
read_pac(struct krb_ctx *ctx, gss_name_t src, struct sspi_step *step)
{
    SECURITY_STATUS st = SEC_E_OK;

    if (!krb_pac_absent(ctx->gss))
        st = krb_pac_read(src, &ctx->pac, &step->error_text);
    if (st != SEC_E_OK) {
        ctx->is_complete = false;
        step->out_token.len = 0; /* no AP-REP for a refused client */
    }
    return st;
}

/* What the first token of a context gives the caches: the replay tag (when
 * our replay cache is in use) and the identity cache's key. */
struct first_token {
    bool check_replay;
    uint8_t tag[KRB_REPLAY_TAG_LEN];
    bool has_key; /* ident_key is valid: the identity cache may be used */
    struct krb_ident_key ident_key;
    char *name;          /* owned: the cached client name on a hit */
    struct krb_pac *pac; /* owned reference: the cached PAC on a hit (may be NULL) */
    bool hit;
};

/* Reads the AP-REQ once for both caches and looks the ticket up. Only
 * SEC_E_INVALID_TOKEN fails (our replay cache needs the tag of every token
 * it lets through); without a key the identity cache is skipped. */
static SECURITY_STATUS
first_token_read(struct krb_cred *cred, struct slice token, struct first_token *ft)
{
    struct krb_ap_req_view ap;
    bool is_ap = krb_ap_req_view(token, &ap) == SEC_E_OK;

    if (ft->check_replay && (!is_ap || krb_replay_tag_of(&ap, ft->tag) != SEC_E_OK))
        return SEC_E_INVALID_TOKEN;
    /* After the refresh: a keytab that changed is a new generation. */
    if (cred->keytab != NULL)
        krb_keytab_refresh(cred->keytab, 0); /* a rotated key in the file */
    if (!is_ap || cred->ident_number == 0)
        return SEC_E_OK;
    uint64_t generation = cred->keytab != NULL ? krb_keytab_generation(cred->keytab) : 0;
    if (krb_ident_key_make(cred->ident_number, generation, ap.ticket, &ft->ident_key) != SEC_E_OK)
        return SEC_E_OK;
    ft->has_key = true;
    ft->hit = krb_ident_lookup(&ft->ident_key, time(NULL), &ft->name, &ft->pac) == SEC_E_OK;
    return SEC_E_OK;
}

/* The context is established: its client's name and PAC, from the identity
 * cache on a hit, else from src (then remembered for the ticket's next use). */
static SECURITY_STATUS
accept_done(struct krb_ctx *ctx, struct krb_cred *cred, gss_name_t src, OM_uint32 time_rec,
            struct first_token *ft, struct sspi_step *step)
{
    SECURITY_STATUS st;

    if (ft->hit) {
        ctx->client_name = ft->name;
        ft->name = NULL;
    }
    st = ctx_finish(ctx, src, cred, time_rec, step);
    if (st != SEC_E_OK)
        return st;
    if (ft->hit) {
        ctx->pac = ft->pac;
        ft->pac = NULL;
        return SEC_E_OK;
    }
    if (src == GSS_C_NO_NAME)
        return SEC_E_OK;
    st = read_pac(ctx, src, step);
    if (st == SEC_E_OK && ft->has_key) {
        /* MIT's time_rec runs to the ticket's end time plus the clock skew it
         * allows; a ticket past its end (within the skew) is not cached. */
        time_t end = 0;
        if (time_rec != GSS_C_INDEFINITE) {
            end = ctx->start + (time_t)time_rec - (time_t)cred->skew_s;
            if (end <= ctx->start)
                end = ctx->start;
        }
        krb_ident_insert(&ft->ident_key, ctx->client_name, ctx->pac, end, ctx->start);
    }
    return st;
}

/* Before gss_accept_sec_context: the flags of a first call, the channel
 * bindings (*cb_out, when step has some), the first token's caches, a
 * rotated key in the keytab file. SEC_E_OK, SEC_E_BAD_BINDINGS or
 * SEC_E_INVALID_TOKEN (not an AP-REQ while our replay cache is on). */
static SECURITY_STATUS
accept_inputs(struct krb_ctx *ctx, struct krb_cred *cred, struct sspi_step *step,
              struct gss_channel_bindings_struct *cb_out, struct first_token *ft)
{
    bool is_first = ctx->gss == GSS_C_NO_CONTEXT;

    if (is_first)
        ctx->req_flags = step->req_flags;
    if (step->bindings.len > 0) {
        SECURITY_STATUS st = bindings_from_sspi(step->bindings, cb_out);
        if (st != SEC_E_OK)
            return st;
    }
    if (!is_first) {
        if (cred->keytab != NULL)
            krb_keytab_refresh(cred->keytab, 0); /* a rotated key in the file */
        return SEC_E_OK;
    }
    /* MIT checks no replay for this credential (rcache "none"): the first
     * token's authenticator goes to our cache once MIT has verified it. */
    ft->check_replay = cred->replay != NULL;
    if (first_token_read(cred, step->in_token, ft) != SEC_E_OK) {
        (void)buf_append_str(&step->error_text,
                             "cannot accept the Kerberos request: not an AP-REQ");
        return SEC_E_INVALID_TOKEN;
    }
    return SEC_E_OK;
}

/* What a successful gss_accept_sec_context returned. */
struct accepted {
    OM_uint32 major, ret_flags, time_rec;
    gss_name_t src; /* borrowed; GSS_C_NO_NAME on an identity cache hit */
    bool has_bindings;
};

/* The flags of an accepted leg, then: another leg to come, bindings missing
 * where they are required, or the context established (its identity, and
 * the delegated credential stored when asked for). */
static SECURITY_STATUS
accept_step_done(struct krb_ctx *ctx, struct krb_cred *cred, const struct accepted *acc,
                 struct first_token *ft, struct sspi_step *step)
{
    SECURITY_STATUS st;

    ctx->gss_flags = acc->ret_flags;
    ctx->attrs = attrs_from_gss(acc->ret_flags, ctx->req_flags, true);
    if (ctx->delegated == GSS_C_NO_CREDENTIAL)
        ctx->attrs &= ~(unsigned long)ASC_RET_DELEGATE;
    step->attrs_out = ctx->attrs;
    if (acc->major & GSS_S_CONTINUE_NEEDED)
        st = SEC_I_CONTINUE_NEEDED;
    else if (acc->has_bindings && !(acc->ret_flags & GSS_C_CHANNEL_BOUND_FLAG) &&
             !(ctx->req_flags & ASC_REQ_ALLOW_MISSING_BINDINGS))
        st = unbound(step);
    else
        st = accept_done(ctx, cred, acc->src, acc->time_rec, ft, step);
    ctx->lookup_names = cred->lookup_names;
    if (st == SEC_E_OK && ctx->delegated != GSS_C_NO_CREDENTIAL && cred->ccache_dir != NULL)
        st = store_delegated_in(ctx, cred->ccache_dir, step);
    return st;
}

/* After "Clock skew too great": by how much, read from the authenticator
 * (skew.h), appended to the error text. */
static void
explain_skew(const struct krb_cred *cred, struct sspi_step *step)
{
    int64_t skew = 0;
    const char *keytab = cred->keytab != NULL ? krb_keytab_name(cred->keytab) : NULL;

    if (krb_skew_seconds(keytab, step->in_token, time(NULL), &skew) != SEC_E_OK)
        return;
    (void)buf_printf(&step->error_text, " (the client's clock is %lld s %s this server's)",
                     (long long)(skew < 0 ? -skew : skew), skew < 0 ? "behind" : "ahead of");
}

/* A failed gss_accept_sec_context or a replay our cache caught. */
static SECURITY_STATUS
accept_failed(struct krb_ctx *ctx, const struct krb_cred *cred, OM_uint32 major, OM_uint32 minor,
              SECURITY_STATUS replay_st, struct sspi_step *step)
{
    OM_uint32 tmp;

    if (replay_st == SEC_E_OK) {
        step->error_krb5 = (long)(krb5_error_code)minor;
        step->error_major = major;
        if (GSS_ROUTINE_ERROR(major) == GSS_S_BAD_BINDINGS)
            step->error_detail = GH_SEC_DETAIL_BINDINGS_MISMATCH;
        SECURITY_STATUS st = krb_map_error(major, minor, false, false,
                                           "cannot accept the Kerberos request", &step->error_text);
        if ((krb5_error_code)minor == KRB5KRB_AP_ERR_SKEW)
            explain_skew(cred, step);
        return st;
    }
    gss_delete_sec_context(&tmp, &ctx->gss, GSS_C_NO_BUFFER);
    /* Our replay cache refused it: report it as MIT would have. */
    if (replay_st == SEC_E_INVALID_TOKEN) {
        step->error_krb5 = (long)KRB5KRB_AP_ERR_REPEAT;
        step->error_major = GSS_S_DUPLICATE_TOKEN;
    }
    (void)buf_append_str(&step->error_text,
                         replay_st == SEC_E_INVALID_TOKEN
                             ? "cannot accept the Kerberos request: Request is a replay"
                             : "cannot accept the Kerberos request: the replay cache cannot "
                               "record it");
    return replay_st;
}

SECURITY_STATUS
krb_accept_ctx(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    struct krb_cred *cred = pkg_cred;
    struct krb_ctx *ctx;
    struct gss_channel_bindings_struct cb_struct;
    gss_channel_bindings_t cb = GSS_C_NO_CHANNEL_BINDINGS;
    gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
    gss_cred_id_t delegated = GSS_C_NO_CREDENTIAL;
    gss_name_t src = GSS_C_NO_NAME;
    OM_uint32 major, minor, tmp, ret_flags = 0, time_rec = 0;
    struct first_token ft = {0};
    SECURITY_STATUS st;

    st = ctx_begin(pkg_ctx, true, &ctx);
    if (st != SEC_E_OK)
        return st;
    if (!cred->is_acceptor)
        return SEC_E_NO_CREDENTIALS;
    if (step->in_token.len == 0)
        return SEC_E_INVALID_TOKEN;
    st = accept_inputs(ctx, cred, step, &cb_struct, &ft);
    if (st != SEC_E_OK)
        return st;
    if (step->bindings.len > 0)
        cb = &cb_struct;
    in.value = (void *)step->in_token.ptr;
    in.length = step->in_token.len;
    /* On an identity cache hit no source name is asked for: the mechglue
     * then converts none (g_accept_sec_context.c), and nothing is displayed
     * or released. */
    major = gss_accept_sec_context(&minor, &ctx->gss, cred->gss, &in, cb, ft.hit ? NULL : &src,
                                   NULL, &out, &ret_flags, &time_rec, &delegated);
    SECURITY_STATUS replay_st = SEC_E_OK;
    if (!GSS_ERROR(major) && ft.check_replay)
        replay_st = krb_replay_add(cred->replay, ft.tag, time(NULL));
    if (GSS_ERROR(major) || replay_st != SEC_E_OK) {
        gss_release_buffer(&tmp, &out);
        if (delegated != GSS_C_NO_CREDENTIAL)
            gss_release_cred(&tmp, &delegated);
        st = accept_failed(ctx, cred, major, minor, replay_st, step);
        goto cleanup;
    }
    if (delegated != GSS_C_NO_CREDENTIAL) {
        if (ctx->delegated != GSS_C_NO_CREDENTIAL)
            gss_release_cred(&minor, &ctx->delegated);
        ctx->delegated = delegated;
    }
    st = copy_out(&out, step);
    if (st == SEC_E_OK) {
        struct accepted acc = {major, ret_flags, time_rec, src, cb != GSS_C_NO_CHANNEL_BINDINGS};
        st = accept_step_done(ctx, cred, &acc, &ft, step);
    }
cleanup:
    if (src != GSS_C_NO_NAME)
        gss_release_name(&tmp, &src);
    free(ft.name);
    krb_pac_free(ft.pac);
    return st;
}

/* ---- Helpers for Negotiate and the server -------------------------------- */

bool
kerberos_ctx_is_complete(const void *pkg_ctx)
{
    const struct krb_ctx *ctx = pkg_ctx;

    return ctx != NULL && ctx->is_complete;
}

SECURITY_STATUS
kerberos_ctx_get_mic(void *pkg_ctx, struct slice data, struct buf *mic_out)
{
    struct krb_ctx *ctx = pkg_ctx;
    gss_buffer_desc msg = {data.len, (void *)data.ptr}, mic = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    int err;

    if (ctx == NULL || krb_ctx_live(ctx) != SEC_E_OK || ctx->gss == GSS_C_NO_CONTEXT)
        return SEC_E_NO_CONTEXT;
    major = gss_get_mic(&minor, ctx->gss, GSS_C_QOP_DEFAULT, &msg, &mic);
    if (GSS_ERROR(major))
        return krb_map_error(major, minor, !ctx->is_acceptor, false, "gss_get_mic", NULL);
    err = buf_append(mic_out, mic.value, mic.length);
    gss_release_buffer(&minor, &mic);
    return err == GH_OK ? SEC_E_OK : SEC_E_INSUFFICIENT_MEMORY;
}

SECURITY_STATUS
kerberos_ctx_verify_mic(void *pkg_ctx, struct slice data, struct slice mic)
{
    struct krb_ctx *ctx = pkg_ctx;
    gss_buffer_desc msg = {data.len, (void *)data.ptr}, tok = {mic.len, (void *)mic.ptr};
    OM_uint32 major, minor;

    if (ctx == NULL || krb_ctx_live(ctx) != SEC_E_OK || ctx->gss == GSS_C_NO_CONTEXT)
        return SEC_E_NO_CONTEXT;
    major = gss_verify_mic(&minor, ctx->gss, &msg, &tok, NULL);
    if (GSS_ERROR(major)) {
        SECURITY_STATUS st =
            krb_map_error(major, minor, !ctx->is_acceptor, false, "gss_verify_mic", NULL);
        return st == SEC_E_INVALID_TOKEN || st == SEC_E_INTERNAL_ERROR ? SEC_E_MESSAGE_ALTERED : st;
    }
    return SEC_E_OK;
}

SECURITY_STATUS
kerberos_ctx_store_delegated(void *pkg_ctx, const char *path, bool owns_file,
                             struct buf *error_text)
{
    struct krb_ctx *ctx = pkg_ctx;
    OM_uint32 major, minor;
    char *name = NULL;
    size_t n;
    int fd;

    if (ctx == NULL || !ctx->is_acceptor || !ctx->is_complete)
        return SEC_E_NO_CONTEXT;
    if (ctx->delegated == GSS_C_NO_CREDENTIAL)
        return SEC_E_NO_CREDENTIALS;
    n = strlen(path) + sizeof("FILE:");
    name = malloc(n);
    if (name == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    snprintf(name, n, "FILE:%s", path);
    /* Create the file ourselves with 0600 so that no other user can read it
     * even for an instant, whatever the umask; MIT then rewrites it in place. */
    (void)unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (error_text != NULL)
            (void)buf_printf(error_text, "cannot create %s: %s", path, strerror(errno));
        free(name);
        return SEC_E_INTERNAL_ERROR;
    }
    (void)fchmod(fd, 0600);
    close(fd);
    gss_key_value_element_desc kv = {"ccache", name};
    gss_key_value_set_desc store = {1, &kv};
    major = gss_store_cred_into(&minor, ctx->delegated, GSS_C_INITIATE, &krb_mech_oid, 1, 0, &store,
                                NULL, NULL);
    if (GSS_ERROR(major)) {
        (void)krb_map_error(major, minor, false, false, "cannot store delegated credentials",
                            error_text);
        (void)unlink(path);
        free(name);
        return SEC_E_INTERNAL_ERROR;
    }
    (void)chmod(path, 0600);
    free(ctx->delegated_ccache);
    ctx->delegated_ccache = name;
    ctx->owns_delegated_ccache = owns_file;
    /* Tokens are immutable: the next query makes one that names the ccache. */
    gh_token_close(ctx->token);
    ctx->token = NULL;
    return SEC_E_OK;
}

/* ---- Packed contexts --------------------------------------------------------
 * Version 1 (sspi/packed.h encodings):
 *   u8 version  u8 is_acceptor  u32 req_flags  u32 attrs  u32 gss_flags
 *   u64 start  u64 expiry (Unix seconds; 0: none)
 *   str client_name  str server_name (NULL when not looked up)  str delegated_ccache
 *   bytes gss_export_sec_context token
 * MIT's export token carries the keys and sequence state; the delegated
 * ccache is only named (its file stays owned by the exporter's token). */
#define PACKED_KRB_VERSION 1
#define PACKED_KRB_MAX_GSS (256u * 1024u)

SECURITY_STATUS
krb_ctx_live(struct krb_ctx *ctx)
{
    OM_uint32 major, minor;

    if (ctx->gss != GSS_C_NO_CONTEXT || ctx->exported == NULL)
        return SEC_E_OK;
    gss_buffer_desc tok = {ctx->exported_len, ctx->exported};
    major = gss_import_sec_context(&minor, &tok, &ctx->gss);
    if (GSS_ERROR(major)) {
        ctx->gss = GSS_C_NO_CONTEXT;
        return krb_map_error(major, minor, !ctx->is_acceptor, false, "gss_import_sec_context",
                             NULL);
    }
    secret_wipe(ctx->exported, ctx->exported_len);
    free(ctx->exported);
    ctx->exported = NULL;
    ctx->exported_len = 0;
    return SEC_E_OK;
}

/* gss_export_sec_context deactivates the context it exports (RFC 2743
 * 2.2.8): the token is kept, and the context comes back from it only when it
 * is used again. The server exports a completed context only when a module
 * reads its auth record (src/auth/ctx_ref.c) and rarely uses it afterwards,
 * so this costs at most one export per handshake and no import (an import
 * builds a krb5 context: krb5.conf again). */
SECURITY_STATUS
krb_export_ctx(void *pkg_ctx, struct buf *out)
{
    struct krb_ctx *ctx = pkg_ctx;
    OM_uint32 major, minor;
    SECURITY_STATUS st;

    if (ctx == NULL || !ctx->is_complete)
        return SEC_E_NO_CONTEXT;
    if (ctx->exported == NULL) {
        gss_buffer_desc tok = GSS_C_EMPTY_BUFFER;

        if (ctx->gss == GSS_C_NO_CONTEXT)
            return SEC_E_NO_CONTEXT;
        major = gss_export_sec_context(&minor, &ctx->gss, &tok);
        if (GSS_ERROR(major)) {
            gss_release_buffer(&minor, &tok);
            st = krb_map_error(major, minor, !ctx->is_acceptor, false, "gss_export_sec_context",
                               NULL);
            return st == SEC_E_INTERNAL_ERROR ? SEC_E_UNSUPPORTED_FUNCTION : st;
        }
        ctx->gss = GSS_C_NO_CONTEXT; /* MIT released it */
        ctx->exported = malloc(tok.length > 0 ? tok.length : 1);
        if (ctx->exported != NULL) {
            memcpy(ctx->exported, tok.value, tok.length);
            ctx->exported_len = tok.length;
        }
        secret_wipe(tok.value, tok.length);
        gss_release_buffer(&minor, &tok);
        if (ctx->exported == NULL)
            return SEC_E_INSUFFICIENT_MEMORY; /* the context is lost with it */
    }
    st = packed_put_u8(out, PACKED_KRB_VERSION);
    if (st == SEC_E_OK)
        st = packed_put_u8(out, ctx->is_acceptor ? 1 : 0);
    if (st == SEC_E_OK)
        st = packed_put_u32(out, (uint32_t)ctx->req_flags);
    if (st == SEC_E_OK)
        st = packed_put_u32(out, (uint32_t)ctx->attrs);
    if (st == SEC_E_OK)
        st = packed_put_u32(out, ctx->gss_flags);
    if (st == SEC_E_OK)
        st = packed_put_u64(out, (uint64_t)ctx->start);
    if (st == SEC_E_OK)
        st = packed_put_u64(out, (uint64_t)ctx->expiry);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->client_name);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->server_name);
    if (st == SEC_E_OK)
        st = packed_put_str(out, ctx->delegated_ccache);
    if (st == SEC_E_OK)
        st = packed_put_bytes(out, ctx->exported, ctx->exported_len);
    return st;
}

SECURITY_STATUS
krb_import_ctx(struct slice in, void **pkg_ctx_out)
{
    struct reader rd = reader_make(in);
    struct krb_ctx *ctx;
    struct slice tok;
    bool oom = false;
    SECURITY_STATUS st = SEC_E_INVALID_TOKEN;

    *pkg_ctx_out = NULL;
    if (reader_u8(&rd) != PACKED_KRB_VERSION || rd.failed)
        return SEC_E_INVALID_TOKEN;
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    ctx->gss = GSS_C_NO_CONTEXT;
    ctx->target = GSS_C_NO_NAME;
    ctx->delegated = GSS_C_NO_CREDENTIAL;
    ctx->is_acceptor = reader_u8(&rd) != 0;
    ctx->req_flags = reader_u32le(&rd);
    ctx->attrs = reader_u32le(&rd);
    ctx->gss_flags = reader_u32le(&rd);
    ctx->start = (time_t)reader_u64le(&rd);
    ctx->expiry = (time_t)reader_u64le(&rd);
    if (!packed_get_str(&rd, &ctx->client_name, &oom) || ctx->client_name == NULL ||
        !packed_get_str(&rd, &ctx->server_name, &oom) ||
        !packed_get_str(&rd, &ctx->delegated_ccache, &oom) ||
        !packed_get_bytes(&rd, PACKED_KRB_MAX_GSS, &tok) || tok.len == 0 || rd.left != 0)
        goto cleanup;
    ctx->exported = malloc(tok.len);
    if (ctx->exported == NULL) {
        oom = true;
        goto cleanup;
    }
    memcpy(ctx->exported, tok.ptr, tok.len);
    ctx->exported_len = tok.len;
    ctx->is_complete = true;
    /* Imported now rather than on first use: a bad token fails the import. */
    st = krb_ctx_live(ctx);
    if (st != SEC_E_OK)
        goto cleanup;
    *pkg_ctx_out = ctx;
    ctx = NULL;
cleanup:
    if (oom)
        st = SEC_E_INSUFFICIENT_MEMORY;
    krb_delete_ctx(ctx);
    return st;
}
