/* folder: an image dataset laid out as DIR/<class>/<image>.png|.jpg (the
 * usual layout of users' own data, and of the CIFAR-10 JPEG copy).
 * Classes are the sub-folders in name order; images are read in name
 * order; every image must have the first one's size and channel count,
 * unless a size is given: then each is fitted to it (sn_image_fit, the
 * resampling predict uses). */
#ifndef SN_IO_FOLDER_H
#define SN_IO_FOLDER_H

#include <stddef.h>
#include <stdint.h>

#define SN_FOLDER_MAX_CLASSES 1000

/* The names of the images a folder is read from (sn_text_ext_in's list). */
#define SN_FOLDER_IMAGE_EXTS ".png .jpg .jpeg"

struct sn_folder {
    int n_classes;
    char *classes[SN_FOLDER_MAX_CLASSES];   /* owned */
    size_t n;                               /* images */
    int C, H, W;
    uint8_t *x;                             /* n x C x H x W, owned */
    int32_t *y;                             /* n, owned */
    size_t skipped;                         /* files that are not .png/.jpg/.jpeg */
    char first_skipped[4096];               /* the first of them, as a path */
    size_t nested;                          /* images in sub-folders of class folders */
    char first_nested[4096];                /* the first such sub-folder */
    size_t resized, recoloured;             /* images fitted to H x W, to C channels */
    size_t stray;                           /* JPEGs with bytes after a scan's data */
    char first_stray[4096];                 /* the first of them, as a path */
    size_t unreadable;                      /* image files that are no image, or damaged: */
    char first_unreadable[1024];            /* the first's message, */
    char more_unreadable[1024];             /* the next ones' paths, for the one refusal */
    size_t shown_unreadable;                /* how many of them that holds */
    struct sn_folder_file {                 /* the n image files (device, inode), sorted: */
        uint64_t dev, ino;                  /* a test split must not read one of them */
        int32_t label;                      /* the class it was read as */
    } *files;                               /* owned; NULL for CIFAR-10's batches */
};

/* Read every image under dir.  With `like` (may be NULL), the class list
 * and image shape must equal like's, and no image may be one of like's
 * files (a hard or symbolic link to it), for a test split; nor may one
 * file be the image of two classes.  SN_EINVAL naming the offending folder
 * or files. */
int sn_folder_read(const char *dir, const struct sn_folder *like, struct sn_folder *out);

/* What every image is fitted to: C channels (1 grey, 3 colour; 0: as the
 * images are) and H x W pixels (0: as they are). */
struct sn_folder_fit {
    int C, H, W;
};

/* The same, every image fitted to fit (NULL: none).  With a size, grey and
 * colour images of any sizes make one dataset, colour if any image is
 * colour (grey images become three equal channels) unless fit->C says, a
 * test split fitted to like's channels; without one, every image has the
 * first one's size, and fit->C its channels (colour to grey is the luma).
 * resized and recoloured count them. */
int sn_folder_read_sized(const char *dir, const struct sn_folder *like,
                         const struct sn_folder_fit *fit, struct sn_folder *out);
void sn_folder_free(struct sn_folder *f);

#endif
