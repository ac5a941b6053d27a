/* weights: write and read the weights layout (see weights.h). */
#include "io/weights.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/number.h"
#include "core/status.h"
#include "io/fsutil.h"
#include "io/record.h"

/* Weights that are not finite are never written: every reader refuses
 * them, and a run that ends on them has not trained (SN_ENUM). */
static int check_written(const char *path, const float *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(w[i]))
            return sn_fail(SN_ENUM, "the weights in %s hold %s (element %zu): nothing is "
                           "written (a weights file holds finite numbers)", path,
                           isnan(w[i]) ? "NaN" : "Inf", i);
    return SN_OK;
}

int sn_weights_write(struct sn_h5 *f, const struct sn_model *m, const char *cfg_text)
{
    int rc = sn_h5_mkgroup(f, "/model");
    if (!rc)
        rc = sn_h5_attr_set_str(f, "/model", "cfg", cfg_text);
    if (!rc)
        rc = sn_h5_mkgroup(f, "/params");
    for (int i = 0; i < m->n_layers && !rc; i++) {
        const struct sn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params && !rc; p++) {
            const struct sn_param *pr = &l->params[p];
            char path[256];
            size_t dims[SN_MAX_DIMS];
            for (int d = 0; d < pr->shape.ndim; d++)
                dims[d] = (size_t)pr->shape.d[d];
            snprintf(path, sizeof path, "/params/%s/%s", l->name, pr->name);
            rc = check_written(path, pr->w, pr->len);
            if (!rc)
                rc = sn_h5_write(f, path, pr->shape.ndim, dims, SN_H5_F32, pr->w);
        }
    }
    return rc;
}

struct weights_job {
    const struct sn_model *m;
    const char *cfg_text;
    const struct sn_data_meta *meta;
};

int sn_weights_write_prep(struct sn_h5 *f, const struct sn_data_meta *d)
{
    int rc = sn_h5_attr_set_f64(f, "/model", "input_scale", &d->scale, 1);
    if (!rc && d->n_norm > 0)
        rc = sn_h5_attr_set_f64(f, "/model", "input_mean", d->mean, (size_t)d->n_norm);
    if (!rc && d->n_norm > 0)
        rc = sn_h5_attr_set_f64(f, "/model", "input_std", d->std, (size_t)d->n_norm);
    const double block = (double)d->norm_block;   /* whole, far below 2^53 */
    if (!rc && d->n_norm > 0 && d->norm_block > 0)
        rc = sn_h5_attr_set_f64(f, "/model", "input_norm_block", &block, 1);
    if (!rc && d->n_classes > 0)
        rc = sn_h5_attr_set_strs(f, "/model", "classes", (const char *const *)d->classes,
                                 d->n_classes);
    return rc;
}

static int write_meta(struct sn_h5 *f, const struct sn_data_meta *d)
{
    int rc = sn_weights_write_prep(f, d);
    return rc ? rc : sn_record_write(f, &d->record);
}

static int fill_weights(struct sn_h5 *f, const void *ctx)
{
    const struct weights_job *j = ctx;
    int rc = sn_weights_write(f, j->m, j->cfg_text);
    if (!rc && j->meta)
        rc = write_meta(f, j->meta);
    return rc;
}

int sn_weights_save(const char *path, const struct sn_model *m, const char *cfg_text)
{
    return sn_weights_save_meta(path, m, cfg_text, NULL);
}

/* What the library itself checks before the weights replace a file, for a
 * program without a replace guard (one saving with sn_weights_save replaced
 * a dataset, a model file and a checkpoint: hostile round 70 F9; the
 * command checks more, for every output, before any work and at the
 * rename, where a refused file keeps the new weights at their temporary
 * name): nothing there, an empty file or a model's weights alone; never a
 * dataset (the one being trained on), a model file or another program's
 * data, nor a file its owner made read-only (root replaces it, as root's >
 * does). */
static int weights_replaceable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || (S_ISREG(st.st_mode) && st.st_size == 0))
        return SN_OK;
    if (!S_ISREG(st.st_mode))
        return sn_fail(SN_EUSAGE, "%s is %s, not a file the weights may replace", path,
                       sn_fs_kind(&st));
    if (geteuid() != 0 && access(path, W_OK) != 0)
        return sn_fail(SN_EUSAGE, "%s is read-only: the weights would replace it (name another "
                       "file)", path);
    const enum sn_file_kind k = sn_file_kind(path);
    if (k == SN_FILE_WEIGHTS)
        return SN_OK;
    return sn_fail(SN_EUSAGE, "%s holds %s, which the weights would replace (remove it first, or "
                   "name another file)", path, sn_file_kind_words(k));
}

