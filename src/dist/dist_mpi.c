/* dist_mpi: the dist interface on MPI (the only file that includes mpi.h).
 *
 * MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenMP threads never
 * do.  MPI_ERRORS_RETURN on every communicator so a failed call comes back
 * here as a status and the command can end every rank cleanly.  Every
 * collective is entered and left in the flight recorder (flight.c).
 *
 * Communicators: the world; the host's ranks (node: MPI_Comm_split_type,
 * or consecutive blocks for SN_DIST_FAKE_HOSTS); the hosts' leaders (the
 * first rank of each host).  MPI matches collectives by the order each
 * rank starts them on a communicator, and a rank's compressed wire starts
 * the allgather of one bucket before or after the alltoall of the next as
 * its data arrives: each of the two runs on a duplicate of the group's
 * communicator of its own, where every rank starts them in bucket order.
 *
 * Alone (sn_dist_init_alone): a process that no launcher started does not
 * start MPI at all, because Open MPI's singleton start forks a daemon and
 * takes half a second or more, longer than most commands.  Every function
 * then does what it does for a world of one rank without calling MPI:
 * collectives are identities, the gathers copy, host arenas are plain
 * memory.
 */
#include "dist/dist.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/checked.h"
#include "core/interrupt.h"
#include "core/number.h"
#include "core/status.h"
#include "core/text.h"

static int world_rank, world_size = 1, local_size = 1;
static bool alone;   /* one process, MPI never started */
static bool running;   /* sn_dist_running */
static bool adopted;   /* MPI the program started itself: not ours to end */
static MPI_Errhandler host_errors;   /* that program's handler of MPI_COMM_WORLD, given back */
static size_t chunk = INT_MAX;   /* elements per MPI call (sn_dist_set_chunk) */
static struct sn_dist_hosts hosts = { 1, 0, 0, 1, 1 };
static MPI_Comm node_comm = MPI_COMM_NULL, leaders_comm = MPI_COMM_NULL;
/* per group (enum sn_dist_group): the alltoalls' and the allgathers' duplicates */
static MPI_Comm a2a_comm[2] = { MPI_COMM_NULL, MPI_COMM_NULL },
                ag_comm[2] = { MPI_COMM_NULL, MPI_COMM_NULL };
/* stops passed between ranks (sn_dist_stop_send) travel on a duplicate of their own */
static MPI_Comm stop_comm = MPI_COMM_NULL;
static MPI_Request *stop_reqs;   /* one per other rank, made with stop_comm */

void sn_dist_set_chunk(size_t max_count)
{
    chunk = max_count > 0 && max_count < (size_t)INT_MAX ? max_count : (size_t)INT_MAX;
}

static int mpi_fail(int err, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(err, msg, &len);
    return sn_fail(SN_EDIST, "%s failed on rank %d: %s", what, world_rank, msg);
}

/* ---- hosts ---- */

static void free_comm(MPI_Comm *c)
{
    if (*c != MPI_COMM_NULL)
        MPI_Comm_free(c);
    *c = MPI_COMM_NULL;
}

/* The two duplicates of group g's communicator c (none for MPI_COMM_NULL). */
static int dup_group(MPI_Comm c, int g)
{
    free_comm(&a2a_comm[g]);
    free_comm(&ag_comm[g]);
    if (c == MPI_COMM_NULL)
        return MPI_SUCCESS;
    int err = MPI_Comm_dup(c, &a2a_comm[g]);
    if (err == MPI_SUCCESS)
        err = MPI_Comm_dup(c, &ag_comm[g]);
    return err;
}

/* The node and leaders' communicators and hosts, for the real placement
 * (k = 0) or k fake hosts of consecutive ranks. */
