// SPDX-License-Identifier: MIT
// Writing HTTP/1.1 heads (RFC 9112 4, 5, 7.1), reason phrases (RFC 9110 15) and
// HTTP-dates (RFC 9110 5.6.7).
#include <string.h>

#include <gatehouse/error.h>

#include "http/h1.h"
#include "http/h1_chars.h"

struct reason {
    int status;
    const char *text;
};

/* RFC 9110 15, plus 428/429/431/511 from RFC 6585; sorted by status. */
static const struct reason reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {511, "Network Authentication Required"},
};

const char *
h1_status_reason(int status)
{
    size_t lo = 0, hi = sizeof(reasons) / sizeof(reasons[0]);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (reasons[mid].status == status)
            return reasons[mid].text;
        if (reasons[mid].status < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "Unknown";
}

int
h1_write_status_line(struct buf *out, int status)
{
    char line[64];
    const char *reason = h1_status_reason(status);
    size_t reason_len = strlen(reason);

    if (status < 100 || status > 599)
        return GH_EINVAL;
    memcpy(line, "HTTP/1.1 ", 9);
    line[9] = (char)('0' + status / 100);
    line[10] = (char)('0' + status / 10 % 10);
    line[11] = (char)('0' + status % 10);
    line[12] = ' ';
    memcpy(line + 13, reason, reason_len); /* the longest reason is 31 bytes */
    memcpy(line + 13 + reason_len, "\r\n", 2);
    return buf_append(out, line, 15 + reason_len);
}

int
h1_write_header(struct buf *out, struct slice name, struct slice value)
{
    if (!h1_token_valid(name) || !h1_field_value_valid(value))
        return GH_EINVAL;
    /* reserve once, so the four appends below cannot fail halfway */
    int err = buf_reserve(out, name.len + value.len + 4);
    if (err != GH_OK)
        return err;
    buf_append(out, name.ptr, name.len);
    buf_append(out, ": ", 2);
    if (value.len > 0)
        buf_append(out, value.ptr, value.len);
    return buf_append(out, "\r\n", 2);
}

int
h1_write_chunk_header(struct buf *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[2 * sizeof(size_t) + 2];
    size_t pos = sizeof(tmp) - 2;

    if (len == 0)
        return buf_append(out, "0\r\n\r\n", 5);
    memcpy(tmp + pos, "\r\n", 2);
    for (; len > 0; len >>= 4)
        tmp[--pos] = hex[len & 15];
    return buf_append(out, tmp + pos, sizeof(tmp) - pos);
}

static const char day_names[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
static const char *const day_names_long[7] = {"Thursday", "Friday",  "Saturday", "Sunday",
                                              "Monday",   "Tuesday", "Wednesday"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date, counted in 400-year eras that
 * start on March 1st so that the leap day is the last day of its year. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void
civil_from_days(int64_t z, int64_t *y_out, unsigned *m_out, unsigned *d_out)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;

    *d_out = doy - (153 * mp + 2) / 5 + 1;
    *m_out = m;
    *y_out = (int64_t)yoe + era * 400 + (m <= 2);
}

static void
put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/* IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT, e.g.
 * "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes). Times outside years 1..9999 are
 * clamped to that range, which is all the format can express. */
size_t
h1_date_format(time_t t, char out[30])
{
    const int64_t min_t = -62135596800LL, max_t = 253402300799LL;
    int64_t s = (int64_t)t;
    if (s < min_t)
        s = min_t;
    if (s > max_t)
        s = max_t;
    int64_t days = (s >= 0 ? s : s - 86399) / 86400;
    unsigned secs = (unsigned)(s - days * 86400);
    int64_t y;
    unsigned m, d;

    civil_from_days(days, &y, &m, &d);
    memcpy(out, day_names[((days % 7) + 7) % 7], 3);
    memcpy(out + 3, ", ", 2);
    put2(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, month_names[m - 1], 3);
    out[11] = ' ';
    put2(out + 12, (unsigned)(y / 100));
    put2(out + 14, (unsigned)(y % 100));
    out[16] = ' ';
    put2(out + 17, secs / 3600);
    out[19] = ':';
    put2(out + 20, secs / 60 % 60);
    out[22] = ':';
    put2(out + 23, secs % 60);
    memcpy(out + 25, " GMT", 5); /* with the terminating NUL */
    return 29;
}

/* Reads exactly n digits. */
static bool
digits(const uint8_t *p, size_t n, unsigned *v_out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *v_out = v;
    return true;
}

static bool
month_from_name(const uint8_t *p, unsigned *m_out)
{
    for (unsigned i = 0; i < 12; i++) {
        if (memcmp(p, month_names[i], 3) == 0) {
            *m_out = i + 1;
            return true;
        }
    }
    return false;
}

/* "HH:MM:SS"; second 60 is allowed for a leap second (RFC 9110 5.6.7). */
static bool
time_of_day(const uint8_t *p, unsigned *secs_out)
{
    unsigned h, m, s;

    if (!digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &m) || p[5] != ':' ||
        !digits(p + 6, 2, &s) || h > 23 || m > 59 || s > 60)
        return false;
    *secs_out = h * 3600 + m * 60 + s;
    return true;
}

static bool
day_name_valid(struct slice name)
{
    for (unsigned i = 0; i < 7; i++) {
        if (name.len == 3 && memcmp(name.ptr, day_names[i], 3) == 0)
            return true;
        if (slice_eq(name, slice_cstr(day_names_long[i])))
            return true;
    }
    return false;
}

static bool
to_time(int64_t y, unsigned m, unsigned d, unsigned secs, time_t *t_out)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool is_leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (d == 0 || d > mdays[m - 1] || (m == 2 && d == 29 && !is_leap))
        return false;
    *t_out = (time_t)(days_from_civil(y, m, d) * 86400 + (int64_t)secs);
    return true;
}

/* RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past. */
static int64_t
expand_two_digit_year(unsigned yy)
{
    char now_text[30];
    unsigned now_year = 1970;

    h1_date_format(time(NULL), now_text);
    digits((const uint8_t *)now_text + 12, 4, &now_year);
    int64_t y = (int64_t)(now_year / 100 * 100 + yy);
    return y > (int64_t)now_year + 50 ? y - 100 : y;
}

int
h1_date_parse(struct slice s, time_t *t_out)
{
    const uint8_t *p = s.ptr;
    size_t n = 0;
    unsigned d, m, y, secs;

    while (n < s.len && n < 10 && ((p[n] | 0x20) >= 'a' && (p[n] | 0x20) <= 'z'))
        n++;
    if (!day_name_valid(slice_make(p, n)))
        return GH_EPROTO;
    if (n == 3 && s.len == 29 && memcmp(p + 3, ", ", 2) == 0) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        if (!digits(p + 5, 2, &d) || p[7] != ' ' || !month_from_name(p + 8, &m) || p[11] != ' ' ||
            !digits(p + 12, 4, &y) || p[16] != ' ' || !time_of_day(p + 17, &secs) ||
            memcmp(p + 25, " GMT", 4) != 0)
            return GH_EPROTO;
        return to_time(y, m, d, secs, t_out) ? GH_OK : GH_EPROTO;
    }
    if (n > 3 && s.len == n + 24 && memcmp(p + n, ", ", 2) == 0) {
        /* rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT" */
        p += n + 2;
        if (!digits(p, 2, &d) || p[2] != '-' || !month_from_name(p + 3, &m) || p[6] != '-' ||
            !digits(p + 7, 2, &y) || p[9] != ' ' || !time_of_day(p + 10, &secs) ||
            memcmp(p + 18, " GMT", 4) != 0)
            return GH_EPROTO;
        return to_time(expand_two_digit_year(y), m, d, secs, t_out) ? GH_OK : GH_EPROTO;
    }
    if (n == 3 && s.len == 24 && p[3] == ' ') {
        /* asctime-date: "Sun Nov  6 08:49:37 1994" */
        if (!month_from_name(p + 4, &m) || p[7] != ' ' || p[19] != ' ' ||
            !time_of_day(p + 11, &secs) || p[10] != ' ' || !digits(p + 20, 4, &y))
            return GH_EPROTO;
        if (p[8] == ' ' ? !digits(p + 9, 1, &d) : !digits(p + 8, 2, &d))
            return GH_EPROTO;
        return to_time(y, m, d, secs, t_out) ? GH_OK : GH_EPROTO;
    }
    return GH_EPROTO;
}
