// SPDX-License-Identifier: MIT
// Entry-point semantics of the SSPI layer (src/sspi/sspi.c and friends),
// driven through a fake package. The fake is registered by defining
// `sspi_test_package`: registry.c holds a hidden weak reference to that name
// and lists it last when a program defines it (see registry.c), so no hook
// exists in the library itself.
//
// The fake speaks a tiny scripted protocol: the initiator sends INIT1, the
// acceptor answers ACC1, the initiator INIT2, the acceptor completes; other
// input tokens trigger one behaviour each (BAD, PART, EXTRA, BIG, COMPLETE,
// COMPCONT, BLOCK).
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gatehouse/sspi.h>
#include <gatehouse/token.h>

#include "harness/check.h"
#include "sspi/internal.h"
#include "sspi/package.h"
#include "sspi/token_internal.h"

static struct {
    int creds_made, creds_freed, ctx_made, ctx_deleted, completes;
    char user[64], domain[64], password[64], principal[64];
    bool has_identity;
    char acceptor_store[64], acceptor_domain[64];
    bool has_acceptor;
    sem_t entered, release;
} fake;

struct fake_cred {
    unsigned long use;
};

struct fake_ctx {
    int legs;
};

static void
copy_text(char *dst, const char *src)
{
    snprintf(dst, 64, "%s", src != NULL ? src : "(null)");
}

static SECURITY_STATUS
fake_acquire(const struct sspi_acquire *args, void **pkg_cred_out)
{
    struct fake_cred *c;

    fake.has_identity = args->has_identity;
    copy_text(fake.user, args->user);
    copy_text(fake.domain, args->domain);
    snprintf(fake.password, sizeof(fake.password), "%.*s", (int)args->password.len,
             args->password.bytes != NULL ? (const char *)args->password.bytes : "");
    copy_text(fake.principal, args->principal);
    fake.has_acceptor = args->acceptor != NULL;
    if (args->acceptor != NULL) {
        copy_text(fake.acceptor_store, args->acceptor->UserStore);
        copy_text(fake.acceptor_domain, args->acceptor->NbDomainName);
    }
    if (args->user != NULL && strcmp(args->user, "nocreds") == 0)
        return SEC_E_NO_CREDENTIALS;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    c->use = args->use;
    fake.creds_made++;
    *pkg_cred_out = c;
    return SEC_E_OK;
}

static void
fake_free_cred(void *pkg_cred)
{
    fake.creds_freed++;
    free(pkg_cred);
}

static bool
token_is(const struct sspi_step *step, const char *s)
{
    return slice_eq(step->in_token, slice_cstr(s));
}

static SECURITY_STATUS
common_behaviour(struct sspi_step *step, bool *handled)
{
    *handled = true;
    if (token_is(step, "BAD")) {
        buf_append_str(&step->error_text, "test: bad token");
        return SEC_E_INVALID_TOKEN;
    }
    if (token_is(step, "PART")) {
        step->missing_bytes = 7;
        return SEC_E_INCOMPLETE_MESSAGE;
    }
    if (token_is(step, "EXTRA")) {
        buf_append_str(&step->out_token, "X");
        step->extra_bytes = 3;
        return SEC_I_CONTINUE_NEEDED;
    }
    if (token_is(step, "BIG")) {
        for (int i = 0; i < 1000; i++)
            buf_append(&step->out_token, "B", 1);
        return SEC_I_CONTINUE_NEEDED;
    }
    if (token_is(step, "COMPLETE")) {
        buf_append_str(&step->out_token, "C");
        return SEC_I_COMPLETE_NEEDED;
    }
    if (token_is(step, "COMPCONT")) {
        buf_append_str(&step->out_token, "CC");
        return SEC_I_COMPLETE_AND_CONTINUE;
    }
    if (token_is(step, "BLOCK")) {
        sem_post(&fake.entered);
        sem_wait(&fake.release);
        buf_append_str(&step->out_token, "UNBLOCKED");
        return SEC_I_CONTINUE_NEEDED;
    }
    *handled = false;
    return SEC_E_OK;
}

