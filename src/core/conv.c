/* conv: 2-D convolution, the batch spread over the threads, by one of
 * these algorithms:
 *  - im2col and one GEMM per example (any kernel, stride and padding);
 *  - Winograd F(m x m, 3x3) for 3x3 kernels with stride 1 (winograd.h):
 *    (m + 2)^2 GEMMs per group of examples, doing 16 multiplications where
 *    direct convolution does 36 (m = 2) or 36 where it does 144 (m = 4);
 *    these small GEMMs by gemm_small.h (2-3x OpenBLAS's speed on 16
 *    channels);
 *  - direct, stride 1, for few input channels (conv_direct.h).
 * AUTO picks F(4x4, 3x3), direct or im2col by the shape (sn_conv_set_algo).
 *
 * The im2col path.  Legend: see conv.h; CKK = C*K*K.  Per example b (each
 * thread owns its columns, its dz and its share of dW and db):
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
#include "core/conv_direct.h"
#include "core/gemm_small.h"
#include "core/im2col.h"
#include "core/parallel.h"
#include "core/checked.h"
#include "core/status.h"
#include "core/winograd.h"

/* Winograd groups examples until a group has this many tiles, so its
 * GEMMs are wide enough while the group's transformed tiles still sit in
 * the cache (64, 128, 256 and 512 measured within noise of each other on
 * the cnn; -D to experiment). */
#ifndef WINO_TILES
#define WINO_TILES 64
#endif
/* SN_CONV_AUTO runs stride-1 layers with at most DIRECT_MAX_C channels in
 * direct, and 3x3 stride-1 layers with more in and at least WINO_MIN_C out
 * as F(4x4, 3x3) (build/bench/conv_algos: direct fastest from 1 to 8
 * channels in, 1.2x to 2.8x faster than im2col; F(4x4) from 16, 1.45x to
 * 2.2x; F(4x4) slower than im2col with 1 channel in, even with 3). */
#ifndef DIRECT_MAX_C
#define DIRECT_MAX_C 8
#endif
#ifndef WINO_MIN_C
#define WINO_MIN_C 8
#endif

struct conv {
    struct sn_layer base;   /* first */
    struct sn_conv_geom g;
    int OC;
    enum sn_act act;
    enum sn_conv_algo algo; /* never SN_CONV_AUTO after create */
    const struct sn_wino *wino; /* the Winograd variant, or NULL for im2col */
    int nt;                 /* threads the workspace has room for */
    int nb;                 /* winograd: examples per group at most */
    float *z;               /* max_batch outputs before the activation, kept for
                             * its backward when it needs them (GELU); owned */
};

/* The threads the workspace has room for (*nt) and the examples of a
 * Winograd group (*nb), for batches of up to max_batch. */
static void conv_plan(const struct conv *k, int max_batch, int *nt, int *nb)
{
    int n = sn_parallel_threads();
    n = n < max_batch ? n : max_batch;
    n = n < 1 ? 1 : n;
    size_t T = k->wino ? sn_wino_tiles(&k->g, k->wino->m) : 1;
    int per = (max_batch + n - 1) / n, b = (int)((WINO_TILES + T - 1) / T);
    b = b > per ? per : b;
    *nt = n;
    *nb = b < 1 ? 1 : b;
}

static int conv_reserve(struct sn_layer *l, int max_batch)
{
    struct conv *k = (struct conv *)l;
    conv_plan(k, max_batch, &k->nt, &k->nb);
    if (sn_act_needs_x(k->act) &&
        !(k->z = sn_alloc_f32((size_t)max_batch * k->OC * k->g.OH * k->g.OW)))
        return sn_fail(SN_ENOMEM, "%s: out of memory", l->name);
    return SN_OK;
}

static size_t conv_kept_len(const struct sn_layer *l)
{
    const struct conv *k = (const struct conv *)l;
    return sn_act_needs_x(k->act) ? sn_shape_len(&l->out_shape) : 0;   /* z */
}

/* im2col and direct: one thread's scratch is the algorithm's buffers
 * (im2col: cols and dcols, CKK x L each; direct: xpad, the output or its
 * gradient on the padded grid, dxpad, dW by lane), then dz (OC x L), dW
 * (OC x CKK) and db (OC). */
