/* eval: loss and accuracy of a weights file or checkpoint on a dataset
 * split, spread over the ranks (each evaluates one block of rows; the sums
 * are reduced, so the figures do not depend on the rank count). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/gnuplot.h"
#include "core/loss.h"
#include "core/interrupt.h"
#include "core/blas.h"
#include "core/status.h"
#include "core/text.h"
#include "dist/dist.h"
#include "io/h5.h"
#include "io/fingerprint.h"
#include "io/fsutil.h"
#include "io/metacheck.h"
#include "io/modelfile.h"
#include "io/weights.h"
#include "train/evaluate.h"

static const char usage[] =
    "usage: scratchnet eval --weights W.h5 --data D.h5 [--split test|train|val] [--model M.cfg]\n"
    "                       [--batch N] [--confusion-png F.png] [--threads T]\n"
    "  --weights W.h5   a weights file or a checkpoint\n"
    "  --split S        the split of D.h5 to evaluate: test (default), train or val\n"
    "  --model M.cfg    use this model file instead of the one stored in W.h5\n"
    "  --batch N        rows per forward pass on each rank (default 256)\n"
    "  --confusion-png F.png  draw the confusion matrix with class names (gnuplot)\n"
    "  --threads T      threads per rank (default, or 0: OMP_NUM_THREADS, else the\n"
    "                   host's cores / its ranks)\n";

/* --model with layers other than the weights' own model file (say another
 * activation), another [net] input (8x8 images read as 4x16 ones) or
 * another loss (mse's raw outputs for cross_entropy's softmax): the
 * values load, since the shapes agree, but the network is another one;
 * rank 0 says so. */
static void warn_other_layers(const char *weights, const char *model_path, const char *text,
                              const struct sn_netcfg *given)
{
    const struct sn_shape *input = &given->input;
    char *own = NULL, a[64], b[64];
    if (sn_dist_rank() != 0 || sn_weights_read_cfg(weights, &own))
        return;
    sn_model_text_fingerprint(text, a, sizeof a);
    sn_model_text_fingerprint(own, b, sizeof b);
    if (strcmp(a, b) != 0)
        cli_eprintf("scratchnet: warning: the layer sections of --model %s differ from the model "
                    "file %s was trained with (the parameters fit, so they load): the results are "
                    "those of --model's network\n", cli_line(model_path), cli_line(weights));
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    char sa[64], sb[64];
    if (sn_modelfile_parse(own, weights, &net, &m) == SN_OK &&
        (net.input.ndim != input->ndim ||
         memcmp(net.input.d, input->d, sizeof input->d[0] * (size_t)input->ndim) != 0))
        cli_eprintf("scratchnet: warning: --model %s reads inputs of %s, the model %s was "
                    "trained with read %s: each example is read in --model's shape\n",
                    cli_line(model_path), sn_shape_str(input, sa, sizeof sa), cli_line(weights),
                    sn_shape_str(&net.input, sb, sizeof sb));
    if (m && (net.loss != given->loss || net.target_input != given->target_input))
        cli_eprintf("scratchnet: warning: --model %s has loss %s%s, the model %s was trained "
                    "with %s%s: the outputs and the loss are --model's\n", cli_line(model_path),
                    sn_loss_name(given->loss), given->target_input ? " (target = input)" : "",
                    cli_line(weights), sn_loss_name(net.loss),
                    net.target_input ? " (target = input)" : "");
    sn_model_destroy(m);
    free(own);
}

int cli_check_unread(struct sn_h5 *f, const struct sn_model *m, const char *weights,
                     const char *model_path)
{
    char names[256];
    if (!sn_weights_unread(f, m, names, sizeof names))
        return SN_OK;
    if (!model_path)
        return sn_fail(SN_EINVAL, "%s: no layer of the model text the file holds reads %s: "
                       "its arrays and its model text differ (was the text edited?)", weights,
                       names);
    if (sn_dist_rank() == 0)
        cli_eprintf("scratchnet: warning: no layer of --model %s reads %s of %s: left out\n",
                    cli_line(model_path), names, cli_line(weights));
    return SN_OK;
}

