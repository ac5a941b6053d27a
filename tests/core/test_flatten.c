/* test_flatten: a reshape whose gradient is the identity. */
#include "testutil.h"

#include "core/flatten.h"
#include "core/status.h"

static void test_flatten_shape_and_gradient(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_flatten_create("f", sn_shape_make(2, 3, 4, 0), &l), SN_OK);
    assert_int_equal(l->out_shape.ndim, 1);
    assert_int_equal(l->out_shape.d[0], 24);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_loss(&t);
    assert_memory_equal(t.y, t.x[0], 48 * sizeof(float));
    sn_test_layer_check(&t, 1e-2, 1e-4, 1e-3);
    sn_test_layer_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flatten_shape_and_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
