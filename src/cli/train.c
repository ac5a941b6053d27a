/* train: the `scratchnet train` command.
 *
 * The training engine is the library's trainer (src/train/trainer.h).
 * This command turns flags into the trainer's options, shows what happens
 * (the start-up lines, progress, a line per epoch, the --log file,
 * --profile and --trace), saves what it can when a signal stops the run
 * (main.c's handler sets the request the trainer acts on), runs the
 * watchdog, and ends the job on an error in one way (cli_end).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/jsonlog.h"
#include "cli/output.h"
#include "cli/profile.h"
#include "cli/progress.h"
#include "cli/watchdog.h"
#include "core/blas.h"
#include "core/clock.h"
#include "core/interrupt.h"
#include "core/number.h"
#include "core/parallel.h"
#include "core/status.h"
#include "core/text.h"
#include "dist/dist.h"
#include "io/fsutil.h"
#include "train/ckptdir.h"
#include "train/trainer.h"
#include "train/trajectory.h"

static const char usage[] =
    "usage: scratchnet train --model M.cfg --data D.h5 [options]\n"
    "  --epochs N            epochs to train (model file: [net] epochs); 0 trains\n"
    "                        nothing and writes --out as initialised (or as --init)\n"
    "  --batch B             GLOBAL batch, split B/P per rank (B divisible by P;\n"
    "                        the model file's batch)\n"
    "  --lr X                learning rate, 0 to 1e6 (the model file's lr)\n"
    "  --optimizer NAME      sgd | adam | adamw | adagrad | rmsprop (the model\n"
    "                        file's)\n"
    "  --seed S              seed of initialisation and shuffling (the model file's)\n"
    "  --steps N             stop after N optimizer steps in all (steps before a\n"
    "                        resume count); alone it runs as many epochs as that\n"
    "                        takes, with --epochs whichever ends first\n"
    "  --no-shuffle          keep file order\n"
    "  --init W.h5           load parameters by layer name before training\n"
    "  --out W.h5            write the final weights here\n"
    "  --checkpoint-dir DIR  write DIR/ckpt-<step>.h5 at every epoch end; without\n"
    "                        --resume, DIR must hold no checkpoints yet\n"
    "  --checkpoint-every N  ... and every N steps\n"
    "  --keep K              keep only the newest K checkpoints in --checkpoint-dir\n"
    "  --resume FILE|auto    continue from a checkpoint (auto: newest valid one in\n"
    "                        --checkpoint-dir, or a fresh start if there is none);\n"
    "                        refused if it belongs to another run (other data, model\n"
    "                        or trajectory settings: the error names them)\n"
    "  --resume-override K,..  continue although these settings differ from the\n"
    "                        checkpoint's: data model optimizer groups lr schedule\n"
    "                        horizon augment loss shuffle accumulate compress\n"
    "                        (not the optimizer's kind, nor an added ema, momentum\n"
    "                        or lookahead_k: --init CHECKPOINT starts from its weights)\n"
    "  --log FILE.jsonl      append one JSON line of metrics per epoch\n"
    "  --eval-every N        evaluate the test split after every N-th epoch and\n"
    "                        after the run's last (default 1: every epoch)\n"
    "  --cache-mb N          hold train and test in memory (as stored: uint8 stays\n"
    "                        uint8) when they fit in N MiB per rank (default 4096);\n"
    "                        0 = read each batch from the file\n"
    "  --accumulate K        split each rank's share of a step into K micro-batches\n"
    "                        (less activation memory; the same step up to batchnorm\n"
    "                        statistics and float order); one allreduce per step\n"
    "  --bucket-mb X         gradients are reduced in buckets of about X MB, each\n"
    "                        started as soon as backward has produced it (default 1)\n"
    "  --no-overlap          one blocking allreduce after backward instead\n"
    "  --allreduce MODE      how gradients are averaged over ranks:\n"
    "                        auto (default): every rank on one host: by reading each\n"
    "                        other's memory (an MPI-3 shared window, no messages);\n"
    "                        ranks on several hosts, some host with more than one:\n"
    "                        hier; one rank per host: an allreduce of all ranks\n"
    "                        flat: never hier (the shared window on one host, else\n"
    "                        an allreduce of all ranks)\n"
    "                        hier: each host sums its ranks' gradients in shared\n"
    "                        memory, one leader per host allreduces the sums with\n"
    "                        the other hosts' leaders, the host's ranks copy the\n"
    "                        result from their leader\n"
    "                        mpi: an allreduce of all ranks, even on one host\n"
    "  --compress FMT        none (default) | bf16 | fp16: gradients cross hosts as\n"
    "                        16-bit floats (half the bytes), with error feedback: what\n"
    "                        rounding loses is added to the next step's gradient and\n"
    "                        kept in checkpoints; refused where nothing is sent (1\n"
    "                        rank, the shared window of one host: --allreduce mpi\n"
    "                        sends messages there) and with --shard-optimizer\n"
    "  --shard-optimizer     ZeRO stage 1: gradients reduce-scattered, each rank\n"
    "                        updates and keeps optimizer state for 1/P of the\n"
    "                        parameters, then they are allgathered (no overlap)\n"
    "  --threads T           threads per rank (default, or 0: OMP_NUM_THREADS, else\n"
    "                        the host's cores / its ranks)\n"
    "  --timeout S           end the job when a rank makes no progress for S seconds\n"
    "                        (a peer hung in a collective; default 900, 0 = never,\n"
    "                        else at least 1)\n"
    "  --quiet               print nothing but warnings and errors\n"
    "  --progress MODE       tty: one line redrawn in place; plain: a line every\n"
    "                        --progress-every N steps (default, or 0: ten per epoch);\n"
    "                        auto (default): tty on a terminal, plain otherwise and\n"
    "                        under mpirun or srun (which give ranks a pseudo-terminal)\n"
    "  --progress-every N    see --progress\n"
    "  --trace FILE.json     a timeline of 10 steps after the warm-up, every rank's\n"
    "                        phases, layers and allreduce starts, in Chrome's trace\n"
    "                        format (chrome://tracing, ui.perfetto.dev)\n"
    "  --allow-split-preprocessing  train even when /test or /val is scaled or\n"
    "                        normalised unlike /train (a warning instead of an error)\n"
    "  --profile             at the end, print images/s and the time split of a step\n"
    "                        (data, forward, backward, allreduce, optimizer), the\n"
    "                        first 5 steps left out as warm-up\n"
    "Stopping: on SIGTERM, SIGINT (Ctrl-C) or SIGUSR1 the step in progress finishes,\n"
    "the checkpoint (with --checkpoint-dir) and --out are written, and the command\n"
    "exits 0; with neither flag it says nothing was saved and exits 1.  Before the\n"
    "first step (loading, building) it ends the run there, exit 1.  Ctrl-C twice:\n"
    "the ranks end at once.\n"
    "Open MPI's mpirun answers SIGTERM and SIGINT itself: it ends the job (the ranks\n"
    "save first if they can within odls_base_sigkill_timeout seconds) and exits 1.\n"
    "For exit 0 run under launch/local.sh, signal the ranks, or send mpirun SIGUSR1,\n"
    "which it passes on (README: Stopping a run).\n";

/* Every flag's value as given (the trainer's options are made from them). */
struct train_flags {
    const char *model, *data, *optimizer, *init, *out, *ckdir, *resume, *override, *log,
        *progress, *trace, *allreduce, *compress;
    long epochs, batch, seed, steps, ckevery, threads, keep, cache_mb, progress_every, accumulate,
        eval_every;
    double lr, timeout, bucket_mb;
    bool no_shuffle, quiet, profile, no_overlap, shard, allow_split;
    bool seen_epochs, seen_batch, seen_lr, seen_seed, seen_steps, seen_keep;
};

/* What a run holds beside its flags. */
struct run {
    int threads;
    char *text;                  /* the model file */
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_observer ob;
    struct profile prof;
    struct progress pg;
    FILE *log;
    int stopped;                 /* the stop request that ended the loop (sn_step_info.stop) */
    char made_ckdir[4096];       /* what this run made, removed again if it is refused */
    bool made_log;               /* by this run: removed at the end while empty */
    int log_records;             /* in the --log before the run */
};

