// SPDX-License-Identifier: MIT
// The security library: the SSPI API with its Windows names, types, constants
// and semantics (see docs/sspi.md for what differs from Windows).
#ifndef GATEHOUSE_SSPI_H
#define GATEHOUSE_SSPI_H

#include <stddef.h>
#include <stdint.h>

#include <gatehouse/error.h>
#include <gatehouse/wintypes.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Porting from Windows (docs/sspi.md) -----------------------------------
 * The base types come from <gatehouse/wintypes.h>. The unsuffixed names that
 * the UNICODE block at the end of this header does not map: */
#ifdef UNICODE
#define ImportSecurityContext    ImportSecurityContextW
#define SecurityFunctionTable    SecurityFunctionTableW
#define PSecurityFunctionTable   PSecurityFunctionTableW
#define PSEC_WINNT_AUTH_IDENTITY PSEC_WINNT_AUTH_IDENTITY_W
#define PSecPkgContext_Names     PSecPkgContext_NamesW
#define PSecPkgCredentials_Names PSecPkgCredentials_NamesW
#define NTLMSP_NAME              NTLMSP_NAME_W
#define MICROSOFT_KERBEROS_NAME  MICROSOFT_KERBEROS_NAME_W
#define NEGOSSP_NAME             NEGOSSP_NAME_W
#define CREDSSP_NAME             CREDSSP_NAME_W
#else
#define ImportSecurityContext    ImportSecurityContextA
#define SecurityFunctionTable    SecurityFunctionTableA
#define PSecurityFunctionTable   PSecurityFunctionTableA
#define PSEC_WINNT_AUTH_IDENTITY PSEC_WINNT_AUTH_IDENTITY_A
#define PSecPkgContext_Names     PSecPkgContext_NamesA
#define PSecPkgCredentials_Names PSecPkgCredentials_NamesA
#define NTLMSP_NAME              NTLMSP_NAME_A
#define MICROSOFT_KERBEROS_NAME  MICROSOFT_KERBEROS_NAME_A
#define NEGOSSP_NAME             NEGOSSP_NAME_A
#define CREDSSP_NAME             CREDSSP_NAME_A
#endif
/* UTF-16 package names (Windows: L"..."; wchar_t is 32 bits here). */
#define NTLMSP_NAME_W             ((SEC_WCHAR *)u"NTLM")
#define MICROSOFT_KERBEROS_NAME_W ((SEC_WCHAR *)u"Kerberos")
#define NEGOSSP_NAME_W            ((SEC_WCHAR *)u"Negotiate")

/* ---- Base types ------------------------------------------------------------
 * Prototypes keep Windows' spelling ("unsigned long") so that ported source
 * compiles unchanged; on Linux these are 64 bits wide, which changes nothing
 * for callers that use the names. Wire-shaped structures whose size matters
 * (SEC_CHANNEL_BINDINGS) use fixed 32-bit fields, as Windows lays them out. */
typedef int32_t SECURITY_STATUS;
typedef char SEC_CHAR;
typedef unsigned short SEC_WCHAR; /* UTF-16 code unit, as on Windows */
typedef uintptr_t ULONG_PTR_SSPI;

#ifndef SEC_ENTRY
#define SEC_ENTRY
#endif

typedef struct _SecHandle {
    ULONG_PTR_SSPI dwLower;
    ULONG_PTR_SSPI dwUpper;
} SecHandle, *PSecHandle;

typedef SecHandle CredHandle, *PCredHandle;
typedef SecHandle CtxtHandle, *PCtxtHandle;

#define SecInvalidateHandle(x) \
    ((PSecHandle)(x))->dwLower = ((PSecHandle)(x))->dwUpper = ~(ULONG_PTR_SSPI)0
#define SecIsValidHandle(x)                                \
    ((((PSecHandle)(x))->dwLower != ~(ULONG_PTR_SSPI)0) && \
     (((PSecHandle)(x))->dwUpper != ~(ULONG_PTR_SSPI)0))

/* 100-nanosecond intervals since 1601-01-01 (FILETIME), local time. */
typedef struct _SECURITY_INTEGER {
    uint32_t LowPart;
    int32_t HighPart;
} SECURITY_INTEGER, *PSECURITY_INTEGER;
typedef SECURITY_INTEGER TimeStamp, *PTimeStamp;

typedef struct _SecBuffer {
    unsigned long cbBuffer;
    unsigned long BufferType;
    void *pvBuffer;
} SecBuffer, *PSecBuffer;

typedef struct _SecBufferDesc {
    unsigned long ulVersion;
    unsigned long cBuffers;
    PSecBuffer pBuffers;
} SecBufferDesc, *PSecBufferDesc;

#define SECBUFFER_VERSION 0

#define SECBUFFER_EMPTY                  0
#define SECBUFFER_DATA                   1
#define SECBUFFER_TOKEN                  2
#define SECBUFFER_PKG_PARAMS             3
#define SECBUFFER_MISSING                4
#define SECBUFFER_EXTRA                  5
#define SECBUFFER_STREAM_TRAILER         6
#define SECBUFFER_STREAM_HEADER          7
#define SECBUFFER_NEGOTIATION_INFO       8
#define SECBUFFER_PADDING                9
#define SECBUFFER_STREAM                 10
#define SECBUFFER_MECHLIST               11
#define SECBUFFER_MECHLIST_SIGNATURE     12
#define SECBUFFER_TARGET                 13
#define SECBUFFER_CHANNEL_BINDINGS       14
#define SECBUFFER_CHANGE_PASS_RESPONSE   15
#define SECBUFFER_TARGET_HOST            16
#define SECBUFFER_ALERT                  17
#define SECBUFFER_APPLICATION_PROTOCOLS  18
#define SECBUFFER_ATTRMASK               0xF0000000UL
#define SECBUFFER_READONLY               0x80000000UL
#define SECBUFFER_READONLY_WITH_CHECKSUM 0x10000000UL
#define SECBUFFER_RESERVED               0x60000000UL

/* Channel bindings (RFC 5056), in a SECBUFFER_CHANNEL_BINDINGS input buffer:
 * this header followed by the data it points to by offsets from its start. */
typedef struct _SEC_CHANNEL_BINDINGS {
    uint32_t dwInitiatorAddrType;
    uint32_t cbInitiatorLength;
    uint32_t dwInitiatorOffset;
    uint32_t dwAcceptorAddrType;
    uint32_t cbAcceptorLength;
    uint32_t dwAcceptorOffset;
    uint32_t cbApplicationDataLength;
    uint32_t dwApplicationDataOffset;
} SEC_CHANNEL_BINDINGS, *PSEC_CHANNEL_BINDINGS;

/* ---- Status codes (Windows values) ----------------------------------------
 * SEC_E_* are negative (failures), SEC_I_* positive ("call again" and friends). */
#define SSPI_STATUS_(x) ((SECURITY_STATUS)(int32_t)(uint32_t)(x))

#define SEC_E_OK                            SSPI_STATUS_(0x00000000)
#define SEC_E_INSUFFICIENT_MEMORY           SSPI_STATUS_(0x80090300)
#define SEC_E_INVALID_HANDLE                SSPI_STATUS_(0x80090301)
#define SEC_E_UNSUPPORTED_FUNCTION          SSPI_STATUS_(0x80090302)
#define SEC_E_TARGET_UNKNOWN                SSPI_STATUS_(0x80090303)
#define SEC_E_INTERNAL_ERROR                SSPI_STATUS_(0x80090304)
#define SEC_E_SECPKG_NOT_FOUND              SSPI_STATUS_(0x80090305)
#define SEC_E_NOT_OWNER                     SSPI_STATUS_(0x80090306)
#define SEC_E_CANNOT_INSTALL                SSPI_STATUS_(0x80090307)
#define SEC_E_INVALID_TOKEN                 SSPI_STATUS_(0x80090308)
#define SEC_E_CANNOT_PACK                   SSPI_STATUS_(0x80090309)
#define SEC_E_QOP_NOT_SUPPORTED             SSPI_STATUS_(0x8009030A)
#define SEC_E_NO_IMPERSONATION              SSPI_STATUS_(0x8009030B)
#define SEC_E_LOGON_DENIED                  SSPI_STATUS_(0x8009030C)
#define SEC_E_UNKNOWN_CREDENTIALS           SSPI_STATUS_(0x8009030D)
#define SEC_E_NO_CREDENTIALS                SSPI_STATUS_(0x8009030E)
#define SEC_E_MESSAGE_ALTERED               SSPI_STATUS_(0x8009030F)
#define SEC_E_OUT_OF_SEQUENCE               SSPI_STATUS_(0x80090310)
#define SEC_E_NO_AUTHENTICATING_AUTHORITY   SSPI_STATUS_(0x80090311)
#define SEC_I_CONTINUE_NEEDED               SSPI_STATUS_(0x00090312)
#define SEC_I_COMPLETE_NEEDED               SSPI_STATUS_(0x00090313)
#define SEC_I_COMPLETE_AND_CONTINUE         SSPI_STATUS_(0x00090314)
#define SEC_I_LOCAL_LOGON                   SSPI_STATUS_(0x00090315)
#define SEC_E_BAD_PKGID                     SSPI_STATUS_(0x80090316)
#define SEC_E_CONTEXT_EXPIRED               SSPI_STATUS_(0x80090317)
#define SEC_I_CONTEXT_EXPIRED               SSPI_STATUS_(0x00090317)
#define SEC_E_INCOMPLETE_MESSAGE            SSPI_STATUS_(0x80090318)
#define SEC_E_INCOMPLETE_CREDENTIALS        SSPI_STATUS_(0x80090320)
#define SEC_E_BUFFER_TOO_SMALL              SSPI_STATUS_(0x80090321)
#define SEC_I_INCOMPLETE_CREDENTIALS        SSPI_STATUS_(0x00090320)
#define SEC_I_RENEGOTIATE                   SSPI_STATUS_(0x00090321)
#define SEC_E_WRONG_PRINCIPAL               SSPI_STATUS_(0x80090322)
#define SEC_I_NO_LSA_CONTEXT                SSPI_STATUS_(0x00090323)
#define SEC_E_TIME_SKEW                     SSPI_STATUS_(0x80090324)
#define SEC_E_UNTRUSTED_ROOT                SSPI_STATUS_(0x80090325)
#define SEC_E_ILLEGAL_MESSAGE               SSPI_STATUS_(0x80090326)
#define SEC_E_CERT_UNKNOWN                  SSPI_STATUS_(0x80090327)
#define SEC_E_CERT_EXPIRED                  SSPI_STATUS_(0x80090328)
#define SEC_E_ENCRYPT_FAILURE               SSPI_STATUS_(0x80090329)
#define SEC_E_DECRYPT_FAILURE               SSPI_STATUS_(0x80090330)
#define SEC_E_ALGORITHM_MISMATCH            SSPI_STATUS_(0x80090331)
#define SEC_E_SECURITY_QOS_FAILED           SSPI_STATUS_(0x80090332)
#define SEC_E_UNFINISHED_CONTEXT_DELETED    SSPI_STATUS_(0x80090333)
#define SEC_E_NO_TGT_REPLY                  SSPI_STATUS_(0x80090334)
#define SEC_E_NO_IP_ADDRESSES               SSPI_STATUS_(0x80090335)
#define SEC_E_WRONG_CREDENTIAL_HANDLE       SSPI_STATUS_(0x80090336)
#define SEC_E_CRYPTO_SYSTEM_INVALID         SSPI_STATUS_(0x80090337)
#define SEC_E_MAX_REFERRALS_EXCEEDED        SSPI_STATUS_(0x80090338)
#define SEC_E_MUST_BE_KDC                   SSPI_STATUS_(0x80090339)
#define SEC_E_STRONG_CRYPTO_NOT_SUPPORTED   SSPI_STATUS_(0x8009033A)
#define SEC_E_TOO_MANY_PRINCIPALS           SSPI_STATUS_(0x8009033B)
#define SEC_E_NO_PA_DATA                    SSPI_STATUS_(0x8009033C)
#define SEC_E_PKINIT_NAME_MISMATCH          SSPI_STATUS_(0x8009033D)
#define SEC_E_SMARTCARD_LOGON_REQUIRED      SSPI_STATUS_(0x8009033E)
#define SEC_E_SHUTDOWN_IN_PROGRESS          SSPI_STATUS_(0x8009033F)
#define SEC_E_KDC_INVALID_REQUEST           SSPI_STATUS_(0x80090340)
#define SEC_E_KDC_UNABLE_TO_REFER           SSPI_STATUS_(0x80090341)
#define SEC_E_KDC_UNKNOWN_ETYPE             SSPI_STATUS_(0x80090342)
#define SEC_E_UNSUPPORTED_PREAUTH           SSPI_STATUS_(0x80090343)
#define SEC_E_DELEGATION_REQUIRED           SSPI_STATUS_(0x80090345)
#define SEC_E_BAD_BINDINGS                  SSPI_STATUS_(0x80090346)
#define SEC_E_MULTIPLE_ACCOUNTS             SSPI_STATUS_(0x80090347)
#define SEC_E_NO_KERB_KEY                   SSPI_STATUS_(0x80090348)
#define SEC_E_CERT_WRONG_USAGE              SSPI_STATUS_(0x80090349)
#define SEC_E_DOWNGRADE_DETECTED            SSPI_STATUS_(0x80090350)
#define SEC_E_SMARTCARD_CERT_REVOKED        SSPI_STATUS_(0x80090351)
#define SEC_E_ISSUING_CA_UNTRUSTED          SSPI_STATUS_(0x80090352)
#define SEC_E_REVOCATION_OFFLINE_C          SSPI_STATUS_(0x80090353)
#define SEC_E_PKINIT_CLIENT_FAILURE         SSPI_STATUS_(0x80090354)
#define SEC_E_SMARTCARD_CERT_EXPIRED        SSPI_STATUS_(0x80090355)
#define SEC_E_NO_S4U_PROT_SUPPORT           SSPI_STATUS_(0x80090356)
#define SEC_E_CROSSREALM_DELEGATION_FAILURE SSPI_STATUS_(0x80090357)
#define SEC_E_REVOCATION_OFFLINE_KDC        SSPI_STATUS_(0x80090358)
#define SEC_E_ISSUING_CA_UNTRUSTED_KDC      SSPI_STATUS_(0x80090359)
#define SEC_E_KDC_CERT_EXPIRED              SSPI_STATUS_(0x8009035A)
#define SEC_E_KDC_CERT_REVOKED              SSPI_STATUS_(0x8009035B)
#define SEC_I_SIGNATURE_NEEDED              SSPI_STATUS_(0x0009035C)
#define SEC_E_INVALID_PARAMETER             SSPI_STATUS_(0x8009035D)
#define SEC_E_DELEGATION_POLICY             SSPI_STATUS_(0x8009035E)
#define SEC_E_POLICY_NLTM_ONLY              SSPI_STATUS_(0x8009035F)
#define SEC_I_NO_RENEGOTIATION              SSPI_STATUS_(0x00090360)
#define SEC_E_NO_CONTEXT                    SSPI_STATUS_(0x80090361)
#define SEC_E_PKU2U_CERT_FAILURE            SSPI_STATUS_(0x80090362)
#define SEC_E_MUTUAL_AUTH_FAILED            SSPI_STATUS_(0x80090363)
#define SEC_I_MESSAGE_FRAGMENT              SSPI_STATUS_(0x00090364)
#define SEC_E_ONLY_HTTPS_ALLOWED            SSPI_STATUS_(0x80090365)
#define SEC_I_CONTINUE_NEEDED_MESSAGE_OK    SSPI_STATUS_(0x00090366)
#define SEC_E_APPLICATION_PROTOCOL_MISMATCH SSPI_STATUS_(0x80090367)
#define SEC_I_ASYNC_CALL_PENDING            SSPI_STATUS_(0x00090368)
#define SEC_E_INVALID_UPN_NAME              SSPI_STATUS_(0x80090369)
#define SEC_E_EXT_BUFFER_TOO_SMALL          SSPI_STATUS_(0x8009036A)
#define SEC_E_INSUFFICIENT_BUFFERS          SSPI_STATUS_(0x8009036B)
#define SEC_E_NOT_SUPPORTED                 SEC_E_UNSUPPORTED_FUNCTION

