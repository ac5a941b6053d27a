/* folder: an image dataset laid out as DIR/<class>/<image>.png|.jpg (the
 * usual layout of users' own data, and of the CIFAR-10 JPEG copy).
 * Classes are the sub-folders in name order; images are read in name
 * order; every image must have the first one's size and channel count. */
#ifndef SN_IO_FOLDER_H
#define SN_IO_FOLDER_H

#include <stddef.h>
#include <stdint.h>

#define SN_FOLDER_MAX_CLASSES 1000

struct sn_folder {
    int n_classes;
    char *classes[SN_FOLDER_MAX_CLASSES];   /* owned */
    size_t n;                               /* images */
    int C, H, W;
    uint8_t *x;                             /* n x C x H x W, owned */
    int32_t *y;                             /* n, owned */
    size_t skipped;                         /* files that are not .png/.jpg/.jpeg */
};

/* Read every image under dir.  With `like` (may be NULL), the class list
 * and image shape must equal like's (for a test split).  SN_EINVAL naming
 * the offending folder or file. */
int sn_folder_read(const char *dir, const struct sn_folder *like, struct sn_folder *out);
void sn_folder_free(struct sn_folder *f);

#endif
