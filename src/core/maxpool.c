/* maxpool: max over K x K windows (see maxpool.h).  Parallel over the B*C
 * planes: each plane owns its outputs, indices and dx. */
#include "core/maxpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/tensor.h"

struct maxpool {
    struct sn_layer base;   /* first */
    int C, H, W, K, S, OH, OW;
    int32_t *argmax;        /* max_batch * C*OH*OW, index in the input plane */
};

static int maxpool_reserve(struct sn_layer *l, int max_batch)
{
    struct maxpool *p = (struct maxpool *)l;
    p->argmax = sn_alloc_bytes((size_t)max_batch * p->C * p->OH * p->OW * sizeof(int32_t));
    return p->argmax ? SN_OK : sn_fail(SN_ENOMEM, "%s: out of memory", l->name);
}

/* The argmax of each output: one int32 per output value. */
static size_t maxpool_kept_len(const struct sn_layer *l)
{
    return sn_shape_len(&l->out_shape);
}

/* The common 2x2 window with stride 2, one output row: the same choices
 * as the general loop (first of equal values wins), written without
 * branches so it vectorises. */
static void max2x2_row(const float *restrict r0, const float *restrict r1, int OW, int at,
                       int W, float *restrict y, int32_t *restrict idx)
{
    for (int ow = 0; ow < OW; ow++) {
        float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
        int32_t i = at + 2 * ow;
        float m = a;
        int32_t k = i;
        k = b > m ? i + 1 : k;
        m = b > m ? b : m;
        k = c > m ? i + W : k;
        m = c > m ? c : m;
        k = d > m ? i + W + 1 : k;
        m = d > m ? d : m;
        y[ow] = m;
        idx[ow] = k;
    }
}

static void maxpool_forward(struct sn_layer *l, const float *const *x, float *y,
                            const struct sn_ctx *c)
{
    struct maxpool *p = (struct maxpool *)l;
    const int planes = c->B * p->C;
    const size_t in_plane = (size_t)p->H * p->W, out_plane = (size_t)p->OH * p->OW;
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        const float *xp = x[0] + (size_t)pl * in_plane;
        float *yp = y + (size_t)pl * out_plane;
        int32_t *ap = p->argmax + (size_t)pl * out_plane;
        if (p->K == 2 && p->S == 2) {
            for (int oh = 0; oh < p->OH; oh++)
                max2x2_row(xp + (size_t)2 * oh * p->W, xp + (size_t)(2 * oh + 1) * p->W, p->OW,
                           2 * oh * p->W, p->W, yp + (size_t)oh * p->OW, ap + (size_t)oh * p->OW);
            continue;
        }
        for (int oh = 0; oh < p->OH; oh++)
            for (int ow = 0; ow < p->OW; ow++) {
                int best = oh * p->S * p->W + ow * p->S;
                for (int i = 0; i < p->K; i++)
                    for (int j = 0; j < p->K; j++) {
                        int at = (oh * p->S + i) * p->W + ow * p->S + j;
                        if (xp[at] > xp[best])
                            best = at;
                    }
                yp[oh * p->OW + ow] = xp[best];
                ap[oh * p->OW + ow] = best;
            }
    }
}

static void maxpool_backward(struct sn_layer *l, const float *const *x, const float *y,
                             const float *dy, float *const *dx, const struct sn_ctx *c)
{
    struct maxpool *p = (struct maxpool *)l;
    if (!dx[0])
        return;
    const int planes = c->B * p->C;
    const size_t in_plane = (size_t)p->H * p->W, out_plane = (size_t)p->OH * p->OW;
    const bool store = c->fresh & 1u;   /* dx[0] holds nothing yet */
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        float *dxp = dx[0] + (size_t)pl * in_plane;
        const float *dyp = dy + (size_t)pl * out_plane;
        const int32_t *ap = p->argmax + (size_t)pl * out_plane;
        if (store)   /* zero the plane here, while it is in cache, not in a pass of its own */
            memset(dxp, 0, in_plane * sizeof *dxp);
        for (size_t o = 0; o < out_plane; o++)
            dxp[ap[o]] += dyp[o];
    }
}

static void maxpool_destroy(struct sn_layer *l)
{
    sn_free(((struct maxpool *)l)->argmax);
}

/* K*K reads per output. */
static double maxpool_flops(const struct sn_layer *l)
{
    const struct maxpool *p = (const struct maxpool *)l;
    return (double)p->C * p->OH * p->OW * p->K * p->K;
}

static void maxpool_attrs(const struct sn_layer *l, struct sn_layer_attrs *a)
{
    const struct maxpool *p = (const struct maxpool *)l;
    a->size = p->K;
    a->stride = p->S;
}

static const struct sn_layer_ops maxpool_ops = {
    .kind = "maxpool",
    .attrs = maxpool_attrs,
    .flops = maxpool_flops,
    .reserve = maxpool_reserve,
    .kept_len = maxpool_kept_len,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .destroy = maxpool_destroy,
    .overwrites_dx = true,
};

int sn_maxpool_create(const char *name, struct sn_shape in, int size, int stride,
                      struct sn_layer **out)
{
    char s[64];
    if (in.ndim != 3)
        return sn_fail(SN_ESHAPE, "maxpool: needs a (C,H,W) input, got %s", sn_shape_str(&in, s, sizeof s));
    if (size < 1 || stride < 1 || size > in.d[1] || size > in.d[2])
        return sn_fail(SN_ESHAPE, "maxpool: a %dx%d window (stride %d) does not fit the %dx%d input",
                       size, size, stride, in.d[1], in.d[2]);
    struct maxpool *p = calloc(1, sizeof *p);
    if (!p)
        return sn_fail(SN_ENOMEM, "maxpool: out of memory");
    sn_layer_base_init(&p->base, &maxpool_ops, name, in);
    *p = (struct maxpool){ .base = p->base, .C = in.d[0], .H = in.d[1], .W = in.d[2], .K = size,
                           .S = stride, .OH = (in.d[1] - size) / stride + 1,
                           .OW = (in.d[2] - size) / stride + 1 };
    p->base.out_shape = sn_shape_make(p->C, p->OH, p->OW, 0);
    p->base.backward_reads_y = false;   /* argmax is enough */
    *out = &p->base;
    return SN_OK;
}
