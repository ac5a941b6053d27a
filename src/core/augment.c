/* augment: shift, flip, rotation and zoom of image batches (see
 * augment.h).  One inverse mapping per example: for every output pixel
 * (i, j), the source position is found by undoing flip, zoom, rotation and
 * shift about the centre, then read bilinearly (zero outside).  Examples
 * are independent, so the loop over B is the parallel one. */
#include "core/augment.h"

#include <math.h>
#include <string.h>

#include "core/parallel.h"
#include "core/rng.h"

#define AUGMENT_STREAM 0x4155474dULL

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
                      uint64_t seed, int64_t step, int rank)
{
    const size_t plane = (size_t)H * W, len = (size_t)C * plane;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        struct sn_rng r;
        sn_rng_seed(&r, sn_rng_mix(sn_rng_mix(seed, (uint64_t)step), ((uint64_t)rank << 32) | (uint32_t)b),
                    AUGMENT_STREAM);
        int sy = a->shift ? (int)sn_rng_below(&r, (uint32_t)(2 * a->shift + 1)) - a->shift : 0;
        int sx = a->shift ? (int)sn_rng_below(&r, (uint32_t)(2 * a->shift + 1)) - a->shift : 0;
        bool flip = a->flip && (sn_rng_u32(&r) & 1u);
        float ang = a->rotate > 0 ? (2.0f * sn_rng_uniform(&r) - 1.0f) * a->rotate * 0.017453293f : 0.0f;
        float zoom = a->zoom > 0 ? 1.0f + (2.0f * sn_rng_uniform(&r) - 1.0f) * a->zoom : 1.0f;
        float *xb = x + (size_t)b * len, *t = tmp + (size_t)b * len;
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
