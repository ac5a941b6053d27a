/* gnuplot: run gnuplot to draw a PNG, with user text kept inert (see
 * gnuplot.h). */
#define _DEFAULT_SOURCE   /* syscall, for getdents64 in a signal handler */
#include "cli/gnuplot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <unistr.h>
#include <uniwidth.h>

#include <fontconfig/fontconfig.h>
#include <zlib.h>

#include "core/clock.h"
#include "core/interrupt.h"
#include "core/parallel.h"
#include "core/status.h"
#include "core/text.h"
#include "cli/cli.h"
#include "io/fsutil.h"

/* What a second Ctrl-C removes (cli_gnuplot_abandon): each name is
 * complete before the flag that publishes it is set. */
static char held_dir[4200], held_png[4200];
static volatile sig_atomic_t have_dir, have_png;

/* A new folder in TMPDIR (or /tmp), named into dir. */
static int make_tmpdir(char *dir, size_t len)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(dir, len, "%s/scratchnet.XXXXXX", base) >= len)
        return sn_fail(SN_EIO, "cannot create a temporary directory in %s: the name is too "
                       "long", base);
    if (!mkdtemp(dir))
        return sn_fail(SN_EIO, "cannot create a temporary directory in %s (TMPDIR): %s", base,
                       strerror(errno));
    return SN_OK;
}

int cli_tmpdir(char *dir, size_t len)
{
    int rc = make_tmpdir(dir, len);
    if (rc)
        return rc;
    if (strlen(dir) < sizeof held_dir) {
        strcpy(held_dir, dir);
        have_dir = 1;
    }
    return SN_OK;
}

void cli_tmpdir_remove(const char *dir)
{
    have_dir = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4400];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                remove(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

void cli_gnuplot_text(FILE *f, const char *s, bool as_field)
{
    cli_gnuplot_text_cut(f, s, as_field, CLI_GNUPLOT_TEXT_MAX);
}

/* Marks drawn on one character (combining accents): more are dropped,
 * gnuplot draws a long stack of them as a line across the picture. */
#define GNUPLOT_MARKS_MAX 2

/* Every character some installed font has a glyph for (fontconfig's
 * list, read once), which is what pango's fallback can draw; NULL when
 * fontconfig finds no fonts (nothing is then second-guessed).  A
 * character no font has is drawn by pngcairo as shapes across the whole
 * picture (Thai names with no Thai font installed hid the matrix). */
static bool no_fonts;   /* fontconfig listed none: pngcairo draws no text at all */

static FcCharSet *installed_glyphs(void)
{
    static FcCharSet *all;
    static bool read;
    if (read)
        return all;
    read = true;
    FcPattern *any = FcInit() ? FcPatternCreate() : NULL;
    FcObjectSet *os = any ? FcObjectSetBuild(FC_CHARSET, (char *)NULL) : NULL;
    FcFontSet *fs = os ? FcFontList(NULL, any, os) : NULL;
    all = fs && fs->nfont > 0 ? FcCharSetCreate() : NULL;
    no_fonts = fs && fs->nfont == 0;
    for (int i = 0; all && i < fs->nfont; i++) {
        FcCharSet *cs;
        if (FcPatternGetCharSet(fs->fonts[i], FC_CHARSET, 0, &cs) == FcResultMatch)
            FcCharSetMerge(all, cs, NULL);
    }
    if (fs)
        FcFontSetDestroy(fs);
    if (os)
        FcObjectSetDestroy(os);
    if (any)
        FcPatternDestroy(any);
    return all;
}

static atomic_bool glyphs_read;

static void *read_glyphs(void *unused)
{
    (void)unused;
    installed_glyphs();
    atomic_store(&glyphs_read, true);
    return NULL;
}

/* installed_glyphs in a thread of its own, so that a stop ends the wait:
 * fontconfig scanning a large font tree without a usable cache took
 * minutes, deaf to SIGTERM (round 67 F4).  A stopped command exits with
 * the thread still reading. */
static int read_glyphs_stoppable(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, read_glyphs, NULL) != 0) {
        installed_glyphs();
        return SN_OK;
    }
    const struct timespec pause = { 0, 10000000L };
    while (!atomic_load(&glyphs_read)) {
        if (sn_interrupt_pending()) {
            pthread_detach(th);
            return sn_interrupt_check("reading the installed fonts (fontconfig)");
        }
        nanosleep(&pause, NULL);
    }
    pthread_join(th, NULL);
    return SN_OK;
}

