/* image: PNG through libpng's simplified API, JPEG through libjpeg with an
 * error handler that returns instead of exiting (see image.h). */
#include "io/image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>   /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "core/interrupt.h"
#include "core/status.h"
#include "core/tensor.h"
#include "io/fsutil.h"

#define MAX_SIDE 16384
#define MAX_SCANS 1000   /* a progressive JPEG needs about 10; thousands are a CPU bomb */
/* Every scan, even a tiny refinement, walks all the image's blocks: scans
 * x pixels is the work.  64 scans of the largest image allowed by default
 * (8192 x 8192) decode in about 2 s; a normal progressive file has ~10. */
#define MAX_SCAN_PIXELS (64.0 * 8192.0 * 8192.0)

static size_t max_pixels = SN_IMAGE_MAX_PIXELS;

void sn_image_set_max_pixels(size_t n)
{
    max_pixels = n;
}

size_t sn_image_get_max_pixels(void)
{
    return max_pixels;
}

/* The budget, checked on the header's numbers before any pixel is
 * decoded or any buffer sized by them is allocated. */
static int check_size(const char *path, const char *kind, long long w, long long h)
{
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE)
        return sn_fail(SN_EINVAL, "%s: %s of %lldx%lld pixels (height x width, as every size "
                       "scratchnet prints): each side must be 1 to %d"
                       SN_BUILD_LIMIT("MAX_SIDE", "src/io/image.c"), path, kind, h, w, MAX_SIDE);
    if ((unsigned long long)w * (unsigned long long)h > max_pixels)
        return sn_fail(SN_EINVAL, "%s: %s of %lldx%lld pixels (height x width) is more than the "
                       "limit of %zu pixels (--max-pixels raises it)", path, kind, h, w,
                       max_pixels);
    return SN_OK;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The bytes of f from where it is to its end (-1 when unknown). */
static long long bytes_left(FILE *f)
{
    struct stat st;
    long at = ftell(f);
    return at >= 0 && fstat(fileno(f), &st) == 0 ? (long long)st.st_size - at : -1;
}

/* libpng inflates every IDAT byte, also those past the last row: 8 MB of
 * IDAT can hold 8 GiB of zeros behind a 4x2 image, half a minute of
 * inflating.  An encoder never writes more compressed data than the rows
 * take raw plus deflate's stored-block overhead, so the chunks are walked
 * (seeking, nothing inflated) and the IDAT bytes are held to the raw size
 * the header states, plus 1/64 and 64 KiB of slack.  And libpng allocates
 * a text or metadata chunk at the length it declares before reading it
 * (2 GB for a 141-byte file): no chunk may declare more than the file
 * holds after it.  libpng takes about 5 us a chunk, empty or not (22
 * million empty IDAT chunks: 115 s): PNG_MAX_CHUNKS bounds their count
 * (a 256 MiB file in chunks of 1 KiB has 262,144; encoders write 8 KiB).
 * The compressed text and colour-profile chunks before the pixels (zTXt,
 * iTXt, iCCP) are inflated by libpng, up to 8 MB each, to be thrown away:
 * 2,000 of 8 KB took 26 s; PNG_MAX_ZTEXT bounds their bytes (a real
 * profile or XMP packet is a few KB; 256 KiB inflates in about 1 s).
 * *colour_type: IHDR's (libpng's simplified reader does not tell a
 * palette). */
