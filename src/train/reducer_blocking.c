/* reducer_blocking: one MPI_Allreduce of the whole arena after backward
 * (train --no-overlap; see reducer.h).  The simplest strategy, and the
 * reference the others must equal bit for bit. */
#include "train/reducer_impl.h"

#include "dist/dist.h"

static int blocking_finish(struct sn_reducer *r, struct sn_reduced *out)
{
    int rc = sn_dist_allreduce_mean_f32(r->arena, r->n + SN_REDUCE_CTRL);
    if (!rc)
        sn_reduce_whole_result(r, out);
    return rc;
}

const struct sn_reducer_ops sn_reduce_blocking = {
    .name = "blocking",
    .finish = blocking_finish,
};
