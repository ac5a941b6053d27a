/* h5: HDF5 helpers (see h5.h).  Datasets are written contiguous (no
 * chunking), so reading a row is one seek and one read. */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addclosefrom_np, asprintf */
#include "io/h5.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/checked.h"
#include "core/interrupt.h"
#include "core/model.h"
#include "core/number.h"
#include "core/parallel.h"
#include "core/status.h"
#include "core/text.h"
#include "io/fsutil.h"

/* A dataset that sn_h5_read_rows reads straight from the file (below). */
#define DIRECT_MAX 8
struct direct {
    char path[64];
    enum sn_h5_type type;
    bool ok;                 /* checked: read with pread */
    off_t base;              /* the first row's byte in the file */
    size_t row_bytes;
    hsize_t n_rows;
};

/* A dataset kept open for reading rows, with its own chunk cache (below). */
#define ROWS_OPEN_MAX 8
struct rows_dset {
    char path[64];
    hid_t id;
};

/* The chunks counted at most: libhdf5 1.10 looks each up in 0.4 ms
 * (H5Dget_chunk_info_by_coord; H5Dchunk_iter came in 1.12), so 78,400
 * one-value chunks took 35 s.  A dataset of more is read unchecked. */
#define COUNT_MAX_CHUNKS 4096

/* What was counted of a dataset's chunks, by rows of chunks (band b: the
 * chunks that hold rows b x chunk[0] to (b + 1) x chunk[0] - 1), each band
 * when a read first touches it: a run of one step reads a batch, not the
 * whole dataset (counting all of a 60 MB file that inflates to 17.5 GB
 * took 28 s before the first step), and a whole epoch counts each chunk
 * once, as libhdf5 inflates it anyway.  whole: nothing left to count (all
 * counted, not chunked, or too many chunks to count).  A read by rows asks
 * before every piece; a ring keeps the latest COUNTED_MAX datasets. */
#define COUNTED_MAX 16
struct counted {
    char path[256];
    bool whole;
    long left;   /* bands not counted yet; -1 before the first count */
    uint64_t band[COUNT_MAX_CHUNKS / 64];
};

struct sn_h5 {
    hid_t id;
    bool writable;
    char path[4096];
    int fd;                  /* for direct reads (-1 until the first) */
    int n_direct;
    struct direct direct[DIRECT_MAX];
    int n_open;
    struct rows_dset open[ROWS_OPEN_MAX];
    char looked_up[256];     /* the last path lookup resolved in a read-only file */
    int look_result;
    struct counted counted[COUNTED_MAX];   /* a ring */
    int n_counted, next_counted;
    unsigned char *count_buf;   /* a stored chunk and the inflate window */
    size_t count_cap;
    struct sn_file_stamp opened;   /* read-only: the file as it was opened */
    bool stamped;
};

static bool in_probe_child;   /* this process is the HDF5 probe's child */

/* Called before every way into libhdf5.  H5dont_atexit: libhdf5 1.10.8
 * crashes in its exit handler (H5F__close_cb) when a file whose H5Fclose
 * failed, say on a full disk, is still in its tables; without the handler
 * the process ends cleanly with its error message, and the operating
 * system closes what is left.  Every file scratchnet opens is closed
 * explicitly, so the handler has nothing else to do. */
static void quiet_hdf5(void)
{
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* a file names the filters it needs, and libhdf5 would load every
     * library of HDF5_PLUGIN_PATH looking for one: other people's files do
     * not choose code to run here (deflate, shuffle and fletcher32 are
     * built in) */
    H5PLset_loading_state(0);
}

/* The filters scratchnet reads, and only in an order whose stored bytes
 * check_chunks can follow to the chunk's own size (libhdf5's szip, nbit
 * and scaleoffset decoders take sizes from the chunk's own bytes, and a
 * stream inflated twice or shuffled after deflate hides a bomb): gzip
 * (deflate), shuffle before it, fletcher32 anywhere, each at most once.
 * Optional filters too: the chunks they did shrink could not be read
 * (h5py sets lzf so).  Filter plugins are never loaded. */
static int check_filters(struct sn_h5 *f, const char *path, hid_t pl)
{
    const int n = H5Pget_nfilters(pl);
    int seen_deflate = 0, seen_shuffle = 0, seen_checksum = 0;
    for (int i = 0; i < n; i++) {
        unsigned flags = 0;
        size_t nvals = 0;
        char name[64] = "";
        const H5Z_filter_t id = H5Pget_filter2(pl, (unsigned)i, &flags, &nvals, NULL,
                                               sizeof name, name, NULL);
        const bool known = id == H5Z_FILTER_DEFLATE || id == H5Z_FILTER_SHUFFLE ||
                           id == H5Z_FILTER_FLETCHER32;
        name[sizeof name - 1] = '\0';
        sn_text_clean(name, false);
        if (!known || H5Zfilter_avail(id) <= 0)
            return sn_fail(SN_EINVAL, "%s: %s is stored with HDF5 filter %d (%s), which "
                           "scratchnet does not read (it reads gzip, shuffle and fletcher32; it "
                           "loads no filter plugins): rewrite it with the tool that wrote it "
                           "(h5py, which has lzf: g.create_dataset(name, data=f[name][()], "
                           "compression=\"gzip\")), or with `h5repack -f SHUF -f GZIP=4 IN OUT` "
                           "where libhdf5 has that filter's plugin", f->path, path, (int)id,
                           name[0] ? name : "unnamed");
        int *seen = id == H5Z_FILTER_DEFLATE ? &seen_deflate
                  : id == H5Z_FILTER_SHUFFLE ? &seen_shuffle : &seen_checksum;
        if ((*seen)++ || (id == H5Z_FILTER_SHUFFLE && seen_deflate))
            return sn_fail(SN_EINVAL, "%s: %s is stored with %s, which scratchnet does not "
                           "read (gzip once, shuffle before it: h5py's order): rewrite it with "
                           "`h5repack -f SHUF -f GZIP=4 IN OUT`",
                           f->path, path, *seen > 1 ? "a filter applied twice"
                                                    : "shuffle after gzip");
    }
    return SN_OK;
}

static hid_t mem_type(enum sn_h5_type t)
{
    switch (t) {
    case SN_H5_U8: return H5T_NATIVE_UINT8;
    case SN_H5_I32: return H5T_NATIVE_INT32;
    case SN_H5_I64: return H5T_NATIVE_INT64;
    case SN_H5_U64: return H5T_NATIVE_UINT64;
    case SN_H5_F32: return H5T_NATIVE_FLOAT;
    case SN_H5_F64: return H5T_NATIVE_DOUBLE;
    }
    return H5T_NATIVE_UINT8;
}

/* The files the probe found sound, as they were when it checked them: the
 * command opens each by its name again, and must find the same bytes there
 * (not a file put in its place, or written, meanwhile). */
#define CHECKED_MAX 16
struct checked {
    char path[4096];
    struct sn_file_stamp stamp;
    bool all;   /* by sn_h5_probe_all: every object and link */
    char kind[16], arg[64];   /* the check's (sn_h5_probe), to run it again */
};
static struct checked checked[CHECKED_MAX];
static int n_checked;

static struct checked *find_checked(const char *path)
{
    for (int i = 0; i < n_checked; i++)
        if (strcmp(checked[i].path, path) == 0)
            return &checked[i];
    return NULL;
}

static void note_checked(const char *path, const struct sn_file_stamp *stamp, const char *kind,
                         const char *arg)
{
    struct checked *c = find_checked(path);
    if (!c && strlen(path) < sizeof c->path)
        c = &checked[n_checked < CHECKED_MAX ? n_checked++ : CHECKED_MAX - 1];
    if (!c)
        return;
    c->stamp = *stamp;
    c->all = false;
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    snprintf(c->arg, sizeof c->arg, "%s", arg ? arg : "");
}

/* Whether a and b are the same file of the same size: a new time alone
 * (a touch, a chmod) is no proof of a write, and the check runs again. */
static bool redated(const struct sn_file_stamp *a, const struct sn_file_stamp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size;
}

/* This program writes path: what was checked there is gone. */
static void forget_checked(const char *path)
{
    struct checked *c = find_checked(path);
    if (c)
        *c = checked[--n_checked];
}

/* The descriptor libhdf5 reads f through (the POSIX driver's), or -1. */
static int vfd_of(struct sn_h5 *f)
{
    void *handle = NULL;
    if (H5Fget_vfd_handle(f->id, H5P_DEFAULT, &handle) < 0 || !handle)
        return -1;
    return *(int *)handle;
}

/* Whether the superblock (version 2 or 3: after a user block of 0, 512,
 * 1024, ... bytes) has its file-consistency flags set: a writer has the
 * file open (bit 0), in SWMR mode (bit 2), or died without closing it.
 * libhdf5 then refuses every open, whatever HDF5_USE_FILE_LOCKING says. */
static bool marked_open_for_writing(const char *path)
{
    unsigned char sb[12];
    bool sealed;
    return sn_fs_hdf5_superblock(path, sb, &sealed) && sb[8] >= 2 && (sb[11] & 0x05) != 0;
}

bool sn_h5_held_for_writing(const char *path)
{
    return sn_fs_held_for_writing(path) || marked_open_for_writing(path);
}

/* A file another program holds open for writing (HDF5's lock: h5py's
 * mode 'a' in a notebook), which libhdf5 may be rewriting (it changes
 * superblock bytes while open, so a sealed file fails its seal): neither
 * damaged nor readable now. */
static int held_for_writing(const char *path)
{
    if (sn_fs_held_for_writing(path))
        return sn_fail(SN_EINVAL, "%s: another program has the file open for writing (it holds "
                       "HDF5's lock): close it there, or open it read-only (h5py: mode 'r'), "
                       "then run again", path);
    return sn_fail(SN_EINVAL, "%s: HDF5 marks the file as open for writing (a writer without "
                   "HDF5's lock or in SWMR mode still at work, or one that ended without "
                   "closing it): close it there or, if no program writes it, clear the mark "
                   "with `h5clear -s %s` (hdf5-tools)", path, path);
}

/* The file f's descriptor holds is the one the probe checked at its name;
 * one only dated anew since (a touch, a chmod) is checked again. */
static int check_same(struct sn_h5 *f, const char *path)
{
    const struct checked *c = find_checked(path);
    struct sn_file_stamp now;
    const int fd = c ? vfd_of(f) : -1;
    if (fd < 0 || sn_fs_stamp_fd(fd, &now) != 0 || sn_fs_stamp_unchanged(&now, &c->stamp))
        return SN_OK;
    if (redated(&now, &c->stamp)) {
        char kind[16], arg[64];
        snprintf(kind, sizeof kind, "%s", c->kind);
        snprintf(arg, sizeof arg, "%s", c->arg);
        int rc = sn_h5_probe(path, kind, arg[0] ? arg : NULL);
        if (rc || ((c = find_checked(path)) && sn_fs_stamp_fd(fd, &now) == 0 &&
                   sn_fs_stamp_unchanged(&now, &c->stamp)))
            return rc;
    }
    return sn_fail(SN_EIO, "%s: the file changed after it was checked (replaced or written "
                   "meanwhile); run the command again once it is complete", path);
}

/* The bytes an HDF5 file says it holds, from its superblock (found at 0,
 * 512, 1024, ... as libhdf5 looks: after a user block), and what is
 * there: true when the file is shorter than its end-of-file address, cut
 * short by a copy or a transfer that stopped (user 44 U10: such a file
 * was blamed on file locking). */
static bool cut_short(const char *path, unsigned long long *want, unsigned long long *have)
{
    static const unsigned char sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
    struct stat st;
    FILE *f = fopen(path, "rb");
    bool cut = false;
    unsigned char b[96];
    for (off_t at = 0; f && !cut && fstat(fileno(f), &st) == 0 && at + 64 <= st.st_size;
         at = at ? at * 2 : 512) {
        if (fseeko(f, at, SEEK_SET) != 0 || fread(b, 1, sizeof b, f) < 64 || memcmp(b, sig, 8))
            continue;
        /* versions 0 and 1: sizes at 13, addresses from 24 (28 in 1);
         * 2 and 3: sizes at 9, addresses from 12; the end is the third */
        const int v = b[8], o = v < 2 ? b[13] : b[9], first = v == 0 ? 24 : v == 1 ? 28 : 12;
        if (v > 3 || (o != 4 && o != 8) || first + 3 * o > (int)sizeof b)
            break;
        unsigned long long base = 0, end = 0;
        for (int i = o - 1; i >= 0; i--) {
            base = base << 8 | b[first + i];
            end = end << 8 | b[first + 2 * o + i];
        }
        *want = base + end;
        *have = (unsigned long long)st.st_size;
        cut = *want > *have;
        break;
    }
    if (f)
        fclose(f);
    return cut;
}

int sn_h5_open(const char *path, struct sn_h5 **out)
{
    quiet_hdf5();
    if (access(path, R_OK) != 0)
        return sn_fs_open_failed(path, errno, NULL);   /* a bad input: exit 2 */
    int rc = sn_fs_check_input(path, "file", SIZE_MAX);   /* never a FIFO or a device */
    if (rc)
        return rc;
    if (H5Fis_hdf5(path) <= 0)
        return sn_fail(SN_EINVAL, sn_fs_is_model_text(path)
                                      ? "%s: not an HDF5 file but a model file (text): are two "
                                        "file names swapped? (a model file goes to --model)"
                                      : "%s: not an HDF5 file", path);
    /* asked first: with HDF5_USE_FILE_LOCKING=FALSE (a cluster's advice)
     * libhdf5 opens a file a writer holds and reads it mid-write */
    if (sn_h5_held_for_writing(path))
        return held_for_writing(path);
    struct sn_h5 *f = calloc(1, sizeof *f);
    if (!f)
        return sn_fail(SN_ENOMEM, "%s: out of memory", path);
    f->id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f->id < 0 && sn_h5_held_for_writing(path)) {   /* a writer that came meanwhile */
        free(f);
        return held_for_writing(path);
    }
    unsigned long long want, have;
    if (f->id < 0 && cut_short(path, &want, &have)) {
        free(f);
        return sn_fail(SN_EINVAL, "%s: the file is cut short: it holds %llu bytes of the %llu "
                       "its HDF5 superblock says it has (a copy or transfer that stopped?)",
                       path, have, want);
    }
    if (f->id < 0) {
        free(f);
        return sn_fail(SN_EINVAL, "%s: HDF5 cannot open the file (damaged? or on a parallel file "
                       "system without the file locking HDF5 asks for: set "
                       "HDF5_USE_FILE_LOCKING=FALSE, docs/CLUSTER.md)", path);
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->fd = -1;
    const int vfd = vfd_of(f);
    f->stamped = vfd >= 0 && sn_fs_stamp_fd(vfd, &f->opened) == 0;
    int rc2 = check_same(f, path);
    if (rc2) {
        H5Fclose(f->id);
        free(f);
        return rc2;
    }
    *out = f;
    return SN_OK;
}

#define SEAL_BYTES 512
#define SEAL_MAGIC "SNSEAL1"