int sn_weights_save_meta(const char *path, const struct sn_model *m, const char *cfg_text,
                         const struct sn_data_meta *meta)
{
    if (!path || !m || !cfg_text)   /* weights without their model text load nowhere */
        return sn_fail(SN_EINVAL, "sn_weights_save: %s is NULL", !path ? "path" : !m ? "m"
                       : "cfg_text (the model text, which every loader reads first)");
    if (!path[0])   /* a caller's mistake, not an I/O failure (round 71 F7) */
        return sn_fail(SN_EUSAGE, "sn_weights_save: the path is empty");
    /* the command's guard checks more, and keeps refused weights aside */
    int rc = sn_fs_has_replace_guard() ? SN_OK : weights_replaceable(path);
    struct weights_job j = { m, cfg_text, meta };
    return rc ? rc : sn_h5_write_atomic(path, fill_weights, &j);
}

/* mean and std of n values each, allocated in out. */
static int meta_alloc_norm(struct sn_data_meta *out, size_t n)
{
    out->mean = malloc(n * sizeof *out->mean);
    out->std = malloc(n * sizeof *out->std);
    if (!out->mean || !out->std)
        return sn_fail(SN_ENOMEM, "out of memory");
    out->n_norm = (int)n;
    return SN_OK;
}

int sn_data_meta_from(struct sn_dataset *d, const struct sn_split *s, struct sn_data_meta *out)
{
    memset(out, 0, sizeof *out);
    out->known = true;
    out->scale = s->scale;
    int rc = s->n_norm ? meta_alloc_norm(out, (size_t)s->n_norm) : SN_OK;
    for (int c = 0; !rc && c < s->n_norm; c++) {
        out->mean[c] = s->mean[c];
        out->std[c] = s->std[c];
    }
    out->norm_block = s->n_norm > 1 ? s->norm_inner : s->row_len;
    if (!rc && d->f && sn_h5_has_attr(d->f, "/", "classes"))
        rc = sn_h5_attr_get_strs(d->f, "/", "classes", &out->classes, &out->n_classes);
    if (rc)
        sn_data_meta_free(out);
    return rc;
}

/* The n values of /model attribute name (v) are used as floats. */
static int check_f32s(struct sn_h5 *f, const char *name, const double *v, size_t n)
{
    int rc = SN_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char what[4200];
        snprintf(what, sizeof what, "%s: /model %s (value %zu)", sn_h5_path(f), name, i);
        rc = sn_check_f32(v[i], what);
    }
    return rc;
}

/* /model input_norm_block, when kept: a whole number of elements. */
static int read_norm_block(struct sn_h5 *f, struct sn_data_meta *out)
{
    double v = 0;
    size_t n = 0;
    out->norm_block = 0;
    if (!sn_h5_has_attr(f, "/model", "input_norm_block"))
        return SN_OK;
    int rc = sn_h5_attr_get_f64(f, "/model", "input_norm_block", &v, 1, &n);
    if (!rc && !(n == 1 && v >= 1 && v <= 1e15 && v == floor(v)))
        rc = sn_fail(SN_EINVAL, "%s: /model input_norm_block must be one whole number from 1 "
                     "(the elements of a sample that share a mean/std value)", sn_h5_path(f));
    if (!rc)
        out->norm_block = (size_t)v;
    return rc;
}

int sn_data_meta_read(struct sn_h5 *f, struct sn_data_meta *out)
{
    memset(out, 0, sizeof *out);
    out->scale = 1.0 / 255.0;
    int rc = SN_OK;
    size_t n = 0, n2 = 0;
    if (sn_h5_has_attr(f, "/model", "input_scale")) {
        out->known = true;
        rc = sn_h5_attr_get_f64(f, "/model", "input_scale", &out->scale, 1, &n);
        /* the same rule as a dataset's scale: predictions would be NaN */
        if (!rc && (!isfinite(out->scale) || out->scale == 0.0))
            rc = sn_fail(SN_EINVAL, "%s: /model input_scale must be finite and non-zero, it is "
                         "%g", sn_h5_path(f), out->scale);
        if (!rc)
            rc = check_f32s(f, "input_scale", &out->scale, 1);
    }
    if (!rc && sn_h5_has_attr(f, "/model", "input_mean")) {
        rc = sn_h5_attr_len(f, "/model", "input_mean", &n);
        if (!rc)
            rc = sn_h5_attr_len(f, "/model", "input_std", &n2);
        if (!rc && n != n2)
            rc = sn_fail(SN_EINVAL, "%s: /model input_mean and input_std differ in length",
                         sn_h5_path(f));
        if (!rc)
            rc = meta_alloc_norm(out, n);
        if (!rc)
            rc = sn_h5_attr_get_f64(f, "/model", "input_mean", out->mean, n, &n);
        if (!rc)
            rc = sn_h5_attr_get_f64(f, "/model", "input_std", out->std, n, &n2);
        for (size_t c = 0; !rc && c < n2; c++)
            if (!(out->std[c] > 0) || !isfinite(out->std[c]) || !isfinite(out->mean[c]))
                rc = sn_fail(SN_EINVAL, "%s: /model input_std must be positive and input_mean "
                             "finite", sn_h5_path(f));
        if (!rc)
            rc = check_f32s(f, "input_mean", out->mean, n);
        if (!rc)
            rc = check_f32s(f, "input_std", out->std, n2);
        if (!rc)
            rc = read_norm_block(f, out);
    } else if (!rc && sn_h5_has_attr(f, "/model", "input_std"))   /* it would be dropped */
        rc = sn_fail(SN_EINVAL, "%s: /model has input_std but no input_mean: the two go "
                     "together", sn_h5_path(f));
    if (!rc && sn_h5_has_attr(f, "/model", "classes"))
        rc = sn_h5_attr_get_strs(f, "/model", "classes", &out->classes, &out->n_classes);
    if (!rc)
        rc = sn_record_read(f, &out->record);
    if (rc)
        sn_data_meta_free(out);
    return rc;
}