static int build_hosts(int k)
{
    free_comm(&node_comm);
    free_comm(&leaders_comm);
    int err;
    if (k > 0) {
        long long kk = k < world_size ? k : world_size;
        err = MPI_Comm_split(MPI_COMM_WORLD, (int)(world_rank * kk / world_size), world_rank,
                             &node_comm);
    } else {
        err = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank,
                                  MPI_INFO_NULL, &node_comm);
    }
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "splitting the ranks by host");
    MPI_Comm_set_errhandler(node_comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(node_comm, &hosts.local_rank);
    MPI_Comm_size(node_comm, &hosts.local_size);
    const int leader = hosts.local_rank == 0;
    err = MPI_Comm_split(MPI_COMM_WORLD, leader ? 0 : MPI_UNDEFINED, world_rank, &leaders_comm);
    if (err == MPI_SUCCESS && leader)
        MPI_Comm_set_errhandler(leaders_comm, MPI_ERRORS_RETURN);
    if (err == MPI_SUCCESS)
        err = dup_group(leaders_comm, SN_DIST_LEADERS);
    int v[2] = { leader, hosts.local_size }, mx = hosts.local_size;
    if (err == MPI_SUCCESS)
        err = MPI_Allreduce(&v[0], &hosts.n_hosts, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (err == MPI_SUCCESS)
        err = MPI_Allreduce(&v[1], &mx, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    hosts.max_local_size = mx;
    hosts.host = 0;
    if (err == MPI_SUCCESS && leader)
        MPI_Comm_rank(leaders_comm, &hosts.host);
    if (err == MPI_SUCCESS)
        err = MPI_Bcast(&hosts.host, 1, MPI_INT, 0, node_comm);
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "finding the hosts' leaders");
}

/* SN_DIST_FAKE_HOSTS: a whole number >= 1, or unset (0). */
static int fake_hosts_env(int *k)
{
    const char *s = getenv("SN_DIST_FAKE_HOSTS");
    *k = 0;
    if (!s || !*s)
        return SN_OK;
    long long v;
    if (sn_parse_int(s, 1, INT_MAX, &v))
        return sn_fail(SN_EUSAGE, "SN_DIST_FAKE_HOSTS='%s': a whole number of hosts >= 1 "
                       "(a test aid; unset it for the real hosts)", s);
    *k = (int)v;
    return SN_OK;
}

/* Collective: SN_EUSAGE on every rank unless every rank has the same
 * SN_DIST_FAKE_HOSTS (k, 0 if unset), naming the ranks that differ from
 * rank 0: ranks that build their hosts differently would wait in
 * different collectives forever. */
static int fake_hosts_same(int k)
{
    int *all = malloc((size_t)world_size * sizeof *all);
    if (!all)   /* then nobody can compare: every rank stops */
        return sn_fail(SN_ENOMEM, "out of memory for %d ranks", world_size);
    int err = MPI_Allgather(&k, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    if (err != MPI_SUCCESS) {
        free(all);
        return mpi_fail(err, "comparing SN_DIST_FAKE_HOSTS over the ranks");
    }
    char list[512] = "";
    int differ = 0;
    for (int r = 1; r < world_size; r++) {
        if (all[r] == all[0])
            continue;
        size_t at = strlen(list);
        if (differ++ < 8 && at + 40 < sizeof list) {
            if (all[r])
                snprintf(list + at, sizeof list - at, ", %d on rank %d", all[r], r);
            else
                snprintf(list + at, sizeof list - at, ", unset on rank %d", r);
        }
    }
    char first[32];
    snprintf(first, sizeof first, all[0] ? "%d" : "unset", all[0]);
    free(all);
    if (!differ)
        return SN_OK;
    return sn_fail(SN_EUSAGE, "SN_DIST_FAKE_HOSTS differs over the ranks: %s on rank 0%s%s "
                   "(%d rank%s differ%s from rank 0; set it for every rank, e.g. mpirun -x, or "
                   "for none)", first, list, differ > 8 ? ", ..." : "", differ,
                   differ == 1 ? "" : "s", differ == 1 ? "s" : "");
}

/* A task that srun started without an MPI plugin (Slurm's own default,
 * MpiDefault=none): Open MPI's MPI_Init then fails in words that blame
 * its build ("OMPI was not built with SLURM's PMI support"); the plugin
 * is what is missing.  An Open MPI build only: MPICH's may take Slurm's
 * own PMI library. */
static int srun_without_plugin(void)
{
#ifdef OMPI_MAJOR_VERSION
    const char *tasks = getenv("SLURM_STEP_NUM_TASKS");
    long long n = 0;
    if (getenv("SLURM_STEP_ID") && tasks && sn_parse_int(tasks, 2, LLONG_MAX, &n) == SN_OK &&
        !getenv("PMIX_RANK") && !getenv("PMI_RANK") && !getenv("PMI_FD") &&
        !getenv("OMPI_COMM_WORLD_RANK"))
        return sn_fail(SN_EUSAGE, "srun started this task, one of %s, without an MPI plugin "
                       "(this Slurm's MpiDefault): start it with srun --mpi=pmix (srun "
                       "--mpi=list shows the plugins this Slurm has), or with "
                       "launch/slurm.sbatch", tasks);
#endif
    return SN_OK;
}

int sn_dist_init(int *argc, char ***argv)
{
    int provided, err = srun_without_plugin(), started = 0, ended = 0;
    if (err)
        return err;
    /* a program that started MPI itself keeps it: joined here, and ended
     * by that program (a second MPI_Init_thread aborted the job) */
    MPI_Initialized(&started);
    MPI_Finalized(&ended);
    if (ended)
        return sn_fail(SN_EUSAGE, "MPI was ended already (MPI_Finalize): it cannot start again");
    adopted = started;
    err = started ? MPI_Query_thread(&provided)
                  : MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (err != MPI_SUCCESS)
        return sn_fail(SN_EDIST, "MPI_Init_thread failed (error %d)", err);
    if (adopted)
        MPI_Comm_get_errhandler(MPI_COMM_WORLD, &host_errors);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    running = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (provided < MPI_THREAD_FUNNELED)
        return sn_fail(SN_EDIST, "MPI provides thread level %d, scratchnet needs FUNNELED",
                       provided);
    MPI_Comm node;
    err = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank,
                              MPI_INFO_NULL, &node);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Comm_split_type");
    MPI_Comm_size(node, &local_size);
    MPI_Comm_free(&node);
    if ((err = dup_group(MPI_COMM_WORLD, SN_DIST_WORLD)) != MPI_SUCCESS ||
        (err = MPI_Comm_dup(MPI_COMM_WORLD, &stop_comm)) != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Comm_dup");
    if (!(stop_reqs = malloc((size_t)world_size * sizeof *stop_reqs)))
        return sn_fail(SN_ENOMEM, "out of memory for the stop requests");
    /* agreed: one rank's bad value stops every rank, and main says it once */
    int k, rc = sn_dist_agree(fake_hosts_env(&k));
    if (!rc)   /* before any path depends on it */
        rc = sn_dist_agree(fake_hosts_same(k));
    return rc ? rc : build_hosts(k);
}

int sn_dist_init_alone(void)
{
    alone = running = true;
    return SN_OK;
}

bool sn_dist_running(void)
{
    return running;
}

/* A call before sn_dist_init (or sn_dist_init_alone) or after
 * sn_dist_finalize: MPI's own abort ended the program (round 71 F1). */
static int not_running(const char *fn)
{
    return sn_fail(SN_EUSAGE, "%s: the distributed runtime is not running: call sn_dist_init "
                   "(or sn_dist_init_alone) first, and nothing of it after sn_dist_finalize", fn);
}

void sn_dist_hosts(struct sn_dist_hosts *out)
{
    *out = hosts;
}

/* ---- shared arenas ---- */

/* A shared arena over comm: one POSIX shared-memory segment (in /dev/shm)
 * that member 0 names and sizes, whose part r member r reserves
 * (posix_fallocate: its pages then exist, near that rank, and a full
 * /dev/shm cannot take them away later, where a write to a missing tmpfs
 * page is SIGBUS) and every member maps; member 0 removes the name once
 * all have mapped it, so no file outlives the run.  Every step's failure
 * is agreed by the members before any of them waits on another: Open
 * MPI's MPI_Win_allocate_shared, used before, failed on one rank (a
 * container's 64 MB /dev/shm, no inode left, a backing directory it was
 * told of) and left the others in its broadcast until the watchdog.
 * base[r] is member r's part: n floats, then SN_DIST_HOST_FLAGS flags. */
struct shm_window {
    bool on;
    MPI_Comm comm;       /* borrowed: the world or node_comm */
    int me, members;
    float **base;
    size_t n;
    void *map;           /* the whole segment, map_bytes long */
    size_t map_bytes;
};
static struct shm_window shm[SN_DIST_MAX_WINDOWS];

static void shm_release(struct shm_window *w)
{
    if (alone)
        free(w->base[0]);
    else
        munmap(w->map, w->map_bytes);
    free(w->base);
    memset(w, 0, sizeof *w);
}

int sn_dist_fake_hosts(int k)
{
    if (!running)
        return not_running("sn_dist_fake_hosts");
    if (k < 0)
        return sn_fail(SN_EUSAGE, "sn_dist_fake_hosts: %d hosts", k);
    for (int i = 0; i < SN_DIST_MAX_WINDOWS; i++)
        if (shm[i].on)
            return sn_fail(SN_EDIST, "the hosts cannot change while a shared arena exists");
    return alone ? SN_OK : build_hosts(k);
}

void sn_dist_finalize(void)
{
    if (!running)   /* never started, or ended already: nothing to end */
        return;
    for (int i = 0; i < SN_DIST_MAX_WINDOWS; i++)
        if (shm[i].on)
            shm_release(&shm[i]);
    if (!alone)
        sn_dist_stop_settle();   /* no stop left on its way: every rank is here */
    running = false;
    if (alone)
        return;
    for (int g = 0; g < 2; g++) {
        free_comm(&a2a_comm[g]);
        free_comm(&ag_comm[g]);
    }
    free_comm(&node_comm);
    free_comm(&leaders_comm);
    free_comm(&stop_comm);   /* sn_dist_stop_received asks nothing from here on */
    free(stop_reqs);
    stop_reqs = NULL;
    /* every rank keeps MPI progressing until all have arrived: UCX's TCP
     * transport (MPICH) needs a peer's progress to close a connection, and
     * a peer already blocked in MPI_Finalize's own barrier gave none */
    MPI_Barrier(MPI_COMM_WORLD);
    if (adopted) {   /* a program's own MPI is that program's to end, as it was */
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, host_errors);
        MPI_Errhandler_free(&host_errors);
    } else {
        MPI_Finalize();
    }
}

int sn_dist_rank(void) { return world_rank; }
int sn_dist_size(void) { return world_size; }
int sn_dist_local_size(void) { return local_size; }
const char *sn_dist_backend(void) { return alone ? "alone, no MPI" : "mpi"; }

const char *sn_dist_library(void)
{
    static char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    if (MPI_Get_library_version(v, &n) != MPI_SUCCESS)
        return "unknown";
    v[strcspn(v, "\n")] = '\0';
    return v;
}

/* A sum over ranks into the mean: buf[0..n) /= P (the same float
 * multiply everywhere, so every path gives the same bits). */
static void sum_to_mean(float *buf, size_t n)
{
    if (world_size == 1)
        return;
    const float inv = 1.0f / (float)world_size;
    for (size_t i = 0; i < n; i++)
        buf[i] *= inv;
}

static _Atomic uint32_t *flags_of(const struct shm_window *w, int member)
{
    return (_Atomic uint32_t *)(void *)(w->base[member] + w->n);
}

/* Alone: a window of one member in this process's memory. */
static int shm_alloc_alone(struct shm_window *w, size_t n, size_t bytes, float **out)
{
    float **base = calloc(1, sizeof *base);
    float *mine = base ? aligned_alloc(64, (bytes + 63) & ~(size_t)63) : NULL;
    if (!mine) {
        free(base);
        return sn_fail(SN_ENOMEM, "out of memory for a host arena of %zu floats", n);
    }
    memset(mine, 0, bytes);
    base[0] = mine;
    *w = (struct shm_window){ .on = true, .comm = MPI_COMM_NULL, .members = 1, .base = base,
                              .n = n };
    *out = mine;
    return SN_OK;
}

#define SHM_DIR "/dev/shm"   /* where glibc's shm_open keeps segments */

#define SHM_MPI_FIX "or run with --allreduce mpi, which sends messages instead"

/* Why the arena could not be had (err, while doing; of bytes), into why:
 * /dev/shm's room, or a limit of the process's own (ulimit -f, -v), with
 * what to do. */
static void shm_why(char *why, size_t len, int err, const char *doing, double bytes)
{
    if (err == EFBIG)
        snprintf(why, len, "cannot take its %s MB: the file-size limit (ulimit -f) is lower: "
                 "raise it, " SHM_MPI_FIX, sn_mb(bytes).s);
    else if (err == ENOMEM && strcmp(doing, "mapping") == 0)
        snprintf(why, len, "cannot be mapped (%s MB): the address-space limit (ulimit -v) "
                 "leaves no room for it: raise it, " SHM_MPI_FIX, sn_mb(bytes).s);
    else if (err == ENOENT && strcmp(doing, "opening a segment of") == 0)
        snprintf(why, len, "cannot be opened by every rank (%s): the ranks of this host do not "
                 "share one /dev/shm (separate containers or mount namespaces): give them one, "
                 SHM_MPI_FIX, strerror(err));
    else if (err == EROFS || err == EACCES || err == EPERM)
        snprintf(why, len, "cannot hold it (%s, %s %s MB): make it writable for this user "
                 "(a container's mount of /dev/shm), " SHM_MPI_FIX, strerror(err), doing,
                 sn_mb(bytes).s);
    else
        snprintf(why, len, "cannot hold it (%s%s, %s %s MB): give it more room (a "
                 "container's --shm-size), " SHM_MPI_FIX, strerror(err),
                 err == ENOSPC && strcmp(doing, "making a segment of") == 0 ? ": no free inode, df -i" : "",
                 doing, sn_mb(bytes).s);
}

/* Member 0: a new segment of total bytes, its name into name (a fresh one:
 * the pid and the clock, another on a clash), when /dev/shm has the room;
 * the reason in why otherwise. */
static bool shm_create(char *name, size_t len, size_t total, char *why, size_t why_len)
{
    struct statvfs fs;   /* ramfs and tmpfs's size=0 have no size, and say 0 free: not asked */
    const double free_b = statvfs(SHM_DIR, &fs) == 0 && fs.f_blocks > 0
                              ? (double)fs.f_bavail * fs.f_frsize : -1;
    if (free_b >= 0 && free_b < (double)total) {
        snprintf(why, why_len, "has %s MB free and the arena needs %s MB: give it more room "
                 "(a container's --shm-size), " SHM_MPI_FIX, sn_mb(free_b).s,
                 sn_mb((double)total).s);
        return false;
    }
    int fd = -1;
    for (int t = 0; t < 8 && fd < 0; t++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        snprintf(name, len, "/scratchnet-%ld-%lx", (long)getpid(),
                 (unsigned long)now.tv_nsec ^ ((unsigned long)t << 24));
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    const int err = fd < 0 ? errno : ftruncate(fd, (off_t)total) ? errno : 0;
    if (fd >= 0)
        close(fd);
    if (err && fd >= 0)
        shm_unlink(name);
    if (err)
        shm_why(why, why_len, err, fd < 0 ? "making a segment of" : "sizing it to", (double)total);
    return err == 0;
}

/* Every member, the name already removed (its descriptor keeps the
 * segment): part me reserved, and the whole mapped. */
static bool shm_reserve(struct shm_window *w, int fd, size_t part, char *why, size_t why_len)
{
    int err = posix_fallocate(fd, (off_t)(part * (size_t)w->me), (off_t)part);
    if (err == EOPNOTSUPP || err == EINVAL)   /* no reservation there: pages on first touch */
        err = 0;
    if (err) {
        shm_why(why, why_len, err, "reserving this rank's", (double)part);
        return false;
    }
    w->map = mmap(NULL, w->map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (w->map != MAP_FAILED)
        return true;
    shm_why(why, why_len, errno, "mapping", (double)w->map_bytes);
    w->map = NULL;
    return false;
}

/* Whether every member of comm says ok; if not, the first failing
 * member's why, on all of them. */
static int shm_agree(MPI_Comm comm, int me, bool ok, char *why, int why_len)
{
    int in[2] = { ok ? INT_MAX : me, 0 }, first[2];
    int err = MPI_Allreduce(in, first, 1, MPI_2INT, MPI_MINLOC, comm);
    if (err == MPI_SUCCESS && first[0] != INT_MAX)
        err = MPI_Bcast(why, why_len, MPI_CHAR, first[0], comm);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "agreeing on the shared gradient arena");
    return first[0] == INT_MAX ? SN_OK : SN_EDIST;
}

static int shm_refused(const struct shm_window *w, int rc, const char *why)
{
    return rc != SN_EDIST ? rc
         : sn_fail(SN_EDIST, SHM_DIR ", where the %d ranks of this host share their gradient "
                   "arena, %s", w->members, why);
}

/* The segment made by member 0 and opened by every member of w->comm,
 * then unnamed at once (a job killed later leaves nothing in /dev/shm:
 * the descriptors keep it), then reserved and mapped by each; SN_EDIST on
 * every member when any step fails on one. */
static int shm_share(struct shm_window *w, size_t part)
{
    char name[64] = "", why[320] = "";
    bool ok = w->me != 0 || shm_create(name, sizeof name, w->map_bytes, why, sizeof why);
    int rc = shm_agree(w->comm, w->me, ok, why, (int)sizeof why);
    if (rc)
        return shm_refused(w, rc, why);
    int err = MPI_Bcast(name, (int)sizeof name, MPI_CHAR, 0, w->comm);
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "sharing the gradient arena's name");
    const int fd = shm_open(name, O_RDWR, 0);
    if (fd < 0)
        shm_why(why, sizeof why, errno, "opening a segment of", (double)w->map_bytes);
    rc = shm_agree(w->comm, w->me, fd >= 0, why, (int)sizeof why);
    if (w->me == 0)   /* open everywhere, or given up: the name is not needed */
        shm_unlink(name);
    ok = !rc && shm_reserve(w, fd, part, why, sizeof why);
    if (fd >= 0)
        close(fd);
    if (!rc)
        rc = shm_agree(w->comm, w->me, ok, why, (int)sizeof why);
    if (rc && w->map)
        munmap(w->map, w->map_bytes);
    if (rc)
        w->map = NULL;
    return shm_refused(w, rc, why);
}

/* An arena over comm of nfloats floats (and the flags) per member. */
static int shm_alloc(MPI_Comm comm, size_t nfloats, float **out)
{
    struct shm_window *w = NULL;
    for (int i = 0; i < SN_DIST_MAX_WINDOWS && !w; i++)
        w = shm[i].on ? NULL : &shm[i];
    if (!w)
        return sn_fail(SN_EDIST, "more than %d shared arenas at once", SN_DIST_MAX_WINDOWS);
    const size_t n = (nfloats + 15) & ~(size_t)15;          /* whole cache lines */
    const size_t bytes = n * sizeof(float) + SN_DIST_HOST_FLAGS * sizeof(uint32_t);
    if (alone)
        return shm_alloc_alone(w, n, bytes, out);
    *w = (struct shm_window){ .comm = comm, .n = n };
    MPI_Comm_rank(comm, &w->me);
    MPI_Comm_size(comm, &w->members);
    const size_t part = (bytes + 4095) & ~(size_t)4095;     /* each part its own pages */
    if (!sn_mul_ok(part, (size_t)w->members, &w->map_bytes))
        return sn_fail(SN_EDIST, "a shared arena of %d x %zu bytes overflows", w->members, part);
    w->base = calloc((size_t)w->members, sizeof *w->base);
    char why[64] = "out of memory for the shared arena's addresses";
    int rc = shm_agree(comm, w->me, w->base != NULL, why, (int)sizeof why);
    if (rc == SN_EDIST)
        rc = sn_fail(SN_ENOMEM, "%s", why);
    if (!rc)
        rc = shm_share(w, part);
    if (rc) {
        free(w->base);
        memset(w, 0, sizeof *w);
        return rc;
    }
    for (int r = 0; r < w->members; r++)
        w->base[r] = (float *)(void *)((char *)w->map + part * (size_t)r);
    memset(w->base[w->me], 0, bytes);
    w->on = true;
    *out = w->base[w->me];
    return SN_OK;
}

int sn_dist_shared_arena(size_t nfloats, float **out)
{
    if (!running)
        return not_running("sn_dist_shared_arena");
    *out = NULL;
    /* the same answer on every rank */
    if (world_size == 1 || hosts.n_hosts != 1)
        return SN_OK;
    return shm_alloc(MPI_COMM_WORLD, nfloats, out);
}

int sn_dist_host_arena(size_t nfloats, float **out)
{
    if (!running)
        return not_running("sn_dist_host_arena");
    *out = NULL;
    return shm_alloc(node_comm, nfloats, out);
}

/* The window whose part on this rank is arena, or NULL. */
static struct shm_window *shm_find(const float *arena)
{
    for (int i = 0; i < SN_DIST_MAX_WINDOWS; i++)
        if (shm[i].on && shm[i].base[shm[i].me] == arena)
            return &shm[i];
    return NULL;
}

void sn_dist_shared_free(float *arena)
{
    struct shm_window *w = arena ? shm_find(arena) : NULL;
    if (w)
        shm_release(w);
}

float *sn_dist_host_part(const float *mine, int local_rank)
{
    struct shm_window *w = shm_find(mine);
    return w && local_rank >= 0 && local_rank < w->members ? w->base[local_rank] : NULL;
}

void sn_dist_host_post(const float *mine, int slot, uint32_t value)
{
    struct shm_window *w = shm_find(mine);
    if (w && slot >= 0 && slot < SN_DIST_HOST_FLAGS)
        atomic_store_explicit(&flags_of(w, w->me)[slot], value, memory_order_release);
}

static bool reached(const struct shm_window *w, int r, int slot, uint32_t value)
{
    uint32_t v = atomic_load_explicit(&flags_of(w, r)[slot], memory_order_acquire);
    return value - v >= 0x80000000u || value == v;
}

bool sn_dist_host_reached(const float *mine, int r, int slot, uint32_t value)
{
    struct shm_window *w = shm_find(mine);
    if (!w || slot < 0 || slot >= SN_DIST_HOST_FLAGS || r >= w->members)
        return false;
    for (int q = r < 0 ? 0 : r; q < (r < 0 ? w->members : r + 1); q++)
        if (!reached(w, q, slot, value))
            return false;
    return true;
}

static struct {
    MPI_Request req[SN_DIST_MAX_PENDING];
    /* unread, but real: MPICH declares the status argument an array, and
     * gcc 12 then refuses MPI_STATUSES_IGNORE (a pointer to address 1) */
    MPI_Status status[SN_DIST_MAX_PENDING];
    int n;
} pending;

int sn_dist_host_wait(const float *mine, int r, int slot, uint32_t value, int bucket)
{
    if (!running)
        return not_running("sn_dist_host_wait");
    if (!shm_find(mine))
        return sn_fail(SN_EDIST, "sn_dist_host_wait: not a host arena");
    if (sn_dist_host_reached(mine, r, slot, value))
        return SN_OK;
    sn_dist_flight_bucket(bucket);
    sn_dist_flight_enter(SN_OP_HOST_WAIT);
    int err = MPI_SUCCESS;
    while (!sn_dist_host_reached(mine, r, slot, value) && err == MPI_SUCCESS) {
        int done;
        if (pending.n)
            err = MPI_Testall(pending.n, pending.req, &done, pending.status);
        sched_yield();   /* the awaited rank may need this core */
    }
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Testall");
}

/* Every member's stores before this are seen by every member after it. */
static int shm_fence(struct shm_window *w)
{
    sn_dist_flight_enter(SN_OP_SHARED_BARRIER);
    atomic_thread_fence(memory_order_seq_cst);   /* this rank's stores, before the barrier */
    int err = MPI_Barrier(w->comm);
    atomic_thread_fence(memory_order_seq_cst);   /* and the others', after it */
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "the shared arena's barrier");
}

