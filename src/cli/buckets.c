/* buckets: overlapped gradient allreduce (see buckets.h). */
#include "cli/buckets.h"

#include <stdbool.h>
#include <time.h>

#include "core/status.h"
#include "dist/dist.h"

void buckets_plan(struct buckets *b, const struct sn_model *m, size_t bucket_floats)
{
    b->n = 0;
    b->m = m;
    b->grads = m->grads;
    size_t hi = m->n_params + SN_GRAD_SPARE, size = 0;
    /* parameters from the last one in the arena to the first */
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const struct sn_layer *l = m->layers[i];
        for (int p = l->n_params - 1; p >= 0; p--) {
            const struct sn_param *pr = &l->params[p];
            if (pr->buffer)
                continue;
            size += pr->len;
            if (size >= bucket_floats && b->n < SN_MAX_BUCKETS - 1 && pr->offset > 0) {
                b->lo[b->n] = pr->offset;
                b->hi[b->n++] = hi;
                hi = pr->offset;
                size = 0;
            }
        }
    }
    b->lo[b->n] = 0;   /* the rest, down to the start of the arena */
    b->hi[b->n++] = hi;
    buckets_begin(b);
    b->trace = NULL;
}

void buckets_begin(struct buckets *b)
{
    b->next = 0;
    b->rc = SN_OK;
    b->final_from = b->m->n_params + SN_GRAD_SPARE;
}

static void note_start(struct buckets *b)
{
    if (b->trace && b->trace->on) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double now = (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
        trace_add(b->trace, TR_BUCKET, b->next, now, now);
    }
}

/* Start every bucket that lies in the final part, then let MPI progress. */
static void start_final(struct buckets *b)
{
    while (!b->rc && b->next < b->n && b->lo[b->next] >= b->final_from) {
        note_start(b);
        b->rc = sn_dist_iallreduce_mean_f32(b->grads + b->lo[b->next],
                                            b->hi[b->next] - b->lo[b->next]);
        b->next++;
    }
    if (!b->rc && b->next > 0)
        b->rc = sn_dist_progress();
}

void buckets_ready(void *ctx, size_t from)
{
    struct buckets *b = ctx;
    if (from < b->final_from)
        b->final_from = from;
    start_final(b);
}

void buckets_on_backward(void *ctx, int layer)
{
    struct buckets *b = ctx;
    const struct sn_layer *l = b->m->layers[layer];
    for (int p = 0; p < l->n_params; p++)   /* this layer's gradients are final too */
        if (!l->params[p].buffer && l->params[p].offset < b->final_from)
            b->final_from = l->params[p].offset;
    start_final(b);
}

void buckets_poll(void *ctx)
{
    struct buckets *b = ctx;
    if (!b->rc && b->next > 0)
        b->rc = sn_dist_progress();
}

int buckets_finish(struct buckets *b)
{
    while (!b->rc && b->next < b->n) {
        note_start(b);
        b->rc = sn_dist_iallreduce_mean_f32(b->grads + b->lo[b->next],
                                            b->hi[b->next] - b->lo[b->next]);
        b->next++;
    }
    int rc = sn_dist_finish_all();
    return b->rc ? b->rc : rc;
}
