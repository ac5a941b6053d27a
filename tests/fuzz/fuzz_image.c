/* fuzz_image: libFuzzer target for the PNG, JPEG and PGM decoders
 * (sn_image_read): any file among the images of `convert folder` or given
 * to predict must be read or refused, never crash, and never decode or
 * allocate past the pixel budget (run with -rss_limit_mb).  The budget is
 * lowered to 1 megapixel so a header claiming more is a refusal, not a
 * slow input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/sn_fuzz_image.%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    sn_image_set_max_pixels((size_t)1 << 20);
    struct sn_image img;
    if (sn_image_read(path, &img) == 0) {
        static uint8_t dst[3 * 8 * 8];
        sn_image_fit(&img, 3, 8, 8, dst);   /* every pixel is read */
        sn_image_free(&img);
    }
    unlink(path);
    return 0;
}
