/* dataset: validated row reads from the HDF5 dataset layout (see dataset.h).
 *
 * Legend: N rows, L = row_len elements per sample, C channels (dim 1 of x
 * when x has rank >= 3), K float targets per row.
 */
#include "io/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/checked.h"
#include "core/interrupt.h"
#include "core/number.h"
#include "core/status.h"
#include "io/h5.h"

/* Elements of one sample (its x row), and float target columns of one
 * row plus one: bounds that keep every size computed from them far
 * inside their types. */
#define MAX_SAMPLE (1u << 26)
#define MAX_TARGETS (1u << 20)

/* scale of obj (a split's x, or the root "/") into *scale if it has one. */
static int read_scale(struct sn_h5 *h, const char *obj, float *scale, bool *found)
{
    double v;
    size_t cnt;
    *found = sn_h5_has_attr(h, obj, "scale");
    if (!*found)
        return SN_OK;
    int rc = sn_h5_attr_get_f64(h, obj, "scale", &v, 1, &cnt);
    if (rc)
        return rc;
    const char *name = strcmp(obj, "/") ? obj : "the file's root";
    if (!isfinite(v) || v == 0.0)
        return sn_fail(SN_EINVAL, "%s: attribute scale of %s must be finite and non-zero",
                       sn_h5_path(h), name);
    char what[4200];
    snprintf(what, sizeof what, "%s: attribute scale of %s", sn_h5_path(h), name);
    rc = sn_check_f32(v, what);
    *scale = (float)v;
    return rc;
}

/* When n values of mean and std match another dimension of the samples
 * than the one they are for: the likely cause, the dimensions stored in
 * another order. */
static const char *swapped_hint(const struct sn_shape *sh, size_t n)
{
    const size_t last = (size_t)sh->d[sh->ndim - 1];
    if (sh->ndim == 2 && n == (size_t)sh->d[0] && n != last)
        return " (samples of T x F, features last: statistics taken per time step, as "
               "x.mean((0, 2)) gives, where x.mean((0, 1)) gives one per feature? or time steps "
               "and features stored the other way round?)";
    if (sh->ndim >= 3 && n == last && n != (size_t)sh->d[0])
        return " (samples of C x H x W, channels first: images stored channels-last, "
               "H x W x C?)";
    return "";
}

/* mean and std of obj into s if it has them: 1 value, or `want` (one per
 * channel or feature, `unit`), each std positive. */
static int read_norm(struct sn_h5 *h, const char *obj, const char *xp, int want,
                     const char *unit, struct sn_split *s, bool *found)
{
    const char *file = sn_h5_path(h), *name = strcmp(obj, "/") ? obj : "the file's root";
    bool hm = sn_h5_has_attr(h, obj, "mean"), hs = sn_h5_has_attr(h, obj, "std");
    *found = hm || hs;
    if (hm != hs)
        return sn_fail(SN_EINVAL, "%s: %s has %s without %s: the two go together (std 1 and "
                       "mean 0 leave the values as they are)", file, name, hm ? "mean" : "std",
                       hm ? "std" : "mean");
    if (!hm)
        return SN_OK;
    size_t cm, cs;
    int rc = sn_h5_attr_len(h, obj, "mean", &cm);
    if (!rc)
        rc = sn_h5_attr_len(h, obj, "std", &cs);
    if (rc)
        return rc;
    if (cm != cs || (cm != 1 && cm != (size_t)want)) {
        char need[64] = "1 value";   /* "1 or 1 values" read like a slip */
        if (want != 1)
            snprintf(need, sizeof need, "1 or %d values (one per %s of %s)", want, unit, xp);
        return sn_fail(SN_EINVAL, "%s: mean and std of %s need %s, found %zu and %zu%s", file,
                       name, need, cm, cs, swapped_hint(&s->shape, cm));
    }
    double *v = malloc(2 * cm * sizeof *v);
    s->mean = malloc(cm * sizeof *s->mean);
    s->std = malloc(cm * sizeof *s->std);
    if (!v || !s->mean || !s->std) {
        free(v);
        return sn_fail(SN_ENOMEM, "out of memory");
    }
    rc = sn_h5_attr_get_f64(h, obj, "mean", v, cm, &cm);
    if (!rc)
        rc = sn_h5_attr_get_f64(h, obj, "std", v + cm, cm, &cs);
    for (size_t i = 0; !rc && i < cm; i++) {
        if (!isfinite(v[i]))
            rc = sn_fail(SN_EINVAL, "%s: mean of %s must be finite", file, name);
        else if (!(v[cm + i] > 0.0) || !isfinite(v[cm + i]))
            rc = sn_fail(SN_EINVAL, "%s: std of %s must be positive and finite; value %zu (of "
                         "%zu) is %g%s", file, name, i, cm, v[cm + i], v[cm + i] == 0.0
                         ? " (a constant feature: 1 leaves it as it is)" : "");
        for (int k = 0; k < 2 && !rc; k++) {
            char what[4200];
            snprintf(what, sizeof what, "%s: attribute %s of %s (value %zu)", file,
                     k ? "std" : "mean", name, i);
            rc = sn_check_f32(v[k * cm + i], what);
        }
        s->mean[i] = (float)v[i];
        s->std[i] = (float)v[cm + i];
    }
    free(v);
    s->n_norm = rc ? 0 : (int)cm;
    return rc;
}

/* The largest magnitude a normalised input may reach.  Inputs of the
 * usual preparations are within a few units; 1e6 leaves room for any of
 * them while a layer's sums of products and a loss's squares (1e12 an
 * element, times up to 2^26 elements: under 1e20) stay far inside
 * float's 3.4e38, where a larger input runs into Inf in the first steps. */
#define NORM_MAX 1e6

/* The attribute to blame when split s (x at xp) maps stored value v to x:
 * a std below 1, else a mean larger than v * scale, else the scale. */
static int norm_too_wide(struct sn_dataset *d, const char *xp, const struct sn_split *s,
                         int k, double v, double x)
{
    const double m = s->n_norm ? s->mean[k] : 0.0, sd = s->n_norm ? s->std[k] : 1.0;
    enum { SCALE, MEAN, STD } who = s->n_norm && sd < 1.0 ? STD
                                   : s->n_norm && fabs(m) > fabs(v * s->scale) ? MEAN : SCALE;
    static const char *const attr[] = { "scale", "mean", "std" };
    const double value[] = { s->scale, m, sd };
    const enum sn_prep_from from = who == SCALE ? s->scale_from : s->norm_from;
    char which[32] = "";
    if (who != SCALE && s->n_norm > 1)
        snprintf(which, sizeof which, " (value %d)", k);
    return sn_fail(SN_EINVAL, "%s: attribute %s of %s%s is %g: x = (v * scale - mean) / std "
                   "maps %s %g of %s to %g, beyond the +-%g normalised inputs may reach (scale "
                   "%g, mean %g, std %g)", sn_h5_path(d->f), attr[who],
                   from == SN_PREP_FILE ? "the file's root" : xp, which, value[who],
                   s->x_u8 ? "pixel" : "the value", v, xp, x, NORM_MAX, (double)s->scale, m, sd);
}