int cli_load_weights(const char *weights, const char *model_path, int max_batch,
                     struct sn_netcfg *net, struct sn_model **m, char **cfg_text)
{
    char *text = NULL;
    int rc = model_path ? sn_modelfile_read(model_path, &text) : sn_weights_read_cfg(weights, &text);
    const char *name = model_path ? model_path : weights;
    if (!rc)
        rc = sn_modelfile_parse(text, name, net, m);
    /* sizes and the file's shapes first: nothing big is allocated for a
     * model over the budget or for weights of another model */
    if (!rc)
        rc = sn_model_check_budget(*m, max_batch, 0, name);
    struct sn_h5 *f = NULL;
    if (!rc)
        rc = sn_weights_open(weights, &f);
    if (!rc)
        rc = sn_weights_check(f, *m, true);
    if (!rc)
        rc = cli_check_unread(f, *m, weights, model_path);
    struct sn_rng r;
    sn_rng_seed(&r, 0, 0);
    if (!rc)
        rc = sn_model_build(*m, max_batch, &r);
    if (!rc)
        rc = sn_weights_read(f, *m, true, NULL);
    if (!rc)
        rc = sn_weights_check_meta(f, weights, *m, net);
    bool average = false;   /* a checkpoint's: what its run evaluated */
    if (!rc)   /* the checkpoint's own run says (a --model without ema may be given) */
        rc = sn_weights_read_average(f, *m, net->optim.ema > 0.0f ? net->optim.ema_every : 0,
                                     &average);
    sn_h5_close(f);
    if (!rc && average && sn_dist_rank() == 0)
        cli_eprintf("scratchnet: note: %s is a checkpoint: its weight average (ema) is used, as "
                    "its run evaluated and wrote --out\n", cli_line(weights));
    if (rc) {
        sn_model_destroy(*m);
        *m = NULL;
        free(text);
        return rc;
    }
    if (model_path)
        warn_other_layers(weights, model_path, text, net);
    if (cfg_text)
        *cfg_text = text;
    else
        free(text);
    return SN_OK;
}

/* Class names for the K outputs: the first K of the dataset's root
 * attribute classes (a subset of a dataset keeps every name), else the
 * numbers 0 .. K-1 (weights trained on other classes are warned of by
 * cli_warn_data_mismatch).  *names gets K
 * malloc'd strings; SN_EINVAL when a name is repeated. */
static int class_names(struct sn_dataset *ds, const char *data, int K, char ***names)
{
    size_t n = 0;
    *names = NULL;
    int rc = sn_h5_has_attr(ds->f, "/", "classes")
                 ? sn_h5_attr_get_strs(ds->f, "/", "classes", names, &n) : SN_OK;
    if (!rc)
        rc = sn_check_class_names(data, "the attribute classes", *names, n, 0, 0);
    if (!rc && n >= (size_t)K) {
        while (n > (size_t)K)
            free((*names)[--n]);
        for (size_t k = 0; k < n; k++)   /* a table row each: no line breaks */
            sn_text_clean((*names)[k], false);
        return SN_OK;
    }
    sn_h5_free_strs(*names, n);
    *names = rc ? NULL : calloc((size_t)K, sizeof **names);
    for (int k = 0; *names && k < K; k++) {
        (*names)[k] = malloc(16);
        if ((*names)[k])
            snprintf((*names)[k], 16, "%d", k);
    }
    return rc;
}

/* Which classes the macro mean leaves out (no examples in the data), by
 * number as the rows above show them: a count alone reads like a class. */
static void print_absent(const int64_t *cm, int K, int present)
{
    const int absent = K - present, shown_max = 8;
    cli_printf("(the macro mean is over the %d class%s with examples; class%s without: ", present,
               present == 1 ? "" : "es", absent == 1 ? "" : "es");
    int shown = 0;
    for (int k = 0; k < K && shown < shown_max; k++) {
        int64_t sup = 0;
        for (int i = 0; i < K; i++)
            sup += cm[(size_t)k * K + i];
        if (!sup)
            cli_printf("%s%d", shown++ ? ", " : "", k);
    }
    if (absent > shown)
        cli_printf(" and %d more", absent - shown);
    cli_printf(")\n");
}

