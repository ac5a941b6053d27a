/* test_half: float32 to bf16 and fp16 against PyTorch's roundings
 * (tests/ref/ref_half.h: ties, overflow, subnormals, Inf, NaN and random
 * values over every exponent), the exact way back, and error feedback. */
#include "testutil.h"

#include <math.h>

#include "core/half.h"
#include "core/status.h"
#include "ref/ref_half.h"

/* Every reference input rounds to PyTorch's bits (any NaN for a NaN). */
static void check_kind(enum sn_half k, const uint16_t *want)
{
    int bad = 0;
    for (int i = 0; i < REF_HALF_N; i++) {
        float x = sn_f32_from_bits(ref_half_in[i]);
        uint16_t got = sn_half_from_f32(k, x);
        bool ok = isnan(x) ? isnan(sn_half_to_f32(k, got)) : got == want[i];
        if (!ok && bad++ < 5)
            print_message("%s: 0x%08x (%g) gave 0x%04x, PyTorch 0x%04x\n", sn_half_name(k),
                          ref_half_in[i], (double)x, got, want[i]);
    }
    assert_int_equal(bad, 0);
}

static void test_half_bf16_matches_torch(void **state)
{
    (void)state;
    check_kind(SN_HALF_BF16, ref_half_bf16);
}

static void test_half_fp16_matches_torch(void **state)
{
    (void)state;
    check_kind(SN_HALF_FP16, ref_half_fp16);
}

/* Back to float32 is exact: every 16-bit pattern that is not a NaN goes
 * to a float that rounds to the same pattern. */
static void test_half_roundtrip_exact(void **state)
{
    (void)state;
    for (int k = SN_HALF_BF16; k <= SN_HALF_FP16; k++)
        for (uint32_t h = 0; h < 65536; h++) {
            float f = sn_half_to_f32((enum sn_half)k, (uint16_t)h);
            if (isnan(f))
                continue;
            assert_int_equal(sn_half_from_f32((enum sn_half)k, f), h);
        }
    assert_float_equal(sn_fp16_to_f32(0x7bff), 65504.0f, 0.0f);
    assert_float_equal(sn_fp16_to_f32(0x0001), 0x1p-24f, 0.0f);
    assert_float_equal(sn_bf16_to_f32(0x3f80), 1.0f, 0.0f);
}

/* Error feedback: the residual is exactly what rounding lost (x + r =
 * sent + r' in exact arithmetic, checked in double), and a value too
 * small to be sent alone is sent once the residual has gathered enough of
 * it: the sum of what was sent over 1000 steps is within one rounding of
 * the sum of the true values. */
static void test_half_error_feedback(void **state)
{
    (void)state;
    enum { N = 257 };
    float x[N], r[N] = { 0 }, back[N];
    uint16_t h[N];
    sn_test_fill(x, N, 7, -3.0f, 3.0f);
    for (int k = SN_HALF_BF16; k <= SN_HALF_FP16; k++) {
        memset(r, 0, sizeof r);
        for (int step = 0; step < 3; step++) {
            float before[N];
            memcpy(before, r, sizeof r);
            sn_half_compress((enum sn_half)k, x, r, h, N);
            sn_half_expand((enum sn_half)k, h, back, N);
            for (int i = 0; i < N; i++)
                assert_true((double)x[i] + before[i] == (double)back[i] + r[i]);
        }
    }
    /* 1e-9 is below fp16's smallest subnormal (6e-8): alone it sends 0 */
    float tiny = 1e-9f, res = 0.0f, sent = 0.0f;
    uint16_t one;
    sn_half_compress(SN_HALF_FP16, &tiny, NULL, &one, 1);
    assert_int_equal(one, 0);
    for (int step = 0; step < 1000; step++) {
        sn_half_compress(SN_HALF_FP16, &tiny, &res, &one, 1);
        sent += sn_fp16_to_f32(one);
    }
    assert_true(fabs((double)sent - 1000 * 1e-9) <= 0x1p-24);
}

static void test_half_parse(void **state)
{
    (void)state;
    enum sn_half k;
    assert_int_equal(sn_half_parse("bf16", &k), SN_OK);
    assert_int_equal(k, SN_HALF_BF16);
    assert_int_equal(sn_half_parse("fp16", &k), SN_OK);
    assert_int_equal(k, SN_HALF_FP16);
    assert_int_equal(sn_half_parse("none", &k), SN_OK);
    assert_int_equal(k, SN_HALF_NONE);
    assert_int_equal(sn_half_parse("fp8", &k), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "'fp8'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_bf16_matches_torch),
        cmocka_unit_test(test_half_fp16_matches_torch),
        cmocka_unit_test(test_half_roundtrip_exact),
        cmocka_unit_test(test_half_error_feedback),
        cmocka_unit_test(test_half_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
