/* recurrent: shared plumbing of rnn, lstm and gru (see recurrent.h). */
#include "core/recurrent.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/checked.h"
#include "core/parallel.h"
#include "core/status.h"
#include "core/tensor.h"

int sn_recurrent_create(const struct sn_layer_ops *ops, const char *name, struct sn_shape in,
                        int units, bool seq, int G, struct sn_layer **out)
{
    const char *kind = ops->kind;
    char s[64];
    int T, F;
    if (in.ndim == 2) {
        T = in.d[0];
        F = in.d[1];
    } else if (in.ndim == 3 && in.d[0] == 1) {
        T = in.d[1];
        F = in.d[2];
    } else {
        return sn_fail(SN_ESHAPE, "%s: needs a (T,F) sequence or a (1,H,W) image read as H steps, "
                       "got %s (a layer without a time axis)", kind, sn_shape_str(&in, s, sizeof s));
    }
    if (units < 1)
        return sn_fail(SN_ESHAPE, "%s: units must be >= 1, got %d", kind, units);
    struct sn_recurrent *r = calloc(1, sizeof *r);
    if (!r)
        return sn_fail(SN_ENOMEM, "%s: out of memory", kind);
    sn_layer_base_init(&r->base, ops, name, in);
    r->T = T;
    r->F = F;
    r->H = units;
    r->G = G;
    r->seq = seq;
    r->base.out_shape = seq ? sn_shape_make(T, units, 0, 0) : sn_shape_make(units, 0, 0, 0);
    int GH = G * units;
    sn_layer_add_param(&r->base, "weight_ih", sn_shape_make(GH, F, 0, 0), SN_INIT_FANIN_UNIFORM,
                       units, GH);
    sn_layer_add_param(&r->base, "weight_hh", sn_shape_make(GH, units, 0, 0),
                       SN_INIT_FANIN_UNIFORM, units, GH);
    sn_layer_add_param(&r->base, "bias_ih", sn_shape_make(GH, 0, 0, 0), SN_INIT_FANIN_UNIFORM,
                       units, GH);
    sn_layer_add_param(&r->base, "bias_hh", sn_shape_make(GH, 0, 0, 0), SN_INIT_FANIN_UNIFORM,
                       units, GH);
    *out = &r->base;
    return SN_OK;
}

int sn_recurrent_reserve(struct sn_layer *l, int max_batch)
{
    struct sn_recurrent *r = (struct sn_recurrent *)l;
    size_t bt = (size_t)max_batch * r->T, gh = (size_t)r->G * r->H;
    r->gates = sn_alloc_f32(bt * gh);
    r->hs = sn_alloc_f32(bt * r->H);
    if (r->G == 4)
        r->cs = sn_alloc_f32(bt * r->H);
    if (r->G == 3)
        r->hh = sn_alloc_f32(bt * gh);
    if (!r->gates || !r->hs || (r->G == 4 && !r->cs) || (r->G == 3 && !r->hh))
        return sn_fail(SN_ENOMEM, "%s: out of memory for the time steps", l->name);
    return SN_OK;
}

void sn_recurrent_destroy(struct sn_layer *l)
{
    struct sn_recurrent *r = (struct sn_recurrent *)l;
    sn_free(r->gates);
    sn_free(r->hs);
    sn_free(r->cs);
    sn_free(r->hh);
}

double sn_recurrent_flops(const struct sn_layer *l)
{
    const struct sn_recurrent *r = (const struct sn_recurrent *)l;
    double gh = (double)r->G * r->H;
    return (double)r->T * (2.0 * gh * (r->F + r->H) + 4.0 * gh);
}

/* Per example and time step: the gates and h_t (reserve), lstm cells, gru
 * W_hh h terms, and the backward scratch (workspace_len): all T steps are
 * kept for backward, so this grows with T, not only with the output. */
size_t sn_recurrent_kept_len(const struct sn_layer *l)
{
    const struct sn_recurrent *r = (const struct sn_recurrent *)l;
    size_t gh = (size_t)r->G * r->H, H = (size_t)r->H;
    size_t step = 3 * gh + 3 * H + (r->G == 4 ? H : 0) + (r->G == 3 ? gh : 0), n;
    return sn_mul_ok(step, (size_t)r->T, &n) && sn_add_ok(n, 2 * H, &n) ? n : SIZE_MAX;
}

size_t sn_recurrent_workspace_len(const struct sn_layer *l, int B)
{
    const struct sn_recurrent *r = (const struct sn_recurrent *)l;
    size_t bt = (size_t)B * r->T, gh = (size_t)r->G * r->H;
    return 2 * bt * gh + 2 * bt * r->H + 2 * (size_t)B * r->H;
}

struct sn_recurrent_ws sn_recurrent_ws(const struct sn_recurrent *r, float *ws, int B)
{
    size_t bt = (size_t)B * r->T, gh = (size_t)r->G * r->H;
    struct sn_recurrent_ws w;
    w.dpre = ws;
    w.dph = r->G == 3 ? ws + bt * gh : w.dpre;
    w.hprev = ws + 2 * bt * gh;
    w.dH = w.hprev + bt * r->H;
    w.dhn = w.dH + bt * r->H;
    w.dc = w.dhn + (size_t)B * r->H;
    return w;
}

