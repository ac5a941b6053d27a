/* test_model: the layer graph, its arenas, and whole-model gradients. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/activation.h"
#include "core/add.h"
#include "core/batchnorm.h"
#include "core/conv.h"
#include "core/dense.h"
#include "core/dropout.h"
#include "core/flatten.h"
#include "core/maxpool.h"
#include "core/loss.h"
#include "core/lstm.h"
#include "core/model.h"
#include "core/status.h"

enum { B = 3, IN = 6, K = 4 };

/* 6 -> dense 5 tanh -> activation sigmoid -> dense 4 (logits). */
static struct sn_model *small_model(void)
{
    struct sn_model *m;
    struct sn_layer *l;
    assert_int_equal(sn_model_create(sn_shape_make(1, 2, 3, 0), &m), SN_OK);
    assert_int_equal(sn_dense_create("fc1", m->in_shape, 5, SN_ACT_TANH, SN_INIT_XAVIER, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_activation_create("act", sn_model_shape(m, 0), SN_ACT_SIGMOID, &l), SN_OK);
    l->in[0] = 0;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_dense_create("fc2", sn_model_shape(m, 1), K, SN_ACT_LINEAR,
                                     SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    l->in[0] = 1;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 42, 1);
    assert_int_equal(sn_model_build(m, B, &r), SN_OK);
    return m;
}

struct fd {
    struct sn_model *m;
    float x[B * IN];
    int y[B];
};

static double fd_loss(void *ctx)
{
    struct fd *f = ctx;
    const float *z = sn_model_forward(f->m, f->x, B, true, NULL, NULL);
    return sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, f->y, NULL, B, K, 0.0f, 1.0f, NULL, NULL) / B;
}

/* The gradient arena matches finite differences over every parameter. */
static void test_model_gradient_fd(void **state)
{
    (void)state;
    struct fd f = { .m = small_model(), .y = { 3, 0, 2 } };
    sn_test_fill(f.x, B * IN, 5, -1, 1);
    assert_int_equal(f.m->n_params, 6 * 5 + 5 + 5 * 4 + 4);
    float dz[B * K];
    sn_model_zero_grad(f.m);
    const float *z = sn_model_forward(f.m, f.x, B, true, NULL, NULL);
    sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, f.y, NULL, B, K, 0.0f, 1.0f / B, dz, NULL);
    sn_model_backward(f.m, dz, B, NULL, NULL);
    assert_grad_fd(fd_loss, &f, f.m->params, f.m->grads, f.m->n_params, 1e-2, 1e-4, 1e-2);
    sn_model_destroy(f.m);
}

/* A batch outside what the model was built for, or a NULL input, is
 * refused: one more example wrote past the buffers, silently (round 70
 * F10). */
static void test_model_forward_batch_checked(void **state)
{
    (void)state;
    struct sn_model *m = small_model();
    float x[(B + 1) * IN] = { 0 };
    assert_null(sn_model_forward(m, x, B + 1, false, NULL, NULL));
    assert_non_null(strstr(sn_errmsg(), "outside 0 to the max_batch"));
    assert_null(sn_model_forward(m, x, -1, false, NULL, NULL));
    assert_null(sn_model_forward(m, NULL, B, false, NULL, NULL));
    assert_non_null(sn_model_forward(m, x, B, false, NULL, NULL));
    assert_int_equal(sn_model_add(m, NULL), SN_EINVAL);
    sn_model_destroy(m);
}

/* Parameters live in one arena, in layer order, named as in PyTorch. */
static void test_model_arena_layout(void **state)
{
    (void)state;
    struct sn_model *m = small_model();
    assert_int_equal(m->n_plist, 4);
    assert_ptr_equal(m->plist[0]->w, m->params);
    assert_ptr_equal(m->plist[1]->w, m->params + 30);
    assert_ptr_equal(m->plist[2]->dw, m->grads + 35);
    assert_string_equal(m->plist[3]->name, "bias");
    assert_int_equal(sn_model_find(m, "fc2"), 2);
    assert_int_equal(sn_model_find(m, "nope"), -1);
    assert_int_equal(sn_model_out_len(m), K);
    sn_model_destroy(m);
}

