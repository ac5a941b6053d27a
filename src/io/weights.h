/* weights: the weights file layout of INTERFACES.md.
 *
 *   /model                   attribute cfg: the full model file text
 *   /params/<layer>/<param>  float32, PyTorch's names and layouts
 */
#ifndef SN_IO_WEIGHTS_H
#define SN_IO_WEIGHTS_H

#include <stdbool.h>

#include "core/model.h"
#include "io/h5.h"

/* Write /model and /params of m into the open file f. */
int sn_weights_write(struct sn_h5 *f, const struct sn_model *m, const char *cfg_text);

/* Write a weights file crash-safely (temporary file, fsync, rename). */
int sn_weights_save(const char *path, const struct sn_model *m, const char *cfg_text);

/* Open a weights file or checkpoint for reading: a sealed file (one
 * scratchnet wrote) is verified first and refused as SN_EDAMAGED if its
 * bytes changed; an unsealed one (written by other tools) is opened as is. */
int sn_weights_open(const char *path, struct sn_h5 **f);

/* The model text stored in the file at path (malloc'd; caller frees).
 * SN_EINVAL if the file has no /model cfg attribute. */
int sn_weights_read_cfg(const char *path, char **cfg_text);

/* Load /params into m by layer and parameter name.  Every stored array
 * must have the parameter's exact shape (else SN_EINVAL naming it).  With
 * strict, every parameter of m must be present; without, absent layers keep
 * their values.  *n_loaded (may be NULL) counts the parameters read. */
int sn_weights_read(struct sn_h5 *f, struct sn_model *m, bool strict, int *n_loaded);

#endif
