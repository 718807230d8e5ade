// SPDX-License-Identifier: MIT
// gatehouse doctor: Kerberos. For each service name the server accepts, the
// only proof that clients' tickets will decrypt is to decrypt one: a ticket
// for the service obtained from the KDC with the keytab's own key (the KDC is
// reachable, knows the principal, and the key is current), then a service
// ticket for itself, decrypted with the keytab through krb5_rd_req (the kvno
// and enctype the KDC issues match a key in the keytab). The AS reply also
// carries the KDC's time: the clock check.
#include <errno.h>
#include <krb5.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/doctor.h"

#define MAX_ENTRIES     256
#define CLOCK_WARN_S    60
#define CLOCK_DEFAULT_S 300 /* MIT's and AD's default clockskew */
#define MAX_PRINCIPALS  16

struct kt_entry {
    char principal[256];
    krb5_kvno kvno;
    krb5_enctype enctype;
};

struct kt_list {
    struct kt_entry e[MAX_ENTRIES];
    size_t count;
    bool is_truncated;
};

static void
report_krb5(struct doctor *d, krb5_context ctx, enum doctor_level level, const char *check,
            const char *hint, krb5_error_code code, const char *what)
{
    const char *msg = krb5_get_error_message(ctx, code);
    doctor_report(d, level, check, hint, "%s: %s", what, msg);
    krb5_free_error_message(ctx, msg);
}

static krb5_error_code
read_keytab(krb5_context ctx, krb5_keytab kt, struct kt_list *out)
{
    krb5_kt_cursor cur;
    krb5_keytab_entry e;
    krb5_error_code code = krb5_kt_start_seq_get(ctx, kt, &cur);

    out->count = 0;
    if (code != 0)
        return code;
    while (krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
        char *name = NULL;
        if (out->count < MAX_ENTRIES && krb5_unparse_name(ctx, e.principal, &name) == 0) {
            struct kt_entry *k = &out->e[out->count++];
            snprintf(k->principal, sizeof(k->principal), "%s", name);
            k->kvno = e.vno;
            k->enctype = e.key.enctype;
        } else {
            out->is_truncated = true;
        }
        krb5_free_unparsed_name(ctx, name);
        krb5_free_keytab_entry_contents(ctx, &e);
    }
    krb5_kt_end_seq_get(ctx, kt, &cur);
    return 0;
}

/* "kvno 3 (aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96); older kvno 2";
 * *highest_out: the newest kvno held, 0 when none. */
static bool
describe_keys(const struct kt_list *l, const char *principal, char *out, size_t out_len,
              krb5_kvno *highest_out)
{
    krb5_kvno highest = 0;
    size_t n = 0;

    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->e[i].principal, principal) == 0 && l->e[i].kvno > highest)
            highest = l->e[i].kvno;
    }
    *highest_out = highest;
    out[0] = '\0';
    if (highest == 0)
        return false;
    n += (size_t)snprintf(out, out_len, "kvno %u (", (unsigned)highest);
    bool first = true;
    for (size_t i = 0; i < l->count && n < out_len; i++) {
        char name[64];
        if (strcmp(l->e[i].principal, principal) != 0 || l->e[i].kvno != highest)
            continue;
        if (krb5_enctype_to_name(l->e[i].enctype, FALSE, name, sizeof(name)) != 0)
            snprintf(name, sizeof(name), "enctype %d", (int)l->e[i].enctype);
        n += (size_t)snprintf(out + n, out_len - n, "%s%s", first ? "" : ", ", name);
        first = false;
    }
    if (n < out_len)
        n += (size_t)snprintf(out + n, out_len - n, ")");
    for (size_t i = 0; i < l->count && n < out_len; i++) {
        if (strcmp(l->e[i].principal, principal) == 0 && l->e[i].kvno != highest) {
            n += (size_t)snprintf(out + n, out_len - n, "; older kvno %u", (unsigned)l->e[i].kvno);
            break;
        }
    }
    return true;
}