static int create_file(const char *path, bool sealed, struct sn_h5 **out)
{
    quiet_hdf5();
    struct sn_h5 *f = calloc(1, sizeof *f);
    if (!f)
        return sn_fail(SN_ENOMEM, "%s: out of memory", path);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (sealed)
        H5Pset_userblock(fcpl, SEAL_BYTES);
    /* The 1.8 format, not the earliest: its object headers keep an attribute
     * of more than 64 KiB (a dataset's names of 5,000 classes) in dense
     * storage, where the earliest format cannot create it at all. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    errno = 0;
    f->id = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    int e = errno;
    H5Pclose(fapl);
    H5Pclose(fcpl);
    if (f->id < 0) {
        free(f);
        return sn_fail(SN_EIO, "%s: cannot create the file (%s)", path, sn_fs_write_why(e));
    }
    f->writable = true;
    f->fd = -1;
    snprintf(f->path, sizeof f->path, "%s", path);
    *out = f;
    return SN_OK;
}

int sn_h5_create(const char *path, struct sn_h5 **out)
{
    forget_checked(path);
    return create_file(path, false, out);
}

/* The seal: FNV-1a 64 of the file's bytes from offset SEAL_BYTES to the end. */
static int seal(const char *path)
{
    FILE *fp = fopen(path, "r+b");
    uint64_t h, len;
    if (!fp || sn_fs_hash(fp, SEAL_BYTES, NULL, &h, &len) != 0) {   /* a stop waits for it */
        if (fp)
            fclose(fp);
        return sn_fail(SN_EIO, "%s: cannot seal the file", path);
    }
    unsigned char block[32] = SEAL_MAGIC;
    memcpy(block + 8, &len, 8);
    memcpy(block + 16, &h, 8);
    int ok = fseek(fp, 0, SEEK_SET) == 0 && fwrite(block, 1, sizeof block, fp) == sizeof block;
    ok = fclose(fp) == 0 && ok;
    return ok ? SN_OK : sn_fail(SN_EIO, "%s: cannot seal the file (disk full?)", path);
}

/* Files whose seal held, by identity and change time: a command checks
 * one file in several places (eval: the model text, then the weights),
 * and a 1 GB file's hash takes seconds.  Any write moves the change time,
 * which no one can set; only a file changed more than a second before its
 * check is kept (the kernel's clock for it ticks every few ms: a write
 * just after could leave the same time). */
static struct sealed_file {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec ctime;
} sealed_seen[8];
static int sealed_next;

static bool same_sealed(const struct stat *st, const struct sealed_file *f)
{
    return f->ino && f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
           f->ctime.tv_sec == st->st_ctim.tv_sec && f->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* A file with HDF5's signature at its first byte whose superblock says
 * the HDF5 part began further in (its base address): the bytes before it,
 * a scratchnet file's seal among them, are gone (a copy that lost its
 * head).  How far in, or 0 for a whole file.  The base address sits after
 * the superblock's fixed fields: 24 bytes in for version 0, 28 for 1, 12
 * for 2 and 3; 8 bytes little-endian in the files scratchnet writes. */
static uint64_t front_lost(const unsigned char *b, size_t n)
{
    static const unsigned char sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
    if (n < 40 || memcmp(b, sig, 8) != 0)
        return 0;
    const size_t at = b[8] == 0 ? 24 : b[8] == 1 ? 28 : b[8] <= 3 ? 12 : 0;
    if (!at || b[b[8] >= 2 ? 9 : 13] != 8)   /* the size of offsets: 8 */
        return 0;
    uint64_t base = 0;
    for (int i = 7; i >= 0; i--)
        base = base << 8 | b[at + (size_t)i];
    return base;
}

int sn_h5_check_seal(const char *path)
{
    FILE *fp;
    int rc = sn_fs_open_input(path, "file", SIZE_MAX, &fp, NULL);
    if (rc)
        return rc;
    unsigned char block[40];
    uint64_t want_len, want_h, h, len;
    const size_t got = fread(block, 1, sizeof block, fp);
    if (got < 32 || memcmp(block, SEAL_MAGIC, 8) != 0) {
        fclose(fp);
        const uint64_t lost = front_lost(block, got);
        if (lost)
            return sn_fail(SN_EDAMAGED, "%s: damaged: its first %llu bytes are gone (HDF5's "
                           "superblock, now at its start, says the file began %llu bytes "
                           "before it: a copy cut at the front?)", path, (unsigned long long)lost,
                           (unsigned long long)lost);
        return sn_fail(SN_EINVAL, "%s: not written by scratchnet (no seal)", path);
    }
    memcpy(&want_len, block + 8, 8);
    memcpy(&want_h, block + 16, 8);
    struct stat st;   /* the length first: a sparse 8 GiB took 30 s to hash */
    int r = fstat(fileno(fp), &st) != 0 || (uint64_t)st.st_size != want_len ? -1 : 0;
    for (int i = 0; !r && i < 8; i++)
        if (same_sealed(&st, &sealed_seen[i])) {
            fclose(fp);
            return SN_OK;
        }
    char doing[4200];
    snprintf(doing, sizeof doing, "checking %s", path);
    if (!r)
        r = sn_fs_hash(fp, SEAL_BYTES, doing, &h, &len);
    fclose(fp);
    if (r == SN_EINTR)
        return r;
    if ((r != 0 || len != want_len || h != want_h) && sn_h5_held_for_writing(path))
        return held_for_writing(path);   /* not damaged: never passed over or set aside */
    if (r != 0 || len != want_len || h != want_h)
        return sn_fail(SN_EDAMAGED, "%s: damaged: %s", path,
                       r != 0 || len != want_len ? "its length differs from the one sealed in it "
                                                   "(truncated, or changed in place by another "
                                                   "program: h5py, h5repack; see FORMATS.md, "
                                                   "the seal)"
                                                 : "its bytes do not match the seal (corrupted, or "
                                                   "changed in place by another program: h5py, "
                                                   "h5repack; see FORMATS.md, the seal)");
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) == 0 && now.tv_sec - st.st_ctim.tv_sec > 1)
        sealed_seen[sealed_next++ % 8] = (struct sealed_file){ st.st_dev, st.st_ino,
                                                               st.st_size, st.st_ctim };
    return SN_OK;
}

int sn_h5_close(struct sn_h5 *f)
{
    if (!f)
        return SN_OK;
    int rc = SN_OK;
    errno = 0;
    if (f->writable && H5Fflush(f->id, H5F_SCOPE_GLOBAL) < 0)
        rc = sn_fail(SN_EIO, "%s: writing failed (%s)", f->path, sn_fs_write_why(errno));
    for (int i = 0; i < f->n_open; i++)
        H5Dclose(f->open[i].id);
    errno = 0;
    if (H5Fclose(f->id) < 0 && rc == SN_OK)
        rc = sn_fail(SN_EIO, "%s: closing failed (%s)", f->path, sn_fs_write_why(errno));
    if (f->fd >= 0)
        close(f->fd);
    free(f->count_buf);
    free(f);
    return rc;
}

/* How a written file takes its name: through links at path (an output),
 * or onto path's own name (a checkpoint), replacing what is there or not. */
enum commit_how { THROUGH_LINKS, HERE_REPLACE, HERE_NEW };

/* sn_h5_write_atomic, committed as how says. */
static int write_atomic(const char *path, enum commit_how how,
                        int (*fill)(struct sn_h5 *f, const void *ctx), const void *ctx)
{
    char tmp[4200];
    struct sn_h5 *f;
    forget_checked(path);
    const bool here = how != THROUGH_LINKS;
    if (here)
        sn_fs_tmpname_here(path, tmp, sizeof tmp);
    else
        sn_fs_tmpname(path, tmp, sizeof tmp);
    int rc = sn_fs_create_tmp(tmp, path, NULL);   /* before H5Fcreate truncates it */
    if (rc)
        return rc;   /* what is at the name is not ours: left alone */
    rc = create_file(tmp, true, &f);
    if (rc) {
        remove(tmp);   /* a full disk can leave it empty */
        return rc;
    }
    rc = fill(f, ctx);
    int rc2 = sn_h5_close(f);
    if (!rc)
        rc = rc2;
    if (!rc)
        rc = seal(tmp);
    if (rc) {
        remove(tmp);
        /* named as the user named it: the temporary file is gone */
        char msg[1200];
        snprintf(msg, sizeof msg, "%s", sn_errmsg());
        const size_t tl = strlen(tmp);
        return strncmp(msg, tmp, tl) == 0 ? sn_fail(rc, "%s%s", path, msg + tl) : rc;
    }
    return here ? sn_fs_commit_here(tmp, path, how == HERE_REPLACE) : sn_fs_commit(tmp, path);
}

int sn_h5_write_atomic(const char *path, int (*fill)(struct sn_h5 *f, const void *ctx),
                       const void *ctx)
{
    return write_atomic(path, THROUGH_LINKS, fill, ctx);
}

int sn_h5_write_atomic_here(const char *path, bool replace,
                            int (*fill)(struct sn_h5 *f, const void *ctx), const void *ctx)
{
    return write_atomic(path, replace ? HERE_REPLACE : HERE_NEW, fill, ctx);
}

const char *sn_h5_library(void)
{
    static char v[32];
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    snprintf(v, sizeof v, "%u.%u.%u", maj, min, rel);
    return v;
}

const char *sn_h5_path(const struct sn_h5 *f)
{
    return f->path;
}

/* How path resolves: 0 missing, 1 an object reached by hard links only,
 * 2 through a soft or external link (which is not followed). */
static int resolve(struct sn_h5 *f, const char *path, size_t n)
{
    /* Check each prefix: H5Lexists fails on a missing intermediate group. */
    char buf[1024];
    for (size_t i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            memcpy(buf, path, i);
            buf[i] = '\0';
            H5L_info_t li;
            if (H5Lexists(f->id, buf, H5P_DEFAULT) <= 0 ||
                H5Lget_info(f->id, buf, &li, H5P_DEFAULT) < 0)
                return 0;
            if (li.type != H5L_TYPE_HARD)
                return 2;
        }
    }
    return H5Oexists_by_name(f->id, path, H5P_DEFAULT) > 0;
}

/* Reading one array asks about its path several times (is it a link,
 * is it there, its shape, its values): in a file opened for reading the
 * last answer stands, which makes a file of thousands of arrays read
 * several times faster. */
static int lookup(struct sn_h5 *f, const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n >= 1024 || path[0] != '/')
        return 0;
    if (n == 1)
        return 1;
    if (!f->writable && strcmp(f->looked_up, path) == 0)
        return f->look_result;
    const int r = resolve(f, path, n);
    if (!f->writable && n < sizeof f->looked_up) {
        memcpy(f->looked_up, path, n + 1);
        f->look_result = r;
    }
    return r;
}

bool sn_h5_exists(struct sn_h5 *f, const char *path)
{
    return lookup(f, path) == 1;
}

int sn_h5_check_no_link(struct sn_h5 *f, const char *path)
{
    if (lookup(f, path) == 2)
        return sn_fail(SN_EINVAL, "%s: %s is reached through a soft or external link, which "
                       "scratchnet does not follow", f->path, path);
    return SN_OK;
}

