/* datacheck: the checks and warnings that keep train, eval and predict
 * from giving a wrong answer without a word: splits prepared differently,
 * weights used on data of other classes or preparation, and a per-rank
 * batch too small to compute well (see cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "core/status.h"
#include "core/text.h"
#include "dist/dist.h"
#include "io/h5.h"
#include "io/metacheck.h"
#include "io/weights.h"

int cli_check_splits(const struct sn_dataset *ds, bool allow)
{
    int rc = sn_dataset_check_prep(ds);
    if (!rc)
        return SN_OK;
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", sn_errmsg());
    if (!allow)
        return sn_fail(rc, "%s (--allow-split-preprocessing trains anyway)", msg);
    if (sn_dist_rank() == 0)
        cli_eprintf("scratchnet: warning: %s (allowed by --allow-split-preprocessing)\n", msg);
    return SN_OK;
}

/* Float inputs held in memory that already lie within [-1, 1] but get a
 * small scale (PyTorch's ToTensor habit plus the recipe's scale = 1/255):
 * the model sees values near 0 and learns little, without a word (a
 * Fashion-MNIST MLP: 37% instead of 88%).  The first 10,000 rows tell. */
static void warn_scaled_twice(const struct sn_split *s, const char *data)
{
    if (s->x_u8 || !s->x_mem || s->scale_from == SN_PREP_DEFAULT || s->n_norm ||
        !(s->scale < 0.1f))
        return;
    const float *x = s->x_mem;
    const size_t n = (s->n < 10000 ? s->n : 10000) * s->row_len;
    float lo = n ? x[0] : 0.0f, hi = lo;
    for (size_t i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    if (hi - lo > 0.0f && lo >= -1.0f && hi <= 1.0f)
        cli_eprintf("scratchnet: warning: %s /train/x holds float values from %g to %g and "
                    "has scale %g: the model sees them from %.3g to %.3g (scaled twice? "
                    "values already in 0..1 need no scale attribute: datasets/README.md)\n",
                    cli_line(data), (double)lo, (double)hi, (double)s->scale,
                    (double)(lo * s->scale), (double)(hi * s->scale));
}

void cli_warn_raw_pixels(const struct sn_dataset *ds, const char *data)
{
    const struct sn_split *s = &ds->train;
    if (sn_dist_rank() != 0)
        return;
    warn_scaled_twice(s, data);
    if (!s->x_u8 || s->scale_from != SN_PREP_DEFAULT || s->n_norm)
        return;
    cli_eprintf("scratchnet: warning: %s /train/x holds uint8 values without a scale attribute: "
                "the model sees them as 0 to 255 (pixels usually get scale = 1/255; "
                "datasets/README.md, docs/FORMATS.md)\n", cli_line(data));
}

/* Whether b's dimensions are a's in another order that moves values: a
 * permutation of them, other than one that only moves axes of size 1 ((28,
 * 28, 1) holds what (1, 28, 28) does). */
static bool reordered(const struct sn_shape *a, const struct sn_shape *b)
{
    bool same = true, used[SN_MAX_DIMS] = { false }, perm = true;
    for (int i = 0; i < a->ndim; i++) {
        same = same && a->d[i] == b->d[i];
        int j = 0;
        while (j < b->ndim && (used[j] || b->d[j] != a->d[i]))
            j++;
        perm = perm && j < b->ndim && (used[j] = true);
    }
    int x[SN_MAX_DIMS], y[SN_MAX_DIMS], nx = 0, ny = 0;
    for (int i = 0; i < a->ndim; i++) {
        if (a->d[i] != 1)
            x[nx++] = a->d[i];
        if (b->d[i] != 1)
            y[ny++] = b->d[i];
    }
    bool order = nx == ny;
    for (int i = 0; order && i < nx; i++)
        order = x[i] == y[i];
    return !same && perm && !order;
}

void cli_warn_layout(const struct sn_split *split, const char *data, const struct sn_shape *in)
{
    const struct sn_shape *s = &split->shape;
    if (sn_dist_rank() != 0 || s->ndim != in->ndim || (s->ndim != 2 && s->ndim != 3) ||
        !reordered(s, in))
        return;
    char a[64], b[64];
    cli_eprintf("scratchnet: warning: %s /%s/x holds samples of %s, the model reads %s: the "
                "same values in another order (%s, or a model whose input is written so?); the "
                "model reads %s (docs/FORMATS.md)\n", cli_line(data), split->name,
                sn_shape_str(s, a, sizeof a), sn_shape_str(in, b, sizeof b),
                s->ndim == 3 ? "images stored channels-last, H x W x C" :
                               "sequences stored features first, F x T",
                s->ndim == 3 ? "channels first, C,H,W" : "time steps first, T,F");
}

void cli_warn_input_order(const struct sn_shape *in, const char *model)
{
    if (sn_dist_rank() != 0 || !sn_input_looks_hwc(in))
        return;
    cli_eprintf("scratchnet: warning: %s: [net] input = %d,%d,%d reads as C,H,W: %d channels "
                "of %dx%d; images of %dx%d with %d channel%s are input = %d,%d,%d, their data "
                "(N, %d, %d, %d) (docs/FORMATS.md)\n", cli_line(model), in->d[0], in->d[1],
                in->d[2], in->d[0], in->d[1], in->d[2], in->d[0], in->d[1], in->d[2],
                in->d[2] == 1 ? "" : "s", in->d[2], in->d[0], in->d[1], in->d[2], in->d[0],
                in->d[1]);
}

void cli_warn_small_batch(int global_batch, int ranks, bool batchnorm)
{
    int b = ranks > 0 ? global_batch / ranks : global_batch;
    if (ranks < 2 || b >= CLI_MIN_RANK_BATCH || sn_dist_rank() != 0)
        return;
    cli_eprintf("scratchnet: warning: each of the %d ranks computes %d example%s per step "
                "(global batch %d): below %d per rank the matrix products run far below the "
                "machine's speed%s; raise --batch (and --lr with it, docs/CLUSTER.md) or use "
                "fewer ranks\n", ranks, b, b == 1 ? "" : "s", global_batch, CLI_MIN_RANK_BATCH,
                batchnorm ? " and batchnorm statistics get noisy" : "");
}

/* An attribute of the object at path whose name is one scratchnet reads
 * in another case, or that sits where it is not read: scale, mean and std
 * are read on a split's x or the root, classes on the root.  A scale on
 * /train or a Scale on /train/x got only the warning of no scale at all,
 * and classes on /train nothing (hostile round 74 F4).  A split's y may
 * keep the user's own statistics of its targets (datasets/README.md's
 * regression advice: round 75 F3): only classes there is named. */
struct stray {
    const char *path;
    bool prep_read, classes_read;   /* where this object's are read */
    bool y;                         /* a split's y: its scale, mean and std are the user's */
    char found[300];
};

static int stray_attr(const char *name, void *ctx)
{
    static const char *const read[] = { "scale", "mean", "std", "classes" };
    struct stray *s = ctx;
    for (int i = s->y ? 3 : 0; i < 4; i++) {
        const bool here = i < 3 ? s->prep_read : s->classes_read;
        if (strcasecmp(name, read[i]) != 0 || (here && strcmp(name, read[i]) == 0))
            continue;
        snprintf(s->found, sizeof s->found, "attribute %s of %s", name, s->path);
        return 1;
    }
    return 0;
}

static void warn_stray_attrs(struct sn_dataset *ds, const char *file)
{
    static const char *const at[] = { "/", "/train", "/train/x", "/train/y", "/test",
                                       "/test/x", "/test/y", "/val", "/val/x", "/val/y" };
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        const size_t n = strlen(at[i]);
        struct stray s = { at[i], i == 0 || (n > 2 && strcmp(at[i] + n - 2, "/x") == 0), i == 0,
                           n > 2 && strcmp(at[i] + n - 2, "/y") == 0, "" };
        sn_h5_each_attr(ds->f, at[i], stray_attr, &s);
        if (s.found[0]) {
            cli_eprintf("scratchnet: warning: %s: %s is not read: scale, mean and std are read "
                        "on a split's x or the file's root, classes on the root, in lower case\n",
                        cli_line(file), cli_line(s.found));
            return;
        }
    }
}

