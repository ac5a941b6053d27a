/* augment: random transformations of training images, done per rank on
 * the batch it reads, off during evaluation.
 *
 *   shift   translate by up to `shift` pixels in x and y (zero fill): the
 *           "random crop with padding" of CIFAR training
 *   flip    mirror left-right with probability 1/2
 *   rotate  rotate by an angle in [-rotate, rotate] degrees
 *   zoom    scale by a factor in [1 - zoom, 1 + zoom]
 *   test_flip  (evaluation, not training) score each image and its mirror
 *           image and average the two outputs: test-time augmentation
 * Rotation and zoom sample bilinearly about the image centre.  Each example
 * draws from its own stream seeded by (seed, step, rank, example), so the
 * result is the same whatever the thread count, and a rerun repeats it.
 * Legend: B examples of (C, H, W).
 */
#ifndef SN_CORE_AUGMENT_H
#define SN_CORE_AUGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sn_augment {
    int shift;       /* pixels, 0 = off */
    bool flip;
    float rotate;    /* degrees, 0 = off */
    float zoom;      /* fraction, 0 = off */
    bool test_flip;  /* evaluation averages the outputs of x and its mirror */
};

static inline bool sn_augment_any(const struct sn_augment *a)
{
    return a->shift > 0 || a->flip || a->rotate > 0.0f || a->zoom > 0.0f;
}

/* Transform x (B, C, H, W) in place; tmp holds B examples (scratch). */
void sn_augment_batch(const struct sn_augment *a, float *x, float *tmp, int B, int C, int H, int W,
                      uint64_t seed, int64_t step, int rank);

/* Mirror every image of x (B, C, H, W) left-right in place (its own
 * inverse: calling it twice gives x back bit for bit). */
void sn_flip_batch(float *x, int B, int C, int H, int W);

/* Scratch floats sn_augment_batch needs for B examples of C*H*W. */
static inline size_t sn_augment_scratch_len(int B, int C, int H, int W)
{
    return (size_t)B * C * H * W;
}

#endif
