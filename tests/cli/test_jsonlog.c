/* test_jsonlog: the train --log file through jansson.  Numbers written by
 * cli_log_epoch read back to the same doubles; any valid JSON object line
 * with the two required numbers reads, whatever its spacing, key order,
 * escaped strings or extra keys; a line that is not JSON, or not a log
 * line, is refused naming file:line, except a last line cut short, which
 * plot skips and an append removes. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/jsonlog.h"
#include "core/status.h"
#include "io/fsutil.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Awkward doubles survive a write and a read bit for bit (up to FLT_MAX:
 * a run's numbers are floats, and plot refuses more); NAN keys stay out of
 * the line, an infinity becomes null, both read back as NAN. */
static void test_jsonlog_numbers_round_trip(void **state)
{
    (void)state;
    const char *path = sn_test_path("rt.jsonl");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    struct cli_log_line in[3] = {
        { .epoch = 1, .step = 469, .train_loss = 1.0 / 3.0, .train_acc = 0.1 + 0.2,
          .test_loss = 2.5e-300, .test_acc = 0.9999999999999999, .lr = 0.1,
          .images_per_s = 123456789.123456789, .elapsed_s = 1e-7, .ranks = 2, .threads = 1,
          .peak_rss_mb = 85 },
        { .epoch = 2, .step = 938, .train_loss = 5e-324, .train_acc = NAN, .test_loss = NAN,
          .test_acc = NAN, .lr = 0.0, .images_per_s = INFINITY, .elapsed_s = 3.0, .ranks = 1,
          .threads = 2, .peak_rss_mb = 1 },
        { .epoch = 3, .step = 1ll << 40, .train_loss = 3.4028234663852886e38,
          .train_acc = -0.0, .test_loss = 1e22, .test_acc = 0.5, .lr = 3e-4, .images_per_s = 1,
          .elapsed_s = 86400.5, .ranks = 512, .threads = 64, .peak_rss_mb = 24000 },
    };
    for (int i = 0; i < 3; i++)
        assert_int_equal(cli_log_epoch(f, &in[i]), SN_OK);
    fclose(f);
    char *text = sn_test_slurp(path);
    assert_null(strstr(text, "NaN"));
    assert_non_null(strstr(text, "\"images_per_s\": null"));
    free(text);
    struct cli_log_line *out = NULL;
    int n = 0;
    assert_int_equal(cli_log_read(path, &out, &n, NULL), SN_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        const double a[9] = { in[i].train_loss, in[i].train_acc, in[i].test_loss, in[i].test_acc,
                              in[i].lr, in[i].images_per_s, in[i].elapsed_s };
        const double b[9] = { out[i].train_loss, out[i].train_acc, out[i].test_loss,
                              out[i].test_acc, out[i].lr, out[i].images_per_s, out[i].elapsed_s };
        for (int k = 0; k < 7; k++) {
            if (isnan(a[k]) || isinf(a[k]))
                assert_true(isnan(b[k]));
            else
                assert_memory_equal(&a[k], &b[k], sizeof a[k]);   /* bit for bit, -0 too */
        }
        assert_int_equal(out[i].epoch, in[i].epoch);
        assert_int_equal(out[i].step, in[i].step);
        assert_int_equal(out[i].ranks, in[i].ranks);
        assert_int_equal(out[i].threads, in[i].threads);
        assert_int_equal(out[i].peak_rss_mb, in[i].peak_rss_mb);
    }
    free(out);
}

/* Lines other tools might write: no spaces, many spaces and tabs, keys in
 * another order, strings with escaped quotes, braces and a fake
 * "train_loss", nested values, unicode escapes, CRLF, blank lines, a
 * byte-order mark. */