#define SEC_SUCCESS(status) ((status) >= 0)

/* ---- Credentials ----------------------------------------------------------- */
#define SECPKG_CRED_INBOUND  0x00000001
#define SECPKG_CRED_OUTBOUND 0x00000002
#define SECPKG_CRED_BOTH     0x00000003

#define SECPKG_CRED_ATTR_NAMES 1

typedef struct _SecPkgCredentials_NamesA {
    SEC_CHAR *sUserName;
} SecPkgCredentials_NamesA, *PSecPkgCredentials_NamesA;
typedef struct _SecPkgCredentials_NamesW {
    SEC_WCHAR *sUserName;
} SecPkgCredentials_NamesW, *PSecPkgCredentials_NamesW;

#define SEC_WINNT_AUTH_IDENTITY_ANSI    0x1
#define SEC_WINNT_AUTH_IDENTITY_UNICODE 0x2

/* Explicit credentials for AcquireCredentialsHandle (outbound). Lengths are in
 * characters, without terminator. The A form carries UTF-8. */
typedef struct _SEC_WINNT_AUTH_IDENTITY_A {
    unsigned char *User;
    unsigned long UserLength;
    unsigned char *Domain;
    unsigned long DomainLength;
    unsigned char *Password;
    unsigned long PasswordLength;
    unsigned long Flags; /* SEC_WINNT_AUTH_IDENTITY_ANSI */
} SEC_WINNT_AUTH_IDENTITY_A, *PSEC_WINNT_AUTH_IDENTITY_A;

typedef struct _SEC_WINNT_AUTH_IDENTITY_W {
    unsigned short *User;
    unsigned long UserLength;
    unsigned short *Domain;
    unsigned long DomainLength;
    unsigned short *Password;
    unsigned long PasswordLength;
    unsigned long Flags; /* SEC_WINNT_AUTH_IDENTITY_UNICODE */
} SEC_WINNT_AUTH_IDENTITY_W, *PSEC_WINNT_AUTH_IDENTITY_W;

/* The extended form (Windows XP and later): Version is
 * SEC_WINNT_AUTH_IDENTITY_VERSION, Length sizeof the structure. Accepted
 * wherever SEC_WINNT_AUTH_IDENTITY is (AcquireCredentialsHandle of NTLM,
 * Kerberos, Negotiate; CREDSSP_CRED.pSpnegoCred; a SECBUFFER_PKG_PARAMS of
 * CredSSP), told apart by Version. PackageList (Negotiate's "!ntlm"...) is
 * ignored; Flags MARSHALLED and ONLY are refused with SEC_E_UNKNOWN_CREDENTIALS
 * (the strings would be offsets, and identify-only tickets do not exist here). */
#define SEC_WINNT_AUTH_IDENTITY_VERSION    0x200
#define SEC_WINNT_AUTH_IDENTITY_MARSHALLED 0x4
#define SEC_WINNT_AUTH_IDENTITY_ONLY       0x8

typedef struct _SEC_WINNT_AUTH_IDENTITY_EXA {
    unsigned long Version; /* SEC_WINNT_AUTH_IDENTITY_VERSION */
    unsigned long Length;  /* sizeof(SEC_WINNT_AUTH_IDENTITY_EXA) */
    unsigned char *User;
    unsigned long UserLength;
    unsigned char *Domain;
    unsigned long DomainLength;
    unsigned char *Password;
    unsigned long PasswordLength;
    unsigned long Flags; /* SEC_WINNT_AUTH_IDENTITY_ANSI */
    unsigned char *PackageList;
    unsigned long PackageListLength;
} SEC_WINNT_AUTH_IDENTITY_EXA, *PSEC_WINNT_AUTH_IDENTITY_EXA;

typedef struct _SEC_WINNT_AUTH_IDENTITY_EXW {
    unsigned long Version; /* SEC_WINNT_AUTH_IDENTITY_VERSION */
    unsigned long Length;  /* sizeof(SEC_WINNT_AUTH_IDENTITY_EXW) */
    unsigned short *User;
    unsigned long UserLength;
    unsigned short *Domain;
    unsigned long DomainLength;
    unsigned short *Password;
    unsigned long PasswordLength;
    unsigned long Flags; /* SEC_WINNT_AUTH_IDENTITY_UNICODE */
    unsigned short *PackageList;
    unsigned long PackageListLength;
} SEC_WINNT_AUTH_IDENTITY_EXW, *PSEC_WINNT_AUTH_IDENTITY_EXW;

/* gatehouse extension: configuration of an acceptor (SECPKG_CRED_INBOUND), passed
 * as pAuthData. Windows takes this from the machine; a Linux service names it.
 * Every member may be NULL/0 for the default given with it. */
#define GH_ACCEPTOR_AUTH_DATA_V1 0x47480001UL
#define GH_ACCEPTOR_AUTH_DATA_V2 0x47480002UL /* adds DelegatedCcacheDir */
#define GH_ACCEPTOR_AUTH_DATA_V3 0x47480003UL /* adds AcceptedTargetNames */
typedef struct _GH_ACCEPTOR_AUTH_DATA {
    unsigned long Version;      /* GH_ACCEPTOR_AUTH_DATA_V1, _V2 or _V3 */
    const char *UserStore;      /* built-in user store file (NTLM); default: $GH_USER_STORE */
    const char *Keytab;         /* Kerberos keytab; default: $KRB5_KTNAME, then the system's */
    const char *NbDomainName;   /* NTLM: NetBIOS domain announced; default "GATEHOUSE", or
                                   with GH_ACCEPTOR_NTLM_WINBIND the domain winbindd serves */
    const char *NbComputerName; /* NTLM: NetBIOS computer name; default: the host name */
    const char *DnsDomainName;  /* NTLM: DNS domain; default: the host's domain or "" */
    unsigned long Flags;        /* GH_ACCEPTOR_* */
    /* V2 only. Kerberos: when a client delegates (a forwarded TGT), the acceptor
     * stores it in a new FILE ccache in this directory (mode 0600, random name),
     * named by gh_token_delegated_ccache() and removed when the last token naming
     * it is closed. NULL: delegated credentials stay in memory only. */
    const char *DelegatedCcacheDir;
    /* V3 only. NTLM service binding (Windows' "SPN target name validation"):
     * the service principal names this acceptor answers to ("HTTP/www.example.org",
     * copied at acquisition; a "@REALM" suffix is ignored). When the count is
     * not 0, a client whose AUTHENTICATE_MESSAGE names another target in
     * MsvAvTargetName (MS-NLMP 2.2.2.1) fails with SEC_E_BAD_BINDINGS: the
     * exchange was started with another service and relayed to us. Names
     * compare case-insensitively; a client's ":port" after the host is ignored
     * unless the configured name has one. A client that sent no target name
     * passes unless Flags has GH_ACCEPTOR_REQUIRE_TARGET_NAME. */
    const char *const *AcceptedTargetNames;
    unsigned long AcceptedTargetNameCount;
} GH_ACCEPTOR_AUTH_DATA, *PGH_ACCEPTOR_AUTH_DATA;

/* gatehouse extension: an initiator's (SECPKG_CRED_OUTBOUND only) Kerberos
 * credentials from a given credential cache, passed as pAuthData to the
 * Kerberos or Negotiate package instead of a SEC_WINNT_AUTH_IDENTITY. The use:
 * acting toward another service as a client that delegated its credentials
 * (Ccache = gh_token_delegated_ccache() of its token, or the record's
 * delegated_ccache), what Windows does with the logon session of an
 * impersonated thread. Negotiate then offers Kerberos only (never NTLM with
 * some default identity). SEC_E_NO_CREDENTIALS when the cache holds no usable
 * TGT (expired, or not forwardable to the service). (Added with issue 10.) */
#define GH_INITIATOR_AUTH_DATA_V1 0x47481001UL
typedef struct _GH_INITIATOR_AUTH_DATA {
    unsigned long Version; /* GH_INITIATOR_AUTH_DATA_V1 */
    const char *Ccache;    /* "FILE:/path", "KCM:...", any MIT ccache name; not NULL */
} GH_INITIATOR_AUTH_DATA, *PGH_INITIATOR_AUTH_DATA;

/* Reserved and refused. NTLMv1 and LM responses are DES encryptions of the
 * server challenge under the NT (or LM) hash: one captured exchange gives the
 * hash back to anyone with a DES cracker, and the hash is as good as the
 * password. gatehouse never accepts them, so an acceptor whose Flags has this
 * bit fails AcquireCredentialsHandle with SEC_E_UNSUPPORTED_FUNCTION (extended
 * error "GH_ACCEPTOR_ALLOW_NTLMV1 is refused: ...") rather than silently
 * running NTLMv2-only; a client's NTLMv1/LM response always fails with
 * SEC_E_LOGON_DENIED ("NTLMv1/LM response refused (NTLMv2 only)"). */
#define GH_ACCEPTOR_ALLOW_NTLMV1 0x00000001UL
/* With AcceptedTargetNames: an NTLM client that sent no MsvAvTargetName fails
 * (SEC_E_BAD_BINDINGS) instead of passing. */
#define GH_ACCEPTOR_REQUIRE_TARGET_NAME 0x00000002UL
/* NTLM (also inside Negotiate and CredSSP): the domain controller checks the
 * client's NTLMv2 response, through winbindd's network logon (libwbclient
 * wbcAuthenticateUserEx, through winbindd's privileged socket: the caller
 * must be root or in group winbindd_priv on Debian), instead of the built-in
 * user store (UserStore is then not needed). The acceptor still issues the
 * CHALLENGE and still checks the MIC, channel bindings and target name, with
 * the session key the DC returns. The access token names the account as the
 * DC does (DOMAIN, user, account@REALM as principal) and carries its SIDs as
 * a Kerberos PAC token does (gh_token_user_sid, gh_token_group_sid: primary
 * group first; named with GH_ACCEPTOR_GROUP_NAMES). AcceptSecurityContext
 * then blocks on winbindd for the AUTHENTICATE leg: call it where blocking is
 * allowed. Its failures: SEC_E_LOGON_DENIED for anything the DC refuses
 * (unknown user, wrong password, account disabled, locked or expired, password
 * expired or to be changed: the extended error names the NTSTATUS, e.g.
 * "account disabled (NT_STATUS_ACCOUNT_DISABLED)"), and
 * SEC_E_NO_AUTHENTICATING_AUTHORITY when winbindd or the domain controller
 * cannot be reached (the extended error says what to check). */
