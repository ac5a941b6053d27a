/* fuzz_modelfile: libFuzzer target for the model-file parser and model
 * construction (make fuzz).  Any input must give SN_OK or an error, never
 * a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "io/modelfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct sn_netcfg net;
    struct sn_model *m = NULL;
    if (sn_modelfile_parse(text, "fuzz.cfg", &net, &m) == 0) {
        /* build only small models: the fuzzer may ask for huge ones */
        size_t total = 0;
        for (int i = 0; i < m->n_layers; i++)
            for (int p = 0; p < m->layers[i]->n_params; p++)
                total += m->layers[i]->params[p].len;
        if (total < (1u << 20) && sn_shape_len(&m->in_shape) < (1u << 16)) {
            struct sn_rng r;
            sn_rng_seed(&r, 1, 1);
            sn_model_build(m, 2, &r);
        }
        sn_model_destroy(m);
    }
    free(text);
    return 0;
}
