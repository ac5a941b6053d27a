/* test_text: a class name must show as itself: no character that acts on
 * a terminal or shows as nothing, no blank at an end, no two names that
 * are one text in two Unicode forms; printed text is made inert. */
#define _GNU_SOURCE   /* unshare, sethostname: a host name of the test's own */
#include "testutil.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/status.h"
#include "core/text.h"

static void problem_is(const char *name, const char *want)
{
    char why[64] = "";
    assert_true(sn_text_problem(name, why, sizeof why));
    assert_string_equal(why, want);
}

static void test_text_problem(void **state)
{
    (void)state;
    char why[64];
    /* letters of any script, marks that show, punctuation, emoji without selectors */
    const char *good[] = { "cat", "caf\xc3\xa9", "cafe\xcc\x81", "\xe7\x8c\xab", "T-shirt/top",
                           "a b", "\xf0\x9f\x90\x88", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_false(sn_text_problem(good[i], why, sizeof why));
    problem_is("a\xff", "the byte 0xff, which is not UTF-8");
    problem_is("a\xed\xa0\x80", "the byte 0xed, which is not UTF-8");   /* a surrogate */
    problem_is("a\xc0\xaf", "the byte 0xc0, which is not UTF-8");       /* overlong */
    problem_is("a\x1b[31m", "a control character (U+001B)");
    problem_is("a\xc2\x9b", "a control character (U+009B)");
    problem_is("a\x7f", "a control character (U+007F)");
    problem_is("\xe2\x80\xae" "cba", "a bidirectional control (U+202E)");
    problem_is("a\xe2\x80\x8f", "a bidirectional control (U+200F)");
    problem_is("a\xd8\x9c", "a bidirectional control (U+061C)");
    problem_is("a\xe2\x80\xa8" "b", "a line separator (U+2028)");
    problem_is("a\xe2\x80\xa9" "b", "a paragraph separator (U+2029)");
    problem_is("a\xe2\x80\x8b", "an invisible character (U+200B)");
    problem_is("a\xe2\x81\xa0", "an invisible character (U+2060)");
    problem_is("\xef\xbb\xbf" "a", "an invisible character (U+FEFF)");
    problem_is("a\xc2\xad" "b", "an invisible character (U+00AD)");
    problem_is("a\xe3\x85\xa4", "an invisible character (U+3164)");
    problem_is("\xe2\xa0\x80", "a blank Braille pattern (shown as a blank) (U+2800)");
    problem_is("a\xef\xbf\xb9" "b", "a format character (shown as nothing, or as a box) (U+FFF9)");
    problem_is("\xd8\x80" "1", "a format character (shown as nothing, or as a box) (U+0600)");
    problem_is("a\xf3\xa0\x80\x81", "an invisible character (U+E0001)");
    problem_is("a\xef\xbf\xbf", "a noncharacter (U+FFFF)");
    /* a name that starts with a combining mark (alone it shows as nothing) */
    problem_is("\xcc\x81", "a combining mark at its start (U+0301)");
    problem_is("\xcc\x80\xcc\x82", "a combining mark at its start (U+0300)");
    assert_false(sn_text_problem("cafe\xcc\x81", why, sizeof why));   /* after a letter: fine */
}

static void test_text_blank_edge(void **state)
{
    (void)state;
    assert_false(sn_text_blank_edge(""));
    assert_false(sn_text_blank_edge("a b"));
    assert_false(sn_text_blank_edge("caf\xc3\xa9"));
    assert_true(sn_text_blank_edge(" a"));
    assert_true(sn_text_blank_edge("a "));
    assert_true(sn_text_blank_edge("a\xc2\xa0"));          /* no-break space */
    assert_true(sn_text_blank_edge("\xe3\x80\x80" "a"));   /* ideographic space */
    assert_true(sn_text_blank_edge("a\xe2\x80\x83"));      /* em space */
    assert_false(sn_text_blank_edge("a\xff"));             /* not UTF-8: not a blank */
}

static void clash_is(const char *const *names, size_t n, bool want, size_t a, size_t b)
{
    bool found = !want;
    size_t pair[2] = { 99, 99 };
    assert_int_equal(sn_text_clash(names, n, &found, pair), SN_OK);
    assert_int_equal(found, want);
    if (want) {
        assert_int_equal(pair[0], a);
        assert_int_equal(pair[1], b);
    }
}

static void test_text_clash(void **state)
{
    (void)state;
    const char *distinct[] = { "cat", "dog", "caf\xc3\xa9", "cafe", "Cat", "\xff" };
    clash_is(distinct, 6, false, 0, 0);
    clash_is(distinct, 0, false, 0, 0);
    const char *same[] = { "cat", "dog", "bird", "dog" };
    clash_is(same, 4, true, 1, 3);
    /* e-acute as one character (NFC) and as e with a combining accent (NFD) */
    const char *forms[] = { "cafe\xcc\x81", "tea", "caf\xc3\xa9" };
    clash_is(forms, 3, true, 0, 2);
    /* the angstrom sign U+212B and the letter U+00C5 */
    const char *angstrom[] = { "\xc3\x85", "\xe2\x84\xab" };
    clash_is(angstrom, 2, true, 0, 1);
    /* compatibility forms (NFKC): a no-break space inside, the fi ligature,
     * fullwidth letters */
    const char *nbsp[] = { "a b", "c", "a\xc2\xa0" "b" };
    clash_is(nbsp, 3, true, 0, 2);
    const char *liga[] = { "\xef\xac\x81" "sh", "fish" };
    clash_is(liga, 2, true, 0, 1);
    const char *wide[] = { "cat", "\xef\xbd\x83\xef\xbd\x81\xef\xbd\x94" };
    clash_is(wide, 2, true, 0, 1);
    const char *bytes[] = { "a\xff", "b", "a\xff" };   /* not UTF-8: compared as bytes */
    clash_is(bytes, 3, true, 0, 2);
}

/* Names that Unicode's confusables table makes one (a Cyrillic or Greek
 * letter for a Latin one) look alike: refused with the code asked for,
 * naming both; other names in those scripts, and plain ASCII names that
 * look alike ('0' and 'O', 'l' and 'I': EMNIST's classes), pass. */
static void test_text_look_alike(void **state)
{
    (void)state;
    const char *coat[] = { "Coat", "Bag", "C\xd0\xbe" "at" };   /* Cyrillic o */
    assert_int_equal(sn_text_refuse_look_alike(coat, 3, SN_EUSAGE, "here"), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "here: the class names 'Coat' (0) and 'C\xd0\xbe" "at' (2) "
                                        "look alike (Unicode lists them as confusable across "
                                        "scripts, such as a Cyrillic o among Latin letters): "
                                        "rename one"));
    const char *ascii[] = { "0", "O", "1", "l", "I", "corn", "com" };
    assert_int_equal(sn_text_refuse_look_alike(ascii, 7, SN_EINVAL, "a"), SN_OK);
    const char *greek[] = { "T\xce\x9fP", "TOP" };   /* Greek capital omicron */
    assert_int_equal(sn_text_refuse_look_alike(greek, 2, SN_EINVAL, "g"), SN_EINVAL);
    const char *fine[] = { "\xd0\xba\xd0\xbe\xd1\x82", "cat", "\xd0\xbf\xd1\x91\xd1\x81",
                           "Cat", "\xff" };   /* kot, pyos: other words */
    assert_int_equal(sn_text_refuse_look_alike(fine, 5, SN_EINVAL, "f"), SN_OK);
    /* one script's look-alikes are the user's letters: hiragana he and
     * katakana he, katakana ni and the kanji two, hyphen and minus, x and
     * times; a Latin a and a Cyrillic a are not */
    const char *one[] = { "\xe3\x81\xb8", "\xe3\x83\x98", "\xe3\x83\x8b", "\xe4\xba\x8c", "-",
                          "\xe2\x88\x92", "x", "\xc3\x97" };
    assert_int_equal(sn_text_refuse_look_alike(one, 8, SN_EINVAL, "j"), SN_OK);
    const char *two[] = { "a", "b", "\xd0\xb0" };
    assert_int_equal(sn_text_refuse_look_alike(two, 3, SN_EINVAL, "c"), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "'a' (0) and '\xd0\xb0' (2)"));
    /* a cross-script pair among ASCII look-alikes of its skeleton is found */
    const char *among[] = { "l", "I", "\xd3\x80", "1", "|" };   /* Cyrillic palochka */
    assert_int_equal(sn_text_refuse_look_alike(among, 5, SN_EINVAL, "p"), SN_EINVAL);
    /* more than 64 names of one skeleton: refused without comparing every pair */
    char many[128][8];
    const char *m[128];
    for (int i = 0; i < 128; i++) {
        for (int b = 0; b < 7; b++)
            many[i][b] = (i >> b) & 1 ? 'l' : 'I';
        many[i][7] = '\0';
        m[i] = many[i];
    }
    assert_int_equal(sn_text_refuse_look_alike(m, 64, SN_EINVAL, "m"), SN_OK);
    assert_int_equal(sn_text_refuse_look_alike(m, 65, SN_EINVAL, "m"), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "m: more than 64 class names look alike by Unicode's "
                                        "confusables (among them '"));
    assert_null(strstr(sn_errmsg(), "Cyrillic"));   /* plain ASCII: no script to blame */
}

