/* replay: scratchnet's training steps on a simulated cluster (SimGrid SMPI).
 *
 *   smpirun -platform PLATFORM.xml -hostfile HOSTS -np P build/bench/sim/replay.so \
 *       --cfg=smpi/simulate-computation:no --cfg=smpi/test:0 ... \
 *       --model M.cfg --profile PROFILE.txt --events EVENTS.txt [options]
 *
 * smpi/test:0 matters: by default SMPI charges 100 us of simulated time to
 * every MPI_Test, and the nonblocking collectives here test each request
 * of a round at every poll, so the default turns polling into most of the
 * step (cnn at 256 ranks: 31 ms exposed instead of 0.4 ms).
 *
 * Each simulated rank builds the model from its file (so the parameters,
 * their order and the bucket plan are the real ones) and the real reducer
 * (src/train/reducer*.c over src/dist/dist_mpi.c, compiled with smpicc),
 * and replays training steps as src/train/step.c takes them:
 *   data, forward layer by layer, backward layer by layer from the last,
 *   the reducer's finish, the batchnorm statistics' allreduce, the
 *   optimizer on this rank's block, after_update.
 * Computation is not executed: each piece is simulated time (sim_busy) from
 * a `train --profile` run on the reference machine (PROFILE: per-layer
 * forward and backward ms and the phases; medians when it holds several
 * runs), scaled by the simulated host's speed.  Inside each layer's
 * backward the reducer is told what is final and polled where the real
 * layer does it (EVENTS, from build/bench/sim/events: fractions of the
 * layer's time).  Communication is the real code's MPI calls, timed by
 * SMPI's network model on the platform (MPI_Iallreduce as Open MPI's
 * libnbc runs it: nbc.c).
 *
 * Options:
 *   --steps N            steps to replay (default 4); the report is the mean
 *                        of all but the first
 *   --strategy S         buckets (default), blocking, sharded, buckets:bf16,
 *                        hier, hier:bf16: the reducer's cfg as train's
 *                        --allreduce mpi, --no-overlap, --shard-optimizer,
 *                        --compress bf16, --allreduce hier set it (a new
 *                        strategy is one more line in strategies[]).  The
 *                        hierarchical reducer's sums in a node's shared
 *                        arena and the 16-bit conversions are real CPU work
 *                        the simulator does not time (about one add or
 *                        conversion per gradient float per step)
 *   --bucket-mb X        buckets of about X MB (default 1, train's default)
 *   --algorithm A        MPI_Iallreduce's schedule (0 libnbc's choice,
 *                        1 ring, 2 binomial, 3 rabenseifner)
 *   --op-ns X, --copy-ns X   ns to add / copy one float on the reference core
 *   --shared-above BYTES buffers this large and larger in SMPI's shared memory
 *                        (default 65536; 0: none)
 *   --check              fill the gradients with known values and check the
 *                        mean every rank gets (needs --shared-above 0)
 *
 * Rank 0 prints one line per step and a last line "result: ..." with the
 * mean step time and its parts.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/rng.h"
#include "core/status.h"
#include "dist/dist.h"
#include "io/modelfile.h"
#include "sim.h"
#include "train/reducer.h"

enum { MAX_LAYERS = 512, MAX_RUNS = 15, PHASES = 5 };
enum { PH_DATA, PH_FORWARD, PH_BACKWARD, PH_REDUCE, PH_OPT };

struct opts {
    const char *model, *profile, *events, *strategy;
    int steps;
    double bucket_mb;
    bool check;
};

/* A profile: medians over the runs in the file, in seconds. */
struct profile {
    int n_layers;
    char name[MAX_LAYERS][64];
    double fwd[MAX_LAYERS], bwd[MAX_LAYERS];
    double phase[PHASES];
    int runs;
};

/* One layer's backward: where its calls to the reducer come. */
struct layer_events {
    int n;
    double *frac;
    long *from;   /* -1: poll */
};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The phases of a "profile:" line (ms). */
static int parse_phases(const char *line, double ph[PHASES])
{
    static const char *const names[PHASES] = { "data", "forward", "backward", "allreduce",
                                               "optimizer" };
    const char *p = strstr(line, "(rank 0):");
    if (!p)
        return -1;
    for (int i = 0; i < PHASES; i++) {
        char key[32];
        snprintf(key, sizeof key, " %s ", names[i]);
        const char *k = strstr(p, key);
        if (!k || sscanf(k + strlen(key), "%lf", &ph[i]) != 1)
            return -1;
    }
    return 0;
}

