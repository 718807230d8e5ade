// SPDX-License-Identifier: MIT
// sspi_handshakes: complete in-process handshakes per second, ours (the public
// SSPI API) against the same loop through GSSAPI used directly, in one run.
//
//   sspi_handshakes --dir DIR [--seconds S] [--max N] [--rounds R]
//                   [--rcache none|file] [--only NAME] [--side ours|gss]
//
// DIR is a throwaway directory (the driver bench/sspi-handshakes makes it and
// starts a KDC there with tests/harness/krb5realm.py); the environment must
// name that realm (KRB5_CONFIG, KRB5CCNAME with a TGT for alice, KRB5_KTNAME
// with HTTP/localhost). The program writes DIR/users.store (our user store) and
// DIR/ntlm_users (gss-ntlmssp's NTLM_USER_FILE) for the NTLM user carol, who
// has no Kerberos principal, so Negotiate falls back to NTLM for her.
//
// Pairs (ours / GSSAPI):
//   ntlm        NTLM package           / gss-ntlmssp mechanism (1.3.6.1.4.1.311.2.2.10)
//   nego-ntlm   Negotiate, NTLM chosen / MIT SPNEGO over gss-ntlmssp
//   krb5        Kerberos package       / MIT krb5 mechanism
//   nego-krb5   Negotiate, Kerberos    / MIT SPNEGO over krb5
//
// One handshake: a new initiator and acceptor context, every leg until both
// sides complete, the acceptor learns the client's name (QueryContextAttributes
// NAMES / gss_display_name of src_name: any server needs it), both contexts
// deleted. Credentials are acquired once per side, as a server does. Both
// sides request the same services: mutual authentication for Kerberos,
// integrity + confidentiality for NTLM.
//
// Fairness: ours and GSSAPI alternate in R rounds, each getting S/(2R) seconds
// or N/R handshakes per round, whichever comes first; the rates are totals
// over all rounds, so drift (CPU frequency, other load) hits both alike. The
// replay cache is chosen by --rcache for the whole process (KRB5RCACHETYPE),
// so both Kerberos sides pay the same: "none" measures the handshake itself,
// "file" adds MIT's file replay cache (~80-100 us per accepted AP-REQ).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include <gatehouse/sspi.h>

#include "sspi/store/userstore.h"

#define NTLM_USER   "carol"
#define NTLM_DOMAIN "GATEHOUSE"
#define NTLM_PASS   "carol-bench-pw"
#define TARGET      "HTTP/localhost"
#define TOKEN_MAX   65536
#define LEG_MAX     8

static gss_OID_desc ntlmssp_oid = {10, "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"};
static gss_OID_desc spnego_oid = {6, "\x2b\x06\x01\x05\x05\x02"};
static gss_OID_desc krb5_oid = {9, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Ours: the public SSPI API ------------------------------------------- */

struct ours {
    const char *package;
    CredHandle ini, acc;
    unsigned long isc_req, asc_req;
};

static int
ours_setup(struct ours *o, const char *package, bool is_ntlm_user, const char *dir)
{
    static char store[4096];
    SEC_WINNT_AUTH_IDENTITY_A id = {0};
    GH_ACCEPTOR_AUTH_DATA acc = {.Version = GH_ACCEPTOR_AUTH_DATA_V1};
    TimeStamp ts;
    SECURITY_STATUS st;

    snprintf(store, sizeof(store), "%s/users.store", dir);
    o->package = package;
    if (is_ntlm_user) {
        id.User = (unsigned char *)NTLM_USER;
        id.UserLength = sizeof(NTLM_USER) - 1;
        id.Domain = (unsigned char *)NTLM_DOMAIN;
        id.DomainLength = sizeof(NTLM_DOMAIN) - 1;
        id.Password = (unsigned char *)NTLM_PASS;
        id.PasswordLength = sizeof(NTLM_PASS) - 1;
        id.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
        o->isc_req = ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_CONNECTION;
        o->asc_req = ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION;
    } else {
        o->isc_req = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONNECTION;
        o->asc_req = ASC_REQ_CONNECTION;
    }
    st = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)package, SECPKG_CRED_OUTBOUND, NULL,
                                   is_ntlm_user ? &id : NULL, NULL, NULL, &o->ini, &ts);
    if (st != SEC_E_OK) {
        fprintf(stderr, "%s: initiator credentials: 0x%08x\n", package, (unsigned)st);
        return -1;
    }
    acc.UserStore = store;
    acc.Keytab = getenv("KRB5_KTNAME");
    if (acc.Keytab != NULL && strncmp(acc.Keytab, "FILE:", 5) == 0)
        acc.Keytab += 5;
    st = AcquireCredentialsHandleA(NULL, (SEC_CHAR *)package, SECPKG_CRED_INBOUND, NULL, &acc, NULL,
                                   NULL, &o->acc, &ts);
    if (st != SEC_E_OK) {
        fprintf(stderr, "%s: acceptor credentials: 0x%08x\n", package, (unsigned)st);
        FreeCredentialsHandle(&o->ini);
        return -1;
    }
    return 0;
}

