/* image: read PNG (libpng) and JPEG (libjpeg-turbo) files into 8-bit
 * pixels.  Grey images come back with 1 channel, colour with 3 (alpha is
 * dropped), in H x W x C order as the files store them. */
#ifndef SN_IO_IMAGE_H
#define SN_IO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct sn_image {
    int width, height, channels;   /* channels 1 or 3 */
    uint8_t *data;                 /* height * width * channels, owned */
};

/* Read path by its content (PNG or JPEG signature).  SN_EINVAL for a file
 * that is neither, damaged, or larger than 16384 x 16384. */
int sn_image_read(const char *path, struct sn_image *out);
void sn_image_free(struct sn_image *img);

/* Write img as (C, H, W) into dst (channels of img.channels). */
void sn_image_to_chw(const struct sn_image *img, uint8_t *dst);

#endif
