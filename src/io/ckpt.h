/* ckpt: checkpoints: a weights file plus everything needed to continue.
 *
 *   /model, /params                          as in a weights file
 *   /optimizer                               attributes kind, t (steps taken)
 *   /optimizer/<layer>/<param>/<state>       momentum_buffer, exp_avg, ...
 *   /state/format_version, epoch, step_in_epoch, global_step, world_size,
 *          global_batch, seed                int64 scalars
 *   /metrics/<column>                        float64 (n_epochs), one entry
 *                                            per finished epoch
 *   /run                                     the run record (record.h)
 *   /reducer                                 attribute names: the arrays
 *   /reducer/<name>/data, /counts            float32 (sum of counts),
 *                                            int64 (one per rank): state
 *                                            the gradient reducer carries
 *                                            from step to step, every
 *                                            rank's piece in rank order
 *   /state/checksum                          uint64 FNV-1a over the model
 *                                            text, every parameter, buffer,
 *                                            optimizer and reducer array
 *                                            and the counters, checked on
 *                                            load
 * Random streams are derived from (seed, epoch) for shuffling, from the
 * seed for initialisation and from (seed, rank, step) for dropout and
 * augmentation, so the seed and the step counters are their whole state;
 * the learning-rate schedule is a function of global_step.
 */
#ifndef SN_IO_CKPT_H
#define SN_IO_CKPT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"
#include "core/optim.h"
#include "io/record.h"

#define SN_CKPT_VERSION 1
#define SN_METRIC_COLS 8

/* One finished epoch. */
struct sn_metrics {
    double epoch, step, train_loss, train_acc, test_loss, test_acc, lr, elapsed_s;
};

/* Arrays a checkpoint carries for the gradient reducer (train/reducer.h):
 * data holds every rank's piece in rank order, counts[r] floats from rank
 * r (n_counts = the world size it was written with; a piece has at most
 * the model's parameter count, a load refuses more as damaged). */
#define SN_CKPT_MAX_EXTRA 4
struct sn_ckpt_array {
    char name[32];
    float *data;
    size_t len;              /* floats in data: the sum of counts */
    int64_t *counts;
    int n_counts;
};
struct sn_ckpt_extra {
    int n;
    struct sn_ckpt_array a[SN_CKPT_MAX_EXTRA];
};

/* Free every array's data and counts; n = 0. */
void sn_ckpt_extra_free(struct sn_ckpt_extra *e);

struct sn_train_state {
    int64_t epoch;           /* epoch in progress, from 0 */
    int64_t step_in_epoch;   /* optimizer steps already done in it */
    int64_t global_step;     /* optimizer steps done in all */
    int64_t world_size;      /* when written */
    int64_t threads;         /* threads a rank when written (0: not recorded) */
    int64_t global_batch;
    int64_t seed;
    int n_metrics;           /* rows of history used */
    int cap_metrics;         /* rows of history allocated */
    struct sn_metrics *history;   /* owned by the caller */
    struct sn_run_record record;  /* how the run trains (/run; empty when the file has none) */
    struct sn_ckpt_extra extra;   /* the reducer's arrays (/reducer; n = 0: none) */
    int64_t extra_pieces;    /* in: load keeps only arrays of this many pieces (0: all) */
    const struct sn_data_meta *prep;   /* save: the data's scaling and class names, for
                                        * predict and export (NULL: none written) */
};

/* true if the file at path looks like a checkpoint (has /state). */
bool sn_ckpt_is_checkpoint(const char *path);

/* Write a checkpoint crash-safely (temporary file in the same folder,
 * fsync, rename).  Never through a symbolic link: the rename replaces a
 * link at path itself (sn_h5_write_atomic_here), so a link placed in the
 * checkpoint folder during the run cannot send the
 * checkpoint elsewhere.  Call on one rank. */
int sn_ckpt_save(const char *path, const struct sn_model *m, const struct sn_optim *o,
                 const struct sn_train_state *st, const char *cfg_text);
/* The same to a name that must stay free: whatever appears at path while
 * the checkpoint is written (a file, a folder, a link) is left as it is
 * and the save fails (SN_EIO naming it); the caller may move it aside and
 * save again. */
int sn_ckpt_save_new(const char *path, const struct sn_model *m, const struct sn_optim *o,
                     const struct sn_train_state *st, const char *cfg_text);

/* Load parameters, optimizer state and training state into m, o and st
 * (st->history must have room for st->cap_metrics rows; extra rows are
 * dropped).  st->extra gets the file's reducer arrays, allocated here
 * (free with sn_ckpt_extra_free; n = 0 when there are none or the load
 * fails; an array of other than st->extra_pieces pieces is checked but
 * keeps data NULL; what st->extra held before is overwritten, not freed).
 * SN_EINVAL if the file is not a checkpoint of this model and
 * optimizer, naming the first mismatch; SN_EDAMAGED if it is truncated,
 * not HDF5 any more, or its contents do not match the checksum (m, o and
 * st then hold garbage: load again or give up). */
int sn_ckpt_load(const char *path, struct sn_model *m, struct sn_optim *o,
                 struct sn_train_state *st);

/* The optimizer steps done when the checkpoint at path was written
 * (/state/global_step), after the same seal and probe as sn_ckpt_load;
 * its errors otherwise (the load that follows names the problem fully). */
int sn_ckpt_read_step(const char *path, int64_t *step);

#endif
