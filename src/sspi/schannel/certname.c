// SPDX-License-Identifier: MIT
// CertNameToStrA/W: a DER distinguished name as the text Windows' CryptoAPI
// writes (RDNs in encoded order, Windows' attribute keys, its quoting), so
// Schannel code that prints CERT_INFO.Subject / Issuer ports unchanged.
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "sspi/schannel/schannel.h"
#include "sspi/wide.h"

#define NAME_TEXT_MAX (64 * 1024) /* far above any real name */

/* Windows' X.500 keys, by OpenSSL NID (CertNameToStr's table). */
static const struct {
    int nid;
    const char *key;
} x500_keys[] = {
    {NID_commonName, "CN"},
    {NID_localityName, "L"},
    {NID_organizationName, "O"},
    {NID_organizationalUnitName, "OU"},
    {NID_countryName, "C"},
    {NID_stateOrProvinceName, "S"},
    {NID_streetAddress, "STREET"},
    {NID_pkcs9_emailAddress, "E"},
    {NID_title, "T"},
    {NID_givenName, "G"},
    {NID_initials, "I"},
    {NID_surname, "SN"},
    {NID_domainComponent, "DC"},
    {NID_serialNumber, "SERIALNUMBER"},
};

static int
append_key(struct buf *out, const X509_NAME_ENTRY *e, unsigned long type)
{
    const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
    int nid = OBJ_obj2nid(obj);
    char oid[128];

    if (type == CERT_X500_NAME_STR) {
        for (size_t i = 0; i < sizeof(x500_keys) / sizeof(x500_keys[0]); i++) {
            if (x500_keys[i].nid == nid)
                return buf_printf(out, "%s=", x500_keys[i].key);
        }
    }
    if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0)
        return GH_EPROTO;
    return buf_printf(out, type == CERT_X500_NAME_STR ? "OID.%s=" : "%s=", oid);
}

/* A value with a character that would be read as syntax is quoted, and its
 * quotes doubled (RFC 1779's form, which CertNameToStr writes). */
static int
append_value(struct buf *out, const X509_NAME_ENTRY *e, unsigned long flags)
{
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e)), err;
    bool quote = false;

    /* A NUL inside a value would cut the text short ("CN=bank.example\0.evil"):
     * such a name is refused as a whole, the same in the A and W forms. */
    if (n < 0 || memchr(utf8, '\0', (size_t)n) != NULL) {
        OPENSSL_free(utf8);
        return GH_EPROTO;
    }
    if (!(flags & CERT_NAME_STR_NO_QUOTING_FLAG)) {
        quote = n > 0 && (utf8[0] == ' ' || utf8[n - 1] == ' ');
        for (int i = 0; i < n && !quote; i++)
            quote = strchr(",+=\"\n<>#;", utf8[i]) != NULL && utf8[i] != '\0';
    }
    err = quote ? buf_append(out, "\"", 1) : GH_OK;
    for (int i = 0; i < n && err == GH_OK; i++) {
        if (quote && utf8[i] == '"')
            err = buf_append(out, "\"", 1);
        if (err == GH_OK)
            err = buf_append(out, &utf8[i], 1);
    }
    if (err == GH_OK && quote)
        err = buf_append(out, "\"", 1);
    OPENSSL_free(utf8);
    return err;
}

/* The whole text (UTF-8, NUL-terminated) into out. */
static int
name_text(const uint8_t *der, size_t len, unsigned long str_type, struct buf *out)
{
    const unsigned char *p = der;
    unsigned long type = str_type & 0xffUL;
    const char *sep = (str_type & CERT_NAME_STR_SEMICOLON_FLAG) ? "; "
                      : (str_type & CERT_NAME_STR_CRLF_FLAG)    ? "\r\n"
                                                                : ", ";
    X509_NAME *name;
    int count, err = GH_OK, prev_set = -1;

    if (len > LONG_MAX || type < CERT_SIMPLE_NAME_STR || type > CERT_X500_NAME_STR)
        return GH_EINVAL;
    name = d2i_X509_NAME(NULL, &p, (long)len);
    if (name == NULL || p != der + len) {
        X509_NAME_free(name);
        ERR_clear_error();
        return GH_EPROTO;
    }
    count = X509_NAME_entry_count(name);
    for (int k = 0; k < count && err == GH_OK; k++) {
        int i = (str_type & CERT_NAME_STR_REVERSE_FLAG) ? count - 1 - k : k;
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int set = X509_NAME_ENTRY_set(e);

        if (k > 0)
            err = buf_append_str(
                out, set == prev_set && !(str_type & CERT_NAME_STR_NO_PLUS_FLAG) ? " + " : sep);
        prev_set = set;
        if (err == GH_OK && type != CERT_SIMPLE_NAME_STR)
            err = append_key(out, e, type);
        if (err == GH_OK)
            err = append_value(out, e, str_type);
    }
    X509_NAME_free(name);
    ERR_clear_error();
    if (err == GH_OK)
        err = buf_append(out, "", 1);
    return err;
}

static bool
name_args_ok(unsigned long encoding, PCERT_NAME_BLOB name)
{
    return (encoding & X509_ASN_ENCODING) && name != NULL &&
           (name->pbData != NULL || name->cbData == 0);
}

unsigned long SEC_ENTRY
CertNameToStrA(unsigned long dwCertEncodingType, PCERT_NAME_BLOB pName, unsigned long dwStrType,
               char *psz, unsigned long csz)
{
    struct buf text;
    unsigned long n = 1;

    buf_init(&text, NAME_TEXT_MAX);
    if (!name_args_ok(dwCertEncodingType, pName) ||
        name_text(pName->pbData, pName->cbData, dwStrType, &text) != GH_OK) {
        buf_free(&text);
        buf_init(&text, NAME_TEXT_MAX);
        if (buf_append(&text, "", 1) != GH_OK)
            return 0;
    }
    n = (unsigned long)text.len;
    if (psz != NULL && csz > 0) {
        if (n > csz) {
            n = csz;
            text.data[n - 1] = '\0';
        }
        memcpy(psz, text.data, n);
    }
    buf_free(&text);
    return n;
}

unsigned long SEC_ENTRY
CertNameToStrW(unsigned long dwCertEncodingType, PCERT_NAME_BLOB pName, unsigned long dwStrType,
               SEC_WCHAR *psz, unsigned long csz)
{
    struct buf text;
    uint16_t *wide = NULL;
    size_t units = 0;
    unsigned long n;

    buf_init(&text, NAME_TEXT_MAX);
    if (!name_args_ok(dwCertEncodingType, pName) ||
        name_text(pName->pbData, pName->cbData, dwStrType, &text) != GH_OK ||
        wide_from_utf8((const char *)text.data, text.len - 1, malloc, &wide, &units) != GH_OK) {
        buf_free(&text);
        if (psz != NULL && csz > 0)
            psz[0] = 0;
        return 1;
    }
    buf_free(&text);
    n = (unsigned long)units + 1;
    if (psz != NULL && csz > 0) {
        if (n > csz)
            n = csz;
        memcpy(psz, wide, (n - 1) * sizeof(uint16_t));
        psz[n - 1] = 0;
    }
    free(wide);
    return n;
}
