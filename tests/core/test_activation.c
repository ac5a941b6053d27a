/* test_activation: activation kernels and the [activation] layer. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/activation.h"
#include "core/status.h"

/* Hand values of every activation at a few points. */
static void test_activation_forward_hand(void **state)
{
    (void)state;
    const float x[4] = { -2.0f, -0.5f, 0.0f, 3.0f };
    float y[4];
    sn_act_forward(SN_ACT_RELU, x, y, 1, 4);
    assert_close_arrays(y, ((float[]){ 0, 0, 0, 3 }), 4, 0, 0);
    sn_act_forward(SN_ACT_LEAKY_RELU, x, y, 1, 4);
    assert_close_arrays(y, ((float[]){ -0.02f, -0.005f, 0, 3 }), 4, 1e-7, 1e-6);
    sn_act_forward(SN_ACT_SIGMOID, x, y, 1, 4);
    assert_close_arrays(y, ((float[]){ 0.11920292f, 0.37754067f, 0.5f, 0.95257413f }), 4, 1e-7, 1e-6);
    sn_act_forward(SN_ACT_TANH, x, y, 1, 4);
    assert_close_arrays(y, ((float[]){ -0.96402758f, -0.46211716f, 0, 0.99505475f }), 4, 1e-7, 1e-6);
    sn_act_forward(SN_ACT_LINEAR, x, y, 1, 4);
    assert_close_arrays(y, x, 4, 0, 0);
    /* x Phi(x) and the tanh form (Hendrycks & Gimpel 2016), in double */
    sn_act_forward(SN_ACT_GELU, x, y, 1, 4);
    assert_close_arrays(y, ((float[]){ -0.04550026f, -0.15426877f, 0, 2.99595031f }), 4, 2e-7,
                        1e-6);
    sn_act_forward(SN_ACT_GELU_TANH, x, y, 1, 4);
    assert_close_arrays(y, ((float[]){ -0.04540231f, -0.15428599f, 0, 2.99636261f }), 4, 2e-7,
                        1e-6);
    /* softmax of (1,2,3): e^k / (e + e^2 + e^3) */
    const float s[3] = { 1, 2, 3 };
    sn_act_forward(SN_ACT_SOFTMAX, s, y, 1, 3);
    assert_close_arrays(y, ((float[]){ 0.09003057f, 0.24472847f, 0.66524096f }), 3, 1e-7, 1e-6);
}

/* Extreme inputs stay finite: sigmoid of +-100, softmax of 1000s. */
static void test_activation_stable(void **state)
{
    (void)state;
    const float x[2] = { -100.0f, 100.0f };
    float y[2];
    sn_act_forward(SN_ACT_SIGMOID, x, y, 1, 2);
    assert_true(y[0] >= 0.0f && y[0] < 1e-30f);
    assert_float_equal(y[1], 1.0f, 0);
    const float big[3] = { 1000.0f, 1001.0f, 1002.0f };
    float s[3];
    sn_act_forward(SN_ACT_SOFTMAX, big, s, 1, 3);
    assert_close_arrays(s, ((float[]){ 0.09003057f, 0.24472847f, 0.66524096f }), 3, 1e-6, 1e-5);
}

struct fd {
    enum sn_act a;
    size_t B, F;
    float *x, *y, *r;
};

static double fd_loss(void *ctx)
{
    struct fd *f = ctx;
    sn_act_forward(f->a, f->x, f->y, f->B, f->F);
    double s = 0;
    for (size_t i = 0; i < f->B * f->F; i++)
        s += (double)f->r[i] * f->y[i];
    return s;
}

/* Every backward matches finite differences (x kept away from relu's kink). */
static void test_activation_backward_fd(void **state)
{
    (void)state;
    enum { B = 3, F = 5, N = B * F };
    for (int a = SN_ACT_LINEAR; a < SN_ACT_COUNT; a++) {
        float x[N], y[N], r[N], dx[N];
        sn_test_fill(x, N, 11 + a, -2, 2);
        for (int i = 0; i < N; i++)
            if (fabsf(x[i]) < 0.1f)
                x[i] = 0.3f;
        sn_test_fill(r, N, 12, -1, 1);
        struct fd f = { (enum sn_act)a, B, F, x, y, r };
        fd_loss(&f);
        /* backward reads only what sn_act_needs_x says (the layers keep
         * only that): the other is NaN here, so a kind declared wrongly
         * there fails this check instead of reading freed memory later */
        float xs[N], ys[N];
        for (int i = 0; i < N; i++) {
            xs[i] = sn_act_needs_x((enum sn_act)a) ? x[i] : NAN;
            ys[i] = sn_act_needs_x((enum sn_act)a) ? NAN : y[i];
        }
        sn_act_backward((enum sn_act)a, xs, ys, r, dx, B, F);
        for (int i = 0; i < N; i++)   /* a NaN would pass the tolerance test below */
            assert_true(isfinite(dx[i]));
        assert_grad_fd(fd_loss, &f, x, dx, N, 1e-2, 1e-3, 1e-2);
    }
}

/* The layer adds into dx: two backward calls double it (tanh, from y;
 * gelu, from x: that layer never runs in place). */
