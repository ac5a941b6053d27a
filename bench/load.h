/* load: whether other work shared the cores while a benchmark measured.
 * A figure taken beside other work is low, and nothing else says so:
 * load_start() before the measurement, load_warn() after it prints a
 * warning on stderr when other processes kept half a core or more busy
 * (the busy time of every core, /proc/stat, less this process's own,
 * getrusage, over the wall time between the two). */
#ifndef SN_BENCH_LOAD_H
#define SN_BENCH_LOAD_H

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct load {
    double busy, mine, wall;
};

/* Seconds the machine's cores were busy since boot (0 when unknown). */
static double load_busy_s(void)
{
    unsigned long long v[8] = { 0 };   /* user nice system idle iowait irq softirq steal */
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0.0;
    const int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                         &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return 0.0;
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static struct load load_start(void)
{
    struct load l = { load_busy_s(), 0.0, 0.0 };
    struct rusage r;
    struct timespec t;
    if (getrusage(RUSAGE_SELF, &r) == 0)
        l.mine = (double)r.ru_utime.tv_sec + (double)r.ru_stime.tv_sec +
                 1e-6 * (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
    clock_gettime(CLOCK_MONOTONIC, &t);
    l.wall = (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
    return l;
}

/* prog: the benchmark's name, which starts the warning. */
static void load_warn(const char *prog, struct load before)
{
    const struct load now = load_start();
    const double wall = now.wall - before.wall;
    const double others = ((now.busy - before.busy) - (now.mine - before.mine)) / wall;
    if (before.busy <= 0.0 || wall < 0.2 || others < 0.5)
        return;
    fflush(stdout);
    fprintf(stderr, "%s: warning: other work kept %.1f of the %ld cores busy while it measured: "
            "the figures above are low; measure on a quiet machine\n", prog, others,
            sysconf(_SC_NPROCESSORS_ONLN));
}

#endif
