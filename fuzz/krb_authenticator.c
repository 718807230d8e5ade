// SPDX-License-Identifier: MIT
// Fuzz target for the Authenticator ctime reader (src/sspi/kerberos/skew.c):
// any bytes, never a read outside them; a ctime it returns is a real UTC time
// (1970 or later).
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sspi/kerberos/skew.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    time_t t = 0;

    if (krb_authenticator_ctime(slice_make(data, size), &t) == SEC_E_OK && t < 0)
        __builtin_trap();
    return 0;
}
