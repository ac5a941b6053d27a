/* winograd4: the F(4x4, 3x3) transforms (see winograd.h).  Each 4x4 block
 * of outputs comes from a 6x6 input patch (patches of neighbouring tiles
 * overlap by 2), with
 *
 *   B^T = | 4  0 -5  0  1  0 |   G = |  1/4     0     0   |
 *         | 0 -4 -4  1  1  0 |       | -1/6  -1/6  -1/6  |
 *         | 0  4 -4 -1  1  0 |       | -1/6   1/6  -1/6  |
 *         | 0 -2 -1  2  1  0 |       |  1/24  1/12  1/6  |
 *         | 0  2 -1 -2  1  0 |       |  1/24 -1/12  1/6  |
 *         | 0  4  0 -5  0  1 |       |  0     0     1    |
 *
 *   A^T = | 1  1  1  1  1  0 |
 *         | 0  1 -1  2 -2  0 |
 *         | 0  1  1  4  4  0 |
 *         | 0  1 -1  8 -8  1 |
 *
 * (Lavin & Gray 2016, interpolation points 0, 1, -1, 2, -2).  36
 * multiplications per tile and channel pair where direct convolution does
 * 144: 2.25 per output against F(2x2, 3x3)'s 4, for larger rounding
 * errors (factors up to 8 in A and 5 in B).
 *
 * The layout is F(2x2)'s with 36 positions: xi = 6 i + j for row i and
 * column j of the transformed tile.  The six 1-D transforms below (bt6 and
 * its transpose b6, at6 and its transpose a6, g6 and its transpose gt6) are
 * all there is; the 2-D ones apply them to rows, then to columns.  Unlike
 * winograd.c, which works a tile row at a time, these work on chunks of
 * consecutive tiles of a group, across tile rows and examples: a tile row
 * is short here (4 tiles for a 14x14 output), too short to vectorise
 * (measured: this way the forward and backward of a 32-channel 28x28 layer
 * took 82 ms instead of 112). */
#include <string.h>

#include "core/winograd.h"

enum { A6 = 6, NPOS = 36 };

/* r = B^T d for 6 rows of len floats. */
static void bt6(int len, const float *restrict d0, const float *restrict d1,
                const float *restrict d2, const float *restrict d3, const float *restrict d4,
                const float *restrict d5, float *restrict r0, float *restrict r1,
                float *restrict r2, float *restrict r3, float *restrict r4, float *restrict r5)
{
    for (int k = 0; k < len; k++) {
        float t1 = d4[k] - 4.0f * d2[k], t2 = d3[k] - 4.0f * d1[k];
        float t3 = d4[k] - d2[k], t4 = 2.0f * (d3[k] - d1[k]);
        r0[k] = 4.0f * d0[k] - 5.0f * d2[k] + d4[k];
        r1[k] = t1 + t2;
        r2[k] = t1 - t2;
        r3[k] = t3 + t4;
        r4[k] = t3 - t4;
        r5[k] = 4.0f * d1[k] - 5.0f * d3[k] + d5[k];
    }
}

/* d = B a for 6 rows of len floats: the transpose of bt6. */
static void b6(int len, const float *restrict a0, const float *restrict a1,
               const float *restrict a2, const float *restrict a3, const float *restrict a4,
               const float *restrict a5, float *restrict d0, float *restrict d1,
               float *restrict d2, float *restrict d3, float *restrict d4, float *restrict d5)
{
    for (int k = 0; k < len; k++) {
        float s12 = a1[k] + a2[k], m12 = a2[k] - a1[k];
        float s34 = a3[k] + a4[k], m34 = a3[k] - a4[k];
        d0[k] = 4.0f * a0[k];
        d1[k] = 4.0f * (m12 + a5[k]) - 2.0f * m34;
        d2[k] = -5.0f * a0[k] - 4.0f * s12 - s34;
        d3[k] = -m12 + 2.0f * m34 - 5.0f * a5[k];
        d4[k] = a0[k] + s12 + s34;
        d5[k] = a5[k];
    }
}

