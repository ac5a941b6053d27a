/* activation: elementwise and softmax kernels, and the [activation] layer.
 *
 * Legend: B rows, F features; buffers are row-major B x F.
 */
#include "core/activation.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/fastmath.h"
#include "core/parallel.h"
#include "core/status.h"

static const char *const act_names[SN_ACT_COUNT] = {
    [SN_ACT_LINEAR] = "linear",   [SN_ACT_RELU] = "relu",
    [SN_ACT_LEAKY_RELU] = "leaky_relu", [SN_ACT_SIGMOID] = "sigmoid",
    [SN_ACT_TANH] = "tanh",       [SN_ACT_SOFTMAX] = "softmax",
    [SN_ACT_GELU] = "gelu",       [SN_ACT_GELU_TANH] = "gelu_tanh",
};

int sn_act_parse(const char *name, enum sn_act *out)
{
    for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++) {
        if (strcmp(name, act_names[i]) == 0) {
            *out = (enum sn_act)i;
            return SN_OK;
        }
    }
    char names[256];   /* every name, from the table: a new kind is listed by itself */
    size_t at = 0;
    for (int i = 0; i < SN_ACT_COUNT && at < sizeof names; i++)
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s",
                               i == 0 ? "" : i + 1 == SN_ACT_COUNT ? " or " : ", ", act_names[i]);
    return sn_fail(SN_EINVAL, "unknown activation '%s' (expected %s)", name, names);
}

const char *sn_act_name(enum sn_act a)
{
    return act_names[a];
}

/* Softmax of one row, max-subtracted for stability. */
static void softmax_row(const float *x, float *y, size_t F)
{
    float m = x[0];
    for (size_t j = 1; j < F; j++)
        m = x[j] > m ? x[j] : m;
    float s = 0.0f;
    for (size_t j = 0; j < F; j++) {
        y[j] = expf(x[j] - m);
        s += y[j];
    }
    float inv = 1.0f / s;
    for (size_t j = 0; j < F; j++)
        y[j] *= inv;
}

/* dx = J^T dy = y * (dy - <dy, y>) for one row of F (+= when acc). */
static void softmax_row_backward(const float *y, const float *dy, float *dx, size_t F, bool acc)
{
    float dot = 0.0f;
    for (size_t j = 0; j < F; j++)
        dot += dy[j] * y[j];
    for (size_t j = 0; j < F; j++)
        dx[j] = (acc ? dx[j] : 0.0f) + y[j] * (dy[j] - dot);
}

/* GELU's tanh form: u = sqrt(2/pi) (x + 0.044715 x^3). */
#define GELU_K 0.797884560802865356f
#define GELU_C 0.044715f
/* 1 / sqrt(2 pi): the normal density is exp(-x^2/2) / sqrt(2 pi) */
#define INV_SQRT_2PI 0.398942280401432678f

static inline float gelu_tanh(float x)
{
    return 0.5f * x * (1.0f + sn_tanhf(GELU_K * (x + GELU_C * x * x * x)));
}

static inline float gelu_tanh_grad(float x)
{
    float t = sn_tanhf(GELU_K * (x + GELU_C * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * GELU_C * x * x);
}

static inline float gelu_grad(float x)
{
    float g, p = sn_normcdf_g(x, &g);
    return p + x * g * INV_SQRT_2PI;
}

/* ---- one thread's kernels ---------------------------------------------
 * Each elementwise activation is written once, for n consecutive values on
 * the calling thread; the B x F entry points below spread them over the
 * threads in chunks.  A loop that is already parallel (a conv layer's
 * examples, a dense layer's rows) calls these directly: a nested parallel
 * region, even one that runs on one thread, costs about a microsecond,
 * more than a short row. */

void sn_act_forward_seq(enum sn_act a, const float *x, float *y, size_t n)
{
    switch (a) {
    case SN_ACT_LINEAR:
        if (y != x)
            memcpy(y, x, n * sizeof *y);
        break;
    case SN_ACT_SOFTMAX:   /* the n values as one row */
        softmax_row(x, y, n);
        break;
    case SN_ACT_RELU:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case SN_ACT_LEAKY_RELU:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] > 0.0f ? x[i] : SN_LEAKY_SLOPE * x[i];
        break;
    case SN_ACT_SIGMOID:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            y[i] = sn_sigmoidf(x[i]);
        break;
    case SN_ACT_TANH:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            y[i] = sn_tanhf(x[i]);
        break;
    case SN_ACT_GELU:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            y[i] = x[i] * sn_normcdf(x[i]);
        break;
    case SN_ACT_GELU_TANH:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            y[i] = gelu_tanh(x[i]);
        break;
    case SN_ACT_COUNT:   /* not a kind: -Wswitch names a kind without its case */
        break;
    }
}

