/* fsutil: temporary file, fsync, rename (see fsutil.h). */
#define _GNU_SOURCE   /* statx */
#include "io/fsutil.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/status.h"

/* Whether the folder holding name is in /proc: a link there (/proc/self/fd/1,
 * which /dev/stdout names) stands for an open descriptor, not a file. */
static bool in_proc(const char *name)
{
    char dir[4096];
    const char *slash = strrchr(name, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (slash == name ? 1 : (int)(slash - name)) : 1,
             slash ? name : ".");
    struct statfs fs;
    return statfs(dir, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

/* The name link points to, relative to link's folder, into out. */
static int follow(const char *path, const char *link, char *out, size_t len)
{
    char to[4096];
    ssize_t n = readlink(link, to, sizeof to - 1);
    if (n < 0)
        return sn_fail(SN_EINVAL, "%s: cannot read the link %s: %s", path, link, strerror(errno));
    to[n] = '\0';
    const char *slash = strrchr(link, '/');
    int w = to[0] == '/' || !slash ? snprintf(out, len, "%s", to)
                                   : snprintf(out, len, "%.*s/%s", (int)(slash - link), link, to);
    if (w < 0 || (size_t)w >= len)
        return sn_fail(SN_EINVAL, "%s: the file its links lead to has too long a name", path);
    return SN_OK;
}

int sn_fs_output_target(const char *path, char *target, size_t len, struct stat *st)
{
    if (strlen(path) >= len)
        return sn_fail(SN_EINVAL, "%s: the name is too long", path);
    snprintf(target, len, "%s", path);
    for (int hops = 0;; hops++) {
        if (lstat(target, st) != 0) {
            if (errno != ENOENT)
                return sn_fail(SN_EINVAL, "%s: %s", path, strerror(errno));
            memset(st, 0, sizeof *st);   /* made by the write, if its folder exists */
            return SN_OK;
        }
        if (!S_ISLNK(st->st_mode))
            return SN_OK;
        if (hops == 40)
            return sn_fail(SN_EINVAL, "%s: more than 40 symbolic links in a row", path);
        if (in_proc(target))
            return sn_fail(SN_EINVAL, "%s is a link to an open file descriptor (%s): an output "
                           "must be a regular file or not exist", path, target);
        char next[4096];
        int rc = follow(path, target, next, sizeof next);
        if (rc)
            return rc;
        if (strlen(next) >= len)
            return sn_fail(SN_EINVAL, "%s: the file its links lead to has too long a name", path);
        snprintf(target, len, "%s", next);
    }
}

/* tmp = "<folder of path>/.<base of path>.tmp.<pid>", the base cut to
 * TMP_BASE bytes: a name of up to NAME_MAX (255) bytes is a legal output,
 * and its temporary file's name must be legal too. */
#define TMP_BASE 200
static void tmpname_beside(const char *path, char *tmp, size_t tmp_len)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(tmp, tmp_len, "%.*s/.%.*s.tmp.%ld", (int)(slash - path), path, TMP_BASE,
                 slash + 1, (long)getpid());
    else
        snprintf(tmp, tmp_len, ".%.*s.tmp.%ld", TMP_BASE, path, (long)getpid());
}

void sn_fs_tmpname(const char *path, char *tmp, size_t tmp_len)
{
    char target[4096];
    struct stat st;
    if (sn_fs_output_target(path, target, sizeof target, &st) == SN_OK)
        path = target;   /* else sn_fs_commit refuses, and removes tmp */
    tmpname_beside(path, tmp, tmp_len);
}

void sn_fs_tmpname_here(const char *path, char *tmp, size_t tmp_len)
{
    tmpname_beside(path, tmp, tmp_len);
}

/* The temporary files this process writes, for sn_fs_abandon_tmp (a
 * signal handler's): each name is complete before the flag that publishes
 * it is set; the oldest slot is reused.  Names end in this process's pid,
 * so one already renamed or removed is no other file. */
enum { HELD_TMP = 4 };
static char held_tmp[HELD_TMP][4200];
static volatile sig_atomic_t held_on[HELD_TMP];
static int held_next;

static void hold_tmp(const char *tmp)
{
    if (strlen(tmp) >= sizeof held_tmp[0])
        return;
    const int i = held_next;
    held_next = (held_next + 1) % HELD_TMP;
    held_on[i] = 0;
    strcpy(held_tmp[i], tmp);
    held_on[i] = 1;
}

static void release_tmp(const char *tmp)
{
    for (int i = 0; i < HELD_TMP; i++)
        if (held_on[i] && strcmp(held_tmp[i], tmp) == 0)
            held_on[i] = 0;
}

void sn_fs_abandon_tmp(void)
{
    for (int i = 0; i < HELD_TMP; i++)
        if (held_on[i])
            unlink(held_tmp[i]);
}

int sn_fs_create_tmp(const char *tmp, const char *path, FILE **out)
{
    /* O_EXCL: never through a link or into a file someone placed at the
     * name, which is predictable (the pid) */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST)
        return sn_fail(SN_EIO, "%s: its temporary file %s is already there (a link, or a file "
                       "another writer left): it is not written through; remove it", path, tmp);
    if (fd < 0)
        return sn_fail(SN_EIO, "%s: cannot create the temporary file %s: %s", path, tmp,
                       strerror(errno));
    FILE *f = out ? fdopen(fd, "wb") : NULL;
    if (out && !f) {
        close(fd);
        unlink(tmp);
        return sn_fail(SN_ENOMEM, "out of memory");
    }
    if (!out)
        close(fd);
    else
        *out = f;
    hold_tmp(tmp);
    return SN_OK;
}

