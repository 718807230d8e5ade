// SPDX-License-Identifier: MIT
// A module that reads the request's packed context the way an application
// does (tests/integration/test_auth_packed_context.py): `handler
// packed_probe;` answers one line saying what gh_request_auth_identity() shows
// of the packed context (nothing: it never exports), then what
// gh_request_auth() shows, whether ImportSecurityContext accepts those bytes,
// and what QueryContextAttributes (NAMES, LIFESPAN) says of the imported
// context. Built like a third-party module: only <gatehouse/*.h>, the server
// provides the gh_* and SSPI functions at load time.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gatehouse/http.h>
#include <gatehouse/module.h>
#include <gatehouse/sspi.h>

static enum gh_rq_status
probe_execute(gh_request *req, void *config)
{
    const struct gh_auth_record *id = gh_request_auth_identity(req);
    size_t identity_len = id->packed_context_len; /* before anything exported it */
    const struct gh_auth_record *a = gh_request_auth(req);
    SECURITY_STATUS imp = SEC_E_INVALID_TOKEN, names_st = SEC_E_INVALID_HANDLE;
    SECURITY_STATUS life_st = SEC_E_INVALID_HANDLE;
    SecPkgContext_NamesA names = {0};
    SecPkgContext_Lifespan life = {0};
    CtxtHandle h;
    char line[512];

    (void)config;
    SecInvalidateHandle(&h);
    if (a->packed_context != NULL) {
        SecBuffer packed = {(unsigned long)a->packed_context_len, SECBUFFER_EMPTY,
                            (void *)a->packed_context};
        imp = ImportSecurityContextA(NULL, &packed, NULL, &h);
    }
    if (imp == SEC_E_OK) {
        names_st = QueryContextAttributesA(&h, SECPKG_ATTR_NAMES, &names);
        life_st = QueryContextAttributesA(&h, SECPKG_ATTR_LIFESPAN, &life);
    }
    snprintf(line, sizeof(line),
             "identity_len=%zu len=%zu import=0x%08x names=0x%08x user=%s lifespan=0x%08x "
             "expiry_set=%d cached=%d same=%d\n",
             identity_len, a->packed_context_len, (unsigned)imp, (unsigned)names_st,
             names.sUserName != NULL ? names.sUserName : "-", (unsigned)life_st,
             (life.tsExpiry.LowPart | (uint32_t)life.tsExpiry.HighPart) != 0,
             (a->flags & GH_AUTH_FLAG_TOKEN_FOR_CACHED_CRED) != 0,
             gh_request_auth(req)->packed_context == a->packed_context);
    if (names.sUserName != NULL)
        FreeContextBuffer(names.sUserName);
    if (imp == SEC_E_OK)
        DeleteSecurityContext(&h);
    gh_response_text(req, 200, line);
    return GH_RQ_FINISH;
}

const struct gh_module packed_probe_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "packed_probe",
    .description = "test: imports the request's packed context",
    .on_execute_handler = probe_execute,
};
GH_MODULE_EXPORT(packed_probe_module)
