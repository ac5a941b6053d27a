/* test_sched: learning-rate schedules at chosen steps. */
#include "testutil.h"

#include <string.h>

#include "core/sched.h"
#include "core/status.h"

/* Warm-up ramps linearly, then each schedule gives its formula. */
static void test_sched_values(void **state)
{
    (void)state;
    struct sn_sched s = { .kind = SN_SCHED_CONSTANT, .lr = 0.1f, .warmup_steps = 4 };
    assert_float_equal(sn_sched_lr(&s, 0), 0.025f, 1e-7);
    assert_float_equal(sn_sched_lr(&s, 3), 0.1f, 1e-7);
    assert_float_equal(sn_sched_lr(&s, 1000), 0.1f, 1e-7);
    s = (struct sn_sched){ .kind = SN_SCHED_STEP, .lr = 1.0f, .step_size = 10, .gamma = 0.5f };
    assert_float_equal(sn_sched_lr(&s, 9), 1.0f, 1e-7);
    assert_float_equal(sn_sched_lr(&s, 10), 0.5f, 1e-7);
    assert_float_equal(sn_sched_lr(&s, 25), 0.25f, 1e-7);
    s = (struct sn_sched){ .kind = SN_SCHED_COSINE, .lr = 1.0f, .min_lr = 0.0f, .total_steps = 100 };
    assert_float_equal(sn_sched_lr(&s, 0), 1.0f, 1e-6);
    assert_float_equal(sn_sched_lr(&s, 50), 0.5f, 1e-6);
    assert_float_equal(sn_sched_lr(&s, 100), 0.0f, 1e-6);
    s.warmup_steps = 10;
    assert_float_equal(sn_sched_lr(&s, 9), 1.0f, 1e-6);
    assert_float_equal(sn_sched_lr(&s, 55), 0.5f, 1e-6);   /* halfway through the 90 decay steps */
}

static void test_sched_parse(void **state)
{
    (void)state;
    enum sn_sched_kind k;
    assert_int_equal(sn_sched_parse("cosine", &k), SN_OK);
    assert_int_equal(k, SN_SCHED_COSINE);
    assert_int_equal(sn_sched_parse("onecycle", &k), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "onecycle"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_values),
        cmocka_unit_test(test_sched_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
