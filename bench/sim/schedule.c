/* schedule: collectives as schedules of point-to-point rounds (see schedule.h). */
#include "schedule.h"

#include <stdlib.h>
#include <string.h>

#include "sim.h"

static struct coll colls[SCHED_MAX_COLLS];

int sched_ceil_log2(int p)
{
    int r = 0;
    while ((1 << r) < p)
        r++;
    return r;
}

int sched_floor_pow2(int p)
{
    int q = 1;
    while (q * 2 <= p)
        q *= 2;
    return q;
}

struct coll *sched_get(size_t tmp_floats, int tag)
{
    struct coll *c = colls;
    while (c < colls + SCHED_MAX_COLLS && c->used)
        c++;
    if (c == colls + SCHED_MAX_COLLS)
        return NULL;
    if (c->tmp_cap < tmp_floats) {
        free(c->tmp);   /* a buffer of sim_alloc: free() knows both kinds */
        c->tmp = sim_alloc(tmp_floats * sizeof(float));
        c->tmp_cap = c->tmp ? tmp_floats : 0;
        if (!c->tmp)
            return NULL;
    }
    c->used = true;
    c->done = false;
    c->n_a = c->pos = c->n_req = 0;
    c->tag = tag;
    c->comm = MPI_COMM_WORLD;
    c->type = MPI_FLOAT;
    return c;
}

/* libnbc allocates per call; the simulator keeps a slot's buffers, since
 * an allocation per bucket would cost more than the simulation itself. */
void sched_put(struct coll *c)
{
    c->used = c->done = false;
}

struct coll *sched_of(MPI_Request r)
{
    struct coll *c = (struct coll *)(void *)r;
    return c >= colls && c < colls + SCHED_MAX_COLLS ? c : NULL;
}

static int add(struct coll *c, enum sched_kind k, float *buf, const float *src, int count,
               int peer, bool ends_round)
{
    if (c->n_a == c->cap_a) {
        int cap = c->cap_a ? 2 * c->cap_a : 64;
        struct sched_action *a = realloc(c->a, (size_t)cap * sizeof *a);
        if (!a)
            return MPI_ERR_NO_MEM;
        c->a = a;
        c->cap_a = cap;
    }
    c->a[c->n_a++] = (struct sched_action){ k, buf, src, count, peer, ends_round };
    return MPI_SUCCESS;
}

/* End the round at the last action added (NBC_Sched_barrier). */
static void end_round(struct coll *c)
{
    if (c->n_a > 0)
        c->a[c->n_a - 1].ends_round = true;
}

int sched_start_round(struct coll *c)
{
    c->n_req = 0;
    for (; c->pos < c->n_a; c->pos++) {
        struct sched_action *a = &c->a[c->pos];
        int err = MPI_SUCCESS;
        switch (a->kind) {
        case SCHED_SEND:
        case SCHED_RECV:
            if (c->n_req == c->cap_req) {   /* a linear round posts 2 (P - 1) */
                int cap = c->cap_req ? 2 * c->cap_req : 64;
                MPI_Request *r = realloc(c->req, (size_t)cap * sizeof *r);
                if (!r)
                    return MPI_ERR_NO_MEM;
                c->req = r;
                c->cap_req = cap;
            }
            err = a->kind == SCHED_SEND
                      ? PMPI_Isend(a->buf, a->count, c->type, a->peer, c->tag, c->comm,
                                   &c->req[c->n_req++])
                      : PMPI_Irecv(a->buf, a->count, c->type, a->peer, c->tag, c->comm,
                                   &c->req[c->n_req++]);
            break;
        case SCHED_OP:
            sim_busy(a->count * sim.op_s);
            if (sim.values)
                for (int i = 0; i < a->count; i++)
                    a->buf[i] += a->src[i];
            break;
        case SCHED_COPY:
            sim_busy(a->count * sim.copy_s);
            if (sim.values)
                memmove(a->buf, a->src, (size_t)a->count * sizeof *a->buf);
            break;
        }
        if (err != MPI_SUCCESS)
            return err;
        if (a->ends_round) {
            c->pos++;
            break;
        }
    }
    return MPI_SUCCESS;
}