void sn_data_meta_free(struct sn_data_meta *m)
{
    sn_h5_free_strs(m->classes, m->n_classes);
    free(m->mean);
    free(m->std);
    m->classes = NULL;
    m->n_classes = 0;
    m->mean = m->std = NULL;
    m->n_norm = 0;
}

int sn_data_meta_place(struct sn_data_meta *m, const struct sn_shape *in, const char *file)
{
    const size_t len = sn_shape_len(in), n = (size_t)m->n_norm;
    if (n == 0)
        return SN_OK;
    if (m->norm_block == 0)   /* not kept: the rule such weights were read by */
        m->norm_block = n == 1 ? len : in->ndim == 3 && (size_t)in->d[0] == n ? len / n : 1;
    if (m->norm_block <= len / n && len % (n * m->norm_block) == 0)
        return SN_OK;
    return sn_fail(SN_EINVAL, "%s: /model input_mean has %zu value%s for runs of %zu elements, "
                   "which do not tile the model's input of %zu values", file, n,
                   n == 1 ? "" : "s", m->norm_block, len);
}

size_t sn_data_meta_index(const struct sn_data_meta *m, size_t k)
{
    return (k / (m->norm_block ? m->norm_block : 1)) % (size_t)m->n_norm;
}

/* The values of m as they act, in float as the data reader uses them:
 * how many differ (1 when all are one value, 0 for none) */
static size_t distinct_norm(const struct sn_data_meta *m)
{
    for (int k = 1; k < m->n_norm; k++)
        if ((float)m->mean[k] != (float)m->mean[0] || (float)m->std[k] != (float)m->std[0])
            return (size_t)m->n_norm;
    return m->n_norm > 0 ? 1 : 0;
}

bool sn_data_meta_same_prep(const struct sn_data_meta *a, const struct sn_data_meta *b)
{
    if ((float)a->scale != (float)b->scale)
        return false;
    /* compared by their values and runs, never element by element: a run
     * read from a file may claim 10^15 elements */
    const size_t na = distinct_norm(a), nb = distinct_norm(b);
    const bool unit_a = na == 0 || (na == 1 && (float)a->mean[0] == 0.0f &&
                                    (float)a->std[0] == 1.0f);
    const bool unit_b = nb == 0 || (nb == 1 && (float)b->mean[0] == 0.0f &&
                                    (float)b->std[0] == 1.0f);
    if (unit_a || unit_b)
        return unit_a == unit_b;
    if (na != nb)
        return false;
    if (na > 1 && a->norm_block && b->norm_block && a->norm_block != b->norm_block)
        return false;
    for (size_t k = 0; k < na; k++)
        if ((float)a->mean[k] != (float)b->mean[k] || (float)a->std[k] != (float)b->std[k])
            return false;
    return true;
}

bool sn_data_meta_same_classes(const struct sn_data_meta *a, const struct sn_data_meta *b)
{
    if (a->n_classes > b->n_classes)   /* weights keep the first names, those they predict */
        return false;
    for (size_t k = 0; k < a->n_classes; k++)
        if (strcmp(a->classes[k], b->classes[k]) != 0)
            return false;
    return true;
}

/* "(v0, v1, v2, v3, ... n values)" */
static size_t doubles_str(const double *v, int n, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < n && i < 4 && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%g", i ? ", " : "", (float)v[i]);
    if (at < len)
        at += (size_t)snprintf(buf + at, len - at, n > 4 ? ", ... %d values)" : ")", n);
    return at;
}

