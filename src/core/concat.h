/* concat: join several earlier layers' outputs (torch.cat), along the
 * channels of (C,H,W) outputs (inception modules) and along the last
 * dimension of (F) and (T,F) outputs.  All other dimensions must agree. */
#ifndef SN_CORE_CONCAT_H
#define SN_CORE_CONCAT_H

#include "core/layer.h"

/* n inputs (2..SN_MAX_INPUTS); SN_ESHAPE if ranks or other dimensions differ. */
int sn_concat_create(const char *name, const struct sn_shape *in, int n,
                     struct sn_layer **out);

#endif
