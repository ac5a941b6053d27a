/* trainer: setting a run up and tearing it down (see trainer.h; the steps
 * and epochs are in step.c).
 *
 * Creation is a sequence of fallible stages, each followed by
 * sn_dist_agree, so one rank's failure (a bad label in its block, a file
 * it cannot read) stops every rank with the same status instead of leaving
 * the others waiting in the next collective.
 */
#include "train/trainer_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/augment.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "core/tensor.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "io/ckpt.h"
#include "io/fingerprint.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/weights.h"
#include "train/ckptdir.h"
#include "train/evaluate.h"

#define INIT_STREAM 0x494e4954ULL

const char *const sn_phase_names[SN_PHASE_N] = { "data", "forward", "backward", "allreduce",
                                                 "optimizer" };

void sn_train_opts_defaults(struct sn_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = -1;
    o->lr = -1.0;
    o->accumulate = 1;
    o->cache_mb = 4096.0;
    o->eval_every = 1;
    o->allreduce = SN_ALLREDUCE_AUTO;
    o->compress = SN_HALF_NONE;
    o->overlap = true;
    o->bucket_mb = 1.0;
}

void sn_trainer_warn(const struct sn_trainer *t, const char *fmt, ...)
{
    const struct sn_train_observer *ob = t->o.observer;
    if (!ob || !ob->warn)
        return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ob->warn(ob->ctx, msg);
}

void sn_trainer_alive(const struct sn_trainer *t, int64_t step)
{
    const struct sn_train_observer *ob = t->o.observer;
    if (ob && ob->alive)
        ob->alive(ob->ctx, step);
}

bool sn_trainer_opt_whole(const struct sn_trainer *t)
{
    return t->opt.lo == 0 && t->opt.len == t->m->n_params;
}

/* --optimizer of another kind: its defaults, with the model file's
 * decay, Lookahead, average and the settings the new kind also reads; a
 * setting the file gave (not its kind's default) that the new kind does
 * not read is said, as it would be dropped. */
static struct sn_optim_cfg other_kind(const struct sn_trainer *t, enum sn_optim_kind kind)
{
    const struct sn_optim_cfg *f = &t->net.optim, fd = sn_optim_defaults(f->kind);
    struct sn_optim_cfg d = sn_optim_defaults(kind);
    struct {
        const char *key;
        float file, def, *to;
    } keys[] = {
        { "momentum", f->momentum, fd.momentum, &d.momentum },
        { "nesterov", f->nesterov, 0.0f, NULL },
        { "beta1", f->beta1, fd.beta1, &d.beta1 }, { "beta2", f->beta2, fd.beta2, &d.beta2 },
        { "eps", f->eps, fd.eps, &d.eps }, { "alpha", f->alpha, fd.alpha, &d.alpha },
    };
    char dropped[256] = "";
    int n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (keys[i].file == keys[i].def)
            continue;
        if (sn_optim_reads(kind, keys[i].key))
            *keys[i].to = keys[i].file;   /* not nesterov: only sgd reads it, the file's kind */
        else
            snprintf(dropped + strlen(dropped), sizeof dropped - strlen(dropped), "%s%s %g",
                     n++ ? ", " : "", keys[i].key, (double)keys[i].file);
    }
    if (n)
        sn_trainer_warn(t, "--optimizer %s: the model file's %s %s not used by %s",
                        sn_optim_name(kind), dropped, n == 1 ? "is" : "are", sn_optim_name(kind));
    d.weight_decay = f->weight_decay;
    d.decoupled_wd = f->decoupled_wd;
    const bool was = f->decoupled_wd || f->kind == SN_OPT_ADAMW;
    const bool now = f->decoupled_wd || kind == SN_OPT_ADAMW;
    if (f->weight_decay != 0.0f && was != now)   /* one number, another strength */
        sn_trainer_warn(t, "--optimizer %s: the model file's weight_decay %g now %s",
                        sn_optim_name(kind), (double)f->weight_decay,
                        now ? "shrinks the weights directly (decoupled, as AdamW) instead of "
                              "adding to the gradient (L2)"
                            : "adds to the gradient (L2) instead of shrinking the weights "
                              "directly (decoupled, as AdamW)");
    d.lookahead_k = f->lookahead_k;
    d.lookahead_alpha = f->lookahead_alpha;
    d.ema = f->ema;
    d.ema_every = f->ema_every;
    d.ema_warmup = f->ema_warmup;
    return d;
}

