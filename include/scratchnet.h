/* scratchnet: the public API, one include for programs built on
 * libscratchnet (installed: cc prog.c $(pkg-config --cflags --libs scratchnet);
 * in the source tree, after make: cc prog.c -Iinclude -Isrc -Lbuild
 * -lscratchnet -lm -Wl,-rpath,$PWD/build, the shared library bringing its
 * own).
 *
 *   train  the trainer: a model file's text and a dataset in, training on
 *          every MPI rank out (create, step, end of epoch, save, destroy;
 *          examples/spiral.c, examples/train_h5.c)
 *   core   tensors, layers, losses, optimizers, the model (no MPI, no HDF5)
 *   io     HDF5 datasets, weights, checkpoints, IDX, the model file
 *   dist   ranks and collectives (MPI or one local process)
 *
 * C11; from C++ (11 or later) too: the declarations are extern "C".
 */
#ifndef SCRATCHNET_H
#define SCRATCHNET_H

#ifdef __cplusplus
extern "C" {
#endif

#include "core/status.h"
#include "core/tensor.h"
#include "core/rng.h"
#include "core/blas.h"
#include "core/parallel.h"
#include "core/layer.h"
#include "core/activation.h"
#include "core/dense.h"
#include "core/conv.h"
#include "core/maxpool.h"
#include "core/avgpool.h"
#include "core/flatten.h"
#include "core/dropout.h"
#include "core/batchnorm.h"
#include "core/rnn.h"
#include "core/lstm.h"
#include "core/gru.h"
#include "core/concat.h"
#include "core/add.h"
#include "core/augment.h"
#include "core/loss.h"
#include "core/optim.h"
#include "core/sched.h"
#include "core/model.h"
#include "core/clock.h"
#include "core/interrupt.h"
#include "io/dataset.h"
#include "io/idx.h"
#include "io/weights.h"
#include "io/ckpt.h"
#include "io/fsutil.h"
#include "io/modelfile.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "train/ckptdir.h"
#include "train/evaluate.h"
#include "train/reducer.h"
#include "train/trainer.h"

#ifdef __cplusplus
}
#endif

#endif
