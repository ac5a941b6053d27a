/* main: the scratchnet command.  The only place that ends the process:
 * it catches the stop signals, starts the distributed runtime, runs one
 * command, and turns its status into the exit status (0 ok, 2 usage or
 * invalid input, 1 other). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/blas.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "dist/dist.h"
#include "io/h5.h"

static const char usage[] =
    "usage: scratchnet COMMAND [options]   (COMMAND --help for its options; --version)\n"
    "  train    train a model file on an HDF5 dataset, on every rank of the job\n"
    "  eval     loss and accuracy of a weights file or checkpoint on a dataset split\n"
    "  predict  class probabilities and predictions for the rows of a dataset\n"
    "  info     summary of a model file or of the model in a weights file\n"
    "  convert  other data formats to the HDF5 dataset layout (idx, folder, cifar10),\n"
    "           or a subset of a dataset's classes\n"
    "  plot     learning curves of a train --log file as a PNG (gnuplot)\n"
    "  export   a weights file as an ONNX model (ONNX Runtime, other frameworks)\n"
    "Run under mpirun -np P for P ranks; without mpirun it runs as one rank.\n";

static int print_usage(int argc, char **argv)
{
    (void)argv;
    fputs(usage, stdout);
    return 0;
}

/* What a bug report needs: this program's version and the libraries it
 * runs on (the ones found at run time, not the headers it was built
 * with). */
static int print_version(int argc, char **argv)
{
    if (argc > 2) {
        cli_eprintf("scratchnet: error: --version takes nothing after it (got '%s')\n", argv[2]);
        return 2;
    }
    printf("scratchnet %s\n  MPI:  %s\n  HDF5: %s\n  BLAS: %s\n", SN_VERSION,
           sn_dist_library(), sn_h5_library(), sn_blas_library());
    return 0;
}

/* --help and --version are local commands too: under a launcher they join
 * the job like plot and export, so that an MPMD launch with another
 * command is refused on every rank instead of leaving its ranks waiting. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    bool local;   /* one process's work: it never talks to other ranks */
} commands[] = {
    { "--help", print_usage, true },
    { "-h", print_usage, true },
    { "--version", print_version, true },
    { "train", sn_cmd_train, false },
    { "eval", sn_cmd_eval, false },
    { "predict", sn_cmd_predict, false },
    { "info", sn_cmd_info, false },
    { "convert", sn_cmd_convert, false },
    { "plot", sn_cmd_plot, true },
    { "export", sn_cmd_export, true },
};

/* The signals that ask a command to stop: SIGTERM (kill, Slurm), SIGINT
 * (Ctrl-C) and SIGUSR1, the one signal both Open MPI's mpirun and MPICH's
 * mpiexec pass on to every rank of a job (mpirun answers SIGTERM and SIGINT
 * by ending the job itself). */
static const int stop_signals[] = { SIGTERM, SIGINT, SIGUSR1 };
enum { N_STOP_SIGNALS = sizeof stop_signals / sizeof stop_signals[0] };
static bool left_ignored[N_STOP_SIGNALS];

/* The one handler: record the request (core/interrupt.h), which the
 * trainer and the loads look at.  A SIGINT after a request ends the process
 * at once (Ctrl-C twice); a repeated SIGTERM does not, because launchers
 * send it more than once (srun after a double Ctrl-C, Slurm to the task
 * and to srun). */
static void on_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    if (sn_interrupt_pending() && sig == SIGINT) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    if (!sn_interrupt_pending())
        cli_note_stop_sender(info->si_code == SI_USER && info->si_pid == getppid());
    sn_interrupt_set(sig);
}

/* Installed at the start and again once MPI runs (a runtime may install
 * its own).  A signal the command was started with ignored stays ignored:
 * that is how a shell keeps Ctrl-C away from its background jobs. */
static void catch_stop_signals(bool first)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;   /* system calls in flight carry on */
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_STOP_SIGNALS; i++) {
        struct sigaction old;
        if (first && sigaction(stop_signals[i], NULL, &old) == 0)
            left_ignored[i] = old.sa_handler == SIG_IGN;
        if (!left_ignored[i])
            sigaction(stop_signals[i], &sa, NULL);
    }
}

/* A process that a launcher started joins its MPI job; one started
 * alone is the whole job and does not start MPI (sn_dist_init_alone),
 * unless SN_MPI=1 asks for it (a launcher scratchnet does not recognise:
 * cli_note_launcher lists the ones it does). */