void sn_data_meta_prep_str(const struct sn_data_meta *m, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "scale %g", (float)m->scale);
    if (at < len && !m->n_norm)
        snprintf(buf + at, len - at, ", no mean/std");
    if (at < len && m->n_norm) {
        at += (size_t)snprintf(buf + at, len - at, ", mean ");
        if (at < len)
            at += doubles_str(m->mean, m->n_norm, buf + at, len - at);
        if (at < len)
            at += (size_t)snprintf(buf + at, len - at, " std ");
        if (at < len)
            at += doubles_str(m->std, m->n_norm, buf + at, len - at);
        if (at < len && m->n_norm > 1 && m->norm_block == 1)
            snprintf(buf + at, len - at, ", a value per feature");
        else if (at < len && m->n_norm > 1 && m->norm_block > 1)
            snprintf(buf + at, len - at, ", a value per channel of %zu inputs", m->norm_block);
    }
}

void sn_data_meta_classes_str(const struct sn_data_meta *m, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "(");
    for (size_t k = 0; k < m->n_classes && k < 4 && at < len; k++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", k ? ", " : "", m->classes[k]);
    if (at < len)
        snprintf(buf + at, len - at, m->n_classes > 4 ? ", ... %zu names)" : ")", m->n_classes);
}

/* path is a dataset given where weights belong. */
static int dataset_not_weights(const char *path, const char *holds)
{
    return sn_fail(SN_EINVAL, "%s is a dataset (it holds %s), not a weights file: are two file "
                   "names swapped?", path, holds);
}

/* A folder given as weights: a checkpoint folder is named as one, with
 * the file to give instead (its newest checkpoint by name). */
static bool sealed(const char *path)
{
    return sn_h5_check_seal(path) == SN_OK;
}

static int folder_not_weights(const char *path)
{
    char newest[64];
    if (!sn_fs_newest_checkpoint(path, sealed, newest, sizeof newest))
        return sn_fail(SN_EINVAL, "%s is a folder, not a weights file", path);
    return sn_fail(SN_EINVAL, "%s is a checkpoint folder, not a weights file: give one of its "
                   "checkpoints (the newest: %s/%s), or continue its run with train "
                   "--checkpoint-dir %s --resume auto", path, path, newest, path);
}

int sn_weights_open(const char *path, struct sn_h5 **f)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return folder_not_weights(path);
    int rc = sn_h5_check_seal(path);
    if (rc == SN_EINVAL && sn_h5_held_for_writing(path))
        return rc;   /* another program writes it: said so (a file of no seal is read) */
    if (rc == SN_EDAMAGED) {
        /* a dataset convert sealed and h5py then extended (a /val added)
         * fails the seal, and is still a dataset: that is said first */
        char was[1024];
        snprintf(was, sizeof was, "%s", sn_errmsg());
        return sn_file_kind(path) == SN_FILE_DATASET ? dataset_not_weights(path, "/SPLIT/x arrays")
                                                      : sn_fail(rc, "%s", was);
    }
    /* the seal is a checksum anyone can recompute: a crafted file that
     * crashes libhdf5 may carry one */
    rc = sn_h5_probe_all(path);
    return rc ? rc : sn_h5_open(path, f);
}

/* A file the probe refused: SN_FILE_UNKNOWN (the probe's message stays the
 * last) when it is HDF5 by its signature (at 0 or after a user block of
 * 512, 1024, ... bytes) or by scratchnet's seal, read without libhdf5, and
 * when it cannot be read at all; else SN_FILE_OTHER. */
static enum sn_file_kind signature_kind(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return SN_FILE_OTHER;
    if (fd < 0) {
        sn_fail(SN_EIO, "it cannot be read: %s", strerror(errno));
        return SN_FILE_UNKNOWN;
    }
    struct stat st;
    bool hdf5 = false;
    const off_t size = fstat(fd, &st) == 0 ? st.st_size : 0;
    for (off_t at = 0; !hdf5 && at + 8 <= size && at <= (1 << 24); at = at ? 2 * at : 512) {
        char sig[8];
        hdf5 = pread(fd, sig, 8, at) == 8 && (memcmp(sig, "\x89HDF\r\n\x1a\n", 8) == 0 ||
                                               (at == 0 && memcmp(sig, "SNSEAL1", 7) == 0));
    }
    close(fd);
    return hdf5 ? SN_FILE_UNKNOWN : SN_FILE_OTHER;
}

/* Whether the file's top level holds no name but those of names. */
static bool only_names(struct sn_h5 *f, const char *const *names)
{
    char others[64];
    sn_h5_root_others(f, names, NULL, others, sizeof others);
    return others[0] == '\0';
}

/* Whether /pred and /probs are what predict writes: N integer classes and
 * N rows of float outputs (groups of that name are another program's). */
static bool predictions_shaped(struct sn_h5 *f)
{
    int nd, np;
    size_t dims[SN_H5_MAX_DIMS], pdims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls, pcls;
    if (!sn_h5_exists(f, "/pred") || !sn_h5_exists(f, "/probs") ||
        sn_h5_info(f, "/pred", &nd, dims, &cls, &size) != SN_OK ||
        sn_h5_info(f, "/probs", &np, pdims, &pcls, &size) != SN_OK)
        return false;
    return nd == 1 && cls == SN_H5_CLASS_INT && np == 2 && pcls == SN_H5_CLASS_FLOAT &&
           pdims[0] == dims[0];
}

