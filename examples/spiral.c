/* spiral: train a small network with the scratchnet library, on as many
 * MPI ranks as the program is started with.
 *
 * Two interleaved spirals (a classic that no straight line separates),
 * 400 points made in memory; a 2-64-64-2 MLP with tanh, Adam, 1500
 * full-batch steps, written as a model file's text.  The trainer does the
 * rest: each rank takes its share of every batch, gradients are averaged
 * over the ranks.  Rank 0 prints the loss every 300 steps and the training
 * accuracy; the program exits 0 if the accuracy reaches 98%.
 *
 *   cc examples/spiral.c $(pkg-config --cflags --libs scratchnet) -lm -o build/spiral
 *   build/spiral              (one rank)
 *   mpirun -np 2 build/spiral (two ranks, the same trajectory)
 */
#include <math.h>
#include <stdio.h>

#include <scratchnet.h>

enum { N = 400 };

static const char model[] =
    "[net]\n"
    "input = 2\n"
    "batch = 400\n"          /* the whole set: one step per epoch */
    "epochs = 1500\n"
    "optimizer = adam\n"
    "lr = 0.01\n"
    "seed = 7\n"
    "[dense]\nunits = 64\nactivation = tanh\n"
    "[dense]\nunits = 64\nactivation = tanh\n"
    "[dense]\nunits = 2\n";

/* Class c of point i: radius t, angle 3t + pi c, a little noise. */
static void make_spirals(float *x, int32_t *y)
{
    struct sn_rng r;
    sn_rng_seed(&r, 7, 1);
    for (int i = 0; i < N; i++) {
        int c = i % 2;
        float t = (float)(i / 2) / (N / 2) * 3.0f + 0.2f;
        x[2 * i] = t * cosf(3 * t + 3.14159265f * c) + 0.05f * sn_rng_normal(&r);
        x[2 * i + 1] = t * sinf(3 * t + 3.14159265f * c) + 0.05f * sn_rng_normal(&r);
        y[i] = c;
    }
}

/* Train to the end; *acc is the last epoch's accuracy. */
static int train(struct sn_trainer *t, double *acc)
{
    struct sn_step_info step;
    struct sn_epoch_info epoch;
    int rc = SN_OK;
    while (!rc && !sn_trainer_done(t)) {
        rc = sn_trainer_step(t, &step);
        if (!rc && step.epoch_done)
            rc = sn_trainer_end_epoch(t, &epoch);
        if (!rc && step.global_step % 300 == 0 && sn_dist_rank() == 0)
            printf("step %4lld  loss %.4f  accuracy %.1f%%\n", (long long)step.global_step,
                   epoch.m.train_loss, 100.0 * epoch.m.train_acc);
        *acc = epoch.m.train_acc;
    }
    return rc;
}

int main(int argc, char **argv)
{
    static float x[N * 2];
    static int32_t y[N];
    if (sn_dist_init(&argc, &argv)) {
        fprintf(stderr, "spiral: %s\n", sn_errmsg());
        return 1;
    }
    make_spirals(x, y);
    struct sn_dataset *ds = NULL;
    struct sn_trainer *t = NULL;
    struct sn_train_opts opts;
    struct sn_train_start start;
    sn_train_opts_defaults(&opts);
    double acc = 0.0;
    int rc = sn_dataset_from_memory("spirals", sn_shape_make(2, 0, 0, 0), x, y, N, &ds);
    if (!rc)
        rc = sn_trainer_create(model, "spiral.cfg", ds, &opts, &start, &t);
    if (!rc)
        rc = train(t, &acc);
    if (rc && sn_dist_rank() == 0)   /* every rank has the same status and message */
        fprintf(stderr, "spiral: %s\n", sn_errmsg());
    if (rc == SN_EFATAL)
        sn_dist_abort(1);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
    sn_dist_finalize();
    return !rc && acc >= 0.98 ? 0 : 1;
}
