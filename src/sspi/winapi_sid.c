// SPDX-License-Identifier: MIT
// The access token's identity the Windows way (wintypes.h): GetTokenInformation
// (TokenUser, TokenGroups) over the token's SIDs, and the SID functions code
// written against Windows calls on what it gets (IsValidSid, GetLengthSid,
// EqualSid, ConvertSidToStringSid, LocalFree). Binary SIDs are MS-DTYP
// 2.4.2.2's layout, built from the token's string SIDs (sid.c).
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>
#include <gatehouse/token.h>
#include <gatehouse/wintypes.h>

#include "sspi/sid.h"
#include "sspi/token_internal.h"
#include "sspi/wide.h"

#define SID_HEADER_BYTES   8  /* Revision, SubAuthorityCount, IdentifierAuthority */
#define UNIX_SID_AUTHORITY 22 /* Samba's SIDs for Unix ids: S-1-22-1-uid, S-1-22-2-gid */
#define UNIX_SID_USER      1
#define UNIX_SID_GROUP     2
#define DEFAULT_GROUP      (SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED)

/* One SID with its attributes, parsed. */
struct entry {
    struct sid sid;
    DWORD attributes;
};

static size_t
sid_bytes(const struct sid *s)
{
    return SID_HEADER_BYTES + 4u * s->sub_count;
}

/* Writes s in MS-DTYP layout at out (sid_bytes(s) bytes; 4-aligned). */
static void
sid_write(const struct sid *s, SID *out)
{
    out->Revision = s->revision;
    out->SubAuthorityCount = s->sub_count;
    memcpy(out->IdentifierAuthority.Value, s->authority, 6);
    for (uint8_t i = 0; i < s->sub_count; i++)
        out->SubAuthority[i] = s->sub[i];
}

static bool
sid_read(PSID p, struct sid *out)
{
    const SID *s = p;

    if (s == NULL || s->Revision != SID_REVISION || s->SubAuthorityCount > SID_MAX_SUB_AUTHORITIES)
        return false;
    *out = (struct sid){.revision = s->Revision, .sub_count = s->SubAuthorityCount};
    memcpy(out->authority, s->IdentifierAuthority.Value, 6);
    for (uint8_t i = 0; i < s->SubAuthorityCount; i++)
        out->sub[i] = s->SubAuthority[i];
    return true;
}

/* Samba's SID for a Unix id: S-1-22-<kind>-<id> (kind 1: user, 2: group). */
static void
unix_sid(uint32_t kind, uint32_t id, struct sid *out)
{
    *out = (struct sid){.revision = SID_REVISION,
                        .sub_count = 2,
                        .authority = {0, 0, 0, 0, 0, UNIX_SID_AUTHORITY},
                        .sub = {kind, id}};
}

/* The token's user SID (TokenUser). ERROR_SUCCESS or ERROR_NONE_MAPPED. */
static DWORD
user_entry(const gh_token *t, struct entry *out)
{
    const char *text = gh_token_user_sid(t);
    uid_t uid;

    out->attributes = 0;
    if (text != NULL)
        return sid_from_string(text, &out->sid) ? ERROR_SUCCESS : ERROR_NONE_MAPPED;
    if (gh_token_unix_ids(t, &uid, NULL) == GH_OK) {
        unix_sid(UNIX_SID_USER, (uint32_t)uid, &out->sid);
        return ERROR_SUCCESS;
    }
    return ERROR_NONE_MAPPED;
}

/* The token's group SIDs (TokenGroups), at most cap. */
static size_t
group_entries(const gh_token *t, struct entry *out, size_t cap)
{
    size_t n = 0;
    gid_t gid;

    if (gh_token_user_sid(t) == NULL) {
        if (cap > 0 && gh_token_unix_ids(t, NULL, &gid) == GH_OK) {
            unix_sid(UNIX_SID_GROUP, (uint32_t)gid, &out[0].sid);
            out[0].attributes = DEFAULT_GROUP;
            n = 1;
        }
        return n;
    }
    for (size_t i = 0; i < gh_token_group_count(t) && n < cap; i++) {
        const char *text = gh_token_group_sid(t, i);
        if (text == NULL || !sid_from_string(text, &out[n].sid))
            continue;
        out[n].attributes = gh_token_group_attributes(t, i);
        n++;
    }
    return n;
}

/* Lays out count SID_AND_ATTRIBUTES at table and their SIDs after head_bytes
 * of buf. Returns the bytes needed; writes only when they fit in len. */