/* Every stored value of split s must stay finite and within NORM_MAX once
 * prepared: uint8 pixels over 0..255; float data over [-1, 1] (its values
 * are not read to open it), so |scale| + |mean| <= 1e6 std. */
static int check_norm_range(struct sn_dataset *d, const char *xp, const struct sn_split *s)
{
    const double lo = s->x_u8 ? 0.0 : -1.0, hi = s->x_u8 ? 255.0 : 1.0;
    for (int k = 0; k < (s->n_norm ? s->n_norm : 1); k++) {
        const double m = s->n_norm ? s->mean[k] : 0.0, sd = s->n_norm ? s->std[k] : 1.0;
        const double xlo = (lo * s->scale - m) / sd, xhi = (hi * s->scale - m) / sd;
        if (!(fabs(xhi) <= NORM_MAX))
            return norm_too_wide(d, xp, s, k, hi, xhi);
        if (!(fabs(xlo) <= NORM_MAX))
            return norm_too_wide(d, xp, s, k, lo, xlo);
    }
    return SN_OK;
}

/* The root's scale, mean and std, read and checked where a split's own
 * win too: a root value that is no number is damage in the file (a split
 * without attributes of its own, /val added later, would take it). */
static int check_root_prep(struct sn_dataset *d, const char *xp, int want, const char *unit,
                           const struct sn_split *s)
{
    float scale;
    bool found;
    int rc = read_scale(d->f, "/", &scale, &found);
    struct sn_split root = { .shape = s->shape };
    if (!rc)
        rc = read_norm(d->f, "/", xp, want, unit, &root, &found);
    free(root.mean);
    free(root.std);
    return rc;
}

/* The preparation of split s (x at xp): its own attributes, else the
 * root's, else scale 1 and no mean/std.  Values per channel C for (C,H,W)
 * samples (C = the first of 3 or more dimensions), per feature F (the
 * last dimension) for (F) and (T,F) samples. */
static int read_prep(struct sn_dataset *d, const char *xp, struct sn_split *s)
{
    const bool image = s->shape.ndim >= 3;
    const int want = image ? s->shape.d[0] : s->shape.d[s->shape.ndim - 1];
    const char *unit = image ? "channel" : "feature";
    bool found;
    s->scale = 1.0f;
    int rc = read_scale(d->f, xp, &s->scale, &found);
    s->scale_from = found ? SN_PREP_SPLIT : SN_PREP_DEFAULT;
    if (!rc && !found) {
        rc = read_scale(d->f, "/", &s->scale, &found);
        s->scale_from = found ? SN_PREP_FILE : SN_PREP_DEFAULT;
    }
    if (!rc)
        rc = read_norm(d->f, xp, xp, want, unit, s, &found);
    s->norm_from = found ? SN_PREP_SPLIT : SN_PREP_DEFAULT;
    if (!rc && !found) {
        rc = read_norm(d->f, "/", xp, want, unit, s, &found);
        s->norm_from = found ? SN_PREP_FILE : SN_PREP_DEFAULT;
    }
    if (!rc && (s->scale_from == SN_PREP_SPLIT || s->norm_from == SN_PREP_SPLIT))
        rc = check_root_prep(d, xp, want, unit, s);
    /* channel c covers elements [c*L/C, (c+1)*L/C); feature f every F-th */
    s->norm_inner = s->n_norm <= 1 ? s->row_len : image ? s->row_len / (size_t)want : 1;
    return rc ? rc : check_norm_range(d, xp, s);
}

/* /SPLIT/y is neither integer labels (N) nor float targets (N, K): what
 * it is, and the fix of the likeliest mistake. */
static int bad_y_shape(const char *file, const char *yp, int ny, const size_t *ydims, int ycls)
{
    if (ycls == SN_H5_CLASS_FLOAT && ny == 2 && ydims[1] >= MAX_TARGETS)
        return sn_fail(SN_EINVAL, "%s: %s holds float targets of %zu columns: at most %u a row"
                       SN_BUILD_LIMIT("MAX_TARGETS", "src/io/dataset.c"), file, yp, ydims[1],
                       MAX_TARGETS - 1);
    char shape[96] = "";
    size_t at = 0;
    for (int i = 0; i < ny && at < sizeof shape; i++)
        at += (size_t)snprintf(shape + at, sizeof shape - at, "%s%zu", i ? ", " : "", ydims[i]);
    const char *kind = ycls == SN_H5_CLASS_INT ? "integers" : ycls == SN_H5_CLASS_FLOAT ? "floats"
                     : "values that are neither integers nor floats";
    const char *fix = ycls != SN_H5_CLASS_FLOAT && ycls != SN_H5_CLASS_INT
        ? " (a NumPy bool array is stored as an HDF5 enum): class labels are integers (h5py: "
          "y.astype('int32'))"
        : ycls == SN_H5_CLASS_FLOAT && ny == 1
        ? ": float targets of a regression take the shape (N, 1) (h5py: y.reshape(-1, 1)), and "
          "class labels are integers (y.astype('int32'))"
        : ycls == SN_H5_CLASS_INT && ny == 2 && ydims[1] == 1
        ? ": class labels take the shape (N) (h5py: y.reshape(-1)), and float targets are floats"
        : "";
    return sn_fail(SN_EINVAL, "%s: %s holds %s of shape (%s); it must be integer labels (N) or "
                   "float targets (N, K)%s", file, yp, kind, shape, fix);
}

/* " (the file's splits: train, val)", or what the file is when it is a
 * weights file or a checkpoint, or what else it holds (/training, /Test:
 * names the readers do not take), or " (the file has no split)": what a
 * command asking for a missing one could take instead. */
