// SPDX-License-Identifier: MIT
// gatehouse doctor, winbind: for locations with `auth_ntlm_backend winbind`
// or `auth_group_names winbind`, whether winbindd answers (the privileged
// socket libwbclient uses) and whether its domain controller does, the two
// things an NTLM logon through the DC needs (docs/active-directory.md).
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <wbclient.h>

#include "cli/doctor.h"

void
doctor_check_winbind(struct doctor *d)
{
    struct wbcInterfaceDetails *details = NULL;
    struct wbcAuthErrorInfo *error = NULL;
    char *dc_name = NULL;
    wbcErr e = wbcInterfaceDetails(&details);

    if (!WBC_ERROR_IS_OK(e) || details == NULL) {
        doctor_report(d, DOCTOR_FAIL, "winbind",
                      "start winbind (systemctl start winbind) on this domain member and check "
                      "`wbinfo -p`; gatehouse reaches it through /run/samba/winbindd",
                      "winbindd does not answer (%s)", wbcErrorString(e));
        wbcFreeMemory(details);
        return;
    }
    const char *domain = details->netbios_domain != NULL ? details->netbios_domain : "";
    doctor_report(d, DOCTOR_OK, "winbind", NULL, "winbindd %s answers for domain %s (%s)",
                  details->winbind_version != NULL ? details->winbind_version : "?", domain,
                  details->dns_domain != NULL ? details->dns_domain : "no DNS domain");
    e = wbcPingDc2(domain, &error, &dc_name);
    if (WBC_ERROR_IS_OK(e))
        doctor_report(d, DOCTOR_OK, "winbind-dc", NULL, "the domain controller %s answers",
                      dc_name != NULL ? dc_name : "of the domain");
    else
        doctor_report(d, DOCTOR_FAIL, "winbind-dc",
                      "check `wbinfo --ping-dc` and the machine account (`net ads testjoin`); "
                      "NTLM logons through winbind fail (503) until the DC answers",
                      "the domain controller of %s does not answer (%s%s%s)", domain,
                      wbcErrorString(e), error != NULL && error->display_string != NULL ? ": " : "",
                      error != NULL && error->display_string != NULL ? error->display_string : "");
    wbcFreeMemory(error);
    wbcFreeMemory(dc_name);
    wbcFreeMemory(details);
}
