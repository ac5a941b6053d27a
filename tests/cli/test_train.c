/* test_train: the scratchnet command end to end, under mpirun: training on
 * a small dataset the test makes, rank-count independence, checkpoint and
 * resume, and bad input (exit status 2, one clear message, no hang, and
 * nothing overwritten). */
#include "testutil.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>
#include <jansson.h>
#include <zlib.h>

#include "core/status.h"
#include "io/h5.h"

/* The command under test, $BUILD/scratchnet (tests/run.sh sets BUILD),
 * passed to the shell through the environment. */
#define BIN SN_TEST_BIN

enum { NTRAIN = 480, NTEST = 120, F = 8, K = 3 };

static const char *mpirun(void)
{
    return sn_test_mpirun();
}

/* Every stochastic and stateful part at once: augmentation, dropout,
 * batchnorm buffers, adam moments, a branch. */
static const char image_cfg[] =
    "[net]\ninput = 1,2,4\nbatch = 24\nepochs = 3\noptimizer = adam\nlr = 0.01\nseed = 9\n"
    "[augment]\nshift = 1\nflip = 1\n"
    "[conv]\nname = c\nfilters = 4\nsize = 2\npad = 1\n[batchnorm]\n[activation]\nname = a\n"
    "activation = relu\n[conv]\nname = side\nfrom = a\nfilters = 4\nsize = 1\n"
    "[add]\nfrom = a, side\n[dropout]\nrate = 0.3\n[flatten]\n[dense]\nunits = 3\n";

static const char model_cfg[] =
    "[net]\ninput = 8\nbatch = 24\nepochs = 3\nloss = cross_entropy\noptimizer = sgd\n"
    "lr = 0.05\nmomentum = 0.9\nseed = 3\n"
    "[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    if (sn_test_use_bin() != 0)
        return -1;
    sn_test_write_blobs(sn_test_path("blobs.h5"), (struct sn_test_blobs){ 0 });
    sn_test_write_blobs(sn_test_path("images.h5"), (struct sn_test_blobs){ .image = true });
    write_text(sn_test_path("m.cfg"), model_cfg);
    write_text(sn_test_path("img.cfg"), image_cfg);
    return 0;
}

/* Read /params of a weights file into one flat array (rows of every
 * parameter, in layer order); returns the count. */
static size_t read_params(const char *path, float *out, size_t cap)
{
    static const char *names[] = { "/params/dense0/weight", "/params/dense0/bias",
                                   "/params/dense1/weight", "/params/dense1/bias" };
    static const size_t lens[] = { 16 * 8, 16, 3 * 16, 3 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        assert_true(n + lens[i] <= cap);
        assert_int_equal(sn_h5_read_all(f, names[i], SN_H5_F32, out + n, lens[i]), SN_OK);
        n += lens[i];
    }
    sn_h5_close(f);
    return n;
}

static char *out_text(void) { return sn_test_slurp(sn_test_path("out.txt")); }
static char *err_text(void) { return sn_test_slurp(sn_test_path("err.txt")); }

/* Progress: plain lines every N steps without a terminal, one redrawn line
 * on a pseudo-terminal (script(1) provides one), nothing with --quiet; the
 * header says whether the data is held in memory. */
static void test_train_progress(void **state)
{
    (void)state;
    int rc = sn_test_run(BIN " train --model %s --data %s --epochs 1 --threads 1 "
                         "--progress-every 2", sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    char *out = out_text();
    int lines = 0;
    for (const char *p = out; (p = strstr(p, "epoch 1/1 [")); p++)
        lines++;
    assert_true(lines >= 3);
    assert_non_null(strstr(out, "ETA "));
    assert_non_null(strstr(out, "img/s"));
    assert_null(strchr(out, '\r'));
    assert_non_null(strstr(out, "[####################]"));   /* the epoch's last step */
    assert_non_null(strstr(out, "epoch 1/1  step"));            /* then the epoch line */
    /* the header says the data is held in memory (the default --cache-mb) */
    assert_non_null(strstr(out, "\ndata: train and test held in memory (0.0 MiB per rank; "
                                "--cache-mb 4096)\n"));
    free(out);
    rc = sn_test_run(BIN " train --model %s --data %s --steps 1 --threads 1 --cache-mb 0",
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    out = out_text();
    assert_non_null(strstr(out, "\ndata: read per batch from the file (train and test take "
                                "0.0 MiB; --cache-mb 0)\n"));
    free(out);

    rc = sn_test_run("script -qec \"" BIN " train --model %s --data %s --epochs 2 --threads 1\" "
                     "/dev/null", sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    out = out_text();
    assert_non_null(strstr(out, "\repoch 1/2 ["));
    assert_non_null(strstr(out, "\033[K"));
    assert_non_null(strstr(out, "\repoch 2/2 [####################]"));
    /* the redrawn line is cleared before each epoch line */
    assert_non_null(strstr(out, "\r\033[Kepoch 1/2  step"));
    free(out);
    /* a narrow terminal: the redrawn line is cut to its width (it wrapped,
     * and each redraw started a new line); TERM=dumb: plain lines */
    rc = sn_test_run("script -qec \"stty cols 40; " BIN " train --model %s --data %s --epochs 1 "
                     "--threads 1\" /dev/null", sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    out = out_text();
    const char *drawn = strstr(out, "\repoch 1/1 [");
    assert_non_null(drawn);
    assert_int_equal(strcspn(drawn + 1, "\033\r\n"), 39);
    free(out);
    rc = sn_test_run("script -qec \"TERM=dumb " BIN " train --model %s --data %s --epochs 1 "
                     "--threads 1\" /dev/null", sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    out = out_text();
    assert_null(strstr(out, "\repoch"));
    assert_non_null(strstr(out, "epoch 1/1 [####################]"));
    free(out);

    rc = sn_test_run(BIN " train --model %s --data %s --epochs 1 --threads 1 --quiet",
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    out = out_text();
    assert_string_equal(out, "");
    free(out);
    /* but a run that keeps nothing says so, also under --quiet */
    char *err = err_text();
    assert_non_null(strstr(err, "scratchnet: warning: kept: nothing (no --out and no "
                                "--checkpoint-dir: the weights end with the run)\n"));
    free(err);
}

/* More threads than the build runs (Debian's OpenBLAS: 64) are said, with
 * the number the run uses, which the rank table shows. */
static void test_train_threads_capped(void **state)
{
    (void)state;
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 1 --threads 1024",
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    char *err = err_text(), *out = out_text();
    int most = 0;
    const char *w = strstr(err, "warning: 1024 threads asked for; this build runs at most ");
    if (w) {
        most = atoi(w + strlen("warning: 1024 threads asked for; this build runs at most "));
        assert_true(most >= 1 && most < 1024);
    } else {
        most = 1024;   /* a build that runs them all */
    }
    char row[64];
    snprintf(row, sizeof row, " %d  ", most);
    assert_non_null(strstr(out, row));   /* the rank table's threads column */
    free(err);
    free(out);
}

/* A binary model (binary_cross_entropy, one output) predicting an image
 * shows both classes, each with its name and probability: class 0 (dark
 * left columns vs bright) first for an image of class 0. */
static void test_train_predict_image_binary(void **state)
{
    (void)state;
    enum { N = 200, IH = 2, IW = 4 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(sn_test_path("bin.h5"), &f), SN_OK);
    uint8_t *x = malloc((size_t)N * IH * IW);
    int32_t *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;   /* class 1: bright, class 0: dark */
        for (int p = 0; p < IH * IW; p++)
            x[(size_t)i * IH * IW + (size_t)p] = (uint8_t)(y[i] ? 220 - i % 7 : 30 + i % 7);
    }
    sn_test_write_u8(f, "train", N, IH, IW, x, y);
    const char *names[2] = { "dark", "bright" };
    assert_int_equal(sn_h5_attr_set_strs(f, "/", "classes", names, 2), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    FILE *pg = fopen(sn_test_path("dark.pgm"), "wb");
    assert_non_null(pg);
    fprintf(pg, "P5\n%d %d\n255\n", IW, IH);
    assert_int_equal(fwrite(x, 1, IH * IW, pg), IH * IW);   /* row 0: class 0 */
    fclose(pg);
    free(x);
    free(y);
    write_text(sn_test_path("bin.cfg"), "[net]\ninput = 1,2,4\nbatch = 20\nepochs = 5\n"
               "loss = binary_cross_entropy\noptimizer = adam\nlr = 0.05\nseed = 4\n"
               "[dense]\nunits = 1\n");
    int rc = sn_test_run(BIN " train --model %s --data %s --out %s --quiet --threads 1",
                         sn_test_path("bin.cfg"), sn_test_path("bin.h5"), sn_test_path("wbin.h5"));
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("wbin.h5"),
                     sn_test_path("dark.pgm"));
    char *out = out_text();
    if (rc || !strstr(out, "  1. 0   dark") || !strstr(out, "  2. 1   bright"))
        fail_msg("exit %d: %s", rc, out);
    free(out);
    /* eval's confusion matrix has both classes, each of its 100 rows (it
     * had one column, class 0's, and class 1's rows were lost), at 2 ranks */
    rc = sn_test_run("%s -np 2 " BIN " eval --weights %s --data %s --split train --threads 1",
                     mpirun(), sn_test_path("wbin.h5"), sn_test_path("bin.h5"));
    out = out_text();
    const char *table = strstr(out, "class ");
    const char *one = table ? strstr(table, " 1 bright") : NULL;
    const char *end = one ? strchr(one, '\n') : NULL;
    if (rc || !strstr(out, "accuracy 100.00%") || !table || !strstr(table, " 0 dark") || !end ||
        strncmp(end - 3, "100", 3) != 0)
        fail_msg("exit %d: %s", rc, out);
    free(out);
}

/* A PGM of h x w pixels, the first h * w of px. */
static void write_pgm(const char *name, const uint8_t *px, int h, int w)
{
    FILE *pg = fopen(sn_test_path(name), "wb");
    assert_non_null(pg);
    fprintf(pg, "P5\n%d %d\n255\n", w, h);   /* W H order in the header */
    assert_int_equal(fwrite(px, 1, (size_t)(h * w), pg), (size_t)(h * w));
    fclose(pg);
}

enum { IMG_N = 300, IMG_NT = 30, IMG_H = 4, IMG_W = 6 };

/* u8.h5: 4x6 grey uint8 images of 3 classes (a bright vertical band at
 * columns 2c, 2c+1) with class names and a mean/std; wu8.h5, a small CNN
 * trained on it, its checkpoints in ck_u8/; row0.pgm, test row 0 (also
 * into row0).  Made once for the tests that use it. */
static void image_fixture(uint8_t row0[IMG_H * IMG_W])
{
    if (access(sn_test_path("wu8.h5"), F_OK) == 0) {
        char *pgm = sn_test_slurp(sn_test_path("row0.pgm"));
        memcpy(row0, pgm + strlen("P5\n6 4\n255\n"), IMG_H * IMG_W);
        free(pgm);
        return;
    }
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(sn_test_path("u8.h5"), &f), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 5, 5);
    for (int split = 0; split < 2; split++) {
        int n = split ? IMG_NT : IMG_N;
        uint8_t *x = malloc((size_t)n * IMG_H * IMG_W);
        int32_t *y = malloc((size_t)n * sizeof *y);
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int p = 0; p < IMG_H * IMG_W; p++) {
                int col = p % IMG_W, v = (col / 2 == y[i] ? 200 : 40) + (int)(sn_rng_u32(&r) % 40);
                x[(size_t)i * IMG_H * IMG_W + (size_t)p] = (uint8_t)v;
            }
        }
        if (split)
            memcpy(row0, x, IMG_H * IMG_W);
        sn_test_write_u8(f, split ? "test" : "train", (size_t)n, IMG_H, IMG_W, x, y);
        free(x);
        free(y);
    }
    const char *names[3] = { "left", "middle", "right" };
    const double mean = 0.5, sd = 0.25;
    assert_int_equal(sn_h5_attr_set_strs(f, "/", "classes", names, 3), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "mean", &mean, 1), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "std", &sd, 1), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    write_text(sn_test_path("u8.cfg"), "[net]\ninput = 1,4,6\nbatch = 20\nepochs = 3\n"
               "optimizer = adam\nlr = 0.01\nseed = 4\n[conv]\nfilters = 4\nsize = 3\n"
               "pad = 1\nactivation = relu\n[dense]\nunits = 3\n");
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --out %s --quiet --threads 1 "
                                 "--checkpoint-dir %s", sn_test_path("u8.cfg"),
                                 sn_test_path("u8.h5"), sn_test_path("wu8.h5"),
                                 sn_test_path("ck_u8")), 0);
    write_pgm("row0.pgm", row0, IMG_H, IMG_W);
}

/* Predict from an image file: a PGM holding test row 0 of a uint8 dataset
 * gives the same probabilities as predicting from the dataset (the weights
 * keep the data's scale), with the class names; so does the last
 * checkpoint, which holds the same weights and the data's scaling. */
static void test_train_predict_image(void **state)
{
    (void)state;
    uint8_t row0[IMG_H * IMG_W];
    image_fixture(row0);
    int rc = sn_test_run(BIN " predict --weights %s --input %s -o %s", sn_test_path("wu8.h5"),
                         sn_test_path("u8.h5"), sn_test_path("all.csv"));
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " predict --weights %s --input %s -o %s --top 2", sn_test_path("wu8.h5"),
                     sn_test_path("row0.pgm"), sn_test_path("one.csv"));
    char *out = out_text();
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, err_text());
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "grey 4x6 (height x width) -> model input 1x4x6\n"));
    assert_non_null(strstr(out, "  1. 0   left"));   /* row 0 is class 0 */
    assert_non_null(strstr(out, "  2. "));
    assert_null(strstr(out, "  3. "));
    free(out);
    char *all = sn_test_slurp(sn_test_path("all.csv")), *one = sn_test_slurp(sn_test_path("one.csv"));
    /* the same fields, the probabilities to rounding: a batch of one and
     * one of 30 may go through different OpenBLAS kernels, which sum in
     * another order (they did in its Prescott ones, its fallback on a
     * processor it does not know) */
    char *a1 = strchr(all, '\n') + 1, *o1 = strchr(one, '\n') + 1;
    while (*a1 != '\n' && *o1 != '\n') {
        char *a_end, *o_end;
        const double a = strtod(a1, &a_end), o = strtod(o1, &o_end);
        if (a_end == a1 || o_end == o1 || fabs(a - o) > 1e-6 + 1e-5 * fabs(o))
            fail_msg("row 0: %.*s\nimage: %s", (int)strcspn(a1, "\n"), a1, o1);
        a1 = a_end + (*a_end == ',');
        o1 = o_end + (*o_end == ',');
    }
    assert_true(*a1 == '\n' && *o1 == '\n');
    rc = sn_test_run(BIN " predict --weights %s/ckpt-00000045.h5 --input %s -o %s",
                     sn_test_path("ck_u8"), sn_test_path("row0.pgm"), sn_test_path("ck.csv"));
    assert_int_equal(rc, 0);
    char *ck = sn_test_slurp(sn_test_path("ck.csv"));
    assert_string_equal(ck, one);
    free(ck);
    free(all);
    free(one);
}

/* Several images (a shell glob after --input, or one before it): a row
 * each, in the order of the command line, each the row it gets alone;
 * anything but an image among them is refused. */
static void test_train_predict_images_in_order(void **state)
{
    (void)state;
    uint8_t row0[IMG_H * IMG_W];
    image_fixture(row0);
    int rc = sn_test_run(BIN " predict --weights %s --input %s -o %s --top 1",
                         sn_test_path("wu8.h5"), sn_test_path("row0.pgm"),
                         sn_test_path("alone.csv"));
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " predict --weights %s --input %s %s -o %s --top 1",
                     sn_test_path("wu8.h5"), sn_test_path("row0.pgm"), sn_test_path("row0.pgm"),
                     sn_test_path("many.csv"));
    assert_int_equal(rc, 0);
    char *out = out_text();
    const char *second = strstr(out, "grey 4x6 (height x width)");
    assert_non_null(second);
    assert_non_null(strstr(second + 1, "grey 4x6 (height x width)"));
    free(out);
    char *one = sn_test_slurp(sn_test_path("alone.csv"));
    char *many = sn_test_slurp(sn_test_path("many.csv"));
    char *o1 = strchr(one, '\n') + 1, *m1 = strchr(many, '\n') + 1, *m2 = strchr(m1, '\n') + 1;
    const size_t len = strlen(o1) - 1;
    assert_memory_equal(m1, o1, len + 1);
    assert_true(m2[0] == '1' && m2[1] == ',');
    assert_memory_equal(m2 + 1, o1 + 1, len);
    free(many);
    free(one);
    rc = sn_test_run(BIN " predict --weights %s --input %s %s", sn_test_path("wu8.h5"),
                     sn_test_path("row0.pgm"), sn_test_path("u8.cfg"));
    assert_int_equal(rc, 2);
    out = err_text();
    assert_non_null(strstr(out, "unexpected argument"));
    assert_non_null(strstr(out, "u8.cfg': predict takes one .h5 dataset, or images"));
    free(out);
    write_pgm("square.pgm", row0, 4, 4);
    rc = sn_test_run(BIN " predict --weights %s %s --input %s --top 1", sn_test_path("wu8.h5"),
                     sn_test_path("square.pgm"), sn_test_path("row0.pgm"));
    assert_int_equal(rc, 0);
    out = out_text();
    const char *sq = strstr(out, "grey 4x4"), *r0 = strstr(out, "grey 4x6");
    assert_true(sq && r0 && sq < r0);
    free(out);
}

/* Wrong images and models: weights of no image model, an unknown
 * extension, a damaged image are refused; a square image for the 4x6
 * input is stretched, and said so. */
static void test_train_predict_image_refused(void **state)
{
    (void)state;
    uint8_t row0[IMG_H * IMG_W];
    image_fixture(row0);
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 1 --quiet --out %s",
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), sn_test_path("wvec.h5"));
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("wvec.h5"),
                     sn_test_path("row0.pgm"));
    assert_int_equal(rc, 2);
    char *err = err_text();
    assert_non_null(strstr(err, "not images of 1 or 3 channels"));
    free(err);
    rc = sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("wu8.h5"),
                     sn_test_path("u8.cfg"));
    assert_int_equal(rc, 2);
    write_text(sn_test_path("broken.png"), "not a png");
    rc = sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("wu8.h5"),
                     sn_test_path("broken.png"));
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "broken.png: not a PNG, JPEG, PGM or PPM (P6) file"));
    free(err);
    write_pgm("square.pgm", row0, 4, 4);
    rc = sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("wu8.h5"),
                     sn_test_path("square.pgm"));
    assert_int_equal(rc, 0);
    char *out = out_text();
    assert_non_null(strstr(out, "grey 4x4 (height x width) -> model input 1x4x6 (stretched: its "
                                "shape is not the input's"));
    free(out);
}

/* Weights trained on float data meet an image's 0..255 pixels as if they
 * were that data: predict and export say so (it answered with certainty,
 * silently); not for uint8 pixels with a scale. */
static void test_train_predict_image_of_float_data(void **state)
{
    (void)state;
    uint8_t row0[IMG_H * IMG_W];
    image_fixture(row0);
    write_text(sn_test_path("fimg.cfg"), "[net]\ninput = 1,2,4\nbatch = 24\n[dense]\n"
               "units = 3\n");
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 2 --quiet --out %s",
                         sn_test_path("fimg.cfg"), sn_test_path("images.h5"),
                         sn_test_path("wf.h5"));
    assert_int_equal(rc, 0);
    write_pgm("f24.pgm", row0, 2, 4);
    for (int e = 0; e < 2; e++) {
        rc = e ? sn_test_run(BIN " export --weights %s -o %s", sn_test_path("wf.h5"),
                             sn_test_path("wf.onnx"))
               : sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("wf.h5"),
                             sn_test_path("f24.pgm"));
        assert_int_equal(rc, 0);
        char *err = err_text();
        assert_non_null(strstr(err, "wf.h5 was trained on float data (/train/x float32, scale 1): "
                                    "an image's pixels 0 to 255"));
        free(err);
    }
    rc = sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("wu8.h5"),
                     sn_test_path("row0.pgm"));
    char *err = err_text();
    assert_null(strstr(err, "trained on float data"));
    free(err);
}

/* An autoencoder's outputs (its image) go to -o; without -o, said. */
static void test_train_predict_image_autoencoder(void **state)
{
    (void)state;
    uint8_t row0[IMG_H * IMG_W];
    image_fixture(row0);
    write_text(sn_test_path("ae.cfg"), "[net]\ninput = 1,4,6\nbatch = 20\nloss = mse\n"
               "target = input\n[dense]\nunits = 4\nactivation = relu\n[dense]\nunits = 24\n");
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 3 --quiet --out %s",
                         sn_test_path("ae.cfg"), sn_test_path("u8.h5"), sn_test_path("ae.h5"));
    if (rc)
        fprintf(stderr, "%s\n", err_text());
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("ae.h5"),
                     sn_test_path("row0.pgm"));
    assert_int_equal(rc, 2);
    char *err = err_text();
    assert_non_null(strstr(err, "an autoencoder (target = input): its outputs are no classes to "
                                "show; give -o OUT.csv or OUT.h5 to get them"));
    free(err);
    rc = sn_test_run(BIN " predict --weights %s --input %s -o %s", sn_test_path("ae.h5"),
                     sn_test_path("row0.pgm"), sn_test_path("ae.csv"));
    if (rc)
        fprintf(stderr, "%s\n", err_text());
    assert_int_equal(rc, 0);
    char *csv = sn_test_slurp(sn_test_path("ae.csv"));
    assert_non_null(strstr(csv, "p23"));   /* 24 outputs, one row */
    free(csv);
}

/* Read predict's CSV (index,pred,p0..pK-1) into probs (n x k); returns n. */
static int read_probs_csv(const char *path, float *probs, int cap, int k)
{
    char *text = sn_test_slurp(path), *line = strchr(text, '\n');
    int n = 0;
    while (line && line[1] && n < cap) {
        char *at = line + 1;
        strtol(at, &at, 10);            /* index */
        strtol(at + 1, &at, 10);        /* pred */
        for (int j = 0; j < k; j++)
            probs[n * k + j] = strtof(at + 1, &at);
        n++;
        line = strchr(line + 1, '\n');
    }
    free(text);
    return n;
}

/* [augment] test_flip: predict's probabilities are the softmax of the mean
 * of the logits of each image and of its mirror image, so they are
 * proportional to sqrt(p(x) p(mirror x)) of plain predictions (the mirror
 * images predicted from a dataset holding them); eval with test_flip gives
 * the accuracy of those predictions; training is unchanged by the key. */
static void test_train_test_flip(void **state)
{
    (void)state;
    enum { N = 300, NT = 30, IH = 4, IW = 6, KC = 3 };
    struct sn_h5 *f, *fm;
    assert_int_equal(sn_h5_create(sn_test_path("tf.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_create(sn_test_path("tfm.h5"), &fm), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 8, 8);
    int32_t test_y[NT];
    for (int split = 0; split < 2; split++) {
        int n = split ? NT : N;
        uint8_t *x = malloc((size_t)n * IH * IW), *xm = malloc((size_t)n * IH * IW);
        int32_t *y = malloc((size_t)n * sizeof *y);
        for (int i = 0; i < n; i++) {
            y[i] = i % KC;   /* a bright band at columns 2c, 2c+1, and noise */
            for (int p = 0; p < IH * IW; p++) {
                int col = p % IW, v = (col / 2 == y[i] ? 150 : 60) + (int)(sn_rng_u32(&r) % 100);
                x[(size_t)i * IH * IW + (size_t)p] = (uint8_t)v;
            }
            for (int p = 0; p < IH * IW; p++)
                xm[(size_t)i * IH * IW + (size_t)p] =
                    x[(size_t)i * IH * IW + (size_t)(p / IW) * IW + (size_t)(IW - 1 - p % IW)];
        }
        if (split)
            memcpy(test_y, y, sizeof test_y);
        sn_test_write_u8(f, split ? "test" : "train", (size_t)n, IH, IW, x, y);
        sn_test_write_u8(fm, split ? "test" : "train", (size_t)n, IH, IW, xm, y);
        free(x);
        free(xm);
        free(y);
    }
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_h5_close(fm), SN_OK);
    static const char cfg[] = "[net]\ninput = 1,4,6\nbatch = 20\nepochs = 2\n"
                              "optimizer = adam\nlr = 0.01\nseed = 6\n%s[conv]\nfilters = 4\n"
                              "size = 3\npad = 1\nactivation = relu\n[dense]\nunits = 3\n";
    char text[512];
    snprintf(text, sizeof text, cfg, "");
    write_text(sn_test_path("tf.cfg"), text);
    snprintf(text, sizeof text, cfg, "[augment]\ntest_flip = 1\n");
    write_text(sn_test_path("tf_flip.cfg"), text);
    /* the key does not change training: the same weights either way */
    const char *cfgs[2] = { "tf.cfg", "tf_flip.cfg" }, *outs[2] = { "wtf.h5", "wtf_flip.h5" };
    for (int i = 0; i < 2; i++)
        assert_int_equal(sn_test_run(BIN " train --model %s --data %s --out %s --quiet --threads 1",
                                     sn_test_path(cfgs[i]), sn_test_path("tf.h5"),
                                     sn_test_path(outs[i])), 0);
    static const char *pnames[] = { "/params/conv0/weight", "/params/conv0/bias",
                                    "/params/dense1/weight", "/params/dense1/bias" };
    static const size_t plens[] = { 4 * 9, 4, 3 * 4 * IH * IW, 3 };
    for (int i = 0; i < 4; i++) {
        float w[2][3 * 4 * IH * IW];
        for (int j = 0; j < 2; j++) {
            assert_int_equal(sn_h5_open(sn_test_path(outs[j]), &f), SN_OK);
            assert_int_equal(sn_h5_read_all(f, pnames[i], SN_H5_F32, w[j], plens[i]), SN_OK);
            sn_h5_close(f);
        }
        assert_memory_equal(w[0], w[1], plens[i] * sizeof(float));
    }
    /* plain on x, plain on the mirrors, test_flip on x */
    const char *data[3] = { "tf.h5", "tfm.h5", "tf.h5" }, *csv[3] = { "p.csv", "pm.csv", "pf.csv" };
    static float pr[3][NT * KC];
    for (int i = 0; i < 3; i++) {
        int rc = sn_test_run(BIN " predict --weights %s --input %s -o %s --model %s",
                             sn_test_path("wtf.h5"), sn_test_path(data[i]), sn_test_path(csv[i]),
                             sn_test_path(i == 2 ? "tf_flip.cfg" : "tf.cfg"));
        assert_int_equal(rc, 0);
        assert_int_equal(read_probs_csv(sn_test_path(csv[i]), pr[i], NT, KC), NT);
    }
    int correct = 0, differ = 0;
    for (int i = 0; i < NT; i++) {
        double g[KC], sum = 0.0;
        for (int k = 0; k < KC; k++)
            sum += g[k] = sqrt((double)pr[0][i * KC + k] * pr[1][i * KC + k]);
        int best = 0;
        for (int k = 0; k < KC; k++) {
            assert_float_equal(pr[2][i * KC + k], g[k] / sum, 2e-5);
            differ += fabsf(pr[2][i * KC + k] - pr[0][i * KC + k]) > 1e-3f;
            best = pr[2][i * KC + k] > pr[2][i * KC + best] ? k : best;
        }
        correct += best == test_y[i];
    }
    assert_true(differ > 0);   /* the images are not symmetric: the flip matters */
    int rc = sn_test_run(BIN " eval --weights %s --data %s --model %s", sn_test_path("wtf.h5"),
                         sn_test_path("tf.h5"), sn_test_path("tf_flip.cfg"));
    assert_int_equal(rc, 0);
    char want[64], *out = out_text();
    snprintf(want, sizeof want, "(%d/%d)", correct, NT);
    if (!strstr(out, want))
        fprintf(stderr, "want %s in:\n%s\n", want, out);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "(test_flip: each image and its mirror)"));
    free(out);
}

