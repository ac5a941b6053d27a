/* reducer_sharded: the optimizer state sharded over ranks (ZeRO stage 1,
 * as in DeepSpeed and PyTorch's ZeroRedundancyOptimizer; see reducer.h).
 *
 * The arena of n floats is cut into P blocks in rank order; rank r owns
 * block r.  Per step, instead of one allreduce of the gradients:
 *   1. reduce-scatter: rank r receives the mean over ranks of block r of
 *      the gradients (half the bytes of an allreduce leave each rank);
 *   2. rank r updates the parameters of block r, with optimizer state for
 *      block r only (the state per rank falls by P);
 *   3. allgather: every rank gets every updated block.
 * The control words and the squared norm of the mean (a sum of the blocks'
 * norms) take one small allreduce.  Checkpoints gather the state into one
 * whole copy on rank 0 (sn_reducer_gather_block), so they are the same
 * files as unsharded runs write and resume at any world size.
 */
#include "train/reducer_impl.h"

#include <limits.h>
#include <stdlib.h>

#include "core/optim.h"
#include "core/status.h"
#include "dist/dist.h"

int sn_reduce_sharded_plan(struct sn_reducer *r)
{
    const int P = sn_dist_size(), rank = sn_dist_rank();
    if (r->n > (size_t)INT_MAX)
        return sn_fail(SN_EINVAL, "--shard-optimizer: %zu parameters do not fit MPI's int counts",
                       r->n);
    r->counts = malloc((size_t)P * sizeof *r->counts);
    r->displs = malloc((size_t)P * sizeof *r->displs);
    if (!r->counts || !r->displs)
        return sn_fail(SN_ENOMEM, "out of memory");
    for (int q = 0; q < P; q++) {   /* sizes differ by at most one */
        size_t a = r->n * (size_t)q / (size_t)P, b = r->n * (size_t)(q + 1) / (size_t)P;
        r->displs[q] = (int)a;
        r->counts[q] = (int)(b - a);
    }
    r->lo = (size_t)r->displs[rank];
    r->len = (size_t)r->counts[rank];
    return SN_OK;
}

static int sharded_finish(struct sn_reducer *r, struct sn_reduced *out)
{
    /* what the profile counts as sent, as for an allreduce's two halves:
     * the others' blocks of the gradient, then this block to each other */
    const uint64_t others = (uint64_t)(sn_dist_size() - 1);
    r->bytes += 4 * ((uint64_t)(r->n - r->len) + (uint64_t)r->len * others);
    int rc = sn_dist_reduce_scatter_mean_f32(r->arena, r->counts, r->displs);
    double sums[SN_REDUCE_CTRL + 1];
    for (int i = 0; i < SN_REDUCE_CTRL; i++)
        sums[i] = r->arena[r->n + i];
    sums[SN_REDUCE_CTRL] = sn_sumsq(r->arena + r->lo, r->len);
    if (!rc)
        rc = sn_dist_allreduce_sum_f64(sums, SN_REDUCE_CTRL + 1);
    if (rc)
        return rc;
    out->lo = r->lo;
    out->hi = r->lo + r->len;
    out->sumsq = sums[SN_REDUCE_CTRL];
    for (int i = 0; i < SN_REDUCE_CTRL; i++)
        out->ctrl[i] = (float)(sums[i] / sn_dist_size());
    return SN_OK;
}

static int sharded_after_update(struct sn_reducer *r, float *params)
{
    return sn_dist_allgather_f32(params, r->counts, r->displs);
}

const struct sn_reducer_ops sn_reduce_sharded = {
    .name = "sharded",
    .finish = sharded_finish,
    .after_update = sharded_after_update,
};
