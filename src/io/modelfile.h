/* modelfile: the INI model file (docs/FORMATS.md), parsed with libinih.
 *
 * [net] comes first and holds the training settings; every following
 * section is one layer, in order.  Unknown sections and keys, repeated keys
 * and values out of range are errors reported as "FILE:LINE: ...".  Layer
 * kinds are mapped to their constructors through one table in modelfile.c.
 */
#ifndef SN_IO_MODELFILE_H
#define SN_IO_MODELFILE_H

#include <stdint.h>

#include "core/augment.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/optim.h"
#include "core/sched.h"

/* Learning-rate and weight-decay multipliers of one kind of parameter. */
struct sn_mults {
    float lr, wd;
};

/* The most epochs a run may have (--epochs, [net] epochs, or what --steps
 * implies): the metrics history holds two rows per epoch. */
#define SN_EPOCHS_MAX (1 << 20)

/* The [net] section. */
struct sn_netcfg {
    struct sn_shape input;
    int batch;                 /* global batch */
    int epochs;
    enum sn_loss loss;
    struct sn_optim_cfg optim;
    /* parameter groups by kind ([net] weight_lr_mult ... norm_wd_mult): batchnorm's
     * weight and bias, the other layers' biases, their other parameters; each
     * parameter's lr_mult and wd_mult are these times its layer's */
    struct sn_mults weights, biases, norms;
    struct sn_sched sched;     /* lr, schedule and warm-up */
    uint64_t seed;
    float clip_norm;           /* 0 = off */
    float label_smoothing;     /* cross_entropy's target smoothing, 0 = off */
    bool target_input;         /* target = input: the loss compares the output with the input */
    struct sn_augment augment; /* [augment]: training-time image transformations */
};

/* Whether a model's input looks written H,W,C: 3 dimensions, 1, 3 or 4
 * last and more than 4 first and second (it reads C,H,W). */
bool sn_input_looks_hwc(const struct sn_shape *in);

/* Read a model file into a malloc'd NUL-terminated string (caller frees).
 * SN_EINVAL if it cannot be read, is larger than 1 MiB or is not text. */
int sn_modelfile_read(const char *path, char **text);

/* Parse text (fname is used in messages) into net and a new, unbuilt model
 * (caller destroys it).  SN_EINVAL / SN_ESHAPE with "fname:line: ...". */
int sn_modelfile_parse(const char *text, const char *fname, struct sn_netcfg *net,
                       struct sn_model **model);

#endif
