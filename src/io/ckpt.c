/* ckpt: checkpoint save and load (see ckpt.h). */
#include "io/ckpt.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/status.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/weights.h"

static const char *const metric_cols[SN_METRIC_COLS] = {
    "epoch", "step", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "elapsed_s",
};

bool sn_ckpt_is_checkpoint(const char *path)
{
    struct sn_h5 *f;
    if (sn_h5_check_seal(path) || sn_h5_probe_all(path) || sn_h5_open(path, &f))
        return false;
    bool yes = sn_h5_exists(f, "/state/format_version");
    sn_h5_close(f);
    return yes;
}

/* FNV-1a, 64 bit: a checksum of everything that defines the continuation. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* states: the n optimizer state arrays the file holds, in its order. */
static uint64_t checksum(const struct sn_model *m, float *const *states, int n, int64_t t,
                         const struct sn_train_state *st, const char *cfg_text)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    if (cfg_text)
        h = fnv(h, cfg_text, strlen(cfg_text));
    h = fnv(h, m->params, m->n_params * sizeof(float));
    h = fnv(h, m->buffers, m->n_buffers * sizeof(float));
    for (int s = 0; s < n; s++)
        h = fnv(h, states[s], m->n_params * sizeof(float));
    int64_t c[7] = { t, st->epoch, st->step_in_epoch, st->global_step, st->world_size,
                     st->global_batch, st->seed };
    return fnv(h, c, sizeof c);
}

/* The checksum continued over the reducer's arrays (none: files without
 * them have the checksum above).  An array not kept in memory (data NULL,
 * len floats in the file) is hashed from f in blocks, so checking a file
 * never holds more of it than one block. */
static int checksum_extra(uint64_t *h, const struct sn_ckpt_extra *e, struct sn_h5 *f)
{
    float *buf = NULL;
    size_t cap = 0;
    int rc = SN_OK;
    for (int i = 0; i < e->n && !rc; i++) {
        const struct sn_ckpt_array *a = &e->a[i];
        *h = fnv(*h, a->name, strlen(a->name));
        *h = fnv(*h, a->counts, (size_t)a->n_counts * sizeof *a->counts);
        if (a->data) {
            *h = fnv(*h, a->data, a->len * sizeof *a->data);
            continue;
        }
        char path[96];
        snprintf(path, sizeof path, "/reducer/%s/data", a->name);
        /* whole chunks (at most SN_H5_MAX_CHUNK_BYTES, sn_h5_info's budget):
         * a block smaller than a chunk would inflate the chunk again for
         * every block */
        size_t block = sn_h5_chunk_rows(f, path);
        block = block ? block : (size_t)1 << 18;
        if (block > cap) {
            free(buf);
            cap = block;
            if (!(buf = malloc(cap * sizeof *buf)))
                rc = sn_fail(SN_ENOMEM, "out of memory for %s", path);
        }
        for (size_t at = 0; at < a->len && !rc; at += block) {
            size_t n = a->len - at < block ? a->len - at : block;
            rc = sn_h5_read_block(f, path, at, n, 1, SN_H5_F32, buf);
            if (!rc)
                *h = fnv(*h, buf, n * sizeof *buf);
        }
    }
    free(buf);
    return rc;
}

/* /reducer: the names as an attribute, each array's data and counts. */
static int write_extra(struct sn_h5 *f, const struct sn_ckpt_extra *e)
{
    if (e->n == 0)
        return SN_OK;
    const char *names[SN_CKPT_MAX_EXTRA];
    int rc = sn_h5_mkgroup(f, "/reducer");
    for (int i = 0; i < e->n && !rc; i++) {
        const struct sn_ckpt_array *a = &e->a[i];
        char path[96];
        size_t nc = (size_t)a->n_counts;
        names[i] = a->name;
        snprintf(path, sizeof path, "/reducer/%s/data", a->name);
        rc = sn_h5_write(f, path, 1, &a->len, SN_H5_F32, a->data);
        snprintf(path, sizeof path, "/reducer/%s/counts", a->name);
        if (!rc)
            rc = sn_h5_write(f, path, 1, &nc, SN_H5_I64, a->counts);
    }
    return rc ? rc : sn_h5_attr_set_strs(f, "/reducer", "names", names, (size_t)e->n);
}

