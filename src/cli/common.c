/* common: argument parsing, status agreement across ranks, threads, and
 * evaluation, shared by the commands (see cli.h). */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE   /* realpath */
#endif
#include "cli/cli.h"
#include "cli/jsonlog.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/augment.h"
#include "core/blas.h"
#include "core/clock.h"
#include "core/interrupt.h"
#include "core/loss.h"
#include "core/number.h"
#include "core/parallel.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/text.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "io/fingerprint.h"
#include "io/folder.h"
#include "io/fsutil.h"
#include "io/h5.h"
#include "io/weights.h"
#include "train/ckptdir.h"

/* Format, clean, write: the text is built whole first (on the stack, or
 * once on the heap when longer) so one call is one write. */
static int say(FILE *to, const char *fmt, va_list ap)
{
    char small[2048], *text = small;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    char *big = n >= (int)sizeof small ? malloc((size_t)n + 1) : NULL;
    if (big) {   /* without it, the first 2047 bytes */
        vsnprintf(big, (size_t)n + 1, fmt, again);
        text = big;
    }
    va_end(again);
    if (n < 0)
        return -1;
    sn_text_clean(text, true);
    fputs(text, to);
    free(big);
    return n;
}

const char *cli_line(const char *s)
{
    static char buf[4][4352];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s", s ? s : "");
    sn_text_clean(b, false);
    return b;
}

int cli_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = say(stdout, fmt, ap);
    va_end(ap);
    return n;
}

int cli_eprintf(const char *fmt, ...)
{
    /* what stdout holds goes first: with 2>&1 (a batch job's log) an error
     * or stop line lands after the table rows printed before it, not inside
     * one when stdout's buffer is flushed at exit */
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    int n = say(stderr, fmt, ap);
    va_end(ap);
    return n;
}

bool cli_seen(const struct cli_opt *opts, int n_opts, const char *name)
{
    for (int i = 0; i < n_opts; i++)
        if (strcmp(opts[i].name, name) == 0)
            return opts[i].seen;
    return false;
}

int cli_usage(const char *usage)
{
    if (sn_dist_rank() == 0)
        fputs(usage, stdout);
    return 0;
}

int cli_parse_long(const char *flag, const char *text, long min, long max, long *out)
{
    long long v;
    if (sn_parse_int(text, min, max, &v))
        return sn_fail_prefix(SN_EUSAGE, "%s: ", flag);
    *out = (long)v;
    return SN_OK;
}

static int set_opt(struct cli_opt *o, const char *val)
{
    char flag[80];
    snprintf(flag, sizeof flag, "%s%s", o->name[1] ? "--" : "-", o->name);
    assert(o->type == OPT_FLAG || o->type == OPT_STR || o->min < o->max);   /* a range is given */
    switch (o->type) {
    case OPT_FLAG:
        *(bool *)o->dst = true;
        break;
    case OPT_STR:   /* no flag means anything by an empty text: "--data ''" is a slip */
        if (!val[0])
            return sn_fail(SN_EUSAGE, "%s: the value is empty", flag);
        *(const char **)o->dst = val;
        break;
    case OPT_INT: {
        int rc = cli_parse_long(flag, val, (long)o->min, (long)o->max, (long *)o->dst);
        if (rc)
            return rc;
        break;
    }
    case OPT_FLOAT:
        if (sn_parse_real(val, o->min, o->max, (double *)o->dst))
            return sn_fail_prefix(SN_EUSAGE, "%s: ", flag);
        break;
    }
    o->seen = true;
    return SN_OK;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;   /* a separator: "ab","c" != "a","bc" */
}

static int first_differing(const uint64_t mine[2], uint64_t first[2], uint64_t other[2], int *r,
                           char host[SN_HOST_BYTES]);

int cli_same_everywhere(int argc, char **argv, int first, const char *text)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = first; i < argc; i++)
        h = fnv1a(h, argv[i]);
    /* equal everywhere iff max(v) == -max(-v) for each 31-bit part */
    int v[4] = { (int)(h & 0x7fffffff), (int)((h >> 31) & 0x7fffffff) };
    v[2] = -v[0];
    v[3] = -v[1];
    int rc = sn_dist_allreduce_max_int(v, 4);
    if (rc)
        return rc;
    if (v[0] != -v[2] || v[1] != -v[3])
        return sn_fail(SN_EUSAGE, "the ranks were started with different flags or model files "
                       "(an MPMD launch?): every rank must run the same command");
    /* the same command, another model file's text: the file at that path
     * differs on a host (a node-local copy) */
    const uint64_t mine[2] = { fnv1a(0xcbf29ce484222325ULL, text ? text : ""),
                               text ? strlen(text) : 0 };
    uint64_t first_text[2], other[2];
    char host[SN_HOST_BYTES];
    int r;
    if ((rc = first_differing(mine, first_text, other, &r, host)) || r < 0)
        return rc;
    return sn_fail(SN_EUSAGE, "the model file differs on rank %d (%llu bytes; rank 0's: %llu): "
                   "every rank must read the same model (a different file at this path on rank "
                   "%d's host, %s?)", r, (unsigned long long)other[1],
                   (unsigned long long)first_text[1], r, host);
}

/* Collective: the lowest rank whose mine[2] differs from rank 0's, its
 * values in other and rank 0's in first, and its host's name in host;
 * -1 when every rank agrees. */
static int first_differing(const uint64_t mine[2], uint64_t first[2], uint64_t other[2], int *r,
                           char host[SN_HOST_BYTES])
{
    memcpy(first, mine, 2 * sizeof *first);
    memcpy(other, mine, 2 * sizeof *other);
    int rc = sn_dist_bcast(first, 2 * sizeof *first, 0);
    if (rc)
        return rc;
    *r = memcmp(mine, first, 2 * sizeof *mine) ? -sn_dist_rank() : INT_MIN;
    if ((rc = sn_dist_allreduce_max_int(r, 1)))
        return rc;
    if (*r == INT_MIN) {
        *r = -1;
        return SN_OK;
    }
    *r = -*r;
    sn_text_host(host, SN_HOST_BYTES);
    if (!(rc = sn_dist_bcast(other, 2 * sizeof *other, *r)))
        rc = sn_dist_bcast(host, SN_HOST_BYTES, *r);
    sn_text_clean(host, false);
    return rc;
}

/* The error for rank r on host, whose [hash, bytes] (other) differ from
 * rank 0's (first): "PATH: rank R DIFFERS than rank 0 (...): every rank
 * must read the same SAME (...)". */
static int differs_from_rank0(const char *path, int r, const char *host, const char *differs,
                              const char *sum, const char *same, const uint64_t first[2],
                              const uint64_t other[2])
{
    return sn_fail(SN_EINVAL, "%s: rank %d %s than rank 0 (%llu bytes, %s %016llx; rank 0: "
                   "%llu bytes, %016llx): every rank must read the same %s (a different file "
                   "at this path on rank %d's host, %s?)", path, r, differs,
                   (unsigned long long)other[1], sum, (unsigned long long)other[0],
                   (unsigned long long)first[1], (unsigned long long)first[0], same, r, host);
}

int cli_same_file(const char *path, const char *what)
{
    FILE *fp;
    uint64_t mine[2] = { 0, 0 }, first[2], other[2];
    int rc = sn_fs_open_input(path, what, SIZE_MAX, &fp, NULL);
    if (!rc) {
        char doing[4200];
        snprintf(doing, sizeof doing, "checking %s", path);
        const int h = sn_fs_hash(fp, 0, doing, &mine[0], &mine[1]);
        if (h)
            rc = h == SN_EINTR ? h : sn_fail(SN_EIO, "%s: cannot read: %s", path, strerror(errno));
        fclose(fp);
    }
    int r;
    char host[SN_HOST_BYTES];
    if ((rc = sn_dist_agree(rc)) || (rc = first_differing(mine, first, other, &r, host)) || r < 0)
        return rc;
    char differs[96];
    snprintf(differs, sizeof differs, "reads another %s", what);
    return differs_from_rank0(path, r, host, differs, "checksum", "file", first, other);
}

/* This rank's data in two numbers: the file's size (0 for a folder) and a
 * hash of its fingerprint (shapes, types, preprocessing, class names and
 * a sample of rows), cheap for data of any size, unlike a whole hash. */
static int data_identity(struct sn_dataset *ds, const char *path, uint64_t id[2])
{
    struct stat st;
    id[1] = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    size_t L = ds->train.row_len;
    if (ds->test.present && ds->test.row_len > L)
        L = ds->test.row_len;
    if (ds->val.present && ds->val.row_len > L)
        L = ds->val.row_len;
    float *row = sn_alloc_f32(L ? L : 1);
    int rc = row ? SN_OK : sn_fail(SN_ENOMEM, "out of memory");
    if (!rc && ds->stage_rows < 1)
        rc = sn_dataset_reserve(ds, 1);
    char fp[4096];
    if (!rc)
        rc = sn_dataset_fingerprint(ds, row, fp, sizeof fp);
    sn_free(row);
    id[0] = sn_fnv1a(SN_FNV_START, fp, strlen(fp));
    return rc;   /* the message names the file and what is wrong in it */
}

int cli_same_data(struct sn_dataset *ds, const char *path)
{
    uint64_t mine[2] = { 0, 0 }, first[2], other[2];
    char host[SN_HOST_BYTES];
    int r, rc = sn_dist_size() > 1 ? data_identity(ds, path, mine) : SN_OK;
    if (sn_dist_size() == 1 || (rc = sn_dist_agree(rc)) ||
        (rc = first_differing(mine, first, other, &r, host)) || r < 0)
        return rc;
    return differs_from_rank0(path, r, host, "reads other data", "fingerprint", "data", first,
                              other);
}