static void
ours_teardown(struct ours *o)
{
    FreeCredentialsHandle(&o->ini);
    FreeCredentialsHandle(&o->acc);
}

/* One complete handshake; 0 on success. */
static int
ours_once(struct ours *o)
{
    static uint8_t a_buf[TOKEN_MAX], b_buf[TOKEN_MAX];
    CtxtHandle ic, ac;
    bool have_ic = false, have_ac = false, ini_done = false, acc_done = false;
    unsigned long attrs;
    TimeStamp ts;
    SECURITY_STATUS st;
    SecBuffer to_acc = {0, SECBUFFER_TOKEN, a_buf}, to_ini = {0, SECBUFFER_TOKEN, b_buf};
    int rc = -1;

    for (int leg = 0; leg < LEG_MAX && !(ini_done && acc_done); leg++) {
        if (!ini_done) {
            SecBuffer in = {to_ini.cbBuffer, SECBUFFER_TOKEN, b_buf};
            SecBufferDesc ind = {SECBUFFER_VERSION, 1, &in};
            to_acc = (SecBuffer){TOKEN_MAX, SECBUFFER_TOKEN, a_buf};
            SecBufferDesc outd = {SECBUFFER_VERSION, 1, &to_acc};
            st = InitializeSecurityContextA(&o->ini, have_ic ? &ic : NULL, (SEC_CHAR *)TARGET,
                                            o->isc_req, 0, 0, have_ic ? &ind : NULL, 0, &ic, &outd,
                                            &attrs, &ts);
            if (st < 0)
                goto cleanup;
            have_ic = true;
            ini_done = st == SEC_E_OK;
        } else {
            to_acc.cbBuffer = 0;
        }
        if (to_acc.cbBuffer == 0) {
            if (acc_done || !ini_done)
                continue;
            goto cleanup; /* initiator finished but the acceptor waits: broken */
        }
        SecBuffer in = {to_acc.cbBuffer, SECBUFFER_TOKEN, a_buf};
        SecBufferDesc ind = {SECBUFFER_VERSION, 1, &in};
        to_ini = (SecBuffer){TOKEN_MAX, SECBUFFER_TOKEN, b_buf};
        SecBufferDesc outd = {SECBUFFER_VERSION, 1, &to_ini};
        st = AcceptSecurityContext(&o->acc, have_ac ? &ac : NULL, &ind, o->asc_req, 0, &ac, &outd,
                                   &attrs, &ts);
        if (st < 0)
            goto cleanup;
        have_ac = true;
        acc_done = st == SEC_E_OK;
        if (ini_done && !acc_done)
            goto cleanup;
        if (acc_done && to_ini.cbBuffer == 0)
            ini_done = true; /* nothing more for the initiator (e.g. no mutual auth) */
    }
    if (ini_done && acc_done) {
        SecPkgContext_NamesA names = {0};
        if (QueryContextAttributesA(&ac, SECPKG_ATTR_NAMES, &names) == SEC_E_OK &&
            names.sUserName != NULL)
            rc = 0;
        FreeContextBuffer(names.sUserName);
    }
cleanup:
    if (have_ic)
        DeleteSecurityContext(&ic);
    if (have_ac)
        DeleteSecurityContext(&ac);
    return rc;
}

/* ---- GSSAPI used directly --------------------------------------------------- */

struct gss {
    gss_OID mech;
    gss_cred_id_t ini, acc;
    gss_name_t target;
    OM_uint32 flags;
};

