/* eval: loss and accuracy of a weights file or checkpoint on a dataset
 * split, spread over the ranks (each evaluates one block of rows; the sums
 * are reduced, so the figures do not depend on the rank count). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/loss.h"
#include "core/status.h"
#include "dist/dist.h"
#include "io/h5.h"
#include "io/modelfile.h"
#include "io/weights.h"

static const char usage[] =
    "usage: scratchnet eval --weights W.h5 --data D.h5 [--split test|train|val] [--model M.cfg]\n"
    "  --weights W.h5   a weights file or a checkpoint\n"
    "  --model M.cfg    use this model file instead of the one stored in W.h5\n"
    "  --batch N        rows per forward pass on each rank (default 256)\n"
    "  --threads T      threads per rank\n";

int cli_load_weights(const char *weights, const char *model_path, int max_batch,
                     struct sn_netcfg *net, struct sn_model **m, char **cfg_text)
{
    char *text = NULL;
    int rc = model_path ? sn_modelfile_read(model_path, &text) : sn_weights_read_cfg(weights, &text);
    if (!rc)
        rc = sn_modelfile_parse(text, model_path ? model_path : weights, net, m);
    struct sn_rng r;
    sn_rng_seed(&r, 0, 0);
    if (!rc)
        rc = sn_model_build(*m, max_batch, &r);
    struct sn_h5 *f = NULL;
    if (!rc)
        rc = sn_weights_open(weights, &f);
    if (!rc)
        rc = sn_weights_read(f, *m, true, NULL);
    sn_h5_close(f);
    if (rc) {
        sn_model_destroy(*m);
        *m = NULL;
        free(text);
        return rc;
    }
    if (cfg_text)
        *cfg_text = text;
    else
        free(text);
    return SN_OK;
}

int sn_cmd_eval(int argc, char **argv)
{
    const char *weights = NULL, *data = NULL, *split = "test", *model = NULL;
    long batch = 256, threads = 0;
    struct cli_opt opts[] = {
        { "weights", OPT_STR, &weights, 0 }, { "data", OPT_STR, &data, 0 },
        { "split", OPT_STR, &split, 0 },     { "model", OPT_STR, &model, 0 },
        { "batch", OPT_INT, &batch, 0 },     { "threads", OPT_INT, &threads, 0 },
    };
    if (cli_wants_help(argc, argv)) {
        if (sn_dist_rank() == 0)
            fputs(usage, stdout);
        return 0;
    }
    int code, rc = cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), NULL, 0, NULL);
    if (!rc && (!weights || !data))
        rc = sn_fail(SN_EUSAGE, "eval needs --weights and --data (see --help)");
    if (!rc && (batch < 1 || batch > 65536))
        rc = sn_fail(SN_EUSAGE, "--batch must be in [1, 65536]");
    if (!rc && strcmp(split, "test") && strcmp(split, "train") && strcmp(split, "val"))
        rc = sn_fail(SN_EUSAGE, "--split must be test, train or val, got '%s'", split);
    if (!rc)
        rc = cli_check_world();
    if ((code = cli_agree(rc)))
        return code;
    cli_setup_threads(threads);

    struct sn_netcfg net;
    struct sn_model *m = NULL;
    struct sn_dataset *ds = NULL;
    const struct sn_split *s = NULL;
    float *x = NULL, *targets = NULL;
    int *labels = NULL;
    rc = cli_load_weights(weights, model, (int)batch, &net, &m, NULL);
    if (!rc)
        rc = sn_dataset_open(data, &ds);
    if (!rc && !(s = sn_dataset_split(ds, split)))
        rc = sn_fail(SN_EINVAL, "%s: dataset /%s/x is missing", data, split);
    if (!rc)
        rc = cli_check_data(m, &net, ds, s);
    if (!rc)
        rc = sn_dataset_reserve(ds, (size_t)batch);
    if (!rc) {
        x = sn_alloc_f32((size_t)batch * sn_shape_len(&m->in_shape));
        targets = sn_alloc_f32((size_t)batch * sn_model_out_len(m));
        labels = malloc((size_t)batch * sizeof *labels);
        if (!x || !targets || !labels)
            rc = sn_fail(SN_ENOMEM, "out of memory");
    }
    if ((code = cli_agree(rc)))
        goto out;
    double loss_sum;
    int64_t correct, seen;
    rc = cli_evaluate(m, &net, ds, s, (int)batch, x, labels, targets, &loss_sum, &correct,
                      &seen);
    if ((code = cli_agree(rc)))
        goto out;
    if (sn_dist_rank() == 0) {
        printf("%s: %lld examples  loss %.4f", split, (long long)seen, loss_sum / (double)seen);
        if (s->y_int && !net.target_input)
            printf("  accuracy %.2f%% (%lld/%lld)", 100.0 * (double)correct / (double)seen,
                   (long long)correct, (long long)seen);
        printf("\n");
    }
    code = 0;
out:
    sn_model_destroy(m);
    sn_dataset_close(ds);
    sn_free(x);
    sn_free(targets);
    free(labels);
    return code;
}