static int fsync_path(const char *p, int flags)
{
    int fd = open(p, flags);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* The rename onto target (path's final file): refused when something
 * other than a regular file is there now. */
static int output_mode = -1;

void sn_fs_set_output_mode(unsigned mode)
{
    output_mode = (int)(mode & 0777);
}

static int replace(const char *tmp, const char *path, const char *target, const struct stat *st)
{
    if (st->st_mode != 0 && !S_ISREG(st->st_mode))
        return sn_fail(SN_EIO, "%s is %s: an output must be a regular file or not exist", path,
                       sn_fs_kind(st));
    if (output_mode >= 0 && chmod(tmp, (mode_t)output_mode) != 0)
        return sn_fail(SN_EIO, "%s: cannot give it the mode the umask asks for: %s", path,
                       strerror(errno));
    if (rename(tmp, target) != 0)
        return sn_fail(SN_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    return SN_OK;
}

/* fsync tmp; SN_EIO (tmp removed) when it fails. */
static int sync_tmp(const char *tmp)
{
    if (fsync_path(tmp, O_RDONLY) == 0)
        return SN_OK;
    int e = errno;
    unlink(tmp);
    return sn_fail(SN_EIO, "%s: fsync failed: %s", tmp, strerror(e));
}

/* fsync the folder holding name: best effort, not all file systems allow it. */
static void sync_folder_of(const char *name)
{
    char dir[4096];
    const char *slash = strrchr(name, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - name), name);
    else
        snprintf(dir, sizeof dir, ".");
    if (dir[0] == '\0')
        snprintf(dir, sizeof dir, "/");
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

static sn_fs_replace_guard replace_guard;

bool sn_fs_has_replace_guard(void)
{
    return replace_guard != NULL;
}

void sn_fs_set_replace_guard(sn_fs_replace_guard guard)
{
    replace_guard = guard;
}

int sn_fs_commit(const char *tmp, const char *path)
{
    int rc = sync_tmp(tmp);
    if (rc)
        return rc;
    char target[4096];
    struct stat st;
    rc = sn_fs_output_target(path, target, sizeof target, &st);
    if (!rc && replace_guard && (rc = replace_guard(path, target, tmp))) {
        release_tmp(tmp);   /* kept on purpose: the message names it */
        return rc;
    }
    if (!rc)
        rc = replace(tmp, path, target, &st);
    if (rc)
        unlink(tmp);
    release_tmp(tmp);
    if (!rc)
        sync_folder_of(target);
    return rc;
}

/* tmp onto path without replacing anything there: link(2) fails with
 * EEXIST for any entry at the name (a file, a folder, a link, dangling or
 * not).  A file system without hard links gets the rename after a look. */
static int put_new(const char *tmp, const char *path)
{
    struct stat st;
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return SN_OK;
    }
    const int err = errno;
    if (lstat(path, &st) == 0)
        return sn_fail(SN_EIO, "%s: %s appeared at the name while the file was written: not "
                       "replaced", path, S_ISLNK(st.st_mode) ? "a symbolic link" : sn_fs_kind(&st));
    if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP && err != ENOSYS)
        return sn_fail(SN_EIO, "%s: cannot put into place: %s", path, strerror(err));
    return rename(tmp, path) == 0
               ? SN_OK
               : sn_fail(SN_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
}

int sn_fs_commit_here(const char *tmp, const char *path, bool replace)
{
    int rc = sync_tmp(tmp);
    if (rc)
        return rc;
    /* rename replaces the name itself: a link placed there is replaced,
     * never followed */
    if (!replace)
        rc = put_new(tmp, path);
    else if (rename(tmp, path) != 0)
        rc = sn_fail(SN_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    release_tmp(tmp);
    if (!rc)
        sync_folder_of(path);
    return rc;
}

int sn_fs_mkdirs(const char *dir)
{
    return sn_fs_mkdirs_made(dir, NULL, 0);
}

/* The folders above the one path names, deepest first, down to the one
 * of length first (0: none was made): each is removed while empty. */
static void unmake(char *path, size_t first)
{
    for (char *slash; first && (slash = strrchr(path, '/')) && (size_t)(slash - path) >= first;) {
        *slash = '\0';
        if (rmdir(path) != 0)
            break;
    }
}

/* The folders to make, after the longest part of dir that exists, named
 * plainly: no ".", ".." or empty name among them.  Folders made are
 * removed again by their names' text, deepest first, up to the first
 * made: a ".." there would name folders that were there before (a
 * refused run removed the user's empty results/run1). */
static int plain_new_part(const char *dir)
{
    char buf[4096];
    struct stat st;
    snprintf(buf, sizeof buf, "%s", dir);
    size_t have = strlen(buf);
    while (have > 0 && stat(buf, &st) != 0) {   /* the longest prefix that exists */
        char *slash = strrchr(buf, '/');
        have = slash ? (size_t)(slash - buf) : 0;
        buf[have] = '\0';
    }
    for (const char *p = dir + have; *p;) {
        p += *p == '/';
        const size_t n = strcspn(p, "/");
        const bool last = p[n] == '\0' || (p[n] == '/' && p[n + 1] == '\0');
        if ((n == 0 && !last && *p) || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.'))
            return sn_fail(SN_EINVAL, "%s: the folders it would make are not named plainly "
                           "('.', '..' or an empty name among them): give the folder's name "
                           "without them", dir);
        p += n;
    }
    return SN_OK;
}

int sn_fs_mkdirs_made(const char *dir, char *made, size_t made_len)
{
    char buf[4096];
    if (made && made_len)
        made[0] = '\0';
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return sn_fail(SN_EIO, "bad folder name '%s'", dir);
    int plain = plain_new_part(dir);
    if (plain)
        return plain;
    memcpy(buf, dir, n + 1);
    size_t first = 0;   /* the length of the first folder this call made */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) == 0) {
            if (made && made_len && !made[0])   /* another process may make the rest */
                snprintf(made, made_len, "%s", buf);
            first = first ? first : i;
        } else if (errno != EEXIST) {
            int rc = sn_fail(SN_EINVAL, "%s: cannot create folder: %s", buf, strerror(errno));
            unmake(buf, first);   /* a refused run leaves no folder made on the way */
            if (made && made_len)
                made[0] = '\0';
            return rc;
        }
        buf[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sn_fail(SN_EINVAL, "%s: not a folder", dir);
    return SN_OK;
}

double sn_peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double mb = 0.0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            mb = atof(line + 6) / 1024.0;
    if (f)
        fclose(f);
    return mb;
}

int sn_fs_join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    if (n >= 0 && (size_t)n < len)
        return SN_OK;
    return sn_fail(SN_EINVAL, "%.60s.../%.60s: the path is longer than %zu bytes", dir, name,
                   len - 1);
}

static void stamp_of(const struct stat *st, struct sn_file_stamp *s)
{
    *s = (struct sn_file_stamp){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
                                 .mtime_s = st->st_mtim.tv_sec, .mtime_ns = st->st_mtim.tv_nsec,
                                 .ctime_s = st->st_ctim.tv_sec, .ctime_ns = st->st_ctim.tv_nsec };
}

FILE *sn_fs_open_regular(const char *path)
{
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return NULL;
    FILE *fp = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "rb") : NULL;
    if (!fp)
        close(fd);
    return fp;
}