#define PNG_MAX_CHUNKS 300000
#define PNG_MAX_ZTEXT ((uint64_t)256 << 10)
static int check_png_idat(FILE *f, const char *path, int *colour_type)
{
    unsigned char b[13];
    uint64_t idat = 0, raw = 0, ztext = 0;
    long chunks = 0;
    if (fseek(f, 8, SEEK_SET) != 0)
        return SN_OK;   /* libpng says what is wrong */
    while (fread(b, 1, 8, f) == 8) {
        const uint32_t len = be32(b);
        if (++chunks > PNG_MAX_CHUNKS)
            return sn_fail(SN_EINVAL, "%s: PNG of more than %d chunks (encoders write one per "
                           "8 KiB of pixel data or more): crafted?"
                           SN_BUILD_LIMIT("PNG_MAX_CHUNKS", "src/io/image.c"), path,
                           PNG_MAX_CHUNKS);
        const long long left = bytes_left(f);
        if (left >= 0 && (long long)len + 4 > left) {
            char type[5];
            for (int i = 0; i < 4; i++)
                type[i] = (b[4 + i] >= 'A' && b[4 + i] <= 'Z') ||
                          (b[4 + i] >= 'a' && b[4 + i] <= 'z') ? (char)b[4 + i] : '?';
            type[4] = '\0';
            return sn_fail(SN_EINVAL, "%s: damaged PNG: its %s chunk declares %lu bytes and a "
                           "4-byte checksum, but only %lld bytes follow in the file (cut short, "
                           "or crafted)", path, type, (unsigned long)len, left);
        }
        if (memcmp(b + 4, "IHDR", 4) == 0 && len == 13 && fread(b, 1, 13, f) == 13) {
            static const int chans[7] = { 1, 0, 3, 1, 2, 0, 4 };
            const uint32_t w = be32(b), h = be32(b + 4), bits = b[8] * (b[9] < 7 ? chans[b[9]] : 0);
            *colour_type = b[9];
            const int rc = check_size(path, "PNG", w, h);   /* before libpng's "Invalid IHDR" */
            if (rc || bits == 0)
                return rc;   /* a bad colour type: libpng names it */
            raw = (uint64_t)h * (((uint64_t)w * bits + 7) / 8 + 1);
            if (fseek(f, 4, SEEK_CUR) != 0)
                break;
            continue;
        }
        if (memcmp(b + 4, "IDAT", 4) == 0)
            idat += len;
        if (!idat && (memcmp(b + 4, "zTXt", 4) == 0 || memcmp(b + 4, "iTXt", 4) == 0 ||
                      memcmp(b + 4, "iCCP", 4) == 0) && (ztext += len) > PNG_MAX_ZTEXT)
            return sn_fail(SN_EINVAL, "%s: PNG holds more than %llu bytes of compressed text and "
                           "colour profile (zTXt, iTXt, iCCP) before its pixels, which libpng "
                           "would inflate (a decompression bomb?)"
                           SN_BUILD_LIMIT("PNG_MAX_ZTEXT", "src/io/image.c"), path,
                           (unsigned long long)PNG_MAX_ZTEXT);
        if (memcmp(b + 4, "IEND", 4) == 0 || fseek(f, (long)len + 4, SEEK_CUR) != 0)
            break;
    }
    if (raw && idat > raw + raw / 64 + 65536)
        return sn_fail(SN_EINVAL, "%s: PNG holds %llu bytes of compressed pixels, more than its "
                       "%llu raw bytes can need (a decompression bomb?)", path,
                       (unsigned long long)idat, (unsigned long long)raw);
    return SN_OK;
}

/* A palette PNG whose pixels are all grey (pnmtopng and many tools write
 * small grey images so) is a grey image: one channel, as its greys. */
static void grey_palette(struct sn_image *img)
{
    const size_t px = (size_t)img->width * img->height;
    if (!img->palette || img->channels != 3)
        return;
    for (size_t i = 0; i < px; i++) {
        const uint8_t *p = img->data + 3 * i;
        if (p[0] != p[1] || p[1] != p[2])
            return;
    }
    for (size_t i = 0; i < px; i++)   /* in place: the copy never overtakes */
        img->data[i] = img->data[3 * i];
    img->channels = 1;
}

/* A palette PNG whose pixels index past its palette is damaged (the PNG
 * specification's error), which libpng's RGB reading hides: such pixels
 * read black.  The indices are read once as they are stored (a byte a
 * pixel, freed after) and checked; f is rewound. */
