// SPDX-License-Identifier: MIT
// gh_strerror(): the text half of the error table in <gatehouse/error.h>.
#include <gatehouse/error.h>

const char *
gh_strerror(int err)
{
    switch (err) {
    case GH_OK:
        return "success";
    case GH_AGAIN:
        return "in progress: call again";
#define GH_ERR_TEXT(name, value, text) \
    case GH_##name:                    \
        return text;
        GH_ERRORS(GH_ERR_TEXT)
#undef GH_ERR_TEXT
    default:
        return "unknown error";
    }
}
