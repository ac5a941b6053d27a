/* sched: learning-rate schedules, a pure function of the step number, so a
 * resumed run needs only the global step to continue the schedule exactly.
 *
 *   warmup    for step < warmup_steps: lr * (step + 1) / warmup_steps
 *   constant  lr
 *   step      lr * gamma ^ floor(step / step_size)
 *   cosine    min_lr + (lr - min_lr) (1 + cos(pi t / T)) / 2,
 *             t = step - warmup_steps, T = total_steps - warmup_steps
 *   onecycle  piecewise linear through (0, a lr), (P, lr), (L, e lr), then e lr:
 *             the warm-up from a = start_factor, the decay to a final
 *             fraction e = end_factor at the last step L = total_steps - 1;
 *             the peak P = warmup_steps, or warmup_fraction * total_steps - 1
 *             when warmup_fraction > 0 (its own warm-up: the one above does
 *             not apply)
 * (PyTorch's LinearLR warm-up, StepLR, CosineAnnealingLR and OneCycleLR with
 * anneal_strategy='linear' (pct_start = warmup_fraction, div_factor = 1/a,
 * final_div_factor = a/e), counted in optimizer steps.)
 */
#ifndef SN_CORE_SCHED_H
#define SN_CORE_SCHED_H

#include <stdint.h>

enum sn_sched_kind { SN_SCHED_CONSTANT, SN_SCHED_STEP, SN_SCHED_COSINE, SN_SCHED_ONECYCLE };

struct sn_sched {
    enum sn_sched_kind kind;
    float lr;
    int64_t warmup_steps;
    int64_t step_size;     /* step */
    float gamma;           /* step */
    float min_lr;          /* cosine */
    int64_t total_steps;   /* cosine, onecycle */
    float start_factor;    /* onecycle: a */
    float end_factor;      /* onecycle: e */
    float warmup_fraction; /* onecycle: the peak's place in the run (0: warmup_steps) */
};

int sn_sched_parse(const char *name, enum sn_sched_kind *out);
const char *sn_sched_name(enum sn_sched_kind k);

/* The learning rate of optimizer step `step` (0-based). */
float sn_sched_lr(const struct sn_sched *s, int64_t step);

#endif
