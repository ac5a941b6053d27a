/* gemm_small: C = A B for small matrices (see gemm_small.h).
 *
 * The classic register-blocked kernel, with no packing: C is cut into
 * blocks of 4 rows by 16 columns held in 8 vector registers of 8 floats
 * while k runs; each step of k loads 16 floats of B's row k (two vectors),
 * 4 floats of A's column k, and does 8 vector multiply-adds.  Everything a
 * Winograd position touches fits in the L1 cache, so the loads are cheap
 * and the multiply-adds set the pace.  Rows left over below the blocks go
 * 1 x 16 at a time, columns left over at the right one float at a time.
 *
 * The vectors are GCC's generic vector extension (also in clang): with
 * -march=native on this machine one v8 is one AVX register and `c += a * b`
 * one FMA instruction (the Makefile builds this file with -ffp-contract=fast
 * for that); on a machine with narrower SIMD the compiler splits each into
 * two or more instructions.  Measured in a throwaway loop (one thread, best
 * of 5 x 20,000 calls, several runs): 16 x 16 by 16 x 64 in 0.39-0.53 us
 * against OpenBLAS's 1.0-1.3, 32 x 32 by 32 x 64 in 1.4-2.1 us against
 * 2.6-3.5; 64 x 64 by 64 x 64 within the noise of OpenBLAS.
 */
#include "core/gemm_small.h"

/* 8 floats; loads and stores at any float address, over float arrays */
typedef float v8 __attribute__((vector_size(32), aligned(4), may_alias));

enum { MR = 4, NR = 16 };

/* C (4 x 16) = A (4 x K) B (K x 16). */
static void block_4x16(int K, const float *A, ptrdiff_t ars, ptrdiff_t acs, const float *B,
                       size_t ldb, float *C, size_t ldc)
{
    v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
#pragma GCC unroll 4
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb, *a = A + k * acs;
        v8 b0 = *(const v8 *)b, b1 = *(const v8 *)(b + 8);
        float a0 = a[0], a1 = a[ars], a2 = a[2 * ars], a3 = a[3 * ars];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c30 += a3 * b0;
        c31 += a3 * b1;
    }
    *(v8 *)C = c00;
    *(v8 *)(C + 8) = c01;
    *(v8 *)(C + ldc) = c10;
    *(v8 *)(C + ldc + 8) = c11;
    *(v8 *)(C + 2 * ldc) = c20;
    *(v8 *)(C + 2 * ldc + 8) = c21;
    *(v8 *)(C + 3 * ldc) = c30;
    *(v8 *)(C + 3 * ldc + 8) = c31;
}

/* C (1 x 16) = A (1 x K) B (K x 16): the rows below the last block of 4. */
static void block_1x16(int K, const float *A, ptrdiff_t acs, const float *B, size_t ldb,
                       float *C)
{
    v8 c0 = {0}, c1 = {0};
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb;
        float a = A[k * acs];
        c0 += a * *(const v8 *)b;
        c1 += a * *(const v8 *)(b + 8);
    }
    *(v8 *)C = c0;
    *(v8 *)(C + 8) = c1;
}

/* C (all rows, columns j0..) one float at a time. */
static void edge(int M, int j0, int N, int K, const float *A, ptrdiff_t ars, ptrdiff_t acs,
                 const float *B, size_t ldb, float *C, size_t ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = j0; j < N; j++) {
            float s = 0.0f;
            for (int k = 0; k < K; k++)
                s += A[i * ars + k * acs] * B[(size_t)k * ldb + j];
            C[(size_t)i * ldc + j] = s;
        }
}

void sn_gemm_small(int M, int N, int K, const float *A, ptrdiff_t ars, ptrdiff_t acs,
                   const float *B, size_t ldb, float *C, size_t ldc)
{
    const int M4 = M / MR * MR, N16 = N / NR * NR;
    for (int i = 0; i < M4; i += MR)
        for (int j = 0; j < N16; j += NR)
            block_4x16(K, A + i * ars, ars, acs, B + j, ldb, C + (size_t)i * ldc + j, ldc);
    for (int i = M4; i < M; i++)   /* rows below the blocks */
        for (int j = 0; j < N16; j += NR)
            block_1x16(K, A + i * ars, acs, B + j, ldb, C + (size_t)i * ldc + j);
    edge(M, N16, N, K, A, ars, acs, B, ldb, C, ldc);   /* columns right of them */
}

/* ---- C += A B^T: dot products ------------------------------------------
 * Here both operands run along k, so each C(i, j) is a dot product.  A
 * block of 4 rows of A by 2 rows of B keeps 8 vector sums (8 values of k
 * at once); after the last k, the 8 lanes of each are added up by a tree of
 * shuffles that leaves the 8 totals in one vector. */

/* Lanes a[i] + a[i+1] ... of two vectors interleaved, then of pairs of
 * those: after three levels, lane r of the result is the sum of all 8
 * lanes of v[r]. */
