/* output: rank 0's lines while training, which never wait for a reader.
 *
 * Open MPI's mpirun reads the ranks' output (a pseudo-terminal for stdout,
 * a pipe for stderr) in its event loop.  Once it gets SIGTERM it stops
 * reading: it sleeps odls_base_sigkill_timeout seconds, passes SIGTERM on
 * to the ranks, sleeps as long again and sends SIGKILL.  A rank 0 that
 * waited for room to print would sit in write() through both sleeps (the
 * signal handler restarts it, SA_RESTART) and be killed before it saved.
 * So these lines are written at once or not at all: a reader that stops
 * reading costs lines, never the run.
 */
#ifndef SN_CLI_OUTPUT_H
#define SN_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* Whether fd takes a short line now (poll, no wait): true for a regular
 * file and for a pipe or terminal with room, false when it is full or
 * broken.  A pipe with room takes PIPE_BUF bytes without waiting, a
 * pseudo-terminal 256 (its room is counted in 256-byte blocks). */
bool cli_output_ready(int fd);

/* Write text (at most 256 bytes for a terminal) to out now, or not at all
 * when out cannot take it without waiting; returns whether it was
 * written.  Whatever out's buffer held goes first. */
bool cli_output_now(FILE *out, const char *text);

/* Whether fd is a pipe whose reader has gone (| head that ended): what
 * was not written there was not wanted. */
bool cli_output_reader_gone(int fd);

#endif