static int check_palette_indexes(FILE *f, const char *path)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    int rc = SN_OK;
    /* a failure to begin, or a size past the limits: read_png says it */
    if (png_image_begin_read_from_stdio(&img, f) &&
        check_size(path, "PNG", img.width, img.height) == SN_OK) {
        img.format = PNG_FORMAT_RGBA_COLORMAP;
        const size_t px = (size_t)img.width * img.height;
        unsigned char *idx = sn_alloc_bytes(px), *map = malloc(PNG_IMAGE_COLORMAP_SIZE(img));
        if (!idx || !map)
            rc = sn_fail(SN_ENOMEM, "%s: out of memory", path);
        if (!rc && png_image_finish_read(&img, NULL, idx, 0, map)) {
            unsigned top = 0;
            for (size_t i = 0; i < px; i++)
                top = idx[i] > top ? idx[i] : top;
            if (top >= img.colormap_entries)
                rc = sn_fail(SN_EINVAL, "%s: damaged PNG (a pixel is entry %u of a palette of %u "
                             "entries)", path, top, img.colormap_entries);
        }
        free(idx);
        free(map);
    }
    png_image_free(&img);
    rewind(f);
    return rc;
}

static int read_png(FILE *f, const char *path, struct sn_image *out)
{
    int colour_type = -1;   /* as IHDR says: 3 a palette */
    int rc0 = check_png_idat(f, path, &colour_type);
    rewind(f);
    if (!rc0 && colour_type == 3)
        rc0 = check_palette_indexes(f, path);
    if (rc0)
        return rc0;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&img, f))
        return sn_fail(SN_EINVAL, "%s: not a readable PNG (%s)", path, img.message);
    int rc = check_size(path, "PNG", img.width, img.height);
    if (rc) {
        png_image_free(&img);
        return rc;
    }
    /* 8-bit sRGB out, whatever the file holds: libpng converts from the
     * encoding the file declares (gAMA, sRGB, iCCP), as for 8-bit files, and
     * a 16-bit file that declares none is taken as sRGB, as an 8-bit one is
     * (libpng's default for those is linear light: a 16-bit copy of an 8-bit
     * image read brighter; reading 16-bit files as linear light made one
     * that declares sRGB darker, mid-grey 128 as 56). */
    /* An alpha channel is read and dropped, the colours kept as stored, as
     * PIL's convert("RGB") and torchvision's read_image do (libpng would
     * composite onto black in linear light: half-transparent white read
     * as 188, where PyTorch's pipelines see 255). */
    const bool grey = !(img.format & PNG_FORMAT_FLAG_COLOR);
    const bool alpha = img.format & PNG_FORMAT_FLAG_ALPHA;
    img.format = grey ? (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY)
                      : (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB);
    img.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    out->width = (int)img.width;
    out->height = (int)img.height;
    out->channels = grey ? 1 : 3;
    out->palette = colour_type == 3;
    const size_t px = (size_t)img.width * img.height, ch = (size_t)out->channels;
    out->data = sn_alloc_bytes(px * (ch + alpha));
    if (!out->data) {
        png_image_free(&img);
        return sn_fail(SN_ENOMEM, "%s: out of memory", path);
    }
    if (!png_image_finish_read(&img, NULL, out->data, 0, NULL)) {
        sn_image_free(out);
        return sn_fail(strstr(img.message, "memory") ? SN_ENOMEM : SN_EINVAL,
                       strstr(img.message, "memory") ? "%s: out of memory decoding a PNG (%s)"
                                                     : "%s: damaged PNG (%s)", path, img.message);
    }
    for (size_t i = 0; alpha && i < px; i++)   /* in place: the copy never overtakes */
        memmove(out->data + i * ch, out->data + i * (ch + 1), ch);
    grey_palette(out);
    return SN_OK;
}

struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int code;              /* libjpeg's message code */
    const char *refusal;   /* set by the progress monitor: why it stopped */
    long stray;            /* bytes left over after a scan's data (jpeg_quiet) */
};