/* The data every rank holds in memory, compared byte for byte (a hash of
 * all of it): the fingerprint above samples rows, so a node-local copy of
 * the same size that differs elsewhere passes it. */
int cli_same_held_data(const struct sn_dataset *ds, const char *path)
{
    uint64_t mine[2], first[2], other[2];
    if (sn_dist_size() == 1)
        return SN_OK;
    mine[0] = sn_dataset_held_hash(ds, &mine[1]);
    char host[SN_HOST_BYTES];
    int r, rc = first_differing(mine, first, other, &r, host);
    if (rc || r < 0)
        return rc;
    return differs_from_rank0(path, r, host, "holds other data in memory", "checksum", "data",
                              first, other);
}

static bool launched;

/* What the launchers set in each process they start. */
static const char *const launcher_vars[] = {
    "OMPI_COMM_WORLD_SIZE",          /* Open MPI's mpirun */
    "PMIX_RANK",                     /* PMIx: Open MPI 5's prterun, srun --mpi=pmix */
    "PMI_SIZE", "PMI_RANK", "PMI_FD", /* MPICH's hydra (Intel MPI, MVAPICH), Flux */
    "SLURM_PROCID",                  /* srun, and a Slurm batch script itself */
    "MV2_COMM_WORLD_SIZE",           /* MVAPICH's mpirun_rsh */
    "PALS_RANKID", "ALPS_APP_PE",    /* Cray's PALS and ALPS */
};

/* Read before MPI starts (cli_note_launcher): Open MPI's singleton start
 * sets OMPI_COMM_WORLD_RANK=0 in every process another MPI's launcher
 * started, which then all took themselves for rank 0. */
static int rank0_noted = -1;
static const char *rank_var_noted;   /* the launcher's rank variable, as read then */
static bool rank0_now(void);

void cli_note_launcher(void)
{
    int set = 0;
    for (size_t i = 0; i < sizeof launcher_vars / sizeof launcher_vars[0]; i++)
        set += getenv(launcher_vars[i]) != NULL;
    /* one task of srun without an MPI plugin (Slurm's MpiDefault=none),
     * SLURM_PROCID its only mark: Open MPI's MPI_Init would fail in its own
     * words; one task is the whole job, run alone (several: sn_dist_init
     * names --mpi=pmix) */
    const char *tasks = getenv("SLURM_STEP_NUM_TASKS");
    launched = set > 0 && !(set == 1 && getenv("SLURM_PROCID") && tasks && !strcmp(tasks, "1"));
    rank0_noted = rank0_now();
    rank_var_noted = cli_launcher_rank_var();
}

bool cli_launched(void)
{
    return launched;
}

const char *cli_launcher_rank_var(void)
{
    static const char *const ranks[] = { "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                         "SLURM_PROCID", "PALS_RANKID", "ALPS_APP_PE" };
    for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++)
        if (getenv(ranks[i]))
            return ranks[i];
    /* torchrun's, a name too plain to trust without its WORLD_SIZE beside */
    return getenv("RANK") && getenv("WORLD_SIZE") ? "RANK" : NULL;
}

static bool rank0_now(void)
{
    const char *var = cli_launcher_rank_var();
    return !var || strcmp(getenv(var), "0") == 0;
}

bool cli_launcher_rank0(void)
{
    return rank0_noted >= 0 ? rank0_noted == 1 : rank0_now();
}

bool cli_launched_all_here(void)
{
    static const char *const pairs[][2] = {
        { "OMPI_COMM_WORLD_LOCAL_SIZE", "OMPI_COMM_WORLD_SIZE" },
        { "MPI_LOCALNRANKS", "PMI_SIZE" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (getenv(pairs[i][0]) && getenv(pairs[i][1]))
            return strcmp(getenv(pairs[i][0]), getenv(pairs[i][1])) == 0;
    return false;
}

/* The option named by argument a ("--out", "--out=x", "-o"), or NULL;
 * *eq is the '=' of "--out=x", if any. */
static struct cli_opt *find_opt(const char *a, struct cli_opt *opts, int n_opts, const char **eq)
{
    char shortname[4];
    if (a[0] == '-' && a[1] != '-' && a[1] != '\0' && a[2] == '\0') {
        /* -o and the like: the one-letter option of that name */
        snprintf(shortname, sizeof shortname, "--%c", a[1]);
        a = shortname;
    }
    *eq = NULL;
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
        return NULL;
    const char *name = a + 2, *e = strchr(name, '=');
    size_t len = e ? (size_t)(e - name) : strlen(name);
    for (int k = 0; k < n_opts; k++)
        if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0) {
            *eq = e;
            return &opts[k];
        }
    return NULL;
}

/* Other programs' names of flags scratchnet spells otherwise (PyTorch's
 * and Keras's scripts, darknet's cfg), for the hint. */
static const char *const other_names[][2] = {
    { "learning-rate", "lr" }, { "learning_rate", "lr" }, { "batch-size", "batch" },
    { "batch_size", "batch" }, { "num-epochs", "epochs" }, { "max-epochs", "epochs" },
    { "output", "out" }, { "output", "o" }, { "num-threads", "threads" },
    { "workers", "threads" }, { "o", "out" },   /* predict's -o is train's --out */
};

/* An unknown flag, with the flag a typo away from it when there is one
 * ("--epoch": did you mean --epochs?) or the one other programs name so. */
static int unknown_flag(const char *a, const struct cli_opt *opts, int n_opts)
{
    char word[64];
    const int len = (int)strcspn(a, "="), dashes = (int)strspn(a, "-");
    snprintf(word, sizeof word, "%.*s", len > dashes ? len - dashes : 0, a + dashes);
    for (size_t k = 0; k < sizeof other_names / sizeof other_names[0]; k++)
        for (int i = 0; i < n_opts && strcmp(word, other_names[k][0]) == 0; i++)
            if (strcmp(opts[i].name, other_names[k][1]) == 0)
                return sn_fail(SN_EUSAGE, "unknown flag %.*s (did you mean %s%s?)", len, a,
                               opts[i].name[1] ? "--" : "-", opts[i].name);
    struct sn_text_nearest near = { word, NULL, 0 };
    for (int i = 0; i < n_opts; i++)
        if (opts[i].name[1])
            sn_text_offer(&near, opts[i].name);
    if (near.best)
        return sn_fail(SN_EUSAGE, "unknown flag %.*s (did you mean --%s?)", len, a, near.best);
    return sn_fail(SN_EUSAGE, "unknown flag %.*s (see --help)", len, a);
}

int cli_parse(int argc, char **argv, int first, struct cli_opt *opts, int n_opts,
              const char **positional, int max_pos, int *n_pos)
{
    if (n_pos)
        *n_pos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i], *eq;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return CLI_HELP;
        struct cli_opt *o = find_opt(a, opts, n_opts, &eq);
        const bool dashed = a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0;
        if (!o && !dashed) {
            if (!positional || *n_pos == max_pos)
                return sn_fail(SN_EUSAGE, "unexpected argument '%s'", a);
            positional[(*n_pos)++] = a;
            continue;
        }
        if (!o)
            return unknown_flag(a, opts, n_opts);
        char flag[80];
        snprintf(flag, sizeof flag, "%s%s", o->name[1] ? "--" : "-", o->name);
        if (o->seen)
            return sn_fail(SN_EUSAGE, "%s is given twice", flag);
        const char *val = NULL, *e2;
        if (o->type == OPT_FLAG) {
            if (eq)
                return sn_fail(SN_EUSAGE, "%s takes no value", flag);
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
            /* "--out $OUT --quiet" with OUT unset: not a file named --quiet */
            if (o->type == OPT_STR && val[0] == '-')
                return sn_fail(SN_EUSAGE, "%s: its value '%.40s' %s (a value missing?); write "
                               "%s=%.40s to mean that name", flag, val,
                               find_opt(val, opts, n_opts, &e2) ? "is a flag of this command"
                                                                : "starts with '-'", flag, val);
        } else {
            return sn_fail(SN_EUSAGE, "%s needs a value", flag);
        }
        int rc = set_opt(o, val);
        if (rc)
            return rc;
    }
    return SN_OK;
}

int cli_exit_code(int rc)
{
    return rc == SN_OK ? 0 : sn_status_is_input(rc) ? 2 : 1;
}

static volatile sig_atomic_t stop_from_parent;

void cli_note_stop_sender(bool from_parent)
{
    stop_from_parent = from_parent;
}

bool cli_stop_sent_by_parent(void)
{
    return stop_from_parent;
}

int cli_nothing_written(int rc)
{
    if (rc != SN_EINTR || strstr(sn_errmsg(), "nothing written"))
        return rc;
    return sn_fail_suffix(rc, ": nothing written");
}

/* Set when the error this process ends with is said by another one. */
static bool error_said_elsewhere;

void cli_print_error(int rc)
{
    if (error_said_elsewhere)
        return;
    const char *msg = sn_errmsg()[0] ? sn_errmsg() : sn_strstatus(rc);
    if (rc == SN_EINTR)   /* the stop someone asked for is not an error */
        cli_eprintf("scratchnet: %s\n", msg);
    else
        cli_eprintf("scratchnet: error: %s\n", msg);
}

int cli_end(int rc)
{
    if (rc == SN_OK)
        return 0;
    if (rc == SN_EFATAL) {   /* the others may wait in a collective: end them all */
        cli_eprintf("scratchnet: error: rank %d: %s\n", sn_dist_rank(), sn_errmsg());
        fflush(stderr);
        sn_dist_abort(1);
    }
    if (sn_dist_rank() == 0)
        cli_print_error(rc);
    return cli_exit_code(rc);
}

