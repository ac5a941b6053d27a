/* test_gemm_small: the small-matrix kernels against the plain triple loop in
 * double precision, on every edge case of its blocking (rows not a
 * multiple of 4, columns not a multiple of 16, fewer rows or columns than
 * one block, K = 1), with A plain and transposed, and row strides wider
 * than the matrices (what lies between the rows is never written). */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "core/gemm_small.h"

enum { MAXD = 37, LD_PAD = 5, GUARD = -12345 };

/* worst = max(worst, |got - want| / mag), NaN counting as the worst. */
static void note_error(float got, double want, double mag, double *worst)
{
    double err = fabs(got - want) / (mag > 0 ? mag : 1.0);
    if (!(err <= *worst))
        *worst = isnan(err) ? INFINITY : err;
}

/* Largest |C - A B| / sum_k |A(i,k) B(k,j)| (the error float sums can
 * make); -1 when a float outside C's columns changed. */
static double check(int M, int N, int K, bool trans_a)
{
    static float A[MAXD * MAXD], B[MAXD * (MAXD + LD_PAD)], C[MAXD * (MAXD + LD_PAD)];
    const size_t ldb = (size_t)N + LD_PAD, ldc = (size_t)N + 3;
    const ptrdiff_t ars = trans_a ? 1 : K, acs = trans_a ? M : 1;
    sn_test_fill(A, (size_t)M * K, (uint64_t)(M * 1000 + N * 10 + K), -1, 1);
    sn_test_fill(B, (size_t)K * ldb, (uint64_t)(K * 1000 + N), -1, 1);
    for (size_t i = 0; i < (size_t)M * ldc; i++)
        C[i] = (float)GUARD;
    sn_gemm_small(M, N, K, A, ars, acs, B, ldb, C, ldc);
    double worst = 0.0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0.0, mag = 0.0;
            for (int k = 0; k < K; k++) {
                double p = (double)A[i * ars + k * acs] * B[(size_t)k * ldb + j];
                s += p;
                mag += fabs(p);
            }
            note_error(C[(size_t)i * ldc + j], s, mag, &worst);
        }
        for (size_t j = (size_t)N; j < ldc; j++)
            if (C[(size_t)i * ldc + j] != (float)GUARD)
                return -1.0;
    }
    return worst;
}

static void test_gemm_small_matches_loops(void **state)
{
    (void)state;
    static const int dims[] = {1, 3, 4, 5, 15, 16, 17, 33, 36};
    const int nd = (int)(sizeof dims / sizeof dims[0]);
    int cases = 0;
    for (int a = 0; a < nd; a++)
        for (int b = 0; b < nd; b++)
            for (int c = 0; c < nd; c += 2)
                for (int t = 0; t < 2; t++) {
                    double w = check(dims[a], dims[b], dims[c], t);
                    if (!(w >= 0.0 && w < 1e-6))
                        fail_msg("M %d N %d K %d %s: %g", dims[a], dims[b], dims[c],
                                 t ? "A^T" : "A", w);
                    cases++;
                }
    print_message("%d shapes, every C within 1e-6 of sum |a b|\n", cases);
}

/* The same for C += A B^T: C starts at known values, and the sums are
 * compared against C0 + the double-precision dot products. */
static double check_nt(int M, int N, int K)
{
    static float A[MAXD * (MAXD + LD_PAD)], B[MAXD * (MAXD + LD_PAD)], C[MAXD * (MAXD + LD_PAD)],
        C0[MAXD * (MAXD + LD_PAD)];
    const size_t lda = (size_t)K + 1, ldb = (size_t)K + LD_PAD, ldc = (size_t)N + 3;
    sn_test_fill(A, (size_t)M * lda, (uint64_t)(M * 1000 + N * 10 + K), -1, 1);
    sn_test_fill(B, (size_t)N * ldb, (uint64_t)(K * 1000 + N), -1, 1);
    sn_test_fill(C0, (size_t)M * ldc, (uint64_t)(M + N + K), -1, 1);
    memcpy(C, C0, (size_t)M * ldc * sizeof *C);
    sn_gemm_small_nt(M, N, K, A, lda, B, ldb, C, ldc);
    double worst = 0.0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = C0[(size_t)i * ldc + j], mag = fabs(s);
            for (int k = 0; k < K; k++) {
                double p = (double)A[(size_t)i * lda + k] * B[(size_t)j * ldb + k];
                s += p;
                mag += fabs(p);
            }
            note_error(C[(size_t)i * ldc + j], s, mag, &worst);
        }
        for (size_t j = (size_t)N; j < ldc; j++)
            if (C[(size_t)i * ldc + j] != C0[(size_t)i * ldc + j])
                return -1.0;
    }
    return worst;
}

static void test_gemm_small_nt_matches_loops(void **state)
{
    (void)state;
    static const int dims[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 36};
    const int nd = (int)(sizeof dims / sizeof dims[0]);
    int cases = 0;
    for (int a = 0; a < nd; a++)
        for (int b = 0; b < nd; b++)
            for (int c = 0; c < nd; c++) {
                double w = check_nt(dims[a], dims[b], dims[c]);
                if (!(w >= 0.0 && w < 1e-6))
                    fail_msg("M %d N %d K %d: %g", dims[a], dims[b], dims[c], w);
                cases++;
            }
    print_message("%d shapes, every C within 1e-6 of sum |a b|\n", cases);
}

/* A column's sums do not depend on how many columns there are: the same
 * first 16 columns whether N is 16, 64 or 67 (the Winograd groups vary in
 * size with the thread count, their results must not). */
static void test_gemm_small_independent_of_n(void **state)
{
    (void)state;
    enum { M = 16, K = 16, N = 67 };
    float A[M * K], B[K * N], C1[M * 16], C2[M * N];
    sn_test_fill(A, M * K, 5, -1, 1);
    sn_test_fill(B, K * N, 6, -1, 1);
    sn_gemm_small(M, 16, K, A, K, 1, B, N, C1, 16);
    for (int n = 16; n <= N; n += N - 16) {
        sn_gemm_small(M, n, K, A, K, 1, B, N, C2, N);
        for (int i = 0; i < M; i++)
            assert_memory_equal(C1 + i * 16, C2 + (size_t)i * N, 16 * sizeof(float));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_small_matches_loops),
        cmocka_unit_test(test_gemm_small_independent_of_n),
        cmocka_unit_test(test_gemm_small_nt_matches_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
