/* prefetch: reading the next batch's rows on a thread of its own.
 *
 * A split too large for memory (train --cache-mb) is read from the file
 * every step.  The trainer starts the read of step k+1's rows while step k
 * computes, so the file's time hides behind forward and backward: the
 * thread reads the rows as stored (one hyperslab union of sorted rows, as
 * sn_dataset_read does) into buffers of its own, sized once; the main
 * thread converts them to floats when it takes them (the conversion may
 * use OpenMP, which belongs to the main thread).
 *
 * HDF5: while a read is in flight, the thread is the only one that may
 * call HDF5 on this dataset (or any HDF5: a library built without its
 * thread-safe option, as many are, has global state); the caller waits
 * for the read (sn_prefetch_wait) before its own next HDF5 call.  The
 * trainer starts a read after reading its step's rows and waits for it
 * before the step returns: forward, backward, the reduction and the
 * update touch no file, and checkpoints and evaluation come after.
 */
#ifndef SN_IO_PREFETCH_H
#define SN_IO_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "io/dataset.h"

struct sn_prefetch;

/* A reader for up to max_rows rows at a time of split s of d (on file;
 * both borrowed, kept open by the caller), its buffers and its thread.
 * SN_ENOMEM, SN_EIO (no thread). */
int sn_prefetch_create(struct sn_dataset *d, const struct sn_split *s, size_t max_rows,
                       struct sn_prefetch **out);

/* Waits for a read in flight, stops the thread, frees.  NULL is fine. */
void sn_prefetch_destroy(struct sn_prefetch *p);

/* Start reading rows (ascending, n <= max_rows; copied) in the background;
 * tag names them for sn_prefetch_take.  A read still in flight is waited
 * for first. */
void sn_prefetch_start(struct sn_prefetch *p, const int32_t *rows, size_t n, int64_t tag);

/* Wait until no read is in flight (at once if none). */
void sn_prefetch_wait(struct sn_prefetch *p);

/* The tag of the rows read last (-1: none, or taken); a read in flight
 * is waited for. */
int64_t sn_prefetch_tag(struct sn_prefetch *p);

/* The rows read last, as sn_dataset_read gives them: x as floats (scaled
 * and normalised), labels or targets (either may be NULL); the read's
 * status (its error, with the file and dataset named).  The rows are
 * taken: the tag becomes -1. */
int sn_prefetch_take(struct sn_prefetch *p, float *x, int *labels, float *targets);

#endif
