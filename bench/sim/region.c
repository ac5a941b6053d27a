/* region: one block of memory that every simulated rank sees (see
 * simalloc.c).
 *
 * SMPI loads one private copy of the replay per rank, so that each rank
 * has its own global variables; this file is built as a shared library of
 * its own (build/bench/sim/libsimregion.so), which SMPI loads once, so its
 * one variable is the same for every rank.  The block is reserved, not
 * committed: a page takes memory when a rank first touches it, and then
 * serves every rank, which all place their shared buffers at the same
 * offsets.  On this machine every page fault is expensive (a virtual
 * machine's), which is why the ranks share addresses, not only pages.
 */
#define _DEFAULT_SOURCE   /* MAP_NORESERVE, MADV_HUGEPAGE */
#include <stddef.h>
#include <sys/mman.h>

void *sim_region(size_t *bytes);

/* The block (*bytes long), mapped at the first call; NULL if it cannot be. */
void *sim_region(size_t *bytes)
{
    static void *base;
    static size_t len = (size_t)16 << 30;   /* address space only */
    if (!base) {
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
#ifdef MADV_HUGEPAGE
        (void)madvise(p, len, MADV_HUGEPAGE);   /* fewer faults: a hint */
#endif
        base = p;
    }
    *bytes = len;
    return base;
}
