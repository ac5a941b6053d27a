/* test_eigh: the symmetric eigen-decomposition (sn_eigh: LAPACK's dsyevd
 * in this build, or the Jacobi method without BLAS; sn_eigh_jacobi in
 * every build) against torch.linalg.eigh (tests/ref/ref_speedrun.h) and
 * its defining properties: A v = l v, orthonormal vectors, ascending
 * values. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/eigh.h"
#include "core/status.h"
#include "ref/ref_speedrun.h"

typedef int (*eigh_fn)(int n, double *a, double *w);

/* Row j of v is a unit eigenvector of a0 for w[j], rows are orthogonal,
 * w ascends: each to tol relative to a0's largest eigenvalue. */
static void check_decomposition(int n, const double *a0, const double *v, const double *w,
                                double tol)
{
    double scale = fmax(fabs(w[0]), fabs(w[n - 1]));
    for (int j = 0; j < n; j++) {
        if (j > 0)
            assert_true(w[j - 1] <= w[j]);
        for (int i = 0; i < n; i++) {   /* (A v_j)_i - w_j v_ji */
            double av = 0.0;
            for (int k = 0; k < n; k++)
                av += a0[(size_t)i * n + k] * v[(size_t)j * n + k];
            assert_true(fabs(av - w[j] * v[(size_t)j * n + i]) <= tol * scale);
        }
        for (int k = 0; k < n; k++) {   /* v_j . v_k = [j == k] */
            double dot = 0.0;
            for (int i = 0; i < n; i++)
                dot += v[(size_t)j * n + i] * v[(size_t)k * n + i];
            assert_true(fabs(dot - (j == k ? 1.0 : 0.0)) <= tol);
        }
    }
}

/* A symmetric matrix with a repeated eigenvalue and a zero one: both
 * methods give torch's eigenvalues to 1e-13 and a valid basis of each
 * eigenspace. */
static void test_eigh_matches_torch(void **state)
{
    (void)state;
    const eigh_fn fns[2] = { sn_eigh, sn_eigh_jacobi };
    for (int f = 0; f < 2; f++) {
        double a[36], w[6];
        memcpy(a, eigh_a6, sizeof a);
        assert_int_equal(fns[f](6, a, w), SN_OK);
        for (int j = 0; j < 6; j++)
            assert_true(fabs(w[j] - eigh_a6_w[j]) <= 1e-13 * 7.0);
        check_decomposition(6, eigh_a6, a, w, 1e-12);
    }
}

/* The whitening test's 27 x 27 second moment and random symmetric
 * matrices from 1 x 1 to 40 x 40: Jacobi and sn_eigh agree on the
 * eigenvalues to 1e-12 relative, and each answer is a decomposition. */
static void test_eigh_jacobi_agrees(void **state)
{
    (void)state;
    enum { MAXN = 40 };
    static double a0[MAXN * MAXN], a1[MAXN * MAXN], a2[MAXN * MAXN], w1[MAXN], w2[MAXN];
    float r[MAXN * MAXN];
    for (int n = 1; n <= MAXN + 1; n += 3) {
        const int side = n > MAXN ? 27 : n;
        if (n > MAXN) {   /* the whitening case */
            for (int i = 0; i < 27; i++)
                for (int j = 0; j < 27; j++)
                    a0[i * 27 + j] = whiten3_m[i <= j ? i * 27 + j : j * 27 + i] / whiten3_windows;
        } else {
            sn_test_fill(r, (size_t)n * n, 700 + (uint64_t)n, -1, 1);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    a0[i * n + j] = (double)r[i * n + j] + (double)r[j * n + i];
        }
        memcpy(a1, a0, sizeof(double) * side * side);
        memcpy(a2, a0, sizeof(double) * side * side);
        assert_int_equal(sn_eigh(side, a1, w1), SN_OK);
        assert_int_equal(sn_eigh_jacobi(side, a2, w2), SN_OK);
        double scale = fmax(fabs(w1[0]), fabs(w1[side - 1]));
        for (int j = 0; j < side; j++)
            assert_true(fabs(w1[j] - w2[j]) <= 1e-12 * scale);
        check_decomposition(side, a0, a1, w1, 1e-11);
        check_decomposition(side, a0, a2, w2, 1e-11);
    }
}

/* A diagonal matrix is its own answer (Jacobi makes no rotation); a NaN is
 * refused by the Jacobi method with SN_ENUM. */
static void test_eigh_diagonal_and_nan(void **state)
{
    (void)state;
    double a[9] = { 3, 0, 0, 0, -1, 0, 0, 0, 2 }, w[3];
    assert_int_equal(sn_eigh_jacobi(3, a, w), SN_OK);
    assert_true(w[0] == -1.0 && w[1] == 2.0 && w[2] == 3.0);
    assert_true(a[1] == 1.0 && a[5] == 1.0 && a[6] == 1.0);   /* e1, e2, e0 */
    double b[4] = { 1, NAN, NAN, 1 };
    assert_int_equal(sn_eigh_jacobi(2, b, w), SN_ENUM);
    assert_non_null(strstr(sn_errmsg(), "not finite"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eigh_matches_torch),
        cmocka_unit_test(test_eigh_jacobi_agrees),
        cmocka_unit_test(test_eigh_diagonal_and_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
