/* test_datacheck: the commands say so when an answer would silently be
 * wrong: train refuses splits prepared differently (or warns when allowed),
 * accepts per-feature mean/std on table data and applies them, eval and
 * predict warn when the weights were trained on other classes or another
 * preparation, and train warns about a small per-rank batch. */
#include "testutil.h"

#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "core/status.h"
#include "io/h5.h"

#define BIN SN_TEST_BIN

static const char *mpirun(void)
{
    const char *m = getenv("SN_MPIRUN");
    return m ? m : "mpirun --oversubscribe";
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *out_text(void) { return sn_test_slurp(sn_test_path("out.txt")); }
static char *err_text(void) { return sn_test_slurp(sn_test_path("err.txt")); }

static int count(const char *s, const char *word)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, word)); p++)
        n++;
    return n;
}

/* The warnings in err about the data: a run without --out also says it
 * keeps nothing, which these runs do not need. */
static int data_warnings(const char *err)
{
    return sn_test_warnings(err) - count(err, "scratchnet: warning: kept: nothing");
}

static const char table_cfg[] =
    "[net]\ninput = 8\nbatch = 24\nepochs = 4\noptimizer = adam\nlr = 0.01\nseed = 3\n"
    "[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n";

static int setup(void **state)
{
    (void)state;
    if (sn_test_use_bin() != 0)
        return -1;
    write_text(sn_test_path("table.cfg"), table_cfg);
    return 0;
}

/* Three blobs of 8 features (class c = row mod 3), feature j stored as
 * 100 j + 10^(j mod 4) * value: the features' ranges differ by 1000x.
 * uint8 instead (values 0..255, scale on /train/x only) with u8. */
static void write_table(const char *path, bool per_feature_root, bool u8_train_scale_only)
{
    enum { F = 8, K = 3 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 31, 2);
    double mean[F], std[F];
    for (int j = 0; j < F; j++) {
        mean[j] = 100.0 * j;
        std[j] = j % 4 == 0 ? 1 : j % 4 == 1 ? 10 : j % 4 == 2 ? 100 : 1000;
    }
    for (int split = 0; split < 2; split++) {
        size_t n = split ? 120 : 480, xd[2] = { n, F };
        float *x = malloc(n * F * sizeof *x);
        uint8_t *xu = malloc(n * F);
        int32_t *y = malloc(n * sizeof *y);
        for (size_t i = 0; i < n; i++) {
            int c = (int)(i % K);
            y[i] = c;
            for (int j = 0; j < F; j++) {
                float v = 0.7f * sn_rng_normal(&r) + (j % K == c ? 2.0f : -1.0f);
                x[i * F + j] = (float)(mean[j] + std[j] * v);
                int u = (int)(128 + 40 * v);
                xu[i * F + j] = (uint8_t)(u < 0 ? 0 : u > 255 ? 255 : u);
            }
        }
        const char *xp = split ? "/test/x" : "/train/x", *yp = split ? "/test/y" : "/train/y";
        assert_int_equal(sn_h5_write(f, xp, 2, xd, u8_train_scale_only ? SN_H5_U8 : SN_H5_F32,
                                     u8_train_scale_only ? (void *)xu : (void *)x), SN_OK);
        assert_int_equal(sn_h5_write(f, yp, 1, xd, SN_H5_I32, y), SN_OK);
        double scale = 1.0 / 255.0;
        if (u8_train_scale_only && !split)
            assert_int_equal(sn_h5_attr_set_f64(f, xp, "scale", &scale, 1), SN_OK);
        free(x);
        free(xu);
        free(y);
    }
    if (per_feature_root) {
        assert_int_equal(sn_h5_attr_set_f64(f, "/", "mean", mean, F), SN_OK);
        assert_int_equal(sn_h5_attr_set_f64(f, "/", "std", std, F), SN_OK);
    }
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* The reproduced mismatch: scale on /train/x only.  train stops with exit
 * 2 naming both splits and values; --allow-split-preprocessing trains
 * with one warning line. */
static void test_datacheck_split_scale_mismatch(void **state)
{
    (void)state;
    write_table(sn_test_path("trainscale.h5"), false, true);
    int rc = sn_test_run(BIN " train --model %s --data %s --out %s --threads 1",
                         sn_test_path("table.cfg"), sn_test_path("trainscale.h5"),
                         sn_test_path("never.h5"));
    char *err = err_text();
    if (rc != 2)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 2);
    assert_int_equal(count(err, "scratchnet: error:"), 1);
    assert_non_null(strstr(err, "/train/x is scaled by 0.00392157 (its own attribute)"));
    assert_non_null(strstr(err, "/test/x is scaled by 1 (no attribute)"));
    assert_non_null(strstr(err, "--allow-split-preprocessing"));
    free(err);
    struct stat st;
    assert_int_not_equal(stat(sn_test_path("never.h5"), &st), 0);
    /* the same at 2 ranks: one message, exit 2 */
    rc = sn_test_run("%s -np 2 " BIN " train --model %s --data %s --threads 1", mpirun(),
                     sn_test_path("table.cfg"), sn_test_path("trainscale.h5"));
    assert_int_equal(rc, 2);
    err = err_text();
    assert_int_equal(count(err, "/test/x is scaled by 1"), 1);
    free(err);
    rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --epochs 1 --quiet "
                     "--allow-split-preprocessing", sn_test_path("table.cfg"),
                     sn_test_path("trainscale.h5"));   /* --quiet keeps warnings */
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "allowed by --allow-split-preprocessing"));
    free(err);
}

