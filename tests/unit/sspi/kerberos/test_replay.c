// SPDX-License-Identifier: MIT
// Unit tests for src/sspi/kerberos/replay.c: the AP-REQ tag (RFC 2743 3.1
// framing, a bare AP-REQ, malformed ones refused), replays caught within the
// window and not after it, across threads (one winner), across a close and
// reopen (the file), across two processes using the file at once, compaction.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/check.h"
#include "sspi/kerberos/replay.h"

/* A minimal AP-REQ (RFC 4120 5.5.1) whose authenticator cipher is c[0, n). */
static size_t
ap_req(uint8_t *out, const uint8_t *c, uint8_t n, bool with_kvno)
{
    uint8_t enc[64], seq[128];
    size_t e = 0, s = 0, o = 0;

    enc[e++] = 0xa0, enc[e++] = 3, enc[e++] = 0x02, enc[e++] = 1, enc[e++] = 18; /* etype */
    if (with_kvno)
        enc[e++] = 0xa1, enc[e++] = 3, enc[e++] = 0x02, enc[e++] = 1, enc[e++] = 2;
    enc[e++] = 0xa2, enc[e++] = (uint8_t)(n + 2), enc[e++] = 0x04, enc[e++] = n;
    memcpy(enc + e, c, n);
    e += n;
    const uint8_t head[] = {0xa0, 3,    0x02, 1, 5, 0xa1, 3,    0x02, 1,    14, 0xa2, 7, 0x03,
                            5,    0x00, 0,    0, 0, 0,    0xa3, 4,    0x61, 2,  0x30, 0};
    memcpy(seq, head, sizeof(head));
    s = sizeof(head);
    seq[s++] = 0xa4, seq[s++] = (uint8_t)(e + 2), seq[s++] = 0x30, seq[s++] = (uint8_t)e;
    memcpy(seq + s, enc, e);
    s += e;
    out[o++] = 0x6e, out[o++] = (uint8_t)(s + 2), out[o++] = 0x30, out[o++] = (uint8_t)s;
    memcpy(out + o, seq, s);
    return o + s;
}

/* The GSS framing around an AP-REQ: 0x60, the krb5 OID, TOK_ID 01 00. */
static size_t
framed(uint8_t *out, const uint8_t *apreq, size_t n)
{
    static const uint8_t oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
    size_t inner = sizeof(oid) + 2 + n;

    out[0] = 0x60;
    out[1] = (uint8_t)inner;
    memcpy(out + 2, oid, sizeof(oid));
    out[2 + sizeof(oid)] = 0x01;
    out[3 + sizeof(oid)] = 0x00;
    memcpy(out + 4 + sizeof(oid), apreq, n);
    return 2 + inner;
}

static void
test_tag(void)
{
    const uint8_t c1[] = "authenticator one", c2[] = "authenticator two";
    uint8_t a[256], b[256], t1[KRB_REPLAY_TAG_LEN], t2[KRB_REPLAY_TAG_LEN], t3[16];
    size_t n = ap_req(a, c1, sizeof(c1), false);

    CHECK_EQ(krb_replay_tag(slice_make(a, n), t1), SEC_E_OK);
    size_t m = framed(b, a, n);
    CHECK_EQ(krb_replay_tag(slice_make(b, m), t2), SEC_E_OK);
    CHECK_MEM_EQ(t1, t2, sizeof(t1)); /* the framing does not change the tag */
    n = ap_req(a, c1, sizeof(c1), true);
    CHECK_EQ(krb_replay_tag(slice_make(a, n), t3), SEC_E_OK);
    CHECK_MEM_EQ(t1, t3, sizeof(t1)); /* nor the kvno: only the cipher counts */
    n = ap_req(a, c2, sizeof(c2), false);
    CHECK_EQ(krb_replay_tag(slice_make(a, n), t2), SEC_E_OK);
    CHECK(memcmp(t1, t2, sizeof(t1)) != 0);
    /* Every truncation, a wrong TOK_ID, trailing bytes: refused. */
    for (size_t k = 0; k < n; k++)
        CHECK_EQ(krb_replay_tag(slice_make(a, k), t3), SEC_E_INVALID_TOKEN);
    m = framed(b, a, n);
    b[2 + 11] = 0x02; /* TOK_ID 02 00: an AP-REP */
    CHECK_EQ(krb_replay_tag(slice_make(b, m), t3), SEC_E_INVALID_TOKEN);
    a[n] = 0;
    CHECK_EQ(krb_replay_tag(slice_make(a, n + 1), t3), SEC_E_INVALID_TOKEN);
    CHECK_EQ(krb_replay_tag(slice_make("", 0), t3), SEC_E_INVALID_TOKEN);
}

static char dir[] = "/tmp/gh-test-replay-XXXXXX";
static char path[128];

static void
tag_of(unsigned i, uint8_t tag[KRB_REPLAY_TAG_LEN])
{
    memset(tag, 0, KRB_REPLAY_TAG_LEN);
    memcpy(tag, &i, sizeof(i));
    tag[15] = 0x5a;
}

