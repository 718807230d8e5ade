// SPDX-License-Identifier: MIT
// Fuzzes the AP-REQ reader of the Kerberos replay cache
// (src/sspi/kerberos/replay.c, krb_replay_tag and krb_ap_req_view).
// Invariants: the result is SEC_E_OK or SEC_E_INVALID_TOKEN; the same input
// gives the same tag; a token accepted with the RFC 2743 framing gives the tag
// of its bare AP-REQ; the view accepts exactly what the tag accepts, and its
// ticket ([APPLICATION 1]) and authenticator lie inside the input, apart.
#include <stdint.h>
#include <string.h>

#include "sspi/kerberos/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t tag[KRB_REPLAY_TAG_LEN], again[KRB_REPLAY_TAG_LEN], bare[KRB_REPLAY_TAG_LEN];
    SECURITY_STATUS st = krb_replay_tag(slice_make(data, size), tag);

    if (st != SEC_E_OK && st != SEC_E_INVALID_TOKEN)
        __builtin_trap();
    struct krb_ap_req_view ap;
    if ((krb_ap_req_view(slice_make(data, size), &ap) == SEC_E_OK) != (st == SEC_E_OK))
        __builtin_trap();
    if (st != SEC_E_OK)
        return 0;
    if (ap.ticket.len < 2 || ap.ticket.ptr < data || ap.ticket.ptr + ap.ticket.len > data + size ||
        ap.ticket.ptr[0] != 0x61 || ap.authenticator.len == 0 || ap.authenticator.ptr < data ||
        ap.authenticator.ptr + ap.authenticator.len > data + size ||
        ap.authenticator.ptr < ap.ticket.ptr + ap.ticket.len)
        __builtin_trap();
    if (krb_replay_tag(slice_make(data, size), again) != SEC_E_OK ||
        memcmp(tag, again, sizeof(tag)) != 0)
        __builtin_trap();
    /* Framed: 60 len 06 len OID 01 00 AP-REQ (short lengths here). */
    if (size > 4 && data[0] == 0x60 && data[1] < 0x80 && data[2] == 0x06 && data[3] < 0x80 &&
        (size_t)data[3] + 6 < size) {
        size_t off = 4 + (size_t)data[3] + 2;
        if (krb_replay_tag(slice_make(data + off, size - off), bare) != SEC_E_OK ||
            memcmp(tag, bare, sizeof(tag)) != 0)
            __builtin_trap();
    }
    return 0;
}