/* Read every `train --profile` output in path; keep the medians. */
static int read_profile(const char *path, struct profile *pr)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sn_fail(SN_EINVAL, "%s: cannot open", path);
    static double fw[MAX_RUNS][MAX_LAYERS], bw[MAX_RUNS][MAX_LAYERS], ph[MAX_RUNS][PHASES];
    char line[1024];
    int run = -1, layer = 0, rc = SN_OK;
    memset(pr, 0, sizeof *pr);
    while (!rc && fgets(line, sizeof line, f)) {
        char name[64], kind[32];
        double a, b;
        if (!strncmp(line, "profile:", 8)) {
            if (run >= 0 && layer != pr->n_layers)
                rc = sn_fail(SN_EINVAL, "%s: run %d has %d layers, run 1 %d", path, run + 1,
                             layer, pr->n_layers);
            else if (++run == MAX_RUNS)
                rc = sn_fail(SN_EINVAL, "%s: more than %d runs", path, MAX_RUNS);
            else if (parse_phases(line, ph[run]))
                rc = sn_fail(SN_EINVAL, "%s: run %d: no phases on its profile line", path, run + 1);
            layer = 0;
        } else if (run >= 0 && strncmp(line, "layer ", 6) &&
                   sscanf(line, "%63s %31s %lf %lf", name, kind, &a, &b) == 4) {
            if (layer == MAX_LAYERS)
                return fclose(f), sn_fail(SN_EINVAL, "%s: too many layers", path);
            if (run == 0)
                snprintf(pr->name[layer], sizeof pr->name[layer], "%s", name);
            else if (strcmp(pr->name[layer], name))
                rc = sn_fail(SN_EINVAL, "%s: run %d's layer %d is %s, run 1's %s", path,
                             run + 1, layer, name, pr->name[layer]);
            fw[run][layer] = a;
            bw[run][layer] = b;
            layer++;
            if (run == 0)
                pr->n_layers = layer;
        }
    }
    fclose(f);
    if (!rc && run < 0)
        rc = sn_fail(SN_EINVAL, "%s: no `train --profile` output in it", path);
    if (rc)
        return rc;
    pr->runs = run + 1;
    double v[MAX_RUNS];
    for (int i = 0; i < pr->n_layers; i++) {
        for (int r = 0; r < pr->runs; r++)
            v[r] = fw[r][i];
        pr->fwd[i] = 1e-3 * median(v, pr->runs);
        for (int r = 0; r < pr->runs; r++)
            v[r] = bw[r][i];
        pr->bwd[i] = 1e-3 * median(v, pr->runs);
    }
    for (int p = 0; p < PHASES; p++) {
        for (int r = 0; r < pr->runs; r++)
            v[r] = ph[r][p];
        pr->phase[p] = 1e-3 * median(v, pr->runs);
    }
    return SN_OK;
}

/* One line of the events file: "INDEX NAME N F:p|F:r:FROM ...". */
static int parse_events_line(char *line, const char *path, const struct sn_model *m,
                             struct layer_events *ev)
{
    int i, n, used;
    char name[64];
    if (sscanf(line, "%d %63s %d%n", &i, name, &n, &used) != 3)
        return sn_fail(SN_EINVAL, "%s: unreadable line '%.40s'", path, line);
    if (i < 0 || i >= m->n_layers || strcmp(name, m->layers[i]->name) || n < 0)
        return sn_fail(SN_EINVAL, "%s: layer %d %s is not the model's", path, i, name);
    struct layer_events *e = &ev[i];
    e->n = n;
    e->frac = malloc(((size_t)n + 1) * sizeof *e->frac);
    e->from = malloc(((size_t)n + 1) * sizeof *e->from);
    if (!e->frac || !e->from)
        return sn_fail(SN_ENOMEM, "out of memory");
    char *p = line + used;
    for (int k = 0; k < n; k++) {
        char *end;
        e->frac[k] = strtod(p, &end);
        if (end == p || end[0] != ':' || (end[1] != 'p' && end[1] != 'r'))
            return sn_fail(SN_EINVAL, "%s: layer %s: event %d unreadable", path, name, k);
        e->from[k] = -1;
        p = end + 2;
        if (end[1] == 'r') {
            if (*p != ':')
                return sn_fail(SN_EINVAL, "%s: layer %s: ready without an offset", path, name);
            e->from[k] = strtol(p + 1, &end, 10);
            p = end;
        }
    }
    return SN_OK;
}

