/* onnx: writing a model as an ONNX file (see onnx.h).
 *
 * A graph builder (struct gb) collects nodes and initializers as the
 * protobuf-c messages generated from Debian's onnx.proto.  Everything it
 * allocates is recorded and freed with it, and its helpers do nothing once
 * something failed, so each layer's emitter reads as straight-line code
 * and the error is looked at once, at the end.
 *
 * Legend: N batch (the graph's first dimension), C,H,W image, T,F
 * sequence, H units, G gates.  Tensors carry the batch first; layer
 * shapes (out_shape) are per example.
 */
#include "io/onnx.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "io/fsutil.h"
#include "onnx/onnx.pb-c.h"

struct gb {
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    void **owned;
    size_t n_owned, cap_owned;
    const char **names;   /* every tensor's name, hashed: each is made once */
    size_t n_names, cap_names;
    int opset;
    int rc;   /* the first failure, its message recorded */
};

/* ---- the builder ---------------------------------------------------------- */

static int gb_fail_nomem(struct gb *g)
{
    if (!g->rc)
        g->rc = sn_fail(SN_ENOMEM, "onnx: out of memory");
    return g->rc;
}

/* Append p to the array *a (count *n, capacity *cap); false if out of memory. */
static bool push(void ***a, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        void **b = realloc(*a, c * sizeof *b);
        if (!b)
            return false;
        *a = b;
        *cap = c;
    }
    (*a)[(*n)++] = p;
    return true;
}

/* n zeroed bytes owned by the builder; NULL once anything failed. */
static void *gb_alloc(struct gb *g, size_t n)
{
    if (g->rc)
        return NULL;
    void *p = calloc(1, n ? n : 1);
    if (!p || !push(&g->owned, &g->n_owned, &g->cap_owned, p)) {
        free(p);
        gb_fail_nomem(g);
        return NULL;
    }
    return p;
}