/* The byte-order mark at the start of b (n bytes): its length, and the
 * encoding it marks into t. */
static size_t byte_order_mark(const unsigned char *b, size_t n, struct sn_fs_text *t)
{
    static const struct { const char *mark; size_t len; int unit; bool big; } marks[] = {
        { "\xff\xfe\0\0", 4, 4, false }, { "\0\0\xfe\xff", 4, 4, true },   /* before UTF-16's */
        { "\xff\xfe", 2, 2, false },       { "\xfe\xff", 2, 2, true },
        { "\xef\xbb\xbf", 3, 1, false },
    };
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (n >= marks[i].len && memcmp(b, marks[i].mark, marks[i].len) == 0) {
            t->unit = marks[i].unit;
            t->big_endian = marks[i].big;
            return marks[i].len;
        }
    return 0;
}

int sn_fs_wide_unit(const unsigned char *b, size_t n, bool *big_endian, bool *marked)
{
    struct sn_fs_text t = { .unit = 1 };
    *marked = byte_order_mark(b, n, &t) > 0 && t.unit > 1;
    if (!*marked && n >= 8) {   /* ASCII text in UTF-32 or UTF-16: its NUL bytes' pattern */
        const bool z[8] = { !b[0], !b[1], !b[2], !b[3], !b[4], !b[5], !b[6], !b[7] };
        if (!z[0] && z[1] && z[2] && z[3] && !z[4] && z[5] && z[6] && z[7])
            t = (struct sn_fs_text){ .unit = 4 };
        else if (z[0] && z[1] && z[2] && !z[3] && z[4] && z[5] && z[6] && !z[7])
            t = (struct sn_fs_text){ .unit = 4, .big_endian = true };
        else if (!z[0] && z[1] && !z[2] && z[3] && !z[4] && z[5])
            t = (struct sn_fs_text){ .unit = 2 };
        else if (z[0] && !z[1] && z[2] && !z[3] && z[4] && !z[5])
            t = (struct sn_fs_text){ .unit = 2, .big_endian = true };
    }
    *big_endian = t.big_endian;
    return t.unit;
}

