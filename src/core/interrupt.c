/* interrupt: the command's stop request (see interrupt.h).
 *
 * The flag is a lock-free atomic, not a volatile sig_atomic_t: the handler
 * may run on any thread (OpenMP's, the watchdog's, the MPI library's),
 * and C11 allows lock-free atomics in signal handlers. */
#include "core/interrupt.h"

#include <signal.h>
#include <stdatomic.h>

#include "core/status.h"

static atomic_int pending;

void sn_interrupt_set(int sig)
{
    int none = 0;
    atomic_compare_exchange_strong(&pending, &none, sig ? sig : -1);
}

int sn_interrupt_pending(void)
{
    return atomic_load(&pending);
}

void sn_interrupt_clear(void)
{
    atomic_store(&pending, 0);
}

int sn_interrupt_check(const char *doing)
{
    int sig = sn_interrupt_pending();
    return sig ? sn_fail(SN_EINTR, "interrupted by %s while %s", sn_signal_name(sig), doing)
               : SN_OK;
}

const char *sn_signal_name(int sig)
{
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGALRM: return "SIGALRM";
    case SIGXCPU: return "SIGXCPU";
    case SIGPWR: return "SIGPWR";
    case SIGPROF: return "SIGPROF";
    case SIGVTALRM: return "SIGVTALRM";
    case SIGIO: return "SIGIO";
    case SIGSTKFLT: return "SIGSTKFLT";
    default: return sig < 0 ? "a stop request"
                    : sig >= SIGRTMIN && sig <= SIGRTMAX ? "a real-time signal" : "a signal";
    }
}