/* Member r averages the r-th slice of [lo, hi) (whole cache lines, so no
 * two ranks write one line) and writes it into every member's arena.  Sums
 * in rank order, then times 1/P: for two ranks the same bits as
 * MPI_Allreduce and sum_to_mean. */
int sn_dist_shared_mean(float *arena, size_t lo, size_t hi)
{
    if (!running)
        return not_running("sn_dist_shared_mean");
    struct shm_window *w = shm_find(arena);
    if (!w || w->comm != MPI_COMM_WORLD || hi > w->n || lo > hi)
        return sn_fail(SN_EDIST, "sn_dist_shared_mean: [%zu, %zu) is not in a shared arena", lo, hi);
    int rc = shm_fence(w);   /* every rank's gradients are complete */
    if (rc)
        return rc;
    const int P = w->members;
    const size_t per = ((hi - lo + (size_t)P - 1) / (size_t)P + 15) & ~(size_t)15;
    size_t a = lo + per * (size_t)w->me;
    const size_t b = a + per < hi ? a + per : hi;
    const float inv = 1.0f / (float)P;
    enum { CH = 1024 };
    float acc[CH];
    for (; a < b; a += CH) {
        const size_t n = b - a < CH ? b - a : CH;
        const float *g0 = w->base[0] + a;
        for (size_t i = 0; i < n; i++)
            acc[i] = g0[i];
        for (int r = 1; r < P; r++) {
            const float *g = w->base[r] + a;
            for (size_t i = 0; i < n; i++)
                acc[i] += g[i];
        }
        for (size_t i = 0; i < n; i++)
            acc[i] *= inv;
        for (int r = 0; r < P; r++)
            memcpy(w->base[r] + a, acc, n * sizeof *acc);
    }
    return shm_fence(w);   /* every slice written everywhere */
}

