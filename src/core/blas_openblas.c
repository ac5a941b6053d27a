/* blas_openblas: sn_sgemm on OpenBLAS's cblas_sgemm, and sn_eigh on the
 * LAPACK that OpenBLAS carries (WITH_BLAS=1). */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "core/blas.h"

#include <cblas.h>
#include <stddef.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "core/eigh.h"
#include "core/number.h"
#include "core/parallel.h"
#include "core/status.h"

/* LAPACK's dsyevd as libopenblas exports it (Debian's OpenBLAS builds the
 * reference LAPACK into it; no C header declares the Fortran symbols):
 * every argument by reference, then the lengths of the two character
 * arguments, which gfortran passes by value. */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork,
             int *info, size_t jobz_len, size_t uplo_len);

void sn_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B,
                ldb, beta, C, ldc);
}

const char *sn_blas_library(void) { return openblas_get_config(); }

const char *sn_blas_better_core(const char **running)
{
    /* OpenBLAS's cores without AVX2: a processor with it runs them only
     * when OpenBLAS did not know it (or was told to) */
    static const char *const older[] = { "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                         "Sandybridge", "Atom", "Opteron", "Barcelona" };
    *running = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") || !*running)
        return NULL;
    bool old = false;
    for (size_t i = 0; i < sizeof older / sizeof older[0]; i++)
        old |= strcasecmp(*running, older[i]) == 0;
    __builtin_cpu_init();
    if (!old || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return NULL;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
               ? "SkylakeX" : "Haswell";
}

/* The matrix is symmetric, so LAPACK's column-major reading of the
 * row-major a is the same matrix; column j of its column-major answer, the
 * eigenvector of w[j], is row j of a.  The workspace sizes are dsyevd's
 * minimum for eigenvectors (1 + 6n + 2n^2 and 3 + 5n). */
int sn_eigh(int n, double *a, double *w)
{
    int lwork = 1 + 6 * n + 2 * n * n, liwork = 3 + 5 * n, info = 0;
    double *work = malloc((size_t)lwork * sizeof *work);
    int *iwork = malloc((size_t)liwork * sizeof *iwork);
    if (!work || !iwork) {
        free(work);
        free(iwork);
        return sn_fail(SN_ENOMEM, "eigh: out of memory for a %d x %d matrix", n, n);
    }
    dsyevd_("V", "U", &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    free(work);
    free(iwork);
    if (info != 0)
        return sn_fail(SN_ENUM, "eigh: LAPACK dsyevd failed (info %d; n = %d)", info, n);
    return SN_OK;
}

/* OpenBLAS takes a 128 MiB buffer per thread when its thread count is
 * raised (its first threads took theirs when it loaded) and one the first
 * time a product needs it, and keeps them; when it cannot have one, it
 * retries forever (0.3.21's blas_memory_alloc), deaf to signals: under an
 * address-space limit (ulimit -v) a command spun at full CPU, also when the
 * room was there at start-up and the model and the data took it.  So the
 * room is tried first, by mapping it once, before the thread count is
 * set; then one product large enough to need the buffer makes OpenBLAS
 * take it at once, before the command allocates anything of its own. */
#define OPENBLAS_BUFFER_BYTES (((size_t)128 << 20) + ((size_t)1 << 20))
#define WARM_SIDE 256   /* past OpenBLAS's small-matrix paths, which take no buffer */

static int take_buffer(void)
{
    float *a = calloc((size_t)3 * WARM_SIDE * WARM_SIDE, sizeof *a);
    if (!a)
        return sn_fail(SN_ENOMEM, "out of memory");
    float *b = a + WARM_SIDE * WARM_SIDE, *c = b + WARM_SIDE * WARM_SIDE;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, WARM_SIDE, WARM_SIDE, WARM_SIDE,
                1.0f, a, WARM_SIDE, b, WARM_SIDE, 0.0f, c, WARM_SIDE);
    free(a);
    return SN_OK;
}

int sn_blas_use_threads(int threads, size_t omp_stack)
{
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur == RLIM_INFINITY) {
        sn_parallel_set_threads(threads);
        return SN_OK;
    }
    /* each thread's stack too, OpenMP's and OpenBLAS's own (the default
     * pthread stack is RLIMIT_STACK): 27 threads under 4 GB passed a check
     * of the buffers alone, and libgomp then ended the run with its own
     * "Thread creation failed" */
    struct rlimit st;
    const size_t stack = getrlimit(RLIMIT_STACK, &st) == 0 && st.rlim_cur != RLIM_INFINITY
                             ? (size_t)st.rlim_cur : (size_t)8 << 20;
    /* OMP_STACKSIZE=1G for 8 threads ended the run in libgomp's own line */
    const double per = (double)OPENBLAS_BUFFER_BYTES + (double)stack +
                       (double)(omp_stack ? omp_stack : stack);
    const double want = (double)(threads > 0 ? threads : 1) * per;
    const size_t n = want < (double)SIZE_MAX / 2 ? (size_t)want : SIZE_MAX / 2;
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p != MAP_FAILED) {
        munmap(p, n);
        sn_parallel_set_threads(threads);
        return take_buffer();
    }
    /* OpenBLAS takes buffers for OMP_NUM_THREADS (or every core) as the
     * program loads, before --threads is read: that count is what frees
     * the room, fewer --threads alone does not */
    const char *omp = getenv("OMP_NUM_THREADS");
    const int at_start = omp ? atoi(omp) : sn_parallel_cores();
    char fix[160];
    if (at_start > threads)
        snprintf(fix, sizeof fix, ", or set OMP_NUM_THREADS=%d in the environment (OpenBLAS "
                 "takes buffers for %s%.8s%s as the program starts)", threads,
                 omp ? "the OMP_NUM_THREADS=" : "every core", omp ? omp : "",
                 omp ? " threads" : "");
    else
        snprintf(fix, sizeof fix, "%s", threads > 1 ? ", or give fewer threads (OMP_NUM_THREADS "
                 "and --threads)" : "");
    return sn_fail(SN_ENOMEM, "out of memory: the address-space limit (ulimit -v, %s MB) leaves "
                   "no room for the %s MB of buffers and stacks OpenBLAS and OpenMP take for %d "
                   "thread%s (OpenBLAS would wait for them forever): raise the limit%s%s",
                   sn_mb((double)as.rlim_cur).s, sn_mb((double)n).s, threads,
                   threads == 1 ? "" : "s", fix,
                   omp_stack > stack ? ", or a smaller OMP_STACKSIZE (each thread's stack)" : "");
}
