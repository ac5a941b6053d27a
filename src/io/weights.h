/* weights: the weights file layout of docs/FORMATS.md.
 *
 *   /model                   attribute cfg: the full model file text
 *                            optional attributes from the training data:
 *                            input_scale, input_mean, input_std (one
 *                            value, or one per channel or feature, as in
 *                            the dataset), classes (names)
 *   /params/<layer>/<param>  float32, PyTorch's names and layouts
 */
#ifndef SN_IO_WEIGHTS_H
#define SN_IO_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/model.h"
#include "io/dataset.h"
#include "io/h5.h"
#include "io/record.h"

/* How the training data was scaled, and its class names: what predict needs
 * to turn a raw image into the model's input. */
struct sn_data_meta {
    bool known;                      /* read from the file (else the defaults) */
    double scale;                    /* default 1/255 */
    int n_norm;                      /* values of mean and std (0: none) */
    double *mean, *std;              /* n_norm each (owned) */
    size_t norm_block;               /* consecutive elements of a sample that share one
                                      * mean/std value: an image channel's H*W, 1 a
                                      * feature's (0: not kept, sn_data_meta_place) */
    char **classes;                  /* NULL or n_classes names (owned) */
    size_t n_classes;
    struct sn_run_record record;     /* how the weights were trained (/run; empty: unknown) */
};

/* Write /model and /params of m into the open file f. */
int sn_weights_write(struct sn_h5 *f, const struct sn_model *m, const char *cfg_text);

/* Write d's scale, mean, std and class names as /model's attributes
 * input_scale, input_mean, input_std, classes into the open file f. */
int sn_weights_write_prep(struct sn_h5 *f, const struct sn_data_meta *d);

/* Write a weights file crash-safely (temporary file, fsync, rename).  It
 * replaces nothing but weights or an empty file: a dataset, a checkpoint,
 * a model file, another program's data, a read-only file or one that is
 * not a regular file is refused (SN_EUSAGE), unless the program set a
 * replace guard (sn_fs_set_replace_guard), which then decides.  cfg_text
 * is the model text, written as it is; none may be NULL, path not empty. */
int sn_weights_save(const char *path, const struct sn_model *m, const char *cfg_text);

/* The same with the training data's description (meta may be NULL). */
int sn_weights_save_meta(const char *path, const struct sn_model *m, const char *cfg_text,
                         const struct sn_data_meta *meta);

/* The description of split s of dataset d (its scale, mean, std, and the
 * root attribute classes if present); free with sn_data_meta_free. */
int sn_data_meta_from(struct sn_dataset *d, const struct sn_split *s, struct sn_data_meta *out);

/* Read the description stored in a weights file (defaults when absent:
 * known false, scale 1/255, no normalisation, no classes), and its run
 * record. */
int sn_data_meta_read(struct sn_h5 *f, struct sn_data_meta *out);
void sn_data_meta_free(struct sn_data_meta *m);

/* Place m's mean/std over a model input of shape in: weights written
 * before input_norm_block was kept get the rule they were read by (one
 * value a channel of a (C,H,W) input, else element k takes value k mod
 * n); then the values must tile the input.  file names the weights in a
 * message.  SN_OK or SN_EINVAL. */
int sn_data_meta_place(struct sn_data_meta *m, const struct sn_shape *in, const char *file);

/* The mean/std value element k of a sample takes: (k / norm_block) mod
 * n_norm, as the data reader applies them (m->n_norm > 0). */
size_t sn_data_meta_index(const struct sn_data_meta *m, size_t k);

/* Whether a and b turn stored values into the same inputs (scale, mean and
 * std as float, absent mean/std as 0 and 1, one value as every channel's). */
bool sn_data_meta_same_prep(const struct sn_data_meta *a, const struct sn_data_meta *b);

/* Whether the classes a (weights) names are the first of b's, in order:
 * weights keep the names of the classes their model predicts, the first
 * of their data's (a subset of a dataset keeps all its names). */
bool sn_data_meta_same_classes(const struct sn_data_meta *a, const struct sn_data_meta *b);

/* For messages: "scale 0.00392157, mean (0.5) std (0.25)" and
 * "(T-shirt/top, Trouser, Pullover, Dress, ... 10 names)". */
void sn_data_meta_prep_str(const struct sn_data_meta *m, char *buf, size_t len);
void sn_data_meta_classes_str(const struct sn_data_meta *m, char *buf, size_t len);