int cli_agree(int rc)
{
    return cli_end(sn_dist_agree(rc));
}

/* What a file that is not HDF5 is, by its first bytes, and the command
 * that makes a dataset of it ("" when it is none of these). */
static const char *raw_data_hint(const char *path)
{
    unsigned char b[4] = { 0 };
    FILE *f = fopen(path, "rb");
    const size_t n = f ? fread(b, 1, sizeof b, f) : 0;
    if (f)
        fclose(f);
    if (n == 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 && b[3] >= 1 && b[3] <= 4)
        return " (an IDX file of images or labels: scratchnet convert idx makes a dataset of "
               "them, datasets/README.md)";
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
        return " (gzip data: an IDX file such as train-images-idx3-ubyte.gz? scratchnet convert "
               "idx reads them as they are and makes a dataset, datasets/README.md)";
    if ((n >= 4 && memcmp(b, "\x89PNG", 4) == 0) || (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0) ||
        (n >= 2 && b[0] == 'P' && (b[1] == '2' || b[1] == '5' || b[1] == '6')))
        return " (an image: predict --input takes images; train and eval read a dataset, which "
               "scratchnet convert folder makes of a folder of images, one folder a class)";
    return "";
}

/* Whether the folder dir/sub holds an image among its first entries. */
static bool holds_images(const char *dir, const char *sub)
{
    char path[4200];
    if (sn_fs_join(path, sizeof path, dir, sub) != SN_OK)
        return false;
    DIR *d = opendir(path);
    bool found = false;
    int seen = 0;
    for (struct dirent *e; d && !found && seen++ < 256 && (e = readdir(d));)
        found = sn_text_ext_in(e->d_name, SN_FOLDER_IMAGE_EXTS);
    if (d)
        closedir(d);
    return found;
}

/* What a folder given as a dataset holds, by its entries, and what to
 * do with it ("" when it is none of these): checkpoints, CIFAR-10's
 * batches (also as its tarball unpacks them, one folder down), class
 * folders of images, IDX files, HDF5 files. */
static const char *folder_data_hint(const char *path)
{
    static char hint[400];
    char newest[64], h5[64] = "";
    if (sn_fs_newest_checkpoint(path, NULL, newest, sizeof newest))
        return " (a checkpoint folder, not a dataset: its checkpoints go to --resume or "
               "--weights)";
    DIR *d = opendir(path);
    bool cifar = false, cifar_below = false, classes = false, idx = false;
    int subs = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        cifar = cifar || !strcmp(e->d_name, "data_batch_1.bin");
        cifar_below = cifar_below ||
                      (!strcmp(e->d_name, "cifar-10-batches-bin") &&
                       sn_fs_join(hint, sizeof hint, path,
                                  "cifar-10-batches-bin/data_batch_1.bin") == SN_OK &&
                       access(hint, F_OK) == 0);
        if (e->d_type == DT_DIR && e->d_name[0] != '.' && subs++ < 16 && !classes)
            classes = holds_images(path, e->d_name);
        idx = idx || strstr(e->d_name, "-idx3-ubyte");
        const char *dot = strrchr(e->d_name, '.');
        if (!h5[0] && e->d_type == DT_REG && dot && !strcmp(dot, ".h5") &&
            strlen(e->d_name) < sizeof h5)
            snprintf(h5, sizeof h5, "%s", e->d_name);
    }
    if (d)
        closedir(d);
    if (cifar_below && !cifar) {
        snprintf(hint, sizeof hint, " (CIFAR-10's binary batches are in its folder "
                 "cifar-10-batches-bin: scratchnet convert cifar10 %.200s/cifar-10-batches-bin "
                 "makes a dataset of them)", path);
        return hint;
    }
    if (!cifar && !classes && !idx && h5[0]) {
        snprintf(hint, sizeof hint, " (a folder of HDF5 files: give one of them, such as "
                 "%.200s/%s)", path, h5);
        return hint;
    }
    return cifar ? " (CIFAR-10's binary batches? scratchnet convert cifar10 makes a dataset "
                   "of them)"
         : classes ? " (a folder of images, one folder a class? scratchnet convert folder "
                     "makes a dataset of it)"
         : idx ? " (IDX files? scratchnet convert idx --images FILE --labels FILE makes a "
                 "dataset of them)"
               : "";
}

int cli_data_hint(int rc, const char *path)
{
    struct stat st;
    if (rc != SN_EINVAL || stat(path, &st) != 0)
        return rc;
    if (S_ISDIR(st.st_mode))
        return sn_fail_suffix(rc, "%s", folder_data_hint(path));
    if (S_ISREG(st.st_mode) && strstr(sn_errmsg(), ": not an HDF5 file") && *raw_data_hint(path))
        return sn_fail_suffix(rc, "%s", raw_data_hint(path));
    return rc;
}

/* The refusal of a world of one rank whose launcher (var=v) says the job
 * has more: this binary, by its path and the MPI it was built with, was
 * started by another MPI's launcher, or built without MPI. */
static int wrong_launcher(const char *var, const char *v)
{
    char exe[1024] = "scratchnet", why[512];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : (ssize_t)strlen(exe)] = '\0';
    const char *lib = sn_dist_library();
    if (strncmp(lib, "none", 4) == 0)
        snprintf(why, sizeof why, "was built without MPI (WITH_MPI=0)");
    else
        snprintf(why, sizeof why, "was built with %.*s, and a launcher of another MPI started "
                 "it (Open MPI's mpirun, or srun --mpi=pmix, starts an Open MPI build; MPICH's "
                 "mpiexec, or srun --mpi=pmi2, an MPICH one)", (int)strcspn(lib, ","), lib);
    for (char *t = strchr(why, '\t'); t; t = strchr(t, '\t'))
        *t = ' ';   /* MPICH's "Version:<TAB>4.0.2" */
    return sn_fail(SN_EUSAGE, "this process sees a world of 1 rank but %s=%s says the job has "
                   "more: %s %s; refusing to run alone (to run as one process on purpose, "
                   "in a job script or an salloc shell: srun -n 1, or unset %s)", var, v, exe,
                   why, var);
}

/* Whether process pid, a child of this process's parent, is the job's rank
 * 0 (its environment holds the rank variable this process has, at 0). */
static bool sibling_rank0(long pid)
{
    char path[64], stat[512], want[64];
    const char *fields = sn_fs_proc_stat(pid, stat, sizeof stat);
    long ppid = -1;
    /* the variable as the launcher set it: MPI's start may add its own
     * (Open MPI's singleton sets PMIX_RANK=0 in every process) */
    const char *name = rank_var_noted ? rank_var_noted : cli_launcher_rank_var();
    if (!fields || sscanf(fields, " %*c %ld", &ppid) != 1 || ppid != (long)getppid() || !name)
        return false;
    snprintf(want, sizeof want, "%s=0", name);
    snprintf(path, sizeof path, "/proc/%ld/environ", pid);
    FILE *fp = fopen(path, "r");
    bool rank0 = false;
    char var[4096];
    for (size_t k = 0; fp && !rank0;) {   /* NUL-ended entries, read byte by byte */
        const int c = getc(fp);
        if (c == EOF)
            break;
        var[k < sizeof var - 1 ? k++ : k] = (char)c;
        if (c == '\0') {
            rank0 = strcmp(var, want) == 0;
            k = 0;
        }
    }
    if (fp)
        fclose(fp);
    return rank0;
}

bool cli_rank0_beside(bool (*also)(long pid))
{
    DIR *d = opendir("/proc");
    bool found = false;
    for (struct dirent *e; d && !found && (e = readdir(d)) != NULL;) {
        long long pid;
        if (strspn(e->d_name, "0123456789") != strlen(e->d_name) ||
            sn_parse_int(e->d_name, 1, LONG_MAX, &pid) != SN_OK || pid == (long long)getpid())
            continue;
        found = sibling_rank0((long)pid) && also((long)pid);
    }
    if (d)
        closedir(d);
    return found;
}

/* Whether process pid runs this very program (one executable file). */
static bool same_program(long pid)
{
    char path[64];
    struct stat a, b;
    snprintf(path, sizeof path, "/proc/%ld/exe", pid);
    return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

void cli_nap(int n)
{
    const struct timespec tenth = { 0, 100000000L };
    for (int i = 0; i < n && !sn_interrupt_recorded(); i++)
        nanosleep(&tenth, NULL);
}

/* cli_check_world's refusal, said in full on any process. */
static int world_refusal(bool training)
{
    /* WORLD_SIZE: torchrun's, which starts processes that never meet */
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                        "SLURM_NTASKS", "WORLD_SIZE" };
    if (sn_dist_size() != 1)
        return SN_OK;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        /* an MPI launcher's own count (mpirun -np 1, local.sh 1 inside a
         * Slurm allocation of more tasks) is the world asked for */
        if (i >= 3 && (getenv(vars[0]) || getenv(vars[1]) || getenv(vars[2])))
            break;
        /* a job script's, or a PyTorch job's, own eval, predict, ...: one
         * process that calls a tool (torchrun's WORLD_SIZE, SLURM_NTASKS) */
        if (i >= 3 && !training)
            continue;
        const char *v = getenv(vars[i]);
        long long n;
        /* digits past every integer are more than 1 too */
        const bool huge = v && v[0] && strspn(v, "0123456789") == strlen(v) &&
                          sn_parse_int(v, 0, LLONG_MAX, &n) != SN_OK;
        if (!v || !(huge || sn_parse_int(v, 2, LLONG_MAX, &n) == SN_OK))
            continue;
        if (strcmp(vars[i], "WORLD_SIZE") == 0)
            return sn_fail(SN_EUSAGE, "this process sees a world of 1 rank but WORLD_SIZE=%s "
                           "says the job has more: torchrun (or another launcher of PyTorch's) "
                           "starts processes that are no MPI job and would each train alone; "
                           "start scratchnet with launch/local.sh, mpirun or srun (or unset "
                           "WORLD_SIZE to train as one process)", v);
        if (strcmp(vars[i], "SLURM_NTASKS") == 0 && !getenv("SLURM_STEP_ID"))
            return sn_fail(SN_EUSAGE, "this process sees a world of 1 rank but SLURM_NTASKS=%s "
                           "says the job has more: it was started in a Slurm job script "
                           "without srun; start it with srun --mpi=pmix (as launch/slurm.sbatch "
                           "does), or, to train as one process on purpose, srun -n 1 or unset "
                           "SLURM_NTASKS", v);
        return wrong_launcher(vars[i], v);
    }
    return SN_OK;
}

