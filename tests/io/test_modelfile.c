/* test_modelfile: parsing model files, good and bad. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/modelfile.h"

static const char good[] =
    "# a comment line\n"
    "[net]\n"
    "input = 1,28,28   # C,H,W\n"
    "batch = 32\n"
    "epochs = 3\n"
    "loss = cross_entropy\n"
    "optimizer = sgd\n"
    "lr = 0.05\n"
    "momentum = 0.9\n"
    "nesterov = 1\n"
    "weight_decay = 0.0005\n"
    "lr_schedule = cosine\n"
    "warmup_steps = 10\n"
    "seed = 7\n"
    "\n"
    "[dense]\n"
    "  units = 64      ; indented keys are fine\n"
    "  activation = relu\n"
    "  init = he\n"
    "[activation]\n"
    "activation = tanh\n"
    "name = squash\n"
    "[dense]\n"
    "units = 10\n"
    "freeze = 1\n";

/* A full file parses into the settings and layers it names. */
static void test_modelfile_parses_good_file(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    assert_int_equal(sn_modelfile_parse(good, "good.cfg", &net, &m), SN_OK);
    assert_int_equal(net.input.ndim, 3);
    assert_int_equal(net.input.d[2], 28);
    assert_int_equal(net.batch, 32);
    assert_int_equal(net.epochs, 3);
    assert_int_equal(net.loss, SN_LOSS_CROSS_ENTROPY);
    assert_int_equal(net.optim.kind, SN_OPT_SGD);
    assert_true(net.optim.nesterov);
    assert_float_equal(net.optim.momentum, 0.9f, 1e-7);
    assert_float_equal(net.optim.weight_decay, 0.0005f, 1e-9);
    assert_float_equal(net.sched.lr, 0.05f, 1e-7);
    assert_int_equal(net.sched.kind, SN_SCHED_COSINE);
    assert_int_equal(net.sched.warmup_steps, 10);
    assert_int_equal(net.seed, 7);
    assert_int_equal(m->n_layers, 3);
    assert_string_equal(m->layers[0]->name, "dense0");
    assert_string_equal(m->layers[1]->name, "squash");
    assert_string_equal(m->layers[2]->name, "dense2");
    assert_string_equal(m->layers[1]->ops->kind, "activation");
    assert_int_equal(m->layers[0]->params[0].init, SN_INIT_HE);
    assert_int_equal(m->layers[0]->params[0].shape.d[1], 784);
    assert_true(m->layers[2]->freeze);
    assert_false(m->layers[0]->freeze);
    assert_int_equal(m->layers[2]->in[0], 1);
    sn_model_destroy(m);
}

/* Each bad file is refused with "file:line: <words>" and the right code. */
static void expect_error(const char *text, int code, const char *where, const char *words)
{
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    int rc = sn_modelfile_parse(text, "bad.cfg", &net, &m);
    if (rc != code || !strstr(sn_errmsg(), where) || !strstr(sn_errmsg(), words)) {
        fprintf(stderr, "got %d '%s', wanted %d with '%s' and '%s'\nfor:\n%s\n", rc,
                sn_errmsg(), code, where, words, text);
        fail();
    }
    assert_null(m);
}

#define NET "[net]\ninput = 784\n"

