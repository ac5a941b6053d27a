/* prefetch: a reader thread for the next batch (see prefetch.h).
 *
 * One job at a time: the main thread fills the job (rows, tag) and wakes
 * the thread; the thread reads and says it is done.  A mutex and a
 * condition variable guard the state; the buffers belong to whichever
 * side the state gives them to (the thread while BUSY, the main thread
 * otherwise), so neither touches them while the other may.
 */
#include "io/prefetch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/tensor.h"

enum { IDLE, BUSY, QUIT };

struct sn_prefetch {
    struct sn_dataset *d;
    const struct sn_split *s;
    size_t max_rows, n;
    int32_t *rows;           /* the job's rows (max_rows) */
    void *raw;               /* x as stored (max_rows * row_len uint8 or floats) */
    int *labels;             /* max_rows, or NULL */
    float *targets;          /* max_rows * y_k, or NULL */
    int64_t tag;             /* what raw holds (-1: nothing) */
    int rc;                  /* the read's status, and its message */
    char msg[512];
    int state;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
};

static void *reader(void *arg)
{
    struct sn_prefetch *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->state == IDLE)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->state == QUIT)
            break;
        pthread_mutex_unlock(&p->mu);
        int rc = sn_dataset_read_raw(p->d, p->s, p->rows, p->n, p->raw, p->labels, p->targets);
        pthread_mutex_lock(&p->mu);
        p->rc = rc;
        if (rc)   /* messages are per thread: keep it for the main thread */
            snprintf(p->msg, sizeof p->msg, "%s", sn_errmsg());
        p->state = IDLE;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void free_buffers(struct sn_prefetch *p)
{
    free(p->rows);
    sn_free(p->raw);
    free(p->labels);
    sn_free(p->targets);
}

int sn_prefetch_create(struct sn_dataset *d, const struct sn_split *s, size_t max_rows,
                       struct sn_prefetch **out)
{
    *out = NULL;
    struct sn_prefetch *p = calloc(1, sizeof *p);
    if (!p)
        return sn_fail(SN_ENOMEM, "out of memory");
    *p = (struct sn_prefetch){ .d = d, .s = s, .max_rows = max_rows, .tag = -1, .state = IDLE };
    const size_t rows = max_rows ? max_rows : 1;
    p->rows = malloc(rows * sizeof *p->rows);
    p->raw = sn_alloc_bytes(rows * s->row_len * (s->x_u8 ? 1 : sizeof(float)));
    if (s->has_y && s->y_int)
        p->labels = malloc(rows * sizeof *p->labels);
    if (s->has_y && !s->y_int)
        p->targets = sn_alloc_f32(rows * (size_t)s->y_k);
    if (!p->rows || !p->raw || (s->has_y && !p->labels && !p->targets)) {
        free_buffers(p);
        free(p);
        return sn_fail(SN_ENOMEM, "out of memory for reading ahead %zu rows", max_rows);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, reader, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free_buffers(p);
        free(p);
        return sn_fail(SN_EIO, "cannot start the thread that reads batches ahead");
    }
    *out = p;
    return SN_OK;
}

void sn_prefetch_wait(struct sn_prefetch *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->state == BUSY)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void sn_prefetch_destroy(struct sn_prefetch *p)
{
    if (!p)
        return;
    sn_prefetch_wait(p);
    pthread_mutex_lock(&p->mu);
    p->state = QUIT;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free_buffers(p);
    free(p);
}

void sn_prefetch_start(struct sn_prefetch *p, const int32_t *rows, size_t n, int64_t tag)
{
    sn_prefetch_wait(p);
    n = n < p->max_rows ? n : p->max_rows;
    memcpy(p->rows, rows, n * sizeof *rows);
    pthread_mutex_lock(&p->mu);
    p->n = n;
    p->tag = tag;
    p->rc = SN_OK;
    p->state = BUSY;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int64_t sn_prefetch_tag(struct sn_prefetch *p)
{
    sn_prefetch_wait(p);
    return p->tag;
}

int sn_prefetch_take(struct sn_prefetch *p, float *x, int *labels, float *targets)
{
    sn_prefetch_wait(p);
    p->tag = -1;
    if (p->rc)
        return sn_fail(p->rc, "%s", p->msg);
    sn_dataset_convert(p->s, p->raw, x, p->n);
    if (labels && p->labels)
        memcpy(labels, p->labels, p->n * sizeof *labels);
    if (targets && p->targets)
        memcpy(targets, p->targets, p->n * (size_t)p->s->y_k * sizeof *targets);
    return SN_OK;
}
