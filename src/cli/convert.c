/* convert: other formats into the HDF5 dataset layout.
 *
 *   convert idx --images F --labels F [--test-images F --test-labels F] -o D.h5
 *   convert folder DIR [--test DIR] [--size HxW] [--grey] -o D.h5
 *                                                  (DIR/<class>/<image>.png|.jpg|.jpeg)
 *   convert subset D.h5 --classes LIST [--per-class N] [--test-per-class N] -o OUT.h5
 * write /train/x uint8 (N, C, H, W) with attribute scale = 1/255, /train/y
 * int32 (N), the same under /test, and root attributes classes and source.
 * Rank 0 does the work; the output appears atomically (temporary file,
 * fsync, rename), so a failed conversion never leaves a partial file.
 */
#define _DEFAULT_SOURCE   /* realpath */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/interrupt.h"
#include "core/number.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/text.h"
#include "dist/dist.h"
#include "io/cifar10.h"
#include "io/dataset.h"
#include "io/folder.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/metacheck.h"
#include "io/idx.h"
#include "io/image.h"

/* Each conversion's synopsis and description: its --help shows its own,
 * convert --help all four. */
#define IDX_SYN                                                                              \
    "scratchnet convert idx --images F --labels F [--test-images F --test-labels F]\n"      \
    "                              [--classes a,b,...] [--source TEXT] -o D.h5\n"
#define FOLDER_SYN                                                                           \
    "scratchnet convert folder DIR [--test DIR] [--size HxW] [--grey] [--source TEXT]\n"    \
    "                                  [--max-pixels N] -o D.h5\n"
#define CIFAR_SYN "scratchnet convert cifar10 DIR [--source TEXT] -o D.h5\n"
#define SUBSET_SYN                                                                           \
    "scratchnet convert subset D.h5 --classes 5-9|0,2,4 [--per-class N]\n"                  \
    "                                 [--test-per-class N] -o OUT.h5\n"
#define IDX_DOC "  idx: IDX files (MNIST, Fashion-MNIST; plain or .gz)\n"
#define FOLDER_DOC                                                                           \
    "  folder: DIR/<class>/<image>.png|.jpg|.jpeg (any case), classes in name order, all\n"  \
    "          images one size;\n"                                                          \
    "          --size HxW fits every image to H x W pixels with predict's resampling (area\n" \
    "          averaging down, bilinear up), in colour if any image is colour\n"            \
    "          --grey reads every image as grey (the luma of a colour one), as a\n"        \
    "          network trained on grey images (Fashion-MNIST) takes them\n"                \
    "          an image of more than --max-pixels pixels (default 67108864) is refused,\n"  \
    "          and so is a --size of more\n"
#define CIFAR_DOC                                                                            \
    "  cifar10: the official binary batches (data_batch_1.bin .. 5, test_batch.bin);\n"     \
    "          the class names from DIR/batches.meta.txt, one a line, or CIFAR-10's\n"       \
    "          own when that file is absent\n"
#define SUBSET_DOC                                                                           \
    "  subset: the rows of some classes (labels kept as they are), the first N per\n"       \
    "          class of /train (all of them without --per-class) and of /test and /val\n"   \
    "          (all of them without --test-per-class)\n"

static const char usage[] = "usage: " IDX_SYN "       " FOLDER_SYN "       " CIFAR_SYN
                            "       " SUBSET_SYN IDX_DOC FOLDER_DOC CIFAR_DOC SUBSET_DOC;
static const char usage_idx[] = "usage: " IDX_SYN IDX_DOC;
static const char usage_folder[] = "usage: " FOLDER_SYN FOLDER_DOC;
static const char usage_cifar[] = "usage: " CIFAR_SYN CIFAR_DOC;
static const char usage_subset[] = "usage: " SUBSET_SYN SUBSET_DOC;

/* A stop while out was written (SN_EINTR) said with out's name, not its
 * temporary file's: the temporary file is removed, nothing is written. */
static int stopped_writing(int rc, const char *out)
{
    if (rc != SN_EINTR)
        return rc;
    return sn_fail(SN_EINTR, "interrupted by %s while writing %s: nothing written",
                   sn_signal_name(sn_interrupt_pending()), out);
}

/* /<split>/x uint8 (n, C, H, W) with scale 1/255, and /<split>/y int32 (n). */
static int write_split(struct sn_h5 *f, const char *split, const uint8_t *x, const size_t xd[4],
                       const int32_t *y)
{
    char path[64];
    double scale = 1.0 / 255.0;
    snprintf(path, sizeof path, "/%s/x", split);
    int rc = sn_h5_write_stoppable(f, path, 4, xd, SN_H5_U8, x);
    if (!rc)
        rc = sn_h5_attr_set_f64(f, path, "scale", &scale, 1);
    snprintf(path, sizeof path, "/%s/y", split);
    if (!rc)
        rc = sn_h5_write_stoppable(f, path, 1, xd, SN_H5_I32, y);
    return rc;
}

/* What one split of convert idx may hold at once: the images, the labels
 * and their int32 copy.  Two 1.4 MB .gz files declaring 10^9 one-pixel
 * images took 2 GB and 19 s before running out of memory. */
#define IDX_HOLD_MAX ((size_t)2 << 30)

/* The headers of one split's files, before any data is inflated: their
 * shapes agree, and what the split holds fits IDX_HOLD_MAX.  *hw gets its
 * images' height and width; when hw[0] is set already (the training
 * split's), they must be those: one model reads both splits. */
