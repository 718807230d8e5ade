// SPDX-License-Identifier: MIT
// The acceptor's replay cache (replay.h).
//
// Memory: an open-addressing table of (tag, time) with linear probing; an
// expired slot is reused by an insert but does not end a probe, and the table
// is rebuilt without them when it fills. One mutex per cache: the critical
// section is a probe, one write(2) and one lseek(2).
//
// File: a 16-byte header, then 24-byte records (tag, u64le time), each
// appended with one O_APPEND write, so every process that uses the file sees
// one order of records. A process reads the file once when it opens it; then,
// after appending its own record, it reads what other processes appended
// since its last look (nothing, and no read, when it is alone). A tag found
// there before its own record was accepted first by the other process: the
// later one refuses. So a replay is caught across threads (memory), across
// processes running at once (the file's order) and across a restart (the
// file). Compaction (the live records rewritten to "<path>.tmp", renamed over
// the file) happens only when the process is alone: every user holds a shared
// flock on "<path>.lock", compaction takes it exclusively, and a process that
// lost its shared lock for a moment checks that the file is still the one it
// has open (else it reopens and reloads it).
#include "sspi/kerberos/replay.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sspi/der.h"

#define HEADER_LEN     16
#define RECORD_LEN     (KRB_REPLAY_TAG_LEN + 8)
#define MIN_SLOTS      1024u
#define MAX_SLOTS      (1u << 22)                /* 96 MiB of slots: ~3M live entries */
#define MAX_FILE_BYTES (RECORD_LEN * 8000000ull) /* what is loaded at most */
#define COMPACT_MIN    65536u                    /* records in the file before compacting */
#define SCAN_CHUNK     (RECORD_LEN * 2730u)      /* others' records read at a time */

static const uint8_t header[HEADER_LEN] = "GHRCACHE\x01\0\0\0\x18\0\0\0";

struct slot {
    uint8_t tag[KRB_REPLAY_TAG_LEN];
    int64_t time; /* 0: never used */
};