static int write_i64(struct sn_h5 *f, const char *path, int64_t v)
{
    return sn_h5_write(f, path, 0, NULL, SN_H5_I64, &v);
}

/* A counter: stored as an integer (a float would be truncated, 3.7 read
 * as step 3, without a word). */
static int read_i64(struct sn_h5 *f, const char *path, int64_t *v)
{
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    int rc = sn_h5_info(f, path, &nd, dims, &cls, &size);
    if (!rc && cls != SN_H5_CLASS_INT)
        rc = sn_fail(SN_EINVAL, "%s: %s is not an integer (a counter is stored as one)",
                     sn_h5_path(f), path);
    return rc ? rc : sn_h5_read_all(f, path, SN_H5_I64, v, 1);
}

struct ckpt_job {
    const struct sn_model *m;
    const struct sn_optim *o;
    const struct sn_train_state *st;
    const char *cfg_text;
};

static int write_all(struct sn_h5 *f, const void *ctx)
{
    const struct ckpt_job *j = ctx;
    const struct sn_model *m = j->m;
    const struct sn_optim *o = j->o;
    const struct sn_train_state *st = j->st;
    const char *cfg_text = j->cfg_text;
    int rc = sn_weights_write(f, m, cfg_text);
    if (!rc)
        rc = sn_h5_mkgroup(f, "/optimizer");
    if (!rc)
        rc = sn_h5_attr_set_str(f, "/optimizer", "kind", sn_optim_name(o->cfg.kind));
    double t = (double)o->t;
    if (!rc)
        rc = sn_h5_attr_set_f64(f, "/optimizer", "t", &t, 1);
    for (int i = 0; i < m->n_layers && !rc; i++) {
        const struct sn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params && !rc; p++) {
            const struct sn_param *pr = &l->params[p];
            for (int s = 0; s < o->n_states && !rc && !pr->buffer; s++) {
                char path[320];
                size_t dims[SN_MAX_DIMS];
                for (int d = 0; d < pr->shape.ndim; d++)
                    dims[d] = (size_t)pr->shape.d[d];
                snprintf(path, sizeof path, "/optimizer/%s/%s/%s", l->name, pr->name,
                         o->state_names[s]);
                rc = sn_h5_write(f, path, pr->shape.ndim, dims, SN_H5_F32,
                                 o->state[s] + pr->offset);
            }
        }
    }
    if (!rc) rc = write_i64(f, "/state/format_version", SN_CKPT_VERSION);
    if (!rc) rc = write_i64(f, "/state/epoch", st->epoch);
    if (!rc) rc = write_i64(f, "/state/step_in_epoch", st->step_in_epoch);
    if (!rc) rc = write_i64(f, "/state/global_step", st->global_step);
    if (!rc) rc = write_i64(f, "/state/world_size", st->world_size);
    if (!rc) rc = write_i64(f, "/state/global_batch", st->global_batch);
    if (!rc) rc = write_i64(f, "/state/seed", st->seed);
    if (!rc && st->threads > 0)   /* for a resume's notice only: outside the checksum */
        rc = write_i64(f, "/state/threads", st->threads);
    uint64_t sum = checksum(m, o->state, o->n_states, o->t, st, cfg_text);
    if (!rc)
        rc = checksum_extra(&sum, &st->extra, NULL);
    if (!rc)
        rc = sn_h5_write(f, "/state/checksum", 0, NULL, SN_H5_U64, &sum);
    if (!rc)
        rc = sn_h5_mkgroup(f, "/metrics");
    size_t n = (size_t)st->n_metrics;
    double *col = malloc((n ? n : 1) * sizeof *col);
    if (!col && !rc)
        rc = sn_fail(SN_ENOMEM, "out of memory");
    for (int c = 0; c < SN_METRIC_COLS && !rc && n > 0; c++) {
        char path[64];
        for (size_t r = 0; r < n; r++)
            col[r] = ((const double *)&st->history[r])[c];
        snprintf(path, sizeof path, "/metrics/%s", metric_cols[c]);
        rc = sn_h5_write(f, path, 1, &n, SN_H5_F64, col);
    }
    free(col);
    if (!rc)
        rc = sn_record_write(f, &st->record);
    if (!rc && st->prep)
        rc = sn_weights_write_prep(f, st->prep);
    return rc ? rc : write_extra(f, &st->extra);
}

