/* shard_optim: the optimizer state sharded over ranks (see shard_optim.h). */
#include "cli/shard_optim.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "dist/dist.h"

int shard_optim_plan(struct shard_optim *s, size_t n, int P, int rank)
{
    memset(s, 0, sizeof *s);
    if (n > (size_t)INT_MAX)
        return sn_fail(SN_EINVAL, "--shard-optimizer: %zu parameters do not fit MPI's int counts",
                       n);
    s->P = P;
    s->rank = rank;
    s->counts = malloc((size_t)P * sizeof *s->counts);
    s->displs = malloc((size_t)P * sizeof *s->displs);
    if (!s->counts || !s->displs) {
        shard_optim_free(s);
        return sn_fail(SN_ENOMEM, "out of memory");
    }
    for (int r = 0; r < P; r++) {
        size_t a = n * (size_t)r / (size_t)P, b = n * (size_t)(r + 1) / (size_t)P;
        s->displs[r] = (int)a;
        s->counts[r] = (int)(b - a);
    }
    s->lo = (size_t)s->displs[rank];
    s->len = (size_t)s->counts[rank];
    return SN_OK;
}

void shard_optim_free(struct shard_optim *s)
{
    free(s->counts);
    free(s->displs);
    s->counts = s->displs = NULL;
}

int shard_optim_reduce(const struct shard_optim *s, float *grads)
{
    return sn_dist_reduce_scatter_mean_f32(grads, s->counts, s->displs);
}

int shard_optim_gather_params(const struct shard_optim *s, float *params)
{
    return sn_dist_allgather_f32(params, s->counts, s->displs);
}

int shard_optim_full(const struct shard_optim *s, const struct sn_optim *o, size_t n,
                     struct sn_optim *full)
{
    memset(full, 0, sizeof *full);
    int rc = s->rank == 0 ? sn_optim_init(full, &o->cfg, n) : SN_OK;
    int bad = rc != SN_OK;   /* every rank must know before the gathers */
    int rc2 = sn_dist_allreduce_max_int(&bad, 1);
    if (rc || rc2 || bad) {
        shard_optim_full_free(full);
        return rc ? rc : rc2 ? rc2 : sn_fail(SN_ENOMEM, "rank 0 is out of memory for the state");
    }
    full->t = o->t;
    for (int i = 0; i < o->n_states && !rc; i++)
        rc = sn_dist_gather_f32(o->state[i], full->state[i], s->counts, s->displs);
    if (rc)
        shard_optim_full_free(full);
    return rc;
}

void shard_optim_full_free(struct sn_optim *full)
{
    sn_optim_deinit(full);
    memset(full, 0, sizeof *full);
}

void shard_optim_take(const struct shard_optim *s, const struct sn_optim *full, struct sn_optim *o)
{
    o->t = full->t;
    for (int i = 0; i < o->n_states; i++)
        memcpy(o->state[i], full->state[i] + s->lo, s->len * sizeof(float));
}
