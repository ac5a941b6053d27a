/* status: the thread-local last error message (see status.h). */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MSG_LEN 1024

static _Thread_local char last_msg[MSG_LEN];

/* A message is one line whatever it quotes (a file name, a flag value, a
 * class name): control bytes become '?', so an error is always exactly one
 * line and no byte of it can act on a terminal. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

int sn_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    one_line(last_msg);
    return code;
}

int sn_fail_prefix(int code, const char *fmt, ...)
{
    char old[MSG_LEN];
    va_list ap;
    memcpy(old, last_msg, sizeof old);
    va_start(ap, fmt);
    int n = vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_msg)
        snprintf(last_msg + n, sizeof last_msg - (size_t)n, "%.*s", (int)(sizeof last_msg) - 1 - n, old);
    one_line(last_msg);
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
