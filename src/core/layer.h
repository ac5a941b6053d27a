/* layer: the interface every layer kind implements.
 *
 * A layer kind is one .c file (and its .h): pure kernels (pointers and
 * sizes in, no state), a private struct that embeds struct sn_layer first
 * when it keeps state, and a static const ops table.  Layers declare their
 * parameters (name, shape, how to
 * initialise); the model points every w and dw into one parameter arena and
 * one gradient arena, so the optimizer, the allreduce and the checkpoint see
 * flat arrays.
 *
 * Contract of the ops:
 *   forward   y = f(x[0..n_in-1]) for c->B examples; never allocates, never
 *             fails (shapes were checked at create time).
 *   backward  ADDS dL/dw into each param's dw and dL/dx into each non-NULL
 *             dx[i] (a kind whose ops set overwrites_dx stores into dx
 *             instead where c->fresh says no other layer wrote it: below);
 *             a NULL dx[i] means nobody needs that gradient.  Uses c->ws
 *             (workspace_len floats) as scratch.
 */
#ifndef SN_CORE_LAYER_H
#define SN_CORE_LAYER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"
#include "core/tensor.h"

#define SN_MAX_INPUTS 8
#define SN_MAX_PARAMS 4
#define SN_NAME_LEN 64

enum sn_init {
    SN_INIT_ZERO,
    SN_INIT_ONE,
    SN_INIT_FANIN_UNIFORM,   /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default */
    SN_INIT_HE,              /* N(0, 2/fan_in): He et al. 2015, for ReLU nets */
    SN_INIT_XAVIER,          /* U(+-sqrt(6/(fan_in+fan_out))): Glorot & Bengio 2010 */
    SN_INIT_DIRAC,           /* conv weight (OC, C, K, K): the first n_dirac filters are
                              * identities (1 at the centre tap of channel o: filter o
                              * passes channel o through, torch.nn.init.dirac_), the
                              * others FANIN_UNIFORM */
    SN_INIT_WHITEN,          /* conv weight (OC, C, K, K) reading the model input: the
                              * whitening filters of the training images' patches
                              * (core/whiten.h), computed by the trainer before its
                              * first step (train/start.c); FANIN_UNIFORM until then */
};

struct sn_param {
    char name[SN_NAME_LEN];   /* PyTorch's name: "weight", "bias" ... */
    struct sn_shape shape;    /* PyTorch's layout */
    size_t len;
    enum sn_init init;
    int fan_in, fan_out;
    int n_dirac;              /* SN_INIT_DIRAC: identity filters, <= min(OC, C) */
    int whiten_images;        /* SN_INIT_WHITEN: the first this many training images */
    float whiten_eps;         /* SN_INIT_WHITEN: added to each eigenvalue */
    bool trainable;           /* false for frozen layers and buffers */
    float lr_mult, wd_mult;   /* the optimizer's learning rate and weight decay for
                               * this parameter: the global ones times these (1) */
    bool buffer;              /* state that is not learnt (batchnorm running stats) */
    float *w;                 /* into the parameter arena (buffers: the buffer arena) */
    float *dw;                /* into the gradient arena (buffers: NULL) */
    size_t offset;            /* of w in its arena, in floats */
};

/* What the caller of a forward or backward pass may watch while it runs
 * (every member optional; called from the calling thread only).  This is
 * how communication overlaps computation without the model knowing of
 * it: whoever reduces gradients over ranks starts on the ones that are
 * final while the pass goes on. */
struct sn_watch {
    void *ctx;
    /* backward: every gradient from arena offset `from` to the end of the
     * arena is final.  The model calls it after each layer that has
     * parameters; a layer that finishes some of its parameters well before
     * its backward ends (a recurrent layer: W_hh and the biases before the
     * long W_ih product) calls it early (sn_ctx_ready). */
    void (*ready)(void *ctx, size_t from);
    /* backward: long layers call it now and then (sn_ctx_poll), so work
     * started earlier in the pass can progress */
    void (*poll)(void *ctx);
    /* each layer's start and end, in sn_clock_s seconds (clock reads only
     * happen when this is set) */
    void (*layer)(void *ctx, int layer, bool backward, double t0, double t1);
};

/* What every call gets: the batch size of this call, train or eval, the
 * shared scratch buffer, the random stream for this step, and the
 * caller's watch (NULL: none). */