static SECURITY_STATUS
new_ctx(void **pkg_ctx)
{
    if (*pkg_ctx != NULL)
        return SEC_E_OK;
    *pkg_ctx = calloc(1, sizeof(struct fake_ctx));
    if (*pkg_ctx == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    fake.ctx_made++;
    return SEC_E_OK;
}

static SECURITY_STATUS
fake_init(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    SECURITY_STATUS status;
    bool handled;

    (void)pkg_cred;
    if (step->target != NULL && strcmp(step->target, "unknown") == 0) {
        buf_append_str(&step->error_text, "test: no such target");
        return SEC_E_TARGET_UNKNOWN;
    }
    status = new_ctx(pkg_ctx);
    if (status != SEC_E_OK)
        return status;
    ((struct fake_ctx *)*pkg_ctx)->legs++;
    step->attrs_out = ISC_RET_CONNECTION;
    status = common_behaviour(step, &handled);
    if (handled)
        return status;
    if (step->in_token.len == 0) {
        buf_append_str(&step->out_token, "INIT1");
        return SEC_I_CONTINUE_NEEDED;
    }
    if (token_is(step, "ACC1")) {
        buf_append_str(&step->out_token, "INIT2");
        step->attrs_out |= ISC_RET_MUTUAL_AUTH;
        return SEC_E_OK;
    }
    return SEC_E_INVALID_TOKEN;
}

static SECURITY_STATUS
fake_accept(void *pkg_cred, void **pkg_ctx, struct sspi_step *step)
{
    SECURITY_STATUS status;
    bool handled;

    (void)pkg_cred;
    status = new_ctx(pkg_ctx);
    if (status != SEC_E_OK)
        return status;
    step->attrs_out = ASC_RET_CONNECTION;
    status = common_behaviour(step, &handled);
    if (handled)
        return status;
    if (token_is(step, "INIT1")) {
        buf_append_str(&step->out_token, "ACC1");
        return SEC_I_CONTINUE_NEEDED;
    }
    if (token_is(step, "INIT2"))
        return SEC_E_OK;
    return SEC_E_INVALID_TOKEN;
}

static SECURITY_STATUS
fake_complete(void *pkg_ctx, PSecBufferDesc token)
{
    (void)pkg_ctx;
    (void)token;
    fake.completes++;
    return SEC_E_OK;
}

static void
fake_delete(void *pkg_ctx)
{
    fake.ctx_deleted++;
    free(pkg_ctx);
}

static SECURITY_STATUS
fake_query(void *pkg_ctx, unsigned long attribute, void *buffer)
{
    (void)pkg_ctx;
    switch (attribute) {
    case SECPKG_ATTR_NAMES:
        ((SecPkgContext_NamesA *)buffer)->sUserName = sspi_strdup("J\xc3\xbcrgen@TEST");
        return SEC_E_OK;
    case SECPKG_ATTR_NATIVE_NAMES:
        ((SecPkgContext_NativeNamesA *)buffer)->sClientName = sspi_strdup("alice");
        ((SecPkgContext_NativeNamesA *)buffer)->sServerName = sspi_strdup("HTTP/svc");
        return SEC_E_OK;
    case SECPKG_ATTR_SIZES:
        *(SecPkgContext_Sizes *)buffer =
            (SecPkgContext_Sizes){.cbMaxToken = 100, .cbMaxSignature = 16};
        return SEC_E_OK;
    default:
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}

static SECURITY_STATUS
fake_query_token(void *pkg_ctx, struct gh_token **token_out)
{
    struct sspi_token_info info = {
        .user = "nobody", .domain = "TEST", .package = "Test", .local_account = "nobody"};

    (void)pkg_ctx;
    return sspi_token_create(&info, token_out);
}

static SECURITY_STATUS
fake_sign(void *pkg_ctx, unsigned long qop, PSecBufferDesc msg, unsigned long seq_no)
{
    (void)pkg_ctx;
    (void)qop;
    (void)msg;
    (void)seq_no;
    return SEC_E_OK;
}

const struct sspi_package sspi_test_package = {
    .name = "Test",
    .comment = "fake package for unit tests",
    .capabilities = SECPKG_FLAG_CONNECTION,
    .version = 1,
    .rpc_id = 0xffff,
    .max_token_bytes = 2000,
    .acquire_cred = fake_acquire,
    .free_cred = fake_free_cred,
    .init_ctx = fake_init,
    .accept_ctx = fake_accept,
    .complete_token = fake_complete,
    .delete_ctx = fake_delete,
    .query_ctx = fake_query,
    .query_token = fake_query_token,
    .make_signature = fake_sign,
};

/* ---- Helpers -------------------------------------------------------------------- */
static SEC_CHAR pkg_name[] = "Test";

static CredHandle
acquire(unsigned long use)
{
    CredHandle h;
    TimeStamp ts;

    SecInvalidateHandle(&h);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, use, NULL, NULL, NULL, NULL, &h, &ts),
             SEC_E_OK);
    return h;
}

/* A two-buffer input (TOKEN + EMPTY) and a one-buffer output over out_bytes. */
struct io {
    SecBuffer in_bufs[2];
    SecBufferDesc in;
    SecBuffer out_buf;
    SecBufferDesc out;
    char out_bytes[64];
};

static void
io_init(struct io *io, const char *in_token)
{
    memset(io, 0, sizeof(*io));
    io->in_bufs[0] =
        (SecBuffer){(unsigned long)strlen(in_token), SECBUFFER_TOKEN, (void *)in_token};
    io->in_bufs[1] = (SecBuffer){0, SECBUFFER_EMPTY, NULL};
    io->in = (SecBufferDesc){SECBUFFER_VERSION, 2, io->in_bufs};
    io->out_buf = (SecBuffer){sizeof(io->out_bytes), SECBUFFER_TOKEN, io->out_bytes};
    io->out = (SecBufferDesc){SECBUFFER_VERSION, 1, &io->out_buf};
}

static bool
out_is(const struct io *io, const char *s)
{
    return io->out_buf.cbBuffer == strlen(s) && memcmp(io->out_buf.pvBuffer, s, strlen(s)) == 0;
}

static SECURITY_STATUS
isc(CredHandle *cred, CtxtHandle *ctx, bool first, const char *in_token, struct io *io,
    unsigned long *attrs)
{
    static SEC_CHAR target[] = "HTTP/svc";

    io_init(io, in_token);
    return InitializeSecurityContextA(cred, first ? NULL : ctx, target, ISC_REQ_CONNECTION, 0,
                                      SECURITY_NATIVE_DREP, first ? NULL : &io->in, 0, ctx,
                                      &io->out, attrs, NULL);
}

static SECURITY_STATUS
asc(CredHandle *cred, CtxtHandle *ctx, bool first, const char *in_token, struct io *io,
    unsigned long *attrs)
{
    io_init(io, in_token);
    return AcceptSecurityContext(cred, first ? NULL : ctx, &io->in, ASC_REQ_CONNECTION,
                                 SECURITY_NATIVE_DREP, ctx, &io->out, attrs, NULL);
}

/* ---- Tests ------------------------------------------------------------------------ */
static void
test_packages(void)
{
    unsigned long count = 0;
    PSecPkgInfoA infos = NULL, one = NULL;
    PSecPkgInfoW winfos = NULL, wone = NULL;
    SEC_CHAR lower[] = "test", unknown[] = "NoSuch";
    SEC_WCHAR wname[] = {'T', 'E', 'S', 'T', 0};

    CHECK_EQ(EnumerateSecurityPackagesA(&count, &infos), SEC_E_OK);
    CHECK(count >= 1);
    CHECK_STR_EQ(infos[count - 1].Name, "Test"); /* the registry lists it last */
    CHECK_STR_EQ(infos[count - 1].Comment, "fake package for unit tests");
    CHECK_EQ(infos[count - 1].cbMaxToken, 2000);
    CHECK_EQ(FreeContextBuffer(infos), SEC_E_OK); /* one call frees the whole array */
    CHECK_EQ(EnumerateSecurityPackagesW(&count, &winfos), SEC_E_OK);
    CHECK_EQ(winfos[count - 1].Name[0], 'T');
    CHECK_EQ(winfos[count - 1].Name[4], 0);
    CHECK_EQ(FreeContextBuffer(winfos), SEC_E_OK);
    CHECK_EQ(EnumerateSecurityPackagesA(NULL, &infos), SEC_E_INVALID_PARAMETER);

    CHECK_EQ(QuerySecurityPackageInfoA(lower, &one), SEC_E_OK);
    CHECK_STR_EQ(one->Name, "Test");
    CHECK_EQ(one->wRPCID, 0xffff);
    CHECK_EQ(FreeContextBuffer(one), SEC_E_OK);
    CHECK_EQ(QuerySecurityPackageInfoA(unknown, &one), SEC_E_SECPKG_NOT_FOUND);
    CHECK_EQ(QuerySecurityPackageInfoA(NULL, &one), SEC_E_SECPKG_NOT_FOUND);
    CHECK_EQ(QuerySecurityPackageInfoW(wname, &wone), SEC_E_OK);
    CHECK_EQ(wone->Name[1], 'e');
    CHECK_EQ(FreeContextBuffer(wone), SEC_E_OK);
    CHECK_EQ(FreeContextBuffer(NULL), SEC_E_OK);
}

