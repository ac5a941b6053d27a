/* rng: a small, fast, saveable random generator (PCG32, O'Neill 2014).
 *
 * The whole state is two 64-bit words, so a checkpoint stores it exactly and
 * a resumed run draws the same numbers.  Streams are derived from a seed and
 * a purpose (shuffle, init, dropout ...), so each use has its own sequence
 * and one use never shifts another's.
 */
#ifndef SN_CORE_RNG_H
#define SN_CORE_RNG_H

#include <stdint.h>

struct sn_rng {
    uint64_t state;
    uint64_t inc;      /* odd: selects the stream */
};

/* Seed r from (seed, stream); distinct streams give independent sequences. */
void sn_rng_seed(struct sn_rng *r, uint64_t seed, uint64_t stream);

/* Mix several words into one seed (splitmix64 finaliser), for deriving
 * streams from (seed, epoch) or (seed, rank, step). */
uint64_t sn_rng_mix(uint64_t a, uint64_t b);

uint32_t sn_rng_u32(struct sn_rng *r);

/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint32_t sn_rng_below(struct sn_rng *r, uint32_t n);

/* Uniform float in [0, 1) with 24 random bits. */
float sn_rng_uniform(struct sn_rng *r);

/* Standard normal (Box-Muller; two draws per call, none cached, so the
 * state alone defines the sequence). */
float sn_rng_normal(struct sn_rng *r);

#endif
