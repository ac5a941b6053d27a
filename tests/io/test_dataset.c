/* test_dataset: reading the HDF5 dataset layout by rows, and refusing
 * files that do not follow it. */
#include "testutil.h"

#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/interrupt.h"
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
    assert_int_equal(sn_dataset_check_labels(d, s, 0, N, 3, 3), SN_OK);
    assert_int_equal(sn_dataset_check_labels(d, s, 0, N, 2, 2), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "row 2"));
    assert_int_equal(sn_dataset_check_labels(d, s, 3, 2, 2, 2), SN_OK);   /* rows 3, 4: labels 0, 1 */
    assert_int_equal(s->label_classes, 2);   /* counted: guessing scores ln 2 */
    assert_float_equal(s->label_entropy, log(2.0), 1e-12);
    assert_int_equal(sn_dataset_check_labels(d, s, 3, 4, 5, 5), SN_OK);   /* 0, 1, 2, 0 */
    assert_int_equal(s->label_classes, 3);   /* of 5 outputs */
    assert_float_equal(s->label_entropy, -0.5 * log(0.5) - 0.5 * log(0.25), 1e-12);
    assert_int_equal(sn_dataset_check_labels(d, s, 3, 3, 2, 2), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "row 5"));
    sn_dataset_close(d);
}

/* A label written into the file after the check, read at a batch (not
 * held in memory): refused, never handed to the loss as an index. */
static void test_dataset_labels_changed_during_run(void **state)
{
    (void)state;
    const char *path = write_good();
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(path, &d), SN_OK);
    const struct sn_split *s = sn_dataset_split(d, "train");
    assert_int_equal(sn_dataset_check_labels(d, s, 0, N, 3, 3), SN_OK);
    assert_int_equal(sn_dataset_reserve(d, 2), SN_OK);
    const int32_t rows[2] = { 4, 5 };
    float x[2 * L];
    int y[2];
    assert_int_equal(sn_dataset_read(d, s, rows, 2, x, y, NULL), SN_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), ds = H5Dopen2(f, "/train/y", H5P_DEFAULT);
    const haddr_t at = H5Dget_offset(ds);
    H5Dclose(ds);
    H5Fclose(f);
    assert_true(at != HADDR_UNDEF);
    int fd = open(path, O_WRONLY);
    const int32_t bad = -900000000;
    assert_int_equal(pwrite(fd, &bad, sizeof bad, (off_t)(at + 5 * sizeof bad)), sizeof bad);
    close(fd);
    assert_int_equal(sn_dataset_read(d, s, rows, 2, x, y, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "/train/y row 5 has label -900000000, outside [0, 3): the "
                                        "file changed during the run?"));
    sn_dataset_close(d);
}

/* The check holds for the split checked: another split's labels, never
 * checked against the model (an unused /val), are not called changed when
 * they are read (train read /val's rows and blamed a change for its 7). */