/* A branching convolutional model, to test the memory plan:
 *   0 conv (linear) -> 1 batchnorm -> 2 relu -> 3 conv tanh -> 4 add(2, 3)
 *   -> 5 maxpool -> 6 dropout -> 7 flatten -> 8 dense (logits)
 * relu, dropout and flatten run in place (2 on 1, 6 on 5, 7 on 6's buffer);
 * the output gradients share slots; the gradient still matches finite
 * differences (dropout is the identity without an rng). */
static struct sn_model *dag_model(int batch, bool plain)
{
    struct sn_model *m;
    struct sn_layer *l;
    assert_int_equal(sn_model_create(sn_shape_make(1, 6, 5, 0), &m), SN_OK);
    m->plain_memory = plain;
    assert_int_equal(sn_conv_create("c1", m->in_shape, 3, 3, 1, 1, SN_ACT_LINEAR,
                                    SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_batchnorm_create("bn", sn_model_shape(m, 0), 0.1f, 1e-5f, SN_BN_AFFINE, SN_ACT_LINEAR, &l), SN_OK);
    l->in[0] = 0;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_activation_create("relu", sn_model_shape(m, 1), SN_ACT_RELU, &l), SN_OK);
    l->in[0] = 1;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_conv_create("c2", sn_model_shape(m, 2), 3, 3, 1, 1, SN_ACT_TANH,
                                    SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    l->in[0] = 2;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    struct sn_shape two[2] = { sn_model_shape(m, 2), sn_model_shape(m, 3) };
    assert_int_equal(sn_add_create("sum", two, 2, &l), SN_OK);
    l->in[0] = 2;
    l->in[1] = 3;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_maxpool_create("pool", sn_model_shape(m, 4), 2, 2, &l), SN_OK);
    l->in[0] = 4;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_dropout_create("drop", sn_model_shape(m, 5), 0.5f, &l), SN_OK);
    l->in[0] = 5;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_flatten_create("flat", sn_model_shape(m, 6), &l), SN_OK);
    l->in[0] = 6;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_dense_create("fc", sn_model_shape(m, 7), K, SN_ACT_LINEAR,
                                     SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    l->in[0] = 7;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 42, 2);
    assert_int_equal(sn_model_build(m, batch, &r), SN_OK);
    return m;
}

struct fd_dag {
    struct sn_model *m;
    float x[B * 30];
    int y[B];
};

static double fd_dag_loss(void *ctx)
{
    struct fd_dag *f = ctx;
    const float *z = sn_model_forward(f->m, f->x, B, true, NULL, NULL);
    return sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, f->y, NULL, B, K, 0.0f, 1.0f, NULL, NULL) / B;
}

