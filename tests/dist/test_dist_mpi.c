/* test_dist_mpi: the MPI backend, run as 1, 2 and 3 ranks by tests/run.sh.
 *
 * Checks the collectives, then trains a small model for several steps on
 * data made in memory with the real pieces (shard, model, loss, allreduce,
 * optimizer) and checks that every example is seen once per epoch across
 * ranks and that all replicas hold bitwise-identical parameters. */
#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loss.h"
#include "core/optim.h"
#include "core/status.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "io/modelfile.h"

/* The mean of rank-dependent values is the same known value everywhere,
 * also for lengths that need several chunks of the arena. */
static void test_dist_allreduce_mean(void **state)
{
    (void)state;
    int P = sn_dist_size(), r = sn_dist_rank();
    enum { N = 1000 };
    float buf[N];
    for (int i = 0; i < N; i++)
        buf[i] = (float)(r + 1) * (float)i;
    assert_int_equal(sn_dist_allreduce_mean_f32(buf, N), SN_OK);
    for (int i = 0; i < N; i++)
        assert_float_equal(buf[i], (float)i * (float)(P + 1) / 2.0f, 1e-3f * (float)i);
    double d[2] = { 1.5, (double)r };
    int64_t n[1] = { r + 1 };
    int mx[1] = { r * 10 };
    assert_int_equal(sn_dist_allreduce_sum_f64(d, 2), SN_OK);
    assert_int_equal(sn_dist_allreduce_sum_i64(n, 1), SN_OK);
    assert_int_equal(sn_dist_allreduce_max_int(mx, 1), SN_OK);
    assert_float_equal(d[0], 1.5 * P, 1e-12);
    assert_float_equal(d[1], P * (P - 1) / 2.0, 1e-12);
    assert_int_equal(n[0], P * (P + 1) / 2);
    assert_int_equal(mx[0], (P - 1) * 10);
    char msg[16] = "";
    if (r == 0)
        strcpy(msg, "from rank 0");
    assert_int_equal(sn_dist_bcast(msg, sizeof msg, 0), SN_OK);
    assert_string_equal(msg, "from rank 0");
    assert_int_equal(sn_dist_barrier(), SN_OK);
}

static const char cfg[] =
    "[net]\ninput = 8\nbatch = 12\noptimizer = sgd\nlr = 0.1\nmomentum = 0.9\n"
    "[dense]\nunits = 16\nactivation = tanh\n[dense]\nunits = 3\n";

/* The shared gradient arena (made once in main: one per process). */
enum { ARENA = 4099 };
static float *arena;

/* With ranks on one host there is an arena (with one rank there is none);
 * a second one is refused.  Means over ranges of it, blocking and noted
 * (adjacent ranges merged), are the mean, leave the rest alone, and give
 * every rank the same bits. */
static void test_dist_shared_arena(void **state)
{
    (void)state;
    int P = sn_dist_size(), r = sn_dist_rank();
    if (P == 1) {
        assert_null(arena);
        return;
    }
    assert_non_null(arena);   /* tests/run.sh starts every rank on this host */
    float *again = NULL;
    assert_int_equal(sn_dist_shared_arena(10, &again), SN_EDIST);
    assert_non_null(strstr(sn_errmsg(), "exists already"));
    for (int i = 0; i < ARENA; i++)
        arena[i] = (float)(r + 1) * (float)i + 0.1f * (float)r;
    assert_int_equal(sn_dist_allreduce_mean_f32(arena + 7, 1000), SN_OK);
    /* three adjacent buckets, last first, as backward starts them, and one apart */
    assert_int_equal(sn_dist_iallreduce_mean_f32(arena + 3000, ARENA - 3000), SN_OK);
    assert_int_equal(sn_dist_iallreduce_mean_f32(arena + 2000, 1000), SN_OK);
    assert_int_equal(sn_dist_iallreduce_mean_f32(arena + 1999, 1), SN_OK);
    assert_int_equal(sn_dist_iallreduce_mean_f32(arena + 1500, 3), SN_OK);
    assert_int_equal(sn_dist_progress(), SN_OK);
    assert_int_equal(sn_dist_finish_all(), SN_OK);
    for (int i = 0; i < ARENA; i++) {
        bool averaged = (i >= 7 && i < 1007) || (i >= 1500 && i < 1503) || i >= 1999;
        float want = averaged ? (float)i * (float)(P + 1) / 2.0f + 0.05f * (float)(P - 1)
                              : (float)(r + 1) * (float)i + 0.1f * (float)r;
        assert_float_equal(arena[i], want, 1e-5f * (float)(i + 1));
    }
    float *root = malloc(ARENA * sizeof *root);
    memcpy(root, arena, ARENA * sizeof *root);
    assert_int_equal(sn_dist_bcast(root, ARENA * sizeof *root, 0), SN_OK);
    for (int i = 0; i < ARENA; i++) {
        bool averaged = (i >= 7 && i < 1007) || (i >= 1500 && i < 1503) || i >= 1999;
        if (averaged)
            assert_memory_equal(&arena[i], &root[i], sizeof *root);
    }
    free(root);
}

