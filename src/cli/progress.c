/* progress: the live training line of rank 0 (see progress.h). */
#include "cli/progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cli/output.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/text.h"

void progress_format_duration(double s, char *buf, size_t len)
{
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, len, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

void progress_init(struct progress *p, FILE *out, bool on, bool tty, int64_t every,
                   int64_t global_step)
{
    p->out = out;
    p->on = on;
    p->tty = tty;
    p->drawn = false;
    p->every = every >= 1 ? every : 1;
    p->t_run = sn_clock_s();
    p->steps_at_start = global_step;
    p->last_draw = 0.0;
    p->dropped = 0;
}

/* Write text now or count it as dropped (output.h); the first text that
 * gets through after drops is told how many whole lines went missing. */
static void put(struct progress *p, const char *text)
{
    const bool line = text[0] && text[strlen(text) - 1] == '\n';   /* not a redraw */
    if (p->dropped) {
        char note[96];
        snprintf(note, sizeof note, "%s(%ld line%s not shown: the output was not being read)\n",
                 p->tty ? "\r\033[K" : "", p->dropped, p->dropped == 1 ? "" : "s");
        if (!cli_output_now(p->out, note)) {
            p->dropped += line;
            return;
        }
        p->dropped = 0;
    }
    if (!cli_output_now(p->out, text))
        p->dropped += line;
}

void progress_step(struct progress *p, int epoch, int epochs, int64_t step, int64_t steps,
                   double loss_mean, double acc, int global_batch, int64_t global_step,
                   int64_t total_steps)
{
    if (!p->on)
        return;
    double t = sn_clock_s();
    bool last = step == steps;
    if (p->tty ? (t - p->last_draw < 0.1 && !last) : (step % p->every != 0 && !last))
        return;
    p->last_draw = t;
    int64_t done = global_step - p->steps_at_start;
    double elapsed = t - p->t_run;
    double ips = elapsed > 0 ? (double)done * global_batch / elapsed : 0.0;
    double eta = done > 0 ? elapsed / (double)done * (double)(total_steps - global_step) : -1;
    char eta_s[32];
    progress_format_duration(eta, eta_s, sizeof eta_s);
    enum { BAR = 20 };
    char bar[BAR + 1];
    int full = steps > 0 ? (int)(BAR * step / steps) : BAR;
    for (int i = 0; i < BAR; i++)
        bar[i] = i < full ? '#' : '.';
    bar[BAR] = '\0';
    char body[224], line[256];
    int n = snprintf(body, sizeof body, "epoch %d/%d [%s] %lld/%lld  loss %.4f", epoch, epochs,
                     bar, (long long)step, (long long)steps, loss_mean);
    if (!isnan(acc))
        n += snprintf(body + n, sizeof body - (size_t)n, " acc %.2f%%", 100.0 * acc);
    snprintf(body + n, sizeof body - (size_t)n, "  %.0f img/s  ETA %s", ips, eta_s);
    /* a line wider than the terminal wraps, and each redraw then starts a
     * new line: cut to its width (less one, where some terminals wrap) */
    struct winsize ws;
    if (p->tty && ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
        strlen(body) >= ws.ws_col)
        body[ws.ws_col - 1] = '\0';
    snprintf(line, sizeof line, "%s%s%s", p->tty ? "\r" : "", body,
             p->tty ? "\033[K" : "\n");   /* clear what a longer line left */
    put(p, line);
    p->drawn = p->tty;
}

void progress_break(struct progress *p)
{
    if (p->on && p->tty && p->drawn)
        put(p, "\r\033[K");
    p->drawn = false;
}

void progress_print(struct progress *p, const char *text)
{
    if (!p->on)
        return;
    char clean[4800];   /* a whole line, cleaned as cli_printf's are: it quotes names */
    snprintf(clean, sizeof clean, "%s", text);
    sn_text_clean(clean, true);
    put(p, clean);
}
