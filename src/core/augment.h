/* augment: transformations of training images, done per rank on the
 * batch it reads, off during evaluation; and test-time augmentation.
 *
 *   shift   translate by up to `shift` pixels in x and y (zero fill): the
 *           "random crop with padding" of CIFAR training
 *   flip    mirror left-right with probability 1/2
 *   rotate  rotate by an angle in [-rotate, rotate] degrees
 *   zoom    scale by a factor in [1 - zoom, 1 + zoom]
 *   translate  translate by up to `translate` pixels in x and y, the border
 *           reflected (PyTorch's 'reflect' padding, then a crop: airbench's)
 *   flip_alternate  ("flip = alternate") each image mirrored in every other
 *           epoch, starting at random: example e is mirrored in epoch t when
 *           (t + bit(seed, e)) is odd (Jordan's airbench: lower variance
 *           than flipping at random, every image seen both ways every two
 *           epochs)
 * Rotation and zoom sample bilinearly about the image centre.  shift, flip,
 * rotate and zoom draw from a stream seeded by (seed, step, rank, example
 * within the rank's batch); translate and flip_alternate are a function of
 * (seed, epoch, dataset row) alone, so an example gets the same
 * transformation whatever the rank count, and a resumed run repeats it.
 * Either way the result is the same whatever the thread count.
 *
 * Test-time augmentation: the model's outputs on several views of each
 * image (translated with reflection, then mirrored or not), averaged with
 * weights, before the loss, the prediction and the probabilities.
 * Legend: B (or n) examples of (C, H, W); K outputs per example.
 */
#ifndef SN_CORE_AUGMENT_H
#define SN_CORE_AUGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_MAX_VIEWS 16

/* One test-time view: translate by (dy, dx) (content moves down by dy and
 * right by dx, the border reflected), then mirror left-right if flip. */
struct sn_view {
    int dy, dx;
    bool flip;
};

struct sn_augment {
    int shift;       /* pixels, 0 = off */
    bool flip;
    float rotate;    /* degrees, 0 = off */
    float zoom;      /* fraction, 0 = off */
    int translate;   /* pixels, 0 = off */
    bool flip_alternate;
    bool test_flip;  /* the views are the image and its mirror ([augment] test_flip) */
    int n_views;     /* test-time views, 0 = plain evaluation */
    struct sn_view views[SN_MAX_VIEWS];
    float view_weight[SN_MAX_VIEWS];   /* summing to 1 */
};

/* Where a training batch stands: what its transformations depend on. */
struct sn_augment_at {
    uint64_t seed;
    int64_t step;          /* global step (shift, flip, rotate, zoom) */
    int rank;
    int64_t epoch;         /* translate, flip_alternate */
    const int32_t *rows;   /* the dataset row of each example */
};

static inline bool sn_augment_any(const struct sn_augment *a)
{
    return a->shift > 0 || a->flip || a->rotate > 0.0f || a->zoom > 0.0f || a->translate > 0 ||
           a->flip_alternate;
}

/* Transform x (B, C, H, W) in place; tmp holds B examples (scratch). */
void sn_augment_batch(const struct sn_augment *a, float *x, float *tmp, int B, int C, int H, int W,
                      const struct sn_augment_at *at);

/* Mirror every image of x (B, C, H, W) left-right in place (its own
 * inverse: calling it twice gives x back bit for bit). */
void sn_flip_batch(float *x, int B, int C, int H, int W);

/* Scratch floats sn_augment_batch needs for B examples of C*H*W. */
static inline size_t sn_augment_scratch_len(int B, int C, int H, int W)
{
    return (size_t)B * C * H * W;
}

/* out = view v of each image of x (B, C, H, W); |dy| < H, |dx| < W. */
void sn_view_batch(const struct sn_view *v, const float *x, float *out, int B, int C, int H, int W);

/* A model's forward pass, the one thing test-time augmentation needs:
 * the outputs (n, K) for inputs x (n examples), owned by the callee and
 * valid until its next call. */
typedef const float *(*sn_forward_fn)(void *ctx, const float *x, int n);

/* Scratch floats sn_tta_forward needs for n examples of C*H*W and K
 * outputs (0 without views). */
size_t sn_tta_scratch_len(const struct sn_augment *a, int n, int C, int H, int W, size_t K);

/* The outputs (n, K) as evaluation sees them: forward(x) without views;
 * with them the weighted mean of forward(view) over a's views, written to
 * scratch (sn_tta_scratch_len floats).  x is not changed. */
const float *sn_tta_forward(const struct sn_augment *a, sn_forward_fn forward, void *ctx,
                            const float *x, int n, int C, int H, int W, size_t K,
                            float *scratch);

/* Whether a's test-time views are test_flip's: the image and its mirror,
 * weighed alike (test_flip = 1, or test_views = 0 0, flip). */
bool sn_augment_is_test_flip(const struct sn_augment *a);

#endif
