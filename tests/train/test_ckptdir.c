/* test_ckptdir: the checkpoint folder's names, listing and pruning. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/status.h"
#include "train/ckptdir.h"

static void touch(const char *dir, const char *name)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

/* One name format: at least 8 digits, one slash after the folder however
 * it was written; a name that does not fit the buffer is refused, not cut. */
static void test_ckptdir_path(void **state)
{
    (void)state;
    char p[64];
    assert_int_equal(sn_ckptdir_path("d", 420, p, sizeof p), SN_OK);
    assert_string_equal(p, "d/ckpt-00000420.h5");
    assert_int_equal(sn_ckptdir_path("d", 123456789012LL, p, sizeof p), SN_OK);
    assert_string_equal(p, "d/ckpt-123456789012.h5");
    assert_int_equal(sn_ckptdir_path("d//", 420, p, sizeof p), SN_OK);
    assert_string_equal(p, "d/ckpt-00000420.h5");
    assert_int_equal(sn_ckptdir_path("/", 420, p, sizeof p), SN_OK);
    assert_string_equal(p, "/ckpt-00000420.h5");
    assert_int_equal(sn_ckptdir_path("a-rather-long-folder-name", 1, p, 20), SN_EINVAL);
}

/* Only names in exactly the trainer's form count, newest first; a missing
 * folder holds none. */
static void test_ckptdir_list(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/list", sn_test_tmpdir());
    int64_t *steps;
    size_t n;
    assert_int_equal(sn_ckptdir_list(dir, &steps, &n), SN_OK);
    assert_int_equal(n, 0);
    assert_null(steps);
    assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
    const char *good[] = { "ckpt-00000020.h5", "ckpt-00000003.h5", "ckpt-123456789.h5",
                           "ckpt-00000000.h5" };
    const char *stray[] = { "ckpt-5.h5", "ckpt-+0000005.h5", "ckpt- 0000005.h5",
                            "ckpt-00000007.h5.tmp", ".ckpt-00000008.h5.tmp.12", "ckpt-000000009.h5",
                            "ckpt-00000010.H5", "ckpt-0000001x.h5", "ckpt-12345678901234567890.h5",
                            "ckpt-.h5", "notes.txt" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        touch(dir, good[i]);
    for (size_t i = 0; i < sizeof stray / sizeof stray[0]; i++)
        touch(dir, stray[i]);
    assert_int_equal(sn_ckptdir_list(dir, &steps, &n), SN_OK);
    assert_int_equal(n, 4);
    assert_int_equal(steps[0], 123456789);
    assert_int_equal(steps[1], 20);
    assert_int_equal(steps[2], 3);
    assert_int_equal(steps[3], 0);
    free(steps);
}

/* The folder a run locked, swapped for a link to another run's folder
 * while it runs: no longer ours (its checkpoints went into the other
 * folder, whose own checkpoint was set aside); its lock file is not
 * removed through the link. */
static void test_ckptdir_swapped(void **state)
{
    (void)state;
    char was[256], dir[1100], moved[1100], other[1100];
    snprintf(dir, sizeof dir, "%s/swap", sn_test_tmpdir());
    snprintf(moved, sizeof moved, "%s/swap.old", sn_test_tmpdir());
    snprintf(other, sizeof other, "%s/swap.other", sn_test_tmpdir());
    assert_int_equal(sn_test_run("rm -rf %s %s %s && mkdir -p %s %s && echo theirs > %s/.lock",
                                 dir, moved, other, dir, other, other), 0);
    int fd, none = -1;
    const char *remade;
    assert_int_equal(sn_ckptdir_lock(dir, &fd, was, sizeof was), SN_OK);
    assert_int_equal(sn_ckptdir_still_ours(dir, &fd, &remade), SN_OK);
    assert_null(remade);
    assert_int_equal(sn_test_run("mv %s %s && ln -s %s %s", dir, moved, other, dir), 0);
    assert_int_equal(sn_ckptdir_still_ours(dir, &fd, &remade), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "is no longer the one this run locked"));
    assert_null(remade);
    sn_ckptdir_unlock_remove(dir, fd);
    char lockpath[1200];
    snprintf(lockpath, sizeof lockpath, "%s/.lock", other);
    char *held = sn_test_slurp(lockpath);
    assert_non_null(held);
    assert_string_equal(held, "theirs\n");
    free(held);
    assert_int_equal(sn_ckptdir_still_ours(dir, &none, &remade), SN_OK);
}

/* The folder's .lock removed alone while the run holds it (a cleanup of
 * hidden files, round 66 F10), or the folder whole: made and locked again,
 * so a second run is still refused; when another run took the name first,
 * that run's refusal. */