static void test_model_memory_plan(void **state)
{
    (void)state;
    struct fd_dag f = { .m = dag_model(B, false), .y = { 1, 3, 0 } };
    struct sn_model *m = f.m, *plain = dag_model(B, true);
    const bool shared[9] = { false, false, true, false, false, false, true, true, false };
    for (int i = 0; i < 9; i++) {
        assert_int_equal(m->y_shared[i], shared[i]);
        assert_false(plain->y_shared[i]);
    }
    assert_ptr_equal(m->y[2], m->y[1]);
    assert_ptr_equal(m->y[7], m->y[5]);
    /* live gradients never share a slot: relu's dy (read by c2 and sum) and
     * c2's dy overlap, so do sum's and pool's; at most 4 slots for 9 layers */
    assert_true(m->n_dy_slots <= 4);
    assert_int_equal(plain->n_dy_slots, 9);
    assert_ptr_not_equal(m->dy[2], m->dy[3]);
    assert_ptr_not_equal(m->dy[1], m->dy[2]);
    assert_ptr_not_equal(m->dy[4], m->dy[5]);
    assert_true(sn_model_bytes(m) < sn_model_bytes(plain));

    /* the same outputs and gradients, bit for bit, as with no sharing */
    sn_test_fill(f.x, B * 30, 8, -1, 1);
    float dz[B * K], z_plain[B * K];
    sn_model_zero_grad(plain);
    memcpy(z_plain, sn_model_forward(plain, f.x, B, true, NULL, NULL), sizeof z_plain);
    sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z_plain, f.y, NULL, B, K, 0.0f, 1.0f / B, dz, NULL);
    sn_model_backward(plain, dz, B, NULL, NULL);
    sn_model_zero_grad(m);
    const float *z = sn_model_forward(m, f.x, B, true, NULL, NULL);
    assert_memory_equal(z, z_plain, sizeof z_plain);
    sn_model_backward(m, dz, B, NULL, NULL);
    assert_memory_equal(m->grads, plain->grads, m->n_params * sizeof(float));
    /* and a second step over the same buffers changes nothing, also with
     * every output gradient holding NaN beforehand: what a layer stores
     * first (bn, relu and sum are told c.fresh) or what the model zeroes
     * (before c1's and c2's backward add into them) never reads old values */
    for (int i = 0; i < m->n_layers; i++) {
        size_t len = (size_t)B * sn_shape_len(&m->layers[i]->out_shape);
        for (size_t k = 0; k < len; k++)
            m->dy[i][k] = NAN;
    }
    sn_model_zero_grad(m);
    sn_model_forward(m, f.x, B, true, NULL, NULL);
    sn_model_backward(m, dz, B, NULL, NULL);
    assert_memory_equal(m->grads, plain->grads, m->n_params * sizeof(float));
    /* the dense head's gradient against finite differences (its inputs come
     * through every shared buffer; upstream, relu and max kinks make
     * finite differences unreliable at this size) */
    size_t head = m->layers[8]->params[0].offset;
    assert_grad_fd(fd_dag_loss, &f, m->params + head, m->grads + head, m->n_params - head,
                   1e-2, 1e-4, 1e-2);
    sn_model_destroy(plain);
    sn_model_destroy(m);
}

/* airbench's block, small: input (2, 9, 9) -> 0 conv 4 (linear) -> 1 maxpool
 * 2 -> 2 batchnorm (affine = bias, GELU) -> 3 conv 4 (gelu_tanh) -> 4
 * activation gelu -> 5 flatten -> 6 dense K. */
static struct sn_model *gelu_model(bool plain)
{
    struct sn_model *m;
    struct sn_layer *l;
    assert_int_equal(sn_model_create(sn_shape_make(2, 9, 9, 0), &m), SN_OK);
    m->plain_memory = plain;
    assert_int_equal(sn_conv_create("c1", m->in_shape, 4, 3, 1, 1, SN_ACT_LINEAR,
                                    SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_maxpool_create("pool", sn_model_shape(m, 0), 2, 2, &l), SN_OK);
    l->in[0] = 0;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_batchnorm_create("bn", sn_model_shape(m, 1), 0.4f, 1e-5f, SN_BN_SHIFT,
                                         SN_ACT_GELU, &l), SN_OK);
    l->in[0] = 1;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_conv_create("c2", sn_model_shape(m, 2), 4, 3, 1, 1, SN_ACT_GELU_TANH,
                                    SN_INIT_DIRAC, &l), SN_OK);
    l->in[0] = 2;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_activation_create("gelu", sn_model_shape(m, 3), SN_ACT_GELU, &l), SN_OK);
    l->in[0] = 3;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_flatten_create("flat", sn_model_shape(m, 4), &l), SN_OK);
    l->in[0] = 4;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_dense_create("fc", sn_model_shape(m, 5), K, SN_ACT_LINEAR,
                                     SN_INIT_FANIN_UNIFORM, &l), SN_OK);
    l->in[0] = 5;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    struct sn_rng r;
    sn_rng_seed(&r, 42, 3);
    assert_int_equal(sn_model_build(m, B, &r), SN_OK);
    return m;
}

struct fd_gelu {
    struct sn_model *m;
    float x[B * 162];
    int y[B];
};

static double fd_gelu_loss(void *ctx)
{
    struct fd_gelu *f = ctx;
    const float *z = sn_model_forward(f->m, f->x, B, true, NULL, NULL);
    return sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, f->y, NULL, B, K, 0.0f, 1.0f, NULL, NULL) / B;
}