/* Data of 1x2x4 images of two classes, labels 0 and 1, and n names. */
static void two_class_data(const char *path, const char *const *names, size_t n)
{
    enum { N = 60, P = 8 };
    uint8_t x[N * P];
    int32_t y[N];
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        for (int p = 0; p < P; p++)
            x[i * P + p] = (uint8_t)(y[i] ? 200 + p : 40 + p);
    }
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    sn_test_write_u8(f, "train", N, 2, 4, x, y);
    assert_int_equal(sn_h5_attr_set_strs(f, "/", "classes", names, n), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* --init of weights trained on other class names warns, as eval does, when
 * it loads their output layer (its outputs mean the file's classes), not
 * when the head is new; parameters alone load, and a model text the
 * parser refuses is said. */
static void test_train_init_other_classes(void **state)
{
    (void)state;
    two_class_data(sn_test_path("pets.h5"), (const char *const[]){ "cat", "dog" }, 2);
    two_class_data(sn_test_path("cars.h5"), (const char *const[]){ "car", "bus" }, 2);
    for (int k = 0; k < 2; k++) {   /* the head loaded, then a new head (another name) */
        char cfg[200];
        snprintf(cfg, sizeof cfg, "[net]\ninput = 1,2,4\nbatch = 20\n[dense]\nunits = 4\n"
                 "activation = relu\n[dense]\n%sunits = 2\n", k ? "name = newhead\n" : "");
        write_text(sn_test_path("two.cfg"), cfg);
        int rc = k ? 0 : sn_test_run(BIN " train --model %s --data %s --steps 2 --out %s "
                                          "--quiet --threads 1", sn_test_path("two.cfg"),
                                          sn_test_path("pets.h5"), sn_test_path("wpets.h5"));
        assert_int_equal(rc, 0);
        rc = sn_test_run(BIN " train --model %s --data %s --init %s --steps 1 --quiet --threads 1",
                         sn_test_path("two.cfg"), sn_test_path("cars.h5"),
                         sn_test_path("wpets.h5"));
        char *err = err_text();
        if (rc)
            fail_msg("exit %d: %s", rc, err);
        const bool warned = strstr(err, "wpets.h5 was trained on the classes (cat, dog) but") &&
                            strstr(err, "a label may not mean the same class in both");
        if (warned != (k == 0))
            fail_msg("%s head: %s", k ? "a new" : "the loaded", err);
        free(err);
    }
    /* data naming more classes, the weights' two first (a subset keeps
     * every name): the same classes, no warning */
    two_class_data(sn_test_path("pets3.h5"), (const char *const[]){ "cat", "dog", "cow" }, 3);
    int rc = sn_test_run(BIN " eval --weights %s --data %s --split train --threads 1",
                         sn_test_path("wpets.h5"), sn_test_path("pets3.h5"));
    char *err = err_text();
    if (rc || strstr(err, "may not mean"))
        fail_msg("eval on pets3.h5: exit %d: %s", rc, err);
    free(err);
    /* parameters alone, as another tool writes them (no /model, no model
     * text): --init loads them by name, as eval takes them with --model */
    write_text(sn_test_path("two.cfg"), "[net]\ninput = 1,2,4\nbatch = 20\n[dense]\nunits = 4\n"
               "activation = relu\n[dense]\nunits = 2\n");
    for (int k = 0; k < 2; k++) {   /* and with a model text this parser refuses: said */
        const char *name = k ? "paramsbadcfg.h5" : "paramsonly.h5";
        struct sn_h5 *f;
        assert_int_equal(sn_h5_create(sn_test_path(name), &f), SN_OK);
        float v[32];
        for (int i = 0; i < 32; i++)
            v[i] = 0.01f * (float)(i % 7);
        const size_t w0[2] = { 4, 8 }, b0[1] = { 4 }, w1[2] = { 2, 4 }, b1[1] = { 2 };
        assert_int_equal(sn_h5_write(f, "/params/dense0/weight", 2, w0, SN_H5_F32, v), SN_OK);
        assert_int_equal(sn_h5_write(f, "/params/dense0/bias", 1, b0, SN_H5_F32, v), SN_OK);
        assert_int_equal(sn_h5_write(f, "/params/dense1/weight", 2, w1, SN_H5_F32, v), SN_OK);
        assert_int_equal(sn_h5_write(f, "/params/dense1/bias", 1, b1, SN_H5_F32, v), SN_OK);
        if (k) {
            assert_int_equal(sn_h5_mkgroup(f, "/model"), SN_OK);
            assert_int_equal(sn_h5_attr_set_str(f, "/model", "cfg", "[net\ngarbage\n"), SN_OK);
        }
        assert_int_equal(sn_h5_close(f), SN_OK);
        rc = sn_test_run(BIN " train --model %s --data %s --init %s --steps 1 --threads 1",
                         sn_test_path("two.cfg"), sn_test_path("cars.h5"), sn_test_path(name));
        char *out = out_text();
        err = err_text();
        const bool said = strstr(err, "paramsbadcfg.h5: its /model cfg is no model this "
                                      "scratchnet reads (") &&
                          strstr(err, ":1: section header without ']'): its classes and input "
                                      "preparation are checked against this run's model");
        if (rc || !strstr(out, "init: 4 parameter arrays from") || said != (k == 1))
            fail_msg("--init of %s: exit %d: %s%s", name, rc, out, err);
        free(out);
        free(err);
    }
}

/* Fine-tuning: --init loads the layers whose shapes match, re-initialises
 * a replaced head and names it; a frozen layer keeps the loaded values bit
 * for bit.  convert subset keeps the chosen classes' rows and labels. */
static void test_train_init_replaced_head(void **state)
{
    (void)state;
    int rc = sn_test_run(BIN " train --model %s --data %s --out %s --quiet --threads 1",
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), sn_test_path("base.h5"));
    assert_int_equal(rc, 0);
    write_text(sn_test_path("head4.cfg"),
               "[net]\ninput = 8\nbatch = 24\nepochs = 2\noptimizer = sgd\nlr = 0.05\n"
               "seed = 8\n[dense]\nunits = 16\nactivation = relu\nfreeze = 1\n"
               "[dense]\nunits = 4\n");
    rc = sn_test_run(BIN " train --model %s --data %s --init %s --out %s --threads 1",
                     sn_test_path("head4.cfg"), sn_test_path("blobs.h5"), sn_test_path("base.h5"),
                     sn_test_path("tuned.h5"));
    char *out = out_text();
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, err_text());
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "init: 2 parameter arrays from"));
    assert_non_null(strstr(out, "re-initialised (the file holds them in other shapes or in "
                                "part): dense1"));
    free(out);
    float a[16 * 8 + 16], b[16 * 8 + 16];
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(sn_test_path("base.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/params/dense0/weight", SN_H5_F32, a, 128), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/params/dense0/bias", SN_H5_F32, a + 128, 16), SN_OK);
    sn_h5_close(f);
    assert_int_equal(sn_h5_open(sn_test_path("tuned.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/params/dense0/weight", SN_H5_F32, b, 128), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/params/dense0/bias", SN_H5_F32, b + 128, 16), SN_OK);
    sn_h5_close(f);
    assert_memory_equal(a, b, sizeof a);   /* frozen: exactly as loaded */
    char *e0 = err_text();
    assert_null(strstr(e0, "frozen layer"));   /* it was loaded: no word */
    free(e0);
    /* a frozen layer the file does not hold by that name, all of it or its
     * weights (freeze = weight): said */
    static const char *const freezes[] = { "1", "weight" };
    for (int k = 0; k < 2; k++) {
        char cfg[400];
        snprintf(cfg, sizeof cfg, "[net]\ninput = 8\nbatch = 24\nepochs = 1\noptimizer = sgd\n"
                 "lr = 0.05\n[dense]\nname = body\nunits = 16\nactivation = relu\n"
                 "freeze = %s\n[dense]\nname = dense1\nunits = 3\n", freezes[k]);
        write_text(sn_test_path("head4r.cfg"), cfg);
        rc = sn_test_run(BIN " train --model %s --data %s --init %s --steps 1 --quiet "
                         "--threads 1", sn_test_path("head4r.cfg"), sn_test_path("blobs.h5"),
                         sn_test_path("base.h5"));
        assert_int_equal(rc, 0);
        e0 = err_text();
        assert_non_null(strstr(e0, "frozen layer body not loaded from it (not there by that "
                                   "name, or in other shapes): it keeps its random "
                                   "initialisation and never trains"));
        free(e0);
        /* and without --init at all (fine-tuning, --init forgotten): said */
        rc = sn_test_run(BIN " train --model %s --data %s --steps 1 --quiet --threads 1",
                         sn_test_path("head4r.cfg"), sn_test_path("blobs.h5"));
        assert_int_equal(rc, 0);
        e0 = err_text();
        assert_non_null(strstr(e0, "warning: frozen layer body starts from its random "
                                   "initialisation and never trains: no --init gives it "
                                   "trained values"));
        free(e0);
    }

    /* a frozen layer the file holds in another shape: both shapes said */
    write_text(sn_test_path("head4s.cfg"),
               "[net]\ninput = 8\nbatch = 24\nepochs = 1\noptimizer = sgd\nlr = 0.05\n"
               "[dense]\nname = dense0\nunits = 16\nactivation = relu\n"
               "[dense]\nname = dense1\nunits = 4\nfreeze = 1\n");
    rc = sn_test_run(BIN " train --model %s --data %s --init %s --steps 1 --quiet --threads 1",
                     sn_test_path("head4s.cfg"), sn_test_path("blobs.h5"), sn_test_path("base.h5"));
    e0 = err_text();
    if (rc || !strstr(e0, "frozen layer dense1 not loaded from it (not there by that name, or in "
                          "other shapes; dense1.weight is 3x16 in the file, 4x16 here): it keeps"))
        fail_msg("exit %d: %s", rc, e0);
    free(e0);

    /* a file of an unrelated model: nothing fits, a clear error */
    rc = sn_test_run(BIN " train --model %s --data %s --init %s --threads 1", sn_test_path("img.cfg"),
                     sn_test_path("images.h5"), sn_test_path("base.h5"));
    assert_int_equal(rc, 2);
    char *err = err_text();
    assert_non_null(strstr(err, "no parameter of this model's layers is in the file"));
    free(err);
}

/* colour.h5: 48 train and test rows of 24 floats (3 x 2 x 4), 3 classes. */
static void write_colour_rows(void)
{
    enum { N = 48, NF = 24 };
    float x[N * NF];
    int32_t y[N];
    for (int i = 0; i < N; i++) {
        y[i] = i % 3;
        for (int j = 0; j < NF; j++)
            x[i * NF + j] = (float)((i * 7 + j * 3) % 11) / 11.0f + (j / 8 == y[i] ? 1.0f : 0.0f);
    }
    struct sn_h5 *f;
    size_t dims[2] = { N, NF }, n = N;
    assert_int_equal(sn_h5_create(sn_test_path("colour.h5"), &f), SN_OK);
    for (int k = 0; k < 2; k++) {
        char xs[16], ys[16];
        snprintf(xs, sizeof xs, "/%s/x", k ? "test" : "train");
        snprintf(ys, sizeof ys, "/%s/y", k ? "test" : "train");
        assert_int_equal(sn_h5_write(f, xs, 2, dims, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_write(f, ys, 1, &n, SN_H5_I32, y), SN_OK);
    }
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* The model text cfg (input = %d,2,4) trained in colour on colour.h5,
 * then given to --init of the grey one on images.h5 under --quiet: its
 * stderr must hold want. */
static void init_colour_onto_grey(const char *cfg_fmt, const char *want)
{
    char cfg[400];
    snprintf(cfg, sizeof cfg, cfg_fmt, 3);
    write_text(sn_test_path("colour.cfg"), cfg);
    snprintf(cfg, sizeof cfg, cfg_fmt, 1);
    write_text(sn_test_path("grey.cfg"), cfg);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --out %s --quiet --threads 1",
                                 sn_test_path("colour.cfg"), sn_test_path("colour.h5"),
                                 sn_test_path("colourw.h5")), 0);
    int rc = sn_test_run(BIN " train --model %s --data %s --init %s --steps 1 --quiet "
                         "--threads 1", sn_test_path("grey.cfg"), sn_test_path("images.h5"),
                         sn_test_path("colourw.h5"));
    char *err = err_text();
    if (rc || !strstr(err, want))
        fail_msg("exit %d: %s", rc, err);
    free(err);
}

/* --init from a network that read colour images, onto a grey one: the
 * first layer cannot be loaded and starts from random; the run says so,
 * also under --quiet (which hides the init line), with both shapes and
 * which side is grey: a convolution first, or a batchnorm over the
 * input's channels. */
static void test_train_init_other_channels(void **state)
{
    (void)state;
    write_colour_rows();
    init_colour_onto_grey("[net]\ninput = %d,2,4\nbatch = 24\nepochs = 1\noptimizer = sgd\n"
                          "lr = 0.05\nseed = 4\n[conv]\nname = c\nfilters = 4\nsize = 2\n"
                          "pad = 1\n[activation]\nactivation = relu\n[flatten]\n"
                          "[dense]\nname = head\nunits = 3\n",
                          "c re-initialised, not loaded; c.weight is 4x3x2x2 in the file, "
                          "4x1x2x2 here: the file's network reads colour images, this data "
                          "is grey");
    init_colour_onto_grey("[net]\ninput = %d,2,4\nbatch = 24\nepochs = 1\noptimizer = sgd\n"
                          "lr = 0.05\nseed = 4\n[batchnorm]\nname = bn\n[conv]\nname = c\n"
                          "filters = 4\nsize = 2\npad = 1\n[flatten]\n[dense]\nname = head\n"
                          "units = 3\n",
                          "bn, c re-initialised, not loaded; bn.weight is 3 in the file, 1 here: "
                          "the file's network reads colour images, this data is grey");
}

/* convert subset: the classes asked, so many rows each, /val as /test,
 * the source kept; too many asked per class or a split to act on missing
 * is said. */
static void test_train_convert_subset(void **state)
{
    (void)state;
    struct sn_h5 *f;
    /* convert subset: classes 1-2, 10 training rows each, all their test rows */
    int rc = sn_test_run(BIN " convert subset %s --classes 1-2 --per-class 10 -o %s",
                     sn_test_path("blobs.h5"), sn_test_path("sub.h5"));
    assert_int_equal(rc, 0);
    assert_int_equal(sn_h5_open(sn_test_path("sub.h5"), &f), SN_OK);
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    assert_int_equal(sn_h5_info(f, "/train/y", &nd, dims, &cls, &size), SN_OK);
    assert_int_equal(dims[0], 20);
    int32_t y[80];
    assert_int_equal(sn_h5_read_all(f, "/train/y", SN_H5_I32, y, 20), SN_OK);
    for (int i = 0; i < 20; i++)
        assert_true(y[i] == 1 || y[i] == 2);
    assert_int_equal(sn_h5_info(f, "/test/y", &nd, dims, &cls, &size), SN_OK);
    assert_int_equal(dims[0], NTEST * 2 / K);
    sn_h5_close(f);
    /* /val as /test (--test-per-class for both), and the source kept after
     * the subset's own making (/val was dropped, the source replaced), its
     * control bytes as '?' */
    sn_test_write_blobs(sn_test_path("blobsval.h5"), (struct sn_test_blobs){ .val = true });
    rc = sn_test_run(BIN " convert subset %s --classes 1-2 --test-per-class 5 -o %s",
                     sn_test_path("blobsval.h5"), sn_test_path("subval.h5"));
    assert_int_equal(rc, 0);
    assert_int_equal(sn_h5_open(sn_test_path("subval.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_info(f, "/val/y", &nd, dims, &cls, &size), SN_OK);
    assert_int_equal(dims[0], 10);
    assert_int_equal(sn_h5_read_all(f, "/val/y", SN_H5_I32, y, 10), SN_OK);
    for (int i = 0; i < 10; i++)
        assert_true(y[i] == 1 || y[i] == 2);
    char *source = NULL;
    assert_int_equal(sn_h5_attr_get_str(f, "/", "source", &source), SN_OK);
    assert_non_null(strstr(source, "classes 1-2 of "));
    /* its terminal sequence carried on as text only (as messages show it) */
    assert_non_null(strstr(source, "blobsval.h5, made from blobs of testutil?]0;t?"));
    free(source);
    sn_h5_close(f);
    rc = sn_test_run(BIN " convert subset %s --classes 7 -o %s", sn_test_path("blobs.h5"),
                     sn_test_path("sub2.h5"));
    assert_int_equal(rc, 2);
    /* more per class than a class holds: all kept, said */
    rc = sn_test_run(BIN " convert subset %s --classes 1-2 --per-class 100000 -o %s",
                     sn_test_path("blobs.h5"), sn_test_path("sub3.h5"));
    assert_int_equal(rc, 0);
    char *err = err_text();
    assert_non_null(strstr(err, "warning: /train: class 1 has "));
    assert_non_null(strstr(err, "fewer than the 100000 asked per class: all of them are kept"));
    free(err);
    /* --test-per-class on data with /train alone: said, the subset written */
    two_class_data(sn_test_path("trainonly.h5"), (const char *const[]){ "a", "b" }, 2);
    rc = sn_test_run(BIN " convert subset %s --classes 1 --test-per-class 3 -o %s",
                     sn_test_path("trainonly.h5"), sn_test_path("sub4.h5"));
    assert_int_equal(rc, 0);
    err = err_text();
    assert_non_null(strstr(err, "warning: --test-per-class 3: "));
    assert_non_null(strstr(err, "trainonly.h5 has no /test or /val split; the output holds "
                                "/train alone"));
    free(err);
}

/* blocking.h5: m.cfg trained at 2 ranks through the blocking allreduce
 * (--no-overlap), made once; its parameters into a (at most cap), their
 * count returned. */
static size_t blocking_params(float *a, size_t cap)
{
    if (access(sn_test_path("blocking.h5"), F_OK) != 0)
        assert_int_equal(sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s "
                                     "--out %s --quiet --threads 1 --no-overlap", mpirun(),
                                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                                     sn_test_path("blocking.h5")), 0);
    return read_params(sn_test_path("blocking.h5"), a, cap);
}

/* Overlapped, bucketed allreduce gives bitwise the blocking path's result
 * (each float is the same sum of the same two numbers), through the shared
 * arena and through MPI_Allreduce; an unknown --allreduce is refused. */
static void test_train_overlap_bitwise(void **state)
{
    (void)state;
    const char *mp = mpirun();
    float a[256], b[256];
    const size_t n = blocking_params(a, 256);
    int rc;
    /* 0.0002 MB = 52 floats: the 195 gradients in several buckets */
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --out %s "
                     "--quiet --threads 1 --bucket-mb 0.0002", mp, sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"), sn_test_path("overlap.h5"));
    assert_int_equal(rc, 0);
    read_params(sn_test_path("overlap.h5"), b, 256);
    assert_memory_equal(a, b, n * sizeof(float));
    /* both ranks on this host: those two took the shared arena; through
     * MPI_Allreduce the gradients are the same bits (a + b, times 1/2) */
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --out %s "
                     "--quiet --threads 1 --bucket-mb 0.0002 --allreduce mpi", mp,
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"), sn_test_path("viampi.h5"));
    assert_int_equal(rc, 0);
    read_params(sn_test_path("viampi.h5"), b, 256);
    assert_memory_equal(a, b, n * sizeof(float));
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --quiet --threads 1 "
                     "--allreduce nccl 2>%s", mp, sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                     sn_test_path("err.txt"));
    assert_int_equal(rc, 2);
    char *bad = err_text();
    assert_non_null(strstr(bad, "--allreduce must be auto, flat, hier or mpi, got 'nccl'"));
    free(bad);
}

/* --compress where the two ranks send nothing (the shared window), and a
 * format that does not exist: refused, nothing written; a compressed run
 * resumed where nothing is sent (one rank, as an elastic restart on the
 * host left) goes on, uncompressed, saying so. */
static void test_train_compress_where_nothing_is_sent(void **state)
{
    (void)state;
    const char *mp = mpirun();
    int rc;
    char *bad;
    const char *compress[2][2] = {
        { "bf16", "--compress bf16: no gradients are sent as messages here (the ranks of one "
                  "host read each other's through a shared window)" },
        { "bf17", "--compress must be none, bf16 or fp16, got 'bf17'" } };
    for (int i = 0; i < 2; i++) {
        rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --quiet "
                         "--threads 1 --out %s --compress %s 2>%s", mp, sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), sn_test_path("comp.h5"), compress[i][0],
                         sn_test_path("err.txt"));
        assert_int_equal(rc, 2);
        bad = err_text();
        assert_non_null(strstr(bad, compress[i][1]));
        free(bad);
        assert_int_not_equal(access(sn_test_path("comp.h5"), F_OK), 0);
    }
    /* a compressed run resumed where nothing is sent (one rank, as an
     * elastic restart on the host left): it goes on, uncompressed, saying so */
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --quiet --threads 1 "
                     "--allreduce mpi --compress bf16 --steps 2 --checkpoint-dir %s", mp,
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"), sn_test_path("compck"));
    assert_int_equal(rc, 0);
    rc = sn_test_run("timeout 60 %s -np 1 " BIN " train --model %s --data %s --quiet --threads 1 "
                     "--allreduce mpi --compress bf16 --steps 4 --checkpoint-dir %s --resume auto "
                     "2>%s", mp, sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                     sn_test_path("compck"), sn_test_path("err.txt"));
    assert_int_equal(rc, 0);
    bad = err_text();
    assert_non_null(strstr(bad, "--compress bf16: no gradients are sent as messages here (1 rank): "
                                "they go uncompressed until the run has more hosts again"));
    free(bad);
    assert_int_equal(access(sn_test_path("compck/ckpt-00000004.h5"), F_OK), 0);

}

/* An LSTM, whose W_hh and biases are reduced while its W_ih product runs:
 * bucket boundaries inside the layer, the same bits as blocking. */
static void test_train_overlap_lstm(void **state)
{
    (void)state;
    const char *mp = mpirun();
    int rc;
    write_text(sn_test_path("lstm.cfg"), "[net]\ninput = 1,2,4\nbatch = 24\nepochs = 2\n"
               "optimizer = adam\nlr = 0.01\nseed = 4\n[lstm]\nunits = 6\n[dense]\nunits = 3\n");
    for (int mode = 0; mode < 2; mode++) {
        rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --out %s --quiet "
                         "--threads 1 %s", mp, sn_test_path("lstm.cfg"), sn_test_path("images.h5"),
                         sn_test_path(mode ? "lstm_overlap.h5" : "lstm_blocking.h5"),
                         mode ? "--bucket-mb 0.00005" : "--no-overlap");
        assert_int_equal(rc, 0);
    }
    static const char *lstm_names[] = { "/params/lstm0/weight_ih", "/params/lstm0/weight_hh",
                                        "/params/lstm0/bias_ih", "/params/lstm0/bias_hh",
                                        "/params/dense1/weight", "/params/dense1/bias" };
    static const size_t lstm_lens[] = { 24 * 4, 24 * 6, 24, 24, 3 * 6, 3 };
    float la[256], lb[256];
    for (int i = 0; i < 6; i++) {
        struct sn_h5 *f;
        for (int mode = 0; mode < 2; mode++) {
            assert_int_equal(sn_h5_open(sn_test_path(mode ? "lstm_overlap.h5" : "lstm_blocking.h5"),
                                        &f), SN_OK);
            assert_int_equal(sn_h5_read_all(f, lstm_names[i], SN_H5_F32, mode ? lb : la,
                                            lstm_lens[i]), SN_OK);
            sn_h5_close(f);
        }
        assert_memory_equal(la, lb, lstm_lens[i] * sizeof(float));
    }
}

/* --accumulate K is the same step as one batch within float rounding; a K
 * that does not divide a rank's batch, and a batch smaller than the rank
 * count, are refused on every rank. */
static void test_train_accumulate(void **state)
{
    (void)state;
    const char *mp = mpirun();
    float a[256], b[256];
    const size_t n = blocking_params(a, 256);
    int rc;
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --out %s "
                     "--quiet --threads 1 --accumulate 3", mp, sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"), sn_test_path("acc.h5"));
    assert_int_equal(rc, 0);
    read_params(sn_test_path("acc.h5"), b, 256);
    assert_close_arrays(b, a, n, 1e-5, 1e-4);
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --accumulate 5 "
                     "--threads 1", mp, sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 2);
    char *err = err_text();
    assert_non_null(strstr(err, "--accumulate 5 does not divide the 12 examples each rank takes"));
    free(err);
    rc = sn_test_run("timeout 60 %s -np 3 " BIN " train --model %s --data %s --batch 2 "
                     "--threads 1", mp, sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "global batch 2 is smaller than the 3 ranks"));
    free(err);
}

/* Ranks started with different flags, or as different commands (MPMD),
 * are refused on every rank at once. */
static void test_train_mpmd_refused(void **state)
{
    (void)state;
    const char *mp = mpirun();
    int rc;
    char *err;
    /* MPMD: two ranks with different learning rates */
    rc = sn_test_run("timeout 60 %s -np 1 " BIN " train --model %s --data %s --lr 0.1 "
                     "--threads 1 : -np 1 " BIN " train --model %s --data %s --lr 0.2 --threads 1",
                     mp, sn_test_path("m.cfg"), sn_test_path("blobs.h5"), sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"));
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "different flags or model files"));
    free(err);
    /* MPMD of train and a local command (export: one process's work) ends
     * at once: the exporting rank joins the job instead of leaving the
     * training rank waiting for it */
    rc = sn_test_run("timeout 60 %s -np 1 " BIN " train --model %s --data %s --threads 1 : "
                     "-np 1 " BIN " export --weights %s -o %s", mp, sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"), sn_test_path("w.h5"), sn_test_path("mpmd.onnx"));
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "different flags or model files"));
    free(err);
    assert_int_equal(access(sn_test_path("mpmd.onnx"), F_OK), -1);
    /* and --help or --version beside a command, the command's own --help,
     * or an unknown command: every rank ends at once (they returned before
     * joining the job or the flags' agreement, and eval waited for them
     * until MPI_Finalize's 60 s limit) */
    const char *asides[] = { "--help", "-h", "--version", "eval --help", "version" };
    for (int i = 0; i < 5; i++) {
        rc = sn_test_run("timeout 60 %s -np 1 " BIN " eval --weights %s --data %s : -np 1 " BIN
                         " %s", mp, sn_test_path("w.h5"), sn_test_path("blobs.h5"), asides[i]);
        assert_int_equal(rc, 2);
        err = err_text();
        assert_non_null(strstr(err, "different flags or model files"));
        free(err);
    }
}

/* Train on 2 ranks: exit 0, the log has one line per epoch, the blobs are
 * learnt, and eval of the written weights gives the same test accuracy at
 * 1, 2 and 3 ranks. */
/* Read /optimizer/<layer>/<param>/<state> of every parameter of m.cfg. */
static size_t read_state(const char *path, const char *state, float *out, size_t cap)
{
    static const char *names[] = { "dense0/weight", "dense0/bias", "dense1/weight", "dense1/bias" };
    static const size_t lens[] = { 16 * 8, 16, 3 * 16, 3 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        char p[128];
        snprintf(p, sizeof p, "/optimizer/%s/%s", names[i], state);
        assert_true(n + lens[i] <= cap);
        assert_int_equal(sn_h5_read_all(f, p, SN_H5_F32, out + n, lens[i]), SN_OK);
        n += lens[i];
    }
    sn_h5_close(f);
    return n;
}

/* "optimizer state: S x N floats on rank 0" from the last run's output. */
static long state_floats(void)
{
    char *out = out_text();
    const char *p = strstr(out, "optimizer state: ");
    assert_non_null(p);
    int states = 0;
    long n = 0;
    assert_int_equal(sscanf(p, "optimizer state: %d x %ld floats", &states, &n), 2);
    free(out);
    return n;
}

/* --shard-optimizer (ZeRO 1) with adam at 2 ranks: rank 0 keeps half the
 * state; after 100 steps the parameters and the (gathered) checkpoint state
 * equal the unsharded run's to 1e-5 relative (bitwise at 2 ranks: a + b is
 * the same sum either way); a sharded checkpoint resumes at 3 ranks,
 * sharded, and ends where the uninterrupted run ends. */
static void test_train_shard_optimizer(void **state)
{
    (void)state;
    const char *mp = mpirun();
    write_text(sn_test_path("adam.cfg"), "[net]\ninput = 8\nbatch = 24\nepochs = 10\n"
               "optimizer = adam\nlr = 0.01\nweight_decay = 0.001\nseed = 3\n[dense]\nunits = 16\n"
               "activation = relu\n[dense]\nunits = 3\n");
    char m[1024], d[1024];
    snprintf(m, sizeof m, "%s", sn_test_path("adam.cfg"));
    snprintf(d, sizeof d, "%s", sn_test_path("blobs.h5"));
    int rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --steps 100 "
                         "--threads 1 --out %s --checkpoint-dir %s", mp, m, d,
                         sn_test_path("unsharded.h5"), sn_test_path("ck_unsharded"));
    assert_int_equal(rc, 0);
    long whole = state_floats();
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --steps 100 "
                     "--threads 1 --out %s --checkpoint-dir %s --checkpoint-every 50 "
                     "--shard-optimizer", mp, m, d, sn_test_path("sharded.h5"),
                     sn_test_path("ck_sharded"));
    assert_int_equal(rc, 0);
    long block = state_floats();
    assert_int_equal(whole, 195);
    assert_int_equal(block, 195 / 2);

    float a[256], b[256];
    size_t n = read_params(sn_test_path("unsharded.h5"), a, 256);
    read_params(sn_test_path("sharded.h5"), b, 256);
    assert_close_arrays(b, a, n, 0.0, 1e-5);
    for (int s = 0; s < 2; s++) {
        const char *st = s ? "exp_avg_sq" : "exp_avg";
        read_state(sn_test_path("ck_unsharded/ckpt-00000100.h5"), st, a, 256);
        read_state(sn_test_path("ck_sharded/ckpt-00000100.h5"), st, b, 256);
        assert_close_arrays(b, a, n, 1e-12, 1e-5);
    }
    /* elastic: the step-50 checkpoint of 2 sharded ranks, on 3 sharded ranks */
    rc = sn_test_run("timeout 60 %s -np 3 " BIN " train --model %s --data %s --steps 100 "
                     "--threads 1 --out %s --resume %s --shard-optimizer --quiet", mp, m, d,
                     sn_test_path("resharded.h5"), sn_test_path("ck_sharded/ckpt-00000050.h5"));
    assert_int_equal(rc, 0);
    read_params(sn_test_path("unsharded.h5"), a, 256);
    read_params(sn_test_path("resharded.h5"), b, 256);
    assert_close_arrays(b, a, n, 1e-6, 1e-4);
    /* --profile's bytes handed to MPI: the sharded exchange sends what the
     * allreduce sends, less its control sums (it read 0) */
    double sent[2] = { 0, 0 };
    write_text(sn_test_path("prof.cfg"), "[net]\ninput = 8\nbatch = 48\noptimizer = adam\n"
               "[dense]\nunits = 512\nactivation = relu\n[dense]\nunits = 3\n");
    for (int sh = 0; sh < 2; sh++) {
        rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --steps 30 "
                         "--threads 1 --quiet --profile --allreduce mpi %s", mp,
                         sn_test_path("prof.cfg"), d, sh ? "--shard-optimizer" : "");
        assert_int_equal(rc, 0);
        char *out = out_text();
        const char *at = strstr(out, "gradient messages sent by rank 0: ");
        assert_non_null(at);
        sent[sh] = atof(at + strlen("gradient messages sent by rank 0: "));
        free(out);
    }
    assert_true(sent[0] > 0.02);   /* the same but the allreduce's two control sums */
    assert_true(fabs(sent[1] - sent[0]) <= 0.00015);
}

/* w.h5 and log.jsonl: m.cfg trained at 2 ranks for 3 epochs, made by the
 * first test that needs them (the tests after these use w.h5 too), with
 * its output and log checked: progress as plain lines under mpirun's
 * pseudo-terminal, a record per epoch, the test accuracy (returned) over
 * 0.95 and the rank count. */
static double e2e_trained(void)
{
    static double made = -1;
    if (made >= 0)
        return made;
    int rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --out %s "
                         "--log %s --threads 1", mpirun(), sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), sn_test_path("w.h5"), sn_test_path("log.jsonl"));
    char *out = out_text(), *err = err_text();
    if (rc != 0)
        fprintf(stderr, "exit %d\n%s\n%s\n", rc, out, err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "epoch 3/3"));
    assert_non_null(strstr(out, "rank"));
    /* mpirun gives ranks a pseudo-terminal: progress must still be plain lines */
    assert_null(strchr(out, '\r'));
    assert_non_null(strstr(out, "ETA"));
    free(out);
    free(err);
    char *log = sn_test_slurp(sn_test_path("log.jsonl"));
    int lines = 0;
    for (char *c = log; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 3);
    char *last = strstr(log, "\"epoch\": 3");
    assert_non_null(last);
    double acc = atof(strstr(last, "\"test_acc\": ") + 12);
    assert_true(acc > 0.95);
    assert_non_null(strstr(last, "\"ranks\": 2"));
    free(log);
    made = acc;
    return acc;
}

static void test_train_end_to_end(void **state)
{
    (void)state;
    assert_true(e2e_trained() > 0.95);
}

/* --eval-every 2 over 3 epochs: the test split after epochs 2 and 3 only;
 * 0 is refused. */
static void test_train_eval_every(void **state)
{
    (void)state;
    int rc;
    char *log, *err;
    rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --quiet "
                     "--log %s --threads 1 --eval-every 2", mpirun(), sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"), sn_test_path("log2.jsonl"));
    assert_int_equal(rc, 0);
    log = sn_test_slurp(sn_test_path("log2.jsonl"));
    char *e2 = strstr(log, "\"epoch\": 2"), *e3 = strstr(log, "\"epoch\": 3");
    assert_non_null(e2);
    assert_non_null(e3);
    char *t1 = strstr(log, "test_acc"), *t2 = strstr(e2, "test_acc");
    assert_true(t1 && t1 > e2 && t2 && t2 < e3 && strstr(e3, "test_acc"));
    free(log);
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --eval-every 0",
                     mpirun(), sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "--eval-every: expected an integer in [1, 1048576], got '0'"));
    free(err);

}

/* eval at 1, 2 and 3 ranks: the accuracy train logged, and the same
 * confusion matrix and per-class table (40 examples of each class, the
 * diagonal holding the correct ones); on data of two of the three classes
 * the macro mean is theirs, and said so. */
