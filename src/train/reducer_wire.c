/* reducer_wire: the stage that crosses hosts, bucket by bucket (see
 * reducer_impl.h): the sum over a group of ranks (every rank for buckets
 * and blocking, the hosts' leaders for hier), then times 1/P.
 *
 * Floats: one MPI_Iallreduce per bucket.
 *
 * Compressed (cfg.compress, a group of G > 1): MPI has no 16-bit float
 * type, and a user-defined MPI_Op on 16-bit words would round every
 * partial sum to 16 bits again, in an order MPI chooses.  Instead the
 * allreduce is done by hand in its two halves, each sending 16-bit words:
 *   1. each rank adds its residual to its contribution, rounds it to 16
 *      bits (the residual keeps what rounding lost: error feedback) and
 *      sends block j of the bucket to group rank j (MPI_Ialltoallv);
 *   2. rank j sums the G blocks it received in float, in group order,
 *      scales the sum to the mean, adds a residual of its own, rounds to
 *      16 bits (that residual keeps what this rounding lost) and sends its
 *      block of the mean to every rank (MPI_Iallgatherv).
 * Each half sends (G - 1) / G of the bucket per rank, in 2 bytes a value
 * instead of 4: half the bytes a float reduce-scatter and allgather send
 * (what ring allreduces send), at any G; an allgather of every rank's
 * whole contribution would send G - 1 times the bucket, halved only at
 * G = 2.  It is the compressed allreduce of DeepSpeed's 1-bit Adam (a
 * worker error and a server error), with 16 bits instead of 1.  The
 * control words after the gradients travel without error feedback and as
 * sums: they are whole numbers (each rank's 0 or 1) that 16 bits hold
 * exactly up to 256 ranks (bf16) and are only compared with 0.
 */
#include "train/reducer_impl.h"

#include <limits.h>
#include <stdlib.h>

#include "core/half.h"
#include "core/status.h"
#include "core/tensor.h"

struct sn_wire_z {
    enum sn_half kind;
    int me;                     /* this rank in the group */
    float *resid;               /* n: what rounding this rank's contributions lost */
    float *resid_mean;          /* own_len: what rounding this rank's blocks of the mean lost */
    uint16_t *send, *out;       /* n + SN_REDUCE_CTRL each, parallel to the arena */
    uint16_t *recv;             /* per bucket: G blocks of this rank's block's size */
    size_t *recv_at, *own_at;   /* per bucket: offsets into recv and resid_mean */
    int *counts, *displs;       /* per bucket, G each: the bucket's blocks */
    int *rcounts, *rdispls;     /* per bucket, G each: G times this rank's block */
    int *req_a, *req_b;         /* per bucket: the alltoall's and the allgather's request */
    int summed;                 /* buckets whose blocks were summed (in order) */
};

/* Block j of G of a bucket of len floats starts here (sizes differ by at
 * most one). */
static size_t block_at(size_t len, int G, int j)
{
    return len * (size_t)j / (size_t)G;
}

/* The blocks of every bucket, and the offsets of this rank's. */
static void plan_blocks(struct sn_reducer *r, size_t *recv_len, size_t *own_len)
{
    struct sn_wire_z *z = r->z;
    const int G = r->G;
    *recv_len = *own_len = 0;
    for (int b = 0; b < r->n_buckets; b++) {
        const size_t len = r->b_hi[b] - r->b_lo[b];
        int *c = z->counts + b * G, *d = z->displs + b * G;
        for (int j = 0; j < G; j++) {
            d[j] = (int)block_at(len, G, j);
            c[j] = (int)(block_at(len, G, j + 1) - block_at(len, G, j));
        }
        const int mine = c[z->me];
        for (int j = 0; j < G; j++) {
            z->rcounts[b * G + j] = mine;
            z->rdispls[b * G + j] = j * mine;
        }
        z->recv_at[b] = *recv_len;
        z->own_at[b] = *own_len;
        *recv_len += (size_t)G * (size_t)mine;
        *own_len += (size_t)mine;
    }
}

static int alloc_z(struct sn_reducer *r)
{
    const size_t nb = (size_t)r->n_buckets, G = (size_t)r->G, len = r->n + SN_REDUCE_CTRL;
    struct sn_wire_z *z = r->z = calloc(1, sizeof *z);
    if (!z)
        return sn_fail(SN_ENOMEM, "out of memory");
    z->kind = r->cfg.compress;
    z->me = sn_dist_group_rank(r->group);
    int *ints = malloc((4 * nb * G + 2 * nb) * sizeof *ints);
    z->recv_at = malloc(2 * nb * sizeof *z->recv_at);
    if (!ints || !z->recv_at) {
        free(ints);
        return sn_fail(SN_ENOMEM, "out of memory");
    }
    z->counts = ints;
    z->displs = ints + nb * G;
    z->rcounts = ints + 2 * nb * G;
    z->rdispls = ints + 3 * nb * G;
    z->req_a = ints + 4 * nb * G;
    z->req_b = z->req_a + nb;
    z->own_at = z->recv_at + nb;
    size_t recv_len, own_len;
    plan_blocks(r, &recv_len, &own_len);
    z->resid = sn_alloc_f32(r->n + 1);
    z->resid_mean = sn_alloc_f32(own_len + 1);
    z->send = sn_alloc_bytes((2 * len + recv_len) * sizeof *z->send);
    if (!z->resid || !z->resid_mean || !z->send)
        return sn_fail(SN_ENOMEM, "out of memory for the compressed gradients");
    z->out = z->send + len;
    z->recv = z->out + len;
    memset(z->resid, 0, r->n * sizeof *z->resid);
    memset(z->resid_mean, 0, own_len * sizeof *z->resid_mean);
    r->saved[0].mine = z->resid;
    r->saved[0].len = r->n;
    r->saved[1].mine = z->resid_mean;
    r->saved[1].len = own_len;
    return SN_OK;
}

