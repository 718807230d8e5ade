// SPDX-License-Identifier: MIT
// LookupAccountSid and LookupAccountName (wintypes.h) over the account
// database of accounts.c: the Windows argument conventions (the two-call
// pattern, sizes in TCHARs, the errors) on top of one lookup each way.
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>
#include <gatehouse/wintypes.h>

#include "sspi/accounts.h"
#include "sspi/sid.h"
#include "sspi/wide.h"

/* The longest account name accepted: "domain\name", both at their maximum. */
#define ACCOUNT_NAME_MAX (2 * ACCOUNT_FIELD_MAX)

/* A string to hand out, in the caller's encoding: UTF-8 bytes (A) or UTF-16
 * units (W), with its length in units, the terminator excluded. */
struct tstring {
    const void *text;
    size_t units;
};

/* The two-call pattern for two strings: both written with their
 * terminators, the counts set to their lengths, when both fit; else the
 * counts set to the sizes needed (terminators included) and
 * ERROR_INSUFFICIENT_BUFFER. unit: 1 (A) or 2 (W). */
static DWORD
put_strings(size_t unit, struct tstring a, void *a_buf, LPDWORD a_cch, struct tstring b,
            void *b_buf, LPDWORD b_cch)
{
    bool a_fits = a_buf != NULL && *a_cch > a.units;
    bool b_fits = b_buf != NULL && *b_cch > b.units;

    if (!a_fits || !b_fits) {
        *a_cch = (DWORD)a.units + 1;
        *b_cch = (DWORD)b.units + 1;
        return ERROR_INSUFFICIENT_BUFFER;
    }
    memcpy(a_buf, a.text, (a.units + 1) * unit);
    memcpy(b_buf, b.text, (b.units + 1) * unit);
    *a_cch = (DWORD)a.units;
    *b_cch = (DWORD)b.units;
    return ERROR_SUCCESS;
}

static BOOL
finish(DWORD err)
{
    if (err != ERROR_SUCCESS) {
        SetLastError(err);
        return FALSE;
    }
    return TRUE;
}

/* What both forms of LookupAccountSid check and look up. */
static DWORD
lookup_sid(bool is_local, PSID Sid, LPDWORD cchName, LPDWORD cchReferencedDomainName,
           PSID_NAME_USE peUse, struct account *out)
{
    struct sid sid;

    if (cchName == NULL || cchReferencedDomainName == NULL || peUse == NULL)
        return ERROR_INVALID_PARAMETER;
    if (!sid_from_binary(Sid, &sid))
        return ERROR_INVALID_SID;
    /* No other machine's database is reachable from here: Windows' answer
     * for a machine it cannot reach. */
    if (!is_local)
        return RPC_S_SERVER_UNAVAILABLE;
    return accounts_by_sid(&sid, out) ? ERROR_SUCCESS : ERROR_NONE_MAPPED;
}

BOOL WINAPI
LookupAccountSidA(LPCSTR lpSystemName, PSID Sid, LPSTR Name, LPDWORD cchName,
                  LPSTR ReferencedDomainName, LPDWORD cchReferencedDomainName, PSID_NAME_USE peUse)
{
    struct account acct;
    DWORD err = lookup_sid(lpSystemName == NULL || lpSystemName[0] == '\0', Sid, cchName,
                           cchReferencedDomainName, peUse, &acct);

    if (err == ERROR_SUCCESS) {
        struct tstring name = {acct.name, strlen(acct.name)};
        struct tstring domain = {acct.domain, strlen(acct.domain)};
        err = put_strings(1, name, Name, cchName, domain, ReferencedDomainName,
                          cchReferencedDomainName);
    }
    if (err == ERROR_SUCCESS)
        *peUse = (SID_NAME_USE)acct.use;
    return finish(err);
}

BOOL WINAPI
LookupAccountSidW(LPCWSTR lpSystemName, PSID Sid, LPWSTR Name, LPDWORD cchName,
                  LPWSTR ReferencedDomainName, LPDWORD cchReferencedDomainName, PSID_NAME_USE peUse)
{
    struct account acct;
    uint16_t *name16 = NULL, *domain16 = NULL;
    size_t name_units = 0, domain_units = 0;
    DWORD err = lookup_sid(lpSystemName == NULL || lpSystemName[0] == 0, Sid, cchName,
                           cchReferencedDomainName, peUse, &acct);

    if (err == ERROR_SUCCESS &&
        (wide_from_utf8(acct.name, strlen(acct.name), malloc, &name16, &name_units) != GH_OK ||
         wide_from_utf8(acct.domain, strlen(acct.domain), malloc, &domain16, &domain_units) !=
             GH_OK))
        err = ERROR_NOT_ENOUGH_MEMORY; /* or a name NSS gave that is not UTF-8 */
    if (err == ERROR_SUCCESS) {
        struct tstring name = {name16, name_units}, domain = {domain16, domain_units};
        err = put_strings(2, name, Name, cchName, domain, ReferencedDomainName,
                          cchReferencedDomainName);
    }
    if (err == ERROR_SUCCESS)
        *peUse = (SID_NAME_USE)acct.use;
    free(name16);
    free(domain16);
    return finish(err);
}

