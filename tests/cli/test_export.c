/* test_export: scratchnet export, checked by the ONNX ecosystem's own tools.
 *
 * For every model file in models/, weights from two training steps on a
 * small made-up dataset of the model's input (raw uint8 pixels, with the
 * scale, and for colour images the mean and std, that the weights keep)
 * are exported with --softmax; the file must pass ONNX's checker
 * (onnx.checker.check_model, full_check, Debian's python3-onnx) and ONNX
 * Runtime (npm onnxruntime-node, in $BUILD/ort, by tests/cli/ort_run.js)
 * must give predict's probabilities on the 100 test images within 1e-5,
 * from the raw pixels.  Where python3-onnx, node or the npm package is
 * missing, that part is skipped with a message (make deps installs them).
 */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"
#include "io/h5.h"
#include "io/modelfile.h"

#define BIN SN_TEST_BIN
#define N_TRAIN 64
#define N_TEST 100
#define K 10
#define PY "/usr/bin/python3"

static bool have_checker, have_ort;
static char ort_modules[1024];

/* Class names that need escaping in JSON: they travel into metadata_props. */
static const char *const class_names[K] = {
    "T-shirt/top", "say \"hi\"", "comma, here", "back\\slash", "slash/ here",
    "caf\xc3\xa9", "c6", "c7", "c8", "c9",
};

static uint8_t grey_test[N_TEST * 28 * 28], colour_test[N_TEST * 3 * 32 * 32];

/* /train and /test of (C,H,W) uint8 pixels from a fixed stream, scale
 * 1/255, n_norm values of mean and std (none, one for every channel, or
 * one a channel); classes at the root. */
