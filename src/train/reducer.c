/* reducer: the strategy choice, the arena and the calls every strategy
 * shares (see reducer.h). */
#include "train/reducer_impl.h"

#include <stdlib.h>
#include <string.h>

#include "core/optim.h"
#include "core/status.h"
#include "core/tensor.h"
#include "dist/dist.h"

/* The arena: a shared window where one can be had and is wanted (every
 * rank on this host), else this process's own memory. */
static int make_arena(struct sn_reducer *r, bool try_shared)
{
    const size_t len = r->n + SN_REDUCE_CTRL;
    if (try_shared) {
        int rc = sn_dist_shared_arena(len, &r->arena);
        if (rc)
            return rc;
        r->arena_shared = r->arena != NULL;
    }
    if (!r->arena && !(r->arena = sn_alloc_f32(len)))
        return sn_fail(SN_ENOMEM, "out of memory for a gradient arena of %zu floats", len);
    return SN_OK;
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
    int rc = make_arena(r, cfg->allow_shared && !cfg->sharded);
    if (!rc && cfg->sharded) {
        r->ops = &sn_reduce_sharded;
        rc = sn_reduce_sharded_plan(r);
    } else if (!rc) {
        r->ops = r->arena_shared ? &sn_reduce_shared
                 : cfg->overlap  ? &sn_reduce_buckets
                                 : &sn_reduce_blocking;
        sn_reduce_buckets_plan(r);
    }
    if (rc) {
        sn_reducer_destroy(r);
        return rc;
    }
    sn_model_use_grads(m, r->arena);
    *out = r;
    return SN_OK;
}

void sn_reducer_destroy(struct sn_reducer *r)
{
    if (!r)
        return;
    if (r->arena_shared)
        sn_dist_shared_free(r->arena);
    else
        sn_free(r->arena);
    free(r->counts);
    free(r->displs);
    free(r);
}

const char *sn_reducer_name(const struct sn_reducer *r)
{
    return r->ops->name;
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
    r->rc = SN_OK;
    r->final_from = r->n + SN_REDUCE_CTRL;
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
    if (rc)   /* some ranks may have finished: nothing can be agreed any more */
        return sn_fail_prefix(SN_EFATAL, "reducing gradients (%s): ", r->ops->name);
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
    return rc ? sn_fail_prefix(SN_EFATAL, "sharing the updated parameters: ") : SN_OK;
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
