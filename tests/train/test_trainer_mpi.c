/* test_trainer_mpi: the trainer in-process, run as 1, 2 and 3 ranks by
 * tests/run.sh: every reduction strategy gives the blocking allreduce's
 * bits, replicas stay identical, --steps bounds the run, a stop request
 * or one rank's read failure reaches every rank through the step's own
 * reduction, a stopped run resumes bit for bit (also reading the data
 * from the file, a batch ahead), and --resume auto passes
 * over damaged checkpoints and refuses a foreign one, or one whose position
 * does not fit the run, on every rank alike.
 *
 * Each rank writes its own copy of the data into its own temporary folder;
 * rank 0 alone writes and reads checkpoints, in its own folder. */
#include "testutil.h"

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/status.h"
#include "dist/dist.h"
#include "io/dataset.h"
#include "io/ckpt.h"
#include "io/fingerprint.h"
#include "io/h5.h"
#include "io/modelfile.h"
#include "train/ckptdir.h"
#include "train/trainer.h"

/* 480 rows, batch 24: 20 steps an epoch.  Batchnorm (buffers averaged
 * every step; after the relu, so that no parameter has a gradient of pure
 * rounding noise, as a bias before batchnorm would), Adam (two states),
 * two dense layers (several buckets). */
static const char cfg[] =
    "[net]\ninput = 8\nbatch = 24\nepochs = 2\noptimizer = adam\nlr = 0.01\nseed = 5\n"
    "[dense]\nunits = 16\nactivation = relu\n[batchnorm]\n[dense]\nunits = 3\n";

static const char other_cfg[] =
    "[net]\ninput = 8\nbatch = 24\nepochs = 2\noptimizer = adam\nlr = 0.01\nseed = 5\n"
    "[dense]\nunits = 7\nactivation = relu\n[dense]\nunits = 3\n";

static char data_path[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(data_path, sizeof data_path, "%s", sn_test_path("blobs.h5"));
    sn_test_write_blobs(data_path, (struct sn_test_blobs){ 0 });
    return 0;
}

/* The warnings the trainer gives, one after another. */
static char warnings[4096];

static void on_warn(void *ctx, const char *msg)
{
    (void)ctx;
    strncat(warnings, msg, sizeof warnings - strlen(warnings) - 2);
    strcat(warnings, "\n");
}

static const struct sn_train_observer observer = { .warn = on_warn };

/* Options of a plain run: blocking allreduce unless changed. */
static struct sn_train_opts plain(void)
{
    struct sn_train_opts o;
    sn_train_opts_defaults(&o);
    o.allreduce = SN_ALLREDUCE_MPI;
    o.overlap = false;
    o.observer = &observer;
    return o;
}

/* Steps until the run is over or stop_at (0: never) is reached; rank
 * stop_rank asks to stop before step stop_at.  Returns the last status. */
static int run(struct sn_trainer *t, int64_t stop_at, int stop_rank, struct sn_step_info *last)
{
    struct sn_epoch_info e;
    int rc = SN_OK;
    memset(last, 0, sizeof *last);
    while (!rc && !sn_trainer_done(t) && !last->stop) {
        if (stop_at && sn_trainer_state(t)->global_step + 1 == stop_at &&
            sn_dist_rank() == stop_rank)
            sn_trainer_request_stop(t, 15);
        rc = sn_trainer_step(t, last);
        if (!rc && last->epoch_done && !last->stop)
            rc = sn_trainer_end_epoch(t, &e);
    }
    return rc ? rc : sn_trainer_finish(t);
}

/* A trained model's parameters (malloc'd copy) after a run with o. */
static float *train_params(const struct sn_train_opts *o, const char *text, size_t *n)
{
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_step_info last;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(text, "t.cfg", ds, o, &s, &t), SN_OK);
    assert_int_equal(run(t, 0, 0, &last), SN_OK);
    const struct sn_model *m = sn_trainer_model(t);
    *n = m->n_params;
    float *p = malloc(*n * sizeof *p);
    memcpy(p, m->params, *n * sizeof *p);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
    return p;
}

/* Every rank holds rank 0's bits. */
static void assert_replicas_equal(const float *p, size_t n)
{
    float *root = malloc(n * sizeof *root);
    memcpy(root, p, n * sizeof *root);
    assert_int_equal(sn_dist_bcast(root, n * sizeof *root, 0), SN_OK);
    assert_memory_equal(p, root, n * sizeof *root);
    free(root);
}

/* Buckets (several, overlapped with backward) and the shared window end
 * where one blocking allreduce does, bit for bit, and every replica holds
 * the same bits.  So does the sharded optimizer at 1 and 2 ranks; at 3,
 * MPI_Reduce_scatter adds the three ranks' gradients in another order than
 * MPI_Allreduce, so there it ends within float rounding, grown by 40
 * steps of Adam (3e-5 relative seen; 1e-4 asserted). */
