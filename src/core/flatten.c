/* flatten: (C,H,W) or (T,F) -> (C*H*W), in C,H,W order.  Memory already
 * holds each example flat, so forward copies and backward adds. */
#include "core/flatten.h"

#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/status.h"

static void flatten_forward(struct sn_layer *l, const float *const *x, float *y,
                            const struct sn_ctx *c)
{
    if (y != x[0])   /* in place it is free */
        memcpy(y, x[0], (size_t)c->B * sn_shape_len(&l->out_shape) * sizeof *y);
}

static void flatten_backward(struct sn_layer *l, const float *const *x, const float *y,
                             const float *dy, float *const *dx, const struct sn_ctx *c)
{
    if (!dx[0])
        return;
    size_t n = (size_t)c->B * sn_shape_len(&l->out_shape);
    for (size_t i = 0; i < n; i++)
        dx[0][i] += dy[i];
}

/* a copy only */
static double flatten_flops(const struct sn_layer *l)
{
    (void)l;
    return 0.0;
}

static const struct sn_layer_ops flatten_ops = {
    .kind = "flatten",
    .flops = flatten_flops,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .in_place = true,
};

int sn_flatten_create(const char *name, struct sn_shape in, struct sn_layer **out)
{
    size_t len;
    char b[64];
    if (!sn_shape_len_ok(&in, SN_MAX_ELEMS, &len))
        return sn_fail(SN_ESHAPE, "flatten: input %s holds more than %zu values",
                       sn_shape_str(&in, b, sizeof b), SN_MAX_ELEMS);
    struct sn_layer *l = calloc(1, sizeof *l);
    if (!l)
        return sn_fail(SN_ENOMEM, "flatten: out of memory");
    sn_layer_base_init(l, &flatten_ops, name, in);
    l->out_shape = sn_shape_make((int)len, 0, 0, 0);
    l->backward_reads_y = false;
    *out = l;
    return SN_OK;
}
