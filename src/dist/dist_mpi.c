/* dist_mpi: the dist interface on MPI (the only file that includes mpi.h).
 *
 * MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenMP threads never
 * do.  MPI_ERRORS_RETURN on MPI_COMM_WORLD so a failed call comes back here
 * as a status and the command can end every rank cleanly.
 */
#include "dist/dist.h"

#include <limits.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

static int world_rank, world_size = 1, local_size = 1;

static int mpi_fail(int err, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(err, msg, &len);
    return sn_fail(SN_EDIST, "%s failed on rank %d: %s", what, world_rank, msg);
}

int sn_dist_init(int *argc, char ***argv)
{
    int provided, err;
    err = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (err != MPI_SUCCESS)
        return sn_fail(SN_EDIST, "MPI_Init_thread failed (error %d)", err);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (provided < MPI_THREAD_FUNNELED)
        return sn_fail(SN_EDIST, "MPI provides thread level %d, scratchnet needs FUNNELED",
                       provided);
    MPI_Comm node;
    err = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank,
                              MPI_INFO_NULL, &node);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Comm_split_type");
    MPI_Comm_size(node, &local_size);
    MPI_Comm_free(&node);
    return SN_OK;
}

/* The shared gradient arena (sn_dist_shared_arena): base[r] is rank r's
 * part, mapped into this process; n floats each. */
static struct {
    bool on;
    MPI_Win win;
    float **base;
    size_t n;
    /* ranges noted by sn_dist_iallreduce_mean_f32, offsets into the arena */
    size_t lo[SN_DIST_MAX_PENDING], hi[SN_DIST_MAX_PENDING];
    int pending;
} shm;

void sn_dist_finalize(void)
{
    if (shm.on) {
        MPI_Win_unlock_all(shm.win);
        MPI_Win_free(&shm.win);
        free(shm.base);
        shm.on = false;
    }
    MPI_Finalize();
}

int sn_dist_rank(void) { return world_rank; }
int sn_dist_size(void) { return world_size; }
int sn_dist_local_size(void) { return local_size; }
const char *sn_dist_backend(void) { return "mpi"; }

/* A sum over ranks into the mean: buf[0..n) /= P (the same float
 * multiply everywhere, so every path gives the same bits). */
static void sum_to_mean(float *buf, size_t n)
{
    if (world_size == 1)
        return;
    const float inv = 1.0f / (float)world_size;
    for (size_t i = 0; i < n; i++)
        buf[i] *= inv;
}

int sn_dist_shared_arena(size_t nfloats, float **out)
{
    *out = NULL;
    if (shm.on)
        return sn_fail(SN_EDIST, "a shared gradient arena exists already");
    /* the same answer on every rank: local_size is the same everywhere */
    if (world_size == 1 || local_size != world_size)
        return SN_OK;
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");   /* each part near its rank */
    size_t n = (nfloats + 15) & ~(size_t)15;                /* whole cache lines */
    float *mine = NULL;
    int err = MPI_Win_allocate_shared((MPI_Aint)(n * sizeof(float)), sizeof(float), info,
                                      MPI_COMM_WORLD, &mine, &shm.win);
    MPI_Info_free(&info);
    if (err != MPI_SUCCESS)   /* e.g. a container's small /dev/shm */
        return mpi_fail(err, "MPI_Win_allocate_shared of the gradient arena (--allreduce mpi "
                        "sends messages instead)");
    MPI_Win_set_errhandler(shm.win, MPI_ERRORS_RETURN);
    shm.base = calloc((size_t)world_size, sizeof *shm.base);
    if (!shm.base) {
        MPI_Win_free(&shm.win);
        return sn_fail(SN_ENOMEM, "out of memory for %d window addresses", world_size);
    }
    for (int r = 0; r < world_size && !err; r++) {
        MPI_Aint size;
        int unit;
        err = MPI_Win_shared_query(shm.win, r, &size, &unit, &shm.base[r]);
    }
    if (err == MPI_SUCCESS)   /* one passive epoch for the window's life */
        err = MPI_Win_lock_all(MPI_MODE_NOCHECK, shm.win);
    if (err != MPI_SUCCESS) {
        MPI_Win_free(&shm.win);
        free(shm.base);
        return mpi_fail(err, "MPI_Win_shared_query / MPI_Win_lock_all");
    }
    memset(mine, 0, n * sizeof *mine);
    shm.n = n;
    shm.on = true;
    *out = mine;
    return SN_OK;
}