static void test_trainer_strategies_same_bits(void **state)
{
    (void)state;
    struct sn_train_opts o = plain();
    size_t n, n2;
    float *ref = train_params(&o, cfg, &n);
    assert_replicas_equal(ref, n);
    struct sn_train_opts variants[3] = { plain(), plain(), plain() };
    variants[0].overlap = true;
    variants[0].bucket_mb = 64 * 4 / 1048576.0;   /* 64 floats: a bucket per parameter */
    variants[1].allreduce = SN_ALLREDUCE_AUTO;     /* the window, when P > 1 */
    variants[2].shard_optimizer = true;
    for (int v = 0; v < 3; v++) {
        float *p = train_params(&variants[v], cfg, &n2);
        assert_int_equal(n2, n);
        if (v == 2 && sn_dist_size() > 2)
            assert_close_arrays(p, ref, n, 1e-5, 1e-4);
        else
            assert_memory_equal(p, ref, n * sizeof *p);
        assert_replicas_equal(p, n);
        free(p);
    }
    free(ref);
}

/* --steps alone runs as many epochs as it takes; with --epochs the first
 * bound ends the run, and the plan says which. */
static void test_trainer_steps_bound(void **state)
{
    (void)state;
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_step_info last;
    struct sn_train_plan p;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    const int64_t steps[3] = { 50, 30, 40 };
    const int epochs[3] = { -1, 1, 2 };       /* the model file says 2 (40 steps) */
    const int64_t want[3] = { 50, 20, 40 };
    for (int k = 0; k < 3; k++) {
        struct sn_train_opts o = plain();
        o.steps = steps[k];
        o.epochs = epochs[k];
        assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
        sn_trainer_plan(t, &p);
        assert_int_equal(p.end_step, want[k]);
        assert_int_equal(p.bound_by_steps, k != 1);
        assert_int_equal(p.bound_by_epochs, k != 0);
        assert_int_equal(run(t, 0, 0, &last), SN_OK);
        assert_int_equal(sn_trainer_state(t)->global_step, want[k]);
        assert_true(last.finished);
        sn_trainer_destroy(t);
    }
    sn_dataset_close(ds);
}

/* A library caller's mistakes get an error naming them, on every rank
 * alike (hostile round 70: NULL arguments crashed, out-of-range options
 * trained, steps past the run's end trained on and wrote checkpoints). */
static void test_trainer_misuse_named(void **state)
{
    (void)state;
    struct sn_dataset *ds;
    struct sn_trainer *t = NULL;
    struct sn_train_start s;
    struct sn_step_info info;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    struct sn_train_opts o = plain();
    assert_int_equal(sn_trainer_create(NULL, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "sn_trainer_create: model_text is NULL"));
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", NULL, &o, &s, &t), SN_EUSAGE);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, NULL, &s, &t), SN_EUSAGE);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, NULL, &t), SN_EUSAGE);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, NULL), SN_EUSAGE);
    static const struct { const char *field; int kind; double v; } bad[] = {
        { "accumulate", 0, 0 }, { "steps", 1, -5 }, { "lr", 2, NAN }, { "eval_every", 3, 0 },
        { "keep", 4, -3 }, { "bucket_mb", 5, -1 }, { "cache_mb", 6, NAN }, { "batch", 7, -4 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = plain();
        switch (bad[i].kind) {
        case 0: o.accumulate = (int)bad[i].v; break;
        case 1: o.steps = (int64_t)bad[i].v; break;
        case 2: o.lr = bad[i].v; break;
        case 3: o.eval_every = (int)bad[i].v; break;
        case 4: o.keep = (int64_t)bad[i].v; break;
        case 5: o.bucket_mb = bad[i].v; break;
        case 6: o.cache_mb = bad[i].v; break;
        default: o.batch = (int)bad[i].v; break;
        }
        char want[64];
        snprintf(want, sizeof want, "sn_train_opts.%s is ", bad[i].field);
        assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
        if (!strstr(sn_errmsg(), want))
            fail_msg("%s: %s", bad[i].field, sn_errmsg());
        assert_null(t);
    }
    o = plain();
    o.resume = "auto";
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "resume \"auto\" needs a ckpt_dir"));
    /* ranks given different options: refused on every rank, the rank named
     * (they waited in a collective for good, or trained two models) */
    if (sn_dist_size() > 1) {
        o = plain();
        o.epochs = sn_dist_rank() == 1 ? 3 : 2;
        assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
        assert_non_null(strstr(sn_errmsg(), "sn_trainer_create on rank 1: its model text, "
                                            "options or training rows differ from rank 0's"));
    }
    /* a step past the run's end */
    o = plain();
    o.steps = 2;
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(run(t, 0, 0, &info), SN_OK);
    assert_int_equal(sn_trainer_step(t, &info), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "the run is done (step 2 of 2)"));
    struct sn_epoch_info e;   /* run() ended its epoch: no second end */
    assert_int_equal(sn_trainer_end_epoch(t, &e), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "no epoch has ended since the last call"));
    assert_int_equal(sn_trainer_state(t)->global_step, 2);
    assert_int_equal(sn_trainer_step(t, NULL), SN_EUSAGE);
    assert_int_equal(sn_trainer_step(NULL, &info), SN_EUSAGE);
    assert_int_equal(sn_trainer_save(t, NULL), SN_EUSAGE);
    /* one rank's bad path: every rank the same status, no crossed messages
     * (round 72 F8: MPI_ERR_TRUNCATE on the others, the file written) */
    char good[1100];
    snprintf(good, sizeof good, "%s/misuse_good.h5", sn_test_tmpdir());
    const int last = sn_dist_size() - 1;
    assert_int_equal(sn_trainer_save(t, sn_dist_rank() == last ? "" : good), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "sn_trainer_save: the path is empty"));
    if (sn_dist_rank() == 0)
        assert_int_equal(access(good, F_OK), -1);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
}

