/* events: where a model's backward tells the reducer what is final, and
 * where it polls it, for the simulator (bench/sim/replay.c).
 *
 *   build/bench/sim/events MODEL.cfg BATCH [THREADS [REPEATS]]
 *
 * Builds the model for BATCH examples, runs forward and backward on random
 * inputs REPEATS times (default 5) with THREADS threads (default 1) and a
 * watch that records every ready(from) and poll() call, and prints, for
 * each layer in backward order, where each call came as a fraction of the
 * layer's backward time (the median over the repeats; 1 for the ready that
 * the model sends after the layer).  The per-layer times themselves come
 * from `train --profile` (bench/sim/profiles); this file gives the shape of
 * each layer's backward (a convolution polls once per example, a recurrent
 * layer reports W_hh and its biases before computing W_ih), which does not
 * depend on the machine's load.  Output, one line per layer:
 *
 *   INDEX NAME N_EVENTS FRACTION:p | FRACTION:r:FROM ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/model.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/status.h"
#include "io/modelfile.h"

enum { MAX_EVENTS = 1 << 16, MAX_REPEATS = 15 };

struct event {
    double t;
    int layer;        /* filled in when its layer is known */
    long from;        /* -1: a poll */
};

struct rec {
    struct event ev[MAX_EVENTS];
    int n, assigned;  /* events recorded; the first not yet given to a layer */
    int n_layers;
    double *t0, *t1;  /* per layer: its backward's start and end */
};

static void on_ready(void *ctx, size_t from)
{
    struct rec *r = ctx;
    if (r->n < MAX_EVENTS)
        r->ev[r->n++] = (struct event){ sn_clock_s(), -1, (long)from };
}

static void on_poll(void *ctx)
{
    struct rec *r = ctx;
    if (r->n < MAX_EVENTS)
        r->ev[r->n++] = (struct event){ sn_clock_s(), -1, -1 };
}

/* Layer i's backward ended: the events since the layer before it (i + 1,
 * backward runs last to first) that came before i's start belong to i + 1
 * (they follow its end), the rest to i. */
static void on_layer(void *ctx, int i, bool backward, double t0, double t1)
{
    struct rec *r = ctx;
    if (!backward)
        return;
    r->t0[i] = t0;
    r->t1[i] = t1;
    for (; r->assigned < r->n; r->assigned++) {
        struct event *e = &r->ev[r->assigned];
        e->layer = e->t < t0 && i + 1 < r->n_layers ? i + 1 : i;
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double frac(const struct rec *r, const struct event *e)
{
    double len = r->t1[e->layer] - r->t0[e->layer];
    double f = len > 0 ? (e->t - r->t0[e->layer]) / len : 1.0;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* Forward and backward of random data, every event recorded in r. */
static void pass(struct sn_model *m, int B, float *x, float *dz, size_t out_len, struct rec *r,
                 struct sn_rng *rng)
{
    struct sn_watch w = { .ctx = r, .ready = on_ready, .poll = on_poll, .layer = on_layer };
    for (size_t i = 0; i < (size_t)B * sn_shape_len(&m->in_shape); i++)
        x[i] = sn_rng_uniform(rng);
    sn_model_zero_grad(m);
    sn_model_forward(m, x, B, true, rng, NULL);
    for (size_t i = 0; i < (size_t)B * out_len; i++)
        dz[i] = (sn_rng_uniform(rng) - 0.5f) / (float)B;
    r->n = r->assigned = 0;
    sn_model_backward(m, dz, B, rng, &w);
    if (r->assigned < r->n)   /* the ready after the first layer */
        on_layer(r, 0, true, r->t0[0], r->t1[0]);
}

static int run(const char *path, int B, int repeats)
{
    char *text = NULL;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    int rc = sn_modelfile_read(path, &text);
    if (!rc)
        rc = sn_modelfile_parse(text, path, &net, &m);
    free(text);
    struct sn_rng rng;
    sn_rng_seed(&rng, 1, 2);
    if (!rc)
        rc = sn_model_build(m, B, &rng);
    if (rc) {
        sn_model_destroy(m);
        return rc;
    }
    const size_t out_len = sn_model_out_len(m);
    float *x = malloc((size_t)B * sn_shape_len(&m->in_shape) * sizeof *x);
    float *dz = malloc((size_t)B * out_len * sizeof *dz);
    struct rec *r = calloc(1, sizeof *r);
    double *f = malloc((size_t)MAX_REPEATS * MAX_EVENTS * sizeof *f);
    if (r) {
        r->n_layers = m->n_layers;
        r->t0 = calloc((size_t)m->n_layers, sizeof *r->t0);
        r->t1 = calloc((size_t)m->n_layers, sizeof *r->t1);
    }
    if (!x || !dz || !r || !f || !r->t0 || !r->t1) {
        rc = sn_fail(SN_ENOMEM, "out of memory");
        goto out;
    }
    pass(m, B, x, dz, out_len, r, &rng);   /* warm-up */
    int n = r->n;
    for (int k = 0; k < repeats; k++) {
        pass(m, B, x, dz, out_len, r, &rng);
        if (r->n != n) {
            rc = sn_fail(SN_EINVAL, "the backward's calls differ from pass to pass (%d, %d)", n,
                         r->n);
            goto out;
        }
        for (int e = 0; e < n; e++)
            f[(size_t)e * MAX_REPEATS + k] = frac(r, &r->ev[e]);
    }
    printf("# events: %s, batch %d, %d thread(s), median of %d backward passes\n", path, B,
           sn_parallel_threads(), repeats);
    for (int i = m->n_layers - 1, e = 0; i >= 0; i--) {
        int k = e;
        while (k < n && r->ev[k].layer == i)
            k++;
        printf("%d %s %d", i, m->layers[i]->name, k - e);
        for (; e < k; e++) {
            qsort(f + (size_t)e * MAX_REPEATS, (size_t)repeats, sizeof *f, cmp_d);
            double med = f[(size_t)e * MAX_REPEATS + repeats / 2];
            if (r->ev[e].from < 0)
                printf(" %.4f:p", med);
            else
                printf(" %.4f:r:%ld", med, r->ev[e].from);
        }
        printf("\n");
    }
out:
    if (r) {
        free(r->t0);
        free(r->t1);
    }
    free(r);
    free(f);
    free(x);
    free(dz);
    sn_model_destroy(m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: events MODEL.cfg BATCH [THREADS [REPEATS]]\n");
        return 2;
    }
    int B = atoi(argv[2]), threads = argc > 3 ? atoi(argv[3]) : 1;
    int repeats = argc > 4 ? atoi(argv[4]) : 5;
    if (B < 1 || threads < 1 || repeats < 1 || repeats > MAX_REPEATS) {
        fprintf(stderr, "events: BATCH and THREADS must be >= 1, REPEATS 1 ... %d\n",
                MAX_REPEATS);
        return 2;
    }
    sn_parallel_set_threads(threads);
    int rc = run(argv[1], B, repeats);
    if (rc) {
        fprintf(stderr, "events: %s\n", sn_errmsg());
        return rc == SN_EINVAL || rc == SN_ESHAPE ? 2 : 1;
    }
    return 0;
}
