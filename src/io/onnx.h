/* onnx: a model as an ONNX file (onnx.proto, written with protobuf-c).
 *
 * The graph takes what predict takes: raw values shaped (N, input...) (for
 * images, pixels 0..255 as float), scaled and normalised as the training
 * data was (the weights file's scale, mean and std) by the graph's first
 * nodes; then one group of nodes per layer, in model order; then, with
 * [augment] test_flip, the mean of the outputs for each image and its
 * mirror image; and optionally the probabilities predict writes (softmax
 * for cross_entropy, sigmoid for binary_cross_entropy).  Class names and
 * the model text go into the model's metadata_props.  docs/FORMATS.md
 * lists the operators each layer becomes.
 */
#ifndef SN_IO_ONNX_H
#define SN_IO_ONNX_H

#include <stdbool.h>

#include "core/model.h"
#include "io/modelfile.h"
#include "io/weights.h"

#define SN_ONNX_OPSET_MIN 13
#define SN_ONNX_OPSET_MAX 21
#define SN_ONNX_OPSET_DEFAULT 17   /* the newest Debian 12's onnx 1.12 checks */

struct sn_onnx_opts {
    int opset;                         /* SN_ONNX_OPSET_MIN .. _MAX */
    int batch;                         /* fixed batch size, or 0: dynamic (dim "N") */
    bool probs;                        /* end with the loss's probabilities */
    const struct sn_data_meta *meta;   /* preprocessing and class names (NULL: none) */
    const char *cfg_text;              /* model text for the metadata (NULL: none) */
    const char *version;               /* producer_version: the build (NULL: none) */
};

/* Write m (built, with its parameters) and its [net] settings as an ONNX
 * model at path (temporary file, fsync, rename: never half-written).
 * SN_EINVAL naming the layer when a layer has no ONNX form, or naming the
 * option when opts are out of range (probs with loss = mse); SN_EIO,
 * SN_ENOMEM. */
int sn_onnx_save(const char *path, const struct sn_model *m, const struct sn_netcfg *net,
                 const struct sn_onnx_opts *opts);

#endif
