/* watchdog: a progress timer on its own thread (see watchdog.h).  The
 * thread makes no MPI call (the MPI library is FUNNELED to the main
 * thread) and takes no lock: it reads dist's flight recorder (atomics),
 * writes one line with write(2) and kills its own process with SIGKILL.
 * A signal, not an exit status: MPICH's mpiexec (hydra) ends the ranks of
 * other hosts only when a rank dies of a signal; after exit(1) it waits
 * for them, and a frozen rank elsewhere kept the job alive forever
 * (docs/CLUSTER.md). */
#include "cli/watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/status.h"
#include "core/text.h"
#include "dist/dist.h"

static atomic_llong last_ns;
static atomic_llong last_step;
static atomic_int running;
static double limit_s;
static int my_rank;
static bool resumable;
static atomic_int checkpointed;
static char my_host[SN_HOST_BYTES];
static pthread_t thread;
/* watchdog_stop writes a byte to wake[1]: the thread, waiting up to a
 * second on wake[0], ends at once instead of holding every run's exit for
 * the rest of its second. */
static int wake[2] = { -1, -1 };

static long long now_ns(void)
{
    return (long long)(sn_clock_s() * 1e9);
}

/* Where this rank waits, from dist's flight recorder (lock-free reads). */
static int where(char *buf, size_t len)
{
    struct sn_dist_flight f;
    sn_dist_flight_read(&f);
    char step[48] = "", bucket[24] = "";
    if (f.step > 0)
        snprintf(step, sizeof step, ", step %lld", (long long)f.step);
    if (f.bucket >= 0)
        snprintf(bucket, sizeof bucket, ", bucket %d", f.bucket);
    if (!f.inside)
        return snprintf(buf, len, "in no collective (its last, #%llu, %s, returned%s)",
                        (unsigned long long)f.seq, sn_dist_op_name(f.op), step);
    return snprintf(buf, len, "waiting in %s (collective #%llu of this rank%s%s)",
                    sn_dist_op_name(f.op), (unsigned long long)f.seq, step, bucket);
}

/* Whose fault, for the line: a rank frozen itself (SIGSTOP, a host that
 * froze it) speaks too when the launcher wakes it to end the job, and may
 * be a collective ahead of the others (its last one entered, theirs not):
 * its own clock jumped past the watchdog's one-second waits. */
static void whose(double stopped_s, char *buf, size_t len)
{
    if (stopped_s > 0)
        snprintf(buf, len, "this rank itself was not running for %.0f s, stopped or frozen by "
                 "its host: it is the one stuck", stopped_s);
    else
        snprintf(buf, len, "another rank stopped responding?");
}

static void *watch(void *arg)
{
    (void)arg;
    struct pollfd woken = { .fd = wake[0], .events = POLLIN };
    double stopped_s = 0;   /* the last jump of this rank's clock, since its progress */
    long long stopped_at = 0, paused_ns = 0, since = atomic_load(&last_ns);
    while (atomic_load(&running)) {
        const long long before = now_ns();
        if (poll(&woken, 1, 1000) > 0)
            break;
        const long long gap_ns = now_ns() - before - 1000000000LL;
        if (since != atomic_load(&last_ns)) {   /* progress: its pauses are behind it */
            since = atomic_load(&last_ns);
            paused_ns = 0;
        }
        if (gap_ns > 2000000000LL) {   /* this rank was not running: not its idle time */
            stopped_s = (double)gap_ns * 1e-9;
            stopped_at = now_ns();
            paused_ns += gap_ns;
        }
        /* a whole job suspended (scontrol suspend, Ctrl-Z) killed itself on resume */
        double idle = (double)(now_ns() - since - paused_ns) * 1e-9;
        if (atomic_load(&running) && idle > limit_s) {
            char msg[640], at[256], who[128];
            where(at, sizeof at);
            whose(stopped_at > atomic_load(&last_ns) ? stopped_s : 0, who, sizeof who);
            int n = snprintf(msg, sizeof msg,
                             "scratchnet: error: rank %d: no progress for %.0f s after step %lld "
                             "on host %s (%s); %s; a rank missing from these lines, or behind "
                             "them, is the one stuck; ending the job by SIGKILL%s\n", my_rank,
                             idle, (long long)atomic_load(&last_step), my_host, who, at,
                             !resumable ? ""
                             : atomic_load(&checkpointed) ? " (--resume auto continues from its "
                                                            "newest checkpoint)"
                             : " (no checkpoint written yet: a rerun starts over)");
            if (n > 0 && write(2, msg, (size_t)n) < 0)
                n = 0;
            kill(getpid(), SIGKILL);
            _exit(1);   /* not reached */
        }
    }
    return NULL;
}

static void close_wake(void)
{
    close(wake[0]);
    close(wake[1]);
    wake[0] = wake[1] = -1;
}

int watchdog_start(double timeout_s, int rank, bool checkpoints)
{
    if (timeout_s <= 0)
        return SN_OK;
    limit_s = timeout_s;
    my_rank = rank;
    resumable = checkpoints;
    sn_text_host(my_host, sizeof my_host);
    atomic_store(&last_ns, now_ns());
    if (pipe(wake) != 0)
        return sn_fail(SN_EIO, "cannot start the watchdog: pipe: %s", strerror(errno));
    /* close-on-exec: a child the command starts (gnuplot) must not
     * inherit the watchdog's pipe */
    fcntl(wake[0], F_SETFD, FD_CLOEXEC);
    fcntl(wake[1], F_SETFD, FD_CLOEXEC);
    atomic_store(&running, 1);
    const int err = pthread_create(&thread, NULL, watch, NULL);
    if (err != 0) {
        atomic_store(&running, 0);
        close_wake();
        return sn_fail(SN_EIO, "cannot start the watchdog thread: %s%s", strerror(err),
                       err == EAGAIN ? " (the process limit, ulimit -u, or a cgroup's task "
                                       "limit reached?)" : "");
    }
    return SN_OK;
}

void watchdog_checkpointed(void)
{
    atomic_store(&checkpointed, 1);
}

void watchdog_progress(int64_t step)
{
    atomic_store(&last_ns, now_ns());
    if (step >= 0)
        atomic_store(&last_step, step);
}

void watchdog_stop(void)
{
    if (atomic_exchange(&running, 0)) {
        /* one byte into an empty pipe; were it lost, the thread would
         * still see running == 0 within a second */
        ssize_t sent = write(wake[1], "", 1);
        (void)sent;
        pthread_join(thread, NULL);
        close_wake();
    }
}
