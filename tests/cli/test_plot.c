/* test_plot: scratchnet plot draws a real PNG of the asked size from a
 * train --log file; bad logs, a missing gnuplot and a disk that fills are
 * clear errors that leave an existing picture alone. */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIN SN_TEST_BIN

/* Width and height from a PNG's IHDR; false if it is not a PNG. */
static bool png_size(const char *path, uint32_t *w, uint32_t *h)
{
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (n != sizeof b || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
        return false;
    *w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    *h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
    return true;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Two runs appended to one log, as `make run` twice leaves it. */
static const char log_text[] =
    "{\"epoch\": 1, \"step\": 10, \"train_loss\": 0.9, \"train_acc\": 0.6, \"test_loss\": 0.8, "
    "\"test_acc\": 0.65, \"lr\": 0.05}\n"
    "{\"epoch\": 2, \"step\": 20, \"train_loss\": 0.5, \"train_acc\": 0.8, \"test_loss\": 0.6, "
    "\"test_acc\": 0.75, \"lr\": 0.01}\n"
    "{\"epoch\": 1, \"step\": 10, \"train_loss\": 0.8, \"train_acc\": 0.62, \"test_loss\": 0.7, "
    "\"test_acc\": 0.66, \"lr\": 0.05}\n"
    "\n"
    "{\"epoch\": 2, \"step\": 20, \"train_loss\": 0.4, \"train_acc\": 0.85, \"test_loss\": 0.5, "
    "\"test_acc\": 0.8, \"lr\": 0.01}\n"
    "{\"epoch\": 3, \"step\": 30, \"train_loss\": 0.3, \"train_acc\": 0.9, \"test_loss\": 0.45, "
    "\"test_acc\": 0.82, \"lr\": 0.0}\n";

static int setup(void **state)
{
    (void)state;
    return sn_test_use_bin();
}

static void test_plot_draws_png(void **state)
{
    (void)state;
    write_text(sn_test_path("log.jsonl"), log_text);
    int rc = sn_test_run(BIN " plot %s -o %s --size 640,300", sn_test_path("log.jsonl"),
                         sn_test_path("c.png"));
    if (rc)
        fprintf(stderr, "%s\n", sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    uint32_t w = 0, h = 0;
    assert_true(png_size(sn_test_path("c.png"), &w, &h));
    assert_int_equal(w, 640);
    assert_int_equal(h, 300);
    /* a log with the loss only (an autoencoder): one panel, still a PNG */
    write_text(sn_test_path("mse.jsonl"), "{\"epoch\": 1, \"train_loss\": 0.1}\n"
                                          "{\"epoch\": 2, \"train_loss\": 0.05}\n");
    rc = sn_test_run(BIN " plot %s -o %s", sn_test_path("mse.jsonl"), sn_test_path("m.png"));
    assert_int_equal(rc, 0);
    assert_true(png_size(sn_test_path("m.png"), &w, &h));
    assert_int_equal(w, 1000);
    assert_int_equal(h, 420);
    /* a last line cut short (a full disk during a write): skipped, said */
    write_text(sn_test_path("cut.jsonl"), "{\"epoch\": 1, \"train_loss\": 0.1}\n"
                                          "{\"epoch\": 2, \"train_loss\": 0.05}\n{\"epoch\": 3, \"tr");
    rc = sn_test_run(BIN " plot %s -o %s", sn_test_path("cut.jsonl"), sn_test_path("m.png"));
    assert_int_equal(rc, 0);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "cut.jsonl:3: the last line has no end of line and is not a log "
                                "line (a write cut short); skipped"));
    assert_null(strstr(err, "holds one epoch"));
    free(err);
    /* a user's ~/.gnuplot (a range that leaves no point to draw) is not
     * read: the picture is the log's alone (round 67 F5) */
    rc = sn_test_run("mkdir -p %s/home && echo 'set xrange [5000:6000]' > %s/home/.gnuplot && "
                     "HOME=%s/home " BIN " plot %s -o %s", sn_test_tmpdir(), sn_test_tmpdir(),
                     sn_test_tmpdir(), sn_test_path("log.jsonl"), sn_test_path("h.png"));
    if (rc)
        fprintf(stderr, "%s\n", sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    assert_true(png_size(sn_test_path("h.png"), &w, &h));
    /* a TMPDIR that cannot hold gnuplot's folder: the reason said */
    rc = sn_test_run("TMPDIR=%s/missing " BIN " plot %s -o %s", sn_test_tmpdir(),
                     sn_test_path("log.jsonl"), sn_test_path("t.png"));
    assert_int_equal(rc, 1);
    err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "/missing (TMPDIR): No such file or directory"));
    free(err);
    /* a run shorter than an epoch: drawn, and said to be one point */
    write_text(sn_test_path("one.jsonl"), "{\"epoch\": 1, \"train_loss\": 0.1}\n");
    rc = sn_test_run(BIN " plot %s -o %s", sn_test_path("one.jsonl"), sn_test_path("m.png"));
    assert_int_equal(rc, 0);
    err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "one.jsonl holds one epoch: each curve is one point"));
    free(err);
    /* two epochs, then a new run of one: the latest run's one point, said so */
    write_text(sn_test_path("two.jsonl"), "{\"epoch\": 1, \"train_loss\": 0.1}\n"
                                          "{\"epoch\": 2, \"train_loss\": 0.05}\n"
                                          "{\"epoch\": 1, \"train_loss\": 0.2}\n");
    rc = sn_test_run(BIN " plot %s -o %s", sn_test_path("two.jsonl"), sn_test_path("m.png"));
    assert_int_equal(rc, 0);
    err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "two.jsonl: its latest run has one epoch, and plot draws the "
                                "latest run of a log several runs appended to (this one holds 3 "
                                "records)"));
    free(err);
    /* a log named with a character no installed font can draw (U+3FFFD,
     * unassigned): its title shows '?' there, said as eval says it */
    write_text(sn_test_path("odd\xf0\xbf\xbf\xbd.jsonl"), log_text);
    rc = sn_test_run(BIN " plot %s -o %s", sn_test_path("odd\xf0\xbf\xbf\xbd.jsonl"),
                     sn_test_path("m.png"));
    assert_int_equal(rc, 0);
    err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "warning: the picture's title (the log's name) holds U+3FFFD, "
                                "which no installed font can draw"));
    free(err);
    /* no font at all (a minimal container; here a fontconfig file listing
     * none): refused before the work, not a picture without any text */
    write_text(sn_test_path("nofonts.conf"), "<?xml version=\"1.0\"?>\n<fontconfig>"
               "</fontconfig>\n");
    rc = sn_test_run("FONTCONFIG_FILE=%s " BIN " plot %s -o %s", sn_test_path("nofonts.conf"),
                     sn_test_path("log.jsonl"), sn_test_path("nf.png"));
    assert_int_equal(rc, 2);
    err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "no font is installed (fontconfig lists none): gnuplot would "
                                "draw "));
    free(err);
    assert_int_not_equal(access(sn_test_path("nf.png"), F_OK), 0);
}

