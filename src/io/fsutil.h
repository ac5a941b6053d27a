/* fsutil: crash-safe file replacement.
 *
 * Writers write a temporary file in the destination's folder, then call
 * sn_fs_commit: the temporary file is fsync'ed, renamed over the final name
 * (atomic on POSIX file systems) and the folder fsync'ed, so a crash leaves
 * either the old file or the new one under the final name, never a half
 * written one.
 */
#ifndef SN_IO_FSUTIL_H
#define SN_IO_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct stat;

/* The file that writing path replaces: path itself, or, when path is a
 * symbolic link (or a chain of them), the name the chain ends at, into
 * target (len bytes); the link stays a link and its file gets the new
 * contents.  *st gets what is there now (lstat; all zero when nothing is:
 * the write creates it).  SN_EINVAL naming path for a link in /proc (an
 * open descriptor such as /dev/stdout: the rename would replace the link,
 * and the file behind it may be a terminal or a pipe), more than 40 links,
 * a name longer than len. */
int sn_fs_output_target(const char *path, char *target, size_t len, struct stat *st);

/* tmp = "<dir of target>/.<base of target>.tmp.<pid>", target being
 * path's final file (sn_fs_output_target), so the rename stays in one
 * folder. */
void sn_fs_tmpname(const char *path, char *tmp, size_t tmp_len);

/* fsync tmp, rename it onto path's final file (through symbolic links),
 * fsync that folder.  On failure tmp is removed and path is untouched.
 * SN_EIO, also when something other than a regular file is there.  When a
 * replace guard is set and refuses the file there now, its error is
 * returned and tmp is kept (the guard's message names it). */
int sn_fs_commit(const char *tmp, const char *path);

/* Outputs (sn_fs_commit) get this mode (0666 less the user's umask) just
 * before their rename: the command sets it when the umask takes the
 * owner's read or write bits, which it then works without (a file made
 * 0000 could not be written on by the writer that made it). */
void sn_fs_set_output_mode(unsigned mode);

/* A rule of the program's for what sn_fs_commit may not replace, checked
 * just before the rename (the file may have changed since the command
 * checked its outputs): path as given, target the file it leads to now;
 * SN_OK to go on, else an error naming them and where the new file stays
 * (tmp).  NULL: none (the default). */
typedef int (*sn_fs_replace_guard)(const char *path, const char *target, const char *tmp);
void sn_fs_set_replace_guard(sn_fs_replace_guard guard);
/* Whether a program set one (the command checks its outputs itself). */
bool sn_fs_has_replace_guard(void);

/* For files never written through a link (checkpoints, in a folder the
 * run owns): tmp beside path itself, and the rename onto path's own name,
 * which replaces a link there (placed after any check) rather than the
 * file it points to.  With replace false, nothing at path is replaced:
 * what appeared there since the caller made room fails the commit (a new
 * name made with link(2), which never replaces, then tmp's name removed).
 * SN_EIO; on failure tmp is removed. */
void sn_fs_tmpname_here(const char *path, char *tmp, size_t tmp_len);
int sn_fs_commit_here(const char *tmp, const char *path, bool replace);

/* Create the temporary file tmp (of the output path) new: never through a
 * symbolic link and never into anything already at the name, which is
 * predictable (O_CREAT | O_EXCL | O_NOFOLLOW); SN_EIO naming path and tmp
 * when something is there (it is left alone: do not remove tmp then).
 * *out gets it open for writing, or, with out NULL, it is closed for a
 * writer that opens by name (libhdf5 truncates the empty file). */
int sn_fs_create_tmp(const char *tmp, const char *path, FILE **out);

/* Remove every temporary file this process created (sn_fs_create_tmp) and
 * has not yet renamed into place: for a second Ctrl-C, which ends the
 * process at once (a 170 MB `.w.h5.tmp.PID` of a save cut off stayed).
 * Async-signal-safe. */
