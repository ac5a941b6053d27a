/* test_metacheck: class names against what a model predicts, checked the
 * one way for datasets and weights. */
#include "testutil.h"

#include <string.h>

#include "core/status.h"
#include "io/metacheck.h"

static int check(const char *const *names, size_t n, int outputs, int classes)
{
    return sn_check_class_names("f.h5", "the attribute classes", (char *const *)names, n,
                                outputs, classes);
}

/* Enough names pass, more than the model predicts too (a subset keeps
 * every name); too few are refused, by a message for what the model is. */
static void test_metacheck_names_cover_classes(void **state)
{
    (void)state;
    static const char *const abc[] = { "a", "b", "c" };
    assert_int_equal(check(abc, 3, 3, 3), SN_OK);
    assert_int_equal(check(abc, 3, 2, 2), SN_OK);
    assert_int_equal(check(abc, 2, 1, 2), SN_OK);   /* binary: both named */
    assert_int_equal(check(NULL, 0, 3, 3), SN_OK);   /* no names: numbers shown */
    assert_int_equal(check(abc, 2, 3, 3), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "f.h5: the attribute classes names 2 classes but the "
                                        "model has 3 outputs: give its last layer 2 units"));
    assert_int_equal(check(abc, 1, 1, 2), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "names 1 class, but a model of one binary_cross_entropy "
                                        "output predicts 2 (labels 0 and 1): name both"));
    assert_int_equal(check(abc, 1, 0, 0), SN_OK);   /* no model to compare with */
}

/* Names that would not show as themselves, or twice, are refused. */
static void test_metacheck_names_show_as_themselves(void **state)
{
    (void)state;
    static const char *const twice[] = { "a", "b", "a" }, *const empty[] = { "a", "" },
                             *const blank[] = { "a ", "b" }, *const ctl[] = { "a\nb", "c" },
                             *const nfd[] = { "caf\xc3\xa9", "cafe\xcc\x81" };
    assert_int_equal(check(twice, 3, 0, 0), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "names the class 'a' twice"));
    assert_int_equal(check(empty, 2, 0, 0), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "gives class 1 an empty name"));
    assert_int_equal(check(blank, 2, 0, 0), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "starts or ends with a blank"));
    assert_int_equal(check(ctl, 2, 0, 0), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "gives class 0 a name holding"));
    assert_int_equal(check(nfd, 2, 0, 0), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "in two Unicode forms"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metacheck_names_cover_classes),
        cmocka_unit_test(test_metacheck_names_show_as_themselves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
