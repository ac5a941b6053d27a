/* test_augment: shifts, flips, rotations and zooms of image batches. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/augment.h"
#include "core/parallel.h"

enum { B = 16, C = 2, H = 7, W = 9, N = B * C * H * W };

/* Flip only: every example is either unchanged or exactly mirrored, and
 * both happen. */
static void test_augment_flip(void **state)
{
    (void)state;
    static float x[N], orig[N], tmp[N];
    sn_test_fill(orig, N, 1, 0, 1);
    memcpy(x, orig, sizeof x);
    struct sn_augment a = { .flip = true };
    sn_augment_batch(&a, x, tmp, B, C, H, W, 7, 3, 0);
    int same = 0, mirrored = 0;
    for (int b = 0; b < B; b++) {
        bool s = true, m = true;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    size_t at = (((size_t)b * C + c) * H + i) * W;
                    s = s && x[at + j] == orig[at + j];
                    m = m && x[at + j] == orig[at + W - 1 - j];
                }
        same += s;
        mirrored += m;
        assert_true(s || m);
    }
    assert_true(same > 0 && mirrored > 0);
}

/* sn_flip_batch mirrors every example, odd and even widths (the middle
 * column of an odd width stays), and twice gives the input back. */
static void test_augment_flip_batch(void **state)
{
    (void)state;
    static float x[N], orig[N];
    for (int w = 1; w <= W; w++) {
        const int n = B * C * H * w;
        sn_test_fill(orig, (size_t)n, 40 + w, -1, 1);
        memcpy(x, orig, (size_t)n * sizeof *x);
        sn_flip_batch(x, B, C, H, w);
        for (int r = 0; r < B * C * H; r++)
            for (int j = 0; j < w; j++)
                assert_true(x[r * w + j] == orig[r * w + w - 1 - j]);
        sn_flip_batch(x, B, C, H, w);
        assert_memory_equal(x, orig, (size_t)n * sizeof *x);
    }
}

/* Shift only: one bright pixel moves by at most `shift` in each direction. */
static void test_augment_shift(void **state)
{
    (void)state;
    static float x[N], tmp[N];
    memset(x, 0, sizeof x);
    for (int b = 0; b < B; b++)
        x[(((size_t)b * C) * H + 3) * W + 4] = 1.0f;   /* channel 0, (3, 4) */
    struct sn_augment a = { .shift = 2 };
    sn_augment_batch(&a, x, tmp, B, C, H, W, 7, 3, 0);
    int moved = 0;
    for (int b = 0; b < B; b++) {
        int found = 0;
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                if (x[(((size_t)b * C) * H + i) * W + j] == 1.0f) {
                    found++;
                    assert_true(abs(i - 3) <= 2 && abs(j - 4) <= 2);
                    moved += i != 3 || j != 4;
                }
        assert_int_equal(found, 1);
    }
    assert_true(moved > 0);
}

/* Rotation and zoom keep a constant image constant away from the border;
 * the same (seed, step, rank) repeats exactly whatever the thread count,
 * and another step differs. */
static void test_augment_affine_and_repeatable(void **state)
{
    (void)state;
    static float x[N], y[N], z[N], tmp[N];
    struct sn_augment a = { .shift = 1, .flip = true, .rotate = 15, .zoom = 0.1f };
    for (int i = 0; i < N; i++)
        x[i] = 0.5f;
    sn_augment_batch(&a, x, tmp, B, C, H, W, 1, 1, 0);
    for (int b = 0; b < B; b++)
        assert_float_equal(x[(((size_t)b * C + 1) * H + 3) * W + 4], 0.5f, 1e-5);
    sn_test_fill(x, N, 2, 0, 1);
    memcpy(y, x, sizeof x);
    memcpy(z, x, sizeof x);
    sn_parallel_set_threads(1);
    sn_augment_batch(&a, x, tmp, B, C, H, W, 1, 5, 1);
    sn_parallel_set_threads(2);
    sn_augment_batch(&a, y, tmp, B, C, H, W, 1, 5, 1);
    assert_memory_equal(x, y, sizeof x);
    sn_augment_batch(&a, z, tmp, B, C, H, W, 1, 6, 1);
    assert_memory_not_equal(x, z, sizeof x);
    for (int i = 0; i < N; i++)
        assert_true(isfinite(x[i]) && x[i] >= -1e-6f && x[i] <= 1.0f + 1e-6f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_augment_flip),
        cmocka_unit_test(test_augment_flip_batch),
        cmocka_unit_test(test_augment_shift),
        cmocka_unit_test(test_augment_affine_and_repeatable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
