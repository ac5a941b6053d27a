/* whiten: the filters of a whitening convolution (init = whiten).
 *
 * A first convolution whose filters whiten the image patches it sees:
 * the eigenvectors of the patches' covariance, each divided by the square
 * root of its eigenvalue (plus eps), so the layer's outputs on those
 * patches have (about) the identity as covariance.  This is the first
 * layer of Keller Jordan's airbench (KellerJordan/cifar10-airbench,
 * airbench94.py: init_whitening_conv), which uses every K x K window of
 * 5000 normalised training images and the covariance about zero (the
 * second moment; the normalised inputs have mean about zero).
 *
 * Legend: B images of C x H x W, K the window side, n = C K K the length
 * of a patch, in the conv weight's (c, ky, kx) order; windows at stride 1
 * without padding: (H - K + 1) (W - K + 1) per image.
 */
#ifndef SN_CORE_WHITEN_H
#define SN_CORE_WHITEN_H

#include <stddef.h>

/* Add to m (n x n doubles, row-major; only j >= i is written) the sum of
 * p p^T over every window p of every image of x (B, C, H, W).  Each m[i][j]
 * takes one double sum per image, images in order: the same bits on any
 * thread count and however the images are split between calls.  Returns
 * the windows added. */
size_t sn_whiten_moments(const float *x, int B, int C, int H, int W, int K, double *m);

/* The same for rows i0 <= i < i1 of m only (the same bits: each row is
 * summed alone), so that a caller can look at a stop between blocks of
 * rows of one large image.  Returns the windows of x. */
size_t sn_whiten_moments_rows(const float *x, int B, int C, int H, int W, int K, int i0, int i1,
                              double *m);

/* The filters from m as sn_whiten_moments left it, summed over n_windows
 * windows: S = m / n_windows (made symmetric) is decomposed (core/eigh.h);
 * filter f of w (filters x n) is v_f / sqrt(max(l_f, 0) + eps) for the
 * eigenvalues l_0 >= l_1 >= ... and unit eigenvectors v_f, each signed so
 * that its largest component (the first of equal ones) is positive.  With
 * filters = 2n, filter n + f is the negative of filter f (airbench's pairs).
 * lambda (n values, may be NULL) gets l in that order.  SN_EINVAL for
 * filters other than n and 2n, eps <= 0 or no windows; SN_ENUM if S is not
 * finite or the decomposition fails; SN_ENOMEM. */
int sn_whiten_filters(const double *m, size_t n_windows, int n, float eps, int filters, float *w,
                      double *lambda);

#endif
