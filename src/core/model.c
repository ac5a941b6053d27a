/* model: layer graph, arenas and the forward/backward sweeps (see model.h). */
#include "core/model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/clock.h"
#include "core/number.h"
#include "core/status.h"

int sn_model_create(struct sn_shape in, struct sn_model **out)
{
    size_t len;
    char b[64];
    if (!sn_shape_len_ok(&in, SN_MAX_ELEMS, &len))
        return sn_fail(SN_ESHAPE, "model: input %s holds more than %zu values",
                       sn_shape_str(&in, b, sizeof b), SN_MAX_ELEMS);
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
    free(m->dy_slot_len);
    free(m->dy_first);
    free(m->layers);
    free(m->by_name);
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
    for (int k = 0; k < m->n_dy_slots; k++)
        n += m->dy_slot_len[k];
    return n * sizeof(float);
}

/* How many layers read each layer's output (calloc'ed; NULL: no memory). */
static int *count_readers(const struct sn_model *m)
{
    int *readers = calloc((size_t)(m->n_layers ? m->n_layers : 1), sizeof *readers);
    for (int j = 0; readers && j < m->n_layers; j++)
        for (int k = 0; k < m->layers[j]->n_in; k++)
            if (m->layers[j]->in[k] >= 0)
                readers[m->layers[j]->in[k]]++;
    return readers;
}

/* Whether layer i writes its output over its input's (the build's rule,
 * which the size estimate follows): its kind allows it, it is that
 * input's only reader, the input's layer does not read its own output
 * backward, and the two have one length. */
static bool runs_in_place(const struct sn_model *m, int i, const int *readers)
{
    const struct sn_layer *l = m->layers[i];
    const int src = l->in[0];
    return !m->plain_memory && l->ops->in_place && l->n_in == 1 && src >= 0 &&
           readers[src] == 1 && !m->layers[src]->backward_reads_y &&
           sn_shape_len(&m->layers[src]->out_shape) == sn_shape_len(&l->out_shape);
}

int sn_model_size(const struct sn_model *m, int batch, int n_states, struct sn_model_size *o)
{
    memset(o, 0, sizeof *o);
    int *readers = count_readers(m);
    if (!readers)
        return sn_fail(SN_ENOMEM, "out of memory");
    size_t act = 0, largest = 0, len, floats, b = batch > 0 ? (size_t)batch : 1, ws = 0;
    /* the input batch twice: the rows read and the model's input */
    bool ok = sn_mul_ok(sn_shape_len(&m->in_shape), 2, &o->kept_len);
    for (int i = 0; i < m->n_layers && ok; i++) {
        const struct sn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params && ok; p++)
            ok = sn_add_ok(l->params[p].buffer ? o->n_buffers : o->n_learnt, l->params[p].len,
                           l->params[p].buffer ? &o->n_buffers : &o->n_learnt);
        len = sn_shape_len(&l->out_shape);
        if (!runs_in_place(m, i, readers))   /* in place: no buffer of its own */
            ok = ok && sn_add_ok(act, len, &act);
        largest = len > largest ? len : largest;
        if (ok && l->ops->kept_len)   /* time steps, masks, indices */
            ok = sn_add_ok(o->kept_len, l->ops->kept_len(l), &o->kept_len);
        const size_t w = l->ops->workspace_len ? l->ops->workspace_len(l, (int)b) : 0;
        ws = w > ws ? w : ws;   /* one workspace, the largest layer's */
    }
    size_t per_learnt = 2 + (size_t)(n_states > 0 ? n_states : 0), acts;
    ok = ok && sn_mul_ok(o->n_learnt, per_learnt, &floats) &&
         sn_add_ok(floats, o->n_buffers, &floats) && sn_mul_ok(floats, sizeof(float), &o->state_bytes) &&
         sn_mul_ok(act, sizeof(float), &o->act_bytes) && sn_mul_ok(largest, 2, &acts) &&
         sn_add_ok(acts, act, &acts) && sn_add_ok(acts, o->kept_len, &acts) &&
         sn_mul3_ok(acts, b, sizeof(float), &o->batch_act_bytes) &&
         sn_mul_ok(ws, sizeof(float), &o->ws_bytes) &&
         sn_add_ok(o->state_bytes, o->batch_act_bytes, &o->total_bytes) &&
         sn_add_ok(o->total_bytes, o->ws_bytes, &o->total_bytes);
    free(readers);
    return ok ? SN_OK : sn_fail(SN_ESHAPE, "the model's sizes do not fit in %zu bytes", SIZE_MAX);
}

