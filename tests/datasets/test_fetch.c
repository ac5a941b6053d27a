/* test_fetch: datasets/fetch.sh without the internet.  An unreachable
 * source is a clear error pointing to the offline route; a file whose
 * checksum is not the published one is refused and deleted; an unknown
 * dataset name is a usage error.  (The download itself needs the internet
 * and is not tested here.) */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *err_text(void) { return sn_test_slurp(sn_test_path("err.txt")); }

/* fetch.sh converts with $SN_BIN: the build under test (build-san under
 * make sanitize), not whatever build/ holds. */
static int setup(void **state)
{
    (void)state;
    return sn_test_use_bin();
}

static void test_fetch_offline(void **state)
{
    (void)state;
    int rc = sn_test_run("FETCH_BASE=http://127.0.0.1:9 sh datasets/fetch.sh fashion-mnist %s",
                         sn_test_path("out"));
    assert_int_equal(rc, 1);
    char *err = err_text();
    assert_non_null(strstr(err, "could not download http://127.0.0.1:9/train-images-idx3-ubyte.gz"));
    assert_non_null(strstr(err, "make data"));
    free(err);
    /* no partial file, and no folder it made, is left */
    assert_int_not_equal(sn_test_run("test -e %s", sn_test_path("out")), 0);
    /* a folder that was there stays, with what it held */
    assert_int_equal(sn_test_run("mkdir -p %s && echo mine > %s/keep", sn_test_path("out3"),
                                 sn_test_path("out3")), 0);
    rc = sn_test_run("FETCH_BASE=http://127.0.0.1:9 sh datasets/fetch.sh mnist %s",
                     sn_test_path("out3"));
    assert_int_equal(rc, 1);
    assert_int_equal(sn_test_run("grep -q mine %s/keep", sn_test_path("out3")), 0);
    assert_int_not_equal(sn_test_run("test -e %s/mnist-download", sn_test_path("out3")), 0);
}

static void test_fetch_bad_checksum(void **state)
{
    (void)state;
    char src[1100];
    snprintf(src, sizeof src, "%s/src", sn_test_tmpdir());
    int rc = sn_test_run("mkdir -p %s && echo junk > %s/train-images-idx3-ubyte.gz", src, src);
    assert_int_equal(rc, 0);
    rc = sn_test_run("FETCH_BASE=file://%s sh datasets/fetch.sh mnist %s", src,
                     sn_test_path("out2"));
    assert_int_equal(rc, 1);
    char *err = err_text();
    assert_non_null(strstr(err, "the publishers give f68b3c2dcbeaaa9fbdd348bbdeb94873: refused and deleted"));
    free(err);
    assert_int_not_equal(sn_test_run("test -e %s", sn_test_path("out2")), 0);   /* nothing kept */
}

static void test_fetch_usage(void **state)
{
    (void)state;
    int rc = sn_test_run("sh datasets/fetch.sh imagenet");
    assert_int_equal(rc, 2);
    char *err = err_text();
    assert_non_null(strstr(err, "usage: datasets/fetch.sh mnist|fashion-mnist|cifar10"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_offline),
        cmocka_unit_test(test_fetch_bad_checksum),
        cmocka_unit_test(test_fetch_usage),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
