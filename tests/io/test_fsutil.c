/* test_fsutil: inputs open only as regular files of bounded size, without
 * blocking on a FIFO; everything else is refused naming what it is.
 * Outputs are replaced through symbolic links, never the links. */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/status.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "train/ckptdir.h"

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

/* Write name through sn_fs_tmpname and sn_fs_commit, as every writer does. */
static int write_via_tmp(const char *name, const char *text)
{
    char tmp[4200];
    sn_fs_tmpname(name, tmp, sizeof tmp);
    FILE *f;
    if (sn_fs_create_tmp(tmp, name, &f))
        return -1;
    fputs(text, f);
    fclose(f);
    return sn_fs_commit(tmp, name);
}

static void read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* An output that is a symbolic link is written where the link leads (also
 * a chain, also a target not made yet), and the link stays a link; a link
 * into /proc (/dev/stdout) and a link to a device are refused untouched. */
static void test_fsutil_output_through_links(void **state)
{
    (void)state;
    char buf[64], target[4096];
    struct stat st;
    assert_int_equal(mkdir(sn_test_path("d"), 0777), 0);
    FILE *f = fopen(sn_test_path("d/target.h5"), "w");
    fputs("old", f);
    fclose(f);
    assert_int_equal(symlink("d/target.h5", sn_test_path("link.h5")), 0);
    assert_int_equal(symlink("link.h5", sn_test_path("chain.h5")), 0);
    assert_int_equal(write_via_tmp(sn_test_path("chain.h5"), "new"), SN_OK);
    assert_int_equal(lstat(sn_test_path("link.h5"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(sn_test_path("chain.h5"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    read_text(sn_test_path("d/target.h5"), buf, sizeof buf);
    assert_string_equal(buf, "new");
    /* a link to a name not made yet, in a folder that exists */
    assert_int_equal(symlink("d/later.h5", sn_test_path("dangling.h5")), 0);
    assert_int_equal(write_via_tmp(sn_test_path("dangling.h5"), "made"), SN_OK);
    read_text(sn_test_path("d/later.h5"), buf, sizeof buf);
    assert_string_equal(buf, "made");
    assert_int_equal(lstat(sn_test_path("dangling.h5"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(sn_fs_output_target(sn_test_path("dangling.h5"), target, sizeof target, &st),
                     SN_OK);
    assert_non_null(strstr(target, "/d/later.h5"));
    assert_true(S_ISREG(st.st_mode));
    /* refused: an open descriptor's link, a device behind a link */
    assert_int_equal(symlink("/dev/stdout", sn_test_path("out.json")), 0);
    assert_int_equal(sn_fs_output_target(sn_test_path("out.json"), target, sizeof target, &st),
                     SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "is a link to an open file descriptor (/proc/self/fd/1)"));
    assert_int_not_equal(write_via_tmp(sn_test_path("out.json"), "x"), SN_OK);
    assert_int_equal(lstat(sn_test_path("out.json"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(symlink("/dev/null", sn_test_path("null.h5")), 0);
    assert_int_not_equal(write_via_tmp(sn_test_path("null.h5"), "x"), SN_OK);
    assert_non_null(strstr(sn_errmsg(), "is a character device"));
    assert_int_equal(lstat(sn_test_path("null.h5"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

/* A small file's contents, for sn_h5_write_atomic_here. */
static int fill_one(struct sn_h5 *f, const void *ctx)
{
    size_t n = 1;
    return sn_h5_write(f, "/one", 1, &n, SN_H5_F32, ctx);
}

/* victim holds "precious" and is a regular file, not replaced. */
static void assert_untouched(const char *victim, ino_t ino)
{
    char buf[64];
    struct stat st;
    read_text(victim, buf, sizeof buf);
    assert_string_equal(buf, "precious");
    assert_int_equal(lstat(victim, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_ino, ino);
}

/* The temporary file's name is predictable (pid): a link placed there is
 * refused and left alone, not written through, for every writer; a link
 * placed at a checkpoint's name is replaced by the checkpoint, not
 * followed.  The link's target keeps its bytes. */
static void test_fsutil_checkpoint_never_through_links(void **state)
{
    (void)state;
    char victim[4200], path[4200], tmp[4200], out[4200];
    snprintf(victim, sizeof victim, "%s", sn_test_path("victim.txt"));
    FILE *f = fopen(victim, "w");
    fputs("precious", f);
    fclose(f);
    struct stat st;
    assert_int_equal(stat(victim, &st), 0);
    const ino_t ino = st.st_ino;
    const float one = 1.0f;
    assert_int_equal(mkdir(sn_test_path("ck"), 0777), 0);
    assert_int_equal(sn_ckptdir_path(sn_test_path("ck"), 1, path, sizeof path), SN_OK);
    /* a link pre-placed at the checkpoint's temporary name */
    sn_fs_tmpname_here(path, tmp, sizeof tmp);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(sn_h5_write_atomic_here(path, true, fill_one, &one), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "is already there"));
    assert_untouched(victim, ino);
    assert_int_equal(lstat(tmp, &st), 0);
    assert_true(S_ISLNK(st.st_mode));   /* left alone */
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(unlink(tmp), 0);
    /* the same at an output's temporary name (HDF5 and plain writers) */
    snprintf(out, sizeof out, "%s", sn_test_path("out.h5"));
    sn_fs_tmpname(out, tmp, sizeof tmp);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(sn_h5_write_atomic(out, fill_one, &one), SN_EIO);
    assert_int_not_equal(write_via_tmp(out, "new"), SN_OK);
    assert_untouched(victim, ino);
    assert_int_equal(unlink(tmp), 0);
    /* a link placed at the checkpoint's name: a name that must stay free
     * keeps it, and the write says so; else the link itself is replaced */
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(sn_h5_write_atomic_here(path, false, fill_one, &one), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "a symbolic link appeared at the name"));
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_not_equal(access(tmp, F_OK), 0);   /* the written file is gone */
    assert_int_equal(sn_h5_write_atomic_here(path, true, fill_one, &one), SN_OK);
    assert_untouched(victim, ino);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));   /* the link itself was replaced */
    assert_int_equal(sn_h5_check_seal(path), SN_OK);
    /* a folder (a mount point) at a name that must stay free */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0777), 0);
    assert_int_equal(sn_h5_write_atomic_here(path, false, fill_one, &one), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "a folder appeared at the name"));
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(sn_h5_write_atomic_here(path, false, fill_one, &one), SN_OK);
    assert_int_equal(sn_h5_check_seal(path), SN_OK);
}

/* Any legal output name has a legal temporary name: a name of 255 bytes
 * (NAME_MAX) is written, and its temporary file is gone after. */
static void test_fsutil_longest_name(void **state)
{
    (void)state;
    char base[256], name[4200], buf[16];
    memset(base, 'n', 255);
    base[255] = '\0';
    assert_int_equal(mkdir(sn_test_path("long"), 0777), 0);
    snprintf(name, sizeof name, "%s/%s", sn_test_path("long"), base);
    assert_int_equal(write_via_tmp(name, "ok"), SN_OK);
    read_text(name, buf, sizeof buf);
    assert_string_equal(buf, "ok");
    assert_int_equal(unlink(name), 0);
    assert_int_equal(rmdir(sn_test_path("long")), 0);   /* nothing else left in it */
}

/* A joined path that does not fit is refused, never cut to another name. */
/* Only the folders this call's own mkdir made are named: a run that
 * fails removes those, never one another run made a moment before. */
static void test_fsutil_mkdirs_made(void **state)
{
    (void)state;
    char made[4096], want[4096];
    const char *top = sn_test_path("mk"), *deep = sn_test_path("mk/a/b");
    assert_int_equal(sn_fs_mkdirs_made(deep, made, sizeof made), SN_OK);
    assert_string_equal(made, top);
    assert_int_equal(sn_fs_mkdirs_made(deep, made, sizeof made), SN_OK);
    assert_string_equal(made, "");   /* there already: not this call's */
    snprintf(want, sizeof want, "%s/c", deep);
    assert_int_equal(sn_fs_mkdirs_made(want, made, sizeof made), SN_OK);
    assert_string_equal(made, want);
    assert_int_equal(sn_fs_mkdirs_made("/proc/self/x", made, sizeof made), SN_EINVAL);
    assert_string_equal(made, "");
    assert_int_equal(sn_test_run("rm -r %s", top), 0);
    /* a deeper name that cannot be made (longer than NAME_MAX): the
     * folders made on the way are removed again, nothing is left */
    char longer[400];
    memset(longer, 'b', 300);
    longer[300] = '\0';
    snprintf(want, sizeof want, "%s/x/%s/y", top, longer);
    assert_int_equal(sn_fs_mkdirs_made(want, made, sizeof made), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "File name too long"));
    assert_string_equal(made, "");
    assert_int_equal(access(top, F_OK), -1);
    /* new folders named with '..', '.' or '//': refused before any is
     * made (their removal by name would reach the user's own folders) */
    static const char *const odd[] = { "mk/../kept/x", "mk//y", "mk/./y" };
    assert_int_equal(sn_test_run("mkdir -p %s", sn_test_path("kept")), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sn_fs_mkdirs_made(sn_test_path(odd[i]), made, sizeof made), SN_EINVAL);
        assert_non_null(strstr(sn_errmsg(), "not named plainly"));
        assert_int_equal(access(top, F_OK), -1);
    }
    assert_int_equal(access(sn_test_path("kept"), F_OK), 0);
    snprintf(want, sizeof want, "%s/../kept/new/", top);   /* '..' in what exists: fine */
    assert_int_equal(sn_test_run("mkdir -p %s", top), 0);
    assert_int_equal(sn_fs_mkdirs_made(want, made, sizeof made), SN_OK);
    assert_int_equal(access(sn_test_path("kept/new"), F_OK), 0);
}

/* HDF5 is known by its signature at 0 or after a user block (h5py's
 * userblock_size: 512, 1024, ...), or by scratchnet's seal; text is not. */
static void test_fsutil_is_hdf5(void **state)
{
    (void)state;
    const char *path = sn_test_path("ub.h5");
    static const char sig[8] = "\x89HDF\r\n\x1a\n";
    for (long at = 0; at <= 4096; at = at ? 2 * at : 512) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (long i = 0; i < at; i++)
            fputc(' ', f);
        fwrite(sig, 1, 8, f);
        fputs("rest", f);
        fclose(f);
        assert_true(sn_fs_is_hdf5(path));
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%300s", "");
    fwrite(sig, 1, 8, f);   /* at 300: no user block is so long */
    fclose(f);
    assert_false(sn_fs_is_hdf5(path));
    assert_false(sn_fs_is_hdf5(sn_test_path("absent.h5")));
}

/* path: `lead` bytes of the character c (c 0 and lead past 4096: a hole),
 * then the HDF5 signature. */
static void write_after(const char *path, long lead, int c)
{
    static const char sig[8] = "\x89HDF\r\n\x1a\n";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (c == 0 && lead > 4096)
        assert_int_equal(fseek(f, lead, SEEK_SET), 0);
    else
        for (long i = 0; i < lead; i++)
            fputc(c, f);
    fwrite(sig, 1, 8, f);
    fputs("rest", f);
    fclose(f);
}

/* HDF5 after other data (a tar's first member) is told from HDF5 after a
 * user block of zeros; zeros past 64 MiB (a sparse file of 1 GiB here, 16
 * GiB took 2 minutes to read) count as other data, told at once. */
static void test_fsutil_hdf5_after_other_data(void **state)
{
    (void)state;
    const char *path = sn_test_path("after.h5");
    write_after(path, 0, 0);
    assert_false(sn_fs_hdf5_after_other_data(path));
    write_after(path, 4096, 0);
    assert_false(sn_fs_hdf5_after_other_data(path));
    write_after(path, 512, 'x');
    assert_true(sn_fs_hdf5_after_other_data(path));
    write_after(path, 1L << 20, 0);   /* 1 MiB of zeros as a hole */
    assert_false(sn_fs_hdf5_after_other_data(path));
    write_after(path, 1L << 30, 0);
    const clock_t t0 = clock();   /* CPU time: a loaded machine stretches wall time */
    assert_true(sn_fs_hdf5_after_other_data(path));
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
    remove(path);
}

/* The hash of a file with holes (read as zeros) is the hash of its bytes,
 * worked out without reading the holes: 4 GiB of hole takes no time. */
static void test_fsutil_hash_over_holes(void **state)
{
    (void)state;
    const char *path = sn_test_path("holes.bin");
    FILE *f = fopen(path, "w+b");
    assert_non_null(f);
    fputs("head", f);
    assert_int_equal(fseek(f, 1 << 20, SEEK_SET), 0);   /* a hole of about 1 MiB */
    fputs("middle", f);
    fflush(f);
    uint64_t want = 0xcbf29ce484222325ULL, h, len;
    rewind(f);
    for (int c; (c = getc(f)) != EOF;)   /* every byte, the hole's zeros too */
        want = (want ^ (uint64_t)c) * 0x100000001b3ULL;
    assert_int_equal(sn_fs_hash(f, 2, NULL, &h, &len), 0);
    uint64_t from2 = 0xcbf29ce484222325ULL;
    rewind(f);
    for (int c, i = 0; (c = getc(f)) != EOF; i++)
        if (i >= 2)
            from2 = (from2 ^ (uint64_t)c) * 0x100000001b3ULL;
    assert_true(h == from2);
    assert_int_equal(len, (1 << 20) + 6);
    assert_int_equal(sn_fs_hash(f, 0, NULL, &h, &len), 0);
    assert_true(h == want);
    assert_int_equal(ftruncate(fileno(f), 1L << 32), 0);   /* 4 GiB, all but 1 MiB hole */
    const clock_t t0 = clock();
    assert_int_equal(sn_fs_hash(f, 0, NULL, &h, &len), 0);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
    assert_int_equal(len, 1L << 32);
    fclose(f);
    remove(path);
}

static void stop_now(int sig)
{
    sn_interrupt_set(sig);
}

/* A stop that comes while the hash reads data after a hole is seen: the
 * looks came when the running total was a multiple of 16 MiB, which a hole
 * (4 KiB blocks after the first bytes) made it never be again; a 3 GiB
 * file was hashed to its end, deaf, then called damaged. */
static void test_fsutil_hash_stops_after_a_hole(void **state)
{
    (void)state;
    const char *path = sn_test_path("holestop.bin");
    FILE *f = fopen(path, "w+b");
    assert_non_null(f);
    fputs("head", f);
    assert_int_equal(fseek(f, 1 << 20, SEEK_SET), 0);
    static char block[1 << 20];
    memset(block, 7, sizeof block);
    for (int i = 0; i < 256; i++)   /* 256 MiB: a quarter second of hashing at the least */
        assert_int_equal(fwrite(block, 1, sizeof block, f), sizeof block);
    fflush(f);
    signal(SIGALRM, stop_now);
    const struct itimerval in_20ms = { { 0, 0 }, { 0, 20000 } };
    setitimer(ITIMER_REAL, &in_20ms, NULL);
    uint64_t h, len;
    const int rc = sn_fs_hash(f, 0, "hashing", &h, &len);
    signal(SIGALRM, SIG_DFL);
    sn_interrupt_clear();
    fclose(f);
    remove(path);
    assert_int_equal(rc, SN_EINTR);
}

static bool not_ten(const char *path)
{
    return !strstr(path, "ckpt-00000010.h5");
}

/* The newest checkpoint by name that is a regular file (a folder or a
 * link under a newer checkpoint's name was named as the newest), and one
 * the caller's check accepts. */
static void test_fsutil_newest_checkpoint(void **state)
{
    (void)state;
    const char *dir = sn_test_path("ckn");
    char name[64];
    assert_int_equal(sn_test_run("rm -rf %s && mkdir -p %s/ckpt-00000099.h5 && cd %s && "
                                 "echo a > ckpt-00000002.h5 && echo b > ckpt-00000010.h5 && "
                                 "ln -s /etc/passwd ckpt-00000098.h5 && : > ckpt-x.h5", dir, dir,
                                 dir), 0);
    assert_true(sn_fs_newest_checkpoint(dir, NULL, name, sizeof name));
    assert_string_equal(name, "ckpt-00000010.h5");
    assert_true(sn_fs_newest_checkpoint(dir, not_ten, name, sizeof name));
    assert_string_equal(name, "ckpt-00000002.h5");
    assert_int_equal(sn_test_run("rm %s/ckpt-00000002.h5 %s/ckpt-00000010.h5", dir, dir), 0);
    assert_false(sn_fs_newest_checkpoint(dir, NULL, name, sizeof name));
}

static void test_fsutil_join(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(sn_fs_join(out, sizeof out, "abc", "defgh"), SN_OK);
    assert_string_equal(out, "abc/defgh");
    assert_int_equal(sn_fs_join(out, sizeof out, "abcdefg", "hijklmn"), SN_OK);   /* 15 + NUL */
    assert_int_equal(sn_fs_join(out, sizeof out, "abcdefg", "hijklmno"), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "abcdefg.../hijklmno: the path is longer than 15 bytes"));
}

/* A stamp tells an unchanged file from one written (size or time) or
 * replaced (inode) since, and from another file. */
static void test_fsutil_stamp(void **state)
{
    (void)state;
    const char *a = sn_test_path("stamp_a"), *b = sn_test_path("stamp_b");
    FILE *f = fopen(a, "w");
    fputs("one", f);
    fclose(f);
    struct sn_file_stamp s0, s1;
    assert_int_equal(sn_fs_stamp(a, &s0), 0);
    assert_int_equal(sn_fs_stamp(a, &s1), 0);
    assert_true(sn_fs_stamp_same(&s0, &s1));
    f = fopen(a, "r");
    assert_int_equal(sn_fs_stamp_fd(fileno(f), &s1), 0);
    fclose(f);
    assert_true(sn_fs_stamp_same(&s0, &s1));
    f = fopen(a, "a");   /* written: larger */
    fputs("two", f);
    fclose(f);
    assert_int_equal(sn_fs_stamp(a, &s1), 0);
    assert_false(sn_fs_stamp_same(&s0, &s1));
    assert_int_equal(sn_fs_stamp(a, &s0), 0);
    f = fopen(b, "w");   /* replaced by a file of the same size */
    fputs("onetwo", f);
    fclose(f);
    assert_int_equal(rename(b, a), 0);
    assert_int_equal(sn_fs_stamp(a, &s1), 0);
    assert_false(sn_fs_stamp_same(&s0, &s1));
    assert_int_equal(sn_fs_stamp(b, &s1), -1);
    unlink(a);
}

static void write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* The text reader as the model and log readers see a file: a UTF-8 mark
 * skipped, UTF-16 in either order one character a unit (past ASCII: 0x80,
 * an odd last byte: the end), plain bytes as they are; and the model-text
 * test on LF, CR-only and UTF-16 files. */
static void test_fsutil_text(void **state)
{
    (void)state;
    const char *p = sn_test_path("text.cfg");
    struct sn_fs_text t;
    static const struct { const char *bytes; size_t n; int want[4]; } cases[] = {
        { "\xef\xbb\xbf[n", 5, { '[', 'n', EOF, EOF } },
        { "\xff\xfe[\0\xe9\x00\x00", 7, { '[', 0x80, EOF, EOF } },   /* LE; odd byte */
        { "\xfe\xff\0[\x04\x10", 6, { '[', 0x80, EOF, EOF } },         /* BE */
        { "\xef[\r", 3, { 0xef, '[', '\r', EOF } },                      /* no mark */
        { "\xff\xfe\xff\xfe[\0", 6, { ' ', '[', EOF, EOF } },   /* U+FEFF: a blank */
        { "\xff\xfe\0\0[\0\0\0\xe9\0\0\0", 12, { '[', 0x80, EOF, EOF } },   /* UTF-32 */
        { "\0\0\xfe\xff\0\0\0[", 8, { '[', EOF, EOF, EOF } },
        { "\xef\xbb\xbf\xef\xbb\xbf#", 7, { '#', EOF, EOF, EOF } },   /* marks twice */
        { "[\0n\0e\0t\0", 8, { '[', 'n', 'e', 't' } },   /* UTF-16LE, no mark: its NULs */
        { "\0\0\0[\0\0\0n", 8, { '[', 'n', EOF, EOF } },   /* UTF-32BE, no mark */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(p, cases[i].bytes, cases[i].n);
        assert_true(sn_fs_text_open(p, &t));
        for (int k = 0; k < 4; k++)
            assert_int_equal(sn_fs_text_getc(&t), cases[i].want[k]);
        fclose(t.fp);
    }
    static const char *const model[] = { "# m\n[net]\n", "# m\r[ net ]\r", "\r\r[net]",
                                         "\xff\xfe#\0\r\0[\0n\0e\0t\0]\0" };
    for (size_t i = 0; i < sizeof model / sizeof model[0]; i++) {
        write_file(p, model[i], i < 3 ? strlen(model[i]) : 16);
        assert_true(sn_fs_is_model_text(p));
    }
    write_file(p, "# [net]\n[dense]\n", 17);   /* [net] in a comment only */
    assert_false(sn_fs_is_model_text(p));
    unlink(p);
    assert_false(sn_fs_text_open(p, &t));
    assert_int_equal(mkfifo(p, 0600), 0);   /* no writer: not waited for */
    assert_false(sn_fs_text_open(p, &t));
    assert_false(sn_fs_is_model_text(p));
    unlink(p);
}

/* The temporary files being written are what sn_fs_abandon_tmp (a second
 * Ctrl-C's) removes: not one renamed into place, nor one kept on purpose. */
static void test_fsutil_abandon_tmp(void **state)
{
    (void)state;
    char out[1024], tmp[1100], done[1024], dtmp[1100];
    snprintf(out, sizeof out, "%s", sn_test_path("cut.h5"));
    snprintf(done, sizeof done, "%s", sn_test_path("done.h5"));
    sn_fs_tmpname(out, tmp, sizeof tmp);
    sn_fs_tmpname(done, dtmp, sizeof dtmp);
    FILE *f;
    assert_int_equal(sn_fs_create_tmp(tmp, out, &f), SN_OK);
    fputs("half", f);
    fclose(f);
    assert_int_equal(sn_fs_create_tmp(dtmp, done, NULL), SN_OK);
    assert_int_equal(sn_fs_commit(dtmp, done), SN_OK);
    sn_fs_abandon_tmp();
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_equal(access(done, F_OK), 0);
    unlink(done);
}

/* /proc/PID/stat's fields after the name: this process's parent is
 * getppid(); a pid that is no process gives NULL. */
static void test_fsutil_proc_stat(void **state)
{
    (void)state;
    char buf[1024];
    const char *f = sn_fs_proc_stat((long)getpid(), buf, sizeof buf);
    long ppid = -1;
    assert_non_null(f);
    assert_int_equal(sscanf(f, " %*c %ld", &ppid), 1);
    assert_int_equal(ppid, (long)getppid());
    assert_null(sn_fs_proc_stat(999999999L, buf, sizeof buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fsutil_open_input),
        cmocka_unit_test(test_fsutil_longest_name),
        cmocka_unit_test(test_fsutil_stamp),
        cmocka_unit_test(test_fsutil_text),
        cmocka_unit_test(test_fsutil_abandon_tmp),
        cmocka_unit_test(test_fsutil_mkdirs_made),
        cmocka_unit_test(test_fsutil_is_hdf5),
        cmocka_unit_test(test_fsutil_hdf5_after_other_data),
        cmocka_unit_test(test_fsutil_hash_over_holes),
        cmocka_unit_test(test_fsutil_hash_stops_after_a_hole),
        cmocka_unit_test(test_fsutil_newest_checkpoint),
        cmocka_unit_test(test_fsutil_join),
        cmocka_unit_test(test_fsutil_output_through_links),
        cmocka_unit_test(test_fsutil_checkpoint_never_through_links),
        cmocka_unit_test(test_fsutil_proc_stat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
