/* dropout: inverted dropout (torch.nn.Dropout).  In training each value is
 * kept with probability 1-p and scaled by 1/(1-p); in evaluation the layer
 * is the identity.  The mask comes from the step's random stream, which the
 * trainer derives from (seed, rank, step): ranks draw different masks and a
 * rerun draws the same ones. */
#ifndef SN_CORE_DROPOUT_H
#define SN_CORE_DROPOUT_H

#include "core/layer.h"

/* y = x * mask, mask[i] = (u_i >= p) / (1 - p), u_i ~ U[0,1): a hash of
 * i and a key of two draws from rng (the same mask at any thread count). */
void sn_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                        struct sn_rng *rng);

/* dx += dy * mask. */
void sn_dropout_backward(const float *dy, const float *mask, float *dx, size_t n);

/* p in [0, 1); SN_EINVAL otherwise. */
int sn_dropout_create(const char *name, struct sn_shape in, float p, struct sn_layer **out);

#endif