bool sn_h5_same_object(struct sn_h5 *f, const char *a, const char *b)
{
    if (!sn_h5_exists(f, a) || !sn_h5_exists(f, b))
        return false;
    H5O_info_t ia, ib;
    return H5Oget_info_by_name2(f->id, a, &ia, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
           H5Oget_info_by_name2(f->id, b, &ib, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
           ia.fileno == ib.fileno && ia.addr == ib.addr;
}

/* Open dataset path, or fail naming it. */
static int open_dset(struct sn_h5 *f, const char *path, hid_t *d)
{
    int rc = sn_h5_check_no_link(f, path);
    if (rc)
        return rc;
    if (!sn_h5_exists(f, path))
        return sn_fail(SN_EINVAL, "%s: dataset %s is missing", f->path, path);
    *d = H5Dopen2(f->id, path, H5P_DEFAULT);
    if (*d < 0)
        return sn_fail(SN_EINVAL, "%s: %s is not a dataset", f->path, path);
    return SN_OK;
}

/* libhdf5 (1.10.8) keeps about 5.5 KB of bookkeeping for every chunk one
 * H5Dread touches: a 55 MB dataset of one-value chunks read at once took
 * 2.6 GB.  So one row may span at most SN_H5_MAX_ROW_CHUNKS chunks, and
 * rows are read in pieces that touch about READ_CHUNKS chunks each. */
#define READ_CHUNKS 4096

/* The chunks one row (all but the first dimension) spans; 0 when the
 * dataset is not chunked.  *rows_per_chunk: the chunks' first dimension. */
static size_t chunk_span(hid_t d, size_t *rows_per_chunk)
{
    hid_t pl = H5Dget_create_plist(d), s = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
    const int nd = s < 0 ? -1 : H5Sget_simple_extent_dims(s, dims, NULL);
    const int cn = pl >= 0 && H5Pget_layout(pl) == H5D_CHUNKED
                       ? H5Pget_chunk(pl, H5S_MAX_RANK, chunk) : 0;
    size_t n = cn >= 1 && cn == nd ? 1 : 0;
    for (int i = 1; i < cn && n && n <= SN_H5_MAX_ROW_CHUNKS; i++) {
        const hsize_t across = chunk[i] ? dims[i] / chunk[i] + (dims[i] % chunk[i] != 0) : 1;
        n = across > SN_H5_MAX_ROW_CHUNKS ? SN_H5_MAX_ROW_CHUNKS + 1 : n * (size_t)across;
    }
    *rows_per_chunk = n && chunk[0] ? (size_t)chunk[0] : 1;
    if (pl >= 0)
        H5Pclose(pl);
    if (s >= 0)
        H5Sclose(s);
    return n;
}

/* What was counted of path's chunks in f, a new entry the first time
 * (the ring's oldest replaced); NULL for a path too long to remember. */
static struct counted *counted_of(struct sn_h5 *f, const char *path)
{
    for (int i = 0; i < f->n_counted; i++)
        if (strcmp(f->counted[i].path, path) == 0)
            return &f->counted[i];
    if (strlen(path) >= sizeof f->counted[0].path)
        return NULL;
    struct counted *m = &f->counted[f->next_counted];
    *m = (struct counted){ .left = -1 };
    snprintf(m->path, sizeof m->path, "%s", path);
    f->next_counted = (f->next_counted + 1) % COUNTED_MAX;
    if (f->n_counted < COUNTED_MAX)
        f->n_counted++;
    return m;
}

static bool zlib_header(const unsigned char *b)
{
    return (b[0] & 0x0f) == 8 && (b[0] >> 4) <= 7 && ((unsigned)b[0] * 256u + b[1]) % 31u == 0;
}

/* The bytes inflated per look at a signal: a chunk may inflate to 256 MiB
 * (a second or more), and SIGTERM ends the count promptly. */
#define INFLATE_WINDOW 65536
#define INFLATE_WINDOWS_PER_CHECK 64

/* The bytes the deflate stream of one stored chunk (size bytes at addr;
 * tail bytes of a later checksum left out) inflates to, counted through a
 * window (on the heap, after the stream: a tight stack limit crashed on
 * it) and no further than nominal + 1; nominal itself when the stream
 * cannot be read here (libhdf5's read then names the problem) or a signal
 * came (the caller asks). */
static size_t inflated_size(int fd, haddr_t addr, haddr_t base, size_t size, size_t tail,
                            size_t nominal, unsigned char **buf, size_t *cap)
{
    if (size > SIZE_MAX - INFLATE_WINDOW)
        return nominal;
    if (size + INFLATE_WINDOW > *cap) {
        unsigned char *g = realloc(*buf, size + INFLATE_WINDOW);
        if (!g)
            return nominal;
        *buf = g;
        *cap = size + INFLATE_WINDOW;
    }
    /* the address counts from the superblock, after a user block of base
     * bytes (1.10.8); a library that counts from the file's start is read
     * right too: a zlib stream's header tells */
    const bool read = size > tail && ((pread(fd, *buf, size, (off_t)(addr + base)) ==
                                       (ssize_t)size && zlib_header(*buf)) ||
                                      (pread(fd, *buf, size, (off_t)addr) == (ssize_t)size &&
                                       zlib_header(*buf)));
    z_stream z = { .next_in = *buf, .avail_in = (uInt)(size - tail) };
    if (!read || inflateInit(&z) != Z_OK)
        return nominal;
    int st = Z_OK;
    for (long w = 1; st == Z_OK && z.total_out <= nominal; w++) {
        if (w % INFLATE_WINDOWS_PER_CHECK == 0 && sn_interrupt_pending())
            break;
        z.next_out = *buf + size;
        z.avail_out = INFLATE_WINDOW;
        st = inflate(&z, Z_NO_FLUSH);
    }
    const size_t got = st == Z_STREAM_END || z.total_out > nominal ? z.total_out : nominal;
    inflateEnd(&z);
    return got;
}

/* Where deflate and a checksum (fletcher32) sit in a dataset's pipeline
 * (-1: not there); check_filters admitted no other filter but shuffle,
 * and shuffle only before deflate. */
struct pipeline {
    int deflate, checksum;
};

static void pipeline_of(hid_t pl, struct pipeline *p)
{
    p->deflate = p->checksum = -1;
    for (int i = 0, n = H5Pget_nfilters(pl); i < n; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        const H5Z_filter_t id = H5Pget_filter2(pl, (unsigned)i, &flags, &ncd, cd, 0, NULL, NULL);
        if (id == H5Z_FILTER_DEFLATE)
            p->deflate = i;
        else if (id == H5Z_FILTER_FLETCHER32)
            p->checksum = i;
    }
}

/* What one stored chunk (mask: the filters skipped for it) unpacks to,
 * less its checksum: its stream inflated, or its bytes as stored.  A
 * checksum taken after deflate is the stored bytes' last 4; one taken
 * before it (h5repack -f FLET -f GZIP) is the inflated bytes' last 4. */
static size_t unpacked_size(int fd, haddr_t addr, haddr_t base, size_t size, unsigned mask,
                            const struct pipeline *p, size_t nominal, unsigned char **buf,
                            size_t *cap)
{
    const bool sum = p->checksum >= 0 && !(mask & (1u << p->checksum));
    const bool gz = p->deflate >= 0 && !(mask & (1u << p->deflate));
    if (!gz)
        return sum ? (size >= 4 ? size - 4 : 0) : size;
    const size_t inside = sum && p->checksum < p->deflate ? 4 : 0;
    const size_t got = inflated_size(fd, addr, base, size, sum && !inside ? 4 : 0,
                                     nominal + inside, buf, cap);
    return got >= inside ? got - inside : 0;
}

static double chunk_count(int nd, const hsize_t *dims, const hsize_t *chunk)
{
    double n = 1.0;
    for (int i = 0; i < nd; i++)
        n *= (double)((dims[i] + chunk[i] - 1) / chunk[i]);
    return n;
}

/* What counting a dataset's chunks needs: the file's descriptor, the
 * pipeline, the user block before the superblock (chunk addresses count
 * from the superblock), the chunk's own size and a buffer. */
struct chunk_count {
    int fd;
    struct pipeline p;
    hsize_t base;
    size_t nominal;
    unsigned char *buf;
    size_t cap;
};

/* A chunked dataset's extent and chunk. */
struct chunk_shape {
    int nd;
    hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
};

/* false when the chunks cannot be counted here (no descriptor, not
 * chunked, a chunk of no size) */
static bool chunk_count_start(struct sn_h5 *f, hid_t d, struct chunk_shape *sh,
                              struct chunk_count *c)
{
    *c = (struct chunk_count){ .fd = vfd_of(f) };
    hid_t pl = H5Dget_create_plist(d), s = H5Dget_space(d), t = H5Dget_type(d);
    const bool chunked = pl >= 0 && H5Pget_layout(pl) == H5D_CHUNKED;
    const int nd = sh->nd = chunked && s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
    c->nominal = t >= 0 ? H5Tget_size(t) : 0;
    const bool ok = c->fd >= 0 && nd >= 1 && H5Pget_chunk(pl, H5S_MAX_RANK, sh->chunk) == nd &&
                    H5Sget_simple_extent_dims(s, sh->dims, NULL) == nd;
    for (int i = 0; ok && i < nd; i++)
        c->nominal *= (size_t)sh->chunk[i];   /* at most SN_H5_MAX_CHUNK_BYTES: check_backed */
    if (ok)
        pipeline_of(pl, &c->p);
    const hid_t fcpl = H5Fget_create_plist(f->id);
    if (fcpl < 0 || H5Pget_userblock(fcpl, &c->base) < 0)
        c->base = 0;
    H5Pclose(fcpl);
    H5Pclose(pl);
    H5Sclose(s);
    H5Tclose(t);
    return ok && c->nominal > 0;
}

/* The stored chunk at off (its first element) unpacks to its own size
 * exactly: libhdf5 1.10 inflates a chunk's whole stream, whatever the
 * chunk declares (a 3 MB stream stored as one chunk of 78 KB took 3 GiB
 * and 22 s, deaf to SIGTERM), and a chunk that unpacks short crashed it
 * (SIGSEGV in H5VM_memcpyvv) or read leftover memory as rows.  A chunk
 * never written is none of these. */
static int check_chunk_at(struct sn_h5 *f, const char *path, hid_t d, const hsize_t *off,
                          struct chunk_count *c)
{
    unsigned mask = 0;
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    size_t got = c->nominal;
    if (H5Dget_chunk_info_by_coord(d, off, &mask, &addr, &size) >= 0 && addr != HADDR_UNDEF)
        got = unpacked_size(c->fd, addr, c->base, (size_t)size, mask, &c->p, c->nominal, &c->buf,
                            &c->cap);
    int rc = sn_interrupt_check("checking the HDF5 file");   /* a count stops at a signal */
    if (!rc && got > c->nominal)
        rc = sn_fail(SN_EINVAL, "%s: %s has a compressed chunk (%llu stored bytes) that "
                     "inflates past the chunk's own %zu bytes: a decompression bomb, or a "
                     "damaged file", f->path, path, (unsigned long long)size, c->nominal);
    else if (!rc && got < c->nominal)
        rc = sn_fail(SN_EINVAL, "%s: %s has a chunk (%llu stored bytes) that unpacks to %zu "
                     "bytes, not the chunk's own %zu: a damaged file", f->path, path,
                     (unsigned long long)size, got, c->nominal);
    return rc;
}

/* Every stored chunk holding elements from lo to hi (each dimension's
 * first and last index), in order, the last dimension fastest. */
static int check_chunks_in(struct sn_h5 *f, const char *path, hid_t d, int nd,
                           const hsize_t *lo, const hsize_t *hi, const hsize_t *chunk,
                           struct chunk_count *c)
{
    hsize_t off[H5S_MAX_RANK];
    for (int i = 0; i < nd; i++)
        off[i] = lo[i] / chunk[i] * chunk[i];
    int rc = SN_OK;
    for (int i = 0; !rc && i >= 0;) {
        rc = check_chunk_at(f, path, d, off, c);
        for (i = nd - 1; i >= 0 && (off[i] += chunk[i]) > hi[i]; i--)
            off[i] = lo[i] / chunk[i] * chunk[i];
    }
    return rc;
}

/* The bands from row lo to row hi that m has not counted yet, counted. */
static int count_bands(struct sn_h5 *f, const char *path, hid_t d, const struct chunk_shape *sh,
                       hsize_t lo, hsize_t hi, struct counted *m, struct chunk_count *c)
{
    hsize_t from[H5S_MAX_RANK] = { 0 }, to[H5S_MAX_RANK];
    int rc = SN_OK;
    for (hsize_t b = lo / sh->chunk[0]; !rc && b <= hi / sh->chunk[0]; b++) {
        if (m->band[b / 64] & (UINT64_C(1) << (b % 64)))
            continue;
        for (int i = 1; i < sh->nd; i++)
            to[i] = sh->dims[i] - 1;
        from[0] = b * sh->chunk[0];
        to[0] = from[0] + sh->chunk[0] - 1 < sh->dims[0] ? from[0] + sh->chunk[0] - 1
                                                         : sh->dims[0] - 1;
        rc = check_chunks_in(f, path, d, sh->nd, from, to, sh->chunk, c);
        if (!rc) {
            m->band[b / 64] |= UINT64_C(1) << (b % 64);
            m->whole = --m->left == 0;
        }
    }
    return rc;
}

/* The rows a read reads: n rows from first, or rows[0..n-1] (ascending
 * runs read together); n == 0 for the whole dataset. */
struct rows_read {
    const int32_t *rows;
    size_t first, n;
};

/* The bands the rows of r touch, counted run by run (the rows, not the
 * selection built of them: libhdf5 1.10 lists an OR-built selection's
 * blocks one row of the last dimension at a time, each call from the
 * start, and an 8,192-row read of a chunked file took minutes). */
static int count_rows(struct sn_h5 *f, const char *path, hid_t d, const struct chunk_shape *sh,
                      const struct rows_read *r, struct counted *m, struct chunk_count *c)
{
    if (r->n == 0)
        return count_bands(f, path, d, sh, 0, sh->dims[0] - 1, m, c);
    int rc = SN_OK;
    for (size_t i = 0; !rc && i < r->n;) {
        size_t j = r->rows ? i + 1 : r->n;
        while (r->rows && j < r->n && r->rows[j] == r->rows[j - 1] + 1)
            j++;
        const hsize_t lo = r->rows ? (hsize_t)r->rows[i] : (hsize_t)r->first;
        rc = count_bands(f, path, d, sh, lo, lo + (j - i) - 1, m, c);
        i = j;
    }
    return rc;
}

/* The chunks libhdf5 is about to inflate to read the rows r of d (n == 0:
 * all of it), counted first: those of the rows of chunks it touches that
 * no earlier read of this open file counted, in a dataset of at most
 * COUNT_MAX_CHUNKS.  The probe's child, which reads a split's last row
 * under its own limits, counts the rows it reads each time, and nothing
 * for a whole dataset (its address-space limit stops that). */
static int check_chunks(struct sn_h5 *f, const char *path, hid_t d, const struct rows_read *r)
{
    struct counted scratch = { .left = -1 };
    struct counted *m = in_probe_child ? &scratch : counted_of(f, path);
    if (!m)
        m = &scratch;
    if (m->whole || (in_probe_child && r->n == 0))
        return SN_OK;
    struct chunk_shape sh;
    struct chunk_count c;
    if (!chunk_count_start(f, d, &sh, &c) || chunk_count(sh.nd, sh.dims, sh.chunk) < 1.0 ||
        chunk_count(sh.nd, sh.dims, sh.chunk) > COUNT_MAX_CHUNKS) {
        m->whole = true;   /* nothing to count: not asked again every batch */
        return SN_OK;
    }
    if (m->left < 0)
        m->left = (long)((sh.dims[0] + sh.chunk[0] - 1) / sh.chunk[0]);
    c.buf = f->count_buf;
    c.cap = f->count_cap;
    const int rc = count_rows(f, path, d, &sh, r, m, &c);
    f->count_buf = c.buf;
    f->count_cap = c.cap;
    if (m->whole) {   /* the buffer is not needed again for this dataset */
        free(f->count_buf);
        f->count_buf = NULL;
        f->count_cap = 0;
    }
    return rc;
}

/* Budget before allocation: a dataset's declared size must be backed by
 * what the file really holds.  Refused: external or virtual storage (data
 * in other files, which could be anything: a device, a FIFO, a secret);
 * declared bytes that overflow; unfiltered data with less storage than it
 * declares (chunks never written read as fill values: a (2^31-1, 8)
 * dataset in a 2 KB file); filtered (compressed) data claiming more than
 * SN_H5_MAX_RATIO times its storage (deflate cannot exceed about 1032);
 * chunks larger than SN_H5_MAX_CHUNK_BYTES (a read decompresses a whole
 * chunk), and rows spanning more than SN_H5_MAX_ROW_CHUNKS of them. */
static int check_backed(struct sn_h5 *f, const char *path, hid_t d)
{
    hid_t s = H5Dget_space(d), t = H5Dget_type(d), pl = H5Dget_create_plist(d);
    int rc = SN_OK, nd = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
    size_t bytes = t < 0 ? 0 : H5Tget_size(t), chunk_bytes = bytes;
    H5D_layout_t layout = pl < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(pl);
    if (nd > SN_H5_MAX_DIMS)   /* HDF5 allows 32: a sound file, of too many */
        rc = sn_fail(SN_EINVAL, "%s: %s has %d dimensions, more than the %d scratchnet reads "
                     "(data: (N, sample...) with 1 to 4 sample dimensions)", f->path, path, nd,
                     SN_H5_MAX_DIMS);
    else if (H5Sget_simple_extent_type(s) == H5S_NULL)   /* before its one element's bytes */
        rc = sn_fail(SN_EINVAL, "%s: %s is an empty array (a null dataspace, as h5py.Empty "
                     "writes): it holds no values", f->path, path);
    else if (nd < 0 || bytes == 0 || layout == H5D_LAYOUT_ERROR)
        rc = sn_fail(SN_EINVAL, "%s: %s cannot be read (damaged?)", f->path, path);
    else if (layout == H5D_VIRTUAL || H5Pget_external_count(pl) != 0)
        rc = sn_fail(SN_EINVAL, "%s: %s keeps its data in other files (external or virtual "
                     "storage), which scratchnet does not read", f->path, path);
    if (!rc)
        rc = check_filters(f, path, pl);
    if (!rc) {
        H5Sget_simple_extent_dims(s, dims, NULL);
        for (int i = 0; i < nd && !rc; i++)
            if (!sn_mul_ok(bytes, (size_t)dims[i], &bytes))
                rc = sn_fail(SN_EINVAL, "%s: %s declares more bytes than fit in 64 bits",
                             f->path, path);
    }
    if (!rc && layout == H5D_CHUNKED) {
        int cn = H5Pget_chunk(pl, H5S_MAX_RANK, chunk);
        for (int i = 0; i < cn && !rc; i++)
            if (!sn_mul_ok(chunk_bytes, (size_t)chunk[i], &chunk_bytes) ||
                chunk_bytes > SN_H5_MAX_CHUNK_BYTES)
                rc = sn_fail(SN_EINVAL, "%s: %s is stored in chunks larger than %d MB",
                             f->path, path, (int)(SN_H5_MAX_CHUNK_BYTES >> 20));
        size_t tall;
        if (!rc && chunk_span(d, &tall) > SN_H5_MAX_ROW_CHUNKS)
            rc = sn_fail(SN_EINVAL, "%s: %s is stored in chunks so small that one row spans "
                         "over %d of them (h5repack -l %s:CHUNK=... rewrites it in larger ones)",
                         f->path, path, SN_H5_MAX_ROW_CHUNKS, path);
    }
    if (!rc && layout != H5D_COMPACT) {
        size_t stored = (size_t)H5Dget_storage_size(d);
        bool filtered = H5Pget_nfilters(pl) > 0;
        size_t backed;
        if (!sn_mul_ok(stored, filtered ? SN_H5_MAX_RATIO : 1, &backed))
            backed = SIZE_MAX;
        if (bytes > backed)
            rc = sn_fail(SN_EINVAL, "%s: %s declares %zu bytes but the file holds only %zu of "
                         "them%s", f->path, path, bytes, stored,
                         filtered ? " (compressed beyond any real ratio)" : "");
    }
    H5Pclose(pl);
    H5Tclose(t);
    H5Sclose(s);
    return rc;
}

/* What the probe may inflate in all: the first and last chunk of every
 * compressed array.  A real file's chunks are a few MB (h5py's own are at
 * most 1 MiB); 80 arrays of 240 MB zero chunks took 60 s. */
#define PROBE_INFLATE_BUDGET ((size_t)1 << 30)
#define PROBE_OVER_BUDGET 43
static size_t probe_inflated;   /* in the probe's child only */
/* Objects nested deeper than this are refused by the probe: scratchnet's
 * files nest 4 deep (/optimizer/LAYER/PARAM/STATE), and each object is
 * opened by its path, so time grows with the square of the depth (2000
 * nested groups in a 2 MB file: over 60 s). */
#define PROBE_MAX_DEPTH 32
#define PROBE_TOO_DEEP 44
static bool probe_too_deep;     /* in the probe's child only */
/* A checkpoint holds at most about 20 objects per layer (a group, its
 * arrays, the optimizer's state of each): more is no file of scratchnet's,
 * and the check stops there rather than walk a file of empty groups. */
#define PROBE_MAX_OBJECTS (20 * SN_MAX_LAYERS + 4096)
#define PROBE_TOO_MANY 47
/* A chunk the probe was about to read that does not unpack to its own
 * size (check_chunk_at): refused before libhdf5 inflates it. */
#define PROBE_BAD_CHUNK 48
#define PROBE_EXIT_LINE "scratchnet-probe-exit "
static bool probe_bad_chunk;    /* in the probe's child only */
static long probe_objects;
static bool probe_short_of_memory;   /* a read failed for want of memory (read_attr) */
/* The memory the child may have needed at its peak: this program and its
 * libraries take about 30 MB, a real file's check a few MB more; a 15 KB
 * file damaged in 4 bytes made libhdf5 take 2.1 GB (and 9 s of CPU), and
 * the command would do it all again. */
#define PROBE_RSS_BUDGET_MB 1024
/* The CPU time the check may take.  What it reads of an honest file is
 * small (class names, a row of each split, the first and last values of
 * each array, at most PROBE_INFLATE_BUDGET inflated; a whole eval of
 * Fashion-MNIST, its check included, took 0.29 s); a
 * 13 KB dataset whose global heap libhdf5 1.10.8 loops on (fuzz_dataset)
 * took the whole of an earlier 60 s. */
#define PROBE_CPU_S 8
#define PROBE_CPU_TEXT "8"
#define PROBE_TOO_LARGE 45
/* The room the child must find free before it reads anything: an honest
 * file's check takes a few MB, so a crash with this much room is the
 * file's doing; without it (a tight ulimit -v), a crash would say nothing
 * about the file. */
#define PROBE_ROOM_MB 16
#define PROBE_NO_ROOM 46

/* The probe's child is a fresh process: this program again, started with
 * posix_spawn and told by SN_H5_PROBE which check to run (a constructor
 * of the module that owns the check runs it before main; see
 * sn_h5_probe_child).  A fork() of the command would copy a process with
 * threads (OpenMP's pool, the MPI library's), and a lock one of them held
 * (malloc's under the sanitizers, libhdf5's) stays locked in the child
 * forever: a good file then "hung for 60 s". */
#define PROBE_ENV "SN_H5_PROBE"
#define PROBE_ENV_FILE "SN_H5_PROBE_FILE"
#define PROBE_ENV_ARG "SN_H5_PROBE_ARG"
#define PROBE_ENV_PARENT "SN_H5_PROBE_PARENT"
/* The child reads the file its parent opened and checked, handed over as
 * this descriptor, through /proc/self/fd: never a file put at the name
 * meanwhile (a rename there and back during the check). */
#define PROBE_FD 3
#define PROBE_FD_PATH "/proc/self/fd/3"
#define PROBE_ARGV "--scratchnet-hdf5-probe"

/* Whether this process was started by sn_h5_probe: its one argument is
 * PROBE_ARGV (never a command's: words left in an environment with a
 * descriptor 3 open do not make a command a probe), the words name its
 * parent (a whole number, 1 for a command that is its pid namespace's
 * first process; never 0, which getppid() gives a process whose parent is
 * outside its namespace, and an empty word once parsed as), and the
 * parent's descriptor of the file is open here.  Words found without that
 * (left in a user's environment) are removed, so that nothing this process
 * starts sees them. */
static bool probe_started(int argc, char **argv, const char *parent, long long *pid)
{
    const bool ok = argc == 2 && strcmp(argv[1], PROBE_ARGV) == 0 && parent &&
                    sn_parse_int(parent, 1, INT32_MAX, pid) == SN_OK &&
                    *pid == (long long)getppid() && fcntl(PROBE_FD, F_GETFD) >= 0;
    if (!ok) {
        const char *words[] = { PROBE_ENV, PROBE_ENV_FILE, PROBE_ENV_ARG, PROBE_ENV_PARENT };
        for (size_t i = 0; i < 4; i++)
            unsetenv(words[i]);
    }
    return ok;
}

/* The child's address space: what it has mapped so far (this program and
 * its libraries) plus PROBE_RSS_BUDGET_MB, never more than it may have
 * already.  A request past it fails at once: a variable-length string of
 * 500 MB took 2.7 GB and 15 s to read whole before its length could be
 * checked; now the read fails when it asks for the room. */
static void limit_address_space(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    const bool known = f && fscanf(f, "%lu", &pages) == 1;
    if (f)
        fclose(f);
    struct rlimit as;
    if (!known || getrlimit(RLIMIT_AS, &as) != 0)
        return;
    const rlim_t want = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) +
                        ((rlim_t)PROBE_RSS_BUDGET_MB << 20);
    if (as.rlim_cur == RLIM_INFINITY || want < as.rlim_cur)
        setrlimit(RLIMIT_AS, &(struct rlimit){ want, as.rlim_max });
}

/* The child's exit status, also as its last line of errors: a parent whose
 * host program ignores SIGCHLD, or reaps every child itself (glib, libuv,
 * a server's handler), cannot wait for it and reads the verdict there. */
static void probe_exit(int code)
{
    char line[32];
    const int n = snprintf(line, sizeof line, "\n" PROBE_EXIT_LINE "%d\n", code);
    if (write(2, line, (size_t)n) < 0)
        _exit(code);
    _exit(code);
}

void sn_h5_probe_child(const char *kind, int (*try_open)(const char *path, const char *arg),
                       int argc, char **argv)
{
    const char *want = getenv(PROBE_ENV), *path = getenv(PROBE_ENV_FILE);
    const char *parent = getenv(PROBE_ENV_PARENT);
    /* the parent's pid too: these words left in a user's environment (or
     * passed on to a command the probe's child would start) are ignored */
    long long pid = 0;
    if (!want || !path || !probe_started(argc, argv, parent, &pid) || strcmp(want, kind) != 0)
        return;
    /* in a process group of its own (a Ctrl-C is the parent's to answer),
     * so it ends with its parent instead */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if ((long long)getppid() != pid)   /* the parent ended meanwhile */
        probe_exit(1);
    /* a crash is the child's death by its signal, not a sanitizer's report
     * and exit status 1; no core file */
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGXCPU };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
    /* a parser looping on a crafted file: PROBE_CPU_S of CPU; one that
     * blocks (a slow file system): 60 s of waiting */
    setrlimit(RLIMIT_CPU, &(struct rlimit){ PROBE_CPU_S, PROBE_CPU_S + 1 });
    alarm(60);
    void *room = mmap(NULL, (size_t)PROBE_ROOM_MB << 20, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (room == MAP_FAILED)
        probe_exit(PROBE_NO_ROOM);
    munmap(room, (size_t)PROBE_ROOM_MB << 20);
    limit_address_space();
    const char *arg = getenv(PROBE_ENV_ARG);
    in_probe_child = true;
    const int rc = try_open(PROBE_FD_PATH, arg ? arg : "");
    probe_exit(probe_bad_chunk ? PROBE_BAD_CHUNK : probe_too_deep ? PROBE_TOO_DEEP
          : probe_objects > PROBE_MAX_OBJECTS ? PROBE_TOO_MANY
          : probe_inflated > PROBE_INFLATE_BUDGET ? PROBE_OVER_BUDGET
          : sn_peak_rss_mb() > PROBE_RSS_BUDGET_MB || probe_short_of_memory ? PROBE_TOO_LARGE
          : rc ? 42 : 0);
}

/* The command's environment (MPI's, OpenMP's, the sanitizers' settings)
 * plus the probe's four words; built, not set, since other threads may
 * read the environment meanwhile. */
static char **probe_env(const char *path, const char *kind, const char *arg)
{
    extern char **environ;
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 7, sizeof *env);
    if (!env)
        return NULL;
    const char *asan = "", *ubsan = "";
    for (size_t i = 0; i < n; i++)
        if (!strncmp(environ[i], "ASAN_OPTIONS=", 13))
            asan = environ[i] + 13;
        else if (!strncmp(environ[i], "UBSAN_OPTIONS=", 14))
            ubsan = environ[i] + 14;
        else if (strncmp(environ[i], PROBE_ENV, strlen(PROBE_ENV)) != 0)
            env[k++] = strdup(environ[i]);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    /* under the sanitizers, a report in the child (a read past the end
     * inside libhdf5) is a crash, not an exit status of 1 */
    char sa[1024], su[1024];
    snprintf(sa, sizeof sa, "%s%sabort_on_error=1", asan, *asan ? ":" : "");
    snprintf(su, sizeof su, "%s%sabort_on_error=1", ubsan, *ubsan ? ":" : "");
    const char *add[][2] = { { PROBE_ENV, kind }, { PROBE_ENV_FILE, path },
                             { PROBE_ENV_ARG, arg ? arg : "" }, { PROBE_ENV_PARENT, pid },
                             { "ASAN_OPTIONS", sa }, { "UBSAN_OPTIONS", su } };
    for (size_t i = 0; i < 6; i++)
        if (asprintf(&env[k++], "%s=%s", add[i][0], add[i][1]) < 0)
            env[k - 1] = NULL;
    bool ok = true;
    for (size_t i = 0; i < k; i++)
        ok = ok && env[i];
    if (!ok) {
        for (size_t i = 0; i < k; i++)
            free(env[i]);
        free(env);
        return NULL;
    }
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env[i]; i++)
        free(env[i]);
    free(env);
}