static int start_runtime(int *argc, char ***argv)
{
    const char *force = getenv("SN_MPI");
    if (force && *force && strcmp(force, "0") != 0 && strcmp(force, "1") != 0)
        return sn_fail(SN_EUSAGE, "SN_MPI='%s': 1 starts MPI even without a launcher, 0 (or "
                       "unset) only under one", force);
    if (cli_launched() || (force && strcmp(force, "1") == 0))
        return sn_dist_init(argc, argv);
    return sn_dist_init_alone();
}

/* MPI_Finalize can hang after the work is done: MPICH 4.0 over UCX's TCP
 * transport (Debian 12) left one rank polling a peer that had already
 * gone on to the final barrier (openucx/ucx issue 8738), and the job never
 * ended.  Everything is written by then, so a process whose MPI_Finalize
 * has not returned after FINALIZE_LIMIT_S seconds ends itself with the
 * command's own status. */
enum { FINALIZE_LIMIT_S = 60 };
static volatile sig_atomic_t final_code;

static void finalize_overdue(int sig)
{
    (void)sig;
    static const char msg[] = "scratchnet: MPI_Finalize has not returned after 60 s; "
                              "the command's work is done: ending this rank\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    _exit(final_code);
}

static void finalize_within_limit(int code)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = finalize_overdue;
    sigemptyset(&sa.sa_mask);
    final_code = code;
    sigaction(SIGALRM, &sa, NULL);
    alarm(FINALIZE_LIMIT_S);
    sn_dist_finalize();
    alarm(0);
}

/* A local command under a launcher joins the job (one rank of another
 * command in an MPMD launch would otherwise wait for it in a collective
 * forever), and rank 0 alone does the work; the others end with its code. */
static int run_on_rank0(int (*run)(int, char **), int argc, char **argv)
{
    int code = sn_dist_rank() == 0 ? run(argc, argv) : 0;
    if (sn_dist_bcast(&code, sizeof code, 0) != SN_OK && code == 0)
        code = 1;
    return code;
}

/* Results printed into a full disk or a file that cannot be written are
 * results lost: not a success (exit 1). */
static int flush_output(int code)
{
    errno = 0;
    if ((fflush(stdout) != 0 || ferror(stdout)) && code == 0) {
        cli_eprintf("scratchnet: error: writing the standard output failed: %s\n",
                    strerror(errno ? errno : EIO));
        code = 1;
    }
    fflush(stderr);
    return code;
}

int main(int argc, char **argv)
{
    catch_stop_signals(true);   /* from the start: set-up is interruptible too */
    /* a SIGCHLD left ignored by whoever started us (a job agent, `trap ''
     * CHLD`) lets the kernel reap the HDF5 probe's child (io/h5.c) before
     * its verdict is read */
    signal(SIGCHLD, SIG_DFL);
    if (argc < 2) {   /* exit 2: under a launcher that ends the whole job */
        fputs(usage, stderr);
        return 2;
    }
    int (*run)(int, char **) = NULL;
    bool local = false;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            run = commands[i].run;
            local = commands[i].local;
        }
    cli_note_launcher();
    if (local && !cli_launched())
        return flush_output(run(argc, argv));
    int rc = start_runtime(&argc, &argv);
    if (rc) {
        /* a usage error is agreed over the ranks (sn_dist_init) and said
         * once, by rank 0 (before MPI runs, every process is rank 0); a
         * runtime failure may be one rank's own */
        if (rc != SN_EUSAGE || sn_dist_rank() == 0)
            cli_eprintf("scratchnet: error: %s\n", sn_errmsg());
        return rc == SN_EUSAGE ? 2 : 1;
    }
    catch_stop_signals(false);   /* again: the MPI runtime may have installed its own */
    /* the whole command line, first: in an MPMD launch of two commands (or
     * of one, with --help on one side, which answers without the flags'
     * agreement) each would wait in the other's collectives */
    int code = cli_agree(cli_same_everywhere(argc, argv, 1, NULL));
    if (!code && !run) {   /* every rank gets it wrong the same way: say it once */
        if (sn_dist_rank() == 0)
            cli_eprintf("scratchnet: error: unknown command '%s'\n%s", argv[1], usage);
        code = 2;
    } else if (!code) {
        code = local ? run_on_rank0(run, argc, argv) : run(argc, argv);
    }
    code = flush_output(code);
    finalize_within_limit(code);
    return code;
}