static int parse_flags(int argc, char **argv, struct train_flags *f)
{
    memset(f, 0, sizeof *f);
    f->progress = "auto";
    f->allreduce = "auto";
    f->compress = "none";
    f->cache_mb = 4096;
    f->accumulate = 1;
    f->eval_every = 1;
    f->bucket_mb = 1.0;
    f->timeout = 900;
    struct cli_opt opts[] = {
        CLI_STR("model", &f->model),           CLI_STR("data", &f->data),
        CLI_INT("epochs", &f->epochs, 0, SN_EPOCHS_MAX), CLI_INT("batch", &f->batch, 1, 1 << 20),
        CLI_FLOAT("lr", &f->lr, 0, 1e6),         CLI_STR("optimizer", &f->optimizer),
        CLI_INT("seed", &f->seed, 0, 0x7fffffff), CLI_INT("steps", &f->steps, 1, 1L << 40),
        CLI_FLAG("no-shuffle", &f->no_shuffle), CLI_STR("init", &f->init),
        CLI_STR("out", &f->out),               CLI_STR("checkpoint-dir", &f->ckdir),
        CLI_INT("checkpoint-every", &f->ckevery, 0, 1L << 40), CLI_STR("resume", &f->resume),
        CLI_STR("log", &f->log),               CLI_INT("threads", &f->threads, 0, CLI_MAX_THREADS),
        CLI_FLAG("quiet", &f->quiet),          CLI_INT("keep", &f->keep, 1, 1000000),
        CLI_FLOAT("timeout", &f->timeout, 0, 1e7), CLI_FLAG("profile", &f->profile),
        CLI_INT("cache-mb", &f->cache_mb, 0, 1 << 24),
        CLI_INT("progress-every", &f->progress_every, 0, 1L << 40),
        CLI_STR("progress", &f->progress),
        CLI_FLAG("allow-split-preprocessing", &f->allow_split),
        CLI_INT("accumulate", &f->accumulate, 1, 65536),
        CLI_FLOAT("bucket-mb", &f->bucket_mb, 1e-6, 65536),
        CLI_FLAG("no-overlap", &f->no_overlap), CLI_STR("trace", &f->trace),
        CLI_FLAG("shard-optimizer", &f->shard), CLI_STR("allreduce", &f->allreduce),
        CLI_INT("eval-every", &f->eval_every, 1, 1 << 20),
        CLI_STR("compress", &f->compress),   CLI_STR("resume-override", &f->override),
    };
    const int n = (int)(sizeof opts / sizeof opts[0]);
    int rc = cli_parse(argc, argv, 2, opts, n, NULL, 0, NULL);
    f->seen_epochs = cli_seen(opts, n, "epochs");
    f->seen_batch = cli_seen(opts, n, "batch");
    f->seen_lr = cli_seen(opts, n, "lr");
    f->seen_seed = cli_seen(opts, n, "seed");
    f->seen_steps = cli_seen(opts, n, "steps");
    f->seen_keep = cli_seen(opts, n, "keep");
    return rc;
}

/* The flags that need or exclude each other (each flag's range is in the
 * option table). */
static int check_flags(const struct train_flags *f)
{
    if (!f->model || !f->data)
        return sn_fail(SN_EUSAGE, "train needs --model and --data (see --help)");
    if (strcmp(f->progress, "auto") && strcmp(f->progress, "tty") && strcmp(f->progress, "plain"))
        return sn_fail(SN_EUSAGE, "--progress must be auto, tty or plain, got '%s'", f->progress);
    enum sn_allreduce mode;
    enum sn_half half;
    if (sn_allreduce_parse(f->allreduce, &mode))
        return sn_fail(SN_EUSAGE, "--allreduce must be auto, flat, hier or mpi, got '%s'",
                       f->allreduce);
    if (sn_half_parse(f->compress, &half))
        return sn_fail(SN_EUSAGE, "--compress must be none, bf16 or fp16, got '%s'", f->compress);
    if (half != SN_HALF_NONE && f->shard)
        return sn_fail(SN_EUSAGE, "--compress does not apply to --shard-optimizer (its "
                       "reduce-scatter and allgather send floats)");
    if (f->timeout > 0 && f->timeout < 1)   /* the watchdog looks once a second */
        return sn_fail(SN_EUSAGE, "--timeout must be 0 (never) or at least 1 s, got %g",
                       f->timeout);
    if (f->keep > 0 && !f->ckdir)
        return sn_fail(SN_EUSAGE, "--keep needs --checkpoint-dir");
    if (f->ckevery > 0 && !f->ckdir)
        return sn_fail(SN_EUSAGE, "--checkpoint-every needs --checkpoint-dir");
    /* --init with --resume auto is the fine-tuning job that may be requeued:
     * --init applies only while there is no checkpoint yet */
    if (f->init && f->resume && strcmp(f->resume, "auto") != 0)
        return sn_fail(SN_EUSAGE, "--init and --resume FILE exclude each other: a resumed run "
                       "continues from the checkpoint's parameters");
    if (f->resume && strcmp(f->resume, "auto") == 0 && !f->ckdir)
        return sn_fail(SN_EUSAGE, "--resume auto needs --checkpoint-dir");
    if (f->override && !f->resume)
        return sn_fail(SN_EUSAGE, "--resume-override needs --resume");
    struct stat st;
    char newest[300];
    if (f->resume && strcmp(f->resume, "auto") != 0 && stat(f->resume, &st) == 0 &&
        S_ISDIR(st.st_mode) && sn_fs_newest_checkpoint(f->resume, NULL, newest, sizeof newest))
        return sn_fail(SN_EUSAGE, "--resume %s is a folder: give one checkpoint in it (%s/%s), "
                       "or --checkpoint-dir %s --resume auto to continue from its newest",
                       f->resume, f->resume, newest, f->resume);   /* a checkpoint folder */
    return sn_trajectory_check_keys(f->override);
}

/* The trainer's options from the flags. */
static void make_opts(const struct train_flags *f, const struct sn_train_observer *ob,
                      struct sn_train_opts *o)
{
    sn_train_opts_defaults(o);
    o->epochs = f->seen_epochs ? (int)f->epochs : -1;
    o->batch = f->seen_batch ? (int)f->batch : 0;
    o->lr = f->seen_lr ? f->lr : -1.0;
    o->optimizer = f->optimizer;
    o->seed_set = f->seen_seed;
    o->seed = (uint64_t)f->seed;
    o->steps = f->steps;
    o->no_shuffle = f->no_shuffle;
    o->accumulate = (int)f->accumulate;
    o->cache_mb = (double)f->cache_mb;
    o->init = f->init;
    o->eval_every = (int)f->eval_every;
    o->ckpt_dir = f->ckdir;
    o->ckpt_every = f->ckevery;
    o->keep = f->keep;
    o->resume = f->resume;
    o->resume_override = f->override;
    sn_allreduce_parse(f->allreduce, &o->allreduce);   /* checked in check_flags */
    sn_half_parse(f->compress, &o->compress);
    o->overlap = !f->no_overlap;
    o->bucket_mb = f->bucket_mb;
    o->shard_optimizer = f->shard;
    o->observer = ob;
}

/* An output of the run whose file (through links: the rename replaces
 * the file a link names) is a name its checkpoint folder uses
 * (ckpt-<step>.h5, the lock file) would replace a checkpoint or be
 * replaced by one.  Checked before cli_check_outputs, which refuses such
 * names in any folder, to name the folder. */
