/* step: the trainer's steps, epochs and files (see trainer.h).
 *
 * The position (epoch, step in epoch, global step) always names the next
 * step to take, and changes in one place only (advance): a checkpoint
 * written at any moment records exactly where to continue.
 */
#include "train/trainer_impl.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/augment.h"
#include "core/clock.h"
#include "core/interrupt.h"
#include "core/loss.h"
#include "core/sched.h"
#include "core/status.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "io/ckpt.h"
#include "io/fingerprint.h"
#include "io/fsutil.h"
#include "io/weights.h"
#include "train/ckptdir.h"
#include "train/evaluate.h"

#define STEP_STREAM 0x53544550ULL

/* the control words every rank sends with its gradients (reducer.h) */
enum { CTRL_STOP, CTRL_FAILED };

/* The stop word of a rank that has no rows for the step (stopped while
 * shuffling): beyond any count of 1s (up to 1024 ranks), so the sum over
 * ranks tells "some rank has no rows" even in 16-bit messages. */
#define STOP_NO_ROWS 4096.0f

/* Tell the observer that phase ph ran from *last until now. */
static void mark(const struct sn_trainer *t, enum sn_phase ph, double *last)
{
    const struct sn_train_observer *ob = t->o.observer;
    double now = ob && ob->phase ? sn_clock_s() : 0.0;
    if (ob && ob->phase)
        ob->phase(ob->ctx, t->st.global_step, ph, *last, now);
    *last = now;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* This rank's rows of global batch `step` of `epoch`, sorted (reads go
 * in file order), from that epoch's permutation: drawn when first needed,
 * into the place of the older of the two kept (the next epoch's is needed
 * before the current one ends when reading ahead). */
static int batch_rows(struct sn_trainer *t, int64_t epoch, int64_t step, int32_t *out)
{
    int k = t->perm_of[0] == epoch ? 0 : t->perm_of[1] == epoch ? 1 : -1;
    if (k < 0) {
        k = t->perm[1] && t->perm_of[1] < t->perm_of[0] ? 1 : 0;
        t->perm_of[k] = -1;   /* a shuffle stopped half way is no order */
        int rc = sn_shard_permutation(t->net.seed, epoch, !t->o.no_shuffle, t->perm[k],
                                      t->train->n);
        if (rc)
            return rc;
        t->perm_of[k] = epoch;
    }
    memcpy(out, sn_shard_rows(t->perm[k], step, t->net.batch, t->rank, t->P),
           (size_t)t->b * sizeof *out);
    qsort(out, (size_t)t->b, sizeof *out, cmp_i32);
    return SN_OK;
}

/* With a reader thread: start reading the step after this one, unless the
 * run ends first.  The position after (epoch, step in epoch) is the next
 * step of the epoch or the first of the next. */
static void read_ahead(struct sn_trainer *t)
{
    const int64_t next = t->st.global_step + 1;
    if (!t->pf || next >= t->end_step)
        return;
    const bool wraps = t->st.step_in_epoch + 1 >= t->steps_per_epoch;
    /* a stop during the next epoch's shuffle: this step is the last */
    if (!batch_rows(t, t->st.epoch + wraps, wraps ? 0 : t->st.step_in_epoch + 1, t->next_rows))
        sn_prefetch_start(t->pf, t->next_rows, (size_t)t->b, next);
}

/* This rank's rows of the step's global batch, read (taken from the
 * reader thread when it read them ahead) and augmented; then the next
 * step's read starts. */
static int read_batch(struct sn_trainer *t)
{
    if (t->t0 == 0.0)
        t->t0 = sn_clock_s();
    if (t->stats_epoch != t->st.epoch) {   /* a new epoch (or the first after a resume) */
        t->stats_epoch = t->st.epoch;
        t->loss_sum = 0.0;
        t->correct = 0;
        t->steps_done = 0;
        t->epoch_t0 = sn_clock_s();
    }
    int rc;
    if (t->pf && sn_prefetch_tag(t->pf) == t->st.global_step) {
        rc = sn_prefetch_take(t->pf, t->x, t->labels, t->targets);
    } else if (!(rc = batch_rows(t, t->st.epoch, t->st.step_in_epoch, t->rows))) {
        rc = sn_dataset_read(t->ds, t->train, t->rows, (size_t)t->b, t->x, t->labels,
                             t->targets);
    }
    if (rc == SN_EINTR)   /* stopped while shuffling: no rows, and none read ahead */
        return rc;
    read_ahead(t);
    if (rc)
        return sn_fail_prefix(rc, "step %lld: ", (long long)t->st.global_step + 1);
    if (t->aug_tmp) {
        const struct sn_shape *is = &t->m->in_shape;
        const struct sn_augment_at at = { t->net.seed, t->st.global_step, t->rank, t->st.epoch,
                                          t->rows };
        sn_augment_batch(&t->net.augment, t->x, t->aug_tmp, t->b, is->d[0], is->d[1], is->d[2],
                         &at);
    }
    return SN_OK;
}

