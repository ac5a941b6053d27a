/* maxpool: 2-D max pooling (torch.nn.MaxPool2d, no padding, floor mode).
 * Legend: (C,H,W) in, window K, stride S, OH = (H-K)/S + 1.  The gradient
 * goes to the first maximum of each window (its index is kept). */
#ifndef SN_CORE_MAXPOOL_H
#define SN_CORE_MAXPOOL_H

#include "core/layer.h"

int sn_maxpool_create(const char *name, struct sn_shape in, int size, int stride,
                      struct sn_layer **out);

#endif
