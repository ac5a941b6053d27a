/* test_weights: weights files and checkpoints, written and read back. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/status.h"
#include "io/ckpt.h"
#include "io/h5.h"
#include "io/modelfile.h"
#include "core/clock.h"
#include "io/weights.h"

static const char cfg_a[] = "[net]\ninput = 6\noptimizer = adam\n[dense]\nunits = 4\nactivation = relu\n[dense]\nunits = 3\n";
static const char cfg_b[] = "[net]\ninput = 6\noptimizer = adam\n[dense]\nunits = 5\nactivation = relu\n[dense]\nunits = 3\n";

static struct sn_model *build(const char *cfg, uint64_t seed, struct sn_netcfg *net)
{
    struct sn_model *m;
    assert_int_equal(sn_modelfile_parse(cfg, "t.cfg", net, &m), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, seed, 1);
    assert_int_equal(sn_model_build(m, 2, &r), SN_OK);
    return m;
}

/* Only final files remain in dir: no temporary file left behind. */
static void assert_no_tmp_files(void)
{
    DIR *d = opendir(sn_test_tmpdir());
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, ".tmp."));
    closedir(d);
}

/* Parameters and model text survive a save/load; names are PyTorch's. */
static void test_weights_round_trip(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net), *b = build(cfg_a, 2, &net);
    const char *p = sn_test_path("w.h5");
    assert_int_equal(sn_weights_save(p, a, cfg_a), SN_OK);
    assert_no_tmp_files();
    char *text;
    assert_int_equal(sn_weights_read_cfg(p, &text), SN_OK);
    assert_string_equal(text, cfg_a);
    free(text);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(p, &f), SN_OK);
    assert_true(sn_h5_exists(f, "/params/dense0/weight"));
    assert_true(sn_h5_exists(f, "/params/dense1/bias"));
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    assert_int_equal(sn_h5_info(f, "/params/dense0/weight", &nd, dims, &cls, &size), SN_OK);
    assert_int_equal(nd, 2);
    assert_int_equal(dims[0], 4);   /* (out, in) as in PyTorch */
    assert_int_equal(dims[1], 6);
    int n = 0;
    assert_int_equal(sn_weights_read(f, b, true, &n), SN_OK);
    assert_int_equal(n, 4);
    sn_h5_close(f);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    assert_false(sn_ckpt_is_checkpoint(p));
    sn_model_destroy(a);
    sn_model_destroy(b);
}

/* sn_weights_save replaces weights, an empty file or nothing: a dataset,
 * a checkpoint and a model file are refused and left as they were (a
 * program saving with it replaced all three: hostile round 70 F9). */
static void test_weights_save_replaces_only_weights(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net);
    char data[1100], text[1100], ck[1100];
    snprintf(data, sizeof data, "%s", sn_test_path("wsave_data.h5"));
    snprintf(text, sizeof text, "%s", sn_test_path("wsave.cfg"));
    snprintf(ck, sizeof ck, "%s", sn_test_path("wsave_ck.h5"));
    sn_test_write_blobs(data, (struct sn_test_blobs){ 0 });
    FILE *f = fopen(text, "w");
    assert_non_null(f);
    fputs(cfg_a, f);
    fclose(f);
    struct sn_optim o;
    assert_int_equal(sn_optim_init(&o, &net.optim, a->n_params), SN_OK);
    struct sn_train_state st = { .global_step = 1, .world_size = 1, .global_batch = 8 };
    assert_int_equal(sn_ckpt_save(ck, a, &o, &st, cfg_a), SN_OK);
    sn_optim_deinit(&o);
    const char *paths[] = { data, text, ck };
    const char *kinds[] = { "holds a dataset", "holds no HDF5 (a model file",
                            "holds a checkpoint" };
    for (int i = 0; i < 3; i++) {
        char *before = sn_test_slurp(paths[i]);
        assert_int_equal(sn_weights_save(paths[i], a, cfg_a), SN_EUSAGE);
        if (!strstr(sn_errmsg(), kinds[i]))
            fail_msg("%s: %s", paths[i], sn_errmsg());
        char *after = sn_test_slurp(paths[i]);
        assert_string_equal(before, after);
        free(before);
        free(after);
    }
    assert_int_equal(sn_weights_save(sn_test_path("wsave_w.h5"), a, cfg_a), SN_OK);
    assert_int_equal(sn_weights_save(sn_test_path("wsave_w.h5"), a, cfg_a), SN_OK);
    assert_int_equal(sn_weights_save("", a, cfg_a), SN_EUSAGE);
    assert_int_equal(sn_weights_save(sn_test_path("wsave_n.h5"), a, NULL), SN_EINVAL);
    sn_model_destroy(a);
}

