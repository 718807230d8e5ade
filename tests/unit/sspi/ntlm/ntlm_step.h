// SPDX-License-Identifier: MIT
// One struct sspi_step for driving the NTLM package table by hand in tests.
#ifndef GH_TESTS_UNIT_SSPI_NTLM_NTLM_STEP_H
#define GH_TESTS_UNIT_SSPI_NTLM_NTLM_STEP_H

#include <string.h>

#include "base/buf.h"
#include "sspi/package.h"

/* A step with input token in, the given ISC_REQ_* / ASC_REQ_* flags and the
 * target name target (may be NULL); free with ntlm_step_free. */
static inline void
ntlm_step_init(struct sspi_step *st, struct slice in, unsigned long req_flags, const char *target)
{
    memset(st, 0, sizeof(*st));
    st->in_token = in;
    st->target = target;
    st->req_flags = req_flags;
    buf_init(&st->out_token, 65536);
    buf_init(&st->error_text, 1024);
}

static inline void
ntlm_step_free(struct sspi_step *st)
{
    buf_free(&st->out_token);
    buf_free(&st->error_text);
}

#endif