void sn_dataset_splits_there(struct sn_dataset *d, char *buf, size_t len)
{
    static const char *const names[] = { "train", "test", "val", NULL };
    char others[160];
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < 3; i++) {
        char xp[16];
        snprintf(xp, sizeof xp, "/%s/x", names[i]);
        if (sn_h5_exists(d->f, xp))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : " (the file's splits: ",
                                  names[i]);
    }
    sn_h5_root_others(d->f, names, NULL, others, sizeof others);
    const bool preds = n == 0 && sn_h5_exists(d->f, "/pred") && sn_h5_exists(d->f, "/probs");
    if (preds)   /* predict -o's output */
        snprintf(buf, len, " (the file is predict's output, /pred and /probs: are two file "
                 "names swapped?)");
    else if (others[0] && !sn_h5_exists(d->f, "/state") &&
             !sn_h5_has_attr(d->f, "/model", "cfg"))
        snprintf(buf + n, len - n, "%sthe file also holds %s: splits are named train, test and "
                 "val, in lower case)", n ? "; " : " (", others);
    else
        snprintf(buf + n, len - n, "%s", n ? ")"
                 : sn_h5_exists(d->f, "/state") ? " (the file is a checkpoint: are two file "
                                                  "names swapped?)"
                 : sn_h5_has_attr(d->f, "/model", "cfg") ? " (the file is a model's weights: "
                                                           "are two file names swapped?)"
                 : " (the file has no split)");
}

static int open_split(struct sn_dataset *d, const char *name, bool required,
                      struct sn_split *s)
{
    char xp[64], yp[64];
    snprintf(xp, sizeof xp, "/%s/x", name);
    snprintf(yp, sizeof yp, "/%s/y", name);
    snprintf(s->name, sizeof s->name, "%s", name);
    const char *file = sn_h5_path(d->f);
    /* a split assembled by links (h5py shows it) is not called missing */
    if (sn_h5_check_no_link(d->f, xp) || sn_h5_check_no_link(d->f, yp))
        return sn_fail_suffix(SN_EINVAL, " (copy the array into the file: h5repack, or h5py's "
                              "copy)");
    bool hx = sn_h5_exists(d->f, xp), hy = sn_h5_exists(d->f, yp);
    if (!hx && !hy && !required)
        return SN_OK;
    if (!hx || (!hy && !d->inputs_only)) {
        char there[320] = "";
        if (!hx)
            sn_dataset_splits_there(d, there, sizeof there);
        return sn_fail(SN_EINVAL, "%s: dataset %s is missing%s", file, hx ? yp : xp, there);
    }
    s->has_y = hy;

    int nd, ny;
    size_t dims[SN_H5_MAX_DIMS], ydims[SN_H5_MAX_DIMS], size, ysize;
    enum sn_h5_class cls, ycls;
    int rc = sn_h5_info(d->f, xp, &nd, dims, &cls, &size);
    if (!rc)
        rc = sn_h5_check_row_reads(d->f, xp);
    if (rc)
        return rc;
    if (nd < 2 || nd > 1 + SN_MAX_DIMS) {
        int y_nd = 0;   /* labels (N) in x and samples in y: written the other way round */
        size_t yd[SN_H5_MAX_DIMS], ys;
        enum sn_h5_class yc;
        const bool swapped = nd == 1 && hy && sn_h5_info(d->f, yp, &y_nd, yd, &yc, &ys) == SN_OK &&
                             y_nd >= 2;
        return sn_fail(SN_EINVAL, "%s: %s must have shape (N, sample...) with 1 to %d sample "
                       "dimensions, it has %d dimension%s%s%s%s", file, xp, SN_MAX_DIMS, nd,
                       nd == 1 ? "" : "s", swapped ? " and " : "", swapped ? yp : "",
                       swapped ? " has the samples' shape: are x and y swapped?" : "");
    }
    if (!(cls == SN_H5_CLASS_INT && size == 1) && !(cls == SN_H5_CLASS_FLOAT))
        return sn_fail(SN_EINVAL, "%s: %s must be uint8 or float", file, xp);
    if (cls == SN_H5_CLASS_INT && sn_h5_is_signed(d->f, xp))   /* -1 is not pixel 255 */
        return sn_fail(SN_EINVAL, "%s: %s holds int8; pixels must be uint8 (or float)", file, xp);
    if (dims[0] == 0 || dims[0] > INT32_MAX)
        return sn_fail(SN_EINVAL, "%s: %s has %zu rows (need 1 to %d)", file, xp, dims[0],
                       INT32_MAX);
    s->n = dims[0];
    s->shape.ndim = nd - 1;
    s->row_len = 1;
    for (int i = 1; i < nd; i++) {
        if (dims[i] == 0 || dims[i] > (1u << 24))
            return sn_fail(SN_EINVAL, "%s: %s has a bad dimension %zu", file, xp, dims[i]);
        s->shape.d[i - 1] = (int)dims[i];
        if (!sn_mul_ok(s->row_len, dims[i], &s->row_len) || s->row_len > MAX_SAMPLE)
            return sn_fail(SN_EINVAL, "%s: samples of %s are too large (more than %u elements)"
                           SN_BUILD_LIMIT("MAX_SAMPLE", "src/io/dataset.c"), file, xp, MAX_SAMPLE);
    }
    if (s->row_len > MAX_SAMPLE)
        return sn_fail(SN_EINVAL, "%s: samples of %s are too large (%zu elements, more than %u)"
                       SN_BUILD_LIMIT("MAX_SAMPLE", "src/io/dataset.c"), file, xp, s->row_len,
                       MAX_SAMPLE);
    s->x_u8 = cls == SN_H5_CLASS_INT;

    rc = hy ? sn_h5_info(d->f, yp, &ny, ydims, &ycls, &ysize) : SN_OK;
    if (!rc && hy)
        rc = sn_h5_check_row_reads(d->f, yp);
    if (rc)
        return rc;
    if (hy) {
        if (ny < 1)   /* a scalar: no rows to count */
            return bad_y_shape(file, yp, ny, ydims, ycls);
        if (ydims[0] != s->n)
            return sn_fail(SN_EINVAL, "%s: %s has %zu rows but %s has %zu", file, yp, ydims[0],
                           xp, s->n);
        if (ny == 1 && ycls == SN_H5_CLASS_INT) {
            s->y_int = true;
        } else if (ny == 2 && ycls == SN_H5_CLASS_FLOAT && ydims[1] >= 1 &&
                   ydims[1] < MAX_TARGETS) {
            s->y_int = false;
            s->y_k = (int)ydims[1];
        } else {
            return bad_y_shape(file, yp, ny, ydims, ycls);
        }
    }

    rc = read_prep(d, xp, s);
    if (rc)
        return rc;
    s->present = true;
    return SN_OK;
}

/* How a command opens a dataset: inputs only (predict), or with labels and
 * one split that must be there (need: "train" to train, the split eval
 * evaluates). */
