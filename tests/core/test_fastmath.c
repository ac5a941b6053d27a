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

static double normcdf_d(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

/* Phi within 4e-7 absolutely everywhere (the formula's 0.75e-7 plus float
 * rounding of its polynomial near x = 0), and its tail x < 0 computed
 * directly: relative error below 2e-3 down to x = -5 (Phi = 2.9e-7), where
 * 1 - Phi(-x) in float would be off by 10%. */
static void test_fastmath_normcdf(void **state)
{
    (void)state;
    double wa = 0.0, at = 0.0;
    for (int i = 0; i <= 2000000; i++) {
        float x = (float)(-12.0 + 24.0 * i / 2000000);
        double err = fabs((double)sn_normcdf(x) - normcdf_d((double)x));
        if (!(err <= wa)) {
            wa = err;
            at = x;
        }
    }
    print_message("Phi: worst absolute error %.3g at %g\n", wa, at);
    assert_true(wa < 4e-7);
    double wr = worst(sn_normcdf, normcdf_d, -5.0, -0.1, 200000, 0.0, &at);
    print_message("Phi: worst relative error in the tail %.3g at %g\n", wr, at);
    assert_true(wr < 2e-3);
    float g;
    sn_normcdf_g(1.5f, &g);
    assert_float_equal(g, exp(-1.125), 1e-7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fastmath_exp),
        cmocka_unit_test(test_fastmath_sigmoid),
        cmocka_unit_test(test_fastmath_tanh),
        cmocka_unit_test(test_fastmath_normcdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
