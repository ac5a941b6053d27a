/* test_prefetch: rows read ahead on the reader thread are the rows
 * sn_dataset_read gives (uint8 images and float features), named by their
 * tag; a failed read's error reaches the main thread with its message; a
 * reader destroyed with a read in flight waits for it. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/dataset.h"
#include "io/h5.h"
#include "io/prefetch.h"

static int setup(void **state)
{
    (void)state;
    sn_test_write_blobs(sn_test_path("blobs.h5"), (struct sn_test_blobs){ 0 });
    enum { N = 480, H = 4, W = 5 };
    uint8_t *x = malloc(N * H * W);
    int32_t y[N];
    for (int i = 0; i < N * H * W; i++)
        x[i] = (uint8_t)(i * 7 % 251);
    for (int i = 0; i < N; i++)
        y[i] = i % 3;
    struct sn_h5 *f;
    if (sn_h5_create(sn_test_path("images.h5"), &f))
        return -1;
    sn_test_write_u8(f, "train", N, H, W, x, y);
    sn_h5_close(f);
    free(x);
    return 0;
}

static void check_file(const char *name)
{
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(sn_test_path(name), &d), SN_OK);
    const struct sn_split *s = sn_dataset_split(d, "train");
    enum { B = 12 };
    assert_int_equal(sn_dataset_reserve(d, B), SN_OK);
    struct sn_prefetch *p;
    assert_int_equal(sn_prefetch_create(d, s, B, &p), SN_OK);
    const size_t L = s->row_len;
    assert_int_equal(s->x_u8, strcmp(name, "images.h5") == 0);
    float *x = malloc(B * L * sizeof *x), *want = malloc(B * L * sizeof *want);
    int labels[B], want_labels[B];
    for (int round = 0; round < 3; round++) {
        int32_t rows[B];
        for (int i = 0; i < B; i++)
            rows[i] = (int32_t)(round * 31 + i * 37);   /* ascending, gaps */
        sn_prefetch_start(p, rows, B, 100 + round);
        assert_int_equal(sn_dataset_read(d, s, rows, B, want, want_labels, NULL), SN_OK);
        assert_int_equal(sn_prefetch_tag(p), 100 + round);
        assert_int_equal(sn_prefetch_take(p, x, labels, NULL), SN_OK);
        assert_int_equal(sn_prefetch_tag(p), -1);
        assert_memory_equal(x, want, B * L * sizeof *x);
        assert_memory_equal(labels, want_labels, sizeof labels);
    }
    /* a row past the end: the thread's error, named, on this thread */
    int32_t bad[2] = { 3, 100000 };
    sn_prefetch_start(p, bad, 2, 7);
    assert_int_equal(sn_prefetch_tag(p), 7);
    assert_int_not_equal(sn_prefetch_take(p, x, labels, NULL), SN_OK);
    assert_non_null(strstr(sn_errmsg(), "/train/x"));
    /* destroyed with a read in flight */
    int32_t one[1] = { 5 };
    sn_prefetch_start(p, one, 1, 8);
    sn_prefetch_destroy(p);
    free(x);
    free(want);
    sn_dataset_close(d);
}

static void test_prefetch_float_rows(void **state)
{
    (void)state;
    check_file("blobs.h5");
}

static void test_prefetch_u8_rows(void **state)
{
    (void)state;
    check_file("images.h5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefetch_float_rows),
        cmocka_unit_test(test_prefetch_u8_rows),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
