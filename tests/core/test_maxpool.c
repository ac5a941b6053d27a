/* test_maxpool: max pooling forward, backward and PyTorch agreement. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/maxpool.h"
#include "core/status.h"
#include "ref/ref_layers.h"

/* 4x4 input 0..15, 2x2 windows: the maxima are 5 7 13 15 and the gradient
 * goes to them only. */
static void test_maxpool_hand(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_maxpool_create("p", sn_shape_make(1, 4, 4, 0), 2, 2, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 1, true);
    for (int i = 0; i < 16; i++)
        t.x[0][i] = (float)i;
    for (int i = 0; i < 4; i++)
        t.r[i] = 1.0f;
    sn_test_layer_backward(&t);
    assert_close_arrays(t.y, ((float[]){ 5, 7, 13, 15 }), 4, 0, 0);
    for (int i = 0; i < 16; i++)
        assert_float_equal(t.dx[0][i], (i == 5 || i == 7 || i == 13 || i == 15) ? 1.0f : 0.0f, 0);
    sn_test_layer_free(&t);
}

/* Finite differences (overlapping windows, stride 1, odd sizes). */
static void test_maxpool_backward_fd(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_maxpool_create("p", sn_shape_make(2, 5, 4, 0), 3, 1, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_check(&t, 1e-3, 1e-3, 1e-2);
    sn_test_layer_free(&t);
}

/* The 2x2 stride-2 fast path: finite differences on an odd-sized input,
 * and on ties (values from {0, 1, 2}) the gradient goes to the first
 * maximum of each window in row-major order, as in the general loop and
 * in PyTorch. */
static void test_maxpool_2x2(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_maxpool_create("p", sn_shape_make(3, 7, 9, 0), 2, 2, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_check(&t, 1e-3, 1e-3, 1e-2);
    for (int i = 0; i < 2 * 3 * 7 * 9; i++)
        t.x[0][i] = (float)((i * 7 + i / 5) % 3);
    sn_test_layer_backward(&t);
    for (int pl = 0; pl < 6; pl++)
        for (int oh = 0; oh < 3; oh++)
            for (int ow = 0; ow < 4; ow++) {
                const float *xp = t.x[0] + pl * 63;
                int best = 2 * oh * 9 + 2 * ow;
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++)
                        if (xp[(2 * oh + i) * 9 + 2 * ow + j] > xp[best])
                            best = (2 * oh + i) * 9 + 2 * ow + j;
                assert_float_equal(t.y[pl * 12 + oh * 4 + ow], xp[best], 0);
                assert_float_equal(t.dx[0][pl * 63 + best], t.r[pl * 12 + oh * 4 + ow], 0);
            }
    sn_test_layer_free(&t);
}

static void test_maxpool_matches_pytorch(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_maxpool_create("p", sn_shape_make(2, 5, 6, 0), 2, 2, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_ref(&t, maxpool_x, NULL, maxpool_r, maxpool_y, maxpool_dx, NULL, 1e-6, 1e-6);
    sn_test_layer_free(&t);
}

static void test_maxpool_rejects_big_window(void **state)
{
    (void)state;
    struct sn_layer *l = NULL;
    assert_int_equal(sn_maxpool_create("p", sn_shape_make(1, 3, 3, 0), 4, 4, &l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "does not fit"));
}

/* Told that dx holds nothing yet (sn_ctx.fresh), backward stores the
 * gradient over whatever dx held: the same as adding into zeros, for
 * non-overlapping (2x2 on 7x9: a row and a column not covered) and
 * overlapping (3x3 stride 2) windows. */
static void test_maxpool_fresh_stores(void **state)
{
    (void)state;
    const int K[2] = { 2, 3 }, S[2] = { 2, 2 };
    for (int k = 0; k < 2; k++) {
        struct sn_layer *l;
        assert_int_equal(sn_maxpool_create("p", sn_shape_make(3, 7, 9, 0), K[k], S[k], &l), SN_OK);
        assert_true(l->ops->overwrites_dx);
        struct sn_test_layer t;
        sn_test_layer_init(&t, l, 2, true);
        sn_test_layer_backward(&t);   /* into zeroed dx */
        size_t n = 2 * t.in_len[0];
        float *want = malloc(n * sizeof *want);
        memcpy(want, t.dx[0], n * sizeof *want);
        sn_test_fill(t.dx[0], n, 99, -5, 5);   /* garbage */
        struct sn_ctx c = { .B = 2, .train = true, .ws = t.ws, .fresh = 1u };
        l->ops->backward(l, (const float *const *)t.x, t.y, t.r, t.dx, &c);
        assert_memory_equal(t.dx[0], want, n * sizeof *want);
        free(want);
        sn_test_layer_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxpool_hand),
        cmocka_unit_test(test_maxpool_backward_fd),
        cmocka_unit_test(test_maxpool_2x2),
        cmocka_unit_test(test_maxpool_matches_pytorch),
        cmocka_unit_test(test_maxpool_rejects_big_window),
        cmocka_unit_test(test_maxpool_fresh_stores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
