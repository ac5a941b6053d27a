/* conv_algos: one conv layer's forward and backward time with each of its
 * algorithms (im2col, Winograd F(2x2, 3x3) and F(4x4, 3x3)), on the shapes
 * of the zoo's networks: the measurements behind SN_CONV_AUTO's choice
 * (docs/PERFORMANCE.md).
 *
 *   build/bench/conv_algos [THREADS]        (default 2)
 *
 * Each line: channels in, image size, channels out, batch, then forward
 * and backward milliseconds of each algorithm, the median of 7 calls
 * after 2 warm-up calls.  Linear activation, every gradient computed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/conv.h"
#include "core/parallel.h"
#include "core/tensor.h"

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

enum { WARM = 2, REPS = 7 };

/* Median forward and backward seconds of one layer; 0 on failure. */
static int time_layer(int C, int HW, int OC, int B, enum sn_conv_algo algo, const float *x,
                      const float *dy, float *y, float *dx, double *fwd, double *bwd)
{
    struct sn_layer *l;
    if (sn_conv_create("c", sn_shape_make(C, HW, HW, 0), OC, 3, 1, 1, SN_ACT_LINEAR, SN_INIT_HE,
                       &l) != 0 || sn_conv_set_algo(l, algo) != 0)
        return 0;
    size_t nw = (size_t)OC * C * 9;
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
        double t0 = now_s();
        l->ops->forward(l, in, y, &c);
        double t1 = now_s();
        l->ops->backward(l, in, y, dy, din, &c);
        double t2 = now_s();
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
    /* C, H = W, OC, batch: cnn (28x28 Fashion-MNIST) and cifar_resnet */
    static const int shapes[][4] = {
        { 1, 28, 32, 256 },  { 8, 28, 8, 128 },   { 16, 28, 16, 128 }, { 32, 28, 32, 256 },
        { 32, 14, 64, 256 }, { 64, 14, 64, 256 }, { 3, 32, 16, 128 },  { 16, 32, 16, 128 },
        { 32, 16, 32, 128 }, { 64, 8, 64, 128 },
    };
    printf("# %d threads; ms, median of %d calls\n", threads, REPS);
    printf("%-18s %10s %8s %10s %8s %10s %8s %9s %9s\n", "C,HxW,OC,batch", "im2col fwd",
           "bwd", "F(2x2) fwd", "bwd", "F(4x4) fwd", "bwd", "F2/im2col", "F4/im2col");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int C = shapes[s][0], HW = shapes[s][1], OC = shapes[s][2], B = shapes[s][3];
        size_t nx = (size_t)B * C * HW * HW, ny = (size_t)B * OC * HW * HW;
        float *x = sn_alloc_f32(nx), *dx = sn_alloc_f32(nx);
        float *y = sn_alloc_f32(ny), *dy = sn_alloc_f32(ny);
        for (size_t i = 0; i < nx; i++)
            x[i] = (float)(i % 17) / 17.0f - 0.5f;
        for (size_t i = 0; i < ny; i++)
            dy[i] = (float)(i % 7) / 7.0f - 0.5f;
        static const enum sn_conv_algo algos[3] = { SN_CONV_IM2COL, SN_CONV_WINOGRAD,
                                                    SN_CONV_WINOGRAD4 };
        double f[3] = { 0 }, b[3] = { 0 };
        int ok = 1;
        for (int a = 0; a < 3 && ok; a++)
            ok = time_layer(C, HW, OC, B, algos[a], x, dy, y, dx, &f[a], &b[a]);
        char name[32];
        snprintf(name, sizeof name, "%d,%dx%d,%d,%d", C, HW, HW, OC, B);
        if (ok)
            printf("%-18s %10.2f %8.2f %10.2f %8.2f %10.2f %8.2f %8.2fx %8.2fx\n", name,
                   1e3 * f[0], 1e3 * b[0], 1e3 * f[1], 1e3 * b[1], 1e3 * f[2], 1e3 * b[2],
                   (f[0] + b[0]) / (f[1] + b[1]), (f[0] + b[0]) / (f[2] + b[2]));
        else
            printf("%-18s failed\n", name);
        sn_free(x);
        sn_free(dx);
        sn_free(y);
        sn_free(dy);
    }
    return 0;
}
