/* cifar10: read the official binary batches (see cifar10.h). */
#include "io/cifar10.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/interrupt.h"
#include "core/status.h"
#include "io/fsutil.h"

#define REC (1 + 3 * 32 * 32)

static const char *const default_names[10] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
};

/* Append the records of one batch file to s. */
/* A batch file of the official set holds 10,000 records (30,730,000
 * bytes); one ten times that is not one, and is refused before anything
 * is allocated for it. */
#define BATCH_MAX_RECORDS 100000

static int read_batch(const char *path, struct sn_folder *s)
{
    FILE *f;
    if (sn_fs_open_input(path, "CIFAR-10 batch", (size_t)BATCH_MAX_RECORDS * REC, &f, NULL))
        return sn_fail_suffix(SN_EINVAL, " (is this the CIFAR-10 binary version?)");
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (bytes == 0) {
        fclose(f);
        return sn_fail(SN_EINVAL, "%s: the file is empty (a CIFAR-10 batch holds 10,000 records "
                       "of %d bytes)", path, REC);
    }
    if (bytes < 0 || bytes % REC != 0) {
        fclose(f);
        return sn_fail(SN_EINVAL, "%s: %ld bytes is not a whole number of %d-byte records", path,
                       bytes, REC);
    }
    size_t n = (size_t)bytes / REC, row = (size_t)REC - 1;
    uint8_t *x = realloc(s->x, (s->n + n) * row);
    int32_t *y = x ? realloc(s->y, (s->n + n) * sizeof *y) : NULL;
    if (x)
        s->x = x;
    if (y)
        s->y = y;
    int rc = x && y ? SN_OK : sn_fail(SN_ENOMEM, "out of memory");
    unsigned char rec[REC];
    for (size_t i = 0; i < n && !rc; i++) {
        if (i % 4096 == 4095 && (rc = sn_interrupt_check("reading the CIFAR-10 batches")))
            break;
        if (fread(rec, 1, REC, f) != REC)
            rc = sn_fail(SN_EINVAL, "%s: short read at record %zu", path, i);
        else if (rec[0] > 9)
            rc = sn_fail(SN_EINVAL, "%s: record %zu has label %d (0..9 expected)", path, i, rec[0]);
        else {
            s->y[s->n] = rec[0];
            memcpy(s->x + s->n * row, rec + 1, row);
            s->n++;
        }
    }
    fclose(f);
    return rc;
}

/* Line c + 1 of f into line (at most 254 bytes, without its newline and a
 * CR before it), or fail naming what is wrong with it. */
static int read_line(FILE *f, const char *path, int c, char line[256])
{
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF && ch != '\n') {
        if (ch == '\0')
            return sn_fail(SN_EINVAL, "%s:%d: a NUL byte in a class name", path, c + 1);
        if (n == 254)
            return sn_fail(SN_EINVAL, "%s:%d: a class name longer than 254 bytes", path, c + 1);
        line[n++] = (char)ch;
    }
    if (ch == EOF && n == 0)
        return sn_fail(SN_EINVAL, "%s: names %d classes; CIFAR-10 has 10, one a line", path, c);
    if (n > 0 && line[n - 1] == '\r')   /* a Windows line end */
        n--;
    line[n] = '\0';
    if (strchr(line, '\r'))   /* not cut there: the rest of the name would be lost */
        return sn_fail(SN_EINVAL, "%s:%d: a carriage return inside a class name", path, c + 1);
    return SN_OK;
}

/* The class list is UTF-8 text, as the names are stored: byte-order marks
 * at its start are skipped (editors write one), UTF-16 and UTF-32 are
 * named (their NUL bytes are no class name's). */
static int skip_marks(FILE *f, const char *path)
{
    unsigned char b[256];
    const size_t n = fread(b, 1, sizeof b, f);
    bool big = false, marked = false;
    const int unit = memchr(b, '\0', n) ? sn_fs_wide_unit(b, n, &big, &marked) : 1;
    if (unit > 1)
        return sn_fail(SN_EINVAL, "%s: the class list is UTF-%d%s%s; save it as UTF-8 (iconv -t "
                       "UTF-8)", path, unit * 8, marked ? "" : big ? "BE" : "LE",
                       marked ? "" : " without a byte-order mark");
    long skip = 0;
    while (skip + 3 <= (long)n && memcmp(b + skip, "\xef\xbb\xbf", 3) == 0)
        skip += 3;
    if (fseek(f, skip, SEEK_SET) != 0)
        return sn_fail(SN_EIO, "%s: cannot read: %s", path, strerror(errno));
    return SN_OK;
}

