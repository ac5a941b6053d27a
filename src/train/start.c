/* start: the trainer's starting point (see trainer.h).
 *
 * A resumed run starts from a checkpoint (--resume FILE, or auto: the
 * newest valid one in the checkpoint folder), which holds everything.  A
 * fresh run starts from the seed's initialisation, then the whitening
 * filters of init = whiten layers (computed from training images), then
 * the layers of a weights file (--init, fine-tuning).  Rank 0 alone reads
 * the files and computes the filters; then it broadcasts parameters,
 * buffers, optimizer state and position, so every replica starts from the
 * same bits whatever the other ranks can see of the file system.
 */
#include "train/trainer_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/interrupt.h"
#include "core/number.h"
#include "core/parallel.h"
#include "core/sched.h"
#include "core/status.h"
#include "core/whiten.h"
#include "dist/dist.h"
#include "io/ckpt.h"
#include "io/fsutil.h"
#include "io/fingerprint.h"
#include "io/h5.h"
#include "io/metacheck.h"
#include "io/modelfile.h"
#include "io/record.h"
#include "io/weights.h"
#include "train/ckptdir.h"
#include "train/trajectory.h"

/* Whether name is one of the comma-separated names of list. */
static bool listed(const char *list, const char *name)
{
    const size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

/* Whether parameter p of l is frozen at a random start: it never trains
 * (freeze = 1, or freeze = weight), and its start is drawn (not zeros,
 * ones, identities or whitening filters, which a recipe may freeze). */
static bool frozen_random(const struct sn_layer *l, const struct sn_param *pr)
{
    const bool frozen = !pr->buffer && (l->freeze || !pr->trainable);
    return frozen && (pr->init == SN_INIT_FANIN_UNIFORM || pr->init == SN_INIT_HE ||
                      pr->init == SN_INIT_XAVIER);
}

/* The layers frozen at a random start that f does not load (f NULL: no
 * file loads them), into names: a list, "" when there is none. */
static void frozen_unloaded(const struct sn_trainer *t, struct sn_h5 *f,
                            const struct sn_train_start *s, char *names, size_t len)
{
    size_t used = 0;
    names[0] = '\0';
    for (int i = 0; i < t->m->n_layers; i++) {
        const struct sn_layer *l = t->m->layers[i];
        bool missed = false;
        for (int p = 0; p < l->n_params && !missed; p++) {
            char path[256];
            snprintf(path, sizeof path, "/params/%s/%s", l->name, l->params[p].name);
            missed = frozen_random(l, &l->params[p]) &&
                     (!f || listed(s->init_refit, l->name) || !sn_h5_exists(f, path));
        }
        if (missed && used < len)
            used += (size_t)snprintf(names + used, len - used, "%s%s", used ? ", " : "",
                                     l->name);
    }
}

/* Whether the first layer's parameter, of shape here in this model and
 * there in the file, is the same layer for the other of grey and colour
 * images: a convolution's input channels 1 against 3, a batchnorm's
 * channels, or a dense layer's inputs C x H x W against (4 - C) x H x W (a
 * grey 28x84 network from a grey 28x28 one is not). */
static bool other_channels(const struct sn_trainer *t, const struct sn_shape *there,
                           const struct sn_shape *here)
{
    const struct sn_shape *in = &t->m->in_shape;
    const int c = in->ndim == 3 ? in->d[0] : 0, other = 4 - c;
    if (c != 1 && c != 3)
        return false;
    const long long plane = (long long)in->d[1] * in->d[2];
    if (here->ndim == 4)
        return here->d[1] == c && there->d[1] == other;
    if (here->ndim == 1)   /* a batchnorm over the input's channels */
        return here->d[0] == c && there->d[0] == other;
    return here->ndim == 2 && here->d[1] == c * plane && there->d[1] == other * plane;
}

/* The first parameter f holds in another shape (of a frozen layer left
 * random, or with frozen false of any layer --init re-initialised), as
 * "; c1.weight is 16x1x3x3 in the file, 16x3x3x3 here", and when that is
 * the first layer's input channels, 1 against 3, grey against colour and
 * what makes the data match (*rgb); "" when none. */
static void other_shape(const struct sn_trainer *t, struct sn_h5 *f,
                        const struct sn_train_start *s, bool frozen, char *why, size_t len,
                        bool *rgb)
{
    why[0] = '\0';
    *rgb = false;
    bool first = true;   /* the first layer with parameters: the one the input meets */
    for (int i = 0; i < t->m->n_layers && !why[0]; i++) {
        const struct sn_layer *l = t->m->layers[i];
        for (int p = 0; p < l->n_params && !why[0]; p++) {
            const struct sn_param *q = &l->params[p];
            char path[256], here[64], there[64] = "";
            struct sn_shape fs = { 0 };
            size_t dims[SN_H5_MAX_DIMS], size;
            enum sn_h5_class cls;
            snprintf(path, sizeof path, "/params/%s/%s", l->name, q->name);
            if ((frozen ? !frozen_random(l, q) : !listed(s->init_refit, l->name)) ||
                !sn_h5_exists(f, path) || sn_h5_info(f, path, &fs.ndim, dims, &cls, &size) ||
                fs.ndim < 1 || fs.ndim > SN_MAX_DIMS)
                continue;
            for (int k = 0; k < fs.ndim; k++)
                fs.d[k] = dims[k] < 1u << 30 ? (int)dims[k] : 0;
            sn_shape_str(&fs, there, sizeof there);
            sn_shape_str(&q->shape, here, sizeof here);
            if (!strcmp(there, here))
                continue;
            *rgb = first && fs.ndim == q->shape.ndim && other_channels(t, &fs, &q->shape);
            snprintf(why, len, "; %s.%s is %s in the file, %s here%s", l->name, q->name, there,
                     here, !*rgb ? ""
                     : fs.d[fs.ndim > 1] < q->shape.d[fs.ndim > 1]   /* the channels' place */
                         ? ": the file's network reads grey images, this data is colour "
                           "(convert folder --grey makes a grey set)"
                         : ": the file's network reads colour images, this data is grey");
        }
        first = first && l->n_params == 0;
    }
}

/* A layer --init re-initialised because the file's network read other
 * channels (grey against colour): the run trains, but its first layer
 * starts from random, which the init line alone (hidden by --quiet) did
 * not say. */
static void warn_other_channels(struct sn_trainer *t, struct sn_h5 *f,
                                const struct sn_train_start *s)
{
    char why[320];
    bool rgb;
    other_shape(t, f, s, false, why, sizeof why, &rgb);
    if (rgb)
        sn_trainer_warn(t, "--init %s: %s re-initialised, not loaded%s", t->o.init,
                        s->init_refit, why);
}

/* A frozen layer --init did not load keeps its random initialisation and
 * never trains: in fine-tuning nearly always a name that does not match,
 * or a first layer for other channels (grey against colour).  Whether it
 * said so. */
static bool warn_frozen_unloaded(struct sn_trainer *t, struct sn_h5 *f,
                                 const struct sn_train_start *s)
{
    char names[1024], why[320];
    bool rgb;
    frozen_unloaded(t, f, s, names, sizeof names);
    if (!names[0])
        return false;
    other_shape(t, f, s, true, why, sizeof why, &rgb);
    sn_trainer_warn(t, "--init %s: frozen layer%s %s not loaded from it (not there by that "
                    "name, or in other shapes%s): %s its random initialisation and never "
                    "train%s", t->o.init, strchr(names, ',') ? "s" : "", names, why,
                    strchr(names, ',') ? "they keep" : "it keeps", strchr(names, ',') ? "" : "s");
    return true;
}

/* A fresh run without --init whose frozen layers start at random: they
 * never train (fine-tuning with --init forgotten), which the accuracy
 * alone does not show. */
static void warn_frozen_fresh(const struct sn_trainer *t, const struct sn_train_start *s)
{
    char names[1024];
    frozen_unloaded(t, NULL, s, names, sizeof names);
    if (names[0])
        sn_trainer_warn(t, "frozen layer%s %s %s from %s random initialisation and never "
                        "train%s: no --init gives %s trained values (fine-tuning: --init "
                        "PRETRAINED.h5)", strchr(names, ',') ? "s" : "", names,
                        strchr(names, ',') ? "start" : "starts",
                        strchr(names, ',') ? "their" : "its", strchr(names, ',') ? "" : "s",
                        strchr(names, ',') ? "them" : "it");
}

/* The data description --init's weights keep, checked the one way eval,
 * predict and export check it: against the model they were trained as
 * (their own /model cfg, whose head this run may replace), or, for
 * weights without that text (parameters written by another tool) or with
 * text today's parser refuses, against this run's model, as eval takes
 * such weights with --model. */
static int check_init_meta(const struct sn_trainer *t, struct sn_h5 *f, const char *path)
{
    char *text = NULL;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    int rc = sn_h5_has_attr(f, "/model", "cfg") ? sn_weights_read_cfg(path, &text) : SN_OK;
    const int parsed = !rc && text ? sn_modelfile_parse(text, path, &net, &m) : SN_EINVAL;
    if (parsed == SN_OK)
        rc = sn_weights_check_meta(f, path, m, &net);
    else if (parsed == SN_EINTR || parsed == SN_ENOMEM)   /* a stop, not the text */
        rc = parsed;
    if (parsed != SN_OK && !rc && text)   /* weights of another tool may carry any text */
        sn_trainer_warn(t, "%s: its /model cfg is no model this scratchnet reads (%s): its "
                        "classes and input preparation are checked against this run's model",
                        path, sn_errmsg());
    if (parsed != SN_OK && !rc)
        rc = sn_weights_check_meta(f, path, t->m, &t->net);
    sn_model_destroy(m);
    free(text);
    return rc;
}

/* --init on rank 0: every layer of the file whose shapes fit. */
static int load_init(struct sn_trainer *t, struct sn_train_start *s)
{
    struct sn_h5 *f;
    int rc = sn_weights_open(t->o.init, &f);
    if (!rc) {
        rc = sn_weights_not_dataset(f);
        if (!rc)
            rc = check_init_meta(t, f, t->o.init);
        if (!rc)
            rc = sn_weights_read_fit(f, t->m, &s->init_loaded, s->init_refit,
                                     sizeof s->init_refit);
        if (!rc && s->init_loaded > 0 && !warn_frozen_unloaded(t, f, s) && s->init_refit[0])
            warn_other_channels(t, f, s);
        for (int i = t->m->n_layers - 1; !rc && i >= 0; i--)
            if (t->m->layers[i]->n_params > 0) {
                s->init_head = sn_weights_has_layer(f, t->m->layers[i]);
                break;
            }
        sn_h5_close(f);
    }
    if (!rc && s->init_loaded == 0 && s->init_refit[0])
        rc = sn_fail(SN_EINVAL, "%s: no parameter of this model's layers is in the file in "
                     "this model's shapes (%s: there in other shapes or in part)", t->o.init,
                     s->init_refit);
    else if (!rc && s->init_loaded == 0)
        rc = sn_fail(SN_EINVAL, "%s: no parameter of this model's layers is in the file",
                     t->o.init);
    return rc;
}

/* --resume auto on rank 0: load the newest checkpoint of the folder that
 * is not damaged into t and o, warning about each damaged one passed
 * over.  s->resumed_from stays "" when there is none (a fresh start).  A
 * checkpoint that is intact but does not fit this run is an error, not
 * something to skip; so is a folder whose checkpoints are all damaged
 * (the fresh run would overwrite them). */
static int load_newest(struct sn_trainer *t, struct sn_optim *o, struct sn_train_start *s)
{
    int64_t *steps;
    size_t n;
    int rc = sn_ckptdir_list(t->o.ckpt_dir, &steps, &n);
    size_t tried = 0;
    for (; !rc && tried < n; tried++) {
        char *path = s->resumed_from;
        rc = sn_ckptdir_path(t->o.ckpt_dir, steps[tried], path, sizeof s->resumed_from);
        if (!rc)
            rc = sn_ckpt_load(path, t->m, o, &t->st);
        if (!rc && t->st.global_step != steps[tried])   /* the name decides what is newest */
            rc = sn_fail(SN_EINVAL, "%s holds step %lld (/state/global_step), not the step its "
                         "name says: renamed or copied there? --resume auto takes the newest "
                         "checkpoint by its name; move it away, or name it as its step",
                         path, (long long)t->st.global_step);
        else if (rc == SN_EINVAL && !sn_h5_held_for_writing(path))   /* intact, not this run's */
            rc = sn_fail_suffix(SN_EINVAL, "; --resume auto continues the newest checkpoint of "
                                "%s, which does not fit this run: if it is another run's, give "
                                "this run another --checkpoint-dir or move that run's "
                                "checkpoints away", t->o.ckpt_dir);
        if (rc != SN_EDAMAGED)
            break;
        if (tried < 10)   /* a folder of 20,000 placeholders gave 20,000 lines */
            sn_trainer_warn(t, "%s; trying the one before", sn_errmsg());
        else if (tried == 10)
            sn_trainer_warn(t, "%s: more checkpoints that cannot be read are passed over "
                            "without a word", t->o.ckpt_dir);
        path[0] = '\0';
        rc = SN_OK;
    }
    if (!rc && tried == n && n > 0)   /* every one damaged: a fresh start would write over them */
        rc = sn_fail(SN_EINVAL, "--resume auto: none of the %zu checkpoint%s in %s can be read "
                     "(%s): a fresh run there would write over them; move them away (or remove "
                     "them) to start afresh", n, n == 1 ? "" : "s", t->o.ckpt_dir,
                     n <= 10 ? "each is named above" : "the newest 10 are named above");
    free(steps);
    if (rc)
        s->resumed_from[0] = '\0';
    return rc;
}

/* The checkpoint's position and history, from rank 0 to every rank. */
static int share_state(struct sn_trainer *t, struct sn_optim *o)
{
    struct sn_train_state *st = &t->st;
    int64_t v[9] = { st->epoch, st->step_in_epoch, st->global_step, st->world_size,
                     st->global_batch, st->seed, st->n_metrics, o->t, st->threads };
    int rc = sn_dist_bcast(v, sizeof v, 0);
    if (rc)
        return rc;
    st->epoch = v[0];
    st->step_in_epoch = v[1];
    st->global_step = v[2];
    st->world_size = v[3];
    st->global_batch = v[4];
    st->seed = v[5];
    st->n_metrics = (int)v[6];
    o->t = v[7];
    st->threads = v[8];
    rc = sn_dist_bcast(st->history, (size_t)st->n_metrics * sizeof *st->history, 0);
    for (int s = 0; s < o->n_states && !rc; s++)
        rc = sn_dist_bcast(o->state[s], t->m->n_params * sizeof(float), 0);
    return rc;
}

/* The checkpoint's position must be one this run's epochs can hold: the
 * step in the epoch indexes the epoch's permutation (one past its end
 * reads outside it), and with the same data the three counters agree.  A
 * checkpoint's counters are only as good as its seal, which anyone can
 * recompute; and --resume-override data may bring other data. */
static int check_position(const struct sn_trainer *t, const char *path)
{
    const struct sn_train_state *st = &t->st;
    const int64_t spe = t->steps_per_epoch;
    if (st->step_in_epoch >= spe)
        return sn_fail(SN_EINVAL, "%s: /state/step_in_epoch is %lld, but this run's epochs "
                       "have %lld step%s (%zu training rows, global batch %d): it must be below "
                       "that", path, (long long)st->step_in_epoch, (long long)spe,
                       spe == 1 ? "" : "s", t->train->n, t->net.batch);
    if (st->epoch > st->global_step || st->step_in_epoch > st->global_step)
        return sn_fail(SN_EINVAL, "%s: /state/epoch %lld and /state/step_in_epoch %lld exceed "
                       "/state/global_step %lld, the steps taken in all", path,
                       (long long)st->epoch, (long long)st->step_in_epoch,
                       (long long)st->global_step);
    const char *was = sn_record_get(&st->record, "data"), *now = sn_record_get(&t->record, "data");
    if (!was || !now || strcmp(was, now) != 0)
        return SN_OK;   /* other data: other epochs, the counters carry on */
    size_t steps;
    bool fits = sn_mul_ok((size_t)st->epoch, (size_t)spe, &steps) &&
                sn_add_ok(steps, (size_t)st->step_in_epoch, &steps);
    if (fits && steps == (size_t)st->global_step)
        return SN_OK;
    char made[32] = "more than 2^64";
    if (fits)
        snprintf(made, sizeof made, "%zu", steps);
    return sn_fail(SN_EINVAL, "%s: /state/global_step is %lld, but /state/epoch %lld and "
                   "/state/step_in_epoch %lld of this data's %lld-step epochs make %s", path,
                   (long long)st->global_step, (long long)st->epoch,
                   (long long)st->step_in_epoch, (long long)spe, made);
}

/* A loaded checkpoint must continue this run's example sequence. */
static int check_resumed(const struct sn_trainer *t, const char *path)
{
    if (t->st.global_batch != t->net.batch)
        return sn_fail(SN_EINVAL, "%s: written with global batch %lld, this run uses %d; the "
                       "example sequence would change", path, (long long)t->st.global_batch,
                       t->net.batch);
    if ((uint64_t)t->st.seed != t->net.seed)
        return sn_fail(SN_EINVAL, "%s: written with seed %lld, this run uses %llu", path,
                       (long long)t->st.seed, (unsigned long long)t->net.seed);
    return check_position(t, path);
}

/* What sets this run's horizon (plan_bounds), as the user wrote it. */
static void horizon_why(const struct sn_trainer *t, char *buf, size_t len)
{
    if (t->o.steps > 0 && t->end_step == t->o.steps)
        snprintf(buf, len, "--steps %lld", (long long)t->o.steps);
    else
        snprintf(buf, len, "the last step of %s %d x %lld step%s per epoch",
                 t->o.epochs >= 0 ? "--epochs" : "the model file's epochs =", t->net.epochs,
                 (long long)t->steps_per_epoch, t->steps_per_epoch == 1 ? "" : "s");
}

/* Where the checkpoint's layers differ from this run's, when its record
 * says they do ("" otherwise, or when its model text cannot be read). */
static void model_difference(const struct sn_trainer *t, const char *path, char *why,
                             size_t len)
{
    const char *was = sn_record_get(&t->st.record, "model");
    const char *now = sn_record_get(&t->record, "model");
    char *text = NULL;
    why[0] = '\0';
    if (was && now && strcmp(was, now) != 0 && sn_weights_read_cfg(path, &text) == SN_OK)
        sn_model_text_difference(t->cfg_text, text, why, len);
    free(text);
}

/* A horizon that --resume-override let change stretches the schedule
 * over the new one: the rate at the resumed step jumps (a cosine that had
 * ended restarts).  Said at the start, with both rates. */
static void horizon_jump(const struct sn_trainer *t, struct sn_train_start *s)
{
    const char *was = sn_record_get(&t->st.record, "horizon");
    long long old = 0;
    const struct sn_sched *now = &t->net.sched;
    if (!was || now->kind == SN_SCHED_CONSTANT || now->kind == SN_SCHED_STEP ||
        sn_parse_int(was, 1, INT64_MAX, &old) || old == now->total_steps)
        return;
    struct sn_sched then = *now;
    then.total_steps = old;
    const int64_t step = t->st.global_step;
    const float a = sn_sched_lr(&then, step), b = sn_sched_lr(now, step);
    if (a != b)
        snprintf(s->lr_jump, sizeof s->lr_jump, "the learning rate of step %lld is %.4g on "
                 "this run's horizon of %lld steps, %.4g on the checkpoint's %lld (the %s "
                 "schedule is stretched over the new horizon)", (long long)step + 1, (double)b,
                 (long long)now->total_steps, (double)a, old, sn_sched_name(now->kind));
}

/* Rank 0: load the checkpoint (choosing it, for auto) and check that it
 * continues this run. */
static int load_resumed(struct sn_trainer *t, struct sn_optim *o, struct sn_train_start *s)
{
    int rc;
    if (strcmp(t->o.resume, "auto") == 0) {
        rc = load_newest(t, o, s);
    } else {
        snprintf(s->resumed_from, sizeof s->resumed_from, "%s", t->o.resume);
        rc = sn_ckpt_load(t->o.resume, t->m, o, &t->st);
    }
    /* the settings first: other data or another batch explains counters
     * that do not fit this run's epochs, and every difference is named */
    char why[160], model_why[320] = "";
    horizon_why(t, why, sizeof why);
    if (!rc && s->resumed_from[0])
        model_difference(t, s->resumed_from, model_why, sizeof model_why);
    if (!rc && s->resumed_from[0])
        rc = sn_trajectory_compare(&t->st.record, &t->record, s->resumed_from,
                                   t->o.resume_override, why, model_why, s->overridden,
                                   sizeof s->overridden);
    if (!rc && s->resumed_from[0])
        rc = check_resumed(t, s->resumed_from);
    if (!rc && s->resumed_from[0])
        horizon_jump(t, s);
    return rc;
}

/* The reducer's state from the checkpoint's arrays (rank 0 read them),
 * or zeros where they do not fit this run (a warning names them). */
static int resume_reducer(struct sn_trainer *t)
{
    char dropped[256];
    int rc = sn_reducer_state_load(t->red, &t->st.extra, dropped, sizeof dropped);
    sn_ckpt_extra_free(&t->st.extra);
    if (!rc && t->rank == 0 && dropped[0])
        sn_trainer_warn(t, "resume: the reducer's %s start from zero (the checkpoint has none, "
                        "or another rank count or placement wrote it)", dropped);
    return rc;
}

/* --resume: rank 0 loads, the others learn the result.  o holds the whole
 * optimizer state (checkpoints do). */
static int resume(struct sn_trainer *t, struct sn_optim *o, struct sn_train_start *s)
{
    int rc = sn_dist_agree(t->rank == 0 ? load_resumed(t, o, s) : SN_OK);
    if (!rc)   /* only after agreeing: no rank may wait in a broadcast alone */
        rc = sn_dist_bcast(s->resumed_from, sizeof s->resumed_from, 0);
    if (rc || !s->resumed_from[0]) {
        s->auto_found_none = !rc;
        return rc;
    }
    rc = sn_dist_agree(share_state(t, o));
    if (!rc)
        rc = resume_reducer(t);
    s->resumed_world_size = t->st.world_size;
    s->resumed_threads = t->st.threads;
    t->saved_step = t->kept_step = t->st.global_step;
    return rc;
}

/* Resume into a whole-arena optimizer, then keep this rank's block of it. */
static int resume_sharded(struct sn_trainer *t, struct sn_train_start *s)
{
    struct sn_optim whole;
    int rc = sn_dist_agree(sn_optim_init(&whole, &t->net.optim, t->m->n_params));
    if (rc)
        return rc;
    rc = resume(t, &whole, s);
    if (!rc) {
        t->opt.t = whole.t;
        for (int i = 0; i < t->opt.n_states; i++)
            memcpy(t->opt.state[i], whole.state[i] + t->opt.lo, t->opt.len * sizeof(float));
    }
    sn_optim_deinit(&whole);
    return rc;
}

/* init = whiten of layer l's weight pr, on rank 0: the second moments of
 * the windows of the first whiten_images training images, read through
 * the step's batch buffer as the model sees them (scaled and normalised,
 * not augmented), then the filters (core/whiten.h).  Says what it did in
 * s->whitened. */
static int whiten_layer(struct sn_trainer *t, const struct sn_layer *l, struct sn_param *pr,
                        struct sn_train_start *s)
{
    const int C = l->in_shape[0].d[0], H = l->in_shape[0].d[1], W = l->in_shape[0].d[2];
    const int K = pr->shape.d[2], n = C * K * K;
    const size_t N = (size_t)pr->whiten_images < t->train->n ? (size_t)pr->whiten_images
                                                              : t->train->n;
    double *m = calloc((size_t)n * n + (size_t)n, sizeof *m);
    if (!m)
        return sn_fail(SN_ENOMEM, "out of memory for the whitening of layer %s", l->name);
    double *lambda = m + (size_t)n * n;
    size_t windows = 0;
    int rc = SN_OK;
    /* a look at the stop every 2^28 multiply-adds or so (a second or two):
     * a batch of large windows is minutes (n = 972: 1.1e11 a batch), one
     * image of 2048x2048 with n = 1024 four minutes */
    const double per_row = (double)n / 2 * (H - K + 1) * (W - K + 1), per_image = per_row * n;
    const size_t step = per_image >= (double)(1 << 28) ? 1
                                                       : (size_t)((double)(1 << 28) / per_image);
    const int rows = per_row >= (double)(1 << 28) ? 1
                   : per_image <= (double)(1 << 28) ? n : (int)((double)(1 << 28) / per_row);
    for (size_t first = 0; first < N && !rc; first += (size_t)t->b) {
        size_t k = N - first < (size_t)t->b ? N - first : (size_t)t->b;
        rc = sn_dataset_read_block(t->ds, t->train, first, k, t->x, NULL, NULL);
        for (size_t i = 0; i < k && !rc; i += step) {   /* images in order: the same sums */
            const size_t part = k - i < step ? k - i : step;
            const float *x = t->x + i * (size_t)C * H * W;
            size_t added = 0;
            for (int r = 0; r < n && !rc; r += rows) {
                added = sn_whiten_moments_rows(x, (int)part, C, H, W, K, r,
                                               n - r < rows ? n : r + rows, m);
                rc = sn_interrupt_check("whitening the first layer");
            }
            windows += added;
        }
    }
    if (!rc)
        rc = sn_whiten_filters(m, windows, n, pr->whiten_eps, pr->shape.d[0], pr->w, lambda);
    if (!rc) {
        size_t used = strlen(s->whitened);
        snprintf(s->whitened + used, sizeof s->whitened - used, "%s%s from %zu windows of the "
                 "first %zu training images (eigenvalues %.4g to %.4g)", used ? "; " : "", l->name,
                 windows, N, lambda[0], lambda[n - 1]);
    }
    free(m);
    return rc == SN_EINTR ? rc : rc ? sn_fail_prefix(rc, "init = whiten of layer %s: ", l->name)
                                    : SN_OK;
}

/* Rank 0, fresh starts: every init = whiten weight. */
static int whiten_all(struct sn_trainer *t, struct sn_train_start *s)
{
    if (t->rank != 0)
        return SN_OK;
    int rc = SN_OK;
    for (int i = 0; i < t->m->n_layers && !rc; i++)
        for (int p = 0; p < t->m->layers[i]->n_params && !rc; p++)
            if (t->m->layers[i]->params[p].init == SN_INIT_WHITEN)
                rc = whiten_layer(t, t->m->layers[i], &t->m->layers[i]->params[p], s);
    return rc;
}

/* Rank 0: this run's record (trajectory.h), with the data's fingerprint. */
static int record_run(struct sn_trainer *t)
{
    if (t->rank != 0)
        return SN_OK;
    int rc = sn_trajectory_record(&t->net, t->cfg_text, !t->o.no_shuffle, t->o.accumulate,
                                  sn_half_name(t->o.compress), t->ds, t->x, &t->record);
    return rc;   /* the message names the file and what is wrong in it */
}

/* After work rank 0 did alone (rc, SN_OK elsewhere): the others waited
 * for it passing on a stop they received, not blocked in a collective
 * (a stop to rank 1 waited 105 s for rank 0's whitening). */
static int rank0_alone(int rc)
{
    sn_dist_await_rank0();
    return sn_dist_agree(rc);
}

int sn_trainer_start(struct sn_trainer *t, struct sn_train_start *start)
{
    t->st.world_size = t->P;
    t->st.global_batch = t->net.batch;
    t->st.seed = (int64_t)t->net.seed;
    int rc = sn_dist_agree(sn_trajectory_check_keys(t->o.resume_override));
    if (!rc)
        rc = rank0_alone(record_run(t));
    if (rc)
        return rc;
    if (t->o.resume)
        rc = sn_trainer_opt_whole(t) ? resume(t, &t->opt, start) : resume_sharded(t, start);
    const bool fresh = !start->resumed_from[0];
    if (!rc && fresh)
        rc = rank0_alone(whiten_all(t, start));
    if (!rc && fresh && t->o.init)
        rc = rank0_alone(t->rank == 0 ? load_init(t, start) : SN_OK);
    if (rc)
        return rc;
    if (fresh && !t->o.init)
        warn_frozen_fresh(t, start);
    else if (!fresh && t->o.init)   /* the checkpoint holds the run's parameters */
        sn_trainer_warn(t, "--init %s is not loaded: the run resumes from %s, which holds its "
                        "parameters", t->o.init, start->resumed_from);
    t->st.world_size = t->P;
    t->st.threads = sn_parallel_threads();
    t->st.record = t->record;   /* what this run's checkpoints say of it */
    /* one set of parameters everywhere, whatever each rank read */
    rc = sn_dist_bcast(t->m->params, t->m->n_params * sizeof(float), 0);
    if (!rc)
        rc = sn_dist_bcast(t->m->buffers, t->m->n_buffers * sizeof(float), 0);
    return sn_dist_agree(rc);
}