/* sn_trainer_save replaces weights, or nothing: the dataset being trained
 * on, a text file (a model file) are refused and left as they were (the
 * library replaced them; the command checks its outputs itself). */
static void test_trainer_save_checks_output(void **state)
{
    (void)state;
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_step_info last;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    struct sn_train_opts o = plain();
    o.steps = 2;
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(run(t, 0, 0, &last), SN_OK);
    char *before = sn_test_slurp(data_path);
    assert_int_equal(sn_trainer_save(t, data_path), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "holds a dataset, which the weights would replace"));
    char *after = sn_test_slurp(data_path);
    assert_true(before && after && memcmp(before, after, 64) == 0);
    free(before);
    free(after);
    char notes[1100];
    snprintf(notes, sizeof notes, "%s", sn_test_path("notes.cfg"));
    FILE *f = fopen(notes, "w");
    assert_non_null(f);
    fputs(cfg, f);
    fclose(f);
    assert_int_equal(sn_trainer_save(t, notes), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "holds no HDF5 (a model file, text, another format)"));
    char *kept = sn_test_slurp(notes);
    assert_string_equal(kept, cfg);
    free(kept);
    char w[1100];
    snprintf(w, sizeof w, "%s", sn_test_path("saved.h5"));
    assert_int_equal(sn_trainer_save(t, w), SN_OK);
    assert_int_equal(sn_trainer_save(t, w), SN_OK);   /* weights replace weights */
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
}

/* A stop asked on the last rank before step 7 ends that step on every
 * rank (told whose request it was), the run's checkpoint holds the
 * position after it, and resuming from it ends where an uninterrupted run
 * ends, bit for bit. */
static void test_trainer_stop_and_resume(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/stop", sn_test_tmpdir());
    struct sn_train_opts o = plain();
    o.overlap = true;
    o.ckpt_dir = dir;
    size_t n;
    float *ref = train_params(&o, cfg, &n);
    assert_int_equal(sn_dist_barrier(), SN_OK);
    if (sn_dist_rank() == 0)
        assert_int_equal(sn_test_run("rm -rf %s", dir), 0);
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_step_info last;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(run(t, 7, P - 1, &last), SN_OK);
    assert_int_equal(last.global_step, 7);
    assert_int_equal(last.stop, sn_dist_rank() == P - 1 ? 15 : -1);
    sn_trainer_destroy(t);
    sn_interrupt_clear();   /* the request is the process's: forget it to go on */
    if (sn_dist_rank() == 0)
        assert_int_equal(access(sn_test_path("stop/ckpt-00000007.h5"), R_OK), 0);
    o.resume = "auto";
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(sn_trainer_state(t)->global_step, 7);
    if (sn_dist_rank() == 0)
        assert_non_null(strstr(s.resumed_from, "ckpt-00000007.h5"));
    assert_int_equal(run(t, 0, 0, &last), SN_OK);
    assert_memory_equal(sn_trainer_model(t)->params, ref, n * sizeof *ref);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
    free(ref);
}

/* A stop's checkpoint skipped at a name nothing can free (an immutable
 * file there; a mount point alike) is not the run's last checkpoint on
 * any rank: the stop line said "checkpoint written" of it. */
static void test_trainer_stop_checkpoint_skipped(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/skipstop", sn_test_tmpdir());
    struct sn_train_opts o = plain();
    o.ckpt_dir = dir;
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_step_info last;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    int planted = 0;
    if (sn_dist_rank() == 0)
        planted = sn_test_run("echo x > %s/ckpt-00000003.h5 && chattr +i %s/ckpt-00000003.h5",
                              dir, dir) == 0;
    assert_int_equal(sn_dist_bcast(&planted, sizeof planted, 0), SN_OK);
    if (!planted) {   /* no chattr +i on this file system */
        sn_trainer_destroy(t);
        sn_dataset_close(ds);
        skip();
    }
    warnings[0] = '\0';
    assert_int_equal(run(t, 3, 0, &last), SN_OK);
    assert_int_equal(last.global_step, 3);
    assert_int_equal(sn_trainer_checkpoint_step(t), -1);
    if (sn_dist_rank() == 0) {
        assert_int_equal(sn_test_run("chattr -i %s/ckpt-00000003.h5", dir), 0);
        assert_non_null(strstr(warnings, "this step's checkpoint is skipped"));
    }
    sn_trainer_destroy(t);
    sn_interrupt_clear();
    sn_dataset_close(ds);
}

/* Reading from the file (no cache), the last rank's reads start failing
 * after the trainer began (its dataset handle is swapped for a file with
 * no /train: the rows it needs are gone): every rank's step fails with
 * that rank's error, named, instead of the others waiting in the
 * reduction, and the step counts nothing.  Step 2's rows were read ahead
 * during step 1, before the swap: the first read to fail is step 3's. */
