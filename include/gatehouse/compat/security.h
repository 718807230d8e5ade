// SPDX-License-Identifier: MIT
// <security.h> for code written against Windows SSPI (see compat/sspi.h).
// Windows requires SECURITY_WIN32 (or SECURITY_KERNEL) before this header;
// here it may be defined or not: there is one mode.
#ifndef GATEHOUSE_COMPAT_SECURITY_H
#define GATEHOUSE_COMPAT_SECURITY_H

#include <gatehouse/sspi.h>

#endif