/* The file this code was loaded from, as an absolute name, found when it
 * was loaded (a name relative to the folder a host was in then would
 * name another file once the host changed folder), and whether that is
 * the program itself (the scratchnet command, or a program linked with
 * libscratchnet.a) rather than a shared library (libscratchnet.so). */
static char own_file[4096];
static bool own_is_program;

__attribute__((constructor)) static void note_own_file(void)
{
    Dl_info info;
    struct sn_file_stamp lib, exe;
    /* the program started by a bare name from PATH (`scratchnet`) gets that
     * bare name here, which realpath would take in the current folder:
     * only the program's own name can lack a '/', so /proc/self/exe says it */
    const char *name = dladdr((void *)note_own_file, &info) && info.dli_fname &&
                       info.dli_fname[0] ? info.dli_fname : NULL;
    if (name && !strchr(name, '/'))
        name = "/proc/self/exe";
    if (!name || !realpath(name, own_file))
        own_file[0] = '\0';
    own_is_program = own_file[0] && sn_fs_stamp(own_file, &lib) == 0 &&
                     sn_fs_stamp("/proc/self/exe", &exe) == 0 && lib.dev == exe.dev &&
                     lib.ino == exe.ino;
}

/* From a shared library, the program started again could be anything
 * that loaded it (a plugin host, an interpreter), whose main would run
 * before the check, if the check ran at all (dlopen runs the library's
 * constructors after main).  The child is the scratchnet program installed
 * with the library instead: DIR/../bin/scratchnet for DIR/libscratchnet.so
 * (make install), or DIR/scratchnet (the build folder). */
static int library_probe_program(const char *path, char *self, size_t len, char **argv)
{
    char dir[4096];
    if (!own_file[0])
        return sn_fail(SN_EINVAL, "%s: cannot check it: libscratchnet could not find its own "
                       "file when it was loaded (dladdr, realpath)", path);
    snprintf(dir, sizeof dir, "%s", own_file);
    *strrchr(dir, '/') = '\0';   /* realpath's: absolute */
    const char *const where[] = { "%.4000s/../bin/scratchnet", "%.4000s/scratchnet" };
    for (int i = 0; i < 2; i++) {
        snprintf(self, len, where[i], dir);
        if (access(self, X_OK) == 0) {
            argv[0] = self;
            argv[1] = (char *)PROBE_ARGV;
            argv[2] = NULL;
            return SN_OK;
        }
    }
    return sn_fail(SN_EINVAL, "%s: cannot check it: libscratchnet checks HDF5 files in a process "
                   "of the scratchnet program installed with it, and there is none at "
                   "%s/../bin/scratchnet or %s/scratchnet", path, dir, dir);
}

/* The child's program and arguments: this program's own file (readlink,
 * which valgrind answers for the program it runs; /proc/self/exe itself
 * when the file was replaced since).  Started through the dynamic loader
 * (`ld.so scratchnet ...`: a noexec mount, a relocated install), that file
 * is the loader, and the program is the one the loader was given, which
 * it records as AT_EXECFN: the child is started the same way.  argv gets
 * the child's arguments (4). */
static int probe_program(const char *path, char *self, size_t len, char **argv)
{
    if (!own_is_program)
        return library_probe_program(path, self, len, argv);
    ssize_t n = readlink("/proc/self/exe", self, len - 1);
    self[n > 0 ? n : 0] = '\0';
    if (n <= 0 || access(self, X_OK) != 0)
        snprintf(self, len, "%s", "/proc/self/exe");
    const char *fn = (const char *)getauxval(AT_EXECFN);
    struct sn_file_stamp a, b;
    int k = 0;
    argv[k++] = self;
    if (fn && sn_fs_stamp(self, &a) == 0 && sn_fs_stamp(fn, &b) == 0 &&
        (a.dev != b.dev || a.ino != b.ino))
        argv[k++] = (char *)fn;
    argv[k++] = (char *)PROBE_ARGV;   /* the child's one argument: probe_started */
    argv[k] = NULL;
    return SN_OK;
}

/* Start the child (probe_program): no signal blocked or caught, no
 * descriptor of the command's (a checkpoint folder's lock, MPI's sockets)
 * but file, the file to check, as PROBE_FD; its output to /dev/null and
 * its errors to *err (the read end of a pipe; they explain a child that
 * could not run the check). */
static pid_t spawn_probe(const char *path, int file, const char *kind, const char *arg,
                         int *err)
{
    char self[4096], *argv[4];
    if (probe_program(path, self, sizeof self, argv))
        return -2;   /* said */
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    char **env = probe_env(path, kind, arg);
    if (!env) {
        close(fds[0]);
        close(fds[1]);
        errno = ENOMEM;
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_adddup2(&fa, file, PROBE_FD);   /* file > PROBE_FD: sn_h5_probe */
    posix_spawn_file_actions_addclosefrom_np(&fa, PROBE_FD + 1);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);   /* a signal to the command's group is the command's */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    pid_t pid;
    int e = posix_spawn(&pid, self, &fa, &at, argv, env);
    if (e != 0) {
        pid = -1;
        errno = e;
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free_env(env);
    e = errno;
    close(fds[1]);
    if (pid < 0)
        close(fds[0]);
    *err = fds[0];
    errno = e;
    return pid;
}

/* The last line the child wrote to its errors (of the last
 * sizeof tail->text - 1 bytes read so far), kept while polling so that it
 * never waits on a full pipe. */
struct err_tail {
    char text[512];
    size_t len;
};

/* Read what is there; true at the end of the child's errors (it ended). */
static bool read_tail(int fd, struct err_tail *t)
{
    char buf[4096];
    ssize_t n;
    for (; (n = read(fd, buf, sizeof buf)) > 0;) {
        const size_t cap = sizeof t->text - 1, k = (size_t)n < cap ? (size_t)n : cap;
        const size_t keep = t->len + k > cap ? cap - k : t->len;
        memmove(t->text, t->text + t->len - keep, keep);
        memcpy(t->text + keep, buf + (size_t)n - k, k);
        t->len = keep + k;
        t->text[t->len] = '\0';
    }
    return n == 0;
}

/* Take the child's exit line off the end of its errors: true with its
 * status in *code, false when there is none (it was killed, or crashed). */
static bool take_exit_line(struct err_tail *t, int *code)
{
    while (t->len > 0 && t->text[t->len - 1] == '\n')
        t->text[--t->len] = '\0';
    char *nl = strrchr(t->text, '\n'), *line = nl ? nl + 1 : t->text;
    if (strncmp(line, PROBE_EXIT_LINE, strlen(PROBE_EXIT_LINE)) != 0)
        return false;
    *code = atoi(line + strlen(PROBE_EXIT_LINE));
    *line = '\0';
    t->len = (size_t)(line - t->text);
    return true;
}

/* The child was reaped by someone else (ECHILD): its verdict from the
 * last line of its errors, once they end. */
static int verdict_from_errors(int err, struct err_tail *tail, pid_t pid, int *st)
{
    while (!read_tail(err, tail)) {
        if (sn_interrupt_pending()) {
            kill(pid, SIGKILL);
            return sn_interrupt_check("checking the HDF5 file");
        }
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }
    int code;
    *st = take_exit_line(tail, &code) ? (code & 0xff) << 8 : SIGKILL;   /* as waitpid's */
    return SN_OK;
}

static const char *last_line(struct err_tail *t)
{
    while (t->len > 0 && (t->text[t->len - 1] == '\n' || t->text[t->len - 1] == '\r'))
        t->text[--t->len] = '\0';
    const char *nl = strrchr(t->text, '\n');
    return nl ? nl + 1 : t->text;
}

/* Wait for the child, polled, so that a stop signal ends the check at once
 * (SN_EINTR); SN_OK with its status in *st, or SN_EINVAL if it cannot be
 * waited for: without its verdict the file is not opened. */
static int wait_probe(const char *path, pid_t pid, int err, struct err_tail *tail, int *st)
{
    for (pid_t r; (r = waitpid(pid, st, WNOHANG)) != pid;) {
        read_tail(err, tail);
        if (r < 0 && errno == ECHILD)   /* SIGCHLD ignored, or a host's handler reaped it */
            return verdict_from_errors(err, tail, pid, st);
        if (r < 0 && errno != EINTR)
            return sn_fail(SN_EIO, "%s: the process checking it cannot be waited for (%s)",
                           path, strerror(errno));
        if (sn_interrupt_pending()) {
            kill(pid, SIGKILL);
            while (waitpid(pid, st, 0) < 0 && errno == EINTR)
                ;
            return sn_interrupt_check("checking the HDF5 file");
        }
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }
    read_tail(err, tail);
    int code;
    take_exit_line(tail, &code);
    return SN_OK;
}

/* path opened for the child, above PROBE_FD, with its stamp in *st; -1
 * when it cannot be opened or is no regular file (the command then says
 * why it cannot read it). */
static int open_to_check(const char *path, struct sn_file_stamp *st)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int file = -1;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sn_fs_stamp_fd(fd, st) == 0)
        file = fcntl(fd, F_DUPFD_CLOEXEC, PROBE_FD + 1);
    close(fd);
    return file;
}

