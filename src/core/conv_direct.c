/* conv_direct: the direct stride-1 kernels (see conv_direct.h).  Each
 * kernel keeps 8 vectors of 8 sums in registers and updates them one tap
 * at a time: forward and input gradient, 64 consecutive positions of one
 * channel; weight gradient, 8 positions of 8 filters (acc[i] for filter i).
 *
 * vf is 8 floats the compiler keeps in one vector register (a GCC and
 * Clang extension: AVX's 8 lanes, two SSE registers on a PORTABLE build);
 * s * v multiplies every lane by the scalar s.  Written as plain arrays of
 * 8, GCC vectorised the block across the wrong dimension and shuffled it
 * at every tap (forward 6x slower than im2col). */
#include "core/conv_direct.h"

#include <string.h>

enum { VB = 8 };   /* floats in a vector, and vectors in a full block */

typedef float vf __attribute__((vector_size(VB * sizeof(float))));

/* Without AVX (make PORTABLE=1) GCC warns that returning a 32-byte vector
 * changes the calling convention; these helpers are static and inlined,
 * no call crosses a library boundary. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

static inline vf vload(const float *p)
{
    vf v;
    memcpy(&v, p, sizeof v);   /* an unaligned load */
    return v;
}

static inline void vstore(float *p, vf v)
{
    memcpy(p, &v, sizeof v);
}

static size_t up8(size_t n)
{
    return (n + VB - 1) / VB * VB;
}

static int hp(const struct sn_conv_geom *g)
{
    return g->H + 2 * g->P;
}

static int wp(const struct sn_conv_geom *g)
{
    return g->W + 2 * g->P;
}

static size_t plane(const struct sn_conv_geom *g)
{
    return (size_t)hp(g) * wp(g);
}

size_t sn_direct_np(const struct sn_conv_geom *g)
{
    return up8((size_t)g->OH * wp(g));
}

/* The last channel's reads run past its plane by the rounding of NP and
 * K - 1 columns (only for dropped positions). */
size_t sn_direct_xlen(const struct sn_conv_geom *g)
{
    return (size_t)g->C * plane(g) + VB + (size_t)g->K;
}

size_t sn_direct_dxlen(const struct sn_conv_geom *g)
{
    return (size_t)g->C * up8(plane(g));
}

/* The input gradient at q reads dz at q - (ki Wp + kj), down to K - 1
 * rows and columns before the first output. */
size_t sn_direct_dzpre(const struct sn_conv_geom *g)
{
    return (size_t)(g->K - 1) * wp(g) + (size_t)(g->K - 1);
}

size_t sn_direct_dzld(const struct sn_conv_geom *g)
{
    return sn_direct_dzpre(g) + up8(plane(g));
}

size_t sn_direct_dzlen(const struct sn_conv_geom *g, int OC)
{
    return up8((size_t)OC) * sn_direct_dzld(g);
}

void sn_direct_pad(const struct sn_conv_geom *g, const float *x, float *xpad)
{
    const int W = g->W, P = g->P, Wp = wp(g);
    memset(xpad, 0, sn_direct_xlen(g) * sizeof *xpad);
    for (int c = 0; c < g->C; c++)
        for (int h = 0; h < g->H; h++)
            memcpy(xpad + c * plane(g) + (size_t)(h + P) * Wp + P,
                   x + ((size_t)c * g->H + h) * W, (size_t)W * sizeof *x);
}

/* One output channel's sums at nv vectors of positions from p0 (nv = 8,
 * or 4, 2, 1 for the last few): bias + the sum over taps of w[tap] * the
 * input shifted by the tap.  Inlined with nv constant, acc stays in
 * registers. */
static inline void forward_block(const struct sn_conv_geom *g, const float *wk, float bias,
                                 const float *xpad, size_t p0, int nv, float *yk)
{
    const int K = g->K, Wp = wp(g);
    const size_t pl = plane(g);
    vf acc[VB];
    for (int i = 0; i < nv; i++)
        acc[i] = (vf){ 0 } + bias;
    for (int c = 0; c < g->C; c++)
        for (int ki = 0; ki < K; ki++)
            for (int kj = 0; kj < K; kj++) {
                const float w = *wk++;
                const float *xs = xpad + c * pl + (size_t)ki * Wp + kj + p0;
                for (int i = 0; i < nv; i++)
                    acc[i] += w * vload(xs + VB * i);
            }
    for (int i = 0; i < nv; i++)
        vstore(yk + p0 + VB * i, acc[i]);
}

void sn_direct_forward(const struct sn_conv_geom *g, int OC, const float *w, const float *bias,
                       const float *xpad, float *yp)
{
    const size_t NP = sn_direct_np(g), CKK = (size_t)g->C * g->K * g->K;
    for (int k = 0; k < OC; k++) {
        /* blocks of 8 vectors, then at most one of 4, 2 and 1 */
        const float *wk = w + k * CKK;
        size_t p0 = 0;
        for (; p0 + 8 * VB <= NP; p0 += 8 * VB)
            forward_block(g, wk, bias[k], xpad, p0, 8, yp + k * NP);
        if (p0 + 4 * VB <= NP) {
            forward_block(g, wk, bias[k], xpad, p0, 4, yp + k * NP);
            p0 += 4 * VB;
        }
        if (p0 + 2 * VB <= NP) {
            forward_block(g, wk, bias[k], xpad, p0, 2, yp + k * NP);
            p0 += 2 * VB;
        }
        if (p0 < NP)
            forward_block(g, wk, bias[k], xpad, p0, 1, yp + k * NP);
    }
}