/* y = A^T m for 6 rows of len floats into 4. */
static void at6(int len, const float *restrict m0, const float *restrict m1,
                const float *restrict m2, const float *restrict m3, const float *restrict m4,
                const float *restrict m5, float *restrict y0, float *restrict y1,
                float *restrict y2, float *restrict y3)
{
    for (int k = 0; k < len; k++) {
        float s12 = m1[k] + m2[k], d12 = m1[k] - m2[k];
        float s34 = m3[k] + m4[k], d34 = m3[k] - m4[k];
        y0[k] = m0[k] + s12 + s34;
        y1[k] = d12 + 2.0f * d34;
        y2[k] = s12 + 4.0f * s34;
        y3[k] = d12 + 8.0f * d34 + m5[k];
    }
}

/* m = A y for 4 rows of len floats into 6: the transpose of at6. */
static void a6(int len, const float *restrict p0, const float *restrict p1,
               const float *restrict p2, const float *restrict p3, float *restrict m0,
               float *restrict m1, float *restrict m2, float *restrict m3, float *restrict m4,
               float *restrict m5)
{
    for (int k = 0; k < len; k++) {
        float s02 = p0[k] + p2[k], s13 = p1[k] + p3[k];
        float u = p0[k] + 4.0f * p2[k], v = 2.0f * p1[k] + 8.0f * p3[k];
        m0[k] = p0[k];
        m1[k] = s02 + s13;
        m2[k] = s02 - s13;
        m3[k] = u + v;
        m4[k] = u - v;
        m5[k] = p3[k];
    }
}

/* u = G g for one column (g0, g1, g2), u[i] at u[i * su]. */
static void g6(float g0, float g1, float g2, float *u, int su)
{
    u[0] = 0.25f * g0;
    u[su] = -(g0 + g1 + g2) / 6.0f;
    u[2 * su] = -(g0 - g1 + g2) / 6.0f;
    u[3 * su] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
    u[4 * su] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
    u[5 * su] = g2;
}

/* g = G^T u for one column of 6 (u[i] at u[i * su]) into 3 (g[j * sg]). */
static void gt6(const float *u, int su, float *g, int sg)
{
    float s12 = u[su] + u[2 * su], s34 = u[3 * su] + u[4 * su];
    g[0] = 0.25f * u[0] - s12 / 6.0f + s34 / 24.0f;
    g[sg] = (u[2 * su] - u[su]) / 6.0f + (u[3 * su] - u[4 * su]) / 12.0f;
    g[2 * sg] = (s34 - s12) / 6.0f + u[5 * su];
}

static void filter(const float *w, int OC, int C, float *U)
{
    const size_t stride = (size_t)OC * C;
    for (size_t kc = 0; kc < stride; kc++) {
        const float *g = w + kc * 9;
        float t[A6 * 3], u[NPOS];   /* G g (6x3), then (G g) G^T (6x6) */
        for (int j = 0; j < 3; j++)
            g6(g[j], g[3 + j], g[6 + j], t + j, 3);
        for (int i = 0; i < A6; i++)
            g6(t[3 * i], t[3 * i + 1], t[3 * i + 2], u + A6 * i, 1);
        for (int xi = 0; xi < NPOS; xi++)
            U[(size_t)xi * stride + kc] = u[xi];
    }
}

static void filter_grad(const float *dU, int OC, int C, float *dw)
{
    const size_t stride = (size_t)OC * C;
    for (size_t kc = 0; kc < stride; kc++) {
        float u[NPOS], t[A6 * 3], g[9];   /* dU, dU G (6x3), G^T (dU G) */
        for (int xi = 0; xi < NPOS; xi++)
            u[xi] = dU[(size_t)xi * stride + kc];
        for (int i = 0; i < A6; i++)
            gt6(u + A6 * i, 1, t + 3 * i, 1);
        for (int j = 0; j < 3; j++)
            gt6(t + j, 3, g + j, 3);
        float *d = dw + kc * 9;
        for (int i = 0; i < 9; i++)
            d[i] += g[i];
    }
}

