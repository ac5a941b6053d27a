/* batchnorm: batch normalisation (Ioffe & Szegedy 2015), as
 * torch.nn.BatchNorm2d for (C,H,W) inputs (statistics per channel over
 * B, H, W) and BatchNorm1d for (F) inputs (per feature over B).
 *
 *   train  mean, var (biased) of this rank's batch; y = w (x-mean)/sqrt(var+eps) + b;
 *          running_mean += momentum (mean - running_mean),
 *          running_var  += momentum (var * n/(n-1) - running_var)
 *   eval   the running statistics instead of the batch's
 * weight, bias (C) are learnt; running_mean, running_var (C) are buffers,
 * averaged over ranks after every step by the trainer, so every replica
 * evaluates and saves the same statistics.
 */
#ifndef SN_CORE_BATCHNORM_H
#define SN_CORE_BATCHNORM_H

#include "core/layer.h"

int sn_batchnorm_create(const char *name, struct sn_shape in, float momentum, float eps,
                        struct sn_layer **out);

#endif
