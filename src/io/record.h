/* record: what a weights file or checkpoint was trained on and how.
 *
 * A list of named settings, each a short canonical text ("sgd momentum 0.9
 * nesterov 1 weight_decay 0.0005"), kept as string attributes of /run in
 * the file.  The trainer writes one with every checkpoint and weights
 * file: the data's fingerprint (shapes, classes, preprocessing and a hash
 * of a sample of its rows), the model's, and every setting that changes
 * the trajectory (seed, global batch, optimizer, learning rate, schedule
 * and its horizon, augmentation, loss, shuffling, accumulation).  A resume
 * compares the checkpoint's record with the run's own; `info --weights`
 * prints it.
 */
#ifndef SN_IO_RECORD_H
#define SN_IO_RECORD_H

#include <stdbool.h>

#include "io/h5.h"

#define SN_RECORD_MAX 24
#define SN_RECORD_KEY_LEN 16
#define SN_RECORD_VALUE_LEN 224

struct sn_run_record {
    int n;
    struct {
        char key[SN_RECORD_KEY_LEN];
        char value[SN_RECORD_VALUE_LEN];
    } kv[SN_RECORD_MAX];
};

/* Set key to a printf-style value (replacing an earlier one); a value too
 * long is cut at SN_RECORD_VALUE_LEN - 1 bytes.  SN_EINVAL for a key that
 * is too long or a full record. */
int sn_record_set(struct sn_run_record *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The value of key, or NULL. */
const char *sn_record_get(const struct sn_run_record *r, const char *key);

/* Write r as the attributes of /run in f (nothing for an empty record). */
int sn_record_write(struct sn_h5 *f, const struct sn_run_record *r);

/* Read /run of f into r (r->n = 0 when the file has none).  SN_EINVAL for
 * attributes that are not strings of the expected sizes. */
int sn_record_read(struct sn_h5 *f, struct sn_run_record *r);

#endif