static char *gb_name(struct gb *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *gb_name(struct gb *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = gb_alloc(g, (size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* name for a new tensor: a graph names each once (SSA).  Layer names may
 * hold '.', and the tensors derived from a layer are NAME.conv,
 * NAME.weight, ...: a layer named c1.conv beside a conv c1 gave two
 * tensors one name, a file ONNX Runtime refuses, written with exit 0. */
static bool gb_claim(struct gb *g, const char *name)
{
    if (g->rc || !name)
        return false;
    if (2 * (g->n_names + 1) > g->cap_names) {   /* grow, and place every name again */
        size_t cap = g->cap_names ? 2 * g->cap_names : 1024;
        const char **t = calloc(cap, sizeof *t);
        if (!t)
            return gb_fail_nomem(g), false;
        for (size_t i = 0; i < g->cap_names; i++)
            if (g->names[i]) {
                size_t k = name_hash(g->names[i]) & (cap - 1);
                while (t[k])
                    k = (k + 1) & (cap - 1);
                t[k] = g->names[i];
            }
        free(g->names);
        g->names = t;
        g->cap_names = cap;
    }
    size_t k = name_hash(name) & (g->cap_names - 1);
    for (; g->names[k]; k = (k + 1) & (g->cap_names - 1))
        if (strcmp(g->names[k], name) == 0) {
            g->rc = sn_fail(SN_EINVAL, "two tensors of the ONNX graph would be named '%s': a "
                            "layer is named like a tensor the exporter derives from another "
                            "layer's name (NAME.conv, NAME.weight, ...) or like the graph's "
                            "input, output or probs; rename that layer in a copy of the model file and give it "
                            "to export --model",
                            name);
            return false;
        }
    g->names[k] = name;
    g->n_names++;
    return true;
}

static void gb_free(struct gb *g)
{
    for (size_t i = 0; i < g->n_owned; i++)
        free(g->owned[i]);
    free(g->owned);
    free(g->names);
    free(g->nodes);
    free(g->inits);
}

/* A node op(inputs...) -> y; inputs are n_in names (NULL or "" for an
 * optional input left out).  Returns the node, for its attributes. */
static Onnx__NodeProto *node(struct gb *g, const char *op, const char *y, int n_in, ...)
{
    Onnx__NodeProto *n = gb_alloc(g, sizeof *n);
    char **in = gb_alloc(g, (size_t)n_in * sizeof *in);
    char **out = gb_alloc(g, sizeof *out);
    if (!n || !in || !out || !y)
        return gb_fail_nomem(g), NULL;
    if (!gb_claim(g, y))
        return NULL;
    onnx__node_proto__init(n);
    va_list ap;
    va_start(ap, n_in);
    for (int i = 0; i < n_in; i++) {
        const char *s = va_arg(ap, const char *);
        in[i] = (char *)(s ? s : "");
    }
    va_end(ap);
    out[0] = (char *)y;
    n->n_input = (size_t)n_in;
    n->input = in;
    n->n_output = 1;
    n->output = out;
    n->op_type = (char *)op;
    n->name = gb_name(g, "%s", y);
    if (!push((void ***)&g->nodes, &g->n_nodes, &g->cap_nodes, n))
        return gb_fail_nomem(g), NULL;
    return n;
}

static Onnx__AttributeProto *attr(struct gb *g, Onnx__NodeProto *n, const char *name,
                                  Onnx__AttributeProto__AttributeType type)
{
    if (!n)
        return NULL;
    Onnx__AttributeProto *a = gb_alloc(g, sizeof *a);
    Onnx__AttributeProto **list = gb_alloc(g, (n->n_attribute + 1) * sizeof *list);
    if (!a || !list)
        return NULL;
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = true;
    a->type = type;
    if (n->n_attribute)
        memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = a;
    n->attribute = list;
    return a;
}

static void attr_int(struct gb *g, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) {
        a->has_i = true;
        a->i = v;
    }
}

static void attr_float(struct gb *g, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) {
        a->has_f = true;
        a->f = v;
    }
}

static void attr_ints(struct gb *g, Onnx__NodeProto *n, const char *name, int cnt, ...)
{
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *v = gb_alloc(g, (size_t)cnt * sizeof *v);
    if (!a || !v)
        return;
    va_list ap;
    va_start(ap, cnt);
    for (int i = 0; i < cnt; i++)
        v[i] = va_arg(ap, int64_t);
    va_end(ap);
    a->n_ints = (size_t)cnt;
    a->ints = v;
}

/* An initializer of nd dims.  float data is borrowed when given (the
 * model's parameters outlive the builder), else zeroed room is made for
 * it and returned through *room; int64 data is copied. */
static Onnx__TensorProto *tensor(struct gb *g, const char *name, int nd, const int64_t *dims)
{
    Onnx__TensorProto *t = gb_alloc(g, sizeof *t);
    int64_t *d = gb_alloc(g, (size_t)nd * sizeof *d);
    if (!t || !d || !name)
        return gb_fail_nomem(g), NULL;
    if (!gb_claim(g, name))
        return NULL;
    onnx__tensor_proto__init(t);
    if (nd)   /* a scalar has no dims */
        memcpy(d, dims, (size_t)nd * sizeof *d);
    t->n_dims = (size_t)nd;
    t->dims = d;
    t->name = (char *)name;
    t->has_data_type = true;
    if (!push((void ***)&g->inits, &g->n_inits, &g->cap_inits, t))
        return gb_fail_nomem(g), NULL;
    return t;
}

static size_t dims_len(int nd, const int64_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= (size_t)dims[i];
    return n;
}

static const char *init_f32(struct gb *g, const char *name, const float *data, float **room,
                            int nd, const int64_t *dims)
{
    Onnx__TensorProto *t = tensor(g, name, nd, dims);
    size_t n = dims_len(nd, dims);
    float *v = data ? (float *)data : gb_alloc(g, n * sizeof *v);   /* pack only reads it */
    if (!t || !v)
        return NULL;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_float_data = n;
    t->float_data = v;
    if (room)
        *room = v;
    return name;
}

static const char *init_i64(struct gb *g, const char *name, int n, const int64_t *v)
{
    int64_t dims[1] = { n };
    Onnx__TensorProto *t = tensor(g, name, 1, dims);
    int64_t *c = gb_alloc(g, (size_t)n * sizeof *c);
    if (!t || !c)
        return NULL;
    memcpy(c, v, (size_t)n * sizeof *c);
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->n_int64_data = (size_t)n;
    t->int64_data = c;
    return name;
}

static const char *scalar(struct gb *g, const char *name, float v)
{
    float *room = NULL;
    const char *s = init_f32(g, name, NULL, &room, 0, NULL);
    if (room)
        *room = v;
    return s;
}

/* ---- shapes ---------------------------------------------------------------- */

/* y = x reshaped to (-1, s...): the batch first, then the per-example shape s. */
static const char *reshape(struct gb *g, const char *x, const char *y, struct sn_shape s)
{
    int64_t d[SN_MAX_DIMS + 1] = { -1 };
    for (int i = 0; i < s.ndim; i++)
        d[i + 1] = s.d[i];
    node(g, "Reshape", y, 2, x, init_i64(g, gb_name(g, "%s.shape", y), s.ndim + 1, d));
    return y;
}

static const struct sn_param *param(const struct sn_layer *l, const char *name)
{
    for (int i = 0; i < l->n_params; i++)
        if (strcmp(l->params[i].name, name) == 0)
            return &l->params[i];
    return NULL;
}

/* The parameter as an initializer "<layer>.<param>" of its own shape. */
static const char *param_init(struct gb *g, const struct sn_layer *l, const char *name)
{
    const struct sn_param *p = param(l, name);
    int64_t d[SN_MAX_DIMS];
    for (int i = 0; i < p->shape.ndim; i++)
        d[i] = p->shape.d[i];
    return init_f32(g, gb_name(g, "%s.%s", l->name, name), p->w, NULL, p->shape.ndim, d);
}

/* ---- activations ---------------------------------------------------------- */

static void leaky_relu_attrs(struct gb *g, Onnx__NodeProto *n)
{
    attr_float(g, n, "alpha", SN_LEAKY_SLOPE);
}

/* Our softmax runs over the last dimension of each example. */
static void softmax_attrs(struct gb *g, Onnx__NodeProto *n)
{
    attr_int(g, n, "axis", -1);
}

/* y = 0.5 x (1 + s): both GELU forms end so. */
static const char *half_x_one_plus(struct gb *g, const char *x, const char *s, const char *y)
{
    const char *p = gb_name(g, "%s.1p", y), *xp = gb_name(g, "%s.x1p", y);
    node(g, "Add", p, 2, s, scalar(g, gb_name(g, "%s.one", y), 1.0f));
    node(g, "Mul", xp, 2, x, p);
    node(g, "Mul", y, 2, xp, scalar(g, gb_name(g, "%s.half", y), 0.5f));
    return y;
}

/* GELU by its definition, 0.5 x (1 + erf(x / sqrt 2)), in nodes every
 * supported opset has (the operator Gelu needs opset 20). */
static const char *emit_gelu(struct gb *g, const char *x, const char *y)
{
    const char *t = gb_name(g, "%s.t", y), *e = gb_name(g, "%s.erf", y);
    node(g, "Mul", t, 2, x, scalar(g, gb_name(g, "%s.rsqrt2", y), 0.70710678118654752f));
    node(g, "Erf", e, 1, t);
    return half_x_one_plus(g, x, e, y);
}

/* PyTorch's tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static const char *emit_gelu_tanh(struct gb *g, const char *x, const char *y)
{
    const char *x2 = gb_name(g, "%s.x2", y), *x3 = gb_name(g, "%s.x3", y);
    const char *c = gb_name(g, "%s.cx3", y), *u = gb_name(g, "%s.u", y);
    const char *k = gb_name(g, "%s.ku", y), *th = gb_name(g, "%s.tanh", y);
    node(g, "Mul", x2, 2, x, x);
    node(g, "Mul", x3, 2, x2, x);
    node(g, "Mul", c, 2, x3, scalar(g, gb_name(g, "%s.c", y), 0.044715f));
    node(g, "Add", u, 2, x, c);
    node(g, "Mul", k, 2, u, scalar(g, gb_name(g, "%s.k", y), 0.79788456080286536f));
    node(g, "Tanh", th, 1, k);
    return half_x_one_plus(g, x, th, y);
}

/* One row per activation: the ONNX operator computing it (with its
 * attributes), or, for an activation that needs several nodes, an emit
 * function writing y = act(x).  An activation without a row is refused,
 * naming the layer. */
static const struct act_form {
    enum sn_act act;
    const char *op;   /* NULL and no emit: the identity, no node */
    void (*attrs)(struct gb *g, Onnx__NodeProto *n);
    const char *(*emit)(struct gb *g, const char *x, const char *y);
} act_forms[] = {
    { SN_ACT_LINEAR, NULL, NULL, NULL },
    { SN_ACT_RELU, "Relu", NULL, NULL },
    { SN_ACT_LEAKY_RELU, "LeakyRelu", leaky_relu_attrs, NULL },
    { SN_ACT_SIGMOID, "Sigmoid", NULL, NULL },
    { SN_ACT_TANH, "Tanh", NULL, NULL },
    { SN_ACT_SOFTMAX, "Softmax", softmax_attrs, NULL },
    { SN_ACT_GELU, NULL, NULL, emit_gelu },
    { SN_ACT_GELU_TANH, NULL, NULL, emit_gelu_tanh },
};

/* y = act(x) for layer l; y is named "<layer>" (its output). */
static const char *emit_act(struct gb *g, const struct sn_layer *l, int act, const char *x)
{
    for (size_t i = 0; i < sizeof act_forms / sizeof act_forms[0]; i++) {
        const struct act_form *f = &act_forms[i];
        if ((int)f->act != act)
            continue;
        if (f->emit)
            return f->emit(g, x, gb_name(g, "%s.%s", l->name, sn_act_name(f->act)));
        if (!f->op)
            return x;
        const char *y = gb_name(g, "%s.%s", l->name, sn_act_name(f->act));
        Onnx__NodeProto *n = node(g, f->op, y, 1, x);
        if (f->attrs)
            f->attrs(g, n);
        return y;
    }
    if (!g->rc)
        g->rc = sn_fail(SN_EINVAL, "layer %s (%s): activation %s has no ONNX form", l->name,
                        l->ops->kind, sn_act_name((enum sn_act)act));
    return NULL;
}

/* ---- layers ---------------------------------------------------------------- */

typedef const char *(*emit_fn)(struct gb *g, const struct sn_layer *l, const char *const *x);

static const char *emit_dense(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    struct sn_layer_attrs a;
    sn_layer_get_attrs(l, &a);
    const char *in = x[0];
    if (l->in_shape[0].ndim > 1) {   /* dense reads its input flattened in C,H,W order */
        in = gb_name(g, "%s.flat", l->name);
        attr_int(g, node(g, "Flatten", in, 1, x[0]), "axis", 1);
    }
    const char *z = gb_name(g, "%s.gemm", l->name);
    Onnx__NodeProto *n = node(g, "Gemm", z, 3, in, param_init(g, l, "weight"),
                              param_init(g, l, "bias"));
    attr_int(g, n, "transB", 1);   /* weight is (out, in), as PyTorch's */
    if (a.scale != 1.0f) {         /* y = S (x W^T + b) */
        attr_float(g, n, "alpha", a.scale);
        attr_float(g, n, "beta", a.scale);
    }
    return emit_act(g, l, a.act, z);
}

static const char *emit_conv(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    struct sn_layer_attrs a;
    sn_layer_get_attrs(l, &a);
    const char *z = gb_name(g, "%s.conv", l->name);
    Onnx__NodeProto *n = node(g, "Conv", z, 3, x[0], param_init(g, l, "weight"),
                              param_init(g, l, "bias"));
    attr_ints(g, n, "kernel_shape", 2, (int64_t)a.size, (int64_t)a.size);
    attr_ints(g, n, "strides", 2, (int64_t)a.stride, (int64_t)a.stride);
    attr_ints(g, n, "pads", 4, (int64_t)a.pad, (int64_t)a.pad, (int64_t)a.pad, (int64_t)a.pad);
    return emit_act(g, l, a.act, z);
}

/* maxpool and avgpool: no padding, floor division, as ONNX's defaults. */
static const char *emit_pool(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    struct sn_layer_attrs a;
    sn_layer_get_attrs(l, &a);
    const char *y = gb_name(g, "%s", l->name);
    bool max = strcmp(l->ops->kind, "maxpool") == 0;
    Onnx__NodeProto *n = node(g, max ? "MaxPool" : "AveragePool", y, 1, x[0]);
    attr_ints(g, n, "kernel_shape", 2, (int64_t)a.size, (int64_t)a.size);
    attr_ints(g, n, "strides", 2, (int64_t)a.stride, (int64_t)a.stride);
    return y;
}

static const char *emit_flatten(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    const char *y = gb_name(g, "%s", l->name);
    attr_int(g, node(g, "Flatten", y, 1, x[0]), "axis", 1);
    return y;
}

/* Dropout is the identity at inference. */
static const char *emit_dropout(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    (void)g;
    (void)l;
    return x[0];
}

/* The inference form, with the running statistics (affine = bias keeps
 * its weight of ones in the file: the same node), then the activation
 * it fuses. */
static const char *emit_batchnorm(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    struct sn_layer_attrs a;
    sn_layer_get_attrs(l, &a);
    const char *y = gb_name(g, a.act == SN_ACT_LINEAR ? "%s" : "%s.bn", l->name);
    Onnx__NodeProto *n = node(g, "BatchNormalization", y, 5, x[0], param_init(g, l, "weight"),
                              param_init(g, l, "bias"), param_init(g, l, "running_mean"),
                              param_init(g, l, "running_var"));
    attr_float(g, n, "epsilon", a.eps);
    return emit_act(g, l, a.act, y);
}

static const char *emit_activation(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    struct sn_layer_attrs a;
    sn_layer_get_attrs(l, &a);
    return emit_act(g, l, a.act, x[0]);
}

/* (C,H,W) along C, else along the last dimension (concat.h). */
static const char *emit_concat(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    Onnx__NodeProto *n = node(g, "Concat", gb_name(g, "%s", l->name), 0);
    char **in = gb_alloc(g, (size_t)l->n_in * sizeof *in);
    if (!n || !in)
        return NULL;
    for (int j = 0; j < l->n_in; j++)
        in[j] = (char *)x[j];
    n->n_input = (size_t)l->n_in;
    n->input = in;
    attr_int(g, n, "axis", l->in_shape[0].ndim == 3 ? 1 : -1);
    return n->output[0];
}

/* x0 + x1 + ..., summed in that order as add.c does. */
static const char *emit_add(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    const char *s = x[0];
    for (int j = 1; j < l->n_in; j++) {
        const char *y = j + 1 == l->n_in ? gb_name(g, "%s", l->name)
                                         : gb_name(g, "%s.sum%d", l->name, j);
        node(g, "Add", y, 2, s, x[j]);
        s = y;
    }
    return s;
}

/* ONNX's gate blocks in PyTorch's order: ONNX LSTM i,o,f,c from PyTorch
 * i,f,g,o; ONNX GRU z,r,h from PyTorch r,z,n; RNN one block. */
static const int lstm_gates[] = { 0, 3, 1, 2 }, gru_gates[] = { 1, 0, 2 }, rnn_gates[] = { 0 };

/* dst (G*H rows of cols) = src's row blocks in the order `order`. */
static void reorder_rows(float *dst, const float *src, const int *order, int G, int H, int cols)
{
    size_t block = (size_t)H * cols;
    for (int k = 0; k < G; k++)
        memcpy(dst + (size_t)k * block, src + (size_t)order[k] * block, block * sizeof *dst);
}

/* W (1, GH, F), R (1, GH, H), B (1, 2GH) = [bias_ih; bias_hh], gates reordered. */
static void recurrent_weights(struct gb *g, const struct sn_layer *l, int G, int H,
                              const int *order, const char **w, const char **r, const char **b)
{
    const struct sn_param *wi = param(l, "weight_ih"), *wh = param(l, "weight_hh");
    const struct sn_param *bi = param(l, "bias_ih"), *bh = param(l, "bias_hh");
    int F = wi->shape.d[1];
    float *dw = NULL, *dr = NULL, *db = NULL;
    int64_t dwd[3] = { 1, (int64_t)G * H, F }, drd[3] = { 1, (int64_t)G * H, H };
    int64_t dbd[2] = { 1, 2 * (int64_t)G * H };
    *w = init_f32(g, gb_name(g, "%s.W", l->name), NULL, &dw, 3, dwd);
    *r = init_f32(g, gb_name(g, "%s.R", l->name), NULL, &dr, 3, drd);
    *b = init_f32(g, gb_name(g, "%s.B", l->name), NULL, &db, 2, dbd);
    if (!dw || !dr || !db)
        return;
    reorder_rows(dw, wi->w, order, G, H, F);
    reorder_rows(dr, wh->w, order, G, H, H);
    reorder_rows(db, bi->w, order, G, H, 1);
    reorder_rows(db + (size_t)G * H, bh->w, order, G, H, 1);
}

/* rnn, lstm, gru: ONNX's RNN/LSTM/GRU read (T, N, F) (layout 0: ONNX
 * Runtime runs no other), so the batch-first input is transposed, and the
 * output Y (T, 1, N, H) or Y_h (1, N, H) is brought back to batch first. */
static const char *emit_recurrent(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    const char *kind = l->ops->kind;
    bool lstm = strcmp(kind, "lstm") == 0, gru = strcmp(kind, "gru") == 0;
    int G = lstm ? 4 : gru ? 3 : 1, H = param(l, "weight_hh")->shape.d[1];
    const struct sn_shape *is = &l->in_shape[0];
    int T = is->ndim == 3 ? is->d[1] : is->d[0], F = is->ndim == 3 ? is->d[2] : is->d[1];
    bool seq = l->out_shape.ndim == 2;
    const char *in = x[0], *w, *r, *b;
    if (is->ndim == 3)   /* a (1,H,W) image read as H steps of W */
        in = reshape(g, x[0], gb_name(g, "%s.steps", l->name), sn_shape_make(T, F, 0, 0));
    const char *xt = gb_name(g, "%s.tnf", l->name);
    attr_ints(g, node(g, "Transpose", xt, 1, in), "perm", 3, (int64_t)1, (int64_t)0, (int64_t)2);
    recurrent_weights(g, l, G, H, lstm ? lstm_gates : gru ? gru_gates : rnn_gates, &w, &r, &b);
    const char *yo = gb_name(g, "%s.%s", l->name, seq ? "Y" : "Y_h");
    Onnx__NodeProto *n = node(g, lstm ? "LSTM" : gru ? "GRU" : "RNN", yo, 4, xt, w, r, b);
    attr_int(g, n, "hidden_size", H);
    if (gru)   /* PyTorch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) */
        attr_int(g, n, "linear_before_reset", 1);
    if (n && !seq) {   /* Y_h is the second output: the first is left out */
        char **out = gb_alloc(g, 2 * sizeof *out);
        if (!out)
            return NULL;
        out[0] = "";
        out[1] = (char *)yo;
        n->n_output = 2;
        n->output = out;
    }
    const char *y = gb_name(g, "%s", l->name);
    if (!seq)
        return reshape(g, yo, y, sn_shape_make(H, 0, 0, 0));
    const char *yt = gb_name(g, "%s.ntdh", l->name);
    attr_ints(g, node(g, "Transpose", yt, 1, yo), "perm", 4, (int64_t)2, (int64_t)0, (int64_t)1,
              (int64_t)3);
    return reshape(g, yt, y, sn_shape_make(T, H, 0, 0));
}

/* The one table from layer kinds to emitters: a new kind is one line. */
static const struct {
    const char *kind;
    emit_fn emit;
} layer_forms[] = {
    { "dense", emit_dense },       { "conv", emit_conv },
    { "maxpool", emit_pool },      { "avgpool", emit_pool },
    { "flatten", emit_flatten },   { "dropout", emit_dropout },
    { "batchnorm", emit_batchnorm }, { "activation", emit_activation },
    { "rnn", emit_recurrent },     { "lstm", emit_recurrent },
    { "gru", emit_recurrent },     { "concat", emit_concat },
    { "add", emit_add },
};

static const char *emit_layer(struct gb *g, const struct sn_layer *l, const char *const *x)
{
    for (size_t i = 0; i < sizeof layer_forms / sizeof layer_forms[0]; i++)
        if (strcmp(l->ops->kind, layer_forms[i].kind) == 0)
            return layer_forms[i].emit(g, l, x);
    if (!g->rc)
        g->rc = sn_fail(SN_EINVAL, "layer %s: kind '%s' has no ONNX form", l->name, l->ops->kind);
    return NULL;
}

/* ---- around the layers ---------------------------------------------------- */

/* The raw input as the training data was prepared: x * scale, then
 * (x - mean[c]) * (1 / std[c]) per channel, in float as dataset.c does. */
static const char *emit_preprocess(struct gb *g, const struct sn_shape *in,
                                   const struct sn_data_meta *meta, const char *x)
{
    double scale = meta ? meta->scale : 1.0;
    if (scale != 1.0) {
        const char *y = "input.scaled";
        node(g, "Mul", y, 2, x, scalar(g, "input.scale", (float)scale));
        x = y;
    }
    if (!meta || meta->n_norm == 0)
        return x;
    /* one value a channel of an image, (C,1,1), or one for all, (1,1,1);
     * otherwise a value for every element of the input's shape, each the
     * one the data reader gave that element (runs of norm_block elements) */
    const size_t n = (size_t)meta->n_norm, all = sn_shape_len(in);
    const bool image = in->ndim == 3 && (n == 1 || ((size_t)in->d[0] == n &&
                                                    meta->norm_block == all / n));
    int64_t d[SN_MAX_DIMS] = { (int64_t)n, 1, 1 };
    int nd = 3;
    if (!image) {
        nd = in->ndim;
        for (int i = 0; i < nd; i++)
            d[i] = in->d[i];
    }
    const size_t len = dims_len(nd, d);
    float *mean = NULL, *inv = NULL;
    const char *mn = init_f32(g, "input.mean", NULL, &mean, nd, d);
    const char *sn = init_f32(g, "input.inv_std", NULL, &inv, nd, d);
    if (!mean || !inv)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        const size_t k = image ? i : sn_data_meta_index(meta, i);
        mean[i] = (float)meta->mean[k];
        inv[i] = 1.0f / (float)meta->std[k];
    }
    node(g, "Sub", "input.centred", 2, x, mn);
    node(g, "Mul", "input.normalised", 2, "input.centred", sn);
    return "input.normalised";
}

/* [augment] test_flip, first half: each image followed, after the whole
 * batch, by its mirror image (W reversed), as one batch of 2N. */
static const char *emit_flip_batch(struct gb *g, const char *x)
{
    const int64_t start = -1, end = INT64_MIN, axis = 3, step = -1;
    node(g, "Slice", "input.mirrored", 5, x, init_i64(g, "flip.starts", 1, &start),
         init_i64(g, "flip.ends", 1, &end), init_i64(g, "flip.axes", 1, &axis),
         init_i64(g, "flip.steps", 1, &step));
    attr_int(g, node(g, "Concat", "input.both", 2, x, "input.mirrored"), "axis", 0);
    return "input.both";
}

/* Second half: z (2N, out...) -> 0.5 (z[:N] + z[N:]), as cli_forward_eval. */
static const char *emit_flip_mean(struct gb *g, const char *z, struct sn_shape out)
{
    const int64_t two[3] = { 2, -1, (int64_t)sn_shape_len(&out) }, zero = 0, one = 1, two1 = 2;
    node(g, "Reshape", "flip.halves", 2, z, init_i64(g, "flip.halves.shape", 3, two));
    const char *axes = init_i64(g, "flip.axis0", 1, &zero);
    const char *i0 = init_i64(g, "flip.i0", 1, &zero), *i1 = init_i64(g, "flip.i1", 1, &one);
    const char *i2 = init_i64(g, "flip.i2", 1, &two1);
    node(g, "Slice", "flip.plain", 4, "flip.halves", i0, i1, axes);
    node(g, "Slice", "flip.mirror", 4, "flip.halves", i1, i2, axes);
    node(g, "Add", "flip.sum", 2, "flip.plain", "flip.mirror");
    node(g, "Mul", "flip.mean", 2, "flip.sum", scalar(g, "flip.half", 0.5f));
    return reshape(g, "flip.mean", "flip.out", out);
}

/* The graph's input or output: float, (N or batch, s...). */
static Onnx__ValueInfoProto *value_info(struct gb *g, const char *name, int batch,
                                        struct sn_shape s)
{
    Onnx__ValueInfoProto *v = gb_alloc(g, sizeof *v);
    Onnx__TypeProto *t = gb_alloc(g, sizeof *t);
    Onnx__TypeProto__Tensor *tt = gb_alloc(g, sizeof *tt);
    Onnx__TensorShapeProto *sh = gb_alloc(g, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = gb_alloc(g, (size_t)(s.ndim + 1) * sizeof *dims);
    if (!v || !t || !tt || !sh || !dims)
        return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    for (int i = 0; i <= s.ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = gb_alloc(g, sizeof *d);
        if (!d)
            return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        if (i == 0 && batch == 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = "N";
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = i == 0 ? batch : s.d[i - 1];
        }
        dims[i] = d;
    }
    sh->n_dim = (size_t)s.ndim + 1;
    sh->dim = dims;
    tt->has_elem_type = true;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->name = (char *)name;
    v->type = t;
    return v;
}

/* Every layer in order; returns the last layer's output. */
static const char *emit_layers(struct gb *g, const struct sn_model *m, const char *input)
{
    const char **out = gb_alloc(g, (size_t)m->n_layers * sizeof *out);
    if (!out)
        return NULL;
    for (int i = 0; i < m->n_layers && !g->rc; i++) {
        const struct sn_layer *l = m->layers[i];
        const char *x[SN_MAX_INPUTS];
        for (int j = 0; j < l->n_in; j++)
            x[j] = l->in[j] < 0 ? input : out[l->in[j]];
        out[i] = emit_layer(g, l, x);
    }
    return g->rc ? NULL : out[m->n_layers - 1];
}

/* The probabilities predict writes: softmax over all the outputs of an
 * example (cross_entropy), or the sigmoid of each (binary_cross_entropy). */
static const char *emit_probs(struct gb *g, enum sn_loss loss, const char *z, struct sn_shape *out)
{
    if (loss == SN_LOSS_BCE) {
        node(g, "Sigmoid", "probs.sigmoid", 1, z);
        return "probs.sigmoid";
    }
    if (out->ndim > 1) {
        attr_int(g, node(g, "Flatten", "probs.flat", 1, z), "axis", 1);
        z = "probs.flat";
        *out = sn_shape_make((int)sn_shape_len(out), 0, 0, 0);
    }
    attr_int(g, node(g, "Softmax", "probs.softmax", 1, z), "axis", -1);
    return "probs.softmax";
}

static Onnx__StringStringEntryProto *meta_entry(struct gb *g, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = gb_alloc(g, sizeof *e);
    char *v = value ? gb_name(g, "%s", value) : NULL;
    if (!e || !v)
        return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = (char *)key;
    e->value = v;
    return e;
}

/* metadata_props: classes (a JSON array of names), scratchnet.model (the
 * model text), scratchnet.input (what the input holds). */
static void fill_metadata(struct gb *g, Onnx__ModelProto *mp, const struct sn_onnx_opts *o,
                          const char *input_doc)
{
    Onnx__StringStringEntryProto **e = gb_alloc(g, 3 * sizeof *e);
    if (!e)
        return;
    size_t n = 0;
    const struct sn_data_meta *meta = o->meta;
    if (meta && meta->n_classes) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < meta->n_classes; i++) {
            json_t *s = json_string(meta->classes[i]);   /* NULL: not UTF-8 */
            if (!s) {
                json_decref(a);
                g->rc = sn_fail(SN_EINVAL, "class name %zu of the weights file is not UTF-8", i);
                return;
            }
            json_array_append_new(a, s);
        }
        char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        if (!s) {
            gb_fail_nomem(g);
            return;
        }
        e[n++] = meta_entry(g, "classes", s);
        free(s);
    }
    if (o->cfg_text)
        e[n++] = meta_entry(g, "scratchnet.model", o->cfg_text);
    e[n++] = meta_entry(g, "scratchnet.input", input_doc);
    mp->n_metadata_props = n;
    mp->metadata_props = e;
}