/* With GELU fused in batchnorm and conv, a GELU layer (not in place: it
 * reads its input) and a maxpool that stores its gradient: the same
 * outputs and gradients, bit for bit, as with one buffer per layer, also
 * over output gradients holding NaN beforehand; the gradients of every
 * parameter after the pool match finite differences (the pool's choices
 * do not move with them). */
static void test_model_gelu_block(void **state)
{
    (void)state;
    struct fd_gelu f = { .m = gelu_model(false), .y = { 2, 0, 3 } };
    struct sn_model *m = f.m, *plain = gelu_model(true);
    assert_false(m->y_shared[4]);   /* GELU keeps its input */
    assert_true(m->y_shared[5]);    /* flatten runs in place */
    sn_test_fill(f.x, B * 162, 9, -1, 1);
    float dz[B * K], z_plain[B * K];
    sn_model_zero_grad(plain);
    memcpy(z_plain, sn_model_forward(plain, f.x, B, true, NULL, NULL), sizeof z_plain);
    sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z_plain, f.y, NULL, B, K, 0.0f, 1.0f / B, dz, NULL);
    sn_model_backward(plain, dz, B, NULL, NULL);
    for (int i = 0; i < m->n_layers; i++) {
        size_t len = (size_t)B * sn_shape_len(&m->layers[i]->out_shape);
        for (size_t k = 0; k < len; k++)
            m->dy[i][k] = NAN;
    }
    sn_model_zero_grad(m);
    assert_memory_equal(sn_model_forward(m, f.x, B, true, NULL, NULL), z_plain, sizeof z_plain);
    sn_model_backward(m, dz, B, NULL, NULL);
    assert_memory_equal(m->grads, plain->grads, m->n_params * sizeof(float));
    size_t from = m->layers[2]->params[1].offset;   /* bn bias (its weight is fixed), c2, head */
    assert_grad_fd(fd_gelu_loss, &f, m->params + from, m->grads + from, m->n_params - from,
                   1e-2, 1e-4, 1e-2);
    sn_model_destroy(plain);
    sn_model_destroy(m);
}

/* Two backward passes without zero_grad double the gradients; zero_grad clears. */
static void test_model_backward_accumulates(void **state)
{
    (void)state;
    struct sn_model *m = small_model();
    float x[B * IN], dz[B * K], once[6 * 5 + 5 + 5 * 4 + 4];
    sn_test_fill(x, B * IN, 6, -1, 1);
    sn_test_fill(dz, B * K, 7, -1, 1);
    sn_model_zero_grad(m);
    sn_model_forward(m, x, B, true, NULL, NULL);
    sn_model_backward(m, dz, B, NULL, NULL);
    memcpy(once, m->grads, sizeof once);
    sn_model_backward(m, dz, B, NULL, NULL);
    for (size_t i = 0; i < m->n_params; i++)
        once[i] *= 2;
    assert_close_arrays(m->grads, once, m->n_params, 1e-6, 1e-6);
    sn_model_zero_grad(m);
    for (size_t i = 0; i < m->n_params; i++)
        assert_float_equal(m->grads[i], 0.0f, 0);
    sn_model_destroy(m);
}

/* The same seed gives the same parameters; another seed different ones. */
static void test_model_init_is_seeded(void **state)
{
    (void)state;
    struct sn_model *a = small_model(), *b = small_model();
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    sn_model_destroy(b);
    sn_model_destroy(a);
}

/* Names must be unique and inputs must be earlier layers; a refused
 * layer is freed by sn_model_add (checked under the sanitizers). */
