// SPDX-License-Identifier: MIT
// The Windows base types that SSPI code uses (ULONG, DWORD, HANDLE, TCHAR...),
// so that code written against Windows SSPI compiles unchanged; included by
// <gatehouse/sspi.h>. Sizes and the one deliberate difference: docs/sspi.md,
// "Porting from Windows".
#ifndef GATEHOUSE_WINTYPES_H
#define GATEHOUSE_WINTYPES_H

#include <stddef.h>
#include <stdint.h>

#include <gatehouse/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A program that brings its own Windows types (another compatibility layer)
 * defines GH_NO_WINTYPES; <gatehouse/sspi.h> itself uses none of these names. */
#ifndef GH_NO_WINTYPES

/* ---- Calling conventions: one convention on Linux --------------------------- */
#ifndef WINAPI
#define WINAPI
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef APIENTRY
#define APIENTRY
#endif
#ifndef VOID
#define VOID void
#endif

/* ---- Integers with Windows' sizes -------------------------------------------- */
typedef char CHAR, *PCHAR;
typedef unsigned char UCHAR, *PUCHAR;
typedef unsigned char BYTE, *PBYTE, *LPBYTE;
typedef short SHORT, *PSHORT;
typedef unsigned short USHORT, *PUSHORT;
typedef unsigned short WORD, *PWORD, *LPWORD;
typedef int INT, *PINT;
typedef unsigned int UINT, *PUINT;
typedef int32_t INT32, LONG32, *PINT32;
typedef uint32_t UINT32, ULONG32, DWORD32, *PUINT32;
typedef int64_t INT64, LONG64, LONGLONG, *PLONGLONG;
typedef uint64_t UINT64, ULONG64, DWORD64, ULONGLONG, *PULONGLONG;
typedef intptr_t INT_PTR, LONG_PTR;
typedef uintptr_t UINT_PTR, ULONG_PTR, DWORD_PTR;
typedef size_t SIZE_T;

/* ---- The "long" family: unsigned long, 64 bits on LP64 -----------------------
 * Windows' LONG, ULONG and DWORD are 32 bits. Here they are C's long, as the
 * SSPI prototypes and structures of <gatehouse/sspi.h> have always spelled
 * them ("unsigned long"): Windows code passes &ULONG and &DWORD alike where a
 * function takes PULONG, and that compiles only if both are the same type as
 * the prototype's. Code that writes one of these to a file or the network
 * must use a fixed-width type (UINT32, DWORD32), as portable Windows code does. */
typedef long LONG, *PLONG;
typedef unsigned long ULONG, *PULONG;
typedef unsigned long DWORD, *PDWORD, *LPDWORD;

/* ---- Booleans ---------------------------------------------------------------- */
typedef int BOOL, *PBOOL, *LPBOOL;        /* 32 bits, TRUE/FALSE, as Windows */
typedef unsigned char BOOLEAN, *PBOOLEAN; /* 8 bits, as Windows */
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/* ---- Pointers and strings ------------------------------------------------------
 * WCHAR is a UTF-16 code unit, as on Windows and as SEC_WCHAR: never wchar_t,
 * which is 32 bits on Linux. Its literals are u"..." (char16_t is unsigned
 * short with glibc), which TEXT() writes under UNICODE. */
typedef void *PVOID, *LPVOID;
typedef const void *LPCVOID;
typedef unsigned short WCHAR, *PWCHAR;
typedef char *PSTR, *LPSTR;
typedef const char *PCSTR, *LPCSTR;
typedef WCHAR *PWSTR, *LPWSTR;
typedef const WCHAR *PCWSTR, *LPCWSTR;
#ifdef UNICODE
typedef WCHAR TCHAR, *PTCHAR;
typedef WCHAR *PTSTR, *LPTSTR;
typedef const WCHAR *PCTSTR, *LPCTSTR;
#define __TEXT(s) u##s
#else
typedef char TCHAR, *PTCHAR;
typedef char *PTSTR, *LPTSTR;
typedef const char *PCTSTR, *LPCTSTR;
#define __TEXT(s) s
#endif
#define TEXT(s) __TEXT(s)

/* ---- HRESULT and its tests (SECURITY_STATUS is one) --------------------------
 * 32 bits, as Windows: FAILED(ss) / SUCCEEDED(ss) work on a SECURITY_STATUS. */