int sn_wire_plan(struct sn_reducer *r)
{
    if (r->cfg.compress == SN_HALF_NONE || r->G < 2)
        return SN_OK;
    if (r->n + SN_REDUCE_CTRL > (size_t)INT_MAX)
        return sn_fail(SN_EINVAL, "--compress: %zu gradients do not fit MPI's int counts", r->n);
    /* every rank names the arrays (collectives save them), the group's hold them */
    r->compressed = true;
    r->n_saved = 2;
    r->saved[0] = (struct sn_reducer_saved){ .name = "residual" };
    r->saved[1] = (struct sn_reducer_saved){ .name = "residual_mean" };
    return r->in_group ? alloc_z(r) : SN_OK;
}

void sn_wire_free(struct sn_reducer *r)
{
    struct sn_wire_z *z = r->z;
    if (!z)
        return;
    sn_free(z->resid);
    sn_free(z->resid_mean);
    sn_free(z->send);
    free(z->counts);
    free(z->recv_at);
    free(z);
    r->z = NULL;
}

/* Values group rank me sends in a reduce-scatter and an allgather of
 * bucket b: every block but its own, then its own to the G - 1 others. */
static uint64_t rs_ag_values(const struct sn_reducer *r, int b, int me)
{
    const size_t len = r->b_hi[b] - r->b_lo[b];
    const int G = r->G;
    const size_t mine = block_at(len, G, me + 1) - block_at(len, G, me);
    return (uint64_t)(len - mine) + (uint64_t)mine * (uint64_t)(G - 1);
}

int sn_wire_start(struct sn_reducer *r, int b)
{
    const size_t lo = r->b_lo[b], hi = r->b_hi[b];
    struct sn_wire_z *z = r->z;
    if (!z) {
        r->bytes += 4 * rs_ag_values(r, b, sn_dist_group_rank(r->group));
        return sn_dist_iallreduce_sum_f32(r->arena + lo, hi - lo, r->group);
    }
    const size_t g_hi = hi < r->n ? hi : r->n, c_lo = lo > r->n ? lo : r->n;
    if (lo < g_hi)
        sn_half_compress(z->kind, r->arena + lo, z->resid + lo, z->send + lo, g_hi - lo);
    if (c_lo < hi)   /* the control words: whole numbers, no feedback */
        sn_half_compress(z->kind, r->arena + c_lo, NULL, z->send + c_lo, hi - c_lo);
    const int G = r->G;
    r->bytes += 2 * (uint64_t)(hi - lo - (size_t)z->counts[b * G + z->me]);
    return sn_dist_ialltoallv_u16(z->send + lo, z->counts + b * G, z->displs + b * G,
                                  z->recv + z->recv_at[b], z->rcounts + b * G,
                                  z->rdispls + b * G, r->group, &z->req_a[b]);
}

/* Bucket b's blocks have arrived: this rank's block of the mean, rounded
 * with feedback, to every rank. */
static int sum_block(struct sn_reducer *r, int b)
{
    struct sn_wire_z *z = r->z;
    const int G = r->G;
    const size_t m = (size_t)z->counts[b * G + z->me];
    const size_t at = r->b_lo[b] + (size_t)z->displs[b * G + z->me];
    const uint16_t *in = z->recv + z->recv_at[b];
    float *e = z->resid_mean + z->own_at[b];
    const float inv = 1.0f / (float)r->P;
    for (size_t i = 0; i < m; i++) {
        float s = sn_half_to_f32(z->kind, in[i]);
        for (int j = 1; j < G; j++)
            s += sn_half_to_f32(z->kind, in[(size_t)j * m + i]);
        if (at + i < r->n) {
            const float v = s * inv + e[i];
            z->out[at + i] = sn_half_from_f32(z->kind, v);
            e[i] = v - sn_half_to_f32(z->kind, z->out[at + i]);
        } else {
            z->out[at + i] = sn_half_from_f32(z->kind, s);
        }
    }
    r->bytes += 2 * (uint64_t)m * (uint64_t)(G - 1);
    return sn_dist_iallgatherv_u16(z->out + r->b_lo[b], z->counts + b * G, z->displs + b * G,
                                   r->group, &z->req_b[b]);
}

int sn_wire_progress(struct sn_reducer *r)
{
    int rc = sn_dist_progress();
    struct sn_wire_z *z = r->z;
    bool done = true;
    while (!rc && z && z->summed < r->next && done) {
        rc = sn_dist_test(z->req_a[z->summed], &done);
        if (!rc && done)
            rc = sum_block(r, z->summed++);
    }
    return rc;
}

int sn_wire_finish(struct sn_reducer *r)
{
    struct sn_wire_z *z = r->z;
    int rc = SN_OK;
    while (z && !rc && z->summed < r->n_buckets) {
        rc = sn_dist_wait(z->req_a[z->summed]);
        if (!rc)
            rc = sum_block(r, z->summed++);
    }
    int done = sn_dist_finish_all();
    rc = rc ? rc : done;
    if (rc)
        return rc;
    const float inv = 1.0f / (float)r->P;
    float *a = r->arena;
    if (!z) {   /* the sums into the mean: the multiply sn_dist_shared_mean makes */
        for (size_t i = 0; i < r->n + SN_REDUCE_CTRL; i++)
            a[i] *= inv;
        return SN_OK;
    }
    sn_half_expand(z->kind, z->out, a, r->n + SN_REDUCE_CTRL);
    for (size_t i = r->n; i < r->n + SN_REDUCE_CTRL; i++)
        a[i] *= inv;
    z->summed = 0;
    return SN_OK;
}
