/* test_interrupt: the one stop request and its relay (core/interrupt.h). */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>

#include "core/interrupt.h"
#include "core/status.h"

static int asked, answer, told;

static int relay(int mine)
{
    asked++;
    told = mine;
    return answer;
}

/* The first request is kept; clear forgets it; the names. */
static void test_interrupt_first_kept(void **state)
{
    (void)state;
    sn_interrupt_clear();
    assert_int_equal(sn_interrupt_pending(), 0);
    assert_int_equal(sn_interrupt_check("testing"), SN_OK);
    sn_interrupt_set(SIGTERM);
    sn_interrupt_set(SIGINT);
    assert_int_equal(sn_interrupt_pending(), SIGTERM);
    assert_int_equal(sn_interrupt_check("testing"), SN_EINTR);
    assert_string_equal(sn_errmsg(), "interrupted by SIGTERM while testing");
    sn_interrupt_clear();
    sn_interrupt_set(0);   /* a request that is no signal */
    assert_int_equal(sn_interrupt_pending(), -1);
    assert_string_equal(sn_signal_name(-1), "a stop request");
    sn_interrupt_clear();
}

static void *pending_elsewhere(void *out)
{
    *(int *)out = sn_interrupt_pending();
    return NULL;
}

/* A relay is asked only on the thread that installed it, and never by
 * sn_interrupt_recorded (a signal handler's); it is told the request
 * recorded (to pass it on), and what it brings is recorded as the request
 * unless one is already. */
static void test_interrupt_relay(void **state)
{
    (void)state;
    sn_interrupt_clear();
    asked = 0;
    answer = 0;
    told = -5;
    sn_interrupt_relay(relay);
    assert_int_equal(sn_interrupt_pending(), 0);
    assert_int_equal(asked, 1);
    assert_int_equal(told, 0);
    answer = SIGUSR1;
    int there = -1;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, pending_elsewhere, &there), 0);
    pthread_join(t, NULL);
    assert_int_equal(there, 0);   /* another thread does not ask it */
    assert_int_equal(sn_interrupt_recorded(), 0);
    assert_int_equal(asked, 1);
    assert_int_equal(sn_interrupt_pending(), SIGUSR1);
    assert_int_equal(asked, 2);
    answer = SIGTERM;
    assert_int_equal(sn_interrupt_pending(), SIGUSR1);   /* the first kept */
    assert_int_equal(asked, 3);
    assert_int_equal(told, SIGUSR1);   /* told of it, to pass it on */
    assert_int_equal(sn_interrupt_recorded(), SIGUSR1);
    assert_int_equal(asked, 3);
    sn_interrupt_relay(NULL);
    sn_interrupt_clear();
    assert_int_equal(sn_interrupt_pending(), 0);
    assert_int_equal(asked, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interrupt_first_kept),
        cmocka_unit_test(test_interrupt_relay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
