/* test_gnuplot: cli_gnuplot_text makes any byte sequence inert, checked
 * with the real gnuplot: hostile text printed from a script and read as a
 * data field runs nothing (no file appears) and shows as the expected
 * text; cli_gnuplot draws without a shell. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/gnuplot.h"
#include "core/clock.h"
#include "core/status.h"

static const char *const hostile[] = {
    "a\nsystem \"touch pwned\"\n",
    "x'\nsystem 'touch pwned'\n'",
    "`touch pwned`",
    "'; system('touch pwned'); print '",
    "\"; system(\"touch pwned\"); print \"",
    "back\\slash\\",
    "\\\nsystem 'touch pwned'",
    "@macro $0 %s%n%x",
    "cr\rsystem 'touch pwned'\r",
    "tab\there",
    "esc\x1b[31mred\x7f",
    "bad utf-8 \xff\xfe\xc0\xaf \xed\xa0\x80",
    "ok utf-8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
    "escapes \\101 \\t \\x41 \\u00e9 x\\",
    "\"q\" 'q' \"",
    "",
};

/* What the text must show as: control and non-UTF-8 bytes as '?', cut at
 * CLI_GNUPLOT_TEXT_MAX with "...". Computed here independently, byte by
 * byte, for the cases above (whose multi-byte characters are valid). */
static void expected(const char *s, bool field, char *out)
{
    size_t o = 0;
    if (!*s)
        out[o++] = '?';
    if (strstr(s, "bad utf-8")) {   /* every byte >= 0x80 in that case is invalid */
        for (; *s; s++)
            out[o++] = (unsigned char)*s >= 0x80 ? '?' : *s;   /* (no quote in that case) */
        out[o] = '\0';
        return;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'' && !field) {
            memcpy(out + o, "\xe2\x80\x99", 3);
            o += 3;
            continue;
        }
        out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[o] = '\0';
}

static char dir[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/gp", sn_test_tmpdir());
    return mkdir(dir, 0777);
}

static bool pwned(void)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/pwned", dir);
    return access(p, F_OK) == 0;
}

/* As a quoted string: `print` shows exactly the expected text, and a title
 * and a label with it draw without running anything. */
static void test_gnuplot_text_literal_inert(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char path[1100], want[512];
        snprintf(path, sizeof path, "%s/s.gp", dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("set terminal dumb\nset output '/dev/null'\nset print '-'\nprint ", f);
        cli_gnuplot_text(f, hostile[i], false);
        fputs("\nset title ", f);
        cli_gnuplot_text(f, hostile[i], false);
        fputs("\nset label 1 ", f);
        cli_gnuplot_text(f, hostile[i], false);
        fputs(" at 0,0\nplot x\n", f);
        fclose(f);
        int rc = sn_test_run("cd %s && gnuplot s.gp", dir);
        char *out = sn_test_slurp(sn_test_path("out.txt"));
        expected(hostile[i], false, want);
        if (rc != 0 || pwned() || strncmp(out, want, strlen(want)) != 0 ||
            out[strlen(want)] != '\n')
            fail_msg("case %zu: exit %d, pwned %d, printed '%s', wanted '%s'", i, rc, pwned(),
                     out, want);
        free(out);
    }
}

/* As a data field: one field of one line (no tab, newline or double
 * quote), read by xticlabels without running anything, and read by
 * gnuplot (stringcolumn, the parse xticlabels uses) as the expected text:
 * gnuplot expands escapes in fields (\\101 showed as A, a lone backslash
 * vanished, two different names were drawn alike). */
static void test_gnuplot_text_field_inert(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char path[1100], want[512], *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        cli_gnuplot_text(m, hostile[i], true);
        fclose(m);
        expected(hostile[i], true, want);
        assert_null(strpbrk(text, "\t\n\r\""));
        snprintf(path, sizeof path, "%s/d.dat", dir);
        FILE *f = fopen(path, "w");
        fprintf(f, "0\t%s\n1\t%s\n", text, text);
        fclose(f);
        free(text);
        int rc = sn_test_run("cd %s && printf 'set terminal dumb\\nset output \"/dev/null\"\\n"
                             "set datafile separator \"\\\\t\"\\ns = \"\"\\n"
                             "plot \"d.dat\" using 1:(s = stringcolumn(2), 1):xticlabels(2)\\n"
                             "set print \"-\"\\nprint s\\n' | gnuplot", dir);
        char *out = sn_test_slurp(sn_test_path("out.txt"));
        if (rc != 0 || pwned() || strncmp(out, want, strlen(want)) != 0 ||
            out[strlen(want)] != '\n')
            fail_msg("case %zu: exit %d, pwned %d, read '%s', wanted '%s': %s", i, rc, pwned(),
                     out, want, sn_test_slurp(sn_test_path("err.txt")));
        free(out);
    }
}

/* Long text is cut at a character boundary and marked, after the columns
 * it is drawn in. */
