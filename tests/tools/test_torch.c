/* test_torch: tools/h5_to_torch.py and tools/torch_to_h5.py move weights
 * both ways and PyTorch's predictions agree with scratchnet's to 1e-4, for
 * models/mlp, lenet5, lstm and gru (and PyTorch to scratchnet for the
 * batchnorm and branching cnn, inception and resnet); a whitening conv
 * trained on a file holds the filters PyTorch computes from it.  Needs Debian's python3-torch and
 * python3-h5py; without them the test says so and is skipped (scratchnet
 * itself never needs them). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/status.h"
#include "io/h5.h"

#define BIN SN_TEST_BIN
#define PY "/usr/bin/python3"

static int setup(void **state)
{
    (void)state;
    return sn_test_use_bin();
}

/* 64 training and 40 test images of 1x28x28, uint8 with scale 1/255. */
static void write_images(const char *path)
{
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 12, 3);
    for (int split = 0; split < 2; split++) {
        size_t n = split ? 40 : 64;
        uint8_t *x = malloc(n * 784);
        int32_t *y = malloc(n * sizeof *y);
        for (size_t i = 0; i < n * 784; i++)
            x[i] = (uint8_t)(sn_rng_u32(&r) & 0xff);
        for (size_t i = 0; i < n; i++)
            y[i] = (int32_t)(i % 10);
        sn_test_write_u8(f, split ? "test" : "train", n, 28, 28, x, y);
        free(x);
        free(y);
    }
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* scratchnet's predictions on img.h5 from weights w, against PyTorch's
 * from the network net (a model file or a generated module) holding pt. */
static void predictions_agree(const char *what, const char *w, const char *net, const char *pt,
                              const char *pred)
{
    int rc = sn_test_run(BIN " predict --weights %s --input %s -o %s", w, sn_test_path("img.h5"),
                         pred);
    assert_int_equal(rc, 0);
    rc = sn_test_run(PY " tests/tools/torch_agree.py check %s %s %s %s", net, pt,
                     sn_test_path("img.h5"), pred);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    print_message("%s: %s", what, out);
    free(out);
    assert_int_equal(rc, 0);
}

/* PyTorch -> scratchnet: initialise cfg in PyTorch (seed), convert the
 * state_dict to weights b, compare the predictions. */
static void torch_to_scratchnet(const char *name, const char *cfg, const char *bpt, const char *b,
                                const char *pred, int seed)
{
    int rc = sn_test_run(PY " tests/tools/torch_agree.py init %s %s %d", cfg, bpt, seed);
    assert_int_equal(rc, 0);
    rc = sn_test_run(PY " tools/torch_to_h5.py %s --model %s -o %s", bpt, cfg, b);
    assert_int_equal(rc, 0);
    char what[128];
    snprintf(what, sizeof what, "%s, torch -> scratchnet", name);
    predictions_agree(what, b, cfg, bpt, pred);
}

/* Whether /usr/bin/python3 imports torch and h5py: asked once (the import
 * alone takes seconds), then remembered for every test. */
static bool have_torch(void)
{
    static int have = -1;
    if (have < 0)
        have = sn_test_run(PY " -c 'import torch, h5py'") == 0;
    return have;
}