/* Whether the file's top level holds dataset splits alone, at least one
 * with its examples, and each split x and y alone (arrays beside them in a
 * split are another program's, which convert -o would replace). */
static bool dataset_shaped(struct sn_h5 *f)
{
    static const char *const data_names[] = { "train", "test", "val", NULL };
    static const char *const split_names[] = { "x", "y", NULL };
    if (!only_names(f, data_names) ||
        !(sn_h5_exists(f, "/train/x") || sn_h5_exists(f, "/test/x") || sn_h5_exists(f, "/val/x")))
        return false;
    for (const char *const *s = data_names; *s; s++) {
        char group[8];
        snprintf(group, sizeof group, "/%s", *s);
        if (sn_h5_exists(f, group) && !sn_h5_group_holds_only(f, group, split_names))
            return false;
    }
    return true;
}

/* Whether text is a model file's by its first section, [net] (another
 * tool's settings kept in a cfg attribute are not). */
static bool starts_with_net(const char *t)
{
    if (strncmp(t, "\xef\xbb\xbf", 3) == 0)
        t += 3;
    for (;;) {
        t += strspn(t, " \t\r\n");
        if (*t != '#' && *t != ';')
            break;
        t += strcspn(t, "\n");
    }
    if (*t++ != '[')
        return false;
    t += strspn(t, " \t");
    if (strncmp(t, "net", 3) != 0)
        return false;
    t += 3 + strspn(t + 3, " \t");
    return *t == ']';
}

/* Whether /model holds scratchnet's model text. */
static bool has_model_text(struct sn_h5 *f)
{
    char *text = NULL;
    bool ok = sn_h5_has_attr(f, "/model", "cfg") &&
              sn_h5_attr_get_str(f, "/model", "cfg", &text) == SN_OK && starts_with_net(text);
    free(text);
    return ok;
}

/* Whether /model is the group scratchnet writes beside parameters of
 * another tool: no members, and no attributes but the input's settings. */
static bool settings_group(struct sn_h5 *f)
{
    static const char *const none[] = { NULL };
    static const char *const settings[] = { "input_scale", "input_mean", "input_std",
                                            "input_norm_block", "classes", NULL };
    return sn_h5_group_holds_only(f, "/model", none) && sn_h5_attrs_only(f, "/model", settings);
}

/* Whether /run is scratchnet's run record: a group of attributes alone,
 * among them how far it trained. */
static bool run_record(struct sn_h5 *f)
{
    static const char *const none[] = { NULL };
    return sn_h5_group_holds_only(f, "/run", none) && sn_h5_has_attr(f, "/run", "trained");
}

const char *sn_file_kind_words(enum sn_file_kind k)
{
    switch (k) {
    case SN_FILE_DATASET: return "a dataset";
    case SN_FILE_WEIGHTS: return "a model's weights";
    case SN_FILE_CHECKPOINT:
        return "a checkpoint (a run's weights with its optimizer state, to resume from)";
    case SN_FILE_PREDICTIONS: return "predict's predictions (/pred, /probs)";
    case SN_FILE_HDF5:
        return "HDF5 data of another program (no scratchnet dataset, weights or predictions "
               "alone)";
    case SN_FILE_UNKNOWN: return "HDF5 that cannot be checked";
    case SN_FILE_OTHER: break;
    }
    return "no HDF5 (a model file, text, another format)";
}

enum sn_file_kind sn_file_kind(const char *path)
{
    struct sn_h5 *f;
    if (sn_h5_probe_all(path) || sn_h5_open(path, &f))
        /* what an HDF5 file holds stays unknown when it cannot be checked
         * (a link, damage, a limit): never taken for a file of no kind */
        return signature_kind(path);
    /* /params without model text is weights too: another tool's, which
     * eval (--model) and train --init read.  Each kind holds its own names
     * alone: a simulation's file with a /params group of settings, or a
     * dataset with recordings beside it, is another program's data, which
     * an output of that kind would replace whole */
    static const char *const model_names[] = { "model", "params", "run", "state", "optimizer",
                                               "reducer", "metrics", NULL };
    static const char *const pred_names[] = { "pred", "probs", NULL };
    /* without its model text (a /model cfg whose first section is [net]),
     * /params of groups of float arrays, alone or beside a /model group of
     * the input's settings and scratchnet's /run record (a curve fit's
     * /params vector, a simulation's settings or its recordings under /run
     * or /metrics are not) */
    static const char *const params_names[] = { "model", "params", "run", NULL };
    const bool model = only_names(f, model_names) &&
                       (has_model_text(f) ||
                        (only_names(f, params_names) && sn_h5_is_layer_tree(f, "/params") &&
                         (!sn_h5_exists(f, "/model") || settings_group(f)) &&
                         (!sn_h5_exists(f, "/run") || run_record(f))));
    enum sn_file_kind k = model && sn_h5_exists(f, "/state") ? SN_FILE_CHECKPOINT
                        : model ? SN_FILE_WEIGHTS
                        : dataset_shaped(f) ? SN_FILE_DATASET
                        : only_names(f, pred_names) && predictions_shaped(f)
                            ? SN_FILE_PREDICTIONS
                            : SN_FILE_HDF5;
    sn_h5_close(f);
    return k;
}