/* The options' overrides of the model file's [net]. */
static int apply_overrides(struct sn_trainer *t)
{
    const struct sn_train_opts *o = &t->o;
    if (o->epochs >= 0)
        t->net.epochs = o->epochs;
    if (o->batch > 0)
        t->net.batch = o->batch;
    if (o->lr >= 0)
        t->net.sched.lr = (float)o->lr;
    if (o->lr >= 0 && t->net.sched.kind == SN_SCHED_COSINE && t->net.sched.min_lr > o->lr)
        return sn_fail(SN_EUSAGE, "--lr %g is below the model file's lr_min %g: the cosine "
                       "schedule would rise to it (lr_min is the floor it decays to)", o->lr,
                       (double)t->net.sched.min_lr);
    if (o->seed_set)
        t->net.seed = o->seed;
    if (!o->optimizer)
        return SN_OK;
    enum sn_optim_kind kind;
    if (sn_optim_parse(o->optimizer, &kind))
        return sn_fail_prefix(SN_EUSAGE, "--optimizer: ");
    if (kind != t->net.optim.kind)
        t->net.optim = other_kind(t, kind);
    return SN_OK;
}

/* The model text parsed and overridden; the global batch split P ways. */
static int stage_model(struct sn_trainer *t, const char *text, const char *name)
{
    if (!(t->cfg_text = strdup(text)))
        return sn_fail(SN_ENOMEM, "out of memory");
    int rc = sn_modelfile_parse(text, name, &t->net, &t->m);
    if (!rc)
        rc = apply_overrides(t);
    if (rc)
        return rc;
    const int B = t->net.batch, P = t->P;
    if (B < P)
        return sn_fail(SN_EUSAGE, "global batch %d is smaller than the %d ranks: every rank "
                       "needs at least one example per step", B, P);
    if (B % P != 0)
        return sn_fail(SN_EUSAGE, "global batch %d is not divisible by %d ranks: use --batch %d "
                       "or %d (multiples of %d) or a rank count that divides %d", B, P,
                       B - B % P, B - B % P + P, P, B);
    if ((B / P) % t->o.accumulate != 0)
        return sn_fail(SN_EUSAGE, "--accumulate %d does not divide the %d examples each rank "
                       "takes per step (global batch %d / %d rank%s)", t->o.accumulate, B / P, B,
                       P, P == 1 ? "" : "s");
    t->b = B / P;
    t->mb = t->b / t->o.accumulate;
    /* the batch against the data first: a batch of more rows than there
     * are is the problem, not the memory it would take */
    const struct sn_split *train = sn_dataset_split(t->ds, "train");
    if (train && train->n < (size_t)B)
        return sn_fail(SN_EINVAL, "%s: /train has %zu rows, fewer than one global batch of %d",
                       sn_dataset_name(t->ds), train->n, B);
    /* before the data loads and anything is allocated */
    return sn_model_check_budget(t->m, t->mb, sn_optim_count_states(&t->net.optim), name);
}

/* The data checked against the model, and held in memory when it fits. */
/* Hold train and test in memory, or every rank reads them per batch: the
 * ranks agree (one rank holding them and another not read as different
 * data to the same-data check).  Collective, whatever a rank's checks
 * found: its error is agreed after. */
static int hold_data(struct sn_trainer *t, int rc, const char *data_name)
{
    const double bytes = (t->train ? (double)sn_dataset_cache_bytes(t->train) : 0.0) +
                         (t->test ? (double)sn_dataset_cache_bytes(t->test) : 0.0);
    const double half = sn_memory_half();
    t->data_bytes = bytes;
    const bool asked = bytes <= t->o.cache_mb * 1048576.0, room = !(half > 0 && bytes > half);
    double no[2] = { rc != SN_OK, asked && room ? 0.0 : 1.0 };
    int drc = sn_dist_allreduce_sum_f64(no, 2);
    if (rc || drc || no[0] > 0)
        return rc ? rc : drc;
    if (no[1] > 0) {   /* one rank's --cache-mb or memory: no rank holds them */
        if (asked)
            sn_trainer_warn(t, "%s: %s take%s %.0f MiB, more than half of the memory "
                            "%s may use (a cgroup's or ulimit -v's limit, or the machine's): "
                            "every rank reads per batch from the file", data_name,
                            t->test ? "train and test" : "train", t->test ? "" : "s",
                            bytes / 1048576.0,
                            room ? "another rank" : "this process");
        return SN_OK;
    }
    rc = sn_dataset_cache(t->ds, t->train);
    if (!rc && t->test)
        rc = sn_dataset_cache(t->ds, t->test);
    double failed[2] = { rc && rc != SN_ENOMEM, rc == SN_ENOMEM };
    if (rc == SN_ENOMEM)
        sn_trainer_warn(t, "%s; every rank reads per batch from the file", sn_errmsg());
    drc = sn_dist_allreduce_sum_f64(failed, 2);
    if ((rc && rc != SN_ENOMEM) || drc || failed[0] > 0)
        return rc && rc != SN_ENOMEM ? rc : drc;
    if (failed[1] > 0) {   /* what is not held is read per batch: slower, not wrong */
        sn_dataset_uncache(t->ds, t->train);
        if (t->test)
            sn_dataset_uncache(t->ds, t->test);
    }
    t->data_held = failed[1] == 0;
    return SN_OK;
}