int cli_check_world(bool training)
{
    const int rc = world_refusal(training);
    if (!rc)
        return rc;
    if (cli_launcher_rank0()) {   /* N worlds of one: the launcher's rank 0 says why */
        cli_nap(10);   /* alive a second more, for the others to find */
        return rc;
    }
    /* the others are silent when rank 0 beside them is scratchnet too (a
     * job of N said it N times), else say its first words: rank 0 may be
     * no scratchnet (MPMD, a wrapper) or on another host */
    for (int i = 0; i < 20 && !sn_interrupt_recorded(); i++) {
        if (cli_rank0_beside(same_program)) {
            error_said_elsewhere = true;
            return rc;
        }
        cli_nap(1);
    }
    char first[200];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(sn_errmsg(), ":"), sn_errmsg());
    return sn_fail(rc, "%s (the launcher's rank 0 says more, if it runs scratchnet)", first);
}

/* The folder part of path ("." when it has none) into dir. */
static void folder_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else
        snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
}

/* Whether a and b name one file, also when neither exists yet (the same
 * folder and the same last name): two outputs there would overwrite each
 * other. */
static bool same_place(const char *a, const char *b)
{
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea || eb)
        return ea && eb && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char da[4096], db[4096];
    folder_of(a, da, sizeof da);
    folder_of(b, db, sizeof db);
    const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
    return stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino && strcmp(ba ? ba + 1 : a, bb ? bb + 1 : b) == 0;
}

/* The inode flags of path (chattr's: FS_IMMUTABLE_FL, FS_APPEND_FL), 0
 * on a file system without them. */
static int inode_flags(const char *path, int open_flags)
{
    int attr = 0;
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | open_flags);
    if (fd >= 0) {
        if (ioctl(fd, FS_IOC_GETFLAGS, &attr) != 0)
            attr = 0;
        close(fd);
    }
    return attr;
}

/* An existing output is replaced by a rename over it, which a writable
 * folder does not always allow: in a folder with the sticky bit (/tmp, a
 * cluster's shared scratch) only the file's or the folder's owner may, and
 * nobody may replace an immutable or append-only file (chattr +i, +a),
 * nor a file that is a mount point.  Found now, not when the work is done
 * (a run trained to its end and lost its weights at the rename). */
static int check_replaceable(const char *out, const char *flag, const char *target,
                             const struct stat *so, const struct stat *sd)
{
    const uid_t me = geteuid();
    if ((sd->st_mode & S_ISVTX) && me != 0 && so->st_uid != me && sd->st_uid != me) {
        const struct passwd *pw = getpwuid(so->st_uid);
        return sn_fail(SN_EUSAGE, "%s %s belongs to %s (uid %ld) and its folder has the sticky "
                       "bit (like /tmp): only its owner may replace it (name another file)",
                       flag, out, pw ? pw->pw_name : "another user", (long)so->st_uid);
    }
    const int attr = inode_flags(target, O_NOFOLLOW);
    /* --log is appended to in place, which append-only allows */
    const int forbid =
        strcmp(flag, "--log") == 0 ? FS_IMMUTABLE_FL : FS_IMMUTABLE_FL | FS_APPEND_FL;
    if (attr & forbid)
        return sn_fail(SN_EUSAGE, "%s %s is %s (chattr %s): it cannot be replaced", flag, out,
                       attr & FS_IMMUTABLE_FL ? "immutable" : "append-only",
                       attr & FS_IMMUTABLE_FL ? "+i" : "+a");
    if (strcmp(flag, "--log") != 0 && sn_fs_is_mount_point(target))   /* --log: in place */
        return sn_fail(SN_EUSAGE, "%s %s is a mount point (a file bound onto its name, as "
                       "docker -v or singularity --bind make): no rename can replace it, and "
                       "outputs are renamed into place; name another file", flag, out);
    return SN_OK;
}

/* A folder outputs are renamed into (renames=true) or files made in: one
 * that was removed (the shell's current folder, deleted by another shell:
 * access() still said writable), and, for renames, an immutable or
 * append-only one (chattr +i, +a: a new file can be made there but not
 * renamed), each found when the work is done, all of it lost. */
static int check_folder_takes(const char *dir, const struct stat *sd, bool renames,
                              const char *flag, const char *out)
{
    if (sd->st_nlink == 0)
        return sn_fail(SN_EUSAGE, "%s %s: the folder %s was removed (a shell still in it? cd "
                       "into it again, or give a folder that exists)", flag, out, dir);
    const int attr = inode_flags(dir, O_DIRECTORY);
    if (renames && (attr & (FS_IMMUTABLE_FL | FS_APPEND_FL)))
        return sn_fail(SN_EUSAGE, "%s %s: the folder %s is %s (chattr %s): files are written "
                       "beside their name and renamed into place, which it does not allow", flag,
                       out, dir, attr & FS_IMMUTABLE_FL ? "immutable" : "append-only",
                       attr & FS_IMMUTABLE_FL ? "+i" : "+a");
    return SN_OK;
}

/* /proc, /sys and /dev (by the real name of path, or of the nearest
 * folder above it that exists, or by its file system) hold kernel objects
 * and devices: files made there are not files on a disk, or cannot be
 * made.  /dev/shm is a file system in memory, for files. */
static int check_not_system(const char *dir, const char *flag)
{
    static const char *const sys[] = { "/proc", "/sys", "/dev" };
    char near[4096], real[PATH_MAX] = "";
    struct stat st;
    struct statfs fs;
    snprintf(near, sizeof near, "%s", dir);
    while (stat(near, &st) != 0) {
        char *slash = strrchr(near, '/');
        if (!slash || slash == near) {
            snprintf(near, sizeof near, "%s", slash ? "/" : ".");
            break;
        }
        *slash = '\0';
    }
    const char *in = statfs(near, &fs) != 0 ? NULL
                   : fs.f_type == PROC_SUPER_MAGIC ? "/proc"
                   : fs.f_type == SYSFS_MAGIC ? "/sys" : NULL;
    if (realpath(near, real))
        for (size_t i = 0; !in && i < sizeof sys / sizeof *sys; i++) {
            size_t n = strlen(sys[i]);
            if (strncmp(real, sys[i], n) == 0 && (real[n] == '\0' || real[n] == '/') &&
                !(strncmp(real, "/dev/shm", 8) == 0 && (real[8] == '\0' || real[8] == '/')))
                in = sys[i];
        }
    if (in)
        return sn_fail(SN_EUSAGE, "%s %s is in %s, whose entries are kernel objects and "
                       "devices, not files on a disk (give a folder on a disk)", flag, dir, in);
    return SN_OK;
}

/* One output: its final file (through links, sn_fs_output_target) into
 * target, whose folder must exist and be writable now, not after hours of
 * training; *so is what is there (st_mode 0: nothing yet). */
