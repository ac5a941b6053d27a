/* info: a summary of a model file or of the model stored in a weights file,
 * in the spirit of Keras's model.summary(): the [net] settings, then per
 * layer its name, kind, output shape, parameters, forward FLOPs and
 * activation memory per example; totals; and an estimate of the memory a
 * rank needs at the configured batch (--ranks P splits it).  --data: what
 * a dataset holds, as the readers take it (splits, preparation, class
 * names as text, source). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/interrupt.h"
#include "core/number.h"
#include "core/optim.h"
#include "core/parallel.h"
#include "core/status.h"
#include "core/text.h"
#include "dist/dist.h"
#include "io/ckpt.h"
#include "io/dataset.h"
#include "io/h5.h"
#include "io/metacheck.h"
#include "io/modelfile.h"
#include "io/record.h"
#include "io/weights.h"

static const char usage[] =
    "usage: scratchnet info --model M.cfg | --weights W.h5 [--ranks P] [--threads T] [--batch B]\n"
    "       scratchnet info --data D.h5\n"
    "  --ranks P     estimate memory per rank for P ranks (default 1)\n"
    "  --batch B     the global batch to estimate at (default: the model file's)\n"
    "  --threads T   threads per rank, for the layers' workspace (default, or 0:\n"
    "                OMP_NUM_THREADS, else this machine's cores / P, as train picks)\n"
    "  --data D.h5   the dataset's splits, preparation, class names and source\n";

/* "1.23 M" style numbers. */
static const char *human(double v, char *buf, size_t n)
{
    const char *unit[] = { "", " k", " M", " G", " T" };
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, n, u ? "%.2f%s" : "%.0f%s", v, unit[u]);
    return buf;
}

/* ", mean M, std S" for one value, ", mean and std N values each (first
 * M, S), a value per feature" (or channel), "" for none. */
static void norm_text(int n, const double *mean, const double *std, size_t block, char *buf,
                      size_t len)
{
    buf[0] = '\0';
    if (n == 1)
        snprintf(buf, len, ", mean %g, std %g", mean[0], std[0]);
    else if (n > 1 && block == 1)
        snprintf(buf, len, ", mean and std %d values each (first %g, %g), a value per feature",
                 n, mean[0], std[0]);
    else if (n > 1 && block > 1)
        snprintf(buf, len, ", mean and std %d values each (first %g, %g), a value per channel "
                 "of %zu inputs", n, mean[0], std[0], block);
    else if (n > 1)
        snprintf(buf, len, ", mean and std %d values each (first %g, %g)", n, mean[0], std[0]);
}

/* The class names the weights predict, as text, one a line; data of float
 * targets (floats true) has no classes to name (user 48 U3). */
static void print_classes(char *const *names, size_t n, bool floats)
{
    if (n == 0 && floats)
        cli_printf("classes: none (float targets)\n");
    else if (n == 0)
        cli_printf("classes: none named (they are numbers)\n");
    else
        cli_printf("classes: %zu\n", n);
    for (size_t k = 0; k < n; k++)
        cli_printf("  %zu %s\n", k, cli_line(names[k]));
}

/* What the weights keep of their training data: how inputs are prepared,
 * and the class names; what eval, predict and export refuse of it, said. */
static void print_meta(const char *weights, const struct sn_model *m,
                       const struct sn_netcfg *net)
{
    struct sn_h5 *f;
    struct sn_data_meta meta;
    if (sn_weights_open(weights, &f))
        return;
    int rc = sn_data_meta_read(f, &meta);
    const int bad = rc ? SN_OK : sn_weights_check_meta(f, weights, m, net);
    sn_h5_close(f);
    if (rc) {   /* eval, predict and export refuse the file for it */
        cli_printf("\ninput preparation: unreadable: %s\n", sn_errmsg());
        return;
    }
    if (bad)
        cli_printf("\nrefused by eval, predict and export: %s\n", sn_errmsg());
    char norm[160];
    norm_text(meta.n_norm, meta.mean, meta.std, meta.norm_block, norm, sizeof norm);
    cli_printf("\ninputs: scale %g%s%s\n", meta.scale, norm,
               meta.known ? "" : " (none kept: predict takes images as pixels / 255)");
    print_classes(meta.classes, meta.n_classes, false);
    sn_data_meta_free(&meta);
}

