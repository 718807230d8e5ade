// SPDX-License-Identifier: MIT
// The access token's identity the Windows way (wintypes.h): GetTokenInformation
// (TokenUser, TokenGroups) over the token's SIDs, and the SID functions code
// written against Windows calls on what it gets (IsValidSid, GetLengthSid,
// EqualSid, ConvertSidToStringSid, LocalFree), the ones it builds SIDs with
// (AllocateAndInitializeSid, ConvertStringSidToSid, CopySid, GetSidSubAuthority...)
// and CheckTokenMembership. Binary SIDs are MS-DTYP 2.4.2.2's layout, built
// from the token's string SIDs (sid.c).
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/error.h>
#include <gatehouse/token.h>
#include <gatehouse/wintypes.h>

#include "sspi/sid.h"
#include "sspi/token_internal.h"
#include "sspi/wide.h"

#define DEFAULT_GROUP (SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED)
#define ALLOC_SUB_MAX 8 /* AllocateAndInitializeSid's nSubAuthority0..7 */

/* One SID with its attributes, parsed. */
struct entry {
    struct sid sid;
    DWORD attributes;
};

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
        sid_unix(SID_UNIX_USER, (uint32_t)uid, &out->sid);
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
            sid_unix(SID_UNIX_GROUP, (uint32_t)gid, &out[0].sid);
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
        need += sid_binary_len(&e[i].sid);
        if (buf != NULL && need <= len) {
            sid_to_binary(&e[i].sid, buf + at);
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

    return sid_from_binary(pSid, &s);
}

DWORD WINAPI
GetLengthSid(PSID pSid)
{
    struct sid s;

    return sid_from_binary(pSid, &s) ? (DWORD)sid_binary_len(&s) : 0;
}