void sn_direct_crop(const struct sn_conv_geom *g, int OC, const float *yp, float *y)
{
    const size_t NP = sn_direct_np(g);
    const int Wp = wp(g);
    for (int k = 0; k < OC; k++)
        for (int oh = 0; oh < g->OH; oh++)
            memcpy(y + ((size_t)k * g->OH + oh) * g->OW, yp + k * NP + (size_t)oh * Wp,
                   (size_t)g->OW * sizeof *y);
}

void sn_direct_spread(const struct sn_conv_geom *g, int OC, const float *dy, float *dz)
{
    const size_t ld = sn_direct_dzld(g), pre = sn_direct_dzpre(g);
    const int Wp = wp(g);
    memset(dz, 0, sn_direct_dzlen(g, OC) * sizeof *dz);
    for (int k = 0; k < OC; k++)
        for (int oh = 0; oh < g->OH; oh++)
            memcpy(dz + k * ld + pre + (size_t)oh * Wp, dy + ((size_t)k * g->OH + oh) * g->OW,
                   (size_t)g->OW * sizeof *dz);
}

size_t sn_direct_dwlen(const struct sn_conv_geom *g, int OC)
{
    return up8((size_t)OC) * g->C * g->K * g->K * VB;
}

void sn_direct_wgrad(const struct sn_conv_geom *g, int OC, const float *dz, const float *xpad,
                     float *dwl)
{
    const int C = g->C, K = g->K, Wp = wp(g), CKK = C * K * K;
    const size_t NP = sn_direct_np(g), pl = plane(g), ld = sn_direct_dzld(g);
    const float *d0 = dz + sn_direct_dzpre(g);
    for (int b = 0; b < (OC + VB - 1) / VB; b++) {
        const float *d = d0 + (size_t)VB * b * ld;
        for (int c = 0; c < C; c++)
            for (int ki = 0; ki < K; ki++)
                for (int kj = 0; kj < K; kj++) {
                    /* 8 filters of one tap: sums over positions, by lane */
                    const float *xs = xpad + c * pl + (size_t)ki * Wp + kj;
                    const int tap = (c * K + ki) * K + kj;
                    vf acc[VB];
                    for (int i = 0; i < VB; i++)
                        acc[i] = (vf){ 0 };
                    for (size_t p0 = 0; p0 < NP; p0 += VB) {
                        const vf xv = vload(xs + p0);
                        for (int i = 0; i < VB; i++)
                            acc[i] += vload(d + i * ld + p0) * xv;
                    }
                    for (int i = 0; i < VB; i++) {
                        float *l = dwl + ((size_t)(VB * b + i) * CKK + tap) * VB;
                        vstore(l, vload(l) + acc[i]);
                    }
                }
    }
}

void sn_direct_wgrad_sum(const struct sn_conv_geom *g, int OC, const float *dwl, float *dw)
{
    const size_t n = (size_t)OC * g->C * g->K * g->K;
    for (size_t j = 0; j < n; j++) {
        float s = 0.0f;
        for (int i = 0; i < VB; i++)
            s += dwl[j * VB + i];
        dw[j] += s;
    }
}

/* One input channel's gradient at nv vectors of positions from q0: the
 * sum over output channels k and taps of w[k][c][tap] * dz[k] shifted back
 * by the tap (the adjoint of forward_block). */
static inline void xgrad_block(const struct sn_conv_geom *g, int OC, const float *w, int c,
                               const float *dz, size_t q0, int nv, float *dxc)
{
    const int K = g->K, Wp = wp(g), KK = K * K;
    const size_t ld = sn_direct_dzld(g);
    const float *d0 = dz + sn_direct_dzpre(g);
    vf acc[VB];
    for (int i = 0; i < nv; i++)
        acc[i] = (vf){ 0 };
    for (int k = 0; k < OC; k++) {
        const float *wk = w + ((size_t)k * g->C + c) * KK;
        for (int ki = 0; ki < K; ki++)
            for (int kj = 0; kj < K; kj++) {
                const float wt = *wk++;
                const float *ds = d0 + k * ld + q0 - ((size_t)ki * Wp + kj);
                for (int i = 0; i < nv; i++)
                    acc[i] += wt * vload(ds + VB * i);
            }
    }
    for (int i = 0; i < nv; i++)
        vstore(dxc + q0 + VB * i, acc[i]);
}

void sn_direct_xgrad(const struct sn_conv_geom *g, int OC, const float *w, const float *dz,
                     float *dxpad)
{
    const size_t NQ = up8(plane(g));
    for (int c = 0; c < g->C; c++) {
        float *dxc = dxpad + c * NQ;
        size_t q0 = 0;
        for (; q0 + 8 * VB <= NQ; q0 += 8 * VB)
            xgrad_block(g, OC, w, c, dz, q0, 8, dxc);
        if (q0 + 4 * VB <= NQ) {
            xgrad_block(g, OC, w, c, dz, q0, 4, dxc);
            q0 += 4 * VB;
        }
        if (q0 + 2 * VB <= NQ) {
            xgrad_block(g, OC, w, c, dz, q0, 2, dxc);
            q0 += 2 * VB;
        }
        if (q0 < NQ)
            xgrad_block(g, OC, w, c, dz, q0, 1, dxc);
    }
}

void sn_direct_uncrop(const struct sn_conv_geom *g, const float *dxpad, float *dx)
{
    const size_t NQ = up8(plane(g));
    const int Wp = wp(g), P = g->P;
    for (int c = 0; c < g->C; c++)
        for (int h = 0; h < g->H; h++) {
            float *d = dx + ((size_t)c * g->H + h) * g->W;
            const float *s = dxpad + c * NQ + (size_t)(h + P) * Wp + P;
            for (int w = 0; w < g->W; w++)
                d[w] += s[w];
        }
}