static void test_torch_both_ways(void **state)
{
    (void)state;
    if (!have_torch()) {
        print_message("SKIPPED: /usr/bin/python3 with torch and h5py is not here (Debian: "
                      "apt-get install python3-torch python3-h5py); the interop tools are "
                      "optional\n");
        skip();
    }
    write_images(sn_test_path("img.h5"));
    static const char *const models[] = { "mlp", "lenet5", "lstm", "gru" };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        const char *m = models[i];
        char cfg[256], a[1100], apt[1100], mod[1100], pred[1100], bpt[1100], b[1100];
        snprintf(cfg, sizeof cfg, "models/%s.cfg", m);
        snprintf(a, sizeof a, "%s/%s_a.h5", sn_test_tmpdir(), m);
        snprintf(apt, sizeof apt, "%s/%s_a.pt", sn_test_tmpdir(), m);
        snprintf(mod, sizeof mod, "%s/%s_net.py", sn_test_tmpdir(), m);
        snprintf(pred, sizeof pred, "%s/%s_pred.h5", sn_test_tmpdir(), m);
        snprintf(bpt, sizeof bpt, "%s/%s_b.pt", sn_test_tmpdir(), m);
        snprintf(b, sizeof b, "%s/%s_b.h5", sn_test_tmpdir(), m);
        /* PyTorch -> scratchnet: a PyTorch initialisation */
        torch_to_scratchnet(m, cfg, bpt, b, pred, (int)i + 1);
        /* scratchnet -> PyTorch: a few steps of training from those weights,
         * then the same predictions through the generated module */
        int rc = sn_test_run(BIN " train --model %s --data %s --init %s --steps 3 --out %s "
                             "--quiet --threads 1", cfg, sn_test_path("img.h5"), b, a);
        assert_int_equal(rc, 0);
        rc = sn_test_run(PY " tools/h5_to_torch.py %s -o %s --module %s", a, apt, mod);
        if (rc)
            fprintf(stderr, "%s\n", sn_test_slurp(sn_test_path("err.txt")));
        assert_int_equal(rc, 0);
        char what[128];
        snprintf(what, sizeof what, "%s, scratchnet -> torch", m);
        predictions_agree(what, a, mod, apt, pred);
    }
    /* the branching and batchnorm models, PyTorch -> scratchnet */
    static const char *const dags[] = { "cnn", "inception", "resnet" };
    for (size_t i = 0; i < sizeof dags / sizeof dags[0]; i++) {
        char cfg[256], bpt[1100], b[1100], pred[1100];
        snprintf(cfg, sizeof cfg, "models/%s.cfg", dags[i]);
        snprintf(bpt, sizeof bpt, "%s/%s_b.pt", sn_test_tmpdir(), dags[i]);
        snprintf(b, sizeof b, "%s/%s_b.h5", sn_test_tmpdir(), dags[i]);
        snprintf(pred, sizeof pred, "%s/%s_pred.h5", sn_test_tmpdir(), dags[i]);
        torch_to_scratchnet(dags[i], cfg, bpt, b, pred, 7);
    }
    /* --by-order: a plain nn.Sequential's state_dict onto models/mlp.cfg */
    {
        int rc = sn_test_run(PY " -c \"import torch, torch.nn as nn; torch.manual_seed(5); "
                             "net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), "
                             "nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)); "
                             "torch.save(net.state_dict(), '%s/seq.pt')\"", sn_test_tmpdir());
        assert_int_equal(rc, 0);
        rc = sn_test_run(PY " tools/torch_to_h5.py %s/seq.pt --model models/mlp.cfg -o %s/seq.h5",
                         sn_test_tmpdir(), sn_test_tmpdir());
        assert_int_equal(rc, 2 - 1);   /* keys differ: refused, pointing to --by-order */
        char *err = sn_test_slurp(sn_test_path("err.txt"));
        assert_non_null(strstr(err, "try --by-order"));
        free(err);
        rc = sn_test_run(PY " tools/torch_to_h5.py %s/seq.pt --model models/mlp.cfg -o %s/seq.h5 "
                         "--by-order", sn_test_tmpdir(), sn_test_tmpdir());
        assert_int_equal(rc, 0);
        rc = sn_test_run(BIN " info --weights %s/seq.h5", sn_test_tmpdir());
        assert_int_equal(rc, 0);
    }
}

/* The round trip keeps how the data was prepared and named: the module
 * h5_to_torch.py writes holds INPUT_SCALE, INPUT_MEAN, INPUT_STD and
 * CLASSES (and its prepare() gives PyTorch scratchnet's predictions), and
 * torch_to_h5.py --module writes them back, so predict on an image prints
 * the same names and probabilities from the round-tripped file. */
