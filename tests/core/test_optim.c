/* test_optim: optimizer trajectories against PyTorch's torch.optim
 * (tests/ref/ref_core.h) and the arithmetic of a hand-computed case. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/optim.h"
#include "core/parallel.h"
#include "core/status.h"
#include "ref/ref_core.h"
#include "ref/ref_speedrun.h"

/* Run 3 steps of cfg on w0 with the reference gradients. */
static void run3(const struct sn_optim_cfg *cfg, float lr, float traj[15])
{
    float w[5], dw[5];
    memcpy(w, optim_w0, sizeof w);
    struct sn_param p = { .name = "w", .len = 5, .trainable = true, .w = w, .dw = dw, .offset = 0,
                          .lr_mult = 1, .wd_mult = 1 };
    struct sn_param *plist[1] = { &p };
    struct sn_optim o;
    assert_int_equal(sn_optim_init(&o, cfg, 5), SN_OK);
    for (int s = 0; s < 3; s++) {
        memcpy(dw, optim_grads + 5 * s, sizeof dw);
        sn_optim_step(&o, plist, 1, lr);
        memcpy(traj + 5 * s, w, sizeof w);
    }
    assert_int_equal(o.t, 3);
    sn_optim_deinit(&o);
}

static struct sn_optim_cfg cfg_of(enum sn_optim_kind k, float mom, bool nest, float wd)
{
    struct sn_optim_cfg c = sn_optim_defaults(k);
    c.momentum = mom;
    c.nesterov = nest;
    c.weight_decay = wd;
    return c;
}

/* Each optimizer follows PyTorch's trajectory to 1e-5 relative. */
static void test_optim_matches_pytorch(void **state)
{
    (void)state;
    float t[15];
    struct sn_optim_cfg c;
    c = cfg_of(SN_OPT_SGD, 0, false, 0);
    run3(&c, 0.1f, t);
    assert_close_arrays(t, optim_sgd_traj, 15, 1e-6, 1e-5);
    c = cfg_of(SN_OPT_SGD, 0.9f, false, 0.01f);
    run3(&c, 0.1f, t);
    assert_close_arrays(t, optim_sgd_momentum_traj, 15, 1e-6, 1e-5);
    c = cfg_of(SN_OPT_SGD, 0.9f, true, 0.01f);
    run3(&c, 0.1f, t);
    assert_close_arrays(t, optim_sgd_nesterov_traj, 15, 1e-6, 1e-5);
    c = cfg_of(SN_OPT_ADAM, 0, false, 0.01f);
    run3(&c, 0.1f, t);
    assert_close_arrays(t, optim_adam_traj, 15, 1e-6, 1e-5);
    c = cfg_of(SN_OPT_ADAMW, 0, false, 0.05f);
    run3(&c, 0.1f, t);
    assert_close_arrays(t, optim_adamw_traj, 15, 1e-6, 1e-5);
    c = cfg_of(SN_OPT_ADAGRAD, 0, false, 0.01f);
    run3(&c, 0.1f, t);
    assert_close_arrays(t, optim_adagrad_traj, 15, 1e-6, 1e-5);
    c = cfg_of(SN_OPT_RMSPROP, 0, false, 0.01f);
    run3(&c, 0.01f, t);
    assert_close_arrays(t, optim_rmsprop_traj, 15, 1e-6, 1e-5);
    c = cfg_of(SN_OPT_RMSPROP, 0.9f, false, 0);
    run3(&c, 0.01f, t);
    assert_close_arrays(t, optim_rmsprop_momentum_traj, 15, 1e-6, 1e-5);
}