static bool
is_key_mismatch(krb5_error_code code)
{
    return code == KRB5KDC_ERR_PREAUTH_FAILED || code == KRB5KRB_AP_ERR_BAD_INTEGRITY ||
           code == KRB5_KT_KVNONOTFOUND || code == KRB5KRB_AP_ERR_BADKEYVER ||
           code == KRB5_KT_NOTFOUND || code == KRB5KDC_ERR_ETYPE_NOSUPP ||
           code == KRB5_PREAUTH_FAILED || code == KRB5KRB_AP_ERR_MODIFIED;
}

static bool
is_unreachable(krb5_error_code code)
{
    return code == KRB5_KDC_UNREACH || code == KRB5_REALM_CANT_RESOLVE ||
           code == KRB5_REALM_UNKNOWN || code == KRB5_CONFIG_NOTENUFSPACE;
}

static void
report_clock(struct doctor *d, krb5_timestamp kdc_time, time_t before)
{
    long long skew = (long long)(uint32_t)kdc_time - (long long)before;
    long long mag = skew < 0 ? -skew : skew;
    const char *hint = "synchronise the clock with the KDC's (NTP: chrony, systemd-timesyncd)";

    if (mag >= CLOCK_DEFAULT_S)
        doctor_report(d, DOCTOR_FAIL, "clock", hint,
                      "local clock %+llds from the KDC's: past the usual 300s clockskew", skew);
    else if (mag > CLOCK_WARN_S)
        doctor_report(d, DOCTOR_WARN, "clock", hint, "local clock %+llds from the KDC's", skew);
    else
        doctor_report(d, DOCTOR_OK, "clock", NULL, "local clock %+llds from the KDC's", skew);
}

/* Decrypts a service ticket for princ (to itself) with kt. */
static void
check_service_ticket(struct doctor *d, krb5_context ctx, krb5_keytab kt, krb5_principal princ,
                     krb5_creds *tgt, const char *name, const char *hint)
{
    krb5_ccache cc = NULL;
    krb5_creds in, *out = NULL;
    krb5_ticket *tkt = NULL;
    krb5_auth_context ac = NULL, ac2 = NULL;
    krb5_data apreq = {0};
    char what[512];
    char etype[64] = "?";

    memset(&in, 0, sizeof(in));
    krb5_error_code code = krb5_cc_new_unique(ctx, "MEMORY", NULL, &cc);
    if (code == 0)
        code = krb5_cc_initialize(ctx, cc, princ);
    if (code == 0)
        code = krb5_cc_store_cred(ctx, cc, tgt);
    in.client = princ;
    in.server = princ;
    if (code == 0)
        code = krb5_get_credentials(ctx, 0, cc, &in, &out);
    if (code != 0) {
        snprintf(what, sizeof(what), "no service ticket for %s from the KDC", name);
        report_krb5(d, ctx, DOCTOR_FAIL, "keys", hint, code, what);
        goto cleanup;
    }
    code = krb5_decode_ticket(&out->ticket, &tkt);
    if (code == 0 && krb5_enctype_to_name(tkt->enc_part.enctype, FALSE, etype, sizeof(etype)) != 0)
        snprintf(etype, sizeof(etype), "%d", (int)tkt->enc_part.enctype);
    if (code == 0)
        code = krb5_mk_req_extended(ctx, &ac, 0, NULL, out, &apreq);
    /* No replay cache: this authenticator is ours and is thrown away. */
    if (code == 0)
        code = krb5_auth_con_init(ctx, &ac2);
    if (code == 0)
        code = krb5_auth_con_setflags(ctx, ac2, 0);
    if (code == 0)
        code = krb5_rd_req(ctx, &ac2, &apreq, princ, kt, NULL, NULL);
    snprintf(what, sizeof(what), "a ticket for %s (kvno %u, %s) %s with the keytab", name,
             tkt != NULL ? (unsigned)tkt->enc_part.kvno : 0u, etype,
             code == 0 ? "decrypts" : "does not decrypt");
    if (code != 0)
        report_krb5(d, ctx, DOCTOR_FAIL, "keys", hint, code, what);
    else
        doctor_report(d, DOCTOR_OK, "keys", NULL, "%s", what);
cleanup:
    krb5_free_data_contents(ctx, &apreq);
    krb5_auth_con_free(ctx, ac);
    krb5_auth_con_free(ctx, ac2);
    krb5_free_ticket(ctx, tkt);
    krb5_free_creds(ctx, out);
    if (cc != NULL)
        krb5_cc_destroy(ctx, cc);
}

