/* test_dist_mpi: the MPI backend, run as 1, 2 and 3 ranks by tests/run.sh:
 * the collectives, the shared arenas, the agreement on a status, the
 * 16-bit exchanges, the flight recorder, the hosts (real and fake) and
 * their windows.  (Training with them is tests/train/test_trainer_mpi.c
 * and test_reducer_mpi.c.) */
#include "testutil.h"

#include <mpi.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "core/status.h"
#include "core/interrupt.h"
#include "dist/dist.h"

/* The mean of rank-dependent values is the same known value everywhere,
 * in one call and in chunks (the chunk limit, INT_MAX elements in real
 * runs, set to 100 so that 1003 values take eleven calls); broadcasts
 * likewise. */
static void test_dist_allreduce_mean(void **state)
{
    (void)state;
    int P = sn_dist_size(), r = sn_dist_rank();
    enum { N = 1003 };
    float buf[N];
    for (size_t chunk = 0; chunk <= 100; chunk += 100) {
        sn_dist_set_chunk(chunk);
        for (int i = 0; i < N; i++)
            buf[i] = (float)(r + 1) * (float)i;
        assert_int_equal(sn_dist_allreduce_mean_f32(buf, N), SN_OK);
        for (int i = 0; i < N; i++)
            assert_float_equal(buf[i], (float)i * (float)(P + 1) / 2.0f, 1e-3f * (float)i);
        char bytes[N];
        for (int i = 0; i < N; i++)
            bytes[i] = (char)(r == 0 ? i % 101 : 0);
        assert_int_equal(sn_dist_bcast(bytes, N, 0), SN_OK);
        for (int i = 0; i < N; i++)
            assert_int_equal(bytes[i], i % 101);
    }
    sn_dist_set_chunk(0);
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

/* The shared gradient arena (made once in main). */
enum { ARENA = 4099 };
static float *arena;

/* With ranks on one host there is an arena (with one rank there is none).
 * Means over ranges of it are the mean, leave the rest alone, and give
 * every rank the same bits; for two ranks the same bits as MPI_Allreduce. */
static void test_dist_shared_arena(void **state)
{
    (void)state;
    int P = sn_dist_size(), r = sn_dist_rank();
    if (P == 1) {
        assert_null(arena);
        return;
    }
    assert_non_null(arena);   /* tests/run.sh starts every rank on this host */
    for (int i = 0; i < ARENA; i++)
        arena[i] = (float)(r + 1) * (float)i + 0.1f * (float)r;
    float *msg = malloc(ARENA * sizeof *msg);
    memcpy(msg, arena, ARENA * sizeof *msg);
    assert_int_equal(sn_dist_shared_mean(arena, 7, 1007), SN_OK);
    assert_int_equal(sn_dist_shared_mean(arena, 1500, 1503), SN_OK);
    assert_int_equal(sn_dist_shared_mean(arena, 1999, ARENA), SN_OK);
    assert_int_equal(sn_dist_allreduce_mean_f32(msg, ARENA), SN_OK);
    for (int i = 0; i < ARENA; i++) {
        bool averaged = (i >= 7 && i < 1007) || (i >= 1500 && i < 1503) || i >= 1999;
        float want = averaged ? (float)i * (float)(P + 1) / 2.0f + 0.05f * (float)(P - 1)
                              : (float)(r + 1) * (float)i + 0.1f * (float)r;
        assert_float_equal(arena[i], want, 1e-5f * (float)(i + 1));
        if (averaged && P == 2)
            assert_memory_equal(&arena[i], &msg[i], sizeof *msg);
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
    free(msg);
    /* a range outside any arena is refused */
    float other[4];
    assert_int_equal(sn_dist_shared_mean(other, 0, 4), SN_EDIST);
}

/* Up to SN_DIST_MAX_WINDOWS arenas at once, each its own memory; a freed
 * one's place can be taken again. */
static void test_dist_shared_windows(void **state)
{
    (void)state;
    if (sn_dist_size() == 1)
        return;
    float *w[SN_DIST_MAX_WINDOWS] = { NULL };
    int n = 1;   /* main's arena holds one place */
    for (; n < SN_DIST_MAX_WINDOWS; n++) {
        assert_int_equal(sn_dist_shared_arena(64, &w[n]), SN_OK);
        assert_non_null(w[n]);
        w[n][0] = (float)(n * 10 + sn_dist_rank());
    }
    float *extra = NULL;
    assert_int_equal(sn_dist_shared_arena(64, &extra), SN_EDIST);
    for (int k = 1; k < n; k++) {
        assert_int_equal(sn_dist_shared_mean(w[k], 0, 1), SN_OK);
        assert_float_equal(w[k][0], (float)k * 10 + (float)(sn_dist_size() - 1) / 2.0f, 1e-5);
    }
    sn_dist_shared_free(w[1]);
    assert_int_equal(sn_dist_shared_arena(64, &extra), SN_OK);
    assert_non_null(extra);
    sn_dist_shared_free(extra);
    for (int k = 2; k < n; k++)
        sn_dist_shared_free(w[k]);
}

/* One status for all: nobody failed -> SN_OK; some failed -> the lowest
 * failing rank's code and message everywhere, named unless all failed. */
static void test_dist_agree(void **state)
{
    (void)state;
    int P = sn_dist_size(), r = sn_dist_rank();
    assert_int_equal(sn_dist_agree(SN_OK), SN_OK);
    int rc = r == P - 1 ? sn_fail(SN_EINVAL, "bad block on rank %d", r) : SN_OK;
    assert_int_equal(sn_dist_agree(rc), SN_EINVAL);
    char want[160], host[64] = "";
    gethostname(host, sizeof host - 1);   /* the ranks of this test share one */
    if (P == 1)
        snprintf(want, sizeof want, "bad block on rank 0");
    else   /* the failing rank named with its host: the node to look at */
        snprintf(want, sizeof want, "rank %d (host %s): bad block on rank %d", P - 1, host, P - 1);
    assert_string_equal(sn_errmsg(), want);
    /* every rank fails: rank 0's words, without a name */
    rc = sn_fail(r == 0 ? SN_EIO : SN_EINVAL, "trouble at %d", r);
    assert_int_equal(sn_dist_agree(rc), SN_EIO);
    assert_string_equal(sn_errmsg(), "trouble at 0");
}

/* Stops passed to every rank.  The last rank's relay, told of its own
 * stop (its rank + 100), sends it to every other rank, whose relays bring
 * it in; told of it, they send nothing of theirs, and a second send is not
 * sent.  Then every rank sends at once: each settling takes in the others'
 * P - 1, so none is left for a later ask.  A settling with no stop sent is
 * a no-op. */
static void test_dist_stop_relay(void **state)
{
    (void)state;
    const int P = sn_dist_size(), r = sn_dist_rank();
    assert_int_equal(sn_dist_stop_settle(), SN_OK);
    sn_interrupt_clear();
    sn_interrupt_relay(sn_dist_stop_relay);
    if (r == P - 1) {
        sn_interrupt_set(r + 100);
        assert_int_equal(sn_interrupt_pending(), r + 100);
        assert_int_equal(sn_dist_stop_send(r + 200), SN_OK);   /* once: not sent */
    } else {
        int sig = 0;
        for (int i = 0; i < 5000 && !(sig = sn_interrupt_pending()); i++)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
        assert_int_equal(sig, P - 1 + 100);
        assert_int_equal(sn_dist_stop_send(r + 300), SN_OK);   /* told already: not sent */
    }
    sn_interrupt_relay(NULL);
    sn_interrupt_clear();
    assert_int_equal(sn_dist_stop_settle(), SN_OK);
    assert_int_equal(sn_dist_stop_received(), 0);
    assert_int_equal(sn_dist_barrier(), SN_OK);   /* every rank has looked before the next sends */
    assert_int_equal(sn_dist_stop_send(r + 400), SN_OK);   /* every rank at once */
    assert_int_equal(sn_dist_stop_settle(), SN_OK);
    assert_int_equal(sn_dist_stop_received(), 0);
    assert_int_equal(sn_interrupt_pending(), 0);
    assert_int_equal(sn_dist_barrier(), SN_OK);
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


/* The compressed wire's collectives over the world: block j of every
 * rank's send buffer reaches rank j in rank order (ialltoallv, blocks of
 * unequal sizes), every rank's block of an allgather reaches every rank;
 * a scatter is a gather's reverse. */
static void test_dist_exchange_u16(void **state)
{
    (void)state;
    const int P = sn_dist_size(), r = sn_dist_rank();
    enum { N = 13 };
    int counts[8], displs[8], rcounts[8], rdispls[8];
    assert_true(P <= 8);
    for (int j = 0; j < P; j++) {
        displs[j] = N * j / P;
        counts[j] = N * (j + 1) / P - displs[j];
    }
    for (int j = 0; j < P; j++) {
        rcounts[j] = counts[r];
        rdispls[j] = j * counts[r];
    }
    uint16_t send[N], recv[8 * N], all[N];
    for (int i = 0; i < N; i++)
        send[i] = (uint16_t)(1000 * r + i);
    int ra, rb;
    assert_int_equal(sn_dist_ialltoallv_u16(send, counts, displs, recv, rcounts, rdispls,
                                            SN_DIST_WORLD, &ra), SN_OK);
    bool done = false;
    assert_int_equal(sn_dist_wait(ra), SN_OK);
    assert_int_equal(sn_dist_test(ra, &done), SN_OK);
    assert_true(done);
    for (int j = 0; j < P; j++)
        for (int i = 0; i < counts[r]; i++)
            assert_int_equal(recv[j * counts[r] + i], 1000 * j + displs[r] + i);
    for (int i = 0; i < counts[r]; i++)
        all[displs[r] + i] = (uint16_t)(7 * r + i);
    assert_int_equal(sn_dist_iallgatherv_u16(all, counts, displs, SN_DIST_WORLD, &rb), SN_OK);
    assert_int_equal(sn_dist_finish_all(), SN_OK);
    for (int j = 0; j < P; j++)
        for (int i = 0; i < counts[j]; i++)
            assert_int_equal(all[displs[j] + i], 7 * j + i);
    float whole[N], mine[N];
    for (int i = 0; i < N; i++)
        whole[i] = r == 0 ? (float)i : -1.0f;
    assert_int_equal(sn_dist_scatter_f32(whole, mine, counts, displs), SN_OK);
    for (int i = 0; i < counts[r]; i++)
        assert_float_equal(mine[i], (float)(displs[r] + i), 0);
}

/* The flight recorder counts every collective once, knows it has left
 * it, and keeps the context it was given. */
static void test_dist_flight(void **state)
{
    (void)state;
    struct sn_dist_flight a, b;
    sn_dist_flight_step(41);
    sn_dist_flight_bucket(3);
    sn_dist_flight_read(&a);
    assert_int_equal(sn_dist_barrier(), SN_OK);
    double d = 1.0;
    assert_int_equal(sn_dist_allreduce_sum_f64(&d, 1), SN_OK);
    assert_int_equal(sn_dist_agree(SN_OK), SN_OK);
    sn_dist_flight_read(&b);
    assert_int_equal(b.seq, a.seq + 3);
    assert_false(b.inside);
    assert_int_equal(b.op, SN_OP_AGREE);
    assert_int_equal(b.step, 41);
    assert_int_equal(b.bucket, 3);
    assert_string_equal(sn_dist_op_name(SN_OP_BARRIER), "MPI_Barrier");
    sn_dist_flight_bucket(-1);
}

/* Fake hosts: K blocks of consecutive ranks (rank r on host r K / P),
 * each with its leader, its size and its own window, whose parts and
 * flags every rank of the host sees and no other host does; the hosts
 * cannot change while a shared arena exists; 0 goes back to the real
 * hosts (tests/run.sh starts every rank on this machine: one). */
static void test_dist_hosts(void **state)
{
    (void)state;
    const int P = sn_dist_size(), r = sn_dist_rank();
    struct sn_dist_hosts h;
    sn_dist_hosts(&h);
    assert_int_equal(h.n_hosts, 1);
    assert_int_equal(h.local_rank, r);
    if (arena)
        assert_int_equal(sn_dist_fake_hosts(2), SN_EDIST);
    sn_dist_shared_free(arena);
    arena = NULL;
    for (int k = 1; k <= P + 1; k++) {
        assert_int_equal(sn_dist_fake_hosts(k), SN_OK);
        sn_dist_hosts(&h);
        const int K = k < P ? k : P, host = r * K / P;
        int first = 0, size = 0, biggest = 0;
        for (int q = 0; q < P; q++) {
            int qs = 0;
            for (int s = 0; s < P; s++)
                qs += s * K / P == q * K / P;
            biggest = qs > biggest ? qs : biggest;
            if (q * K / P == host && !size++)
                first = q;
        }
        assert_int_equal(h.n_hosts, K);
        assert_int_equal(h.host, host);
        assert_int_equal(h.local_rank, r - first);
        assert_int_equal(h.local_size, size);
        assert_int_equal(h.max_local_size, biggest);
        assert_int_equal(sn_dist_group_size(SN_DIST_LEADERS), K);
        assert_int_equal(sn_dist_group_rank(SN_DIST_LEADERS), h.local_rank == 0 ? host : -1);
        /* no arena over all ranks once they span hosts */
        float *world = NULL;
        assert_int_equal(sn_dist_shared_arena(8, &world), SN_OK);
        assert_true((world != NULL) == (K == 1 && P > 1));
        sn_dist_shared_free(world);
        float *mine = NULL;
        assert_int_equal(sn_dist_host_arena(100, &mine), SN_OK);
        for (int i = 0; i < 100; i++)
            mine[i] = (float)(1000 * r + i);
        sn_dist_host_post(mine, 5, (uint32_t)k);
        assert_int_equal(sn_dist_host_wait(mine, -1, 5, (uint32_t)k, -1), SN_OK);
        for (int q = 0; q < size; q++)
            assert_float_equal(sn_dist_host_part(mine, q)[99], (float)(1000 * (first + q) + 99), 0);
        assert_null(sn_dist_host_part(mine, size));
        assert_false(sn_dist_host_reached(mine, 0, 6, 1));
        assert_int_equal(sn_dist_barrier(), SN_OK);   /* every rank has read before the free */
        sn_dist_shared_free(mine);
    }
    assert_int_equal(sn_dist_fake_hosts(0), SN_OK);
    sn_dist_hosts(&h);
    assert_int_equal(h.n_hosts, 1);
    assert_int_equal(sn_dist_fake_hosts(-1), SN_EUSAGE);
}

int main(int argc, char **argv)
{
    /* a program that starts MPI itself, as an HPC code embedding the
     * library does: sn_dist_init joins it (a second MPI_Init_thread aborted
     * the job) and sn_dist_finalize leaves MPI_Finalize to it (the other
     * tests and the command start MPI through sn_dist_init) */
    /* before any start: an error naming the cause, and a finalize that
     * ends nothing (MPI's own abort ended the program: round 71 F1) */
    float one = 1.0f;
    sn_dist_finalize();
    if (sn_dist_agree(SN_OK) != SN_EUSAGE || sn_dist_allreduce_mean_f32(&one, 1) != SN_EUSAGE ||
        !strstr(sn_errmsg(), "sn_dist_allreduce_mean_f32: the distributed runtime is not "
                             "running")) {
        fprintf(stderr, "a collective before sn_dist_init: %s\n", sn_errmsg());
        return 1;
    }
    int provided;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return 1;
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
        cmocka_unit_test(test_dist_shared_windows),
        cmocka_unit_test(test_dist_agree),
        cmocka_unit_test(test_dist_stop_relay),
        cmocka_unit_test(test_dist_blocks),
        cmocka_unit_test(test_dist_exchange_u16),
        cmocka_unit_test(test_dist_flight),
        cmocka_unit_test(test_dist_hosts),   /* last: it frees the arena */
    };
    /* one rank's failure must fail the run: agree on the result */
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    int any = failed != 0;
    sn_dist_allreduce_max_int(&any, 1);
    sn_dist_finalize();
    int ended = 1;
    MPI_Finalized(&ended);
    if (ended) {
        fprintf(stderr, "sn_dist_finalize ended the program's own MPI\n");
        return 1;
    }
    MPI_Errhandler h;   /* and gave its MPI_COMM_WORLD back as it was: errors fatal */
    MPI_Comm_get_errhandler(MPI_COMM_WORLD, &h);
    if (h != MPI_ERRORS_ARE_FATAL) {
        fprintf(stderr, "sn_dist_finalize left the program's MPI_COMM_WORLD another handler\n");
        return 1;
    }
    MPI_Errhandler_free(&h);
    MPI_Finalize();
    return any;
}
