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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

static int world_rank, world_size = 1, local_size = 1;
static size_t chunk = INT_MAX;   /* elements per MPI call (sn_dist_set_chunk) */

void sn_dist_set_chunk(size_t max_count)
{
    chunk = max_count > 0 && max_count < (size_t)INT_MAX ? max_count : (size_t)INT_MAX;
}

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

/* Shared arenas (sn_dist_shared_arena): for each window, base[r] is rank
 * r's part mapped into this process, n floats each. */
struct shm_window {
    bool on;
    MPI_Win win;
    float **base;
    size_t n;
};
static struct shm_window shm[SN_DIST_MAX_WINDOWS];

static void shm_release(struct shm_window *w)
{
    MPI_Win_unlock_all(w->win);
    MPI_Win_free(&w->win);
    free(w->base);
    memset(w, 0, sizeof *w);
}

void sn_dist_finalize(void)
{
    for (int i = 0; i < SN_DIST_MAX_WINDOWS; i++)
        if (shm[i].on)
            shm_release(&shm[i]);
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

/* Map the window's parts of every rank and open its one passive epoch. */
static int shm_map(struct shm_window *w)
{
    int err = MPI_Win_set_errhandler(w->win, MPI_ERRORS_RETURN);
    w->base = calloc((size_t)world_size, sizeof *w->base);
    if (!w->base)
        return sn_fail(SN_ENOMEM, "out of memory for %d window addresses", world_size);
    for (int r = 0; r < world_size && err == MPI_SUCCESS; r++) {
        MPI_Aint size;
        int unit;
        err = MPI_Win_shared_query(w->win, r, &size, &unit, &w->base[r]);
    }
    if (err == MPI_SUCCESS)   /* one passive epoch for the window's life */
        err = MPI_Win_lock_all(MPI_MODE_NOCHECK, w->win);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Win_shared_query / MPI_Win_lock_all");
}

int sn_dist_shared_arena(size_t nfloats, float **out)
{
    *out = NULL;
    /* the same answer on every rank: local_size is the same everywhere */
    if (world_size == 1 || local_size != world_size)
        return SN_OK;
    struct shm_window *w = NULL;
    for (int i = 0; i < SN_DIST_MAX_WINDOWS && !w; i++)
        w = shm[i].on ? NULL : &shm[i];
    if (!w)
        return sn_fail(SN_EDIST, "more than %d shared arenas at once", SN_DIST_MAX_WINDOWS);
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");   /* each part near its rank */
    size_t n = (nfloats + 15) & ~(size_t)15;                /* whole cache lines */
    float *mine = NULL;
    int err = MPI_Win_allocate_shared((MPI_Aint)(n * sizeof(float)), sizeof(float), info,
                                      MPI_COMM_WORLD, &mine, &w->win);
    MPI_Info_free(&info);
    if (err != MPI_SUCCESS)   /* e.g. a container's small /dev/shm */
        return mpi_fail(err, "MPI_Win_allocate_shared of the gradient arena (--allreduce mpi "
                        "sends messages instead)");
    int rc = shm_map(w);
    if (rc) {
        MPI_Win_free(&w->win);
        free(w->base);
        memset(w, 0, sizeof *w);
        return rc;
    }
    memset(mine, 0, n * sizeof *mine);
    w->n = n;
    w->on = true;
    *out = mine;
    return SN_OK;
}

/* The window whose part on this rank is arena, or NULL. */
static struct shm_window *shm_find(const float *arena)
{
    for (int i = 0; i < SN_DIST_MAX_WINDOWS; i++)
        if (shm[i].on && shm[i].base[world_rank] == arena)
            return &shm[i];
    return NULL;
}

void sn_dist_shared_free(float *arena)
{
    struct shm_window *w = arena ? shm_find(arena) : NULL;
    if (w)
        shm_release(w);
}

/* Every rank's stores before this are seen by every rank after it. */
static int shm_fence(struct shm_window *w)
{
    int err = MPI_Win_sync(w->win);
    if (err == MPI_SUCCESS)
        err = MPI_Barrier(MPI_COMM_WORLD);
    if (err == MPI_SUCCESS)
        err = MPI_Win_sync(w->win);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "the shared arena's barrier");
}

/* Rank r averages the r-th slice of [lo, hi) (whole cache lines, so no two
 * ranks write one line) and writes it into every rank's arena.  Sums in
 * rank order, then times 1/P: for two ranks the same bits as
 * MPI_Allreduce and sum_to_mean. */
int sn_dist_shared_mean(float *arena, size_t lo, size_t hi)
{
    struct shm_window *w = shm_find(arena);
    if (!w || hi > w->n || lo > hi)
        return sn_fail(SN_EDIST, "sn_dist_shared_mean: [%zu, %zu) is not in a shared arena", lo, hi);
    int rc = shm_fence(w);   /* every rank's gradients are complete */
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
        const float *g0 = w->base[0] + a;
        for (size_t i = 0; i < n; i++)
            acc[i] = g0[i];
        for (int r = 1; r < P; r++) {
            const float *g = w->base[r] + a;
            for (size_t i = 0; i < n; i++)
                acc[i] += g[i];
        }
        for (size_t i = 0; i < n; i++)
            acc[i] *= inv;
        for (int r = 0; r < P; r++)
            memcpy(w->base[r] + a, acc, n * sizeof *acc);
    }
    return shm_fence(w);   /* every slice written everywhere */
}

int sn_dist_allreduce_mean_f32(float *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        size_t n = len - off < chunk ? len - off : chunk;
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
    /* unread, but real: MPICH declares the status argument an array, and
     * gcc 12 then refuses MPI_STATUSES_IGNORE (a pointer to address 1) */
    MPI_Status status[SN_DIST_MAX_PENDING];
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
    int done, err = pending.n ? MPI_Testall(pending.n, pending.req, &done, pending.status)
                              : MPI_SUCCESS;
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Testall");
}

int sn_dist_finish_all(void)
{
    int err = MPI_Waitall(pending.n, pending.req, pending.status);
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
        size_t n = bytes - off < chunk ? bytes - off : chunk;
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

int sn_dist_agree(int rc)
{
    /* who failed: how many, and the lowest failing rank (as P - rank, max) */
    int n_failed = rc != SN_OK;
    int err = MPI_Allreduce(MPI_IN_PLACE, &n_failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int first = rc != SN_OK ? world_size - world_rank : 0;
    if (err == MPI_SUCCESS)
        err = MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (err != MPI_SUCCESS) {
        mpi_fail(err, "agreeing on a status");
        return SN_EFATAL;
    }
    if (n_failed == 0)
        return SN_OK;
    /* the lowest failing rank's status and message, to every rank */
    struct { int rc; char msg[960]; } note = { rc, "" };
    const int root = world_size - first;
    if (world_rank == root)
        snprintf(note.msg, sizeof note.msg, "%s", sn_errmsg()[0] ? sn_errmsg() : sn_strstatus(rc));
    err = MPI_Bcast(&note, (int)sizeof note, MPI_BYTE, root, MPI_COMM_WORLD);
    if (err != MPI_SUCCESS) {
        mpi_fail(err, "agreeing on a status");
        return SN_EFATAL;
    }
    if (n_failed == world_size)
        return sn_fail(note.rc, "%s", note.msg);
    return sn_fail(note.rc, "rank %d: %s", root, note.msg);
}

_Noreturn void sn_dist_abort(int code)
{
    MPI_Abort(MPI_COMM_WORLD, code);
    _Exit(code);   /* MPI_Abort does not return; this keeps the promise if it did */
}
