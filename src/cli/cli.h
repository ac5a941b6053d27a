/* cli: the commands of the scratchnet program and what they share.
 *
 * Each command returns its process exit status (0 success, 2 usage error or
 * invalid input, 1 any other failure) to main.c, the only place that ends
 * the process.  Commands are collective: every rank runs them, and every
 * fallible step before training is followed by cli_agree so one rank's
 * failure stops every rank instead of hanging them.
 */
#ifndef SN_CLI_CLI_H
#define SN_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/model.h"
#include "io/dataset.h"
#include "io/modelfile.h"

int sn_cmd_train(int argc, char **argv);
int sn_cmd_eval(int argc, char **argv);
int sn_cmd_predict(int argc, char **argv);
int sn_cmd_info(int argc, char **argv);
int sn_cmd_convert(int argc, char **argv);
int sn_cmd_plot(int argc, char **argv);
int sn_cmd_export(int argc, char **argv);

/* printf to stdout and to stderr for every line the commands print: the
 * text passes sn_text_clean first, so a name the user or a file gave
 * (an output name, a class name, a run record's value) cannot move the
 * cursor, retitle the terminal or reorder the line.  Newlines are kept
 * (the formats print several lines); a value read from a file that must
 * stay on its line is cleaned of them first (sn_text_clean(s, false)). */
int cli_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A name the user gave (a file name may hold a newline) for a line that
 * cli_printf or cli_eprintf prints: a copy with newlines and tabs as '?',
 * in one of four buffers used in turn (so up to four in one call). */
const char *cli_line(const char *s);

/* Whether a launcher (mpirun, srun) started this process: main notes it
 * before MPI starts, because a singleton MPI_Init sets the same variables. */
void cli_note_launcher(void);

/* Collective: SN_EUSAGE on every rank unless every rank passes the same
 * command line (argv from first on) and the same text (the model file):
 * ranks started with different settings would train different models. */
int cli_same_everywhere(int argc, char **argv, int first, const char *text);

/* Collective: SN_EINVAL on every rank unless every rank reads the same
 * bytes at path (what: "weights file"), naming the lowest rank that does
 * not, with both lengths and checksums: ranks on hosts that hold
 * different files under one path would compute with different weights. */
int cli_same_file(const char *path, const char *what);

/* Collective: SN_EINVAL on every rank unless every rank's data at path has
 * rank 0's file size and fingerprint (io/fingerprint.h: split shapes and
 * rows, types, preprocessing, class names, a sample of rows), naming the
 * lowest rank that differs.  Reads a few hundred rows, not the whole file. */
struct sn_dataset;
struct sn_data_meta;
int cli_same_data(struct sn_dataset *ds, const char *path);
/* Collective: the splits the ranks hold in memory are the same, every
 * byte (train holds them when they fit in --cache-mb). */
int cli_same_held_data(const struct sn_dataset *ds, const char *path);
bool cli_launched(void);

/* Before MPI starts, whether the launcher made this process rank 0 (its
 * rank variable is 0, or none is set): the one process that speaks for
 * a failure every process meets alike before the ranks can agree. */
bool cli_launcher_rank0(void);

/* The names of HDF5 files, in any case (sn_text_ext_in). */
#define CLI_HDF5_EXTS ".h5 .hdf5 .he5"

/* The launcher's rank variable this process has (OMPI_COMM_WORLD_RANK,
 * PMI_RANK, ...), or NULL when none is set. */
const char *cli_launcher_rank_var(void);

/* Whether the launcher says every rank of the job runs on this host (Open
 * MPI's and hydra's local and world sizes agree): then the launcher's rank
 * 0 has the limits this process inherited. */
bool cli_launched_all_here(void);

/* ---- command-line options ---- */
enum cli_opt_type { OPT_FLAG, OPT_STR, OPT_INT, OPT_FLOAT };

/* One option of a command's table.  Numbers are parsed by the one number
 * parser (core/number.h) at full range and refused outside [min, max],
 * which every OPT_INT and OPT_FLOAT entry states and its error quotes. */
