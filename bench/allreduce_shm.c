/* allreduce_shm: the gradient mean of one host's ranks, two ways, through
 * the calls the reducer's strategies make (src/train/reducer_*.c):
 *   mpi     sn_dist_allreduce_mean_f32 on private memory: MPI_Allreduce,
 *           then times 1/P (the blocking strategy)
 *   shared  sn_dist_shared_mean on the shared arena (sn_dist_shared_arena):
 *           each rank averages its slice straight from every rank's memory
 *           (the shared strategy)
 *
 *   mpirun -np P build/bench/allreduce_shm
 *
 * For float counts 1K ... 4M (powers of 4): median over repeats of the
 * slowest rank's time, each repeat after a barrier; the ratio mpi / shared.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/status.h"
#include "dist/dist.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median over reps of the slowest rank's seconds for one mean of buf[0, n):
 * through the shared window when shared, else through MPI */
static double time_mean(float *buf, size_t n, int reps, bool shared)
{
    int ns[64];   /* nanoseconds: the dist interface has a max over ints */
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i++)   /* fresh gradients, as after a backward */
            buf[i] = (float)(i & 255);
        if (sn_dist_barrier())
            return -1;
        double t0 = sn_clock_s();
        if (shared ? sn_dist_shared_mean(buf, 0, n) : sn_dist_allreduce_mean_f32(buf, n))
            return -1;
        ns[r] = (int)((sn_clock_s() - t0) * 1e9);
    }
    if (sn_dist_allreduce_max_int(ns, reps))   /* the slowest rank: what a step waits for */
        return -1;
    double t[64];
    for (int r = 0; r < reps; r++)
        t[r] = ns[r] * 1e-9;
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    return t[reps / 2];
}

int main(int argc, char **argv)
{
    if (sn_dist_init(&argc, &argv)) {
        fprintf(stderr, "allreduce_shm: %s\n", sn_errmsg());
        return 1;
    }
    enum { MAXN = 1 << 22 };
    float *arena = NULL, *priv = malloc((size_t)MAXN * sizeof *priv);
    int rc = priv ? sn_dist_shared_arena(MAXN, &arena) : SN_ENOMEM;
    if (rc || !arena) {
        if (sn_dist_rank() == 0)
            fprintf(stderr, "allreduce_shm: %s\n",
                    rc ? sn_errmsg() : "no shared arena (one rank, or ranks on several hosts)");
        sn_dist_abort(1);
    }
    if (sn_dist_rank() == 0)
        printf("# gradient mean over %d ranks of one host: bytes, median seconds (slowest "
               "rank) of MPI_Allreduce and of the shared arena, ratio\n", sn_dist_size());
    for (size_t n = 1024; n <= MAXN; n *= 4) {
        int reps = n >= (1 << 20) ? 15 : 41;
        double tm = time_mean(priv, n, reps, false), ts = time_mean(arena, n, reps, true);
        if (tm < 0 || ts < 0) {
            fprintf(stderr, "allreduce_shm: %s\n", sn_errmsg());
            sn_dist_abort(1);
        }
        if (sn_dist_rank() == 0)
            printf("%9zu  mpi %.3e  shared %.3e  %.2fx\n", n * 4, tm, ts, tm / ts);
    }
    free(priv);
    sn_dist_finalize();
    return 0;
}
