/* gemm_peak: this machine's OpenBLAS sgemm speed, the ceiling `make bench`
 * compares scratchnet's training step with.
 *
 *   build/bench/gemm_peak [THREADS]
 *
 * For square sizes 256 ... 2048 it times C = A B (single precision, row
 * major) with THREADS OpenBLAS threads, median of 5 repeats after one
 * warm-up, and prints one line per size and a last line "peak <GFLOP/s>",
 * the best of the sizes.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "load.h"

void openblas_set_num_threads(int num_threads);

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1) {
        fprintf(stderr, "gemm_peak: THREADS must be >= 1\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    const struct load before = load_start();
    static const int sizes[] = { 256, 512, 1024, 1536, 2048 };
    double peak = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        size_t nn = (size_t)n * n;
        float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
        if (!a || !b || !c) {
            fprintf(stderr, "gemm_peak: out of memory at n = %d\n", n);
            return 1;
        }
        for (size_t i = 0; i < nn; i++) {
            a[i] = (float)(i % 7) * 0.1f;
            b[i] = (float)(i % 5) * 0.1f;
        }
        /* enough calls per repeat for ~0.2 s at 50 GFLOP/s */
        int calls = (int)(1e10 / (2.0 * nn * n)) + 1;
        double t[5];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        for (int r = 0; r < 5; r++) {
            double t0 = now_s();
            for (int k = 0; k < calls; k++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
                            0.0f, c, n);
            t[r] = (now_s() - t0) / calls;
        }
        qsort(t, 5, sizeof t[0], cmp_d);
        double gf = 2.0 * nn * n / t[2] / 1e9;
        printf("sgemm n=%d threads=%d %.1f GFLOP/s\n", n, threads, gf);
        if (gf > peak)
            peak = gf;
        free(a);
        free(b);
        free(c);
    }
    printf("peak %.1f\n", peak);
    load_warn("gemm_peak", before);
    return 0;
}
