/* convert: other formats into the HDF5 dataset layout.
 *
 *   convert idx --images F --labels F [--test-images F --test-labels F] -o D.h5
 * writes /train/x uint8 (N, 1, H, W) with attribute scale = 1/255, /train/y
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
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/idx.h"

static const char usage[] =
    "usage: scratchnet convert idx --images F --labels F [--test-images F --test-labels F]\n"
    "                              [--classes a,b,...] [--source TEXT] -o D.h5\n"
    "  IDX files (MNIST, Fashion-MNIST; plain or .gz) to the HDF5 dataset layout\n";

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
        char path[64];
        size_t xd[4] = { img.dims[0], 1, img.dims[1], img.dims[2] }, n = lab.dims[0];
        int32_t *y = malloc(n * sizeof *y);
        if (!y)
            rc = sn_fail(SN_ENOMEM, "out of memory");
        for (size_t i = 0; i < n && y; i++)
            y[i] = lab.data[i];
        snprintf(path, sizeof path, "/%s/x", split);
        if (!rc)
            rc = sn_h5_write(f, path, 4, xd, SN_H5_U8, img.data);
        double scale = 1.0 / 255.0;
        if (!rc)
            rc = sn_h5_attr_set_f64(f, path, "scale", &scale, 1);
        snprintf(path, sizeof path, "/%s/y", split);
        if (!rc)
            rc = sn_h5_write(f, path, 1, &n, SN_H5_I32, y);
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
        if (sn_dist_rank() == 0)
            fprintf(stderr, "scratchnet: error: convert %s is not available in this version\n",
                    argv[2]);
        return 2;
    }
    if (sn_dist_rank() == 0)
        fprintf(stderr, "scratchnet: error: unknown conversion '%s' (expected idx)\n%s", argv[2],
                usage);
    return 2;
}