/* SGD with momentum by hand: w=1, g=0.5 then -0.2, lr 0.1, mu 0.9, wd 0.01. */
static void test_optim_sgd_momentum_hand(void **state)
{
    (void)state;
    float w = 1.0f, dw = 0.5f;
    struct sn_param p = { .len = 1, .trainable = true, .w = &w, .dw = &dw, .lr_mult = 1,
                          .wd_mult = 1 };
    struct sn_param *pl[1] = { &p };
    struct sn_optim o;
    struct sn_optim_cfg c = cfg_of(SN_OPT_SGD, 0.9f, false, 0.01f);
    assert_int_equal(sn_optim_init(&o, &c, 1), SN_OK);
    sn_optim_step(&o, pl, 1, 0.1f);          /* g = 0.51, buf = 0.51 */
    assert_float_equal(w, 0.949f, 1e-6);
    dw = -0.2f;
    sn_optim_step(&o, pl, 1, 0.1f);          /* g = -0.19051, buf = 0.26849 */
    assert_float_equal(o.state[0][0], 0.26849f, 1e-6);
    assert_float_equal(w, 0.922151f, 1e-6);
    sn_optim_deinit(&o);
}

/* Frozen parameters do not move; state names are PyTorch's. */
static void test_optim_frozen_and_names(void **state)
{
    (void)state;
    float w[2] = { 1, 2 }, dw[2] = { 1, 1 };
    struct sn_param a = { .len = 1, .trainable = true, .w = w, .dw = dw, .offset = 0,
                          .lr_mult = 1, .wd_mult = 1 };
    struct sn_param b = { .len = 1, .trainable = false, .w = w + 1, .dw = dw + 1, .offset = 1,
                          .lr_mult = 1, .wd_mult = 1 };
    struct sn_param *pl[2] = { &a, &b };
    struct sn_optim o;
    struct sn_optim_cfg c = cfg_of(SN_OPT_ADAM, 0, false, 0);
    assert_int_equal(sn_optim_init(&o, &c, 2), SN_OK);
    assert_int_equal(o.n_states, 2);
    assert_string_equal(o.state_names[0], "exp_avg");
    assert_string_equal(o.state_names[1], "exp_avg_sq");
    sn_optim_step(&o, pl, 2, 0.1f);
    assert_true(w[0] < 1.0f);
    assert_float_equal(w[1], 2.0f, 0);
    sn_optim_deinit(&o);
}

/* Bad hyperparameters are refused with their name. */
/* sn_sumsq: right, and the same bits at 1 and 2 threads. */
/* Blocks (the sharded optimizer): three optimizers over the blocks [0, 7),
 * [7, 7), [7, 23) of an arena of three parameters (a frozen one in the
 * middle) move every element exactly as one optimizer over the whole arena
 * does, for every kind, and hold state (the weight average included) for
 * their block only. */
static void test_optim_blocks_equal_whole(void **state)
{
    (void)state;
    enum { N = 23 };
    const size_t cut[4] = { 0, 7, 7, N };   /* 7 falls inside the first parameter (len 9) */
    const enum sn_optim_kind kinds[] = { SN_OPT_SGD, SN_OPT_ADAM, SN_OPT_ADAMW, SN_OPT_ADAGRAD,
                                         SN_OPT_RMSPROP };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct sn_optim_cfg c = cfg_of(kinds[k], kinds[k] == SN_OPT_SGD || kinds[k] == SN_OPT_RMSPROP
                                       ? 0.9f : 0, kinds[k] == SN_OPT_SGD, 0.01f);
        c.decoupled_wd = kinds[k] == SN_OPT_RMSPROP;
        c.ema = 0.5f;   /* the average and Lookahead, too, per block */
        c.ema_every = 1;
        c.lookahead_k = 2;
        c.lookahead_alpha = 0.5f;
        float w1[N], w2[N], dw[N];
        sn_test_fill(w1, N, 5, -1, 1);
        memcpy(w2, w1, sizeof w1);
        struct sn_param p1[3], p2[3], *l1[3], *l2[3];
        const size_t off[3] = { 0, 9, 13 }, len[3] = { 9, 4, 10 };
        for (int i = 0; i < 3; i++) {
            p1[i] = (struct sn_param){ .len = len[i], .trainable = i != 1, .offset = off[i],
                                       .w = w1 + off[i], .dw = dw + off[i],
                                       .lr_mult = 1.0f + (float)i, .wd_mult = 0.5f * (float)i };
            p2[i] = p1[i];
            p2[i].w = w2 + off[i];
            l1[i] = &p1[i];
            l2[i] = &p2[i];
        }
        struct sn_optim whole, part[3];
        assert_int_equal(sn_optim_init(&whole, &c, N), SN_OK);
        for (int b = 0; b < 3; b++) {
            assert_int_equal(sn_optim_init_block(&part[b], &c, cut[b], cut[b + 1] - cut[b]), SN_OK);
            assert_int_equal(part[b].len, cut[b + 1] - cut[b]);
        }
        for (int step = 0; step < 4; step++) {
            sn_test_fill(dw, N, 100 + (uint64_t)step, -1, 1);
            sn_optim_step(&whole, l1, 3, 0.05f);
            for (int b = 0; b < 3; b++)
                sn_optim_step(&part[b], l2, 3, 0.05f);
        }
        assert_memory_equal(w1, w2, sizeof w1);
        for (int s = 0; s < whole.n_states; s++)
            for (int b = 0; b < 3; b++)
                assert_memory_equal(part[b].state[s], whole.state[s] + cut[b],
                                    (cut[b + 1] - cut[b]) * sizeof(float));
        sn_optim_deinit(&whole);
        for (int b = 0; b < 3; b++)
            sn_optim_deinit(&part[b]);
    }
}

