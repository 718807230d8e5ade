// SPDX-License-Identifier: MIT
// Incremental chunked transfer-coding decoder (RFC 9112 7.1): a byte-driven state
// machine, so input may be split anywhere, down to one byte per call.
#include <gatehouse/error.h>

#include "http/h1.h"
#include "http/h1_chars.h"

/*   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * Extensions are ignored, so after the first ';' any field-vchar, SP or HTAB is
 * accepted up to the CR. Framing lines must end in CRLF: a bare LF there is what
 * request-smuggling payloads use to make two parsers disagree, and every real
 * client sends CRLF. */
enum {
    ST_SIZE_FIRST = 0, /* h1_chunked_init leaves state 0: expecting a chunk-size */
    ST_SIZE,           /* more HEXDIG, BWS, ';' or CR */
    ST_SIZE_BWS,       /* after BWS: more BWS, ';' or CR */
    ST_EXT,            /* inside chunk-ext: up to CR */
    ST_SIZE_LF,        /* CR seen: LF must follow */
    ST_DATA,           /* remaining bytes of chunk-data */
    ST_DATA_CR,        /* chunk-data done: CR must follow */
    ST_DATA_LF,        /* then LF */
    ST_TRAILER_START,  /* start of a trailer field line, or the final CRLF */
    ST_TRAILER_NAME,   /* field-name up to ':' */
    ST_TRAILER_VALUE,  /* field-value up to CR */
    ST_TRAILER_LF,     /* CR of a trailer line seen */
    ST_END_LF,         /* CR of the final empty line seen */
    ST_DONE,
    ST_ERR_PROTO,
    ST_ERR_LIMIT,
};

void
h1_chunked_init(struct h1_chunked *c, size_t max_line_bytes, size_t max_trailer_bytes)
{
    *c = (struct h1_chunked){
        .state = ST_SIZE_FIRST,
        .max_line_bytes = max_line_bytes,
        .max_trailer_bytes = max_trailer_bytes,
    };
}

static int
size_line_byte(struct h1_chunked *c, uint8_t b)
{
    if (b == '\r') {
        if (c->state == ST_SIZE_FIRST)
            return ST_ERR_PROTO;
        return ST_SIZE_LF;
    }
    if (++c->line_bytes > c->max_line_bytes)
        return ST_ERR_LIMIT;
    switch (c->state) {
    case ST_SIZE_FIRST:
    case ST_SIZE:
        if ((h1_char_class[b] & H1_CC_HEX) != 0) {
            if (c->remaining > (UINT64_MAX >> 4))
                return ST_ERR_PROTO; /* chunk-size does not fit in 64 bits */
            c->remaining = (c->remaining << 4) | h1_hex_value(b);
            return ST_SIZE;
        }
        if (c->state == ST_SIZE_FIRST)
            return ST_ERR_PROTO;
        __attribute__((fallthrough)); /* BWS or ';' after the digits */
    case ST_SIZE_BWS:
        if (b == ' ' || b == '\t')
            return ST_SIZE_BWS;
        return b == ';' ? ST_EXT : ST_ERR_PROTO;
    default: /* ST_EXT */
        return h1_is_field_char(b) ? ST_EXT : ST_ERR_PROTO;
    }
}

static int
trailer_byte(struct h1_chunked *c, uint8_t b)
{
    if (c->state == ST_TRAILER_START && b == '\r')
        return ST_END_LF; /* the final empty line is not counted as trailer bytes */
    if (++c->trailer_bytes > c->max_trailer_bytes)
        return ST_ERR_LIMIT;
    switch (c->state) {
    case ST_TRAILER_START:
        /* SP/HTAB here would be obs-fold (RFC 9112 5.2) */
        return h1_is_token_char(b) ? ST_TRAILER_NAME : ST_ERR_PROTO;
    case ST_TRAILER_NAME:
        if (h1_is_token_char(b))
            return ST_TRAILER_NAME;
        return b == ':' ? ST_TRAILER_VALUE : ST_ERR_PROTO; /* no space before ':' */
    case ST_TRAILER_VALUE:
        if (b == '\r')
            return ST_TRAILER_LF;
        return h1_is_field_char(b) ? ST_TRAILER_VALUE : ST_ERR_PROTO;
    default: /* ST_TRAILER_LF */
        return b == '\n' ? ST_TRAILER_START : ST_ERR_PROTO;
    }
}

/* One framing byte (anything but chunk-data): the next state. */
static int
framing_byte(struct h1_chunked *c, uint8_t b)
{
    switch (c->state) {
    case ST_SIZE_FIRST:
    case ST_SIZE:
    case ST_SIZE_BWS:
    case ST_EXT:
        return size_line_byte(c, b);
    case ST_SIZE_LF:
        if (b != '\n')
            return ST_ERR_PROTO;
        c->line_bytes = 0;
        return c->remaining == 0 ? ST_TRAILER_START : ST_DATA;
    case ST_DATA_CR:
        return b == '\r' ? ST_DATA_LF : ST_ERR_PROTO;
    case ST_DATA_LF:
        return b == '\n' ? ST_SIZE_FIRST : ST_ERR_PROTO;
    case ST_END_LF:
        return b == '\n' ? ST_DONE : ST_ERR_PROTO;
    default:
        return trailer_byte(c, b);
    }
}

int
h1_chunked_decode(struct h1_chunked *c, const uint8_t *in, size_t in_len, size_t *consumed_out,
                  struct slice *data_out)
{
    size_t pos = 0;

    *consumed_out = 0;
    *data_out = slice_make(in, 0);
    while (pos < in_len && c->state < ST_DONE) {
        if (c->state == ST_DATA) {
            size_t n = in_len - pos;
            if ((uint64_t)n > c->remaining)
                n = (size_t)c->remaining;
            *data_out = slice_make(in + pos, n);
            pos += n;
            c->remaining -= n;
            if (c->remaining == 0)
                c->state = ST_DATA_CR;
            break; /* one run of data per call */
        }
        c->state = framing_byte(c, in[pos]);
        pos++;
    }
    if (c->state == ST_ERR_PROTO || c->state == ST_ERR_LIMIT) {
        *data_out = slice_make(in, 0);
        return c->state == ST_ERR_PROTO ? GH_EPROTO : GH_ELIMIT;
    }
    *consumed_out = pos;
    return c->state == ST_DONE ? GH_OK : GH_AGAIN;
}