/* Loading into another model fails, naming the mismatched array. */
static void test_weights_refuses_other_model(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net), *b = build(cfg_b, 1, &net);
    const char *p = sn_test_path("a.h5");
    assert_int_equal(sn_weights_save(p, a, cfg_a), SN_OK);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(p, &f), SN_OK);
    assert_int_equal(sn_weights_read(f, b, true, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "/params/dense0/weight"));
    sn_h5_close(f);
    assert_int_equal(sn_weights_read_cfg(sn_test_path("nope.h5"), &(char *){ NULL }), SN_EINVAL);
    /* the model's shapes as integers (another tool's file): the type is
     * what differs, and said so */
    assert_int_equal(sn_h5_create(sn_test_path("int.h5"), &f), SN_OK);
    int32_t v[24] = { 0 };
    const size_t wd[2] = { 4, 6 };
    assert_int_equal(sn_h5_write(f, "/params/dense0/weight", 2, wd, SN_H5_I32, v), SN_OK);
    assert_int_equal(sn_weights_read(f, a, false, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "/params/dense0/weight has the model's shape 4x6 but "
                                        "holds integers, not floats"));
    /* train --init refuses it too: it is this layer's array, not another
     * model's to re-initialise (a frozen layer trained from random) */
    int loaded = -1;
    char refit[256];
    assert_int_equal(sn_weights_read_fit(f, a, &loaded, refit, sizeof refit), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "has the model's shape 4x6 but holds integers"));
    sn_h5_close(f);
    /* as float64 past float range: named as stored, not as the Inf it becomes */
    assert_int_equal(sn_h5_create(sn_test_path("f64.h5"), &f), SN_OK);
    double big[24] = { 0 };
    big[7] = 8.5e297;
    assert_int_equal(sn_h5_write(f, "/params/dense0/weight", 2, wd, SN_H5_F64, big), SN_OK);
    assert_int_equal(sn_weights_read(f, a, false, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "/params/dense0/weight holds 8.5e+297 (element 7), beyond "
                                        "float range"));
    sn_h5_close(f);
    sn_model_destroy(a);
    sn_model_destroy(b);
}

/* The arrays under /params no parameter of the model reads: a layer's
 * whole group when the model has no such layer, else the array; none for
 * the model's own file. */
static void test_weights_unread_named(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net);
    const char *p = sn_test_path("u.h5");
    assert_int_equal(sn_weights_save(p, a, cfg_a), SN_OK);
    struct sn_h5 *f;
    char names[64];
    assert_int_equal(sn_h5_open(p, &f), SN_OK);
    assert_int_equal(sn_weights_unread(f, a, names, sizeof names), 0);
    assert_string_equal(names, "");
    sn_h5_close(f);
    assert_int_equal(sn_h5_create(sn_test_path("u2.h5"), &f), SN_OK);
    const float v[24] = { 0 };
    const size_t wd[2] = { 4, 6 }, one = 4;
    assert_int_equal(sn_h5_write(f, "/params/dense0/weight", 2, wd, SN_H5_F32, v), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/dense0/extra", 1, &one, SN_H5_F32, v), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/ghost/w", 1, &one, SN_H5_F32, v), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/ghost/b", 1, &one, SN_H5_F32, v), SN_OK);
    for (int i = 0; i < 6; i++) {
        char path[32];
        snprintf(path, sizeof path, "/params/z%d/w", i);
        assert_int_equal(sn_h5_write(f, path, 1, &one, SN_H5_F32, v), SN_OK);
    }
    assert_int_equal(sn_weights_unread(f, a, names, sizeof names), 8);
    assert_string_equal(names, "/params/dense0/extra, /params/ghost, /params/z0, ...");
    sn_h5_close(f);
    sn_model_destroy(a);
}