BOOL WINAPI
EqualSid(PSID pSid1, PSID pSid2)
{
    struct sid a, b;

    if (!sid_from_binary(pSid1, &a) || !sid_from_binary(pSid2, &b)) {
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

    if (StringSid == NULL || !sid_from_binary(Sid, &s) || !sid_to_string(&s, text, sizeof(text))) {
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

    if (StringSid == NULL || !sid_from_binary(Sid, &s) || !sid_to_string(&s, text, sizeof(text))) {
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

/* ---- CheckTokenMembership ---------------------------------------------------- */

/* The process as a token: its effective uid's Unix SID and its groups'. */
static bool
process_has(const struct sid *want)
{
    struct sid s;
    gid_t *groups = NULL;
    int n = getgroups(0, NULL);
    bool found = false;

    sid_unix(SID_UNIX_USER, (uint32_t)geteuid(), &s);
    if (sid_equal(&s, want))
        return true;
    sid_unix(SID_UNIX_GROUP, (uint32_t)getegid(), &s);
    if (sid_equal(&s, want))
        return true;
    if (n > 0 && (groups = calloc((size_t)n, sizeof(*groups))) != NULL)
        n = getgroups(n, groups);
    for (int i = 0; groups != NULL && i < n && !found; i++) {
        sid_unix(SID_UNIX_GROUP, (uint32_t)groups[i], &s);
        found = sid_equal(&s, want);
    }
    free(groups);
    return found;
}

/* The user SID, then the enabled groups of TokenGroups. */
static DWORD
token_has(const gh_token *t, const struct sid *want, bool *is_member_out)
{
    struct entry user;
    size_t cap = gh_token_group_count(t) + 1, count;
    struct entry *e;

    *is_member_out = false;
    if (user_entry(t, &user) == ERROR_SUCCESS && sid_equal(&user.sid, want)) {
        *is_member_out = true;
        return ERROR_SUCCESS;
    }
    e = calloc(cap, sizeof(*e));
    if (e == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    count = group_entries(t, e, cap);
    for (size_t i = 0; i < count && !*is_member_out; i++)
        *is_member_out = (e[i].attributes & SE_GROUP_ENABLED) != 0 && sid_equal(&e[i].sid, want);
    free(e);
    return ERROR_SUCCESS;
}

BOOL WINAPI
CheckTokenMembership(HANDLE TokenHandle, PSID SidToCheck, PBOOL IsMember)
{
    const gh_token *t = TokenHandle != NULL ? TokenHandle : sspi_token_impersonated();
    struct sid want;
    bool is_member = false;
    DWORD err = ERROR_SUCCESS;

    if (IsMember == NULL)
        err = ERROR_INVALID_PARAMETER;
    else if (!sid_from_binary(SidToCheck, &want))
        err = ERROR_INVALID_SID;
    else if (t != NULL && !sspi_token_is_handle(t))
        err = ERROR_INVALID_HANDLE;
    else if (t != NULL)
        err = token_has(t, &want, &is_member);
    else
        is_member = process_has(&want);
    if (err != ERROR_SUCCESS) {
        SetLastError(err);
        return FALSE;
    }
    *IsMember = is_member ? TRUE : FALSE;
    return TRUE;
}

/* ---- Building and taking SIDs apart -------------------------------------------- */

BOOL WINAPI
CopySid(DWORD nDestinationSidLength, PSID pDestinationSid, PSID pSourceSid)
{
    struct sid s;

    if (!sid_from_binary(pSourceSid, &s)) {
        SetLastError(ERROR_INVALID_SID);
        return FALSE;
    }
    if (pDestinationSid == NULL) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (nDestinationSidLength < sid_binary_len(&s)) {
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
        return FALSE;
    }
    sid_to_binary(&s, pDestinationSid);
    return TRUE;
}

PSID_IDENTIFIER_AUTHORITY WINAPI
GetSidIdentifierAuthority(PSID pSid)
{
    return &((SID *)pSid)->IdentifierAuthority;
}

PDWORD32 WINAPI
GetSidSubAuthority(PSID pSid, DWORD nSubAuthority)
{
    return &((SID *)pSid)->SubAuthority[nSubAuthority];
}

PUCHAR WINAPI
GetSidSubAuthorityCount(PSID pSid)
{
    return &((SID *)pSid)->SubAuthorityCount;
}

/* A malloc'd binary copy of s (LocalFree / FreeSid free it). */
static PSID
sid_new(const struct sid *s)
{
    void *p = malloc(sid_binary_len(s));

    if (p != NULL)
        sid_to_binary(s, p);
    return p;
}

BOOL WINAPI
AllocateAndInitializeSid(PSID_IDENTIFIER_AUTHORITY pIdentifierAuthority, BYTE nSubAuthorityCount,
                         DWORD nSubAuthority0, DWORD nSubAuthority1, DWORD nSubAuthority2,
                         DWORD nSubAuthority3, DWORD nSubAuthority4, DWORD nSubAuthority5,
                         DWORD nSubAuthority6, DWORD nSubAuthority7, PSID *pSid)
{
    const DWORD subs[ALLOC_SUB_MAX] = {nSubAuthority0, nSubAuthority1, nSubAuthority2,
                                       nSubAuthority3, nSubAuthority4, nSubAuthority5,
                                       nSubAuthority6, nSubAuthority7};
    struct sid s = {.revision = SID_REVISION, .sub_count = nSubAuthorityCount};

    if (pIdentifierAuthority == NULL || pSid == NULL || nSubAuthorityCount == 0 ||
        nSubAuthorityCount > ALLOC_SUB_MAX) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    memcpy(s.authority, pIdentifierAuthority->Value, 6);
    for (BYTE i = 0; i < nSubAuthorityCount; i++)
        s.sub[i] = (uint32_t)subs[i]; /* DWORD is 64 bits here: the low 32, as Windows has */
    *pSid = sid_new(&s);
    if (*pSid == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    return TRUE;
}

PVOID WINAPI
FreeSid(PSID pSid)
{
    free(pSid);
    return NULL;
}

/* SDDL's SID strings for well-known SIDs (MS-DTYP 2.5.1.1, "SID string")
 * that need no domain or machine SID. */
static const struct {
    char alias[3];
    const char *sid;
} sddl_aliases[] = {
    {"WD", "S-1-1-0"},      {"CO", "S-1-3-0"},      {"CG", "S-1-3-1"},      {"NU", "S-1-5-2"},
    {"IU", "S-1-5-4"},      {"SU", "S-1-5-6"},      {"AN", "S-1-5-7"},      {"ED", "S-1-5-9"},
    {"PS", "S-1-5-10"},     {"AU", "S-1-5-11"},     {"RC", "S-1-5-12"},     {"SY", "S-1-5-18"},
    {"LS", "S-1-5-19"},     {"NS", "S-1-5-20"},     {"BA", "S-1-5-32-544"}, {"BU", "S-1-5-32-545"},
    {"BG", "S-1-5-32-546"}, {"RU", "S-1-5-32-554"}, {"RD", "S-1-5-32-555"}, {"LW", "S-1-16-4096"},
    {"ME", "S-1-16-8192"},  {"HI", "S-1-16-12288"}, {"SI", "S-1-16-16384"},
};

static DWORD
string_sid_parse(const char *text, PSID *sid_out)
{
    struct sid s;

    for (size_t i = 0; i < sizeof(sddl_aliases) / sizeof(sddl_aliases[0]); i++) {
        if (strcmp(text, sddl_aliases[i].alias) == 0) {
            text = sddl_aliases[i].sid;
            break;
        }
    }
    if (!sid_from_string(text, &s))
        return ERROR_INVALID_SID;
    *sid_out = sid_new(&s);
    return *sid_out != NULL ? ERROR_SUCCESS : ERROR_NOT_ENOUGH_MEMORY;
}

BOOL WINAPI
ConvertStringSidToSidA(LPCSTR StringSid, PSID *Sid)
{
    DWORD err = StringSid == NULL || Sid == NULL ? ERROR_INVALID_PARAMETER
                                                 : string_sid_parse(StringSid, Sid);

    if (err != ERROR_SUCCESS) {
        SetLastError(err);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI
ConvertStringSidToSidW(LPCWSTR StringSid, PSID *Sid)
{
    size_t units = 0;
    char *text = NULL;
    DWORD err = ERROR_SUCCESS;

    if (StringSid == NULL || Sid == NULL)
        err = ERROR_INVALID_PARAMETER;
    else if (wide_strlen(StringSid, SID_STRING_MAX, &units) != GH_OK)
        err = ERROR_INVALID_SID; /* longer than any SID string */
    if (err == ERROR_SUCCESS) {
        int rc = wide_to_utf8(StringSid, units, &text, NULL);
        if (rc != GH_OK)
            err = rc == GH_ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_SID;
        else
            err = string_sid_parse(text, Sid);
    }
    free(text);
    if (err != ERROR_SUCCESS) {
        SetLastError(err);
        return FALSE;
    }
    return TRUE;
}
