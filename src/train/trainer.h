/* trainer: data-parallel training of one model on every rank of the job.
 *
 * Every rank holds the whole model.  Per optimizer step, all ranks take the
 * same global batch of B rows from one shared permutation (dist/shard.h),
 * rank r its r-th slice of B/P rows; forward, loss and backward run on the
 * slice; the reducer (reducer.h) averages the gradients over ranks; every
 * rank applies the same update, so the replicas stay identical.
 *
 *   sn_trainer_create     model text + dataset + options: the model built,
 *                         the starting point set (--init, --resume), every
 *                         buffer of a step allocated
 *   sn_trainer_step       one global step; says when an epoch or the run ends
 *   sn_trainer_end_epoch  the epoch's metrics over all ranks (or those of the
 *                         part the run trained, when it ends inside one), the
 *                         test split evaluated on its cadence, a checkpoint
 *   sn_trainer_finish     the run's last checkpoint (when it stopped early)
 *   sn_trainer_save       the final weights file (train --out)
 *   sn_trainer_destroy
 *
 * Every call is collective: all ranks call it, and it returns the same
 * status on every rank (sn_dist_agree), with the lowest failing rank's
 * message, so the caller prints it once from rank 0.  SN_EFATAL means the
 * ranks could no longer be brought to one decision (a collective broke):
 * end the job with sn_dist_abort.  The trainer never prints; what it
 * would tell a person comes back in structs and through the observer.
 *
 * Resume is exact: a checkpoint holds the parameters, the optimizer state
 * and the position (epoch, step in epoch, global step); every random
 * stream is a function of (seed, position, rank), so a resumed run at the
 * same rank count continues bit for bit.
 */
#ifndef SN_TRAIN_TRAINER_H
#define SN_TRAIN_TRAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"
#include "io/ckpt.h"
#include "io/dataset.h"
#include "io/modelfile.h"
#include "train/reducer.h"

struct sn_trainer;

/* The phases of a step, for profiles and timelines. */
enum sn_phase { SN_PHASE_DATA, SN_PHASE_FORWARD, SN_PHASE_BACKWARD, SN_PHASE_REDUCE,
                SN_PHASE_OPTIMIZER, SN_PHASE_N };
extern const char *const sn_phase_names[SN_PHASE_N];

/* What a caller may watch of training (every member optional). */
struct sn_train_observer {
    void *ctx;
    /* each phase of each step, sn_clock_s seconds; global_step counts the
     * steps done before this one */
    void (*phase)(void *ctx, int64_t global_step, enum sn_phase ph, double t0, double t1);
    /* each layer's forward and backward in each step (setting it costs two
     * clock reads per layer) */
    void (*layer)(void *ctx, int layer, bool backward, double t0, double t1);
    /* a gradient bucket's reduction starts */
    void (*bucket)(void *ctx, int bucket, double t);
    /* progress: after each step, evaluation batch and checkpoint (for a
     * watchdog); step < 0 within a step's work */
    void (*alive)(void *ctx, int64_t step);
    /* something a person should know that is not an error ("ckpt-9.h5 is
     * damaged; trying the one before") */
    void (*warn)(void *ctx, const char *msg);
};

/* Options: what `scratchnet train` takes beside the model and the data. */
struct sn_train_opts {
    /* the model file's [net] values, replaced where set */
    int epochs;              /* < 0: the model file's (or, with steps, no epoch bound) */
    int batch;               /* global batch; 0: the model file's */
    double lr;               /* < 0: the model file's */
    const char *optimizer;   /* NULL: the model file's */
    bool seed_set;
    uint64_t seed;
    /* the run */
    int64_t steps;           /* stop after this many optimizer steps in all; 0: none */
    bool no_shuffle;         /* keep file order */
    int accumulate;          /* micro-batches per step (>= 1) */
    double cache_mb;         /* hold the splits in memory when they fit in this many MiB */
    const char *init;        /* weights to start from (by layer name), or NULL */
    int eval_every;          /* the test split every N epochs and at the run's end */
    /* checkpoints */
    const char *ckpt_dir;    /* NULL: none */
    int64_t ckpt_every;      /* also every N steps (0: at epoch ends only) */
    int64_t keep;            /* keep the newest K (0: all) */
    const char *resume;      /* NULL, a checkpoint's path, or "auto" (newest in ckpt_dir) */
    const char *resume_override;   /* comma-separated settings the resumed run may change
                                    * (trajectory.h); NULL: none */
    /* gradient reduction (reducer.h) */
    enum sn_allreduce allreduce;   /* how the strategy is chosen */
    enum sn_half compress;   /* 16-bit messages across hosts, with error feedback */
    bool overlap;            /* buckets overlapped with backward */
    double bucket_mb;
    bool shard_optimizer;
    const struct sn_train_observer *observer;   /* borrowed; may be NULL */
};