static void test_ckptdir_lock_removed(void **state)
{
    (void)state;
    char was[256], dir[1100];
    snprintf(dir, sizeof dir, "%s/unlocked", sn_test_tmpdir());
    assert_int_equal(sn_test_run("rm -rf %s && mkdir -p %s", dir, dir), 0);
    int fd, other;
    const char *remade;
    assert_int_equal(sn_ckptdir_lock(dir, &fd, was, sizeof was), SN_OK);
    assert_int_equal(sn_test_run("rm %s/.lock", dir), 0);
    assert_int_equal(sn_ckptdir_still_ours(dir, &fd, &remade), SN_OK);
    assert_string_equal(remade, "its lock file");
    assert_true(sn_ckptdir_has_lock_file(dir));
    assert_int_equal(sn_ckptdir_lock(dir, &other, was, sizeof was), SN_EUSAGE);
    assert_int_equal(sn_ckptdir_still_ours(dir, &fd, &remade), SN_OK);
    assert_null(remade);
    assert_int_equal(sn_test_run("rm %s/.lock", dir), 0);
    assert_int_equal(sn_ckptdir_lock(dir, &other, was, sizeof was), SN_OK);   /* got there first */
    assert_int_equal(sn_ckptdir_still_ours(dir, &fd, &remade), SN_EIO);
    assert_null(remade);
    sn_ckptdir_unlock(other);
    /* the folder removed whole (round 68 F4: called moved, the run ended
     * without --out): made again, and locked */
    assert_int_equal(sn_test_run("rm -rf %s", dir), 0);
    assert_int_equal(sn_ckptdir_still_ours(dir, &fd, &remade), SN_OK);
    assert_string_equal(remade, "the folder");
    assert_true(sn_ckptdir_has_lock_file(dir));
    assert_int_equal(sn_ckptdir_lock(dir, &other, was, sizeof was), SN_EUSAGE);
    sn_ckptdir_unlock(fd);
}

/* One run at a time: a second lock on the folder is refused naming the
 * holder; once released, it can be taken again.  (Pruning needs real
 * checkpoints: tests/train/test_trainer_mpi.c.) */
static void test_ckptdir_lock(void **state)
{
    (void)state;
    char was[256];
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/lock", sn_test_tmpdir());
    assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
    int a, b;
    assert_int_equal(sn_ckptdir_lock(dir, &a, was, sizeof was), SN_OK);
    assert_int_equal(sn_ckptdir_lock(dir, &b, was, sizeof was), SN_EUSAGE);
    assert_int_equal(b, -1);
    char want[64];
    snprintf(want, sizeof want, "pid %ld", (long)getpid());
    assert_non_null(strstr(sn_errmsg(), want));
    assert_non_null(strstr(sn_errmsg(), "is in use by another run"));
    sn_ckptdir_unlock(a);
    assert_int_equal(sn_ckptdir_lock(dir, &b, was, sizeof was), SN_OK);
    assert_non_null(strstr(was, want));   /* the last holder's text */
    /* a run that fails to start puts back what the file held */
    sn_ckptdir_unlock_restore(b, "host elsewhere, pid 1\n");
    char lockpath[1200];
    snprintf(lockpath, sizeof lockpath, "%s/.lock", dir);
    char *held = sn_test_slurp(lockpath);
    assert_string_equal(held, "host elsewhere, pid 1\n");
    free(held);
    /* removed by its holder (a run that fails before its first step): gone,
     * and a run that opened it just before locks a new file, not the old */
    assert_true(sn_ckptdir_has_lock_file(dir));
    assert_int_equal(sn_ckptdir_lock(dir, &a, was, sizeof was), SN_OK);
    char path[1200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int early = open(path, O_RDWR);
    assert_true(early >= 0);
    sn_ckptdir_unlock_remove(dir, a);
    assert_false(sn_ckptdir_has_lock_file(dir));
    assert_int_equal(flock(early, LOCK_EX | LOCK_NB), 0);   /* the old file, now nameless */
    assert_int_equal(sn_ckptdir_lock(dir, &b, was, sizeof was), SN_OK);      /* a new file: not held */
    assert_true(sn_ckptdir_has_lock_file(dir));
    sn_ckptdir_unlock(b);
    close(early);
    /* a folder where the lock file cannot be made */
    assert_int_equal(sn_ckptdir_lock("/proc/self", &a, was, sizeof was), SN_EIO);
}

/* SN_CKPT_LOCK=none makes the lock optional (a file system without flock):
 * where locks work, as here, it is still taken and a held one still seen;
 * another value is refused, naming it, before the lock file is made. */
static void test_ckptdir_lock_none(void **state)
{
    (void)state;
    char was[256], dir[1100], lock[1200];
    snprintf(dir, sizeof dir, "%s/lock_none", sn_test_tmpdir());
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
    int a, b;
    setenv("SN_CKPT_LOCK", "off", 1);
    assert_int_equal(sn_ckptdir_lock(dir, &b, was, sizeof was), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "SN_CKPT_LOCK=off: give flock"));
    assert_int_not_equal(access(lock, F_OK), 0);   /* nothing made */
    assert_int_equal(sn_ckptdir_check(dir, false), SN_OK);   /* no lock file: nothing held */
    setenv("SN_CKPT_LOCK", "none", 1);
    assert_int_equal(sn_ckptdir_lock(dir, &a, was, sizeof was), SN_OK);
    assert_int_equal(sn_ckptdir_lock(dir, &b, was, sizeof was), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "is in use by another run"));
    assert_int_equal(sn_ckptdir_check(dir, false), SN_EUSAGE);
    unsetenv("SN_CKPT_LOCK");
    sn_ckptdir_unlock(a);
}