/* An old picture the tests keep: a PNG with scratchnet's mark (an output
 * replaces only one); the mark's CRC is not checked. */
static const char precious_png[] = "\x89PNG\r\n\x1a\n\0\0\0\x13tEXtSoftware\0scratchnet\0\0\0\0"
                                   "precious";

static void write_precious(const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(precious_png, 1, sizeof precious_png - 1, f), sizeof precious_png - 1);
    fclose(f);
}

/* Whether the file at path still holds precious_png alone. */
static bool still_precious(const char *path)
{
    char b[sizeof precious_png];
    FILE *f = fopen(path, "rb");
    const size_t n = f ? fread(b, 1, sizeof b, f) : 0;
    if (f)
        fclose(f);
    return n == sizeof precious_png - 1 && memcmp(b, precious_png, n) == 0;
}

/* SIGTERM while a long log is read or drawn: exit 1 within a moment,
 * naming the signal, the old picture kept, nothing left behind (plot read
 * and drew 190 MB to the end, exit 0). */
static void test_plot_stops_on_sigterm(void **state)
{
    (void)state;
    const char *log = sn_test_path("long.jsonl");
    FILE *f = fopen(log, "w");
    assert_non_null(f);
    char note[1001];   /* 110 MB to read: 2.2 s here, the stop comes at 0.5 s */
    memset(note, 'x', 1000);
    note[1000] = '\0';
    for (int e = 1; e <= 100000; e++)   /* the most plot reads */
        fprintf(f, "{\"epoch\": %d, \"train_loss\": %g, \"train_acc\": 0.5, "
                "\"test_loss\": 0.4, \"test_acc\": 0.6, \"note\": \"%s\"}\n", e, 1.0 / e, note);
    fclose(f);
    write_precious(sn_test_path("kept.png"));
    int rc = sn_test_run("%s plot %s -o %s & p=$!; sleep 0.5; kill -TERM $p; "
                         "t=$(date +%%s); wait $p; st=$?; [ $(( $(date +%%s) - t )) -le 5 ] || "
                         "exit 99; exit $st", BIN, log, sn_test_path("kept.png"));
    assert_int_equal(rc, 1);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "interrupted by SIGTERM while"));
    free(err);
    assert_true(still_precious(sn_test_path("kept.png")));
    /* and while fontconfig reads the fonts: a configuration whose fonts
     * have no usable cache (every file under /usr opened, minutes) was
     * deaf to SIGTERM (round 67 F4) */
    write_text(sn_test_path("fc.conf"), "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM "
               "\"fonts.dtd\">\n<fontconfig><dir>/usr</dir><cachedir>/proc/nonexistent"
               "</cachedir></fontconfig>\n");
    write_text(sn_test_path("log.jsonl"), log_text);
    rc = sn_test_run("FONTCONFIG_FILE=%s %s plot %s -o %s 2>/dev/null & p=$!; sleep 1; "
                     "kill -TERM $p; t=$(date +%%s); wait $p; st=$?; "
                     "[ $(( $(date +%%s) - t )) -le 5 ] || exit 99; exit $st",
                     sn_test_path("fc.conf"), BIN, sn_test_path("log.jsonl"),
                     sn_test_path("fc.png"));
    assert_int_not_equal(rc, 99);
    assert_true(rc == 0 || rc == 1);   /* drawn, on a machine that read the fonts in time */
    if (rc == 1)   /* stopped: nothing written */
        assert_int_not_equal(access(sn_test_path("fc.png"), F_OK), 0);
}