bool sched_round_complete(struct coll *c)
{
    for (int i = 0; i < c->n_req; i++) {
        if (c->req[i] == MPI_REQUEST_NULL)
            continue;
        int flag = 0;
        PMPI_Test(&c->req[i], &flag, MPI_STATUS_IGNORE);
        if (!flag)
            return false;
    }
    return true;
}

int sched_run(struct coll *c)
{
    int rc = c->n_a > 0 ? sched_start_round(c) : MPI_SUCCESS;
    while (rc == MPI_SUCCESS && c->n_a > 0) {
        if (c->n_req)
            rc = PMPI_Waitall(c->n_req, c->req, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS || c->pos >= c->n_a)
            break;
        rc = sched_start_round(c);
    }
    c->done = true;
    return rc;
}

/* libnbc's allred_sched_diss: binomial reduce to rank 0, binomial broadcast. */
int sched_allreduce_binomial(struct coll *c, int rank, int P, const float *sbuf, float *rbuf,
                             int count, bool in_place)
{
    const int maxr = sched_ceil_log2(P);
    float *lbuf, *tbuf;   /* what this rank has reduced so far; where the next part arrives */
    int rc = MPI_SUCCESS;
    if (maxr % 2 == 0) {   /* so that rank 0 ends with the result in rbuf */
        tbuf = c->tmp;
        lbuf = rbuf;
    } else {
        lbuf = c->tmp;
        tbuf = rbuf;
        if (in_place)
            rc = add(c, SCHED_COPY, c->tmp, rbuf, count, -1, true);
    }
    bool first = true;
    for (int r = 1; r <= maxr && !rc; r++) {
        if (rank % (1 << r) == 0) {
            int peer = rank + (1 << (r - 1));
            if (peer >= P)
                continue;
            rc = add(c, SCHED_RECV, tbuf, NULL, count, peer, true);
            if (!rc)
                rc = add(c, SCHED_OP, tbuf, first && !in_place ? sbuf : lbuf, count, -1, true);
            first = false;
            float *t = tbuf;
            tbuf = lbuf;
            lbuf = t;
        } else {
            rc = add(c, SCHED_SEND, first && !in_place ? (float *)sbuf : lbuf, NULL, count,
                     rank - (1 << (r - 1)), false);
            break;
        }
    }
    if (rank != 0 && !rc) {
        for (int r = 0; r < maxr && !rc; r++)
            if (rank >= (1 << r) && rank < (1 << (r + 1)))
                rc = add(c, SCHED_RECV, rbuf, NULL, count, rank - (1 << r), false);
        end_round(c);
    }
    for (int r = 0; r < maxr && !rc; r++)
        if ((rank + (1 << r) < P && rank < (1 << r)) || rank == 0)
            rc = add(c, SCHED_SEND, rbuf, NULL, count, rank + (1 << r), false);
    return rc;
}

/* libnbc's allred_sched_ring: P - 1 rounds of reduce-and-pass, P - 1 of pass. */
int sched_allreduce_ring(struct coll *c, int rank, int P, const float *sbuf, float *rbuf,
                         int count, bool in_place)
{
    int *off = malloc((size_t)(P + 1) * sizeof *off);
    if (!off)
        return MPI_ERR_NO_MEM;
    off[0] = 0;
    for (int i = 0; i < P; i++)   /* the remainder goes to the first segments */
        off[i + 1] = off[i] + count / P + (i < count % P);
    const int to = (rank + 1) % P, from = (rank - 1 + P) % P;
    int rc = MPI_SUCCESS;
    for (int round = 0; round < 2 * P - 2 && !rc; round++) {
        int se = (rank + 1 - round + 2 * P) % P, re = (rank - round + 2 * P) % P;
        int sn = off[se + 1] - off[se], rn = off[re + 1] - off[re];
        const float *src = round == 0 && !in_place ? sbuf : rbuf;
        rc = add(c, SCHED_SEND, (float *)src + off[se], NULL, sn, to, false);
        if (rc)
            break;
        if (round < P - 1) {   /* receive a partial sum and add this rank's part */
            float *into = in_place ? c->tmp : rbuf + off[re];
            rc = add(c, SCHED_RECV, into, NULL, rn, from, true);
            if (!rc)
                rc = add(c, SCHED_OP, rbuf + off[re], in_place ? c->tmp : sbuf + off[re], rn, -1,
                         true);
        } else {
            rc = add(c, SCHED_RECV, rbuf + off[re], NULL, rn, from, true);
        }
    }
    free(off);
    return rc;
}