static int check_not_in_ckdir(const char *ckdir, const char *out, const char *flag)
{
    struct stat sd, so;
    char dir[4096], target[4096], via[4200] = "";
    if (sn_fs_output_target(out, target, sizeof target, &so) != SN_OK)
        return SN_OK;   /* cli_check_outputs says why */
    const char *slash = strrchr(target, '/'), *base = slash ? slash + 1 : target;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - target) + 1 : 1,
             slash ? target : ".");
    if (!sn_ckptdir_is_name(base) || stat(ckdir, &sd) != 0 || stat(dir, &so) != 0 ||
        sd.st_dev != so.st_dev || sd.st_ino != so.st_ino)
        return SN_OK;
    if (strcmp(target, out) != 0)
        snprintf(via, sizeof via, " (a link to %s)", target);
    return sn_fail(SN_EUSAGE, "%s %s%s is a name the run's --checkpoint-dir %s uses for its "
                   "checkpoints: one would replace the other (name the file otherwise)", flag,
                   out, via, ckdir);
}

/* An input of the run (its data, model or --init file) that is a file of
 * its checkpoint folder under a checkpoint's name (by that path, or a
 * hard link: the same device and inode) would be taken for a damaged
 * checkpoint when the run resumes, and moved aside (.damaged) when the run
 * writes that step: the run's --data then named a checkpoint. */
static int check_input_not_in_ckdir(const char *ckdir, const char *in, const char *flag)
{
    struct stat si, se;
    DIR *d = stat(in, &si) == 0 ? opendir(ckdir) : NULL;
    if (!d)
        return SN_OK;   /* the reading, or the folder's checks, say why */
    char entry[4200] = "";
    for (struct dirent *e; !entry[0] && (e = readdir(d)) != NULL;) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", ckdir, e->d_name);
        if (sn_ckptdir_is_name(e->d_name) && stat(path, &se) == 0 && se.st_dev == si.st_dev &&
            se.st_ino == si.st_ino)
            snprintf(entry, sizeof entry, "%s", path);
    }
    closedir(d);
    if (!entry[0])
        return SN_OK;
    return sn_fail(SN_EUSAGE, "%s %s is the file %s of --checkpoint-dir, under a checkpoint's "
                   "name: the run would take it for one, or move it aside to write one (keep "
                   "inputs out of the checkpoint folder)", flag, in, entry);
}

/* Collective, before any work: the world, the checkpoint folder (first:
 * --out may name a file inside it; without --resume it must hold no
 * checkpoints, which the trainer checks again), every output. */
static int prepare_outputs(const struct train_flags *f, struct run *r)
{
    int rc = cli_check_world(true);
    if (!rc && f->ckdir && sn_dist_rank() == 0)
        rc = sn_ckptdir_check_name(f->ckdir);   /* before a folder of that name is made */
    if (!rc && f->ckdir && sn_dist_rank() == 0)
        rc = cli_make_folder(f->ckdir, "--checkpoint-dir", r->made_ckdir, sizeof r->made_ckdir);
    if (!rc && f->ckdir && sn_dist_rank() == 0)
        rc = sn_ckptdir_check(f->ckdir, !f->resume);
    rc = sn_dist_agree(rc);   /* every rank sees the folder from here on */
    const char *outs[] = { f->out, f->log, f->trace }, *oflags[] = { "--out", "--log", "--trace" };
    const char *ins[] = { f->model, f->data, f->init, f->resume },
               *iflags[] = { "--model", "--data", "--init", "--resume" };
    for (int i = 0; i < 3 && !rc && f->ckdir; i++)
        if (outs[i])
            rc = check_not_in_ckdir(f->ckdir, outs[i], oflags[i]);
    for (int i = 0; i < 3 && !rc && f->ckdir; i++)   /* --resume may name a checkpoint */
        if (ins[i])
            rc = check_input_not_in_ckdir(f->ckdir, ins[i], iflags[i]);
    if (!rc)
        rc = cli_check_outputs(outs, oflags, 3, ins, iflags, 4);
    if (!rc && f->log)
        rc = cli_log_check(f->log, &r->log_records);   /* appended to: only a log */
    return rc;
}

/* Rank 0: the log, opened to append; a last line cut short by an earlier
 * run's failed write is removed first, and said. */
static int open_log(const struct train_flags *f, struct run *r)
{
    long long cut;
    r->log = cli_log_open(f->log, &r->made_log, &cut);
    if (!r->log && errno == EBUSY)
        return sn_fail(SN_EINVAL, "--log %s is being written by another run now: two runs in "
                       "one log would interleave their epochs (and plot would draw them as one "
                       "run); give this run its own --log", f->log);
    char len[64] = "more than 1048576";   /* cut < 0: not read further */
    if (cut >= 0)
        snprintf(len, sizeof len, "%lld", cut);
    if (!r->log && errno == EILSEQ)
        return sn_fail(SN_EINVAL, "--log %s: its last line (%s bytes without an end of line) "
                       "is not a record cut short (one starts with '{', is at most 1 MiB and "
                       "holds no '}' or carriage return): appending would damage it; end that "
                       "line or give another --log", f->log, len);
    if (!r->log && cut > 0)
        return sn_fail(SN_EINVAL, "--log %s: its last line was cut short (%s bytes without an "
                       "end of line, from a write that failed) and cannot be removed (%s; an "
                       "append-only file?): this run's records would join it; remove that line "
                       "or give another --log", f->log, len, strerror(errno));
    if (!r->log)
        return sn_fail(SN_EINVAL, "%s: cannot open the log for appending: %s", f->log,
                       strerror(errno));
    if (cut > 0)
        cli_eprintf("scratchnet: warning: --log %s: its last line was cut short (%lld "
                    "byte%s without an end of line, from a write that failed); removed\n",
                    cli_line(f->log),
                    cut, cut == 1 ? "" : "s");
    return SN_OK;
}

static void on_warn(void *ctx, const char *msg)
{
    (void)ctx;
    if (sn_dist_rank() == 0)
        cli_eprintf("scratchnet: warning: %s\n", msg);
}

/* The run's trainer once made, for on_alive (the observer's ctx is the
 * profile): whether a checkpoint exists, for the watchdog's last line. */
static const struct sn_trainer *alive_trainer;

static void on_alive(void *ctx, int64_t step)
{
    (void)ctx;
    watchdog_progress(step);
    if (alive_trainer && sn_trainer_checkpoint_step(alive_trainer) >= 0)
        watchdog_checkpointed();
}

/* The observer: profile, trace and watchdog listen to the trainer. */
static void make_observer(const struct train_flags *f, struct run *r)
{
    r->ob = (struct sn_train_observer){ .ctx = &r->prof, .alive = on_alive, .warn = on_warn };
    if (f->profile || f->trace) {
        r->ob.phase = profile_on_phase;
        r->ob.layer = profile_on_layer;
        r->ob.bucket = profile_on_bucket;
    }
}

static bool has_batchnorm(const struct sn_model *m)
{
    for (int i = 0; i < m->n_layers; i++)
        if (strcmp(m->layers[i]->ops->kind, "batchnorm") == 0)
            return true;
    return false;
}

/* A warm-up the run never leaves (a warning: also with --quiet). */
static void warn_warmup(const struct run *r)
{
    struct sn_train_plan p;
    sn_trainer_plan(r->t, &p);
    const int64_t warm = sn_trainer_net(r->t)->sched.warmup_steps;
    if (warm > p.end_step)
        cli_eprintf("scratchnet: warning: warmup_steps %lld is longer than the run, which ends "
                    "at step %lld: the learning rate never leaves its warm-up\n",
                    (long long)warm, (long long)p.end_step);
}

/* --bucket-mb where the reducer averages in one pass: accepted, and it
 * does nothing (a warning: also with --quiet). */
static void warn_buckets(const struct train_flags *f, const struct run *r)
{
    const char *red = sn_trainer_reducer_name(r->t);
    const bool one_pass = !strncmp(red, "shared", 6) || !strncmp(red, "blocking", 8);
    if (sn_dist_size() > 1 && f->bucket_mb != 1.0 && one_pass)
        cli_eprintf("scratchnet: warning: --bucket-mb has no effect: the %s reducer averages "
                    "every gradient in one pass after backward (%s)\n", red,
                    red[0] == 's' ? "every rank is on one host, which shares memory; "
                                    "--allreduce mpi sends buckets during backward"
                                  : "--no-overlap");
}