static void test_torch_round_trip_keeps_names(void **state)
{
    (void)state;
    if (!have_torch()) {
        print_message("SKIPPED: /usr/bin/python3 with torch and h5py is not here\n");
        skip();
    }
    static const char *const names[10] = { "zero", "one", "two", "three", "four",
                                           "five", "six", "seven", "eight", "nine" };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(sn_test_path("named.h5"), &f), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 3, 3);
    uint8_t row0[784];
    for (int split = 0; split < 2; split++) {
        size_t n = split ? 20 : 64, xd[4] = { n, 1, 28, 28 };
        uint8_t *x = malloc(n * 784);
        int32_t *y = malloc(n * sizeof *y);
        for (size_t i = 0; i < n * 784; i++)
            x[i] = (uint8_t)(sn_rng_u32(&r) & 0xff);
        for (size_t i = 0; i < n; i++)
            y[i] = (int32_t)(i % 10);
        if (split)
            memcpy(row0, x, sizeof row0);
        assert_int_equal(sn_h5_write(f, split ? "/test/x" : "/train/x", 4, xd, SN_H5_U8, x), SN_OK);
        assert_int_equal(sn_h5_write(f, split ? "/test/y" : "/train/y", 1, xd, SN_H5_I32, y), SN_OK);
        free(x);
        free(y);
    }
    double scale = 1.0 / 255.0, mean = 0.5, std = 0.25;
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "scale", &scale, 1), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "mean", &mean, 1), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "std", &std, 1), SN_OK);
    assert_int_equal(sn_h5_attr_set_strs(f, "/", "classes", names, 10), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    const char *d = sn_test_tmpdir();
    int rc = sn_test_run(BIN " train --model models/mlp.cfg --data %s --steps 3 --out %s/n_a.h5 "
                         "--quiet --threads 1", sn_test_path("named.h5"), d);
    assert_int_equal(rc, 0);
    rc = sn_test_run(PY " tools/h5_to_torch.py %s/n_a.h5 -o %s/n_a.pt --module %s/n_net.py", d, d, d);
    assert_int_equal(rc, 0);
    rc = sn_test_run("cd %s && " PY " -c 'import n_net as m; assert abs(m.INPUT_SCALE - 1 / 255) "
                     "< 1e-9, m.INPUT_SCALE; assert m.INPUT_MEAN == [0.5] and m.INPUT_STD == "
                     "[0.25]; assert m.CLASSES[3] == \"three\" and len(m.CLASSES) == 10'", d);
    if (rc)
        fprintf(stderr, "%s\n", sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    /* PyTorch through the module's prepare() agrees with scratchnet on the
     * normalised data */
    rc = sn_test_run(BIN " predict --weights %s/n_a.h5 --input %s -o %s/n_pred.h5", d,
                     sn_test_path("named.h5"), d);
    assert_int_equal(rc, 0);
    rc = sn_test_run(PY " tests/tools/torch_agree.py check %s/n_net.py %s/n_a.pt %s %s/n_pred.h5",
                     d, d, sn_test_path("named.h5"), d);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    print_message("mlp with mean/std, scratchnet -> torch: %s", out);
    free(out);
    assert_int_equal(rc, 0);
    rc = sn_test_run(PY " tools/torch_to_h5.py %s/n_a.pt --module %s/n_net.py -o %s/n_b.h5", d, d, d);
    assert_int_equal(rc, 0);
    FILE *pg = fopen(sn_test_path("row0.pgm"), "wb");
    assert_non_null(pg);
    fprintf(pg, "P5\n28 28\n255\n");
    assert_int_equal(fwrite(row0, 1, sizeof row0, pg), sizeof row0);
    fclose(pg);
    char *before = NULL, *after = NULL;
    for (int k = 0; k < 2; k++) {
        rc = sn_test_run(BIN " predict --weights %s/n_%c.h5 --input %s --top 3", d, k ? 'b' : 'a',
                         sn_test_path("row0.pgm"));
        assert_int_equal(rc, 0);
        *(k ? &after : &before) = sn_test_slurp(sn_test_path("out.txt"));
    }
    print_message("predict after the round trip:\n%s", after);
    assert_null(strstr(after, "no scale stored"));
    int cls = -1;
    char name[32] = "";
    const char *top = strstr(after, "  1. ");
    assert_non_null(top);
    assert_int_equal(sscanf(top, "  1. %d %31s", &cls, name), 2);
    assert_true(cls >= 0 && cls < 10);
    assert_string_equal(name, names[cls]);
    assert_string_equal(before, after);   /* same preparation, names and probabilities */
    free(before);
    free(after);
}

/* GELU in a conv, batchnorm with affine = bias and a fused GELU (both
 * forms), dirac init and a scaled dense head: a PyTorch initialisation
 * through tools/torch_to_h5.py gives the same predictions (1e-4). */
static void test_torch_speedrun_layers(void **state)
{
    (void)state;
    if (!have_torch()) {
        print_message("SKIPPED: /usr/bin/python3 with torch and h5py is not here\n");
        skip();
    }
    write_images(sn_test_path("img.h5"));
    FILE *f = fopen(sn_test_path("speedrun.cfg"), "w");
    assert_non_null(f);
    fputs("[net]\ninput = 1,28,28\n[conv]\nfilters = 6\nsize = 3\nactivation = gelu\n"
          "[maxpool]\nsize = 2\n[batchnorm]\naffine = bias\nmomentum = 0.4\neps = 1e-12\n"
          "activation = gelu_tanh\n[conv]\nfilters = 4\nsize = 3\npad = 1\ninit = dirac\n"
          "[batchnorm]\nactivation = gelu\n[flatten]\n[dense]\nunits = 10\n"
          "scale = 0.5\n", f);
    fclose(f);
    char cfg[1100], bpt[1100], b[1100], pred[1100];
    snprintf(cfg, sizeof cfg, "%s", sn_test_path("speedrun.cfg"));
    snprintf(bpt, sizeof bpt, "%s/speedrun_b.pt", sn_test_tmpdir());
    snprintf(b, sizeof b, "%s/speedrun_b.h5", sn_test_tmpdir());
    snprintf(pred, sizeof pred, "%s/speedrun_pred.h5", sn_test_tmpdir());
    torch_to_scratchnet("speedrun layers", cfg, bpt, b, pred, 11);
}

/* init = whiten: the weights after training (frozen) are the filters
 * PyTorch computes from the same first 40 training images as airbench
 * does (to 1e-5 of the largest), through the data's scaling. */
static void test_torch_whiten_from_data(void **state)
{
    (void)state;
    if (!have_torch()) {
        print_message("SKIPPED: /usr/bin/python3 with torch and h5py is not here\n");
        skip();
    }
    write_images(sn_test_path("img.h5"));
    FILE *f = fopen(sn_test_path("whiten.cfg"), "w");
    assert_non_null(f);
    fputs("[net]\ninput = 1,28,28\n[conv]\nname = white\nfilters = 18\nsize = 3\n"
          "init = whiten\nwhiten_images = 40\nwhiten_eps = 0.001\nfreeze = weight\n"
          "activation = gelu\n[maxpool]\nsize = 2\n[flatten]\n[dense]\nunits = 10\n", f);
    fclose(f);
    int rc = sn_test_run(BIN " train --model %s --data %s --steps 3 --out %s --quiet "
                         "--threads 1", sn_test_path("whiten.cfg"), sn_test_path("img.h5"),
                         sn_test_path("whiten.h5"));
    assert_int_equal(rc, 0);
    rc = sn_test_run(PY " tests/tools/torch_agree.py whiten %s white %s 40 0.001",
                     sn_test_path("whiten.h5"), sn_test_path("img.h5"));
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    print_message("%s", out);
    free(out);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torch_both_ways),
        cmocka_unit_test(test_torch_round_trip_keeps_names),
        cmocka_unit_test(test_torch_speedrun_layers),
        cmocka_unit_test(test_torch_whiten_from_data),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
