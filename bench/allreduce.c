/* allreduce: MPI_Allreduce time against message size on this machine, the
 * measurements docs/SCALING.md fits its cost model to.
 *
 *   mpirun -np P build/bench/allreduce
 *
 * For float counts 1 ... 16M (powers of 4) it times MPI_Allreduce (sum, in
 * place) over repeats, after a barrier each, median of the repeats, and
 * prints "bytes seconds" lines on rank 0, then the cost model's two
 * numbers: alpha, the latency (the 4-byte time), and beta, the bandwidth
 * (least squares of t = a + bytes / beta over 64 KB ... 16 MB, the sizes
 * where bandwidth dominates; 64 MB, the last size, is printed but left
 * out: it no longer fits the cache).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, P;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    enum { MAXN = 1 << 24, REPS = 21, NS = 13 };
    float *buf = malloc((size_t)MAXN * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "allreduce: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (int i = 0; i < MAXN; i++)
        buf[i] = 1.0f;
    double xs[NS], ys[NS];
    int ns = 0;
    if (rank == 0)
        printf("# MPI_Allreduce, %d ranks: bytes, median seconds of %d\n", P, REPS);
    for (long n = 1; n <= MAXN; n *= 4) {
        double t[REPS];
        int reps = n >= (1 << 22) ? 7 : REPS;
        for (int r = 0; r < reps; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            t[r] = MPI_Wtime() - t0;
        }
        /* the slowest rank's view: what a training step waits for */
        double tmax[REPS];
        MPI_Allreduce(t, tmax, reps, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        qsort(tmax, (size_t)reps, sizeof tmax[0], cmp_d);
        double med = tmax[reps / 2];
        if (rank == 0)
            printf("%ld %.3e\n", n * 4, med);
        xs[ns] = (double)(n * 4);
        ys[ns++] = med;
    }
    if (rank == 0) {   /* least squares t = a + b x over 64 KB .. 16 MB */
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        int nf = 0;
        for (int i = 0; i < ns; i++) {
            if (xs[i] < 65536 || xs[i] > 16777216)
                continue;
            nf++;
            sx += xs[i];
            sy += ys[i];
            sxx += xs[i] * xs[i];
            sxy += xs[i] * ys[i];
        }
        double b = (nf * sxy - sx * sy) / (nf * sxx - sx * sx);
        printf("alpha %.3e s (4 bytes)  beta %.3g GB/s (fit over 64 KB .. 16 MB)\n", ys[0],
               1e-9 / b);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
