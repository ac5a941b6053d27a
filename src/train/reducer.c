/* reducer: the strategy choice, the arena, the saved state and the calls
 * every strategy shares (see reducer.h). */
#include "train/reducer_impl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/optim.h"
#include "core/status.h"
#include "core/tensor.h"

int sn_allreduce_parse(const char *name, enum sn_allreduce *out)
{
    static const char *const names[] = { "auto", "flat", "hier", "mpi" };
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum sn_allreduce)i;
            return SN_OK;
        }
    return sn_fail(SN_EUSAGE, "'%s' is not a way to reduce gradients (auto, flat, hier or mpi)",
                   name);
}

/* The strategy for cfg at this placement (the same on every rank: every
 * input is). */
static const struct sn_reducer_ops *choose(const struct sn_reducer_cfg *cfg,
                                           const struct sn_dist_hosts *h, int P)
{
    if (cfg->sharded)
        return &sn_reduce_sharded;
    const bool one_host = h->n_hosts == 1, messages = cfg->mode == SN_ALLREDUCE_MPI;
    if (cfg->mode == SN_ALLREDUCE_HIER ||
        (cfg->mode == SN_ALLREDUCE_AUTO && !one_host && h->max_local_size > 1))
        return &sn_reduce_hier;
    if (one_host && P > 1 && !messages)
        return &sn_reduce_shared;
    /* compressed without overlap: the buckets' wire, all started after backward */
    return cfg->overlap || cfg->compress != SN_HALF_NONE ? &sn_reduce_buckets
                                                         : &sn_reduce_blocking;
}

/* The arena: a window over every rank (shared), over the host's ranks
 * (hier), or this process's own memory. */
static int make_arena(struct sn_reducer *r)
{
    const size_t len = r->n + SN_REDUCE_CTRL;
    int rc = SN_OK;
    if (r->ops == &sn_reduce_shared)
        rc = sn_dist_shared_arena(len, &r->arena);
    else if (r->ops == &sn_reduce_hier)
        rc = sn_dist_host_arena(len, &r->arena);
    if (rc)
        return rc;
    r->arena_shared = r->arena != NULL;
    if (!r->arena && !(r->arena = sn_alloc_f32(len)))
        return sn_fail(SN_ENOMEM, "out of memory for a gradient arena of %zu floats", len);
    return SN_OK;
}

/* The stage that crosses hosts: which ranks, and compressed or not. */
static int plan(struct sn_reducer *r)
{
    if (r->ops == &sn_reduce_sharded) {
        if (r->cfg.compress != SN_HALF_NONE)
            return sn_fail(SN_EUSAGE, "--compress does not apply to --shard-optimizer (its "
                           "reduce-scatter and allgather send floats)");
        return sn_reduce_sharded_plan(r);
    }
    sn_reduce_buckets_plan(r);
    r->group = r->ops == &sn_reduce_hier ? SN_DIST_LEADERS : SN_DIST_WORLD;
    r->in_group = r->group == SN_DIST_WORLD || r->hosts.local_rank == 0;
    r->G = sn_dist_group_size(r->group);
    /* one host without messages: nothing crosses a host, nothing to compress */
    if (r->ops == &sn_reduce_shared)
        r->G = 1;
    return sn_wire_plan(r);
}

int sn_reducer_create(const struct sn_reducer_cfg *cfg, struct sn_model *m,
                      struct sn_reducer **out)
{
    *out = NULL;
    struct sn_reducer *r = calloc(1, sizeof *r);
    if (!r)
        return sn_fail(SN_ENOMEM, "out of memory");
    r->cfg = *cfg;
    r->m = m;
    r->n = m->n_params;
    r->len = r->n;
    r->P = sn_dist_size();
    sn_dist_hosts(&r->hosts);
    r->ops = choose(cfg, &r->hosts, r->P);
    int rc = make_arena(r);
    if (!rc)
        rc = plan(r);
    if (rc) {
        sn_reducer_destroy(r);
        return rc;
    }
    const bool blocking = r->ops == &sn_reduce_buckets && !cfg->overlap;
    snprintf(r->name, sizeof r->name, "%s%s%s", blocking ? "blocking" : r->ops->name,
             r->compressed ? "+" : "", r->compressed ? sn_half_name(cfg->compress) : "");
    sn_model_use_grads(m, r->arena);
    *out = r;
    return SN_OK;
}