static void write_dataset(const char *path, int C, int H, int W, int n_norm, uint8_t *test_x)
{
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 7, 1);
    size_t L = (size_t)C * H * W;
    for (int split = 0; split < 2; split++) {
        size_t n = split ? N_TEST : N_TRAIN;
        uint8_t *x = split ? test_x : malloc(n * L);
        int32_t y[N_TRAIN > N_TEST ? N_TRAIN : N_TEST];
        assert_non_null(x);
        for (size_t i = 0; i < n * L; i++)
            x[i] = (uint8_t)(sn_rng_uniform(&r) * 256.0f);
        for (size_t i = 0; i < n; i++)
            y[i] = (int32_t)(i % K);
        const char *xp = split ? "/test/x" : "/train/x", *yp = split ? "/test/y" : "/train/y";
        size_t xd[4] = { n, (size_t)C, (size_t)H, (size_t)W }, yd[1] = { n };
        assert_int_equal(sn_h5_write(f, xp, 4, xd, SN_H5_U8, x), SN_OK);
        assert_int_equal(sn_h5_write(f, yp, 1, yd, SN_H5_I32, y), SN_OK);
        double scale = 1.0 / 255.0, mean[3] = { 0.49, 0.48, 0.45 }, std[3] = { 0.25, 0.24, 0.26 };
        assert_int_equal(sn_h5_attr_set_f64(f, xp, "scale", &scale, 1), SN_OK);
        if (n_norm) {
            assert_int_equal(sn_h5_attr_set_f64(f, xp, "mean", mean, (size_t)n_norm), SN_OK);
            assert_int_equal(sn_h5_attr_set_f64(f, xp, "std", std, (size_t)n_norm), SN_OK);
        }
        if (!split)
            free(x);
    }
    assert_int_equal(sn_h5_attr_set_strs(f, "/", "classes", class_names, K), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

static int setup(void **state)
{
    (void)state;
    if (sn_test_use_bin())
        return -1;
    have_checker = system(PY " -c 'import onnx' >/dev/null 2>&1") == 0;
    /* make deps installs it in build/ort; a sanitizer build (BUILD=build-san) uses that one */
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    char pkg[1100];
    FILE *f = NULL;
    for (int k = 0; k < 2 && !f; k++) {
        snprintf(ort_modules, sizeof ort_modules, "%s/ort/node_modules", k ? "build" : build);
        snprintf(pkg, sizeof pkg, "%s/onnxruntime-node/package.json", ort_modules);
        f = fopen(pkg, "r");
    }
    have_ort = f && system("node --version >/dev/null 2>&1") == 0;
    /* ONNX Runtime for Node leaves a .ses and a mat-debug-PID.log in TMPDIR
     * at every start: here they go with the test's own folder */
    setenv("TMPDIR", sn_test_tmpdir(), 1);
    if (f)
        fclose(f);
    if (!have_checker)
        printf("SKIP: no python3-onnx (" PY " -c 'import onnx' failed): the ONNX checker is not "
               "run (make deps installs it)\n");
    if (!have_ort)
        printf("SKIP: no node or no %s/onnxruntime-node: ONNX Runtime is not run (make deps "
               "installs them)\n", ort_modules);
    write_dataset(sn_test_path("grey.h5"), 1, 28, 28, 0, grey_test);
    write_dataset(sn_test_path("colour.h5"), 3, 32, 32, 3, colour_test);
    return 0;
}

static void run_ok(int rc, const char *what)
{
    if (rc) {
        char *err = sn_test_slurp(sn_test_path("err.txt"));
        char *out = sn_test_slurp(sn_test_path("out.txt"));
        fprintf(stderr, "%s failed (%d):\n%s%s\n", what, rc, out ? out : "", err ? err : "");
        free(err);
        free(out);
    }
    assert_int_equal(rc, 0);
}

/* ONNX's own checker, full check (shape inference included). */
static void check_model(const char *onnx)
{
    if (!have_checker)
        return;
    run_ok(sn_test_run(PY " -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]),"
                       " full_check=True)' %s", onnx), "onnx.checker.check_model");
}

/* ONNX Runtime's outputs for the n raw inputs x (per example shape C,H,W)
 * into y (n_y floats); false if ONNX Runtime is not here. */
static bool ort_run_shape(const char *onnx, const uint8_t *x, size_t n, size_t per,
                          const char *shape, float *y, size_t n_y);

static bool ort_run(const char *onnx, const uint8_t *x, size_t n, int C, int H, int W, float *y,
                    size_t n_y)
{
    char shape[64];
    snprintf(shape, sizeof shape, "%d,%d,%d", C, H, W);
    return ort_run_shape(onnx, x, n, (size_t)C * H * W, shape, y, n_y);
}

/* The same for inputs of per values each, fed in the shape given ("3,64"). */
static bool ort_run_shape(const char *onnx, const uint8_t *x, size_t n, size_t per,
                          const char *shape, float *y, size_t n_y)
{
    if (!have_ort)
        return false;
    size_t len = n * per;
    float *xf = malloc(len * sizeof *xf);
    assert_non_null(xf);
    for (size_t i = 0; i < len; i++)
        xf[i] = (float)x[i];
    FILE *f = fopen(sn_test_path("x.f32"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(xf, sizeof *xf, len, f), len);
    fclose(f);
    free(xf);
    run_ok(sn_test_run("node tests/cli/ort_run.js %s %s %s %s %s", ort_modules, onnx,
                       sn_test_path("x.f32"), shape, sn_test_path("y.f32")), "ort_run.js");
    f = fopen(sn_test_path("y.f32"), "rb");
    assert_non_null(f);
    assert_int_equal(fread(y, sizeof *y, n_y, f), n_y);
    assert_int_equal(fgetc(f), EOF);   /* exactly n_y values */
    fclose(f);
    return true;
}

/* /probs of a predict output (n_y floats). */
static void read_probs(const char *path, float *p, size_t n_y)
{
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    assert_int_equal(sn_h5_read_all(f, "/probs", SN_H5_F32, p, n_y), SN_OK);
    sn_h5_close(f);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        m = d > m || isnan(d) ? d : m;
    }
    return m;
}

/* The model's input shape and output length, from its file. */
/* The weights w predict data's test rows (x, per values each) and the
 * exported graph onnx, fed them in shape, agrees within 1e-5 in ONNX
 * Runtime (when it is here); the largest difference, or -1 without it. */
static double ort_agrees(const char *w, const char *data, const char *onnx, const uint8_t *x,
                         size_t per, const char *shape)
{
    char pred[1100];
    snprintf(pred, sizeof pred, "%s", sn_test_path("agree.h5"));
    run_ok(sn_test_run(BIN " predict --weights %s --input %s -o %s", w, data, pred), "predict");
    check_model(onnx);
    const size_t n_y = (size_t)N_TEST * K;
    float *p = malloc(n_y * sizeof *p), *y = malloc(n_y * sizeof *y);
    assert_true(p && y);
    read_probs(pred, p, n_y);
    double d = -1;
    if (ort_run_shape(onnx, x, N_TEST, per, shape, y, n_y)) {
        d = max_abs_diff(y, p, n_y);
        assert_true(d <= 1e-5);
    }
    free(p);
    free(y);
    return d;
}

static void model_shape(const char *cfg, struct sn_shape *in, size_t *out_len)
{
    char *text = NULL;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    assert_int_equal(sn_modelfile_read(cfg, &text), SN_OK);
    assert_int_equal(sn_modelfile_parse(text, cfg, &net, &m), SN_OK);
    *in = m->in_shape;
    *out_len = sn_model_out_len(m);
    sn_model_destroy(m);
    free(text);
}

/* Train cfg two steps on its dataset, predict the test split, export;
 * returns predict's probabilities (caller frees) and sets the dataset. */
static float *train_predict_export_rc(const char *cfg, const char *extra,
                                      const struct sn_shape *in, size_t n_y, const char **data,
                                      int export_rc)
{
    *data = sn_test_path(in->d[0] == 3 ? "colour.h5" : "grey.h5");
    run_ok(sn_test_run(BIN " train --model %s --data %s --steps 2 --batch 16 --out %s --quiet",
                       cfg, *data, sn_test_path("w.h5")), "train");
    run_ok(sn_test_run(BIN " predict --weights %s --input %s -o %s", sn_test_path("w.h5"), *data,
                       sn_test_path("p.h5")), "predict");
    int rc = sn_test_run(BIN " export --weights %s -o %s %s", sn_test_path("w.h5"),
                         sn_test_path("m.onnx"), extra);
    if (export_rc == 0)
        run_ok(rc, "export");
    assert_int_equal(rc, export_rc);
    float *p = malloc(n_y * sizeof *p);
    assert_non_null(p);
    read_probs(sn_test_path("p.h5"), p, n_y);
    return p;
}

static float *train_predict_export(const char *cfg, const char *extra, const struct sn_shape *in,
                                   size_t n_y, const char **data)
{
    return train_predict_export_rc(cfg, extra, in, n_y, data, 0);
}

/* One zoo model end to end; returns ONNX Runtime's max |diff| from predict
 * (-1 when ONNX Runtime is not here). */
static double zoo_model(const char *cfg)
{
    struct sn_shape in;
    size_t out_len;
    model_shape(cfg, &in, &out_len);
    size_t n_y = (size_t)N_TEST * out_len;
    const char *data;
    float *p = train_predict_export(cfg, "--softmax", &in, n_y, &data);
    check_model(sn_test_path("m.onnx"));
    float *y = malloc(n_y * sizeof *y);
    assert_non_null(y);
    double d = -1.0;
    if (ort_run(sn_test_path("m.onnx"), in.d[0] == 3 ? colour_test : grey_test, N_TEST, in.d[0],
                in.d[1], in.d[2], y, n_y))
        d = max_abs_diff(y, p, n_y);
    free(p);
    free(y);
    return d;
}

/* A model with [augment] test_views (cifar_fast): export refuses its
 * weights (exit 2, naming test_views), so path becomes a copy of the file
 * without the test_views and test_weights lines, whose predict is the plain
 * forward.  Returns whether it had them. */
static bool has_test_views(const char *cfg, char *path, size_t len)
{
    char *text = sn_test_slurp(cfg);
    assert_non_null(text);
    if (!strstr(text, "test_views")) {
        free(text);
        return false;
    }
    struct sn_shape in;
    size_t out_len;
    model_shape(cfg, &in, &out_len);
    const char *data;
    free(train_predict_export_rc(cfg, "", &in, (size_t)N_TEST * out_len, &data, 2));
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "[augment] test_views has no ONNX form"));
    assert_non_null(strstr(err, "without its test_views and test_weights lines (--model)"));
    free(err);
    char copy[1100];
    snprintf(copy, sizeof copy, "%s", sn_test_path("no_views.cfg"));
    FILE *f = fopen(copy, "w");
    assert_non_null(f);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "test_views", 10) != 0 && strncmp(line, "test_weights", 12) != 0)
            fprintf(f, "%s\n", line);
    fclose(f);
    free(text);
    assert_true(strlen(copy) < len);
    memcpy(path, copy, strlen(copy) + 1);
    return true;
}