/* The child found less than PROBE_ROOM_MB free (a tight ulimit -v):
 * nothing is known of the file, and it is not called damaged. */
static int no_room(const char *path)
{
    struct rlimit as;
    char limit[64] = "";
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
        snprintf(limit, sizeof limit, " of %llu MB", (unsigned long long)(as.rlim_cur >> 20));
    return sn_fail(SN_ENOMEM, "%s: cannot check it: the address-space limit%s (ulimit -v) "
                   "leaves the process that checks it less than the %d MB it needs; run the "
                   "command again with more room", path, limit, PROBE_ROOM_MB);
}

/* The child that checks a file could not start: not the file's fault
 * (exit 1), with the limit named when it is the user's process count. */
static bool probe_unstarted;   /* the last check's child could not start */

bool sn_h5_probe_unstarted(void)
{
    return probe_unstarted;
}

static int probe_not_started(const char *path, int err)
{
    probe_unstarted = true;
    struct rlimit rl;
    long pids;   /* a batch system's or container's task limit, before the user's */
    if (err == EAGAIN && sn_parallel_task_room(&pids) == 0)
        return sn_fail(SN_EIO, "%s: cannot start the process that checks it: the cgroup's "
                       "pids.max (%ld) is reached; raise it (the job's or container's task "
                       "limit), or run fewer threads", path, pids);
    if (err == EAGAIN && getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        return sn_fail(SN_EIO, "%s: cannot start the process that checks it: this user's "
                       "process limit (ulimit -u %llu) is reached; raise it, or end some of "
                       "this user's processes", path, (unsigned long long)rl.rlim_cur);
    return sn_fail(SN_EIO, "%s: cannot start the process that checks it (%s)", path,
                   strerror(err));
}

/* sn_h5_probe, once: *again when the file was only dated anew while
 * the child checked it. */
static int probe_once(const char *path, const char *kind, const char *arg, bool *again)
{
    probe_unstarted = false;
    int err = -1, st = 0;
    struct err_tail tail = { "", 0 };
    struct sn_file_stamp before, after;
    const int file = open_to_check(path, &before);
    if (file < 0)
        return SN_OK;   /* the command says why it cannot open it */
    if (access("/proc/self/fd", X_OK) != 0) {   /* the child reads it there */
        close(file);
        return sn_fail(SN_EINVAL, "%s: cannot check it: /proc is not mounted (scratchnet opens "
                       "HDF5 files it did not write in a child process first, which reads "
                       "the file through /proc/self/fd)", path);
    }
    pid_t pid = spawn_probe(path, file, kind, arg, &err);
    const int spawn_errno = errno;
    close(file);
    if (pid == -2)
        return SN_EINVAL;
    if (pid < 0)   /* no check, no opening: libhdf5 may crash on it in this process */
        return probe_not_started(path, spawn_errno);
    int rc = wait_probe(path, pid, err, &tail, &st);
    close(err);
    if (!rc && sn_interrupt_pending())   /* a stop asked meanwhile comes first */
        rc = sn_interrupt_check("checking the HDF5 file");
    if (rc)
        return rc;
    if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 42)) {
        const bool stamped = sn_fs_stamp(path, &after) == 0;
        if (!stamped || !sn_fs_stamp_unchanged(&after, &before)) {
            *again = stamped && redated(&after, &before);
            return sn_fail(SN_EIO, "%s: the file changed while it was being checked (replaced "
                           "or written meanwhile); run the command again once it is complete",
                           path);
        }
        note_checked(path, &before, kind, arg);
        return SN_OK;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_BAD_CHUNK)
        return sn_fail(SN_EINVAL, "%s: the first or last chunk of one of its compressed arrays "
                       "does not unpack to the chunk's own size: a decompression bomb, or a "
                       "damaged file", path);
    if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_TOO_DEEP)
        return sn_fail(SN_EINVAL, "%s: it nests groups more than %d deep; scratchnet's files "
                       "nest 4 deep (a crafted file?)", path, PROBE_MAX_DEPTH);
    if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_TOO_MANY)
        return sn_fail(SN_EINVAL, "%s: it holds more than %d groups and arrays, or links to "
                       "them; a file of scratchnet's of the largest model (%d layers) holds "
                       "fewer (a crafted file?)", path, PROBE_MAX_OBJECTS, SN_MAX_LAYERS);
    if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_TOO_LARGE)
        return sn_fail(SN_EINVAL, "%s: libhdf5 needed more than %d MB of memory to read what "
                       "the command reads of it; no file of scratchnet's kinds needs that "
                       "(damaged or crafted?)", path, PROBE_RSS_BUDGET_MB);
    if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_NO_ROOM)
        return no_room(path);
    if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_OVER_BUDGET)
        return sn_fail(SN_EINVAL, "%s: its compressed arrays hold more than %d MB in the chunks "
                       "checking it reads (the first and last of each array): no file of "
                       "scratchnet's kinds needs that; a decompression bomb?", path,
                       (int)(PROBE_INFLATE_BUDGET >> 20));
    if (WIFEXITED(st))   /* not a status of the check's: the child could not run it */
        return sn_fail(SN_EINVAL, "%s: the process checking it (this program started again) "
                       "ended with status %d: %s", path, WEXITSTATUS(st),
                       tail.len ? last_line(&tail) : "no message");
    return sn_fail(SN_EINVAL, "%s: damaged HDF5 file: libhdf5 %s reading it", path,
                   WTERMSIG(st) == SIGALRM ? "hung for 60 s"
                   : WTERMSIG(st) == SIGXCPU ? "ran for " PROBE_CPU_TEXT " s of CPU time"
                   : WTERMSIG(st) == SIGKILL ? "was killed" : "crashed");
}

/* The bytes of obj's attributes kept in dense storage (past 64 KiB an
 * object), which libhdf5 reads whole when any of them is looked at, even
 * to learn whether one exists or its size (an 800 MB mean took 1.6 GB). */
static hsize_t dense_attr_bytes(hid_t obj)
{
    H5O_info_t oi;
    if (H5Oget_info2(obj, &oi, H5O_INFO_META_SIZE | H5O_INFO_HDR | H5O_INFO_NUM_ATTRS) < 0)
        return 0;   /* the command says what it cannot read */
    /* the earliest format keeps them in the object's header, read whole as
     * well; and each attribute costs its own lookup: a count past
     * SN_H5_MAX_ATTRS weighs as too many bytes (450,000 tiny ones took the
     * probe 9.6 s) */
    if (oi.num_attrs > SN_H5_MAX_ATTRS)
        return SN_H5_MAX_ATTR_BYTES + 1;
    return oi.meta_size.attr.heap_size + oi.meta_size.attr.index_size + oi.hdr.space.total;
}

static hsize_t dense_attr_bytes_at(struct sn_h5 *f, const char *path)
{
    hid_t o = H5Oopen(f->id, path, H5P_DEFAULT);
    hsize_t n = o < 0 ? 0 : dense_attr_bytes(o);
    if (o >= 0)
        H5Oclose(o);
    return n;
}

/* Attribute values up to this size are read by the probe (the class names
 * of SN_H5_MAX_STRS strings fit). */
#define PROBE_ATTR_BYTES ((size_t)64 << 20)

/* H5Aread, noting a read that failed for want of memory: in the probe's
 * child, whose address space is bounded (limit_address_space), that is a
 * string or array too large to read, said as such (PROBE_TOO_LARGE). */
static herr_t read_attr(hid_t a, hid_t mt, void *buf)
{
    errno = 0;
    const herr_t r = H5Aread(a, mt, buf);
    if (r < 0 && errno == ENOMEM)
        probe_short_of_memory = true;
    return r;
}

static herr_t touch_attr(hid_t o, const char *name, const H5A_info_t *info, void *ctx)
{
    (void)info;
    (void)ctx;
    hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a), s = a < 0 ? -1 : H5Aget_space(a);
    hid_t nt = t < 0 ? -1 : H5Tget_native_type(t, H5T_DIR_DEFAULT);
    hssize_t n = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
    size_t bytes, size = nt < 0 ? 0 : H5Tget_size(nt);
    if (n > 0 && size > 0 && sn_mul_ok((size_t)n, size, &bytes) && bytes <= PROBE_ATTR_BYTES) {
        void *buf = malloc(bytes);
        /* variable-length strings are given back to libhdf5: valgrind follows the child */
        if (buf && read_attr(a, nt, buf) >= 0 &&
            (H5Tis_variable_str(nt) > 0 || H5Tdetect_class(nt, H5T_VLEN) > 0))
            H5Dvlen_reclaim(nt, s, H5P_DEFAULT, buf);
        free(buf);
    }
    H5Tclose(nt);
    H5Tclose(t);
    H5Sclose(s);
    H5Aclose(a);
    return 0;
}

/* The bytes reading the first and last element of d inflates: two of
 * its chunks if it is chunked and filtered, else none worth counting. */
static size_t inflate_cost(hid_t d)
{
    hid_t pl = H5Dget_create_plist(d), t = H5Dget_type(d);
    size_t bytes = t < 0 ? 0 : H5Tget_size(t);
    hsize_t chunk[H5S_MAX_RANK];
    if (pl < 0 || H5Pget_layout(pl) != H5D_CHUNKED || H5Pget_nfilters(pl) <= 0)
        bytes = 0;
    const int cn = bytes ? H5Pget_chunk(pl, H5S_MAX_RANK, chunk) : 0;
    for (int i = 0; i < cn; i++)
        if (!sn_mul_ok(bytes, (size_t)chunk[i], &bytes))
            bytes = SIZE_MAX / 2;
    H5Pclose(pl);
    H5Tclose(t);
    return 2 * bytes;
}

/* The first and last elements of a numeric dataset the file backs: the
 * chunk index or the contiguous address a read goes through, within the
 * probe's budget of inflated bytes (past it the probe stops and says so). */
/* Whether the chunks holding the two points at (nd values each) unpack to
 * their own size (or d is not chunked). */
static bool points_unpack(struct sn_h5 *f, const char *name, hid_t d, int nd, const hsize_t *at)
{
    struct chunk_shape sh;
    struct chunk_count c;
    if (!chunk_count_start(f, d, &sh, &c) || sh.nd != nd)
        return true;
    const bool ok = check_chunks_in(f, name, d, nd, at, at, sh.chunk, &c) == SN_OK &&
                    check_chunks_in(f, name, d, nd, at + nd, at + nd, sh.chunk, &c) == SN_OK;
    free(c.buf);
    return ok;
}

static void touch_dataset(struct sn_h5 *f, const char *name, hid_t d)
{
    if (probe_bad_chunk)
        return;
    if (probe_inflated > PROBE_INFLATE_BUDGET ||
        (probe_inflated += inflate_cost(d)) > PROBE_INFLATE_BUDGET)
        return;
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    H5T_class_t c = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    int nd = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    hsize_t dims[H5S_MAX_RANK], at[2 * SN_H5_MAX_DIMS];   /* two points, packed */
    const bool readable = (c == H5T_INTEGER || c == H5T_FLOAT) && nd >= 0 &&
                          nd <= SN_H5_MAX_DIMS && H5Sget_simple_extent_npoints(s) > 0 &&
                          check_backed(f, name, d) == SN_OK;
    if (readable) {
        H5Sget_simple_extent_dims(s, dims, NULL);
        for (int i = 0; i < nd; i++) {
            at[i] = 0;
            at[nd + i] = dims[i] - 1;
        }
        probe_bad_chunk = nd > 0 && !points_unpack(f, name, d, nd, at);
    }
    if (readable && !probe_bad_chunk) {
        double v[2];
        hsize_t two = nd ? 2 : 1;
        hid_t m = H5Screate_simple(1, &two, NULL);
        /* a conversion buffer for two values, not libhdf5's cleared 1 MB
         * per read (most of the check's time for a file of many arrays) */
        hid_t x = H5Pcreate(H5P_DATASET_XFER);
        if (x >= 0)
            H5Pset_buffer(x, 4096, NULL, NULL);
        if (nd == 0 || H5Sselect_elements(s, H5S_SELECT_SET, 2, at) >= 0)
            H5Dread(d, H5T_NATIVE_DOUBLE, m, s, x >= 0 ? x : H5P_DEFAULT, v);
        if (x >= 0)
            H5Pclose(x);
        H5Sclose(m);
    }
    H5Tclose(t);
    H5Sclose(s);
}

static herr_t touch_object(hid_t root, const char *name, const H5O_info_t *info, void *ctx)
{
    int depth = 1;
    for (const char *c = name; *c; c++)
        depth += *c == '/';
    if (depth > PROBE_MAX_DEPTH) {
        probe_too_deep = true;
        return 1;   /* stops the visit */
    }
    if (++probe_objects > PROBE_MAX_OBJECTS)
        return 1;
    hid_t o = H5Oopen(root, name, H5P_DEFAULT);
    if (o < 0)
        return 0;   /* the command explains what it cannot open */
    if (dense_attr_bytes(o) <= SN_H5_MAX_ATTR_BYTES)   /* else the command refuses them */
        H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, touch_attr, NULL);
    if (info->type == H5O_TYPE_DATASET)
        touch_dataset(ctx, name, o);
    H5Oclose(o);
    return 0;
}

struct root_names {
    struct sn_h5 *f;
    const char *const *skip, *member;
    char *buf;
    size_t len, used;
    int seen;
};

static herr_t add_root_name(hid_t g, const char *name, const H5L_info_t *info, void *ctx)
{
    (void)g;
    (void)info;
    struct root_names *r = ctx;
    for (const char *const *s = r->skip; *s; s++)
        if (strcmp(*s, name) == 0)
            return 0;
    char path[600];
    if (r->member && (snprintf(path, sizeof path, "/%s/%s", name, r->member) >= (int)sizeof path ||
                      !sn_h5_exists(r->f, path)))
        return 0;
    if (++r->seen > 8 || r->used + strlen(name) + 8 > r->len) {   /* a message, not a listing */
        snprintf(r->buf + r->used, r->len - r->used, ", ...");
        return 1;
    }
    r->used += (size_t)snprintf(r->buf + r->used, r->len - r->used, "%s/%s", r->used ? ", " : "",
                                name);
    return 0;
}

void sn_h5_root_others(struct sn_h5 *f, const char *const *skip, const char *member, char *buf,
                       size_t len)
{
    struct root_names r = { f, skip, member, buf, len, 0, 0 };
    buf[0] = '\0';
    if (len > 16)
        H5Literate(f->id, H5_INDEX_NAME, H5_ITER_INC, NULL, add_root_name, &r);
    sn_text_clean(buf, false);   /* names from the file, shown on a terminal */
}

struct member_walk {
    int (*each)(const char *name, void *ctx);
    void *ctx;
};

static herr_t member_of(hid_t g, const char *name, const H5L_info_t *info, void *ctx)
{
    (void)g;
    (void)info;
    const struct member_walk *w = ctx;
    return w->each(name, w->ctx) ? 1 : 0;
}

void sn_h5_each_member(struct sn_h5 *f, const char *group, int (*each)(const char *name, void *ctx),
                       void *ctx)
{
    struct member_walk w = { each, ctx };
    hid_t g = sn_h5_exists(f, group) ? H5Gopen2(f->id, group, H5P_DEFAULT) : -1;
    if (g < 0) {
        H5Eclear2(H5E_DEFAULT);
        return;
    }
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, member_of, &w);
    H5Gclose(g);
}

static herr_t attr_of(hid_t o, const char *name, const H5A_info_t *info, void *ctx)
{
    (void)o;
    (void)info;
    const struct member_walk *w = ctx;
    return w->each(name, w->ctx) ? 1 : 0;
}

