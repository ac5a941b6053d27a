/* lstm: the LSTM cell forward and backward through time (see lstm.h and
 * recurrent.h for the legend).  gates holds the activated i f g o of every
 * step, cs the cell states.  backward, per step, with tc = tanh(c_t):
 *   dh = dH_t + dh_next;  do = dh tc;  dc = dc_next + dh o (1 - tc^2)
 *   di = dc g;  dg = dc i;  df = dc c_{t-1};  dc_next = dc f
 *   dpre = (di i(1-i), df f(1-f), dg (1-g^2), do o(1-o));  dh_next = dpre W_hh
 */
#include "core/lstm.h"

#include <math.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/recurrent.h"
#include "core/status.h"

static void lstm_forward(struct sn_layer *l, const float *const *x, float *y,
                         const struct sn_ctx *c)
{
    struct sn_recurrent *r = (struct sn_recurrent *)l;
    const int B = c->B, T = r->T, H = r->H, GH = 4 * H, ns = sn_recurrent_slices(B);
    const size_t ldg = (size_t)T * GH, ldh = (size_t)T * H;
    sn_recurrent_project(r, x[0], B, true);
#pragma omp parallel for schedule(static) num_threads(ns)
    for (int s = 0; s < ns; s++) {
        const int b0 = sn_recurrent_slice_start(s, ns, B);
        const int b1 = sn_recurrent_slice_start(s + 1, ns, B);
        for (int t = 0; t < T; t++) {
            if (t > 0)
                sn_sgemm(false, true, b1 - b0, GH, H, 1.0f,
                         r->hs + b0 * ldh + (size_t)(t - 1) * H, (int)ldh, l->params[1].w, H,
                         1.0f, r->gates + b0 * ldg + (size_t)t * GH, (int)ldg);
            for (int b = b0; b < b1; b++) {
                float *g = r->gates + b * ldg + (size_t)t * GH;
                const float *cp = t > 0 ? r->cs + b * ldh + (size_t)(t - 1) * H : NULL;
                float *cc = r->cs + b * ldh + (size_t)t * H;
                float *hh = r->hs + b * ldh + (size_t)t * H;
#pragma omp simd
                for (int k = 0; k < H; k++) {
                    float i = sn_gate_sigmoid(g[k]), f = sn_gate_sigmoid(g[H + k]),
                          gg = sn_tanhf(g[2 * H + k]), o = sn_gate_sigmoid(g[3 * H + k]);
                    g[k] = i;
                    g[H + k] = f;
                    g[2 * H + k] = gg;
                    g[3 * H + k] = o;
                    cc[k] = (cp ? f * cp[k] : 0.0f) + i * gg;
                    hh[k] = o * sn_tanhf(cc[k]);
                }
            }
        }
    }
    sn_recurrent_output(r, y, B);
}

static void lstm_backward(struct sn_layer *l, const float *const *x, const float *y,
                          const float *dy, float *const *dx, const struct sn_ctx *c)
{
    struct sn_recurrent *r = (struct sn_recurrent *)l;
    const int B = c->B, T = r->T, H = r->H, GH = 4 * H, ns = sn_recurrent_slices(B);
    const size_t ldg = (size_t)T * GH, ldh = (size_t)T * H;
    struct sn_recurrent_ws w = sn_recurrent_ws(r, c->ws, B);
    sn_recurrent_begin_backward(r, dy, &w, B);
#pragma omp parallel for schedule(static) num_threads(ns)
    for (int s = 0; s < ns; s++) {
        const int b0 = sn_recurrent_slice_start(s, ns, B);
        const int b1 = sn_recurrent_slice_start(s + 1, ns, B);
        for (int t = T - 1; t >= 0; t--) {
            for (int b = b0; b < b1; b++) {
                const float *g = r->gates + b * ldg + (size_t)t * GH;
                const float *cc = r->cs + b * ldh + (size_t)t * H;
                const float *cp = t > 0 ? cc - H : NULL;
                const float *dH = w.dH + b * ldh + (size_t)t * H;
                float *dp = w.dpre + b * ldg + (size_t)t * GH;
                float *dhn = w.dhn + (size_t)b * H, *dc = w.dc + (size_t)b * H;
#pragma omp simd
                for (int k = 0; k < H; k++) {
                    float i = g[k], f = g[H + k], gg = g[2 * H + k], o = g[3 * H + k];
                    float tc = sn_tanhf(cc[k]), dh = dH[k] + dhn[k];
                    float dO = dh * tc, dcv = dc[k] + dh * o * (1.0f - tc * tc);
                    float di = dcv * gg, dg = dcv * i, df = dcv * (cp ? cp[k] : 0.0f);
                    dc[k] = dcv * f;
                    dp[k] = di * i * (1.0f - i);
                    dp[H + k] = df * f * (1.0f - f);
                    dp[2 * H + k] = dg * (1.0f - gg * gg);
                    dp[3 * H + k] = dO * o * (1.0f - o);
                }
            }
            if (t > 0)   /* dh_next of the slice's rows = dpre W_hh */
                sn_recurrent_hh_back(r, w.dpre + b0 * ldg + (size_t)t * GH, ldg,
                                     w.dhn + (size_t)b0 * H, b1 - b0, false);
            sn_ctx_poll(c);
        }
    }
    sn_recurrent_finish_backward(r, x[0], &w, dx[0], B, c);
}

static const struct sn_layer_ops lstm_ops = {
    .kind = "lstm",
    .workspace_len = sn_recurrent_workspace_len,
    .flops = sn_recurrent_flops,
    .reserve = sn_recurrent_reserve,
    .kept_len = sn_recurrent_kept_len,
    .forward = lstm_forward,
    .backward = lstm_backward,
    .destroy = sn_recurrent_destroy,
};

int sn_lstm_create(const char *name, struct sn_shape in, int units, bool return_sequences,
                  struct sn_layer **out)
{
    return sn_recurrent_create(&lstm_ops, name, in, units, return_sequences, 4, out);
}