/* Columns as a terminal shows them: a table of names stays straight. */
static void test_text_pad(void **state)
{
    (void)state;
    assert_int_equal(sn_text_width("cat"), 3);
    assert_int_equal(sn_text_width("caf\xc3\xa9"), 4);          /* e-acute, 2 bytes */
    assert_int_equal(sn_text_width("cafe\xcc\x81"), 4);         /* e and a combining accent */
    assert_int_equal(sn_text_width("\xe7\x8c\xab\xe5\xad\x90"), 4);   /* two wide characters */
    char out[64];
    sn_text_pad("caf\xc3\xa9", 6, out, sizeof out);
    assert_string_equal(out, "caf\xc3\xa9  ");
    /* cut: never half a character, and an ellipsis says so */
    sn_text_pad("\xe7\x8c\xab\xe5\xad\x90", 3, out, sizeof out);
    assert_string_equal(out, "\xe7\x8c\xab\xe2\x80\xa6");
    sn_text_pad("\xe7\x8c\xab\xe5\xad\x90x", 4, out, sizeof out);
    assert_string_equal(out, "\xe7\x8c\xab\xe2\x80\xa6 ");
    sn_text_pad("abcdef", 4, out, sizeof out);
    assert_string_equal(out, "abc\xe2\x80\xa6");
    assert_int_equal(sn_text_width(out), 4);
    sn_text_pad("abcd", 4, out, sizeof out);   /* exactly full: no cut */
    assert_string_equal(out, "abcd");
    sn_text_pad("ab", 4, out, 4);   /* the buffer's end comes first */
    assert_string_equal(out, "ab ");
}