bool sn_fs_text_open(const char *path, struct sn_fs_text *t)
{
    *t = (struct sn_fs_text){ .fp = sn_fs_open_regular(path), .unit = 1 };
    if (!t->fp)
        return false;
    unsigned char b[64];   /* room for a few UTF-8 marks in a row (an editor's, twice) */
    const size_t n = fread(b, 1, sizeof b, t->fp);
    size_t skip = 0, len;
    while ((len = byte_order_mark(b + skip, n - skip, t)) > 0 && t->unit == 1)
        skip += len;
    skip += t->unit > 1 ? len : 0;
    bool marked;
    if (skip == 0)   /* no mark: UTF-16 or UTF-32 told by where its NULs are */
        t->unit = sn_fs_wide_unit(b, n, &t->big_endian, &marked);
    if (fseek(t->fp, (long)skip, SEEK_SET) != 0) {
        fclose(t->fp);
        return false;
    }
    return true;
}

int sn_fs_text_getc(struct sn_fs_text *t)
{
    uint32_t c = 0;
    for (int k = 0; k < t->unit; k++) {
        const int b = getc(t->fp);
        if (b == EOF)
            return EOF;
        c = t->big_endian ? c << 8 | (uint32_t)b : c | (uint32_t)b << (8 * k);
    }
    return c == 0xfeff && t->unit > 1 ? ' ' : c < 0x80 ? (int)c : t->unit > 1 ? 0x80 : (int)c;
}

/* The first of [section] read from t: its name between the brackets,
 * spaces trimmed, into w; false when the line is not a section. */
static bool section_name(struct sn_fs_text *t, char *w, size_t len)
{
    size_t k = 0;
    int c;
    while ((c = sn_fs_text_getc(t)) != EOF && c != ']' && c != '\n' && c != '\r')
        if (k + 1 < len && (k > 0 || !isspace(c)))
            w[k++] = (char)c;
    while (k > 0 && isspace((unsigned char)w[k - 1]))
        k--;
    w[k] = '\0';
    return c == ']';
}

