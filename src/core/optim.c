/* optim: SGD, Adam, AdamW, Adagrad, RMSprop over flat arrays (see optim.h).
 *
 * Each update is elementwise, so the loop over a parameter's elements is
 * the parallel one; no two threads touch one element.
 */
#include "core/optim.h"

#include <math.h>
#include <string.h>

#include "core/status.h"
#include "core/tensor.h"

static const char *const optim_names[] = {
    [SN_OPT_SGD] = "sgd",         [SN_OPT_ADAM] = "adam", [SN_OPT_ADAMW] = "adamw",
    [SN_OPT_ADAGRAD] = "adagrad", [SN_OPT_RMSPROP] = "rmsprop",
};

int sn_optim_parse(const char *name, enum sn_optim_kind *out)
{
    for (size_t i = 0; i < sizeof optim_names / sizeof optim_names[0]; i++) {
        if (strcmp(name, optim_names[i]) == 0) {
            *out = (enum sn_optim_kind)i;
            return SN_OK;
        }
    }
    return sn_fail(SN_EINVAL,
                   "unknown optimizer '%s' (expected sgd, adam, adamw, adagrad or rmsprop)",
                   name);
}

const char *sn_optim_name(enum sn_optim_kind k)
{
    return optim_names[k];
}

struct sn_optim_cfg sn_optim_defaults(enum sn_optim_kind kind)
{
    struct sn_optim_cfg c = { .kind = kind, .beta1 = 0.9f, .beta2 = 0.999f,
                              .eps = 1e-8f, .alpha = 0.99f };
    if (kind == SN_OPT_ADAGRAD)
        c.eps = 1e-10f;
    if (kind == SN_OPT_ADAMW)
        c.weight_decay = 0.01f;
    return c;
}

bool sn_optim_reads(enum sn_optim_kind kind, const char *key)
{
    enum { SGD = 1 << SN_OPT_SGD, ADAM = 1 << SN_OPT_ADAM | 1 << SN_OPT_ADAMW,
           ADAGRAD = 1 << SN_OPT_ADAGRAD, RMSPROP = 1 << SN_OPT_RMSPROP };
    static const struct {
        const char *key;
        unsigned kinds;
    } keys[] = {
        { "momentum", SGD | RMSPROP }, { "nesterov", SGD }, { "beta1", ADAM }, { "beta2", ADAM },
        { "eps", ADAM | ADAGRAD | RMSPROP }, { "alpha", RMSPROP },
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].key, key) == 0)
            return (keys[i].kinds >> kind) & 1u;
    return true;
}

int sn_optim_state_names(const struct sn_optim_cfg *cfg, const char *names[SN_OPTIM_MAX_STATES])
{
    int n = 0;
    switch (cfg->kind) {
    case SN_OPT_SGD:
        if (cfg->momentum > 0.0f)
            names[n++] = "momentum_buffer";
        break;
    case SN_OPT_ADAM:
    case SN_OPT_ADAMW:
        names[n++] = "exp_avg";
        names[n++] = "exp_avg_sq";
        break;
    case SN_OPT_ADAGRAD:
        names[n++] = "sum";
        break;
    case SN_OPT_RMSPROP:
        names[n++] = "square_avg";
        if (cfg->momentum > 0.0f)
            names[n++] = "momentum_buffer";
        break;
    }
    if (cfg->lookahead_k > 0)   /* the last state but ema */
        names[n++] = "slow_weights";
    if (cfg->ema > 0.0f)   /* always the last state */
        names[n++] = "ema";
    return n;
}

int sn_optim_init(struct sn_optim *o, const struct sn_optim_cfg *cfg, size_t len)
{
    return sn_optim_init_block(o, cfg, 0, len);
}