/* ---- the model -------------------------------------------------------------- */

/* ONNX's IR version for an opset (onnx/helper.py VERSION_TABLE). */
static int64_t ir_version(int opset)
{
    return opset <= 13 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

static int check_opts(const struct sn_model *m, const struct sn_netcfg *net,
                      const struct sn_onnx_opts *o)
{
    if (o->opset < SN_ONNX_OPSET_MIN || o->opset > SN_ONNX_OPSET_MAX)
        return sn_fail(SN_EINVAL, "opset %d: supported are %d to %d", o->opset, SN_ONNX_OPSET_MIN,
                       SN_ONNX_OPSET_MAX);
    if (o->batch < 0)
        return sn_fail(SN_EINVAL, "batch %d: must be >= 1 (or 0: dynamic)", o->batch);
    if (o->probs && net->loss == SN_LOSS_MSE)
        return sn_fail(SN_EINVAL, "the model's loss is mse: its outputs are not probabilities "
                       "(export without the softmax)");
    if (net->augment.n_views > 0 && !sn_augment_is_test_flip(&net->augment))
        return sn_fail(SN_EINVAL, "[augment] test_views has no ONNX form (only test_flip, the "
                       "views 0 0 and flip, does): export the weights of a model file without "
                       "its test_views and test_weights lines (--model)");
    if (m->n_layers < 1 || !m->params)
        return sn_fail(SN_EINVAL, "onnx: the model has no layers or is not built");
    return SN_OK;
}

/* The graph: preprocessing, [test_flip's batch], layers, [its mean],
 * [probabilities], and the output. */
static Onnx__GraphProto *emit_graph(struct gb *g, const struct sn_model *m,
                                    const struct sn_netcfg *net, const struct sn_onnx_opts *o)
{
    bool flip = sn_augment_is_test_flip(&net->augment);
    gb_claim(g, "input");
    const char *x = emit_preprocess(g, &m->in_shape, o->meta, "input");
    if (flip)
        x = emit_flip_batch(g, x);
    const char *z = emit_layers(g, m, x);
    struct sn_shape out = m->layers[m->n_layers - 1]->out_shape;
    if (flip)
        z = emit_flip_mean(g, z, out);
    if (o->probs)
        z = emit_probs(g, net->loss, z, &out);
    const char *yname = o->probs ? "probs" : "output";
    node(g, "Identity", yname, 1, z);

    Onnx__GraphProto *gp = gb_alloc(g, sizeof *gp);
    Onnx__ValueInfoProto **in = gb_alloc(g, sizeof *in), **outs = gb_alloc(g, sizeof *outs);
    if (!gp || !in || !outs)
        return NULL;
    onnx__graph_proto__init(gp);
    in[0] = value_info(g, "input", o->batch, m->in_shape);
    outs[0] = value_info(g, yname, o->batch, out);
    gp->name = "scratchnet";
    gp->n_input = 1;
    gp->input = in;
    gp->n_output = 1;
    gp->output = outs;
    if (g->rc)
        return NULL;
    gp->n_node = g->n_nodes;
    gp->node = g->nodes;
    gp->n_initializer = g->n_inits;
    gp->initializer = g->inits;
    return gp;
}

static const char *describe_input(struct gb *g, const struct sn_data_meta *meta,
                                  const struct sn_shape *in)
{
    char norm[2048] = "", scaled[64] = "";
    size_t at = 0;
    for (int c = 0; meta && c < meta->n_norm && at < sizeof norm; c++)
        at += (size_t)snprintf(norm + at, sizeof norm - at, "%s%g/%g", c ? ", " : "",
                               meta->mean[c], meta->std[c]);
    const double scale = meta ? meta->scale : 1.0;
    if (scale != 1.0)
        snprintf(scaled, sizeof scaled, ", multiplied by %g", scale);
    /* pixels: images (1 or 3 channels) stored as bytes with a scale */
    const bool pixels = scale != 1.0 && in->ndim == 3 && (in->d[0] == 1 || in->d[0] == 3);
    /* each value's run of inputs: a channel, a feature, or so many inputs */
    char per[64] = "";
    const size_t n = meta ? (size_t)meta->n_norm : 0, all = sn_shape_len(in);
    if (n == 1)
        snprintf(per, sizeof per, "all inputs");
    else if (n > 1 && in->ndim == 3 && (size_t)in->d[0] == n && meta->norm_block == all / n)
        snprintf(per, sizeof per, "channel");
    else if (n > 1 && meta->norm_block <= 1)
        snprintf(per, sizeof per, "feature");
    else if (n > 1)
        snprintf(per, sizeof per, "run of %zu consecutive inputs", meta->norm_block);
    return gb_name(g, "raw values %s%s%s%s%s%s%s",
                   pixels ? "(images: pixels 0..255)" : "as the training data stored them",
                   scaled, at ? ", then (x - mean) / std per " : "", per, at ? " (" : "",
                   at ? norm : "", at ? ")" : "");
}

/* buf's n bytes into f in parts, looking for a stop between them: the
 * bytes written, fewer than n on a failure (errno in *e) or a stop. */
static size_t write_parts(FILE *f, const uint8_t *buf, size_t n, int *e)
{
    enum { PART = 16 << 20 };
    size_t w = 0;
    errno = 0;
    while (w < n && !sn_interrupt_pending()) {
        const size_t part = n - w < PART ? n - w : PART, got = fwrite(buf + w, 1, part, f);
        w += got;
        if (got < part)
            break;
    }
    *e = errno;
    return w;
}

static int write_file(const char *path, const Onnx__ModelProto *mp)
{
    size_t n = onnx__model_proto__get_packed_size(mp);
    if (n > (size_t)INT32_MAX)   /* protobuf parses no message past 2 GiB */
        return sn_fail(SN_EINVAL, "onnx: the model would take %zu bytes, past the 2 GiB that "
                       "protobuf, and so every ONNX reader, takes in one file (ONNX's external "
                       "data form, which holds larger models, is not written)", n);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return sn_fail(SN_ENOMEM, "onnx: out of memory for %zu bytes", n);
    onnx__model_proto__pack(mp, buf);
    char tmp[4200];
    sn_fs_tmpname(path, tmp, sizeof tmp);
    FILE *f;
    int e, rc = sn_fs_create_tmp(tmp, path, &f);
    if (rc) {
        free(buf);
        return rc;
    }
    size_t w = write_parts(f, buf, n, &e);
    free(buf);
    if (fclose(f) != 0 || w != n || sn_interrupt_pending()) {
        e = e ? e : errno;
        remove(tmp);
        if (sn_interrupt_pending())
            return sn_fail(SN_EINTR, "interrupted by %s while writing %s: nothing written",
                           sn_signal_name(sn_interrupt_pending()), path);
        return sn_fail(SN_EIO, "%s: writing failed (%s)", path, sn_fs_write_why(e));
    }
    return sn_fs_commit(tmp, path);
}

int sn_onnx_save(const char *path, const struct sn_model *m, const struct sn_netcfg *net,
                 const struct sn_onnx_opts *o)
{
    int rc = check_opts(m, net, o);
    if (rc)
        return rc;
    struct gb g = { .opset = o->opset };
    Onnx__ModelProto mp;
    onnx__model_proto__init(&mp);
    Onnx__OperatorSetIdProto ops, *opsp = &ops;
    onnx__operator_set_id_proto__init(&ops);
    ops.domain = "";
    ops.has_version = true;
    ops.version = o->opset;
    mp.has_ir_version = true;
    mp.ir_version = ir_version(o->opset);
    mp.n_opset_import = 1;
    mp.opset_import = &opsp;
    mp.producer_name = "scratchnet";
    mp.producer_version = (char *)(o->version ? o->version : "");   /* protobuf-c: not const */
    mp.doc_string = "exported by scratchnet export";
    mp.graph = emit_graph(&g, m, net, o);
    fill_metadata(&g, &mp, o, describe_input(&g, o->meta, &m->in_shape));
    rc = g.rc ? g.rc : write_file(path, &mp);
    gb_free(&g);
    return rc;
}