#define GH_ACCEPTOR_NTLM_WINBIND 0x00000004UL
/* Kerberos (also inside Negotiate): name the group SIDs of a client's PAC
 * through winbindd (libwbclient wbcLookupSids; the socket is the one
 * libwbclient was built with, /run/samba/winbindd on Debian), so that the
 * access token's groups read "CORP\Staff" rather than SIDs. Names are cached
 * process-wide (5 minutes, 4096 SIDs); on a miss QuerySecurityContextToken
 * blocks on winbindd: call it where blocking is allowed. Without this bit the
 * groups are the SIDs. An unreachable winbindd leaves SIDs unnamed, never
 * fails a handshake. */
#define GH_ACCEPTOR_GROUP_NAMES 0x00000008UL
/* Reserved, with no effect: no structure takes initiator flags, and the NTLM
 * initiator only ever sends NTLMv2 responses (with a MIC), for the reason
 * given at GH_ACCEPTOR_ALLOW_NTLMV1. Kept so that code naming it compiles. */
#define GH_INITIATOR_ALLOW_NTLMV1 0x00000001UL

typedef void(SEC_ENTRY *SEC_GET_KEY_FN)(void *Arg, void *Principal, unsigned long KeyVer,
                                        void **Key, SECURITY_STATUS *Status);

/* ---- Packages -------------------------------------------------------------- */
#define NTLMSP_NAME_A             "NTLM"
#define MICROSOFT_KERBEROS_NAME_A "Kerberos"
#define NEGOSSP_NAME_A            "Negotiate"
#define SCHANNEL_NAME_A           "Schannel"
#define UNISP_NAME_A              "Microsoft Unified Security Protocol Provider"
#define CREDSSP_NAME_A            "CREDSSP"

#define SECPKG_FLAG_INTEGRITY              0x00000001
#define SECPKG_FLAG_PRIVACY                0x00000002
#define SECPKG_FLAG_TOKEN_ONLY             0x00000004
#define SECPKG_FLAG_DATAGRAM               0x00000008
#define SECPKG_FLAG_CONNECTION             0x00000010
#define SECPKG_FLAG_MULTI_REQUIRED         0x00000020
#define SECPKG_FLAG_CLIENT_ONLY            0x00000040
#define SECPKG_FLAG_EXTENDED_ERROR         0x00000080
#define SECPKG_FLAG_IMPERSONATION          0x00000100
#define SECPKG_FLAG_ACCEPT_WIN32_NAME      0x00000200
#define SECPKG_FLAG_STREAM                 0x00000400
#define SECPKG_FLAG_NEGOTIABLE             0x00000800
#define SECPKG_FLAG_GSS_COMPATIBLE         0x00001000
#define SECPKG_FLAG_LOGON                  0x00002000
#define SECPKG_FLAG_ASCII_BUFFERS          0x00004000
#define SECPKG_FLAG_FRAGMENT               0x00008000
#define SECPKG_FLAG_MUTUAL_AUTH            0x00010000
#define SECPKG_FLAG_DELEGATION             0x00020000
#define SECPKG_FLAG_READONLY_WITH_CHECKSUM 0x00040000
#define SECPKG_FLAG_RESTRICTED_TOKENS      0x00080000
#define SECPKG_FLAG_NEGO_EXTENDER          0x00100000
#define SECPKG_FLAG_NEGOTIABLE2            0x00200000

typedef struct _SecPkgInfoA {
    unsigned long fCapabilities;
    unsigned short wVersion;
    unsigned short wRPCID;
    unsigned long cbMaxToken;
    SEC_CHAR *Name;
    SEC_CHAR *Comment;
} SecPkgInfoA, *PSecPkgInfoA;

typedef struct _SecPkgInfoW {
    unsigned long fCapabilities;
    unsigned short wVersion;
    unsigned short wRPCID;
    unsigned long cbMaxToken;
    SEC_WCHAR *Name;
    SEC_WCHAR *Comment;
} SecPkgInfoW, *PSecPkgInfoW;

/* ---- Context requirements and attributes ----------------------------------- */
#define ISC_REQ_DELEGATE               0x00000001
#define ISC_REQ_MUTUAL_AUTH            0x00000002
#define ISC_REQ_REPLAY_DETECT          0x00000004
#define ISC_REQ_SEQUENCE_DETECT        0x00000008
#define ISC_REQ_CONFIDENTIALITY        0x00000010
#define ISC_REQ_USE_SESSION_KEY        0x00000020
#define ISC_REQ_PROMPT_FOR_CREDS       0x00000040
#define ISC_REQ_USE_SUPPLIED_CREDS     0x00000080
#define ISC_REQ_ALLOCATE_MEMORY        0x00000100
#define ISC_REQ_USE_DCE_STYLE          0x00000200
#define ISC_REQ_DATAGRAM               0x00000400
#define ISC_REQ_CONNECTION             0x00000800
#define ISC_REQ_CALL_LEVEL             0x00001000
#define ISC_REQ_FRAGMENT_SUPPLIED      0x00002000
#define ISC_REQ_EXTENDED_ERROR         0x00004000
#define ISC_REQ_STREAM                 0x00008000
#define ISC_REQ_INTEGRITY              0x00010000
#define ISC_REQ_IDENTIFY               0x00020000
#define ISC_REQ_NULL_SESSION           0x00040000
#define ISC_REQ_MANUAL_CRED_VALIDATION 0x00080000
#define ISC_REQ_RESERVED1              0x00100000
#define ISC_REQ_FRAGMENT_TO_FIT        0x00200000
#define ISC_REQ_FORWARD_CREDENTIALS    0x00400000
#define ISC_REQ_NO_INTEGRITY           0x00800000
#define ISC_REQ_USE_HTTP_STYLE         0x01000000
#define ISC_REQ_UNVERIFIED_TARGET_NAME 0x20000000
#define ISC_REQ_CONFIDENTIALITY_ONLY   0x40000000

#define ISC_RET_DELEGATE               0x00000001
#define ISC_RET_MUTUAL_AUTH            0x00000002
#define ISC_RET_REPLAY_DETECT          0x00000004
#define ISC_RET_SEQUENCE_DETECT        0x00000008
#define ISC_RET_CONFIDENTIALITY        0x00000010
#define ISC_RET_USE_SESSION_KEY        0x00000020
#define ISC_RET_USED_COLLECTED_CREDS   0x00000040
#define ISC_RET_USED_SUPPLIED_CREDS    0x00000080
#define ISC_RET_ALLOCATED_MEMORY       0x00000100
#define ISC_RET_USED_DCE_STYLE         0x00000200
#define ISC_RET_DATAGRAM               0x00000400
#define ISC_RET_CONNECTION             0x00000800
#define ISC_RET_INTERMEDIATE_RETURN    0x00001000
#define ISC_RET_CALL_LEVEL             0x00002000
#define ISC_RET_EXTENDED_ERROR         0x00004000
#define ISC_RET_STREAM                 0x00008000
#define ISC_RET_INTEGRITY              0x00010000
#define ISC_RET_IDENTIFY               0x00020000
#define ISC_RET_NULL_SESSION           0x00040000
#define ISC_RET_MANUAL_CRED_VALIDATION 0x00080000
#define ISC_RET_RESERVED1              0x00100000
#define ISC_RET_FRAGMENT_ONLY          0x00200000
#define ISC_RET_FORWARD_CREDENTIALS    0x00400000
#define ISC_RET_USED_HTTP_STYLE        0x01000000
#define ISC_RET_NO_ADDITIONAL_TOKEN    0x02000000
#define ISC_RET_REAUTHENTICATION       0x08000000
#define ISC_RET_CONFIDENTIALITY_ONLY   0x40000000

#define ASC_REQ_DELEGATE               0x00000001
#define ASC_REQ_MUTUAL_AUTH            0x00000002
#define ASC_REQ_REPLAY_DETECT          0x00000004
#define ASC_REQ_SEQUENCE_DETECT        0x00000008
#define ASC_REQ_CONFIDENTIALITY        0x00000010
#define ASC_REQ_USE_SESSION_KEY        0x00000020
#define ASC_REQ_SESSION_TICKET         0x00000040
#define ASC_REQ_ALLOCATE_MEMORY        0x00000100
#define ASC_REQ_USE_DCE_STYLE          0x00000200
#define ASC_REQ_DATAGRAM               0x00000400
#define ASC_REQ_CONNECTION             0x00000800
#define ASC_REQ_CALL_LEVEL             0x00001000
#define ASC_REQ_FRAGMENT_SUPPLIED      0x00002000
#define ASC_REQ_EXTENDED_ERROR         0x00008000
#define ASC_REQ_STREAM                 0x00010000
#define ASC_REQ_INTEGRITY              0x00020000
#define ASC_REQ_LICENSING              0x00040000
#define ASC_REQ_IDENTIFY               0x00080000
#define ASC_REQ_ALLOW_NULL_SESSION     0x00100000
#define ASC_REQ_ALLOW_NON_USER_LOGONS  0x00200000
#define ASC_REQ_ALLOW_CONTEXT_REPLAY   0x00400000
#define ASC_REQ_FRAGMENT_TO_FIT        0x00800000
#define ASC_REQ_NO_TOKEN               0x01000000
#define ASC_REQ_PROXY_BINDINGS         0x04000000
#define ASC_REQ_ALLOW_MISSING_BINDINGS 0x10000000

#define ASC_RET_DELEGATE              0x00000001
#define ASC_RET_MUTUAL_AUTH           0x00000002
#define ASC_RET_REPLAY_DETECT         0x00000004
#define ASC_RET_SEQUENCE_DETECT       0x00000008
#define ASC_RET_CONFIDENTIALITY       0x00000010
#define ASC_RET_USE_SESSION_KEY       0x00000020
#define ASC_RET_SESSION_TICKET        0x00000040
#define ASC_RET_ALLOCATED_MEMORY      0x00000100
#define ASC_RET_USED_DCE_STYLE        0x00000200
#define ASC_RET_DATAGRAM              0x00000400
#define ASC_RET_CONNECTION            0x00000800
#define ASC_RET_CALL_LEVEL            0x00002000
#define ASC_RET_THIRD_LEG_FAILED      0x00004000
#define ASC_RET_EXTENDED_ERROR        0x00008000
#define ASC_RET_STREAM                0x00010000
#define ASC_RET_INTEGRITY             0x00020000
#define ASC_RET_LICENSING             0x00040000
#define ASC_RET_IDENTIFY              0x00080000
#define ASC_RET_NULL_SESSION          0x00100000
#define ASC_RET_ALLOW_NON_USER_LOGONS 0x00200000
#define ASC_RET_ALLOW_CONTEXT_REPLAY  0x00400000
#define ASC_RET_FRAGMENT_ONLY         0x00800000
#define ASC_RET_NO_TOKEN              0x01000000
#define ASC_RET_NO_ADDITIONAL_TOKEN   0x02000000

#define SECURITY_NATIVE_DREP  0x00000010
#define SECURITY_NETWORK_DREP 0x00000000

#define SECQOP_WRAP_NO_ENCRYPT 0x80000001UL
#define SECQOP_WRAP_OOB_DATA   0x40000000UL

/* ---- QueryContextAttributes ------------------------------------------------ */
#define SECPKG_ATTR_SIZES                    0
#define SECPKG_ATTR_NAMES                    1
#define SECPKG_ATTR_LIFESPAN                 2
#define SECPKG_ATTR_DCE_INFO                 3
#define SECPKG_ATTR_STREAM_SIZES             4
#define SECPKG_ATTR_KEY_INFO                 5
#define SECPKG_ATTR_AUTHORITY                6
#define SECPKG_ATTR_PROTO_INFO               7
#define SECPKG_ATTR_PASSWORD_EXPIRY          8
#define SECPKG_ATTR_SESSION_KEY              9
#define SECPKG_ATTR_PACKAGE_INFO             10
#define SECPKG_ATTR_USER_FLAGS               11
#define SECPKG_ATTR_NEGOTIATION_INFO         12
#define SECPKG_ATTR_NATIVE_NAMES             13
#define SECPKG_ATTR_FLAGS                    14
#define SECPKG_ATTR_USE_VALIDATED            15
#define SECPKG_ATTR_CREDENTIAL_NAME          16
#define SECPKG_ATTR_TARGET_INFORMATION       17
#define SECPKG_ATTR_ACCESS_TOKEN             18
#define SECPKG_ATTR_TARGET                   19
#define SECPKG_ATTR_AUTHENTICATION_ID        20
#define SECPKG_ATTR_LOGOFF_TIME              21
#define SECPKG_ATTR_NEGO_KEYS                22
#define SECPKG_ATTR_PROMPTING_NEEDED         24
#define SECPKG_ATTR_UNIQUE_BINDINGS          25
#define SECPKG_ATTR_ENDPOINT_BINDINGS        26
#define SECPKG_ATTR_CLIENT_SPECIFIED_TARGET  27
#define SECPKG_ATTR_LAST_CLIENT_TOKEN_STATUS 30
#define SECPKG_ATTR_NEGO_PKG_INFO            31
#define SECPKG_ATTR_NEGO_STATUS              32
#define SECPKG_ATTR_CONTEXT_DELETED          33
#define SECPKG_ATTR_APPLICATION_PROTOCOL     35
#define SECPKG_ATTR_REMOTE_CERT_CONTEXT      0x53
#define SECPKG_ATTR_LOCAL_CERT_CONTEXT       0x54
#define SECPKG_ATTR_ISSUER_LIST_EX           0x59
#define SECPKG_ATTR_CONNECTION_INFO          0x5a
#define SECPKG_ATTR_CIPHER_INFO              0x64

