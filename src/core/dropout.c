/* dropout: inverted dropout (see dropout.h).  Legend: n = B * values per
 * example.  Drawing is sequential (one stream), the multiply is not. */
#include "core/dropout.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/tensor.h"

void sn_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                        struct sn_rng *rng)
{
    const float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        mask[i] = sn_rng_uniform(rng) >= p ? keep : 0.0f;
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * mask[i];
}

void sn_dropout_backward(const float *dy, const float *mask, float *dx, size_t n)
{
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

static const struct sn_layer_ops dropout_ops = {
    .kind = "dropout",
    .reserve = dropout_reserve,
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
