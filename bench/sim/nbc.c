/* nbc: MPI_Iallreduce as Open MPI 4.1's libnbc runs it, for the simulator.
 *
 * SimGrid's SMPI implements MPI_Iallreduce by sending the whole buffer from
 * every rank to every other one: P - 1 full copies leave each rank, which
 * no MPI library does and which at 1024 ranks says nothing about a real
 * run.  The replay (bench/sim/replay.c) is linked with this file, whose
 * MPI_Iallreduce, MPI_Test(all) and MPI_Wait(all) take precedence over
 * SMPI's (the profiling interface: they call SMPI's PMPI_ functions; the
 * replay is linked -Bsymbolic, and SMPI loads it with RTLD_DEEPBIND).
 * scratchnet's src/dist/dist_mpi.c calls them unchanged.
 *
 * What libnbc does (ompi/mca/coll/libnbc/nbc_iallreduce.c and nbc.c at
 * v4.1.4), and so what this file does:
 *   - the schedule: a binomial reduce to rank 0, then a binomial broadcast,
 *     when the call is in place (MPI_IN_PLACE, as scratchnet's is), the
 *     buffer is under 64 KB or P < 4; otherwise Rabenseifner's
 *     reduce-scatter and allgather when count >= the largest power of two
 *     <= P, else a ring.  sim.algorithm forces one, as Open MPI's MCA
 *     parameter coll_libnbc_iallreduce_algorithm does.
 *   - rounds: a schedule is a list of rounds of sends, receives, local
 *     reductions and copies.  A round's reductions and copies run, and its
 *     sends and receives are posted, when it starts; it ends when they have
 *     all completed.  A collective moves on only inside an MPI call that
 *     progresses it (MPI_Test, MPI_Testall; MPI_Wait(all) until it is done),
 *     by at most one round per call (NBC_Progress).
 *   - cost: a local reduction or copy of n floats keeps the rank busy for n
 *     times the per-float time measured on this machine (sim.op_s,
 *     copy_s), charged as computation (sim_busy), so it scales with the
 *     simulated host's speed.
 * Messages are SMPI's point-to-point messages (its network model, eager up
 * to smpi/send-is-detached-thresh).
 *
 * MPI_Ialltoallv and MPI_Iallgatherv (in place), which the compressed stage
 * calls, are libnbc's linear schedules: one round of a send to and a
 * receive from every other rank.
 *
 * The schedules are schedule.c's.  The other nonblocking collectives fail
 * loudly: they have no model here, and SMPI's would give wrong times.
 */
#include <mpi.h>
#include <stdio.h>

#include "schedule.h"
#include "sim.h"

struct sim_cfg sim = { .algorithm = 0, .values = true };

enum { TAG_BASE = 17000, TAG_SPAN = 10000 };

static struct coll *active[SCHED_MAX_COLLS];   /* started, not done, in start order */
static int n_active;
static int n_started;

/* libnbc's choice (nbc_allreduce_init): 1 ring, 2 binomial, 3 Rabenseifner;
 * or the forced one. */
static int choose(int count, int P, bool in_place)
{
    const int pof2 = sched_floor_pow2(P);
    if (sim.algorithm >= 1 && sim.algorithm <= 3)
        return sim.algorithm == 3 && count < pof2 ? 1 : sim.algorithm;
    if (P < 4 || (size_t)count * sizeof(float) < 65536 || in_place)
        return 2;
    return count >= pof2 ? 3 : 1;
}

const char *sim_nbc_algorithm_name(int count, int P, bool in_place)
{
    static const char *const names[] = { "", "ring", "binomial", "rabenseifner" };
    return names[choose(count, P, in_place)];
}

/* NBC_Progress: if the current round is complete, start the next one, or
 * finish when there is none. */
static int progress_one(struct coll *c)
{
    if (c->done || !sched_round_complete(c))
        return MPI_SUCCESS;
    if (c->pos >= c->n_a) {
        c->done = true;
        return MPI_SUCCESS;
    }
    return sched_start_round(c);
}

/* One pass of libnbc's progress function over the started collectives. */
static int progress_all(void)
{
    int err = MPI_SUCCESS, k = 0;
    for (int i = 0; i < n_active; i++) {
        if (err == MPI_SUCCESS)
            err = progress_one(active[i]);
        if (!active[i]->done)
            active[k++] = active[i];
    }
    n_active = k;
    return err;
}

