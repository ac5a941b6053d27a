/* test_status: an error message is one line of text that cannot act on a
 * terminal, whatever it quotes, and a long one keeps its end (the reason). */
#include "testutil.h"

#include <string.h>

#include "core/status.h"

/* C0 and C1 controls, DEL and bytes that are not UTF-8 become '?';
 * UTF-8 text stays as it is. */
static void test_status_one_line(void **state)
{
    (void)state;
    assert_int_equal(sn_fail(SN_EINVAL, "%s", "a\nb\x1b[31mc\x7f" "d\x9b" "31me\xff\xfe"
                             "f\xc2\x85g-\xc3\xa9-\xe6\x97\xa5"), SN_EINVAL);
    assert_string_equal(sn_errmsg(), "a?b?[31mc?d?31me??f??g-\xc3\xa9-\xe6\x97\xa5");
    /* not UTF-8 strictly: a surrogate, above U+10FFFF, overlong; bidi overrides */
    sn_fail(SN_EINVAL, "a\xed\xa0\x80" "b\xf4\x90\x80\x80" "c\xe0\x80\xaf" "d\xe2\x80\xae"
            "e\xe2\x81\xa6" "f\xe2\x80\x94" "g");
    assert_string_equal(sn_errmsg(), "a???b????c???d???e???f\xe2\x80\x94g");
    /* the bidi marks (U+200F, U+061C), the line separator (U+2028), an
     * invisible character (U+200B), a noncharacter (U+FFFF) */
    sn_fail(SN_EINVAL, "a\xe2\x80\x8f" "b\xd8\x9c" "c\xe2\x80\xa8" "d\xe2\x80\x8b" "e"
            "\xef\xbf\xbf" "f");
    assert_string_equal(sn_errmsg(), "a???b??c???d???e???f");
    /* a character cut at the end of the text */
    sn_fail(SN_EINVAL, "x\xe6\x97");
    assert_string_equal(sn_errmsg(), "x??");
}

/* A message longer than the buffer keeps its beginning and its end. */
static void test_status_long_keeps_reason(void **state)
{
    (void)state;
    char path[5000];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    sn_fail(SN_EINVAL, "%s: cannot open: No such file or directory", path);
    const char *m = sn_errmsg();
    assert_true(strlen(m) < 1024);
    assert_true(strncmp(m, "pppp", 4) == 0);
    assert_non_null(strstr(m, "p ... p"));
    assert_non_null(strstr(m, "p: cannot open: No such file or directory"));
    /* and through a prefix, which may quote the message itself */
    sn_fail_prefix(SN_EINVAL, "--data %s: ", path);
    assert_true(strncmp(sn_errmsg(), "--data ppp", 10) == 0);
    assert_non_null(strstr(sn_errmsg(), "p: cannot open: No such file or directory"));
    /* a sequel is kept whole after a long message: what to do is said last */
    assert_int_equal(sn_fail_suffix(SN_EUSAGE, "; remove it \x1b first"), SN_EUSAGE);
    assert_true(strlen(sn_errmsg()) < 1024);
    assert_true(strncmp(sn_errmsg(), "--data ppp", 10) == 0);
    assert_non_null(strstr(sn_errmsg(), "No such file or directory; remove it ? first"));
    sn_fail(SN_EINVAL, "short");
    sn_fail_suffix(SN_EINVAL, " (%d)", 7);
    assert_string_equal(sn_errmsg(), "short (7)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_one_line),
        cmocka_unit_test(test_status_long_keeps_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