/* A ticket for princ from the KDC with the keytab's key, then a service
 * ticket decrypted with it; the AS reply's time for the clock. */
static void
check_kdc(struct doctor *d, krb5_context ctx, krb5_keytab kt, const char *kt_name,
          krb5_principal princ, const char *name, krb5_kvno kt_kvno)
{
    krb5_get_init_creds_opt *opt = NULL;
    krb5_creds tgt;
    char hint[3072], what[1024];
    const krb5_data *realm = krb5_princ_realm(ctx, princ);

    snprintf(hint, sizeof(hint),
             "re-export the current keys: kadmin -q 'ktadd -k %s %s' (MIT; this makes a new "
             "kvno), or ktpass/msktutil for Active Directory; then reload the server",
             kt_name, name);
    memset(&tgt, 0, sizeof(tgt));
    krb5_error_code code = krb5_get_init_creds_opt_alloc(ctx, &opt);
    if (code == 0) {
        krb5_get_init_creds_opt_set_tkt_life(opt, 300);
        krb5_get_init_creds_opt_set_forwardable(opt, 0);
        krb5_get_init_creds_opt_set_proxiable(opt, 0);
    }
    time_t before = time(NULL);
    if (code == 0)
        code = krb5_get_init_creds_keytab(ctx, &tgt, princ, kt, 0, NULL, opt);
    krb5_get_init_creds_opt_free(ctx, opt);
    if (code != 0) {
        snprintf(what, sizeof(what), "%s from the KDC of %.*s with the keytab's key", name,
                 (int)realm->length, realm->data);
        if (is_unreachable(code))
            report_krb5(d, ctx, DOCTOR_FAIL, "kdc",
                        "start the KDC, or fix [realms] kdc = in krb5.conf (and port 88 "
                        "through firewalls)",
                        code, "no KDC answers for this realm");
        else if (code == KRB5KRB_AP_ERR_SKEW)
            report_krb5(d, ctx, DOCTOR_FAIL, "clock", "synchronise the clock with the KDC's (NTP)",
                        code, what);
        else if (code == KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN || code == KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN)
            report_krb5(d, ctx, DOCTOR_FAIL, "kdc",
                        "create the principal (kadmin addprinc -randkey, or setspn on AD), "
                        "then export its keys",
                        code, what);
        else if (is_key_mismatch(code)) {
            snprintf(what, sizeof(what),
                     "the KDC's key for %s is not the keytab's (kvno %u): rekeyed since the "
                     "keytab was exported?",
                     name, (unsigned)kt_kvno);
            report_krb5(d, ctx, DOCTOR_FAIL, "keys", hint, code, what);
        } else
            report_krb5(d, ctx, DOCTOR_FAIL, "kdc", "see the KDC's log for this request", code,
                        what);
        return;
    }
    doctor_report(d, DOCTOR_OK, "kdc", NULL,
                  "the KDC of %.*s issued %s a ticket with the keytab's key", (int)realm->length,
                  realm->data, name);
    report_clock(d, tgt.times.authtime, before);
    check_service_ticket(d, ctx, kt, princ, &tgt, name, hint);
    krb5_free_cred_contents(ctx, &tgt);
}

