/* trace: the Chrome trace-event timeline (see trace.h). */
#include "cli/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "dist/dist.h"
#include "io/fsutil.h"
#include "train/trainer.h"

int trace_init(struct trace *t, bool on)
{
    memset(t, 0, sizeof *t);
    t->on = on;
    if (!on)
        return SN_OK;
    t->ev = calloc(TRACE_MAX_EVENTS, sizeof *t->ev);
    return t->ev ? SN_OK : sn_fail(SN_ENOMEM, "out of memory for the trace");
}

void trace_free(struct trace *t)
{
    free(t->ev);
    t->ev = NULL;
}

void trace_add(struct trace *t, int kind, int id, int64_t step, double t0, double t1)
{
    if (!t->on || t->n == TRACE_MAX_EVENTS)
        return;
    t->ev[t->n++] = (struct trace_event){ kind, id, step, t0, t1 };
}

/* Rank r's events (e[0].id of them after e[0]), times from origin. */
static void write_rank(FILE *f, int r, const struct trace_event *e, double origin,
                       const struct sn_model *m, const char *const *phase_names, int n_phases)
{
    static const char *const tracks[] = { "phases", "layers", "allreduce starts" };
    fprintf(f, "%s{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": %d, "
            "\"args\": {\"name\": \"rank %d\"}}", r ? ",\n" : "", r, r);
    for (int tid = 0; tid < 3; tid++)
        fprintf(f, ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": %d, \"tid\": %d, "
                "\"args\": {\"name\": \"%s\"}}", r, tid, tracks[tid]);
    bool after_update = false;   /* the reduce phase after the optimizer's: another name */
    for (int i = 1; i <= e[0].id; i++) {
        const struct trace_event *v = e + i;
        const bool reduce = v->kind == TR_PHASE && v->id == SN_PHASE_REDUCE;
        const char *name = reduce && after_update ? "allreduce (after the update)"
                         : v->kind == TR_PHASE && v->id < n_phases ? phase_names[v->id]
                         : v->kind == TR_BUCKET ? "allreduce start" : m->layers[v->id]->name;
        if (v->kind == TR_PHASE)
            after_update = v->id == SN_PHASE_OPTIMIZER;
        const int tid = v->kind == TR_PHASE ? 0 : v->kind == TR_BUCKET ? 2 : 1;
        if (v->kind == TR_BUCKET)
            fprintf(f, ",\n{\"name\": \"%s\", \"ph\": \"i\", \"s\": \"t\", \"pid\": %d, "
                    "\"tid\": %d, \"ts\": %.1f, \"args\": {\"step\": %lld, \"bucket\": %d}}",
                    name, r, tid, 1e6 * (v->t0 - origin), (long long)v->step + 1, v->id);
        else
            fprintf(f, ",\n{\"name\": \"%s%s\", \"ph\": \"X\", \"pid\": %d, \"tid\": %d, "
                    "\"ts\": %.1f, \"dur\": %.1f, \"args\": {\"step\": %lld}}", name,
                    v->kind == TR_BACKWARD ? " (backward)" : "", r, tid, 1e6 * (v->t0 - origin),
                    1e6 * (v->t1 - v->t0), (long long)v->step + 1);
    }
}

int trace_write(const struct trace *t, const char *path, const struct sn_model *m,
                const char *const *phase_names, int n_phases)
{
    const int P = sn_dist_size();
    /* every rank sends a full buffer; the first record's id carries the count */
    struct trace_event *mine = calloc(TRACE_MAX_EVENTS + 1, sizeof *mine);
    struct trace_event *all = sn_dist_rank() == 0
                                  ? calloc((size_t)P * (TRACE_MAX_EVENTS + 1), sizeof *all) : NULL;
    int rc = mine && (sn_dist_rank() != 0 || all) ? SN_OK
                                                 : sn_fail(SN_ENOMEM, "out of memory for the trace");
    if (!rc) {
        mine[0].id = t->n;
        memcpy(mine + 1, t->ev, (size_t)t->n * sizeof *mine);
    }
    int rc2 = sn_dist_gather(mine, all, (TRACE_MAX_EVENTS + 1) * sizeof *mine);
    rc = rc ? rc : rc2;
    if (!rc && sn_dist_rank() == 0) {
        char tmp[4200];
        sn_fs_tmpname(path, tmp, sizeof tmp);
        FILE *f = NULL;
        rc = sn_fs_create_tmp(tmp, path, &f);
        double origin = 1e300;
        for (int r = 0; f && r < P; r++) {
            const struct trace_event *e = all + (size_t)r * (TRACE_MAX_EVENTS + 1);
            for (int i = 1; i <= e[0].id; i++)
                origin = e[i].t0 < origin ? e[i].t0 : origin;
        }
        if (f)
            /* otherData names the writer: --trace replaces no other program's trace */
            fprintf(f, "{\"displayTimeUnit\": \"ms\", \"otherData\": {\"producer\": "
                    "\"scratchnet\"}, \"traceEvents\": [\n");
        for (int r = 0; f && r < P; r++)
            write_rank(f, r, all + (size_t)r * (TRACE_MAX_EVENTS + 1), origin, m, phase_names,
                       n_phases);
        if (f) {
            fprintf(f, "\n]}\n");
            if (fclose(f) != 0) {
                const int e = errno;
                remove(tmp);   /* a full disk: nothing half written left beside path */
                rc = sn_fail(SN_EIO, "%s: writing failed (%s)", path, sn_fs_write_why(e));
            } else
                rc = sn_fs_commit(tmp, path);
        }
    }
    free(mine);
    free(all);
    return rc;
}