static void
gss_report(const char *what, OM_uint32 major, OM_uint32 minor)
{
    OM_uint32 ctx = 0, tmp;
    gss_buffer_desc s = GSS_C_EMPTY_BUFFER, m = GSS_C_EMPTY_BUFFER;

    gss_display_status(&tmp, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx, &s);
    ctx = 0;
    gss_display_status(&tmp, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx, &m);
    fprintf(stderr, "%s: %.*s; %.*s\n", what, (int)s.length, (char *)s.value, (int)m.length,
            (char *)m.value);
    gss_release_buffer(&tmp, &s);
    gss_release_buffer(&tmp, &m);
}

static int
gss_setup(struct gss *g, gss_OID mech, gss_OID inner, bool is_ntlm_user)
{
    OM_uint32 major, minor;
    gss_OID_set_desc inner_set = {1, inner};
    gss_OID_set_desc outer_set = {1, mech};
    gss_buffer_desc tn = {strlen("HTTP@localhost"), "HTTP@localhost"};

    *g = (struct gss){mech, GSS_C_NO_CREDENTIAL, GSS_C_NO_CREDENTIAL, GSS_C_NO_NAME, 0};
    major = gss_import_name(&minor, &tn, GSS_C_NT_HOSTBASED_SERVICE, &g->target);
    if (GSS_ERROR(major))
        return gss_report("import target", major, minor), -1;
    if (is_ntlm_user) {
        gss_buffer_desc un = {strlen(NTLM_DOMAIN "\\" NTLM_USER), NTLM_DOMAIN "\\" NTLM_USER};
        gss_buffer_desc pw = {strlen(NTLM_PASS), NTLM_PASS};
        gss_name_t user = GSS_C_NO_NAME;
        major = gss_import_name(&minor, &un, GSS_C_NT_USER_NAME, &user);
        if (GSS_ERROR(major))
            return gss_report("import user", major, minor), -1;
        major = gss_acquire_cred_with_password(&minor, user, &pw, GSS_C_INDEFINITE, &inner_set,
                                               GSS_C_INITIATE, &g->ini, NULL, NULL);
        gss_release_name(&minor, &user);
        g->flags = GSS_C_CONF_FLAG | GSS_C_INTEG_FLAG;
    } else {
        major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &inner_set,
                                 GSS_C_INITIATE, &g->ini, NULL, NULL);
        g->flags = GSS_C_MUTUAL_FLAG;
    }
    if (GSS_ERROR(major))
        return gss_report("initiator credentials", major, minor), -1;
    if (mech == &spnego_oid) {
        /* An SPNEGO acceptor credential limited to the inner mechanism, as a
         * server configured for one mechanism would hold. */
        major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &outer_set, GSS_C_ACCEPT,
                                 &g->acc, NULL, NULL);
        if (!GSS_ERROR(major))
            major = gss_set_neg_mechs(&minor, g->acc, &inner_set);
    } else {
        major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &inner_set, GSS_C_ACCEPT,
                                 &g->acc, NULL, NULL);
    }
    if (GSS_ERROR(major))
        return gss_report("acceptor credentials", major, minor), -1;
    return 0;
}

static void
gss_teardown(struct gss *g)
{
    OM_uint32 minor;

    gss_release_cred(&minor, &g->ini);
    gss_release_cred(&minor, &g->acc);
    gss_release_name(&minor, &g->target);
}

