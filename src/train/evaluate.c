/* evaluate: evaluation and the data checks (see evaluate.h). */
#include "train/evaluate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/augment.h"
#include "core/interrupt.h"
#include "core/loss.h"
#include "core/status.h"
#include "core/tensor.h"
#include "dist/dist.h"
#include "dist/shard.h"

int sn_check_split(const struct sn_model *m, const struct sn_netcfg *net,
                   struct sn_dataset *ds, const struct sn_split *s)
{
    enum sn_loss loss = net->loss;
    size_t in_len = sn_shape_len(&m->in_shape);
    size_t K = sn_model_out_len(m);
    char a[64], b[64];
    const struct sn_shape *d = &s->shape, *w = &m->in_shape;
    /* images of one size, 1 channel against 3: grey against colour */
    const bool grey = d->ndim == 3 && w->ndim == 3 && d->d[1] == w->d[1] &&
                      d->d[2] == w->d[2] && d->d[0] * w->d[0] == 3 && d->d[0] + w->d[0] == 4;
    if (s->row_len != in_len)
        return sn_fail(SN_EINVAL, "%s: /%s/x samples have shape %s (%zu values) but the model "
                       "takes %s (%zu values): the data and the model's [net] input must agree "
                       "(for train, the model file's; for eval and predict, the weights')%s",
                       sn_dataset_name(ds), s->name, sn_shape_str(d, a, sizeof a), s->row_len,
                       sn_shape_str(w, b, sizeof b), in_len,
                       !grey ? ""
                       : d->d[0] == 3 ? ": the images are colour, the model reads grey (convert "
                                        "folder --grey makes a grey set)"
                                      : ": the images are grey, the model reads colour");
    if (net->target_input) {
        if (K != in_len)
            return sn_fail(SN_EINVAL, "target = input: the model has %zu outputs for %zu inputs",
                           K, in_len);
        return SN_OK;
    }
    if (loss == SN_LOSS_CROSS_ENTROPY && !s->y_int)
        return sn_fail(SN_EINVAL, "%s: /%s/y holds float targets; cross_entropy needs integer "
                       "labels (one-hot rows, as Keras's to_categorical makes them: h5py "
                       "y.argmax(1).astype('int32'))", sn_dataset_name(ds), s->name);
    if (loss == SN_LOSS_MSE && s->y_int && K == 1)
        return sn_fail(SN_EINVAL, "%s: /%s/y holds integer labels, which mse reads as one-hot "
                       "targets over the outputs, but the model has 1 output: for a regression, "
                       "store the targets as floats of shape (N, 1) (h5py: "
                       "y.astype('float32').reshape(-1, 1))", sn_dataset_name(ds), s->name);
    if (loss == SN_LOSS_CROSS_ENTROPY && K < 2)
        return sn_fail(SN_EINVAL, "cross_entropy needs at least 2 outputs, the model has %zu", K);
    if (!s->y_int && (size_t)s->y_k != K)
        return sn_fail(SN_EINVAL, "%s: /%s/y has %d targets per row but the model has %zu "
                       "outputs (its last layer's units)", sn_dataset_name(ds), s->name, s->y_k, K);
    if (s->y_int) {
        size_t begin, end;
        int n_classes = sn_loss_classes(loss, (int)K);
        sn_shard_range(s->n, sn_dist_rank(), sn_dist_size(), &begin, &end);
        int rc = sn_dataset_check_labels(ds, s, begin, end - begin, n_classes, (int)K);
        if (rc == SN_EINVAL && loss == SN_LOSS_MSE)   /* regression targets stored as integers? */
            rc = sn_fail_suffix(rc, "; mse reads integer labels as one-hot class labels: a "
                                "regression's targets are floats of shape (N, K)");
        return rc;
    }
    /* float targets: this rank's rows before the run, as labels are */
    size_t begin, end;
    sn_shard_range(s->n, sn_dist_rank(), sn_dist_size(), &begin, &end);
    const bool unit = loss == SN_LOSS_BCE;
    return sn_dataset_check_targets(ds, s, begin, end - begin, 0.0f, 1.0f,
                                    unit ? "[0, 1], the probabilities binary_cross_entropy's "
                                           "targets are" : NULL);
}

static const float *forward_eval(void *m, const float *x, int n)
{
    return sn_model_forward(m, x, n, false, NULL, NULL);
}

size_t sn_eval_scratch_len(const struct sn_model *m, const struct sn_netcfg *net, int n)
{
    const struct sn_shape *is = &m->in_shape;
    return is->ndim != 3 ? 0 : sn_tta_scratch_len(&net->augment, n, is->d[0], is->d[1], is->d[2],
                                                  sn_model_out_len(m));
}

const float *sn_forward_eval(struct sn_model *m, const struct sn_netcfg *net, float *x, int n,
                             float *zsum)
{
    const struct sn_shape *is = &m->in_shape;
    if (is->ndim != 3)
        return sn_model_forward(m, x, n, false, NULL, NULL);
    return sn_tta_forward(&net->augment, forward_eval, m, x, n, is->d[0], is->d[1], is->d[2],
                          sn_model_out_len(m), zsum);
}

