/* tensor: shapes and aligned arenas (see tensor.h). */
#ifndef _DEFAULT_SOURCE   /* smpicc (bench/sim) defines it before this file */
#define _DEFAULT_SOURCE   /* MADV_HUGEPAGE (Linux) */
#endif
#include "core/tensor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

struct sn_shape sn_shape_make(int d0, int d1, int d2, int d3)
{
    struct sn_shape s = { 0, { 0, 0, 0, 0 } };
    int d[SN_MAX_DIMS] = { d0, d1, d2, d3 };
    for (int i = 0; i < SN_MAX_DIMS && d[i] > 0; i++)
        s.d[s.ndim++] = d[i];
    return s;
}

bool sn_shape_equal(const struct sn_shape *a, const struct sn_shape *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i])
            return false;
    return true;
}

char *sn_shape_str(const struct sn_shape *s, char *buf, size_t buf_len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->ndim && used < buf_len; i++) {
        int n = snprintf(buf + used, buf_len - used, i ? "x%d" : "%d", s->d[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

/* Buffers of HUGE bytes and more (activations, gradients, workspaces)
 * start on a 2 MB boundary and ask Linux for transparent huge pages (where
 * it grants them only on request, as Debian's default "madvise" does):
 * one TLB entry then maps 2 MB instead of 4 KB, so a pass over a 4 MB
 * activation needs 2 TLB entries, not 1,024. */
enum { HUGE = 2 << 20 };

/* bytes rounded up to the alignment sn_alloc_bytes uses; 0 if it wraps */
static size_t rounded_size(size_t bytes, size_t *align)
{
    if (bytes > SIZE_MAX - HUGE)   /* the rounding up below would wrap */
        return 0;
    *align = bytes >= HUGE ? HUGE : 64;
    return bytes ? (bytes + *align - 1) / *align * *align : 64;
}

void *sn_alloc_bytes_unzeroed(size_t bytes)
{
    size_t align, rounded = rounded_size(bytes, &align);
    void *p = rounded ? aligned_alloc(align, rounded) : NULL;
#ifdef MADV_HUGEPAGE
    if (p && align == HUGE)
        (void)madvise(p, rounded, MADV_HUGEPAGE);   /* a hint: refused is fine */
#endif
    return p;
}

/* The smallest limit in file of dir and of each folder above it up to
 * top (a limit on a parent cgroup holds for its children); 0 if none. */
static double limit_up(char *dir, size_t top, const char *file)
{
    double least = 0;
    for (;;) {
        char path[4300];
        FILE *f = (size_t)snprintf(path, sizeof path, "%s/%s", dir, file) < sizeof path
                ? fopen(path, "r") : NULL;
        char word[64] = "";
        if (f && fscanf(f, "%63s", word) == 1 && word[0] >= '0' && word[0] <= '9') {
            const double v = strtod(word, NULL);   /* "max": none */
            if (v > 0 && (least == 0 || v < least))
                least = v;
        }
        if (f)
            fclose(f);
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < top)
            return least;
        *slash = '\0';
    }
}

double sn_memory_cgroup_limit(const char *cgroup_file, const char *fs_root)
{
    FILE *f = fopen(cgroup_file, "r");
    char line[4096];
    double least = 0;
    while (f && fgets(line, sizeof line, f)) {   /* id:controllers:path */
        line[strcspn(line, "\n")] = '\0';
        char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
        if (!p)
            continue;
        *c = '\0';
        *p++ = '\0';
        const bool v2 = strcmp(line, "0") == 0 && c[1] == '\0';
        char ctl[256];
        snprintf(ctl, sizeof ctl, ",%s,", c + 1);
        if (!v2 && !strstr(ctl, ",memory,"))
            continue;
        char dir[4200];
        const int top = snprintf(dir, sizeof dir, "%s%s", fs_root, v2 ? "" : "/memory");
        if (top < 0 || (size_t)top >= sizeof dir ||
            snprintf(dir + top, sizeof dir - (size_t)top, "%s", strcmp(p, "/") ? p : "") < 0)
            continue;
        const double v = limit_up(dir, (size_t)top, v2 ? "memory.max" : "memory.limit_in_bytes");
        if (v > 0 && (least == 0 || v < least))
            least = v;
    }
    if (f)
        fclose(f);
    return least;
}

double sn_memory_half(void)
{
    double mem = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    /* a job's memory limit (Slurm --mem, a container's): the kernel ends a
     * process past it with SIGKILL, without a word */
    const double cg = sn_memory_cgroup_limit("/proc/self/cgroup", "/sys/fs/cgroup");
    if (cg > 0 && cg < mem)
        mem = cg;
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY &&
        (double)as.rlim_cur < mem)
        mem = (double)as.rlim_cur;
    return mem > 0 ? 0.5 * mem : 0.0;
}

void *sn_alloc_bytes(size_t bytes)
{
    size_t align, rounded = rounded_size(bytes, &align);
    void *p = sn_alloc_bytes_unzeroed(bytes);
    if (p)
        memset(p, 0, rounded);
    return p;
}

float *sn_alloc_f32(size_t len)
{
    if (len > ((size_t)-1) / sizeof(float) - 64)
        return NULL;
    return sn_alloc_bytes(len * sizeof(float));
}

void sn_free(void *p)
{
    free(p);
}

void sn_add_colsums(const float *m, size_t rows, size_t n, float *out)
{
    enum { COLS = 256 };
    const size_t blocks = (n + COLS - 1) / COLS;
#pragma omp parallel for schedule(static) if (rows * n > 65536)
    for (size_t b = 0; b < blocks; b++) {
        const size_t k0 = b * COLS, nk = n - k0 < COLS ? n - k0 : COLS;
        float acc[COLS] = { 0 };
        for (size_t i = 0; i < rows; i++) {
            const float *row = m + i * n + k0;
#pragma omp simd
            for (size_t k = 0; k < nk; k++)
                acc[k] += row[k];
        }
        for (size_t k = 0; k < nk; k++)
            out[k0 + k] += acc[k];
    }
}
