/* shard: which rows each rank reads, as plain arithmetic (no MPI).
 *
 * Training: every rank builds the same permutation of the N training rows
 * from (seed, epoch); global step s covers positions [s*B, (s+1)*B) of it,
 * and rank r of P takes the r-th slice of B/P positions.  An epoch has
 * floor(N/B) steps: the last N mod B positions of each epoch's permutation
 * are dropped (different rows each epoch), identically at every P, so the
 * same seed and global batch give the same examples per step whatever P.
 * Evaluation: rank r takes one contiguous block of the N rows; the blocks
 * cover every row exactly once (no padding, no duplicates).
 */
#ifndef SN_DIST_SHARD_H
#define SN_DIST_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* perm[0..N-1] = the row order of epoch `epoch` (identity if !shuffle):
 * a Fisher-Yates shuffle from a stream seeded by (seed, epoch).  SN_OK, or
 * SN_EINTR when a stop request (core/interrupt.h) comes while it shuffles
 * (perm is then not an order to use). */
int sn_shard_permutation(uint64_t seed, int64_t epoch, bool shuffle, int32_t *perm, size_t N);

/* Optimizer steps in one epoch of N rows at global batch B (floor(N/B)). */
static inline int64_t sn_shard_steps(size_t N, int B)
{
    return (int64_t)(N / (size_t)B);
}

/* The B/P rows of rank `rank` in step `step` of an epoch's permutation. */
static inline const int32_t *sn_shard_rows(const int32_t *perm, int64_t step, int B,
                                           int rank, int size)
{
    return perm + (size_t)step * (size_t)B + (size_t)rank * (size_t)(B / size);
}

/* Rank `rank`'s block [*begin, *end) of N rows for evaluation; the first
 * N mod P ranks get one row more. */
void sn_shard_range(size_t N, int rank, int size, size_t *begin, size_t *end);

#endif
