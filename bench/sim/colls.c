/* colls: the blocking collectives scratchnet's reducer calls, for the
 * simulator.
 *
 * SMPI implements them with Open MPI's choice of algorithm
 * (--cfg=smpi/coll-selector:ompi, Open MPI 4.1's decision tables), but
 * with temporary buffers of the whole message on every rank at once, which
 * for 1024 ranks and megabytes of gradients takes more memory and time than
 * this machine has.  So from 256 KB on (where those tables pick one
 * algorithm for all sizes) the float sums and gathers of
 * src/dist/dist_mpi.c run here instead, as schedules of the same
 * exchanges (schedule.c) whose buffers are shared between ranks when the
 * values do not matter:
 *   MPI_Allreduce       Rabenseifner (reduce-scatter + allgather)
 *   MPI_Reduce_scatter  ring below 32 ranks (and from 512 KB below 64),
 *                       else the butterfly
 *   MPI_Allgatherv      by ranks and bytes per rank as Open MPI's table
 *                       says: Bruck, ring or neighbour exchange (its
 *                       gather-and-broadcast, chosen for 512 ... 1023 ranks
 *                       of 512 ... 1024 bytes each, is taken as Bruck)
 * Smaller messages stay SMPI's, their sums charged the per-float time of
 * sim.op_s like the schedules' (an MPI_Op of this file).
 */
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>

#include "schedule.h"
#include "sim.h"

enum { LARGE = 262144, TAG_BASE = 27000, TAG_SPAN = 1000 };

static int next_tag(void)
{
    static int seq;
    return TAG_BASE + seq++ % TAG_SPAN;
}

/* The sums of SMPI's collectives, with their time charged. */
static void costed_sum(void *in, void *inout, int *len, MPI_Datatype *type)
{
    sim_busy(*len * sim.op_s);
    if (!sim.values)
        return;
    if (*type == MPI_FLOAT)
        for (int i = 0; i < *len; i++)
            ((float *)inout)[i] += ((const float *)in)[i];
    else if (*type == MPI_DOUBLE)
        for (int i = 0; i < *len; i++)
            ((double *)inout)[i] += ((const double *)in)[i];
    else if (*type == MPI_INT64_T)
        for (int i = 0; i < *len; i++)
            ((int64_t *)inout)[i] += ((const int64_t *)in)[i];
}

static MPI_Op sum_op(MPI_Op op, MPI_Datatype type)
{
    static MPI_Op costed = MPI_OP_NULL;
    if (op != MPI_SUM || (type != MPI_FLOAT && type != MPI_DOUBLE && type != MPI_INT64_T))
        return op;
    if (costed == MPI_OP_NULL && PMPI_Op_create(costed_sum, 1, &costed) != MPI_SUCCESS)
        return op;
    return costed;
}

/* Run schedule-building function fill on a fresh slot of tmp floats. */
#define RUN(tmp, fill)                                  \
    do {                                                \
        struct coll *c_ = sched_get((tmp), next_tag()); \
        if (!c_)                                        \
            return MPI_ERR_NO_MEM;                      \
        int rc_ = (fill);                               \
        if (rc_ == MPI_SUCCESS)                         \
            rc_ = sched_run(c_);                        \
        sched_put(c_);                                  \
        return rc_;                                     \
    } while (0)

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                  MPI_Comm comm)
{
    int P, rank;
    PMPI_Comm_size(comm, &P);
    PMPI_Comm_rank(comm, &rank);
    if (P == 1 || type != MPI_FLOAT || op != MPI_SUM || comm != MPI_COMM_WORLD ||
        (size_t)count * sizeof(float) < LARGE)
        return PMPI_Allreduce(sendbuf, recvbuf, count, type, sum_op(op, type), comm);
    const bool in_place = sendbuf == MPI_IN_PLACE;
    RUN((size_t)count, sched_allreduce_rabenseifner(c_, rank, P, in_place ? recvbuf : sendbuf,
                                                    recvbuf, count, in_place));
}

/* Rank order blocks: displs of counts (NULL if out of memory). */
static int *displs_of(const int *counts, int P, size_t *total, int *largest)
{
    int *d = malloc((size_t)P * sizeof *d);
    *total = 0;
    *largest = 0;
    for (int q = 0; d && q < P; q++) {
        d[q] = (int)*total;
        *total += (size_t)counts[q];
        *largest = counts[q] > *largest ? counts[q] : *largest;
    }
    return d;
}

