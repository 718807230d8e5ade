// SPDX-License-Identifier: MIT
// AV_PAIR lists (MS-NLMP 2.2.2.1):
//    0 AvId (u16)   2 AvLen (u16)   4 Value (AvLen bytes)   ... MsvAvEOL (0, 0)
#include "sspi/ntlm/av_pairs.h"

#include <string.h>

#include <gatehouse/error.h>

#include "base/reader.h"

SECURITY_STATUS
ntlm_av_decode(struct slice list, struct ntlm_av_info *out)
{
    struct reader rd = reader_make(list);
    struct ntlm_av_info info = {0};
    uint32_t seen = 0;

    for (;;) {
        uint16_t id = reader_u16le(&rd);
        uint16_t len = reader_u16le(&rd);
        const uint8_t *value = reader_take(&rd, len);
        if (rd.failed)
            return SEC_E_INVALID_TOKEN;
        if (id == MSV_AV_EOL) {
            if (len != 0)
                return SEC_E_INVALID_TOKEN;
            break;
        }
        /* A pair we know must appear once: a second copy is an attempt to
         * make two parsers disagree. Unknown ids are skipped (2.2.2.1). */
        if (id <= MSV_AV_CHANNEL_BINDINGS) {
            if (seen & (1u << id))
                return SEC_E_INVALID_TOKEN;
            seen |= 1u << id;
        }
        struct slice v = slice_make(value, len);
        switch (id) {
        case MSV_AV_NB_COMPUTER_NAME:
            info.nb_computer = v;
            break;
        case MSV_AV_NB_DOMAIN_NAME:
            info.nb_domain = v;
            break;
        case MSV_AV_DNS_COMPUTER_NAME:
            info.dns_computer = v;
            break;
        case MSV_AV_DNS_DOMAIN_NAME:
            info.dns_domain = v;
            break;
        case MSV_AV_DNS_TREE_NAME:
            info.dns_tree = v;
            break;
        case MSV_AV_TARGET_NAME:
            info.target_name = v;
            break;
        case MSV_AV_FLAGS:
            if (len != 4)
                return SEC_E_INVALID_TOKEN;
            info.has_flags = true;
            info.flags = (uint32_t)value[0] | ((uint32_t)value[1] << 8) |
                         ((uint32_t)value[2] << 16) | ((uint32_t)value[3] << 24);
            break;
        case MSV_AV_TIMESTAMP:
            if (len != 8)
                return SEC_E_INVALID_TOKEN;
            info.has_timestamp = true;
            for (size_t i = 0; i < 8; i++)
                info.timestamp |= (uint64_t)value[i] << (8 * i);
            break;
        case MSV_AV_CHANNEL_BINDINGS:
            if (len != 16)
                return SEC_E_INVALID_TOKEN;
            info.has_bindings = true;
            memcpy(info.bindings, value, 16);
            break;
        default:
            break; /* MsvAvSingleHost and unknown ids: not used */
        }
    }
    *out = info;
    return SEC_E_OK;
}

int
ntlm_av_append(struct buf *out, enum ntlm_av_id id, const void *value, size_t len)
{
    uint8_t hdr[4];

    if (len > UINT16_MAX)
        return GH_ELIMIT;
    hdr[0] = (uint8_t)id;
    hdr[1] = (uint8_t)((unsigned)id >> 8);
    hdr[2] = (uint8_t)len;
    hdr[3] = (uint8_t)(len >> 8);
    int err = buf_reserve(out, sizeof(hdr) + len);
    if (err != GH_OK)
        return err;
    buf_append(out, hdr, sizeof(hdr));
    if (len > 0)
        buf_append(out, value, len);
    return GH_OK;
}

int
ntlm_av_append_u32(struct buf *out, enum ntlm_av_id id, uint32_t value)
{
    uint8_t v[4];

    for (size_t i = 0; i < 4; i++)
        v[i] = (uint8_t)(value >> (8 * i));
    return ntlm_av_append(out, id, v, sizeof(v));
}

int
ntlm_av_append_u64(struct buf *out, enum ntlm_av_id id, uint64_t value)
{
    uint8_t v[8];

    for (size_t i = 0; i < 8; i++)
        v[i] = (uint8_t)(value >> (8 * i));
    return ntlm_av_append(out, id, v, sizeof(v));
}

int
ntlm_av_copy_except(struct slice list, const enum ntlm_av_id *skip, size_t skip_count,
                    struct buf *out)
{
    struct reader rd = reader_make(list);

    for (;;) {
        const uint8_t *pair = rd.pos;
        uint16_t id = reader_u16le(&rd);
        uint16_t len = reader_u16le(&rd);
        reader_take(&rd, len);
        if (rd.failed)
            return GH_EPROTO;
        if (id == MSV_AV_EOL)
            return GH_OK;
        bool keep = true;
        for (size_t i = 0; i < skip_count; i++) {
            if ((uint16_t)skip[i] == id)
                keep = false;
        }
        if (keep) {
            int err = buf_append(out, pair, 4u + len);
            if (err != GH_OK)
                return err;
        }
    }
}
