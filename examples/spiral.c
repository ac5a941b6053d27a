/* spiral: build and train a small network through the scratchnet library,
 * no model file, no MPI, no HDF5 -- the core API a program embeds.
 *
 * Two interleaved spirals (a classic that no straight line separates),
 * 400 points; a 2-64-64-2 MLP with tanh, Adam, 1500 full-batch steps.
 * Prints the loss every 300 steps and the training accuracy; exits 0 if
 * the accuracy reaches 98%.
 *
 *   cc spiral.c $(pkg-config --cflags --libs scratchnet) -o spiral && ./spiral
 */
#include <math.h>
#include <stdio.h>

#include <scratchnet.h>

enum { N = 400, K = 2 };

/* add a dense layer reading the previous layer (or the input) */
static int add_dense(struct sn_model *m, const char *name, int units, enum sn_act act)
{
    struct sn_layer *l;
    int prev = m->n_layers - 1;
    int rc = sn_dense_create(name, sn_model_shape(m, prev), units, act,
                             SN_INIT_FANIN_UNIFORM, &l);
    if (rc)
        return rc;
    l->in[0] = prev;
    return sn_model_add(m, l);
}

int main(void)
{
    static float x[N * 2];
    static int y[N];
    static float dz[N * K];
    struct sn_rng r;
    sn_rng_seed(&r, 7, 1);
    for (int i = 0; i < N; i++) {   /* class c: radius t, angle 3t + pi c, noise */
        int c = i % 2;
        float t = (float)(i / 2) / (N / 2) * 3.0f + 0.2f;
        x[2 * i] = t * cosf(3 * t + 3.14159265f * c) + 0.05f * sn_rng_normal(&r);
        x[2 * i + 1] = t * sinf(3 * t + 3.14159265f * c) + 0.05f * sn_rng_normal(&r);
        y[i] = c;
    }
    struct sn_model *m;
    int rc = sn_model_create(sn_shape_make(2, 0, 0, 0), &m);
    if (!rc)
        rc = add_dense(m, "fc1", 64, SN_ACT_TANH);
    if (!rc)
        rc = add_dense(m, "fc2", 64, SN_ACT_TANH);
    if (!rc)
        rc = add_dense(m, "out", K, SN_ACT_LINEAR);
    if (!rc)
        rc = sn_model_build(m, N, &r);
    struct sn_optim opt;
    struct sn_optim_cfg cfg = sn_optim_defaults(SN_OPT_ADAM);
    if (!rc)
        rc = sn_optim_init(&opt, &cfg, m->n_params);
    if (rc) {
        fprintf(stderr, "spiral: %s\n", sn_errmsg());
        sn_model_destroy(m);
        return 1;
    }
    long correct = 0;
    for (int step = 1; step <= 1500; step++) {
        sn_model_zero_grad(m);
        const float *z = sn_model_forward(m, x, N, true, &r);
        correct = 0;
        double loss = sn_loss_eval(SN_LOSS_CROSS_ENTROPY, z, y, NULL, N, K, 0.0f, 1.0f / N, dz,
                                   &correct) / N;
        sn_model_backward(m, dz, N, &r);
        sn_optim_step(&opt, m->plist, m->n_plist, 0.01f);
        if (step % 300 == 0)
            printf("step %4d  loss %.4f  accuracy %.1f%%\n", step, loss, 100.0 * correct / N);
    }
    sn_optim_deinit(&opt);
    sn_model_destroy(m);
    return correct >= 0.98 * N ? 0 : 1;
}
