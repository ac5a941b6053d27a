/* test_dense: the dense layer's kernels and layer object. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/dense.h"
#include "core/status.h"
#include "ref/ref_core.h"

/* A 2x3 input through a 3->2 layer, computed by hand. */
static void test_dense_forward_hand(void **state)
{
    (void)state;
    const float x[6] = { 1, 2, 3, -1, 0, 1 };
    const float w[6] = { 0.1f, 0.2f, 0.3f, -0.5f, 0.5f, 1.0f };
    const float b[2] = { 0.5f, -1.0f };
    float y[4];
    /* row 0: 0.1+0.4+0.9+0.5 = 1.9; -0.5+1+3-1 = 2.5
     * row 1: -0.1+0+0.3+0.5 = 0.7;  0.5+0+1-1 = 0.5 */
    const float want[4] = { 1.9f, 2.5f, 0.7f, 0.5f };
    sn_dense_forward(x, w, b, y, NULL, 2, 3, 2, SN_ACT_LINEAR);
    assert_close_arrays(y, want, 4, 1e-6, 1e-6);
    /* relu clips the negative pre-activations of the same input */
    const float wneg[6] = { -1, -1, -1, 1, 1, 1 };
    /* row 0: -6+0.5 -> 0; 6-1 = 5.  row 1: 0+0.5 = 0.5; 0-1 -> 0 */
    const float want_relu[4] = { 0.0f, 5.0f, 0.5f, 0.0f };
    sn_dense_forward(x, wneg, b, y, NULL, 2, 3, 2, SN_ACT_RELU);
    assert_close_arrays(y, want_relu, 4, 1e-6, 1e-6);
}

/* Finite-difference fixture: L = sum r * dense(x). */
struct fd {
    int B, I, O;
    enum sn_act act;
    float *x, *w, *b, *y, *r, *z;
};

static double fd_loss(void *ctx)
{
    struct fd *f = ctx;
    sn_dense_forward(f->x, f->w, f->b, f->y, f->z, f->B, f->I, f->O, f->act);
    double s = 0;
    for (int i = 0; i < f->B * f->O; i++)
        s += (double)f->r[i] * f->y[i];
    return s;
}

/* h must keep every pre-activation on one side of a kink (relu-like). */
static void check_fd(int B, int I, int O, enum sn_act act, double h)
{
    struct fd f = { B, I, O, act, NULL, NULL, NULL, NULL, NULL, NULL };
    size_t nx = (size_t)B * I, nw = (size_t)O * I, ny = (size_t)B * O;
    f.x = malloc(nx * 4); f.w = malloc(nw * 4); f.b = malloc(O * 4);
    f.y = malloc(ny * 4); f.r = malloc(ny * 4);
    f.z = sn_act_needs_x(act) ? malloc(ny * 4) : NULL;
    float *dz = malloc(ny * 4), *dx = calloc(nx, 4), *dw = calloc(nw, 4), *db = calloc(O, 4);
    sn_test_fill(f.x, nx, 1, -1, 1);
    sn_test_fill(f.w, nw, 2, -0.5f, 0.5f);
    sn_test_fill(f.b, O, 3, -0.5f, 0.5f);
    sn_test_fill(f.r, ny, 4, -1, 1);
    fd_loss(&f);
    sn_dense_backward(f.x, f.w, f.y, f.z, f.r, dz, dx, dw, db, B, I, O, act);
    assert_grad_fd(fd_loss, &f, f.x, dx, nx, h, 1e-3, 1e-2);
    assert_grad_fd(fd_loss, &f, f.w, dw, nw, h, 1e-3, 1e-2);
    assert_grad_fd(fd_loss, &f, f.b, db, O, h, 1e-3, 1e-2);
    free(f.x); free(f.w); free(f.b); free(f.y); free(f.r); free(f.z);
    free(dz); free(dx); free(dw); free(db);
}

/* Backward matches finite differences with every fused activation, on odd
 * shapes and batch 1. */
static void test_dense_backward_fd(void **state)
{
    (void)state;
    for (int a = 0; a < SN_ACT_COUNT; a++)
        check_fd(1 + (a + 2) % 5, 3 + a % 4, 2 + (a * 3) % 6, a,
                 sn_test_act_kinked(a) ? 1e-4 : 1e-2);
}

