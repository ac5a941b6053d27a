/* reducer_shared: every rank on one host, the arena in a shared-memory
 * window: one pass in which each rank averages its slice of the arena
 * from every rank's memory and writes it into all of them (see dist.h).
 * Nothing to overlap: the pass is a copy the cores would make anyway, and
 * it moves each byte once where MPI_Allreduce copies it through a FIFO
 * and back (measured: docs/SCALING.md, make scaling). */
#include "train/reducer_impl.h"

#include "dist/dist.h"

static int shared_finish(struct sn_reducer *r, struct sn_reduced *out)
{
    int rc = sn_dist_shared_mean(r->arena, 0, r->n + SN_REDUCE_CTRL);
    if (!rc)
        sn_reduce_whole_result(r, out);
    return rc;
}

const struct sn_reducer_ops sn_reduce_shared = {
    .name = "shared",
    .finish = shared_finish,
};