/* Table data: 8 values of mean and std on the file for input = 8 are
 * accepted, applied (the 1000x feature ranges train as well as unit ones)
 * and kept in the weights for predict. */
static void test_datacheck_table_per_feature(void **state)
{
    (void)state;
    write_table(sn_test_path("table.h5"), true, false);
    int rc = sn_test_run(BIN " train --model %s --data %s --out %s --threads 1",
                         sn_test_path("table.cfg"), sn_test_path("table.h5"),
                         sn_test_path("wtable.h5"));
    char *out = out_text();
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, err_text());
    assert_int_equal(rc, 0);
    const char *last = strstr(out, "epoch 4/4");
    assert_non_null(last);
    double acc = 0;
    const char *t = strstr(last, "test loss");
    assert_non_null(t);
    assert_int_equal(sscanf(strstr(t, "acc ") + 4, "%lf", &acc), 1);
    assert_true(acc >= 95.0);
    free(out);
    struct sn_h5 *f;
    double v[16];
    size_t n = 0;
    assert_int_equal(sn_h5_open(sn_test_path("wtable.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_attr_get_f64(f, "/model", "input_std", v, 16, &n), SN_OK);
    sn_h5_close(f);
    assert_int_equal(n, 8);
    assert_float_equal(v[3], 1000.0, 0);
    /* the weights on their own data: no warning */
    rc = sn_test_run(BIN " eval --weights %s --data %s", sn_test_path("wtable.h5"),
                     sn_test_path("table.h5"));
    assert_int_equal(rc, 0);
    char *err = err_text();
    assert_int_equal(sn_test_warnings(err), 0);
    free(err);
    /* --model with another activation: the values load, with a warning;
     * with the same layers and other training settings, none */
    char *text = strdup(table_cfg);
    memcpy(strstr(text, "relu"), "tanh", 4);
    write_text(sn_test_path("tanh.cfg"), text);
    free(text);
    rc = sn_test_run(BIN " eval --weights %s --data %s --model %s", sn_test_path("wtable.h5"),
                     sn_test_path("table.h5"), sn_test_path("tanh.cfg"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_non_null(strstr(err, "tanh.cfg differ from the model file"));
    free(err);
    rc = sn_test_run(BIN " eval --weights %s --data %s --model %s --batch 7",
                     sn_test_path("wtable.h5"), sn_test_path("table.h5"), sn_test_path("table.cfg"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(sn_test_warnings(err), 0);
    free(err);
    /* weights with a batchnorm between the denses, --model without it (the
     * head named in both): the arrays no layer reads are named (hostile
     * round 74 F3) */
    const char *cut = strstr(table_cfg, "[dense]\nunits = 3");
    text = malloc(sizeof table_cfg + 64);
    snprintf(text, sizeof table_cfg + 64, "%.*s[dense]\nname = head\n%s", (int)(cut - table_cfg),
             table_cfg, cut + 8);
    write_text(sn_test_path("head.cfg"), text);
    snprintf(text, sizeof table_cfg + 64, "%.*s[batchnorm]\n[dense]\nname = head\n%s",
             (int)(cut - table_cfg), table_cfg, cut + 8);
    write_text(sn_test_path("bn.cfg"), text);
    free(text);
    rc = sn_test_run(BIN " train --model %s --data %s --steps 2 --quiet --out %s",
                     sn_test_path("bn.cfg"), sn_test_path("table.h5"), sn_test_path("wbn.h5"));
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " eval --weights %s --data %s --model %s", sn_test_path("wbn.h5"),
                     sn_test_path("table.h5"), sn_test_path("head.cfg"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_non_null(strstr(err, "head.cfg reads /params/batchnorm1 of "));
    free(err);
    /* --model reading each example in another shape (the parameters fit):
     * a warning naming both */
    text = strdup(table_cfg);
    memcpy(strstr(text, "input = 8\n"), "input=2,4\n", 10);
    write_text(sn_test_path("shape24.cfg"), text);
    free(text);
    rc = sn_test_run(BIN " eval --weights %s --data %s --model %s", sn_test_path("wtable.h5"),
                     sn_test_path("table.h5"), sn_test_path("shape24.cfg"));
    err = err_text();
    if (rc != 0 || !strstr(err, "shape24.cfg reads inputs of 2x4, the model ") ||
        !strstr(err, "was trained with read 8"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
    /* another loss: mse's raw outputs for cross_entropy's softmax */
    write_text(sn_test_path("mse8.cfg"), "[net]\ninput = 8\nbatch = 24\nloss = mse\n"
               "optimizer = adam\nlr = 0.01\n[dense]\nunits = 16\nactivation = relu\n"
               "[dense]\nunits = 3\n");
    rc = sn_test_run(BIN " eval --weights %s --data %s --model %s", sn_test_path("wtable.h5"),
                     sn_test_path("table.h5"), sn_test_path("mse8.cfg"));
    err = err_text();
    if (!strstr(err, "mse8.cfg has loss mse, the model ") ||
        !strstr(err, "was trained with cross_entropy"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
    rc = sn_test_run(BIN " eval --weights %s --data %s", sn_test_path("wtable.h5"),
                     sn_test_path("table.h5"));
    out = out_text();
    char *line = strdup(strstr(out, "test: "));
    *strchr(line, '\n') = '\0';
    free(out);

    /* a held-out file of /test alone (and the root's mean and std) is
     * evaluated as the same split of the whole file; --split train is refused */
    enum { N = 120, F = 8 };
    static float x[N * F];
    static int32_t y[N];
    double mean[F], std[F];
    assert_int_equal(sn_h5_open(sn_test_path("table.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/test/x", SN_H5_F32, x, N * F), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/test/y", SN_H5_I32, y, N), SN_OK);
    assert_int_equal(sn_h5_attr_get_f64(f, "/", "mean", mean, F, &n), SN_OK);
    assert_int_equal(sn_h5_attr_get_f64(f, "/", "std", std, F, &n), SN_OK);
    sn_h5_close(f);
    size_t xd[2] = { N, F };
    assert_int_equal(sn_h5_create(sn_test_path("testonly.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/x", 2, xd, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/y", 1, xd, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "mean", mean, F), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "std", std, F), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    rc = sn_test_run(BIN " eval --weights %s --data %s", sn_test_path("wtable.h5"),
                     sn_test_path("testonly.h5"));
    assert_int_equal(rc, 0);
    out = out_text();
    assert_non_null(strstr(out, line));
    free(out);
    free(line);
    rc = sn_test_run(BIN " eval --weights %s --data %s --split train", sn_test_path("wtable.h5"),
                     sn_test_path("testonly.h5"));
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "testonly.h5: dataset /train/x is missing"));
    free(err);
}

/* A grey w x h PNG of value v at path. */
static void png(const char *path, int w, int h, unsigned char v)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_GRAY;
    unsigned char px[64 * 64];
    memset(px, v, sizeof px);
    assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

/* A "Fashion-MNIST model" (its ten class names, 1x8x8 grey scaled by
 * 1/255) used on a 3-class folder dataset: eval and predict print their
 * results and one warning line naming both class lists; on data scaled
 * otherwise, one naming both preparations. */
static void test_datacheck_weights_of_other_data(void **state)
{
    (void)state;
    enum { S = 8, N = 200 };
    static const char *const fm[10] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(sn_test_path("fm.h5"), &f), SN_OK);
    uint8_t *x = malloc((size_t)N * S * S);
    int32_t y[N];
    struct sn_rng r;
    sn_rng_seed(&r, 4, 4);
    for (int i = 0; i < N; i++) {
        y[i] = i % 10;
        for (int p = 0; p < S * S; p++)
            x[i * S * S + p] = (uint8_t)(p % 10 == y[i] ? 220 : sn_rng_u32(&r) % 60);
    }
    sn_test_write_u8(f, "train", N, S, S, x, y);
    sn_test_write_u8(f, "test", N, S, S, x, y);
    assert_int_equal(sn_h5_attr_set_strs(f, "/", "classes", fm, 10), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    free(x);
    write_text(sn_test_path("fm.cfg"), "[net]\ninput = 1,8,8\nbatch = 20\nepochs = 2\n"
               "optimizer = adam\nlr = 0.01\n[dense]\nunits = 10\n");
    int rc = sn_test_run(BIN " train --model %s --data %s --out %s --quiet --threads 1",
                         sn_test_path("fm.cfg"), sn_test_path("fm.h5"), sn_test_path("wfm.h5"));
    assert_int_equal(rc, 0);
    /* three classes of 8x8 grey PNGs, converted like a user's folder */
    static const char *const three[3] = { "bird", "cat", "dog" };
    for (int c = 0; c < 3; c++) {
        char dir[2048], file[2200];
        snprintf(dir, sizeof dir, "%s/three/%s", sn_test_tmpdir(), three[c]);
        assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
        for (int i = 0; i < 4; i++) {
            snprintf(file, sizeof file, "%s/%d.png", dir, i);
            png(file, S, S, (unsigned char)(40 * c + 10 * i));
        }
    }
    rc = sn_test_run("cp -r %s/three %s/three_test && " BIN " convert folder %s/three --test "
                     "%s/three_test -o %s", sn_test_tmpdir(), sn_test_tmpdir(), sn_test_tmpdir(),
                     sn_test_tmpdir(), sn_test_path("three.h5"));
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " eval --weights %s --data %s", sn_test_path("wfm.h5"),
                     sn_test_path("three.h5"));
    assert_int_equal(rc, 0);
    char *out = out_text(), *err = err_text();
    assert_non_null(strstr(out, "test: 12 examples"));
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "was trained on the classes (T-shirt/top, Trouser, Pullover, "
                                "Dress, ... 10 names)"));
    assert_non_null(strstr(err, "three.h5 names (bird, cat, dog)"));
    free(out);
    free(err);
    rc = sn_test_run(BIN " predict --weights %s --input %s -o %s", sn_test_path("wfm.h5"),
                     sn_test_path("three.h5"), sn_test_path("p.csv"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "three.h5 names (bird, cat, dog)"));
    free(err);
    /* the model's own classes, but floats in 0..255 without a scale */
    assert_int_equal(sn_h5_create(sn_test_path("raw.h5"), &f), SN_OK);
    float *xf = calloc((size_t)N * S * S, sizeof *xf);
    size_t xd[4] = { N, 1, S, S };
    assert_int_equal(sn_h5_write(f, "/train/x", 4, xd, SN_H5_F32, xf), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, xd, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_attr_set_strs(f, "/", "classes", fm, 10), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    free(xf);
    rc = sn_test_run("%s -np 2 " BIN " eval --weights %s --data %s --split train", mpirun(),
                     sn_test_path("wfm.h5"), sn_test_path("raw.h5"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "prepared with scale 0.00392157, no mean/std but"));
    assert_non_null(strstr(err, "raw.h5 /train/x has scale 1, no mean/std"));
    free(err);
    /* train --init from those weights on that data: the same warning (not
     * the classes': a new head may learn others), also with --quiet */
    rc = sn_test_run(BIN " train --model %s --data %s --init %s --steps 1 --quiet --threads 1",
                     sn_test_path("fm.cfg"), sn_test_path("raw.h5"), sn_test_path("wfm.h5"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "wfm.h5 was trained on inputs prepared with scale 0.00392157"));
    free(err);
    /* and its own data: silent */
    rc = sn_test_run(BIN " eval --weights %s --data %s", sn_test_path("wfm.h5"),
                     sn_test_path("fm.h5"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(sn_test_warnings(err), 0);
    free(err);
}

/* 2 ranks of 12 examples: a warning naming the numbers; of 32: none. */
static void test_datacheck_small_rank_batch(void **state)
{
    (void)state;
    write_table(sn_test_path("table2.h5"), true, false);
    int rc = sn_test_run("%s -np 2 " BIN " train --model %s --data %s --threads 1 --epochs 1",
                         mpirun(), sn_test_path("table.cfg"), sn_test_path("table2.h5"));
    assert_int_equal(rc, 0);
    char *err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "each of the 2 ranks computes 12 examples per step (global "
                                "batch 24): below 16 per rank"));
    free(err);
    rc = sn_test_run("%s -np 2 " BIN " train --model %s --data %s --threads 1 --epochs 1 "
                     "--batch 64", mpirun(), sn_test_path("table.cfg"), sn_test_path("table2.h5"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(data_warnings(err), 0);
    free(err);
}

/* A train split of n uint8 samples of dims[1..3] with labels y and the
 * attribute scale. */
static void write_u8(const char *path, const size_t dims[4], const uint8_t *x, const int32_t *y,
                     double scale)
{
    struct sn_h5 *f;
    size_t yd[1] = { dims[0] };
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 4, dims, SN_H5_U8, x), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/train/x", "scale", &scale, 1), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

enum { RAW_N = 40 };

/* RAW_N images of 1 x 2 x 2 uint8 pixels, two classes (dark, bright),
 * and raw.cfg, a model for them. */
static void two_class_pixels(uint8_t x[RAW_N * 4], int32_t y[RAW_N])
{
    for (int i = 0; i < RAW_N; i++) {
        y[i] = i % 2;
        for (int p = 0; p < 4; p++)
            x[i * 4 + p] = (uint8_t)(y[i] ? 200 + p : 20 + p);
    }
    write_text(sn_test_path("raw.cfg"), "[net]\ninput = 1,2,2\nbatch = 8\noptimizer = sgd\n"
               "lr = 0.01\n[dense]\nunits = 2\n");
}

/* uint8 pixels without a scale attribute reach the model as 0 .. 255:
 * train says so once; floats already in 0..1 given scale 1/255 too (scaled
 * twice) are said too; with scale 1, or values up to 255, nothing is said
 * (a file without either gets no word: the counts above). */
static void test_datacheck_raw_pixels(void **state)
{
    (void)state;
    uint8_t x[RAW_N * 4];
    int32_t y[RAW_N];
    two_class_pixels(x, y);
    const size_t xd[4] = { RAW_N, 1, 2, 2 }, yd[1] = { RAW_N };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(sn_test_path("raw.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 4, xd, SN_H5_U8, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    int rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --steps 2",
                         sn_test_path("raw.cfg"), sn_test_path("raw.h5"));
    assert_int_equal(rc, 0);
    char *err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "raw.h5 /train/x holds uint8 values without a scale attribute"));
    free(err);
    float xf[RAW_N * 4];
    for (int k = 0; k < 3; k++) {
        const double sc = k == 1 ? 1.0 : 1.0 / 255.0;
        for (int i = 0; i < RAW_N * 4; i++)
            xf[i] = (float)x[i] / (k == 2 ? 1.0f : 255.0f);
        assert_int_equal(sn_h5_create(sn_test_path("dbl.h5"), &f), SN_OK);
        assert_int_equal(sn_h5_write(f, "/train/x", 4, xd, SN_H5_F32, xf), SN_OK);
        assert_int_equal(sn_h5_attr_set_f64(f, "/train/x", "scale", &sc, 1), SN_OK);
        assert_int_equal(sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
        assert_int_equal(sn_h5_close(f), SN_OK);
        rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --steps 2",
                         sn_test_path("raw.cfg"), sn_test_path("dbl.h5"));
        assert_int_equal(rc, 0);
        err = err_text();
        assert_int_equal(data_warnings(err), k == 0);
        if (k == 0)
            assert_non_null(strstr(err, "dbl.h5 /train/x holds float values from 0.0784314 to "
                                        "0.796078 and has scale 0.00392157: the model sees them "
                                        "from 0.000308 to 0.00312 (scaled twice?"));
        free(err);
    }
}

/* A scale on the split's group, a Scale on its x, classes on /train/y: each
 * named as not read, beside the warning of raw pixels (hostile round 74
 * F4); a mean on /train/y, the targets' own, is not (round 75 F3) */
static void test_datacheck_stray_attributes(void **state)
{
    (void)state;
    uint8_t x[RAW_N * 4];
    int32_t y[RAW_N];
    two_class_pixels(x, y);
    const size_t xd[4] = { RAW_N, 1, 2, 2 }, yd[1] = { RAW_N };
    const double sc = 1.0 / 255.0;
    static const char *const where[][2] = { { "/train", "scale" }, { "/train/x", "Scale" },
                                            { "/train/y", "classes" }, { "/train/y", "mean" } };
    for (int k = 0; k < 4; k++) {
        struct sn_h5 *f;
        assert_int_equal(sn_h5_create(sn_test_path("stray.h5"), &f), SN_OK);
        assert_int_equal(sn_h5_write(f, "/train/x", 4, xd, SN_H5_U8, x), SN_OK);
        assert_int_equal(sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
        assert_int_equal(sn_h5_attr_set_f64(f, where[k][0], where[k][1], &sc, 1), SN_OK);
        if (k >= 2)   /* read where it is: no warning of raw pixels */
            assert_int_equal(sn_h5_attr_set_f64(f, "/train/x", "scale", &sc, 1), SN_OK);
        assert_int_equal(sn_h5_close(f), SN_OK);
        int rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --steps 2",
                             sn_test_path("raw.cfg"), sn_test_path("stray.h5"));
        assert_int_equal(rc, 0);
        char *err = err_text(), want[120];
        snprintf(want, sizeof want, "stray.h5: attribute %s of %s is not read: ", where[k][1],
                 where[k][0]);
        /* the targets' own statistics on y (a regression's): no warning */
        assert_true(k == 3 ? !strstr(err, "is not read") : strstr(err, want) != NULL);
        assert_int_equal(data_warnings(err), k == 3 ? 0 : k == 2 ? 1 : 2);
        free(err);
    }
}

/* Channels-last images fit a channels-first model in number only: train,
 * eval and predict say so once; one channel stored last (2 x 2 x 1) is the
 * same values in the same order as 1 x 2 x 2: nothing said. */
static void test_datacheck_channels_last(void **state)
{
    (void)state;
    uint8_t x[RAW_N * 4];
    int32_t y[RAW_N];
    two_class_pixels(x, y);
    int rc;
    char *err;
    size_t hd[4] = { RAW_N, 2, 2, 1 };
    double scale = 1.0 / 255.0;
    write_u8(sn_test_path("hw1.h5"), hd, x, y, scale);
    rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --steps 2",
                     sn_test_path("raw.cfg"), sn_test_path("hw1.h5"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(data_warnings(err), 0);
    free(err);
    /* three channels stored last (2 x 2 x 3) for a model of 3 x 2 x 2 */
    uint8_t x3[RAW_N * 12];
    for (int i = 0; i < RAW_N * 12; i++)
        x3[i] = (uint8_t)(y[i / 12] ? 200 + i % 12 : 20 + i % 12);
    size_t cd[4] = { RAW_N, 3, 2, 2 }, ld[4] = { RAW_N, 2, 2, 3 };
    write_u8(sn_test_path("chw3.h5"), cd, x3, y, scale);
    write_u8(sn_test_path("hwc.h5"), ld, x3, y, scale);
    write_text(sn_test_path("rgb.cfg"), "[net]\ninput = 3,2,2\nbatch = 8\noptimizer = sgd\n"
               "lr = 0.01\n[dense]\nunits = 2\n");
    rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --steps 2",
                     sn_test_path("rgb.cfg"), sn_test_path("hwc.h5"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "hwc.h5 /train/x holds samples of 2x2x3, the model reads 3x2x2"));
    free(err);
    /* eval and predict of channels-first weights on it say so too */
    rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --steps 2 --quiet --out %s",
                     sn_test_path("rgb.cfg"), sn_test_path("chw3.h5"), sn_test_path("chw.h5"));
    assert_int_equal(rc, 0);
    const char *looks[] = { " eval --weights %s --data %s --split train",
                            " predict --weights %s --input %s -o %s.csv" };
    for (int i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s%s", BIN, looks[i]);
        rc = sn_test_run(cmd, sn_test_path("chw.h5"), sn_test_path("hwc.h5"),
                         sn_test_path("hwc_pred"));
        assert_int_equal(rc, 0);
        err = err_text();
        assert_non_null(strstr(err, "hwc.h5 /train/x holds samples of 2x2x3, the model reads "
                                    "3x2x2"));
        free(err);
    }
}

/* A model file written H,W,C for data stored so: the shapes agree, the
 * network runs over the wrong axes; the model file is named. */
static void test_datacheck_hwc_model_file(void **state)
{
    (void)state;
    uint8_t x[RAW_N * 4];
    int32_t y[RAW_N];
    two_class_pixels(x, y);
    const double scale = 1.0 / 255.0;
    uint8_t x6[RAW_N * 108];
    for (int i = 0; i < RAW_N * 108; i++)
        x6[i] = (uint8_t)(y[i / 108] ? 200 : 20);
    size_t d6[4] = { RAW_N, 6, 6, 3 };
    write_u8(sn_test_path("hwc6.h5"), d6, x6, y, scale);
    write_text(sn_test_path("hwc6.cfg"), "[net]\ninput = 6,6,3\nbatch = 8\noptimizer = sgd\n"
               "lr = 0.01\n[dense]\nunits = 2\n");
    int rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --steps 2",
                     sn_test_path("hwc6.cfg"), sn_test_path("hwc6.h5"));
    assert_int_equal(rc, 0);
    char *err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "hwc6.cfg: [net] input = 6,6,3 reads as C,H,W: 6 channels of "
                                "6x3; images of 6x6 with 3 channels are input = 3,6,6, their "
                                "data (N, 3, 6, 6)"));
    free(err);
}

/* Sequences stored features first, (N, F, T), for a model of T,F: the same
 * values in another order, said. */
static void test_datacheck_sequence_order(void **state)
{
    (void)state;
    uint8_t x[RAW_N * 4];
    int32_t y[RAW_N];
    two_class_pixels(x, y);
    const size_t yd[1] = { RAW_N };
    struct sn_h5 *f;
    float xs[RAW_N * 15];
    for (int i = 0; i < RAW_N * 15; i++)
        xs[i] = y[i / 15] ? 0.5f : -0.5f;
    size_t sd[3] = { RAW_N, 3, 5 };
    assert_int_equal(sn_h5_create(sn_test_path("seqft.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 3, sd, SN_H5_F32, xs), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    write_text(sn_test_path("seq.cfg"), "[net]\ninput = 5,3\nbatch = 8\noptimizer = sgd\n"
               "lr = 0.01\n[rnn]\nunits = 4\n[dense]\nunits = 2\n");
    int rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --steps 2",
                     sn_test_path("seq.cfg"), sn_test_path("seqft.h5"));
    assert_int_equal(rc, 0);
    char *err = err_text();
    assert_int_equal(data_warnings(err), 1);
    assert_non_null(strstr(err, "seqft.h5 /train/x holds samples of 3x5, the model reads 5x3: "
                                "the same values in another order (sequences stored features "
                                "first, F x T, or a model whose input is written so?)"));
    free(err);
}

/* The HDF5 probe (io/h5.c) whatever the environment it starts in: its
 * words left in a user's environment change nothing (with or without a
 * parent pid that is not the command's parent, train runs, and probes its
 * dataset with words of its own), and a SIGCHLD left ignored does not lose
 * its verdict (a 40-deep file is still refused, not opened); started
 * through the dynamic loader (`ld.so scratchnet`), the probe runs the
 * program the loader was given, not the loader. */
static void test_datacheck_probe_environment(void **state)
{
    (void)state;
    write_table(sn_test_path("table4.h5"), true, false);
    /* no parent; a parent that is not this one; the parent of a process
     * whose parent is outside its pid namespace (getppid() is 0: an empty
     * word parsed as 0 once matched); the true parent's pid, without the
     * file's descriptor a probe's parent hands over */
    const char *words[] = { "SN_H5_PROBE=dataset SN_H5_PROBE_FILE=/nonexistent.h5 "
                            "SN_H5_PROBE_ARG=train",
                            "SN_H5_PROBE=all SN_H5_PROBE_FILE=/nonexistent.h5 "
                            "SN_H5_PROBE_PARENT=1",
                            "SN_H5_PROBE=all SN_H5_PROBE_FILE=/nonexistent.h5 "
                            "SN_H5_PROBE_PARENT= unshare -p -f",
                            "SN_H5_PROBE=all SN_H5_PROBE_FILE=/nonexistent.h5 "
                            "SN_H5_PROBE_PARENT=$$" };
    for (int i = 0; i < 4; i++) {
        if (i == 2 && sn_test_run("unshare -p -f true") != 0)
            continue;   /* not root: no pid namespace to try */
        int rc = sn_test_run("%s " BIN " train --model %s --data %s --threads 1 --epochs 1",
                             words[i], sn_test_path("table.cfg"), sn_test_path("table4.h5"));
        assert_int_equal(rc, 0);
        char *out = out_text();
        assert_non_null(strstr(out, "test loss"));
        free(out);
    }
    /* a shell that exports the words with its own pid and holds a
     * descriptor 3 is no probe's parent: the command runs */
    int rc0 = sn_test_run("sh -c 'exec 3<%s; export SN_H5_PROBE=all SN_H5_PROBE_FILE=%s "
                          "SN_H5_PROBE_PARENT=$$; " BIN " train --model %s --data %s --threads 1 "
                          "--epochs 1; exit $?'", sn_test_path("table4.h5"),
                          sn_test_path("table4.h5"), sn_test_path("table.cfg"),
                          sn_test_path("table4.h5"));
    char *out0 = out_text();
    if (rc0 != 0 || !strstr(out0, "test loss"))
        fail_msg("words, parent pid and fd 3 from a shell: exit %d: %s", rc0, out0);
    free(out0);
    char deep[256] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "/g");
    strcat(deep, "/x");
    struct sn_h5 *f;
    float one = 1;
    size_t dims[1] = { 1 };
    assert_int_equal(sn_h5_create(sn_test_path("deep.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, deep, 1, dims, SN_H5_F32, &one), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    int rc = sn_test_run("env --ignore-signal=CHLD " BIN " info --weights %s",
                         sn_test_path("deep.h5"));
    assert_int_equal(rc, 2);
    char *err = err_text();
    assert_non_null(strstr(err, "deep.h5: it nests groups more than 32 deep"));
    free(err);
    const char *loader = "/lib64/ld-linux-x86-64.so.2";
    if (access(loader, X_OK) != 0)
        return;
    rc = sn_test_run("%s " BIN " train --model %s --data %s --threads 1 --epochs 1", loader,
                     sn_test_path("table.cfg"), sn_test_path("table4.h5"));
    assert_int_equal(rc, 0);
    rc = sn_test_run("%s " BIN " info --weights %s", loader, sn_test_path("deep.h5"));
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "deep.h5: it nests groups more than 32 deep"));
    free(err);
}

/* A 15 KB weights file damaged in 4 bytes on which libhdf5 takes 2.1 GB
 * and about 9 s of CPU to read what info reads, and would again in the
 * command: the probe's child is stopped at its CPU limit (8 s), or, on a
 * faster machine, measures its peak; either way the file is refused.
 * Run without a memory limit: under one, libhdf5's large allocation fails
 * and it reads the file in 0.5 s. */
static void test_datacheck_probe_memory(void **state)
{
    (void)state;
    int rc = sn_test_run(BIN " info --weights tests/cli/fixtures/hdf5-bloat.h5");
    assert_int_equal(rc, 2);
    char *err = err_text();
    assert_int_equal(count(err, "scratchnet: error:"), 1);
    /* the sanitizers' own memory use, or their slowness, may name it otherwise */
    if (!getenv("SN_SANITIZE"))
        assert_true(strstr(err, "hdf5-bloat.h5: libhdf5 needed more than 1024 MB of memory") ||
                    strstr(err, "hdf5-bloat.h5: damaged HDF5 file: libhdf5 ran for 8 s of CPU"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datacheck_split_scale_mismatch),
        cmocka_unit_test(test_datacheck_table_per_feature),
        cmocka_unit_test(test_datacheck_weights_of_other_data),
        cmocka_unit_test(test_datacheck_small_rank_batch),
        cmocka_unit_test(test_datacheck_raw_pixels),
        cmocka_unit_test(test_datacheck_stray_attributes),
        cmocka_unit_test(test_datacheck_channels_last),
        cmocka_unit_test(test_datacheck_hwc_model_file),
        cmocka_unit_test(test_datacheck_sequence_order),
        cmocka_unit_test(test_datacheck_probe_environment),
        cmocka_unit_test(test_datacheck_probe_memory),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