/* Train on a synthetic problem; returns the model (caller destroys).
 * shared: the gradients in the shared arena when there is one. */
static struct sn_model *train_steps(int epochs, bool shared, int **seen_out, size_t *N_out)
{
    enum { N = 60, F = 8, K = 3 };
    int P = sn_dist_size(), rank = sn_dist_rank();
    struct sn_netcfg net;
    struct sn_model *m;
    assert_int_equal(sn_modelfile_parse(cfg, "t.cfg", &net, &m), SN_OK);
    int b = net.batch / P;
    struct sn_rng r;
    sn_rng_seed(&r, 1, 1);
    assert_int_equal(sn_model_build(m, b, &r), SN_OK);
    if (shared && arena) {
        assert_true(m->n_params + SN_GRAD_SPARE <= ARENA);
        sn_model_use_grads(m, arena);
        assert_ptr_equal(m->grads, arena);
    }
    struct sn_optim o;
    assert_int_equal(sn_optim_init(&o, &net.optim, m->n_params), SN_OK);
    static float X[N * F];
    static int Y[N];
    sn_test_fill(X, N * F, 3, -1, 1);
    for (int i = 0; i < N; i++)
        Y[i] = (X[i * F] > 0) + (X[i * F + 1] > 0.5f);
    int *seen = calloc(N, sizeof *seen);
    int32_t perm[N];
    float x[12 * F], dz[12 * K];
    int y[12];
    for (int e = 0; e < epochs; e++) {
        sn_shard_permutation(7, e, true, perm, N);
        for (int64_t s = 0; s < sn_shard_steps(N, net.batch); s++) {
            const int32_t *rows = sn_shard_rows(perm, s, net.batch, rank, P);
            for (int k = 0; k < b; k++) {
                memcpy(x + k * F, X + rows[k] * F, F * sizeof(float));
                y[k] = Y[rows[k]];
                if (e == 0)
                    seen[rows[k]]++;
            }
            sn_model_zero_grad(m);
            const float *z = sn_model_forward(m, x, b, true, NULL);
            sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, y, NULL, b, K, 0.0f, 1.0f / b, dz, NULL);
            sn_model_backward(m, dz, b, NULL);
            assert_int_equal(sn_dist_allreduce_mean_f32(m->grads, m->n_params), SN_OK);
            sn_optim_step(&o, m->plist, m->n_plist, net.sched.lr);
        }
    }
    sn_optim_deinit(&o);
    *seen_out = seen;
    *N_out = N;
    return m;
}

/* The sharded optimizer's collectives with blocks of unequal sizes (one
 * may be empty): each rank's block of the reduce-scatter is the mean, the
 * allgather gives every rank every block, the gather puts them in order on
 * rank 0. */