/* ---- collectives ---- */

int sn_dist_allreduce_mean_f32(float *buf, size_t len)
{
    if (!running)
        return not_running("sn_dist_allreduce_mean_f32");
    if (alone)
        return SN_OK;
    sn_dist_flight_enter(SN_OP_ALLREDUCE);
    int err = MPI_SUCCESS;
    for (size_t off = 0; off < len && err == MPI_SUCCESS;) {
        size_t n = len - off < chunk ? len - off : chunk;
        err = MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        off += n;
    }
    sn_dist_flight_leave();
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Allreduce of gradients");
    sum_to_mean(buf, len);
    return SN_OK;
}

static int comm_of(enum sn_dist_group g, MPI_Comm *c)
{
    *c = g == SN_DIST_LEADERS ? leaders_comm : MPI_COMM_WORLD;
    if (*c == MPI_COMM_NULL)
        return sn_fail(SN_EDIST, "rank %d is not a host's leader", world_rank);
    return SN_OK;
}

int sn_dist_group_size(enum sn_dist_group g)
{
    return g == SN_DIST_LEADERS ? hosts.n_hosts : world_size;
}

int sn_dist_group_rank(enum sn_dist_group g)
{
    return g == SN_DIST_WORLD ? world_rank : hosts.local_rank == 0 ? hosts.host : -1;
}