static int check_output(const char *out, const char *flag, char *target, size_t len,
                        struct stat *so)
{
    if (!out[0])
        return sn_fail(SN_EUSAGE, "%s: the file name is empty", flag);
    if (strlen(out) >= 4000)
        return sn_fail(SN_EUSAGE, "%s: the file name is longer than 3999 bytes", flag);
    if (sn_fs_output_target(out, target, len, so) != SN_OK)
        return sn_fail_prefix(SN_EUSAGE, "%s ", flag);
    char dir[4096], via[4200] = "";
    struct stat sd;
    folder_of(target, dir, sizeof dir);
    if (strcmp(target, out) != 0)
        snprintf(via, sizeof via, " (%s is a link to %s)", out, target);
    /* in any folder, not only this run's --checkpoint-dir: the file could be
     * another run's checkpoint or the lock file a running run holds, and
     * replacing that lock lets a third run into its folder */
    const char *base = strrchr(target, '/');
    if (sn_ckptdir_is_name(base ? base + 1 : target))
        return sn_fail(SN_EUSAGE, "%s %s%s: an output's file may not be named like a member of "
                       "a checkpoint folder (ckpt-<step>.h5, .lock): it could replace a run's "
                       "checkpoint or lock file (name the file otherwise)", flag, out, via);
    if (stat(dir, &sd) != 0 || !S_ISDIR(sd.st_mode))
        return sn_fail(SN_EUSAGE, "%s %s: the folder %s does not exist%s", flag, out, dir, via);
    if (access(dir, W_OK) != 0)
        return sn_fail(SN_EUSAGE, "%s %s: the folder %s is not writable%s", flag, out, dir, via);
    /* --log is made and appended to in place */
    int rc = check_folder_takes(dir, &sd, strcmp(flag, "--log") != 0, flag, out);
    if (rc)
        return rc;
    if (so->st_mode != 0 && S_ISDIR(so->st_mode))
        return sn_fail(SN_EUSAGE, "%s %s is a folder, not a file", flag, out);
    /* outputs are replaced by rename: a device node, a FIFO or a socket
     * under that name would be replaced (as root, /dev/null itself) */
    if (so->st_mode != 0 && !S_ISREG(so->st_mode))
        return sn_fail(SN_EUSAGE, "%s %s is %s: an output must be a regular file or not "
                       "exist", flag, out, sn_fs_kind(so));
    /* root may write in /sys's folders, but no file can be made there:
     * that showed only when the output was written, after the training */
    rc = check_not_system(target, flag);
    if (rc || so->st_mode == 0)
        return rc;
    /* the shell's > or >> into one of the run's own files: the lines went
     * into the log between its records (round 68 F2) */
    for (int fd = 1; fd <= 2; fd++) {
        struct stat ss;
        if (fstat(fd, &ss) == 0 && ss.st_dev == so->st_dev && ss.st_ino == so->st_ino)
            return sn_fail(SN_EUSAGE, "%s %s is this command's standard %s too (> or >> into "
                           "it): its lines would go into that file; send them elsewhere", flag,
                           out, fd == 1 ? "output" : "error");
    }
    /* a file its owner (this user) made read-only is kept as shell
     * redirection and cp keep it (root may write any: as for them, it is
     * replaced; another user's file is check_replaceable's) */
    if (so->st_uid == geteuid() && access(target, W_OK) != 0 && errno == EACCES)
        return sn_fail(SN_EUSAGE, "%s %s is read-only: this output would replace it (remove "
                       "it first, or chmod u+w it)", flag, out);
    rc = strcmp(flag, "--log") != 0 ? cli_log_guard(out, flag) : SN_OK;
    return rc ? rc : check_replaceable(out, flag, target, so, &sd);
}

/* What each output's file was when it was checked: the rename at the end
 * replaces it only if it is still that (two runs with one --out both
 * renamed over the other's file, exit 0; a log made at the name while a
 * command ran was lost). */
#define WATCHED_MAX 16
static struct watched {
    char path[4096], target[4096];   /* as given, and the file it led to */
    bool there;
    struct sn_file_stamp st;
} watched[WATCHED_MAX];
static int n_watched;

static void watch_output(const char *path, const char *target)
{
    struct watched *w = NULL;
    for (int i = 0; i < n_watched && !w; i++)
        if (strcmp(watched[i].path, path) == 0)
            w = &watched[i];
    if (!w && n_watched == WATCHED_MAX)
        return;
    if (!w)
        w = &watched[n_watched++];
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->target, sizeof w->target, "%s", target);
    w->there = sn_fs_stamp(target, &w->st) == 0;
}

int cli_replace_guard(const char *path, const char *target, const char *tmp)
{
    struct stat st;
    if (stat(target, &st) == 0 && !S_ISREG(st.st_mode))   /* a FIFO made there meanwhile */
        return sn_fail(SN_EUSAGE, "%s became %s while this command ran: it was not replaced; "
                       "the output is kept as %s", target, sn_fs_kind(&st), tmp);
    int rc = lstat(target, &st) == 0 ? cli_log_replace_guard(target, tmp) : SN_OK;
    for (int i = 0; i < n_watched && !rc; i++) {
        struct watched *w = &watched[i];
        if (strcmp(w->path, path) != 0)
            continue;
        if (strcmp(w->target, target) != 0 && strcmp(w->target, path) == 0)   /* made a link */
            return sn_fail(SN_EUSAGE, "%s was no link when the command started and is a link to "
                           "%s now: it was not written through; the output is kept as %s", path,
                           target, tmp);
        if (strcmp(w->target, target) != 0)   /* a link re-pointed meanwhile */
            return sn_fail(SN_EUSAGE, "%s led to %s when the command started and to %s now: it "
                           "was not written through; the output is kept as %s", path,
                           w->target, target, tmp);
        struct sn_file_stamp now;
        const bool there = sn_fs_stamp(target, &now) == 0;
        if (there && (!w->there || !sn_fs_stamp_same(&now, &w->st)))   /* gone: nothing lost */
            return sn_fail(SN_EUSAGE, "%s %s while this command ran (another run wrote it?): it "
                           "was not replaced; the output is kept as %s", target,
                           w->there ? "changed" : "appeared", tmp);
        w->there = sn_fs_stamp(tmp, &w->st) == 0;   /* what the rename puts there */
    }
    return rc;
}

/* An output replaces a dataset or a model's file only when it writes one
 * of that kind: convert's -o a dataset, train's --out weights.  predict -o
 * onto last week's weights, or --out onto a dataset, lost them. */
static bool writes_datasets;

void cli_outputs_write_datasets(void)
{
    writes_datasets = true;
}

static bool writes_onnx;

void cli_outputs_write_onnx(void)
{
    writes_onnx = true;
}

static bool writes_predictions;

void cli_outputs_write_predictions(void)
{
    writes_predictions = true;
}

/* A protobuf varint from fp (at most 10 bytes); false at its end. */
static bool read_varint(FILE *fp, uint64_t *v)
{
    *v = 0;
    for (int i = 0, c; i < 10 && (c = getc(fp)) != EOF; i++) {
        *v |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80))
            return true;
    }
    return false;
}

/* Whether fp holds an ONNX ModelProto, field by field to its end: the
 * ir_version first, 3 to 15 (TensorFlow's saved_model.pb starts with 1),
 * then only ModelProto's fields, each of its wire type, and a graph.  Core
 * ML's Model starts as ONNX does (its version, then a length-delimited
 * field 2) and was replaced; its model is field 200 or more.  Its
 * producer_name (field 2) into producer (up to 31 bytes, "" without). */
static bool onnx_model(FILE *fp, char producer[32])
{
    producer[0] = '\0';
    uint64_t key, v;
    if (fseek(fp, 0, SEEK_END) != 0)
        return false;
    const long size = ftell(fp);
    rewind(fp);
    if (!read_varint(fp, &key) || key != 0x08 || !read_varint(fp, &v) || v < 3 || v > 15)
        return false;
    bool graph = false;   /* each field a few bytes at least: bounded by the file's size */
    for (long fields = 1; read_varint(fp, &key); fields++) {
        if (fields % (1 << 20) == 0 && sn_interrupt_pending())
            return false;   /* the command stops at its next look */
        const uint64_t field = key >> 3, wire = key & 7;
        const bool varint = field == 5, bytes = (field >= 2 && field <= 8 && field != 5) ||
                                                 field == 14 || field == 20 || field == 25;
        if (!(varint && wire == 0) && !(bytes && wire == 2))
            return false;
        if (!read_varint(fp, &v) || (wire == 2 && v > (uint64_t)(size - ftell(fp))))
            return false;   /* cut short, or no protobuf */
        const size_t name = field == 2 && wire == 2 ? (size_t)(v < 31 ? v : 31) : 0;
        if (name && fread(producer, 1, name, fp) != name)
            return false;
        producer[name] = field == 2 ? '\0' : producer[name];
        if (wire == 2 && fseek(fp, (long)(v - name), SEEK_CUR) != 0)
            return false;
        graph = graph || field == 7;
    }
    return graph && feof(fp);
}

/* The file kinds that are not HDF5: a model file (sn_fs_is_model_text)
 * and an ONNX model (onnx_model), *ours when scratchnet export wrote it
 * (another program's, a PyTorch export, export -o does not replace).
 * NULL for anything else. */
static const char *text_kind(const char *path, bool *onnx, bool *ours)
{
    static char what[96];
    char producer[32] = "";
    FILE *fp = sn_fs_open_regular(path);
    *onnx = fp && onnx_model(fp, producer);
    *ours = *onnx && strcmp(producer, "scratchnet") == 0;
    if (fp)
        fclose(fp);
    sn_text_clean(producer, false);   /* from the file, shown on a terminal */
    if (producer[0])
        snprintf(what, sizeof what, "an ONNX model of another program (producer '%s')", producer);
    else
        snprintf(what, sizeof what, "an ONNX model of another program (no producer named)");
    return *ours ? "an ONNX model" : *onnx ? what
           : sn_fs_is_model_text(path) ? "a model file" : NULL;
}

/* The names of the files scratchnet writes in binary: a link under such a
 * name must lead to one of them too. */
#define BINARY_EXTS ".h5 .hdf5 .onnx"

/* A reading of a file as one JSON object, byte by byte, enough to tell a
 * trace from other JSON: the depth, whether a string is open, the start of
 * the last string and whether the key "traceEvents" of the top-level
 * object holds an array. */
struct trace_scan {
    int depth;
    bool in_string, escaped;
    char name[12];
    size_t len;
    int after;   /* 1 after the key "traceEvents", 2 after its ':' */
    bool key, closed;
    bool producer;   /* the last string at depth 2 was "producer" */
    bool ours;       /* "producer": "scratchnet" in a top-level object (otherData) */
};

/* Takes one byte; false when the file can no longer be one trace: a NUL
 * (no JSON), a first value that is not an object, or anything but blanks
 * after the object closed (JSON Lines, a trace with other data after it). */
