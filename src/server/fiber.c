// SPDX-License-Identifier: MIT
// Hooks on their own stacks, so that a synchronous call (the seed's
// NegotiateClientCertificate(FALSE)) suspends the request, not the worker's
// event loop. See docs/internals/client_cert.md.
//
// A fiber is a pooled, mmap'd stack with a guard page and a ucontext. The loop
// runs a hook on one with fiber_call(); a gh_* function that must wait calls
// fiber_suspend(), which switches back to the loop (the hook's frame stays on
// its stack); the loop later calls fiber_resume() when the wait is over. Only
// the hooks of modules loaded from shared objects run on fibers: the built-in
// modules (static files...) keep the direct call and pay nothing.
//
// Under AddressSanitizer every switch is announced with
// __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber, so ASan
// knows which stack is live (otherwise it reports false stack overflows and
// use-after-returns).
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <gatehouse/error.h>

#include "server/server.h"

#if defined(__SANITIZE_ADDRESS__)
#define GH_FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GH_FIBER_ASAN 1
#endif
#endif

#ifdef GH_FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#define STACK_BYTES (1024 * 1024) /* ASan's redzones make frames much larger */
#else
#define STACK_BYTES (256 * 1024)
#endif
#define FREE_FIBERS_MAX 16

struct fiber {
    struct fiber *next_free;
    ucontext_t ctx;    /* the hook's */
    ucontext_t caller; /* the loop's, while the hook runs */
    uint8_t *map;      /* guard page + stack */
    size_t map_len;
    struct gh_request *req;
    gh_hook_fn *hook;
    void *config;
    enum gh_rq_status result;
    bool is_done;
#ifdef GH_FIBER_ASAN
    const void *caller_bottom;
    size_t caller_size;
#endif
};

static _Thread_local struct fiber *current;

static void
switch_begin(void **fake, const void *bottom, size_t size)
{
#ifdef GH_FIBER_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void)fake;
    (void)bottom;
    (void)size;
#endif
}

static void
switch_end(void *fake, const void **bottom_old, size_t *size_old)
{
#ifdef GH_FIBER_ASAN
    __sanitizer_finish_switch_fiber(fake, bottom_old, size_old);
#else
    (void)fake;
    (void)bottom_old;
    (void)size_old;
#endif
}

static void
fiber_entry(void)
{
    struct fiber *f = current;

#ifdef GH_FIBER_ASAN
    switch_end(NULL, &f->caller_bottom, &f->caller_size);
#else
    switch_end(NULL, NULL, NULL);
#endif
    f->result = f->hook(f->req, f->config);
    f->is_done = true;
    /* Leaving for good: NULL tells ASan to drop this stack's fake frames. */
#ifdef GH_FIBER_ASAN
    switch_begin(NULL, f->caller_bottom, f->caller_size);
#endif
    swapcontext(&f->ctx, &f->caller); /* never comes back: the next call remakes ctx */
    abort();
}

static struct fiber *
fiber_get(struct worker *w)
{
    struct fiber *f = w->free_fibers;

    if (f != NULL) {
        w->free_fibers = f->next_free;
        w->free_fiber_count--;
        return f;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    long page = sysconf(_SC_PAGESIZE);
    f->map_len = STACK_BYTES + (size_t)page;
    f->map = mmap(NULL, f->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                  -1, 0);
    if (f->map == MAP_FAILED) {
        free(f);
        return NULL;
    }
    mprotect(f->map, (size_t)page, PROT_NONE); /* stacks grow down: the guard is below */
    return f;
}

static void
fiber_put(struct worker *w, struct fiber *f)
{
    f->req = NULL;
    if (w->free_fiber_count < FREE_FIBERS_MAX) {
        f->next_free = w->free_fibers;
        w->free_fibers = f;
        w->free_fiber_count++;
        return;
    }
    munmap(f->map, f->map_len);
    free(f);
}

void
fiber_pool_free(struct worker *w)
{
    while (w->free_fibers != NULL) {
        struct fiber *f = w->free_fibers;
        w->free_fibers = f->next_free;
        munmap(f->map, f->map_len);
        free(f);
    }
    w->free_fiber_count = 0;
}

/* Switches from the loop into f until it suspends or returns. */
static int
enter(struct gh_request *req, struct fiber *f, enum gh_rq_status *rs_out)
{
    long page = sysconf(_SC_PAGESIZE);
    void *fake = NULL;
    struct fiber *outer = current;

    current = f;
    switch_begin(&fake, f->map + page, f->map_len - (size_t)page);
    swapcontext(&f->caller, &f->ctx);
    switch_end(fake, NULL, NULL);
    current = outer;
    if (!f->is_done) {
        req->fiber = f;
        return GH_AGAIN;
    }
    *rs_out = f->result;
    req->fiber = NULL;
    fiber_put(req->worker, f);
    return GH_OK;
}

/* getcontext "returns twice" (-Wclobbered): kept out of line, away from the
 * caller's locals. This context is never returned to: only its stack and
 * entry are used. */
static __attribute__((noinline)) int
ctx_make(struct fiber *f)
{
    long page = sysconf(_SC_PAGESIZE);

    if (getcontext(&f->ctx) != 0)
        return GH_ENOMEM;
    f->ctx.uc_stack.ss_sp = f->map + page;
    f->ctx.uc_stack.ss_size = f->map_len - (size_t)page;
    f->ctx.uc_link = NULL;
    makecontext(&f->ctx, fiber_entry, 0);
    return GH_OK;
}

int
fiber_call(struct gh_request *req, gh_hook_fn *hook, void *config, enum gh_rq_status *rs_out)
{
    if (current != NULL)
        return GH_ESTATE; /* no fiber inside a fiber: the caller calls directly */
    struct fiber *f = fiber_get(req->worker);
    if (f == NULL)
        return GH_ENOMEM;
    if (ctx_make(f) != GH_OK) {
        fiber_put(req->worker, f);
        return GH_ENOMEM;
    }
    f->req = req;
    f->hook = hook;
    f->config = config;
    f->is_done = false;
    return enter(req, f, rs_out);
}

int
fiber_resume(struct gh_request *req, enum gh_rq_status *rs_out)
{
    struct fiber *f = req->fiber;

    if (f == NULL || current != NULL)
        return GH_ESTATE;
    return enter(req, f, rs_out);
}

bool
fiber_can_suspend(const struct gh_request *req)
{
    return current != NULL && current->req == req;
}

void
fiber_suspend(struct gh_request *req)
{
    struct fiber *f = current;
    void *fake = NULL;

    (void)req;
#ifdef GH_FIBER_ASAN
    switch_begin(&fake, f->caller_bottom, f->caller_size);
#endif
    swapcontext(&f->ctx, &f->caller);
#ifdef GH_FIBER_ASAN
    switch_end(fake, &f->caller_bottom, &f->caller_size);
#else
    (void)fake;
#endif
}
