/* rnn: Elman recurrent layer, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
 * (torch.nn.RNN).  Shapes and layouts: core/recurrent.h. */
#ifndef SN_CORE_RNN_H
#define SN_CORE_RNN_H

#include <stdbool.h>

#include "core/layer.h"

int sn_rnn_create(const char *name, struct sn_shape in, int units, bool return_sequences,
                  struct sn_layer **out);

#endif