static bool trace_byte(struct trace_scan *s, int c)
{
    const bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (c == '\0' || (s->closed && !blank))
        return false;
    if (s->in_string) {
        if (s->escaped)
            s->escaped = false;
        else if (c == '\\')
            s->escaped = true;
        else if (c == '"') {
            s->in_string = false;
            s->after = s->depth == 1 && s->len == 11 && !memcmp(s->name, "traceEvents", 11);
            if (s->depth == 2) {
                s->ours = s->ours || (s->producer && s->len == 10 &&
                                      !memcmp(s->name, "scratchnet", 10));
                s->producer = s->len == 8 && !memcmp(s->name, "producer", 8);
            }
            return true;
        }
        if (s->len < sizeof s->name)
            s->name[s->len] = (char)c;
        s->len++;
        return true;
    }
    if (blank)
        return true;
    if (s->after == 1 && c == ':') {
        s->after = 2;
        return true;
    }
    s->key = s->key || (s->after == 2 && c == '[');
    s->after = 0;
    if (s->depth == 0 && c != '{')
        return false;
    if (c == '"') {
        s->in_string = true;
        s->len = 0;
    } else if (c == '{' || c == '[')
        s->depth++;
    else if (c == '}' || c == ']')
        s->closed = --s->depth == 0;
    return true;
}

/* Whether the file at path is a trace (Chrome's JSON trace format, as
 * --trace writes it): after a UTF-8 byte-order mark and blanks, one JSON
 * object whose key "traceEvents" holds an array, and nothing after it but
 * blanks.  The whole file is read (a trace is written whole, through a
 * temporary file): a TOML or INI file's "[section]", a README's "[![badge]",
 * a notebook's JSON, a JSON Schema naming "traceEvents" in "required", JSON
 * Lines of traces and a trace with other data after it are no trace.  *ours
 * when scratchnet wrote it ("producer": "scratchnet" in its otherData). */
static bool trace_like(const char *path, bool *ours)
{
    *ours = false;
    FILE *fp = sn_fs_open_regular(path);
    if (!fp)
        return false;
    unsigned char bom[3];
    if (fread(bom, 1, 3, fp) != 3 || memcmp(bom, "\xef\xbb\xbf", 3) != 0)
        rewind(fp);
    struct trace_scan s = {0};
    bool ok = true;
    long n = 0;
    for (int c; ok && (c = getc(fp)) != EOF;)   /* a stop is looked for each MiB */
        ok = trace_byte(&s, c) && (++n % (1L << 20) != 0 || !sn_interrupt_pending());
    fclose(fp);
    *ours = ok && s.closed && s.key && s.ours;
    return ok && s.closed && s.key;
}

/* The first bytes of a file that is not HDF5, for an output of another
 * kind that would replace it: a binary output (weights, a dataset, an ONNX
 * model, predictions in HDF5) only replaces a file of HDF5 or ONNX data,
 * and --trace only a JSON file, named directly or through a link (a
 * Makefile, a script, notes.h5 were replaced without a word).  Empty files
 * are taken (mktemp's). */
static int other_guard(const char *out, const char *flag, bool onnx)
{
    char target[4096];
    struct stat st;
    const bool trace = strcmp(flag, "--trace") == 0;
    const bool binary = !trace && (writes_datasets || writes_onnx || strcmp(flag, "--out") == 0 ||
                                   sn_text_ext_in(out, BINARY_EXTS));
    if ((!binary && !trace) || onnx ||
        sn_fs_output_target(out, target, sizeof target, &st) != SN_OK || !S_ISREG(st.st_mode) ||
        st.st_size == 0 || sn_fs_is_hdf5(target))
        return SN_OK;
    bool ours = false;
    const bool a_trace = trace && trace_like(target, &ours);
    if (trace && !a_trace && sn_interrupt_pending())   /* the reading was stopped: no answer */
        return sn_interrupt_check("checking the existing output");
    if (ours)
        return SN_OK;
    const char *what = a_trace ? "a trace that does not name scratchnet its producer (otherData: "
                                 "another program's, or an older scratchnet's)"
                     : trace   ? "no trace (Chrome's JSON trace format)"
                               : "neither HDF5 nor ONNX data";
    if (strcmp(target, out) != 0)
        return sn_fail(SN_EUSAGE, "%s %s is a link to %s, which holds %s: this output would "
                       "replace it (remove the link, or name another file)", flag, out, target,
                       what);
    return sn_fail(SN_EUSAGE, "%s %s holds %s, which this output would replace (remove it "
                   "first, or name another file)", flag, out, what);
}

static int kind_guard(const char *out, const char *flag)
{
    if (strcmp(flag, "--log") == 0)
        return SN_OK;   /* appended to, never replaced: cli_log_guard refuses all but a log */
    bool onnx, ours;
    const char *held = text_kind(out, &onnx, &ours);
    if (!held && sn_interrupt_pending())   /* the ONNX walk was stopped: no answer */
        return sn_interrupt_check("checking the existing output");
    if (held && !(ours && writes_onnx))
        return sn_fail(SN_EUSAGE, "%s %s holds %s, which this output would replace (remove it "
                       "first, or name another file)", flag, out, held);
    if (sn_fs_hdf5_after_other_data(out))   /* a tar of weights reads as its first member */
        return sn_fail(SN_EUSAGE, "%s %s holds other data before an HDF5 part (a tar archive?), "
                       "which this output would replace (remove it first, or name another file)",
                       flag, out);
    const enum sn_file_kind k = sn_file_kind(out);
    const bool weights_out = !writes_datasets && strcmp(flag, "--out") == 0;
    if (k == SN_FILE_UNKNOWN && sn_interrupt_pending())   /* the check was stopped */
        return sn_interrupt_check("checking the existing output");
    if (k == SN_FILE_UNKNOWN && sn_h5_probe_unstarted())   /* the machine's, not the file's */
        return sn_fail_prefix(SN_EIO, "%s ", flag);
    if (k == SN_FILE_UNKNOWN) {   /* it may be a checkpoint, a dataset, weights */
        /* on a file system without locks every HDF5 file fails alike: that
         * fix first, not the removal of a sound file */
        const bool locks = strstr(sn_errmsg(), "HDF5_USE_FILE_LOCKING") != NULL;
        sn_fail_prefix(SN_EUSAGE, "%s %s is a file whose contents cannot be checked (", flag, out);
        return sn_fail_suffix(SN_EUSAGE, "), so this output would replace what it cannot tell "
                              "(%sremove it first, or name another file)",
                              locks ? "if its file system has no file locks, set "
                                      "HDF5_USE_FILE_LOCKING=FALSE and run again; if it is "
                                      "damaged, " : "");
    }
    /* each HDF5 output replaces its own kind alone; no output is a
     * checkpoint (train --out writes weights alone) or another program's
     * HDF5 (a user's h5py data, a Keras model) */
    const bool own = (k == SN_FILE_DATASET && writes_datasets) ||
                     (k == SN_FILE_WEIGHTS && weights_out) ||
                     (k == SN_FILE_PREDICTIONS && writes_predictions);
    if (k != SN_FILE_OTHER && !own)
        return sn_fail(SN_EUSAGE, "%s %s holds %s, which this output would replace (remove it "
                       "first, or name another file)", flag, out, sn_file_kind_words(k));
    return other_guard(out, flag, onnx);
}

/* An output under a name other readers take for another format (train
 * --out model.onnx writes HDF5, export -o m.h5 an ONNX model): written as
 * asked, and said (the name is the user's). */
static void warn_format_name(const char *out, const char *flag)
{
    const bool weights = !writes_datasets && !writes_onnx && strcmp(flag, "--out") == 0;
    char target[4096];
    struct stat st;
    if (sn_dist_rank() != 0)
        return;
    /* the file written: a link's target's name, not the link's */
    const char *name = sn_fs_output_target(out, target, sizeof target, &st) == SN_OK ? target
                                                                                     : out;
    char shown[9000];   /* the output as named, and the file a link leads to */
    if (strcmp(name, out) != 0)
        snprintf(shown, sizeof shown, "%s (a link to %s)", cli_line(out), cli_line(name));
    else
        snprintf(shown, sizeof shown, "%s", cli_line(out));
    if ((!strcmp(flag, "--trace") || !strcmp(flag, "--log")) &&
        sn_text_ext_in(name, CLI_HDF5_EXTS " .onnx .png .csv"))
        cli_eprintf("scratchnet: warning: %s %s: the file is %s, though its name ends in %s\n",
                    flag, shown, !strcmp(flag, "--trace") ? "a JSON trace"
                                                                   : "a JSON Lines log",
                    sn_text_ext(name));
    if (writes_onnx && !sn_text_ext_in(name, ".onnx"))
        cli_eprintf("scratchnet: warning: %s %s: the file is an ONNX model, though its name does "
                    "not end in .onnx\n", flag, shown);
    if ((weights || writes_datasets) && !sn_text_ext_in(name, CLI_HDF5_EXTS))
        cli_eprintf("scratchnet: warning: %s %s: the file is HDF5 (%s), though its name does not "
                    "end in .h5%s\n", flag, shown,
                    weights ? "a model's weights" : "a dataset",
                    weights && sn_text_ext_in(name, ".onnx") ? "; scratchnet export writes an ONNX "
                                                               "model from it" : "");
}

int cli_check_outputs(const char *const *outputs, const char *const *out_flags, int n_out,
                      const char *const *inputs, const char *const *in_flags, int n_in)
{
    for (int i = 0; i < n_out; i++) {
        struct stat so, si;
        char target[4096], other[4096];
        if (!outputs[i])
            continue;
        int rc = check_output(outputs[i], out_flags[i], target, sizeof target, &so);
        if (rc)
            return rc;
        watch_output(outputs[i], target);
        for (int j = 0; j < i; j++)
            if (outputs[j] && sn_fs_output_target(outputs[j], other, sizeof other, &si) == SN_OK &&
                same_place(target, other))
                return sn_fail(SN_EUSAGE, "%s %s is also the %s file", out_flags[i], outputs[i],
                               out_flags[j]);
        if (so.st_mode == 0)
            continue;   /* not there yet: it cannot be an input */
        for (int j = 0; j < n_in; j++)
            if (inputs[j] && stat(inputs[j], &si) == 0 && si.st_dev == so.st_dev &&
                si.st_ino == so.st_ino)
                return sn_fail(SN_EUSAGE, "%s %s is the %s file: writing it would destroy an input",
                               out_flags[i], outputs[i], in_flags[j]);
        if ((rc = kind_guard(outputs[i], out_flags[i])))
            return rc;
    }
    for (int i = 0; i < n_out; i++)
        if (outputs[i])
            warn_format_name(outputs[i], out_flags[i]);
    return SN_OK;
}