int sn_ckpt_save(const char *path, const struct sn_model *m, const struct sn_optim *o,
                 const struct sn_train_state *st, const char *cfg_text)
{
    struct ckpt_job j = { m, o, st, cfg_text };
    return sn_h5_write_atomic_here(path, true, write_all, &j);
}

int sn_ckpt_save_new(const char *path, const struct sn_model *m, const struct sn_optim *o,
                     const struct sn_train_state *st, const char *cfg_text)
{
    struct ckpt_job j = { m, o, st, cfg_text };
    return sn_h5_write_atomic_here(path, false, write_all, &j);
}

/* One 1-D dataset of n_max elements at most into a new array (*n set). */
static int read_vector(struct sn_h5 *f, const char *path, enum sn_h5_type type, size_t elem,
                       size_t n_max, void **out, size_t *n)
{
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    int rc = sn_h5_info(f, path, &nd, dims, &cls, &size);
    if (!rc && (nd != 1 || dims[0] > n_max))
        rc = sn_fail(SN_EDAMAGED, "%s: %s is not a vector of at most %zu values", sn_h5_path(f),
                     path, n_max);
    if (rc)
        return rc;
    *n = dims[0];
    if (!(*out = malloc((*n ? *n : 1) * elem)))
        return sn_fail(SN_ENOMEM, "out of memory for %s", path);
    return sn_h5_read_all(f, path, type, *out, *n);
}

/* /reducer's arrays, when there are any, into e: each has one count per
 * rank of the writing run (st->world_size of them), each count at most
 * max_each floats (the model's parameter count).  Only arrays of
 * keep_pieces counts (the reading run's rank count; 0: all) are read into
 * memory: the others cannot be used and stay in the file (data NULL),
 * where checksum_extra reads them block by block.  So a file cannot make
 * the load allocate more than the model's size per rank of this run. */
