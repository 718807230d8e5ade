// SPDX-License-Identifier: MIT
// Fuzz target for the user store parser (userstore_parse): never crashes,
// and checks the contract: a parsed store finds every user it lists by name,
// and a refusal always says where ("fuzz:" prefix, with a line when it has one).
#include "sspi/store/userstore.h"

#include <stdint.h>
#include <string.h>

#include <gatehouse/error.h>

#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct userstore *store = NULL;
    char err[256];
    int status = userstore_parse((const char *)data, size, "fuzz", &store, err, sizeof(err));

    if (status == GH_OK) {
        if (store == NULL)
            __builtin_trap();
        for (size_t i = 0; i < userstore_count(store); i++) {
            const char *listed = userstore_name_at(store, i), *found;
            struct buf line;

            buf_init(&line, 1 << 20);
            if (listed == NULL || userstore_describe(store, i, &line) != GH_OK || line.len == 0)
                __builtin_trap();
            buf_free(&line);
            found = userstore_canonical_name(store, listed);
            if (found == NULL || strcmp(found, listed) != 0)
                __builtin_trap();
        }
        userstore_destroy(store);
        return 0;
    }
    if (store != NULL || status >= 0 || strncmp(err, "fuzz", 4) != 0)
        __builtin_trap();
    return 0;
}
