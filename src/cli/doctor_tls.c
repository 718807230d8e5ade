// SPDX-License-Identifier: MIT
// gatehouse doctor, TLS: each certificate/key pair (the key is the
// certificate's, validity, the chain against what clients trust and its
// order, key and signature strength, the names the configuration serves)
// and the CA bundles that verify client certificates.
//
// Levels follow one rule: FAIL when the server refuses the file or when every
// client would refuse the certificate (wrong key, expired, a chain that does
// not reach the trust the administrator named with --cacert); WARN when it
// works for the clients that were told about it or will break (self-signed, a
// private CA the system store does not hold, expiring, out of order, weak,
// names not covered). docs/doctor.md lists the checks and says why.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gatehouse/error.h>

#include "cli/doctor.h"
#include "tls/cred.h"

#define EXPIRY_WARN_DAYS 30
/* NIST SP 800-57 part 1: 112-bit security (RSA 2048, P-224) is the floor. */
#define MIN_SECURITY_BITS 112
#define MAX_CERTS         32
#define LIST_LEN          512

/* One certificate file: the leaf and what follows it, in file order. */
struct cert_file {
    const char *path; /* borrowed */
    X509 *leaf;
    STACK_OF(X509) * chain; /* after the leaf; NULL when the file did not parse */
};

static void
cert_file_clear(struct cert_file *f)
{
    X509_free(f->leaf);
    sk_X509_pop_free(f->chain, X509_free);
    f->leaf = NULL;
    f->chain = NULL;
}

static void
subject_of(X509 *x, char *out, size_t len)
{
    if (X509_NAME_oneline(X509_get_subject_name(x), out, (int)len) == NULL)
        snprintf(out, len, "(no subject)");
}

/* "2026-12-24 10:00 UTC", or "?" when the time does not parse. */
static void
format_time(const ASN1_TIME *t, char *out, size_t len)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(out, len, "?");
}

