/* winograd: the F(2x2, 3x3) transforms (see winograd.h).  Each transform
 * is written out as its additions, one side of the tile, then the other;
 * every backward one is the transpose of its forward one.  They work a
 * tile row at a time over consecutive floats, so the loops vectorise.
 * The functions are serial: the conv layer calls them inside its parallel
 * loop. */
#include "core/winograd.h"

enum { MAX_N = SN_WINO_MAX_OW / 2 + 2 };

size_t sn_wino_tiles(const struct sn_conv_geom *g, int m)
{
    return (size_t)((g->OH + m - 1) / m) * (size_t)((g->OW + m - 1) / m);
}

size_t sn_wino_ld(int rows, size_t N)
{
    return (size_t)rows * N + 16;
}

static void filter(const float *w, int OC, int C, float *U)
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

static void filter_grad(const float *dU, int OC, int C, float *dw)
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

/* Row r of one channel (H x W) read at padded columns 2k - P (even, e[k])
 * and 2k + 1 - P (odd, o[k]), k < n; outside the image: 0. */
static void split_row(const float *xc, int H, int W, int P, int r, int n, float *restrict e,
                      float *restrict o)
{
    if (r < 0 || r >= H) {
        for (int k = 0; k < n; k++)
            e[k] = o[k] = 0.0f;
        return;
    }
    const float *xr = xc + (size_t)r * W;
    for (int k = 0; k < n; k++) {
        int j = 2 * k - P;
        e[k] = j >= 0 && j < W ? xr[j] : 0.0f;
        o[k] = j + 1 >= 0 && j + 1 < W ? xr[j + 1] : 0.0f;
    }
}

/* B^T d over 4 rows p (row i at p + i n, n values each) into r (same). */
static void bt_rows(const float *restrict p, int n, float *restrict r)
{
    const float *p0 = p, *p1 = p + n, *p2 = p + 2 * n, *p3 = p + 3 * n;
    float *r0 = r, *r1 = r + n, *r2 = r + 2 * n, *r3 = r + 3 * n;
    for (int k = 0; k < n; k++) {
        float a0 = p0[k], a1 = p1[k], a2 = p2[k], a3 = p3[k];
        r0[k] = a0 - a2;
        r1[k] = a1 + a2;
        r2[k] = a2 - a1;
        r3[k] = a1 - a3;
    }
}

static void input(const struct sn_conv_geom *g, const float *x, int nb, float *V)
{
    const int TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2, n = TW + 1;
    const size_t T = (size_t)TH * TW, N = (size_t)nb * T, plane = (size_t)g->H * g->W;
    const size_t stride = sn_wino_ld(g->C, N);   /* between positions xi */
    /* Per tile row: the 4 input rows under it split into even and odd
     * padded columns (pe, po: 4 rows of n), B^T applied to those rows (e,
     * o), then B to the columns of each tile: every loop but the split
     * runs over consecutive floats and vectorises. */
    float pe[4 * MAX_N], po[4 * MAX_N];
    float e[4 * MAX_N], o[4 * MAX_N];
    for (int b = 0; b < nb; b++)
        for (int c = 0; c < g->C; c++) {
            const float *xc = x + ((size_t)b * g->C + c) * plane;
            float *v = V + (size_t)c * N + (size_t)b * T;
            for (int ty = 0; ty < TH; ty++) {
                for (int i = 0; i < 4; i++)
                    split_row(xc, g->H, g->W, g->P, 2 * ty - g->P + i, n, pe + i * n, po + i * n);
                bt_rows(pe, n, e);
                bt_rows(po, n, o);
                for (int i = 0; i < 4; i++) {   /* (B^T d) B: columns 2tx .. 2tx+3 */
                    const float *restrict ei = e + i * n, *restrict oi = o + i * n;
                    float *restrict v0 = v + (size_t)ty * TW + (size_t)(4 * i) * stride;
                    float *restrict v1 = v0 + stride;
                    float *restrict v2 = v1 + stride;
                    float *restrict v3 = v2 + stride;
                    for (int tx = 0; tx < TW; tx++) {
                        v0[tx] = ei[tx] - ei[tx + 1];
                        v1[tx] = oi[tx] + ei[tx + 1];
                        v2[tx] = ei[tx + 1] - oi[tx];
                        v3[tx] = oi[tx] - oi[tx + 1];
                    }
                }
            }
        }
}

/* Add the even (e) and odd (o) padded columns of one row back to row r
 * of one channel (H x W), where they lie inside it. */