/* Start c's first round (its schedule built, rc its build's status) and
 * hand it out as the request; a schedule of nothing is done at once. */
static int post(struct coll *c, int rc, MPI_Request *request)
{
    if (!rc && c->n_a > 0)
        rc = sched_start_round(c);
    if (rc) {
        sched_put(c);
        return rc;
    }
    c->done = c->n_a == 0;
    if (!c->done)
        active[n_active++] = c;
    *request = (MPI_Request)(void *)c;
    return MPI_SUCCESS;
}

int MPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                   MPI_Comm comm, MPI_Request *request)
{
    if (type != MPI_FLOAT || op != MPI_SUM) {
        fprintf(stderr, "sim nbc: MPI_Iallreduce is modelled for float sums only\n");
        return MPI_ERR_ARG;
    }
    int rank, P;
    PMPI_Comm_rank(comm, &rank);
    PMPI_Comm_size(comm, &P);
    const bool in_place = sendbuf == MPI_IN_PLACE;
    const float *sbuf = in_place ? recvbuf : sendbuf;
    struct coll *c = sched_get(P > 1 ? (size_t)count : 0, TAG_BASE + n_started++ % TAG_SPAN);
    if (!c)
        return MPI_ERR_NO_MEM;
    c->comm = comm;   /* the hierarchical reducer's leaders have their own */
    int rc = MPI_SUCCESS, alg = choose(count, P, in_place);
    if (P > 1 && count > 0)
        rc = alg == 2   ? sched_allreduce_binomial(c, rank, P, sbuf, recvbuf, count, in_place)
             : alg == 1 ? sched_allreduce_ring(c, rank, P, sbuf, recvbuf, count, in_place)
                        : sched_allreduce_rabenseifner(c, rank, P, sbuf, recvbuf, count, in_place);
    else if (!in_place && count > 0)   /* one rank: the copy */
        rc = sched_allreduce_rabenseifner(c, rank, 1, sbuf, recvbuf, count, false);
    return post(c, rc, request);   /* one rank, in place: nothing to do, complete */
}

/* Every request done: frees them (ours and SMPI's) and sets them to NULL. */
static bool all_done(int n, MPI_Request reqs[])
{
    bool done = true;
    for (int i = 0; i < n; i++) {
        struct coll *c = sched_of(reqs[i]);
        if (c && !c->done)
            done = false;
        else if (!c && reqs[i] != MPI_REQUEST_NULL) {
            int flag = 0;
            PMPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE);
            done = done && flag;
        }
    }
    if (done)
        for (int i = 0; i < n; i++) {
            struct coll *c = sched_of(reqs[i]);
            if (c)
                sched_put(c);
            reqs[i] = MPI_REQUEST_NULL;
        }
    return done;
}

/* As Open MPI's test_all: all done, or one progress pass and "not yet". */
int MPI_Testall(int n, MPI_Request reqs[], int *flag, MPI_Status st[])
{
    int err = MPI_SUCCESS;
    *flag = all_done(n, reqs);
    if (!*flag)
        err = progress_all();
    if (*flag && st != MPI_STATUSES_IGNORE)
        for (int i = 0; i < n; i++)
            st[i].MPI_ERROR = MPI_SUCCESS;
    return err;
}

int MPI_Test(MPI_Request *req, int *flag, MPI_Status *st)
{
    return MPI_Testall(1, req, flag, st == MPI_STATUS_IGNORE ? MPI_STATUSES_IGNORE : st);
}

/* Block until a request of a started round (or one of reqs that is SMPI's)
 * completes: what spinning in progress would find, at no cost.  Returns at
 * once if some collective's round is already over (the next progress pass
 * moves it). */
static int wait_some(int n, MPI_Request reqs[])
{
    enum { CAP = 4096 };
    static MPI_Request *where[CAP];
    static MPI_Request any[CAP];
    int k = 0;
    for (int i = 0; i < n_active; i++) {
        struct coll *c = active[i];
        int pending = 0;
        for (int j = 0; j < c->n_req && k < CAP; j++)
            if (c->req[j] != MPI_REQUEST_NULL) {
                where[k++] = &c->req[j];
                pending++;
            }
        if (pending == 0)
            return MPI_SUCCESS;
    }
    for (int i = 0; i < n && k < CAP; i++)
        if (!sched_of(reqs[i]) && reqs[i] != MPI_REQUEST_NULL)
            where[k++] = &reqs[i];
    if (k == 0)
        return MPI_SUCCESS;
    for (int i = 0; i < k; i++)
        any[i] = *where[i];
    int idx = MPI_UNDEFINED;
    int err = PMPI_Waitany(k, any, &idx, MPI_STATUS_IGNORE);
    if (err == MPI_SUCCESS && idx != MPI_UNDEFINED)
        *where[idx] = MPI_REQUEST_NULL;
    return err;
}

