/* im2col: unfold and fold image patches (see im2col.h).  Both loops are
 * parallel over examples: each example owns its columns and its dx. */
#include "core/im2col.h"

#include <stddef.h>
#include <string.h>

/* The output columns [lo, hi) whose input column ow*S - P + kj lies
 * inside the image; outside it the taps read zero padding. */
static void valid_cols(const struct sn_conv_geom *g, int kj, int *lo, int *hi)
{
    int off = g->P - kj;   /* iw = ow*S - off */
    int l = off > 0 ? (off + g->S - 1) / g->S : 0;
    int h = (g->W - 1 + off) >= 0 ? (g->W - 1 + off) / g->S + 1 : 0;
    *lo = l < g->OW ? l : g->OW;
    *hi = h < g->OW ? h : g->OW;
    if (*hi < *lo)
        *hi = *lo;
}

void sn_im2col(const struct sn_conv_geom *g, const float *x, int nb, float *cols)
{
    const size_t L = (size_t)g->OH * g->OW, ld = (size_t)nb * L;
    const size_t in_len = (size_t)g->C * g->H * g->W;
#pragma omp parallel for schedule(static) if (nb > 1 && ld * g->K * g->K * g->C > 65536)
    for (int b = 0; b < nb; b++) {
        const float *xb = x + (size_t)b * in_len;
        for (int c = 0; c < g->C; c++)
            for (int ki = 0; ki < g->K; ki++)
                for (int kj = 0; kj < g->K; kj++) {
                    size_t row = ((size_t)c * g->K + ki) * g->K + kj;
                    float *dst = cols + row * ld + (size_t)b * L;
                    int lo, hi;
                    valid_cols(g, kj, &lo, &hi);
                    for (int oh = 0; oh < g->OH; oh++) {
                        float *d = dst + (size_t)oh * g->OW;
                        int ih = oh * g->S - g->P + ki;
                        if (ih < 0 || ih >= g->H) {
                            memset(d, 0, (size_t)g->OW * sizeof *d);
                            continue;
                        }
                        const float *src = xb + ((size_t)c * g->H + ih) * g->W - g->P + kj;
                        for (int ow = 0; ow < lo; ow++)
                            d[ow] = 0.0f;
                        if (g->S == 1)   /* rows are short: a loop beats memcpy's call */
                            for (int ow = lo; ow < hi; ow++)
                                d[ow] = src[ow];
                        else
                            for (int ow = lo; ow < hi; ow++)
                                d[ow] = src[(ptrdiff_t)ow * g->S];
                        for (int ow = hi; ow < g->OW; ow++)
                            d[ow] = 0.0f;
                    }
                }
    }
}

void sn_col2im(const struct sn_conv_geom *g, const float *dcols, int nb, float *dx)
{
    const size_t L = (size_t)g->OH * g->OW, ld = (size_t)nb * L;
    const size_t in_len = (size_t)g->C * g->H * g->W;
#pragma omp parallel for schedule(static) if (nb > 1 && ld * g->K * g->K * g->C > 65536)
    for (int b = 0; b < nb; b++) {
        float *dxb = dx + (size_t)b * in_len;
        for (int c = 0; c < g->C; c++)
            for (int ki = 0; ki < g->K; ki++)
                for (int kj = 0; kj < g->K; kj++) {
                    size_t row = ((size_t)c * g->K + ki) * g->K + kj;
                    const float *src = dcols + row * ld + (size_t)b * L;
                    int lo, hi;
                    valid_cols(g, kj, &lo, &hi);
                    for (int oh = 0; oh < g->OH; oh++) {
                        int ih = oh * g->S - g->P + ki;
                        if (ih < 0 || ih >= g->H)
                            continue;
                        float *d = dxb + ((size_t)c * g->H + ih) * g->W - g->P + kj;
                        const float *sr = src + (size_t)oh * g->OW;
                        for (int ow = lo; ow < hi; ow++)
                            d[(ptrdiff_t)ow * g->S] += sr[ow];
                    }
                }
    }
}