static void jpeg_fail(j_common_ptr cinfo)
{
    struct jerr *e = (struct jerr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    e->code = cinfo->err->msg_code;
    longjmp(e->jump, 1);
}

/* libjpeg's messages: its trace output is dropped, and so are warnings
 * that leave the pixels whole (extraneous bytes between the segments
 * before the first scan, common in cameras' files).  What libjpeg decodes
 * on after, making the rest up, is refused as damaged: a file cut short or
 * a data segment that ends early (grey), a bad Huffman or arithmetic code,
 * a lost restart marker, scan headers out of progression order (a flipped
 * bit in a progressive file: pixels off by up to 37 grey levels, hostile
 * round 76 F1), and bytes skipped before a restart marker or the next
 * scan's headers, which no encoder writes (the rest of an interval whose
 * data stopped making sense: round 76 F2).  Bytes before the end marker
 * are counted for the caller to warn of: encoders and editors leave
 * padding there (a few bytes to a few KB, in ImageNet's and Kaggle's
 * files, whose pixels decode whole: refusing them stopped a dataset's
 * conversion, round 75 F1), and a scan damaged mid-way that still decodes
 * (30 bytes overwritten: another picture, round 74 F2) looks the same. */
static void jpeg_quiet(j_common_ptr cinfo, int level)
{
    const int code = cinfo->err->msg_code;
    if (level >= 0)
        return;
    const bool in_scans = ((j_decompress_ptr)cinfo)->input_scan_number > 0;
    const bool before_end = code == JWRN_EXTRANEOUS_DATA && cinfo->err->msg_parm.i[1] == 0xd9;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
        code == JWRN_ARITH_BAD_CODE || code == JWRN_MUST_RESYNC ||
        code == JWRN_BOGUS_PROGRESSION || (code == JWRN_EXTRANEOUS_DATA && in_scans && !before_end))
        jpeg_fail(cinfo);
    if (before_end && in_scans)
        ((struct jerr *)cinfo->err)->stray += cinfo->err->msg_parm.i[0];
}

/* Called by libjpeg as it works: stops a file of endless scans, and a
 * decode the user interrupted. */
static void jpeg_progress(j_common_ptr cinfo)
{
    struct jerr *e = (struct jerr *)cinfo->err;
    struct jpeg_decompress_struct *d = (struct jpeg_decompress_struct *)cinfo;
    const double pixels = (double)d->image_width * d->image_height;
    if (d->input_scan_number > MAX_SCANS)
        e->refusal = "more than 1000 scans";
    else if (d->input_scan_number * pixels > MAX_SCAN_PIXELS)
        e->refusal = "more scans than an image of its size needs (scans x pixels above 64 x "
                     "8192 x 8192)";
    else if (sn_interrupt_pending())
        e->refusal = "interrupted";
    if (e->refusal)
        longjmp(e->jump, 1);
}

/* Adobe's CMYK JPEGs store inverted values (saw_Adobe_marker); the
 * colour is R = (1 - C)(1 - K) and so on, without a colour profile. */
static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, int w, bool inverted)
{
    for (int i = 0; i < w; i++, cmyk += 4, rgb += 3) {
        unsigned k = inverted ? cmyk[3] : 255u - cmyk[3];
        for (int c = 0; c < 3; c++)
            rgb[c] = (uint8_t)(((inverted ? cmyk[c] : 255u - cmyk[c]) * k + 127) / 255);
    }
}