/* A checkpoint's step, and which of its weights eval, predict and export
 * use: the weight average when its run keeps one, as cli_load_weights. */
static void print_checkpoint(const char *weights, const struct sn_model *m,
                             const struct sn_netcfg *net)
{
    int64_t step = 0;
    struct sn_h5 *f;
    bool average = false;
    if (!sn_ckpt_is_checkpoint(weights) || sn_ckpt_read_step(weights, &step) ||
        sn_weights_open(weights, &f))
        return;
    int rc = sn_weights_has_average(f, m, net->optim.ema > 0.0f ? net->optim.ema_every : 0,
                                    &average);
    sn_h5_close(f);
    if (!rc)
        cli_printf("\ncheckpoint at step %lld: eval, predict and export use its %s\n",
                   (long long)step, average ? "weight average (ema), as its run evaluated"
                                            : "weights (no weight average kept)");
}

/* The run record of a weights file or checkpoint: what it was trained on
 * and how (io/record.h). */
static void print_record(const char *weights)
{
    struct sn_h5 *f;
    struct sn_run_record r;
    if (sn_weights_open(weights, &f))
        return;
    int rc = sn_record_read(f, &r);
    sn_h5_close(f);
    if (rc) {   /* eval, predict and export refuse the file for it: said, not hidden */
        cli_printf("\nrun record: unreadable: %s\n", sn_errmsg());
        return;
    }
    if (r.n == 0) {
        cli_printf("\nrun record: none (written without one)\n");
        return;
    }
    cli_printf("\nrun record (what it was trained on and how; a resume compares these):\n");
    for (int i = 0; i < r.n; i++) {
        sn_text_clean(r.kv[i].key, false);   /* one line each, whatever the file holds */
        sn_text_clean(r.kv[i].value, false);
        cli_printf("  %-11s %s\n", r.kv[i].key, r.kv[i].value);
    }
}

/* The memory of one rank at the configured batch, computed from the
 * layers without allocating them (sn_model_size), against the limit that
 * train, eval and predict hold models to. */
static void print_memory(const struct sn_model *m, const struct sn_netcfg *net, long ranks)
{
    int b = net->batch / (int)ranks > 0 ? net->batch / (int)ranks : 1;
    int states = sn_optim_count_states(&net->optim);
    struct sn_model_size z;
    size_t limit;
    if (sn_model_size(m, b, states, &z) || sn_model_max_bytes(&limit)) {
        cli_printf("memory per rank at batch %d: %s\n", net->batch, sn_errmsg());
        return;
    }
    cli_printf("memory per rank at batch %d / %ld rank%s = %d: about %s MB (parameters, "
               "gradients and %d optimizer state%s %s MB; layer outputs, output gradients, the "
               "input batch and what layers keep for backward %s MB, per example %s MB of "
               "outputs and %s MB kept; the layers' workspace %s MB at %d thread%s)\n",
               net->batch, ranks, ranks == 1 ? "" : "s", b, sn_mb((double)z.total_bytes).s,
               states, states == 1 ? "" : "s", sn_mb((double)z.state_bytes).s,
               sn_mb((double)z.batch_act_bytes).s, sn_mb((double)z.act_bytes).s,
               sn_mb((double)z.kept_len * sizeof(float)).s, sn_mb((double)z.ws_bytes).s,
               sn_parallel_threads(), sn_parallel_threads() == 1 ? "" : "s");
    if (net->batch % ranks != 0)   /* train refuses such a run: say so here, where it is planned */
        cli_printf("note: the global batch %d is %s %ld ranks, which train refuses (--batch, or "
                   "another rank count%s)\n", net->batch,
                   net->batch < ranks ? "smaller than" : "not divisible by", ranks,
                   net->batch < ranks ? "; the figures above are for 1 example a rank" : "");
    if (z.total_bytes > limit)
        cli_printf("over the limit of %s MB (SN_MODEL_MAX_BYTES=%zu): train, eval, predict and "
                   "export refuse this model unless SN_MODEL_MAX_BYTES allows it\n",
                   sn_mb((double)limit).s, limit);
}