static void test_trainer_read_failure_agreed(void **state)
{
    (void)state;
    const int P = sn_dist_size(), me = sn_dist_rank();
    struct sn_train_opts o = plain();
    o.cache_mb = 0;
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_step_info last;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(sn_trainer_step(t, &last), SN_OK);
    struct sn_h5 *good = ds->f, *empty = NULL;
    if (me == P - 1) {
        assert_int_equal(sn_h5_create(sn_test_path("empty.h5"), &empty), SN_OK);
        ds->f = empty;
    }
    assert_int_equal(sn_trainer_step(t, &last), SN_OK);
    int rc = sn_trainer_step(t, &last);
    assert_int_equal(rc, SN_EINVAL);
    char want[64];   /* the failing rank, with its host: "rank 2 (host h): step 3: " */
    snprintf(want, sizeof want, "rank %d (host ", P - 1);
    assert_non_null(strstr(sn_errmsg(), P > 1 ? want : "step 3: "));
    assert_non_null(strstr(sn_errmsg(), P > 1 ? "): step 3: " : "step 3: "));
    assert_non_null(strstr(sn_errmsg(), "/train/x"));
    assert_int_equal(sn_trainer_state(t)->global_step, 2);
    if (empty) {
        ds->f = good;
        sn_h5_close(empty);
    }
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
}

/* Read from the file with the next batch read ahead on a thread (cache
 * 0): the same bits as from memory; stopped after step 7 and resumed,
 * the same bits again (the reader starts from the resumed position). */
static void test_trainer_streamed_same_bits(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/streamed", sn_test_tmpdir());
    struct sn_train_opts o = plain();
    o.overlap = true;
    size_t n;
    float *ref = train_params(&o, cfg, &n);
    o.cache_mb = 0;
    float *p = train_params(&o, cfg, &n);
    assert_memory_equal(p, ref, n * sizeof *ref);
    free(p);
    o.ckpt_dir = dir;
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_step_info last;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(run(t, 7, 0, &last), SN_OK);
    sn_trainer_destroy(t);
    sn_interrupt_clear();   /* the request is the process's: forget it to go on */
    o.resume = "auto";
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(sn_trainer_state(t)->global_step, 7);
    assert_int_equal(run(t, 0, 0, &last), SN_OK);
    assert_memory_equal(sn_trainer_model(t)->params, ref, n * sizeof *ref);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
    free(ref);
}

/* Make rank 0's checkpoint folder dir hold checkpoints at steps 5, 10,
 * 15 ... 40 of a plain run. */
static void make_checkpoints(const char *dir)
{
    struct sn_train_opts o = plain();
    o.ckpt_dir = dir;
    o.ckpt_every = 5;
    size_t n;
    free(train_params(&o, cfg, &n));
    assert_int_equal(sn_dist_barrier(), SN_OK);
}

/* --resume auto: the newest checkpoint that is not damaged, with a warning
 * for each one passed over; names not in the trainer's exact form are
 * not checkpoints. */
static void test_trainer_resume_auto_damaged(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/damaged", sn_test_tmpdir());
    make_checkpoints(dir);
    if (sn_dist_rank() == 0) {   /* 40 cut short, 35 with a byte changed; strays */
        assert_int_equal(sn_test_run("cd %s && truncate -s 3000 ckpt-00000040.h5 && "
                                     "printf 'X' | dd of=ckpt-00000035.h5 bs=1 seek=6000 "
                                     "conv=notrunc 2>/dev/null && echo x > ckpt-99.h5 && "
                                     "echo x > ckpt-+0000050.h5 && echo x > ckpt-00000060.h5.tmp",
                                     dir), 0);
    }
    struct sn_train_opts o = plain();
    o.ckpt_dir = dir;
    o.resume = "auto";
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    warnings[0] = '\0';
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(sn_trainer_state(t)->global_step, 30);
    if (sn_dist_rank() == 0) {
        assert_non_null(strstr(s.resumed_from, "ckpt-00000030.h5"));
        assert_non_null(strstr(warnings, "ckpt-00000040.h5"));
        assert_non_null(strstr(warnings, "ckpt-00000035.h5"));
        assert_null(strstr(warnings, "ckpt-99"));
    }
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
}

/* cfg's model initialised from seed, and its optimizer, for writing
 * checkpoints by hand. */
static struct sn_model *hand_model(uint64_t seed, struct sn_optim *o)
{
    struct sn_netcfg net;
    struct sn_model *m;
    struct sn_rng r;
    sn_rng_seed(&r, seed, 1);
    assert_int_equal(sn_modelfile_parse(cfg, "t.cfg", &net, &m), SN_OK);
    assert_int_equal(sn_model_build(m, 12, &r), SN_OK);
    assert_int_equal(sn_optim_init(o, &net.optim, m->n_params), SN_OK);
    return m;
}

/* A checkpoint that is sealed and reads as a whole, with parameters of
 * their own (another seed's), but whose /state is damaged (a world size
 * of 0): its parameters are loaded before the damage shows. */
