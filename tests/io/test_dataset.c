/* test_dataset: reading the HDF5 dataset layout by rows, and refusing
 * files that do not follow it. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/status.h"
#include "io/dataset.h"
#include "io/h5.h"

enum { N = 10, C = 2, H = 3, W = 2, L = C * H * W };

/* /train: x uint8 (N,C,H,W) with x[r][i] = r*10 + i, scale 0.5; y = r % 3.
 * /test: x float32 (4, C,H,W), float targets (4, 2). */
static const char *write_good(void)
{
    const char *p = sn_test_path("good.h5");
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(p, &f), SN_OK);
    unsigned char x[N * L];
    int32_t y[N];
    for (int r = 0; r < N; r++) {
        for (int i = 0; i < L; i++)
            x[r * L + i] = (unsigned char)(r * 10 + i);
        y[r] = r % 3;
    }
    size_t xd[4] = { N, C, H, W }, yd[1] = { N };
    assert_int_equal(sn_h5_write(f, "/train/x", 4, xd, SN_H5_U8, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
    double scale = 0.5;
    assert_int_equal(sn_h5_attr_set_f64(f, "/train/x", "scale", &scale, 1), SN_OK);
    float tx[4 * L], ty[8];
    sn_test_fill(tx, 4 * L, 1, 0, 1);
    sn_test_fill(ty, 8, 2, 0, 1);
    size_t txd[4] = { 4, C, H, W }, tyd[2] = { 4, 2 };
    assert_int_equal(sn_h5_write(f, "/test/x", 4, txd, SN_H5_F32, tx), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/y", 2, tyd, SN_H5_F32, ty), SN_OK);
    double mean[2] = { 1.0, 2.0 }, std[2] = { 2.0, 4.0 };
    assert_int_equal(sn_h5_attr_set_f64(f, "/test/x", "mean", mean, 2), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/test/x", "std", std, 2), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    return p;
}

/* Scattered rows come back scaled, in the order asked, with their labels. */
static void test_dataset_reads_rows(void **state)
{
    (void)state;
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(write_good(), &d), SN_OK);
    const struct sn_split *s = sn_dataset_split(d, "train");
    assert_non_null(s);
    assert_int_equal(s->n, N);
    assert_int_equal(s->row_len, L);
    assert_true(s->x_u8 && s->y_int);
    assert_null(sn_dataset_split(d, "val"));
    assert_int_equal(sn_dataset_reserve(d, 4), SN_OK);
    const int32_t rows[4] = { 1, 2, 5, 9 };
    float x[4 * L];
    int y[4];
    assert_int_equal(sn_dataset_read(d, s, rows, 4, x, y, NULL), SN_OK);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(y[k], rows[k] % 3);
        for (int i = 0; i < L; i++)
            assert_float_equal(x[k * L + i], 0.5f * (float)(rows[k] * 10 + i), 0);
    }
    assert_int_equal(sn_dataset_read_block(d, s, 6, 3, x, y, NULL), SN_OK);
    assert_float_equal(x[0], 30.0f, 0);
    assert_int_equal(y[2], 8 % 3);
    /* more rows than reserved is refused, not overflowed */
    const int32_t many[5] = { 0, 1, 2, 3, 4 };
    assert_int_equal(sn_dataset_read(d, s, many, 5, x, y, NULL), SN_EINVAL);
    sn_dataset_close(d);
}

/* Float x with per-channel mean/std, and float targets. */
static void test_dataset_normalises_and_targets(void **state)
{
    (void)state;
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(write_good(), &d), SN_OK);
    const struct sn_split *s = sn_dataset_split(d, "test");
    assert_non_null(s);
    assert_false(s->y_int);
    assert_int_equal(s->y_k, 2);
    assert_int_equal(s->n_norm, 2);
    assert_int_equal(sn_dataset_reserve(d, 4), SN_OK);
    float raw[4 * L], ty_ref[8], x[4 * L], t[8];
    sn_test_fill(raw, 4 * L, 1, 0, 1);
    sn_test_fill(ty_ref, 8, 2, 0, 1);
    assert_int_equal(sn_dataset_read_block(d, s, 0, 4, x, NULL, t), SN_OK);
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < L; i++) {
            int c = i / (H * W);
            float want = (raw[r * L + i] - (c ? 2.0f : 1.0f)) / (c ? 4.0f : 2.0f);
            assert_float_equal(x[r * L + i], want, 1e-6);
        }
    assert_close_arrays(t, ty_ref, 8, 0, 0);
    sn_dataset_close(d);
}

