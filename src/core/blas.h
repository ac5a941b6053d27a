/* blas: the one matrix-product entry point of scratchnet.
 *
 * Row-major single-precision GEMM:  C = alpha * op(A) op(B) + beta * C,
 * op(X) = X or X^T; op(A) is M x K, op(B) is K x N, C is M x N with leading
 * dimensions lda, ldb, ldc (row strides, in elements).  Built on OpenBLAS
 * (WITH_BLAS=1) or a plain loop otherwise.  Never call it inside an OpenMP
 * parallel region: OpenBLAS runs its own threads.
 */
#ifndef SN_CORE_BLAS_H
#define SN_CORE_BLAS_H

#include <stdbool.h>
#include <stddef.h>

void sn_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc);

/* The same product by the plain triple loop, for tests and for builds
 * without BLAS. */
void sn_sgemm_naive(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb, float beta,
                    float *C, int ldc);

/* What does the products: "OpenBLAS 0.3.21 ..." (its build's own
 * description) or "none (plain loops)". */
const char *sn_blas_library(void);

/* The kernels OpenBLAS would run faster on this processor, when it runs
 * ones of an older one: "SkylakeX" (AVX-512) or "Haswell" (AVX2 and FMA)
 * where it did not recognise the processor and fell back to its SSE3
 * kernels ("Prescott": 2.5 to 3.7 times slower on a virtual machine's
 * Xeon whose model it did not know), and OPENBLAS_CORETYPE is not set;
 * NULL otherwise.  *running gets the kernels' name it runs. */
const char *sn_blas_better_core(const char **running);

/* Before the command allocates anything of its own: sets the thread count
 * of OpenMP and the BLAS and returns SN_OK with the BLAS's own buffers
 * taken now (under an address-space limit); SN_ENOMEM (said), with the
 * thread count left as it was, when the limit leaves no room for them and
 * the threads' stacks (OpenBLAS would wait for them forever, deaf to
 * signals).  omp_stack: each OpenMP thread's stack in bytes (OMP_STACKSIZE),
 * 0 for the default (the stack limit, ulimit -s). */
int sn_blas_use_threads(int threads, size_t omp_stack);

#endif
