/* plot: learning curves of a training log, drawn by gnuplot.
 *
 *   scratchnet plot LOG.jsonl -o curves.png [--size W,H]
 *
 * The log is what `train --log` appends: one JSON object per epoch with
 * epoch, train_loss, train_acc, test_loss, test_acc (the accuracies only
 * for class labels, the test figures only with a test split).  Left panel:
 * loss against epoch; right panel: accuracy, both for train and test.
 * A local command: one process does the work (under a launcher, rank 0:
 * src/cli/main.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/gnuplot.h"
#include "cli/jsonlog.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "io/fsutil.h"

static const char usage[] =
    "usage: scratchnet plot LOG.jsonl -o CURVES.png [--size W,H]\n"
    "  LOG.jsonl   a log written by train --log (one line per epoch)\n"
    "  -o FILE     the PNG to write (replaced only when drawing succeeded)\n"
    "  --size W,H  pixels (default 1000,420)\n"
    "Needs gnuplot (Debian: gnuplot-nox).\n";

enum { COLS = CLI_CURVE_COLS };   /* epoch, train_loss, test_loss, train_acc, test_acc */

/* A log that several runs appended to holds epochs that start over, or
 * repeat after a resume: a row whose epoch is not after the previous one
 * replaces every row from that epoch on, so the curves are the latest
 * run's history. */
int cli_plot_read_log(FILE *in, const char *log, struct cli_curves *c)
{
    memset(c, 0, sizeof *c);
    struct cli_log_line *lines = NULL;
    int n_lines = 0, n = 0, rc = cli_log_read_stream(in, log, &lines, &n_lines, &c->cut_line);
    double (*v)[COLS] = rc ? NULL : malloc((size_t)n_lines * sizeof *v);
    if (!rc && !v)
        rc = sn_fail(SN_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < n_lines; i++) {
        const struct cli_log_line *e = &lines[i];
        double r[COLS] = { (double)e->epoch, e->train_loss, e->test_loss, e->train_acc,
                           e->test_acc };
        while (n > 0 && v[n - 1][0] >= r[0])
            n--;
        memcpy(v[n++], r, sizeof r);
    }
    free(lines);
    if (rc) {
        free(v);
        return rc;
    }
    c->v = v;
    c->n = n;
    c->records = n_lines;
    return SN_OK;
}

/* One row of the table, accuracies in percent; have[k] notes a number. */
static void table_row(FILE *out, const double *r, bool have[COLS])
{
    for (int k = 0; k < COLS; k++) {
        double x = k >= 3 ? 100.0 * r[k] : r[k];
        have[k] = have[k] || !isnan(x);
        if (isnan(x) || isinf(x))
            fprintf(out, "%sNaN", k ? "\t" : "");
        else
            fprintf(out, "%s%.9g", k ? "\t" : "", x);
    }
    fputc('\n', out);
}

/* Rows from..to-1 of c as two rows, each column's least and greatest value
 * (NaN where none is a number): a pixel column of the picture.  gnuplot's
 * time grows with the points and how much their line zig-zags (100,000
 * noisy epochs ran past its 300 s); the envelope is what a pixel shows. */
static void envelope_rows(FILE *out, const struct cli_curves *c, int from, int to,
                          bool have[COLS])
{
    double lo[COLS], hi[COLS];
    lo[0] = c->v[from][0];
    hi[0] = c->v[to - 1][0];
    for (int k = 1; k < COLS; k++) {
        lo[k] = hi[k] = NAN;
        for (int i = from; i < to; i++) {
            const double x = c->v[i][k];
            lo[k] = isnan(lo[k]) || x < lo[k] ? (isnan(x) ? lo[k] : x) : lo[k];
            hi[k] = isnan(hi[k]) || x > hi[k] ? (isnan(x) ? hi[k] : x) : hi[k];
        }
    }
    table_row(out, lo, have);
    table_row(out, hi, have);
}

/* Rows of the log into a tab-separated table for gnuplot ("NaN" for
 * missing); have[c] tells which columns hold a number somewhere.  More
 * rows than twice the picture's width w are drawn as each pixel column's
 * envelope (envelope_rows). */
static int write_table(const char *log, const char *table, int w, int *rows, bool have[COLS],
                       double span[2])
{
    FILE *in;
    int rc = cli_log_open_input(log, &in);
    if (rc)
        return rc;
    struct cli_curves c;
    rc = cli_plot_read_log(in, log, &c);
    fclose(in);
    if (!rc && c.cut_line)
        cli_eprintf("scratchnet: warning: %s:%d: the last line has no end of line and is not "
                    "a log line (a write cut short); skipped\n", cli_line(log), c.cut_line);
    FILE *out = rc ? NULL : fopen(table, "w");
    if (!rc && !out)
        rc = sn_fail(SN_EIO, "%s: cannot write", table);
    const int per = c.n > 2 * w ? (c.n + w - 1) / w : 1;   /* rows a pixel column */
    for (int i = 0; out && !rc && i < c.n; i += per) {
        if (i / per % 4096 == 4095 && (rc = sn_interrupt_check("writing gnuplot's table")))
            break;
        if (per > 1)
            envelope_rows(out, &c, i, i + per < c.n ? i + per : c.n, have);
        else
            table_row(out, c.v[i], have);
    }
    errno = 0;
    if (out && (ferror(out) | (fclose(out) != 0)))
        rc = sn_fail(SN_EIO, "%s: write failed (%s)", table, sn_fs_write_why(errno));
    if (c.n > 0) {
        span[0] = c.v[0][0];
        span[1] = c.v[c.n - 1][0];
    }
    free(c.v);
    *rows = c.n;
    if (!rc && c.n == 1 && c.records == 1)   /* a run of --steps shorter than an epoch */
        cli_eprintf("scratchnet: warning: %s holds one epoch: each curve is one point (the log "
                    "has a line per epoch; train for more epochs to see a curve)\n",
                    cli_line(log));
    else if (!rc && c.n == 1)
        cli_eprintf("scratchnet: warning: %s: its latest run has one epoch, and plot draws the "
                    "latest run of a log several runs appended to (this one holds %d records): "
                    "each curve is one point\n", cli_line(log), c.records);
    return rc;
}