static void test_train_eval_any_ranks(void **state)
{
    (void)state;
    const double acc = e2e_trained();
    int rc;
    char *out;
    char want[64];
    snprintf(want, sizeof want, "accuracy %.2f%%", 100 * acc);
    char *matrix1 = NULL;
    for (int np = 1; np <= 3; np++) {
        rc = sn_test_run("timeout 60 %s -np %d " BIN " eval --weights %s --data %s", mpirun(), np,
                         sn_test_path("w.h5"), sn_test_path("blobs.h5"));
        assert_int_equal(rc, 0);
        out = out_text();
        if (!strstr(out, want))
            fprintf(stderr, "np %d: '%s' lacks '%s'\n", np, out, want);
        assert_non_null(strstr(out, want));
        assert_non_null(strstr(out, "120 examples"));
        /* the confusion matrix and per-class table: the same at any rank count,
         * 40 examples of each class, the diagonal holding the correct ones */
        char *cm = strstr(out, "confusion matrix");
        assert_non_null(cm);
        assert_non_null(strstr(cm, "precision"));
        assert_non_null(strstr(cm, "macro mean"));
        int diag = 0;
        for (int k = 0; k < K; k++) {
            char row[16];
            snprintf(row, sizeof row, "\n%2d %-6d", k, k);
            char *r = strstr(cm, row);
            assert_non_null(r);
            long v[K];
            char *p = r + strlen(row);
            for (int j = 0; j < K; j++)
                v[j] = strtol(p, &p, 10);
            assert_int_equal(v[0] + v[1] + v[2], NTEST / K);
            diag += (int)v[k];
        }
        assert_int_equal(diag, (int)(acc * NTEST + 0.5));
        if (np == 1)
            matrix1 = strdup(cm);
        else
            assert_string_equal(cm, matrix1);
        free(out);
    }
    free(matrix1);
    /* data of two of the three classes: the macro mean is theirs, and said so */
    rc = sn_test_run(BIN " convert subset %s --classes 1-2 -o %s && " BIN " eval --weights %s "
                     "--data %s", sn_test_path("blobs.h5"), sn_test_path("two.h5"),
                     sn_test_path("w.h5"), sn_test_path("two.h5"));
    assert_int_equal(rc, 0);
    out = out_text();
    assert_non_null(strstr(out, "(the macro mean is over the 2 classes with examples; class "
                                "without: 0)\n"));
    free(out);
}

/* The width and height of the PNG at path, from its header. */
static void png_size(const char *path, unsigned *w, unsigned *h)
{
    unsigned char b[24] = { 0 };
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(b, 1, sizeof b, f), sizeof b);
    fclose(f);
    assert_memory_equal(b + 1, "PNG", 3);
    assert_memory_equal(b + 12, "IHDR", 4);
    *w = (unsigned)b[18] << 8 | b[19];
    *h = (unsigned)b[22] << 8 | b[23];
}

/* --confusion-png: a real PNG of the size eval asks gnuplot for; without
 * gnuplot on PATH refused before the evaluation (exit 2, no accuracy
 * printed), the picture left as it was. */
static void test_train_eval_confusion_png(void **state)
{
    (void)state;
    e2e_trained();
    int rc;
    /* --confusion-png: a real PNG; on a regression target it is refused */
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " eval --weights %s --data %s --confusion-png %s",
                     mpirun(), sn_test_path("w.h5"), sn_test_path("blobs.h5"),
                     sn_test_path("cm.png"));
    assert_int_equal(rc, 0);
    /* the size eval asks gnuplot for: room for the matrix and for its
     * labels ("0 0" ...: 3 columns of 9 pixels) */
    unsigned w, h;
    png_size(sn_test_path("cm.png"), &w, &h);
    assert_int_equal(h, 150 + 55 * K + 9 * 3);
    assert_int_equal(w, h + 150);
    /* class names of any length: the canvas grows with the longest label
     * as drawn: "2 " and 24 columns, then "..."; a wide character takes two
     * columns, a letter's third and later combining marks are dropped */
    char *marks = calloc(700, 1), *letters = calloc(1001, 1);
    assert_true(marks && letters);
    marks[0] = 'e';
    for (int i = 0; i < 300; i++)
        memcpy(marks + 1 + 2 * i, "\xcc\x81", 2);   /* U+0301, combining acute */
    memset(letters, 'n', 1000);
    const char *names[3][3] = { { "a", marks, "c" }, { "a", "b", letters },
                                { "a", "\xe4\xb8\xad\xe4\xb8\xad", "c" } };
    const unsigned cols[3] = { 3, 2 + 24 + 3, 2 + 4 };
    for (int c = 0; c < 3; c++) {
        sn_test_write_blobs(sn_test_path("named.h5"), (struct sn_test_blobs){ .classes = names[c] });
        rc = sn_test_run(BIN " eval --weights %s --data %s --confusion-png %s", sn_test_path("w.h5"),
                         sn_test_path("named.h5"), sn_test_path("cmn.png"));
        assert_int_equal(rc, 0);
        png_size(sn_test_path("cmn.png"), &w, &h);
        const bool no_cjk_font = c == 2 && h == 150 + 55 * K + 9 * (2 + 2);   /* '?' each */
        assert_int_equal(h, 150 + 55 * K + 9 * (no_cjk_font ? 2 + 2 : cols[c]));
        assert_int_equal(w, h + 150);
    }
    free(marks);
    free(letters);
    /* a name no installed font can draw (U+3FFFD, unassigned): drawn as
     * '?' (pngcairo drew such names as shapes across the picture), said */
    const char *odd[3] = { "a", "b\xf0\xbf\xbf\xbd", "c" };
    sn_test_write_blobs(sn_test_path("named.h5"), (struct sn_test_blobs){ .classes = odd });
    assert_int_equal(sn_test_run(BIN " eval --weights %s --data %s --confusion-png %s",
                                 sn_test_path("w.h5"), sn_test_path("named.h5"),
                                 sn_test_path("cmn.png")), 0);
    char *odd_err = err_text();
    assert_non_null(strstr(odd_err, "warning: --confusion-png: class 1's name holds U+3FFFD, "
                                    "which no installed font can draw"));
    free(odd_err);
    /* without gnuplot on PATH: refused before the evaluation (exit 2, no
     * accuracy printed), the picture left as it was */
    rc = sn_test_run("PATH=/nonexistent " BIN " eval --weights %s --data %s --confusion-png %s",
                     sn_test_path("w.h5"), sn_test_path("blobs.h5"), sn_test_path("cm.png"));
    assert_int_equal(rc, 2);
    {
        char *gp_err = err_text(), *gp_out = sn_test_slurp(sn_test_path("out.txt"));
        assert_non_null(strstr(gp_err, "gnuplot is not installed (Debian: apt-get install "
                                       "gnuplot-nox)"));
        assert_null(strstr(gp_out, "accuracy"));
        free(gp_err);
        free(gp_out);
    }
    /* a TMPDIR where gnuplot's files cannot go: said before the evaluation
     * too (it was said after the whole evaluation) */
    rc = sn_test_run("TMPDIR=%s " BIN " eval --weights %s --data %s --confusion-png %s",
                     sn_test_path("blobs.h5"), sn_test_path("w.h5"), sn_test_path("blobs.h5"),
                     sn_test_path("cm.png"));
    assert_int_equal(rc, 1);
    {
        char *gp_err = err_text(), *gp_out = sn_test_slurp(sn_test_path("out.txt"));
        assert_non_null(strstr(gp_err, "cannot create a temporary directory in "));
        assert_non_null(strstr(gp_err, "(TMPDIR): Not a directory"));
        assert_null(strstr(gp_out, "accuracy"));
        free(gp_err);
        free(gp_out);
    }
    /* a gnuplot that fails: its error follows the results in a 2>&1 log
     * (stdout is flushed before every stderr line) */
    rc = sn_test_run("mkdir -p %s && printf '#!/bin/sh\\nexit 3\\n' > %s/gnuplot && chmod +x "
                     "%s/gnuplot && PATH=%s:$PATH " BIN " eval --weights %s --data %s "
                     "--confusion-png %s > %s 2>&1", sn_test_path("fakegp"),
                     sn_test_path("fakegp"), sn_test_path("fakegp"), sn_test_path("fakegp"),
                     sn_test_path("w.h5"), sn_test_path("blobs.h5"), sn_test_path("cm3.png"),
                     sn_test_path("both.txt"));
    char *both = sn_test_slurp(sn_test_path("both.txt"));
    const char *res = both ? strstr(both, "macro mean") : NULL,
               *gp = both ? strstr(both, "scratchnet: error: gnuplot failed") : NULL;
    if (rc != 1 || !res || !gp || gp < res)
        fail_msg("eval with a failing gnuplot: exit %d, log: %s", rc, both ? both : "");
    free(both);
}

/* predict: one row per example, argmax agreeing with eval's accuracy; a
 * dataset without -o is refused. */
static void test_train_predict_matches_eval(void **state)
{
    (void)state;
    const double acc = e2e_trained();
    int rc;
    /* predict: one row per example, argmax agreeing with eval's accuracy */
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " predict --weights %s --input %s -o %s", mpirun(),
                     sn_test_path("w.h5"), sn_test_path("blobs.h5"), sn_test_path("pred.csv"));
    assert_int_equal(rc, 0);
    char *csv = sn_test_slurp(sn_test_path("pred.csv"));
    int rows = 0, right = 0;
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        int idx, pred;
        assert_int_equal(sscanf(line + 1, "%d,%d", &idx, &pred), 2);
        right += pred == idx % K;   /* sn_test_write_blobs labels row i with i mod 3 */
        rows++;
    }
    free(csv);
    assert_int_equal(rows, NTEST);
    assert_float_equal((double)right / NTEST, acc, 1e-9);
    rc = sn_test_run(BIN " predict --weights %s --input %s", sn_test_path("w.h5"),
                     sn_test_path("blobs.h5"));
    assert_int_equal(rc, 2);
}

/* info on weights: layers, parameters, FLOPs; results written to a full
 * disk are no success; frozen parameters counted apart and marked. */
static void test_train_info(void **state)
{
    (void)state;
    e2e_trained();
    int rc;
    char *out, *err;
    rc = sn_test_run(BIN " info --weights %s", sn_test_path("w.h5"));
    assert_int_equal(rc, 0);
    out = out_text();
    assert_non_null(strstr(out, "dense1"));
    assert_non_null(strstr(out, "parameters: 195 learnt"));
    /* dense 8->16: 2*8*16 + 2*16 = 288; dense 16->3: 2*16*3 + 2*3 = 102 */
    assert_non_null(strstr(out, "forward: 390 FLOPs per example"));
    assert_non_null(strstr(out, "\ninputs: scale 1\n"));   /* blobs: floats as they are */
    const char *trained = strstr(out, "\n  trained     step ");   /* how far, in the record */
    assert_non_null(trained);
    long long step = 0, end = -1;
    assert_int_equal(sscanf(trained, "\n  trained     step %lld of %lld", &step, &end), 2);
    assert_true(step > 0 && step == end);   /* finished: no "stopped before" */
    assert_null(strstr(out, "stopped before the run's end"));
    free(out);
    /* results that cannot be written (a full disk) are no success */
    rc = sn_test_run("sh -c '" BIN " info --weights %s > /dev/full'", sn_test_path("w.h5"));
    err = err_text();
    if (rc != 1 || !strstr(err, "writing the standard output failed: No space left on device"))
        fail_msg("info > /dev/full: exit %d: %s", rc, err);
    free(err);
    /* a progress line that failed mid-run left no errno: said without one */
    rc = sn_test_run("sh -c '" BIN " train --model %s --data %s --steps 2 --out %s > /dev/full'",
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"), sn_test_path("full.h5"));
    err = err_text();
    if (rc != 1 || !strstr(err, "some lines of the standard output could not be written (a full "
                                "disk, or a device that refuses them?)"))
        fail_msg("train > /dev/full: exit %d: %s", rc, err);
    free(err);
    /* frozen parameters are counted apart and marked: a whole layer, or
     * one parameter of it */
    FILE *f = fopen(sn_test_path("frozen.cfg"), "w");
    fputs("[net]\ninput = 1,4,4\n[conv]\nfilters = 2\nsize = 1\nfreeze = weight\n[flatten]\n"
          "[dense]\nunits = 3\nfreeze = 1\n", f);
    fclose(f);
    rc = sn_test_run(BIN " info --model %s", sn_test_path("frozen.cfg"));
    out = out_text();
    if (rc != 0 || !strstr(out, "(frozen)") || !strstr(out, "(weight frozen)") ||
        !strstr(out, "parameters: 103, 2 learnt and 101 frozen"))
        fail_msg("exit %d: %s", rc, out);
    free(out);
    /* --data: the splits as the readers take them, and the class names */
    rc = sn_test_run(BIN " info --data %s", sn_test_path("blobs.h5"));
    out = out_text();
    if (rc != 0 || !strstr(out, "  /train ") || !strstr(out, " rows of 8 float, int labels, "
                                                          "scale 1\n") || !strstr(out, "classes: "))
        fail_msg("info --data: exit %d: %s", rc, out);
    free(out);
    /* a split under a name no reader takes (/validation) is said, not passed over */
    {
        struct sn_h5 *h;
        float x[24 * 8] = { 0 };
        int32_t y[24] = { 0 };
        const size_t xd[2] = { 24, 8 }, yd[1] = { 24 };
        assert_int_equal(sn_h5_create(sn_test_path("validation.h5"), &h), SN_OK);
        assert_int_equal(sn_h5_write(h, "/train/x", 2, xd, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_write(h, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
        assert_int_equal(sn_h5_write(h, "/validation/x", 2, xd, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_write(h, "/validation/y", 1, yd, SN_H5_I32, y), SN_OK);
        assert_int_equal(sn_h5_close(h), SN_OK);
        /* a file to predict from: /val without y */
        assert_int_equal(sn_h5_create(sn_test_path("noy.h5"), &h), SN_OK);
        assert_int_equal(sn_h5_write(h, "/train/x", 2, xd, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_write(h, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
        assert_int_equal(sn_h5_write(h, "/val/x", 2, xd, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_close(h), SN_OK);
        /* a held-out file: /val alone, as eval --split val reads it */
        assert_int_equal(sn_h5_create(sn_test_path("heldout.h5"), &h), SN_OK);
        assert_int_equal(sn_h5_write(h, "/val/x", 2, xd, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_write(h, "/val/y", 1, yd, SN_H5_I32, y), SN_OK);
        assert_int_equal(sn_h5_close(h), SN_OK);
    }
    rc = sn_test_run(BIN " info --data %s", sn_test_path("heldout.h5"));
    out = out_text();
    if (rc != 0 || !strstr(out, "  /val   24 rows of 8 float, int labels, scale 1\n") ||
        !strstr(out, "note: no /train: a held-out file, for eval --split val and predict"))
        fail_msg("info --data of a held-out file: exit %d: %s", rc, out);
    free(out);
    rc = sn_test_run(BIN " info --data %s", sn_test_path("noy.h5"));
    out = out_text();
    if (rc != 0 || !strstr(out, "  /val   24 rows of 8 float, no y, scale 1\n") ||
        !strstr(out, "note: a split without y: predict reads the file"))
        fail_msg("info --data of a file without /val/y: exit %d: %s", rc, out);
    free(out);
    rc = sn_test_run(BIN " info --data %s", sn_test_path("validation.h5"));
    err = err_text();
    if (rc != 0 || !strstr(err, "warning: ") ||
        !strstr(err, "validation.h5 also holds /validation, not read: splits are named train, "
                     "test and val, in lower case"))
        fail_msg("info --data with /validation: exit %d: %s", rc, err);
    free(err);
    /* --batch sizes the estimate as train --batch would */
    rc = sn_test_run(BIN " info --model %s --batch 96 --ranks 2", sn_test_path("frozen.cfg"));
    out = out_text();
    if (rc != 0 || !strstr(out, "memory per rank at batch 96 / 2 ranks = 48: "))
        fail_msg("info --batch: exit %d: %s", rc, out);
    free(out);
    /* the workspace is a rank's: --threads, else OMP_NUM_THREADS, else cores / P */
    static const struct { const char *env, *flags, *want; } threads[] = {
        { "", "--threads 3", "MB at 3 threads)" },
        { "OMP_NUM_THREADS=1 ", "--ranks 2", "MB at 1 thread)" },
        { "", "--ranks 4096", "MB at 1 thread)" },
        /* sized, never allocated: under an address-space limit OpenBLAS
         * would retry its 64 buffers of 128 MiB forever */
        { "ulimit -v 4000000; timeout -k 2 20 ", "--threads 64", "MB at 64 threads)" },
    };
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        if (strstr(threads[i].env, "ulimit -v") && getenv("SN_SANITIZE"))
            continue;   /* the sanitizers reserve terabytes of address space */
        rc = sn_test_run("%s" BIN " info --model %s %s", threads[i].env,
                         sn_test_path("frozen.cfg"), threads[i].flags);
        out = out_text();
        if (rc != 0 || !strstr(out, threads[i].want))
            fail_msg("info %s: exit %d: %s", threads[i].flags, rc, out);
        free(out);
    }
}

/* --bucket-mb where the reducer averages in one pass (2 ranks on one host:
 * shared) is accepted and said to do nothing; with --allreduce mpi it is
 * used, and nothing is said. */
static void test_train_bucket_mb_one_host(void **state)
{
    (void)state;
    e2e_trained();
    for (int mpi = 0; mpi < 2; mpi++) {
        int rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --steps 2 "
                             "--quiet --threads 1 --bucket-mb 0.5%s", mpirun(),
                             sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                             mpi ? " --allreduce mpi" : "");
        char *err = err_text();
        const bool said = strstr(err, "warning: --bucket-mb has no effect: the shared reducer "
                                      "averages every gradient in one pass") != NULL;
        if (rc != 0 || said == (bool)mpi)
            fail_msg("--bucket-mb%s: exit %d: %s", mpi ? " --allreduce mpi" : "", rc, err);
        free(err);
    }
}

/* 1 rank and 2 ranks at the same global batch reach the same parameters
 * after 20 steps (within 1e-5 relative: only the order of sums differs). */
static void test_train_one_vs_two_ranks(void **state)
{
    (void)state;
    float a[256], b[256];
    for (int np = 1; np <= 2; np++) {
        int rc = sn_test_run("timeout 120 %s -np %d " BIN " train --model %s --data %s --steps 20 "
                             "--out %s --quiet --threads 1", mpirun(), np, sn_test_path("m.cfg"),
                             sn_test_path("blobs.h5"), sn_test_path(np == 1 ? "p1.h5" : "p2.h5"));
        assert_int_equal(rc, 0);
    }
    size_t n = read_params(sn_test_path("p1.h5"), a, 256);
    read_params(sn_test_path("p2.h5"), b, 256);
    assert_close_arrays(b, a, n, 1e-6, 1e-5);
}

/* 3 epochs straight, and 1 epoch + resume for 2 more, end bitwise equal;
 * so do 17 steps + resume (mid-epoch) and --resume auto. */
static void test_train_resume_is_exact(void **state)
{
    (void)state;
    float a[256], b[256];
    const char *mp = mpirun();
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --out %s "
                                 "--quiet --threads 1", mp, sn_test_path("m.cfg"),
                                 sn_test_path("blobs.h5"), sn_test_path("full.h5")), 0);
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --epochs 1 "
                                 "--checkpoint-dir %s --quiet --threads 1", mp, sn_test_path("m.cfg"),
                                 sn_test_path("blobs.h5"), sn_test_path("ck")), 0);
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s "
                                 "--resume %s --out %s --quiet --threads 1", mp,
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                                 sn_test_path("ck/ckpt-00000020.h5"), sn_test_path("resumed.h5")), 0);
    size_t n = read_params(sn_test_path("full.h5"), a, 256);
    read_params(sn_test_path("resumed.h5"), b, 256);
    assert_memory_equal(a, b, n * sizeof(float));

    /* mid-epoch: stop at step 17 (epoch 1 has 20), resume auto, on 1 rank
     * after 2 (elastic: same examples, sums in another order) */
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --steps 17 "
                                 "--checkpoint-dir %s --quiet --threads 1", mp, sn_test_path("m.cfg"),
                                 sn_test_path("blobs.h5"), sn_test_path("ck2")), 0);
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s "
                                 "--checkpoint-dir %s --resume auto --out %s --threads 1", mp,
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                                 sn_test_path("ck2"), sn_test_path("auto.h5")), 0);
    char *out = out_text();
    assert_non_null(strstr(out, "resumed from"));
    assert_non_null(strstr(out, "step 17"));
    free(out);
    read_params(sn_test_path("auto.h5"), b, 256);
    assert_memory_equal(a, b, n * sizeof(float));
    assert_int_equal(sn_test_run("timeout 120 %s -np 1 " BIN " train --model %s --data %s "
                                 "--resume %s --out %s --quiet --threads 1", mp,
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                                 sn_test_path("ck2/ckpt-00000017.h5"), sn_test_path("elastic.h5")), 0);
    read_params(sn_test_path("elastic.h5"), b, 256);
    assert_close_arrays(b, a, n, 1e-6, 1e-5);
    /* auto passes over a damaged newest checkpoint to the one before; an
     * --init beside it is not loaded (the checkpoint holds the run's
     * parameters): said */
    assert_int_equal(sn_test_run("truncate -s 2000 %s/ckpt-00000060.h5", sn_test_path("ck2")), 0);
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s "
                                 "--checkpoint-dir %s --resume auto --threads 1 --init %s", mp,
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                                 sn_test_path("ck2"), sn_test_path("auto.h5")), 0);
    char *err = err_text();
    out = out_text();
    assert_non_null(strstr(err, "auto.h5 is not loaded: the run resumes from "));
    assert_non_null(strstr(err, "ckpt-00000060.h5: damaged"));
    assert_non_null(strstr(err, "trying the one before"));
    assert_non_null(strstr(out, "ckpt-00000040.h5 after epoch 2 (step 40)"));
    free(err);
    free(out);
    /* auto with an empty folder starts fresh */
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --steps 2 "
                                 "--checkpoint-dir %s --resume auto --threads 1", mp,
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                                 sn_test_path("ck3")), 0);
    out = out_text();
    assert_non_null(strstr(out, "starting fresh"));
    free(out);
}

/* All parameters and buffers of a weights file, as raw bytes. */
static char *weights_bytes(const char *path)
{
    /* the file holds only datasets written in one order, so its data
     * section compares; read every /params array through the library */
    static const char *names[] = { "/params/c/weight", "/params/c/bias", "/params/batchnorm1/weight",
                                   "/params/batchnorm1/bias", "/params/batchnorm1/running_mean",
                                   "/params/batchnorm1/running_var", "/params/side/weight",
                                   "/params/side/bias", "/params/dense7/weight", "/params/dense7/bias" };
    static const size_t lens[] = { 16, 4, 4, 4, 4, 4, 16, 4, 3 * 4 * 3 * 5, 3 };
    size_t total = 0;
    for (int i = 0; i < 10; i++)
        total += lens[i];
    float *all = malloc(total * sizeof *all), *at = all;
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    for (int i = 0; i < 10; i++) {
        int rc = sn_h5_read_all(f, names[i], SN_H5_F32, at, lens[i]);
        if (rc)
            fprintf(stderr, "%s\n", sn_errmsg());
        assert_int_equal(rc, SN_OK);
        at += lens[i];
    }
    sn_h5_close(f);
    return (char *)all;
}


/* A longer run resumed with --resume-override horizon stretches its cosine
 * schedule: the start says what the learning rate of the next step is on
 * each horizon (a cosine that had ended restarts at half its peak). */
static void test_train_horizon_override_says_rate(void **state)
{
    (void)state;
    const char *cfg = sn_test_path("cos.cfg");
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("[net]\ninput = 8\nbatch = 24\nepochs = 2\noptimizer = sgd\nlr = 0.05\n"
          "lr_schedule = cosine\n[dense]\nunits = 3\n", f);
    fclose(f);
    const char *run = BIN " train --model %s --data %s --checkpoint-dir %s --threads 1 %s";
    const char *ck = sn_test_path("ck_horizon"), *blobs = sn_test_path("blobs.h5");
    assert_int_equal(sn_test_run(run, cfg, blobs, ck, "--quiet"), 0);
    assert_int_equal(sn_test_run(run, cfg, blobs, ck, "--resume auto --epochs 4 --quiet"), 2);
    assert_int_equal(sn_test_run(run, cfg, blobs, ck,
                                 "--resume auto --epochs 4 --resume-override horizon"), 0);
    char *out = out_text();
    const char *line = strstr(out, "resume: the learning rate of step ");
    assert_non_null(line);
    long long step = 0, now = 0, then = 0;
    double a = -1, b = -1;
    assert_int_equal(sscanf(line, "resume: the learning rate of step %lld is %lf on this run's "
                            "horizon of %lld steps, %lf on the checkpoint's %lld", &step, &a,
                            &now, &b, &then), 5);
    assert_true(now == 2 * then && step == then + 1);
    assert_true(fabs(a - 0.025) < 1e-3 && b == 0.0);
    assert_non_null(strstr(line, "(the cosine schedule is stretched over the new horizon)"));
    free(out);
}

/* --resume auto never writes over checkpoints it cannot continue.  One
 * written with an EMA of the weights, resumed by a model file without it:
 * the file is whole (its checksum covers what it holds, not what this run
 * keeps), so the difference is named and the folder left as it was; with
 * --resume-override optimizer it continues.  A folder whose checkpoints
 * are all damaged is refused, not started afresh over them. */
static void test_train_resume_auto_keeps_checkpoints(void **state)
{
    (void)state;
    const char *net = "[net]\ninput = 8\nbatch = 24\nepochs = 3\noptimizer = sgd\nlr = 0.05\n"
                      "momentum = 0.9\n%s[dense]\nunits = 16\nactivation = relu\n[dense]\n"
                      "units = 3\n";
    char text[512];
    const char *files[2] = { sn_test_path("ema.cfg"), sn_test_path("plain.cfg") };
    for (int k = 0; k < 2; k++) {
        FILE *cfg = fopen(files[k], "w");
        assert_non_null(cfg);
        snprintf(text, sizeof text, net, k == 0 ? "ema = 0.9\n" : "");
        fputs(text, cfg);
        fclose(cfg);
    }
    const char *run = BIN " train --model %s --data %s --checkpoint-dir %s --threads 1 %s";
    const char *ck = sn_test_path("ck_keep"), *blobs = sn_test_path("blobs.h5");
    assert_int_equal(sn_test_run(run, files[0], blobs, ck, "--steps 4 --quiet"), 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/ckpt-00000004.h5", ck);
    assert_int_equal(sn_test_run("cp %s %s", path, sn_test_path("keep.before")), 0);
    assert_int_equal(sn_test_run(run, files[1], blobs, ck, "--resume auto --steps 8"), 2);
    char *err = err_text();
    assert_non_null(strstr(err, "belongs to another run: this run's optimizer sgd momentum 0.9"));
    assert_non_null(strstr(err, "ema 0.9"));
    assert_null(strstr(err, "corrupted"));
    free(err);
    assert_int_equal(sn_test_run("cmp %s %s && ls %s | wc -l | grep -qx 1", path,
                                 sn_test_path("keep.before"), ck), 0);
    assert_int_equal(sn_test_run(run, files[1], blobs, ck,
                                 "--resume auto --resume-override optimizer --steps 6"), 0);
    char *out = out_text();
    assert_non_null(strstr(out, "resumed from"));
    free(out);
    /* every checkpoint damaged: refused, each left as it was */
    assert_int_equal(sn_test_run("for f in %s/ckpt-*.h5; do truncate -s 3000 $f; done", ck), 0);
    assert_int_equal(sn_test_run(run, files[1], blobs, ck, "--resume auto --steps 8"), 2);
    err = err_text();
    assert_non_null(strstr(err, "none of the 2 checkpoints in"));
    assert_non_null(strstr(err, "would write over them"));
    free(err);
    assert_int_equal(sn_test_run("ls %s | wc -l | grep -qx 2 && [ $(stat -c %%s %s/ckpt-00000004.h5) "
                                 "= 3000 ]", ck, ck), 0);
}

/* --keep removes only this run's checkpoints: a weights file and another
 * run's checkpoint of the same model (another seed) under checkpoint
 * names in the folder are left, each said once (they were removed). */
static void test_train_keep_only_this_runs(void **state)
{
    (void)state;
    const char *cfg = sn_test_path("keep_own.cfg"), *blobs = sn_test_path("blobs.h5");
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("[net]\ninput = 8\nbatch = 24\noptimizer = sgd\nlr = 0.05\nmomentum = 0.9\n"
          "[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n", f);
    fclose(f);
    const char *ck = sn_test_path("ck_own"), *other = sn_test_path("ck_other");
    const char *run = BIN " train --model %s --data %s --threads 1 --quiet %s";
    char flags[2400];
    snprintf(flags, sizeof flags, "--seed 1 --steps 4 --checkpoint-dir %s", ck);
    assert_int_equal(sn_test_run(run, cfg, blobs, flags), 0);
    snprintf(flags, sizeof flags, "--seed 2 --steps 2 --checkpoint-dir %s --out %s/w.h5", other,
             other);
    assert_int_equal(sn_test_run(run, cfg, blobs, flags), 0);
    assert_int_equal(sn_test_run("cp %s/ckpt-00000002.h5 %s/ && cp %s/w.h5 %s/ckpt-00000003.h5",
                                 other, ck, other, ck), 0);
    snprintf(flags, sizeof flags, "--seed 1 --steps 8 --checkpoint-dir %s --resume auto "
             "--checkpoint-every 2 --keep 1", ck);
    assert_int_equal(sn_test_run(run, cfg, blobs, flags), 0);
    char *err = err_text();
    const char *weights = strstr(err, "ckpt-00000003.h5: a weights file, not a checkpoint");
    const char *foreign = strstr(err, "ckpt-00000002.h5: another run's checkpoint (its seed "
                                      "differs from this run's)");
    assert_non_null(weights);
    assert_non_null(foreign);
    assert_null(strstr(weights + 1, "ckpt-00000003.h5: a weights file"));   /* said once */
    assert_null(strstr(foreign + 1, "ckpt-00000002.h5: another run's"));
    free(err);
    assert_int_equal(sn_test_run("cd %s && ls | tr '\\n' ' '", ck), 0);
    char *out = out_text();
    assert_string_equal(out, "ckpt-00000002.h5 ckpt-00000003.h5 ckpt-00000008.h5 ");
    free(out);
    /* one of this run's that its owner made read-only is left, said once */
    assert_int_equal(sn_test_run("chmod 444 %s/ckpt-00000008.h5", ck), 0);
    snprintf(flags, sizeof flags, "--seed 1 --steps 12 --checkpoint-dir %s --resume auto "
             "--checkpoint-every 2 --keep 1", ck);
    assert_int_equal(sn_test_run(run, cfg, blobs, flags), 0);
    err = err_text();
    const char *ro = strstr(err, "--keep leaves ");
    if (!ro || !strstr(ro, "ckpt-00000008.h5: it is read-only (chmod u+w lets --keep remove it)") ||
        strstr(strstr(ro, "read-only") + 1, "read-only"))
        fail_msg("%s", err);
    free(err);
    assert_int_equal(sn_test_run("test -f %s/ckpt-00000008.h5 && test -f %s/ckpt-00000012.h5 && "
                                 "! test -e %s/ckpt-00000010.h5", ck, ck, ck), 0);
}

/* eval of a checkpoint of an ema run evaluates what the run evaluated and
 * wrote to --out, the weight average, and says so (it used the live
 * weights, another model, without a word). */
static void test_eval_checkpoint_uses_average(void **state)
{
    (void)state;
    const char *cfg = sn_test_path("ema_eval.cfg");
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("[net]\ninput = 8\nbatch = 24\nepochs = 3\noptimizer = sgd\nlr = 0.05\n"
          "momentum = 0.9\nema = 0.9\n[dense]\nunits = 16\nactivation = relu\n[dense]\n"
          "units = 3\n", f);
    fclose(f);
    const char *blobs = sn_test_path("blobs.h5");
    char ck[1024], out[1024];
    snprintf(ck, sizeof ck, "%s", sn_test_path("ck_ema"));
    snprintf(out, sizeof out, "%s", sn_test_path("ema_out.h5"));
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 10 --threads 1 "
                                 "--checkpoint-dir %s --out %s --quiet", cfg, blobs, ck, out), 0);
    assert_int_equal(sn_test_run(BIN " eval --weights %s --data %s", out, blobs), 0);
    char *want = out_text();
    assert_int_equal(sn_test_run(BIN " eval --weights %s/ckpt-00000010.h5 --data %s", ck, blobs),
                     0);
    char *got = out_text(), *err = err_text();
    const char *a = strstr(want, "loss"), *b = strstr(got, "loss");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);   /* the same numbers and table from "loss" on */
    assert_non_null(strstr(err, "its weight average (ema) is used"));
    free(got);
    free(err);
    /* and with --model naming a file of the same layers without ema: the
     * checkpoint's own run says it kept an average */
    const char *plain = sn_test_path("m.cfg");
    assert_int_equal(sn_test_run(BIN " eval --weights %s/ckpt-00000010.h5 --model %s --data %s",
                                 ck, plain, blobs), 0);
    got = out_text();
    b = strstr(got, "loss");
    assert_non_null(b);
    assert_string_equal(a, b);
    free(want);
    free(got);
    /* info says which weights the readers take, and the step */
    assert_int_equal(sn_test_run(BIN " info --weights %s/ckpt-00000010.h5", ck), 0);
    got = out_text();
    assert_non_null(strstr(got, "\ncheckpoint at step 10: eval, predict and export use its "
                                "weight average (ema), as its run evaluated\n"));
    free(got);
}

