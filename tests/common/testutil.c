/* testutil: see testutil.h. */
#define _GNU_SOURCE
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SN_TEST_FILTER=name (a cmocka pattern, * and ?) runs only the tests of
 * that name, in every test program: set before main. */
__attribute__((constructor)) static void test_filter(void)
{
    if (getenv("SN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("SN_TEST_FILTER"));
}

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
        const bool bad = !(err <= allowed);   /* a NaN fails too */
        if (err - allowed > worst || (!fail && bad)) {
            worst = err - allowed;
            wi = i;
            wfd = fd;
        }
        if (bad)
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

static int count_of(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

int sn_test_warnings(const char *err)
{
    return count_of(err, "scratchnet: warning:") -
           count_of(err, "scratchnet: warning: other work kept") -
           count_of(err, "scratchnet: warning: OpenBLAS did not recognise this processor");
}

/* ---- datasets ----------------------------------------------------------- */
#include "core/status.h"
#include "io/h5.h"

int sn_test_use_bin(void)
{
    char bin[2048], cwd[512] = "";
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    if (build[0] != '/' && !getcwd(cwd, sizeof cwd))
        return -1;
    snprintf(bin, sizeof bin, "%s%s%.1000s/scratchnet", cwd, cwd[0] ? "/" : "", build);
    return setenv("SN_BIN", bin, 1);
}

const char *sn_test_mpirun(void)
{
    const char *m = getenv("SN_MPIRUN");
    return m && m[0] ? m : "mpirun";
}

void sn_test_write_u8(struct sn_h5 *f, const char *split, size_t n, int h, int w,
                      const uint8_t *x, const int32_t *y)
{
    char xp[64], yp[64];
    snprintf(xp, sizeof xp, "/%s/x", split);
    snprintf(yp, sizeof yp, "/%s/y", split);
    size_t xd[4] = { n, 1, (size_t)h, (size_t)w }, yd[1] = { n };
    assert_int_equal(sn_h5_write(f, xp, 4, xd, SN_H5_U8, x), SN_OK);
    double scale = 1.0 / 255.0;
    assert_int_equal(sn_h5_attr_set_f64(f, xp, "scale", &scale, 1), SN_OK);
    assert_int_equal(sn_h5_write(f, yp, 1, yd, SN_H5_I32, y), SN_OK);
}

void sn_test_write_blobs(const char *path, struct sn_test_blobs o)
{
    enum { NTRAIN = 480, NTEST = 120, F = 8, K = 3 };
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 99, 1);
    for (int split = 0; split < (o.val ? 3 : 2); split++) {
        static const char *const name[3] = { "train", "test", "val" };
        char xp[16], yp[16];
        snprintf(xp, sizeof xp, "/%s/x", name[split]);
        snprintf(yp, sizeof yp, "/%s/y", name[split]);
        int n = split ? NTEST : o.train_rows ? o.train_rows : NTRAIN, fdim = split && o.test_f ? o.test_f : F;
        float *x = malloc((size_t)n * fdim * sizeof *x), *yf = malloc((size_t)n * sizeof *yf);
        int32_t *y = malloc((size_t)n * sizeof *y);
        for (int i = 0; i < n; i++) {
            int c = i % K;
            y[i] = c + o.label_shift;
            yf[i] = (float)c;
            for (int j = 0; j < fdim; j++)
                x[i * fdim + j] = 0.7f * sn_rng_normal(&r) + (j % K == c ? 2.0f : -1.0f);
        }
        if (!split && o.set_label5)
            y[o.label_row ? o.label_row : 5] = o.label5;
        if (!split && o.nan_row7)
            x[7 * fdim + 3] = NAN;
        if (split && o.inf_test_row3)
            x[3 * fdim + 2] = INFINITY;
        if (split && o.test_row3 != 0.0f)
            x[3 * fdim + 2] = o.test_row3;
        size_t xd[4] = { (size_t)n, (size_t)fdim, 0, 0 }, xi[4] = { (size_t)n, 1, 2, 4 };
        size_t yd[1] = { (size_t)(!split && o.y_rows ? o.y_rows : n) };
        assert_int_equal(sn_h5_write(f, xp, o.image ? 4 : 2,
                                     o.image ? xi : xd, SN_H5_F32, x), SN_OK);
        if (!o.no_y)
            assert_int_equal(sn_h5_write(f, yp, 1, yd,
                                         o.float_y ? SN_H5_F32 : SN_H5_I32,
                                         o.float_y ? (void *)yf : (void *)y), SN_OK);
        free(x);
        free(y);
        free(yf);
    }
    if (o.val)
        /* with a terminal sequence, as a foreign file's may be */
        assert_int_equal(sn_h5_attr_set_str(f, "/", "source", "blobs of testutil\x1b]0;t\x07"),
                         SN_OK);
    if (o.train_scale != 0)
        assert_int_equal(sn_h5_attr_set_f64(f, "/train/x", "scale", &o.train_scale, 1), SN_OK);
    if (o.classes)
        assert_int_equal(sn_h5_attr_set_strs(f, "/", "classes", o.classes, 3), SN_OK);
    double zeros[64] = { 0 }, ones[64];
    for (int i = 0; i < 64; i++)
        ones[i] = 1;
    if (o.root_norm > 0 && o.root_norm <= 64) {
        assert_int_equal(sn_h5_attr_set_f64(f, "/", "mean", zeros, (size_t)o.root_norm), SN_OK);
        assert_int_equal(sn_h5_attr_set_f64(f, "/", "std", ones, (size_t)o.root_norm), SN_OK);
    }
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* ---- layer harness ----------------------------------------------------- */
#include "core/layer.h"
#include "core/tensor.h"

void sn_test_layer_init(struct sn_test_layer *t, struct sn_layer *l, int B, bool train)
{
    memset(t, 0, sizeof *t);
    t->l = l;
    t->B = B;
    t->train = train;
    t->rng_seed = 77;
    size_t np = 0, nb = 0;
    for (int p = 0; p < l->n_params; p++) {
        if (l->params[p].buffer)
            nb += l->params[p].len;
        else
            np += l->params[p].len;
    }
    t->params = sn_alloc_f32(np + 1);
    t->grads = sn_alloc_f32(np + 1);
    t->buffers = sn_alloc_f32(nb + 1);
    struct sn_rng r;
    sn_rng_seed(&r, 5, 5);
    size_t op = 0, ob = 0;
    for (int p = 0; p < l->n_params; p++) {
        struct sn_param *pr = &l->params[p];
        if (pr->buffer) {
            pr->w = t->buffers + ob;
            pr->dw = NULL;
            ob += pr->len;
        } else {
            pr->w = t->params + op;
            pr->dw = t->grads + op;
            op += pr->len;
        }
        sn_param_init(pr, &r);
        /* batchnorm's weight 1 / bias 0 would hide mistakes: perturb them */
        if (!pr->buffer && (pr->init == SN_INIT_ONE || pr->init == SN_INIT_ZERO))
            for (size_t i = 0; i < pr->len; i++)
                pr->w[i] += 0.5f * (sn_rng_uniform(&r) - 0.5f);
    }
    if (l->ops->reserve && l->ops->reserve(l, B) != 0)
        abort();
    size_t ws = l->ops->workspace_len ? l->ops->workspace_len(l, B) : 0;
    t->ws = sn_alloc_f32(ws + 1);
    for (int j = 0; j < l->n_in; j++) {
        t->in_len[j] = sn_shape_len(&l->in_shape[j]);
        t->x[j] = sn_alloc_f32((size_t)B * t->in_len[j]);
        t->dx[j] = sn_alloc_f32((size_t)B * t->in_len[j]);
        sn_test_fill(t->x[j], (size_t)B * t->in_len[j], 100 + (uint64_t)j, -1, 1);
    }
    t->out_len = sn_shape_len(&l->out_shape);
    t->y = sn_alloc_f32((size_t)B * t->out_len);
    t->r = sn_alloc_f32((size_t)B * t->out_len);
    sn_test_fill(t->r, (size_t)B * t->out_len, 200, -1, 1);
}

void sn_test_layer_free(struct sn_test_layer *t)
{
    sn_layer_destroy(t->l);
    sn_free(t->params);
    sn_free(t->grads);
    sn_free(t->buffers);
    sn_free(t->ws);
    for (int j = 0; j < 8; j++) {
        sn_free(t->x[j]);
        sn_free(t->dx[j]);
    }
    sn_free(t->y);
    sn_free(t->r);
}

double sn_test_layer_loss(void *ctx)
{
    struct sn_test_layer *t = ctx;
    struct sn_rng rng;
    sn_rng_seed(&rng, t->rng_seed, 1);   /* the same dropout mask every call */
    struct sn_ctx c = { .B = t->B, .train = t->train, .ws = t->ws, .rng = &rng };
    t->l->ops->forward(t->l, (const float *const *)t->x, t->y, &c);
    double s = 0;
    for (size_t i = 0; i < (size_t)t->B * t->out_len; i++)
        s += (double)t->r[i] * t->y[i];
    return s;
}

void sn_test_layer_backward(struct sn_test_layer *t)
{
    struct sn_layer *l = t->l;
    for (int p = 0; p < l->n_params; p++)
        if (l->params[p].dw)
            memset(l->params[p].dw, 0, l->params[p].len * sizeof(float));
    for (int j = 0; j < l->n_in; j++)
        memset(t->dx[j], 0, (size_t)t->B * t->in_len[j] * sizeof(float));
    sn_test_layer_loss(t);
    struct sn_rng rng;
    sn_rng_seed(&rng, t->rng_seed, 1);
    struct sn_ctx c = { .B = t->B, .train = t->train, .ws = t->ws, .rng = &rng };
    l->ops->backward(l, (const float *const *)t->x, t->y, t->r, t->dx, &c);
}

void sn_test_layer_check(struct sn_test_layer *t, double h, double atol, double rtol)
{
    sn_test_layer_backward(t);
    struct sn_layer *l = t->l;
    for (int j = 0; j < l->n_in; j++)
        sn_test_fd_check(sn_test_layer_loss, t, t->x[j], t->dx[j], (size_t)t->B * t->in_len[j], h,
                         atol, rtol, "x", l->name, j);
    for (int p = 0; p < l->n_params; p++) {
        struct sn_param *pr = &l->params[p];
        if (pr->buffer || !pr->trainable)
            continue;
        float *g = malloc(pr->len * sizeof *g);
        memcpy(g, pr->dw, pr->len * sizeof *g);
        sn_test_fd_check(sn_test_layer_loss, t, pr->w, g, pr->len, h, atol, rtol, pr->name,
                         l->name, p);
        free(g);
    }
}

void sn_test_layer_ref(struct sn_test_layer *t, const float *x, const float *const *params,
                       const float *r, const float *y, const float *dx,
                       const float *const *dparams, double atol, double rtol)
{
    struct sn_layer *l = t->l;
    memcpy(t->x[0], x, (size_t)t->B * t->in_len[0] * sizeof *x);
    memcpy(t->r, r, (size_t)t->B * t->out_len * sizeof *r);
    int k = 0;
    for (int p = 0; p < l->n_params; p++)
        if (!l->params[p].buffer)
            memcpy(l->params[p].w, params[k++], l->params[p].len * sizeof(float));
    sn_test_layer_backward(t);
    sn_test_close_arrays(t->y, y, (size_t)t->B * t->out_len, atol, rtol, "y", "ref y", l->name, 0);
    sn_test_close_arrays(t->dx[0], dx, (size_t)t->B * t->in_len[0], atol, rtol, "dx", "ref dx",
                         l->name, 1);
    k = 0;
    for (int p = 0; p < l->n_params; p++)
        if (!l->params[p].buffer) {
            sn_test_close_arrays(l->params[p].dw, dparams[k], l->params[p].len, atol, rtol,
                                 l->params[p].name, "ref", l->name, 2 + k);
            k++;
        }
}

long sn_test_status_kb(const char *field)
{
    FILE *st = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    const size_t n = strlen(field);
    assert_non_null(st);
    while (fgets(line, sizeof line, st))
        if (strncmp(line, field, n) == 0 && line[n] == ':' && sscanf(line + n + 1, "%ld", &kb) == 1)
            break;
    fclose(st);
    return kb;
}

void sn_test_reset_peak(void)
{
    FILE *c = fopen("/proc/self/clear_refs", "w");
    assert_non_null(c);
    fputs("5", c);
    fclose(c);
}