/* Every model file in models/ exports, passes the checker, and ONNX Runtime gives
 * predict's probabilities within 1e-5. */
static void test_export_zoo_matches_predict(void **state)
{
    (void)state;
    DIR *dir = opendir("models");
    assert_non_null(dir);
    char names[64][256];
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) && n < 64;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".cfg") == 0)
            snprintf(names[n++], sizeof names[0], "models/%s", e->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    assert_true(n >= 12);
    for (int i = 0; i < n; i++) {
        if (has_test_views(names[i], names[i], sizeof names[i]))
            printf("%-28s has test_views (refused, exit 2): exported without them\n", names[i]);
        double d = zoo_model(names[i]);
        if (d < 0)
            printf("%-28s exported%s; ONNX Runtime skipped\n", names[i],
                   have_checker ? ", checker passed" : "");
        else
            printf("%-28s checker %s, ONNX Runtime max |diff| from predict %.3g\n", names[i],
                   have_checker ? "passed" : "skipped", d);
        fflush(stdout);
        assert_true(d <= 1e-5);
    }
}

/* Kinds and settings the zoo does not use: return_sequences on every
 * recurrent kind, batchnorm on vectors, dropout, avgpool with a stride of
 * its own, strided padded conv, softmax and leaky_relu as layers, concat
 * and add of named branches. */
