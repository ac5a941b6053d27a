/* interrupt: the command's stop request (see interrupt.h).
 *
 * The flag is a lock-free atomic, not a volatile sig_atomic_t: the handler
 * may run on any thread (OpenMP's, the watchdog's, the MPI library's),
 * and C11 allows lock-free atomics in signal handlers. */
#include "core/interrupt.h"

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "core/status.h"

static atomic_int pending;
/* thread-local: the thread that installed it alone asks it (MPI, which a
 * relay calls, takes calls from one thread) */
static _Thread_local int (*relay)(int mine);

void sn_interrupt_set(int sig)
{
    int none = 0;
    atomic_compare_exchange_strong(&pending, &none, sig ? sig : -1);
}

int sn_interrupt_pending(void)
{
    int sig = atomic_load(&pending);
    if (relay) {
        int (*ask)(int) = relay;
        relay = NULL;   /* no second call from within the first */
        const int sent = ask(sig);
        relay = ask;
        if (sent)
            sn_interrupt_set(sent);
        sig = atomic_load(&pending);
    }
    return sig;
}

int sn_interrupt_recorded(void)
{
    return atomic_load(&pending);
}

void sn_interrupt_relay(int (*ask)(int mine))
{
    relay = ask;
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