int sn_weights_not_dataset(struct sn_h5 *f)
{
    if (sn_h5_has_attr(f, "/model", "cfg") ||
        !(sn_h5_exists(f, "/train/x") || sn_h5_exists(f, "/test/x")))
        return SN_OK;
    return dataset_not_weights(sn_h5_path(f), sn_h5_exists(f, "/train/x") ? "/train/x"
                                                                         : "/test/x");
}

int sn_weights_read_cfg(const char *path, char **cfg_text)
{
    struct sn_h5 *f;
    int rc = sn_weights_open(path, &f);
    if (rc)
        return rc;
    rc = sn_weights_not_dataset(f);
    if (!rc && !sn_h5_has_attr(f, "/model", "cfg"))
        rc = sn_fail(SN_EINVAL, "%s: not a scratchnet weights file (no /model cfg attribute%s)",
                     path, sn_h5_exists(f, "/pred") && sn_h5_exists(f, "/probs")
                               ? "; it is predict's output, /pred and /probs: are two file "
                                 "names swapped?"
                           : sn_h5_exists(f, "/params")
                               ? "; for parameters alone, as other tools write them, give "
                                 "their model file with --model" : "");
    else if (!rc)
        rc = sn_h5_attr_get_str(f, "/model", "cfg", cfg_text);
    sn_h5_close(f);
    return rc;
}

/* Whether the file's array at path has parameter pr's shape (float). */
static int same_shape(struct sn_h5 *f, const char *path, const struct sn_param *pr, bool *same)
{
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    int rc = sn_h5_info(f, path, &nd, dims, &cls, &size);
    *same = !rc && nd == pr->shape.ndim && cls == SN_H5_CLASS_FLOAT;
    for (int d = 0; *same && d < nd; d++)
        *same = dims[d] == (size_t)pr->shape.d[d];
    return rc;
}

/* Whether path has pr's dimensions (whatever its type, *cls if not NULL). */
static bool same_dims(struct sn_h5 *f, const char *path, const struct sn_param *pr,
                      enum sn_h5_class *cls)
{
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class c;
    bool same = sn_h5_info(f, path, &nd, dims, &c, &size) == SN_OK && nd == pr->shape.ndim;
    for (int d = 0; same && d < nd; d++)
        same = dims[d] == (size_t)pr->shape.d[d];
    if (cls)
        *cls = c;
    return same;
}

/* Why path is not pr's: another shape (another model), or the shape in
 * another type (written by another tool: weights are floats). */
static int not_same(struct sn_h5 *f, const char *path, const struct sn_param *pr)
{
    char want[64];
    sn_shape_str(&pr->shape, want, sizeof want);
    enum sn_h5_class cls;
    if (same_dims(f, path, pr, &cls))
        return sn_fail(SN_EINVAL, "%s: %s has the model's shape %s but holds %s, not floats: "
                       "store weights as float32", sn_h5_path(f), path, want,
                       cls == SN_H5_CLASS_INT ? "integers" : "values of another type");
    return sn_fail(SN_EINVAL, "%s: %s does not have the model's shape %s (float): the file "
                   "holds another model", sn_h5_path(f), path, want);
}

bool sn_weights_has_layer(struct sn_h5 *f, const struct sn_layer *l)
{
    bool same = l->n_params > 0;
    for (int p = 0; same && p < l->n_params; p++) {
        char path[320];
        snprintf(path, sizeof path, "/params/%s/%s", l->name, l->params[p].name);
        if (!sn_h5_exists(f, path) || same_shape(f, path, &l->params[p], &same))
            same = false;
    }
    return same;
}

/* A NaN or Inf weight would only show as a NaN loss or an infinite
 * gradient later, naming no file: the file is refused where it is read. */
/* Element i of path's n as stored, read as float64: a float64 weight past
 * float range reads as Inf once converted, and is named as the file
 * holds it.  False when it cannot be read so. */
static bool stored_value(struct sn_h5 *f, const char *path, size_t i, size_t n, double *v)
{
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    if (sn_h5_info(f, path, &nd, dims, &cls, &size) || nd < 1 || dims[0] == 0 ||
        cls != SN_H5_CLASS_FLOAT || size != sizeof(double))
        return false;
    const size_t row_len = n / dims[0];
    double *row = malloc(row_len * sizeof *row);
    bool ok = row && sn_h5_read_block(f, path, i / row_len, 1, row_len, SN_H5_F64, row) == SN_OK;
    if (ok)
        *v = row[i % row_len];
    free(row);
    return ok && isfinite(*v);
}

