/* test_avgpool: average pooling forward, backward and PyTorch agreement. */
#include "testutil.h"

#include <string.h>

#include "core/avgpool.h"
#include "core/status.h"
#include "ref/ref_layers.h"

/* 2x2 windows of a 2x4 input 0..7: means 2.5 and 4.5; each input gets 1/4. */
static void test_avgpool_hand(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_avgpool_create("p", sn_shape_make(1, 2, 4, 0), 2, 2, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 1, true);
    for (int i = 0; i < 8; i++)
        t.x[0][i] = (float)i;
    t.r[0] = t.r[1] = 1.0f;
    sn_test_layer_backward(&t);
    assert_close_arrays(t.y, ((float[]){ 2.5f, 4.5f }), 2, 0, 0);
    for (int i = 0; i < 8; i++)
        assert_float_equal(t.dx[0][i], 0.25f, 0);
    sn_test_layer_free(&t);
}

static void test_avgpool_backward_fd(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_avgpool_create("p", sn_shape_make(3, 5, 7, 0), 3, 2, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_check(&t, 1e-2, 1e-3, 1e-2);
    sn_test_layer_free(&t);
}

static void test_avgpool_matches_pytorch(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_avgpool_create("p", sn_shape_make(2, 5, 6, 0), 3, 2, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_ref(&t, avgpool_x, NULL, avgpool_r, avgpool_y, avgpool_dx, NULL, 1e-6, 1e-5);
    sn_test_layer_free(&t);
    struct sn_layer *bad = NULL;
    assert_int_equal(sn_avgpool_create("p", sn_shape_make(8, 0, 0, 0), 2, 2, &bad), SN_ESHAPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avgpool_hand),
        cmocka_unit_test(test_avgpool_backward_fd),
        cmocka_unit_test(test_avgpool_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
