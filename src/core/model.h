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
    struct sn_layer **layers;     /* owned */
    int max_batch;
    size_t n_params;              /* floats in the parameter and gradient arenas */
    float *params;                /* owned arena */
    float *grads;                 /* owned arena */
    size_t n_buffers;             /* floats in the buffer arena */
    float *buffers;               /* owned arena: running statistics */
    int n_plist;
    struct sn_param **plist;      /* every parameter, in layer order */
    float **y, **dy;              /* owned, per layer */
    float *ws;                    /* owned scratch */
    size_t ws_len;
    const float *x;               /* input of the current forward (borrowed) */
};

/* A new empty model reading examples of shape in. */
int sn_model_create(struct sn_shape in, struct sn_model **out);

/* Free the model and everything it owns (NULL is fine). */
void sn_model_destroy(struct sn_model *m);

/* Append layer l, TAKING it (it is destroyed here if this fails).  l->in[]
 * must name earlier layers (or -1); SN_ESHAPE if not, or if the name is
 * taken. */
int sn_model_add(struct sn_model *m, struct sn_layer *l);

/* The per-example output shape of layer i (i = -1: the model input). */
struct sn_shape sn_model_shape(const struct sn_model *m, int i);

/* Index of the layer called name, or -1. */
int sn_model_find(const struct sn_model *m, const char *name);

/* Allocate the arenas and buffers for batches of up to max_batch and
 * initialise every parameter from r (layer by layer, in order).
 * SN_ENOMEM, or SN_ESHAPE for an empty model. */
int sn_model_build(struct sn_model *m, int max_batch, struct sn_rng *r);

/* Run B <= max_batch examples x (B x input length).  Returns the output
 * buffer (B x output length), owned by the model, valid until the next
 * forward.  rng feeds layers that draw (dropout); may be NULL in eval. */
const float *sn_model_forward(struct sn_model *m, const float *x, int B, bool train,
                              struct sn_rng *rng);

/* Backpropagate dout (B x output length) through the last forward, ADDING
 * parameter gradients into the gradient arena. */
void sn_model_backward(struct sn_model *m, const float *dout, int B, struct sn_rng *rng);

/* Zero the gradient arena. */
void sn_model_zero_grad(struct sn_model *m);

/* Elements of one output example (the last layer's out_shape). */
size_t sn_model_out_len(const struct sn_model *m);

#endif