static const char *const kind_cfgs[] = {
    "[net]\ninput = 1,28,28\n"
    "[lstm]\nunits = 8\nreturn_sequences = 1\n[gru]\nunits = 6\nreturn_sequences = 1\n"
    "[rnn]\nunits = 5\nreturn_sequences = 1\n[flatten]\n[dropout]\nrate = 0.3\n"
    "[dense]\nunits = 16\nactivation = sigmoid\n[batchnorm]\n"
    "[activation]\nactivation = leaky_relu\n[dense]\nunits = 10\n",
    "[net]\ninput = 1,28,28\n"
    "[conv]\nname = a\nfilters = 4\nsize = 3\nstride = 2\npad = 1\nactivation = tanh\n"
    "[avgpool]\nsize = 2\nstride = 1\n[activation]\nname = s\nactivation = softmax\n"
    "[conv]\nname = b\nfilters = 4\nsize = 1\nactivation = relu\n"
    "[concat]\nname = j\nfrom = s,b\n"
    "[conv]\nname = c\nfilters = 8\nsize = 3\npad = 1\nactivation = leaky_relu\n"
    "[add]\nfrom = j,c\n[batchnorm]\n[maxpool]\nsize = 3\nstride = 2\n"
    "[dense]\nunits = 10\n",
    /* the speed-run options: a whitening conv with its weight frozen,
     * dirac init, GELU (both forms) fused in conv, dense and batchnorm
     * and as a layer, batchnorm with affine = bias, momentum and eps,
     * dense scale, test_flip */
    "[net]\ninput = 1,28,28\n[augment]\ntest_flip = 1\n"
    "[conv]\nfilters = 8\nsize = 2\nactivation = gelu\ninit = whiten\nwhiten_images = 50\n"
    "freeze = weight\n[maxpool]\nsize = 2\n"
    "[batchnorm]\naffine = bias\nmomentum = 0.4\neps = 1e-3\nactivation = gelu_tanh\n"
    "[conv]\nfilters = 4\nsize = 3\npad = 1\ninit = dirac\n[batchnorm]\nactivation = gelu\n"
    "[activation]\nactivation = gelu_tanh\n[flatten]\n[dense]\nunits = 12\n"
    "activation = gelu\n[dense]\nunits = 10\nscale = 0.25\n",
};

