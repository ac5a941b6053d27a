/* rnn: the tanh cell forward and backward through time (see rnn.h and
 * recurrent.h for the legend).  backward: dpre_t = (dH_t + dh_{t+1}) (1 - h_t^2),
 * dh_t (for step t-1) = dpre_t W_hh. */
#include "core/rnn.h"

#include <math.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/recurrent.h"
#include "core/status.h"

static void rnn_forward(struct sn_layer *l, const float *const *x, float *y,
                        const struct sn_ctx *c)
{
    struct sn_recurrent *r = (struct sn_recurrent *)l;
    const int B = c->B, T = r->T, H = r->H, ns = sn_recurrent_slices(B);
    const size_t ld = (size_t)T * H;
    sn_recurrent_project(r, x[0], B, true);
#pragma omp parallel for schedule(static) num_threads(ns)
    for (int s = 0; s < ns; s++) {   /* slices of the batch (recurrent.h) */
        const int b0 = sn_recurrent_slice_start(s, ns, B);
        const int b1 = sn_recurrent_slice_start(s + 1, ns, B);
        for (int t = 0; t < T; t++) {
            float *pre = r->gates + (size_t)t * H;
            if (t > 0)
                sn_sgemm(false, true, b1 - b0, H, H, 1.0f, r->hs + b0 * ld + (size_t)(t - 1) * H,
                         (int)ld, l->params[1].w, H, 1.0f, pre + b0 * ld, (int)ld);
            for (int b = b0; b < b1; b++)
#pragma omp simd
                for (int k = 0; k < H; k++)
                    r->hs[b * ld + (size_t)t * H + k] = sn_tanhf(pre[b * ld + k]);
        }
    }
    sn_recurrent_output(r, y, B);
}

static void rnn_backward(struct sn_layer *l, const float *const *x, const float *y,
                         const float *dy, float *const *dx, const struct sn_ctx *c)
{
    struct sn_recurrent *r = (struct sn_recurrent *)l;
    const int B = c->B, T = r->T, H = r->H, ns = sn_recurrent_slices(B);
    const size_t ld = (size_t)T * H;
    struct sn_recurrent_ws w = sn_recurrent_ws(r, c->ws, B);
    sn_recurrent_begin_backward(r, dy, &w, B);
#pragma omp parallel for schedule(static) num_threads(ns)
    for (int s = 0; s < ns; s++) {
        const int b0 = sn_recurrent_slice_start(s, ns, B);
        const int b1 = sn_recurrent_slice_start(s + 1, ns, B);
        for (int t = T - 1; t >= 0; t--) {
            for (int b = b0; b < b1; b++)
#pragma omp simd
                for (int k = 0; k < H; k++) {
                    size_t at = b * ld + (size_t)t * H + k;
                    float h = r->hs[at], dh = w.dH[at] + w.dhn[(size_t)b * H + k];
                    w.dpre[at] = dh * (1.0f - h * h);
                }
            if (t > 0)
                sn_recurrent_hh_back(r, w.dpre + b0 * ld + (size_t)t * H, ld,
                                     w.dhn + (size_t)b0 * H, b1 - b0, false);
            sn_ctx_poll(c);
        }
    }
    sn_recurrent_finish_backward(r, x[0], &w, dx[0], B, c);
}

static const struct sn_layer_ops rnn_ops = {
    .kind = "rnn",
    .workspace_len = sn_recurrent_workspace_len,
    .flops = sn_recurrent_flops,
    .reserve = sn_recurrent_reserve,
    .kept_len = sn_recurrent_kept_len,
    .forward = rnn_forward,
    .backward = rnn_backward,
    .destroy = sn_recurrent_destroy,
};

int sn_rnn_create(const char *name, struct sn_shape in, int units, bool return_sequences,
                  struct sn_layer **out)
{
    return sn_recurrent_create(&rnn_ops, name, in, units, return_sequences, 1, out);
}
