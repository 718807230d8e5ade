// SPDX-License-Identifier: MIT
// A small pool of threads for blocking work (directory lookups, KDC calls). A
// job's completion is posted back to the worker loop that owns the request, so
// modules never touch a request from a pool thread.
#include <pthread.h>
#include <stdlib.h>

#include <gatehouse/error.h>

#include "server/server.h"

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pool_job *head; /* FIFO */
    struct pool_job *tail;
    size_t queued;
    size_t queue_max;
    bool is_stopping;
    unsigned thread_count;
    pthread_t threads[];
};

static void *
pool_main(void *arg)
{
    struct pool *p = arg;

    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->head == NULL && !p->is_stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        struct pool_job *job = p->head;
        if (job == NULL) {
            pthread_mutex_unlock(&p->lock);
            return NULL; /* stopping and drained */
        }
        p->head = job->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        job->work(job->arg);
        worker_post(job->worker, &job->task);
    }
}

int
pool_create(unsigned threads, unsigned queue_max, struct pool **pool_out)
{
    struct pool *p = calloc(1, sizeof(*p) + threads * sizeof(pthread_t));

    *pool_out = NULL;
    if (p == NULL)
        return GH_ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->queue_max = queue_max;
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) {
            pool_destroy(p);
            return GH_ENOMEM;
        }
        p->thread_count++;
    }
    *pool_out = p;
    return GH_OK;
}

void
pool_destroy(struct pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->is_stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->thread_count; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int
pool_submit(struct pool *p, struct pool_job *job)
{
    pthread_mutex_lock(&p->lock);
    if (p->is_stopping || p->queued >= p->queue_max) {
        pthread_mutex_unlock(&p->lock);
        return GH_EBUSY;
    }
    job->next = NULL;
    if (p->tail != NULL)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->queued++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return GH_OK;
}

void
pool_stats(struct pool *p, uint64_t *queued_out, uint64_t *queue_max_out)
{
    pthread_mutex_lock(&p->lock);
    *queued_out = p->queued;
    *queue_max_out = p->queue_max;
    pthread_mutex_unlock(&p->lock);
}
