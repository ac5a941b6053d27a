/* reducer_impl: what the reducer's strategies share (see reducer.h).
 * Each strategy is an ops table in a file of its own, like the layers. */
#ifndef SN_TRAIN_REDUCER_IMPL_H
#define SN_TRAIN_REDUCER_IMPL_H

#include "train/reducer.h"

#define SN_MAX_BUCKETS 128

struct sn_reducer_ops {
    const char *name;
    /* backward progress (may be NULL: nothing to do before finish) */
    void (*ready)(struct sn_reducer *r, size_t from);
    void (*poll)(struct sn_reducer *r);
    /* the mean of the gradients and control words, and all of *out */
    int (*finish)(struct sn_reducer *r, struct sn_reduced *out);
    int (*after_update)(struct sn_reducer *r, float *params);   /* may be NULL */
};

struct sn_reducer {
    const struct sn_reducer_ops *ops;
    struct sn_reducer_cfg cfg;
    const struct sn_model *m;
    size_t n;                /* gradient floats (the model's n_params) */
    float *arena;            /* n + SN_REDUCE_CTRL floats, owned */
    bool arena_shared;       /* a shared window (sn_dist_shared_free), else sn_free */
    /* sharded: every rank's block of the arena */
    int *counts, *displs;
    size_t lo, len;          /* this rank's block */
    /* buckets: float ranges of the arena, from its end */
    int n_buckets;
    size_t b_lo[SN_MAX_BUCKETS], b_hi[SN_MAX_BUCKETS];
    int next;                /* the next bucket to start */
    size_t final_from;       /* arena[final_from ..] is final */
    int rc;                  /* the first error during backward */
};

extern const struct sn_reducer_ops sn_reduce_blocking, sn_reduce_buckets, sn_reduce_shared,
    sn_reduce_sharded;

/* *out for a strategy that leaves the whole mean on every rank. */
void sn_reduce_whole_result(const struct sn_reducer *r, struct sn_reduced *out);

/* Plan r's buckets (reducer_buckets.c). */
void sn_reduce_buckets_plan(struct sn_reducer *r);

/* Plan r's blocks for P ranks (reducer_sharded.c).  SN_EINVAL, SN_ENOMEM. */
int sn_reduce_sharded_plan(struct sn_reducer *r);

#endif