typedef struct _SecPkgContext_Sizes {
    unsigned long cbMaxToken;
    unsigned long cbMaxSignature;
    unsigned long cbBlockSize;
    unsigned long cbSecurityTrailer;
} SecPkgContext_Sizes, *PSecPkgContext_Sizes;

typedef struct _SecPkgContext_StreamSizes {
    unsigned long cbHeader;
    unsigned long cbTrailer;
    unsigned long cbMaximumMessage;
    unsigned long cBuffers;
    unsigned long cbBlockSize;
} SecPkgContext_StreamSizes, *PSecPkgContext_StreamSizes;

/* Names are allocated by the library: free each with FreeContextBuffer. */
typedef struct _SecPkgContext_NamesA {
    SEC_CHAR *sUserName;
} SecPkgContext_NamesA, *PSecPkgContext_NamesA;
typedef struct _SecPkgContext_NamesW {
    SEC_WCHAR *sUserName;
} SecPkgContext_NamesW, *PSecPkgContext_NamesW;

typedef struct _SecPkgContext_NativeNamesA {
    SEC_CHAR *sClientName;
    SEC_CHAR *sServerName;
} SecPkgContext_NativeNamesA, *PSecPkgContext_NativeNamesA;
typedef struct _SecPkgContext_NativeNamesW {
    SEC_WCHAR *sClientName;
    SEC_WCHAR *sServerName;
} SecPkgContext_NativeNamesW, *PSecPkgContext_NativeNamesW;

/* SECPKG_ATTR_KEY_INFO (Schannel): the names and CALG_* ids of the
 * signature (the server key's: "RSA" CALG_RSA_SIGN, "ECDSA" CALG_ECDSA,
 * "EdDSA" 0) and of the cipher ("AES" / "CHACHA20_POLY1305", CALG_AES_128 /
 * CALG_AES_256 / CALG_CHACHA20) with its key size in bits. Each name is freed
 * with FreeContextBuffer. */
typedef struct _SecPkgContext_KeyInfoA {
    SEC_CHAR *sSignatureAlgorithmName;
    SEC_CHAR *sEncryptAlgorithmName;
    unsigned long KeySize;
    unsigned long SignatureAlgorithm;
    unsigned long EncryptAlgorithm;
} SecPkgContext_KeyInfoA, *PSecPkgContext_KeyInfoA;
typedef struct _SecPkgContext_KeyInfoW {
    SEC_WCHAR *sSignatureAlgorithmName;
    SEC_WCHAR *sEncryptAlgorithmName;
    unsigned long KeySize;
    unsigned long SignatureAlgorithm;
    unsigned long EncryptAlgorithm;
} SecPkgContext_KeyInfoW, *PSecPkgContext_KeyInfoW;

typedef struct _SecPkgContext_Lifespan {
    TimeStamp tsStart;
    TimeStamp tsExpiry;
} SecPkgContext_Lifespan, *PSecPkgContext_Lifespan;

typedef struct _SecPkgContext_SessionKey {
    unsigned long SessionKeyLength;
    unsigned char *SessionKey; /* free with FreeContextBuffer */
} SecPkgContext_SessionKey, *PSecPkgContext_SessionKey;

#define SECPKG_NEGOTIATION_COMPLETE      0
#define SECPKG_NEGOTIATION_OPTIMISTIC    1
#define SECPKG_NEGOTIATION_IN_PROGRESS   2
#define SECPKG_NEGOTIATION_DIRECT        3
#define SECPKG_NEGOTIATION_TRY_MULTICRED 4

typedef struct _SecPkgContext_NegotiationInfoA {
    PSecPkgInfoA PackageInfo; /* free with FreeContextBuffer */
    unsigned long NegotiationState;
} SecPkgContext_NegotiationInfoA, *PSecPkgContext_NegotiationInfoA;
typedef struct _SecPkgContext_NegotiationInfoW {
    PSecPkgInfoW PackageInfo;
    unsigned long NegotiationState;
} SecPkgContext_NegotiationInfoW, *PSecPkgContext_NegotiationInfoW;

typedef struct _SecPkgContext_PackageInfoA {
    PSecPkgInfoA PackageInfo; /* free with FreeContextBuffer */
} SecPkgContext_PackageInfoA, *PSecPkgContext_PackageInfoA;
typedef struct _SecPkgContext_PackageInfoW {
    PSecPkgInfoW PackageInfo;
} SecPkgContext_PackageInfoW, *PSecPkgContext_PackageInfoW;

typedef struct _SecPkgContext_Flags {
    unsigned long Flags; /* ISC_RET_* / ASC_RET_* */
} SecPkgContext_Flags, *PSecPkgContext_Flags;

typedef struct _SecPkgContext_AccessToken {
    void *AccessToken; /* a gh_token *; borrowed: valid while the context lives */
} SecPkgContext_AccessToken, *PSecPkgContext_AccessToken;

typedef struct _SecPkgContext_Bindings {
    unsigned long BindingsLength;
    SEC_CHANNEL_BINDINGS *Bindings; /* free with FreeContextBuffer */
} SecPkgContext_Bindings, *PSecPkgContext_Bindings;

#ifndef GH_NO_CERT_NAME_BLOB
typedef struct _CERT_NAME_BLOB {
    unsigned long cbData;
    unsigned char *pbData;
} CERT_NAME_BLOB, *PCERT_NAME_BLOB;
#endif

typedef struct _SecPkgContext_IssuerListInfoEx {
    PCERT_NAME_BLOB aIssuers; /* DER-encoded distinguished names; FreeContextBuffer */
    unsigned long cIssuers;
} SecPkgContext_IssuerListInfoEx, *PSecPkgContext_IssuerListInfoEx;

/* ---- Functions (the A forms take UTF-8, the W forms UTF-16) ---------------- */
GH_API SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleA(
    SEC_CHAR *pszPrincipal, SEC_CHAR *pszPackage, unsigned long fCredentialUse, void *pvLogonId,
    void *pAuthData, SEC_GET_KEY_FN pGetKeyFn, void *pvGetKeyArgument, PCredHandle phCredential,
    PTimeStamp ptsExpiry);
GH_API SECURITY_STATUS SEC_ENTRY AcquireCredentialsHandleW(
    SEC_WCHAR *pszPrincipal, SEC_WCHAR *pszPackage, unsigned long fCredentialUse, void *pvLogonId,
    void *pAuthData, SEC_GET_KEY_FN pGetKeyFn, void *pvGetKeyArgument, PCredHandle phCredential,
    PTimeStamp ptsExpiry);
GH_API SECURITY_STATUS SEC_ENTRY FreeCredentialsHandle(PCredHandle phCredential);

GH_API SECURITY_STATUS SEC_ENTRY InitializeSecurityContextA(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_CHAR *pszTargetName,
    unsigned long fContextReq, unsigned long Reserved1, unsigned long TargetDataRep,
    PSecBufferDesc pInput, unsigned long Reserved2, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, unsigned long *pfContextAttr, PTimeStamp ptsExpiry);
GH_API SECURITY_STATUS SEC_ENTRY InitializeSecurityContextW(
    PCredHandle phCredential, PCtxtHandle phContext, SEC_WCHAR *pszTargetName,
    unsigned long fContextReq, unsigned long Reserved1, unsigned long TargetDataRep,
    PSecBufferDesc pInput, unsigned long Reserved2, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, unsigned long *pfContextAttr, PTimeStamp ptsExpiry);
GH_API SECURITY_STATUS SEC_ENTRY AcceptSecurityContext(
    PCredHandle phCredential, PCtxtHandle phContext, PSecBufferDesc pInput,
    unsigned long fContextReq, unsigned long TargetDataRep, PCtxtHandle phNewContext,
    PSecBufferDesc pOutput, unsigned long *pfContextAttr, PTimeStamp ptsExpiry);
GH_API SECURITY_STATUS SEC_ENTRY CompleteAuthToken(PCtxtHandle phContext, PSecBufferDesc pToken);
GH_API SECURITY_STATUS SEC_ENTRY DeleteSecurityContext(PCtxtHandle phContext);
GH_API SECURITY_STATUS SEC_ENTRY ApplyControlToken(PCtxtHandle phContext, PSecBufferDesc pInput);
GH_API SECURITY_STATUS SEC_ENTRY FreeContextBuffer(void *pvContextBuffer);

GH_API SECURITY_STATUS SEC_ENTRY QueryContextAttributesA(PCtxtHandle phContext,
                                                         unsigned long ulAttribute, void *pBuffer);
GH_API SECURITY_STATUS SEC_ENTRY QueryContextAttributesW(PCtxtHandle phContext,
                                                         unsigned long ulAttribute, void *pBuffer);
GH_API SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesA(PCredHandle phCredential,
                                                             unsigned long ulAttribute,
                                                             void *pBuffer);
GH_API SECURITY_STATUS SEC_ENTRY QueryCredentialsAttributesW(PCredHandle phCredential,
                                                             unsigned long ulAttribute,
                                                             void *pBuffer);
/* *Token receives a new reference to the context's gh_token (see <gatehouse/token.h>);
 * release it with gh_token_close() or CloseHandle(). */
GH_API SECURITY_STATUS SEC_ENTRY QuerySecurityContextToken(PCtxtHandle phContext, void **Token);
GH_API SECURITY_STATUS SEC_ENTRY ImpersonateSecurityContext(PCtxtHandle phContext);
GH_API SECURITY_STATUS SEC_ENTRY RevertSecurityContext(PCtxtHandle phContext);

GH_API SECURITY_STATUS SEC_ENTRY MakeSignature(PCtxtHandle phContext, unsigned long fQOP,
                                               PSecBufferDesc pMessage, unsigned long MessageSeqNo);
GH_API SECURITY_STATUS SEC_ENTRY VerifySignature(PCtxtHandle phContext, PSecBufferDesc pMessage,
                                                 unsigned long MessageSeqNo, unsigned long *pfQOP);
GH_API SECURITY_STATUS SEC_ENTRY EncryptMessage(PCtxtHandle phContext, unsigned long fQOP,
                                                PSecBufferDesc pMessage,
                                                unsigned long MessageSeqNo);
GH_API SECURITY_STATUS SEC_ENTRY DecryptMessage(PCtxtHandle phContext, PSecBufferDesc pMessage,
                                                unsigned long MessageSeqNo, unsigned long *pfQOP);

GH_API SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesA(unsigned long *pcPackages,
                                                            PSecPkgInfoA *ppPackageInfo);
GH_API SECURITY_STATUS SEC_ENTRY EnumerateSecurityPackagesW(unsigned long *pcPackages,
                                                            PSecPkgInfoW *ppPackageInfo);
GH_API SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoA(SEC_CHAR *pszPackageName,
                                                           PSecPkgInfoA *ppPackageInfo);
GH_API SECURITY_STATUS SEC_ENTRY QuerySecurityPackageInfoW(SEC_WCHAR *pszPackageName,
                                                           PSecPkgInfoW *ppPackageInfo);

/* Packed contexts (http.sys PackedContext): serialize a complete context so
 * another holder can import it, query it (LIFESPAN, NAMES, PACKAGE_INFO...) and
 * use it (message functions), for NTLM, Kerberos and Negotiate. The packed
 * bytes are opaque and versioned (docs/sspi.md) and hold the session keys:
 * treat them as a secret. ExportSecurityContext: pPackedContext->pvBuffer gets
 * memory for FreeContextBuffer; with pToken, *pToken gets a new reference to
 * the identity token (gh_token_close), or NULL when the context has none.
 * SEC_E_NO_CONTEXT for a context that is not complete. ImportSecurityContextA:
 * pszPackage names the package that exported (NULL: the one recorded);
 * Token is ignored; SEC_E_INVALID_TOKEN for bytes that are not a packed
 * context of this version. */
#define SECPKG_CONTEXT_EXPORT_RESET_NEW  0x00000001 /* accepted, nothing to reset */
#define SECPKG_CONTEXT_EXPORT_DELETE_OLD 0x00000002 /* the exported handle is deleted */
#define SECPKG_CONTEXT_EXPORT_TO_KERNEL  0x00000004 /* refused: no kernel here */
GH_API SECURITY_STATUS SEC_ENTRY ExportSecurityContext(PCtxtHandle phContext, unsigned long fFlags,
                                                       PSecBuffer pPackedContext, void **pToken);