static void test_model_add_rejects(void **state)
{
    (void)state;
    struct sn_model *m;
    struct sn_layer *l;
    assert_int_equal(sn_model_create(sn_shape_make(4, 0, 0, 0), &m), SN_OK);
    assert_int_equal(sn_dense_create("a", m->in_shape, 3, SN_ACT_RELU, SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_dense_create("a", m->in_shape, 3, SN_ACT_RELU, SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "used twice"));
    assert_int_equal(sn_dense_create("b", m->in_shape, 3, SN_ACT_RELU, SN_INIT_HE, &l), SN_OK);
    l->in[0] = 5;
    assert_int_equal(sn_model_add(m, l), SN_ESHAPE);
    assert_int_equal(m->n_layers, 1);
    sn_model_destroy(m);
    struct sn_model *empty;
    struct sn_rng r;
    sn_rng_seed(&r, 1, 1);
    assert_int_equal(sn_model_create(sn_shape_make(4, 0, 0, 0), &empty), SN_OK);
    assert_int_equal(sn_model_build(empty, 2, &r), SN_ESHAPE);
    sn_model_destroy(empty);
}

/* Deep models: every name is found among SN_MAX_LAYERS layers (a hash
 * table, not a scan), a repeated name is refused, and the model stops at
 * SN_MAX_LAYERS. */
static void test_model_many_layers(void **state)
{
    (void)state;
    struct sn_model *m;
    assert_int_equal(sn_model_create(sn_shape_make(4, 0, 0, 0), &m), SN_OK);
    char name[32];
    struct sn_layer *l;
    for (int i = 0; i < SN_MAX_LAYERS; i++) {
        snprintf(name, sizeof name, "act%d", i);
        assert_int_equal(sn_activation_create(name, sn_shape_make(4, 0, 0, 0), SN_ACT_RELU, &l),
                         SN_OK);
        l->in[0] = i - 1;
        assert_int_equal(sn_model_add(m, l), SN_OK);
        if (i == 100) {   /* a name taken */
            assert_int_equal(sn_activation_create("act12", sn_shape_make(4, 0, 0, 0),
                                                  SN_ACT_RELU, &l), SN_OK);
            assert_int_equal(sn_model_add(m, l), SN_ESHAPE);
            assert_non_null(strstr(sn_errmsg(), "used twice"));
        }
    }
    for (int i = 0; i < SN_MAX_LAYERS; i += 7) {
        snprintf(name, sizeof name, "act%d", i);
        assert_int_equal(sn_model_find(m, name), i);
    }
    snprintf(name, sizeof name, "act%d", SN_MAX_LAYERS);
    assert_int_equal(sn_model_find(m, name), -1);
    assert_int_equal(sn_activation_create(name, sn_shape_make(4, 0, 0, 0), SN_ACT_RELU, &l),
                     SN_OK);
    l->in[0] = SN_MAX_LAYERS - 1;
    assert_int_equal(sn_model_add(m, l), SN_ESHAPE);
    assert_non_null(strstr(sn_errmsg(), "at most 4096 layers"));
    sn_model_destroy(m);
}

/* A layer whose output or parameters hold more than SN_MAX_ELEMS values
 * is refused when added, whatever its kind computed. */
static void test_model_add_checks_sizes(void **state)
{
    (void)state;
    struct sn_model *m;
    struct sn_layer *l;
    assert_int_equal(sn_model_create(sn_shape_make(1 << 24, 0, 0, 0), &m), SN_OK);
    assert_int_equal(sn_dense_create("d", sn_shape_make(1 << 24, 0, 0, 0), 1 << 8, SN_ACT_LINEAR,
                                     SN_INIT_ZERO, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_ESHAPE);   /* 2^32 weights */
    assert_non_null(strstr(sn_errmsg(), "parameter weight"));
    sn_model_destroy(m);
    struct sn_shape big = { 4, { 65536, 65536, 65536, 65536 } };
    assert_int_equal(sn_model_create(big, &m), SN_ESHAPE);
}

/* sn_model_size counts an unbuilt model (6 -> dense 5 -> dense 1000)
 * by hand; the budget refuses it under a limit it exceeds, naming the
 * sizes and SN_MODEL_MAX_BYTES, and passes it under one it meets; a bad
 * SN_MODEL_MAX_BYTES is an error naming it. */
static void test_model_size_and_budget(void **state)
{
    (void)state;
    struct sn_model *m;
    struct sn_layer *l;
    assert_int_equal(sn_model_create(sn_shape_make(6, 0, 0, 0), &m), SN_OK);
    assert_int_equal(sn_dense_create("a", m->in_shape, 5, SN_ACT_RELU, SN_INIT_HE, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_dense_create("b", sn_model_shape(m, 0), 1000, SN_ACT_LINEAR, SN_INIT_HE, &l),
                     SN_OK);
    l->in[0] = 0;
    assert_int_equal(sn_model_add(m, l), SN_OK);
    struct sn_model_size z;
    assert_int_equal(sn_model_size(m, 10, 2, &z), SN_OK);
    size_t P = 6 * 5 + 5 + 5 * 1000 + 1000;
    assert_int_equal(z.n_learnt, P);
    assert_int_equal(z.state_bytes, P * 4 * 4);   /* parameters, gradients, 2 states */
    assert_int_equal(z.act_bytes, (5 + 1000) * 4);
    assert_int_equal(z.kept_len, 2 * 6);   /* the input batch, twice; relu keeps nothing */
    assert_int_equal(z.batch_act_bytes, (5 + 1000 + 2 * 1000 + 2 * 6) * 10 * 4);
    assert_int_equal(z.ws_bytes, 10 * 1000 * 4);   /* dense b's: batch x units */
    assert_int_equal(z.total_bytes, z.state_bytes + z.batch_act_bytes + z.ws_bytes);
    assert_null(m->params);   /* nothing allocated */
    setenv("SN_MODEL_MAX_BYTES", "1000", 1);
    assert_int_equal(sn_model_check_budget(m, 10, 2, "x.cfg"), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "x.cfg: the model needs"));
    char by[96];   /* the exact excess: what to raise the limit by */
    snprintf(by, sizeof by, "(SN_MODEL_MAX_BYTES=1000) by %zu bytes: 6035 parameters",
             z.total_bytes - 1000);
    assert_non_null(strstr(sn_errmsg(), by));
    char big[32];
    snprintf(big, sizeof big, "%zu", z.total_bytes);
    setenv("SN_MODEL_MAX_BYTES", big, 1);
    assert_int_equal(sn_model_check_budget(m, 10, 2, "x.cfg"), SN_OK);
    setenv("SN_MODEL_MAX_BYTES", "1e9", 1);
    assert_int_equal(sn_model_check_budget(m, 10, 2, "x.cfg"), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "SN_MODEL_MAX_BYTES: expected an integer"));
    unsetenv("SN_MODEL_MAX_BYTES");
    assert_int_equal(sn_model_check_budget(m, 10, 2, "x.cfg"), SN_OK);
    sn_model_destroy(m);
}

/* A separate activation layer after a dense one: relu runs in place, so
 * the estimate counts no output for it, as the build allocates none; GELU
 * keeps its input for backward and has an output of its own. */
static void test_model_size_counts_in_place(void **state)
{
    (void)state;
    const enum sn_act acts[2] = { SN_ACT_RELU, SN_ACT_GELU };
    for (int k = 0; k < 2; k++) {
        struct sn_model *m;
        struct sn_layer *l;
        assert_int_equal(sn_model_create(sn_shape_make(8, 0, 0, 0), &m), SN_OK);
        assert_int_equal(sn_dense_create("d", m->in_shape, 16, SN_ACT_LINEAR, SN_INIT_HE, &l),
                         SN_OK);
        assert_int_equal(sn_model_add(m, l), SN_OK);
        assert_int_equal(sn_activation_create("a", sn_model_shape(m, 0), acts[k], &l), SN_OK);
        l->in[0] = 0;
        assert_int_equal(sn_model_add(m, l), SN_OK);
        assert_int_equal(sn_dense_create("o", sn_model_shape(m, 1), 3, SN_ACT_LINEAR,
                                         SN_INIT_HE, &l), SN_OK);
        l->in[0] = 1;
        assert_int_equal(sn_model_add(m, l), SN_OK);
        struct sn_model_size z;
        assert_int_equal(sn_model_size(m, 4, 0, &z), SN_OK);
        assert_int_equal(z.act_bytes, (k ? 16 + 16 + 3 : 16 + 3) * 4);
        struct sn_rng r;
        sn_rng_seed(&r, 1, 1);
        assert_int_equal(sn_model_build(m, 4, &r), SN_OK);
        assert_int_equal(m->y[1] == m->y[0], k == 0);   /* the build agrees */
        sn_model_destroy(m);
    }
}

/* The workspace the estimate counts before the build is the one the build
 * allocates, for a 5x5 conv over 3 x 40 x 40 and a 3x3 one (Winograd's):
 * a conv's scratch (per thread) went uncounted, and a 14 KB weights file
 * took 4.5 GB under the 4 GiB budget. */
static void test_model_size_counts_workspace(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        struct sn_model *m;
        struct sn_layer *l;
        assert_int_equal(sn_model_create(sn_shape_make(3, 40, 40, 0), &m), SN_OK);
        assert_int_equal(sn_conv_create("c", m->in_shape, 8, k ? 3 : 5, 1, 1, SN_ACT_RELU,
                                        SN_INIT_HE, &l), SN_OK);
        assert_int_equal(sn_model_add(m, l), SN_OK);
        struct sn_model_size z;
        assert_int_equal(sn_model_size(m, 16, 0, &z), SN_OK);
        assert_true(z.ws_bytes > (size_t)3 * 38 * 38 * 4);   /* beyond one input plane set */
        struct sn_rng r;
        sn_rng_seed(&r, 1, 1);
        assert_int_equal(sn_model_build(m, 16, &r), SN_OK);
        assert_int_equal(z.ws_bytes, m->ws_len * sizeof(float));
        sn_model_destroy(m);
    }
}

