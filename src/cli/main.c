/* main: the scratchnet command.  The only place that ends the process:
 * it starts the distributed runtime, runs one command, and turns its
 * status into the exit status (0 ok, 2 usage or invalid input, 1 other). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "dist/dist.h"

static const char usage[] =
    "usage: scratchnet COMMAND [options]   (COMMAND --help for its options)\n"
    "  train    train a model file on an HDF5 dataset, on every rank of the job\n"
    "  eval     loss and accuracy of a weights file or checkpoint on a dataset split\n"
    "  predict  class probabilities and predictions for the rows of a dataset\n"
    "  info     summary of a model file or of the model in a weights file\n"
    "  convert  other data formats to the HDF5 dataset layout (idx, folder, cifar10)\n"
    "  plot     learning curves of a train --log file as a PNG (gnuplot)\n"
    "  export   a weights file as an ONNX model (ONNX Runtime, other frameworks)\n"
    "Run under mpirun -np P for P ranks; without mpirun it runs as one rank.\n";

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    bool local;   /* one process, no MPI runtime: it never talks to other ranks */
} commands[] = {
    { "train", sn_cmd_train, false },
    { "eval", sn_cmd_eval, false },
    { "predict", sn_cmd_predict, false },
    { "info", sn_cmd_info, false },
    { "convert", sn_cmd_convert, false },
    { "plot", sn_cmd_plot, true },
    { "export", sn_cmd_export, true },
};

/* SIGTERM / SIGINT while a command loads: the loads see the request
 * (core/interrupt.h) and end with an error, so the job ends promptly and
 * cleanly; a second signal ends the process at once.  train installs its
 * own handler when its loop starts (a signal there checkpoints first). */
static void on_signal(int sig)
{
    if (sn_interrupt_pending()) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    sn_interrupt_set(sig);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;   /* the runtime's system calls carry on; the loads look */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int (*run)(int, char **) = NULL;
    bool local = false;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            run = commands[i].run;
            local = commands[i].local;
        }
    catch_signals();   /* from the start: a signal during start-up stops the first load */
    if (local)
        return run(argc, argv);
    cli_note_launcher();
    int rc = sn_dist_init(&argc, &argv);
    if (rc) {
        fprintf(stderr, "scratchnet: error: %s\n", sn_errmsg());
        return 1;
    }
    catch_signals();   /* again: the MPI runtime may have installed its own */
    int code = 2;
    if (!run) {   /* every rank gets it wrong the same way: say it once */
        if (sn_dist_rank() == 0)
            fprintf(stderr, "scratchnet: error: unknown command '%s'\n%s", argv[1], usage);
    } else {
        code = run(argc, argv);
    }
    fflush(stdout);
    sn_dist_finalize();
    return code;
}
