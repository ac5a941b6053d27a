/* fuzz_idx: libFuzzer target for the IDX reader (plain and gzip input),
 * through a file in /dev/shm (the reader takes a path). */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "io/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/sn_fuzz_idx.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct sn_idx x;
    if (sn_idx_read(path, &x) == 0)
        sn_idx_free(&x);
    unlink(path);
    return 0;
}
