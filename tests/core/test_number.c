/* test_number: the one number parser takes whole numbers in range and
 * refuses everything else with a message stating the range. */
#include "testutil.h"

#include <float.h>
#include <string.h>

#include "core/number.h"
#include "core/status.h"

/* Integers: full range, then the caller's range; no trailing characters. */
static void test_number_int(void **state)
{
    (void)state;
    long long v = 0;
    assert_int_equal(sn_parse_int("42", 1, 100, &v), SN_OK);
    assert_int_equal(v, 42);
    assert_int_equal(sn_parse_int("-7", -10, 10, &v), SN_OK);
    assert_int_equal(v, -7);
    static const char *const bad[] = { "", "x", "4x", "1e3", "0x10", "3.0", "101", "0",
                                       "4294967320", "99999999999999999999",
                                       "-99999999999999999999", " 5", "\t5", "\n5" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 5;
        assert_int_equal(sn_parse_int(bad[i], 1, 100, &v), SN_EINVAL);
        assert_int_equal(v, 5);   /* untouched */
        assert_non_null(strstr(sn_errmsg(), "expected an integer in [1, 100], got '"));
    }
    /* the whole range of long long */
    assert_int_equal(sn_parse_int("9223372036854775807", 0, 9223372036854775807LL, &v), SN_OK);
    assert_int_equal(sn_parse_int("9223372036854775808", 0, 9223372036854775807LL, &v), SN_EINVAL);
}

/* Reals: finite, in range, no underflow of a non-zero value. */
static void test_number_real(void **state)
{
    (void)state;
    double v = 0;
    assert_int_equal(sn_parse_real("0.5", 0, 1, &v), SN_OK);
    assert_true(v == 0.5);
    assert_int_equal(sn_parse_real("1e-3", 0, 1, &v), SN_OK);
    static const char *const bad[] = { "", "nan", "inf", "-inf", "1e400", "1e-400", "0.5x",
                                       "2", "-0.1", "0x1p-2", "0X.8", " 0.5",
                                       "\n0.5" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sn_parse_real(bad[i], 0, 1, &v), SN_EINVAL);
        assert_non_null(strstr(sn_errmsg(), "expected a number in [0, 1], got '"));
    }
}

/* Long or hostile text is cut and kept on one line in the message. */
static void test_number_message_one_line(void **state)
{
    (void)state;
    long long v;
    char big[300];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sn_parse_int(big, 0, 10, &v), SN_EINVAL);
    assert_true(strlen(sn_errmsg()) < 120);
    assert_non_null(strstr(sn_errmsg(), "..."));
    assert_int_equal(sn_parse_int("1\nsystem", 0, 10, &v), SN_EINVAL);
    assert_null(strchr(sn_errmsg(), '\n'));
    assert_non_null(strstr(sn_errmsg(), "'1?system'"));
}

/* A setting is used as a float: values that overflow it to Inf, or that
 * are not 0 but round to 0 (or a subnormal), are refused, from text and
 * from files alike. */
static void test_number_float_range(void **state)
{
    (void)state;
    double v;
    assert_true(sn_f32_fits(0.0));
    assert_true(sn_f32_fits(-3.4e38));
    assert_true(sn_f32_fits(1.2e-38));
    assert_false(sn_f32_fits(1e300));
    assert_false(sn_f32_fits(-1e39));
    assert_false(sn_f32_fits(1e-300));
    assert_false(sn_f32_fits(1e-40));   /* a float subnormal */
    assert_int_equal(sn_parse_real("1e-300", 0, 1, &v), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "got '1e-300': settings are floats, which hold 0 and "
                                        "sizes from 1.17549435e-38 to 3.40282347e+38"));
    /* the limits as printed are taken back, and round to FLT_MIN, FLT_MAX */
    assert_int_equal(sn_parse_real("1.17549435e-38", 0, 1, &v), SN_OK);
    assert_true((float)v == FLT_MIN);
    assert_int_equal(sn_parse_real("3.40282347e+38", 0, 1e39, &v), SN_OK);
    assert_true((float)v == FLT_MAX);
    assert_false(sn_f32_fits(3.4028236e38));   /* rounds to 2^128: Inf */
    assert_int_equal(sn_parse_real("0", 0, 1, &v), SN_OK);
    assert_int_equal(sn_check_f32(1e300, "f.h5: attribute scale"), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "f.h5: attribute scale is 1e+300: settings are floats"));
    assert_int_equal(sn_check_f32(0.5, "x"), SN_OK);
}

/* Sizes in MB for messages: three digits, whole from 1000 MB, and never
 * an exponent ("1e+03", "4e-06" were written). */
static void test_number_mb(void **state)
{
    (void)state;
    assert_string_equal(sn_mb(1.22e9).s, "1220");
    assert_string_equal(sn_mb(999.7e6).s, "1000");
    assert_string_equal(sn_mb(999.4e6).s, "999");
    assert_string_equal(sn_mb(33.55e6).s, "33.5");
    assert_string_equal(sn_mb(4108.0).s, "0.00411");
    assert_string_equal(sn_mb(16.0).s, "0.000016");
    assert_string_equal(sn_mb(4.0).s, "0.000004");
    assert_string_equal(sn_mb(0.0).s, "0");
    assert_string_equal(sn_mb(3.956e10).s, "39560");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_mb),
        cmocka_unit_test(test_number_int),
        cmocka_unit_test(test_number_real),
        cmocka_unit_test(test_number_message_one_line),
        cmocka_unit_test(test_number_float_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
