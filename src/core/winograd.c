/* winograd: the F(2x2, 3x3) transforms (see winograd.h).  Each transform
 * is written out as its additions, first along rows, then along columns;
 * every backward one is the transpose of its forward one.  The functions
 * are serial: the conv layer calls them inside its parallel loop. */
#include "core/winograd.h"

#include <string.h>

size_t sn_wino_tiles(const struct sn_conv_geom *g)
{
    return (size_t)((g->OH + 1) / 2) * (size_t)((g->OW + 1) / 2);
}

size_t sn_wino_ld(int rows, size_t N)
{
    return (size_t)rows * N + 16;
}

void sn_wino_filter(const float *w, int OC, int C, float *U)
{
    const size_t stride = (size_t)OC * C;
    for (size_t kc = 0; kc < stride; kc++) {
        const float *g = w + kc * 9;
        float t[4][3];   /* G g: rows of the 4x3 */
        for (int j = 0; j < 3; j++) {
            t[0][j] = g[j];
            t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
            t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
            t[3][j] = g[6 + j];
        }
        for (int i = 0; i < 4; i++) {   /* (G g) G^T */
            U[(size_t)(4 * i + 0) * stride + kc] = t[i][0];
            U[(size_t)(4 * i + 1) * stride + kc] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
            U[(size_t)(4 * i + 2) * stride + kc] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
            U[(size_t)(4 * i + 3) * stride + kc] = t[i][2];
        }
    }
}

void sn_wino_filter_grad(const float *dU, int OC, int C, float *dw)
{
    const size_t stride = (size_t)OC * C;
    for (size_t kc = 0; kc < stride; kc++) {
        float u[16], t[4][3];
        for (int xi = 0; xi < 16; xi++)
            u[xi] = dU[(size_t)xi * stride + kc];
        for (int i = 0; i < 4; i++) {   /* dU G: rows of the 4x3 */
            const float *r = u + 4 * i;
            t[i][0] = r[0] + 0.5f * (r[1] + r[2]);
            t[i][1] = 0.5f * (r[1] - r[2]);
            t[i][2] = 0.5f * (r[1] + r[2]) + r[3];
        }
        float *g = dw + kc * 9;
        for (int j = 0; j < 3; j++) {   /* G^T (dU G) */
            g[j] += t[0][j] + 0.5f * (t[1][j] + t[2][j]);
            g[3 + j] += 0.5f * (t[1][j] - t[2][j]);
            g[6 + j] += 0.5f * (t[1][j] + t[2][j]) + t[3][j];
        }
    }
}

/* The 4x4 patch whose top-left pixel is (r0, c0) of one channel (H x W);
 * pixels outside the image are 0. */
static void load_patch(const float *xc, int H, int W, int r0, int c0, float d[16])
{
    if (r0 >= 0 && c0 >= 0 && r0 + 4 <= H && c0 + 4 <= W) {
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                d[4 * i + j] = xc[(size_t)(r0 + i) * W + c0 + j];
        return;
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int r = r0 + i, c = c0 + j;
            d[4 * i + j] = (r >= 0 && r < H && c >= 0 && c < W) ? xc[(size_t)r * W + c] : 0.0f;
        }
}

void sn_wino_input(const struct sn_conv_geom *g, const float *x, int nb, float *V)
{
    const int TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2;
    const size_t T = (size_t)TH * TW, N = (size_t)nb * T, plane = (size_t)g->H * g->W;
    const size_t stride = sn_wino_ld(g->C, N);   /* between positions xi */
    for (int b = 0; b < nb; b++)
        for (int c = 0; c < g->C; c++) {
            const float *xc = x + ((size_t)b * g->C + c) * plane;
            float *v = V + (size_t)c * N + (size_t)b * T;
            for (int ty = 0; ty < TH; ty++)
                for (int tx = 0; tx < TW; tx++) {
                    float d[16], t[16];
                    load_patch(xc, g->H, g->W, 2 * ty - g->P, 2 * tx - g->P, d);
                    for (int j = 0; j < 4; j++) {   /* B^T d: rows */
                        t[0 + j] = d[0 + j] - d[8 + j];
                        t[4 + j] = d[4 + j] + d[8 + j];
                        t[8 + j] = d[8 + j] - d[4 + j];
                        t[12 + j] = d[4 + j] - d[12 + j];
                    }
                    float *o = v + (size_t)ty * TW + tx;
                    for (int i = 0; i < 4; i++) {   /* (B^T d) B: columns */
                        const float *r = t + 4 * i;
                        o[(size_t)(4 * i + 0) * stride] = r[0] - r[2];
                        o[(size_t)(4 * i + 1) * stride] = r[1] + r[2];
                        o[(size_t)(4 * i + 2) * stride] = r[2] - r[1];
                        o[(size_t)(4 * i + 3) * stride] = r[1] - r[3];
                    }
                }
        }
}