/* A free slot for a request, or an error. */
static int next_slot(void)
{
    if (pending.n == SN_DIST_MAX_PENDING)
        return sn_fail(SN_EDIST, "more than %d collectives in flight", SN_DIST_MAX_PENDING);
    return SN_OK;
}

int sn_dist_iallreduce_sum_f32(float *buf, size_t len, enum sn_dist_group g)
{
    if (!running)
        return not_running("sn_dist_iallreduce_sum_f32");
    if (alone)
        return SN_OK;
    MPI_Comm c;
    int rc = comm_of(g, &c);
    if (!rc)
        rc = next_slot();
    if (!rc && len > (size_t)INT_MAX)
        rc = sn_fail(SN_EDIST, "an allreduce of %zu floats does not fit one call", len);
    if (rc)
        return rc;
    sn_dist_flight_enter(SN_OP_IALLREDUCE);
    int err = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)len, MPI_FLOAT, MPI_SUM, c,
                             &pending.req[pending.n]);
    sn_dist_flight_leave();
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Iallreduce of gradients");
    pending.n++;
    return SN_OK;
}

int sn_dist_ialltoallv_u16(const uint16_t *send, const int *scounts, const int *sdispls,
                           uint16_t *recv, const int *rcounts, const int *rdispls,
                           enum sn_dist_group g, int *req)
{
    if (!running)
        return not_running("sn_dist_ialltoallv_u16");
    if (alone) {   /* the one block goes to this rank itself */
        memmove(recv + rdispls[0], send + sdispls[0], (size_t)scounts[0] * sizeof *send);
        *req = -1;
        return SN_OK;
    }
    MPI_Comm c;
    int rc = comm_of(g, &c);
    if (!rc)
        rc = next_slot();
    if (rc)
        return rc;
    c = a2a_comm[g];
    sn_dist_flight_enter(SN_OP_IALLTOALL);
    int err = MPI_Ialltoallv(send, scounts, sdispls, MPI_UINT16_T, recv, rcounts, rdispls,
                             MPI_UINT16_T, c, &pending.req[pending.n]);
    sn_dist_flight_leave();
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Ialltoallv of compressed gradients");
    *req = pending.n++;
    return SN_OK;
}

