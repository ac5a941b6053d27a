/* export: a weights file or checkpoint as an ONNX model (src/io/onnx.c).
 *
 *   scratchnet export --weights W.h5 -o MODEL.onnx [--opset N] [--batch B|dynamic]
 *                     [--softmax] [--model M.cfg]
 *
 * The ONNX model takes what predict takes: raw values (pixels 0..255 for
 * images), scaled and normalised inside the graph as the training data was.
 * A local command: one process does the work (under a launcher, rank 0:
 * src/cli/main.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/number.h"
#include "core/status.h"
#include "io/h5.h"
#include "io/metacheck.h"
#include "io/onnx.h"
#include "io/weights.h"

static const char usage[] =
    "usage: scratchnet export --weights W.h5 -o MODEL.onnx [--opset N] [--batch B|dynamic]\n"
    "                         [--softmax] [--model M.cfg]\n"
    "  --weights  a weights file or checkpoint (its model text is used unless --model)\n"
    "  -o         the ONNX file to write (replaced only when the export succeeded)\n"
    "  --opset N  ONNX operator set, 13 to 21 (default 17)\n"
    "  --batch    the input's first dimension: a number, or dynamic (default)\n"
    "  --softmax  end with the probabilities predict writes (softmax for cross_entropy,\n"
    "             sigmoid for binary_cross_entropy); without it, the raw outputs\n"
    "The model's input is raw: pixels 0..255 for images, scaled and normalised in\n"
    "the graph as the training data was. [augment] test_flip is part of the graph.\n";

/* "dynamic" -> 0, else a positive count; SN_EUSAGE. */
static int parse_batch(const char *s, int *batch)
{
    if (strcmp(s, "dynamic") == 0) {
        *batch = 0;
        return SN_OK;
    }
    long long v;
    if (sn_parse_int(s, 1, 1L << 30, &v))
        return sn_fail(SN_EUSAGE, "--batch must be a number from 1 to %ld or dynamic, got '%.40s'",
                       1L << 30, s);
    *batch = (int)v;
    return SN_OK;
}

/* The input description the weights file keeps (its names and mean/std
 * counts checked by cli_load_weights, as for every command); without one,
 * images are taken as predict takes them (pixels / 255) and other inputs
 * as they are. */
static int read_meta(const char *weights, const struct sn_model *m, struct sn_data_meta *meta,
                     bool *assumed)
{
    struct sn_h5 *f = NULL;
    int rc = sn_weights_open(weights, &f);
    if (!rc)
        rc = sn_data_meta_read(f, meta);
    sn_h5_close(f);
    if (!rc)
        rc = sn_data_meta_place(meta, &m->in_shape, weights);
    if (!rc && m->in_shape.ndim == 3)   /* an image model: the graph takes pixels */
        cli_warn_float_training(weights, meta);
    if (rc)
        return rc;
    const struct sn_shape *is = &m->in_shape;
    bool image = is->ndim == 3 && (is->d[0] == 1 || is->d[0] == 3);
    *assumed = !meta->known;
    if (!meta->known && !image)
        meta->scale = 1.0;
    return image ? sn_check_pixel_prep(weights, meta) : SN_OK;   /* it takes pixels */
}

static int run(const char *weights, const char *model, const char *out, struct sn_onnx_opts *o)
{
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    struct sn_data_meta meta;
    char *text = NULL;
    bool assumed = false;
    memset(&meta, 0, sizeof meta);
    int rc = cli_load_weights(weights, model, 1, &net, &m, &text);
    if (!rc)
        rc = read_meta(weights, m, &meta, &assumed);
    if (!rc) {
        o->meta = &meta;
        o->cfg_text = text;
        rc = sn_onnx_save(out, m, &net, o);
    }
    if (!rc) {
        char b[32] = "N";
        if (o->batch)
            snprintf(b, sizeof b, "%d", o->batch);
        cli_printf("wrote %s: opset %d, batch %s, %d layer%s%s%s\n", cli_line(out), o->opset,
                   b, m->n_layers, cli_s(m->n_layers),
                   sn_augment_is_test_flip(&net.augment) ? ", test_flip in the graph" : "",
                   o->probs ? ", output probs" : ", output the raw outputs");
        if (assumed)
            cli_printf("note: %s keeps no input scale: the graph takes %s\n", cli_line(weights),
                       meta.scale != 1.0 ? "pixels and divides by 255 (as predict does)"
                                         : "inputs as they are");
    }
    sn_model_destroy(m);
    sn_data_meta_free(&meta);
    free(text);
    return rc;
}

int sn_cmd_export(int argc, char **argv)
{
    const char *weights = NULL, *out = NULL, *model = NULL, *batch = "dynamic";
    long opset = SN_ONNX_OPSET_DEFAULT;
    bool softmax = false;
    struct cli_opt opts[] = {
        CLI_STR("weights", &weights),  CLI_STR("o", &out),
        CLI_INT("opset", &opset, SN_ONNX_OPSET_MIN, SN_ONNX_OPSET_MAX),
        CLI_STR("batch", &batch),      CLI_FLAG("softmax", &softmax),
        CLI_STR("model", &model),
    };
    struct sn_onnx_opts o = { 0 };
    int rc = cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), NULL, 0, NULL);
    if (rc == CLI_HELP)
        return cli_usage(usage);
    if (!rc && (!weights || !out))
        rc = sn_fail(SN_EUSAGE, "export needs --weights and -o (see --help)");
    if (!rc)
        rc = parse_batch(batch, &o.batch);
    if (!rc) {
        const char *ins[] = { weights, model }, *iflags[] = { "--weights", "--model" };
        cli_outputs_write_onnx();
        rc = cli_check_outputs(&out, (const char *[]){ "-o" }, 1, ins, iflags, 2);
    }
    o.opset = (int)opset;
    o.probs = softmax;
    if (!rc)
        rc = run(weights, model, out, &o);
    if (rc) {   /* a local command: its code is the job's (main.c) */
        cli_print_error(cli_nothing_written(rc));
        return cli_exit_code(rc);
    }
    return 0;
}