/* Read the events file of build/bench/sim/events for model m. */
static int read_events(const char *path, const struct sn_model *m, struct layer_events *ev)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sn_fail(SN_EINVAL, "%s: cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    int rc = SN_OK, seen = 0;
    while (!rc && getline(&line, &cap, f) > 0) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        rc = parse_events_line(line, path, m, ev);
        seen++;
    }
    free(line);
    fclose(f);
    if (!rc && seen != m->n_layers)
        rc = sn_fail(SN_EINVAL, "%s: %d layers, the model has %d", path, seen, m->n_layers);
    return rc;
}

/* The strategies, as train's flags set the reducer's cfg. */
struct strategy {
    const char *name;
    bool sharded, overlap;
    enum sn_allreduce mode;
    enum sn_half compress;
};
static const struct strategy strategies[] = {
    /* train --allreduce mpi (the default across hosts with one rank each) */
    { "buckets", false, true, SN_ALLREDUCE_MPI, SN_HALF_NONE },
    /* train --allreduce mpi --no-overlap */
    { "blocking", false, false, SN_ALLREDUCE_MPI, SN_HALF_NONE },
    /* train --shard-optimizer */
    { "sharded", true, false, SN_ALLREDUCE_MPI, SN_HALF_NONE },
    /* train --allreduce mpi --compress bf16 */
    { "buckets:bf16", false, true, SN_ALLREDUCE_MPI, SN_HALF_BF16 },
    /* train --allreduce hier (auto's choice across hosts with several ranks each) */
    { "hier", false, true, SN_ALLREDUCE_HIER, SN_HALF_NONE },
    /* train --allreduce hier --compress bf16 */
    { "hier:bf16", false, true, SN_ALLREDUCE_HIER, SN_HALF_BF16 },
};

static int make_reducer(const struct opts *o, struct sn_model *m, struct sn_reducer **r)
{
    for (size_t i = 0; i < sizeof strategies / sizeof strategies[0]; i++)
        if (!strcmp(o->strategy, strategies[i].name)) {
            struct sn_reducer_cfg cfg = {
                .sharded = strategies[i].sharded,
                .mode = strategies[i].mode,
                .compress = strategies[i].compress,
                .overlap = strategies[i].overlap,
                .bucket_floats = (size_t)(o->bucket_mb * 1048576.0 / sizeof(float)),
            };
            return sn_reducer_create(&cfg, m, r);
        }
    return sn_fail(SN_EINVAL, "--strategy: unknown '%s' (buckets, blocking, sharded, buckets:bf16, "
                   "hier, hier:bf16)", o->strategy);
}

/* --check: the gradients rank q holds, and their mean over P ranks. */
static float grad_value(int q, size_t i)
{
    return (float)((q + 1) * (int)(i % 7 + 1));
}

static int check_mean(const float *g, size_t lo, size_t hi, int P)
{
    for (size_t i = lo; i < hi; i++) {
        double want = 0.5 * (P + 1) * (double)(i % 7 + 1);
        if (fabs(g[i] - want) > 1e-6 * want)
            return sn_fail(SN_EINVAL, "--check: rank %d: gradient %zu is %g, the mean is %g",
                           sn_dist_rank(), i, g[i], want);
    }
    return SN_OK;
}

/* Layer i's backward: its time, with the reducer's calls where the real
 * layer makes them. */
static void backward_layer(struct sn_reducer *r, double t, const struct layer_events *ev)
{
    double done = 0.0;
    for (int k = 0; k < ev->n; k++) {
        sim_busy((ev->frac[k] - done) * t);
        done = ev->frac[k];
        if (ev->from[k] < 0)
            sn_reducer_poll(r);
        else
            sn_reducer_ready(r, (size_t)ev->from[k]);
    }
    sim_busy((1.0 - done) * t);
}

