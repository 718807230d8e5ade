// SPDX-License-Identifier: MIT
// A module whose directive table redefines the built-in `return` directive:
// load_module must refuse it (tests/integration/test_config_docs.py), since a
// directive name means one thing across the tables.
#include <stddef.h>

#include <gatehouse/module.h>

static int
set_clash(void *config, const struct gh_directive *d, char *err, size_t err_len)
{
    (void)config;
    (void)d;
    (void)err;
    (void)err_len;
    return GH_OK;
}

static const struct gh_command clash_commands[] = {
    {"clash_ok", GH_CONF_LOCATION, 0, 0, set_clash, "", NULL, "a directive of its own"},
    {"return", GH_CONF_LOCATION, 1, 1, set_clash, "X", NULL, "the built-in return, again"},
    GH_COMMAND_END,
};

const struct gh_module clash_module = {
    .abi_version = GH_MODULE_ABI_VERSION,
    .name = "clash",
    .description = "test: redefines a built-in directive",
    .commands = clash_commands,
};
GH_MODULE_EXPORT(clash_module)