GH_API SECURITY_STATUS SEC_ENTRY ImportSecurityContextA(SEC_CHAR *pszPackage,
                                                        PSecBuffer pPackedContext, void *Token,
                                                        PCtxtHandle phContext);
/* The same with a UTF-16 package name. */
GH_API SECURITY_STATUS SEC_ENTRY ImportSecurityContextW(SEC_WCHAR *pszPackage,
                                                        PSecBuffer pPackedContext, void *Token,
                                                        PCtxtHandle phContext);

/* ---- The function table ---------------------------------------------------- */
#define SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION 1

typedef struct _SecurityFunctionTableA {
    unsigned long dwVersion;
    SECURITY_STATUS(SEC_ENTRY *EnumerateSecurityPackagesA)(unsigned long *, PSecPkgInfoA *);
    SECURITY_STATUS(SEC_ENTRY *QueryCredentialsAttributesA)(PCredHandle, unsigned long, void *);
    SECURITY_STATUS(SEC_ENTRY *AcquireCredentialsHandleA)
    (SEC_CHAR *, SEC_CHAR *, unsigned long, void *, void *, SEC_GET_KEY_FN, void *, PCredHandle,
     PTimeStamp);
    SECURITY_STATUS(SEC_ENTRY *FreeCredentialsHandle)(PCredHandle);
    void *Reserved2;
    SECURITY_STATUS(SEC_ENTRY *InitializeSecurityContextA)
    (PCredHandle, PCtxtHandle, SEC_CHAR *, unsigned long, unsigned long, unsigned long,
     PSecBufferDesc, unsigned long, PCtxtHandle, PSecBufferDesc, unsigned long *, PTimeStamp);
    SECURITY_STATUS(SEC_ENTRY *AcceptSecurityContext)
    (PCredHandle, PCtxtHandle, PSecBufferDesc, unsigned long, unsigned long, PCtxtHandle,
     PSecBufferDesc, unsigned long *, PTimeStamp);
    SECURITY_STATUS(SEC_ENTRY *CompleteAuthToken)(PCtxtHandle, PSecBufferDesc);
    SECURITY_STATUS(SEC_ENTRY *DeleteSecurityContext)(PCtxtHandle);
    SECURITY_STATUS(SEC_ENTRY *ApplyControlToken)(PCtxtHandle, PSecBufferDesc);
    SECURITY_STATUS(SEC_ENTRY *QueryContextAttributesA)(PCtxtHandle, unsigned long, void *);
    SECURITY_STATUS(SEC_ENTRY *ImpersonateSecurityContext)(PCtxtHandle);
    SECURITY_STATUS(SEC_ENTRY *RevertSecurityContext)(PCtxtHandle);
    SECURITY_STATUS(SEC_ENTRY *MakeSignature)
    (PCtxtHandle, unsigned long, PSecBufferDesc, unsigned long);
    SECURITY_STATUS(SEC_ENTRY *VerifySignature)
    (PCtxtHandle, PSecBufferDesc, unsigned long, unsigned long *);
    SECURITY_STATUS(SEC_ENTRY *FreeContextBuffer)(void *);
    SECURITY_STATUS(SEC_ENTRY *QuerySecurityPackageInfoA)(SEC_CHAR *, PSecPkgInfoA *);
    void *Reserved3;
    void *Reserved4;
    SECURITY_STATUS(SEC_ENTRY *ExportSecurityContext)
    (PCtxtHandle, unsigned long, PSecBuffer, void **);
    SECURITY_STATUS(SEC_ENTRY *ImportSecurityContextA)(SEC_CHAR *, PSecBuffer, void *, PCtxtHandle);
    void *AddCredentialsA;
    void *Reserved8;
    SECURITY_STATUS(SEC_ENTRY *QuerySecurityContextToken)(PCtxtHandle, void **);
    SECURITY_STATUS(SEC_ENTRY *EncryptMessage)
    (PCtxtHandle, unsigned long, PSecBufferDesc, unsigned long);
    SECURITY_STATUS(SEC_ENTRY *DecryptMessage)
    (PCtxtHandle, PSecBufferDesc, unsigned long, unsigned long *);
} SecurityFunctionTableA, *PSecurityFunctionTableA;

typedef struct _SecurityFunctionTableW {
    unsigned long dwVersion;
    SECURITY_STATUS(SEC_ENTRY *EnumerateSecurityPackagesW)(unsigned long *, PSecPkgInfoW *);
    SECURITY_STATUS(SEC_ENTRY *QueryCredentialsAttributesW)(PCredHandle, unsigned long, void *);
    SECURITY_STATUS(SEC_ENTRY *AcquireCredentialsHandleW)
    (SEC_WCHAR *, SEC_WCHAR *, unsigned long, void *, void *, SEC_GET_KEY_FN, void *, PCredHandle,
     PTimeStamp);
    SECURITY_STATUS(SEC_ENTRY *FreeCredentialsHandle)(PCredHandle);
    void *Reserved2;
    SECURITY_STATUS(SEC_ENTRY *InitializeSecurityContextW)
    (PCredHandle, PCtxtHandle, SEC_WCHAR *, unsigned long, unsigned long, unsigned long,
     PSecBufferDesc, unsigned long, PCtxtHandle, PSecBufferDesc, unsigned long *, PTimeStamp);
    SECURITY_STATUS(SEC_ENTRY *AcceptSecurityContext)
    (PCredHandle, PCtxtHandle, PSecBufferDesc, unsigned long, unsigned long, PCtxtHandle,
     PSecBufferDesc, unsigned long *, PTimeStamp);
    SECURITY_STATUS(SEC_ENTRY *CompleteAuthToken)(PCtxtHandle, PSecBufferDesc);
    SECURITY_STATUS(SEC_ENTRY *DeleteSecurityContext)(PCtxtHandle);
    SECURITY_STATUS(SEC_ENTRY *ApplyControlToken)(PCtxtHandle, PSecBufferDesc);
    SECURITY_STATUS(SEC_ENTRY *QueryContextAttributesW)(PCtxtHandle, unsigned long, void *);
    SECURITY_STATUS(SEC_ENTRY *ImpersonateSecurityContext)(PCtxtHandle);
    SECURITY_STATUS(SEC_ENTRY *RevertSecurityContext)(PCtxtHandle);
    SECURITY_STATUS(SEC_ENTRY *MakeSignature)
    (PCtxtHandle, unsigned long, PSecBufferDesc, unsigned long);
    SECURITY_STATUS(SEC_ENTRY *VerifySignature)
    (PCtxtHandle, PSecBufferDesc, unsigned long, unsigned long *);
    SECURITY_STATUS(SEC_ENTRY *FreeContextBuffer)(void *);
    SECURITY_STATUS(SEC_ENTRY *QuerySecurityPackageInfoW)(SEC_WCHAR *, PSecPkgInfoW *);
    void *Reserved3;
    void *Reserved4;
    SECURITY_STATUS(SEC_ENTRY *ExportSecurityContext)
    (PCtxtHandle, unsigned long, PSecBuffer, void **);
    void *ImportSecurityContextW;
    void *AddCredentialsW;
    void *Reserved8;
    SECURITY_STATUS(SEC_ENTRY *QuerySecurityContextToken)(PCtxtHandle, void **);
    SECURITY_STATUS(SEC_ENTRY *EncryptMessage)
    (PCtxtHandle, unsigned long, PSecBufferDesc, unsigned long);
    SECURITY_STATUS(SEC_ENTRY *DecryptMessage)
    (PCtxtHandle, PSecBufferDesc, unsigned long, unsigned long *);
} SecurityFunctionTableW, *PSecurityFunctionTableW;

GH_API PSecurityFunctionTableA SEC_ENTRY InitSecurityInterfaceA(void);
GH_API PSecurityFunctionTableW SEC_ENTRY InitSecurityInterfaceW(void);

/* The unsuffixed names follow UNICODE, as on Windows. */
#ifdef UNICODE
#define AcquireCredentialsHandle      AcquireCredentialsHandleW
#define InitializeSecurityContext     InitializeSecurityContextW
#define QueryContextAttributes        QueryContextAttributesW
#define QueryCredentialsAttributes    QueryCredentialsAttributesW
#define EnumerateSecurityPackages     EnumerateSecurityPackagesW
#define QuerySecurityPackageInfo      QuerySecurityPackageInfoW
#define InitSecurityInterface         InitSecurityInterfaceW
#define SecPkgInfo                    SecPkgInfoW
#define PSecPkgInfo                   PSecPkgInfoW
#define SEC_WINNT_AUTH_IDENTITY       SEC_WINNT_AUTH_IDENTITY_W
#define SecPkgContext_Names           SecPkgContext_NamesW
#define SecPkgContext_NativeNames     SecPkgContext_NativeNamesW
#define SecPkgContext_NegotiationInfo SecPkgContext_NegotiationInfoW
#define SecPkgContext_PackageInfo     SecPkgContext_PackageInfoW
#define SecPkgCredentials_Names       SecPkgCredentials_NamesW
#define SecPkgContext_KeyInfo         SecPkgContext_KeyInfoW
#define PSecPkgContext_KeyInfo        PSecPkgContext_KeyInfoW
#define SEC_WINNT_AUTH_IDENTITY_EX    SEC_WINNT_AUTH_IDENTITY_EXW
#define PSEC_WINNT_AUTH_IDENTITY_EX   PSEC_WINNT_AUTH_IDENTITY_EXW
#else
#define AcquireCredentialsHandle      AcquireCredentialsHandleA
#define InitializeSecurityContext     InitializeSecurityContextA
#define QueryContextAttributes        QueryContextAttributesA
#define QueryCredentialsAttributes    QueryCredentialsAttributesA
#define EnumerateSecurityPackages     EnumerateSecurityPackagesA
#define QuerySecurityPackageInfo      QuerySecurityPackageInfoA
#define InitSecurityInterface         InitSecurityInterfaceA
#define SecPkgInfo                    SecPkgInfoA
#define PSecPkgInfo                   PSecPkgInfoA
#define SEC_WINNT_AUTH_IDENTITY       SEC_WINNT_AUTH_IDENTITY_A
#define SecPkgContext_Names           SecPkgContext_NamesA
#define SecPkgContext_NativeNames     SecPkgContext_NativeNamesA
#define SecPkgContext_NegotiationInfo SecPkgContext_NegotiationInfoA
#define SecPkgContext_PackageInfo     SecPkgContext_PackageInfoA
#define SecPkgCredentials_Names       SecPkgCredentials_NamesA
#define SecPkgContext_KeyInfo         SecPkgContext_KeyInfoA
#define PSecPkgContext_KeyInfo        PSecPkgContext_KeyInfoA
#define SEC_WINNT_AUTH_IDENTITY_EX    SEC_WINNT_AUTH_IDENTITY_EXA
#define PSEC_WINNT_AUTH_IDENTITY_EX   PSEC_WINNT_AUTH_IDENTITY_EXA
#endif

/* gatehouse extension: with ISC_REQ_EXTENDED_ERROR / ASC_REQ_EXTENDED_ERROR, the
 * text of the last failure on this context (e.g. the GSSAPI minor status), as a
 * NUL-terminated UTF-8 string owned by the context; NULL when there is none. */
#define SECPKG_ATTR_GH_EXTENDED_ERROR 0x47480001UL
typedef struct _SecPkgContext_GhExtendedError {
    const char *Text;
} SecPkgContext_GhExtendedError;

/* gatehouse extension: the last failure on this context (or, with a NULL
 * context handle, the calling thread's last failure), for programs that must
 * tell faults apart (src/auth's reason codes). Every pointer is owned by the
 * library and valid until the next call on the context (thread: the next
 * failing call on the thread); nothing to free.
 *   Status    the SECURITY_STATUS the failing call returned (0: no failure).
 *   Detail    GH_SEC_DETAIL_*: what the package knows beyond Status (0: nothing).
 *   Krb5Error Kerberos (also inside Negotiate): the krb5_error_code, i.e. the
 *             GSS minor status of the krb5 mechanism (KRB5KRB_AP_ERR_BADKEYVER,
 *             KRB5KRB_AP_ERR_REPEAT, ...); 0 when none.
 *   GssMajor  Kerberos: the GSS major status (GSS_S_*); 0 when none.
 *   Package   the package that failed ("Kerberos", "NTLM": for Negotiate the
 *             inner one), or NULL.
 *   Text      the same text as SECPKG_ATTR_GH_EXTENDED_ERROR, or NULL. */
#define SECPKG_ATTR_GH_ERROR_INFO 0x47480002UL
typedef struct _SecPkgContext_GhErrorInfo {
    SECURITY_STATUS Status;
    unsigned long Detail;
    long Krb5Error;
    unsigned long GssMajor;
    const char *Package;
    const char *Text;
} SecPkgContext_GhErrorInfo;