static void test_export_every_kind(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof kind_cfgs / sizeof kind_cfgs[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "kinds%zu.cfg", i);
        FILE *f = fopen(sn_test_path(name), "w");
        assert_non_null(f);
        fputs(kind_cfgs[i], f);
        fclose(f);
        double d = zoo_model(sn_test_path(name));
        printf("%s: ONNX Runtime max |diff| from predict %.3g\n", name, d);
        assert_true(d <= 1e-5);
    }
}

/* A fixed batch and the oldest opset run too; without --softmax the
 * output is the raw scores, whose softmax is predict's probabilities. */
static void test_export_batch_opset_raw(void **state)
{
    (void)state;
    const char *cfg = "models/gru.cfg";
    struct sn_shape in;
    size_t out_len;
    model_shape(cfg, &in, &out_len);
    size_t n_y = (size_t)N_TEST * out_len;
    const char *data;
    float *p = train_predict_export(cfg, "--batch 100 --opset 13", &in, n_y, &data);
    check_model(sn_test_path("m.onnx"));
    float *y = malloc(n_y * sizeof *y);
    assert_non_null(y);
    if (ort_run(sn_test_path("m.onnx"), grey_test, N_TEST, 1, 28, 28, y, n_y)) {
        for (int i = 0; i < N_TEST; i++) {   /* softmax of each row */
            float *r = y + (size_t)i * out_len, mx = r[0];
            double s = 0.0;
            for (size_t k = 0; k < out_len; k++)
                mx = r[k] > mx ? r[k] : mx;
            for (size_t k = 0; k < out_len; k++)
                s += exp((double)r[k] - mx);
            for (size_t k = 0; k < out_len; k++)
                r[k] = (float)(exp((double)r[k] - mx) / s);
        }
        double d = max_abs_diff(y, p, n_y);
        printf("gru, batch 100, opset 13, raw scores: max |diff| of their softmax %.3g\n", d);
        assert_true(d <= 1e-5);
        assert_non_null(strstr(sn_test_slurp(sn_test_path("out.txt")), "[100,10]"));
    }
    free(p);
    free(y);
}

/* Class names (quotes, commas, backslashes, UTF-8) reach metadata_props
 * as a JSON array that parses back to the same names (control bytes are
 * refused by the dataset reader: rows 474-476), and the graph's input is
 * fixed by --batch. */
static void test_export_metadata(void **state)
{
    (void)state;
    if (!have_checker) {
        printf("SKIP: metadata check needs python3-onnx\n");
        return;
    }
    FILE *f = fopen(sn_test_path("names.txt"), "w");
    assert_non_null(f);
    for (int k = 0; k < K; k++) {
        for (const char *c = class_names[k]; *c; c++)
            fputc((unsigned char)*c < 0x20 ? '?' : *c, f);
        fputc('\n', f);
    }
    fclose(f);
    run_ok(sn_test_run(BIN " train --model models/mlp.cfg --data %s --steps 1 --batch 16 --out %s "
                       "--quiet", sn_test_path("grey.h5"), sn_test_path("w.h5")), "train");
    run_ok(sn_test_run(BIN " export --weights %s -o %s --batch 7", sn_test_path("w.h5"),
                       sn_test_path("m.onnx")), "export");
    run_ok(sn_test_run(PY " -c 'import onnx, json, sys\n"
                       "m = onnx.load(sys.argv[1]); d = {p.key: p.value for p in m.metadata_props}\n"
                       "names = open(sys.argv[2], encoding=\"utf-8\").read().split(\"\\n\")[:-1]\n"
                       "assert json.loads(d[\"classes\"]) == names, d[\"classes\"]\n"
                       "assert \"[net]\" in d[\"scratchnet.model\"]\n"
                       "assert d[\"scratchnet.input\"] == \"raw values (images: pixels 0..255), "
                       "multiplied by 0.00392157\", d[\"scratchnet.input\"]\n"
                       "assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 7\n"
                       "assert m.graph.output[0].name == \"output\"\n"
                       "assert m.producer_version.startswith(\"0.\") and \"commit\" in "
                       "m.producer_version, m.producer_version' %s %s",
                       sn_test_path("m.onnx"), sn_test_path("names.txt")), "metadata check");
    /* an ONNX model under an HDF5 name is written, and said */
    run_ok(sn_test_run(BIN " export --weights %s -o %s", sn_test_path("w.h5"),
                       sn_test_path("m_onnx.h5")), "export -o .h5");
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "m_onnx.h5: the file is an ONNX model, though its name does not "
                                "end in .onnx"));
    free(err);
    /* through a link, the name of the file written counts: ONNX into a
     * link named .onnx to an .h5 file is said, naming both */
    run_ok(sn_test_run("cd %s && ln -sf real.h5 lnk.onnx && " BIN " export --weights w.h5 -o "
                       "lnk.onnx", sn_test_tmpdir()), "export -o a link");
    err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "-o lnk.onnx (a link to "));
    assert_non_null(strstr(err, "real.h5): the file is an ONNX model, though its name does not"));
    free(err);
}