void sn_h5_each_attr(struct sn_h5 *f, const char *path, int (*each)(const char *name, void *ctx),
                     void *ctx)
{
    struct member_walk w = { each, ctx };
    hid_t o = strcmp(path, "/") == 0 || sn_h5_exists(f, path) ? H5Oopen(f->id, path, H5P_DEFAULT)
                                                               : -1;
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return;
    }
    H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_of, &w);
    H5Oclose(o);
}

bool sn_h5_group_holds_only(struct sn_h5 *f, const char *group, const char *const *names)
{
    char buf[64] = "";
    struct root_names r = { f, names, NULL, buf, sizeof buf, 0, 0 };
    hid_t g = H5Gopen2(f->id, group, H5P_DEFAULT);
    if (g < 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
    }
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, add_root_name, &r);
    H5Gclose(g);
    return buf[0] == '\0';
}

/* sn_h5_is_layer_tree's walk: depth 0 at the group's members (groups, at
 * most SN_MAX_LAYERS), 1 at theirs (float arrays of one dimension or more:
 * a program's settings are scalars); counts what it saw, stops at the
 * first member of another kind (or past PROBE_MAX_OBJECTS). */
struct tree_walk {
    int depth;
    long seen, groups;
    bool ok;
};

static herr_t tree_member(hid_t g, const char *name, const H5L_info_t *info, void *ctx)
{
    struct tree_walk *w = ctx;
    H5O_info_t oi;
    if (info->type != H5L_TYPE_HARD || ++w->seen > PROBE_MAX_OBJECTS ||
        H5Oget_info_by_name2(g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
        w->ok = false;
        return 1;
    }
    if (w->depth == 0 && oi.type == H5O_TYPE_GROUP && ++w->groups <= SN_MAX_LAYERS) {
        hid_t sub = H5Gopen2(g, name, H5P_DEFAULT);
        struct tree_walk inner = { 1, 0, 0, sub >= 0 };
        if (sub >= 0)
            H5Literate(sub, H5_INDEX_NAME, H5_ITER_INC, NULL, tree_member, &inner);
        if (sub >= 0)
            H5Gclose(sub);
        w->ok = inner.ok && inner.seen > 0;
        w->seen += inner.seen;
    } else if (w->depth == 1 && oi.type == H5O_TYPE_DATASET) {
        hid_t d = H5Dopen2(g, name, H5P_DEFAULT), t = d < 0 ? -1 : H5Dget_type(d);
        hid_t sp = d < 0 ? -1 : H5Dget_space(d);
        w->ok = t >= 0 && H5Tget_class(t) == H5T_FLOAT && sp >= 0 &&
                H5Sget_simple_extent_ndims(sp) >= 1;
        if (sp >= 0)
            H5Sclose(sp);
        if (t >= 0)
            H5Tclose(t);
        if (d >= 0)
            H5Dclose(d);
    } else {
        w->ok = false;
    }
    return w->ok ? 0 : 1;
}

bool sn_h5_is_layer_tree(struct sn_h5 *f, const char *group)
{
    struct tree_walk w = { 0, 0, 0, true };
    hid_t g = H5Gopen2(f->id, group, H5P_DEFAULT);
    if (g < 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
    }
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, tree_member, &w);
    H5Gclose(g);
    return w.ok && w.seen > 0;
}

/* H5Lvisit's walk: the first link that is not a hard link, and the count
 * of links (hard links to one array are one object to the probe, and
 * 300,000 of them took every reader 9 s). */
struct link_walk {
    char first[256];
    long links;
};

static herr_t find_link(hid_t g, const char *name, const H5L_info_t *info, void *ctx)
{
    (void)g;
    struct link_walk *w = ctx;
    if (++w->links > PROBE_MAX_OBJECTS)
        return 1;
    if (info->type == H5L_TYPE_HARD)
        return 0;
    snprintf(w->first, sizeof w->first, "/%s", name);
    return 1;
}

static int touch_all(const char *path, const char *arg)
{
    (void)arg;
    struct sn_h5 *f;
    int rc = sn_h5_open(path, &f);
    if (rc)
        return rc;
    struct link_walk w = { "", 0 };   /* the links first: the visit walks every one */
    H5Lvisit(f->id, H5_INDEX_NAME, H5_ITER_NATIVE, find_link, &w);
    if (w.links > PROBE_MAX_OBJECTS)
        probe_objects = w.links;
    else if (H5Ovisit2(f->id, H5_INDEX_NAME, H5_ITER_NATIVE, touch_object, f,
                       H5O_INFO_BASIC) < 0)
        rc = SN_EINVAL;
    sn_h5_close(f);
    return rc;
}

/* scratchnet writes no soft or external links into its files: one in a
 * weights file or checkpoint was put there (an array that reads as
 * missing, a history silently dropped), so the file is refused. */
static int refuse_links(const char *path)
{
    struct sn_h5 *f;
    int rc = sn_h5_open(path, &f);
    if (rc)
        return rc;
    struct link_walk w = { "", 0 };
    const herr_t stopped = H5Lvisit(f->id, H5_INDEX_NAME, H5_ITER_NATIVE, find_link, &w);
    if (stopped != 0 && w.first[0])
        rc = sn_fail(SN_EINVAL, "%s: %s is a soft or external link, which scratchnet does not "
                     "follow and does not write", path, w.first);
    else if (stopped != 0 && w.links > PROBE_MAX_OBJECTS)
        rc = sn_fail(SN_EINVAL, "%s: it holds more than %d links to groups and arrays; a file "
                     "of scratchnet's of the largest model (%d layers) holds fewer (a crafted "
                     "file?)", path, PROBE_MAX_OBJECTS, SN_MAX_LAYERS);
    sn_h5_close(f);
    return rc;
}

/* In the probe's fresh process (sn_h5_probe), this runs before main. */
__attribute__((constructor)) static void probe_all_child(int argc, char **argv)
{
    sn_h5_probe_child("all", touch_all, argc, argv);
}

/* A file dated anew while it was checked (a touch against a scratch
 * purge, a chmod) is checked again, up to three times: a checkpoint
 * touched during --resume auto was called damaged, and set aside. */
int sn_h5_probe(const char *path, const char *kind, const char *arg)
{
    int rc = SN_OK;
    for (int tries = 0; tries < 3; tries++) {
        bool again = false;
        if (!(rc = probe_once(path, kind, arg, &again)) || !again)
            break;
    }
    return rc;
}

/* A command reads a weights file or checkpoint several times (its model,
 * then its arrays): the whole check runs once per file as it is, since for
 * a file of thousands of layers it costs seconds each time. */
int sn_h5_probe_all(const char *path)
{
    struct checked *c = find_checked(path);
    struct sn_file_stamp now;
    if (c && c->all && sn_fs_stamp(path, &now) == 0 && sn_fs_stamp_unchanged(&now, &c->stamp))
        return SN_OK;
    int rc = sn_h5_probe(path, "all", NULL);
    if (!rc)
        rc = refuse_links(path);
    if (!rc && (c = find_checked(path)) != NULL)
        c->all = true;
    return rc;
}

bool sn_h5_is_signed(struct sn_h5 *f, const char *path)
{
    hid_t d = -1;
    if (open_dset(f, path, &d))
        return false;
    hid_t t = H5Dget_type(d);
    bool sign = H5Tget_class(t) == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_2;
    H5Tclose(t);
    H5Dclose(d);
    return sign;
}

int sn_h5_check_rows(struct sn_h5 *f, const char *path, size_t n)
{
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    int rc = sn_h5_info(f, path, &nd, dims, &cls, &size);
    if (!rc && (nd != 1 || dims[0] != n))
        rc = sn_fail(SN_EINVAL, "%s: %s must hold %zu values in one dimension", f->path, path, n);
    return rc;
}

int sn_h5_info(struct sn_h5 *f, const char *path, int *ndim, size_t dims[SN_H5_MAX_DIMS],
               enum sn_h5_class *cls, size_t *size)
{
    hid_t d = -1;
    int rc = open_dset(f, path, &d);
    if (rc)
        return rc;
    if ((rc = check_backed(f, path, d))) {
        H5Dclose(d);
        return rc;
    }
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    int n = H5Sget_simple_extent_ndims(s);
    if (n < 0 || n > SN_H5_MAX_DIMS) {
        rc = sn_fail(SN_EINVAL, "%s: %s has an unsupported rank %d", f->path, path, n);
    } else {
        hsize_t hd[SN_H5_MAX_DIMS];
        H5Sget_simple_extent_dims(s, hd, NULL);
        for (int i = 0; i < SN_H5_MAX_DIMS; i++)   /* past the rank: 0, never the stack's */
            dims[i] = i < n ? (size_t)hd[i] : 0;
        *ndim = n;
        H5T_class_t c = H5Tget_class(t);
        *cls = c == H5T_INTEGER ? SN_H5_CLASS_INT
             : c == H5T_FLOAT   ? SN_H5_CLASS_FLOAT
                                : SN_H5_CLASS_OTHER;
        *size = H5Tget_size(t);
    }
    H5Tclose(t);
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

static herr_t find_no_memory(unsigned n, const H5E_error2_t *e, void *found)
{
    (void)n;
    if (e->min_num == H5E_CANTALLOC || e->min_num == H5E_NOSPACE)
        *(bool *)found = true;
    return 0;
}

/* Whether libhdf5's error stack says an allocation failed. */
static bool hdf5_out_of_memory(void)
{
    bool found = false;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_no_memory, &found);
    return found;
}

/* A read-only file that changes while this command reads it is looked at
 * before every read by libhdf5 (one fstat): another size stops the command;
 * another modification time at the same size (a touch, or a chunk counted
 * earlier rewritten in place, a bomb now) makes the chunks counted again.
 * The change time is not looked at: a chmod, a link or a rename moves it
 * without writing a byte (a training run stopped for them). */
static int still_as_opened(struct sn_h5 *f)
{
    struct sn_file_stamp now;
    const int fd = f->stamped ? vfd_of(f) : -1;
    const int got = fd >= 0 ? sn_fs_stamp_fd(fd, &now) : -1;
    if (fd < 0 || (got == 0 && sn_fs_stamp_same(&now, &f->opened)))
        return SN_OK;
    if (got == 0 && now.size == f->opened.size) {
        /* a new time, not a new size: a touch (users of scratch file
         * systems touch their data against the purge) or a write in place;
         * the chunks are counted again as the reads reach them */
        f->opened = now;
        f->n_counted = f->next_counted = 0;
        return SN_OK;
    }
    return sn_fail(SN_EINVAL, "%s: the file changed while this command read it (written in "
                   "place?): run again once it is complete", f->path);
}

/* Read the selection fsel of dataset d, which holds the rows r, into out,
 * a memory space of mnd dimensions mdims (the selection's element count).
 * Rows read as (n, the dataset's other dimensions), not as one line of
 * elements: libhdf5 1.10 maps a run of rows onto a chunked dataset's chunks
 * at once when both have the same shape, and element by element when not
 * (a chunked Fashion-MNIST was read 10 times slower than h5py reads it). */
static int read_sel(struct sn_h5 *f, const char *path, hid_t d, hid_t fsel,
                    const struct rows_read *r, int mnd, const hsize_t *mdims,
                    enum sn_h5_type type, void *out)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* per thread: the batch reader's too */
    int rc = still_as_opened(f);
    if (!rc)
        rc = check_chunks(f, path, d, r);   /* before libhdf5 inflates any of them */
    if (rc)
        return rc;
    hid_t m = H5Screate_simple(mnd, mdims, NULL);
    herr_t e = H5Dread(d, mem_type(type), m, fsel, H5P_DEFAULT, out);
    const bool no_memory = e < 0 && hdf5_out_of_memory();   /* before H5Sclose clears it */
    H5Sclose(m);
    if (no_memory)
        return sn_fail(SN_ENOMEM, "%s: out of memory reading %s (libhdf5 could not allocate)",
                       f->path, path);
    if (e < 0)
        return sn_fail(SN_EINVAL, "%s: reading %s failed (type or size mismatch, or damaged file)",
                       f->path, path);
    return SN_OK;
}

/* Reading rows in batches.  libhdf5 inflates a compressed chunk into its
 * chunk cache, which belongs to the open dataset; its default (1 MiB) holds
 * no chunk larger than that, and a dataset opened afresh for every batch
 * has an empty one: a chunk of 50 MB was inflated again for each batch of
 * 64 rows (about 1.7 s a batch).  So a read-only file keeps the datasets
 * it reads rows of open, each with a cache that holds at least one whole
 * chunk (and up to ROWS_CACHE_BYTES of them): the cost is one inflation
 * per chunk for rows read in order (eval, predict, the cache fill), and
 * for random rows once the chunks fit in the cache (docs/RELIABILITY.md). */
#define ROWS_CACHE_BYTES ((size_t)64 << 20)
#define ROWS_CACHE_SLOTS 12421   /* a prime, as libhdf5 advises */
/* Rows read in order need the chunks of one row of chunks at once: a
 * dataset whose chunks each hold every row (chunk N x 1 x 1) inflated each
 * of them again for every batch once they outgrew 64 MiB.  The cache holds
 * a row of chunks, which sn_h5_check_row_reads bounds by
 * SN_H5_MAX_BAND_BYTES. */
#define ROWS_BAND_SLOTS 65537    /* a prime over 2 x SN_H5_MAX_ROW_CHUNKS */

/* The bytes of one chunk of d, as stored uncompressed; 0 when d is not
 * chunked (check_backed bounded it by SN_H5_MAX_CHUNK_BYTES). */
static size_t chunk_bytes(hid_t d)
{
    hid_t pl = H5Dget_create_plist(d), t = H5Dget_type(d);
    hsize_t chunk[H5S_MAX_RANK];
    size_t bytes = t < 0 ? 0 : H5Tget_size(t);
    int cn = pl >= 0 && H5Pget_layout(pl) == H5D_CHUNKED ? H5Pget_chunk(pl, H5S_MAX_RANK, chunk)
                                                          : 0;
    for (int i = 0; i < cn; i++)
        bytes *= (size_t)chunk[i];
    if (t >= 0)
        H5Tclose(t);
    if (pl >= 0)
        H5Pclose(pl);
    return cn > 0 ? bytes : 0;
}

int sn_h5_check_row_reads(struct sn_h5 *f, const char *path)
{
    hid_t d = -1;
    int rc = open_dset(f, path, &d);
    if (rc)
        return rc;
    size_t tall;
    const size_t bytes = chunk_bytes(d), per_row = chunk_span(d, &tall);
    if (per_row * bytes > SN_H5_MAX_BAND_BYTES)   /* per_row, bytes bounded by check_backed */
        rc = sn_fail(SN_EINVAL, "%s: %s is stored in chunks of %zu rows, and the chunks that "
                     "hold the same rows take %zu MB together, over the %zu MB a read by "
                     "batches can keep: each batch would inflate them all again (h5repack -l "
                     "%s:CHUNK=... rewrites it in chunks of fewer rows)", f->path, path, tall,
                     (per_row * bytes) >> 20, SN_H5_MAX_BAND_BYTES >> 20, path);
    H5Dclose(d);
    return rc;
}

/* d (open with the default cache; given over) opened again with one
 * that holds its chunks; d itself when it is not chunked. */
static hid_t open_with_cache(struct sn_h5 *f, const char *path, hid_t d)
{
    const size_t bytes = chunk_bytes(d);
    if (bytes == 0)
        return d;
    size_t tall;
    const size_t per_row = chunk_span(d, &tall);   /* at most SN_H5_MAX_ROW_CHUNKS */
    size_t band = per_row * bytes > SN_H5_MAX_BAND_BYTES ? SN_H5_MAX_BAND_BYTES : per_row * bytes;
    band = band > bytes ? band : bytes;   /* at least one chunk, whatever its size */
    H5Dclose(d);   /* closed first: see rows_dset */
    hid_t apl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(apl, 2 * per_row > ROWS_CACHE_SLOTS ? ROWS_BAND_SLOTS : ROWS_CACHE_SLOTS,
                       band > ROWS_CACHE_BYTES ? band : ROWS_CACHE_BYTES, 0.75);
    d = H5Dopen2(f->id, path, apl);
    H5Pclose(apl);
    return d;
}