/* Forward, loss and backward of this rank's rows, in accumulate
 * micro-batches whose gradients add up in the arena (each scaled by 1 /
 * local batch); the last backward tells the reducer what is final. */
static void compute(struct sn_trainer *t, double *last)
{
    struct sn_rng rng;
    sn_rng_seed(&rng, sn_rng_mix(t->net.seed, (uint64_t)t->st.global_step),
                STEP_STREAM + (uint64_t)t->rank);
    const int *labels = t->train->y_int && !t->net.target_input ? t->labels : NULL;
    const float *targets = t->net.target_input || t->train->y_int ? NULL : t->targets;
    const float grad_scale = 1.0f / (float)t->b;
    for (int k = 0; k < t->o.accumulate; k++) {
        const size_t r0 = (size_t)k * (size_t)t->mb;
        const float *xk = t->x + r0 * t->in_len;
        const float *z = sn_model_forward(t->m, xk, t->mb, true, &rng, &t->timing);
        t->loss_sum += sn_loss_eval(t->net.loss, z, labels ? labels + r0 : NULL,
                                    t->net.target_input ? xk
                                    : targets           ? targets + r0 * (size_t)t->K
                                                        : NULL,
                                    t->mb, t->K, t->net.label_smoothing, grad_scale, t->dz,
                                    &t->correct);
        mark(t, SN_PHASE_FORWARD, last);
        sn_model_backward(t->m, t->dz, t->mb, &rng,
                          k == t->o.accumulate - 1 ? &t->watch : &t->timing);
        mark(t, SN_PHASE_BACKWARD, last);
    }
}

/* The first layer whose gradient holds a NaN or Inf within [lo, hi), over
 * every rank's block, for the message (a collective every rank reaches:
 * they all saw the same non-finite norm); NULL when none does. */
static const char *nonfinite_layer(const struct sn_trainer *t, size_t lo, size_t hi)
{
    const struct sn_model *m = t->m;
    int first = 0;   /* n_layers - index, so that the max over ranks is the first */
    for (int i = 0; i < m->n_layers && !first; i++)
        for (int p = 0; p < m->layers[i]->n_params && !first; p++) {
            const struct sn_param *pr = &m->layers[i]->params[p];
            for (size_t k = 0; k < pr->len && !first; k++)
                if (pr->offset + k >= lo && pr->offset + k < hi && !isfinite(pr->dw[k]))
                    first = m->n_layers - i;
        }
    if (sn_dist_allreduce_max_int(&first, 1))
        first = 0;
    return first > 0 ? m->layers[m->n_layers - first]->name : NULL;
}

/* Clip to clip_norm, then the optimizer's update of this rank's block. */
static void update(struct sn_trainer *t, const struct sn_reduced *red)
{
    if (t->net.clip_norm > 0 && sqrt(red->sumsq) > t->net.clip_norm) {
        float s = (float)(t->net.clip_norm / (sqrt(red->sumsq) + 1e-6));
        for (size_t i = red->lo; i < red->hi; i++)
            t->m->grads[i] *= s;
    }
    sn_optim_step(&t->opt, t->m->plist, t->m->n_plist,
                  sn_sched_lr(&t->net.sched, t->st.global_step));
}

