/* test_conv: the conv layer and its im2col kernels. */
#include "testutil.h"

#include <string.h>

#include "core/conv.h"
#include "core/im2col.h"
#include "core/status.h"
#include "ref/ref_layers.h"

/* A 1-channel 3x3 image, a 2x2 all-ones kernel, bias 1: each output is its
 * window's sum + 1. */
static void test_conv_forward_hand(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_conv_create("c", sn_shape_make(1, 3, 3, 0), 1, 2, 1, 0, SN_ACT_LINEAR,
                                    SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 1, true);
    for (int i = 0; i < 9; i++)
        t.x[0][i] = (float)(i + 1);
    for (int i = 0; i < 4; i++)
        l->params[0].w[i] = 1.0f;
    l->params[1].w[0] = 1.0f;
    sn_test_layer_loss(&t);
    const float want[4] = { 1 + 2 + 4 + 5 + 1, 2 + 3 + 5 + 6 + 1, 4 + 5 + 7 + 8 + 1, 5 + 6 + 8 + 9 + 1 };
    assert_close_arrays(t.y, want, 4, 0, 0);
    sn_test_layer_free(&t);
}

/* Gradients match finite differences: stride 2, padding, non-square, batch 1. */
static void test_conv_backward_fd(void **state)
{
    (void)state;
    struct { int C, H, W, OC, K, S, P, B; enum sn_act a; } cases[] = {
        { 2, 5, 6, 3, 3, 2, 1, 2, SN_ACT_LINEAR },
        { 1, 4, 4, 2, 2, 1, 0, 1, SN_ACT_TANH },
        { 3, 6, 5, 2, 3, 1, 2, 3, SN_ACT_SIGMOID },
        { 2, 7, 3, 4, 1, 3, 0, 2, SN_ACT_LINEAR },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sn_layer *l;
        assert_int_equal(sn_conv_create("c", sn_shape_make(cases[i].C, cases[i].H, cases[i].W, 0),
                                        cases[i].OC, cases[i].K, cases[i].S, cases[i].P, cases[i].a,
                                        SN_INIT_FANIN_UNIFORM, &l), SN_OK);
        struct sn_test_layer t;
        sn_test_layer_init(&t, l, cases[i].B, true);
        sn_test_layer_check(&t, 1e-2, 1e-3, 1e-2);
        sn_test_layer_free(&t);
    }
}

/* Output, dx, dweight and dbias match torch.nn.Conv2d(2, 3, 3, stride 2, pad 1). */
static void test_conv_matches_pytorch(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_conv_create("c", sn_shape_make(2, 5, 6, 0), 3, 3, 2, 1, SN_ACT_LINEAR,
                                    SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    assert_int_equal(sn_shape_len(&l->out_shape), 27);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    const float *p[2] = { conv_weight, conv_bias }, *dp[2] = { conv_dweight, conv_dbias };
    sn_test_layer_ref(&t, conv_x, p, conv_r, conv_y, conv_dx, dp, 1e-5, 1e-5);
    sn_test_layer_free(&t);
}

/* col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>. */
static void test_conv_im2col_adjoint(void **state)
{
    (void)state;
    struct sn_conv_geom g = { .C = 2, .H = 5, .W = 4, .K = 3, .S = 2, .P = 1, .OH = 3, .OW = 2 };
    enum { NB = 2, X = NB * 2 * 5 * 4, COLS = 2 * 9 * NB * 6 };
    float x[X], c[COLS], cols[COLS], back[X] = { 0 };
    sn_test_fill(x, X, 1, -1, 1);
    sn_test_fill(c, COLS, 2, -1, 1);
    sn_im2col(&g, x, NB, cols);
    sn_col2im(&g, c, NB, back);
    double a = 0, b = 0;
    for (int i = 0; i < COLS; i++)
        a += (double)cols[i] * c[i];
    for (int i = 0; i < X; i++)
        b += (double)x[i] * back[i];
    assert_float_equal(a, b, 1e-4);
}

/* A kernel larger than the padded input, or a non-image input, is refused. */
static void test_conv_rejects_bad_shapes(void **state)
{
    (void)state;
    struct sn_layer *l = NULL;
    assert_int_equal(sn_conv_create("c", sn_shape_make(1, 4, 4, 0), 2, 7, 1, 1, SN_ACT_LINEAR,
                                    SN_INIT_HE, &l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "does not fit"));
    assert_int_equal(sn_conv_create("c", sn_shape_make(16, 0, 0, 0), 2, 3, 1, 1, SN_ACT_LINEAR,
                                    SN_INIT_HE, &l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "(C,H,W)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_forward_hand),
        cmocka_unit_test(test_conv_backward_fd),
        cmocka_unit_test(test_conv_matches_pytorch),
        cmocka_unit_test(test_conv_im2col_adjoint),
        cmocka_unit_test(test_conv_rejects_bad_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
