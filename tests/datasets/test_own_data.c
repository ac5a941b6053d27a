/* test_own_data: the "your own data" example of datasets/README.md, run as
 * written (its Python block, with NumPy arrays for the names it assumes),
 * gives a file that trains and evaluates consistently: the test split is
 * prepared like the training split, so the test accuracy train reports,
 * eval's, and the training accuracy agree, and eval names the classes.
 * Needs /usr/bin/python3 with h5py (make deps installs python3-h5py). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIN SN_TEST_BIN

/* What the example assumes: 3 classes of 1x6x6 uint8 images, class c
 * bright in rows 2c and 2c+1 on a noisy background. */
static const char prelude[] =
    "import numpy as np\n"
    "rng = np.random.default_rng(7)\n"
    "def make(n):\n"
    "    y = np.arange(n) % 3\n"
    "    x = rng.integers(0, 80, size=(n, 1, 6, 6))\n"
    "    for c in range(3):\n"
    "        x[y == c, 0, 2 * c:2 * c + 2, :] += 150\n"
    "    return x.astype(np.uint8), y\n"
    "images, labels = make(600)\n"
    "test_images, test_labels = make(150)\n"
    "class_names = ['stripe top', 'stripe middle', 'stripe bottom']\n";

/* The first ```python block after "## Your own data". */
static char *readme_example(void)
{
    char *text = sn_test_slurp("datasets/README.md");
    assert_non_null(text);
    char *sec = strstr(text, "## Your own data");
    assert_non_null(sec);
    char *start = strstr(sec, "```python\n");
    assert_non_null(start);
    start += strlen("```python\n");
    char *end = strstr(start, "```");
    assert_non_null(end);
    *end = '\0';
    char *code = strdup(start);
    free(text);
    return code;
}

static double percent_after(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    assert_non_null(p);
    double v = -1;
    assert_int_equal(sscanf(p + strlen(label), "%lf", &v), 1);
    return v;
}

static void test_own_data_example(void **state)
{
    (void)state;
    if (sn_test_run("/usr/bin/python3 -c 'import h5py'") != 0)
        fail_msg("/usr/bin/python3 has no h5py: run make deps (python3-h5py)");
    char *code = readme_example();
    FILE *f = fopen(sn_test_path("example.py"), "w");
    assert_non_null(f);
    fputs(prelude, f);
    fputs(code, f);
    fclose(f);
    free(code);
    int rc = sn_test_run("cd %s && /usr/bin/python3 example.py", sn_test_tmpdir());
    if (rc)
        fprintf(stderr, "%s\n", sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    FILE *cfg = fopen(sn_test_path("own.cfg"), "w");
    assert_non_null(cfg);
    fputs("[net]\ninput = 1,6,6\nbatch = 20\nepochs = 3\noptimizer = adam\nlr = 0.01\n"
          "[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n", cfg);
    fclose(cfg);
    rc = sn_test_run(BIN " train --model %s --data %s/mine.h5 --out %s --threads 1",
                     sn_test_path("own.cfg"), sn_test_tmpdir(), sn_test_path("w.h5"));
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    const char *last = strstr(out, "epoch 3/3");
    assert_non_null(last);
    /* "epoch 3/3  step 90  train loss L acc A%  test loss L acc A%" */
    double train_acc = percent_after(last, " acc ");
    double test_acc = percent_after(strstr(last, "test loss"), " acc ");
    free(out);
    rc = sn_test_run(BIN " eval --weights %s --data %s/mine.h5", sn_test_path("w.h5"),
                     sn_test_tmpdir());
    assert_int_equal(rc, 0);
    out = sn_test_slurp(sn_test_path("out.txt"));
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    double eval_acc = percent_after(out, "accuracy ");
    print_message("train %.2f%%, test during training %.2f%%, eval %.2f%%\n", train_acc,
                  test_acc, eval_acc);
    assert_float_equal(eval_acc, test_acc, 0.005);
    assert_true(test_acc >= 95.0 && train_acc >= 95.0);
    assert_non_null(strstr(out, "stripe middle"));   /* class names reach eval */
    assert_int_equal(sn_test_warnings(err), 0);
    free(out);
    free(err);
}

static int setup(void **state)
{
    (void)state;
    return sn_test_use_bin();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_data_example),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
