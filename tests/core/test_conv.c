/* test_conv: the conv layer and its algorithms: im2col, Winograd, direct. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "core/conv.h"
#include "core/im2col.h"
#include "core/status.h"
#include "ref/ref_layers.h"

/* A 1-channel 3x3 image, a 2x2 all-ones kernel, bias 1: each output is its
 * window's sum + 1 (AUTO: direct). */
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

/* The im2col path's gradients match finite differences: stride 2,
 * padding, non-square, batch 1 (forced: AUTO runs the stride-1 cases
 * direct), and with every fused activation on small planes (relu's kink
 * needs a small step on few values). */
static void test_conv_backward_fd(void **state)
{
    (void)state;
    struct { int C, H, W, OC, K, S, P, B; enum sn_act a; } cases[] = {
        { 2, 5, 6, 3, 3, 2, 1, 2, SN_ACT_LINEAR },
        { 1, 4, 4, 2, 2, 1, 0, 1, SN_ACT_TANH },
        { 3, 6, 5, 2, 3, 1, 2, 3, SN_ACT_SIGMOID },
        { 2, 7, 3, 4, 1, 3, 0, 2, SN_ACT_LINEAR },
        { 2, 5, 5, 3, 3, 2, 1, 3, SN_ACT_GELU },
    };
    const size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n + SN_ACT_COUNT; i++) {
        const bool each = i >= n;   /* then: activation i - n on a small case */
        const enum sn_act a = each ? (enum sn_act)(i - n) : cases[i].a;
        const int C = each ? 2 : cases[i].C, H = each ? 4 : cases[i].H;
        const int W = each ? 3 : cases[i].W, OC = each ? 2 : cases[i].OC;
        struct sn_layer *l;
        assert_int_equal(sn_conv_create("c", sn_shape_make(C, H, W, 0), OC, each ? 2 : cases[i].K,
                                        each ? 1 : cases[i].S, each ? 1 : cases[i].P, a,
                                        SN_INIT_FANIN_UNIFORM, &l), SN_OK);
        assert_int_equal(sn_conv_set_algo(l, SN_CONV_IM2COL), SN_OK);
        struct sn_test_layer t;
        sn_test_layer_init(&t, l, each ? 2 : cases[i].B, true);
        sn_test_layer_check(&t, sn_test_act_kinked(a) ? 1e-4 : 1e-2, 1e-3, 1e-2);
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

/* Both Winograd variants: F(2x2, 3x3) and F(4x4, 3x3). */
static const enum sn_conv_algo winos[2] = { SN_CONV_WINOGRAD, SN_CONV_WINOGRAD4 };

/* The Winograd paths' gradients match finite differences: padding 0, 1 and
 * 2, odd and non-square outputs (a cut last tile row or column: for F(4x4)
 * cut by 1, 2 and 3), batch 1, a fused activation. */
static void test_conv_winograd_fd(void **state)
{
    (void)state;
    struct { int C, H, W, OC, P, B; enum sn_act a; } cases[] = {
        { 2, 5, 6, 3, 1, 2, SN_ACT_LINEAR },
        { 3, 4, 7, 2, 0, 1, SN_ACT_TANH },
        { 1, 3, 3, 2, 2, 3, SN_ACT_SIGMOID },
        { 4, 6, 6, 5, 1, 5, SN_ACT_LINEAR },
        { 2, 9, 11, 3, 1, 2, SN_ACT_LINEAR },
        { 3, 5, 4, 2, 1, 4, SN_ACT_GELU_TANH },   /* z kept per group of examples */
    };
    for (size_t i = 0; i < 2 * sizeof cases / sizeof cases[0]; i++) {
        const size_t c = i / 2;
        struct sn_layer *l;
        assert_int_equal(sn_conv_create("c", sn_shape_make(cases[c].C, cases[c].H, cases[c].W, 0),
                                        cases[c].OC, 3, 1, cases[c].P, cases[c].a,
                                        SN_INIT_FANIN_UNIFORM, &l), SN_OK);
        assert_int_equal(sn_conv_set_algo(l, winos[i % 2]), SN_OK);
        struct sn_test_layer t;
        sn_test_layer_init(&t, l, cases[c].B, true);
        sn_test_layer_check(&t, 1e-2, 1e-3, 1e-2);
        sn_test_layer_free(&t);
    }
}

/* Output, dx, dweight and dbias of the Winograd paths match
 * torch.nn.Conv2d(5, 4, 3, stride 1, pad 1) on 3 examples of 5x7x6.
 * Tolerance: F(2x2, 3x3) sums up to 4 transformed terms on each side of the
 * products (factors 1 and 1/2 only), so its rounding error is a few float
 * ulps of the largest partial sums: below 1e-5 of values of order 1 to 20
 * here, the same tolerance as the im2col path.  F(4x4, 3x3) sums 6 terms
 * with factors up to 8 (and 1/24 in G): its error is some ulps more, and
 * it gets 1e-5 relative with 1e-4 absolute. */
static void test_conv_winograd_matches_pytorch(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        struct sn_layer *l;
        assert_int_equal(sn_conv_create("c", sn_shape_make(5, 7, 6, 0), 4, 3, 1, 1,
                                        SN_ACT_LINEAR, SN_INIT_FANIN_UNIFORM, &l), SN_OK);
        assert_int_equal(sn_conv_set_algo(l, winos[v]), SN_OK);
        struct sn_test_layer t;
        sn_test_layer_init(&t, l, 3, true);
        const float *p[2] = { conv3s1_weight, conv3s1_bias };
        const float *dp[2] = { conv3s1_dweight, conv3s1_dbias };
        sn_test_layer_ref(&t, conv3s1_x, p, conv3s1_r, conv3s1_y, conv3s1_dx, dp,
                          v ? 1e-4 : 1e-5, 1e-5);
        sn_test_layer_free(&t);
    }
}

