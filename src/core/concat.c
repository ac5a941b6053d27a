/* concat: torch.cat along one axis (see concat.h).
 *
 * Legend: per example, an input of shape (outer, a_j, inner) with the axis
 * a in the middle: for (C,H,W) outer = 1, a = C, inner = H*W; for (T,F)
 * outer = T, a = F, inner = 1.  The output row of one outer index is the
 * inputs' rows one after the other.
 */
#include "core/concat.h"

#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/status.h"

struct concat {
    struct sn_layer base;            /* first */
    size_t outer, inner;
    size_t width[SN_MAX_INPUTS];     /* a_j * inner */
    size_t out_width;                /* sum of width */
};

static void concat_forward(struct sn_layer *l, const float *const *x, float *y,
                           const struct sn_ctx *c)
{
    const struct concat *k = (const struct concat *)l;
    size_t rows = (size_t)c->B * k->outer;
    for (size_t r = 0; r < rows; r++) {
        float *dst = y + r * k->out_width;
        for (int j = 0; j < l->n_in; j++) {
            memcpy(dst, x[j] + r * k->width[j], k->width[j] * sizeof *dst);
            dst += k->width[j];
        }
    }
}

static void concat_backward(struct sn_layer *l, const float *const *x, const float *y,
                            const float *dy, float *const *dx, const struct sn_ctx *c)
{
    const struct concat *k = (const struct concat *)l;
    size_t rows = (size_t)c->B * k->outer;
    for (size_t r = 0; r < rows; r++) {
        const float *src = dy + r * k->out_width;
        for (int j = 0; j < l->n_in; j++) {
            if (dx[j]) {
                float *d = dx[j] + r * k->width[j];
                for (size_t i = 0; i < k->width[j]; i++)
                    d[i] += src[i];
            }
            src += k->width[j];
        }
    }
}

/* copies only */
static double concat_flops(const struct sn_layer *l)
{
    (void)l;
    return 0.0;
}

static const struct sn_layer_ops concat_ops = {
    .kind = "concat",
    .flops = concat_flops,
    .forward = concat_forward,
    .backward = concat_backward,
};

int sn_concat_create(const char *name, const struct sn_shape *in, int n,
                     struct sn_layer **out)
{
    if (n < 2 || n > SN_MAX_INPUTS)
        return sn_fail(SN_ESHAPE, "concat: needs 2 to %d inputs, got %d", SN_MAX_INPUTS, n);
    int nd = in[0].ndim, axis = nd == 3 ? 0 : nd - 1;
    char a[64], b[64];
    for (int j = 1; j < n; j++) {
        bool ok = in[j].ndim == nd;
        for (int d = 0; ok && d < nd; d++)
            ok = d == axis || in[j].d[d] == in[0].d[d];
        if (!ok)
            return sn_fail(SN_ESHAPE, "concat: input %d has shape %s, which does not fit input 0's "
                           "%s (all dimensions but the %s must agree)", j,
                           sn_shape_str(&in[j], a, sizeof a), sn_shape_str(&in[0], b, sizeof b),
                           nd == 3 ? "channels" : "last");
    }
    struct concat *k = calloc(1, sizeof *k);
    if (!k)
        return sn_fail(SN_ENOMEM, "concat: out of memory");
    sn_layer_base_init(&k->base, &concat_ops, name, in[0]);
    k->base.n_in = n;
    k->outer = 1;
    k->inner = 1;
    for (int d = 0; d < axis; d++)
        k->outer *= (size_t)in[0].d[d];
    for (int d = axis + 1; d < nd; d++)
        k->inner *= (size_t)in[0].d[d];
    struct sn_shape o = in[0];
    size_t along = 0;   /* the joined dimension, checked before it becomes an int */
    for (int j = 0; j < n; j++) {
        k->base.in_shape[j] = in[j];
        k->width[j] = (size_t)in[j].d[axis] * k->inner;
        k->out_width += k->width[j];
        along += (size_t)in[j].d[axis];
    }
    if (along > SN_MAX_ELEMS) {
        free(k);
        return sn_fail(SN_ESHAPE, "concat: the joined dimension would be %zu, more than %zu",
                       along, SN_MAX_ELEMS);
    }
    o.d[axis] = (int)along;
    k->base.out_shape = o;
    k->base.backward_reads_y = false;
    *out = &k->base;
    return SN_OK;
}