int sn_dist_iallgatherv_u16(uint16_t *buf, const int *counts, const int *displs,
                            enum sn_dist_group g, int *req)
{
    if (!running)
        return not_running("sn_dist_iallgatherv_u16");
    if (alone) {   /* this rank's block is the whole of buf already */
        *req = -1;
        return SN_OK;
    }
    MPI_Comm c;
    int rc = comm_of(g, &c);
    if (!rc)
        rc = next_slot();
    if (rc)
        return rc;
    c = ag_comm[g];
    sn_dist_flight_enter(SN_OP_IALLGATHER);
    int err = MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs,
                              MPI_UINT16_T, c, &pending.req[pending.n]);
    sn_dist_flight_leave();
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Iallgatherv of compressed gradients");
    *req = pending.n++;
    return SN_OK;
}

int sn_dist_test(int req, bool *done)
{
    if (!running)
        return not_running("sn_dist_test");
    int flag = 1, err = MPI_SUCCESS;
    if (req >= 0 && req < pending.n)
        err = MPI_Test(&pending.req[req], &flag, &pending.status[req]);
    *done = flag != 0;
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Test");
}

int sn_dist_wait(int req)
{
    if (!running)
        return not_running("sn_dist_wait");
    if (req < 0 || req >= pending.n)
        return SN_OK;
    sn_dist_flight_enter(SN_OP_WAIT);
    int err = MPI_Wait(&pending.req[req], &pending.status[req]);
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Wait");
}

int sn_dist_progress(void)
{
    if (!running)
        return not_running("sn_dist_progress");
    int done, err = pending.n ? MPI_Testall(pending.n, pending.req, &done, pending.status)
                              : MPI_SUCCESS;
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Testall");
}