int sn_optim_init_block(struct sn_optim *o, const struct sn_optim_cfg *cfg, size_t lo, size_t len)
{
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->lo = lo;
    o->len = len;
    if (!(cfg->momentum >= 0.0f && cfg->momentum < 1.0f))
        return sn_fail(SN_EINVAL, "momentum must be in [0, 1), got %g", cfg->momentum);
    if (!(cfg->weight_decay >= 0.0f))
        return sn_fail(SN_EINVAL, "weight_decay must be >= 0, got %g", cfg->weight_decay);
    if (!(cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f) || !(cfg->beta2 >= 0.0f && cfg->beta2 < 1.0f))
        return sn_fail(SN_EINVAL, "beta1 and beta2 must be in [0, 1), got %g, %g",
                       cfg->beta1, cfg->beta2);
    if (!(cfg->eps > 0.0f))
        return sn_fail(SN_EINVAL, "eps must be > 0, got %g", cfg->eps);
    if (!(cfg->alpha >= 0.0f && cfg->alpha < 1.0f))
        return sn_fail(SN_EINVAL, "alpha must be in [0, 1), got %g", cfg->alpha);
    if (cfg->nesterov && !(cfg->kind == SN_OPT_SGD && cfg->momentum > 0.0f))
        return sn_fail(SN_EINVAL, "nesterov needs optimizer sgd with momentum > 0");
    if (!(cfg->ema >= 0.0f && cfg->ema < 1.0f) || (cfg->ema > 0.0f && cfg->ema_every < 1))
        return sn_fail(SN_EINVAL, "ema must be in [0, 1) with ema_every >= 1, got %g and %d",
                       cfg->ema, cfg->ema_every);
    if (cfg->lookahead_k < 0 ||
        (cfg->lookahead_k > 0 && !(cfg->lookahead_alpha > 0.0f && cfg->lookahead_alpha <= 1.0f)))
        return sn_fail(SN_EINVAL, "lookahead_k must be >= 0 and lookahead_alpha in (0, 1], got "
                       "%d and %g", cfg->lookahead_k, cfg->lookahead_alpha);

    o->n_states = sn_optim_state_names(cfg, o->state_names);
    for (int i = 0; i < o->n_states; i++) {
        o->state[i] = sn_alloc_f32(len ? len : 1);
        if (!o->state[i]) {
            sn_optim_deinit(o);
            return sn_fail(SN_ENOMEM, "optimizer: out of memory for %zu floats", len);
        }
    }
    return SN_OK;
}

int sn_optim_count_states(const struct sn_optim_cfg *cfg)
{
    struct sn_optim o;
    int n = sn_optim_init(&o, cfg, 1) == SN_OK ? o.n_states : 0;
    sn_optim_deinit(&o);
    return n;
}

void sn_optim_deinit(struct sn_optim *o)
{
    for (int i = 0; i < SN_OPTIM_MAX_STATES; i++) {
        sn_free(o->state[i]);
        o->state[i] = NULL;
    }
}

/* The update loops below have no branch inside (each variant is its own
 * loop) and are marked simd: written with the variant chosen per element,
 * GCC left the momentum ones scalar (the MLP's optimizer step took 25% of
 * its 1.7 ms training step).  w, dw and the state never overlap.  Each
 * takes the parameter's lr, its coupled decay wd (0 when decoupled) and
 * its decoupled shrink factor (1 when coupled): w * 1 and dw + 0 w are
 * exact, so either way is the plain formula's bits. */
struct rates {
    float lr, wd, shrink;
};

static void sgd_update(const struct sn_optim_cfg *c, struct rates r, float *w, const float *dw,
                       float *buf, size_t n)
{
    const float mu = c->momentum, wd = r.wd, lr = r.lr, sh = r.shrink;
    if (!buf) {
#pragma omp parallel for simd schedule(static) if (parallel: n > 32768)
        for (size_t i = 0; i < n; i++) {
            float g = dw[i] + wd * w[i];
            w[i] = w[i] * sh - lr * g;
        }
    } else if (c->nesterov) {
#pragma omp parallel for simd schedule(static) if (parallel: n > 32768)
        for (size_t i = 0; i < n; i++) {
            float g = dw[i] + wd * w[i];
            buf[i] = mu * buf[i] + g;
            w[i] = w[i] * sh - lr * (g + mu * buf[i]);
        }
    } else {
#pragma omp parallel for simd schedule(static) if (parallel: n > 32768)
        for (size_t i = 0; i < n; i++) {
            buf[i] = mu * buf[i] + (dw[i] + wd * w[i]);
            w[i] = w[i] * sh - lr * buf[i];
        }
    }
}

