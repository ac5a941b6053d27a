/* augment: the transformations of image batches and the test-time views
 * (see augment.h).  Per example, first the per-(epoch, row) ones
 * (alternating flip, reflected translation: one lookup per pixel), then
 * the per-step random ones as one inverse mapping: for every output pixel
 * (i, j), the source position is found by undoing flip, zoom, rotation
 * and shift about the centre, then read bilinearly (zero outside).
 * Examples are independent, so the loop over B is the parallel one. */
#include "core/augment.h"

#include <math.h>
#include <string.h>

#include "core/parallel.h"
#include "core/rng.h"

#define AUGMENT_STREAM 0x4155474dULL
#define TRANSLATE_STREAM 0x5452414eULL
#define FLIP_STREAM 0x464c4950ULL

/* PyTorch's 'reflect' padding: index i of a row of n, for -n < i < 2n - 1
 * (the edge value is not repeated: -1 reads 1, n reads n - 2). */
static inline int reflect(int i, int n)
{
    return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

/* out = one example of C planes translated by (dy, dx), the border
 * reflected, then mirrored if flip: out(i, j) = x(r(i - dy), r(j' - dx)),
 * j' = W - 1 - j when mirrored. */
static void view_one(const float *x, float *out, int C, int H, int W, int dy, int dx, bool flip)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++) {
            const float *src = x + ((size_t)c * H + (size_t)reflect(i - dy, H)) * W;
            float *dst = out + ((size_t)c * H + i) * W;
            for (int j = 0; j < W; j++)
                dst[j] = src[reflect((flip ? W - 1 - j : j) - dx, W)];
        }
}

/* The per-(epoch, row) view of example row: its alternating flip and its
 * reflected translation. */
static struct sn_view epoch_view(const struct sn_augment *a, const struct sn_augment_at *at,
                                 int32_t row)
{
    struct sn_view v = { 0, 0, false };
    if (a->flip_alternate)   /* the row's phase: one bit of a hash of (seed, row) */
        v.flip = ((sn_rng_mix(sn_rng_mix(at->seed, FLIP_STREAM), (uint64_t)row) >> 63) ^
                  (uint64_t)(at->epoch & 1)) != 0;
    if (a->translate > 0) {
        struct sn_rng r;
        sn_rng_seed(&r, sn_rng_mix(sn_rng_mix(at->seed, (uint64_t)at->epoch), (uint64_t)row),
                    TRANSLATE_STREAM);
        uint32_t span = (uint32_t)(2 * a->translate + 1);
        v.dy = (int)sn_rng_below(&r, span) - a->translate;
        v.dx = (int)sn_rng_below(&r, span) - a->translate;
    }
    return v;
}

static float sample(const float *plane, int H, int W, float y, float x)
{
    int y0 = (int)floorf(y), x0 = (int)floorf(x);
    float fy = y - (float)y0, fx = x - (float)x0, v = 0.0f;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int yy = y0 + dy, xx = x0 + dx;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W)
                continue;
            float wgt = (dy ? fy : 1.0f - fy) * (dx ? fx : 1.0f - fx);
            v += wgt * plane[yy * W + xx];
        }
    return v;
}

