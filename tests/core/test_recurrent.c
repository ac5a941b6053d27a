/* test_recurrent: rnn, lstm and gru against PyTorch and finite differences
 * (one file: the three share core/recurrent.c). */
#include "testutil.h"

#include <string.h>

#include "core/gru.h"
#include "core/lstm.h"
#include "core/parallel.h"
#include "core/rnn.h"
#include "core/status.h"
#include "ref/ref_layers.h"

typedef int (*create_fn)(const char *, struct sn_shape, int, bool, struct sn_layer **);

static void check_ref(create_fn fn, const float *x, const float *wih, const float *whh,
                      const float *bih, const float *bhh, const float *r, const float *y,
                      const float *dx, const float *dwih, const float *dwhh, const float *dbih,
                      const float *dbhh)
{
    struct sn_layer *l;
    assert_int_equal(fn("rec", sn_shape_make(4, 3, 0, 0), 5, true, &l), SN_OK);
    assert_string_equal(l->params[0].name, "weight_ih");
    struct sn_test_layer t;
    sn_test_layer_init(&t, l, 2, true);
    const float *p[4] = { wih, whh, bih, bhh }, *dp[4] = { dwih, dwhh, dbih, dbhh };
    sn_test_layer_ref(&t, x, p, r, y, dx, dp, 1e-5, 1e-4);
    sn_test_layer_free(&t);
}

/* All outputs and gradients match torch.nn.RNN / LSTM / GRU (T=4, F=3, H=5). */
static void test_recurrent_match_pytorch(void **state)
{
    (void)state;
#define REF(k, fn) check_ref(fn, k##_x, k##_weight_ih_l0, k##_weight_hh_l0, k##_bias_ih_l0, \
                             k##_bias_hh_l0, k##_r, k##_y, k##_dx, k##_dweight_ih_l0,           \
                             k##_dweight_hh_l0, k##_dbias_ih_l0, k##_dbias_hh_l0)
    REF(rnn, sn_rnn_create);
    REF(lstm, sn_lstm_create);
    REF(gru, sn_gru_create);
#undef REF
}

/* Finite differences: last output only and all outputs, T = 1 and odd
 * sizes, an image input read as rows. */
static void test_recurrent_backward_fd(void **state)
{
    (void)state;
    create_fn fns[3] = { sn_rnn_create, sn_lstm_create, sn_gru_create };
    struct { struct sn_shape in; int H, B; bool seq; } cases[] = {
        { { 2, { 3, 2 } }, 4, 2, false },
        { { 2, { 1, 3 } }, 3, 1, true },
        { { 3, { 1, 4, 3 } }, 2, 3, true },
    };
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct sn_layer *l;
            assert_int_equal(fns[k]("rec", cases[i].in, cases[i].H, cases[i].seq, &l), SN_OK);
            struct sn_test_layer t;
            sn_test_layer_init(&t, l, cases[i].B, true);
            sn_test_layer_check(&t, 1e-2, 1e-3, 1e-2);
            sn_test_layer_free(&t);
        }
}

/* The time loops run on one slice of the batch per thread: 1, 2 and 3
 * threads (slices of 7 rows: 7; 3 + 4; 2 + 2 + 3) give the same outputs
 * and gradients, to the rounding of the slice-sized step GEMMs. */
static void test_recurrent_slices_agree(void **state)
{
    (void)state;
    create_fn fns[3] = { sn_rnn_create, sn_lstm_create, sn_gru_create };
    const int saved = sn_parallel_threads();
    for (int k = 0; k < 3; k++) {
        struct sn_layer *l;
        assert_int_equal(fns[k]("rec", sn_shape_make(1, 5, 6, 0), 16, true, &l), SN_OK);
        struct sn_test_layer t;
        sn_test_layer_init(&t, l, 7, true);
        const size_t ny = 7 * t.out_len, nx = 7 * t.in_len[0], nw = l->params[1].len;
        float *y1 = sn_alloc_f32(ny), *dx1 = sn_alloc_f32(nx), *dw1 = sn_alloc_f32(nw);
        for (int nt = 1; nt <= 3; nt++) {
            sn_parallel_set_threads(nt);
            sn_test_layer_backward(&t);
            if (nt == 1) {
                memcpy(y1, t.y, ny * sizeof *y1);
                memcpy(dx1, t.dx[0], nx * sizeof *dx1);
                memcpy(dw1, l->params[1].dw, nw * sizeof *dw1);
            } else {
                assert_close_arrays(t.y, y1, ny, 1e-6, 1e-5);
                assert_close_arrays(t.dx[0], dx1, nx, 1e-6, 1e-5);
                assert_close_arrays(l->params[1].dw, dw1, nw, 1e-6, 1e-5);
            }
        }
        sn_parallel_set_threads(saved);
        sn_free(y1);
        sn_free(dx1);
        sn_free(dw1);
        sn_test_layer_free(&t);
    }
}

/* A layer without a time axis is refused. */
static void test_recurrent_rejects_flat_input(void **state)
{
    (void)state;
    struct sn_layer *l = NULL;
    assert_int_equal(sn_lstm_create("r", sn_shape_make(10, 0, 0, 0), 4, false, &l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "time axis"));
    assert_int_equal(sn_gru_create("r", sn_shape_make(3, 4, 4, 0), 4, false, &l), SN_ESHAPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recurrent_match_pytorch),
        cmocka_unit_test(test_recurrent_backward_fd),
        cmocka_unit_test(test_recurrent_slices_agree),
        cmocka_unit_test(test_recurrent_rejects_flat_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