/* SecPkgContext_GhErrorInfo.Detail values:
 *   UNKNOWN_USER      no such account (the peer is told only "denied")
 *   WRONG_PASSWORD    the account exists; the proof does not match
 *   NO_BINDINGS       channel bindings required, the client sent none
 *   BINDINGS_MISMATCH the client's channel bindings are another channel's
 *   TARGET_NAME       the client named another service (NTLM MsvAvTargetName)
 *   NO_TARGET_NAME    a target name is required, the client named none
 *   NO_COMMON_MECH    Negotiate: no mechanism in common with the client */
#define GH_SEC_DETAIL_NONE              0UL
#define GH_SEC_DETAIL_UNKNOWN_USER      1UL
#define GH_SEC_DETAIL_WRONG_PASSWORD    2UL
#define GH_SEC_DETAIL_NO_BINDINGS       3UL
#define GH_SEC_DETAIL_BINDINGS_MISMATCH 4UL
#define GH_SEC_DETAIL_TARGET_NAME       5UL
#define GH_SEC_DETAIL_NO_TARGET_NAME    6UL
#define GH_SEC_DETAIL_NO_COMMON_MECH    7UL
#define GH_SEC_DETAIL_ACCOUNT_DISABLED  8UL /* disabled, locked out or expired account */
#define GH_SEC_DETAIL_PASSWORD_EXPIRED  9UL /* expired, or must be changed at next logon */

/* ==== Schannel (TLS in SSPI tokens) =========================================
 * The "Schannel" package (also found as UNISP_NAME) runs TLS 1.2 / 1.3 with
 * Windows' semantics: handshake records in SECBUFFER_TOKEN, SECBUFFER_EXTRA /
 * SECBUFFER_MISSING / SEC_E_INCOMPLETE_MESSAGE for partial input, records
 * through EncryptMessage / DecryptMessage with STREAM_HEADER, DATA and
 * STREAM_TRAILER. pAuthData of AcquireCredentialsHandle is a SCHANNEL_CRED
 * (dwVersion SCHANNEL_CRED_VERSION) or an SCH_CREDENTIALS (dwVersion
 * SCH_CREDENTIALS_VERSION), or NULL. There are no system certificate stores:
 * a certificate (chain) and its private key come from a PKCS #12 file
 * (PFXImportCertStore) or PEM files (GhCertCreateContextFromPemFiles), trusted
 * roots from a memory store (CertOpenStore, CertAddEncodedCertificateToStore)
 * or a PEM file (GhCertOpenStoreFromPemFile). docs/sspi.md lists every
 * difference. */
#define SCHANNEL_NAME_W ((SEC_WCHAR *)u"Schannel")
#define UNISP_NAME_W    ((SEC_WCHAR *)u"Microsoft Unified Security Protocol Provider")
#ifdef UNICODE
#define SCHANNEL_NAME SCHANNEL_NAME_W
#define UNISP_NAME    UNISP_NAME_W
#else
#define SCHANNEL_NAME SCHANNEL_NAME_A
#define UNISP_NAME    UNISP_NAME_A
#endif

#ifndef GH_NO_WINCRYPT
/* ---- Certificates (the fields of <wincrypt.h> that Schannel code reads) ---- */
typedef void *HCERTSTORE;
typedef unsigned int ALG_ID;

#define X509_ASN_ENCODING   0x00000001UL
#define PKCS_7_ASN_ENCODING 0x00010000UL

typedef struct _CRYPTOAPI_BLOB {
    unsigned long cbData;
    unsigned char *pbData;
} CRYPT_INTEGER_BLOB, *PCRYPT_INTEGER_BLOB, CRYPT_OBJID_BLOB, *PCRYPT_OBJID_BLOB, CRYPT_DATA_BLOB,
    *PCRYPT_DATA_BLOB, CRYPT_HASH_BLOB, *PCRYPT_HASH_BLOB;

typedef struct _CRYPT_BIT_BLOB {
    unsigned long cbData;
    unsigned char *pbData;
    unsigned long cUnusedBits;
} CRYPT_BIT_BLOB, *PCRYPT_BIT_BLOB;

typedef struct _CRYPT_ALGORITHM_IDENTIFIER {
    char *pszObjId;              /* dotted OID, e.g. "1.2.840.113549.1.1.1" */
    CRYPT_OBJID_BLOB Parameters; /* DER of the parameters (may be empty) */
} CRYPT_ALGORITHM_IDENTIFIER, *PCRYPT_ALGORITHM_IDENTIFIER;

typedef struct _CERT_PUBLIC_KEY_INFO {
    CRYPT_ALGORITHM_IDENTIFIER Algorithm;
    CRYPT_BIT_BLOB PublicKey; /* the subjectPublicKey BIT STRING's bytes */
} CERT_PUBLIC_KEY_INFO, *PCERT_PUBLIC_KEY_INFO;

typedef struct _CERT_EXTENSION {
    char *pszObjId;
    int fCritical;
    CRYPT_OBJID_BLOB Value;
} CERT_EXTENSION, *PCERT_EXTENSION;

typedef struct _GH_FILETIME {
    uint32_t dwLowDateTime;
    uint32_t dwHighDateTime;
} GH_FILETIME; /* Windows' FILETIME (UTC, 100 ns since 1601) */
#ifndef GH_NO_WINTYPES
typedef GH_FILETIME FILETIME, *PFILETIME, *LPFILETIME;
#endif

typedef struct _CERT_INFO {
    unsigned long dwVersion;         /* 0, 1 or 2 (v1..v3) */
    CRYPT_INTEGER_BLOB SerialNumber; /* little-endian, as Windows */
    CRYPT_ALGORITHM_IDENTIFIER SignatureAlgorithm;
    CERT_NAME_BLOB Issuer; /* DER Name */
    GH_FILETIME NotBefore;
    GH_FILETIME NotAfter;
    CERT_NAME_BLOB Subject; /* DER Name */
    CERT_PUBLIC_KEY_INFO SubjectPublicKeyInfo;
    CRYPT_BIT_BLOB IssuerUniqueId;  /* always empty here */
    CRYPT_BIT_BLOB SubjectUniqueId; /* always empty here */
    unsigned long cExtension;       /* always 0 here: parse pbCertEncoded */
    PCERT_EXTENSION rgExtension;
} CERT_INFO, *PCERT_INFO;

/* A certificate. pbCertEncoded is the DER certificate; hCertStore is the store
 * it came from: for a context from GhCertCreateContextFromPemFiles, the chain
 * of its file; for SECPKG_ATTR_REMOTE_CERT_CONTEXT, the chain the peer sent.
 * Contexts are reference counted (CertDuplicateCertificateContext /
 * CertFreeCertificateContext) and read-only. */
typedef struct _CERT_CONTEXT {
    unsigned long dwCertEncodingType; /* X509_ASN_ENCODING | PKCS_7_ASN_ENCODING */
    unsigned char *pbCertEncoded;
    unsigned long cbCertEncoded;
    PCERT_INFO pCertInfo;
    HCERTSTORE hCertStore;
} CERT_CONTEXT, *PCERT_CONTEXT;
typedef const CERT_CONTEXT *PCCERT_CONTEXT;
#endif /* GH_NO_WINCRYPT */

/* gatehouse extension, our way to name a certificate and its key (there are
 * no Windows certificate stores): a certificate context from PEM files.
 * pszCertFile holds the certificate, leaf first, optionally followed by its
 * chain (sent to the peer as is). pszKeyFile holds the leaf's private key
 * (PEM, unencrypted); NULL reads the key from pszCertFile too, and a context
 * without a key (no key in the file) serves only as a trust anchor or for
 * comparison. dwFlags must be 0. On SEC_E_OK, *ppCertContext receives a new
 * context the caller releases with CertFreeCertificateContext; put it in
 * SCHANNEL_CRED.paCred / SCH_CREDENTIALS.paCred (the credential takes its own
 * reference). Returns SEC_E_OK; SEC_E_INVALID_PARAMETER (NULL arguments,
 * flags); SEC_E_NO_CREDENTIALS (a file cannot be read, is malformed, or
 * holds no certificate / no key where a key file was named);
 * SEC_E_CERT_UNKNOWN (the key does not match the certificate);
 * SEC_E_INSUFFICIENT_MEMORY. The reason (with the file name) is the calling
 * thread's extended error: QueryContextAttributes(NULL,
 * SECPKG_ATTR_GH_EXTENDED_ERROR, ...). */
GH_API SECURITY_STATUS SEC_ENTRY GhCertCreateContextFromPemFiles(const char *pszCertFile,
                                                                 const char *pszKeyFile,
                                                                 unsigned long dwFlags,
                                                                 PCCERT_CONTEXT *ppCertContext);

/* gatehouse extension: a store of trusted root (CA) certificates read from a
 * PEM file of one or more certificates, for SCHANNEL_CRED.hRootStore /
 * SCH_CREDENTIALS.hRootStore. *phCertStore is released with CertCloseStore;
 * credentials keep their own copy. Returns as GhCertCreateContextFromPemFiles. */
GH_API SECURITY_STATUS SEC_ENTRY GhCertOpenStoreFromPemFile(const char *pszFile,
                                                            HCERTSTORE *phCertStore);

/* Releases one reference to a certificate context (NULL is fine). TRUE. */
GH_API int SEC_ENTRY CertFreeCertificateContext(PCCERT_CONTEXT pCertContext);
/* A new reference to pCertContext (the same pointer), or NULL for NULL. */
GH_API PCCERT_CONTEXT SEC_ENTRY CertDuplicateCertificateContext(PCCERT_CONTEXT pCertContext);
/* Closes a store from GhCertOpenStoreFromPemFile (NULL is fine; dwFlags is
 * ignored). Stores inside certificate contexts belong to them: never close
 * those. TRUE. */
GH_API int SEC_ENTRY CertCloseStore(HCERTSTORE hCertStore, unsigned long dwFlags);
/* Windows' enumeration: the certificate after pPrevCertContext in the store
 * (NULL: the first), or NULL at the end. pPrevCertContext is released by the
 * call, as on Windows; the returned context is released with
 * CertFreeCertificateContext (or by passing it back). */
GH_API PCCERT_CONTEXT SEC_ENTRY CertEnumCertificatesInStore(HCERTSTORE hCertStore,
                                                            PCCERT_CONTEXT pPrevCertContext);

/* A distinguished name (CERT_INFO.Subject / Issuer, DER) as text, the way
 * Windows' CertNameToStr writes it: the RDNs in their encoded order (reversed
 * with CERT_NAME_STR_REVERSE_FLAG), separated by ", " (SEMICOLON_FLAG: "; ",
 * CRLF_FLAG: "\r\n"), multi-valued RDNs joined by " + "; dwStrType
 * CERT_SIMPLE_NAME_STR gives the values only, CERT_OID_NAME_STR "2.5.4.3=v",
 * CERT_X500_NAME_STR "CN=v" with Windows' keys (CN, L, O, OU, C, S, STREET,
 * E, T, G, I, SN, DC, SERIALNUMBER; others "OID.<dotted>"). A value with a
 * separator, quote, leading or trailing space is quoted ("..."), unless
 * CERT_NAME_STR_NO_QUOTING_FLAG. dwCertEncodingType must include
 * X509_ASN_ENCODING. Writes at most csz characters, always NUL-terminated
 * (truncated when short), and returns the characters written including the
 * NUL; with psz NULL or csz 0, the size needed. A name that does not parse
 * gives the empty string and 1, as Windows; so does a value with a NUL inside
 * (it would cut the text short). The A form writes UTF-8, the W form UTF-16. */
#define CERT_SIMPLE_NAME_STR          1UL
#define CERT_OID_NAME_STR             2UL
#define CERT_X500_NAME_STR            3UL
#define CERT_NAME_STR_SEMICOLON_FLAG  0x40000000UL
#define CERT_NAME_STR_NO_PLUS_FLAG    0x20000000UL
#define CERT_NAME_STR_NO_QUOTING_FLAG 0x10000000UL
#define CERT_NAME_STR_CRLF_FLAG       0x08000000UL
#define CERT_NAME_STR_COMMA_FLAG      0x04000000UL
#define CERT_NAME_STR_REVERSE_FLAG    0x02000000UL
GH_API unsigned long SEC_ENTRY CertNameToStrA(unsigned long dwCertEncodingType,
                                              PCERT_NAME_BLOB pName, unsigned long dwStrType,
                                              char *psz, unsigned long csz);
GH_API unsigned long SEC_ENTRY CertNameToStrW(unsigned long dwCertEncodingType,
                                              PCERT_NAME_BLOB pName, unsigned long dwStrType,
                                              SEC_WCHAR *psz, unsigned long csz);
#ifdef UNICODE
#define CertNameToStr CertNameToStrW
#else
#define CertNameToStr CertNameToStrA
#endif

