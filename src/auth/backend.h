// SPDX-License-Identifier: MIT
// The seam between the auth engine and what it calls outside itself: the SSPI
// function table, the user database and the token accessors.
//
// Why a seam: the engine is tested with a fake SSPI package and a fake user
// store (tests/unit/auth/), and it builds before the security library's
// implementation exists. The server passes auth_backend_real(), which binds
// to <gatehouse/sspi.h>, <gatehouse/token.h> and src/sspi/store/userstore.h;
// that object file is only linked into programs that call it.
#ifndef GH_AUTH_BACKEND_H
#define GH_AUTH_BACKEND_H

#include <stddef.h>
#include <time.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

/* A user database (the built-in user store, or a fake). Every function is
 * thread-safe on an open database. Return conventions follow userstore.h. */
struct auth_userdb_ops {
    int (*open)(const char *path, void **db_out, char *err, size_t err_len);
    void (*close)(void *db); /* NULL-safe */
    /* GH_OK, GH_EAUTH (wrong password) or GH_ENOTFOUND; constant time in the password. */
    int (*verify_password)(void *db, const char *user, const char *password, size_t password_len);
    /* Lowercase hex HA1 = H(user:realm:password) for "MD5", "SHA-256" or "SHA-512-256"
     * into hex_out (>= 129 bytes). GH_OK, GH_ENOTFOUND or GH_EUNSUPPORTED (algorithm). */
    int (*digest_ha1)(void *db, const char *user, const char *realm, const char *algorithm,
                      char hex_out[129]);
    /* Digest userhash (RFC 7616 3.4.4): the user whose H(user:realm) in algorithm is
     * userhash_hex, copied into user_out. May be NULL (then userhash is not offered).
     * GH_OK, GH_ENOTFOUND or GH_ELIMIT (user_len too small). */
    int (*find_userhash)(void *db, const char *realm, const char *algorithm,
                         const char *userhash_hex, char *user_out, size_t user_len);
    /* Borrowed from the database. GH_OK or GH_ENOTFOUND. */
    int (*groups)(void *db, const char *user, const char *const **groups_out, size_t *count_out);
    /* The stored spelling of user (borrowed), or NULL. */
    const char *(*canonical_name)(void *db, const char *user);
};

/* The gh_token functions of <gatehouse/token.h>, plus a constructor for
 * identities verified by the engine itself (Basic, Digest). */
struct auth_token_ops {
    gh_token *(*dup)(gh_token *token);
    void (*close)(gh_token *token);
    const char *(*user)(const gh_token *token);
    const char *(*domain)(const gh_token *token);
    const char *(*principal)(const gh_token *token);
    const char *(*package)(const gh_token *token);
    size_t (*group_count)(const gh_token *token);
    const char *(*group)(const gh_token *token, size_t index);
    const char *(*delegated_ccache)(const gh_token *token);
    /* May be NULL (fakes): Basic/Digest records then carry no access token, only names. */
    int (*create)(const char *user, const char *domain, const char *package,
                  const char *const *groups, size_t group_count, gh_token **token_out);
    /* End of the identity's validity (Kerberos: the ticket's end time), 0 when
     * unknown or unlimited. May be NULL: nothing expires. */
    time_t (*expiry)(const gh_token *token);
    /* The Windows identity (<gatehouse/token.h>); each may be NULL (fakes):
     * the record then carries no SIDs. */
    const char *(*user_sid)(const gh_token *token);
    const char *(*group_sid)(const gh_token *token, size_t index);
    const char *(*logon_domain)(const gh_token *token);
    const char *(*dns_domain)(const gh_token *token);
};

struct auth_backend {
    const SecurityFunctionTableA *sspi; /* NULL: no SSPI schemes available */
    const struct auth_userdb_ops *userdb;
    const struct auth_token_ops *token;
};

/* The real bindings (backend_real.c). Never NULL. */
const struct auth_backend *auth_backend_real(void);

#endif