/* The weight average (ema = 0.9 every 2 steps, with and without the
 * warm-up of the decay) after each of 7 steps of adam, and of sgd and
 * rmsprop without momentum (whose own state is not the average's),
 * against the same recurrence in double from the weights: the first
 * average copies, the k-th mixes with d = 0.9 or min(0.9, (1 + k) / (10 +
 * k)); it is the last state, named ema; a frozen parameter keeps a zero
 * average and its own weights when the average is loaded. */
static void test_optim_ema(void **state)
{
    (void)state;
    const enum sn_optim_kind kinds[3] = { SN_OPT_ADAM, SN_OPT_SGD, SN_OPT_RMSPROP };
    for (int run = 0; run < 4; run++) {
        const int warm = run == 1;
        const enum sn_optim_kind kind = kinds[run < 2 ? 0 : run - 1];
        float w[5] = { 1, -2, 3, 7, 8 }, dw[5];
        struct sn_param a = { .len = 3, .trainable = true, .w = w, .dw = dw, .offset = 0,
                              .lr_mult = 1, .wd_mult = 1 };
        struct sn_param b = { .len = 2, .trainable = false, .w = w + 3, .dw = dw + 3,
                              .offset = 3, .lr_mult = 1, .wd_mult = 1 };
        struct sn_param *pl[2] = { &a, &b };
        struct sn_optim_cfg c = cfg_of(kind, 0, false, 0);
        c.ema = 0.9f;
        c.ema_every = 2;
        c.ema_warmup = warm;
        struct sn_optim o;
        assert_int_equal(sn_optim_init(&o, &c, 5), SN_OK);
        const int e_at = o.n_states - 1;
        assert_int_equal(o.n_states, kind == SN_OPT_ADAM ? 3 : kind == SN_OPT_SGD ? 1 : 2);
        assert_string_equal(o.state_names[e_at], "ema");
        double e[3] = { 0, 0, 0 };
        for (int t = 1; t <= 7; t++) {
            sn_test_fill(dw, 5, 40 + (uint64_t)t, -1, 1);
            sn_optim_step(&o, pl, 2, 0.1f);
            assert_int_equal(sn_optim_has_average(&o), t >= 2);
            if (t % 2)
                continue;
            int k = t / 2;
            double d = warm && (1.0 + k) / (10.0 + k) < 0.9 ? (1.0 + k) / (10.0 + k) : 0.9;
            for (int i = 0; i < 3; i++)
                e[i] = k == 1 ? w[i] : d * e[i] + (1.0 - d) * w[i];
            for (int i = 0; i < 3; i++)
                assert_float_equal(o.state[e_at][i], e[i], 1e-6);
        }
        assert_float_equal(o.state[e_at][3], 0.0f, 0);
        assert_true(fabs(w[0] - e[0]) > 1e-3);   /* the average lags the weights */
        sn_optim_load_average(&o, pl, 2);
        for (int i = 0; i < 3; i++)
            assert_float_equal(w[i], o.state[e_at][i], 0);
        assert_float_equal(w[3], 7.0f, 0);
        assert_float_equal(w[4], 8.0f, 0);
        sn_optim_deinit(&o);
    }
}