bool cli_gnuplot_can_draw(uint32_t c)
{
    const FcCharSet *all = c < 0x80 ? NULL : installed_glyphs();
    return !all || FcCharSetHasChar(all, c);
}

uint32_t cli_gnuplot_undrawable(const char *s)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
    while (p < end) {
        ucs4_t c;
        int len = u8_mbtoucr(&c, p, (size_t)(end - p));
        if (len > 0 && !cli_gnuplot_can_draw(c))
            return c;
        p += len > 0 ? len : 1;
    }
    return 0;
}

bool cli_gnuplot_warn_undrawable(const char *whose, const char *s)
{
    const uint32_t c = cli_gnuplot_undrawable(s);
    if (c)
        cli_eprintf("scratchnet: warning: %s holds U+%04X, which no installed font can draw "
                    "(fc-list ':charset=%x' lists none): it and others like it are drawn as "
                    "'?'; install a font that has them\n", whose, (unsigned)c, (unsigned)c);
    return c != 0;
}

/* The character at p (n bytes left) into *c, its columns into *cols (1
 * for what shows as '?', 0 for a mark drawn on the one before) and its
 * bytes into *len; false for what shows as '?': a byte that is not UTF-8
 * (*len 1), a character that acts on the text around it or shows as
 * nothing (controls, separators, bidirectional overrides), a character no
 * installed font can draw. */
static bool drawn_char(const uint8_t *p, size_t n, ucs4_t *c, int *cols, int *len)
{
    *len = u8_mbtoucr(c, p, n);
    if (*len <= 0 || sn_text_hides(*c) || !cli_gnuplot_can_draw(*c)) {
        *len = *len <= 0 ? 1 : *len;
        *cols = 1;
        return false;
    }
    int w = uc_width(*c, "UTF-8");
    *cols = w < 0 ? 1 : w;
    return true;
}

int cli_gnuplot_text_cut(FILE *f, const char *s, bool as_field, int max)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
    int cols = 0, marks = 0;
    if (!as_field)
        fputc('\'', f);
    if (p == end)
        fputc('?', f), cols = 1;
    while (p < end) {
        ucs4_t c;
        int w, n;
        const bool shown = drawn_char(p, (size_t)(end - p), &c, &w, &n);
        if (cols + w > max) {
            fputs("...", f);
            cols += 3;
            break;
        }
        marks = w == 0 ? marks + 1 : 0;
        if (marks > GNUPLOT_MARKS_MAX) {
            p += n;   /* dropped: it takes no column */
            continue;
        }
        if (!shown)
            fputc('?', f);   /* a control byte, a byte that is not UTF-8, no font's */
        else if (as_field && c == '\\')
            fputs("\\\\", f);   /* a field's escapes: \\ is one backslash */
        else if (as_field && c == '"')
            fputs("\\042", f);   /* a quote would start a quoted field; octal is taken whole */
        else if (!as_field && c == '\'')
            fputs("\xe2\x80\x99", f);   /* U+2019: gnuplot's doubled '' misparses at the start */
        else
            fwrite(p, 1, (size_t)n, f);
        p += n;
        cols += w;
    }
    if (!as_field)
        fputc('\'', f);
    return cols;
}

/* Feed text to fd; SIGPIPE is ignored meanwhile, so a gnuplot that died
 * early gives a failed write, not the end of this process. */
static void feed(int fd, const char *text, size_t len)
{
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text += n;
        len -= (size_t)n;
    }
    close(fd);
    sigaction(SIGPIPE, &old, NULL);
}