/* Certificate stores, the part Windows code uses to name a certificate and
 * its key without the machine's stores (there are none here):
 *
 * PFXImportCertStore: the certificates of a PKCS #12 (.pfx / .p12) file in
 * memory, as a new store; the one with the private key gives contexts that
 * carry the key (and the store's other certificates as their chain), usable
 * in SCHANNEL_CRED.paCred. szPassword is UTF-16 (u"..." here, L"..." on
 * Windows); NULL or empty tries both empty-password encodings. dwFlags
 * (CRYPT_EXPORTABLE, PKCS12_NO_PERSIST_KEY...) is ignored: keys live in the
 * store's memory. NULL on failure (not PKCS #12, wrong password, a cipher
 * OpenSSL 3 does not load such as RC2: the reason is the thread's extended
 * error, QueryContextAttributes(NULL, SECPKG_ATTR_GH_EXTENDED_ERROR)).
 * Release with CertCloseStore.
 *
 * CertOpenStore: only CERT_STORE_PROV_MEMORY (an empty store, e.g. for trusted
 * roots in hRootStore); any other provider gives NULL. Release with
 * CertCloseStore.
 *
 * CertAddEncodedCertificateToStore: a DER certificate into a store, with
 * Windows' dispositions (ADD_NEW fails, USE_EXISTING / REPLACE_EXISTING keep,
 * an equal certificate already there; ADD_ALWAYS adds); *ppCertContext (may be
 * NULL) receives a new context for it (its pbCertEncoded is the certificate
 * re-encoded as DER, which may differ from BER input). TRUE, or FALSE (not DER, bad arguments,
 * ADD_NEW of a present certificate). A store must not be added to while
 * another thread reads it.
 *
 * CertFindCertificateInStore: the next certificate after pPrevCertContext
 * (released by the call; NULL: from the start) matching dwFindType:
 * CERT_FIND_ANY, CERT_FIND_SUBJECT_STR_A / _W (pvFindPara a string found,
 * case-insensitively, in the subject) or CERT_FIND_HAS_PRIVATE_KEY; NULL at
 * the end or for other find types. Release with CertFreeCertificateContext. */
#define CERT_STORE_PROV_MEMORY          ((const char *)(uintptr_t)2)
#define CERT_STORE_OPEN_EXISTING_FLAG   0x00004000UL
#define CERT_STORE_ADD_NEW              1UL
#define CERT_STORE_ADD_USE_EXISTING     2UL
#define CERT_STORE_ADD_REPLACE_EXISTING 3UL
#define CERT_STORE_ADD_ALWAYS           4UL
#define CERT_FIND_ANY                   0x00000000UL
#define CERT_FIND_SUBJECT_STR_A         0x00070007UL
#define CERT_FIND_SUBJECT_STR_W         0x00080007UL
#define CERT_FIND_HAS_PRIVATE_KEY       0x00150000UL
#define CRYPT_EXPORTABLE                0x00000001UL
#define CRYPT_USER_KEYSET               0x00001000UL
#define PKCS12_NO_PERSIST_KEY           0x00008000UL
#ifdef UNICODE
#define CERT_FIND_SUBJECT_STR CERT_FIND_SUBJECT_STR_W
#else
#define CERT_FIND_SUBJECT_STR CERT_FIND_SUBJECT_STR_A
#endif
GH_API HCERTSTORE SEC_ENTRY PFXImportCertStore(CRYPT_DATA_BLOB *pPFX, const SEC_WCHAR *szPassword,
                                               unsigned long dwFlags);
GH_API HCERTSTORE SEC_ENTRY CertOpenStore(const char *lpszStoreProvider,
                                          unsigned long dwEncodingType, uintptr_t hCryptProv,
                                          unsigned long dwFlags, const void *pvPara);
GH_API int SEC_ENTRY CertAddEncodedCertificateToStore(
    HCERTSTORE hCertStore, unsigned long dwCertEncodingType, const unsigned char *pbCertEncoded,
    unsigned long cbCertEncoded, unsigned long dwAddDisposition, PCCERT_CONTEXT *ppCertContext);
GH_API PCCERT_CONTEXT SEC_ENTRY CertFindCertificateInStore(
    HCERTSTORE hCertStore, unsigned long dwCertEncodingType, unsigned long dwFindFlags,
    unsigned long dwFindType, const void *pvFindPara, PCCERT_CONTEXT pPrevCertContext);

/* ---- Credentials: SCHANNEL_CRED and SCH_CREDENTIALS ------------------------- */
#define SCHANNEL_CRED_VERSION   0x00000004UL
#define SCH_CREDENTIALS_VERSION 0x00000005UL

#define SP_PROT_NONE          0x00000000UL
#define SP_PROT_PCT1_SERVER   0x00000001UL
#define SP_PROT_PCT1_CLIENT   0x00000002UL
#define SP_PROT_SSL2_SERVER   0x00000004UL
#define SP_PROT_SSL2_CLIENT   0x00000008UL
#define SP_PROT_SSL3_SERVER   0x00000010UL
#define SP_PROT_SSL3_CLIENT   0x00000020UL
#define SP_PROT_TLS1_SERVER   0x00000040UL
#define SP_PROT_TLS1_CLIENT   0x00000080UL
#define SP_PROT_TLS1_0_SERVER SP_PROT_TLS1_SERVER
#define SP_PROT_TLS1_0_CLIENT SP_PROT_TLS1_CLIENT
#define SP_PROT_TLS1_1_SERVER 0x00000100UL
#define SP_PROT_TLS1_1_CLIENT 0x00000200UL
#define SP_PROT_TLS1_2_SERVER 0x00000400UL
#define SP_PROT_TLS1_2_CLIENT 0x00000800UL
#define SP_PROT_TLS1_3_SERVER 0x00001000UL
#define SP_PROT_TLS1_3_CLIENT 0x00002000UL
#define SP_PROT_TLS1_0        (SP_PROT_TLS1_0_SERVER | SP_PROT_TLS1_0_CLIENT)
#define SP_PROT_TLS1_1        (SP_PROT_TLS1_1_SERVER | SP_PROT_TLS1_1_CLIENT)
#define SP_PROT_TLS1_2        (SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_2_CLIENT)
#define SP_PROT_TLS1_3        (SP_PROT_TLS1_3_SERVER | SP_PROT_TLS1_3_CLIENT)
#define SP_PROT_ALL           0xFFFFFFFFUL

#define SCH_CRED_NO_SYSTEM_MAPPER                    0x00000002UL
#define SCH_CRED_NO_SERVERNAME_CHECK                 0x00000004UL
#define SCH_CRED_MANUAL_CRED_VALIDATION              0x00000008UL
#define SCH_CRED_NO_DEFAULT_CREDS                    0x00000010UL
#define SCH_CRED_AUTO_CRED_VALIDATION                0x00000020UL
#define SCH_CRED_USE_DEFAULT_CREDS                   0x00000040UL
#define SCH_CRED_DISABLE_RECONNECTS                  0x00000080UL
#define SCH_CRED_REVOCATION_CHECK_END_CERT           0x00000100UL
#define SCH_CRED_REVOCATION_CHECK_CHAIN              0x00000200UL
#define SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT 0x00000400UL
#define SCH_CRED_IGNORE_NO_REVOCATION_CHECK          0x00000800UL
#define SCH_CRED_IGNORE_REVOCATION_OFFLINE           0x00001000UL
#define SCH_CRED_RESTRICTED_ROOTS                    0x00002000UL
#define SCH_CRED_REVOCATION_CHECK_CACHE_ONLY         0x00004000UL
#define SCH_CRED_CACHE_ONLY_URL_RETRIEVAL            0x00008000UL
#define SCH_CRED_MEMORY_STORE_CERT                   0x00010000UL
#define SCH_CRED_CACHE_ONLY_URL_RETRIEVAL_ON_CREATE  0x00020000UL
#define SCH_SEND_ROOT_CERT                           0x00040000UL
#define SCH_CRED_SNI_CREDENTIAL                      0x00080000UL
#define SCH_CRED_SNI_ENABLE_OCSP                     0x00100000UL
#define SCH_SEND_AUX_RECORD                          0x00200000UL
#define SCH_USE_STRONG_CRYPTO                        0x00400000UL
#define SCH_USE_PRESHAREDKEY_ONLY                    0x00800000UL
#define SCH_USE_DTLS_ONLY                            0x01000000UL
#define SCH_ALLOW_NULL_ENCRYPTION                    0x02000000UL
#define SCH_CRED_DEFERRED_CRED_VALIDATION            0x04000000UL

#define SCH_CRED_FORMAT_CERT_CONTEXT 0x00000000UL

struct _HMAPPER;

/* The legacy credential. Read here: cCreds/paCred (at most one certificate:
 * the first), hRootStore (trusted roots, both sides: see docs/sspi.md),
 * grbitEnabledProtocols (SP_PROT_TLS1_2* / SP_PROT_TLS1_3*; 0: both),
 * cSupportedAlgs/palgSupportedAlgs (CALG_* cipher and key-exchange limits),
 * dwMinimumCipherStrength (bits), dwSessionLifespan (ms, client cache; 0:
 * 10 hours) and dwFlags (SCH_CRED_*). Ignored: mappers, dwMaximumCipherStrength. */
typedef struct _SCHANNEL_CRED {
    unsigned long dwVersion; /* SCHANNEL_CRED_VERSION */
    unsigned long cCreds;
    PCCERT_CONTEXT *paCred;
    HCERTSTORE hRootStore;
    unsigned long cMappers;
    struct _HMAPPER **aphMappers;
    unsigned long cSupportedAlgs;
    ALG_ID *palgSupportedAlgs;
    unsigned long grbitEnabledProtocols;
    unsigned long dwMinimumCipherStrength;
    unsigned long dwMaximumCipherStrength;
    unsigned long dwSessionLifespan;
    unsigned long dwFlags;
    unsigned long dwCredFormat;
} SCHANNEL_CRED, *PSCHANNEL_CRED;

typedef struct _GH_UNICODE_STRING {
    unsigned short Length;        /* bytes, without terminator */
    unsigned short MaximumLength; /* bytes */
    SEC_WCHAR *Buffer;
} GH_UNICODE_STRING; /* Windows' UNICODE_STRING */
#ifndef GH_NO_WINTYPES
typedef GH_UNICODE_STRING UNICODE_STRING, *PUNICODE_STRING;
#endif

typedef enum _eTlsAlgorithmUsage {
    TlsParametersCngAlgUsageKeyExchange,
    TlsParametersCngAlgUsageSignature,
    TlsParametersCngAlgUsageCipher,
    TlsParametersCngAlgUsageDigest,
    TlsParametersCngAlgUsageCertSig
} eTlsAlgorithmUsage;

/* A disabled algorithm (SCH_CREDENTIALS). strCngAlgId is a CNG name: for
 * Cipher "AES" (with dwMinBitLength/dwMaxBitLength limiting the key size),
 * "CHACHA20_POLY1305"; for Digest "SHA256", "SHA384"; for KeyExchange "ECDH",
 * "DH", "RSA". Chaining modes are ignored (every suite is AEAD here). */
typedef struct _CRYPTO_SETTINGS {
    eTlsAlgorithmUsage eAlgorithmUsage;
    GH_UNICODE_STRING strCngAlgId;
    unsigned long cChainingModes;
    GH_UNICODE_STRING *rgstrChainingModes;
    unsigned long dwMinBitLength;
    unsigned long dwMaxBitLength;
} CRYPTO_SETTINGS, *PCRYPTO_SETTINGS;

#define TLS_PARAMS_OPTIONAL 0x00000001UL

/* Only the first TLS_PARAMETERS is read; its ALPN ids are ignored. */
typedef struct _TLS_PARAMETERS {
    unsigned long cAlpnIds;
    GH_UNICODE_STRING *rgstrAlpnIds;
    unsigned long grbitDisabledProtocols; /* SP_PROT_*: these are refused */
    unsigned long cDisabledCrypto;
    PCRYPTO_SETTINGS pDisabledCrypto;
    unsigned long dwFlags;
} TLS_PARAMETERS, *PTLS_PARAMETERS;

/* The current credential (Windows 10 1809 and later). */
typedef struct _SCH_CREDENTIALS {
    unsigned long dwVersion; /* SCH_CREDENTIALS_VERSION */
    unsigned long dwCredFormat;
    unsigned long cCreds;
    PCCERT_CONTEXT *paCred;
    HCERTSTORE hRootStore;
    unsigned long cMappers;
    struct _HMAPPER **aphMappers;
    unsigned long dwSessionLifespan;
    unsigned long dwFlags;
    unsigned long cTlsParameters;
    PTLS_PARAMETERS pTlsParameters;
} SCH_CREDENTIALS, *PSCH_CREDENTIALS;

/* ALG_ID values (palgSupportedAlgs, SecPkgContext_ConnectionInfo). */
#define CALG_RSA_KEYX 0x0000a400U
#define CALG_DH_EPHEM 0x0000aa02U
#define CALG_ECDHE    0x0000ae06U
#define CALG_ECDH     0x0000aa05U
#define CALG_AES_128  0x0000660eU
#define CALG_AES_256  0x00006610U
#define CALG_AES      0x00006611U
#define CALG_SHA1     0x00008004U
#define CALG_SHA_256  0x0000800cU
#define CALG_SHA_384  0x0000800dU
#define CALG_SHA_512  0x0000800eU
#define CALG_RSA_SIGN 0x00002400U
#define CALG_ECDSA    0x00002203U
#define CALG_CHACHA20 0x00006612U /* gatehouse: Windows has no CALG for it */

