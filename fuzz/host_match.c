// SPDX-License-Identifier: MIT
// Fuzz target for the choice of a location by Host and path
// (config_location_match, src/server/config.c) over a fixed configuration
// with exact and wildcard host blocks. Input: HOST '\n' PATH (raw bytes; no
// '\n': all host). Invariants: a location always comes back, its prefix is a
// prefix of the path, it belongs to a host block only when the host names
// that block (the exact name, or below the wildcard's domain), and it is the
// longest such prefix of its set.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
    "listen 127.0.0.1:0;\n"
    "location /api/ { }\n"
    "host www.example.org example.org { location / { } location /a/ { } }\n"
    "host *.example.org { location /a/b/ { } }\n"
    "host *.x.example.org X.test { location /x { } }\n";

static struct config *
config(void)
{
    static struct config *cfg;
    char err[256];

    if (cfg == NULL && config_load_text("fuzz.conf", conf_text, sizeof(conf_text) - 1, &cfg, err,
                                        sizeof(err)) != GH_OK)
        __builtin_trap();
    return cfg;
}

/* Whether host (port and a final dot already cut) is name or below "*.d". */
static bool
names(const char *name, const uint8_t *host, size_t len)
{
    size_t nl = strlen(name);
    if (name[0] != '*')
        return nl == len && strncasecmp(name, (const char *)host, len) == 0;
    return len > nl - 1 && strncasecmp(name + 1, (const char *)host + len - (nl - 1), nl - 1) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct config *cfg = config();
    const uint8_t *nl = memchr(data, '\n', size);
    size_t host_len = nl != NULL ? (size_t)(nl - data) : size;
    const uint8_t *path = nl != NULL ? nl + 1 : data + size;
    size_t path_len = nl != NULL ? size - host_len - 1 : 0;
    const struct config_location *loc =
        config_location_match(cfg, (const char *)data, host_len, (const char *)path, path_len);

    if (loc == NULL || loc->prefix_len > path_len + 1)
        __builtin_trap();
    if (loc->prefix_len > 1 && memcmp(loc->prefix, path, loc->prefix_len) != 0)
        __builtin_trap();
    /* The host as the matcher sees it. */
    const uint8_t *colon = memchr(data, ':', host_len);
    size_t len = colon != NULL ? (size_t)(colon - data) : host_len;
    if (len > 0 && data[len - 1] == '.')
        len--;
    if (loc->host >= 0) {
        const struct config_host *ch = &cfg->hosts[loc->host];
        bool named = false;
        for (size_t a = 0; a < ch->name_count; a++)
            named = named || names(ch->names[a], data, len);
        if (!named)
            __builtin_trap();
    }
    /* No longer prefix of the same set matches. */
    for (size_t i = 0; i < cfg->location_count; i++) {
        const struct config_location *o = &cfg->locations[i];
        if (o->host == loc->host && o->prefix_len > loc->prefix_len && o->prefix_len <= path_len &&
            memcmp(o->prefix, path, o->prefix_len) == 0)
            __builtin_trap();
    }
    return 0;
}