/* A checkpoint restores parameters, optimizer state, counters and history. */
static void test_ckpt_round_trip(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net), *b = build(cfg_a, 9, &net);
    struct sn_optim oa, ob;
    assert_int_equal(sn_optim_init(&oa, &net.optim, a->n_params), SN_OK);
    assert_int_equal(sn_optim_init(&ob, &net.optim, b->n_params), SN_OK);
    for (size_t i = 0; i < a->n_params; i++)
        a->grads[i] = 0.01f * (float)(i % 7) - 0.03f;
    sn_optim_step(&oa, a->plist, a->n_plist, 0.01f);
    sn_optim_step(&oa, a->plist, a->n_plist, 0.01f);
    struct sn_metrics hist[2] = { { 1, 10, 0.5, 0.8, 0.6, 0.7, 0.01, 3.0 },
                                  { 2, 20, 0.4, 0.85, 0.5, 0.75, 0.01, 6.0 } };
    struct sn_train_state st = { .epoch = 2, .step_in_epoch = 3, .global_step = 23, .world_size = 2,
                                 .global_batch = 8, .seed = 5, .n_metrics = 2, .cap_metrics = 2,
                                 .history = hist };
    const char *p = sn_test_path("ckpt.h5");
    assert_int_equal(sn_ckpt_save(p, a, &oa, &st, cfg_a), SN_OK);
    assert_no_tmp_files();
    assert_true(sn_ckpt_is_checkpoint(p));
    struct sn_metrics back_hist[4];
    struct sn_train_state back = { .cap_metrics = 4, .history = back_hist };
    assert_int_equal(sn_ckpt_load(p, b, &ob, &back), SN_OK);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    assert_memory_equal(oa.state[0], ob.state[0], a->n_params * sizeof(float));
    assert_memory_equal(oa.state[1], ob.state[1], a->n_params * sizeof(float));
    assert_int_equal(ob.t, 2);
    assert_int_equal(back.epoch, 2);
    assert_int_equal(back.step_in_epoch, 3);
    assert_int_equal(back.global_step, 23);
    assert_int_equal(back.world_size, 2);
    assert_int_equal(back.global_batch, 8);
    assert_int_equal(back.seed, 5);
    assert_int_equal(back.n_metrics, 2);
    assert_float_equal(back_hist[1].test_acc, 0.75, 1e-12);
    assert_float_equal(back_hist[0].elapsed_s, 3.0, 1e-12);
    /* a weights file is not a checkpoint; another optimizer is refused */
    assert_int_equal(sn_weights_save(sn_test_path("plain.h5"), a, cfg_a), SN_OK);
    assert_int_equal(sn_ckpt_load(sn_test_path("plain.h5"), b, &ob, &back), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "plain.h5 is a weights file (train --out), not a "
                                        "checkpoint"));
    assert_non_null(strstr(sn_errmsg(), "plain.h5 starts a new run from its weights"));
    /* a file without the seal (written by another tool) is not loaded */
    struct sn_h5 *raw;
    assert_int_equal(sn_h5_create(sn_test_path("raw.h5"), &raw), SN_OK);
    sn_h5_close(raw);
    assert_int_equal(sn_ckpt_load(sn_test_path("raw.h5"), b, &ob, &back), SN_EDAMAGED);
    assert_non_null(strstr(sn_errmsg(), "no scratchnet seal"));
    /* a checkpoint another program holds open for writing (HDF5's lock;
     * its library rewrites bytes while open) is said so, not damaged:
     * --resume auto must not pass it over and set it aside */
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    unsigned char byte;
    assert_int_equal(pread(fd, &byte, 1, 600), 1);
    byte ^= 1;
    assert_int_equal(pwrite(fd, &byte, 1, 600), 1);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(sn_ckpt_load(p, b, &ob, &back), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "another program has the file open for writing"));
    byte ^= 1;
    assert_int_equal(pwrite(fd, &byte, 1, 600), 1);
    close(fd);
    struct sn_optim osgd;
    struct sn_optim_cfg sgd = sn_optim_defaults(SN_OPT_SGD);
    assert_int_equal(sn_optim_init(&osgd, &sgd, b->n_params), SN_OK);
    assert_int_equal(sn_ckpt_load(p, b, &osgd, &back), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "optimizer adam"));
    sn_optim_deinit(&osgd);
    /* a checkpoint of another model is refused */
    struct sn_model *c = build(cfg_b, 1, &net);
    assert_int_equal(sn_ckpt_load(p, c, &ob, &back), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "another model"));
    sn_model_destroy(c);
    sn_optim_deinit(&oa);
    sn_optim_deinit(&ob);
    sn_model_destroy(a);
    sn_model_destroy(b);
}

