/* test_sched: learning-rate schedules at chosen steps. */
#include "testutil.h"

#include <string.h>

#include "core/sched.h"
#include "core/status.h"
#include "ref/ref_core.h"

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
    assert_int_equal(sn_sched_parse("onecycle", &k), SN_OK);
    assert_int_equal(k, SN_SCHED_ONECYCLE);
    assert_string_equal(sn_sched_name(SN_SCHED_ONECYCLE), "onecycle");
    assert_int_equal(sn_sched_parse("triangle", &k), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "triangle"));
}

/* onecycle follows PyTorch's OneCycleLR (anneal_strategy='linear', start
 * factor 0.2, end factor 0.07) at every step: the peak placed by
 * warmup_fraction 0.25 of 50 steps (11.5, between two steps), and by
 * warmup_steps = 9 over 40 steps; after the last step it stays at the end
 * value; a peak at step 0 starts at lr. */
static void test_sched_onecycle_matches_pytorch(void **state)
{
    (void)state;
    struct sn_sched s = { .kind = SN_SCHED_ONECYCLE, .lr = 0.4f, .total_steps = 50,
                          .start_factor = 0.2f, .end_factor = 0.07f, .warmup_fraction = 0.25f };
    float got[50];
    for (int i = 0; i < 50; i++)
        got[i] = sn_sched_lr(&s, i);
    assert_close_arrays(got, sched_onecycle50, 50, 1e-7, 1e-6);
    assert_float_equal(sn_sched_lr(&s, 80), 0.4f * 0.07f, 1e-7);
    s = (struct sn_sched){ .kind = SN_SCHED_ONECYCLE, .lr = 0.4f, .total_steps = 40,
                           .start_factor = 0.2f, .end_factor = 0.07f, .warmup_steps = 9 };
    for (int i = 0; i < 40; i++)
        got[i] = sn_sched_lr(&s, i);
    assert_close_arrays(got, sched_onecycle40, 40, 1e-7, 1e-6);
    assert_float_equal(sn_sched_lr(&s, 9), 0.4f, 0);
    s.warmup_steps = 0;
    assert_float_equal(sn_sched_lr(&s, 0), 0.4f, 0);
    assert_float_equal(sn_sched_lr(&s, 39), 0.4f * 0.07f, 1e-7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sched_values),
        cmocka_unit_test(test_sched_parse),
        cmocka_unit_test(test_sched_onecycle_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
