/* dist: the distributed runtime behind one interface of plain C types.
 *
 * dist_mpi.c implements it on MPI (the only file that includes mpi.h);
 * dist_local.c implements it for one process without MPI.  The Makefile picks
 * one (WITH_MPI).  Every function returns SN_OK or SN_EDIST with a message
 * naming the MPI error; nothing here exits except sn_dist_abort.
 */
#ifndef SN_DIST_DIST_H
#define SN_DIST_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Start the runtime (MPI_Init_thread with MPI_THREAD_FUNNELED; errors are
 * returned, not fatal).  Call once, first.  In a program that started MPI
 * itself (at FUNNELED or more), joins it: sn_dist_finalize then leaves
 * MPI_Finalize to that program. */
int sn_dist_init(int *argc, char ***argv);

/* Instead of sn_dist_init, for one process that no launcher started: run
 * as a world of one rank without starting the MPI runtime (Open MPI's
 * singleton start forks a daemon: half a second or more per command).
 * Every function below then acts as for one rank and calls no MPI. */
int sn_dist_init_alone(void);

/* Stop the runtime (after success; on failure use sn_dist_abort). */
void sn_dist_finalize(void);

/* Whether the runtime is up: from sn_dist_init (once MPI runs) or
 * sn_dist_init_alone to sn_dist_finalize.  Outside it every collective
 * and message call below returns SN_EUSAGE naming itself (MPI would abort
 * the program), and sn_dist_finalize does nothing. */
bool sn_dist_running(void);

int sn_dist_rank(void);
int sn_dist_size(void);

/* Ranks of this job on this machine (for threads per rank: cores / this). */
int sn_dist_local_size(void);

/* The hosts of the job, as the reducers see them.  Ranks that share
 * memory (MPI_Comm_split_type with MPI_COMM_TYPE_SHARED) are one host; the
 * first rank of each host is its leader.
 *
 * Test aid: SN_DIST_FAKE_HOSTS=K in the environment (read by sn_dist_init)
 * or sn_dist_fake_hosts(K) makes the ranks of one machine look like K
 * hosts: K blocks of consecutive ranks (rank r on host r * K / P; K > P
 * counts as P), each with its own shared window and leader, so the
 * strategies for several hosts run and are tested on one.  sn_dist_init
 * refuses (SN_EUSAGE, every rank) ranks whose values differ.  Threads per
 * rank (sn_dist_local_size) do not change. */
struct sn_dist_hosts {
    int n_hosts;          /* hosts the job's ranks are on */
    int host;             /* this rank's, numbered in the order of their first ranks */
    int local_rank;       /* this rank among its host's ranks, in rank order (0: leader) */
    int local_size;       /* ranks on this rank's host */
    int max_local_size;   /* the most ranks on any host */
};
void sn_dist_hosts(struct sn_dist_hosts *out);

/* Collective.  Regroup the ranks as k fake hosts (see above); k = 0 goes
 * back to the real hosts.  Only while no shared arena is allocated:
 * SN_EDIST otherwise, SN_EUSAGE for k < 0. */
int sn_dist_fake_hosts(int k);

/* The ranks a collective runs over: every rank, or the hosts' leaders
 * (local_rank 0; only leaders may name this group). */
enum sn_dist_group { SN_DIST_WORLD, SN_DIST_LEADERS };

/* "mpi" or "local". */
const char *sn_dist_backend(void);

/* The first line of the MPI library's own version string (callable
 * before sn_dist_init): "Open MPI v4.1.4, ...", "MPICH Version: 4.0". */
const char *sn_dist_library(void);

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
 * SN_DIST_MAX_WINDOWS at once (host arenas below included);
 * sn_dist_shared_free releases one. */
#define SN_DIST_MAX_WINDOWS 4
int sn_dist_shared_arena(size_t nfloats, float **out);

