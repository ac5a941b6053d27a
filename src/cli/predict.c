/* predict: class probabilities and predictions of a weights file or
 * checkpoint for every row of a dataset split.
 *
 *   predict --weights W.h5 --input D.h5 -o OUT.h5|OUT.csv [--model M.cfg] [--split S]
 *   predict --weights W.h5 --input IMAGE.png|.jpg|.pgm|.ppm [--top K] [-o OUT.h5|OUT.csv]
 * OUT.h5 holds /probs (N, K) float32 and /pred (N) int32; OUT.csv holds
 * lines "index,pred,p0,...,pK-1".  Probabilities are the softmax of the
 * outputs for cross_entropy, the sigmoid for binary_cross_entropy, and the
 * outputs themselves for mse.  Rank 0 computes (the other ranks wait);
 * the output appears atomically.  An image is read with the same libpng and
 * libjpeg-turbo code as convert folder (or as a netpbm PGM), fitted to the
 * model's input (channels and size, see sn_image_fit), scaled as the
 * training data was (the weights file keeps its scale, mean and std), and
 * its top K classes are printed with their names.
 */
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#include "cli/cli.h"
#include "core/activation.h"
#include "core/blas.h"
#include "core/interrupt.h"
#include "core/loss.h"
#include "core/status.h"
#include "core/text.h"
#include "dist/dist.h"
#include "io/folder.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/image.h"
#include "io/metacheck.h"
#include "io/weights.h"
#include "train/evaluate.h"

static const char usage[] =
    "usage: scratchnet predict --weights W.h5 --input D.h5 -o OUT.h5|OUT.csv [--model M.cfg]\n"
    "                          [--split test|train|val] [--batch N] [--threads T]\n"
    "       scratchnet predict --weights W.h5 --input IMAGE.png|.jpg|.pgm|.ppm [IMAGE ...]\n"
    "                          [--top K] [--max-pixels N] [-o OUT.h5|OUT.csv] [--model M.cfg]\n"
    "                          [--threads T]\n"
    "  OUT.h5: /probs (N, K) float32 and /pred (N) int32; OUT.csv: index,pred,p0..pK-1\n"
    "  (for images, row i is the i-th image given, as the printed lines name them)\n"
    "  --split  which /<split>/x of D.h5 (default: test if present, else train, else val)\n"
    "  --batch N  rows computed at once (default 256)\n"
    "  --threads T  threads (default, or 0: OMP_NUM_THREADS, else this machine's cores)\n"
    "  --top K  for an image: print the K most likely classes (default 5)\n"
    "  --max-pixels N  refuse an image of more pixels (default 67108864, 8192 x 8192)\n"
    "  An image is converted to the model's input: grey or colour, resized to its\n"
    "  H x W, scaled like the training data (kept in weights files written by train).\n";

struct outputs {
    size_t n;
    int K;
    const float *probs;
    const int32_t *pred;
};

static int fill_outputs(struct sn_h5 *f, const void *ctx)
{
    const struct outputs *o = ctx;
    size_t pd[2] = { o->n, (size_t)o->K };
    int rc = sn_h5_write(f, "/probs", 2, pd, SN_H5_F32, o->probs);
    if (!rc)
        rc = sn_h5_write(f, "/pred", 1, pd, SN_H5_I32, o->pred);
    return rc;
}

static int write_csv(const char *path, const struct outputs *o)
{
    char tmp[4200];
    sn_fs_tmpname(path, tmp, sizeof tmp);
    FILE *f;
    int rc = sn_fs_create_tmp(tmp, path, &f);
    if (rc)
        return rc;
    fprintf(f, "index,pred");
    for (int k = 0; k < o->K; k++)
        fprintf(f, ",p%d", k);
    fprintf(f, "\n");
    for (size_t i = 0; i < o->n; i++) {
        fprintf(f, "%zu,%d", i, o->pred[i]);
        for (int k = 0; k < o->K; k++)
            fprintf(f, ",%.6g", o->probs[i * (size_t)o->K + (size_t)k]);
        fprintf(f, "\n");
    }
    if (fclose(f) != 0) {
        const int e = errno;
        remove(tmp);
        return sn_fail(SN_EIO, "%s: writing failed (%s)", path, sn_fs_write_why(e));
    }
    return sn_fs_commit(tmp, path);
}

