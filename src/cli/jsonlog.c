/* jsonlog: writing and reading the train --log file (see jsonlog.h). */
#include "cli/jsonlog.h"

#include <errno.h>
#include <float.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "io/fsutil.h"

/* The longest first or last line looked at when a log is opened. */
#define LOG_LINE_MAX (1 << 20)

/* key: v, unless v is NAN (the key is left out). */
static int set_real(json_t *o, const char *key, double v)
{
    if (isnan(v))
        return 0;
    return json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

/* text and a newline at the end of f's file, whole or not at all. */
static int append_line(FILE *f, const char *text)
{
    int fd = fileno(f);
    size_t len = strlen(text), done = 0;
    char *line = malloc(len + 1);
    if (!line)
        return sn_fail(SN_ENOMEM, "out of memory for a log line");
    memcpy(line, text, len);
    line[len++] = '\n';
    off_t start = fflush(f) == 0 ? lseek(fd, 0, SEEK_END) : -1;
    int err = start < 0 ? errno : 0;
    while (!err && done < len) {
        ssize_t n = write(fd, line + done, len - done);
        if (n > 0)
            done += (size_t)n;
        else if (n == 0 || errno != EINTR)
            err = n == 0 ? EIO : errno;
    }
    free(line);
    if (!err && fsync(fd) != 0)
        err = errno;
    if (!err)
        return SN_OK;
    if (start >= 0)
        (void)!ftruncate(fd, start);   /* half a line would break plot and the next append */
    return sn_fail(SN_EIO, "cannot write the log: %s", strerror(err));
}

int cli_log_epoch(FILE *f, const struct cli_log_line *e)
{
    json_t *o = json_object();
    if (!o)
        return sn_fail(SN_ENOMEM, "out of memory for a log line");
    int bad = json_object_set_new(o, "epoch", json_integer(e->epoch)) |
              json_object_set_new(o, "step", json_integer(e->step)) |
              json_object_set_new(o, "train_steps", json_integer(e->train_steps)) |
              set_real(o, "train_loss", e->train_loss) | set_real(o, "train_acc", e->train_acc) |
              set_real(o, "test_loss", e->test_loss) | set_real(o, "test_acc", e->test_acc) |
              set_real(o, "lr", e->lr) | set_real(o, "images_per_s", e->images_per_s) |
              set_real(o, "elapsed_s", e->elapsed_s) |
              json_object_set_new(o, "ranks", json_integer(e->ranks)) |
              json_object_set_new(o, "threads", json_integer(e->threads)) |
              json_object_set_new(o, "peak_rss_mb", json_integer(e->peak_rss_mb));
    /* 17 significant digits: every double reads back to itself */
    char *s = bad ? NULL : json_dumps(o, JSON_REAL_PRECISION(17));
    json_decref(o);
    if (!s)
        return sn_fail(SN_ENOMEM, "out of memory for a log line");
    int rc = append_line(f, s);
    free(s);
    return rc;
}

/* Where the last line of the file fd (size bytes) ends: the offset after
 * its last newline (0 if it has none); -1 when the last LOG_LINE_MAX + 1
 * bytes hold none (a last line longer than any record: not looked at
 * further, a 20 GB file of one line took 80 s). */
static off_t after_last_newline(int fd, off_t size)
{
    char buf[4096];
    for (off_t end = size; end > 0 && size - end <= LOG_LINE_MAX;) {
        off_t at = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
        ssize_t n = pread(fd, buf, (size_t)(end - at), at);
        if (n <= 0)
            return size;   /* unreadable: leave it as it is */
        for (ssize_t i = n; i > 0; i--)
            if (buf[i - 1] == '\n')
                return at + i;
        end = at;
    }
    return size > LOG_LINE_MAX ? -1 : 0;
}

static int parse_line(const char *path, int lineno, const char *line, size_t len,
                      struct cli_log_line *r);

/* What a last line without its end of line can be (last_line). */
enum last_line { LAST_ENDED, LAST_TORN, LAST_OTHER };

/* What the len bytes at off in fd (a last line without its end of line)
 * are: LAST_ENDED for a record plot reads (its newline missing) or blanks
 * alone (spaces, tabs, carriage returns: a line plot skips), both ended
 * and appended after; LAST_TORN for a record cut short by a failed write:
 * starting as one ('{') and no more than the start of one (no '}': a
 * whole record ends there; no carriage return: records joined by CR alone
 * are no torn record); LAST_OTHER for anything else, not ours to remove
 * (other JSON there would leave a log plot refuses). */
static enum last_line last_line_kind(int fd, off_t off, off_t len)
{
    if (len <= 0 || len > LOG_LINE_MAX)
        return LAST_OTHER;
    char *buf = malloc((size_t)len + 1);
    if (!buf || pread(fd, buf, (size_t)len, off) != (ssize_t)len) {
        free(buf);
        return LAST_OTHER;
    }
    buf[len] = '\0';
    struct cli_log_line row;
    const size_t n = (size_t)len;
    const enum last_line k =
        parse_line("", 0, buf, n, &row) == SN_OK || strspn(buf, " \t\r") == n ? LAST_ENDED
        : buf[0] == '{' && !memchr(buf, '}', n) && !memchr(buf, '\r', n) ? LAST_TORN
        : LAST_OTHER;
    free(buf);
    return k;
}

FILE *cli_log_open(const char *path, bool *created, long long *cut)
{
    struct stat st;
    *created = stat(path, &st) != 0;
    *cut = 0;
    FILE *f = fopen(path, "a+");   /* read too: its last line is looked at */
    /* one run at a time: two would interleave their epochs, and plot would
     * draw them as one run (a file system without locks is let be) */
    if (f && flock(fileno(f), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        fclose(f);
        errno = EBUSY;
        return NULL;
    }
    if (!f || fstat(fileno(f), &st) != 0 || st.st_size == 0)
        return f;
    off_t keep = after_last_newline(fileno(f), st.st_size);
    if (keep == st.st_size)
        return f;
    if (keep < 0) {   /* a last line longer than any record */
        *cut = -1;
        fclose(f);
        errno = EILSEQ;
        return NULL;
    }
    const enum last_line last = last_line_kind(fileno(f), keep, st.st_size - keep);
    if (last == LAST_ENDED) {
        if (append_line(f, "") == SN_OK)   /* the next line starts a line of its own */
            return f;
        fclose(f);
        errno = EIO;
        return NULL;
    }
    if (last == LAST_OTHER) {   /* not ours to remove */
        *cut = (long long)(st.st_size - keep);
        fclose(f);
        errno = EILSEQ;
        return NULL;
    }
    *cut = (long long)(st.st_size - keep);
    if (ftruncate(fileno(f), keep) != 0) {   /* append-only: records would join its line */
        const int err = errno;
        fclose(f);
        errno = err == EPERM ? EPERM : EIO;
        return NULL;
    }
    return f;
}

/* The number at key, or NAN if it is absent or not a number (a line
 * that other tools added keys to still reads). */
static double number(const json_t *o, const char *key)
{
    const json_t *x = json_object_get(o, key);
    return x && json_is_number(x) ? json_number_value(x) : NAN;
}

/* Whether o is a record of this log: an object with the numbers "epoch"
 * and "train_loss" (what every line scratchnet writes holds). */
static bool is_record(const json_t *o)
{
    return json_is_object(o) && !isnan(number(o, "epoch")) && !isnan(number(o, "train_loss"));
}

/* The whole number at key into *v, within [0, hi] (-1 when the key is
 * absent and may be): scratchnet writes these as integers; a fraction, a
 * negative or a number past hi is not its line (1e300 converted to an
 * integer is undefined behaviour). */
static int whole(const char *path, int lineno, const json_t *o, const char *key, bool need,
                 double hi, int64_t *v)
{
    const double x = number(o, key);
    *v = -1;
    if (isnan(x) && !need && !json_object_get(o, key))
        return SN_OK;
    if (!(x >= 0 && x <= hi && x == floor(x)))
        return sn_fail(SN_EINVAL, "%s:%d: \"%s\" is %.17g: expected a whole number from 0 to "
                       "%.0f (a train --log line?)", path, lineno, key, x, hi);
    *v = (int64_t)x;
    return SN_OK;
}

/* The numbers plot draws are the floats a run computed: a finite 1e308
 * is no value of a run's, and gnuplot fails on a range it cannot span. */
static int drawable(const char *path, int lineno, const json_t *o)
{
    static const char *const keys[] = { "train_loss", "train_acc", "test_loss", "test_acc",
                                        "lr", "images_per_s", "elapsed_s" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const double x = number(o, keys[i]);
        if (isfinite(x) && fabs(x) > FLT_MAX)
            return sn_fail(SN_EINVAL, "%s:%d: \"%s\" is %.17g: beyond a float's range, so no "
                           "train --log line's", path, lineno, keys[i], x);
    }
    return SN_OK;
}

/* One non-blank line into r; SN_EINVAL with path:lineno. */
static int parse_line(const char *path, int lineno, const char *line, size_t len,
                      struct cli_log_line *r)
{
    json_error_t err;   /* scratchnet writes each key once: a second is not its line */
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    if (!o)
        return sn_fail(SN_EINVAL, "%s:%d: not JSON: %s (column %d)", path, lineno, err.text,
                       err.column);
    if (!is_record(o)) {
        json_decref(o);
        return sn_fail(SN_EINVAL, "%s:%d: not a train --log line (needs the numbers \"epoch\" "
                       "and \"train_loss\")", path, lineno);
    }
    int64_t epoch, step, ranks, threads, rss;
    int rc = drawable(path, lineno, o);
    if (!rc)
        rc = whole(path, lineno, o, "epoch", true, INT_MAX, &epoch);
    if (!rc)
        rc = whole(path, lineno, o, "step", false, 0x1p53, &step);
    if (!rc)
        rc = whole(path, lineno, o, "ranks", false, INT_MAX, &ranks);
    if (!rc)
        rc = whole(path, lineno, o, "threads", false, INT_MAX, &threads);
    if (!rc)
        rc = whole(path, lineno, o, "peak_rss_mb", false, INT_MAX, &rss);
    if (!rc)
        *r = (struct cli_log_line){
            .epoch = epoch, .step = step,
            .train_loss = number(o, "train_loss"), .train_acc = number(o, "train_acc"),
            .test_loss = number(o, "test_loss"), .test_acc = number(o, "test_acc"),
            .lr = number(o, "lr"), .images_per_s = number(o, "images_per_s"),
            .elapsed_s = number(o, "elapsed_s"), .ranks = ranks < 0 ? 0 : (int)ranks,
            .threads = threads < 0 ? 0 : (int)threads, .peak_rss_mb = rss < 0 ? 0 : (int)rss,
        };
    json_decref(o);
    return rc;
}

/* The limits a line meets before it is parsed: a record of a few hundred
 * bytes, and a line an epoch. */
static int check_line(const char *name, int lineno, int cnt, size_t len)
{
    if (cnt == CLI_LOG_MAX_RECORDS)
        return sn_fail(SN_EINVAL, "%s:%d: more than %d records, the most plot draws (a log has "
                       "a line an epoch; `tail -n %d` of it plots the latest)", name, lineno,
                       CLI_LOG_MAX_RECORDS, CLI_LOG_MAX_RECORDS);
    if (len > CLI_LOG_MAX_LINE)
        return sn_fail(SN_EINVAL, "%s:%d: a line of more than %d bytes: a train --log line (a "
                       "record) has a few hundred", name, lineno, CLI_LOG_MAX_LINE);
    return SN_OK;
}

/* Room for one more row in *v (of *cap). */
static int grow_rows(struct cli_log_line **v, int cnt, int *cap)
{
    if (cnt < *cap)
        return SN_OK;
    const int more = *cap ? 2 * *cap : 64;
    struct cli_log_line *g = realloc(*v, (size_t)more * sizeof *g);
    if (!g)
        return sn_fail(SN_ENOMEM, "out of memory");
    *v = g;
    *cap = more;
    return SN_OK;
}

/* A line that did not parse because it holds records joined by a carriage
 * return alone (not CRLF). */
static bool joined_by_cr(const char *line, size_t len)
{
    const char *cr = memchr(line, '\r', len);
    return cr && cr + 1 < line + len && cr[1] != '\n';
}

/* The next line of in into line (room for CLI_LOG_MAX_LINE + 1 bytes and
 * a NUL): its length, with its newline; -1 at the end; CLI_LOG_MAX_LINE + 1
 * for a longer line, which is not read further (a file that reads longer
 * than its size says, /proc's, was read whole as one line).  *total counts
 * the bytes read. */
static ssize_t bounded_line(FILE *in, char *line, size_t *total)
{
    size_t len = 0;
    int c = EOF;
    while (len <= CLI_LOG_MAX_LINE && (c = getc(in)) != EOF) {
        line[len++] = (char)c;
        if (c == '\n')
            break;
    }
    line[len] = '\0';
    *total += len;
    return len == 0 && c == EOF ? -1 : (ssize_t)len;
}

/* A log whose first line starts with a UTF-16 or UTF-32 byte-order mark:
 * named, with the conversion that makes it UTF-8 again. */
static int wide_log(const char *name, const char *line, size_t len)
{
    bool big, marked;
    const int unit = sn_fs_wide_unit((const unsigned char *)line, len, &big, &marked);
    const bool utf32 = unit == 4, utf16 = unit == 2;
    if (!utf32 && !utf16)
        return SN_OK;
    /* without a mark, iconv must be told the byte order */
    const char *code = utf32 ? (marked ? "UTF-32" : big ? "UTF-32BE" : "UTF-32LE")
                             : (marked ? "UTF-16" : big ? "UTF-16BE" : "UTF-16LE");
    return sn_fail(SN_EINVAL, "%s: the log is %s%s; a train --log is UTF-8: convert it (iconv "
                   "-f %s -t UTF-8)", name, code,
                   utf16 && marked ? ", as PowerShell's > writes it" : "", code);
}

/* cli_log_read_stream; *at_limit: it stopped at one of plot's limits
 * (records, bytes), not at a line that is no record. */
static int read_stream(FILE *in, const char *name, struct cli_log_line **rows, int *n,
                       int *cut_line, bool *at_limit)
{
    *at_limit = false;
    char *line = malloc(CLI_LOG_MAX_LINE + 2);
    size_t total = 0;
    ssize_t len;
    int cnt = 0, cap = 0, lineno = 0, cut = 0;
    long pieces = 0;
    bool starts = true;   /* the piece starts a line: a long one comes in several */
    int rc = line ? SN_OK : sn_fail(SN_ENOMEM, "out of memory");
    struct cli_log_line *v = NULL;
    while (!rc && (len = bounded_line(in, line, &total)) >= 0) {
        lineno += starts;
        starts = len > 0 && line[len - 1] == '\n';
        if (++pieces % 4096 == 0 && (rc = sn_interrupt_check("reading the log")))
            break;
        if (total > CLI_LOG_MAX_BYTES) {
            *at_limit = true;
            rc = sn_fail(SN_EINVAL, "%s: the log reads longer than %zu bytes, the most plot "
                         "reads (`tail -n %d` of it plots the latest records)", name,
                         CLI_LOG_MAX_BYTES, CLI_LOG_MAX_RECORDS);
            break;
        }
        if (pieces == 1 && (rc = wide_log(name, line, (size_t)len)))   /* the file's start */
            break;
        if (pieces == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            memmove(line, line + 3, (size_t)len - 2);   /* a UTF-8 byte-order mark (an editor's) */
            len -= 3;
        }
        if (strspn(line, " \t\r\n") == (size_t)len && len <= CLI_LOG_MAX_LINE)
            continue;   /* a blank line; blanks that start a longer one count as it */
        if ((rc = check_line(name, lineno, cnt, (size_t)len))) {
            *at_limit = cnt == CLI_LOG_MAX_RECORDS;
            break;
        }
        if ((rc = grow_rows(&v, cnt, &cap)))
            break;
        rc = parse_line(name, lineno, line, (size_t)len, &v[cnt]);
        if (rc && joined_by_cr(line, (size_t)len)) {
            rc = sn_fail(SN_EINVAL, "%s:%d: lines end in a carriage return alone (converted "
                         "for an old Mac?); a train --log line ends in a newline", name, lineno);
            break;
        }
        if (rc && line[len - 1] != '\n') {   /* the last line, cut short */
            cut = lineno;
            rc = SN_OK;
            continue;
        }
        cnt += rc ? 0 : 1;
    }
    free(line);
    if (cut_line)
        *cut_line = cut;
    if (!rc && ferror(in))
        rc = sn_fail(SN_EINVAL, "%s: cannot read the log", name);
    if (!rc && cnt == 0 && cut)
        rc = sn_fail(SN_EINVAL, "%s:%d: not a train --log line, and without an end of line (a "
                     "write cut short?): no epochs in the log", name, cut);
    else if (!rc && cnt == 0)
        rc = sn_fail(SN_EINVAL, "%s: no epochs in the log", name);
    if (rc) {
        free(v);
        return rc;
    }
    *rows = v;
    *n = cnt;
    return SN_OK;
}

int cli_log_read_stream(FILE *in, const char *name, struct cli_log_line **rows, int *n,
                        int *cut_line)
{
    bool at_limit;
    return read_stream(in, name, rows, n, cut_line, &at_limit);
}

/* cli_log_open_input; *size: the file's, when it is past plot's limit. */
static int open_input_size(const char *path, FILE **in, size_t *size)
{
    int rc = sn_fs_open_input(path, "log", CLI_LOG_MAX_BYTES, in, size);
    if (rc && *size > CLI_LOG_MAX_BYTES)
        return sn_fail_suffix(rc, ", the most plot reads: `tail -n %d` of it plots the latest "
                              "records", CLI_LOG_MAX_RECORDS);
    char head[8] = { 0 };   /* the files a log is mistaken for, named as what they are */
    const size_t got = rc ? 0 : fread(head, 1, sizeof head, *in);
    if (!rc && fseek(*in, 0, SEEK_SET) != 0) {
        fclose(*in);
        *in = NULL;
        return sn_fail(SN_EIO, "%s: cannot read the log: %s", path, strerror(errno));
    }
    if (rc || got < 4)
        return rc;
    const bool hdf5 = sn_fs_is_hdf5(path);
    if (hdf5 || sn_fs_is_model_text(path)) {
        fclose(*in);
        *in = NULL;
        return sn_fail(SN_EINVAL, "%s is %s, not a log: plot draws the file train --log "
                       "FILE.jsonl wrote", path, hdf5 ? "an HDF5 file (weights, a dataset or a "
                       "checkpoint)" : "a model file");
    }
    return SN_OK;
}

int cli_log_open_input(const char *path, FILE **in)
{
    size_t size = 0;
    return open_input_size(path, in, &size);
}

/* cli_log_read, and whether one of plot's limits stopped it (*at_limit). */
static int read_log(const char *path, struct cli_log_line **rows, int *n, int *cut_line,
                    bool *at_limit)
{
    FILE *in;
    size_t size = 0;
    *at_limit = false;
    int rc = open_input_size(path, &in, &size);
    if (rc) {
        *at_limit = size > CLI_LOG_MAX_BYTES;
        return rc;
    }
    rc = read_stream(in, path, rows, n, cut_line, at_limit);
    fclose(in);
    return rc;
}

int cli_log_read(const char *path, struct cli_log_line **rows, int *n, int *cut_line)
{
    bool at_limit;
    return read_log(path, rows, n, cut_line, &at_limit);
}

/* The first non-blank line of t (at most LOG_LINE_MAX bytes, after at
 * most CLI_LOG_MAX_BYTES blanks, as plot skips them) into buf (*len
 * bytes), and what ended it in *end: '\n' (LF or CR LF), '\r' (a CR
 * alone) or EOF; false when there is none or it is longer (3 GB of
 * newlines were read to their end, twice). */
static bool first_line(struct sn_fs_text *t, char *buf, size_t *len, int *end)
{
    int c = sn_fs_text_getc(t);
    *len = 0;
    *end = EOF;
    for (long blanks = 0; c == ' ' || c == '\t' || c == '\r' || c == '\n'; blanks++) {
        if ((size_t)blanks == CLI_LOG_MAX_BYTES)
            return false;   /* not at the end: not blank either (log_start) */
        c = sn_fs_text_getc(t);
    }
    for (*len = 0; c != EOF && c != '\n' && c != '\r' && *len < LOG_LINE_MAX;
         c = sn_fs_text_getc(t))
        buf[(*len)++] = (char)c;
    if (c == '\r')
        c = sn_fs_text_getc(t) == '\n' ? '\n' : '\r';
    *end = c;
    return *len > 0 && *len < LOG_LINE_MAX;
}

/* LOG_FOREIGN: a record in a file with CR-only line ends or in UTF-16 (a
 * log converted by an editor or saved by PowerShell), which plot names
 * and refuses: never replaced, never appended to.  LOG_WIDE: a blank
 * UTF-16 or UTF-32 file (PowerShell's `"" > f`), no log, but no file to
 * append UTF-8 lines to either. */
enum log_start { LOG_ABSENT, LOG_BLANK, LOG_RECORD, LOG_FOREIGN, LOG_WIDE, LOG_OTHER,
                 LOG_NO_MEMORY };

/* How the file at path starts: LOG_BLANK when it is empty or blank, or
 * its only line is the start of a record cut short while scratchnet wrote
 * it (the open removes it); LOG_RECORD when its first line is a record. */
static enum log_start log_start(const char *path)
{
    struct sn_fs_text t;
    if (!sn_fs_text_open(path, &t))
        return LOG_ABSENT;
    char *buf = malloc(LOG_LINE_MAX);
    size_t len = 0;
    int end = EOF;
    bool any = buf && first_line(&t, buf, &len, &end);
    bool empty = buf && len == 0 && feof(t.fp);
    const bool wide = t.unit > 1, foreign = wide || end == '\r';
    fclose(t.fp);
    json_t *o = any ? json_loadb(buf, len, 0, NULL) : NULL;
    bool torn = any && !o && end == EOF && strncmp(buf, "{\"epoch\"", len < 8 ? len : 8) == 0;
    enum log_start k = !buf ? LOG_NO_MEMORY : is_record(o) ? (foreign ? LOG_FOREIGN : LOG_RECORD)
                     : empty && wide ? LOG_WIDE : empty || torn ? LOG_BLANK : LOG_OTHER;
    json_decref(o);
    free(buf);
    return k;
}

/* A log that starts as one but holds other lines (notes pasted in, two
 * files joined) is refused too: the run's epochs would go into a file
 * plot refuses.  So is one already at plot's own limits (records, bytes):
 * plot draws none of it, and would draw none of this run's epochs. */
static int check_whole_log(const char *path, int *records)
{
    struct cli_log_line *rows = NULL;
    bool at_limit;
    int rc = read_log(path, &rows, records, NULL, &at_limit);
    free(rows);
    if (!rc || rc == SN_ENOMEM || rc == SN_EINTR)   /* a stop is no fault of the log's */
        return rc;
    char why[600];
    snprintf(why, sizeof why, "%s", sn_errmsg());
    if (at_limit)
        return sn_fail(SN_EUSAGE, "--log %s is as long as plot reads (%s): plot would draw none "
                       "of this run's epochs; give another --log", path, why);
    return sn_fail(SN_EUSAGE, "--log %s is not a whole train log (%s): plot refuses it, and "
                   "this run's epochs would go into it; give another --log", path, why);
}

int cli_log_check(const char *path, int *records)
{
    *records = 0;
    const enum log_start k = log_start(path);   /* absent: made when the run starts */
    if (k == LOG_NO_MEMORY)
        return sn_fail(SN_ENOMEM, "out of memory");
    if (k == LOG_FOREIGN)
        return sn_fail(SN_EUSAGE, "--log %s is a scratchnet log converted to CR line ends or "
                       "to UTF-16, which train does not append to (nor plot read): convert it "
                       "back to UTF-8 with LF line ends, or give another --log", path);
    if (k == LOG_WIDE)
        return sn_fail(SN_EUSAGE, "--log %s is a blank UTF-16 or UTF-32 file (PowerShell's > "
                       "makes one): a train --log is UTF-8, and plot would refuse the whole "
                       "file for its byte-order mark; remove it, or give another --log", path);
    if (k == LOG_OTHER)
        return sn_fail(SN_EUSAGE, "--log %s exists and is not a scratchnet log (its first line "
                       "is not a record with the numbers \"epoch\" and \"train_loss\"): "
                       "appending to it would damage it; give another --log", path);
    return k == LOG_RECORD ? check_whole_log(path, records) : SN_OK;
}

/* 1 when a run holds the log at path (its lock), 2 when it starts with a
 * record, else 0. */
static int log_there(const char *path)
{
    const bool held = sn_fs_held_for_writing(path);
    const enum log_start k = held ? LOG_OTHER : log_start(path);
    return held ? 1 : k == LOG_RECORD || k == LOG_FOREIGN ? 2 : 0;
}

int cli_log_guard(const char *path, const char *flag)
{
    const int k = log_there(path);
    if (k == 1)
        return sn_fail(SN_EUSAGE, "%s %s is locked by a program writing it (the --log a "
                       "running run appends to holds its lock so; HDF5 writers too): writing "
                       "there would lose what it writes; name another file", flag, path);
    if (k == 2)
        return sn_fail(SN_EUSAGE, "%s %s is a scratchnet log (its first line is an epoch's "
                       "record): writing there would lose it; name another file, or remove "
                       "the log first", flag, path);
    return SN_OK;
}

int cli_log_replace_guard(const char *target, const char *tmp)
{
    const int k = log_there(target);
    return k == 0 ? SN_OK
         : sn_fail(SN_EUSAGE, "%s became %s while this command ran: it was not replaced; the "
                   "output is kept as %s", target,
                   k == 1 ? "the --log of a running run" : "a scratchnet log", tmp);
}
