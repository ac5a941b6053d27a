/* dataset: the HDF5 dataset layout of docs/FORMATS.md, read by rows.
 *
 *   /<split>/x  uint8 or float, (N, sample shape...)
 *   /<split>/y  integer labels (N) or float targets (N, K)
 *   attributes scale (default 1), optional mean and std, on the file's root
 *   (for every split), on a split's x (for that split), or both: a split's
 *   own attribute wins over the root's; mean and std go together and hold
 *   one value, or one per channel C of (C,H,W) samples, or one per feature
 *   F of (F) and (T,F) samples: x = (v * scale - mean[k]) / std[k].
 * A split is "train", "test" or "val".  A split is either read from the
 * file row by row (only the rows a rank is given), or, after
 * sn_dataset_cache, held in memory as stored (uint8 stays uint8: a quarter
 * of the floats) and scaled per batch, which takes the file off the
 * training step's critical path.
 */
#ifndef SN_IO_DATASET_H
#define SN_IO_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tensor.h"

/* Where a split's scale, or its mean and std, come from. */
enum sn_prep_from { SN_PREP_DEFAULT, SN_PREP_FILE, SN_PREP_SPLIT };

struct sn_split {
    bool present;
    char name[8];
    size_t n;                 /* rows */
    struct sn_shape shape;    /* one sample (up to 4 dims) */
    size_t row_len;           /* elements per sample */
    bool x_u8;                /* stored uint8 (else float) */
    bool has_y;               /* /<split>/y present (always, but for inputs-only files) */
    bool y_int;               /* integer labels (else float targets) */
    int y_k;                  /* float targets per row (y_int: 0) */
    float scale;
    int n_norm;               /* values of mean and std: 0 (none), 1, C or F */
    size_t norm_inner;        /* consecutive elements that share one value */
    float *mean, *std;        /* n_norm each (owned) */
    enum sn_prep_from scale_from, norm_from;
    void *x_mem;              /* whole x as stored, after sn_dataset_cache (owned) */
    void *y_mem;              /* whole y: int32 labels or float targets (owned) */
    int label_k;              /* labels checked to lie in [0, label_k)
                               * (sn_dataset_check_labels); each batch read from
                               * the file is checked again; 0: not checked */
    int64_t *label_counts;    /* of each class among the labels checked (label_k;
                               * owned): this rank's rows */
    double label_entropy;     /* of those labels (nats): what guessing by their
                               * frequencies alone scores */
    int label_classes;        /* classes among them */
};

struct sn_dataset {
    struct sn_h5 *f;          /* NULL for a dataset made in memory */
    char mem_name[64];        /* its name in messages */
    struct sn_split train, test, val;
    uint8_t *stage;           /* uint8 staging for max_rows rows (owned) */
    bool inputs_only;         /* opened by sn_dataset_open_inputs */
    size_t stage_rows;
    float target_lo, target_hi;   /* float targets' range, with target_why saying
                                   * why; NULL: +-1e6 (sn_dataset_check_targets) */
    const char *target_why;
};

/* Open and validate the file: /train/x and /train/y must exist (test and val
 * are optional), with matching row counts, a supported element type, and y
 * of rank 1 (integer) or 2 (float).  SN_EINVAL naming the dataset path. */
int sn_dataset_open(const char *path, struct sn_dataset **out);
void sn_dataset_close(struct sn_dataset *d);

/* The same with split ("train", "test" or "val") the one that must be
 * there, x and y: a held-out file of /test alone can be evaluated. */
int sn_dataset_open_split(const char *path, const char *split, struct sn_dataset **out);

/* A dataset a program makes in memory instead of a file: a train split of
 * n rows, samples of shape `shape` (x, n * its length floats, used as they
 * are: scale 1, no mean or std) and integer labels y (n).  Both arrays are
 * copied and neither may be NULL.  name stands for the file in messages.
 * SN_EINVAL for a NULL argument, a shape of a dimension below 1 or of more
 * values than a sample may have, no rows; SN_ENOMEM. */
int sn_dataset_from_memory(const char *name, struct sn_shape shape, const float *x,
                           const int32_t *y, size_t n, struct sn_dataset **out);

/* The same for prediction: only x is needed (y, if present, is checked as
 * usual); at least one split must be there.  SN_EINVAL otherwise. */
int sn_dataset_open_inputs(const char *path, struct sn_dataset **out);

/* The file's path, for messages. */
const char *sn_dataset_name(const struct sn_dataset *d);

/* For a message about a missing split, into buf (len bytes): " (the
 * file's splits: train, test)", or what else the file holds (/validation)
 * and how splits are named, or that it is weights or a checkpoint. */