/* An existing -o NAME.csv is replaced only when it holds predictions, as
 * write_csv starts them (a spreadsheet, a label table or a dataset in CSV
 * was replaced); an empty file is taken (mktemp's). */
static int csv_guard(const char *out)
{
    char target[4096], head[15] = "";
    struct stat st;
    if (sn_fs_output_target(out, target, sizeof target, &st) != SN_OK || !S_ISREG(st.st_mode) ||
        st.st_size == 0)
        return SN_OK;   /* none there, or cli_check_outputs says what it is */
    FILE *fp = sn_fs_open_regular(target);
    const size_t n = fp ? fread(head, 1, sizeof head - 1, fp) : 0;
    if (fp)
        fclose(fp);
    head[n] = '\0';   /* whole fields: index,predator_count... is another table */
    if (strncmp(head, "index,pred,p0", 13) == 0 && (head[13] == ',' || head[13] == '\n'))
        return SN_OK;
    return sn_fail(SN_EUSAGE, "-o %s holds no predictions (predict's CSV starts with "
                   "index,pred,p0), which this output would replace (remove it first, or name "
                   "another file)", out);
}

/* In any case, as image names are: photo.PNG, data.H5, out.CSV. */
static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* The images predict reads: a folder's, and the PNM formats. */
static bool is_image_name(const char *s)
{
    return sn_text_ext_in(s, SN_FOLDER_IMAGE_EXTS " .pgm .ppm");
}

/* Probabilities from the model's outputs, as the loss defines them. */
static void to_probs(enum sn_loss loss, const float *z, float *p, int n, int K)
{
    if (loss == SN_LOSS_CROSS_ENTROPY)
        sn_act_forward(SN_ACT_SOFTMAX, z, p, (size_t)n, (size_t)K);
    else if (loss == SN_LOSS_BCE)
        sn_act_forward(SN_ACT_SIGMOID, z, p, (size_t)n, (size_t)K);
    else
        memcpy(p, z, (size_t)n * (size_t)K * sizeof *p);
}

/* The top classes of one image, most likely first, with their names when
 * there is one per class.  A binary model (binary_cross_entropy, one
 * output) has two classes: 1 with the output's probability, 0 with the
 * rest. */
static void print_top(enum sn_loss loss, const float *probs, int K, int top, char *const *names,
                      size_t n_names)
{
    float two[2];
    if (loss == SN_LOSS_BCE && K == 1) {
        two[0] = 1.0f - probs[0];
        two[1] = probs[0];
        probs = two;
        K = 2;
    }
    bool named = n_names >= (size_t)K;   /* labels index the names */
    int k_max = top < K ? top : K;
    bool *used = calloc((size_t)K, sizeof *used);
    /* the ranks right-aligned and the class numbers in one width, so the
     * columns stay in line past rank 9 and class 999 (round 77 F2) */
    const int rank_w = snprintf(NULL, 0, "%d", k_max), class_w = snprintf(NULL, 0, "%d", K - 1);
    for (int r = 0; used && r < k_max; r++) {
        int best = -1;
        for (int k = 0; k < K; k++)
            if (!used[k] && (best < 0 || probs[k] > probs[best]))
                best = k;
        used[best] = true;
        const char *name = named ? names[best] : "";
        char cell[1100];   /* a name (at most 255 bytes) padded to 24 columns */
        const int w = sn_text_width(name);
        sn_text_pad(name, w > 24 ? w : 24, cell, sizeof cell);
        cli_printf("  %*d. %-*d %s %.4f\n", rank_w, r + 1, class_w > 3 ? class_w : 3, best, cell,
                   probs[best]);
    }
    free(used);
}