bool sn_reducer_compressed(const struct sn_reducer *r) { return r->compressed; }

void sn_reducer_destroy(struct sn_reducer *r)
{
    if (!r)
        return;
    if (r->arena_shared)
        sn_dist_shared_free(r->arena);
    else
        sn_free(r->arena);
    sn_wire_free(r);
    free(r->counts);
    free(r->displs);
    free(r);
}

const char *sn_reducer_name(const struct sn_reducer *r)
{
    return r->name;
}

uint64_t sn_reducer_bytes_sent(const struct sn_reducer *r)
{
    return r->bytes;
}

void sn_reducer_block(const struct sn_reducer *r, size_t *lo, size_t *len)
{
    *lo = r->lo;
    *len = r->len;
}

void sn_reducer_begin(struct sn_reducer *r, const float ctrl[SN_REDUCE_CTRL])
{
    memcpy(r->arena + r->n, ctrl, SN_REDUCE_CTRL * sizeof *ctrl);
    r->next = 0;
    r->next_post = 0;
    r->rc = SN_OK;
    r->final_from = r->n + SN_REDUCE_CTRL;
    r->seq++;
}

void sn_reducer_ready(struct sn_reducer *r, size_t from)
{
    if (r->ops->ready)
        r->ops->ready(r, from);
}

void sn_reducer_poll(struct sn_reducer *r)
{
    if (r->ops->poll)
        r->ops->poll(r);
}

int sn_reducer_finish(struct sn_reducer *r, struct sn_reduced *out)
{
    int rc = r->ops->finish(r, out);
    sn_dist_flight_bucket(-1);
    if (rc)   /* some ranks may have finished: nothing can be agreed any more */
        return sn_fail_prefix(SN_EFATAL, "reducing gradients (%s): ", r->name);
    return SN_OK;
}

void sn_reduce_whole_result(const struct sn_reducer *r, struct sn_reduced *out)
{
    out->lo = 0;
    out->hi = r->n;
    out->sumsq = sn_sumsq(r->arena, r->n);
    memcpy(out->ctrl, r->arena + r->n, sizeof out->ctrl);
}

int sn_reducer_after_update(struct sn_reducer *r, float *params)
{
    int rc = r->ops->after_update ? r->ops->after_update(r, params) : SN_OK;
    return rc ? sn_fail_prefix(SN_EFATAL, "after the update (%s): ", r->name) : SN_OK;
}

int sn_reducer_gather_block(struct sn_reducer *r, const float *mine, float *whole)
{
    if (!r->counts) {   /* every rank holds the whole arena */
        if (sn_dist_rank() == 0 && whole != mine)
            memcpy(whole, mine, r->n * sizeof *whole);
        return SN_OK;
    }
    return sn_dist_gather_f32(mine, whole, r->counts, r->displs);
}

/* ---- saved state ---- */

/* Every rank's piece length of saved array s, on every rank, and their
 * offsets; *total their sum.  Collective. */
static int piece_counts(const struct sn_reducer_saved *s, int *counts, int *displs,
                        size_t *total)
{
    int mine = s->len <= (size_t)INT_MAX ? (int)s->len : -1;
    int rc = sn_dist_gather(&mine, counts, sizeof mine);
    if (!rc)
        rc = sn_dist_bcast(counts, (size_t)sn_dist_size() * sizeof *counts, 0);
    *total = 0;
    for (int q = 0; q < sn_dist_size() && !rc; q++) {
        displs[q] = (int)*total;
        *total += counts[q] < 0 ? (size_t)INT_MAX + 1 : (size_t)counts[q];
    }
    return rc ? sn_fail_prefix(SN_EFATAL, "the reducer's state: ") : SN_OK;
}

