/* activation: elementwise and row-wise nonlinearities.
 *
 * Legend: B batch rows, F features per row; x, y, dy, dx are B x F.
 * Every backward is written in terms of the OUTPUT y (relu' = [y > 0],
 * sigmoid' = y(1-y), tanh' = 1-y^2, softmax: J^T dy = y * (dy - <dy, y>)),
 * so a layer that fuses an activation keeps only y.  Formulas as in
 * PyTorch's torch.nn docs (LeakyReLU slope 0.01).
 */
#ifndef SN_CORE_ACTIVATION_H
#define SN_CORE_ACTIVATION_H

#include <stddef.h>

#include "core/layer.h"

enum sn_act {
    SN_ACT_LINEAR,
    SN_ACT_RELU,
    SN_ACT_LEAKY_RELU,
    SN_ACT_SIGMOID,
    SN_ACT_TANH,
    SN_ACT_SOFTMAX,   /* over the F features of each row */
};

#define SN_LEAKY_SLOPE 0.01f

/* Parse an activation name ("relu"); returns SN_EINVAL for an unknown one. */
int sn_act_parse(const char *name, enum sn_act *out);
const char *sn_act_name(enum sn_act a);

/* y = act(x) over B rows of F; y may equal x (in place). */
void sn_act_forward(enum sn_act a, const float *x, float *y, size_t B, size_t F);

/* dx = act'(.) * dy from the output y; dx may equal dy.  Overwrites dx. */
void sn_act_backward(enum sn_act a, const float *y, const float *dy, float *dx,
                     size_t B, size_t F);

/* dx += act'(.) * dy, in one pass; dx must not overlap dy. */
void sn_act_backward_add(enum sn_act a, const float *y, const float *dy, float *dx,
                         size_t B, size_t F);

/* The same over n values on the calling thread only, for loops that are
 * already parallel (softmax takes the n values as one row). */
void sn_act_forward_seq(enum sn_act a, const float *x, float *y, size_t n);
void sn_act_backward_seq(enum sn_act a, const float *y, const float *dy, float *dx, size_t n);

/* The [activation] layer: y = act(x), any input shape (softmax over the
 * last dimension).  Takes no parameters. */
int sn_activation_create(const char *name, struct sn_shape in, enum sn_act a,
                         struct sn_layer **out);

#endif