/* A step of 1, 2 or 5 times a power of ten that puts at most five ticks
 * on an axis of this width: whole labels of up to seven digits fit. */
static double tick_step(double width)
{
    static const double mult[] = { 1, 2, 5 };
    const double base = pow(10.0, floor(log10(width > 5.0 ? width / 5.0 : 1.0)));
    for (int i = 0; i < 3; i++)
        if (width / (base * mult[i]) <= 5.0)
            return base * mult[i];
    return base * 10.0;
}

static int draw(const char *log, const char *png, int w, int h)
{
    char dir[4096], table[4200];
    int rc = cli_tmpdir(dir, sizeof dir);
    if (rc)
        return rc;
    snprintf(table, sizeof table, "%s/curves.dat", dir);
    int rows = 0;
    bool have[COLS] = { false };
    double span[2] = { 0, 0 };
    rc = write_table(log, table, w, &rows, have, span);
    char *script = NULL;
    size_t len = 0;
    FILE *s = rc ? NULL : open_memstream(&script, &len);
    if (!rc && !s)
        rc = sn_fail(SN_ENOMEM, "out of memory");
    if (s) {
        fprintf(s, "set datafile missing 'NaN'\nset key top right\nset grid\n"
                "set xlabel 'epoch'\n");
        /* a tick an epoch for a few short labels; past 10,000 at most five
         * ticks (six-digit labels ran together on a panel), whole up to
         * seven digits, past them in %g ("2e+08") */
        if (rows <= 20 && span[1] - span[0] <= 20 && span[1] < 10000)
            fprintf(s, "set xtics 1\n");
        else if (span[1] >= 10000)
            fprintf(s, "set xtics %.17g\nset format x '%s'\nset rmargin 5\n",
                    tick_step(span[1] - span[0]), span[1] < 1e7 ? "%.0f" : "%g");
        fprintf(s, "set multiplot layout 1,%d title ", have[3] ? 2 : 1);
        cli_gnuplot_warn_undrawable("the picture's title (the log's name)", log);
        cli_gnuplot_text(s, log, false);
        fprintf(s, "\nset title 'loss'\nset ylabel 'loss'\n"
                "plot 'curves.dat' using 1:2 with linespoints title 'train'%s\n",
                have[2] ? ", '' using 1:3 with linespoints title 'test'" : "");
        if (have[3])
            fprintf(s, "set title 'accuracy'\nset ylabel 'accuracy (%%)'\nset key bottom right\n"
                    "plot 'curves.dat' using 1:4 with linespoints title 'train'%s\n",
                    have[4] ? ", '' using 1:5 with linespoints title 'test'" : "");
        fprintf(s, "unset multiplot\n");
        if (fclose(s) != 0)
            rc = sn_fail(SN_ENOMEM, "out of memory");
        if (!rc)
            rc = cli_gnuplot(script, dir, png, w, h);
    }
    free(script);
    cli_tmpdir_remove(dir);
    return rc;
}

int sn_cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *size = "1000,420", *pos[1] = { NULL };
    int n_pos = 0;
    struct cli_opt opts[] = {
        CLI_STR("o", &out),
        CLI_STR("size", &size),
    };
    int rc = cli_parse(argc, argv, 2, opts, 2, pos, 1, &n_pos);
    if (rc == CLI_HELP)
        return cli_usage(usage);
    long w = 0, h = 0;
    if (!rc && (n_pos != 1 || !out))
        rc = sn_fail(SN_EUSAGE, "plot needs a log file and -o FILE.png (see --help)");
    if (!rc) {   /* W,H: each part through the one number parser */
        char wh[64];
        const char *comma = strchr(size, ',');
        snprintf(wh, sizeof wh, "%.*s", comma ? (int)(comma - size) : 0, size);
        if (!comma || strlen(size) >= sizeof wh)
            rc = sn_fail(SN_EUSAGE, "--size must be W,H, got '%s'", size);
        if (!rc)
            rc = cli_parse_long("--size W", wh, 100, 10000, &w);
        if (!rc)
            rc = cli_parse_long("--size H", comma + 1, 100, 10000, &h);
    }
    if (!rc)
        rc = cli_check_outputs(&out, (const char *[]){ "-o" }, 1, pos, (const char *[]){ "log" }, 1);
    if (!rc)
        rc = cli_gnuplot_check(out);
    if (!rc)
        rc = draw(pos[0], out, (int)w, (int)h);
    if (rc) {   /* a local command: its code is the job's (main.c) */
        cli_print_error(cli_nothing_written(rc));
        return cli_exit_code(rc);
    }
    cli_printf("wrote %s (%ldx%ld)\n", cli_line(out), w, h);
    return 0;
}
