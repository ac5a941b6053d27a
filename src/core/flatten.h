/* flatten: reshape one example to a vector (C,H,W order, as torch.flatten). */
#ifndef SN_CORE_FLATTEN_H
#define SN_CORE_FLATTEN_H

#include "core/layer.h"

int sn_flatten_create(const char *name, struct sn_shape in, struct sn_layer **out);

#endif