/* Appends ", item" (or "item" first) to list, truncating with "...". */
static void
list_add(char *list, size_t len, const char *item)
{
    size_t used = strlen(list);
    int n = snprintf(list + used, len - used, "%s%s", used > 0 ? ", " : "", item);

    if (n < 0 || (size_t)n >= len - used)
        snprintf(list + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
}

/* Reports the validity window of x (bad: the level of "not valid now");
 * true when it is valid now. */
static bool
check_validity(struct doctor *d, const char *check, const char *file, X509 *x, const char *hint,
               enum doctor_level bad)
{
    char subject[256], when[64];
    int days = 0, secs = 0;
    const ASN1_TIME *not_before = X509_get0_notBefore(x), *not_after = X509_get0_notAfter(x);
    int before = X509_cmp_current_time(not_before), after = X509_cmp_current_time(not_after);

    subject_of(x, subject, sizeof(subject));
    if (before == 0 || after == 0 || ASN1_TIME_diff(&days, &secs, NULL, not_after) != 1) {
        doctor_report(d, DOCTOR_FAIL, check, hint, "%s: %s has validity dates that do not parse",
                      file, subject);
        return false;
    }
    if (before > 0) {
        format_time(not_before, when, sizeof(when));
        doctor_report(d, bad, check,
                      "check the clock (NTP); if it is right, the certificate starts later: "
                      "install the one in use now",
                      "%s: %s is not valid yet (not before %s; is the clock right?)", file, subject,
                      when);
        return false;
    }
    format_time(not_after, when, sizeof(when));
    if (after < 0) {
        doctor_report(d, bad, check, hint, "%s: %s expired on %s (%d days ago)", file, subject,
                      when, -days);
        return false;
    }
    if (days < EXPIRY_WARN_DAYS)
        doctor_report(d, DOCTOR_WARN, check, hint, "%s: %s expires on %s (in %d days)", file,
                      subject, when, days);
    else
        doctor_report(d, DOCTOR_OK, check, NULL, "%s: %s valid for %d more days (until %s)", file,
                      subject, days, when);
    return true;
}

static bool
is_self_signed(X509 *x)
{
    return (X509_get_extension_flags(x) & EXFLAG_SS) != 0;
}

/* A weak key (below MIN_SECURITY_BITS) or a SHA-1/MD5 signature on a
 * certificate that is not self-signed (a root's own signature is never
 * checked: it is trusted as it is). Reports each; true when x has none. */
static bool
check_one_strength(struct doctor *d, const char *file, X509 *x, char *summary, size_t len)
{
    static const char hint[] = "reissue it with an RSA key of 2048 bits or more (or ECDSA P-256) "
                               "and a SHA-256 signature";
    char subject[256];
    EVP_PKEY *pk = X509_get0_pubkey(x);
    int md = NID_undef, pknid = NID_undef, secbits = 0;
    uint32_t flags = 0;
    bool strong = true;

    subject_of(x, subject, sizeof(subject));
    if (pk == NULL) {
        doctor_report(d, DOCTOR_WARN, "cert-strength", hint,
                      "%s: %s has a public key of a kind "
                      "OpenSSL does not know",
                      file, subject);
        ERR_clear_error();
        return false;
    }
    const char *type = EVP_PKEY_get0_type_name(pk) != NULL ? EVP_PKEY_get0_type_name(pk) : "?";
    if (EVP_PKEY_get_security_bits(pk) < MIN_SECURITY_BITS) {
        doctor_report(d, DOCTOR_WARN, "cert-strength", hint,
                      "%s: %s has a %d-bit %s key (%d-bit security, below %d: RSA < 2048)", file,
                      subject, EVP_PKEY_get_bits(pk), type, EVP_PKEY_get_security_bits(pk),
                      MIN_SECURITY_BITS);
        strong = false;
    }
    const char *sig = OBJ_nid2ln(X509_get_signature_nid(x));
    if (sig == NULL)
        sig = "an unknown algorithm";
    if (!is_self_signed(x) && X509_get_signature_info(x, &md, &pknid, &secbits, &flags) == 1 &&
        (md == NID_sha1 || md == NID_md5 || md == NID_md4 || md == NID_md2)) {
        doctor_report(d, DOCTOR_WARN, "cert-strength", hint,
                      "%s: %s is signed with %s (%s): clients refuse SHA-1 and MD5 signatures",
                      file, subject, sig, OBJ_nid2sn(md));
        strong = false;
    }
    if (summary != NULL)
        snprintf(summary, len, "%d-bit %s key, %s", EVP_PKEY_get_bits(pk), type, sig);
    ERR_clear_error();
    return strong;
}

static void
check_strength(struct doctor *d, const struct cert_file *f)
{
    char summary[256] = "";
    bool strong = check_one_strength(d, f->path, f->leaf, summary, sizeof(summary));

    for (int i = 0; i < sk_X509_num(f->chain); i++)
        strong = check_one_strength(d, f->path, sk_X509_value(f->chain, i), NULL, 0) && strong;
    if (strong)
        doctor_report(d, DOCTOR_OK, "cert-strength", NULL,
                      "%s: keys and signatures strong enough (leaf: %s)", f->path, summary);
}

/* RFC 5246 7.4.2 (TLS 1.2: each certificate certifies the one before it;
 * RFC 8446 4.4.2 relaxes it to SHOULD): the file order, checked by names and
 * key identifiers. Reports a WARN and returns false at the first break. */
static bool
check_order(struct doctor *d, const struct cert_file *f)
{
    static const char hint[] = "order the file: the leaf first, then each certificate followed "
                               "by its issuer; remove certificates that issue none of them";
    char a[256], b[256];
    X509 *prev = f->leaf;
    int n = sk_X509_num(f->chain);

    for (int i = 0; i < n; i++) {
        X509 *next = sk_X509_value(f->chain, i);
        if (X509_check_issued(next, prev) == X509_V_OK) {
            prev = next;
            continue;
        }
        subject_of(prev, a, sizeof(a));
        for (int j = i + 1; j < n; j++) {
            if (X509_check_issued(sk_X509_value(f->chain, j), prev) == X509_V_OK) {
                subject_of(next, b, sizeof(b));
                doctor_report(d, DOCTOR_WARN, "cert-chain", hint,
                              "%s: out of order: the issuer of certificate %d (%s) is certificate "
                              "%d, not the next one (%s); strict TLS 1.2 clients refuse this",
                              f->path, i + 1, a, j + 2, b);
                return false;
            }
        }
        subject_of(next, b, sizeof(b));
        doctor_report(
            d, DOCTOR_WARN, "cert-chain", hint,
            "%s: certificate %d (%s) is not the issuer of certificate %d (%s), nor is any "
            "later one: it is not part of the chain",
            f->path, i + 2, b, i + 1, a);
        return false;
    }
    return true;
}

/* The verification result, as a demanding administrator reads it. */
static void
report_chain_error(struct doctor *d, const struct cert_file *f, X509_STORE_CTX *ctx,
                   const char *trust)
{
    int e = X509_STORE_CTX_get_error(ctx);
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
    char subject[256] = "?", issuer[256] = "?";
    bool named = d->cacert != NULL;

    if (cur != NULL) {
        subject_of(cur, subject, sizeof(subject));
        X509_NAME_oneline(X509_get_issuer_name(cur), issuer, sizeof(issuer));
    }
    if (e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) {
        /* Deliberate (make run, a lab): a warning even when --cacert names
         * other CAs. */
        doctor_report(d, DOCTOR_WARN, "cert-chain",
                      "fine for a test or a closed group: tell clients to trust it (curl --cacert "
                      "FILE, the browser's or system's store); otherwise use a certificate from a "
                      "CA your clients trust",
                      "%s: self-signed (%s), not in %s: clients will not trust it unless they are "
                      "told to",
                      f->path, subject, trust);
    } else if (e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN && !named) {
        doctor_report(d, DOCTOR_WARN, "cert-chain",
                      "a private CA: clients must be told to trust its root (check with "
                      "gatehouse doctor --cacert ROOT.pem); servers need not send the root",
                      "%s: the chain ends at the root %s, which %s does not hold", f->path, subject,
                      trust);
    } else if ((e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE) &&
               !named) {
        /* Without --cacert a missing intermediate and a private CA look the
         * same: both are said, and --cacert decides. */
        doctor_report(d, DOCTOR_WARN, "cert-chain",
                      "if that is an intermediate, append it to the file (clients do not fetch "
                      "missing ones); if it is your private CA, clients must be told to trust it: "
                      "check with gatehouse doctor --cacert ROOT.pem",
                      "%s: %s is issued by %s, which neither the file nor %s holds", f->path,
                      subject, issuer, trust);
    } else if (e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
               e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
               e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE) {
        doctor_report(d, DOCTOR_FAIL, "cert-chain",
                      "append the missing intermediate certificate(s) to the file, after the "
                      "leaf (clients do not fetch them), or check that --cacert is the right CA",
                      "%s: %s is issued by %s, which is neither in the file nor in %s: an "
                      "intermediate is missing",
                      f->path, subject, issuer, trust);
    } else {
        doctor_report(d, DOCTOR_FAIL, "cert-chain",
                      "fix the chain (the certificates of the file, their extensions, the CA)",
                      "%s: does not verify against %s at %s: %s", f->path, trust, subject,
                      X509_verify_cert_error_string(e));
    }
}

/* The chain as a client with trust `store` would build it (times are
 * cert-expiry's business); then the file's order. */
static void
check_chain(struct doctor *d, const struct cert_file *f, X509_STORE *store, const char *trust)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    char top[256];

    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, f->leaf, f->chain) != 1) {
        doctor_report(d, DOCTOR_FAIL, "cert-chain", "retry", "%s: cannot verify: out of memory",
                      f->path);
        goto cleanup;
    }
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    /* --cacert may name an intermediate clients pin: any certificate in it
     * is an anchor, as curl and Python take it. */
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
                                X509_V_FLAG_NO_CHECK_TIME |
                                    (d->cacert != NULL ? X509_V_FLAG_PARTIAL_CHAIN : 0));
    if (X509_verify_cert(ctx) == 1) {
        STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
        subject_of(sk_X509_value(built, sk_X509_num(built) - 1), top, sizeof(top));
        if (check_order(d, f))
            doctor_report(d, DOCTOR_OK, "cert-chain", NULL,
                          "%s: the chain verifies (%d certificates, up to %s in %s)", f->path,
                          sk_X509_num(built), top, trust);
    } else {
        report_chain_error(d, f, ctx, trust);
        check_order(d, f);
    }
