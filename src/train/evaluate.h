/* evaluate: a model's outputs, loss and accuracy on a dataset split, as
 * training (the test split after an epoch), `eval` and `predict` see them,
 * and the checks that a split fits a model.
 */
#ifndef SN_TRAIN_EVALUATE_H
#define SN_TRAIN_EVALUATE_H

#include <stdint.h>

#include "core/model.h"
#include "io/dataset.h"
#include "io/modelfile.h"

/* Global sums of an evaluation. */
struct sn_eval_sums {
    double loss_sum;    /* the loss summed over examples */
    int64_t correct;    /* examples whose largest output is their label */
    int64_t seen;       /* examples */
};

/* Check that split s fits model m under net's loss and target: sample
 * length equals the model's input length, labels or targets match the
 * outputs, and (for integer labels) every label of this rank's block is
 * in range.  SN_EINVAL naming the problem. */
int sn_check_split(const struct sn_model *m, const struct sn_netcfg *net,
                   struct sn_dataset *ds, const struct sn_split *s);

/* The outputs (n, K) of m on x (n inputs) as evaluation and prediction
 * see them: the forward pass in eval mode, or with [augment] test_flip or
 * test_views the weighted mean of the outputs for the views of x
 * (sn_tta_forward), written to zsum (sn_eval_scratch_len(m, net, n)
 * floats, unused otherwise).  x is not changed. */
const float *sn_forward_eval(struct sn_model *m, const struct sn_netcfg *net, float *x, int n,
                             float *zsum);

/* SN_ENUM naming the row (first_row + its index) if an output of the n
 * rows z (n x K) is NaN or Inf: finite weights far out of scale overflow
 * float, and a probability of NaN is no prediction. */
int sn_check_outputs(const float *z, int n, int K, size_t first_row);

/* Floats of zsum that sn_forward_eval needs for n inputs (0: none). */
size_t sn_eval_scratch_len(const struct sn_model *m, const struct sn_netcfg *net, int n);

/* Collective: evaluate m on split s, rank r taking its block of rows, in
 * batches of up to chunk rows (chunk <= m->max_batch, x holds chunk
 * inputs, labels and targets chunk rows).  Global sums in *out; when
 * confusion is not NULL (C x C for the C classes the model predicts,
 * sn_loss_classes: 2 for one binary output; zeroed by the caller; class
 * labels only), confusion[true * C + predicted] counts.  alive (may be NULL) is called
 * after each batch is read, with ctx: evaluation is progress for a
 * watchdog; SN_EINTR from it asks to stop.  After each batch the ranks
 * agree in one small reduction (as a training step's control words do):
 * a read error or other failure on any rank ends every rank's batches
 * with that rank's error, else a stop asked on any rank ends them all
 * with SN_EINTR, "interrupted by SIGTERM while evaluating" (the signal
 * some rank holds), so no rank computes on while another has stopped.
 * SN_ENUM on every rank if the loss summed is not finite (outputs that
 * overflow).  The result is the same on every rank. */
int sn_evaluate(struct sn_model *m, const struct sn_netcfg *net, struct sn_dataset *ds,
                const struct sn_split *s, int chunk, float *x, int *labels, float *targets,
                struct sn_eval_sums *out, int64_t *confusion, int (*alive)(void *ctx),
                void *ctx);

#endif