static void print_confusion(const int64_t *cm, int K, char **names)
{
    int w = 6;   /* in columns, as a terminal shows them */
    for (int k = 0; k < K; k++)
        if (sn_text_width(names[k]) > w)
            w = sn_text_width(names[k]);
    if (w > 24)
        w = 24;
    char cell[4 * 24 + 1];
    cli_printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%*s", w + 4, "");
    for (int j = 0; j < K; j++)
        cli_printf(" %6d", j);
    cli_printf("\n");
    for (int i = 0; i < K; i++) {
        sn_text_pad(names[i], w, cell, sizeof cell);
        cli_printf("%2d %s ", i, cell);
        for (int j = 0; j < K; j++)
            cli_printf(" %6lld", (long long)cm[(size_t)i * K + j]);
        cli_printf("\n");
    }
    cli_printf("\n%-*s %9s %9s %9s %9s\n", w + 3, "class", "precision", "recall", "F1", "support");
    double sp = 0, sr = 0, sf = 0;
    int present = 0;   /* the macro mean is over the classes the data holds */
    for (int k = 0; k < K; k++) {
        int64_t tp = cm[(size_t)k * K + k], pred = 0, sup = 0;
        for (int i = 0; i < K; i++) {
            pred += cm[(size_t)i * K + k];
            sup += cm[(size_t)k * K + i];
        }
        double p = pred ? (double)tp / (double)pred : 0.0, r = sup ? (double)tp / (double)sup : 0.0;
        double f = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
        if (sup) {
            present++;
            sp += p;
            sr += r;
            sf += f;
        }
        sn_text_pad(names[k], w, cell, sizeof cell);
        cli_printf("%2d %s %9.4f %9.4f %9.4f %9lld\n", k, cell, p, r, f, (long long)sup);
    }
    const int n = present ? present : 1;
    cli_printf("%-*s %9.4f %9.4f %9.4f\n", w + 3, "macro mean", sp / n, sr / n, sf / n);
    if (present < K)
        print_absent(cm, K, present);
}

/* The confusion matrix of more classes than this is neither printed nor
 * drawn (K x K counts, and a picture nobody could read). */
#define MAX_CONFUSION_CLASSES 1000

/* A class name on the picture's axes: cut after this many columns (and
 * "..."), so that long names leave room for every column and row. */
#define CONFUSION_NAME_MAX 24

/* Pixels a column of the picture's text takes (pngcairo, 10 points),
 * wide enough for the widest Latin letters. */
#define CONFUSION_PX_PER_COL 9

/* The picture's three data files in dir: frac.dat (each cell's share of
 * its true class), counts.dat (column, row, count, label colour) and
 * names.dat (index, class name as an inert text field); the columns of
 * the longest label into *cols. */
static int write_confusion_data(const int64_t *cm, int K, char **names, const char *dir,
                                int *cols)
{
    char p[3][4300];
    const char *base[3] = { "frac.dat", "counts.dat", "names.dat" };
    FILE *f[3];
    for (int i = 0; i < 3; i++) {
        snprintf(p[i], sizeof p[i], "%s/%s", dir, base[i]);
        f[i] = fopen(p[i], "w");
    }
    for (int i = 0; f[0] && f[1] && f[2] && i < K; i++) {
        int64_t sup = 0;
        for (int j = 0; j < K; j++)
            sup += cm[(size_t)i * K + j];
        for (int j = 0; j < K; j++) {
            double v = sup ? (double)cm[(size_t)i * K + j] / (double)sup : 0.0;
            fprintf(f[0], "%s%.6f", j ? "\t" : "", v);
            fprintf(f[1], "%d\t%d\t%lld\t%d\n", j, i, (long long)cm[(size_t)i * K + j],
                    v > 0.5 ? 0xffffff : 0x000000);
        }
        fputc('\n', f[0]);
        /* the number: names cut alike stay apart */
        int c = fprintf(f[2], "%d\t%d ", i, i) / 2;
        c += cli_gnuplot_text_cut(f[2], names[i], true, CONFUSION_NAME_MAX);
        if (c > *cols)
            *cols = c;
        fputc('\n', f[2]);
    }
    int rc = SN_OK;
    for (int i = 0; i < 3; i++)
        if (!f[i] || ferror(f[i]) | (fclose(f[i]) != 0))
            rc = sn_fail(SN_EIO, "%s: cannot write the picture's data (%s)", dir,
                         sn_fs_write_why(errno));
    return rc;
}