struct cli_opt {
    const char *name;         /* without the leading "--" */
    enum cli_opt_type type;
    void *dst;                /* bool, const char *, long or double */
    bool seen;
    double min, max;          /* OPT_INT, OPT_FLOAT: the accepted range */
};

#define CLI_FLAG(name, dst) { name, OPT_FLAG, dst, false, 0, 0 }
#define CLI_STR(name, dst) { name, OPT_STR, dst, false, 0, 0 }
#define CLI_INT(name, dst, min, max) { name, OPT_INT, dst, false, min, max }
#define CLI_FLOAT(name, dst, min, max) { name, OPT_FLOAT, dst, false, min, max }

/* Parse one number of a flag's value the way cli_parse does ("--size" W,H
 * parts, lists): SN_EUSAGE "FLAG: expected an integer in [min, max], got
 * 'text'". */
int cli_parse_long(const char *flag, const char *text, long min, long max, long *out);

/* Parse argv[first..argc-1] as "--name value", "--name=value" or "--flag".
 * Arguments not starting with "--" go to positional[] (up to max_pos,
 * count in *n_pos; pass NULL to refuse them).  SN_EUSAGE naming the flag;
 * a text flag's value given apart may not start with '-' ("--out -q" is a
 * slip; "--out=-q" names that file).  CLI_HELP when --help or -h stands
 * where a flag may (not as a flag's value): print the usage, exit 0. */
#define CLI_HELP 1
int cli_parse(int argc, char **argv, int first, struct cli_opt *opts, int n_opts,
              const char **positional, int max_pos, int *n_pos);

/* Whether the option called name was given (after cli_parse). */
bool cli_seen(const struct cli_opt *opts, int n_opts, const char *name);

/* Print usage on stdout (rank 0) for --help; returns 0, the exit status. */
int cli_usage(const char *usage);

/* Exit status for a status code (0, 1 or 2). */
int cli_exit_code(int rc);

/* The one way a command ends on an error.  rc must be the same on every
 * rank (agreed, as the trainer's are): 0 for SN_OK; otherwise rank 0
 * prints the error once and every rank returns the exit status.
 * SN_EFATAL (the ranks can no longer agree) prints this rank's error and
 * ends the whole job now (sn_dist_abort). */
int cli_end(int rc);

/* Collective: cli_end of every rank's status combined (sn_dist_agree): the
 * lowest failing rank's error, printed once. */
int cli_agree(int rc);

/* For a command whose output is written whole or not at all (predict,
 * convert, export, plot): a stop (SN_EINTR) at any moment leaves nothing,
 * and its message says so, ": nothing written", once.  rc unchanged. */
int cli_nothing_written(int rc);

/* Print "scratchnet: error: <message>" for a local failure
 * ("scratchnet: <message>" for SN_EINTR, a stop someone asked for). */
void cli_print_error(int rc);

/* Whether the first stop signal (core/interrupt.h) came from this
 * process's parent: the launcher (mpirun, its daemon, srun's slurmstepd)
 * rather than a person or a script.  main.c's handler notes it
 * (async-signal-safe); here rather than in main.c so the command's parts
 * link without it (tests, fuzz targets). */
void cli_note_stop_sender(bool from_parent);
bool cli_stop_sent_by_parent(void);

/* Refuse to run as a world of one when an MPI launcher's environment says
 * the job has more ranks (a program started without MPI support, mpirun of
 * another MPI): every command, as each process would do the whole
 * command; with training, also a job script's SLURM_NTASKS without srun
 * and torchrun's WORLD_SIZE (a job's own eval, a PyTorch job's call of a
 * tool, runs as one process).  SN_EUSAGE: in full on the launcher's rank 0
 * (torchrun's RANK among its rank variables), in its first words on the
 * others. */
int cli_check_world(bool training);