int sn_model_max_bytes(size_t *limit)
{
    const char *env = getenv("SN_MODEL_MAX_BYTES");
    long long v;
    *limit = SN_MODEL_MAX_BYTES;
    if (!env)
        return SN_OK;
    if (sn_parse_int(env, 1, 1LL << 62, &v))
        return sn_fail_prefix(SN_EINVAL, "SN_MODEL_MAX_BYTES: ");
    *limit = (size_t)v;
    return SN_OK;
}

int sn_model_check_budget(const struct sn_model *m, int batch, int n_states, const char *what)
{
    struct sn_model_size z;
    size_t limit;
    int rc = sn_model_size(m, batch, n_states, &z);
    if (rc)
        return sn_fail_prefix(rc, "%s: ", what);
    if ((rc = sn_model_max_bytes(&limit)) || z.total_bytes <= limit)
        return rc;
    return sn_fail(SN_EINVAL, "%s: the model needs %s MB, more than the limit of %s MB "
                   "(SN_MODEL_MAX_BYTES=%zu) by %zu bytes: %zu parameters take %s MB with their "
                   "gradients and %d optimizer state%s, layer outputs, the input batch and what "
                   "layers keep for backward %s MB at batch %d (%s MB of outputs and %s MB kept "
                   "per example), the layers' workspace %s MB; set SN_MODEL_MAX_BYTES to allow "
                   "more", what, sn_mb((double)z.total_bytes).s, sn_mb((double)limit).s, limit,
                   z.total_bytes - limit, z.n_learnt + z.n_buffers, sn_mb((double)z.state_bytes).s,
                   n_states, n_states == 1 ? "" : "s", sn_mb((double)z.batch_act_bytes).s, batch,
                   sn_mb((double)z.act_bytes).s, sn_mb((double)z.kept_len * sizeof(float)).s,
                   sn_mb((double)z.ws_bytes).s);
}

/* FNV-1a of a layer name: its slot in the by_name table. */
static size_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (size_t)h;
}

int sn_model_find(const struct sn_model *m, const char *name)
{
    if (!m->by_name)
        return -1;
    size_t mask = (size_t)m->n_by_name - 1;
    for (size_t k = name_hash(name) & mask;; k = (k + 1) & mask) {
        int i = m->by_name[k];
        if (i < 0 || strcmp(m->layers[i]->name, name) == 0)
            return i;
    }
}

/* Put layer i in the by_name table (which has a free slot). */
static void index_name(struct sn_model *m, int i)
{
    size_t mask = (size_t)m->n_by_name - 1, k = name_hash(m->layers[i]->name) & mask;
    while (m->by_name[k] >= 0)
        k = (k + 1) & mask;
    m->by_name[k] = i;
}

/* Room for one more layer: the layer array and the name table double as
 * they fill (the table stays at most half full). */
static int grow(struct sn_model *m)
{
    if (m->n_layers == m->cap_layers) {
        int cap = m->cap_layers ? 2 * m->cap_layers : 16;
        struct sn_layer **g = realloc(m->layers, (size_t)cap * sizeof *g);
        if (!g)
            return sn_fail(SN_ENOMEM, "model: out of memory");
        m->layers = g;
        m->cap_layers = cap;
    }
    if (2 * (m->n_layers + 1) > m->n_by_name) {
        int n = m->n_by_name ? 2 * m->n_by_name : 32;
        int *t = malloc((size_t)n * sizeof *t);
        if (!t)
            return sn_fail(SN_ENOMEM, "model: out of memory");
        free(m->by_name);
        m->by_name = t;
        m->n_by_name = n;
        for (int k = 0; k < n; k++)
            t[k] = -1;
        for (int i = 0; i < m->n_layers; i++)
            index_name(m, i);
    }
    return SN_OK;
}

