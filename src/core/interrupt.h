/* interrupt: the command's one stop request, set by its signal handler.
 *
 * src/cli/main.c installs one handler (SIGTERM, SIGINT, SIGUSR1) when the
 * command starts; it records the signal here, and everything that may run
 * long looks at this one flag: the trainer at each step (the request
 * travels in the step's reduction, so every rank stops after the same
 * step, then checkpoints and writes --out) and between its set-up stages,
 * and long loads, which end with SN_EINTR (sn_interrupt_check).  A program
 * built on the library may set it too (sn_trainer_request_stop does).
 */
#ifndef SN_CORE_INTERRUPT_H
#define SN_CORE_INTERRUPT_H

/* Record the request: sig is a signal number, or < 0 for a request that
 * is not a signal.  Async-signal-safe, any thread; the first one is kept. */
void sn_interrupt_set(int sig);

/* The request recorded (its signal number), or 0.  On the thread that
 * installed a relay, the relay is asked first (a request it brings is
 * recorded, unless one is already). */
int sn_interrupt_pending(void);

/* The request recorded, without asking a relay: for a signal handler. */
int sn_interrupt_recorded(void);

/* Install ask (NULL: remove it) on the calling thread: sn_interrupt_pending
 * there also asks it, with the request recorded (0 for none), to pass that
 * request on or to bring one made elsewhere, such as a stop signal that
 * another MPI rank received (ask returns its number, or 0). */
void sn_interrupt_relay(int (*ask)(int mine));

/* Forget the request: for a program that goes on after a stop (a test
 * that resumes in the same process). */
void sn_interrupt_clear(void);

/* SN_OK, or SN_EINTR with "interrupted by SIGTERM while <doing>" when a
 * request is pending. */
int sn_interrupt_check(const char *doing);

/* "SIGTERM", "SIGINT", ... for the signals a command is stopped with; "a
 * stop request" for sig < 0, "a signal" for others. */
const char *sn_signal_name(int sig);

#endif