int MPI_Reduce_scatter(const void *sendbuf, void *recvbuf, const int *counts, MPI_Datatype type,
                       MPI_Op op, MPI_Comm comm)
{
    int P, rank, largest;
    size_t total;
    PMPI_Comm_size(comm, &P);
    PMPI_Comm_rank(comm, &rank);
    int *d = displs_of(counts, P, &total, &largest);
    if (!d || P == 1 || sendbuf != MPI_IN_PLACE || type != MPI_FLOAT || op != MPI_SUM ||
        comm != MPI_COMM_WORLD || total * sizeof(float) < LARGE) {
        free(d);
        return PMPI_Reduce_scatter(sendbuf, recvbuf, counts, type, sum_op(op, type), comm);
    }
    bool ring = P < 32 || (P < 64 && total * sizeof(float) >= 524288);
    struct coll *c = sched_get(ring ? total + (size_t)largest : 2 * total, next_tag());
    int rc = c ? MPI_SUCCESS : MPI_ERR_NO_MEM;
    if (!rc)
        rc = ring ? sched_rs_ring(c, rank, P, recvbuf, counts, d)
                  : sched_rs_butterfly(c, rank, P, recvbuf, counts, d);
    if (!rc)
        rc = sched_run(c);
    if (c)
        sched_put(c);
    free(d);
    return rc;
}

/* Open MPI 4.1's allgatherv choice for these ranks and bytes per rank:
 * 1 ring, 2 Bruck, 3 neighbour exchange. */
static int allgatherv_choice(int P, size_t per_rank)
{
    if (P == 2)
        return 1;
    if (P < 8)
        return per_rank < 4096 ? 3 : per_rank < 8192 ? 1 : per_rank < 16384 ? 3
             : per_rank < 262144 ? 2 : 3;
    if (P < 16)
        return 2;
    if (P < 32)
        return per_rank < 262144 ? 2 : 1;
    if (P < 64)
        return per_rank < 8192 ? 2 : 1;
    if (P < 128)
        return per_rank < 4096 ? 2 : 1;
    if (P < 256)
        return per_rank < 1024 ? 2 : per_rank < 65536 ? 3 : 1;
    if (P < 512)
        return per_rank < 1024 ? 2 : 1;
    if (P < 1024)
        return per_rank < 4096 ? 2 : per_rank < 1048576 ? 3 : 1;
    return per_rank < 4096 ? 2 : 3;
}

int MPI_Allgatherv(const void *sendbuf, int scount, MPI_Datatype stype, void *recvbuf,
                   const int *counts, const int *displs, MPI_Datatype type, MPI_Comm comm)
{
    int P, rank, largest;
    size_t total;
    PMPI_Comm_size(comm, &P);
    PMPI_Comm_rank(comm, &rank);
    int *d = displs_of(counts, P, &total, &largest);
    bool contiguous = d != NULL;
    for (int q = 0; contiguous && q < P; q++)
        contiguous = d[q] == displs[q];
    free(d);
    if (!contiguous || P == 1 || sendbuf != MPI_IN_PLACE || type != MPI_FLOAT ||
        comm != MPI_COMM_WORLD || total * sizeof(float) < LARGE)
        return PMPI_Allgatherv(sendbuf, scount, stype, recvbuf, counts, displs, type, comm);
    int alg = allgatherv_choice(P, total * sizeof(float) / (size_t)P);
    RUN(0, alg == 1 ? sched_ag_ring(c_, rank, P, recvbuf, counts, displs)
           : alg == 2 ? sched_ag_bruck(c_, rank, P, recvbuf, counts, displs)
                      : sched_ag_neighbor(c_, rank, P, recvbuf, counts, displs));
}

/* SMPI answers MPI_THREAD_SINGLE whatever is asked; dist_mpi.c asks for
 * FUNNELED (only the main thread calls MPI), which the replay, one thread
 * per rank, gives. */
int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
    *provided = required < MPI_THREAD_FUNNELED ? required : MPI_THREAD_FUNNELED;
    return PMPI_Init(argc, argv);
}
