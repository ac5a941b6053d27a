/* status: the thread-local last error message (see status.h). */
#include "core/status.h"

#include "core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MSG_LEN 1024

static _Thread_local char last_msg[MSG_LEN];

/* A message longer than MSG_LEN keeps its beginning and its end, with
 * " ... " between: a message quoting a 4000-byte path must still say what
 * is wrong with it, and that is said last. */
#define HEAD (MSG_LEN / 4)
static void keep_ends(const char *full, size_t len)
{
    if (len < MSG_LEN) {
        memcpy(last_msg, full, len + 1);
        return;
    }
    const size_t tail = MSG_LEN - HEAD - 6;
    memcpy(last_msg, full, HEAD);
    memcpy(last_msg + HEAD, " ... ", 5);
    memcpy(last_msg + HEAD + 5, full + len - tail, tail + 1);
}

/* Room for a message quoting two paths of PATH_MAX bytes. */
#define FULL_LEN (3 * 4096)

int sn_fail(int code, const char *fmt, ...)
{
    char full[FULL_LEN];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(full, sizeof full, fmt, ap);
    va_end(ap);
    keep_ends(full, n < 0 ? 0 : (size_t)n < sizeof full ? (size_t)n : sizeof full - 1);
    sn_text_clean(last_msg, false);
    return code;
}

int sn_fail_prefix(int code, const char *fmt, ...)
{
    char full[FULL_LEN + MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(full, FULL_LEN, fmt, ap);
    va_end(ap);
    n = n < 0 ? 0 : n < FULL_LEN ? n : FULL_LEN - 1;
    snprintf(full + n, sizeof full - (size_t)n, "%s", last_msg);
    keep_ends(full, strlen(full));
    sn_text_clean(last_msg, false);
    return code;
}

int sn_fail_suffix(int code, const char *fmt, ...)
{
    char full[MSG_LEN + FULL_LEN];
    const size_t n = strlen(last_msg);
    memcpy(full, last_msg, n + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(full + n, sizeof full - n, fmt, ap);
    va_end(ap);
    keep_ends(full, strlen(full));
    sn_text_clean(last_msg, false);
    return code;
}

const char *sn_errmsg(void)
{
    return last_msg;
}

const char *sn_strstatus(int code)
{
    switch (code) {
    case SN_OK: return "ok";
    case SN_ENOMEM: return "out of memory";
    case SN_EINVAL: return "invalid input";
    case SN_ESHAPE: return "shape mismatch";
    case SN_EUSAGE: return "usage error";
    case SN_EIO: return "i/o error";
    case SN_EDIST: return "distributed runtime error";
    case SN_ENUM: return "non-finite value";
    case SN_EDAMAGED: return "damaged file";
    case SN_EFATAL: return "unrecoverable distributed failure";
    case SN_EINTR: return "interrupted";
    default: return "unknown error";
    }
}
