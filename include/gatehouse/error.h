// SPDX-License-Identifier: MIT
// gatehouse error convention: < 0 failure, 0 done, > 0 "call again".
#ifndef GATEHOUSE_ERROR_H
#define GATEHOUSE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GH_API __attribute__((visibility("default")))
#else
#define GH_API
#endif

/* One table feeds the enum and gh_strerror(). */
#define GH_ERRORS(X)                                    \
    X(ENOMEM, -1, "out of memory")                      \
    X(EINVAL, -2, "invalid argument")                   \
    X(ELIMIT, -3, "input exceeds a configured limit")   \
    X(EPROTO, -4, "malformed protocol data")            \
    X(EIO, -5, "input/output error")                    \
    X(ENOTFOUND, -6, "not found")                       \
    X(ECLOSED, -7, "connection closed by peer")         \
    X(ETIMEDOUT, -8, "timed out")                       \
    X(EUNSUPPORTED, -9, "not supported")                \
    X(ETLS, -10, "TLS failure")                         \
    X(EAUTH, -11, "authentication failed")              \
    X(EDENIED, -12, "access denied")                    \
    X(ESTATE, -13, "operation not valid in this state") \
    X(EABI, -14, "module ABI version mismatch")         \
    X(EEXIST, -15, "already exists")                    \
    X(EBUSY, -16, "resource busy")

enum gh_err {
    GH_OK = 0,
    GH_AGAIN = 1, /* not a failure: call again when more input arrives */
#define GH_ERR_ENUM(name, value, text) GH_##name = (value),
    GH_ERRORS(GH_ERR_ENUM)
#undef GH_ERR_ENUM
};

/* Returns a static, human-readable text for any gh_err value (never NULL). */
GH_API const char *gh_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
