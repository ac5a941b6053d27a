/* dist_mpi: the dist interface on MPI (the only file that includes mpi.h).
 *
 * MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenMP threads never
 * do.  MPI_ERRORS_RETURN on MPI_COMM_WORLD so a failed call comes back here
 * as a status and the command can end every rank cleanly.
 */
#include "dist/dist.h"

#include <limits.h>
#include <mpi.h>
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

void sn_dist_finalize(void)
{
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

int sn_dist_allreduce_mean_f32(float *buf, size_t len)
{
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
    return SN_OK;
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
