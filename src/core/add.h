/* add: the elementwise sum of several earlier layers' outputs of one shape
 * (residual connections).  y = x_0 + x_1 + ...; each dx_i += dy. */
#ifndef SN_CORE_ADD_H
#define SN_CORE_ADD_H

#include "core/layer.h"

/* n inputs (2..SN_MAX_INPUTS) of shapes in[]; SN_ESHAPE if they differ. */
int sn_add_create(const char *name, const struct sn_shape *in, int n, struct sn_layer **out);

#endif
