/* gemm_small: the matrix products of the Winograd positions, which are too
 * small for a BLAS library to pay off (16 x 16 by 16 x 64 for a 16-channel
 * layer: OpenBLAS spends most of such a call packing the operands).
 *
 *   C (M x N) = A (M x K) B (K x N)
 *
 * with element (i, k) of A at A[i ars + k acs], so A may be a transpose
 * (ars = 1, acs = its row length), row k of B at B + k ldb and row i of C
 * at C + i ldc.  Serial: the conv layer calls it inside its parallel loop.
 * Each C(i, j) is summed over k in order, whatever M and N are.
 */
#ifndef SN_CORE_GEMM_SMALL_H
#define SN_CORE_GEMM_SMALL_H

#include <stddef.h>

void sn_gemm_small(int M, int N, int K, const float *A, ptrdiff_t ars, ptrdiff_t acs,
                   const float *B, size_t ldb, float *C, size_t ldc);

/* C (M x N) += A (M x K) B (N x K)^T, rows of A at A + i lda and of B at
 * B + j ldb: the weight gradient's product, where both run along k.  The
 * sums run over k in another order than a loop's (8 interleaved partial
 * sums, then added up). */
void sn_gemm_small_nt(int M, int N, int K, const float *A, size_t lda, const float *B,
                      size_t ldb, float *C, size_t ldc);

#endif
