/* ckptdir: the checkpoint folder (see ckptdir.h). */
#include "train/ckptdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/interrupt.h"
#include "core/status.h"
#include "core/text.h"
#include "io/fingerprint.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/record.h"
#include "io/weights.h"
#include "train/trajectory.h"

/* The length of dir without its trailing slashes: the files of "ckpt/"
 * are ckpt/ckpt-..., not ckpt//ckpt-... (and those of "/" are /ckpt-...). */
static int dir_len(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/')
        n--;
    return (int)n;
}

int sn_ckptdir_path(const char *dir, int64_t step, char *path, size_t len)
{
    int n = snprintf(path, len, "%.*s/ckpt-%08lld.h5", dir_len(dir), dir, (long long)step);
    if (n < 0 || (size_t)n >= len)
        return sn_fail(SN_EINVAL, "%s: the checkpoint folder's name is too long", dir);
    return SN_OK;
}

/* The step of a checkpoint's file name, or -1 for any other name: only
 * the exact form the trainer writes counts ("ckpt-+5.h5", "ckpt- 5.h5" and
 * "ckpt-5.h5" do not). */
static int64_t step_of(const char *name)
{
    if (strncmp(name, "ckpt-", 5) != 0)
        return -1;
    const char *p = name + 5;
    int64_t step = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
        step = 10 * step + (*p - '0');
    char again[64];
    snprintf(again, sizeof again, "ckpt-%08lld.h5", (long long)step);
    return digits > 0 && strcmp(again, name) == 0 ? step : -1;
}

bool sn_ckptdir_is_name(const char *name)
{
    return step_of(name) >= 0 || strcmp(name, ".lock") == 0 ||
           (strncmp(name, ".ckpt-", 6) == 0 && strstr(name, ".tmp."));
}

