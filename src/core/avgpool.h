/* avgpool: 2-D average pooling (torch.nn.AvgPool2d, no padding, floor
 * mode).  Legend: (C,H,W) in, window K, stride S, OH = (H-K)/S + 1. */
#ifndef SN_CORE_AVGPOOL_H
#define SN_CORE_AVGPOOL_H

#include "core/layer.h"

int sn_avgpool_create(const char *name, struct sn_shape in, int size, int stride,
                      struct sn_layer **out);

#endif