void cli_warn_unread_splits(struct sn_dataset *ds, const char *file)
{
    static const char *const names[] = { "train", "test", "val", NULL };
    char others[200];
    if (!ds->f || sn_dist_rank() != 0)
        return;
    sn_h5_root_others(ds->f, names, "x", others, sizeof others);
    if (others[0])
        cli_eprintf("scratchnet: warning: %s also holds %s, not read: splits are named train, "
                    "test and val, in lower case\n", cli_line(file), others);
    warn_stray_attrs(ds, file);
}

int cli_check_dataset_classes(struct sn_dataset *ds, const char *file, int outputs, int classes,
                              size_t *n_names)
{
    *n_names = 0;
    if (!ds->f || !sn_h5_has_attr(ds->f, "/", "classes"))
        return SN_OK;
    char **names = NULL;
    int rc = sn_h5_attr_get_strs(ds->f, "/", "classes", &names, n_names);
    if (!rc)
        rc = sn_check_class_names(file, "the attribute classes", names, *n_names, outputs,
                                  classes);
    sn_h5_free_strs(names, *n_names);
    return rc;
}

void cli_warn_data_mismatch(const char *weights, const char *data, struct sn_dataset *ds,
                            const struct sn_split *s, bool classes)
{
    if (sn_dist_rank() != 0)
        return;
    struct sn_h5 *f = NULL;
    struct sn_data_meta w, d;
    memset(&w, 0, sizeof w);
    memset(&d, 0, sizeof d);
    /* the weights were loaded already: a failure here only means nothing to compare */
    int rc = sn_weights_open(weights, &f);
    if (!rc)
        rc = sn_data_meta_read(f, &w);
    sn_h5_close(f);
    if (!rc)
        rc = sn_data_meta_from(ds, s, &d);
    char a[512], b[512];
    if (!rc && classes && w.n_classes && d.n_classes && !sn_data_meta_same_classes(&w, &d)) {
        sn_data_meta_classes_str(&w, a, sizeof a);
        sn_data_meta_classes_str(&d, b, sizeof b);
        cli_eprintf("scratchnet: warning: %s was trained on the classes %s but %s names %s: "
                    "a label may not mean the same class in both\n", cli_line(weights), a,
                    cli_line(data), b);
    }
    if (!rc && w.known && !sn_data_meta_same_prep(&w, &d)) {
        sn_data_meta_prep_str(&w, a, sizeof a);
        sn_data_meta_prep_str(&d, b, sizeof b);
        cli_eprintf("scratchnet: warning: %s was trained on inputs prepared with %s but %s "
                    "/%s/x has %s: the model sees inputs unlike its training data (an HDF5 "
                    "file's rows are prepared with its own attributes: copy the training "
                    "file's scale, mean and std onto it, datasets/README.md)\n",
                    cli_line(weights), a, cli_line(data), s->name, b);
    }
    sn_data_meta_free(&w);
    sn_data_meta_free(&d);
}

void cli_warn_float_training(const char *weights, const struct sn_data_meta *meta)
{
    const char *data = sn_record_get(&meta->record, "data");
    if (!data || strncmp(data, "train ", 6) != 0 || sn_dist_rank() != 0)
        return;
    const size_t train_part = strcspn(data, ";");
    const char *f32 = strstr(data, " f32 ");
    if (!f32 || (size_t)(f32 - data) > train_part)
        return;
    cli_eprintf("scratchnet: warning: %s was trained on float data (/train/x float32, scale "
                "%g%s): an image's pixels 0 to 255 are prepared with that scale, which fits only "
                "if the data held pixel values; predict a dataset prepared like the training "
                "data, or train on uint8 pixels with a scale\n", cli_line(weights), meta->scale,
                meta->n_norm ? ", mean and std" : "");
}

void cli_warn_stray_jpegs(size_t n, const char *first)
{
    cli_eprintf("scratchnet: warning: %zu JPEG%s %s bytes after a scan's data, which libjpeg "
                "skipped (the first: %s): an encoder's padding, or damage that still decodes; "
                "look at %s\n", n, cli_s((long long)n), n == 1 ? "holds" : "hold", cli_line(first),
                n == 1 ? "it" : "them");
}