cleanup:
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
}

/* The trust chains are verified against: --cacert, else the system store. */
static X509_STORE *
trust_open(struct doctor *d, char *label, size_t len)
{
    STACK_OF(X509) *roots = NULL;
    char err[512] = "";

    if (d->cacert == NULL) {
        snprintf(label, len, "the system store (%s)", X509_get_default_cert_dir());
        X509_STORE *store = tls_store_new(NULL);
        if (store != NULL)
            doctor_report(d, DOCTOR_OK, "cert-trust", NULL,
                          "chains are checked against %s (--cacert FILE: the CAs your clients "
                          "trust instead)",
                          label);
        return store;
    }
    snprintf(label, len, "%s", d->cacert);
    if (tls_certs_load(d->cacert, &roots, err, sizeof(err)) != GH_OK) {
        doctor_report(d, DOCTOR_FAIL, "cert-trust",
                      "--cacert FILE: a PEM file of the CA certificates your clients trust", "%s",
                      err);
        return NULL;
    }
    X509_STORE *store = tls_store_new(roots);
    if (store != NULL)
        doctor_report(d, DOCTOR_OK, "cert-trust", NULL,
                      "chains are checked against %s (--cacert, %d certificate(s))", d->cacert,
                      sk_X509_num(roots));
    sk_X509_pop_free(roots, X509_free);
    return store;
}