static void test_activation_layer_accumulates(void **state)
{
    (void)state;
    const enum sn_act acts[2] = { SN_ACT_TANH, SN_ACT_GELU };
    for (int k = 0; k < 2; k++) {
        struct sn_layer *l;
        assert_int_equal(sn_activation_create("act", sn_shape_make(2, 3, 0, 0), acts[k], &l),
                         SN_OK);
        assert_int_equal(l->ops->in_place, acts[k] == SN_ACT_TANH);
        assert_int_equal(l->backward_reads_y, acts[k] == SN_ACT_TANH);
        float x[12], y[12], dy[12], ws[12], dx1[12] = { 0 }, dx2[12] = { 0 };
        sn_test_fill(x, 12, 1, -1, 1);
        sn_test_fill(dy, 12, 2, -1, 1);
        struct sn_ctx c = { .B = 2, .train = true, .ws = ws, .rng = NULL };
        const float *in[1] = { x };
        float *d1[1] = { dx1 }, *d2[1] = { dx2 };
        l->ops->forward(l, in, y, &c);
        l->ops->backward(l, in, y, dy, d1, &c);
        l->ops->backward(l, in, y, dy, d2, &c);
        l->ops->backward(l, in, y, dy, d2, &c);
        for (int i = 0; i < 12; i++)
            dx1[i] *= 2;
        assert_close_arrays(dx2, dx1, 12, 1e-6, 1e-6);
        sn_layer_destroy(l);
    }
}

/* sn_act_backward_add adds exactly what sn_act_backward writes, for every
 * activation, on arrays long enough for the parallel loops. */
static void test_activation_backward_add(void **state)
{
    (void)state;
    enum { B = 100, F = 701, N = B * F };
    static float y[N], dy[N], once[N], acc[N], want[N];
    for (int a = SN_ACT_LINEAR; a < SN_ACT_COUNT; a++) {
        sn_test_fill(y, N, 21 + a, -1, 1);   /* the input too, for gelu */
        if (a == SN_ACT_SIGMOID || a == SN_ACT_SOFTMAX)
            for (int i = 0; i < N; i++)
                y[i] = 0.5f * (y[i] + 1.0f);
        sn_test_fill(dy, N, 22, -1, 1);
        sn_test_fill(acc, N, 23, -1, 1);
        sn_act_backward((enum sn_act)a, y, y, dy, once, B, F);
        for (int i = 0; i < N; i++)
            want[i] = acc[i] + once[i];
        sn_act_backward_add((enum sn_act)a, y, y, dy, acc, B, F);
        assert_memory_equal(acc, want, sizeof acc);
    }
}

/* Names parse both ways; unknown names are refused with the list. */
/* The one-thread kernels give the parallel entry points' bits: over
 * 100,003 values (chunks, threads, a ragged last chunk), and softmax over
 * one row of 37. */
static void test_activation_seq_matches_parallel(void **state)
{
    (void)state;
    enum { N = 100003, F = 37 };
    float *x = malloc(N * sizeof *x), *dy = malloc(N * sizeof *dy);
    float *y1 = malloc(N * sizeof *y1), *y2 = malloc(N * sizeof *y2);
    float *d1 = malloc(N * sizeof *d1), *d2 = malloc(N * sizeof *d2);
    assert_non_null(x && dy && y1 && y2 && d1 && d2);
    sn_test_fill(x, N, 41, -6, 6);
    sn_test_fill(dy, N, 42, -1, 1);
    for (int a = SN_ACT_LINEAR; a < SN_ACT_COUNT; a++) {
        size_t n = a == SN_ACT_SOFTMAX ? F : N, rows = a == SN_ACT_SOFTMAX ? 1 : N / 7;
        size_t cols = n / rows;   /* the entry points see rows x cols = n */
        if (a != SN_ACT_SOFTMAX)
            n = rows * cols;
        sn_act_forward((enum sn_act)a, x, y1, rows, cols);
        sn_act_forward_seq((enum sn_act)a, x, y2, n);
        assert_memory_equal(y1, y2, n * sizeof *y1);
        sn_act_backward((enum sn_act)a, x, y1, dy, d1, rows, cols);
        sn_act_backward_seq((enum sn_act)a, x, y1, dy, d2, n);
        assert_memory_equal(d1, d2, n * sizeof *d1);
    }
    free(x);
    free(dy);
    free(y1);
    free(y2);
    free(d1);
    free(d2);
}

static void test_activation_parse(void **state)
{
    (void)state;
    enum sn_act a;
    assert_int_equal(sn_act_parse("leaky_relu", &a), SN_OK);
    assert_int_equal(a, SN_ACT_LEAKY_RELU);
    assert_string_equal(sn_act_name(SN_ACT_SOFTMAX), "softmax");
    assert_int_equal(sn_act_parse("gelu", &a), SN_OK);
    assert_int_equal(a, SN_ACT_GELU);
    assert_int_equal(sn_act_parse("gelu_tanh", &a), SN_OK);
    assert_int_equal(a, SN_ACT_GELU_TANH);
    assert_true(sn_act_needs_x(SN_ACT_GELU) && !sn_act_needs_x(SN_ACT_RELU));
    assert_int_equal(sn_act_parse("not_an_activation", &a), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "unknown activation 'not_an_activation' (expected "
                                        "linear, relu, leaky_relu,"));
    for (int i = 0; i < SN_ACT_COUNT; i++) {   /* every name, each parsed back */
        char quoted[40];
        snprintf(quoted, sizeof quoted, i + 1 == SN_ACT_COUNT ? " or %s)" : " %s", sn_act_name(i));
        assert_non_null(strstr(sn_errmsg(), quoted));
        assert_int_equal(sn_act_parse(sn_act_name(i), &a), SN_OK);
        assert_int_equal(a, i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activation_forward_hand),
        cmocka_unit_test(test_activation_stable),
        cmocka_unit_test(test_activation_backward_fd),
        cmocka_unit_test(test_activation_layer_accumulates),
        cmocka_unit_test(test_activation_backward_add),
        cmocka_unit_test(test_activation_seq_matches_parallel),
        cmocka_unit_test(test_activation_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
