/* number: the one parser of numbers from text, for command-line flags and
 * model-file values alike.
 *
 * The whole text must be one number in base 10 (no trailing characters),
 * parsed at full range (strtoll / strtod with their overflow reported),
 * then checked against the caller's range, which the error states:
 * "expected an integer in [1, 1048576], got '4294967320'".  Callers put
 * their context in front (sn_fail_prefix): the flag, or file:line [section]
 * key.  Nothing is ever narrowed without a range check: a value that
 * passes fits the range, so a cast to the option's own type is exact.
 */
#ifndef SN_CORE_NUMBER_H
#define SN_CORE_NUMBER_H

#include <stdbool.h>

/* An integer in [min, max].  SN_EINVAL with the message above. */
int sn_parse_int(const char *text, long long min, long long max, long long *out);

/* A finite number in [min, max] (no NaN, no Inf, no underflow to 0 of a
 * non-zero value, in double or as a float: sn_f32_fits).  SN_EINVAL
 * likewise. */
int sn_parse_real(const char *text, double min, double max, double *out);

/* Whether v holds as a float setting: finite, and 0 or a size that rounds
 * to a normal float, FLT_MIN to FLT_MAX (smaller ones round to 0 or lose
 * their precision; 1e300 would become Inf). */
bool sn_f32_fits(double v);

/* The same for a value read from a file (an HDF5 attribute): SN_EINVAL
 * "<what> is 1e+300: settings are floats, which hold 0 and sizes from
 * 1.17549435e-38 to 3.40282347e+38". */
int sn_check_f32(double v, const char *what);

/* bytes in MB (10^6 bytes) for a message: three digits, and whole from
 * 1000 MB ("1220", not "1.22e+03"); a temporary's array lives to the end
 * of the call it is an argument of: printf("%s MB", sn_mb(b).s). */
struct sn_mb_text {
    char s[24];
};
struct sn_mb_text sn_mb(double bytes);

#endif
