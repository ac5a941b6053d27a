/* number: full-range number parsing with a stated range (see number.h). */
#include "core/number.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

/* The offending text, cut so a message stays short. */
#define SHOWN 40

/* Whether text is written in base 10 as people write numbers: strtoll and
 * strtod would also skip leading white space, and strtod reads hexadecimal
 * ("0x1p4"), so "0x10" or " 5" would pass for a number. */
static bool decimal_text(const char *text)
{
    return !isspace((unsigned char)text[0]) && !strpbrk(text, "xX");
}

int sn_parse_int(const char *text, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || !decimal_text(text) || *end != '\0' || v < min || v > max)
        return sn_fail(SN_EINVAL, "expected an integer in [%lld, %lld], got '%.*s'%s", min, max,
                       SHOWN, text, strlen(text) > SHOWN ? "..." : "");
    *out = v;
    return SN_OK;
}

/* The sizes that round (to nearest) to a normal float: from halfway between
 * the largest subnormal and FLT_MIN (2^-126 - 2^-150; ties go to FLT_MIN,
 * whose significand is even) to below halfway between FLT_MAX and 2^128
 * (2^128 - 2^103).  So the limits the messages print with 9 digits, which
 * name a float exactly, are taken back when typed (1.17549435e-38 is a
 * little below FLT_MIN as a double: round 77 F1). */
#define F32_LEAST 0x1.fffffep-127
#define F32_BEYOND 0x1.ffffffp+127

bool sn_f32_fits(double v)
{
    return isfinite(v) && fabs(v) < F32_BEYOND && (v == 0.0 || fabs(v) >= F32_LEAST);
}

/* The sentence every refusal of a setting ends with. */
#define F32_RANGE "settings are floats, which hold 0 and sizes from %.9g to %.9g"

int sn_check_f32(double v, const char *what)
{
    if (sn_f32_fits(v))
        return SN_OK;
    return sn_fail(SN_EINVAL, "%s is %g: " F32_RANGE, what, v, (double)FLT_MIN, (double)FLT_MAX);
}

int sn_parse_real(const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !decimal_text(text) || *end != '\0' || !isfinite(v) || v < min || v > max)
        return sn_fail(SN_EINVAL, "expected a number in [%g, %g], got '%.*s'%s", min, max, SHOWN,
                       text, strlen(text) > SHOWN ? "..." : "");
    if (!sn_f32_fits(v))   /* in range, but no normal float: 0 or a subnormal */
        return sn_fail(SN_EINVAL, "expected a number in [%g, %g], got '%.*s'%s: " F32_RANGE,
                       min, max, SHOWN, text, strlen(text) > SHOWN ? "..." : "",
                       (double)FLT_MIN, (double)FLT_MAX);
    *out = v;
    return SN_OK;
}

struct sn_mb_text sn_mb(double bytes)
{
    struct sn_mb_text t;
    const double mb = bytes / 1e6;
    if (mb >= 999.5 || !(mb >= 0.001))   /* "%.3g" would write 1e+03 or 4e-06 */
        snprintf(t.s, sizeof t.s, mb >= 999.5 ? "%.0f" : "%.6f", mb);
    else
        snprintf(t.s, sizeof t.s, "%.3g", mb);
    char *dot = strchr(t.s, '.');   /* 0.000016, not 0.000016000 */
    for (size_t n = strlen(t.s); dot && n > 0 && (t.s[n - 1] == '0' || t.s[n - 1] == '.'); n--) {
        const bool was_dot = t.s[n - 1] == '.';
        t.s[n - 1] = '\0';
        if (was_dot)
            break;
    }
    return t;
}
