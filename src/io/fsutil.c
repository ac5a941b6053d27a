/* fsutil: temporary file, fsync, rename (see fsutil.h). */
#include "io/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

void sn_fs_tmpname(const char *path, char *tmp, size_t tmp_len)
{
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(tmp, tmp_len, "%.*s/.%s.tmp.%ld", (int)(slash - path), path, slash + 1,
                 (long)getpid());
    else
        snprintf(tmp, tmp_len, ".%s.tmp.%ld", path, (long)getpid());
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

int sn_fs_commit(const char *tmp, const char *path)
{
    if (fsync_path(tmp, O_RDONLY) != 0) {
        int e = errno;
        unlink(tmp);
        return sn_fail(SN_EIO, "%s: fsync failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sn_fail(SN_EIO, "%s: cannot rename into place: %s", path, strerror(e));
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    if (dir[0] == '\0')
        snprintf(dir, sizeof dir, "/");
    fsync_path(dir, O_RDONLY | O_DIRECTORY);   /* best effort: not all file systems allow it */
    return SN_OK;
}

int sn_fs_mkdirs(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return sn_fail(SN_EIO, "bad folder name '%s'", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return sn_fail(SN_EINVAL, "%s: cannot create folder: %s", buf, strerror(errno));
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

int sn_fs_open_failed(const char *path, int err, const char *hint)
{
    return sn_fail(SN_EINVAL, "%s: cannot open: %s%s%s", path,
                   err ? strerror(err) : "unknown reason", hint ? " " : "", hint ? hint : "");
}