/* Whether the launcher's rank 0 runs beside this process (a child of its
 * parent, with the rank variable at 0) and also(its pid) holds. */
bool cli_rank0_beside(bool (*also)(long pid));
/* Sleeps n tenths of a second, less when a stop comes. */
void cli_nap(int n);

/* rc from opening the dataset path: for a folder given as a dataset, the
 * error says how one is made of a folder of images (convert folder); for
 * an IDX file (gzipped or not) or an image, which command takes it. */
int cli_data_hint(int rc, const char *path);

/* Every output must be a regular file or not exist, in a writable folder,
 * and be none of the inputs: refuse an output that is one of the inputs
 * (the same file, by device and inode, so other spellings and links
 * count; outputs[i] is written by the flag out_flags[i], inputs[j] read
 * through in_flags[j]; NULL entries are skipped) or another output, an
 * empty name, a folder, a device, a FIFO or a socket (replaced by rename,
 * as root even /dev/null would go), or an output whose folder is missing or
 * not writable.  An output that is a symbolic link is checked where the
 * link leads (sn_fs_output_target: the writers put their new file there and
 * keep the link); a link into /proc (/dev/stdout) is refused, and so is an
 * output whose file is named like a checkpoint folder's member
 * (ckpt-<step>.h5, .lock: sn_ckptdir_is_name), in any folder, and so is an
 * output other than --log onto a scratchnet log (cli_log_guard), and one
 * onto a dataset, a model's weights, predictions, a model file or an ONNX
 * model unless it writes that kind (convert -o a dataset, train --out
 * weights, predict -o predictions, export -o an ONNX model:
 * cli_outputs_write_datasets, cli_outputs_write_predictions,
 * cli_outputs_write_onnx); no output replaces a checkpoint or HDF5 of
 * another program (a user's h5py data, a Keras model).  SN_EUSAGE
 * naming the flags, so `--out D.h5 --data D.h5` never replaces the dataset
 * and nothing is checked after hours of work. */
int cli_check_outputs(const char *const *outputs, const char *const *out_flags, int n_out,
                      const char *const *inputs, const char *const *in_flags, int n_in);

/* convert: the outputs checked next write a dataset, so they may replace
 * one (and no output but train's --out may replace a model's weights). */
void cli_outputs_write_datasets(void);

/* export: the output checked next writes an ONNX model, so it may replace
 * one.  No output replaces a model file (.cfg) or, but export's, an ONNX
 * model. */
void cli_outputs_write_onnx(void);

/* predict: the output checked next writes predictions (/pred, /probs), so
 * it may replace predict's earlier output. */
void cli_outputs_write_predictions(void);

/* sn_fs_commit's replace guard for the command (sn_fs_set_replace_guard):
 * an output checked by cli_check_outputs is renamed into place only if
 * its file is still what the check saw (not there, or the same file
 * unchanged), and never over a scratchnet log (cli_log_replace_guard);
 * else SN_EUSAGE naming tmp, where the new file stays. */
int cli_replace_guard(const char *path, const char *target, const char *tmp);

/* ---- plot's log reader (the entry point its fuzz target calls) ---- */
#define CLI_CURVE_COLS 5
#define CLI_LOG_MAX_BYTES ((size_t)256 << 20)   /* the largest log plot reads */
/* A log has a line an epoch: more lines than this are not one run's log,
 * and drawing 3 million took gnuplot 34 s (and plot 870 MB to hold them) */
#define CLI_LOG_MAX_RECORDS 100000
/* A record is one line of a few hundred bytes: a line of 8 million keys
 * (103 MB) took the JSON parser 44 s and 1.1 GB. */
#define CLI_LOG_MAX_LINE 65536

/* The learning curves of a train --log file: one row per epoch of the
 * latest run (a log several runs appended to holds epochs that start over;
 * an epoch not after the previous row replaces the rows from it on), each
 * epoch, train_loss, test_loss, train_acc, test_acc (NaN where absent). */