static size_t algo_len(const struct conv *k)
{
    const struct sn_conv_geom *g = &k->g;
    if (k->algo == SN_CONV_DIRECT)
        return sn_direct_xlen(g) + sn_direct_dzlen(g, k->OC) + sn_direct_dxlen(g) +
               sn_direct_dwlen(g, k->OC);
    return 2 * (size_t)g->C * g->K * g->K * g->OH * g->OW;
}

static size_t per_thread(const struct conv *k)
{
    size_t L = (size_t)k->g.OH * k->g.OW, ckk = (size_t)k->g.C * k->g.K * k->g.K;
    return algo_len(k) + (size_t)k->OC * (L + ckk + 1);
}

/* One thread's scratch, carved from its part of the workspace: a is the
 * algorithm's buffers (for direct, split by direct_ws below). */
struct thread_ws {
    float *a, *dz, *dw, *db;
};

/* The direct algorithm's buffers in a thread's a: the padded input, the
 * output or its gradient on the padded grid (zp), dxpad, dW by lane. */
struct direct_ws {
    float *xpad, *zp, *dxpad, *dwl;
};

static struct direct_ws direct_ws(const struct conv *k, float *a)
{
    const struct sn_conv_geom *g = &k->g;
    struct direct_ws d;
    d.xpad = a;
    d.zp = d.xpad + sn_direct_xlen(g);
    d.dxpad = d.zp + sn_direct_dzlen(g, k->OC);
    d.dwl = d.dxpad + sn_direct_dxlen(g);
    return d;
}

static struct thread_ws thread_ws(const struct conv *k, float *ws, int t)
{
    size_t L = (size_t)k->g.OH * k->g.OW, ckk = (size_t)k->g.C * k->g.K * k->g.K;
    struct thread_ws w;
    w.a = ws + (size_t)t * per_thread(k);
    w.dz = w.a + algo_len(k);
    w.dw = w.dz + (size_t)k->OC * L;
    w.db = w.dw + (size_t)k->OC * ckk;
    return w;
}

/* Winograd: floats of one thread's scratch: V (P, C, N), M or dM (P, OC,
 * N), dz (nb, OC, L), dU (P, OC, C), db (OC); P positions per tile, N = nb
 * * tiles.  Before the threads' parts comes the shared U (P, OC, C). */
static size_t wino_per_thread(const struct conv *k)
{
    const size_t P = (size_t)k->wino->npos, L = (size_t)k->g.OH * k->g.OW;
    size_t N = (size_t)k->nb * sn_wino_tiles(&k->g, k->wino->m);
    return P * (sn_wino_ld(k->g.C, N) + sn_wino_ld(k->OC, N)) + (size_t)k->nb * k->OC * L +
           P * k->OC * k->g.C + (size_t)k->OC;
}

/* One thread's Winograd scratch, carved from its part of the workspace. */
struct wino_ws {
    float *V, *M, *dz, *dU, *db;
};

static struct wino_ws wino_ws(const struct conv *k, float *ws, int t)
{
    const size_t P = (size_t)k->wino->npos, UL = P * k->OC * k->g.C;
    size_t Nmax = (size_t)k->nb * sn_wino_tiles(&k->g, k->wino->m);
    struct wino_ws w;
    w.V = ws + UL + (size_t)t * wino_per_thread(k);
    w.M = w.V + P * sn_wino_ld(k->g.C, Nmax);
    w.dz = w.M + P * sn_wino_ld(k->OC, Nmax);
    w.dU = w.dz + (size_t)k->nb * k->OC * k->g.OH * k->g.OW;
    w.db = w.dU + UL;
    return w;
}

static size_t conv_workspace_len(const struct sn_layer *l, int B)
{
    const struct conv *k = (const struct conv *)l;
    struct conv planned;
    if (k->nt < 1) {   /* not reserved yet: what reserving for B would make it */
        planned = *k;
        conv_plan(k, B, &planned.nt, &planned.nb);
        k = &planned;
    }
    if (k->wino)
        return (size_t)k->wino->npos * k->OC * k->g.C + (size_t)k->nt * wino_per_thread(k);
    return (size_t)k->nt * per_thread(k);
}

/* y = act(y) for the n examples from example b0 on, in place (softmax
 * over the last dimension, like [activation]); first a copy of y to z when
 * the activation's backward needs it. */