/* A colour dataset with one mean and std for every channel (which the
 * data format allows): export takes the weights train wrote from it, and
 * ONNX Runtime gives predict's probabilities. */
static void test_export_one_mean_for_colour(void **state)
{
    (void)state;
    static uint8_t test_x[N_TEST * 3 * 32 * 32];
    const char *cfg = sn_test_path("col1.cfg"), *data = sn_test_path("colour1.h5");
    write_dataset(data, 3, 32, 32, 1, test_x);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("[net]\ninput = 3,32,32\n[conv]\nfilters = 2\nsize = 3\nstride = 2\n[flatten]\n"
          "[dense]\nunits = 10\n", f);
    fclose(f);
    run_ok(sn_test_run(BIN " train --model %s --data %s --steps 2 --batch 16 --out %s --quiet",
                       cfg, data, sn_test_path("w1.h5")), "train");
    run_ok(sn_test_run(BIN " export --weights %s -o %s --softmax", sn_test_path("w1.h5"),
                       sn_test_path("m1.onnx")), "export");
    char w[1100], onnx[1100];
    snprintf(w, sizeof w, "%s", sn_test_path("w1.h5"));
    snprintf(onnx, sizeof onnx, "%s", sn_test_path("m1.onnx"));
    ort_agrees(w, data, onnx, test_x, 3 * 32 * 32, "3,32,32");
}

/* A model may read the data in another shape (FORMATS: as many values as a
 * sample): the exported graph prepares each element as the data reader
 * did, one mean/std a channel of the (3,32,32) images, whatever the
 * model's input shape (it spread them by the model's own shape, 7.5% to
 * 80% agreement with predict), and the weights keep the run of elements
 * one value covers. */
static void test_export_prep_follows_data(void **state)
{
    (void)state;
    static const char *const inputs[] = { "3,1024", "3072", "12,16,16", "3,4,16,16" };
    static const char *const bodies[] = { "[dense]\nunits = 10\n", "[dense]\nunits = 10\n",
        "[conv]\nfilters = 2\nsize = 3\nstride = 2\n[flatten]\n[dense]\nunits = 10\n",
        "[flatten]\n[dense]\nunits = 10\n" };
    for (int i = 0; i < 4; i++) {
        char cfg[1100], w[1100], data[1100], onnx[1100];
        snprintf(cfg, sizeof cfg, "%s", sn_test_path("shape.cfg"));
        snprintf(w, sizeof w, "%s", sn_test_path("ws.h5"));
        snprintf(data, sizeof data, "%s", sn_test_path("colour.h5"));
        snprintf(onnx, sizeof onnx, "%s", sn_test_path("s.onnx"));
        FILE *f = fopen(cfg, "w");
        assert_non_null(f);
        fprintf(f, "[net]\ninput = %s\n%s", inputs[i], bodies[i]);
        fclose(f);
        run_ok(sn_test_run(BIN " train --model %s --data %s --steps 2 --batch 16 --out %s --quiet",
                           cfg, data, w), "train");
        struct sn_h5 *h;
        double block = 0;
        size_t got = 0;
        assert_int_equal(sn_h5_open(w, &h), SN_OK);
        assert_int_equal(sn_h5_attr_get_f64(h, "/model", "input_norm_block", &block, 1, &got),
                         SN_OK);
        sn_h5_close(h);
        assert_true(got == 1 && block == 1024.0);
        run_ok(sn_test_run(BIN " export --weights %s -o %s --softmax", w, onnx), "export");
        const double d = ort_agrees(w, data, onnx, colour_test, 3 * 32 * 32, inputs[i]);
        print_message("input %s: ONNX Runtime within %.2g of predict\n", inputs[i], d);
    }
}

