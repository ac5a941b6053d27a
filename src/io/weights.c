/* weights: write and read the weights layout (see weights.h). */
#include "io/weights.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/status.h"

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
            rc = sn_h5_write(f, path, pr->shape.ndim, dims, SN_H5_F32, pr->w);
        }
    }
    return rc;
}

struct weights_job {
    const struct sn_model *m;
    const char *cfg_text;
};

static int fill_weights(struct sn_h5 *f, const void *ctx)
{
    const struct weights_job *j = ctx;
    return sn_weights_write(f, j->m, j->cfg_text);
}

int sn_weights_save(const char *path, const struct sn_model *m, const char *cfg_text)
{
    struct weights_job j = { m, cfg_text };
    return sn_h5_write_atomic(path, fill_weights, &j);
}

int sn_weights_open(const char *path, struct sn_h5 **f)
{
    int rc = sn_h5_check_seal(path);
    if (rc == SN_EDAMAGED)
        return rc;
    return sn_h5_open(path, f);
}

int sn_weights_read_cfg(const char *path, char **cfg_text)
{
    struct sn_h5 *f;
    int rc = sn_weights_open(path, &f);
    if (rc)
        return rc;
    if (!sn_h5_has_attr(f, "/model", "cfg"))
        rc = sn_fail(SN_EINVAL, "%s: not a scratchnet weights file (no /model cfg attribute)",
                     path);
    else
        rc = sn_h5_attr_get_str(f, "/model", "cfg", cfg_text);
    sn_h5_close(f);
    return rc;
}

int sn_weights_read(struct sn_h5 *f, struct sn_model *m, bool strict, int *n_loaded)
{
    int loaded = 0;
    for (int i = 0; i < m->n_layers; i++) {
        struct sn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params; p++) {
            struct sn_param *pr = &l->params[p];
            char path[256];
            snprintf(path, sizeof path, "/params/%s/%s", l->name, pr->name);
            if (!sn_h5_exists(f, path)) {
                if (strict)
                    return sn_fail(SN_EINVAL, "%s: %s is missing: the file holds another model",
                                   sn_h5_path(f), path);
                continue;
            }
            int nd;
            size_t dims[SN_H5_MAX_DIMS], size;
            enum sn_h5_class cls;
            int rc = sn_h5_info(f, path, &nd, dims, &cls, &size);
            if (rc)
                return rc;
            bool same = nd == pr->shape.ndim && cls == SN_H5_CLASS_FLOAT;
            for (int d = 0; same && d < nd; d++)
                same = dims[d] == (size_t)pr->shape.d[d];
            if (!same) {
                char want[64];
                return sn_fail(SN_EINVAL, "%s: %s does not have the model's shape %s "
                               "(float): the file holds another model", sn_h5_path(f), path,
                               sn_shape_str(&pr->shape, want, sizeof want));
            }
            if ((rc = sn_h5_read_all(f, path, SN_H5_F32, pr->w, pr->len)))
                return rc;
            loaded++;
        }
    }
    if (n_loaded)
        *n_loaded = loaded;
    return SN_OK;
}
