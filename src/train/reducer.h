/* reducer: the mean of the gradients over the ranks, every step.
 *
 * Every rank computes gradients on its own slice of the global batch; the
 * reducer turns them into their mean over ranks, so every replica takes
 * the same optimizer step.  One interface, several strategies behind it:
 *
 *   blocking  one MPI_Allreduce of the whole gradient arena after backward
 *   buckets   the arena cut into buckets of about bucket_mb, each started
 *             with MPI_Iallreduce as soon as backward has finished it, so
 *             communication overlaps the rest of backward (PyTorch DDP's
 *             design: parameters last-first, a bucket is whole parameters)
 *   shared    every rank on one host: the gradients live in an MPI-3
 *             shared-memory window and each rank averages a slice of them
 *             straight from the others' memory (no messages)
 *   sharded   ZeRO stage 1: reduce-scatter, so each rank holds the mean of
 *             one block of the arena and updates only that block (with 1/P
 *             of the optimizer state), then allgather the parameters
 *
 * The reducer owns the gradient arena and lends it to the model.  After
 * the gradients come SN_REDUCE_CTRL floats of "control": each rank's word
 * to the others for this step (the trainer's stop request, a rank's
 * failure), averaged with the gradients, so saying something costs no
 * extra collective.
 *
 * Per step: sn_reducer_begin, then backward with the reducer told what is
 * final (sn_reducer_ready, sn_reducer_poll: the trainer passes them to the
 * model through its sn_watch), then sn_reducer_finish; after the
 * optimizer has updated this rank's block, sn_reducer_after_update.
 */
#ifndef SN_TRAIN_REDUCER_H
#define SN_TRAIN_REDUCER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/model.h"

#define SN_REDUCE_CTRL 2

struct sn_reducer;

struct sn_reducer_cfg {
    bool sharded;          /* ZeRO stage 1 (takes precedence) */
    bool allow_shared;     /* use the shared window when every rank is on one host */
    bool overlap;          /* buckets overlapped with backward (else one blocking allreduce) */
    size_t bucket_floats;  /* buckets' size */
    /* Called when a bucket's reduction starts (a timeline); may be NULL. */
    void (*on_start)(void *ctx, int bucket, double t);
    void *on_start_ctx;
};

/* What a step's reduction gives back. */
struct sn_reduced {
    size_t lo, hi;                /* this rank holds the mean of grads[lo, hi): the block its
                                   * optimizer updates (the whole arena but when sharded) */
    double sumsq;                 /* squared L2 norm of the whole mean gradient (sn_sumsq;
                                   * the same bits on every rank) */
    float ctrl[SN_REDUCE_CTRL];   /* the mean over ranks of every rank's control words */
};

/* Collective.  A reducer for model m (built): picks the strategy from cfg
 * and the placement of the ranks, allocates the gradient arena (n_params +
 * SN_REDUCE_CTRL floats) and lends it to m (sn_model_use_grads).  Keep the
 * reducer alive as long as m uses its arena.  SN_ENOMEM, SN_EDIST. */
int sn_reducer_create(const struct sn_reducer_cfg *cfg, struct sn_model *m,
                      struct sn_reducer **out);

/* Collective (the shared window is freed with every rank).  NULL is fine. */
void sn_reducer_destroy(struct sn_reducer *r);

/* "blocking", "buckets", "shared" or "sharded". */
const char *sn_reducer_name(const struct sn_reducer *r);

/* The block [*lo, *lo + *len) of the arena this rank's optimizer updates. */
void sn_reducer_block(const struct sn_reducer *r, size_t *lo, size_t *len);

/* A step's last backward is about to run; ctrl is this rank's word. */
void sn_reducer_begin(struct sn_reducer *r, const float ctrl[SN_REDUCE_CTRL]);

/* During backward: every gradient from arena offset from on is final. */
void sn_reducer_ready(struct sn_reducer *r, size_t from);

/* During backward: let communication started earlier progress. */
void sn_reducer_poll(struct sn_reducer *r);

/* Collective.  Finish the reduction: the mean over ranks of the gradients
 * (of this rank's block) and of the control words, and the global squared
 * norm, in *out.  An error here means the ranks may no longer be in step:
 * SN_EFATAL. */
int sn_reducer_finish(struct sn_reducer *r, struct sn_reduced *out);

/* Collective.  After the optimizer updated this rank's block of params:
 * every rank gets every block (sharded); nothing otherwise.  SN_EFATAL. */
int sn_reducer_after_update(struct sn_reducer *r, float *params);

/* Collective.  Each rank's block of an array (mine: this rank's block,
 * sn_reducer_block's len floats) into whole on rank 0 (n_params floats
 * there; ignored elsewhere): how a checkpoint collects a sharded state. */
int sn_reducer_gather_block(struct sn_reducer *r, const float *mine, float *whole);

#endif
