/* simalloc: scratchnet's large buffers shared by every simulated rank.
 *
 * Every simulated rank is a thread of one process, so 1024 ranks' model
 * and gradient arenas would take 1024 times the memory.  Their values do
 * not matter to the timing (the replay executes no layer and, but with
 * --check, computes no sum), so from sim.shared_above bytes on, a rank's
 * k-th buffer is placed at the same address as every other rank's k-th
 * buffer, in one block that all ranks see (region.c): the memory of one
 * rank serves them all.  (SMPI's own SMPI_SHARED_MALLOC maps one physical
 * block again at each rank's addresses: no memory, but a page fault for
 * every page of every rank, which costs more than the simulation itself
 * on this machine.)
 *
 * src/core/tensor.c allocates with aligned_alloc, which the replay's link
 * sends here (-Wl,--wrap=aligned_alloc); malloc and free in the files
 * smpicc compiles are SMPI's (smpi_helpers.h), and its free is wrapped
 * too (-Wl,--wrap=smpi_shared_free) so that a shared buffer is never
 * handed back to the C library.  Buffers are 2 MB aligned within the
 * block (a huge page each, fewer faults).
 */
#include "sim.h"

#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>

void *sim_region(size_t *bytes);
void *__wrap_aligned_alloc(size_t align, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void __wrap_smpi_shared_free(void *p);
void __real_smpi_shared_free(void *p);

enum { ALIGN = 2 << 20 };

static size_t used;   /* this rank's next offset in the block */

/* The next bytes of the block at this rank's offset, or NULL. */
static void *shared(size_t bytes)
{
    size_t len;
    char *base = sim_region(&len);
    size_t need = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    if (!base || need > len - used)
        return NULL;
    void *p = base + used;
    used += need;
    return p;
}

static bool is_shared(const void *p)
{
    size_t len;
    const char *base = sim_region(&len);
    return base && (const char *)p >= base && (const char *)p < base + len;
}

void *sim_alloc(size_t bytes)
{
    void *p = sim.shared_above > 0 && bytes >= sim.shared_above ? shared(bytes) : NULL;
    return p ? p : malloc(bytes);
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
    void *p = sim.shared_above > 0 && size >= sim.shared_above ? shared(size) : NULL;
    return p ? p : __real_aligned_alloc(align, size);
}

void __wrap_smpi_shared_free(void *p)
{
    if (!is_shared(p))   /* a shared buffer lives as long as the process */
        __real_smpi_shared_free(p);
}

/* SMPI's copy of a message's bytes from sender to receiver (C++, hence the
 * symbol's mangled name; SimGrid 3.32). */
void sim_smpi_copy(void *comm, void *buff, size_t bytes)
    __asm__("_Z30smpi_comm_copy_buffer_callbackPN7simgrid6kernel8activity8CommImplEPvm");

/* Messages from sim.shared_above bytes on arrive without their bytes being
 * copied (unless values matter): their buffers are shared anyway, and an
 * MPI library's temporary buffers that nothing writes take no memory. */
static void copy_small(smx_activity_t comm, void *buff, size_t bytes)
{
    if (sim.values || sim.shared_above == 0 || bytes < sim.shared_above)
        sim_smpi_copy(comm, buff, bytes);
}

void sim_skip_large_copies(void)
{
    smpi_comm_set_copy_data_callback(copy_small);
}

void sim_busy(double seconds)
{
    if (seconds > 0)
        smpi_execute_flops(seconds * SIM_REF_FLOPS);
}

/* SMPI 3.32's MPI_Win_shared_query gives the window's start for every
 * rank, not rank r's part, while MPI_Win_allocate_shared lays the parts
 * out contiguously at the rank's index times its size.  scratchnet's
 * host arenas are the same size on every rank of a host, so rank r's part
 * is at start + r x size: the hierarchical reducer then reads its
 * neighbours' gradients where they are, as on a real node. */
int MPI_Win_shared_query(MPI_Win win, int rank, MPI_Aint *size, int *disp_unit, void *baseptr)
{
    int err = PMPI_Win_shared_query(win, rank, size, disp_unit, baseptr);
    if (err == MPI_SUCCESS && rank > 0)
        *(char **)baseptr += (size_t)rank * (size_t)*size;
    return err;
}

/* The ranks of a host wait for each other's flags in their shared arena
 * (sn_dist_host_wait) by spinning with sched_yield.  Simulated ranks are
 * threads that run one at a time and change hands only inside SMPI's
 * calls, so the spin would never let the awaited rank run: here a yield
 * is 0.1 us of simulated busy time, which hands over. */
int sched_yield(void)
{
    sim_busy(1e-7);
    return 0;
}