static void merge_row(const float *e, const float *o, int n, int P, int r, int H, int W,
                      float *xc)
{
    if (r < 0 || r >= H)
        return;
    float *xr = xc + (size_t)r * W;
    for (int k = 0; k < n; k++) {
        int j = 2 * k - P;
        if (j >= 0 && j < W)
            xr[j] += e[k];
        if (j + 1 >= 0 && j + 1 < W)
            xr[j + 1] += o[k];
    }
}

/* B t over 4 rows t (row i at t + i n) into d: the transpose of bt_rows. */
static void b_rows(const float *restrict t, int n, float *restrict d)
{
    const float *t0 = t, *t1 = t + n, *t2 = t + 2 * n, *t3 = t + 3 * n;
    float *d0 = d, *d1 = d + n, *d2 = d + 2 * n, *d3 = d + 3 * n;
    for (int k = 0; k < n; k++) {
        float a0 = t0[k], a1 = t1[k], a2 = t2[k], a3 = t3[k];
        d0[k] = a0;
        d1[k] = a1 - a2 + a3;
        d2[k] = a2 - a0 + a1;
        d3[k] = -a3;
    }
}

static void input_grad(const struct sn_conv_geom *g, const float *dV, int nb, float *dx)
{
    const int TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2, n = TW + 1;
    const size_t T = (size_t)TH * TW, N = (size_t)nb * T, plane = (size_t)g->H * g->W;
    const size_t stride = sn_wino_ld(g->C, N);
    /* Per tile row, sn_wino_input backwards: B^T to the columns of each
     * tile, folded onto the padded columns the tiles share (even: e, odd:
     * o), B to the 4 rows (de, do_), then added back to the image rows. */
    float e[4 * MAX_N], o[4 * MAX_N];
    float de[4 * MAX_N], do_[4 * MAX_N];
    for (int b = 0; b < nb; b++)
        for (int c = 0; c < g->C; c++) {
            float *xc = dx + ((size_t)b * g->C + c) * plane;
            const float *v = dV + (size_t)c * N + (size_t)b * T;
            for (int ty = 0; ty < TH; ty++) {
                for (int i = 0; i < 4; i++) {
                    const float *restrict r0 = v + (size_t)ty * TW + (size_t)(4 * i) * stride;
                    const float *restrict r1 = r0 + stride;
                    const float *restrict r2 = r1 + stride;
                    const float *restrict r3 = r2 + stride;
                    float *restrict ei = e + i * n, *restrict oi = o + i * n;
                    /* tile tx gives columns 2tx .. 2tx+3: r0, r1-r2+r3,
                     * r2-r0+r1, -r3; columns 2tx+2, 2tx+3 are tile tx+1's
                     * first two */
                    ei[0] = r0[0];
                    oi[0] = r1[0] - r2[0] + r3[0];
                    for (int k = 1; k < TW; k++) {
                        ei[k] = r0[k] + (r2[k - 1] - r0[k - 1] + r1[k - 1]);
                        oi[k] = (r1[k] - r2[k] + r3[k]) - r3[k - 1];
                    }
                    ei[TW] = r2[TW - 1] - r0[TW - 1] + r1[TW - 1];
                    oi[TW] = -r3[TW - 1];
                }
                b_rows(e, n, de);
                b_rows(o, n, do_);
                for (int u = 0; u < 4; u++)
                    merge_row(de + u * n, do_ + u * n, n, g->P, 2 * ty - g->P + u, g->H, g->W, xc);
            }
        }
}