void sn_wino_input_grad(const struct sn_conv_geom *g, const float *dV, int nb, float *dx)
{
    const int TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2;
    const size_t T = (size_t)TH * TW, N = (size_t)nb * T, plane = (size_t)g->H * g->W;
    const size_t stride = sn_wino_ld(g->C, N);
    for (int b = 0; b < nb; b++)
        for (int c = 0; c < g->C; c++) {
            float *xc = dx + ((size_t)b * g->C + c) * plane;
            const float *v = dV + (size_t)c * N + (size_t)b * T;
            for (int ty = 0; ty < TH; ty++)
                for (int tx = 0; tx < TW; tx++) {
                    const float *s = v + (size_t)ty * TW + tx;
                    float u[16], t[16];
                    for (int xi = 0; xi < 16; xi++)
                        u[xi] = s[(size_t)xi * stride];
                    for (int i = 0; i < 4; i++) {   /* dV B^T: columns */
                        const float *r = u + 4 * i;
                        t[4 * i + 0] = r[0];
                        t[4 * i + 1] = r[1] - r[2] + r[3];
                        t[4 * i + 2] = r[2] - r[0] + r[1];
                        t[4 * i + 3] = -r[3];
                    }
                    float d[16];
                    for (int j = 0; j < 4; j++) {   /* B (dV B^T): rows */
                        d[0 + j] = t[0 + j];
                        d[4 + j] = t[4 + j] - t[8 + j] + t[12 + j];
                        d[8 + j] = t[8 + j] - t[0 + j] + t[4 + j];
                        d[12 + j] = -t[12 + j];
                    }
                    const int r0 = 2 * ty - g->P, c0 = 2 * tx - g->P;
                    for (int i = 0; i < 4; i++) {
                        int r = r0 + i;
                        if (r < 0 || r >= g->H)
                            continue;
                        for (int j = 0; j < 4; j++) {
                            int cc = c0 + j;
                            if (cc >= 0 && cc < g->W)
                                xc[(size_t)r * g->W + cc] += d[4 * i + j];
                        }
                    }
                }
        }
}

void sn_wino_output(const struct sn_conv_geom *g, int OC, const float *M, const float *bias,
                    int nb, float *y)
{
    const int TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2;
    const size_t T = (size_t)TH * TW, N = (size_t)nb * T, L = (size_t)g->OH * g->OW;
    const size_t stride = sn_wino_ld(OC, N);
    for (int b = 0; b < nb; b++)
        for (int k = 0; k < OC; k++) {
            float *yk = y + ((size_t)b * OC + k) * L;
            const float *s = M + (size_t)k * N + (size_t)b * T;
            for (int ty = 0; ty < TH; ty++)
                for (int tx = 0; tx < TW; tx++) {
                    const float *m = s + (size_t)ty * TW + tx;
                    float u[16], t[8];
                    for (int xi = 0; xi < 16; xi++)
                        u[xi] = m[(size_t)xi * stride];
                    for (int j = 0; j < 4; j++) {   /* A^T M: rows */
                        t[j] = u[j] + u[4 + j] + u[8 + j];
                        t[4 + j] = u[4 + j] - u[8 + j] - u[12 + j];
                    }
                    const float o[4] = { t[0] + t[1] + t[2], t[1] - t[2] - t[3],
                                         t[4] + t[5] + t[6], t[5] - t[6] - t[7] };
                    const int r0 = 2 * ty, c0 = 2 * tx;
                    for (int i = 0; i < 2 && r0 + i < g->OH; i++)
                        for (int j = 0; j < 2 && c0 + j < g->OW; j++)
                            yk[(size_t)(r0 + i) * g->OW + c0 + j] = o[2 * i + j] + bias[k];
                }
        }
}

void sn_wino_output_grad(const struct sn_conv_geom *g, int OC, const float *dy, int nb,
                         float *dM)
{
    const int TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2;
    const size_t T = (size_t)TH * TW, N = (size_t)nb * T, L = (size_t)g->OH * g->OW;
    const size_t stride = sn_wino_ld(OC, N);
    for (int b = 0; b < nb; b++)
        for (int k = 0; k < OC; k++) {
            const float *dk = dy + ((size_t)b * OC + k) * L;
            float *s = dM + (size_t)k * N + (size_t)b * T;
            for (int ty = 0; ty < TH; ty++)
                for (int tx = 0; tx < TW; tx++) {
                    float e[4] = { 0, 0, 0, 0 };
                    const int r0 = 2 * ty, c0 = 2 * tx;
                    for (int i = 0; i < 2 && r0 + i < g->OH; i++)
                        for (int j = 0; j < 2 && c0 + j < g->OW; j++)
                            e[2 * i + j] = dk[(size_t)(r0 + i) * g->OW + c0 + j];
                    float t[8];   /* dY A^T: columns, rows of 4 */
                    for (int i = 0; i < 2; i++) {
                        t[4 * i + 0] = e[2 * i];
                        t[4 * i + 1] = e[2 * i] + e[2 * i + 1];
                        t[4 * i + 2] = e[2 * i] - e[2 * i + 1];
                        t[4 * i + 3] = -e[2 * i + 1];
                    }
                    float *m = s + (size_t)ty * TW + tx;
                    for (int j = 0; j < 4; j++) {   /* A (dY A^T): rows */
                        m[(size_t)(0 + j) * stride] = t[j];
                        m[(size_t)(4 + j) * stride] = t[j] + t[4 + j];
                        m[(size_t)(8 + j) * stride] = t[j] - t[4 + j];
                        m[(size_t)(12 + j) * stride] = -t[4 + j];
                    }
                }
        }
}
