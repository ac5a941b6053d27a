/* test_words: what the commands print reads right: one position wording
 * for a resumed run and for "nothing to train" (the epoch lines' numbering),
 * plurals ("1 rank", "1 entry"), nothing said about 0 skipped examples, and
 * --version. */
#include "testutil.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIN SN_TEST_BIN

static const char model_cfg[] =
    "[net]\ninput = 8\nbatch = 24\nepochs = 2\nloss = cross_entropy\noptimizer = sgd\n"
    "lr = 0.05\nmomentum = 0.9\nseed = 3\n"
    "[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n";

static int setup(void **state)
{
    (void)state;
    if (sn_test_use_bin() != 0)
        return -1;
    sn_test_write_blobs(sn_test_path("blobs.h5"), (struct sn_test_blobs){ 0 });
    FILE *f = fopen(sn_test_path("m.cfg"), "w");
    if (!f)
        return -1;
    fputs(model_cfg, f);
    fclose(f);
    return 0;
}

static char *run_out(const char *fmt, const char *a, const char *b)
{
    int rc = sn_test_run(fmt, a, b);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    return out;
}

/* 480 rows: batch 24 divides them (nothing skipped, nothing said), batch
 * 25 leaves 5, batch 479 leaves 1. */
static void test_words_skipped_examples(void **state)
{
    (void)state;
    char *out = run_out(BIN " train --model %s --data %s --epochs 1 --threads 1",
                        sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_non_null(strstr(out, "20 steps per epoch, "));
    assert_null(strstr(out, "skipped"));
    free(out);
    out = run_out(BIN " train --model %s --data %s --epochs 1 --threads 1 --batch 25",
                  sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_non_null(strstr(out, "(the last 5 examples of each shuffled epoch are skipped)"));
    free(out);
    out = run_out(BIN " train --model %s --data %s --epochs 1 --threads 1 --batch 479",
                  sn_test_path("m.cfg"), sn_test_path("blobs.h5"));
    assert_non_null(strstr(out, "1 step per epoch (the last 1 example of each shuffled epoch "
                                "is skipped)"));
    free(out);
}

/* A run of 2 epochs resumed with 2 epochs: both lines place it "after
 * epoch 2", the number of the epoch line before ("epoch 2/2"); a run
 * stopped mid-epoch resumes "in epoch 2", as its next epoch line says;
 * one rank wrote them: "1 rank". */
static void test_words_resume_position(void **state)
{
    (void)state;
    const char *m = sn_test_path("m.cfg"), *d = sn_test_path("blobs.h5"), *t = sn_test_tmpdir();
    int rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --checkpoint-dir %s/ck",
                         m, d, t);
    assert_int_equal(rc, 0);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(out, "epoch 2/2  step 40"));
    free(out);
    rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --checkpoint-dir %s/ck "
                     "--resume auto", m, d, t);
    assert_int_equal(rc, 0);
    out = sn_test_slurp(sn_test_path("out.txt"));
    print_message("%s", out);
    assert_non_null(strstr(out, "/ck/ckpt-00000040.h5 after epoch 2 (step 40), written by 1 rank x 1 thread\n"));
    assert_non_null(strstr(out, "nothing to train: this run starts after epoch 2 (step 40), "
                                "and its end, step 40 (the epoch count), is not after that\n"));
    free(out);
    /* stopped at step 30: 10 steps into the second epoch */
    rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --checkpoint-dir %s/mid "
                     "--steps 30 --quiet", m, d, t);
    assert_int_equal(rc, 0);
    rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --checkpoint-dir %s/mid "
                     "--resume auto", m, d, t);
    assert_int_equal(rc, 0);
    out = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(out, "/mid/ckpt-00000030.h5 in epoch 2, 10 steps into it (step 30)"));
    assert_non_null(strstr(out, "epoch 2/2  step 40"));
    assert_null(strstr(out, "epoch 1/2  step"));
    free(out);
    /* --profile at 1 rank x 1 thread */
    rc = sn_test_run(BIN " train --model %s --data %s --threads 1 --epochs 1 --profile", m, d);
    assert_int_equal(rc, 0);
    out = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(out, "1 rank x 1 thread:"));
    free(out);
}

/* One file that is not an image: "1 file that is not ... skipped". */
static void test_words_one_skipped_file(void **state)
{
    (void)state;
    const char *t = sn_test_tmpdir();
    assert_int_equal(sn_test_run("mkdir -p %s/f/a %s/f/b && echo notes > %s/f/a/readme.txt",
                                 t, t, t), 0);
    unsigned char px[16];
    memset(px, 100, sizeof px);
    for (int c = 0; c < 2; c++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/f/%c/1.png", t, 'a' + c);
        png_image img;
        memset(&img, 0, sizeof img);
        img.version = PNG_IMAGE_VERSION;
        img.width = 4;
        img.height = 4;
        img.format = PNG_FORMAT_GRAY;
        assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
    }
    int rc = sn_test_run(BIN " convert folder %s/f -o %s/f.h5", t, t);
    assert_int_equal(rc, 0);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(out, "2 training images of 1x4x4, 2 classes (1 entry that is not "
                                "a .png/.jpg image skipped, the first: "));
    assert_non_null(strstr(out, "/f/a/readme.txt)\n"));
    free(out);
    /* images one folder down: not read, and a warning names the folder */
    assert_int_equal(sn_test_run("mkdir %s/f/b/more && cp %s/f/b/1.png %s/f/b/more/ && " BIN
                                 " convert folder %s/f --grey -o %s/f.h5", t, t, t, t, t), 0);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    if (!strstr(err, "scratchnet: warning: 1 image in sub-folders of class folders not read (the "
                     "first folder: ") ||
        !strstr(err, "/f/b/more/): only DIR/<class>/<image> is read; move them up into their "
                     "class folder\n"))
        fail_msg("%s", err);
    free(err);
}

/* --version names the program's version, the commit and machine code it
 * was built from, and the three libraries it runs on, read from them at
 * run time; with anything after it, it is a usage error. */
static void test_words_version(void **state)
{
    (void)state;
    char *out = run_out(BIN " --version%s%s", "", "");
    assert_true(strncmp(out, "scratchnet 0.", 13) == 0);
    assert_true(strstr(out, " (commit ") || strstr(out, " (no git commit"));
    assert_non_null(strstr(out, ", -march="));
    assert_non_null(strstr(out, "\n  MPI:  "));
    assert_non_null(strstr(out, "\n  HDF5: 1."));
    assert_non_null(strstr(out, "\n  BLAS: "));
    assert_null(strstr(out, "unknown"));
    free(out);
    assert_int_equal(sn_test_run(BIN " --version --help"), 2);
}

/* A file name with a newline is printed on one line (as '?'): an output
 * line cannot be forged by naming a file. */
static void test_words_name_one_line(void **state)
{
    (void)state;
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", sn_test_path("m.cfg"), sn_test_path("m\nx.cfg"));
    assert_int_equal(system(cmd), 0);
    char *out = run_out(BIN " info --model '%s'%s", sn_test_path("m\nx.cfg"), "");
    assert_non_null(strstr(out, "m?x.cfg\n"));
    assert_null(strstr(out, "m\nx.cfg"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_skipped_examples),
        cmocka_unit_test(test_words_resume_position),
        cmocka_unit_test(test_words_one_skipped_file),
        cmocka_unit_test(test_words_version),
        cmocka_unit_test(test_words_name_one_line),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
