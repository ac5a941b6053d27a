/* gnuplot: run gnuplot to draw a PNG (see gnuplot.h). */
#include "cli/gnuplot.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/status.h"


int cli_tmpdir(char *dir, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, len, "%s/scratchnet.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir))
        return sn_fail(SN_EIO, "cannot create a temporary directory in %s", base ? base : "/tmp");
    return SN_OK;
}

void cli_tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                remove(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

/* gnuplot strings are single-quoted; a quote inside is doubled. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

int cli_gnuplot(const char *script, const char *png, int width, int height)
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        return sn_fail(SN_EIO, "gnuplot is not installed (Debian: apt-get install gnuplot-nox); "
                       "it draws %s", png);
    char dir[4096], tmp[4200], errp[4200], cmd[8600];
    int rc = cli_tmpdir(dir, sizeof dir);
    if (rc)
        return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", png, (long)getpid());
    snprintf(errp, sizeof errp, "%s/gnuplot.err", dir);
    snprintf(cmd, sizeof cmd, "gnuplot 2>'%s'", errp);
    FILE *g = popen(cmd, "w");
    if (!g) {
        cli_tmpdir_remove(dir);
        return sn_fail(SN_EIO, "cannot start gnuplot");
    }
    fprintf(g, "set terminal pngcairo size %d,%d noenhanced font ',10'\nset output ", width,
            height);
    put_quoted(g, tmp);
    fprintf(g, "\n%s\nunset output\n", script);
    int st = pclose(g);
    if (st != 0 || access(tmp, F_OK) != 0) {
        char msg[512] = "";
        FILE *e = fopen(errp, "r");
        if (e) {
            size_t n = fread(msg, 1, sizeof msg - 1, e);
            msg[n] = '\0';
            fclose(e);
            for (char *p = msg; *p; p++)
                if (*p == '\n')
                    *p = ' ';
        }
        remove(tmp);
        cli_tmpdir_remove(dir);
        return sn_fail(SN_EIO, "gnuplot failed drawing %s: %s", png, msg[0] ? msg : "no message");
    }
    cli_tmpdir_remove(dir);
    if (rename(tmp, png) != 0) {
        remove(tmp);
        return sn_fail(SN_EIO, "%s: cannot write the picture here", png);
    }
    return SN_OK;
}