static void
test_function_table(void)
{
    PSecurityFunctionTableA a = InitSecurityInterfaceA();
    PSecurityFunctionTableW w = InitSecurityInterfaceW();

    CHECK(a != NULL && w != NULL);
    CHECK_EQ(a->dwVersion, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION);
    CHECK(a->InitializeSecurityContextA == InitializeSecurityContextA);
    CHECK(a->FreeContextBuffer == FreeContextBuffer);
    CHECK(w->AcquireCredentialsHandleW == AcquireCredentialsHandleW);
    CHECK(w->QuerySecurityContextToken == QuerySecurityContextToken);
}

static void
test_acquire(void)
{
    static unsigned char user[] = "alice", domain[] = "CORP", password[] = "s3cret";
    SEC_WINNT_AUTH_IDENTITY_A ida = {user, 5, domain, 4, password, 6, SEC_WINNT_AUTH_IDENTITY_ANSI};
    /* "Jürgen😀" in UTF-16: a BMP character and a surrogate pair. */
    unsigned short wuser[] = {'J', 0xfc, 'r', 'g', 'e', 'n', 0xd83d, 0xde00};
    unsigned short wpass[] = {'p', 'w'};
    SEC_WINNT_AUTH_IDENTITY_W idw = {wuser, 8, NULL, 0, wpass, 2, SEC_WINNT_AUTH_IDENTITY_UNICODE};
    unsigned short lone[] = {'a', 0xd800};
    SEC_WINNT_AUTH_IDENTITY_W bad_w = {lone, 2, NULL, 0, NULL, 0, SEC_WINNT_AUTH_IDENTITY_UNICODE};
    SEC_WINNT_AUTH_IDENTITY_A bad_flags = ida, bad_ptr = ida, nocreds = ida;
    GH_ACCEPTOR_AUTH_DATA acc = {.Version = GH_ACCEPTOR_AUTH_DATA_V1, .UserStore = "/x/users"};
    GH_ACCEPTOR_AUTH_DATA bad_acc = {.Version = 7};
    SEC_CHAR unknown[] = "NoSuch", principal[] = "svc@TEST";
    SEC_WCHAR wpkg[] = {'T', 'e', 's', 't', 0}, wbad_pkg[] = {0xdc00, 0};
    size_t live = handles_count();
    CredHandle h;
    SecPkgCredentials_NamesA names;
    SecPkgCredentials_NamesW wnames;

    CHECK_EQ(AcquireCredentialsHandleA(NULL, unknown, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                       &h, NULL),
             SEC_E_SECPKG_NOT_FOUND);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, NULL, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, &h,
                                       NULL),
             SEC_E_SECPKG_NOT_FOUND);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                       NULL, NULL),
             SEC_E_INVALID_PARAMETER);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, 0, NULL, NULL, NULL, NULL, &h, NULL),
             SEC_E_INVALID_PARAMETER);

    CHECK_EQ(AcquireCredentialsHandleA(principal, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &ida, NULL,
                                       NULL, &h, NULL),
             SEC_E_OK);
    CHECK(fake.has_identity);
    CHECK_STR_EQ(fake.user, "alice");
    CHECK_STR_EQ(fake.domain, "CORP");
    CHECK_STR_EQ(fake.password, "s3cret");
    CHECK_STR_EQ(fake.principal, "svc@TEST");
    CHECK(!fake.has_acceptor);
    /* The package has no query_cred: NAMES falls back to the identity given. */
    CHECK_EQ(QueryCredentialsAttributesA(&h, SECPKG_CRED_ATTR_NAMES, &names), SEC_E_OK);
    CHECK_STR_EQ(names.sUserName, "CORP\\alice");
    FreeContextBuffer(names.sUserName);
    CHECK_EQ(QueryCredentialsAttributesW(&h, SECPKG_CRED_ATTR_NAMES, &wnames), SEC_E_OK);
    CHECK_EQ(wnames.sUserName[4], '\\');
    FreeContextBuffer(wnames.sUserName);
    CHECK_EQ(QueryCredentialsAttributesA(&h, SECPKG_CRED_ATTR_NAMES, NULL),
             SEC_E_INVALID_PARAMETER);
    CHECK_EQ(FreeCredentialsHandle(&h), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&h), SEC_E_INVALID_HANDLE);

    /* The W identity through the W entry point: converted to UTF-8. */
    CHECK_EQ(AcquireCredentialsHandleW(NULL, wpkg, SECPKG_CRED_OUTBOUND, NULL, &idw, NULL, NULL, &h,
                                       NULL),
             SEC_E_OK);
    CHECK_STR_EQ(fake.user, "J\xc3\xbcrgen\xf0\x9f\x98\x80");
    CHECK_STR_EQ(fake.domain, "(null)");
    CHECK_STR_EQ(fake.password, "pw");
    CHECK_EQ(FreeCredentialsHandle(&h), SEC_E_OK);
    CHECK_EQ(AcquireCredentialsHandleW(NULL, wbad_pkg, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                       &h, NULL),
             SEC_E_SECPKG_NOT_FOUND);

    /* The _EX forms (SEC_WINNT_AUTH_IDENTITY_VERSION first), A and W; the
     * PackageList is ignored; a short Length or MARSHALLED / ONLY is refused. */
    static unsigned char plist[] = "!ntlm";
    SEC_WINNT_AUTH_IDENTITY_EXA exa = {
        SEC_WINNT_AUTH_IDENTITY_VERSION, sizeof(exa), user, 5, domain, 4, password, 6,
        SEC_WINNT_AUTH_IDENTITY_ANSI,    plist,       5};
    SEC_WINNT_AUTH_IDENTITY_EXW exw = {
        SEC_WINNT_AUTH_IDENTITY_VERSION, sizeof(exw), wuser, 8, NULL, 0, wpass, 2,
        SEC_WINNT_AUTH_IDENTITY_UNICODE, NULL,        0};
    CHECK_EQ(AcquireCredentialsHandleW(NULL, wpkg, SECPKG_CRED_OUTBOUND, NULL, &exa, NULL, NULL, &h,
                                       NULL),
             SEC_E_OK);
    CHECK_STR_EQ(fake.user, "alice");
    CHECK_STR_EQ(fake.domain, "CORP");
    CHECK_STR_EQ(fake.password, "s3cret");
    CHECK_EQ(FreeCredentialsHandle(&h), SEC_E_OK);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &exw, NULL, NULL,
                                       &h, NULL),
             SEC_E_OK);
    CHECK_STR_EQ(fake.user, "J\xc3\xbcrgen\xf0\x9f\x98\x80");
    CHECK_STR_EQ(fake.password, "pw");
    CHECK_EQ(FreeCredentialsHandle(&h), SEC_E_OK);
    exa.Length = sizeof(SEC_WINNT_AUTH_IDENTITY_A);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &exa, NULL, NULL,
                                       &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);
    exa.Length = sizeof(exa);
    exa.Flags |= SEC_WINNT_AUTH_IDENTITY_MARSHALLED;
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &exa, NULL, NULL,
                                       &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);
    exa.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_ONLY;
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &exa, NULL, NULL,
                                       &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);

    /* Malformed identities. */
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &bad_w, NULL,
                                       NULL, &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);
    bad_flags.Flags = 0;
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &bad_flags, NULL,
                                       NULL, &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);
    bad_ptr.Domain = NULL; /* with DomainLength 4 */
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &bad_ptr, NULL,
                                       NULL, &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);
    bad_ptr = ida;
    bad_ptr.Password = (unsigned char *)"\xff\xfe";
    bad_ptr.PasswordLength = 2; /* not UTF-8 */
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &bad_ptr, NULL,
                                       NULL, &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);

    /* The package's own refusal leaves no handle behind. */
    nocreds.User = (unsigned char *)"nocreds";
    nocreds.UserLength = 7;
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_OUTBOUND, NULL, &nocreds, NULL,
                                       NULL, &h, NULL),
             SEC_E_NO_CREDENTIALS);

    /* Acceptor configuration: version checked, defaults filled. */
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_INBOUND, NULL, &bad_acc, NULL,
                                       NULL, &h, NULL),
             SEC_E_UNKNOWN_CREDENTIALS);
    CHECK_EQ(AcquireCredentialsHandleA(NULL, pkg_name, SECPKG_CRED_INBOUND, NULL, &acc, NULL, NULL,
                                       &h, NULL),
             SEC_E_OK);
    CHECK(fake.has_acceptor);
    CHECK(!fake.has_identity);
    CHECK_STR_EQ(fake.acceptor_store, "/x/users");
    CHECK_STR_EQ(fake.acceptor_domain, "GATEHOUSE");
    CHECK_EQ(FreeCredentialsHandle(&h), SEC_E_OK);
    CHECK_EQ(handles_count(), live);
    CHECK_EQ(fake.creds_made, fake.creds_freed);
}