/* The defaults `scratchnet train` has: everything from the model file,
 * accumulate 1, cache 4096 MB, eval every epoch, allreduce auto, no
 * compression, overlap on, buckets of 1 MB. */
void sn_train_opts_defaults(struct sn_train_opts *o);

/* Where the run starts, for the caller to tell the user. */
struct sn_train_start {
    int init_loaded;            /* parameter arrays taken from opts->init */
    bool init_head;             /* the last layer with parameters among them: its
                                 * outputs mean the classes the file was trained on */
    char init_refit[1024];      /* layers re-initialised: in the file in other shapes or in part */
    char resumed_from[4096];    /* the checkpoint loaded ("" for a fresh start) */
    int64_t resumed_world_size; /* the rank count that checkpoint was written with */
    int64_t resumed_threads;    /* and the threads a rank (0: not recorded) */
    bool auto_found_none;       /* resume auto found no checkpoint: a fresh start */
    char overridden[1024];      /* settings that differ from the checkpoint's, accepted
                                 * by resume_override ("" when none) */
    char lr_jump[256];          /* a changed horizon's effect on the resumed step's
                                 * learning rate ("" when none) */
    char whitened[1024];        /* init = whiten layers computed by this start, with what
                                 * they were computed from (rank 0; "" when none) */
};

/* After each step. */
struct sn_step_info {
    int64_t global_step;        /* steps done in all, this one included */
    int64_t epoch;              /* the epoch this step belonged to (from 0) */
    int64_t step_in_epoch;      /* this step's place in it (from 1) */
    double loss_mean, acc;      /* running means over this epoch on this rank (acc NAN
                                 * without class labels) */
    bool epoch_done;            /* the epoch is over, or the part of it this run trains (the
                                 * run ended inside it): sn_trainer_end_epoch */
    bool finished;              /* the run reached its bound (epochs or steps) */
    int stop;                   /* non-zero: some rank asked to stop (core/interrupt.h):
                                 * this rank's signal number, or -1 when the request
                                 * was another rank's */
    bool skipped;               /* the stop came before a rank had its rows (while it
                                 * shuffled): no step was done, global_step is the last */
};

/* After an epoch. */
struct sn_epoch_info {
    struct sn_metrics m;        /* train (and test) loss and accuracy, lr, elapsed */
    bool tested;                /* the test split was evaluated */
    bool has_acc;               /* accuracies mean something (class labels) */
    double images_per_s;        /* this epoch's training throughput */
    double peak_rss_mb;         /* the largest rank's peak resident memory */
    int stop;                   /* non-zero: a stop request ended the test split's
                                 * evaluation (this rank's signal, or -1): the epoch's
                                 * checkpoint is written, and the run should stop */
};

/* Collective.  A trainer for the model described by model_text (a model
 * file; name is used in its messages), on dataset ds (borrowed, kept open
 * by the caller until sn_trainer_destroy), with options o.  Applies o's
 * overrides, checks the data against the model, caches the splits that
 * fit, builds the model for the local batch, chooses the reducer, sets up
 * the optimizer, and sets the starting point (o->init, then o->resume),
 * identical on every rank.  *start says what it did.  Agreed errors: the
 * usual codes (SN_EUSAGE for options that do not fit together, a NULL
 * argument, an option outside the range its flag has, named as
 * sn_train_opts.FIELD; and, not agreed, before sn_dist_init or after
 * sn_dist_finalize, when no collective can run), SN_EINTR
 * when a stop was requested during set-up (core/interrupt.h: checked after
 * each stage, so set-up ends before any step). */