/* The transforms run over chunks of up to CH consecutive tiles of a group
 * (N tiles numbered example, tile row, tile column): each step is one of
 * the 1-D transforms over CH-long rows, whatever the image size (a tile
 * row of a 14x14 output is only 4 tiles).  Gathering the 6x6 patches (and
 * scattering the 4x4 blocks) is the only strided part. */
enum { CH = 64 };

/* Where tile i of a group lies: example b, tile row ty, tile column tx. */
struct tile {
    int b, ty, tx;
};

static struct tile tile_at(size_t i, int TH, int TW)
{
    const size_t T = (size_t)TH * TW, r = i % T;
    return (struct tile){ (int)(i / T), (int)(r / (size_t)TW), (int)(r % (size_t)TW) };
}

static void tile_next(struct tile *t, int TH, int TW)
{
    if (++t->tx == TW) {
        t->tx = 0;
        if (++t->ty == TH) {
            t->ty = 0;
            t->b++;
        }
    }
}

static void input(const struct sn_conv_geom *g, const float *x, int nb, float *V)
{
    const int TH = (g->OH + 3) / 4, TW = (g->OW + 3) / 4, H = g->H, W = g->W, P = g->P;
    const size_t N = (size_t)nb * TH * TW, plane = (size_t)H * W;
    const size_t stride = sn_wino_ld(g->C, N);
    /* Per chunk of tiles of one channel: the 6x6 patches (d: position 6 i
     * + l at d + (6 i + l) CH), B^T down their rows (t), B^T across their
     * columns into V. */
    float d[NPOS * CH], t[NPOS * CH];
    for (int c = 0; c < g->C; c++)
        for (size_t n0 = 0; n0 < N; n0 += CH) {
            const int len = N - n0 < CH ? (int)(N - n0) : CH;
            struct tile tl = tile_at(n0, TH, TW);
            for (int k = 0; k < len; k++, tile_next(&tl, TH, TW)) {
                const float *xc = x + ((size_t)tl.b * g->C + c) * plane;
                const int r0 = 4 * tl.ty - P, c0 = 4 * tl.tx - P;
                if (r0 >= 0 && r0 + 6 <= H && c0 >= 0 && c0 + 6 <= W) {
                    for (int i = 0; i < A6; i++) {
                        const float *xr = xc + (size_t)(r0 + i) * W + c0;
                        for (int l = 0; l < A6; l++)
                            d[(A6 * i + l) * CH + k] = xr[l];
                    }
                } else {   /* at the edge: zero padding */
                    for (int i = 0; i < A6; i++)
                        for (int l = 0; l < A6; l++) {
                            const int r = r0 + i, col = c0 + l;
                            d[(A6 * i + l) * CH + k] = r >= 0 && r < H && col >= 0 && col < W
                                                         ? xc[(size_t)r * W + col]
                                                         : 0.0f;
                        }
                }
            }
            for (int l = 0; l < A6; l++) {   /* B^T d: column l of every patch */
                const float *dl = d + l * CH;
                float *tl_ = t + l * CH;
                bt6(len, dl, dl + 6 * CH, dl + 12 * CH, dl + 18 * CH, dl + 24 * CH,
                    dl + 30 * CH, tl_, tl_ + 6 * CH, tl_ + 12 * CH, tl_ + 18 * CH,
                    tl_ + 24 * CH, tl_ + 30 * CH);
            }
            for (int i = 0; i < A6; i++) {   /* (B^T d) B: row i */
                const float *ti = t + A6 * i * CH;
                float *vi = V + (size_t)(A6 * i) * stride + (size_t)c * N + n0;
                bt6(len, ti, ti + CH, ti + 2 * CH, ti + 3 * CH, ti + 4 * CH, ti + 5 * CH, vi,
                    vi + stride, vi + 2 * stride, vi + 3 * stride, vi + 4 * stride,
                    vi + 5 * stride);
            }
        }
}