/* The host of "HTTP/host@REALM": forward and reverse resolution. */
static void
check_host(struct doctor *d, const char *principal)
{
    char host[256];
    const char *slash = strchr(principal, '/');
    const char *at = strrchr(principal, '@');
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;

    if (slash == NULL)
        return; /* not host-based */
    size_t len = (size_t)((at != NULL && at > slash ? at : slash + strlen(slash)) - slash - 1);
    if (len == 0 || len >= sizeof(host))
        return;
    memcpy(host, slash + 1, len);
    host[len] = '\0';
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        doctor_report(d, DOCTOR_FAIL, "spn-host",
                      "clients build the service name from the URL's host: use a name they "
                      "resolve, or add it to DNS (A/AAAA)",
                      "%s does not resolve: %s", host, gai_strerror(rc));
        return;
    }
    char addr[NI_MAXHOST] = "", rname[NI_MAXHOST] = "";
    getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
    rc = getnameinfo(res->ai_addr, res->ai_addrlen, rname, sizeof(rname), NULL, 0, NI_NAMEREQD);
    freeaddrinfo(res);
    if (rc != 0)
        doctor_report(
            d, DOCTOR_WARN, "spn-host", "add a PTR record, or keep rdns = false on clients",
            "%s -> %s, which has no reverse name (clients with rdns = true fail)", host, addr);
    else if (strcasecmp(rname, host) != 0)
        doctor_report(d, DOCTOR_WARN, "spn-host",
                      "fix the PTR record, or keep rdns = false on clients",
                      "%s -> %s -> %s: clients that canonicalise ask for a ticket for %s", host,
                      addr, rname, rname);
    else
        doctor_report(d, DOCTOR_OK, "spn-host", NULL, "%s -> %s -> %s", host, addr, rname);
}

/* The names clients type (the certificates' DNS names) against the keys held
 * and the names accepted. */
static void
check_client_names(struct doctor *d, krb5_context ctx, const struct doctor_krb5_target *t,
                   const struct kt_list *l, const char *kt_name)
{
    for (size_t i = 0; i < t->client_name_count; i++) {
        char spn[300], hint[3072];
        krb5_principal p = NULL;
        char *full = NULL;
        krb5_kvno kvno = 0;
        char keys[512];
        bool accepted = t->service_name_count == 0;

        snprintf(spn, sizeof(spn), "HTTP/%s", t->client_names[i]);
        for (size_t k = 0; k < t->service_name_count; k++)
            accepted = accepted || strcasecmp(t->service_names[k], spn) == 0;
        if (krb5_parse_name(ctx, spn, &p) != 0 || krb5_unparse_name(ctx, p, &full) != 0) {
            krb5_free_principal(ctx, p);
            continue;
        }
        bool held = describe_keys(l, full, keys, sizeof(keys), &kvno);
        snprintf(hint, sizeof(hint), "create %s and export it to %s (kadmin -q 'ktadd -k %s %s')%s",
                 spn, kt_name, kt_name, spn, accepted ? "" : ", and add it to auth_service_name");
        if (held && accepted)
            doctor_report(d, DOCTOR_OK, "spn", NULL, "clients of https://%s/ ask for %s: held",
                          t->client_names[i], full);
        else
            doctor_report(d, DOCTOR_WARN, "spn", hint, "clients of https://%s/ ask for %s: %s",
                          t->client_names[i], full,
                          !held ? "no key for it in the keytab" : "not in auth_service_name");
        krb5_free_unparsed_name(ctx, full);
        krb5_free_principal(ctx, p);
    }
}

/* The principals to check: auth_service_name, else every one in the keytab. */
static size_t
principals_of(const struct doctor_krb5_target *t, const struct kt_list *l,
              const char *out[MAX_PRINCIPALS])
{
    size_t n = 0;

    for (size_t i = 0; i < t->service_name_count && n < MAX_PRINCIPALS; i++)
        out[n++] = t->service_names[i];
    if (t->service_name_count > 0)
        return n;
    for (size_t i = 0; i < l->count && n < MAX_PRINCIPALS; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup = dup || strcmp(out[k], l->e[i].principal) == 0;
        if (!dup)
            out[n++] = l->e[i].principal;
    }
    return n;
}

