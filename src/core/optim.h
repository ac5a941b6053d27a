/* optim: optimizers over flat parameter arrays, with PyTorch's semantics
 * (torch.optim docs) so trajectories can be compared step for step.
 *
 * Each parameter p gets lr = lr(t) * p->lr_mult and wd = weight_decay *
 * p->wd_mult (parameter groups; the multipliers are 1 unless the model file
 * says otherwise).  Weight decay is coupled (PyTorch's SGD, Adam, Adagrad,
 * RMSprop: wd w is added to the gradient, and so goes through momentum and
 * the adaptive scaling) or decoupled (adamw, or any kind with
 * decoupled_wd; Loshchilov & Hutter 2019, "SGDW" for sgd): before the
 * update, w *= 1 - lr wd, and the update sees the plain gradient.
 *
 *   sgd      g = dw + wd w; buf = momentum buf + g;
 *            w -= lr (nesterov ? g + momentum buf : buf)   (buf = g if momentum 0)
 *   adam     g = dw + wd w; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *            w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 *   adamw    w *= 1 - lr wd, then adam with wd = 0
 *   adagrad  g = dw + wd w; s += g^2; w -= lr g / (sqrt(s) + eps)
 *   rmsprop  g = dw + wd w; s = alpha s + (1-alpha) g^2; d = g / (sqrt(s) + eps);
 *            buf = momentum buf + d; w -= lr (momentum ? buf : d)
 * State arrays have PyTorch's names (momentum_buffer, exp_avg, exp_avg_sq,
 * sum, square_avg; slow_weights for Lookahead, ema for the weight average)
 * and cover the parameter arena, or with a sharded
 * optimizer (ZeRO stage 1) one block [lo, lo + len) of it: every update is
 * elementwise, so a rank that owns a block updates exactly those elements
 * and keeps only their state.
 */
#ifndef SN_CORE_OPTIM_H
#define SN_CORE_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/layer.h"

enum sn_optim_kind { SN_OPT_SGD, SN_OPT_ADAM, SN_OPT_ADAMW, SN_OPT_ADAGRAD, SN_OPT_RMSPROP };

struct sn_optim_cfg {
    enum sn_optim_kind kind;
    float momentum;       /* sgd, rmsprop */
    bool nesterov;        /* sgd */
    float weight_decay;
    bool decoupled_wd;    /* w *= 1 - lr wd before the update (always for adamw) */
    float beta1, beta2;   /* adam, adamw */
    float eps;            /* adam, adamw, adagrad, rmsprop */
    float alpha;          /* rmsprop smoothing */
    /* weight averaging: every ema_every steps the state "ema" becomes
     * d ema + (1 - d) w, d = ema (with ema_warmup: min(ema, (1 + k) / (10 + k))
     * at the k-th average, TensorFlow's ExponentialMovingAverage); the first
     * average copies w (PyTorch's AveragedModel).  0: off. */
    float ema;
    int ema_every;
    bool ema_warmup;
    /* Lookahead (Zhang et al. 2019, "Lookahead Optimizer: k steps forward,
     * 1 step back", Algorithm 1): the state "slow_weights" takes the
     * weights as they are before step 1; after every lookahead_k-th step,
     * slow += lookahead_alpha (w - slow), then w = slow.  The other states
     * carry on across these syncs.  lookahead_k 0: off. */
    int lookahead_k;
    float lookahead_alpha;
};

#define SN_OPTIM_MAX_STATES 4

struct sn_optim {
    struct sn_optim_cfg cfg;
    int64_t t;                                   /* steps taken */
    size_t lo;                                   /* first arena element updated */
    size_t len;                                  /* elements updated (and state length) */
    int n_states;
    const char *state_names[SN_OPTIM_MAX_STATES];
    float *state[SN_OPTIM_MAX_STATES];           /* owned, len floats each */
};

int sn_optim_parse(const char *name, enum sn_optim_kind *out);
const char *sn_optim_name(enum sn_optim_kind k);

/* The default hyperparameters of a kind (PyTorch's defaults; momentum 0). */
struct sn_optim_cfg sn_optim_defaults(enum sn_optim_kind kind);

/* Whether optimizers of this kind read the setting named key (momentum,
 * nesterov, beta1, beta2, eps, alpha); the others apply to every kind. */
bool sn_optim_reads(enum sn_optim_kind kind, const char *key);

/* Set up o for a parameter arena of len floats; state zeroed.  SN_EINVAL for
 * a bad hyperparameter (named), SN_ENOMEM. */
int sn_optim_init(struct sn_optim *o, const struct sn_optim_cfg *cfg, size_t len);

/* The same for the block [lo, lo + len) of the arena only. */
int sn_optim_init_block(struct sn_optim *o, const struct sn_optim_cfg *cfg, size_t lo, size_t len);
/* The state arrays an optimizer of cfg keeps per parameter, in their order
 * (checkpoints name them: "momentum_buffer", "exp_avg", ..., "slow_weights"
 * for Lookahead, "ema" last); returns their count. */
int sn_optim_state_names(const struct sn_optim_cfg *cfg, const char *names[SN_OPTIM_MAX_STATES]);
void sn_optim_deinit(struct sn_optim *o);

/* How many state arrays cfg's optimizer keeps per parameter (0 if cfg is
 * not valid: sn_optim_init says why). */
int sn_optim_count_states(const struct sn_optim_cfg *cfg);

/* Squared L2 norm of g[0..n), the global norm of gradient clipping (and
 * the trainer's finiteness check): 64 fixed parts, each a double sum of
 * vectorised float sums over 4096 values, added in part order: the same
 * bits on any thread count, so every rank takes the same clipping step. */
double sn_sumsq(const float *g, size_t n);

/* Whether the average holds anything yet (ema on and one average taken). */
bool sn_optim_has_average(const struct sn_optim *o);

/* Copy the average into every trainable parameter's part inside o's block
 * (the caller keeps the live weights to put back).  Never allocates. */
void sn_optim_load_average(const struct sn_optim *o, struct sn_param *const *params, int n);

/* One update of every trainable parameter in params[0..n-1] (which point
 * into the arena whose state o holds, at their offsets), or of the part of
 * each inside o's block, with learning rate lr (times each parameter's
 * lr_mult); then Lookahead's sync and the weight average when their step
 * has come.  Never allocates. */
void sn_optim_step(struct sn_optim *o, struct sn_param *const *params, int n, float lr);

#endif
