/* dist_local: the dist interface for one process without MPI (WITH_MPI=0).
 * Every collective over a world of one is the identity. */
#include "dist/dist.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"

int sn_dist_init(int *argc, char ***argv) { (void)argc; (void)argv; return SN_OK; }
void sn_dist_finalize(void) {}
int sn_dist_rank(void) { return 0; }
int sn_dist_size(void) { return 1; }
int sn_dist_local_size(void) { return 1; }
const char *sn_dist_backend(void) { return "local"; }
int sn_dist_allreduce_mean_f32(float *buf, size_t len) { (void)buf; (void)len; return SN_OK; }
void sn_dist_set_chunk(size_t max_count) { (void)max_count; }
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
void sn_dist_shared_free(float *arena) { (void)arena; }
int sn_dist_agree(int rc) { return rc; }
int sn_dist_iallreduce_mean_f32(float *buf, size_t len) { (void)buf; (void)len; return SN_OK; }
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
int sn_dist_bcast(void *buf, size_t bytes, int root) { (void)buf; (void)bytes; (void)root; return SN_OK; }
int sn_dist_barrier(void) { return SN_OK; }

int sn_dist_gather(const void *mine, void *out, size_t each)
{
    memcpy(out, mine, each);
    return SN_OK;
}

_Noreturn void sn_dist_abort(int code)
{
    _Exit(code);
}
