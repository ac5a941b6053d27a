/* h5: the thin HDF5 layer of scratchnet (the only file that includes hdf5.h).
 *
 * Paths are absolute HDF5 paths ("/train/x").  Every function returns SN_OK
 * or an SN_E* code with a message naming the file and the HDF5 path; HDF5's
 * own error printing is switched off.
 */
#ifndef SN_IO_H5_H
#define SN_IO_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_H5_MAX_DIMS 8

struct sn_h5;   /* an open file */

/* In-memory element types. */
enum sn_h5_type { SN_H5_U8, SN_H5_I32, SN_H5_I64, SN_H5_U64, SN_H5_F32, SN_H5_F64 };

/* The stored element class of a dataset. */
enum sn_h5_class { SN_H5_CLASS_INT, SN_H5_CLASS_FLOAT, SN_H5_CLASS_OTHER };

/* Open an existing file read-only.  SN_EINVAL if it is missing, unreadable
 * or not HDF5: files opened this way are inputs the user named (exit 2). */
int sn_h5_open(const char *path, struct sn_h5 **out);

/* Whether another program has the file at path open for writing: it holds
 * HDF5's lock (flock), or the superblock marks it so (a writer without
 * locking, HDF5_USE_FILE_LOCKING=FALSE; SWMR; one that died), which also
 * breaks a sealed file's seal while it lasts. */
bool sn_h5_held_for_writing(const char *path);

/* Files other people made (datasets, weights, checkpoints) can crash
 * libhdf5: 1.10 crashes on some damaged ones (make fuzz finds such files in
 * seconds), and a seal anyone can recompute does not stop them.  So a child
 * process opens the file first, the way the command will: if libhdf5
 * crashes or hangs there, only the child dies.  The child is this program
 * started again, in which the check named kind runs before main (see
 * sn_h5_probe_child) with arg.  SN_OK when the child ends normally,
 * whatever the check found (the caller explains its own refusals when it
 * opens the file again); SN_EINVAL "PATH: damaged HDF5 file: libhdf5
 * crashed reading it" (or hung for 60 s) otherwise. */
int sn_h5_probe(const char *path, const char *kind, const char *arg);

/* The child's side: in a constructor of the module that owns the check
 * kind, given the program's arguments (glibc passes argc and argv to
 * constructors).  In the probe's child started for kind, runs
 * try_open(path, arg) under the probe's limits and ends the process;
 * anywhere else returns at once. */
void sn_h5_probe_child(const char *kind, int (*try_open)(const char *path, const char *arg),
                       int argc, char **argv);


/* sn_h5_probe with a try_open that opens path and reads every object's
 * attributes and the first and last elements of each dataset the file
 * backs (sn_h5_info's budgets): what loading weights or a checkpoint
 * touches. */
int sn_h5_probe_all(const char *path);

/* Whether the last check could not start its child (the process limit,
 * memory): the machine's doing, not the file's. */
bool sn_h5_probe_unstarted(void);

/* The HDF5 library's version, "1.10.8". */
const char *sn_h5_library(void);

/* Create (truncate) a file for writing. */
int sn_h5_create(const char *path, struct sn_h5 **out);

/* Write the file at path crash-safely: create a temporary file in the same
 * folder, let fill(f, ctx) write it, flush and close it, seal it, then
 * fsync and rename it over path (io/fsutil.h).  The temporary file is
 * created new (sn_fs_create_tmp: refused when something is at its name).
 * On any failure the temporary file is removed and path is untouched.
 *
 * The seal: the file starts with a 512-byte HDF5 user block (which HDF5
 * and h5py skip) holding "SNSEAL1", the file length and an FNV-1a 64 of
 * every byte after the block.  sn_h5_check_seal verifies it before HDF5
 * parses anything, so a damaged file is refused cleanly instead of
 * reaching libhdf5's parser (which crashes on some corrupted files). */
int sn_h5_write_atomic(const char *path, int (*fill)(struct sn_h5 *f, const void *ctx),
                       const void *ctx);

/* The same for a file never written through a link (a checkpoint): the
 * temporary file beside path and the rename onto path's own name
 * (sn_fs_commit_here; replace false: what is at path is left, and the
 * write fails naming it). */
int sn_h5_write_atomic_here(const char *path, bool replace,
                            int (*fill)(struct sn_h5 *f, const void *ctx), const void *ctx);

/* SN_OK if path carries a seal that matches its contents; SN_EDAMAGED if
 * the seal does not match (truncated, corrupted); SN_EINVAL if the file
 * has no seal (not written by scratchnet) or cannot be read. */
int sn_h5_check_seal(const char *path);

