/* fastmath: exp, sigmoid, tanh and the normal CDF that the compiler can
 * vectorise.
 *
 * libm's expf and tanhf are calls, one value at a time; the gates of a
 * recurrent layer make millions of them per step.  These are branch-free
 * inline versions (Cephes' polynomials, the classic single-precision ones),
 * so a `#pragma omp simd` loop turns them into 8-wide AVX2 code.
 *
 *   exp(x) = 2^n exp(r),  n = round(x / ln 2),  |r| <= ln(2)/2,
 *            exp(r) by a degree-6 polynomial, 2^n built in the exponent bits.
 *   sigmoid(x) = 1 / (1 + exp(-x))       (exp is clamped: never Inf or NaN)
 *   tanh(x)    = x + x^3 P(x^2)           for |x| < 0.625 (no cancellation)
 *              = sign(x) (1 - 2 / (exp(2|x|) + 1))   otherwise
 *   Phi(x)     = P(N(0,1) <= x) = (1 + erf(x / sqrt 2)) / 2, with
 *              erf(z) = 1 - t P(t) exp(-z^2), t = 1 / (1 + p z), z >= 0
 *              (Abramowitz & Stegun 7.1.26: |error| < 1.5e-7; PyTorch's
 *              vectorised CPU erf is the same formula)
 * Relative error against libm: below 3e-7 for exp and sigmoid, below 5e-7
 * for tanh; absolute error of Phi below 4e-7, relative error of its tail
 * from 5e-5 at x = -3 to 1.6e-3 at x = -5 (tests/core/test_fastmath.c
 * checks them over the whole range).
 */
#ifndef SN_CORE_FASTMATH_H
#define SN_CORE_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float sn_expf(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    float n = rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;   /* ln 2 in two parts */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;               /* 2^n */
    float two_n;
    memcpy(&two_n, &bits, sizeof two_n);
    return p * two_n;
}

static inline float sn_sigmoidf(float x)
{
    return 1.0f / (1.0f + sn_expf(-x));
}

static inline float sn_tanhf(float x)
{
    float a = fabsf(x), z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                    1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float big = 1.0f - 2.0f / (sn_expf(2.0f * a) + 1.0f);
    big = copysignf(big, x);
    return a < 0.625f ? small : big;
}

/* Phi(x), and *g = exp(-x^2 / 2) (the normal density without its
 * 1/sqrt(2 pi), which GELU's derivative needs).  The tail x < 0 is
 * t P(t) g / 2 itself, never 1 minus a number close to 1. */
static inline float sn_normcdf_g(float x, float *g)
{
    float z = fabsf(x) * 0.707106781186547524f;
    float t = 1.0f / (1.0f + 0.3275911f * z);
    float p = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t +
               0.254829592f) * t;
    float e = sn_expf(-0.5f * x * x);
    float tail = 0.5f * p * e;   /* Phi(-|x|) */
    *g = e;
    return x < 0.0f ? tail : 1.0f - tail;
}

static inline float sn_normcdf(float x)
{
    float g;
    return sn_normcdf_g(x, &g);
}

#endif
