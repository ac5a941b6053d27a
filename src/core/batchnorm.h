/* batchnorm: batch normalisation (Ioffe & Szegedy 2015), as
 * torch.nn.BatchNorm2d for (C,H,W) inputs (statistics per channel over
 * B, H, W) and BatchNorm1d for (F) inputs (per feature over B), with an
 * optional fused activation.
 *
 *   train  mean, var (biased) of this rank's batch; z = w (x-mean)/sqrt(var+eps) + b;
 *          running_mean += momentum (mean - running_mean),
 *          running_var  += momentum (var * n/(n-1) - running_var)
 *   eval   the running statistics instead of the batch's
 *   y = act(z)   (linear: y = z; the torch.nn.BatchNorm2d + activation pair)
 * weight, bias (C) are learnt (SN_BN_SHIFT: only bias, weight stays 1, as
 * PyTorch's weight.requires_grad_(False)); running_mean, running_var (C)
 * are buffers, averaged over ranks after every step by the trainer, so
 * every replica evaluates and saves the same statistics.
 *
 * The activation costs no pass of its own: forward applies it to each
 * plane while it is in L1, and backward recomputes z from x (as it
 * recomputes x - mean) instead of reading y or a stored z.
 */
#ifndef SN_CORE_BATCHNORM_H
#define SN_CORE_BATCHNORM_H

#include "core/activation.h"
#include "core/layer.h"

enum sn_bn_affine {
    SN_BN_AFFINE,   /* weight and bias learnt (PyTorch's affine=True) */
    SN_BN_SHIFT,    /* only bias learnt; weight fixed at 1 (model file: affine = bias) */
};

/* A batchnorm layer reading (C,H,W) or (F).  momentum in [0, 1] (PyTorch's
 * convention: the weight of the new batch), eps > 0; act is any
 * elementwise activation (not softmax).  SN_ESHAPE for another input
 * shape, SN_EINVAL for a bad value. */
int sn_batchnorm_create(const char *name, struct sn_shape in, float momentum, float eps,
                        enum sn_bn_affine affine, enum sn_act act, struct sn_layer **out);

#endif
