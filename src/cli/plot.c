/* plot: learning curves of a training log, drawn by gnuplot.
 *
 *   scratchnet plot LOG.jsonl -o curves.png [--size W,H]
 *
 * The log is what `train --log` appends: one JSON object per epoch with
 * epoch, train_loss, train_acc, test_loss, test_acc (the accuracies only
 * for class labels, the test figures only with a test split).  Left panel:
 * loss against epoch; right panel: accuracy, both for train and test.
 * A local command: it runs as one process without the MPI runtime.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/gnuplot.h"
#include "cli/jsonlog.h"
#include "core/status.h"

static const char usage[] =
    "usage: scratchnet plot LOG.jsonl -o CURVES.png [--size W,H]\n"
    "  LOG.jsonl   a log written by train --log (one line per epoch)\n"
    "  -o FILE     the PNG to write (replaced only when drawing succeeded)\n"
    "  --size W,H  pixels (default 1000,420)\n"
    "Needs gnuplot (Debian: gnuplot-nox).\n";

/* The table's columns: epoch, train_loss, test_loss, train_acc, test_acc. */
enum { COLS = 5 };

/* Rows of the log into a whitespace table for gnuplot ("NaN" for
 * missing).  A log that several runs appended to holds epochs that start
 * over, or repeat after a resume: a row whose epoch is not after the
 * previous one replaces every row from that epoch on, so the table is the
 * latest run's history. */
static int write_table(const char *log, const char *table, int *rows, bool have[COLS])
{
    struct cli_log_line *lines = NULL;
    int n_lines = 0, n = 0, rc = cli_log_read(log, &lines, &n_lines);
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
    FILE *out = rc ? NULL : fopen(table, "w");
    if (!rc && !out)
        rc = sn_fail(SN_EIO, "%s: cannot write", table);
    for (int i = 0; out && i < n; i++) {
        for (int c = 0; c < COLS; c++) {
            double x = c >= 3 ? 100.0 * v[i][c] : v[i][c];   /* accuracies in percent */
            have[c] = have[c] || !isnan(x);
            if (isnan(x))
                fprintf(out, "%sNaN", c ? " " : "");
            else
                fprintf(out, "%s%.9g", c ? " " : "", x);
        }
        fputc('\n', out);
    }
    if (out && fclose(out) != 0)
        rc = sn_fail(SN_EIO, "%s: write failed", table);
    free(v);
    *rows = n;
    return rc;
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
    rc = write_table(log, table, &rows, have);
    if (!rc) {
        char script[8192];
        int len = snprintf(script, sizeof script,
            "set datafile missing 'NaN'\n"
            "set key top right\nset grid\nset xlabel 'epoch'\n%s"
            "set multiplot layout 1,%d title '%s'\n"
            "set title 'loss'\nset ylabel 'loss'\n"
            "plot '%s' using 1:2 with linespoints title 'train'%s\n",
            rows <= 20 ? "set xtics 1\n" : "", have[3] ? 2 : 1, log, table,
            have[2] ? ", '' using 1:3 with linespoints title 'test'" : "");
        if (have[3])
            len += snprintf(script + len, sizeof script - (size_t)len,
                "set title 'accuracy'\nset ylabel 'accuracy (%%)'\nset key bottom right\n"
                "plot '%s' using 1:4 with linespoints title 'train'%s\n", table,
                have[4] ? ", '' using 1:5 with linespoints title 'test'" : "");
        snprintf(script + len, sizeof script - (size_t)len, "unset multiplot\n");
        if (strchr(log, '\'') || strchr(table, '\''))
            rc = sn_fail(SN_EINVAL, "%s: a quote in the file name is not supported", log);
        else
            rc = cli_gnuplot(script, png, w, h);
    }
    cli_tmpdir_remove(dir);
    return rc;
}

int sn_cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *size = "1000,420", *pos[1] = { NULL };
    int n_pos = 0;
    struct cli_opt opts[] = {
        { "o", OPT_STR, &out, 0 },
        { "size", OPT_STR, &size, 0 },
    };
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    int rc = cli_parse(argc, argv, 2, opts, 2, pos, 1, &n_pos);
    int w = 0, h = 0;
    char tail;
    if (!rc && (n_pos != 1 || !out))
        rc = sn_fail(SN_EUSAGE, "plot needs a log file and -o FILE.png (see --help)");
    if (!rc && (sscanf(size, "%d,%d%c", &w, &h, &tail) != 2 || w < 100 || h < 100 ||
                w > 10000 || h > 10000))
        rc = sn_fail(SN_EUSAGE, "--size must be W,H with each in [100, 10000], got '%s'", size);
    if (!rc)
        rc = cli_check_outputs(&out, (const char *[]){ "-o" }, 1, pos, (const char *[]){ "log" }, 1);
    if (!rc)
        rc = draw(pos[0], out, w, h);
    if (rc) {   /* a local command: no other rank to agree with */
        fprintf(stderr, "scratchnet: error: %s\n", sn_errmsg());
        return cli_exit_code(rc);
    }
    printf("wrote %s (%dx%d)\n", out, w, h);
    return 0;
}