/* libnbc's allred_sched_redscat_allgather (and the same exchanges as Open
 * MPI's blocking ompi_coll_base_allreduce_intra_redscat_allgather):
 * Rabenseifner's algorithm.  P' = the largest power of two <= P; the first
 * 2 (P - P') ranks pair up first, the odd ones then wait for the result. */
int sched_allreduce_rabenseifner(struct coll *c, int rank, int P, const float *sbuf,
                                 float *rbuf, int count, bool in_place)
{
    int rc = MPI_SUCCESS;
    if (!in_place)
        rc = add(c, SCHED_COPY, rbuf, sbuf, count, -1, true);
    const int pof2 = sched_floor_pow2(P), rem = P - pof2;
    const int lh = count / 2, rh = count - lh;
    int vrank;
    if (rank < 2 * rem && rank % 2) {   /* odd: gives its data to rank - 1, waits for the end */
        if (!rc) rc = add(c, SCHED_SEND, rbuf, NULL, lh, rank - 1, false);
        if (!rc) rc = add(c, SCHED_RECV, c->tmp + lh, NULL, rh, rank - 1, true);
        if (!rc) rc = add(c, SCHED_OP, rbuf + lh, c->tmp + lh, rh, -1, true);
        if (!rc) rc = add(c, SCHED_SEND, rbuf + lh, NULL, rh, rank - 1, true);
        vrank = -1;
    } else if (rank < 2 * rem) {
        if (!rc) rc = add(c, SCHED_SEND, rbuf + lh, NULL, rh, rank + 1, false);
        if (!rc) rc = add(c, SCHED_RECV, c->tmp, NULL, lh, rank + 1, true);
        if (!rc) rc = add(c, SCHED_OP, rbuf, c->tmp, lh, -1, true);
        if (!rc) rc = add(c, SCHED_RECV, rbuf + lh, NULL, rh, rank + 1, true);
        vrank = rank / 2;
    } else {
        vrank = rank - rem;
    }
    if (vrank >= 0) {
        const int nsteps = sched_ceil_log2(pof2);
        int ri[32], si[32], rcn[32], scn[32];
        int step = 0, wsize = count;
        ri[0] = si[0] = 0;
        for (int mask = 1; mask < pof2 && !rc; mask <<= 1) {   /* reduce-scatter */
            int vdest = vrank ^ mask, dest = vdest < rem ? vdest * 2 : vdest + rem;
            if (rank < dest) {
                rcn[step] = wsize / 2;
                scn[step] = wsize - rcn[step];
                si[step] = ri[step] + rcn[step];
            } else {
                scn[step] = wsize / 2;
                rcn[step] = wsize - scn[step];
                ri[step] = si[step] + scn[step];
            }
            rc = add(c, SCHED_SEND, rbuf + si[step], NULL, scn[step], dest, false);
            if (!rc) rc = add(c, SCHED_RECV, c->tmp + ri[step], NULL, rcn[step], dest, true);
            if (!rc) rc = add(c, SCHED_OP, rbuf + ri[step], c->tmp + ri[step], rcn[step], -1, true);
            if (step + 1 < nsteps) {
                ri[step + 1] = si[step + 1] = ri[step];
                wsize = rcn[step];
                step++;
            }
        }
        step = nsteps - 1;
        for (int mask = pof2 >> 1; mask > 0 && !rc; mask >>= 1) {   /* allgather */
            int vdest = vrank ^ mask, dest = vdest < rem ? vdest * 2 : vdest + rem;
            rc = add(c, SCHED_SEND, rbuf + ri[step], NULL, rcn[step], dest, false);
            if (!rc) rc = add(c, SCHED_RECV, rbuf + si[step], NULL, scn[step], dest, true);
            step--;
        }
    }
    if (rank < 2 * rem && !rc)   /* the whole result to the odd ranks that sat out */
        rc = add(c, rank % 2 ? SCHED_RECV : SCHED_SEND, rbuf, NULL, count,
                 rank % 2 ? rank - 1 : rank + 1, false);
    return rc;
}

