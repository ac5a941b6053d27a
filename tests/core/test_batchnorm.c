/* test_batchnorm: batch statistics, running statistics, eval mode, the
 * fused activation and affine = bias. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/batchnorm.h"
#include "core/status.h"
#include "ref/ref_layers.h"

#define AFF SN_BN_AFFINE
#define LIN SN_ACT_LINEAR

/* Training output, gradients and updated running statistics match
 * BatchNorm2d (4 x (3,4,5)) and BatchNorm1d (5 x 6). */
static void test_batchnorm_matches_pytorch(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(3, 4, 5, 0),
                                         0.1f, 1e-5f, AFF, LIN, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 4, true);
    l->params[2].w[0] = l->params[2].w[1] = l->params[2].w[2] = 0.0f;   /* fresh statistics */
    l->params[3].w[0] = l->params[3].w[1] = l->params[3].w[2] = 1.0f;
    const float *p[2] = { bn2d_weight, bn2d_bias }, *dp[2] = { bn2d_dweight, bn2d_dbias };
    sn_test_layer_ref(&t, bn2d_x, p, bn2d_r, bn2d_y, bn2d_dx, dp, 1e-5, 1e-4);
    /* one training forward updated the running statistics as PyTorch's did */
    assert_close_arrays(l->params[2].w, bn2d_running_mean, 3, 1e-6, 1e-5);
    assert_close_arrays(l->params[3].w, bn2d_running_var, 3, 1e-6, 1e-5);
    sn_test_layer_free(&t);

    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(6, 0, 0, 0),
                                         0.1f, 1e-5f, AFF, LIN, &l), SN_OK);
    sn_test_layer_init(&t, l, 5, true);
    const float *q[2] = { bn1d_weight, bn1d_bias }, *dq[2] = { bn1d_dweight, bn1d_dbias };
    sn_test_layer_ref(&t, bn1d_x, q, bn1d_r, bn1d_y, bn1d_dx, dq, 1e-5, 1e-4);
    assert_close_arrays(l->params[2].w, bn1d_running_mean, 6, 1e-6, 1e-5);
    assert_close_arrays(l->params[3].w, bn1d_running_var, 6, 1e-6, 1e-5);
    sn_test_layer_free(&t);
}

/* Finite differences in training mode, odd shapes, batch 2. */
static void test_batchnorm_backward_fd(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(2, 3, 3, 0),
                                         0.1f, 1e-5f, AFF, LIN, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_check(&t, 1e-2, 2e-3, 2e-2);
    sn_test_layer_free(&t);
    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(5, 0, 0, 0),
                                         0.1f, 1e-5f, AFF, LIN, &l), SN_OK);
    sn_test_layer_init(&t, l, 3, true);
    sn_test_layer_check(&t, 1e-2, 2e-3, 2e-2);
    sn_test_layer_free(&t);
}

/* In evaluation the running statistics are used: y = w (x - rm)/sqrt(rv+eps) + b. */
static void test_batchnorm_eval_uses_running_stats(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(2, 0, 0, 0),
                                         0.1f, 1e-5f, AFF, LIN, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 1, false);
    l->params[0].w[0] = 2.0f; l->params[0].w[1] = 1.0f;   /* weight */
    l->params[1].w[0] = 0.5f; l->params[1].w[1] = 0.0f;   /* bias */
    l->params[2].w[0] = 1.0f; l->params[2].w[1] = -1.0f;  /* running_mean */
    l->params[3].w[0] = 4.0f; l->params[3].w[1] = 0.25f;  /* running_var */
    t.x[0][0] = 3.0f;
    t.x[0][1] = 0.0f;
    sn_test_layer_loss(&t);
    assert_float_equal(t.y[0], 2.0f * 2.0f / sqrtf(4.0f + 1e-5f) + 0.5f, 1e-5);
    assert_float_equal(t.y[1], 1.0f / sqrtf(0.25f + 1e-5f), 1e-5);
    assert_float_equal(l->params[2].w[0], 1.0f, 0);   /* untouched in eval */
    assert_true(l->params[2].buffer && !l->params[2].trainable);
    sn_test_layer_free(&t);
    struct sn_layer *bad = NULL;
    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(3, 4, 0, 0),
                                         0.1f, 1e-5f, AFF, LIN, &bad), SN_ESHAPE);
}

/* With a fused GELU, momentum 0.4, eps 1e-3 and the weight fixed at 1
 * (affine = bias): output, dx, dbias and running statistics match
 * BatchNorm2d + GELU on planes of 323 values (more than one block);
 * BatchNorm1d + GELU(tanh) learning both, likewise.  The fixed weight
 * gets no gradient and is not trainable. */
static void test_batchnorm_act_matches_pytorch(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(4, 17, 19, 0), 0.4f, 1e-3f,
                                         SN_BN_SHIFT, SN_ACT_GELU, &l), SN_OK);
    assert_false(l->params[0].trainable);
    assert_true(l->params[1].trainable);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 3, true);
    const float *p[2] = { bn2d_gelu_weight, bn2d_gelu_bias };
    const float *dp[2] = { bn2d_gelu_dweight, bn2d_gelu_dbias };
    sn_test_layer_ref(&t, bn2d_gelu_x, p, bn2d_gelu_r, bn2d_gelu_y, bn2d_gelu_dx, dp, 1e-5, 1e-4);
    assert_close_arrays(l->params[2].w, bn2d_gelu_running_mean, 4, 1e-6, 1e-5);
    assert_close_arrays(l->params[3].w, bn2d_gelu_running_var, 4, 1e-6, 1e-5);
    sn_test_layer_free(&t);

    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(5, 0, 0, 0), 0.1f, 1e-5f, AFF,
                                         SN_ACT_GELU_TANH, &l), SN_OK);
    sn_test_layer_init(&t, l, 6, true);
    const float *q[2] = { bn1d_gelu_tanh_weight, bn1d_gelu_tanh_bias };
    const float *dq[2] = { bn1d_gelu_tanh_dweight, bn1d_gelu_tanh_dbias };
    sn_test_layer_ref(&t, bn1d_gelu_tanh_x, q, bn1d_gelu_tanh_r, bn1d_gelu_tanh_y,
                      bn1d_gelu_tanh_dx, dq, 1e-5, 1e-4);
    assert_close_arrays(l->params[2].w, bn1d_gelu_tanh_running_mean, 5, 1e-6, 1e-5);
    assert_close_arrays(l->params[3].w, bn1d_gelu_tanh_running_var, 5, 1e-6, 1e-5);
    sn_test_layer_free(&t);
}

