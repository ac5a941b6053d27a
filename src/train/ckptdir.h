/* ckptdir: the checkpoint folder of a run.
 *
 * A run with a checkpoint folder DIR writes DIR/ckpt-<step>.h5, the step
 * being the global step count the checkpoint continues from, written with
 * at least 8 digits (ckpt-00000420.h5) so that names sort like steps.
 * Only names in exactly that form count as checkpoints; anything else in
 * the folder is left alone.  Rank 0 alone reads the listing and removes
 * files; the trainer broadcasts what it decides.
 *
 * A folder belongs to one run at a time: the run holds DIR/.lock (flock,
 * released by the kernel however the process ends, so a killed run leaves
 * no stale lock), which names its host and pid for whoever finds it held.
 */
#ifndef SN_TRAIN_CKPTDIR_H
#define SN_TRAIN_CKPTDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/record.h"

/* path = "DIR/ckpt-<step>.h5".  SN_EINVAL if it does not fit len bytes. */
int sn_ckptdir_path(const char *dir, int64_t step, char *path, size_t len);

/* Whether a file's last name is one the folder's run writes: a
 * checkpoint's, the lock file's or a checkpoint's temporary file's.  An
 * output of the run (--out, --log) under such a name in the folder would
 * be overwritten by a checkpoint, or overwrite one. */
bool sn_ckptdir_is_name(const char *name);

/* The steps of the checkpoints in dir, newest first, in *steps (malloc'd,
 * caller frees; NULL when there are none) and their count in *n.  A folder
 * that does not exist holds none.  SN_EIO if it cannot be read, SN_ENOMEM. */
int sn_ckptdir_list(const char *dir, int64_t **steps, size_t *n);

/* Before a run takes the folder: SN_EUSAGE if an entry of dir under a
 * checkpoint's name is not a regular file (a folder, a FIFO, a symbolic
 * link to anything: never read, replaced, removed or written through),
 * naming it; and, for a run that
 * starts fresh (no --resume), if dir holds any checkpoint, naming dir and
 * the newest (the run would overwrite and prune them) and saying what to
 * do (--resume auto, or another folder).  A folder that does not exist
 * passes.  SN_EUSAGE too if dir's name is longer than
 * SN_CKPTDIR_MAX_NAME.  SN_EIO if it cannot be read. */
int sn_ckptdir_check(const char *dir, bool fresh);

/* The longest --checkpoint-dir: what the run writes in it,
 * "/.ckpt-<step>.h5.tmp.<pid>", must fit PATH_MAX (4096) with it.
 * sn_ckptdir_check_name: SN_EUSAGE, naming the length, for a longer one. */
#define SN_CKPTDIR_MAX_NAME 4000
int sn_ckptdir_check_name(const char *dir);

/* For the run that holds dir's lock: remove the temporary files of
 * checkpoint writes that never finished (a second Ctrl-C, SIGKILL, a
 * crash), which no other run can be writing now.  Returns how many;
 * first gets the first one's path.  A whole file that only carries such a
 * name (sealed, or a dataset or weights) is kept: kept gets its path. */
int sn_ckptdir_remove_tmp(const char *dir, char *first, size_t first_len, char *kept,
                          size_t kept_len);


/* Just before a checkpoint is written to path, a file already there is
 * renamed to path.damaged (or .damaged-2, ...), whose name comes back in
 * aside ("" when there was none), and *what says what it is: a checkpoint
 * --resume auto passed over as damaged, which this run's own of that step
 * must not replace unseen (it is evidence, and may be another run's).  A
 * file that reads (a dataset someone copied there) is renamed path.kept
 * instead: a name that says damaged invites its deletion. */
int sn_ckptdir_set_aside(const char *path, char *aside, size_t len, const char **what);

/* Take dir's lock for this process.  *fd is the descriptor that holds it
 * (sn_ckptdir_unlock releases it); was receives what the lock file held
 * before (up to was_len - 1 bytes, "" for a new file).  SN_EUSAGE naming the
 * holder's host and pid when another run holds it; SN_EIO when the lock
 * file cannot be made (a read-only folder). */
int sn_ckptdir_lock(const char *dir, int *fd, char *was, size_t was_len);
void sn_ckptdir_unlock(int fd);
/* SN_OK while dir/.lock is still the file locked through *fd; SN_EIO
 * naming dir when the folder was moved or replaced (a link to another
 * run's folder): writing there would bypass that folder's lock.  A lock
 * file removed alone (a cleanup of hidden files), or the folder removed
 * whole, is made and locked again, *fd replaced and *remade naming what
 * ("its lock file", "the folder"); when another run took the name first,
 * its refusal.  SN_OK for *fd < 0 (no lock held). */
int sn_ckptdir_still_ours(const char *dir, int *fd, const char **remade);
/* Release it and remove the lock file (only while still ours): for a run
 * that made the file and stops before its first step, so that it leaves
 * the folder as it was. */
void sn_ckptdir_unlock_remove(const char *dir, int fd);
/* Release it with the lock file's text back to was: for a run that found
 * the file and stops before its first step. */
void sn_ckptdir_unlock_restore(int fd, const char *was);
bool sn_ckptdir_has_lock_file(const char *dir);

/* path is a checkpoint of the model of fingerprint model_fp that this run
 * has just written: sn_ckptdir_prune takes it as this model's without
 * reading it (while it stays as it is). */
void sn_ckptdir_note_ours(const char *path, const char *model_fp);

/* Whose checkpoints sn_ckptdir_prune may remove: files of the model
 * whose layer fingerprint (io/fingerprint.h) is model_fp that are
 * checkpoints (/state) with a run record that a resume of this run
 * (record, with the --resume-override list overrides, may be NULL) would
 * accept: trajectory.h.  A NULL record skips that comparison. */
struct sn_ckptdir_owner {
    const char *model_fp;
    const struct sn_run_record *record;
    const char *overrides;
};

/* Remove this run's checkpoints of dir (own) but the newest keep of them
 * (keep >= 1), counting only those at steps up to upto (the step of the
 * checkpoint the run has just written): a later one is another run's (a
 * run of the same model that went further, left in the folder) and must
 * not count as newer than the run's own, nor be removed.  Files of
 * another model are left alone; a file of this model that is not this
 * run's checkpoint (a weights file, another run's checkpoint) or cannot
 * be read (damaged, not a checkpoint) is left too, and warn(ctx, message)
 * says so, once per file as it is (warn may be NULL).  Returns how many
 * were removed, or a negative status (SN_EIO naming the file). */
int sn_ckptdir_prune(const char *dir, size_t keep, const struct sn_ckptdir_owner *own,
                     int64_t upto, void (*warn)(void *ctx, const char *msg), void *ctx);

#endif