/* backward accumulates: two calls give twice the gradients. */
static void test_dense_backward_accumulates(void **state)
{
    (void)state;
    enum { B = 3, I = 4, O = 2 };
    float x[B * I], w[O * I], b[O], y[B * O], dy[B * O], dz[B * O];
    float dx1[B * I] = { 0 }, dw1[O * I] = { 0 }, db1[O] = { 0 };
    float dx2[B * I] = { 0 }, dw2[O * I] = { 0 }, db2[O] = { 0 };
    sn_test_fill(x, B * I, 5, -1, 1);
    sn_test_fill(w, O * I, 6, -1, 1);
    sn_test_fill(b, O, 7, -1, 1);
    sn_test_fill(dy, B * O, 8, -1, 1);
    sn_dense_forward(x, w, b, y, NULL, B, I, O, SN_ACT_TANH);
    sn_dense_backward(x, w, y, NULL, dy, dz, dx1, dw1, db1, B, I, O, SN_ACT_TANH);
    sn_dense_backward(x, w, y, NULL, dy, dz, dx2, dw2, db2, B, I, O, SN_ACT_TANH);
    sn_dense_backward(x, w, y, NULL, dy, dz, dx2, dw2, db2, B, I, O, SN_ACT_TANH);
    for (int i = 0; i < B * I; i++)
        dx1[i] *= 2;
    for (int i = 0; i < O * I; i++)
        dw1[i] *= 2;
    for (int i = 0; i < O; i++)
        db1[i] *= 2;
    assert_close_arrays(dx2, dx1, B * I, 1e-6, 1e-6);
    assert_close_arrays(dw2, dw1, O * I, 1e-6, 1e-6);
    assert_close_arrays(db2, db1, O, 1e-6, 1e-6);
}

/* The layer object declares PyTorch's parameter names and shapes. */
static void test_dense_create_params(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_dense_create("fc", sn_shape_make(1, 4, 5, 0), 7, SN_ACT_RELU,
                                     SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    assert_int_equal(l->n_params, 2);
    assert_string_equal(l->params[0].name, "weight");
    assert_int_equal(l->params[0].shape.ndim, 2);
    assert_int_equal(l->params[0].shape.d[0], 7);
    assert_int_equal(l->params[0].shape.d[1], 20);
    assert_string_equal(l->params[1].name, "bias");
    assert_int_equal(l->params[1].len, 7);
    assert_int_equal(sn_shape_len(&l->out_shape), 7);
    sn_layer_destroy(l);
}

/* Zero units is refused with a message. */
static void test_dense_create_rejects_zero_units(void **state)
{
    (void)state;
    struct sn_layer *l = NULL;
    assert_int_equal(sn_dense_create("fc", sn_shape_make(3, 0, 0, 0), 0, SN_ACT_LINEAR,
                                     SN_INIT_HE, &l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "units"));
}

/* PyTorch's default init draws from U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
static void test_dense_init_bounds(void **state)
{
    (void)state;
    struct sn_layer *l;
    assert_int_equal(sn_dense_create("fc", sn_shape_make(100, 0, 0, 0), 50, SN_ACT_LINEAR,
                                     SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    float w[5000], b[50];
    l->params[0].w = w;
    l->params[1].w = b;
    struct sn_rng r;
    sn_rng_seed(&r, 1, 1);
    sn_param_init(&l->params[0], &r);
    sn_param_init(&l->params[1], &r);
    float mx = 0;
    double mean = 0;
    for (int i = 0; i < 5000; i++) {
        mx = w[i] > mx ? w[i] : -w[i] > mx ? -w[i] : mx;
        mean += w[i];
    }
    assert_true(mx <= 0.1f);
    assert_true(mx > 0.09f);
    assert_true(mean / 5000 < 0.01 && mean / 5000 > -0.01);
    sn_layer_destroy(l);
}

/* Forward and every gradient match torch.nn.Linear (+ activation). */
static void check_ref(enum sn_act act, const float *x, const float *w, const float *b,
                      const float *r, const float *y_ref, const float *dx_ref,
                      const float *dw_ref, const float *db_ref)
{
    enum { B = 3, I = 5, O = 4 };
    float y[B * O], z[B * O], dz[B * O], dx[B * I] = { 0 }, dw[O * I] = { 0 }, db[O] = { 0 };
    sn_dense_forward(x, w, b, y, z, B, I, O, act);
    assert_close_arrays(y, y_ref, B * O, 1e-6, 1e-5);
    sn_dense_backward(x, w, y, z, r, dz, dx, dw, db, B, I, O, act);
    assert_close_arrays(dx, dx_ref, B * I, 1e-6, 1e-5);
    assert_close_arrays(dw, dw_ref, O * I, 1e-6, 1e-5);
    assert_close_arrays(db, db_ref, O, 1e-6, 1e-5);
}

static void test_dense_matches_pytorch(void **state)
{
    (void)state;
#define REF(a, act) check_ref(act, dense_##a##_x, dense_##a##_w, dense_##a##_b, dense_##a##_r, \
                              dense_##a##_y, dense_##a##_dx, dense_##a##_dw, dense_##a##_db)
    REF(linear, SN_ACT_LINEAR);
    REF(relu, SN_ACT_RELU);
    REF(sigmoid, SN_ACT_SIGMOID);
    REF(tanh, SN_ACT_TANH);
    REF(gelu, SN_ACT_GELU);
    REF(gelu_tanh, SN_ACT_GELU_TANH);
#undef REF
}

/* The BLAS product equals the plain loops for every transpose combination. */
static void test_dense_sgemm_matches_naive(void **state)
{
    (void)state;
    enum { M = 7, N = 5, K = 9 };
    float A[M * K], B[K * N], C1[M * N], C2[M * N];
    sn_test_fill(A, M * K, 21, -1, 1);
    sn_test_fill(B, K * N, 22, -1, 1);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            sn_test_fill(C1, M * N, 23, -1, 1);
            memcpy(C2, C1, sizeof C1);
            sn_sgemm(ta, tb, M, N, K, 0.7f, A, ta ? M : K, B, tb ? K : N, 0.3f, C1, N);
            sn_sgemm_naive(ta, tb, M, N, K, 0.7f, A, ta ? M : K, B, tb ? K : N, 0.3f, C2, N);
            assert_close_arrays(C1, C2, M * N, 1e-5, 1e-5);
        }
}

