/* add: elementwise sum of inputs (see add.h).  Legend: n = B * values. */
#include "core/add.h"

#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "core/status.h"

static void add_forward(struct sn_layer *l, const float *const *x, float *y,
                        const struct sn_ctx *c)
{
    const size_t n = (size_t)c->B * sn_shape_len(&l->out_shape);
    const float *x0 = x[0], *x1 = x[1];
#pragma omp parallel for simd schedule(static) if (parallel: n > SN_ELEMWISE_PAR)
    for (size_t i = 0; i < n; i++)
        y[i] = x0[i] + x1[i];
    for (int j = 2; j < l->n_in; j++) {
        const float *xj = x[j];
#pragma omp parallel for simd schedule(static) if (parallel: n > SN_ELEMWISE_PAR)
        for (size_t i = 0; i < n; i++)
            y[i] += xj[i];
    }
}

/* Each input's gradient is dy: stored where the input's gradient holds
 * nothing yet (c->fresh), added where it does. */
static void add_backward(struct sn_layer *l, const float *const *x, const float *y,
                         const float *dy, float *const *dx, const struct sn_ctx *c)
{
    const size_t n = (size_t)c->B * sn_shape_len(&l->out_shape);
    for (int j = 0; j < l->n_in; j++) {
        float *d = dx[j];
        if (!d)
            continue;
        if (c->fresh & (1u << j)) {
            memcpy(d, dy, n * sizeof *d);
            continue;
        }
#pragma omp parallel for simd schedule(static) if (parallel: n > SN_ELEMWISE_PAR)
        for (size_t i = 0; i < n; i++)
            d[i] += dy[i];
    }
}

static const struct sn_layer_ops add_ops = {
    .kind = "add",
    .forward = add_forward,
    .backward = add_backward,
    .overwrites_dx = true,
};

int sn_add_create(const char *name, const struct sn_shape *in, int n, struct sn_layer **out)
{
    if (n < 2 || n > SN_MAX_INPUTS)
        return sn_fail(SN_ESHAPE, "add: needs 2 to %d inputs, got %d", SN_MAX_INPUTS, n);
    for (int j = 1; j < n; j++) {
        if (!sn_shape_equal(&in[j], &in[0])) {
            char a[64], b[64];
            return sn_fail(SN_ESHAPE, "add: input %d has shape %s, input 0 has %s", j,
                           sn_shape_str(&in[j], a, sizeof a), sn_shape_str(&in[0], b, sizeof b));
        }
    }
    struct sn_layer *l = calloc(1, sizeof *l);
    if (!l)
        return sn_fail(SN_ENOMEM, "add: out of memory");
    sn_layer_base_init(l, &add_ops, name, in[0]);
    l->n_in = n;
    for (int j = 0; j < n; j++)
        l->in_shape[j] = in[j];
    l->out_shape = in[0];
    l->backward_reads_y = false;
    *out = l;
    return SN_OK;
}