struct krb_replay {
    pthread_mutex_t lock; /* guards everything below but path and keep_s */
    struct krb_replay *next;
    unsigned refs; /* guarded by registry_lock */
    char *path;
    int fd;      /* the file, O_APPEND */
    int lock_fd; /* "<path>.lock", flock'd shared while open */
    int64_t keep_s;
    struct slot *slots;
    size_t cap;          /* power of two */
    size_t used;         /* slots ever filled since the last rebuild (live or expired) */
    uint64_t known_end;  /* the file's records up to here are in memory */
    uint64_t compact_at; /* try compacting when the file is this large (bytes) */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct krb_replay *registry;
/* SHA-256 fetched once: EVP_sha256() in EVP_Digest looks it up on every call,
 * which cost more than hashing the authenticator. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;

static void
sha256_fetch(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* ---- The tag --------------------------------------------------------------- */

/* AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1], ap-options [2],
 *            ticket [3] Ticket, authenticator [4] EncryptedData }    (RFC 4120 5.5.1)
 * Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2],
 *            enc-part [3] EncryptedData }                           (RFC 4120 5.3)
 * EncryptedData ::= SEQUENCE { etype [0], kvno [1] OPTIONAL, cipher [2] OCTET STRING } */
static bool
ap_req_fields(struct slice ap_req_tlv, struct krb_ap_req_view *out)
{
    struct der d = der_of(ap_req_tlv);
    struct slice ap, seq, field, enc, etype, cipher, ticket;
    uint8_t tag;

    if (!der_expect(&d, 0x6e, &ap) || d.left != 0)
        return false;
    d = der_of(ap);
    if (!der_expect(&d, DER_TAG_SEQUENCE, &seq) || d.left != 0)
        return false;
    d = der_of(seq);
    for (uint8_t want = 0; want <= 2; want++) {
        if (!der_next(&d, &tag, &field) || tag != DER_CTX(want))
            return false;
    }
    if (!der_expect(&d, DER_CTX(3), &ticket))
        return false;
    struct der t = der_of(ticket);
    if (!der_expect(&t, 0x61, &field) || t.left != 0 || field.len == 0)
        return false;
    if (!der_expect(&d, DER_CTX(4), &field) || d.left != 0)
        return false;
    d = der_of(field);
    if (!der_expect(&d, DER_TAG_SEQUENCE, &enc) || d.left != 0)
        return false;
    d = der_of(enc);
    if (!der_expect(&d, DER_CTX(0), &etype))
        return false;
    if (der_peek_tag(&d) == DER_CTX(1) && !der_expect(&d, DER_CTX(1), &field))
        return false;
    if (!der_expect(&d, DER_CTX(2), &field) || d.left != 0)
        return false;
    d = der_of(field);
    if (!der_expect(&d, DER_TAG_OCTET_STRING, &cipher) || d.left != 0 || cipher.len == 0)
        return false;
    out->ticket = ticket;
    out->authenticator = cipher;
    return true;
}

SECURITY_STATUS
krb_ap_req_view(struct slice token, struct krb_ap_req_view *out)
{
    struct der d = der_of(token);
    struct slice inner, oid;

    if (der_peek_tag(&d) == DER_TAG_APPLICATION_0) {
        /* RFC 2743 3.1: [APPLICATION 0] IMPLICIT { thisMech OID, innerToken };
         * the krb5 innerToken is TOK_ID 01 00 then the AP-REQ (RFC 4121 4.1). */
        if (!der_expect(&d, DER_TAG_APPLICATION_0, &inner) || d.left != 0)
            return SEC_E_INVALID_TOKEN;
        d = der_of(inner);
        if (!der_expect(&d, DER_TAG_OID, &oid) || d.left < 2 || d.pos[0] != 0x01 ||
            d.pos[1] != 0x00)
            return SEC_E_INVALID_TOKEN;
        token = slice_make(d.pos + 2, d.left - 2);
    }
    return ap_req_fields(token, out) ? SEC_E_OK : SEC_E_INVALID_TOKEN;
}

SECURITY_STATUS
krb_sha256(struct slice data, uint8_t out[32])
{
    unsigned int len = 0;

    pthread_once(&sha256_once, sha256_fetch);
    if (sha256 == NULL || EVP_Digest(data.ptr, data.len, out, &len, sha256, NULL) != 1 || len != 32)
        return SEC_E_INTERNAL_ERROR;
    return SEC_E_OK;
}

SECURITY_STATUS
krb_replay_tag_of(const struct krb_ap_req_view *ap, uint8_t tag_out[KRB_REPLAY_TAG_LEN])
{
    uint8_t digest[32];
    SECURITY_STATUS st = krb_sha256(ap->authenticator, digest);

    if (st == SEC_E_OK)
        memcpy(tag_out, digest, KRB_REPLAY_TAG_LEN);
    return st;
}

SECURITY_STATUS
krb_replay_tag(struct slice token, uint8_t tag_out[KRB_REPLAY_TAG_LEN])
{
    struct krb_ap_req_view ap;
    SECURITY_STATUS st = krb_ap_req_view(token, &ap);

    return st == SEC_E_OK ? krb_replay_tag_of(&ap, tag_out) : st;
}

/* ---- Memory ------------------------------------------------------------------ */

static size_t
slot_index(const uint8_t tag[KRB_REPLAY_TAG_LEN], size_t cap)
{
    uint64_t h;

    memcpy(&h, tag, sizeof(h)); /* SHA-256 output: already uniform */
    return (size_t)h & (cap - 1);
}

static bool
is_live(const struct slot *s, int64_t now, int64_t keep_s)
{
    return s->time != 0 && s->time > now - keep_s;
}

/* Puts (tag, time) into slots without looking for a duplicate (rebuilds). */
static void
place(struct slot *slots, size_t cap, const uint8_t *tag, int64_t time)
{
    size_t i = slot_index(tag, cap);

    while (slots[i].time != 0)
        i = (i + 1) & (cap - 1);
    memcpy(slots[i].tag, tag, KRB_REPLAY_TAG_LEN);
    slots[i].time = time;
}

/* A new table holding the live entries, sized for them to fill at most a
 * quarter of it. GH-style: false on OOM or when they would not fit. */
static bool
rebuild(struct krb_replay *rc, int64_t now, size_t extra)
{
    size_t live = extra, cap = MIN_SLOTS;

    for (size_t i = 0; i < rc->cap; i++)
        live += is_live(&rc->slots[i], now, rc->keep_s);
    while (cap < live * 4 && cap < MAX_SLOTS)
        cap *= 2;
    if (live * 4 > cap * 3) /* even the largest table would be 3/4 full */
        return false;
    struct slot *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < rc->cap; i++) {
        if (is_live(&rc->slots[i], now, rc->keep_s))
            place(slots, cap, rc->slots[i].tag, rc->slots[i].time);
    }
    free(rc->slots);
    rc->slots = slots;
    rc->cap = cap;
    rc->used = live - extra;
    return true;
}

/* ---- File -------------------------------------------------------------------- */

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void
record_encode(uint8_t out[RECORD_LEN], const uint8_t *tag, int64_t time)
{
    uint64_t t = (uint64_t)time;

    memcpy(out, tag, KRB_REPLAY_TAG_LEN);
    for (int i = 0; i < 8; i++)
        out[KRB_REPLAY_TAG_LEN + i] = (uint8_t)(t >> (8 * i));
}

