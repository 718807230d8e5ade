// SPDX-License-Identifier: MIT
// gh_token (src/sspi/token.c): construction, groups from each source, Unix ids,
// reference counting, delegated ccache ownership, and per-thread impersonation.
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gatehouse/token.h>

#include "harness/check.h"
#include "sspi/store/userstore.h"
#include "sspi/token_internal.h"

static void
test_fields(void)
{
    const char *groups[] = {"staff", "admins"};
    struct sspi_token_info info = {.user = "alice",
                                   .domain = "EXAMPLE.COM",
                                   .package = "Kerberos",
                                   .groups = groups,
                                   .group_count = 2,
                                   .expiry = 2000000000};
    gh_token *t = NULL, *t2;
    uid_t uid;
    gid_t gid;

    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK_STR_EQ(gh_token_user(t), "alice");
    CHECK_STR_EQ(gh_token_domain(t), "EXAMPLE.COM");
    CHECK_STR_EQ(gh_token_principal(t), "alice@EXAMPLE.COM");
    CHECK_STR_EQ(gh_token_package(t), "Kerberos");
    CHECK_EQ(gh_token_group_count(t), 2);
    CHECK_STR_EQ(gh_token_group(t, 1), "admins");
    CHECK(gh_token_group(t, 2) == NULL);
    CHECK_EQ(gh_token_unix_ids(t, &uid, &gid), GH_ENOTFOUND); /* no local account asked */
    CHECK(gh_token_logon_time(t) > 0);
    CHECK_EQ(gh_token_expiry(t), 2000000000);
    CHECK(gh_token_delegated_ccache(t) == NULL);
    t2 = gh_token_dup(t);
    CHECK(t2 == t);
    gh_token_close(t);
    CHECK_STR_EQ(gh_token_user(t2), "alice"); /* still referenced */
    gh_token_close(t2);
    gh_token_close(NULL);
    CHECK(gh_token_dup(NULL) == NULL);
    CHECK(gh_token_user(NULL) == NULL);

    info = (struct sspi_token_info){.user = "bob", .package = "NTLM", .principal = "CORP\\bob"};
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK_STR_EQ(gh_token_principal(t), "CORP\\bob");
    CHECK_STR_EQ(gh_token_domain(t), "");
    CHECK_EQ(gh_token_group_count(t), 0);
    gh_token_close(t);

    info = (struct sspi_token_info){.user = "bad\xff", .package = "NTLM"};
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_INVALID_PARAMETER);
    info = (struct sspi_token_info){.package = "NTLM"};
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_INVALID_PARAMETER);
    info = (struct sspi_token_info){.user = "x"};
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_INVALID_PARAMETER);
}

static void
test_local_accounts_and_groups(void)
{
    static const char store_text[] = "alice:::wheel,ops:\n";
    struct sspi_token_info info = {.user = "root", .package = "NTLM", .local_account = "root"};
    struct userstore *store = NULL;
    char err[128];
    gh_token *t = NULL;
    uid_t uid = 99;
    gid_t gid = 99;
    bool has_root = false;

    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK_EQ(gh_token_unix_ids(t, &uid, &gid), GH_OK);
    CHECK_EQ(uid, 0);
    CHECK_EQ(gid, 0);
    for (size_t i = 0; i < gh_token_group_count(t); i++)
        has_root |= strcmp(gh_token_group(t, i), "root") == 0;
    CHECK(has_root); /* from NSS */
    gh_token_close(t);

    info.local_account = "gh-no-such-account";
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK_EQ(gh_token_unix_ids(t, &uid, &gid), GH_ENOTFOUND);
    CHECK_EQ(gh_token_group_count(t), 0);
    gh_token_close(t);

    /* The store's groups win over NSS. */
    CHECK_EQ(userstore_parse(store_text, strlen(store_text), "mem", &store, err, sizeof(err)),
             GH_OK);
    info = (struct sspi_token_info){
        .user = "ALICE", .package = "NTLM", .store = store, .local_account = "root"};
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK_EQ(gh_token_group_count(t), 2);
    CHECK_STR_EQ(gh_token_group(t, 0), "wheel");
    CHECK_EQ(gh_token_unix_ids(t, &uid, &gid), GH_OK);
    gh_token_close(t);
    userstore_destroy(store);
}