static int check_idx_split(const char *img_path, const char *lab_path, const char *train_path,
                           size_t hw[2], size_t *rows)
{
    struct sn_idx img, lab;
    int rc = sn_idx_read_header(img_path, &img);
    if (!rc)
        rc = sn_idx_read_header(lab_path, &lab);
    const bool swapped = !rc && img.ndim == 1 && lab.ndim == 3;   /* labels given as images */
    if (!rc && img.ndim != 3)
        rc = sn_fail(SN_EINVAL, "%s: images must have 3 dimensions (N, H, W), found %d%s",
                     img_path, img.ndim, swapped ? ", and the labels file has 3: are the two "
                                                   "file names swapped?" : "");
    else if (!rc && lab.ndim != 1)
        rc = sn_fail(SN_EINVAL, "%s: labels must have 1 dimension, found %d", lab_path, lab.ndim);
    else if (!rc && lab.dims[0] != img.dims[0])
        rc = sn_fail(SN_EINVAL, "%s has %zu images but %s has %zu labels", img_path, img.dims[0],
                     lab_path, lab.dims[0]);
    const double hold = rc ? 0 : (double)img.len + 5.0 * (double)lab.len;
    if (hold > (double)IDX_HOLD_MAX)
        rc = sn_fail(SN_EINVAL, "%s and %s: %zu images of %zux%zu and their labels would take "
                     "%.0f MB in memory, more than the %zu MB a split may (IDX_HOLD_MAX in "
                     "src/cli/convert.c)", img_path, lab_path, img.dims[0], img.dims[1],
                     img.dims[2], hold / 1048576.0, IDX_HOLD_MAX >> 20);
    if (!rc && hw[0] && (img.dims[1] != hw[0] || img.dims[2] != hw[1]))
        rc = sn_fail(SN_EINVAL, "%s: test images of %zux%zu, but the training images (%s) are "
                     "%zux%zu: one model reads both", img_path, img.dims[1], img.dims[2],
                     train_path, hw[0], hw[1]);
    if (!rc) {
        hw[0] = img.dims[1];
        hw[1] = img.dims[2];
        *rows = img.dims[0];
    }
    return rc;
}

/* "wrote D.h5: 60000 training images, 10000 test images of 28x28, 10
 * classes named", as convert folder says what it wrote. */
static void say_idx_written(const char *out, size_t n_train, size_t n_test, const size_t hw[2],
                            size_t n_names)
{
    char test[48] = "", named[48] = "";
    if (n_test)
        snprintf(test, sizeof test, ", %zu test image%s", n_test, n_test == 1 ? "" : "s");
    if (n_names)
        snprintf(named, sizeof named, ", %zu class%s named", n_names, n_names == 1 ? "" : "es");
    cli_printf("wrote %s: %zu training image%s%s of %zux%zu%s\n", cli_line(out), n_train,
               n_train == 1 ? "" : "s", test, hw[0], hw[1], named);
}

/* Write one split from an image IDX (N,H,W) and a label IDX (N). */
/* One split from IDX files; with --classes (n_names > 0) every label must
 * have its name: a short list found here, not later by train. */
static int write_idx_split(struct sn_h5 *f, const char *split, const char *img_path,
                           const char *lab_path, size_t n_names)
{
    struct sn_idx img, lab;
    int rc = sn_idx_read(img_path, &img);
    if (rc)
        return rc;
    rc = sn_idx_read(lab_path, &lab);
    if (rc) {
        sn_idx_free(&img);
        return rc;
    }
    if (lab.dims[0] != img.dims[0])   /* checked in the headers: the files changed since */
        rc = sn_fail(SN_EINVAL, "%s has %zu images but %s has %zu labels", img_path, img.dims[0],
                     lab_path, lab.dims[0]);
    if (!rc) {
        size_t xd[4] = { img.dims[0], 1, img.dims[1], img.dims[2] }, n = lab.dims[0];
        int32_t *y = malloc(n * sizeof *y);
        if (!y)
            rc = sn_fail(SN_ENOMEM, "%s: out of memory for %zu labels as int32 (%zu MB)",
                         lab_path, n, (n * sizeof *y) >> 20);
        for (size_t i = 0; i < n && y; i++)
            y[i] = lab.data[i];
        for (size_t i = 0; i < n && y && !rc && n_names; i++)
            if ((size_t)y[i] >= n_names)
                rc = sn_fail(SN_EINVAL, "%s: label %d (row %zu) has no name: --classes names %zu "
                             "class%s, for labels 0 to %zu", lab_path, (int)y[i], i, n_names,
                             n_names == 1 ? "" : "es", n_names - 1);
        if (!rc)
            rc = write_split(f, split, img.data, xd, y);
        free(y);
    }
    sn_idx_free(&img);
    sn_idx_free(&lab);
    return rc;
}

enum { MAX_NAMES = 1024 };

/* Split "a,b,c" (checked by check_names) into names (pointers into buf). */
static size_t split_names(char *buf, const char **names)
{
    size_t n = 0;
    for (char *tok = strtok(buf, ","); tok && n < MAX_NAMES; tok = strtok(NULL, ","))
        names[n++] = tok;
    return n;
}

/* --source is text a person gives, kept in the file and shown by other
 * tools (h5dump, h5py): the rule of class names (no control, bidi or
 * invisible character, UTF-8). */
static int check_source(const char *source)
{
    char why[64];
    if (source && sn_text_problem(source, why, sizeof why))
        return sn_fail(SN_EUSAGE, "--source: the text holds %s; give plain text", why);
    return SN_OK;
}

/* The root attribute source: text as check_source takes it; a path or a
 * source carried on from another file with bytes that are not is kept
 * with each such byte as '?', as messages show them. */