/* The fitted pixels px (C planes of HW) as the training data was
 * prepared: scaled, and normalised as its elements were (one mean and
 * std, one a channel, or one an element). */
static void prepare(const uint8_t *px, const struct sn_data_meta *meta, int C, int HW, float *x)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < HW; i++) {
            const size_t at = (size_t)c * (size_t)HW + (size_t)i;
            double v = px[at] * meta->scale;
            if (meta->n_norm) {
                const size_t k = sn_data_meta_index(meta, at);
                v = (v - meta->mean[k]) / meta->std[k];
            }
            x[at] = (float)v;
        }
}

/* "IMAGE: grey 30x40 (height x width) -> model input 1x28x28", saying
 * when the image's aspect changes by more than 5% and when the weights
 * keep no scale. */
static void print_image_line(const char *input, const struct sn_image *img, int C, int H, int W,
                             bool scale_known)
{
    const double a = (double)img->width * H, b = (double)img->height * W;
    cli_printf("%s: %s %dx%d (height x width) -> model input %dx%dx%d%s%s\n", cli_line(input),
               img->channels == 1 ? "grey" : "colour", img->height, img->width, C, H, W,
               a > 1.05 * b || b > 1.05 * a ? " (stretched: its shape is not the input's; crop "
               "it first for an undistorted item)" : "",
               scale_known ? "" : " (no scale stored in the weights: pixels / 255)");
}

/* What predicting images holds; image_free releases it. */
struct image_run {
    struct sn_netcfg net;
    struct sn_model *m;
    struct sn_data_meta meta;
    int C, H, W, K;
    float *x, *zsum;            /* its input, the forward pass's scratch */
    float *probs;               /* n x K */
    int32_t *pred;              /* n */
};

static void image_free(struct image_run *r)
{
    sn_model_destroy(r->m);
    sn_data_meta_free(&r->meta);
    sn_free(r->x);
    sn_free(r->zsum);
    sn_free(r->probs);
    free(r->pred);
}

/* The weights, the data's preparation they keep, and buffers for n images. */
static int image_open(const char *weights, const char *model, bool out, size_t n,
                      struct image_run *r)
{
    int rc = cli_load_weights(weights, model, 1, &r->net, &r->m, NULL);
    if (!rc && r->net.target_input && !out)   /* its outputs are an image, not classes */
        rc = sn_fail(SN_EUSAGE, "%s: an autoencoder (target = input): its outputs are no classes "
                     "to show; give -o OUT.csv or OUT.h5 to get them", weights);
    struct sn_h5 *f = NULL;
    if (!rc)
        rc = sn_weights_open(weights, &f);
    if (!rc)
        rc = sn_data_meta_read(f, &r->meta);
    sn_h5_close(f);
    if (!rc)
        rc = sn_data_meta_place(&r->meta, &r->m->in_shape, weights);
    for (size_t k = 0; !rc && k < r->meta.n_classes; k++)   /* shown one a line */
        sn_text_clean(r->meta.classes[k], false);
    if (!rc)
        cli_warn_float_training(weights, &r->meta);
    const struct sn_shape *is = r->m ? &r->m->in_shape : NULL;
    if (!rc && is->ndim == 2)   /* a recurrent model of H steps of W features */
        rc = sn_fail(SN_EINVAL, "%s: the model reads %dx%d input (steps x features), not images: "
                     "predict from an .h5 dataset instead, or train the model with [net] input "
                     "= 1,%d,%d, which reads a grey image of %dx%d (height x width) as the same "
                     "steps", weights, (int)is->d[0], (int)is->d[1], (int)is->d[0], (int)is->d[1],
                     (int)is->d[0], (int)is->d[1]);
    else if (!rc && !(is->ndim == 3 && (is->d[0] == 1 || is->d[0] == 3)))
        rc = sn_fail(SN_EINVAL, "%s: the model reads %d-dimensional input, not images of 1 or 3 "
                     "channels: predict from an .h5 dataset instead", weights, is->ndim);
    if (!rc)   /* its mean/std count was checked by cli_load_weights */
        rc = sn_check_pixel_prep(weights, &r->meta);
    if (rc)
        return rc;
    r->C = is->d[0];
    r->H = is->d[1];
    r->W = is->d[2];
    r->K = (int)sn_model_out_len(r->m);
    const size_t len = (size_t)r->C * r->H * r->W;
    r->x = sn_alloc_f32(len);
    r->zsum = sn_alloc_f32(sn_eval_scratch_len(r->m, &r->net, 1) + 1);
    r->probs = sn_alloc_f32(n * (size_t)r->K);
    r->pred = malloc(n * sizeof *r->pred);
    if (!r->x || !r->zsum || !r->probs || !r->pred)
        return sn_fail(SN_ENOMEM, "out of memory");
    return SN_OK;
}

