/* conv: 2-D convolution by im2col and one GEMM per chunk of the batch.
 *
 * Legend: see conv.h; CKK = C*K*K; a chunk is nb examples, chosen so the
 * unfolded columns (CKK x nb*L) stay under CHUNK_FLOATS.
 *
 *   forward   cols = im2col(x)                      (CKK, nb*L)
 *             Yt   = W (OC, CKK) cols               (OC, nb*L)
 *             y[b][oc][l] = act(Yt[oc][b*L+l] + bias[oc])
 *   backward  dz = act'(y) dy; dYt = dz transposed  (OC, nb*L)
 *             dW += dYt cols^T;  db += row sums of dYt
 *             dcols = W^T dYt;   dx += col2im(dcols)
 * The GEMMs run outside any parallel region (OpenBLAS threads them); the
 * unfold, fold and transposes are parallel over examples or channels.
 */
#include "core/conv.h"

#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/im2col.h"
#include "core/status.h"

#define CHUNK_FLOATS ((size_t)1 << 22)

struct conv {
    struct sn_layer base;   /* first */
    struct sn_conv_geom g;
    int OC;
    enum sn_act act;
};

static int chunk_of(const struct conv *k, int B)
{
    size_t per = (size_t)k->g.C * k->g.K * k->g.K * k->g.OH * k->g.OW;
    size_t nb = per ? CHUNK_FLOATS / per : (size_t)B;
    if (nb < 1)
        nb = 1;
    return nb < (size_t)B ? (int)nb : B;
}

/* cols, dcols (CKK x nb*L) and Yt, dz (OC x nb*L). */
static size_t conv_workspace_len(const struct sn_layer *l, int B)
{
    const struct conv *k = (const struct conv *)l;
    size_t nbL = (size_t)chunk_of(k, B) * k->g.OH * k->g.OW;
    size_t ckk = (size_t)k->g.C * k->g.K * k->g.K;
    return 2 * ckk * nbL + 2 * (size_t)k->OC * nbL;
}

static void conv_forward(struct sn_layer *l, const float *const *x, float *y,
                         const struct sn_ctx *c)
{
    const struct conv *k = (const struct conv *)l;
    const struct sn_conv_geom *g = &k->g;
    const int OC = k->OC, nbmax = chunk_of(k, c->B);
    const size_t L = (size_t)g->OH * g->OW, CKK = (size_t)g->C * g->K * g->K;
    const size_t in_len = (size_t)g->C * g->H * g->W, out_len = (size_t)OC * L;
    const float *w = l->params[0].w, *bias = l->params[1].w;
    float *cols = c->ws, *Yt = cols + CKK * (size_t)nbmax * L;
    for (int b0 = 0; b0 < c->B; b0 += nbmax) {
        int nb = c->B - b0 < nbmax ? c->B - b0 : nbmax;
        size_t ld = (size_t)nb * L;
        sn_im2col(g, x[0] + (size_t)b0 * in_len, nb, cols);
        sn_sgemm(false, false, OC, (int)ld, (int)CKK, 1.0f, w, (int)CKK, cols, (int)ld, 0.0f,
                 Yt, (int)ld);
#pragma omp parallel for schedule(static) if (nb > 1)
        for (int b = 0; b < nb; b++) {
            float *yb = y + (size_t)(b0 + b) * out_len;
            for (int oc = 0; oc < OC; oc++) {
                const float *src = Yt + (size_t)oc * ld + (size_t)b * L;
                float *dst = yb + (size_t)oc * L;
                for (size_t i = 0; i < L; i++)
                    dst[i] = src[i] + bias[oc];
            }
            if (k->act != SN_ACT_SOFTMAX)
                sn_act_forward(k->act, yb, yb, 1, out_len);
        }
    }
    if (k->act == SN_ACT_SOFTMAX)   /* over the last dimension, like [activation] */
        sn_act_forward(k->act, y, y, (size_t)c->B * OC * g->OH, (size_t)g->OW);
}