/* Open a weights file or checkpoint for reading: a sealed file (one
 * scratchnet wrote) is verified first and refused as SN_EDAMAGED if its
 * bytes changed; an unsealed one (written by other tools) is opened as is. */
int sn_weights_open(const char *path, struct sn_h5 **f);

/* What an existing file holds, for an output that would replace it. */
enum sn_file_kind {
    SN_FILE_OTHER,     /* not HDF5, or no file there */
    SN_FILE_DATASET,   /* a split's examples: /train/x, /test/x or /val/x (and
                        * /train, /test, /val alone at the top) */
    SN_FILE_WEIGHTS,   /* a model's weights (/model cfg, or /params alone; the
                        * names scratchnet writes alone at the top) */
    SN_FILE_CHECKPOINT,   /* a model's weights with its run's state (/state) */
    SN_FILE_PREDICTIONS,  /* predict's output: /pred and /probs alone */
    SN_FILE_HDF5,      /* HDF5 of none of these kinds, or one of them with other
                        * data beside it: another program's */
    SN_FILE_UNKNOWN,   /* HDF5 that cannot be checked, or a file that cannot be
                        * read: sn_errmsg() says why */
};
enum sn_file_kind sn_file_kind(const char *path);

/* The words for what a file of kind k holds, for messages about an output
 * that would replace it ("a dataset", "a model's weights", ...). */
const char *sn_file_kind_words(enum sn_file_kind k);

/* The model text stored in the file at path (malloc'd; caller frees).
 * SN_EINVAL if the file has no /model cfg attribute. */
int sn_weights_read_cfg(const char *path, char **cfg_text);

/* Load /params into m by layer and parameter name.  Every stored array
 * must have the parameter's exact shape (else SN_EINVAL naming it).  With
 * strict, every parameter of m must be present; without, absent layers keep
 * their values.  *n_loaded (may be NULL) counts the parameters read. */
int sn_weights_read(struct sn_h5 *f, struct sn_model *m, bool strict, int *n_loaded);

/* A checkpoint of a run with a weight average (ema): its average (the
 * /optimizer arrays "ema") into m's trainable parameters, as the run
 * evaluated and wrote --out, once one has been taken (the optimizer's
 * step t >= ema_every: the run record's, else the ema_every given, 0 for
 * none); *used says whether.  Weights files, and checkpoints without an
 * average, leave m as it is. */
int sn_weights_read_average(struct sn_h5 *f, struct sn_model *m, int ema_every, bool *used);

/* Whether sn_weights_read_average would read an average: *has true for a
 * checkpoint whose run keeps one and has taken it. */
int sn_weights_has_average(struct sn_h5 *f, const struct sn_model *m, int ema_every, bool *has);

/* The arrays under the file's /params that no parameter of m reads: their
 * count, and the first few named in names ("/params/bn, /params/d/extra":
 * a layer's whole group when m has no layer of its name).  A file whose
 * model text lost a layer its arrays keep evaluated the smaller network
 * without a word (hostile round 74 F3). */
int sn_weights_unread(struct sn_h5 *f, const struct sn_model *m, char *names, size_t len);

/* What sn_weights_read(f, m, strict) checks before it reads a value: every
 * stored array of m's parameters has its shape (and, strict, none is
 * missing); m need not be built, so the file is checked against the model
 * before the model's memory is allocated. */
int sn_weights_check(struct sn_h5 *f, const struct sn_model *m, bool strict);

/* For fine-tuning (train --init): load every layer whose stored arrays all
 * have the model's shapes; a layer with an array of another shape (a
 * replaced head) keeps its fresh initialisation and is named in refit
 * ("a, b", empty if none).  Absent layers keep theirs too. */
int sn_weights_read_fit(struct sn_h5 *f, struct sn_model *m, int *n_loaded, char *refit,
                        size_t refit_len);

/* SN_EINVAL when the open file f is a dataset (a /train/x or /test/x and
 * no /model cfg), naming it one: two file names swapped. */
int sn_weights_not_dataset(struct sn_h5 *f);

/* Whether the file holds every parameter of layer l in l's shapes (what
 * sn_weights_read_fit loads of it). */
bool sn_weights_has_layer(struct sn_h5 *f, const struct sn_layer *l);

#endif
