/* conv_direct: direct stride-1 convolution for layers with few input
 * channels (the first layers of the zoo: 1 or 3 channels, LeNet-5's 6),
 * where im2col's copies and GEMMs of 6 or 16 rows cost more than the
 * arithmetic.
 *
 * The image is copied into a zero-padded buffer (Hp = H + 2P rows of Wp =
 * W + 2P), and outputs are computed on the padded grid: output position
 * p = oh Wp + ow reads xpad[c][p + ki Wp + kj] for tap (c, ki, kj), so
 * every tap is one shifted run of consecutive floats.  Columns ow >= OW of
 * that grid are computed and dropped (Wp / OW more work: 32/28 for a 28x28
 * image with pad 2).  Each kernel keeps 64 sums in vector registers.
 *
 * Positions are rounded up to NP = a multiple of 8; buffers:
 *   xpad   (C, Hp, Wp) and slack, zero outside the image     sn_direct_xlen
 *   yp     (OC, NP): forward's output on the padded grid
 *   dz     (OC8, sn_direct_dzld) with a zero border (OC8: OC rounded up
 *          to 8, the extra rows zero): the output gradient
 *          on the padded grid at dz + sn_direct_dzpre, 0 at dropped columns
 *   dxpad  (C, NQ): the input gradient on the padded image, NQ = Hp Wp
 *          rounded up to 8                                  sn_direct_dxlen
 */
#ifndef SN_CORE_CONV_DIRECT_H
#define SN_CORE_CONV_DIRECT_H

#include <stddef.h>

#include "core/im2col.h"

/* Output positions on the padded grid, rounded up to 8. */
size_t sn_direct_np(const struct sn_conv_geom *g);

/* Floats of xpad and of dxpad. */
size_t sn_direct_xlen(const struct sn_conv_geom *g);
size_t sn_direct_dxlen(const struct sn_conv_geom *g);

/* Zeros in front of each dz row, and the floats from one row to the next. */
size_t sn_direct_dzpre(const struct sn_conv_geom *g);
size_t sn_direct_dzld(const struct sn_conv_geom *g);

/* Floats of dz: OC8 rows of sn_direct_dzld. */
size_t sn_direct_dzlen(const struct sn_conv_geom *g, int OC);

/* xpad = x (C, H, W) zero-padded (all sn_direct_xlen floats written). */
void sn_direct_pad(const struct sn_conv_geom *g, const float *x, float *xpad);

/* yp = bias + w (OC, C, K, K) * xpad on the padded grid. */
void sn_direct_forward(const struct sn_conv_geom *g, int OC, const float *w, const float *bias,
                       const float *xpad, float *yp);

/* y (OC, OH, OW) = the kept columns of yp. */
void sn_direct_crop(const struct sn_conv_geom *g, int OC, const float *yp, float *y);

/* dz rows (at dz + dzpre) = dy (OC, OH, OW) spread on the padded grid;
 * everything else of dz's OC8 rows zero. */
void sn_direct_spread(const struct sn_conv_geom *g, int OC, const float *dy, float *dz);

/* dwl += dz correlated with xpad, by lane: dwl (OC8, C K K, 8) holds 8
 * partial sums of each weight's gradient (summing the lanes of every tap
 * of every example would cost as much as the products); sn_direct_wgrad_sum
 * adds them up into dw (OC, C, K, K) once per batch. */
size_t sn_direct_dwlen(const struct sn_conv_geom *g, int OC);
void sn_direct_wgrad(const struct sn_conv_geom *g, int OC, const float *dz, const float *xpad,
                     float *dwl);
void sn_direct_wgrad_sum(const struct sn_conv_geom *g, int OC, const float *dwl, float *dw);

/* dxpad = w applied backwards to dz (all of it written); then dx (C, H,
 * W) += its inside (sn_direct_uncrop). */
void sn_direct_xgrad(const struct sn_conv_geom *g, int OC, const float *w, const float *dz,
                     float *dxpad);
void sn_direct_uncrop(const struct sn_conv_geom *g, const float *dxpad, float *dx);

#endif