static int set_source(struct sn_h5 *f, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return sn_fail(SN_ENOMEM, "out of memory");
    sn_text_clean(copy, false);
    int rc = sn_h5_attr_set_str(f, "/", "source", copy);
    free(copy);
    return rc;
}

/* The readers refuse a dataset naming a class twice, in the same bytes or
 * as the same text in two Unicode forms: refuse it here. */
static int check_repeats(const char *list)
{
    char *buf = strdup(list);
    const char *names[MAX_NAMES];
    if (!buf)
        return sn_fail(SN_ENOMEM, "out of memory");
    const size_t n = split_names(buf, names);
    bool twice = false;
    size_t k[2];
    int rc = sn_text_clash(names, n, &twice, k);
    if (!rc && twice)
        rc = strcmp(names[k[0]], names[k[1]]) == 0
           ? sn_fail(SN_EUSAGE, "--classes: the class '%s' is named twice", names[k[0]])
           : sn_fail(SN_EUSAGE, "--classes: the names of labels %zu and %zu are the same text "
                     "'%s' in two Unicode forms (they would show alike)", k[0], k[1],
                     names[k[0]]);
    if (!rc)
        rc = sn_text_refuse_look_alike(names, n, SN_EUSAGE, "--classes");
    free(buf);
    return rc;
}

/* convert idx --classes: 1 to MAX_NAMES names separated by commas, none
 * empty (strtok would pass over it and shift every later name to another
 * label), none longer than a reader of the file takes.  Messages number
 * them by label, from 0, as every other command numbers classes. */
static int check_names(const char *list)
{
    size_t n = 0;
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0)
            return sn_fail(SN_EUSAGE, "--classes '%s': %s; give the class names in label order, "
                           "separated by commas (e.g. --classes cat,dog)", list,
                           list[0] ? "an empty name (a comma at the start or the end, or two "
                                     "together)" : "the list is empty");
        if (len > SN_H5_MAX_STR)
            return sn_fail(SN_EUSAGE, "--classes: the name of label %zu is longer than %d bytes",
                           n, SN_H5_MAX_STR);
        if (++n > MAX_NAMES)
            return sn_fail(SN_EUSAGE, "--classes: more than %d names"
                           SN_BUILD_LIMIT("MAX_NAMES", "src/cli/convert.c"), MAX_NAMES);
        for (size_t i = 0; i < len; i++)   /* names are shown on terminals and pictures */
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                return sn_fail(SN_EUSAGE, "--classes: the name of label %zu holds a control "
                               "character (byte 0x%02x)", n - 1, (unsigned char)p[i]);
        char name[SN_H5_MAX_STR + 1];   /* UTF-8 text, as train and eval will require */
        memcpy(name, p, len);
        name[len] = '\0';
        char why[64];
        if (sn_text_problem(name, why, sizeof why))
            return sn_fail(SN_EUSAGE, "--classes: the name of label %zu holds %s ('%s')", n - 1,
                           why, name);
        if (sn_text_blank_edge(name))   /* ' a' would be another class than 'a' */
            return sn_fail(SN_EUSAGE, "--classes: the name of label %zu '%s' starts or ends with "
                           "a blank (a blank after a comma? --classes 'a,b c,d' names a, 'b c' "
                           "and d)", n - 1, name);
        p += len;
        if (!*p)
            return check_repeats(list);
    }
}

/* A test split read from the training split's own file or folder (the
 * same name, a link, a trailing slash) would score training examples as
 * test ones: SN_EUSAGE naming both. */
static int not_same(const char *train, const char *tflag, const char *test)
{
    struct stat a, b;
    if (!test || stat(train, &a) != 0 || stat(test, &b) != 0 || a.st_dev != b.st_dev ||
        a.st_ino != b.st_ino)
        return SN_OK;
    return sn_fail(SN_EUSAGE, "%s %s is %s itself: the test split would be the training "
                   "examples (give held-out ones, or leave %s out)", tflag, test, train, tflag);
}

/* The file -o would replace (its links followed), or where it would go,
 * into real (PATH_MAX bytes); false when its folder cannot be resolved.
 * A dangling link goes where the writers put its file: its target. */
static bool resolved_output(const char *path, char *real)
{
    char target[4096];
    struct stat st;
    const char *out = sn_fs_output_target(path, target, sizeof target, &st) == SN_OK ? target
                                                                                   : path;
    if (realpath(out, real))
        return true;
    char dir[4096];
    const char *slash = strrchr(out, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) : 1, slash ? out : ".");
    char rdir[PATH_MAX];
    if (!realpath(slash && slash == out ? "/" : dir, rdir))
        return false;
    return snprintf(real, PATH_MAX, "%s/%s", rdir, slash ? slash + 1 : out) < PATH_MAX;
}

/* -o must not be inside a class folder of dir (or test), directly or
 * through a link: over an image, it destroys an input (convert wrote its
 * HDF5 file over it, exit 0); beside them, it would be read as one of the
 * images next time. */
static int out_not_an_input(const char *out, const char *dir, const char *test)
{
    char real[PATH_MAX], rdir[PATH_MAX];
    if (!resolved_output(out, real))
        return SN_OK;   /* the output checks say why it cannot be written */
    for (int i = 0; i < 2; i++) {
        const char *d = i ? test : dir;
        if (!d || !realpath(d, rdir))
            continue;
        const size_t n = strlen(rdir);
        if (strncmp(real, rdir, n) == 0 && real[n] == '/' && strchr(real + n + 1, '/'))
            return sn_fail(SN_EUSAGE, "-o %s is inside a class folder of %s (%s): writing it "
                           "would destroy an input; name a file outside the class folders", out,
                           d, real);
    }
    return SN_OK;
}