/* The reducer's arrays travel with a checkpoint: names, every rank's
 * piece lengths and the values come back as written; a checkpoint without
 * them loads with none; a piece longer than the model's parameters is
 * refused as damaged (a file cannot size the load's allocation). */
static void test_ckpt_reducer_arrays(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net);
    struct sn_optim o;
    assert_int_equal(sn_optim_init(&o, &net.optim, a->n_params), SN_OK);
    struct sn_metrics hist[1];
    struct sn_train_state st = { .epoch = 1, .global_step = 5, .world_size = 3, .global_batch = 6,
                                 .seed = 1, .cap_metrics = 1, .history = hist };
    float res[7] = { 1, -2, 0.5f, 3, 0, 0.25f, -1e-9f }, mean[2] = { 4, 5 };
    int64_t rc3[3] = { 3, 0, 4 }, mc3[3] = { 1, 1, 0 };
    st.extra.n = 2;
    st.extra.a[0] = (struct sn_ckpt_array){ .name = "residual", .data = res, .len = 7,
                                            .counts = rc3, .n_counts = 3 };
    st.extra.a[1] = (struct sn_ckpt_array){ .name = "residual_mean", .data = mean, .len = 2,
                                            .counts = mc3, .n_counts = 3 };
    const char *p = sn_test_path("extra.h5");
    assert_int_equal(sn_ckpt_save(p, a, &o, &st, cfg_a), SN_OK);
    struct sn_metrics back_hist[1];
    struct sn_train_state back = { .cap_metrics = 1, .history = back_hist };
    assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_OK);
    assert_int_equal(back.extra.n, 2);
    assert_string_equal(back.extra.a[0].name, "residual");
    assert_int_equal(back.extra.a[0].len, 7);
    assert_int_equal(back.extra.a[0].n_counts, 3);
    assert_memory_equal(back.extra.a[0].data, res, sizeof res);
    assert_memory_equal(back.extra.a[0].counts, rc3, sizeof rc3);
    assert_string_equal(back.extra.a[1].name, "residual_mean");
    assert_memory_equal(back.extra.a[1].data, mean, sizeof mean);
    sn_ckpt_extra_free(&back.extra);
    assert_int_equal(back.extra.n, 0);
    st.extra.n = 0;
    assert_int_equal(sn_ckpt_save(p, a, &o, &st, cfg_a), SN_OK);
    assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_OK);
    assert_int_equal(back.extra.n, 0);
    const size_t big = a->n_params + 1;
    float *huge = calloc(big, sizeof *huge);
    int64_t hc[3] = { (int64_t)big, 0, 0 };
    st.extra.n = 1;
    st.extra.a[0] = (struct sn_ckpt_array){ .name = "residual", .data = huge, .len = big,
                                            .counts = hc, .n_counts = 3 };
    assert_int_equal(sn_ckpt_save(p, a, &o, &st, cfg_a), SN_OK);
    assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_EDAMAGED);
    assert_non_null(strstr(sn_errmsg(), "/reducer/residual/counts holds a bad count"));
    assert_int_equal(back.extra.n, 0);
    free(huge);
    sn_optim_deinit(&o);
    sn_model_destroy(a);
}

