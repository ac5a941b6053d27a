/* blas_openblas: sn_sgemm on OpenBLAS's cblas_sgemm (WITH_BLAS=1). */
#include "core/blas.h"

#include <cblas.h>

void sn_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
                ldb, beta, C, ldc);
}