static void test_jsonlog_reads_any_valid_line(void **state)
{
    (void)state;
    const char *path = sn_test_path("odd.jsonl");
    write_text(path,
               "{\"epoch\":1,\"train_loss\":0.75}\n"
               "\n"
               "   {  \"note\" : \"a \\\"quoted\\\" } \\\"train_loss\\\": 99, brace\" ,\t\"train_loss\"\t:"
               "\t2.5E-1 , \"epoch\" :2 , \"test_acc\": 0.5 }   \r\n"
               "{\"cfg\": {\"epoch\": 100, \"train_loss\": 100}, \"list\": [1, \"x\", null],"
               " \"name\": \"caf\\u00e9 \\\\ \\n\", \"epoch\": 3.0, \"train_loss\": 1e-2,"
               " \"train_acc\": null, \"lr\": \"not a number\"}\n");
    struct cli_log_line *r = NULL;
    int n = 0;
    assert_int_equal(cli_log_read(path, &r, &n, NULL), SN_OK);
    assert_int_equal(n, 3);
    assert_int_equal(r[0].epoch, 1);
    assert_true(r[0].train_loss == 0.75);
    assert_true(isnan(r[0].test_loss) && isnan(r[0].lr));
    assert_int_equal(r[1].epoch, 2);
    assert_true(r[1].train_loss == 0.25);
    assert_true(r[1].test_acc == 0.5);
    assert_int_equal(r[2].epoch, 3);
    assert_true(r[2].train_loss == 0.01);
    assert_true(isnan(r[2].train_acc) && isnan(r[2].lr));
    free(r);
    /* a UTF-8 byte-order mark an editor put first is skipped, as in model files */
    write_text(path, "\xef\xbb\xbf{\"epoch\":1,\"train_loss\":0.5}\n{\"epoch\":2,\"train_loss\":0.4}\n");
    assert_int_equal(cli_log_read(path, &r, &n, NULL), SN_OK);
    assert_int_equal(n, 2);
    assert_true(r[0].train_loss == 0.5);
    free(r);
}

/* Each bad line is named by file:line, the first one found wins. */
static void test_jsonlog_refuses_bad_lines(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        { "{\"epoch\": 1, \"train_loss\": 0.5}\n{\"epoch\": 2, \"train_loss\": 0.4\n",
          "bad.jsonl:2: not JSON" },
        { "{\"epoch\": 1, \"train_loss\": 0.5}\n\n\nnot json\n", "bad.jsonl:4: not JSON" },
        { "{\"epoch\": 1, \"train_loss\": 0.5} {\"epoch\": 2}\n", "bad.jsonl:1: not JSON" },
        { "[1, 2]\n", "bad.jsonl:1: not a train --log line" },
        { "{\"epoch\": \"1\", \"train_loss\": 0.5}\n", "bad.jsonl:1: not a train --log line" },
        { "{\"epoch\": 1}\n", "bad.jsonl:1: not a train --log line" },
        { "{\"epoch\": 1, \"train_loss\": NaN}\n", "bad.jsonl:1: not JSON" },
        { "{\"epoch\": 1, \"train_loss\": 0.5, \"train_loss\": 0.1}\n",
          "bad.jsonl:1: not JSON: duplicate object key" },
        { "\n \n", "bad.jsonl: no epochs in the log" },
    };
    const char *path = sn_test_path("bad.jsonl");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text(path, cases[i].text);
        struct cli_log_line *r = NULL;
        int n = 0;
        assert_int_equal(cli_log_read(path, &r, &n, NULL), SN_EINVAL);
        if (!strstr(sn_errmsg(), cases[i].msg))
            fail_msg("case %zu: '%s' does not hold '%s'", i, sn_errmsg(), cases[i].msg);
    }
    struct cli_log_line *r = NULL;
    int n = 0;
    assert_int_equal(cli_log_read(sn_test_path("missing.jsonl"), &r, &n, NULL), SN_EINVAL);
    /* a line longer than plot reads is one however it starts: 70,000
     * blanks before a record were skipped as a blank piece of it */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"epoch\": 1, \"train_loss\": 0.5}\n%70000s{\"epoch\": 2, \"train_loss\": 0.4}\n",
            "");
    fclose(f);
    assert_int_equal(cli_log_read(path, &r, &n, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "bad.jsonl:2: a line of more than 65536 bytes"));
}

/* A last line cut short (no end of line: a write that failed) is removed
 * when the log is opened to append, so the next line starts its own line;
 * plot skips such a line; a complete last line without its newline stays. */