int cli_make_folder(const char *dir, const char *flag, char *made, size_t made_len)
{
    struct stat st;
    made[0] = '\0';
    if (!dir[0])
        return sn_fail(SN_EUSAGE, "%s: the folder name is empty", flag);
    int rc = check_not_system(dir, flag);
    if (rc)
        return rc;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return sn_fail(SN_EUSAGE, "%s %s: not a folder (it is %s)", flag, dir,
                           sn_fs_kind(&st));
        if (access(dir, W_OK | X_OK) != 0)
            return sn_fail(SN_EUSAGE, "%s %s: the folder is not writable", flag, dir);
        return check_folder_takes(dir, &st, true, flag, dir);
    }
    if (strlen(dir) >= made_len)
        return sn_fail(SN_EUSAGE, "%s: the folder name is too long", flag);
    /* only what this process made: two runs may both find it missing */
    rc = sn_fs_mkdirs_made(dir, made, made_len);
    if (rc) {
        made[0] = '\0';
        return sn_fail_prefix(SN_EUSAGE, "%s: ", flag);
    }
    return SN_OK;
}

void cli_undo_outputs(const char *file, bool file_created, const char *dir, const char *made)
{
    struct stat st;
    char target[4096];   /* through a link: the file made, not the link */
    if (file && file_created && sn_fs_output_target(file, target, sizeof target, &st) == SN_OK &&
        S_ISREG(st.st_mode) && st.st_size == 0)
        remove(target);
    if (!dir || !made || !made[0])
        return;
    /* from dir up to made, each only if empty: a lock file in it is the
     * run's that holds it (the trainer removes its own, src/train) */
    char p[4200];
    snprintf(p, sizeof p, "%s", dir);
    while (rmdir(p) == 0 && strcmp(p, made) != 0) {
        char *slash = strrchr(p, '/');
        if (!slash || (size_t)(slash - p) < strlen(made))
            break;
        *slash = '\0';
    }
}

/* OMP_NUM_THREADS as libgomp reads it: a positive integer, or a list of
 * them for nested levels ("4,2") whose first is ours, blanks around each
 * taken.  libgomp ignores any other value (an empty one, "2,") with a
 * complaint of its own, so those are refused here rather than run with
 * a count nobody chose.  False when unset. */
static bool omp_threads_of(const char *env, int *n, int *rc)
{
    *rc = SN_OK;
    if (!env)
        return false;
    long long first = 0;
    const char *at = env;
    for (int item = 0; !*rc; item++) {
        char num[32];
        at += strspn(at, " \t");
        size_t len = strcspn(at, ","), used = len;
        while (len > 0 && (at[len - 1] == ' ' || at[len - 1] == '\t'))
            len--;
        long long v = 0;
        if (len == 0 || len >= sizeof num)
            *rc = SN_EUSAGE;
        else {
            memcpy(num, at, len);
            num[len] = '\0';
            *rc = sn_parse_int(num, 1, item ? LLONG_MAX : CLI_MAX_THREADS, &v) ? SN_EUSAGE : 0;
        }
        first = item ? first : v;
        if (!at[used])
            break;
        at += used + 1;
    }
    if (*rc)
        *rc = sn_fail(SN_EUSAGE, "OMP_NUM_THREADS='%.40s': expected an integer in [1, %d], or a "
                      "list of positive integers such as 4,2 (or give --threads, or unset it)",
                      env, CLI_MAX_THREADS);
    *n = (int)first;
    return true;
}

/* What a rank runs on, for rank 0's count of a host's cores. */
struct core_use {
    int host, threads, cores, online;   /* cores: the count of mask; online: the host's */
    unsigned long long mask[SN_PARALLEL_MASK_WORDS];
    char name[SN_HOST_BYTES];
};

/* Host host's threads against the cores its ranks may use together
 * (all: every rank's record); said when more, true then. */
static bool warn_host(const struct core_use *all, int P, int host, bool several)
{
    unsigned long long u[SN_PARALLEL_MASK_WORDS] = { 0 };
    long ranks = 0, want = 0, have = 0;
    bool single = true, bound = false;
    const char *name = "";
    for (int r = 0; r < P; r++) {
        if (all[r].host != host)
            continue;
        if (all[r].cores <= 0)   /* a rank whose cores cannot be named: nothing said */
            return false;
        name = all[r].name;
        ranks++;
        want += all[r].threads;
        single &= all[r].threads == 1;
        bound |= all[r].cores < all[r].online;
        for (int w = 0; w < SN_PARALLEL_MASK_WORDS; w++)
            u[w] |= all[r].mask[w];
    }
    for (int w = 0; w < SN_PARALLEL_MASK_WORDS; w++)
        have += __builtin_popcountll(u[w]);
    if (ranks == 0 || want <= have)
        return false;
    char where[160], s_have[2] = { have == 1 ? '\0' : 's', '\0' };
    snprintf(where, sizeof where, "%s%s%s", !bound ? (ranks == 1 || single ? "this host's"
             : "this host's, for its ranks") : ranks == 1 ? "the cores this rank is bound to"
             : "the cores this host's ranks may use", several ? ", " : "", several ? name : "");
    if (single)   /* fewer threads cannot help: the ranks are too many */
        cli_eprintf("scratchnet: warning: %ld ranks on %ld core%s (%s): ranks that share a core "
                    "slow every step, as each step waits for the slowest; use at most %ld rank%s "
                    "on %s\n", ranks, have, s_have, where, have, s_have,
                    several ? name : "this host");
    else
        cli_eprintf("scratchnet: warning: %ld threads on %ld core%s (%s): threads that share a "
                    "core can wait for each other, spinning (--threads %ld is usually faster; "
                    "compare the two with --profile)\n", want, have, s_have, where,
                    have / ranks > 0 ? have / ranks : 1);
    return true;
}

/* More threads than cores: they wait for each other, spinning.  A rank
 * knows only the cores it may run on (a cpuset, mpirun's --bind-to), so
 * rank 0 gathers every rank's and counts each host's threads against the
 * cores its ranks may use together (two ranks confined to one core each
 * saw one thread on one core).  Collective; one warning, for the first
 * host that has too many. */
static void warn_shared_cores(int threads)
{
    struct sn_dist_hosts h;
    sn_dist_hosts(&h);
    struct core_use me = { .host = h.host, .threads = threads };
    me.cores = sn_parallel_core_mask(me.mask);
    me.online = (int)sysconf(_SC_NPROCESSORS_ONLN);
    sn_text_host(me.name, sizeof me.name);
    const int P = sn_dist_size();
    struct core_use *all = sn_dist_rank() == 0 ? calloc((size_t)P, sizeof *all) : NULL;
    if (sn_dist_agree(sn_dist_rank() != 0 || all ? SN_OK : SN_ENOMEM) ||
        sn_dist_gather(&me, all, sizeof me) != SN_OK || !all) {
        free(all);
        return;   /* a warning only */
    }
    for (int host = 0; host < h.n_hosts && !warn_host(all, P, host, h.n_hosts > 1); host++)
        ;
    free(all);
}

/* The smallest OpenMP thread stack let through: a convolution crashed
 * (SIGSEGV) on stacks of 72 KiB, libgomp could not start threads below
 * about 70 KiB ("Thread creation failed"), and every bundled model ran on
 * 128 KiB; twice that. */
#define OMP_MIN_STACK ((size_t)256 << 10)

/* OMP_STACKSIZE (else GOMP_STACKSIZE) as libgomp reads it: a whole number
 * with an optional unit B, K, M or G (K when none), blanks around it;
 * into *bytes, 0 when neither is set.  One libgomp would ignore with a
 * complaint of its own, or a stack too small for the kernels, refused. */
static int omp_stack_of(size_t *bytes)
{
    const char *name = getenv("OMP_STACKSIZE") ? "OMP_STACKSIZE" : "GOMP_STACKSIZE";
    const char *env = getenv(name);
    *bytes = 0;
    if (!env)
        return SN_OK;
    char num[32];
    const char *at = env + strspn(env, " \t");
    size_t len = strspn(at, "0123456789"), shift = 10;
    const char *unit = at + len + strspn(at + len, " \t");
    if (*unit && strchr("bBkKmMgG", *unit)) {
        shift = strchr("bB", *unit) ? 0 : strchr("kK", *unit) ? 10 : strchr("mM", *unit) ? 20 : 30;
        unit++;
    }
    long long v = 0;
    bool ok = len > 0 && len < sizeof num && !unit[strspn(unit, " \t")];
    if (ok) {
        memcpy(num, at, len);
        num[len] = '\0';
        ok = sn_parse_int(num, 1, (long long)(((size_t)1 << 40) >> shift), &v) == SN_OK;
    }
    if (!ok || ((size_t)v << shift) < OMP_MIN_STACK)
        return sn_fail(SN_EUSAGE, "%s='%.40s': expected a stack size of at least 256K (a number "
                       "with a unit B, K, M or G, K when none) up to 1024G: the kernels need %s "
                       "(or unset it)", name, env, ok ? "more" : "a size they can read");
    *bytes = (size_t)v << shift;
    return SN_OK;
}