/* ---- Credential attributes (QueryCredentialsAttributes on Schannel) ---------- */
#define SECPKG_ATTR_SUPPORTED_ALGS      0x56
#define SECPKG_ATTR_CIPHER_STRENGTHS    0x57
#define SECPKG_ATTR_SUPPORTED_PROTOCOLS 0x58

/* The CALG_* values the credential may negotiate (ciphers, hashes, key
 * exchanges); palgSupportedAlgs is freed with FreeContextBuffer. */
typedef struct _SecPkgCred_SupportedAlgs {
    unsigned long cSupportedAlgs;
    ALG_ID *palgSupportedAlgs;
} SecPkgCred_SupportedAlgs, *PSecPkgCred_SupportedAlgs;

/* Bits of the weakest and strongest cipher the credential allows. */
typedef struct _SecPkgCred_CipherStrengths {
    unsigned long dwMinimumCipherStrength;
    unsigned long dwMaximumCipherStrength;
} SecPkgCred_CipherStrengths, *PSecPkgCred_CipherStrengths;

/* SP_PROT_* of the protocols enabled (the _CLIENT or _SERVER bits of its side). */
typedef struct _SecPkgCred_SupportedProtocols {
    unsigned long grbitProtocol;
} SecPkgCred_SupportedProtocols, *PSecPkgCred_SupportedProtocols;

/* ---- Context attributes ------------------------------------------------------ */
/* SECPKG_ATTR_CONNECTION_INFO. dwProtocol is SP_PROT_TLS1_2_CLIENT/_SERVER... */
typedef struct _SecPkgContext_ConnectionInfo {
    unsigned long dwProtocol;
    ALG_ID aiCipher;
    unsigned long dwCipherStrength;
    ALG_ID aiHash;
    unsigned long dwHashStrength;
    ALG_ID aiExch;
    unsigned long dwExchStrength;
} SecPkgContext_ConnectionInfo, *PSecPkgContext_ConnectionInfo;

/* SECPKG_ATTR_SESSION_INFO: whether the handshake resumed a cached session
 * (dwFlags SSL_SESSION_RECONNECT) and the session id (empty for TLS 1.3). */
#define SECPKG_ATTR_SESSION_INFO 0x5d
#define SSL_SESSION_RECONNECT    1
typedef struct _SecPkgContext_SessionInfo {
    unsigned long dwFlags;
    unsigned long cbSessionId;
    unsigned char rgbSessionId[32];
} SecPkgContext_SessionInfo, *PSecPkgContext_SessionInfo;

/* SECPKG_ATTR_CIPHER_INFO (Windows Vista and later): the suite by its IANA
 * number (dwCipherSuite, e.g. 0x1301 TLS_AES_128_GCM_SHA256) and its IANA name,
 * and CNG names of its parts: szCipher "AES" / "CHACHA20_POLY1305", szHash
 * "SHA256" / "SHA384", szExchange "ECDH" / "DH" (TLS 1.3: the group's family),
 * szCertificate "RSA" / "ECDSA" / "EdDSA" (the server certificate's key).
 * dwProtocol is the TLS version number (0x0303, 0x0304) as Windows gives it;
 * dwBaseCipherSuite equals dwCipherSuite; dwKeyType is 0 (CNG key types do not
 * exist here). Strings are UTF-16 and NUL-terminated. */
#define SZ_ALG_MAX_SIZE             64
#define SECPKGCONTEXT_CIPHERINFO_V1 1
typedef struct _SecPkgContext_CipherInfo {
    unsigned long dwVersion; /* SECPKGCONTEXT_CIPHERINFO_V1 */
    unsigned long dwProtocol;
    unsigned long dwCipherSuite;
    unsigned long dwBaseCipherSuite;
    SEC_WCHAR szCipherSuite[SZ_ALG_MAX_SIZE];
    SEC_WCHAR szCipher[SZ_ALG_MAX_SIZE];
    unsigned long dwCipherLen; /* bits */
    unsigned long dwCipherBlockLen;
    SEC_WCHAR szHash[SZ_ALG_MAX_SIZE];
    unsigned long dwHashLen; /* bits */
    SEC_WCHAR szExchange[SZ_ALG_MAX_SIZE];
    unsigned long dwMinExchangeLen;
    unsigned long dwMaxExchangeLen;
    SEC_WCHAR szCertificate[SZ_ALG_MAX_SIZE];
    unsigned long dwKeyType;
} SecPkgContext_CipherInfo, *PSecPkgContext_CipherInfo;

/* Application protocols (ALPN, RFC 7301). A client offers them, and a server
 * states the ones it accepts (in its order of preference), with a
 * SECBUFFER_APPLICATION_PROTOCOLS input buffer on the first
 * InitializeSecurityContext / AcceptSecurityContext call: a
 * SEC_APPLICATION_PROTOCOLS whose ProtocolListsSize counts the bytes of the
 * lists that follow it; each list is ProtoNegoExt, ProtocolListSize and that
 * many bytes of ALPN wire format (each id: one length byte, then the id).
 * Lists follow each other without padding. Only ALPN lists are read (NPN is
 * ignored, as Windows does since 8.1). SECPKG_ATTR_APPLICATION_PROTOCOL then
 * gives the outcome: status Success with the chosen id, or None. */
#define MAX_PROTOCOL_ID_SIZE 0xff
typedef enum _SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT {
    SecApplicationProtocolNegotiationExt_None,
    SecApplicationProtocolNegotiationExt_NPN,
    SecApplicationProtocolNegotiationExt_ALPN
} SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT, *PSEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT;

typedef struct _SEC_APPLICATION_PROTOCOL_LIST {
    SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ProtoNegoExt;
    unsigned short ProtocolListSize; /* bytes of ProtocolList */
    unsigned char ProtocolList[1];
} SEC_APPLICATION_PROTOCOL_LIST, *PSEC_APPLICATION_PROTOCOL_LIST;

typedef struct _SEC_APPLICATION_PROTOCOLS {
    unsigned long ProtocolListsSize; /* bytes of ProtocolLists */
    SEC_APPLICATION_PROTOCOL_LIST ProtocolLists[1];
} SEC_APPLICATION_PROTOCOLS, *PSEC_APPLICATION_PROTOCOLS;

typedef enum _SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS {
    SecApplicationProtocolNegotiationStatus_None,
    SecApplicationProtocolNegotiationStatus_Success,
    SecApplicationProtocolNegotiationStatus_SelectedClientOnly
} SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS, *PSEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS;

typedef struct _SecPkgContext_ApplicationProtocol {
    SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS ProtoNegoStatus;
    SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT ProtoNegoExt;
    unsigned char ProtocolIdSize;
    unsigned char ProtocolId[MAX_PROTOCOL_ID_SIZE];
} SecPkgContext_ApplicationProtocol, *PSecPkgContext_ApplicationProtocol;

/* SECPKG_ATTR_REMOTE_CERT_CONTEXT / SECPKG_ATTR_LOCAL_CERT_CONTEXT fill a
 * PCCERT_CONTEXT (the buffer is a PCCERT_CONTEXT *): a new reference the
 * caller releases with CertFreeCertificateContext; SEC_E_NO_CREDENTIALS when
 * there is none (no peer certificate / none sent). ENDPOINT_BINDINGS
 * (tls-server-end-point, RFC 5929) and UNIQUE_BINDINGS (tls-unique, TLS 1.2
 * only: SEC_E_UNSUPPORTED_FUNCTION on TLS 1.3) fill a SecPkgContext_Bindings. */

/* ApplyControlToken: a SECBUFFER_TOKEN input holding this DWORD (4 bytes,
 * host order). After SCHANNEL_SHUTDOWN, the next InitializeSecurityContext /
 * AcceptSecurityContext on the context returns SEC_E_OK with the close_notify
 * alert in its output token, to be sent to the peer. */
#define SCHANNEL_RENEGOTIATE 0
#define SCHANNEL_SHUTDOWN    1
#define SCHANNEL_ALERT       2
#define SCHANNEL_SESSION     3

/* ==== CredSSP (MS-CSSP) ======================================================
 * The "CREDSSP" package (CREDSSP_NAME) runs MS-CSSP versions 2 to 6: TLS
 * through the Schannel package, then SPNEGO (Kerberos or NTLM, through the
 * Negotiate package) or raw NTLM inside it, the public-key binding, and the
 * delegation of the client's credentials (TSCredentials) to the server.
 * Tokens are the TLS records exchanged with the peer (RDP sends them bare on
 * the socket, WS-Management in `Authorization: CredSSP <base64>`).
 * pAuthData of AcquireCredentialsHandle is a CREDSSP_CRED (or CREDSSP_CRED_EX
 * with Type CredsspCredEx). docs/sspi.md lists every difference from Windows. */
#define CREDSSP_NAME_W ((SEC_WCHAR *)u"CREDSSP")

typedef enum _CREDSSP_SUBMIT_TYPE {
    CredsspPasswordCreds = 2,
    CredsspSchannelCreds = 4,
    CredsspCertificateCreds = 13,
    CredsspSubmitBufferBoth = 50,
    CredsspSubmitBufferBothOld = 51,
    CredsspCredEx = 100,
} CREDSPP_SUBMIT_TYPE; /* sic: Windows' spelling */

/* Type is CredsspSubmitBufferBoth (or ...Old): pSchannelCred is a
 * SCHANNEL_CRED / SCH_CREDENTIALS for the Schannel package (the server's
 * certificate on the acceptor; NULL is fine on the initiator), pSpnegoCred is
 * what AcquireCredentialsHandle of Negotiate takes: a SEC_WINNT_AUTH_IDENTITY
 * (A or W) on the initiator (NULL: the default credentials, e.g. a Kerberos
 * ccache; nothing can be delegated then), a GH_ACCEPTOR_AUTH_DATA (or NULL)
 * on the acceptor. CredsspPasswordCreds: pSpnegoCred only. Other types are
 * SEC_E_UNSUPPORTED_FUNCTION. */
typedef struct _CREDSSP_CRED {
    CREDSPP_SUBMIT_TYPE Type;
    void *pSchannelCred;
    void *pSpnegoCred;
} CREDSSP_CRED, *PCREDSSP_CRED;

#define CREDSSP_CRED_EX_VERSION 0
#define CREDSSP_FLAG_REDIRECT   0x00000001UL /* Remote Guard: refused here */
/* gatehouse policy flags of CREDSSP_CRED_EX.Flags (Windows has group policies):
 * NO_NTLM_DELEGATION: the initiator never delegates credentials when the inner
 * authentication was NTLM (no mutual authentication of the server by the
 * domain), InitializeSecurityContext fails with SEC_E_POLICY_NLTM_ONLY;
 * RAW_NTLM: the initiator sends raw NTLM tokens (as FreeRDP) instead of SPNEGO;
 * NO_DELEGATION: the acceptor refuses delegated credentials (an authInfo
 * carrying a non-empty credential fails with SEC_E_DELEGATION_POLICY) and the
 * initiator refuses ISC_REQ_DELEGATE with SEC_E_DELEGATION_POLICY. */
#define GH_CREDSSP_FLAG_NO_NTLM_DELEGATION 0x00010000UL
#define GH_CREDSSP_FLAG_RAW_NTLM           0x00020000UL
#define GH_CREDSSP_FLAG_NO_DELEGATION      0x00040000UL

typedef struct _CREDSSP_CRED_EX {
    CREDSPP_SUBMIT_TYPE Type; /* CredsspCredEx */
    unsigned long Version;    /* CREDSSP_CRED_EX_VERSION */
    unsigned long Flags;      /* CREDSSP_FLAG_* and GH_CREDSSP_FLAG_* */
    unsigned long Reserved;
    CREDSSP_CRED Cred;
} CREDSSP_CRED_EX, *PCREDSSP_CRED_EX;

/* gatehouse extension (Windows puts delegated credentials into the server's
 * logon session instead): on a complete acceptor context,
 * QueryContextAttributes fills a SecPkgContext_GhDelegatedCredentials. For
 * password credentials (CredType 1) Identity is a SEC_WINNT_AUTH_IDENTITY_A in
 * UTF-8 that AcquireCredentialsHandle takes as it is (e.g. NTLM or Kerberos
 * toward a backend); its strings belong to the context, stay valid until
 * DeleteSecurityContext and are wiped then. An empty credential set (the
 * client did not ask for delegation) has User, Domain and Password of length
 * 0. Smart card and Remote Guard credentials are refused by the acceptor.
 * SEC_E_NO_CREDENTIALS before the credentials arrived;
 * SEC_E_UNSUPPORTED_FUNCTION on an initiator. */
#define SECPKG_ATTR_GH_DELEGATED_CREDENTIALS 0x47480C01UL
typedef struct _SecPkgContext_GhDelegatedCredentials {
    unsigned long CredType; /* 1: password (TSPasswordCreds) */
    unsigned long Version;  /* the MS-CSSP version used with the peer (2..6) */
    SEC_WINNT_AUTH_IDENTITY_A Identity;
} SecPkgContext_GhDelegatedCredentials, *PSecPkgContext_GhDelegatedCredentials;
/* ==== end of CredSSP ======================================================== */

#ifdef __cplusplus
}
#endif
#endif
