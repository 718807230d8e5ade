// SPDX-License-Identifier: MIT
// UTF-8 <-> UTF-16LE. NTLM uppercases user names with Windows' simple case
// mapping (RtlUpcaseUnicodeString); towupper_l in the C.UTF-8 locale gives the
// same simple mapping for the BMP and, unlike towupper, never depends on the
// caller's locale. The locale object is created once (pthread_once).
#include "sspi/ntlm/text.h"

#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include <gatehouse/error.h>

static pthread_once_t upper_once = PTHREAD_ONCE_INIT;
static locale_t upper_locale = (locale_t)0;

static void
upper_init(void)
{
    upper_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint32_t
upper_cp(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
    pthread_once(&upper_once, upper_init);
    if (upper_locale == (locale_t)0 || cp > 0xFFFF)
        return cp;
    uint32_t up = (uint32_t)towupper_l((wint_t)cp, upper_locale);
    /* Simple mapping only: a result outside the BMP would change the length. */
    return up > 0xFFFF ? cp : up;
}

static int
put_unit(struct buf *out, uint32_t u)
{
    uint8_t b[2] = {(uint8_t)(u & 0xFF), (uint8_t)(u >> 8)};
    return buf_append(out, b, 2);
}

static int
put_cp(struct buf *out, uint32_t cp)
{
    if (cp < 0x10000)
        return put_unit(out, cp);
    cp -= 0x10000;
    int err = put_unit(out, 0xD800 | (cp >> 10));
    if (err != GH_OK)
        return err;
    return put_unit(out, 0xDC00 | (cp & 0x3FF));
}

/* Decodes one UTF-8 sequence at s[*i]; returns the code point or UINT32_MAX. */
static uint32_t
next_utf8(const uint8_t *s, size_t len, size_t *i)
{
    uint8_t c = s[*i];
    size_t n;
    uint32_t cp;
    uint32_t min;

    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return UINT32_MAX;
    }
    if (len - *i <= n)
        return UINT32_MAX;
    for (size_t k = 1; k <= n; k++) {
        uint8_t cc = s[*i + k];
        if ((cc & 0xC0) != 0x80)
            return UINT32_MAX;
        cp = (cp << 6) | (cc & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return UINT32_MAX;
    *i += n + 1;
    return cp;
}

int
ntlm_text_to_utf16(const char *s, size_t len, bool upper, struct buf *out)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;

    while (i < len) {
        uint32_t cp = next_utf8(p, len, &i);
        if (cp == UINT32_MAX)
            return GH_EPROTO;
        int err = put_cp(out, upper ? upper_cp(cp) : cp);
        if (err != GH_OK)
            return err;
    }
    return GH_OK;
}

int
ntlm_text_utf16_copy(struct slice utf16, bool upper, struct buf *out)
{
    if (utf16.len % 2 != 0)
        return GH_EPROTO;
    if (!upper)
        return buf_append(out, utf16.ptr, utf16.len);
    for (size_t i = 0; i < utf16.len; i += 2) {
        uint32_t u = (uint32_t)utf16.ptr[i] | ((uint32_t)utf16.ptr[i + 1] << 8);
        /* Surrogates are not letters; they pass through unchanged. */
        if (u < 0xD800 || u > 0xDFFF)
            u = upper_cp(u);
        int err = put_unit(out, u);
        if (err != GH_OK)
            return err;
    }
    return GH_OK;
}

int
ntlm_text_from_utf16(struct slice utf16, char **out)
{
    char *s = NULL;
    size_t n = 0;

    *out = NULL;
    if (utf16.len % 2 != 0)
        return GH_EPROTO;
    /* At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 for 2). */
    s = malloc(utf16.len / 2 * 3 + 1);
    if (s == NULL)
        return GH_ENOMEM;
    for (size_t i = 0; i < utf16.len; i += 2) {
        uint32_t cp = (uint32_t)utf16.ptr[i] | ((uint32_t)utf16.ptr[i + 1] << 8);
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            goto bad;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 3 >= utf16.len)
                goto bad;
            uint32_t lo = (uint32_t)utf16.ptr[i + 2] | ((uint32_t)utf16.ptr[i + 3] << 8);
            if (lo < 0xDC00 || lo > 0xDFFF)
                goto bad;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        }
        if (cp == 0)
            goto bad;
        if (cp < 0x80) {
            s[n++] = (char)cp;
        } else if (cp < 0x800) {
            s[n++] = (char)(0xC0 | (cp >> 6));
            s[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            s[n++] = (char)(0xE0 | (cp >> 12));
            s[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            s[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            s[n++] = (char)(0xF0 | (cp >> 18));
            s[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            s[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            s[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    s[n] = '\0';
    *out = s;
    return GH_OK;
bad:
    free(s);
    return GH_EPROTO;
}