struct cli_curves {
    int n;                         /* rows drawn: the latest run's epochs */
    int records;                   /* in the log: of every run appended to it */
    double (*v)[CLI_CURVE_COLS];   /* malloc'd; the caller frees v */
    int cut_line;                  /* a last line cut short, skipped (0: none) */
};

/* Read the log from in (log names it in messages).  SN_EINVAL with
 * "log:line: ..." for a line that is not a log line (but a last one cut
 * short, which is skipped: c->cut_line), or no epochs. */
int cli_plot_read_log(FILE *in, const char *log, struct cli_curves *c);

/* The folder a run will write into (--checkpoint-dir): an existing one
 * must be a writable folder; a missing one is made (with its parents), and
 * made gets the topmost folder this made ("" if none), for
 * cli_undo_outputs.  A folder in /proc, /sys or /dev is refused.
 * SN_EUSAGE naming flag. */
int cli_make_folder(const char *dir, const char *flag, char *made, size_t made_len);


/* A refused run creates nothing: remove the file if this run created it
 * and it is still empty, and the folders from dir up to made (what
 * cli_make_folder made) while they are empty.  NULL entries are skipped. */
void cli_undo_outputs(const char *file, bool file_created, const char *dir, const char *made);

/* The most threads per rank --threads and OMP_NUM_THREADS may ask for. */
#define CLI_MAX_THREADS 1024

/* Set threads per rank, before the command allocates anything: `requested`
 * if > 0, else OMP_NUM_THREADS if set, else cores / ranks on this host.
 * Sets *threads to the count in use; an error (agreed over the ranks) when
 * OMP_NUM_THREADS is out of range or an address-space limit leaves no room
 * for them.  Collective: warns once when a host's threads are more than
 * the cores its ranks may use together. */
int cli_setup_threads(long requested, int *threads);

/* OMP_NUM_THREADS's count into *n (0 when unset), refused as
 * cli_setup_threads refuses it (said). */
int cli_env_threads(int *n);

/* Collective: rank 0 prints rank, host, threads and pid of every rank. */
int cli_print_ranks(int threads);

/* The cores' busy time (every process's), this process's CPU time and
 * the wall clock, now: cli_warn_busy_cores's start. */
struct cli_cpu_use {
    double cores, mine, wall;
};
struct cli_cpu_use cli_cpu_use_now(void);

/* On rank 0, after work that ran with threads threads since before (did:
 * "trained", "evaluated"): warns when other work kept its cores so busy
 * that the threads waited for each other, naming --threads and
 * OMP_WAIT_POLICY=passive; nothing for work too short to tell. */
void cli_warn_busy_cores(struct cli_cpu_use before, int threads, bool long_enough,
                         const char *did);

/* ---- words.c: phrases printed in more than one place ---- */

/* "s" unless n is 1: "%d rank%s", n, cli_s(n). */
static inline const char *cli_s(long long n)
{
    return n == 1 ? "" : "s";
}

/* Where training stands, in the numbering of the epoch lines ("epoch 3/5"
 * is the third): "after epoch 2 (step 1874)" when epoch epochs are done,
 * "in epoch 3, 17 steps into it (step 1891)" in the middle of one, "at the
 * start (step 0)". */
void cli_position(char *buf, size_t len, int64_t epoch, int64_t step_in_epoch,
                  int64_t global_step);

/* ---- datacheck.c: wrong answers caught before they happen ---- */

/* Below this many examples per rank and step, GEMM runs far from peak and
 * batchnorm's per-rank statistics are noisy (docs/CLUSTER.md). */
#define CLI_MIN_RANK_BATCH 16

/* /test and /val must be prepared (scale, mean, std) like /train: else
 * SN_EINVAL naming both, or with allow a warning on rank 0
 * and SN_OK. */
int cli_check_splits(const struct sn_dataset *ds, bool allow);

/* Rank 0 warns on stderr when /train/x is uint8 with no
 * scale attribute and no mean/std: pixels fed to the model as 0 .. 255
 * train badly without a word otherwise; and when float values held in
 * memory already within [-1, 1] get a scale under 0.1 (scaled twice). */
