// SPDX-License-Identifier: MIT
// <wincrypt.h> for Schannel code (see compat/sspi.h): the part of CryptoAPI
// that Schannel programs read (CERT_CONTEXT, CERT_INFO, CERT_NAME_BLOB,
// HCERTSTORE, ALG_ID, CALG_*, CertFreeCertificateContext, CertNameToStr...),
// declared by <gatehouse/sspi.h>. There are no certificate stores: what is
// not there is listed in docs/sspi.md, "Porting from Windows".
#ifndef GATEHOUSE_COMPAT_WINCRYPT_H
#define GATEHOUSE_COMPAT_WINCRYPT_H

#include <gatehouse/sspi.h>

#endif