/* Labels out of range are found and the row is named. */
static void test_dataset_check_labels(void **state)
{
    (void)state;
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(write_good(), &d), SN_OK);
    const struct sn_split *s = sn_dataset_split(d, "train");
    assert_int_equal(sn_dataset_check_labels(d, s, 0, N, 3), SN_OK);
    assert_int_equal(sn_dataset_check_labels(d, s, 0, N, 2), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "row 2"));
    assert_int_equal(sn_dataset_check_labels(d, s, 3, 2, 2), SN_OK);   /* rows 3, 4: labels 0, 1 */
    assert_int_equal(sn_dataset_check_labels(d, s, 3, 3, 2), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "row 5"));
    sn_dataset_close(d);
}

/* Build a file with the given parts; NULL data means "do not write". */
static const char *write_parts(const char *name, int xnd, const size_t *xd, enum sn_h5_type xt,
                               int ynd, const size_t *yd, enum sn_h5_type yt)
{
    static char buf[64 * N * L * 8];
    memset(buf, 0, sizeof buf);
    const char *p = sn_test_path(name);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(p, &f), SN_OK);
    if (xnd >= 0)
        assert_int_equal(sn_h5_write(f, "/train/x", xnd, xd, xt, buf), SN_OK);
    if (ynd >= 0)
        assert_int_equal(sn_h5_write(f, "/train/y", ynd, yd, yt, buf), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    return p;
}

static void expect_bad(const char *path, int code, const char *words)
{
    struct sn_dataset *d = NULL;
    int rc = sn_dataset_open(path, &d);
    if (rc != code || !strstr(sn_errmsg(), words)) {
        fprintf(stderr, "got %d '%s', wanted %d '%s'\n", rc, sn_errmsg(), code, words);
        fail();
    }
    assert_null(d);
}

/* Files that break the layout are refused, naming the dataset path. */
static void test_dataset_rejects_bad_files(void **state)
{
    (void)state;
    size_t xd[4] = { N, C, H, W }, yd[2] = { N, 3 }, yshort[1] = { N - 1 }, x1[1] = { N };
    expect_bad(write_parts("nox.h5", -1, NULL, 0, 1, yd, SN_H5_I32), SN_EINVAL, "/train/x is missing");
    expect_bad(write_parts("noy.h5", 4, xd, SN_H5_U8, -1, NULL, 0), SN_EINVAL, "/train/y is missing");
    expect_bad(write_parts("rows.h5", 4, xd, SN_H5_U8, 1, yshort, SN_H5_I32), SN_EINVAL,
               "has 9 rows but /train/x has 10");
    expect_bad(write_parts("rank1.h5", 1, x1, SN_H5_U8, 1, yd, SN_H5_I32), SN_EINVAL, "/train/x must have shape");
    expect_bad(write_parts("i32x.h5", 4, xd, SN_H5_I32, 1, yd, SN_H5_I32), SN_EINVAL, "uint8 or float");
    expect_bad(write_parts("inty2.h5", 4, xd, SN_H5_U8, 2, yd, SN_H5_I32), SN_EINVAL, "/train/y must be");
    expect_bad(write_parts("floaty1.h5", 4, xd, SN_H5_U8, 1, yd, SN_H5_F32), SN_EINVAL, "/train/y must be");
    expect_bad(sn_test_path("absent.h5"), SN_EINVAL, "cannot read");
    FILE *f = fopen(sn_test_path("text.h5"), "w");
    fputs("not hdf5\n", f);
    fclose(f);
    expect_bad(sn_test_path("text.h5"), SN_EINVAL, "not an HDF5 file");
    /* a zero scale and a mean without std */
    size_t y1[1] = { N };
    const char *p = write_parts("scale.h5", 4, xd, SN_H5_U8, 1, y1, SN_H5_I32);
    struct sn_h5 *h;
    assert_int_equal(sn_h5_open(p, &h), SN_OK);
    sn_h5_close(h);
    double zero = 0, two[2] = { 1, 1 };
    assert_int_equal(sn_h5_create(sn_test_path("scale0.h5"), &h), SN_OK);
    unsigned char x[N * L] = { 0 };
    int32_t y[N] = { 0 };
    sn_h5_write(h, "/train/x", 4, xd, SN_H5_U8, x);
    sn_h5_write(h, "/train/y", 1, y1, SN_H5_I32, y);
    sn_h5_attr_set_f64(h, "/train/x", "scale", &zero, 1);
    sn_h5_close(h);
    expect_bad(sn_test_path("scale0.h5"), SN_EINVAL, "scale");
    assert_int_equal(sn_h5_create(sn_test_path("mean.h5"), &h), SN_OK);
    sn_h5_write(h, "/train/x", 4, xd, SN_H5_U8, x);
    sn_h5_write(h, "/train/y", 1, y1, SN_H5_I32, y);
    sn_h5_attr_set_f64(h, "/train/x", "mean", two, 2);
    sn_h5_close(h);
    expect_bad(sn_test_path("mean.h5"), SN_EINVAL, "mean without std");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset_reads_rows),
        cmocka_unit_test(test_dataset_normalises_and_targets),
        cmocka_unit_test(test_dataset_check_labels),
        cmocka_unit_test(test_dataset_rejects_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
