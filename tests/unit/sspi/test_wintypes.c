// SPDX-License-Identifier: MIT
// <gatehouse/wintypes.h> and the porting names of <gatehouse/sspi.h>: Windows
// sizes where the ABI allows them, the documented LP64 choice for the long
// family, CloseHandle on access tokens, the handle macros, and the W forms the
// UNICODE mapping names (docs/sspi.md, "Porting from Windows").
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "harness/check.h"
#include "sspi/token_internal.h"

/* Windows sizes. */
_Static_assert(sizeof(BYTE) == 1 && sizeof(UCHAR) == 1 && sizeof(CHAR) == 1, "8-bit types");
_Static_assert(sizeof(BOOLEAN) == 1, "BOOLEAN is a byte");
_Static_assert(sizeof(USHORT) == 2 && sizeof(WORD) == 2 && sizeof(WCHAR) == 2, "16-bit types");
_Static_assert(sizeof(WCHAR) == sizeof(SEC_WCHAR), "WCHAR is SEC_WCHAR (UTF-16)");
_Static_assert(sizeof(INT) == 4 && sizeof(UINT) == 4 && sizeof(BOOL) == 4, "32-bit types");
_Static_assert(sizeof(UINT32) == 4 && sizeof(DWORD32) == 4 && sizeof(ULONG32) == 4, "fixed");
_Static_assert(sizeof(ULONGLONG) == 8 && sizeof(LONGLONG) == 8 && sizeof(DWORD64) == 8, "64");
_Static_assert(sizeof(LUID) == 8 && sizeof(LARGE_INTEGER) == 8, "LUID, LARGE_INTEGER");
_Static_assert(sizeof(HANDLE) == sizeof(void *) && sizeof(ULONG_PTR) == sizeof(void *), "ptrs");
/* The long family is C's long, because the SSPI prototypes take unsigned long
 * (the documented LP64 difference): both must be the very same type. */
_Static_assert(_Generic((ULONG *)0, unsigned long * : 1, default : 0), "ULONG is unsigned long");
_Static_assert(_Generic((DWORD *)0, unsigned long * : 1, default : 0), "DWORD is unsigned long");
_Static_assert(_Generic((LONG *)0, long * : 1, default : 0), "LONG is long");
_Static_assert(sizeof(TCHAR) == 1, "TCHAR is char without UNICODE");
/* HRESULT is 32 bits as on Windows, and FAILED / SUCCEEDED read a
 * SECURITY_STATUS (the Schannel samples test handshake results with them). */
_Static_assert(sizeof(HRESULT) == 4, "HRESULT is 32 bits");
_Static_assert(FAILED(SEC_E_UNTRUSTED_ROOT) && FAILED(SEC_E_INCOMPLETE_MESSAGE), "failures");
_Static_assert(SUCCEEDED(SEC_E_OK) && SUCCEEDED(SEC_I_CONTINUE_NEEDED) &&
                   SUCCEEDED(SEC_I_RENEGOTIATE) && !FAILED(SEC_I_CONTEXT_EXPIRED),
               "successes");
/* The names Windows code spells in SCH_CREDENTIALS and CERT_INFO. */
_Static_assert(_Generic((UNICODE_STRING *)0, GH_UNICODE_STRING * : 1, default : 0),
               "UNICODE_STRING");
_Static_assert(_Generic((FILETIME *)0, GH_FILETIME * : 1, default : 0), "FILETIME");
_Static_assert(_Generic((SEC_WINNT_AUTH_IDENTITY_EX *)0, SEC_WINNT_AUTH_IDENTITY_EXA * : 1,
                        default : 0),
               "SEC_WINNT_AUTH_IDENTITY_EX is the A form without UNICODE");
/* Windows' values of the porting constants the samples use. */
_Static_assert(SECPKG_ATTR_CIPHER_INFO == 0x64 && SECPKG_ATTR_APPLICATION_PROTOCOL == 35 &&
                   SEC_WINNT_AUTH_IDENTITY_VERSION == 0x200 && SZ_ALG_MAX_SIZE == 64 &&
                   MAX_PROTOCOL_ID_SIZE == 0xff && SECBUFFER_APPLICATION_PROTOCOLS == 18,
               "Windows values");
_Static_assert(CERT_X500_NAME_STR == 3 && CERT_NAME_STR_REVERSE_FLAG == 0x02000000UL,
               "CertNameToStr values");

static void
test_handles(void)
{
    CtxtHandle h = {1, 2};

    CHECK(SecIsValidHandle(&h));
    SecInvalidateHandle(&h);
    CHECK(!SecIsValidHandle(&h));
    CHECK(SEC_SUCCESS(SEC_E_OK));
    CHECK(SEC_SUCCESS(SEC_I_CONTINUE_NEEDED));
    CHECK(!SEC_SUCCESS(SEC_E_LOGON_DENIED));
}

static void
test_close_handle(void)
{
    struct sspi_token_info info = {.user = "alice", .domain = "CORP", .package = "NTLM"};
    gh_token *t = NULL;
    alignas(8) uint32_t not_a_token[32] = {0};

    CHECK_EQ(CloseHandle(NULL), FALSE);
    CHECK_EQ(CloseHandle(INVALID_HANDLE_VALUE), FALSE);
    CHECK_EQ(CloseHandle((HANDLE)not_a_token), FALSE); /* left alone, not freed */
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    /* Two references: CloseHandle releases one, the token stays usable. */
    HANDLE h = gh_token_dup(t);
    CHECK_EQ(CloseHandle(h), TRUE);
    CHECK_STR_EQ(gh_token_user(t), "alice");
    /* The last reference: freed (ASan reports a leak otherwise). */
    CHECK_EQ(CloseHandle((HANDLE)t), TRUE);
}

static void
test_wide_names(void)
{
    PSecPkgInfoW info = NULL;
    SecBuffer packed = {4, SECBUFFER_EMPTY, "junk"};
    CtxtHandle h;

    CHECK_EQ(QuerySecurityPackageInfoW(NTLMSP_NAME_W, &info), SEC_E_OK);
    CHECK(info != NULL && info->Name != NULL && info->Name[0] == 'N' && info->Name[4] == 0);
    FreeContextBuffer(info);
    CHECK_EQ(QuerySecurityPackageInfoW(NEGOSSP_NAME_W, &info), SEC_E_OK);
    FreeContextBuffer(info);
    /* ImportSecurityContextW: the W name reaches the same checks as the A one. */
    CHECK_EQ(ImportSecurityContextW((SEC_WCHAR *)u"NoSuchPackage", &packed, NULL, &h),
             SEC_E_SECPKG_NOT_FOUND);
    CHECK_EQ(ImportSecurityContextW(NTLMSP_NAME_W, &packed, NULL, &h), SEC_E_INVALID_TOKEN);
    CHECK_EQ(ImportSecurityContextW(NULL, &packed, NULL, &h), SEC_E_INVALID_TOKEN);
    /* The unsuffixed names follow UNICODE (not defined here: the A forms). */
    CHECK(strcmp(NTLMSP_NAME, "NTLM") == 0);
    CHECK(strcmp(NEGOSSP_NAME, "Negotiate") == 0);
    CHECK(ImportSecurityContext == ImportSecurityContextA);
    CHECK(sizeof(SecurityFunctionTable) == sizeof(SecurityFunctionTableA));
}

int
main(void)
{
    test_handles();
    test_close_handle();
    test_wide_names();
    return check_done("sspi/wintypes");
}