static int read_extra(struct sn_h5 *f, const struct sn_train_state *st, size_t max_each,
                      int64_t keep_pieces, struct sn_ckpt_extra *e)
{
    if (!sn_h5_exists(f, "/reducer"))
        return SN_OK;
    char **names = NULL;
    size_t n = 0;
    int rc = sn_h5_attr_get_strs(f, "/reducer", "names", &names, &n);
    if (!rc && n > SN_CKPT_MAX_EXTRA)
        rc = sn_fail(SN_EDAMAGED, "%s: /reducer names %zu arrays, at most %d are read",
                     sn_h5_path(f), n, SN_CKPT_MAX_EXTRA);
    size_t ranks = st->world_size < (1 << 24) ? (size_t)st->world_size : 1u << 24;
    for (size_t i = 0; i < n && !rc; i++) {
        struct sn_ckpt_array *a = &e->a[e->n++];
        char path[96];
        size_t nc = 0, sum = 0;
        snprintf(a->name, sizeof a->name, "%s", names[i]);
        snprintf(path, sizeof path, "/reducer/%s/counts", a->name);
        int nd;
        size_t dims[SN_H5_MAX_DIMS], size;
        enum sn_h5_class cls;
        rc = sn_h5_info(f, path, &nd, dims, &cls, &size);
        if (!rc && (nd != 1 || dims[0] != ranks))
            rc = sn_fail(SN_EDAMAGED, "%s: %s must hold one count per rank of the run that wrote "
                         "it (/state/world_size %lld)", sn_h5_path(f), path,
                         (long long)st->world_size);
        if (!rc)
            rc = read_vector(f, path, SN_H5_I64, sizeof *a->counts, ranks, (void **)&a->counts,
                             &nc);
        a->n_counts = (int)nc;
        for (size_t r = 0; r < nc && !rc; r++)
            if (a->counts[r] < 0 || (uint64_t)a->counts[r] > max_each ||
                (sum += (size_t)a->counts[r]) > (size_t)INT32_MAX)
                rc = sn_fail(SN_EDAMAGED, "%s: %s holds a bad count (%lld; a rank's piece has at "
                             "most %zu floats)", sn_h5_path(f), path, (long long)a->counts[r],
                             max_each);
        snprintf(path, sizeof path, "/reducer/%s/data", a->name);
        if (!rc && sn_h5_check_rows(f, path, sum))
            rc = sn_fail_prefix(SN_EDAMAGED, "damaged: ");
        a->len = sum;
        if (!rc && (keep_pieces == 0 || (int64_t)nc == keep_pieces))
            rc = read_vector(f, path, SN_H5_F32, sizeof *a->data, sum, (void **)&a->data, &sum);
    }
    sn_h5_free_strs(names, n);
    return rc;
}

/* The optimizer state arrays a checkpoint holds, in the order its writer
 * hashed them, and where each was read to: into the run's optimizer, or,
 * for one this run does not keep, into a spare array for the checksum
 * alone.  A run whose settings differ (ema or Lookahead dropped, momentum
 * 0 with --resume-override optimizer) still checks the file whole; the
 * settings are compared afterwards, naming the difference
 * (trajectory.h), instead of calling the file corrupted. */
struct file_states {
    int n;
    const char *names[SN_OPTIM_MAX_STATES];
    float *at[SN_OPTIM_MAX_STATES];
    float *spare[SN_OPTIM_MAX_STATES];   /* owned */
};

static void free_states(struct file_states *fs)
{
    for (int k = 0; k < fs->n; k++)
        sn_free(fs->spare[k]);
    fs->n = 0;
}

static int index_of(const char *const *names, int n, const char *name)
{
    for (int k = 0; k < n; k++)
        if (strcmp(names[k], name) == 0)
            return k;
    return -1;
}

/* The names, from an optimizer of this run's kind (checked before) with
 * the momentum, Lookahead and weight average the file keeps for param. */
static int name_states(struct sn_h5 *f, const struct sn_layer *l, const struct sn_param *pr,
                       const struct sn_optim *o, struct file_states *fs)
{
    static const char *const optional[3] = { "momentum_buffer", "slow_weights", "ema" };
    bool has[3];
    for (int k = 0; k < 3; k++) {
        char path[320];
        snprintf(path, sizeof path, "/optimizer/%s/%s/%s", l->name, pr->name, optional[k]);
        has[k] = sn_h5_exists(f, path);
    }
    struct sn_optim_cfg c = o->cfg;
    c.momentum = has[0] ? 0.5f : 0.0f;
    c.lookahead_k = has[1] ? 1 : 0;
    c.ema = has[2] ? 0.5f : 0.0f;
    fs->n = sn_optim_state_names(&c, fs->names);
    for (int s = 0; s < o->n_states; s++)
        if (index_of(fs->names, fs->n, o->state_names[s]) < 0)
            return sn_fail(SN_EINVAL, "%s: the checkpoint keeps no optimizer state '%s', which "
                           "this run's optimizer needs: it was written with other optimizer "
                           "settings (momentum, lookahead_k, ema); --resume-override optimizer "
                           "can drop a state on a resume, not add one: to go on from its "
                           "weights with it, start a run with --init %s", sn_h5_path(f),
                           o->state_names[s], sn_h5_path(f));
    for (int k = 0; k < fs->n; k++) {
        int s = index_of(o->state_names, o->n_states, fs->names[k]);
        fs->at[k] = s >= 0 ? o->state[s]
                           : (fs->spare[k] = sn_alloc_f32(o->len ? o->len : 1));
        if (!fs->at[k])
            return sn_fail(SN_ENOMEM, "out of memory for a checkpoint's optimizer state");
    }
    return SN_OK;
}

