/* profile: --profile sums and the --trace timeline (see profile.h). */
#include "cli/profile.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/status.h"
#include "dist/dist.h"
#include "io/fsutil.h"

int profile_init(struct profile *p, int n_layers, bool profile, bool trace, int64_t first_step)
{
    *p = (struct profile){ .on = profile, .first_step = first_step, .n_layers = n_layers };
    p->layer_s = calloc(2 * (size_t)n_layers, sizeof *p->layer_s);
    if (!p->layer_s)
        return sn_fail(SN_ENOMEM, "out of memory");
    return trace_init(&p->tr, trace);
}

void profile_free(struct profile *p)
{
    free(p->layer_s);
    p->layer_s = NULL;
    trace_free(&p->tr);
}

static bool traced(const struct profile *p)
{
    return p->tr.on && p->cur >= PROFILE_WARMUP && p->cur < PROFILE_WARMUP + TRACE_STEPS;
}

void profile_on_phase(void *ctx, int64_t global_step, enum sn_phase ph, double t0, double t1)
{
    struct profile *p = ctx;
    p->cur = global_step - p->first_step;
    if (p->cur >= PROFILE_WARMUP)
        p->sum[ph] += t1 - t0;
    if (traced(p))
        trace_add(&p->tr, TR_PHASE, (int)ph, global_step, t0, t1);
}

void profile_on_layer(void *ctx, int layer, bool backward, double t0, double t1)
{
    struct profile *p = ctx;
    if (p->cur >= PROFILE_WARMUP)
        p->layer_s[2 * layer + backward] += t1 - t0;
    if (traced(p))
        trace_add(&p->tr, backward ? TR_BACKWARD : TR_FORWARD, layer, p->first_step + p->cur, t0,
                  t1);
}

void profile_on_bucket(void *ctx, int bucket, double t)
{
    struct profile *p = ctx;
    if (traced(p))
        trace_add(&p->tr, TR_BUCKET, bucket, p->first_step + p->cur, t, t);
}

void profile_print(const struct profile *p, const struct sn_model *m, int global_batch,
                   int threads)
{
    int64_t n = p->cur + 1 - PROFILE_WARMUP;
    double total = 0;
    for (int ph = 0; ph < SN_PHASE_N; ph++)
        total += p->sum[ph];
    if (n <= 0 || total <= 0) {
        cli_printf("profile: every step was warm-up (the first %d are left out), nothing to "
                   "report: run %d steps or more\n", PROFILE_WARMUP, PROFILE_WARMUP + 1);
        return;
    }
    cli_printf("profile: %lld step%s after %d warm-up, %d rank%s x %d thread%s: %.1f images/s, "
               "%.3f ms/step (rank 0):", (long long)n, cli_s(n), PROFILE_WARMUP, sn_dist_size(),
               cli_s(sn_dist_size()), threads, cli_s(threads),
               (double)n * global_batch / total, 1e3 * total / (double)n);
    for (int ph = 0; ph < SN_PHASE_N; ph++)
        cli_printf(" %s %.3f", sn_phase_names[ph], 1e3 * p->sum[ph] / (double)n);
    cli_printf(" ms; peak RSS %.1f MB\n", sn_peak_rss_mb());
    cli_printf("%-20s %-11s %12s %12s %7s\n", "layer", "kind", "forward ms", "backward ms",
                   "share");
    for (int i = 0; i < m->n_layers; i++) {
        double f = p->layer_s[2 * i], b = p->layer_s[2 * i + 1];
        cli_printf("%-20s %-11s %12.3f %12.3f %6.1f%%%s\n", m->layers[i]->name,
                   m->layers[i]->ops->kind, 1e3 * f / (double)n, 1e3 * b / (double)n,
                   100.0 * (f + b) / total, m->y_shared[i] ? "  (in place)" : "");
    }
    fflush(stdout);
}