/* One step done: the position moves on, the only place it does. */
static void advance(struct sn_trainer *t, struct sn_step_info *info)
{
    info->epoch = t->step_epoch = t->st.epoch;
    info->step_in_epoch = t->st.step_in_epoch + 1;
    t->st.global_step++;
    t->st.step_in_epoch++;
    t->steps_done++;
    const bool full = t->st.step_in_epoch >= t->steps_per_epoch;
    if (full) {
        t->st.epoch++;
        t->st.step_in_epoch = 0;
    }
    info->global_step = t->st.global_step;
    info->finished = t->st.global_step >= t->end_step;
    /* a run that ends inside an epoch reports the part it trained */
    info->epoch_done = full || info->finished;
    t->epoch_pending = info->epoch_done;
    const double seen = (double)t->steps_done * t->b;
    info->loss_mean = t->loss_sum / seen;
    info->acc = t->train->y_int && !t->net.target_input ? (double)t->correct / seen : NAN;
}

/* The reduction's verdict: a rank's failure or a non-finite gradient ends
 * the run on every rank alike. */
static int verdict(struct sn_trainer *t, const struct sn_reduced *red, int local_rc)
{
    if (red->ctrl[CTRL_FAILED] > 0.0f) {   /* the failing rank's message to all */
        int rc = sn_dist_agree(local_rc);
        return rc ? rc : sn_fail(SN_EFATAL, "a rank reported a failure it does not know of");
    }
    if (!isfinite(red->sumsq)) {
        char kept[64] = "no checkpoint was written before it";
        if (t->kept_step >= 0)   /* without a folder: the one it resumed from */
            snprintf(kept, sizeof kept, "the %s checkpoint (step %lld) is kept",
                     t->o.ckpt_dir ? "last" : "starting", (long long)t->kept_step);
        const char *layer = nonfinite_layer(t, red->lo, red->hi);
        /* on the first step the data is to blame; after steps that went
         * well, more likely a learning rate that makes the weights grow */
        const char *cause = t->st.global_step > t->started_at
                                ? "the training diverged (lower the learning rate, lr %g at this "
                                  "step, or set clip_norm; or the inputs are far out of scale)"
                                : "the inputs or the loss are far out of scale (check the "
                                  "dataset's scale, mean and std; lr %g)";
        char why[200];
        snprintf(why, sizeof why, cause, sn_sched_lr(&t->net.sched, t->st.global_step));
        if (!layer)   /* every value finite, their squares summed in float are not */
            return sn_fail(SN_ENUM, "step %lld: the gradient's values are finite but too large "
                           "to sum their squares (beyond 3.4e38): %s; %s",
                           (long long)t->st.global_step + 1, why, kept);
        return sn_fail(SN_ENUM, "step %lld: the gradient of layer %s is not finite (NaN or "
                       "Inf); lower the learning rate or set clip_norm; %s",
                       (long long)t->st.global_step + 1, layer, kept);
    }
    return SN_OK;
}

/* A rank had no rows for the step (a stop came while it shuffled): every
 * rank drops the step, so the state stays the previous step's exactly
 * (parameters, optimizer, running statistics restored) and the run stops
 * there.  A failure on some rank is still that failure.  Compressed
 * messages' residuals keep this step's rounding: a skip comes only where
 * an order is drawn (an epoch's first step, the first after a resume),
 * whose checkpoint is already there (sn_trainer_finish writes none). */
static int skip_step(struct sn_trainer *t, const struct sn_reduced *red, int local_rc, int stop,
                     struct sn_step_info *info)
{
    if (red->ctrl[CTRL_FAILED] > 0.0f)
        return verdict(t, red, local_rc);
    memcpy(t->m->buffers, t->buffers_before, t->m->n_buffers * sizeof *t->buffers_before);
    /* the reducer's step ends as every step's does (hier: the leader's arena
     * is free again once every rank copied; sharded: the unchanged blocks) */
    int rc = sn_reducer_after_update(t->red, t->m->params);
    if (rc)
        return rc;
    info->epoch = t->st.epoch;
    info->step_in_epoch = t->st.step_in_epoch;
    info->global_step = t->st.global_step;
    info->skipped = true;
    info->stop = stop ? stop : -1;
    return SN_OK;
}