static int read_states(struct sn_h5 *f, const struct sn_model *m, const struct sn_optim *o,
                       struct file_states *fs)
{
    int rc = SN_OK;
    bool named = false;
    for (int i = 0; i < m->n_layers && !rc; i++) {
        const struct sn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params && !rc; p++) {
            const struct sn_param *pr = &l->params[p];
            if (pr->buffer)
                continue;
            if (!named && (rc = name_states(f, l, pr, o, fs)))
                break;
            named = true;
            for (int k = 0; k < fs->n && !rc; k++) {
                char path[320];
                snprintf(path, sizeof path, "/optimizer/%s/%s/%s", l->name, pr->name,
                         fs->names[k]);
                rc = sn_h5_read_all(f, path, SN_H5_F32, fs->at[k] + pr->offset, pr->len);
            }
        }
    }
    return rc;
}

/* A NaN, an Inf or a negative second moment in the optimizer's state
 * would put NaN into the weights a few steps on, which a relu may hide
 * from the loss: the file is refused where it is read, naming the array. */
static int check_state(const char *file, const char *path, const char *name, const float *v,
                       size_t n)
{
    const bool squares = strcmp(name, "exp_avg_sq") == 0 || strcmp(name, "sum") == 0 ||
                         strcmp(name, "square_avg") == 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return sn_fail(SN_EINVAL, "%s: %s holds %s (element %zu): an optimizer's state "
                           "must be finite numbers", file, path, isnan(v[i]) ? "NaN" : "Inf", i);
        if (squares && v[i] < 0)
            return sn_fail(SN_EINVAL, "%s: %s holds %g (element %zu): a sum of squares is "
                           "never negative", file, path, (double)v[i], i);
    }
    return SN_OK;
}

static int check_states(const char *file, const struct sn_model *m,
                        const struct file_states *fs)
{
    int rc = SN_OK;
    for (int i = 0; i < m->n_layers && !rc; i++) {
        const struct sn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params && !rc; p++) {
            const struct sn_param *pr = &l->params[p];
            for (int k = 0; k < fs->n && !rc && !pr->buffer; k++) {
                char path[320];
                snprintf(path, sizeof path, "/optimizer/%s/%s/%s", l->name, pr->name,
                         fs->names[k]);
                rc = check_state(file, path, fs->names[k], fs->at[k] + pr->offset, pr->len);
            }
        }
    }
    return rc;
}

/* /metrics, as many rows as the run has room for: a file declaring a
 * huge history must not size an allocation. */
static int read_metrics(struct sn_h5 *f, struct sn_train_state *st)
{
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    st->n_metrics = 0;
    if (!sn_h5_exists(f, "/metrics/epoch"))
        return SN_OK;
    int rc = sn_h5_info(f, "/metrics/epoch", &nd, dims, &cls, &size);
    if (rc)
        return rc;
    const size_t n = nd == 1 ? dims[0] : 0;
    const size_t keep = n < (size_t)st->cap_metrics ? n : (size_t)st->cap_metrics;
    double *col = malloc((keep ? keep : 1) * sizeof *col);
    if (!col)
        return sn_fail(SN_ENOMEM, "out of memory");
    for (int c = 0; c < SN_METRIC_COLS && !rc; c++) {
        char path[64];
        snprintf(path, sizeof path, "/metrics/%s", metric_cols[c]);
        rc = sn_h5_check_rows(f, path, n);
        if (!rc && keep)
            rc = sn_h5_read_block(f, path, 0, keep, 1, SN_H5_F64, col);
        for (size_t r = 0; r < keep && !rc; r++)
            ((double *)&st->history[r])[c] = col[r];
    }
    free(col);
    if (!rc)
        st->n_metrics = (int)keep;
    return rc;
}

