/* winograd: the transforms of Winograd's minimal filtering F(2x2, 3x3)
 * (winograd.c) and F(4x4, 3x3) (winograd4.c) (Lavin & Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016) for 3x3
 * convolutions with stride 1.  F(2x2, 3x3) explained:
 *
 * Each 2x2 block of outputs (a tile) of one filter k over one channel c is
 *   y = A^T [ (G g G^T) . (B^T d B) ] A
 * where g is the 3x3 kernel, d the 4x4 input patch under the tile (patches
 * of neighbouring tiles overlap by 2), "." is the elementwise product and
 *   B^T = | 1  0 -1  0 |   G = | 1    0    0   |   A^T = | 1  1  1  0 |
 *         | 0  1  1  0 |       | 1/2  1/2  1/2 |         | 0  1 -1 -1 |
 *         | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
 *         | 0  1  0 -1 |       | 0    0    1   |
 * Summed over channels, the elementwise products become 16 matrix products,
 * one per position xi of the 4x4 transformed tile:
 *   M[xi] (OC x N) = U[xi] (OC x C) V[xi] (C x N),  N = tiles.
 * That is 16 multiplications per tile and channel pair instead of 36.
 *
 * The map is linear in g and in d, so backward uses the same pieces
 * (dM = A dY A^T):
 *   dU[xi] += dM[xi] V[xi]^T,   dg = G^T dU G     (weights)
 *   dV[xi]  = U[xi]^T dM[xi],   dd = B dV B^T     (input, added back over
 *                                                  the overlapping patches)
 *
 * Layouts: U is (16, OC, C); V is (16, C, N) and M is (16, OC, N), for N
 * tiles numbered (example, tile row, tile column), position xi of V at
 * V + xi sn_wino_ld(C, N) (of M: sn_wino_ld(OC, N)).  Tiles past the
 * output's edge read zero padding and their extra outputs are dropped.
 *
 * F(4x4, 3x3) is the same with 4x4 output tiles, 6x6 input patches and 36
 * positions: 2.25 multiplications per output instead of 4, and fewer
 * floats to transform and store per output, for larger rounding errors.
 */
#ifndef SN_CORE_WINOGRAD_H
#define SN_CORE_WINOGRAD_H

#include <stddef.h>

#include "core/im2col.h"

/* Widest output F(2x2, 3x3) takes (its row buffers live on the stack;
 * F(4x4, 3x3) works on chunks of tiles and takes any width). */
#define SN_WINO_MAX_OW 508

/* One variant F(m x m, 3x3): its tile side, its positions per tile, and
 * its transforms.  They are serial: the conv layer calls them inside its
 * parallel loop. */
struct sn_wino {
    int m;      /* outputs per tile side: 2 or 4 */
    int npos;   /* positions of a transformed tile: (m + 2)^2 */
    /* U = G g G^T for every (k, c) of w (OC, C, 3, 3) */
    void (*filter)(const float *w, int OC, int C, float *U);
    /* dw += G^T dU G for every (k, c) (the adjoint of filter) */
    void (*filter_grad)(const float *dU, int OC, int C, float *dw);
    /* V = B^T d B for nb examples of x (C, H, W), ld = nb * tiles */
    void (*input)(const struct sn_conv_geom *g, const float *x, int nb, float *V);
    /* dx += B dV B^T for nb examples (the adjoint of input) */
    void (*input_grad)(const struct sn_conv_geom *g, const float *dV, int nb, float *dx);
    /* y = A^T M A + bias[k] for nb examples of OC channels */
    void (*output)(const struct sn_conv_geom *g, int OC, const float *M, const float *bias,
                   int nb, float *y);
    /* dM = A dy A^T for nb examples (the adjoint of output) */
    void (*output_grad)(const struct sn_conv_geom *g, int OC, const float *dy, int nb,
                        float *dM);
};

extern const struct sn_wino sn_wino_f2, sn_wino_f4;

/* Tiles of one example: ceil(OH/m) * ceil(OW/m). */
size_t sn_wino_tiles(const struct sn_conv_geom *g, int m);

/* Floats from one position xi of V or M to the next: rows * N and one
 * cache line more, so the positions never fall on the same cache sets
 * (at 32x32 images rows * N is a power of two: 2x slower without it). */
size_t sn_wino_ld(int rows, size_t N);

#endif
