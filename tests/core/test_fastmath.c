/* test_fastmath: the vectorisable exp, sigmoid and tanh against libm in
 * double precision, over the whole range the layers can feed them. */
#include "testutil.h"

#include <math.h>

#include "core/fastmath.h"

/* Largest relative error of f against ref over [lo, hi] in n steps, with
 * values below tiny compared absolutely. */
static double worst(float (*f)(float), double (*ref)(double), double lo, double hi, int n,
                    double tiny, double *at)
{
    double w = 0.0;
    for (int i = 0; i <= n; i++) {
        float x = (float)(lo + (hi - lo) * i / n);
        double want = ref((double)x), got = (double)f(x);
        double err = fabs(got - want) / (fabs(want) > tiny ? fabs(want) : tiny);
        if (!(err <= w)) {   /* NaN counts as worst */
            w = isnan(err) ? INFINITY : err;
            *at = x;
        }
    }
    return w;
}

static double sigmoid_d(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static void test_fastmath_exp(void **state)
{
    (void)state;
    double at = 0;
    double w = worst(sn_expf, exp, -87.0, 88.0, 2000003, 0.0, &at);
    print_message("exp: worst relative error %.3g at %g\n", w, at);
    assert_true(w < 3e-7);
    /* clamped, never Inf, NaN or zero */
    assert_true(isfinite(sn_expf(1000.0f)) && sn_expf(1000.0f) > 1e38f);
    assert_true(sn_expf(-1000.0f) > 0.0f && sn_expf(-1000.0f) < 1e-37f);
}

static void test_fastmath_sigmoid(void **state)
{
    (void)state;
    double at = 0;
    double w = worst(sn_sigmoidf, sigmoid_d, -80.0, 80.0, 2000003, 0.0, &at);
    print_message("sigmoid: worst relative error %.3g at %g\n", w, at);
    assert_true(w < 3e-7);
    assert_true(sn_sigmoidf(1e30f) == 1.0f);
    assert_true(sn_sigmoidf(-1e30f) >= 0.0f && sn_sigmoidf(-1e30f) < 1e-37f);
}

static void test_fastmath_tanh(void **state)
{
    (void)state;
    double at = 0;
    double w = worst(sn_tanhf, tanh, -20.0, 20.0, 2000003, 0.0, &at);
    print_message("tanh: worst relative error %.3g at %g\n", w, at);
    assert_true(w < 5e-7);
    /* tiny arguments: tanh(x) = x, no cancellation */
    assert_true(fabsf(sn_tanhf(1e-6f) - 1e-6f) < 1e-12f);
    assert_true(sn_tanhf(100.0f) == 1.0f && sn_tanhf(-100.0f) == -1.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fastmath_exp),
        cmocka_unit_test(test_fastmath_sigmoid),
        cmocka_unit_test(test_fastmath_tanh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
