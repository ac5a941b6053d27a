/* fuzz_ckpt: libFuzzer target for checkpoint validation: any file given to
 * --resume must be loaded or refused, never crash scratchnet.  (Crashes
 * inside libhdf5 itself on hostile files would show here too.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/ckpt.h"
#include "io/modelfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cfg[] = "[net]\ninput = 6\noptimizer = adam\n[dense]\nunits = 4\n"
                          "[batchnorm]\n[dense]\nunits = 3\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sn_model *m;
    static struct sn_optim o;
    static struct sn_netcfg net;
    if (!m) {
        struct sn_rng r;
        sn_rng_seed(&r, 1, 1);
        if (sn_modelfile_parse(cfg, "f.cfg", &net, &m) || sn_model_build(m, 2, &r) ||
            sn_optim_init(&o, &net.optim, m->n_params))
            abort();
    }
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/sn_fuzz_ckpt.%ld.h5", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct sn_metrics hist[4];
    struct sn_train_state st = { .cap_metrics = 4, .history = hist };
    sn_ckpt_load(path, m, &o, &st);
    sn_ckpt_extra_free(&st.extra);
    unlink(path);
    /* scratchnet must close every HDF5 object it opened, whatever happened */
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0)
        abort();
    return 0;
}