/* dx = act'(x) dy, or dx += act'(x) dy when acc, from x or y (see the
 * header): the flag is the same for the whole loop, so the compiler makes
 * two loops of each. */
static void backward_seq(enum sn_act a, const float *x, const float *y, const float *dy,
                         float *dx, size_t n, bool acc)
{
    switch (a) {
    case SN_ACT_SOFTMAX:   /* the n values as one row */
        softmax_row_backward(y, dy, dx, n, acc);
        break;
    case SN_ACT_LINEAR:
        if (acc) {
#pragma omp simd
            for (size_t i = 0; i < n; i++)
                dx[i] += dy[i];
        } else if (dx != dy) {
            memcpy(dx, dy, n * sizeof *dx);
        }
        break;
    case SN_ACT_RELU:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            dx[i] = (acc ? dx[i] : 0.0f) + (y[i] > 0.0f ? dy[i] : 0.0f);
        break;
    case SN_ACT_LEAKY_RELU:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            dx[i] = (acc ? dx[i] : 0.0f) + (y[i] > 0.0f ? dy[i] : SN_LEAKY_SLOPE * dy[i]);
        break;
    case SN_ACT_SIGMOID:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            dx[i] = (acc ? dx[i] : 0.0f) + dy[i] * y[i] * (1.0f - y[i]);
        break;
    case SN_ACT_TANH:
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            dx[i] = (acc ? dx[i] : 0.0f) + dy[i] * (1.0f - y[i] * y[i]);
        break;
    case SN_ACT_GELU:   /* two loops: GCC does not vectorise the acc select here */
        if (acc) {
#pragma omp simd
            for (size_t i = 0; i < n; i++)
                dx[i] += dy[i] * gelu_grad(x[i]);
        } else {
#pragma omp simd
            for (size_t i = 0; i < n; i++)
                dx[i] = dy[i] * gelu_grad(x[i]);
        }
        break;
    case SN_ACT_GELU_TANH:
        if (acc) {
#pragma omp simd
            for (size_t i = 0; i < n; i++)
                dx[i] += dy[i] * gelu_tanh_grad(x[i]);
        } else {
#pragma omp simd
            for (size_t i = 0; i < n; i++)
                dx[i] = dy[i] * gelu_tanh_grad(x[i]);
        }
        break;
    case SN_ACT_COUNT:
        break;
    }
}

void sn_act_backward_seq(enum sn_act a, const float *x, const float *y, const float *dy,
                         float *dx, size_t n)
{
    backward_seq(a, x, y, dy, dx, n, false);
}

/* ---- the B x F entry points -------------------------------------------
 * Elementwise: chunks of CHUNK values (whole cache lines), spread over the
 * threads when there are more than SN_ELEMWISE_PAR values.  Softmax: rows. */

enum { CHUNK = 4096 };

void sn_act_forward(enum sn_act a, const float *x, float *y, size_t B, size_t F)
{
    size_t n = B * F;
    if (a == SN_ACT_SOFTMAX) {
#pragma omp parallel for schedule(static) if (n > 4096)
        for (size_t b = 0; b < B; b++)
            softmax_row(x + b * F, y + b * F, F);
        return;
    }
    if (n <= SN_ELEMWISE_PAR) {
        sn_act_forward_seq(a, x, y, n);
        return;
    }
    size_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < chunks; c++) {
        size_t lo = c * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
        sn_act_forward_seq(a, x + lo, y + lo, len);
    }
}