static void conv_act_forward(const struct conv *k, float *y, int b0, int n)
{
    const size_t out_len = (size_t)k->OC * k->g.OH * k->g.OW, len = (size_t)n * out_len;
    const size_t row = k->act == SN_ACT_SOFTMAX ? (size_t)k->g.OW : len;
    if (k->z)
        memcpy(k->z + (size_t)b0 * out_len, y, len * sizeof *y);
    for (size_t o = 0; o < len; o += row)
        sn_act_forward_seq(k->act, y + o, y + o, row);
}

/* dz = act'(z) dy for the n examples from example b0 on (y, dy point at
 * b0's), into buf; for a linear activation dz is dy itself, used where it
 * is. */
static const float *conv_dz(const struct conv *k, const float *y, const float *dy, int b0, int n,
                            float *buf)
{
    if (k->act == SN_ACT_LINEAR)
        return dy;
    const size_t out_len = (size_t)k->OC * k->g.OH * k->g.OW, len = (size_t)n * out_len;
    const size_t row = k->act == SN_ACT_SOFTMAX ? (size_t)k->g.OW : len;
    const float *z = k->z ? k->z + (size_t)b0 * out_len : NULL;
    for (size_t o = 0; o < len; o += row)
        sn_act_backward_seq(k->act, z ? z + o : NULL, y + o, dy + o, buf + o, row);
    return buf;
}

/* db[oc] += the sum of dz over each of n examples' (OC, L) planes. */
static void add_bias_grad(const float *dz, int n, int OC, size_t L, float *db)
{
    for (int b = 0; b < n; b++)
        for (int oc = 0; oc < OC; oc++) {
            const float *d = dz + ((size_t)b * OC + oc) * L;
            float s = 0.0f;
            for (size_t j = 0; j < L; j++)
                s += d[j];
            db[oc] += s;
        }
}

/* Winograd groups of one call of B examples: at least one per thread, at
 * most nb examples each; group i holds examples [i B / n, (i+1) B / n). */
static int wino_groups(const struct conv *k, int B)
{
    int n = (B + k->nb - 1) / k->nb;
    if (B >= k->nt)
        n = (n + k->nt - 1) / k->nt * k->nt;
    return n;
}

static void wino_forward(const struct conv *k, const float *x, const float *w,
                         const float *bias, float *y, const struct sn_ctx *c)
{
    const struct sn_conv_geom *g = &k->g;
    const struct sn_wino *wi = k->wino;
    const int OC = k->OC, C = g->C, ng = wino_groups(k, c->B);
    const size_t in_len = (size_t)C * g->H * g->W, out_len = (size_t)OC * g->OH * g->OW;
    const size_t T = sn_wino_tiles(g, wi->m);
    float *U = c->ws;
    wi->filter(w, OC, C, U);
#pragma omp parallel for schedule(static) num_threads(k->nt)
    for (int i = 0; i < ng; i++) {
        const int b0 = (int)((long)i * c->B / ng), n = (int)((long)(i + 1) * c->B / ng) - b0;
        if (n == 0)
            continue;
        const size_t N = (size_t)n * T;
        struct wino_ws t = wino_ws(k, c->ws, sn_parallel_thread_id());
        float *V = t.V, *M = t.M, *yb = y + (size_t)b0 * out_len;
        wi->input(g, x + (size_t)b0 * in_len, n, V);
        const size_t ldV = sn_wino_ld(C, N), ldM = sn_wino_ld(OC, N);
        for (int xi = 0; xi < wi->npos; xi++)   /* M = U V */
            sn_gemm_small(OC, (int)N, C, U + (size_t)xi * OC * C, C, 1, V + xi * ldV, N,
                          M + xi * ldM, N);
        wi->output(g, OC, M, bias, n, yb);
        conv_act_forward(k, yb, b0, n);
    }
}