/* The most bytes train writes for one epoch's record (about 300 with
 * every field at its longest number), for the log's room below. */
#define LOG_RECORD_BYTES 512

/* A --log that this run's epochs would carry past the records or the
 * bytes plot reads (a warning: also with --quiet; the run may end
 * sooner). */
static void warn_log_room(const struct train_flags *f, const struct run *r)
{
    struct sn_train_plan p;
    sn_trainer_plan(r->t, &p);
    const int64_t steps = p.end_step - sn_trainer_state(r->t)->global_step;
    const int64_t epochs = (steps + p.steps_per_epoch - 1) / p.steps_per_epoch;
    struct stat st;
    if (!f->log || steps <= 0)
        return;
    if (r->log_records + epochs > CLI_LOG_MAX_RECORDS)
        cli_eprintf("scratchnet: warning: --log %s holds %d records and this run adds up to "
                    "%lld: past %d, the most plot draws, plot refuses the log (`tail -n %d` of "
                    "it plots the latest); another --log keeps this run's epochs drawable\n",
                    cli_line(f->log), r->log_records, (long long)epochs, CLI_LOG_MAX_RECORDS,
                    CLI_LOG_MAX_RECORDS);
    else if (stat(f->log, &st) == 0 &&
             (double)st.st_size + (double)epochs * LOG_RECORD_BYTES > (double)CLI_LOG_MAX_BYTES)
        cli_eprintf("scratchnet: warning: --log %s holds %lld bytes and this run adds a record "
                    "of at most %d bytes for each of up to %lld epochs: past %zu MiB, the most "
                    "plot reads, plot refuses the log (`tail -n 1000` of it plots the latest); "
                    "another --log keeps this run's epochs drawable\n", cli_line(f->log),
                    (long long)st.st_size, LOG_RECORD_BYTES, (long long)epochs,
                    CLI_LOG_MAX_BYTES >> 20);
}

/* Checkpoints the run keeps that would not fit in the space left where
 * they go: said before the first is written (a warning: also with
 * --quiet).  Counted from here to the run's end: one an epoch and one
 * every --checkpoint-every steps, each at least the parameters, buffers
 * and optimizer states; with --keep K, K + 1 at most (the newest is
 * written before the oldest goes), of which those in the folder already
 * (a resumed run's) take no more space, but one new one is always
 * written before any goes. */
/* Multiples of k in (from, to]. */
static int64_t multiples(int64_t from, int64_t to, int64_t k)
{
    return k > 0 && to > from ? to / k - from / k : 0;
}

/* The steps after from up to to that write a checkpoint: each epoch's end,
 * each multiple of every (0: none), and the last step, each once (a run of
 * --steps 10 --checkpoint-every 10 was counted two). */
static int64_t checkpoint_steps(int64_t from, int64_t to, int64_t per_epoch, long every)
{
    int64_t n = multiples(from, to, per_epoch) + multiples(from, to, every);
    if (every > 0 && per_epoch > 0) {   /* steps that are both, once */
        int64_t a = per_epoch, b = every;
        while (b) {
            const int64_t t = a % b;
            a = b, b = t;
        }
        const int64_t step = per_epoch / a;   /* lcm = step * every, when it fits */
        if (step <= to / every)
            n -= multiples(from, to, step * every);
    }
    const bool last_counted = (per_epoch > 0 && to % per_epoch == 0) ||
                              (every > 0 && to % every == 0);
    return n + (to > from && !last_counted);
}

/* The bytes of the weights alone: the least a weights file or checkpoint takes. */
static double weights_bytes(const struct run *r)
{
    const struct sn_model *m = sn_trainer_model(r->t);
    return 4.0 * ((double)m->n_params + (double)m->n_buffers);
}

/* The bytes of a checkpoint's arrays: the weights and the optimizer's
 * state (adam's: 2.75 times the weights as files). */
static double checkpoint_bytes(const struct run *r)
{
    struct sn_train_plan p;
    sn_trainer_plan(r->t, &p);
    return weights_bytes(r) + 4.0 * (double)p.optim_states * (double)p.optim_len;
}

/* Whether a file of size bytes is more than the file-size limit (ulimit
 * -f, a batch system's) lets this process write; *limit its bytes. */
static bool over_fsize(double size, double *limit)
{
    struct rlimit fsize;
    if (getrlimit(RLIMIT_FSIZE, &fsize) != 0 || fsize.rlim_cur == RLIM_INFINITY)
        return false;
    *limit = (double)fsize.rlim_cur;
    return size > *limit;
}

static void warn_checkpoint_space(const struct train_flags *f, const struct run *r)
{
    struct statvfs fs;
    if (!f->ckdir || statvfs(f->ckdir, &fs) != 0)
        return;
    struct sn_train_plan p;
    sn_trainer_plan(r->t, &p);
    double count = (double)checkpoint_steps(sn_trainer_state(r->t)->global_step, p.end_step,
                                            p.steps_per_epoch, f->ckevery);
    int64_t *there = NULL;
    size_t n_there = 0;
    if (sn_ckptdir_list(f->ckdir, &there, &n_there) != SN_OK)
        n_there = 0;
    /* a checkpoint the run resumes beside is its size, measured: the
     * arrays alone leave out HDF5's own (a tiny model's 2 KB of arrays
     * take 30 KB as a file) */
    char newest[4096];
    struct stat st;
    const bool seen = n_there && sn_ckptdir_path(f->ckdir, there[0], newest, sizeof newest) ==
                                     SN_OK && stat(newest, &st) == 0;
    /* the bytes it holds on disk, at most its size: a sparse file of 1 TB
     * at the name (passed over as damaged) is no checkpoint's size */
    const double held = seen ? (double)st.st_blocks * 512.0 : 0.0;
    const double measured = seen ? (held < (double)st.st_size ? held : (double)st.st_size) : 0.0;
    free(there);
    if (f->keep == 0)
        n_there = 0;
    /* a new checkpoint is written before the oldest goes: one at least,
     * however many a resumed run's folder holds */
    const double peak = (double)f->keep + 1.0 - (double)n_there;
    if (f->keep > 0 && count > (peak < 1.0 ? 1.0 : peak))
        count = peak < 1.0 ? 1.0 : peak;
    const double arrays = checkpoint_bytes(r);
    const double each = measured > arrays ? measured : arrays;
    const double free_bytes = (double)fs.f_bavail * (double)fs.f_frsize;
    if (count * each > free_bytes && f->keep == 0)
        cli_eprintf("scratchnet: warning: --checkpoint-dir %s: this run writes about %.0f "
                    "checkpoints of at least %s MB, %s MB in all, and every one is kept, but "
                    "%s MB are free there: --keep K keeps the newest K\n", cli_line(f->ckdir),
                    count, sn_mb(each).s, sn_mb(count * each).s, sn_mb(free_bytes).s);
    else if (count * each > free_bytes)
        cli_eprintf("scratchnet: warning: --checkpoint-dir %s: --keep %ld needs %.0f more "
                    "checkpoint%s of at least %s MB at once, %s MB, but %s MB are free "
                    "there: %sanother folder\n", cli_line(f->ckdir), f->keep, count,
                    count == 1.0 ? "" : "s", sn_mb(each).s, sn_mb(count * each).s,
                    sn_mb(free_bytes).s, f->keep > 1 ? "a smaller --keep or " : "");
    else if (fs.f_files > 0 && fs.f_favail == 0)   /* bytes, but no name for a checkpoint */
        cli_eprintf("scratchnet: warning: --checkpoint-dir %s: its file system has no free "
                    "inode (df -i): the run would end at its first checkpoint; free some or name "
                    "another folder\n", cli_line(f->ckdir));
}

/* A file-size limit below a checkpoint's size (round 68 F3: the run
 * ended at its first checkpoint). */
static void warn_checkpoint_fsize(const struct train_flags *f, const struct run *r)
{
    double limit;
    if (!f->ckdir)
        return;
    const double size = checkpoint_bytes(r);
    if (over_fsize(size, &limit))
        cli_eprintf("scratchnet: warning: --checkpoint-dir %s: a checkpoint takes at least %s MB "
                    "and this process may write files of %s MB at most (ulimit -f): the run "
                    "would end at its first one; raise the limit\n", cli_line(f->ckdir),
                    sn_mb(size).s, sn_mb(limit).s);
}

