/* gnuplot: pictures drawn by Debian's gnuplot (gnuplot-nox), run as a
 * program.  scratchnet writes the data and the script; gnuplot draws.
 *
 * Strings are data, never code: the script scratchnet writes names no
 * path (gnuplot runs inside the private folder of its data files and
 * draws to its standard output, which is the picture's temporary file),
 * every number it draws comes from a data file, and every text taken from
 * a user (a file name, a class name) reaches gnuplot only through
 * cli_gnuplot_text, as a quoted title or a data field. */
#ifndef SN_CLI_GNUPLOT_H
#define SN_CLI_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The longest user text kept, in the columns it is drawn in (a wide
 * character two, each other character one, a combining mark none, and at
 * most two marks on one character); longer text is cut at a character
 * boundary and ends in "...". */
#define CLI_GNUPLOT_TEXT_MAX 120

/* Write the user text s to f so that no byte sequence can do anything but
 * show as text: as a single-quoted gnuplot string (as_field false; the
 * quotes included: gnuplot expands nothing in single quotes, neither
 * backslashes, backquotes nor macros; a single quote inside becomes U+2019,
 * because gnuplot's doubled '' misparses at the start of a string) or as
 * one field of a tab-separated data file (as_field true; read as a string
 * by xticlabels(), never as a format; gnuplot expands escapes in fields,
 * so a backslash is written \\ and a double quote, which would start a
 * quoted field, \042: each shows as itself).  Either way control bytes
 * (newline, tab, ...), bytes that are not UTF-8, characters that act on
 * the text around them or show as nothing (sn_text_hides: line
 * separators, bidirectional overrides, format characters) and characters
 * no installed font can draw (cli_gnuplot_can_draw) become '?', and empty
 * text becomes "?". */
void cli_gnuplot_text(FILE *f, const char *s, bool as_field);
/* The same, cut after max columns instead; the columns written (the
 * "..." of a cut counts 3), for sizing a picture to its labels. */
int cli_gnuplot_text_cut(FILE *f, const char *s, bool as_field, int max);

/* Whether some installed font has a glyph for the character c (ASCII:
 * always); cli_gnuplot_text writes '?' for one that none has, which
 * pngcairo would draw as shapes across the picture. */
bool cli_gnuplot_can_draw(uint32_t c);
/* The first character of the UTF-8 text s that no installed font can
 * draw, or 0. */
uint32_t cli_gnuplot_undrawable(const char *s);
/* Warn, naming whose text it is ("class 3's name"), when s holds a
 * character no installed font can draw; whether it warned. */
bool cli_gnuplot_warn_undrawable(const char *whose, const char *s);

/* Run gnuplot on script, inside folder dir (the script reads its data
 * files by their names in dir, with `set datafile separator "\t"` already
 * set), drawing a PNG of width x height pixels to png.  script must set no
 * terminal or output: this does.  The picture is drawn to a temporary name
 * beside png and renamed over it only when gnuplot succeeded, so a failure
 * leaves an existing png as it was.  No shell is involved.  SN_EIO when
 * gnuplot is missing (naming the package) or fails (with its message). */
int cli_gnuplot(const char *script, const char *dir, const char *png, int width, int height);

/* The seconds gnuplot is given to draw one picture before it is stopped
 * (SN_EIO, the file left as it was): a plot of a year-long log draws in a
 * few seconds.  A variable so that tests can shorten it. */
#define CLI_GNUPLOT_SECONDS 300.0
extern double cli_gnuplot_limit_s;

/* Before the work whose picture it draws: SN_EUSAGE, as cli_gnuplot says
 * it, when no gnuplot is on PATH or fontconfig lists no font (the picture
 * would have no text); SN_EIO when no folder can be made in TMPDIR (or
 * /tmp) for gnuplot's files, or it has no room. */
int cli_gnuplot_check(const char *png);

/* A fresh private directory for data files (mkdtemp under $TMPDIR or
 * /tmp); dir gets its path.  cli_tmpdir_remove deletes it and its files. */
int cli_tmpdir(char *dir, size_t len);
void cli_tmpdir_remove(const char *dir);

/* A second Ctrl-C ends the command at once (src/cli/main.c): what the
 * picture's drawing leaves meanwhile (the temporary folder and the hidden
 * picture beside its name) is removed first.  Async-signal-safe. */
void cli_gnuplot_abandon(void);

#endif
