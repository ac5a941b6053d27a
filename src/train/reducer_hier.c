/* reducer_hier: hierarchical reduction for ranks on several hosts (see
 * reducer.h).
 *
 * Messages between hosts are slow and shared memory within one is fast,
 * so each byte should cross a host's link once: the ranks of a host add
 * their gradients up in shared memory, and only the hosts' leaders (each
 * host's first rank) talk across hosts (Horovod's hierarchical allreduce,
 * NCCL's tree of rings).  The arena is this rank's part of a window over
 * its host's ranks (dist.h's host arena), in buckets as reducer_buckets.c
 * cuts it; per step s:
 *   1. backward makes a bucket final on a rank: the rank posts s in that
 *      bucket's flag;
 *   2. the leader, as soon as every rank of its host has posted a bucket
 *      (checked whenever backward reports progress, and in finish), adds
 *      their buckets into its own, in rank order, and starts that bucket's
 *      sum over the leaders (reducer_wire.c: MPI_Iallreduce, or the
 *      compressed exchange), so the host stage and the leaders' stage
 *      overlap the rest of backward;
 *   3. in finish the leader waits for every bucket, scales the sum to the
 *      mean and posts s as "done"; the other ranks wait for it, copy the
 *      whole arena from the leader's part, and post s as "copied";
 *   4. the leader may write its arena again (the next step's zeroed
 *      gradients) only when every rank has copied: after_update waits for
 *      that, after the optimizer's update, which it so overlaps.
 * Every rank ends with the leader's bits.  The sum of each element is
 * (host 0's ranks in order) + (host 1's ...) + ..., the hosts' sums added
 * by MPI's allreduce over the leaders: with one host, or two, that order
 * is fixed and the bits are those of the shared strategy on one host
 * (which adds in rank order); with one rank per host they are the flat
 * allreduce's.  Otherwise they differ from a flat allreduce over all
 * ranks, which associates the sum as its own algorithm chooses, by float
 * rounding (tests/train/test_reducer_mpi.c).
 */
#include "train/reducer_impl.h"

#include <string.h>

#include "core/clock.h"
#include "core/status.h"

/* This rank's buckets from next_post up to those final are final: tell
 * the host (and the timeline). */
static void post_final(struct sn_reducer *r, bool all)
{
    while (r->next_post < r->n_buckets &&
           (all || r->b_lo[r->next_post] >= r->final_from)) {
        if (r->cfg.on_start && r->hosts.local_rank > 0)
            r->cfg.on_start(r->cfg.on_start_ctx, r->next_post, sn_clock_s());
        sn_dist_host_post(r->arena, r->next_post++, r->seq);
    }
}

/* The leader: bucket b of every rank of the host added into its own, in
 * local rank order. */
static void host_sum(struct sn_reducer *r, int b)
{
    const size_t lo = r->b_lo[b], hi = r->b_hi[b];
    for (int q = 1; q < r->hosts.local_size; q++) {
        const float *g = sn_dist_host_part(r->arena, q);
        for (size_t i = lo; i < hi; i++)
            r->arena[i] += g[i];
    }
}

/* The leader: start the leaders' stage of every bucket the whole host has
 * finished (waiting for each in turn when wait), then let MPI progress. */
static int leader_advance(struct sn_reducer *r, bool wait)
{
    int rc = SN_OK;
    while (!rc && r->next < r->n_buckets) {
        const int b = r->next;
        if (!sn_dist_host_reached(r->arena, -1, b, r->seq)) {
            if (!wait)
                break;
            rc = sn_dist_host_wait(r->arena, -1, b, r->seq, b);
            if (rc)
                break;
        }
        host_sum(r, b);
        if (r->cfg.on_start)
            r->cfg.on_start(r->cfg.on_start_ctx, b, sn_clock_s());
        sn_dist_flight_bucket(b);
        rc = sn_wire_start(r, b);
        r->next++;
    }
    return rc ? rc : r->next > 0 ? sn_wire_progress(r) : SN_OK;
}

static void hier_poll(struct sn_reducer *r)
{
    if (!r->rc && r->hosts.local_rank == 0)
        r->rc = leader_advance(r, false);
}

static void hier_ready(struct sn_reducer *r, size_t from)
{
    if (!r->cfg.overlap)
        return;
    if (from < r->final_from)
        r->final_from = from;
    post_final(r, false);
    hier_poll(r);
}

static int hier_finish(struct sn_reducer *r, struct sn_reduced *out)
{
    post_final(r, true);
    int rc = r->rc;
    if (r->hosts.local_rank == 0) {
        if (!rc)
            rc = leader_advance(r, true);
        if (!rc)
            rc = sn_wire_finish(r);
        if (!rc)
            sn_dist_host_post(r->arena, SN_SLOT_DONE, r->seq);
    } else {
        rc = sn_dist_host_wait(r->arena, 0, SN_SLOT_DONE, r->seq, -1);
        if (!rc)
            memcpy(r->arena, sn_dist_host_part(r->arena, 0),
                   (r->n + SN_REDUCE_CTRL) * sizeof *r->arena);
    }
    if (rc)
        return rc;
    sn_dist_host_post(r->arena, SN_SLOT_COPIED, r->seq);
    sn_reduce_whole_result(r, out);
    return SN_OK;
}

static int hier_after_update(struct sn_reducer *r, float *params)
{
    (void)params;
    if (r->hosts.local_rank > 0)
        return SN_OK;
    return sn_dist_host_wait(r->arena, -1, SN_SLOT_COPIED, r->seq, -1);
}

const struct sn_reducer_ops sn_reduce_hier = {
    .name = "hier",
    .ready = hier_ready,
    .poll = hier_poll,
    .finish = hier_finish,
    .after_update = hier_after_update,
};
