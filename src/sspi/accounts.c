// SPDX-License-Identifier: MIT
// The account database behind LookupAccountSid / LookupAccountName: the
// well-known SIDs' table and Samba's Unix SIDs over NSS here, the live
// tokens in token.c, winbindd in sid_names.c (accounts.h gives the order).
#include "sspi/accounts.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/wintypes.h>

#include "sspi/sid_names.h"
#include "sspi/token_internal.h"

#define NSS_BUF_START 4096
#define NSS_BUF_MAX   (1024 * 1024) /* a group with ~50k members */

/* Windows' names (English) for the well-known SIDs a token or an ACL may
 * carry (MS-DTYP 2.4.2.4): what LookupAccountSid answers on Windows, domain
 * "" where Windows gives none. Identity SIDs such as S-1-18-1 come in a PAC's
 * ExtraSids; the others appear in code ported from Windows that builds SIDs
 * to compare with. */
static const struct well_known {
    const char *sid, *domain, *name;
    int use;
} well_known[] = {
    {"S-1-0-0", "", "NULL SID", SidTypeWellKnownGroup},
    {"S-1-1-0", "", "Everyone", SidTypeWellKnownGroup},
    {"S-1-2-0", "", "LOCAL", SidTypeWellKnownGroup},
    {"S-1-2-1", "", "CONSOLE LOGON", SidTypeWellKnownGroup},
    {"S-1-3-0", "", "CREATOR OWNER", SidTypeWellKnownGroup},
    {"S-1-3-1", "", "CREATOR GROUP", SidTypeWellKnownGroup},
    {"S-1-5-1", "NT AUTHORITY", "DIALUP", SidTypeWellKnownGroup},
    {"S-1-5-2", "NT AUTHORITY", "NETWORK", SidTypeWellKnownGroup},
    {"S-1-5-3", "NT AUTHORITY", "BATCH", SidTypeWellKnownGroup},
    {"S-1-5-4", "NT AUTHORITY", "INTERACTIVE", SidTypeWellKnownGroup},
    {"S-1-5-6", "NT AUTHORITY", "SERVICE", SidTypeWellKnownGroup},
    {"S-1-5-7", "NT AUTHORITY", "ANONYMOUS LOGON", SidTypeWellKnownGroup},
    {"S-1-5-9", "NT AUTHORITY", "ENTERPRISE DOMAIN CONTROLLERS", SidTypeWellKnownGroup},
    {"S-1-5-10", "NT AUTHORITY", "SELF", SidTypeWellKnownGroup},
    {"S-1-5-11", "NT AUTHORITY", "Authenticated Users", SidTypeWellKnownGroup},
    {"S-1-5-12", "NT AUTHORITY", "RESTRICTED", SidTypeWellKnownGroup},
    {"S-1-5-13", "NT AUTHORITY", "TERMINAL SERVER USER", SidTypeWellKnownGroup},
    {"S-1-5-14", "NT AUTHORITY", "REMOTE INTERACTIVE LOGON", SidTypeWellKnownGroup},
    {"S-1-5-15", "NT AUTHORITY", "This Organization", SidTypeWellKnownGroup},
    {"S-1-5-17", "NT AUTHORITY", "IUSR", SidTypeWellKnownGroup},
    {"S-1-5-18", "NT AUTHORITY", "SYSTEM", SidTypeWellKnownGroup},
    {"S-1-5-19", "NT AUTHORITY", "LOCAL SERVICE", SidTypeWellKnownGroup},
    {"S-1-5-20", "NT AUTHORITY", "NETWORK SERVICE", SidTypeWellKnownGroup},
    {"S-1-5-32", "BUILTIN", "BUILTIN", SidTypeDomain},
    {"S-1-5-32-544", "BUILTIN", "Administrators", SidTypeAlias},
    {"S-1-5-32-545", "BUILTIN", "Users", SidTypeAlias},
    {"S-1-5-32-546", "BUILTIN", "Guests", SidTypeAlias},
    {"S-1-5-32-554", "BUILTIN", "Pre-Windows 2000 Compatible Access", SidTypeAlias},
    {"S-1-5-32-555", "BUILTIN", "Remote Desktop Users", SidTypeAlias},
    {"S-1-5-64-10", "NT AUTHORITY", "NTLM Authentication", SidTypeWellKnownGroup},
    {"S-1-5-64-14", "NT AUTHORITY", "SChannel Authentication", SidTypeWellKnownGroup},
    {"S-1-5-64-21", "NT AUTHORITY", "Digest Authentication", SidTypeWellKnownGroup},
    {"S-1-5-1000", "NT AUTHORITY", "Other Organization", SidTypeWellKnownGroup},
    {"S-1-16-0", "Mandatory Label", "Untrusted Mandatory Level", SidTypeLabel},
    {"S-1-16-4096", "Mandatory Label", "Low Mandatory Level", SidTypeLabel},
    {"S-1-16-8192", "Mandatory Label", "Medium Mandatory Level", SidTypeLabel},
    {"S-1-16-12288", "Mandatory Label", "High Mandatory Level", SidTypeLabel},
    {"S-1-16-16384", "Mandatory Label", "System Mandatory Level", SidTypeLabel},
    {"S-1-18-1", "", "Authentication authority asserted identity", SidTypeWellKnownGroup},
    {"S-1-18-2", "", "Service asserted identity", SidTypeWellKnownGroup},
};