struct open_how {
    bool inputs_only;
    const char *need;
};

static int open_dataset(const char *path, struct open_how how, struct sn_dataset **out)
{
    struct sn_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return sn_fail(SN_ENOMEM, "out of memory");
    d->inputs_only = how.inputs_only;
    const char *need = how.need ? how.need : "";
    int rc = sn_h5_open(path, &d->f);
    if (!rc)
        rc = open_split(d, "train", !strcmp(need, "train"), &d->train);
    if (!rc)
        rc = open_split(d, "test", !strcmp(need, "test"), &d->test);
    if (!rc)
        rc = open_split(d, "val", !strcmp(need, "val"), &d->val);
    if (!rc && how.inputs_only && !d->train.present && !d->test.present && !d->val.present) {
        char there[320];
        sn_dataset_splits_there(d, there, sizeof there);   /* a weights file, other names */
        rc = sn_fail(SN_EINVAL, "%s: none of /train/x, /test/x, /val/x is there%s", path, there);
    }
    for (int i = 0; !rc && i < 2; i++) {   /* a held-out split that is the training rows */
        const char *s = i ? "val" : "test";
        char x[16], y[16];
        snprintf(x, sizeof x, "/%s/x", s);
        snprintf(y, sizeof y, "/%s/y", s);
        if (sn_h5_same_object(d->f, x, "/train/x") || sn_h5_same_object(d->f, y, "/train/y"))
            rc = sn_fail(SN_EINVAL, "%s: /%s is /train's arrays under another name (an HDF5 "
                         "hard link, as h5py's f[\"%s\"] = f[\"train\"] makes): its figures "
                         "would be the training rows'; copy held-out rows there instead", path,
                         s, s);
    }
    if (!rc && d->train.present && d->test.present && d->test.row_len != d->train.row_len)
        rc = sn_fail(SN_EINVAL, "%s: /test/x samples have %zu elements, /train/x %zu", path,
                     d->test.row_len, d->train.row_len);
    if (rc) {
        sn_dataset_close(d);
        return rc;
    }
    *out = d;
    return SN_OK;
}

/* Datasets are other people's files and carry no seal, and libhdf5 1.10
 * crashes on some damaged ones: sn_h5_probe runs this in a child process
 * first, opening the file the way the command will (arg: "inputs", or the
 * split it needs), reading the class names as the commands do (strings in
 * the global heap, which a damaged file makes libhdf5 read past its end)
 * and one row of each split (the last).  Only what the commands read:
 * reading more (every attribute, every object) made libhdf5 spin 60 s on
 * fuzzed files that the commands refuse at once. */
static int try_open(const char *path, const char *arg)
{
    struct sn_dataset *d = NULL;
    bool inputs = !strcmp(arg, "inputs");
    int rc = open_dataset(path, (struct open_how){ inputs, inputs ? NULL : arg }, &d);
    struct sn_split *sp[3] = { rc ? NULL : &d->train, rc ? NULL : &d->test,
                               rc ? NULL : &d->val };
    for (int i = 0; i < 3 && !rc; i++)
        if (sp[i]->present && !(rc = sn_dataset_reserve(d, 1))) {
            float *x = sn_alloc_f32(sp[i]->row_len), *t = sn_alloc_f32((size_t)sp[i]->y_k + 1);
            int label;
            rc = x && t ? sn_dataset_read_block(d, sp[i], sp[i]->n - 1, 1, x, &label, t)
                        : SN_ENOMEM;
            sn_free(x);
            sn_free(t);
        }
    /* the class names even when a row failed: info --data and convert
     * subset read them before any row (a file whose names libhdf5 spins
     * on, without end and deaf to SIGTERM, had its rows refused here) */
    if (d && sn_h5_has_attr(d->f, "/", "classes")) {
        char **names = NULL;
        size_t n = 0;
        if (sn_h5_attr_get_strs(d->f, "/", "classes", &names, &n) == SN_OK)
            sn_h5_free_strs(names, n);
    }
    if (d && sn_h5_has_attr(d->f, "/", "source")) {   /* info --data, convert subset */
        char *source = NULL;
        if (sn_h5_attr_get_str(d->f, "/", "source", &source) == SN_OK)
            free(source);
    }
    sn_dataset_close(d);   /* the child exits next, but make valgrind follows it */
    return rc;
}

/* In the probe's fresh process (sn_h5_probe), this runs before main. */
__attribute__((constructor)) static void dataset_probe_child(int argc, char **argv)
{
    sn_h5_probe_child("dataset", try_open, argc, argv);
}

static int probe_and_open(const char *path, struct open_how how, struct sn_dataset **out)
{
    int rc = sn_h5_probe(path, "dataset", how.inputs_only ? "inputs" : how.need);
    return rc ? rc : open_dataset(path, how, out);
}

int sn_dataset_open(const char *path, struct sn_dataset **out)
{
    return probe_and_open(path, (struct open_how){ false, "train" }, out);
}

int sn_dataset_open_split(const char *path, const char *split, struct sn_dataset **out)
{
    return probe_and_open(path, (struct open_how){ false, split }, out);
}

int sn_dataset_open_inputs(const char *path, struct sn_dataset **out)
{
    return probe_and_open(path, (struct open_how){ true, NULL }, out);
}

void sn_dataset_close(struct sn_dataset *d)
{
    if (!d)
        return;
    sn_h5_close(d->f);
    sn_free(d->stage);
    struct sn_split *sp[3] = { &d->train, &d->test, &d->val };
    for (int i = 0; i < 3; i++) {
        sn_free(sp[i]->x_mem);
        sn_free(sp[i]->y_mem);
        free(sp[i]->mean);
        free(sp[i]->std);
        free(sp[i]->label_counts);
    }
    free(d);
}

const char *sn_dataset_name(const struct sn_dataset *d)
{
    return d->f ? sn_h5_path(d->f) : d->mem_name;
}