/* Lookahead (k = 3, alpha = 0.5) around Nesterov SGD and around Adam,
 * both with weight decay: 8 steps (two syncs and two steps after) follow
 * the wrapper of tests/ref/make_ref_speedrun.py on torch.optim to 1e-5
 * relative, and so do the slow weights; they are the state slow_weights,
 * before ema when both are on; a frozen parameter neither moves nor gets
 * slow weights. */
static void test_optim_lookahead_matches_pytorch(void **state)
{
    (void)state;
    for (int run = 0; run < 3; run++) {
        const bool adam = run == 1, ema = run == 2;
        float w[6], dw[6], traj[lookahead_steps * 5];
        memcpy(w, lookahead_w0, 5 * sizeof *w);
        w[5] = 4.0f;
        struct sn_param a = { .len = 5, .trainable = true, .w = w, .dw = dw, .offset = 0,
                              .lr_mult = 1, .wd_mult = 1 };
        struct sn_param b = { .len = 1, .trainable = false, .w = w + 5, .dw = dw + 5,
                              .offset = 5, .lr_mult = 1, .wd_mult = 1 };
        struct sn_param *pl[2] = { &a, &b };
        struct sn_optim_cfg c = adam ? cfg_of(SN_OPT_ADAM, 0, false, 0.01f)
                                     : cfg_of(SN_OPT_SGD, 0.9f, true, 0.01f);
        c.lookahead_k = lookahead_k;
        c.lookahead_alpha = lookahead_alpha;
        c.ema = ema ? 0.5f : 0.0f;
        c.ema_every = 1;
        struct sn_optim o;
        assert_int_equal(sn_optim_init(&o, &c, 6), SN_OK);
        const int at = o.n_states - 1 - ema;
        assert_int_equal(o.n_states, (adam ? 3 : 2) + ema);
        assert_string_equal(o.state_names[at], "slow_weights");
        for (int s = 0; s < lookahead_steps; s++) {
            memcpy(dw, lookahead_grads + 5 * s, 5 * sizeof *dw);
            dw[5] = 1.0f;
            sn_optim_step(&o, pl, 2, 0.1f);
            memcpy(traj + 5 * s, w, 5 * sizeof *w);
            if ((s + 1) % lookahead_k == 0)   /* synced: the weights are the slow ones */
                assert_memory_equal(w, o.state[at], 5 * sizeof *w);
        }
        assert_close_arrays(traj, adam ? lookahead_adam_traj : lookahead_sgd_traj,
                            lookahead_steps * 5, 1e-6, 1e-5);
        assert_close_arrays(o.state[at], adam ? lookahead_adam_slow : lookahead_sgd_slow, 5,
                            1e-6, 1e-5);
        assert_float_equal(w[5], 4.0f, 0);
        assert_float_equal(o.state[at][5], 0.0f, 0);
        sn_optim_deinit(&o);
    }
}

static void test_optim_sumsq(void **state)
{
    (void)state;
    enum { N = 300001 };
    float *g = malloc(N * sizeof *g);
    assert_non_null(g);
    sn_test_fill(g, N, 11, -2, 2);
    double want = 0.0;
    for (size_t i = 0; i < N; i++)
        want += (double)g[i] * g[i];
    sn_parallel_set_threads(1);
    double one = sn_sumsq(g, N);
    sn_parallel_set_threads(2);
    double two = sn_sumsq(g, N);
    assert_true(fabs(one - want) <= 1e-6 * want);
    assert_memory_equal(&one, &two, sizeof one);
    assert_true(sn_sumsq(g, 0) == 0.0);
    assert_true(fabs(sn_sumsq(g, 5) - ((double)g[0] * g[0] + (double)g[1] * g[1] +
                (double)g[2] * g[2] + (double)g[3] * g[3] + (double)g[4] * g[4])) < 1e-5);
    g[N / 2] = NAN;
    assert_true(isnan(sn_sumsq(g, N)));
    free(g);
}