void sn_fs_abandon_tmp(void);

/* out = "dir/name" (len bytes); SN_EINVAL naming both when it does not fit
 * (never a path cut short, which names another file or folder). */
int sn_fs_join(char *out, size_t len, const char *dir, const char *name);

/* Create a folder (and parents) if missing.  SN_EIO. */
int sn_fs_mkdirs(const char *dir);

/* sn_fs_mkdirs, and in made the top folder this call's own mkdir made
 * ("" when each was there already, or another process made it first):
 * what a run that fails may remove. */
int sn_fs_mkdirs_made(const char *dir, char *made, size_t made_len);

/* Peak resident memory of this process so far, in MiB (VmHWM of
 * /proc/self/status; 0 if unknown). */
double sn_peak_rss_mb(void);
/* Inputs are regular files: open path for reading only if it is one (a
 * FIFO, a device such as /dev/zero, a folder or a socket is refused
 * without blocking: the open itself does not wait for a FIFO's writer)
 * of at most max_bytes bytes.  *size gets its size (may be NULL; set on a
 * refusal too, 0 when it could not be known).
 * SN_EINVAL naming path and what it is ("what": "model file", "image"). */
int sn_fs_open_input(const char *path, const char *what, size_t max_bytes, FILE **out,
                     size_t *size);

/* The same check without opening: SN_OK if path is a regular file of at
 * most max_bytes bytes (for readers that open by name, as libhdf5 does). */
int sn_fs_check_input(const char *path, const char *what, size_t max_bytes);

/* FNV-1a 64 of the bytes of fp from byte `from` to its end into *hash,
 * and from + the bytes read into *len.  -1 on a seek or read error; with
 * stop_doing, SN_EINTR when a stop request comes ("interrupted by SIGTERM
 * while <stop_doing>"). */
int sn_fs_hash(FILE *fp, long from, const char *stop_doing, uint64_t *hash, uint64_t *len);

/* A file's identity and version (device, inode, size, modification and
 * change times): two equal stamps are, as far as a reader can tell without
 * reading it again, the same bytes at the same place.  The change time is
 * the one no user can set back (touch -d sets the modification time: a
 * file rewritten in place with its size and time put back passed as
 * checked).  Fixed-width fields, so this header needs no POSIX types. */
struct sn_file_stamp {
    uint64_t dev, ino;
    int64_t size, mtime_s, mtime_ns, ctime_s, ctime_ns;
};
/* *s = the stamp of path (following links) or of the open descriptor fd;
 * -1 (errno set) when it cannot be read. */
int sn_fs_stamp(const char *path, struct sn_file_stamp *s);
int sn_fs_stamp_fd(int fd, struct sn_file_stamp *s);
/* 1 if a and b are the same file with the same size and modification
 * time, else 0: what a writer that renames its file into place keeps (a
 * rename moves the change time). */
int sn_fs_stamp_same(const struct sn_file_stamp *a, const struct sn_file_stamp *b);
/* The same, and the same change time: nothing written, renamed or
 * re-dated since (what a check of the file's contents relies on). */
int sn_fs_stamp_unchanged(const struct sn_file_stamp *a, const struct sn_file_stamp *b);

/* A text file read a character at a time as its readers would recognise
 * it, for the checks that tell what a file is: UTF-8 byte-order marks are
 * skipped; after a UTF-32 or UTF-16 one (the readers name such files) each
 * 4- or 2-byte unit is one character.  Characters past ASCII come as 0x80,
 * which no check looks for, but for U+FEFF (a byte-order mark kept inside
 * the text by a conversion), which comes as a blank.  sn_fs_text_open:
 * false when path is no regular file or cannot be opened (it never waits
 * for a FIFO's writer); close with fclose(t.fp). */
