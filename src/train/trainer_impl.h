/* trainer_impl: the trainer's state, shared by trainer.c (setting up and
 * tearing down) and step.c (the steps and epochs).  See trainer.h. */
#ifndef SN_TRAIN_TRAINER_IMPL_H
#define SN_TRAIN_TRAINER_IMPL_H

#include "core/optim.h"
#include "io/prefetch.h"
#include "train/reducer.h"
#include "train/trainer.h"

struct sn_trainer {
    struct sn_train_opts o;        /* a copy; its strings are borrowed */
    char *cfg_text;                /* owned copy of the model text */
    struct sn_netcfg net;
    struct sn_model *m;            /* owned */
    struct sn_dataset *ds;         /* borrowed */
    const struct sn_split *train, *test;
    struct sn_reducer *red;        /* owns the gradient arena */
    struct sn_optim opt;           /* this rank's block (the whole arena but when sharded) */
    bool opt_ready;
    struct sn_train_state st;      /* the position: the next step to take */
    struct sn_run_record record;   /* this run's settings (rank 0; trajectory.h) */
    int P, rank;
    int b, mb, K;                  /* local batch, micro-batch (b / accumulate), outputs */
    size_t in_len;
    int64_t steps_per_epoch, end_step;
    bool bound_steps, bound_epochs;
    double data_bytes;             /* train and test as stored, per rank */
    bool data_held;                /* held in memory (else read per batch) */
    /* a step's buffers, all sized at creation */
    int32_t *perm[2], *rows;       /* two epochs' permutations (one without prefetch) */
    int64_t perm_of[2];            /* the epoch each was drawn for (-1: none) */
    struct sn_prefetch *pf;        /* reads the next step's rows ahead (a split on file) */
    int32_t *next_rows;            /* the rows it reads (with pf) */
    float *x, *targets, *dz;
    float *aug_tmp;                /* augmentation scratch (NULL without [augment]) */
    float *buffers_before;         /* the running statistics before the step's forward */
    float *live;                   /* the live parameter arena while the weight
                                    * average stands in it (NULL without ema) */
    int *labels;
    struct sn_watch watch;         /* the last backward: reducer and observer */
    struct sn_watch timing;        /* forward and earlier micro-batches: observer only */
    /* the epoch in progress, on this rank */
    int64_t stats_epoch;           /* the epoch the running sums are of (-1: none yet) */
    int64_t step_epoch;            /* the epoch of the last step taken */
    double loss_sum;
    long correct;
    int64_t steps_done;
    double epoch_t0, t0;
    bool epoch_pending;            /* a step ended an epoch that sn_trainer_end_epoch has not */
    int64_t saved_step;            /* the step of the newest checkpoint written or loaded */
    int64_t started_at;            /* global_step when the run started (-1 before) */
    int64_t kept_step;             /* the step of a checkpoint that exists (resumed from or
                                    * written), or -1 */
    int lock_fd;                   /* holds the checkpoint folder's lock (rank 0), or -1 */
    bool lock_made;                /* this run made the lock file (removed if it fails to start) */
    char lock_was[4096];           /* else what it held (put back if it fails to start) */
};

/* The optimizer covers the whole arena on every rank (not sharded, or one
 * rank): checkpoints read and write it in place. */
bool sn_trainer_opt_whole(const struct sn_trainer *t);

/* Collective: the starting point, --init then --resume (start.c). */
int sn_trainer_start(struct sn_trainer *t, struct sn_train_start *start);

/* Collective: write the checkpoint of the current position (step.c). */
int sn_trainer_checkpoint(struct sn_trainer *t);

/* With [net] ema: put the weight average in the model's parameters,
 * keeping the live ones (evaluation, --out), and put them back.  Both do
 * nothing without an average. */
void sn_trainer_use_average(struct sn_trainer *t);
void sn_trainer_use_live(struct sn_trainer *t);

/* Tell the observer, if it listens. */
void sn_trainer_warn(const struct sn_trainer *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sn_trainer_alive(const struct sn_trainer *t, int64_t step);

#endif