static void test_jsonlog_cut_last_line(void **state)
{
    (void)state;
    const char *path = sn_test_path("torn.jsonl");
    write_text(path, "{\"epoch\": 1, \"train_loss\": 0.5}\n{\"epoch\": 2, \"train_lo");
    struct cli_log_line *r = NULL;
    int n = 0;
    int cut_line = 0;
    assert_int_equal(cli_log_read(path, &r, &n, &cut_line), SN_OK);   /* skipped */
    assert_int_equal(n, 1);
    assert_int_equal(cut_line, 2);
    free(r);
    bool created = true;
    long long cut = 0;
    FILE *f = cli_log_open(path, &created, &cut);
    assert_non_null(f);
    assert_false(created);
    assert_int_equal(cut, (long long)strlen("{\"epoch\": 2, \"train_lo"));
    struct cli_log_line e = { .epoch = 2, .step = 20, .train_loss = 0.25, .train_acc = NAN,
                              .test_loss = NAN, .test_acc = NAN, .lr = 0.1,
                              .images_per_s = 1.0, .elapsed_s = 2.0, .ranks = 1, .threads = 1 };
    assert_int_equal(cli_log_epoch(f, &e), SN_OK);
    fclose(f);
    assert_int_equal(cli_log_read(path, &r, &n, NULL), SN_OK);
    assert_int_equal(n, 2);
    assert_int_equal(r[1].epoch, 2);
    assert_true(r[1].train_loss == 0.25);
    free(r);
    /* a whole line without its newline is kept, and not cut */
    write_text(path, "{\"epoch\": 1, \"train_loss\": 0.5}");
    assert_int_equal(cli_log_read(path, &r, &n, NULL), SN_OK);
    assert_int_equal(n, 1);
    free(r);
    /* the only line cut short, then nothing: no epochs */
    write_text(path, "{\"epoch\": 1, \"tr");
    assert_int_equal(cli_log_read(path, &r, &n, NULL), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "no epochs in the log"));
    f = cli_log_open(path, &created, &cut);
    assert_non_null(f);
    fclose(f);
    assert_int_equal(cut, 16);
    char *left = sn_test_slurp(path);
    assert_string_equal(left, "");
    free(left);
}

/* A last line without its newline that parses as JSON is a record, not a
 * torn write: opening keeps it and ends it, so the next line follows. */
static void test_jsonlog_keeps_whole_last_line(void **state)
{
    (void)state;
    const char *path = sn_test_path("mine.jsonl");
    const char *text = "{\"epoch\": 1, \"train_loss\": 0.5}\n{\"epoch\":2,\"train_loss\":0.4}";
    write_text(path, text);
    bool created = true;
    long long cut = -1;
    FILE *f = cli_log_open(path, &created, &cut);
    assert_non_null(f);
    fclose(f);
    assert_int_equal(cut, 0);
    char *left = sn_test_slurp(path);
    assert_int_equal(strlen(left), strlen(text) + 1);
    assert_memory_equal(left, text, strlen(text));
    assert_int_equal(left[strlen(text)], '\n');
    free(left);
    /* a last line of blanks alone, which plot skips: ended too, kept */
    const char *blank = "{\"epoch\": 1, \"train_loss\": 0.5}\n \t\r";
    write_text(path, blank);
    f = cli_log_open(path, &created, &cut);
    assert_non_null(f);
    fclose(f);
    left = sn_test_slurp(path);
    assert_int_equal(strlen(left), strlen(blank) + 1);
    assert_int_equal(left[strlen(blank)], '\n');
    free(left);
}

/* Only a log is appended to: a file whose first line is not a record
 * scratchnet writes is refused, its bytes untouched. */
static void test_jsonlog_check_refuses_other_files(void **state)
{
    (void)state;
    static const struct { const char *text; int rc; } cases[] = {
        { "{\n  \"lr\": 0.1\n}", SN_EUSAGE },             /* settings, no final newline */
        { "{\"epoch\":1,\"note\":\"mine\"}", SN_EUSAGE },   /* JSON, not a record */
        { "{\"lr\": 0.1", SN_EUSAGE },                    /* an only line, not ours */
        { "\n{\"epoch\": 1, \"train_loss\": 0.5}\n{", SN_OK },
        { "{\"epoch\": 1, \"tr", SN_OK },                  /* ours, cut short */
        { "\n\n", SN_OK },
    };
    const char *path = sn_test_path("other.json");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text(path, cases[i].text);
        int records;
        int rc = cli_log_check(path, &records);
        if (rc != cases[i].rc)
            fail_msg("case %zu: %d, want %d (%s)", i, rc, cases[i].rc, sn_errmsg());
        if (rc)
            assert_non_null(strstr(sn_errmsg(), "is not a scratchnet log"));
    }
    int records = -1;
    assert_int_equal(cli_log_check(sn_test_path("absent.jsonl"), &records), SN_OK);
    assert_int_equal(records, 0);
}