int sn_trainer_create(const char *model_text, const char *name, struct sn_dataset *ds,
                      const struct sn_train_opts *o, struct sn_train_start *start,
                      struct sn_trainer **out);

/* Collective; NULL is fine. */
void sn_trainer_destroy(struct sn_trainer *t);

/* Collective.  One global step: this rank's rows of the next batch read
 * and augmented, forward, loss, backward with the gradients reduced over
 * ranks, clipping, the finiteness check, the optimizer, the position
 * advanced, and a checkpoint when ckpt_every says so.  A data read
 * failure on one rank, a NaN gradient or a stop request reach every rank
 * through the step's own reduction.  SN_ENUM for a non-finite gradient
 * (layer named; nothing saved); SN_EUSAGE once the run is done
 * (sn_trainer_done): no step goes past its bound. */
int sn_trainer_step(struct sn_trainer *t, struct sn_step_info *info);

/* Collective.  After a step with info.epoch_done: the epoch's loss and
 * accuracy over all ranks, the test split evaluated (every eval_every-th
 * epoch and at the run's end), a row in the metrics history, and the
 * epoch's checkpoint. */
int sn_trainer_end_epoch(struct sn_trainer *t, struct sn_epoch_info *out);

/* Collective.  The run is over (finished, stopped, or nothing to do):
 * write its last checkpoint if there is a checkpoint folder and this
 * position has none yet. */
int sn_trainer_finish(struct sn_trainer *t);

/* Collective.  Write the weights file path (rank 0 writes): the
 * parameters, the model text, and the data's scale, mean, std and class
 * names, so predict scales its inputs as training did. */
int sn_trainer_save(struct sn_trainer *t, const char *path);

/* Ask the run to stop after the step in progress; reason: a signal
 * number, or < 0.  It sets the process's one stop request
 * (sn_interrupt_set in core/interrupt.h), the flag a command's signal
 * handler sets and long loads look at: async-signal-safe, and it stays set
 * until sn_interrupt_clear.  Every rank learns of it at the next step's
 * reduction (sn_step_info.stop), so all stop after the same step. */
void sn_trainer_request_stop(struct sn_trainer *t, int reason);

/* true when the run has nothing (left) to do: its position is at or past
 * its bound (a resumed run that had finished). */
bool sn_trainer_done(const struct sn_trainer *t);

/* Read-only views, valid until sn_trainer_destroy. */
const struct sn_train_state *sn_trainer_state(const struct sn_trainer *t);
const struct sn_netcfg *sn_trainer_net(const struct sn_trainer *t);
const struct sn_model *sn_trainer_model(const struct sn_trainer *t);
const char *sn_trainer_reducer_name(const struct sn_trainer *t);
/* The step of a checkpoint of this run that exists (written, or the one it
 * resumed from), -1 when there is none yet. */
int64_t sn_trainer_checkpoint_step(const struct sn_trainer *t);

/* Bytes this rank has sent across hosts since the trainer was created
 * (sn_reducer_bytes_sent). */
uint64_t sn_trainer_bytes_sent(const struct sn_trainer *t);

/* The run's shape: steps per epoch, the local batch (per rank), the step
 * the run ends at, whether that bound comes from --steps (else epochs),
 * examples skipped at each epoch's end, and the optimizer state's floats
 * per state array on this rank. */
struct sn_train_plan {
    int64_t steps_per_epoch;
    int local_batch;
    int64_t end_step;
    int64_t start_step;      /* the global step this run started at: 0, or its checkpoint's */
    bool bound_by_steps;
    bool bound_by_epochs;
    size_t skipped_per_epoch;
    int optim_states;
    size_t optim_len;
    double data_mib;         /* train and test as stored, per rank */
    bool data_held;          /* in memory, or read per batch from the file */
};
void sn_trainer_plan(const struct sn_trainer *t, struct sn_train_plan *out);

#endif
