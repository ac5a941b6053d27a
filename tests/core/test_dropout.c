/* test_dropout: inverted dropout in training, identity in evaluation. */
#include "testutil.h"

#include <string.h>

#include "core/dropout.h"
#include "core/parallel.h"
#include "core/status.h"

/* About a fraction p is zeroed, the rest scaled by 1/(1-p), and the mean
 * is kept; the same stream gives the same mask. */
static void test_dropout_statistics(void **state)
{
    (void)state;
    enum { N = 100000 };
    static float x[N], y[N], y2[N], mask[N];
    for (int i = 0; i < N; i++)
        x[i] = 1.0f;
    struct sn_rng r, r2;
    sn_rng_seed(&r, 3, 3);
    r2 = r;
    sn_dropout_forward(x, y, mask, N, 0.3f, &r);
    sn_dropout_forward(x, y2, mask, N, 0.3f, &r2);
    assert_memory_equal(y, y2, sizeof y);
    int zeros = 0;
    double sum = 0;
    for (int i = 0; i < N; i++) {
        zeros += y[i] == 0.0f;
        assert_true(y[i] == 0.0f || (y[i] > 1.428f && y[i] < 1.429f));
        sum += y[i];
    }
    assert_true(zeros > 29000 && zeros < 31000);
    assert_float_equal(sum / N, 1.0, 0.01);
    /* the mask does not depend on the number of threads */
    for (int t = 1; t <= 2; t++) {
        sn_parallel_set_threads(t);
        struct sn_rng r3;
        sn_rng_seed(&r3, 3, 3);
        sn_dropout_forward(x, y2, mask, N, 0.3f, &r3);
        assert_memory_equal(y, y2, sizeof y);
    }
    /* neighbouring values are not correlated: runs of kept values have the
     * geometric lengths of independent draws (mean 1 / p = 3.33) */
    int runs = 0;
    for (int i = 1; i < N; i++)
        runs += (y[i] == 0.0f) && (y[i - 1] != 0.0f);
    assert_true(runs > 0.7 * 0.3 * N * 0.95 && runs < 0.7 * 0.3 * N * 1.05);
}

/* Gradients follow the mask (FD with a fixed stream); eval is the identity. */
static void test_dropout_backward_and_eval(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_dropout_create("d", sn_shape_make(3, 5, 0, 0), 0.5f, &l), SN_OK);
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    sn_test_layer_check(&t, 1e-2, 1e-4, 1e-3);
    t.train = false;
    sn_test_layer_loss(&t);
    assert_memory_equal(t.y, t.x[0], 30 * sizeof(float));
    sn_test_layer_free(&t);
    struct sn_layer *bad = NULL;
    assert_int_equal(sn_dropout_create("d", sn_shape_make(3, 0, 0, 0), 1.0f, &bad), SN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout_statistics),
        cmocka_unit_test(test_dropout_backward_and_eval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