static void test_dataset_unchecked_split_not_blamed(void **state)
{
    (void)state;
    const char *path = sn_test_path("valbad.h5");
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    float x[4 * 2] = { 0 };
    int32_t y[4] = { 0, 1, 2, 1 }, yv[4] = { 7, 0, 1, 2 };
    size_t xd[2] = { 4, 2 }, yd[1] = { 4 };
    assert_int_equal(sn_h5_write(f, "/train/x", 2, xd, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_write(f, "/val/x", 2, xd, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/val/y", 1, yd, SN_H5_I32, yv), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(path, &d), SN_OK);
    assert_int_equal(sn_dataset_check_labels(d, sn_dataset_split(d, "train"), 0, 4, 3, 3),
                     SN_OK);
    assert_int_equal(sn_dataset_reserve(d, 2), SN_OK);
    const int32_t rows[2] = { 0, 1 };
    float xr[2 * 2];
    int yr[2];
    const struct sn_split *v = sn_dataset_split(d, "val");
    assert_int_equal(sn_dataset_read(d, v, rows, 2, xr, yr, NULL), SN_OK);
    assert_int_equal(yr[0], 7);
    assert_int_equal(sn_dataset_check_labels(d, v, 0, 4, 3, 3), SN_EINVAL);   /* checked: named */
    assert_non_null(strstr(sn_errmsg(), "/val/y row 0 has label 7, outside [0, 3) for a model"));
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
    expect_bad(write_parts("inty2.h5", 4, xd, SN_H5_U8, 2, yd, SN_H5_I32), SN_EINVAL,
               "/train/y holds integers of shape (10, 3); it must be integer labels (N) or float "
               "targets (N, K)");
    expect_bad(write_parts("floaty1.h5", 4, xd, SN_H5_U8, 1, yd, SN_H5_F32), SN_EINVAL,
               "/train/y holds floats of shape (10); it must be integer labels (N) or float "
               "targets (N, K): float targets of a regression take the shape (N, 1) (h5py: "
               "y.reshape(-1, 1)), and class labels are integers (y.astype('int32'))");
    expect_bad(sn_test_path("absent.h5"), SN_EINVAL, "absent.h5: cannot open: No such file or directory");
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

/* A float split /<split>/x of n rows of the given sample shape, x[r][i] =
 * r + i, labels r % 2. */
static void write_float_split(struct sn_h5 *f, const char *split, size_t n, int nd,
                              const int *shape)
{
    size_t dims[5] = { n }, len = 1;
    for (int i = 0; i < nd; i++) {
        dims[i + 1] = (size_t)shape[i];
        len *= (size_t)shape[i];
    }
    float *x = malloc(n * len * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    assert_true(x && y);
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < len; i++)
            x[r * len + i] = (float)(r + i);
        y[r] = (int32_t)(r % 2);
    }
    char xp[32], yp[32];
    snprintf(xp, sizeof xp, "/%s/x", split);
    snprintf(yp, sizeof yp, "/%s/y", split);
    assert_int_equal(sn_h5_write(f, xp, nd + 1, dims, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, yp, 1, dims, SN_H5_I32, y), SN_OK);
    free(x);
    free(y);
}

static void set_attr(struct sn_h5 *f, const char *obj, const char *name, const double *v, size_t n)
{
    assert_int_equal(sn_h5_attr_set_f64(f, obj, name, v, n), SN_OK);
}

/* scale on /train/x only (the layout the old docs showed): the splits
 * are prepared differently and the check names both, with their values. */
static void test_dataset_prep_mismatch_named(void **state)
{
    (void)state;
    const int shape[3] = { 1, 2, 2 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(sn_test_path("trainonly.h5"), &f), SN_OK);
    write_float_split(f, "train", 6, 3, shape);
    write_float_split(f, "test", 4, 3, shape);
    double scale = 1.0 / 255.0;
    set_attr(f, "/train/x", "scale", &scale, 1);
    assert_int_equal(sn_h5_close(f), SN_OK);
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(sn_test_path("trainonly.h5"), &d), SN_OK);
    assert_int_equal(d->train.scale_from, SN_PREP_SPLIT);
    assert_int_equal(d->test.scale_from, SN_PREP_DEFAULT);
    assert_false(sn_split_same_prep(&d->train, &d->test));
    assert_int_equal(sn_dataset_check_prep(d), SN_EINVAL);
    const char *e = sn_errmsg();
    assert_non_null(strstr(e, "/train/x is scaled by 0.00392157 (its own attribute)"));
    assert_non_null(strstr(e, "/test/x is scaled by 1 (no attribute)"));
    sn_dataset_close(d);
}

/* Root attributes reach every split; a split's own attribute wins over the
 * root's, each of scale and (mean, std) on its own. */
static void test_dataset_prep_precedence(void **state)
{
    (void)state;
    const int shape[3] = { 2, 1, 2 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(sn_test_path("prec.h5"), &f), SN_OK);
    write_float_split(f, "train", 5, 3, shape);
    write_float_split(f, "test", 3, 3, shape);
    write_float_split(f, "val", 3, 3, shape);
    double half = 0.5, quarter = 0.25, mean[2] = { 1, 2 }, std[2] = { 2, 4 }, one_m = 3, one_s = 8;
    set_attr(f, "/", "scale", &half, 1);
    set_attr(f, "/", "mean", mean, 2);
    set_attr(f, "/", "std", std, 2);
    set_attr(f, "/val/x", "scale", &quarter, 1);
    set_attr(f, "/test/x", "mean", &one_m, 1);   /* one value: every channel */
    set_attr(f, "/test/x", "std", &one_s, 1);
    assert_int_equal(sn_h5_close(f), SN_OK);
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(sn_test_path("prec.h5"), &d), SN_OK);
    assert_int_equal(sn_dataset_reserve(d, 2), SN_OK);
    float x[2 * 4];
    /* train: root scale and root per-channel mean/std */
    assert_int_equal(d->train.scale_from, SN_PREP_FILE);
    assert_int_equal(d->train.norm_from, SN_PREP_FILE);
    assert_int_equal(sn_dataset_read_block(d, &d->train, 1, 1, x, NULL, NULL), SN_OK);
    for (int i = 0; i < 4; i++)   /* row 1: v = 1 + i; channel i / 2 */
        assert_float_equal(x[i], (0.5f * (float)(1 + i) - (float)mean[i / 2]) / (float)std[i / 2],
                           1e-6);
    /* val: its own scale, the root's mean/std */
    assert_int_equal(d->val.scale_from, SN_PREP_SPLIT);
    assert_int_equal(d->val.norm_from, SN_PREP_FILE);
    assert_int_equal(sn_dataset_read_block(d, &d->val, 0, 1, x, NULL, NULL), SN_OK);
    for (int i = 0; i < 4; i++)
        assert_float_equal(x[i], (0.25f * (float)i - (float)mean[i / 2]) / (float)std[i / 2], 1e-6);
    /* test: the root's scale, its own single mean/std for both channels */
    assert_int_equal(d->test.scale_from, SN_PREP_FILE);
    assert_int_equal(d->test.norm_from, SN_PREP_SPLIT);
    assert_int_equal(d->test.n_norm, 1);
    assert_int_equal(sn_dataset_read_block(d, &d->test, 2, 1, x, NULL, NULL), SN_OK);
    for (int i = 0; i < 4; i++)
        assert_float_equal(x[i], (0.5f * (float)(2 + i) - 3.0f) / 8.0f, 1e-6);
    /* test differs from train first: named with where each value comes from */
    assert_int_equal(sn_dataset_check_prep(d), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "/train/x is scaled by 0.5 (the file's attribute), "
                                        "mean (1, 2) and std (2, 4) (the file's attributes)"));
    assert_non_null(strstr(sn_errmsg(), "/test/x is scaled by 0.5 (the file's attribute), "
                                        "mean (3) and std (8) (its own attributes)"));
    sn_dataset_close(d);

    /* the same attributes on the root alone: every split agrees */
    assert_int_equal(sn_h5_create(sn_test_path("root.h5"), &f), SN_OK);
    write_float_split(f, "train", 5, 3, shape);
    write_float_split(f, "test", 3, 3, shape);
    set_attr(f, "/", "scale", &half, 1);
    set_attr(f, "/", "mean", mean, 2);
    set_attr(f, "/", "std", std, 2);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_dataset_open(sn_test_path("root.h5"), &d), SN_OK);
    assert_int_equal(sn_dataset_check_prep(d), SN_OK);
    sn_dataset_close(d);
}