/* The permutations of the training rows (two epochs' when read per batch)
 * weighed against the memory before the data is checked: a 10 MB file of
 * 2^31 - 1 rows spent 98 s counting its chunks and labels, then had no
 * room for them (8.6 GB). */
static int perm_fits(const struct sn_trainer *t, const char *data_name)
{
    const int local = sn_dist_local_size() > 0 ? sn_dist_local_size() : 1;
    const double bytes = 2.0 * (double)t->train->n * sizeof *t->perm[0];
    const double half = sn_memory_half();   /* the host's, shared by its ranks */
    if (half > 0 && bytes * local > half)
        return sn_fail(SN_ENOMEM, "%s: /train has %zu rows, whose shuffled order takes %.0f MB "
                       "on each of this host's %d rank%s, more than half of the %.0f MB this "
                       "process may use (a cgroup's or ulimit -v's limit, or the machine's): "
                       "fewer rows (convert subset), fewer ranks a host, or a larger machine",
                       data_name, t->train->n, bytes / 1e6, local, local == 1 ? "" : "s",
                       2.0 * half / 1e6);
    return SN_OK;
}

/* What one shuffled batch may inflate, read per batch from the file: each
 * row can need a band of compressed chunks of its own (the chunks holding
 * its rows), inflated whole when the cache does not hold it.  A 9 MB file
 * of 32 chunks of 266 MB, each under the chunk and band limits, inflated
 * about 7 GB a step (60-90 s), which its stop signal waited for. */
#define MAX_BATCH_INFLATE ((double)(1u << 30))

static int batch_inflate_fits(const struct sn_trainer *t, const char *data_name)
{
    static const char *const paths[] = { "/train/x", "/train/y" };
    for (int i = 0; i < 2 && !t->data_held && !t->o.no_shuffle && t->ds->f; i++) {
        size_t bands = 0, tall = 0;
        const size_t band = sn_h5_exists(t->ds->f, paths[i])
                                ? sn_h5_row_inflate(t->ds->f, paths[i], &bands, &tall) : 0;
        const size_t rows = (size_t)t->b < bands ? (size_t)t->b : bands;
        const double most = (double)band * (double)rows;
        if (most > MAX_BATCH_INFLATE)
            return sn_fail(SN_EINVAL, "%s: %s is read per batch in random order, and its "
                           "compressed chunks hold %zu rows each (%.0f MB hold one row): a batch "
                           "of %d rows would inflate up to %.0f MB every step: rewrite it in "
                           "chunks of fewer rows (h5repack -l %s:CHUNK=...), give it room in "
                           "memory (--cache-mb), or train with --no-shuffle", data_name,
                           paths[i], tall, (double)band / 1e6, t->b, most / 1e6, paths[i]);
    }
    return SN_OK;
}

static int stage_data(struct sn_trainer *t, const char *data_name)
{
    t->train = sn_dataset_split(t->ds, "train");
    t->test = sn_dataset_split(t->ds, "test");
    int rc = perm_fits(t, data_name);
    if (!rc)
        rc = sn_check_split(t->m, &t->net, t->ds, t->train);
    if (!rc && t->test)
        rc = sn_check_split(t->m, &t->net, t->ds, t->test);
    rc = hold_data(t, rc, data_name);   /* in memory when it fits: no file access in a step */
    return rc ? rc : batch_inflate_fits(t, data_name);
}

