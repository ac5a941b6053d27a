/* status: error codes and the last error message of the calling thread.
 *
 * Every fallible library function returns SN_OK (0) or a negative SN_E* code
 * and records a one-line message with sn_fail(); sn_errmsg() returns it.  The
 * library owns the message; the next failure on the same thread overwrites it
 * (the sqlite3_errmsg contract).  Library code never prints and never exits.
 */
#ifndef SN_CORE_STATUS_H
#define SN_CORE_STATUS_H

#include <stdbool.h>
#include <stddef.h>

enum sn_status {
    SN_OK = 0,
    SN_ENOMEM = -1,   /* an allocation failed */
    SN_EINVAL = -2,   /* invalid input: model file, data file, checkpoint, value */
    SN_ESHAPE = -3,   /* shapes that do not fit (an invalid model) */
    SN_EUSAGE = -4,   /* bad command line */
    SN_EIO = -5,      /* a file could not be read or written */
    SN_EDIST = -6,    /* the distributed runtime failed */
    SN_ENUM = -7,     /* a NaN or Inf appeared in training */
    SN_EDAMAGED = -8, /* a file is truncated or corrupted (checksum) */
    SN_EFATAL = -9,   /* a failure the other ranks may not know of (a collective broke):
                       * only ending the whole job is safe (sn_dist_abort) */
    SN_EINTR = -10,   /* a signal asked the program to stop (core/interrupt.h) */
};

/* Record a printf-style message for code and return code, so a failing site
 * reads `return sn_fail(SN_EINVAL, "...", ...);`.  The message is kept on
 * one line: control bytes in it (from quoted input) become '?'. */
int sn_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the current message with a printf-style context ("file.cfg:12: ")
 * and return code unchanged; used as errors pass up through a layer. */
int sn_fail_prefix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append a printf-style sequel to the current message ("; what to do")
 * and return code: a layer that knows the remedy adds it to the reason. */
int sn_fail_suffix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The end of a refusal at a limit fixed when scratchnet is built: the
 * constant to raise (then rebuild) and where every limit is listed. */
#define SN_BUILD_LIMIT(name, file) \
    " (a build limit: " name " in " file "; docs/RELIABILITY.md lists them)"

/* The calling thread's last message ("" when there was none). */
const char *sn_errmsg(void);

/* A short name of a code ("invalid input", ...). */
const char *sn_strstatus(int code);

/* true for the codes that mean the user gave something invalid (exit 2). */
static inline int sn_status_is_input(int code)
{
    return code == SN_EINVAL || code == SN_ESHAPE || code == SN_EUSAGE || code == SN_EDAMAGED;
}

#endif