static void output(const struct sn_conv_geom *g, int OC, const float *M, const float *bias,
                    int nb, float *y)
{
    const int TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2;
    const size_t T = (size_t)TH * TW, N = (size_t)nb * T, L = (size_t)g->OH * g->OW;
    const size_t stride = sn_wino_ld(OC, N);
    const int full = g->OW / 2;   /* tiles whose 2 columns are both inside */
    float a[4][MAX_N];  /* the 2x2 outputs of each tile of a row */
    for (int b = 0; b < nb; b++)
        for (int k = 0; k < OC; k++) {
            float *yk = y + ((size_t)b * OC + k) * L;
            const float *s = M + (size_t)k * N + (size_t)b * T;
            const float bk = bias[k];
            for (int ty = 0; ty < TH; ty++) {
                const float *restrict m[16];
                for (int xi = 0; xi < 16; xi++)
                    m[xi] = s + (size_t)ty * TW + (size_t)xi * stride;
                float *restrict a00 = a[0], *restrict a01 = a[1];
                float *restrict a10 = a[2], *restrict a11 = a[3];
                for (int tx = 0; tx < TW; tx++) {   /* A^T M A */
                    float t0 = m[0][tx] + m[4][tx] + m[8][tx];
                    float t1 = m[1][tx] + m[5][tx] + m[9][tx];
                    float t2 = m[2][tx] + m[6][tx] + m[10][tx];
                    float t3 = m[3][tx] + m[7][tx] + m[11][tx];
                    float s0 = m[4][tx] - m[8][tx] - m[12][tx];
                    float s1 = m[5][tx] - m[9][tx] - m[13][tx];
                    float s2 = m[6][tx] - m[10][tx] - m[14][tx];
                    float s3 = m[7][tx] - m[11][tx] - m[15][tx];
                    a00[tx] = t0 + t1 + t2 + bk;
                    a01[tx] = t1 - t2 - t3 + bk;
                    a10[tx] = s0 + s1 + s2 + bk;
                    a11[tx] = s1 - s2 - s3 + bk;
                }
                for (int i = 0; i < 2 && 2 * ty + i < g->OH; i++) {
                    float *yr = yk + (size_t)(2 * ty + i) * g->OW;
                    const float *ae = a[2 * i], *ao = a[2 * i + 1];
                    for (int tx = 0; tx < full; tx++) {
                        yr[2 * tx] = ae[tx];
                        yr[2 * tx + 1] = ao[tx];
                    }
                    if (full < TW)   /* odd width: the last tile's left column */
                        yr[2 * full] = ae[full];
                }
            }
        }
}

static void output_grad(const struct sn_conv_geom *g, int OC, const float *dy, int nb,
                         float *dM)
{
    const int TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2;
    const size_t T = (size_t)TH * TW, N = (size_t)nb * T, L = (size_t)g->OH * g->OW;
    const size_t stride = sn_wino_ld(OC, N);
    const int full = g->OW / 2;
    float e[2][MAX_N], o[2][MAX_N];   /* dY by tile: even, odd columns */
    for (int b = 0; b < nb; b++)
        for (int k = 0; k < OC; k++) {
            const float *dk = dy + ((size_t)b * OC + k) * L;
            float *s = dM + (size_t)k * N + (size_t)b * T;
            for (int ty = 0; ty < TH; ty++) {
                for (int i = 0; i < 2; i++) {
                    if (2 * ty + i >= g->OH) {
                        for (int tx = 0; tx < TW; tx++)
                            e[i][tx] = o[i][tx] = 0.0f;
                        continue;
                    }
                    const float *dr = dk + (size_t)(2 * ty + i) * g->OW;
                    for (int tx = 0; tx < full; tx++) {
                        e[i][tx] = dr[2 * tx];
                        o[i][tx] = dr[2 * tx + 1];
                    }
                    if (full < TW) {
                        e[i][full] = dr[2 * full];
                        o[i][full] = 0.0f;
                    }
                }
                float *restrict m[16];
                for (int xi = 0; xi < 16; xi++)
                    m[xi] = s + (size_t)ty * TW + (size_t)xi * stride;
                const float *restrict e0 = e[0], *restrict o0 = o[0];
                const float *restrict e1 = e[1], *restrict o1 = o[1];
                for (int tx = 0; tx < TW; tx++) {   /* A dY A^T */
                    /* dY A^T: row i -> (e, e + o, e - o, -o) */
                    float t[2][4] = { { e0[tx], e0[tx] + o0[tx], e0[tx] - o0[tx], -o0[tx] },
                                      { e1[tx], e1[tx] + o1[tx], e1[tx] - o1[tx], -o1[tx] } };
                    for (int j = 0; j < 4; j++) {   /* A (.): rows t0, t0+t1, t0-t1, -t1 */
                        m[j][tx] = t[0][j];
                        m[4 + j][tx] = t[0][j] + t[1][j];
                        m[8 + j][tx] = t[0][j] - t[1][j];
                        m[12 + j][tx] = -t[1][j];
                    }
                }
            }
        }
}

const struct sn_wino sn_wino_f2 = {
    .m = 2,
    .npos = 16,
    .filter = filter,
    .filter_grad = filter_grad,
    .input = input,
    .input_grad = input_grad,
    .output = output,
    .output_grad = output_grad,
};