/* The step up to its checkpoint (sn_trainer_step). */
static int step_body(struct sn_trainer *t, struct sn_step_info *info)
{
    double last = sn_clock_s();
    int local_rc = read_batch(t);
    mark(t, SN_PHASE_DATA, &last);
    sn_model_zero_grad(t->m);
    const int stop = sn_interrupt_pending();   /* read once: the word sent is the one kept */
    const bool no_rows = local_rc == SN_EINTR;
    if (no_rows)
        local_rc = SN_OK;
    const float ctrl[SN_REDUCE_CTRL] = { [CTRL_STOP] = no_rows ? STOP_NO_ROWS : stop ? 1.0f : 0.0f,
                                         [CTRL_FAILED] = local_rc ? 1.0f : 0.0f };
    sn_reducer_begin(t->red, ctrl);
    if (t->m->n_buffers)   /* forward moves the running statistics: kept for a skipped step */
        memcpy(t->buffers_before, t->m->buffers, t->m->n_buffers * sizeof *t->buffers_before);
    if (!local_rc && !no_rows)   /* a rank without rows sends zeros and its word */
        compute(t, &last);
    struct sn_reduced red;
    int rc = sn_reducer_finish(t->red, &red);
    if (!rc && red.ctrl[CTRL_STOP] * (float)t->P > STOP_NO_ROWS / 2)
        return skip_step(t, &red, local_rc, stop, info);
    /* running statistics come from each rank's slice: average them so every
     * replica evaluates and saves the same model */
    if (!rc && t->m->n_buffers && sn_dist_allreduce_mean_f32(t->m->buffers, t->m->n_buffers))
        rc = sn_fail_prefix(SN_EFATAL, "averaging the running statistics: ");
    mark(t, SN_PHASE_REDUCE, &last);
    if (!rc)
        rc = verdict(t, &red, local_rc);
    if (rc)
        return rc;
    update(t, &red);
    mark(t, SN_PHASE_OPTIMIZER, &last);
    if ((rc = sn_reducer_after_update(t->red, t->m->params)))
        return rc;
    mark(t, SN_PHASE_REDUCE, &last);
    advance(t, info);
    sn_trainer_alive(t, t->st.global_step);
    if (red.ctrl[CTRL_STOP] > 0.0f)
        info->stop = stop ? stop : -1;
    return SN_OK;
}

int sn_trainer_step(struct sn_trainer *t, struct sn_step_info *info)
{
    if (!t || !info)
        return sn_fail(SN_EUSAGE, "sn_trainer_step: %s is NULL", !t ? "t" : "info");
    /* steps past the bound trained on and wrote checkpoints a resume then
     * started past its end from (round 70 F3) */
    if (sn_trainer_done(t))
        return sn_fail(SN_EUSAGE, "sn_trainer_step: the run is done (step %lld of %lld): no "
                       "step is left", (long long)t->st.global_step, (long long)t->end_step);
    memset(info, 0, sizeof *info);
    sn_dist_flight_step(t->st.global_step + 1);
    int rc = step_body(t, info);
    if (t->pf)   /* the reader thread is done with HDF5 before anything else uses it */
        sn_prefetch_wait(t->pf);
    if (rc)
        return rc;
    const int64_t every = t->o.ckpt_every;
    if (t->o.ckpt_dir && every > 0 && t->st.global_step % every == 0 && !info->epoch_done &&
        !info->finished && !info->stop)
        rc = sn_trainer_checkpoint(t);
    return rc;
}

/* The test split, evaluated in micro-batch chunks with the step's buffers:
 * a stop request ends it (a large split took 20 s, then a step more was
 * trained), agreed over the ranks batch by batch (sn_evaluate). */
static int eval_alive(void *ctx)
{
    sn_trainer_alive(ctx, -1);
    return sn_interrupt_pending() ? SN_EINTR : SN_OK;
}

void sn_trainer_use_average(struct sn_trainer *t)
{
    if (!t->live || !sn_optim_has_average(&t->opt))
        return;
    memcpy(t->live, t->m->params, t->m->n_params * sizeof *t->live);
    sn_optim_load_average(&t->opt, t->m->plist, t->m->n_plist);
}

void sn_trainer_use_live(struct sn_trainer *t)
{
    if (t->live && sn_optim_has_average(&t->opt))
        memcpy(t->m->params, t->live, t->m->n_params * sizeof *t->live);
}

/* With ema, the average is what is evaluated. */
static int evaluate_test(struct sn_trainer *t, struct sn_metrics *mt)
{
    struct sn_eval_sums e;
    sn_trainer_use_average(t);
    int rc = sn_evaluate(t->m, &t->net, t->ds, t->test, t->mb, t->x, t->labels, t->targets, &e,
                         NULL, eval_alive, t);
    sn_trainer_use_live(t);
    rc = sn_dist_agree(rc);
    if (!rc) {
        mt->test_loss = e.loss_sum / (double)e.seen;
        mt->test_acc = (double)e.correct / (double)e.seen;
    }
    return rc;
}

