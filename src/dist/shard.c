/* shard: permutations and row blocks (see shard.h). */
#include "dist/shard.h"

#include "core/interrupt.h"
#include "core/rng.h"
#include "core/status.h"

/* Stream id reserved for data shuffling. */
#define SHUFFLE_STREAM 0x5348554646ULL

/* Swaps between looks at the stop request: a shuffle of hundreds of
 * millions of rows takes seconds (each swap a cache miss); 4,096 well under a
 * millisecond, and a look (an MPI_Iprobe for a stop another rank sent)
 * about a microsecond. */
#define STOP_LOOK_EVERY 4096

int sn_shard_permutation(uint64_t seed, int64_t epoch, bool shuffle, int32_t *perm, size_t N)
{
    for (size_t i = 0; i < N; i++)
        perm[i] = (int32_t)i;
    if (!shuffle)
        return SN_OK;
    struct sn_rng r;
    sn_rng_seed(&r, sn_rng_mix(seed, (uint64_t)epoch), SHUFFLE_STREAM);
    for (size_t i = N; i > 1; i--) {
        if (i % STOP_LOOK_EVERY == 0 && sn_interrupt_check("shuffling the training rows"))
            return SN_EINTR;
        size_t j = sn_rng_below(&r, (uint32_t)i);
        int32_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    return SN_OK;
}

void sn_shard_range(size_t N, int rank, int size, size_t *begin, size_t *end)
{
    size_t base = N / (size_t)size, extra = N % (size_t)size, r = (size_t)rank;
    *begin = r * base + (r < extra ? r : extra);
    *end = *begin + base + (r < extra ? 1 : 0);
}