static v8 lane_totals(v8 v0, v8 v1, v8 v2, v8 v3, v8 v4, v8 v5, v8 v6, v8 v7)
{
    /* __builtin_shufflevector: gcc 12 and clang alike (the fuzz build is clang's) */
#define E1 0, 8, 2, 10, 4, 12, 6, 14
#define O1 1, 9, 3, 11, 5, 13, 7, 15
#define E2 0, 1, 8, 9, 4, 5, 12, 13
#define O2 2, 3, 10, 11, 6, 7, 14, 15
#define E3 0, 1, 2, 3, 8, 9, 10, 11
#define O3 4, 5, 6, 7, 12, 13, 14, 15
    v8 a01 = __builtin_shufflevector(v0, v1, E1) + __builtin_shufflevector(v0, v1, O1);
    v8 a23 = __builtin_shufflevector(v2, v3, E1) + __builtin_shufflevector(v2, v3, O1);
    v8 a45 = __builtin_shufflevector(v4, v5, E1) + __builtin_shufflevector(v4, v5, O1);
    v8 a67 = __builtin_shufflevector(v6, v7, E1) + __builtin_shufflevector(v6, v7, O1);
    v8 b03 = __builtin_shufflevector(a01, a23, E2) + __builtin_shufflevector(a01, a23, O2);
    v8 b47 = __builtin_shufflevector(a45, a67, E2) + __builtin_shufflevector(a45, a67, O2);
    return __builtin_shufflevector(b03, b47, E3) + __builtin_shufflevector(b03, b47, O3);
#undef E1
#undef O1
#undef E2
#undef O2
#undef E3
#undef O3
}

/* C (4 x 2) += A (4 x K) B (2 x K)^T. */
static void block_nt_4x2(int K, const float *A, size_t lda, const float *B, size_t ldb,
                         float *C, size_t ldc)
{
    const float *a0 = A, *a1 = A + lda, *a2 = A + 2 * lda, *a3 = A + 3 * lda;
    const float *b0 = B, *b1 = B + ldb;
    v8 s00 = {0}, s01 = {0}, s10 = {0}, s11 = {0}, s20 = {0}, s21 = {0}, s30 = {0}, s31 = {0};
    const int K8 = K / 8 * 8;
#pragma GCC unroll 2
    for (int k = 0; k < K8; k += 8) {
        v8 x0 = *(const v8 *)(b0 + k), x1 = *(const v8 *)(b1 + k);
        v8 y0 = *(const v8 *)(a0 + k), y1 = *(const v8 *)(a1 + k);
        v8 y2 = *(const v8 *)(a2 + k), y3 = *(const v8 *)(a3 + k);
        s00 += y0 * x0;
        s01 += y0 * x1;
        s10 += y1 * x0;
        s11 += y1 * x1;
        s20 += y2 * x0;
        s21 += y2 * x1;
        s30 += y3 * x0;
        s31 += y3 * x1;
    }
    v8 t = lane_totals(s00, s01, s10, s11, s20, s21, s30, s31);
    for (int k = K8; k < K; k++) {   /* the last K % 8 */
        t[0] += a0[k] * b0[k];
        t[1] += a0[k] * b1[k];
        t[2] += a1[k] * b0[k];
        t[3] += a1[k] * b1[k];
        t[4] += a2[k] * b0[k];
        t[5] += a2[k] * b1[k];
        t[6] += a3[k] * b0[k];
        t[7] += a3[k] * b1[k];
    }
    for (int r = 0; r < 4; r++) {
        C[r * ldc] += t[2 * r];
        C[r * ldc + 1] += t[2 * r + 1];
    }
}

/* C (rows i0.., columns j0..) += A B^T one float at a time. */
static void edge_nt(int i0, int M, int j0, int N, int K, const float *A, size_t lda,
                    const float *B, size_t ldb, float *C, size_t ldc)
{
    for (int i = i0; i < M; i++)
        for (int j = j0; j < N; j++) {
            const float *a = A + (size_t)i * lda, *b = B + (size_t)j * ldb;
            float s = 0.0f;
            for (int k = 0; k < K; k++)
                s += a[k] * b[k];
            C[(size_t)i * ldc + j] += s;
        }
}

void sn_gemm_small_nt(int M, int N, int K, const float *A, size_t lda, const float *B,
                      size_t ldb, float *C, size_t ldc)
{
    const int M4 = M / 4 * 4, N2 = N / 2 * 2;
    for (int i = 0; i < M4; i += 4)
        for (int j = 0; j < N2; j += 2)
            block_nt_4x2(K, A + (size_t)i * lda, lda, B + (size_t)j * ldb, ldb,
                         C + (size_t)i * ldc + j, ldc);
    edge_nt(0, M4, N2, N, K, A, lda, B, ldb, C, ldc);
    edge_nt(M4, M, 0, N, K, A, lda, B, ldb, C, ldc);
}
