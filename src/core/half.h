/* half: 16-bit floats for compressed gradients (train --compress).
 *
 * Two formats, each a float32 with bits dropped:
 *   bf16  1 sign, 8 exponent, 7 mantissa bits: float32's range, 3 decimal
 *         digits (the top half of a float32's bits)
 *   fp16  IEEE 754 binary16: 1 sign, 5 exponent, 10 mantissa bits; largest
 *         finite 65504, subnormals down to 2^-24, anything smaller is 0
 * Conversions round to nearest, ties to even (as PyTorch's .to(bfloat16)
 * and .half() do); NaN stays NaN, overflow gives Inf.  Converting back to
 * float32 is exact.
 *
 * Error feedback (sn_half_compress): what rounding loses is kept in a
 * residual and added to the next value sent, so that over many steps the
 * sum of what was sent follows the sum of the true values (Seide et al.,
 * "1-bit SGD", 2014; Karimireddy et al., "Error feedback fixes SignSGD",
 * 2019).
 */
#ifndef SN_CORE_HALF_H
#define SN_CORE_HALF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum sn_half { SN_HALF_NONE, SN_HALF_BF16, SN_HALF_FP16 };

/* "none", "bf16" or "fp16" into *out; SN_EUSAGE naming name otherwise. */
int sn_half_parse(const char *name, enum sn_half *out);
const char *sn_half_name(enum sn_half k);

static inline uint32_t sn_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float sn_f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* bf16: keep the top 16 bits, rounding the 16 dropped ones to nearest
 * even (adding 0x7fff plus the kept part's lowest bit carries exactly when
 * the dropped part is above half, or half with an odd kept part). */
static inline uint16_t sn_f32_to_bf16(float f)
{
    uint32_t u = sn_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)   /* NaN: keep it a (quiet) NaN */
        return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float sn_bf16_to_f32(uint16_t h)
{
    return sn_f32_from_bits((uint32_t)h << 16);
}

/* fp16.  Magnitudes at or above 65520 (65504 plus half its spacing)
 * round to Inf; below 2^-14 the result is subnormal: adding 0.5f puts the
 * value's bits, scaled by 2^-24, into the low mantissa bits of a float
 * whose exponent is fixed, and the float addition itself rounds them to
 * nearest even.  Otherwise: move the exponent from float's bias (127) to
 * half's (15) and round the 13 dropped mantissa bits as bf16 does (a carry
 * into the exponent is the right result, up to Inf). */
static inline uint16_t sn_f32_to_fp16(float f)
{
    uint32_t u = sn_f32_bits(f);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    u &= 0x7fffffffu;
    if (u > 0x7f800000u)
        return sign | 0x7e00u;
    if (u >= 0x47800000u)   /* 65536 and up (Inf included) */
        return sign | 0x7c00u;
    if (u < 0x38800000u) {  /* below 2^-14 */
        float g = sn_f32_from_bits(u) + 0.5f;
        return sign | (uint16_t)(sn_f32_bits(g) - 0x3f000000u);
    }
    u += ((uint32_t)(15 - 127) << 23) + 0x0fffu + ((u >> 13) & 1u);
    return sign | (uint16_t)(u >> 13);
}

static inline float sn_fp16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {   /* zero or subnormal: m * 2^-24, exact in float */
        float v = (float)m * (1.0f / 16777216.0f);   /* 2^-24, exact */
        return sn_f32_from_bits(sn_f32_bits(v) | sign);
    }
    if (e == 31)
        return sn_f32_from_bits(sign | 0x7f800000u | (m << 13));
    return sn_f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

/* One value of kind k (BF16 or FP16) rounded, and back. */
static inline uint16_t sn_half_from_f32(enum sn_half k, float f)
{
    return k == SN_HALF_FP16 ? sn_f32_to_fp16(f) : sn_f32_to_bf16(f);
}

static inline float sn_half_to_f32(enum sn_half k, uint16_t h)
{
    return k == SN_HALF_FP16 ? sn_fp16_to_f32(h) : sn_bf16_to_f32(h);
}

/* Error feedback over n values: v = x[i] + resid[i] is sent as out[i] =
 * v rounded to kind k, and resid[i] = v - out[i] (exact: the difference
 * of a float and its rounding to fewer bits is a float).  resid NULL: no
 * feedback, out[i] = x[i] rounded. */
void sn_half_compress(enum sn_half k, const float *x, float *resid, uint16_t *out, size_t n);

/* out[i] = in[i] as float (exact). */
void sn_half_expand(enum sn_half k, const uint16_t *in, float *out, size_t n);

#endif