static void act_backward(enum sn_act a, const float *x, const float *y, const float *dy,
                         float *dx, size_t B, size_t F, bool acc)
{
    size_t n = B * F;
    if (a == SN_ACT_SOFTMAX) {
#pragma omp parallel for schedule(static) if (n > 4096)
        for (size_t b = 0; b < B; b++)
            softmax_row_backward(y + b * F, dy + b * F, dx + b * F, F, acc);
        return;
    }
    if (n <= SN_ELEMWISE_PAR) {
        backward_seq(a, x, y, dy, dx, n, acc);
        return;
    }
    size_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < chunks; c++) {
        size_t lo = c * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
        backward_seq(a, x ? x + lo : NULL, y ? y + lo : NULL, dy + lo, dx + lo, len, acc);
    }
}

void sn_act_backward(enum sn_act a, const float *x, const float *y, const float *dy, float *dx,
                     size_t B, size_t F)
{
    act_backward(a, x, y, dy, dx, B, F, false);
}

void sn_act_backward_add(enum sn_act a, const float *x, const float *y, const float *dy,
                         float *dx, size_t B, size_t F)
{
    act_backward(a, x, y, dy, dx, B, F, true);
}

/* ---- the [activation] layer ------------------------------------------- */

struct activation {
    struct sn_layer base;   /* first */
    enum sn_act act;
};

static size_t activation_rows(const struct sn_layer *l, int B, size_t *F)
{
    const struct sn_shape *s = &l->out_shape;
    *F = (size_t)s->d[s->ndim - 1];
    return (size_t)B * sn_shape_len(s) / *F;
}

static void activation_forward(struct sn_layer *l, const float *const *x, float *y,
                               const struct sn_ctx *c)
{
    const struct activation *a = (const struct activation *)l;
    size_t F, rows = activation_rows(l, c->B, &F);
    sn_act_forward(a->act, x[0], y, rows, F);
}

static void activation_backward(struct sn_layer *l, const float *const *x,
                                const float *y, const float *dy, float *const *dx,
                                const struct sn_ctx *c)
{
    const struct activation *a = (const struct activation *)l;
    if (!dx[0])
        return;
    size_t F, rows = activation_rows(l, c->B, &F);
    if (c->fresh & 1u)
        sn_act_backward(a->act, x[0], y, dy, dx[0], rows, F);
    else
        sn_act_backward_add(a->act, x[0], y, dy, dx[0], rows, F);
}

static void activation_attrs(const struct sn_layer *l, struct sn_layer_attrs *a)
{
    a->act = (int)((const struct activation *)l)->act;
}

static const struct sn_layer_ops activation_ops = {
    .kind = "activation",
    .attrs = activation_attrs,
    .forward = activation_forward,
    .backward = activation_backward,
    .in_place = true,
    .overwrites_dx = true,
};

/* GELU's backward reads x, which running in place would overwrite. */
static const struct sn_layer_ops activation_x_ops = {
    .kind = "activation",
    .attrs = activation_attrs,
    .forward = activation_forward,
    .backward = activation_backward,
    .overwrites_dx = true,
};

int sn_activation_create(const char *name, struct sn_shape in, enum sn_act act,
                         struct sn_layer **out)
{
    struct activation *a = calloc(1, sizeof *a);
    if (!a)
        return sn_fail(SN_ENOMEM, "activation: out of memory");
    sn_layer_base_init(&a->base, sn_act_needs_x(act) ? &activation_x_ops : &activation_ops, name,
                       in);
    a->base.out_shape = in;
    a->base.backward_reads_y = !sn_act_needs_x(act);
    a->act = act;
    *out = &a->base;
    return SN_OK;
}