/* An --out whose folder has less room than the weights: said before the
 * run (a warning: also with --quiet), not found at its end. */
static void warn_out_space(const struct train_flags *f, const struct run *r)
{
    char dir[4096], target[4096];
    struct stat st;
    if (!f->out)
        return;
    /* the folder of the file written: a link's target's (olink.h5 into a
     * full file system was checked beside the link) */
    const char *out = sn_fs_output_target(f->out, target, sizeof target, &st) == SN_OK ? target
                                                                                      : f->out;
    const char *slash = strrchr(out, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) + 1 : 1, slash ? out : ".");
    struct statvfs fs;
    if (statvfs(dir, &fs) != 0)
        return;
    const double size = weights_bytes(r);
    const double free_bytes = (double)fs.f_bavail * (double)fs.f_frsize;
    double limit;
    if (over_fsize(size, &limit))   /* a file-size limit: known now too */
        cli_eprintf("scratchnet: warning: --out %s: the weights take at least %s MB and this "
                    "process may write files of %s MB at most (ulimit -f): the run would end "
                    "without them; raise the limit\n", cli_line(f->out), sn_mb(size).s,
                    sn_mb(limit).s);
    else if (size > free_bytes)
        cli_eprintf("scratchnet: warning: --out %s: the weights take at least %s MB and "
                    "%s MB are free there: the run would end without them; free some room "
                    "or name another folder\n", cli_line(f->out), sn_mb(size).s,
                    sn_mb(free_bytes).s);
    else if (fs.f_files > 0 && fs.f_favail == 0)   /* bytes, but no name for the file */
        cli_eprintf("scratchnet: warning: --out %s: its folder's file system has no free inode "
                    "(df -i): the run would end without its weights; free some or name another "
                    "folder\n", cli_line(f->out));
}

/* What the trainer did to start, and the run's shape (rank 0). */
static void print_start(const struct train_flags *f, const struct run *r,
                        const struct sn_train_start *s)
{
    const struct sn_train_state *st = sn_trainer_state(r->t);
    if (s->init_loaded)
        cli_printf("init: %d parameter arrays from %s%s%s\n", s->init_loaded, cli_line(f->init),
                   s->init_refit[0] ? "; re-initialised (the file holds them in other shapes or in "
                                      "part): " : "",
                   s->init_refit);
    if (s->auto_found_none)
        cli_printf("resume auto: no checkpoint in %s, starting fresh\n", cli_line(f->ckdir));
    if (s->whitened[0])
        cli_printf("init = whiten: %s\n", s->whitened);
    if (s->resumed_from[0]) {
        char where[128];
        cli_position(where, sizeof where, st->epoch, st->step_in_epoch, st->global_step);
        char threads[160] = "";
        const long long was = s->resumed_threads, now = sn_parallel_threads();
        if (was > 0)   /* a requeue on a node of another cpuset changes them without a word */
            snprintf(threads, sizeof threads, " x %lld thread%s%s", was, cli_s(was),
                     was != now || s->resumed_world_size != sn_dist_size()
                         ? " (this run's ranks and threads differ: it will not match an "
                           "uninterrupted run bit for bit)" : "");
        cli_printf("resumed from %s %s, written by %lld rank%s%s\n", cli_line(s->resumed_from),
                   where, (long long)s->resumed_world_size, cli_s(s->resumed_world_size), threads);
    }
    if (s->overridden[0])
        cli_printf("resume: continuing with this run's settings where they differ "
                   "(--resume-override): "
                   "%s\n", s->overridden);
    if (s->lr_jump[0])
        cli_printf("resume: %s\n", s->lr_jump);
    fflush(stdout);
}

static void print_plan(const struct train_flags *f, const struct run *r)
{
    const struct sn_netcfg *net = sn_trainer_net(r->t);
    const struct sn_model *m = sn_trainer_model(r->t);
    const struct sn_train_state *st = sn_trainer_state(r->t);
    struct sn_train_plan p;
    sn_trainer_plan(r->t, &p);
    size_t n = sn_dataset_split(r->ds, "train")->n, left = p.skipped_per_epoch;
    char skipped[96] = "";
    if (left)
        snprintf(skipped, sizeof skipped, " (the last %zu example%s of each shuffled epoch %s "
                 "skipped)", left, cli_s((long long)left), left == 1 ? "is" : "are");
    cli_printf("training %s on %s: %zu example%s, global batch %d (%d per rank), %lld step%s per "
               "epoch%s, %zu parameters, %s\n", cli_line(f->model), cli_line(f->data), n,
               cli_s((long long)n),
               net->batch,
               p.local_batch, (long long)p.steps_per_epoch, cli_s(p.steps_per_epoch), skipped,
               m->n_params, sn_optim_name(net->optim.kind));
    cli_printf("the run ends at step %lld: %s\n", (long long)p.end_step,
               p.bound_by_steps && p.bound_by_epochs ? "--steps and the epoch count agree"
               : p.bound_by_steps                    ? "--steps"
                                                     : "the epoch count");
    if (p.optim_states)
        cli_printf("optimizer state: %d x %zu floats on rank 0 (%.2f MB)%s\n", p.optim_states,
                   p.optim_len, (double)p.optim_states * (double)p.optim_len * 4.0 / 1048576.0,
                   f->shard ? ", sharded over the ranks" : "");
    const bool test = sn_dataset_split(r->ds, "test") != NULL;
    if (p.data_held)
        cli_printf("data: %s held in memory (%.1f MiB per rank; --cache-mb %ld)\n",
                   test ? "train and test" : "train", p.data_mib, f->cache_mb);
    else
        cli_printf("data: read per batch from the file (%s %.1f MiB; --cache-mb %ld)\n",
                   test ? "train and test take" : "train takes", p.data_mib, f->cache_mb);
    if (!test)   /* a folder converted without --test: no test column, and why */
        cli_printf("no /test split in %s: the epochs are scored on the training data alone "
                   "(convert's test flags, --test DIR for a folder, make one)\n",
                   cli_line(f->data));
    struct sn_dist_hosts h;
    sn_dist_hosts(&h);
    if (sn_dist_size() == 1)
        cli_printf("gradients: one rank, nothing to average\n");
    else
        cli_printf("gradients averaged by the %s reducer (%d host%s, up to %d rank%s on one)\n",
                   sn_trainer_reducer_name(r->t), h.n_hosts, cli_s(h.n_hosts), h.max_local_size,
                   cli_s(h.max_local_size));
    if (sn_trainer_done(r->t)) {
        char where[128];
        cli_position(where, sizeof where, st->epoch, st->step_in_epoch, st->global_step);
        cli_printf("nothing to train: this run starts %s, and its end, step %lld (%s), is "
                   "not after that\n", where, (long long)p.end_step,
                   p.bound_by_steps ? "--steps" : "the epoch count");
    }
    fflush(stdout);
}

/* A stop requested during set-up (SN_EINTR, "interrupted by SIGTERM while
 * loading the data"): the run ends before its first step. */
static int setup_stopped(int rc)
{
    if (rc != SN_EINTR)
        return rc;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", sn_errmsg());
    return sn_fail(SN_EINTR, "%s, before the first step: nothing trained, nothing saved", msg);
}

/* The data's class names against the model's outputs (all ranks); more
 * names than the model predicts (a subset of a dataset keeps every name)
 * is said once: the weights keep the names of the classes it predicts. */
