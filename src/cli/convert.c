/* convert: other formats into the HDF5 dataset layout.
 *
 *   convert idx --images F --labels F [--test-images F --test-labels F] -o D.h5
 *   convert folder DIR [--test DIR] -o D.h5       (DIR/<class>/<image>.png|.jpg)
 * write /train/x uint8 (N, C, H, W) with attribute scale = 1/255, /train/y
 * int32 (N), the same under /test, and root attributes classes and source.
 * Rank 0 does the work; the output appears atomically (temporary file,
 * fsync, rename), so a failed conversion never leaves a partial file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/status.h"
#include "dist/dist.h"
#include "io/cifar10.h"
#include "io/folder.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/idx.h"

static const char usage[] =
    "usage: scratchnet convert idx --images F --labels F [--test-images F --test-labels F]\n"
    "                              [--classes a,b,...] [--source TEXT] -o D.h5\n"
    "       scratchnet convert folder DIR [--test DIR] [--source TEXT] -o D.h5\n"
    "       scratchnet convert cifar10 DIR [--source TEXT] -o D.h5\n"
    "  idx: IDX files (MNIST, Fashion-MNIST; plain or .gz)\n"
    "  folder: DIR/<class>/<image>.png|.jpg, classes in name order, all images one size\n"
    "  cifar10: the official binary batches (data_batch_1.bin .. 5, test_batch.bin)\n";

/* /<split>/x uint8 (n, C, H, W) with scale 1/255, and /<split>/y int32 (n). */
static int write_split(struct sn_h5 *f, const char *split, const uint8_t *x, const size_t xd[4],
                       const int32_t *y)
{
    char path[64];
    double scale = 1.0 / 255.0;
    snprintf(path, sizeof path, "/%s/x", split);
    int rc = sn_h5_write(f, path, 4, xd, SN_H5_U8, x);
    if (!rc)
        rc = sn_h5_attr_set_f64(f, path, "scale", &scale, 1);
    snprintf(path, sizeof path, "/%s/y", split);
    if (!rc)
        rc = sn_h5_write(f, path, 1, xd, SN_H5_I32, y);
    return rc;
}

/* Write one split from an image IDX (N,H,W) and a label IDX (N). */
static int write_idx_split(struct sn_h5 *f, const char *split, const char *img_path,
                           const char *lab_path)
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
    if (img.ndim != 3)
        rc = sn_fail(SN_EINVAL, "%s: images must have 3 dimensions (N, H, W), found %d",
                     img_path, img.ndim);
    else if (lab.ndim != 1)
        rc = sn_fail(SN_EINVAL, "%s: labels must have 1 dimension, found %d", lab_path, lab.ndim);
    else if (lab.dims[0] != img.dims[0])
        rc = sn_fail(SN_EINVAL, "%s has %zu images but %s has %zu labels", img_path, img.dims[0],
                     lab_path, lab.dims[0]);
    if (!rc) {
        size_t xd[4] = { img.dims[0], 1, img.dims[1], img.dims[2] }, n = lab.dims[0];
        int32_t *y = malloc(n * sizeof *y);
        if (!y)
            rc = sn_fail(SN_ENOMEM, "out of memory");
        for (size_t i = 0; i < n && y; i++)
            y[i] = lab.data[i];
        if (!rc)
            rc = write_split(f, split, img.data, xd, y);
        free(y);
    }
    sn_idx_free(&img);
    sn_idx_free(&lab);
    return rc;
}

/* Split "a,b,c" into at most max names (pointers into buf). */
static size_t split_names(char *buf, const char **names, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(buf, ","); tok && n < max; tok = strtok(NULL, ","))
        names[n++] = tok;
    return n;
}

