/* train: the data-parallel training loop.
 *
 * Every rank holds the whole model.  Per optimizer step, all ranks take the
 * same global batch of B rows from one shared permutation (dist/shard.h),
 * rank r its r-th slice of B/P rows; forward, loss and backward run on the
 * slice; one allreduce averages the gradient arena; every rank applies the
 * same update, so the replicas stay identical.  Rank 0 alone prints, logs
 * and writes files.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/buckets.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/shard_optim.h"
#include "cli/trace.h"
#include "cli/watchdog.h"
#include "core/augment.h"
#include "core/loss.h"
#include "core/optim.h"
#include "core/parallel.h"
#include "core/sched.h"
#include "core/status.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "io/ckpt.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/modelfile.h"
#include "io/weights.h"

#define INIT_STREAM 0x494e4954ULL
#define STEP_STREAM 0x53544550ULL

static const char usage[] =
    "usage: scratchnet train --model M.cfg --data D.h5 [options]\n"
    "  --epochs N            epochs to train (model file: [net] epochs)\n"
    "  --batch B             GLOBAL batch, split B/P per rank (B divisible by P)\n"
    "  --lr X                learning rate\n"
    "  --optimizer NAME      sgd | adam | adamw | adagrad | rmsprop\n"
    "  --seed S              seed of initialisation and shuffling\n"
    "  --steps N             stop when the global step count reaches N\n"
    "  --no-shuffle          keep file order\n"
    "  --init W.h5           load parameters by layer name before training\n"
    "  --out W.h5            write the final weights here\n"
    "  --checkpoint-dir DIR  write DIR/ckpt-<step>.h5 at every epoch end\n"
    "  --checkpoint-every N  ... and every N steps\n"
    "  --keep K              keep only the newest K checkpoints in --checkpoint-dir\n"
    "  --resume FILE|auto    continue from a checkpoint (auto: newest valid one in\n"
    "                        --checkpoint-dir, or a fresh start if there is none)\n"
    "  --log FILE.jsonl      append one JSON line of metrics per epoch\n"
    "  --eval-every N        evaluate the test split after every N-th epoch and\n"
    "                        after the run's last (default 1: every epoch)\n"
    "  --cache-mb N          hold train and test in memory (as stored: uint8 stays\n"
    "                        uint8) when they fit in N MB per rank (default 4096);\n"
    "                        0 = read each batch from the file\n"
    "  --accumulate K        split each rank's share of a step into K micro-batches\n"
    "                        (less activation memory; the same step up to batchnorm\n"
    "                        statistics and float order); one allreduce per step\n"
    "  --bucket-mb X         gradients are reduced in buckets of about X MB, each\n"
    "                        started as soon as backward has produced it (default 1)\n"
    "  --no-overlap          one blocking allreduce after backward instead\n"
    "  --allreduce MODE      auto (default): when every rank is on one host, ranks\n"
    "                        average gradients by reading each other's memory (an\n"
    "                        MPI-3 shared window, no messages); mpi: MPI_Allreduce\n"
    "  --shard-optimizer     ZeRO stage 1: gradients reduce-scattered, each rank\n"
    "                        updates and keeps optimizer state for 1/P of the\n"
    "                        parameters, then they are allgathered (no overlap)\n"
    "  --threads T           threads per rank (default: cores / ranks on the host)\n"
    "  --timeout S           end the job when a rank makes no progress for S seconds\n"
    "                        (a peer hung in a collective; default 900, 0 = never)\n"
    "  --quiet               print nothing but errors\n"
    "  --progress MODE       tty: one line redrawn in place; plain: a line every\n"
    "                        --progress-every N steps (default: ten per epoch);\n"
    "                        auto (default): tty on a terminal, plain otherwise and\n"
    "                        under mpirun or srun (which give ranks a pseudo-terminal)\n"
    "  --progress-every N    see --progress\n"
    "  --trace FILE.json     a timeline of 10 steps after the warm-up, every rank's\n"
    "                        phases, layers and allreduce starts, in Chrome's trace\n"
    "                        format (chrome://tracing, ui.perfetto.dev)\n"
    "  --profile             at the end, print images/s and the time split of a step\n"
    "                        (data, forward, backward, allreduce, optimizer), the\n"
    "                        first 5 steps (PROFILE_WARMUP) left out as warm-up\n"
    "SIGTERM or SIGINT: the step in progress finishes, a checkpoint is written\n"
    "(with --checkpoint-dir) and the command exits 0.\n";

/* --profile: wall time of each phase of a step, summed over the steps
 * after the warm-up.  Reading the clock costs tens of nanoseconds. */
#define PROFILE_WARMUP 5
enum { PH_DATA, PH_FORWARD, PH_BACKWARD, PH_ALLREDUCE, PH_OPTIMIZER, PH_N };
static const char *const phase_names[PH_N] = { "data", "forward", "backward", "allreduce",
                                               "optimizer" };
#define TRACE_STEPS 10   /* --trace: the steps after the warm-up it records */
struct step_clock {
    double sum[PH_N];
    double last;
    int64_t steps;          /* steps seen, warm-up included */
    struct trace *trace;
};

/* Set by SIGTERM / SIGINT; every rank looks at it after each step. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    stop_requested = sig;
}

struct trainer {
    /* inputs */
    char *cfg_text;
    struct sn_netcfg net;
    struct sn_model *m;
    struct sn_dataset *ds;
    const struct sn_split *train, *test;
    struct sn_optim opt;    /* the whole arena, or this rank's block (--shard-optimizer) */
    bool opt_ready;
    bool shard;             /* --shard-optimizer */
    struct shard_optim sh;
    struct sn_train_state st;
    /* buffers, all sized once before the first step */
    int b;                  /* local batch */
    int mb;                 /* micro-batch: b / --accumulate */
    int K;                  /* outputs */
    int32_t *perm, *rows;
    float *x, *targets, *dz;
    float *aug_tmp;         /* augmentation scratch (NULL without [augment]) */
    int *labels;
    FILE *log;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Charge the time since the last mark to phase ph (after the warm-up). */
