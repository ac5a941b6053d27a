/* recurrent: what rnn, lstm and gru share (each kind's cell is in its own
 * file).  Layouts and definitions are PyTorch's (torch.nn.RNN/LSTM/GRU,
 * batch_first, one layer, one direction).
 *
 * Legend: B batch, T time steps, F input features, H units, G gates
 * (1 rnn, 4 lstm in order i f g o, 3 gru in order r z n), GH = G*H.
 * x (B,T,F); weight_ih (GH,F), weight_hh (GH,H), bias_ih, bias_hh (GH).
 * An image input (1,H,W) is read as T = H steps of F = W features.
 * Output: h_{T-1} (H), or every h_t (T,H) with return_sequences.
 *
 * Speed: the input projection of all T steps is one GEMM up front
 * ((B*T,F) x (F,GH)); each step then adds one (B,H) x (H,GH) GEMM.  In
 * backward the weight gradients of all steps are again one GEMM each.
 */
#ifndef SN_CORE_RECURRENT_H
#define SN_CORE_RECURRENT_H

#include <math.h>
#include <stdbool.h>

#include "core/fastmath.h"
#include "core/layer.h"

struct sn_recurrent {
    struct sn_layer base;   /* first */
    int T, F, H, G;
    bool seq;               /* return_sequences */
    float *gates;           /* B*T*GH: projections, then activated gates (owned) */
    float *hs;              /* B*T*H: h_t (owned) */
    float *cs;              /* B*T*H: lstm cell states (owned, lstm only) */
    float *hh;              /* B*T*GH: gru W_hh h_{t-1} + b_hh (owned, gru only) */
};

/* Backward scratch, carved from the model's workspace. */
struct sn_recurrent_ws {
    float *dpre;            /* B*T*GH: d(input projection) */
    float *dph;             /* B*T*GH: d(hidden projection); == dpre but for gru */
    float *hprev;           /* B*T*H: h_{t-1} (0 at t = 0) */
    float *dH;              /* B*T*H: dL/dh_t from the output */
    float *dhn, *dc;        /* B*H: carried to the previous step */
};

/* A new recurrent layer of kind ops->kind with G gates: shape checks and
 * parameters (PyTorch's U(+-1/sqrt(H)) init).  SN_ESHAPE, SN_ENOMEM. */
int sn_recurrent_create(const struct sn_layer_ops *ops, const char *name, struct sn_shape in,
                        int units, bool seq, int G, struct sn_layer **out);

/* Input and hidden projections of all T steps: 2 T GH (F + H), plus the
 * gate arithmetic (about 4 GH per step). */
double sn_recurrent_flops(const struct sn_layer *l);

/* Stable logistic function for the gates. */
static inline float sn_gate_sigmoid(float v)
{
    return sn_sigmoidf(v);
}
int sn_recurrent_reserve(struct sn_layer *l, int max_batch);
void sn_recurrent_destroy(struct sn_layer *l);
size_t sn_recurrent_workspace_len(const struct sn_layer *l, int B);
size_t sn_recurrent_kept_len(const struct sn_layer *l);
struct sn_recurrent_ws sn_recurrent_ws(const struct sn_recurrent *r, float *ws, int B);

/* The time loops of rnn, lstm and gru run on slices of the batch, one per
 * thread, each slice through all T steps on its own (rows are
 * independent): its step GEMMs are single-threaded and nothing waits at a
 * barrier between steps (one OpenBLAS-threaded GEMM and one parallel loop
 * per step would pay a thread start and a barrier T times).  Slices:
 * min(threads, B); slice s
 * holds rows [s B / n, (s + 1) B / n). */
int sn_recurrent_slices(int B);
static inline int sn_recurrent_slice_start(int s, int n, int B)
{
    return (int)((long)s * B / n);
}

/* gates = x W_ih^T + b_ih (+ b_hh when with_bhh) for all B*T rows. */
void sn_recurrent_project(struct sn_recurrent *r, const float *x, int B, bool with_bhh);

/* y = h_{T-1} or all h_t. */
void sn_recurrent_output(const struct sn_recurrent *r, float *y, int B);

/* w->dH = dL/dh_t from dy; w->hprev = h_{t-1}. */
void sn_recurrent_begin_backward(const struct sn_recurrent *r, const float *dy,
                                 const struct sn_recurrent_ws *w, int B);

/* The GEMMs after the time loop: dW_hh += dph^T hprev, db_ih += sums of
 * dpre, db_hh += sums of dph; then (c's ready: those gradients are final)
 * dW_ih += dpre^T x in RIH_CHUNKS row blocks with a poll after each, and
 * dx += dpre W_ih. */
#define SN_RIH_CHUNKS 8
void sn_recurrent_finish_backward(struct sn_recurrent *r, const float *x,
                                  const struct sn_recurrent_ws *w, float *dx, int B,
                                  const struct sn_ctx *c);

/* dst (B,H) [+]= src (B, GH, row stride ld) x W_hh: the gradient reaching
 * h_{t-1} through the hidden projection. */
void sn_recurrent_hh_back(const struct sn_recurrent *r, const float *src, size_t ld,
                          float *dst, int B, bool accumulate);

#endif
