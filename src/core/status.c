/* status: the thread-local last error message (see status.h). */
#include "core/status.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MSG_LEN 1024

static _Thread_local char last_msg[MSG_LEN];

/* The length of the UTF-8 character at p, 0 if p does not start one
 * (strictly: no overlong form, no surrogate, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *p)
{
    const size_t n = p[0] < 0x80 ? 1 : p[0] < 0xc2 ? 0 : p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3
                   : p[0] < 0xf5 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* C1 controls (U+0080-U+009F; 0x9b is a terminal's CSI), the
 * bidirectional marks, overrides and isolates (U+061C, U+200E-F,
 * U+202A-E, U+2066-9), which reorder how the rest of a terminal line is
 * shown, and the line and paragraph separators (U+2028-9), which some
 * viewers break a line at. */
static bool unsafe_char(const unsigned char *p, size_t n)
{
    return (n == 2 && ((p[0] == 0xc2 && p[1] < 0xa0) || (p[0] == 0xd8 && p[1] == 0x9c))) ||
           (n == 3 && p[0] == 0xe2 &&
            ((p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xa8 && p[2] <= 0xae))) ||
             (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)));
}

/* A message is one line whatever it quotes (a file name, a flag value, a
 * class name): control characters (C0, DEL and C1, whose 0x9b starts a
 * terminal sequence as ESC [ does) and bytes that are not UTF-8 become
 * '?', so an error is always exactly one line and no byte of it can act
 * on a terminal.  keep_lines spares newline and tab (text of several
 * lines). */
static void clean(char *s, bool keep_lines)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        const size_t n = utf8_len(p);
        if (keep_lines && (*p == '\n' || *p == '\t'))
            p++;
        else if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) || unsafe_char(p, n))
            *p++ = '?';
        else
            p += n;
    }
}

void sn_text_clean(char *s, bool keep_lines)
{
    clean(s, keep_lines);
}

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
    clean(last_msg, false);
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
    clean(last_msg, false);
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
    clean(last_msg, false);
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

/* Edit distance of two short names, stopping early above 2. */
#define TEXT_NEAR_MAX 64

bool sn_text_near(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    int row[TEXT_NEAR_MAX + 1];
    if (la >= TEXT_NEAR_MAX || lb >= TEXT_NEAR_MAX || (la > lb ? la - lb : lb - la) > 2)
        return false;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0], best = row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            const int up = row[j];
            int v = diag + (a[i - 1] != b[j - 1]);
            v = up + 1 < v ? up + 1 : v;
            v = row[j - 1] + 1 < v ? row[j - 1] + 1 : v;
            row[j] = v, diag = up;
            best = v < best ? v : best;
        }
        if (best > 2)
            return false;
    }
    return row[lb] <= 2;
}
