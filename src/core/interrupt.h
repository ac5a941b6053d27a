/* interrupt: a stop request from a signal, seen by long loads.
 *
 * The command installs a SIGTERM / SIGINT handler (src/cli/main.c) that
 * calls sn_interrupt_set; every loop that can run long on outside input
 * (reading a dataset into memory, checking its labels, decoding an image,
 * converting a folder, parsing a model file) calls sn_interrupt_check now
 * and then and stops with SN_EINTR, so a job that is told to stop while it
 * loads ends promptly instead of after the load.
 */
#ifndef SN_CORE_INTERRUPT_H
#define SN_CORE_INTERRUPT_H

/* Record signal sig (async-signal-safe; the first one is kept). */
void sn_interrupt_set(int sig);

/* The signal recorded, or 0. */
int sn_interrupt_pending(void);

/* SN_OK, or SN_EINTR with "interrupted by signal N while <doing>" if a
 * signal was recorded. */
int sn_interrupt_check(const char *doing);

#endif
