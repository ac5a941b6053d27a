/* batchnorm: forward and backward (see batchnorm.h).
 *
 * Legend: B batch, C channels, S = H*W values per channel and example
 * (S = 1 for (F) inputs), n = B*S values per channel.  Channels are
 * independent, so the loops over C are the parallel ones.
 *
 * backward (per channel, xh = (x - mean) invstd, recomputed from the input
 * rather than stored, g = weight, dz = act'(g xh + b) dy):
 *   dw += sum(dz xh);  db += sum(dz)
 *   dx += g invstd / n * (n dz - sum(dz) - xh sum(dz xh))
 * With an activation, dz is computed in blocks of BLK values for the sums;
 * when dx holds nothing yet (sn_ctx.fresh) it is kept there and the dx
 * pass turns it into dx in place, otherwise that pass computes it again
 * (act' costs some 30 operations a value: computing it once halves
 * backward's time with GELU).
 */
#include "core/batchnorm.h"

#include <math.h>
#include <stdlib.h>

#include "core/status.h"
#include "core/tensor.h"

/* values of one plane handled at a time when dz is recomputed: z, act(z)
 * and dz of a block fit in L1 */
enum { BLK = 256 };

struct batchnorm {
    struct sn_layer base;   /* first */
    int C;
    size_t S;
    float momentum, eps;
    enum sn_act act;
    float *mean, *invstd;   /* C each, owned: backward recomputes xhat from x */
};

static int batchnorm_reserve(struct sn_layer *l, int max_batch)
{
    struct batchnorm *n = (struct batchnorm *)l;
    n->mean = sn_alloc_f32((size_t)n->C);
    n->invstd = sn_alloc_f32((size_t)n->C);
    return n->mean && n->invstd ? SN_OK : sn_fail(SN_ENOMEM, "%s: out of memory", l->name);
}

/* Mean and biased variance of channel ch over the batch: float sums over
 * one example's S values (vectorised), accumulated over examples in
 * double. */
static void channel_stats(const struct batchnorm *n, const float *x, int B, int ch, float *mean,
                          double *s2)
{
    const size_t S = n->S, per = (size_t)n->C * S;
    double s = 0.0;
    for (int i = 0; i < B; i++) {
        const float *xp = x + (size_t)i * per + (size_t)ch * S;
        float r = 0.0f;
#pragma omp simd reduction(+ : r)
        for (size_t k = 0; k < S; k++)
            r += xp[k];
        s += r;
    }
    const float mf = (float)(s / ((double)B * (double)S));
    double q = 0.0;
    for (int i = 0; i < B; i++) {
        const float *xp = x + (size_t)i * per + (size_t)ch * S;
        float r = 0.0f;
#pragma omp simd reduction(+ : r)
        for (size_t k = 0; k < S; k++)
            r += (xp[k] - mf) * (xp[k] - mf);
        q += r;
    }
    *mean = mf;
    *s2 = q;
}

/* Forward in two loops: the statistics per channel (the parallel loop over
 * C), then the normalisation and the activation per example (over B): an
 * example's C planes are one contiguous block, so the activation runs over
 * all of it in one call instead of plane by plane (a 7x7 plane is 49
 * values: the calls cost more than GELU itself). */
static void batchnorm_forward(struct sn_layer *l, const float *const *x, float *y,
                              const struct sn_ctx *c)
{
    struct batchnorm *n = (struct batchnorm *)l;
    const int B = c->B, C = n->C;
    const size_t S = n->S, per = (size_t)C * S;
    const float *w = l->params[0].w, *b = l->params[1].w;
    float *rm = l->params[2].w, *rv = l->params[3].w;
    const double cnt = (double)B * (double)S;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < C; ch++) {
        float mean, var;
        if (c->train) {
            double s2;
            channel_stats(n, x[0], B, ch, &mean, &s2);
            var = (float)(s2 / cnt);
            float unbiased = cnt > 1 ? (float)(s2 / (cnt - 1)) : var;
            rm[ch] += n->momentum * (mean - rm[ch]);
            rv[ch] += n->momentum * (unbiased - rv[ch]);
        } else {
            mean = rm[ch];
            var = rv[ch];
        }
        n->mean[ch] = mean;
        n->invstd[ch] = 1.0f / sqrtf(var + n->eps);
    }