static void clock_mark(struct step_clock *c, int ph)
{
    double t = now_s();
    if (c->steps >= PROFILE_WARMUP)
        c->sum[ph] += t - c->last;
    if (c->steps >= PROFILE_WARMUP && c->steps < PROFILE_WARMUP + TRACE_STEPS)
        trace_add(c->trace, TR_PHASE, ph, c->last, t);
    c->last = t;
}

static void print_profile(const struct step_clock *c, const struct sn_model *m,
                          int global_batch, int threads)
{
    int64_t n = c->steps - PROFILE_WARMUP;
    double total = 0;
    for (int p = 0; p < PH_N; p++)
        total += c->sum[p];
    if (n <= 0 || total <= 0) {
        printf("profile: fewer than %d steps after the warm-up, nothing to report\n",
               PROFILE_WARMUP + 1);
        return;
    }
    printf("profile: %lld steps after %d warm-up, %d ranks x %d threads: %.1f images/s, "
           "%.3f ms/step (rank 0):", (long long)n, PROFILE_WARMUP, sn_dist_size(), threads,
           (double)n * global_batch / total, 1e3 * total / (double)n);
    for (int p = 0; p < PH_N; p++)
        printf(" %s %.3f", phase_names[p], 1e3 * c->sum[p] / (double)n);
    printf(" ms; peak RSS %.1f MB\n", cli_peak_rss_mb());
    printf("%-20s %-11s %12s %12s %7s\n", "layer", "kind", "forward ms", "backward ms", "share");
    for (int i = 0; i < m->n_layers; i++) {
        double f = m->layer_s[2 * i], b = m->layer_s[2 * i + 1];
        printf("%-20s %-11s %12.3f %12.3f %6.1f%%%s\n", m->layers[i]->name, m->layers[i]->ops->kind,
               1e3 * f / (double)n, 1e3 * b / (double)n, 100.0 * (f + b) / total,
               m->y_shared[i] ? "  (in place)" : "");
    }
    fflush(stdout);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void trainer_free(struct trainer *t)
{
    free(t->cfg_text);
    sn_model_destroy(t->m);
    sn_dataset_close(t->ds);
    if (t->opt_ready)
        sn_optim_deinit(&t->opt);
    shard_optim_free(&t->sh);
    free(t->st.history);
    free(t->perm);
    free(t->rows);
    sn_free(t->x);
    sn_free(t->targets);
    sn_free(t->dz);
    sn_free(t->aug_tmp);
    free(t->labels);
    if (t->log)
        fclose(t->log);
}

static int cmp_desc(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x < y) - (x > y);
}

/* The steps of the DIR/ckpt-<step>.h5 files (up to max of them), newest
 * first; returns how many. */
static int list_checkpoints(const char *dir, long long *steps, int max)
{
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        long long step;
        char tail[8];
        if (sscanf(e->d_name, "ckpt-%lld%7s", &step, tail) == 2 && strcmp(tail, ".h5") == 0)
            steps[n++] = step;
    }
    closedir(d);
    qsort(steps, (size_t)n, sizeof *steps, cmp_desc);
    return n;
}

/* Remove all but the newest keep checkpoints (rank 0, after a save). */
static void prune_checkpoints(const char *dir, long keep)
{
    enum { MAXC = 100000 };
    long long *steps = malloc(MAXC * sizeof *steps);
    int n = steps ? list_checkpoints(dir, steps, MAXC) : 0;
    for (int i = (int)keep; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/ckpt-%08lld.h5", dir, steps[i]);
        remove(path);
    }
    free(steps);
}

static int write_checkpoint(struct trainer *t, const char *dir, long keep)
{
    /* a sharded state is gathered whole on rank 0 for the file */
    struct sn_optim full;
    int rc = t->shard ? shard_optim_full(&t->sh, &t->opt, t->m->n_params, &full) : SN_OK;
    if (rc)
        return cli_agree(rc);
    if (sn_dist_rank() == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/ckpt-%08lld.h5", dir, (long long)t->st.global_step);
        rc = sn_ckpt_save(path, t->m, t->shard ? &full : &t->opt, &t->st, t->cfg_text);
        if (!rc && keep > 0)
            prune_checkpoints(dir, keep);
    }
    if (t->shard)
        shard_optim_full_free(&full);
    rc = cli_agree(rc);   /* also the barrier every rank meets after the rename */
    watchdog_progress(t->st.global_step);
    return rc;
}

/* --resume auto, on rank 0: load the newest checkpoint of dir that is not
 * damaged into t, warning about each damaged one passed over.  *path is
 * "" when there is none (a fresh start).  A checkpoint that is intact but
 * does not fit this run is an error, not something to skip. */
static int resume_auto(struct trainer *t, struct sn_optim *o, const char *dir, char *path,
                       size_t path_len)
{
    enum { MAXC = 100000 };
    long long *steps = malloc(MAXC * sizeof *steps);
    int n = steps ? list_checkpoints(dir, steps, MAXC) : 0;
    path[0] = '\0';
    for (int i = 0; i < n; i++) {
        snprintf(path, path_len, "%s/ckpt-%08lld.h5", dir, steps[i]);
        int rc = sn_ckpt_load(path, t->m, o, &t->st);
        if (rc != SN_EDAMAGED) {
            free(steps);
            return rc;
        }
        fprintf(stderr, "scratchnet: warning: %s; trying the one before\n", sn_errmsg());
        path[0] = '\0';
    }
    free(steps);
    return SN_OK;
}

/* Index of the first layer whose gradient holds a NaN or Inf within the
 * arena block [lo, hi), or -1: for the message. */