int sn_dataset_from_memory(const char *name, struct sn_shape shape, const float *x,
                           const int32_t *y, size_t n, struct sn_dataset **out)
{
    if (!out || !x || !y || !name)   /* each crashed a library caller (round 70 F1) */
        return sn_fail(SN_EINVAL, "sn_dataset_from_memory: %s is NULL (a train split needs "
                       "samples and integer labels)", !out ? "out" : !x ? "x" : !y ? "y" : "name");
    *out = NULL;
    size_t L;
    char dims[64];
    if (!sn_shape_len_ok(&shape, MAX_SAMPLE, &L))   /* negative, zero, or past the limit */
        return sn_fail(SN_EINVAL, "%s: samples of shape %s cannot be made: %d to %d dimensions "
                       "of at least 1 each, at most %zu values", name,
                       shape.ndim >= 1 && shape.ndim <= SN_MAX_DIMS
                           ? sn_shape_str(&shape, dims, sizeof dims) : "(no dimensions)",
                       1, SN_MAX_DIMS, (size_t)MAX_SAMPLE);
    if (n == 0 || n > INT32_MAX)
        return sn_fail(SN_EINVAL, "%s: a dataset of %zu rows cannot be made (1 to %d)", name, n,
                       INT32_MAX);
    for (size_t i = 0; i < n * L; i++)   /* a NaN was blamed on the learning rate (round 70 F14) */
        if (!isfinite(x[i]))
            return sn_fail(SN_EINVAL, "%s: row %zu holds a value that is not finite (%g, value "
                           "%zu of the row)", name, i / L, (double)x[i], i % L);
    struct sn_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return sn_fail(SN_ENOMEM, "out of memory");
    snprintf(d->mem_name, sizeof d->mem_name, "%s", name);
    struct sn_split *s = &d->train;
    *s = (struct sn_split){ .present = true, .name = "train", .n = n, .shape = shape,
                            .row_len = L, .has_y = true, .y_int = true, .scale = 1.0f };
    s->x_mem = sn_alloc_bytes(n * L * sizeof(float));
    s->y_mem = sn_alloc_bytes(n * sizeof(int32_t));
    if (!s->x_mem || !s->y_mem) {
        sn_dataset_close(d);
        return sn_fail(SN_ENOMEM, "%s: out of memory for %zu rows", name, n);
    }
    memcpy(s->x_mem, x, n * L * sizeof(float));
    memcpy(s->y_mem, y, n * sizeof(int32_t));
    *out = d;
    return SN_OK;
}

/* mean[k] and std[k] of s as they act: absent is 0 and 1, one value is
 * every k's */
static void norm_at(const struct sn_split *s, size_t k, float *m, float *sd)
{
    *m = s->n_norm ? s->mean[k % (size_t)s->n_norm] : 0.0f;
    *sd = s->n_norm ? s->std[k % (size_t)s->n_norm] : 1.0f;
}

bool sn_split_same_prep(const struct sn_split *a, const struct sn_split *b)
{
    if (a->scale != b->scale)
        return false;
    size_t n = (size_t)(a->n_norm > b->n_norm ? a->n_norm : b->n_norm);
    for (size_t k = 0; k < n; k++) {
        float ma, sa, mb, sb;
        norm_at(a, k, &ma, &sa);
        norm_at(b, k, &mb, &sb);
        if (ma != mb || sa != sb)
            return false;
    }
    return true;
}

/* "(v0, v1, v2, v3, ... 8 values)" */
static void values_str(const float *v, int n, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < n && i < 4 && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%g", i ? ", " : "", v[i]);
    if (at < len)
        snprintf(buf + at, len - at, n > 4 ? ", ... %d values)" : ")", n);
}

static const char *from_str(enum sn_prep_from f, bool plural)
{
    return f == SN_PREP_SPLIT ? (plural ? "its own attributes" : "its own attribute")
         : f == SN_PREP_FILE  ? (plural ? "the file's attributes" : "the file's attribute")
                              : "no attribute";
}

void sn_split_prep_str(const struct sn_split *s, char *buf, size_t len)
{
    char m[160], sd[160];
    int at = snprintf(buf, len, "scaled by %g (%s)", s->scale, from_str(s->scale_from, false));
    if (at < 0 || (size_t)at >= len)
        return;
    if (!s->n_norm) {
        snprintf(buf + at, len - (size_t)at, ", no mean/std");
        return;
    }
    values_str(s->mean, s->n_norm, m, sizeof m);
    values_str(s->std, s->n_norm, sd, sizeof sd);
    snprintf(buf + at, len - (size_t)at, ", mean %s and std %s (%s)", m, sd,
             from_str(s->norm_from, true));
}

int sn_dataset_check_prep(const struct sn_dataset *d)
{
    const struct sn_split *others[2] = { &d->test, &d->val };
    for (int i = 0; i < 2; i++) {
        const struct sn_split *o = others[i];
        if (!d->train.present || !o->present || sn_split_same_prep(&d->train, o))
            continue;
        char a[512], b[512];
        sn_split_prep_str(&d->train, a, sizeof a);
        sn_split_prep_str(o, b, sizeof b);
        return sn_fail(SN_EINVAL, "%s: /train/x is %s but /%s/x is %s: the model would be "
                       "evaluated on inputs prepared unlike the ones it learns from; put the "
                       "attributes on the file's root (every split inherits them) or give "
                       "every split the same", sn_dataset_name(d), a, o->name, b);
    }
    return SN_OK;
}

const struct sn_split *sn_dataset_split(const struct sn_dataset *d, const char *name)
{
    const struct sn_split *s = strcmp(name, "train") == 0 ? &d->train
                             : strcmp(name, "test") == 0  ? &d->test
                             : strcmp(name, "val") == 0   ? &d->val
                                                          : NULL;
    return s && s->present ? s : NULL;
}

int sn_dataset_reserve(struct sn_dataset *d, size_t max_rows)
{
    size_t L = d->train.row_len;
    if (d->test.present && d->test.row_len > L)
        L = d->test.row_len;
    if (d->val.present && d->val.row_len > L)
        L = d->val.row_len;
    sn_free(d->stage);
    d->stage = sn_alloc_bytes(max_rows * L);
    d->stage_rows = d->stage ? max_rows : 0;
    if (!d->stage)
        return sn_fail(SN_ENOMEM, "out of memory for a batch of %zu rows", max_rows);
    return SN_OK;
}

/* x = (v * scale - mean[c]) / std[c] over n rows; src is uint8 or float. */
static void convert_rows(const struct sn_split *s, const uint8_t *u8, float *x, size_t n)
{
    size_t L = s->row_len, total = n * L;
    const float scale = s->scale;
    if (s->x_u8) {
#pragma omp parallel for simd schedule(static) if (parallel: total > 65536)
        for (size_t i = 0; i < total; i++)
            x[i] = (float)u8[i] * scale;
    } else if (scale != 1.0f) {
#pragma omp parallel for simd schedule(static) if (parallel: total > 65536)
        for (size_t i = 0; i < total; i++)
            x[i] *= scale;
    }
    if (s->n_norm) {
        /* element i uses value (i / inner) mod n_norm: a channel's block of
         * H*W elements, or feature i mod F */
        const size_t inner = s->norm_inner, groups = L / inner;
        for (size_t r = 0; r < n; r++)
            for (size_t g = 0; g < groups; g++) {
                float *p = x + r * L + g * inner;
                const size_t k = g % (size_t)s->n_norm;
                float m = s->mean[k], inv = 1.0f / s->std[k];
                for (size_t i = 0; i < inner; i++)
                    p[i] = (p[i] - m) * inv;
            }
    }
}