/* The model built for micro-batches, from the seed's initialisation. */
static int stage_build(struct sn_trainer *t)
{
    struct sn_rng init_rng;
    sn_rng_seed(&init_rng, t->net.seed, INIT_STREAM);
    t->K = (int)sn_model_out_len(t->m);
    t->in_len = sn_shape_len(&t->m->in_shape);
    return sn_model_build(t->m, t->mb, &init_rng);
}

/* The model's watches: the last backward of a step tells the reducer what
 * is final; every pass tells the observer its layers' times. */
static void watch_ready(void *ctx, size_t from)
{
    sn_reducer_ready(((struct sn_trainer *)ctx)->red, from);
}

static void watch_poll(void *ctx)
{
    sn_reducer_poll(((struct sn_trainer *)ctx)->red);
}

static void watch_layer(void *ctx, int layer, bool backward, double t0, double t1)
{
    const struct sn_train_observer *ob = ((struct sn_trainer *)ctx)->o.observer;
    ob->layer(ob->ctx, layer, backward, t0, t1);
}

static void set_watches(struct sn_trainer *t)
{
    const struct sn_train_observer *ob = t->o.observer;
    void (*layer)(void *, int, bool, double, double) = ob && ob->layer ? watch_layer : NULL;
    t->watch = (struct sn_watch){ .ctx = t, .ready = watch_ready, .poll = watch_poll,
                                  .layer = layer };
    t->timing = (struct sn_watch){ .ctx = t, .layer = layer };
}

/* The reducer (collective: it may allocate a shared window) and this
 * rank's optimizer. */
static int stage_reducer(struct sn_trainer *t)
{
    struct sn_reducer_cfg rc_cfg = {
        .sharded = t->o.shard_optimizer,
        .mode = t->o.allreduce,
        .compress = t->o.compress,
        .overlap = t->o.overlap,
        .bucket_floats = (size_t)(t->o.bucket_mb * 1048576.0 / sizeof(float)),
    };
    const struct sn_train_observer *ob = t->o.observer;
    if (ob && ob->bucket) {
        rc_cfg.on_start = ob->bucket;
        rc_cfg.on_start_ctx = ob->ctx;
    }
    if (t->o.shard_optimizer && t->net.optim.ema > 0.0f)
        return sn_fail(SN_EINVAL, "[net] ema: the weight average needs the whole optimizer "
                       "state on every rank: train without --shard-optimizer");
    int rc = sn_reducer_create(&rc_cfg, t->m, &t->red);
    if (rc)
        return rc;
    /* a setting that would change nothing here, yet go into the run record:
     * refused for a new run; a resumed one keeps its job's setting, as an
     * elastic restart on the hosts left must (its residuals start again) */
    const char *why = t->P == 1 ? "1 rank" : "the ranks of one host read each other's "
                                             "through a shared window";
    if (t->o.compress != SN_HALF_NONE && !sn_reducer_compressed(t->red) && t->o.resume)
        sn_trainer_warn(t, "--compress %s: no gradients are sent as messages here (%s): they "
                        "go uncompressed until the run has more hosts again",
                        sn_half_name(t->o.compress), why);
    else if (t->o.compress != SN_HALF_NONE && !sn_reducer_compressed(t->red))
        return sn_fail(SN_EUSAGE, "--compress %s: no gradients are sent as messages here (%s), "
                       "so there is nothing to compress%s", sn_half_name(t->o.compress), why,
                       t->P == 1 ? "" : "; --allreduce mpi sends them as messages between "
                                        "the ranks of one host");
    size_t lo, len;
    sn_reducer_block(t->red, &lo, &len);
    rc = sn_optim_init_block(&t->opt, &t->net.optim, lo, len);
    t->opt_ready = rc == SN_OK;
    return rc;
}

/* --resume FILE with a --checkpoint-dir holding checkpoints after FILE's
 * step: this run would write its own line of training over them (another
 * model's, or the folder's run beyond the point resumed), so it stops
 * before the folder is touched. */
static int check_folder_ahead(const struct sn_trainer *t)
{
    int64_t *steps, from;
    size_t n;
    char newest[4096];
    int rc = sn_ckptdir_list(t->o.ckpt_dir, &steps, &n);
    if (!rc && n)
        rc = sn_ckpt_read_step(t->o.resume, &from);
    if (!rc && n && steps[0] > from &&
        !(rc = sn_ckptdir_path(t->o.ckpt_dir, steps[0], newest, sizeof newest)))
        rc = sn_fail(SN_EUSAGE, "--checkpoint-dir %s holds checkpoints after step %lld of %s "
                     "(the newest: %s): this run would replace them with another line of "
                     "training; continue the folder's newest (--resume auto, if it is this model's "
                     "run) or give this run another folder", t->o.ckpt_dir, (long long)from,
                     t->o.resume, newest);
    free(steps);
    return rc;
}