/* A log of as many records as plot draws takes no more: appending to it
 * is refused, as plot would draw none of the run's epochs; one record
 * fewer is a log like any other, its records counted. */
static void test_jsonlog_check_at_plots_limit(void **state)
{
    (void)state;
    const char *path = sn_test_path("full.jsonl");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int e = 1; e < CLI_LOG_MAX_RECORDS; e++)
        fprintf(f, "{\"epoch\": %d, \"train_loss\": 0.5}\n", e);
    fclose(f);
    int records = 0;
    assert_int_equal(cli_log_check(path, &records), SN_OK);
    assert_int_equal(records, CLI_LOG_MAX_RECORDS - 1);
    for (int e = 0; e < 2; e++) {
        f = fopen(path, "a");
        assert_non_null(f);
        fprintf(f, "{\"epoch\": %d, \"train_loss\": 0.5}\n", CLI_LOG_MAX_RECORDS + e);
        fclose(f);
    }
    assert_int_equal(cli_log_check(path, &records), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "is as long as plot reads"));
    assert_non_null(strstr(sn_errmsg(), "tail -n 100000"));
}

/* An output renamed into place at the end of a command does not replace a
 * log made at its name while the command ran (the check at the start saw
 * nothing there): the new file stays at its temporary name, which the
 * error names.  Anything else there is replaced as before. */
static void test_jsonlog_guard_at_the_rename(void **state)
{
    (void)state;
    sn_fs_set_replace_guard(cli_replace_guard);
    char out[1024], tmp[1100];
    snprintf(out, sizeof out, "%s", sn_test_path("late.csv"));
    sn_fs_tmpname(out, tmp, sizeof tmp);
    write_text(tmp, "index,pred\n");
    write_text(out, "{\"epoch\": 1, \"train_loss\": 0.5}\n");   /* a run's log, made meanwhile */
    assert_int_equal(sn_fs_commit(tmp, out), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "late.csv became a scratchnet log while this command ran"));
    assert_non_null(strstr(sn_errmsg(), tmp));
    char *text = sn_test_slurp(out);
    assert_string_equal(text, "{\"epoch\": 1, \"train_loss\": 0.5}\n");
    free(text);
    text = sn_test_slurp(tmp);
    assert_string_equal(text, "index,pred\n");
    free(text);
    write_text(out, "an older csv\n");   /* not a log: replaced */
    assert_int_equal(sn_fs_commit(tmp, out), SN_OK);
    text = sn_test_slurp(out);
    assert_string_equal(text, "index,pred\n");
    free(text);
    /* a FIFO made there meanwhile: refused at once (opening it to look
     * waited forever for a writer, deaf to SIGTERM) */
    write_text(tmp, "index,pred\n");
    assert_int_equal(unlink(out), 0);
    assert_int_equal(mkfifo(out, 0600), 0);
    assert_int_equal(sn_fs_commit(tmp, out), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "late.csv became a FIFO while this command ran: it was "
                                        "not replaced; the output is kept as "));
    assert_int_equal(access(tmp, F_OK), 0);
    unlink(tmp);
    unlink(out);
    sn_fs_set_replace_guard(NULL);
}

/* The command's guard: an output checked at the start (cli_check_outputs)
 * is replaced at the end only if its file is still what the check saw;
 * one that appeared or changed since (another run with the same -o
 * finished first) is kept, the new file staying at its temporary name.
 * Text outputs (-o x.csv): a binary one replaces only HDF5 or ONNX data. */
