/* test_whiten: the whitening convolution's filters against airbench's
 * computation in PyTorch (tests/ref/ref_speedrun.h: the patches' second
 * moments, torch.linalg.eigh's eigenvalues, the filters and their
 * negatives), the whitened patches' covariance (the identity, up to eps),
 * the moments' bits at any thread count and call split, and errors. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/conv.h"
#include "core/model.h"
#include "core/parallel.h"
#include "core/status.h"
#include "core/whiten.h"
#include "ref/ref_speedrun.h"

struct wcase {
    const float *x, *w;
    const double *m, *lambda;
    int B, C, H, W, K, windows;
};

static const struct wcase cases[2] = {
    { whiten2_x, whiten2_w, whiten2_m, whiten2_lambda, whiten2_B, whiten2_C, whiten2_H, whiten2_W,
      whiten2_K, whiten2_windows },
    { whiten3_x, whiten3_w, whiten3_m, whiten3_lambda, whiten3_B, whiten3_C, whiten3_H, whiten3_W,
      whiten3_K, whiten3_windows },
};

static int n_of(const struct wcase *c) { return c->C * c->K * c->K; }

/* The moments: torch's P^T P to 1e-13 of its largest value (only j >= i
 * is written: the rest stays as it was). */
static void test_whiten_moments_match_torch(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const struct wcase *c = &cases[k];
        const int n = n_of(c);
        double *m = calloc((size_t)n * n, sizeof *m), big = 0.0;
        assert_non_null(m);
        assert_int_equal(sn_whiten_moments(c->x, c->B, c->C, c->H, c->W, c->K, m),
                         (size_t)c->windows);
        for (int i = 0; i < n * n; i++)
            big = fmax(big, fabs(c->m[i]));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                assert_true(j < i ? m[i * n + j] == 0.0
                                  : fabs(m[i * n + j] - c->m[i * n + j]) <= 1e-13 * big);
        free(m);
    }
}

/* The same bits at 1 and 2 threads, and with the images given one call
 * at a time. */
static void test_whiten_moments_bits(void **state)
{
    (void)state;
    const struct wcase *c = &cases[1];
    const int n = n_of(c);
    const size_t len = (size_t)n * n, image = (size_t)c->C * c->H * c->W;
    double *m1 = calloc(len, sizeof *m1), *m2 = calloc(len, sizeof *m2);
    double *m3 = calloc(len, sizeof *m3);
    assert_true(m1 && m2 && m3);
    sn_parallel_set_threads(1);
    sn_whiten_moments(c->x, c->B, c->C, c->H, c->W, c->K, m1);
    sn_parallel_set_threads(2);
    sn_whiten_moments(c->x, c->B, c->C, c->H, c->W, c->K, m2);
    for (int b = 0; b < c->B; b++)
        sn_whiten_moments(c->x + b * image, 1, c->C, c->H, c->W, c->K, m3);
    assert_memory_equal(m1, m2, len * sizeof *m1);
    assert_memory_equal(m1, m3, len * sizeof *m1);
    /* and in blocks of rows of m, each image alone (a stop looked at between) */
    memset(m3, 0, len * sizeof *m3);
    for (int b = 0; b < c->B; b++)
        for (int r = 0; r < n; r += 3)
            assert_int_equal(sn_whiten_moments_rows(c->x + b * image, 1, c->C, c->H, c->W, c->K,
                                                    r, r + 3 < n ? r + 3 : n, m3),
                             (size_t)(c->H - c->K + 1) * (c->W - c->K + 1));
    assert_memory_equal(m1, m3, len * sizeof *m1);
    free(m1);
    free(m2);
    free(m3);
}

/* From torch's moments: the eigenvalues (largest first) to 1e-12 relative
 * and the filters (the scaled eigenvectors, signed by their largest
 * component, then their negatives) to float rounding; with filters = n,
 * the first half alone. */
static void test_whiten_filters_match_torch(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const struct wcase *c = &cases[k];
        const int n = n_of(c);
        float *w = malloc(2 * (size_t)n * n * sizeof *w), *w1 = malloc((size_t)n * n * sizeof *w1);
        double *lambda = malloc((size_t)n * sizeof *lambda);
        assert_true(w && w1 && lambda);
        assert_int_equal(sn_whiten_filters(c->m, (size_t)c->windows, n, (float)whiten_eps, 2 * n, w,
                                           lambda), SN_OK);
        for (int f = 0; f < n; f++)
            assert_true(fabs(lambda[f] - c->lambda[f]) <= 1e-12 * c->lambda[0]);
        assert_close_arrays(w, c->w, 2 * (size_t)n * n, 1e-6, 1e-5);
        assert_int_equal(sn_whiten_filters(c->m, (size_t)c->windows, n, (float)whiten_eps, n, w1,
                                           NULL), SN_OK);
        assert_memory_equal(w1, w, (size_t)n * n * sizeof *w1);
        free(w);
        free(w1);
        free(lambda);
    }
}

