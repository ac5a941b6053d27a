/* test_concat: joining outputs along channels or the last dimension. */
#include "testutil.h"

#include <string.h>

#include "core/concat.h"
#include "core/status.h"

/* (1,2,2) and (2,2,2) join into (3,2,2): channels one after the other. */
static void test_concat_channels_hand(void **state)
{
    (void)state;
    struct sn_shape in[2] = { sn_shape_make(1, 2, 2, 0), sn_shape_make(2, 2, 2, 0) };
    struct sn_layer *l;
    assert_int_equal(sn_concat_create("cat", in, 2, &l), SN_OK);
    assert_int_equal(l->out_shape.d[0], 3);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 1, true);
    for (int i = 0; i < 4; i++)
        t.x[0][i] = (float)i;
    for (int i = 0; i < 8; i++)
        t.x[1][i] = (float)(10 + i);
    sn_test_layer_loss(&t);
    const float want[12] = { 0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17 };
    assert_close_arrays(t.y, want, 12, 0, 0);
    sn_test_layer_free(&t);
}

/* (T,F) inputs join along F per time step; gradients split back (FD). */
static void test_concat_sequences_fd(void **state)
{
    (void)state;
    struct sn_shape in[3] = { sn_shape_make(3, 2, 0, 0), sn_shape_make(3, 1, 0, 0),
                              sn_shape_make(3, 4, 0, 0) };
    struct sn_layer *l;
    assert_int_equal(sn_concat_create("cat", in, 3, &l), SN_OK);
    assert_int_equal(l->out_shape.d[0], 3);
    assert_int_equal(l->out_shape.d[1], 7);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_loss(&t);
    /* row t of example 1: x0[1][t], x1[1][t], x2[1][t] */
    assert_float_equal(t.y[(1 * 3 + 2) * 7 + 2], t.x[1][1 * 3 + 2], 0);
    assert_float_equal(t.y[(1 * 3 + 2) * 7 + 3], t.x[2][(1 * 3 + 2) * 4], 0);
    sn_test_layer_check(&t, 1e-2, 1e-4, 1e-3);
    sn_test_layer_free(&t);
}

/* Mismatched spatial sizes are refused at build. */
static void test_concat_rejects_mismatch(void **state)
{
    (void)state;
    struct sn_shape in[2] = { sn_shape_make(1, 4, 4, 0), sn_shape_make(1, 3, 4, 0) };
    struct sn_layer *l = NULL;
    assert_int_equal(sn_concat_create("cat", in, 2, &l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "does not fit"));
    assert_int_equal(sn_concat_create("cat", in, 1, &l), SN_ESHAPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat_channels_hand),
        cmocka_unit_test(test_concat_sequences_fd),
        cmocka_unit_test(test_concat_rejects_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