size_t sn_h5_row_inflate(struct sn_h5 *f, const char *path, size_t *bands, size_t *tall)
{
    hid_t d = -1;
    *bands = *tall = 0;
    if (open_dset(f, path, &d) != SN_OK)
        return 0;
    const size_t bytes = chunk_bytes(d), per_row = chunk_span(d, tall);
    hid_t pl = H5Dget_create_plist(d), s = H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK] = { 0 };
    const bool packed = pl >= 0 && H5Pget_nfilters(pl) > 0 && s >= 0 &&
                        H5Sget_simple_extent_dims(s, dims, NULL) >= 1 && bytes && *tall;
    const size_t band = per_row * bytes;
    *bands = packed ? (size_t)((dims[0] + *tall - 1) / *tall) : 0;
    const size_t cache = band > ROWS_CACHE_BYTES ? band : ROWS_CACHE_BYTES;
    if (pl >= 0)
        H5Pclose(pl);
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    /* all the bands in the cache: each inflated once, whatever the order */
    return packed && (double)*bands * (double)band > (double)cache ? band : 0;
}

/* Dataset path for reading rows: kept open (read-only files), or opened
 * now when *close_it comes back true. */
static int rows_dset(struct sn_h5 *f, const char *path, hid_t *d, bool *close_it)
{
    for (int i = 0; i < f->n_open; i++)
        if (strcmp(f->open[i].path, path) == 0) {
            *d = f->open[i].id;
            *close_it = false;
            return SN_OK;
        }
    int rc = open_dset(f, path, d);   /* the checks, and the error naming the dataset */
    *close_it = true;
    if (rc || f->writable || f->n_open == ROWS_OPEN_MAX || strlen(path) >= sizeof f->open[0].path)
        return rc;
    /* a dataset open twice shares one cache, the first opening's: d is
     * closed before it is opened again with its own */
    hid_t kept = open_with_cache(f, path, *d);
    if (kept < 0)
        return sn_fail(SN_EINVAL, "%s: %s is not a dataset", f->path, path);
    *d = kept;
    *close_it = false;
    struct rows_dset *o = &f->open[f->n_open++];
    snprintf(o->path, sizeof o->path, "%s", path);
    o->id = kept;
    return SN_OK;
}

void sn_h5_done_reading(struct sn_h5 *f, const char *path)
{
    for (int i = 0; i < f->n_open; i++)
        if (strcmp(f->open[i].path, path) == 0) {
            H5Dclose(f->open[i].id);
            f->open[i] = f->open[--f->n_open];
            return;
        }
}

/* Read whole rows of dataset d: the ascending rows[0..n-1], or, when rows
 * is NULL, the block [first, first+n).  Runs of consecutive rows become one
 * hyperslab block each; the union is read with one H5Dread. */
static int read_union(struct sn_h5 *f, const char *path, hid_t d, const int32_t *rows,
                      size_t first, size_t n, size_t row_len, enum sn_h5_type type, void *out)
{
    int rc = SN_OK;
    hid_t s = H5Dget_space(d);
    int nd = H5Sget_simple_extent_ndims(s);
    hsize_t dims[SN_H5_MAX_DIMS], start[SN_H5_MAX_DIMS] = { 0 }, cnt[SN_H5_MAX_DIMS];
    H5Sget_simple_extent_dims(s, dims, NULL);
    for (int i = 0; i < nd; i++)
        cnt[i] = dims[i];
    /* the first run SET, the others OR: a single run stays a regular
     * hyperslab, which libhdf5 1.10 maps onto chunks far faster than an
     * OR-built one (a chunked Fashion-MNIST: 10x the time of h5py's) */
    for (size_t i = 0; i < n && rc == SN_OK;) {
        size_t j = rows ? i + 1 : n;
        while (rows && j < n && rows[j] == rows[j - 1] + 1)
            j++;
        long long lo = rows ? rows[i] : (long long)first, hi = lo + (long long)(j - i);
        if (nd < 1 || lo < 0 || (hsize_t)hi > dims[0])
            rc = sn_fail(SN_EINVAL, "%s: rows %lld..%lld of %s are out of range", f->path, lo,
                         hi - 1, path);
        start[0] = (hsize_t)lo;
        cnt[0] = j - i;
        if (rc == SN_OK && H5Sselect_hyperslab(s, i == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, start,
                                               NULL, cnt, NULL) < 0)
            rc = sn_fail(SN_EINVAL, "%s: selecting rows of %s failed", f->path, path);
        i = j;
    }
    hsize_t mdims[SN_H5_MAX_DIMS] = { n * row_len };
    size_t per_row = 1;
    for (int i = 1; i < nd; i++)
        per_row *= (size_t)dims[i];
    int mnd = nd > 1 && per_row == row_len ? nd : 1;
    for (int i = 0; mnd > 1 && i < nd; i++)
        mdims[i] = i ? dims[i] : n;
    if (rc == SN_OK && n > 0)
        rc = read_sel(f, path, d, s, &(struct rows_read){ rows, first, n }, mnd, mdims, type, out);
    H5Sclose(s);
    return rc;
}

/* read_union in pieces that touch about READ_CHUNKS chunks each: a piece
 * holds the rows of at most `most` rows of chunks (a row of chunks: those
 * holding chunk[0] consecutive rows), and never splits one (a chunk that
 * holds every row would be visited, and inflated, once for each piece). */
static int read_pieces(struct sn_h5 *f, const char *path, hid_t d, const int32_t *rows,
                       size_t first, size_t n, size_t row_len, enum sn_h5_type type, void *out)
{
    size_t tall = 1;
    const size_t per_row = chunk_span(d, &tall);
    const size_t most = per_row == 0 ? SIZE_MAX
                      : per_row >= READ_CHUNKS ? 1 : READ_CHUNKS / per_row;
    const size_t row_bytes = row_len * H5Tget_size(mem_type(type));
    int rc = SN_OK;
    for (size_t at = 0, end; at < n && !rc; at = end) {
        size_t band = (rows ? (size_t)rows[at] : first + at) / tall, bands = 1;
        for (end = at + 1; end < n; end++) {
            const size_t b = (rows ? (size_t)rows[end] : first + end) / tall;
            if (b != band && ++bands > most)
                break;
            band = b;
        }
        rc = read_union(f, path, d, rows ? rows + at : NULL, first + at, end - at, row_len, type,
                        (char *)out + at * row_bytes);
    }
    return rc;
}

static int read_rows(struct sn_h5 *f, const char *path, const int32_t *rows, size_t first,
                     size_t n, size_t row_len, enum sn_h5_type type, void *out)
{
    hid_t d = -1;
    bool close_it = true;
    int rc = rows_dset(f, path, &d, &close_it);
    if (rc)
        return rc;
    rc = read_pieces(f, path, d, rows, first, n, row_len, type, out);
    if (close_it)
        H5Dclose(d);
    return rc;
}

/* Direct reads.  A contiguous dataset without filters, whose stored
 * element type is the memory type asked for, is a plain array of rows at
 * one place in the file: sn_h5_read_rows reads each run of consecutive
 * rows with one pread there, instead of building an HDF5 hyperslab union
 * and reading it (libhdf5 1.10.8 spends about 17 us a row on that, CPU
 * time a training step pays for: bench/stream.sh).  Checked once per
 * dataset and type: the layout, the filters, the type, the file driver
 * (the default, POSIX files), and the first and last rows read both
 * ways (direct_check). */
static bool n_bytes(int fd, void *buf, size_t n, off_t at)
{
    char *p = buf;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, at);
        if (got <= 0 && !(got < 0 && errno == EINTR))
            return false;
        if (got > 0) {
            p += got;
            n -= (size_t)got;
            at += got;
        }
    }
    return true;
}

/* A descriptor of the very file libhdf5 has open (not the name opened
 * again: a file renamed over it meanwhile would be read with this one's
 * layout); -1 when the driver has none. */
static int dup_vfd(struct sn_h5 *f)
{
    const int fd = vfd_of(f);
    return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/* Row r of dataset path read by libhdf5 and directly at dr->base agree. */
static bool same_row(struct sn_h5 *f, const char *path, const struct direct *dr, int32_t r,
                     size_t row_len, enum sn_h5_type type, char *two_rows)
{
    return read_rows(f, path, &r, 0, 1, row_len, type, two_rows) == SN_OK &&
           n_bytes(f->fd, two_rows + dr->row_bytes, dr->row_bytes,
                   dr->base + (off_t)r * (off_t)dr->row_bytes) &&
           memcmp(two_rows, two_rows + dr->row_bytes, dr->row_bytes) == 0;
}

/* Whether dataset path (rows of row_len elements of type) can be read
 * directly, and where: H5Dget_offset counts from the file's first byte,
 * a user block (scratchnet's seal) included.  The first and the last row
 * are read both ways and must agree (a wrong base reads other rows: for
 * labels sorted by class, the first row alone may agree by chance). */
static void direct_check(struct sn_h5 *f, const char *path, enum sn_h5_type type,
                         size_t row_len, struct direct *dr)
{
    hid_t d = H5Dopen2(f->id, path, H5P_DEFAULT);
    if (d < 0)
        return;
    hid_t dcpl = H5Dget_create_plist(d), t = H5Dget_type(d), s = H5Dget_space(d);
    hid_t fapl = H5Fget_access_plist(f->id);
    hsize_t dims[SN_H5_MAX_DIMS];
    const int nd = H5Sget_simple_extent_ndims(s);
    const haddr_t addr = H5Dget_offset(d);
    dr->row_bytes = row_len * H5Tget_size(mem_type(type));
    bool ok = nd >= 1 && nd <= SN_H5_MAX_DIMS && H5Sget_simple_extent_dims(s, dims, NULL) >= 0 &&
              H5Pget_layout(dcpl) == H5D_CONTIGUOUS && H5Pget_nfilters(dcpl) == 0 &&
              H5Tequal(t, mem_type(type)) > 0 && addr != HADDR_UNDEF &&
              H5Pget_driver(fapl) == H5FD_SEC2;
    if (ok) {
        dr->n_rows = dims[0];
        dr->base = (off_t)addr;
        ok = H5Dget_storage_size(d) == dims[0] * dr->row_bytes && dims[0] <= INT32_MAX;
    }
    H5Pclose(fapl);
    H5Sclose(s);
    H5Tclose(t);
    H5Pclose(dcpl);
    H5Dclose(d);
    if (ok && f->fd < 0)
        f->fd = dup_vfd(f);
    if (!ok || f->fd < 0 || dr->n_rows == 0)
        return;
    char *a = malloc(2 * dr->row_bytes);
    dr->ok = a && same_row(f, path, dr, 0, row_len, type, a) &&
             same_row(f, path, dr, (int32_t)(dr->n_rows - 1), row_len, type, a);
    free(a);
}

/* The direct-read entry of (path, type), checked on first use; NULL when
 * the dataset must go through HDF5. */
static const struct direct *direct_of(struct sn_h5 *f, const char *path, enum sn_h5_type type,
                                      size_t row_len)
{
    if (f->writable || strlen(path) >= sizeof f->direct[0].path)
        return NULL;
    for (int i = 0; i < f->n_direct; i++)
        if (f->direct[i].type == type && strcmp(f->direct[i].path, path) == 0)
            return f->direct[i].ok && f->direct[i].row_bytes ==
                   row_len * H5Tget_size(mem_type(type)) ? &f->direct[i] : NULL;
    if (f->n_direct == DIRECT_MAX)
        return NULL;
    struct direct *dr = &f->direct[f->n_direct++];
    memset(dr, 0, sizeof *dr);
    snprintf(dr->path, sizeof dr->path, "%s", path);
    dr->type = type;
    direct_check(f, path, type, row_len, dr);
    return dr->ok ? dr : NULL;
}

int sn_h5_read_rows(struct sn_h5 *f, const char *path, const int32_t *rows, size_t n,
                    size_t row_len, enum sn_h5_type type, void *out)
{
    const struct direct *dr = direct_of(f, path, type, row_len);
    if (!dr)
        return read_rows(f, path, rows, 0, n, row_len, type, out);
    char *dst = out;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && rows[j] == rows[j - 1] + 1)
            j++;
        if (rows[i] < 0 || (hsize_t)rows[i] + (j - i) > dr->n_rows)
            return sn_fail(SN_EINVAL, "%s: rows %lld..%lld of %s are out of range", f->path,
                           (long long)rows[i], (long long)rows[i] + (long long)(j - i) - 1, path);
        errno = 0;
        if (!n_bytes(f->fd, dst + i * dr->row_bytes, (j - i) * dr->row_bytes,
                     dr->base + (off_t)rows[i] * (off_t)dr->row_bytes))
            return sn_fail(SN_EIO, "%s: reading rows of %s failed (%s)", f->path, path,
                           errno ? strerror(errno) : "the file is shorter than HDF5 says");
        i = j;
    }
    return SN_OK;
}

int sn_h5_read_block(struct sn_h5 *f, const char *path, size_t first, size_t n,
                     size_t row_len, enum sn_h5_type type, void *out)
{
    return read_rows(f, path, NULL, first, n, row_len, type, out);
}

size_t sn_h5_chunk_rows(struct sn_h5 *f, const char *path)
{
    hid_t d = -1;
    if (open_dset(f, path, &d))
        return 0;
    hid_t pl = H5Dget_create_plist(d);
    hsize_t chunk[H5S_MAX_RANK];
    size_t rows = 0;
    if (pl >= 0 && H5Pget_layout(pl) == H5D_CHUNKED && H5Pget_chunk(pl, H5S_MAX_RANK, chunk) >= 1)
        rows = (size_t)chunk[0];
    if (pl >= 0)
        H5Pclose(pl);
    H5Dclose(d);
    return rows;
}

int sn_h5_read_all(struct sn_h5 *f, const char *path, enum sn_h5_type type, void *out,
                   size_t len)
{
    hid_t d = -1;
    int rc = open_dset(f, path, &d);
    if (rc)
        return rc;
    if ((rc = check_backed(f, path, d))) {
        H5Dclose(d);
        return rc;
    }
    hid_t s = H5Dget_space(d);
    hssize_t have = H5Sget_simple_extent_npoints(s);
    hsize_t dims[H5S_MAX_RANK];
    if (have < 0 || (size_t)have != len)
        rc = sn_fail(SN_EINVAL, "%s: %s has %lld elements, expected %zu", f->path, path,
                     (long long)have, len);
    else if (len > 0 && H5Sget_simple_extent_dims(s, dims, NULL) >= 1)
        rc = read_pieces(f, path, d, NULL, 0, dims[0], len / dims[0], type, out);
    else
        rc = read_sel(f, path, d, H5S_ALL, &(struct rows_read){ NULL, 0, 0 }, 1,
                      (hsize_t[]){ len }, type, out);
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

int sn_h5_mkgroup(struct sn_h5 *f, const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return sn_fail(SN_EINVAL, "%s: path %s is too long", f->path, path);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        memcpy(buf, path, i);
        buf[i] = '\0';
        if (H5Lexists(f->id, buf, H5P_DEFAULT) > 0)
            continue;
        /* up to 64 attributes kept in the group's header (compact), not
         * the dense storage libhdf5 moves them to past 8: libhdf5 1.10.8's
         * H5Ocopy (h5py's Group.copy, h5copy) crashes copying a group of
         * dense variable-length strings, /run's 17; one too large for the
         * header still goes to dense storage */
        hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
        if (gcpl >= 0)
            H5Pset_attr_phase_change(gcpl, 64, 48);
        hid_t g = H5Gcreate2(f->id, buf, H5P_DEFAULT, gcpl >= 0 ? gcpl : H5P_DEFAULT,
                             H5P_DEFAULT);
        if (gcpl >= 0)
            H5Pclose(gcpl);
        if (g < 0)
            return sn_fail(SN_EIO, "%s: cannot create group %s", f->path, buf);
        H5Gclose(g);
    }
    return SN_OK;
}

/* Create the parent groups of path. */
static int make_parents(struct sn_h5 *f, const char *path)
{
    char buf[1024];
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return SN_OK;
    size_t n = (size_t)(slash - path);
    if (n >= sizeof buf)
        return sn_fail(SN_EINVAL, "%s: path %s is too long", f->path, path);
    memcpy(buf, path, n);
    buf[n] = '\0';
    return sn_h5_mkgroup(f, buf);
}