/* Image i: its fitted pixels px (read by fit_all), scaled, forward; its
 * line (img: its stored size) and top classes printed. */
static int image_one(const char *weights, const char *input, const struct sn_image *img,
                     const uint8_t *px, int top, size_t i, struct image_run *r)
{
    float *probs = r->probs + i * (size_t)r->K;
    prepare(px, &r->meta, r->C, r->H * r->W, r->x);
    const float *z = sn_forward_eval(r->m, &r->net, r->x, 1, r->zsum);
    to_probs(r->net.loss, z, probs, 1, r->K);
    r->pred[i] = sn_loss_predict(z, r->K);
    int rc = sn_check_outputs(z, 1, r->K, 0);
    if (rc)   /* the weights' fault: bad input */
        return sn_fail_prefix(SN_EINVAL, "%s on %s: ", weights, cli_line(input));
    print_image_line(input, img, r->C, r->H, r->W, r->meta.known);
    if (!r->net.target_input)   /* an autoencoder's outputs go to -o only */
        print_top(r->net.loss, probs, r->K, top, r->meta.classes, r->meta.n_classes);
    return SN_OK;
}

/* Every image read and fitted (into px, n rows of C x H x W; their stored
 * sizes into dims, without pixels) before any result is shown: a damaged
 * last image refuses the command, not half of it. */
static int fit_all(char *const *inputs, size_t n, const struct image_run *r, uint8_t *px,
                   struct sn_image *dims)
{
    const size_t len = (size_t)r->C * r->H * r->W;
    size_t stray = 0, first = 0;
    int rc = SN_OK;
    for (size_t i = 0; !rc && i < n; i++) {
        struct sn_image img = { 0 };
        if (!(rc = sn_image_read(inputs[i], &img))) {
            sn_image_fit(&img, r->C, r->H, r->W, px + i * len);
            dims[i] = (struct sn_image){ img.width, img.height, img.channels, NULL, img.palette,
                                         0 };
            if (img.stray_bytes && !stray++)
                first = i;
        }
        sn_image_free(&img);
        if (!rc)
            rc = sn_interrupt_check("reading the images");
    }
    if (!rc && stray)
        cli_warn_stray_jpegs(stray, inputs[first]);
    return rc;
}

/* Images (n of them, in the order given): each one's top classes, and
 * one row each in out if asked. */
