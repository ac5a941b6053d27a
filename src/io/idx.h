/* idx: reader for the IDX files of MNIST and Fashion-MNIST (LeCun et al.),
 * plain or gzip-compressed.  Format: magic 0x00 0x00 type ndim, ndim
 * big-endian uint32 sizes, then the data; scratchnet reads type 0x08
 * (unsigned byte). */
#ifndef SN_IO_IDX_H
#define SN_IO_IDX_H

#include <stddef.h>
#include <stdint.h>

#define SN_IDX_MAX_DIMS 4

struct sn_idx {
    int ndim;
    size_t dims[SN_IDX_MAX_DIMS];
    size_t len;        /* product of dims */
    uint8_t *data;     /* owned */
};

/* Read a whole IDX file of unsigned bytes.  Every size is validated against
 * the bytes actually present: SN_EINVAL for a bad magic, type, rank, a size
 * of 0, a truncated file or trailing bytes, or a file that cannot be
 * opened (a bad input: exit status 2). */
int sn_idx_read(const char *path, struct sn_idx *out);

/* The header alone (ndim, dims, len; data NULL), checked as sn_idx_read
 * checks it: what a file will take, known before any data is inflated. */
int sn_idx_read_header(const char *path, struct sn_idx *out);
void sn_idx_free(struct sn_idx *x);

#endif
