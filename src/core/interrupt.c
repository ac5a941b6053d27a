/* interrupt: the stop request of a signal handler (see interrupt.h). */
#include "core/interrupt.h"

#include <signal.h>

#include "core/status.h"

static volatile sig_atomic_t pending;

void sn_interrupt_set(int sig)
{
    if (!pending)
        pending = sig;
}

int sn_interrupt_pending(void)
{
    return pending;
}

int sn_interrupt_check(const char *doing)
{
    int sig = pending;
    return sig ? sn_fail(SN_EINTR, "interrupted by signal %d while %s", sig, doing) : SN_OK;
}
