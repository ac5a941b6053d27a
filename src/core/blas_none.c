/* blas_none: sn_sgemm and sn_eigh without a BLAS library (WITH_BLAS=0). */
#include "core/blas.h"

#include "core/eigh.h"
#include "core/parallel.h"

void sn_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc)
{
    sn_sgemm_naive(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

const char *sn_blas_library(void) { return "none (plain loops)"; }

const char *sn_blas_better_core(const char **running)
{
    *running = "none";
    return NULL;
}

int sn_eigh(int n, double *a, double *w)
{
    return sn_eigh_jacobi(n, a, w);
}

int sn_blas_use_threads(int threads, size_t omp_stack)
{
    (void)omp_stack;
    sn_parallel_set_threads(threads);   /* the plain loops take no buffers of their own */
    return 0;
}