/* Both Winograd variants and im2col agree on larger layers, at batch sizes
 * that split into uneven groups over the threads: y, dx, dweight, dbias.
 * F(4x4, 3x3) to 1e-4 absolute (see the PyTorch test above). */
static void test_conv_winograd_matches_im2col(void **state)
{
    (void)state;
    struct { int C, H, W, OC, P, B; enum sn_act a; } cases[] = {
        { 16, 14, 14, 24, 1, 7, SN_ACT_RELU },
        { 8, 9, 11, 8, 0, 13, SN_ACT_LINEAR },
        { 32, 28, 28, 32, 1, 3, SN_ACT_LINEAR },
    };
    for (size_t j = 0; j < 2 * sizeof cases / sizeof cases[0]; j++) {
        const size_t i = j / 2;
        const double atol = j % 2 ? 1e-4 : 1e-5;
        struct sn_test_layer t[2];
        for (int a = 0; a < 2; a++) {
            struct sn_layer *l;
            assert_int_equal(sn_conv_create("c", sn_shape_make(cases[i].C, cases[i].H, cases[i].W,
                                                               0),
                                            cases[i].OC, 3, 1, cases[i].P, cases[i].a,
                                            SN_INIT_FANIN_UNIFORM, &l), SN_OK);
            assert_int_equal(sn_conv_set_algo(l, a ? winos[j % 2] : SN_CONV_IM2COL), SN_OK);
            sn_test_layer_init(&t[a], l, cases[i].B, true);
            sn_test_layer_backward(&t[a]);
        }
        size_t ny = (size_t)cases[i].B * t[0].out_len, nx = (size_t)cases[i].B * t[0].in_len[0];
        assert_close_arrays(t[1].y, t[0].y, ny, atol, 1e-5);
        assert_close_arrays(t[1].dx[0], t[0].dx[0], nx, atol, 1e-5);
        for (int p = 0; p < 2; p++)
            assert_close_arrays(t[1].l->params[p].dw, t[0].l->params[p].dw,
                                t[0].l->params[p].len, 10 * atol, 1e-5);
        sn_test_layer_free(&t[0]);
        sn_test_layer_free(&t[1]);
    }
}

/* The direct path's gradients match finite differences: kernels 1, 3 and
 * 5, padding 0 to 2, channel counts that fill blocks of 8 partly and more
 * than one (9 in, 10 out), odd and non-square images, a fused activation. */
static void test_conv_direct_fd(void **state)
{
    (void)state;
    struct { int C, H, W, OC, K, P, B; enum sn_act a; } cases[] = {
        { 1, 7, 6, 6, 5, 2, 2, SN_ACT_LINEAR },
        { 3, 5, 7, 4, 3, 1, 3, SN_ACT_TANH },
        { 9, 6, 5, 10, 3, 0, 2, SN_ACT_SIGMOID },
        { 2, 4, 4, 3, 1, 0, 1, SN_ACT_LINEAR },
        { 6, 8, 8, 16, 5, 0, 2, SN_ACT_LINEAR },
        { 2, 5, 4, 3, 3, 1, 3, SN_ACT_GELU },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sn_layer *l;
        assert_int_equal(sn_conv_create("c", sn_shape_make(cases[i].C, cases[i].H, cases[i].W, 0),
                                        cases[i].OC, cases[i].K, 1, cases[i].P, cases[i].a,
                                        SN_INIT_FANIN_UNIFORM, &l), SN_OK);
        assert_int_equal(sn_conv_set_algo(l, SN_CONV_DIRECT), SN_OK);
        struct sn_test_layer t;
        sn_test_layer_init(&t, l, cases[i].B, true);
        sn_test_layer_check(&t, 1e-2, 1e-3, 1e-2);
        sn_test_layer_free(&t);
    }
}

