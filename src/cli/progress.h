/* progress: what rank 0 shows while training.
 *
 * On a terminal, one line redrawn in place (at most 10 times a second):
 *   epoch 2/5 [########............] 412/937  loss 0.4123 acc 85.21%  41234 img/s  ETA 1m12s
 * Otherwise (a log file, CI, Slurm), the same text as a plain line every
 * `every` steps.  The loss and accuracy are running means over this
 * epoch's steps so far on rank 0's share of the batch; the epoch's closing
 * line (printed by train) has the figures of all ranks.
 *
 * Every line goes out at once or not at all (cli/output.h): a reader that
 * stops reading (mpirun after SIGTERM, a paused pager) costs lines, not
 * steps.  The first line that gets through after some were dropped is
 * "(N lines not shown: the output was not being read)".
 */
#ifndef SN_CLI_PROGRESS_H
#define SN_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
    FILE *out;
    bool on;              /* rank 0 and not --quiet */
    bool tty;             /* redraw one line */
    bool drawn;           /* a line is on screen, not yet ended */
    int64_t every;        /* plain mode: a line every this many steps */
    double t_run;         /* when this run's first step began */
    int64_t steps_at_start;
    double last_draw;
    long dropped;         /* whole lines not written since the last one that was */
};

/* tty: whether out is a terminal (the caller asks isatty); every: the
 * plain mode's interval in steps (>= 1). */
void progress_init(struct progress *p, FILE *out, bool on, bool tty, int64_t every,
                   int64_t global_step);

/* After a step.  step is 1-based within the epoch; loss_mean and acc (NAN
 * for none) are running means; global_step counts from the start of
 * training, total_steps is where this run ends. */
void progress_step(struct progress *p, int epoch, int epochs, int64_t step, int64_t steps,
                   double loss_mean, double acc, int global_batch, int64_t global_step,
                   int64_t total_steps);

/* Before any other output: end the redrawn line so text does not mix. */
void progress_break(struct progress *p);

/* Print text, whole lines, on out when p is on (after progress_break): the
 * epoch lines and what the run wrote, which must not wait either; cleaned
 * as cli_printf cleans (sn_text_clean). */
void progress_print(struct progress *p, const char *text);

/* "1h02m", "3m07s", "12s" */
void progress_format_duration(double s, char *buf, size_t len);

#endif