#pragma omp parallel for schedule(static)
    for (int i = 0; i < B; i++) {
        for (int ch = 0; ch < C; ch++) {
            const size_t at = (size_t)i * per + (size_t)ch * S;
            const float *xp = x[0] + at;
            float *yp = y + at;
            const float mean = n->mean[ch], is = n->invstd[ch], wc = w[ch], bc = b[ch];
#pragma omp simd
            for (size_t k = 0; k < S; k++)
                yp[k] = wc * ((xp[k] - mean) * is) + bc;
        }
        if (n->act != SN_ACT_LINEAR)   /* the example's block, while in L2 */
            sn_act_forward_seq(n->act, y + (size_t)i * per, y + (size_t)i * per, per);
    }
}

/* dz = act'(z) dy for the len values of a plane from xp, dyp on, z = wc xh
 * + bc recomputed (and act(z) where act' is written in terms of it), into
 * out, or into buf when out is NULL; dz is dyp itself for a linear
 * activation.  len <= BLK. */
static const float *block_dz(const struct batchnorm *n, const float *xp, const float *dyp,
                             size_t len, float mean, float is, float wc, float bc, float *buf,
                             float *out)
{
    if (n->act == SN_ACT_LINEAR)
        return dyp;
    float *z = buf, *a = buf + BLK, *dz = out ? out : buf + 2 * BLK;
#pragma omp simd
    for (size_t k = 0; k < len; k++)
        z[k] = wc * ((xp[k] - mean) * is) + bc;
    if (!sn_act_needs_x(n->act))
        sn_act_forward_seq(n->act, z, a, len);
    sn_act_backward_seq(n->act, z, a, dyp, dz, len);
    return dz;
}

/* sum(dz) and sum(dz xh) of channel ch over the batch: float sums per
 * block, accumulated in double; dz is also stored into keep (laid out as
 * x) when keep is not NULL. */
static void channel_grad_sums(const struct batchnorm *n, const float *x, const float *dy, int B,
                              int ch, float wc, float bc, float *keep, double *sdy, double *sdyx)
{
    const size_t S = n->S, per = (size_t)n->C * S;
    const float mean = n->mean[ch], is = n->invstd[ch];
    float buf[3 * BLK];
    *sdy = *sdyx = 0.0;
    for (int i = 0; i < B; i++) {
        size_t at = (size_t)i * per + (size_t)ch * S;
        for (size_t k0 = 0; k0 < S; k0 += BLK) {
            const size_t len = S - k0 < BLK ? S - k0 : BLK;
            const float *xp = x + at + k0;
            const float *dz = block_dz(n, xp, dy + at + k0, len, mean, is, wc, bc, buf,
                                       keep ? keep + at + k0 : NULL);
            float r = 0.0f, rx = 0.0f;
#pragma omp simd reduction(+ : r, rx)
            for (size_t k = 0; k < len; k++) {
                r += dz[k];
                rx += dz[k] * ((xp[k] - mean) * is);
            }
            *sdy += r;
            *sdyx += rx;
        }
    }
}