static void
test_loop(void)
{
    CredHandle ic = acquire(SECPKG_CRED_OUTBOUND), ac = acquire(SECPKG_CRED_INBOUND);
    CtxtHandle ictx, actx;
    unsigned long iattrs = 0, aattrs = 0;
    struct io i1, a1, i2, a2;
    SecPkgContext_Flags flags;
    SecPkgContext_PackageInfoA pinfo;
    SecPkgContext_PackageInfoW wpinfo;
    SecPkgContext_NegotiationInfoA ninfo;
    SecPkgContext_NegotiationInfoW wninfo;
    SecPkgContext_NamesA names;
    SecPkgContext_NamesW wnames;
    SecPkgContext_NativeNamesW wnative;
    SecPkgContext_Sizes sizes;
    SecPkgContext_AccessToken at;
    SecPkgContext_GhExtendedError ext;
    void *token = NULL;

    CHECK_EQ(isc(&ic, &ictx, true, "", &i1, &iattrs), SEC_I_CONTINUE_NEEDED);
    CHECK(out_is(&i1, "INIT1"));
    CHECK_EQ(iattrs, ISC_RET_CONNECTION);
    CHECK_EQ(asc(&ac, &actx, true, "INIT1", &a1, &aattrs), SEC_I_CONTINUE_NEEDED);
    CHECK(out_is(&a1, "ACC1"));
    CHECK_EQ(isc(&ic, &ictx, false, "ACC1", &i2, &iattrs), SEC_E_OK);
    CHECK(out_is(&i2, "INIT2")); /* SEC_E_OK with a last token to send */
    CHECK_EQ(iattrs, ISC_RET_CONNECTION | ISC_RET_MUTUAL_AUTH);
    CHECK_EQ(asc(&ac, &actx, false, "INIT2", &a2, &aattrs), SEC_E_OK);
    CHECK_EQ(a2.out_buf.cbBuffer, 0); /* no token: the output says so */
    CHECK_EQ(aattrs, ASC_RET_CONNECTION);

    CHECK_EQ(QueryContextAttributesA(&ictx, SECPKG_ATTR_FLAGS, &flags), SEC_E_OK);
    CHECK_EQ(flags.Flags, ISC_RET_CONNECTION | ISC_RET_MUTUAL_AUTH);
    CHECK_EQ(QueryContextAttributesA(&ictx, SECPKG_ATTR_PACKAGE_INFO, &pinfo), SEC_E_OK);
    CHECK_STR_EQ(pinfo.PackageInfo->Name, "Test");
    FreeContextBuffer(pinfo.PackageInfo);
    CHECK_EQ(QueryContextAttributesW(&ictx, SECPKG_ATTR_PACKAGE_INFO, &wpinfo), SEC_E_OK);
    CHECK_EQ(wpinfo.PackageInfo->Name[0], 'T');
    CHECK_EQ(wpinfo.PackageInfo->Name[4], 0);
    CHECK_EQ(wpinfo.PackageInfo->cbMaxToken, 2000);
    FreeContextBuffer(wpinfo.PackageInfo);
    CHECK_EQ(QueryContextAttributesA(&ictx, SECPKG_ATTR_NEGOTIATION_INFO, &ninfo), SEC_E_OK);
    CHECK_STR_EQ(ninfo.PackageInfo->Name, "Test");
    CHECK_EQ(ninfo.NegotiationState, SECPKG_NEGOTIATION_COMPLETE);
    FreeContextBuffer(ninfo.PackageInfo);
    CHECK_EQ(QueryContextAttributesW(&ictx, SECPKG_ATTR_NEGOTIATION_INFO, &wninfo), SEC_E_OK);
    CHECK_EQ(wninfo.PackageInfo->Name[3], 't');
    FreeContextBuffer(wninfo.PackageInfo);
    CHECK_EQ(QueryContextAttributesA(&ictx, SECPKG_ATTR_NAMES, &names), SEC_E_OK);
    CHECK_STR_EQ(names.sUserName, "J\xc3\xbcrgen@TEST");
    FreeContextBuffer(names.sUserName);
    CHECK_EQ(QueryContextAttributesW(&ictx, SECPKG_ATTR_NAMES, &wnames), SEC_E_OK);
    CHECK_EQ(wnames.sUserName[1], 0xfc);
    CHECK_EQ(wnames.sUserName[6], '@');
    FreeContextBuffer(wnames.sUserName);
    CHECK_EQ(QueryContextAttributesW(&ictx, SECPKG_ATTR_NATIVE_NAMES, &wnative), SEC_E_OK);
    CHECK_EQ(wnative.sClientName[0], 'a');
    CHECK_EQ(wnative.sServerName[4], '/');
    FreeContextBuffer(wnative.sClientName);
    FreeContextBuffer(wnative.sServerName);
    CHECK_EQ(QueryContextAttributesW(&ictx, SECPKG_ATTR_SIZES, &sizes), SEC_E_OK);
    CHECK_EQ(sizes.cbMaxSignature, 16);
    CHECK_EQ(QueryContextAttributesA(&ictx, SECPKG_ATTR_LIFESPAN, &sizes),
             SEC_E_UNSUPPORTED_FUNCTION);
    CHECK_EQ(QueryContextAttributesA(&ictx, SECPKG_ATTR_FLAGS, NULL), SEC_E_INVALID_PARAMETER);
    CHECK_EQ(QueryContextAttributesA(&ictx, SECPKG_ATTR_GH_EXTENDED_ERROR, &ext), SEC_E_OK);
    CHECK(ext.Text == NULL); /* nothing failed on this context */

    /* The acceptor's identity: borrowed (ACCESS_TOKEN) or a new reference. */
    CHECK_EQ(QueryContextAttributesA(&actx, SECPKG_ATTR_ACCESS_TOKEN, &at), SEC_E_OK);
    CHECK_STR_EQ(gh_token_user(at.AccessToken), "nobody");
    CHECK_EQ(QuerySecurityContextToken(&actx, &token), SEC_E_OK);
    CHECK_STR_EQ(gh_token_package(token), "Test");
    CHECK_STR_EQ(gh_token_principal(token), "nobody@TEST");
    gh_token_close(token);
    CHECK_EQ(QuerySecurityContextToken(&actx, NULL), SEC_E_INVALID_PARAMETER);

    /* Impersonation switches this thread's fsuid when we may (tests run as root). */
    if (geteuid() == 0) {
        CHECK_EQ(ImpersonateSecurityContext(&actx), SEC_E_OK);
        CHECK(sspi_token_is_impersonating());
        CHECK_EQ(RevertSecurityContext(&actx), SEC_E_OK);
        CHECK(!sspi_token_is_impersonating());
    } else {
        CHECK_EQ(ImpersonateSecurityContext(&actx), SEC_E_NO_IMPERSONATION);
    }

    /* Message protection goes to the package; absent slots are unsupported. */
    {
        char data[4] = "abc", sig[16];
        SecBuffer mb[2] = {{3, SECBUFFER_DATA, data}, {16, SECBUFFER_TOKEN, sig}};
        SecBufferDesc msg = {SECBUFFER_VERSION, 2, mb}, bad = {1, 2, mb};

        CHECK_EQ(MakeSignature(&ictx, 0, &msg, 0), SEC_E_OK);
        CHECK_EQ(MakeSignature(&ictx, 0, NULL, 0), SEC_E_INVALID_TOKEN);
        CHECK_EQ(MakeSignature(&ictx, 0, &bad, 0), SEC_E_INVALID_TOKEN);
        CHECK_EQ(EncryptMessage(&ictx, 0, &msg, 0), SEC_E_UNSUPPORTED_FUNCTION);
        CHECK_EQ(VerifySignature(&ictx, &msg, 0, NULL), SEC_E_UNSUPPORTED_FUNCTION);
        CHECK_EQ(DecryptMessage(&ictx, &msg, 0, NULL), SEC_E_UNSUPPORTED_FUNCTION);
        CHECK_EQ(ApplyControlToken(&ictx, &msg), SEC_E_UNSUPPORTED_FUNCTION);
    }

    CHECK_EQ(DeleteSecurityContext(&ictx), SEC_E_OK);
    CHECK_EQ(DeleteSecurityContext(&actx), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&ic), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&ac), SEC_E_OK);
}