static void
check_principal(struct doctor *d, krb5_context ctx, krb5_keytab kt, const char *kt_name,
                const struct kt_list *l, const char *name)
{
    krb5_principal p = NULL;
    char *full = NULL;
    char keys[512], hint[3072];
    krb5_kvno kvno = 0;

    krb5_error_code code = krb5_parse_name(ctx, name, &p);
    if (code == 0)
        code = krb5_unparse_name(ctx, p, &full);
    if (code != 0) {
        report_krb5(d, ctx, DOCTOR_FAIL, "keytab-keys", "a service name is HTTP/host", code, name);
        krb5_free_principal(ctx, p);
        return;
    }
    if (!describe_keys(l, full, keys, sizeof(keys), &kvno)) {
        snprintf(hint, sizeof(hint),
                 "export its keys: kadmin -q 'ktadd -k %s %s' (MIT), "
                 "ktpass/msktutil (Active Directory)",
                 kt_name, full);
        doctor_report(d, DOCTOR_FAIL, "keytab-keys", hint, "%s: no key for %s", kt_name, full);
    } else {
        doctor_report(d, DOCTOR_OK, "keytab-keys", NULL, "%s: %s", full, keys);
        check_kdc(d, ctx, kt, kt_name, p, full, kvno);
    }
    check_host(d, full);
    krb5_free_unparsed_name(ctx, full);
    krb5_free_principal(ctx, p);
}

void
doctor_check_kerberos(struct doctor *d, const struct doctor_krb5_target *t)
{
    krb5_context ctx = NULL;
    krb5_keytab kt = NULL;
    struct kt_list *l = NULL;
    char kt_name[1024];
    const char *names[MAX_PRINCIPALS];

    krb5_error_code code = krb5_init_context(&ctx);
    if (code != 0) {
        doctor_report(d, DOCTOR_FAIL, "krb5", "check KRB5_CONFIG / /etc/krb5.conf",
                      "cannot read the Kerberos configuration (error %ld)", (long)code);
        return;
    }
    if (t->keytab != NULL)
        snprintf(kt_name, sizeof(kt_name), "%s", t->keytab);
    else if (krb5_kt_default_name(ctx, kt_name, sizeof(kt_name)) != 0)
        snprintf(kt_name, sizeof(kt_name), "FILE:/etc/krb5.keytab");
    const char *path = kt_name;
    if (strncmp(path, "FILE:", 5) == 0)
        path += 5;
    else if (strncmp(path, "WRFILE:", 7) == 0)
        path += 7;
    if (strchr(path, ':') == NULL || path[0] == '/') {
        doctor_check_secret_file(d, "keytab", path);
        if (doctor_access(d, path, false) != 0)
            goto cleanup; /* the server could not read it either */
    }
    l = calloc(1, sizeof(*l));
    code = l == NULL ? ENOMEM : krb5_kt_resolve(ctx, kt_name, &kt);
    if (code == 0)
        code = read_keytab(ctx, kt, l);
    if (code != 0) {
        report_krb5(d, ctx, DOCTOR_FAIL, "keytab", "export the service keys to it", code, kt_name);
        goto cleanup;
    }
    if (l->count == 0) {
        doctor_report(d, DOCTOR_FAIL, "keytab", "export the service keys to it",
                      "%s (location %s) holds no keys", path, t->location);
        goto cleanup;
    }
    size_t n = principals_of(t, l, names);
    for (size_t i = 0; i < n; i++)
        check_principal(d, ctx, kt, path, l, names[i]);
    check_client_names(d, ctx, t, l, path);
cleanup:
    free(l);
    if (kt != NULL)
        krb5_kt_close(ctx, kt);
    krb5_free_context(ctx);
}