/* Flip one bit of the first occurrence of the 4 bytes of v in the file. */
static void corrupt_value(const char *path, float v)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    unsigned char *b = malloc((size_t)n);
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    long at = -1;
    for (long i = 0; i + 4 <= n && at < 0; i++)
        if (memcmp(b + i, &v, 4) == 0)
            at = i;
    assert_true(at >= 0);
    b[at + 1] ^= 0x10;
    fseek(f, 0, SEEK_SET);
    fwrite(b, 1, (size_t)n, f);
    fclose(f);
    free(b);
}

/* Seal path again after an edit (sn_h5_write_atomic's seal: "SNSEAL1\0",
 * the file's length and FNV-1a of every byte after the 512-byte block), as
 * a crafted file would be. */
static void reseal(const char *path)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    uint64_t n = (uint64_t)ftell(f), h = 0xcbf29ce484222325ULL;
    fseek(f, 512, SEEK_SET);
    for (int c; (c = fgetc(f)) != EOF;)
        h = (h ^ (uint64_t)c) * 0x100000001b3ULL;
    unsigned char head[24] = "SNSEAL1";
    memcpy(head + 8, &n, 8);   /* little-endian, as the seal is written here */
    memcpy(head + 16, &h, 8);
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fwrite(head, 1, sizeof head, f), sizeof head);
    fclose(f);
}

/* A reducer array written by a run of another rank count cannot be used:
 * the load keeps its counts but not its values (data NULL), and still
 * checks them against the checksum, reading the file block by block; one
 * counts entry per rank of the writing run, or the file is damaged. */
static void test_ckpt_reducer_arrays_other_ranks(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net);
    struct sn_optim o;
    assert_int_equal(sn_optim_init(&o, &net.optim, a->n_params), SN_OK);
    struct sn_metrics hist[1];
    struct sn_train_state st = { .epoch = 1, .global_step = 5, .world_size = 2, .global_batch = 6,
                                 .seed = 1, .cap_metrics = 1, .history = hist };
    float res[5] = { 1.5f, -2, 0.5f, 3, 7.25f };
    int64_t c2[2] = { 3, 2 };
    st.extra.n = 1;
    st.extra.a[0] = (struct sn_ckpt_array){ .name = "residual", .data = res, .len = 5,
                                            .counts = c2, .n_counts = 2 };
    const char *p = sn_test_path("extra2.h5");
    assert_int_equal(sn_ckpt_save(p, a, &o, &st, cfg_a), SN_OK);
    struct sn_metrics back_hist[1];
    struct sn_train_state back = { .cap_metrics = 1, .history = back_hist, .extra_pieces = 1 };
    assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_OK);
    assert_int_equal(back.extra.n, 1);
    assert_int_equal(back.extra.a[0].len, 5);
    assert_int_equal(back.extra.a[0].n_counts, 2);
    assert_null(back.extra.a[0].data);
    sn_ckpt_extra_free(&back.extra);
    back.extra_pieces = 2;
    assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_OK);
    assert_memory_equal(back.extra.a[0].data, res, sizeof res);
    sn_ckpt_extra_free(&back.extra);
    corrupt_value(p, 7.25f);   /* a value the load with 1 rank does not keep */
    reseal(p);                 /* so the checksum, not the seal, finds it */
    back.extra_pieces = 1;
    assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_EDAMAGED);
    assert_non_null(strstr(sn_errmsg(), "do not match the checksum"));
    assert_int_equal(back.extra.n, 0);
    st.extra.a[0].n_counts = 1;   /* counts for 1 rank in a file of 2 */
    st.extra.a[0].counts[0] = 5;
    assert_int_equal(sn_ckpt_save(p, a, &o, &st, cfg_a), SN_OK);
    assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_EDAMAGED);
    assert_non_null(strstr(sn_errmsg(), "one count per rank of the run that wrote it (/state/world_size 2)"));
    sn_optim_deinit(&o);
    sn_model_destroy(a);
}