static void batchnorm_backward(struct sn_layer *l, const float *const *x, const float *y,
                               const float *dy, float *const *dx, const struct sn_ctx *c)
{
    struct batchnorm *n = (struct batchnorm *)l;
    const int B = c->B, C = n->C;
    const size_t S = n->S, per = (size_t)C * S;
    struct sn_param *pw = &l->params[0], *pb = &l->params[1];
    const float cnt = (float)B * (float)S;
    const bool store = c->fresh & 1u;   /* dx[0] holds nothing yet */
    /* dz kept in dx between the passes (see the top) */
    float *keep = store && dx[0] && n->act != SN_ACT_LINEAR ? dx[0] : NULL;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < C; ch++) {
        const float mean = n->mean[ch], is = n->invstd[ch], wc = pw->w[ch], bc = pb->w[ch];
        double sdy, sdyx;
        channel_grad_sums(n, x[0], dy, B, ch, wc, bc, keep, &sdy, &sdyx);
        if (pw->trainable)
            pw->dw[ch] += (float)sdyx;
        if (pb->trainable)
            pb->dw[ch] += (float)sdy;
        if (!dx[0])
            continue;
        const float k0 = wc * is / cnt, fs = (float)sdy, fsx = (float)sdyx;
        float buf[3 * BLK];
        for (int i = 0; i < B; i++) {
            size_t at = (size_t)i * per + (size_t)ch * S;
            for (size_t b0 = 0; b0 < S; b0 += BLK) {
                const size_t len = S - b0 < BLK ? S - b0 : BLK;
                const float *xp = x[0] + at + b0;
                float *dxp = dx[0] + at + b0;
                const float *dz = keep ? dxp
                                       : block_dz(n, xp, dy + at + b0, len, mean, is, wc, bc, buf,
                                                  NULL);
                if (store) {
#pragma omp simd
                    for (size_t k = 0; k < len; k++)
                        dxp[k] = k0 * (cnt * dz[k] - fs - ((xp[k] - mean) * is) * fsx);
                } else {
#pragma omp simd
                    for (size_t k = 0; k < len; k++)
                        dxp[k] += k0 * (cnt * dz[k] - fs - ((xp[k] - mean) * is) * fsx);
                }
            }
        }
    }
}

static void batchnorm_destroy(struct sn_layer *l)
{
    struct batchnorm *n = (struct batchnorm *)l;
    sn_free(n->mean);
    sn_free(n->invstd);
}

/* statistics and the affine map: about 4 per value (the activation's
 * cost is not counted, as for the other layers that fuse one). */
static double batchnorm_flops(const struct sn_layer *l)
{
    return 4.0 * (double)sn_shape_len(&l->out_shape);
}

static void batchnorm_attrs(const struct sn_layer *l, struct sn_layer_attrs *a)
{
    const struct batchnorm *n = (const struct batchnorm *)l;
    a->eps = n->eps;
    a->act = (int)n->act;
}

static const struct sn_layer_ops batchnorm_ops = {
    .kind = "batchnorm",
    .attrs = batchnorm_attrs,
    .flops = batchnorm_flops,
    .reserve = batchnorm_reserve,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
    .destroy = batchnorm_destroy,
    .overwrites_dx = true,
};

int sn_batchnorm_create(const char *name, struct sn_shape in, float momentum, float eps,
                        enum sn_bn_affine affine, enum sn_act act, struct sn_layer **out)
{
    char s[64];
    if (in.ndim != 3 && in.ndim != 1)
        return sn_fail(SN_ESHAPE, "batchnorm: needs a (C,H,W) or (F) input, got %s",
                       sn_shape_str(&in, s, sizeof s));
    if (!(momentum >= 0.0f && momentum <= 1.0f) || !(eps > 0.0f))
        return sn_fail(SN_EINVAL, "batchnorm: momentum must be in [0, 1] and eps > 0");
    if (act == SN_ACT_SOFTMAX)
        return sn_fail(SN_EINVAL, "batchnorm: the fused activation must be elementwise, "
                       "not softmax");
    struct batchnorm *n = calloc(1, sizeof *n);
    if (!n)
        return sn_fail(SN_ENOMEM, "batchnorm: out of memory");
    sn_layer_base_init(&n->base, &batchnorm_ops, name, in);
    n->base.out_shape = in;
    n->C = in.d[0];
    n->S = in.ndim == 3 ? (size_t)in.d[1] * in.d[2] : 1;
    n->momentum = momentum;
    n->eps = eps;
    n->act = act;
    struct sn_shape cs = sn_shape_make(n->C, 0, 0, 0);
    struct sn_param *w = sn_layer_add_param(&n->base, "weight", cs, SN_INIT_ONE, n->C, n->C);
    w->trainable = affine == SN_BN_AFFINE;
    sn_layer_add_param(&n->base, "bias", cs, SN_INIT_ZERO, n->C, n->C);
    sn_layer_add_buffer(&n->base, "running_mean", cs, SN_INIT_ZERO);
    sn_layer_add_buffer(&n->base, "running_var", cs, SN_INIT_ONE);
    n->base.backward_reads_y = false;   /* it recomputes xhat (and z) from x */
    *out = &n->base;
    return SN_OK;
}