bool sn_fs_is_model_text(const char *path)
{
    struct sn_fs_text t;
    if (!sn_fs_text_open(path, &t))
        return false;
    /* as the model parser reads it: blank lines and comments, as many as
     * its 1 MiB holds */
    bool net = false;
    int c = sn_fs_text_getc(&t);
    for (long at = 0; c != EOF && at < (1L << 20); c = sn_fs_text_getc(&t), at++) {
        if (isspace(c))   /* the INI reader's blanks: \f and \v too */
            continue;
        if (c == '#' || c == ';') {   /* within the 1 MiB too: a comment of 4 GiB took 23 s */
            while (at < (1L << 20) && (c = sn_fs_text_getc(&t)) != EOF && c != '\n' && c != '\r')
                at++;
            continue;
        }
        char w[8];
        net = c == '[' && section_name(&t, w, sizeof w) && strcmp(w, "net") == 0;
        break;
    }
    fclose(t.fp);
    return net;
}

int sn_fs_stamp(const char *path, struct sn_file_stamp *s)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    stamp_of(&st, s);
    return 0;
}

int sn_fs_stamp_fd(int fd, struct sn_file_stamp *s)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    stamp_of(&st, s);
    return 0;
}

int sn_fs_stamp_same(const struct sn_file_stamp *a, const struct sn_file_stamp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns;
}

int sn_fs_stamp_unchanged(const struct sn_file_stamp *a, const struct sn_file_stamp *b)
{
    return sn_fs_stamp_same(a, b) && a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns;
}

const char *sn_fs_kind(const struct stat *st)
{
    return S_ISDIR(st->st_mode) ? "a folder" : S_ISFIFO(st->st_mode) ? "a FIFO"
         : S_ISCHR(st->st_mode) ? "a character device" : S_ISBLK(st->st_mode) ? "a block device"
         : S_ISSOCK(st->st_mode) ? "a socket" : S_ISREG(st->st_mode) ? "a file"
         : "not a regular file";
}

/* The kernel's own file systems, by name; NULL for any other.  Their
 * regular files are views of the kernel whose reads may wait for good
 * (/proc/kmsg: a command hung in read(), deaf to SIGTERM) or never end. */
static const char *kernel_fs(unsigned long type)
{
    static const struct {
        unsigned long type;
        const char *name;
    } kinds[] = {
        { PROC_SUPER_MAGIC, "/proc (procfs)" }, { SYSFS_MAGIC, "/sys (sysfs)" },
        { DEBUGFS_MAGIC, "debugfs" }, { TRACEFS_MAGIC, "tracefs" },
        { SECURITYFS_MAGIC, "securityfs" }, { CGROUP_SUPER_MAGIC, "cgroup" },
        { CGROUP2_SUPER_MAGIC, "cgroup2" }, { BPF_FS_MAGIC, "bpf" },
        { EFIVARFS_MAGIC, "efivarfs" }, { PSTOREFS_MAGIC, "pstore" },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].type == type)
            return kinds[i].name;
    return NULL;
}

/* fs: the file's file system (statfs), or NULL when it could not be read. */
static int check_stat(const char *path, const char *what, size_t max_bytes, const struct stat *st,
                      const struct statfs *fs)
{
    if (!S_ISREG(st->st_mode))
        return sn_fail(SN_EINVAL, "%s: the %s is %s, not a regular file", path, what,
                       sn_fs_kind(st));
    const char *kernel = fs ? kernel_fs((unsigned long)fs->f_type) : NULL;
    if (kernel)
        return sn_fail(SN_EINVAL, "%s: the %s is in the kernel's %s, not a file of data (a "
                       "read there may wait for good)", path, what, kernel);
    if ((unsigned long long)st->st_size > (unsigned long long)max_bytes)
        return sn_fail(SN_EINVAL, "%s: the %s is larger than %zu bytes (%lld)", path, what,
                       max_bytes, (long long)st->st_size);
    return SN_OK;
}

int sn_fs_open_input(const char *path, const char *what, size_t max_bytes, FILE **out,
                     size_t *size)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return sn_fs_open_failed(path, errno, NULL);
    struct stat st = { 0 };
    struct statfs fs;
    int rc = fstat(fd, &st) != 0 ? sn_fail(SN_EINVAL, "%s: cannot read the %s: %s", path, what,
                                           strerror(errno))
                                 : check_stat(path, what, max_bytes, &st,
                                              fstatfs(fd, &fs) == 0 ? &fs : NULL);
    if (!rc && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        rc = sn_fail(SN_EIO, "%s: %s", path, strerror(errno));
    FILE *f = rc ? NULL : fdopen(fd, "rb");
    if (!rc && !f)
        rc = sn_fail(SN_ENOMEM, "out of memory");
    if (size)   /* on a refusal too: the caller may say the way out */
        *size = (size_t)st.st_size;
    if (rc) {
        close(fd);
        return rc;
    }
    *out = f;
    return SN_OK;
}