/* Rank 0: room for array s whole in a (total floats, P counts). */
static int alloc_whole(struct sn_ckpt_array *a, const struct sn_reducer_saved *s,
                       const int *counts, size_t total, int P)
{
    if (total > (size_t)INT_MAX)
        return sn_fail(SN_EINVAL, "the reducer's %s is %zu floats over all ranks, more than one "
                       "checkpoint array holds", s->name, total);
    snprintf(a->name, sizeof a->name, "%s", s->name);
    a->len = total;
    a->n_counts = P;
    a->data = malloc((total ? total : 1) * sizeof *a->data);
    a->counts = malloc((size_t)P * sizeof *a->counts);
    if (!a->data || !a->counts)
        return sn_fail(SN_ENOMEM, "out of memory for the reducer's %s (%zu floats)", s->name,
                       total);
    for (int q = 0; q < P; q++)
        a->counts[q] = counts[q];
    return SN_OK;
}

int sn_reducer_state_save(struct sn_reducer *r, struct sn_ckpt_extra *out)
{
    memset(out, 0, sizeof *out);
    const int P = sn_dist_size(), me = sn_dist_rank();
    int *counts = malloc(2 * (size_t)P * sizeof *counts), rc = SN_OK;
    rc = sn_dist_agree(counts ? SN_OK : sn_fail(SN_ENOMEM, "out of memory"));
    for (int i = 0; i < r->n_saved && !rc; i++) {
        size_t total;
        int *displs = counts + P;
        rc = piece_counts(&r->saved[i], counts, displs, &total);
        if (rc)
            break;
        struct sn_ckpt_array *a = &out->a[out->n];
        if (me == 0)
            out->n++;
        rc = sn_dist_agree(me == 0 ? alloc_whole(a, &r->saved[i], counts, total, P) : SN_OK);
        if (!rc && sn_dist_gather_f32(r->saved[i].mine, a->data, counts, displs))
            rc = sn_fail_prefix(SN_EFATAL, "gathering the reducer's %s: ", r->saved[i].name);
    }
    free(counts);
    if (rc)
        sn_ckpt_extra_free(out);
    return rc;
}

/* Rank 0: whether the file's array a fits this run's pieces. */
static bool fits(const struct sn_ckpt_array *a, const int *counts, int P)
{
    if (!a || a->n_counts != P)
        return false;
    for (int q = 0; q < P; q++)
        if (a->counts[q] != counts[q])
            return false;
    return true;
}

int sn_reducer_state_load(struct sn_reducer *r, const struct sn_ckpt_extra *in, char *dropped,
                          size_t len)
{
    const int P = sn_dist_size(), me = sn_dist_rank();
    int *counts = malloc(2 * (size_t)P * sizeof *counts);
    int rc = sn_dist_agree(counts ? SN_OK : sn_fail(SN_ENOMEM, "out of memory"));
    size_t at = 0;
    if (len)
        dropped[0] = '\0';
    for (int i = 0; i < r->n_saved && !rc; i++) {
        struct sn_reducer_saved *s = &r->saved[i];
        size_t total;
        rc = piece_counts(s, counts, counts + P, &total);
        const struct sn_ckpt_array *a = NULL;
        for (int k = 0; me == 0 && k < in->n && !a; k++)
            a = strcmp(in->a[k].name, s->name) == 0 ? &in->a[k] : NULL;
        int use = me == 0 && fits(a, counts, P);
        if (!rc && (sn_dist_bcast(&use, sizeof use, 0) ||
                    (use && sn_dist_scatter_f32(a ? a->data : NULL, s->mine, counts, counts + P))))
            rc = sn_fail_prefix(SN_EFATAL, "the reducer's %s: ", s->name);
        if (rc)
            break;
        if (!use && s->len)
            memset(s->mine, 0, s->len * sizeof *s->mine);
        if (!use && me == 0 && at < len)
            at += (size_t)snprintf(dropped + at, len - at, "%s%s", at ? ", " : "", s->name);
    }
    free(counts);
    return rc;
}