/* The epoch's train loss and accuracy over all ranks, and the largest
 * rank's peak memory. */
static int reduce_epoch(struct sn_trainer *t, struct sn_epoch_info *out)
{
    double loss_sum = t->loss_sum;
    int64_t counts[2] = { t->correct, t->steps_done * t->b };
    int rss = (int)sn_peak_rss_mb();
    int rc = sn_dist_allreduce_sum_f64(&loss_sum, 1);
    if (!rc)
        rc = sn_dist_allreduce_sum_i64(counts, 2);
    if (!rc)
        rc = sn_dist_allreduce_max_int(&rss, 1);
    if (rc)
        return sn_fail_prefix(SN_EFATAL, "the epoch's sums: ");
    const double now = sn_clock_s(), epoch_s = now - t->epoch_t0;
    out->m = (struct sn_metrics){
        .epoch = (double)(t->step_epoch + 1),   /* counted from 1 */
        .step = (double)t->st.global_step,
        .train_loss = counts[1] ? loss_sum / (double)counts[1] : NAN,
        .train_acc = counts[1] ? (double)counts[0] / (double)counts[1] : NAN,
        .test_loss = NAN,
        .test_acc = NAN,
        .lr = sn_sched_lr(&t->net.sched, t->st.global_step > 0 ? t->st.global_step - 1 : 0),
        .elapsed_s = now - t->t0,
    };
    out->images_per_s = epoch_s > 0 ? (double)(t->steps_done * t->net.batch) / epoch_s : 0.0;
    out->peak_rss_mb = rss;
    out->has_acc = t->train->y_int && !t->net.target_input;
    return SN_OK;
}

/* An epoch's loss past a float's range (summed in double, it stays
 * finite): the training diverged, and no log, plot or checkpoint history
 * takes such a number (the same on every rank: the sums are reduced). */
static int loss_in_range(const struct sn_metrics *m)
{
    const bool train = fabs(m->train_loss) > FLT_MAX, test = fabs(m->test_loss) > FLT_MAX;
    if (!train && !test)
        return SN_OK;
    return sn_fail(SN_ENUM, "epoch %.0f: the %s loss is %.4g, beyond a float's range (3.4e38): "
                   "the training diverged (lower the learning rate, lr %g, or set clip_norm; "
                   "or the inputs or targets are far out of scale)", m->epoch,
                   train ? "training" : "test", train ? m->train_loss : m->test_loss, m->lr);
}

int sn_trainer_end_epoch(struct sn_trainer *t, struct sn_epoch_info *out)
{
    /* agreed, as its collectives follow; called twice, or mid-epoch, it
     * wrote the same checkpoint again, its name set aside as taken (round
     * 70 F15) */
    int bad = !t || !out ? sn_fail(SN_EUSAGE, "sn_trainer_end_epoch: %s is NULL", !t ? "t" : "out")
              : !t->epoch_pending ? sn_fail(SN_EUSAGE, "sn_trainer_end_epoch: no epoch has ended "
                                            "since the last call (call it after a step whose "
                                            "epoch_done is set)") : SN_OK;
    if ((bad = sn_dist_agree(bad)))
        return bad;
    t->epoch_pending = false;
    memset(out, 0, sizeof *out);
    int rc = reduce_epoch(t, out);
    /* the test split every eval_every epochs and at the end of the run */
    out->tested = t->test && ((t->step_epoch + 1) % t->o.eval_every == 0 || sn_trainer_done(t));
    if (!rc && out->tested)
        rc = evaluate_test(t, &out->m);
    if (rc == SN_EINTR) {   /* stopped while testing: the epoch without test figures */
        const int sig = sn_interrupt_pending();
        out->stop = sig ? sig : -1;
        out->tested = false;
        rc = SN_OK;
    }
    if (!rc)
        rc = loss_in_range(&out->m);
    if (rc)
        return rc;
    if (t->st.n_metrics < t->st.cap_metrics)
        t->st.history[t->st.n_metrics++] = out->m;
    return t->o.ckpt_dir ? sn_trainer_checkpoint(t) : SN_OK;
}

