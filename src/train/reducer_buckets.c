/* reducer_buckets: the allreduce overlapped with backward (see reducer.h).
 *
 * The gradient arena holds the layers' gradients in layer order, so
 * backward, which runs from the last layer to the first, completes it from
 * the end.  The arena is cut into buckets of about bucket_floats (whole
 * parameters, last ones first, as PyTorch DDP does).  Backward reports how
 * far the final gradients reach (ready: after each layer, and from inside
 * a layer that finishes some parameters early, such as a recurrent layer's
 * W_hh and biases before its W_ih).  As soon as a bucket lies entirely in
 * the final part, its nonblocking allreduce starts, and MPI is given a
 * chance to progress after every layer and whenever a long layer polls.
 * finish waits for all of them.  The first bucket also carries the
 * control words after the gradients.
 */
#include "train/reducer_impl.h"

#include "core/clock.h"
#include "core/status.h"

void sn_reduce_buckets_plan(struct sn_reducer *r)
{
    const struct sn_model *m = r->m;
    size_t hi = r->n + SN_REDUCE_CTRL, size = 0;
    r->n_buckets = 0;
    /* parameters from the last one in the arena to the first */
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const struct sn_layer *l = m->layers[i];
        for (int p = l->n_params - 1; p >= 0; p--) {
            const struct sn_param *pr = &l->params[p];
            if (pr->buffer)
                continue;
            size += pr->len;
            if (size >= r->cfg.bucket_floats && r->n_buckets < SN_MAX_BUCKETS - 1 &&
                pr->offset > 0) {
                r->b_lo[r->n_buckets] = pr->offset;
                r->b_hi[r->n_buckets++] = hi;
                hi = pr->offset;
                size = 0;
            }
        }
    }
    r->b_lo[r->n_buckets] = 0;   /* the rest, down to the start of the arena */
    r->b_hi[r->n_buckets++] = hi;
}

/* Start the next bucket. */
static void start_next(struct sn_reducer *r)
{
    if (r->cfg.on_start)
        r->cfg.on_start(r->cfg.on_start_ctx, r->next, sn_clock_s());
    sn_dist_flight_bucket(r->next);
    r->rc = sn_wire_start(r, r->next);
    r->next++;
}

static void buckets_poll(struct sn_reducer *r)
{
    if (!r->rc && r->next > 0)
        r->rc = sn_wire_progress(r);
}

/* Start every bucket that lies in the final part, then let MPI progress. */
static void buckets_ready(struct sn_reducer *r, size_t from)
{
    if (!r->cfg.overlap)
        return;
    if (from < r->final_from)
        r->final_from = from;
    while (!r->rc && r->next < r->n_buckets && r->b_lo[r->next] >= r->final_from)
        start_next(r);
    buckets_poll(r);
}

/* Start what has not started and wait for all. */
static int buckets_finish(struct sn_reducer *r, struct sn_reduced *out)
{
    while (!r->rc && r->next < r->n_buckets)
        start_next(r);
    int rc = r->rc ? r->rc : sn_wire_finish(r);
    if (!rc)
        sn_reduce_whole_result(r, out);
    return rc;
}

const struct sn_reducer_ops sn_reduce_buckets = {
    .name = "buckets",
    .ready = buckets_ready,
    .poll = buckets_poll,
    .finish = buckets_finish,
};
