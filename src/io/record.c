/* record: the run record of weights files and checkpoints (see record.h).
 *
 * In the file, /run holds one string attribute per key (h5py:
 * f["run"].attrs["lr"]) and "keys", the list of them in order. */
#include "io/record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

int sn_record_set(struct sn_run_record *r, const char *key, const char *fmt, ...)
{
    if (strlen(key) >= SN_RECORD_KEY_LEN || strcmp(key, "keys") == 0)
        return sn_fail(SN_EINVAL, "record: bad key '%s'", key);
    int i = 0;
    while (i < r->n && strcmp(r->kv[i].key, key) != 0)
        i++;
    if (i == SN_RECORD_MAX)
        return sn_fail(SN_EINVAL, "record: more than %d settings", SN_RECORD_MAX);
    if (i == r->n)
        snprintf(r->kv[r->n++].key, SN_RECORD_KEY_LEN, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->kv[i].value, SN_RECORD_VALUE_LEN, fmt, ap);
    va_end(ap);
    return SN_OK;
}

const char *sn_record_get(const struct sn_run_record *r, const char *key)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->kv[i].key, key) == 0)
            return r->kv[i].value;
    return NULL;
}

int sn_record_write(struct sn_h5 *f, const struct sn_run_record *r)
{
    if (r->n == 0)
        return SN_OK;
    const char *keys[SN_RECORD_MAX];
    for (int i = 0; i < r->n; i++)
        keys[i] = r->kv[i].key;
    int rc = sn_h5_mkgroup(f, "/run");
    if (!rc)
        rc = sn_h5_attr_set_strs(f, "/run", "keys", keys, (size_t)r->n);
    for (int i = 0; i < r->n && !rc; i++)
        rc = sn_h5_attr_set_str(f, "/run", r->kv[i].key, r->kv[i].value);
    return rc;
}

int sn_record_read(struct sn_h5 *f, struct sn_run_record *r)
{
    memset(r, 0, sizeof *r);
    if (!sn_h5_exists(f, "/run") || !sn_h5_has_attr(f, "/run", "keys"))
        return SN_OK;
    char **keys = NULL;
    size_t n = 0;
    int rc = sn_h5_attr_get_strs(f, "/run", "keys", &keys, &n);
    if (!rc && n > SN_RECORD_MAX)
        rc = sn_fail(SN_EINVAL, "%s: /run lists %zu keys, at most %d are read", sn_h5_path(f), n,
                     SN_RECORD_MAX);
    for (size_t i = 0; i < n && !rc; i++) {
        char *v = NULL;
        rc = sn_h5_attr_get_str(f, "/run", keys[i], &v);
        if (!rc && (rc = sn_record_set(r, keys[i], "%s", v)))
            sn_fail_prefix(rc, "%s: /run: ", sn_h5_path(f));
        free(v);
    }
    if (keys)
        sn_h5_free_strs(keys, n);
    if (rc)
        memset(r, 0, sizeof *r);
    return rc;
}