/* Close; for a written file, flushes first and reports a failed flush.
 * NULL is fine. */
int sn_h5_close(struct sn_h5 *f);

const char *sn_h5_path(const struct sn_h5 *f);

/* true if an object (group or dataset) exists at path, reached through
 * hard links only. */
bool sn_h5_exists(struct sn_h5 *f, const char *path);

/* The names of the root's links other than those in skip (NULL-ended),
 * and, with member, only those holding it (/NAME/member), as "/a, /b" into
 * buf (len bytes; ", ..." when they do not fit); "" when there are none.
 * For messages: what a file holds besides what was asked. */
void sn_h5_root_others(struct sn_h5 *f, const char *const *skip, const char *member, char *buf,
                       size_t len);

/* Calls each(name, ctx) for every link of group, in name order, until it
 * returns non-zero; a group that is not there has none.  The file was
 * probed when it was opened, so the links are bounded. */
void sn_h5_each_member(struct sn_h5 *f, const char *group, int (*each)(const char *name, void *ctx),
                       void *ctx);

/* Calls each(name, ctx) for every attribute of the object at path (reached
 * through hard links), in name order, until it returns non-zero; an object
 * that is not there has none. */
void sn_h5_each_attr(struct sn_h5 *f, const char *path, int (*each)(const char *name, void *ctx),
                     void *ctx);

/* Whether group is a group whose links all have names in names (NULL-ended;
 * a dataset's split holds x and y alone). */
bool sn_h5_group_holds_only(struct sn_h5 *f, const char *group, const char *const *names);

/* Whether group holds groups of float arrays alone (a model's parameters
 * by layer, /params/LAYER/NAME, as scratchnet and other tools write them). */
bool sn_h5_is_layer_tree(struct sn_h5 *f, const char *group);

/* SN_EINVAL naming path if it is reached through a soft or external link
 * (sn_h5_exists says false for it: links are not followed). */
int sn_h5_check_no_link(struct sn_h5 *f, const char *path);

/* Whether a and b (both there) are one object under two names (an HDF5
 * hard link: h5py's f["test"] = f["train"]). */
bool sn_h5_same_object(struct sn_h5 *f, const char *a, const char *b);

/* Budgets a dataset must meet to be read (see sn_h5_info). */
#define SN_H5_MAX_RATIO 1100                       /* declared bytes per stored byte, compressed */
#define SN_H5_MAX_CHUNK_BYTES ((size_t)256 << 20)  /* one chunk, as stored uncompressed */
#define SN_H5_MAX_ROW_CHUNKS 16384                 /* chunks one row (first index) spans */
#define SN_H5_MAX_BAND_BYTES ((size_t)512 << 20)   /* chunks holding the same rows, read by rows */

/* Shape and stored class of a dataset; size = bytes per stored element.
 * SN_EINVAL if it is missing, is not a dataset, or is not backed by the
 * file: its data in other files (external, virtual), more bytes declared
 * than the file holds for it (unfiltered) or than SN_H5_MAX_RATIO times
 * that (compressed), chunks over SN_H5_MAX_CHUNK_BYTES, rows spanning more
 * than SN_H5_MAX_ROW_CHUNKS chunks.  Only hard links
 * are followed: a soft or external link reads as missing. */
int sn_h5_info(struct sn_h5 *f, const char *path, int *ndim, size_t dims[SN_H5_MAX_DIMS],
               enum sn_h5_class *cls, size_t *size);

/* SN_EINVAL (said) when the chunks of path that hold the same rows take
 * more than SN_H5_MAX_BAND_BYTES together: rows read by batches keep them
 * inflated in the dataset's chunk cache; past it, every batch would inflate
 * them all again (a dataset whose chunks each hold every row). */
int sn_h5_check_row_reads(struct sn_h5 *f, const char *path);

/* Read n rows (first dimension) given by ascending indices rows[] of a dataset
 * whose rows hold row_len elements, converted to type, into out
 * (n * row_len elements, in the order of rows[]).  One hyperslab union. */
int sn_h5_read_rows(struct sn_h5 *f, const char *path, const int32_t *rows, size_t n,
                    size_t row_len, enum sn_h5_type type, void *out);

/* The bytes libhdf5 inflates to read one row of path that its chunk
 * cache does not hold (the compressed chunks holding that row: a band of
 * *tall rows, *bands of them), 0 when path is not stored in compressed
 * chunks or all its bands fit the cache a read by rows keeps. */
size_t sn_h5_row_inflate(struct sn_h5 *f, const char *path, size_t *bands, size_t *tall);

/* Read rows [first, first+n) (n * row_len elements). */
int sn_h5_read_block(struct sn_h5 *f, const char *path, size_t first, size_t n,
                     size_t row_len, enum sn_h5_type type, void *out);