static int64_t
record_time(const uint8_t *rec)
{
    uint64_t t = 0;

    for (int i = 0; i < 8; i++)
        t |= (uint64_t)rec[KRB_REPLAY_TAG_LEN + i] << (8 * i);
    return (int64_t)t;
}

/* Opens path for appending: ours (owner euid, a regular file, not a link). */
static int
open_file(const char *path, struct buf *error_text)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0) {
        if (error_text != NULL)
            (void)buf_printf(error_text, "cannot open the replay cache %s: %s", path,
                             strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 0077) != 0) {
        if (error_text != NULL)
            (void)buf_printf(error_text, "the replay cache %s is not a private file of ours", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* Puts a record read from the file into memory (when live); *found when it is
 * tag (may be NULL). False when memory is exhausted. */
static bool
remember(struct krb_replay *rc, const uint8_t *rec, int64_t now, const uint8_t *tag, bool *found)
{
    struct slot s = {.time = record_time(rec)};

    if (!is_live(&s, now, rc->keep_s) || s.time > now + rc->keep_s)
        return true;
    if (tag != NULL && memcmp(rec, tag, KRB_REPLAY_TAG_LEN) == 0)
        *found = true;
    if ((rc->used + 1) * 4 > rc->cap * 3 && !rebuild(rc, now, 1))
        return false;
    place(rc->slots, rc->cap, rec, s.time);
    rc->used++;
    return true;
}

/* Reads the records in [from, to) of the file into memory (see remember). */
static bool
scan(struct krb_replay *rc, uint64_t from, uint64_t to, int64_t now, const uint8_t *tag,
     bool *found)
{
    uint8_t *chunk = malloc(SCAN_CHUNK);
    bool ok = chunk != NULL;

    while (ok && from + RECORD_LEN <= to) {
        uint64_t want = to - from < SCAN_CHUNK ? to - from : SCAN_CHUNK;
        want -= want % RECORD_LEN;
        ssize_t got = pread(rc->fd, chunk, want, (off_t)from);
        if (got < RECORD_LEN)
            break; /* the file was truncated under us: what is there is read */
        got -= got % RECORD_LEN;
        for (ssize_t off = 0; ok && off < got; off += RECORD_LEN)
            ok = remember(rc, chunk + off, now, tag, found);
        from += (uint64_t)got;
    }
    free(chunk);
    return ok;
}

/* Loads the file into memory: the last MAX_FILE_BYTES of records, from its
 * current end backwards. A new file gets its header. */
static bool
load(struct krb_replay *rc, int64_t now)
{
    struct stat st;
    uint8_t head[HEADER_LEN];

    if (fstat(rc->fd, &st) != 0)
        return false;
    if (st.st_size == 0) {
        /* New (or a racing process writes the header too: then the second
         * header fails the check of whoever opens the file next). */
        rc->known_end = HEADER_LEN;
        rc->compact_at = COMPACT_MIN * RECORD_LEN;
        return write_all(rc->fd, header, HEADER_LEN);
    }
    if (st.st_size < HEADER_LEN || pread(rc->fd, head, HEADER_LEN, 0) != HEADER_LEN ||
        memcmp(head, header, HEADER_LEN) != 0)
        return false; /* not ours to read, nor to overwrite */
    uint64_t end = (uint64_t)st.st_size;
    end -= (end - HEADER_LEN) % RECORD_LEN;
    uint64_t from = end - HEADER_LEN > MAX_FILE_BYTES ? end - MAX_FILE_BYTES : HEADER_LEN;
    if (!scan(rc, from, end, now, NULL, NULL))
        return false;
    rc->known_end = end;
    rc->compact_at = 2 * end > COMPACT_MIN * RECORD_LEN ? 2 * end : COMPACT_MIN * RECORD_LEN;
    return true;
}

/* After the shared lock was given up for a moment: if another process
 * compacted the file meanwhile, open the new one and read it. */
static void
follow_rename(struct krb_replay *rc, int64_t now)
{
    struct stat mine, named;

    if (fstat(rc->fd, &mine) != 0 || stat(rc->path, &named) != 0 ||
        (mine.st_ino == named.st_ino && mine.st_dev == named.st_dev))
        return;
    int fd = open_file(rc->path, NULL);
    if (fd < 0)
        return; /* keep appending to the old one: memory still has everything */
    close(rc->fd);
    rc->fd = fd;
    (void)load(rc, now);
}

/* Rewrites the file with the live entries, when no other process uses it. */
static void
compact(struct krb_replay *rc, int64_t now)
{
    size_t path_len = strlen(rc->path);
    char *tmp = NULL;
    uint8_t rec[RECORD_LEN];
    int fd = -1;
    bool ok;

    if (flock(rc->lock_fd, LOCK_EX | LOCK_NB) != 0)
        goto relock; /* not alone */
    tmp = malloc(path_len + 5);
    struct stat st;
    ok = tmp != NULL && fstat(rc->fd, &st) == 0 &&
         scan(rc, rc->known_end, (uint64_t)st.st_size, now, NULL, NULL);
    if (!ok)
        goto relock;
    memcpy(tmp, rc->path, path_len);
    memcpy(tmp + path_len, ".tmp", 5);
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    ok = fd >= 0 && write_all(fd, header, HEADER_LEN);
    uint64_t end = HEADER_LEN;
    for (size_t i = 0; ok && i < rc->cap; i++) {
        if (!is_live(&rc->slots[i], now, rc->keep_s))
            continue;
        record_encode(rec, rc->slots[i].tag, rc->slots[i].time);
        ok = write_all(fd, rec, RECORD_LEN);
        end += RECORD_LEN;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, rc->path) == 0) {
        int nfd = open(rc->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        if (nfd >= 0) {
            close(rc->fd);
            rc->fd = nfd;
            rc->known_end = end;
        }
    } else {
        (void)unlink(tmp);
    }
relock:
    free(tmp);
    (void)flock(rc->lock_fd, LOCK_SH);
    follow_rename(rc, now);
    rc->compact_at =
        2 * rc->known_end > COMPACT_MIN * RECORD_LEN ? 2 * rc->known_end : COMPACT_MIN * RECORD_LEN;
}

/* ---- Entry points -------------------------------------------------------------- */

static void
replay_free(struct krb_replay *rc)
{
    if (rc == NULL)
        return;
    if (rc->fd >= 0)
        close(rc->fd);
    if (rc->lock_fd >= 0)
        close(rc->lock_fd); /* releases the flock */
    free(rc->slots);
    free(rc->path);
    pthread_mutex_destroy(&rc->lock);
    free(rc);
}

/* A new cache for path: SEC_E_OK with *out, SEC_E_NO_CREDENTIALS (the file
 * cannot be ours: the reason in error_text) or SEC_E_INSUFFICIENT_MEMORY. */
static SECURITY_STATUS
replay_create(const char *path, uint32_t skew_s, struct krb_replay **out, struct buf *error_text)
{
    struct krb_replay *rc = calloc(1, sizeof(*rc));
    size_t path_len = strlen(path);
    char *lock_path = NULL;
    SECURITY_STATUS st = SEC_E_INSUFFICIENT_MEMORY;

    *out = NULL;
    if (rc == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    rc->fd = -1;
    rc->lock_fd = -1;
    rc->keep_s = 2 * (int64_t)(skew_s > 0 ? skew_s : 1);
    pthread_mutex_init(&rc->lock, NULL);
    rc->path = strdup(path);
    lock_path = malloc(path_len + 6);
    rc->slots = calloc(MIN_SLOTS, sizeof(*rc->slots));
    rc->cap = MIN_SLOTS;
    if (rc->path == NULL || lock_path == NULL || rc->slots == NULL)
        goto fail;
    memcpy(lock_path, path, path_len);
    memcpy(lock_path + path_len, ".lock", 6);
    st = SEC_E_NO_CREDENTIALS;
    rc->lock_fd = open_file(lock_path, error_text);
    if (rc->lock_fd < 0 || flock(rc->lock_fd, LOCK_SH) != 0)
        goto fail;
    rc->fd = open_file(path, error_text);
    if (rc->fd < 0)
        goto fail;
    if (!load(rc, (int64_t)time(NULL))) {
        if (error_text != NULL)
            (void)buf_printf(error_text, "cannot read the replay cache %s", path);
        goto fail;
    }
    free(lock_path);
    *out = rc;
    return SEC_E_OK;
fail:
    free(lock_path);
    replay_free(rc);
    return st;
}

SECURITY_STATUS
krb_replay_open(const char *path, uint32_t skew_s, struct krb_replay **out, struct buf *error_text)
{
    struct krb_replay *rc;
    SECURITY_STATUS st = SEC_E_OK;

    *out = NULL;
    pthread_mutex_lock(&registry_lock);
    for (rc = registry; rc != NULL && strcmp(rc->path, path) != 0; rc = rc->next)
        ;
    if (rc != NULL) {
        rc->refs++;
    } else {
        st = replay_create(path, skew_s, &rc, error_text);
        if (st == SEC_E_OK) {
            rc->refs = 1;
            rc->next = registry;
            registry = rc;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    if (st == SEC_E_OK)
        *out = rc;
    return st;
}

void
krb_replay_close(struct krb_replay *rc)
{
    if (rc == NULL)
        return;
    pthread_mutex_lock(&registry_lock);
    bool is_last = --rc->refs == 0;
    if (is_last) {
        struct krb_replay **p = &registry;
        while (*p != rc)
            p = &(*p)->next;
        *p = rc->next;
    }
    pthread_mutex_unlock(&registry_lock);
    if (is_last)
        replay_free(rc);
}

/* Is tag live in memory? Else *free_out is where it may go (an empty or an
 * expired slot of its probe sequence). */
static bool
lookup(struct krb_replay *rc, const uint8_t *tag, int64_t now, struct slot **free_out)
{
    *free_out = NULL;
    for (size_t i = slot_index(tag, rc->cap);; i = (i + 1) & (rc->cap - 1)) {
        struct slot *s = &rc->slots[i];
        if (s->time == 0) {
            if (*free_out == NULL)
                *free_out = s;
            return false;
        }
        bool live = is_live(s, now, rc->keep_s);
        if (live && memcmp(s->tag, tag, KRB_REPLAY_TAG_LEN) == 0)
            return true;
        if (!live && *free_out == NULL)
            *free_out = s;
    }
}

SECURITY_STATUS
krb_replay_add(struct krb_replay *rc, const uint8_t tag[KRB_REPLAY_TAG_LEN], time_t now_time)
{
    int64_t now = (int64_t)now_time;
    uint8_t rec[RECORD_LEN];
    SECURITY_STATUS st = SEC_E_OK;
    struct slot *slot;
    bool found = false;

    pthread_mutex_lock(&rc->lock);
    if (lookup(rc, tag, now, &slot)) {
        st = SEC_E_INVALID_TOKEN; /* seen by this process: a replay */
        goto cleanup;
    }
    /* Our record goes to the file first: its place in the file's order
     * decides against another process that accepts the same tag now. */
    record_encode(rec, tag, now);
    off_t end = write_all(rc->fd, rec, RECORD_LEN) ? lseek(rc->fd, 0, SEEK_CUR) : -1;
    if (end < HEADER_LEN + RECORD_LEN) {
        st = SEC_E_INTERNAL_ERROR;
        goto cleanup;
    }
    uint64_t mine = (uint64_t)end - RECORD_LEN;
    bool others_wrote = mine > rc->known_end;
    if (others_wrote && !scan(rc, rc->known_end, mine, now, tag, &found)) {
        st = SEC_E_INSUFFICIENT_MEMORY;
        goto cleanup;
    }
    rc->known_end = (uint64_t)end;
    if (found) {
        st = SEC_E_INVALID_TOKEN; /* another process accepted it first */
        goto cleanup;
    }
    if (others_wrote)
        (void)lookup(rc, tag, now, &slot); /* the scan may have rebuilt the table */
    if (slot->time == 0 && (rc->used + 1) * 4 > rc->cap * 3) {
        if (!rebuild(rc, now, 1)) {
            st = SEC_E_INSUFFICIENT_MEMORY;
            goto cleanup;
        }
        place(rc->slots, rc->cap, tag, now);
        rc->used++;
    } else {
        if (slot->time == 0)
            rc->used++;
        memcpy(slot->tag, tag, KRB_REPLAY_TAG_LEN);
        slot->time = now;
    }
    if ((uint64_t)end >= rc->compact_at && rc->known_end > 4 * RECORD_LEN * (uint64_t)rc->used)
        compact(rc, now);
    else if ((uint64_t)end >= rc->compact_at)
        rc->compact_at = 2 * (uint64_t)end;
cleanup:
    pthread_mutex_unlock(&rc->lock);
    return st;
}

char *
krb_replay_default_path(void)
{
    const char *type = secure_getenv("KRB5RCACHETYPE");
    const char *name = secure_getenv("KRB5RCACHENAME");
    const char *dir = secure_getenv("KRB5RCACHEDIR");
    char *path;
    size_t n;

    if ((type != NULL && type[0] != '\0') || (name != NULL && name[0] != '\0'))
        return NULL;
    if (dir == NULL || dir[0] == '\0')
        dir = "/var/tmp";
    n = strlen(dir) + 48;
    path = malloc(n);
    if (path != NULL)
        snprintf(path, n, "%s/gatehouse_%lu.rcache", dir, (unsigned long)geteuid());
    return path;
}