struct sn_ctx {
    int B;
    bool train;
    float *ws;
    struct sn_rng *rng;
    const struct sn_watch *watch;
    /* Backward of a layer whose ops->overwrites_dx: bit j set means no
     * layer has written dx[j] yet in this backward and it was not zeroed,
     * so the layer stores its gradient there (=) instead of adding (+=).
     * Other layers always get zeroed or partly summed dx and add. */
    unsigned fresh;
};

/* Call the watch's poll if set and if this is the thread that called the
 * layer (OpenMP thread 0 inside a parallel loop). */
void sn_ctx_poll(const struct sn_ctx *c);

/* Call the watch's ready(from) if set (from the layer's calling thread). */
void sn_ctx_ready(const struct sn_ctx *c, size_t from);

/* What a layer computes beyond its kind, parameters and shapes, for code
 * that writes a model in another format (src/io/onnx.c).  Fields a kind
 * does not have stay 0. */
struct sn_layer_attrs {
    int act;                 /* enum sn_act (activation.h) applied to the output */
    int size, stride, pad;   /* conv, maxpool, avgpool: square window, zero padding */
    float eps;               /* batchnorm */
    float scale;             /* dense: y = scale (x W^T + b) */
    float rate;              /* dropout (applied in training only) */
};

struct sn_layer;

struct sn_layer_ops {
    const char *kind;   /* the model-file section word */
    size_t (*workspace_len)(const struct sn_layer *l, int B);   /* may be NULL */
    /* Allocate what forward keeps for backward (masks, indices, gate
     * histories) for batches of up to max_batch; called once by
     * sn_model_build.  May be NULL. */
    int (*reserve)(struct sn_layer *l, int max_batch);
    /* Floats (or 4-byte indices) per example of the batch beyond the
     * output: what reserve keeps and the part of the workspace that grows
     * with the batch, for the model's size budget (sn_model_size) before
     * anything is allocated; SIZE_MAX if it does not fit.  May be NULL. */
    size_t (*kept_len)(const struct sn_layer *l);
    void (*forward)(struct sn_layer *l, const float *const *x, float *y,
                    const struct sn_ctx *c);
    void (*backward)(struct sn_layer *l, const float *const *x, const float *y,
                     const float *dy, float *const *dx, const struct sn_ctx *c);
    void (*destroy)(struct sn_layer *l);   /* extra cleanup; may be NULL */
    /* Forward floating-point operations for one example (multiply-adds
     * count 2); NULL: one per output value. */
    double (*flops)(const struct sn_layer *l);
    /* Fill in the kind's attributes; NULL: it has none. */
    void (*attrs)(const struct sn_layer *l, struct sn_layer_attrs *a);
    /* forward and backward stay correct when y is x[0] (elementwise
     * layers): the model then runs them in place where it may */
    bool in_place;
    /* backward honours sn_ctx.fresh (the model then skips zeroing those
     * input gradients: one pass less over each) */
    bool overwrites_dx;
};

struct sn_layer {
    const struct sn_layer_ops *ops;
    char name[SN_NAME_LEN];
    int n_in;
    int in[SN_MAX_INPUTS];               /* producer layer index, -1 = model input */
    struct sn_shape in_shape[SN_MAX_INPUTS];
    struct sn_shape out_shape;           /* per example */
    int n_params;
    struct sn_param params[SN_MAX_PARAMS];
    bool freeze;
    bool backward_reads_y;               /* backward looks at this layer's own y
                                          * (true unless the create says not) */
};

/* Fill the common fields of a new single-input layer. */
void sn_layer_base_init(struct sn_layer *l, const struct sn_layer_ops *ops,
                        const char *name, struct sn_shape in);

/* Declare a non-learnt state array (saved with the parameters, averaged
 * over ranks after each step, never given a gradient). */
struct sn_param *sn_layer_add_buffer(struct sn_layer *l, const char *name,
                                     struct sn_shape shape, enum sn_init init);

/* Declare parameter number l->n_params; returns it. */
struct sn_param *sn_layer_add_param(struct sn_layer *l, const char *name,
                                    struct sn_shape shape, enum sn_init init,
                                    int fan_in, int fan_out);

/* Free a layer made by any sn_<kind>_create (NULL is fine). */
void sn_layer_destroy(struct sn_layer *l);

/* Forward FLOPs of one example (ops->flops, or one per output value). */
double sn_layer_flops(const struct sn_layer *l);

/* The attributes of l (all 0 for a kind that has none). */
void sn_layer_get_attrs(const struct sn_layer *l, struct sn_layer_attrs *a);

/* Fill a parameter according to its init rule from r. */
void sn_param_init(struct sn_param *p, struct sn_rng *r);

#endif
