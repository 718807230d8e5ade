// SPDX-License-Identifier: MIT
// Fuzz target: ConvertStringSidToSidA and ConvertStringSidToSidW (SID
// strings, MS-DTYP 2.4.2.1, and SDDL aliases; winapi_sid.c over sid.c).
// Input: the string's bytes (cut at the first NUL), used as UTF-8 for the A
// form and as host-order UTF-16 units for the W form. Invariants: a parsed
// SID is valid, at most 15 sub-authorities long, prints
// (ConvertSidToStringSidA) to a string that parses back to an equal SID; a
// refused string sets ERROR_INVALID_SID; both forms agree on ASCII input.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gatehouse/wintypes.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX 4096

static void
check_parsed(PSID sid)
{
    LPSTR text = NULL;
    PSID again = NULL;

    if (!IsValidSid(sid) || GetLengthSid(sid) > SECURITY_MAX_SID_SIZE ||
        !ConvertSidToStringSidA(sid, &text) || !ConvertStringSidToSidA(text, &again) ||
        !EqualSid(sid, again))
        __builtin_trap();
    LocalFree(text);
    LocalFree(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[INPUT_MAX + 1];
    WCHAR wide[INPUT_MAX + 1];
    size_t len = size < INPUT_MAX ? size : INPUT_MAX;
    PSID a = NULL, w = NULL;
    bool is_ascii = true;

    memcpy(text, data, len);
    text[len] = '\0';
    len = strlen(text);
    BOOL ok_a = ConvertStringSidToSidA(text, &a);
    if (ok_a)
        check_parsed(a);
    else if (GetLastError() != ERROR_INVALID_SID)
        __builtin_trap();

    /* The same characters as UTF-16 (ASCII input), then the raw bytes as units. */
    for (size_t i = 0; i <= len; i++) {
        wide[i] = (unsigned char)text[i];
        is_ascii = is_ascii && (unsigned char)text[i] < 0x80;
    }
    BOOL ok_w = ConvertStringSidToSidW(wide, &w);
    if (is_ascii && (ok_a != ok_w || (ok_w && !EqualSid(a, w))))
        __builtin_trap();
    LocalFree(w);
    w = NULL;
    size_t units = size / 2 < INPUT_MAX ? size / 2 : INPUT_MAX;
    memcpy(wide, data, units * 2);
    wide[units] = 0;
    if (ConvertStringSidToSidW(wide, &w))
        check_parsed(w);
    else if (GetLastError() != ERROR_INVALID_SID)
        __builtin_trap();
    LocalFree(w);
    LocalFree(a);
    return 0;
}