static void conv_backward(struct sn_layer *l, const float *const *x, const float *y,
                          const float *dy, float *const *dx, const struct sn_ctx *c)
{
    const struct conv *k = (const struct conv *)l;
    const struct sn_conv_geom *g = &k->g;
    const int OC = k->OC, nbmax = chunk_of(k, c->B);
    const size_t L = (size_t)g->OH * g->OW, CKK = (size_t)g->C * g->K * g->K;
    const size_t in_len = (size_t)g->C * g->H * g->W, out_len = (size_t)OC * L;
    struct sn_param *pw = &l->params[0], *pb = &l->params[1];
    float *cols = c->ws, *dcols = cols + CKK * (size_t)nbmax * L;
    float *dYt = dcols + CKK * (size_t)nbmax * L, *dz = dYt + (size_t)OC * nbmax * L;
    for (int b0 = 0; b0 < c->B; b0 += nbmax) {
        int nb = c->B - b0 < nbmax ? c->B - b0 : nbmax;
        size_t ld = (size_t)nb * L;
        const float *yc = y + (size_t)b0 * out_len, *dyc = dy + (size_t)b0 * out_len;
        if (k->act == SN_ACT_SOFTMAX)
            sn_act_backward(k->act, yc, dyc, dz, (size_t)nb * OC * g->OH, (size_t)g->OW);
        else
            sn_act_backward(k->act, yc, dyc, dz, 1, (size_t)nb * out_len);
#pragma omp parallel for schedule(static) if (OC > 1)
        for (int oc = 0; oc < OC; oc++)
            for (int b = 0; b < nb; b++)
                memcpy(dYt + (size_t)oc * ld + (size_t)b * L, dz + (size_t)b * out_len + oc * L,
                       L * sizeof *dYt);
        if (pb->trainable) {
#pragma omp parallel for schedule(static) if (OC > 1)
            for (int oc = 0; oc < OC; oc++) {
                float s = 0.0f;
                for (size_t i = 0; i < ld; i++)
                    s += dYt[(size_t)oc * ld + i];
                pb->dw[oc] += s;
            }
        }
        if (pw->trainable || dx[0])
            sn_im2col(g, x[0] + (size_t)b0 * in_len, nb, cols);
        if (pw->trainable)
            sn_sgemm(false, true, OC, (int)CKK, (int)ld, 1.0f, dYt, (int)ld, cols, (int)ld, 1.0f,
                     pw->dw, (int)CKK);
        if (dx[0]) {
            sn_sgemm(true, false, (int)CKK, (int)ld, OC, 1.0f, pw->w, (int)CKK, dYt, (int)ld,
                     0.0f, dcols, (int)ld);
            sn_col2im(g, dcols, nb, dx[0] + (size_t)b0 * in_len);
        }
    }
}

/* W cols: 2 OC CKK L; bias and activation: 2 OC L. */
static double conv_flops(const struct sn_layer *l)
{
    const struct conv *k = (const struct conv *)l;
    double L = (double)k->g.OH * k->g.OW;
    return 2.0 * k->OC * k->g.C * k->g.K * k->g.K * L + 2.0 * k->OC * L;
}

static const struct sn_layer_ops conv_ops = {
    .kind = "conv",
    .flops = conv_flops,
    .workspace_len = conv_workspace_len,
    .forward = conv_forward,
    .backward = conv_backward,
};

int sn_conv_create(const char *name, struct sn_shape in, int filters, int size, int stride,
                   int pad, enum sn_act act, enum sn_init init, struct sn_layer **out)
{
    char s[64];
    if (in.ndim != 3)
        return sn_fail(SN_ESHAPE, "conv: needs a (C,H,W) input, got %s", sn_shape_str(&in, s, sizeof s));
    if (filters < 1 || size < 1 || stride < 1 || pad < 0)
        return sn_fail(SN_ESHAPE, "conv: filters, size and stride must be >= 1 and pad >= 0");
    int H = in.d[1], W = in.d[2];
    if (size > H + 2 * pad || size > W + 2 * pad)
        return sn_fail(SN_ESHAPE, "conv: a %dx%d kernel does not fit the %dx%d input with pad %d",
                       size, size, H, W, pad);
    struct conv *k = calloc(1, sizeof *k);
    if (!k)
        return sn_fail(SN_ENOMEM, "conv: out of memory");
    sn_layer_base_init(&k->base, &conv_ops, name, in);
    k->g = (struct sn_conv_geom){ .C = in.d[0], .H = H, .W = W, .K = size, .S = stride, .P = pad,
                                  .OH = (H + 2 * pad - size) / stride + 1,
                                  .OW = (W + 2 * pad - size) / stride + 1 };
    k->OC = filters;
    k->act = act;
    k->base.out_shape = sn_shape_make(filters, k->g.OH, k->g.OW, 0);
    int fan_in = in.d[0] * size * size, fan_out = filters * size * size;
    sn_layer_add_param(&k->base, "weight", sn_shape_make(filters, in.d[0], size, size), init,
                       fan_in, fan_out);
    sn_layer_add_param(&k->base, "bias", sn_shape_make(filters, 0, 0, 0),
                       init == SN_INIT_FANIN_UNIFORM ? SN_INIT_FANIN_UNIFORM : SN_INIT_ZERO,
                       fan_in, fan_out);
    *out = &k->base;
    return SN_OK;
}
