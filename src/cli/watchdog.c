/* watchdog: a progress timer on its own thread (see watchdog.h).  The
 * thread makes no MPI call (the MPI library is FUNNELED to the main
 * thread); it writes one line with write(2) and calls _exit(1). */
#include "cli/watchdog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/status.h"

static atomic_llong last_ns;
static atomic_llong last_step;
static atomic_int running;
static double limit_s;
static int my_rank;
static pthread_t thread;

static long long now_ns(void)
{
    return (long long)(sn_clock_s() * 1e9);
}

static void *watch(void *arg)
{
    (void)arg;
    while (atomic_load(&running)) {
        sleep(1);
        double idle = (double)(now_ns() - atomic_load(&last_ns)) * 1e-9;
        if (atomic_load(&running) && idle > limit_s) {
            char msg[256];
            int n = snprintf(msg, sizeof msg,
                             "scratchnet: error: rank %d: no progress for %.0f s after step %lld "
                             "(another rank stopped responding?); ending the job\n",
                             my_rank, idle, (long long)atomic_load(&last_step));
            if (n > 0 && write(2, msg, (size_t)n) < 0)
                n = 0;
            _exit(1);
        }
    }
    return NULL;
}

int watchdog_start(double timeout_s, int rank)
{
    if (timeout_s <= 0)
        return SN_OK;
    limit_s = timeout_s;
    my_rank = rank;
    atomic_store(&last_ns, now_ns());
    atomic_store(&running, 1);
    if (pthread_create(&thread, NULL, watch, NULL) != 0) {
        atomic_store(&running, 0);
        return sn_fail(SN_EIO, "cannot start the watchdog thread");
    }
    return SN_OK;
}

void watchdog_progress(int64_t step)
{
    atomic_store(&last_ns, now_ns());
    if (step >= 0)
        atomic_store(&last_step, step);
}

void watchdog_stop(void)
{
    if (atomic_exchange(&running, 0))
        pthread_join(thread, NULL);
}
