/* metacheck: class names and the data description of weights (see
 * metacheck.h). */
#include "io/metacheck.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/loss.h"
#include "core/status.h"
#include "core/text.h"
#include "io/weights.h"

/* Fewer names than classes: labels past the last name would show as
 * numbers, and one name of a binary model's two says neither which. */
static int too_few(const char *file, const char *where, size_t n, int outputs, int classes)
{
    if (outputs == 1 && classes == 2)   /* one binary_cross_entropy output */
        return sn_fail(SN_EINVAL, "%s: %s names 1 class, but a model of one "
                       "binary_cross_entropy output predicts 2 (labels 0 and 1): name both, "
                       "class 0 first", file, where);
    return sn_fail(SN_EINVAL, "%s: %s names %zu class%s but the model has %d outputs: "
                   "give its last layer %zu unit%s (or the data a name for each output)",
                   file, where, n, n == 1 ? "" : "es", outputs, n, n == 1 ? "" : "s");
}

int sn_check_class_names(const char *file, const char *where, char *const *names, size_t n,
                         int outputs, int classes)
{
    if (!names || n == 0)
        return SN_OK;
    if (classes > 0 && n < (size_t)classes)
        return too_few(file, where, n, outputs, classes);
    size_t bytes = 0;   /* checked, compared and shown by every rank: a bound on the work */
    for (size_t k = 0; k < n; k++)
        bytes += strlen(names[k]);
    if (bytes > SN_MAX_NAME_BYTES)
        return sn_fail(SN_EINVAL, "%s: %s names %zu classes in %zu bytes of text, more than the "
                       "%d (%d MiB) class names may take (SN_MAX_NAME_BYTES in "
                       "src/io/metacheck.h)", file, where, n, bytes, SN_MAX_NAME_BYTES,
                       SN_MAX_NAME_BYTES >> 20);
    for (size_t k = 0; k < n; k++) {   /* a table or a prediction would show nothing */
        if (!names[k][0])
            return sn_fail(SN_EINVAL, "%s: %s gives class %zu an empty name", file, where, k);
        if (sn_text_blank_edge(names[k]))   /* 'a ' shows as 'a' */
            return sn_fail(SN_EINVAL, "%s: %s gives class %zu the name '%s', which starts or ends "
                           "with a blank (a table would show it as another name)", file, where,
                           k, names[k]);
        /* shown by every command, stored by export as UTF-8 text */
        char why[64];
        if (sn_text_problem(names[k], why, sizeof why))
            return sn_fail(SN_EINVAL, "%s: %s gives class %zu a name holding %s ('%s'): a class "
                           "name is shown on terminals and pictures", file, where, k, why,
                           names[k]);
    }
    bool twice = false;
    size_t c[2];
    int rc = sn_text_clash((const char *const *)names, n, &twice, c);
    if (!rc && twice)
        rc = strcmp(names[c[0]], names[c[1]]) == 0
           ? sn_fail(SN_EINVAL, "%s: %s names the class '%s' twice", file, where, names[c[0]])
           : sn_fail(SN_EINVAL, "%s: %s gives classes %zu and %zu the same text '%s' in two "
                     "Unicode forms (they would show alike)", file, where, c[0], c[1],
                     names[c[0]]);
    char at[4200];
    snprintf(at, sizeof at, "%s: %s", file, where);
    if (!rc)
        rc = sn_text_refuse_look_alike((const char *const *)names, n, SN_EINVAL, at);
    return rc;
}

int sn_check_pixel_prep(const char *weights, const struct sn_data_meta *meta)
{
    for (int k = 0; k < (meta->n_norm ? meta->n_norm : 1); k++) {
        const double m = meta->n_norm ? meta->mean[k] : 0.0, sd = meta->n_norm ? meta->std[k] : 1.0;
        for (int v = 0; v <= 255; v += 255) {
            const double x = (v * meta->scale - m) / sd;
            if (!(fabs(x) <= 1e6))   /* as a uint8 dataset's preparation is held */
                return sn_fail(SN_EINVAL, "%s: /model prepares pixel %d (mean/std value %d) as "
                               "%g (scale %g, mean %g, std %g), beyond +-1e6: no training data "
                               "is prepared so (damaged or crafted?)", weights, v, k, x,
                               meta->scale, m, sd);
        }
    }
    return SN_OK;
}

int sn_weights_check_meta(struct sn_h5 *f, const char *weights, const struct sn_model *m,
                          const struct sn_netcfg *net)
{
    struct sn_data_meta meta;
    const int outputs = net->target_input ? 0 : (int)sn_model_out_len(m);
    const int classes = outputs > 0 ? sn_loss_classes(net->loss, outputs) : 0;
    int rc = sn_data_meta_read(f, &meta);
    if (!rc)
        rc = sn_check_class_names(weights, "/model classes", meta.classes, meta.n_classes,
                                  outputs, classes);
    /* a dataset may name classes a model does not predict; weights name
     * what it predicts (train keeps those names only; 2 for one binary output) */
    if (!rc && classes > 0 && meta.n_classes > (size_t)classes)
        rc = sn_fail(SN_EINVAL, "%s: /model classes names %zu classes but the model predicts %d: "
                     "weights name the classes it predicts", weights, meta.n_classes, classes);
    /* mean and std: as many values as tile the input in runs of
     * input_norm_block elements, as the data had them */
    if (!rc)
        rc = sn_data_meta_place(&meta, &m->in_shape, weights);
    const struct sn_shape *is = &m->in_shape;   /* an image model: its inputs were pixels */
    if (!rc && meta.known && is->ndim == 3 && (is->d[0] == 1 || is->d[0] == 3))
        rc = sn_check_pixel_prep(weights, &meta);
    sn_data_meta_free(&meta);
    return rc;
}