/* "DOMAIN\name", "name@dns.domain" or "name" (text is cut in place); then the
 * lookup. */
static DWORD
lookup_name(char *text, struct account *out)
{
    char *sep = strchr(text, '\\');
    char *at = strrchr(text, '@');
    const char *domain = NULL, *name = text;

    if (sep != NULL) {
        *sep = '\0';
        domain = text[0] != '\0' ? text : NULL;
        name = sep + 1;
    } else if (at != NULL && at != text) {
        *at = '\0';
        domain = at + 1;
    }
    return accounts_by_name(domain, name, out) ? ERROR_SUCCESS : ERROR_NONE_MAPPED;
}

/* The SID buffer and the domain buffer, the two-call way (the SID in bytes). */
static DWORD
put_sid_and_domain(const struct account *acct, PSID Sid, LPDWORD cbSid, size_t unit,
                   struct tstring domain, void *domain_buf, LPDWORD cch_domain)
{
    size_t sid_len = sid_binary_len(&acct->sid);
    bool sid_fits = Sid != NULL && *cbSid >= sid_len;
    bool domain_fits = domain_buf != NULL && *cch_domain > domain.units;

    if (!sid_fits || !domain_fits) {
        *cbSid = (DWORD)sid_len;
        *cch_domain = (DWORD)domain.units + 1;
        return ERROR_INSUFFICIENT_BUFFER;
    }
    sid_to_binary(&acct->sid, Sid);
    memcpy(domain_buf, domain.text, (domain.units + 1) * unit);
    *cbSid = (DWORD)sid_len;
    *cch_domain = (DWORD)domain.units;
    return ERROR_SUCCESS;
}

static DWORD
check_name_args(bool is_local, bool has_name, LPDWORD cbSid, LPDWORD cchReferencedDomainName,
                PSID_NAME_USE peUse)
{
    if (!has_name || cbSid == NULL || cchReferencedDomainName == NULL || peUse == NULL)
        return ERROR_INVALID_PARAMETER;
    return is_local ? ERROR_SUCCESS : RPC_S_SERVER_UNAVAILABLE;
}

BOOL WINAPI
LookupAccountNameA(LPCSTR lpSystemName, LPCSTR lpAccountName, PSID Sid, LPDWORD cbSid,
                   LPSTR ReferencedDomainName, LPDWORD cchReferencedDomainName, PSID_NAME_USE peUse)
{
    struct account acct;
    char text[ACCOUNT_NAME_MAX + 1];
    DWORD err = check_name_args(lpSystemName == NULL || lpSystemName[0] == '\0',
                                lpAccountName != NULL && lpAccountName[0] != '\0', cbSid,
                                cchReferencedDomainName, peUse);

    if (err == ERROR_SUCCESS && strnlen(lpAccountName, sizeof(text)) == sizeof(text))
        err = ERROR_NONE_MAPPED; /* longer than any account's name */
    if (err == ERROR_SUCCESS) {
        memcpy(text, lpAccountName, strlen(lpAccountName) + 1);
        err = lookup_name(text, &acct);
    }
    if (err == ERROR_SUCCESS) {
        struct tstring domain = {acct.domain, strlen(acct.domain)};
        err = put_sid_and_domain(&acct, Sid, cbSid, 1, domain, ReferencedDomainName,
                                 cchReferencedDomainName);
    }
    if (err == ERROR_SUCCESS)
        *peUse = (SID_NAME_USE)acct.use;
    return finish(err);
}

BOOL WINAPI
LookupAccountNameW(LPCWSTR lpSystemName, LPCWSTR lpAccountName, PSID Sid, LPDWORD cbSid,
                   LPWSTR ReferencedDomainName, LPDWORD cchReferencedDomainName,
                   PSID_NAME_USE peUse)
{
    struct account acct;
    char *text = NULL;
    uint16_t *domain16 = NULL;
    size_t units = 0;
    DWORD err = check_name_args(lpSystemName == NULL || lpSystemName[0] == 0,
                                lpAccountName != NULL && lpAccountName[0] != 0, cbSid,
                                cchReferencedDomainName, peUse);

    if (err == ERROR_SUCCESS && wide_strlen(lpAccountName, ACCOUNT_NAME_MAX, &units) != GH_OK)
        err = ERROR_NONE_MAPPED; /* longer than any account's name */
    if (err == ERROR_SUCCESS) {
        int rc = wide_to_utf8(lpAccountName, units, &text, NULL);
        if (rc != GH_OK)
            err = rc == GH_ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_NONE_MAPPED;
    }
    if (err == ERROR_SUCCESS)
        err = lookup_name(text, &acct);
    if (err == ERROR_SUCCESS &&
        wide_from_utf8(acct.domain, strlen(acct.domain), malloc, &domain16, &units) != GH_OK)
        err = ERROR_NOT_ENOUGH_MEMORY;
    if (err == ERROR_SUCCESS) {
        struct tstring domain = {domain16, units};
        err = put_sid_and_domain(&acct, Sid, cbSid, 2, domain, ReferencedDomainName,
                                 cchReferencedDomainName);
    }
    if (err == ERROR_SUCCESS)
        *peUse = (SID_NAME_USE)acct.use;
    free(text);
    free(domain16);
    return finish(err);
}
