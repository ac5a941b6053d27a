/* conv: 2-D convolution (torch.nn.Conv2d, cross-correlation), square
 * kernel, with bias and a fused activation.
 *
 * Legend: B batch, C in channels, H x W input, OC filters, K kernel, stride
 * S, zero padding P, OH = (H + 2P - K)/S + 1, OW likewise, L = OH*OW.
 * weight (OC, C, K, K), bias (OC), as in PyTorch.
 */
#ifndef SN_CORE_CONV_H
#define SN_CORE_CONV_H

#include "core/activation.h"
#include "core/layer.h"

/* A conv layer reading (C,H,W).  init is the weight's rule; with
 * SN_INIT_DIRAC the first min(C, filters) filters are identities (lower
 * weight's n_dirac before the model is built for fewer) and the bias is
 * zero.  With SN_INIT_WHITEN (the trainer computes the filters: layer.h)
 * filters must be n = C * size * size or 2n, n <= 1024, the window must
 * fit the unpadded input, and the bias is zero; the weight's
 * whiten_images and whiten_eps are airbench's 5000 and 5e-4 (change them
 * before the model is built).  SN_ESHAPE if the input is not 3-D, the
 * kernel does not fit the padded input, or whitening does not fit. */
int sn_conv_create(const char *name, struct sn_shape in, int filters, int size, int stride,
                   int pad, enum sn_act act, enum sn_init init, struct sn_layer **out);

/* How a conv layer computes (the results agree to rounding). */
enum sn_conv_algo {
    SN_CONV_AUTO,       /* winograd where it applies and pays, else im2col */
    SN_CONV_IM2COL,
    SN_CONV_WINOGRAD,   /* F(2x2, 3x3): 3x3, stride 1 only */
    SN_CONV_WINOGRAD4,  /* F(4x4, 3x3): 3x3, stride 1 only */
    SN_CONV_DIRECT,     /* stride 1 only (conv_direct.h) */
};

/* Choose the algorithm of a conv layer l, before it is reserved (built
 * into a model); create chose SN_CONV_AUTO.  SN_ESHAPE if l cannot use
 * algo. */
int sn_conv_set_algo(struct sn_layer *l, enum sn_conv_algo algo);

/* The algorithm l uses (never SN_CONV_AUTO). */
enum sn_conv_algo sn_conv_algo(const struct sn_layer *l);

#endif
