/* The arrays a checkpoint carries beside the model's (sn_ckpt_extra): their
 * release, in a file of its own without HDF5, so that code which builds
 * them without writing files (the reducer, inside the SimGrid replay of
 * bench/sim) links without the HDF5 writer. */
#include <stdlib.h>
#include <string.h>

#include "io/ckpt.h"

void sn_ckpt_extra_free(struct sn_ckpt_extra *e)
{
    for (int i = 0; i < e->n; i++) {
        free(e->a[i].data);
        free(e->a[i].counts);
    }
    memset(e, 0, sizeof *e);
}
