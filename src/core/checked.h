/* checked: size arithmetic that notices overflow.
 *
 * Every shape, count and byte size computed from a file or a flag goes
 * through these, so a value that does not fit is an error the caller
 * reports, never a wrapped number that allocates too little (65536^4
 * elements wraps to 0 in 64 bits).  Each returns true when the result fits
 * and stores it; false (and *out untouched) on overflow.
 */
#ifndef SN_CORE_CHECKED_H
#define SN_CORE_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"

/* The most elements one example, one layer output or one parameter may
 * hold: dimensions are ints and kernels index with them. */
#define SN_MAX_ELEMS ((size_t)INT32_MAX)

static inline bool sn_mul_ok(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

static inline bool sn_add_ok(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return false;
    *out = a + b;
    return true;
}

/* *out = a * b * c. */
static inline bool sn_mul3_ok(size_t a, size_t b, size_t c, size_t *out)
{
    size_t ab;
    return sn_mul_ok(a, b, &ab) && sn_mul_ok(ab, c, out);
}

/* Elements of shape s, if every dimension is >= 1 and the product is at
 * most limit. */
static inline bool sn_shape_len_ok(const struct sn_shape *s, size_t limit, size_t *out)
{
    size_t n = 1;
    if (s->ndim < 1 || s->ndim > SN_MAX_DIMS)
        return false;
    for (int i = 0; i < s->ndim; i++)
        if (s->d[i] < 1 || !sn_mul_ok(n, (size_t)s->d[i], &n))
            return false;
    if (n > limit)
        return false;
    *out = n;
    return true;
}

#endif
