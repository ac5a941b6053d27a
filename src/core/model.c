/* model: layer graph, arenas and the forward/backward sweeps (see model.h). */
#include "core/model.h"

#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "core/clock.h"
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
        if (m->y && !(m->y_shared && m->y_shared[i]))
            sn_free(m->y[i]);
    }
    for (int k = 0; k < m->n_dy_slots; k++)
        sn_free(m->dy_slots[k]);
    free(m->dy_slots);
    free(m->dy_first);
    free(m->layers);
    free(m->y);
    free(m->y_shared);
    free(m->dy);
    free(m->plist);
    sn_free(m->params);
    if (!m->grads_lent)
        sn_free(m->grads);
    sn_free(m->buffers);
    sn_free(m->ws);
    free(m);
}

struct sn_shape sn_model_shape(const struct sn_model *m, int i)
{
    return i < 0 ? m->in_shape : m->layers[i]->out_shape;
}

size_t sn_model_bytes(const struct sn_model *m)
{
    size_t n = 2 * m->n_params + m->n_buffers + m->ws_len;
    for (int i = 0; i < m->n_layers; i++)
        if (!m->y_shared[i])
            n += (size_t)m->max_batch * sn_shape_len(&m->layers[i]->out_shape);
    size_t *cap = calloc((size_t)m->n_dy_slots + 1, sizeof *cap);
    for (int i = 0; cap && i < m->n_layers; i++) {
        int k = 0;
        while (k < m->n_dy_slots && m->dy_slots[k] != m->dy[i])
            k++;
        size_t len = (size_t)m->max_batch * sn_shape_len(&m->layers[i]->out_shape);
        if (k < m->n_dy_slots && len > cap[k])
            cap[k] = len;
    }
    for (int k = 0; cap && k < m->n_dy_slots; k++)
        n += cap[k];
    free(cap);
    return n * sizeof(float);
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

/* Give every dy[i] a slot.  dy[i] is live from the backward of
 * dy_first[i] (its last reader, or i itself if nobody reads it) down to the
 * backward of i.  Walking the backward order, a layer takes any slot whose
 * holder's backward has already run, else a new one; a slot's size is the
 * largest it serves. */
static int assign_dy_slots(struct sn_model *m, int max_batch)
{
    const int n = m->n_layers;
    int *slot_of = malloc((size_t)n * sizeof *slot_of);
    int *holder = malloc((size_t)n * sizeof *holder);   /* per slot: the layer in it */
    size_t *cap = calloc((size_t)n, sizeof *cap);
    m->dy_first = malloc((size_t)n * sizeof *m->dy_first);
    m->dy_slots = calloc((size_t)n, sizeof *m->dy_slots);
    if (!slot_of || !holder || !cap || !m->dy_first || !m->dy_slots) {
        free(slot_of);
        free(holder);
        free(cap);
        return sn_fail(SN_ENOMEM, "model: out of memory");
    }
    for (int i = 0; i < n; i++)
        m->dy_first[i] = i;
    for (int j = 0; j < n; j++)
        for (int k = 0; k < m->layers[j]->n_in; k++) {
            int src = m->layers[j]->in[k];
            if (src >= 0 && j > m->dy_first[src])
                m->dy_first[src] = j;
        }
    int n_slots = 0;
    for (int t = n - 1; t >= 0; t--)            /* backward of layer t is about to run */
        for (int i = 0; i < n; i++) {
            if (m->dy_first[i] != t)
                continue;
            int s = -1;
            for (int k = 0; k < n_slots && s < 0 && !m->plain_memory; k++)
                if (holder[k] > t)              /* its layer's backward is done */
                    s = k;
            if (s < 0)
                s = n_slots++;
            holder[s] = i;
            slot_of[i] = s;
            size_t len = (size_t)max_batch * sn_shape_len(&m->layers[i]->out_shape);
            if (len > cap[s])
                cap[s] = len;
        }
    int rc = SN_OK;
    m->n_dy_slots = n_slots;
    for (int k = 0; k < n_slots && !rc; k++)
        if (!(m->dy_slots[k] = sn_alloc_f32(cap[k] ? cap[k] : 1)))
            rc = sn_fail(SN_ENOMEM, "model: out of memory for the output gradients");
    for (int i = 0; i < n && !rc; i++)
        m->dy[i] = m->dy_slots[slot_of[i]];
    free(slot_of);
    free(holder);
    free(cap);
    return rc;
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
    m->y_shared = calloc((size_t)m->n_layers, sizeof *m->y_shared);
    m->dy = calloc((size_t)m->n_layers, sizeof *m->dy);
    int *readers = calloc((size_t)m->n_layers, sizeof *readers);
    if (!m->params || !m->grads || !m->buffers || !m->plist || !m->y || !m->y_shared ||
        !m->dy || !readers) {
        free(readers);
        return sn_fail(SN_ENOMEM, "model: out of memory for %zu parameters", total);
    }
    for (int j = 0; j < m->n_layers; j++)
        for (int k = 0; k < m->layers[j]->n_in; k++)
            if (m->layers[j]->in[k] >= 0)
                readers[m->layers[j]->in[k]]++;

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
        int src = l->in[0];
        if (!m->plain_memory && l->ops->in_place && l->n_in == 1 && src >= 0 && readers[src] == 1 &&
            !m->layers[src]->backward_reads_y &&
            sn_shape_len(&m->layers[src]->out_shape) == sn_shape_len(&l->out_shape)) {
            m->y[i] = m->y[src];
            m->y_shared[i] = true;
        } else {
            m->y[i] = sn_alloc_f32(len);
        }
        if (!m->y[i]) {
            free(readers);
            return sn_fail(SN_ENOMEM, "model: out of memory for the outputs of %s", l->name);
        }
        if (l->ops->reserve) {
            int rc = l->ops->reserve(l, max_batch);
            if (rc) {
                free(readers);
                return rc;
            }
        }
        if (l->ops->workspace_len) {
            size_t w = l->ops->workspace_len(l, max_batch);
            ws = w > ws ? w : ws;
        }
    }
    free(readers);
    int rc = assign_dy_slots(m, max_batch);
    if (rc)
        return rc;
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

/* A layer's times for the watch: clock reads only when someone asks. */
static double layer_start(const struct sn_watch *w)
{
    return w && w->layer ? sn_clock_s() : 0.0;
}

static void layer_end(const struct sn_watch *w, int i, bool backward, double t0)
{
    if (w && w->layer)
        w->layer(w->ctx, i, backward, t0, sn_clock_s());
}

const float *sn_model_forward(struct sn_model *m, const float *x, int B, bool train,
                              struct sn_rng *rng, const struct sn_watch *watch)
{
    struct sn_ctx c = { .B = B, .train = train, .ws = m->ws, .rng = rng, .watch = watch };
    m->x = x;
    for (int i = 0; i < m->n_layers; i++) {
        struct sn_layer *l = m->layers[i];
        const float *in[SN_MAX_INPUTS];
        gather_inputs(m, l, in, NULL);
        double t0 = layer_start(watch);
        l->ops->forward(l, in, m->y[i], &c);
        layer_end(watch, i, false, t0);
    }
    return m->y[m->n_layers - 1];
}

/* After layer l's backward every gradient from its first parameter to the
 * end of the arena is final (later layers' parameters come later in it);
 * a layer without parameters gives the watch a poll instead. */
static void report_ready(const struct sn_layer *l, const struct sn_ctx *c)
{
    size_t from = SIZE_MAX;
    for (int p = 0; p < l->n_params; p++)
        if (!l->params[p].buffer && l->params[p].offset < from)
            from = l->params[p].offset;
    if (from != SIZE_MAX)
        sn_ctx_ready(c, from);
    else
        sn_ctx_poll(c);
}

void sn_model_backward(struct sn_model *m, const float *dout, int B, struct sn_rng *rng,
                       const struct sn_watch *watch)
{
    struct sn_ctx c = { .B = B, .train = true, .ws = m->ws, .rng = rng, .watch = watch };
    int last = m->n_layers - 1;
    for (int i = last; i >= 0; i--) {
        struct sn_layer *l = m->layers[i];
        /* The gradients this backward writes first: a layer that can store
         * them is told so (c.fresh, for the first of its inputs naming that
         * layer); for the others they begin at zero. */
        c.fresh = 0;
        for (int k = 0; k <= i; k++) {
            if (m->dy_first[k] != i || k == last)
                continue;
            int j = 0;
            while (j < l->n_in && l->in[j] != k)
                j++;
            if (l->ops->overwrites_dx && j < l->n_in)
                c.fresh |= 1u << j;
            else
                memset(m->dy[k], 0, (size_t)B * sn_shape_len(&m->layers[k]->out_shape) *
                                        sizeof(float));
        }
        const float *in[SN_MAX_INPUTS];
        float *din[SN_MAX_INPUTS];
        gather_inputs(m, l, in, din);
        double t0 = layer_start(watch);
        l->ops->backward(l, in, m->y[i], i == last ? dout : m->dy[i], din, &c);
        layer_end(watch, i, true, t0);
        report_ready(l, &c);
    }
}

void sn_model_zero_grad(struct sn_model *m)
{
    memset(m->grads, 0, m->n_params * sizeof *m->grads);
}

void sn_model_use_grads(struct sn_model *m, float *arena)
{
    memcpy(arena, m->grads, m->n_params * sizeof *arena);
    for (int i = 0; i < m->n_layers; i++)
        for (int p = 0; p < m->layers[i]->n_params; p++) {
            struct sn_param *pr = &m->layers[i]->params[p];
            if (!pr->buffer)
                pr->dw = arena + pr->offset;
        }
    if (!m->grads_lent)
        sn_free(m->grads);
    m->grads = arena;
    m->grads_lent = true;
}