static void test_dist_blocks(void **state)
{
    (void)state;
    int P = sn_dist_size(), r = sn_dist_rank();
    enum { N = 11 };
    int counts[8], displs[8], at = 0;
    assert_true(P <= 8);
    for (int q = 0; q < P; q++) {
        counts[q] = q == 1 ? 0 : (N - at) / (P - q) + (q == 0);
        if (q == P - 1)
            counts[q] = N - at;
        displs[q] = at;
        at += counts[q];
    }
    float buf[N], all[N];
    for (int i = 0; i < N; i++)
        buf[i] = (float)(r + 1) * (float)(i + 1);
    assert_int_equal(sn_dist_reduce_scatter_mean_f32(buf, counts, displs), SN_OK);
    for (int i = displs[r]; i < displs[r] + counts[r]; i++)
        assert_float_equal(buf[i], (float)(i + 1) * (float)(P + 1) / 2.0f, 1e-5f * (float)(i + 1));
    for (int i = displs[r]; i < displs[r] + counts[r]; i++)
        buf[i] = (float)(100 * r + i);
    assert_int_equal(sn_dist_gather_f32(buf + displs[r], all, counts, displs), SN_OK);
    assert_int_equal(sn_dist_allgather_f32(buf, counts, displs), SN_OK);
    for (int q = 0; q < P; q++)
        for (int i = displs[q]; i < displs[q] + counts[q]; i++) {
            assert_float_equal(buf[i], (float)(100 * q + i), 0);
            if (r == 0)
                assert_float_equal(all[i], (float)(100 * q + i), 0);
        }
}

/* Every example is seen exactly once in an epoch, summed over ranks. */
static void test_dist_each_example_once(void **state)
{
    (void)state;
    int *seen;
    size_t N;
    struct sn_model *m = train_steps(1, false, &seen, &N);
    int64_t *total = calloc(N, sizeof *total);
    for (size_t i = 0; i < N; i++)
        total[i] = seen[i];
    assert_int_equal(sn_dist_allreduce_sum_i64(total, (int)N), SN_OK);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(total[i], 1);
    free(total);
    free(seen);
    sn_model_destroy(m);
}

/* After 3 epochs (15 steps) every rank holds the same bits as rank 0,
 * with the gradients averaged through MPI and through the shared arena;
 * for two ranks both ways give the same bits (a + b, then times 1/2). */
static void test_dist_replicas_identical(void **state)
{
    (void)state;
    float *params[2] = { NULL, NULL };
    size_t bytes = 0;
    for (int way = 0; way < 2; way++) {
        int *seen;
        size_t N;
        struct sn_model *m = train_steps(3, way == 1, &seen, &N);
        bytes = m->n_params * sizeof(float);
        float *root = malloc(bytes);
        params[way] = malloc(bytes);
        memcpy(params[way], m->params, bytes);
        memcpy(root, m->params, bytes);
        assert_int_equal(sn_dist_bcast(root, bytes, 0), SN_OK);
        assert_memory_equal(params[way], root, bytes);
        for (size_t i = 0; i < m->n_params; i++)
            assert_true(isfinite(params[way][i]));
        free(root);
        free(seen);
        sn_model_destroy(m);
    }
    if (sn_dist_size() <= 2)
        assert_memory_equal(params[0], params[1], bytes);
    free(params[0]);
    free(params[1]);
}

int main(int argc, char **argv)
{
    if (sn_dist_init(&argc, &argv)) {
        fprintf(stderr, "%s\n", sn_errmsg());
        return 1;
    }
    if (sn_dist_shared_arena(ARENA, &arena)) {
        fprintf(stderr, "%s\n", sn_errmsg());
        sn_dist_abort(1);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dist_allreduce_mean),
        cmocka_unit_test(test_dist_shared_arena),
        cmocka_unit_test(test_dist_blocks),
        cmocka_unit_test(test_dist_each_example_once),
        cmocka_unit_test(test_dist_replicas_identical),
    };
    /* one rank's failure must fail the run: agree on the result */
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    int any = failed != 0;
    sn_dist_allreduce_max_int(&any, 1);
    sn_dist_finalize();
    return any;
}
