/* clock: the project's one clock (see clock.h). */
#include "core/clock.h"

#include <time.h>

double sn_clock_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