#define NOT_FINITE "the network's outputs are not finite (NaN or Inf)"
#define TOO_LARGE ": the weights or the inputs are too large for float arithmetic"

int sn_check_outputs(const float *z, int n, int K, size_t first_row)
{
    for (size_t i = 0; i < (size_t)n * (size_t)K; i++)
        if (!isfinite(z[i]))
            return sn_fail(SN_ENUM, "row %zu: " NOT_FINITE TOO_LARGE,
                           first_row + i / (size_t)K);
    return SN_OK;
}

/* Count confusion[true * C + predicted] for n rows of K outputs z, the
 * prediction the loss counts as correct (one binary output: class 1 when
 * it is above 0), C classes. */
static void count_confusion(const float *z, const int *lab, int n, int K, int C,
                            int64_t *confusion)
{
    for (int r = 0; r < n; r++)
        confusion[(size_t)lab[r] * (size_t)C + (size_t)sn_loss_predict(z + (size_t)r * K, K)]++;
}

/* One batch's agreement, the training step's rule (step.c, CTRL_STOP and
 * CTRL_FAILED) in a reduction of its own, since evaluation has no gradient
 * to carry it: a failure on any rank ends every rank's batches with the
 * failing rank's message; else a stop request on any rank (local_rc
 * SN_EINTR) stops every rank, named by the highest signal number a rank
 * holds (SIGTERM over SIGINT over SIGUSR1), as train's report names it. */
static int agree_batch(int local_rc)
{
    const int sig = sn_interrupt_pending();
    int v[2] = { local_rc == SN_EINTR ? (sig ? sig : -1) : 0,
                 local_rc && local_rc != SN_EINTR };
    if (sn_dist_allreduce_max_int(v, 2))
        return sn_fail(SN_EFATAL, "agreeing on the evaluation's progress failed");
    if (v[1]) {
        int rc = sn_dist_agree(local_rc == SN_EINTR ? SN_OK : local_rc);
        return rc ? rc : sn_fail(SN_EFATAL, "a rank reported a failure it does not know of");
    }
    if (v[0])
        return sn_fail(SN_EINTR, "interrupted by %s while evaluating", sn_signal_name(v[0]));
    return SN_OK;
}

int sn_evaluate(struct sn_model *m, const struct sn_netcfg *net, struct sn_dataset *ds,
                const struct sn_split *s, int chunk, float *x, int *labels, float *targets,
                struct sn_eval_sums *out, int64_t *confusion, int (*alive)(void *ctx),
                void *ctx)
{
    size_t begin, end, b0, e0;
    const int K = (int)sn_model_out_len(m), C = sn_loss_classes(net->loss, K);
    sn_shard_range(s->n, sn_dist_rank(), sn_dist_size(), &begin, &end);
    sn_shard_range(s->n, 0, sn_dist_size(), &b0, &e0);   /* rank 0's block is the largest */
    /* every rank takes part in every batch's agreement, at least one, even
     * with fewer rows than rank 0 or none */
    size_t batches = (e0 - b0 + (size_t)chunk - 1) / (size_t)chunk;
    double sum = 0.0;
    long correct = 0;
    int rc = SN_OK;
    float *zsum = NULL;   /* the test-time views' scratch */
    size_t zlen = sn_eval_scratch_len(m, net, chunk);
    if (zlen && !(zsum = sn_alloc_f32(zlen)))
        rc = sn_fail(SN_ENOMEM, "out of memory for the test-time views of %d examples", chunk);
    for (size_t b = 0; b < (batches ? batches : 1); b++) {
        size_t at = begin + b * (size_t)chunk;
        int n = at >= end ? 0 : (int)(end - at < (size_t)chunk ? end - at : (size_t)chunk);
        if (!rc && n)
            rc = sn_dataset_read_block(ds, s, at, (size_t)n, x, labels, targets);
        if (!rc && alive)
            rc = alive(ctx);
        if ((rc = agree_batch(rc)))
            break;
        if (!n)
            continue;
        const float *z = sn_forward_eval(m, net, x, n, zsum);
        const int *lab = s->y_int && !net->target_input ? labels : NULL;
        const float *tgt = net->target_input ? x : s->y_int ? NULL : targets;
        sum += sn_loss_eval(net->loss, z, lab, tgt, n, K, net->label_smoothing, 1.0f, NULL,
                            &correct);
        if (confusion && lab)
            count_confusion(z, lab, n, K, C, confusion);
    }
    sn_free(zsum);
    if (rc)   /* agreed: every rank returns here */
        return rc;
    int64_t counts[2] = { correct, (int64_t)(end - begin) };
    rc = sn_dist_allreduce_sum_f64(&sum, 1);
    if (!rc)
        rc = sn_dist_allreduce_sum_i64(counts, 2);
    if (!rc && confusion)
        rc = sn_dist_allreduce_sum_i64(confusion, C * C);
    if (!rc && !isfinite(sum))   /* the same sum on every rank: all return this */
        rc = sn_fail(SN_ENUM, NOT_FINITE " on some rows" TOO_LARGE);
    out->loss_sum = sum;
    out->correct = counts[0];
    out->seen = counts[1];
    return rc;
}