size_t sn_dataset_cache_bytes(const struct sn_split *s)
{
    size_t y_row = s->has_y ? (s->y_int ? sizeof(int32_t) : (size_t)s->y_k * sizeof(float)) : 0;
    return s->n * (s->row_len * (s->x_u8 ? 1 : sizeof(float)) + y_row);
}

/* A NaN or Inf in the data would surface steps later as a non-finite loss,
 * or as a prediction from nothing: every float row read from a file is
 * checked, and the first bad one named by its row in the file (uint8 data
 * and integer labels cannot hold one). */
static int check_finite(const struct sn_dataset *d, const char *path, const float *v,
                        size_t n, size_t row_len, const int32_t *rows, size_t first)
{
    for (size_t i = 0; i < n * row_len; i++)
        if (!isfinite(v[i])) {
            const size_t r = rows ? (size_t)rows[i / row_len] : first + i / row_len;
            /* a float64 file's finite value past a float's range reads as Inf:
             * the row again, as stored, for the message */
            double *row = isinf(v[i]) ? malloc(row_len * sizeof *row) : NULL;
            const bool wide = row && sn_h5_read_block(d->f, path, r, 1, row_len, SN_H5_F64,
                                                      row) == SN_OK && isfinite(row[i % row_len]);
            char what[64];
            if (wide)
                snprintf(what, sizeof what, "%g, beyond a float's range", row[i % row_len]);
            else
                snprintf(what, sizeof what, "%s", isnan(v[i]) ? "NaN" : "Inf");
            free(row);
            return sn_fail(SN_EINVAL, "%s: %s row %zu holds %s (element %zu)", sn_h5_path(d->f),
                           path, r, what, i % row_len);
        }
    return SN_OK;
}

/* Float targets as check_finite, and each also within the range the
 * loss takes (sn_dataset_check_targets), by default +-NORM_MAX: a target
 * of 3e38 made mse's loss Inf at the first step (exit 1, the data unnamed),
 * and binary_cross_entropy takes any target outside [0, 1] without a word,
 * its loss then falling without bound. */
static int check_targets(const struct sn_dataset *d, const char *path, const float *v,
                         size_t n, size_t K, const int32_t *rows, size_t first)
{
    const float lo = d->target_why ? d->target_lo : (float)-NORM_MAX;
    const float hi = d->target_why ? d->target_hi : (float)NORM_MAX;
    int rc = check_finite(d, path, v, n, K, rows, first);
    for (size_t i = 0; i < n * K && !rc; i++)
        if (!(v[i] >= lo && v[i] <= hi))
            rc = sn_fail(SN_EINVAL, "%s: %s row %zu holds %g (target %zu), outside %s",
                         sn_dataset_name(d), path, rows ? (size_t)rows[i / K] : first + i / K,
                         (double)v[i], i % K, d->target_why ? d->target_why
                         : "+-1e6, the range targets may have (scale them down)");
    return rc;
}

/* Float inputs as check_finite, and each also within NORM_MAX once
 * prepared: a finite 3e38 ran into Inf in training's first steps and gave
 * eval and predict a confident answer from nothing.  (uint8 pixels are
 * held to it by check_norm_range when the split opens.) */
static int check_inputs(const struct sn_dataset *d, const struct sn_split *s, const char *xp,
                        const float *v, size_t n, const int32_t *rows, size_t first)
{
    const size_t L = s->row_len;
    int rc = check_finite(d, xp, v, n, L, rows, first);
    for (size_t r = 0; r < n && !rc; r++) {
        size_t k = 0, in = 0;   /* the norm group of element j, without a division each */
        for (size_t j = 0; j < L && !rc; j++) {
            const double m = s->n_norm ? s->mean[k] : 0.0, sd = s->n_norm ? s->std[k] : 1.0;
            const double x = ((double)v[r * L + j] * s->scale - m) / sd;
            if (!(fabs(x) <= NORM_MAX))
                rc = sn_fail(SN_EINVAL, "%s: %s row %zu element %zu is %g, which x = (v * scale "
                             "- mean) / std makes %g, beyond the +-%g inputs may reach (a value "
                             "far out of scale, or the wrong scale, mean or std)",
                             sn_h5_path(d->f), xp, rows ? (size_t)rows[r] : first + r, j,
                             (double)v[r * L + j], x, NORM_MAX);
            if (s->n_norm && ++in == s->norm_inner) {
                in = 0;
                k = k + 1 == (size_t)s->n_norm ? 0 : k + 1;
            }
        }
    }
    return rc;
}

int sn_dataset_cache(struct sn_dataset *d, const struct sn_split *cs)
{
    struct sn_split *s = (struct sn_split *)cs;   /* one of d's own splits */
    if (s->x_mem)
        return SN_OK;
    char xp[64], yp[64];
    snprintf(xp, sizeof xp, "/%s/x", s->name);
    snprintf(yp, sizeof yp, "/%s/y", s->name);
    size_t x_bytes = s->n * s->row_len * (s->x_u8 ? 1 : sizeof(float));
    size_t y_len = s->has_y ? s->n * (s->y_int ? 1 : (size_t)s->y_k) : 0;
    void *x = sn_alloc_bytes_unzeroed(x_bytes ? x_bytes : 1);   /* read whole below */
    void *y = sn_alloc_bytes_unzeroed(y_len ? y_len * 4 : 1);
    int rc = x && y ? SN_OK
                    : sn_fail(SN_ENOMEM, "%s: out of memory to hold %s in memory (%zu MiB)",
                              sn_h5_path(d->f), s->name, (x_bytes + 4 * y_len) >> 20);
    /* in blocks: HDF5's own conversion buffers stay small */
    const size_t block = 8192;
    for (size_t at = 0; at < s->n && !rc; at += block) {
        size_t cnt = s->n - at < block ? s->n - at : block;
        if ((rc = sn_interrupt_check("reading the dataset into memory")))
            break;
        rc = s->x_u8 ? sn_h5_read_block(d->f, xp, at, cnt, s->row_len, SN_H5_U8,
                                        (uint8_t *)x + at * s->row_len)
                     : sn_h5_read_block(d->f, xp, at, cnt, s->row_len, SN_H5_F32,
                                        (float *)x + at * s->row_len);
        if (!rc && s->has_y)
            rc = s->y_int ? sn_h5_read_block(d->f, yp, at, cnt, 1, SN_H5_I32, (int32_t *)y + at)
                          : sn_h5_read_block(d->f, yp, at, cnt, (size_t)s->y_k, SN_H5_F32,
                                             (float *)y + at * (size_t)s->y_k);
    }
    if (!rc && !s->x_u8)
        rc = check_inputs(d, s, xp, x, s->n, NULL, 0);
    if (!rc && s->has_y && !s->y_int)
        rc = check_targets(d, yp, y, s->n, (size_t)s->y_k, NULL, 0);
    if (rc) {
        sn_free(x);
        sn_free(y);
        return rc;
    }
    s->x_mem = x;
    s->y_mem = y;
    sn_h5_done_reading(d->f, xp);   /* the chunk caches: no longer read */
    sn_h5_done_reading(d->f, yp);
    return SN_OK;
}