static int nonfinite_layer(const struct sn_model *m, size_t lo, size_t hi)
{
    for (int i = 0; i < m->n_layers; i++)
        for (int p = 0; p < m->layers[i]->n_params; p++) {
            const struct sn_param *pr = &m->layers[i]->params[p];
            for (size_t k = 0; k < pr->len; k++)
                if (pr->offset + k >= lo && pr->offset + k < hi && !isfinite(pr->dw[k]))
                    return i;
        }
    return -1;
}

/* One epoch's worth of reporting: reduce the train sums, evaluate (when
 * evaluate is set and there is a test split), print, log, remember. */
static int end_of_epoch(struct trainer *t, double loss_sum, int64_t counts[2], double t0,
                        double epoch_t0, int64_t steps_done, int threads, bool quiet,
                        bool evaluate)
{
    const bool test = t->test && evaluate;
    int rc = sn_dist_allreduce_sum_f64(&loss_sum, 1);
    if (!rc)
        rc = sn_dist_allreduce_sum_i64(counts, 2);
    int rss = (int)cli_peak_rss_mb();   /* the largest rank's */
    if (!rc)
        rc = sn_dist_allreduce_max_int(&rss, 1);
    if (rc)
        return rc;
    double epoch_s = now_s() - epoch_t0;
    struct sn_metrics mt = {
        .epoch = (double)(t->st.epoch + 1),
        .step = (double)t->st.global_step,
        .train_loss = counts[1] ? loss_sum / (double)counts[1] : NAN,
        .train_acc = counts[1] ? (double)counts[0] / (double)counts[1] : NAN,
        .test_loss = NAN,
        .test_acc = NAN,
        .lr = sn_sched_lr(&t->net.sched, t->st.global_step > 0 ? t->st.global_step - 1 : 0),
        .elapsed_s = now_s() - t0,
    };
    if (test) {
        double tl;
        int64_t correct, seen;
        rc = cli_evaluate(t->m, &t->net, t->ds, t->test, t->mb, t->x, t->labels, t->targets,
                          &tl, &correct, &seen, NULL);
        if (rc)
            return rc;
        mt.test_loss = tl / (double)seen;
        mt.test_acc = (double)correct / (double)seen;
    }
    double ips = epoch_s > 0 ? (double)(steps_done * t->net.batch) / epoch_s : 0.0;
    if (t->st.n_metrics < t->st.cap_metrics)
        t->st.history[t->st.n_metrics++] = mt;
    if (sn_dist_rank() != 0)
        return SN_OK;
    /* accuracy only means something against class labels */
    const bool acc = t->train->y_int && !t->net.target_input;
    if (!quiet) {
        printf("epoch %lld/%d  step %lld  train loss %.4f", (long long)t->st.epoch + 1,
               t->net.epochs, (long long)t->st.global_step, mt.train_loss);
        if (acc)
            printf(" acc %.2f%%", 100 * mt.train_acc);
        if (test)
            printf("  test loss %.4f", mt.test_loss);
        if (test && acc)
            printf(" acc %.2f%%", 100 * mt.test_acc);
        printf("  lr %.4g  %.0f img/s  %.1f s\n", mt.lr, ips, mt.elapsed_s);
        fflush(stdout);
    }
    if (t->log) {
        fprintf(t->log, "{\"epoch\": %lld, \"step\": %lld, \"train_loss\": %.6f",
                (long long)t->st.epoch + 1, (long long)t->st.global_step, mt.train_loss);
        if (acc)
            fprintf(t->log, ", \"train_acc\": %.6f", mt.train_acc);
        if (test)
            fprintf(t->log, ", \"test_loss\": %.6f", mt.test_loss);
        if (test && acc)
            fprintf(t->log, ", \"test_acc\": %.6f", mt.test_acc);
        fprintf(t->log, ", \"lr\": %.6g, \"images_per_s\": %.1f, \"elapsed_s\": %.3f, "
                "\"ranks\": %d, \"threads\": %d, \"peak_rss_mb\": %d}\n", mt.lr, ips,
                mt.elapsed_s, sn_dist_size(), threads, rss);
        fflush(t->log);
    }
    return SN_OK;
}