static void wino_backward(const struct conv *k, const float *x, const float *y,
                          const float *dy, float *dx, struct sn_param *pw,
                          struct sn_param *pb, const struct sn_ctx *c)
{
    const struct sn_conv_geom *g = &k->g;
    const struct sn_wino *wi = k->wino;
    const int OC = k->OC, C = g->C, nt = k->nt, ng = wino_groups(k, c->B);
    const size_t L = (size_t)g->OH * g->OW, in_len = (size_t)C * g->H * g->W;
    const size_t out_len = (size_t)OC * L, T = sn_wino_tiles(g, wi->m);
    const size_t UL = (size_t)wi->npos * OC * C, per = wino_per_thread(k);
    float *U = c->ws;
    if (dx)
        wi->filter(pw->w, OC, C, U);
    for (int t = 0; t < nt; t++)   /* every thread's dU_t and db_t start at zero */
        memset(wino_ws(k, c->ws, t).dU, 0, (UL + OC) * sizeof(float));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int i = 0; i < ng; i++) {
        const int b0 = (int)((long)i * c->B / ng), n = (int)((long)(i + 1) * c->B / ng) - b0;
        if (n == 0)
            continue;
        const size_t N = (size_t)n * T, ldV = sn_wino_ld(C, N), ldM = sn_wino_ld(OC, N);
        struct wino_ws t = wino_ws(k, c->ws, sn_parallel_thread_id());
        float *V = t.V, *dM = t.M, *dzbuf = t.dz, *dU = t.dU, *db = t.db;
        const float *dz = conv_dz(k, y + (size_t)b0 * out_len, dy + (size_t)b0 * out_len, b0,
                                  n, dzbuf);
        if (pb->trainable)
            add_bias_grad(dz, n, OC, L, db);
        wi->output_grad(g, OC, dz, n, dM);
        if (pw->trainable) {
            wi->input(g, x + (size_t)b0 * in_len, n, V);
            for (int xi = 0; xi < wi->npos; xi++)   /* dU += dM V^T */
                sn_gemm_small_nt(OC, C, (int)N, dM + xi * ldM, N, V + xi * ldV, N,
                                 dU + (size_t)xi * OC * C, (size_t)C);
        }
        if (dx) {
            for (int xi = 0; xi < wi->npos; xi++)   /* dV = U^T dM, over V */
                sn_gemm_small(C, (int)N, OC, U + (size_t)xi * OC * C, 1, C, dM + xi * ldM, N,
                              V + xi * ldV, N);
            wi->input_grad(g, V, n, dx + (size_t)b0 * in_len);
        }
        sn_ctx_poll(c);
    }
    /* the threads' shares, summed in thread order into thread 0's */
    float *dU0 = wino_ws(k, c->ws, 0).dU;
#pragma omp parallel for schedule(static) if (UL > 4096)
    for (size_t j = 0; j < UL + OC; j++) {
        float s = dU0[j];
        for (int t = 1; t < nt; t++)
            s += dU0[(size_t)t * per + j];
        dU0[j] = s;
    }
    if (pw->trainable)
        wi->filter_grad(dU0, OC, C, pw->dw);
    if (pb->trainable)
        for (int oc = 0; oc < OC; oc++)
            pb->dw[oc] += dU0[UL + oc];
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
    if (k->wino) {
        wino_forward(k, x[0], w, bias, y, c);
        return;
    }
    const bool direct = k->algo == SN_CONV_DIRECT;