static int read_jpeg(FILE *f, const char *path, struct sn_image *out)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress = { .progress_monitor = jpeg_progress };
    struct jerr err = { .refusal = NULL };
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    err.mgr.emit_message = jpeg_quiet;
    /* volatile: read after longjmp */
    uint8_t *volatile data = NULL, *volatile row4 = NULL;
    volatile int rc = SN_OK;
    if (setjmp(err.jump)) {
        /* libjpeg's own buffers (a progressive file's coefficients, 2 bytes
         * a sample of the whole image) are not the pixels budgeted */
        if (!rc && err.code == JERR_OUT_OF_MEMORY && !err.refusal)
            rc = sn_fail(SN_ENOMEM, "%s: out of memory decoding a %ux%u%s JPEG (height x width)",
                         path, cinfo.image_height, cinfo.image_width,
                         cinfo.progressive_mode ? " progressive" : "");
        jpeg_destroy_decompress(&cinfo);
        sn_free(data);
        free(row4);
        if (rc)
            return rc;
        if (err.refusal && strcmp(err.refusal, "interrupted") == 0)
            return sn_interrupt_check("decoding an image");
        return sn_fail(SN_EINVAL, strncmp(err.msg, "Unsupported", 11) == 0 && !err.refusal
                                      ? "%s: a kind of JPEG scratchnet does not read (%s): "
                                        "save it as an 8-bit baseline or progressive JPEG or a PNG"
                                      : "%s: damaged JPEG (%s)",
                       path, err.refusal ? err.refusal : err.msg);
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &progress;
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    /* the size the header claims, before libjpeg allocates anything for it */
    if ((rc = check_size(path, "JPEG", cinfo.image_width, cinfo.image_height)))
        longjmp(err.jump, 1);
    bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    if (cinfo.num_components != 1 && cinfo.num_components != 3 && !cmyk)
        longjmp(err.jump, (rc = sn_fail(SN_EINVAL, "%s: JPEG with %d colour components is not "
                                        "supported", path, cinfo.num_components), 1));
    cinfo.out_color_space = cmyk ? JCS_CMYK : cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, c = cmyk ? 3 : cinfo.output_components;
    data = sn_alloc_bytes((size_t)w * h * c);
    if (cmyk)
        row4 = malloc((size_t)w * 4);
    if (!data || (cmyk && !row4))
        longjmp(err.jump, (rc = sn_fail(SN_ENOMEM, "%s: out of memory", path), 1));
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = cmyk ? row4 : data + (size_t)cinfo.output_scanline * w * c;
        size_t y = cinfo.output_scanline;
        if (jpeg_read_scanlines(&cinfo, &row, 1) == 1 && cmyk)
            cmyk_to_rgb(row4, data + y * w * 3, w, cinfo.saw_Adobe_marker);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row4);
    out->width = w;
    out->height = h;
    out->channels = c;
    out->data = data;
    out->stray_bytes = err.stray;
    return SN_OK;
}

enum { PGM_MAX_NUMBER = 100000000 };

/* One whitespace-separated number of a PGM header or P2 body ('#' starts
 * a comment up to the end of the line in the header): 1, or 0 when none
 * is there, -1 when it is above PGM_MAX_NUMBER (not read further). */
static int pgm_number(FILE *f, long *v)
{
    int c;
    do {
        c = fgetc(f);
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
    } while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    if (c < '0' || c > '9')
        return 0;
    long n = 0;
    while (c >= '0' && c <= '9') {
        if (n > PGM_MAX_NUMBER / 10)
            return -1;
        n = n * 10 + (c - '0');
        c = fgetc(f);
    }
    if (c == '#')   /* a comment right after the number: its newline ends the number */
        while (c != '\n' && c != EOF)
            c = fgetc(f);
    *v = n;   /* the one whitespace after the number is consumed: it must be one */
    return n > PGM_MAX_NUMBER ? -1
           : c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == EOF;
}

/* The header's field name (width, height, maxval) into *v; kind: PGM or PPM. */
static int pgm_field(FILE *f, const char *path, const char *kind, const char *name, long *v)
{
    const int got = pgm_number(f, v);
    if (got < 0)
        return sn_fail(SN_EINVAL, "%s: %s %s is more than %d: expected a number in [1, %d]",
                       path, kind, name, PGM_MAX_NUMBER, PGM_MAX_NUMBER);
    return got ? SN_OK : sn_fail(SN_EINVAL, "%s: damaged %s header (no %s)", path, kind, name);
}

/* P2's pixel i, 0 .. maxval, into *px. */
static int pgm_pixel(FILE *f, const char *path, size_t i, long maxval, uint8_t *px)
{
    long v = 0;
    const int got = pgm_number(f, &v);
    if (got == 0)
        return sn_fail(SN_EINVAL, "%s: PGM pixel %zu is missing or not a number", path, i);
    if (got < 0 || v > maxval)
        return sn_fail(SN_EINVAL, "%s: PGM pixel %zu is %s%ld, above maxval %ld", path, i,
                       got < 0 ? "more than " : "", got < 0 ? (long)PGM_MAX_NUMBER : v, maxval);
    *px = (uint8_t)v;
    return SN_OK;
}

/* netpbm greymap, P5 (binary) or P2 (ASCII), or pixmap, P6 (binary RGB,
 * the colour image examples/onnx/predict.js reads); maxval 1..255 (scaled
 * to 255). */
