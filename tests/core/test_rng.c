/* test_rng: the PCG32 generator and its derived streams. */
#include "testutil.h"

#include <math.h>

#include "core/rng.h"

/* PCG32's published reference output for seed 42, stream 54
 * (pcg32-demo in the PCG C reference implementation). */
static void test_rng_reference_sequence(void **state)
{
    (void)state;
    struct sn_rng r;
    sn_rng_seed(&r, 42, 54);
    const uint32_t want[6] = { 0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e };
    for (int i = 0; i < 6; i++)
        assert_int_equal(sn_rng_u32(&r), want[i]);
}

/* Copying the state replays the sequence exactly (what a checkpoint does). */
static void test_rng_state_replays(void **state)
{
    (void)state;
    struct sn_rng a, b;
    sn_rng_seed(&a, 7, 3);
    for (int i = 0; i < 100; i++)
        sn_rng_u32(&a);
    b = a;
    for (int i = 0; i < 100; i++)
        assert_int_equal(sn_rng_u32(&a), sn_rng_u32(&b));
}

/* Different streams of one seed differ. */
static void test_rng_streams_differ(void **state)
{
    (void)state;
    struct sn_rng a, b;
    sn_rng_seed(&a, 1, 1);
    sn_rng_seed(&b, 1, 2);
    int same = 0;
    for (int i = 0; i < 64; i++)
        same += sn_rng_u32(&a) == sn_rng_u32(&b);
    assert_true(same < 2);
    assert_true(sn_rng_mix(1, 2) != sn_rng_mix(2, 1));
}

/* Moments of uniform, below and normal over 100k draws. */
static void test_rng_distributions(void **state)
{
    (void)state;
    struct sn_rng r;
    sn_rng_seed(&r, 123, 9);
    enum { N = 100000 };
    double su = 0, sn = 0, sn2 = 0;
    int counts[10] = { 0 };
    for (int i = 0; i < N; i++) {
        float u = sn_rng_uniform(&r);
        assert_true(u >= 0.0f && u < 1.0f);
        su += u;
        uint32_t k = sn_rng_below(&r, 10);
        assert_true(k < 10);
        counts[k]++;
        float z = sn_rng_normal(&r);
        assert_true(isfinite(z));
        sn += z;
        sn2 += (double)z * z;
    }
    assert_float_equal(su / N, 0.5, 0.01);
    assert_float_equal(sn / N, 0.0, 0.02);
    assert_float_equal(sn2 / N, 1.0, 0.02);
    for (int k = 0; k < 10; k++)
        assert_true(counts[k] > N / 10 - 600 && counts[k] < N / 10 + 600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_reference_sequence),
        cmocka_unit_test(test_rng_state_replays),
        cmocka_unit_test(test_rng_streams_differ),
        cmocka_unit_test(test_rng_distributions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
