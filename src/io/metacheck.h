/* metacheck: the checks of a training data description that every reader
 * makes the one way: class names given by a dataset or kept by weights,
 * and the description weights keep on /model against their model. */
#ifndef SN_IO_METACHECK_H
#define SN_IO_METACHECK_H

#include <stddef.h>

#include "core/model.h"
#include "io/h5.h"
#include "io/modelfile.h"

/* Class names in all take at most this many bytes: each is checked as
 * text and compared with the others by every rank (100,000 names of 4,000
 * bytes took 28 s to show; 100,000 of 160 bytes fit). */
#define SN_MAX_NAME_BYTES (16 << 20)

/* Class names, when a file gives them (names NULL or n 0: none), must all
 * differ, each show as itself, and name at least each class the model
 * predicts: classes (sn_loss_classes of its loss and its outputs; 0: no
 * model to compare with).  Labels index them: names beyond are classes
 * the model does not predict, as a subset of a dataset keeps every name.
 * Else SN_EINVAL naming file and where. */
int sn_check_class_names(const char *file, const char *where, char *const *names, size_t n,
                         int outputs, int classes);

/* The weights' preparation of pixels (0 and 255, by each mean/std value):
 * every result within +-1e6, as a uint8 dataset's must be; SN_EINVAL naming the
 * first that is not. */
struct sn_data_meta;
int sn_check_pixel_prep(const char *weights, const struct sn_data_meta *meta);

/* The training data's description on /model of weights f (scale, mean,
 * std, class names), read and checked the one way every command does:
 * names against what m predicts, mean/std against its input, and for a
 * model of images (1 or 3 channels) the preparation of pixels. */
int sn_weights_check_meta(struct sn_h5 *f, const char *weights, const struct sn_model *m,
                          const struct sn_netcfg *net);

#endif
