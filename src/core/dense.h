/* dense: fully connected layer, y = act(x W^T + b), PyTorch's nn.Linear.
 *
 * Legend: B batch, I input features (the input flattened in C,H,W order),
 * O output features.  weight (O, I), bias (O), as in PyTorch.
 */
#ifndef SN_CORE_DENSE_H
#define SN_CORE_DENSE_H

#include "core/activation.h"
#include "core/layer.h"

/* y (B,O) = act(z), z = x (B,I) w^T + b.  z (B,O) receives z when the
 * activation's backward needs it (sn_act_needs_x); NULL otherwise. */
void sn_dense_forward(const float *x, const float *w, const float *b, float *y, float *z,
                      int B, int I, int O, enum sn_act act);

/* From y (or z, see sn_dense_forward) and dy (B,O): dz = act'(z) * dy into
 * dz (B,O scratch), then dw += dz^T x, db += sum_B dz, dx += dz w.
 * dw/db/dx may be NULL (frozen layer, or the model input). */
void sn_dense_backward(const float *x, const float *w, const float *y, const float *z,
                       const float *dy, float *dz, float *dx, float *dw, float *db,
                       int B, int I, int O, enum sn_act act);

/* A dense layer of `units` outputs reading input shape `in` (flattened).
 * init is the weight rule (SN_INIT_FANIN_UNIFORM is PyTorch's default; its
 * bias is then U(+-1/sqrt(I)), otherwise zero).  SN_ESHAPE if units < 1. */
int sn_dense_create(const char *name, struct sn_shape in, int units, enum sn_act act,
                    enum sn_init init, struct sn_layer **out);

/* Make dense layer l compute y = scale (x W^T + b) (PyTorch: Linear, then
 * a multiplication by the constant: a temperature of the logits).  Linear
 * activation only, scale within [SN_DENSE_SCALE_MIN, SN_DENSE_SCALE_MAX]
 * (a temperature is near 1; 1e20 made every output overflow at the first
 * step); SN_EINVAL otherwise. */
#define SN_DENSE_SCALE_MIN 1e-6
#define SN_DENSE_SCALE_MAX 1e6
int sn_dense_set_scale(struct sn_layer *l, float scale);

#endif
