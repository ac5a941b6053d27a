/* model: a directed acyclic graph of named layers, in model-file order.
 *
 * Layer i reads the outputs of earlier layers (l->in[], -1 = the model's
 * input); the last layer's output is the model's output.  After
 * sn_model_build the model owns: every layer, one parameter arena and one
 * gradient arena (all w / dw point into them), one output and one
 * output-gradient buffer per layer sized for max_batch examples, and one
 * shared scratch buffer.  Nothing is allocated after build.
 */
#ifndef SN_CORE_MODEL_H
#define SN_CORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/layer.h"
#include "core/rng.h"
#include "core/tensor.h"

struct sn_model {
    struct sn_shape in_shape;     /* one example */
    int n_layers;
    struct sn_layer **layers;     /* owned; room for cap_layers */
    int cap_layers;
    int *by_name;                 /* owned: open-addressing table of layer indices
                                   * by name (-1 empty), n_by_name slots, so name
                                   * lookups stay O(1) in deep models */
    int n_by_name;
    size_t n_declared;            /* parameter values of the layers added so far */
    int max_batch;
    size_t n_params;              /* floats in the parameter and gradient arenas */
    float *params;                /* owned arena */
    float *grads;                 /* arena of n_params floats; owned unless
                                   * sn_model_use_grads lent another */
    bool grads_lent;
    size_t n_buffers;             /* floats in the buffer arena */
    float *buffers;               /* owned arena: running statistics */
    int n_plist;
    struct sn_param **plist;      /* every parameter, in layer order */
    float **y;                    /* per layer: outputs, kept for backward; owned
                                   * unless y_shared[i] */
    /* y_shared[i]: layer i runs in place on its input's buffer.  It may
     * when its kind allows (ops->in_place), it is that input's only reader,
     * and the input's backward never looks at its own output. */
    bool *y_shared;
    bool plain_memory;            /* set before sn_model_build: no sharing at all,
                                   * every layer its own y and dy (tests, debugging) */
    /* Output gradients.  dy[i] is needed only from the backward of the last
     * layer that reads layer i down to layer i's own backward, so layers
     * whose intervals do not overlap share a slot: in a chain, two slots
     * serve the whole network. */
    float **dy;                   /* per layer, pointing into a slot */
    int *dy_first;                /* per layer: the layer whose backward first writes dy[i] */
    float **dy_slots;             /* owned */
    size_t *dy_slot_len;          /* owned: floats in each slot */
    int n_dy_slots;
    float *ws;                    /* owned scratch */
    size_t ws_len;
    const float *x;               /* input of the current forward (borrowed) */
};

/* A new empty model reading examples of shape in. */
int sn_model_create(struct sn_shape in, struct sn_model **out);

/* Free the model and everything it owns (NULL is fine). */
void sn_model_destroy(struct sn_model *m);

/* The most layers a model may have (model files: docs/RELIABILITY.md):
 * a ResNet-1001, each convolution, batch norm, activation and addition a
 * layer, has about 3,300.  Its files are read in seconds (a weights file
 * of 4,096 dense layers: 1 s in info). */
#define SN_MAX_LAYERS 4096

/* Append layer l, TAKING it (it is destroyed here if this fails).  l->in[]
 * must name earlier layers (or -1); SN_ESHAPE if not, if the name is
 * taken, if the model already has SN_MAX_LAYERS layers, or if a shape or
 * a parameter of l holds more than SN_MAX_ELEMS values or the model's
 * parameters would overflow (core/checked.h): every layer passes here, so
 * no later size computation can wrap. */
int sn_model_add(struct sn_model *m, struct sn_layer *l);

/* The per-example output shape of layer i (i = -1: the model input). */
struct sn_shape sn_model_shape(const struct sn_model *m, int i);

/* Bytes sn_model_build allocated: the parameter, gradient and buffer
 * arenas, every output, the output-gradient slots and the workspace
 * (layer-private state, such as dropout masks, comes on top). */
