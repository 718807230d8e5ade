// SPDX-License-Identifier: MIT
// <schannel.h> for code written against Windows' Schannel (see compat/sspi.h):
// SCHANNEL_CRED, SCH_CREDENTIALS, TLS_PARAMETERS, SP_PROT_*, SCH_CRED_*,
// SCHANNEL_SHUTDOWN, SecPkgContext_ConnectionInfo / _CipherInfo and UNISP_NAME
// are all in <gatehouse/sspi.h>. docs/sspi.md, "Porting from Windows".
#ifndef GATEHOUSE_COMPAT_SCHANNEL_H
#define GATEHOUSE_COMPAT_SCHANNEL_H

#include <gatehouse/sspi.h>

#endif
