/* tensor: per-example shapes and 64-byte aligned float arenas.
 *
 * A shape describes ONE example (C,H,W for images, T,F for sequences, F for
 * vectors); the batch dimension B is always outermost and passed separately,
 * so a buffer of B examples of shape s holds B * sn_shape_len(s) floats.
 */
#ifndef SN_CORE_TENSOR_H
#define SN_CORE_TENSOR_H

#include <stdbool.h>
#include <stddef.h>

#define SN_MAX_DIMS 4

struct sn_shape {
    int ndim;              /* 1..SN_MAX_DIMS */
    int d[SN_MAX_DIMS];    /* each >= 1 */
};

/* Number of elements of one example. */
static inline size_t sn_shape_len(const struct sn_shape *s)
{
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)s->d[i];
    return n;
}

/* A shape from up to 4 dimensions; ndim is the number of leading non-zero
 * entries. */
struct sn_shape sn_shape_make(int d0, int d1, int d2, int d3);

bool sn_shape_equal(const struct sn_shape *a, const struct sn_shape *b);

/* Write "1x28x28" into buf (always NUL-terminated); returns buf. */
char *sn_shape_str(const struct sn_shape *s, char *buf, size_t buf_len);

/* Allocate len floats, 64-byte aligned and zeroed; NULL on failure (no
 * message: the caller knows what the buffer was for).  Free with sn_free. */
float *sn_alloc_f32(size_t len);
void *sn_alloc_bytes(size_t bytes);
/* The same, not zeroed: for a buffer the caller fills whole before any
 * read (a dataset held in memory: zeroing gigabytes first took seconds
 * in which a stop request went unseen, and touched every page). */
void *sn_alloc_bytes_unzeroed(size_t bytes);
void sn_free(void *p);

/* Half of the memory this process may use: the machine's, or its cgroup's
 * limit (Slurm --mem, a container's) or its address-space limit (ulimit
 * -v) when lower; 0 if unknown.  The bound
 * on what is held whole for convenience, which must leave room for the
 * rest: a folder of images being converted (a --size of 16384x16384
 * doubled its buffer until realloc failed, tens of GB on a shared
 * machine), a dataset held in memory for training (under ulimit -v 1 GiB
 * a 1.25 MB gzip file of 937 MB was refused where reading per batch
 * runs). */
double sn_memory_half(void);

/* The least memory limit of the cgroups cgroup_file names (the form of
 * /proc/self/cgroup: v2's memory.max and v1's memory.limit_in_bytes, of
 * the process's cgroup and each above it, under fs_root, such as
 * /sys/fs/cgroup); 0 when none is set. */
double sn_memory_cgroup_limit(const char *cgroup_file, const char *fs_root);

/* out[k] += sum over rows i of m[i * n + k]: the bias gradient of a layer
 * whose output rows are examples (or time steps).  Rows are read in order
 * (cache lines used whole), in blocks of 256 columns spread over threads;
 * each column's sum runs over the rows in order, so the result is the same
 * at any thread count. */
void sn_add_colsums(const float *m, size_t rows, size_t n, float *out);

#endif