static void write_bad_state(const char *path)
{
    struct sn_optim o;
    struct sn_model *m = hand_model(1234, &o);
    struct sn_metrics rows[1];
    struct sn_train_state st = { .epoch = 2, .global_step = 45, .world_size = 0,
                                 .global_batch = 24, .seed = 5, .cap_metrics = 1,
                                 .history = rows };
    assert_int_equal(sn_ckpt_save(path, m, &o, &st, cfg), SN_OK);
    sn_optim_deinit(&o);
    sn_model_destroy(m);
}

/* Every checkpoint of the folder damaged: --resume auto warns about each
 * and refuses, on every rank, instead of starting fresh over them: the
 * files are left as they were and no lock file is left behind. */
static void test_trainer_resume_auto_all_damaged(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/alldamaged", sn_test_tmpdir());
    make_checkpoints(dir);
    if (sn_dist_rank() == 0)   /* one byte changed near the end of each */
        assert_int_equal(sn_test_run("cd %s && for f in ckpt-*.h5; do s=$(stat -c %%s $f); "
                                     "printf 'X' | dd of=$f bs=1 seek=$((s - 200)) conv=notrunc "
                                     "2>/dev/null; done", dir), 0);
    if (sn_dist_rank() == 0) {
        char bad[1200];
        snprintf(bad, sizeof bad, "%s/ckpt-00000045.h5", dir);
        write_bad_state(bad);
        assert_int_equal(sn_test_run("cd %s && rm -f .lock && md5sum ckpt-*.h5 > ../alldamaged.md5",
                                     dir), 0);
    }
    struct sn_train_opts o = plain();
    o.ckpt_dir = dir;
    o.resume = "auto";
    warnings[0] = '\0';
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EINVAL);
    assert_null(t);
    if (sn_dist_rank() == 0) {
        assert_non_null(strstr(warnings, "ckpt-00000045.h5"));
        assert_non_null(strstr(warnings, "ckpt-00000005.h5"));
        assert_non_null(strstr(sn_errmsg(), "none of the 9 checkpoints in"));
        assert_int_equal(sn_test_run("cd %s && md5sum -c --quiet ../alldamaged.md5 && "
                                     "[ ! -e .lock ] && [ $(ls -A | wc -l) = 9 ]", dir), 0);
    }
    sn_dataset_close(ds);
}

/* Rank 0: the checkpoint at from, its position counters set to epoch,
 * step_in_epoch and global_step, saved (and sealed) at to, as anyone can. */
static void write_position(const char *from, const char *to, int64_t epoch, int64_t in_epoch,
                           int64_t global)
{
    struct sn_optim o;
    struct sn_model *m = hand_model(1, &o);
    struct sn_metrics rows[8];
    struct sn_train_state st = { .cap_metrics = 8, .history = rows };
    assert_int_equal(sn_ckpt_load(from, m, &o, &st), SN_OK);
    assert_true(st.record.n > 0);   /* the data's fingerprint: the counters must agree */
    st.epoch = epoch;
    st.step_in_epoch = in_epoch;
    st.global_step = global;
    assert_int_equal(sn_ckpt_save(to, m, &o, &st, cfg), SN_OK);
    sn_ckpt_extra_free(&st.extra);
    sn_optim_deinit(&o);
    sn_model_destroy(m);
}

/* A resumed checkpoint's position must fit this run's 20-step epochs: a
 * step in the epoch past its end (it would index past the epoch's
 * permutation) and counters that disagree with the same data are refused
 * on every rank, naming the counter, its value and the limit. */
static void test_trainer_resume_position_checked(void **state)
{
    (void)state;
    static const struct {
        int64_t epoch, in_epoch, global;
        const char *msg;
    } cases[] = {
        { 1, 20, 40, "/state/step_in_epoch is 20, but this run's epochs have 20 steps (480 "
                     "training rows, global batch 24): it must be below that" },
        { 1, 5, 26, "/state/global_step is 26, but /state/epoch 1 and /state/step_in_epoch 5 "
                    "of this data's 20-step epochs make 25" },
        { 30, 0, 25, "/state/epoch 30 and /state/step_in_epoch 0 exceed /state/global_step 25" },
        { INT64_MAX / 2, 3, INT64_MAX, "of this data's 20-step epochs make more than 2^64" },
    };
    char dir[1100], from[1200], to[1200];
    snprintf(dir, sizeof dir, "%s/position", sn_test_tmpdir());
    make_checkpoints(dir);
    snprintf(from, sizeof from, "%s/ckpt-00000025.h5", dir);
    snprintf(to, sizeof to, "%s/forged.h5", sn_test_tmpdir());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (sn_dist_rank() == 0)
            write_position(from, to, cases[i].epoch, cases[i].in_epoch, cases[i].global);
        assert_int_equal(sn_dist_barrier(), SN_OK);
        struct sn_train_opts o = plain();
        o.resume = to;
        o.epochs = 4;
        struct sn_dataset *ds;
        struct sn_trainer *t;
        struct sn_train_start s;
        assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
        assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EINVAL);
        if (!strstr(sn_errmsg(), cases[i].msg))
            fail_msg("case %zu: '%s' does not hold '%s'", i, sn_errmsg(), cases[i].msg);
        sn_dataset_close(ds);
        assert_int_equal(sn_dist_barrier(), SN_OK);
    }
}