static void input_grad(const struct sn_conv_geom *g, const float *dV, int nb, float *dx)
{
    const int TH = (g->OH + 3) / 4, TW = (g->OW + 3) / 4, H = g->H, W = g->W, P = g->P;
    const size_t N = (size_t)nb * TH * TW, plane = (size_t)H * W;
    const size_t stride = sn_wino_ld(g->C, N);
    /* input() backwards: B across the columns (t), B down the rows (d),
     * each patch added back where it lies in the image (patches overlap). */
    float d[NPOS * CH], t[NPOS * CH];
    for (int c = 0; c < g->C; c++)
        for (size_t n0 = 0; n0 < N; n0 += CH) {
            const int len = N - n0 < CH ? (int)(N - n0) : CH;
            for (int i = 0; i < A6; i++) {
                const float *vi = dV + (size_t)(A6 * i) * stride + (size_t)c * N + n0;
                float *ti = t + A6 * i * CH;
                b6(len, vi, vi + stride, vi + 2 * stride, vi + 3 * stride, vi + 4 * stride,
                   vi + 5 * stride, ti, ti + CH, ti + 2 * CH, ti + 3 * CH, ti + 4 * CH,
                   ti + 5 * CH);
            }
            for (int l = 0; l < A6; l++) {
                const float *tl_ = t + l * CH;
                float *dl = d + l * CH;
                b6(len, tl_, tl_ + 6 * CH, tl_ + 12 * CH, tl_ + 18 * CH, tl_ + 24 * CH,
                   tl_ + 30 * CH, dl, dl + 6 * CH, dl + 12 * CH, dl + 18 * CH, dl + 24 * CH,
                   dl + 30 * CH);
            }
            struct tile tl = tile_at(n0, TH, TW);
            for (int k = 0; k < len; k++, tile_next(&tl, TH, TW)) {
                float *xc = dx + ((size_t)tl.b * g->C + c) * plane;
                const int r0 = 4 * tl.ty - P, c0 = 4 * tl.tx - P;
                if (r0 >= 0 && r0 + 6 <= H && c0 >= 0 && c0 + 6 <= W) {
                    for (int i = 0; i < A6; i++) {
                        float *xr = xc + (size_t)(r0 + i) * W + c0;
                        for (int l = 0; l < A6; l++)
                            xr[l] += d[(A6 * i + l) * CH + k];
                    }
                } else {
                    for (int i = 0; i < A6; i++)
                        for (int l = 0; l < A6; l++) {
                            const int r = r0 + i, col = c0 + l;
                            if (r >= 0 && r < H && col >= 0 && col < W)
                                xc[(size_t)r * W + col] += d[(A6 * i + l) * CH + k];
                        }
                }
            }
        }
}