/* The direct path matches torch.nn.Conv2d(5, 4, 3, stride 1, pad 1) (the
 * Winograd reference case) and the im2col path on LeNet-5's two layers and
 * the cnn's first, at batch sizes that split unevenly over the threads. */
static void test_conv_direct_matches(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_conv_create("c", sn_shape_make(5, 7, 6, 0), 4, 3, 1, 1, SN_ACT_LINEAR,
                                    SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    assert_int_equal(sn_conv_set_algo(l, SN_CONV_DIRECT), SN_OK);
    struct sn_test_layer r;
    sn_test_layer_init(&r, l, 3, true);
    const float *p[2] = { conv3s1_weight, conv3s1_bias };
    const float *dp[2] = { conv3s1_dweight, conv3s1_dbias };
    sn_test_layer_ref(&r, conv3s1_x, p, conv3s1_r, conv3s1_y, conv3s1_dx, dp, 1e-5, 1e-5);
    sn_test_layer_free(&r);

    struct { int C, H, W, OC, K, P, B; enum sn_act a; } cases[] = {
        { 1, 28, 28, 6, 5, 2, 5, SN_ACT_RELU },
        { 6, 14, 14, 16, 5, 0, 7, SN_ACT_RELU },
        { 1, 28, 28, 32, 3, 1, 3, SN_ACT_LINEAR },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sn_test_layer t[2];
        for (int a = 0; a < 2; a++) {
            assert_int_equal(sn_conv_create("c", sn_shape_make(cases[i].C, cases[i].H, cases[i].W,
                                                               0),
                                            cases[i].OC, cases[i].K, 1, cases[i].P, cases[i].a,
                                            SN_INIT_FANIN_UNIFORM, &l), SN_OK);
            assert_int_equal(sn_conv_set_algo(l, a ? SN_CONV_DIRECT : SN_CONV_IM2COL), SN_OK);
            sn_test_layer_init(&t[a], l, cases[i].B, true);
            sn_test_layer_backward(&t[a]);
        }
        size_t ny = (size_t)cases[i].B * t[0].out_len, nx = (size_t)cases[i].B * t[0].in_len[0];
        assert_close_arrays(t[1].y, t[0].y, ny, 1e-5, 1e-5);
        assert_close_arrays(t[1].dx[0], t[0].dx[0], nx, 1e-5, 1e-5);
        for (int q = 0; q < 2; q++)
            assert_close_arrays(t[1].l->params[q].dw, t[0].l->params[q].dw,
                                t[0].l->params[q].len, 1e-4, 1e-5);
        sn_test_layer_free(&t[0]);
        sn_test_layer_free(&t[1]);
    }
}

/* AUTO picks direct for stride-1 layers with at most 8 channels in,
 * Winograd F(4x4, 3x3) for 3x3 stride-1 layers with more in and 8 or more
 * out, and im2col otherwise; Winograd and direct cannot be forced onto
 * shapes they do not compute. */
static void test_conv_algo_choice(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_conv_create("c", sn_shape_make(9, 8, 8, 0), 8, 3, 1, 1, SN_ACT_LINEAR,
                                    SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_conv_algo(l), SN_CONV_WINOGRAD4);
    sn_layer_destroy(l);
    assert_int_equal(sn_conv_create("c", sn_shape_make(8, 8, 8, 0), 8, 3, 1, 1, SN_ACT_LINEAR,
                                    SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_conv_algo(l), SN_CONV_DIRECT);
    sn_layer_destroy(l);
    assert_int_equal(sn_conv_create("c", sn_shape_make(3, 8, 8, 0), 32, 3, 1, 1, SN_ACT_LINEAR,
                                    SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_conv_algo(l), SN_CONV_DIRECT);
    sn_layer_destroy(l);
    assert_int_equal(sn_conv_create("c", sn_shape_make(16, 8, 8, 0), 32, 5, 1, 2, SN_ACT_LINEAR,
                                    SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_conv_algo(l), SN_CONV_IM2COL);
    sn_layer_destroy(l);
    assert_int_equal(sn_conv_create("c", sn_shape_make(32, 8, 8, 0), 32, 3, 2, 1, SN_ACT_LINEAR,
                                    SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_conv_algo(l), SN_CONV_IM2COL);
    assert_int_equal(sn_conv_set_algo(l, SN_CONV_WINOGRAD), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "stride 1"));
    assert_int_equal(sn_conv_set_algo(l, SN_CONV_WINOGRAD4), SN_ESHAPE);
    assert_int_equal(sn_conv_set_algo(l, SN_CONV_DIRECT), SN_ESHAPE);
    sn_layer_destroy(l);
    /* F(2x2)'s row buffers cap the width; F(4x4) takes any */
    assert_int_equal(sn_conv_create("c", sn_shape_make(16, 2, 600, 0), 16, 3, 1, 1,
                                    SN_ACT_LINEAR, SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_conv_algo(l), SN_CONV_WINOGRAD4);
    assert_int_equal(sn_conv_set_algo(l, SN_CONV_WINOGRAD), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "wide"));
    sn_layer_destroy(l);
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

/* init = dirac: with fewer filters than channels, and with a 2x2 kernel,
 * the weight is torch.nn.init.dirac_'s; with more filters than channels
 * the first C are identities and the others keep the default
 * U(+-1/sqrt(fan_in)) (airbench's dirac_(w[:C])); dirac_fraction's lower
 * n_dirac makes only that many; the bias is zero. */
static void test_conv_dirac_init(void **state)
{
    (void)state;
    struct { int C, OC, K; const float *ref; } cases[] = {
        { 6, 4, 3, dirac_4x6x3x3 }, { 3, 3, 2, dirac_3x3x2x2 }, { 4, 6, 3, NULL }, { 4, 6, 3, NULL },
    };
    for (int i = 0; i < 4; i++) {
        struct sn_layer *l;
        assert_int_equal(sn_conv_create("c", sn_shape_make(cases[i].C, 8, 8, 0), cases[i].OC,
                                        cases[i].K, 1, 1, SN_ACT_LINEAR, SN_INIT_DIRAC, &l), SN_OK);
        struct sn_param *w = &l->params[0], *b = &l->params[1];
        int n = cases[i].C < cases[i].OC ? cases[i].C : cases[i].OC;
        assert_int_equal(w->n_dirac, n);
        if (i == 3)
            w->n_dirac = n = 2;
        float wv[6 * 6 * 9], bv[6];
        w->w = wv;
        b->w = bv;
        struct sn_rng r;
        sn_rng_seed(&r, 3, 3);
        sn_param_init(w, &r);
        sn_param_init(b, &r);
        for (int o = 0; o < cases[i].OC; o++)
            assert_float_equal(bv[o], 0.0f, 0);
        if (cases[i].ref) {
            assert_memory_equal(wv, cases[i].ref, w->len * sizeof(float));
        } else {
            const size_t f = (size_t)cases[i].C * 9;
            float bound = 1.0f / sqrtf((float)f);
            for (int o = 0; o < cases[i].OC; o++) {
                int nonzero = 0;
                for (size_t j = 0; j < f; j++) {
                    float want = j == (size_t)o * 9 + 4 ? 1.0f : 0.0f;
                    if (o < n)
                        assert_float_equal(wv[(size_t)o * f + j], want, 0);
                    else
                        assert_true(fabsf(wv[(size_t)o * f + j]) <= bound);
                    nonzero += wv[(size_t)o * f + j] != 0.0f;
                }
                assert_true(o < n ? nonzero == 1 : nonzero > 1);
            }
        }
        sn_layer_destroy(l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_forward_hand),
        cmocka_unit_test(test_conv_backward_fd),
        cmocka_unit_test(test_conv_matches_pytorch),
        cmocka_unit_test(test_conv_im2col_adjoint),
        cmocka_unit_test(test_conv_winograd_fd),
        cmocka_unit_test(test_conv_winograd_matches_pytorch),
        cmocka_unit_test(test_conv_winograd_matches_im2col),
        cmocka_unit_test(test_conv_direct_fd),
        cmocka_unit_test(test_conv_direct_matches),
        cmocka_unit_test(test_conv_algo_choice),
        cmocka_unit_test(test_conv_rejects_bad_shapes),
        cmocka_unit_test(test_conv_dirac_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