/* The lock file is truncated and written: a link planted under its name
 * (to a file of the user's, say) is refused, the file it points to left
 * as it was; so is a FIFO (opening it must not block either). */
static void test_ckptdir_lock_not_through_links(void **state)
{
    (void)state;
    char was[256];
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/locklink", sn_test_tmpdir());
    assert_int_equal(sn_test_run("mkdir -p %s && echo precious > %s/victim && "
                                 "ln -s %s/victim %s/.lock", dir, dir, dir, dir), 0);
    int fd;
    assert_int_equal(sn_ckptdir_lock(dir, &fd, was, sizeof was), SN_EUSAGE);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(sn_errmsg(), ".lock is a symbolic link"));
    char path[1200];
    snprintf(path, sizeof path, "%s/victim", dir);
    char *text = sn_test_slurp(path);
    assert_string_equal(text, "precious\n");
    free(text);
    assert_int_equal(sn_test_run("rm %s/.lock && mkfifo %s/.lock", dir, dir), 0);
    assert_int_equal(sn_ckptdir_lock(dir, &fd, was, sizeof was), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), ".lock is not a regular file"));
}

/* Before a run takes the folder: a fresh run (no resume) refuses any
 * checkpoint, naming the count and the newest; a resumed one takes them;
 * other names do not count; an entry under a checkpoint's name that is
 * not a regular file is refused for both (a broken link, a folder), and
 * pruning leaves it, with a warning that says what it is. */
static char warned[8192];
static void on_warn(void *ctx, const char *msg)
{
    (void)ctx;
    size_t at = strlen(warned);
    snprintf(warned + at, sizeof warned - at, "%s\n", msg);
}

static void test_ckptdir_check(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/check", sn_test_tmpdir());
    assert_int_equal(sn_ckptdir_check(dir, true), SN_OK);   /* not there yet */
    assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
    touch(dir, "final.h5");
    touch(dir, ".lock");
    touch(dir, "ckpt-5.h5");
    assert_int_equal(sn_ckptdir_check(dir, true), SN_OK);
    touch(dir, "ckpt-00000003.h5");
    touch(dir, "ckpt-00000012.h5");
    assert_int_equal(sn_ckptdir_check(dir, false), SN_OK);
    assert_int_equal(sn_ckptdir_check(dir, true), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "already holds 2 checkpoints of an earlier run (the "
                                        "newest: "));
    assert_non_null(strstr(sn_errmsg(), "/check/ckpt-00000012.h5, written 2"));
    /* a time no struct tm holds (2^62 s; tmpfs keeps it, disks clamp it):
     * localtime's NULL crashed the message (round 70 F13) */
    char newest[1200];
    snprintf(newest, sizeof newest, "%s/ckpt-00000012.h5", dir);
    const struct timespec far[2] = { { (time_t)1 << 62, 0 }, { (time_t)1 << 62, 0 } };
    if (utimensat(AT_FDCWD, newest, far, 0) == 0) {
        assert_int_equal(sn_ckptdir_check(dir, true), SN_EUSAGE);
        assert_non_null(strstr(sn_errmsg(), "already holds 2 checkpoints"));
    }
    assert_int_equal(sn_test_run("ln -s nowhere %s/ckpt-00000001.h5", dir), 0);
    assert_int_equal(sn_ckptdir_check(dir, false), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "ckpt-00000001.h5 is a symbolic link: in a checkpoint"));
    /* a link to a regular file outside the folder: the next checkpoint
     * would be written through it onto that file */
    assert_int_equal(sn_test_run("echo thesis > %s/../precious && rm %s/ckpt-00000001.h5 && "
                                 "ln -s ../precious %s/ckpt-00000001.h5", dir, dir, dir), 0);
    assert_int_equal(sn_ckptdir_check(dir, false), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "ckpt-00000001.h5 is a symbolic link: in a checkpoint"));
    /* at write time, what is at the name is renamed aside itself: the
     * link (its target untouched), with what it is said */
    char slot[4200], aside[4300];
    const char *what;
    snprintf(slot, sizeof slot, "%s/ckpt-00000001.h5", dir);
    assert_int_equal(sn_ckptdir_set_aside(slot, aside, sizeof aside, &what), SN_OK);
    assert_non_null(strstr(aside, "/ckpt-00000001.h5.kept"));
    assert_non_null(strstr(what, "not this run's checkpoint"));
    assert_int_equal(sn_test_run("test -L %s && grep -qx thesis %s/../precious", aside, dir), 0);
    snprintf(slot, sizeof slot, "%s/ckpt-00000099.h5", dir);
    assert_int_equal(sn_ckptdir_set_aside(slot, aside, sizeof aside, &what), SN_OK);
    assert_string_equal(aside, "");   /* nothing there yet */
    assert_int_equal(sn_test_run("mkdir %s/ckpt-00000099.h5", dir), 0);   /* made mid-run */
    assert_int_equal(sn_ckptdir_set_aside(slot, aside, sizeof aside, &what), SN_OK);
    assert_string_equal(what, "a folder, not this run's checkpoint");
    assert_int_equal(sn_test_run("test -d %s && rmdir %s", aside, aside), 0);
    assert_int_equal(sn_test_run("rm %s/ckpt-00000001.h5.kept && mkdir %s/ckpt-00000020.h5", dir,
                                 dir), 0);
    assert_int_equal(sn_ckptdir_check(dir, false), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "ckpt-00000020.h5 is a folder, not a regular file"));
    const struct sn_ckptdir_owner own = { "fp", NULL, NULL };
    assert_int_equal(sn_ckptdir_prune(dir, 1, &own, 100, on_warn, NULL), 0);
    assert_non_null(strstr(warned, "ckpt-00000020.h5: it is a folder, not a regular file"));
    assert_int_equal(sn_test_run("test -d %s/ckpt-00000020.h5", dir), 0);
}

