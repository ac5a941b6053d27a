/* im2col: unfold and fold image patches (see im2col.h).  Both loops are
 * parallel over examples: each example owns its columns and its dx. */
#include "core/im2col.h"

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
                    for (int oh = 0; oh < g->OH; oh++) {
                        int ih = oh * g->S - g->P + ki;
                        for (int ow = 0; ow < g->OW; ow++) {
                            int iw = ow * g->S - g->P + kj;
                            bool in = ih >= 0 && ih < g->H && iw >= 0 && iw < g->W;
                            dst[oh * g->OW + ow] =
                                in ? xb[((size_t)c * g->H + ih) * g->W + iw] : 0.0f;
                        }
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
                    for (int oh = 0; oh < g->OH; oh++) {
                        int ih = oh * g->S - g->P + ki;
                        if (ih < 0 || ih >= g->H)
                            continue;
                        for (int ow = 0; ow < g->OW; ow++) {
                            int iw = ow * g->S - g->P + kj;
                            if (iw >= 0 && iw < g->W)
                                dxb[((size_t)c * g->H + ih) * g->W + iw] += src[oh * g->OW + ow];
                        }
                    }
                }
    }
}