/* The checkpoint folder, made and locked for this run on rank 0 (where
 * checkpoints are written and read).  What is in it is checked first
 * (sn_ckptdir_check: no other run's checkpoints for a run that does not
 * resume), before the lock file is made or written, so a refused run
 * changes nothing there. */
static int stage_folder(struct sn_trainer *t)
{
    if (!t->o.ckpt_dir || t->rank != 0)
        return SN_OK;
    int rc = sn_ckptdir_check(t->o.ckpt_dir, !t->o.resume);
    if (!rc && t->o.resume && strcmp(t->o.resume, "auto") != 0)
        rc = check_folder_ahead(t);
    if (!rc)
        rc = sn_fs_mkdirs(t->o.ckpt_dir);
    t->lock_made = !rc && !sn_ckptdir_has_lock_file(t->o.ckpt_dir);
    if (!rc)
        rc = sn_ckptdir_lock(t->o.ckpt_dir, &t->lock_fd, t->lock_was, sizeof t->lock_was);
    return rc;
}

/* Once the run has taken the folder (its checkpoint accepted, or none):
 * the temporary files of writes a killed run never finished.  A refused
 * run leaves them, as it leaves the whole folder. */
static void tidy_folder(struct sn_trainer *t)
{
    char first[4096], kept[4096];
    if (!t->o.ckpt_dir || t->rank != 0)
        return;
    const int left = sn_ckptdir_remove_tmp(t->o.ckpt_dir, first, sizeof first, kept,
                                           sizeof kept);
    if (left)
        sn_trainer_warn(t, "removed %d temporary file%s of checkpoint writes that never "
                        "finished (%s%s)", left, left == 1 ? "" : "s", first,
                        left > 1 ? ", ..." : "");
    if (kept[0])
        sn_trainer_warn(t, "kept %s: named like the temporary file of a checkpoint write, but "
                        "a whole file (move it out of the checkpoint folder)", kept);
}

/* A train split read from the file every step: a thread reads the next
 * step's rows while this one computes (io/prefetch.h), which needs the
 * next epoch's permutation before the epoch ends. */
static int stage_prefetch(struct sn_trainer *t)
{
    if (t->train->x_mem || !t->ds->f)
        return SN_OK;
    t->perm[1] = malloc(t->train->n * sizeof *t->perm[1]);
    t->next_rows = malloc((size_t)t->b * sizeof *t->next_rows);
    if (!t->perm[1] || !t->next_rows)
        return sn_fail(SN_ENOMEM, "out of memory for reading batches ahead");
    return sn_prefetch_create(t->ds, t->train, (size_t)t->b, &t->pf);
}

/* Every buffer a step uses, sized once. */
static int stage_buffers(struct sn_trainer *t)
{
    const size_t b = (size_t)t->b;
    int rc = sn_dataset_reserve(t->ds, b);
    t->st.cap_metrics = 2 * t->net.epochs + 64;
    t->st.extra_pieces = t->P;
    t->st.history = calloc((size_t)t->st.cap_metrics, sizeof *t->st.history);
    t->perm[0] = malloc(t->train->n * sizeof *t->perm[0]);
    t->rows = malloc(b * sizeof *t->rows);
    t->x = sn_alloc_f32(b * t->in_len);
    t->targets = sn_alloc_f32(b * (size_t)t->K);
    t->dz = sn_alloc_f32(b * (size_t)t->K);
    t->labels = malloc(b * sizeof *t->labels);
    const bool aug = sn_augment_any(&t->net.augment);
    if (aug)
        t->aug_tmp = sn_alloc_f32(b * t->in_len);
    const bool ema = t->net.optim.ema > 0.0f;
    if (ema)
        t->live = sn_alloc_f32(t->m->n_params);
    const size_t nb = t->m->n_buffers;
    if (nb)
        t->buffers_before = sn_alloc_f32(nb);
    if (!rc && (!t->st.history || !t->perm[0] || !t->rows || !t->x || !t->targets || !t->dz ||
                !t->labels || (aug && !t->aug_tmp) || (ema && !t->live) ||
                (nb && !t->buffers_before)))
        rc = sn_fail(SN_ENOMEM, "out of memory for the training buffers");
    return rc ? rc : stage_prefetch(t);
}