/* The first 10 lines of batches.meta.txt into names: each a name of 1 to
 * 254 bytes, no NUL, each once (a longer line, an empty one or a repeated
 * name would shift or confuse the names of the labels after it). */
static int read_names(FILE *f, const char *path, char names[10][256])
{
    int rc = skip_marks(f, path);
    if (rc)
        return rc;
    for (int c = 0; c < 10; c++) {
        char *line = names[c];
        rc = read_line(f, path, c, line);
        if (rc)
            return rc;
        if (line[0] == '\0')
            return sn_fail(SN_EINVAL, "%s:%d: an empty line where the name of class %d belongs",
                           path, c + 1, c);
        for (int k = 0; k < c; k++)
            if (strcmp(names[k], line) == 0)
                return sn_fail(SN_EINVAL, "%s:%d: the class name '%s' again (line %d)", path,
                               c + 1, line, k + 1);
    }
    for (int line = 11, ch; (ch = fgetc(f)) != EOF; line += ch == '\n')
        if (ch != '\n' && ch != '\r' && ch != ' ' && ch != '\t')
            return sn_fail(SN_EINVAL, "%s:%d: more than 10 class names; CIFAR-10 has 10", path,
                           line);
    return SN_OK;
}

static int set_names(const char *dir, struct sn_folder *s)
{
    char path[4096], names[10][256];
    FILE *f = NULL;   /* optional: absent, the default names; there, it must be read */
    struct stat st;
    int rc = sn_cifar10_file(dir, SN_CIFAR10_FILES - 1, path, sizeof path);
    if (!rc && !(lstat(path, &st) != 0 && errno == ENOENT))
        rc = sn_fs_open_input(path, "class list", (size_t)1 << 20, &f, NULL);
    if (!rc && f)
        rc = read_names(f, path, names);
    if (f)
        fclose(f);
    s->n_classes = 10;
    for (int c = 0; c < 10 && !rc; c++)
        if (!(s->classes[c] = strdup(f ? names[c] : default_names[c])))
            rc = sn_fail(SN_ENOMEM, "out of memory");
    s->C = 3;
    s->H = s->W = 32;
    return rc;
}

int sn_cifar10_file(const char *dir, int i, char *path, size_t len)
{
    char name[32];
    snprintf(name, sizeof name, i < 5 ? "data_batch_%d.bin" : i == 5 ? "test_batch.bin"
                                      : "batches.meta.txt", i + 1);
    return sn_fs_join(path, len, dir, name);
}

/* The set as a whole, before anything is read: six files, none of them
 * another's name for the same file (one sparse file linked six times was
 * read as 600,000 records, 1.8 GB), and at most SET_MAX_RECORDS in all
 * (the official set holds 60,000). */
#define SET_MAX_RECORDS 200000

static int check_set(const char *dir)
{
    struct stat st[6];
    char path[4096], first[4096];
    long long records = 0;
    for (int b = 0; b < 6; b++) {
        int rc = sn_cifar10_file(dir, b, path, sizeof path);
        if (rc)
            return rc;
        if (stat(path, &st[b]) != 0) {
            st[b].st_ino = 0;
            continue;   /* read_batch says why */
        }
        for (int k = 0; k < b; k++)
            if (st[k].st_ino && st[k].st_dev == st[b].st_dev && st[k].st_ino == st[b].st_ino) {
                sn_cifar10_file(dir, k, first, sizeof first);
                return sn_fail(SN_EINVAL, "%s is the same file as %s (a link): CIFAR-10's six "
                               "batches are six different files", path, first);
            }
        if (S_ISREG(st[b].st_mode))
            records += (long long)(st[b].st_size / REC);
    }
    if (records > SET_MAX_RECORDS)
        return sn_fail(SN_EINVAL, "%s: the six batches hold %lld records; CIFAR-10 has 60,000 "
                       "and scratchnet reads at most %d (is this the CIFAR-10 binary version?)",
                       dir, records, SET_MAX_RECORDS);
    return SN_OK;
}

int sn_cifar10_read(const char *dir, struct sn_folder *train, struct sn_folder *test)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char path[4096];
    int rc = check_set(dir);
    if (!rc)
        rc = set_names(dir, train);
    if (!rc)
        rc = set_names(dir, test);
    for (int b = 0; b < 6 && !rc; b++)
        if (!(rc = sn_cifar10_file(dir, b, path, sizeof path)))
            rc = read_batch(path, b < 5 ? train : test);
    if (rc) {
        sn_folder_free(train);
        sn_folder_free(test);
    }
    return rc;
}
