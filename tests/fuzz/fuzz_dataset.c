/* fuzz_dataset: libFuzzer target for the dataset loader: any file given to
 * --data must be loaded or refused, never crash scratchnet, never hang and
 * never allocate more than its budgets allow (run with -rss_limit_mb).
 * Datasets are the users' own HDF5 files and carry no seal, so every input
 * reaches libhdf5's parser and then scratchnet's checks: open, hold the
 * train split in memory when it fits 64 MB, read its first rows, check its
 * labels. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/status.h"
#include "core/tensor.h"
#include "io/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/sn_fuzz_dataset.%ld.h5", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct sn_dataset *d = NULL;
    if (sn_dataset_open(path, &d) == SN_OK) {
        const struct sn_split *s = sn_dataset_split(d, "train");
        if (sn_dataset_cache_bytes(s) <= ((size_t)64 << 20))
            sn_dataset_cache(d, s);
        size_t n = s->n < 4 ? s->n : 4;
        float *x = sn_alloc_f32(n * s->row_len), *t = sn_alloc_f32(n * (size_t)(s->y_k + 1));
        int labels[4];
        if (x && t && sn_dataset_reserve(d, n) == SN_OK)
            sn_dataset_read_block(d, s, 0, n, x, labels, t);
        sn_dataset_check_labels(d, s, 0, s->n < 100000 ? s->n : 100000, 10, 10);
        sn_free(x);
        sn_free(t);
        sn_dataset_close(d);
    }
    unlink(path);
    /* scratchnet must close every HDF5 object it opened, whatever happened */
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0)
        abort();
    return 0;
}
