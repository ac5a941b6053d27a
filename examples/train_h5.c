/* train_h5: train a model file on an HDF5 dataset with the scratchnet
 * library, on every MPI rank the program is started with, with
 * checkpoints: started again after a kill (or a Slurm requeue), it
 * continues from the newest checkpoint, bit for bit.
 *
 * From the source folder, after `make install` (README: the library):
 *   cc examples/train_h5.c $(pkg-config --cflags --libs scratchnet) -lm -o build/train_h5
 *   mpirun -np 2 -x OMP_NUM_THREADS=1 build/train_h5 models/mlp.cfg data/fashion-mnist.h5 \
 *       ckpt [weights.h5]
 *
 * Rank 0 prints one line per epoch; the weights file, when named, is
 * written at the end.  Everything else (checkpoint every epoch, resume,
 * gradient averaging) is the trainer's.
 */
#include <stdio.h>
#include <stdlib.h>

#include <scratchnet.h>

/* Steps to the end, a line per epoch. */
static int train(struct sn_trainer *t)
{
    struct sn_step_info step;
    struct sn_epoch_info e;
    int rc = SN_OK;
    while (!rc && !sn_trainer_done(t)) {
        rc = sn_trainer_step(t, &step);
        if (rc || !step.epoch_done)
            continue;
        rc = sn_trainer_end_epoch(t, &e);
        if (!rc && sn_dist_rank() == 0)
            printf("epoch %.0f  train loss %.4f acc %.2f%%  test acc %.2f%%  %.0f images/s\n",
                   e.m.epoch, e.m.train_loss, 100 * e.m.train_acc, 100 * e.m.test_acc,
                   e.images_per_s);
    }
    return rc;
}

/* Model text, data and trainer; then train and save. */
static int run(const char *model, const char *data, const char *ckpt_dir, const char *out)
{
    char *text = NULL;
    struct sn_dataset *ds = NULL;
    struct sn_trainer *t = NULL;
    struct sn_train_opts opts;
    struct sn_train_start start;
    sn_train_opts_defaults(&opts);
    opts.ckpt_dir = ckpt_dir;   /* a checkpoint at every epoch's end ... */
    opts.resume = "auto";       /* ... and the newest one, if any, to start from */
    int rc = sn_dist_agree(sn_modelfile_read(model, &text));
    if (!rc)
        rc = sn_dist_agree(sn_dataset_open(data, &ds));
    if (!rc && sn_dist_rank() == 0)
        rc = sn_fs_mkdirs(ckpt_dir);
    if (!(rc = sn_dist_agree(rc)))
        rc = sn_trainer_create(text, model, ds, &opts, &start, &t);
    if (!rc && start.resumed_from[0] && sn_dist_rank() == 0)
        printf("resumed from %s\n", start.resumed_from);
    if (!rc)
        rc = train(t);
    if (!rc && out)
        rc = sn_trainer_save(t, out);
    if (rc == SN_EFATAL)   /* the ranks can no longer agree: end them all */
        sn_dist_abort(1);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    if (sn_dist_init(&argc, &argv)) {
        fprintf(stderr, "train_h5: %s\n", sn_errmsg());
        return 1;
    }
    if (argc != 4 && argc != 5) {
        if (sn_dist_rank() == 0)
            fprintf(stderr, "usage: train_h5 MODEL.cfg DATA.h5 CHECKPOINT_DIR [OUT.h5]\n");
        sn_dist_finalize();
        return 2;
    }
    int rc = run(argv[1], argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (rc && sn_dist_rank() == 0)   /* every rank holds the same status and message */
        fprintf(stderr, "train_h5: %s\n", sn_errmsg());
    sn_dist_finalize();
    return rc == SN_OK ? 0 : sn_status_is_input(rc) ? 2 : 1;
}
