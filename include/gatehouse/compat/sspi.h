// SPDX-License-Identifier: MIT
// <sspi.h> for code written against Windows SSPI: with this directory on the
// include path (-I<includedir>/gatehouse/compat, as the pkg-config file gives
// it), `#include <sspi.h>` reaches <gatehouse/sspi.h>. docs/sspi.md, "Porting
// from Windows".
#ifndef GATEHOUSE_COMPAT_SSPI_H
#define GATEHOUSE_COMPAT_SSPI_H

#include <gatehouse/sspi.h>

#endif