int sn_dist_finish_all(void)
{
    if (!running)
        return not_running("sn_dist_finish_all");
    if (alone)
        return SN_OK;
    sn_dist_flight_enter(SN_OP_WAIT);
    int err = MPI_Waitall(pending.n, pending.req, pending.status);
    sn_dist_flight_leave();
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Waitall of gradient reductions");
    pending.n = 0;
    return SN_OK;
}

int sn_dist_reduce_scatter_mean_f32(float *buf, const int *counts, const int *displs)
{
    if (!running)
        return not_running("sn_dist_reduce_scatter_mean_f32");
    if (alone)
        return SN_OK;
    /* In place, MPI puts this rank's block at the start of buf: move it home. */
    sn_dist_flight_enter(SN_OP_REDUCE_SCATTER);
    int err = MPI_Reduce_scatter(MPI_IN_PLACE, buf, counts, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    sn_dist_flight_leave();
    if (err != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Reduce_scatter of gradients");
    float *mine = buf + displs[world_rank];
    if (displs[world_rank] > 0)
        memmove(mine, buf, (size_t)counts[world_rank] * sizeof *buf);
    sum_to_mean(mine, (size_t)counts[world_rank]);
    return SN_OK;
}

int sn_dist_allgather_f32(float *buf, const int *counts, const int *displs)
{
    if (!running)
        return not_running("sn_dist_allgather_f32");
    if (alone)
        return SN_OK;
    sn_dist_flight_enter(SN_OP_ALLGATHER);
    int err = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, MPI_FLOAT,
                             MPI_COMM_WORLD);
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Allgatherv of parameters");
}

int sn_dist_gather_f32(const float *mine, float *out, const int *counts, const int *displs)
{
    if (!running)
        return not_running("sn_dist_gather_f32");
    if (alone) {
        memcpy(out + displs[0], mine, (size_t)counts[0] * sizeof *mine);
        return SN_OK;
    }
    sn_dist_flight_enter(SN_OP_GATHER);
    int err = MPI_Gatherv(mine, counts[world_rank], MPI_FLOAT, out, counts, displs, MPI_FLOAT, 0,
                          MPI_COMM_WORLD);
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Gatherv of optimizer state");
}

int sn_dist_scatter_f32(const float *whole, float *mine, const int *counts, const int *displs)
{
    if (!running)
        return not_running("sn_dist_scatter_f32");
    if (alone) {
        memcpy(mine, whole + displs[0], (size_t)counts[0] * sizeof *mine);
        return SN_OK;
    }
    sn_dist_flight_enter(SN_OP_SCATTER);
    int err = MPI_Scatterv(whole, counts, displs, MPI_FLOAT, mine, counts[world_rank], MPI_FLOAT,
                           0, MPI_COMM_WORLD);
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Scatterv");
}

/* One MPI_Allreduce of n values of type t with op, in place, recorded. */
static int allreduce(void *buf, int n, MPI_Datatype t, MPI_Op op, const char *what)
{
    if (alone)
        return SN_OK;
    sn_dist_flight_enter(SN_OP_ALLREDUCE);
    int err = MPI_Allreduce(MPI_IN_PLACE, buf, n, t, op, MPI_COMM_WORLD);
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, what);
}

int sn_dist_allreduce_sum_f64(double *buf, int n)
{
    if (!running)
        return not_running("sn_dist_allreduce_sum_f64");
    return allreduce(buf, n, MPI_DOUBLE, MPI_SUM, "MPI_Allreduce (sum)");
}

int sn_dist_allreduce_sum_i64(int64_t *buf, int n)
{
    if (!running)
        return not_running("sn_dist_allreduce_sum_i64");
    return allreduce(buf, n, MPI_INT64_T, MPI_SUM, "MPI_Allreduce (sum)");
}

int sn_dist_allreduce_max_int(int *buf, int n)
{
    if (!running)
        return not_running("sn_dist_allreduce_max_int");
    return allreduce(buf, n, MPI_INT, MPI_MAX, "MPI_Allreduce (max)");
}

int sn_dist_bcast(void *buf, size_t bytes, int root)
{
    if (!running)
        return not_running("sn_dist_bcast");
    if (alone)
        return SN_OK;
    char *p = buf;
    sn_dist_flight_enter(SN_OP_BCAST);
    int err = MPI_SUCCESS;
    for (size_t off = 0; off < bytes && err == MPI_SUCCESS;) {
        size_t n = bytes - off < chunk ? bytes - off : chunk;
        err = MPI_Bcast(p + off, (int)n, MPI_BYTE, root, MPI_COMM_WORLD);
        off += n;
    }
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Bcast");
}

int sn_dist_barrier(void)
{
    if (!running)
        return not_running("sn_dist_barrier");
    if (alone)
        return SN_OK;
    sn_dist_flight_enter(SN_OP_BARRIER);
    int err = MPI_Barrier(MPI_COMM_WORLD);
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Barrier");
}

int sn_dist_gather(const void *mine, void *out, size_t each)
{
    if (!running)
        return not_running("sn_dist_gather");
    if (each > (size_t)INT_MAX)
        return sn_fail(SN_EDIST, "MPI_Gather: record of %zu bytes is too large", each);
    if (alone) {
        memcpy(out, mine, each);
        return SN_OK;
    }
    sn_dist_flight_enter(SN_OP_GATHER);
    int err = MPI_Gather(mine, (int)each, MPI_BYTE, out, (int)each, MPI_BYTE, 0,
                         MPI_COMM_WORLD);
    sn_dist_flight_leave();
    return err == MPI_SUCCESS ? SN_OK : mpi_fail(err, "MPI_Gather");
}