/* Collective over the ranks sharing arena (from sn_dist_shared_arena):
 * arena[lo, hi) = its mean over ranks, without messages.  Two barriers
 * around one pass in which each rank averages its own slice of the range,
 * reading it straight from every rank's arena, and writes the result into
 * every rank's arena (each value computed once, so every rank holds the
 * same bits; for two ranks the same bits as MPI_Allreduce). */
int sn_dist_shared_mean(float *arena, size_t lo, size_t hi);

/* Collective: release an arena of sn_dist_shared_arena or
 * sn_dist_host_arena (NULL: nothing). */
void sn_dist_shared_free(float *arena);

/* A window over the ranks of this host, whatever the other hosts
 * (collective over every rank; each host gets a window of its own): *out
 * is this rank's part, nfloats floats, zeroed, and SN_DIST_HOST_FLAGS
 * flags that every rank of the host reads and only their owner writes.
 * One rank per host is fine (a window of one).  Freed with
 * sn_dist_shared_free. */
#define SN_DIST_HOST_FLAGS 192
int sn_dist_host_arena(size_t nfloats, float **out);

/* Local rank r's part of the host arena whose part on this rank is mine:
 * read it and write it directly (the flags order what is seen when). */
float *sn_dist_host_part(const float *mine, int local_rank);

/* Flag slot of this rank := value, after every store this rank made
 * before (release order), so a rank that sees the value sees them too. */
void sn_dist_host_post(const float *mine, int slot, uint32_t value);

/* Whether local rank r's flag slot has reached value (acquire order;
 * values are counters that wrap around: "reached" is value - flag <
 * 2^31); r = -1: every rank of the host. */
bool sn_dist_host_reached(const float *mine, int r, int slot, uint32_t value);

/* Wait until sn_dist_host_reached(mine, r, slot, value), letting started
 * nonblocking collectives progress meanwhile (see sn_dist_progress) and
 * yielding the core; bucket names what is waited for in the flight
 * recorder (-1: none).  SN_EDIST from progress. */
int sn_dist_host_wait(const float *mine, int r, int slot, uint32_t value, int bucket);

/* Nonblocking collectives, for overlapping communication with backward:
 * each call starts one and returns at once; MPI moves them along only
 * inside MPI calls, so sn_dist_progress lets every started one progress
 * (call it often); sn_dist_finish_all waits for every started one.  Up to
 * SN_DIST_MAX_PENDING between two finish_all; buffers stay untouched until
 * finished.  Counts are below 2^31.
 *
 *   iallreduce_sum_f32  buf[0..len) = its sum over the group (in place)
 *   ialltoallv_u16      block j of send (scounts[j] words at sdispls[j])
 *                       to group rank j; block i of recv (rcounts[i] at
 *                       rdispls[i]) from group rank i; *req its handle
 *   iallgatherv_u16     every group rank's block of buf (counts[j] words at
 *                       displs[j]; this rank's filled in) to every rank
 *   test / wait         whether request req has completed / wait for it */
#define SN_DIST_MAX_PENDING 512
int sn_dist_iallreduce_sum_f32(float *buf, size_t len, enum sn_dist_group g);
int sn_dist_ialltoallv_u16(const uint16_t *send, const int *scounts, const int *sdispls,
                           uint16_t *recv, const int *rcounts, const int *rdispls,
                           enum sn_dist_group g, int *req);
int sn_dist_iallgatherv_u16(uint16_t *buf, const int *counts, const int *displs,
                            enum sn_dist_group g, int *req);
int sn_dist_test(int req, bool *done);
int sn_dist_wait(int req);
int sn_dist_progress(void);
int sn_dist_finish_all(void);

/* The size of group g and this rank's place in it (-1: not a member). */
int sn_dist_group_size(enum sn_dist_group g);
int sn_dist_group_rank(enum sn_dist_group g);

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

/* The reverse of sn_dist_gather_f32: block r of whole on rank 0 (counts,
 * displs as there; ignored elsewhere) into mine on rank r. */
int sn_dist_scatter_f32(const float *whole, float *mine, const int *counts, const int *displs);