static bool is_dot(const char *n)
{
    return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

void cli_gnuplot_abandon(void)
{
    if (have_png)
        unlink(held_png);
    if (!have_dir)
        return;
    /* the folder's files by getdents64: opendir allocates, which a signal
     * handler may not */
    const int fd = open(held_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char buf[4096] __attribute__((aligned(8)));
    long n;
    while (fd >= 0 && (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long at = 0; at < n;) {
            const char *name = buf + at + 19;   /* after ino, off, reclen, type */
            unsigned short reclen;
            memcpy(&reclen, buf + at + 16, sizeof reclen);
            if (!is_dot(name))
                unlinkat(fd, name, 0);
            at += reclen;
        }
    if (fd >= 0)
        close(fd);
    rmdir(held_dir);
}

/* Start gnuplot in dir with stdin from a new pipe (its write end in
 * *to), stdout to out, stderr to err; its pid, or -1. */
static pid_t start_gnuplot(const char *dir, int out, int err, int *to)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {   /* the child: only async-signal-safe calls, then exec */
        /* it ends with the command, however that ends (a second Ctrl-C
         * left it drawing, orphaned) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        close(p[1]);
        if (dup2(p[0], 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(dir) != 0)
            _exit(126);
        /* -d: no ~/.gnuplot or system init file, so the picture is the
         * data's alone (a user's `set xrange` failed every plot, round 67 F5) */
        execlp("gnuplot", "gnuplot", "-d", (char *)NULL);
        _exit(127);   /* ends the forked child only: exec failed */
    }
    close(p[0]);
    if (pid < 0)
        close(p[1]);
    else
        fcntl(p[1], F_SETFD, FD_CLOEXEC);
    *to = p[1];
    return pid;
}

/* gnuplot's stderr (err, in dir) on one line, into msg. */
static void read_message(const char *errp, char *msg, size_t len)
{
    msg[0] = '\0';
    FILE *e = fopen(errp, "r");
    if (!e)
        return;
    size_t n = fread(msg, 1, len - 1, e);
    msg[n] = '\0';
    fclose(e);
    for (char *q = msg; *q; q++)
        if ((unsigned char)*q < 0x20)
            *q = ' ';
}

/* Whether the file at path is a whole PNG: the signature first and the
 * IEND chunk last (gnuplot exits 0 after a write that failed on a full
 * disk, leaving the picture cut short). */
static bool whole_png(const char *path)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    static const unsigned char iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D',
                                            0xae, 0x42, 0x60, 0x82 };
    unsigned char head[8], tail[12];
    FILE *f = fopen(path, "rb");
    bool ok = f && fread(head, 1, 8, f) == 8 && memcmp(head, sig, 8) == 0 &&
              fseek(f, -12, SEEK_END) == 0 && fread(tail, 1, 12, f) == 12 &&
              memcmp(tail, iend, 12) == 0;
    if (f)
        fclose(f);
    return ok;
}

double cli_gnuplot_limit_s = CLI_GNUPLOT_SECONDS;

/* Feed gnuplot (pid, stdin to) the script after the terminal settings;
 * its exit status into *st, and whether it ran out of time into *late.
 * false when memory ran out (nothing fed). */
static bool run_script(pid_t pid, int to, const char *script, int width, int height, int *st,
                       bool *late)
{
    char head[160];
    int hl = snprintf(head, sizeof head, "set terminal pngcairo size %d,%d noenhanced font ',10'\n"
                      "set encoding utf8\nset output\nset datafile separator \"\\t\"\n", width,
                      height);
    char *all = malloc((size_t)hl + strlen(script) + 32);
    if (all) {
        int n = sprintf(all, "%s%s\nunset output\n", head, script);
        feed(to, all, (size_t)n);
        free(all);
    } else {
        close(to);
    }
    *st = 0;
    *late = false;
    /* a stop request ends gnuplot too: it may draw a large log for seconds;
     * and a gnuplot that hangs (a broken build, a wrapper on PATH) must not
     * hold the command, or a job script, forever */
    const double start = sn_clock_s();
    pid_t got;
    while ((got = waitpid(pid, st, WNOHANG)) == 0 || (got < 0 && errno == EINTR)) {
        if (got == 0 && !*late && sn_clock_s() - start > cli_gnuplot_limit_s) {
            *late = true;
            kill(pid, SIGKILL);
        }
        if (got == 0 && sn_interrupt_pending())
            kill(pid, SIGKILL);
        if (got == 0)
            nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
    }
    return all != NULL;
}

/* The room gnuplot's data files need at least in TMPDIR (a confusion
 * matrix of 1,000 classes writes about 8 MB; a log's table 5 MB). */
#define GNUPLOT_ROOM_BYTES (16.0 * 1048576.0)

/* Whether the file name (its last part) has an extension other than .png. */
static bool named_other(const char *name)
{
    return sn_text_ext(name) && !sn_text_ext_in(name, ".png");
}

/* The text chunk (tEXt, keyword Software) every picture scratchnet draws
 * carries after its header: plot -o and --confusion-png replace only a PNG
 * that has it (a photo named like the output was replaced whole). */
static const char png_mark[] = "Software\0scratchnet";
#define PNG_MARK_LEN (sizeof png_mark - 1)
#define PNG_HEADER_END 33   /* the signature and the IHDR chunk */

enum png_kind { PNG_NONE, PNG_OTHER, PNG_OURS };

/* What the file at path holds: no PNG, another program's, or one
 * scratchnet drew (its mark among the chunks before the image data).
 * Opened without waiting: a FIFO is none. */
