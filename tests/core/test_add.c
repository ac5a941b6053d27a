/* test_add: elementwise sums for residual connections. */
#include "testutil.h"

#include <string.h>

#include "core/add.h"
#include "core/status.h"

/* y = a + b + c; every input gets dy (FD), and two backward calls add up. */
static void test_add_values_and_gradients(void **state)
{
    (void)state;
    struct sn_shape in[3] = { sn_shape_make(2, 3, 0, 0), sn_shape_make(2, 3, 0, 0),
                              sn_shape_make(2, 3, 0, 0) };
    struct sn_layer *l;
    assert_int_equal(sn_add_create("sum", in, 3, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_loss(&t);
    for (int i = 0; i < 12; i++)
        assert_float_equal(t.y[i], t.x[0][i] + t.x[1][i] + t.x[2][i], 1e-6);
    sn_test_layer_check(&t, 1e-2, 1e-4, 1e-3);
    sn_test_layer_free(&t);
}

static void test_add_rejects_different_shapes(void **state)
{
    (void)state;
    struct sn_shape in[2] = { sn_shape_make(4, 2, 2, 0), sn_shape_make(2, 2, 2, 0) };
    struct sn_layer *l = NULL;
    assert_int_equal(sn_add_create("sum", in, 2, &l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "input 1 has shape 2x2x2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_values_and_gradients),
        cmocka_unit_test(test_add_rejects_different_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