/* sn_text_clean, for lines printed on stdout: the same bytes become '?'
 * as in error messages (test_status); newline and tab stay unless keep_lines is false. */
static void test_text_clean(void **state)
{
    (void)state;
    char a[] = "x\x1b[2J\ny\t\x9b\xc2\x9b\xe2\x80\xae\x07\xc3\xa9";
    sn_text_clean(a, true);
    assert_string_equal(a, "x?[2J\ny\t???????\xc3\xa9");   /* one ? a byte */
    char b[] = "3\x1b]0;t\x07\nfake line\t";
    sn_text_clean(b, false);
    assert_string_equal(b, "3?]0;t??fake line?");
}

/* A typo is near: at most two edits, between short names. */
static void test_text_near(void **state)
{
    (void)state;
    assert_true(sn_text_near("unitz", "units"));
    assert_true(sn_text_near("--epoch", "--epochs"));
    assert_true(sn_text_near("uints", "units"));
    assert_false(sn_text_near("abc", "xyz"));
    assert_false(sn_text_near("dense", "conv"));
    char long_name[80];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_false(sn_text_near(long_name, long_name));   /* not short */
    assert_false(sn_text_near("ot", "lr"));   /* 2 edits of 2 letters: no typo */
    assert_true(sn_text_near("ot", "out"));
    /* the nearest of several, not the first near one; ties go to the first */
    static const char *const flags[] = { "data", "batch", "lr", "log", "out", "seed", "steps" };
    static const char *const want[][2] = { { "batc", "batch" }, { "seps", "steps" },
                                            { "lop", "log" }, { "ot", "out" }, { "xyz", NULL } };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        struct sn_text_nearest near = { want[k][0], NULL, 0 };
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            sn_text_offer(&near, flags[i]);
        if (want[k][1])
            assert_string_equal(near.best, want[k][1]);
        else
            assert_null(near.best);
    }
    struct sn_text_nearest tie = { "block2", NULL, 0 };
    sn_text_offer(&tie, "block3");
    sn_text_offer(&tie, "block1");
    assert_string_equal(tie.best, "block3");
}