/* What layers keep per example beyond their outputs counts: an lstm's
 * time steps (gates, h, c and the backward scratch of each step) and a
 * maxpool's input batch and indices, though their outputs are small. */
static void test_model_size_counts_kept_state(void **state)
{
    (void)state;
    struct sn_model *m;
    struct sn_layer *l;
    const size_t T = 1000, H = 64, GH = 4 * H;
    assert_int_equal(sn_model_create(sn_shape_make(1, (int)T, 1, 0), &m), SN_OK);
    assert_int_equal(sn_lstm_create("r", m->in_shape, (int)H, false, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_OK);
    struct sn_model_size z;
    assert_int_equal(sn_model_size(m, 8, 0, &z), SN_OK);
    assert_int_equal(z.act_bytes, H * 4);
    assert_int_equal(z.kept_len, 2 * T + T * (3 * GH + 4 * H) + 2 * H);
    assert_true(z.batch_act_bytes >= (size_t)8 * T * GH * 4);
    sn_model_destroy(m);
    assert_int_equal(sn_model_create(sn_shape_make(1, 256, 256, 0), &m), SN_OK);
    assert_int_equal(sn_maxpool_create("p", m->in_shape, 256, 256, &l), SN_OK);
    assert_int_equal(sn_model_add(m, l), SN_OK);
    assert_int_equal(sn_model_size(m, 16, 0, &z), SN_OK);
    assert_int_equal(z.kept_len, 2 * 256 * 256 + 1);
    assert_int_equal(z.batch_act_bytes, (1 + 2 * 1 + 2 * 256 * 256 + 1) * 16 * 4);
    sn_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_gradient_fd),
        cmocka_unit_test(test_model_forward_batch_checked),
        cmocka_unit_test(test_model_size_and_budget),
        cmocka_unit_test(test_model_size_counts_workspace),
        cmocka_unit_test(test_model_size_counts_in_place),
        cmocka_unit_test(test_model_size_counts_kept_state),
        cmocka_unit_test(test_model_memory_plan),
        cmocka_unit_test(test_model_arena_layout),
        cmocka_unit_test(test_model_backward_accumulates),
        cmocka_unit_test(test_model_init_is_seeded),
        cmocka_unit_test(test_model_add_rejects),
        cmocka_unit_test(test_model_many_layers),
        cmocka_unit_test(test_model_add_checks_sizes),
        cmocka_unit_test(test_model_gelu_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