struct sn_fs_text {
    FILE *fp;
    int unit;          /* bytes a character: 1, or 2 (UTF-16), 4 (UTF-32) */
    bool big_endian;
};
bool sn_fs_text_open(const char *path, struct sn_fs_text *t);
/* The bytes a character of the text starting with b (n bytes) takes: 4
 * for UTF-32, 2 for UTF-16, told by a byte-order mark (*marked) or, for
 * ASCII text without one (iconv -t UTF-16LE writes none), by where its NUL
 * bytes are; 1 otherwise.  *big_endian: the order. */
int sn_fs_wide_unit(const unsigned char *b, size_t n, bool *big_endian, bool *marked);
/* path opened for reading if it is a regular file, without waiting for a
 * FIFO's writer or a device; NULL otherwise. */
FILE *sn_fs_open_regular(const char *path);
int sn_fs_text_getc(struct sn_fs_text *t);

/* Whether path holds a model file's text: after a byte-order mark, its
 * first line that is not blank or a comment (within the 1 MiB a model file
 * may have; lines may end in LF, CR LF or CR alone) is [net].  For messages
 * and for outputs that would replace one, so it recognises what the model
 * reader names and refuses too (CR line ends, UTF-16). */
bool sn_fs_is_model_text(const char *path);

/* Whether another process holds the file at path locked for writing (an
 * exclusive flock: a run appending to its --log, HDF5's writers such as
 * h5py's mode 'a'); false when it cannot be opened. */
bool sn_fs_held_for_writing(const char *path);

/* The newest checkpoint of the folder dir by its name (ckpt-<step>.h5, the
 * highest step) that is a regular file (not a folder, a link, a FIFO) and
 * that ok (if not NULL) accepts, into name (its name in dir); false when
 * there is none.  For messages: src/train/ckptdir.c keeps the real list. */
bool sn_fs_newest_checkpoint(const char *dir, bool (*ok)(const char *path), char *name,
                             size_t len);

/* Whether the file at path is HDF5: its signature at 0 or after a user
 * block (512, 1024, 2048, ... bytes: h5py's userblock_size), or the seal
 * scratchnet writes before it. */
bool sn_fs_is_hdf5(const char *path);

/* Whether the file at path holds HDF5 after a user block of other data
 * (not zeros, not scratchnet's seal): a tar archive whose first member is
 * an HDF5 file (its data at byte 512) reads as that file.  More than 64
 * MiB of zeros before it count as other data (holes are not read). */
bool sn_fs_hdf5_after_other_data(const char *path);

/* The first 12 bytes of the HDF5 superblock of the file at path (its
 * signature at 0 or after a user block) into sb; false when there is
 * none.  *sealed: the file starts with scratchnet's seal. */
bool sn_fs_hdf5_superblock(const char *path, unsigned char sb[12], bool *sealed);

/* Whether the file at path (not followed if a link) is the root of a
 * mount: a file bound onto its name (docker -v, singularity --bind, mount
 * --bind), which no rename can replace (EBUSY). */
bool sn_fs_is_mount_point(const char *path);

/* What st is, for a message: "a folder", "a FIFO", "a character device",
 * "a block device", "a socket", "a file" (a regular one). */
const char *sn_fs_kind(const struct stat *st);

/* Why a write failed, from its errno: "no space left on the device",
 * "disk quota exceeded", "file too large" (a file-size limit), another
 * system reason, or "disk full?" when errno says nothing. */
const char *sn_fs_write_why(int err);

/* The fields of /proc/PID/stat after the process's name (its state
 * first: "S 1234 ..."), read into buf (len bytes), or NULL when it cannot
 * be read.  The name may hold anything, ')' and spaces too. */
const char *sn_fs_proc_stat(long pid, char *buf, size_t len);

/* The one way scratchnet says an input could not be opened, with the
 * reason: SN_EINVAL "PATH: cannot open: <strerror(err)>" and the hint, if
 * not NULL, after it ("(is this ...?)"). */
int sn_fs_open_failed(const char *path, int err, const char *hint);

#endif