static size_t
lay_out(uint8_t *buf, size_t len, size_t head_bytes, SID_AND_ATTRIBUTES *table,
        const struct entry *e, size_t count)
{
    size_t need = (head_bytes + 3) & ~(size_t)3;

    for (size_t i = 0; i < count; i++) {
        size_t at = need;
        need += sid_bytes(&e[i].sid);
        if (buf != NULL && need <= len) {
            sid_write(&e[i].sid, (SID *)(void *)(buf + at));
            table[i].Sid = buf + at;
            table[i].Attributes = e[i].attributes;
        }
    }
    return need;
}

BOOL WINAPI
GetTokenInformation(HANDLE TokenHandle, TOKEN_INFORMATION_CLASS TokenInformationClass,
                    LPVOID TokenInformation, DWORD TokenInformationLength, PDWORD ReturnLength)
{
    const gh_token *t = TokenHandle;
    uint8_t *buf = TokenInformation;
    struct entry *e = NULL;
    size_t count = 0, need = 0;
    DWORD err = ERROR_SUCCESS;

    if (!sspi_token_is_handle(TokenHandle) || ReturnLength == NULL) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (TokenInformationClass != TokenUser && TokenInformationClass != TokenGroups) {
        SetLastError(ERROR_NOT_SUPPORTED);
        return FALSE;
    }
    size_t cap = TokenInformationClass == TokenUser ? 1 : gh_token_group_count(t) + 1;
    e = calloc(cap, sizeof(*e));
    if (e == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    if (TokenInformationClass == TokenUser) {
        err = user_entry(t, e);
        count = 1;
        if (err == ERROR_SUCCESS) {
            bool fits = buf != NULL && TokenInformationLength >= sizeof(TOKEN_USER);
            need = lay_out(fits ? buf : NULL, TokenInformationLength, sizeof(TOKEN_USER),
                           fits ? &((TOKEN_USER *)(void *)buf)->User : NULL, e, count);
        }
    } else {
        count = group_entries(t, e, cap);
        size_t head =
            offsetof(TOKEN_GROUPS, Groups) + (count > 0 ? count : 1) * sizeof(SID_AND_ATTRIBUTES);
        bool fits = buf != NULL && TokenInformationLength >= head;
        need = lay_out(fits ? buf : NULL, TokenInformationLength, head,
                       fits ? ((TOKEN_GROUPS *)(void *)buf)->Groups : NULL, e, count);
        if (fits && need <= TokenInformationLength)
            ((TOKEN_GROUPS *)(void *)buf)->GroupCount = count;
    }
    free(e);
    if (err != ERROR_SUCCESS) {
        SetLastError(err);
        return FALSE;
    }
    *ReturnLength = need;
    if (buf == NULL || need > TokenInformationLength) {
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI
IsValidSid(PSID pSid)
{
    struct sid s;

    return sid_read(pSid, &s);
}

DWORD WINAPI
GetLengthSid(PSID pSid)
{
    struct sid s;

    return sid_read(pSid, &s) ? (DWORD)sid_bytes(&s) : 0;
}

BOOL WINAPI
EqualSid(PSID pSid1, PSID pSid2)
{
    struct sid a, b;

    if (!sid_read(pSid1, &a) || !sid_read(pSid2, &b)) {
        SetLastError(ERROR_INVALID_SID);
        return FALSE;
    }
    SetLastError(ERROR_SUCCESS);
    return sid_equal(&a, &b);
}

BOOL WINAPI
ConvertSidToStringSidA(PSID Sid, LPSTR *StringSid)
{
    struct sid s;
    char text[SID_STRING_MAX];

    if (StringSid == NULL || !sid_read(Sid, &s) || !sid_to_string(&s, text, sizeof(text))) {
        SetLastError(StringSid == NULL ? ERROR_INVALID_PARAMETER : ERROR_INVALID_SID);
        return FALSE;
    }
    *StringSid = strdup(text);
    if (*StringSid == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI
ConvertSidToStringSidW(PSID Sid, LPWSTR *StringSid)
{
    struct sid s;
    char text[SID_STRING_MAX];
    uint16_t *wide = NULL;

    if (StringSid == NULL || !sid_read(Sid, &s) || !sid_to_string(&s, text, sizeof(text))) {
        SetLastError(StringSid == NULL ? ERROR_INVALID_PARAMETER : ERROR_INVALID_SID);
        return FALSE;
    }
    if (wide_from_utf8(text, strlen(text), malloc, &wide, NULL) != GH_OK) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    *StringSid = (LPWSTR)wide;
    return TRUE;
}

HLOCAL WINAPI
LocalFree(HLOCAL hMem)
{
    free(hMem);
    return NULL;
}
