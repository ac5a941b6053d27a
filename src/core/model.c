/* model: layer graph, arenas and the forward/backward sweeps (see model.h). */
#include "core/model.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"

int sn_model_create(struct sn_shape in, struct sn_model **out)
{
    struct sn_model *m = calloc(1, sizeof *m);
    if (!m)
        return sn_fail(SN_ENOMEM, "model: out of memory");
    m->in_shape = in;
    *out = m;
    return SN_OK;
}

void sn_model_destroy(struct sn_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_layers; i++) {
        sn_layer_destroy(m->layers[i]);
        if (m->y)
            sn_free(m->y[i]);
        if (m->dy)
            sn_free(m->dy[i]);
    }
    free(m->layers);
    free(m->y);
    free(m->dy);
    free(m->plist);
    sn_free(m->params);
    sn_free(m->grads);
    sn_free(m->buffers);
    sn_free(m->ws);
    free(m);
}

struct sn_shape sn_model_shape(const struct sn_model *m, int i)
{
    return i < 0 ? m->in_shape : m->layers[i]->out_shape;
}

int sn_model_find(const struct sn_model *m, const char *name)
{
    for (int i = 0; i < m->n_layers; i++)
        if (strcmp(m->layers[i]->name, name) == 0)
            return i;
    return -1;
}

int sn_model_add(struct sn_model *m, struct sn_layer *l)
{
    if (sn_model_find(m, l->name) >= 0) {
        int rc = sn_fail(SN_ESHAPE, "layer name '%s' is used twice", l->name);
        sn_layer_destroy(l);
        return rc;
    }
    for (int j = 0; j < l->n_in; j++) {
        if (l->in[j] < -1 || l->in[j] >= m->n_layers) {
            int rc = sn_fail(SN_ESHAPE, "%s: input %d is not an earlier layer", l->name, j);
            sn_layer_destroy(l);
            return rc;
        }
    }
    struct sn_layer **grown = realloc(m->layers, (size_t)(m->n_layers + 1) * sizeof *grown);
    if (!grown) {
        sn_layer_destroy(l);
        return sn_fail(SN_ENOMEM, "model: out of memory");
    }
    m->layers = grown;
    m->layers[m->n_layers++] = l;
    return SN_OK;
}

size_t sn_model_out_len(const struct sn_model *m)
{
    return sn_shape_len(&m->layers[m->n_layers - 1]->out_shape);
}

int sn_model_build(struct sn_model *m, int max_batch, struct sn_rng *r)
{
    if (m->n_layers == 0)
        return sn_fail(SN_ESHAPE, "the model has no layers");
    m->max_batch = max_batch;

    /* Count parameters and buffers; give each its place in its arena. */
    size_t total = 0, nbuf = 0;
    int n_plist = 0;
    for (int i = 0; i < m->n_layers; i++) {
        struct sn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params; p++) {
            struct sn_param *pr = &l->params[p];
            size_t *at = pr->buffer ? &nbuf : &total;
            pr->offset = *at;
            *at += pr->len;
            n_plist++;
        }
    }
    m->n_params = total;
    m->n_buffers = nbuf;
    m->params = sn_alloc_f32(total ? total : 1);
    m->grads = sn_alloc_f32(total ? total : 1);
    m->buffers = sn_alloc_f32(nbuf ? nbuf : 1);
    m->plist = calloc((size_t)(n_plist ? n_plist : 1), sizeof *m->plist);
    m->y = calloc((size_t)m->n_layers, sizeof *m->y);
    m->dy = calloc((size_t)m->n_layers, sizeof *m->dy);
    if (!m->params || !m->grads || !m->buffers || !m->plist || !m->y || !m->dy)
        return sn_fail(SN_ENOMEM, "model: out of memory for %zu parameters", total);

    size_t ws = 0;
    for (int i = 0; i < m->n_layers; i++) {
        struct sn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params; p++) {
            struct sn_param *pr = &l->params[p];
            pr->w = (pr->buffer ? m->buffers : m->params) + pr->offset;
            pr->dw = pr->buffer ? NULL : m->grads + pr->offset;
            if (l->freeze)
                pr->trainable = false;
            sn_param_init(pr, r);
            m->plist[m->n_plist++] = pr;
        }
        size_t len = (size_t)max_batch * sn_shape_len(&l->out_shape);
        m->y[i] = sn_alloc_f32(len);
        m->dy[i] = sn_alloc_f32(len);
        if (!m->y[i] || !m->dy[i])
            return sn_fail(SN_ENOMEM, "model: out of memory for the outputs of %s", l->name);
        if (l->ops->reserve) {
            int rc = l->ops->reserve(l, max_batch);
            if (rc)
                return rc;
        }
        if (l->ops->workspace_len) {
            size_t w = l->ops->workspace_len(l, max_batch);
            ws = w > ws ? w : ws;
        }
    }
    m->ws_len = ws;
    m->ws = sn_alloc_f32(ws ? ws : 1);
    if (!m->ws)
        return sn_fail(SN_ENOMEM, "model: out of memory for the workspace");
    return SN_OK;
}

/* The inputs of layer l as pointers into the buffers of the last forward. */
static void gather_inputs(const struct sn_model *m, const struct sn_layer *l,
                          const float **x, float **dx)
{
    for (int j = 0; j < l->n_in; j++) {
        int src = l->in[j];
        x[j] = src < 0 ? m->x : m->y[src];
        if (dx)
            dx[j] = src < 0 ? NULL : m->dy[src];
    }
}

const float *sn_model_forward(struct sn_model *m, const float *x, int B, bool train,
                              struct sn_rng *rng)
{
    struct sn_ctx c = { .B = B, .train = train, .ws = m->ws, .rng = rng };
    m->x = x;
    for (int i = 0; i < m->n_layers; i++) {
        struct sn_layer *l = m->layers[i];
        const float *in[SN_MAX_INPUTS];
        gather_inputs(m, l, in, NULL);
        l->ops->forward(l, in, m->y[i], &c);
    }
    return m->y[m->n_layers - 1];
}

void sn_model_backward(struct sn_model *m, const float *dout, int B, struct sn_rng *rng)
{
    struct sn_ctx c = { .B = B, .train = true, .ws = m->ws, .rng = rng };
    int last = m->n_layers - 1;
    for (int i = 0; i < last; i++)
        memset(m->dy[i], 0, (size_t)B * sn_shape_len(&m->layers[i]->out_shape) * sizeof(float));
    for (int i = last; i >= 0; i--) {
        struct sn_layer *l = m->layers[i];
        const float *in[SN_MAX_INPUTS];
        float *din[SN_MAX_INPUTS];
        gather_inputs(m, l, in, din);
        l->ops->backward(l, in, m->y[i], i == last ? dout : m->dy[i], din, &c);
    }
}

void sn_model_zero_grad(struct sn_model *m)
{
    memset(m->grads, 0, m->n_params * sizeof *m->grads);
}