static void test_output_changed_since_check_kept(void **state)
{
    (void)state;
    sn_fs_set_replace_guard(cli_replace_guard);
    char out[1024], tmp[1100];
    snprintf(out, sizeof out, "%s", sn_test_path("raced.csv"));
    const char *outs[1] = { out }, *flags[1] = { "-o" };
    assert_int_equal(cli_check_outputs(outs, flags, 1, NULL, NULL, 0), SN_OK);
    write_text(out, "the other run's weights\n");   /* appeared since the check */
    sn_fs_tmpname(out, tmp, sizeof tmp);
    write_text(tmp, "this run's weights\n");
    assert_int_equal(sn_fs_commit(tmp, out), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "raced.csv appeared while this command ran"));
    char *text = sn_test_slurp(out);
    assert_string_equal(text, "the other run's weights\n");
    free(text);
    assert_int_equal(remove(tmp), 0);   /* kept, as the message says */
    /* checked with a file there, which then changed: kept too */
    assert_int_equal(cli_check_outputs(outs, flags, 1, NULL, NULL, 0), SN_OK);
    write_text(out, "rewritten meanwhile, and longer\n");
    write_text(tmp, "this run's weights\n");
    assert_int_equal(sn_fs_commit(tmp, out), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "raced.csv changed while this command ran"));
    /* unchanged since the check: replaced, and a second write of the same
     * output by the same command (its own file there now) too */
    assert_int_equal(cli_check_outputs(outs, flags, 1, NULL, NULL, 0), SN_OK);
    assert_int_equal(sn_fs_commit(tmp, out), SN_OK);
    write_text(tmp, "again\n");
    assert_int_equal(sn_fs_commit(tmp, out), SN_OK);
    text = sn_test_slurp(out);
    assert_string_equal(text, "again\n");
    free(text);
    /* a link checked while it led to one file and re-pointed to another
     * (the command's own --data, say) is not written through */
    char link[1024], other[1024];
    snprintf(link, sizeof link, "%s", sn_test_path("best.csv"));
    snprintf(other, sizeof other, "%s", sn_test_path("other.csv"));
    write_text(other, "another file\n");
    assert_int_equal(symlink("raced.csv", link), 0);
    const char *louts[1] = { link };
    assert_int_equal(cli_check_outputs(louts, flags, 1, NULL, NULL, 0), SN_OK);
    assert_int_equal(remove(link), 0);
    assert_int_equal(symlink("other.csv", link), 0);
    sn_fs_tmpname(link, tmp, sizeof tmp);
    write_text(tmp, "this run's weights\n");
    assert_int_equal(sn_fs_commit(tmp, link), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "best.csv led to"));
    text = sn_test_slurp(other);
    assert_string_equal(text, "another file\n");
    free(text);
    assert_int_equal(remove(tmp), 0);
    /* a file when checked, made a link meanwhile: said so */
    char plain[1024];
    snprintf(plain, sizeof plain, "%s", sn_test_path("plain.csv"));
    const char *pouts[1] = { plain };
    assert_int_equal(cli_check_outputs(pouts, flags, 1, NULL, NULL, 0), SN_OK);
    assert_int_equal(symlink("other.csv", plain), 0);
    sn_fs_tmpname(plain, tmp, sizeof tmp);
    write_text(tmp, "this run's weights\n");
    assert_int_equal(sn_fs_commit(tmp, plain), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "plain.csv was no link when the command started and is "
                           "a link to"));
    text = sn_test_slurp(other);
    assert_string_equal(text, "another file\n");
    free(text);
    assert_int_equal(remove(tmp), 0);
    sn_fs_set_replace_guard(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonlog_numbers_round_trip),
        cmocka_unit_test(test_jsonlog_reads_any_valid_line),
        cmocka_unit_test(test_jsonlog_refuses_bad_lines),
        cmocka_unit_test(test_jsonlog_cut_last_line),
        cmocka_unit_test(test_jsonlog_keeps_whole_last_line),
        cmocka_unit_test(test_jsonlog_check_refuses_other_files),
        cmocka_unit_test(test_jsonlog_check_at_plots_limit),
        cmocka_unit_test(test_jsonlog_guard_at_the_rename),
        cmocka_unit_test(test_output_changed_since_check_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
