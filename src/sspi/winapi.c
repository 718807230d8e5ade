// SPDX-License-Identifier: MIT
// The Windows base functions SSPI programs call around the package's
// (wintypes.h): the thread's last error (GetLastError / SetLastError) and
// GetUserName, which Microsoft's SSPI server samples call between
// ImpersonateSecurityContext and RevertSecurityContext to show whom the thread
// now acts for, and OpenThreadToken, which gives the token it acts with.
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/error.h>
#include <gatehouse/token.h>
#include <gatehouse/wintypes.h>

#include "sspi/token_internal.h"
#include "sspi/wide.h"

static _Thread_local DWORD last_error;

DWORD WINAPI
GetLastError(void)
{
    return last_error;
}

void WINAPI
SetLastError(DWORD dwErrCode)
{
    last_error = dwErrCode;
}

/* The calling thread's user: the impersonated account, else the account of
 * the process's effective uid. ERROR_SUCCESS with name[0, cap), or a Windows
 * error code. */
static DWORD
thread_user(char *name, size_t cap)
{
    const char *imp = sspi_token_impersonated_user();
    struct passwd pw, *found = NULL;
    char buf[4096];

    if (imp != NULL) {
        snprintf(name, cap, "%s", imp);
        return ERROR_SUCCESS;
    }
    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
        return ERROR_NONE_MAPPED; /* a uid without an account */
    snprintf(name, cap, "%s", found->pw_name);
    return ERROR_SUCCESS;
}

BOOL WINAPI
GetUserNameA(LPSTR lpBuffer, LPDWORD pcbBuffer)
{
    char name[UNLEN + 1];
    DWORD err = pcbBuffer == NULL ? ERROR_INVALID_PARAMETER : thread_user(name, sizeof(name));

    if (err != ERROR_SUCCESS) {
        SetLastError(err);
        return FALSE;
    }
    DWORD need = (DWORD)strlen(name) + 1; /* characters, the terminator included */
    if (lpBuffer == NULL || *pcbBuffer < need) {
        *pcbBuffer = need;
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
        return FALSE;
    }
    memcpy(lpBuffer, name, need);
    *pcbBuffer = need;
    return TRUE;
}

BOOL WINAPI
GetUserNameW(LPWSTR lpBuffer, LPDWORD pcbBuffer)
{
    char name[UNLEN + 1];
    uint16_t *wide = NULL;
    size_t units = 0;
    DWORD err = pcbBuffer == NULL ? ERROR_INVALID_PARAMETER : thread_user(name, sizeof(name));

    if (err == ERROR_SUCCESS && wide_from_utf8(name, strlen(name), malloc, &wide, &units) != GH_OK)
        err = ERROR_NOT_ENOUGH_MEMORY; /* or a name that is not UTF-8 */
    if (err != ERROR_SUCCESS) {
        SetLastError(err);
        return FALSE;
    }
    DWORD need = (DWORD)units + 1;
    BOOL ok = lpBuffer != NULL && *pcbBuffer >= need;
    if (ok)
        memcpy(lpBuffer, wide, need * sizeof(uint16_t));
    else
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
    *pcbBuffer = need;
    free(wide);
    return ok;
}

/* Windows' pseudo-handle for the current thread, (HANDLE)-2. */
#define CURRENT_THREAD ((HANDLE)(LONG_PTR)-2)

HANDLE WINAPI
GetCurrentThread(void)
{
    return CURRENT_THREAD;
}

BOOL WINAPI
OpenThreadToken(HANDLE ThreadHandle, DWORD DesiredAccess, BOOL OpenAsSelf, PHANDLE TokenHandle)
{
    gh_token *t = sspi_token_impersonated();
    DWORD err = ERROR_SUCCESS;

    (void)DesiredAccess;
    (void)OpenAsSelf;
    if (TokenHandle == NULL)
        err = ERROR_INVALID_PARAMETER;
    else if (ThreadHandle != CURRENT_THREAD)
        err = ERROR_INVALID_HANDLE;
    else if (t == NULL)
        err = ERROR_NO_TOKEN;
    if (err != ERROR_SUCCESS) {
        SetLastError(err);
        return FALSE;
    }
    *TokenHandle = gh_token_dup(t);
    return TRUE;
}
