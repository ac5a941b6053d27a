/* test_augment: shifts, flips, rotations, zooms, reflected translations
 * and alternating flips of image batches; test-time views. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/augment.h"
#include "core/parallel.h"
#include "ref/ref_core.h"

enum { B = 16, C = 2, H = 7, W = 9, N = B * C * H * W };

static const int32_t rows16[B] = { 3, 17, 20, 41, 42, 50, 77, 80, 91, 99, 100, 123, 150, 151,
                                   170, 199 };

/* The position of a training batch: seed, global step, rank, epoch, rows. */
static struct sn_augment_at at_of(uint64_t seed, int64_t step, int rank, int64_t epoch,
                                  const int32_t *rows)
{
    return (struct sn_augment_at){ seed, step, rank, epoch, rows };
}

/* Flip only: every example is either unchanged or exactly mirrored, and
 * both happen. */
static void test_augment_flip(void **state)
{
    (void)state;
    static float x[N], orig[N], tmp[N];
    sn_test_fill(orig, N, 1, 0, 1);
    memcpy(x, orig, sizeof x);
    struct sn_augment a = { .flip = true };
    sn_augment_batch(&a, x, tmp, B, C, H, W, &(struct sn_augment_at){ 7, 3, 0, 0, rows16 });
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
    sn_augment_batch(&a, x, tmp, B, C, H, W, &(struct sn_augment_at){ 7, 3, 0, 0, rows16 });
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
    sn_augment_batch(&a, x, tmp, B, C, H, W, &(struct sn_augment_at){ 1, 1, 0, 0, rows16 });
    for (int b = 0; b < B; b++)
        assert_float_equal(x[(((size_t)b * C + 1) * H + 3) * W + 4], 0.5f, 1e-5);
    sn_test_fill(x, N, 2, 0, 1);
    memcpy(y, x, sizeof x);
    memcpy(z, x, sizeof x);
    sn_parallel_set_threads(1);
    sn_augment_batch(&a, x, tmp, B, C, H, W, &(struct sn_augment_at){ 1, 5, 1, 0, rows16 });
    sn_parallel_set_threads(2);
    sn_augment_batch(&a, y, tmp, B, C, H, W, &(struct sn_augment_at){ 1, 5, 1, 0, rows16 });
    assert_memory_equal(x, y, sizeof x);
    sn_augment_batch(&a, z, tmp, B, C, H, W, &(struct sn_augment_at){ 1, 6, 1, 0, rows16 });
    assert_memory_not_equal(x, z, sizeof x);
    for (int i = 0; i < N; i++)
        assert_true(isfinite(x[i]) && x[i] >= -1e-6f && x[i] <= 1.0f + 1e-6f);
}

/* One example (C planes) translated by (dy, dx) with reflection, then
 * mirrored: the definition, written the slow way. */
static void naive_view(const float *x, float *out, int dy, int dx, bool flip)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                int si = i - dy, sj = (flip ? W - 1 - j : j) - dx;
                si = si < 0 ? -si : si >= H ? 2 * (H - 1) - si : si;
                sj = sj < 0 ? -sj : sj >= W ? 2 * (W - 1) - sj : sj;
                out[((size_t)c * H + i) * W + j] = x[((size_t)c * H + si) * W + sj];
            }
}

/* Which (dy, dx, flip) with |dy|, |dx| <= T turns example orig into got
 * (the first match; -99 in *dy if none). */
static void find_view(const float *orig, const float *got, int T, int *dy, int *dx, bool *flip)
{
    float v[C * H * W];
    *dy = -99;
    for (int f = 0; f < 2; f++)
        for (int a = -T; a <= T; a++)
            for (int b = -T; b <= T; b++) {
                naive_view(orig, v, a, b, f);
                if (*dy == -99 && memcmp(v, got, sizeof v) == 0) {
                    *dy = a;
                    *dx = b;
                    *flip = f;
                }
            }
}

/* translate = 2 and flip = alternate: every example is its original
 * translated by at most 2 with reflection and mirrored or not; the mirror
 * alternates from epoch to epoch for each row, its phase differs between
 * rows; the result depends on (seed, epoch, row) only: the same row in
 * another place of the batch, on another rank, at another step, with
 * another thread count gets the same transformation; another epoch
 * another translation. */
static void test_augment_translate_alternate(void **state)
{
    (void)state;
    static float orig[N], x[4][N], tmp[N];
    sn_test_fill(orig, N, 9, 0, 1);
    struct sn_augment a = { .translate = 2, .flip_alternate = true };
    int32_t rev[B];
    for (int b = 0; b < B; b++)
        rev[b] = rows16[B - 1 - b];
    static float orig_rev[N];
    const size_t len = (size_t)C * H * W;
    for (int b = 0; b < B; b++)
        memcpy(orig_rev + b * len, orig + (B - 1 - b) * len, len * sizeof(float));
    struct sn_augment_at at[4] = { at_of(5, 10, 0, 3, rows16), at_of(5, 99, 1, 3, rev),
                                   at_of(5, 10, 0, 4, rows16), at_of(5, 10, 0, 5, rows16) };
    for (int k = 0; k < 4; k++) {
        memcpy(x[k], k == 1 ? orig_rev : orig, sizeof orig);
        sn_parallel_set_threads(k == 1 ? 1 : 2);
        sn_augment_batch(&a, x[k], tmp, B, C, H, W, &at[k]);
    }
    sn_parallel_set_threads(2);
    int flipped = 0, moved = 0, other_shift = 0;
    for (int b = 0; b < B; b++) {
        int dy[4], dx[4];
        bool fl[4];
        for (int k = 0; k < 4; k++) {
            int bb = k == 1 ? B - 1 - b : b;
            find_view(orig + b * len, x[k] + bb * len, 2, &dy[k], &dx[k], &fl[k]);
            assert_int_not_equal(dy[k], -99);
        }
        assert_true(dy[1] == dy[0] && dx[1] == dx[0] && fl[1] == fl[0]);   /* same (epoch, row) */
        assert_true(fl[2] != fl[0] && fl[3] == fl[0]);                     /* alternating */
        flipped += fl[0];
        moved += dy[0] != 0 || dx[0] != 0;
        other_shift += dy[2] != dy[0] || dx[2] != dx[0];
    }
    assert_true(flipped > 0 && flipped < B);
    assert_true(moved > 0 && other_shift > 0);
}