static int newest_first(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

int sn_ckptdir_list(const char *dir, int64_t **steps, size_t *n)
{
    *steps = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? SN_OK
                               : sn_fail(SN_EIO, "%s: cannot read the checkpoint folder: %s", dir,
                                         strerror(errno));
    size_t cap = 0;
    int rc = SN_OK;
    for (struct dirent *e; rc == SN_OK && (e = readdir(d));) {
        int64_t step = step_of(e->d_name);
        if (step < 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *more = realloc(*steps, cap * sizeof *more);
            if (!more) {
                rc = sn_fail(SN_ENOMEM, "out of memory listing %s", dir);
                break;
            }
            *steps = more;
        }
        (*steps)[(*n)++] = step;
    }
    closedir(d);
    if (rc) {
        free(*steps);
        *steps = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*steps, *n, sizeof **steps, newest_first);
    return SN_OK;
}

/* A checkpoint's name in the folder must be a regular file: a folder or a
 * FIFO there is never read, replaced or removed, and a symbolic link (to
 * anything) would have the run's checkpoint written through it onto
 * whatever file it names, outside the folder. */
static int check_entry(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return sn_fail(SN_EUSAGE, "%s cannot be read (%s): in a checkpoint folder the names "
                       "ckpt-<step>.h5 are the run's checkpoints (move it out of the folder)",
                       path, strerror(errno));
    if (S_ISLNK(st.st_mode))
        return sn_fail(SN_EUSAGE, "%s is a symbolic link: in a checkpoint folder the names "
                       "ckpt-<step>.h5 are the run's checkpoints, never written through a link "
                       "(remove the link)", path);
    if (!S_ISREG(st.st_mode))
        return sn_fail(SN_EUSAGE, "%s is %s, not a regular file: in a checkpoint folder the "
                       "names ckpt-<step>.h5 are the run's checkpoints (move it out of the "
                       "folder)", path, sn_fs_kind(&st));
    return SN_OK;
}

/* What a file found at a checkpoint's name is, for the warning that keeps
 * it aside, and whether it is damaged (what --resume auto passes over: a
 * checkpoint whose seal fails, or HDF5 that cannot be checked). */
static const char *found_file(const char *path, bool *damaged)
{
    static char other[160];
    struct stat st;
    *damaged = false;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {   /* renamed as it is: the entry */
        snprintf(other, sizeof other, "%s, not this run's checkpoint", sn_fs_kind(&st));
        return other;
    }
    const enum sn_file_kind k = sn_file_kind(path);
    *damaged = k == SN_FILE_UNKNOWN ||
               (k == SN_FILE_CHECKPOINT && sn_h5_check_seal(path) != SN_OK);
    if (*damaged)
        return "passed over as damaged when the run resumed?";
    if (k == SN_FILE_CHECKPOINT)
        return "a checkpoint this run did not write";
    snprintf(other, sizeof other, "%s, not this run's checkpoint", sn_file_kind_words(k));
    return other;
}

int sn_ckptdir_set_aside(const char *path, char *aside, size_t len, const char **what)
{
    struct stat st;
    bool damaged = false;
    aside[0] = '\0';
    *what = "";
    if (lstat(path, &st) != 0 && errno == ENOENT)
        return SN_OK;
    *what = found_file(path, &damaged);
    const char *suffix = damaged ? "damaged" : "kept";
    for (int i = 1; i <= 100; i++) {
        int n = i == 1 ? snprintf(aside, len, "%s.%s", path, suffix)
                       : snprintf(aside, len, "%s.%s-%d", path, suffix, i);
        if (n < 0 || (size_t)n >= len)
            break;
        if (lstat(aside, &st) == 0 || errno != ENOENT)
            continue;
        if (rename(path, aside) == 0)
            return SN_OK;
        return sn_fail(SN_EIO, "%s is there already and cannot be kept aside as %s (%s)", path,
                       aside, strerror(errno));
    }
    aside[0] = '\0';
    return sn_fail(SN_EIO, "%s is there already and no free name is left to keep it aside "
                   "(%s.%s and up to .%s-100 are taken)", path, path, suffix, suffix);
}

/* Whether the folder's flock(2) lock is required: SN_CKPT_LOCK=none makes
 * it optional, for a file system that has no flock (Lustre mounted
 * without it: ENOSYS), where a run must never share its folder; a lock
 * another run holds is still seen where locks work.  SN_EUSAGE for
 * another value. */
static int lock_wanted(bool *wanted)
{
    const char *v = getenv("SN_CKPT_LOCK");
    *wanted = !v || strcmp(v, "flock") == 0;
    if (v && !*wanted && strcmp(v, "none") != 0)
        return sn_fail(SN_EUSAGE, "SN_CKPT_LOCK=%.40s: give flock (the default) or none (the "
                       "checkpoint folder's lock only where its file system has flock)", v);
    return SN_OK;
}

/* flock's errors for a file system that has no such locks. */
static bool no_locks(int err)
{
    return err == ENOSYS || err == ENOLCK || err == EOPNOTSUPP || err == EINVAL;
}

/* flock on the lock file f failed with err: the run holding it, named
 * from what it wrote there (closes f). */
static int refuse_held(const char *dir, int f, int err)
{
    char holder[256] = "";
    /* the holder writes its line just after it locks: a moment to do so */
    for (int tries = 0; tries < 20 && !strchr(holder, '\n'); tries++) {
        if (tries)
            nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
        ssize_t n = pread(f, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
    }
    holder[strcspn(holder, "\n")] = '\0';
    close(f);
    if (no_locks(err))
        return sn_fail(SN_EIO, "%s: cannot lock the checkpoint folder: %s: its file system "
                       "has no flock(2) locks (Lustre mounts them with -o flock); give a folder "
                       "on one that has, or set SN_CKPT_LOCK=none and never start two runs in "
                       "this folder from two hosts", dir, strerror(err));
    if (err != EWOULDBLOCK)
        return sn_fail(SN_EIO, "%s: cannot lock the checkpoint folder: %s", dir, strerror(err));
    return sn_fail(SN_EUSAGE, "%s is in use by another run (%s): two runs in one "
                   "checkpoint folder would overwrite each other's checkpoints; give this "
                   "run its own --checkpoint-dir", dir, holder[0] ? holder : "holder unknown");
}

/* Whether process pid started after time t (seconds since the epoch):
 * /proc/PID/stat's start in clock ticks after boot, /proc/stat's boot
 * time; readable for any user's process. */
static bool started_after(long pid, time_t t)
{
    char buf[1024];
    const char *p = sn_fs_proc_stat(pid, buf, sizeof buf);
    unsigned long long start = 0, boot = 0;
    /* fields 3 to 21 skipped, then 22: the start */
    if (!p || sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                            "%*d %*d %*d %llu", &start) != 1)
        return false;
    FILE *fp = fopen("/proc/stat", "r");
    for (char line[256]; fp && fgets(line, sizeof line, fp) && !boot;)
        if (sscanf(line, "btime %llu", &boot) != 1)
            boot = 0;
    if (fp)
        fclose(fp);
    const long hz = sysconf(_SC_CLK_TCK);
    return boot > 0 && hz > 0 && (double)boot + (double)start / (double)hz > (double)t + 1.0;
}

/* Whether the lock file's line (host NAME, pid N) names a process alive on
 * this host, other than this one, that holds the lock file f open: where
 * the file system has no flock (SN_CKPT_LOCK=none), the line is all that
 * tells a live run from a finished one, and the open file tells a run
 * under any program name (a link, valgrind, ld.so) from a reused pid or a
 * zombie.  A process whose files this user cannot see counts as alive,
 * unless it started after the line was written (a pid reused by another
 * user's process on a shared node). */
static bool holder_alive(const char *line, int f)
{
    char host[128], me[128] = "", path[64];
    long pid;
    struct stat lock, st;
    if (sscanf(line, "host %127[^,], pid %ld", host, &pid) != 2 || pid <= 0 ||
        pid == (long)getpid() || (sn_text_host(me, sizeof me), strcmp(host, me) != 0) ||
        fstat(f, &lock) != 0)
        return false;
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    DIR *d = opendir(path);
    if (!d)
        return errno == EACCES && (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
               !started_after(pid, lock.st_mtime);
    bool open_here = false;
    for (struct dirent *e; !open_here && (e = readdir(d));) {
        char fd_path[128];
        snprintf(fd_path, sizeof fd_path, "%s/%.40s", path, e->d_name);
        open_here = e->d_name[0] != '.' && stat(fd_path, &st) == 0 && st.st_dev == lock.st_dev &&
                    st.st_ino == lock.st_ino;
    }
    closedir(d);
    return open_here;
}

/* refuse_held's refusal of a folder whose lock file names a live run (its
 * file system has no flock to say so). */
static int refuse_named(const char *dir, int f, const char *line)
{
    close(f);
    return sn_fail(SN_EUSAGE, "%s is in use by another run (%.*s, alive; its file system has no "
                   "flock(2) locks, so the lock file's line tells): two runs in one checkpoint "
                   "folder would overwrite each other's checkpoints; give this run its own "
                   "--checkpoint-dir (if that process is no run of this folder, remove "
                   "%s/.lock)", dir, (int)strcspn(line, "\n"), line, dir);
}

/* Whether another run holds dir's lock, asked without writing anything
 * (a shared lock taken and given back): the first thing to say of a
 * folder in use, before what it holds. */
static int check_not_held(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%.*s/.lock", dir_len(dir), dir) >= (int)sizeof path)
        return SN_OK;   /* sn_ckptdir_lock says it */
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (f < 0)
        return SN_OK;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return SN_OK;   /* sn_ckptdir_lock refuses it, naming what it is */
    }
    bool wanted;
    int rc = lock_wanted(&wanted);
    const bool locked = !rc && flock(f, LOCK_SH | LOCK_NB) == 0;
    if (!rc && !locked && (wanted || !no_locks(errno)))
        return refuse_held(dir, f, errno);
    char line[256];
    const ssize_t n = rc || locked ? 0 : pread(f, line, sizeof line - 1, 0);
    line[n > 0 ? n : 0] = '\0';
    if (holder_alive(line, f))
        return refuse_named(dir, f, line);
    close(f);   /* gives the shared lock back */
    if (rc)
        return rc;
    return SN_OK;
}

int sn_ckptdir_check_name(const char *dir)
{
    if (strlen(dir) > SN_CKPTDIR_MAX_NAME)
        return sn_fail(SN_EUSAGE, "--checkpoint-dir %s: the folder's name is %zu bytes, more "
                       "than %d: the files the run writes in it would pass the system's limit "
                       "of 4096 bytes for a path", dir, strlen(dir), SN_CKPTDIR_MAX_NAME);
    return SN_OK;
}

int sn_ckptdir_check(const char *dir, bool fresh)
{
    int64_t *steps;
    size_t n;
    char path[4096];
    if (sn_ckptdir_check_name(dir))
        return SN_EUSAGE;
    int rc = check_not_held(dir);
    if (rc)
        return rc;
    rc = sn_ckptdir_list(dir, &steps, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = sn_ckptdir_path(dir, steps[i], path, sizeof path);
        if (!rc)
            rc = check_entry(path);
    }
    if (!rc && n && fresh && !(rc = sn_ckptdir_path(dir, steps[0], path, sizeof path))) {
        struct stat st;   /* when: a run of someone else's folder is told from one's own */
        char when[64] = "";
        struct tm tm;   /* none for a time past what a struct tm holds (round 70 F13) */
        if (stat(path, &st) == 0 && localtime_r(&st.st_mtime, &tm))
            strftime(when, sizeof when, ", written %Y-%m-%d %H:%M", &tm);
        rc = sn_fail(SN_EUSAGE, "--checkpoint-dir %s already holds %zu checkpoint%s of an "
                     "earlier run (the newest: %s%s): a run started without --resume would "
                     "overwrite and remove them; if that run is yours, add --resume auto to "
                     "continue it, else give this run another folder", dir, n,
                     n == 1 ? "" : "s", path, when);
    }
    free(steps);
    return rc;
}

/* The lock file another user's run left (made 0644 under umask 022: this
 * user may not write it; user 44 U4: the folder was tied to its first
 * user).  Refused naming its holder when a run holds it now; else
 * removed, so that this run makes its own (*replaced: try again). */
static int other_users_lock(const char *dir, const char *path, bool *replaced)
{
    struct stat st;
    const int ro = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (ro < 0 || fstat(ro, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (ro >= 0)
            close(ro);
        return sn_fail(SN_EIO, "%s: cannot make the folder's lock file: %s", path,
                       strerror(EACCES));
    }
    if (flock(ro, LOCK_EX | LOCK_NB) != 0)
        return refuse_held(dir, ro, errno);
    const struct passwd *pw = getpwuid(st.st_uid);
    const int gone = unlink(path);   /* still locked: a run opening it now finds it replaced */
    close(ro);
    if (gone != 0)
        return sn_fail(SN_EUSAGE, "%s is the lock file a run of %s (uid %ld) left, which no run "
                       "holds now, and this user may neither write nor remove it (a folder "
                       "with the sticky bit?): its owner may remove it, or give this run "
                       "another --checkpoint-dir", path, pw ? pw->pw_name : "another user",
                       (long)st.st_uid);
    *replaced = true;
    return SN_OK;
}

/* sn_ckptdir_lock, once: *replaced when the file locked lost its name
 * meanwhile (try again). */
static int lock_once(const char *dir, int *fd, bool *replaced, char *was, size_t was_len)
{
    char path[4096], holder[256] = "";
    *fd = -1;
    *replaced = false;
    if (snprintf(path, sizeof path, "%.*s/.lock", dir_len(dir), dir) >= (int)sizeof path)
        return sn_fail(SN_EINVAL, "%s: the checkpoint folder's name is too long", dir);
    bool wanted;   /* before anything is made: a refused run leaves no .lock */
    int rc = lock_wanted(&wanted);
    if (rc)
        return rc;
    /* never through a link, never a FIFO or device: the lock file is
     * truncated and written, and whoever can write the folder could plant
     * a link to a file of ours under its name */
    /* 0666 less the umask: where the group may write, so may its runs */
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666);
    if (f < 0 && errno == EACCES && access(dir, W_OK) == 0)
        return other_users_lock(dir, path, replaced);
    if (f < 0 && errno == ELOOP)
        return sn_fail(SN_EUSAGE, "%s is a symbolic link: the checkpoint folder's lock file "
                       "must be a regular file (remove the link)", path);
    if (f < 0 && errno == EISDIR)
        return sn_fail(SN_EUSAGE, "%s is a folder: the checkpoint folder's lock file must be a "
                       "regular file (remove it)", path);
    struct stat st;
    if (f < 0 && errno == ENXIO && lstat(path, &st) == 0)   /* a socket */
        return sn_fail(SN_EUSAGE, "%s is %s, not a regular file: the checkpoint folder's lock "
                       "file must be one (remove it)", path, sn_fs_kind(&st));
    if (f < 0)
        return sn_fail(SN_EIO, "%s: cannot make the folder's lock file: %s", path,
                       strerror(errno));
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return sn_fail(SN_EUSAGE, "%s is not a regular file: the checkpoint folder's lock file "
                       "must be one (remove it)", path);
    }
    if (st.st_nlink > 1) {   /* a hard link: writing it would change the other name's file */
        close(f);
        return sn_fail(SN_EUSAGE, "%s has %ld names (a hard link to another file): the "
                       "checkpoint folder's lock file is written, which would change that file "
                       "(remove %s)", path, (long)st.st_nlink, path);
    }
    const bool locked = flock(f, LOCK_EX | LOCK_NB) == 0;
    if (!locked && (wanted || !no_locks(errno))) {
        const int err = errno;
        if (err != EWOULDBLOCK && st.st_size == 0)   /* made just now: a refused run leaves none */
            unlink(path);
        return refuse_held(dir, f, err);
    }
    /* the lock must be on the file that has the name now: a run that
     * failed before its first step removes the lock file it made
     * (sn_ckptdir_unlock_remove), and one that opened it just before
     * would hold a lock on a file nobody else can find */
    struct stat now;
    if (stat(path, &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
        close(f);
        *replaced = true;
        return SN_OK;
    }
    if (st.st_size >= (off_t)was_len) {   /* one line names a holder: this is no lock file */
        close(f);
        return sn_fail(SN_EUSAGE, "%s holds %lld bytes, more than a lock file's line naming a "
                       "host and a pid: not scratchnet's lock file? (remove it, or give this run "
                       "another --checkpoint-dir)", path, (long long)st.st_size);
    }
    const ssize_t had = pread(f, was, was_len - 1, 0);   /* the last holder's, kept */
    was[had > 0 ? had : 0] = '\0';
    if (!locked && holder_alive(was, f))
        return refuse_named(dir, f, was);
    char host[128];
    sn_text_host(host, sizeof host);
    int len = snprintf(holder, sizeof holder, "host %s, pid %ld\n", host, (long)getpid());
    /* the line first, then the length: a run that finds the lock held
     * reads a whole line, never an empty file between the two */
    if (pwrite(f, holder, (size_t)len, 0) != len || ftruncate(f, len) != 0) {
        int err = errno;
        close(f);
        return sn_fail(SN_EIO, "%s: cannot write the lock file: %s", path, strerror(err));
    }
    *fd = f;
    return SN_OK;
}

int sn_ckptdir_lock(const char *dir, int *fd, char *was, size_t was_len)
{
    bool replaced = true;
    int rc = SN_OK;
    for (int tries = 0; !rc && replaced && tries < 10; tries++)
        rc = lock_once(dir, fd, &replaced, was, was_len);
    if (!rc && replaced)
        rc = sn_fail(SN_EIO, "%s/.lock keeps being replaced while it is locked", dir);
    return rc;
}

/* 1 while dir/.lock is the file locked through fd; 0 when it is not; -1
 * when that lock file lost its only name (removed, not moved) and nothing
 * has the name now; -2 when the folder itself is gone (removed whole). */
static int same_lock(const char *dir, int fd)
{
    char path[4096];
    struct stat held, now;
    if (snprintf(path, sizeof path, "%.*s/.lock", dir_len(dir), dir) >= (int)sizeof path ||
        fstat(fd, &held) != 0)
        return 0;
    if (stat(path, &now) == 0)
        return held.st_dev == now.st_dev && held.st_ino == now.st_ino;
    if (errno != ENOENT || held.st_nlink != 0)
        return 0;
    if (stat(dir, &now) != 0)
        return errno == ENOENT ? -2 : 0;
    return now.st_dev == held.st_dev ? -1 : 0;
}

int sn_ckptdir_still_ours(const char *dir, int *fd, const char **remade)
{
    *remade = NULL;
    if (*fd < 0)
        return SN_OK;
    const int same = same_lock(dir, *fd);
    if (same == 1)
        return SN_OK;
    char was[256];
    int again = -1;
    /* a cleanup removed .lock alone (the folder is still the run's), or
     * the whole folder (made again: checkpoints from here on) */
    if (same < 0) {
        int rc = same == -2 ? sn_fs_mkdirs(dir) : SN_OK;
        if (!rc)
            rc = sn_ckptdir_lock(dir, &again, was, sizeof was);
        if (rc)
            return sn_fail_prefix(SN_EIO, "%s/.lock was removed while the run ran and cannot "
                                  "be made again, so no more checkpoints are written there "
                                  "(this run stops; resume it from them): ", dir);
        sn_ckptdir_unlock(*fd);
        *fd = again;
        *remade = same == -2 ? "the folder" : "its lock file";
        return SN_OK;
    }
    return sn_fail(SN_EIO, "the checkpoint folder %s is no longer the one this run locked "
                   "(moved, or replaced by a link, while the run ran): nothing more is written "
                   "there, and this run stops; its checkpoints are where the folder went "
                   "(resume it from them)", dir);
}

void sn_ckptdir_unlock_remove(const char *dir, int fd)
{
    char path[4096];
    if (fd >= 0 && same_lock(dir, fd) == 1 &&
        snprintf(path, sizeof path, "%.*s/.lock", dir_len(dir), dir) < (int)sizeof path)
        unlink(path);   /* still locked: a run opening it now finds it replaced (lock_once) */
    sn_ckptdir_unlock(fd);
}

void sn_ckptdir_unlock_restore(int fd, const char *was)
{
    if (fd >= 0 && ftruncate(fd, 0) == 0) {
        ssize_t w = pwrite(fd, was, strlen(was), 0);   /* failed: a holder's name lost, no more */
        (void)w;
    }
    sn_ckptdir_unlock(fd);
}

bool sn_ckptdir_has_lock_file(const char *dir)
{
    char path[4096];
    struct stat st;
    return snprintf(path, sizeof path, "%.*s/.lock", dir_len(dir), dir) < (int)sizeof path &&
           lstat(path, &st) == 0;
}

void sn_ckptdir_unlock(int fd)
{
    if (fd >= 0)
        close(fd);   /* releases the flock */
}

/* Whether the file f (at path) is a checkpoint this run could have
 * written: this model's, with /state, and a run record a resume of this
 * run would accept.  1 yes; 0 another model's (left without a word); 2
 * this model's but not this run's (a weights file, another run's
 * checkpoint: left, with the reason in sn_errmsg); -1 unreadable. */
static int whose(struct sn_h5 *f, const struct sn_ckptdir_owner *own)
{
    char *text = NULL, fp[64], differ[256];
    if (!sn_h5_has_attr(f, "/model", "cfg"))
        return sn_fail(SN_EINVAL, "not a scratchnet weights file (no /model cfg attribute)"), -1;
    if (sn_h5_attr_get_str(f, "/model", "cfg", &text))
        return -1;
    sn_model_text_fingerprint(text, fp, sizeof fp);
    free(text);
    if (strcmp(fp, own->model_fp) != 0)
        return 0;
    if (!sn_h5_exists(f, "/state"))
        return sn_fail(SN_EINVAL, "a weights file, not a checkpoint (no /state)"), 2;
    struct sn_run_record *rec = malloc(sizeof *rec);
    int rc = rec ? sn_record_read(f, rec) : SN_ENOMEM;
    int differs = rc || !own->record ? 0
                : sn_trajectory_differ(rec, own->record, own->overrides, differ, sizeof differ);
    free(rec);
    if (rc)
        return -1;
    if (differs < 0)
        return sn_fail(SN_EINVAL, "a checkpoint without a run record (/run): it cannot be "
                       "told to be this run's"), 2;
    if (differs)
        return sn_fail(SN_EINVAL, "another run's checkpoint (its %s differ%s from this run's)",
                       differ, strchr(differ, ',') ? "" : "s"), 2;
    return 1;
}

static int owner(const char *path, const struct sn_ckptdir_owner *own)
{
    struct sn_h5 *f = NULL;
    int rc = check_entry(path);
    if (!rc)
        rc = sn_weights_open(path, &f);
    if (rc)
        return -1;
    const int who = whose(f, own);
    sn_h5_close(f);
    return who;
}

/* Owners already read, by the file's identity: every save looks at the
 * whole folder, and reading a checkpoint's model checks the file whole
 * (its seal, the HDF5 probe's child), so one unchanged since is not read
 * (nor warned about) again (--keep 40 made a run of 80 saves 30 times
 * slower). */
static struct known_owner {
    struct sn_file_stamp stamp;
    char fp[64];
    int who;
    bool stuck_said;   /* --keep could not remove it, and said so */
} *owners;   /* one for every file the folder holds: grown as it grows (64 slots
              * reused made a folder of 150 kept files read whole at every save) */
static int n_owners, cap_owners;

static void remember(const struct sn_file_stamp *stamp, const char *model_fp, int who)
{
    if (n_owners == cap_owners) {   /* at a save, not in a step */
        const int cap = cap_owners ? 2 * cap_owners : 64;
        struct known_owner *grown = realloc(owners, (size_t)cap * sizeof *owners);
        if (grown) {
            owners = grown;
            cap_owners = cap;
        }
    }
    if (cap_owners == 0)
        return;   /* no memory: read again next time */
    const size_t slot = n_owners < cap_owners ? (size_t)n_owners++ : stamp->ino % cap_owners;
    struct known_owner *k = &owners[slot];
    *k = (struct known_owner){ .stamp = *stamp, .who = who };
    snprintf(k->fp, sizeof k->fp, "%s", model_fp);
}

/* A file --keep removed: its slot goes to the next (the table holds what
 * the folder holds, not every checkpoint a long run wrote). */
static void forget(const struct sn_file_stamp *stamp)
{
    for (int i = 0; i < n_owners; i++)
        if (sn_fs_stamp_same(&owners[i].stamp, stamp)) {
            owners[i] = owners[--n_owners];
            return;
        }
}

void sn_ckptdir_note_ours(const char *path, const char *model_fp)
{
    struct sn_file_stamp stamp;
    if (sn_fs_stamp(path, &stamp) == 0)
        remember(&stamp, model_fp, 1);
}

/* whose (1, 0, 2 or -1), and *fresh when the file was read now (its
 * reason, if any, in sn_errmsg) rather than known from before */
static int owner_of(const char *path, const struct sn_ckptdir_owner *own, bool *fresh)
{
    struct sn_file_stamp stamp;
    *fresh = true;
    if (sn_fs_stamp(path, &stamp) != 0)
        return owner(path, own);
    for (int i = 0; i < n_owners; i++) {
        const struct known_owner *k = &owners[i];
        if (sn_fs_stamp_same(&k->stamp, &stamp) && strcmp(k->fp, own->model_fp) == 0) {
            *fresh = false;
            return k->who;
        }
    }
    int who = owner(path, own);
    remember(&stamp, own->model_fp, who);
    return who;
}

/* Whether the file at path was already said to be one --keep cannot
 * remove (marked said now): said once, not at every save. */
static bool stuck_said_before(const char *path)
{
    struct sn_file_stamp stamp;
    if (sn_fs_stamp(path, &stamp) != 0)
        return false;
    for (int i = 0; i < n_owners; i++)
        if (sn_fs_stamp_same(&owners[i].stamp, &stamp)) {
            const bool before = owners[i].stuck_said;
            owners[i].stuck_said = true;
            return before;
        }
    return false;
}

/* "--keep leaves PATH: why", the why (sn_errmsg) without PATH again */
static void warn_left(const char *path, void (*warn)(void *ctx, const char *msg), void *ctx)
{
    const char *why = sn_errmsg();
    const size_t n = strlen(path);
    if (strncmp(why, path, n) == 0 && why[n] == ':')
        why += n + 2;
    char msg[1200];
    if (strncmp(why, path, n) == 0 && why[n] == ' ')   /* "PATH is a folder" */
        snprintf(msg, sizeof msg, "--keep leaves %.600s: it%.500s", path, why + n);
    else
        snprintf(msg, sizeof msg, "--keep leaves %.600s: %.500s", path, why);
    warn(ctx, msg);
}

int sn_ckptdir_prune(const char *dir, size_t keep, const struct sn_ckptdir_owner *own,
                     int64_t upto, void (*warn)(void *ctx, const char *msg), void *ctx)
{
    int64_t *steps;
    size_t n, ours = 0;
    int rc = sn_ckptdir_list(dir, &steps, &n);
    int removed = 0;
    static bool announced;   /* each file is read whole once (then remembered) */
    if (!rc && n > 100 && !announced && warn) {
        char msg[700];
        snprintf(msg, sizeof msg, "--keep %zu: reading the %zu checkpoints in %.500s once, to "
                 "find this run's (about 0.1 s each)", keep, n, dir);
        warn(ctx, msg);
        announced = true;
    }
    for (size_t i = 0; rc == SN_OK && i < n && !sn_interrupt_pending(); i++) {
        char path[4096];
        bool fresh;
        if (steps[i] > upto)   /* later than this run's newest: another run's */
            continue;
        rc = sn_ckptdir_path(dir, steps[i], path, sizeof path);
        int who = rc ? 0 : owner_of(path, own, &fresh);
        if (sn_interrupt_pending())   /* a stop, not a word about the file it was reading */
            break;
        static int left_said;   /* a folder of 1,000 foreign files: not 1,000 lines */
        if ((who < 0 || who == 2) && fresh && warn && ++left_said <= 10)
            warn_left(path, warn, ctx);
        else if ((who < 0 || who == 2) && fresh && warn && left_said == 11)
            warn(ctx, "--keep leaves more files of other runs or that it cannot read; they are "
                      "not named one by one");
        if (who != 1 || ++ours <= keep)
            continue;
        /* one that cannot go (immutable, a mount point) is left, said:
         * ending the run for it lost the run's --out; one its owner made
         * read-only is one it keeps (rm asks before removing it) */
        struct stat st;
        struct sn_file_stamp gone;
        const bool read_only = stat(path, &st) == 0 && !(st.st_mode & S_IWUSR);
        const bool stamped = sn_fs_stamp(path, &gone) == 0;
        if (read_only || (remove(path) != 0 && errno != ENOENT)) {
            char msg[1200];
            if (read_only)
                snprintf(msg, sizeof msg, "--keep leaves %.600s: it is read-only (chmod u+w "
                         "lets --keep remove it)", path);
            else
                snprintf(msg, sizeof msg, "--keep leaves %.600s: it cannot be removed (%s)",
                         path, strerror(errno));
            static int stuck_said;   /* a folder of 150 read-only ones: not 150 lines */
            if (warn && !stuck_said_before(path) && ++stuck_said <= 10)
                warn(ctx, stuck_said < 10 ? msg
                          : "--keep leaves more checkpoints it may not remove (read-only, or "
                            "that cannot be removed); they are not named one by one");
            continue;
        }
        if (stamped)
            forget(&gone);
        removed++;
    }
    free(steps);
    return rc ? rc : removed;
}

/* ".ckpt-<digits>.h5.tmp.<digits>": what sn_fs_tmpname_here names a
 * checkpoint being written. */
static bool is_ckpt_tmp(const char *name)
{
    int step_end = 0, pid_end = 0;
    if (sscanf(name, ".ckpt-%*[0-9].h5%n", &step_end) != 0 || step_end == 0)
        return false;
    if (sscanf(name + step_end, ".tmp.%*[0-9]%n", &pid_end) != 0 || pid_end == 0)
        return false;
    return name[step_end + pid_end] == '\0';
}

/* A write cut short is no whole file: no seal, or a seal its bytes do not
 * match.  A sealed file, or a dataset or weights another tool wrote, only
 * carries the name (a complete 55 MB dataset so named was removed). */
static bool cut_short(const char *path)
{
    if (sn_h5_check_seal(path) == SN_OK)
        return false;
    const enum sn_file_kind k = sn_file_kind(path);
    return k != SN_FILE_DATASET && k != SN_FILE_WEIGHTS;
}

int sn_ckptdir_remove_tmp(const char *dir, char *first, size_t first_len, char *kept,
                          size_t kept_len)
{
    DIR *d = opendir(dir);
    int n = 0;
    first[0] = kept[0] = '\0';
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        char path[4096];
        struct stat st;
        if (!is_ckpt_tmp(e->d_name) ||
            snprintf(path, sizeof path, "%.*s/%s", dir_len(dir), dir, e->d_name) >=
                (int)sizeof path ||
            lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!cut_short(path)) {
            snprintf(kept, kept_len, "%s", path);
            continue;
        }
        if (unlink(path) == 0 && n++ == 0)
            snprintf(first, first_len, "%s", path);
    }
    closedir(d);
    return n;
}
