/* test_loss: fused losses, their gradients and predictions. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "core/loss.h"
#include "core/status.h"
#include "ref/ref_core.h"

/* Cross-entropy of logits (1,2,3) with label 2 is log(sum e^k) - 3. */
static void test_loss_cross_entropy_hand(void **state)
{
    (void)state;
    const float z[6] = { 1, 2, 3, 0, 0, 0 };
    const int y[2] = { 2, 0 };
    float dz[6];
    long correct = 0;
    double l = sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, y, NULL, 2, 3, 0.0f, 0.5f, dz, &correct);
    double want = (log(exp(1) + exp(2) + exp(3)) - 3) + log(3.0);
    assert_float_equal(l, want, 1e-6);
    assert_int_equal(correct, 2);   /* row 0 predicts 2, row 1 ties and predicts 0: both right */
    /* dz = 0.5 (softmax - onehot) */
    const float want_dz[3] = { 0.5f * 0.09003057f, 0.5f * 0.24472847f, 0.5f * (0.66524096f - 1) };
    assert_close_arrays(dz, want_dz, 3, 1e-7, 1e-5);
}

/* BCE with logits and MSE, by hand. */
static void test_loss_bce_mse_hand(void **state)
{
    (void)state;
    const float z[2] = { 0.0f, 2.0f };
    const float t[2] = { 1.0f, 0.0f };
    float dz[2];
    /* mean over K=2: (log 2 + (2 + log(1+e^-2))) / 2 */
    double l = sn_loss_eval(SN_LOSS_BCE, z, NULL, t, 1, 2, 0.0f, 1.0f, dz, NULL);
    assert_float_equal(l, (log(2.0) + 2 + log1p(exp(-2.0))) / 2, 1e-6);
    assert_close_arrays(dz, ((float[]){ (0.5f - 1) / 2, 0.88079708f / 2 }), 2, 1e-7, 1e-5);
    l = sn_loss_eval(SN_LOSS_MSE, z, NULL, t, 1, 2, 0.0f, 1.0f, dz, NULL);
    assert_float_equal(l, (1.0 + 4.0) / 2, 1e-6);
    assert_close_arrays(dz, ((float[]){ -1.0f, 2.0f }), 2, 1e-7, 1e-6);
}

/* Huge logits give finite losses and gradients. */
static void test_loss_stable_large_logits(void **state)
{
    (void)state;
    const float z[3] = { 1e4f, -1e4f, 0 };
    const int y[1] = { 1 };
    float dz[3];
    double l = sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, y, NULL, 1, 3, 0.0f, 1.0f, dz, NULL);
    assert_true(isfinite(l));
    assert_float_equal(l, 2e4, 1.0);
    for (int i = 0; i < 3; i++)
        assert_true(isfinite(dz[i]));
    const float zb[2] = { 500.0f, -500.0f };
    const float tb[2] = { 0.0f, 1.0f };
    l = sn_loss_eval(SN_LOSS_BCE, zb, NULL, tb, 1, 2, 0.0f, 1.0f, dz, NULL);
    assert_true(isfinite(l));
    assert_float_equal(l, 500.0, 1e-3);
    assert_true(isfinite(dz[0]) && isfinite(dz[1]));
}

struct fd {
    enum sn_loss loss;
    float smoothing;
    const int *y;
    const float *t;
    float *z;
    int B, K;
};

static double fd_loss(void *ctx)
{
    struct fd *f = ctx;
    return sn_loss_eval(f->loss, f->z, f->y, f->t, f->B, f->K, f->smoothing, 1.0f, NULL, NULL) / f->B;
}

/* dz of the batch mean matches finite differences, labels and targets. */
static void test_loss_gradient_fd(void **state)
{
    (void)state;
    enum { B = 3, K = 4 };
    const int y[B] = { 1, 3, 0 };
    float t[B * K], z[B * K], dz[B * K];
    sn_test_fill(t, B * K, 3, 0, 1);
    for (int loss = SN_LOSS_CROSS_ENTROPY; loss <= SN_LOSS_MSE; loss++) {
        for (int use_targets = 0; use_targets <= (loss != SN_LOSS_CROSS_ENTROPY); use_targets++) {
            sn_test_fill(z, B * K, 4 + loss, -3, 3);
            struct fd f = { (enum sn_loss)loss, 0.0f, use_targets ? NULL : y, use_targets ? t : NULL, z, B, K };
            sn_loss_eval(f.loss, z, f.y, f.t, B, K, 0.0f, 1.0f / B, dz, NULL);
            assert_grad_fd(fd_loss, &f, z, dz, B * K, 1e-2, 1e-4, 1e-2);
        }
    }
    /* bce with one output and 0/1 labels */
    const int yb[B] = { 1, 0, 1 };
    float zb[B] = { 0.3f, -1.2f, 2.5f }, db[B];
    struct fd f = { SN_LOSS_BCE, 0.0f, yb, NULL, zb, B, 1 };
    sn_loss_eval(SN_LOSS_BCE, zb, yb, NULL, B, 1, 0.0f, 1.0f / B, db, NULL);
    assert_grad_fd(fd_loss, &f, zb, db, B, 1e-2, 1e-4, 1e-2);
}

/* Label smoothing: the value by hand (uniform logits give log K whatever
 * the smoothing), dz of the batch mean against finite differences for
 * several smoothings, and smoothing 0 giving plain cross-entropy's bits. */