/* sn_view_batch matches PyTorch's reflect padding then crop (then flip),
 * and a translation-free mirror is sn_flip_batch's. */
static void test_augment_views_match_pytorch(void **state)
{
    (void)state;
    struct { struct sn_view v; const float *ref; } cases[] = {
        { { 1, 1, false }, view_1_1 }, { { -1, -1, true }, view_m1_m1_flip },
        { { 2, -3, false }, view_2_m3 }, { { 0, 0, true }, view_0_0_flip },
    };
    float out[120], f[120];
    for (int i = 0; i < 4; i++) {
        sn_view_batch(&cases[i].v, view_x, out, 2, 2, 5, 6);
        assert_memory_equal(out, cases[i].ref, sizeof out);
    }
    memcpy(f, view_x, sizeof f);
    sn_flip_batch(f, 2, 2, 5, 6);
    assert_memory_equal(f, view_0_0_flip, sizeof f);
}

/* A stand-in model: K = 2 outputs per example, sensitive to left-right
 * order and to translations; counts its calls. */
struct fake { float z[8 * 2]; int calls; };

static const float *fake_forward(void *ctx, const float *x, int n)
{
    struct fake *f = ctx;
    f->calls++;
    for (int b = 0; b < n; b++) {
        double s0 = 0, s1 = 0;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    float v = x[(((size_t)b * C + c) * H + i) * W + j];
                    s0 += v * (j + 1);
                    s1 += v * v * (i + 1);
                }
        f->z[2 * b] = (float)s0;
        f->z[2 * b + 1] = (float)s1;
    }
    return f->z;
}

/* sn_tta_forward: the weighted mean of the forward of each view, x left
 * as it was; test_flip's two views give (z + z_mirror) / 2 to the bit;
 * no views: the forward itself. */
static void test_augment_tta_forward(void **state)
{
    (void)state;
    enum { n = 8 };
    static float x[n * C * H * W], x0[n * C * H * W], v[n * C * H * W];
    sn_test_fill(x, sizeof x / sizeof x[0], 31, -1, 1);
    memcpy(x0, x, sizeof x);
    struct sn_augment a = { .n_views = 3,
                            .views = { { 0, 0, false }, { 1, -1, true }, { -2, 2, false } },
                            .view_weight = { 0.5f, 0.25f, 0.25f } };
    size_t len = sn_tta_scratch_len(&a, n, C, H, W, 2);
    assert_int_equal(len, n * 2 + sizeof x / sizeof x[0]);
    float *scratch = malloc(len * sizeof *scratch);
    struct fake f = { .calls = 0 };
    const float *z = sn_tta_forward(&a, fake_forward, &f, x, n, C, H, W, 2, scratch);
    assert_int_equal(f.calls, 3);
    assert_memory_equal(x, x0, sizeof x);
    double want[n * 2] = { 0 };
    for (int k = 0; k < 3; k++) {
        sn_view_batch(&a.views[k], x, v, n, C, H, W);
        const float *zk = fake_forward(&f, v, n);
        for (int i = 0; i < n * 2; i++)
            want[i] += a.view_weight[k] * zk[i];
    }
    for (int i = 0; i < n * 2; i++)
        assert_float_equal(z[i], want[i], 1e-4 * fabs(want[i]) + 1e-5);
    /* test_flip */
    struct sn_augment t = { .test_flip = true, .n_views = 2, .views = { { 0, 0, false },
                            { 0, 0, true } }, .view_weight = { 0.5f, 0.5f } };
    float z0[n * 2], z1[n * 2];
    memcpy(z0, fake_forward(&f, x, n), sizeof z0);
    memcpy(v, x, sizeof x);
    sn_flip_batch(v, n, C, H, W);
    memcpy(z1, fake_forward(&f, v, n), sizeof z1);
    z = sn_tta_forward(&t, fake_forward, &f, x, n, C, H, W, 2, scratch);
    for (int i = 0; i < n * 2; i++) {
        float old = 0.5f * (z0[i] + z1[i]);
        assert_memory_equal(&z[i], &old, sizeof old);
    }
    struct sn_augment none = { 0 };
    assert_int_equal(sn_tta_scratch_len(&none, n, C, H, W, 2), 0);
    assert_ptr_equal(sn_tta_forward(&none, fake_forward, &f, x, n, C, H, W, 2, NULL), f.z);
    free(scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_augment_flip),
        cmocka_unit_test(test_augment_flip_batch),
        cmocka_unit_test(test_augment_shift),
        cmocka_unit_test(test_augment_affine_and_repeatable),
        cmocka_unit_test(test_augment_translate_alternate),
        cmocka_unit_test(test_augment_views_match_pytorch),
        cmocka_unit_test(test_augment_tta_forward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