static void adam_update(const struct sn_optim_cfg *c, struct rates r, float *w, const float *dw,
                        float *m, float *v, size_t n, int64_t t)
{
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps, wd = r.wd, sh = r.shrink;
    const float bc1 = 1.0f - powf(b1, (float)t), bc2 = 1.0f - powf(b2, (float)t);
    const float step_size = r.lr / bc1, bc2_sqrt = sqrtf(bc2);
#pragma omp parallel for simd schedule(static) if (parallel: n > 32768)
    for (size_t i = 0; i < n; i++) {
        float g = dw[i] + wd * w[i];
        w[i] *= sh;
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        w[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

static void adagrad_update(const struct sn_optim_cfg *c, struct rates r, float *w,
                           const float *dw, float *s, size_t n)
{
    const float wd = r.wd, eps = c->eps, lr = r.lr, sh = r.shrink;
#pragma omp parallel for simd schedule(static) if (parallel: n > 32768)
    for (size_t i = 0; i < n; i++) {
        float g = dw[i] + wd * w[i];
        s[i] += g * g;
        w[i] = w[i] * sh - lr * g / (sqrtf(s[i]) + eps);
    }
}

static void rmsprop_update(const struct sn_optim_cfg *c, struct rates r, float *w,
                           const float *dw, float *s, float *buf, size_t n)
{
    const float wd = r.wd, eps = c->eps, a = c->alpha, mu = c->momentum, lr = r.lr;
    const float sh = r.shrink;
    if (!buf) {
#pragma omp parallel for simd schedule(static) if (parallel: n > 32768)
        for (size_t i = 0; i < n; i++) {
            float g = dw[i] + wd * w[i];
            s[i] = a * s[i] + (1.0f - a) * g * g;
            w[i] = w[i] * sh - lr * (g / (sqrtf(s[i]) + eps));
        }
    } else {
#pragma omp parallel for simd schedule(static) if (parallel: n > 32768)
        for (size_t i = 0; i < n; i++) {
            float g = dw[i] + wd * w[i];
            s[i] = a * s[i] + (1.0f - a) * g * g;
            buf[i] = mu * buf[i] + g / (sqrtf(s[i]) + eps);
            w[i] = w[i] * sh - lr * buf[i];
        }
    }
}

/* The rates of parameter p at learning rate lr (see optim.h). */
static struct rates rates_of(const struct sn_optim_cfg *c, const struct sn_param *p, float lr)
{
    struct rates r = { .lr = lr * p->lr_mult, .wd = c->weight_decay * p->wd_mult,
                       .shrink = 1.0f };
    if (c->decoupled_wd || c->kind == SN_OPT_ADAMW) {
        r.shrink = 1.0f - r.lr * r.wd;
        r.wd = 0.0f;
    }
    return r;
}

/* The part [a, b) of parameter pr inside o's block; false if none. */
static bool block_part(const struct sn_optim *o, const struct sn_param *pr, size_t *a, size_t *b)
{
    const size_t lo = o->lo, hi = o->lo + o->len;
    *a = pr->offset < lo ? lo - pr->offset : 0;
    *b = pr->offset + pr->len > hi ? (hi > pr->offset ? hi - pr->offset : 0) : pr->len;
    return pr->trainable && *a < *b;
}

bool sn_optim_has_average(const struct sn_optim *o)
{
    return o->cfg.ema > 0.0f && o->t >= o->cfg.ema_every;
}

void sn_optim_load_average(const struct sn_optim *o, struct sn_param *const *params, int n)
{
    if (!sn_optim_has_average(o))
        return;
    const float *ema = o->state[o->n_states - 1];
    for (int p = 0; p < n; p++) {
        size_t a, b;
        if (block_part(o, params[p], &a, &b))
            memcpy(params[p]->w + a, ema + params[p]->offset + a - o->lo, (b - a) * sizeof *ema);
    }
}

/* The k-th average (k >= 1) of every trainable part in the block. */
static void average(struct sn_optim *o, struct sn_param *const *params, int n, int64_t k)
{
    float d = o->cfg.ema;
    if (o->cfg.ema_warmup && (float)(1 + k) / (float)(10 + k) < d)
        d = (float)(1 + k) / (float)(10 + k);
    float *ema = o->state[o->n_states - 1];
    for (int p = 0; p < n; p++) {
        size_t a, b;
        if (!block_part(o, params[p], &a, &b))
            continue;
        const float *w = params[p]->w + a;
        float *e = ema + params[p]->offset + a - o->lo;
        if (k == 1) {
            memcpy(e, w, (b - a) * sizeof *e);
            continue;
        }
#pragma omp simd
        for (size_t i = 0; i < b - a; i++)
            e[i] = d * e[i] + (1.0f - d) * w[i];
    }
}

/* Lookahead's slow weights: before step 1 they take the weights; after
 * every k-th step they move alpha of the way to the weights, which then
 * take their value. */
static void lookahead(struct sn_optim *o, struct sn_param *const *params, int n, bool start)
{
    float *slow = o->state[o->n_states - 1 - (o->cfg.ema > 0.0f)];
    const float alpha = o->cfg.lookahead_alpha;
    for (int p = 0; p < n; p++) {
        size_t a, b;
        if (!block_part(o, params[p], &a, &b))
            continue;
        float *w = params[p]->w + a;
        float *s = slow + params[p]->offset + a - o->lo;
        if (start) {
            memcpy(s, w, (b - a) * sizeof *s);
            continue;
        }
#pragma omp simd
        for (size_t i = 0; i < b - a; i++) {
            s[i] += alpha * (w[i] - s[i]);
            w[i] = s[i];
        }
    }
}

void sn_optim_step(struct sn_optim *o, struct sn_param *const *params, int n, float lr)
{
    const int k = o->cfg.lookahead_k;
    if (k > 0 && o->t == 0)
        lookahead(o, params, n, true);
    o->t++;
    const size_t lo = o->lo;
    /* the kind's own states come first; slow_weights and ema are not its */
    const int own = o->n_states - (k > 0) - (o->cfg.ema > 0.0f);
    for (int p = 0; p < n; p++) {
        struct sn_param *pr = params[p];
        size_t a, b;   /* the part of this parameter inside the block */
        if (!block_part(o, pr, &a, &b))
            continue;
        float *w = pr->w + a, *dw = pr->dw + a;
        size_t len = b - a, at = pr->offset + a - lo;   /* where its state starts */
        float *s0 = own > 0 ? o->state[0] + at : NULL;
        float *s1 = own > 1 ? o->state[1] + at : NULL;
        struct rates r = rates_of(&o->cfg, pr, lr);
        switch (o->cfg.kind) {
        case SN_OPT_SGD:
            sgd_update(&o->cfg, r, w, dw, s0, len);
            break;
        case SN_OPT_ADAM:
        case SN_OPT_ADAMW:
            adam_update(&o->cfg, r, w, dw, s0, s1, len, o->t);
            break;
        case SN_OPT_ADAGRAD:
            adagrad_update(&o->cfg, r, w, dw, s0, len);
            break;
        case SN_OPT_RMSPROP:
            rmsprop_update(&o->cfg, r, w, dw, s0, s1, len);
            break;
        }
    }
    if (k > 0 && o->t % k == 0)
        lookahead(o, params, n, false);
    if (o->cfg.ema > 0.0f && o->t % o->cfg.ema_every == 0)
        average(o, params, n, o->t / o->cfg.ema_every);
}

double sn_sumsq(const float *g, size_t n)
{
    enum { PARTS = 64 };   /* fixed split: the same sum on any thread count */
    double part[PARTS];
    const size_t per = (n + PARTS - 1) / PARTS;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int k = 0; k < PARTS; k++) {
        size_t lo = (size_t)k * per < n ? (size_t)k * per : n;
        size_t hi = lo + per < n ? lo + per : n;
        double acc = 0.0;
        for (size_t b = lo; b < hi; b += 4096) {   /* float sums of 4096 values */
            size_t e = b + 4096 < hi ? b + 4096 : hi;
            float s = 0.0f;
#pragma omp simd reduction(+ : s)
            for (size_t i = b; i < e; i++)
                s += g[i] * g[i];
            acc += (double)s;
        }
        part[k] = acc;
    }
    double total = 0.0;
    for (int k = 0; k < PARTS; k++)
        total += part[k];
    return total;
}