/* H5Dwrite of rows [at, at + n) of d (dims hd, ndim >= 1) from data. */
static herr_t write_rows(hid_t d, hid_t t, hid_t s, int ndim, const hsize_t *hd, hsize_t at,
                         hsize_t n, const void *data, size_t row_bytes)
{
    hsize_t start[SN_H5_MAX_DIMS] = { at }, count[SN_H5_MAX_DIMS] = { n };
    for (int i = 1; i < ndim; i++)
        count[i] = hd[i];
    hid_t m = H5Screate_simple(ndim, count, NULL);
    herr_t e = m < 0 ? -1 : H5Sselect_hyperslab(s, H5S_SELECT_SET, start, NULL, count, NULL);
    if (e >= 0)
        e = H5Dwrite(d, t, m, s, H5P_DEFAULT, (const char *)data + (size_t)at * row_bytes);
    if (m >= 0)
        H5Sclose(m);
    return e;
}

/* sn_h5_write: whole, or (stoppable) in blocks of rows with the stop
 * request looked at between them. */
static int write_dataset(struct sn_h5 *f, const char *path, int ndim, const size_t *dims,
                         enum sn_h5_type type, const void *data, bool stoppable)
{
    int rc = make_parents(f, path);
    if (rc)
        return rc;
    hsize_t hd[SN_H5_MAX_DIMS];
    size_t row_bytes = H5Tget_size(mem_type(type));
    for (int i = 0; i < ndim; i++) {
        hd[i] = dims[i];
        row_bytes *= i ? dims[i] : 1;
    }
    hid_t s = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, hd, NULL);
    hid_t t = mem_type(type);
    hid_t d = H5Dcreate2(f->id, path, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0) {
        H5Sclose(s);
        return sn_fail(SN_EIO, "%s: cannot create dataset %s", f->path, path);
    }
    errno = 0;
    herr_t e = 0;
    if (!stoppable || ndim == 0 || row_bytes == 0) {
        e = H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    } else {
        hsize_t block = (16u << 20) / row_bytes ? (16u << 20) / row_bytes : 1;
        char doing[5200];
        snprintf(doing, sizeof doing, "writing %s of %s", path, f->path);
        for (hsize_t at = 0; at < hd[0] && e >= 0 && !rc; at += block) {
            if ((rc = sn_interrupt_check(doing)))
                break;
            e = write_rows(d, t, s, ndim, hd, at, hd[0] - at < block ? hd[0] - at : block, data,
                           row_bytes);
        }
    }
    if (e < 0 && !rc)
        rc = sn_fail(SN_EIO, "%s: writing %s failed (%s)", f->path, path, sn_fs_write_why(errno));
    /* a small dataset's data may still sit in libhdf5's sieve buffer,
     * written out here: a full disk shows first at the close (the file
     * then held zeros where the data should be, and was sealed over them) */
    errno = 0;
    if (H5Dclose(d) < 0 && !rc)
        rc = sn_fail(SN_EIO, "%s: writing %s failed (%s)", f->path, path, sn_fs_write_why(errno));
    H5Sclose(s);
    return rc;
}

int sn_h5_write(struct sn_h5 *f, const char *path, int ndim, const size_t *dims,
                enum sn_h5_type type, const void *data)
{
    return write_dataset(f, path, ndim, dims, type, data, false);
}

int sn_h5_write_stoppable(struct sn_h5 *f, const char *path, int ndim, const size_t *dims,
                          enum sn_h5_type type, const void *data)
{
    return write_dataset(f, path, ndim, dims, type, data, true);
}

bool sn_h5_has_attr(struct sn_h5 *f, const char *path, const char *name)
{
    /* too many to look at: said by the read (open_attr), not passed over */
    return sn_h5_exists(f, path) && (dense_attr_bytes_at(f, path) > SN_H5_MAX_ATTR_BYTES ||
                                     H5Aexists_by_name(f->id, path, name, H5P_DEFAULT) > 0);
}

/* sn_h5_attrs_only's walk: stops at the first name not in names. */
static herr_t attr_in_names(hid_t loc, const char *name, const H5A_info_t *info, void *ctx)
{
    (void)loc;
    (void)info;
    for (const char *const *n = ctx; *n; n++)
        if (strcmp(*n, name) == 0)
            return 0;
    return 1;
}

bool sn_h5_attrs_only(struct sn_h5 *f, const char *path, const char *const *names)
{
    if (!sn_h5_exists(f, path) || dense_attr_bytes_at(f, path) > SN_H5_MAX_ATTR_BYTES)
        return false;
    hsize_t at = 0;
    herr_t rc = H5Aiterate_by_name(f->id, path, H5_INDEX_NAME, H5_ITER_INC, &at, attr_in_names,
                                   (void *)names, H5P_DEFAULT);
    if (rc < 0)
        H5Eclear2(H5E_DEFAULT);
    return rc == 0;
}

static int open_attr(struct sn_h5 *f, const char *path, const char *name, hid_t *a)
{
    const hsize_t dense = sn_h5_exists(f, path) ? dense_attr_bytes_at(f, path) : 0;
    if (dense > SN_H5_MAX_ATTR_BYTES)
        return sn_fail(SN_EINVAL, "%s: the attributes of %s are more than %d or take more than "
                       "%d MB (libhdf5 reads them whole to look at any; a per-feature mean and "
                       "std of up to %d float64 values each fit)"
                       SN_BUILD_LIMIT("SN_H5_MAX_ATTRS, SN_H5_MAX_ATTR_BYTES", "src/io/h5.h"),
                       f->path, path, SN_H5_MAX_ATTRS,
                       (int)(SN_H5_MAX_ATTR_BYTES >> 20), SN_H5_MAX_NORM);
    if (!sn_h5_exists(f, path) || H5Aexists_by_name(f->id, path, name, H5P_DEFAULT) <= 0)
        return sn_fail(SN_EINVAL, "%s: attribute %s of %s is missing", f->path, name, path);
    *a = H5Aopen_by_name(f->id, path, name, H5P_DEFAULT, H5P_DEFAULT);
    if (*a < 0)
        return sn_fail(SN_EINVAL, "%s: cannot open attribute %s of %s", f->path, name, path);
    return SN_OK;
}

static int too_long(struct sn_h5 *f, const char *path, const char *name, size_t bytes)
{
    return sn_fail(SN_EINVAL, "%s: attribute %s of %s holds %zu bytes, more than the %zu a "
                   "scratchnet text attribute holds (a model text is at most 1 MiB)", f->path,
                   name, path, bytes, SN_H5_MAX_TEXT);
}

int sn_h5_attr_get_str(struct sn_h5 *f, const char *path, const char *name, char **out)
{
    hid_t a = -1;
    int rc = open_attr(f, path, name, &a);
    if (rc)
        return rc;
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    char *res = NULL;
    if (H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_npoints(s) != 1) {
        rc = sn_fail(SN_EINVAL, "%s: attribute %s of %s is not one string", f->path, name, path);
    } else if (H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));   /* HDF5 does not convert ASCII <-> UTF-8 */
        char *v = NULL;
        if (read_attr(a, mt, &v) < 0 || !v)
            rc = sn_fail(SN_EINVAL, "%s: cannot read attribute %s of %s", f->path, name, path);
        else if (strlen(v) > SN_H5_MAX_TEXT)
            rc = too_long(f, path, name, strlen(v));
        else if (!(res = strdup(v)))
            rc = sn_fail(SN_ENOMEM, "out of memory");
        if (v)
            H5free_memory(v);
        H5Tclose(mt);
    } else if (H5Tget_size(t) > SN_H5_MAX_TEXT) {
        rc = too_long(f, path, name, H5Tget_size(t));
    } else {
        size_t n = H5Tget_size(t);
        res = calloc(n + 1, 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, n + 1);
        H5Tset_cset(mt, H5Tget_cset(t));
        if (!res)
            rc = sn_fail(SN_ENOMEM, "out of memory");
        else if (read_attr(a, mt, res) < 0)
            rc = sn_fail(SN_EINVAL, "%s: cannot read attribute %s of %s", f->path, name, path);
        H5Tclose(mt);
    }
    H5Sclose(s);
    H5Tclose(t);
    H5Aclose(a);
    if (rc) {
        free(res);
        return rc;
    }
    *out = res;
    return SN_OK;
}

static int write_attr(struct sn_h5 *f, const char *path, const char *name, hid_t t,
                      hid_t s, const void *data)
{
    if (H5Aexists_by_name(f->id, path, name, H5P_DEFAULT) > 0)
        H5Adelete_by_name(f->id, path, name, H5P_DEFAULT);
    hid_t a = H5Acreate_by_name(f->id, path, name, t, s, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT);
    if (a < 0)
        return sn_fail(SN_EIO, "%s: cannot create attribute %s of %s", f->path, name, path);
    int rc = H5Awrite(a, t, data) < 0
                 ? sn_fail(SN_EIO, "%s: cannot write attribute %s of %s", f->path, name, path)
                 : SN_OK;
    H5Aclose(a);
    return rc;
}

int sn_h5_attr_set_str(struct sn_h5 *f, const char *path, const char *name, const char *str)
{
    return sn_h5_attr_set_strs(f, path, name, &str, 0);
}

int sn_h5_attr_set_strs(struct sn_h5 *f, const char *path, const char *name,
                        const char *const *str, size_t n)
{
    /* n == 0: one scalar string; otherwise an array of n strings. */
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hsize_t hn = n;
    hid_t s = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &hn, NULL);
    int rc = write_attr(f, path, name, t, s, str);
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

void sn_h5_free_strs(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

/* An attribute of cnt elements of type t is a list of names
 * sn_h5_attr_get_strs reads: strings, at least one, at most SN_H5_MAX_STRS
 * of at most SN_H5_MAX_STR bytes each (fixed length; variable-length ones
 * are measured as they are read). */
static int check_strs(struct sn_h5 *f, const char *path, const char *name, hid_t t,
                      hssize_t cnt)
{
    if (H5Tget_class(t) != H5T_STRING)
        return sn_fail(SN_EINVAL, "%s: attribute %s of %s is not an array of strings", f->path,
                       name, path);
    if (cnt < 1)
        return sn_fail(SN_EINVAL, "%s: attribute %s of %s holds no strings", f->path, name,
                       path);
    if (cnt > SN_H5_MAX_STRS)
        return sn_fail(SN_EINVAL, "%s: attribute %s of %s holds too many strings (%lld; the "
                       "limit is %d, SN_H5_MAX_STRS in src/io/h5.h)", f->path, name, path,
                       (long long)cnt, SN_H5_MAX_STRS);
    if (H5Tis_variable_str(t) <= 0 && H5Tget_size(t) > SN_H5_MAX_STR)
        return sn_fail(SN_EINVAL, "%s: attribute %s of %s holds strings longer than %d bytes",
                       f->path, name, path, SN_H5_MAX_STR);
    return SN_OK;
}

/* Read attribute a, n variable-length strings, into res[0..n). */
static int read_var_strs(struct sn_h5 *f, const char *path, const char *name, hid_t a, hid_t t,
                         char **res, size_t n)
{
    int rc = SN_OK;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(t));
    char **v = calloc(n, sizeof *v);
    if (!v || read_attr(a, mt, v) < 0)
        rc = sn_fail(SN_EINVAL, "%s: cannot read attribute %s of %s", f->path, name, path);
    for (size_t i = 0; v && i < n; i++) {
        if (!rc && v[i] && strlen(v[i]) > SN_H5_MAX_STR)
            rc = sn_fail(SN_EINVAL, "%s: attribute %s of %s holds strings longer than %d "
                         "bytes", f->path, name, path, SN_H5_MAX_STR);
        if (!rc && !(res[i] = strdup(v[i] ? v[i] : "")))
            rc = sn_fail(SN_ENOMEM, "out of memory");
        if (v[i])
            H5free_memory(v[i]);
    }
    free(v);
    H5Tclose(mt);
    return rc;
}

/* Read attribute a, n fixed-length strings, into res[0..n). */
static int read_fixed_strs(struct sn_h5 *f, const char *path, const char *name, hid_t a,
                           hid_t t, char **res, size_t n)
{
    int rc = SN_OK;
    size_t len = H5Tget_size(t);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, len);
    H5Tset_cset(mt, H5Tget_cset(t));
    H5Tset_strpad(mt, H5T_STR_NULLPAD);
    char *buf = calloc(n, len + 1);
    if (!buf || read_attr(a, mt, buf) < 0)
        rc = sn_fail(SN_EINVAL, "%s: cannot read attribute %s of %s", f->path, name, path);
    for (size_t i = 0; !rc && i < n; i++) {
        res[i] = calloc(len + 1, 1);
        if (!res[i])
            rc = sn_fail(SN_ENOMEM, "out of memory");
        else
            memcpy(res[i], buf + i * len, len);
    }
    free(buf);
    H5Tclose(mt);
    return rc;
}

int sn_h5_attr_get_strs(struct sn_h5 *f, const char *path, const char *name, char ***out,
                        size_t *n_out)
{
    hid_t a = -1;
    int rc = open_attr(f, path, name, &a);
    if (rc)
        return rc;
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    hssize_t cnt = H5Sget_simple_extent_npoints(s);
    size_t n = cnt > 0 ? (size_t)cnt : 0;
    char **res = NULL;
    rc = check_strs(f, path, name, t, cnt);
    if (!rc && !(res = calloc(n, sizeof *res)))
        rc = sn_fail(SN_ENOMEM, "out of memory");
    if (!rc)
        rc = H5Tis_variable_str(t) > 0 ? read_var_strs(f, path, name, a, t, res, n)
                                       : read_fixed_strs(f, path, name, a, t, res, n);
    H5Sclose(s);
    H5Tclose(t);
    H5Aclose(a);
    if (rc) {
        sn_h5_free_strs(res, n);
        return rc;
    }
    for (size_t i = 0; i < n && !rc; i++)   /* names are shown: no byte may act on a terminal */
        for (char *c = res[i]; *c && !rc; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)   /* refused, never changed silently */
                rc = sn_fail(SN_EINVAL, "%s: attribute %s of %s: string %zu holds a control "
                             "character (U+%04X)", sn_h5_path(f), name, path, i,
                             (unsigned)(unsigned char)*c);
    if (rc) {
        sn_h5_free_strs(res, n);
        return rc;
    }
    *out = res;
    *n_out = n;
    return SN_OK;
}

/* Open a numeric attribute and count its elements (*a to close). */
static int open_numeric_attr(struct sn_h5 *f, const char *path, const char *name, hid_t *a,
                             size_t *n)
{
    int rc = open_attr(f, path, name, a);
    if (rc)
        return rc;
    hid_t t = H5Aget_type(*a), s = H5Aget_space(*a);
    hssize_t cnt = H5Sget_simple_extent_npoints(s);
    H5T_class_t c = H5Tget_class(t);
    H5Sclose(s);
    H5Tclose(t);
    if ((c != H5T_FLOAT && c != H5T_INTEGER) || cnt < 1) {
        H5Aclose(*a);
        return sn_fail(SN_EINVAL, "%s: attribute %s of %s must be numbers", f->path, name, path);
    }
    *n = (size_t)cnt;
    return SN_OK;
}

int sn_h5_attr_len(struct sn_h5 *f, const char *path, const char *name, size_t *n)
{
    hid_t a = -1;
    int rc = open_numeric_attr(f, path, name, &a, n);
    if (!rc)
        H5Aclose(a);
    return rc;
}

int sn_h5_attr_get_f64(struct sn_h5 *f, const char *path, const char *name, double *v,
                       size_t max, size_t *n)
{
    hid_t a = -1;
    size_t cnt = 0;
    int rc = open_numeric_attr(f, path, name, &a, &cnt);
    if (rc)
        return rc;
    if (cnt > max && max == 1)
        rc = sn_fail(SN_EINVAL, "%s: attribute %s of %s must be one number, it holds %zu",
                     f->path, name, path, cnt);
    else if (cnt > max)
        rc = sn_fail(SN_EINVAL, "%s: attribute %s of %s must be 1 to %zu numbers, it holds %zu",
                     f->path, name, path, max, cnt);
    else if (read_attr(a, H5T_NATIVE_DOUBLE, v) < 0)
        rc = sn_fail(SN_EINVAL, "%s: cannot read attribute %s of %s", f->path, name, path);
    else
        *n = cnt;
    H5Aclose(a);
    return rc;
}

int sn_h5_attr_set_f64(struct sn_h5 *f, const char *path, const char *name, const double *v,
                       size_t n)
{
    hsize_t hn = n;
    hid_t s = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &hn, NULL);
    int rc = write_attr(f, path, name, H5T_NATIVE_DOUBLE, s, v);
    H5Sclose(s);
    return rc;
}
