/* test_checked: size arithmetic reports overflow instead of wrapping, and
 * shapes whose element count would wrap or pass a limit are refused. */
#include "testutil.h"

#include "core/checked.h"

static void test_checked_mul_add(void **state)
{
    (void)state;
    size_t r = 7;
    assert_true(sn_mul_ok(3, 4, &r) && r == 12);
    assert_true(sn_mul_ok(0, SIZE_MAX, &r) && r == 0);
    r = 7;
    assert_false(sn_mul_ok(SIZE_MAX / 2 + 1, 2, &r));
    assert_int_equal(r, 7);   /* untouched on overflow */
    assert_false(sn_mul_ok((size_t)1 << 32, (size_t)1 << 32, &r));
    assert_true(sn_add_ok(SIZE_MAX - 1, 1, &r) && r == SIZE_MAX);
    assert_false(sn_add_ok(SIZE_MAX, 1, &r));
    assert_false(sn_mul3_ok((size_t)1 << 40, (size_t)1 << 20, 16, &r));
    assert_true(sn_mul3_ok(2, 3, 4, &r) && r == 24);
}

/* 65536^4 is 2^64: it wrapped to 0 in sn_shape_len. */
static void test_checked_shape_len(void **state)
{
    (void)state;
    size_t n;
    struct sn_shape s = { 4, { 65536, 65536, 65536, 65536 } };
    assert_int_equal(sn_shape_len(&s), 0);   /* the unchecked product wraps */
    assert_false(sn_shape_len_ok(&s, SIZE_MAX, &n));
    struct sn_shape t = { 3, { 1, 28, 28 } };
    assert_true(sn_shape_len_ok(&t, SN_MAX_ELEMS, &n) && n == 784);
    struct sn_shape u = { 2, { 65536, 32768 } };   /* 2^31: one over SN_MAX_ELEMS */
    assert_false(sn_shape_len_ok(&u, SN_MAX_ELEMS, &n));
    struct sn_shape z = { 2, { 3, 0 } }, e = { 0, { 0 } };
    assert_false(sn_shape_len_ok(&z, SN_MAX_ELEMS, &n));
    assert_false(sn_shape_len_ok(&e, SN_MAX_ELEMS, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checked_mul_add),
        cmocka_unit_test(test_checked_shape_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
