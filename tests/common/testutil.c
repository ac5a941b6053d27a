/* testutil: see testutil.h. */
#define _GNU_SOURCE
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sn_test_close_arrays(const float *a, const float *b, size_t n, double atol, double rtol,
                          const char *an, const char *bn, const char *file, int line)
{
    double max_abs = 0, max_rel = 0;
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        double rel = d / (fabs((double)b[i]) + 1e-30);
        if (d > max_abs)
            max_abs = d;
        if (rel > max_rel && d > atol)
            max_rel = rel;
        if (!(d <= atol + rtol * fabs((double)b[i]))) {
            if (bad++ == 0)
                first = i;
        }
    }
    if (bad) {
        fprintf(stderr, "%s:%d: %s vs %s: %zu of %zu differ (max abs %.3g, max rel %.3g); "
                "first at [%zu]: %.9g vs %.9g\n", file, line, an, bn, bad, n, max_abs, max_rel,
                first, a[first], b[first]);
        _fail(file, line);
    }
}

void sn_test_fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    struct sn_rng r;
    sn_rng_seed(&r, seed, 7);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * sn_rng_uniform(&r);
}

void sn_test_fd_check(sn_test_fn f, void *ctx, float *p, const float *g, size_t n, double h,
                      double atol, double rtol, const char *pn, const char *file, int line)
{
    double worst = 0;
    size_t wi = 0;
    double wfd = 0;
    bool fail = false;
    for (size_t i = 0; i < n; i++) {
        float keep = p[i];
        p[i] = (float)(keep + h);
        double fp = f(ctx);
        p[i] = (float)(keep - h);
        double fm = f(ctx);
        p[i] = keep;
        /* the actual step after rounding to float */
        double step = (double)(float)(keep + h) - (double)(float)(keep - h);
        double fd = (fp - fm) / step;
        double err = fabs(fd - g[i]);
        double allowed = atol + rtol * fabs(fd);
        if (err - allowed > worst || (!fail && err > allowed)) {
            worst = err - allowed;
            wi = i;
            wfd = fd;
        }
        if (err > allowed)
            fail = true;
    }
    if (fail) {
        fprintf(stderr, "%s:%d: gradient of %s: analytic %.9g vs finite difference %.9g at [%zu]\n",
                file, line, pn, g[wi], wfd, wi);
        _fail(file, line);
    }
}

static char tmpdir[512];

static void remove_tmpdir(void)
{
    if (tmpdir[0] && !getenv("SN_TEST_KEEP")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

const char *sn_test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/sntest.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

const char *sn_test_path(const char *name)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 1024, "%s/%s", sn_test_tmpdir(), name);
    return b;
}

int sn_test_run(const char *fmt, ...)
{
    char cmd[8192], full[9400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "( %s ) >'%s/out.txt' 2>'%s/err.txt'", cmd, sn_test_tmpdir(),
             sn_test_tmpdir());
    int st = system(full);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

char *sn_test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}