/* Every rank's stores before this are seen by every rank after it. */
static int shm_fence(void)
{
    int err = MPI_Win_sync(shm.win);
    if (err == MPI_SUCCESS)
        err = MPI_Barrier(MPI_COMM_WORLD);
    if (err == MPI_SUCCESS)
        err = MPI_Win_sync(shm.win);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "the shared arena's barrier");
}

/* The mean over ranks of arena[lo, hi): rank r averages the r-th slice
 * (whole cache lines, so no two ranks write one line) and writes it into
 * every rank's arena.  Sums in rank order, then times 1/P: for two ranks
 * the same bits as MPI_Allreduce and sum_to_mean. */
static int shm_mean(size_t lo, size_t hi)
{
    int rc = shm_fence();   /* every rank's gradients are complete */
    if (rc)
        return rc;
    const int P = world_size;
    const size_t per = ((hi - lo + (size_t)P - 1) / (size_t)P + 15) & ~(size_t)15;
    size_t a = lo + per * (size_t)world_rank;
    const size_t b = a + per < hi ? a + per : hi;
    const float inv = 1.0f / (float)P;
    enum { CH = 1024 };
    float acc[CH];
    for (; a < b; a += CH) {
        const size_t n = b - a < CH ? b - a : CH;
        const float *g0 = shm.base[0] + a;
        for (size_t i = 0; i < n; i++)
            acc[i] = g0[i];
        for (int r = 1; r < P; r++) {
            const float *g = shm.base[r] + a;
            for (size_t i = 0; i < n; i++)
                acc[i] += g[i];
        }
        for (size_t i = 0; i < n; i++)
            acc[i] *= inv;
        for (int r = 0; r < P; r++)
            memcpy(shm.base[r] + a, acc, n * sizeof *acc);
    }
    return shm_fence();   /* every slice written everywhere */
}

/* buf[0, len) inside this rank's part of the shared arena? */
static bool in_arena(const float *buf, size_t len)
{
    const float *mine = shm.on ? shm.base[world_rank] : NULL;
    return mine && buf >= mine && len <= shm.n && (size_t)(buf - mine) <= shm.n - len;
}

int sn_dist_allreduce_mean_f32(float *buf, size_t len)
{
    if (in_arena(buf, len)) {
        size_t lo = (size_t)(buf - shm.base[world_rank]);
        return shm_mean(lo, lo + len);
    }
    for (size_t off = 0; off < len;) {
        size_t n = len - off < (size_t)INT_MAX ? len - off : (size_t)INT_MAX;
        int err = MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)n, MPI_FLOAT, MPI_SUM,
                                MPI_COMM_WORLD);
        if (err != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Allreduce of gradients");
        off += n;
    }
    sum_to_mean(buf, len);
    return SN_OK;
}

static struct {
    MPI_Request req[SN_DIST_MAX_PENDING];
    float *buf[SN_DIST_MAX_PENDING];
    size_t len[SN_DIST_MAX_PENDING];
    int n;
} pending;

