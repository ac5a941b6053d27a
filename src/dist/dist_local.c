/* dist_local: the dist interface for one process without MPI (WITH_MPI=0).
 * Every collective over a world of one is the identity; the one host has
 * one rank, its own leader, and its host arenas are plain memory. */
#include "dist/dist.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/tensor.h"

int sn_dist_init(int *argc, char ***argv) { (void)argc; (void)argv; return SN_OK; }
int sn_dist_init_alone(void) { return SN_OK; }
bool sn_dist_running(void) { return true; }   /* nothing to start: always up */
int sn_dist_rank(void) { return 0; }
int sn_dist_size(void) { return 1; }
int sn_dist_local_size(void) { return 1; }
const char *sn_dist_backend(void) { return "local"; }

const char *sn_dist_library(void) { return "none (built without MPI)"; }
int sn_dist_allreduce_mean_f32(float *buf, size_t len) { (void)buf; (void)len; return SN_OK; }
void sn_dist_set_chunk(size_t max_count) { (void)max_count; }

void sn_dist_hosts(struct sn_dist_hosts *out)
{
    *out = (struct sn_dist_hosts){ .n_hosts = 1, .local_size = 1, .max_local_size = 1 };
}

int sn_dist_fake_hosts(int k)
{
    return k < 0 ? sn_fail(SN_EUSAGE, "sn_dist_fake_hosts: %d hosts", k) : SN_OK;
}

int sn_dist_stop_send(int sig) { (void)sig; return SN_OK; }
int sn_dist_stop_received(void) { return 0; }
int sn_dist_stop_relay(int mine) { (void)mine; return 0; }
int sn_dist_stop_settle(void) { return SN_OK; }
void sn_dist_await_rank0(void) {}

int sn_dist_group_size(enum sn_dist_group g) { (void)g; return 1; }
int sn_dist_group_rank(enum sn_dist_group g) { (void)g; return 0; }

int sn_dist_shared_arena(size_t nfloats, float **out)
{
    (void)nfloats;
    *out = NULL;
    return SN_OK;
}

int sn_dist_shared_mean(float *arena, size_t lo, size_t hi)
{
    (void)arena; (void)lo; (void)hi;
    return sn_fail(SN_EDIST, "no shared arena without MPI");
}

/* Host arenas: this process's memory, n floats then the flags. */
static struct { float *mem; size_t n; } host[SN_DIST_MAX_WINDOWS];

int sn_dist_host_arena(size_t nfloats, float **out)
{
    *out = NULL;
    for (int i = 0; i < SN_DIST_MAX_WINDOWS; i++)
        if (!host[i].mem) {
            size_t n = (nfloats + 15) & ~(size_t)15;
            host[i].mem = sn_alloc_f32(n + SN_DIST_HOST_FLAGS);
            if (!host[i].mem)
                return sn_fail(SN_ENOMEM, "out of memory for a host arena of %zu floats", n);
            memset(host[i].mem, 0, (n + SN_DIST_HOST_FLAGS) * sizeof(float));
            host[i].n = n;
            *out = host[i].mem;
            return SN_OK;
        }
    return sn_fail(SN_EDIST, "more than %d shared arenas at once", SN_DIST_MAX_WINDOWS);
}

static int host_find(const float *mine)
{
    for (int i = 0; i < SN_DIST_MAX_WINDOWS; i++)
        if (mine && host[i].mem == mine)
            return i;
    return -1;
}

void sn_dist_shared_free(float *arena)
{
    int i = host_find(arena);
    if (i >= 0) {
        sn_free(host[i].mem);
        host[i].mem = NULL;
    }
}

float *sn_dist_host_part(const float *mine, int local_rank)
{
    int i = host_find(mine);
    return i >= 0 && local_rank == 0 ? host[i].mem : NULL;
}

