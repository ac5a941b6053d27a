/* gnuplot: pictures drawn by Debian's gnuplot (gnuplot-nox), run as a
 * program.  scratchnet writes the data and the script; gnuplot draws. */
#ifndef SN_CLI_GNUPLOT_H
#define SN_CLI_GNUPLOT_H

#include <stddef.h>

/* Run gnuplot on script (text; it must set no output: this does) drawing a
 * PNG of width x height pixels to png.  The picture is drawn to a temporary
 * name beside png and renamed over it only when gnuplot succeeded, so a
 * failure leaves an existing png as it was.  SN_EIO when gnuplot is missing
 * (naming the package) or fails (with its message). */
int cli_gnuplot(const char *script, const char *png, int width, int height);

/* A fresh private directory for data files (mkdtemp under $TMPDIR or
 * /tmp); dir gets its path.  cli_tmpdir_remove deletes it and its files. */
int cli_tmpdir(char *dir, size_t len);
void cli_tmpdir_remove(const char *dir);

#endif