/* A file name's extension: its last part's, a leading dot no extension;
 * a list matched whole, in any case. */
static void test_text_ext(void **state)
{
    (void)state;
    assert_string_equal(sn_text_ext("a/b.c/x.PNG"), ".PNG");
    assert_null(sn_text_ext("a.png/x"));
    assert_null(sn_text_ext("dir/.profile"));
    assert_string_equal(sn_text_ext("..png"), ".png");
    assert_null(sn_text_ext(""));
    assert_true(sn_text_ext_in("img/x.JPeg", ".png .jpg .jpeg"));
    assert_false(sn_text_ext_in("img/x.jp", ".png .jpg .jpeg"));
    assert_false(sn_text_ext_in("img/x.jpegs", ".png .jpg .jpeg"));
    assert_false(sn_text_ext_in("x.h5/", ".h5"));
    assert_false(sn_text_ext_in(".h5", ".h5"));
    assert_true(sn_text_ext_in("w.tar.h5", ".h5 .hdf5"));
    assert_false(sn_text_ext_in("w", ".h5"));
}

/* A host name holding a newline and ESC (sethostname(2) takes any bytes;
 * round 67 F3: the rank table printed a forged "scratchnet: error:" line
 * and the lock file's line broke in two), set in a UTS namespace of a
 * child's own: shown with '?' for each. */
static void test_text_host(void **state)
{
    (void)state;
    static const char bad[] = "n\nscratchnet: error: forged\033[31m";
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWUTS) != 0 || sethostname(bad, sizeof bad - 1) != 0)
            _exit(77);   /* not root: no namespace of its own */
        char host[64], longest[65], n64[65];
        sn_text_host(host, sizeof host);
        if (strcmp(host, "n?scratchnet: error: forged?[31m") != 0)
            _exit(1);
        /* the longest name (HOST_NAME_MAX, 64 bytes) whole, or cut to fit;
         * round 68 F7: "?" in a 64-byte buffer */
        memset(n64, 'n', 64);
        n64[64] = '\0';
        if (sethostname(n64, 64) != 0)
            _exit(2);
        sn_text_host(longest, sizeof longest);
        sn_text_host(host, sizeof host);
        _exit(strcmp(longest, n64) == 0 && strlen(host) == 63 && host[0] == 'n' ? 0 : 3);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77) {
        printf("skipped: needs a UTS namespace (root)\n");
        skip();
    }
    assert_int_equal(WEXITSTATUS(st), 0);
    char host[4];   /* cut to fit, still ended */
    sn_text_host(host, sizeof host);
    assert_true(strlen(host) <= 3 && strlen(host) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_host),
        cmocka_unit_test(test_text_problem),
        cmocka_unit_test(test_text_blank_edge),
        cmocka_unit_test(test_text_clash),
        cmocka_unit_test(test_text_look_alike),
        cmocka_unit_test(test_text_ext),
        cmocka_unit_test(test_text_pad),
        cmocka_unit_test(test_text_clean),
        cmocka_unit_test(test_text_near),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