/* mean/std of a table: one per feature F of (F) and of (T,F) samples (the
 * feature is the last dimension), or one value; other counts are refused
 * saying what is expected. */
static void test_dataset_prep_per_feature(void **state)
{
    (void)state;
    enum { F8 = 8, T = 3, F4 = 4 };
    double m8[F8], s8[F8], m4[F4], s4[F4];
    for (int i = 0; i < F8; i++) {
        m8[i] = i * 0.5;
        s8[i] = 1.0 + i;
    }
    for (int i = 0; i < F4; i++) {
        m4[i] = -i;
        s4[i] = 0.5 * (i + 1);
    }
    struct sn_h5 *f;
    const int tab[1] = { F8 }, seq[2] = { T, F4 };
    assert_int_equal(sn_h5_create(sn_test_path("tab.h5"), &f), SN_OK);
    write_float_split(f, "train", 4, 1, tab);
    write_float_split(f, "test", 2, 1, tab);
    set_attr(f, "/", "mean", m8, F8);
    set_attr(f, "/", "std", s8, F8);
    assert_int_equal(sn_h5_close(f), SN_OK);
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(sn_test_path("tab.h5"), &d), SN_OK);
    assert_int_equal(d->train.n_norm, F8);
    assert_int_equal(sn_dataset_check_prep(d), SN_OK);
    assert_int_equal(sn_dataset_reserve(d, 4), SN_OK);
    float x[4 * F8];
    assert_int_equal(sn_dataset_read_block(d, &d->train, 0, 4, x, NULL, NULL), SN_OK);
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < F8; i++)
            assert_float_equal(x[r * F8 + i], ((float)(r + i) - (float)m8[i]) / (float)s8[i], 1e-6);
    sn_dataset_close(d);

    assert_int_equal(sn_h5_create(sn_test_path("seq.h5"), &f), SN_OK);
    write_float_split(f, "train", 3, 2, seq);
    set_attr(f, "/train/x", "mean", m4, F4);
    set_attr(f, "/train/x", "std", s4, F4);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_dataset_open(sn_test_path("seq.h5"), &d), SN_OK);
    assert_int_equal(sn_dataset_reserve(d, 1), SN_OK);
    float xs[T * F4];
    assert_int_equal(sn_dataset_read_block(d, &d->train, 2, 1, xs, NULL, NULL), SN_OK);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < F4; i++)
            assert_float_equal(xs[t * F4 + i],
                               ((float)(2 + t * F4 + i) - (float)m4[i]) / (float)s4[i], 1e-6);
    sn_dataset_close(d);

    /* 3 values for 8 features */
    assert_int_equal(sn_h5_create(sn_test_path("tab3.h5"), &f), SN_OK);
    write_float_split(f, "train", 4, 1, tab);
    set_attr(f, "/", "mean", m8, 3);
    set_attr(f, "/", "std", s8, 3);
    assert_int_equal(sn_h5_close(f), SN_OK);
    expect_bad(sn_test_path("tab3.h5"), SN_EINVAL,
               "mean and std of the file's root need 1 or 8 values (one per feature of /train/x), "
               "found 3 and 3");

    /* sequences stored features first, (F, T): the values match T */
    const int swapped[2] = { F4, T };
    assert_int_equal(sn_h5_create(sn_test_path("seqft.h5"), &f), SN_OK);
    write_float_split(f, "train", 3, 2, swapped);
    set_attr(f, "/", "mean", m4, F4);
    set_attr(f, "/", "std", s4, F4);
    assert_int_equal(sn_h5_close(f), SN_OK);
    expect_bad(sn_test_path("seqft.h5"), SN_EINVAL,
               "need 1 or 3 values (one per feature of /train/x), found 4 and 4 (samples of T x F, "
               "features last: statistics taken per time step, as x.mean((0, 2)) gives, where "
               "x.mean((0, 1)) gives one per feature? or time steps and features stored the other "
               "way round?)");
}