/* A read-only file keeps the datasets it reads rows of open, each with a
 * chunk cache of up to 64 MiB (or one chunk): this closes path's and
 * gives that memory back, for data now held elsewhere. */
void sn_h5_done_reading(struct sn_h5 *f, const char *path);

/* true if the dataset at path stores signed integers. */
bool sn_h5_is_signed(struct sn_h5 *f, const char *path);

/* SN_OK if path is a backed dataset of n values in one dimension. */
int sn_h5_check_rows(struct sn_h5 *f, const char *path, size_t n);

/* Rows in one chunk of the dataset at path (0: not chunked, or no such
 * dataset).  Reading whole chunks at a time inflates each chunk once. */
size_t sn_h5_chunk_rows(struct sn_h5 *f, const char *path);

/* Read a whole dataset of exactly len elements (backed, as above). */
int sn_h5_read_all(struct sn_h5 *f, const char *path, enum sn_h5_type type, void *out,
                   size_t len);

/* Write a dataset (creating missing parent groups). ndim 0 = a scalar. */
int sn_h5_write(struct sn_h5 *f, const char *path, int ndim, const size_t *dims,
                enum sn_h5_type type, const void *data);

/* The same, written in blocks of rows (about 16 MB each) with the stop
 * request (core/interrupt.h) looked at between blocks: SN_EINTR naming
 * the signal and the dataset when one is pending, the dataset left half
 * written (for writers that remove their temporary file then: convert). */
int sn_h5_write_stoppable(struct sn_h5 *f, const char *path, int ndim, const size_t *dims,
                          enum sn_h5_type type, const void *data);

/* Create a group (and its parents) if missing. */
int sn_h5_mkgroup(struct sn_h5 *f, const char *path);

/* Attributes on the object at path.  get_str returns a malloc'd string the
 * caller frees; SN_EINVAL if absent, or longer than SN_H5_MAX_TEXT bytes
 * (a model text is at most 1 MiB, as a model file; a fixed-length string
 * is refused before it is read, a variable-length one once libhdf5 has
 * read it, within the probe's memory budget).  has_attr tells without
 * failing. */
#define SN_H5_MAX_TEXT ((size_t)1 << 20)
bool sn_h5_has_attr(struct sn_h5 *f, const char *path, const char *name);
/* Whether the object at path exists and has no attribute whose name is not
 * in names (NULL-ended): a group of scratchnet's settings, not another's. */
bool sn_h5_attrs_only(struct sn_h5 *f, const char *path, const char *const *names);
int sn_h5_attr_get_str(struct sn_h5 *f, const char *path, const char *name, char **out);
int sn_h5_attr_set_str(struct sn_h5 *f, const char *path, const char *name, const char *s);
int sn_h5_attr_set_strs(struct sn_h5 *f, const char *path, const char *name,
                        const char *const *s, size_t n);
/* An array attribute of strings (variable or fixed length; 1 to
 * SN_H5_MAX_STRS of at most SN_H5_MAX_STR bytes, else SN_EINVAL saying
 * which limit): *out gets n malloc'd strings in a malloc'd array, control
 * bytes replaced by '?' (they are names, shown on terminals and in
 * pictures); free with sn_h5_free_strs.  Class names, the run record's
 * keys and the reducer's array names are read this way. */
#define SN_H5_MAX_STR 4096
/* The attributes of one object (its header, and dense storage past 64
 * KiB), which libhdf5 reads whole to look at any of them: at most this many
 * bytes, which hold a per-feature mean and std of SN_H5_MAX_NORM values each. */
#define SN_H5_MAX_ATTR_BYTES ((hsize_t)80 << 20)
/* ... and at most this many attributes on one object (scratchnet's files
 * have a few each) */
#define SN_H5_MAX_ATTRS 4096
#define SN_H5_MAX_NORM 4194304
#define SN_H5_MAX_STRS 100000
int sn_h5_attr_get_strs(struct sn_h5 *f, const char *path, const char *name, char ***out,
                        size_t *n);
void sn_h5_free_strs(char **s, size_t n);
/* Elements of a numeric attribute (SN_EINVAL if absent or not numbers). */
int sn_h5_attr_len(struct sn_h5 *f, const char *path, const char *name, size_t *n);
/* Numeric attribute of up to max elements (n set to the count). */
int sn_h5_attr_get_f64(struct sn_h5 *f, const char *path, const char *name, double *v,
                       size_t max, size_t *n);
int sn_h5_attr_set_f64(struct sn_h5 *f, const char *path, const char *name, const double *v,
                       size_t n);

#endif
