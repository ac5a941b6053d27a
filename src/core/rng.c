/* rng: PCG32 (XSH RR 64/32), as in M. O'Neill, "PCG: A Family of Simple Fast
 * Space-Efficient Statistically Good Algorithms for Random Number
 * Generation" (2014), with its reference seeding procedure. */
#include "core/rng.h"

#include <math.h>

uint64_t sn_rng_mix(uint64_t a, uint64_t b)
{
    uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t sn_rng_u32(struct sn_rng *r)
{
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

void sn_rng_seed(struct sn_rng *r, uint64_t seed, uint64_t stream)
{
    r->state = 0;
    r->inc = (stream << 1u) | 1u;
    sn_rng_u32(r);
    r->state += seed;
    sn_rng_u32(r);
}

uint32_t sn_rng_below(struct sn_rng *r, uint32_t n)
{
    /* Lemire-free classic rejection: drop the top partial range. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t v = sn_rng_u32(r);
        if (v >= threshold)
            return v % n;
    }
}

float sn_rng_uniform(struct sn_rng *r)
{
    return (float)(sn_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float sn_rng_normal(struct sn_rng *r)
{
    /* u1 in (0, 1] so log(u1) is finite. */
    double u1 = ((double)(sn_rng_u32(r) >> 8) + 1.0) / 16777216.0;
    double u2 = (double)(sn_rng_u32(r) >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