/* The table's running sums. */
struct info_sums {
    size_t total, bufs, acts, frozen;   /* parameters, buffer values, activation bytes */
    double flops;
};

/* Layer i's row of the table, added to t. */
static void print_layer(const struct sn_model *m, int i, struct info_sums *t)
{
    const struct sn_layer *l = m->layers[i];
    size_t n = 0;
    char mark[96] = "";   /* "  (frozen)", or the parameters that are: "  (weight frozen)" */
    for (int p = 0; p < l->n_params; p++) {
        const struct sn_param *q = &l->params[p];
        if (q->buffer) {
            t->bufs += q->len;
            continue;
        }
        n += q->len;
        if (!q->trainable || l->freeze) {
            t->frozen += q->len;
            size_t k = strlen(mark);
            snprintf(mark + k, sizeof mark - k, "%s%s", k ? ", " : "  (", q->name);
        }
    }
    if (l->freeze)
        snprintf(mark, sizeof mark, "  (frozen)");
    else if (mark[0])
        snprintf(mark + strlen(mark), sizeof mark - strlen(mark), " frozen)");
    t->total += n;
    double f = sn_layer_flops(l);
    size_t a = sn_shape_len(&l->out_shape) * sizeof(float);
    t->flops += f;
    t->acts += a;
    char buf[64], fb[32], ab[32], ins[96] = "";
    if (l->n_in > 1 || l->in[0] != i - 1) {
        size_t used = (size_t)snprintf(ins, sizeof ins, "  <- ");
        for (int j = 0; j < l->n_in && used < sizeof ins; j++)
            used += (size_t)snprintf(ins + used, sizeof ins - used, "%s%s", j ? ", " : "",
                                     l->in[j] < 0 ? "input" : m->layers[l->in[j]]->name);
    }
    cli_printf("%-4d %-18s %-11s %-14s %10zu %11s %11s%s%s\n", i, l->name, l->ops->kind,
               sn_shape_str(&l->out_shape, buf, sizeof buf), n, human(f, fb, sizeof fb),
               human((double)a, ab, sizeof ab), mark, ins);
}

/* Rank 0: the model's line, its layer table and the totals. */
static void print_table(const char *model, const char *weights, const struct sn_netcfg *net,
                        const struct sn_model *m)
{
    char buf[64];
    cli_printf("model %s%s\n", cli_line(model ? model : weights),
               weights && sn_ckpt_is_checkpoint(weights) ? " (checkpoint)" : "");
    cli_printf("input %s  batch %d  epochs %d  loss %s  optimizer %s  lr %g  seed %llu%s\n\n",
               sn_shape_str(&net->input, buf, sizeof buf), net->batch, net->epochs,
               sn_loss_name(net->loss), sn_optim_name(net->optim.kind), net->sched.lr,
               (unsigned long long)net->seed, weights ? "  (its model file's [net]; what the "
               "run used, flags included, is its run record below)" : "");
    cli_printf("%-4s %-18s %-11s %-14s %10s %11s %11s\n", "#", "name", "kind", "output",
               "params", "FLOPs/ex", "act. bytes");
    cli_printf("%-4s %-18s %-11s %-14s\n", "-", "(input)", "",
               sn_shape_str(&m->in_shape, buf, sizeof buf));
    struct info_sums t = { 0 };
    for (int i = 0; i < m->n_layers; i++)
        print_layer(m, i, &t);
    char fb[32], tb[32];
    if (t.frozen)
        cli_printf("\nparameters: %zu, %zu learnt and %zu frozen (%.2f MB as float32), %zu "
                   "buffer values\n", t.total, t.total - t.frozen, t.frozen,
                   (double)t.total * 4 / 1e6, t.bufs);
    else
        cli_printf("\nparameters: %zu learnt (%.2f MB as float32), %zu buffer values\n",
                   t.total, (double)t.total * 4 / 1e6, t.bufs);
    cli_printf("forward: %s FLOPs per example; a training step (forward + backward) is about "
               "3x: %s FLOPs per example\n", human(t.flops, fb, sizeof fb),
               human(3 * t.flops, tb, sizeof tb));
}