void sn_recurrent_project(struct sn_recurrent *r, const float *x, int B, bool with_bhh)
{
    const int GH = r->G * r->H, rows = B * r->T;
    const float *bih = r->base.params[2].w, *bhh = r->base.params[3].w;
    sn_sgemm(false, true, rows, GH, r->F, 1.0f, x, r->F, r->base.params[0].w, r->F, 0.0f,
             r->gates, GH);
#pragma omp parallel for schedule(static) if ((size_t)rows * GH > 16384)
    for (int i = 0; i < rows; i++) {
        float *g = r->gates + (size_t)i * GH;
        for (int k = 0; k < GH; k++)
            g[k] += bih[k] + (with_bhh ? bhh[k] : 0.0f);
    }
}

void sn_recurrent_output(const struct sn_recurrent *r, float *y, int B)
{
    const size_t TH = (size_t)r->T * r->H;
    if (r->seq) {
        memcpy(y, r->hs, (size_t)B * TH * sizeof *y);
        return;
    }
    for (int b = 0; b < B; b++)
        memcpy(y + (size_t)b * r->H, r->hs + b * TH + (size_t)(r->T - 1) * r->H,
               (size_t)r->H * sizeof *y);
}

void sn_recurrent_begin_backward(const struct sn_recurrent *r, const float *dy,
                                 const struct sn_recurrent_ws *w, int B)
{
    const size_t TH = (size_t)r->T * r->H, H = (size_t)r->H;
    if (r->seq) {
        memcpy(w->dH, dy, (size_t)B * TH * sizeof *dy);
    } else {
        memset(w->dH, 0, (size_t)B * TH * sizeof *dy);
        for (int b = 0; b < B; b++)
            memcpy(w->dH + b * TH + (size_t)(r->T - 1) * H, dy + b * H, H * sizeof *dy);
    }
    for (int b = 0; b < B; b++) {
        memset(w->hprev + b * TH, 0, H * sizeof *dy);
        memcpy(w->hprev + b * TH + H, r->hs + b * TH, (TH - H) * sizeof *dy);
    }
    memset(w->dhn, 0, (size_t)B * H * sizeof *dy);
    memset(w->dc, 0, (size_t)B * H * sizeof *dy);
}

void sn_recurrent_finish_backward(struct sn_recurrent *r, const float *x,
                                  const struct sn_recurrent_ws *w, float *dx, int B,
                                  const struct sn_ctx *c)
{
    struct sn_param *wih = &r->base.params[0], *whh = &r->base.params[1];
    struct sn_param *bih = &r->base.params[2], *bhh = &r->base.params[3];
    const int GH = r->G * r->H, rows = B * r->T;
    if (whh->trainable)
        sn_sgemm(true, false, GH, r->H, rows, 1.0f, w->dph, GH, w->hprev, r->H, 1.0f, whh->dw,
                 r->H);
    if (bih->trainable)
        sn_add_colsums(w->dpre, (size_t)rows, (size_t)GH, bih->dw);
    if (bhh->trainable)
        sn_add_colsums(w->dph, (size_t)rows, (size_t)GH, bhh->dw);
    /* W_hh and the biases lie after W_ih in the arena: from W_hh on, every
     * gradient of the model is now final, and its reduction may start while
     * the W_ih product runs (in row blocks, polling between them) */
    size_t from = whh->offset < bih->offset ? whh->offset : bih->offset;
    from = bhh->offset < from ? bhh->offset : from;
    if (wih->offset < from)
        sn_ctx_ready(c, from);
    for (int k = 0; k < SN_RIH_CHUNKS && wih->trainable; k++) {
        int r0 = rows * k / SN_RIH_CHUNKS, r1 = rows * (k + 1) / SN_RIH_CHUNKS;
        if (r1 > r0)
            sn_sgemm(true, false, GH, r->F, r1 - r0, 1.0f, w->dpre + (size_t)r0 * GH, GH,
                     x + (size_t)r0 * r->F, r->F, 1.0f, wih->dw, r->F);
        sn_ctx_poll(c);
    }
    if (dx)
        sn_sgemm(false, false, rows, r->F, GH, 1.0f, w->dpre, GH, wih->w, r->F, 1.0f, dx, r->F);
}

int sn_recurrent_slices(int B)
{
    int nt = sn_parallel_threads();
    return nt < B ? nt : B;
}

void sn_recurrent_hh_back(const struct sn_recurrent *r, const float *src, size_t ld,
                          float *dst, int B, bool accumulate)
{
    const int GH = r->G * r->H;
    sn_sgemm(false, false, B, r->H, GH, 1.0f, src, (int)ld, r->base.params[1].w, r->H,
             accumulate ? 1.0f : 0.0f, dst, r->H);
}
