/* dist: the distributed runtime behind one interface of plain C types.
 *
 * dist_mpi.c implements it on MPI (the only file that includes mpi.h);
 * dist_local.c implements it for one process without MPI.  The Makefile picks
 * one (WITH_MPI).  Every function returns SN_OK or SN_EDIST with a message
 * naming the MPI error; nothing here exits except sn_dist_abort.
 */
#ifndef SN_DIST_DIST_H
#define SN_DIST_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Start the runtime (MPI_Init_thread with MPI_THREAD_FUNNELED; errors are
 * returned, not fatal).  Call once, first. */
int sn_dist_init(int *argc, char ***argv);

/* Stop the runtime (after success; on failure use sn_dist_abort). */
void sn_dist_finalize(void);

int sn_dist_rank(void);
int sn_dist_size(void);

/* Ranks of this job on this host. */
int sn_dist_local_size(void);

/* "mpi" or "local". */
const char *sn_dist_backend(void);

/* In place: buf = mean over ranks of buf (one allreduce, chunked so every
 * count fits an int). */
int sn_dist_allreduce_mean_f32(float *buf, size_t len);

/* The largest element count one MPI call carries in the chunked
 * operations (allreduce_mean_f32, bcast): INT_MAX, MPI's limit, unless a
 * test sets it smaller (0 restores it) to run the chunked paths on small
 * buffers. */
void sn_dist_set_chunk(size_t max_count);

/* Memory for a gradient arena of nfloats floats that every rank of this
 * host can read: when there is more than one rank and every rank of the
 * job is on this host, *out is this rank's part of an MPI-3 shared-memory
 * window (MPI_Win_allocate_shared).  Otherwise *out = NULL: keep your own
 * memory and reduce through messages.  Collective.  Up to
 * SN_DIST_MAX_WINDOWS at once; sn_dist_shared_free releases one. */
#define SN_DIST_MAX_WINDOWS 4
int sn_dist_shared_arena(size_t nfloats, float **out);

/* Collective over the ranks sharing arena (from sn_dist_shared_arena):
 * arena[lo, hi) = its mean over ranks, without messages.  Two barriers
 * around one pass in which each rank averages its own slice of the range,
 * reading it straight from every rank's arena, and writes the result into
 * every rank's arena (each value computed once, so every rank holds the
 * same bits; for two ranks the same bits as MPI_Allreduce). */
int sn_dist_shared_mean(float *arena, size_t lo, size_t hi);

/* Collective: release an arena of sn_dist_shared_arena (NULL: nothing). */
void sn_dist_shared_free(float *arena);

/* The same mean through messages, without blocking, for overlapping
 * communication with backward: start an allreduce of buf[0..len) (len <
 * 2^31) and return at once; calls to sn_dist_progress let MPI move it
 * along (MPI progresses nonblocking collectives only inside MPI calls);
 * sn_dist_finish_all waits for every started one and turns each sum into
 * the mean.  Up to SN_DIST_MAX_PENDING at once; buf must stay untouched
 * until finished. */
#define SN_DIST_MAX_PENDING 256
int sn_dist_iallreduce_mean_f32(float *buf, size_t len);
int sn_dist_progress(void);
int sn_dist_finish_all(void);

/* Sharded optimizer (ZeRO stage 1).  counts[r] and displs[r] give rank
 * r's block of an array of sum(counts) floats (blocks in rank order,
 * displs[r] = counts[0] + ... + counts[r-1]).
 *   reduce_scatter_mean: buf[displs[me] .. + counts[me]) = mean over ranks
 *     of that block (in place; the rest of buf is left undefined)
 *   allgather: every rank's block of buf, from its owner, to every rank
 *   gather: each rank's block (mine, counts[me] floats) into out on rank 0
 *     (out holds sum(counts) floats there; ignored elsewhere) */
int sn_dist_reduce_scatter_mean_f32(float *buf, const int *counts, const int *displs);
int sn_dist_allgather_f32(float *buf, const int *counts, const int *displs);
int sn_dist_gather_f32(const float *mine, float *out, const int *counts, const int *displs);

/* In place sums and maxima over ranks. */
int sn_dist_allreduce_sum_f64(double *buf, int n);
int sn_dist_allreduce_sum_i64(int64_t *buf, int n);
int sn_dist_allreduce_max_int(int *buf, int n);

/* Broadcast bytes from root to every rank. */
int sn_dist_bcast(void *buf, size_t bytes, int root);

int sn_dist_barrier(void);

/* Gather each rank's fixed-size record (each bytes) into out on rank 0
 * (out holds size * each bytes there; ignored elsewhere). */
int sn_dist_gather(const void *mine, void *out, size_t each);

/* Collective: every rank's status rc into one, so that every rank takes
 * the same decision and the error is reported once.  Returns SN_OK when
 * every rank succeeded.  Otherwise every rank returns the status of the
 * lowest failing rank with its message (prefixed "rank R: " unless every
 * rank failed), so rank 0 alone can print it.  SN_EFATAL if the agreement
 * itself failed: the ranks cannot be brought to one decision any more,
 * only sn_dist_abort is safe. */
int sn_dist_agree(int rc);

/* End every rank of the job now with exit status code. */
_Noreturn void sn_dist_abort(int code);

#endif