size_t sn_model_bytes(const struct sn_model *m);

/* What a model needs, known from its layers before sn_model_build
 * allocates anything. */
struct sn_model_size {
    size_t n_learnt, n_buffers;   /* parameter values: learnt, and running statistics */
    size_t state_bytes;           /* float32 parameters, their gradients, n_states optimizer
                                   * states of the learnt ones, and the buffers */
    size_t act_bytes;             /* float32 layer outputs of one example */
    size_t kept_len;              /* floats per example beyond the outputs: the input batch
                                   * (twice: rows read, model input) and each layer's
                                   * kept_len (recurrent time steps, masks, indices) */
    size_t batch_act_bytes;       /* at the batch: every output, two output-gradient
                                   * buffers of the largest (a chain's need), kept_len */
    size_t ws_bytes;              /* the largest layer workspace at the batch (im2col's
                                   * columns, per thread) */
    size_t total_bytes;           /* state_bytes + batch_act_bytes + ws_bytes */
};

/* The sizes of m (built or not) for batches of batch with n_states
 * optimizer states per learnt parameter, with overflow-checked arithmetic
 * (SN_ESHAPE if a size does not fit in size_t).  A layer that the build
 * runs in place (relu, dropout, flatten after their input's only reader)
 * has no output of its own here either; GELU, whose backward reads its
 * input, has. */
int sn_model_size(const struct sn_model *m, int batch, int n_states, struct sn_model_size *out);

/* The most bytes sn_model_check_budget lets a model take: 4 GiB, or the
 * environment variable SN_MODEL_MAX_BYTES (an integer in [1, 2^62];
 * SN_EINVAL naming it if it is not). */
#define SN_MODEL_MAX_BYTES ((size_t)4 << 30)
int sn_model_max_bytes(size_t *limit);

/* Refuse (SN_EINVAL, naming what, the sizes and the limit) a model whose
 * sn_model_size total exceeds sn_model_max_bytes: called before
 * sn_model_build, so a small model file cannot make a command allocate
 * gigabytes.  what names the model in the message (its file). */
int sn_model_check_budget(const struct sn_model *m, int batch, int n_states, const char *what);

/* Index of the layer called name, or -1. */
int sn_model_find(const struct sn_model *m, const char *name);

/* Allocate the arenas and buffers for batches of up to max_batch and
 * initialise every parameter from r (layer by layer, in order).
 * SN_ENOMEM, or SN_ESHAPE for an empty model. */
int sn_model_build(struct sn_model *m, int max_batch, struct sn_rng *r);

/* Run B <= max_batch examples x (B x input length).  Returns the output
 * buffer (B x output length), owned by the model, valid until the next
 * forward; NULL (sn_errmsg says why) for a B outside 0 to max_batch or a
 * NULL model or input.  rng feeds layers that draw (dropout); may be NULL in eval.
 * watch (layer.h; NULL: none) is told each layer's times. */
const float *sn_model_forward(struct sn_model *m, const float *x, int B, bool train,
                              struct sn_rng *rng, const struct sn_watch *watch);

/* Backpropagate dout (B x output length) through the last forward, ADDING
 * parameter gradients into the gradient arena.  watch (NULL: none) learns
 * how far the final gradients reach as the pass goes (ready), gets polled
 * by long layers, and is told each layer's times. */
void sn_model_backward(struct sn_model *m, const float *dout, int B, struct sn_rng *rng,
                       const struct sn_watch *watch);

/* Zero the gradient arena. */
void sn_model_zero_grad(struct sn_model *m);

/* After build: keep the gradients in arena instead (at least n_params
 * floats the caller owns and keeps alive until the model is destroyed,
 * e.g. memory the other ranks of this host can read).  The
 * model's own arena is freed and every parameter's dw points into arena;
 * the current gradients move with them. */
void sn_model_use_grads(struct sn_model *m, float *arena);

/* Elements of one output example (the last layer's out_shape). */
size_t sn_model_out_len(const struct sn_model *m);

#endif
