// SPDX-License-Identifier: MIT
// The CredSSP package (MS-CSSP versions 2 to 6): see credssp.c and
// docs/internals/credssp.md.
#ifndef GH_SSPI_CREDSSP_CREDSSP_H
#define GH_SSPI_CREDSSP_CREDSSP_H

#include "sspi/package.h"

extern const struct sspi_package credssp_package;

/* The highest MS-CSSP version we speak. */
#define CSSP_VERSION_MAX 6

/* NTSTATUS <-> SECURITY_STATUS for TSRequest.errorCode (versions 3, 4, 6). */
uint32_t cssp_ntstatus_of(SECURITY_STATUS status);
SECURITY_STATUS cssp_status_of_ntstatus(uint32_t ntstatus);

#endif