/* Class names with characters no installed font has: drawn with '?' in
 * their place (cli_gnuplot_text), said once. */
static void warn_undrawable(int K, char **names)
{
    char whose[64];
    for (int i = 0; i < K; i++) {
        snprintf(whose, sizeof whose, "--confusion-png: class %d's name", i);
        if (cli_gnuplot_warn_undrawable(whose, names[i]))
            return;
    }
}

/* The matrix as a picture: each cell coloured by its share of the true
 * class (row), labelled with its count while the cells are large enough,
 * the class names as tic labels read from names.dat. */
static int draw_confusion(const int64_t *cm, int K, char **names, const char *png)
{
    warn_undrawable(K, names);
    char dir[4096];
    int rc = cli_tmpdir(dir, sizeof dir);
    if (rc)
        return rc;
    int cols = 0;
    rc = write_confusion_data(cm, K, names, dir, &cols);
    char *script = NULL;
    size_t len = 0;
    FILE *s = rc ? NULL : open_memstream(&script, &len);
    if (!rc && !s)
        rc = sn_fail(SN_ENOMEM, "out of memory");
    if (s) {
        int cell = K <= 30 ? 55 : K < 500 ? 3000 / K : 6;
        fprintf(s, "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\nset size ratio -1\n"
                "set xlabel 'predicted class'\nset ylabel 'true class'\n"
                "set title 'confusion matrix (colour: share of the true class)'\n"
                "set palette defined (0 '#ffffff', 1 '#08306b')\nset cbrange [0:1]\n"
                "unset key\nset tics nomirror\nset xtics rotate by 40 right\n"
                "plot 'frac.dat' matrix with image, "
                "'names.dat' using 1:(NaN):xticlabels(2), 'names.dat' using (NaN):1:yticlabels(2)%s\n",
                K - 1, K - 1,
                cell >= 30 ? ", 'counts.dat' using 1:2:3:4 with labels tc rgb variable" : "");
        if (fclose(s) != 0)
            rc = sn_fail(SN_ENOMEM, "out of memory");
        /* the labels' room: the y labels beside the matrix, the x labels
         * below it (rotated by 40 degrees, so about two thirds as high) */
        int label = CONFUSION_PX_PER_COL * cols, side = 150 + cell * K;
        if (!rc)
            rc = cli_gnuplot(script, dir, png, side + label + 150, side + label);
    }
    free(script);
    cli_tmpdir_remove(dir);
    return rc;
}

/* Between batches: a stop request (SIGTERM, SIGINT) ends the evaluation. */
static int stop_requested(void *ctx)
{
    (void)ctx;
    return sn_interrupt_check("evaluating");
}

/* The stop's line: nothing was computed that could be printed (exit 1, as
 * a stopped train run with nothing to save). */
static int stopped(int rc)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", sn_errmsg());
    return sn_fail(rc, "%s: no result, nothing written", msg);
}

/* Rank 0's report: loss, accuracy when there are classes, how test-time
 * views were combined, and the confusion matrix when one was counted. */
static void print_result(const char *split, const struct sn_eval_sums *e,
                         const struct sn_split *s, const struct sn_netcfg *net,
                         const int64_t *cm, int K, char **names)
{
    const int64_t correct = e->correct, seen = e->seen;
    cli_printf("%s: %lld example%s  loss %.4f", split, (long long)seen, cli_s(seen),
               e->loss_sum / (double)seen);
    if (s->y_int && !net->target_input)
        cli_printf("  accuracy %.2f%% (%lld/%lld)", 100.0 * (double)correct / (double)seen,
                   (long long)correct, (long long)seen);
    if (net->augment.test_flip)
        cli_printf("  (test_flip: each image and its mirror)");
    else if (net->augment.n_views == 1)
        cli_printf("  (test_views: one view)");
    else if (net->augment.n_views)
        cli_printf("  (test_views: the weighted mean of %d views)", net->augment.n_views);
    cli_printf("\n");
    if (cm)
        print_confusion(cm, K, names);
    else if (s->y_int && !net->target_input)
        cli_printf("(no confusion matrix or per-class table: they are shown for at most %d "
                   "classes)\n", MAX_CONFUSION_CLASSES);
}

