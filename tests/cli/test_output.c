/* test_output: rank 0's training lines never wait for a reader.  On a
 * pipe or a pseudo-terminal (what Open MPI's mpirun gives a rank) that is
 * full, cli_output_ready says no and cli_output_now returns at once
 * without writing; once the reader takes the data, the line goes out.
 * progress drops the lines it cannot write and says how many in the first
 * line that gets through.  An alarm ends the program if anything waits. */
#define _XOPEN_SOURCE 700   /* posix_openpt, grantpt, unlockpt, ptsname */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/output.h"
#include "cli/progress.h"

/* Write to fd until it takes no more (O_NONBLOCK for the filling only),
 * then make it blocking again, as a rank's stdout is. */
static void fill(int fd)
{
    static char block[4096];
    memset(block, 'x', sizeof block);
    int fl = fcntl(fd, F_GETFL);
    assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
    while (write(fd, block, sizeof block) > 0)
        ;
    while (write(fd, block, 1) > 0)   /* the last partly used block too */
        ;
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    assert_int_equal(fcntl(fd, F_SETFL, fl), 0);
}

/* Read everything fd holds now; returns it (malloc'd, NUL-terminated). */
static char *drain(int fd)
{
    size_t cap = 1 << 20, len = 0;
    char *all = malloc(cap + 1);
    assert_non_null(all);
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    ssize_t n;
    while (len < cap && (n = read(fd, all + len, cap - len)) > 0)
        len += (size_t)n;
    fcntl(fd, F_SETFL, fl);
    all[len] = '\0';
    return all;
}

/* A full pipe: not ready, the line is not written and nothing waits;
 * drained, ready, and the line arrives whole. */
static void test_output_full_pipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    FILE *out = fdopen(p[1], "w");
    assert_non_null(out);
    assert_true(cli_output_ready(p[1]));
    fill(p[1]);
    alarm(20);
    assert_false(cli_output_ready(p[1]));
    assert_false(cli_output_now(out, "a line\n"));
    alarm(0);
    free(drain(p[0]));
    assert_true(cli_output_ready(p[1]));
    assert_true(cli_output_now(out, "a line\n"));
    char *got = drain(p[0]);
    assert_string_equal(got, "a line\n");
    free(got);
    fclose(out);
    close(p[0]);
}

/* The same on a pseudo-terminal whose master nobody reads. */
static void test_output_full_pty(void **state)
{
    (void)state;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) {
        printf("skipped: no pseudo-terminal here (%s)\n", strerror(errno));
        skip();
    }
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    FILE *out = fdopen(slave, "w");
    assert_non_null(out);
    assert_true(cli_output_ready(slave));
    /* the kernel moves a pty's data on to the master side in the background,
     * which frees room again just after a fill on a busy machine: filled
     * until it stays full */
    bool full = false;
    for (int i = 0; i < 100 && !full; i++) {
        fill(slave);
        nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
        full = !cli_output_ready(slave);
    }
    assert_true(full);
    alarm(20);
    assert_false(cli_output_ready(slave));
    assert_false(cli_output_now(out, "a line"));
    alarm(0);
    /* the kernel moves a pty's data to the master side in the background:
     * on a busy machine one drain may end before all of it has come */
    bool ready = false;
    for (int i = 0; i < 1000 && !ready; i++) {
        free(drain(master));
        ready = cli_output_ready(slave);
        if (!ready)
            nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }
    assert_true(ready);
    assert_true(cli_output_now(out, "a line"));
    char *got = drain(master);
    assert_string_equal(got, "a line");
    free(got);
    fclose(out);
    close(master);
}

/* progress on a full pipe: three progress lines and an epoch line are
 * dropped without waiting; the next line is preceded by the count. */
static void test_output_progress_drops_and_counts(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    FILE *out = fdopen(p[1], "w");
    assert_non_null(out);
    struct progress pg;
    progress_init(&pg, out, true, false, 1, 0);
    fill(p[1]);
    alarm(20);
    for (int s = 1; s <= 3; s++)
        progress_step(&pg, 1, 2, s, 4, 0.5, NAN, 8, s, 8);
    progress_print(&pg, "epoch 1/2  step 3  train loss 0.5\n");
    alarm(0);
    assert_int_equal(pg.dropped, 4);
    free(drain(p[0]));
    progress_print(&pg, "wrote w.h5\n");
    char *got = drain(p[0]);
    assert_string_equal(got, "(4 lines not shown: the output was not being read)\nwrote w.h5\n");
    free(got);
    assert_int_equal(pg.dropped, 0);
    progress_step(&pg, 2, 2, 4, 4, 0.25, 0.5, 8, 8, 8);
    got = drain(p[0]);
    assert_non_null(strstr(got, "epoch 2/2 [####################] 4/4  loss 0.2500 acc 50.00%"));
    free(got);
    fclose(out);
    close(p[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_full_pipe),
        cmocka_unit_test(test_output_full_pty),
        cmocka_unit_test(test_output_progress_drops_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
