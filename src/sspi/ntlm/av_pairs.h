// SPDX-License-Identifier: MIT
// AV_PAIR lists (MS-NLMP 2.2.2.1): the CHALLENGE's TargetInfo and the AvPairs
// of an NTLMv2_CLIENT_CHALLENGE.
#ifndef GH_SSPI_NTLM_AV_PAIRS_H
#define GH_SSPI_NTLM_AV_PAIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gatehouse/sspi.h>

#include "base/buf.h"
#include "base/slice.h"

enum ntlm_av_id {
    MSV_AV_EOL = 0,
    MSV_AV_NB_COMPUTER_NAME = 1,
    MSV_AV_NB_DOMAIN_NAME = 2,
    MSV_AV_DNS_COMPUTER_NAME = 3,
    MSV_AV_DNS_DOMAIN_NAME = 4,
    MSV_AV_DNS_TREE_NAME = 5,
    MSV_AV_FLAGS = 6,
    MSV_AV_TIMESTAMP = 7,
    MSV_AV_SINGLE_HOST = 8,
    MSV_AV_TARGET_NAME = 9,
    MSV_AV_CHANNEL_BINDINGS = 10,
};

/* MsvAvFlags bits. */
#define MSV_AV_FLAG_CONSTRAINED   0x1u
#define MSV_AV_FLAG_MIC_PRESENT   0x2u
#define MSV_AV_FLAG_UNTRUSTED_SPN 0x4u

struct ntlm_av_info {
    struct slice nb_computer, nb_domain, dns_computer, dns_domain, dns_tree; /* UTF-16LE */
    struct slice target_name;                                                /* UTF-16LE */
    bool has_flags;
    uint32_t flags;
    bool has_timestamp;
    uint64_t timestamp; /* FILETIME */
    bool has_bindings;
    uint8_t bindings[16];
};

/* Decodes an AV_PAIR list; every slice borrows from list. The list must end
 * with MsvAvEOL (bytes after it are ignored, as clients pad); fixed-size pairs
 * must have their size. SEC_E_OK or SEC_E_INVALID_TOKEN. */
SECURITY_STATUS ntlm_av_decode(struct slice list, struct ntlm_av_info *out);

/* Appends one AV_PAIR. GH_OK, GH_ELIMIT or GH_ENOMEM. */
int ntlm_av_append(struct buf *out, enum ntlm_av_id id, const void *value, size_t len);
int ntlm_av_append_u32(struct buf *out, enum ntlm_av_id id, uint32_t value);
int ntlm_av_append_u64(struct buf *out, enum ntlm_av_id id, uint64_t value);

/* Copies every pair of list except MsvAvEOL and those whose id is in skip[]
 * (no terminator written). GH_OK, GH_EPROTO (malformed), GH_ELIMIT or GH_ENOMEM. */
int ntlm_av_copy_except(struct slice list, const enum ntlm_av_id *skip, size_t skip_count,
                        struct buf *out);

#endif