int sn_fs_check_input(const char *path, const char *what, size_t max_bytes)
{
    struct stat st;
    struct statfs fs;
    if (stat(path, &st) != 0)
        return sn_fs_open_failed(path, errno, NULL);
    return check_stat(path, what, max_bytes, &st, statfs(path, &fs) == 0 ? &fs : NULL);
}

int sn_fs_open_failed(const char *path, int err, const char *hint)
{
    struct stat st;
    if (err == ENXIO && lstat(path, &st) == 0 && !S_ISREG(st.st_mode))   /* a socket */
        return sn_fail(SN_EINVAL, "%s: cannot open: it is %s, not a regular file%s%s", path,
                       sn_fs_kind(&st), hint ? " " : "", hint ? hint : "");
    return sn_fail(SN_EINVAL, "%s: cannot open: %s%s%s", path,
                   err ? strerror(err) : "unknown reason", hint ? " " : "", hint ? hint : "");
}

#define FNV_PRIME 0x100000001b3ULL

/* FNV-1a over n zero bytes is h * prime^n (the xor of 0 changes nothing):
 * a hole is hashed in a few dozen multiplications, not read (a sparse file
 * of 4 GiB took 20 s). */
static uint64_t fnv_zeros(uint64_t h, uint64_t n)
{
    for (uint64_t p = FNV_PRIME; n; n >>= 1, p *= p)
        if (n & 1)
            h *= p;
    return h;
}

int sn_fs_hash(FILE *fp, long from, const char *stop_doing, uint64_t *hash, uint64_t *len)
{
    uint64_t h = 0xcbf29ce484222325ULL, read_bytes = 0, next_look = 0;
    unsigned char buf[65536];
    struct stat st;
    const int fd = fileno(fp);
    if (fd < 0 || fstat(fd, &st) != 0 || from < 0)
        return -1;
    off_t at = from;
    while (at < st.st_size) {
        off_t data = lseek(fd, at, SEEK_DATA), hole;
        if (data < 0)   /* ENXIO: holes to the end; EINVAL: no holes known here */
            data = errno == ENXIO ? st.st_size : at;
        if (data > at) {
            h = fnv_zeros(h, (uint64_t)(data - at));
            at = data;
            continue;
        }
        hole = lseek(fd, at, SEEK_HOLE);
        if (hole <= at || hole > st.st_size)
            hole = st.st_size;
        while (at < hole) {
            /* every 16 MiB read (about 0.05 s), counted from the last look:
             * holes and short reads leave the total at any value */
            if (stop_doing && read_bytes >= next_look && sn_interrupt_check(stop_doing))
                return SN_EINTR;
            if (read_bytes >= next_look)
                next_look = read_bytes + (16u << 20);
            const size_t want = hole - at < (off_t)sizeof buf ? (size_t)(hole - at) : sizeof buf;
            const ssize_t got = pread(fd, buf, want, at);
            if (got <= 0)
                return -1;   /* cut short meanwhile, or unreadable */
            for (ssize_t i = 0; i < got; i++) {
                h ^= buf[i];
                h *= FNV_PRIME;
            }
            at += got;
            read_bytes += (uint64_t)got;
        }
    }
    *hash = h;
    *len = (uint64_t)at;
    return 0;
}

const char *sn_fs_write_why(int err)
{
    if (err == ENOSPC)
        return "no space left on the device";
    if (err == EDQUOT)
        return "disk quota exceeded";
    if (err == EFBIG)
        return "file too large";
    return err ? strerror(err) : "disk full?";
}

struct named_step {
    long long step;
    char name[64];
};

static int by_step_down(const void *a, const void *b)
{
    const struct named_step *x = a, *y = b;
    return x->step < y->step ? 1 : x->step > y->step ? -1 : 0;
}