/* One split as the readers take it: rows, sample shape and type, labels
 * or targets, and how its inputs are prepared. */
static void print_split(const struct sn_split *s)
{
    char shape[64], prep[160];
    sn_shape_str(&s->shape, shape, sizeof shape);
    const double m0 = s->n_norm ? s->mean[0] : 0, s0 = s->n_norm ? s->std[0] : 1;
    norm_text(s->n_norm, &m0, &s0, 0, prep, sizeof prep);
    cli_printf("  /%-5s %zu rows of %s %s, %s, scale %g%s\n", s->name, s->n, shape,
               s->x_u8 ? "uint8" : "float", !s->has_y ? "no y" : s->y_int ? "int labels"
               : s->y_k == 1 ? "1 float target" : "float targets", s->scale, prep);
}

/* The dataset at path as train opens it, else as eval opens a held-out
 * file of /test or /val alone. */
static int open_data(const char *path, struct sn_dataset **ds)
{
    int rc = sn_dataset_open(path, ds);
    if (rc != SN_EINVAL || !strstr(sn_errmsg(), "/train/x is missing"))
        return cli_data_hint(rc, path);
    char first[1200];   /* what the file lacks for train: said when it is no held-out file */
    snprintf(first, sizeof first, "%s", sn_errmsg());
    rc = sn_dataset_open_split(path, "test", ds);
    if (rc == SN_EINVAL && strstr(sn_errmsg(), "/test/x is missing"))
        rc = sn_dataset_open_split(path, "val", ds);
    if (rc == SN_EINVAL && strstr(sn_errmsg(), "/val/x is missing"))
        rc = sn_fail(rc, "%s", first);
    return rc;
}

/* What a dataset holds, checked as train and eval check it. */
static int print_data(const char *path)
{
    struct sn_dataset *ds = NULL;
    char **names = NULL, *source = NULL;
    size_t n_names = 0;
    int rc = open_data(path, &ds);
    const bool inputs_only = rc == SN_EINVAL && strstr(sn_errmsg(), "/y is missing");
    if (inputs_only)   /* a file to predict from: shown, and said to be no training data */
        rc = sn_dataset_open_inputs(path, &ds);
    if (!rc)   /* what train would refuse: splits prepared unlike /train */
        rc = cli_check_splits(ds, false);
    if (!rc)
        rc = cli_check_dataset_classes(ds, path, 0, 0, &n_names);
    if (!rc)   /* a stop during the reads: one line, no table */
        rc = sn_interrupt_check("reading the dataset");
    if (!rc)
        cli_warn_unread_splits(ds, path);
    if (!rc && n_names)
        rc = sn_h5_attr_get_strs(ds->f, "/", "classes", &names, &n_names);
    char why[320] = "";   /* a source that is not text is no reason to refuse the data */
    if (!rc && sn_h5_has_attr(ds->f, "/", "source") &&
        sn_h5_attr_get_str(ds->f, "/", "source", &source) != SN_OK) {
        snprintf(why, sizeof why, "%s", sn_errmsg());
        source = NULL;
    }
    if (!rc)
        rc = sn_interrupt_check("reading the dataset");
    if (!rc && sn_dist_rank() == 0) {
        cli_printf("dataset %s\n", cli_line(path));
        const struct sn_split *sp[] = { &ds->train, &ds->val, &ds->test };
        for (int i = 0; i < 3; i++)
            if (sp[i]->present)
                print_split(sp[i]);
        const struct sn_split *first = ds->train.present ? &ds->train
                                       : ds->test.present ? &ds->test : &ds->val;
        print_classes(names, n_names, first->present && !first->y_int && !inputs_only);
        if (inputs_only)
            cli_printf("note: a split without y: predict reads the file; train and eval need "
                       "/SPLIT/y\n");
        else if (!sn_dataset_split(ds, "train"))
            cli_printf("note: no /train: a held-out file, for eval --split %s and predict; "
                       "train needs /train\n", sn_dataset_split(ds, "test") ? "test" : "val");
        if (source)
            cli_printf("source: %s\n", cli_line(source));
        else if (why[0])
            cli_printf("source: unreadable (%s)\n", cli_line(why));
    }
    sn_h5_free_strs(names, n_names);
    free(source);
    sn_dataset_close(ds);
    return rc;
}

