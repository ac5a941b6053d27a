/* trajectory: the settings that decide where a run goes.
 *
 * Two runs with the same data, network and settings below take the same
 * steps (at the same rank count, bit for bit), so a checkpoint continues
 * its own run only if they match.  The trainer records them (io/record.h)
 * in every checkpoint and weights file, and a resume compares the
 * checkpoint's record with the run's own:
 *
 *   data        the dataset's fingerprint (io/fingerprint.h)
 *   model       the network: the model file's layer sections
 *   seed, batch the random streams and the global batch (never changed on
 *               resume: the example sequence would not continue)
 *   optimizer   its kind and hyperparameters
 *   lr          the base learning rate
 *   schedule    its kind, warm-up and parameters
 *   horizon     the step the schedule ends at (for schedules that use it)
 *   augment     the training-time transformations
 *   loss        the loss, label smoothing, clipping
 *   shuffle     shuffled or file order
 *   accumulate  micro-batches per step
 *   compress    the 16-bit format of gradients across hosts (none, bf16,
 *               fp16): rounding with error feedback changes every step
 *
 * A model-file setting added later that changes the trajectory gets a key
 * here too.
 */
#ifndef SN_TRAIN_TRAJECTORY_H
#define SN_TRAIN_TRAJECTORY_H

#include <stddef.h>

#include "io/dataset.h"
#include "io/modelfile.h"
#include "io/record.h"

/* Record the run: net (after the options' overrides), its model text,
 * shuffle, accumulate, compress ("none", "bf16", "fp16"), and dataset
 * ds's fingerprint (read with row, room for one sample).  SN_EIO,
 * SN_EINVAL. */
int sn_trajectory_record(const struct sn_netcfg *net, const char *model_text, bool shuffle,
                         int accumulate, const char *compress, struct sn_dataset *ds, float *row,
                         struct sn_run_record *out);

/* Compare a checkpoint's record (ckpt; from file path) with the run's
 * (run).  Keys in the comma-separated list overrides (may be NULL) may
 * differ: they are named in overridden ("" when none differs).  Any other
 * difference is SN_EINVAL naming each key with both values and the
 * --resume-override that would accept it; seed and batch cannot be
 * overridden.  A differing horizon is followed by horizon_why (may be
 * NULL): what sets this run's, in the user's words ("the last step of
 * --epochs 4 x 20 steps per epoch"), a differing model by model_why (may
 * be NULL or ""): where the layers differ.  A checkpoint without a record
 * is SN_EINVAL.  SN_EUSAGE for an unknown key in overrides. */
int sn_trajectory_compare(const struct sn_run_record *ckpt, const struct sn_run_record *run,
                          const char *path, const char *overrides, const char *horizon_why,
                          const char *model_why,
                          char *overridden, size_t overridden_len);

/* Which keys of the checkpoint's record (ckpt) differ from the run's
 * (run) beyond the overrides (may be NULL), comma-separated in differ:
 * 1 if any does, 0 if none, -1 if the checkpoint has no record. */
int sn_trajectory_differ(const struct sn_run_record *ckpt, const struct sn_run_record *run,
                         const char *overrides, char *differ, size_t len);

/* SN_EUSAGE unless every key of the comma-separated list is one of the
 * record's keys above (and not seed or batch); an empty list or an empty
 * item is refused too, the message listing the keys.  NULL (no list)
 * passes. */
int sn_trajectory_check_keys(const char *overrides);

#endif
