// SPDX-License-Identifier: MIT
// Fuzzes the NTLM message and AV_PAIR decoders (MS-NLMP 2.2.1, 2.2.2.1).
// Invariants: a successful decode borrows only bytes inside the input, and
// the decoders agree with ntlm_msg_type about what the message is.
#include <stddef.h>
#include <stdint.h>

#include "sspi/ntlm/av_pairs.h"
#include "sspi/ntlm/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(struct slice s, const uint8_t *data, size_t size)
{
    if (!slice_within(s, data, size))
        __builtin_trap();
}

static void
av(struct slice list, const uint8_t *data, size_t size)
{
    struct ntlm_av_info info;

    if (ntlm_av_decode(list, &info) != SEC_E_OK)
        return;
    inside(info.nb_computer, data, size);
    inside(info.nb_domain, data, size);
    inside(info.dns_computer, data, size);
    inside(info.dns_domain, data, size);
    inside(info.dns_tree, data, size);
    inside(info.target_name, data, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice msg = slice_make(data, size);
    struct ntlm_negotiate n;
    struct ntlm_challenge c;
    struct ntlm_authenticate a;
    uint32_t type = ntlm_msg_type(msg);

    if (ntlm_msg_decode_negotiate(msg, &n) == SEC_E_OK) {
        if (type != NTLM_MSG_NEGOTIATE)
            __builtin_trap();
        inside(n.domain, data, size);
        inside(n.workstation, data, size);
    }
    if (ntlm_msg_decode_challenge(msg, &c) == SEC_E_OK) {
        if (type != NTLM_MSG_CHALLENGE)
            __builtin_trap();
        inside(c.target_name, data, size);
        inside(c.target_info, data, size);
        av(c.target_info, data, size);
    }
    if (ntlm_msg_decode_authenticate(msg, &a) == SEC_E_OK) {
        if (type != NTLM_MSG_AUTHENTICATE)
            __builtin_trap();
        inside(a.lm_response, data, size);
        inside(a.nt_response, data, size);
        inside(a.domain, data, size);
        inside(a.user, data, size);
        inside(a.workstation, data, size);
        inside(a.encrypted_session_key, data, size);
        if (a.has_mic_field && size < NTLM_AUTHENTICATE_MIC_OFFSET + NTLM_MIC_LEN)
            __builtin_trap();
        if (a.nt_response.len > 16 + 28)
            av(slice_make(a.nt_response.ptr + 16 + 28, a.nt_response.len - 16 - 28), data, size);
    }
    /* The raw input as an AV_PAIR list too. */
    av(msg, data, size);
    return 0;
}