/* The weights' arrays against their model text, as every loader checks
 * them (names, shapes, types; not the values): a file whose model text
 * was edited was summarised, exit 0, and refused by every other command
 * (hostile round 69 F4). */
static int check_arrays(const char *weights, const struct sn_model *m)
{
    struct sn_h5 *f = NULL;
    int rc = sn_weights_open(weights, &f);
    if (!rc)
        rc = sn_weights_check(f, m, true);
    if (!rc)
        rc = cli_check_unread(f, m, weights, NULL);
    sn_h5_close(f);
    return rc;
}

int sn_cmd_info(int argc, char **argv)
{
    const char *model = NULL, *weights = NULL, *data = NULL;
    long ranks = 1, threads = 0, batch = 0;
    struct cli_opt opts[] = {
        CLI_STR("model", &model),
        CLI_STR("weights", &weights),
        CLI_INT("ranks", &ranks, 1, 1 << 24),
        CLI_INT("threads", &threads, 0, CLI_MAX_THREADS),
        CLI_STR("data", &data),
        CLI_INT("batch", &batch, 1, 1 << 24),
    };
    int code, rc = cli_parse(argc, argv, 2, opts, 6, NULL, 0, NULL);
    if (rc == CLI_HELP)
        return cli_usage(usage);
    if (!rc && (!model + !weights + !data) != 2)
        rc = sn_fail(SN_EUSAGE, "info needs exactly one of --model, --weights and --data");
    if (!rc && data && (cli_seen(opts, 6, "ranks") || cli_seen(opts, 6, "threads") || batch))
        rc = sn_fail(SN_EUSAGE, "info --data takes no --ranks, --threads or --batch: they "
                     "size a model");
    if (!rc && data)
        return cli_agree(print_data(data));
    char *text = NULL;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    if (!rc)
        rc = model ? sn_modelfile_read(model, &text) : sn_weights_read_cfg(weights, &text);
    if (!rc)
        rc = sn_modelfile_parse(text, model ? model : weights, &net, &m);
    if (!rc && weights)
        rc = check_arrays(weights, m);
    size_t limit;
    int env_threads;
    if (!rc)   /* refused as train refuses it, before the table */
        rc = sn_model_max_bytes(&limit);
    if (!rc && !threads)
        rc = cli_env_threads(&env_threads);
    if (!(code = cli_agree(rc)) && sn_dist_rank() == 0) {
        if (model)
            cli_warn_input_order(&m->in_shape, model);
        print_table(model, weights, &net, m);
        /* the workspace grows with the threads: a rank's, as train picks them
         * (--threads, else OMP_NUM_THREADS, which OpenMP has read, else the
         * cores shared by the ranks) */
        const long per_rank = sn_parallel_cores() / ranks;
        sn_parallel_set_loop_threads(threads ? (int)threads : getenv("OMP_NUM_THREADS")
                                     ? sn_parallel_threads() : per_rank > 1 ? (int)per_rank : 1);
        if (batch)   /* as train --batch sets it */
            net.batch = (int)batch;
        print_memory(m, &net, ranks);
        if (weights) {
            print_meta(weights, m, &net);
            print_checkpoint(weights, m, &net);
            print_record(weights);
        }
    }
    sn_model_destroy(m);
    free(text);
    return code;
}