/* Where the run ends: --steps alone runs as many epochs as it takes; with
 * --epochs (or the model file's epochs) whichever ends first.  The
 * learning-rate schedule spans the run. */
static int plan_bounds(struct sn_trainer *t)
{
    t->steps_per_epoch = sn_shard_steps(t->train->n, t->net.batch);
    t->bound_steps = t->o.steps > 0;
    const bool epochs_given = !t->bound_steps || t->o.epochs >= 0;
    const int64_t by_epochs = t->steps_per_epoch * t->net.epochs;
    t->end_step = epochs_given ? by_epochs : t->o.steps;
    /* which bound ends the run: --steps, the epochs, or both at once */
    t->bound_epochs = epochs_given && !(t->bound_steps && t->o.steps < by_epochs);
    if (t->bound_steps && epochs_given && t->o.steps < by_epochs)
        t->end_step = t->o.steps;
    else if (t->bound_steps && epochs_given)
        t->bound_steps = t->o.steps == by_epochs;
    if (!epochs_given) {   /* for the epoch counts people see */
        const int64_t epochs = (t->end_step + t->steps_per_epoch - 1) / t->steps_per_epoch;
        if (epochs > SN_EPOCHS_MAX)
            return sn_fail(SN_EINVAL, "--steps %lld is %lld epochs of this data (%lld steps "
                           "each); the most a run may have is %d epochs", (long long)t->o.steps,
                           (long long)epochs, (long long)t->steps_per_epoch, SN_EPOCHS_MAX);
        t->net.epochs = (int)epochs;
    }
    t->net.sched.total_steps = t->end_step;
    return SN_OK;
}

/* A stage's status, or SN_EINTR when a stop was requested while it ran
 * (core/interrupt.h): set-up ends at the next stage, before any step. */
static int stage_end(int rc, const char *doing)
{
    return rc ? rc : sn_interrupt_check(doing);
}

/* The stages in order, each agreed over ranks. */
static int create_stages(struct sn_trainer *t, const char *text, const char *name,
                         const char *data_name, struct sn_train_start *start)
{
    int rc = sn_dist_agree(stage_end(stage_model(t, text, name), "reading the model"));
    if (!rc)
        rc = sn_dist_agree(stage_end(stage_data(t, data_name), "loading the data"));
    sn_trainer_alive(t, -1);   /* loading the data may take a while */
    if (!rc)   /* every rank, before the collective window below */
        rc = sn_dist_agree(stage_end(stage_build(t), "building the model"));
    if (!rc)
        rc = sn_dist_agree(stage_reducer(t));
    if (!rc) {
        set_watches(t);
        rc = sn_dist_agree(plan_bounds(t));
    }
    if (!rc)
        rc = sn_dist_agree(stage_buffers(t));
    if (!rc)
        rc = sn_dist_agree(stage_folder(t));
    if (!rc)
        rc = sn_trainer_start(t, start);
    if (!rc)
        rc = sn_dist_agree(stage_end(rc, "loading the starting point"));
    if (!rc)
        tidy_folder(t);
    sn_trainer_alive(t, -1);
    t->saved_step = t->started_at = t->st.global_step;   /* finish writes only when this moves */
    return rc;
}

/* An option the command's flag would have refused, named with its range:
 * a library caller's was quietly mapped to something (hostile round 70
 * F4: accumulate 0, steps -5, lr NaN trained); NaN fails both bounds. */
static int opt_range(const char *name, double v, double lo, double hi)
{
    if (v >= lo && v <= hi)
        return SN_OK;
    return sn_fail(SN_EUSAGE, "sn_train_opts.%s is %g: it must be from %g to %g", name, v, lo,
                   hi);
}