void sn_augment_batch(const struct sn_augment *a, float *x, float *tmp, int B, int C, int H, int W,
                      const struct sn_augment_at *at)
{
    const size_t plane = (size_t)H * W, len = (size_t)C * plane;
    const bool per_row = a->translate > 0 || a->flip_alternate;
    const bool per_step = a->shift > 0 || a->flip || a->rotate > 0.0f || a->zoom > 0.0f;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * len, *t = tmp + (size_t)b * len;
        if (per_row) {
            struct sn_view v = epoch_view(a, at, at->rows[b]);
            memcpy(t, xb, len * sizeof *t);
            view_one(t, xb, C, H, W, v.dy, v.dx, v.flip);
        }
        if (!per_step)
            continue;
        struct sn_rng r;
        sn_rng_seed(&r, sn_rng_mix(sn_rng_mix(at->seed, (uint64_t)at->step),
                                   ((uint64_t)at->rank << 32) | (uint32_t)b),
                    AUGMENT_STREAM);
        int sy = a->shift ? (int)sn_rng_below(&r, (uint32_t)(2 * a->shift + 1)) - a->shift : 0;
        int sx = a->shift ? (int)sn_rng_below(&r, (uint32_t)(2 * a->shift + 1)) - a->shift : 0;
        bool flip = a->flip && (sn_rng_u32(&r) & 1u);
        float ang = a->rotate > 0 ? (2.0f * sn_rng_uniform(&r) - 1.0f) * a->rotate * 0.017453293f : 0.0f;
        float zoom = a->zoom > 0 ? 1.0f + (2.0f * sn_rng_uniform(&r) - 1.0f) * a->zoom : 1.0f;
        memcpy(t, xb, len * sizeof *t);
        const float cy = 0.5f * (float)(H - 1), cx = 0.5f * (float)(W - 1);
        const float ca = cosf(ang) / zoom, sa = sinf(ang) / zoom;
        const bool affine = ang != 0.0f || zoom != 1.0f;
        for (int c = 0; c < C; c++) {
            const float *src = t + (size_t)c * plane;
            float *dst = xb + (size_t)c * plane;
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    /* output (i, j) <- shifted, (flipped) position */
                    float yi = (float)(i - sy), xj = (float)(flip ? W - 1 - j + sx : j - sx);
                    if (!affine) {
                        int yy = (int)yi, xx = (int)xj;
                        dst[i * W + j] = yy >= 0 && yy < H && xx >= 0 && xx < W ? src[yy * W + xx] : 0.0f;
                        continue;
                    }
                    float dy = yi - cy, dx = xj - cx;
                    dst[i * W + j] = sample(src, H, W, cy + ca * dy - sa * dx, cx + sa * dy + ca * dx);
                }
        }
    }
}

void sn_flip_batch(float *x, int B, int C, int H, int W)
{
    const size_t rows = (size_t)B * C * H;
#pragma omp parallel for schedule(static) if (rows * (size_t)W > SN_ELEMWISE_PAR)
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * (size_t)W;
        for (int j = 0, k = W - 1; j < k; j++, k--) {
            float v = row[j];
            row[j] = row[k];
            row[k] = v;
        }
    }
}

void sn_view_batch(const struct sn_view *v, const float *x, float *out, int B, int C, int H, int W)
{
    const size_t len = (size_t)C * H * W;
#pragma omp parallel for schedule(static) if ((size_t)B * len > SN_ELEMWISE_PAR)
    for (int b = 0; b < B; b++)
        view_one(x + (size_t)b * len, out + (size_t)b * len, C, H, W, v->dy, v->dx, v->flip);
}

size_t sn_tta_scratch_len(const struct sn_augment *a, int n, int C, int H, int W, size_t K)
{
    return a->n_views ? (size_t)n * K + (size_t)n * C * H * W : 0;
}

const float *sn_tta_forward(const struct sn_augment *a, sn_forward_fn forward, void *ctx,
                            const float *x, int n, int C, int H, int W, size_t K,
                            float *scratch)
{
    if (a->n_views == 0)
        return forward(ctx, x, n);
    const size_t len = (size_t)n * K;
    float *zsum = scratch, *view = scratch + len;
    for (int k = 0; k < a->n_views; k++) {
        const struct sn_view *v = &a->views[k];
        bool plain = v->dy == 0 && v->dx == 0 && !v->flip;
        if (!plain)
            sn_view_batch(v, x, view, n, C, H, W);
        const float *z = forward(ctx, plain ? x : view, n);
        const float wk = a->view_weight[k];
        for (size_t i = 0; i < len; i++)   /* test_flip: (z0 + z1) / 2, to the bit */
            zsum[i] = k ? zsum[i] + wk * z[i] : wk * z[i];
    }
    return zsum;
}

bool sn_augment_is_test_flip(const struct sn_augment *a)
{
    const struct sn_view *v = a->views;
    return a->test_flip ||
           (a->n_views == 2 && v[0].dy == 0 && v[0].dx == 0 && v[1].dy == 0 && v[1].dx == 0 &&
            v[0].flip != v[1].flip && a->view_weight[0] == a->view_weight[1]);
}
