// SPDX-License-Identifier: MIT
// The acceptor's own Kerberos realms (realm.h). Read once per config, when it
// is activated; requests only compare strings.
#include "auth/realm.h"

#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

int
auth_realm_add(const char *realm, size_t len, char ***realms, size_t *count)
{
    if (len == 0)
        return GH_OK;
    for (size_t i = 0; i < *count; i++) {
        if (strlen((*realms)[i]) == len && memcmp((*realms)[i], realm, len) == 0)
            return GH_OK;
    }
    char **grown = realloc(*realms, (*count + 1) * sizeof(*grown));
    if (grown == NULL)
        return GH_ENOMEM;
    *realms = grown;
    grown[*count] = strndup(realm, len);
    if (grown[*count] == NULL)
        return GH_ENOMEM;
    (*count)++;
    return GH_OK;
}

const char *
auth_realm_of(const char *principal)
{
    const char *realm = NULL;

    if (principal == NULL)
        return NULL;
    for (const char *p = principal; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0')
            p++;
        else if (*p == '@')
            realm = p + 1;
    }
    return realm != NULL && *realm != '\0' ? realm : NULL;
}

static int
add_keytab_realms(krb5_context ctx, const char *keytab, char ***realms, size_t *count)
{
    char name[4096];
    krb5_keytab kt = NULL;
    krb5_kt_cursor cursor;
    krb5_keytab_entry entry;
    krb5_error_code kerr;
    int rc = GH_OK;

    if (keytab == NULL)
        kerr = krb5_kt_default(ctx, &kt);
    else if (snprintf(name, sizeof(name), "%s%s",
                      strchr(keytab, ':') != NULL ? "" : "FILE:", keytab) >= (int)sizeof(name))
        return GH_OK;
    else
        kerr = krb5_kt_resolve(ctx, name, &kt);
    if (kerr != 0)
        return GH_OK;
    if (krb5_kt_start_seq_get(ctx, kt, &cursor) != 0) {
        krb5_kt_close(ctx, kt);
        return GH_OK;
    }
    /* A keytab holds a few keys per principal; 4096 entries bound the walk. */
    for (int i = 0; rc == GH_OK && i < 4096 && krb5_kt_next_entry(ctx, kt, &entry, &cursor) == 0;
         i++) {
        const krb5_data *r = krb5_princ_realm(ctx, entry.principal);
        rc = auth_realm_add(r->data, r->length, realms, count);
        krb5_free_keytab_entry_contents(ctx, &entry);
    }
    krb5_kt_end_seq_get(ctx, kt, &cursor);
    krb5_kt_close(ctx, kt);
    return rc;
}

int
auth_realm_collect(const char *keytab, char *const *service_names, size_t service_count,
                   char ***realms, size_t *count)
{
    krb5_context ctx = NULL;
    char *def = NULL;
    int rc = GH_OK;

    for (size_t i = 0; rc == GH_OK && i < service_count; i++) {
        const char *r = auth_realm_of(service_names[i]);
        if (r != NULL)
            rc = auth_realm_add(r, strlen(r), realms, count);
    }
    if (rc != GH_OK || krb5_init_context(&ctx) != 0)
        return rc;
    rc = add_keytab_realms(ctx, keytab, realms, count);
    if (rc == GH_OK && krb5_get_default_realm(ctx, &def) == 0) {
        rc = auth_realm_add(def, strlen(def), realms, count);
        krb5_free_default_realm(ctx, def);
    }
    krb5_free_context(ctx);
    return rc;
}