static enum png_kind png_kind(const char *path)
{
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    unsigned char b[4096];
    struct stat st;
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    const ssize_t n = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                          ? read(fd, b, sizeof b) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 8 || memcmp(b, sig, sizeof sig) != 0)
        return PNG_NONE;
    for (size_t at = 8; at + 8 <= (size_t)n && memcmp(b + at + 4, "IDAT", 4) != 0;) {
        const uint32_t len = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 |
                             (uint32_t)b[at + 2] << 8 | b[at + 3];
        if (len == PNG_MARK_LEN && memcmp(b + at + 4, "tEXt", 4) == 0 &&
            at + 8 + len <= (size_t)n && memcmp(b + at + 8, png_mark, len) == 0)
            return PNG_OURS;
        if (len > sizeof b)
            break;
        at += 12 + len;
    }
    return PNG_OTHER;
}

/* Put the mark into gnuplot's picture at tmp, after its header. */
static int mark_png(const char *tmp, const char *png)
{
    unsigned char chunk[12 + PNG_MARK_LEN];
    const uint32_t len = PNG_MARK_LEN;
    const unsigned char be[4] = { 0, 0, 0, (unsigned char)len };
    memcpy(chunk, be, 4);
    memcpy(chunk + 4, "tEXt", 4);
    memcpy(chunk + 8, png_mark, len);
    const uLong crc = crc32(0L, chunk + 4, 4 + len);
    for (int i = 0; i < 4; i++)
        chunk[8 + len + i] = (unsigned char)(crc >> (24 - 8 * i));
    FILE *f = fopen(tmp, "r+b");
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    unsigned char *rest = size > PNG_HEADER_END ? malloc((size_t)size - PNG_HEADER_END) : NULL;
    bool ok = rest && fseek(f, PNG_HEADER_END, SEEK_SET) == 0 &&
              fread(rest, 1, (size_t)size - PNG_HEADER_END, f) == (size_t)size - PNG_HEADER_END &&
              fseek(f, PNG_HEADER_END, SEEK_SET) == 0 && fwrite(chunk, 1, sizeof chunk, f) ==
              sizeof chunk && fwrite(rest, 1, (size_t)size - PNG_HEADER_END, f) ==
              (size_t)size - PNG_HEADER_END;
    const int err = errno;
    free(rest);
    if (f && fclose(f) != 0)
        ok = false;
    return ok ? SN_OK : sn_fail(SN_EIO, "%s: cannot finish the picture: %s", png,
                                strerror(err ? err : EIO));
}

int cli_gnuplot_check(const char *png)
{
    char target[4096];
    struct stat st = { 0 };
    if (named_other(png))   /* c.jpg held a PNG */
        return sn_fail(SN_EUSAGE, "%s: the picture is a PNG: name it .png (or with no "
                       "extension)", png);
    /* a link is written through: its file's name counts (curves -> photo.jpg),
     * and a file there without an extension is a picture only when it holds
     * one (cur.png -> Makefile, or -o Makefile, replaced the Makefile) */
    const bool linked = sn_fs_output_target(png, target, sizeof target, &st) == SN_OK &&
                        strcmp(target, png) != 0;
    if (linked && named_other(target))
        return sn_fail(SN_EUSAGE, "%s is a link to %s: the picture is a PNG: name a .png "
                       "file (or one with no extension)", png, target);
    /* whatever its name: a .png of other data (a file misnamed, another
     * program's) was replaced too; an empty file is taken (mktemp's) */
    const enum png_kind held = st.st_mode && st.st_size > 0 ? png_kind(target) : PNG_OURS;
    const char *what = held == PNG_NONE ? "no PNG"
                                        : "a PNG scratchnet did not draw (no Software scratchnet "
                                          "text chunk: another program's, or an older "
                                          "scratchnet's)";
    if (linked && held != PNG_OURS)
        return sn_fail(SN_EUSAGE, "%s is a link to %s, which holds %s: the picture would "
                       "replace it (name a .png file, or remove the link)", png, target, what);
    if (held != PNG_OURS)
        return sn_fail(SN_EUSAGE, "%s holds %s: the picture would replace it (remove it "
                       "first, or name a new file)", png, what);
    const char *path = getenv("PATH");
    char dir[4096];
    for (const char *p = path ? path : "/usr/bin:/bin"; ; p++) {
        size_t n = strcspn(p, ":");
        if (snprintf(dir, sizeof dir, "%.*s/gnuplot", (int)n, n ? p : ".") < (int)sizeof dir &&
            access(dir, X_OK) == 0) {
            /* the folder gnuplot's files go in, tried now: after the work
             * a TMPDIR that is no folder lost it all */
            int rc = make_tmpdir(dir, sizeof dir);
            if (rc)
                return rc;
            struct statvfs fs;   /* and room in it: a full one failed after the work too */
            const double room = statvfs(dir, &fs) == 0
                                    ? (double)fs.f_bavail * (double)fs.f_frsize : 1e300;
            rmdir(dir);
            const char *slash = strrchr(dir, '/');   /* TMPDIR itself, named */
            if (room < GNUPLOT_ROOM_BYTES)
                return sn_fail(SN_EIO, "%.*s (TMPDIR, for gnuplot's files): no space left on "
                               "the device (%.0f KiB free); free some, or set TMPDIR to another "
                               "folder", slash ? (int)(slash - dir) : 1, slash ? dir : ".",
                               room / 1024.0);
            if ((rc = read_glyphs_stoppable()))
                return rc;
            if (no_fonts)   /* a minimal container: pictures without a word on them */
                return sn_fail(SN_EUSAGE, "no font is installed (fontconfig lists none): "
                               "gnuplot would draw %s without any text (Debian: apt-get "
                               "install fonts-dejavu-core)", png);
            return SN_OK;
        }
        p += n;
        if (!*p)
            break;
    }
    return sn_fail(SN_EUSAGE, "gnuplot is not installed (Debian: apt-get install gnuplot-nox); "
                   "it draws %s", png);
}