/* Loads cert and key as the server does and reports it; f gets the
 * certificates even when the key is wrong, so that the other checks run. */
static void
load_pair(struct doctor *d, const char *cert, const char *key, struct cert_file *f)
{
    struct tls_cred cred = {0};
    STACK_OF(X509) *certs = NULL;
    char err[512] = "", why[512] = "";

    f->path = cert;
    if (tls_cred_load(cert, key, false, &cred, err, sizeof(err)) == GH_OK) {
        doctor_report(d, DOCTOR_OK, "certificate", NULL, "%s: loads, and %s is its key", cert,
                      key != NULL ? key : "the key in it");
        f->leaf = cred.leaf;
        f->chain = cred.chain;
        cred.leaf = NULL;
        cred.chain = NULL;
        tls_cred_clear(&cred);
        return;
    }
    if (tls_certs_load(cert, &certs, why, sizeof(why)) != GH_OK) {
        doctor_report(d, DOCTOR_FAIL, "certificate",
                      "fix the path, or the file: PEM, the certificate first, then its chain, "
                      "each between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----",
                      "%s", why);
        return;
    }
    doctor_report(d, DOCTOR_FAIL, "certificate",
                  "install the key that belongs to the certificate (compare openssl x509 "
                  "-noout -pubkey and openssl pkey -pubout)",
                  "%s", err);
    f->leaf = sk_X509_shift(certs);
    f->chain = certs;
}

static void
check_dates(struct doctor *d, const struct cert_file *f)
{
    check_validity(d, "cert-expiry", f->path, f->leaf, "renew the certificate", DOCTOR_FAIL);
    for (int i = 0; i < sk_X509_num(f->chain); i++)
        check_validity(d, "cert-expiry", f->path, sk_X509_value(f->chain, i),
                       "renew the chain certificate (get the CA's current one)", DOCTOR_FAIL);
}

