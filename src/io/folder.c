/* folder: read DIR/<class>/<image> trees (see folder.h). */
#include "io/folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/checked.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "core/text.h"
#include "core/tensor.h"
#include "io/image.h"
#include "io/fsutil.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (not starting with '.'); want_dirs picks folders or
 * files, and *others (when not NULL) counts the entries of the other kind.
 * *names is malloc'd (free each and the array). */
static int list_dir(const char *dir, bool want_dirs, char ***names, size_t *n, size_t *others)
{
    DIR *d = opendir(dir);
    if (!d)
        return sn_fs_open_failed(dir, errno, NULL);
    size_t cap = 64, cnt = 0;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    int rc = v ? SN_OK : sn_fail(SN_ENOMEM, "out of memory");
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        struct stat st;
        if ((rc = sn_fs_join(path, sizeof path, dir, e->d_name)))
            break;
        if (stat(path, &st) != 0) {   /* a broken link is an input lost, not skipped */
            rc = sn_fail(SN_EINVAL, "%s: cannot read it: %s%s", path, strerror(errno),
                         errno == ENOENT ? " (a link to nowhere?)" : "");
            break;
        }
        if ((bool)S_ISDIR(st.st_mode) != want_dirs) {
            if (others)
                ++*others;
            continue;
        }
        if (cnt == cap) {
            char **g = realloc(v, 2 * cap * sizeof *v);
            if (!g) {
                rc = sn_fail(SN_ENOMEM, "out of memory");
                break;
            }
            v = g;
            cap *= 2;
        }
        if (!(v[cnt] = strdup(e->d_name)))
            rc = sn_fail(SN_ENOMEM, "out of memory");
        else
            cnt++;
    }
    closedir(d);
    if (rc) {
        for (size_t i = 0; i < cnt; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    qsort(v, cnt, sizeof *v, cmp_str);
    *names = v;
    *n = cnt;
    return SN_OK;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* A colour image among grey ones makes the whole set colour: the grey
 * images read so far become three equal channels (nothing is lost; the
 * other way round, sort order would decide that a colour set turns grey). */
static int widen_to_colour(struct sn_folder *out, size_t cap, const char *path)
{
    const size_t plane = (size_t)out->H * out->W;
    size_t bytes = 0;
    const double half = sn_memory_half();
    if (!sn_mul_ok(cap, 3 * plane, &bytes) || (half > 0 && (double)bytes > half))
        return sn_fail(SN_ENOMEM, "%s: a colour image: %zu images of 3x%dx%d would take more "
                       "than half of the %.0f MB of memory this process may use (a smaller "
                       "--size, or fewer images)", path, cap, out->H, out->W,
                       2.0 * half / 1048576.0);
    uint8_t *x = realloc(out->x, bytes);
    if (!x)
        return sn_fail(SN_ENOMEM, "%s: out of memory widening %zu grey images to colour "
                       "(%.0f MB)", path, out->n, (double)bytes / 1048576.0);
    out->x = x;
    /* from the last image down: image i moves from i*plane to 3*i*plane,
     * which never overlaps an image not yet moved */
    for (size_t i = out->n; i-- > 0;)
        for (int c = 2; c >= 0; c--)
            memmove(x + (3 * i + (size_t)c) * plane, x + i * plane, plane);
    out->recoloured += out->n;
    out->C = 3;
    return SN_OK;
}

/* The images out's buffers hold room for, and how many the class folders
 * hold (counted before any is read): the buffers never grow past that. */
struct room {
    size_t cap, expect;
    size_t palette_greys;   /* images read grey only because their palette's pixels are */
};

/* A palette PNG read grey only because its pixels are (src/io/image.c)
 * fits a colour set of its size: one grey icon among colour ones, or a
 * set begun by one, was refused (--size was needed). */
static bool palette_grey(const struct sn_image *img)
{
    return img->palette && img->channels == 1;
}

/* Append img (read from path, class c) to out, fitted to fit's size and
 * channels where they are > 0; the first image sets out's shape, and with
 * a size (no channels given) the set is colour as soon as one image is
 * (test images follow like's). */
static int add_image(struct sn_folder *out, const struct sn_folder *like,
                     const struct sn_folder_fit *fit, const struct sn_image *img, const char *path,
                     int c, struct room *room)
{
    const bool sized = fit->H > 0 && fit->W > 0;
    const bool soft = !sized && !fit->C && (palette_grey(img) || room->palette_greys == out->n);
    if (out->n == 0) {
        out->C = fit->C ? fit->C
                 : like && (sized || (palette_grey(img) && like->C == 3)) ? like->C
                                                                          : img->channels;
        out->H = sized ? fit->H : img->height;
        out->W = sized ? fit->W : img->width;
        if (like && (out->C != like->C || out->H != like->H || out->W != like->W))
            return sn_fail(SN_EINVAL, "%s: %dx%dx%d, but the training images are %dx%dx%d%s",
                           path, out->C, out->H, out->W, like->C, like->H, like->W,
                           sized ? "" : " (--size HxW fits every image to one size)");
    } else if (!sized && ((!fit->C && img->channels != out->C && !soft) ||
                          img->height != out->H || img->width != out->W)) {
        return sn_fail(SN_EINVAL, "%s: %dx%dx%d%s, but the first image is %dx%dx%d (--size HxW "
                       "fits every image to one size%s)", path, img->channels, img->height,
                       img->width, !img->palette ? "" : img->channels == 1
                       ? " (a palette PNG of greys: read as grey)"
                       : " (a palette PNG: read as colour)",
                       out->C, out->H, out->W,
                       img->channels != out->C ? ", in colour when any image is colour; --grey "
                                                 "reads every image as grey" : "");
    }
    if ((sized || soft) && !like && !fit->C && out->C == 1 && img->channels == 3 && out->n > 0) {
        int rc = widen_to_colour(out, room->cap, path);
        if (rc)
            return rc;
    }
    const size_t row = (size_t)out->C * out->H * out->W;
    if (out->n == room->cap) {
        /* Start with about 64 MB of images (at most 1024): a first image of
         * 200 MB must not ask for 1024 of its size at once. */
        size_t ncap = room->cap ? 2 * room->cap : 1 + (64u << 20) / row, bytes = 0;
        if (!room->cap && ncap > 1024)
            ncap = 1024;
        if (ncap > room->expect)   /* no room for images that are not there */
            ncap = room->expect;
        /* doubling stops at what half the memory holds: the images, not
         * the doubled buffer, must fit (a set of 130 was refused as 256) */
        const double half = sn_memory_half();
        const size_t fits = half > 0 ? (size_t)(half / (double)row) : SIZE_MAX;
        if (ncap > fits)
            ncap = fits;
        if (ncap <= out->n)
            return sn_fail(SN_ENOMEM, "%s: %zu images of %dx%dx%d would take more than half of "
                           "the %.0f MB of memory this process may use (a dataset is held whole "
                           "until it is written): a smaller --size, or fewer images", path,
                           out->n + 1, out->C, out->H, out->W, 2.0 * half / 1048576.0);
        uint8_t *gx = sn_mul_ok(ncap, row, &bytes) ? realloc(out->x, bytes) : NULL;
        if (gx)
            out->x = gx;
        int32_t *gy = gx ? realloc(out->y, ncap * sizeof *gy) : NULL;
        if (gy)
            out->y = gy;
        if (!gx || !gy)
            return sn_fail(SN_ENOMEM, "%s: out of memory for %zu images of %dx%dx%d (%.0f MB) "
                           "after %zu images (--size HxW makes them smaller)", path, ncap,
                           out->C, out->H, out->W, (double)bytes / 1048576.0, out->n);
        room->cap = ncap;
    }
    room->palette_greys += palette_grey(img) && out->C == 1;
    if (sized || fit->C || img->channels != out->C) {
        out->resized += img->height != out->H || img->width != out->W;
        out->recoloured += img->channels != out->C;
        sn_image_fit(img, out->C, out->H, out->W, out->x + out->n * row);
    } else {
        sn_image_to_chw(img, out->x + out->n * row);
    }
    out->y[out->n++] = c;
    return SN_OK;
}

/* A class folder's name becomes a class name, which every command shows
 * and ONNX stores as UTF-8 text: a name that would not show as itself (a
 * control or invisible character, bytes that are not UTF-8, a blank at an
 * end, another folder's name in another Unicode form) is refused here, not
 * after a training run. */
static int check_class_text(const char *dir, char **classes, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        char why[64];
        if (sn_text_problem(classes[c], why, sizeof why))
            return sn_fail(SN_EINVAL, "%s: class folder %zu '%s' holds %s (rename it: it is a "
                           "class name)", dir, c, classes[c], why);
        if (sn_text_blank_edge(classes[c]))
            return sn_fail(SN_EINVAL, "%s: class folder %zu '%s' starts or ends with a blank "
                           "(rename it: it is a class name, and 'a ' would show as 'a')", dir, c,
                           classes[c]);
    }
    bool twice = false;
    size_t k[2];
    int rc = sn_text_clash((const char *const *)classes, n, &twice, k);
    if (!rc && twice)   /* two byte-different folder names: the same text in two forms */
        rc = sn_fail(SN_EINVAL, "%s: class folders '%s' and '%s' are the same text in two "
                     "Unicode forms (they would show alike: rename one)", dir, classes[k[0]],
                     classes[k[1]]);
    if (!rc)
        rc = sn_text_refuse_look_alike((const char *const *)classes, n, SN_EINVAL, dir);
    return rc;
}

/* Each class folder its own: one that is another's folder (a symbolic
 * link to it) would put the same images in the set twice, under two
 * labels the model cannot tell apart. */
static int check_class_folders(const char *dir, char **classes, size_t n)
{
    struct stat *st = calloc(n, sizeof *st);
    if (!st)
        return sn_fail(SN_ENOMEM, "out of memory");
    int rc = SN_OK;
    for (size_t c = 0; c < n && !rc; c++) {
        char sub[4096];
        if ((rc = sn_fs_join(sub, sizeof sub, dir, classes[c])) || stat(sub, &st[c]) != 0)
            continue;   /* reading it says why */
        for (size_t k = 0; k < c && !rc; k++)
            if (st[k].st_ino == st[c].st_ino && st[k].st_dev == st[c].st_dev)
                rc = sn_fail(SN_EINVAL, "%s: class folder '%s' is the folder '%s' (a link): each "
                             "class needs a folder of its own", dir, classes[c], classes[k]);
    }
    free(st);
    return rc;
}

static bool listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* A test split's class folders are the training folder's, name for name:
 * the first name in one list only is named, with what it likely is (the
 * other's name in another letter case or Unicode form, which look alike). */
static int same_classes(const char *dir, char **classes, size_t n, const struct sn_folder *like)
{
    const char *extra = NULL, *missing = NULL;
    for (size_t c = 0; c < n && !extra; c++)
        extra = listed(like->classes, (size_t)like->n_classes, classes[c]) ? NULL : classes[c];
    for (int k = 0; k < like->n_classes && !missing; k++)
        missing = listed(classes, n, like->classes[k]) ? NULL : like->classes[k];
    bool same_text = false;
    size_t pair[2];
    if (extra && missing &&
        sn_text_clash((const char *const[]){ extra, missing }, 2, &same_text, pair))
        return SN_ENOMEM;
    if (same_text)
        return sn_fail(SN_EINVAL, "%s: its class folder '%s' and the training folder's '%s' are "
                       "the same text in two Unicode forms (one with accents as separate marks, "
                       "as macOS and some zip tools write names): rename one so both are "
                       "stored alike (convmv -f utf8 -t utf8 --nfc -r --notest %s)", dir, extra,
                       missing, dir);
    if (extra && missing && strcasecmp(extra, missing) == 0)
        return sn_fail(SN_EINVAL, "%s: its class folder '%s' is the training folder's '%s' in "
                       "other letter case: names are compared exactly; rename it", dir, extra,
                       missing);
    if (extra)
        return sn_fail(SN_EINVAL, "%s: its class folder '%.80s' is not one of the training "
                       "folder's %d classes%s%.80s%s: every test class must be a training class",
                       dir, extra, like->n_classes, missing ? " (and its '" : "",
                       missing ? missing : "", missing ? "' has no test folder)" : "");
    if (missing)
        return sn_fail(SN_EINVAL, "%s: the training folder's class '%.80s' has no folder here: "
                       "every class is tested (give it test images)", dir, missing);
    return SN_OK;   /* the same names, both in byte order: the same labels */
}

/* The class folders of dir (checked against like's), into out. */
static int read_classes(const char *dir, const struct sn_folder *like, struct sn_folder *out)
{
    char **classes;
    size_t n_classes, files = 0;
    int rc = list_dir(dir, true, &classes, &n_classes, &files);
    if (rc)
        return rc;
    if (n_classes == 0 || n_classes > SN_FOLDER_MAX_CLASSES) {
        free_names(classes, n_classes);
        return sn_fail(SN_EINVAL, "%s: expected 1 to %d class folders, found %zu%s", dir,
                       SN_FOLDER_MAX_CLASSES, n_classes, n_classes || !files ? ""
                       : " (only files: the images of each class go in a folder of its own, "
                         "DIR/<class>/)");
    }
    if ((rc = check_class_text(dir, classes, n_classes)) ||
        (rc = check_class_folders(dir, classes, n_classes))) {
        free_names(classes, n_classes);
        return rc;
    }
    if (like && (rc = same_classes(dir, classes, n_classes, like))) {
        free_names(classes, n_classes);
        return rc;
    }
    out->n_classes = (int)n_classes;
    for (size_t c = 0; c < n_classes; c++)
        out->classes[c] = classes[c];
    free(classes);
    return SN_OK;
}

static int by_file(const void *a, const void *b)
{
    const struct sn_folder_file *x = a, *y = b;
    return x->dev != y->dev ? (x->dev < y->dev ? -1 : 1)
                            : x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Record path's file as image out->n, or, reading a test split, refuse it
 * when it is one of like's image files: a test image linked to a training
 * image would be scored as held out. */
static int note_file(struct sn_folder *out, const struct sn_folder *like, const char *path,
                     int label)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sn_fail(SN_EINVAL, "%s: cannot read it: %s", path, strerror(errno));
    const struct sn_folder_file f = { (uint64_t)st.st_dev, (uint64_t)st.st_ino, label };
    if (like && like->files && bsearch(&f, like->files, like->n, sizeof f, by_file))
        return sn_fail(SN_EINVAL, "%s is one of the training images (a link to the same file): "
                       "the test split would score a training example", path);
    out->files[out->n] = f;
    return SN_OK;
}

/* A class folder's files, listed once: counted, then read. */
struct listing;
static int same_file_named(const char *dir, const struct sn_folder *out,
                           const struct listing *ls, const struct sn_folder_file *f,
                           const struct sn_folder_file *g);

/* One image file read as two classes (a hard or symbolic link in another
 * class folder): contradictory examples.  out->files sorted. */
static int one_label_a_file(const char *dir, const struct sn_folder *out,
                            const struct listing *ls)
{
    for (size_t i = 1; i < out->n; i++) {
        const struct sn_folder_file *f = &out->files[i - 1], *g = &out->files[i];
        if (f->dev == g->dev && f->ino == g->ino && f->label != g->label)
            return same_file_named(dir, out, ls, f, g);
    }
    return SN_OK;
}

struct listing {
    char **files;
    size_t n, others;
};

/* The path in class c's folder of dir of the image file f, into path
 * ("DIR/CLASS/?" when it cannot be found again). */
static void find_path(const char *dir, const struct sn_folder *out, const struct listing *l,
                      int c, const struct sn_folder_file *f, char *path, size_t len)
{
    char sub[4096];
    struct stat st;
    bool ok = sn_fs_join(sub, sizeof sub, dir, out->classes[c]) == SN_OK;
    for (size_t i = 0; ok && i < l->n; i++)
        if (sn_text_ext_in(l->files[i], SN_FOLDER_IMAGE_EXTS) &&
            sn_fs_join(path, len, sub, l->files[i]) == SN_OK &&
            stat(path, &st) == 0 && (uint64_t)st.st_dev == f->dev &&
            (uint64_t)st.st_ino == f->ino)
            return;
    snprintf(path, len, "%s/%s/?", dir, out->classes[c]);
}

static int same_file_named(const char *dir, const struct sn_folder *out,
                           const struct listing *ls, const struct sn_folder_file *f,
                           const struct sn_folder_file *g)
{
    char a[4096], b[4096];
    find_path(dir, out, &ls[f->label], f->label, f, a, sizeof a);
    find_path(dir, out, &ls[g->label], g->label, g, b, sizeof b);
    return sn_fail(SN_EINVAL, "%s and %s are one file (a hard or symbolic link): one image "
                   "would be an example of both '%s' and '%s'", a, b, out->classes[f->label],
                   out->classes[g->label]);
}

static void free_listings(struct listing *ls, int n)
{
    for (int c = 0; ls && c < n; c++)
        free_names(ls[c].files, ls[c].n);
    free(ls);
}

/* The files of dir's class folders into *ls (one listing a class) and the
 * images among them counted, before any is read: the buffers are sized,
 * and with --size the memory checked, for the whole set (six images asked
 * for at 16384x16384 were refused after four). */
static int list_classes(const char *dir, const struct sn_folder *out, struct listing **ls,
                        size_t *n)
{
    *n = 0;
    if (!(*ls = calloc((size_t)out->n_classes, sizeof **ls)))
        return sn_fail(SN_ENOMEM, "out of memory");
    for (int c = 0; c < out->n_classes; c++) {
        char sub[4096];
        struct listing *l = &(*ls)[c];
        int rc = sn_fs_join(sub, sizeof sub, dir, out->classes[c]);
        if (rc || (rc = list_dir(sub, false, &l->files, &l->n, &l->others))) {
            free_listings(*ls, c);
            *ls = NULL;
            return rc;
        }
        for (size_t i = 0; i < l->n; i++)
            *n += sn_text_ext_in(l->files[i], SN_FOLDER_IMAGE_EXTS);
    }
    return SN_OK;
}

/* With --size, the set's memory is known before one image is read (one
 * channel each at least; a test split has the training images' channels). */
static int check_sized(const char *dir, size_t n, int C, int fit_h, int fit_w)
{
    const double need = (double)n * C * fit_h * fit_w, half = sn_memory_half();
    if (fit_h > 0 && half > 0 && need > half)
        return sn_fail(SN_ENOMEM, "%s: %zu images of %dx%dx%d take %.0f MB, more than half of "
                       "the %.0f MB of memory this process may use (a dataset is held whole "
                       "until it is written): a smaller --size, or fewer images", dir, n, C,
                       fit_h, fit_w, need / 1048576.0, 2.0 * half / 1048576.0);
    return SN_OK;
}

/* The images in the sub-folders of the class folder sub (only
 * DIR/<class>/<image> is read): counted into out->nested, the first such
 * folder named, so that a class that lost its images to a folder one
 * level down is said (a class of 70 images read as 1); a sub-folder
 * without images is a skipped entry.  The count of images found, or 0. */
static size_t look_below(const char *sub, struct sn_folder *out)
{
    char **dirs = NULL;
    size_t n_dirs = 0, found = 0;
    if (list_dir(sub, true, &dirs, &n_dirs, NULL) != SN_OK)
        return 0;
    for (size_t i = 0; i < n_dirs; i++) {
        char path[4096], **files = NULL;
        size_t n = 0, images = 0;
        if (sn_fs_join(path, sizeof path, sub, dirs[i]) == SN_OK &&
            list_dir(path, false, &files, &n, NULL) == SN_OK) {
            for (size_t k = 0; k < n; k++)
                images += sn_text_ext_in(files[k], SN_FOLDER_IMAGE_EXTS);
            free_names(files, n);
        }
        char *first = images ? out->first_nested : out->first_skipped;
        if (!first[0])
            snprintf(first, sizeof out->first_nested, "%s", path);
        out->nested += images;
        out->skipped += images == 0;
        found += images;
    }
    free_names(dirs, n_dirs);
    return found;
}

/* A class folder sub of dir without images.  One whose sub-folders hold
 * images (nested) has them one level too deep; one that holds folders of
 * folders is likely a split (DIR/train/<class>/), DIR the folder that
 * holds the splits: that is said, not "remove it" about a test set. */
static int no_images(const char *dir, const char *sub, bool test, size_t nested,
                     const struct sn_folder *out)
{
    if (nested)   /* DIR/<split>/<class>/ and DIR/<class>/<folder>/ look alike: both said */
        return sn_fail(SN_EINVAL, "%s: holds no images, but its sub-folders hold %zu (the first: "
                       "%s/): is %s a folder of splits (DIR/train/<class>/, DIR/test/<class>/)? "
                       "Give the training split's folder as DIR, and the test split's as --test; "
                       "if not, only DIR/<class>/<image> is read: move the images up into %s/",
                       sub, nested, out->first_nested, dir, sub);
    char **dirs = NULL;
    size_t n_dirs = 0;
    if (list_dir(sub, true, &dirs, &n_dirs, NULL) == SN_OK && n_dirs > 0) {
        int rc = sn_fail(SN_EINVAL, "%s: holds folders ('%.80s'), not images: is %s a folder of "
                         "splits (DIR/train/<class>/, DIR/test/<class>/)? Give the training "
                         "split's folder as DIR, and the test split's as --test", sub, dirs[0],
                         dir);
        free_names(dirs, n_dirs);
        return rc;
    }
    free_names(dirs, n_dirs);
    return sn_fail(SN_EINVAL, "%s: a class folder without a .png, .jpg or .jpeg image: give it "
                   "images or remove it%s", sub,
                   test ? " (and its training folder: every class is tested)" : "");
}

/* An image file that could not be read as one (sn_errmsg says why): noted,
 * and the reading goes on, so that one refusal names them all (one run a
 * broken file, a photo dump of dozens took dozens of runs). */
static void note_unreadable(struct sn_folder *out, const char *path)
{
    if (out->unreadable++ == 0) {
        snprintf(out->first_unreadable, sizeof out->first_unreadable, "%s", sn_errmsg());
        return;
    }
    const size_t at = strlen(out->more_unreadable);
    if (out->shown_unreadable < 5 && at + strlen(path) + 3 < sizeof out->more_unreadable) {
        snprintf(out->more_unreadable + at, sizeof out->more_unreadable - at, "%s%s",
                 at ? ", " : "", path);
        out->shown_unreadable++;
    }
}

/* The refusal of a folder some of whose image files are unreadable. */
static int refuse_unreadable(const struct sn_folder *out)
{
    const size_t more = out->unreadable - 1, unnamed = more - out->shown_unreadable;
    char rest[64] = "";
    if (unnamed)
        snprintf(rest, sizeof rest, "%s%zu more", out->shown_unreadable ? " and " : "", unnamed);
    return sn_fail(SN_EINVAL, "%zu image file%s could not be read: %s%s%s%s (fix or remove "
                   "them)", out->unreadable, out->unreadable == 1 ? "" : "s",
                   out->first_unreadable, more ? "; also " : "", out->more_unreadable, rest);
}

/* Read class c's images (listed in l, in the folder sub) into out. */
static int read_class(const char *dir, const char *sub, const struct listing *l, int c,
                      const struct sn_folder *like, const struct sn_folder_fit *fit,
                      struct sn_folder *out, struct room *room)
{
    size_t per_class = 0, bad = 0;
    const size_t nested = l->others ? look_below(sub, out) : 0;
    int rc = SN_OK;
    for (size_t i = 0; i < l->n && !rc; i++) {
        char path[4096];
        if ((rc = sn_fs_join(path, sizeof path, sub, l->files[i])))
            break;
        if (!sn_text_ext_in(l->files[i], SN_FOLDER_IMAGE_EXTS)) {
            if (!out->first_skipped[0])
                snprintf(out->first_skipped, sizeof out->first_skipped, "%s", path);
            out->skipped++;
            continue;
        }
        struct sn_image img;
        if ((rc = sn_interrupt_check("converting images")) ||
            (rc = note_file(out, like, path, c)))
            break;
        if ((rc = sn_image_read(path, &img)) == SN_EINVAL) {
            note_unreadable(out, path);
            bad++;
            rc = SN_OK;
            continue;
        }
        if (rc)
            break;
        if (img.stray_bytes && !out->stray++)
            snprintf(out->first_stray, sizeof out->first_stray, "%s", path);
        rc = add_image(out, like, fit, &img, path, c, room);
        sn_image_free(&img);
        per_class++;
    }
    if (!rc && per_class == 0 && bad == 0)   /* its label could never be learnt, or tested */
        rc = no_images(dir, sub, like != NULL, nested, out);
    return rc;
}

int sn_folder_read_sized(const char *dir, const struct sn_folder *like,
                         const struct sn_folder_fit *fit, struct sn_folder *out)
{
    static const struct sn_folder_fit as_they_are = { 0, 0, 0 };
    if (!fit)
        fit = &as_they_are;
    memset(out, 0, sizeof *out);
    struct listing *ls = NULL;
    struct room room = { 0, 0, 0 };
    int rc = read_classes(dir, like, out);
    if (!rc)
        rc = list_classes(dir, out, &ls, &room.expect);
    if (!rc)
        rc = check_sized(dir, room.expect, fit->C ? fit->C : like ? like->C : 1, fit->H, fit->W);
    if (!rc && room.expect && !(out->files = malloc(room.expect * sizeof *out->files)))
        rc = sn_fail(SN_ENOMEM, "out of memory");
    for (int c = 0; c < out->n_classes && !rc; c++) {
        char sub[4096];
        if (!(rc = sn_fs_join(sub, sizeof sub, dir, out->classes[c])))
            rc = read_class(dir, sub, &ls[c], c, like, fit, out, &room);
    }
    if (!rc && out->unreadable)
        rc = refuse_unreadable(out);
    if (!rc && out->n == 0)
        rc = sn_fail(SN_EINVAL, "%s: no .png, .jpg or .jpeg images in the class folders", dir);
    if (!rc)
        qsort(out->files, out->n, sizeof *out->files, by_file);
    if (!rc)
        rc = one_label_a_file(dir, out, ls);
    free_listings(ls, out->n_classes);
    if (rc)
        sn_folder_free(out);
    return rc;
}

int sn_folder_read(const char *dir, const struct sn_folder *like, struct sn_folder *out)
{
    return sn_folder_read_sized(dir, like, NULL, out);
}

void sn_folder_free(struct sn_folder *f)
{
    for (int c = 0; c < f->n_classes; c++)
        free(f->classes[c]);
    free(f->x);
    free(f->y);
    free(f->files);
    memset(f, 0, sizeof *f);
}