static void output(const struct sn_conv_geom *g, int OC, const float *M, const float *bias,
                   int nb, float *y)
{
    const int TH = (g->OH + 3) / 4, TW = (g->OW + 3) / 4, OH = g->OH, OW = g->OW;
    const size_t N = (size_t)nb * TH * TW, L = (size_t)OH * OW;
    const size_t stride = sn_wino_ld(OC, N);
    /* Per chunk of tiles of one output channel: A^T down the rows of the
     * 36 positions (t: 4 rows x 6 columns), A^T across (a: the 4x4 block,
     * position 4 o + q at a + (4 o + q) CH), the blocks stored with the
     * bias. */
    float t[4 * A6 * CH], a[16 * CH];
    for (int k = 0; k < OC; k++)
        for (size_t n0 = 0; n0 < N; n0 += CH) {
            const int len = N - n0 < CH ? (int)(N - n0) : CH;
            const float *m = M + (size_t)k * N + n0;
            for (int j = 0; j < A6; j++)   /* column j: positions 6 i + j */
                at6(len, m + (size_t)j * stride, m + (size_t)(A6 + j) * stride,
                    m + (size_t)(2 * A6 + j) * stride, m + (size_t)(3 * A6 + j) * stride,
                    m + (size_t)(4 * A6 + j) * stride, m + (size_t)(5 * A6 + j) * stride,
                    t + j * CH, t + (A6 + j) * CH, t + (2 * A6 + j) * CH, t + (3 * A6 + j) * CH);
            for (int o = 0; o < 4; o++) {
                const float *to = t + A6 * o * CH;
                float *ao = a + 4 * o * CH;
                at6(len, to, to + CH, to + 2 * CH, to + 3 * CH, to + 4 * CH, to + 5 * CH, ao,
                    ao + CH, ao + 2 * CH, ao + 3 * CH);
            }
            const float bk = bias[k];
            struct tile tl = tile_at(n0, TH, TW);
            for (int n = 0; n < len; n++, tile_next(&tl, TH, TW)) {
                float *yk = y + ((size_t)tl.b * OC + k) * L;
                const int r0 = 4 * tl.ty, c0 = 4 * tl.tx;
                const int rows = OH - r0 < 4 ? OH - r0 : 4, cols = OW - c0 < 4 ? OW - c0 : 4;
                for (int o = 0; o < rows; o++) {
                    float *yr = yk + (size_t)(r0 + o) * OW + c0;
                    for (int q = 0; q < cols; q++)
                        yr[q] = a[(4 * o + q) * CH + n] + bk;
                }
            }
        }
}

static void output_grad(const struct sn_conv_geom *g, int OC, const float *dy, int nb,
                        float *dM)
{
    const int TH = (g->OH + 3) / 4, TW = (g->OW + 3) / 4, OH = g->OH, OW = g->OW;
    const size_t N = (size_t)nb * TH * TW, L = (size_t)OH * OW;
    const size_t stride = sn_wino_ld(OC, N);
    /* output() backwards: dY gathered by tile (a, 0 outside the output), A
     * across (t), A down the rows into the 36 positions. */
    float a[16 * CH], t[4 * A6 * CH];
    for (int k = 0; k < OC; k++)
        for (size_t n0 = 0; n0 < N; n0 += CH) {
            const int len = N - n0 < CH ? (int)(N - n0) : CH;
            struct tile tl = tile_at(n0, TH, TW);
            for (int n = 0; n < len; n++, tile_next(&tl, TH, TW)) {
                const float *dk = dy + ((size_t)tl.b * OC + k) * L;
                const int r0 = 4 * tl.ty, c0 = 4 * tl.tx;
                const int rows = OH - r0 < 4 ? OH - r0 : 4, cols = OW - c0 < 4 ? OW - c0 : 4;
                for (int o = 0; o < 4; o++)
                    for (int q = 0; q < 4; q++)
                        a[(4 * o + q) * CH + n] =
                            o < rows && q < cols ? dk[(size_t)(r0 + o) * OW + c0 + q] : 0.0f;
            }
            for (int o = 0; o < 4; o++) {
                const float *ao = a + 4 * o * CH;
                float *to = t + A6 * o * CH;
                a6(len, ao, ao + CH, ao + 2 * CH, ao + 3 * CH, to, to + CH, to + 2 * CH,
                   to + 3 * CH, to + 4 * CH, to + 5 * CH);
            }
            float *m = dM + (size_t)k * N + n0;
            for (int j = 0; j < A6; j++)
                a6(len, t + j * CH, t + (A6 + j) * CH, t + (2 * A6 + j) * CH,
                   t + (3 * A6 + j) * CH, m + (size_t)j * stride, m + (size_t)(A6 + j) * stride,
                   m + (size_t)(2 * A6 + j) * stride, m + (size_t)(3 * A6 + j) * stride,
                   m + (size_t)(4 * A6 + j) * stride, m + (size_t)(5 * A6 + j) * stride);
        }
}

const struct sn_wino sn_wino_f4 = {
    .m = 4,
    .npos = NPOS,
    .filter = filter,
    .filter_grad = filter_grad,
    .input = input,
    .input_grad = input_grad,
    .output = output,
    .output_grad = output_grad,
};
