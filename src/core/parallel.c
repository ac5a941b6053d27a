/* parallel: thread counts for OpenMP and OpenBLAS (see parallel.h). */
#define _GNU_SOURCE
#include "core/parallel.h"

#include <sched.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef SN_WITH_BLAS
void openblas_set_num_threads(int num_threads);
#endif

void sn_parallel_set_threads(int n)
{
    if (n < 1)
        n = 1;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
#ifdef SN_WITH_BLAS
    openblas_set_num_threads(n);
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
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