/* A warm-up longer than the run, and --optimizer dropping the model
 * file's momentum, are said (also with --quiet): both ran without a word. */
static void test_train_warns_settings_unused(void **state)
{
    (void)state;
    const char *cfg = sn_test_path("warm.cfg");
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("[net]\ninput = 8\nbatch = 24\noptimizer = sgd\nmomentum = 0.9\nlr_schedule = cosine\n"
          "warmup_steps = 100\n[dense]\nunits = 3\n", f);
    fclose(f);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 5 --optimizer adam "
                                 "--threads 1 --quiet", cfg, sn_test_path("blobs.h5")), 0);
    char *err = err_text();
    assert_non_null(strstr(err, "warmup_steps 100 is longer than the run, which ends at step 5"));
    assert_non_null(strstr(err, "--optimizer adam: the model file's momentum 0.9 is not used"));
    free(err);
    /* settings of another optimizer: kept when the new kind reads them,
     * said when it does not */
    char adam[1200];   /* sn_test_path reuses its 8 buffers */
    snprintf(adam, sizeof adam, "%s", sn_test_path("warm_adam.cfg"));
    f = fopen(adam, "w");
    assert_non_null(f);
    fputs("[net]\ninput = 8\nbatch = 24\noptimizer = adam\nbeta1 = 0.8\neps = 1e-6\n"
          "weight_decay = 0.01\n[dense]\nunits = 3\n", f);
    fclose(f);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 1 --optimizer sgd "
                                 "--threads 1 --quiet", adam, sn_test_path("blobs.h5")), 0);
    err = err_text();
    assert_non_null(strstr(err, "--optimizer sgd: the model file's beta1 0.8, eps 1e-06 are not "
                                "used by sgd"));
    free(err);
    char out[1200];
    snprintf(out, sizeof out, "%s", sn_test_path("warm_adamw.h5"));
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 1 --optimizer adamw "
                                 "--threads 1 --quiet --out %s", adam, sn_test_path("blobs.h5"),
                                 out), 0);
    err = err_text();
    assert_null(strstr(err, "not used"));
    /* the same weight_decay, another meaning: said */
    assert_non_null(strstr(err, "--optimizer adamw: the model file's weight_decay 0.01 now "
                                "shrinks the weights directly (decoupled, as AdamW) instead of "
                                "adding to the gradient (L2)"));
    free(err);
    assert_int_equal(sn_test_run(BIN " info --weights %s", out), 0);
    char *info = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(info, "adamw beta1 0.8 beta2 0.999 eps 1e-06"));
    free(info);
    /* more threads than the host has cores */
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 1 --threads 1024 "
                                 "--quiet", sn_test_path("warm.cfg"), sn_test_path("blobs.h5")),
                     0);
    err = err_text();   /* the threads the run uses: 64 in Debian's OpenBLAS build */
    assert_non_null(strstr(err, " threads on "));
    free(err);
    /* OMP_PROC_BIND pins the first thread to one core before main: the
     * rank's cores are its places (2 threads on 2 cores were "on 1 core") */
    for (int cores = 2; cores >= 1; cores--) {
        assert_int_equal(sn_test_run("OMP_PROC_BIND=true taskset -c %s " BIN " train --model %s "
                                     "--data %s --steps 1 --threads 2 --quiet",
                                     cores == 2 ? "0,1" : "0", sn_test_path("warm.cfg"),
                                     sn_test_path("blobs.h5")), 0);
        err = err_text();
        if (cores == 2)
            assert_null(strstr(err, "threads on"));
        else
            assert_non_null(strstr(err, "2 threads on 1 core (the cores this rank is bound to)"));
        free(err);
    }
    /* more single-threaded ranks than cores: fewer ranks is the advice, not
     * --threads 1 (which they have); tried where cores + 1 ranks are few */
    const long host = sysconf(_SC_NPROCESSORS_ONLN);
    if (host > 4) {
        printf("%ld cores: more ranks than cores left out\n", host);
        return;
    }
    assert_int_equal(sn_test_run("%s -np %ld " BIN " train --model %s --data %s --steps 1 "
                                 "--threads 1 --quiet", mpirun(), host + 1,
                                 sn_test_path("warm.cfg"), sn_test_path("blobs.h5")), 0);
    err = err_text();
    char want[160];
    snprintf(want, sizeof want, "%ld ranks on %ld core%s (this host's): ranks that share a core "
             "slow every step", host + 1, host, host == 1 ? "" : "s");
    assert_non_null(strstr(err, want));
    assert_null(strstr(err, "--threads 1 is usually faster"));
    free(err);
    /* two ranks confined to one core (a container's cpuset; mpirun binding
     * nothing, as launch/local.sh when the ranks outnumber its cores): each
     * saw one thread on its one core, and nothing was said */
    assert_int_equal(sn_test_run("taskset -c 0 %s --bind-to none -np 2 " BIN " train --model %s "
                                 "--data %s --steps 1 --threads 1 --quiet", mpirun(),
                                 sn_test_path("warm.cfg"), sn_test_path("blobs.h5")), 0);
    err = err_text();
    assert_non_null(strstr(err, "2 ranks on 1 core (the cores this host's ranks may use): ranks "
                                "that share a core slow every step"));
    free(err);
}

/* A reader that goes away (| head) does not kill a run: it trains on and
 * saves, exit 0; a file-size limit (ulimit -f) makes a write fail with
 * "file too large", exit 1, no temporary file left (both were signals
 * that killed the command mid-write). */
static void test_train_pipe_and_file_limit(void **state)
{
    (void)state;
    const char *out = sn_test_path("piped.h5");
    const char *st = sn_test_path("piped.rc");
    int rc = sn_test_run("{ %s train --model %s --data %s --steps 200 --progress plain "
                         "--progress-every 1 --threads 1 --out %s; echo $? > %s; } | head -1 "
                         "> /dev/null; exit $(cat %s)", BIN, sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), out, st, st);
    assert_int_equal(rc, 0);
    assert_int_equal(sn_test_run("test -s %s", out), 0);
    const char *dir = sn_test_path("fsize");
    rc = sn_test_run("mkdir -p %s && ulimit -f 8 && " BIN " convert subset %s --classes 0-2 "
                     "-o %s/all.h5", dir, sn_test_path("blobs.h5"), dir);
    assert_int_equal(rc, 1);
    char *err = err_text();
    char want[1200];   /* named as given, not by its temporary name */
    snprintf(want, sizeof want, "%s/all.h5: writing failed (file too large)", dir);
    assert_non_null(strstr(err, want));
    free(err);
    assert_int_equal(sn_test_run("ls -A %s | wc -l | grep -qx 0", dir), 0);
    /* the same for a CSV */
    rc = sn_test_run("ulimit -f 1 && " BIN " predict --weights %s --input %s -o %s/p.csv",
                     out, sn_test_path("blobs.h5"), dir);
    assert_int_equal(rc, 1);
    err = err_text();
    snprintf(want, sizeof want, "%s/p.csv: writing failed (file too large)", dir);
    assert_non_null(strstr(err, want));
    free(err);
    assert_int_equal(sn_test_run("ls -A %s | wc -l | grep -qx 0", dir), 0);
}

/* A classifier that ended no better than guessing is warned about, with
 * its lr: here inputs 10,000 times their scale (train only) and a tiny
 * lr, so the loss stays far above ln 3 with finite gradients; the same run
 * on the plain data learns and is not warned about. */
static void test_train_not_learnt_warned(void **state)
{
    (void)state;
    const char *big = sn_test_path("blobs_big.h5");
    sn_test_write_blobs(big, (struct sn_test_blobs){ .train_scale = 1e4 });
    const char *run = BIN " train --model %s --data %s --steps 120 --threads 1 --quiet "
                      "--allow-split-preprocessing --lr 1e-9";
    assert_int_equal(sn_test_run(run, sn_test_path("m.cfg"), big), 0);
    char *err = err_text();
    assert_non_null(strstr(err, "no better than guessing among 3 classes (1.099): the network "
                                "did not learn; check the learning rate (lr 1e-09 here"));
    free(err);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 120 --threads 1 "
                                 "--quiet", sn_test_path("m.cfg"), sn_test_path("blobs.h5")), 0);
    err = err_text();
    assert_null(strstr(err, "guessing"));
    free(err);
}

/* The guess the not-learnt warning compares with is the whole set's, not
 * rank 0's share: stored class by class, rank 0's half holds classes 0
 * and 1 (ln 2 = 0.6931), the whole set 12, 12 and 24 rows of 0, 1, 2
 * (1.04).  Inputs of a thousand times their scale and a tiny lr keep the
 * loss above either. */
