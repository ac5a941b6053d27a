/* trace: a timeline of training steps in Chrome's trace-event format
 * (train --trace FILE.json; open it in chrome://tracing or Perfetto).
 *
 * Every rank records, into a buffer allocated before training, the steps
 * after the warm-up: each phase (data, forward, backward, allreduce wait,
 * optimizer, and the reducer's work after the update: a sharded optimizer's
 * gather of the updated blocks, hier's wait for the host's copies), each
 * layer's forward and backward, and the moment each gradient bucket's
 * allreduce starts, each with its step.  At the end rank 0 gathers every
 * rank's records and writes one file, one process row per rank, three
 * named threads in it (phases, layers, allreduce starts).
 */
#ifndef SN_CLI_TRACE_H
#define SN_CLI_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"

#define TRACE_MAX_EVENTS 8192

enum trace_kind { TR_PHASE, TR_FORWARD, TR_BACKWARD, TR_BUCKET };

struct trace_event {
    int32_t kind;     /* enum trace_kind */
    int32_t id;       /* phase number, layer index or bucket number */
    int64_t step;     /* the run's global step */
    double t0, t1;    /* seconds, CLOCK_MONOTONIC */
};

struct trace {
    bool on;
    int n;
    struct trace_event *ev;   /* TRACE_MAX_EVENTS, owned */
};

int trace_init(struct trace *t, bool on);
void trace_free(struct trace *t);
void trace_add(struct trace *t, int kind, int id, int64_t step, double t0, double t1);


/* Collective: gather every rank's events; rank 0 writes path.  phase_names
 * has n_phases entries. */
int trace_write(const struct trace *t, const char *path, const struct sn_model *m,
                const char *const *phase_names, int n_phases);

#endif
