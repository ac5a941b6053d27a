/* watchdog: ends this rank when training stops making progress.
 *
 * Open MPI waits forever in a collective whose peer has stopped (a hung or
 * frozen process, a node that went silent without closing its sockets).
 * The trainer calls watchdog_progress() after every step, evaluation batch
 * and checkpoint; a thread checks every second and, after `timeout`
 * seconds without progress, prints which rank, step and host it was and
 * where it waits (dist's flight recorder: the collective's kind, its number
 * in this rank's sequence of collectives, the step and the gradient
 * bucket), and kills its own process (SIGKILL), so mpirun, mpiexec or srun
 * ends the whole job.  Every rank that can still run prints its line, all
 * naming the same collective: the stuck rank is the one whose line is
 * missing or behind.  It lives in src/cli because only the command's top
 * level may end the process.
 */
#ifndef SN_CLI_WATCHDOG_H
#define SN_CLI_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

/* Start watching (timeout_s > 0) or do nothing (0); checkpoints: whether
 * the run writes any (the message then says how to continue). */
int watchdog_start(double timeout_s, int rank, bool checkpoints);

/* Record progress at global step `step` (step < 0: progress within the
 * current step, e.g. an evaluation batch). */
void watchdog_progress(int64_t step);

/* A checkpoint exists now (written, or resumed from): the message says
 * --resume auto continues from it; before, that a rerun starts over. */
void watchdog_checkpointed(void);

void watchdog_stop(void);

#endif
