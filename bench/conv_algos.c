/* conv_algos: one conv layer's forward and backward time with each of its
 * algorithms (im2col, Winograd F(2x2, 3x3) and F(4x4, 3x3), direct), on
 * the shapes of the zoo's networks: the measurements behind SN_CONV_AUTO's
 * choice (docs/PERFORMANCE.md).
 *
 *   build/bench/conv_algos [THREADS]        (default 2)
 *   build/bench/conv_algos THREADS cifar_fast
 *                         the shapes of models/cifar_fast.cfg instead, batch
 *                         256, with the fastest algorithm's GFLOP/s (forward
 *                         and backward as 3x the forward's direct FLOPs)
 *
 * Each line: channels in, image size, channels out, kernel, padding,
 * batch, then forward and backward milliseconds of each algorithm (- where
 * it does not apply), the median of 7 calls after 2 warm-up calls, and the
 * fastest algorithm's speedup over im2col.  Stride 1, linear activation,
 * every gradient computed (the input gradient too, also for the first
 * layers, which do not need it in training).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/conv.h"
#include "core/parallel.h"
#include "core/tensor.h"
#include "load.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { WARM = 2, REPS = 7 };

/* Median forward and backward seconds of one layer; 0 on failure. */
static int time_layer(int C, int HW, int OC, int K, int P, int B, enum sn_conv_algo algo,
                      const float *x, const float *dy, float *y, float *dx, double *fwd,
                      double *bwd)
{
    struct sn_layer *l;
    if (sn_conv_create("c", sn_shape_make(C, HW, HW, 0), OC, K, 1, P, SN_ACT_LINEAR, SN_INIT_HE,
                       &l) != 0)
        return 0;
    if (sn_conv_set_algo(l, algo) != 0) {
        sn_layer_destroy(l);
        return 0;
    }
    size_t nw = (size_t)OC * C * K * K;
    float *w = sn_alloc_f32(nw + OC), *dw = sn_alloc_f32(nw + OC);
    for (size_t i = 0; i < nw + OC; i++)
        w[i] = 0.01f * (float)(i % 13) - 0.06f;
    l->params[0].w = w;
    l->params[1].w = w + nw;
    l->params[0].dw = dw;
    l->params[1].dw = dw + nw;
    l->ops->reserve(l, B);
    float *ws = sn_alloc_f32(l->ops->workspace_len(l, B) + 1);
    struct sn_ctx c = { .B = B, .train = true, .ws = ws };
    const float *in[1] = { x };
    float *din[1] = { dx };
    double tf[REPS], tb[REPS];
    for (int r = 0; r < WARM + REPS; r++) {
        double t0 = sn_clock_s();
        l->ops->forward(l, in, y, &c);
        double t1 = sn_clock_s();
        l->ops->backward(l, in, y, dy, din, &c);
        double t2 = sn_clock_s();
        if (r >= WARM) {
            tf[r - WARM] = t1 - t0;
            tb[r - WARM] = t2 - t1;
        }
    }
    qsort(tf, REPS, sizeof *tf, cmp_d);
    qsort(tb, REPS, sizeof *tb, cmp_d);
    *fwd = tf[REPS / 2];
    *bwd = tb[REPS / 2];
    sn_free(ws);
    sn_free(w);
    sn_free(dw);
    sn_layer_destroy(l);
    return 1;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    sn_parallel_set_threads(threads < 1 ? 1 : threads);
    /* C, H = W, OC, K, P, batch: lenet5, cnn (28x28 Fashion-MNIST), and
     * cifar_resnet (32x32 CIFAR-10) */
    static const int zoo[][6] = {
        { 1, 28, 6, 5, 2, 256 },   { 6, 14, 16, 5, 0, 256 },  { 1, 28, 32, 3, 1, 256 },
        { 8, 28, 8, 3, 1, 128 },   { 16, 28, 16, 3, 1, 128 }, { 32, 28, 32, 3, 1, 256 },
        { 32, 14, 64, 3, 1, 256 }, { 64, 14, 64, 3, 1, 256 }, { 3, 32, 16, 3, 1, 128 },
        { 16, 32, 16, 3, 1, 128 }, { 32, 16, 32, 3, 1, 128 }, { 64, 8, 64, 3, 1, 128 },
    };
    /* cifar_fast: the 2x2 whitening layer, then the 3x3 layers of its three
     * blocks (31x31, 15x15, 7x7 and 3x3 maps) */
    static const int fast[][6] = {
        { 3, 32, 24, 2, 0, 256 },   { 24, 31, 64, 3, 1, 256 },   { 64, 15, 64, 3, 1, 256 },
        { 64, 15, 256, 3, 1, 256 }, { 256, 7, 256, 3, 1, 256 }, { 256, 3, 256, 3, 1, 256 },
    };
    const bool cifar_fast = argc > 2 && strcmp(argv[2], "cifar_fast") == 0;
    const int (*shapes)[6] = cifar_fast ? fast : zoo;
    const size_t n_shapes = cifar_fast ? sizeof fast / sizeof fast[0] : sizeof zoo / sizeof zoo[0];
    enum { NA = 4 };
    static const enum sn_conv_algo algos[NA] = { SN_CONV_IM2COL, SN_CONV_WINOGRAD,
                                                 SN_CONV_WINOGRAD4, SN_CONV_DIRECT };
    static const char *names[NA] = { "im2col", "F(2x2)", "F(4x4)", "direct" };
    const struct load before = load_start();
    printf("# %d threads; ms, median of %d calls\n", threads, REPS);
    printf("%-22s", "C,HxW,OC,KxK,P,batch");
    for (int a = 0; a < NA; a++)
        printf(" %8s fwd %7s", names[a], "bwd");
    printf("  fastest%s\n", cifar_fast ? "  GFLOP/s" : "");
    for (size_t s = 0; s < n_shapes; s++) {
        int C = shapes[s][0], HW = shapes[s][1], OC = shapes[s][2], K = shapes[s][3];
        int P = shapes[s][4], B = shapes[s][5], OHW = HW + 2 * P - K + 1;
        size_t nx = (size_t)B * C * HW * HW, ny = (size_t)B * OC * OHW * OHW;
        float *x = sn_alloc_f32(nx), *dx = sn_alloc_f32(nx);
        float *y = sn_alloc_f32(ny), *dy = sn_alloc_f32(ny);
        for (size_t i = 0; i < nx; i++)
            x[i] = (float)(i % 17) / 17.0f - 0.5f;
        for (size_t i = 0; i < ny; i++)
            dy[i] = (float)(i % 7) / 7.0f - 0.5f;
        char name[48];
        snprintf(name, sizeof name, "%d,%dx%d,%d,%dx%d,%d,%d", C, HW, HW, OC, K, K, P, B);
        printf("%-22s", name);
        double best = 0, base = 0;
        int fastest = -1;
        for (int a = 0; a < NA; a++) {
            double f, b;
            if (!time_layer(C, HW, OC, K, P, B, algos[a], x, dy, y, dx, &f, &b)) {
                printf(" %12s %7s", "-", "-");
                continue;
            }
            printf(" %12.2f %7.2f", 1e3 * f, 1e3 * b);
            if (a == 0)
                base = f + b;
            if (fastest < 0 || f + b < best) {
                best = f + b;
                fastest = a;
            }
        }
        double flops = 3.0 * 2.0 * C * OC * K * K * (double)OHW * OHW * B;
        if (fastest >= 0 && cifar_fast)
            printf("  %s %.2fx  %.1f\n", names[fastest], base / best, flops / best / 1e9);
        else if (fastest >= 0)
            printf("  %s %.2fx\n", names[fastest], base / best);
        else
            printf("  failed\n");
        sn_free(x);
        sn_free(dx);
        sn_free(y);
        sn_free(dy);
    }
    load_warn("conv_algos", before);
    return 0;
}