/* The certificate's DNS and IP subjectAltNames, for messages. */
static int
san_list(X509 *x, char *out, size_t len)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int count = 0;

    out[0] = '\0';
    for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char item[256];
        if (g->type == GEN_DNS) {
            const unsigned char *p = ASN1_STRING_get0_data(g->d.dNSName);
            int n = ASN1_STRING_length(g->d.dNSName);
            snprintf(item, sizeof(item), "%.*s", n > 0 && n < 254 ? n : 0, (const char *)p);
        } else if (g->type == GEN_IPADD) {
            int n = ASN1_STRING_length(g->d.iPAddress);
            if ((n != 4 && n != 16) ||
                inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), item,
                          sizeof(item)) == NULL)
                snprintf(item, sizeof(item), "IP?");
        } else {
            continue;
        }
        list_add(out, len, item);
        count++;
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
    return count;
}

/* Whether x's subjectAltNames cover name as a browser checks it: RFC 6125
 * 6.4 (a wildcard only as the whole leftmost label, matching one label; the
 * subject CN is never looked at). A `host *.domain` name is covered only by
 * the same wildcard. */
static bool
name_covered(X509 *x, const char *name)
{
    char host[256];
    size_t len = strlen(name);

    if (len == 0 || len >= sizeof(host))
        return false;
    memcpy(host, name, len + 1);
    if (len > 1 && host[len - 1] == '.')
        host[--len] = '\0'; /* the server ignores a final dot too */
    int ip = X509_check_ip_asc(x, host, 0);
    if (ip != -2) {
        ERR_clear_error();
        return ip == 1;
    }
    if (host[0] != '*') {
        bool ok = X509_check_host(x, host, len,
                                  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                      X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                                  NULL) == 1;
        ERR_clear_error();
        return ok;
    }
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    bool found = false;
    for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && !found; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS && (size_t)ASN1_STRING_length(g->d.dNSName) == len &&
            strncasecmp((const char *)ASN1_STRING_get0_data(g->d.dNSName), host, len) == 0)
            found = true;
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
    return found;
}

/* Each served name gets the first certificate that covers it (the server's
 * SNI choice), else the default one ([0]), which then does not cover it. */
static void
check_names(struct doctor *d, const struct doctor_tls *t, struct cert_file *files)
{
    for (size_t i = 0; i < t->cert_count; i++) {
        char covered[LIST_LEN] = "", missing[LIST_LEN] = "", sans[LIST_LEN];
        if (files[i].leaf == NULL)
            continue;
        if (san_list(files[i].leaf, sans, sizeof(sans)) == 0) {
            doctor_report(d, DOCTOR_WARN, "cert-names",
                          "reissue it with the host names in subjectAltName",
                          "%s: no DNS or IP subjectAltName: clients ignore the subject's CN "
                          "(RFC 6125 6.4.4), so no name matches",
                          files[i].path);
            continue;
        }
        for (size_t n = 0; n < t->served_name_count; n++) {
            size_t owner = t->cert_count;
            for (size_t j = 0; j < t->cert_count && owner == t->cert_count; j++) {
                if (files[j].leaf != NULL && name_covered(files[j].leaf, t->served_names[n]))
                    owner = j;
            }
            if (owner == i)
                list_add(covered, sizeof(covered), t->served_names[n]);
            else if (owner == t->cert_count && i == 0)
                list_add(missing, sizeof(missing), t->served_names[n]);
        }
        if (missing[0] != '\0')
            doctor_report(d, DOCTOR_WARN, "cert-names",
                          "add them to the certificate's subjectAltName, or add a tls_certificate "
                          "that covers them (a wildcard covers one leftmost label only)",
                          "%s (the default certificate: sent for names no certificate covers) "
                          "does not cover %s (its names: %s)",
                          files[i].path, missing, sans);
        else if (covered[0] != '\0')
            doctor_report(d, DOCTOR_OK, "cert-names", NULL, "%s covers %s", files[i].path, covered);
        else
            doctor_report(d, DOCTOR_OK, "cert-names", NULL, "%s: names %s%s", files[i].path, sans,
                          t->served_name_count == 0 ? " (no host block names to compare)"
                                                    : " (no served name chooses it)");
    }
}

