/* test_shard: which rows each rank reads, checked for every rank of
 * several world sizes inside one process (no MPI needed). */
#include "testutil.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/interrupt.h"
#include "core/status.h"
#include "dist/shard.h"

/* Each epoch's permutation is a permutation, differs between epochs and
 * seeds, and repeats for the same (seed, epoch). */
static void test_shard_permutation(void **state)
{
    (void)state;
    enum { N = 1000 };
    int32_t a[N], b[N], c[N];
    sn_shard_permutation(3, 0, true, a, N);
    sn_shard_permutation(3, 0, true, b, N);
    assert_memory_equal(a, b, sizeof a);
    sn_shard_permutation(3, 1, true, c, N);
    assert_memory_not_equal(a, c, sizeof a);
    sn_shard_permutation(4, 0, true, c, N);
    assert_memory_not_equal(a, c, sizeof a);
    char seen[N] = { 0 };
    for (int i = 0; i < N; i++) {
        assert_true(a[i] >= 0 && a[i] < N);
        assert_false(seen[a[i]]);
        seen[a[i]] = 1;
    }
    sn_shard_permutation(3, 0, false, c, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(c[i], i);
}

/* Within an epoch no row is read twice; with N divisible by B every row is
 * read exactly once; otherwise exactly the last N mod B of the permutation
 * are skipped.  The same rows are read whatever P. */
static void check_epoch(size_t N, int B, int P)
{
    int32_t *perm = malloc(N * sizeof *perm);
    int *count = calloc(N, sizeof *count);
    sn_shard_permutation(11, 2, true, perm, N);
    int64_t steps = sn_shard_steps(N, B);
    assert_int_equal(steps, (int64_t)(N / (size_t)B));
    for (int64_t s = 0; s < steps; s++)
        for (int r = 0; r < P; r++) {
            const int32_t *rows = sn_shard_rows(perm, s, B, r, P);
            for (int k = 0; k < B / P; k++)
                count[rows[k]]++;
        }
    size_t used = (size_t)steps * (size_t)B;
    for (size_t i = 0; i < N; i++)
        assert_int_equal(count[perm[i]], i < used ? 1 : 0);
    free(perm);
    free(count);
}

static void test_shard_epoch_coverage(void **state)
{
    (void)state;
    check_epoch(120, 12, 1);
    check_epoch(120, 12, 2);
    check_epoch(120, 12, 3);
    check_epoch(120, 12, 4);
    check_epoch(130, 12, 3);   /* 10 rows skipped */
    check_epoch(7, 6, 6);      /* one row per rank */
}

/* Step s at P ranks reads exactly the rows step s reads at 1 rank. */
static void test_shard_same_rows_any_world_size(void **state)
{
    (void)state;
    enum { N = 97, B = 12 };
    int32_t perm[N];
    sn_shard_permutation(5, 0, true, perm, N);
    for (int64_t s = 0; s < sn_shard_steps(N, B); s++) {
        const int32_t *one = sn_shard_rows(perm, s, B, 0, 1);
        for (int P = 2; P <= 4; P++) {
            int k = 0;
            for (int r = 0; r < P; r++) {
                const int32_t *rows = sn_shard_rows(perm, s, B, r, P);
                for (int j = 0; j < B / P; j++)
                    assert_int_equal(rows[j], one[k++]);
            }
        }
    }
}

/* Evaluation blocks tile [0, N) with no gap, overlap or padding. */
static void test_shard_eval_ranges(void **state)
{
    (void)state;
    for (size_t N = 1; N < 40; N += 7)
        for (int P = 1; P <= 5; P++) {
            size_t next = 0;
            for (int r = 0; r < P; r++) {
                size_t b, e;
                sn_shard_range(N, r, P, &b, &e);
                assert_int_equal(b, next);
                assert_true(e - b <= N / (size_t)P + 1);
                next = e;
            }
            assert_int_equal(next, N);
        }
}

/* A stop request ends a long shuffle on the way, naming it; a short one
 * (under 4,096 rows) is done whole, the stop taken after. */
static void test_shard_permutation_stops(void **state)
{
    (void)state;
    enum { N = 1 << 13 };
    int32_t *perm = malloc(N * sizeof *perm);
    sn_interrupt_set(SIGTERM);
    assert_int_equal(sn_shard_permutation(3, 0, true, perm, N), SN_EINTR);
    assert_string_equal(sn_errmsg(), "interrupted by SIGTERM while shuffling the training rows");
    assert_int_equal(sn_shard_permutation(3, 0, false, perm, N), SN_OK);   /* nothing to stop */
    assert_int_equal(sn_shard_permutation(3, 0, true, perm, 1000), SN_OK);
    sn_interrupt_clear();
    assert_int_equal(sn_shard_permutation(3, 0, true, perm, N), SN_OK);
    char *seen = calloc(N, 1);
    for (int i = 0; i < N; i++)
        seen[perm[i]]++;
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    free(perm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shard_permutation),
        cmocka_unit_test(test_shard_epoch_coverage),
        cmocka_unit_test(test_shard_same_rows_any_world_size),
        cmocka_unit_test(test_shard_eval_ranges),
        cmocka_unit_test(test_shard_permutation_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