static void
test_allocate_memory(void)
{
    CredHandle ic = acquire(SECPKG_CRED_OUTBOUND);
    CtxtHandle ctx;
    SecBuffer out_buf = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &out_buf};
    unsigned long attrs = 0;

    CHECK_EQ(InitializeSecurityContextA(&ic, NULL, NULL, ISC_REQ_ALLOCATE_MEMORY, 0, 0, NULL, 0,
                                        &ctx, &out, &attrs, NULL),
             SEC_I_CONTINUE_NEEDED);
    CHECK(attrs & ISC_RET_ALLOCATED_MEMORY);
    CHECK_EQ(out_buf.cbBuffer, 5);
    CHECK(out_buf.pvBuffer != NULL && memcmp(out_buf.pvBuffer, "INIT1", 5) == 0);
    CHECK_EQ(FreeContextBuffer(out_buf.pvBuffer), SEC_E_OK);

    /* A larger token, still allocated for the caller. */
    {
        SecBuffer in_buf = {3, SECBUFFER_TOKEN, (void *)"BIG"};
        SecBufferDesc in = {SECBUFFER_VERSION, 1, &in_buf};

        out_buf = (SecBuffer){0, SECBUFFER_TOKEN, NULL};
        CHECK_EQ(InitializeSecurityContextA(NULL, &ctx, NULL, ISC_REQ_ALLOCATE_MEMORY, 0, 0, &in, 0,
                                            &ctx, &out, &attrs, NULL),
                 SEC_I_CONTINUE_NEEDED);
        CHECK_EQ(out_buf.cbBuffer, 1000);
        CHECK_EQ(FreeContextBuffer(out_buf.pvBuffer), SEC_E_OK);
    }
    CHECK_EQ(DeleteSecurityContext(&ctx), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&ic), SEC_E_OK);
}

