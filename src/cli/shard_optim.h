/* shard_optim: --shard-optimizer, the optimizer state sharded over ranks
 * (ZeRO stage 1, as in DeepSpeed and PyTorch's ZeroRedundancyOptimizer).
 *
 * The parameter arena of n floats is cut into P blocks in rank order; rank
 * r owns block r.  Per step, instead of one allreduce of the gradients:
 *   1. reduce-scatter: rank r receives the mean over ranks of block r of
 *      the gradients (half the bytes of an allreduce leave each rank);
 *   2. rank r updates the parameters of block r, with optimizer state for
 *      block r only (the state per rank falls by P);
 *   3. allgather: every rank gets every updated block.
 * Checkpoints gather the state into one full copy on rank 0, so they are
 * the same files as unsharded runs write (any world size resumes them).
 */
#ifndef SN_CLI_SHARD_OPTIM_H
#define SN_CLI_SHARD_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/optim.h"

struct shard_optim {
    int P, rank;
    int *counts, *displs;   /* floats of each rank's block, and where it starts */
    size_t lo, len;         /* this rank's block */
};

/* Plan the blocks of an arena of n floats over P ranks (sizes differ by at
 * most one).  SN_EINVAL if n does not fit MPI's int counts, SN_ENOMEM. */
int shard_optim_plan(struct shard_optim *s, size_t n, int P, int rank);
void shard_optim_free(struct shard_optim *s);

/* Collective.  Step 1: grads[lo, lo + len) = its mean over ranks; the rest
 * of grads is undefined afterwards. */
int shard_optim_reduce(const struct shard_optim *s, float *grads);

/* Collective.  Step 3: params[displs[r] ...] from rank r, for every r. */
int shard_optim_gather_params(const struct shard_optim *s, float *params);

/* Collective.  *full becomes a whole-arena optimizer on rank 0 holding
 * every rank's state (allocated here; shard_optim_full_free releases it);
 * on other ranks it stays empty. */
int shard_optim_full(const struct shard_optim *s, const struct sn_optim *o, size_t n,
                     struct sn_optim *full);
void shard_optim_full_free(struct sn_optim *full);

/* This rank's block of a whole-arena optimizer (every rank holds one, as
 * after loading a checkpoint) into the block optimizer o. */
void shard_optim_take(const struct shard_optim *s, const struct sn_optim *full, struct sn_optim *o);

#endif
