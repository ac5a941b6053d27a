/* dropout: inverted dropout (see dropout.h).  Legend: n = B * values per
 * example.
 *
 * The mask is counter-based: one 64-bit key is drawn from the step's
 * stream, and value i keeps its input when hash(key, i) >= p 2^32.  So
 * every value's draw is independent of the others' and the loop runs in
 * parallel and vectorised, with the same mask at any thread count (a
 * sequential stream would serialise the pass). */
#include "core/dropout.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/tensor.h"

/* A 32-bit integer hash with full avalanche ("lowbias32", C. Wellons'
 * hash-prospector): 32-bit multiplies, so it vectorises. */
static inline uint32_t hash32(uint32_t v)
{
    v ^= v >> 16;
    v *= 0x7feb352dU;
    v ^= v >> 15;
    v *= 0x846ca68bU;
    v ^= v >> 16;
    return v;
}

/* Parallel loops pay from this many values. */
#define DROPOUT_PAR 32768

void sn_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                        struct sn_rng *rng)
{
    const float keep = 1.0f / (1.0f - p);
    const uint32_t k1 = sn_rng_u32(rng), k2 = sn_rng_u32(rng);
    /* keep where the hash >= p 2^32 (p < 1, so the bound fits in 32 bits) */
    const uint32_t bound = (uint32_t)((double)p * 4294967296.0);
#pragma omp parallel for simd schedule(static) if (parallel: n > DROPOUT_PAR)
    for (size_t i = 0; i < n; i++) {
        uint32_t h = hash32(hash32((uint32_t)i + k1) ^ k2 ^ (uint32_t)(i >> 32));
        mask[i] = h >= bound ? keep : 0.0f;
        y[i] = x[i] * mask[i];
    }
}

void sn_dropout_backward(const float *dy, const float *mask, float *dx, size_t n)
{
#pragma omp parallel for simd schedule(static) if (parallel: n > DROPOUT_PAR)
    for (size_t i = 0; i < n; i++)
        dx[i] += dy[i] * mask[i];
}

struct dropout {
    struct sn_layer base;   /* first */
    float p;
    float *mask;            /* max_batch * len, owned */
};

static int dropout_reserve(struct sn_layer *l, int max_batch)
{
    struct dropout *d = (struct dropout *)l;
    d->mask = sn_alloc_f32((size_t)max_batch * sn_shape_len(&l->out_shape));
    return d->mask ? SN_OK : sn_fail(SN_ENOMEM, "%s: out of memory for the mask", l->name);
}

static size_t dropout_kept_len(const struct sn_layer *l)
{
    return sn_shape_len(&l->out_shape);   /* the mask */
}

static void dropout_forward(struct sn_layer *l, const float *const *x, float *y,
                            const struct sn_ctx *c)
{
    struct dropout *d = (struct dropout *)l;
    size_t n = (size_t)c->B * sn_shape_len(&l->out_shape);
    if (c->train && d->p > 0.0f && c->rng)
        sn_dropout_forward(x[0], y, d->mask, n, d->p, c->rng);
    else {
        if (y != x[0])
            memcpy(y, x[0], n * sizeof *y);
#pragma omp parallel for simd schedule(static) if (parallel: n > DROPOUT_PAR)
        for (size_t i = 0; i < n; i++)
            d->mask[i] = 1.0f;
    }
}

static void dropout_backward(struct sn_layer *l, const float *const *x, const float *y,
                             const float *dy, float *const *dx, const struct sn_ctx *c)
{
    struct dropout *d = (struct dropout *)l;
    if (dx[0])
        sn_dropout_backward(dy, d->mask, dx[0], (size_t)c->B * sn_shape_len(&l->out_shape));
}

static void dropout_destroy(struct sn_layer *l)
{
    sn_free(((struct dropout *)l)->mask);
}

static void dropout_attrs(const struct sn_layer *l, struct sn_layer_attrs *a)
{
    a->rate = ((const struct dropout *)l)->p;
}

static const struct sn_layer_ops dropout_ops = {
    .kind = "dropout",
    .attrs = dropout_attrs,
    .reserve = dropout_reserve,
    .kept_len = dropout_kept_len,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .destroy = dropout_destroy,
    .in_place = true,
};

int sn_dropout_create(const char *name, struct sn_shape in, float p, struct sn_layer **out)
{
    if (!(p >= 0.0f && p < 1.0f))
        return sn_fail(SN_EINVAL, "dropout: rate must be in [0, 1), got %g", p);
    struct dropout *d = calloc(1, sizeof *d);
    if (!d)
        return sn_fail(SN_ENOMEM, "dropout: out of memory");
    sn_layer_base_init(&d->base, &dropout_ops, name, in);
    d->base.out_shape = in;
    d->p = p;
    d->base.backward_reads_y = false;   /* the mask is enough */
    *out = &d->base;
    return SN_OK;
}