void sn_dataset_uncache(struct sn_dataset *d, const struct sn_split *cs)
{
    (void)d;
    struct sn_split *s = (struct sn_split *)cs;   /* one of d's own splits */
    sn_free(s->x_mem);
    sn_free(s->y_mem);
    s->x_mem = NULL;
    s->y_mem = NULL;
}

/* Rows of a split held in memory: gather, then convert like a file read. */
static void read_cached(struct sn_dataset *d, const struct sn_split *s, const int32_t *rows,
                        size_t first, size_t n, float *x, int *labels, float *targets)
{
    const size_t L = s->row_len, K = (size_t)s->y_k;
#pragma omp parallel for schedule(static) if (n * L > 65536)
    for (size_t i = 0; i < n; i++) {
        size_t r = rows ? (size_t)rows[i] : first + i;
        if (s->x_u8)
            memcpy(d->stage + i * L, (const uint8_t *)s->x_mem + r * L, L);
        else
            memcpy(x + i * L, (const float *)s->x_mem + r * L, L * sizeof(float));
        if (s->y_int && labels)
            labels[i] = ((const int32_t *)s->y_mem)[r];
        else if (!s->y_int && targets && s->has_y)
            memcpy(targets + i * K, (const float *)s->y_mem + r * K, K * sizeof(float));
    }
    convert_rows(s, d->stage, x, n);
}

/* Labels read from the file at each batch were checked when the run began
 * (sn_dataset_check_labels); one out of range now was written since, and
 * would index past the loss's outputs. */
static int recheck_labels(const struct sn_dataset *d, const struct sn_split *s, const char *yp,
                          const int *labels, size_t n, const int32_t *rows, size_t first)
{
    for (size_t i = 0; i < n && s->label_k > 0; i++)
        if (labels[i] < 0 || labels[i] >= s->label_k)
            return sn_fail(SN_EINVAL, "%s: %s row %lld has label %d, outside [0, %d): the file "
                           "changed during the run?", sn_dataset_name(d), yp,
                           rows ? (long long)rows[i] : (long long)(first + i), labels[i],
                           s->label_k);
    return SN_OK;
}

static int read_common(struct sn_dataset *d, const struct sn_split *s, const int32_t *rows,
                       size_t first, size_t n, float *x, int *labels, float *targets)
{
    char xp[64], yp[64];
    snprintf(xp, sizeof xp, "/%s/x", s->name);
    snprintf(yp, sizeof yp, "/%s/y", s->name);
    if (n > d->stage_rows)
        return sn_fail(SN_EINVAL, "dataset: read of %zu rows exceeds the reserved %zu", n,
                       d->stage_rows);
    if (s->x_mem) {
        read_cached(d, s, rows, first, n, x, labels, targets);
        return SN_OK;
    }
    enum sn_h5_type xt = s->x_u8 ? SN_H5_U8 : SN_H5_F32;
    void *xdst = s->x_u8 ? (void *)d->stage : (void *)x;
    int rc = rows ? sn_h5_read_rows(d->f, xp, rows, n, s->row_len, xt, xdst)
                  : sn_h5_read_block(d->f, xp, first, n, s->row_len, xt, xdst);
    if (!rc && !s->x_u8)
        rc = check_inputs(d, s, xp, x, n, rows, first);
    if (rc)
        return rc;
    convert_rows(s, d->stage, x, n);
    if (s->y_int && labels) {
        rc = rows ? sn_h5_read_rows(d->f, yp, rows, n, 1, SN_H5_I32, labels)
                  : sn_h5_read_block(d->f, yp, first, n, 1, SN_H5_I32, labels);
        if (!rc)
            rc = recheck_labels(d, s, yp, labels, n, rows, first);
    } else if (!s->y_int && targets) {
        rc = rows ? sn_h5_read_rows(d->f, yp, rows, n, (size_t)s->y_k, SN_H5_F32, targets)
                  : sn_h5_read_block(d->f, yp, first, n, (size_t)s->y_k, SN_H5_F32, targets);
        if (!rc)
            rc = check_targets(d, yp, targets, n, (size_t)s->y_k, rows, first);
    }
    return rc;
}

int sn_dataset_read_raw(struct sn_dataset *d, const struct sn_split *s, const int32_t *rows,
                        size_t n, void *raw, int *labels, float *targets)
{
    char xp[64], yp[64];
    snprintf(xp, sizeof xp, "/%s/x", s->name);
    snprintf(yp, sizeof yp, "/%s/y", s->name);
    if (!d->f)
        return sn_fail(SN_EINVAL, "%s: not a file", sn_dataset_name(d));
    int rc = sn_h5_read_rows(d->f, xp, rows, n, s->row_len, s->x_u8 ? SN_H5_U8 : SN_H5_F32, raw);
    if (!rc && !s->x_u8)
        rc = check_inputs(d, s, xp, raw, n, rows, 0);
    if (!rc && s->y_int && labels) {
        rc = sn_h5_read_rows(d->f, yp, rows, n, 1, SN_H5_I32, labels);
        if (!rc)
            rc = recheck_labels(d, s, yp, labels, n, rows, 0);
    } else if (!rc && !s->y_int && targets && s->has_y) {
        rc = sn_h5_read_rows(d->f, yp, rows, n, (size_t)s->y_k, SN_H5_F32, targets);
        if (!rc)
            rc = check_targets(d, yp, targets, n, (size_t)s->y_k, rows, 0);
    }
    return rc;
}

