// SPDX-License-Identifier: MIT
// URL parsing for fetch (RFC 3986 3, RFC 9110 4.2): http and https only.
// Userinfo is refused (credentials belong in -u, not in URLs that end up in
// logs and process lists); the fragment is dropped, as clients never send it.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gatehouse/error.h>

#include "cli/fetch.h"

static char *
dup_range(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Characters allowed in a request-target as we send it (RFC 3986 pchar, '/', '?',
 * and '%' of pct-encoded); anything else (spaces, controls, non-ASCII) is refused
 * rather than guessed at. */
static bool
is_target_char(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("-._~!$&'()*+,;=:@/?%", c) != NULL);
}

int
fetch_url_parse(const char *text, struct fetch_url *out, const char **why_out)
{
    struct fetch_url u = {0};
    const char *p;
    int err = GH_EINVAL;

    *why_out = NULL;
    if (strncasecmp(text, "http://", 7) == 0) {
        p = text + 7;
        u.port = 80;
    } else if (strncasecmp(text, "https://", 8) == 0) {
        p = text + 8;
        u.is_https = true;
        u.port = 443;
    } else {
        *why_out = "the URL must start with http:// or https://";
        return GH_EINVAL;
    }
    size_t auth_len = strcspn(p, "/?#");
    const char *auth = p;
    const char *rest = p + auth_len;
    if (memchr(auth, '@', auth_len) != NULL) {
        *why_out = "credentials in the URL are not accepted: use -u";
        return GH_EINVAL;
    }
    const char *host_start, *host_end, *port_start = NULL;
    if (auth_len > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', auth_len);
        if (close == NULL) {
            *why_out = "unterminated IPv6 literal";
            return GH_EINVAL;
        }
        host_start = auth + 1;
        host_end = close;
        if (close + 1 < auth + auth_len) {
            if (close[1] != ':') {
                *why_out = "garbage after the IPv6 literal";
                return GH_EINVAL;
            }
            port_start = close + 2;
        }
    } else {
        host_start = auth;
        const char *colon = memchr(auth, ':', auth_len);
        host_end = colon != NULL ? colon : auth + auth_len;
        if (colon != NULL)
            port_start = colon + 1;
    }
    if (host_end == host_start) {
        *why_out = "no host in the URL";
        return GH_EINVAL;
    }
    for (const char *h = host_start; h < host_end; h++) {
        unsigned char c = (unsigned char)*h;
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || (auth[0] == '[' && c == ':'))) {
            *why_out = "invalid character in the host name";
            return GH_EINVAL;
        }
    }
    if (port_start != NULL) {
        const char *port_end = auth + auth_len;
        unsigned long port = 0;
        if (port_start == port_end || port_end - port_start > 5) {
            *why_out = "invalid port";
            return GH_EINVAL;
        }
        for (const char *q = port_start; q < port_end; q++) {
            if (!isdigit((unsigned char)*q)) {
                *why_out = "invalid port";
                return GH_EINVAL;
            }
            port = port * 10 + (unsigned long)(*q - '0');
        }
        if (port == 0 || port > 65535) {
            *why_out = "invalid port";
            return GH_EINVAL;
        }
        u.port = (uint16_t)port;
    }
    size_t target_len = strcspn(rest, "#");
    for (size_t i = 0; i < target_len; i++) {
        if (!is_target_char((unsigned char)rest[i])) {
            *why_out = "invalid character in the URL path or query (percent-encode it)";
            return GH_EINVAL;
        }
    }
    err = GH_ENOMEM;
    u.host = dup_range(host_start, (size_t)(host_end - host_start));
    u.authority = dup_range(auth, auth_len);
    if (target_len == 0 || rest[0] == '?') {
        u.target = malloc(target_len + 2);
        if (u.target != NULL) {
            u.target[0] = '/';
            memcpy(u.target + 1, rest, target_len);
            u.target[target_len + 1] = '\0';
        }
    } else {
        u.target = dup_range(rest, target_len);
    }
    if (u.host == NULL || u.authority == NULL || u.target == NULL)
        goto fail;
    for (char *h = u.host; *h != 0; h++)
        *h = (char)tolower((unsigned char)*h);
    *out = u;
    return GH_OK;
fail:
    fetch_url_free(&u);
    return err;
}

void
fetch_url_free(struct fetch_url *u)
{
    free(u->host);
    free(u->authority);
    free(u->target);
    *u = (struct fetch_url){0};
}
