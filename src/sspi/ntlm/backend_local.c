// SPDX-License-Identifier: MIT
// The local NTLM back end: the NT hash comes from the built-in user store (or
// an injected lookup) and the NTLMv2 proof is checked here (MS-NLMP 3.3.2).
// An unknown user costs the same work as a known one and fails the same way.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "base/secret.h"
#include "sspi/ntlm/backend.h"
#include "sspi/ntlm/context.h"
#include "sspi/ntlm/crypto.h"
#include "sspi/store/userstore.h"

void
ntlm_logon_result_free(struct ntlm_logon_result *r)
{
    if (r == NULL)
        return;
    free(r->user);
    free(r->domain);
    free(r->principal);
    free(r->local_account);
    free(r->user_sid);
    for (size_t i = 0; i < r->group_count; i++)
        free(r->groups[i]);
    free(r->groups);
    for (size_t i = 0; i < r->group_sid_count; i++)
        free(r->group_sids[i]);
    free(r->group_sids);
    free(r->group_sid_attrs);
    free(r->dns_domain);
    free(r->upn);
    secret_wipe(r, sizeof(*r));
}

/* The store's groups of user, when the store holds them; otherwise none (the
 * token then asks NSS for the local account's groups). */
static SECURITY_STATUS
copy_groups(const struct ntlm_cred *cred, const char *user, struct ntlm_logon_result *out)
{
    const char *const *groups = NULL;
    size_t count = 0;

    if (cred->store == NULL || userstore_groups(cred->store, user, &groups, &count) != GH_OK)
        return SEC_E_OK;
    out->groups = calloc(count + 1, sizeof(char *));
    if (out->groups == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    for (size_t i = 0; i < count; i++) {
        out->groups[i] = strdup(groups[i]);
        if (out->groups[i] == NULL)
            return SEC_E_INSUFFICIENT_MEMORY; /* the caller frees what was copied */
        out->group_count = i + 1;
    }
    return SEC_E_OK;
}

static SECURITY_STATUS
local_logon(void *state, const struct ntlm_logon *in, struct ntlm_logon_result *out,
            unsigned long *detail, struct buf *error_text)
{
    const struct ntlm_cred *cred = state;
    char canon[256] = "";
    uint8_t nt_hash[16], key[16], proof[16];
    SECURITY_STATUS st;

    bool found =
        ntlm_cred_lookup(cred, in->user, in->domain, nt_hash, canon, sizeof(canon)) == GH_OK;
    if (!found && ntlm_crypto_random(nt_hash, sizeof(nt_hash)) != SEC_E_OK)
        memset(nt_hash, 0xA5, sizeof(nt_hash));
    struct slice temp = slice_make(in->nt_response.ptr + 16, in->nt_response.len - 16);
    st = ntlm_crypto_ntowfv2_utf16(nt_hash, in->user16, in->domain16, key);
    if (st == SEC_E_OK)
        st = ntlm_crypto_nt_proof(key, in->server_challenge, temp, proof);
    if (st != SEC_E_OK) {
        (void)buf_append_str(error_text, "NTLM: NTLMv2 computation failed");
        goto cleanup;
    }
    bool proof_ok = secret_memeq(proof, in->nt_response.ptr, 16);
    if (((unsigned)found & (unsigned)proof_ok) == 0) {
        *detail = found ? GH_SEC_DETAIL_WRONG_PASSWORD : GH_SEC_DETAIL_UNKNOWN_USER;
        (void)buf_append_str(error_text,
                             found ? "NTLM: wrong password (the NTLMv2 proof does not match)"
                                   : "NTLM: unknown user");
        st = SEC_E_LOGON_DENIED;
        goto cleanup;
    }
    st = ntlm_crypto_session_base_key(key, proof, out->session_base_key);
    if (st != SEC_E_OK)
        goto cleanup;
    out->user = strdup(canon[0] != '\0' ? canon : in->user);
    st = out->user == NULL ? SEC_E_INSUFFICIENT_MEMORY : copy_groups(cred, out->user, out);
cleanup:
    if (st != SEC_E_OK)
        ntlm_logon_result_free(out);
    secret_wipe(nt_hash, sizeof(nt_hash));
    secret_wipe(key, sizeof(key));
    secret_wipe(proof, sizeof(proof));
    return st;
}

const struct ntlm_backend ntlm_backend_local = {
    .name = "local",
    .logon = local_logon,
    .destroy = NULL,
};