static int check_classes(const struct train_flags *f, struct run *r)
{
    const struct sn_netcfg *net = sn_trainer_net(r->t);
    if (net->target_input)
        return SN_OK;
    const int K = (int)sn_model_out_len(sn_trainer_model(r->t));
    const int classes = sn_loss_classes(net->loss, K);
    size_t n = 0;
    cli_warn_unread_splits(r->ds, f->data);
    int rc = sn_dist_agree(cli_check_dataset_classes(r->ds, f->data, K, classes, &n));
    /* each rank counted its own share of the labels: the whole set's
     * frequencies are the guess the not-learnt warning compares with (a
     * dataset stored class by class gave rank 0 half the classes) */
    struct sn_split *s = (struct sn_split *)sn_dataset_split(r->ds, "train");
    if (!rc && sn_dist_size() > 1 && s->label_counts) {
        rc = sn_dist_allreduce_sum_i64(s->label_counts, s->label_k);
        s->label_entropy = sn_label_entropy(s->label_counts, s->label_k, &s->label_classes);
    }
    if (!rc && n > (size_t)classes && sn_dist_rank() == 0)
        cli_eprintf("scratchnet: warning: %s names %zu classes, the model predicts %d: it learns "
                    "labels 0-%d, and the weights keep those %d names\n", cli_line(f->data), n,
                    classes,
                    classes - 1, classes);
    return rc;
}

/* Everything before the first step: the model, the data, the trainer,
 * the log, the start-up lines.  Returns the exit status. */
static int start_run(const struct train_flags *f, int argc, char **argv, struct run *r)
{
    const bool rank0 = sn_dist_rank() == 0;
    int rc = sn_dist_agree(cli_setup_threads(f->threads, &r->threads));
    if (!rc)
        rc = sn_dist_agree(sn_modelfile_read(f->model, &r->text));
    if (!rc)
        rc = cli_same_everywhere(argc, argv, 2, r->text);
    if (!rc)
        rc = sn_dist_agree(cli_data_hint(sn_dataset_open(f->data, &r->ds), f->data));
    if (!rc)
        rc = sn_dist_agree(cli_check_splits(r->ds, f->allow_split));
    if (!rc)   /* each rank trains on its shard of what must be one dataset */
        rc = cli_same_data(r->ds, f->data);
    if (!rc)
        rc = sn_dist_agree(sn_interrupt_check("opening the data"));
    struct sn_train_opts o;
    struct sn_train_start s;
    make_observer(f, r);
    make_opts(f, &r->ob, &o);
    if (!rc)
        rc = sn_trainer_create(r->text, f->model, r->ds, &o, &s, &r->t);
    if (!rc) {
        alive_trainer = r->t;
        on_alive(NULL, -1);   /* resumed: a checkpoint exists already */
    }
    if (!rc)   /* the data now in memory, compared whole */
        rc = cli_same_held_data(r->ds, f->data);
    if (!rc)
        rc = check_classes(f, r);
    if (!rc)
        cli_warn_small_batch(sn_trainer_net(r->t)->batch, sn_dist_size(),
                             has_batchnorm(sn_trainer_model(r->t)));
    if (!rc) {
        cli_warn_raw_pixels(r->ds, f->data);
        cli_warn_layout(sn_dataset_split(r->ds, "train"), f->data,
                        &sn_trainer_model(r->t)->in_shape);
        cli_warn_input_order(&sn_trainer_model(r->t)->in_shape, f->model);
    }
    if (!rc && f->log && rank0)
        rc = open_log(f, r);
    if (r->t)
        rc = sn_dist_agree(rc);
    if (!rc)
        rc = sn_dist_agree(profile_init(&r->prof, sn_trainer_model(r->t)->n_layers, f->profile,
                                        f->trace != NULL,
                                        sn_trainer_state(r->t)->global_step));
    if (!rc && !f->quiet)   /* the ranks first: the header of what follows */
        rc = sn_dist_agree(cli_print_ranks(r->threads));
    if (!rc && rank0 && !f->quiet)
        print_start(f, r, &s);
    if (!rc && rank0) {
        warn_warmup(r);
        warn_buckets(f, r);
        warn_checkpoint_space(f, r);
        warn_out_space(f, r);
        warn_checkpoint_fsize(f, r);
        warn_log_room(f, r);
        if (!f->out && !f->ckdir)   /* also with --quiet: a whole run could be lost unsaid */
            cli_eprintf("scratchnet: warning: kept: nothing (no --out and no --checkpoint-dir: "
                        "the weights end with the run)\n");
    }
    if (!rc && s.init_loaded)   /* a warning: also with --quiet */
        cli_warn_data_mismatch(f->init, f->data, r->ds, &r->ds->train, s.init_head);
    if (!rc && rank0 && !f->quiet)
        print_plan(f, r);
    return cli_end(setup_stopped(rc));
}

/* No run leaves a log it made empty (refused, no epoch ended, or the disk
 * was full): removed while its lock is still held, then closed. */
static void close_log(const struct train_flags *f, struct run *r)
{
    if (r->log && r->made_log)
        cli_undo_outputs(f->log, true, NULL, NULL);
    if (r->log)
        fclose(r->log);
    r->log = NULL;
}

/* A log removed, moved or rotated (logrotate's create) while the run
 * writes it: its records went on into a file no name reached, unseen
 * (round 68 F13).  Before each record the name is looked at and, when it
 * names another file or none, the log is opened again as a new run's
 * --log is: made anew, or the log now there appended to after its check. */
static void follow_log(const struct train_flags *f, struct run *r, double epoch)
{
    struct stat named, mine, at;
    const bool gone = stat(f->log, &named) != 0;
    if (fstat(fileno(r->log), &mine) != 0 ||
        (!gone && named.st_dev == mine.st_dev && named.st_ino == mine.st_ino))
        return;
    fclose(r->log);   /* written and synced: nothing of it is lost */
    r->log = NULL;
    int records, rc = SN_OK;
    /* a link put there may lead anywhere, the run's own --out included
     * (round 71 F4: the log was made as the weights, refused at the end) */
    if (lstat(f->log, &at) == 0 && S_ISLNK(at.st_mode))
        rc = sn_fail(SN_EINVAL, "it is now a symbolic link");
    if (!rc && !gone && !S_ISREG(named.st_mode))
        rc = sn_fail(SN_EINVAL, "it is now %s", sn_fs_kind(&named));
    if (!rc && !gone)
        rc = cli_log_check(f->log, &records);
    if (!rc)
        rc = open_log(f, r);
    const char *name = cli_line(f->log);
    if (rc)
        cli_eprintf("scratchnet: warning: --log %s no longer names the file this run wrote "
                    "(removed, moved or rotated), and cannot be opened again (%s): training goes "
                    "on without it\n", name, sn_errmsg());
    else
        cli_eprintf("scratchnet: warning: --log %s no longer names the file this run wrote "
                    "(removed, moved or rotated): epoch %.0f's record and the later ones go to "
                    "%s\n", name, epoch, gone ? "a new file of that name" : "the log now there");
}