#pragma omp parallel for schedule(static) num_threads(k->nt)
    for (int b = 0; b < c->B; b++) {
        struct thread_ws t = thread_ws(k, c->ws, sn_parallel_thread_id());
        const float *xb = x[0] + (size_t)b * in_len;
        float *yb = y + (size_t)b * out_len;
        if (direct) {
            struct direct_ws d = direct_ws(k, t.a);
            sn_direct_pad(g, xb, d.xpad);
            sn_direct_forward(g, OC, w, bias, d.xpad, d.zp);
            sn_direct_crop(g, OC, d.zp, yb);
        } else {
            float *cols = t.a;
            sn_im2col(g, xb, 1, cols);
            /* bias first, then accumulate W cols onto it: the bias pass is free */
            for (int oc = 0; oc < OC; oc++)
                for (size_t i = 0; i < L; i++)
                    yb[(size_t)oc * L + i] = bias[oc];
            sn_sgemm(false, false, OC, (int)L, (int)CKK, 1.0f, w, (int)CKK, cols, (int)L, 1.0f,
                     yb, (int)L);
        }
        conv_act_forward(k, yb, b, 1);
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
    if (k->wino) {
        wino_backward(k, x[0], y, dy, dx[0], pw, pb, c);
        return;
    }
    const bool direct = k->algo == SN_CONV_DIRECT;
    /* every thread's dW_t and db_t start at zero, used or not */
    for (int t = 0; t < nt; t++) {
        struct thread_ws w = thread_ws(k, c->ws, t);
        memset(w.dw, 0, (size_t)OC * (CKK + 1) * sizeof(float));
        if (direct)
            memset(direct_ws(k, w.a).dwl, 0, sn_direct_dwlen(g, OC) * sizeof(float));
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int b = 0; b < c->B; b++) {
        struct thread_ws t = thread_ws(k, c->ws, sn_parallel_thread_id());
        const float *xb = x[0] + (size_t)b * in_len;
        float *dxb = dx[0] ? dx[0] + (size_t)b * in_len : NULL;
        const float *dz = conv_dz(k, y + (size_t)b * out_len, dy + (size_t)b * out_len, b, 1,
                                  t.dz);
        if (pb->trainable)
            add_bias_grad(dz, 1, OC, L, t.db);
        if (direct) {
            struct direct_ws d = direct_ws(k, t.a);
            sn_direct_spread(g, OC, dz, d.zp);
            if (pw->trainable) {
                sn_direct_pad(g, xb, d.xpad);
                sn_direct_wgrad(g, OC, d.zp, d.xpad, d.dwl);
            }
            if (dxb) {
                sn_direct_xgrad(g, OC, pw->w, d.zp, d.dxpad);
                sn_direct_uncrop(g, d.dxpad, dxb);
            }
        } else {
            float *cols = t.a, *dcols = cols + CKK * L;
            if (pw->trainable) {
                sn_im2col(g, xb, 1, cols);
                sn_sgemm(false, true, OC, (int)CKK, (int)L, 1.0f, dz, (int)L, cols, (int)L,
                         1.0f, t.dw, (int)CKK);
            }
            if (dxb) {
                sn_sgemm(true, false, (int)CKK, (int)L, OC, 1.0f, pw->w, (int)CKK, dz, (int)L,
                         0.0f, dcols, (int)L);
                sn_col2im(g, dcols, 1, dxb);
            }
        }
        sn_ctx_poll(c);   /* let a gradient allreduce started earlier move on */
    }
    if (direct && pw->trainable)   /* each thread's dW by lane into its dW_t */
        for (int t = 0; t < nt; t++) {
            struct thread_ws w = thread_ws(k, c->ws, t);
            sn_direct_wgrad_sum(g, OC, direct_ws(k, w.a).dwl, w.dw);
        }
    /* the threads' shares, summed in thread order: the same bits every run */
    const size_t nw = (size_t)OC * (CKK + 1);
    const float *share0 = thread_ws(k, c->ws, 0).dw;
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

static void conv_attrs(const struct sn_layer *l, struct sn_layer_attrs *a)
{
    const struct conv *k = (const struct conv *)l;
    a->act = (int)k->act;
    a->size = k->g.K;
    a->stride = k->g.S;
    a->pad = k->g.P;
}

static void conv_destroy(struct sn_layer *l)
{
    sn_free(((struct conv *)l)->z);
}

static const struct sn_layer_ops conv_ops = {
    .kind = "conv",
    .attrs = conv_attrs,
    .flops = conv_flops,
    .reserve = conv_reserve,
    .kept_len = conv_kept_len,
    .destroy = conv_destroy,
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
    size_t fan;
    if (!sn_mul3_ok((size_t)in.d[0] > (size_t)filters ? (size_t)in.d[0] : (size_t)filters,
                    (size_t)size, (size_t)size, &fan) || fan > SN_MAX_ELEMS)
        return sn_fail(SN_ESHAPE, "conv: %d filters of %dx%d over %d channels: a kernel holds "
                       "more than %zu values", filters, size, size, in.d[0], SN_MAX_ELEMS);
    if (size > H + 2 * pad || size > W + 2 * pad)
        return sn_fail(SN_ESHAPE, "conv: a %dx%d kernel does not fit the %dx%d input with pad %d",
                       size, size, H, W, pad);
    const int n = in.d[0] * size * size;   /* a patch's length (fan < SN_MAX_ELEMS) */
    if (init == SN_INIT_WHITEN && (filters != n && filters != 2 * n))
        return sn_fail(SN_ESHAPE, "conv: init = whiten makes %d filter%s (%d channel%s x %dx%d: "
                       "one per eigenvector of the windows' covariance) or %d (each with its "
                       "negative), not %d", n, n == 1 ? "" : "s", in.d[0],
                       in.d[0] == 1 ? "" : "s", size, size, 2 * n, filters);
    if (init == SN_INIT_WHITEN && (n > 1024 || size > H || size > W))
        return sn_fail(SN_ESHAPE, "conv: init = whiten needs windows that fit the %dx%d image "
                       "and at most 1024 values in one (%d channels x %dx%d: %d)", H, W, in.d[0],
                       size, size, n);
    struct conv *k = calloc(1, sizeof *k);
    if (!k)
        return sn_fail(SN_ENOMEM, "conv: out of memory");
    sn_layer_base_init(&k->base, &conv_ops, name, in);
    k->g = (struct sn_conv_geom){ .C = in.d[0], .H = H, .W = W, .K = size, .S = stride, .P = pad,
                                  .OH = (H + 2 * pad - size) / stride + 1,
                                  .OW = (W + 2 * pad - size) / stride + 1 };
    k->OC = filters;
    k->act = act;
    k->algo = SN_CONV_IM2COL;
    sn_conv_set_algo(&k->base, SN_CONV_AUTO);
    k->base.out_shape = sn_shape_make(filters, k->g.OH, k->g.OW, 0);
    int fan_in = in.d[0] * size * size, fan_out = filters * size * size;
    struct sn_param *w = sn_layer_add_param(&k->base, "weight",
                                            sn_shape_make(filters, in.d[0], size, size), init,
                                            fan_in, fan_out);
    w->n_dirac = init == SN_INIT_DIRAC ? (filters < in.d[0] ? filters : in.d[0]) : 0;
    w->whiten_images = init == SN_INIT_WHITEN ? 5000 : 0;   /* airbench's */
    w->whiten_eps = init == SN_INIT_WHITEN ? 5e-4f : 0.0f;
    sn_layer_add_param(&k->base, "bias", sn_shape_make(filters, 0, 0, 0),
                       init == SN_INIT_FANIN_UNIFORM ? SN_INIT_FANIN_UNIFORM : SN_INIT_ZERO,
                       fan_in, fan_out);
    k->base.backward_reads_y = act != SN_ACT_LINEAR && !sn_act_needs_x(act);
    *out = &k->base;
    return SN_OK;
}

int sn_conv_set_algo(struct sn_layer *l, enum sn_conv_algo algo)
{
    struct conv *k = (struct conv *)l;
    bool k3s1 = k->g.K == 3 && k->g.S == 1;
    if ((algo == SN_CONV_WINOGRAD || algo == SN_CONV_WINOGRAD4) && !k3s1)
        return sn_fail(SN_ESHAPE, "conv: winograd needs a 3x3 kernel with stride 1");
    if (algo == SN_CONV_WINOGRAD && k->g.OW > SN_WINO_MAX_OW)
        return sn_fail(SN_ESHAPE, "conv: winograd F(2x2, 3x3) takes outputs at most %d wide",
                       SN_WINO_MAX_OW);
    if (algo == SN_CONV_DIRECT && k->g.S != 1)
        return sn_fail(SN_ESHAPE, "conv: the direct algorithm needs stride 1");
    if (algo == SN_CONV_AUTO) {
        if (k->g.S == 1 && k->g.C <= DIRECT_MAX_C)   /* few channels in: thin GEMMs */
            algo = SN_CONV_DIRECT;
        else if (k3s1 && k->OC >= WINO_MIN_C)
            algo = SN_CONV_WINOGRAD4;
        else
            algo = SN_CONV_IM2COL;
    }
    k->algo = algo;
    k->wino = algo == SN_CONV_WINOGRAD ? &sn_wino_f2
            : algo == SN_CONV_WINOGRAD4 ? &sn_wino_f4 : NULL;
    return SN_OK;
}

enum sn_conv_algo sn_conv_algo(const struct sn_layer *l)
{
    return ((const struct conv *)l)->algo;
}