/* A checkpoint continues only its own run: another learning rate, another
 * dataset (one label changed) or a longer cosine schedule are refused on
 * every rank, naming each setting with both values; --resume-override
 * accepts the named ones and says so; seed and unknown keys cannot be
 * overridden. */
static void test_trainer_resume_other_run(void **state)
{
    (void)state;
    char dir[1100], other[1100];
    snprintf(dir, sizeof dir, "%s/otherrun", sn_test_tmpdir());
    snprintf(other, sizeof other, "%s/other_blobs.h5", sn_test_tmpdir());
    sn_test_write_blobs(other, (struct sn_test_blobs){ .set_label5 = true, .label5 = 0 });
    struct sn_train_opts o = plain();
    o.ckpt_dir = dir;
    o.steps = 5;
    size_t n;
    free(train_params(&o, cfg, &n));
    o.steps = 0;
    o.resume = "auto";
    o.lr = 0.02;
    struct sn_dataset *ds, *ds2;
    struct sn_trainer *t = NULL;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_dataset_open(other, &ds2), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "belongs to another run"));
    assert_non_null(strstr(sn_errmsg(), "lr 0.02 (checkpoint: 0.01)"));
    assert_non_null(strstr(sn_errmsg(), "--resume-override lr (a new run, another experiment, "
                                        "takes another --checkpoint-dir)"));
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds2, &o, &s, &t), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "data "));
    assert_non_null(strstr(sn_errmsg(), "--resume-override data,lr"));
    o.resume_override = "lr,data";
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds2, &o, &s, &t), SN_OK);
    if (sn_dist_rank() == 0)
        assert_non_null(strstr(s.overridden, "lr 0.02 (checkpoint: 0.01)"));
    assert_int_equal(sn_trainer_state(t)->global_step, 5);
    sn_trainer_destroy(t);
    o.resume_override = "lr,seed";
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "'seed' is not a setting"));
    o.resume_override = "lrr";
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
    sn_dataset_close(ds2);
    sn_dataset_close(ds);
}

/* --keep K keeps the newest K checkpoints of this run's model: a foreign
 * model's checkpoint and a damaged file, even when newer, are neither
 * counted nor removed (the damaged one is named in a warning). */
static void test_trainer_keep_only_own(void **state)
{
    (void)state;
    char dir[1100], other[1100];
    snprintf(dir, sizeof dir, "%s/keep", sn_test_tmpdir());
    snprintf(other, sizeof other, "%s/keep_other", sn_test_tmpdir());
    make_checkpoints(dir);   /* steps 5 ... 40 */
    struct sn_train_opts o = plain();
    o.ckpt_dir = other;
    o.steps = 3;
    size_t n;
    free(train_params(&o, other_cfg, &n));
    if (sn_dist_rank() == 0) {
        assert_int_equal(sn_test_run("cp %s/ckpt-00000003.h5 %s/ckpt-99999999.h5 && "
                                     "echo junk > %s/ckpt-99999998.h5", other, dir, dir), 0);
        char fp[64];
        sn_model_text_fingerprint(cfg, fp, sizeof fp);
        warnings[0] = '\0';
        /* a run that has just written step 20, beside a run of the same
         * model that went on to 40: only 5 ... 20 are its own to prune */
        const struct sn_ckptdir_owner owner = { fp, NULL, NULL };
        assert_int_equal(sn_ckptdir_prune(dir, 1, &owner, 20, NULL, NULL), 3);
        assert_int_equal(sn_test_run("cd %s && ls ckpt-0* | tr '\\n' ' '", dir), 0);
        char *own = sn_test_slurp(sn_test_path("out.txt"));
        assert_string_equal(own, "ckpt-00000020.h5 ckpt-00000025.h5 ckpt-00000030.h5 "
                                 "ckpt-00000035.h5 ckpt-00000040.h5 ");
        free(own);
        assert_int_equal(sn_ckptdir_prune(dir, 2, &owner, INT64_MAX, on_warn, NULL), 3);
        assert_int_equal(sn_test_run("cd %s && ls ckpt-* | tr '\\n' ' '", dir), 0);
        char *out = sn_test_slurp(sn_test_path("out.txt"));
        assert_string_equal(out, "ckpt-00000035.h5 ckpt-00000040.h5 ckpt-99999998.h5 "
                                 "ckpt-99999999.h5 ");
        free(out);
        assert_non_null(strstr(warnings, "ckpt-99999998.h5"));
        assert_null(strstr(warnings, "ckpt-99999999.h5"));
        /* one it cannot remove (immutable; as root on a file system that
         * has the flag): left, and said at the first save only */
        if (sn_test_run("chattr +i %s/ckpt-00000035.h5", dir) == 0) {
            warnings[0] = '\0';
            const int first = sn_ckptdir_prune(dir, 1, &owner, INT64_MAX, on_warn, NULL);
            const int second = sn_ckptdir_prune(dir, 1, &owner, INT64_MAX, on_warn, NULL);
            assert_int_equal(sn_test_run("chattr -i %s/ckpt-00000035.h5", dir), 0);
            assert_int_equal(first, 0);
            assert_int_equal(second, 0);
            const char *said = strstr(warnings, "ckpt-00000035.h5: it cannot be removed");
            assert_non_null(said);
            assert_null(strstr(said + 1, "ckpt-00000035.h5: it cannot be removed"));
        }
    }
    assert_int_equal(sn_dist_barrier(), SN_OK);
}

