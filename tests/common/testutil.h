/* testutil: helpers shared by the cmocka tests.
 *
 *   assert_close_arrays  max abs / rel difference, first mismatches printed
 *   sn_test_fd_check     central finite differences of a scalar function
 *   sn_test_tmpdir       a fresh temporary folder per test program
 */
#ifndef SN_TESTS_TESTUTIL_H
#define SN_TESTS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/activation.h"
#include "core/rng.h"

/* Fail the test (with a report) unless |a-b| <= atol + rtol |b| elementwise. */
#define assert_close_arrays(a, b, n, atol, rtol) \
    sn_test_close_arrays((a), (b), (n), (atol), (rtol), #a, #b, __FILE__, __LINE__)
void sn_test_close_arrays(const float *a, const float *b, size_t n, double atol, double rtol,
                          const char *an, const char *bn, const char *file, int line);

/* Fill x with uniform values in [lo, hi) from a fixed-seed stream. */
void sn_test_fill(float *x, size_t n, uint64_t seed, float lo, float hi);

/* Central finite differences: for each of the n entries of p, estimate
 * d f / d p[i] = (f(p+h) - f(p-h)) / 2h, with f evaluated in double by the
 * callback, and compare with the analytic gradient g[i]:
 * |g - fd| <= atol + rtol |fd|.  Reports the worst entry on failure. */
typedef double (*sn_test_fn)(void *ctx);
#define assert_grad_fd(f, ctx, p, g, n, h, atol, rtol) \
    sn_test_fd_check((f), (ctx), (p), (g), (n), (h), (atol), (rtol), #p, __FILE__, __LINE__)
void sn_test_fd_check(sn_test_fn f, void *ctx, float *p, const float *g, size_t n, double h,
                      double atol, double rtol, const char *pn, const char *file, int line);

/* A fresh folder under $TMPDIR (or /tmp), removed at exit. */
const char *sn_test_tmpdir(void);

/* Path "<tmpdir>/<name>" in a static rotating buffer. */
const char *sn_test_path(const char *name);

/* Run a shell command; returns its exit status (or -1). Output goes to
 * <tmpdir>/out.txt and err.txt, readable with sn_test_slurp. */
int sn_test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The whole file as a malloc'd string (NULL if unreadable). */
char *sn_test_slurp(const char *path);

/* The "scratchnet: warning:" lines in err, leaving out the ones that say
 * other work kept the cores busy and that OpenBLAS fell back to older
 * kernels (true of the test machine, whatever the command was given). */
int sn_test_warnings(const char *err);

/* The command under test for sn_test_run: sets SN_BIN to the absolute path
 * of $BUILD/scratchnet (build/ by default; absolute, so commands may cd);
 * SN_TEST_BIN is its quoted expansion for the shell.  0 or -1. */
#define SN_TEST_BIN "\"$SN_BIN\""
int sn_test_use_bin(void);

/* The launcher the tests start ranks with: $SN_MPIRUN (the Makefile sets
 * it with the flags its MPI family needs here: `mpirun --oversubscribe` for
 * Open MPI, `mpiexec.mpich` for MPICH), plain `mpirun` when unset. */
const char *sn_test_mpirun(void);

/* A field of /proc/self/status in KB ("VmHWM", the peak resident size,
 * or "VmSize"); sn_test_reset_peak starts VmHWM again from now. */
long sn_test_status_kb(const char *field);
void sn_test_reset_peak(void);

/* Write /<split>/x as uint8 (n, 1, h, w) with scale 1/255 and /<split>/y. */
struct sn_h5;
void sn_test_write_u8(struct sn_h5 *f, const char *split, size_t n, int h, int w,
                      const uint8_t *x, const int32_t *y);

/* A small dataset file: 480 train and 120 test rows of 8 floats, three
 * separable blobs (class c = row mod 3, centred on +2 in the dimensions j
 * with j mod 3 = c, on -1 elsewhere), int32 labels; as images of (1, 2, 4)
 * with image set.  The other fields make one thing wrong, for bad-input
 * tests; { 0 } is the plain file. */
struct sn_test_blobs {
    bool image;
    bool no_y, float_y;  /* no /y, or float labels of shape (N) */
    int y_rows;          /* rows of /train/y (0: as x) */
    int train_rows;      /* rows of /train (0: 480) */
    int test_f;          /* features of /test/x (0: 8) */
    bool set_label5;     /* train row 5 (or label_row) gets label5 */
    int label5;
    int label_row;       /* the row set_label5 changes (0: row 5) */
    int label_shift;     /* added to every label */
    bool nan_row7;       /* train x[7][3] = NaN */
    bool inf_test_row3;  /* test x[3][2] = Inf */
    float test_row3;     /* test x[3][2] = this (0: unchanged) */
    double train_scale;  /* attribute scale on /train/x only (0: none) */
    int root_norm;       /* values of mean (0) and std (1) on the root (0: none) */
    bool val;            /* also /val (120 rows, as /test), and a root source */
    const char *const *classes;   /* names of the 3 classes (NULL: none) */
};
void sn_test_write_blobs(const char *path, struct sn_test_blobs o);

#endif

/* ---- layer harness ----------------------------------------------------- */
struct sn_layer;

/* A layer prepared for direct calls: parameter and gradient storage,
 * workspace, reserved state, inputs x[j] (B x in_len_j), outputs y, a
 * random projection r of y (the test loss is L = sum r*y) and input
 * gradients dx[j]. */
struct sn_test_layer {
    struct sn_layer *l;
    int B;
    bool train;
    float *params, *grads, *buffers, *ws;
    float *x[8], *dx[8], *y, *r;
    size_t in_len[8], out_len;
    uint64_t rng_seed;
};

/* Prepare l (taken: freed by sn_test_layer_free) for batch B; inputs are
 * filled from U[-1,1), parameters by their init rule. */
void sn_test_layer_init(struct sn_test_layer *t, struct sn_layer *l, int B, bool train);
void sn_test_layer_free(struct sn_test_layer *t);

/* Forward; returns L = sum r*y in double. */
double sn_test_layer_loss(void *t);

/* Zero all gradients, forward, backward with dy = r. */
void sn_test_layer_backward(struct sn_test_layer *t);

/* Check every input gradient and every trainable parameter gradient
 * against central finite differences of L. */
void sn_test_layer_check(struct sn_test_layer *t, double h, double atol, double rtol);

/* Whether activation a has a kink (relu's and leaky relu's at 0): a central
 * difference that straddles it is wrong, so their checks take a smaller
 * step h on fewer values.  A new kinked activation fails its finite-
 * difference checks until it is named here. */
static inline bool sn_test_act_kinked(int a)
{
    return a == SN_ACT_RELU || a == SN_ACT_LEAKY_RELU;
}

/* Load a PyTorch reference case into t (B examples): x (first input), the
 * trainable parameters in declaration order (params[k] for the k-th
 * non-buffer parameter), r; run backward; compare y, dx and every
 * parameter gradient with rtol/atol. */
void sn_test_layer_ref(struct sn_test_layer *t, const float *x, const float *const *params,
                       const float *r, const float *y, const float *dx,
                       const float *const *dparams, double atol, double rtol);