struct eval_flags {
    const char *weights, *data, *split, *model, *cpng;
    long batch, threads;
};

/* The flags, checked before anything is loaded: SN_OK, CLI_HELP or an
 * error (said). */
static int eval_flags(int argc, char **argv, struct eval_flags *f)
{
    struct cli_opt opts[] = {
        CLI_STR("weights", &f->weights), CLI_STR("data", &f->data),
        CLI_STR("split", &f->split),     CLI_STR("model", &f->model),
        CLI_INT("batch", &f->batch, 1, 65536), CLI_INT("threads", &f->threads, 0, CLI_MAX_THREADS),
        CLI_STR("confusion-png", &f->cpng),
    };
    int rc = cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), NULL, 0, NULL);
    if (rc == CLI_HELP)
        return rc;
    if (!rc && (!f->weights || !f->data))
        rc = sn_fail(SN_EUSAGE, "eval needs --weights and --data (see --help)");
    if (!rc && strcmp(f->split, "test") && strcmp(f->split, "train") && strcmp(f->split, "val"))
        rc = sn_fail(SN_EUSAGE, "--split must be test, train or val, got '%s'", f->split);
    if (!rc) {
        const char *ins[] = { f->weights, f->data, f->model },
                   *iflags[] = { "--weights", "--data", "--model" };
        rc = cli_check_outputs(&f->cpng, (const char *[]){ "--confusion-png" }, 1, ins, iflags,
                               3);
    }
    if (!rc && f->cpng)   /* before the evaluation, not after it */
        rc = cli_gnuplot_check(f->cpng);
    return rc;
}

/* The confusion matrix of a split with class labels, and its class
 * names (*K 0 and nothing allocated for targets, or too many classes
 * without --confusion-png). */
static int confusion_setup(const struct eval_flags *f, const struct sn_model *m,
                           const struct sn_netcfg *net, struct sn_dataset *ds,
                           const struct sn_split *s, int *K, int64_t **cm, char ***names)
{
    const bool classes = s->y_int && !net->target_input;
    const size_t k = (size_t)sn_loss_classes(net->loss, (int)sn_model_out_len(m));
    if (f->cpng && net->target_input)
        return sn_fail(SN_EUSAGE, "--confusion-png: %s is an autoencoder (target = input): its "
                       "outputs are no classes", f->weights);
    if (f->cpng && !classes)
        return sn_fail(SN_EUSAGE, "--confusion-png needs class labels; %s /%s/y holds targets",
                       f->data, f->split);
    if (f->cpng && k > MAX_CONFUSION_CLASSES)
        return sn_fail(SN_EUSAGE, "--confusion-png draws at most %d classes; the model has %zu",
                       MAX_CONFUSION_CLASSES, k);
    if (!classes || k > MAX_CONFUSION_CLASSES)
        return SN_OK;
    *K = (int)k;
    *cm = calloc(k * k, sizeof **cm);
    int rc = class_names(ds, f->data, *K, names);
    if (!rc && (!*cm || !*names))
        rc = sn_fail(SN_ENOMEM, "out of memory");
    return rc;
}

/* What one evaluation holds; eval_free releases it. */
struct eval_run {
    struct sn_netcfg net;
    struct sn_model *m;
    struct sn_dataset *ds;
    const struct sn_split *s;
    float *x, *targets;     /* one batch of inputs and targets */
    int *labels;
    int64_t *cm;            /* K x K confusion counts, or NULL */
    char **names;           /* K class names for the matrix, or NULL */
    int K;
    int threads;            /* each rank's */
};

static void eval_free(struct eval_run *r)
{
    sn_model_destroy(r->m);
    sn_dataset_close(r->ds);
    sn_free(r->x);
    sn_free(r->targets);
    free(r->labels);
    free(r->cm);
    if (r->names)
        sn_h5_free_strs(r->names, (size_t)r->K);
}

/* The weights, the split and the buffers, the same on every rank: every
 * rank evaluates its block with the same model and weights, and hosts may
 * hold different files under one path. */