static void
test_window_and_restart(void)
{
    struct krb_replay *rc = NULL, *again = NULL;
    uint8_t tag[KRB_REPLAY_TAG_LEN];
    time_t now = time(NULL);

    CHECK_EQ(krb_replay_open(path, 300, &rc, NULL), SEC_E_OK);
    CHECK_EQ(krb_replay_open(path, 300, &again, NULL), SEC_E_OK);
    CHECK(rc == again); /* one cache per process and file */
    krb_replay_close(again);
    tag_of(1, tag);
    CHECK_EQ(krb_replay_add(rc, tag, now), SEC_E_OK);
    CHECK_EQ(krb_replay_add(rc, tag, now), SEC_E_INVALID_TOKEN);
    CHECK_EQ(krb_replay_add(rc, tag, now + 599), SEC_E_INVALID_TOKEN); /* 2 * skew */
    tag_of(2, tag);
    CHECK_EQ(krb_replay_add(rc, tag, now - 700), SEC_E_OK); /* seen long ago */
    CHECK_EQ(krb_replay_add(rc, tag, now), SEC_E_OK);       /* expired: accepted again */
    /* Many entries: the table grows, all are remembered. */
    for (unsigned i = 100; i < 5100; i++) {
        tag_of(i, tag);
        CHECK_EQ(krb_replay_add(rc, tag, now), SEC_E_OK);
    }
    krb_replay_close(rc);

    /* A new process (here: a new open) reads what the last one saw. Another
     * process at the same time (forked before the open, so it has no
     * reference of its own) shares the file: what it accepts, this one
     * refuses, and the other way round. */
    int go[2], done[2];
    CHECK(pipe(go) == 0 && pipe(done) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct krb_replay *other = NULL;
        uint8_t t[KRB_REPLAY_TAG_LEN];
        char c;
        int bad = 0;
        if (read(go[0], &c, 1) != 1 || krb_replay_open(path, 300, &other, NULL) != SEC_E_OK)
            _exit(2);
        tag_of(1, t); /* accepted by the first process, before this one opened */
        bad |= krb_replay_add(other, t, now + 1) != SEC_E_INVALID_TOKEN;
        tag_of(7, t); /* new: this process accepts it first */
        bad |= krb_replay_add(other, t, now + 1) != SEC_E_OK;
        if (write(done[1], "d", 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(2);
        tag_of(8, t); /* accepted by the parent after this process opened */
        bad |= krb_replay_add(other, t, now + 1) != SEC_E_INVALID_TOKEN;
        krb_replay_close(other);
        _exit(bad);
    }
    rc = NULL;
    CHECK_EQ(krb_replay_open(path, 300, &rc, NULL), SEC_E_OK);
    char c;
    CHECK_EQ(write(go[1], "g", 1), 1);
    CHECK_EQ(read(done[0], &c, 1), 1);
    tag_of(7, tag);
    CHECK_EQ(krb_replay_add(rc, tag, now + 1), SEC_E_INVALID_TOKEN); /* the other's */
    tag_of(8, tag);
    CHECK_EQ(krb_replay_add(rc, tag, now + 1), SEC_E_OK);
    CHECK_EQ(write(go[1], "g", 1), 1);
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
    tag_of(1, tag);
    CHECK_EQ(krb_replay_add(rc, tag, now + 1), SEC_E_INVALID_TOKEN);
    for (unsigned i = 100; i < 5100; i += 499) {
        tag_of(i, tag);
        CHECK_EQ(krb_replay_add(rc, tag, now + 1), SEC_E_INVALID_TOKEN);
    }
    tag_of(3, tag);
    CHECK_EQ(krb_replay_add(rc, tag, now + 1), SEC_E_OK);
    krb_replay_close(rc);
}

struct race {
    struct krb_replay *rc;
    unsigned wins;
};

static void *
racer(void *arg)
{
    struct race *r = arg;
    uint8_t tag[KRB_REPLAY_TAG_LEN];
    unsigned wins = 0;

    for (unsigned i = 0; i < 2000; i++) {
        tag_of(20000 + i, tag);
        wins += krb_replay_add(r->rc, tag, time(NULL)) == SEC_E_OK;
    }
    return (void *)(uintptr_t)wins;
}

static void
test_threads(void)
{
    struct race r = {0};
    pthread_t t[4];

    CHECK_EQ(krb_replay_open(path, 300, &r.rc, NULL), SEC_E_OK);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, racer, &r), 0);
    for (int i = 0; i < 4; i++) {
        void *w = NULL;
        CHECK_EQ(pthread_join(t[i], &w), 0);
        r.wins += (unsigned)(uintptr_t)w;
    }
    CHECK_EQ(r.wins, 2000); /* each tag accepted by exactly one thread */
    krb_replay_close(r.rc);
}

/* Records that expired are dropped when the file is rewritten; live ones stay. */
static void
test_compaction(void)
{
    struct krb_replay *rc = NULL;
    uint8_t tag[KRB_REPLAY_TAG_LEN];
    time_t now = time(NULL);
    struct stat st;

    CHECK_EQ(unlink(path), 0);
    CHECK_EQ(krb_replay_open(path, 1, &rc, NULL), SEC_E_OK);
    for (unsigned i = 0; i < 70000; i++) {
        tag_of(i, tag);
        CHECK_EQ(krb_replay_add(rc, tag, now - 100 + (time_t)(i / 1000)), SEC_E_OK);
    }
    tag_of(69999, tag);
    CHECK_EQ(krb_replay_add(rc, tag, now - 31), SEC_E_INVALID_TOKEN);
    krb_replay_close(rc);
    CHECK_EQ(stat(path, &st), 0);
    CHECK(st.st_size < 70000 * 24); /* rewritten at least once */
}

int
main(void)
{
    test_tag();
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/rc", dir);
    test_window_and_restart();
    test_threads();
    test_compaction();
    /* The file and its lock are private files of ours. */
    char lock[160];
    struct stat st;
    snprintf(lock, sizeof(lock), "%s.lock", path);
    CHECK_EQ(stat(lock, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    unlink(lock);
    unlink(path);
    rmdir(dir);
    return check_done("test_replay");
}