/* The epoch's closing line and log record (rank 0). */
static void report_epoch(const struct train_flags *f, struct run *r,
                         const struct sn_epoch_info *e)
{
    const struct sn_metrics *mt = &e->m;
    struct sn_train_plan p;
    sn_trainer_plan(r->t, &p);
    char text[400], part[160] = "";
    /* an epoch cut short (--steps, a stop) says how much of it ran, and
     * one a run resumed in, over how many steps its train figures are */
    const int64_t first = ((int64_t)mt->epoch - 1) * p.steps_per_epoch;
    const int64_t within = (int64_t)mt->step - first;
    const int64_t counted = (int64_t)mt->step - (p.start_step > first ? p.start_step : first);
    const bool cut = within > 0 && within < p.steps_per_epoch;
    int k = cut ? snprintf(part, sizeof part, " (%lld of the epoch's %lld steps", (long long)within,
                           (long long)p.steps_per_epoch) : 0;
    if (counted < within)
        k += snprintf(part + k, sizeof part - (size_t)k, "%strain figures over the %lld %s the "
                      "resume at step %lld", cut ? "; " : " (", (long long)counted,
                      cut ? "since" : "steps since", (long long)p.start_step);
    if (k)
        snprintf(part + k, sizeof part - (size_t)k, ")");
    int n = snprintf(text, sizeof text, "epoch %.0f/%d  step %.0f%s  train loss %.4f", mt->epoch,
                     sn_trainer_net(r->t)->epochs, mt->step, part, mt->train_loss);
    if (e->has_acc)
        n += snprintf(text + n, sizeof text - (size_t)n, " acc %.2f%%", 100 * mt->train_acc);
    if (e->tested)
        n += snprintf(text + n, sizeof text - (size_t)n, "  test loss %.4f", mt->test_loss);
    if (e->tested && e->has_acc)
        n += snprintf(text + n, sizeof text - (size_t)n, " acc %.2f%%", 100 * mt->test_acc);
    snprintf(text + n, sizeof text - (size_t)n, "  lr %.4g  %.0f img/s  %.1f s\n", mt->lr,
             e->images_per_s, mt->elapsed_s);
    progress_print(&r->pg, text);   /* on unless --quiet */
    if (r->log)
        follow_log(f, r, mt->epoch);
    if (!r->log)
        return;
    struct cli_log_line line = {   /* a by-product: a failed write does not stop training */
        .epoch = (int64_t)mt->epoch, .step = (int64_t)mt->step, .train_steps = counted,
        .train_loss = mt->train_loss,
        .train_acc = e->has_acc ? mt->train_acc : NAN,
        .test_loss = e->tested ? mt->test_loss : NAN,
        .test_acc = e->tested && e->has_acc ? mt->test_acc : NAN, .lr = mt->lr,
        .images_per_s = e->images_per_s, .elapsed_s = mt->elapsed_s, .ranks = sn_dist_size(),
        .threads = r->threads, .peak_rss_mb = (int)e->peak_rss_mb,
    };
    if (cli_log_epoch(r->log, &line) != SN_OK) {   /* said once: no more lines are tried */
        cli_eprintf("scratchnet: warning: --log %s: %s; training goes on without it\n",
                    cli_line(f->log), sn_errmsg());
        close_log(f, r);
    }
}

/* Open MPI and srun hand ranks a pseudo-terminal even when the job's
 * output goes to a file: under a launcher, auto means plain lines. */
static void start_progress(const struct train_flags *f, struct run *r)
{
    struct sn_train_plan p;
    sn_trainer_plan(r->t, &p);
    /* a terminal that cannot redraw a line in place (TERM=dumb: an
     * editor's shell buffer) gets plain lines too */
    const char *term = getenv("TERM");
    bool tty = strcmp(f->progress, "tty") == 0 ||
               (strcmp(f->progress, "auto") == 0 && !cli_launched() && isatty(STDOUT_FILENO) &&
                !(term && strcmp(term, "dumb") == 0));
    int64_t every = f->progress_every > 0 ? f->progress_every
                    : p.steps_per_epoch >= 10 ? p.steps_per_epoch / 10 : 1;
    progress_init(&r->pg, stdout, sn_dist_rank() == 0 && !f->quiet, tty, every,
                  sn_trainer_state(r->t)->global_step);
}

/* CPU seconds: the busy time of the cores this process may use
 * (/proc/stat), this process's own (all its threads), and the wall clock. */
/* A classifier whose training loss, after 100 steps or more, is above
 * that of guessing by the label frequencies alone (ln K for K classes
 * alike; less for fewer classes or uneven ones: a 5-class subset under a
 * 10-output head guesses at ln 5) has not learnt: a learning rate too
 * large makes the loss explode (1.5e10 after 200 steps of
 * models/mlp.cfg at --lr 5) or kills every ReLU (3.56 at --lr 0.8), and
 * the run ended with exit 0 and nothing said.  The labels are every
 * rank's (check_classes sums their counts). */
static void warn_not_learnt(const struct run *r, double loss, int64_t steps)
{
    const struct sn_netcfg *net = sn_trainer_net(r->t);
    const int K = sn_loss_classes(net->loss, (int)sn_model_out_len(sn_trainer_model(r->t)));
    const struct sn_split *s = sn_dataset_split(r->ds, "train");
    /* cross_entropy's and binary's labels; with label smoothing even a
     * perfect fit scores above their entropy on uneven classes */
    const bool counted = s->label_classes > 1 && net->label_smoothing == 0;
    const int classes = counted ? s->label_classes : K;
    const double guess = counted ? s->label_entropy : log(K);
    if (sn_dist_rank() != 0 || steps < 100 || net->target_input || K < 2 ||
        (net->loss != SN_LOSS_CROSS_ENTROPY && net->loss != SN_LOSS_BCE) || !(loss > guess))
        return;
    cli_eprintf("scratchnet: warning: the training loss ended at %.4g, no better than guessing "
                "among %s%d classes (%.4g): the network did not learn; check the learning rate "
                "(lr %g here: too large makes the loss explode or silences every ReLU) and the "
                "inputs' scale\n", loss, counted && classes < K ? "the data's " : "", classes,
                guess, (double)net->sched.lr);
}

/* Collective: a stop that came while the first step's rows were shuffled
 * ends the run as a stop during set-up does (the highest signal number
 * any rank holds names it, as in report_stop). */
static int stopped_untrained(int stop)
{
    int v = stop;
    if (sn_dist_allreduce_max_int(&v, 1))
        return sn_fail(SN_EFATAL, "agreeing on the stop signal failed");
    return sn_fail(SN_EINTR, "interrupted by %s while shuffling the training rows, before the "
                   "first step: nothing trained, nothing saved", sn_signal_name(v ? v : -1));
}

/* Steps until the run's bound or a stop request (a signal: every rank
 * learns of it in the step's reduction and stops after that step). */
static int train_loop(const struct train_flags *f, struct run *r)
{
    start_progress(f, r);
    struct sn_train_plan p;
    sn_trainer_plan(r->t, &p);
    const int epochs = sn_trainer_net(r->t)->epochs, batch = sn_trainer_net(r->t)->batch;
    int rc = SN_OK;
    struct sn_step_info si = { 0 };
    const struct cli_cpu_use before = cli_cpu_use_now();
    double settled = NAN;   /* the training loss of the last epoch, or of enough of it */
    const int64_t steps0 = sn_trainer_state(r->t)->global_step;
    while (!rc && !sn_trainer_done(r->t)) {
        if ((rc = sn_trainer_step(r->t, &si)))
            break;
        if (si.skipped) {   /* stopped before the step had its rows: nothing to show */
            r->stopped = si.stop;
            if (sn_trainer_state(r->t)->global_step == steps0)
                rc = stopped_untrained(si.stop);
            break;
        }
        r->made_ckdir[0] = '\0';   /* a step is trained: the folder it made stays */
        /* the bar counts to where this epoch ends: its last step, or the
         * run's (--steps) when that comes first */
        const int64_t epoch_start = si.global_step - si.step_in_epoch;
        const int64_t epoch_steps = p.end_step - epoch_start < p.steps_per_epoch
                                        ? p.end_step - epoch_start : p.steps_per_epoch;
        progress_step(&r->pg, (int)si.epoch + 1, epochs, si.step_in_epoch, epoch_steps,
                      si.loss_mean, si.acc, batch, si.global_step, p.end_step);
        if (si.step_in_epoch >= 20)   /* a mean of enough steps to judge */
            settled = si.loss_mean;
        if (si.stop && !si.finished) {   /* time is short: no evaluation, straight to saving */
            r->stopped = si.stop;
            break;
        }
        if (si.epoch_done) {
            struct sn_epoch_info e;
            progress_break(&r->pg);
            if (!(rc = sn_trainer_end_epoch(r->t, &e)) && sn_dist_rank() == 0)
                report_epoch(f, r, &e);
            settled = rc ? settled : e.m.train_loss;
            if (!rc && e.stop) {   /* stopped while testing: the epoch's end is saved */
                r->stopped = e.stop;
                break;
            }
        }
    }
    progress_break(&r->pg);
    if (rc == SN_EIO && f->ckdir && strstr(sn_errmsg(), "no space left"))   /* a checkpoint cut */
        rc = sn_fail_suffix(rc, "; the checkpoints written before it are whole: free space, "
                            "then continue with --resume auto");
    /* a shorter run is too short to tell, unless its steps are long (15 of
     * cnn's at batch 256, 3 times slower beside other work, said nothing) */
    cli_warn_busy_cores(before, r->threads,
                        sn_trainer_state(r->t)->global_step - steps0 >= 50 ||
                            sn_clock_s() - before.wall >= 5.0, "trained");
    if (!rc)
        warn_not_learnt(r, settled, sn_trainer_state(r->t)->global_step - steps0);
    return cli_end(rc);
}