bool sn_fs_newest_checkpoint(const char *dir, bool (*ok)(const char *path), char *name,
                             size_t len)
{
    enum { MAX_SEEN = 4096 };   /* a message's hint: the newest 4,096 names are enough */
    struct named_step *v = malloc(MAX_SEEN * sizeof *v);
    size_t n = 0;
    DIR *d = v ? opendir(dir) : NULL;
    for (struct dirent *e; d && n < MAX_SEEN && (e = readdir(d));) {
        char tail[4];
        if (strlen(e->d_name) < sizeof v[n].name &&
            sscanf(e->d_name, "ckpt-%lld.%3s", &v[n].step, tail) == 2 && strcmp(tail, "h5") == 0)
            snprintf(v[n++].name, sizeof v->name, "%s", e->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(v, n, sizeof *v, by_step_down);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        char path[4200];
        struct stat st;
        found = sn_fs_join(path, sizeof path, dir, v[i].name) == SN_OK &&
                lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (!ok || ok(path));
        if (found)
            snprintf(name, len, "%s", v[i].name);
    }
    free(v);
    return found;
}

bool sn_fs_hdf5_superblock(const char *path, unsigned char sb[12], bool *sealed)
{
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);   /* a FIFO: no wait */
    struct stat st;
    bool found = false;
    *sealed = false;
    if (fd < 0)
        return false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        for (off_t at = 0; !found && at + 12 <= st.st_size; at = at ? 2 * at : 512) {
            const bool got = pread(fd, sb, 12, at) == 12;
            *sealed = *sealed || (at == 0 && got && memcmp(sb, "SNSEAL1", 8) == 0);
            found = got && memcmp(sb, "\x89HDF\r\n\x1a\n", 8) == 0;
        }
    close(fd);
    return found;
}

/* Zeros before an HDF5 signature that are a user block: h5py and HDF5
 * write at most what their user asked; past this, the file is taken for
 * other data (a sparse 16 GiB of zeros took 2 minutes to read). */
#define USER_BLOCK_MAX ((off_t)64 << 20)

/* Whether the 512-byte blocks of b (got bytes from offset at) hold a byte
 * other than zero before the signature; *found when they reach it. */
static bool other_before_signature(const unsigned char *b, ssize_t got, bool *found)
{
    for (ssize_t k = 0; k + 8 <= got; k += 512) {
        if (memcmp(b + k, "\x89HDF\r\n\x1a\n", 8) == 0) {
            *found = true;   /* the signature starts a block: all before it was zero */
            return false;
        }
        for (ssize_t i = k; i < got && i < k + 512; i++)
            if (b[i])
                return true;
    }
    return false;
}

bool sn_fs_hdf5_after_other_data(const char *path)
{
    unsigned char sb[12];
    bool sealed, found = false, other = false;
    if (!sn_fs_hdf5_superblock(path, sb, &sealed) || sealed)
        return false;
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    unsigned char *b = fd >= 0 ? malloc(65536) : NULL;
    for (off_t at = 0; b && !other && !found;) {
        const off_t data = lseek(fd, at, SEEK_DATA);   /* a hole reads as zeros */
        if (data > at)
            at = data & ~(off_t)511;
        if (at > USER_BLOCK_MAX) {   /* a user block of 64 MiB itself is looked at */
            other = true;
            break;
        }
        const ssize_t got = pread(fd, b, 65536, at);
        if (got < 8)
            break;
        other = other_before_signature(b, got, &found);
        at += got;
    }
    free(b);
    if (fd >= 0)
        close(fd);
    return other;
}

bool sn_fs_is_hdf5(const char *path)
{
    unsigned char sb[12];
    bool sealed;
    return sn_fs_hdf5_superblock(path, sb, &sealed) || sealed;
}

bool sn_fs_is_mount_point(const char *path)
{
    struct statx sx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) != 0)
        return false;
    if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
        return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    char dir[4096];   /* an older kernel: a file of another device than its folder's */
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    struct stat sd;
    return stat(slash ? dir : ".", &sd) == 0 &&
           (sd.st_dev != makedev(sx.stx_dev_major, sx.stx_dev_minor));
}

bool sn_fs_held_for_writing(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);   /* and with it the shared lock, when it was taken */
    return held;
}

const char *sn_fs_proc_stat(long pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *fp = len > 1 ? fopen(path, "r") : NULL;
    const size_t n = fp ? fread(buf, 1, len - 1, fp) : 0;
    if (fp)
        fclose(fp);
    if (len > 0)
        buf[n] = '\0';
    const char *end = n ? strrchr(buf, ')') : NULL;
    return end ? end + 1 : NULL;
}