static void
test_ccache_ownership(void)
{
    char owned[] = "/tmp/gh-ccache-XXXXXX", kept[] = "/tmp/gh-ccache-XXXXXX", name[64];
    int fd1 = mkstemp(owned), fd2 = mkstemp(kept);
    struct sspi_token_info info = {.user = "alice", .package = "Kerberos", .owns_ccache = true};
    gh_token *t = NULL, *t2;

    close(fd1);
    close(fd2);
    snprintf(name, sizeof(name), "FILE:%s", owned);
    info.delegated_ccache = name;
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    CHECK_STR_EQ(gh_token_delegated_ccache(t), name);
    t2 = gh_token_dup(t);
    gh_token_close(t);
    CHECK_EQ(access(owned, F_OK), 0); /* one reference left */
    gh_token_close(t2);
    CHECK(access(owned, F_OK) != 0); /* removed with the last one */

    info.delegated_ccache = kept;
    info.owns_ccache = false;
    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    gh_token_close(t);
    CHECK_EQ(access(kept, F_OK), 0);
    unlink(kept);
}

static char dir[64];

static uid_t
owner_of_new_file(const char *name)
{
    char p[128];
    struct stat st;
    int fd;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    fd = open(p, O_CREAT | O_WRONLY | O_EXCL, 0600);
    if (fd < 0)
        return (uid_t)-1;
    close(fd);
    if (stat(p, &st) != 0)
        return (uid_t)-1;
    unlink(p);
    return st.st_uid;
}

static sem_t go;

/* Started before the impersonation (a thread created during one inherits the
 * creator's credentials, as clone(2) copies them), it acts during it. */
static void *
other_thread(void *arg)
{
    sem_wait(&go);
    *(uid_t *)arg = owner_of_new_file("from-other-thread");
    return NULL;
}

static void
test_impersonation(void)
{
    struct sspi_token_info info = {.user = "nobody", .package = "NTLM", .local_account = "nobody"};
    struct sspi_token_info none = {.user = "ghost", .package = "NTLM"};
    gh_token *t = NULL, *ghost = NULL;
    uid_t nobody_uid = 0, other_uid = 12345;
    pthread_t thread;

    CHECK_EQ(sspi_token_create(&none, &ghost), SEC_E_OK);
    CHECK_EQ(sspi_token_impersonate(ghost), SEC_E_NO_IMPERSONATION);
    CHECK(!sspi_token_is_impersonating());
    gh_token_close(ghost);
    CHECK_EQ(sspi_token_revert(), SEC_E_OK); /* nothing to revert */

    CHECK_EQ(sspi_token_create(&info, &t), SEC_E_OK);
    if (gh_token_unix_ids(t, &nobody_uid, NULL) != GH_OK || geteuid() != 0) {
        /* Without an account or privileges, refusal is the contract. */
        if (geteuid() != 0)
            CHECK_EQ(sspi_token_impersonate(t), SEC_E_NO_IMPERSONATION);
        gh_token_close(t);
        return;
    }
    snprintf(dir, sizeof(dir), "/tmp/gh-imp-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ(chmod(dir, 0777), 0);
    CHECK_EQ(owner_of_new_file("before"), 0);
    sem_init(&go, 0, 0);
    CHECK_EQ(pthread_create(&thread, NULL, other_thread, &other_uid), 0);
    CHECK_EQ(sspi_token_impersonate(t), SEC_E_OK);
    CHECK(sspi_token_is_impersonating());
    CHECK_EQ(owner_of_new_file("during"), nobody_uid);
    /* Only this thread changed. */
    sem_post(&go);
    pthread_join(thread, NULL);
    CHECK_EQ(other_uid, 0);
    CHECK_EQ(sspi_token_revert(), SEC_E_OK);
    CHECK(!sspi_token_is_impersonating());
    CHECK_EQ(owner_of_new_file("after"), 0);
    rmdir(dir);
    gh_token_close(t);
}

int
main(void)
{
    test_fields();
    test_local_accounts_and_groups();
    test_ccache_ownership();
    test_impersonation();
    return check_done("test_token");
}