static int
gss_once(struct gss *g)
{
    gss_ctx_id_t ic = GSS_C_NO_CONTEXT, ac = GSS_C_NO_CONTEXT;
    gss_buffer_desc to_acc = GSS_C_EMPTY_BUFFER, to_ini = GSS_C_EMPTY_BUFFER;
    gss_name_t src = GSS_C_NO_NAME;
    OM_uint32 major, minor, imaj = GSS_S_CONTINUE_NEEDED, amaj = GSS_S_CONTINUE_NEEDED;
    int rc = -1;

    for (int leg = 0; leg < LEG_MAX; leg++) {
        if (imaj & GSS_S_CONTINUE_NEEDED) {
            imaj =
                gss_init_sec_context(&minor, g->ini, &ic, g->target, g->mech, g->flags, 0,
                                     GSS_C_NO_CHANNEL_BINDINGS, &to_ini, NULL, &to_acc, NULL, NULL);
            gss_release_buffer(&minor, &to_ini);
            if (GSS_ERROR(imaj)) {
                if (leg == 0)
                    gss_report("gss_init_sec_context", imaj, minor);
                goto cleanup;
            }
        }
        if (to_acc.length == 0)
            break;
        if (!(amaj & GSS_S_CONTINUE_NEEDED))
            goto cleanup;
        amaj = gss_accept_sec_context(&minor, &ac, g->acc, &to_acc, GSS_C_NO_CHANNEL_BINDINGS, &src,
                                      NULL, &to_ini, NULL, NULL, NULL);
        gss_release_buffer(&minor, &to_acc);
        if (GSS_ERROR(amaj)) {
            if (leg == 0)
                gss_report("gss_accept_sec_context", amaj, minor);
            goto cleanup;
        }
        if (to_ini.length == 0)
            break;
    }
    if (!(imaj & GSS_S_CONTINUE_NEEDED) && !(amaj & GSS_S_CONTINUE_NEEDED) &&
        src != GSS_C_NO_NAME) {
        gss_buffer_desc name = GSS_C_EMPTY_BUFFER;
        major = gss_display_name(&minor, src, &name, NULL);
        if (!GSS_ERROR(major) && name.length > 0)
            rc = 0;
        gss_release_buffer(&minor, &name);
    }
cleanup:
    gss_release_buffer(&minor, &to_acc);
    gss_release_buffer(&minor, &to_ini);
    gss_release_name(&minor, &src);
    gss_delete_sec_context(&minor, &ic, GSS_C_NO_BUFFER);
    gss_delete_sec_context(&minor, &ac, GSS_C_NO_BUFFER);
    return rc;
}

/* ---- Measurement -------------------------------------------------------------- */

struct side {
    long count;
    double wall_s, cpu_s;
    int failures;
};

struct pair {
    const char *name, *ours_pkg, *gss_what;
    gss_OID gss_mech, gss_inner;
    bool is_ntlm_user;
    double target_ratio; /* 0: none */
};

static void
run_slice(int (*once)(void *), void *arg, long max, double seconds, struct side *s)
{
    double t0 = now_s(), c0 = cpu_s(), deadline = t0 + seconds;
    long n = 0;

    while (n < max && (n % 16 != 0 || now_s() < deadline)) {
        if (once(arg) != 0) {
            s->failures++;
            break;
        }
        n++;
    }
    s->count += n;
    s->wall_s += now_s() - t0;
    s->cpu_s += cpu_s() - c0;
}

static int
ours_cb(void *arg)
{
    return ours_once(arg);
}

static int
gss_cb(void *arg)
{
    return gss_once(arg);
}

/* --side ours|gss runs one side only (for profiling: perf record, perf stat). */
static const char *only_side;

static int
run_pair(const struct pair *p, const char *dir, double seconds, long max, int rounds)
{
    struct ours o;
    struct gss g;
    struct side so = {0}, sg = {0};
    int rc = 0;

    if (ours_setup(&o, p->ours_pkg, p->is_ntlm_user, dir) != 0)
        return -1;
    if (gss_setup(&g, p->gss_mech, p->gss_inner, p->is_ntlm_user) != 0) {
        ours_teardown(&o);
        return -1;
    }
    /* Warm-up: first handshakes load mechanisms, fetch service tickets. */
    for (int i = 0; i < 3; i++) {
        if (ours_once(&o) != 0) {
            fprintf(stderr, "%s: our handshake fails\n", p->name);
            rc = -1;
        }
        if (gss_once(&g) != 0) {
            fprintf(stderr, "%s: the GSSAPI handshake fails\n", p->name);
            rc = -1;
        }
        if (rc != 0)
            goto cleanup;
    }
    for (int r = 0; r < rounds; r++) {
        double slice_s = seconds / (2.0 * rounds);
        long slice_max = max / rounds > 0 ? max / rounds : 1;
        bool run_ours = only_side == NULL || strcmp(only_side, "ours") == 0;
        bool run_gss = only_side == NULL || strcmp(only_side, "gss") == 0;
        if (r % 2 == 0 && run_ours)
            run_slice(ours_cb, &o, slice_max, slice_s, &so);
        if (run_gss)
            run_slice(gss_cb, &g, slice_max, slice_s, &sg);
        if (r % 2 == 1 && run_ours)
            run_slice(ours_cb, &o, slice_max, slice_s, &so);
    }
    if (so.failures || sg.failures) {
        fprintf(stderr, "%s: handshake failures (ours %d, gss %d)\n", p->name, so.failures,
                sg.failures);
        rc = -1;
    }
    if (so.count == 0 || sg.count == 0) {
        printf("%-10s ours n=%ld, %s n=%ld (one side only)\n", p->name, so.count, p->gss_what,
               sg.count);
        goto cleanup;
    }
    double r_ours = so.count / so.wall_s, r_gss = sg.count / sg.wall_s;
    double cpu_ours = so.cpu_s / (double)so.count, cpu_gss = sg.cpu_s / (double)sg.count;
    double ratio = r_ours / r_gss;
    /* Rates are wall-clock; the CPU ratio (GSSAPI's CPU per handshake over
     * ours) is the steadier figure on a machine shared with other work. */
    printf("%-10s ours %8.1f/s (%6.1f us cpu, n=%ld)  %-22s %8.1f/s (%6.1f us cpu, n=%ld)  "
           "ratio %5.2fx (cpu %5.2fx)",
           p->name, r_ours, 1e6 * cpu_ours, so.count, p->gss_what, r_gss, 1e6 * cpu_gss, sg.count,
           ratio, cpu_gss / cpu_ours);
    if (p->target_ratio > 0)
        printf("  (target >= %.2fx: %s)", p->target_ratio,
               ratio >= p->target_ratio ? "met" : "NOT MET");
    printf("\n");
    fflush(stdout);
cleanup:
    ours_teardown(&o);
    gss_teardown(&g);
    return rc;
}