/* sn_dist_agree's collectives. */
static int agree(int rc)
{
    /* who failed: how many, and the lowest failing rank (as P - rank, max) */
    int n_failed = rc != SN_OK;
    int err = MPI_Allreduce(MPI_IN_PLACE, &n_failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int first = rc != SN_OK ? world_size - world_rank : 0;
    if (err == MPI_SUCCESS)
        err = MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (err != MPI_SUCCESS) {
        mpi_fail(err, "agreeing on a status");
        return SN_EFATAL;
    }
    if (n_failed == 0)
        return SN_OK;
    /* the lowest failing rank's status and message, to every rank */
    struct { int rc; char msg[1024]; char host[SN_HOST_BYTES]; } note = { rc, "", "" };
    const int root = world_size - first;
    if (world_rank == root) {
        snprintf(note.msg, sizeof note.msg, "%s", sn_errmsg()[0] ? sn_errmsg() : sn_strstatus(rc));
        sn_text_host(note.host, sizeof note.host);   /* on a cluster: the node */
    }
    err = MPI_Bcast(&note, (int)sizeof note, MPI_BYTE, root, MPI_COMM_WORLD);
    if (err != MPI_SUCCESS) {
        mpi_fail(err, "agreeing on a status");
        return SN_EFATAL;
    }
    if (n_failed == world_size || note.rc == SN_EINTR)   /* a stop is the job's, not a rank's */
        return sn_fail(note.rc, "%s", note.msg);
    note.host[sizeof note.host - 1] = '\0';
    return sn_fail(note.rc, "rank %d (host %s): %s", root, note.host, note.msg);
}

int sn_dist_agree(int rc)
{
    if (!running)
        return not_running("sn_dist_agree");
    if (alone)
        return rc;
    sn_dist_flight_enter(SN_OP_AGREE);
    rc = agree(rc);
    sn_dist_flight_leave();
    return rc;
}

_Noreturn void sn_dist_abort(int code)
{
    if (alone) {
        fflush(NULL);
        _Exit(code);
    }
    MPI_Abort(MPI_COMM_WORLD, code);
    _Exit(code);   /* MPI_Abort does not return; this keeps the promise if it did */
}

/* ---- stops passed to every rank ---- */

static int stop_sig;   /* the number this rank sent: the Isends' buffer */
static int64_t stops_sent, stops_taken;

int sn_dist_stop_send(int sig)
{
    if (!running)
        return not_running("sn_dist_stop_send");
    if (alone || stop_comm == MPI_COMM_NULL || stops_sent || stops_taken)
        return SN_OK;   /* once; a rank told of a stop already has nothing new to say */
    stop_sig = sig;
    stops_sent = 1;
    for (int i = 0; i < world_size - 1; i++)   /* one that fails leaves the rest waitable */
        stop_reqs[i] = MPI_REQUEST_NULL;
    for (int r = 0, i = 0; r < world_size; r++) {
        if (r == world_rank)
            continue;
        int err = MPI_Isend(&stop_sig, 1, MPI_INT, r, 0, stop_comm, &stop_reqs[i++]);
        if (err != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Isend (a stop to the other ranks)");
    }
    return SN_OK;
}

/* One stop that has arrived, taken in: its number (-1 for 0), or 0. */
static int take_stop(bool wait)
{
    int flag = 0, sig = 0;
    MPI_Status st;
    if (wait)
        flag = MPI_Probe(MPI_ANY_SOURCE, 0, stop_comm, &st) == MPI_SUCCESS;
    else if (MPI_Iprobe(MPI_ANY_SOURCE, 0, stop_comm, &flag, &st) != MPI_SUCCESS)
        flag = 0;
    if (!flag || MPI_Recv(&sig, 1, MPI_INT, st.MPI_SOURCE, 0, stop_comm,
                          MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return 0;
    stops_taken++;
    return sig ? sig : -1;
}

int sn_dist_stop_received(void)
{
    if (alone || stop_comm == MPI_COMM_NULL)
        return 0;
    return take_stop(false);
}

int sn_dist_stop_relay(int mine)
{
    if (!running)
        return not_running("sn_dist_stop_relay");
    if (!mine)
        return sn_dist_stop_received();
    sn_dist_stop_send(mine);   /* a failure to tell leaves each rank its own look */
    return 0;
}

void sn_dist_await_rank0(void)
{
    float token = 0.0f;
    const struct timespec pause = { 0, 20000000 };   /* a variable: SMPI makes nanosleep a macro */
    int rc = sn_dist_iallreduce_sum_f32(&token, 1, SN_DIST_WORLD);
    for (bool done = false; !rc && !done && world_rank != 0;) {
        rc = sn_dist_test(0, &done);
        if (!rc && !done && sn_interrupt_pending())   /* rank 0 stops, or has finished */
            rc = sn_dist_stop_send(sn_interrupt_pending());
        if (!rc && !done)
            nanosleep(&pause, NULL);
    }
    sn_dist_finish_all();
    sn_dist_stop_settle();
}

int sn_dist_stop_settle(void)
{
    if (!running)
        return not_running("sn_dist_stop_settle");
    if (alone || stop_comm == MPI_COMM_NULL)
        return SN_OK;
    int64_t sent = stops_sent;   /* every sender told every other rank */
    int rc = sn_dist_allreduce_sum_i64(&sent, 1);
    while (!rc && stops_taken < sent - stops_sent)
        if (!take_stop(true))
            rc = sn_fail(SN_EDIST, "rank %d could not take in a stop another rank sent",
                         world_rank);
    /* one MPI_Wait each: MPICH declares MPI_Waitall's statuses an array, and
     * gcc 12 refuses MPI_STATUSES_IGNORE (a pointer to address 1) there */
    for (int i = 0; stops_sent && i < world_size - 1; i++) {
        int err = MPI_Wait(&stop_reqs[i], MPI_STATUS_IGNORE);
        if (!rc && err != MPI_SUCCESS)
            rc = mpi_fail(err, "MPI_Wait (a stop sent to another rank)");
    }
    stops_sent = stops_taken = 0;
    return rc;
}