static int check_opts(const struct sn_train_opts *o)
{
    int rc = o->epochs >= 0 ? opt_range("epochs", o->epochs, 0, SN_EPOCHS_MAX) : SN_OK;
    if (!rc && o->batch)   /* 0: the model file's */
        rc = opt_range("batch", o->batch, 1, 1 << 20);
    if (!rc && !(o->lr < 0))   /* < 0: the model file's */
        rc = opt_range("lr", o->lr, 0, 1e6);
    if (!rc)
        rc = opt_range("steps", (double)o->steps, 0, 0x1p40);
    if (!rc)
        rc = opt_range("accumulate", o->accumulate, 1, 65536);
    if (!rc)
        rc = opt_range("cache_mb", o->cache_mb, 0, 1 << 24);
    if (!rc)
        rc = opt_range("eval_every", o->eval_every, 1, 1 << 20);
    if (!rc)
        rc = opt_range("ckpt_every", (double)o->ckpt_every, 0, 0x1p40);
    if (!rc)
        rc = opt_range("keep", (double)o->keep, 0, 1000000);
    if (!rc)
        rc = opt_range("bucket_mb", o->bucket_mb, 1e-6, 65536);
    if (!rc && o->resume && strcmp(o->resume, "auto") == 0 && !o->ckpt_dir)
        rc = sn_fail(SN_EUSAGE, "sn_train_opts.resume \"auto\" needs a ckpt_dir: the newest "
                     "checkpoint of which folder?");
    return rc;
}

/* What every rank must pass sn_trainer_create alike: the model text, the
 * options that shape the run, and the training split's rows and row
 * length.  Ranks given different epochs or row counts waited in a
 * collective for good; a different width trained two models, exit 0
 * (round 70 F12).  The command agrees its flags and data before this. */
static uint64_t same_everywhere(const char *model_text, const struct sn_dataset *ds,
                                const struct sn_train_opts *o)
{
    const double nums[] = { o->epochs, o->batch, o->lr, o->seed_set, (double)o->seed,
                            (double)o->steps, o->no_shuffle, o->accumulate, o->cache_mb,
                            o->eval_every, (double)o->ckpt_every, (double)o->keep,
                            o->allreduce, o->compress, o->overlap, o->bucket_mb,
                            o->shard_optimizer, o->ckpt_dir != NULL, o->init != NULL,
                            o->resume != NULL, (double)ds->train.n, (double)ds->train.row_len };
    uint64_t h = sn_fnv1a(SN_FNV_START, model_text, strlen(model_text));
    h = sn_fnv1a(h, nums, sizeof nums);
    /* paths may differ (a file staged to each node's disk): whether each is
     * given counts, and auto */
    const bool automatic = o->resume && strcmp(o->resume, "auto") == 0;
    h = sn_fnv1a(h, &automatic, sizeof automatic);
    const char *texts[] = { o->optimizer, o->resume_override };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        h = sn_fnv1a(h, texts[i] ? texts[i] : "", texts[i] ? strlen(texts[i]) + 1 : 1);
    return h;
}

static int same_as_rank0(const char *model_text, const struct sn_dataset *ds,
                         const struct sn_train_opts *o)
{
    uint64_t mine = same_everywhere(model_text, ds, o), first = mine;
    int rc = sn_dist_size() > 1 ? sn_dist_bcast(&first, sizeof first, 0) : SN_OK;
    if (!rc && first != mine)
        rc = sn_fail(SN_EUSAGE, "sn_trainer_create on rank %d: its model text, options or "
                     "training rows differ from rank 0's (every rank passes the same)",
                     sn_dist_rank());
    return sn_dist_agree(rc);
}

/* NULL arguments crashed a library caller (round 70 F1): named instead. */
static int check_args(const char *model_text, const struct sn_dataset *ds,
                      const struct sn_train_opts *o, const struct sn_train_start *start,
                      struct sn_trainer **out)
{
    const char *missing = !model_text ? "model_text" : !ds ? "ds" : !o ? "o" : !start ? "start"
                          : !out ? "out" : NULL;
    if (missing)
        return sn_fail(SN_EUSAGE, "sn_trainer_create: %s is NULL", missing);
    return check_opts(o);
}

