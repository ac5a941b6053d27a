/* layer: common layer plumbing and parameter initialisation. */
#include "core/layer.h"

#include "core/parallel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sn_ctx_poll(const struct sn_ctx *c)
{
    if (c->watch && c->watch->poll && sn_parallel_thread_id() == 0)
        c->watch->poll(c->watch->ctx);
}

void sn_ctx_ready(const struct sn_ctx *c, size_t from)
{
    if (c->watch && c->watch->ready && sn_parallel_thread_id() == 0)
        c->watch->ready(c->watch->ctx, from);
}

void sn_layer_base_init(struct sn_layer *l, const struct sn_layer_ops *ops,
                        const char *name, struct sn_shape in)
{
    l->ops = ops;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->n_in = 1;
    l->in[0] = -1;
    l->in_shape[0] = in;
    l->backward_reads_y = true;
}

struct sn_param *sn_layer_add_param(struct sn_layer *l, const char *name,
                                    struct sn_shape shape, enum sn_init init,
                                    int fan_in, int fan_out)
{
    struct sn_param *p = &l->params[l->n_params++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->shape = shape;
    p->len = sn_shape_len(&shape);
    p->init = init;
    p->fan_in = fan_in;
    p->fan_out = fan_out;
    p->trainable = true;
    p->lr_mult = 1.0f;
    p->wd_mult = 1.0f;
    return p;
}

struct sn_param *sn_layer_add_buffer(struct sn_layer *l, const char *name,
                                     struct sn_shape shape, enum sn_init init)
{
    struct sn_param *p = sn_layer_add_param(l, name, shape, init, 1, 1);
    p->trainable = false;
    p->buffer = true;
    return p;
}

void sn_layer_destroy(struct sn_layer *l)
{
    if (!l)
        return;
    if (l->ops->destroy)
        l->ops->destroy(l);
    free(l);
}

double sn_layer_flops(const struct sn_layer *l)
{
    return l->ops->flops ? l->ops->flops(l) : (double)sn_shape_len(&l->out_shape);
}

void sn_layer_get_attrs(const struct sn_layer *l, struct sn_layer_attrs *a)
{
    memset(a, 0, sizeof *a);
    if (l->ops->attrs)
        l->ops->attrs(l, a);
}

/* Every filter fan-in uniform (the draws PyTorch's default makes), then
 * the first n_dirac filters replaced by identities, as airbench's
 * dirac_(w[:n]) after the default initialisation. */
static void init_dirac(struct sn_param *p, struct sn_rng *r)
{
    const int C = p->shape.d[1], KH = p->shape.d[2], KW = p->shape.d[3];
    const size_t filter = (size_t)C * KH * KW;
    float bound = 1.0f / sqrtf((float)p->fan_in);
    for (size_t i = 0; i < p->len; i++)
        p->w[i] = (2.0f * sn_rng_uniform(r) - 1.0f) * bound;
    for (int o = 0; o < p->n_dirac; o++) {
        float *f = p->w + (size_t)o * filter;
        memset(f, 0, filter * sizeof *f);
        f[((size_t)o * KH + KH / 2) * KW + KW / 2] = 1.0f;
    }
}

void sn_param_init(struct sn_param *p, struct sn_rng *r)
{
    float bound, std;
    switch (p->init) {
    case SN_INIT_ZERO:
        memset(p->w, 0, p->len * sizeof *p->w);
        break;
    case SN_INIT_ONE:
        for (size_t i = 0; i < p->len; i++)
            p->w[i] = 1.0f;
        break;
    case SN_INIT_FANIN_UNIFORM:
    case SN_INIT_WHITEN:   /* PyTorch's default until the trainer whitens */
        bound = 1.0f / sqrtf((float)p->fan_in);
        for (size_t i = 0; i < p->len; i++)
            p->w[i] = (2.0f * sn_rng_uniform(r) - 1.0f) * bound;
        break;
    case SN_INIT_HE:
        std = sqrtf(2.0f / (float)p->fan_in);
        for (size_t i = 0; i < p->len; i++)
            p->w[i] = std * sn_rng_normal(r);
        break;
    case SN_INIT_XAVIER:
        bound = sqrtf(6.0f / (float)(p->fan_in + p->fan_out));
        for (size_t i = 0; i < p->len; i++)
            p->w[i] = (2.0f * sn_rng_uniform(r) - 1.0f) * bound;
        break;
    case SN_INIT_DIRAC:
        init_dirac(p, r);
        break;
    }
}
