/* flight: the flight recorder of dist.h, the same for every backend.
 *
 * One writer (the thread that calls MPI) and any readers (the watchdog's
 * thread).  A sequence lock: the writer makes the version odd, stores the
 * fields, makes it even again; a reader copies the fields between two
 * reads of an even, unchanged version, or tries again.  Each field is an
 * atomic of its own, so even a torn copy (after the retries run out) is
 * made of values that were each really there; nothing blocks either side.
 */
#include "dist/dist.h"

#include <stdatomic.h>

static atomic_uint version;
static atomic_uint_least64_t seq;
static atomic_int op, inside;
static atomic_int bucket = -1;
static atomic_llong step;

static const char *const names[SN_OP_N] = {
    [SN_OP_NONE] = "nothing",
    [SN_OP_ALLREDUCE] = "MPI_Allreduce",
    [SN_OP_IALLREDUCE] = "MPI_Iallreduce (start)",
    [SN_OP_IALLTOALL] = "MPI_Ialltoallv (start)",
    [SN_OP_IALLGATHER] = "MPI_Iallgatherv (start)",
    [SN_OP_WAIT] = "MPI_Wait of started collectives",
    [SN_OP_REDUCE_SCATTER] = "MPI_Reduce_scatter",
    [SN_OP_ALLGATHER] = "MPI_Allgatherv",
    [SN_OP_GATHER] = "MPI_Gather",
    [SN_OP_SCATTER] = "MPI_Scatterv",
    [SN_OP_BCAST] = "MPI_Bcast",
    [SN_OP_BARRIER] = "MPI_Barrier",
    [SN_OP_AGREE] = "the status agreement (MPI_Allreduce)",
    [SN_OP_SHARED_BARRIER] = "the shared window's barrier",
    [SN_OP_HOST_WAIT] = "the host window (waiting for a rank of this host)",
};

const char *sn_dist_op_name(int o)
{
    return o >= 0 && o < SN_OP_N && names[o] ? names[o] : "?";
}

static void write_begin(void)
{
    atomic_fetch_add_explicit(&version, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void write_end(void)
{
    atomic_fetch_add_explicit(&version, 1, memory_order_release);
}

void sn_dist_flight_step(int64_t s)
{
    write_begin();
    atomic_store_explicit(&step, (long long)s, memory_order_relaxed);
    write_end();
}

void sn_dist_flight_bucket(int b)
{
    write_begin();
    atomic_store_explicit(&bucket, b, memory_order_relaxed);
    write_end();
}

void sn_dist_flight_enter(enum sn_dist_op o)
{
    write_begin();
    atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed);
    atomic_store_explicit(&op, (int)o, memory_order_relaxed);
    atomic_store_explicit(&inside, 1, memory_order_relaxed);
    write_end();
}

void sn_dist_flight_leave(void)
{
    write_begin();
    atomic_store_explicit(&inside, 0, memory_order_relaxed);
    write_end();
}

void sn_dist_flight_read(struct sn_dist_flight *out)
{
    for (int tries = 0; tries < 100; tries++) {
        unsigned v0 = atomic_load_explicit(&version, memory_order_acquire);
        out->seq = atomic_load_explicit(&seq, memory_order_relaxed);
        out->op = atomic_load_explicit(&op, memory_order_relaxed);
        out->inside = atomic_load_explicit(&inside, memory_order_relaxed) != 0;
        out->bucket = atomic_load_explicit(&bucket, memory_order_relaxed);
        out->step = atomic_load_explicit(&step, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (!(v0 & 1u) && atomic_load_explicit(&version, memory_order_relaxed) == v0)
            return;
    }
}