/* read_all, with the file's optimizer states in fs (the caller frees). */
/* The optimizer's step count, its states and the run's position
 * (/state's counters), each checked against the others. */
static int read_position(struct sn_h5 *f, struct sn_model *m, struct sn_optim *o,
                         struct sn_train_state *st, struct file_states *fs)
{
    const char *file = sn_h5_path(f);
    double t;
    size_t cnt;
    int rc = sn_h5_attr_get_f64(f, "/optimizer", "t", &t, 1, &cnt);
    if (rc)
        return rc;
    if (!(t >= 0 && t < 9e15 && t == floor(t)))
        return sn_fail(SN_EINVAL, "%s: /optimizer attribute t is %g: expected the whole number "
                       "of optimizer steps taken", file, t);
    o->t = (int64_t)t;
    if ((rc = read_states(f, m, o, fs)))
        return rc;
    if ((rc = sn_record_read(f, &st->record)) ||
        (rc = read_i64(f, "/state/epoch", &st->epoch)) ||
        (rc = read_i64(f, "/state/step_in_epoch", &st->step_in_epoch)) ||
        (rc = read_i64(f, "/state/global_step", &st->global_step)) ||
        (rc = read_i64(f, "/state/world_size", &st->world_size)) ||
        (rc = read_i64(f, "/state/global_batch", &st->global_batch)) ||
        (rc = read_i64(f, "/state/seed", &st->seed)))
        return rc;
    st->threads = 0;
    if (sn_h5_exists(f, "/state/threads") && (rc = read_i64(f, "/state/threads", &st->threads)))
        return rc;
    if (st->threads < 0 || st->threads > 1 << 16)   /* a notice's figure: unknown, not said */
        st->threads = 0;
    if (st->epoch < 0 || st->step_in_epoch < 0 || st->global_step < 0 || st->world_size < 1 ||
        st->global_batch < 1)
        return sn_fail(SN_EDAMAGED, "%s: /state holds negative or zero counters", file);
    if (o->t > st->global_step)   /* one optimizer step a step at most (fewer after a change) */
        return sn_fail(SN_EDAMAGED, "%s: /optimizer attribute t is %lld, more than the %lld "
                       "steps of /state/global_step", file, (long long)o->t,
                       (long long)st->global_step);
    return SN_OK;
}