static void test_loss_label_smoothing(void **state)
{
    (void)state;
    enum { B = 3, K = 5 };
    const int y[B] = { 4, 0, 2 };
    float z[B * K], dz[B * K], dz0[B * K];
    const float flat[K] = { 0.7f, 0.7f, 0.7f, 0.7f, 0.7f };
    assert_float_equal(sn_loss_eval(SN_LOSS_CROSS_ENTROPY, flat, y, NULL, 1, K, 0.3f, 1.0f, NULL,
                                    NULL), log(5.0), 1e-6);
    /* z = (0, 1), y = 1, smoothing 0.2: q = (0.1, 0.9), so
     * l = log(e^0 + e^1) - (0.1 * 0 + 0.9 * 1) */
    const float z2[2] = { 0.0f, 1.0f };
    const int y2[1] = { 1 };
    assert_float_equal(sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z2, y2, NULL, 1, 2, 0.2f, 1.0f, NULL,
                                    NULL), log(1.0 + exp(1.0)) - 0.9, 1e-6);
    const float eps[3] = { 0.05f, 0.1f, 0.5f };
    for (int i = 0; i < 3; i++) {
        sn_test_fill(z, B * K, 20 + i, -3, 3);
        struct fd f = { SN_LOSS_CROSS_ENTROPY, eps[i], y, NULL, z, B, K };
        sn_loss_eval(f.loss, z, y, NULL, B, K, eps[i], 1.0f / B, dz, NULL);
        assert_grad_fd(fd_loss, &f, z, dz, B * K, 1e-2, 1e-4, 1e-2);
        /* the smoothed gradient of each row still sums to zero */
        for (int b = 0; b < B; b++) {
            double row = 0.0;
            for (int k = 0; k < K; k++)
                row += dz[b * K + k];
            assert_float_equal(row, 0.0, 1e-6);
        }
    }
    double l0 = sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, y, NULL, B, K, 0.0f, 0.5f, dz0, NULL);
    float dzp[B * K];
    double lp = sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, y, NULL, B, K, 0.0f, 0.5f, dzp, NULL);
    assert_memory_equal(dz0, dzp, sizeof dz0);
    assert_true(l0 == lp);
    /* a smoothed loss exceeds the plain one on a confident right answer */
    const float sure[2] = { -4.0f, 4.0f };
    assert_true(sn_loss_eval(SN_LOSS_CROSS_ENTROPY, sure, y2, NULL, 1, 2, 0.1f, 1.0f, NULL, NULL) >
                sn_loss_eval(SN_LOSS_CROSS_ENTROPY, sure, y2, NULL, 1, 2, 0.0f, 1.0f, NULL, NULL));
}

/* Predictions: argmax, and the sign for one output. */
static void test_loss_predict(void **state)
{
    (void)state;
    assert_int_equal(sn_loss_predict((float[]){ 0.1f, 0.7f, 0.2f }, 3), 1);
    assert_int_equal(sn_loss_predict((float[]){ -0.1f }, 1), 0);
    assert_int_equal(sn_loss_predict((float[]){ 0.1f }, 1), 1);
    enum sn_loss l;
    assert_int_equal(sn_loss_parse("hinge", &l), SN_EINVAL);
    assert_int_equal(sn_loss_parse("binary_cross_entropy", &l), SN_OK);
    assert_int_equal(l, SN_LOSS_BCE);
}

/* Values and gradients of the batch mean match PyTorch's functional losses. */
static void test_loss_matches_pytorch(void **state)
{
    (void)state;
    float dz[12];
    double l = sn_loss_eval(SN_LOSS_CROSS_ENTROPY, loss_z, loss_labels, NULL, 4, 3, 0.0f, 0.25f, dz, NULL);
    assert_float_equal(l / 4, loss_ce_value, 1e-5);
    assert_close_arrays(dz, loss_ce_dz, 12, 1e-6, 1e-5);
    l = sn_loss_eval(SN_LOSS_CROSS_ENTROPY, loss_z, loss_labels, NULL, 4, 3, 0.1f, 0.25f, dz, NULL);
    assert_float_equal(l / 4, loss_ce_ls_value, 1e-5);
    assert_close_arrays(dz, loss_ce_ls_dz, 12, 1e-6, 1e-5);
    l = sn_loss_eval(SN_LOSS_BCE, loss_z, NULL, loss_t, 4, 3, 0.0f, 0.25f, dz, NULL);
    assert_float_equal(l / 4, loss_bce_value, 1e-5);
    assert_close_arrays(dz, loss_bce_dz, 12, 1e-6, 1e-5);
    l = sn_loss_eval(SN_LOSS_MSE, loss_z, NULL, loss_t, 4, 3, 0.0f, 0.25f, dz, NULL);
    assert_float_equal(l / 4, loss_mse_value, 1e-5);
    assert_close_arrays(dz, loss_mse_dz, 12, 1e-6, 1e-5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_cross_entropy_hand),
        cmocka_unit_test(test_loss_bce_mse_hand),
        cmocka_unit_test(test_loss_stable_large_logits),
        cmocka_unit_test(test_loss_gradient_fd),
        cmocka_unit_test(test_loss_label_smoothing),
        cmocka_unit_test(test_loss_predict),
        cmocka_unit_test(test_loss_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
