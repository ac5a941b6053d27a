/* test_tensor: the aligned allocations every buffer comes from.  Zeroed
 * ones are zero; the unzeroed kind (a dataset held in memory, filled whole
 * by its reads) touches no page, so allocating gigabytes takes no time in
 * which a stop request would go unseen. */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/tensor.h"

/* This process's resident memory in MiB (VmRSS). */
static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double mb = -1.0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            mb = atof(line + 6) / 1024.0;
    if (f)
        fclose(f);
    return mb;
}

static void test_tensor_alloc(void **state)
{
    (void)state;
    for (size_t bytes = 1; bytes < ((size_t)8 << 20); bytes = bytes * 7 + 3) {
        unsigned char *p = sn_alloc_bytes(bytes);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        for (size_t i = 0; i < bytes; i++)
            assert_int_equal(p[i], 0);
        sn_free(p);
    }
    assert_null(sn_alloc_bytes(SIZE_MAX - 5));   /* the rounding up would wrap */
    assert_null(sn_alloc_bytes_unzeroed(SIZE_MAX - 5));
    assert_null(sn_alloc_f32(SIZE_MAX / 2));
}

static void test_tensor_unzeroed_touches_nothing(void **state)
{
    (void)state;
    const size_t gib = (size_t)1 << 30;
    const double before = rss_mb();
    unsigned char *p = sn_alloc_bytes_unzeroed(gib);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % (2u << 20), 0);   /* huge-page aligned */
#ifndef __SANITIZE_ADDRESS__   /* AddressSanitizer writes the block's shadow */
    assert_true(rss_mb() - before < 64.0);   /* zeroing it made it 1024 */
#else
    (void)before;
#endif
    p[gib - 1] = 1;   /* usable to its end */
    sn_free(p);
}

/* Half of what the process may use: the address-space limit when it is
 * the lower (a forked child sets one, so this process keeps its own). */
static void test_tensor_memory_half(void **state)
{
    (void)state;
    const double half = sn_memory_half();
    const double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    assert_true(half > 0 && half <= 0.5 * phys);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit as = { (rlim_t)1 << 30, (rlim_t)1 << 30 };
        _exit(setrlimit(RLIMIT_AS, &as) != 0 || sn_memory_half() != (double)(1 << 29));
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* A job's cgroup limits: v1's and v2's files, the least of the cgroup's
 * and each above it ("max" and v1's huge number: none). */
static void test_tensor_cgroup_limit(void **state)
{
    (void)state;
    const char *t = sn_test_tmpdir();
    assert_int_equal(sn_test_run("cd %s && mkdir -p v1/memory/a/b v2/x/y && "
                                 "echo 9223372036854771712 > v1/memory/memory.limit_in_bytes && "
                                 "echo 500000000 > v1/memory/a/memory.limit_in_bytes && "
                                 "echo 1000000000 > v1/memory/a/b/memory.limit_in_bytes && "
                                 "echo max > v2/x/y/memory.max && echo 300000000 > v2/x/memory.max && "
                                 "printf '4:memory:/a/b\\n1:cpu:/\\n0::/\\n' > cg1 && "
                                 "printf '0::/x/y\\n' > cg2 && printf '0::/\\n' > cg3", t), 0);
    char cg[1100], root[1100];
    snprintf(cg, sizeof cg, "%s/cg1", t);
    snprintf(root, sizeof root, "%s/v1", t);
    assert_true(sn_memory_cgroup_limit(cg, root) == 500000000.0);
    snprintf(cg, sizeof cg, "%s/cg2", t);
    snprintf(root, sizeof root, "%s/v2", t);
    assert_true(sn_memory_cgroup_limit(cg, root) == 300000000.0);
    snprintf(cg, sizeof cg, "%s/cg3", t);
    assert_true(sn_memory_cgroup_limit(cg, root) == 0.0);
    assert_true(sn_memory_cgroup_limit("/nonexistent", root) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_alloc),
        cmocka_unit_test(test_tensor_unzeroed_touches_nothing),
        cmocka_unit_test(test_tensor_memory_half),
        cmocka_unit_test(test_tensor_cgroup_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