/* Ring reduce-scatter (Open MPI's ompi_coll_base_reduce_scatter_intra_ring
 * moves the same blocks): at step k rank r passes the partial sum of block
 * r - k to r + 1 and adds its own part to block r - k - 1 from r - 1; after
 * P - 1 steps block r is complete.  Scratch: the accumulator (total floats)
 * and a block. */
int sched_rs_ring(struct coll *c, int rank, int P, float *buf, const int *counts,
                  const int *displs)
{
    const int total = displs[P - 1] + counts[P - 1];
    float *acc = c->tmp, *in = c->tmp + total;
    const int to = (rank + 1) % P, from = (rank - 1 + P) % P;
    int rc = add(c, SCHED_COPY, acc, buf, total, -1, true);
    for (int k = 1; k < P && !rc; k++) {
        int sb = (rank - k + 2 * P) % P, rb = (rank - k - 1 + 2 * P) % P;
        rc = add(c, SCHED_SEND, acc + displs[sb], NULL, counts[sb], to, false);
        if (!rc) rc = add(c, SCHED_RECV, in, NULL, counts[rb], from, true);
        if (!rc) rc = add(c, SCHED_OP, acc + displs[rb], in, counts[rb], -1, true);
    }
    if (!rc)
        rc = add(c, SCHED_COPY, buf, acc + displs[rank], counts[rank], -1, true);
    return rc;
}

/* Reverse the low nbits bits of x (ompi_mirror_perm). */
static int mirror(int x, int nbits)
{
    int y = 0;
    for (int i = 0; i < nbits; i++)
        y |= ((x >> i) & 1) << (nbits - 1 - i);
    return y;
}

/* The counts of blocks [lo, hi] of the P' blocks (a block of an excluded
 * pair covers both ranks' counts). */
static int span_of(const int *counts, const int *displs, int rem, int lo, int hi, int *first)
{
    lo = lo < rem ? lo * 2 : lo + rem;
    hi = hi < rem ? hi * 2 + 1 : hi + rem;
    *first = displs[lo];
    return displs[hi] + counts[hi] - displs[lo];
}

/* Open MPI's ompi_coll_base_reduce_scatter_intra_butterfly: the first 2 (P -
 * P') ranks fold pairwise (the even ones send the whole vector and sit
 * out), log2 P' rounds of recursive halving, then each rank trades the
 * block it holds for its own with its mirror rank.  Scratch: 2 x total. */
