/* test_image: PNG and JPEG reading on files the test writes. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "core/status.h"
#include "io/image.h"

/* Write a w x h PNG with c channels (1 or 3) from HWC pixels. */

static void write_png(const char *path, int w, int h, int c, const unsigned char *px)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

static void write_jpeg(const char *path, int w, int h, const unsigned char *rgb)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    FILE *f = fopen(path, "wb");
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 100, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)ci.next_scanline * w * 3);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    fclose(f);
    jpeg_destroy_compress(&ci);
}

/* PNG pixels come back exactly, grey and RGB, and to_chw splits planes. */
static void test_image_png(void **state)
{
    (void)state;
    unsigned char px[4 * 3 * 3];
    for (int i = 0; i < 36; i++)
        px[i] = (unsigned char)(i * 7);
    write_png(sn_test_path("rgb.png"), 4, 3, 3, px);
    struct sn_image img;
    assert_int_equal(sn_image_read(sn_test_path("rgb.png"), &img), SN_OK);
    assert_int_equal(img.width, 4);
    assert_int_equal(img.height, 3);
    assert_int_equal(img.channels, 3);
    assert_memory_equal(img.data, px, 36);
    unsigned char chw[36];
    sn_image_to_chw(&img, chw);
    assert_int_equal(chw[0], px[0]);
    assert_int_equal(chw[12], px[1]);   /* green plane starts at 12 */
    assert_int_equal(chw[24 + 5], px[5 * 3 + 2]);
    sn_image_free(&img);
    write_png(sn_test_path("grey.png"), 3, 2, 1, px);
    assert_int_equal(sn_image_read(sn_test_path("grey.png"), &img), SN_OK);
    assert_int_equal(img.channels, 1);
    assert_memory_equal(img.data, px, 6);
    sn_image_free(&img);
}

/* A flat-colour JPEG decodes to (nearly) that colour. */
static void test_image_jpeg(void **state)
{
    (void)state;
    unsigned char px[16 * 8 * 3];
    for (int i = 0; i < 16 * 8; i++) {
        px[3 * i] = 200;
        px[3 * i + 1] = 100;
        px[3 * i + 2] = 50;
    }
    write_jpeg(sn_test_path("a.jpg"), 16, 8, px);
    struct sn_image img;
    assert_int_equal(sn_image_read(sn_test_path("a.jpg"), &img), SN_OK);
    assert_int_equal(img.width, 16);
    assert_int_equal(img.height, 8);
    assert_int_equal(img.channels, 3);
    for (int i = 0; i < 16 * 8 * 3; i++)
        assert_true(abs((int)img.data[i] - (int)px[i]) <= 3);
    sn_image_free(&img);
}

/* Damaged and foreign files are refused, never crash. */
static void test_image_rejects_bad_files(void **state)
{
    (void)state;
    struct sn_image img;
    FILE *f = fopen(sn_test_path("text.png"), "w");
    fputs("hello", f);
    fclose(f);
    assert_int_equal(sn_image_read(sn_test_path("text.png"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "neither a PNG nor a JPEG"));
    /* a JPEG cut to a third */
    f = fopen(sn_test_path("a.jpg"), "rb");
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(sn_test_path("cut.jpg"), "wb");
    fwrite(buf, 1, n / 3, f);
    fclose(f);
    int rc = sn_image_read(sn_test_path("cut.jpg"), &img);
    if (rc == SN_OK)
        sn_image_free(&img);   /* libjpeg pads short data; what matters is no crash */
    f = fopen(sn_test_path("cut.png"), "wb");
    fwrite("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 1, 16, f);
    fclose(f);
    assert_int_equal(sn_image_read(sn_test_path("cut.png"), &img), SN_EINVAL);
    assert_int_equal(sn_image_read(sn_test_path("none.png"), &img), SN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_png),
        cmocka_unit_test(test_image_jpeg),
        cmocka_unit_test(test_image_rejects_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
