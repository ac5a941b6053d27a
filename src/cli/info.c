/* info: a summary of a model file or of the model stored in a weights file:
 * the [net] settings, then per layer its name, kind, output shape and
 * parameter count. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/status.h"
#include "dist/dist.h"
#include "io/ckpt.h"
#include "io/modelfile.h"
#include "io/weights.h"

static const char usage[] = "usage: scratchnet info --model M.cfg | --weights W.h5\n";

int sn_cmd_info(int argc, char **argv)
{
    const char *model = NULL, *weights = NULL;
    struct cli_opt opts[] = {
        { "model", OPT_STR, &model, 0 },
        { "weights", OPT_STR, &weights, 0 },
    };
    if (cli_wants_help(argc, argv)) {
        if (sn_dist_rank() == 0)
            fputs(usage, stdout);
        return 0;
    }
    int code, rc = cli_parse(argc, argv, 2, opts, 2, NULL, 0, NULL);
    if (!rc && !model == !weights)
        rc = sn_fail(SN_EUSAGE, "info needs exactly one of --model and --weights");
    char *text = NULL;
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    if (!rc)
        rc = model ? sn_modelfile_read(model, &text) : sn_weights_read_cfg(weights, &text);
    if (!rc)
        rc = sn_modelfile_parse(text, model ? model : weights, &net, &m);
    if ((code = cli_agree(rc)))
        goto out;
    if (sn_dist_rank() == 0) {
        char buf[64];
        printf("model %s%s\n", model ? model : weights,
               weights && sn_ckpt_is_checkpoint(weights) ? " (checkpoint)" : "");
        printf("input %s  batch %d  epochs %d  loss %s  optimizer %s  lr %g  seed %llu\n\n",
               sn_shape_str(&net.input, buf, sizeof buf), net.batch, net.epochs,
               sn_loss_name(net.loss), sn_optim_name(net.optim.kind), net.sched.lr,
               (unsigned long long)net.seed);
        printf("%-4s %-20s %-12s %-16s %12s\n", "#", "name", "kind", "output", "params");
        printf("%-4s %-20s %-12s %-16s %12s\n", "-", "(input)", "", 
               sn_shape_str(&m->in_shape, buf, sizeof buf), "");
        size_t total = 0;
        for (int i = 0; i < m->n_layers; i++) {
            const struct sn_layer *l = m->layers[i];
            size_t n = 0;
            for (int p = 0; p < l->n_params; p++)
                n += l->params[p].len;
            total += n;
            printf("%-4d %-20s %-12s %-16s %12zu%s\n", i, l->name, l->ops->kind,
                   sn_shape_str(&l->out_shape, buf, sizeof buf), n, l->freeze ? "  (frozen)" : "");
        }
        printf("\ntotal parameters: %zu (%.2f MB as float32)\n", total, (double)total * 4 / 1e6);
    }
    code = 0;
out:
    sn_model_destroy(m);
    free(text);
    return code;
}