/* scale = 1/9 (airbench's logit temperature): y is 1/9 of the unscaled
 * layer's, the gradients match finite differences; refused with an
 * activation or a scale outside [1e-6, 1e6]. */
static void test_dense_scale(void **state)
{
    (void)state;
    struct sn_test_layer t[2];
    for (int k = 0; k < 2; k++) {
        struct sn_layer *l;
        assert_int_equal(sn_dense_create("fc", sn_shape_make(7, 0, 0, 0), 5, SN_ACT_LINEAR,
                                         SN_INIT_FANIN_UNIFORM, &l), SN_OK);
        if (k)
            assert_int_equal(sn_dense_set_scale(l, 1.0f / 9.0f), SN_OK);
        sn_test_layer_init(&t[k], l, 3, true);
        sn_test_layer_loss(&t[k]);
    }
    for (int i = 0; i < 15; i++)
        assert_float_equal(t[1].y[i], t[0].y[i] * (1.0f / 9.0f), 1e-7);
    sn_test_layer_check(&t[1], 1e-2, 1e-4, 1e-3);
    sn_test_layer_free(&t[0]);
    sn_test_layer_free(&t[1]);
    struct sn_layer *l;
    assert_int_equal(sn_dense_create("fc", sn_shape_make(7, 0, 0, 0), 5, SN_ACT_TANH,
                                     SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    assert_int_equal(sn_dense_set_scale(l, 0.5f), SN_EINVAL);
    assert_int_equal(sn_dense_set_scale(l, 1.0f), SN_OK);
    sn_layer_destroy(l);
    assert_int_equal(sn_dense_create("fc", sn_shape_make(7, 0, 0, 0), 5, SN_ACT_LINEAR,
                                     SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    assert_int_equal(sn_dense_set_scale(l, 0.0f), SN_EINVAL);
    assert_int_equal(sn_dense_set_scale(l, 1e20f), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "scale must be from 1e-06 to 1e+06, got 1e+20"));
    /* the documented bounds themselves, given as floats */
    assert_int_equal(sn_dense_set_scale(l, (float)SN_DENSE_SCALE_MIN), SN_OK);
    assert_int_equal(sn_dense_set_scale(l, (float)SN_DENSE_SCALE_MAX), SN_OK);
    assert_int_equal(sn_dense_set_scale(l, 0.99e-6f), SN_EINVAL);
    assert_int_equal(sn_dense_set_scale(l, 1e6f), SN_OK);
    sn_layer_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_forward_hand),
        cmocka_unit_test(test_dense_backward_fd),
        cmocka_unit_test(test_dense_backward_accumulates),
        cmocka_unit_test(test_dense_create_params),
        cmocka_unit_test(test_dense_create_rejects_zero_units),
        cmocka_unit_test(test_dense_init_bounds),
        cmocka_unit_test(test_dense_matches_pytorch),
        cmocka_unit_test(test_dense_sgemm_matches_naive),
        cmocka_unit_test(test_dense_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