static void test_gnuplot_text_cut(void **state)
{
    (void)state;
    char big[400], *text = NULL;
    size_t len = 0;
    for (size_t i = 0; i + 2 < sizeof big; i += 2)
        memcpy(big + i, "\xc3\xa9", 2);   /* e-acute, two bytes, one column each */
    big[sizeof big - 2] = '\0';
    FILE *m = open_memstream(&text, &len);
    cli_gnuplot_text(m, big, true);
    fclose(m);
    assert_int_equal(strlen(text), 2 * CLI_GNUPLOT_TEXT_MAX + 3);
    assert_string_equal(text + 2 * CLI_GNUPLOT_TEXT_MAX, "...");
    free(text);
    /* a shorter cut (the confusion picture's axes): 5 columns keep five
     * whole characters, never half of one; the columns written, "..."
     * included, are returned */
    m = open_memstream(&text, &len);
    assert_int_equal(cli_gnuplot_text_cut(m, big, true, 5), 8);
    fclose(m);
    assert_string_equal(text, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
    free(text);
    /* a wide character takes two columns; a letter keeps two combining
     * marks and drops the rest (gnuplot draws a stack of them as a line);
     * bytes that are not UTF-8 show as one '?' each */
    const bool cjk = cli_gnuplot_can_draw(0x4e2d);   /* a font that has it may be missing */
    m = open_memstream(&text, &len);
    assert_int_equal(cli_gnuplot_text_cut(m, "\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad", true, 5),
                     cjk ? 7 : 3);
    assert_int_equal(cli_gnuplot_text_cut(m, "|x\xcc\x81\xcc\x82\xcc\x83\xcc\x84y\xcc\x81|", true, 9), 4);
    assert_int_equal(cli_gnuplot_text_cut(m, "\xff\xfe", true, 9), 2);
    fclose(m);
    assert_string_equal(text, cjk ? "\xe4\xb8\xad\xe4\xb8\xad...|x\xcc\x81\xcc\x82y\xcc\x81|??"
                                  : "???|x\xcc\x81\xcc\x82y\xcc\x81|??");
    free(text);
    /* a character no installed font has (U+3FFFD, unassigned) shows as one
     * '?': pngcairo drew such characters as shapes across the picture */
    assert_false(cli_gnuplot_can_draw(0x3fffd));
    assert_true(cli_gnuplot_can_draw('A'));
    assert_int_equal(cli_gnuplot_undrawable("ab\xf0\xbf\xbf\xbd" "c"), 0x3fffd);
    assert_int_equal(cli_gnuplot_undrawable("abc"), 0);
    m = open_memstream(&text, &len);
    assert_int_equal(cli_gnuplot_text_cut(m, "a\xf0\xbf\xbf\xbd" "b", true, 9), 3);
    fclose(m);
    assert_string_equal(text, "a?b");
    free(text);
    /* a line separator, a right-to-left override and a zero-width space
     * (a title that would break into lines, reorder or hide) show as '?' */
    m = open_memstream(&text, &len);
    cli_gnuplot_text(m, "a\xe2\x80\xa8" "b\xe2\x80\xae" "c\xe2\x80\x8b" "d", false);
    fclose(m);
    assert_string_equal(text, "'a?b?c?d'");
    free(text);
}

/* cli_gnuplot draws into a hostile output name without a shell: the file
 * of that exact name appears, nothing else does. */
static void test_gnuplot_hostile_output_name(void **state)
{
    (void)state;
    char png[1200];
    snprintf(png, sizeof png, "%s/o'$(touch pwned)`touch pwned`\n;touch pwned.png", dir);
    int rc = cli_gnuplot("plot x\n", dir, png, 200, 150);
    if (rc)
        fail_msg("%s", sn_errmsg());
    struct stat st;
    assert_int_equal(stat(png, &st), 0);
    assert_true(st.st_size > 100);
    assert_false(pwned());
    remove(png);
    /* a failing script: an error with gnuplot's message, no file */
    rc = cli_gnuplot("plot nosuchfunction(x)\n", dir, png, 200, 150);
    assert_int_equal(rc, SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "gnuplot failed"));
    assert_int_not_equal(stat(png, &st), 0);
}

/* A gnuplot that never ends is stopped after its time: an error naming
 * the picture and the limit, and the picture already there is kept. */
static void test_gnuplot_hung_stopped(void **state)
{
    (void)state;
    char fake[1100], exe[1200], png[1200], path[8192];
    snprintf(fake, sizeof fake, "%s/fakebin", dir);
    snprintf(exe, sizeof exe, "%s/gnuplot", fake);
    snprintf(png, sizeof png, "%s/kept.png", dir);
    assert_int_equal(mkdir(fake, 0700), 0);
    FILE *f = fopen(exe, "w");
    fputs("#!/bin/sh\nexec sleep 60\n", f);
    fclose(f);
    chmod(exe, 0700);
    f = fopen(png, "w");
    fputs("the old picture", f);
    fclose(f);
    const char *old = getenv("PATH");
    snprintf(path, sizeof path, "%s:%s", fake, old ? old : "/usr/bin:/bin");
    char *saved = strdup(old ? old : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    cli_gnuplot_limit_s = 0.5;
    const double t0 = sn_clock_s();
    int rc = cli_gnuplot("plot x\n", dir, png, 200, 150);
    const double took = sn_clock_s() - t0;
    cli_gnuplot_limit_s = CLI_GNUPLOT_SECONDS;
    setenv("PATH", saved, 1);
    free(saved);
    assert_int_equal(rc, SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "did not finish drawing"));
    assert_non_null(strstr(sn_errmsg(), "within 0.5 s"));
    assert_true(took < 30.0);
    char buf[64] = { 0 };
    f = fopen(png, "r");
    assert_non_null(f);
    assert_true(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    assert_string_equal(buf, "the old picture");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gnuplot_text_literal_inert),
        cmocka_unit_test(test_gnuplot_text_field_inert),
        cmocka_unit_test(test_gnuplot_text_cut),
        cmocka_unit_test(test_gnuplot_hostile_output_name),
        cmocka_unit_test(test_gnuplot_hung_stopped),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