/* A stop request during a stoppable write (convert's) ends it with
 * SN_EINTR naming the signal and the dataset, between blocks of rows; the
 * plain write (checkpoints and --out at a graceful stop) still writes. */
static void test_h5_write_stoppable(void **state)
{
    (void)state;
    const size_t rows = 3 << 17, F = 32, n = rows * F;   /* 48 MB: three blocks of rows */
    float *x = malloc(n * sizeof *x), *back = malloc(n * sizeof *back);
    assert_true(x && back);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(i % 1000003);
    size_t dims[2] = { rows, F };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(sn_test_path("stop.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write_stoppable(f, "/a/x", 2, dims, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/a/x", SN_H5_F32, back, n), SN_OK);
    assert_memory_equal(back, x, n * sizeof *x);   /* every block where it belongs */
    sn_interrupt_set(SIGTERM);
    assert_int_equal(sn_h5_write_stoppable(f, "/b/x", 2, dims, SN_H5_F32, x), SN_EINTR);
    assert_non_null(strstr(sn_errmsg(), "interrupted by SIGTERM while writing /b/x of"));
    assert_int_equal(sn_h5_write(f, "/c/x", 2, dims, SN_H5_F32, x), SN_OK);
    sn_interrupt_clear();
    assert_int_equal(sn_h5_close(f), SN_OK);
    free(x);
    free(back);
}