/* The options of a plain 3-step run of text with rank 0's checkpoint
 * folder dir (TMP/name), after that run: dir holds its ckpt-00000003.h5. */
static struct sn_train_opts three_steps(const char *text, const char *name, char *dir,
                                        size_t len)
{
    snprintf(dir, len, "%s/%s", sn_test_tmpdir(), name);
    struct sn_train_opts o = plain();
    o.ckpt_dir = dir;
    o.steps = 3;
    size_t n;
    free(train_params(&o, text, &n));
    return o;
}

/* The newest checkpoint belongs to another model: every rank stops with
 * rank 0's error (no rank left waiting for the others); a run of that
 * other model resumes it. */
static void test_trainer_resume_auto_foreign(void **state)
{
    (void)state;
    char dir[1100];
    struct sn_train_opts o = three_steps(other_cfg, "foreign", dir, sizeof dir);
    o.steps = 0;
    o.resume = "auto";
    struct sn_dataset *ds;
    struct sn_trainer *t = NULL;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    int rc = sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t);
    assert_int_equal(rc, SN_EINVAL);
    assert_null(t);
    assert_non_null(strstr(sn_errmsg(), "ckpt-00000003.h5"));
    o.steps = 4;
    assert_int_equal(sn_trainer_create(other_cfg, "o.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(sn_trainer_state(t)->global_step, 3);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
}

/* A run that does not resume is refused on every rank (SN_EUSAGE naming
 * the folder's newest checkpoint) in a folder that holds checkpoints,
 * before its lock file is made; a folder under a checkpoint's name is
 * refused even with resume auto, and stays. */
static void test_trainer_fresh_refused(void **state)
{
    (void)state;
    char dir[1100];
    struct sn_train_opts o = three_steps(cfg, "fresh", dir, sizeof dir);
    if (sn_dist_rank() == 0)
        assert_int_equal(sn_test_run("rm %s/.lock", dir), 0);
    struct sn_dataset *ds;
    struct sn_trainer *t = NULL;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
    assert_null(t);
    assert_non_null(strstr(sn_errmsg(), "fresh/ckpt-00000003.h5"));
    if (sn_dist_rank() == 0) {
        assert_int_equal(sn_test_run("ls %s/.lock", dir), 2);
        assert_int_equal(sn_test_run("mkdir %s/ckpt-00000009.h5", dir), 0);
    }
    o.resume = "auto";
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "ckpt-00000009.h5 is a folder, not a regular file"));
    if (sn_dist_rank() == 0)
        assert_int_equal(sn_test_run("test -d %s/ckpt-00000009.h5", dir), 0);
    sn_dataset_close(ds);
}

/* A stop requested on one rank before the trainer is made (a signal while
 * the command loads) ends sn_trainer_create with SN_EINTR on every rank,
 * naming the signal and the stage, before anything is written (not even
 * the checkpoint folder); once the request is cleared the same set-up
 * succeeds. */
static void test_trainer_stop_during_setup(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/setup_stop", sn_test_tmpdir());
    struct sn_train_opts o = plain();
    o.ckpt_dir = dir;
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    if (sn_dist_rank() == P - 1)
        sn_interrupt_set(SIGTERM);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EINTR);
    assert_null(t);
    /* the model file's parser or the stage after it: whichever looks first */
    if (!strstr(sn_errmsg(), "interrupted by SIGTERM while reading the model") &&
        !strstr(sn_errmsg(), "interrupted by SIGTERM while building the model"))
        fail_msg("not the first stage's stop: %s", sn_errmsg());
    sn_interrupt_clear();
    assert_int_equal(sn_dist_barrier(), SN_OK);
    assert_int_not_equal(access(dir, F_OK), 0);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
}

/* 8,192 rows in 10 steps an epoch: the shuffle looks at the stop request
 * on the way (every 4,096 swaps). */
static const char big_cfg[] =
    "[net]\ninput = 8\nbatch = 768\nepochs = 2\noptimizer = adam\nlr = 0.01\nseed = 5\n"
    "[dense]\nunits = 16\nactivation = relu\n[batchnorm]\n[dense]\nunits = 3\n";

/* The parameters and running statistics (malloc'd, one block, *n floats)
 * after a run with o that rank P-1 stops before step stop_at (0: never). */
static float *big_run(const char *path, const struct sn_train_opts *o, int64_t stop_at,
                      struct sn_step_info *last, size_t *n)
{
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(big_cfg, "big.cfg", ds, o, &s, &t), SN_OK);
    assert_int_equal(run(t, stop_at, sn_dist_size() - 1, last), SN_OK);
    const struct sn_model *m = sn_trainer_model(t);
    *n = m->n_params + m->n_buffers;
    float *p = malloc(*n * sizeof *p);
    memcpy(p, m->params, m->n_params * sizeof *p);
    memcpy(p + m->n_params, m->buffers, m->n_buffers * sizeof *p);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
    sn_interrupt_clear();
    return p;
}

