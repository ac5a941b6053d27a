/* profile: what train --profile and --trace record of the training steps.
 *
 * The trainer tells its observer each phase of each step and, when asked,
 * each layer's times; this module keeps the sums of the steps after the
 * warm-up (the first PROFILE_WARMUP steps of the run: caches, page faults,
 * thread start-up) for --profile, and the timeline of the TRACE_STEPS
 * steps after the warm-up for --trace.
 */
#ifndef SN_CLI_PROFILE_H
#define SN_CLI_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/trace.h"
#include "core/model.h"
#include "train/trainer.h"

#define PROFILE_WARMUP 5
#define TRACE_STEPS 10

struct profile {
    bool on;                  /* --profile */
    int64_t first_step;       /* the global step this run started at */
    int64_t cur;              /* the step in progress, counted from the run's start */
    double sum[SN_PHASE_N];   /* seconds of each phase after the warm-up */
    double *layer_s;          /* per layer: [2i] forward, [2i+1] backward (owned) */
    int n_layers;
    struct trace tr;          /* --trace */
};

/* Set up p for a model of n_layers layers; profile and trace say what to
 * record.  SN_ENOMEM. */
int profile_init(struct profile *p, int n_layers, bool profile, bool trace, int64_t first_step);
void profile_free(struct profile *p);

/* The trainer's observer callbacks (ctx: struct profile). */
void profile_on_phase(void *ctx, int64_t global_step, enum sn_phase ph, double t0, double t1);
void profile_on_layer(void *ctx, int layer, bool backward, double t0, double t1);
void profile_on_bucket(void *ctx, int bucket, double t);

/* Print images/s, the split of a step into phases and the per-layer times
 * (rank 0 calls it). */
void profile_print(const struct profile *p, const struct sn_model *m, int global_batch,
                   int threads);

#endif
