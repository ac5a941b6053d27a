/* activation: elementwise and row-wise nonlinearities.
 *
 * Legend: B batch rows, F features per row; x, y, dy, dx are B x F.
 * Most backwards are written in terms of the OUTPUT y (relu' = [y > 0],
 * sigmoid' = y(1-y), tanh' = 1-y^2, softmax: J^T dy = y * (dy - <dy, y>)),
 * so a layer that fuses one of them keeps only y.  GELU is not invertible
 * (it dips below zero and comes back), so its derivative needs the input x
 * (sn_act_needs_x): a layer that fuses it keeps its pre-activation, or
 * recomputes it (batchnorm).  Formulas as in PyTorch's torch.nn docs
 * (LeakyReLU slope 0.01; GELU and its approximate='tanh' form):
 *   gelu       y = x Phi(x),  Phi the standard normal CDF (fastmath.h)
 *              y' = Phi(x) + x exp(-x^2/2) / sqrt(2 pi)
 *   gelu_tanh  y = x (1 + tanh(u)) / 2,  u = sqrt(2/pi) (x + 0.044715 x^3)
 *              y' = (1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 0.044715 x^2) / 2
 */
#ifndef SN_CORE_ACTIVATION_H
#define SN_CORE_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/layer.h"

enum sn_act {
    SN_ACT_LINEAR,
    SN_ACT_RELU,
    SN_ACT_LEAKY_RELU,
    SN_ACT_SIGMOID,
    SN_ACT_TANH,
    SN_ACT_SOFTMAX,   /* over the F features of each row */
    SN_ACT_GELU,      /* "gelu": x Phi(x), PyTorch's GELU(approximate='none') */
    SN_ACT_GELU_TANH, /* "gelu_tanh": PyTorch's GELU(approximate='tanh') */
    SN_ACT_COUNT      /* how many: a new kind goes above (tests loop over them all) */
};

#define SN_LEAKY_SLOPE 0.01f

/* Parse an activation name ("relu"); returns SN_EINVAL for an unknown one. */
int sn_act_parse(const char *name, enum sn_act *out);
const char *sn_act_name(enum sn_act a);

/* Whether the backward of a needs the input x (GELU) rather than the
 * output y (all the others). */
static inline bool sn_act_needs_x(enum sn_act a)
{
    return a == SN_ACT_GELU || a == SN_ACT_GELU_TANH;
}

/* y = act(x) over B rows of F; y may equal x (in place). */
void sn_act_forward(enum sn_act a, const float *x, float *y, size_t B, size_t F);

/* dx = act'(x) * dy; dx may equal dy.  Overwrites dx.  Reads x when
 * sn_act_needs_x(a), y otherwise (the other may be NULL). */
void sn_act_backward(enum sn_act a, const float *x, const float *y, const float *dy, float *dx,
                     size_t B, size_t F);

/* dx += act'(x) * dy, in one pass; dx must not overlap dy. */
void sn_act_backward_add(enum sn_act a, const float *x, const float *y, const float *dy,
                         float *dx, size_t B, size_t F);

/* The same over n values on the calling thread only, for loops that are
 * already parallel (softmax takes the n values as one row). */
void sn_act_forward_seq(enum sn_act a, const float *x, float *y, size_t n);
void sn_act_backward_seq(enum sn_act a, const float *x, const float *y, const float *dy,
                         float *dx, size_t n);

/* The [activation] layer: y = act(x), any input shape (softmax over the
 * last dimension).  Takes no parameters.  It runs in place where the model
 * allows, except GELU, whose backward reads x. */
int sn_activation_create(const char *name, struct sn_shape in, enum sn_act a,
                         struct sn_layer **out);

#endif