static void test_modelfile_errors(void **state)
{
    (void)state;
    expect_error(NET "[dense]\nunits = 10\n[bogus]\n", SN_EINVAL, "bad.cfg:5:", "unknown section [bogus]");
    expect_error(NET "[dense]\nunits = 10\nunitz = 4\n", SN_EINVAL, "bad.cfg:5:", "unknown key 'unitz'");
    expect_error(NET "[dense]\nunits = ten\n", SN_EINVAL, "bad.cfg:4:", "units");
    expect_error(NET "[dense]\nunits = 0\n", SN_EINVAL, "bad.cfg:4:", "units");
    expect_error(NET "[dense]\nunits = 10\nunits = 11\n", SN_EINVAL, "bad.cfg:5:", "given twice");
    expect_error(NET "[dense]\nactivation = relu\n", SN_EINVAL, "bad.cfg:3:", "needs 'units'");
    expect_error(NET "[dense]\nunits = 3\nactivation = swish\n", SN_EINVAL, "bad.cfg:5:", "swish");
    expect_error("[dense]\nunits = 3\n", SN_EINVAL, "bad.cfg:1:", "first section must be [net]");
    expect_error("[Net]\ninput = 8\n[dense]\nunits = 3\n", SN_EINVAL, "bad.cfg:1:",
                 "first section must be [net] (section names are lower case)");
    expect_error("units = 3\n[net]\ninput = 4\n", SN_EINVAL, "bad.cfg:1:", "before the first section");
    expect_error("[net]\nbatch = 4\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:1:", "needs 'input'");
    /* [net]'s own keys are read after input: none of them is blamed */
    expect_error("[net]\nbatch = 4\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:1:",
                 "[net] needs 'input' (e.g. 1,28,28 or 784)");
    assert_null(strstr(sn_errmsg(), "batch"));
    expect_error(NET "[dense]\nactivation = relu\nfilters = 3\n", SN_EINVAL, "bad.cfg:3:",
                 "[dense] needs 'units'; its 'filters' (line 5) is a key of [conv]");
    expect_error("[net]\ninput = 1,x,3\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:2:", "input");
    expect_error("[net]\ninput = 1,2,3,4,5\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:2:", "input");
    expect_error(NET, SN_EINVAL, "bad.cfg:1:", "no layers");
    expect_error(NET "batch = 0\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "batch");
    expect_error(NET "lr = -1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "lr");
    expect_error(NET "loss = hinge\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "hinge");
    expect_error(NET "optimizer = lbfgs\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "lbfgs");
    expect_error(NET "momentum = 1.5\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "momentum");
    expect_error(NET "nesterov = 1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "nesterov");
    /* an sgd file switched to adam: its momentum and nesterov in one error (user 45 U4) */
    expect_error(NET "optimizer = adam\nmomentum = 0.9\nnesterov = 1\n[dense]\nunits = 2\n",
                 SN_EINVAL, "bad.cfg:5:", "this file's optimizer is adam, which reads neither "
                 "nesterov nor momentum (line 4): remove both");
    expect_error(NET "lr_schedule = triangle\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "triangle");
    expect_error(NET "colour = blue\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "unknown key 'colour'");
    expect_error(NET "[dense]\nunits = 2\n[net]\ninput = 3\n", SN_EINVAL, "bad.cfg:5:", "only once");
    expect_error(NET "[dense]\nunits = 2\nname = a b\n", SN_EINVAL, "bad.cfg:5:", "name");
    /* a key on a section header's line: libinih dropped it (lr 5 trained at 0.01) */
    expect_error("[net] lr = 5\ninput = 784\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:1:",
                 "text after the section header [net]: 'lr = 5' (put each key on its own line)");
    expect_error(NET "[dense] # a comment is fine\nunits = 2\n[dense] units = 3\n", SN_EINVAL,
                 "bad.cfg:5:", "text after the section header [dense]: 'units = 3'");
    expect_error(NET "[dense] ; a comment after a blank\nunits = 2\n[dense];units = 3\n", SN_EINVAL,
                 "bad.cfg:5:", "text after the section header [dense]: ';units = 3'");
    expect_error(NET "LR = 0.1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:",
                 "[net] unknown key 'LR' (keys are lower case: 'lr')");
    /* a required key in other case: as far from it as any word */
    expect_error(NET "[dense]\nUNITS = 2\n", SN_EINVAL, "bad.cfg:4:",
                 "[dense] unknown key 'UNITS' (keys are lower case: 'units')");
    expect_error(NET "[dense]\nunits = 2\nname = x\n[dense]\nunits = 2\nname = x\n", SN_ESHAPE,
                 "bad.cfg:6:", "layer name 'x' is used twice (lines 3 and 6)");
    /* a default name (kind and place) that a name line gives another layer */
    expect_error(NET "[dense]\nunits = 2\nname = dense1\n[dense]\nunits = 2\n", SN_ESHAPE,
                 "bad.cfg:6:", "[dense] is named 'dense1' by default (its kind and place), which "
                 "line 3 gives another layer");
    expect_error(NET "[dense]\nunits = 2\n[dense]\nunits = 2\nname = dense0\n", SN_ESHAPE,
                 "bad.cfg:5:", "layer name 'dense0' is the default name of the [dense] at line 3");
    expect_error(NET "[dense]\nunits = 2\nfreeze = 2\n", SN_EINVAL, "bad.cfg:5:", "freeze");
    expect_error(NET "[dense]\nunits = 2\ninit = magic\n", SN_EINVAL, "bad.cfg:5:", "init");
    expect_error(NET "[conv]\nfilters = 2\nsize = 3\n", SN_ESHAPE, "bad.cfg:3:", "(C,H,W)");
    expect_error(NET "[conv]\nsize = 3\n", SN_EINVAL, "bad.cfg:3:", "needs 'filters'");
    expect_error(NET "[dense]\nunits = 10\nactivation = softmax\n", SN_EINVAL, "bad.cfg:5:",
                 "applies softmax itself");
    expect_error("[net]\ninput = 4\nloss = binary_cross_entropy\n[dense]\nunits = 1\nactivation = sigmoid\n",
                 SN_EINVAL, "bad.cfg:6:", "applies sigmoid itself");
    expect_error(NET "[dense\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "]");
    expect_error(NET "[dense]\nthis line has no equals sign\n", SN_EINVAL, "bad.cfg:4:", "cannot parse");
    expect_error(NET "[activation]\n", SN_EINVAL, "bad.cfg:3:", "needs 'activation'");
    char longline[400];
    memset(longline, 'x', sizeof longline);
    memcpy(longline, NET "[dense]\nunits = 2\nname = ", strlen(NET "[dense]\nunits = 2\nname = "));
    longline[sizeof longline - 1] = '\0';
    expect_error(longline, SN_EINVAL, "bad.cfg:5:", "too long");
}

#define IMG "[net]\ninput = 1,8,8\n"

/* Shape errors of branching and sequence models, each at its line. */
static void test_modelfile_graph_errors(void **state)
{
    (void)state;
    expect_error(IMG "[conv]\nfilters = 2\nsize = 9\n", SN_ESHAPE, "bad.cfg:3:", "does not fit");
    expect_error(IMG "[maxpool]\nsize = 9\n", SN_ESHAPE, "bad.cfg:3:", "does not fit");
    /* an input written H,W,C: read as C,H,W, the hint says so */
    expect_error("[net]\ninput = 24,24,3\n[maxpool]\nsize = 2\n[maxpool]\nsize = 2\n", SN_ESHAPE,
                 "bad.cfg:5:", "the 12x1 input ([net] input 24,24,3 reads as C,H,W: 24 channels "
                 "of 24x3; 3 channels of 24x24 are 3,24,24)");
    expect_error(IMG "[conv]\nname = a\nfilters = 2\nsize = 3\n[conv]\nname = b\nfilters = 2\n"
                 "size = 5\nfrom = input\n[concat]\nfrom = a, b\n", SN_ESHAPE, "bad.cfg:12:",
                 "does not fit");
    expect_error(IMG "[conv]\nname = a\nfilters = 2\nsize = 3\npad = 1\n[conv]\nname = b\n"
                 "filters = 3\nsize = 3\npad = 1\nfrom = input\n[add]\nfrom = a,b\n", SN_ESHAPE,
                 "bad.cfg:14:", "input 1 has shape 3x8x8");
    expect_error(IMG "[concat]\nfrom = nothere, input\n", SN_ESHAPE, "bad.cfg:4:",
                 "no earlier layer is named 'nothere'");
    /* a layer below: named with its line, not a typo hint to another */
    expect_error(IMG "[dense]\nunits = 4\nfrom = later\n[dense]\nname = later\nunits = 2\n",
                 SN_ESHAPE, "bad.cfg:5:", "[dense] from: 'later' is the layer at line 6, below "
                 "this one: a layer may only read layers above it (move it up)");
    expect_error(IMG "[augment]\nflip = 1\n[dense]\nunits = 4\nfrom = dense2\n[dense]\nunits = 3\n"
                 "[dense]\nunits = 2\n", SN_ESHAPE, "bad.cfg:7:", "[dense] from: 'dense2' is the "
                 "layer at line 10 (its default name), below this one");
    expect_error(IMG "[dense]\nname = self\nunits = 4\nfrom = self\n", SN_ESHAPE, "bad.cfg:6:",
                 "[dense] from: 'self' is this layer's own name: a layer may only read layers "
                 "above it");
    expect_error(IMG "[dense]\nunits = 4\nfrom = dense0\n", SN_ESHAPE, "bad.cfg:5:",
                 "'dense0' is this layer's own name");
    /* a default name miscounted (a named layer takes its position too):
     * the nearest earlier name a typo away is offered */
    expect_error(IMG "[conv]\nfilters = 2\nsize = 3\npad = 1\n[conv]\nname = b\nfilters = 2\n"
                 "size = 3\npad = 1\nfrom = input\n[concat]\nfrom = conv0, b\n[add]\n"
                 "from = concat3, concat2\n", SN_ESHAPE, "bad.cfg:16:",
                 "no earlier layer is named 'concat3' (did you mean 'concat2'? a layer may only "
                 "read layers above it)");
    /* a path left out of the concat that should join it: refused at its
     * section (it ran every step, learnt nothing, and was exported) */
    expect_error(IMG "[conv]\nname = a\nfilters = 2\nsize = 3\npad = 1\n[conv]\nname = b\n"
                 "filters = 2\nsize = 5\npad = 2\nfrom = input\n[conv]\nname = c\nfilters = 2\n"
                 "size = 1\nfrom = input\n[concat]\nfrom = a, c\n", SN_EINVAL, "bad.cfg:8:",
                 "[conv] b: no later layer reads its output (a path left out of a [concat] or "
                 "[add] `from`?)");
    expect_error(IMG "[add]\nfrom = input\n", SN_EINVAL, "bad.cfg:4:", "two or more");
    expect_error(IMG "[add]\n", SN_EINVAL, "bad.cfg:3:", "needs 'from'");
    expect_error(IMG "[dense]\nunits = 4\n[lstm]\nunits = 3\n", SN_ESHAPE, "bad.cfg:5:",
                 "time axis");
    expect_error(IMG "[dense]\nunits = 4\nfrom = input, input\n", SN_EINVAL, "bad.cfg:5:",
                 "takes one layer");
    expect_error(IMG "[dropout]\nrate = 1\n", SN_EINVAL, "bad.cfg:4:", "rate");
    expect_error(IMG "[lstm]\nunits = 3\nreturn_sequences = 2\n", SN_EINVAL, "bad.cfg:5:",
                 "return_sequences");
    expect_error(NET "[augment]\nflip = 1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:",
                 "needs an image input");
    expect_error(IMG "[augment]\nflip = 1\nspin = 3\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:5:",
                 "unknown key 'spin'");
    expect_error(IMG "[augment]\nshift = 100\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:4:", "shift");
    expect_error(IMG "[augment]\n[augment]\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:4:", "only once");
    expect_error(IMG "[augment]\nflip = 1\n", SN_EINVAL, "bad.cfg:1:", "no layers");
    expect_error("[net]\ninput = 1,4,4\nloss = mse\ntarget = input\n[augment]\ntest_flip = 1\n"
                 "[flatten]\n", SN_EINVAL, "bad.cfg:6:", "test_flip");
    expect_error(IMG "[augment]\ntest_flip = 2\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:4:",
                 "test_flip");
    expect_error(NET "loss = mse\nlabel_smoothing = 0.1\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "label_smoothing needs loss = cross_entropy");
    expect_error(NET "label_smoothing = 1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:",
                 "label_smoothing");
    expect_error("[net]\ninput = 4\ntarget = input\n[dense]\nunits = 4\n", SN_EINVAL, "bad.cfg:1:",
                 "target = input needs loss = mse");
    expect_error("[net]\ninput = 4\ntarget = pixels\n[dense]\nunits = 4\n", SN_EINVAL, "bad.cfg:3:",
                 "target");
}

/* An inception-style module and a residual block build with the right shapes. */
static void test_modelfile_builds_branches(void **state)
{
    (void)state;
    const char *cfg = IMG
        "[conv]\nname = stem\nfilters = 4\nsize = 3\npad = 1\nactivation = relu\n"
        "[conv]\nname = b1\nfilters = 2\nsize = 1\nfrom = stem\n"
        "[conv]\nname = b3\nfilters = 3\nsize = 3\npad = 1\nfrom = stem\n"
        "[maxpool]\nname = bp\nsize = 3\nstride = 1\nfrom = stem\n"
        "[conv]\nname = bpc\nfilters = 1\nsize = 3\npad = 2\n"
        "[concat]\nname = mix\nfrom = b1, b3, bpc\n"
        "[conv]\nname = r\nfilters = 6\nsize = 3\npad = 1\n"
        "[add]\nfrom = r, mix\n"
        "[batchnorm]\n[avgpool]\nsize = 8\n[flatten]\n[dropout]\nrate = 0.2\n[dense]\nunits = 10\n";
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    int rc = sn_modelfile_parse(cfg, "inc.cfg", &net, &m);
    if (rc)
        fprintf(stderr, "%s\n", sn_errmsg());
    assert_int_equal(rc, SN_OK);
    int mix = sn_model_find(m, "mix");
    assert_int_equal(m->layers[mix]->n_in, 3);
    assert_int_equal(m->layers[mix]->out_shape.d[0], 6);
    assert_int_equal(m->layers[mix]->out_shape.d[1], 8);
    int add = sn_model_find(m, "add7");
    assert_true(add >= 0);
    assert_int_equal(m->layers[add]->in[0], sn_model_find(m, "r"));
    assert_int_equal(m->layers[add]->in[1], mix);
    assert_int_equal(sn_model_out_len(m), 10);
    assert_int_equal(m->layers[sn_model_find(m, "b1")]->in[0], 0);
    sn_model_destroy(m);
}

/* Reading: missing files, binary files. */
static void test_modelfile_read_errors(void **state)
{
    (void)state;
    char *text = NULL;
    assert_int_equal(sn_modelfile_read(sn_test_path("missing.cfg"), &text), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "missing.cfg"));
    FILE *f = fopen(sn_test_path("bin.cfg"), "wb");
    fwrite("[net]\0\1\2", 1, 8, f);
    fclose(f);
    assert_int_equal(sn_modelfile_read(sn_test_path("bin.cfg"), &text), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "not text"));
    f = fopen(sn_test_path("ok.cfg"), "wb");
    fputs(good, f);
    fclose(f);
    assert_int_equal(sn_modelfile_read(sn_test_path("ok.cfg"), &text), SN_OK);
    assert_string_equal(text, good);
    free(text);
}

/* Every model of the zoo parses and ends in 10 outputs (784 for the
 * autoencoder); mlp.cfg is what make run trains. */
static void test_modelfile_zoo(void **state)
{
    (void)state;
    static const char *zoo[] = { "mlp", "lenet5", "cnn", "rnn", "lstm", "gru", "inception",
                                 "resnet", "autoencoder", "alexnet", "cifar_inception",
                                 "cifar_resnet", "cifar_fast" };
    for (size_t i = 0; i < sizeof zoo / sizeof zoo[0]; i++) {
        char path[64], *text = NULL;
        struct sn_netcfg net;
        struct sn_model *m = NULL;
        snprintf(path, sizeof path, "models/%s.cfg", zoo[i]);
        assert_int_equal(sn_modelfile_read(path, &text), SN_OK);
        int rc = sn_modelfile_parse(text, path, &net, &m);
        if (rc)
            fprintf(stderr, "%s\n", sn_errmsg());
        assert_int_equal(rc, SN_OK);
        assert_int_equal(sn_model_out_len(m), strcmp(zoo[i], "autoencoder") ? 10 : 784);
        if (strcmp(zoo[i], "cifar_fast") == 0)
            assert_true(net.augment.flip_alternate && net.augment.translate == 2 &&
                        net.augment.n_views == 6);
        else if (strncmp(zoo[i], "cifar", 5) == 0 || strcmp(zoo[i], "alexnet") == 0)
            assert_true(net.augment.flip && net.augment.shift == 4);
        sn_model_destroy(m);
        free(text);
    }
}

/* The keys of the speed-run recipes: parameter groups (each learnt
 * parameter's lr_mult and wd_mult are its layer's times its kind's),
 * decoupled weight decay, the onecycle schedule, dirac init (and a
 * fraction of it), batchnorm's affine = bias and fused activation, GELU. */
static void test_modelfile_training_features(void **state)
{
    (void)state;
    static const char text[] =
        "[net]\ninput = 3,8,8\noptimizer = sgd\nmomentum = 0.9\nweight_decay = 0.01\n"
        "decoupled_weight_decay = 1\nbias_wd_mult = 0\nnorm_lr_mult = 64\nnorm_wd_mult = 0.25\n"
        "weight_lr_mult = 0.5\nlr_schedule = onecycle\nlr_start_factor = 0.2\n"
        "lr_end_factor = 0.07\nwarmup_fraction = 0.23\n"
        "[conv]\nfilters = 8\nsize = 3\npad = 1\ninit = dirac\ndirac_fraction = 0.5\n"
        "activation = gelu_tanh\nlr_mult = 2\n"
        "[batchnorm]\naffine = bias\nactivation = gelu\nmomentum = 0.4\neps = 1e-12\n"
        "wd_mult = 3\n[flatten]\n[dense]\nunits = 10\n";
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    int rc = sn_modelfile_parse(text, "f.cfg", &net, &m);
    if (rc)
        fprintf(stderr, "%s\n", sn_errmsg());
    assert_int_equal(rc, SN_OK);
    assert_true(net.optim.decoupled_wd);
    assert_int_equal(net.sched.kind, SN_SCHED_ONECYCLE);
    assert_float_equal(net.sched.start_factor, 0.2f, 0);
    assert_float_equal(net.sched.end_factor, 0.07f, 0);
    assert_float_equal(net.sched.warmup_fraction, 0.23f, 0);
    const struct sn_param *cw = &m->layers[0]->params[0], *cb = &m->layers[0]->params[1];
    const struct sn_param *nw = &m->layers[1]->params[0], *nb = &m->layers[1]->params[1];
    const struct sn_param *dw = &m->layers[3]->params[0], *db = &m->layers[3]->params[1];
    assert_int_equal(cw->init, SN_INIT_DIRAC);
    assert_int_equal(cw->n_dirac, 2);   /* half of min(3, 8) = 1.5, rounded */
    assert_float_equal(cw->lr_mult, 1.0f, 0);    /* 2 x weight 0.5 */
    assert_float_equal(cb->lr_mult, 2.0f, 0);
    assert_float_equal(cb->wd_mult, 0.0f, 0);
    assert_float_equal(nw->lr_mult, 64.0f, 0);
    assert_float_equal(nb->wd_mult, 0.75f, 0);   /* 3 x norm 0.25 */
    assert_false(nw->trainable);
    assert_true(nb->trainable);
    assert_float_equal(dw->lr_mult, 0.5f, 0);
    assert_float_equal(db->wd_mult, 0.0f, 0);
    assert_float_equal(db->lr_mult, 1.0f, 0);
    sn_model_destroy(m);
    /* without the keys: the defaults (onecycle: PyTorch's OneCycleLR's) */
    assert_int_equal(sn_modelfile_parse(NET "lr_schedule = onecycle\n[dense]\nunits = 2\n",
                                        "f.cfg", &net, &m), SN_OK);
    assert_float_equal(net.sched.start_factor, 0.04f, 0);
    assert_float_equal(net.sched.end_factor, 4e-6f, 0);
    assert_float_equal(net.sched.warmup_fraction, 0.3f, 0);
    assert_false(net.optim.decoupled_wd);
    assert_float_equal(m->layers[0]->params[1].wd_mult, 1.0f, 0);
    sn_model_destroy(m);
    assert_int_equal(sn_modelfile_parse(NET "lr_schedule = onecycle\nwarmup_steps = 7\n"
                                        "[dense]\nunits = 2\n", "f.cfg", &net, &m), SN_OK);
    assert_float_equal(net.sched.warmup_fraction, 0.0f, 0);
    assert_int_equal(net.sched.warmup_steps, 7);
    sn_model_destroy(m);
}

/* The same keys out of place or out of range, each named with its line. */
static void test_modelfile_training_feature_errors(void **state)
{
    (void)state;
    expect_error(NET "lr_end_factor = 0.1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:",
                 "lr_schedule = onecycle");
    expect_error(NET "lr_schedule = onecycle\nwarmup_steps = 3\nwarmup_fraction = 0.2\n"
                 "[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:5:", "give one");
    expect_error(NET "bias_lr_mult = -1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:",
                 "bias_lr_mult");
    expect_error(NET "[flatten]\nlr_mult = 2\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:4:",
                 "no parameters");
    expect_error(NET "[dense]\nunits = 2\ninit = dirac\n", SN_EINVAL, "bad.cfg:5:",
                 "(dirac, whiten: conv only)");
    expect_error(IMG "[conv]\nfilters = 2\nsize = 3\ndirac_fraction = 0.5\n", SN_EINVAL,
                 "bad.cfg:6:", "needs init = dirac");
    expect_error(IMG "[batchnorm]\naffine = 0\n", SN_EINVAL, "bad.cfg:4:", "affine");
    expect_error(IMG "[batchnorm]\nactivation = softmax\n", SN_EINVAL, "bad.cfg:3:",
                 "not softmax");
    expect_error(NET "decoupled_weight_decay = 2\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:3:", "decoupled_weight_decay");
    expect_error(NET "[dense]\nunits = 2\nactivation = relu\nscale = 0.5\n[dense]\nunits = 2\n",
                 SN_EINVAL, "bad.cfg:3:", "scale needs the linear activation");
}

/* [augment]: airbench's translation, alternating flips and six weighted
 * test views; test_flip as two views; bad views and weights named. */
static void test_modelfile_augment(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    static const char aug[] = IMG "[augment]\ntranslate = 2\nflip = alternate\n"
        "test_views = 0 0, flip, 1 1, 1 1 flip, -1 -1, -1 -1 flip\n"
        "test_weights = 2, 2, 1, 1, 1, 1\n[flatten]\n[dense]\nunits = 3\n";
    assert_int_equal(sn_modelfile_parse(aug, "f.cfg", &net, &m), SN_OK);
    const struct sn_augment *a = &net.augment;
    assert_true(a->translate == 2 && a->flip_alternate && !a->flip && !a->test_flip);
    assert_int_equal(a->n_views, 6);
    assert_true(a->views[3].dy == 1 && a->views[3].dx == 1 && a->views[3].flip);
    assert_true(a->views[4].dy == -1 && !a->views[4].flip && a->views[1].flip);
    assert_float_equal(a->view_weight[0], 0.25f, 1e-7);
    assert_float_equal(a->view_weight[5], 0.125f, 1e-7);
    sn_model_destroy(m);
    assert_int_equal(sn_modelfile_parse(IMG "[augment]\ntest_flip = 1\n[dense]\nunits = 3\n",
                                        "f.cfg", &net, &m), SN_OK);
    assert_true(net.augment.n_views == 2 && net.augment.views[1].flip);
    assert_float_equal(net.augment.view_weight[1], 0.5f, 0);
    sn_model_destroy(m);
    expect_error(IMG "[augment]\nflip = sometimes\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "alternate");
    expect_error(IMG "[augment]\ntranslate = 8\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "do not fit");
    expect_error(IMG "[augment]\nshift = 8\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "shift: 8 pixels do not fit the 8x8 input");
    expect_error(IMG "[augment]\ntest_views = 0 0, 1\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "test_views");
    expect_error(IMG "[augment]\ntest_views = 0 0, flip 1 1\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "test_views");
    expect_error(IMG "[augment]\ntest_views = 9 0\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "does not fit");
    expect_error(IMG "[augment]\ntest_views = 0 0, flip\ntest_weights = 1\n[dense]\n"
                 "units = 2\n", SN_EINVAL, "bad.cfg:5:", "1 weights for 2 views");
    expect_error(IMG "[augment]\ntest_views = 0 0, flip\ntest_weights = 1, -1\n[dense]\n"
                 "units = 2\n", SN_EINVAL, "bad.cfg:5:", "each weight: expected a number");
    expect_error(IMG "[augment]\ntest_views = 0 0, flip\ntest_weights = 1, 1, 1\n[dense]\n"
                 "units = 2\n", SN_EINVAL, "bad.cfg:5:", "more weights than the 2 views");
    expect_error(IMG "[augment]\ntest_views = 0 0, 99999999999999999999 0\n[dense]\n"
                 "units = 2\n", SN_EINVAL, "bad.cfg:4:", "test_views");
    expect_error(IMG "[augment]\ntest_flip = 1\ntest_views = flip\n[dense]\nunits = 2\n",
                 SN_EINVAL, "bad.cfg:5:", "give one");
    expect_error(IMG "[augment]\ntest_weights = 1\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "needs test_views");
}

/* Weight averaging (ema, ema_every, ema_warmup) and Lookahead (k and
 * alpha, Zhang et al.'s default 0.5), and their refusals. */
static void test_modelfile_averaging(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    assert_int_equal(sn_modelfile_parse(NET "ema = 0.99\nema_every = 5\nema_warmup = 1\n"
                                        "[dense]\nunits = 2\n", "f.cfg", &net, &m), SN_OK);
    assert_float_equal(net.optim.ema, 0.99f, 0);
    assert_int_equal(net.optim.ema_every, 5);
    assert_true(net.optim.ema_warmup);
    sn_model_destroy(m);
    expect_error(NET "ema = 1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:", "ema");
    expect_error(NET "ema = 0.9\nema_every = 0\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "ema_every");
    expect_error(NET "ema_every = 3\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:",
                 "need ema > 0");
    assert_int_equal(sn_modelfile_parse(NET "lookahead_k = 5\n[dense]\nunits = 2\n", "f.cfg",
                                        &net, &m), SN_OK);
    assert_int_equal(net.optim.lookahead_k, 5);
    assert_float_equal(net.optim.lookahead_alpha, 0.5f, 0);
    sn_model_destroy(m);
    assert_int_equal(sn_modelfile_parse(NET "lookahead_k = 6\nlookahead_alpha = 1\n[dense]\n"
                                        "units = 2\n", "f.cfg", &net, &m), SN_OK);
    assert_float_equal(net.optim.lookahead_alpha, 1.0f, 0);
    sn_model_destroy(m);
    assert_int_equal(sn_modelfile_parse(NET "[dense]\nunits = 2\n", "f.cfg", &net, &m), SN_OK);
    assert_int_equal(net.optim.lookahead_k, 0);
    sn_model_destroy(m);
    expect_error(NET "lookahead_alpha = 0.5\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:",
                 "lookahead_alpha needs lookahead_k > 0");
    expect_error(NET "lookahead_k = 5\nlookahead_alpha = 1.5\n[dense]\nunits = 2\n", SN_EINVAL,
                 "bad.cfg:4:", "lookahead_alpha");
    expect_error(NET "lookahead_k = -1\n[dense]\nunits = 2\n", SN_EINVAL, "bad.cfg:3:",
                 "lookahead_k");
}

/* init = whiten with its keys and defaults (airbench's 5000 images, eps
 * 5e-4; zero bias) and freeze = weight (the weight stays, the bias
 * learns); the errors each at its line: another filter count, a conv
 * that does not read the model input, keys without init = whiten, a
 * layer without weights. */
static void test_modelfile_whiten_and_freeze(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    static const char text[] = "[net]\ninput = 3,8,8\n[conv]\nfilters = 24\nsize = 2\n"
        "init = whiten\nwhiten_images = 700\nwhiten_eps = 0.01\nfreeze = weight\n"
        "[conv]\nfilters = 27\nsize = 3\nfrom = input\ninit = whiten\n"
        "[flatten]\nname = f0\nfrom = conv0\n[flatten]\nname = f1\nfrom = conv1\n"
        "[concat]\nfrom = f0, f1\n"
        "[dense]\nunits = 2\n";
    int rc = sn_modelfile_parse(text, "f.cfg", &net, &m);
    if (rc)
        fprintf(stderr, "%s\n", sn_errmsg());
    assert_int_equal(rc, SN_OK);
    const struct sn_param *w0 = &m->layers[0]->params[0], *b0 = &m->layers[0]->params[1];
    const struct sn_param *w1 = &m->layers[1]->params[0];
    assert_int_equal(w0->init, SN_INIT_WHITEN);
    assert_int_equal(w0->whiten_images, 700);
    assert_float_equal(w0->whiten_eps, 0.01f, 0);
    assert_int_equal(b0->init, SN_INIT_ZERO);
    assert_false(w0->trainable);
    assert_true(b0->trainable);
    assert_false(m->layers[0]->freeze);
    assert_int_equal(w1->init, SN_INIT_WHITEN);
    assert_int_equal(w1->whiten_images, 5000);
    assert_float_equal(w1->whiten_eps, 5e-4f, 0);
    assert_true(w1->trainable);
    sn_model_destroy(m);
    expect_error(IMG "[conv]\nfilters = 5\nsize = 2\ninit = whiten\n", SN_ESHAPE,
                 "bad.cfg:3:", "init = whiten makes 4 filters");
    expect_error(IMG "[conv]\nfilters = 4\nsize = 2\npad = 1\n[conv]\nfilters = 16\nsize = 2\n"
                 "init = whiten\n", SN_EINVAL, "bad.cfg:10:", "must read the model input");
    expect_error(IMG "[conv]\nfilters = 4\nsize = 2\nwhiten_images = 10\n", SN_EINVAL,
                 "bad.cfg:6:", "whiten_images needs init = whiten");
    expect_error(IMG "[conv]\nfilters = 4\nsize = 2\ninit = whiten\nwhiten_eps = 0\n",
                 SN_EINVAL, "bad.cfg:7:", "whiten_eps");
    /* 1 / sqrt(eps) scales a direction without variance: at most 1e6 */
    expect_error(IMG "[conv]\nfilters = 4\nsize = 2\ninit = whiten\nwhiten_eps = 1e-30\n",
                 SN_EINVAL, "bad.cfg:7:", "whiten_eps");
    expect_error(IMG "[conv]\nfilters = 4\nsize = 2\ninit = whiten\nwhiten_images = 0\n",
                 SN_EINVAL, "bad.cfg:7:", "whiten_images");
    expect_error(IMG "[conv]\nfilters = 81\nsize = 9\npad = 1\ninit = whiten\n", SN_ESHAPE,
                 "bad.cfg:3:", "windows that fit the 8x8 image");
    expect_error(IMG "[maxpool]\nsize = 2\nfreeze = weight\n", SN_EINVAL, "bad.cfg:5:",
                 "no learnt weights");
    expect_error(IMG "[conv]\nfilters = 4\nsize = 2\nfreeze = bias\n", SN_EINVAL,
                 "bad.cfg:6:", "expected 0, 1 or weight, got 'bias'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modelfile_parses_good_file),
        cmocka_unit_test(test_modelfile_errors),
        cmocka_unit_test(test_modelfile_read_errors),
        cmocka_unit_test(test_modelfile_graph_errors),
        cmocka_unit_test(test_modelfile_builds_branches),
        cmocka_unit_test(test_modelfile_zoo),
        cmocka_unit_test(test_modelfile_training_features),
        cmocka_unit_test(test_modelfile_training_feature_errors),
        cmocka_unit_test(test_modelfile_augment),
        cmocka_unit_test(test_modelfile_averaging),
        cmocka_unit_test(test_modelfile_whiten_and_freeze),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
