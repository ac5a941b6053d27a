/* buckets: the gradient allreduce overlapped with backward.
 *
 * The gradient arena holds the layers' gradients in layer order, so
 * backward, which runs from the last layer to the first, completes it from
 * the end.  The arena is cut into buckets of about bucket_floats (whole
 * parameters, last ones first, as PyTorch DDP does).  Backward reports how
 * far the final gradients reach: after each layer (on_backward: from that
 * layer's first parameter on), and from inside a layer that finishes some
 * parameters early (ready: a recurrent layer's W_hh and biases before its
 * W_ih).  As soon as a bucket lies entirely in the final part, its
 * nonblocking allreduce starts, and MPI is given a chance to progress after
 * every layer and whenever a long layer polls.  The optimizer waits for
 * all of them (buckets_finish).  The first bucket also carries the spare
 * float after the gradients (the stop flag).
 */
#ifndef SN_CLI_BUCKETS_H
#define SN_CLI_BUCKETS_H

#include <stddef.h>

#include "cli/trace.h"
#include "core/model.h"

#define SN_MAX_BUCKETS 128

struct buckets {
    int n;
    size_t lo[SN_MAX_BUCKETS], hi[SN_MAX_BUCKETS];   /* float ranges of m->grads, from the end */
    int next;                                         /* the next bucket to start */
    size_t final_from;                                /* grads[final_from ..] are final */
    const struct sn_model *m;
    float *grads;
    int rc;                                           /* the first error, SN_OK */
    struct trace *trace;                              /* bucket starts go here (or NULL) */
};

/* Plan the buckets of m (built) for buckets of about bucket_floats. */
void buckets_plan(struct buckets *b, const struct sn_model *m, size_t bucket_floats);

/* Before a step's last backward: nothing started yet. */
void buckets_begin(struct buckets *b);

/* The sn_model on_backward hook (ctx: struct buckets). */
void buckets_on_backward(void *ctx, int layer);

/* The sn_model ready hook: grads[from ..] are final. */
void buckets_ready(void *ctx, size_t from);

/* The sn_model poll hook: MPI progress once something has started. */
void buckets_poll(void *ctx);

/* Start what has not started and wait for all: every gradient is the mean
 * over ranks.  SN_OK or the first error. */
int buckets_finish(struct buckets *b);

#endif