/* test_views = 0 0, flip is test_flip = 1 (FORMATS): exported with the
 * flip in the graph (it was refused as views with no ONNX form), agreeing
 * with predict. */
static void test_export_test_views_flip(void **state)
{
    (void)state;
    const char *cfg = sn_test_path("views.cfg");
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("[net]\ninput = 1,28,28\n[augment]\ntest_views = 0 0, flip\n[conv]\nfilters = 2\n"
          "size = 5\nstride = 3\n[flatten]\n[dense]\nunits = 10\n", f);
    fclose(f);
    run_ok(sn_test_run(BIN " train --model %s --data %s --steps 2 --batch 16 --out %s --quiet",
                       cfg, sn_test_path("grey.h5"), sn_test_path("wv.h5")), "train");
    run_ok(sn_test_run(BIN " export --weights %s -o %s --softmax", sn_test_path("wv.h5"),
                       sn_test_path("v.onnx")), "export");
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(out, "test_flip in the graph"));
    free(out);
    char w[1100], data[1100], onnx[1100];
    snprintf(w, sizeof w, "%s", sn_test_path("wv.h5"));
    snprintf(data, sizeof data, "%s", sn_test_path("grey.h5"));
    snprintf(onnx, sizeof onnx, "%s", sn_test_path("v.onnx"));
    ort_agrees(w, data, onnx, grey_test, 28 * 28, "1,28,28");
}

/* cfg trained on data, exported, then examples/onnx/predict.js (the
 * README's Node example) gives the class and probability that scratchnet
 * predict prints for img.pgm. */
static void node_agrees(const char *cfg_path, const char *data_path)
{
    char cfg[1100], data[1100];   /* sn_test_path's buffer is reused below */
    snprintf(cfg, sizeof cfg, "%s", cfg_path);
    snprintf(data, sizeof data, "%s", data_path);
    run_ok(sn_test_run(BIN " train --model %s --data %s --steps 3 --batch 16 --out %s --quiet",
                       cfg, data, sn_test_path("w.h5")), "train");
    run_ok(sn_test_run(BIN " export --weights %s -o %s --softmax", sn_test_path("w.h5"),
                       sn_test_path("m.onnx")), "export");
    run_ok(sn_test_run(BIN " predict --weights %s --input %s --top 1", sn_test_path("w.h5"),
                       sn_test_path("img.pgm")), "predict");
    char *ours = sn_test_slurp(sn_test_path("out.txt"));
    int k_ours = -1;
    float p_ours = -1;
    const char *line = strstr(ours, "  1. ");
    assert_non_null(line);
    assert_int_equal(sscanf(line, "  1. %d %*s %f", &k_ours, &p_ours), 2);
    run_ok(sn_test_run("NODE_PATH=%s node examples/onnx/predict.js %s %s", ort_modules,
                       sn_test_path("m.onnx"), sn_test_path("img.pgm")), "examples/onnx/predict.js");
    char *theirs = sn_test_slurp(sn_test_path("out.txt"));
    int k = -1;
    float p = -1;
    assert_int_equal(sscanf(theirs, "class %d", &k), 1);
    const char *pp = strstr(theirs, "  p = ");
    assert_non_null(pp);
    assert_int_equal(sscanf(pp, "  p = %f", &p), 1);
    char name[64] = "";   /* the class name, when the data has them: predict's */
    if (sscanf(theirs, "class %*d (%63[^)])", name) == 1)
        assert_non_null(strstr(line, name));
    printf("%s: predict.js class %d p %.4f; scratchnet predict class %d p %.4f\n", cfg, k, p,
           k_ours, p_ours);
    assert_int_equal(k, k_ours);
    assert_float_equal(p, p_ours, 1e-4);
    free(ours);
    free(theirs);
}