int sn_dist_iallreduce_mean_f32(float *buf, size_t len)
{
    if (in_arena(buf, len)) {   /* noted; averaged in sn_dist_finish_all */
        size_t lo = (size_t)(buf - shm.base[world_rank]), hi = lo + len;
        int k = shm.pending - 1;
        if (k >= 0 && (shm.hi[k] == lo || shm.lo[k] == hi)) {   /* extends the last range */
            shm.lo[k] = shm.lo[k] < lo ? shm.lo[k] : lo;
            shm.hi[k] = shm.hi[k] > hi ? shm.hi[k] : hi;
            return SN_OK;
        }
        if (shm.pending == SN_DIST_MAX_PENDING)
            return sn_fail(SN_EDIST, "more than %d allreduces in flight", SN_DIST_MAX_PENDING);
        shm.lo[shm.pending] = lo;
        shm.hi[shm.pending++] = hi;
        return SN_OK;
    }
    if (pending.n == SN_DIST_MAX_PENDING)
        return sn_fail(SN_EDIST, "more than %d allreduces in flight", SN_DIST_MAX_PENDING);
    if (len > (size_t)INT_MAX)
        return sn_fail(SN_EDIST, "an allreduce of %zu floats does not fit one call", len);
    int k = pending.n;
    int err = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)len, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                             &pending.req[k]);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Iallreduce of gradients");
    pending.buf[k] = buf;
    pending.len[k] = len;
    pending.n++;
    return SN_OK;
}

int sn_dist_progress(void)
{
    int done, err = pending.n ? MPI_Testall(pending.n, pending.req, &done, MPI_STATUSES_IGNORE)
                              : MPI_SUCCESS;
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Testall");
}

int sn_dist_finish_all(void)
{
    int err = MPI_Waitall(pending.n, pending.req, MPI_STATUSES_IGNORE);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Waitall of gradient allreduces");
    for (int k = 0; k < pending.n; k++)
        sum_to_mean(pending.buf[k], pending.len[k]);
    pending.n = 0;
    int rc = SN_OK;
    for (int k = 0; k < shm.pending && !rc; k++)
        rc = shm_mean(shm.lo[k], shm.hi[k]);
    shm.pending = 0;
    return rc;
}

int sn_dist_reduce_scatter_mean_f32(float *buf, const int *counts, const int *displs)
{
    /* In place, MPI puts this rank's block at the start of buf: move it home. */
    int err = MPI_Reduce_scatter(MPI_IN_PLACE, buf, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Reduce_scatter of gradients");
    float *mine = buf + displs[world_rank];
    if (displs[world_rank] > 0)
        memmove(mine, buf, (size_t)counts[world_rank] * sizeof *buf);
    sum_to_mean(mine, (size_t)counts[world_rank]);
    return SN_OK;
}

int sn_dist_allgather_f32(float *buf, const int *counts, const int *displs)
{
    int err = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, MPI_FLOAT,
                             MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Allgatherv of parameters");
}

int sn_dist_gather_f32(const float *mine, float *out, const int *counts, const int *displs)
{
    int err = MPI_Gatherv(mine, counts[world_rank], MPI_FLOAT, out, counts, displs, MPI_FLOAT, 0,
                          MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Gatherv of optimizer state");
}

int sn_dist_allreduce_sum_f64(double *buf, int n)
{
    int err = MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Allreduce (sum)");
}

int sn_dist_allreduce_sum_i64(int64_t *buf, int n)
{
    int err = MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Allreduce (sum)");
}

int sn_dist_allreduce_max_int(int *buf, int n)
{
    int err = MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Allreduce (max)");
}

int sn_dist_bcast(void *buf, size_t bytes, int root)
{
    char *p = buf;
    for (size_t off = 0; off < bytes;) {
        size_t n = bytes - off < (size_t)INT_MAX ? bytes - off : (size_t)INT_MAX;
        int err = MPI_Bcast(p + off, (int)n, MPI_BYTE, root, MPI_COMM_WORLD);
        if (err != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Bcast");
        off += n;
    }
    return SN_OK;
}

int sn_dist_barrier(void)
{
    int err = MPI_Barrier(MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Barrier");
}

int sn_dist_gather(const void *mine, void *out, size_t each)
{
    if (each > (size_t)INT_MAX)
        return sn_fail(SN_EDIST, "MPI_Gather: record of %zu bytes is too large", each);
    int err = MPI_Gather(mine, (int)each, MPI_BYTE, out, (int)each, MPI_BYTE, 0,
                         MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Gather");
}

_Noreturn void sn_dist_abort(int code)
{
    MPI_Abort(MPI_COMM_WORLD, code);
    _Exit(code);   /* MPI_Abort does not return; this keeps the promise if it did */
}