static int read_pgm(FILE *f, const char *path, struct sn_image *out)
{
    char magic[2] = "";
    long w, h, maxval;
    int rc = SN_OK;
    if (fread(magic, 1, 2, f) != 2)
        rc = sn_fail(SN_EINVAL, "%s: damaged PGM header", path);
    const int ch = magic[1] == '6' ? 3 : 1;
    const char *kind = ch == 3 ? "PPM" : "PGM";
    if (!rc && !(rc = pgm_field(f, path, kind, "width", &w)) &&
        !(rc = pgm_field(f, path, kind, "height", &h)))
        rc = pgm_field(f, path, kind, "maxval", &maxval);
    if (!rc)
        rc = check_size(path, kind, w, h);
    if (!rc && (maxval < 1 || maxval > 255))
        rc = sn_fail(SN_EINVAL, "%s: %s maxval %ld: expected 1 to 255 (8-bit %s only)",
                     path, kind, maxval, ch == 3 ? "pixmaps" : "greymaps");
    /* known before a byte is set aside: binary pixels take a byte each,
     * text ones a digit and a blank each (the last one a digit) */
    const long long left = rc ? -1 : bytes_left(f);
    const long long need = magic[1] == '2' ? 2 * w * h - 1 : w * h * ch;
    if (left >= 0 && left < need)
        rc = sn_fail(SN_EINVAL, "%s: %s pixel data is cut short", path, kind);
    if (!rc) {
        out->width = (int)w;
        out->height = (int)h;
        out->channels = ch;
        out->data = sn_alloc_bytes((size_t)w * (size_t)h * (size_t)ch);
        if (!out->data)
            rc = sn_fail(SN_ENOMEM, "%s: out of memory", path);
    }
    size_t n = rc ? 0 : (size_t)w * (size_t)h * (size_t)ch;
    if (!rc && magic[1] != '2') {
        if (fread(out->data, 1, n, f) != n)
            rc = sn_fail(SN_EINVAL, "%s: %s pixel data is cut short", path, kind);
        else if (fgetc(f) != EOF)   /* the pixels started a byte early: a CRLF header */
            rc = sn_fail(SN_EINVAL, "%s: bytes follow the %s's pixel data (a header whose "
                         "lines end in CR LF? netpbm allows one whitespace after maxval)", path,
                         kind);
        for (size_t i = 0; i < n && !rc; i++)   /* as in P2: scaled, it would wrap */
            if (out->data[i] > maxval)
                rc = sn_fail(SN_EINVAL, "%s: %s %s %zu is %d, above maxval %ld", path, kind,
                             ch == 3 ? "value" : "pixel", i, out->data[i], maxval);
    } else if (!rc) {
        for (size_t i = 0; i < n && !rc; i++)
            rc = pgm_pixel(f, path, i, maxval, &out->data[i]);
        long more;   /* another number, or anything but blanks and comments, before the end */
        if (!rc && (pgm_number(f, &more) != 0 || !feof(f)))   /* the header's size is wrong */
            rc = sn_fail(SN_EINVAL, "%s: more follows the PGM's %ld x %ld pixel values (a width "
                         "or height that does not match the data?)", path, w, h);
    }
    if (!rc && maxval != 255)
        for (size_t i = 0; i < n; i++)
            out->data[i] = (uint8_t)((out->data[i] * 255 + maxval / 2) / maxval);
    if (rc)
        sn_image_free(out);
    return rc;
}

/* A file over the size limit: the way out, said (a binary PGM or PPM of
 * the largest pixel count --max-pixels allows is over it). */
static int size_hint(int rc, const char *path)
{
    struct stat st;
    if (rc && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (unsigned long long)st.st_size > SN_IMAGE_MAX_FILE_BYTES)
        return sn_fail_suffix(rc, ": SN_IMAGE_MAX_FILE_BYTES in src/io/image.h; a PNG or JPEG "
                              "holds as many pixels in fewer bytes");
    return rc;
}