/* What a step spends outside the layers: the rest of the forward phase
 * (the loss), of the backward phase, and the 1-rank allreduce phase (the
 * squared norm and a rank's own copy, CPU work the simulator does not time). */
struct extra {
    double fwd, bwd, reduce;
};

static int step(struct sn_model *m, struct sn_reducer *r, const struct profile *pr,
                const struct layer_events *ev, const struct extra *x, bool check)
{
    const int P = sn_dist_size(), me = sn_dist_rank();
    const float ctrl[SN_REDUCE_CTRL] = { 0 };
    if (check)
        for (size_t i = 0; i < m->n_params; i++)
            m->grads[i] = grad_value(me, i);
    sim_busy(pr->phase[PH_DATA]);
    sn_reducer_begin(r, ctrl);
    for (int i = 0; i < m->n_layers; i++)
        sim_busy(pr->fwd[i]);
    sim_busy(x->fwd);
    for (int i = m->n_layers - 1; i >= 0; i--)
        backward_layer(r, pr->bwd[i], &ev[i]);
    sim_busy(x->bwd + x->reduce);
    struct sn_reduced red;
    int rc = sn_reducer_finish(r, &red);
    if (!rc && m->n_buffers)
        rc = sn_dist_allreduce_mean_f32(m->buffers, m->n_buffers);
    if (!rc && check)
        rc = check_mean(m->grads, red.lo, red.hi, P);
    if (rc)
        return rc;
    sim_busy(pr->phase[PH_OPT] * (double)(red.hi - red.lo) / (double)m->n_params);
    if (check)
        for (size_t i = red.lo; i < red.hi; i++)
            m->params[i] = (float)(i % 11);
    rc = sn_reducer_after_update(r, m->params);
    for (size_t i = 0; check && !rc && i < m->n_params; i++)
        if (m->params[i] != (float)(i % 11))
            rc = sn_fail(SN_EINVAL, "--check: rank %d: parameter %zu not shared", me, i);
    return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .strategy = "buckets", .steps = 4, .bucket_mb = 1.0 };
    sim.shared_above = 65536;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool flag = !strcmp(a, "--check");
        if (!flag && !v)
            return sn_fail(SN_EINVAL, "%s: missing value", a);
        if (flag)
            o->check = true;
        else if (!strcmp(a, "--model"))
            o->model = v;
        else if (!strcmp(a, "--profile"))
            o->profile = v;
        else if (!strcmp(a, "--events"))
            o->events = v;
        else if (!strcmp(a, "--strategy"))
            o->strategy = v;
        else if (!strcmp(a, "--steps"))
            o->steps = atoi(v);
        else if (!strcmp(a, "--bucket-mb"))
            o->bucket_mb = atof(v);
        else if (!strcmp(a, "--algorithm"))
            sim.algorithm = atoi(v);
        else if (!strcmp(a, "--op-ns"))
            sim.op_s = 1e-9 * atof(v);
        else if (!strcmp(a, "--copy-ns"))
            sim.copy_s = 1e-9 * atof(v);
        else if (!strcmp(a, "--shared-above"))
            sim.shared_above = (size_t)atol(v);
        else
            return sn_fail(SN_EINVAL, "unknown option '%s'", a);
        i += !flag;
    }
    if (!o->model || !o->profile || !o->events)
        return sn_fail(SN_EINVAL, "--model, --profile and --events are required");
    if (o->steps < 2 || o->bucket_mb <= 0 || sim.algorithm < 0 || sim.algorithm > 3)
        return sn_fail(SN_EINVAL, "--steps >= 2, --bucket-mb > 0, --algorithm 0 ... 3");
    if (o->check && sim.shared_above)
        return sn_fail(SN_EINVAL, "--check needs --shared-above 0 (every rank its own values)");
    sim.values = o->check;
    return SN_OK;
}