/* A bit flipped in a parameter, in an optimizer state, or a truncated file
 * is reported as damaged (SN_EDAMAGED), not loaded. */
static void test_ckpt_detects_damage(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net);
    struct sn_optim o;
    assert_int_equal(sn_optim_init(&o, &net.optim, a->n_params), SN_OK);
    a->params[3] = 1234.5678f;
    o.state[1][7] = 8765.4321f;
    struct sn_metrics hist[1] = { { 1, 2, 3, 4, 5, 6, 7, 8 } };
    struct sn_train_state st = { .epoch = 1, .global_step = 5, .world_size = 1, .global_batch = 4,
                                 .seed = 1, .n_metrics = 1, .cap_metrics = 1, .history = hist };
    const char *p = sn_test_path("dmg.h5");
    struct sn_metrics back_hist[1];
    struct sn_train_state back = { .cap_metrics = 1, .history = back_hist };
    float values[2] = { 1234.5678f, 8765.4321f };
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sn_ckpt_save(p, a, &o, &st, cfg_a), SN_OK);
        assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_OK);
        corrupt_value(p, values[k]);
        assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_EDAMAGED);
        assert_non_null(strstr(sn_errmsg(), "do not match the seal"));
        struct sn_h5 *h;
        assert_int_equal(sn_weights_open(p, &h), SN_EDAMAGED);
        a->params[3] = 1234.5678f;
        o.state[1][7] = 8765.4321f;
    }
    assert_int_equal(sn_ckpt_save(p, a, &o, &st, cfg_a), SN_OK);
    assert_int_equal(truncate(p, 3000), 0);
    assert_int_equal(sn_ckpt_load(p, a, &o, &back), SN_EDAMAGED);
    assert_non_null(strstr(sn_errmsg(), "truncated"));
    sn_optim_deinit(&o);
    sn_model_destroy(a);
}

/* A failed write leaves the previous file untouched. */
static void test_ckpt_failed_write_keeps_old(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net);
    const char *p = sn_test_path("keep.h5");
    assert_int_equal(sn_weights_save(p, a, cfg_a), SN_OK);
    char *before = sn_test_slurp(p);
    assert_non_null(before);
    /* the folder of the target does not exist: the write fails */
    assert_int_not_equal(sn_weights_save(sn_test_path("no/such/dir/x.h5"), a, cfg_a), SN_OK);
    char *after = sn_test_slurp(p);
    assert_string_equal(before, after);
    free(before);
    free(after);
    sn_model_destroy(a);
}

/* Weights that are not finite are never written (the old file stays);
 * an optimizer's state that is (or a negative sum of squares) is refused
 * where the checkpoint is read, naming the array: Adam would put NaN into
 * the weights a few steps on. */