int sn_image_check_file(const char *path)
{
    return size_hint(sn_fs_check_input(path, "image", SN_IMAGE_MAX_FILE_BYTES), path);
}

int sn_image_read(const char *path, struct sn_image *out)
{
    memset(out, 0, sizeof *out);
    unsigned char sig[8] = { 0 };
    FILE *f;
    int rc = size_hint(sn_fs_open_input(path, "image", SN_IMAGE_MAX_FILE_BYTES, &f, NULL), path);
    if (rc)
        return rc;
    size_t n = fread(sig, 1, sizeof sig, f);
    rewind(f);
    if (n == 8 && png_sig_cmp(sig, 0, 8) == 0)
        rc = read_png(f, path, out);
    else if (n >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff)
        rc = read_jpeg(f, path, out);
    else if (n >= 3 && sig[0] == 'P' && (sig[1] == '5' || sig[1] == '2' || sig[1] == '6') &&
             (sig[2] == ' ' || sig[2] == '\n' || sig[2] == '\r' || sig[2] == '\t' || sig[2] == '#'))
        rc = read_pgm(f, path, out);
    else
        rc = sn_fail(SN_EINVAL, "%s: not a PNG, JPEG, PGM or PPM (P6) file", path);
    fclose(f);
    return rc;
}

void sn_image_free(struct sn_image *img)
{
    sn_free(img->data);
    img->data = NULL;
}

void sn_image_to_chw(const struct sn_image *img, uint8_t *dst)
{
    const size_t hw = (size_t)img->width * img->height;
    for (size_t p = 0; p < hw; p++)
        for (int c = 0; c < img->channels; c++)
            dst[(size_t)c * hw + p] = img->data[p * img->channels + c];
}

/* Where output pixel i of an axis of n_dst pixels reads from an axis of
 * n_src: source pixels first .. first+count-1 with weights wt[].
 * Shrinking averages the source span the output pixel covers (equal
 * weights); growing interpolates bilinearly between the two nearest pixel
 * centres.  Returns count (at most MAX_SIDE + 1). */
static int axis_taps(int n_src, int n_dst, int i, int *first, float *wt)
{
    double scale = (double)n_src / n_dst;
    if (n_src > n_dst) {
        int lo = (int)(i * scale), hi = (int)((i + 1) * scale + 0.999);
        hi = hi > n_src ? n_src : hi <= lo ? lo + 1 : hi;
        *first = lo;
        for (int k = 0; k < hi - lo; k++)
            wt[k] = 1.0f;
        return hi - lo;
    }
    double c = (i + 0.5) * scale - 0.5;   /* the output centre, in source pixels */
    c = c < 0 ? 0 : c;
    int lo = (int)c;
    *first = lo;
    if (lo + 1 >= n_src) {
        wt[0] = 1.0f;
        return 1;
    }
    wt[0] = (float)(1.0 - (c - lo));
    wt[1] = (float)(c - lo);
    return 2;
}

void sn_image_fit(const struct sn_image *img, int C, int H, int W, uint8_t *dst)
{
    const int w = img->width, ic = img->channels;
    static float wy[MAX_SIDE + 1], wx[MAX_SIDE + 1];   /* not thread-safe: predict's alone */
    for (int y = 0; y < H; y++) {
        int y0, ny = axis_taps(img->height, H, y, &y0, wy);
        for (int x = 0; x < W; x++) {
            int x0, nx = axis_taps(w, W, x, &x0, wx);
            for (int c = 0; c < C; c++) {
                float acc = 0.0f, wsum = 0.0f;
                for (int a = 0; a < ny; a++)
                    for (int b = 0; b < nx; b++) {
                        const uint8_t *p = img->data + ((size_t)(y0 + a) * w + x0 + b) * ic;
                        /* the source value in output channel c */
                        float v = ic == C ? p[c]
                                : ic == 1 ? p[0]
                                          : 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
                        acc += wy[a] * wx[b] * v;
                        wsum += wy[a] * wx[b];
                    }
                float v = acc / wsum + 0.5f;
                dst[((size_t)c * H + y) * W + x] = (uint8_t)(v > 255.0f ? 255.0f : v);
            }
        }
    }
}