/* Stops passed to every rank, so that one rank's stop signal ends the
 * work of all at their next look, even where the others compute alone
 * (each checking an HDF5 file in set-up; rank 0 doing a local command's
 * work while the others wait for it).  stop_send: a rank that received a
 * stop signal sends its number to every other rank (once; nothing from a
 * rank already told of a stop).  stop_received: one stop another rank
 * sent, taken in (its number), or 0.  stop_relay (core/interrupt.h's
 * relay, given this rank's own request): sends it, or takes one in.
 * stop_settle, collective: every rank takes in every stop still on its
 * way, so none outlives the work (sn_dist_finalize settles too). */
int sn_dist_stop_send(int sig);
int sn_dist_stop_received(void);
int sn_dist_stop_relay(int mine);
int sn_dist_stop_settle(void);

/* Collective, where rank 0 works alone (a local command, a trainer's
 * whitening or --init): every rank meets here, the others waiting for
 * rank 0 without blocking in MPI, passing on a stop signal they receive
 * (sn_dist_stop_send), so that rank 0 stops at its next look.  A failure
 * of the wait shows in the agreement that follows. */
void sn_dist_await_rank0(void);

/* Collective: every rank's status rc into one, so that every rank takes
 * the same decision and the error is reported once.  Returns SN_OK when
 * every rank succeeded.  Otherwise every rank returns the status of the
 * lowest failing rank with its message (prefixed "rank R: " unless every
 * rank failed or it is a stop, SN_EINTR: the job's, whichever rank saw it
 * first), so rank 0 alone can print it.  SN_EFATAL if the agreement
 * itself failed: the ranks cannot be brought to one decision any more,
 * only sn_dist_abort is safe. */
int sn_dist_agree(int rc);

/* The flight recorder: where this rank is in the job's sequence of
 * collectives, for a watchdog thread to print when the job hangs.  Every
 * collective of this interface counts one (seq: how many this rank has
 * entered) and records its kind while this rank is inside it; the caller
 * adds its context (the step, and the gradient bucket, -1 for none).
 * All ranks enter the same collectives in the same order, so after a hang
 * the ranks that can still speak name the same collective and number, and
 * the one that is stuck elsewhere is the one missing (or behind).  The
 * recorder is a few atomics written by the thread that calls MPI: reading
 * it takes no lock and calls nothing (flight.c). */
enum sn_dist_op {
    SN_OP_NONE, SN_OP_ALLREDUCE, SN_OP_IALLREDUCE, SN_OP_IALLTOALL, SN_OP_IALLGATHER,
    SN_OP_WAIT, SN_OP_REDUCE_SCATTER, SN_OP_ALLGATHER, SN_OP_GATHER, SN_OP_SCATTER,
    SN_OP_BCAST, SN_OP_BARRIER, SN_OP_AGREE, SN_OP_SHARED_BARRIER, SN_OP_HOST_WAIT,
    SN_OP_N
};

struct sn_dist_flight {
    uint64_t seq;      /* collectives entered by this rank so far */
    int op;            /* the last one's kind (enum sn_dist_op) */
    bool inside;       /* this rank is in it now */
    int bucket;        /* context: the gradient bucket (-1: none) */
    int64_t step;      /* context: the step in progress (0: none yet) */
};

/* The context of the collectives that follow. */
void sn_dist_flight_step(int64_t step);
void sn_dist_flight_bucket(int bucket);

/* A consistent copy of this rank's recorder, from any thread (lock-free:
 * a sequence counter around the writer's stores, retried a few times). */
void sn_dist_flight_read(struct sn_dist_flight *out);

/* "MPI_Allreduce" ..., a static string. */
const char *sn_dist_op_name(int op);

/* The backends' side: a collective entered and left. */
void sn_dist_flight_enter(enum sn_dist_op op);
void sn_dist_flight_leave(void);

/* End every rank of the job now with exit status code. */
#ifdef __cplusplus   /* the installed headers are usable from C++ too */
[[noreturn]] void sn_dist_abort(int code);
#else
_Noreturn void sn_dist_abort(int code);
#endif

#endif
