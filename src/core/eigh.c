/* eigh: the Jacobi eigenvalue method for small symmetric matrices (see
 * eigh.h; sn_eigh itself is in the BLAS backend files).
 *
 * Each rotation J in the plane (p, q) is chosen so that J^T A J has a zero
 * at (p, q) (Golub & Van Loan's sym.schur2); A's Frobenius norm does not
 * change, and the off-diagonal part shrinks quadratically once it is
 * small.  The product of the rotations holds the eigenvectors as columns.
 * Serial and in a fixed order: the same bits on any thread count.
 */
#include "core/eigh.h"

#include <math.h>
#include <stdlib.h>

#include "core/status.h"

/* The rotation (c, s) that zeroes a_pq. */
static void schur2(double app, double apq, double aqq, double *c, double *s)
{
    double tau = (aqq - app) / (2.0 * apq);
    double t = (tau >= 0.0 ? 1.0 : -1.0) / (fabs(tau) + sqrt(1.0 + tau * tau));
    *c = 1.0 / sqrt(1.0 + t * t);
    *s = t * *c;
}

/* A = J^T A J and V = V J for the rotation in the plane (p, q). */
static void rotate(int n, double *a, double *v, int p, int q)
{
    double c, s;
    schur2(a[(size_t)p * n + p], a[(size_t)p * n + q], a[(size_t)q * n + q], &c, &s);
    for (int k = 0; k < n; k++) {   /* columns p and q */
        double *r = a + (size_t)k * n, akp = r[p], akq = r[q];
        r[p] = c * akp - s * akq;
        r[q] = s * akp + c * akq;
        double *u = v + (size_t)k * n, vkp = u[p], vkq = u[q];
        u[p] = c * vkp - s * vkq;
        u[q] = s * vkp + c * vkq;
    }
    double *rp = a + (size_t)p * n, *rq = a + (size_t)q * n;
    for (int k = 0; k < n; k++) {   /* rows p and q */
        double apk = rp[k], aqk = rq[k];
        rp[k] = c * apk - s * aqk;
        rq[k] = s * apk + c * aqk;
    }
    rp[q] = rq[p] = 0.0;   /* zero by construction; rounding left a trace */
}

static double off_norm2(int n, const double *a)
{
    double off = 0.0;
    for (int p = 0; p < n; p++)
        for (int q = p + 1; q < n; q++)
            off += a[(size_t)p * n + q] * a[(size_t)p * n + q];
    return off;
}

/* w = the diagonal in ascending order; row j of a = column idx[j] of v. */
static void sort_out(int n, double *a, const double *v, double *w, int *idx)
{
    for (int i = 0; i < n; i++) {
        w[i] = a[(size_t)i * n + i];
        idx[i] = i;
    }
    for (int i = 1; i < n; i++) {   /* insertion sort: stable, n is small */
        int k = idx[i];
        double x = w[i];
        int j = i;
        for (; j > 0 && w[j - 1] > x; j--) {
            w[j] = w[j - 1];
            idx[j] = idx[j - 1];
        }
        w[j] = x;
        idx[j] = k;
    }
    for (int j = 0; j < n; j++)
        for (int k = 0; k < n; k++)
            a[(size_t)j * n + k] = v[(size_t)k * n + idx[j]];
}

int sn_eigh_jacobi(int n, double *a, double *w)
{
    double norm = 0.0;
    for (size_t i = 0; i < (size_t)n * n; i++)
        norm += a[i] * a[i];
    if (!isfinite(norm))
        return sn_fail(SN_ENUM, "eigh: the matrix is not finite");
    double *v = calloc((size_t)n * n + 1, sizeof *v);
    int *idx = malloc(((size_t)n + 1) * sizeof *idx);
    if (!v || !idx) {
        free(v);
        free(idx);
        return sn_fail(SN_ENOMEM, "eigh: out of memory for a %d x %d matrix", n, n);
    }
    for (int i = 0; i < n; i++)
        v[(size_t)i * n + i] = 1.0;
    int sweep = 0;
    for (; sweep < 100; sweep++) {
        double off = off_norm2(n, a);
        if (off == 0.0 || off <= 1e-30 * norm)
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++)
                if (a[(size_t)p * n + q] != 0.0)
                    rotate(n, a, v, p, q);
    }
    int rc = SN_OK;
    if (sweep == 100)
        rc = sn_fail(SN_ENUM, "eigh: Jacobi did not converge in 100 sweeps (n = %d)", n);
    else
        sort_out(n, a, v, w, idx);
    free(v);
    free(idx);
    return rc;
}