static void
test_output_errors(void)
{
    CredHandle ic = acquire(SECPKG_CRED_OUTBOUND);
    CtxtHandle ctx, sentinel;
    char small[4];
    SecBuffer out_buf = {sizeof(small), SECBUFFER_TOKEN, small};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &out_buf};
    SecBuffer other = {0, SECBUFFER_ALERT, NULL};
    SecBufferDesc no_token = {SECBUFFER_VERSION, 1, &other};
    size_t live = handles_count();
    int deleted = fake.ctx_deleted;
    unsigned long attrs;

    SecInvalidateHandle(&ctx);
    sentinel = ctx;
    /* "INIT1" does not fit in 4 bytes: the first call fails and returns no handle. */
    CHECK_EQ(
        InitializeSecurityContextA(&ic, NULL, NULL, 0, 0, 0, NULL, 0, &ctx, &out, &attrs, NULL),
        SEC_E_BUFFER_TOO_SMALL);
    CHECK(memcmp(&ctx, &sentinel, sizeof(ctx)) == 0);
    CHECK_EQ(out_buf.cbBuffer, sizeof(small)); /* untouched */
    CHECK_EQ(handles_count(), live);
    CHECK_EQ(fake.ctx_deleted, deleted + 1); /* the package context was released */
    CHECK_EQ(InitializeSecurityContextA(&ic, NULL, NULL, 0, 0, 0, NULL, 0, &ctx, &no_token, &attrs,
                                        NULL),
             SEC_E_BUFFER_TOO_SMALL);
    CHECK_EQ(
        InitializeSecurityContextA(&ic, NULL, NULL, 0, 0, 0, NULL, 0, &ctx, NULL, &attrs, NULL),
        SEC_E_BUFFER_TOO_SMALL);
    CHECK_EQ(handles_count(), live);
    CHECK_EQ(FreeCredentialsHandle(&ic), SEC_E_OK);
}

static void
test_validation(void)
{
    CredHandle oc = acquire(SECPKG_CRED_OUTBOUND), inb = acquire(SECPKG_CRED_INBOUND);
    CtxtHandle ctx, garbage = {12345, 999}, zero = {0, 0}, invalid;
    char out_bytes[64];
    SecBuffer out_buf = {sizeof(out_bytes), SECBUFFER_TOKEN, out_bytes};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &out_buf};
    SecBuffer in_buf = {5, SECBUFFER_TOKEN, (void *)"INIT1"};
    SecBufferDesc in = {SECBUFFER_VERSION, 1, &in_buf};
    SecBufferDesc bad_version = {1, 1, &in_buf}, no_array = {SECBUFFER_VERSION, 1, NULL};
    SecBuffer null_ptr = {5, SECBUFFER_TOKEN, NULL};
    SecBufferDesc null_buf = {SECBUFFER_VERSION, 1, &null_ptr};
    SecBufferDesc many = {SECBUFFER_VERSION, 1000, &in_buf};
    SEC_WCHAR wtarget[] = {'a', 0xdfff, 0};
    unsigned long attrs;

    SecInvalidateHandle(&invalid);
    /* Handles. */
    CHECK_EQ(
        InitializeSecurityContextA(NULL, NULL, NULL, 0, 0, 0, NULL, 0, &ctx, &out, &attrs, NULL),
        SEC_E_INVALID_HANDLE);
    CHECK_EQ(
        InitializeSecurityContextA(&oc, NULL, NULL, 0, 0, 0, NULL, 0, NULL, &out, &attrs, NULL),
        SEC_E_INVALID_PARAMETER);
    CHECK_EQ(InitializeSecurityContextA(&garbage, NULL, NULL, 0, 0, 0, NULL, 0, &ctx, &out, &attrs,
                                        NULL),
             SEC_E_INVALID_HANDLE);
    CHECK_EQ(
        InitializeSecurityContextA(&zero, NULL, NULL, 0, 0, 0, NULL, 0, &ctx, &out, &attrs, NULL),
        SEC_E_INVALID_HANDLE);
    CHECK_EQ(InitializeSecurityContextA(&invalid, NULL, NULL, 0, 0, 0, NULL, 0, &ctx, &out, &attrs,
                                        NULL),
             SEC_E_INVALID_HANDLE);
    CHECK_EQ(
        InitializeSecurityContextA(&oc, &garbage, NULL, 0, 0, 0, &in, 0, &ctx, &out, &attrs, NULL),
        SEC_E_INVALID_HANDLE);
    CHECK_EQ(DeleteSecurityContext(&garbage), SEC_E_INVALID_HANDLE);
    CHECK_EQ(DeleteSecurityContext(NULL), SEC_E_INVALID_HANDLE);
    CHECK_EQ(FreeCredentialsHandle(&garbage), SEC_E_INVALID_HANDLE);
    CHECK_EQ(QueryContextAttributesA(&garbage, SECPKG_ATTR_FLAGS, &attrs), SEC_E_INVALID_HANDLE);
    CHECK_EQ(CompleteAuthToken(&garbage, NULL), SEC_E_INVALID_HANDLE);
    CHECK_EQ(ImpersonateSecurityContext(&invalid), SEC_E_INVALID_HANDLE);
    CHECK_EQ(RevertSecurityContext(&zero), SEC_E_INVALID_HANDLE);
    CHECK_EQ(MakeSignature(&garbage, 0, &in, 0), SEC_E_INVALID_HANDLE);
    /* A credential handle is not a context handle, and the reverse. */
    CHECK_EQ(DeleteSecurityContext(&oc), SEC_E_INVALID_HANDLE);

    /* Credentials used on the wrong side. */
    CHECK_EQ(
        InitializeSecurityContextA(&inb, NULL, NULL, 0, 0, 0, NULL, 0, &ctx, &out, &attrs, NULL),
        SEC_E_NO_CREDENTIALS);
    CHECK_EQ(AcceptSecurityContext(&oc, NULL, &in, 0, 0, &ctx, &out, &attrs, NULL),
             SEC_E_NO_CREDENTIALS);

    /* Buffer descriptors. */
    CHECK_EQ(AcceptSecurityContext(&inb, NULL, &bad_version, 0, 0, &ctx, &out, &attrs, NULL),
             SEC_E_INVALID_TOKEN);
    CHECK_EQ(AcceptSecurityContext(&inb, NULL, &no_array, 0, 0, &ctx, &out, &attrs, NULL),
             SEC_E_INVALID_TOKEN);
    CHECK_EQ(AcceptSecurityContext(&inb, NULL, &null_buf, 0, 0, &ctx, &out, &attrs, NULL),
             SEC_E_INVALID_TOKEN);
    CHECK_EQ(AcceptSecurityContext(&inb, NULL, &many, 0, 0, &ctx, &out, &attrs, NULL),
             SEC_E_INVALID_TOKEN);
    CHECK_EQ(AcceptSecurityContext(&inb, NULL, &in, 0, 0, &ctx, &bad_version, &attrs, NULL),
             SEC_E_INVALID_TOKEN);

    /* Strings. */
    CHECK_EQ(
        InitializeSecurityContextW(&oc, NULL, wtarget, 0, 0, 0, NULL, 0, &ctx, &out, &attrs, NULL),
        SEC_E_INVALID_PARAMETER);
    {
        SEC_CHAR bad_target[] = "a\xc0\xaf"; /* overlong '/' */

        CHECK_EQ(InitializeSecurityContextA(&oc, NULL, bad_target, 0, 0, 0, NULL, 0, &ctx, &out,
                                            &attrs, NULL),
                 SEC_E_INVALID_PARAMETER);
    }
    CHECK_EQ(FreeCredentialsHandle(&oc), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&inb), SEC_E_OK);
}

