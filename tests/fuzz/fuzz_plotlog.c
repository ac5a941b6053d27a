/* fuzz_plotlog: libFuzzer target for plot's reading of a train --log
 * file, through its entry point cli_plot_read_log (whatever parses the
 * lines behind it): any log is read or refused, never crashes, and what
 * is read has an epoch and a train_loss in every row. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f)
        return 0;
    struct cli_curves c;
    if (size && cli_plot_read_log(f, "fuzz.jsonl", &c) == 0) {
        if (c.n < 1)
            abort();
        for (int i = 0; i < c.n; i++)
            if (isnan(c.v[i][0]) || isnan(c.v[i][1]) || (i && !(c.v[i][0] > c.v[i - 1][0])))
                abort();
        free(c.v);
    }
    fclose(f);
    return 0;
}
