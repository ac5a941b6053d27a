/* test_h5: rows read by index (sn_h5_read_rows, which reads contiguous
 * datasets directly with pread) are the rows written, in files with the
 * seal's 512-byte user block (everything scratchnet writes) and without
 * (h5py's files).  Labels sorted by class are the hard case: a read at a
 * wrong place finds the same first label and every other one shifted. */
#include "testutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/h5.h"

enum { ROWS = 600, COLS = 5 };

struct table {
    float x[ROWS * COLS];
    int32_t y[ROWS];
};

static int fill(struct sn_h5 *f, const void *ctx)
{
    const struct table *t = ctx;
    size_t xd[2] = { ROWS, COLS }, yd[1] = { ROWS };
    int rc = sn_h5_write(f, "/train/x", 2, xd, SN_H5_F32, t->x);
    return rc ? rc : sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, t->y);
}

static void check_rows(const char *path, const struct table *t)
{
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    /* runs of consecutive rows and single ones, the last row included */
    const int32_t rows[] = { 0, 1, 2, 3, 127, 128, 129, 300, 301, 450, 598, 599 };
    const size_t n = sizeof rows / sizeof rows[0];
    float x[sizeof rows / sizeof rows[0] * COLS];
    int32_t y[sizeof rows / sizeof rows[0]];
    for (int pass = 0; pass < 2; pass++) {   /* the second read uses the checked direct entry */
        memset(x, 0, sizeof x);
        memset(y, 0, sizeof y);
        assert_int_equal(sn_h5_read_rows(f, "/train/x", rows, n, COLS, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_read_rows(f, "/train/y", rows, n, 1, SN_H5_I32, y), SN_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(y[i], t->y[rows[i]]);
            assert_memory_equal(&x[i * COLS], &t->x[rows[i] * COLS], COLS * sizeof(float));
        }
    }
    const int32_t past = ROWS;
    assert_int_equal(sn_h5_read_rows(f, "/train/y", &past, 1, 1, SN_H5_I32, y), SN_EINVAL);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

static void test_h5_read_rows(void **state)
{
    (void)state;
    static struct table t;
    for (int r = 0; r < ROWS; r++) {
        t.y[r] = r / 200;   /* sorted by class: y[0] == y[128] */
        for (int c = 0; c < COLS; c++)
            t.x[r * COLS + c] = (float)(r * 10 + c);
    }
    const char *sealed = sn_test_path("sealed.h5"), *plain = sn_test_path("plain.h5");
    assert_int_equal(sn_h5_write_atomic(sealed, fill, &t), SN_OK);
    assert_int_equal(sn_h5_check_seal(sealed), SN_OK);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(plain, &f), SN_OK);
    assert_int_equal(fill(f, &t), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    check_rows(sealed, &t);
    check_rows(plain, &t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h5_read_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
