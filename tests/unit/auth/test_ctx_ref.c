// SPDX-License-Identifier: MIT
// Unit tests for src/auth/ctx_ref.c: the context is deleted exactly once, by
// the last release, whoever drops it first; create moves the handle out of
// the caller's; export hands back FreeContextBuffer memory or nothing. And
// the record's side (record.c): auth_record_public() exports once, drops its
// reference, and leaves packed_context empty when the package refuses.
#include <stdlib.h>
#include <string.h>

#include <gatehouse/error.h>

#include "auth/ctx_ref.h"
#include "auth/record.h"
#include "harness/check.h"

static int deletes, exports, frees;
static SECURITY_STATUS export_status = SEC_E_OK;

static SECURITY_STATUS SEC_ENTRY
t_delete(PCtxtHandle h)
{
    CHECK_EQ((unsigned long)h->dwLower, 42UL);
    deletes++;
    SecInvalidateHandle(h);
    return SEC_E_OK;
}

static SECURITY_STATUS SEC_ENTRY
t_export(PCtxtHandle h, unsigned long flags, PSecBuffer packed, void **token)
{
    (void)flags, (void)token;
    CHECK_EQ((unsigned long)h->dwLower, 42UL); /* a deleted handle is invalidated */
    exports++;
    packed->pvBuffer = strdup("ctx-42");
    packed->cbBuffer = 6;
    if (export_status != SEC_E_OK)
        packed->cbBuffer = 0; /* a refusal that still allocated: must be freed */
    return export_status;
}

static SECURITY_STATUS SEC_ENTRY
t_free(void *p)
{
    frees++;
    free(p);
    return SEC_E_OK;
}

static SecurityFunctionTableA table = {
    .DeleteSecurityContext = t_delete,
    .ExportSecurityContext = t_export,
    .FreeContextBuffer = t_free,
};
static const struct auth_backend backend = {.sspi = &table};

static struct auth_ctx_ref *
make(void)
{
    CtxtHandle h = {42, 7};
    struct auth_ctx_ref *r = NULL;

    CHECK_EQ(auth_ctx_ref_create(&table, &h, &r), GH_OK);
    CHECK(r != NULL);
    CHECK(!SecIsValidHandle(&h)); /* the handle moved */
    return r;
}

static void
test_refs(void)
{
    deletes = exports = frees = 0;
    struct auth_ctx_ref *a = make(), *b = auth_ctx_ref_dup(a);
    CHECK(b == a);
    auth_ctx_ref_release(a);
    CHECK_EQ(deletes, 0);
    void *packed = NULL;
    size_t len = 0;
    CHECK_HEX_EQ((uint32_t)auth_ctx_ref_export(b, &packed, &len), (uint32_t)SEC_E_OK);
    CHECK(packed != NULL && len == 6);
    CHECK_MEM_EQ(packed, "ctx-42", 6);
    t_free(packed);
    auth_ctx_ref_release(b);
    CHECK_EQ(deletes, 1);
    auth_ctx_ref_release(NULL);
    CHECK_EQ(deletes, 1);
}

static void
test_export_refused(void)
{
    deletes = exports = frees = 0;
    export_status = SEC_E_UNSUPPORTED_FUNCTION;
    struct auth_ctx_ref *r = make();
    void *packed = (void *)1;
    size_t len = 99;
    CHECK_HEX_EQ((uint32_t)auth_ctx_ref_export(r, &packed, &len),
                 (uint32_t)SEC_E_UNSUPPORTED_FUNCTION);
    CHECK(packed == NULL && len == 0);
    CHECK_EQ(frees, 1); /* the refused buffer went back */
    auth_ctx_ref_release(r);
    export_status = SEC_E_OK;

    table.ExportSecurityContext = NULL;
    r = make();
    CHECK_HEX_EQ((uint32_t)auth_ctx_ref_export(r, &packed, &len),
                 (uint32_t)SEC_E_UNSUPPORTED_FUNCTION);
    auth_ctx_ref_release(r);
    table.ExportSecurityContext = t_export;
    CHECK_EQ(deletes, 2);
}

static void
test_record_public(void)
{
    struct auth_record rec;

    deletes = exports = frees = 0;
    auth_record_init(&rec, &backend);
    auth_record_take_export_source(&rec, make());
    CHECK(rec.pub.packed_context == NULL); /* nothing until read */
    CHECK_EQ(exports, 0);
    const struct gh_auth_record *pub = auth_record_public(&rec);
    CHECK(pub == &rec.pub);
    CHECK(pub->packed_context != NULL && pub->packed_context_len == 6);
    CHECK_EQ(deletes, 1); /* the only reference went with the export */
    CHECK(auth_record_public(&rec)->packed_context == pub->packed_context);
    CHECK_EQ(exports, 1);
    auth_record_clear(&rec);
    CHECK_EQ(frees, 1); /* the packed bytes */

    /* Never read: no export, the reference goes with the record. */
    auth_record_take_export_source(&rec, make());
    auth_record_clear(&rec);
    CHECK_EQ(exports, 1);
    CHECK_EQ(deletes, 2);

    /* The package refuses: an empty packed context, no failure. */
    export_status = SEC_E_UNSUPPORTED_FUNCTION;
    auth_record_take_export_source(&rec, make());
    CHECK(auth_record_public(&rec)->packed_context == NULL);
    CHECK_EQ(rec.pub.packed_context_len, 0);
    CHECK_EQ(deletes, 3);
    auth_record_clear(&rec);
    export_status = SEC_E_OK;
}

int
main(void)
{
    test_refs();
    test_export_refused();
    test_record_public();
    return check_done("auth/ctx_ref");
}
