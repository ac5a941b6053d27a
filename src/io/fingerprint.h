/* fingerprint: short, stable descriptions of what a run trains on, for its
 * record (record.h): equal descriptions mean the same data and the same
 * network, different ones say what differs.
 */
#ifndef SN_IO_FINGERPRINT_H
#define SN_IO_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "io/dataset.h"

/* FNV-1a (64 bit) of n bytes, continuing from h (start: SN_FNV_START). */
#define SN_FNV_START 0xcbf29ce484222325ULL
uint64_t sn_fnv1a(uint64_t h, const void *p, size_t n);

/* The dataset in a line: each split's rows, sample shape, element type
 * and preprocessing (scale, mean, std), the class names' count and hash,
 * and a hash of up to 256 rows spread over each split (as the model sees
 * them, after scaling), e.g. "train 60000 x 1,28,28 u8 scale 0.00392157;
 * test 10000 ...; 10 classes 5e1f...; rows 9a3c...".  A line longer than
 * len - 1 keeps its start, then " ...; all " and a hash of the whole line,
 * then the classes and rows: a cut line still tells every difference (len
 * at least 96).  Reads those rows
 * (rows must have room for one row's floats; the dataset's staging must
 * hold one row).  SN_EIO, SN_EINVAL. */
int sn_dataset_fingerprint(struct sn_dataset *d, float *row, char *out, size_t len);

/* Every byte of the splits held in memory (sn_dataset_cache) hashed,
 * and their count in *bytes (0 when none is held): CRC-32 of each x and
 * y, folded into 64 bits: CIFAR-10's 184 MB in 0.05 s (zlib's crc32_z
 * ran at 3.7 GB/s here). */
uint64_t sn_dataset_held_hash(const struct sn_dataset *d, uint64_t *bytes);

/* A model file's network in a line: a hash of its layer sections with
 * comments and white space left out (edits that only touch those do not
 * change it), e.g. "layers 5a6b7c8d9e0f1a2b". */
void sn_model_text_fingerprint(const char *text, char *out, size_t len);

/* Where two model files' layer sections (as the fingerprint reads them)
 * first differ, in words for a message ("the layers first differ at line
 * 12 of this run's model file, 'freeze=1' (the checkpoint's: '[dense]')");
 * "" when they do not (or only past 95 bytes of a line). */
void sn_model_text_difference(const char *run, const char *ckpt, char *out, size_t len);

/* What differs between two data lines (sn_dataset_fingerprint), in words
 * for a message ("the data differ: /val is new (the checkpoint's data had
 * none)"); "" when the parts compared agree. */
#define SN_FP_PART 256
void sn_dataset_fingerprint_difference(const char *run, const char *ckpt, char *out, size_t len);

#endif
