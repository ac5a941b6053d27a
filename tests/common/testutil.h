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

#endif
