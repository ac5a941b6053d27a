/* words: phrases the commands print in more than one place, so they say
 * the same thing each time: where training stands (see cli.h). */
#include <stdio.h>

#include "cli/cli.h"

void cli_position(char *buf, size_t len, int64_t epoch, int64_t step_in_epoch,
                  int64_t global_step)
{
    if (step_in_epoch == 0 && epoch == 0)
        snprintf(buf, len, "at the start (step %lld)", (long long)global_step);
    else if (step_in_epoch == 0)
        snprintf(buf, len, "after epoch %lld (step %lld)", (long long)epoch,
                 (long long)global_step);
    else
        snprintf(buf, len, "in epoch %lld, %lld step%s into it (step %lld)",
                 (long long)epoch + 1, (long long)step_in_epoch, cli_s(step_in_epoch),
                 (long long)global_step);
}