int sched_rs_butterfly(struct coll *c, int rank, int P, float *buf, const int *counts,
                       const int *displs)
{
    const int total = displs[P - 1] + counts[P - 1];
    const int pof2 = sched_floor_pow2(P), rem = P - pof2, bits = sched_ceil_log2(pof2);
    float *psend = c->tmp, *precv = c->tmp + total;
    int rc = add(c, SCHED_COPY, psend, buf, total, -1, true), vrank;
    if (rank < 2 * rem && rank % 2 == 0) {
        if (!rc) rc = add(c, SCHED_SEND, psend, NULL, total, rank + 1, true);
        vrank = -1;
    } else if (rank < 2 * rem) {
        if (!rc) rc = add(c, SCHED_RECV, precv, NULL, total, rank - 1, true);
        if (!rc) rc = add(c, SCHED_OP, psend, precv, total, -1, true);
        vrank = rank / 2;
    } else {
        vrank = rank - rem;
    }
    if (vrank < 0) {   /* excluded: the result comes from the partner's mirror */
        int vpeer = mirror((rank + 1) / 2, bits), peer = vpeer < rem ? vpeer * 2 + 1 : vpeer + rem;
        return rc ? rc : add(c, SCHED_RECV, buf, NULL, counts[rank], peer, true);
    }
    int nblocks = pof2, send_index = 0, recv_index = 0;
    for (int mask = 1; mask < pof2 && !rc; mask <<= 1) {
        int vpeer = vrank ^ mask, peer = vpeer < rem ? vpeer * 2 + 1 : vpeer + rem;
        nblocks /= 2;
        if ((vrank & mask) == 0)
            send_index += nblocks;
        else
            recv_index += nblocks;
        int sd, rd;
        int sn = span_of(counts, displs, rem, send_index, send_index + nblocks - 1, &sd);
        int rn = span_of(counts, displs, rem, recv_index, recv_index + nblocks - 1, &rd);
        rc = add(c, SCHED_SEND, psend + sd, NULL, sn, peer, false);
        if (!rc) rc = add(c, SCHED_RECV, precv + rd, NULL, rn, peer, true);
        if (!rc && vrank < vpeer) {   /* precv = psend + precv, and they swap */
            rc = add(c, SCHED_OP, precv + rd, psend + rd, rn, -1, true);
            float *t = psend;
            psend = precv;
            precv = t;
        } else if (!rc) {
            rc = add(c, SCHED_OP, psend + rd, precv + rd, rn, -1, true);
        }
        send_index = recv_index;
    }
    int vpeer = mirror(vrank, bits), peer = vpeer < rem ? vpeer * 2 + 1 : vpeer + rem;
    int index = send_index < rem ? 2 * send_index : rem + send_index;
    if (vpeer < rem && !rc) {   /* this rank holds the block of an excluded rank too */
        rc = add(c, SCHED_SEND, psend + displs[index], NULL, counts[index], peer - 1, false);
        index++;
    }
    if (rc)
        return rc;
    if (vpeer != vrank) {
        rc = add(c, SCHED_SEND, psend + displs[index], NULL, counts[index], peer, false);
        if (!rc) rc = add(c, SCHED_RECV, buf, NULL, counts[rank], peer, true);
    } else {
        end_round(c);
        rc = add(c, SCHED_COPY, buf, psend + displs[rank], counts[rank], -1, true);
    }
    return rc;
}

/* Ring allgatherv: at step i, block r - i goes to r + 1 and block r - i - 1
 * comes from r - 1. */
int sched_ag_ring(struct coll *c, int rank, int P, float *buf, const int *counts,
                  const int *displs)
{
    const int to = (rank + 1) % P, from = (rank - 1 + P) % P;
    int rc = MPI_SUCCESS;
    for (int i = 0; i < P - 1 && !rc; i++) {
        int sb = (rank - i + P) % P, rb = (rank - i - 1 + P) % P;
        rc = add(c, SCHED_SEND, buf + displs[sb], NULL, counts[sb], to, false);
        if (!rc) rc = add(c, SCHED_RECV, buf + displs[rb], NULL, counts[rb], from, true);
    }
    return rc;
}

/* Blocks first, first + 1, ..., first + n - 1 (mod P) as at most two
 * contiguous pieces (blocks are laid out in rank order). */
static int pieces(int first, int n, int P, const int *counts, const int *displs, int off[2],
                  int len[2])
{
    int k = 0, b = first;
    while (n > 0) {
        int run = b + n <= P ? n : P - b;
        off[k] = displs[b];
        len[k] = displs[b + run - 1] + counts[b + run - 1] - displs[b];
        k++;
        n -= run;
        b = (b + run) % P;
    }
    return k;
}

/* Open MPI's ompi_coll_base_allgatherv_intra_bruck: at step k rank r sends
 * the 2^k blocks it holds (r ... r + 2^k - 1) to r - 2^k and receives the
 * next ones from r + 2^k; log2 P steps.  Open MPI sends each set as one
 * message of an indexed datatype; here a set that wraps past the last rank
 * goes as two messages. */
int sched_ag_bruck(struct coll *c, int rank, int P, float *buf, const int *counts,
                   const int *displs)
{
    int rc = MPI_SUCCESS;
    for (int d = 1; d < P && !rc; d <<= 1) {
        int n = d <= P - d ? d : P - d;
        int so[2], sl[2], ro[2], rl[2];
        int ns = pieces(rank, n, P, counts, displs, so, sl);
        int nr = pieces((rank + d) % P, n, P, counts, displs, ro, rl);
        for (int i = 0; i < ns && !rc; i++)
            rc = add(c, SCHED_SEND, buf + so[i], NULL, sl[i], (rank - d + P) % P, false);
        for (int i = 0; i < nr && !rc; i++)
            rc = add(c, SCHED_RECV, buf + ro[i], NULL, rl[i], (rank + d) % P, false);
        end_round(c);
    }
    return rc;
}

