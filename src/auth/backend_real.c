// SPDX-License-Identifier: MIT
// The real backend: the SSPI function table of the security library, the
// built-in user store and gh_token. Kept in its own object file so that
// programs that never call auth_backend_real() (unit tests with fakes) do not
// pull in the security library.
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/backend.h"
#include "auth/digest.h"
#include "base/secret.h"
#include "sspi/store/userstore.h"
#include "sspi/token_internal.h"

static int
store_open(const char *path, void **db_out, char *err, size_t err_len)
{
    struct userstore *store = NULL;
    int rc = userstore_open(path, &store, err, err_len);

    if (rc != GH_OK)
        return rc;
    *db_out = store;
    return GH_OK;
}

static void
store_close(void *db)
{
    userstore_destroy(db);
}

static int
store_verify(void *db, const char *user, const char *password, size_t password_len)
{
    return userstore_verify_password(db, user, password, password_len);
}

static int
store_ha1(void *db, const char *user, const char *realm, const char *algorithm, char hex_out[129])
{
    if (strcmp(algorithm, "MD5") != 0 && strcmp(algorithm, "SHA-256") != 0)
        return GH_EUNSUPPORTED; /* the store keeps MD5 and SHA-256 HA1 only */
    return userstore_digest_ha1(db, user, realm, algorithm, hex_out);
}

/* Digest userhash (RFC 7616 3.4.4): the client names itself by
 * H(user ":" realm). The store is small and immutable, so every user's hash is
 * computed and compared (in constant time, all of them, so the time does not
 * say which user matched). */
static int
store_find_userhash(void *db, const char *realm, const char *algorithm, const char *userhash_hex,
                    char *user_out, size_t user_len)
{
    char want[DIGEST_MAX_HEX + 1];
    char hex[DIGEST_MAX_HEX + 1];
    enum digest_alg alg;
    const char *found = NULL;
    size_t want_len = strlen(userhash_hex);

    if (digest_alg_parse(slice_cstr(algorithm), &alg) != GH_OK || want_len > DIGEST_MAX_HEX)
        return GH_ENOTFOUND;
    for (size_t i = 0; i <= want_len; i++) { /* hex is case-insensitive */
        char c = userhash_hex[i];
        want[i] = (c >= 'A' && c <= 'F') ? (char)(c + 32) : c;
    }
    for (size_t i = 0; i < userstore_count(db); i++) {
        const char *name = userstore_name_at(db, i);
        const struct slice parts[2] = {slice_cstr(name), slice_cstr(realm)};
        if (digest_hash_parts(alg, parts, 2, hex) != GH_OK)
            return GH_ENOMEM;
        bool is_match = strlen(hex) == want_len && secret_memeq(hex, want, want_len);
        if (is_match && found == NULL)
            found = name;
    }
    if (found == NULL)
        return GH_ENOTFOUND;
    if (strlen(found) >= user_len)
        return GH_ELIMIT;
    memcpy(user_out, found, strlen(found) + 1);
    return GH_OK;
}

static int
store_groups(void *db, const char *user, const char *const **groups_out, size_t *count_out)
{
    return userstore_groups(db, user, groups_out, count_out);
}

static const char *
store_canonical(void *db, const char *user)
{
    return userstore_canonical_name(db, user);
}

static const struct auth_userdb_ops userstore_ops = {
    .open = store_open,
    .close = store_close,
    .verify_password = store_verify,
    .digest_ha1 = store_ha1,
    .find_userhash = store_find_userhash,
    .groups = store_groups,
    .canonical_name = store_canonical,
};

/* Identities the engine verified itself (Basic, Digest) get a token like the
 * SSPI packages' ones, so the record's access token is never missing: the
 * groups are the store's, and a name that is also a local account maps to it
 * for uid/gid and impersonation. */
static int
token_create(const char *user, const char *domain, const char *package, const char *const *groups,
             size_t group_count, gh_token **token_out)
{
    static const char *const no_groups[1] = {NULL};
    struct sspi_token_info info = {
        .user = user,
        .domain = domain,
        .package = package,
        /* Always an explicit (possibly empty) list: the store's groups, never
         * the NSS groups of a local account that happens to share the name. */
        .groups = groups != NULL ? groups : no_groups,
        .group_count = groups != NULL ? group_count : 0,
        .local_account = user,
    };
    SECURITY_STATUS st = sspi_token_create(&info, token_out);

    if (st == SEC_E_OK)
        return GH_OK;
    return st == SEC_E_INSUFFICIENT_MEMORY ? GH_ENOMEM : GH_EINVAL;
}

static const struct auth_token_ops token_ops = {
    .dup = gh_token_dup,
    .close = gh_token_close,
    .user = gh_token_user,
    .domain = gh_token_domain,
    .principal = gh_token_principal,
    .package = gh_token_package,
    .group_count = gh_token_group_count,
    .group = gh_token_group,
    .delegated_ccache = gh_token_delegated_ccache,
    .create = token_create,
    .expiry = gh_token_expiry,
    .user_sid = gh_token_user_sid,
    .group_sid = gh_token_group_sid,
    .logon_domain = gh_token_logon_domain,
    .dns_domain = gh_token_dns_domain,
};

static struct auth_backend real_backend = {
    .userdb = &userstore_ops,
    .token = &token_ops,
};
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void
real_init(void)
{
    real_backend.sspi = InitSecurityInterfaceA();
}

const struct auth_backend *
auth_backend_real(void)
{
    pthread_once(&real_once, real_init);
    return &real_backend;
}
