/* reducer_impl: what the reducer's strategies share (see reducer.h).
 * Each strategy is an ops table in a file of its own, like the layers; the
 * stage that crosses hosts (an allreduce per bucket, plain or compressed)
 * is reducer_wire.c, used by buckets and hier. */
#ifndef SN_TRAIN_REDUCER_IMPL_H
#define SN_TRAIN_REDUCER_IMPL_H

#include "dist/dist.h"
#include "train/reducer.h"

#define SN_MAX_BUCKETS 128

/* hier's flag slots in the host window: one per bucket (final on that
 * rank), then "the result is in the leader's window" and "copied". */
enum { SN_SLOT_DONE = SN_MAX_BUCKETS, SN_SLOT_COPIED };

struct sn_reducer_ops {
    const char *name;
    /* backward progress (may be NULL: nothing to do before finish) */
    void (*ready)(struct sn_reducer *r, size_t from);
    void (*poll)(struct sn_reducer *r);
    /* the mean of the gradients and control words, and all of *out */
    int (*finish)(struct sn_reducer *r, struct sn_reduced *out);
    int (*after_update)(struct sn_reducer *r, float *params);   /* may be NULL */
};

/* An array of state kept from step to step (reducer.h): this rank's
 * piece (len may be 0 on ranks that keep none). */
struct sn_reducer_saved {
    const char *name;
    float *mine;
    size_t len;
};

struct sn_wire_z;   /* the compressed wire's buffers (reducer_wire.c) */

struct sn_reducer {
    const struct sn_reducer_ops *ops;
    struct sn_reducer_cfg cfg;
    char name[32];
    const struct sn_model *m;
    struct sn_dist_hosts hosts;
    int P;                   /* ranks in the world */
    size_t n;                /* gradient floats (the model's n_params) */
    float *arena;            /* n + SN_REDUCE_CTRL floats, owned */
    bool arena_shared;       /* a shared window (sn_dist_shared_free), else sn_free */
    /* sharded: every rank's block of the arena */
    int *counts, *displs;
    size_t lo, len;          /* this rank's block */
    /* buckets: float ranges of the arena, from its end */
    int n_buckets;
    size_t b_lo[SN_MAX_BUCKETS], b_hi[SN_MAX_BUCKETS];
    int next;                /* the next bucket to start across hosts */
    int next_post;           /* hier: the next bucket to tell the host is final */
    size_t final_from;       /* arena[final_from ..] is final */
    int rc;                  /* the first error during backward */
    uint32_t seq;            /* steps begun (hier's flags carry it) */
    /* the stage that crosses hosts */
    enum sn_dist_group group;   /* WORLD (buckets, blocking) or LEADERS (hier) */
    bool in_group;              /* this rank takes part (hier: leaders) */
    int G;                      /* ranks in the group */
    bool compressed;            /* the group sends 16-bit floats (every rank knows) */
    struct sn_wire_z *z;        /* their buffers, on the group's ranks (NULL: floats) */
    uint64_t bytes;             /* sent across hosts (sn_reducer_bytes_sent) */
    struct sn_reducer_saved saved[2];
    int n_saved;
};

extern const struct sn_reducer_ops sn_reduce_blocking, sn_reduce_buckets, sn_reduce_shared,
    sn_reduce_hier, sn_reduce_sharded;

/* *out for a strategy that leaves the whole mean on every rank. */
void sn_reduce_whole_result(const struct sn_reducer *r, struct sn_reduced *out);

/* Plan r's buckets (reducer_buckets.c). */
void sn_reduce_buckets_plan(struct sn_reducer *r);

/* Plan r's blocks for P ranks (reducer_sharded.c).  SN_EINVAL, SN_ENOMEM. */
int sn_reduce_sharded_plan(struct sn_reducer *r);

/* The stage that crosses hosts, bucket by bucket (reducer_wire.c), over
 * r->group, for the ranks in it:
 *   plan      after the buckets' plan: the compressed wire's buffers when
 *             cfg.compress and the group has more than one rank, and the
 *             residuals as saved state (empty pieces on ranks outside
 *             the group).  SN_ENOMEM
 *   start     bucket b holds this rank's contribution (a rank's gradients,
 *             or a host's sum): start its sum over the group
 *   progress  let the started ones move (compressed: start the second
 *             phase of those whose first has arrived)
 *   finish    every bucket started: wait for all; each holds the mean over
 *             the world (the group's sum times 1/P)
 *   free      the buffers */
int sn_wire_plan(struct sn_reducer *r);
int sn_wire_start(struct sn_reducer *r, int b);
int sn_wire_progress(struct sn_reducer *r);
int sn_wire_finish(struct sn_reducer *r);
void sn_wire_free(struct sn_reducer *r);

#endif
