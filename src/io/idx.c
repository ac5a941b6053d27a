/* idx: IDX reader over zlib's gzread, which also reads uncompressed files. */
#include "io/idx.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/checked.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "core/tensor.h"
#include "io/fsutil.h"

/* Refuse files that would need more than this many bytes (1 GiB). */
#define IDX_MAX_BYTES ((size_t)1 << 30)
/* Bytes inflated or checksummed between looks at the stop request: 1 GiB
 * takes seconds. */
#define IDX_PIECE ((size_t)64 << 20)

static int read_exact(gzFile g, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(g, p, chunk);
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* After a gzread that came short: zlib's reason when the gzip data is
 * damaged or cut short (a short IDX file is named only when it is one). */
static int gz_damage(gzFile g, const char *path)
{
    int err = Z_OK;
    const char *msg = gzerror(g, &err);
    if (err == Z_ERRNO)
        return sn_fail(SN_EIO, "%s: cannot read: %s", path, strerror(errno));
    if (err == Z_BUF_ERROR)
        return sn_fail(SN_EDAMAGED, "%s: the gzip data is cut short (the file ends inside its "
                       "compressed stream)", path);
    const size_t n = strlen(path);   /* zlib's message starts "path: " */
    if (err != Z_OK)
        return sn_fail(SN_EDAMAGED, "%s: damaged gzip data (%s)", path,
                       strncmp(msg, path, n) == 0 && msg[n] == ':' ? msg + n + 2 : msg);
    return SN_OK;
}

/* A gzip file ends with its stream's trailer, the CRC-32 and the length
 * of what it holds: bytes after the stream, which gzread passes over, leave
 * other last 8 bytes (as trailing bytes of an uncompressed file are
 * refused).  x is the whole content read: its header, then its data. */
static int gz_trailer_last(const char *path, const struct sn_idx *x)
{
    unsigned char hdr[4 + 4 * SN_IDX_MAX_DIMS] = { 0, 0, 0x08, (unsigned char)x->ndim }, t[8];
    for (int i = 0; i < x->ndim; i++)
        for (int k = 0; k < 4; k++)
            hdr[4 + 4 * i + k] = (unsigned char)(x->dims[i] >> (24 - 8 * k));
    const size_t hlen = 4 + 4 * (size_t)x->ndim;
    uLong crc = crc32(0L, hdr, (uInt)hlen);
    for (size_t at = 0; at < x->len; at += IDX_PIECE) {
        int rc = sn_interrupt_check("checking the gzip data's checksum");
        if (rc)
            return rc;
        const size_t n = x->len - at < IDX_PIECE ? x->len - at : IDX_PIECE;
        crc = crc32(crc, x->data + at, (uInt)n);
    }
    const uint32_t size = (uint32_t)(hlen + x->len);
    FILE *f = fopen(path, "rb");
    const bool read = f && fseek(f, -8, SEEK_END) == 0 && fread(t, 1, 8, f) == 8;
    if (f)
        fclose(f);
    if (!read)
        return sn_fail(SN_EIO, "%s: cannot read its gzip trailer: %s", path, strerror(errno));
    for (int k = 0; k < 4; k++)
        if (t[k] != (unsigned char)(crc >> (8 * k)) || t[4 + k] != (unsigned char)(size >> (8 * k)))
            return sn_fail(SN_EINVAL, "%s: bytes after the gzip stream of the IDX file (or a "
                           "second stream): give the file as gzip wrote it", path);
    return SN_OK;
}

/* The header's dimensions into out->dims and their product (bytes of
 * data) into out->len, refused when one is 0 or the data exceeds
 * IDX_MAX_BYTES, naming every dimension. */
static int read_dims(gzFile g, const char *path, struct sn_idx *out)
{
    char shape[160] = "";
    size_t used = 0;
    bool fits = true;
    out->len = 1;
    for (int i = 0; i < out->ndim; i++) {
        unsigned char b[4];
        if (read_exact(g, b, 4) != 0) {
            const int rc = gz_damage(g, path);
            return rc ? rc : sn_fail(SN_EINVAL, "%s: truncated IDX header", path);
        }
        size_t d = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
        if (d == 0)
            return sn_fail(SN_EINVAL, "%s: IDX dimension %d has size 0", path, i);
        out->dims[i] = d;
        fits = fits && sn_mul_ok(out->len, d, &out->len) && out->len <= IDX_MAX_BYTES;
        if (used < sizeof shape)
            used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%zu", i ? " x " : "", d);
    }
    if (!fits)
        return sn_fail(SN_EINVAL, "%s: the IDX header declares %s bytes of data, more than the "
                       "limit of %zu (1 GiB, IDX_MAX_BYTES in src/io/idx.c)", path, shape,
                       IDX_MAX_BYTES);
    return SN_OK;
}

/* Open path and read its header into out (no data yet): *g is left open
 * at the data on success. */
static int read_header(const char *path, struct sn_idx *out, gzFile *g)
{
    memset(out, 0, sizeof *out);
    int rc = sn_fs_check_input(path, "IDX file", SIZE_MAX);   /* never a FIFO or a device */
    if (rc)
        return rc;
    errno = 0;
    *g = gzopen(path, "rb");
    if (!*g)
        return sn_fs_open_failed(path, errno, NULL);
    unsigned char hdr[4];
    if (read_exact(*g, hdr, 4) != 0) {
        if (!(rc = gz_damage(*g, path)))
            rc = sn_fail(SN_EINVAL, "%s: too short for an IDX header", path);
    } else if (hdr[0] != 0 || hdr[1] != 0)
        rc = sn_fail(SN_EINVAL, "%s: not an IDX file (bad magic)", path);
    else if (hdr[2] != 0x08)
        rc = sn_fail(SN_EINVAL, "%s: IDX element type 0x%02x is not unsigned byte (0x08)",
                     path, hdr[2]);
    else if (hdr[3] < 1 || hdr[3] > SN_IDX_MAX_DIMS)
        rc = sn_fail(SN_EINVAL, "%s: IDX rank %d is not 1 to %d", path, hdr[3], SN_IDX_MAX_DIMS);
    if (!rc) {
        out->ndim = hdr[3];
        rc = read_dims(*g, path, out);
    }
    if (rc) {
        gzclose(*g);
        *g = NULL;
    }
    return rc;
}

int sn_idx_read_header(const char *path, struct sn_idx *out)
{
    gzFile g;
    int rc = read_header(path, out, &g);
    if (!rc)
        gzclose(g);
    return rc;
}

int sn_idx_read(const char *path, struct sn_idx *out)
{
    gzFile g;
    int rc = read_header(path, out, &g);
    if (rc)
        return rc;
    /* Grow the buffer as data arrives, so a header that promises a
     * gigabyte in a short (or hostile) file costs no gigabyte. */
    size_t cap = out->len < ((size_t)1 << 20) ? out->len : ((size_t)1 << 20), have = 0;
    out->data = malloc(cap);
    while (out->data && have < out->len) {
        if (have == cap) {
            size_t ncap = cap * 2 < out->len ? cap * 2 : out->len;
            uint8_t *grown = realloc(out->data, ncap);
            if (!grown)
                break;
            out->data = grown;
            cap = ncap;
        }
        size_t want = cap - have;
        if ((rc = sn_interrupt_check("reading an IDX file")))
            goto out_close;
        int got = gzread(g, out->data + have, (unsigned)(want < IDX_PIECE ? want : IDX_PIECE));
        if (got <= 0) {
            if (!(rc = gz_damage(g, path)))
                rc = sn_fail(SN_EINVAL, "%s: truncated: the header promises %zu data bytes, the "
                             "file has %zu", path, out->len, have);
            goto out_close;
        }
        have += (size_t)got;
    }
    if (!out->data || have < out->len) {
        rc = sn_fail(SN_ENOMEM, "%s: out of memory for %zu bytes", path, out->len);
        goto out_close;
    }
    unsigned char extra;
    if (gzread(g, &extra, 1) != 0)
        rc = sn_fail(SN_EINVAL, "%s: trailing bytes after the %zu data bytes", path, out->len);
    else if (!(rc = gz_damage(g, path)) && !gzdirect(g))
        rc = gz_trailer_last(path, out);
out_close:
    if (gzclose(g) == Z_BUF_ERROR && !rc)   /* the stream ended before its trailer */
        rc = sn_fail(SN_EDAMAGED, "%s: the gzip data is cut short (the file ends inside its "
                     "compressed stream)", path);
    if (rc)
        sn_idx_free(out);
    return rc;
}

void sn_idx_free(struct sn_idx *x)
{
    free(x->data);
    x->data = NULL;
}