/* Why gnuplot's picture in tmp is not to be kept (st its exit status,
 * msg its stderr), or SN_OK. */
static int judge(bool fed, int st, bool late, const char *msg, const char *tmp, const char *png)
{
    if (late)
        return sn_fail(SN_EIO, "gnuplot did not finish drawing %s within %g s and was "
                       "stopped; the file is left as it was", png, cli_gnuplot_limit_s);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return sn_fail(SN_EIO, "gnuplot is not installed (Debian: apt-get install gnuplot-nox); "
                       "it draws %s", png);
    if (!fed || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        long pids;   /* gnuplot's own threads need tasks: say the limit that refused them */
        const int room = sn_parallel_task_room(&pids);
        if (room < 8)
            return sn_fail(SN_EIO, "gnuplot failed drawing %s, with the cgroup's pids.max (%ld) "
                           "leaving room for %d more tasks: raise it (the job's or container's "
                           "task limit)%s%s", png, pids, room, msg[0] ? "; gnuplot said: " : "",
                           msg);
        return sn_fail(SN_EIO, "gnuplot failed drawing %s: %s", png, msg[0] ? msg : "no message");
    }
    if (!whole_png(tmp))
        return sn_fail(SN_EIO, "%s: gnuplot wrote an incomplete picture (disk full?%s%s); the "
                       "file is left as it was", png, msg[0] ? " " : "", msg);
    return mark_png(tmp, png);
}

int cli_gnuplot(const char *script, const char *dir, const char *png, int width, int height)
{
    char tmp[4200], errp[4200];
    sn_fs_tmpname(png, tmp, sizeof tmp);
    if (strlen(tmp) >= sizeof tmp - 1 ||
        (size_t)snprintf(errp, sizeof errp, "%s/gnuplot.err", dir) >= sizeof errp)
        return sn_fail(SN_EUSAGE, "%s: the file name is too long", png);
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (out < 0)
        return sn_fail(SN_EIO, "%s: cannot write the picture here: %s", png, strerror(errno));
    strcpy(held_png, tmp);   /* tmp fits: checked above */
    have_png = 1;
    int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int to = -1;
    pid_t pid = err < 0 ? -1 : start_gnuplot(dir, out, err, &to);
    close(out);
    if (err >= 0)
        close(err);
    if (pid < 0) {
        have_png = 0;
        remove(tmp);
        const int e = errno;
        long pids;
        if (e == EAGAIN && sn_parallel_task_room(&pids) == 0)
            return sn_fail(SN_EIO, "cannot start gnuplot: the cgroup's pids.max (%ld) is reached; "
                           "raise it (the job's or container's task limit)", pids);
        return sn_fail(SN_EIO, "cannot start gnuplot: %s", strerror(e));
    }
    int st;
    bool late;
    bool fed = run_script(pid, to, script, width, height, &st, &late);
    char msg[512];
    read_message(errp, msg, sizeof msg);
    int rc = sn_interrupt_check("drawing the picture");
    if (!rc)
        rc = judge(fed, st, late, msg, tmp, png);
    if (rc) {
        have_png = 0;
        remove(tmp);
        return rc;
    }
    rc = sn_fs_commit(tmp, png);
    have_png = 0;
    return rc;
}
