/* lstm: long short-term memory (Hochreiter & Schmidhuber 1997), as
 * torch.nn.LSTM:  i, f, o = sigmoid(.), g = tanh(.) of W_i* x_t + b_i* +
 * W_h* h_{t-1} + b_h* (gate order i f g o);  c_t = f c_{t-1} + i g;
 * h_t = o tanh(c_t).  Shapes and layouts: core/recurrent.h. */
#ifndef SN_CORE_LSTM_H
#define SN_CORE_LSTM_H

#include <stdbool.h>

#include "core/layer.h"

int sn_lstm_create(const char *name, struct sn_shape in, int units, bool return_sequences,
                   struct sn_layer **out);

#endif