static void test_optim_rejects_bad_values(void **state)
{
    (void)state;
    struct sn_optim o;
    struct sn_optim_cfg c = cfg_of(SN_OPT_SGD, 1.5f, false, 0);
    assert_int_equal(sn_optim_init(&o, &c, 1), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "momentum"));
    c = cfg_of(SN_OPT_ADAM, 0, true, 0);
    assert_int_equal(sn_optim_init(&o, &c, 1), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "nesterov"));
    c = cfg_of(SN_OPT_SGD, 0, false, 0);
    c.ema = 1.0f;
    c.ema_every = 1;
    assert_int_equal(sn_optim_init(&o, &c, 1), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "ema must be in [0, 1)"));
    c.ema = 0.5f;
    c.ema_every = 0;
    assert_int_equal(sn_optim_init(&o, &c, 1), SN_EINVAL);
    c = cfg_of(SN_OPT_SGD, 0, false, 0);
    const float alphas[3] = { 0.0f, 1.5f, NAN };
    for (int i = 0; i < 3; i++) {
        c.lookahead_k = 5;
        c.lookahead_alpha = alphas[i];
        assert_int_equal(sn_optim_init(&o, &c, 1), SN_EINVAL);
        assert_non_null(strstr(sn_errmsg(), "lookahead_alpha in (0, 1]"));
    }
    c.lookahead_k = -1;
    c.lookahead_alpha = 0.5f;
    assert_int_equal(sn_optim_init(&o, &c, 1), SN_EINVAL);
    enum sn_optim_kind k;
    assert_int_equal(sn_optim_parse("lbfgs", &k), SN_EINVAL);
}

/* Two parameter groups (lr_mult 2 and wd_mult 0.5 on the first three
 * values) follow PyTorch's SGD with two param groups (Nesterov, coupled
 * weight decay), and with decoupled_wd its SGDW emulation (p *= 1 - lr wd,
 * then SGD without decay), to 1e-5 relative; Adam with decoupled_wd is
 * AdamW bit for bit. */
static void test_optim_groups_and_decoupled(void **state)
{
    (void)state;
    for (int decoupled = 0; decoupled < 2; decoupled++) {
        float w[5], dw[5];
        memcpy(w, optim_w0, sizeof w);
        struct sn_param a = { .len = 3, .trainable = true, .w = w, .dw = dw, .offset = 0,
                              .lr_mult = 2, .wd_mult = 0.5f };
        struct sn_param b = { .len = 2, .trainable = true, .w = w + 3, .dw = dw + 3, .offset = 3,
                              .lr_mult = 1, .wd_mult = 1 };
        struct sn_param *pl[2] = { &a, &b };
        struct sn_optim_cfg c = cfg_of(SN_OPT_SGD, 0.9f, true, 0.01f);
        c.decoupled_wd = decoupled;
        struct sn_optim o;
        assert_int_equal(sn_optim_init(&o, &c, 5), SN_OK);
        float traj[15];
        for (int s = 0; s < 3; s++) {
            memcpy(dw, optim_grads + 5 * s, sizeof dw);
            sn_optim_step(&o, pl, 2, 0.1f);
            memcpy(traj + 5 * s, w, sizeof w);
        }
        assert_close_arrays(traj, decoupled ? optim_sgdw_groups_traj : optim_sgd_groups_traj, 15,
                            1e-6, 1e-5);
        sn_optim_deinit(&o);
    }
    float t1[15], t2[15];
    struct sn_optim_cfg c = cfg_of(SN_OPT_ADAM, 0, false, 0.05f);
    c.decoupled_wd = true;
    run3(&c, 0.1f, t1);
    c = cfg_of(SN_OPT_ADAMW, 0, false, 0.05f);
    run3(&c, 0.1f, t2);
    assert_memory_equal(t1, t2, sizeof t1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optim_matches_pytorch),
        cmocka_unit_test(test_optim_sgd_momentum_hand),
        cmocka_unit_test(test_optim_frozen_and_names),
        cmocka_unit_test(test_optim_rejects_bad_values),
        cmocka_unit_test(test_optim_sumsq),
        cmocka_unit_test(test_optim_blocks_equal_whole),
        cmocka_unit_test(test_optim_groups_and_decoupled),
        cmocka_unit_test(test_optim_ema),
        cmocka_unit_test(test_optim_lookahead_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