int sn_trainer_finish(struct sn_trainer *t)
{
    if (!t)
        return sn_fail(SN_EUSAGE, "sn_trainer_finish: t is NULL");
    if (!t->o.ckpt_dir || t->saved_step == t->st.global_step)
        return SN_OK;
    return sn_trainer_checkpoint(t);
}

/* Collective: the whole optimizer state on rank 0 in *whole: t->opt itself
 * when it covers the arena, else a gathered copy (*copied). */
static int gather_optim(struct sn_trainer *t, struct sn_optim *whole, bool *copied)
{
    *copied = !sn_trainer_opt_whole(t);
    if (!*copied) {
        *whole = t->opt;
        return SN_OK;
    }
    memset(whole, 0, sizeof *whole);
    int rc = sn_dist_agree(t->rank == 0 ? sn_optim_init(whole, &t->net.optim, t->m->n_params)
                                        : SN_OK);
    if (rc)
        return rc;
    whole->t = t->opt.t;
    for (int i = 0; i < t->opt.n_states && !rc; i++)
        rc = sn_reducer_gather_block(t->red, t->opt.state[i], whole->state[i]);
    return rc ? sn_fail_prefix(SN_EFATAL, "gathering the optimizer state: ") : SN_OK;
}

/* The names of the classes the model predicts: a dataset may name more
 * (a subset keeps every name), and labels index them, so the first ones. */
static void keep_predicted_names(const struct sn_trainer *t, struct sn_data_meta *meta)
{
    const size_t K = sn_model_out_len(t->m);
    const size_t keep = (size_t)sn_loss_classes(t->net.loss, (int)K);
    while (meta->n_classes > keep && !t->net.target_input)
        free(meta->classes[--meta->n_classes]);
}

/* What predict needs from the training data (rank 0): its scaling, the
 * class names the model predicts and the run record; free with
 * sn_data_meta_free. */
static int data_prep(const struct sn_trainer *t, struct sn_data_meta *meta)
{
    int rc = sn_data_meta_from(t->ds, t->train, meta);
    keep_predicted_names(t, meta);
    meta->record = t->record;
    return rc;
}

static void prune_warn(void *ctx, const char *msg)
{
    sn_trainer_warn(ctx, "%s", msg);
}

/* Whether the checkpoint folder is still this run's (SN_EIO when it was
 * moved or swapped for a link); *remade when its lock file or the whole
 * folder was removed and is made again, said. */
static int folder_still_ours(struct sn_trainer *t, bool *remade)
{
    const char *what = NULL;
    const int rc = sn_ckptdir_still_ours(t->o.ckpt_dir, &t->lock_fd, &what);
    *remade = what != NULL;
    if (!what)
        return rc;
    t->lock_made = true;
    if (strcmp(what, "the folder") == 0)
        sn_trainer_warn(t, "the checkpoint folder %s was removed while the run ran, with its "
                        "checkpoints: made again, and held; checkpoints from here on",
                        t->o.ckpt_dir);
    else
        sn_trainer_warn(t, "%s/.lock was removed while the run ran: made again, and held",
                        t->o.ckpt_dir);
    return rc;
}

/* Rank 0's part of a checkpoint: the folder still this run's (made again
 * if a cleanup removed it or its lock file), whatever is at the name (a
 * file, a folder, a link planted during the run) renamed aside, itself,
 * not written through, and the file written to a name nothing took
 * meanwhile: what appears there during the write is set aside in turn,
 * and a folder removed during it is made again, up to three tries.  What
 * can be neither moved nor replaced (a mount point, an immutable file) is
 * left, said, and this step's checkpoint *skipped: the run goes on. */
static int write_checkpoint(struct sn_trainer *t, const char *path, const struct sn_optim *whole,
                            bool *skipped)
{
    bool remade;
    int rc = folder_still_ours(t, &remade);
    *skipped = false;
    for (int tries = 0; !rc && tries < 3; tries++) {
        char aside[4200];
        const char *what = "";
        struct stat st;
        if ((rc = sn_ckptdir_set_aside(path, aside, sizeof aside, &what))) {
            if (lstat(path, &st) == 0) {
                sn_trainer_warn(t, "%s: this step's checkpoint is skipped; the run goes on",
                                sn_errmsg());
                *skipped = true;
                rc = SN_OK;
            }
            break;
        }
        if (aside[0])
            sn_trainer_warn(t, "%s %s (%s): kept as %s", path, tries
                            ? "appeared while the checkpoint was written" : "was there already",
                            what, aside);
        struct sn_data_meta prep = { 0 };
        if (!(rc = data_prep(t, &prep))) {
            t->st.prep = &prep;
            rc = sn_ckpt_save_new(path, t->m, whole, &t->st, t->cfg_text);
            t->st.prep = NULL;
        }
        sn_data_meta_free(&prep);
        if (!rc || tries == 2)
            break;
        if (folder_still_ours(t, &remade) != SN_OK)
            return SN_EIO;   /* moved while written: that is the reason, said as such */
        if (!remade && lstat(path, &st) != 0)   /* nothing appeared to say why */
            break;
        rc = SN_OK;   /* written again */
    }
    return rc;
}