/* Every fused elementwise activation (all but softmax) matches finite differences, the
 * smooth ones on planes of 300 values (two blocks), relu and leaky relu on
 * planes of 12 (a step of x moves every z of its channel; with few values
 * none crosses the kink), and on (F) inputs; with affine = bias only the
 * bias is checked (the weight is not trainable). */
static void test_batchnorm_act_fd(void **state)
{
    (void)state;
    for (int i = 0; i < SN_ACT_COUNT; i++) {
        if (i == SN_ACT_SOFTMAX)   /* refused: test_batchnorm_act_is_bn_then_act */
            continue;
        struct sn_layer *l;
        struct sn_test_layer t;
        const bool kink = sn_test_act_kinked(i);
        const double h = kink ? 1e-3 : 1e-2;
        const struct sn_shape plane = sn_shape_make(2, kink ? 3 : 15, kink ? 4 : 20, 0);
        assert_int_equal(sn_batchnorm_create("bn", plane, 0.1f, 1e-5f,
                                             i % 2 ? SN_BN_SHIFT : AFF, i, &l), SN_OK);
        sn_test_layer_init(&t, l, 2, true);
        sn_test_layer_check(&t, h, 2e-3, 2e-2);
        sn_test_layer_free(&t);
        assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(4, 0, 0, 0), 0.1f, 1e-5f, AFF,
                                             i, &l), SN_OK);
        sn_test_layer_init(&t, l, 5, true);
        sn_test_layer_check(&t, h, 2e-3, 2e-2);
        sn_test_layer_free(&t);
    }
}

/* A fused activation equals batchnorm then the activation as two steps,
 * bit for bit in evaluation and training forward; softmax is refused. */
static void test_batchnorm_act_is_bn_then_act(void **state)
{
    (void)state;
    struct sn_test_layer t[2];
    for (int k = 0; k < 2; k++) {
        struct sn_layer *l;
        assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(3, 5, 7, 0), 0.1f, 1e-5f, AFF,
                                             k ? SN_ACT_GELU : LIN, &l), SN_OK);
        sn_test_layer_init(&t[k], l, 4, true);
        sn_test_layer_loss(&t[k]);
    }
    size_t n = 4 * t[0].out_len;
    sn_act_forward(SN_ACT_GELU, t[0].y, t[0].y, 1, n);
    assert_memory_equal(t[0].y, t[1].y, n * sizeof(float));
    sn_test_layer_free(&t[0]);
    sn_test_layer_free(&t[1]);
    struct sn_layer *bad = NULL;
    assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(3, 0, 0, 0), 0.1f, 1e-5f, AFF,
                                         SN_ACT_SOFTMAX, &bad), SN_EINVAL);
}

/* Told that dx holds nothing yet (sn_ctx.fresh), backward stores dx over
 * whatever it held (with an activation it keeps dz there between its two
 * passes): the same bits as adding into zeros, with and without one. */
static void test_batchnorm_fresh_stores(void **state)
{
    (void)state;
    const enum sn_act acts[2] = { LIN, SN_ACT_GELU };
    for (int k = 0; k < 2; k++) {
        struct sn_layer *l;
        assert_int_equal(sn_batchnorm_create("bn", sn_shape_make(3, 17, 19, 0), 0.1f, 1e-5f, AFF,
                                             acts[k], &l), SN_OK);
        struct sn_test_layer t;
        sn_test_layer_init(&t, l, 2, true);
        sn_test_layer_backward(&t);   /* into zeroed dx */
        size_t n = 2 * t.in_len[0];
        float *want = malloc(n * sizeof *want), dw[6];
        memcpy(want, t.dx[0], n * sizeof *want);
        memcpy(dw, t.grads, sizeof dw);
        sn_test_fill(t.dx[0], n, 98, -5, 5);   /* garbage */
        memset(t.grads, 0, sizeof dw);
        struct sn_ctx c = { .B = 2, .train = true, .ws = t.ws, .fresh = 1u };
        l->ops->backward(l, (const float *const *)t.x, t.y, t.r, t.dx, &c);
        assert_memory_equal(t.dx[0], want, n * sizeof *want);
        assert_memory_equal(t.grads, dw, sizeof dw);
        free(want);
        sn_test_layer_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm_matches_pytorch),
        cmocka_unit_test(test_batchnorm_backward_fd),
        cmocka_unit_test(test_batchnorm_eval_uses_running_stats),
        cmocka_unit_test(test_batchnorm_act_matches_pytorch),
        cmocka_unit_test(test_batchnorm_act_fd),
        cmocka_unit_test(test_batchnorm_act_is_bn_then_act),
        cmocka_unit_test(test_batchnorm_fresh_stores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
