/* image: PNG through libpng's simplified API, JPEG through libjpeg with an
 * error handler that returns instead of exiting (see image.h). */
#include "io/image.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>   /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "core/status.h"
#include "core/tensor.h"

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
        return sn_fail(SN_EINVAL, "%s: cannot open", path);
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

int sn_image_read(const char *path, struct sn_image *out)
{
    memset(out, 0, sizeof *out);
    unsigned char sig[8] = { 0 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return sn_fail(SN_EINVAL, "%s: cannot open", path);
    size_t n = fread(sig, 1, sizeof sig, f);
    fclose(f);
    if (n == 8 && png_sig_cmp(sig, 0, 8) == 0)
        return read_png(path, out);
    if (n >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff)
        return read_jpeg(path, out);
    return sn_fail(SN_EINVAL, "%s: neither a PNG nor a JPEG file", path);
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