/* The probe's child is this test program started afresh: it runs the
 * check it is given (a 40-deep file is refused, with the probe's own
 * message), again and again while this process has threads (a fork of it
 * could freeze on a lock one held), whatever probe words a user left in
 * the environment (the child is given its own). */
static void test_h5_probe_fresh_child(void **state)
{
    (void)state;
    char deep[256] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "/g");
    strcat(deep, "/x");
    const char *p = sn_test_path("deep.h5"), *good = write_good();
    struct sn_h5 *f;
    float one = 1;
    size_t dims[1] = { 1 };
    assert_int_equal(sn_h5_create(p, &f), SN_OK);
    assert_int_equal(sn_h5_write(f, deep, 1, dims, SN_H5_F32, &one), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("SN_H5_PROBE", "all", 1);
    setenv("SN_H5_PROBE_FILE", good, 1);
    setenv("SN_H5_PROBE_PARENT", pid, 1);
    volatile float sum = 0;
#pragma omp parallel for reduction(+ : sum)
    for (int i = 0; i < 1000; i++)
        sum += (float)i;
    for (int k = 0; k < 8; k++) {
        assert_int_equal(sn_h5_probe_all(p), SN_EINVAL);
        assert_non_null(strstr(sn_errmsg(), "deep.h5: it nests groups more than 32 deep"));
        assert_int_equal(sn_h5_probe_all(good), SN_OK);
    }
    /* a dataset's check reads what the command reads, not the whole file */
    assert_int_equal(sn_h5_probe(p, "dataset", "train"), SN_OK);
    unsetenv("SN_H5_PROBE");
    unsetenv("SN_H5_PROBE_FILE");
    unsetenv("SN_H5_PROBE_PARENT");
}

/* What the command opens after the probe is what the probe checked: a
 * file put in its place meanwhile is refused, naming why; a file this
 * program writes at that name again is its own and opens. */
static void test_h5_probe_then_replaced(void **state)
{
    (void)state;
    const char *good = write_good();
    char copy[512], cmd[4096];
    snprintf(copy, sizeof copy, "%s", sn_test_path("other.h5"));
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", good, copy);
    assert_int_equal(system(cmd), 0);
    struct sn_dataset *d = NULL;
    assert_int_equal(sn_h5_probe_all(copy), SN_OK);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s.new' && echo >> '%s.new' && mv '%s.new' '%s'", good,
             copy, copy, copy, copy);
    assert_int_equal(system(cmd), 0);
    struct sn_h5 *f = NULL;
    assert_int_equal(sn_h5_open(copy, &f), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "other.h5: the file changed after it was checked"));
    assert_int_equal(sn_dataset_open(copy, &d), SN_OK);   /* checked afresh: the new file */
    sn_dataset_close(d);
    assert_int_equal(sn_h5_create(copy, &f), SN_OK);   /* written here: no longer the checked one */
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_h5_open(copy, &f), SN_OK);
    sn_h5_close(f);
    /* dated anew at the same size (a touch, a chmod; or a write in place
     * with its modification time put back, which the change time tells):
     * checked again as it is now, and opened when sound (a checkpoint
     * touched during --resume auto was set aside as damaged) */
    assert_int_equal(sn_h5_probe_all(copy), SN_OK);
    snprintf(cmd, sizeof cmd, "touch '%s' && chmod 600 '%s'", copy, copy);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(sn_h5_open(copy, &f), SN_OK);
    sn_h5_close(f);
    assert_int_equal(sn_h5_probe_all(copy), SN_OK);
    snprintf(cmd, sizeof cmd, "touch -r '%s' '%s.t' && dd if=/dev/zero of='%s' bs=1 count=8 "
             "conv=notrunc status=none && touch -r '%s.t' '%s'", copy, copy, copy, copy, copy);
    assert_int_equal(system(cmd), 0);   /* its signature gone: no longer HDF5 */
    assert_int_not_equal(sn_h5_open(copy, &f), SN_OK);
}