int sn_cmd_train(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *optimizer = NULL, *init = NULL, *out = NULL,
               *ckdir = NULL, *resume = NULL, *logpath = NULL, *progress = "auto",
               *trace_path = NULL, *allreduce = "auto";
    long epochs = 0, batch = 0, seed = 0, steps = 0, ckevery = 0, threads_req = 0, keep = 0;
    long cache_mb = 4096, progress_every = 0, accumulate = 1, eval_every = 1;
    double bucket_mb = 1.0;
    bool no_overlap = false, shard = false;
    double lr = 0, timeout = 900;
    bool no_shuffle = false, quiet = false, profile = false;
    struct cli_opt opts[] = {
        { "model", OPT_STR, &model, 0 },        { "data", OPT_STR, &data, 0 },
        { "epochs", OPT_INT, &epochs, 0 },      { "batch", OPT_INT, &batch, 0 },
        { "lr", OPT_FLOAT, &lr, 0 },            { "optimizer", OPT_STR, &optimizer, 0 },
        { "seed", OPT_INT, &seed, 0 },          { "steps", OPT_INT, &steps, 0 },
        { "no-shuffle", OPT_FLAG, &no_shuffle, 0 }, { "init", OPT_STR, &init, 0 },
        { "out", OPT_STR, &out, 0 },            { "checkpoint-dir", OPT_STR, &ckdir, 0 },
        { "checkpoint-every", OPT_INT, &ckevery, 0 }, { "resume", OPT_STR, &resume, 0 },
        { "log", OPT_STR, &logpath, 0 },        { "threads", OPT_INT, &threads_req, 0 },
        { "quiet", OPT_FLAG, &quiet, 0 },       { "keep", OPT_INT, &keep, 0 },
        { "timeout", OPT_FLOAT, &timeout, 0 },  { "profile", OPT_FLAG, &profile, 0 },
        { "cache-mb", OPT_INT, &cache_mb, 0 },  { "progress-every", OPT_INT, &progress_every, 0 },
        { "progress", OPT_STR, &progress, 0 },
        { "accumulate", OPT_INT, &accumulate, 0 }, { "bucket-mb", OPT_FLOAT, &bucket_mb, 0 },
        { "no-overlap", OPT_FLAG, &no_overlap, 0 }, { "trace", OPT_STR, &trace_path, 0 },
        { "shard-optimizer", OPT_FLAG, &shard, 0 }, { "allreduce", OPT_STR, &allreduce, 0 },
        { "eval-every", OPT_INT, &eval_every, 0 },
    };
    enum { O_EPOCHS = 2, O_BATCH, O_LR, O_OPT, O_SEED, O_STEPS };
    if (cli_wants_help(argc, argv)) {
        if (sn_dist_rank() == 0)
            fputs(usage, stdout);
        return 0;
    }
    struct trainer t;
    memset(&t, 0, sizeof t);
    struct trace tr;
    memset(&tr, 0, sizeof tr);
    struct sn_optim whole;   /* --shard-optimizer: the whole state, while resuming */
    memset(&whole, 0, sizeof whole);
    int code, rc = cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), NULL, 0,
                             NULL);
    if (!rc && (!model || !data))
        rc = sn_fail(SN_EUSAGE, "train needs --model and --data (see --help)");
    if (!rc && opts[O_EPOCHS].seen && epochs < 0)
        rc = sn_fail(SN_EUSAGE, "--epochs must be >= 0");
    if (!rc && opts[O_BATCH].seen && batch < 1)
        rc = sn_fail(SN_EUSAGE, "--batch must be >= 1");
    if (!rc && opts[O_LR].seen && !(lr >= 0))
        rc = sn_fail(SN_EUSAGE, "--lr must be >= 0");
    if (!rc && opts[O_STEPS].seen && steps < 1)
        rc = sn_fail(SN_EUSAGE, "--steps must be >= 1");
    if (!rc && ckevery < 0)
        rc = sn_fail(SN_EUSAGE, "--checkpoint-every must be >= 1");
    if (!rc && timeout < 0)
        rc = sn_fail(SN_EUSAGE, "--timeout must be >= 0 seconds");
    if (!rc && cli_seen(opts, (int)(sizeof opts / sizeof opts[0]), "keep") && keep < 1)
        rc = sn_fail(SN_EUSAGE, "--keep must be >= 1");
    if (!rc && strcmp(progress, "auto") && strcmp(progress, "tty") && strcmp(progress, "plain"))
        rc = sn_fail(SN_EUSAGE, "--progress must be auto, tty or plain, got '%s'", progress);
    if (!rc && accumulate < 1)
        rc = sn_fail(SN_EUSAGE, "--accumulate must be >= 1");
    if (!rc && strcmp(allreduce, "auto") && strcmp(allreduce, "mpi"))
        rc = sn_fail(SN_EUSAGE, "--allreduce must be auto or mpi, got '%s'", allreduce);
    if (!rc && !(bucket_mb > 0))
        rc = sn_fail(SN_EUSAGE, "--bucket-mb must be > 0");
    if (!rc && eval_every < 1)
        rc = sn_fail(SN_EUSAGE, "--eval-every must be >= 1 (epochs)");
    if (!rc && progress_every < 0)
        rc = sn_fail(SN_EUSAGE, "--progress-every must be >= 1");
    if (!rc && threads_req < 0)
        rc = sn_fail(SN_EUSAGE, "--threads must be >= 1 (or 0: cores / ranks)");
    if (!rc && cache_mb < 0)
        rc = sn_fail(SN_EUSAGE, "--cache-mb must be >= 0");
    if (!rc && keep > 0 && !ckdir)
        rc = sn_fail(SN_EUSAGE, "--keep needs --checkpoint-dir");
    if (!rc && ckevery > 0 && !ckdir)
        rc = sn_fail(SN_EUSAGE, "--checkpoint-every needs --checkpoint-dir");
    /* --init with --resume auto is the fine-tuning job that may be requeued:
     * --init applies only while there is no checkpoint yet */
    if (!rc && init && resume && strcmp(resume, "auto") != 0)
        rc = sn_fail(SN_EUSAGE, "--init and --resume FILE exclude each other: a resumed run "
                     "continues from the checkpoint's parameters");
    if (!rc && resume && strcmp(resume, "auto") == 0 && !ckdir)
        rc = sn_fail(SN_EUSAGE, "--resume auto needs --checkpoint-dir");
    if (!rc)
        rc = cli_check_world();
    /* the checkpoint folder first: --out may name a file inside it */
    if (!rc && ckdir && sn_dist_rank() == 0)
        rc = sn_fs_mkdirs(ckdir);
    if ((code = cli_agree(rc)))
        return code;
    {
        const char *outs[] = { out, logpath, trace_path }, *oflags[] = { "--out", "--log", "--trace" };
        const char *ins[] = { model, data, init, resume }, *iflags[] = { "--model", "--data", "--init",
                                                                         "--resume" };
        if ((code = cli_agree(cli_check_outputs(outs, oflags, 3, ins, iflags, 4))))
            return code;
    }

    int threads = cli_setup_threads(threads_req);
    int P = sn_dist_size(), rank = sn_dist_rank();

    /* model file and flag overrides */
    rc = sn_modelfile_read(model, &t.cfg_text);
    if ((code = cli_agree(rc)))
        goto out;
    if ((code = cli_agree(cli_same_everywhere(argc, argv, 2, t.cfg_text))))
        goto out;
    rc = sn_modelfile_parse(t.cfg_text, model, &t.net, &t.m);
    if (!rc) {
        if (opts[O_EPOCHS].seen)
            t.net.epochs = (int)epochs;
        if (opts[O_BATCH].seen)
            t.net.batch = (int)batch;
        if (opts[O_LR].seen)
            t.net.sched.lr = (float)lr;
        if (opts[O_SEED].seen)
            t.net.seed = (uint64_t)seed;
        if (opts[O_OPT].seen) {
            enum sn_optim_kind kind;
            rc = sn_optim_parse(optimizer, &kind);
            if (rc)
                rc = sn_fail_prefix(SN_EUSAGE, "--optimizer: ");
            else if (kind != t.net.optim.kind) {
                struct sn_optim_cfg d = sn_optim_defaults(kind);
                d.momentum = kind == SN_OPT_SGD || kind == SN_OPT_RMSPROP ? t.net.optim.momentum : 0;
                d.weight_decay = t.net.optim.weight_decay;
                t.net.optim = d;
            }
        }
    }
    if (!rc && t.net.batch < P)
        rc = sn_fail(SN_EUSAGE, "global batch %d is smaller than the %d ranks: every rank needs "
                     "at least one example per step", t.net.batch, P);
    if (!rc && t.net.batch % P != 0)
        rc = sn_fail(SN_EUSAGE, "global batch %d is not divisible by %d ranks", t.net.batch, P);
    if (!rc && (t.net.batch / P) % accumulate != 0)
        rc = sn_fail(SN_EUSAGE, "--accumulate %ld does not divide the %d examples each rank "
                     "takes per step (global batch %d / %d ranks)", accumulate, t.net.batch / P,
                     t.net.batch, P);
    if ((code = cli_agree(rc)))
        goto out;

    /* data */
    t.b = t.net.batch / P;
    rc = sn_dataset_open(data, &t.ds);
    if (!rc) {
        t.train = sn_dataset_split(t.ds, "train");
        t.test = sn_dataset_split(t.ds, "test");
        rc = cli_check_data(t.m, &t.net, t.ds, t.train);
    }
    if (!rc && t.test)
        rc = cli_check_data(t.m, &t.net, t.ds, t.test);
    if (!rc && t.train->n < (size_t)t.net.batch)
        rc = sn_fail(SN_EINVAL, "%s: /train has %zu rows, fewer than one global batch of %d", data,
                     t.train->n, t.net.batch);
    /* the data in memory when it fits: no file access inside a step */
    if (!rc && (double)(sn_dataset_cache_bytes(t.train) +
                        (t.test ? sn_dataset_cache_bytes(t.test) : 0)) <=
               (double)cache_mb * 1048576.0) {
        rc = sn_dataset_cache(t.ds, t.train);
        if (!rc && t.test)
            rc = sn_dataset_cache(t.ds, t.test);
    }
    if ((code = cli_agree(rc)))
        goto out;

    /* model, optimizer and every buffer of the loop */
    t.K = (int)sn_model_out_len(t.m);
    struct sn_rng init_rng;
    sn_rng_seed(&init_rng, t.net.seed, INIT_STREAM);
    size_t in_len = sn_shape_len(&t.m->in_shape);
    t.mb = t.b / (int)accumulate;   /* the model runs micro-batches of mb rows */
    rc = sn_model_build(t.m, t.mb, &init_rng);
    if ((code = cli_agree(rc)))   /* every rank, before the collective window below */
        goto out;
    if (!shard && strcmp(allreduce, "auto") == 0) {
        /* all ranks on this host: gradients in memory they share (dist.h) */
        float *arena;
        rc = sn_dist_shared_arena(t.m->n_params + SN_GRAD_SPARE, &arena);
        if (!rc && arena)
            sn_model_use_grads(t.m, arena);
    }
    t.shard = shard;
    if (!rc && shard)
        rc = shard_optim_plan(&t.sh, t.m->n_params, P, rank);
    if (!rc)
        rc = shard ? sn_optim_init_block(&t.opt, &t.net.optim, t.sh.lo, t.sh.len)
                   : sn_optim_init(&t.opt, &t.net.optim, t.m->n_params);
    t.opt_ready = rc == SN_OK;
    if (!rc)
        rc = sn_dataset_reserve(t.ds, (size_t)t.b);
    t.st.cap_metrics = 2 * t.net.epochs + 64;
    t.st.history = calloc((size_t)t.st.cap_metrics, sizeof *t.st.history);
    t.perm = malloc(t.train->n * sizeof *t.perm);
    t.rows = malloc((size_t)t.b * sizeof *t.rows);
    t.x = sn_alloc_f32((size_t)t.b * in_len);
    t.targets = sn_alloc_f32((size_t)t.b * (size_t)t.K);
    t.dz = sn_alloc_f32((size_t)t.b * (size_t)t.K);
    t.labels = malloc((size_t)t.b * sizeof *t.labels);
    if (sn_augment_any(&t.net.augment))
        t.aug_tmp = sn_alloc_f32((size_t)t.b * in_len);
    if (!rc && (!t.st.history || !t.perm || !t.rows || !t.x || !t.targets || !t.dz || !t.labels ||
                (sn_augment_any(&t.net.augment) && !t.aug_tmp)))
        rc = sn_fail(SN_ENOMEM, "out of memory for the training buffers");
    if (!rc && logpath && rank == 0 && !(t.log = fopen(logpath, "a")))
        rc = sn_fail(SN_EINVAL, "%s: cannot open the log for appending: %s", logpath, strerror(errno));
    if ((code = cli_agree(rc)))
        goto out;

    /* starting point: --init, then --resume */
    if (init) {
        struct sn_h5 *f;
        int n_loaded = 0;
        char refit[1024] = "";
        rc = sn_weights_open(init, &f);
        if (!rc) {
            rc = sn_weights_read_fit(f, t.m, &n_loaded, refit, sizeof refit);
            sn_h5_close(f);
        }
        if (!rc && n_loaded == 0)
            rc = sn_fail(SN_EINVAL, "%s: no parameter of this model's layers is in the file", init);
        if ((code = cli_agree(rc)))
            goto out;
        if (rank == 0 && !quiet)
            printf("init: %d parameter arrays from %s%s%s\n", n_loaded, init,
                   refit[0] ? "; re-initialised (their shapes differ in the file): " : "",
                   refit);
    }
    t.st.world_size = P;
    t.st.global_batch = t.net.batch;
    t.st.seed = (int64_t)t.net.seed;
    char resume_path[4096] = "";
    bool loaded = false;
    /* checkpoints hold the whole optimizer state: a sharded run loads it
     * whole, then keeps its own block */
    struct sn_optim *ld = &t.opt;
    if (shard && resume) {
        rc = sn_optim_init(&whole, &t.net.optim, t.m->n_params);
        if ((code = cli_agree(rc)))
            goto out;
        ld = &whole;
    }
    if (resume && strcmp(resume, "auto") == 0) {
        /* rank 0 chooses (passing over damaged files), every rank loads the same one */
        rc = rank == 0 ? resume_auto(&t, ld, ckdir, resume_path, sizeof resume_path) : SN_OK;
        if (!rc)
            rc = sn_dist_bcast(resume_path, sizeof resume_path, 0);
        if ((code = cli_agree(rc)))
            goto out;
        loaded = rank == 0 && resume_path[0];
        if (!resume_path[0] && rank == 0 && !quiet)
            printf("resume auto: no checkpoint in %s, starting fresh\n", ckdir);
    } else if (resume) {
        snprintf(resume_path, sizeof resume_path, "%s", resume);
    }
    if (resume_path[0]) {
        rc = loaded ? SN_OK : sn_ckpt_load(resume_path, t.m, ld, &t.st);
        if (!rc && t.st.global_batch != t.net.batch)
            rc = sn_fail(SN_EINVAL, "%s: written with global batch %lld, this run uses %d; the "
                         "example sequence would change", resume_path,
                         (long long)t.st.global_batch, t.net.batch);
        if (!rc && (uint64_t)t.st.seed != t.net.seed)
            rc = sn_fail(SN_EINVAL, "%s: written with seed %lld, this run uses %llu", resume_path,
                         (long long)t.st.seed, (unsigned long long)t.net.seed);
        if ((code = cli_agree(rc)))
            goto out;
        if (rank == 0 && !quiet)
            printf("resumed from %s: epoch %lld, step %lld (written by %lld ranks)\n", resume_path,
                   (long long)t.st.epoch + 1, (long long)t.st.global_step,
                   (long long)t.st.world_size);
        t.st.world_size = P;
    }
    /* one set of parameters everywhere, whatever each rank read */
    rc = sn_dist_bcast(t.m->params, t.m->n_params * sizeof(float), 0);
    if (!rc)
        rc = sn_dist_bcast(t.m->buffers, t.m->n_buffers * sizeof(float), 0);
    for (int s = 0; s < ld->n_states && !rc && (!shard || resume_path[0]); s++)
        rc = sn_dist_bcast(ld->state[s], t.m->n_params * sizeof(float), 0);
    if (!rc && ld == &whole) {
        shard_optim_take(&t.sh, &whole, &t.opt);
        sn_optim_deinit(&whole);
    }
    if (!rc && !quiet)
        rc = cli_print_ranks(threads);
    if ((code = cli_agree(rc)))
        goto out;

    int64_t steps_per_epoch = sn_shard_steps(t.train->n, t.net.batch);
    t.net.sched.total_steps = steps > 0 ? steps : steps_per_epoch * t.net.epochs;
    if (rank == 0 && !quiet) {
        printf("training %s on %s: %zu examples, global batch %d (%d per rank), %lld steps per "
               "epoch (the last %zu examples of each shuffled epoch are skipped), %zu "
               "parameters, %s\n", model, data, t.train->n, t.net.batch, t.b,
               (long long)steps_per_epoch, t.train->n % (size_t)t.net.batch, t.m->n_params,
               sn_optim_name(t.net.optim.kind));
        if (t.opt.n_states)
            printf("optimizer state: %d x %zu floats on rank 0 (%.2f MB)%s\n", t.opt.n_states,
                   t.opt.len, (double)t.opt.n_states * (double)t.opt.len * 4.0 / 1048576.0,
                   shard ? ", sharded over the ranks" : "");
        fflush(stdout);
    }

    /* the loop; a SIGTERM / SIGINT from here on ends it cleanly */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int signalled = 0;
    rc = watchdog_start(timeout, rank);
    if ((code = cli_agree(rc)))
        goto out;
    const double t0 = now_s();
    struct step_clock clk;
    memset(&clk, 0, sizeof clk);
    struct buckets bk;
    buckets_plan(&bk, t.m, (size_t)(bucket_mb * 1048576.0 / sizeof(float)));
    rc = trace_init(&tr, trace_path != NULL);
    if ((code = cli_agree(rc)))
        goto out;
    clk.trace = &tr;
    bk.trace = &tr;
    struct progress pg;
    const int64_t end_step = steps > 0 && steps < steps_per_epoch * t.net.epochs
                                 ? steps : steps_per_epoch * t.net.epochs;
    /* Open MPI and srun hand ranks a pseudo-terminal even when the job's
     * output goes to a file: under a launcher, auto means plain lines */
    bool tty = strcmp(progress, "tty") == 0 ||
               (strcmp(progress, "auto") == 0 && !cli_launched() && isatty(STDOUT_FILENO));
    progress_init(&pg, stdout, rank == 0 && !quiet, tty,
                  progress_every > 0 ? progress_every
                                     : (steps_per_epoch >= 10 ? steps_per_epoch / 10 : 1),
                  t.st.global_step);
    /* what the loss compares the outputs with */
    const int *labels = t.train->y_int && !t.net.target_input ? t.labels : NULL;
    const float *targets = t.net.target_input ? t.x : t.train->y_int ? NULL : t.targets;
    const float grad_scale = 1.0f / (float)t.b;
    bool stop = steps > 0 && t.st.global_step >= steps;
    if (rank == 0 && !quiet && (stop || t.st.epoch >= t.net.epochs))
        printf("nothing to train: the starting point is at epoch %lld, step %lld, and this run "
               "ends at %d epochs%s\n", (long long)t.st.epoch, (long long)t.st.global_step,
               t.net.epochs, steps > 0 ? " or at --steps" : "");
    for (; t.st.epoch < t.net.epochs && !stop; t.st.epoch++, t.st.step_in_epoch = 0) {
        t.m->profile = profile;
        sn_shard_permutation(t.net.seed, t.st.epoch, !no_shuffle, t.perm, t.train->n);
        double loss_sum = 0.0, epoch_t0 = now_s();
        long correct = 0;
        int64_t steps_done = 0;
        for (; t.st.step_in_epoch < steps_per_epoch; t.st.step_in_epoch++) {
            clk.last = now_s();
            /* the timeline's steps: every layer's times too */
            bool traced = tr.on && clk.steps >= PROFILE_WARMUP &&
                          clk.steps < PROFILE_WARMUP + TRACE_STEPS;
            t.m->on_layer = traced ? trace_on_layer : NULL;
            t.m->on_layer_ctx = &tr;
            t.m->profile = profile || traced;
            memcpy(t.rows, sn_shard_rows(t.perm, t.st.step_in_epoch, t.net.batch, rank, P),
                   (size_t)t.b * sizeof *t.rows);
            qsort(t.rows, (size_t)t.b, sizeof *t.rows, cmp_i32);
            rc = sn_dataset_read(t.ds, t.train, t.rows, (size_t)t.b, t.x, t.labels, t.targets);
            if (rc) {
                /* the other ranks are inside a collective: end the job */
                fprintf(stderr, "scratchnet: error: rank %d: step %lld: %s\n", rank,
                        (long long)t.st.global_step, sn_errmsg());
                sn_dist_abort(cli_exit_code(rc));
            }
            if (t.aug_tmp) {
                const struct sn_shape *is = &t.m->in_shape;
                sn_augment_batch(&t.net.augment, t.x, t.aug_tmp, t.b, is->d[0], is->d[1], is->d[2],
                                 t.net.seed, t.st.global_step, rank);
            }
            clock_mark(&clk, PH_DATA);
            struct sn_rng step_rng;
            sn_rng_seed(&step_rng, sn_rng_mix(t.net.seed, (uint64_t)t.st.global_step),
                        STEP_STREAM + (uint64_t)rank);
            sn_model_zero_grad(t.m);
            /* A signal may reach some ranks only: its flag rides in the spare
             * float after the gradients, so all ranks learn of it from the
             * gradient allreduce (mean > 0: someone was signalled). */
            t.m->grads[t.m->n_params] = stop_requested ? 1.0f : 0.0f;
            /* --accumulate K: the rank's rows in K micro-batches, gradients
             * summed in the arena (each scaled by 1 / local batch) */
            for (long k = 0; k < accumulate; k++) {
                const size_t r0 = (size_t)k * (size_t)t.mb;
                const float *xk = t.x + r0 * in_len;
                const float *z = sn_model_forward(t.m, xk, t.mb, true, &step_rng);
                loss_sum += sn_loss_eval(t.net.loss, z, labels ? labels + r0 : NULL,
                                         t.net.target_input ? xk
                                         : targets ? targets + r0 * (size_t)t.K : NULL,
                                         t.mb, t.K, t.net.label_smoothing, grad_scale, t.dz,
                                         &correct);
                clock_mark(&clk, PH_FORWARD);
                if (k == accumulate - 1 && !no_overlap && !shard) {   /* reduce while backward runs */
                    buckets_begin(&bk);
                    t.m->on_backward = buckets_on_backward;
                    t.m->on_backward_ctx = &bk;
                    t.m->poll = buckets_poll;
                    t.m->poll_ctx = &bk;
                    t.m->ready = buckets_ready;
                    t.m->ready_ctx = &bk;
                }
                sn_model_backward(t.m, t.dz, t.mb, &step_rng);
                t.m->on_backward = NULL;
                t.m->poll = NULL;
                t.m->ready = NULL;
                clock_mark(&clk, PH_BACKWARD);
            }
            /* gradients: the mean over ranks, whole on every rank, or with
             * --shard-optimizer only this rank's block [lo, hi) of it */
            const size_t lo = shard ? t.sh.lo : 0, hi = shard ? t.sh.lo + t.sh.len : t.m->n_params;
            double flag_norm2[2] = { 0.0, 0.0 };
            rc = shard ? shard_optim_reduce(&t.sh, t.m->grads)
                 : no_overlap ? sn_dist_allreduce_mean_f32(t.m->grads, t.m->n_params + SN_GRAD_SPARE)
                              : buckets_finish(&bk);
            if (!rc && shard) {   /* the stop flag and the squared norm, summed over blocks */
                flag_norm2[0] = stop_requested ? 1.0 : 0.0;
                flag_norm2[1] = sn_sumsq(t.m->grads + lo, hi - lo);
                rc = sn_dist_allreduce_sum_f64(flag_norm2, 2);
            }
            if (rc) {
                fprintf(stderr, "scratchnet: error: %s\n", sn_errmsg());
                sn_dist_abort(1);
            }
            bool flagged = shard ? flag_norm2[0] > 0.0 : t.m->grads[t.m->n_params] > 0.0f;
            signalled = flagged ? (stop_requested ? stop_requested : SIGTERM) : 0;
            /* running statistics come from each rank's slice: average them so
             * every replica evaluates and saves the same model */
            if (t.m->n_buffers && sn_dist_allreduce_mean_f32(t.m->buffers, t.m->n_buffers)) {
                fprintf(stderr, "scratchnet: error: %s\n", sn_errmsg());
                sn_dist_abort(1);
            }
            clock_mark(&clk, PH_ALLREDUCE);
            /* Every rank holds the same averaged gradient (or the same sum
             * of block norms), so every rank takes the same decision here. */
            double norm2 = shard ? flag_norm2[1] : sn_sumsq(t.m->grads, t.m->n_params);
            if (!isfinite(norm2)) {
                int bad = nonfinite_layer(t.m, lo, hi);   /* the first one over all blocks */
                int first = bad < 0 ? 0 : t.m->n_layers - bad;
                if (shard)
                    sn_dist_allreduce_max_int(&first, 1);
                rc = sn_fail(SN_ENUM, "step %lld: the gradient of layer %s is not finite (NaN or "
                             "Inf); lower the learning rate or set clip_norm; the last "
                             "checkpoint is kept", (long long)t.st.global_step + 1,
                             first > 0 ? t.m->layers[t.m->n_layers - first]->name : "(none)");
                code = cli_agree(rc);
                goto out;
            }
            if (t.net.clip_norm > 0 && sqrt(norm2) > t.net.clip_norm) {
                float s = (float)(t.net.clip_norm / (sqrt(norm2) + 1e-6));
                for (size_t i = lo; i < hi; i++)
                    t.m->grads[i] *= s;
            }
            sn_optim_step(&t.opt, t.m->plist, t.m->n_plist,
                          sn_sched_lr(&t.net.sched, t.st.global_step));
            clock_mark(&clk, PH_OPTIMIZER);
            if (shard) {   /* every rank's updated block to every rank */
                if (shard_optim_gather_params(&t.sh, t.m->params)) {
                    fprintf(stderr, "scratchnet: error: %s\n", sn_errmsg());
                    sn_dist_abort(1);
                }
                clock_mark(&clk, PH_ALLREDUCE);
            }
            clk.steps++;
            if (profile && clk.steps == PROFILE_WARMUP)   /* layer times: after the warm-up */
                memset(t.m->layer_s, 0, 2 * (size_t)t.m->n_layers * sizeof *t.m->layer_s);
            t.st.global_step++;
            steps_done++;
            watchdog_progress(t.st.global_step);
            {
                double seen = (double)steps_done * t.b;
                progress_step(&pg, (int)t.st.epoch + 1, t.net.epochs, t.st.step_in_epoch + 1,
                              steps_per_epoch, loss_sum / seen,
                              labels ? (double)correct / seen : NAN, t.net.batch,
                              t.st.global_step, end_step);
            }
            if (signalled) {
                t.st.step_in_epoch++;
                stop = true;
                break;
            }
            if (steps > 0 && t.st.global_step >= steps) {
                t.st.step_in_epoch++;
                stop = true;
                break;
            }
            if (ckevery > 0 && t.st.global_step % ckevery == 0 &&
                t.st.step_in_epoch + 1 < steps_per_epoch) {
                t.st.step_in_epoch++;
                code = write_checkpoint(&t, ckdir, keep);
                t.st.step_in_epoch--;
                if (code)
                    goto out;
            }
        }
        progress_break(&pg);
        t.m->profile = false;   /* evaluation is not part of a step */
        int64_t counts[2] = { correct, steps_done * t.b };
        /* after a signal, time is short: no evaluation, straight to the checkpoint */
        /* the test split every --eval-every epochs and at the end of the run */
        bool evaluate = (t.st.epoch + 1) % eval_every == 0 || t.st.epoch + 1 >= t.net.epochs || stop;
        rc = signalled ? SN_OK
                       : end_of_epoch(&t, loss_sum, counts, t0, epoch_t0, steps_done, threads, quiet,
                                      evaluate);
        if ((code = cli_agree(rc)))
            goto out;
        if (stop)
            break;
        if (ckdir) {
            t.st.epoch++;
            t.st.step_in_epoch = 0;
            code = write_checkpoint(&t, ckdir, keep);
            t.st.epoch--;
            if (code)
                goto out;
        }
    }
    if (profile && rank == 0)
        print_profile(&clk, t.m, t.net.batch, threads);
    if (tr.on) {
        rc = trace_write(&tr, trace_path, t.m, phase_names, PH_N);
        trace_free(&tr);
        if ((code = cli_agree(rc)))
            goto out;
        if (rank == 0 && !quiet)
            printf("wrote %s\n", trace_path);
    }
    if (stop && ckdir) {
        if (t.st.step_in_epoch >= steps_per_epoch) {   /* stopped on an epoch's last step */
            t.st.epoch++;
            t.st.step_in_epoch = 0;
        }
        if ((code = write_checkpoint(&t, ckdir, keep)))
            goto out;
    }
    if (stop && signalled) {
        if (rank == 0)
            fprintf(stderr, "scratchnet: stopped by signal %d after step %lld; %s\n", signalled,
                    (long long)t.st.global_step, ckdir ? "checkpoint written, resume with "
                    "--resume auto" : "no --checkpoint-dir: this progress is not saved");
        code = ckdir ? 0 : 1;
        goto out;
    }
    if (out) {
        if (rank == 0) {   /* with the data's scaling and class names, for predict */
            struct sn_data_meta meta;
            rc = sn_data_meta_from(t.ds, t.train, &meta);
            if (!rc)
                rc = sn_weights_save_meta(out, t.m, t.cfg_text, &meta);
            sn_data_meta_free(&meta);
        }
        if ((code = cli_agree(rc)))
            goto out;
        if (rank == 0 && !quiet)
            printf("wrote %s\n", out);
    }
    code = 0;
out:
    watchdog_stop();
    trace_free(&tr);
    sn_optim_deinit(&whole);
    trainer_free(&t);
    return code;
}