/* The Node example agrees with predict for a 10-class model and for a
 * binary one (one output, binary_cross_entropy: its one probability is
 * class 1's; the example named class 0 for every image). */
static void test_export_node_example(void **state)
{
    (void)state;
    if (!have_ort) {
        printf("SKIP: the Node example needs node and onnxruntime-node\n");
        return;
    }
    FILE *f = fopen(sn_test_path("img.pgm"), "wb");
    assert_non_null(f);
    fprintf(f, "P5\n28 28\n255\n");
    assert_int_equal(fwrite(grey_test + 5 * 28 * 28, 1, 28 * 28, f), 28 * 28);
    fclose(f);
    node_agrees("models/lenet5.cfg", sn_test_path("grey.h5"));
    /* the grey test images as both splits, labels 0 and 1 */
    struct sn_h5 *h;
    assert_int_equal(sn_h5_create(sn_test_path("bin.h5"), &h), SN_OK);
    int32_t y[N_TEST];
    for (int i = 0; i < N_TEST; i++)
        y[i] = i % 2;
    for (int split = 0; split < 2; split++) {
        const char *xp = split ? "/test/x" : "/train/x", *yp = split ? "/test/y" : "/train/y";
        size_t xd[4] = { N_TEST, 1, 28, 28 }, yd[1] = { N_TEST };
        double scale = 1.0 / 255.0;
        assert_int_equal(sn_h5_write(h, xp, 4, xd, SN_H5_U8, grey_test), SN_OK);
        assert_int_equal(sn_h5_write(h, yp, 1, yd, SN_H5_I32, y), SN_OK);
        assert_int_equal(sn_h5_attr_set_f64(h, xp, "scale", &scale, 1), SN_OK);
    }
    assert_int_equal(sn_h5_attr_set_strs(h, "/", "classes", (const char *const[]){ "even", "odd" },
                                         2), SN_OK);
    assert_int_equal(sn_h5_close(h), SN_OK);
    f = fopen(sn_test_path("bin.cfg"), "w");
    assert_non_null(f);
    fputs("[net]\ninput = 1,28,28\nloss = binary_cross_entropy\n[conv]\nfilters = 2\n"
          "size = 5\nstride = 4\n[flatten]\n[dense]\nunits = 1\n", f);
    fclose(f);
    node_agrees(sn_test_path("bin.cfg"), sn_test_path("bin.h5"));
    /* a FIFO or a device is refused before anything is read (/dev/zero
     * took 2.9 GB, a FIFO waited for ever) */
    char fifo[1100];
    snprintf(fifo, sizeof fifo, "%s", sn_test_path("fifo.pgm"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *const bad[] = { fifo, "/dev/zero" };
    for (int i = 0; i < 2; i++) {
        int rc = sn_test_run("NODE_PATH=%s timeout 60 node examples/onnx/predict.js %s %s",
                             ort_modules, sn_test_path("m.onnx"), bad[i]);
        char *err = sn_test_slurp(sn_test_path("err.txt"));
        printf("predict.js %s: exit %d, %s", bad[i], rc, err);
        assert_true(rc != 0 && rc != 124);
        assert_non_null(strstr(err, "not a regular file"));
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_zoo_matches_predict),
        cmocka_unit_test(test_export_every_kind),
        cmocka_unit_test(test_export_batch_opset_raw),
        cmocka_unit_test(test_export_metadata),
        cmocka_unit_test(test_export_one_mean_for_colour),
        cmocka_unit_test(test_export_prep_follows_data),
        cmocka_unit_test(test_export_test_views_flip),
        cmocka_unit_test(test_export_node_example),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