static void test_not_finite_never_written_nor_resumed(void **state)
{
    (void)state;
    struct sn_netcfg net;
    struct sn_model *a = build(cfg_a, 1, &net), *b = build(cfg_a, 2, &net);
    const char *p = sn_test_path("finite.h5");
    assert_int_equal(sn_weights_save(p, a, cfg_a), SN_OK);
    char *before = sn_test_slurp(p);
    a->params[5] = NAN;
    assert_int_equal(sn_weights_save(p, a, cfg_a), SN_ENUM);
    assert_non_null(strstr(sn_errmsg(), "/params/dense0/weight hold NaN (element 5): nothing"));
    char *after = sn_test_slurp(p);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_no_tmp_files();
    a->params[5] = 0.5f;
    struct sn_optim oa, ob;
    assert_int_equal(sn_optim_init(&oa, &net.optim, a->n_params), SN_OK);
    assert_int_equal(sn_optim_init(&ob, &net.optim, b->n_params), SN_OK);
    struct sn_train_state st = { .global_step = 3, .world_size = 1, .global_batch = 8 };
    struct sn_train_state back = { 0 };
    const char *names[2][2] = { { "exp_avg", "NaN (element 7)" },
                                { "exp_avg_sq", "-1 (element 7)" } };
    for (int k = 0; k < 2; k++) {
        oa.state[k][7] = k == 0 ? NAN : -1.0f;
        assert_int_equal(sn_ckpt_save(p, a, &oa, &st, cfg_a), SN_OK);
        assert_int_equal(sn_ckpt_load(p, b, &ob, &back), SN_EINVAL);
        char want[128];
        snprintf(want, sizeof want, "/optimizer/dense0/weight/%s holds %s", names[k][0],
                 names[k][1]);
        assert_non_null(strstr(sn_errmsg(), want));
        oa.state[k][7] = 0.0f;
    }
    assert_int_equal(sn_ckpt_save(p, a, &oa, &st, cfg_a), SN_OK);
    assert_int_equal(sn_ckpt_load(p, b, &ob, &back), SN_OK);
    sn_optim_deinit(&oa);
    sn_optim_deinit(&ob);
    sn_model_destroy(a);
    sn_model_destroy(b);
}

/* Two preparations compare by their values and runs: one value and three
 * equal ones are the same, runs that differ are not, and a run read from
 * a file as 10^15 elements compares at once (it was walked element by
 * element, for hours, deaf to SIGTERM). */
static void test_data_meta_same_prep(void **state)
{
    (void)state;
    double m1[1] = { 0.5 }, s1[1] = { 0.25 };
    double m3[3] = { 0.5, 0.5, 0.5 }, s3[3] = { 0.25, 0.25, 0.25 };
    double m3b[3] = { 0.1, 0.2, 0.3 }, s3b[3] = { 1, 1, 1 };
    struct sn_data_meta one = { .scale = 1, .n_norm = 1, .mean = m1, .std = s1, .norm_block = 64 };
    struct sn_data_meta three = { .scale = 1, .n_norm = 3, .mean = m3, .std = s3, .norm_block = 1 };
    struct sn_data_meta a = { .scale = 1, .n_norm = 3, .mean = m3b, .std = s3b, .norm_block = 64 };
    struct sn_data_meta b = a, none = { .scale = 1 };
    assert_true(sn_data_meta_same_prep(&one, &three));
    assert_true(sn_data_meta_same_prep(&a, &b));
    b.norm_block = 1;   /* per feature against per channel */
    assert_false(sn_data_meta_same_prep(&a, &b));
    b.norm_block = 1000000000000000;
    const double t0 = sn_clock_s();
    assert_false(sn_data_meta_same_prep(&a, &b));
    assert_true(sn_clock_s() - t0 < 1.0);
    double m0[1] = { 0 }, s0[1] = { 1 };
    struct sn_data_meta unit = { .scale = 1, .n_norm = 1, .mean = m0, .std = s0 };
    assert_true(sn_data_meta_same_prep(&none, &unit));
    assert_false(sn_data_meta_same_prep(&none, &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_round_trip),
        cmocka_unit_test(test_data_meta_same_prep),
        cmocka_unit_test(test_not_finite_never_written_nor_resumed),
        cmocka_unit_test(test_weights_refuses_other_model),
        cmocka_unit_test(test_weights_unread_named),
        cmocka_unit_test(test_weights_save_replaces_only_weights),
        cmocka_unit_test(test_ckpt_round_trip),
        cmocka_unit_test(test_ckpt_reducer_arrays),
        cmocka_unit_test(test_ckpt_reducer_arrays_other_ranks),
        cmocka_unit_test(test_ckpt_failed_write_keeps_old),
        cmocka_unit_test(test_ckpt_detects_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
