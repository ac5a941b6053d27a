/* jsonlog: the train --log file (docs/FORMATS.md, "Metrics log"), one JSON
 * object a line, written and read with jansson. */
#ifndef SN_CLI_JSONLOG_H
#define SN_CLI_JSONLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One epoch's line.  A NAN value is left out of the line (test figures
 * when there was no evaluation, accuracies without class labels), an
 * infinite one is written as null; reading gives NAN for a key that is
 * absent or not a number (-1 or 0 for the integers). */
struct cli_log_line {
    int64_t epoch, step;
    int64_t train_steps;   /* the steps the train figures cover (fewer after a resume) */
    double train_loss, train_acc, test_loss, test_acc;
    double lr, images_per_s, elapsed_s;
    int ranks, threads, peak_rss_mb;
};

/* SN_EUSAGE unless the file at path is absent, blank, or a log: its first
 * line a record scratchnet writes (a JSON object with the numbers "epoch"
 * and "train_loss"), or, as its only line, the start of one cut short.
 * Appending to any other file (settings, a weights file) would damage it;
 * to a log plot refuses (other lines in it, past plot's limits) would put
 * the run's epochs where plot cannot draw them.  *records: the log's. */
int cli_log_check(const char *path, int *records);

/* SN_EUSAGE naming flag if the file at path is a log a run holds (its
 * lock) or starts with a record: an output (--out, -o) would replace it. */
int cli_log_guard(const char *path, const char *flag);

/* The same at the rename that ends a command (cli_replace_guard asks it):
 * a log made at an output's name while the command ran is not replaced;
 * the message names tmp, where the output stays. */
int cli_log_replace_guard(const char *target, const char *tmp);

/* Open the log at path to append (fopen "a+"); *created: whether it was
 * absent.  A last line without its end of line that does not parse as
 * JSON (a write cut short by a full disk or a kill) is removed first:
 * *cut gets the bytes removed (0 if none); one that parses gets its end
 * of line, so the next line starts a line of its own.  A last line that
 * cannot be a record cut short (over 1 MiB, not starting with '{' (some-
 * one's note), holding a '}' or a carriage return (records joined by CR
 * alone)) is left: NULL with errno EILSEQ, *cut its length (-1: over
 * 1 MiB, not read to its start); a record cut short that cannot be
 * removed (an append-only file) is left too: NULL with errno EPERM (or
 * EIO), *cut its length.  The file stays locked (flock) while it is
 * open: NULL with errno EBUSY when another process holds it, else NULL
 * with errno set on failure. */
FILE *cli_log_open(const char *path, bool *created, long long *cut);

/* Append e to f (from cli_log_open) as one line, written past stdio's
 * buffer and fsync'ed.  Numbers are written so that they read back to the
 * same double.  A line that does not fit whole is removed again (the file
 * is cut back to where it ended), so a full disk never leaves half a line.
 * SN_EIO with the reason, SN_ENOMEM. */
int cli_log_epoch(FILE *f, const struct cli_log_line *e);

/* Every line of the log at path, in order, into *rows (malloc'd, caller
 * frees; *n of them).  Blank lines are skipped; any valid JSON object with
 * the numbers "epoch" and "train_loss" is a line, whatever its spacing,
 * key order or other keys (epoch, and step, ranks, threads and
 * peak_rss_mb where present, must be whole numbers).  A last line
 * without an end of line that is not such a line (a write cut short) is
 * skipped: *cut_line gets its number (0 when there is none; cut_line may
 * be NULL).  SN_EINVAL naming path:line for any other line that is not
 * JSON or not such an object, or for a log without lines. */
int cli_log_read(const char *path, struct cli_log_line **rows, int *n, int *cut_line);

/* Open the log at path for reading into *in: a regular file of at most
 * CLI_LOG_MAX_BYTES (a larger one is refused, saying how to plot its end). */
int cli_log_open_input(const char *path, FILE **in);

/* The same from an open stream (name for the messages); path's file must
 * be a regular file of at most CLI_LOG_MAX_BYTES (cli.h), the stream is
 * read as it is. */
int cli_log_read_stream(FILE *in, const char *name, struct cli_log_line **rows, int *n,
                        int *cut_line);

#endif
