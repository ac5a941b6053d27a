/* whiten: the whitening convolution's filters (see whiten.h).
 *
 * The moments are a sum over windows of products of two patch elements:
 * for the pair (i, j) that is, per image, a sum of products of two shifted
 * rows of the image, so the inner loop runs along a row (vectorised) and
 * an image stays in cache while one thread does every j of its i.
 */
#include "core/whiten.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/eigh.h"
#include "core/status.h"

/* Where element i = (c, ky, kx) of the window at (0, 0) sits in an image. */
static size_t at_of(int i, int H, int W, int K)
{
    const int c = i / (K * K), ky = i / K % K, kx = i % K;
    return ((size_t)c * H + ky) * W + kx;
}

size_t sn_whiten_moments(const float *x, int B, int C, int H, int W, int K, double *m)
{
    return sn_whiten_moments_rows(x, B, C, H, W, K, 0, C * K * K, m);
}

size_t sn_whiten_moments_rows(const float *x, int B, int C, int H, int W, int K, int i0, int i1,
                              double *m)
{
    const int n = C * K * K, OH = H - K + 1, OW = W - K + 1;
    if (B <= 0 || OH <= 0 || OW <= 0)
        return 0;
    const size_t image = (size_t)C * H * W;
#pragma omp parallel for schedule(dynamic)
    for (int i = i0; i < i1; i++) {   /* row i of m: one thread, images in order */
        const size_t ai = at_of(i, H, W, K);
        for (int b = 0; b < B; b++) {
            const float *img = x + (size_t)b * image;
            for (int j = i; j < n; j++) {
                const size_t aj = at_of(j, H, W, K);
                double acc = 0.0;
                for (int y = 0; y < OH; y++) {
                    const float *u = img + ai + (size_t)y * W, *v = img + aj + (size_t)y * W;
#pragma omp simd reduction(+ : acc)
                    for (int k = 0; k < OW; k++)
                        acc += (double)u[k] * (double)v[k];
                }
                m[(size_t)i * n + j] += acc;
            }
        }
    }
    return (size_t)B * OH * OW;
}

/* Filter f (and its negative, filters = 2n) from the eigenvector v of l. */
static void put_filter(int n, int filters, int f, const double *v, double l, float eps, float *w)
{
    int big = 0;
    for (int k = 1; k < n; k++)
        if (fabs(v[k]) > fabs(v[big]))
            big = k;
    const double scale = (v[big] < 0.0 ? -1.0 : 1.0) / sqrt((l > 0.0 ? l : 0.0) + (double)eps);
    for (int k = 0; k < n; k++) {
        w[(size_t)f * n + k] = (float)(v[k] * scale);
        if (filters == 2 * n)
            w[(size_t)(n + f) * n + k] = -w[(size_t)f * n + k];
    }
}

int sn_whiten_filters(const double *m, size_t n_windows, int n, float eps, int filters, float *w,
                      double *lambda)
{
    if (filters != n && filters != 2 * n)
        return sn_fail(SN_EINVAL, "whiten: %d filters; a patch of %d values gives %d or %d "
                       "(each eigenvector, or each with its negative)", filters, n, n, 2 * n);
    if (!(eps > 0.0f) || n_windows == 0)
        return sn_fail(SN_EINVAL, "whiten: eps must be > 0 (got %g) and some windows counted "
                       "(got %zu)", (double)eps, n_windows);
    double *s = malloc(((size_t)n * n + n) * sizeof *s);
    if (!s)
        return sn_fail(SN_ENOMEM, "whiten: out of memory for a %d x %d matrix", n, n);
    double *l = s + (size_t)n * n;
    bool finite = true;
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) {
            double v = m[(size_t)i * n + j] / (double)n_windows;
            s[(size_t)i * n + j] = s[(size_t)j * n + i] = v;
            finite = finite && isfinite(v);
        }
    int rc = finite ? sn_eigh(n, s, l)
                    : sn_fail(SN_ENUM, "whiten: the patches' covariance is not finite (NaN or Inf "
                              "in the images)");
    for (int f = 0; f < n && !rc; f++) {   /* largest eigenvalue first */
        put_filter(n, filters, f, s + (size_t)(n - 1 - f) * n, l[n - 1 - f], eps, w);
        if (lambda)
            lambda[f] = l[n - 1 - f];
    }
    free(s);
    return rc;
}