static int eval_open(const struct eval_flags *f, int argc, char **argv, struct eval_run *r)
{
    char *text = NULL;
    int rc = cli_load_weights(f->weights, f->model, (int)f->batch, &r->net, &r->m, &text);
    if (!(rc = sn_dist_agree(rc)))
        rc = cli_same_file(f->weights, "weights file");
    if (!rc)   /* the flags, and the --model text */
        rc = cli_same_everywhere(argc, argv, 2, text);
    free(text);
    if (!rc)   /* only the split evaluated must be there: a held-out file of /test alone */
        rc = cli_data_hint(sn_dataset_open_split(f->data, f->split, &r->ds), f->data);
    if (rc == SN_EINVAL && strstr(sn_errmsg(), " is missing (the file's splits: "))
        rc = sn_fail_suffix(rc, ": evaluate one of those with --split");
    if (!(rc = sn_dist_agree(rc)))   /* and the same data on every rank */
        rc = cli_same_data(r->ds, f->data);
    if (!rc)
        cli_warn_unread_splits(r->ds, f->data);
    if (!rc && !(r->s = sn_dataset_split(r->ds, f->split)))
        rc = sn_fail(SN_EINVAL, "%s: dataset /%s/x is missing", f->data, f->split);
    if (!rc)
        rc = sn_check_split(r->m, &r->net, r->ds, r->s);
    if (!rc)
        rc = sn_dataset_reserve(r->ds, (size_t)f->batch);
    if (!rc) {
        const size_t b = (size_t)f->batch;
        r->x = sn_alloc_f32(b * sn_shape_len(&r->m->in_shape));
        r->targets = sn_alloc_f32(b * sn_model_out_len(r->m));
        r->labels = malloc(b * sizeof *r->labels);
        if (!r->x || !r->targets || !r->labels)
            rc = sn_fail(SN_ENOMEM, "out of memory");
    }
    if (!rc)
        rc = confusion_setup(f, r->m, &r->net, r->ds, r->s, &r->K, &r->cm, &r->names);
    return rc;
}

/* Evaluate, print on rank 0 and draw the matrix: the exit code. */
static int eval_pass(const struct eval_flags *f, struct eval_run *r)
{
    cli_warn_data_mismatch(f->weights, f->data, r->ds, r->s, true);
    cli_warn_layout(r->s, f->data, &r->m->in_shape);
    struct sn_eval_sums e;
    const struct cli_cpu_use before = cli_cpu_use_now();
    int rc = sn_evaluate(r->m, &r->net, r->ds, r->s, (int)f->batch, r->x, r->labels, r->targets,
                         &e, r->cm, stop_requested, NULL);
    if (rc == SN_EINTR)
        rc = stopped(rc);
    if (rc == SN_ENUM)   /* agreed: the same on every rank; the weights' fault */
        rc = sn_fail_prefix(SN_EINVAL, "%s on %s: ", f->weights, f->data);
    int code = cli_agree(rc);
    if (code)
        return code;
    if (sn_dist_rank() == 0)
        print_result(f->split, &e, r->s, &r->net, r->cm, r->K, r->names);
    /* after the result, which a script takes from the first line of a
     * 2>&1 log (user 47 U3) */
    cli_warn_busy_cores(before, r->threads, true, "evaluated");
    if (f->cpng) {   /* rank 0 draws alone; a stop another rank gets is passed on */
        rc = sn_dist_rank() == 0 ? draw_confusion(r->cm, r->K, r->names, f->cpng) : SN_OK;
        cli_await_rank0();
    }
    if ((code = cli_agree(cli_nothing_written(rc))))   /* a stop says the picture is not there */
        return code;
    if (f->cpng && sn_dist_rank() == 0)
        cli_printf("wrote %s\n", cli_line(f->cpng));
    return 0;
}

int sn_cmd_eval(int argc, char **argv)
{
    struct eval_flags f = { .split = "test", .batch = 256 };
    int code, rc = eval_flags(argc, argv, &f);
    if (rc == CLI_HELP)
        return cli_usage(usage);
    if ((code = cli_agree(rc)))
        return code;
    int used;
    if ((code = cli_agree(cli_setup_threads(f.threads, &used))))
        return code;
    struct eval_run r;
    memset(&r, 0, sizeof r);
    r.threads = used;
    code = cli_agree(eval_open(&f, argc, argv, &r));
    if (!code)
        code = eval_pass(&f, &r);
    eval_free(&r);
    return code;
}
