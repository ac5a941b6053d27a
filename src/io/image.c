/* image: PNG through libpng's simplified API, JPEG through libjpeg with an
 * error handler that returns instead of exiting (see image.h). */
#include "io/image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>   /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "core/status.h"
#include "core/tensor.h"
#include "io/fsutil.h"

#define MAX_SIDE 16384

static int read_png(const char *path, struct sn_image *out)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return sn_fail(SN_EINVAL, "%s: not a readable PNG (%s)", path, img.message);
    if (img.width == 0 || img.height == 0 || img.width > MAX_SIDE || img.height > MAX_SIDE) {
        png_image_free(&img);
        return sn_fail(SN_EINVAL, "%s: PNG of %ux%u is out of range", path, img.width, img.height);
    }
    bool grey = !(img.format & PNG_FORMAT_FLAG_COLOR);
    img.format = grey ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    out->width = (int)img.width;
    out->height = (int)img.height;
    out->channels = grey ? 1 : 3;
    out->data = sn_alloc_bytes(PNG_IMAGE_SIZE(img));
    if (!out->data) {
        png_image_free(&img);
        return sn_fail(SN_ENOMEM, "%s: out of memory", path);
    }
    if (!png_image_finish_read(&img, NULL, out->data, 0, NULL)) {
        sn_image_free(out);
        return sn_fail(SN_EINVAL, "%s: damaged PNG (%s)", path, img.message);
    }
    return SN_OK;
}

struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr cinfo)
{
    struct jerr *e = (struct jerr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level)
{
    (void)cinfo;
    (void)level;
}

static int read_jpeg(const char *path, struct sn_image *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sn_fs_open_failed(path, errno, NULL);
    struct jpeg_decompress_struct cinfo;
    struct jerr err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    err.mgr.emit_message = jpeg_quiet;
    /* volatile: read after longjmp */
    uint8_t *volatile data = NULL;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        fclose(f);
        sn_free(data);
        return sn_fail(SN_EINVAL, "%s: damaged JPEG (%s)", path, err.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, c = cinfo.output_components;
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE || (c != 1 && c != 3)) {
        jpeg_destroy_decompress(&cinfo);
        fclose(f);
        return sn_fail(SN_EINVAL, "%s: JPEG of %dx%d with %d channels is not supported", path, w,
                       h, c);
    }
    data = sn_alloc_bytes((size_t)w * h * c);
    if (!data) {
        jpeg_destroy_decompress(&cinfo);
        fclose(f);
        return sn_fail(SN_ENOMEM, "%s: out of memory", path);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = data + (size_t)cinfo.output_scanline * w * c;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    fclose(f);
    out->width = w;
    out->height = h;
    out->channels = c;
    out->data = data;
    return SN_OK;
}

/* One whitespace-separated number of a PGM header or P2 body ('#' starts
 * a comment up to the end of the line in the header). */
static bool pgm_number(FILE *f, long *v)
{
    int c;
    do {
        c = fgetc(f);
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
    } while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    if (c < '0' || c > '9')
        return false;
    long n = 0;
    while (c >= '0' && c <= '9') {
        if (n > 100000000)
            return false;
        n = n * 10 + (c - '0');
        c = fgetc(f);
    }
    *v = n;   /* the one whitespace after the number is consumed */
    return true;
}

/* netpbm greymap: P5 (binary) or P2 (ASCII), maxval 1..255 (scaled to 255). */
static int read_pgm(const char *path, struct sn_image *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sn_fs_open_failed(path, errno, NULL);
    char magic[2];
    long w, h, maxval;
    int rc = SN_OK;
    if (fread(magic, 1, 2, f) != 2 || !pgm_number(f, &w) || !pgm_number(f, &h) ||
        !pgm_number(f, &maxval))
        rc = sn_fail(SN_EINVAL, "%s: damaged PGM header", path);
    else if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE)
        rc = sn_fail(SN_EINVAL, "%s: PGM of %ldx%ld is out of range", path, w, h);
    else if (maxval < 1 || maxval > 255)
        rc = sn_fail(SN_EINVAL, "%s: PGM maxval %ld (only 8-bit greymaps, maxval <= 255)", path,
                     maxval);
    if (!rc) {
        out->width = (int)w;
        out->height = (int)h;
        out->channels = 1;
        out->data = sn_alloc_bytes((size_t)w * (size_t)h);
        if (!out->data)
            rc = sn_fail(SN_ENOMEM, "%s: out of memory", path);
    }
    size_t n = (size_t)w * (size_t)h;
    if (!rc && magic[1] == '5') {
        if (fread(out->data, 1, n, f) != n)
            rc = sn_fail(SN_EINVAL, "%s: PGM pixel data is cut short", path);
    } else if (!rc) {
        for (size_t i = 0; i < n && !rc; i++) {
            long v;
            if (!pgm_number(f, &v) || v > maxval)
                rc = sn_fail(SN_EINVAL, "%s: PGM pixel %zu is missing or above maxval", path, i);
            else
                out->data[i] = (uint8_t)v;
        }
    }
    if (!rc && maxval != 255)
        for (size_t i = 0; i < n; i++)
            out->data[i] = (uint8_t)((out->data[i] * 255 + maxval / 2) / maxval);
    fclose(f);
    if (rc)
        sn_image_free(out);
    return rc;
}

int sn_image_read(const char *path, struct sn_image *out)
{
    memset(out, 0, sizeof *out);
    unsigned char sig[8] = { 0 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return sn_fs_open_failed(path, errno, NULL);
    size_t n = fread(sig, 1, sizeof sig, f);
    fclose(f);
    if (n == 8 && png_sig_cmp(sig, 0, 8) == 0)
        return read_png(path, out);
    if (n >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff)
        return read_jpeg(path, out);
    if (n >= 3 && sig[0] == 'P' && (sig[1] == '5' || sig[1] == '2') &&
        (sig[2] == ' ' || sig[2] == '\n' || sig[2] == '\r' || sig[2] == '\t' || sig[2] == '#'))
        return read_pgm(path, out);
    return sn_fail(SN_EINVAL, "%s: not a PNG, JPEG or PGM file", path);
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