typedef int32_t HRESULT;
#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#endif

/* ---- Handles and identifiers --------------------------------------------------- */
typedef void *HANDLE, **PHANDLE;
#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)

/* Locally unique identifier: 64 bits, as Windows (LowPart is 32 bits there). */
typedef struct _LUID {
    uint32_t LowPart;
    int32_t HighPart;
} LUID, *PLUID;

typedef union _LARGE_INTEGER {
    struct {
        uint32_t LowPart;
        int32_t HighPart;
    };
    struct {
        uint32_t LowPart;
        int32_t HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        uint32_t LowPart;
        uint32_t HighPart;
    };
    struct {
        uint32_t LowPart;
        uint32_t HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

/* Closes an access token: the HANDLE that QuerySecurityContextToken and
 * ExportSecurityContext give (a gh_token *, see <gatehouse/token.h>; the auth
 * record's access_token after gh_token_dup). Same as gh_token_close(): releases
 * one reference; the last frees the token. Returns TRUE when hObject was a
 * token, FALSE for NULL, INVALID_HANDLE_VALUE or an object that is not a token
 * (nothing is closed then). Tokens are the only handles this library makes: a
 * file descriptor is not a HANDLE here. Closing a token twice is undefined, as
 * on Windows. Thread-safe. */
GH_API BOOL WINAPI CloseHandle(HANDLE hObject);

/* The calling thread's last error (Windows system error codes), set by the
 * functions below when they return FALSE; SSPI functions return their status
 * instead and leave it alone. */
#define ERROR_SUCCESS             0UL
#define ERROR_INVALID_HANDLE      6UL
#define ERROR_NOT_ENOUGH_MEMORY   8UL
#define ERROR_INVALID_PARAMETER   87UL
#define ERROR_INSUFFICIENT_BUFFER 122UL
#define ERROR_NONE_MAPPED         1332UL
GH_API DWORD WINAPI GetLastError(void);
GH_API void WINAPI SetLastError(DWORD dwErrCode);

/* The user the calling thread acts for: the account of the token it
 * impersonates (ImpersonateSecurityContext), else the process's (its
 * effective uid's account), without a domain, as Windows' GetUserName. On
 * input *pcbBuffer is lpBuffer's size in characters; on TRUE it is the
 * characters copied, the terminator included. FALSE with GetLastError():
 * ERROR_INSUFFICIENT_BUFFER (lpBuffer NULL or too small; *pcbBuffer is then
 * the size needed), ERROR_INVALID_PARAMETER (pcbBuffer NULL),
 * ERROR_NONE_MAPPED (the uid has no account), ERROR_NOT_ENOUGH_MEMORY.
 * UNLEN characters always suffice. (Added with issue 10.) */
#define UNLEN 256
GH_API BOOL WINAPI GetUserNameA(LPSTR lpBuffer, LPDWORD pcbBuffer);
GH_API BOOL WINAPI GetUserNameW(LPWSTR lpBuffer, LPDWORD pcbBuffer);
#ifdef UNICODE
#define GetUserName GetUserNameW
#else
#define GetUserName GetUserNameA
#endif

/* The calling thread's impersonation token, the Windows way: OpenThreadToken
 * on GetCurrentThread() (the pseudo-handle (HANDLE)-2, never closed) after
 * ImpersonateSecurityContext gives a new reference to the token the thread
 * impersonates, in *TokenHandle: close it with CloseHandle. DesiredAccess is
 * not checked (tokens are read-only here) and OpenAsSelf changes nothing
 * (the thread's own identity is always the process's). FALSE with
 * ERROR_NO_TOKEN (the thread does not impersonate, as on Windows),
 * ERROR_INVALID_HANDLE (ThreadHandle is not GetCurrentThread(): another
 * thread's token cannot be opened here) or ERROR_INVALID_PARAMETER
 * (TokenHandle NULL). */
#define TOKEN_ASSIGN_PRIMARY 0x0001UL
#define TOKEN_DUPLICATE      0x0002UL
#define TOKEN_IMPERSONATE    0x0004UL
#define TOKEN_QUERY          0x0008UL
#define TOKEN_QUERY_SOURCE   0x0010UL
#define STANDARD_RIGHTS_READ 0x00020000UL
#define TOKEN_READ           (STANDARD_RIGHTS_READ | TOKEN_QUERY)
#define ERROR_NO_TOKEN       1008UL
GH_API HANDLE WINAPI GetCurrentThread(void);
GH_API BOOL WINAPI OpenThreadToken(HANDLE ThreadHandle, DWORD DesiredAccess, BOOL OpenAsSelf,
                                   PHANDLE TokenHandle);

/* ---- Security identifiers and the access token's identity ----------------
 * A SID in memory has MS-DTYP 2.4.2.2's layout (32-bit sub-authorities, kept
 * as DWORD32 since DWORD is 64 bits here: see above), so code that walks
 * PISID fields or copies GetLengthSid() bytes works as on Windows. */
#ifndef ANYSIZE_ARRAY
#define ANYSIZE_ARRAY 1
#endif
typedef PVOID PSID;
typedef struct _SID_IDENTIFIER_AUTHORITY {
    BYTE Value[6];
} SID_IDENTIFIER_AUTHORITY, *PSID_IDENTIFIER_AUTHORITY;
typedef struct _SID {
    BYTE Revision;
    BYTE SubAuthorityCount;
    SID_IDENTIFIER_AUTHORITY IdentifierAuthority;
    DWORD32 SubAuthority[ANYSIZE_ARRAY];
} SID, *PISID;
typedef struct _SID_AND_ATTRIBUTES {
    PSID Sid;
    DWORD Attributes; /* SE_GROUP_* */
} SID_AND_ATTRIBUTES, *PSID_AND_ATTRIBUTES;
typedef struct _TOKEN_USER {
    SID_AND_ATTRIBUTES User;
} TOKEN_USER, *PTOKEN_USER;
typedef struct _TOKEN_GROUPS {
    DWORD GroupCount;
    SID_AND_ATTRIBUTES Groups[ANYSIZE_ARRAY];
} TOKEN_GROUPS, *PTOKEN_GROUPS;
#define SE_GROUP_MANDATORY          0x00000001UL
#define SE_GROUP_ENABLED_BY_DEFAULT 0x00000002UL
#define SE_GROUP_ENABLED            0x00000004UL
/* Windows' numbering; this library answers TokenUser and TokenGroups. */
typedef enum _TOKEN_INFORMATION_CLASS {
    TokenUser = 1,
    TokenGroups,
    TokenPrivileges,
    TokenOwner,
    TokenPrimaryGroup,
    TokenDefaultDacl,
    TokenSource,
    TokenType,
    TokenImpersonationLevel,
    TokenStatistics,
    TokenRestrictedSids,
    TokenSessionId,
} TOKEN_INFORMATION_CLASS, *PTOKEN_INFORMATION_CLASS;
#define ERROR_NOT_SUPPORTED 50UL
#define ERROR_INVALID_SID   1337UL
typedef HANDLE HLOCAL;

/* The identity of an access token (QuerySecurityContextToken's HANDLE): the
 * SIDs gh_token_user_sid / gh_token_group_sid give (a PAC, an NTLM logon the
 * DC checked). A token without a Windows identity but with a local account
 * answers with Samba's Unix SIDs: S-1-22-1-<uid> for the user, S-1-22-2-<gid>
 * for its primary group. The structure, then the SIDs it points to, are
 * written into TokenInformation (TokenInformationLength bytes); *ReturnLength
 * gets the bytes needed. FALSE with GetLastError(): ERROR_INSUFFICIENT_BUFFER
 * (too small or NULL), ERROR_INVALID_PARAMETER (not a token, ReturnLength
 * NULL), ERROR_NOT_SUPPORTED (another class), ERROR_NONE_MAPPED (TokenUser of
 * a token with neither a SID nor a local account). (Added with issue 9.) */
GH_API BOOL WINAPI GetTokenInformation(HANDLE TokenHandle,
                                       TOKEN_INFORMATION_CLASS TokenInformationClass,
                                       LPVOID TokenInformation, DWORD TokenInformationLength,
                                       PDWORD ReturnLength);
/* MS-DTYP 2.4.2: revision 1, at most 15 sub-authorities. */
GH_API BOOL WINAPI IsValidSid(PSID pSid);
/* 8 + 4 x SubAuthorityCount; 0 for an invalid SID. */
GH_API DWORD WINAPI GetLengthSid(PSID pSid);
/* FALSE for unequal or invalid SIDs (GetLastError ERROR_INVALID_SID). */
GH_API BOOL WINAPI EqualSid(PSID pSid1, PSID pSid2);
/* "S-1-5-21-...", allocated: free it with LocalFree. FALSE with
 * ERROR_INVALID_SID or ERROR_NOT_ENOUGH_MEMORY. */
GH_API BOOL WINAPI ConvertSidToStringSidA(PSID Sid, LPSTR *StringSid);
GH_API BOOL WINAPI ConvertSidToStringSidW(PSID Sid, LPWSTR *StringSid);
/* Frees what ConvertSidToStringSid and ConvertStringSidToSid allocated;
 * returns NULL (success). */
GH_API HLOCAL WINAPI LocalFree(HLOCAL hMem);
#ifdef UNICODE
#define ConvertSidToStringSid ConvertSidToStringSidW
#else
#define ConvertSidToStringSid ConvertSidToStringSidA
#endif

/* ---- Building and taking SIDs apart ------------------------------------------- */
#define SID_REVISION            1
#define SID_MAX_SUB_AUTHORITIES 15
#define SECURITY_MAX_SID_SIZE   68 /* 8 + 4 x 15 */
/* clang-format off */
#define SECURITY_NULL_SID_AUTHORITY {{0, 0, 0, 0, 0, 0}}
#define SECURITY_WORLD_SID_AUTHORITY {{0, 0, 0, 0, 0, 1}}
#define SECURITY_LOCAL_SID_AUTHORITY {{0, 0, 0, 0, 0, 2}}
#define SECURITY_CREATOR_SID_AUTHORITY {{0, 0, 0, 0, 0, 3}}
#define SECURITY_NT_AUTHORITY {{0, 0, 0, 0, 0, 5}}
#define SECURITY_MANDATORY_LABEL_AUTHORITY {{0, 0, 0, 0, 0, 16}}
#define SECURITY_AUTHENTICATION_AUTHORITY {{0, 0, 0, 0, 0, 18}}
/* clang-format on */
#define SECURITY_NULL_RID                              0UL
#define SECURITY_WORLD_RID                             0UL
#define SECURITY_LOCAL_RID                             0UL
#define SECURITY_CREATOR_OWNER_RID                     0UL
#define SECURITY_NETWORK_RID                           2UL
#define SECURITY_INTERACTIVE_RID                       4UL
#define SECURITY_SERVICE_RID                           6UL
#define SECURITY_ANONYMOUS_LOGON_RID                   7UL
#define SECURITY_AUTHENTICATED_USER_RID                11UL
#define SECURITY_THIS_ORGANIZATION_RID                 15UL
#define SECURITY_LOCAL_SYSTEM_RID                      18UL
#define SECURITY_LOCAL_SERVICE_RID                     19UL
#define SECURITY_NETWORK_SERVICE_RID                   20UL
#define SECURITY_BUILTIN_DOMAIN_RID                    32UL
#define DOMAIN_GROUP_RID_ADMINS                        512UL
#define DOMAIN_GROUP_RID_USERS                         513UL
#define DOMAIN_GROUP_RID_GUESTS                        514UL
#define DOMAIN_ALIAS_RID_ADMINS                        544UL
#define DOMAIN_ALIAS_RID_USERS                         545UL
#define DOMAIN_ALIAS_RID_GUESTS                        546UL
#define SECURITY_AUTHENTICATION_AUTHORITY_ASSERTED_RID 1UL
#define SECURITY_AUTHENTICATION_SERVICE_ASSERTED_RID   2UL

/* Copies the SID at pSourceSid into pDestinationSid (nDestinationSidLength
 * bytes). FALSE with ERROR_INVALID_SID (the source is not valid),
 * ERROR_INVALID_PARAMETER (no destination) or ERROR_INSUFFICIENT_BUFFER
 * (GetLengthSid(pSourceSid) bytes are needed). */
GH_API BOOL WINAPI CopySid(DWORD nDestinationSidLength, PSID pDestinationSid, PSID pSourceSid);
/* Pointers into the SID; as on Windows nothing is checked (call IsValidSid
 * first); an index past SubAuthorityCount is undefined. One deliberate
 * difference: GetSidSubAuthority returns PDWORD32, not PDWORD, because
 * DWORD is 64 bits here ("The long family" above) and the sub-authorities
 * are 32 bits: `*GetSidSubAuthority(sid, i)` reads and writes as on
 * Windows, and storing the pointer in a PDWORD fails to compile instead of
 * reading 8 bytes. */
typedef DWORD32 *PDWORD32;
GH_API PSID_IDENTIFIER_AUTHORITY WINAPI GetSidIdentifierAuthority(PSID pSid);
GH_API PDWORD32 WINAPI GetSidSubAuthority(PSID pSid, DWORD nSubAuthority);
GH_API PUCHAR WINAPI GetSidSubAuthorityCount(PSID pSid);
/* A new SID of nSubAuthorityCount (1..8, as Windows) sub-authorities, the
 * first ones from nSubAuthority0..7 (the rest are ignored), in *pSid: free
 * it with FreeSid. FALSE with ERROR_INVALID_PARAMETER (a NULL pointer, a
 * count of 0 or above 8) or ERROR_NOT_ENOUGH_MEMORY. */
GH_API BOOL WINAPI AllocateAndInitializeSid(PSID_IDENTIFIER_AUTHORITY pIdentifierAuthority,
                                            BYTE nSubAuthorityCount, DWORD nSubAuthority0,
                                            DWORD nSubAuthority1, DWORD nSubAuthority2,
                                            DWORD nSubAuthority3, DWORD nSubAuthority4,
                                            DWORD nSubAuthority5, DWORD nSubAuthority6,
                                            DWORD nSubAuthority7, PSID *pSid);
/* Frees what AllocateAndInitializeSid allocated; returns NULL. */
GH_API PVOID WINAPI FreeSid(PSID pSid);
/* Parses "S-1-5-32-544" (MS-DTYP 2.4.2.1; the authority in decimal or
 * "0x" and hex) or one of the SDDL aliases of well-known SIDs (MS-DTYP
 * 2.4.2.4: "WD", "AU", "SY", "BA", "BU", "BG", "AN", "NU", "IU", "SU", "LS",
 * "NS", "CO", "LA"... minus those that need the machine's or the domain's
 * SID) into a new SID in *Sid: free it with LocalFree. FALSE with
 * ERROR_INVALID_PARAMETER (a NULL argument), ERROR_INVALID_SID (anything
 * else: signs, spaces, more than 15 sub-authorities, values out of range)
 * or ERROR_NOT_ENOUGH_MEMORY. */
GH_API BOOL WINAPI ConvertStringSidToSidA(LPCSTR StringSid, PSID *Sid);
GH_API BOOL WINAPI ConvertStringSidToSidW(LPCWSTR StringSid, PSID *Sid);
#ifdef UNICODE
#define ConvertStringSidToSid ConvertStringSidToSidW
#else
#define ConvertStringSidToSid ConvertStringSidToSidA
#endif

/* ---- Accounts by SID and by name ---------------------------------------------
 * Where the names come from, first answer wins (docs/sspi.md, "Porting
 * from Windows"): well-known SIDs ("Everyone", "NT AUTHORITY\SYSTEM",
 * "BUILTIN\Users"...); the live access tokens this library issued with a
 * Windows identity (the PAC's or the DC's user, with the logon domain, and
 * the group names the token knows); Samba's Unix SIDs with the local passwd
 * and group databases (S-1-22-1-<uid> is "Unix User\<name>", S-1-22-2-<gid>
 * "Unix Group\<name>"); winbindd when it runs. They may block on NSS or
 * winbindd. Thread-safe. */
typedef enum _SID_NAME_USE {
    SidTypeUser = 1,
    SidTypeGroup,
    SidTypeDomain,
    SidTypeAlias,
    SidTypeWellKnownGroup,
    SidTypeDeletedAccount,
    SidTypeInvalid,
    SidTypeUnknown,
    SidTypeComputer,
    SidTypeLabel,
    SidTypeLogonSession,
} SID_NAME_USE, *PSID_NAME_USE;
#define ERROR_NO_IMPERSONATION_TOKEN 1309UL
#define RPC_S_SERVER_UNAVAILABLE     1722UL

/* The account name and domain of Sid, the documented two-call way: on input
 * *cchName and *cchReferencedDomainName are the buffers' sizes in TCHARs.
 * When either is too small (or its buffer NULL), FALSE with
 * ERROR_INSUFFICIENT_BUFFER and both counts set to the sizes needed, the
 * terminators included, nothing written. On TRUE both strings are written
 * (NUL-terminated), each count is the string's length without its
 * terminator (as Windows), and *peUse the account's type. Other failures
 * (GetLastError), the counts untouched: ERROR_INVALID_PARAMETER (cchName,
 * cchReferencedDomainName or peUse NULL), ERROR_INVALID_SID (Sid NULL or not
 * valid), RPC_S_SERVER_UNAVAILABLE (lpSystemName neither NULL nor "": this
 * library reaches no other machine's account database, and that is what
 * Windows answers for a machine it cannot reach), ERROR_NONE_MAPPED (no
 * source knows the SID), ERROR_NOT_ENOUGH_MEMORY. Names are UTF-8 in the A
 * form, UTF-16 in the W form. */
GH_API BOOL WINAPI LookupAccountSidA(LPCSTR lpSystemName, PSID Sid, LPSTR Name, LPDWORD cchName,
                                     LPSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                                     PSID_NAME_USE peUse);
GH_API BOOL WINAPI LookupAccountSidW(LPCWSTR lpSystemName, PSID Sid, LPWSTR Name, LPDWORD cchName,
                                     LPWSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                                     PSID_NAME_USE peUse);
/* The SID of the account lpAccountName: "DOMAIN\name", "name@dns.domain"
 * (a UPN: the part after the last '@' is the domain) or a bare "name"
 * (searched in the order above). The same two-call way: *cbSid is Sid's
 * size in bytes, *cchReferencedDomainName the domain buffer's in TCHARs;
 * when either is too small (or its buffer NULL), FALSE with
 * ERROR_INSUFFICIENT_BUFFER, *cbSid = the SID's bytes and
 * *cchReferencedDomainName = the domain's TCHARs with the terminator. On
 * TRUE *cbSid is the SID's bytes, *cchReferencedDomainName the domain's
 * length without its terminator, *peUse the type. Other failures as
 * LookupAccountSid (ERROR_INVALID_PARAMETER also for a NULL or empty
 * lpAccountName), the counts untouched. */
GH_API BOOL WINAPI LookupAccountNameA(LPCSTR lpSystemName, LPCSTR lpAccountName, PSID Sid,
                                      LPDWORD cbSid, LPSTR ReferencedDomainName,
                                      LPDWORD cchReferencedDomainName, PSID_NAME_USE peUse);
GH_API BOOL WINAPI LookupAccountNameW(LPCWSTR lpSystemName, LPCWSTR lpAccountName, PSID Sid,
                                      LPDWORD cbSid, LPWSTR ReferencedDomainName,
                                      LPDWORD cchReferencedDomainName, PSID_NAME_USE peUse);
#ifdef UNICODE
#define LookupAccountSid  LookupAccountSidW
#define LookupAccountName LookupAccountNameW
#else
#define LookupAccountSid  LookupAccountSidA
#define LookupAccountName LookupAccountNameA
#endif

/* Whether SidToCheck is enabled in the token: the token's user SID, or one
 * of its TokenGroups with SE_GROUP_ENABLED (GetTokenInformation above; the
 * SIDs Windows adds to every logon, such as Everyone, are not in our tokens
 * and are not members). TokenHandle NULL: the token the calling thread
 * impersonates (ImpersonateSecurityContext); a thread that does not
 * impersonate is checked as the process: S-1-22-1-<euid>, and S-1-22-2-<gid>
 * for its effective and supplementary groups. TRUE with *IsMember; FALSE
 * with ERROR_INVALID_HANDLE (TokenHandle is not a token of this library),
 * ERROR_INVALID_SID (SidToCheck NULL or not valid) or
 * ERROR_INVALID_PARAMETER (IsMember NULL). */
GH_API BOOL WINAPI CheckTokenMembership(HANDLE TokenHandle, PSID SidToCheck, PBOOL IsMember);

#endif /* GH_NO_WINTYPES */

#ifdef __cplusplus
}
#endif
#endif
