/* image: read PNG (libpng), JPEG (libjpeg-turbo) and netpbm PGM files into
 * 8-bit pixels.  Grey images come back with 1 channel, colour with 3 (alpha is
 * dropped), in H x W x C order as the files store them. */
#ifndef SN_IO_IMAGE_H
#define SN_IO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct sn_image {
    int width, height, channels;   /* channels 1 or 3 */
    uint8_t *data;                 /* height * width * channels, owned */
};

/* Read path by its content (PNG, JPEG or PGM P5/P2 signature; PGM with a
 * maxval up to 255).  SN_EINVAL for a file that is none of them, damaged,
 * or larger than 16384 x 16384. */
int sn_image_read(const char *path, struct sn_image *out);
void sn_image_free(struct sn_image *img);

/* Write img as (C, H, W) into dst (channels of img.channels). */
void sn_image_to_chw(const struct sn_image *img, uint8_t *dst);

/* Fit img to a model input of C (1 or 3) channels and H x W pixels, into
 * dst as (C, H, W): grey to colour repeats the channel, colour to grey is
 * the luma 0.299 R + 0.587 G + 0.114 B; the size is changed by area
 * averaging when shrinking and bilinear interpolation when growing (each
 * axis on its own; the aspect ratio follows the model's input). */
void sn_image_fit(const struct sn_image *img, int C, int H, int W, uint8_t *dst);

#endif
