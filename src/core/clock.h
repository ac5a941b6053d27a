/* clock: the project's one clock.
 *
 * Seconds of CLOCK_MONOTONIC (never jumps with the wall clock; on one
 * machine every process reads the same clock, so a timeline gathered from
 * several ranks lines up).  Cheap enough (no system call) to read around
 * every phase of a step.
 */
#ifndef SN_CORE_CLOCK_H
#define SN_CORE_CLOCK_H

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double sn_clock_s(void);

#endif
