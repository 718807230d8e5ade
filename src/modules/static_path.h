// SPDX-License-Identifier: MIT
// Pure helpers of the static module, kept apart so they can be unit tested and
// fuzzed without a server: URL path to file path, byte ranges, validators.
#ifndef GH_MODULES_STATIC_PATH_H
#define GH_MODULES_STATIC_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Turns a percent-encoded URL path (the part below the location, with or
 * without a leading '/') into a relative file path: segments joined by '/', no
 * leading or trailing '/', "" for the root itself. Rules (RFC 3986 2.1, 5.2.4):
 *   - %XX needs two hex digits; a decoded NUL or '/' is refused (an encoded
 *     slash would hide a segment boundary from the dot-segment rules);
 *   - a NUL or another control byte (< 0x20, 0x7f), raw or decoded, is refused;
 *   - "." and empty segments are dropped, ".." removes the previous segment and
 *     is refused when there is none (it would leave the root). Dot segments are
 *     recognized after decoding, so "%2e%2e" counts as "..".
 * Writes at most cap bytes (NUL-terminated) to out. *is_dir_out tells whether
 * the path ended with '/' (or a dot segment). Returns GH_OK, GH_EPROTO (refused:
 * answer 400) or GH_ELIMIT (out too small or more than 64 segments: 414). */
int static_path_normalize(const char *path, size_t len, char *out, size_t cap, size_t *out_len,
                          bool *is_dir_out);

/* One satisfiable byte range [first, last] of a representation of size bytes. */
struct static_range {
    uint64_t first;
    uint64_t last; /* inclusive */
};

/* Parses a Range header value (RFC 9110 14.1.2) against a size.
 *   GH_OK        one satisfiable range in *range_out: answer 206;
 *   GH_ENOTFOUND not a byte range we serve (syntax error, other unit, or
 *                several ranges): ignore the header and answer 200 with
 *                the whole representation;
 *   GH_ELIMIT    syntactically valid but unsatisfiable: answer 416. */
int static_range_parse(const char *value, size_t len, uint64_t size,
                       struct static_range *range_out);

/* Whether an If-None-Match value (a list of entity tags, or "*") matches etag
 * (a quoted strong tag) under the weak comparison (RFC 9110 13.1.2). */
bool static_etag_match(const char *list, size_t len, const char *etag);

#endif