static int check_finite(struct sn_h5 *f, const char *path, const float *w, size_t n)
{
    /* a negative variance (batchnorm's running_var) normalises by the root
     * of a negative number: NaN outputs blamed on large weights, an ONNX
     * graph of NaN */
    const size_t pl = strlen(path), vl = strlen("/running_var");
    const bool variance = pl >= vl && strcmp(path + pl - vl, "/running_var") == 0;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (isinf(w[i]) && stored_value(f, path, i, n, &v))
            return sn_fail(SN_EINVAL, "%s: %s holds %g (element %zu), beyond float range: "
                           "weights are float32", sn_h5_path(f), path, v, i);
        if (!isfinite(w[i]))
            return sn_fail(SN_EINVAL, "%s: %s holds %s (element %zu): weights must be "
                           "finite numbers", sn_h5_path(f), path, isnan(w[i]) ? "NaN" : "Inf",
                           i);
        if (variance && w[i] < 0.0f)
            return sn_fail(SN_EINVAL, "%s: %s holds %g (element %zu): a variance is never "
                           "negative", sn_h5_path(f), path, (double)w[i], i);
    }
    return SN_OK;
}

/* fit: a layer is loaded whole or not at all.  *differs: the file holds
 * some of l's arrays but not all, or one of another shape (l then keeps
 * its fresh values); a layer the file does not hold at all is not
 * "different", just new. */
static int layer_differs(struct sn_h5 *f, const struct sn_layer *l, bool *differs)
{
    int present = 0;
    *differs = false;
    for (int p = 0; p < l->n_params; p++) {
        char path[256];
        snprintf(path, sizeof path, "/params/%s/%s", l->name, l->params[p].name);
        bool same = true;
        int rc = sn_h5_check_no_link(f, path);
        if (!rc && sn_h5_exists(f, path) && !(rc = same_shape(f, path, &l->params[p], &same)))
            present++;
        if (rc)
            return rc;
        if (!same && same_dims(f, path, &l->params[p], NULL))   /* this layer's, not floats */
            return not_same(f, path, &l->params[p]);
        *differs = *differs || !same;
    }
    *differs = *differs || (present > 0 && present < l->n_params);
    return SN_OK;
}

/* values false: the shapes only (m may be unbuilt) */
static int read_params(struct sn_h5 *f, struct sn_model *m, bool strict, bool fit, bool values,
                       int *n_loaded, char *refit, size_t refit_len)
{
    int loaded = 0;
    size_t used = 0;
    if (refit && refit_len)
        refit[0] = '\0';
    for (int i = 0; i < m->n_layers; i++) {
        struct sn_layer *l = m->layers[i];
        char path[256];
        bool skip_layer = false;
        int rc = fit ? layer_differs(f, l, &skip_layer) : SN_OK;
        if (rc)
            return rc;
        if (skip_layer) {
            if (refit && used < refit_len)
                used += (size_t)snprintf(refit + used, refit_len - used, "%s%s",
                                         used ? ", " : "", l->name);
            continue;
        }
        for (int p = 0; p < l->n_params; p++) {
            struct sn_param *pr = &l->params[p];
            snprintf(path, sizeof path, "/params/%s/%s", l->name, pr->name);
            if ((rc = sn_h5_check_no_link(f, path)))
                return rc;
            if (!sn_h5_exists(f, path)) {
                if (strict)
                    return sn_fail(SN_EINVAL, "%s: %s is missing: the file holds another model",
                                   sn_h5_path(f), path);
                continue;
            }
            bool same;
            if ((rc = same_shape(f, path, pr, &same)))
                return rc;
            if (!same)
                return not_same(f, path, pr);
            if (values && ((rc = sn_interrupt_check("reading the weights")) ||
                           (rc = sn_h5_read_all(f, path, SN_H5_F32, pr->w, pr->len)) ||
                           (rc = check_finite(f, path, pr->w, pr->len))))
                return rc;
            loaded++;
        }
    }
    if (n_loaded)
        *n_loaded = loaded;
    return SN_OK;
}

int sn_weights_read(struct sn_h5 *f, struct sn_model *m, bool strict, int *n_loaded)
{
    return read_params(f, m, strict, false, true, n_loaded, NULL, 0);
}

/* Whether every trainable parameter of m has its average in the file. */
static bool has_every_average(struct sn_h5 *f, const struct sn_model *m)
{
    for (int i = 0; i < m->n_layers; i++)
        for (int p = 0; p < m->layers[i]->n_params; p++) {
            const struct sn_param *pr = &m->layers[i]->params[p];
            char path[320];
            snprintf(path, sizeof path, "/optimizer/%s/%s/ema", m->layers[i]->name, pr->name);
            if (!pr->buffer && !sn_h5_exists(f, path))
                return false;
        }
    return true;
}

