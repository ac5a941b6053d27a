/* test_fsutil: inputs open only as regular files of bounded size, without
 * blocking on a FIFO; everything else is refused naming what it is. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"
#include "io/fsutil.h"

static void test_fsutil_open_input(void **state)
{
    (void)state;
    const char *reg = sn_test_path("reg.txt"), *fifo = sn_test_path("fifo");
    FILE *f = fopen(reg, "w");
    fputs("hello", f);
    fclose(f);
    size_t size = 0;
    assert_int_equal(sn_fs_open_input(reg, "text", 5, &f, &size), SN_OK);
    assert_int_equal(size, 5);
    fclose(f);
    assert_int_equal(sn_fs_open_input(reg, "text", 4, &f, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "larger than 4 bytes"));
    assert_int_equal(mkfifo(fifo, 0666), 0);
    /* no writer: a plain open would wait forever */
    assert_int_equal(sn_fs_open_input(fifo, "log", 100, &f, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "the log is a FIFO, not a regular file"));
    assert_int_equal(sn_fs_open_input("/dev/zero", "log", 100, &f, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "a character device"));
    assert_int_equal(sn_fs_open_input(sn_test_tmpdir(), "image", 100, &f, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "a folder"));
    assert_int_equal(sn_fs_open_input(sn_test_path("missing"), "image", 100, &f, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "missing: cannot open: No such file or directory"));
    assert_int_equal(sn_fs_check_input(reg, "file", 5), SN_OK);
    assert_int_equal(sn_fs_check_input(fifo, "file", 5), SN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fsutil_open_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