/* 100,000 records of values that jump around (a tiny, noisy test split):
 * gnuplot's time grows with how much the line zig-zags, and it ran past its
 * 300 s allowance, no picture; each pixel column's envelope draws in about
 * a second (1.1 s here).  The bound leaves room for a loaded machine. */
static void test_plot_noisy_long_log(void **state)
{
    (void)state;
    const char *log = sn_test_path("noisy.jsonl");
    FILE *f = fopen(log, "w");
    assert_non_null(f);
    uint32_t x = 12345;
    for (int e = 1; e <= 100000; e++) {
        double r[4];
        for (int k = 0; k < 4; k++) {
            x = x * 1664525u + 1013904223u;
            r[k] = (x >> 8) / 16777216.0;
        }
        fprintf(f, "{\"epoch\": %d, \"train_loss\": %.6f, \"train_acc\": %.6f, "
                "\"test_loss\": %.6f, \"test_acc\": %.6f}\n", e, r[0], r[1], r[2], r[3]);
    }
    fclose(f);
    int rc = sn_test_run("t=$(date +%%s); %s plot %s -o %s || exit $?; "
                         "[ $(( $(date +%%s) - t )) -le 60 ] || exit 99", BIN, log,
                         sn_test_path("noisy.png"));
    assert_int_equal(rc, 0);
    uint32_t w, h;
    assert_true(png_size(sn_test_path("noisy.png"), &w, &h));
    assert_true(w == 1000 && h == 420);
}

/* The x axis's ticks, read from the script gnuplot is given (a gnuplot
 * on PATH that copies it): 20 epochs past a million (a log's tail) get at
 * most five whole labels, not a tick an epoch (labels ran together); a
 * short log with a gap to a billion gets ticks in %g (it got none); a few
 * small epochs, a tick each. */
static void test_plot_tick_labels(void **state)
{
    (void)state;
    static const struct { int first, gap, n; const char *want; } logs[] = {
        { 1234001, 1, 20, "set xtics 5\nset format x '%.0f'" },
        { 1, 999999999, 2, "set format x '%g'" },
        { 1, 1, 5, "set xtics 1\n" },
    };
    const char *dir = sn_test_tmpdir();
    assert_int_equal(sn_test_run("mkdir -p %s/gp && g=$(command -v gnuplot) && printf "
                                 "'#!/bin/sh\\ntee %s/gp/script.gp | exec %%s \"$@\"\\n' \"$g\" "
                                 "> %s/gp/gnuplot && chmod +x %s/gp/gnuplot", dir, dir, dir, dir),
                     0);
    for (size_t k = 0; k < sizeof logs / sizeof logs[0]; k++) {
        FILE *f = fopen(sn_test_path("ticks.jsonl"), "w");
        assert_non_null(f);
        for (int i = 0; i < logs[k].n; i++)
            fprintf(f, "{\"epoch\": %d, \"train_loss\": 0.5, \"train_acc\": 0.9}\n",
                    logs[k].first + i * logs[k].gap);
        fclose(f);
        assert_int_equal(sn_test_run("PATH=%s/gp:$PATH %s plot %s -o %s", dir, BIN,
                                     sn_test_path("ticks.jsonl"), sn_test_path("ticks.png")), 0);
        char path[1100];
        snprintf(path, sizeof path, "%s/gp/script.gp", dir);
        char *script = sn_test_slurp(path);
        if (!strstr(script, logs[k].want))
            fail_msg("log %zu: no \"%s\" in\n%s", k, logs[k].want, script);
        free(script);
    }
}

