/* loss: the training objectives, each fused with its output nonlinearity.
 *
 * Legend: B examples, K outputs.  z (B,K) are the last layer's outputs
 * (logits).  Targets are either integer labels (B) in [0,K) or float
 * targets (B,K).  Definitions and reductions are PyTorch's:
 *   cross_entropy         nn.CrossEntropyLoss on logits (softmax fused):
 *                         l_b = logsumexp(z_b) - z_b[y_b]; with label
 *                         smoothing e (its label_smoothing), the target is
 *                         q_k = (1 - e) [k = y_b] + e / K instead of one-hot:
 *                         l_b = logsumexp(z_b) - sum_k q_k z_bk
 *   binary_cross_entropy  nn.BCEWithLogitsLoss (sigmoid fused), mean over K:
 *                         l_b = mean_k max(z,0) - z t + log(1 + exp(-|z|))
 *   mse                   nn.MSELoss, mean over K: l_b = mean_k (z - t)^2
 * Integer labels stand for one-hot targets in bce (K > 1) and mse; with
 * K = 1, bce takes the label itself (0 or 1) as the target.
 */
#ifndef SN_CORE_LOSS_H
#define SN_CORE_LOSS_H

#include <stdbool.h>

enum sn_loss {
    SN_LOSS_CROSS_ENTROPY,
    SN_LOSS_BCE,
    SN_LOSS_MSE,
};

int sn_loss_parse(const char *name, enum sn_loss *out);
const char *sn_loss_name(enum sn_loss l);

/* Evaluate the loss over B examples.  Exactly one of labels / targets is
 * non-NULL.  smoothing is cross_entropy's label smoothing in [0, 1) (ignored
 * by the other losses; pass 0).  Returns the SUM of the per-example losses l_b (in double, so
 * callers can add sums across batches and ranks and divide once).  When dz
 * is non-NULL, writes dz = grad_scale * d(sum_b l_b)/dz (grad_scale = 1/B
 * gives the gradient of the batch mean).  When n_correct is non-NULL, adds
 * the number of examples whose prediction matches the label (argmax, or
 * z > 0 for bce with K = 1); only counted with integer labels. */
double sn_loss_eval(enum sn_loss loss, const float *z, const int *labels,
                    const float *targets, int B, int K, float smoothing, float grad_scale,
                    float *dz, long *n_correct);

/* The predicted class of one row of outputs (argmax; z > 0 when K = 1). */
int sn_loss_predict(const float *z, int K);

/* Classes a model of K outputs tells apart under loss: K, or 2 for a
 * binary model (binary_cross_entropy, one output: class 1 or 0). */
int sn_loss_classes(enum sn_loss loss, int K);

#endif
