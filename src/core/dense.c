/* dense: fully connected layer (see dense.h).
 *
 * Legend: B batch, I inputs, O outputs.  x (B,I), w (O,I), b (O), y (B,O).
 * Three GEMMs through sn_sgemm (OpenBLAS threads them): one forward (y =
 * x w^T), two backward (dw = dz^T x, dx = dz w, dz the output gradient
 * through the activation);
 * the bias and activation are fused into one pass over y.
 */
#include "core/dense.h"

#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/status.h"

void sn_dense_forward(const float *x, const float *w, const float *b, float *y, float *z,
                      int B, int I, int O, enum sn_act act)
{
    sn_sgemm(false, true, B, O, I, 1.0f, x, I, w, I, 0.0f, y, O);
    /* Bias and activation while the row is in L1 (softmax: of the row). */
#pragma omp parallel for schedule(static) if ((size_t)B * O > 16384)
    for (int n = 0; n < B; n++) {
        float *yr = y + (size_t)n * O;
        for (int o = 0; o < O; o++)
            yr[o] += b[o];
        if (z)
            memcpy(z + (size_t)n * O, yr, (size_t)O * sizeof *yr);
        sn_act_forward_seq(act, yr, yr, (size_t)O);
    }
}

void sn_dense_backward(const float *x, const float *w, const float *y, const float *z,
                       const float *dy, float *dz, float *dx, float *dw, float *db,
                       int B, int I, int O, enum sn_act act)
{
    sn_act_backward(act, z, y, dy, dz, (size_t)B, (size_t)O);
    if (dw)   /* dw (O,I) += dz^T (O,B) x (B,I) */
        sn_sgemm(true, false, O, I, B, 1.0f, dz, O, x, I, 1.0f, dw, I);
    if (db)   /* db += column sums of dz */
        sn_add_colsums(dz, (size_t)B, (size_t)O, db);
    if (dx)   /* dx (B,I) += dz (B,O) w (O,I) */
        sn_sgemm(false, false, B, I, O, 1.0f, dz, O, w, I, 1.0f, dx, I);
}

struct dense {
    struct sn_layer base;   /* first */
    int I, O;
    enum sn_act act;
    float scale;            /* y = scale (x W^T + b), linear activation only */
    float *z;               /* max_batch pre-activations when the activation's
                             * backward needs them (GELU); owned */
};

static int dense_reserve(struct sn_layer *l, int max_batch)
{
    struct dense *d = (struct dense *)l;
    if (sn_act_needs_x(d->act) && !(d->z = sn_alloc_f32((size_t)max_batch * d->O)))
        return sn_fail(SN_ENOMEM, "%s: out of memory", l->name);
    return SN_OK;
}

static size_t dense_kept_len(const struct sn_layer *l)
{
    const struct dense *d = (const struct dense *)l;
    return sn_act_needs_x(d->act) ? (size_t)d->O : 0;   /* z, before the activation */
}

static void dense_destroy(struct sn_layer *l)
{
    sn_free(((struct dense *)l)->z);
}

static size_t dense_workspace_len(const struct sn_layer *l, int B)
{
    const struct dense *d = (const struct dense *)l;
    return (size_t)B * d->O;
}

static void dense_forward(struct sn_layer *l, const float *const *x, float *y,
                          const struct sn_ctx *c)
{
    struct dense *d = (struct dense *)l;
    sn_dense_forward(x[0], l->params[0].w, l->params[1].w, y, d->z, c->B, d->I, d->O, d->act);
    if (d->scale != 1.0f)
        for (size_t i = 0; i < (size_t)c->B * d->O; i++)
            y[i] *= d->scale;
}

static void dense_backward(struct sn_layer *l, const float *const *x, const float *y,
                           const float *dy, float *const *dx, const struct sn_ctx *c)
{
    struct dense *d = (struct dense *)l;
    struct sn_param *w = &l->params[0], *b = &l->params[1];
    if (d->scale != 1.0f) {   /* the gradient of the product: scale dy (linear: dz is it) */
        for (size_t i = 0; i < (size_t)c->B * d->O; i++)
            c->ws[i] = d->scale * dy[i];
        dy = c->ws;
    }
    sn_dense_backward(x[0], w->w, y, d->z, dy, c->ws, dx[0], w->trainable ? w->dw : NULL,
                      b->trainable ? b->dw : NULL, c->B, d->I, d->O, d->act);
}

/* x w^T: 2 I O; bias and activation: 2 O. */
static double dense_flops(const struct sn_layer *l)
{
    const struct dense *d = (const struct dense *)l;
    return 2.0 * d->I * d->O + 2.0 * d->O;
}

static void dense_attrs(const struct sn_layer *l, struct sn_layer_attrs *a)
{
    const struct dense *d = (const struct dense *)l;
    a->act = (int)d->act;
    a->scale = d->scale;
}

static const struct sn_layer_ops dense_ops = {
    .kind = "dense",
    .attrs = dense_attrs,
    .flops = dense_flops,
    .workspace_len = dense_workspace_len,
    .reserve = dense_reserve,
    .kept_len = dense_kept_len,
    .forward = dense_forward,
    .backward = dense_backward,
    .destroy = dense_destroy,
};

int sn_dense_create(const char *name, struct sn_shape in, int units, enum sn_act act,
                    enum sn_init init, struct sn_layer **out)
{
    if (units < 1)
        return sn_fail(SN_ESHAPE, "dense: units must be >= 1, got %d", units);
    size_t I = sn_shape_len(&in);
    if (I > (size_t)1 << 30)
        return sn_fail(SN_ESHAPE, "dense: input of %zu features is too large", I);
    struct dense *d = calloc(1, sizeof *d);
    if (!d)
        return sn_fail(SN_ENOMEM, "dense: out of memory");
    sn_layer_base_init(&d->base, &dense_ops, name, in);
    d->I = (int)I;
    d->O = units;
    d->act = act;
    d->scale = 1.0f;
    d->base.out_shape = sn_shape_make(units, 0, 0, 0);
    sn_layer_add_param(&d->base, "weight", sn_shape_make(units, d->I, 0, 0), init,
                       d->I, units);
    sn_layer_add_param(&d->base, "bias", sn_shape_make(units, 0, 0, 0),
                       init == SN_INIT_FANIN_UNIFORM ? SN_INIT_FANIN_UNIFORM : SN_INIT_ZERO,
                       d->I, units);
    d->base.backward_reads_y = act != SN_ACT_LINEAR && !sn_act_needs_x(act);
    *out = &d->base;
    return SN_OK;
}

int sn_dense_set_scale(struct sn_layer *l, float scale)
{
    struct dense *d = (struct dense *)l;
    /* the bounds as floats: 1e-6 given as the bound rounds below the double 1e-6 */
    if (!(scale >= (float)SN_DENSE_SCALE_MIN && scale <= (float)SN_DENSE_SCALE_MAX))
        return sn_fail(SN_EINVAL, "dense: scale must be from %g to %g, got %g",
                       SN_DENSE_SCALE_MIN, SN_DENSE_SCALE_MAX, scale);
    if (scale != 1.0f && d->act != SN_ACT_LINEAR)
        return sn_fail(SN_EINVAL, "dense: scale needs the linear activation");
    d->scale = scale;
    return SN_OK;
}