static void test_train_not_learnt_counts_every_rank(void **state)
{
    (void)state;
    float x[48 * 8];
    int32_t y[48];
    for (int i = 0; i < 48; i++) {
        y[i] = i < 24 ? i % 2 : 2;
        for (int j = 0; j < 8; j++)
            x[i * 8 + j] = 1e3f * (float)((i * 7 + j * 3) % 11 - 5);
    }
    struct sn_h5 *f;
    const size_t xd[2] = { 48, 8 }, yd[1] = { 48 };
    assert_int_equal(sn_h5_create(sn_test_path("sorted.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 2, xd, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_test_run("%s -np 2 " BIN " train --model %s --data %s --steps 120 "
                                 "--threads 1 --quiet --lr 1e-9", mpirun(),
                                 sn_test_path("m.cfg"), sn_test_path("sorted.h5")), 0);
    char *err = err_text();
    if (!strstr(err, "no better than guessing among 3 classes (1.04): the network did not learn"))
        fail_msg("%s", err);
    free(err);
}

/* A loss past a float's range, summed in double to a finite number, ends
 * the run as diverged, exit 1, before its epoch is logged: plot refuses
 * such a record, and the next train --log refused the whole log.  Here
 * --init weights of 3e24 and a layer scale of 1e-6 make every output
 * 2.4e19, each squared error 5.8e38. */
static void test_train_loss_past_float_range(void **state)
{
    (void)state;
    struct sn_h5 *f;
    float x[48 * 8], y[48], w[8], b[1] = { 0 };
    for (int i = 0; i < 48 * 8; i++)
        x[i] = 1.0f;
    memset(y, 0, sizeof y);
    for (int i = 0; i < 8; i++)
        w[i] = 3e24f;
    const size_t xd[2] = { 48, 8 }, yd[2] = { 48, 1 }, wd[2] = { 1, 8 }, bd[1] = { 1 };
    assert_int_equal(sn_h5_create(sn_test_path("reg.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 2, xd, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 2, yd, SN_H5_F32, y), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_h5_create(sn_test_path("bigw.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/dense0/weight", 2, wd, SN_H5_F32, w), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/dense0/bias", 1, bd, SN_H5_F32, b), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    write_text(sn_test_path("reg.cfg"), "[net]\ninput = 8\nbatch = 24\nepochs = 1\nloss = mse\n"
                                        "optimizer = sgd\nlr = 1e-30\n\n[dense]\nunits = 1\n"
                                        "scale = 1e-6\n");
    int rc = sn_test_run(BIN " train --model %s --data %s --init %s --log %s --quiet",
                         sn_test_path("reg.cfg"), sn_test_path("reg.h5"), sn_test_path("bigw.h5"),
                         sn_test_path("inf.jsonl"));
    char *err = err_text();
    if (rc != 1 || !strstr(err, "epoch 1: the training loss is 5.76e+38, beyond a float's range"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
    assert_int_equal(access(sn_test_path("inf.jsonl"), F_OK), -1);   /* no epoch logged */
}

/* A run of one rank has no watchdog: frozen 3 s (SIGSTOP) under
 * --timeout 1, it goes on, and stops when told, saving (the watchdog
 * killed such a run, a slow step of a healthy one, blaming "another
 * rank").  Long enough to outlast the freeze on any machine: 12,000 steps
 * ended before the first 0.3 s on a fast one. */
static void test_train_one_rank_no_watchdog(void **state)
{
    (void)state;
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 20000000 --threads 1 --quiet "
                         "--timeout 1 --out %s & p=$!; sleep 0.3; kill -STOP $p || exit 97; "
                         "sleep 3; kill -CONT $p; sleep 1; kill -TERM $p; wait $p",
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                         sn_test_path("nowatch.h5"));
    char *err = err_text();
    if (rc != 0 || strstr(err, "no progress"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
}

/* A rank started with too few open files (ulimit -n 20: Open MPI crashed
 * in MPI_Win_shared_query) says so before MPI starts, and the job ends. */
static void test_train_open_file_limit(void **state)
{
    (void)state;
    int rc = sn_test_run("timeout 60 %s -np 1 " BIN " train --model %s --data %s --steps 2 "
                         "--quiet : -np 1 sh -c 'ulimit -n 20; exec " BIN " train --model %s "
                         "--data %s --steps 2 --quiet'", mpirun(), sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    char *err = err_text();
    if (rc == 0 || rc == 124 || rc == 139 ||
        !strstr(err, "the open-file limit (ulimit -n) is 20, below the 64 a rank needs"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
    /* every rank inherits it from the launcher: said once, by rank 0 */
    rc = sn_test_run("ulimit -n 40; timeout 60 %s -np 3 " BIN " train --model %s --data %s "
                     "--steps 2 --quiet", mpirun(), sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"));
    err = err_text();
    int lines = 0;
    for (const char *p = err; (p = strstr(p, "the open-file limit (ulimit -n) is 40")); p++)
        lines++;
    if (rc == 0 || rc == 124 || lines != 1)
        fail_msg("3 ranks, each with the limit: exit %d, %d lines: %s", rc, lines, err);
    free(err);
}

/* Checkpoints that would not fit where they go, every one kept (no
 * --keep), or K + 1 of them with --keep K: said before the first is
 * written (5,000 steps, one checkpoint each: the 250 epochs end on them).
 * On a 1 MiB tmpfs in a mount namespace of its own (as root; skipped
 * otherwise). */
static void test_train_checkpoint_space(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    int rc = sn_test_run("mkdir -p %s && unshare --mount sh -c 'mount -t tmpfs -o size=1m tmpfs %s "
                         "&& exec " BIN " train --model %s --data %s --steps 5000 --quiet "
                         "--threads 1 --checkpoint-dir %s/ck --checkpoint-every 1'",
                         sn_test_path("tiny"), sn_test_path("tiny"), sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), sn_test_path("tiny"));
    char *err = err_text();
    if (rc != 1 || !strstr(err, "ck: this run writes about 5000 checkpoints of at least ") ||
        !strstr(err, "and every one is kept, but 1.0") ||   /* 1 MiB, less the folder */
        !strstr(err, " MB are free there: --keep K keeps the newest K") ||
        !strstr(err, "no space left"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
    /* --keep 2000: at most 2001 at once, still more than the space */
    rc = sn_test_run("unshare --mount sh -c 'mount -t tmpfs -o size=1m tmpfs %s && exec " BIN
                     " train --model %s --data %s --steps 5000 --quiet --threads 1 "
                     "--checkpoint-dir %s/ck --checkpoint-every 1 --keep 2000'", sn_test_path("tiny"),
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"), sn_test_path("tiny"));
    err = err_text();
    if (rc != 1 || !strstr(err, "ck: --keep 2000 needs 2001 more checkpoints of at least ") ||
        !strstr(err, " MB at once, ") || !strstr(err, "but 1.0") ||
        !strstr(err, " MB are free there: a smaller --keep or another folder"))
        fail_msg("--keep 2000: exit %d: %s", rc, err);
    free(err);
    /* a run resumed with --keep 1 in the folder a run without it filled:
     * its checkpoints take no more room, but a new one is written before
     * they go (nothing was said: it counted none) */
    rc = sn_test_run("unshare --mount sh -c 'mount -t tmpfs -o size=1m tmpfs %s && { " BIN
                     " train --model %s --data %s --steps 5000 --quiet --threads 1 "
                     "--checkpoint-dir %s/ck --checkpoint-every 1 2> /dev/null; exec " BIN
                     " train --model %s --data %s --steps 5000 --quiet --threads 1 "
                     "--checkpoint-dir %s/ck --checkpoint-every 1 --keep 1 --resume auto; }'",
                     sn_test_path("tiny"), sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                     sn_test_path("tiny"), sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                     sn_test_path("tiny"));
    err = err_text();
    if (rc != 1 || !strstr(err, "ck: --keep 1 needs 1 more checkpoint of at least "))
        fail_msg("--keep 1, resumed in a full folder: exit %d: %s", rc, err);
    free(err);
    /* --out: weights of 786,435 floats (3.15 MB), said before
     * the run, which then ends without them (exit 1) */
    write_text(sn_test_path("wide.cfg"), "[net]\ninput = 8\nloss = cross_entropy\n"
               "[dense]\nunits = 65536\n[dense]\nunits = 3\n");
    rc = sn_test_run("unshare --mount sh -c 'mount -t tmpfs -o size=1m tmpfs %s && exec " BIN
                     " train --model %s --data %s --steps 1 --quiet --threads 1 --out %s/w.h5'",
                     sn_test_path("tiny"), sn_test_path("wide.cfg"), sn_test_path("blobs.h5"),
                     sn_test_path("tiny"));
    err = err_text();
    if (rc != 1 || !strstr(err, "w.h5: the weights take at least 3.15 MB and 1.0") ||
        !strstr(err, " MB are free there: the run would end without them"))
        fail_msg("--out: exit %d: %s", rc, err);
    free(err);
    /* room for the bytes, but no inode left for the file's name */
    rc = sn_test_run("unshare --mount sh -c 'mount -t tmpfs -o size=8m,nr_inodes=4 tmpfs %s && "
                     "i=0; while touch %s/f$i 2> /dev/null; do i=$((i + 1)); done; exec " BIN
                     " train --model %s --data %s --steps 1 --quiet --threads 1 --out %s/w.h5'",
                     sn_test_path("tiny"), sn_test_path("tiny"), sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"), sn_test_path("tiny"));
    err = err_text();
    if (rc != 1 || !strstr(err, "w.h5: its folder's file system has no free inode (df -i)"))
        fail_msg("--out without an inode: exit %d: %s", rc, err);
    free(err);
    /* the same through a link made elsewhere (the folder of the file
     * written counts), and a checkpoint folder there */
    const char *t = sn_test_tmpdir();
    rc = sn_test_run("cd %s && ln -sf tiny/w.h5 olink.h5 && unshare --mount sh -c 'mount -t "
                     "tmpfs -o size=8m,nr_inodes=4 tmpfs tiny && mkdir tiny/ck && touch "
                     "tiny/ck/.lock && i=0; while touch tiny/f$i 2> /dev/null; do i=$((i + 1)); "
                     "done; exec " BIN " train --model m.cfg --data blobs.h5 --steps 1 --quiet "
                     "--threads 1 --out olink.h5 --checkpoint-dir tiny/ck'", t);
    err = err_text();
    if (rc != 1 || !strstr(err, "olink.h5: its folder's file system has no free inode (df -i)") ||
        !strstr(err, "/ck: its file system has no free inode (df -i): the run would end at its "
                     "first checkpoint"))
        fail_msg("--out link, --checkpoint-dir without an inode: exit %d: %s", rc, err);
    free(err);
}

/* A /dev/shm without room for the ranks' shared gradient arena (a
 * container's 64 MB) is said on every rank, and nothing is left there:
 * Open MPI's MPI_Win_allocate_shared failed on one rank and left the other
 * in its broadcast, a hang only the watchdog ended.  A tmpfs over /dev/shm
 * in a mount namespace of its own (as root; skipped otherwise): 16 MiB
 * (Open MPI's own segments take 8 of them; 8 MiB left it none, and it
 * failed once at start-up), 64 MiB with one inode, 64 MiB; 3.1 M
 * parameters (a 25 MB arena). */
static void test_train_small_dev_shm(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    write_text(sn_test_path("wide8.cfg"), "[net]\ninput = 8\nloss = cross_entropy\n"
               "[dense]\nunits = 262144\n[dense]\nunits = 3\n");
    static const char *const mounts[] = { "size=16m", "size=64m,nr_inodes=1", "size=64m" };
    static const char *const said[] = {
        "MB free and the arena needs 25.2 MB: give it more room",
        "cannot hold it (No space left on device: no free inode, df -i, making a segment of ",
        NULL,
    };
    for (int k = 0; k < 3; k++) {
        int rc = sn_test_run("unshare --mount sh -c 'mount -t tmpfs -o %s tmpfs /dev/shm && "
                             "timeout 120 %s -np 2 " BIN " train --model %s --data %s --steps 2 "
                             "--quiet --threads 1; rc=$?; ls -A /dev/shm >&2; exit $rc'",
                             mounts[k], mpirun(), sn_test_path("wide8.cfg"),
                             sn_test_path("blobs.h5"));
        char *err = err_text();
        if (said[k] && (rc != 1 || !strstr(err, "/dev/shm, where the 2 ranks of this host share "
                                                "their gradient arena, ") ||
                        !strstr(err, said[k]) ||
                        !strstr(err, "or run with --allreduce mpi, which sends messages instead")))
            fail_msg("%s: exit %d: %s", mounts[k], rc, err);
        if (!said[k] && rc != 0)
            fail_msg("%s: exit %d: %s", mounts[k], rc, err);
        if (strstr(err, "scratchnet-"))   /* the segment's name is gone, whatever happened */
            fail_msg("%s: left in /dev/shm: %s", mounts[k], err);
        free(err);
    }
}

/* big.h5: 1,100 zero images of 512x1024 bytes (550 MiB as stored, a few
 * MB on disk: each row is a chunk of deflated zeros, deflated once and
 * written as it is to every chunk), labels 0 and 1. */
static void write_big_images(const char *path)
{
    enum { ROWS = 1100, H = 512, W = 1024 };
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t xd[4] = { ROWS, 1, H, W }, chunk[4] = { 1, 1, H, W }, yd = ROWS;
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 4, chunk);
    H5Pset_deflate(pl, 1);
    hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sx = H5Screate_simple(4, xd, NULL), sy = H5Screate_simple(1, &yd, NULL);
    hid_t dx = H5Dcreate2(f, "/train/x", H5T_NATIVE_UINT8, sx, H5P_DEFAULT, pl, H5P_DEFAULT);
    hid_t dy = H5Dcreate2(f, "/train/y", H5T_NATIVE_INT32, sy, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    uint8_t *zero = calloc((size_t)H * W, 1), packed[4096];
    uLongf len = sizeof packed;
    assert_non_null(zero);
    assert_int_equal(compress2(packed, &len, zero, (uLong)H * W, 1), Z_OK);
    for (hsize_t r = 0; r < ROWS; r++) {
        hsize_t at[4] = { r, 0, 0, 0 };
        assert_true(H5Dwrite_chunk(dx, H5P_DEFAULT, 0, at, len, packed) >= 0);
    }
    int32_t y[ROWS];
    for (int i = 0; i < ROWS; i++)
        y[i] = i % 2;
    assert_true(H5Dwrite(dy, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    free(zero);
    H5Dclose(dx);
    H5Dclose(dy);
    H5Sclose(sx);
    H5Sclose(sy);
    H5Gclose(g);
    H5Pclose(pl);
    assert_true(H5Fclose(f) >= 0);
}

/* A file-size limit under the 16 MiB a rank's MPI session files need is
 * refused by every rank before MPI starts, and said once, by the
 * launcher's rank 0: a 2-rank start hung after PMIx's OUT-OF-RESOURCE
 * lines, mpirun deaf to SIGTERM. */
static void test_train_small_file_limit(void **state)
{
    (void)state;
    /* sh's ulimit -f counts blocks of 512 bytes: 2000 KiB */
    int rc = sn_test_run("ulimit -f 4000 && timeout 120 %s -np 2 " BIN " info --model %s",
                         mpirun(), sn_test_path("m.cfg"));
    char *err = err_text();
    const char *said = strstr(err, "scratchnet: error: the file-size limit (ulimit -f) is "
                                   "2000 KiB, below the 16384 KiB a rank's MPI needs for its "
                                   "session files: raise it (ulimit -f unlimited)");
    if (rc == 0 || rc == 124 || !said || strstr(said + 1, "scratchnet: error"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
}

/* many.h5: 2^28 one-byte rows of zeros and their labels, each split in
 * deflated chunks of 2^24 rows written as they are (a file of a few MB). */
static void write_many_rows(const char *path)
{
    const hsize_t rows = (hsize_t)1 << 28, per = (hsize_t)1 << 24;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t xd[2] = { rows, 1 }, xc[2] = { per, 1 };
    hid_t px = H5Pcreate(H5P_DATASET_CREATE), py = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(px, 2, xc);
    H5Pset_chunk(py, 1, &per);
    H5Pset_deflate(px, 9);
    H5Pset_deflate(py, 9);
    hid_t sx = H5Screate_simple(2, xd, NULL), sy = H5Screate_simple(1, &rows, NULL);
    hid_t dx = H5Dcreate2(f, "/train/x", H5T_NATIVE_UINT8, sx, H5P_DEFAULT, px, H5P_DEFAULT);
    hid_t dy = H5Dcreate2(f, "/train/y", H5T_NATIVE_INT32, sy, H5P_DEFAULT, py, H5P_DEFAULT);
    const uLong raw = 4 * (uLong)per;
    uint8_t *zero = calloc(raw, 1), *packed[2] = { malloc(compressBound(raw)),
                                                   malloc(compressBound(raw)) };
    uLongf len[2] = { compressBound(raw), compressBound(raw) };
    assert_true(zero && packed[0] && packed[1]);
    assert_int_equal(compress2(packed[0], &len[0], zero, (uLong)per, 9), Z_OK);
    assert_int_equal(compress2(packed[1], &len[1], zero, raw, 9), Z_OK);
    for (hsize_t r = 0; r < rows; r += per) {
        hsize_t at[2] = { r, 0 };
        assert_true(H5Dwrite_chunk(dx, H5P_DEFAULT, 0, at, len[0], packed[0]) >= 0);
        assert_true(H5Dwrite_chunk(dy, H5P_DEFAULT, 0, at, len[1], packed[1]) >= 0);
    }
    free(zero);
    free(packed[0]);
    free(packed[1]);
    H5Dclose(dx);
    H5Dclose(dy);
    H5Sclose(sx);
    H5Sclose(sy);
    H5Pclose(px);
    H5Pclose(py);
    H5Gclose(g);
    assert_true(H5Fclose(f) >= 0);
}

/* Rows whose shuffled order alone would pass half of what the process may
 * use are refused at once, before the file's chunks and labels are
 * checked (2^31 - 1 rows took 98 s of checks, then "out of memory for the
 * training buffers"). */
static void test_train_rows_past_memory(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE"))
        skip();
    write_many_rows(sn_test_path("many.h5"));
    write_text(sn_test_path("one.cfg"), "[net]\ninput = 1\nbatch = 20\nloss = cross_entropy\n"
               "[dense]\nunits = 2\n");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = sn_test_run("ulimit -v 3000000 && " BIN " train --model %s --data %s --steps 1",
                         sn_test_path("one.cfg"), sn_test_path("many.h5"));
    clock_gettime(CLOCK_MONOTONIC, &b);
    const double secs = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    char *err = err_text();
    if (rc != 1 || secs > 20.0 ||
        !strstr(err, "many.h5: /train has 268435456 rows, whose shuffled order takes 2147 MB on "
                     "each of this host's 1 rank, more than half"))
        fail_msg("exit %d after %.1f s: %s", rc, secs, err);
    free(err);
}

/* Data larger than half of what the process may use (ulimit -v) is read
 * per batch, said in a warning and in the header; the run trains (it was
 * refused for want of memory).  Not under the sanitizers, which reserve
 * terabytes of address space. */
static void test_train_reads_per_batch_under_limit(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE"))
        skip();
    write_big_images(sn_test_path("big.h5"));
    write_text(sn_test_path("big.cfg"), "[net]\ninput = 1,512,1024\nbatch = 8\n"
                                        "[avgpool]\nsize = 16\n[dense]\nunits = 2\n");
    int rc = sn_test_run("ulimit -v 1000000 && OMP_NUM_THREADS=1 timeout -k 5 120 " BIN " train "
                         "--model %s --data %s --steps 3 --threads 1 --out %s",
                         sn_test_path("big.cfg"), sn_test_path("big.h5"),
                         sn_test_path("bigw.h5"));
    char *out = out_text(), *err = err_text();
    if (rc != 0 || !strstr(err, "warning: ") ||
        !strstr(err, "big.h5: train takes 550 MiB, more than half of the memory this "
                     "process may use (a cgroup's or ulimit -v's limit, or the machine's): every "
                     "rank reads per batch from the file") ||
        !strstr(out, "\ndata: read per batch from the file (train takes 550.0 MiB; "
                     "--cache-mb 4096)\n") || !strstr(out, "wrote "))
        fail_msg("exit %d\nstdout: %s\nstderr: %s", rc, out, err);
    free(out);
    free(err);
    remove(sn_test_path("big.h5"));
}

/* Under a tight ulimit -v, the HDF5 probe's child (the program started
 * again to open a file first) may find too little room: a good file is
 * then "cannot check it ... (ulimit -v)", exit 1, never "damaged".  The
 * limit goes down in 4 MB steps from where info works to the first one
 * where it does not.  Not under the sanitizers, which reserve terabytes. */
static void test_train_tight_limit_not_damaged(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE")) {
        print_message("skipping: the sanitizers reserve terabytes of address space\n");
        return;
    }
    const char *w = sn_test_path("tight.h5");
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 1 --quiet --out %s",
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"), w), 0);
    int rc = 0;
    long kb = 320000;
    for (; kb > 100000 && rc == 0; kb -= 4000)
        rc = sn_test_run("ulimit -v %ld; OMP_NUM_THREADS=1 timeout 5 " BIN " info --weights %s",
                         kb, w);
    char *err = err_text();
    if (rc != 1 || !strstr(err, "cannot check it: the address-space limit of"))
        fprintf(stderr, "at ulimit -v %ld: exit %d: %s\n", kb + 4000, rc, err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "(ulimit -v) leaves the process that checks it less than"));
    assert_null(strstr(err, "damaged"));
    free(err);
}

/* Other work on the cores a run's threads use slows spinning threads
 * most (8-24x in a user's run): the run says so at its end, naming
 * --threads 1.  Two busy loops on the two cores the run is pinned to; with
 * --threads 1 beside them, nothing is said. */
static void test_train_busy_cores_warned(void **state)
{
    (void)state;
    const char *cfg = sn_test_path("busy.cfg");   /* products big enough to share */
    write_text(cfg, "[net]\ninput = 8\nbatch = 64\n[dense]\nunits = 512\nactivation = relu\n"
               "[dense]\nunits = 512\nactivation = relu\n[dense]\nunits = 3\n");
    for (int threads = 2; threads >= 1; threads--) {   /* 2: about 75 ms a step */
        int rc = sn_test_run("taskset -c 0 sh -c 'while :; do :; done' & a=$!; "
                             "taskset -c 1 sh -c 'while :; do :; done' & b=$!; sleep 0.2; "
                             "taskset -c 0,1 %s train --model %s --data %s --steps 60 --quiet "
                             "--threads %d; st=$?; kill $a $b; exit $st", BIN, cfg,
                             sn_test_path("blobs.h5"), threads);
        assert_int_equal(rc, 0);
        char *err = err_text();
        if (threads == 2) {
            assert_non_null(strstr(err, "scratchnet: warning: other work kept"));
            assert_non_null(strstr(err, "while it trained with 2 threads, and threads that wait "
                                        "for each other spin: --threads 1 or "
                                        "OMP_WAIT_POLICY=passive"));
        } else {
            assert_null(strstr(err, "other work kept"));
        }
        free(err);
    }
    /* eval too: 8,000 rows through the same layers */
    enum { ROWS = 8000 };
    float *x = calloc((size_t)ROWS * 8, sizeof *x);
    int32_t *y = calloc(ROWS, sizeof *y);
    assert_true(x && y);
    for (size_t i = 0; i < (size_t)ROWS * 8; i++)
        x[i] = (float)(i % 13) / 13.0f;
    struct sn_h5 *f;
    size_t dims[2] = { ROWS, 8 }, n = ROWS;
    assert_int_equal(sn_h5_create(sn_test_path("busyeval.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/x", 2, dims, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/y", 1, &n, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    free(x);
    free(y);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 1 --quiet --out %s", cfg,
                                 sn_test_path("blobs.h5"), sn_test_path("busyw.h5")), 0);
    int rc = sn_test_run("taskset -c 0 sh -c 'while :; do :; done' & a=$!; "
                         "taskset -c 1 sh -c 'while :; do :; done' & b=$!; sleep 0.2; "
                         "taskset -c 0,1 %s eval --weights %s --data %s --threads 2; st=$?; "
                         "kill $a $b; exit $st", BIN, sn_test_path("busyw.h5"),
                         sn_test_path("busyeval.h5"));
    char *err = err_text();
    if (rc || !strstr(err, "while it evaluated with 2 threads, and threads that wait for each "
                           "other spin"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
}

/* OpenBLAS takes a 128 MiB buffer per thread when the thread count is
 * set, and under an address-space limit that leaves no room it retries
 * forever, deaf to SIGTERM: the room is checked first, for the threads of
 * --threads and of OMP_NUM_THREADS alike (exit 1, one line).  Not under
 * the sanitizers, which reserve terabytes of address space. */
static void test_train_threads_need_room(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE"))
        skip();
    const char *cfg = sn_test_path("m.cfg"), *blobs = sn_test_path("blobs.h5");
    const char *cmds[] = {
        "ulimit -v 4000000 && timeout -k 5 60 " BIN " train --model %s --data %s --steps 2 "
        "--quiet --threads 64",
        "ulimit -v 4000000 && OMP_NUM_THREADS=64 timeout -k 5 60 " BIN " train --model %s "
        "--data %s --steps 2 --quiet",
        "ulimit -v 4000000 && OMP_NUM_THREADS=64 timeout -k 5 60 " BIN " eval --weights %.0s%s "
        "--data %s",
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *w = i == 2 ? sn_test_path("w.h5") : "";
        int rc = i == 2 ? sn_test_run(cmds[i], cfg, w, blobs) : sn_test_run(cmds[i], cfg, blobs);
        char *err = err_text();
        if (rc != 1 || !strstr(err, "MB of buffers and stacks OpenBLAS and OpenMP take for 64 "
                                    "threads"))
            fail_msg("%s: exit %d\n%s", cmds[i], rc, err);
        free(err);
    }
    /* fewer --threads than OpenBLAS took buffers for as it loaded: the fix
     * named is OMP_NUM_THREADS, which --threads alone is not */
    int rc = sn_test_run("ulimit -v 450000 && OMP_NUM_THREADS=2 timeout -k 5 60 " BIN " train "
                         "--model %s --data %s --steps 2 --quiet --threads 1", cfg, blobs);
    char *err = err_text();
    if (rc != 1 || !strstr(err, "or set OMP_NUM_THREADS=1 in the environment (OpenBLAS takes "
                                "buffers for the OMP_NUM_THREADS=2 threads"))
        fail_msg("--threads 1 under OMP_NUM_THREADS=2: exit %d\n%s", rc, err);
    free(err);
    /* OpenMP's stacks of OMP_STACKSIZE each count (1G for 8 threads under
     * 6 GB: libgomp's own "Thread creation failed"): more than the memory
     * outright, or with OpenBLAS's buffers past the address-space room */
    rc = sn_test_run("ulimit -v 6000000 && OMP_STACKSIZE=1G timeout -k 5 60 " BIN " train "
                     "--model %s --data %s --steps 2 --quiet --threads 8", cfg, blobs);
    err = err_text();
    if (rc != 2 || !strstr(err, "OMP_STACKSIZE=1G for 8 threads reserves 8590 MB of stacks, "
                                "more than the 6144 MB of memory this process may use"))
        fail_msg("OMP_STACKSIZE=1G: exit %d\n%s", rc, err);
    free(err);
    rc = sn_test_run("ulimit -v 6000000 && OMP_STACKSIZE=600M timeout -k 5 60 " BIN " train "
                     "--model %s --data %s --steps 2 --quiet --threads 8", cfg, blobs);
    err = err_text();
    if (rc != 1 || !strstr(err, "MB of buffers and stacks OpenBLAS and OpenMP take for 8 threads") ||
        !strstr(err, "or a smaller OMP_STACKSIZE (each thread's stack)"))
        fail_msg("OMP_STACKSIZE=600M: exit %d\n%s", rc, err);
    free(err);
}

/* Output folders that take no renamed file, found before any work
 * (round 67 F6, F8: each trained to its end, then lost the weights): the
 * current folder removed by another shell, and an append-only folder
 * (chattr +a, where the file system has it). */
static void test_train_folder_takes_no_rename(void **state)
{
    (void)state;
    char dir[1100], cfg[1100], data[1100];
    snprintf(dir, sizeof dir, "%s", sn_test_path("gone"));
    snprintf(cfg, sizeof cfg, "%s", sn_test_path("m.cfg"));
    snprintf(data, sizeof data, "%s", sn_test_path("blobs.h5"));
    int rc = sn_test_run("mkdir -p %s && cd %s && rmdir %s && " BIN " train --model %s --data %s "
                         "--epochs 100 --out o.h5", dir, dir, dir, cfg, data);
    char *err = err_text();
    if (rc != 2 || !strstr(err, "--out o.h5: the folder . was removed (a shell still in it?"))
        fail_msg("exit %d\n%s", rc, err);
    free(err);
    /* a file-size limit below the weights' size: said at the start */
    write_text(sn_test_path("fsize.cfg"), "[net]\ninput = 8\nbatch = 32\nloss = cross_entropy\n"
               "optimizer = sgd\nlr = 0.01\n[dense]\nunits = 512\n[dense]\nunits = 3\n");
    rc = sn_test_run("ulimit -f 4 && " BIN " train --model %s --data %s --steps 2 --quiet "
                     "--out %s", sn_test_path("fsize.cfg"), data, sn_test_path("fsize.h5"));
    err = err_text();
    if (rc != 1 || !strstr(err, "MB at most (ulimit -f): the run would end without them"))
        fail_msg("ulimit -f 4: exit %d\n%s", rc, err);
    free(err);
    /* and below a checkpoint's size, the optimizer's state in it (adam:
     * 3 times the weights; round 68 F3) */
    write_text(sn_test_path("fsize.cfg"), "[net]\ninput = 8\nbatch = 32\nloss = cross_entropy\n"
               "optimizer = adam\nlr = 0.01\n[dense]\nunits = 512\n[dense]\nunits = 3\n");
    rc = sn_test_run("ulimit -f 60 && " BIN " train --model %s --data %s --steps 2 --quiet "
                     "--checkpoint-dir %s", sn_test_path("fsize.cfg"), data,
                     sn_test_path("fsize_ck"));
    err = err_text();
    if (rc != 1 || !strstr(err, "MB at most (ulimit -f): the run would end at its first one"))
        fail_msg("ulimit -f 60, --checkpoint-dir: exit %d\n%s", rc, err);
    free(err);
    if (sn_test_run("mkdir -p %s && chattr +a %s", dir, dir) != 0) {
        printf("append-only: skipped (no chattr +a on this file system)\n");
        return;
    }
    rc = sn_test_run(BIN " train --model %s --data %s --epochs 100 --out %s/o.h5", cfg, data, dir);
    const int rc2 = sn_test_run(BIN " train --model %s --data %s --epochs 100 --checkpoint-dir %s",
                                cfg, data, dir);
    err = err_text();
    sn_test_run("chattr -a %s", dir);
    if (rc != 2 || rc2 != 2 || !strstr(err, "is append-only (chattr +a): files are written beside "
                                             "their name and renamed into place"))
        fail_msg("exit %d, %d\n%s", rc, rc2, err);
    free(err);
    assert_int_equal(sn_test_run("test -z \"$(ls -A %s)\"", dir), 0);   /* nothing made */
}

/* Products big enough for OpenBLAS to split over threads (256 x 512 x 512). */
static const char wide_cfg[] = "[net]\ninput = 8\nbatch = 256\nloss = cross_entropy\n"
                               "optimizer = sgd\nlr = 0.01\n[dense]\nunits = 512\n[dense]\n"
                               "units = 512\n[dense]\nunits = 3\n";

/* A process limit (ulimit -u) with room for fewer threads than asked
 * (round 67 F9: libgomp's own "Thread creation failed", exit 1, no word
 * of the limit): the threads are capped, said.  As user nobody (root is
 * not held to the limit), in a folder of its own. */
static void test_train_process_limit_caps_threads(void **state)
{
    (void)state;
    /* the sanitizers' leak check starts a task of its own at exit */
    if (geteuid() != 0 || getenv("SN_SANITIZE") ||
        sn_test_run("command -v setpriv && command -v prlimit") != 0) {
        printf("skipped: needs root, setpriv and prlimit, and no sanitizer\n");
        skip();
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/nobody", sn_test_tmpdir());
    write_text(sn_test_path("wide.cfg"), wide_cfg);
    const char *as_nobody = "setpriv --reuid 65534 --regid 65534 --clear-groups prlimit "
                            "--nproc=2";
    int rc = sn_test_run("chmod 711 %s && mkdir -p %s && cp %s %s %s && chmod 755 %s && "
                         "chmod 644 %s/* && cd %s && %s " BIN " train --model wide.cfg --data "
                         "blobs.h5 --steps 2 --threads 3 --quiet", sn_test_tmpdir(), dir,
                         sn_test_path("wide.cfg"), sn_test_path("blobs.h5"), dir, dir, dir, dir,
                         as_nobody);
    char *err = err_text();
    if (rc != 0 || !strstr(err, "3 threads asked for; the process limit (ulimit -u 2) leaves "
                                "this user room for "))
        fail_msg("exit %d\n%s", rc, err);
    free(err);
}

/* A checkpoint folder two users share (a team's project folder): the lock
 * file a finished run of one left (0644 under umask 022) no longer keeps
 * the other out (user 44 U4: "cannot make the folder's lock file:
 * Permission denied"); in a folder with the sticky bit, where it cannot be
 * removed, the refusal names its owner. */
static void test_train_folder_shared_by_users(void **state)
{
    (void)state;
    if (geteuid() != 0 || sn_test_run("command -v setpriv") != 0) {
        printf("skipped: needs root and setpriv\n");
        skip();
    }
    char dir[1100], run[1400];
    snprintf(dir, sizeof dir, "%s/shared", sn_test_tmpdir());
    snprintf(run, sizeof run, BIN " train --model m.cfg --data blobs.h5 --threads 1 --quiet "
             "--checkpoint-dir ck --resume auto --steps");
    const char *nobody = "setpriv --reuid 65534 --regid 65534 --clear-groups";
    int rc = sn_test_run("chmod 711 %s && mkdir -p %s/ck && cp %s %s %s && chmod 777 %s %s/ck && "
                         "chmod 644 %s/*.* && cd %s && umask 022 && %s 4 && %s %s 8 && "
                         "test -f ck/ckpt-00000008.h5", sn_test_tmpdir(), dir, sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), dir, dir, dir, dir, dir, run, nobody, run);
    char *err = err_text();
    if (rc != 0)
        fail_msg("nobody after root: exit %d\n%s", rc, err);
    free(err);
    rc = sn_test_run("cd %s && chmod 1777 ck && rm ck/.lock && %s 12 && %s %s 16", dir, run,
                     nobody, run);
    err = err_text();
    if (rc != 2 || !strstr(err, "is the lock file a run of root (uid 0) left, which no run holds "
                                "now, and this user may neither write nor remove it"))
        fail_msg("sticky folder: exit %d\n%s", rc, err);
    free(err);
}

/* A umask that takes the owner's read or write bits (hostile round 69 F2:
 * under umask 777 a run trained to its end, then could not write its
 * weights; predict, export and plot failed the same way): the outputs are
 * written, with the mode the umask asks for, and a checkpoint folder
 * works (its checkpoints keep the owner's read and write, to resume). */
static void test_train_umask_without_owner_bits(void **state)
{
    (void)state;
    if (geteuid() != 0 || sn_test_run("command -v setpriv") != 0) {
        printf("skipped: needs root and setpriv\n");
        skip();
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/umask", sn_test_tmpdir());
    const char *steps = "umask %s && " BIN " train --model m.cfg --data blobs.h5 --threads 1 "
                        "--quiet --steps 6 --checkpoint-dir ck --resume auto --log l.jsonl "
                        "--out o.h5 && " BIN " predict --weights o.h5 --input blobs.h5 -o p.csv "
                        "> /dev/null && " BIN " export --weights o.h5 -o o.onnx && " BIN
                        " plot l.jsonl -o c.png";
    char cmd[2000];
    snprintf(cmd, sizeof cmd, steps, "277");
    int rc = sn_test_run("chmod 711 %s && rm -rf %s && mkdir %s && cp %s %s %s && chmod 777 %s && "
                         "chmod 644 %s/*.* && cd %s && setpriv --reuid 65534 --regid 65534 "
                         "--clear-groups sh -c '%s' && stat -c %%a o.h5 p.csv o.onnx c.png | "
                         "sort -u | grep -qx 400 && stat -c %%a ck/ckpt-00000006.h5 | grep -qx 600",
                         sn_test_tmpdir(), dir, dir, sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), dir, dir, dir, dir, cmd);
    char *err = err_text();
    if (rc != 0)
        fail_msg("umask 277: exit %d\n%s", rc, err);
    free(err);
    /* 777: the weights are written, mode 0 (the next command may not read them) */
    rc = sn_test_run("cd %s && rm -f o.h5 && setpriv --reuid 65534 --regid 65534 --clear-groups "
                     "sh -c 'umask 777 && " BIN " train --model m.cfg --data blobs.h5 --threads 1 "
                     "--quiet --steps 3 --out o.h5' && stat -c %%a o.h5 | grep -qx 0", dir);
    err = err_text();
    if (rc != 0)
        fail_msg("umask 777: exit %d\n%s", rc, err);
    free(err);
}

/* Started with its standard streams closed (a job agent's `<&- >&-`;
 * round 67 F2): the first files opened took fds 0-2, and the run's
 * output went into the checkpoint folder's .lock and its warnings into
 * the log.  Now the lost output is said (exit 1) and the files are the
 * run's own. */
static void test_train_std_streams_closed(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", sn_test_path("closed"));
    int rc = sn_test_run("rm -rf %s && mkdir %s && cd %s && " BIN " train --model %s --data %s "
                         "--steps 30 --threads 1 --out o.h5 --log l.jsonl --checkpoint-dir ck "
                         "<&- >&-", dir, dir, dir, sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    char *err = err_text();
    if (rc != 1 || !strstr(err, "the standard output was closed when scratchnet started"))
        fail_msg("exit %d\n%s", rc, err);
    free(err);
    /* the lock file holds its one line, every log line is a JSON object */
    assert_int_equal(sn_test_run("cd %s && grep -qx 'host .*, pid [0-9]*' ck/.lock && "
                                 "test $(wc -l < ck/.lock) = 1 && test -s l.jsonl && "
                                 "! grep -qv '^{' l.jsonl && test -s o.h5", dir), 0);
    rc = sn_test_run("cd %s && " BIN " train --model %s --data %s --steps 40 --threads 1 --quiet "
                     "--log l.jsonl --checkpoint-dir ck --resume auto <&- >&- 2>&-", dir,
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    assert_int_equal(sn_test_run("cd %s && test $(wc -l < l.jsonl) -ge 2 && ! grep -qv '^{' "
                                 "l.jsonl && test -f ck/ckpt-00000040.h5", dir), 0);
    /* a standard stream the shell sent into one of the run's files (round
     * 68 F2: `--log l.jsonl >> l.jsonl` put the run's lines in the log) */
    rc = sn_test_run("cd %s && cp l.jsonl before.jsonl && " BIN " train --model %s --data %s "
                     "--steps 50 --threads 1 --log l.jsonl --checkpoint-dir ck --resume auto "
                     ">> l.jsonl 2> err2.txt; st=$?; cmp -s l.jsonl before.jsonl && "
                     "grep -q 'is this command.s standard output too' err2.txt && exit $st",
                     dir, sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_int_equal(rc, 2);
}

/* OpenMP settings that let the runtime give fewer threads than asked
 * (round 67 F1): OpenBLAS's OpenMP build splits a product over the
 * threads it asked for and spins until each part is done, so with 2
 * threads asked and 1 given, train and eval hung for good, deaf to
 * SIGTERM. */
static void test_train_omp_gives_fewer_threads(void **state)
{
    (void)state;
    char cfg[1100];
    snprintf(cfg, sizeof cfg, "%s", sn_test_path("wide.cfg"));
    write_text(cfg, wide_cfg);
    static const char *const envs[][2] = {
        { "OMP_THREAD_LIMIT=1", "2 threads asked for; OMP_THREAD_LIMIT lets OpenMP run 1" },
        { "OMP_MAX_ACTIVE_LEVELS=0", "2 threads asked for; OMP_MAX_ACTIVE_LEVELS lets OpenMP "
                                     "run 1" },
        { "OMP_DYNAMIC=true", NULL },
    };
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        const int rc = sn_test_run("%s timeout -k 5 60 " BIN " train --model %s --data %s "
                                   "--steps 3 --threads 2 --quiet --out %s", envs[i][0], cfg,
                                   sn_test_path("blobs.h5"), sn_test_path("wide.h5"));
        char *err = err_text();
        if (rc != 0 || (envs[i][1] && !strstr(err, envs[i][1])))
            fail_msg("%s: exit %d\n%s", envs[i][0], rc, err);
        free(err);
    }
}

/* A cgroup's pids.max (a batch system's, a container's) with room for
 * fewer threads than asked: capped with a warning, as ulimit -u caps them
 * (round 68 F5: libgomp's "Thread creation failed", exit 1).  Needs a
 * pids controller this user may make a cgroup in (cgroup v1's here). */
static void test_train_cgroup_pids_max(void **state)
{
    (void)state;
    char cg[200];
    snprintf(cg, sizeof cg, "/sys/fs/cgroup/pids/sntest%ld", (long)getpid());
    if (getenv("SN_SANITIZE") || sn_test_run("mkdir %s && echo 4 > %s/pids.max", cg, cg) != 0) {
        printf("skipped: no pids cgroup can be made here\n");
        skip();
    }
    char w[1100];
    snprintf(w, sizeof w, "%s", sn_test_path("cgw.h5"));
    const int rc = sn_test_run("sh -c 'echo $$ > %s/cgroup.procs && exec " BIN " train --model %s "
                               "--data %s --steps 3 --threads 8 --quiet --out %s --log %s.jsonl'",
                               cg, sn_test_path("m.cfg"), sn_test_path("blobs.h5"), w, w);
    char *err = err_text();
    if (rc != 0 || !strstr(err, "8 threads asked for; the cgroup's pids.max (4) leaves room for "))
        fail_msg("exit %d\n%s", rc, err);
    free(err);
    /* no room for the HDF5 check's process: the cgroup's limit named (it
     * blamed ulimit -u: round 71 F3) */
    const int rc1 = sn_test_run("echo 1 > %s/pids.max && sh -c 'echo $$ > %s/cgroup.procs && exec "
                                BIN " info --weights %s'", cg, cg, w);
    err = err_text();
    sn_test_run("rmdir %s", cg);
    if (rc1 != 1 || !strstr(err, "cannot start the process that checks it: the cgroup's pids.max "
                                 "(1) is reached"))
        fail_msg("pids.max 1: exit %d\n%s", rc1, err);
    free(err);
    /* nor for gnuplot's threads: the limit named, not GLib's words alone */
    const int rc2 = sn_test_run("mkdir %s && echo 2 > %s/pids.max && sh -c 'echo $$ > "
                                "%s/cgroup.procs && exec " BIN " plot %s.jsonl -o %s.png'", cg, cg,
                                cg, w, w);
    err = err_text();
    sn_test_run("rmdir %s", cg);
    if (rc2 != 1 || !strstr(err, "with the cgroup's pids.max (2) leaving room for 1 more tasks"))
        fail_msg("plot under pids.max 2: exit %d\n%s", rc2, err);
    free(err);
}

/* Threads get stacks of ulimit -s's size, and OpenBLAS's kernels crashed
 * in threads of 64 KiB (round 68 F12, SIGSEGV): a soft limit that low is
 * raised; one its hard limit keeps low is refused in one line. */
static void test_train_small_stack_limit(void **state)
{
    (void)state;
    char cfg[1100], out[1100];
    snprintf(cfg, sizeof cfg, "%s", sn_test_path("wide.cfg"));
    snprintf(out, sizeof out, "%s", sn_test_path("stack.h5"));
    write_text(cfg, wide_cfg);
    const char *run = "rm -f %s && %s && timeout -k 5 60 " BIN " train --model %s --data %s "
                      "--steps 3 --threads 2 --quiet --out %s";
    int rc = sn_test_run(run, out, "ulimit -S -s 64", cfg, sn_test_path("blobs.h5"), out);
    char *err = err_text();
    if (rc != 0 || sn_test_run("test -s %s", out) != 0)
        fail_msg("ulimit -S -s 64: exit %d\n%s", rc, err);
    free(err);
    rc = sn_test_run(run, out, "ulimit -s 64", cfg, sn_test_path("blobs.h5"), out);
    err = err_text();
    if (rc != 1 || strchr(err, '\n') != strrchr(err, '\n') ||
        !strstr(err, "the stack-size limit (ulimit -s) is 64 KiB and its hard limit 64 KiB, "
                     "below the 1024 KiB") || sn_test_run("test -e %s", out) == 0)
        fail_msg("ulimit -s 64: exit %d\n%s", rc, err);
    free(err);
}

/* --resume auto passes over a damaged newest checkpoint and continues the
 * one before; when the run reaches the damaged one's step, its own
 * checkpoint does not replace it unseen: the damaged file is kept as
 * NAME.damaged, said in a warning (it was renamed over silently); a file
 * that is no checkpoint, as NAME.kept. */
static void test_train_resume_auto_sets_damaged_aside(void **state)
{
    (void)state;
    const char *run = BIN " train --model %s --data %s --checkpoint-dir %s --threads 1 "
                      "--checkpoint-every 2 --quiet %s";
    const char *ck = sn_test_path("ck_aside"), *blobs = sn_test_path("blobs.h5");
    const char *cfg = sn_test_path("m.cfg");
    assert_int_equal(sn_test_run(run, cfg, blobs, ck, "--steps 6"), 0);
    char six[1200];
    snprintf(six, sizeof six, "%s/ckpt-00000006.h5", ck);
    assert_int_equal(sn_test_run("printf U | dd of=%s bs=1 seek=3000 conv=notrunc 2>/dev/null && "
                                 "cp %s %s", six, six, sn_test_path("aside.before")), 0);
    assert_int_equal(sn_test_run(run, cfg, blobs, ck, "--resume auto --steps 8"), 0);
    char *err = err_text();
    assert_non_null(strstr(err, "was there already (passed over as damaged when the run "
                                "resumed?): kept as"));
    free(err);
    assert_int_equal(sn_test_run("cmp -s %s.damaged %s && ! cmp -s %s %s", six,
                                 sn_test_path("aside.before"), six, sn_test_path("aside.before")),
                     0);
    assert_int_equal(sn_test_run(BIN " eval --weights %s --data %s", six, blobs), 0);
    /* a file that reads, a dataset copied to a checkpoint's name, is kept
     * as NAME.kept and named for what it is, not called damaged */
    char ten[1200];
    snprintf(ten, sizeof ten, "%s/ckpt-00000010.h5", ck);
    assert_int_equal(sn_test_run("cp %s %s", blobs, ten), 0);
    assert_int_equal(sn_test_run(run, cfg, blobs, ck, "--resume auto --steps 10"), 0);
    err = err_text();
    if (!strstr(err, "ckpt-00000010.h5 was there already (a dataset, not this run's checkpoint): "
                     "kept as ") || !strstr(err, "ckpt-00000010.h5.kept"))
        fail_msg("%s", err);
    free(err);
    assert_int_equal(sn_test_run("cmp -s %s.kept %s", ten, blobs), 0);
}

/* Names taken while the run writes (round 66 F2, F10): a folder made at a
 * checkpoint's name while that checkpoint is written (a mount point) is
 * set aside in turn and the checkpoint written again, and the folder's
 * .lock removed mid-run (a cleanup of hidden files) is made again; the
 * run ends with its --out. */
static void test_train_names_taken_while_written(void **state)
{
    (void)state;
    static const char plant[] =
        "D=$1; end=$(( $(date +%s) + $2 )); shopt -s nullglob dotglob\n"
        "while [ $(date +%s) -lt $end ]; do\n"
        "  for t in $D/.ckpt-*.tmp.*; do n=${t##*/}; n=${n#.}; n=${n%%.tmp.*}\n"
        "    [ -e $D/$n.kept ] || { mkdir $D/$n 2>/dev/null && echo planted $n; }; done\n"
        "done\n";
    char ck[1100], script[1100], cfg[1100], data[1100], out[1100], planted_txt[1100];
    snprintf(ck, sizeof ck, "%s", sn_test_path("ck_taken"));   /* one buffer, reused */
    snprintf(script, sizeof script, "%s", sn_test_path("plant.sh"));
    snprintf(cfg, sizeof cfg, "%s", sn_test_path("m.cfg"));
    snprintf(data, sizeof data, "%s", sn_test_path("blobs.h5"));
    snprintf(out, sizeof out, "%s", sn_test_path("taken.h5"));
    snprintf(planted_txt, sizeof planted_txt, "%s", sn_test_path("planted.txt"));
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs(plant, f);
    fclose(f);
    int rc = sn_test_run("rm -rf %s; " BIN " train --model %s --data %s --checkpoint-dir %s "
                         "--checkpoint-every 1 --steps 600 --threads 1 --out %s --quiet & P=$!; "
                         "for i in $(seq 600); do [ -e %s/ckpt-00000002.h5 ] && break; sleep 0.05; "
                         "done; rm %s/.lock; bash %s %s 4 > %s; wait $P", ck, cfg, data, ck, out,
                         ck, ck, script, ck, planted_txt);
    char *err = err_text(), *planted = sn_test_slurp(planted_txt);
    assert_non_null(planted);
    int n_planted = 0, n_said = 0;
    for (const char *p = planted; (p = strstr(p, "planted ")); p++)
        n_planted++;
    for (const char *p = err; (p = strstr(p, "appeared while the checkpoint was written (a folder, "
                                             "not this run's checkpoint): kept as ")); p++)
        n_said++;
    if (rc != 0 || n_said != n_planted || !strstr(err, "/.lock was removed while the run ran: "
                                                       "made again, and held"))
        fail_msg("exit %d, %d planted, %d said:\n%s", rc, n_planted, n_said, err);
    assert_int_equal(access(out, F_OK), 0);
    assert_int_equal(sn_test_run("test -f %s/.lock && test -f %s/ckpt-00000600.h5", ck, ck), 0);
    free(err);
    free(planted);
}

/* Something at a checkpoint's name that can be neither moved nor replaced
 * (an immutable file here; a mount point alike): left, said, that step's
 * checkpoint skipped, the run going on to its --out (round 68 F10: the run
 * ended, exit 1, no --out). */
static void test_train_checkpoint_name_immovable(void **state)
{
    (void)state;
    char ck[1100], out[1100];
    snprintf(ck, sizeof ck, "%s", sn_test_path("ck_imm"));
    snprintf(out, sizeof out, "%s", sn_test_path("imm.h5"));
    int rc = sn_test_run("rm -rf %s && " BIN " train --model %s --data %s --checkpoint-dir %s "
                         "--checkpoint-every 100 --steps 800 --threads 1 --quiet --out %s & P=$!; "
                         "for i in $(seq 600); do [ -e %s/ckpt-00000100.h5 ] && break; sleep 0.05; "
                         "done; echo x > %s/ckpt-00000700.h5 && chattr +i %s/ckpt-00000700.h5 || "
                         "{ kill $P; wait $P; exit 77; }; wait $P", ck, sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), ck, out, ck, ck, ck);
    char *err = err_text();
    sn_test_run("chattr -i %s/ckpt-00000700.h5", ck);
    if (rc == 77) {
        printf("skipped: no chattr +i on this file system\n");
        free(err);
        skip();
    }
    if (rc != 0 || !strstr(err, "ckpt-00000700.h5 is there already and cannot be kept aside as ") ||
        !strstr(err, "this step's checkpoint is skipped; the run goes on"))
        fail_msg("exit %d\n%s", rc, err);
    free(err);
    assert_int_equal(access(out, F_OK), 0);
    assert_int_equal(sn_test_run("test -f %s/ckpt-00000800.h5", ck), 0);
}

/* With augmentation, dropout, batchnorm and adam, a run stopped at step 11
 * and resumed ends bitwise equal to an uninterrupted one. */
static void test_train_resume_stochastic_model(void **state)
{
    (void)state;
    const char *mp = mpirun();
    char m[1024], d[1024];
    snprintf(m, sizeof m, "%s", sn_test_path("img.cfg"));
    snprintf(d, sizeof d, "%s", sn_test_path("images.h5"));
    int rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --out %s --quiet "
                         "--threads 1", mp, m, d, sn_test_path("s_full.h5"));
    if (rc) {
        char *e = err_text();
        fprintf(stderr, "%s\n", e);
        free(e);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --steps 11 "
                                 "--checkpoint-dir %s --quiet --threads 1", mp, m, d,
                                 sn_test_path("s_ck")), 0);
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --resume "
                                 "auto --checkpoint-dir %s --out %s --quiet --threads 1", mp, m, d,
                                 sn_test_path("s_ck"), sn_test_path("s_res.h5")), 0);
    char *a = weights_bytes(sn_test_path("s_full.h5")), *b = weights_bytes(sn_test_path("s_res.h5"));
    assert_memory_equal(a, b, (16 + 4 * 5 + 16 + 4 + 180 + 3) * sizeof(float));
    free(a);
    free(b);
}

/* SIGKILL of every process of the job at a random moment, while it writes
 * a checkpoint every step; --resume auto then ends bitwise equal to the
 * uninterrupted run (make faults repeats this at 20 points). */
static void test_train_killed_and_resumed(void **state)
{
    (void)state;
    const char *mp = mpirun();
    int kills = getenv("SN_KILLS") ? atoi(getenv("SN_KILLS")) : 3;
    float a[256], b[256];
    /* 30 epochs = 600 steps, long enough to be killed in the middle */
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --epochs 30 "
                                 "--out %s --quiet --threads 1", mp, sn_test_path("m.cfg"),
                                 sn_test_path("blobs.h5"), sn_test_path("ref30.h5")), 0);
    size_t n = read_params(sn_test_path("ref30.h5"), a, 256);
    /* the kill points come from a seed that is printed, so a failure can
     * be repeated: SN_KILL_SEED=N (make faults draws a new one) */
    uint64_t seed = getenv("SN_KILL_SEED") ? strtoull(getenv("SN_KILL_SEED"), NULL, 10) : 1;
    fprintf(stderr, "  kill points from SN_KILL_SEED=%llu\n", (unsigned long long)seed);
    struct sn_rng r;
    sn_rng_seed(&r, seed, 3);
    for (int k = 0; k < kills; k++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/kill%d", sn_test_tmpdir(), k);
        double at = 0.4 + 1.2 * sn_rng_uniform(&r);
        /* the unique folder name picks out this job's processes */
        int rc = sn_test_run("( timeout 120 %s -np 2 " BIN " train --model %s --data %s --epochs 30 "
                             "--checkpoint-dir %s --checkpoint-every 1 --quiet --threads 1 & ); "
                             "sleep %.2f; pkill -KILL -f '%s'; sleep 0.5", mp,
                             sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir, at, dir);
        (void)rc;
        rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --checkpoint-dir %s "
                         "--epochs 30 --resume auto --out %s/final.h5 --threads 1", mp,
                         sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), dir, dir);
        char *out = out_text(), *err = err_text();
        if (rc)
            fprintf(stderr, "kill at %.2f s: resume exit %d\n%s\n%s\n", at, rc, out, err);
        const char *from = strstr(out, "resumed from");
        fprintf(stderr, "  killed at %.2f s: %.60s\n", at, from ? from : "no checkpoint yet, fresh start");
        free(out);
        free(err);
        assert_int_equal(rc, 0);
        char final[1100];
        snprintf(final, sizeof final, "%s/final.h5", dir);
        read_params(final, b, 256);
        assert_memory_equal(a, b, n * sizeof(float));
    }
}

/* SIGTERM after the loads but before the first step (the start-up lines)
 * is not lost: the run stops after one step with a checkpoint, exit 0.
 * Deterministic: stdout is a pipe filled beforehand, so the run blocks
 * in writing its start-up lines (past every load, before the loop) until
 * the signal has come; only then is the pipe drained.  It trained all
 * 6000 steps and said nothing when the signal came in that window. */
static void test_train_sigterm_before_first_step(void **state)
{
    (void)state;
    const char *t = sn_test_tmpdir();
    int rc = sn_test_run("cd %s && rm -rf early && ( sh -c 'echo $$ > early.pid; "
                         "head -c 65536 /dev/zero; exec " BIN " train --model m.cfg "
                         "--data blobs.h5 --checkpoint-dir early --epochs 300 --threads 1' ) | "
                         "( for i in $(seq 1200); do grep -q pipe_write /proc/$(cat early.pid)/wchan "
                         "2>/dev/null && break; sleep 0.05; done; kill -TERM $(cat early.pid); "
                         "cat > /dev/null )", t);
    char *err = err_text();
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(err, "stopped by SIGTERM"));
    assert_non_null(strstr(err, "after step 1:"));
    free(err);
    assert_int_equal(sn_test_run("ls %s/early", t), 0);
    char *out = out_text();
    assert_string_equal(out, "ckpt-00000001.h5\n");
    free(out);
}

/* A run without --resume in a folder of an earlier run's checkpoints
 * stops before any work, exit 2, naming the folder, its newest checkpoint
 * and what to do; nothing in the folder changes (not even the lock
 * file's text) and no --out appears.  --resume auto, as the message
 * says, continues that run. */
static void test_train_fresh_run_refused_in_used_folder(void **state)
{
    (void)state;
    char dir[1024], m[1024], d[1024];
    snprintf(dir, sizeof dir, "%s/used", sn_test_tmpdir());
    snprintf(m, sizeof m, "%s", sn_test_path("m.cfg"));
    snprintf(d, sizeof d, "%s", sn_test_path("blobs.h5"));
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 5 --checkpoint-dir %s "
                                 "--quiet --threads 1", m, d, dir), 0);
    assert_int_equal(sn_test_run("cd %s && ls -a && md5sum ckpt-* .lock", dir), 0);
    char *before = out_text();
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 3 --keep 1 --checkpoint-dir %s "
                         "--out %s --quiet --threads 1", m, d, dir, sn_test_path("fresh.h5"));
    char *err = err_text();
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "already holds 1 checkpoint of an earlier run (the newest: "));
    assert_non_null(strstr(err, "/used/ckpt-00000005.h5, written 2"));
    assert_non_null(strstr(err, "if that run is yours, add --resume auto to continue it"));
    free(err);
    assert_int_equal(sn_test_run("cd %s && ls -a && md5sum ckpt-* .lock", dir), 0);
    char *after = out_text();
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_not_equal(access(sn_test_path("fresh.h5"), F_OK), 0);
    /* another model's --resume auto in that folder: told what to do */
    char other[1024];
    snprintf(other, sizeof other, "%s", sn_test_path("other.cfg"));
    char *text = strdup(model_cfg), *units = strstr(text, "units = 16");
    units[9] = '2';   /* units = 12 */
    write_text(other, text);
    free(text);
    rc = sn_test_run(BIN " train --model %s --data %s --steps 8 --checkpoint-dir %s --resume auto "
                     "--threads 1", other, d, dir);
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "the file holds another model; --resume auto continues the newest "
                                "checkpoint of "));
    assert_non_null(strstr(err, "give this run another --checkpoint-dir"));
    free(err);
    rc = sn_test_run(BIN " train --model %s --data %s --steps 8 --checkpoint-dir %s --resume auto "
                     "--threads 1", m, d, dir);
    char *out = out_text();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "resumed from "));
    assert_non_null(strstr(out, "/used/ckpt-00000005.h5"));
    free(out);
}

/* A checkpoint folder belongs to one run at a time: a second run started
 * in it while the first trains (with --resume auto, as a requeued job
 * would: without it the first's checkpoints alone refuse it) stops at
 * once with exit 2, naming the first's host and pid; the first is
 * unharmed (it stops cleanly on SIGTERM afterwards). */
static void test_train_folder_in_use(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/busy", sn_test_tmpdir());
    int rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --quiet "
                         "--threads 1 --epochs 100000 --checkpoint-dir %s & job=$!; "
                         "for i in $(seq 600); do ls %s/ckpt-* >/dev/null 2>&1 && break; "
                         "sleep 0.05; done; " BIN " train --model %s --data %s --quiet "
                         "--checkpoint-dir %s --resume auto > %s/second.txt 2>&1; "
                         "echo $? > %s/second.rc; "
                         "pkill -TERM -f '^[^ ]*scratchnet train.*%s'; wait $job", mpirun(),
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir, dir,
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir, sn_test_tmpdir(),
                         sn_test_tmpdir(), dir);
    assert_int_equal(rc, 0);   /* the first run stopped cleanly */
    char *second = sn_test_slurp(sn_test_path("second.txt"));
    char *code = sn_test_slurp(sn_test_path("second.rc"));
    assert_int_equal(atoi(code), 2);
    assert_non_null(strstr(second, "is in use by another run (host "));
    assert_non_null(strstr(second, ", pid "));
    free(second);
    free(code);
}