/* A stop that comes while a rank shuffles an epoch's rows ends the shuffle
 * on that rank at once; it has no rows, so every rank drops the step: the
 * parameters and running statistics (moved by the others' forward: put
 * back) are those of the step before, and a resume from there ends with
 * the bits of an uninterrupted run.  Read ahead (streamed), the next
 * epoch's order is drawn a step earlier, and the stop ends the step that
 * drew it. */
static void test_trainer_stop_while_shuffling(void **state)
{
    (void)state;
    char path[1100], dir[1100];
    snprintf(path, sizeof path, "%s", sn_test_path("big_blobs.h5"));
    sn_test_write_blobs(path, (struct sn_test_blobs){ .train_rows = 1 << 13 });
    const double cache[2] = { 4096, 0 };
    for (int k = 0; k < 2; k++) {
        struct sn_train_opts o = plain();
        o.cache_mb = cache[k];
        struct sn_step_info last;
        size_t n;
        float *whole = big_run(path, &o, 0, &last, &n);
        o.steps = 10 + k;   /* where the stop before step 11 ends */
        float *part = big_run(path, &o, 0, &last, &n);
        o.steps = 0;
        snprintf(dir, sizeof dir, "%s/shuffle_stop%d", sn_test_tmpdir(), k);
        o.ckpt_dir = dir;
        float *got = big_run(path, &o, 11, &last, &n);
        assert_true(last.skipped == (k == 0));
        assert_int_not_equal(last.stop, 0);
        assert_int_equal(last.global_step, 10 + k);
        assert_memory_equal(got, part, n * sizeof *got);
        free(got);
        o.resume = "auto";
        got = big_run(path, &o, 0, &last, &n);
        assert_memory_equal(got, whole, n * sizeof *got);
        free(got);
        free(part);
        free(whole);
    }
}

/* A stop on one rank while the epoch's test split is evaluated ends the
 * evaluation on every rank; the epoch ends without test figures, its
 * checkpoint is written, and every rank is told to stop (a large split
 * kept a stop waiting, then a step more was trained). */
static void test_trainer_stop_while_testing(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/test_stop", sn_test_tmpdir());
    struct sn_train_opts o = plain();
    o.ckpt_dir = dir;
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_step_info si;
    struct sn_epoch_info e;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    do
        assert_int_equal(sn_trainer_step(t, &si), SN_OK);
    while (!si.epoch_done);
    if (sn_dist_rank() == P - 1)
        sn_interrupt_set(SIGTERM);
    assert_int_equal(sn_trainer_end_epoch(t, &e), SN_OK);
    assert_int_equal(e.stop, sn_dist_rank() == P - 1 ? SIGTERM : -1);
    assert_false(e.tested);
    assert_true(isnan(e.m.test_loss));
    assert_int_equal(sn_trainer_finish(t), SN_OK);
    if (sn_dist_rank() == 0)
        assert_int_equal(access(sn_test_path("test_stop/ckpt-00000020.h5"), R_OK), 0);
    sn_trainer_destroy(t);
    sn_interrupt_clear();
    sn_dataset_close(ds);
}

int main(int argc, char **argv)
{
    /* before the runtime: an error, not MPI's abort of the program (round 70
     * F7), checked before any argument */
    struct sn_trainer *t;
    struct sn_train_start s;
    struct sn_train_opts o = plain();
    if (sn_trainer_create(cfg, "t.cfg", NULL, &o, &s, &t) != SN_EUSAGE ||
        !strstr(sn_errmsg(), "the distributed runtime is not running")) {
        fprintf(stderr, "sn_trainer_create before sn_dist_init: %s\n", sn_errmsg());
        return 1;
    }
    if (sn_dist_init(&argc, &argv)) {
        fprintf(stderr, "%s\n", sn_errmsg());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trainer_strategies_same_bits),
        cmocka_unit_test(test_trainer_steps_bound),
        cmocka_unit_test(test_trainer_misuse_named),
        cmocka_unit_test(test_trainer_save_checks_output),
        cmocka_unit_test(test_trainer_stop_and_resume),
        cmocka_unit_test(test_trainer_stop_checkpoint_skipped),
        cmocka_unit_test(test_trainer_read_failure_agreed),
        cmocka_unit_test(test_trainer_streamed_same_bits),
        cmocka_unit_test(test_trainer_resume_auto_damaged),
        cmocka_unit_test(test_trainer_resume_auto_all_damaged),
        cmocka_unit_test(test_trainer_resume_position_checked),
        cmocka_unit_test(test_trainer_resume_auto_foreign),
        cmocka_unit_test(test_trainer_fresh_refused),
        cmocka_unit_test(test_trainer_keep_only_own),
        cmocka_unit_test(test_trainer_resume_other_run),
        cmocka_unit_test(test_trainer_stop_during_setup),
        cmocka_unit_test(test_trainer_stop_while_shuffling),
        cmocka_unit_test(test_trainer_stop_while_testing),
    };
    /* one rank's failure must fail the run: agree on the result */
    int failed = cmocka_run_group_tests(tests, setup, NULL);
    int any = failed != 0;
    sn_dist_allreduce_max_int(&any, 1);
    sn_dist_finalize();
    return any;
}
