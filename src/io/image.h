/* image: read PNG (libpng), JPEG (libjpeg-turbo) and netpbm PGM files into
 * 8-bit pixels.  Grey images come back with 1 channel, colour with 3 (alpha is
 * dropped), in H x W x C order as the files store them. */
#ifndef SN_IO_IMAGE_H
#define SN_IO_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sn_image {
    int width, height, channels;   /* channels 1 or 3 */
    uint8_t *data;                 /* height * width * channels, owned */
    bool palette;                  /* a palette PNG (grey when its pixels all are) */
    long stray_bytes;              /* a JPEG's bytes left over after a scan's data, which
                                    * libjpeg skips: an encoder's padding before the end
                                    * marker, or a scan damaged in a way that still
                                    * decodes; the caller warns (0: none) */
};

/* The default pixel budget: 8192 x 8192. */
#define SN_IMAGE_MAX_PIXELS ((size_t)1 << 26)
/* The largest image file read (a regular file; see io/fsutil.h). */
#define SN_IMAGE_MAX_FILE_BYTES ((size_t)1 << 28)

/* path is a regular file of at most SN_IMAGE_MAX_FILE_BYTES, else
 * SN_EINVAL saying so (and, when larger, what to do). */
int sn_image_check_file(const char *path);

/* The pixel budget of every later sn_image_read in this process (the
 * command's --max-pixels): an image whose header claims more pixels is
 * refused before anything is decoded or allocated. */
void sn_image_set_max_pixels(size_t n);
size_t sn_image_get_max_pixels(void);

/* Read path by its content (PNG, JPEG or PGM P5/P2 signature; PGM with a
 * maxval up to 255; CMYK JPEGs converted to RGB).  path must be a regular
 * file.  SN_EINVAL for a file that is none of them, damaged, with a side
 * over 16384 or more pixels than the budget (both checked on the header,
 * before decoding), or a JPEG of more than 1000 scans; SN_EINTR when a
 * signal asked to stop (core/interrupt.h). */
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
