/* parallel: thread counts for OpenMP and OpenBLAS (see parallel.h). */
#define _GNU_SOURCE
#include "core/parallel.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef SN_WITH_BLAS
void openblas_set_num_threads(int num_threads);
#endif

int sn_parallel_thread_limit(void)
{
#ifdef _OPENMP
    if (omp_get_max_active_levels() < 1)
        return 1;
    const int limit = omp_get_thread_limit();
    return limit >= 1 ? limit : 1;
#else
    return INT_MAX;
#endif
}

int sn_parallel_widen_stack(unsigned long long *soft_kib, unsigned long long *hard_kib)
{
    struct rlimit st;
    if (getrlimit(RLIMIT_STACK, &st) != 0 || st.rlim_cur == RLIM_INFINITY ||
        st.rlim_cur >= SN_PARALLEL_MIN_STACK)
        return 0;
    *soft_kib = st.rlim_cur >> 10;
    *hard_kib = st.rlim_max == RLIM_INFINITY ? ULLONG_MAX : st.rlim_max >> 10;
    if (st.rlim_max != RLIM_INFINITY && st.rlim_max < SN_PARALLEL_MIN_STACK)
        return -1;
    st.rlim_cur = SN_PARALLEL_MIN_STACK;   /* the main thread's stack grows to it */
    pthread_attr_t attr;   /* glibc read the old limit at start-up for the threads */
    if (setrlimit(RLIMIT_STACK, &st) != 0 || pthread_getattr_default_np(&attr) != 0)
        return -1;
    const int rc = pthread_attr_setstacksize(&attr, SN_PARALLEL_MIN_STACK) == 0 &&
                   pthread_setattr_default_np(&attr) == 0 ? 0 : -1;
    pthread_attr_destroy(&attr);
    return rc;
}

void sn_parallel_set_threads(int n)
{
    if (n < 1)
        n = 1;
    if (n > sn_parallel_thread_limit())
        n = sn_parallel_thread_limit();
#ifdef _OPENMP
    omp_set_dynamic(0);   /* OMP_DYNAMIC=true gave OpenBLAS fewer threads than it waits for */
    omp_set_num_threads(n);
#endif
#ifdef SN_WITH_BLAS
    openblas_set_num_threads(n);
#endif
}

void sn_parallel_set_loop_threads(int n)
{
#ifdef _OPENMP
    omp_set_num_threads(n < 1 ? 1 : n);
#else
    (void)n;
#endif
}

int sn_parallel_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int sn_parallel_thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

int sn_parallel_cores(void)
{
#ifdef _OPENMP
    /* with OMP_PROC_BIND, libgomp has pinned this (initial) thread to its
     * first place before main: the places, made of the process's cores,
     * tell how many the rank has */
    if (omp_get_proc_bind() != omp_proc_bind_false && omp_get_num_places() > 0) {
        int n = 0;
        for (int p = 0; p < omp_get_num_places(); p++)
            n += omp_get_place_num_procs(p);
        if (n > 0)
            return n;
    }
#endif
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void mask_add(unsigned long long *bits, int c)
{
    if (c >= 0 && c < SN_PARALLEL_MASK_WORDS * 64)
        bits[c / 64] |= 1ull << (c % 64);
}

int sn_parallel_core_mask(unsigned long long bits[SN_PARALLEL_MASK_WORDS])
{
    for (int w = 0; w < SN_PARALLEL_MASK_WORDS; w++)
        bits[w] = 0;
    int n = 0;
#ifdef _OPENMP
    if (omp_get_proc_bind() != omp_proc_bind_false && omp_get_num_places() > 0) {
        for (int p = 0; p < omp_get_num_places(); p++) {   /* as sn_parallel_cores */
            int ids[SN_PARALLEL_MASK_WORDS * 64];
            const int k = omp_get_place_num_procs(p);
            if (k > (int)(sizeof ids / sizeof ids[0]))
                continue;
            omp_get_place_proc_ids(p, ids);
            for (int i = 0; i < k; i++)
                mask_add(bits, ids[i]);
        }
    } else
#endif
    {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0)
            for (int c = 0; c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &set))
                    mask_add(bits, c);
    }
    for (int w = 0; w < SN_PARALLEL_MASK_WORDS; w++)
        n += __builtin_popcountll(bits[w]);
    return n;
}

double sn_parallel_cores_busy_s(void)
{
    cpu_set_t set;
    FILE *f = fopen("/proc/stat", "r");
    if (!f || sched_getaffinity(0, sizeof set, &set) != 0) {
        if (f)
            fclose(f);
        return 0.0;
    }
    char line[512];
    unsigned long long busy = 0;
    while (fgets(line, sizeof line, f)) {
        int cpu;
        unsigned long long v[8];   /* user nice system idle iowait irq softirq steal */
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 9 && cpu >= 0 &&
            cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set))
            busy += v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    }
    fclose(f);
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

/* One number from a cgroup's file (pids.max, pids.current); -1 for "max"
 * or when it cannot be read. */
static long long cgroup_number(const char *dir, const char *name)
{
    char path[4400], text[32] = "";
    long long v = -1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f && fgets(text, sizeof text, f) && strcmp(text, "max\n") != 0)
        v = strtoll(text, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

int sn_parallel_task_room(long *limit)
{
    char line[4200], dir[4400] = "";
    FILE *f = fopen("/proc/self/cgroup", "r");
    while (f && fgets(line, sizeof line, f)) {   /* "N:pids:/path" (v1), "0::/path" (v2) */
        line[strcspn(line, "\n")] = '\0';
        const char *v1 = strstr(line, ":pids:/"), *v2 = strncmp(line, "0::/", 4) ? NULL : line;
        if (v1)
            snprintf(dir, sizeof dir, "/sys/fs/cgroup/pids%s", v1 + 6);
        else if (v2 && !dir[0])
            snprintf(dir, sizeof dir, "/sys/fs/cgroup%s", v2 + 3);
    }
    if (f)
        fclose(f);
    long long room = INT_MAX;
    *limit = -1;
    while (dir[0]) {   /* this cgroup, then each above it up to the hierarchy's root */
        const long long max = cgroup_number(dir, "pids.max");
        const long long now = cgroup_number(dir, "pids.current");
        if (max >= 0 && now >= 0 && max - now < room) {
            room = max - now;
            *limit = (long)max;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            break;
        *slash = '\0';
    }
    return room < 0 ? 0 : (int)room;
}