/* -o against the inputs: convert cifar10's seven files (a batch, or the
 * class list, written over with exit 0), by cli_check_outputs. */
static int check_images_out(const char *out, const char *dir, const char *test, bool cifar)
{
    char paths[SN_CIFAR10_FILES][4200];
    const char *ins[SN_CIFAR10_FILES];
    int n_in = 0;
    for (int i = 0; cifar && i < SN_CIFAR10_FILES; i++, n_in++)
        ins[i] = sn_cifar10_file(dir, i, paths[i], sizeof paths[i]) ? NULL : paths[i];
    int rc = cifar ? SN_OK : out_not_an_input(out, dir, test);
    cli_outputs_write_datasets();
    if (!rc)   /* before reading a single image */
        rc = cli_check_outputs(&out, (const char *[]){ "-o" }, 1, ins, ins, n_in);
    return rc;
}

/* The same one level down: a test class folder that is a training class
 * folder (a link to it) would score training examples as test ones. */
static int no_shared_class(const char *train, const char *test)
{
    DIR *dt = test ? opendir(test) : NULL;
    int rc = SN_OK;
    for (struct dirent *e; dt && !rc && (e = readdir(dt));) {
        char a[4096], b[4096];
        struct stat st, sr;
        if (e->d_name[0] == '.' || sn_fs_join(a, sizeof a, test, e->d_name) ||
            stat(a, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        DIR *dr = opendir(train);
        for (struct dirent *r; dr && !rc && (r = readdir(dr));)
            if (r->d_name[0] != '.' && !sn_fs_join(b, sizeof b, train, r->d_name) &&
                stat(b, &sr) == 0 && sr.st_dev == st.st_dev && sr.st_ino == st.st_ino)
                rc = sn_fail(SN_EUSAGE, "--test %s: its class folder '%s' is the training "
                             "folder's '%s' (a link): the test split would be training "
                             "examples", test, e->d_name, r->d_name);
        if (dr)
            closedir(dr);
    }
    if (dt)
        closedir(dt);
    return rc;
}

static int convert_idx(int argc, char **argv)
{
    const char *images = NULL, *labels = NULL, *timages = NULL, *tlabels = NULL, *out = NULL,
               *classes = NULL, *source = NULL;
    struct cli_opt opts[] = {
        CLI_STR("images", &images),      CLI_STR("labels", &labels),
        CLI_STR("test-images", &timages), CLI_STR("test-labels", &tlabels),
        CLI_STR("o", &out),              CLI_STR("classes", &classes),
        CLI_STR("source", &source),
    };
    int rc = cli_parse(argc, argv, 3, opts, (int)(sizeof opts / sizeof opts[0]), NULL, 0, NULL);
    if (rc == CLI_HELP)
        return cli_usage(usage_idx);
    if (!rc && (!images || !labels || !out))
        rc = sn_fail(SN_EUSAGE, "convert idx needs --images, --labels and -o (see --help)");
    if (!rc && !timages != !tlabels)
        rc = sn_fail(SN_EUSAGE, "--test-images and --test-labels go together");
    if (!rc && classes)
        rc = check_names(classes);
    if (!rc)
        rc = check_source(source);
    if (!rc)
        rc = not_same(images, "--test-images", timages);
    if (!rc) {
        const char *ins[] = { images, labels, timages, tlabels },
                   *iflags[] = { "--images", "--labels", "--test-images", "--test-labels" };
        cli_outputs_write_datasets();
        rc = cli_check_outputs(&out, (const char *[]){ "-o" }, 1, ins, iflags, 4);
    }
    int code = cli_agree(rc);
    if (code)
        return code;
    if (sn_dist_rank() == 0) {
        char tmp[4200];
        struct sn_h5 *f = NULL;
        sn_fs_tmpname(out, tmp, sizeof tmp);
        size_t hw[2] = { 0, 0 }, n_train = 0, n_test = 0;
        rc = check_idx_split(images, labels, images, hw, &n_train);
        if (!rc && timages)
            rc = check_idx_split(timages, tlabels, images, hw, &n_test);
        if (!rc)
            rc = sn_fs_create_tmp(tmp, out, NULL);   /* before H5Fcreate truncates it */
        const bool claimed = !rc;
        if (!rc)
            rc = sn_h5_create(tmp, &f);
        size_t n_names = 0;
        if (classes) {   /* checked above: one more name than commas */
            n_names = 1;
            for (const char *c = classes; *c; c++)
                n_names += *c == ',';
        }
        if (!rc)
            rc = write_idx_split(f, "train", images, labels, n_names);
        if (!rc && timages)
            rc = write_idx_split(f, "test", timages, tlabels, n_names);
        if (!rc && classes) {
            char *buf = strdup(classes);
            const char *names[MAX_NAMES];
            size_t n = buf ? split_names(buf, names) : 0;
            rc = buf ? sn_h5_attr_set_strs(f, "/", "classes", names, n)
                     : sn_fail(SN_ENOMEM, "out of memory");
            free(buf);
        }
        if (!rc)
            rc = set_source(f, source ? source : images);
        if (!rc)   /* a stop: nothing committed */
            rc = sn_interrupt_check("writing the file");
        if (f) {
            int rc2 = sn_h5_close(f);
            rc = rc ? rc : rc2;
        }
        if (!rc)
            rc = sn_fs_commit(tmp, out);
        else if (claimed)
            remove(tmp);
        rc = stopped_writing(rc, out);
        if (!rc)
            say_idx_written(out, n_train, n_test, hw, n_names);
    }
    cli_await_rank0();
    return cli_agree(cli_nothing_written(rc));   /* the others learn the outcome here */
}

struct folder_job {
    const struct sn_folder *train, *test;
    const char *source;
};

static int fill_folder(struct sn_h5 *f, const void *ctx)
{
    const struct folder_job *j = ctx;
    const struct sn_folder *parts[2] = { j->train, j->test };
    int rc = SN_OK;
    for (int k = 0; k < 2 && !rc && parts[k]; k++) {
        const struct sn_folder *p = parts[k];
        size_t xd[4] = { p->n, (size_t)p->C, (size_t)p->H, (size_t)p->W };
        rc = write_split(f, k ? "test" : "train", p->x, xd, p->y);
    }
    if (!rc)
        rc = sn_h5_attr_set_strs(f, "/", "classes", (const char *const *)j->train->classes,
                                 (size_t)j->train->n_classes);
    if (!rc)
        rc = set_source(f, j->source);
    return rc ? rc : sn_interrupt_check("writing the file");   /* nothing committed */
}

/* convert folder and convert cifar10: an image set in memory, then one file. */
/* Digits alone: a number, though maybe too large for any integer type. */
static bool all_digits(const char *t)
{
    return t[0] && strspn(t, "0123456789") == strlen(t);
}

/* One item of a --classes list, "5" or "5-9", into [*a, *b]: 1; 0 if it is
 * not one; -1 if it is, with a number beyond every class (LLONG_MAX). */
static int class_range(const char *item, long long *a, long long *b)
{
    char text[48];
    const size_t len = strlen(item);
    if (len == 0 || len >= sizeof text)
        return 0;
    memcpy(text, item, len + 1);
    char *dash = strchr(text + 1, '-');
    if (dash)
        *dash = '\0';
    const char *hi = dash ? dash + 1 : text;
    if ((sn_parse_int(text, LLONG_MIN, LLONG_MAX, a) && !all_digits(text)) ||
        (dash && sn_parse_int(hi, LLONG_MIN, LLONG_MAX, b) && !all_digits(hi)))
        return 0;
    if (sn_parse_int(text, LLONG_MIN, LLONG_MAX, a) || sn_parse_int(hi, LLONG_MIN, LLONG_MAX, b))
        return -1;
    return 1;
}

/* "5-9" or "0,2,4" (or a mix) into a class mask of K entries. */
static int parse_classes(const char *list, bool *mask, int K)
{
    int n = 0;
    for (const char *p = list;; p++) {
        char item[48] = "";
        const size_t len = strcspn(p, ",");
        long long a, b;
        if (len < sizeof item)
            memcpy(item, p, len), item[len] = '\0';
        const int got = len < sizeof item ? class_range(item, &a, &b) : 0;
        if (!got)
            return sn_fail(SN_EUSAGE, "--classes %.80s: expected a list like 5-9 or 0,2,4", list);
        if (got < 0)
            return sn_fail(SN_EUSAGE, "--classes %.80s: %.47s is not within the %d classes (0 "
                           "to %d)", list, item, K, K - 1);
        if (b < a && a < K && b >= 0)
            return sn_fail(SN_EUSAGE, "--classes %.80s: %.47s runs backwards (write %lld-%lld)",
                           list, item, b, a);
        if (a < 0 || b < a || b >= K)
            return sn_fail(SN_EUSAGE, "--classes %.80s: %.47s is not within the %d classes (0 "
                           "to %d)", list, item, K, K - 1);
        for (long long c = a; c <= b; c++) {   /* the readers refuse a name given twice */
            if (mask[c])
                return sn_fail(SN_EUSAGE, "--classes %.80s: class %lld is given twice", list, c);
            mask[c] = true;
            n++;
        }
        p += len;
        if (!*p)
            break;
    }
    return n ? SN_OK : sn_fail(SN_EUSAGE, "--classes %.80s: expected a list like 5-9 or 0,2,4", list);
}

struct subset_job {
    struct sn_dataset *d;
    const bool *mask;
    long per_class, test_per_class;   /* 0: all; test_per_class is /val's too */
    int K;
    const char *classes;   /* --classes as given, for the source attribute */
};

/* The kept rows of one split (x as stored, y, attributes) into f. */
static int write_subset_split(struct sn_h5 *f, const struct subset_job *j, const struct sn_split *s,
                              long per_class)
{
    const size_t L = s->row_len, esz = s->x_u8 ? 1 : sizeof(float);
    const int32_t *y = s->y_mem;
    long *seen = calloc((size_t)j->K, sizeof *seen);
    size_t n = 0;
    uint8_t *x = malloc(s->n * L * esz + 1);
    int32_t *yo = malloc(s->n * sizeof *yo + 1);
    int rc = seen && x && yo ? SN_OK : sn_fail(SN_ENOMEM, "out of memory");
    for (size_t r = 0; !rc && r < s->n; r++) {
        if (r % 65536 == 0)
            rc = sn_interrupt_check("choosing the rows");
        int c = y[r];
        if (c < 0 || c >= j->K || !j->mask[c] || (per_class > 0 && seen[c] >= per_class))
            continue;
        seen[c]++;
        memcpy(x + n * L * esz, (const uint8_t *)s->x_mem + r * L * esz, L * esz);
        yo[n++] = c;
    }
    char xp[64], yp[64];
    snprintf(xp, sizeof xp, "/%s/x", s->name);
    snprintf(yp, sizeof yp, "/%s/y", s->name);
    size_t dims[SN_H5_MAX_DIMS] = { n };
    for (int d = 0; d < s->shape.ndim; d++)
        dims[d + 1] = (size_t)s->shape.d[d];
    if (!rc && n == 0)
        rc = sn_fail(SN_EINVAL, "%s: no rows of the chosen classes in /%s", sn_h5_path(j->d->f),
                     s->name);
    if (!rc)
        rc = sn_h5_write_stoppable(f, xp, s->shape.ndim + 1, dims,
                                   s->x_u8 ? SN_H5_U8 : SN_H5_F32, x);
    double scale = s->scale, *v = malloc(((size_t)s->n_norm + 1) * sizeof *v);
    if (!rc && !v)
        rc = sn_fail(SN_ENOMEM, "out of memory");
    if (!rc)
        rc = sn_h5_attr_set_f64(f, xp, "scale", &scale, 1);
    for (int c = 0; !rc && c < s->n_norm; c++)
        v[c] = s->mean[c];
    if (!rc && s->n_norm)
        rc = sn_h5_attr_set_f64(f, xp, "mean", v, (size_t)s->n_norm);
    for (int c = 0; !rc && c < s->n_norm; c++)
        v[c] = s->std[c];
    if (!rc && s->n_norm)
        rc = sn_h5_attr_set_f64(f, xp, "std", v, (size_t)s->n_norm);
    free(v);
    if (!rc)
        rc = sn_h5_write_stoppable(f, yp, 1, dims, SN_H5_I32, yo);
    if (!rc)
        cli_printf("/%s: %zu of %zu rows\n", s->name, n, s->n);
    for (int c = 0, short_of = 0; !rc && per_class > 0 && c < j->K; c++)
        if (j->mask[c] && seen[c] < per_class && !short_of++)   /* the first such class */
            cli_eprintf("scratchnet: warning: /%s: class %d has %ld rows, fewer than the %ld "
                        "asked per class: all of them are kept (so are the other classes' "
                        "that have fewer)\n", s->name, c, seen[c], per_class);
    free(seen);
    free(x);
    free(yo);
    return rc;
}

/* convert subset holds every split in memory, and the rows it keeps of
 * each: refused before reading when that passes the memory budget (half
 * the machine's or the job's memory, as a model's), not found out by the
 * kernel (a 60 MB file declaring 17.5 GB grew to 14.9 GB resident). */
static int subset_fits(const char *path, const struct sn_split *const *all, int n)
{
    double held = 0, most = 0;
    for (int i = 0; i < n; i++) {
        if (!all[i])
            continue;
        const double b = (double)sn_dataset_cache_bytes(all[i]);   /* rows and labels */
        held += b;
        most = b > most ? b : most;
    }
    const double budget = sn_memory_half();
    if (budget > 0 && held + most > budget)
        return sn_fail(SN_EINVAL, "%s: convert subset holds its splits in memory (%.0f MB, and "
                       "up to %.0f MB more for the rows kept), more than the %.0f MB it may "
                       "take here (half the memory): make the subset on a larger machine, or "
                       "from a smaller file", path, held / 1e6, most / 1e6, budget / 1e6);
    return SN_OK;
}

/* The root's source: the subset's making, then the source it was made
 * from (kept: it says where the rows first came from). */
static int subset_source(struct sn_h5 *f, const struct subset_job *j)
{
    char *was = NULL;   /* one that is not text is left out */
    if (sn_h5_has_attr(j->d->f, "/", "source") &&
        sn_h5_attr_get_str(j->d->f, "/", "source", &was) != SN_OK)
        was = NULL;
    const size_t n = strlen(j->classes) + strlen(sn_h5_path(j->d->f)) + (was ? strlen(was) : 0);
    char *text = malloc(n + 64);
    int rc = text ? SN_OK : sn_fail(SN_ENOMEM, "out of memory");
    if (!rc) {
        sprintf(text, "classes %s of %s%s%s", j->classes, sn_h5_path(j->d->f),
                was ? ", made from " : "", was ? was : "");
        rc = set_source(f, text);
    }
    free(text);
    free(was);
    return rc;
}

static int fill_subset(struct sn_h5 *f, const void *ctx)
{
    const struct subset_job *j = ctx;
    const struct sn_split *tr = sn_dataset_split(j->d, "train"), *te = sn_dataset_split(j->d, "test");
    const struct sn_split *va = sn_dataset_split(j->d, "val");
    int rc = write_subset_split(f, j, tr, j->per_class);
    if (!rc && te)
        rc = write_subset_split(f, j, te, j->test_per_class);
    if (!rc && va)
        rc = write_subset_split(f, j, va, j->test_per_class);
    char **names = NULL;
    size_t nn = 0;
    if (!rc && sn_h5_has_attr(j->d->f, "/", "classes")) {
        rc = sn_h5_attr_get_strs(j->d->f, "/", "classes", &names, &nn);
        if (!rc)
            rc = sn_h5_attr_set_strs(f, "/", "classes", (const char *const *)names, nn);
        sn_h5_free_strs(names, nn);
    }
    if (!rc)
        rc = subset_source(f, j);
    return rc ? rc : sn_interrupt_check("writing the file");   /* nothing committed */
}

/* The labels of split s (cached; NULL: absent) in [0, 4096), the classes
 * a subset can name; *K grows to the most any split has.  A row outside
 * is named (fill_subset would drop it without a word). */
static int subset_labels(struct sn_dataset *d, const struct sn_split *s, int *K)
{
    for (size_t r = 0; s && s->y_int && r < s->n; r++) {
        const int32_t y = ((const int32_t *)s->y_mem)[r];
        char v[32];
        if (y < 0 || y >= 4096) {   /* read clamped: the message gives the stored value */
            sn_dataset_stored_label(d, s, r, y, v);
            return sn_fail(SN_EINVAL, "%s: /%s/y row %zu has label %s, outside [0, 4096) (a "
                           "subset names classes 0 to 4095)", sn_dataset_name(d), s->name, r, v);
        }
        *K = y + 1 > *K ? y + 1 : *K;
    }
    return SN_OK;
}

static int convert_subset(int argc, char **argv)
{
    const char *out = NULL, *classes = NULL, *pos[1] = { NULL };
    long per_class = 0, test_per_class = 0;
    int n_pos = 0;
    struct cli_opt opts[] = {
        CLI_STR("o", &out),
        CLI_STR("classes", &classes),
        CLI_INT("per-class", &per_class, 1, 0x7fffffff),
        CLI_INT("test-per-class", &test_per_class, 1, 0x7fffffff),
    };
    int rc = cli_parse(argc, argv, 3, opts, 4, pos, 1, &n_pos);
    if (rc == CLI_HELP)
        return cli_usage(usage_subset);
    if (!rc && (n_pos != 1 || !out || !classes))
        rc = sn_fail(SN_EUSAGE, "convert subset needs D.h5, --classes and -o (see --help)");
    cli_outputs_write_datasets();
    if (!rc)
        rc = cli_check_outputs(&out, (const char *[]){ "-o" }, 1, pos, (const char *[]){ "input" }, 1);
    int code = cli_agree(rc);
    if (code)
        return code;
    if (sn_dist_rank() == 0) {
        struct sn_dataset *d = NULL;
        bool mask[4096] = { false };
        int K = 0;
        rc = cli_data_hint(sn_dataset_open(pos[0], &d), pos[0]);
        const struct sn_split *tr = d ? sn_dataset_split(d, "train") : NULL;
        const struct sn_split *te = d ? sn_dataset_split(d, "test") : NULL;
        const struct sn_split *va = d ? sn_dataset_split(d, "val") : NULL;
        if (!rc && !tr->y_int)
            rc = sn_fail(SN_EINVAL, "%s: /train/y holds targets, not class labels", pos[0]);
        size_t n_names;   /* names train and eval would refuse are not passed on */
        if (!rc)
            rc = cli_check_dataset_classes(d, pos[0], 0, 0, &n_names);
        if (!rc)
            rc = subset_fits(pos[0], (const struct sn_split *const[]){ tr, te, va }, 3);
        if (!rc)
            rc = sn_dataset_cache(d, tr);
        if (!rc && te)
            rc = sn_dataset_cache(d, te);
        if (!rc && va)
            rc = sn_dataset_cache(d, va);
        const struct sn_split *all[3] = { tr, te, va };
        for (int i = 0; i < 3 && !rc; i++)   /* every row placed, or named: none dropped */
            rc = subset_labels(d, all[i], &K);
        if (!rc && n_names > (size_t)K)   /* a named class may have no rows yet */
            K = n_names < 4096 ? (int)n_names : 4096;
        if (!rc)
            rc = parse_classes(classes, mask, K);
        struct subset_job j = { d, mask, per_class, test_per_class, K, classes };
        if (!rc && test_per_class && !te && !va)   /* the flag would do nothing */
            cli_eprintf("scratchnet: warning: --test-per-class %ld: %s has no /test or /val "
                        "split; the output holds /train alone\n", test_per_class, cli_line(pos[0]));
        if (!rc)
            rc = stopped_writing(sn_h5_write_atomic(out, fill_subset, &j), out);
        if (!rc)
            cli_printf("wrote %s\n", cli_line(out));
        sn_dataset_close(d);
    }
    cli_await_rank0();
    return cli_agree(cli_nothing_written(rc));
}

/* --size HxW: two integers in [1, 16384] through the one number parser. */
static int parse_size(const char *text, int *h, int *w)
{
    char part[2][32];
    const char *x = strchr(text, 'x');
    long long v[2];
    int rc = x && x - text < 32 && strlen(x + 1) < 32 ? SN_OK : SN_EINVAL;
    if (!rc) {
        snprintf(part[0], sizeof part[0], "%.*s", (int)(x - text), text);
        snprintf(part[1], sizeof part[1], "%s", x + 1);
    }
    for (int i = 0; i < 2 && !rc; i++)
        rc = sn_parse_int(part[i], 1, 16384, &v[i]);
    if (rc)
        return sn_fail(SN_EUSAGE, "--size must be HxW (height x width, each in [1, 16384]), "
                       "got '%s'", text);
    *h = (int)v[0];
    *w = (int)v[1];
    return SN_OK;
}

/* What convert folder wrote: the counts, what it changed and skipped, and
 * warnings for images it did not read and a set of one class. */
static void say_written(const char *out, const char *dir, const char *test,
                        const struct sn_folder *tr, const struct sn_folder *te)
{
    cli_printf("wrote %s: %zu training image%s", cli_line(out), tr->n, cli_s((long long)tr->n));
    if (test)
        cli_printf(", %zu test image%s", te->n, cli_s((long long)te->n));
    cli_printf(" of %dx%dx%d, %d class%s", tr->C, tr->H, tr->W, tr->n_classes,
               tr->n_classes == 1 ? "" : "es");
    size_t skipped = tr->skipped + te->skipped, resized = tr->resized + te->resized,
           recoloured = tr->recoloured + te->recoloured, nested = tr->nested + te->nested;
    if (resized)
        cli_printf("; %zu image%s resized to %dx%d", resized, cli_s((long long)resized), tr->H,
                   tr->W);
    if (recoloured)
        cli_printf("; %zu image%s converted to %s", recoloured, cli_s((long long)recoloured),
                   tr->C == 1 ? "grey" : "colour");
    if (skipped)
        cli_printf(" (%zu %s that %s not a .png/.jpg image skipped, the first: %s)", skipped,
                   skipped == 1 ? "entry" : "entries", skipped == 1 ? "is" : "are",
                   cli_line(tr->skipped ? tr->first_skipped : te->first_skipped));
    cli_printf("\n");
    if (tr->stray + te->stray)
        cli_warn_stray_jpegs(tr->stray + te->stray, tr->stray ? tr->first_stray : te->first_stray);
    if (nested)
        cli_eprintf("scratchnet: warning: %zu image%s in sub-folders of class folders not read "
                    "(the first folder: %s/): only DIR/<class>/<image> is read; move them up "
                    "into their class folder\n", nested, cli_s((long long)nested),
                    cli_line(tr->nested ? tr->first_nested : te->first_nested));
    if (tr->n_classes == 1)
        cli_eprintf("scratchnet: warning: %s holds one class folder: a classifier learns nothing "
                    "from one class (give a folder for each class)\n", cli_line(dir));
}

static int convert_images(int argc, char **argv)
{
    const char *test = NULL, *out = NULL, *source = NULL, *size = NULL, *dir[1];
    long max_pixels = (long)SN_IMAGE_MAX_PIXELS;
    int n_pos = 0;
    bool grey = false;
    struct sn_folder_fit fit = { 0, 0, 0 };
    struct cli_opt opts[] = {
        CLI_STR("test", &test),
        CLI_STR("o", &out),
        CLI_STR("source", &source),
        CLI_STR("size", &size),
        CLI_INT("max-pixels", &max_pixels, 1, 1L << 28),
        CLI_FLAG("grey", &grey),
    };
    bool cifar = strcmp(argv[2], "cifar10") == 0;
    int rc = cli_parse(argc, argv, 3, opts, 6, dir, 1, &n_pos);
    if (rc == CLI_HELP)
        return cli_usage(cifar ? usage_cifar : usage_folder);
    sn_image_set_max_pixels((size_t)max_pixels);
    if (!rc && cifar && test)
        rc = sn_fail(SN_EUSAGE, "convert cifar10 takes no --test: test_batch.bin is in DIR");
    if (!rc && cifar && (size || grey))
        rc = sn_fail(SN_EUSAGE, "convert cifar10 takes no --%s: its images are all 32x32, in "
                     "colour", size ? "size" : "grey");
    if (!rc && size)
        rc = parse_size(size, &fit.H, &fit.W);
    if (!rc && size && (long)fit.H * fit.W > max_pixels)   /* what it makes, as what it reads */
        rc = sn_fail(SN_EUSAGE, "--size %dx%d makes images of %ld pixels, more than --max-pixels "
                     "%ld (raise it to allow them)", fit.H, fit.W, (long)fit.H * fit.W,
                     max_pixels);
    fit.C = grey ? 1 : 0;
    if (!rc)
        rc = check_source(source);
    if (!rc && (n_pos != 1 || !out))
        rc = sn_fail(SN_EUSAGE, "convert %s needs DIR and -o (see --help)", argv[2]);
    if (!rc)
        rc = not_same(dir[0], "--test", test);
    if (!rc && !cifar)
        rc = no_shared_class(dir[0], test);
    if (!rc)
        rc = check_images_out(out, dir[0], test, cifar);
    int code = cli_agree(rc);
    if (code)
        return code;
    if (sn_dist_rank() == 0) {
        struct sn_folder tr, te;
        memset(&te, 0, sizeof te);
        if (cifar) {
            rc = sn_cifar10_read(dir[0], &tr, &te);
            test = dir[0];
            char meta[4200];   /* its names as train and eval will read them */
            snprintf(meta, sizeof meta, "%s/batches.meta.txt", dir[0]);
            if (!rc)
                rc = sn_check_class_names(meta, "the file", tr.classes, (size_t)tr.n_classes,
                                          0, 0);
        } else {
            rc = sn_folder_read_sized(dir[0], NULL, &fit, &tr);
            if (!rc && test)
                rc = sn_folder_read_sized(test, &tr, &fit, &te);
        }
        if (!rc) {
            struct folder_job j = { &tr, test ? &te : NULL, source ? source : dir[0] };
            rc = stopped_writing(sn_h5_write_atomic(out, fill_folder, &j), out);
        }
        if (!rc) {
            say_written(out, dir[0], test, &tr, &te);
            sn_folder_free(&tr);
        }
        sn_folder_free(&te);
    }
    cli_await_rank0();
    return cli_agree(cli_nothing_written(rc));
}

int sn_cmd_convert(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
        if (sn_dist_rank() == 0)
            fputs(usage, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    if (strcmp(argv[2], "idx") == 0)
        return convert_idx(argc, argv);
    if (strcmp(argv[2], "folder") == 0 || strcmp(argv[2], "cifar10") == 0) {
        return convert_images(argc, argv);
    }
    if (strcmp(argv[2], "subset") == 0)
        return convert_subset(argc, argv);
    if (sn_dist_rank() == 0)
        cli_eprintf("scratchnet: error: unknown conversion '%s' (expected idx, folder, "
                    "cifar10 or subset)\n%s", cli_line(argv[2]),
                    usage);
    return 2;
}