/* --steps N stops after N optimizer steps: alone, as many epochs as that
 * takes (the model file says 1 epoch of 20 steps; 30 steps run); with
 * --epochs, whichever ends first.  The start-up line says which bound
 * applies, and a resumed run counts the steps before it. */
static void test_train_steps_bound(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/steps", sn_test_tmpdir());
    write_text(sn_test_path("one.cfg"), "[net]\ninput = 8\nbatch = 24\nepochs = 1\n"
               "optimizer = sgd\nlr = 0.05\n[dense]\nunits = 3\n");
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 30 --checkpoint-dir %s",
                         sn_test_path("one.cfg"), sn_test_path("blobs.h5"), dir);
    char *out = out_text();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "the run ends at step 30: --steps"));
    assert_non_null(strstr(out, "epoch 1/2  step 20"));
    /* the part of epoch 2 it trained, said */
    assert_non_null(strstr(out, "epoch 2/2  step 30 (10 of the epoch's 20 steps)"));
    free(out);
    assert_int_equal(sn_test_run("ls %s/ckpt-00000030.h5", dir), 0);
    rc = sn_test_run(BIN " train --model %s --data %s --steps 30 --epochs 1 --quiet --out %s",
                     sn_test_path("one.cfg"), sn_test_path("blobs.h5"), sn_test_path("s1.h5"));
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " train --model %s --data %s --steps 30 --epochs 1",
                     sn_test_path("one.cfg"), sn_test_path("blobs.h5"));
    out = out_text();
    assert_non_null(strstr(out, "the run ends at step 20: the epoch count"));
    free(out);
    /* --steps first, with an epoch count that would end the run later */
    rc = sn_test_run(BIN " train --model %s --data %s --steps 30 --epochs 1000",
                     sn_test_path("one.cfg"), sn_test_path("blobs.h5"));
    out = out_text();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "the run ends at step 30: --steps\n"));
    free(out);
    rc = sn_test_run(BIN " train --model %s --data %s --steps 40 --epochs 2",
                     sn_test_path("one.cfg"), sn_test_path("blobs.h5"));
    out = out_text();
    assert_non_null(strstr(out, "the run ends at step 40: --steps and the epoch count agree"));
    free(out);
    char log[1100];
    snprintf(log, sizeof log, "%s", sn_test_path("steps.jsonl"));
    rc = sn_test_run(BIN " train --model %s --data %s --steps 45 --checkpoint-dir %s "
                     "--resume auto --log %s", sn_test_path("one.cfg"), sn_test_path("blobs.h5"),
                     dir, log);
    out = out_text();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "resumed from"));
    assert_non_null(strstr(out, "the run ends at step 45"));
    /* the epoch it resumed in says over how many steps its train figures
     * are (user 43 U3), on its line and in the log */
    assert_non_null(strstr(out, "step 40 (train figures over the 10 steps since the resume at "
                                "step 30)  train loss"));
    assert_non_null(strstr(out, "step 45 (5 of the epoch's 20 steps)  train loss"));
    free(out);
    assert_int_equal(sn_test_run("grep -q '\"step\": 40, \"train_steps\": 10,' %s && "
                                 "grep -q '\"step\": 45, \"train_steps\": 5,' %s", log, log), 0);
    assert_int_equal(sn_test_run("ls %s/ckpt-00000045.h5", dir), 0);
}

/* One rank killed: the others and mpirun are gone within 30 s, non-zero.
 * The kill waits for the rank table (rank 1's pid), however slowly the
 * job starts on a loaded machine, and the job is far too long to end by
 * itself first. */
static void test_train_rank_death_ends_job(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/death", sn_test_tmpdir());
    int rc = sn_test_run("timeout 120 %s -np 3 " BIN " train --model %s --data %s "
                         "--epochs 100000 --threads 1 --checkpoint-dir %s > %s/run.txt 2>&1 & "
                         "job=$!; pid=; for i in $(seq 600); do "
                         "pid=$(awk '$1 == 1 && NF == 4 {print $4}' %s/run.txt); "
                         "[ -n \"$pid\" ] && break; sleep 0.1; done; sleep 1; "
                         "start=$(date +%%s); kill -KILL $pid; wait $job; st=$?; "
                         "echo $(( $(date +%%s) - start )) > %s/secs; exit $st", mpirun(),
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir, sn_test_tmpdir(),
                         sn_test_tmpdir(), sn_test_tmpdir());
    char *secs = sn_test_slurp(sn_test_path("secs"));
    assert_non_null(secs);
    fprintf(stderr, "  rank 1 killed: job ended with %d after %s", rc, secs);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);   /* not the timeout guard */
    assert_true(atoi(secs) < 30);
    free(secs);
}

/* One rank frozen (SIGSTOP) inside training: the others wait in the
 * reduction until --timeout, name themselves and the collective they wait
 * in (its kind and number in their sequence), and the job ends within 30 s
 * of the freeze.  The job is far too long to end by itself, and the freeze
 * waits for the rank table (the watchdog guards the set-up's collectives
 * too, so a freeze during set-up on a slow machine ends the same way). */
static void test_train_hung_rank_times_out(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/hang", sn_test_tmpdir());
    int rc = sn_test_run("timeout 90 %s -np 2 " BIN " train --model %s --data %s "
                         "--epochs 100000 --threads 1 --timeout 5 --checkpoint-dir %s > %s/hang.txt "
                         "2>&1 & job=$!; pid=; for i in $(seq 600); do "
                         "pid=$(awk '$1 == 1 && NF == 4 {print $4}' %s/hang.txt); "
                         "[ -n \"$pid\" ] && break; sleep 0.1; done; sleep 1; start=$(date +%%s); "
                         "kill -STOP $pid; wait $job; st=$?; echo $(( $(date +%%s) - start )) > %s/hsecs; "
                         "kill -KILL $pid 2>/dev/null; exit $st", mpirun(), sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), dir, sn_test_tmpdir(), sn_test_tmpdir(),
                         sn_test_tmpdir());
    char *secs = sn_test_slurp(sn_test_path("hsecs")), *log = sn_test_slurp(sn_test_path("hang.txt"));
    fprintf(stderr, "  rank 1 frozen: job ended with %d after %s", rc, secs ? secs : "?\n");
    if (rc == 124 && log)   /* the guard fired: show what the job printed */
        fprintf(stderr, "%.2000s\n", log);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);
    assert_non_null(strstr(log, "rank 0: no progress for"));
    /* where rank 0 waits: a collective, by kind and number (the frozen
     * rank may speak too, when mpirun wakes it to end it: from behind) */
    const char *at = strstr(log, "rank 0: no progress for");
    assert_non_null(strstr(at, "waiting in "));
    assert_non_null(strstr(at, "(collective #"));
    assert_non_null(strstr(at, ", step "));
    /* the frozen rank, when it speaks, says it was the one not running;
     * the waiting one does not */
    const char *one = strstr(log, "rank 1: no progress for");
    if (one)
        assert_non_null(strstr(one, "(this rank itself was not running for "));
    char line0[1024];
    snprintf(line0, sizeof line0, "%.*s", (int)strcspn(at, "\n"), at);
    assert_non_null(strstr(line0, "(another rank stopped responding?)"));
    /* it has a checkpoint folder: what a rerun does depends on whether
     * the frozen run wrote a checkpoint before */
    const bool saved = sn_test_run("ls %s/ckpt-*.h5", dir) == 0;
    assert_non_null(strstr(at, saved ? "(--resume auto continues"
                                     : "(no checkpoint written yet: a rerun starts over)"));
    assert_true(atoi(secs) < 30);
    free(secs);
    free(log);
}

/* A learning rate that blows the weights up stops training with the step
 * and layer named, exit 1, and the last good checkpoint stays the newest. */
static void test_train_nan_stops(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/nan", sn_test_tmpdir());
    int rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --lr 1e6 "
                         "--checkpoint-dir %s --checkpoint-every 1 --quiet", mpirun(),
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir);
    char *err = err_text();
    if (rc != 1)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "is not finite"));
    assert_non_null(strstr(err, "of layer dense"));
    /* no checkpoint was written at or after the failing step (the error
     * line's: a warning before it may say "per step") */
    const char *line = strstr(err, "scratchnet: error:");
    assert_non_null(line);
    int bad_step = atoi(strstr(line, "step ") + 5);
    assert_true(bad_step >= 1);
    free(err);
    assert_int_equal(sn_test_run("ls %s", dir), 0);
    char *out = out_text(), name[64];
    snprintf(name, sizeof name, "ckpt-%08d.h5", bad_step);
    assert_null(strstr(out, name));
    if (bad_step > 1) {
        snprintf(name, sizeof name, "ckpt-%08d.h5", bad_step - 1);
        assert_non_null(strstr(out, name));
    }
    free(out);
}

/* Weights as another tool writes them (/params/LAYER/NAME float arrays
 * alone), which an --out may replace: /params/kept/precious, 1 to 8. */
static void write_precious_h5(const char *path)
{
    struct sn_h5 *f;
    size_t n = 8;
    const float v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/kept/precious", 1, &n, SN_H5_F32, v), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

static bool holds_precious_h5(const char *path)
{
    struct sn_h5 *f;
    float v[8] = { 0 };
    if (sn_h5_open(path, &f) != SN_OK)
        return false;
    const bool read = sn_h5_read_all(f, "/params/kept/precious", SN_H5_F32, v, 8) == SN_OK;
    sn_h5_close(f);
    return read && v[0] == 1 && v[7] == 8;
}

/* A full disk: a small tmpfs fills up while the job checkpoints every
 * step.  The job stops with exit 1 naming the device, no temporary file is
 * left, the newest checkpoint is whole (eval loads it) and --resume auto
 * continues from it; a final --out on the full disk leaves the old file,
 * a --trace there leaves nothing, and the --log line that does not fit is warned about once.
 * Needs root for mount(8); skipped with a message otherwise. */
static void test_train_full_disk(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/full", sn_test_tmpdir());
    assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
    if (sn_test_run("mount -t tmpfs -o size=160k tmpfs %s", dir) != 0) {
        printf("skipped: cannot mount a small tmpfs here (needs root)\n");
        skip();
    }
    write_precious_h5(sn_test_path("full/w.h5"));   /* HDF5: an --out may replace it */
    int rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --steps 60 "
                         "--checkpoint-dir %s/ck --checkpoint-every 1 --quiet", mpirun(),
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir);
    char *err = err_text();
    /* the line says how to go on (it named the file alone) */
    const bool told = strstr(err, "no space left on the device); the checkpoints written before "
                                  "it are whole: free space, then continue with --resume auto");
    if (rc != 1 || !told)
        fprintf(stderr, "exit %d, stderr:\n%s\n", rc, err);
    free(err);
    /* what is on the disk, before anything else is tried */
    int ls = sn_test_run("ls -A %s/ck", dir);
    char *names = out_text();
    int newest = 0, count = 0;
    for (const char *p = names; (p = strstr(p, "ckpt-")); p++, count++)
        newest = atoi(p + 5) > newest ? atoi(p + 5) : newest;
    bool stray = strstr(names, ".tmp") != NULL;
    free(names);
    char ck[1100];
    snprintf(ck, sizeof ck, "%s/ck/ckpt-%08d.h5", dir, newest);
    int eval_rc = sn_test_run(BIN " eval --weights %s --data %s", ck, sn_test_path("blobs.h5"));
    /* resume from a copy on a roomy disk */
    int resume_rc = sn_test_run("rm -rf %s && cp -r %s/ck %s && timeout 60 %s -np 2 " BIN
                                " train --model %s --data %s --steps %d --checkpoint-dir %s "
                                "--resume auto", sn_test_path("ck_copy"), dir,
                                sn_test_path("ck_copy"), mpirun(), sn_test_path("m.cfg"),
                                sn_test_path("blobs.h5"), newest + 2, sn_test_path("ck_copy"));
    char *out = out_text();
    char want[64];
    snprintf(want, sizeof want, "step %d", newest);
    bool resumed_there = strstr(out, want) != NULL;
    free(out);
    /* --out on the full disk keeps the old file (the failed checkpoint's
     * space came back when its temporary file went: fill it again) */
    sn_test_run("dd if=/dev/zero of=%s/filler bs=4k", dir);
    /* a log line that does not fit is said, once, and training goes on;
     * with one page free, the lines fill it and the last one is cut short
     * by the disk */
    sn_test_run("truncate -s -4K %s/filler", dir);
    int log_rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --epochs 40 "
                             "--log %s/l.jsonl --quiet", mpirun(), sn_test_path("m.cfg"),
                             sn_test_path("blobs.h5"), dir);
    char *out_err = err_text();
    const char *said = strstr(out_err, "l.jsonl: cannot write the log: No space left on "
                                       "device; training goes on without it");
    bool log_warned = said && !strstr(said + 10, "cannot write the log");
    /* and the line that did not fit is not left half written */
    char *log = sn_test_slurp(sn_test_path("full/l.jsonl"));
    bool log_whole = log && (!log[0] || log[strlen(log) - 1] == '\n');
    free(log);
    sn_test_run("dd if=/dev/zero of=%s/filler2 bs=4k", dir);   /* full again, for --out */
    if (!log_warned)
        fprintf(stderr, "--log on the full disk, stderr:\n%s\n", out_err);
    free(out_err);
    int out_rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --steps 2 "
                             "--out %s/w.h5 --quiet", mpirun(), sn_test_path("m.cfg"),
                             sn_test_path("blobs.h5"), dir);
    const bool kept = holds_precious_h5(sn_test_path("full/w.h5"));
    /* a --trace that does not fit leaves no temporary file either */
    int trace_rc = sn_test_run("timeout 60 " BIN " train --model %s --data %s --steps 2 "
                               "--trace %s/t.json --quiet", sn_test_path("m.cfg"),
                               sn_test_path("blobs.h5"), dir);
    /* a log no line of which fits is not left behind empty */
    int empty_rc = sn_test_run("timeout 60 " BIN " train --model %s --data %s --steps 2 "
                               "--log %s/e.jsonl --quiet && ! test -e %s/e.jsonl",
                               sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir, dir);
    int left = sn_test_run("ls -A %s", dir);
    char *top = out_text();
    bool top_stray = strstr(top, ".tmp") != NULL;
    free(top);
    assert_int_equal(sn_test_run("umount %s", dir), 0);

    assert_int_equal(rc, 1);
    assert_true(told);
    assert_int_equal(ls, 0);
    assert_true(count >= 2 && newest >= 2 && newest < 60);
    assert_false(stray);
    assert_int_equal(eval_rc, 0);
    assert_int_equal(resume_rc, 0);
    assert_true(resumed_there);
    assert_int_equal(out_rc, 1);
    assert_int_equal(trace_rc, 1);
    assert_int_equal(empty_rc, 0);
    assert_int_equal(log_rc, 0);
    assert_true(log_warned);
    assert_true(log_whole);
    assert_true(kept);
    assert_int_equal(left, 0);
    assert_false(top_stray);
}

/* A --log another process is writing (holding its flock, as a running
 * train does) is refused: two runs would interleave their epochs in it
 * and plot would draw them as one run.  The log is left as it was. */
static void test_train_log_one_run_at_a_time(void **state)
{
    (void)state;
    char log[1024];
    snprintf(log, sizeof log, "%s", sn_test_path("shared.jsonl"));
    write_text(log, "{\"epoch\": 1, \"train_loss\": 0.5}\n");
    int rc = sn_test_run("flock %s " BIN " train --model %s --data %s --steps 2 --log %s --quiet",
                         log, sn_test_path("m.cfg"), sn_test_path("blobs.h5"), log);
    char *err = err_text();
    if (rc != 2)
        fprintf(stderr, "exit %d: %s\n", rc, err);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "shared.jsonl is being written by another run now"));
    free(err);
    char *text = sn_test_slurp(log);
    assert_string_equal(text, "{\"epoch\": 1, \"train_loss\": 0.5}\n");
    free(text);
    /* no output replaces a log a run holds, nor a log at rest (each renamed
     * its file over it, exit 0, and the running run went on appending to
     * the file that had lost its name) */
    rc = sn_test_run("flock %s " BIN " train --model %s --data %s --steps 2 --out %s --quiet",
                     log, sn_test_path("m.cfg"), sn_test_path("blobs.h5"), log);
    assert_int_equal(rc, 2);
    err = err_text();
    assert_non_null(strstr(err, "is locked by a program writing it (the --log a running run "
                                "appends to"));
    free(err);
    assert_int_equal(sn_test_run(BIN " convert subset %s --classes 0-1 -o %s",
                                 sn_test_path("blobs.h5"), log), 2);
    err = err_text();
    assert_non_null(strstr(err, "shared.jsonl is a scratchnet log"));
    free(err);
    text = sn_test_slurp(log);
    assert_string_equal(text, "{\"epoch\": 1, \"train_loss\": 0.5}\n");
    free(text);
    /* and once that run is over, the next appends */
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 2 --log %s --quiet",
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"), log), 0);
}

/* A --log removed or rotated while the run writes it (round 68 F13: the
 * records went on into the file that had lost its name): the next record
 * goes to a new file of that name, with a warning, or to the log a
 * rotation put there; something else put there is not written to. */
static void test_train_log_follows_its_name(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", sn_test_path("follow"));
    static const struct { const char *then, *want; } cases[] = {
        { "mv l.jsonl old.jsonl", "record and the later ones go to a new file of that name" },
        /* replaced in one rename, the old file kept under another name */
        { "ln l.jsonl old.jsonl && : > new && mv new l.jsonl", "go to the log now there" },
        { "ln l.jsonl old.jsonl && echo precious > new && mv new l.jsonl",
          "and cannot be opened again (--log l.jsonl exists and is not a scratchnet log" },
        /* a link, which may lead to the run's own --out (round 71 F4) */
        { "ln l.jsonl old.jsonl && ln -s other.jsonl lnk && mv -T lnk l.jsonl",
          "and cannot be opened again (it is now a symbolic link)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a run of many epochs, its log moved once it has one record,
         * stopped once the name has one again (or 2 s later) */
        const int rc = sn_test_run(
            "rm -rf %s && mkdir %s && cd %s && (" BIN " train --model %s --data %s --epochs "
            "100000 --threads 1 --quiet --log l.jsonl 2> err.txt & pid=$!; "
            "for i in $(seq 3000); do [ -s l.jsonl ] && break; sleep 0.01; done; %s; "
            "for i in $(seq 200); do grep -q epoch l.jsonl 2>/dev/null && break; sleep 0.01; "
            "done; kill -TERM $pid; wait $pid; :) && test $(wc -l < old.jsonl) -ge 1", dir, dir,
            dir, sn_test_path("m.cfg"), sn_test_path("blobs.h5"), cases[i].then);
        char err[1200];
        snprintf(err, sizeof err, "%s/err.txt", dir);
        char *text = sn_test_slurp(err);
        if (rc != 0 || !strstr(text, "warning: --log l.jsonl no longer names the file this run "
                                     "wrote (removed, moved or rotated)") ||
            !strstr(text, cases[i].want))
            fail_msg("%s: exit %d\n%s", cases[i].then, rc, text);
        free(text);
        if (i < 2)   /* the records go on at the name */
            assert_int_equal(sn_test_run("grep -q '^{\"epoch\"' %s/l.jsonl", dir), 0);
        else if (i == 2)
            assert_int_equal(sn_test_run("test \"$(cat %s/l.jsonl)\" = precious", dir), 0);
        else   /* nothing made through the link */
            assert_int_equal(sn_test_run("test ! -e %s/other.jsonl", dir), 0);
    }
}

/* A --log whose last line is a record cut short that cannot be removed
 * (append-only, chattr +a; as root on a file system that has the flag):
 * refused, not appended to (the run's record joined the cut line, exit
 * 0, and plot refused the whole log). */
static void test_train_log_cut_append_only(void **state)
{
    (void)state;
    const char *log = sn_test_path("appendonly.jsonl");
    write_text(log, "{\"epoch\": 1, \"train_loss\": 0.5}\n{\"epoch\": 2, \"tra");
    if (sn_test_run("chattr +a %s", log) != 0)
        skip();
    const int rc = sn_test_run(BIN " train --model %s --data %s --steps 2 --log %s --quiet",
                               sn_test_path("m.cfg"), sn_test_path("blobs.h5"), log);
    char *err = err_text();
    assert_int_equal(sn_test_run("chattr -a %s", log), 0);
    if (rc != 2 || !strstr(err, "appendonly.jsonl: its last line was cut short (17 bytes without "
                                "an end of line, from a write that failed) and cannot be removed"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
    char *text = sn_test_slurp(log);
    assert_string_equal(text, "{\"epoch\": 1, \"train_loss\": 0.5}\n{\"epoch\": 2, \"tra");
    free(text);
}

/* A run whose epochs would carry its --log past the records plot draws
 * says so before it starts, and appends as asked. */
static void test_train_log_near_plots_limit(void **state)
{
    (void)state;
    const char *log = sn_test_path("nearfull.jsonl");
    FILE *f = fopen(log, "w");
    assert_non_null(f);
    for (int e = 1; e <= 100000; e++)
        fprintf(f, "{\"epoch\": %d, \"train_loss\": 0.5}\n", e);
    fclose(f);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 2 --log %s --quiet",
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"), log), 0);
    char *err = err_text();
    assert_non_null(strstr(err, "nearfull.jsonl holds 100000 records and this run adds up to 1"));
    free(err);
    char *text = sn_test_slurp(log);
    size_t lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    free(text);
    assert_int_equal(lines, 100001);
    /* or past the bytes plot reads: 4,130 records of 65,000 bytes (JSON
     * allows the blanks) end 456 bytes short of 256 MiB */
    f = fopen(log, "w");
    assert_non_null(f);
    for (long e = 1, left = 268435000; left > 0; e++) {
        const int n = left < 65000 ? (int)left : 65000;
        left -= fprintf(f, "{\"epoch\": %ld, \"train_loss\": 0.5%*s}\n", e,
                        n - 32 - (e >= 10) - (e >= 100) - (e >= 1000), "");
    }
    assert_int_equal(ftell(f), 268435000);
    fclose(f);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 2 --log %s --quiet",
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"), log), 0);
    err = err_text();
    assert_non_null(strstr(err, "nearfull.jsonl holds 268435000 bytes and this run adds a "
                                "record of at most 512 bytes for each of up to 1 epochs: past "
                                "256 MiB, the most plot reads"));
    free(err);
    remove(log);
}

/* The predictions of the file at path: /pred, and /probs (n x 3). */
static void read_preds(const char *path, int32_t *pred, float *probs, size_t n)
{
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/pred", SN_H5_I32, pred, n), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/probs", SN_H5_F32, probs, 3 * n), SN_OK);
    sn_h5_close(f);
}

/* predict -o onto a disk with 0 to 8 pages free: each run either writes
 * the predictions a roomy disk gets, or fails (exit 1) leaving no file.
 * A small array's data sat in libhdf5's sieve buffer until the dataset was
 * closed, whose failure went unchecked: at some levels the file was
 * sealed over zeros, exit 0. */
static void test_predict_full_disk_every_level(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fullp", sn_test_tmpdir());
    assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
    if (sn_test_run("mount -t tmpfs -o size=200k tmpfs %s", dir) != 0) {
        printf("skipped: cannot mount a small tmpfs here (needs root)\n");
        skip();
    }
    char w[1100], ref[1100];   /* sn_test_path's buffer is its own: copied */
    snprintf(w, sizeof w, "%s", sn_test_path("wfull.h5"));
    snprintf(ref, sizeof ref, "%s", sn_test_path("pref.h5"));
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 3 --out %s --quiet && " BIN
                         " predict --weights %s --input %s -o %s", sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), w, w, sn_test_path("blobs.h5"), ref);
    enum { N = 120 };   /* blobs.h5's test rows */
    static int32_t pred[N], want_pred[N];
    static float probs[3 * N], want_probs[3 * N];
    if (!rc)
        read_preds(ref, want_pred, want_probs, N);
    int wrote = 0, refused = 0, bad = 0;
    for (int pages = 0; pages <= 8 && !rc; pages++) {
        sn_test_run("rm -f %s/* && dd if=/dev/zero of=%s/filler bs=4k count=%d", dir, dir,
                    50 - pages);
        int p = sn_test_run(BIN " predict --weights %s --input %s -o %s/p.h5", w,
                            sn_test_path("blobs.h5"), dir);
        char out[1100];
        snprintf(out, sizeof out, "%s/p.h5", dir);
        bool there = access(out, F_OK) == 0;
        if (p == 0 && there) {
            read_preds(out, pred, probs, N);
            bool same = !memcmp(pred, want_pred, sizeof pred) &&
                        !memcmp(probs, want_probs, sizeof probs);
            wrote += same;
            bad += !same;
        } else {
            refused += p == 1 && !there;
            bad += !(p == 1 && !there);
        }
        if (bad) {
            char *err = err_text();
            fprintf(stderr, "%d pages free: exit %d, %s: %s\n", pages, p, there ? "file" : "none",
                    err);
            free(err);
        }
    }
    assert_int_equal(sn_test_run("umount %s", dir), 0);
    assert_int_equal(rc, 0);
    print_message("full disk: %d runs wrote the predictions, %d refused\n", wrote, refused);
    assert_int_equal(bad, 0);
    assert_true(wrote >= 1 && refused >= 1);
}

