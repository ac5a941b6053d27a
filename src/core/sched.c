/* sched: learning-rate schedules (see sched.h). */
#include "core/sched.h"

#include <math.h>
#include <string.h>

#include "core/status.h"

static const char *const sched_names[] = {
    [SN_SCHED_CONSTANT] = "constant", [SN_SCHED_STEP] = "step", [SN_SCHED_COSINE] = "cosine",
    [SN_SCHED_ONECYCLE] = "onecycle",
};

int sn_sched_parse(const char *name, enum sn_sched_kind *out)
{
    for (size_t i = 0; i < sizeof sched_names / sizeof sched_names[0]; i++) {
        if (strcmp(name, sched_names[i]) == 0) {
            *out = (enum sn_sched_kind)i;
            return SN_OK;
        }
    }
    return sn_fail(SN_EINVAL,
                   "unknown lr_schedule '%s' (expected constant, step, cosine or onecycle)", name);
}

const char *sn_sched_name(enum sn_sched_kind k)
{
    return sched_names[k];
}

/* The onecycle factor of step t (see sched.h), in double. */
static double onecycle(const struct sn_sched *s, int64_t step)
{
    const double t = (double)step, last = (double)(s->total_steps - 1);
    const double peak = s->warmup_fraction > 0.0f
                            ? (double)s->warmup_fraction * (double)s->total_steps - 1.0
                            : (double)s->warmup_steps;
    if (t >= last)
        return s->end_factor;
    if (t <= peak)   /* a peak at step 0 or before: no warm-up */
        return peak > 0.0 ? s->start_factor + (1.0 - s->start_factor) * t / peak : 1.0;
    return 1.0 + ((double)s->end_factor - 1.0) * (t - peak) / (last - peak);
}

float sn_sched_lr(const struct sn_sched *s, int64_t step)
{
    if (step < s->warmup_steps && s->kind != SN_SCHED_ONECYCLE)   /* onecycle: its own */
        return s->lr * (float)(step + 1) / (float)s->warmup_steps;
    switch (s->kind) {
    case SN_SCHED_CONSTANT:
        return s->lr;
    case SN_SCHED_STEP:
        return s->lr * powf(s->gamma, (float)(step / s->step_size));
    case SN_SCHED_COSINE: {
        int64_t T = s->total_steps - s->warmup_steps, t = step - s->warmup_steps;
        if (T <= 0 || t >= T)
            return s->min_lr;
        double c = 0.5 * (1.0 + cos(3.14159265358979323846 * (double)t / (double)T));
        return s->min_lr + (s->lr - s->min_lr) * (float)c;
    }
    case SN_SCHED_ONECYCLE:
        return (float)((double)s->lr * onecycle(s, step));
    }
    return s->lr;
}
