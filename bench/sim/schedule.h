/* schedule: collectives as schedules of point-to-point rounds, run on SMPI's
 * messages (see nbc.c, colls.c).
 *
 * A schedule is a list of actions cut into rounds.  When a round starts,
 * its reductions and copies run (their time charged as computation: the
 * per-float costs in sim) and its sends and receives are posted; the next
 * round starts once they have all completed.  That is how Open MPI's libnbc
 * runs a nonblocking collective, and, one round at a time, the shape of
 * its blocking algorithms (a sendrecv, then a reduction) too.
 *
 * The schedules follow Open MPI 4.1 (ompi/mca/coll/libnbc/nbc_iallreduce.c
 * and ompi/mca/coll/base/coll_base_{allreduce,reduce_scatter,allgatherv}.c):
 * the same peers, block sizes, rounds and local reductions, so the same
 * time on the simulated network; each file's notes say where they differ.
 */
#ifndef SN_BENCH_SIM_SCHEDULE_H
#define SN_BENCH_SIM_SCHEDULE_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

enum sched_kind { SCHED_SEND, SCHED_RECV, SCHED_OP, SCHED_COPY };

/* OP: buf[i] += src[i]; COPY: buf = src (count floats).  SEND and RECV
 * move count elements of the collective's type (floats, or the 16-bit
 * words of compressed gradients). */
struct sched_action {
    enum sched_kind kind;
    float *buf;
    const float *src;
    int count;
    int peer;
    bool ends_round;
};

enum { SCHED_MAX_COLLS = 256 };

struct coll {
    bool used;
    bool done;
    struct sched_action *a;
    int n_a, cap_a;
    int pos;                          /* the first action of the next round */
    MPI_Request *req;                 /* the round's requests; kept with the slot */
    int n_req, cap_req;
    MPI_Comm comm;                    /* MPI_COMM_WORLD unless the call gave another */
    MPI_Datatype type;                /* of SEND and RECV counts: MPI_FLOAT unless set */
    float *tmp;                       /* scratch, tmp_cap floats; kept with the slot */
    size_t tmp_cap;
    int tag;
};

/* A free slot with its scratch holding at least tmp_floats, or NULL. */
struct coll *sched_get(size_t tmp_floats, int tag);
/* The slot is free again (its buffers stay for the next one). */
void sched_put(struct coll *c);
/* Is r a request of ours (a struct coll)? */
struct coll *sched_of(MPI_Request r);

/* Start the next round (on c->comm). */
int sched_start_round(struct coll *c);
/* Have the current round's sends and receives all completed? */
bool sched_round_complete(struct coll *c);
/* Run a whole schedule as a blocking collective does. */
int sched_run(struct coll *c);

/* MPI_Iallreduce's schedules (libnbc): rbuf holds the input too when
 * in_place, else sbuf does; the scratch holds count floats. */
int sched_allreduce_binomial(struct coll *c, int rank, int P, const float *sbuf, float *rbuf,
                             int count, bool in_place);
int sched_allreduce_ring(struct coll *c, int rank, int P, const float *sbuf, float *rbuf,
                         int count, bool in_place);
int sched_allreduce_rabenseifner(struct coll *c, int rank, int P, const float *sbuf,
                                 float *rbuf, int count, bool in_place);

/* Reduce-scatter in place: buf holds the whole vector (counts[q] floats for
 * rank q, in rank order); the sum of block rank ends at buf[0 ..
 * counts[rank]), as MPI_Reduce_scatter with MPI_IN_PLACE leaves it.
 * Scratch: total floats (ring), 2 x total (butterfly). */
/* libnbc's ialltoallv and iallgatherv (in place): one round, a send to and
 * a receive from every other rank; elements of elem bytes at byte offset
 * displs[q] * elem of the buffers.  A rank's own block of the alltoallv is
 * copied (charged as elem / 4 floats). */
int sched_alltoallv_linear(struct coll *c, int rank, int P, const void *sbuf, const int *scounts,
                           const int *sdispls, void *rbuf, const int *rcounts,
                           const int *rdispls, size_t elem);
int sched_allgatherv_linear(struct coll *c, int rank, int P, void *buf, const int *counts,
                            const int *displs, size_t elem);

int sched_rs_ring(struct coll *c, int rank, int P, float *buf, const int *counts,
                  const int *displs);
int sched_rs_butterfly(struct coll *c, int rank, int P, float *buf, const int *counts,
                       const int *displs);

/* Allgatherv in place: rank q's block is at buf + displs[q], counts[q]
 * floats; every rank ends with every block. */
int sched_ag_ring(struct coll *c, int rank, int P, float *buf, const int *counts,
                  const int *displs);
int sched_ag_bruck(struct coll *c, int rank, int P, float *buf, const int *counts,
                   const int *displs);
int sched_ag_neighbor(struct coll *c, int rank, int P, float *buf, const int *counts,
                      const int *displs);

int sched_ceil_log2(int p);
int sched_floor_pow2(int p);

#endif