/* Bad input is tests/cli/bad_inputs.md, run by test_bad_input.c.  Here:
 * --help (where a flag may stand, not as a value), an --out in the checkpoint folder the run creates, and a lone
 * process whose environment says the job has 2 ranks refuses to train
 * alone. */
static void test_train_help_and_lone_rank(void **state)
{
    (void)state;
    int rc = sn_test_run(BIN " train --help");
    assert_int_equal(rc, 0);
    /* --help where a flag may stand prints the usage, after other flags too;
     * as a flag's value it is a slip, not a request for help */
    rc = sn_test_run(BIN " train --quiet --model x.cfg -h");
    char *out = out_text();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "usage: scratchnet train"));
    free(out);
    /* a conversion's --help is its own */
    rc = sn_test_run(BIN " convert subset --help");
    out = out_text();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "usage: scratchnet convert subset"));
    assert_null(strstr(out, "convert idx"));
    free(out);
    rc = sn_test_run(BIN " train --model %s --data %s --out -h", sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"));
    assert_int_equal(rc, 2);
    /* --out inside a checkpoint folder the run itself creates is fine */
    rc = sn_test_run("timeout 60 %s -np 2 " BIN " train --model %s --data %s --steps 3 --quiet "
                     "--checkpoint-dir %s --out %s", mpirun(), sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"), sn_test_path("newck/run"),
                     sn_test_path("newck/run/final.h5"));
    assert_int_equal(rc, 0);
    rc = sn_test_run("OMPI_COMM_WORLD_SIZE=2 " BIN " train --model %s --data %s",
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    char *err = err_text();
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "world of 1 rank"));
    free(err);
}

/* Without a launcher a run is one rank and starts no MPI runtime; SN_MPI=1
 * starts it anyway; another value of SN_MPI is refused.  The progress bar
 * of a run that --steps ends inside its epoch counts to the run's end. */
static void test_train_alone_without_mpi(void **state)
{
    (void)state;
    const char *run = "%s" BIN " train --model %s --data %s --steps 2 --progress plain";
    int rc = sn_test_run(run, "", sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    char *out = out_text();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "1 rank (alone, no MPI)"));
    assert_non_null(strstr(out, "[####################] 2/2  loss"));
    free(out);
    rc = sn_test_run(run, "SN_MPI=1 ", sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    out = out_text();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "1 rank (mpi)"));
    free(out);
    rc = sn_test_run(run, "SN_MPI=yes ", sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    char *err = err_text();
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "SN_MPI='yes'"));
    free(err);
}

/* ---- stopping a run with a signal ----------------------------------------
 * SIGTERM or SIGINT delivered (a) to the command the user ran, (b) to its
 * whole process group (kill -TERM -PGID; a Ctrl-C typed on a terminal) or
 * (c) to one rank: the step in progress finishes, the checkpoint and --out
 * are written, exit 0, and the line names the signal.  Under Open MPI the
 * command for (a) and (b) is launch/local.sh (mpirun itself answers those
 * signals by ending the job and exiting 1: test_train_stop_plain_mpirun);
 * MPICH's mpiexec passes them on, so there it is the launcher alone.
 * Every wait is for a line or a process, bounded; none is a fixed sleep. */

/* The flags of a run far too long to end by itself (2,000,000 steps). */
#define LONG_RUN "--model %s --data %s --epochs 100000 --threads 1 --progress plain " \
                 "--progress-every 5"

static bool launcher_is_open_mpi(void)
{
    int rc = sn_test_run("%s --version", mpirun());
    char *out = out_text();
    bool ompi = rc == 0 && out && strstr(out, "Open MPI");
    free(out);
    return ompi;
}

/* The command a user runs to start 2 ranks, up to and without `train`. */
static void user_launcher(char *buf, size_t len)
{
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    if (launcher_is_open_mpi())
        snprintf(buf, len, "env SCRATCHNET=" BIN " %s/launch/local.sh 2", cwd);
    else
        snprintf(buf, len, "%s -np 2 " BIN, mpirun());
}

/* `launch train LONG_RUN extra` in a session of its own with SIGINT not
 * ignored (as in a terminal); once it prints progress, sig (TERM, INT) goes
 * to target: "job" (the command started), "group" (its process group) or
 * "rank" (rank 1, from the rank table).  Returns the command's exit status
 * (137 if it was still running 120 s later: then every process of the job
 * is killed); its output is DIR/run.txt. */
static int signalled_run(const char *dir, const char *launch, const char *extra,
                         const char *target, const char *sig)
{
    assert_int_equal(sn_test_run("rm -rf %s && mkdir -p %s", dir, dir), 0);
    return sn_test_run(
        "env --default-signal=INT setsid %s train " LONG_RUN " %s > %s/run.txt 2>&1 & job=$!; "
        "for i in $(seq 1200); do grep -q 'img/s' %s/run.txt && break; "
        "kill -0 $job 2>/dev/null || break; sleep 0.1; done; "
        "rank=$(awk '$1 == 1 && NF == 4 {print $4; exit}' %s/run.txt); "
        "case %s in job) kill -%s $job ;; group) kill -%s -$job ;; rank) kill -%s $rank ;; esac; "
        "timeout 120 tail -s 0.1 --pid=$job -f /dev/null || pkill -KILL -f '%s/'; wait $job",
        launch, sn_test_path("m.cfg"), sn_test_path("blobs.h5"), extra, dir, dir, dir, target, sig,
        sig, sig, dir);
}

/* The same run on a terminal of its own (script(1)), and a Ctrl-C typed on
 * it once it prints progress: the terminal sends SIGINT to its foreground
 * process group, the command the user ran. */
static int ctrl_c_run(const char *dir, const char *launch, const char *extra)
{
    assert_int_equal(sn_test_run("rm -rf %s && mkdir -p %s", dir, dir), 0);
    return sn_test_run(
        "(for i in $(seq 1200); do grep -q 'img/s' %s/run.txt 2>/dev/null && break; "
        "[ -e %s/done ] && break; sleep 0.1; done; printf '\\003') | "
        "{ SHELL=/bin/sh env --default-signal=INT timeout 120 script -qec "
        "'exec %s train " LONG_RUN " %s' /dev/null > %s/run.txt 2>&1; st=$?; "
        "touch %s/done; [ $st = 124 ] && pkill -KILL -f '%s/'; exit $st; }",
        dir, dir, launch, sn_test_path("m.cfg"), sn_test_path("blobs.h5"), extra, dir, dir, dir);
}

/* After a stop with --checkpoint-dir DIR/ck --out DIR/w.h5: exit status
 * want, the line names sig ("SIGTERM", or "SIGTERM from mpirun"), the
 * checkpoint of the step it names exists and --out holds its parameters.
 * Returns that step. */
static long check_stopped(const char *dir, int rc, int want, const char *sig)
{
    char path[1200], words[64];
    snprintf(path, sizeof path, "%s/run.txt", dir);
    char *out = sn_test_slurp(path);
    snprintf(words, sizeof words, "stopped by %s", sig);
    const char *line = out ? strstr(out, words) : NULL;
    const char *after = line ? strstr(line, " after step ") : NULL;
    if (rc != want || !after)
        fprintf(stderr, "%s: exit %d\n%.3000s\n", dir, rc, out ? out : "(no output)");
    assert_int_equal(rc, want);
    assert_non_null(after);
    long step = atol(after + 12);
    assert_true(step >= 1);
    assert_non_null(strstr(line, "checkpoint written"));
    free(out);
    float a[256], b[256];
    snprintf(path, sizeof path, "%s/ck/ckpt-%08ld.h5", dir, step);
    size_t n = read_params(path, a, 256);
    snprintf(path, sizeof path, "%s/w.h5", dir);
    read_params(path, b, 256);
    assert_memory_equal(a, b, n * sizeof(float));
    return step;
}

/* Each run resumed from its checkpoint to one step past the latest stop
 * ends bit for bit where an uninterrupted run to that step ends. */
static void check_resumes(char dirs[][1024], int n, long latest)
{
    const long end = latest + 10;
    float ref[256], got[256];
    int rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --epochs 100000 "
                         "--steps %ld --threads 1 --quiet --out %s", mpirun(),
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), end,
                         sn_test_path("stop_ref.h5"));
    assert_int_equal(rc, 0);
    size_t len = read_params(sn_test_path("stop_ref.h5"), ref, 256);
    for (int i = 0; i < n; i++) {
        rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --epochs 100000 "
                         "--steps %ld --threads 1 --checkpoint-dir %s/ck --resume auto --out "
                         "%s/final.h5", mpirun(), sn_test_path("m.cfg"), sn_test_path("blobs.h5"),
                         end, dirs[i], dirs[i]);
        char *out = out_text();
        if (rc || !strstr(out, "resumed from"))
            fprintf(stderr, "%s: resume exit %d\n%s\n", dirs[i], rc, out);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, "resumed from"));
        free(out);
        char path[1200];
        snprintf(path, sizeof path, "%.1024s/final.h5", dirs[i]);
        read_params(path, got, 256);
        assert_memory_equal(ref, got, len * sizeof(float));
    }
}

/* sig by the three deliveries; group is "group" (kill -SIG -PGID) or
 * "terminal" (a Ctrl-C typed on it). */
static void stop_three_ways(const char *sig, const char *group)
{
    char launch[2048], plain[1024], dirs[3][1024];
    user_launcher(launch, sizeof launch);
    snprintf(plain, sizeof plain, "%s -np 2 " BIN, mpirun());
    const char *ways[3] = { "job", group, "rank" };
    long latest = 0;
    for (int w = 0; w < 3; w++) {
        snprintf(dirs[w], sizeof dirs[w], "%s/stop_%s_%s", sn_test_tmpdir(), sig, ways[w]);
        char extra[2400];
        snprintf(extra, sizeof extra, "--checkpoint-dir %s/ck --out %s/w.h5", dirs[w], dirs[w]);
        int rc = strcmp(ways[w], "terminal") == 0 ? ctrl_c_run(dirs[w], launch, extra)
                 : signalled_run(dirs[w], w == 2 ? plain : launch, extra, ways[w], sig + 3);
        long step = check_stopped(dirs[w], rc, 0, sig);
        fprintf(stderr, "  %s to %s: stopped after step %ld, exit 0\n", sig,
                w == 0 ? "the command" : w == 2 ? "rank 1" : strcmp(group, "group") == 0
                ? "its process group" : "its terminal (Ctrl-C)", step);
        latest = step > latest ? step : latest;
    }
    check_resumes(dirs, 3, latest);
}

/* SIGTERM to the command, to its process group, to rank 1. */
static void test_train_stop_sigterm_three_ways(void **state)
{
    (void)state;
    stop_three_ways("SIGTERM", "group");
}

/* SIGINT to the command, as a Ctrl-C on its terminal, to rank 1. */
static void test_train_stop_sigint_three_ways(void **state)
{
    (void)state;
    stop_three_ways("SIGINT", "terminal");
}

/* SIGHUP (a terminal or ssh session closing), SIGUSR2 and SIGALRM (which
 * MPICH's mpiexec and Slurm's --signal send), SIGPWR (a UPS daemon) and a
 * real-time signal (Slurm's --signal takes any) stop a run like SIGTERM:
 * the checkpoint and --out of the step the line names (each ended the
 * process at once, with nothing saved since the last checkpoint). */
static void test_train_stop_sighup(void **state)
{
    (void)state;
    const char *sigs[] = { "HUP", "USR2", "ALRM", "PWR", "RTMIN" };
    for (int i = 0; i < 5; i++) {
        char dir[1024], extra[2400], name[32];
        snprintf(dir, sizeof dir, "%s/sig%s", sn_test_tmpdir(), sigs[i]);
        snprintf(extra, sizeof extra, "--checkpoint-dir %s/ck --out %s/w.h5", dir, dir);
        snprintf(name, sizeof name, i == 4 ? "a real-time signal" : "SIG%s", sigs[i]);
        long step = check_stopped(dir, signalled_run(dir, BIN, extra, "job", sigs[i]), 0, name);
        fprintf(stderr, "  %s to the command: stopped after step %ld, exit 0\n", name, step);
    }
}

/* A handler installed before main for a signal the command would take as
 * a stop (a sampling profiler's SIGPROF, preloaded: gperftools) is left to
 * it: a run with a profiling timer ticking every 10 ms trains to its end
 * (the first tick stopped it). */
static void test_train_profiler_signal_left_alone(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE"))   /* ASan's runtime must come first: no LD_PRELOAD beside it */
        skip();
    char so[1100];
    snprintf(so, sizeof so, "%s/prof.so", sn_test_tmpdir());
    write_text(sn_test_path("prof.c"),
               "#include <signal.h>\n#include <string.h>\n#include <sys/time.h>\n"
               "static void tick(int s) { (void)s; }\n"
               "__attribute__((constructor)) static void start(void) {\n"
               "    struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = tick;\n"
               "    sigaction(SIGPROF, &sa, 0);\n"
               "    struct itimerval t = { { 0, 10000 }, { 0, 10000 } };\n"
               "    setitimer(ITIMER_PROF, &t, 0);\n}\n");
    assert_int_equal(sn_test_run("cc -shared -fPIC -o %s %s", so, sn_test_path("prof.c")), 0);
    int rc = sn_test_run("LD_PRELOAD=%s " BIN " train --model %s --data %s --steps 200 "
                         "--threads 1 --quiet --out %s", so, sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), sn_test_path("prof_w.h5"));
    char *err = err_text();
    if (rc != 0)
        fprintf(stderr, "exit %d\n%s\n", rc, err);
    assert_int_equal(rc, 0);
    assert_null(strstr(err, "SIGPROF"));
    free(err);
}

/* A stop signal blocked by whoever started the command (a signal mask
 * outlives exec): unblocked at the start, so the run stops at it and
 * saves (the signal stayed pending and the run trained on; SIGXCPU is a
 * CPU-time limit's warning before its SIGKILL, SIGUSR2 a common
 * sbatch --signal). */
static void test_train_blocked_stop_signals_seen(void **state)
{
    (void)state;
    char blk[1100];
    snprintf(blk, sizeof blk, "%s/blockexec", sn_test_tmpdir());
    write_text(sn_test_path("blockexec.c"),
               "#include <signal.h>\n#include <stdlib.h>\n#include <unistd.h>\n"
               "int main(int argc, char **argv) {\n    sigset_t s; sigemptyset(&s);\n"
               "    sigaddset(&s, atoi(argv[1])); sigprocmask(SIG_BLOCK, &s, 0);\n"
               "    execv(argv[2], argv + 2); return 127;\n}\n");
    assert_int_equal(sn_test_run("cc -o %s %s", blk, sn_test_path("blockexec.c")), 0);
    static const int sigs[] = { SIGTERM, SIGUSR2, SIGXCPU };
    static const char *const names[] = { "SIGTERM", "SIGUSR2", "SIGXCPU" };
    for (int k = 0; k < 3; k++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/blocked%d", sn_test_tmpdir(), k);
        int rc = sn_test_run("rm -rf %s && mkdir -p %s && cd %s && %s %d %s train " LONG_RUN
                             " --out w.h5 > run.txt 2>&1 & job=$!; "
                             "for i in $(seq 1200); do grep -q 'img/s' %s/run.txt && break; "
                             "sleep 0.1; done; kill -%d $job; "
                             "for i in $(seq 300); do kill -0 $job 2>/dev/null || break; "
                             "sleep 0.1; done; "
                             "kill -0 $job 2>/dev/null && { kill -KILL $job; exit 99; }; "
                             "wait $job", dir, dir, dir, blk, sigs[k], SN_TEST_BIN,
                             sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir, sigs[k]);
        char path[1100], want[64];
        snprintf(path, sizeof path, "%s/run.txt", dir);
        char *out = sn_test_slurp(path);
        snprintf(want, sizeof want, "stopped by %s", names[k]);
        if (rc != 0 || !strstr(out, want))
            fprintf(stderr, "%s blocked at the start: exit %d (99: still running 30 s after)\n%s\n",
                    names[k], rc, out);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, want));
        free(out);
    }
}

/* --trace of 2 ranks with a sharded optimizer: each rank's three tracks
 * named (they were bare "Thread 0/1/2"), each traced step (6 to 15, after
 * the 5 of warm-up, numbered as the log counts) with one allreduce and one
 * "allreduce (after the update)", the gather of the updated blocks (two
 * events of one name, one of them a gather), and every event its step. */
static void test_train_trace_events(void **state)
{
    (void)state;
    const char *path = sn_test_path("tr.json");
    assert_int_equal(sn_test_run("%s -np 2 " BIN " train --model %s --data %s --steps 16 "
                                 "--threads 1 --shard-optimizer --quiet --trace %s", mpirun(),
                                 sn_test_path("m.cfg"), sn_test_path("blobs.h5"), path), 0);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    assert_non_null(root);
    json_t *events = json_object_get(root, "traceEvents"), *e;
    assert_true(json_is_array(events));
    int named[2][3] = { { 0 } }, reduce[2][17] = { { 0 } }, after[2][17] = { { 0 } };
    size_t i;
    json_array_foreach(events, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const int pid = (int)json_integer_value(json_object_get(e, "pid"));
        const int tid = (int)json_integer_value(json_object_get(e, "tid"));
        assert_true(name && pid >= 0 && pid < 2);
        if (strcmp(name, "thread_name") == 0 && tid >= 0 && tid < 3)
            named[pid][tid]++;
        if (strcmp(json_string_value(json_object_get(e, "ph")), "M") == 0)
            continue;
        const json_int_t step = json_integer_value(json_object_get(json_object_get(e, "args"),
                                                                   "step"));
        assert_true(step >= 6 && step <= 15);
        reduce[pid][step] += strcmp(name, "allreduce") == 0;
        after[pid][step] += strcmp(name, "allreduce (after the update)") == 0;
    }
    json_decref(root);
    for (int r = 0; r < 2; r++) {
        for (int tid = 0; tid < 3; tid++)
            assert_int_equal(named[r][tid], 1);
        for (int step = 6; step <= 15; step++) {
            assert_int_equal(reduce[r][step], 1);
            assert_int_equal(after[r][step], 1);
        }
    }
}

/* A checkpoint folder on a file system without flock (flock fails with
 * ENOSYS, as on Lustre mounted noflock; a preloaded flock here): refused
 * by default, nothing made; with SN_CKPT_LOCK=none a run goes on, and a
 * second run in the folder on this host is refused while the first is
 * alive (both trained, rc 0, and called each other's checkpoints
 * damaged), then let in once it has ended. */
static void test_train_lock_none_sees_a_live_run(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE"))   /* ASan's runtime must come first: no LD_PRELOAD beside it */
        skip();
    char so[1100], dir[1024];
    snprintf(so, sizeof so, "%s/noflock.so", sn_test_tmpdir());
    snprintf(dir, sizeof dir, "%s/noflock", sn_test_tmpdir());
    write_text(sn_test_path("noflock.c"), "#include <errno.h>\n"
               "int flock(int fd, int op) { (void)fd; (void)op; errno = ENOSYS; return -1; }\n");
    assert_int_equal(sn_test_run("cc -shared -fPIC -o %s %s && rm -rf %s && mkdir -p %s", so,
                                 sn_test_path("noflock.c"), dir, dir), 0);
    int rc = sn_test_run("cd %s && LD_PRELOAD=%s " BIN " train --model %s --data %s --steps 2 "
                         "--threads 1 --quiet --checkpoint-dir ck", dir, so, sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"));
    char *err = err_text();
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "has no flock(2) locks"));
    free(err);
    assert_int_equal(sn_test_run("test ! -e %s/ck", dir), 0);
    /* the second run in its own time limit: it trained on (forever) before */
    /* the first run under another name (a link): it holds the lock file open */
    rc = sn_test_run("cd %s && ln -sf " BIN " sn-link && export LD_PRELOAD=%s SN_CKPT_LOCK=none && "
                     "{ ./sn-link train " LONG_RUN " --checkpoint-dir ck > a.txt 2>&1 & job=$!; "
                     "for i in $(seq 1200); do grep -q 'img/s' a.txt && break; sleep 0.1; done; "
                     "timeout 60 " BIN " train " LONG_RUN " --checkpoint-dir ck --resume auto "
                     "> b.txt 2>&1; echo $? > b.rc; kill -TERM $job; wait $job; }", dir, so,
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"), sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"));
    assert_int_equal(rc, 0);
    char path[1100];
    snprintf(path, sizeof path, "%s/b.rc", dir);
    char *brc = sn_test_slurp(path);
    snprintf(path, sizeof path, "%s/b.txt", dir);
    err = sn_test_slurp(path);
    if (atoi(brc) != 2)
        fprintf(stderr, "second run: exit %s%s\n", brc, err);
    assert_int_equal(atoi(brc), 2);
    assert_non_null(strstr(err, "ck is in use by another run (host "));
    assert_non_null(strstr(err, ", alive; its file system has no flock(2) locks"));
    free(err);
    free(brc);
    /* the first run has ended: its line names a pid no longer alive, and
     * the next run resumes it (stopped by timeout's SIGTERM once it trains) */
    rc = sn_test_run("cd %s && LD_PRELOAD=%s SN_CKPT_LOCK=none timeout 4 " BIN " train " LONG_RUN
                     " --checkpoint-dir ck --resume auto", dir, so, sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"));
    err = err_text();
    if (rc != 0 && rc != 124)
        fprintf(stderr, "third run: exit %d\n%s\n", rc, err);
    assert_true(rc == 0 || rc == 124);
    assert_null(strstr(err, "in use by another run"));
    free(err);
    /* a line whose pid a process of another user took after it was written
     * (a pid reused on a shared node): not the holder, though this user
     * cannot see its files (the folder was refused for good) */
    if (geteuid() != 0)
        return;
    rc = sn_test_run("chmod a+x %s && cd %s && cp %s %s . && rm -rf ck2 && mkdir ck2 && "
                     "{ sleep 60 & p=$!; printf 'host %%s, pid %%d\\n' \"$(hostname)\" $p > ck2/.lock "
                     "&& touch -d '1 hour ago' ck2/.lock && chmod -R a+rwX . && setpriv "
                     "--reuid=65534 --regid=65534 --clear-groups env LD_PRELOAD=%s "
                     "SN_CKPT_LOCK=none " BIN " train --model m.cfg --data blobs.h5 --steps 2 "
                     "--threads 1 --quiet --checkpoint-dir ck2; r=$?; kill $p; exit $r; }",
                     sn_test_tmpdir(), dir, sn_test_path("m.cfg"), sn_test_path("blobs.h5"), so);
    err = err_text();
    if (rc != 0)
        fail_msg("a reused pid in the lock line: exit %d: %s", rc, err);
    free(err);
}

/* Another run writes --out and --trace while this one trains: neither is
 * replaced, and the one error line names both kept files (the trace's
 * failure alone was said, and the weights looked lost). */
static void test_train_raced_outputs_both_named(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/raced", sn_test_tmpdir());
    int rc = sn_test_run("rm -rf %s && mkdir -p %s && cd %s && " BIN " train " LONG_RUN
                         " --out w.h5 --trace t.json > run.txt 2>&1 & job=$!; "
                         "for i in $(seq 1200); do grep -q 'img/s' %s/run.txt && break; "
                         "sleep 0.1; done; echo other > %s/w.h5; echo other > %s/t.json; "
                         "kill -TERM $job; wait $job", dir, dir, dir, sn_test_path("m.cfg"),
                         sn_test_path("blobs.h5"), dir, dir, dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/run.txt", dir);
    char *out = sn_test_slurp(path);
    if (rc != 2)
        fprintf(stderr, "exit %d\n%s\n", rc, out);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "w.h5 appeared while this command ran (another run wrote it?): "
                                "it was not replaced; the output is kept as .w.h5.tmp."));
    assert_non_null(strstr(out, "scratchnet: warning: --trace: t.json appeared while this "
                                "command ran (another run wrote it?): it was not replaced; the "
                                "output is kept as .t.json.tmp."));
    assert_non_null(strstr(out, "scratchnet: error: w.h5 appeared"));
    free(out);
    assert_int_equal(sn_test_run("cd %s && grep -qx other w.h5 && ls -a | grep -q '^.w.h5.tmp.'",
                                 dir), 0);
}

/* kill -9 of launch/local.sh, a user's last resort when a script does not
 * stop at once: the script cannot pass it on, and mpirun, in a session of
 * its own, went on training detached.  Its parent-death signal (setpriv
 * --pdeathsig USR1) stops the ranks as SIGUSR1 to mpirun does: the
 * checkpoint and --out of the step the line names, and nothing of the job
 * left running. */
static void test_train_stop_kill9_local_sh(void **state)
{
    (void)state;
    if (!launcher_is_open_mpi()) {
        printf("skipped: launch/local.sh runs Open MPI's mpirun\n");
        skip();
    }
    char dir[1024], launch[2048], extra[2400];
    user_launcher(launch, sizeof launch);
    snprintf(dir, sizeof dir, "%s/kill9", sn_test_tmpdir());
    snprintf(extra, sizeof extra, "--checkpoint-dir %s/ck --out %s/w.h5", dir, dir);
    assert_int_equal(signalled_run(dir, launch, extra, "job", "KILL"), 137);
    int rc = sn_test_run("for i in $(seq 600); do grep -q 'stopped by' %s/run.txt && "
                         "! pgrep -f '[s]cratchnet train .*%s/ck' >/dev/null && exit 0; "
                         "sleep 0.1; done; pkill -KILL -f '[s]cratchnet train .*%s/ck'; exit 1",
                         dir, dir, dir);
    long step = check_stopped(dir, rc, 0, "SIGUSR1 from mpirun");
    fprintf(stderr, "  SIGKILL to launch/local.sh: stopped after step %ld\n", step);
}

/* launch/local.sh and launch/cluster.sh piped into a reader that goes away
 * (| head): the run trains to its end, exit 0, as scratchnet alone does
 * (mpirun, writing to the gone reader itself, aborted the job on SIGPIPE
 * and crashed: exit 139, blaming a rank); their output to a full disk is
 * said lost, exit 1; a full or closed stderr is no reason to stop. */
static void test_train_launchers_outlive_their_reader(void **state)
{
    (void)state;
    if (!launcher_is_open_mpi()) {
        printf("skipped: launch/local.sh runs Open MPI's mpirun\n");
        skip();
    }
    char dir[1024], cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(dir, sizeof dir, "%s/piped", sn_test_tmpdir());
    static const char *const how[] = { "local.sh 2", "cluster.sh hf" };
    for (int k = 0; k < 2; k++) {
        int rc = sn_test_run("rm -rf %s && mkdir -p %s && cd %s && "
                             "echo \"$(hostname) slots=2\" > hf && "
                             "{ SCRATCHNET=" BIN " timeout 300 %s/launch/%s train " LONG_RUN
                             " --steps 3000 --out w.h5 2> err.txt; echo $? > rc.txt; } | "
                             "head -c 200 > /dev/null; test \"$(cat rc.txt)\" = 0 && test -s w.h5",
                             dir, dir, dir, cwd, how[k], sn_test_path("m.cfg"),
                             sn_test_path("blobs.h5"));
        if (rc != 0)
            sn_test_run("cat %s/rc.txt %s/err.txt >&2", dir, dir);
        assert_int_equal(rc, 0);
        /* results to a full disk are lost, not dropped: said, exit 1 (exit
         * 0 and no word through either launcher) */
        rc = sn_test_run("cd %s && SCRATCHNET=" BIN " %s/launch/%s eval --weights w.h5 --data %s "
                         "> /dev/full", dir, cwd, how[k], sn_test_path("blobs.h5"));
        char *err = err_text();
        if (rc != 1 || !strstr(err, "line(s) of the job's output could not be written"))
            fail_msg("%s eval > /dev/full: exit %d: %s", how[k], rc, err);
        free(err);
        /* the launcher's own messages are best effort: a full or closed
         * stderr runs the job as without it (local.sh ended at its first) */
        static const char *const errs[] = { "2>/dev/full", "2>&-" };
        for (int e = 0; e < 2; e++)
            if (sn_test_run("cd %s && SCRATCHNET=" BIN " %s/launch/%s eval --weights w.h5 "
                            "--data %s > ev.txt %s && grep -q accuracy ev.txt", dir, cwd, how[k],
                            sn_test_path("blobs.h5"), errs[e]) != 0)
                fail_msg("%s eval %s: no evaluation", how[k], errs[e]);
    }
}

/* launch/local.sh in a narrower set of cores than the machine's (taskset,
 * as when several jobs share a machine): its rank stays in that set
 * (mpirun's binding counted cores from the machine's first: `taskset -c 1`
 * ran the rank on core 0, and two such jobs on one core). */