int cli_env_threads(int *n)
{
    int rc;
    if (!omp_threads_of(getenv("OMP_NUM_THREADS"), n, &rc))
        *n = 0;
    return rc;
}

/* Whether this process is root of the machine, not root in a user
 * namespace (a rootless container, unshare -r), which the kernel still
 * holds to the outside user's process limit (round 68 F1). */
static bool initial_root(void)
{
    if (getuid() != 0)
        return false;
    FILE *f = fopen("/proc/self/uid_map", "r");
    unsigned long inside = 1, outside = 1, count = 0;
    const bool whole = f && fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3 &&
                       inside == 0 && outside == 0 && count == 4294967295UL;
    if (f)
        fclose(f);
    return whole;
}

/* Threads this user may still start under the process limit (ulimit -u,
 * which counts every thread of the real user; root is not held to it):
 * the limit less the threads of the user's processes now, INT_MAX when
 * there is no limit. */
static int thread_room(long *limit)
{
    struct rlimit rl;
    *limit = -1;
    if (initial_root() || getrlimit(RLIMIT_NPROC, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return INT_MAX;
    DIR *d = opendir("/proc");
    long long used = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char path[300], line[256];
        if (strspn(e->d_name, "0123456789") != strlen(e->d_name) ||
            snprintf(path, sizeof path, "/proc/%s/status", e->d_name) >= (int)sizeof path)
            continue;
        FILE *f = fopen(path, "r");
        long uid = -1, threads = 0;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "Uid: %ld", &uid) == 1 && uid != (long)getuid())
                break;   /* another user's */
            else if (sscanf(line, "Threads: %ld", &threads) == 1 && uid == (long)getuid())
                used += threads;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    *limit = rl.rlim_cur > LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
    const long long room = (long long)*limit - used;
    return room < 0 ? 0 : room > INT_MAX ? INT_MAX : (int)room;
}

/* cli_setup_threads on this rank, before the ranks agree. */
static int setup_threads(long requested, int *threads)
{
    int n, rc = SN_OK;
    if (requested > 0) {
        n = (int)requested;
    } else if (omp_threads_of(getenv("OMP_NUM_THREADS"), &n, &rc)) {
        if (rc)
            return rc;
    } else {
        int local = sn_dist_local_size();
        n = sn_parallel_cores() / (local > 0 ? local : 1);
        if (n < 1)
            n = 1;
    }
    const int limit = sn_parallel_thread_limit();
    if (n > limit && sn_dist_rank() == 0)   /* more would leave OpenBLAS waiting forever */
        cli_eprintf("scratchnet: warning: %d threads asked for; %s lets OpenMP run %d, and the "
                    "run uses %d\n", n, getenv("OMP_THREAD_LIMIT") ? "OMP_THREAD_LIMIT"
                    : "OMP_MAX_ACTIVE_LEVELS", limit, limit);
    n = n > limit ? limit : n;
    long nproc;   /* libgomp's "Thread creation failed", with no word of the limit */
    const int room = thread_room(&nproc);
    if (n - 1 > room && sn_dist_rank() == 0)
        cli_eprintf("scratchnet: warning: %d threads asked for; the process limit (ulimit -u "
                    "%ld) leaves this user room for %d more, and the run uses %d\n", n, nproc,
                    room, room + 1);
    n = n - 1 > room ? room + 1 : n;
    long pids;
    const int tasks = sn_parallel_task_room(&pids);
    if (n - 1 > tasks && sn_dist_rank() == 0)
        cli_eprintf("scratchnet: warning: %d threads asked for; the cgroup's pids.max (%ld) "
                    "leaves room for %d more, and the run uses %d\n", n, pids, tasks, tasks + 1);
    n = n - 1 > tasks ? tasks + 1 : n;
    size_t stack;
    if ((rc = omp_stack_of(&stack)))
        return rc;
    /* each thread's stack is committed at its start: more than the memory
     * ended the run in libgomp's "Thread creation failed", with no limit set */
    const double memory = 2.0 * sn_memory_half(), stacks = (double)stack * n;
    if (memory > 0 && stacks > memory)
        return sn_fail(SN_EUSAGE, "%s=%s for %d thread%s reserves %.0f MB of stacks, more than "
                       "the %.0f MB of memory this process may use: a smaller one (a few MB is "
                       "plenty), or fewer threads", getenv("OMP_STACKSIZE") ? "OMP_STACKSIZE"
                       : "GOMP_STACKSIZE", getenv("OMP_STACKSIZE") ? getenv("OMP_STACKSIZE")
                       : getenv("GOMP_STACKSIZE"), n, n == 1 ? "" : "s", stacks / 1e6,
                       memory / 1e6);
    if ((rc = sn_blas_use_threads(n, stack)))
        return rc;
    const int run = sn_parallel_threads() < n ? sn_parallel_threads() : n;
    if (run < n && sn_dist_rank() == 0)   /* OpenBLAS's build caps it (64 in Debian's) */
        cli_eprintf("scratchnet: warning: %d threads asked for; this build runs at most %d, "
                    "and the run uses %d\n", n, run, run);
    *threads = run;
    return SN_OK;
}

/* OpenBLAS's fallback on a processor it did not recognise, said once:
 * nothing else shows it but --version, and the run is slower by the
 * kernels alone (user 45 U1: 2.5 times on this machine's Xeon). */
static void warn_older_kernels(void)
{
    const char *running, *better = sn_blas_better_core(&running);
    if (better && sn_dist_rank() == 0)
        cli_eprintf("scratchnet: warning: OpenBLAS did not recognise this processor and runs "
                    "its %s kernels, which use none of its AVX2%s: OPENBLAS_CORETYPE=%s in the "
                    "environment (of every rank) is likely several times faster; compare the "
                    "two (docs/PERFORMANCE.md)\n", running,
                    strcmp(better, "SkylakeX") ? "" : " or AVX-512", better);
}

int cli_setup_threads(long requested, int *threads)
{
    *threads = 1;
    int rc = sn_dist_agree(setup_threads(requested, threads));
    if (!rc) {
        warn_shared_cores(*threads);
        warn_older_kernels();
    }
    return rc;
}

struct rank_info {
    int rank, threads;
    long pid;
    char host[SN_HOST_BYTES];
};

struct cli_cpu_use cli_cpu_use_now(void)
{
    struct cli_cpu_use u = { sn_parallel_cores_busy_s(), 0, sn_clock_s() };
    struct rusage r;
    if (getrusage(RUSAGE_SELF, &r) == 0)
        u.mine = (double)r.ru_utime.tv_sec + (double)r.ru_stime.tv_sec +
                 1e-6 * (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
    return u;
}

/* OpenMP threads spin while they wait for each other: with other work on
 * their cores, each wait lasts until the scheduler takes a spinner off.
 * mlp, 400 steps, a busy loop beside it on 2 cores: 2 threads 32,900
 * images/s, --threads 1 78,600; eval of Fashion-MNIST's 60,000 training
 * images 5.2 s against 0.8 s.  Said when other work kept half a core or
 * more of this rank's cores busy, more than its threads left free. */
void cli_warn_busy_cores(struct cli_cpu_use before, int threads, bool long_enough, const char *did)
{
    const struct cli_cpu_use now = cli_cpu_use_now();
    const double wall = now.wall - before.wall, cores = (double)sn_parallel_cores();
    const double others = ((now.cores - before.cores) - (now.mine - before.mine)) / wall;
    if (sn_dist_rank() != 0 || threads < 2 || !long_enough || wall < 0.2 ||
        before.cores <= 0 || others < 0.5 || others + threads <= cores + 0.5)
        return;
    const int free_cores = (int)(cores - others + 0.5);
    const char *wait = getenv("OMP_WAIT_POLICY");
    const bool passive = wait && strcasecmp(wait, "passive") == 0;   /* then they sleep */
    cli_eprintf("scratchnet: warning: other work kept %.1f of rank 0's %.0f cores busy while it "
                "%s with %d threads, and threads that wait for each other %s: "
                "--threads %d%s may run much faster\n", others, cores, did, threads,
                passive ? "lose their turn" : "spin", free_cores > 1 ? free_cores : 1,
                passive ? "" : " or OMP_WAIT_POLICY=passive");
}

int cli_print_ranks(int threads)
{
    struct rank_info me = { .rank = sn_dist_rank(), .threads = threads, .pid = (long)getpid() };
    sn_text_host(me.host, sizeof me.host);
    int P = sn_dist_size();
    struct rank_info *all = sn_dist_rank() == 0 ? calloc((size_t)P, sizeof *all) : NULL;
    if (sn_dist_rank() == 0 && !all)
        return sn_fail(SN_ENOMEM, "out of memory");
    int rc = sn_dist_gather(&me, all, sizeof me);
    if (!rc && all) {
        cli_printf("scratchnet: %d rank%s (%s)\n"
                       "  rank  host                      threads  pid\n", P,
                   P == 1 ? "" : "s", sn_dist_backend());
        for (int r = 0; r < P; r++)
            cli_printf("  %4d  %-24s  %7d  %ld\n", all[r].rank, all[r].host, all[r].threads,
                       all[r].pid);
        fflush(stdout);
    }
    free(all);
    return rc;
}

void cli_relay_stops(void)
{
    if (sn_dist_size() > 1)
        sn_interrupt_relay(sn_dist_stop_relay);
}

void cli_await_rank0(void)
{
    sn_dist_await_rank0();
}