static _Atomic uint32_t *flag(const float *mine, int slot)
{
    int i = host_find(mine);
    if (i < 0 || slot < 0 || slot >= SN_DIST_HOST_FLAGS)
        return NULL;
    return (_Atomic uint32_t *)(void *)(host[i].mem + host[i].n) + slot;
}

void sn_dist_host_post(const float *mine, int slot, uint32_t value)
{
    _Atomic uint32_t *f = flag(mine, slot);
    if (f)
        atomic_store(f, value);
}

bool sn_dist_host_reached(const float *mine, int r, int slot, uint32_t value)
{
    _Atomic uint32_t *f = r <= 0 ? flag(mine, slot) : NULL;
    uint32_t v = f ? atomic_load(f) : 0;
    return f && (value - v >= 0x80000000u || value == v);
}

int sn_dist_host_wait(const float *mine, int r, int slot, uint32_t value, int bucket)
{
    (void)bucket;
    if (sn_dist_host_reached(mine, r, slot, value))
        return SN_OK;
    return sn_fail(SN_EDIST, "sn_dist_host_wait: one rank waiting for itself");
}

int sn_dist_agree(int rc) { return rc; }
int sn_dist_iallreduce_sum_f32(float *buf, size_t len, enum sn_dist_group g)
{
    (void)buf; (void)len; (void)g;
    return SN_OK;
}

int sn_dist_ialltoallv_u16(const uint16_t *send, const int *scounts, const int *sdispls,
                           uint16_t *recv, const int *rcounts, const int *rdispls,
                           enum sn_dist_group g, int *req)
{
    (void)g; (void)rcounts;
    memcpy(recv + rdispls[0], send + sdispls[0], (size_t)scounts[0] * sizeof *send);
    *req = 0;
    return SN_OK;
}

int sn_dist_iallgatherv_u16(uint16_t *buf, const int *counts, const int *displs,
                            enum sn_dist_group g, int *req)
{
    (void)buf; (void)counts; (void)displs; (void)g;
    *req = 0;
    return SN_OK;
}

int sn_dist_test(int req, bool *done) { (void)req; *done = true; return SN_OK; }
int sn_dist_wait(int req) { (void)req; return SN_OK; }
int sn_dist_progress(void) { return SN_OK; }
int sn_dist_finish_all(void) { return SN_OK; }
int sn_dist_allreduce_sum_f64(double *buf, int n) { (void)buf; (void)n; return SN_OK; }
int sn_dist_allreduce_sum_i64(int64_t *buf, int n) { (void)buf; (void)n; return SN_OK; }
int sn_dist_allreduce_max_int(int *buf, int n) { (void)buf; (void)n; return SN_OK; }
int sn_dist_reduce_scatter_mean_f32(float *buf, const int *counts, const int *displs)
{
    (void)buf; (void)counts; (void)displs;
    return SN_OK;
}
int sn_dist_allgather_f32(float *buf, const int *counts, const int *displs)
{
    (void)buf; (void)counts; (void)displs;
    return SN_OK;
}
int sn_dist_gather_f32(const float *mine, float *out, const int *counts, const int *displs)
{
    (void)displs;
    memcpy(out, mine, (size_t)counts[0] * sizeof *out);
    return SN_OK;
}
int sn_dist_scatter_f32(const float *whole, float *mine, const int *counts, const int *displs)
{
    memcpy(mine, whole + displs[0], (size_t)counts[0] * sizeof *mine);
    return SN_OK;
}
int sn_dist_bcast(void *buf, size_t bytes, int root) { (void)buf; (void)bytes; (void)root; return SN_OK; }
int sn_dist_barrier(void) { return SN_OK; }

int sn_dist_gather(const void *mine, void *out, size_t each)
{
    memcpy(out, mine, each);
    return SN_OK;
}

void sn_dist_finalize(void)
{
    for (int i = 0; i < SN_DIST_MAX_WINDOWS; i++)
        sn_dist_shared_free(host[i].mem);
}

_Noreturn void sn_dist_abort(int code)
{
    _Exit(code);
}
