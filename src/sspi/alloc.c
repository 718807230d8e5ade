// SPDX-License-Identifier: MIT
// Memory handed to SSPI callers, and the small helpers packages share.
//
// Every block carries a header with its size and a magic word: FreeContextBuffer
// wipes the whole block before freeing it (session keys and tokens come back
// through it), and refuses a pointer whose header is not ours instead of
// handing it to free().
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <gatehouse/sspi.h>

#include "sspi/package.h"

#define ALLOC_MAGIC 0x6768737370692121ULL /* "ghsspi!!" */
#define ALLOC_FREED 0x6768737370692d2dULL /* "ghsspi--": catches double frees */

struct alloc_head {
    alignas(max_align_t) uint64_t magic;
    size_t size;
};

void *
sspi_alloc(size_t size)
{
    struct alloc_head *h;

    if (size > SIZE_MAX - sizeof(*h))
        return NULL;
    h = calloc(1, sizeof(*h) + size);
    if (h == NULL)
        return NULL;
    h->magic = ALLOC_MAGIC;
    h->size = size;
    return h + 1;
}

char *
sspi_strdup(const char *s)
{
    size_t len;
    char *p;

    if (s == NULL)
        return NULL;
    len = strlen(s);
    p = sspi_alloc(len + 1);
    if (p != NULL)
        memcpy(p, s, len + 1);
    return p;
}

SECURITY_STATUS SEC_ENTRY
FreeContextBuffer(void *pvContextBuffer)
{
    struct alloc_head *h;

    if (pvContextBuffer == NULL)
        return SEC_E_OK;
    h = (struct alloc_head *)pvContextBuffer - 1;
    if (h->magic != ALLOC_MAGIC)
        return SEC_E_INVALID_HANDLE;
    OPENSSL_cleanse(pvContextBuffer, h->size);
    h->magic = ALLOC_FREED;
    free(h);
    return SEC_E_OK;
}

PSecPkgInfoA
sspi_package_info_dup(const struct sspi_package *pkg)
{
    const char *comment = pkg->comment != NULL ? pkg->comment : "";
    size_t name_len = strlen(pkg->name) + 1, comment_len = strlen(comment) + 1;
    PSecPkgInfoA info = sspi_alloc(sizeof(*info) + name_len + comment_len);
    char *strings;

    if (info == NULL)
        return NULL;
    strings = (char *)(info + 1);
    memcpy(strings, pkg->name, name_len);
    memcpy(strings + name_len, comment, comment_len);
    info->fCapabilities = pkg->capabilities;
    info->wVersion = pkg->version;
    info->wRPCID = pkg->rpc_id;
    info->cbMaxToken = pkg->max_token_bytes;
    info->Name = strings;
    info->Comment = strings + name_len;
    return info;
}

/* FILETIME counts 100 ns ticks from 1601-01-01; Unix time starts 11644473600 s later.
 * SSPI asks for local time: we follow the C library's notion of the local offset. */
#define FILETIME_UNIX_EPOCH_S 11644473600LL
#define FILETIME_TICKS_PER_S  10000000LL

TimeStamp
sspi_timestamp_from_unix(int64_t unix_seconds)
{
    struct tm tm;
    time_t t = (time_t)unix_seconds;
    int64_t local = unix_seconds, ticks;

    if (localtime_r(&t, &tm) != NULL)
        local += tm.tm_gmtoff;
    if (local < -FILETIME_UNIX_EPOCH_S)
        local = -FILETIME_UNIX_EPOCH_S;
    if (local > INT64_MAX / FILETIME_TICKS_PER_S - FILETIME_UNIX_EPOCH_S)
        return sspi_timestamp_never();
    ticks = (local + FILETIME_UNIX_EPOCH_S) * FILETIME_TICKS_PER_S;
    return (TimeStamp){.LowPart = (uint32_t)((uint64_t)ticks & 0xffffffffu),
                       .HighPart = (int32_t)(ticks >> 32)};
}

TimeStamp
sspi_timestamp_never(void)
{
    /* Windows' "never": the largest positive 64-bit value. */
    return (TimeStamp){.LowPart = 0xffffffffu, .HighPart = 0x7fffffff};
}