void sn_dataset_convert(const struct sn_split *s, const void *raw, float *x, size_t n)
{
    if (!s->x_u8)
        memcpy(x, raw, n * s->row_len * sizeof *x);
    convert_rows(s, raw, x, n);
}

int sn_dataset_read(struct sn_dataset *d, const struct sn_split *s, const int32_t *rows,
                    size_t n, float *x, int *labels, float *targets)
{
    return read_common(d, s, rows, 0, n, x, labels, targets);
}

int sn_dataset_read_block(struct sn_dataset *d, const struct sn_split *s, size_t first,
                          size_t n, float *x, int *labels, float *targets)
{
    return read_common(d, s, NULL, first, n, x, labels, targets);
}

/* Refuse the label y of row i, giving the value the file stores: labels
 * are read as int32, which clamps (2^64-1 reads as 2147483647), so the
 * row is read again in 64 bits for the message. */
static void stored_label(struct sn_dataset *d, const char *yp, size_t i, int y, char v[32])
{
    int64_t s64;
    uint64_t u64;
    snprintf(v, 32, "%d", y);
    if (d->f && sn_h5_is_signed(d->f, yp)) {
        if (sn_h5_read_block(d->f, yp, i, 1, 1, SN_H5_I64, &s64) == SN_OK)
            snprintf(v, 32, "%lld", (long long)s64);
    } else if (d->f && sn_h5_read_block(d->f, yp, i, 1, 1, SN_H5_U64, &u64) == SN_OK) {
        snprintf(v, 32, "%llu", (unsigned long long)u64);
    }
}

void sn_dataset_stored_label(struct sn_dataset *d, const struct sn_split *s, size_t i, int y,
                             char v[32])
{
    char yp[64];
    snprintf(yp, sizeof yp, "/%s/y", s->name);
    stored_label(d, yp, i, y, v);
}

static int bad_label(struct sn_dataset *d, const char *yp, size_t i, int y, int K, int outputs)
{
    char v[32];
    stored_label(d, yp, i, y, v);
    if (outputs == 1 && K == 2)   /* binary_cross_entropy's one output */
        return sn_fail(SN_EINVAL, "%s: %s row %zu has label %s; a model of one binary_cross_entropy "
                       "output takes the labels 0 and 1 (more classes: loss = cross_entropy and "
                       "a unit a class; a subset of a dataset keeps its labels' numbers)",
                       sn_dataset_name(d), yp, i, v);
    return sn_fail(SN_EINVAL, "%s: %s row %zu has label %s, outside [0, %d) for a model with %d "
                   "outputs%s", sn_dataset_name(d), yp, i, v, K, K,
                   y == K ? " (the model's last layer needs more units, or, if the labels "
                            "run from 1 to K, 1 subtracted from each: labels count from 0; a "
                            "subset of a dataset keeps its labels' numbers)"
                   : y > K ? " (the model's last layer needs more units: a subset of a "
                             "dataset keeps its labels' numbers)" : "");
}

double sn_label_entropy(const int64_t *counts, int K, int *present)
{
    int64_t total = 0;
    for (int k = 0; k < K; k++)
        total += counts[k];
    double h = 0.0;
    *present = 0;
    for (int k = 0; k < K; k++) {
        if (counts[k] <= 0)
            continue;
        const double p = (double)counts[k] / (double)total;
        h -= p * log(p);
        ++*present;
    }
    return h;
}

/* Labels y[0..n) (rows from first on) checked against [0, K) and counted. */
static int count_labels(struct sn_dataset *d, const char *yp, const int32_t *y, size_t n,
                        size_t first, int K, int outputs, int64_t *counts)
{
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= K)
            return bad_label(d, yp, first + i, y[i], K, outputs);
        counts[y[i]]++;
    }
    return SN_OK;
}

int sn_dataset_check_labels(struct sn_dataset *d, const struct sn_split *s, size_t first,
                            size_t n, int K, int outputs)
{
    if (!s->y_int)
        return SN_OK;
    struct sn_split *w = (struct sn_split *)s;   /* one of d's own splits */
    w->label_k = K;
    char yp[64];
    snprintf(yp, sizeof yp, "/%s/y", s->name);
    enum { CHUNK = 65536 };
    free(w->label_counts);
    int64_t *counts = w->label_counts = calloc((size_t)K, sizeof *counts);
    int *buf = s->y_mem ? NULL : malloc(CHUNK * sizeof *buf);
    int rc = counts && (s->y_mem || buf) ? SN_OK : sn_fail(SN_ENOMEM, "out of memory");
    if (!rc && s->y_mem)   /* held in memory: no reading */
        rc = count_labels(d, yp, (const int32_t *)s->y_mem + first, n, first, K, outputs, counts);
    for (size_t at = first; !s->y_mem && at < first + n && rc == SN_OK; at += CHUNK) {
        size_t cnt = first + n - at < CHUNK ? first + n - at : CHUNK;
        rc = sn_interrupt_check("checking the labels");
        if (!rc)
            rc = sn_h5_read_block(d->f, yp, at, cnt, 1, SN_H5_I32, buf);
        if (!rc)
            rc = count_labels(d, yp, buf, cnt, at, K, outputs, counts);
    }
    if (!rc)
        w->label_entropy = sn_label_entropy(counts, K, &w->label_classes);
    free(buf);
    return rc;
}

int sn_dataset_check_targets(struct sn_dataset *d, const struct sn_split *s, size_t first,
                             size_t n, float lo, float hi, const char *why)
{
    if (s->y_int || !s->has_y)
        return SN_OK;
    d->target_lo = lo;
    d->target_hi = hi;
    d->target_why = why;
    char yp[64];
    snprintf(yp, sizeof yp, "/%s/y", s->name);
    const size_t K = (size_t)s->y_k;
    if (s->y_mem)   /* held in memory: no reading */
        return check_targets(d, yp, (const float *)s->y_mem + first * K, n, K, NULL, first);
    const size_t block = K < 65536 ? 65536 / K : 1;   /* rows of at most 256 KB */
    float *buf = malloc(block * K * sizeof *buf);
    if (!buf)
        return sn_fail(SN_ENOMEM, "out of memory");
    int rc = SN_OK;
    for (size_t at = first; at < first + n && rc == SN_OK; at += block) {
        size_t cnt = first + n - at < block ? first + n - at : block;
        rc = sn_interrupt_check("checking the targets");
        if (!rc)
            rc = sn_h5_read_block(d->f, yp, at, cnt, K, SN_H5_F32, buf);
        if (!rc)
            rc = check_targets(d, yp, buf, cnt, K, NULL, at);
    }
    free(buf);
    return rc;
}
