/* gru: gated recurrent unit (Cho et al. 2014), as torch.nn.GRU:
 *   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r (W_hn h + b_hn)),  h_t = (1 - z) n + z h_{t-1}
 * (gate order r z n).  Shapes and layouts: core/recurrent.h. */
#ifndef SN_CORE_GRU_H
#define SN_CORE_GRU_H

#include <stdbool.h>

#include "core/layer.h"

int sn_gru_create(const char *name, struct sn_shape in, int units, bool return_sequences,
                  struct sn_layer **out);

#endif