static int convert_idx(int argc, char **argv)
{
    const char *images = NULL, *labels = NULL, *timages = NULL, *tlabels = NULL, *out = NULL,
               *classes = NULL, *source = NULL;
    struct cli_opt opts[] = {
        { "images", OPT_STR, &images, 0 },      { "labels", OPT_STR, &labels, 0 },
        { "test-images", OPT_STR, &timages, 0 }, { "test-labels", OPT_STR, &tlabels, 0 },
        { "o", OPT_STR, &out, 0 },              { "classes", OPT_STR, &classes, 0 },
        { "source", OPT_STR, &source, 0 },
    };
    /* accept -o as well as --o */
    for (int i = 3; i < argc; i++)
        if (strcmp(argv[i], "-o") == 0)
            argv[i] = "--o";
    int rc = cli_parse(argc, argv, 3, opts, (int)(sizeof opts / sizeof opts[0]), NULL, 0, NULL);
    if (!rc && (!images || !labels || !out))
        rc = sn_fail(SN_EUSAGE, "convert idx needs --images, --labels and -o (see --help)");
    if (!rc && !timages != !tlabels)
        rc = sn_fail(SN_EUSAGE, "--test-images and --test-labels go together");
    int code = cli_agree(rc);
    if (code)
        return code;
    if (sn_dist_rank() == 0) {
        char tmp[4200];
        struct sn_h5 *f = NULL;
        sn_fs_tmpname(out, tmp, sizeof tmp);
        rc = sn_h5_create(tmp, &f);
        if (!rc)
            rc = write_idx_split(f, "train", images, labels);
        if (!rc && timages)
            rc = write_idx_split(f, "test", timages, tlabels);
        if (!rc && classes) {
            char *buf = strdup(classes);
            const char *names[1024];
            size_t n = buf ? split_names(buf, names, 1024) : 0;
            rc = buf ? sn_h5_attr_set_strs(f, "/", "classes", names, n)
                     : sn_fail(SN_ENOMEM, "out of memory");
            free(buf);
        }
        if (!rc)
            rc = sn_h5_attr_set_str(f, "/", "source", source ? source : images);
        if (f) {
            int rc2 = sn_h5_close(f);
            rc = rc ? rc : rc2;
        }
        if (!rc)
            rc = sn_fs_commit(tmp, out);
        else
            remove(tmp);
        if (!rc)
            printf("wrote %s\n", out);
    }
    return cli_agree(rc);   /* the other ranks wait here and learn the outcome */
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
        rc = sn_h5_attr_set_str(f, "/", "source", j->source);
    return rc;
}

/* convert folder and convert cifar10: an image set in memory, then one file. */
static int convert_images(int argc, char **argv)
{
    const char *test = NULL, *out = NULL, *source = NULL, *dir[1];
    int n_pos = 0;
    struct cli_opt opts[] = {
        { "test", OPT_STR, &test, 0 },
        { "o", OPT_STR, &out, 0 },
        { "source", OPT_STR, &source, 0 },
    };
    bool cifar = strcmp(argv[2], "cifar10") == 0;
    int rc = cli_parse(argc, argv, 3, opts, 3, dir, 1, &n_pos);
    if (!rc && cifar && test)
        rc = sn_fail(SN_EUSAGE, "convert cifar10 takes no --test: test_batch.bin is in DIR");
    if (!rc && (n_pos != 1 || !out))
        rc = sn_fail(SN_EUSAGE, "convert %s needs DIR and -o (see --help)", argv[2]);
    int code = cli_agree(rc);
    if (code)
        return code;
    if (sn_dist_rank() == 0) {
        struct sn_folder tr, te;
        memset(&te, 0, sizeof te);
        if (cifar) {
            rc = sn_cifar10_read(dir[0], &tr, &te);
            test = dir[0];
        } else {
            rc = sn_folder_read(dir[0], NULL, &tr);
            if (!rc && test)
                rc = sn_folder_read(test, &tr, &te);
        }
        if (!rc) {
            struct folder_job j = { &tr, test ? &te : NULL, source ? source : dir[0] };
            rc = sn_h5_write_atomic(out, fill_folder, &j);
        }
        if (!rc) {
            printf("wrote %s: %zu training images", out, tr.n);
            if (test)
                printf(", %zu test images", te.n);
            printf(" of %dx%dx%d, %d classes", tr.C, tr.H, tr.W, tr.n_classes);
            if (tr.skipped + te.skipped)
                printf(" (%zu files that are not .png/.jpg skipped)", tr.skipped + te.skipped);
            printf("\n");
            sn_folder_free(&tr);
        }
        sn_folder_free(&te);
    }
    return cli_agree(rc);
}

int sn_cmd_convert(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
        if (sn_dist_rank() == 0)
            fputs(usage, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    if (strcmp(argv[2], "idx") == 0)
        return cli_wants_help(argc, argv) ? (fputs(usage, stdout), 0) : convert_idx(argc, argv);
    if (strcmp(argv[2], "folder") == 0 || strcmp(argv[2], "cifar10") == 0) {
        return cli_wants_help(argc, argv) ? (fputs(usage, stdout), 0) : convert_images(argc, argv);
    }
    if (sn_dist_rank() == 0)
        fprintf(stderr, "scratchnet: error: unknown conversion '%s' (expected idx or folder)\n%s", argv[2],
                usage);
    return 2;
}