static void test_plot_bad_input_keeps_png(void **state)
{
    (void)state;
    write_precious(sn_test_path("keep.png"));
    write_text(sn_test_path("bad.jsonl"), "{\"epoch\": 1, \"train_loss\": 0.5}\nnot json\n");
    int rc = sn_test_run(BIN " plot %s -o %s", sn_test_path("bad.jsonl"), sn_test_path("keep.png"));
    assert_int_equal(rc, 2);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "bad.jsonl:2: not JSON"));
    free(err);
    assert_true(still_precious(sn_test_path("keep.png")));

    write_text(sn_test_path("empty.jsonl"), "\n");
    rc = sn_test_run(BIN " plot %s -o %s", sn_test_path("empty.jsonl"), sn_test_path("keep.png"));
    assert_int_equal(rc, 2);
    rc = sn_test_run(BIN " plot %s -o %s", sn_test_path("missing.jsonl"), sn_test_path("keep.png"));
    assert_int_equal(rc, 2);
    rc = sn_test_run(BIN " plot %s", sn_test_path("log.jsonl"));
    assert_int_equal(rc, 2);
    rc = sn_test_run(BIN " plot %s -o %s --size 5,5", sn_test_path("log.jsonl"),
                     sn_test_path("keep.png"));
    assert_int_equal(rc, 2);
    err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "--size W: expected an integer in [100, 10000], got '5'"));
    free(err);

    /* no gnuplot on PATH: exit 2 before any work, the package named, the
     * old file intact */
    write_text(sn_test_path("log.jsonl"), log_text);
    rc = sn_test_run("PATH=/nonexistent " BIN " plot %s -o %s", sn_test_path("log.jsonl"),
                     sn_test_path("keep.png"));
    assert_int_equal(rc, 2);
    err = sn_test_slurp(sn_test_path("err.txt"));
    assert_non_null(strstr(err, "gnuplot-nox"));
    free(err);
    assert_true(still_precious(sn_test_path("keep.png")));
}

/* A disk that fills while gnuplot draws: gnuplot exits 0 with the picture
 * cut short; plot checks the PNG's end (IEND), exits 1 naming the problem
 * and leaves the old picture and no temporary file.  Needs root for
 * mount(8); skipped with a message otherwise. */
static void test_plot_full_disk_keeps_png(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/full", sn_test_tmpdir());
    assert_int_equal(sn_test_run("mkdir -p %s", dir), 0);
    if (sn_test_run("mount -t tmpfs -o size=64k tmpfs %s", dir) != 0) {
        printf("skipped: cannot mount a small tmpfs here (needs root)\n");
        skip();
    }
    write_text(sn_test_path("log.jsonl"), log_text);
    int first = sn_test_run(BIN " plot %s -o %s/p.png", sn_test_path("log.jsonl"), dir);
    int kept = sn_test_run("cp %s/p.png %s", dir, sn_test_path("before.png"));
    /* full, then 8 KiB free: room for part of a picture */
    sn_test_run("dd if=/dev/zero of=%s/filler bs=4k; truncate -s -8K %s/filler", dir, dir);
    int rc = sn_test_run(BIN " plot %s -o %s/p.png", sn_test_path("log.jsonl"), dir);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    int same = sn_test_run("cmp %s/p.png %s", dir, sn_test_path("before.png"));
    int ls = sn_test_run("ls -A %s", dir);
    char *names = sn_test_slurp(sn_test_path("out.txt"));
    /* a TMPDIR without room for gnuplot's files: said before any work,
     * with the reason (a full one failed after it, "write failed") */
    int tmp_rc = sn_test_run("TMPDIR=%s " BIN " plot %s -o %s", dir, sn_test_path("log.jsonl"),
                             sn_test_path("t.png"));
    char *tmp_err = sn_test_slurp(sn_test_path("err.txt"));
    assert_int_equal(sn_test_run("umount %s", dir), 0);
    assert_int_equal(tmp_rc, 1);
    assert_non_null(strstr(tmp_err, "(TMPDIR, for gnuplot's files): no space left on the device"));
    free(tmp_err);
    assert_int_equal(first, 0);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "p.png: gnuplot wrote an incomplete picture (disk full?"));
    assert_int_equal(kept, 0);
    assert_int_equal(same, 0);
    assert_int_equal(ls, 0);
    assert_null(strstr(names, ".tmp"));
    free(err);
    free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_draws_png),
        cmocka_unit_test(test_plot_stops_on_sigterm),
        cmocka_unit_test(test_plot_noisy_long_log),
        cmocka_unit_test(test_plot_tick_labels),
        cmocka_unit_test(test_plot_bad_input_keeps_png),
        cmocka_unit_test(test_plot_full_disk_keeps_png),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
