/* gru: the GRU cell forward and backward through time (see gru.h and
 * recurrent.h for the legend).  gates holds the input projections, then
 * the activated r z n; hh holds W_hh h_{t-1} + b_hh of every step (n needs
 * its third block).  backward, per step, with hn = (W_hn h + b_hn):
 *   dh = dH_t + dh_next;  dn = dh (1-z);  dz = dh (h_{t-1} - n)
 *   dn' = dn (1-n^2);  dz' = dz z(1-z);  dr' = dn' hn r(1-r)
 *   d(input proj) = (dr', dz', dn');  d(hidden proj) = (dr', dz', dn' r)
 *   dh_next = dh z + d(hidden proj) W_hh
 */
#include "core/gru.h"

#include <math.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/recurrent.h"
#include "core/status.h"

static void gru_forward(struct sn_layer *l, const float *const *x, float *y,
                        const struct sn_ctx *c)
{
    struct sn_recurrent *r = (struct sn_recurrent *)l;
    const int B = c->B, T = r->T, H = r->H, GH = 3 * H, ns = sn_recurrent_slices(B);
    const size_t ldg = (size_t)T * GH, ldh = (size_t)T * H;
    const float *bhh = l->params[3].w;
    sn_recurrent_project(r, x[0], B, false);
#pragma omp parallel for schedule(static) num_threads(ns)
    for (int s = 0; s < ns; s++) {   /* slices of the batch (recurrent.h) */
        const int b0 = sn_recurrent_slice_start(s, ns, B);
        const int b1 = sn_recurrent_slice_start(s + 1, ns, B);
        for (int t = 0; t < T; t++) {
            for (int b = b0; b < b1; b++)
                for (int k = 0; k < GH; k++)
                    r->hh[b * ldg + (size_t)t * GH + k] = bhh[k];
            if (t > 0)
                sn_sgemm(false, true, b1 - b0, GH, H, 1.0f,
                         r->hs + b0 * ldh + (size_t)(t - 1) * H, (int)ldh, l->params[1].w, H,
                         1.0f, r->hh + b0 * ldg + (size_t)t * GH, (int)ldg);
            for (int b = b0; b < b1; b++) {
                float *g = r->gates + b * ldg + (size_t)t * GH;
                const float *hv = r->hh + b * ldg + (size_t)t * GH;
                const float *hp = t > 0 ? r->hs + b * ldh + (size_t)(t - 1) * H : NULL;
                float *h = r->hs + b * ldh + (size_t)t * H;
#pragma omp simd
                for (int k = 0; k < H; k++) {
                    float rr = sn_gate_sigmoid(g[k] + hv[k]),
                          z = sn_gate_sigmoid(g[H + k] + hv[H + k]);
                    float n = sn_tanhf(g[2 * H + k] + rr * hv[2 * H + k]);
                    g[k] = rr;
                    g[H + k] = z;
                    g[2 * H + k] = n;
                    h[k] = (1.0f - z) * n + z * (hp ? hp[k] : 0.0f);
                }
            }
        }
    }
    sn_recurrent_output(r, y, B);
}

static void gru_backward(struct sn_layer *l, const float *const *x, const float *y,
                         const float *dy, float *const *dx, const struct sn_ctx *c)
{
    struct sn_recurrent *r = (struct sn_recurrent *)l;
    const int B = c->B, T = r->T, H = r->H, GH = 3 * H, ns = sn_recurrent_slices(B);
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
                const float *hv = r->hh + b * ldg + (size_t)t * GH;
                const float *hp = w.hprev + b * ldh + (size_t)t * H;
                const float *dH = w.dH + b * ldh + (size_t)t * H;
                float *dp = w.dpre + b * ldg + (size_t)t * GH;
                float *dq = w.dph + b * ldg + (size_t)t * GH;
                float *dhn = w.dhn + (size_t)b * H;
#pragma omp simd
                for (int k = 0; k < H; k++) {
                    float rr = g[k], z = g[H + k], n = g[2 * H + k];
                    float dh = dH[k] + dhn[k];
                    float dn = dh * (1.0f - z), dz = dh * (hp[k] - n);
                    float dnp = dn * (1.0f - n * n), dzp = dz * z * (1.0f - z);
                    float drp = dnp * hv[2 * H + k] * rr * (1.0f - rr);
                    dp[k] = drp;
                    dp[H + k] = dzp;
                    dp[2 * H + k] = dnp;
                    dq[k] = drp;
                    dq[H + k] = dzp;
                    dq[2 * H + k] = dnp * rr;
                    dhn[k] = dh * z;
                }
            }
            if (t > 0)
                sn_recurrent_hh_back(r, w.dph + b0 * ldg + (size_t)t * GH, ldg,
                                     w.dhn + (size_t)b0 * H, b1 - b0, true);
            sn_ctx_poll(c);
        }
    }
    sn_recurrent_finish_backward(r, x[0], &w, dx[0], B, c);
}

static const struct sn_layer_ops gru_ops = {
    .kind = "gru",
    .workspace_len = sn_recurrent_workspace_len,
    .flops = sn_recurrent_flops,
    .reserve = sn_recurrent_reserve,
    .kept_len = sn_recurrent_kept_len,
    .forward = gru_forward,
    .backward = gru_backward,
    .destroy = sn_recurrent_destroy,
};

int sn_gru_create(const char *name, struct sn_shape in, int units, bool return_sequences,
                  struct sn_layer **out)
{
    return sn_recurrent_create(&gru_ops, name, in, units, return_sequences, 3, out);
}
