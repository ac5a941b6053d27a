/* avgpool: mean over K x K windows (see avgpool.h).  Parallel over the B*C
 * planes. */
#include "core/avgpool.h"

#include <stdlib.h>

#include "core/status.h"

struct avgpool {
    struct sn_layer base;   /* first */
    int C, H, W, K, S, OH, OW;
};

static void avgpool_forward(struct sn_layer *l, const float *const *x, float *y,
                            const struct sn_ctx *c)
{
    const struct avgpool *p = (const struct avgpool *)l;
    const int planes = c->B * p->C;
    const size_t in_plane = (size_t)p->H * p->W, out_plane = (size_t)p->OH * p->OW;
    const float inv = 1.0f / (float)(p->K * p->K);
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        const float *xp = x[0] + (size_t)pl * in_plane;
        float *yp = y + (size_t)pl * out_plane;
        for (int oh = 0; oh < p->OH; oh++)
            for (int ow = 0; ow < p->OW; ow++) {
                float s = 0.0f;
                for (int i = 0; i < p->K; i++)
                    for (int j = 0; j < p->K; j++)
                        s += xp[(oh * p->S + i) * p->W + ow * p->S + j];
                yp[oh * p->OW + ow] = s * inv;
            }
    }
}

static void avgpool_backward(struct sn_layer *l, const float *const *x, const float *y,
                             const float *dy, float *const *dx, const struct sn_ctx *c)
{
    const struct avgpool *p = (const struct avgpool *)l;
    if (!dx[0])
        return;
    const int planes = c->B * p->C;
    const size_t in_plane = (size_t)p->H * p->W, out_plane = (size_t)p->OH * p->OW;
    const float inv = 1.0f / (float)(p->K * p->K);
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        float *dxp = dx[0] + (size_t)pl * in_plane;
        const float *dyp = dy + (size_t)pl * out_plane;
        for (int oh = 0; oh < p->OH; oh++)
            for (int ow = 0; ow < p->OW; ow++) {
                float g = dyp[oh * p->OW + ow] * inv;
                for (int i = 0; i < p->K; i++)
                    for (int j = 0; j < p->K; j++)
                        dxp[(oh * p->S + i) * p->W + ow * p->S + j] += g;
            }
    }
}

/* K*K reads per output. */
static double avgpool_flops(const struct sn_layer *l)
{
    const struct avgpool *p = (const struct avgpool *)l;
    return (double)p->C * p->OH * p->OW * p->K * p->K;
}

static void avgpool_attrs(const struct sn_layer *l, struct sn_layer_attrs *a)
{
    const struct avgpool *p = (const struct avgpool *)l;
    a->size = p->K;
    a->stride = p->S;
}

static const struct sn_layer_ops avgpool_ops = {
    .kind = "avgpool",
    .attrs = avgpool_attrs,
    .flops = avgpool_flops,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};

int sn_avgpool_create(const char *name, struct sn_shape in, int size, int stride,
                      struct sn_layer **out)
{
    char s[64];
    if (in.ndim != 3)
        return sn_fail(SN_ESHAPE, "avgpool: needs a (C,H,W) input, got %s", sn_shape_str(&in, s, sizeof s));
    if (size < 1 || stride < 1 || size > in.d[1] || size > in.d[2])
        return sn_fail(SN_ESHAPE, "avgpool: a %dx%d window (stride %d) does not fit the %dx%d input",
                       size, size, stride, in.d[1], in.d[2]);
    struct avgpool *p = calloc(1, sizeof *p);
    if (!p)
        return sn_fail(SN_ENOMEM, "avgpool: out of memory");
    sn_layer_base_init(&p->base, &avgpool_ops, name, in);
    *p = (struct avgpool){ .base = p->base, .C = in.d[0], .H = in.d[1], .W = in.d[2], .K = size,
                           .S = stride, .OH = (in.d[1] - size) / stride + 1,
                           .OW = (in.d[2] - size) / stride + 1 };
    p->base.out_shape = sn_shape_make(p->C, p->OH, p->OW, 0);
    p->base.backward_reads_y = false;
    *out = &p->base;
    return SN_OK;
}