/* The run's ema_every as its record says ("... ema 0.9 every 5 warmup 0"),
 * or fallback when the record does not say (files written before it did). */
static int record_ema_every(struct sn_h5 *f, int fallback)
{
    struct sn_run_record r;
    int every = fallback;
    const char *opt = sn_record_read(f, &r) == SN_OK ? sn_record_get(&r, "optimizer") : NULL;
    const char *ema = opt ? strstr(opt, " ema ") : NULL;
    if (ema && sscanf(ema, " ema %*s every %d", &every) != 1)
        every = fallback;
    return every;
}

int sn_weights_has_average(struct sn_h5 *f, const struct sn_model *m, int ema_every, bool *has)
{
    double t = 0;
    size_t cnt;
    *has = false;
    if (!sn_h5_exists(f, "/state/format_version") || !sn_h5_has_attr(f, "/optimizer", "t"))
        return SN_OK;   /* not a checkpoint */
    ema_every = record_ema_every(f, ema_every);
    if (ema_every < 1)
        return SN_OK;   /* no average kept (a --model without ema, an older file) */
    int rc = sn_h5_attr_get_f64(f, "/optimizer", "t", &t, 1, &cnt);
    *has = !rc && t >= ema_every && has_every_average(f, m);
    return rc;   /* no average taken yet: the live weights are the run's */
}

int sn_weights_read_average(struct sn_h5 *f, struct sn_model *m, int ema_every, bool *used)
{
    bool has = false;
    *used = false;
    int rc = sn_weights_has_average(f, m, ema_every, &has);
    if (rc || !has)
        return rc;
    for (int i = 0; i < m->n_layers && !rc; i++)
        for (int p = 0; p < m->layers[i]->n_params && !rc; p++) {
            struct sn_param *pr = &m->layers[i]->params[p];
            char path[320];
            snprintf(path, sizeof path, "/optimizer/%s/%s/ema", m->layers[i]->name, pr->name);
            if (!pr->buffer && !(rc = sn_h5_read_all(f, path, SN_H5_F32, pr->w, pr->len)))
                rc = check_finite(f, path, pr->w, pr->len);
        }
    *used = rc == SN_OK;
    return rc;
}

/* sn_weights_unread's walk: at the top, /params's members (layers); in a
 * layer's group (layer set), its arrays. */
struct unread {
    struct sn_h5 *f;
    const struct sn_model *m;
    const struct sn_layer *layer;
    const char *group;
    int count;
    char *names;
    size_t len, used;
    bool more;   /* names ends in "...": no room for more */
};

static void note_unread(struct unread *u, const char *name)
{
    u->count++;
    if (u->more)
        return;
    const size_t need = (u->used ? 2 : 0) + strlen(u->group) + 1 + strlen(name);
    if (u->count > 4 || u->used + need + 5 >= u->len) {   /* room kept for ", ..." */
        if (u->used + 5 < u->len)
            snprintf(u->names + u->used, u->len - u->used, "%s...", u->used ? ", " : "");
        u->more = true;
        return;
    }
    u->used += (size_t)snprintf(u->names + u->used, u->len - u->used, "%s%s/%s",
                                u->used ? ", " : "", u->group, name);
}

static int unread_member(const char *name, void *ctx)
{
    struct unread *u = ctx;
    if (u->layer) {   /* an array of a layer m has */
        for (int p = 0; p < u->layer->n_params; p++)
            if (strcmp(u->layer->params[p].name, name) == 0)
                return 0;
        note_unread(u, name);
        return 0;
    }
    const int i = sn_model_find(u->m, name);
    if (i < 0) {
        note_unread(u, name);   /* a layer m does not have */
        return 0;
    }
    char group[300];
    snprintf(group, sizeof group, "/params/%s", name);
    struct unread in = *u;
    in.layer = u->m->layers[i];
    in.group = group;
    sn_h5_each_member(u->f, group, unread_member, &in);
    u->count = in.count;
    u->used = in.used;
    u->more = in.more;
    return 0;
}

int sn_weights_unread(struct sn_h5 *f, const struct sn_model *m, char *names, size_t len)
{
    struct unread u = { f, m, NULL, "/params", 0, names, len, 0, false };
    if (len)
        names[0] = '\0';
    sn_h5_each_member(f, "/params", unread_member, &u);
    return u.count;
}

int sn_weights_check(struct sn_h5 *f, const struct sn_model *m, bool strict)
{
    /* reads no value: m is not written */
    return read_params(f, (struct sn_model *)m, strict, false, false, NULL, NULL, 0);
}

int sn_weights_read_fit(struct sn_h5 *f, struct sn_model *m, int *n_loaded, char *refit,
                        size_t refit_len)
{
    return read_params(f, m, false, true, true, n_loaded, refit, refit_len);
}
