// SPDX-License-Identifier: MIT
// The one list of built-in modules, and loading of module shared objects.
// Built-ins use the same struct gh_module as external modules; keeping them in
// a plain array keeps registration explicit and greppable (no constructors, no
// linker sections). src/modules depends on src/server, so this array is the one
// reference back; src/modules/CMakeLists.txt declares the resulting link cycle.
#include <dlfcn.h>
#include <stdio.h>

#include <gatehouse/error.h>
#include <gatehouse/module.h>

#include "server/server.h"

extern const struct gh_module whoami_module;
extern const struct gh_module static_module;
extern const struct gh_module proxy_module;
extern const struct gh_module return_module;
extern const struct gh_module status_module;

/* Load order: the order in which notifications reach the modules. */
static const struct gh_module *const builtin_modules[] = {
    &whoami_module, &static_module, &proxy_module, &return_module, &status_module,
};

size_t
module_loader_builtin_count(void)
{
    return sizeof(builtin_modules) / sizeof(builtin_modules[0]);
}

const struct gh_module *
module_loader_builtin(size_t i)
{
    return builtin_modules[i];
}

int
module_loader_open(const char *path, const struct gh_module **module_out, void **handle_out,
                   char *err, size_t err_len)
{
    void *handle;
    gh_module_entry_fn *entry;
    const struct gh_module *m;

    *module_out = NULL;
    *handle_out = NULL;
    /* RTLD_LOCAL: two modules may use the same internal symbol names. */
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(err, err_len, "cannot load %s", why != NULL ? why : path);
        return GH_EIO;
    }
    *(void **)&entry = dlsym(handle, "gh_module_entry");
    if (entry == NULL) {
        snprintf(err, err_len, "%s does not export gh_module_entry", path);
        dlclose(handle);
        return GH_ENOTFOUND;
    }
    m = entry();
    if (m == NULL || m->abi_version != GH_MODULE_ABI_VERSION) {
        snprintf(err, err_len, "%s: module ABI version %u, this server needs %u", path,
                 m == NULL ? 0u : (unsigned)m->abi_version, (unsigned)GH_MODULE_ABI_VERSION);
        dlclose(handle);
        return GH_EABI;
    }
    if (m->name == NULL || m->name[0] == '\0') {
        snprintf(err, err_len, "%s: module has no name", path);
        dlclose(handle);
        return GH_EINVAL;
    }
    *module_out = m;
    *handle_out = handle;
    return GH_OK;
}

void
module_loader_close(void *handle)
{
    if (handle != NULL)
        dlclose(handle);
}
