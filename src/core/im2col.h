/* im2col: unfold image patches into columns so a convolution becomes one
 * matrix product (Chellapilla et al. 2006; Caffe's im2col).
 *
 * Legend: C channels, H x W input, K x K kernel, stride S, zero padding P,
 * OH x OW output, L = OH * OW.  For nb examples, cols is (C*K*K, nb*L)
 * row-major: row (c, ki, kj), column (b, oh, ow); ld = nb * L.
 */
#ifndef SN_CORE_IM2COL_H
#define SN_CORE_IM2COL_H

#include <stdbool.h>
#include <stddef.h>

struct sn_conv_geom {
    int C, H, W, K, S, P, OH, OW;
};

/* cols = unfold(x) for nb examples of (C,H,W); out-of-image taps are 0. */
void sn_im2col(const struct sn_conv_geom *g, const float *x, int nb, float *cols);

/* dx += fold(dcols): every column value is added back to the pixel it came
 * from (the adjoint of sn_im2col). */
void sn_col2im(const struct sn_conv_geom *g, const float *dcols, int nb, float *dx);

#endif