int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status st[])
{
    for (;;) {
        int err = progress_all();
        if (err != MPI_SUCCESS)
            return err;
        if (all_done(n, reqs))
            break;
        if ((err = wait_some(n, reqs)) != MPI_SUCCESS)
            return err;
    }
    if (st != MPI_STATUSES_IGNORE)
        for (int i = 0; i < n; i++)
            st[i].MPI_ERROR = MPI_SUCCESS;
    return MPI_SUCCESS;
}

int MPI_Wait(MPI_Request *req, MPI_Status *st)
{
    return MPI_Waitall(1, req, st == MPI_STATUS_IGNORE ? MPI_STATUSES_IGNORE : st);
}

/* Nonblocking collectives without a model here. */
static int unmodelled(const char *what)
{
    fprintf(stderr, "sim nbc: %s has no model in bench/sim/nbc.c (SMPI's would send every "
            "buffer to every rank); add one before simulating a strategy that calls it\n", what);
    return MPI_ERR_UNSUPPORTED_OPERATION;
}

int MPI_Ireduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm c,
                MPI_Request *q)
{
    return unmodelled("MPI_Ireduce");
}

int MPI_Ibcast(void *b, int n, MPI_Datatype t, int root, MPI_Comm c, MPI_Request *q)
{
    return unmodelled("MPI_Ibcast");
}

int MPI_Ireduce_scatter(const void *s, void *r, const int *n, MPI_Datatype t, MPI_Op op,
                        MPI_Comm c, MPI_Request *q)
{
    return unmodelled("MPI_Ireduce_scatter");
}

int MPI_Ireduce_scatter_block(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op,
                              MPI_Comm c, MPI_Request *q)
{
    return unmodelled("MPI_Ireduce_scatter_block");
}

int MPI_Iallgather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                   MPI_Comm c, MPI_Request *q)
{
    return unmodelled("MPI_Iallgather");
}

int MPI_Ialltoallv(const void *sbuf, const int *scounts, const int *sdispls, MPI_Datatype st,
                   void *rbuf, const int *rcounts, const int *rdispls, MPI_Datatype rt,
                   MPI_Comm comm, MPI_Request *request)
{
    int rank, P, elem;
    if (st != rt || sbuf == MPI_IN_PLACE || PMPI_Type_size(st, &elem) != MPI_SUCCESS) {
        fprintf(stderr, "sim nbc: MPI_Ialltoallv is modelled for one type, not in place\n");
        return MPI_ERR_ARG;
    }
    PMPI_Comm_rank(comm, &rank);
    PMPI_Comm_size(comm, &P);
    struct coll *c = sched_get(0, TAG_BASE + n_started++ % TAG_SPAN);
    if (!c)
        return MPI_ERR_NO_MEM;
    c->comm = comm;
    c->type = st;
    int rc = sched_alltoallv_linear(c, rank, P, sbuf, scounts, sdispls, rbuf, rcounts, rdispls,
                                    (size_t)elem);
    return post(c, rc, request);
}

int MPI_Iallgatherv(const void *s, int sn, MPI_Datatype st, void *r, const int *rn,
                    const int *displs, MPI_Datatype rt, MPI_Comm comm, MPI_Request *request)
{
    int rank, P, elem;
    (void)sn;
    (void)st;
    if (s != MPI_IN_PLACE || PMPI_Type_size(rt, &elem) != MPI_SUCCESS) {
        fprintf(stderr, "sim nbc: MPI_Iallgatherv is modelled in place only\n");
        return MPI_ERR_ARG;
    }
    PMPI_Comm_rank(comm, &rank);
    PMPI_Comm_size(comm, &P);
    struct coll *c = sched_get(0, TAG_BASE + n_started++ % TAG_SPAN);
    if (!c)
        return MPI_ERR_NO_MEM;
    c->comm = comm;
    c->type = rt;
    return post(c, sched_allgatherv_linear(c, rank, P, r, rn, displs, (size_t)elem), request);
}

int MPI_Ibarrier(MPI_Comm c, MPI_Request *q)
{
    return unmodelled("MPI_Ibarrier");
}