static void
test_stale_handles(void)
{
    CredHandle ic = acquire(SECPKG_CRED_OUTBOUND);
    CtxtHandle ctx, old, again;
    struct io io;
    unsigned long attrs;

    CHECK_EQ(isc(&ic, &ctx, true, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    old = ctx;
    CHECK_EQ(DeleteSecurityContext(&ctx), SEC_E_OK);
    CHECK_EQ(DeleteSecurityContext(&old), SEC_E_INVALID_HANDLE);
    CHECK_EQ(isc(&ic, &old, false, "ACC1", &io, &attrs), SEC_E_INVALID_HANDLE);
    CHECK_EQ(QueryContextAttributesA(&old, SECPKG_ATTR_FLAGS, &attrs), SEC_E_INVALID_HANDLE);
    /* The slot is reused by the next context: the old handle stays dead. */
    CHECK_EQ(isc(&ic, &again, true, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(again.dwLower, old.dwLower);
    CHECK(again.dwUpper != old.dwUpper);
    CHECK_EQ(DeleteSecurityContext(&old), SEC_E_INVALID_HANDLE);
    CHECK_EQ(DeleteSecurityContext(&again), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&ic), SEC_E_OK);
}

static void
test_failures_and_extended_error(void)
{
    CredHandle ic = acquire(SECPKG_CRED_OUTBOUND), ac = acquire(SECPKG_CRED_INBOUND);
    CtxtHandle ctx, sentinel, actx;
    SEC_CHAR unknown[] = "unknown";
    char out_bytes[16];
    SecBuffer out_buf = {sizeof(out_bytes), SECBUFFER_TOKEN, out_bytes};
    SecBufferDesc out = {SECBUFFER_VERSION, 1, &out_buf};
    SecPkgContext_GhExtendedError ext;
    struct io io;
    unsigned long attrs = 0;

    /* A failed first call: no handle, but the reason is kept for the thread. */
    SecInvalidateHandle(&ctx);
    sentinel = ctx;
    CHECK_EQ(InitializeSecurityContextA(&ic, NULL, unknown, ISC_REQ_EXTENDED_ERROR, 0, 0, NULL, 0,
                                        &ctx, &out, &attrs, NULL),
             SEC_E_TARGET_UNKNOWN);
    CHECK(memcmp(&ctx, &sentinel, sizeof(ctx)) == 0);
    CHECK_EQ(QueryContextAttributesA(NULL, SECPKG_ATTR_GH_EXTENDED_ERROR, &ext), SEC_E_OK);
    CHECK_STR_EQ(ext.Text, "test: no such target");

    /* A failed later call: the context survives and holds the reason. */
    CHECK_EQ(asc(&ac, &actx, true, "INIT1", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(asc(&ac, &actx, false, "BAD", &io, &attrs), SEC_E_INVALID_TOKEN);
    CHECK_EQ(QueryContextAttributesA(&actx, SECPKG_ATTR_GH_EXTENDED_ERROR, &ext), SEC_E_OK);
    CHECK_STR_EQ(ext.Text, "test: bad token");
    /* Without a package text, the status is named. */
    CHECK_EQ(asc(&ac, &actx, false, "garbage", &io, &attrs), SEC_E_INVALID_TOKEN);
    CHECK_EQ(QueryContextAttributesA(&actx, SECPKG_ATTR_GH_EXTENDED_ERROR, &ext), SEC_E_OK);
    CHECK_STR_EQ(ext.Text, "Test: SEC_E_INVALID_TOKEN (0x80090308)");

    /* SEC_E_INCOMPLETE_MESSAGE: the EMPTY input buffer becomes MISSING. */
    CHECK_EQ(asc(&ac, &actx, false, "PART", &io, &attrs), SEC_E_INCOMPLETE_MESSAGE);
    CHECK_EQ(io.in_bufs[1].BufferType, SECBUFFER_MISSING);
    CHECK_EQ(io.in_bufs[1].cbBuffer, 7);
    /* Unconsumed input: the EMPTY buffer becomes EXTRA. */
    CHECK_EQ(asc(&ac, &actx, false, "EXTRA", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK(out_is(&io, "X"));
    CHECK_EQ(io.in_bufs[1].BufferType, SECBUFFER_EXTRA);
    CHECK_EQ(io.in_bufs[1].cbBuffer, 3);
    CHECK_EQ(DeleteSecurityContext(&actx), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&ic), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&ac), SEC_E_OK);
}

static void
test_complete_and_reauth(void)
{
    CredHandle ic = acquire(SECPKG_CRED_OUTBOUND);
    CtxtHandle ctx;
    struct io io;
    unsigned long attrs = 0;
    int completes = fake.completes, made, deleted;

    /* Nothing pending: CompleteAuthToken succeeds without asking the package. */
    CHECK_EQ(isc(&ic, &ctx, true, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(CompleteAuthToken(&ctx, NULL), SEC_E_OK);
    CHECK_EQ(fake.completes, completes);

    CHECK_EQ(isc(&ic, &ctx, false, "COMPCONT", &io, &attrs), SEC_I_COMPLETE_AND_CONTINUE);
    CHECK(out_is(&io, "CC"));
    CHECK_EQ(CompleteAuthToken(&ctx, &io.out), SEC_E_OK);
    CHECK_EQ(fake.completes, completes + 1);
    CHECK_EQ(isc(&ic, &ctx, false, "COMPLETE", &io, &attrs), SEC_I_COMPLETE_NEEDED);
    CHECK_EQ(CompleteAuthToken(&ctx, &io.out), SEC_E_OK);
    CHECK_EQ(fake.completes, completes + 2);

    /* Complete now: calling again re-authenticates with a fresh package context. */
    made = fake.ctx_made;
    deleted = fake.ctx_deleted;
    CHECK_EQ(isc(&ic, &ctx, false, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK(out_is(&io, "INIT1"));
    CHECK(attrs & ISC_RET_REAUTHENTICATION);
    CHECK_EQ(fake.ctx_made, made + 1);
    CHECK_EQ(fake.ctx_deleted, deleted + 1);
    CHECK_EQ(isc(&ic, &ctx, false, "ACC1", &io, &attrs), SEC_E_OK);
    CHECK(!(attrs & ISC_RET_REAUTHENTICATION));
    /* ... and again after SEC_E_OK. */
    CHECK_EQ(isc(&ic, &ctx, false, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK(attrs & ISC_RET_REAUTHENTICATION);
    CHECK_EQ(DeleteSecurityContext(&ctx), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&ic), SEC_E_OK);
}

struct blocked_call {
    CredHandle cred;
    CtxtHandle ctx;
    SECURITY_STATUS status;
    struct io io;
};

static void *
blocked_thread(void *arg)
{
    struct blocked_call *call = arg;
    unsigned long attrs;

    call->status = isc(&call->cred, &call->ctx, false, "BLOCK", &call->io, &attrs);
    return NULL;
}

static void
test_concurrency(void)
{
    struct blocked_call call = {.cred = acquire(SECPKG_CRED_OUTBOUND)};
    CtxtHandle other;
    pthread_t thread;
    struct io io;
    unsigned long attrs;

    CHECK_EQ(isc(&call.cred, &call.ctx, true, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(pthread_create(&thread, NULL, blocked_thread, &call), 0);
    sem_wait(&fake.entered); /* the other thread is inside the package */

    /* Any use of the same context is refused and changes nothing. */
    CHECK_EQ(isc(&call.cred, &call.ctx, false, "ACC1", &io, &attrs), SEC_E_INTERNAL_ERROR);
    CHECK_EQ(QueryContextAttributesA(&call.ctx, SECPKG_ATTR_FLAGS, &attrs), SEC_E_INTERNAL_ERROR);
    CHECK_EQ(DeleteSecurityContext(&call.ctx), SEC_E_INTERNAL_ERROR);
    CHECK_EQ(CompleteAuthToken(&call.ctx, NULL), SEC_E_INTERNAL_ERROR);
    /* Another context works meanwhile. */
    CHECK_EQ(isc(&call.cred, &other, true, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(DeleteSecurityContext(&other), SEC_E_OK);

    sem_post(&fake.release);
    pthread_join(thread, NULL);
    CHECK_EQ(call.status, SEC_I_CONTINUE_NEEDED);
    CHECK(out_is(&call.io, "UNBLOCKED"));
    CHECK_EQ(DeleteSecurityContext(&call.ctx), SEC_E_OK);
    CHECK_EQ(FreeCredentialsHandle(&call.cred), SEC_E_OK);
}

static void
test_refcounted_credentials(void)
{
    CredHandle ic = acquire(SECPKG_CRED_OUTBOUND), other = acquire(SECPKG_CRED_OUTBOUND);
    CtxtHandle ctx;
    struct io io;
    unsigned long attrs;
    int freed = fake.creds_freed;

    CHECK_EQ(isc(&ic, &ctx, true, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(FreeCredentialsHandle(&ic), SEC_E_OK);
    CHECK_EQ(fake.creds_freed, freed); /* the context still holds it */
    CHECK_EQ(FreeCredentialsHandle(&ic), SEC_E_INVALID_HANDLE);
    /* The context keeps working without the handle (phCredential NULL later). */
    CHECK_EQ(isc(NULL, &ctx, false, "ACC1", &io, &attrs), SEC_E_OK);
    /* New credentials of the same package may be named on a later call. */
    CHECK_EQ(isc(&other, &ctx, false, "", &io, &attrs), SEC_I_CONTINUE_NEEDED);
    CHECK_EQ(fake.creds_freed, freed + 1); /* the first one had no holder left */
    CHECK_EQ(DeleteSecurityContext(&ctx), SEC_E_OK);
    CHECK_EQ(fake.creds_freed, freed + 1);
    CHECK_EQ(FreeCredentialsHandle(&other), SEC_E_OK);
    CHECK_EQ(fake.creds_freed, freed + 2);
}

int
main(void)
{
    size_t live = handles_count();

    sem_init(&fake.entered, 0, 0);
    sem_init(&fake.release, 0, 0);
    test_packages();
    test_function_table();
    test_acquire();
    test_loop();
    test_allocate_memory();
    test_output_errors();
    test_validation();
    test_stale_handles();
    test_failures_and_extended_error();
    test_complete_and_reauth();
    test_concurrency();
    test_refcounted_credentials();
    CHECK_EQ(handles_count(), live);
    CHECK_EQ(fake.ctx_made, fake.ctx_deleted);
    CHECK_EQ(fake.creds_made, fake.creds_freed);
    return check_done("test_sspi");
}
