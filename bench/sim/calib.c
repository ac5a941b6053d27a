/* calib: what the simulator's platform of this machine needs, measured.
 *
 *   mpirun -np 2 build/bench/sim/calib [REPEATS]
 *
 * Between two ranks (on one host: Open MPI's shared-memory transport; with
 * --mca btl tcp,self: its TCP transport): the one-way time of a message of
 * 8 bytes (latency) and of 1 MB (for the bandwidth), half the round trip of
 * a ping-pong, median of REPEATS (default 51).  Each 1 MB message comes
 * from the next MB of a 64 MB buffer, as gradients come from an arena
 * larger than the caches, not from one buffer the caches keep.  On rank 0 alone: the time
 * to add one float into another (b[i] += a[i], the reduction an allreduce
 * performs) and to copy one (memcpy), over 1 MB, median of REPEATS.
 * Prints one line:
 *   calib: latency_us L bandwidth_GBps B op_ns O copy_ns C
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median one-way seconds of a bytes-long message between ranks 0 and 1,
 * each from the next bytes of buf (span bytes long). */
static double pingpong(char *buf, size_t span, int bytes, int reps, int rank)
{
    double *t = malloc((size_t)reps * sizeof *t);
    char *const start = buf;
    for (int r = -3; r < reps; r++) {   /* 3 warm-up round trips */
        buf = start + (size_t)(r + 3) * (size_t)bytes % (span - (size_t)bytes + 1);
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        if (rank == 0) {
            MPI_Send(buf, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
            MPI_Recv(buf, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else if (rank == 1) {
            MPI_Recv(buf, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(buf, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
        }
        if (r >= 0)
            t[r] = 0.5 * (MPI_Wtime() - t0);
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double med = t[reps / 2];
    free(t);
    return med;
}

/* Median seconds per float of b += a (add) or memcpy (copy) over n floats. */
static double per_float(float *a, float *b, int n, int reps, int add)
{
    double *t = malloc((size_t)reps * sizeof *t);
    for (int r = -3; r < reps; r++) {
        double t0 = MPI_Wtime();
        if (add)
            for (int i = 0; i < n; i++)
                b[i] += a[i];
        else
            memcpy(b, a, (size_t)n * sizeof *a);
        if (r >= 0)
            t[r] = (MPI_Wtime() - t0) / n;
        a[r & 255] = b[(r * 7) & 255];   /* keep the loop's result alive */
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double med = t[reps / 2];
    free(t);
    return med;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int reps = argc > 1 ? atoi(argv[1]) : 51;
    if (size != 2 || reps < 1) {
        if (rank == 0)
            fprintf(stderr, "calib: run on 2 ranks; REPEATS >= 1\n");
        MPI_Finalize();
        return 2;
    }
    enum { SPAN = 64 << 20, BIG = 1 << 20, N = 262144 };
    char *buf = calloc(SPAN, 1);
    float *a = calloc(N, sizeof *a), *b = calloc(N, sizeof *b);
    if (!buf || !a || !b)
        MPI_Abort(MPI_COMM_WORLD, 1);
    memset(buf, 1, SPAN);   /* every page mapped before timing */
    double lat = pingpong(buf, SPAN, 8, reps, rank);
    double big = pingpong(buf, SPAN, BIG, reps, rank);
    if (rank == 0) {
        double op = per_float(a, b, N, reps, 1), copy = per_float(a, b, N, reps, 0);
        printf("calib: latency_us %.3f bandwidth_GBps %.3f op_ns %.4f copy_ns %.4f\n", 1e6 * lat,
               BIG / (big - lat) / 1e9, 1e9 * op, 1e9 * copy);
    }
    free(buf);
    free(a);
    free(b);
    MPI_Finalize();
    return 0;
}