int sn_trainer_create(const char *model_text, const char *name, struct sn_dataset *ds,
                      const struct sn_train_opts *o, struct sn_train_start *start,
                      struct sn_trainer **out)
{
    /* its collectives need the runtime: MPI aborted the program (round 70 F7) */
    if (!sn_dist_running())
        return sn_fail(SN_EUSAGE, "sn_trainer_create: the distributed runtime is not running: "
                       "call sn_dist_init (or sn_dist_init_alone) first, and destroy every "
                       "trainer before sn_dist_finalize");
    int rc = check_args(model_text, ds, o, start, out);
    if (out)
        *out = NULL;
    if (start)
        memset(start, 0, sizeof *start);
    struct sn_trainer *t = rc ? NULL : calloc(1, sizeof *t);
    if (!rc && !t)
        rc = sn_fail(SN_ENOMEM, "out of memory");
    rc = sn_dist_agree(rc);
    if (!rc)
        rc = same_as_rank0(model_text, ds, o);
    if (rc) {
        free(t);
        return rc;
    }
    t->o = *o;
    t->ds = ds;
    t->P = sn_dist_size();
    t->rank = sn_dist_rank();
    t->stats_epoch = -1;
    t->perm_of[0] = t->perm_of[1] = -1;
    t->saved_step = t->kept_step = t->started_at = -1;
    t->lock_fd = -1;
    rc = create_stages(t, model_text, name, sn_dataset_name(ds), start);
    if (rc && rc != SN_EFATAL) {
        if (t->lock_made)   /* a refused run leaves the folder as it found it */
            sn_ckptdir_unlock_remove(t->o.ckpt_dir, t->lock_fd);
        else
            sn_ckptdir_unlock_restore(t->lock_fd, t->lock_was);
        t->lock_fd = -1;
        sn_trainer_destroy(t);
        return rc;
    }
    *out = t;   /* SN_EFATAL: the caller aborts; nothing to tear down collectively */
    return rc;
}

/* A lock file this run made goes with it when the folder holds no
 * checkpoint: a run that failed before its first one leaves the folder
 * as it found it, and one that found the file and took no step puts its
 * text back.  Anything else keeps the file; only the lock goes. */
static void release_folder(struct sn_trainer *t)
{
    int64_t *steps = NULL;
    size_t n = 1;
    if (t->lock_fd >= 0 && t->lock_made && sn_ckptdir_list(t->o.ckpt_dir, &steps, &n) == SN_OK &&
        n == 0)
        sn_ckptdir_unlock_remove(t->o.ckpt_dir, t->lock_fd);
    else if (!t->lock_made && t->st.global_step == t->started_at)
        sn_ckptdir_unlock_restore(t->lock_fd, t->lock_was);
    else
        sn_ckptdir_unlock(t->lock_fd);
    free(steps);
}

void sn_trainer_destroy(struct sn_trainer *t)
{
    if (!t)
        return;
    free(t->cfg_text);
    sn_model_destroy(t->m);   /* before its arena goes with the reducer */
    sn_reducer_destroy(t->red);
    if (t->opt_ready)
        sn_optim_deinit(&t->opt);
    free(t->st.history);
    sn_ckpt_extra_free(&t->st.extra);
    sn_prefetch_destroy(t->pf);   /* first: its thread reads into the dataset */
    free(t->perm[0]);
    free(t->perm[1]);
    free(t->next_rows);
    free(t->rows);
    sn_free(t->x);
    sn_free(t->targets);
    sn_free(t->dz);
    sn_free(t->aug_tmp);
    sn_free(t->live);
    sn_free(t->buffers_before);
    free(t->labels);
    release_folder(t);
    free(t);
}

void sn_trainer_request_stop(struct sn_trainer *t, int reason)
{
    (void)t;   /* the process has one request: a signal's and this are the same flag */
    sn_interrupt_set(reason);
}

bool sn_trainer_done(const struct sn_trainer *t)
{
    return t->st.global_step >= t->end_step;
}

const struct sn_train_state *sn_trainer_state(const struct sn_trainer *t) { return &t->st; }
const struct sn_netcfg *sn_trainer_net(const struct sn_trainer *t) { return &t->net; }
const struct sn_model *sn_trainer_model(const struct sn_trainer *t) { return t->m; }
const char *sn_trainer_reducer_name(const struct sn_trainer *t) { return sn_reducer_name(t->red); }
int64_t sn_trainer_checkpoint_step(const struct sn_trainer *t) { return t->kept_step; }
uint64_t sn_trainer_bytes_sent(const struct sn_trainer *t) { return sn_reducer_bytes_sent(t->red); }

void sn_trainer_plan(const struct sn_trainer *t, struct sn_train_plan *out)
{
    out->steps_per_epoch = t->steps_per_epoch;
    out->local_batch = t->b;
    out->end_step = t->end_step;
    out->start_step = t->started_at > 0 ? t->started_at : 0;
    out->bound_by_steps = t->bound_steps;
    out->bound_by_epochs = t->bound_epochs;
    out->skipped_per_epoch = t->train->n % (size_t)t->net.batch;
    out->optim_states = t->opt.n_states;
    out->optim_len = t->opt.len;
    out->data_mib = t->data_bytes / 1048576.0;
    out->data_held = t->data_held;
}