/* Model, profile, events, reducer: everything before the first step. */
static int setup(const struct opts *o, struct sn_model **m, struct profile *pr,
                 struct layer_events **ev, struct sn_reducer **r, struct extra *x)
{
    char *text = NULL;
    struct sn_netcfg net;
    int rc = sn_modelfile_read(o->model, &text);
    if (!rc)
        rc = sn_modelfile_parse(text, o->model, &net, m);
    free(text);
    struct sn_rng rng;
    sn_rng_seed(&rng, 1, 1);
    if (!rc)   /* nothing runs through the layers: batch 1 is enough */
        rc = sn_model_build(*m, 1, &rng);
    if (!rc)
        rc = read_profile(o->profile, pr);
    if (!rc && pr->n_layers != (*m)->n_layers)
        rc = sn_fail(SN_EINVAL, "%s: %d layers, %s has %d", o->profile, pr->n_layers, o->model,
                     (*m)->n_layers);
    for (int i = 0; !rc && i < pr->n_layers; i++)
        if (strcmp(pr->name[i], (*m)->layers[i]->name))
            rc = sn_fail(SN_EINVAL, "%s: layer %d is %s, the model's %s", o->profile, i,
                         pr->name[i], (*m)->layers[i]->name);
    if (!rc && !(*ev = calloc((size_t)(*m)->n_layers, sizeof **ev)))
        rc = sn_fail(SN_ENOMEM, "out of memory");
    if (!rc)
        rc = read_events(o->events, *m, *ev);
    if (!rc)
        rc = make_reducer(o, *m, r);
    if (rc)
        return rc;
    double f = 0, b = 0;
    for (int i = 0; i < pr->n_layers; i++) {
        f += pr->fwd[i];
        b += pr->bwd[i];
    }
    x->fwd = fmax(0.0, pr->phase[PH_FORWARD] - f);
    x->bwd = fmax(0.0, pr->phase[PH_BACKWARD] - b);
    x->reduce = pr->phase[PH_REDUCE];
    return SN_OK;
}

static void report_plan(const struct opts *o, const struct sn_model *m, const struct sn_reducer *r,
                        const struct profile *pr)
{
    int P = sn_dist_size();
    size_t lo, len;
    sn_reducer_block(r, &lo, &len);
    printf("replay: %s on %d ranks, reducer %s, %zu parameters, %d profile run(s)", o->model, P,
           sn_reducer_name(r), m->n_params, pr->runs);
    if (!strcmp(sn_reducer_name(r), "buckets"))
        printf(", buckets of %.3g MB: iallreduce %s", o->bucket_mb,
               sim_nbc_algorithm_name((int)(o->bucket_mb * 262144.0), P, true));
    printf("\n");
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sn_model *m = NULL;
    struct sn_reducer *r = NULL;
    struct layer_events *ev = NULL;
    static struct profile pr;
    struct extra x;
    int rc = parse(argc, argv, &o);
    int drc = sn_dist_init(&argc, &argv);
    if (drc) {
        fprintf(stderr, "replay: %s\n", sn_errmsg());
        return 1;
    }
    sim_skip_large_copies();
    if (!rc)
        rc = setup(&o, &m, &pr, &ev, &r, &x);
    rc = sn_dist_agree(rc);
    if (!rc && sn_dist_rank() == 0)
        report_plan(&o, m, r, &pr);
    double sum = 0.0, t = MPI_Wtime();
    for (int s = 0; !rc && s < o.steps; s++) {
        rc = step(m, r, &pr, ev, &x, o.check);
        double now = MPI_Wtime();
        if (s > 0)
            sum += now - t;
        if (!rc && sn_dist_rank() == 0)
            printf("step %d: %.3f ms\n", s + 1, 1e3 * (now - t));
        t = now;
    }
    rc = sn_dist_agree(rc);
    if (rc) {
        if (sn_dist_rank() == 0)
            fprintf(stderr, "replay: %s\n", sn_errmsg());
        sn_dist_abort(rc == SN_EINVAL ? 2 : 1);
    }
    if (sn_dist_rank() == 0) {
        double compute = pr.phase[PH_DATA] + pr.phase[PH_FORWARD] + pr.phase[PH_BACKWARD] +
                         pr.phase[PH_REDUCE] + pr.phase[PH_OPT];
        double mean = sum / (o.steps - 1);
        printf("result: step_ms %.4f profile_step_ms %.4f exposed_ms %.4f%s\n", 1e3 * mean,
               1e3 * compute, 1e3 * (mean - compute), o.check ? " check ok" : "");
    }
    sn_reducer_destroy(r);
    for (int i = 0; ev && i < m->n_layers; i++) {
        free(ev[i].frac);
        free(ev[i].from);
    }
    free(ev);
    sn_model_destroy(m);
    sn_dist_finalize();
    return 0;
}