int sn_trainer_checkpoint(struct sn_trainer *t)
{
    char path[4096];
    int rc = sn_ckptdir_path(t->o.ckpt_dir, t->st.global_step, path, sizeof path);
    struct sn_optim whole;
    bool copied = false;
    if (!rc)
        rc = gather_optim(t, &whole, &copied);
    if (!rc)   /* the reducer's state (residuals), whole on rank 0 */
        rc = sn_reducer_state_save(t->red, &t->st.extra);
    if (rc == SN_EFATAL)
        return rc;
    bool skipped = false;
    if (!rc && t->rank == 0) {
        rc = write_checkpoint(t, path, &whole, &skipped);
        if (!rc && !skipped && t->o.keep > 0) {
            char fp[64];
            sn_model_text_fingerprint(t->cfg_text, fp, sizeof fp);
            sn_ckptdir_note_ours(path, fp);   /* just written: no need to read it back */
            const struct sn_ckptdir_owner own = { fp, &t->record, t->o.resume_override };
            int removed = sn_ckptdir_prune(t->o.ckpt_dir, (size_t)t->o.keep, &own,
                                           t->st.global_step, prune_warn, t);
            rc = removed < 0 ? removed : SN_OK;
        }
    }
    if (copied && t->rank == 0)
        sn_optim_deinit(&whole);
    sn_ckpt_extra_free(&t->st.extra);
    rc = sn_dist_agree(rc);   /* also the barrier every rank meets after the rename */
    if (!rc && sn_dist_size() > 1)   /* the last checkpoint, as every rank tells it */
        rc = sn_dist_bcast(&skipped, sizeof skipped, 0);
    if (!rc)
        t->saved_step = t->st.global_step;   /* tried: a finish does not try it again */
    if (!rc && !skipped)
        t->kept_step = t->st.global_step;
    sn_trainer_alive(t, t->st.global_step);
    return rc;
}

int sn_trainer_save(struct sn_trainer *t, const char *path)
{
    /* agreed: one rank's bad path left the others in the save's agreement,
     * their messages crossing (round 72 F8) */
    int rc = !t || !path ? sn_fail(SN_EUSAGE, "sn_trainer_save: %s is NULL", !t ? "t" : "path")
             : !path[0] ? sn_fail(SN_EUSAGE, "sn_trainer_save: the path is empty") : SN_OK;
    if ((rc = sn_dist_agree(rc)))
        return rc;
    if (t->rank == 0) {   /* with the data's scaling and class names, for predict */
        struct sn_data_meta meta;
        rc = data_prep(t, &meta);
        struct sn_train_plan p;   /* how far: weights of a stopped run are not a finished one's */
        sn_trainer_plan(t, &p);
        if (!rc)
            rc = t->st.global_step > p.end_step   /* resumed from a checkpoint past it */
                     ? sn_record_set(&meta.record, "trained", "step %lld (this run's end, step "
                                     "%lld, was before the checkpoint it resumed from)",
                                     (long long)t->st.global_step, (long long)p.end_step)
                     : sn_record_set(&meta.record, "trained", "step %lld of %lld%s",
                                     (long long)t->st.global_step, (long long)p.end_step,
                                     t->st.global_step < p.end_step
                                         ? ": stopped before the run's end" : "");
        sn_trainer_use_average(t);   /* with ema, --out holds the average */
        if (!rc)
            rc = sn_weights_save_meta(path, t->m, t->cfg_text, &meta);
        sn_trainer_use_live(t);
        sn_data_meta_free(&meta);
    }
    return sn_dist_agree(rc);
}
