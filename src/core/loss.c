/* loss: fused, numerically stable losses (see loss.h).
 *
 * Legend: B examples, K outputs per example.  Per-example work is independent,
 * so the loop over B is the parallel one; the loss sum is a reduction in
 * double.
 */
#include "core/loss.h"

#include <math.h>
#include <string.h>

#include "core/status.h"

static const char *const loss_names[] = {
    [SN_LOSS_CROSS_ENTROPY] = "cross_entropy",
    [SN_LOSS_BCE] = "binary_cross_entropy",
    [SN_LOSS_MSE] = "mse",
};

int sn_loss_parse(const char *name, enum sn_loss *out)
{
    for (size_t i = 0; i < sizeof loss_names / sizeof loss_names[0]; i++) {
        if (strcmp(name, loss_names[i]) == 0) {
            *out = (enum sn_loss)i;
            return SN_OK;
        }
    }
    return sn_fail(SN_EINVAL,
                   "unknown loss '%s' (expected cross_entropy, binary_cross_entropy or mse)",
                   name);
}

const char *sn_loss_name(enum sn_loss l)
{
    return loss_names[l];
}

int sn_loss_classes(enum sn_loss loss, int K)
{
    return loss == SN_LOSS_BCE && K == 1 ? 2 : K;
}

int sn_loss_predict(const float *z, int K)
{
    if (K == 1)
        return z[0] > 0.0f;
    int best = 0;
    for (int k = 1; k < K; k++)
        if (z[k] > z[best])
            best = k;
    return best;
}

/* Target t_k of one example: the float target, or one-hot of the label
 * (the label itself when K = 1). */
static inline float target_at(const int *labels, const float *targets, int b, int K,
                              int k)
{
    if (targets)
        return targets[(size_t)b * K + k];
    if (K == 1)
        return (float)labels[b];
    return labels[b] == k ? 1.0f : 0.0f;
}

/* One row: logsumexp(z) - sum_k q_k z_k with q_k = (1 - e) [k = y] + e / K;
 * its gradient is softmax(z) - q. */
static double cross_entropy_row(const float *z, int y, int K, float e, float scale, float *dz)
{
    float m = z[0];
    for (int k = 1; k < K; k++)
        m = z[k] > m ? z[k] : m;
    double s = 0.0;
    for (int k = 0; k < K; k++)
        s += exp((double)(z[k] - m));
    double lse = (double)m + log(s);
    const double off = (double)e / K, on = 1.0 - (double)e + off;
    double qz = 0.0;
    for (int k = 0; k < K && e > 0.0f; k++)
        qz += off * (double)z[k];
    qz += (on - off) * (double)z[y];
    if (dz) {
        for (int k = 0; k < K; k++) {
            double p = exp((double)z[k] - lse);
            dz[k] = scale * (float)(p - (k == y ? on : off));
        }
    }
    return lse - qz;
}

double sn_loss_eval(enum sn_loss loss, const float *z, const int *labels,
                    const float *targets, int B, int K, float smoothing, float grad_scale,
                    float *dz, long *n_correct)
{
    double total = 0.0;
    long correct = 0;
#pragma omp parallel for schedule(static) reduction(+ : total, correct) if (B * K > 8192)
    for (int b = 0; b < B; b++) {
        const float *zr = z + (size_t)b * K;
        float *dzr = dz ? dz + (size_t)b * K : NULL;
        double l = 0.0;
        switch (loss) {
        case SN_LOSS_CROSS_ENTROPY:
            l = cross_entropy_row(zr, labels[b], K, smoothing, grad_scale, dzr);
            break;
        case SN_LOSS_BCE:
            for (int k = 0; k < K; k++) {
                double v = zr[k], t = target_at(labels, targets, b, K, k);
                /* max(v,0) - v t + log1p(exp(-|v|)): no overflow for any v */
                l += (v > 0 ? v : 0) - v * t + log1p(exp(-fabs(v)));
                if (dzr) {
                    double p = v >= 0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
                    dzr[k] = grad_scale * (float)((p - t) / K);
                }
            }
            l /= K;
            break;
        case SN_LOSS_MSE:
            for (int k = 0; k < K; k++) {
                double d = (double)zr[k] - target_at(labels, targets, b, K, k);
                l += d * d;
                if (dzr)
                    dzr[k] = grad_scale * (float)(2.0 * d / K);
            }
            l /= K;
            break;
        }
        total += l;
        if (labels && sn_loss_predict(zr, K) == labels[b])
            correct++;
    }
    if (n_correct)
        *n_correct += correct;
    return total;
}
