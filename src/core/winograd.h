/* winograd: the transforms of Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016)
 * for 3x3 convolutions with stride 1.
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
 */
#ifndef SN_CORE_WINOGRAD_H
#define SN_CORE_WINOGRAD_H

#include <stddef.h>

#include "core/im2col.h"

/* Widest output the transforms take: tile rows of up to 255 tiles
 * (outputs up to 510 wide), so their row buffers live on the stack. */
#define SN_WINO_MAX_TW1 256

/* Tiles of one example: ceil(OH/2) * ceil(OW/2). */
size_t sn_wino_tiles(const struct sn_conv_geom *g);

/* Floats from one position xi of V or M to the next: rows * N and one
 * cache line more, so the 16 positions never fall on the same cache sets
 * (at 32x32 images rows * N is a power of two: 2x slower without it). */
size_t sn_wino_ld(int rows, size_t N);

/* U = G g G^T for every (k, c) of w (OC, C, 3, 3). */
void sn_wino_filter(const float *w, int OC, int C, float *U);

/* dw += G^T dU G for every (k, c) (the adjoint of sn_wino_filter). */
void sn_wino_filter_grad(const float *dU, int OC, int C, float *dw);

/* V = B^T d B for nb examples of x (C, H, W), ld = nb * tiles. */
void sn_wino_input(const struct sn_conv_geom *g, const float *x, int nb, float *V);

/* dx += B dV B^T for nb examples (the adjoint of sn_wino_input). */
void sn_wino_input_grad(const struct sn_conv_geom *g, const float *dV, int nb, float *dx);

/* y = A^T M A + bias[k] for nb examples of OC channels. */
void sn_wino_output(const struct sn_conv_geom *g, int OC, const float *M, const float *bias,
                    int nb, float *y);

/* dM = A dy A^T for nb examples (the adjoint of sn_wino_output). */
void sn_wino_output_grad(const struct sn_conv_geom *g, int OC, const float *dy, int nb,
                         float *dM);

#endif