static void test_train_local_sh_keeps_the_cores_given(void **state)
{
    (void)state;
    if (!launcher_is_open_mpi() || sn_test_run("test $(nproc --all) -ge 2") != 0) {
        printf("skipped: needs Open MPI's mpirun and 2 cores\n");
        skip();
    }
    char dir[1024], cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(dir, sizeof dir, "%s/taskset", sn_test_tmpdir());
    int rc = sn_test_run("rm -rf %s && mkdir -p %s && cd %s && SCRATCHNET=" BIN " taskset -c 1 "
                         "%s/launch/local.sh 1 train " LONG_RUN " --out w.h5 > run.txt 2>&1 & "
                         "job=$!; "
                         "for i in $(seq 1200); do grep -q 'img/s' %s/run.txt && break; "
                         "sleep 0.1; done; for p in $(pgrep -x scratchnet); do "
                         "[ \"$(readlink /proc/$p/cwd)\" = %s ] && "
                         "awk '/^Cpus_allowed_list/ {print $2}' /proc/$p/status > %s/cpus.txt; "
                         "done; kill -TERM $job; wait $job", dir, dir, dir, cwd,
                         sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir, dir, dir);
    assert_int_equal(rc, 0);
    char path[1100];
    snprintf(path, sizeof path, "%s/cpus.txt", dir);
    char *cpus = sn_test_slurp(path);
    assert_non_null(cpus);
    assert_string_equal(cpus, "1\n");
    free(cpus);
}

/* Open MPI's mpirun as the README starts it: SIGUSR1, which it passes on,
 * stops the run like SIGTERM with exit 0.  SIGTERM it answers itself and
 * exits 1 whatever the ranks do (the limit the README states:
 * orte/mca/ess/hnp/ess_hnp_module.c, clean_abort): it stops reading the
 * ranks' output, sleeps odls_base_sigkill_timeout seconds, passes SIGTERM
 * on, sleeps as long again and sends SIGKILL.  The ranks save in that
 * second window (rank 0 never waits on the output nobody reads,
 * src/cli/output.h): checkpoint and --out of the step the line names, and
 * both resume bit for bit. */
static void test_train_stop_plain_mpirun(void **state)
{
    (void)state;
    if (!launcher_is_open_mpi()) {
        printf("skipped: the launcher is not Open MPI's mpirun\n");
        skip();
    }
    char dirs[2][1024], launch[1024], extra[2400];
    snprintf(launch, sizeof launch, "%s -np 2 " BIN, mpirun());
    snprintf(dirs[0], sizeof dirs[0], "%s/plain_usr1", sn_test_tmpdir());
    snprintf(extra, sizeof extra, "--checkpoint-dir %s/ck --out %s/w.h5", dirs[0], dirs[0]);
    long step = check_stopped(dirs[0], signalled_run(dirs[0], launch, extra, "job", "USR1"), 0,
                              "SIGUSR1 from mpirun");
    fprintf(stderr, "  SIGUSR1 to mpirun: stopped after step %ld, exit 0\n", step);
    snprintf(launch, sizeof launch, "env OMPI_MCA_odls_base_sigkill_timeout=5 %s -np 2 " BIN,
             mpirun());
    snprintf(dirs[1], sizeof dirs[1], "%s/plain_term", sn_test_tmpdir());
    snprintf(extra, sizeof extra, "--checkpoint-dir %s/ck --out %s/w.h5", dirs[1], dirs[1]);
    long term = check_stopped(dirs[1], signalled_run(dirs[1], launch, extra, "job", "TERM"), 1,
                              "SIGTERM from mpirun");
    fprintf(stderr, "  SIGTERM to mpirun: stopped after step %ld, saved, mpirun exit 1\n", term);
    check_resumes(dirs, 2, term > step ? term : step);
}

/* launch/cluster.sh on a hostfile of this machine: SIGTERM to the script,
 * SIGTERM to its process group and a Ctrl-C on its terminal each stop the
 * run cleanly (the script passes the stop on: as SIGUSR1 through Open
 * MPI's mpirun, as itself through MPICH's mpiexec), the script exits 0,
 * no process of the job is left, and each run resumes bit for bit. */
static void test_train_stop_cluster_script(void **state)
{
    (void)state;
    const bool ompi = launcher_is_open_mpi();
    char cwd[1024], launch[2400], dirs[3][1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    write_text(sn_test_path("hosts"), "localhost slots=2\n");
    snprintf(launch, sizeof launch, "env SCRATCHNET=" BIN " MPI=%s BIND=none THREADS=1 "
             "%s/launch/cluster.sh %s", ompi ? "openmpi" : "mpich", cwd, sn_test_path("hosts"));
    const char *ways[3] = { "job", "group", "terminal" }, *sigs[3] = { "TERM", "TERM", "INT" };
    long latest = 0;
    for (int w = 0; w < 3; w++) {
        snprintf(dirs[w], sizeof dirs[w], "%s/cluster_%s", sn_test_tmpdir(), ways[w]);
        char extra[2400], named[32];
        snprintf(extra, sizeof extra, "--checkpoint-dir %s/ck --out %s/w.h5", dirs[w], dirs[w]);
        int rc = w == 2 ? ctrl_c_run(dirs[w], launch, extra)
                        : signalled_run(dirs[w], launch, extra, ways[w], sigs[w]);
        snprintf(named, sizeof named, "SIG%s", ompi ? "USR1 from mpirun" : sigs[w]);
        long step = check_stopped(dirs[w], rc, 0, named);
        /* no rank and no mpirun left ([s]: not this pgrep's own shell) */
        assert_int_not_equal(sn_test_run("pgrep -f '[s]cratchnet train.*%s/'", dirs[w]), 0);
        fprintf(stderr, "  SIG%s to launch/cluster.sh (%s): stopped after step %ld, exit 0\n",
                sigs[w], ways[w], step);
        latest = step > latest ? step : latest;
    }
    check_resumes(dirs, 3, latest);
}

/* What a stop keeps depends on the flags: without --checkpoint-dir and
 * --out nothing, said so, exit 1; with --out alone the weights, exit 0. */
static void test_train_stop_saves_what_it_can(void **state)
{
    (void)state;
    char dir[1024], launch[1024], extra[1200];
    snprintf(launch, sizeof launch, "%s -np 2 " BIN, mpirun());
    snprintf(dir, sizeof dir, "%s/stop_nowhere", sn_test_tmpdir());
    int rc = signalled_run(dir, launch, "", "rank", "TERM");
    char path[1100];
    snprintf(path, sizeof path, "%s/run.txt", dir);
    char *out = sn_test_slurp(path);
    if (rc != 1 || !strstr(out, "nothing saved"))
        fprintf(stderr, "exit %d\n%.3000s\n", rc, out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "scratchnet: stopped by SIGTERM after step "));
    assert_non_null(strstr(out, "nothing saved (give --checkpoint-dir or --out"));
    free(out);
    snprintf(dir, sizeof dir, "%s/stop_out", sn_test_tmpdir());
    snprintf(extra, sizeof extra, "--out %s/w.h5", dir);
    rc = signalled_run(dir, launch, extra, "rank", "INT");
    snprintf(path, sizeof path, "%s/run.txt", dir);
    out = sn_test_slurp(path);
    if (rc != 0)
        fprintf(stderr, "exit %d\n%.3000s\n", rc, out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "scratchnet: stopped by SIGINT after step "));
    assert_non_null(strstr(out, "(without --checkpoint-dir the run cannot be continued)"));
    free(out);
    snprintf(path, sizeof path, "%s/w.h5", dir);
    float w[256];
    assert_true(read_params(path, w, 256) > 0);
    /* the weights say they are a stopped run's, not a finished one's */
    assert_int_equal(sn_test_run(BIN " info --weights %s > %s/info.txt", path, dir), 0);
    snprintf(path, sizeof path, "%s/info.txt", dir);
    out = sn_test_slurp(path);
    assert_non_null(strstr(out, ": stopped before the run's end\n"));
    free(out);
}

/* A signal during set-up ends the run before its first step, promptly,
 * with one line naming it, exit 1, nothing saved.  Deterministic: one rank
 * is frozen (SIGSTOP) as soon as it exists, so the other cannot leave
 * set-up (it waits for it in MPI_Init or a set-up collective); that one
 * gets SIGTERM once its handler is in place, then the frozen one goes on. */
static void test_train_stop_during_setup(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/stop_setup", sn_test_tmpdir());
    assert_int_equal(sn_test_run("rm -rf %s && mkdir -p %s", dir, dir), 0);
    int rc = sn_test_run(
        "env --default-signal=INT setsid %s -np 2 " BIN " train " LONG_RUN " --checkpoint-dir "
        "%s/ck --out %s/w.h5 > %s/run.txt 2>&1 & job=$!; "
        "for i in $(seq 6000); do set -- $(pgrep -f '^[^ ]*scratchnet train.*%s/'); "
        "[ $# -ge 2 ] && break; sleep 0.02; done; kill -STOP $2; "
        "for i in $(seq 6000); do m=$(awk '/^SigCgt/ {print $2}' /proc/$1/status); "
        "[ $(( 0x${m#????????????} & 0x4000 )) != 0 ] && break; sleep 0.02; done; "
        "start=$(date +%%s); kill -TERM $1; kill -CONT $2; "
        "timeout 60 tail -s 0.1 --pid=$job -f /dev/null || pkill -KILL -f '%s/'; wait $job; "
        "st=$?; echo $(( $(date +%%s) - start )) > %s/secs; exit $st",
        mpirun(), sn_test_path("m.cfg"), sn_test_path("blobs.h5"), dir, dir, dir, dir, dir, dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/run.txt", dir);
    char *out = sn_test_slurp(path);
    snprintf(path, sizeof path, "%s/secs", dir);
    char *secs = sn_test_slurp(path);
    fprintf(stderr, "  SIGTERM during set-up: exit %d after %s", rc, secs ? secs : "?\n");
    if (rc != 1 || !strstr(out, "SIGTERM while ") || !strstr(out, "before the first step"))
        fprintf(stderr, "%.3000s\n", out);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "scratchnet: interrupted by SIGTERM while "));   /* the job's stop */
    assert_non_null(strstr(out, ", before the first step: nothing trained, nothing saved"));
    assert_null(strstr(out, "img/s"));   /* no step was taken */
    assert_true(atoi(secs) < 30);
    free(out);
    free(secs);
    assert_int_not_equal(sn_test_run("ls %s/ck/ckpt-*", dir), 0);
    assert_int_not_equal(sn_test_run("ls %s/w.h5", dir), 0);
}

/* The speed-run features in one model: GELU (fused in conv and in
 * batchnorm), affine = bias, dirac init, parameter groups, decoupled weight
 * decay, the onecycle schedule, label smoothing, weight averaging (ema),
 * reflected translation, alternating flips and four weighted test-time
 * views. */
static const char speedrun_cfg[] =
    "[net]\ninput = 1,2,4\nbatch = 24\nepochs = 3\noptimizer = sgd\nmomentum = 0.9\n"
    "nesterov = 1\nlr = 0.05\nweight_decay = 0.01\ndecoupled_weight_decay = 1\n"
    "bias_wd_mult = 0\nnorm_lr_mult = 4\nnorm_wd_mult = 0\nlr_schedule = onecycle\n"
    "lr_start_factor = 0.2\nlr_end_factor = 0.07\nwarmup_fraction = 0.25\n"
    "label_smoothing = 0.1\nseed = 4\nema = 0.8\nema_every = 2\nema_warmup = 1\n"
    "[augment]\ntranslate = 1\nflip = alternate\ntest_views = 0 0, flip, 1 0, -1 0 flip\n"
    "test_weights = 2, 2, 1, 1\n"
    "[conv]\nname = c\nfilters = 4\nsize = 2\npad = 1\ninit = dirac\nactivation = gelu_tanh\n"
    "lr_mult = 0.5\n%s[flatten]\n[dense]\nname = out\nunits = 3\nwd_mult = 2\n";
static const char speedrun_bn[] = "[batchnorm]\nname = bn\naffine = bias\nactivation = gelu\n"
                                  "momentum = 0.4\n";

/* The parameters of a speed-run model's weights file, flat (with bn: its
 * weight, bias and buffers after the conv's); returns the count. */
static size_t speedrun_params(const char *path, bool bn, float *out)
{
    static const char *names[] = { "/params/c/weight", "/params/c/bias", "/params/out/weight",
                                   "/params/out/bias", "/params/bn/weight", "/params/bn/bias",
                                   "/params/bn/running_mean", "/params/bn/running_var" };
    static const size_t lens[] = { 16, 4, 180, 3, 4, 4, 4, 4 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    size_t n = 0;
    for (int i = 0; i < (bn ? 8 : 4); i++) {
        assert_int_equal(sn_h5_read_all(f, names[i], SN_H5_F32, out + n, lens[i]), SN_OK);
        n += lens[i];
    }
    sn_h5_close(f);
    return n;
}

/* --out holds the weight average: the final checkpoint's ema state of the
 * conv's weight, not its live weight (a = --out's parameters, the conv's
 * 16 weights first). */
static void speedrun_ema_is_out(const float *a)
{
    float live[16], ema[16];
    struct sn_h5 *f;
    char path[1100];
    snprintf(path, sizeof path, "%s/ckpt-00000060.h5", sn_test_path("sp_ck"));
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/params/c/weight", SN_H5_F32, live, 16), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/optimizer/c/weight/ema", SN_H5_F32, ema, 16), SN_OK);
    sn_h5_close(f);
    assert_memory_equal(a, ema, sizeof ema);
    assert_memory_not_equal(a, live, sizeof live);
}

/* The same checkpoint with the onecycle's end, the translation (off) or a
 * parameter group's multiplier changed in [net]/[augment] is refused (exit
 * 2) naming schedule, augment and groups with both values; --out is not
 * written.  With --epochs or --steps (the schedule's horizon) the refusal
 * names the flag that moved it. */
static void speedrun_resume_refused(char *text, const char *cfg, const char *data)
{
    snprintf(text, 2048, speedrun_cfg, speedrun_bn);
    const char *from[] = { "lr_end_factor = 0.07", "translate = 1", "bias_wd_mult = 0" };
    const char *to[] = { "lr_end_factor = 0.08", "translate = 0", "bias_wd_mult = 1" };
    for (int k = 0; k < 3; k++) {
        char *at = strstr(text, from[k]);
        assert_non_null(at);
        memmove(at + strlen(to[k]), at + strlen(from[k]), strlen(at + strlen(from[k])) + 1);
        memcpy(at, to[k], strlen(to[k]));
    }
    char changed[1100];
    snprintf(changed, sizeof changed, "%s.changed", cfg);
    write_text(changed, text);
    int rc = sn_test_run(BIN " train --model %s --data %s --resume %s/ckpt-00000031.h5 --out %s "
                         "--quiet --threads 1", changed, data, sn_test_path("sp_ck"),
                         sn_test_path("sp_refused.h5"));
    char *err = err_text();
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "belongs to another run"));
    assert_non_null(strstr(err, "end_factor 0.08"));
    assert_non_null(strstr(err, "zoom 0 flip alternate (checkpoint: shift 0 flip 0 "
                                "rotate 0 zoom 0 translate 1 flip alternate)"));
    assert_non_null(strstr(err, "groups weights 1 1 biases 1 1 norms 4 0 (checkpoint: "
                                "weights 1 1 biases 1 0 norms 4 0)"));
    assert_non_null(strstr(err, "--resume-override groups,schedule,augment"));
    assert_int_equal(access(sn_test_path("sp_refused.h5"), F_OK), -1);
    free(err);
    const char *bound[2] = { "--epochs 4", "--steps 50" };
    const char *named[2] = { "horizon 80 (the last step of --epochs 4 x 20 steps per epoch; "
                             "checkpoint: 60)", "horizon 50 (--steps 50; checkpoint: 60)" };
    for (int i = 0; i < 2; i++) {
        rc = sn_test_run(BIN " train --model %s --data %s --resume %s/ckpt-00000031.h5 %s "
                         "--quiet --threads 1", cfg, data, sn_test_path("sp_ck"), bound[i]);
        err = err_text();
        if (rc != 2 || !strstr(err, named[i]))
            fprintf(stderr, "%s\n", err);
        assert_int_equal(rc, 2);
        assert_non_null(strstr(err, named[i]));
        free(err);
    }
}

/* With every speed-run feature, a run resumed from its checkpoint of step
 * 31 (mid-epoch, of 60) ends bitwise equal to the uninterrupted one, so the
 * parameter groups and schedule come back from the checkpoint's model text
 * and the per-(epoch, row) augmentation repeats; the batchnorm weight
 * stays 1 (affine = bias).  Without batchnorm (whose statistics are per
 * rank), 1 and 2 ranks train on the same augmented examples: the same
 * weights within rounding.  eval names the test-time views. */
static void test_train_speedrun_features_resume(void **state)
{
    (void)state;
    const char *mp = mpirun();
    char text[2048], cfg[1024], cfg_nobn[1024], data[1024];
    snprintf(data, sizeof data, "%s", sn_test_path("images.h5"));
    snprintf(text, sizeof text, speedrun_cfg, speedrun_bn);
    write_text(sn_test_path("speed.cfg"), text);
    snprintf(text, sizeof text, speedrun_cfg, "");
    write_text(sn_test_path("speed_nobn.cfg"), text);
    snprintf(cfg, sizeof cfg, "%s", sn_test_path("speed.cfg"));
    snprintf(cfg_nobn, sizeof cfg_nobn, "%s", sn_test_path("speed_nobn.cfg"));
    /* (--steps or --epochs would change the schedule's horizon: the run
     * leaves checkpoints, and one of them is resumed) */
    int rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --out %s "
                         "--checkpoint-dir %s --checkpoint-every 31 --quiet --threads 1", mp, cfg,
                         data, sn_test_path("sp_full.h5"), sn_test_path("sp_ck"));
    if (rc)
        fprintf(stderr, "%s\n", err_text());
    assert_int_equal(rc, 0);
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --resume "
                                 "%s/ckpt-00000031.h5 --out %s --quiet --threads 1", mp, cfg, data,
                                 sn_test_path("sp_ck"), sn_test_path("sp_res.h5")), 0);
    static float a[256], b[256];
    size_t n = speedrun_params(sn_test_path("sp_full.h5"), true, a);
    speedrun_params(sn_test_path("sp_res.h5"), true, b);
    assert_memory_equal(a, b, n * sizeof(float));
    for (int i = 0; i < 4; i++)
        assert_float_equal(a[203 + i], 1.0f, 0);   /* bn/weight */
    speedrun_ema_is_out(a);
    /* at 1 rank too: stopped at step 31 by --steps, resumed */
    assert_int_equal(sn_test_run("timeout 120 " BIN " train --model %s --data %s --out %s "
                                 "--checkpoint-dir %s --checkpoint-every 31 --quiet --threads 1",
                                 cfg, data, sn_test_path("sp1_full.h5"), sn_test_path("sp1_ck")),
                     0);
    assert_int_equal(sn_test_run("timeout 120 " BIN " train --model %s --data %s --resume "
                                 "%s/ckpt-00000031.h5 --out %s --quiet --threads 1", cfg, data,
                                 sn_test_path("sp1_ck"), sn_test_path("sp1_res.h5")), 0);
    n = speedrun_params(sn_test_path("sp1_full.h5"), true, a);
    speedrun_params(sn_test_path("sp1_res.h5"), true, b);
    assert_memory_equal(a, b, n * sizeof(float));
    speedrun_resume_refused(text, cfg, data);
    for (int np = 1; np <= 2; np++)
        assert_int_equal(sn_test_run("timeout 120 %s -np %d " BIN " train --model %s --data %s "
                                     "--steps 30 --out %s --quiet --threads 1", mp, np, cfg_nobn,
                                     data, sn_test_path(np == 1 ? "sp1.h5" : "sp2.h5")), 0);
    n = speedrun_params(sn_test_path("sp1.h5"), false, a);
    speedrun_params(sn_test_path("sp2.h5"), false, b);
    assert_close_arrays(b, a, n, 1e-6, 1e-5);
    assert_int_equal(sn_test_run(BIN " eval --weights %s --data %s", sn_test_path("sp_full.h5"),
                                 data), 0);
    char *out = out_text();
    assert_non_null(strstr(out, "(test_views: the weighted mean of 4 views)"));
    free(out);
}

/* init = whiten with its weight frozen (the bias learns), on the image
 * blobs: 8 filters (4 eigenvectors of the 2x2 windows and their
 * negatives) from the first 100 training images; Lookahead every 4 steps
 * around Nesterov SGD. */
static const char whiten_cfg[] =
    "[net]\ninput = 1,2,4\nbatch = 24\nepochs = 3\noptimizer = sgd\nmomentum = 0.9\n"
    "nesterov = 1\nlr = 0.05\nweight_decay = 0.01\nseed = 6\nlookahead_k = 4\n"
    "lookahead_alpha = 0.6\n"
    "[conv]\nname = c\nfilters = 8\nsize = 2\ninit = whiten\nwhiten_images = 100\n"
    "freeze = weight\nactivation = gelu\n[flatten]\n[dense]\nname = out\nunits = 3\n";

/* The parameters of the whitening model's weights file or checkpoint,
 * flat: c's weight (32 floats), c's bias (8), then out's; returns the
 * count. */
static size_t whiten_params(const char *path, float *out)
{
    static const char *names[] = { "/params/c/weight", "/params/c/bias", "/params/out/weight",
                                   "/params/out/bias" };
    static const size_t lens[] = { 32, 8, 72, 3 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sn_h5_read_all(f, names[i], SN_H5_F32, out + n, lens[i]), SN_OK);
        n += lens[i];
    }
    sn_h5_close(f);
    return n;
}

/* The final checkpoint (step 60, a multiple of lookahead_k) holds the
 * slow weights, and the weights are them; the frozen weight has none. */
static void lookahead_synced(const char *path)
{
    float w[72], slow[72], cw[32];
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/params/out/weight", SN_H5_F32, w, 72), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/optimizer/out/weight/slow_weights", SN_H5_F32, slow,
                                    72), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/optimizer/c/weight/slow_weights", SN_H5_F32, cw, 32),
                     SN_OK);
    sn_h5_close(f);
    assert_memory_equal(w, slow, sizeof w);
    for (int i = 0; i < 32; i++)
        assert_true(cw[i] == 0.0f);
}

/* A fresh run computes the filters once (its start says from what), and
 * keeps them: the checkpoint of step 31 and the end hold the same weight
 * (no update, no weight decay) while the bias moves; the run resumed from
 * that checkpoint (3 steps into a Lookahead cycle: the slow weights come
 * from it) does not compute them again and ends bitwise where the
 * uninterrupted one ends, and a model file with another lookahead_k is
 * refused.  1 rank computes the same bits as 2 (rank 0 computes, the
 * others receive them), also with --optimizer adam, which keeps the
 * file's Lookahead; filter 4 + f is -filter f. */
static void test_train_whiten_lookahead_resume(void **state)
{
    (void)state;
    const char *mp = mpirun();
    char cfg[1024], data[1024], ck[1100];
    snprintf(data, sizeof data, "%s", sn_test_path("images.h5"));
    write_text(sn_test_path("whiten.cfg"), whiten_cfg);
    snprintf(cfg, sizeof cfg, "%s", sn_test_path("whiten.cfg"));
    int rc = sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s --out %s "
                         "--checkpoint-dir %s --checkpoint-every 31 --threads 1", mp, cfg, data,
                         sn_test_path("wh_full.h5"), sn_test_path("wh_ck"));
    char *out = out_text();
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, err_text());
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "init = whiten: c from 300 windows of the first 100 training "
                                "images (eigenvalues "));
    free(out);
    snprintf(ck, sizeof ck, "%s/ckpt-00000031.h5", sn_test_path("wh_ck"));
    assert_int_equal(sn_test_run("timeout 120 %s -np 2 " BIN " train --model %s --data %s "
                                 "--resume %s --out %s --threads 1", mp, cfg, data, ck,
                                 sn_test_path("wh_res.h5")), 0);
    out = out_text();
    assert_null(strstr(out, "init = whiten"));
    assert_non_null(strstr(out, "resumed from"));
    free(out);
    static float a[128], b[128], c[128];
    size_t n = whiten_params(sn_test_path("wh_full.h5"), a);
    assert_int_equal(whiten_params(sn_test_path("wh_res.h5"), b), n);
    assert_memory_equal(a, b, n * sizeof(float));
    whiten_params(ck, c);
    assert_memory_equal(c, a, 32 * sizeof(float));                 /* c's weight */
    assert_memory_not_equal(c + 32, a + 32, 8 * sizeof(float));    /* c's bias */
    for (int i = 0; i < 16; i++)
        assert_true(a[16 + i] == -a[i] && a[i] != 0.0f);
    /* another k is another run: refused, naming both */
    char text[1024], *at;
    snprintf(text, sizeof text, "%s", whiten_cfg);
    at = strstr(text, "lookahead_k = 4");
    at[strlen("lookahead_k = ")] = '5';
    write_text(sn_test_path("whiten5.cfg"), text);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --resume %s --out %s --quiet "
                                 "--threads 1", sn_test_path("whiten5.cfg"), data, ck,
                                 sn_test_path("wh_5.h5")), 2);
    char *err = err_text();
    assert_non_null(strstr(err, "lookahead 5 alpha 0.6 (checkpoint: "));
    assert_non_null(strstr(err, "lookahead 4 alpha 0.6)"));
    free(err);
    snprintf(ck, sizeof ck, "%s/ckpt-00000060.h5", sn_test_path("wh_ck"));
    lookahead_synced(ck);
    assert_int_equal(sn_test_run("timeout 120 " BIN " train --model %s --data %s --steps 2 "
                                 "--optimizer adam --out %s --quiet --threads 2", cfg, data,
                                 sn_test_path("wh_one.h5")), 0);
    whiten_params(sn_test_path("wh_one.h5"), b);
    assert_memory_equal(a, b, 32 * sizeof(float));
    /* --optimizer changes the kind, not the Lookahead around it */
    assert_int_equal(sn_test_run(BIN " info --weights %s", sn_test_path("wh_one.h5")), 0);
    char *info = out_text();
    assert_non_null(strstr(info, "optimizer   adam beta1 0.9 beta2 0.999 eps 1e-08 weight_decay "
                                 "0.01 lookahead 4 alpha 0.6\n"));
    free(info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_end_to_end),
        cmocka_unit_test(test_train_eval_every),
        cmocka_unit_test(test_train_eval_any_ranks),
        cmocka_unit_test(test_train_eval_confusion_png),
        cmocka_unit_test(test_train_predict_matches_eval),
        cmocka_unit_test(test_train_info),
        cmocka_unit_test(test_train_progress),
        cmocka_unit_test(test_train_threads_capped),
        cmocka_unit_test(test_train_predict_image),
        cmocka_unit_test(test_train_predict_images_in_order),
        cmocka_unit_test(test_train_predict_image_refused),
        cmocka_unit_test(test_train_predict_image_of_float_data),
        cmocka_unit_test(test_train_predict_image_autoencoder),
        cmocka_unit_test(test_train_predict_image_binary),
        cmocka_unit_test(test_train_test_flip),
        cmocka_unit_test(test_train_init_replaced_head),
        cmocka_unit_test(test_train_init_other_channels),
        cmocka_unit_test(test_train_convert_subset),
        cmocka_unit_test(test_train_overlap_bitwise),
        cmocka_unit_test(test_train_compress_where_nothing_is_sent),
        cmocka_unit_test(test_train_overlap_lstm),
        cmocka_unit_test(test_train_accumulate),
        cmocka_unit_test(test_train_mpmd_refused),
        cmocka_unit_test(test_train_shard_optimizer),
        cmocka_unit_test(test_train_one_vs_two_ranks),
        cmocka_unit_test(test_train_bucket_mb_one_host),
        cmocka_unit_test(test_train_resume_is_exact),
        cmocka_unit_test(test_train_resume_auto_keeps_checkpoints),
        cmocka_unit_test(test_train_horizon_override_says_rate),
        cmocka_unit_test(test_train_keep_only_this_runs),
        cmocka_unit_test(test_train_omp_gives_fewer_threads),
        cmocka_unit_test(test_train_small_stack_limit),
        cmocka_unit_test(test_train_cgroup_pids_max),
        cmocka_unit_test(test_train_std_streams_closed),
        cmocka_unit_test(test_train_folder_shared_by_users),
        cmocka_unit_test(test_train_umask_without_owner_bits),
        cmocka_unit_test(test_train_process_limit_caps_threads),
        cmocka_unit_test(test_train_folder_takes_no_rename),
        cmocka_unit_test(test_train_resume_auto_sets_damaged_aside),
        cmocka_unit_test(test_train_names_taken_while_written),
        cmocka_unit_test(test_train_checkpoint_name_immovable),
        cmocka_unit_test(test_eval_checkpoint_uses_average),
        cmocka_unit_test(test_train_warns_settings_unused),
        cmocka_unit_test(test_train_threads_need_room),
        cmocka_unit_test(test_train_reads_per_batch_under_limit),
        cmocka_unit_test(test_train_rows_past_memory),
        cmocka_unit_test(test_train_small_file_limit),
        cmocka_unit_test(test_train_checkpoint_space),
        cmocka_unit_test(test_train_small_dev_shm),
        cmocka_unit_test(test_train_busy_cores_warned),
        cmocka_unit_test(test_train_pipe_and_file_limit),
        cmocka_unit_test(test_train_tight_limit_not_damaged),
        cmocka_unit_test(test_train_not_learnt_warned),
        cmocka_unit_test(test_train_not_learnt_counts_every_rank),
        cmocka_unit_test(test_train_resume_stochastic_model),
        cmocka_unit_test(test_train_killed_and_resumed),
        cmocka_unit_test(test_train_sigterm_before_first_step),
        cmocka_unit_test(test_train_steps_bound),
        cmocka_unit_test(test_train_fresh_run_refused_in_used_folder),
        cmocka_unit_test(test_train_folder_in_use),
        cmocka_unit_test(test_train_rank_death_ends_job),
        cmocka_unit_test(test_train_hung_rank_times_out),
        cmocka_unit_test(test_train_nan_stops),
        cmocka_unit_test(test_train_full_disk),
        cmocka_unit_test(test_predict_full_disk_every_level),
        cmocka_unit_test(test_train_log_one_run_at_a_time),
        cmocka_unit_test(test_train_log_follows_its_name),
        cmocka_unit_test(test_train_log_near_plots_limit),
        cmocka_unit_test(test_train_log_cut_append_only),
        cmocka_unit_test(test_train_loss_past_float_range),
        cmocka_unit_test(test_train_one_rank_no_watchdog),
        cmocka_unit_test(test_train_open_file_limit),
        cmocka_unit_test(test_train_help_and_lone_rank),
        cmocka_unit_test(test_train_init_other_classes),
        cmocka_unit_test(test_train_alone_without_mpi),
        cmocka_unit_test(test_train_stop_sigterm_three_ways),
        cmocka_unit_test(test_train_stop_sigint_three_ways),
        cmocka_unit_test(test_train_stop_plain_mpirun),
        cmocka_unit_test(test_train_stop_kill9_local_sh),
        cmocka_unit_test(test_train_local_sh_keeps_the_cores_given),
        cmocka_unit_test(test_train_launchers_outlive_their_reader),
        cmocka_unit_test(test_train_raced_outputs_both_named),
        cmocka_unit_test(test_train_stop_sighup),
        cmocka_unit_test(test_train_profiler_signal_left_alone),
        cmocka_unit_test(test_train_lock_none_sees_a_live_run),
        cmocka_unit_test(test_train_trace_events),
        cmocka_unit_test(test_train_blocked_stop_signals_seen),
        cmocka_unit_test(test_train_stop_cluster_script),
        cmocka_unit_test(test_train_stop_saves_what_it_can),
        cmocka_unit_test(test_train_stop_during_setup),
        cmocka_unit_test(test_train_speedrun_features_resume),
        cmocka_unit_test(test_train_whiten_lookahead_resume),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
