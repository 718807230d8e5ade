// SPDX-License-Identifier: MIT
// The handle table. SSPI hands callers two words per handle and lets them pass
// anything back; storing raw pointers in them would turn a stale or forged
// handle into a use-after-free. Instead a handle names a slot and the slot's
// generation, so every lookup is a bounds check plus an equality check, and a
// deleted handle stays invalid even after its slot is reused.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "sspi/internal.h"

#define HANDLE_TAG       0x4700u /* in dwUpper beside the kind: catches zeroed handles */
#define HANDLE_MAX_SLOTS (1u << 22)
#define NO_FREE_SLOT     UINT32_MAX

struct slot {
    void *obj; /* NULL when free */
    uint32_t gen;
    uint8_t kind;
    uint32_t next_free;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static uint32_t slot_count, slot_cap, live_count;
static uint32_t free_head = NO_FREE_SLOT;

static ULONG_PTR_SSPI
upper_word(uint32_t gen, enum handle_kind kind)
{
    return ((ULONG_PTR_SSPI)gen << 16) | HANDLE_TAG | (ULONG_PTR_SSPI)kind;
}

static SECURITY_STATUS
grow_locked(void)
{
    uint32_t cap = slot_cap == 0 ? 64 : slot_cap * 2;
    struct slot *p;

    if (cap > HANDLE_MAX_SLOTS)
        return SEC_E_INSUFFICIENT_MEMORY;
    p = realloc(slots, cap * sizeof(*p));
    if (p == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    slots = p;
    slot_cap = cap;
    return SEC_E_OK;
}

SECURITY_STATUS
handles_add(enum handle_kind kind, void *obj, PSecHandle handle_out)
{
    SECURITY_STATUS status = SEC_E_OK;
    uint32_t index;

    pthread_mutex_lock(&table_lock);
    if (free_head != NO_FREE_SLOT) {
        index = free_head;
        free_head = slots[index].next_free;
    } else {
        if (slot_count == slot_cap) {
            status = grow_locked();
            if (status != SEC_E_OK)
                goto cleanup;
        }
        index = slot_count++;
        slots[index].gen = 0;
    }
    slots[index].gen++;
    if (slots[index].gen == 0 || slots[index].gen > 0xffffffu)
        slots[index].gen = 1; /* keeps the upper word below 2^40 on every ABI */
    slots[index].obj = obj;
    slots[index].kind = (uint8_t)kind;
    slots[index].next_free = NO_FREE_SLOT;
    live_count++;
    handle_out->dwLower = (ULONG_PTR_SSPI)index + 1;
    handle_out->dwUpper = upper_word(slots[index].gen, kind);
cleanup:
    pthread_mutex_unlock(&table_lock);
    return status;
}

/* The slot of a valid handle of kind, or NULL. Called with the lock held. */
static struct slot *
find_locked(const SecHandle *handle, enum handle_kind kind)
{
    ULONG_PTR_SSPI lower;
    struct slot *s;

    if (handle == NULL)
        return NULL;
    lower = handle->dwLower;
    if (lower == 0 || lower > slot_count)
        return NULL;
    s = &slots[lower - 1];
    if (s->obj == NULL || s->kind != (uint8_t)kind || handle->dwUpper != upper_word(s->gen, kind))
        return NULL;
    return s;
}

static SECURITY_STATUS
lookup(const SecHandle *handle, enum handle_kind kind, handles_claim_fn *claim, void **obj_out,
       bool remove)
{
    SECURITY_STATUS status;
    struct slot *s;

    pthread_mutex_lock(&table_lock);
    s = find_locked(handle, kind);
    if (s == NULL) {
        status = SEC_E_INVALID_HANDLE;
        goto cleanup;
    }
    status = claim != NULL ? claim(s->obj) : SEC_E_OK;
    if (status != SEC_E_OK)
        goto cleanup;
    *obj_out = s->obj;
    if (remove) {
        uint32_t index = (uint32_t)(s - slots);

        s->obj = NULL;
        s->next_free = free_head;
        free_head = index;
        live_count--;
    }
cleanup:
    pthread_mutex_unlock(&table_lock);
    return status;
}

SECURITY_STATUS
handles_get(const SecHandle *handle, enum handle_kind kind, handles_claim_fn *claim, void **obj_out)
{
    return lookup(handle, kind, claim, obj_out, false);
}

SECURITY_STATUS
handles_remove(const SecHandle *handle, enum handle_kind kind, handles_claim_fn *claim,
               void **obj_out)
{
    return lookup(handle, kind, claim, obj_out, true);
}

size_t
handles_count(void)
{
    size_t n;

    pthread_mutex_lock(&table_lock);
    n = live_count;
    pthread_mutex_unlock(&table_lock);
    return n;
}
