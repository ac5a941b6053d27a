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

/* A conv layer reading (C,H,W).  SN_ESHAPE if the input is not 3-D or the
 * kernel does not fit the padded input. */
int sn_conv_create(const char *name, struct sn_shape in, int filters, int size, int stride,
                   int pad, enum sn_act act, enum sn_init init, struct sn_layer **out);

#endif
