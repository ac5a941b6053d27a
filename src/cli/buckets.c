/* buckets: overlapped gradient allreduce (see buckets.h). */
#include "cli/buckets.h"

#include <stdbool.h>
#include <time.h>

#include "core/status.h"
#include "dist/dist.h"

void buckets_plan(struct buckets *b, const struct sn_model *m, size_t bucket_floats)
{
    b->n = 0;
    b->grads = m->grads;
    size_t hi = m->n_params + SN_GRAD_SPARE, size = 0;
    int first = m->n_layers - 1;
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const struct sn_layer *l = m->layers[i];
        size_t lo = hi;
        for (int p = 0; p < l->n_params; p++)
            if (!l->params[p].buffer && l->params[p].offset < lo)
                lo = l->params[p].offset;
        if (lo == hi)
            continue;   /* no gradients here */
        size += hi - lo;
        first = i;
        bool last_slot = b->n == SN_MAX_BUCKETS - 1;
        if (size >= bucket_floats && !last_slot) {
            b->lo[b->n] = lo;
            b->hi[b->n] = lo + size;
            b->first_layer[b->n++] = i;
            size = 0;
        }
        hi = lo;
    }
    if (size > 0 || b->n == 0) {   /* the rest, down to the first layer */
        b->lo[b->n] = 0;
        b->hi[b->n] = b->n ? b->lo[b->n - 1] : m->n_params + SN_GRAD_SPARE;
        b->first_layer[b->n++] = size > 0 ? first : -1;
    }
    b->next = 0;
    b->rc = SN_OK;
    b->trace = NULL;
}

void buckets_begin(struct buckets *b)
{
    b->next = 0;
    b->rc = SN_OK;
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

void buckets_on_backward(void *ctx, int layer)
{
    struct buckets *b = ctx;
    while (!b->rc && b->next < b->n && layer <= b->first_layer[b->next]) {
        note_start(b);
        b->rc = sn_dist_iallreduce_mean_f32(b->grads + b->lo[b->next],
                                            b->hi[b->next] - b->lo[b->next]);
        b->next++;
    }
    if (!b->rc && b->next > 0)
        b->rc = sn_dist_progress();
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