bool
accounts_set_field(char *field, const char *src)
{
    size_t n = strlen(src);

    if (n >= ACCOUNT_FIELD_MAX)
        return false;
    memcpy(field, src, n + 1);
    return true;
}

static bool
set_well_known(const struct well_known *w, struct account *out)
{
    out->use = w->use;
    return sid_from_string(w->sid, &out->sid) && accounts_set_field(out->domain, w->domain) &&
           accounts_set_field(out->name, w->name);
}

static bool
well_known_by_sid(const struct sid *sid, struct account *out)
{
    char text[SID_STRING_MAX];

    if (!sid_to_string(sid, text, sizeof(text)))
        return false;
    for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
        if (strcmp(well_known[i].sid, text) == 0)
            return set_well_known(&well_known[i], out);
    }
    return false;
}

static bool
well_known_by_name(const char *domain, const char *name, struct account *out)
{
    for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
        const struct well_known *w = &well_known[i];
        if (strcasecmp(w->name, name) == 0 &&
            (domain == NULL || strcasecmp(w->domain, domain) == 0))
            return set_well_known(w, out);
    }
    return false;
}

/* ---- Samba's Unix SIDs over NSS ------------------------------------------------ */

/* One NSS query: by id (name NULL) or by name, of a user (is_user) or a
 * group. Fills out (SID, domain, name) and returns true when it exists. The
 * _r functions want a buffer: grown on ERANGE up to NSS_BUF_MAX. */
static bool
nss_query(bool is_user, const char *name, uint32_t id, struct account *out)
{
    struct passwd pw, *pw_found = NULL;
    struct group gr, *gr_found = NULL;
    bool found = false;
    int rc = ERANGE;

    for (size_t len = NSS_BUF_START; rc == ERANGE && len <= NSS_BUF_MAX; len *= 2) {
        char *buf = malloc(len);
        if (buf == NULL)
            return false;
        if (is_user && name != NULL)
            rc = getpwnam_r(name, &pw, buf, len, &pw_found);
        else if (is_user)
            rc = getpwuid_r((uid_t)id, &pw, buf, len, &pw_found);
        else if (name != NULL)
            rc = getgrnam_r(name, &gr, buf, len, &gr_found);
        else
            rc = getgrgid_r((gid_t)id, &gr, buf, len, &gr_found);
        if (rc == 0 && pw_found != NULL) {
            sid_unix(SID_UNIX_USER, (uint32_t)pw.pw_uid, &out->sid);
            found = accounts_set_field(out->name, pw.pw_name);
        } else if (rc == 0 && gr_found != NULL) {
            sid_unix(SID_UNIX_GROUP, (uint32_t)gr.gr_gid, &out->sid);
            found = accounts_set_field(out->name, gr.gr_name);
        }
        free(buf);
    }
    if (found) {
        out->use = is_user ? SidTypeUser : SidTypeGroup; /* as Samba types them */
        (void)accounts_set_field(out->domain, is_user ? UNIX_USER_DOMAIN : UNIX_GROUP_DOMAIN);
    }
    return found;
}

static bool
unix_by_sid(const struct sid *sid, struct account *out)
{
    static const uint8_t auth[6] = {0, 0, 0, 0, 0, SID_UNIX_AUTHORITY};

    if (sid->sub_count != 2 || memcmp(sid->authority, auth, 6) != 0 ||
        (sid->sub[0] != SID_UNIX_USER && sid->sub[0] != SID_UNIX_GROUP))
        return false;
    return nss_query(sid->sub[0] == SID_UNIX_USER, NULL, sid->sub[1], out);
}

static bool
unix_by_name(const char *domain, const char *name, struct account *out)
{
    if (domain == NULL)
        return nss_query(true, name, 0, out) || nss_query(false, name, 0, out);
    if (strcasecmp(domain, UNIX_USER_DOMAIN) == 0)
        return nss_query(true, name, 0, out);
    if (strcasecmp(domain, UNIX_GROUP_DOMAIN) == 0)
        return nss_query(false, name, 0, out);
    return false;
}

/* ---- In order ------------------------------------------------------------------- */

bool
accounts_by_sid(const struct sid *sid, struct account *out)
{
    return well_known_by_sid(sid, out) || sspi_token_find_sid(sid, out) || unix_by_sid(sid, out) ||
           sid_names_winbind_by_sid(sid, out);
}

/* A bare name goes to winbindd before NSS: on a domain member NSS also
 * answers for domain users (through winbind), and their domain SID is the
 * one Windows would give, not a Unix SID. */
bool
accounts_by_name(const char *domain, const char *name, struct account *out)
{
    if (name == NULL || name[0] == '\0')
        return false;
    if (well_known_by_name(domain, name, out) || sspi_token_find_name(domain, name, out))
        return true;
    if (domain != NULL && unix_by_name(domain, name, out))
        return true;
    return sid_names_winbind_by_name(domain, name, out) ||
           (domain == NULL && unix_by_name(NULL, name, out));
}