/* A 64 x 8 array of floats in chunks of 8 x 8, deflated, whose last
 * chunk is a stream of 4 MiB of zeros (its own 256 bytes). */
static void write_last_chunk_bomb(const char *p)
{
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d[2] = { 64, 8 }, c[2] = { 8, 8 }, last[2] = { 56, 0 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, c);
    H5Pset_deflate(pl, 6);
    hid_t sp = H5Screate_simple(2, d, NULL);
    hid_t x = H5Dcreate2(f, "/w", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    float v[512] = { 0 };
    assert_true(H5Dwrite(x, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    const uLong big = 4ul << 20;
    uint8_t *zero = calloc(big, 1), *packed = malloc(compressBound(big));
    uLongf len = compressBound(big);
    assert_true(zero && packed);
    assert_int_equal(compress2(packed, &len, zero, big, 9), Z_OK);
    assert_true(H5Dwrite_chunk(x, H5P_DEFAULT, 0, last, len, packed) >= 0);
    free(zero);
    free(packed);
    H5Dclose(x);
    H5Sclose(sp);
    H5Pclose(pl);
    H5Fclose(f);
}

/* The weights file above: the probe's child counts the chunks of the two
 * values it reads before libhdf5 inflates them, and refuses the file as a
 * bomb (it inflated it, 1 GB per rank, and blamed memory). */
static void test_h5_probe_counts_its_chunks(void **state)
{
    (void)state;
    const char *p = sn_test_path("wbomb.h5");
    write_last_chunk_bomb(p);
    assert_int_equal(sn_h5_probe_all(p), SN_EINVAL);
    if (!strstr(sn_errmsg(), "wbomb.h5: the first or last chunk of one of its compressed arrays "
                             "does not unpack to the chunk's own size: a decompression bomb"))
        fail_msg("%s", sn_errmsg());
}

/* A read counts the chunks of the rows it reads, each once: rows far from
 * the bomb read (counting every chunk at the first read of one row cost a
 * 60 MB file 28 s before its first step), the bomb's rows are refused
 * before libhdf5 inflates them, whenever they are read. */
static void test_h5_counts_the_chunks_it_reads(void **state)
{
    (void)state;
    const char *p = sn_test_path("rbomb.h5");
    write_last_chunk_bomb(p);
    struct sn_h5 *f = NULL;
    float rows[64 * 8];
    assert_int_equal(sn_h5_open(p, &f), SN_OK);
    for (int again = 0; again < 2; again++) {
        assert_int_equal(sn_h5_read_block(f, "/w", 0, 16, 8, SN_H5_F32, rows), SN_OK);
        assert_int_equal(sn_h5_read_block(f, "/w", 40, 16, 8, SN_H5_F32, rows), SN_OK);
        const int32_t pick[3] = { 3, 30, 57 };
        assert_int_equal(sn_h5_read_rows(f, "/w", pick, 3, 8, SN_H5_F32, rows), SN_EINVAL);
        if (!strstr(sn_errmsg(), "/w has a compressed chunk") ||
            !strstr(sn_errmsg(), "inflates past the chunk's own 256 bytes"))
            fail_msg("%s", sn_errmsg());
        assert_int_equal(sn_h5_read_block(f, "/w", 0, 64, 8, SN_H5_F32, rows), SN_EINVAL);
    }
    sn_h5_close(f);
    /* changed while open: a chmod and a link write nothing, and a touch
     * only dates it (scratch file systems' purge guard): the reads go on,
     * the bomb's chunk still refused when reached (the counts start
     * again: a chunk counted before may have been written in place);
     * another size stops the next read */
    assert_int_equal(sn_h5_open(p, &f), SN_OK);
    assert_int_equal(sn_h5_read_block(f, "/w", 0, 16, 8, SN_H5_F32, rows), SN_OK);
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "chmod 600 '%s' && ln -f '%s' '%s.ln' && touch -d '1 hour ago' "
             "'%s'", p, p, p, p);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(sn_h5_read_block(f, "/w", 0, 16, 8, SN_H5_F32, rows), SN_OK);
    assert_int_equal(sn_h5_read_block(f, "/w", 0, 64, 8, SN_H5_F32, rows), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "inflates past the chunk's own 256 bytes"));
    snprintf(cmd, sizeof cmd, "printf x >> '%s'", p);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(sn_h5_read_block(f, "/w", 0, 16, 8, SN_H5_F32, rows), SN_EINVAL);
    if (!strstr(sn_errmsg(), "rbomb.h5: the file changed while this command read it"))
        fail_msg("%s", sn_errmsg());
    sn_h5_close(f);
}

/* A dataset made in memory from a library caller's arrays: NULL arrays and
 * shapes no sample can have are errors naming them (round 70 F1, F5: NULL
 * crashed in memcpy, (-2,3) was taken, 65536^4 values overflowed to 0). */
static void test_dataset_from_memory_checked(void **state)
{
    (void)state;
    float x[16 * 4] = { 0 };
    int32_t y[16] = { 0 };
    struct sn_dataset *d = NULL;
    const struct sn_shape ok = sn_shape_make(4, 0, 0, 0);
    assert_int_equal(sn_dataset_from_memory("m", ok, NULL, y, 16, &d), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "x is NULL"));
    assert_int_equal(sn_dataset_from_memory("m", ok, x, NULL, 16, &d), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "y is NULL"));
    assert_int_equal(sn_dataset_from_memory("m", ok, x, y, 16, NULL), SN_EINVAL);
    const struct sn_shape neg = { .ndim = 2, .d = { -2, 3 } };
    assert_int_equal(sn_dataset_from_memory("m", neg, x, y, 16, &d), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "m: samples of shape -2x3 cannot be made"));
    const struct sn_shape huge = { .ndim = 4, .d = { 65536, 65536, 65536, 65536 } };
    assert_int_equal(sn_dataset_from_memory("m", huge, x, y, 16, &d), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "at most 67108864 values"));
    assert_int_equal(sn_dataset_from_memory("m", ok, x, y, 0, &d), SN_EINVAL);
    assert_null(d);
    x[2 * 4 + 1] = NAN;   /* trained, and blamed on the learning rate */
    assert_int_equal(sn_dataset_from_memory("m", ok, x, y, 16, &d), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "m: row 2 holds a value that is not finite (nan, value "
                                        "1 of the row)"));
    x[2 * 4 + 1] = 0;
    assert_int_equal(sn_dataset_from_memory("m", ok, x, y, 16, &d), SN_OK);
    sn_dataset_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset_reads_rows),
        cmocka_unit_test(test_dataset_from_memory_checked),
        cmocka_unit_test(test_h5_write_stoppable),
        cmocka_unit_test(test_h5_probe_fresh_child),
        cmocka_unit_test(test_h5_probe_then_replaced),
        cmocka_unit_test(test_h5_probe_counts_its_chunks),
        cmocka_unit_test(test_h5_counts_the_chunks_it_reads),
        cmocka_unit_test(test_dataset_normalises_and_targets),
        cmocka_unit_test(test_dataset_check_labels),
        cmocka_unit_test(test_dataset_labels_changed_during_run),
        cmocka_unit_test(test_dataset_unchecked_split_not_blamed),
        cmocka_unit_test(test_dataset_rejects_bad_files),
        cmocka_unit_test(test_dataset_prep_mismatch_named),
        cmocka_unit_test(test_dataset_prep_precedence),
        cmocka_unit_test(test_dataset_prep_per_feature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
