// SPDX-License-Identifier: MIT
// <credssp.h> for code written against Windows' CredSSP package (see
// compat/sspi.h): CREDSSP_CRED, CREDSSP_CRED_EX, CREDSSP_SUBMIT_TYPE and
// CREDSSP_NAME are in <gatehouse/sspi.h>. docs/sspi.md, "CredSSP".
#ifndef GATEHOUSE_COMPAT_CREDSSP_H
#define GATEHOUSE_COMPAT_CREDSSP_H

#include <gatehouse/sspi.h>

#endif