static void
collect_dns_names(X509 *x, char **names, size_t *count, size_t max)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

    for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && *count < max; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *p = ASN1_STRING_get0_data(g->d.dNSName);
        int len = ASN1_STRING_length(g->d.dNSName);
        if (len <= 0 || len > 253 || memchr(p, 0, (size_t)len) != NULL || p[0] == '*')
            continue; /* wildcards name no one host a client would ask a ticket for */
        names[*count] = strndup((const char *)p, (size_t)len);
        if (names[*count] != NULL)
            (*count)++;
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
}

void
doctor_check_tls(struct doctor *d, const struct doctor_tls *t, char **names, size_t *name_count,
                 size_t max)
{
    struct cert_file files[MAX_CERTS] = {0};
    struct doctor_tls view = *t;
    char trust[512];
    X509_STORE *store = NULL;

    if (t->cert_count == 0)
        return;
    if (view.cert_count > MAX_CERTS)
        view.cert_count = MAX_CERTS;
    store = trust_open(d, trust, sizeof(trust));
    for (size_t i = 0; i < view.cert_count; i++) {
        struct cert_file *f = &files[i];
        load_pair(d, t->cert_files[i], t->key_files[i], f);
        if (f->leaf != NULL) {
            check_dates(d, f);
            if (store != NULL)
                check_chain(d, f, store, trust);
            check_strength(d, f);
            collect_dns_names(f->leaf, names, name_count, max);
        }
        doctor_check_secret_file(d, "cert-key", t->key_files[i]);
    }
    check_names(d, &view, files);
    for (size_t i = 0; i < view.cert_count; i++)
        cert_file_clear(&files[i]);
    X509_STORE_free(store);
}

void
doctor_check_credssp_certificate(struct doctor *d, const char *cert, const char *key)
{
    struct cert_file f = {0};

    load_pair(d, cert, key, &f);
    if (f.leaf != NULL) {
        check_dates(d, &f);
        check_strength(d, &f);
    }
    if (key != NULL)
        doctor_check_secret_file(d, "cert-key", key);
    cert_file_clear(&f);
}

void
doctor_check_client_ca(struct doctor *d, const char *path)
{
    STACK_OF(X509) *certs = NULL;
    char err[512] = "", subject[256];
    int e = doctor_access(d, path, false), cas = 0, valid = 0;

    if (e != 0) {
        doctor_report(d, DOCTOR_FAIL, "client-ca", "make it readable by the service user",
                      "%s: not readable by %s (%s)", path, d->user.name, strerror(e));
        return;
    }
    if (tls_certs_load(path, &certs, err, sizeof(err)) != GH_OK) {
        doctor_report(d, DOCTOR_FAIL, "client-ca",
                      "a PEM file of the CA certificates that issue your clients' certificates",
                      "%s", err);
        return;
    }
    for (int i = 0; i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);
        if (X509_check_ca(x) == 0) {
            subject_of(x, subject, sizeof(subject));
            doctor_report(d, DOCTOR_WARN, "client-ca",
                          "keep only CA certificates in it (the issuers, not the clients' own)",
                          "%s: %s is not a CA certificate: it issues no client certificate", path,
                          subject);
            continue;
        }
        cas++;
        if (check_validity(d, "client-ca", path, x, "renew the CA certificate, or remove it",
                           DOCTOR_WARN))
            valid++;
    }
    if (cas == 0)
        doctor_report(d, DOCTOR_FAIL, "client-ca",
                      "put the CA certificates that issue your clients' certificates in it",
                      "%s: %d certificate(s), none of them a CA: no client certificate can "
                      "verify",
                      path, sk_X509_num(certs));
    else if (valid == 0)
        doctor_report(d, DOCTOR_FAIL, "client-ca", "renew the CA certificates",
                      "%s: no CA certificate in it is valid now: no client certificate verifies",
                      path);
    else
        doctor_report(d, DOCTOR_OK, "client-ca", NULL, "%s: %d CA certificate(s), %d valid now",
                      path, cas, valid);
    sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
}