/* The name of this process's parent (the launcher: mpirun, its daemon,
 * slurmstepd), "its launcher" where /proc cannot tell. */
static void parent_name(char *name, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)getppid());
    FILE *fp = fopen(path, "r");
    if (!fp || !fgets(name, (int)len, fp) || !name[0] || name[0] == '\n')
        snprintf(name, len, "its launcher");
    name[strcspn(name, "\n")] = '\0';
    if (fp)
        fclose(fp);
}

/* Collective, after a stop that saved what the flags asked for: one line
 * naming the signal and what was kept.  The request reached every rank
 * through a step, the signal itself only some: the highest signal number
 * any rank holds names it (SIGTERM over SIGINT over SIGUSR1), and whether
 * a launcher sent it.  Exit 0 when something was saved, 1 when the flags
 * named nowhere to save. */
static int report_stop(const struct train_flags *f, const struct run *r)
{
    int v[2] = { r->stopped, cli_stop_sent_by_parent() };
    if (sn_dist_allreduce_max_int(v, 2))
        return cli_end(sn_fail(SN_EFATAL, "agreeing on the stop signal failed"));
    const bool saved = f->ckdir || f->out;
    if (sn_dist_rank() != 0)
        return saved ? 0 : 1;
    char by[160], kept[4400];
    snprintf(by, sizeof by, "%s", sn_signal_name(v[0] ? v[0] : -1));
    if (v[1]) {
        char parent[64];
        parent_name(parent, sizeof parent);
        snprintf(by + strlen(by), sizeof by - strlen(by), " from %s", parent);
    }
    const char *cont = sn_trainer_done(r->t) ? "" : " (continue with --resume auto)";
    const long long last = (long long)sn_trainer_checkpoint_step(r->t);
    char ck[160] = "checkpoint written";   /* skipped at a name nothing could free: said */
    if (last != (long long)sn_trainer_state(r->t)->global_step)
        snprintf(ck, sizeof ck, last >= 0 ? "this step's checkpoint skipped, the last one is step "
                 "%lld's" : "no checkpoint written", last);
    if (f->ckdir && f->out)
        snprintf(kept, sizeof kept, "%s%s, weights in %s", ck, last >= 0 ? cont : "", f->out);
    else if (f->ckdir)
        snprintf(kept, sizeof kept, "%s%s", ck, last >= 0 ? cont : "");
    else if (f->out)
        snprintf(kept, sizeof kept, "weights in %s (without --checkpoint-dir the run cannot be "
                 "continued)", f->out);
    else
        snprintf(kept, sizeof kept, "nothing saved (give --checkpoint-dir or --out to keep a "
                 "stopped run's work)");
    char line[4800];
    if (sn_trainer_done(r->t))   /* a resume has nothing left to do: the figures are eval's */
        snprintf(line, sizeof line, "scratchnet: stopped by %s during the run's final test, "
                 "after its last step (%lld): training is complete, its test figures are not "
                 "(scratchnet eval gives them); %s\n", by,
                 (long long)sn_trainer_state(r->t)->global_step, kept);
    else
        snprintf(line, sizeof line, "scratchnet: stopped by %s after step %lld: %s\n", by,
                 (long long)sn_trainer_state(r->t)->global_step, kept);
    sn_text_clean(line, true);      /* it quotes --out */
    cli_output_now(stderr, line);   /* best effort: mpirun may have stopped reading */
    return saved ? 0 : 1;
}

/* "wrote PATH" (rank 0, unless --quiet), without waiting (progress.h). */
static void print_wrote(struct run *r, const char *path)
{
    char text[4200];
    snprintf(text, sizeof text, "wrote %s\n", cli_line(path));
    progress_print(&r->pg, text);
}

/* After the loop: --profile, --trace, the last checkpoint, --out. */
static int wrap_up(const struct train_flags *f, struct run *r)
{
    const bool rank0 = sn_dist_rank() == 0;
    const struct sn_model *m = sn_trainer_model(r->t);
    if (f->profile && rank0) {
        profile_print(&r->prof, m, sn_trainer_net(r->t)->batch, r->threads);
        const int64_t steps = sn_trainer_state(r->t)->global_step - r->prof.first_step;
        if (steps > 0 && sn_dist_size() > 1)   /* one rank sends nothing */
            cli_printf("gradient messages sent by rank 0: %.4f MiB per step (%s)\n",
                       (double)sn_trainer_bytes_sent(r->t) / (double)steps / 1048576.0,
                       sn_trainer_reducer_name(r->t));
    }
    /* the run's work first: a trace that cannot be written (a diagnostic)
     * must not cost the checkpoint or the weights */
    int rc = sn_trainer_finish(r->t);
    if (!rc && f->out) {   /* a stopped run's weights too: the step it reached */
        rc = sn_trainer_save(r->t, f->out);
        if (!rc)
            print_wrote(r, f->out);
    }
    int trace_rc = SN_OK;
    char out_err[1024] = "";   /* the error line; the trace's failure a warning beside it */
    if (rc)
        snprintf(out_err, sizeof out_err, "%s", sn_errmsg());
    if (f->trace) {
        trace_rc = sn_dist_agree(trace_write(&r->prof.tr, f->trace, m, sn_phase_names,
                                             SN_PHASE_N));
        if (trace_rc && rc) {   /* each message whole: each names the file it kept */
            if (sn_dist_rank() == 0)
                cli_eprintf("scratchnet: warning: --trace: %s\n", sn_errmsg());
            sn_fail(rc, "%s", out_err);
        }
        if (!trace_rc && r->prof.tr.n == 0 && sn_dist_rank() == 0)
            cli_eprintf("scratchnet: warning: --trace %s holds no step: the run ended within "
                        "the warm-up (give at least 15 steps for the 10 it records)\n",
                        cli_line(f->trace));
        if (!trace_rc)
            print_wrote(r, f->trace);
    }
    if (!rc && r->stopped) {
        const int code = report_stop(f, r);
        return trace_rc ? cli_end(trace_rc) : code;
    }
    return cli_end(rc ? rc : trace_rc);
}

static void end_run(const struct train_flags *f, struct run *r)
{
    watchdog_stop();
    profile_free(&r->prof);
    alive_trainer = NULL;
    sn_trainer_destroy(r->t);
    sn_dataset_close(r->ds);
    free(r->text);
    close_log(f, r);
}

int sn_cmd_train(int argc, char **argv)
{
    struct train_flags f;
    int rc = parse_flags(argc, argv, &f);
    if (rc == CLI_HELP)
        return cli_usage(usage);
    if (!rc)
        rc = check_flags(&f);
    struct run r;
    memset(&r, 0, sizeof r);
    int code = cli_agree(rc);
    if (!code)   /* a stop while outputs are checked ends as one during set-up (user 44 U14) */
        code = cli_agree(setup_stopped(prepare_outputs(&f, &r)));
    if (code) {
        cli_undo_outputs(NULL, false, f.ckdir, r.made_ckdir);
        return code;
    }
    /* the watchdog guards every collective from here on, setup included;
     * a world of one rank has no peer to wait for (it killed a healthy
     * run whose step was slower than --timeout) */
    code = cli_agree(watchdog_start(sn_dist_size() > 1 ? f.timeout : 0, sn_dist_rank(),
                                    f.ckdir != NULL));
    if (!code)
        code = start_run(&f, argc, argv, &r);
    if (!code)
        code = train_loop(&f, &r);
    if (!code)
        code = wrap_up(&f, &r);
    end_run(&f, &r);
    if (code)   /* a refused run creates nothing */
        cli_undo_outputs(NULL, false, f.ckdir, r.made_ckdir);
    return code;
}