/* A hard link under the lock file's name is refused, the other name's
 * file unchanged. */
static void test_ckptdir_lock_not_hard_linked(void **state)
{
    (void)state;
    char was[256];
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/hard", sn_test_tmpdir());
    assert_int_equal(sn_test_run("mkdir -p %s && echo precious > %s/victim && ln %s/victim "
                                 "%s/.lock", dir, dir, dir, dir), 0);
    int a;
    assert_int_equal(sn_ckptdir_lock(dir, &a, was, sizeof was), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "has 2 names (a hard link to another file)"));
    assert_int_equal(sn_test_run("grep -qx precious %s/victim", dir), 0);
}

/* The temporary files of checkpoint writes that never finished are
 * removed, and only those: not a checkpoint, not another name, not a
 * whole file that carries such a name (a sealed dataset). */
static void test_ckptdir_remove_tmp(void **state)
{
    (void)state;
    char dir[1100], first[2048], kept[2048], whole[1200];
    snprintf(dir, sizeof dir, "%s/tmps", sn_test_tmpdir());
    assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
    touch(dir, ".ckpt-00000005.h5.tmp.123");
    touch(dir, ".ckpt-00000006.h5.tmp.99999");
    touch(dir, "ckpt-00000005.h5");
    touch(dir, ".ckpt-5.h5.tmp.");
    touch(dir, ".ckpt-00000005.h5.tmp.1x");
    touch(dir, "out.h5.tmp.12");
    snprintf(whole, sizeof whole, "%s/.ckpt-00000007.h5.tmp.77", dir);
    sn_test_write_blobs(whole, (struct sn_test_blobs){ 0 });
    assert_int_equal(sn_ckptdir_remove_tmp(dir, first, sizeof first, kept, sizeof kept), 2);
    assert_non_null(strstr(first, "/.ckpt-0000000"));
    assert_string_equal(kept, whole);
    assert_int_equal(sn_test_run("cd %s && ls -A | LC_ALL=C sort | tr '\\n' ' ' | grep -qx '.ckpt-00000005.h5.tmp.1x "
                                 ".ckpt-00000007.h5.tmp.77 .ckpt-5.h5.tmp. ckpt-00000005.h5 "
                                 "out.h5.tmp.12 '", dir), 0);
    assert_int_equal(sn_ckptdir_remove_tmp(dir, first, sizeof first, kept, sizeof kept), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ckptdir_path),
        cmocka_unit_test(test_ckptdir_list),
        cmocka_unit_test(test_ckptdir_lock),
        cmocka_unit_test(test_ckptdir_lock_none),
        cmocka_unit_test(test_ckptdir_swapped),
        cmocka_unit_test(test_ckptdir_lock_removed),
        cmocka_unit_test(test_ckptdir_lock_not_through_links),
        cmocka_unit_test(test_ckptdir_lock_not_hard_linked),
        cmocka_unit_test(test_ckptdir_remove_tmp),
        cmocka_unit_test(test_ckptdir_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
