// SPDX-License-Identifier: MIT
// The registry: the only list of packages, in the order
// EnumerateSecurityPackages reports them and Negotiate prefers them.
//
// Packages are strong references on purpose: they live in the same static
// archive as this file, and a weak undefined reference does not make the
// linker pull an archive member in, so a program calling only the SSPI entry
// points would silently lose every package.
//
// The exception is `sspi_test_package`, a hidden weak reference that no source
// of the library defines: a test program that defines it (tests/unit/sspi/
// test_sspi.c) gets it listed last as "Test". A definition in the program's own
// objects always resolves the reference; production binaries have none, so the
// slot is NULL and skipped, and no test hook exists at run time.
#include <stddef.h>
#include <strings.h>

#include "sspi/credssp/credssp.h"
#include "sspi/kerberos/kerberos.h"
#include "sspi/negotiate/negotiate.h"
#include "sspi/ntlm/ntlm.h"
#include "sspi/package.h"
#include "sspi/schannel/schannel.h"

extern const struct sspi_package sspi_test_package __attribute__((weak, visibility("hidden")));

static const struct sspi_package *const packages[] = {
    &negotiate_package, &kerberos_package,  &ntlm_package, &schannel_package,
    &credssp_package,   &sspi_test_package, /* NULL unless a test program defines it */
};

#define PACKAGE_SLOTS (sizeof(packages) / sizeof(packages[0]))

size_t
sspi_registry_count(void)
{
    size_t n = 0;

    for (size_t i = 0; i < PACKAGE_SLOTS; i++) {
        if (packages[i] != NULL)
            n++;
    }
    return n;
}

const struct sspi_package *
sspi_registry_at(size_t index)
{
    for (size_t i = 0; i < PACKAGE_SLOTS; i++) {
        if (packages[i] == NULL)
            continue;
        if (index == 0)
            return packages[i];
        index--;
    }
    return NULL;
}

const struct sspi_package *
sspi_registry_find(const char *name)
{
    if (name == NULL)
        return NULL;
    if (strcasecmp(name, UNISP_NAME_A) == 0) /* Windows' other name for Schannel */
        name = SCHANNEL_NAME_A;
    for (size_t i = 0; i < PACKAGE_SLOTS; i++) {
        if (packages[i] != NULL && strcasecmp(packages[i]->name, name) == 0)
            return packages[i];
    }
    return NULL;
}