static int run_images(const char *weights, const char *model, char *const *inputs, size_t n,
                      int top, const char *out)
{
    struct image_run r;
    memset(&r, 0, sizeof r);
    int rc = image_open(weights, model, out != NULL, n, &r);
    for (size_t i = 0; !rc && i < n; i++)   /* every one there before any is read */
        rc = sn_image_check_file(inputs[i]);
    const size_t len = (size_t)r.C * r.H * r.W;
    uint8_t *px = rc ? NULL : malloc(n * len);
    struct sn_image *dims = rc ? NULL : calloc(n, sizeof *dims);
    if (!rc && (!px || !dims))
        rc = sn_fail(SN_ENOMEM, "out of memory for %zu images of %zu bytes", n, len);
    if (!rc)
        rc = fit_all(inputs, n, &r, px, dims);
    for (size_t i = 0; !rc && i < n; i++)
        if (!(rc = image_one(weights, inputs[i], &dims[i], px + i * len, top, i, &r)))
            rc = sn_interrupt_check("predicting the images");
    free(px);
    free(dims);
    if (!rc && out) {
        struct outputs o = { n, r.K, r.probs, r.pred };
        rc = ends_with(out, ".csv") ? write_csv(out, &o)
                                    : sn_h5_write_atomic(out, fill_outputs, &o);
        if (!rc)
            cli_printf("wrote %s\n", cli_line(out));
    }
    image_free(&r);
    return rc;
}