/* The conv layer with the whitening filters (size K, no padding, zero
 * bias) run on the images: over every output position, channels f < n
 * have covariance about zero diag(l_f / (l_f + eps)), the identity up to
 * eps / l_f (and float rounding), and channel n + f is -channel f. */
static void test_whiten_conv_output_is_white(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        const struct wcase *c = &cases[k];
        const int n = n_of(c), OH = c->H - c->K + 1, OW = c->W - c->K + 1, L = OH * OW;
        struct sn_model *m;
        struct sn_layer *l;
        assert_int_equal(sn_model_create(sn_shape_make(c->C, c->H, c->W, 0), &m), SN_OK);
        assert_int_equal(sn_conv_create("white", m->in_shape, 2 * n, c->K, 1, 0, SN_ACT_LINEAR,
                                        SN_INIT_FANIN_UNIFORM, &l), SN_OK);
        assert_int_equal(sn_model_add(m, l), SN_OK);
        struct sn_rng r;
        sn_rng_seed(&r, 5, 1);
        assert_int_equal(sn_model_build(m, c->B, &r), SN_OK);
        struct sn_param *pw = &m->layers[0]->params[0], *pb = &m->layers[0]->params[1];
        double *lambda = malloc((size_t)n * sizeof *lambda);
        assert_non_null(lambda);
        assert_int_equal(sn_whiten_filters(c->m, (size_t)c->windows, n, (float)whiten_eps, 2 * n,
                                           pw->w, lambda), SN_OK);
        memset(pb->w, 0, pb->len * sizeof *pb->w);
        const float *y = sn_model_forward(m, c->x, c->B, false, NULL, NULL);
        for (int f = 0; f < n; f++)
            for (int g = 0; g < n; g++) {
                double cov = 0.0;
                for (int b = 0; b < c->B; b++)
                    for (int i = 0; i < L; i++)
                        cov += (double)y[((size_t)b * 2 * n + f) * L + i] *
                               y[((size_t)b * 2 * n + g) * L + i];
                cov /= (double)c->windows;
                double want = f == g ? 1.0 : 0.0, slack = f == g ? whiten_eps / lambda[f] : 0.0;
                assert_true(fabs(cov - want) <= slack + 1e-4);
            }
        for (int b = 0; b < c->B; b++)
            for (int f = 0; f < n; f++)
                for (int i = 0; i < L; i++)
                    assert_true(y[((size_t)b * 2 * n + n + f) * L + i] ==
                                -y[((size_t)b * 2 * n + f) * L + i]);
        free(lambda);
        sn_model_destroy(m);
    }
}

/* Bad filter counts, eps and moments are refused, naming the problem. */
static void test_whiten_errors(void **state)
{
    (void)state;
    const struct wcase *c = &cases[0];
    const int n = n_of(c);
    float w[2 * 12 * 12];
    assert_int_equal(sn_whiten_filters(c->m, (size_t)c->windows, n, 1e-3f, 13, w, NULL),
                     SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "13 filters; a patch of 12 values gives 12 or 24"));
    assert_int_equal(sn_whiten_filters(c->m, (size_t)c->windows, n, 0.0f, n, w, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "eps must be > 0"));
    assert_int_equal(sn_whiten_filters(c->m, 0, n, 1e-3f, n, w, NULL), SN_EINVAL);
    double bad[12 * 12];
    memcpy(bad, c->m, sizeof bad);
    bad[5] = NAN;
    assert_int_equal(sn_whiten_filters(bad, (size_t)c->windows, n, 1e-3f, n, w, NULL), SN_ENUM);
    assert_non_null(strstr(sn_errmsg(), "not finite"));
    double m[4] = { 0 };   /* images smaller than the window: nothing added */
    assert_int_equal(sn_whiten_moments(c->x, 1, 1, 1, 3, 2, m), 0);
    assert_true(m[0] == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whiten_moments_match_torch),
        cmocka_unit_test(test_whiten_moments_bits),
        cmocka_unit_test(test_whiten_filters_match_torch),
        cmocka_unit_test(test_whiten_conv_output_is_white),
        cmocka_unit_test(test_whiten_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