static int
write_users(const char *dir)
{
    char path[4096], err[512];
    FILE *f;
    struct userstore_user u = {.name = NTLM_USER,
                               .password = NTLM_PASS,
                               .password_len = sizeof(NTLM_PASS) - 1,
                               .iterations = USERSTORE_MIN_ITERATIONS};

    snprintf(path, sizeof(path), "%s/users.store", dir);
    if (userstore_file_put(path, &u, err, sizeof(err)) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, err);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/ntlm_users", dir);
    f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%s:%s:%s\n", NTLM_DOMAIN, NTLM_USER, NTLM_PASS);
    fclose(f);
    return setenv("NTLM_USER_FILE", path, 1);
}

int
main(int argc, char **argv)
{
    const char *dir = NULL, *rcache = "none", *only = NULL;
    double seconds = 4;
    long max = 200000;
    int rounds = 6, rc = 0;
    const struct pair pairs[] = {
        {"ntlm", "NTLM", "gss-ntlmssp", &ntlmssp_oid, &ntlmssp_oid, true, 3.0},
        {"nego-ntlm", "Negotiate", "MIT SPNEGO/gss-ntlmssp", &spnego_oid, &ntlmssp_oid, true, 0},
        {"krb5", "Kerberos", "MIT krb5 mech", &krb5_oid, &krb5_oid, false, 0.95},
        {"nego-krb5", "Negotiate", "MIT SPNEGO/krb5", &spnego_oid, &krb5_oid, false, 0},
    };

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--max") == 0)
            max = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--rcache") == 0)
            rcache = argv[i + 1];
        else if (strcmp(argv[i], "--only") == 0)
            only = argv[i + 1];
        else if (strcmp(argv[i], "--side") == 0)
            only_side = argv[i + 1];
        else
            dir = NULL, i = argc;
    }
    if (dir == NULL || seconds <= 0 || seconds > 600 || max <= 0 || rounds <= 0 || rounds > 100) {
        fprintf(stderr, "usage: sspi_handshakes --dir DIR [--seconds S<=600] [--max N] "
                        "[--rounds R] [--rcache none|file] [--only NAME]\n");
        return 2;
    }
    /* One replay-cache setting for the whole process: both sides get it. */
    if (strcmp(rcache, "none") == 0)
        setenv("KRB5RCACHETYPE", "none", 1);
    else
        unsetenv("KRB5RCACHETYPE");
    if (write_users(dir) != 0)
        return 1;
    printf("# sspi-handshakes: %.1f s per pair, at most %ld handshakes per side, %d alternating "
           "rounds, replay cache: %s\n",
           seconds, max, rounds,
           strcmp(rcache, "none") == 0 ? "none (both sides)" : "file (both sides)");
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        if (only != NULL && strcmp(only, pairs[i].name) != 0)
            continue;
        if (run_pair(&pairs[i], dir, seconds, max, rounds) != 0)
            rc = 1;
    }
    return rc;
}