void cli_warn_raw_pixels(const struct sn_dataset *ds, const char *data);

/* Rank 0 warns on stderr when split s's samples are the model's 3-D or
 * 2-D input shape in another order (channels-last images, sequences stored
 * features first: the values match in number, so they would train, or be
 * evaluated, scrambled without a word). */
void cli_warn_layout(const struct sn_split *s, const char *data, const struct sn_shape *in);

/* Rank 0 warns on stderr when the model file's input looks written H,W,C
 * (sn_input_looks_hwc): it reads C,H,W, and data
 * stored the same way trains a network over the wrong axes without a word. */
void cli_warn_input_order(const struct sn_shape *in, const char *model);

/* Rank 0 warns on stderr when P > 1 ranks each take fewer
 * than CLI_MIN_RANK_BATCH examples of a global batch (and, for a model
 * with batchnorm, that its statistics get noisy). */
void cli_warn_small_batch(int global_batch, int ranks, bool batchnorm);

/* A warning (rank 0) naming the root groups of ds's file that hold an x
 * but are no split name (/validation, /Test): written by someone who meant
 * a split, and never read. */
void cli_warn_unread_splits(struct sn_dataset *ds, const char *file);

/* The warning for n JPEGs (the first named) whose scans left bytes over
 * (struct sn_image's stray_bytes): padding, or damage that decodes. */
void cli_warn_stray_jpegs(size_t n, const char *first);

/* sn_check_class_names on the root attribute classes of ds; *n_names the
 * count (0: none). */
int cli_check_dataset_classes(struct sn_dataset *ds, const char *file, int outputs, int classes,
                              size_t *n_names);

/* Rank 0 warns on stderr, one line each, naming both, when the class names
 * (if classes: for train --init only when the output layer was loaded
 * from the file; a new head may learn other classes) or the preparation
 * (scale, mean, std) of split s of ds differ from the ones stored in the
 * weights file (when it stores them). */
void cli_warn_data_mismatch(const char *weights, const char *data, struct sn_dataset *ds,
                            const struct sn_split *s, bool classes);

/* Arrays or layer groups of the weights file f (named weights) that no
 * parameter of m reads: with the file's own model text (model_path NULL) SN_EINVAL naming
 * them, its arrays and its text differ; with a --model given, rank 0's
 * warning naming them, and SN_OK. */
int cli_check_unread(struct sn_h5 *f, const struct sn_model *m, const char *weights,
                     const char *model_path);

/* Load the model a weights file or checkpoint describes (or the one in
 * model_path, if not NULL), built for batches of max_batch, with every
 * parameter read from the file.  *cfg_text (if not NULL) receives the model
 * text (caller frees). */
int cli_load_weights(const char *weights, const char *model_path, int max_batch,
                     struct sn_netcfg *net, struct sn_model **m, char **cfg_text);

/* Rank 0 warns when the weights' run record says the training split was
 * float data: an image's pixels (predict, export's pixel input) meet the
 * stored scale, mean and std as if they were that data. */
struct sn_data_meta;
void cli_warn_float_training(const char *weights, const struct sn_data_meta *meta);

/* For commands whose work rank 0 does alone (predict, info, convert,
 * plot, export): every rank meets here, the others waiting for rank 0
 * without blocking in MPI.  A stop signal to one of them is passed on
 * (sn_dist_stop_send; cli_relay_stops), and rank 0 stops at its next
 * look, saying so once, or has finished and says what it wrote: the job
 * has one outcome, told by rank 0. */
void cli_await_rank0(void);

/* In a job of several ranks: a rank's stop looks (sn_interrupt_pending)
 * pass its own stop signal to every other rank and take in theirs, so one
 * rank's signal ends the others' work at their next look (set-up's file
 * checks, rank 0's local work).  Once, after MPI starts, on every rank. */
void cli_relay_stops(void);

#endif