/* Everything rank 0 does: read, forward, convert, write. */
static int run(const char *weights, const char *model, const char *input, const char *split,
               const char *out, int batch)
{
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    struct sn_dataset *ds = NULL;
    const struct sn_split *s = NULL;
    float *x = NULL, *probs = NULL, *zsum = NULL;
    int32_t *pred = NULL;
    int rc = cli_load_weights(weights, model, batch, &net, &m, NULL);
    if (!rc)
        rc = sn_dataset_open_inputs(input, &ds);
    if (!rc) {
        s = split ? sn_dataset_split(ds, split)
                  : sn_dataset_split(ds, "test") ? sn_dataset_split(ds, "test")
                  : sn_dataset_split(ds, "train") ? sn_dataset_split(ds, "train")
                                                  : sn_dataset_split(ds, "val");
        char there[320] = "";
        if (!s && ds->f)
            sn_dataset_splits_there(ds, there, sizeof there);
        if (!s)
            rc = sn_fail(SN_EINVAL, "%s: dataset /%s/x is missing%s%s", input,
                         split ? split : "test", there,
                         strstr(there, "splits: ") ? ": predict from one of those with --split" : "");
    }
    size_t in_len = m ? sn_shape_len(&m->in_shape) : 0;
    if (!rc && s->row_len != in_len)
        rc = sn_fail(SN_EINVAL, "%s: /%s/x samples have %zu values, the model input %zu", input,
                     s->name, s->row_len, in_len);
    int K = m ? (int)sn_model_out_len(m) : 0;
    if (!rc)
        cli_warn_data_mismatch(weights, input, ds, s, true);
    if (!rc)
        cli_warn_layout(s, input, &m->in_shape);
    if (!rc)
        rc = sn_dataset_reserve(ds, (size_t)batch);
    if (!rc) {
        x = sn_alloc_f32((size_t)batch * in_len);
        /* filled whole before they are written: not zeroed first */
        probs = s->n <= SIZE_MAX / sizeof(float) / (size_t)K
                    ? sn_alloc_bytes_unzeroed(s->n * (size_t)K * sizeof(float)) : NULL;
        pred = malloc(s->n * sizeof *pred);
        zsum = sn_alloc_f32(sn_eval_scratch_len(m, &net, batch) + 1);
        if (!x || !probs || !pred || !zsum)
            rc = sn_fail(SN_ENOMEM, "out of memory for %zu predictions of %d outputs (%.0f MB, "
                         "held until they are written at the end)", s->n, K,
                         (double)s->n * (K * 4.0 + 4.0) / 1048576.0);
    }
    for (size_t at = 0; !rc && at < s->n; at += (size_t)batch) {
        int n = (int)(s->n - at < (size_t)batch ? s->n - at : (size_t)batch);
        if ((rc = sn_interrupt_check("predicting"))) {   /* SIGTERM, SIGINT: stop here */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", sn_errmsg());
            rc = sn_fail(rc, "%s, after %zu of %zu rows: nothing written", msg, at, s->n);
            break;
        }
        rc = sn_dataset_read_block(ds, s, at, (size_t)n, x, NULL, NULL);
        if (rc)
            break;
        const float *z = sn_forward_eval(m, &net, x, n, zsum);
        if ((rc = sn_check_outputs(z, n, K, at))) {
            rc = sn_fail_prefix(SN_EINVAL, "%s on %s, ", weights, input);
            break;
        }
        to_probs(net.loss, z, probs + at * (size_t)K, n, K);
        for (int i = 0; i < n; i++)
            pred[at + (size_t)i] = sn_loss_predict(z + (size_t)i * (size_t)K, K);
    }
    if (!rc) {
        struct outputs o = { s->n, K, probs, pred };
        rc = ends_with(out, ".csv") ? write_csv(out, &o) : sn_h5_write_atomic(out, fill_outputs, &o);
        if (!rc)
            cli_printf("wrote %s: %zu prediction%s of %d output%s\n", cli_line(out), s->n,
                       cli_s((long long)s->n), K, cli_s(K));
    }
    sn_model_destroy(m);
    sn_dataset_close(ds);
    sn_free(x);
    sn_free(probs);
    sn_free(zsum);
    free(pred);
    return rc;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The images to predict: --input's and the arguments that are no flag's
 * (what a shell glob after --input gives), in the order of the command
 * line, as -o's rows are; each named as an image.  *n of them in *list
 * (malloc'd; its strings are argv's, which pos and input point into). */
static int image_list(int argc, char **argv, const char *input, const char **pos, int n_pos,
                      const char ***list, size_t *n)
{
    for (int k = 0; k < n_pos; k++)
        if (!is_image_name(pos[k]))
            return sn_fail(SN_EUSAGE, "unexpected argument '%s': predict takes one .h5 dataset, "
                           "or images (.png, .jpg, .jpeg, .pgm, .ppm): --input A.png B.jpg "
                           "...", pos[k]);
    if (n_pos > 0 && !is_image_name(input))
        return sn_fail(SN_EUSAGE, "unexpected argument '%s': --input %s is a dataset; more "
                       "inputs are images only", pos[0], input);
    if (!(*list = malloc(((size_t)n_pos + 1) * sizeof **list)))
        return sn_fail(SN_ENOMEM, "out of memory");
    size_t at = 0;
    int k = 0;
    for (int j = 2; j < argc; j++) {   /* pos[] holds argv's strings in argv's order */
        if (k < n_pos && argv[j] == pos[k])
            (*list)[at++] = pos[k++];
        else if (input >= argv[j] && input <= argv[j] + strlen(argv[j]))   /* --input's */
            (*list)[at++] = input;
    }
    *n = at;
    return SN_OK;
}

/* Refused before any work: outputs that name an input, inputs missing. */
static int check_files(const char *weights, const char *model, const char **images, size_t n,
                       const char **out)
{
    const char **ins = malloc((n + 2) * sizeof *ins), **iflags = malloc((n + 2) * sizeof *iflags);
    if (!ins || !iflags) {
        free(ins);
        free(iflags);
        return sn_fail(SN_ENOMEM, "out of memory");
    }
    ins[0] = weights;
    iflags[0] = "--weights";
    ins[1] = model;
    iflags[1] = "--model";
    for (size_t k = 0; k < n; k++) {
        ins[k + 2] = images[k];
        iflags[k + 2] = "--input";
    }
    cli_outputs_write_predictions();
    int rc = cli_check_outputs(out, (const char *[]){ "-o" }, 1, ins, iflags, (int)n + 2);
    free(ins);
    free(iflags);
    return rc;
}

int sn_cmd_predict(int argc, char **argv)
{
    const char *weights = NULL, *input = NULL, *out = NULL, *model = NULL, *split = NULL;
    long batch = 256, top = 5, max_pixels = (long)SN_IMAGE_MAX_PIXELS, threads = 0;
    struct cli_opt opts[] = {
        CLI_STR("weights", &weights), CLI_STR("input", &input),
        CLI_STR("o", &out),           CLI_STR("model", &model),
        CLI_STR("split", &split),     CLI_INT("batch", &batch, 1, 65536),
        CLI_INT("top", &top, 1, 1 << 24),   CLI_INT("max-pixels", &max_pixels, 1, 1L << 28),
        CLI_INT("threads", &threads, 0, CLI_MAX_THREADS),
    };
    const char **pos = malloc((size_t)argc * sizeof *pos), **images = NULL;
    int n_pos = 0, code;
    size_t n = 0;
    int rc = pos ? cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), pos, argc,
                             &n_pos) : sn_fail(SN_ENOMEM, "out of memory");
    if (rc == CLI_HELP) {
        free(pos);
        return cli_usage(usage);
    }
    sn_image_set_max_pixels((size_t)max_pixels);
    bool image = input && is_image_name(input);
    if (!rc && input && !image && !sn_text_ext_in(input, CLI_HDF5_EXTS))   /* before -o */
        rc = is_dir(input)
                 ? sn_fail(SN_EUSAGE, "--input %s is a folder: give its images (--input %s/*, "
                           "or %s/*.png), or an HDF5 dataset (.h5)", input, input, input)
                 : sn_fail(SN_EUSAGE, "--input %s: expected an HDF5 dataset (.h5) or images "
                           "(.png, .jpg, .jpeg, .pgm, .ppm)", input);
    for (int k = 4; !rc && input && k < 8; k++)   /* split, batch: a dataset's; top, max-pixels: images' */
        if (opts[k].seen && (k < 6) == image)
            rc = sn_fail(SN_EUSAGE, "--%s applies to %s only, and --input %s is %s", opts[k].name,
                         k < 6 ? "a dataset (.h5)" : "images", input,
                         image ? "an image" : "a dataset");
    if (!rc && (!weights || !input || (!out && !image)))
        rc = sn_fail(SN_EUSAGE, "predict needs --weights and --input, and -o for a dataset "
                     "(see --help)");
    const bool h5_out = out && sn_text_ext_in(out, CLI_HDF5_EXTS);
    if (!rc && out && !h5_out && !ends_with(out, ".csv"))
        rc = sn_fail(SN_EUSAGE, "-o %s: the output must end in .h5 (or .hdf5, .he5) or .csv",
                     out);
    char target[4096];
    struct stat st;
    if (!rc && out && sn_fs_output_target(out, target, sizeof target, &st) == SN_OK &&
        strcmp(target, out) != 0 && (st.st_mode == 0 || S_ISREG(st.st_mode)) &&
        !(h5_out ? sn_text_ext_in(target, CLI_HDF5_EXTS) : ends_with(target, ".csv")))
        rc = sn_fail(SN_EUSAGE, "-o %s is a link to %s: the output must be a file whose name "
                     "ends in %s", out, target, h5_out ? ".h5 (or .hdf5, .he5)" : ".csv");
    if (!rc && out && ends_with(out, ".csv"))
        rc = csv_guard(out);
    if (!rc)
        rc = image_list(argc, argv, input, pos, n_pos, &images, &n);
    if (!rc)
        rc = check_files(weights, model, images, n, &out);
    int used;
    if (!(code = cli_agree(rc)))
        rc = cli_setup_threads(threads, &used);
    const struct cli_cpu_use before = cli_cpu_use_now();
    if (!code && !rc && sn_dist_rank() == 0)
        rc = image ? run_images(weights, model, (char *const *)images, n, (int)top, out)
                   : run(weights, model, input, split, out, (int)batch);
    if (!code && !rc)
        cli_warn_busy_cores(before, used, true, "predicted");
    if (!code)
        cli_await_rank0();
    free(pos);
    free(images);
    return code ? code : cli_agree(cli_nothing_written(rc));
}