/* Open MPI's ompi_coll_base_allgatherv_intra_neighborexchange (P even; a
 * ring otherwise, as Open MPI falls back): P / 2 steps, each trading with
 * one of the two neighbours in turn, two blocks at a time after the first. */
int sched_ag_neighbor(struct coll *c, int rank, int P, float *buf, const int *counts,
                      const int *displs)
{
    if (P % 2)
        return sched_ag_ring(c, rank, P, buf, counts, displs);
    int nb[2], from[2], step[2];
    if (rank % 2 == 0) {
        nb[0] = (rank + 1) % P;
        nb[1] = (rank - 1 + P) % P;
        from[0] = from[1] = rank;
        step[0] = 2;
        step[1] = -2;
    } else {
        nb[0] = (rank - 1 + P) % P;
        nb[1] = (rank + 1) % P;
        from[0] = from[1] = nb[0];
        step[0] = -2;
        step[1] = 2;
    }
    int rc = add(c, SCHED_SEND, buf + displs[rank], NULL, counts[rank], nb[0], false);
    if (!rc) rc = add(c, SCHED_RECV, buf + displs[nb[0]], NULL, counts[nb[0]], nb[0], true);
    int send_from = rank % 2 == 0 ? rank : from[0];
    for (int i = 1; i < P / 2 && !rc; i++) {
        int p = i % 2;
        from[p] = (from[p] + step[p] + P) % P;
        int sl = counts[send_from] + counts[send_from + 1];
        int rl = counts[from[p]] + counts[from[p] + 1];
        rc = add(c, SCHED_SEND, buf + displs[send_from], NULL, sl, nb[p], false);
        if (!rc) rc = add(c, SCHED_RECV, buf + displs[from[p]], NULL, rl, nb[p], true);
        send_from = from[p];
    }
    return rc;
}

int sched_alltoallv_linear(struct coll *c, int rank, int P, const void *sbuf, const int *scounts,
                           const int *sdispls, void *rbuf, const int *rcounts,
                           const int *rdispls, size_t elem)
{
    int rc = MPI_SUCCESS;
    char *r = rbuf;
    const char *s = sbuf;
    for (int q = 0; q < P && !rc; q++) {
        if (q == rank) {   /* own block: NBC_Sched_copy (values only with --check) */
            if (sim.values)
                memmove(r + (size_t)rdispls[q] * elem, s + (size_t)sdispls[q] * elem,
                        (size_t)scounts[q] * elem);
            sim_busy((double)scounts[q] * (double)elem / sizeof(float) * sim.copy_s);
            continue;
        }
        if (rcounts[q])
            rc = add(c, SCHED_RECV, (float *)(void *)(r + (size_t)rdispls[q] * elem), NULL,
                     rcounts[q], q, false);
        if (!rc && scounts[q])
            rc = add(c, SCHED_SEND, (float *)(void *)(s + (size_t)sdispls[q] * elem), NULL,
                     scounts[q], q, false);
    }
    end_round(c);
    return rc;
}

int sched_allgatherv_linear(struct coll *c, int rank, int P, void *buf, const int *counts,
                            const int *displs, size_t elem)
{
    int rc = MPI_SUCCESS;
    char *b = buf;
    for (int q = 0; q < P && !rc; q++) {
        if (q == rank)
            continue;
        if (counts[q])
            rc = add(c, SCHED_RECV, (float *)(void *)(b + (size_t)displs[q] * elem), NULL,
                     counts[q], q, false);
        if (!rc && counts[rank])
            rc = add(c, SCHED_SEND, (float *)(void *)(b + (size_t)displs[rank] * elem), NULL,
                     counts[rank], q, false);
    }
    end_round(c);
    return rc;
}
