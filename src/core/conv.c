/* conv: 2-D convolution by im2col and one GEMM per example, the batch
 * spread over the threads.
 *
 * Legend: see conv.h; CKK = C*K*K.  Per example b (each thread owns its
 * columns, its dz and its share of dW and db):
 *
 *   forward   cols = im2col(x_b)                    (CKK, L)
 *             y_b  = act(W (OC, CKK) cols + bias)   (OC, L): already NCHW
 *   backward  dz   = act'(y_b) dy_b                 (OC, L)
 *             dW_t += dz cols^T;  db_t += row sums of dz
 *             dcols = W^T dz;     dx_b += col2im(dcols)
 *   then dW += sum over threads t of dW_t, in thread order.
 * The GEMMs run inside the parallel loop, so OpenBLAS runs each on one
 * thread: small matrices, but no transposes, no copies, and both cores
 * busy for the whole layer instead of waiting at each OpenBLAS call.
 */
#include "core/conv.h"

#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/im2col.h"
#include "core/parallel.h"
#include "core/status.h"

struct conv {
    struct sn_layer base;   /* first */
    struct sn_conv_geom g;
    int OC;
    enum sn_act act;
    int nt;                 /* threads the workspace has room for */
};

static int conv_reserve(struct sn_layer *l, int max_batch)
{
    struct conv *k = (struct conv *)l;
    int nt = sn_parallel_threads();
    k->nt = nt < max_batch ? nt : max_batch;
    if (k->nt < 1)
        k->nt = 1;
    return SN_OK;
}

/* Floats of one thread's scratch: cols, dcols (CKK x L), dz (OC x L),
 * dW (OC x CKK), db (OC). */
static size_t per_thread(const struct conv *k)
{
    size_t L = (size_t)k->g.OH * k->g.OW, ckk = (size_t)k->g.C * k->g.K * k->g.K;
    return 2 * ckk * L + (size_t)k->OC * (L + ckk + 1);
}

static size_t conv_workspace_len(const struct sn_layer *l, int B)
{
    const struct conv *k = (const struct conv *)l;
    return (size_t)k->nt * per_thread(k);
}

static void conv_forward(struct sn_layer *l, const float *const *x, float *y,
                         const struct sn_ctx *c)
{
    const struct conv *k = (const struct conv *)l;
    const struct sn_conv_geom *g = &k->g;
    const int OC = k->OC;
    const size_t L = (size_t)g->OH * g->OW, CKK = (size_t)g->C * g->K * g->K;
    const size_t in_len = (size_t)g->C * g->H * g->W, out_len = (size_t)OC * L;
    const float *w = l->params[0].w, *bias = l->params[1].w;
#pragma omp parallel for schedule(static) num_threads(k->nt)
    for (int b = 0; b < c->B; b++) {
        float *cols = c->ws + (size_t)sn_parallel_thread_id() * per_thread(k);
        float *yb = y + (size_t)b * out_len;
        sn_im2col(g, x[0] + (size_t)b * in_len, 1, cols);
        /* bias first, then accumulate W cols onto it: the bias pass is free */
        for (int oc = 0; oc < OC; oc++)
            for (size_t i = 0; i < L; i++)
                yb[(size_t)oc * L + i] = bias[oc];
        sn_sgemm(false, false, OC, (int)L, (int)CKK, 1.0f, w, (int)CKK, cols, (int)L, 1.0f, yb,
                 (int)L);
        if (k->act == SN_ACT_SOFTMAX)   /* over the last dimension, like [activation] */
            sn_act_forward(k->act, yb, yb, (size_t)OC * g->OH, (size_t)g->OW);
        else
            sn_act_forward(k->act, yb, yb, 1, out_len);
    }
}

static void conv_backward(struct sn_layer *l, const float *const *x, const float *y,
                          const float *dy, float *const *dx, const struct sn_ctx *c)
{
    const struct conv *k = (const struct conv *)l;
    const struct sn_conv_geom *g = &k->g;
    const int OC = k->OC, nt = k->nt;
    const size_t L = (size_t)g->OH * g->OW, CKK = (size_t)g->C * g->K * g->K;
    const size_t in_len = (size_t)g->C * g->H * g->W, out_len = (size_t)OC * L;
    const size_t per = per_thread(k);
    struct sn_param *pw = &l->params[0], *pb = &l->params[1];
    /* every thread's dW_t and db_t start at zero, used or not */
    for (int t = 0; t < nt; t++)
        memset(c->ws + (size_t)t * per + 2 * CKK * L + (size_t)OC * L, 0,
               (size_t)OC * (CKK + 1) * sizeof(float));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int b = 0; b < c->B; b++) {
        float *cols = c->ws + (size_t)sn_parallel_thread_id() * per;
        float *dcols = cols + CKK * L, *dzbuf = dcols + CKK * L;
        float *dw = dzbuf + (size_t)OC * L, *db = dw + (size_t)OC * CKK;
        const float *yb = y + (size_t)b * out_len, *dyb = dy + (size_t)b * out_len;
        const float *dz = dzbuf;
        if (k->act == SN_ACT_LINEAR)   /* dz = dy: use it where it is */
            dz = dyb;
        else if (k->act == SN_ACT_SOFTMAX)
            sn_act_backward(k->act, yb, dyb, dzbuf, (size_t)OC * g->OH, (size_t)g->OW);
        else
            sn_act_backward(k->act, yb, dyb, dzbuf, 1, out_len);
        if (pb->trainable)
            for (int oc = 0; oc < OC; oc++) {
                float s = 0.0f;
                for (size_t i = 0; i < L; i++)
                    s += dz[(size_t)oc * L + i];
                db[oc] += s;
            }
        if (pw->trainable) {
            sn_im2col(g, x[0] + (size_t)b * in_len, 1, cols);
            sn_sgemm(false, true, OC, (int)CKK, (int)L, 1.0f, dz, (int)L, cols, (int)L, 1.0f, dw,
                     (int)CKK);
        }
        if (dx[0]) {
            sn_sgemm(true, false, (int)CKK, (int)L, OC, 1.0f, pw->w, (int)CKK, dz, (int)L, 0.0f,
                     dcols, (int)L);
            sn_col2im(g, dcols, 1, dx[0] + (size_t)b * in_len);
        }
        sn_ctx_poll(c);   /* let a gradient allreduce started earlier move on */
    }
    /* the threads' shares, summed in thread order: the same bits every run */
    const size_t nw = (size_t)OC * (CKK + 1);
    const float *share0 = c->ws + 2 * CKK * L + (size_t)OC * L;
#pragma omp parallel for schedule(static) if (nw > 4096)
    for (size_t i = 0; i < nw; i++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++)
            s += share0[(size_t)t * per + i];
        if (i < (size_t)OC * CKK) {
            if (pw->trainable)
                pw->dw[i] += s;
        } else if (pb->trainable) {
            pb->dw[i - (size_t)OC * CKK] += s;
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
    .reserve = conv_reserve,
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
    k->base.backward_reads_y = act != SN_ACT_LINEAR;
    *out = &k->base;
    return SN_OK;
}
