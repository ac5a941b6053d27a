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
 *   hier      ranks on several hosts: each host sums its ranks' buckets in
 *             a shared window of its own, the hosts' leaders allreduce the
 *             sums (buckets overlapped with backward), and each host's
 *             ranks copy the result from their leader's window
 *   sharded   ZeRO stage 1: reduce-scatter, so each rank holds the mean of
 *             one block of the arena and updates only that block (with 1/P
 *             of the optimizer state), then allgather the parameters
 *
 * Compression (cfg.compress): the stage that crosses hosts (the whole
 * allreduce of buckets and blocking, the leaders' stage of hier) sends
 * 16-bit floats with error feedback (reducer_wire.c); its residuals are
 * state that checkpoints carry (sn_reducer_state_save / _load).
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
#include <stdint.h>

#include "core/half.h"
#include "core/model.h"
#include "io/ckpt.h"

#define SN_REDUCE_CTRL 2

/* train --allreduce: how the strategy is chosen (the sharded optimizer
 * takes precedence over all of them).
 *   auto  every rank on one host: shared; ranks on several hosts with more
 *         than one on some host: hier; else buckets (blocking: no overlap)
 *   flat  shared on one host, else buckets / blocking: never hier
 *   hier  hier wherever the ranks are
 *   mpi   buckets / blocking: messages even on one host */
enum sn_allreduce { SN_ALLREDUCE_AUTO, SN_ALLREDUCE_FLAT, SN_ALLREDUCE_HIER, SN_ALLREDUCE_MPI };

/* "auto", "flat", "hier" or "mpi" into *out; SN_EUSAGE otherwise. */
int sn_allreduce_parse(const char *name, enum sn_allreduce *out);

struct sn_reducer;

struct sn_reducer_cfg {
    bool sharded;          /* ZeRO stage 1 (takes precedence) */
    enum sn_allreduce mode;
    enum sn_half compress; /* 16-bit messages across hosts (SN_HALF_NONE: floats) */
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
 * and the placement of the ranks (dist.h's hosts), allocates the gradient
 * arena (n_params + SN_REDUCE_CTRL floats) and lends it to m
 * (sn_model_use_grads).  Keep the reducer alive as long as m uses its
 * arena.  SN_ENOMEM, SN_EDIST; SN_EUSAGE for compression with the sharded
 * optimizer (its reduce-scatter is not compressed). */
int sn_reducer_create(const struct sn_reducer_cfg *cfg, struct sn_model *m,
                      struct sn_reducer **out);

/* Collective (the shared window is freed with every rank).  NULL is fine. */
void sn_reducer_destroy(struct sn_reducer *r);

/* "blocking", "buckets", "shared", "hier" or "sharded", with "+bf16" or
 * "+fp16" where messages are compressed. */
const char *sn_reducer_name(const struct sn_reducer *r);

/* Whether gradients leave this reducer as 16-bit floats: cfg.compress, and
 * a stage that sends messages over more than one rank (not the shared
 * window of one host, not a single rank). */
bool sn_reducer_compressed(const struct sn_reducer *r);

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
 * every rank gets every block (sharded); the host's ranks have taken the
 * result from the leader's window, so it may be written again (hier);
 * nothing otherwise.  SN_EFATAL. */
int sn_reducer_after_update(struct sn_reducer *r, float *params);

/* Collective.  Each rank's block of an array (mine: this rank's block,
 * sn_reducer_block's len floats) into whole on rank 0 (n_params floats
 * there; ignored elsewhere): how a checkpoint collects a sharded state. */
int sn_reducer_gather_block(struct sn_reducer *r, const float *mine, float *whole);

/* Bytes this rank has handed to MPI since creation in the stage that
 * crosses hosts: for a float allreduce of a bucket, what a reduce-scatter
 * and allgather of it send (2 (G - 1) / G of its bytes over a group of G
 * ranks: what a ring or Rabenseifner's algorithm sends, the least any
 * allreduce can; MPI's choice for small messages may send more); for a
 * compressed bucket, the 16-bit blocks given to MPI_Ialltoallv and
 * MPI_Iallgatherv.  Shared-memory stages count nothing. */
uint64_t sn_reducer_bytes_sent(const struct sn_reducer *r);

/* Collective.  The strategy's state that lasts from step to step (with
 * compression, the residuals of error feedback) for a checkpoint: on rank
 * 0, out gets each array whole, every rank's piece in rank order with the
 * pieces' lengths (free with sn_ckpt_extra_free); elsewhere, and for
 * strategies without such state, out->n = 0.  SN_ENOMEM (agreed);
 * SN_EFATAL when a collective breaks. */
int sn_reducer_state_save(struct sn_reducer *r, struct sn_ckpt_extra *out);

/* Collective.  Take the state back from a checkpoint's arrays (in: rank
 * 0's, ignored elsewhere).  Each of this reducer's arrays whose pieces in
 * the file have the lengths this run's ranks hold (the same rank count and
 * placement) goes back to its ranks; any other starts from zeros, and
 * rank 0 lists its name in dropped (len bytes; "" when none).  SN_EFATAL
 * when a collective breaks. */
int sn_reducer_state_load(struct sn_reducer *r, const struct sn_ckpt_extra *in, char *dropped,
                          size_t len);

#endif