/* Every size of l within SN_MAX_ELEMS, and the parameter count of the
 * model with l within SIZE_MAX / 16 (a few arenas of floats). */
static int check_sizes(const struct sn_model *m, const struct sn_layer *l)
{
    size_t len, total = m->n_declared;
    char b[64];
    for (int j = 0; j < l->n_in; j++)
        if (!sn_shape_len_ok(&l->in_shape[j], SN_MAX_ELEMS, &len))
            return sn_fail(SN_ESHAPE, "%s: input %s holds more than %zu values", l->name,
                           sn_shape_str(&l->in_shape[j], b, sizeof b), SN_MAX_ELEMS);
    if (!sn_shape_len_ok(&l->out_shape, SN_MAX_ELEMS, &len))
        return sn_fail(SN_ESHAPE, "%s: output %s holds more than %zu values per example",
                       l->name, sn_shape_str(&l->out_shape, b, sizeof b), SN_MAX_ELEMS);
    for (int p = 0; p < l->n_params; p++) {
        const struct sn_param *pr = &l->params[p];
        if (!sn_shape_len_ok(&pr->shape, SN_MAX_ELEMS, &len) || len != pr->len ||
            !sn_add_ok(total, len, &total) || total > SIZE_MAX / 16)
            return sn_fail(SN_ESHAPE, "%s: parameter %s of shape %s holds more than %zu values",
                           l->name, pr->name, sn_shape_str(&pr->shape, b, sizeof b),
                           SN_MAX_ELEMS);
    }
    return SN_OK;
}

int sn_model_add(struct sn_model *m, struct sn_layer *l)
{
    if (!m || !l)
        return sn_fail(SN_EINVAL, "sn_model_add: %s is NULL", !m ? "m" : "l");
    int rc = SN_OK;
    if (m->n_layers >= SN_MAX_LAYERS)
        rc = sn_fail(SN_ESHAPE, "a model may have at most %d layers"
                     SN_BUILD_LIMIT("SN_MAX_LAYERS", "src/core/model.h"), SN_MAX_LAYERS);
    else if (sn_model_find(m, l->name) >= 0)
        rc = sn_fail(SN_ESHAPE, "layer name '%s' is used twice", l->name);
    for (int j = 0; j < l->n_in && !rc; j++)
        if (l->in[j] < -1 || l->in[j] >= m->n_layers)
            rc = sn_fail(SN_ESHAPE, "%s: input %d is not an earlier layer", l->name, j);
    if (!rc)
        rc = check_sizes(m, l);
    if (!rc)
        rc = grow(m);
    if (rc) {
        sn_layer_destroy(l);
        return rc;
    }
    m->layers[m->n_layers++] = l;
    index_name(m, m->n_layers - 1);
    for (int p = 0; p < l->n_params; p++)
        m->n_declared += l->params[p].len;
    return SN_OK;
}

size_t sn_model_out_len(const struct sn_model *m)
{
    return sn_shape_len(&m->layers[m->n_layers - 1]->out_shape);
}

/* A binary min-heap of free slot numbers (the lowest is reused first). */
static void heap_push(int *h, int *n, int v)
{
    int i = (*n)++;
    for (; i > 0 && h[(i - 1) / 2] > v; i = (i - 1) / 2)
        h[i] = h[(i - 1) / 2];
    h[i] = v;
}