static int read_with(struct sn_h5 *f, struct sn_model *m, struct sn_optim *o,
                     struct sn_train_state *st, struct file_states *fs)
{
    const char *file = sn_h5_path(f);
    int64_t version;
    if (!sn_h5_exists(f, "/state/format_version") && sn_h5_has_attr(f, "/model", "cfg"))
        return sn_fail(SN_EINVAL, "%s is a weights file (train --out), not a checkpoint: a run "
                       "continues only from a checkpoint (--checkpoint-dir); --init %s starts a "
                       "new run from its weights", file, file);
    if (!sn_h5_exists(f, "/state/format_version"))
        return sn_fail(SN_EINVAL, "%s: not a checkpoint (no /state/format_version)", file);
    int rc = read_i64(f, "/state/format_version", &version);
    if (rc)
        return rc;
    if (version != SN_CKPT_VERSION)
        return sn_fail(SN_EINVAL, "%s: checkpoint format version %lld, this scratchnet reads %d",
                       file, (long long)version, SN_CKPT_VERSION);
    char *kind = NULL;
    if ((rc = sn_h5_attr_get_str(f, "/optimizer", "kind", &kind)))
        return rc;
    bool same = strcmp(kind, sn_optim_name(o->cfg.kind)) == 0;
    if (!same)   /* their states are other arrays: no override can map one onto the other */
        rc = sn_fail(SN_EINVAL, "%s: checkpoint was written with optimizer %.32s%s, this run "
                     "uses %s: an optimizer's kind cannot change on a resume, not even with "
                     "--resume-override optimizer; to go on from its weights with %s, start a "
                     "run with --init %s", file, kind, strlen(kind) > 32 ? "..." : "",
                     sn_optim_name(o->cfg.kind), sn_optim_name(o->cfg.kind), file);
    free(kind);
    if (rc)
        return rc;
    if ((rc = sn_weights_read(f, m, true, NULL)))
        return rc;
    if ((rc = read_position(f, m, o, st, fs)))
        return rc;
    if ((rc = read_extra(f, st, m->n_params, st->extra_pieces, &st->extra)))
        return rc == SN_EINVAL ? sn_fail_prefix(SN_EDAMAGED, "damaged: ") : rc;
    uint64_t stored;
    if (!sn_h5_exists(f, "/state/checksum"))
        return sn_fail(SN_EDAMAGED, "%s: /state/checksum is missing", file);
    if ((rc = sn_h5_read_all(f, "/state/checksum", SN_H5_U64, &stored, 1)))
        return rc;
    char *text = NULL;
    if ((rc = sn_h5_attr_get_str(f, "/model", "cfg", &text)))
        return rc;
    uint64_t sum = checksum(m, fs->at, fs->n, o->t, st, text);
    free(text);
    if ((rc = checksum_extra(&sum, &st->extra, f)))
        return rc;
    if (sum != stored)
        return sn_fail(SN_EDAMAGED, "%s: the contents do not match the checksum: the file is "
                       "corrupted", file);
    if ((rc = check_states(file, m, fs)))
        return rc;

    return read_metrics(f, st);
}

static int read_all(struct sn_h5 *f, struct sn_model *m, struct sn_optim *o,
                    struct sn_train_state *st)
{
    struct file_states fs = { 0 };
    int rc = read_with(f, m, o, st, &fs);
    free_states(&fs);
    return rc;
}

int sn_ckpt_read_step(const char *path, int64_t *step)
{
    struct sn_h5 *f;
    int rc = sn_fs_check_input(path, "checkpoint", SIZE_MAX);
    if (!rc)
        rc = sn_h5_check_seal(path);
    if (!rc)
        rc = sn_h5_probe_all(path);
    if (!rc)
        rc = sn_h5_open(path, &f);
    if (rc)
        return rc;
    rc = read_i64(f, "/state/global_step", step);
    sn_h5_close(f);
    return rc;
}

int sn_ckpt_load(const char *path, struct sn_model *m, struct sn_optim *o,
                 struct sn_train_state *st)
{
    memset(&st->extra, 0, sizeof st->extra);
    /* A folder or a FIFO is not a damaged checkpoint: say what it is. */
    int rc = sn_fs_check_input(path, "checkpoint", SIZE_MAX);
    if (rc)
        return rc;
    /* The seal first: a damaged file never reaches HDF5's parser. */
    rc = sn_h5_check_seal(path);   /* SN_EINVAL: no seal, or held open for writing */
    if (rc == SN_EINVAL && access(path, R_OK) == 0 && !sn_h5_held_for_writing(path))
        return sn_fail(SN_EDAMAGED, "%s: no scratchnet seal: not a scratchnet checkpoint, or its "
                       "first bytes are damaged", path);
    if (rc)
        return rc;
    struct sn_h5 *f;
    rc = sn_h5_probe_all(path);   /* the seal does not stop a crafted file */
    if (!rc)
        rc = sn_h5_open(path, &f);
    if (rc)
        return rc == SN_EINVAL ? sn_fail_prefix(SN_EDAMAGED, "sealed but unreadable: ") : rc;
    rc = read_all(f, m, o, st);
    sn_h5_close(f);
    if (rc)
        sn_ckpt_extra_free(&st->extra);
    return rc;
}
