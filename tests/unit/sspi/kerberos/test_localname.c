// SPDX-License-Identifier: MIT
// The auth_to_local cache (src/sspi/kerberos/localname.c): TTL, "no local
// account" cached too, bounded table, reconfiguration empties it; and the
// real GSSAPI mapping of a principal outside the default realm (none).
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "sspi/kerberos/localname.h"

static atomic_int maps;

/* "x@LOCAL" -> "x"; other realms have no local account. */
static SECURITY_STATUS
fake_map(const char *principal, char **local_out)
{
    const char *at = strchr(principal, '@');

    atomic_fetch_add(&maps, 1);
    *local_out = NULL;
    if (at != NULL && strcmp(at, "@LOCAL") == 0)
        *local_out = strndup(principal, (size_t)(at - principal));
    return SEC_E_OK;
}

int
main(void)
{
    char *local = NULL, name[64];

    krb_localname_configure(1000, fake_map);
    CHECK_EQ(krb_localname_at("alice@LOCAL", 100, &local), SEC_E_OK);
    CHECK_STR_EQ(local, "alice");
    free(local);
    CHECK_EQ(krb_localname_at("alice@LOCAL", 1099, &local), SEC_E_OK);
    CHECK_STR_EQ(local, "alice");
    free(local);
    CHECK_EQ(atomic_load(&maps), 1);
    CHECK_EQ(krb_localname_at("alice@OTHER", 1099, &local), SEC_E_OK); /* another realm */
    CHECK(local == NULL);
    CHECK_EQ(krb_localname_at("alice@OTHER", 1099, &local), SEC_E_OK);
    CHECK(local == NULL);
    CHECK_EQ(atomic_load(&maps), 2);
    CHECK_EQ(krb_localname_at("alice@LOCAL", 1100, &local), SEC_E_OK); /* expired */
    CHECK_STR_EQ(local, "alice");
    free(local);
    CHECK_EQ(atomic_load(&maps), 3);

    /* bounded: many principals, then the newest is cached, the oldest is not */
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "u%d@LOCAL", i);
        CHECK_EQ(krb_localname_at(name, 2000 + (uint64_t)i, &local), SEC_E_OK);
        free(local);
    }
    atomic_store(&maps, 0);
    CHECK_EQ(krb_localname_at("u199@LOCAL", 2300, &local), SEC_E_OK);
    CHECK_STR_EQ(local, "u199");
    free(local);
    CHECK_EQ(atomic_load(&maps), 0);
    CHECK_EQ(krb_localname_at("u0@LOCAL", 2300, &local), SEC_E_OK);
    CHECK_STR_EQ(local, "u0");
    free(local);
    CHECK_EQ(atomic_load(&maps), 1);

    /* reconfigured: empty; TTL 0 maps every time */
    krb_localname_configure(0, fake_map);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(krb_localname_at("u199@LOCAL", 2300, &local), SEC_E_OK);
        free(local);
    }
    CHECK_EQ(atomic_load(&maps), 3);

    /* the real mapping: a principal of a realm that is not the default one
     * has no local account by the default auth_to_local rule */
    krb_localname_configure(KRB_LOCALNAME_TTL_MS, NULL);
    CHECK_EQ(krb_localname("root@NOT-THE-DEFAULT.INVALID", &local), SEC_E_OK);
    CHECK(local == NULL);
    krb_localname_configure(0, NULL); /* frees the entries */
    return check_done("sspi/kerberos/localname");
}