void sn_dataset_splits_there(struct sn_dataset *d, char *buf, size_t len);

/* Whether splits a and b turn stored values into the same inputs: equal
 * scale, and equal mean and std (absent counts as mean 0, std 1; one value
 * counts as that value for every channel or feature). */
bool sn_split_same_prep(const struct sn_split *a, const struct sn_split *b);

/* How split s is prepared, in words for messages: "scaled by 0.00392157
 * (its own attribute), mean (0.5) and std (0.25) (the file's attributes)". */
void sn_split_prep_str(const struct sn_split *s, char *buf, size_t len);

/* SN_EINVAL naming both splits and both preparations when /test or /val is
 * prepared otherwise than /train: a model would be tested on inputs unlike
 * the ones it learnt from.  SN_OK when they agree or there is one split. */
int sn_dataset_check_prep(const struct sn_dataset *d);

/* The split called name ("train", "test", "val"), or NULL if absent. */
const struct sn_split *sn_dataset_split(const struct sn_dataset *d, const char *name);

/* Bytes sn_dataset_cache would hold for split s. */
size_t sn_dataset_cache_bytes(const struct sn_split *s);

/* Read the whole of split s (x as stored, y) into memory; later reads of s
 * come from there.  SN_ENOMEM if it does not fit (s stays on file). */
int sn_dataset_cache(struct sn_dataset *d, const struct sn_split *s);

/* Give back what sn_dataset_cache holds of s: its rows are read from the
 * file again (when another rank could not hold its copy). */
void sn_dataset_uncache(struct sn_dataset *d, const struct sn_split *s);

/* Allocate staging for reads of up to max_rows rows (call before reading). */
int sn_dataset_reserve(struct sn_dataset *d, size_t max_rows);

/* Read rows (ascending, n <= reserved) of split s: x as floats (scaled and
 * normalised), and labels (int) or targets (float, n*K), whichever the split
 * has; the other pointer may be NULL.  Never allocates. */
int sn_dataset_read(struct sn_dataset *d, const struct sn_split *s, const int32_t *rows,
                    size_t n, float *x, int *labels, float *targets);

/* The two halves of sn_dataset_read for split s on file, for a reader on
 * a thread of its own (io/prefetch.h):
 *   read_raw  rows (ascending, n of them) as stored: x into raw (n *
 *             row_len uint8 or floats, as s stores them), labels or
 *             targets as sn_dataset_read gives them (either may be NULL).
 *             Only HDF5 reads into the caller's buffers: no staging, no
 *             OpenMP.  SN_EIO / SN_EINVAL naming the dataset.
 *   convert   raw rows into floats x, scaled and normalised. */
int sn_dataset_read_raw(struct sn_dataset *d, const struct sn_split *s, const int32_t *rows,
                        size_t n, void *raw, int *labels, float *targets);
void sn_dataset_convert(const struct sn_split *s, const void *raw, float *x, size_t n);

/* Read the contiguous rows [first, first+n) likewise. */
int sn_dataset_read_block(struct sn_dataset *d, const struct sn_split *s, size_t first,
                          size_t n, float *x, int *labels, float *targets);

/* Label y of row i of s (read as int32, which clamps) as the file stores
 * it, in words (2^64-1, not 2147483647). */
void sn_dataset_stored_label(struct sn_dataset *d, const struct sn_split *s, size_t i, int y,
                             char v[32]);

/* Check that every label in rows [first, first+n) of s lies in [0, K),
 * for a model of outputs outputs (K, or 1 for binary_cross_entropy's two
 * classes); SN_EINVAL naming the first bad row.  Reads labels only, in
 * blocks, and counts them into s's label_entropy and label_classes. */
int sn_dataset_check_labels(struct sn_dataset *d, const struct sn_split *s, size_t first,
                            size_t n, int K, int outputs);

/* The entropy (nats) of labels counted counts[0..K) times, and the
 * classes present: the loss of guessing by their frequencies alone. */
double sn_label_entropy(const int64_t *counts, int K, int *present);

/* Check that every float target in rows [first, first+n) of s lies in
 * [lo, hi] (why, a static string, says whose range that is, for messages;
 * NULL: +-1e6, lo and hi unused); each batch read later is held to it too.
 * SN_EINVAL naming the first bad row.  Without it, targets are held to
 * +-1e6, whose squares a float's sum still holds. */
int sn_dataset_check_targets(struct sn_dataset *d, const struct sn_split *s, size_t first,
                             size_t n, float lo, float hi, const char *why);

#endif