static int heap_pop(int *h, int *n)
{
    int top = h[0], v = h[--*n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = v;
    return top;
}

/* Give every dy[i] a slot.  dy[i] is live from the backward of
 * dy_first[i] (its last reader, or i itself if nobody reads it) down to the
 * backward of i.  Walking the backward order, a layer takes the lowest slot
 * whose holder's backward has already run, else a new one; a slot's size is
 * the largest it serves.  O(n log n): layers are bucketed by dy_first, and
 * free slots kept in a heap. */
static int assign_dy_slots(struct sn_model *m, int max_batch)
{
    const int n = m->n_layers;
    int *slot_of = malloc((size_t)n * sizeof *slot_of);
    int *heap = malloc((size_t)n * sizeof *heap), n_free = 0;
    int *start = calloc((size_t)n + 1, sizeof *start), *order = malloc((size_t)n * sizeof *order);
    size_t *cap = calloc((size_t)n, sizeof *cap);
    m->dy_first = malloc((size_t)n * sizeof *m->dy_first);
    m->dy_slots = calloc((size_t)n, sizeof *m->dy_slots);
    m->dy_slot_len = calloc((size_t)n, sizeof *m->dy_slot_len);
    int rc = SN_OK;
    if (!slot_of || !heap || !start || !order || !cap || !m->dy_first || !m->dy_slots ||
        !m->dy_slot_len)
        rc = sn_fail(SN_ENOMEM, "model: out of memory");
    for (int i = 0; i < n && !rc; i++)
        m->dy_first[i] = i;
    for (int j = 0; j < n && !rc; j++)
        for (int k = 0; k < m->layers[j]->n_in; k++) {
            int src = m->layers[j]->in[k];
            if (src >= 0 && j > m->dy_first[src])
                m->dy_first[src] = j;
        }
    for (int i = 0; i < n && !rc; i++)   /* bucket by dy_first, i ascending within */
        start[m->dy_first[i] + 1]++;
    for (int t = 0; t < n && !rc; t++)
        start[t + 1] += start[t];
    if (!rc) {   /* heap serves as each bucket's fill cursor until the walk */
        memcpy(heap, start, (size_t)n * sizeof *heap);
        for (int i = 0; i < n; i++)
            order[heap[m->dy_first[i]]++] = i;
    }
    int n_slots = 0;
    for (int t = n - 1; t >= 0 && !rc; t--) {   /* backward of layer t is about to run */
        if (t + 1 < n && !m->plain_memory)
            heap_push(heap, &n_free, slot_of[t + 1]);   /* layer t+1's backward is done */
        for (int q = start[t]; q < start[t + 1]; q++) {
            int i = order[q], sl = n_free > 0 ? heap_pop(heap, &n_free) : n_slots++;
            slot_of[i] = sl;
            size_t len = (size_t)max_batch * sn_shape_len(&m->layers[i]->out_shape);
            if (len > cap[sl])
                cap[sl] = len;
        }
    }
    m->n_dy_slots = n_slots;
    for (int k = 0; k < n_slots && !rc; k++) {
        m->dy_slot_len[k] = cap[k];
        if (!(m->dy_slots[k] = sn_alloc_f32(cap[k] ? cap[k] : 1)))
            rc = sn_fail(SN_ENOMEM, "model: out of memory for the output gradients");
    }
    for (int i = 0; i < n && !rc; i++)
        m->dy[i] = m->dy_slots[slot_of[i]];
    free(slot_of);
    free(heap);
    free(start);
    free(order);
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
    int *readers = count_readers(m);
    if (!m->params || !m->grads || !m->buffers || !m->plist || !m->y || !m->y_shared ||
        !m->dy || !readers) {
        free(readers);
        return sn_fail(SN_ENOMEM, "model: out of memory for %zu parameters", total);
    }

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
        if (runs_in_place(m, i, readers)) {
            m->y[i] = m->y[l->in[0]];
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
    /* a caller's batch past the buffers wrote past them, silently (round
     * 70 F10): refused, as the kernels cannot */
    if (!m || !x || B < 0 || B > m->max_batch) {
        sn_fail(SN_ESHAPE, "sn_model_forward: %s", !m ? "m is NULL" : !x ? "x is NULL"
                : "the batch is outside 0 to the max_batch the model was built for");
        return NULL;
    }
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
