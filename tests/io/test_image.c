/* test_image: PNG, JPEG and PGM reading on files the test writes, and
 * fitting images to a model input. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

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

/* An RGB JPEG at quality 100, progressive (libjpeg's simple script) or
 * with a restart marker after every restart MCUs (0: none). */
static void write_jpeg_as(const char *path, int w, int h, const unsigned char *rgb,
                          bool progressive, unsigned restart)
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
    if (progressive)
        jpeg_simple_progression(&ci);
    ci.restart_interval = restart;
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)ci.next_scanline * w * 3);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    fclose(f);
    jpeg_destroy_compress(&ci);
}

static void write_jpeg(const char *path, int w, int h, const unsigned char *rgb)
{
    write_jpeg_as(path, w, h, rgb, false, 0);
}

/* An RGB PNG of w x h pixels px at 8 or 16 bits a sample (257 px[i]),
 * written with libpng's own writer, declaring no colour encoding (chunk
 * 0), sRGB (1) or linear light (2, gAMA 1.0). */
static void write_png_as(const char *path, int w, int h, const unsigned char *px, int bits,
                         int chunk)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    assert_true(p && info);
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, bits, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (chunk == 1)
        png_set_sRGB(p, info, PNG_sRGB_INTENT_PERCEPTUAL);
    if (chunk == 2)
        png_set_gAMA(p, info, 1.0);
    png_write_info(p, info);
    unsigned char row[64 * 6];
    assert_true(w <= 64);
    for (int y = 0; y < h; y++) {
        for (int i = 0; i < w * 3; i++) {   /* 16 bits big-endian, as PNG stores them */
            const unsigned char v = px[y * w * 3 + i];
            if (bits == 16)
                row[2 * i] = row[2 * i + 1] = v;
            else
                row[i] = v;
        }
        png_write_row(p, row);
    }
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    fclose(f);
}

/* PNG pixels come back exactly, grey and RGB, 8 and 16 bits a sample, and
 * to_chw splits planes. */
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
    /* the same picture at 8 and at 16 bits a sample (257 v) reads the
     * same, whatever encoding the file declares: none or sRGB, read as v
     * (as linear light, libpng's default for 16 bits, an sRGB one read 128
     * as 56), or linear light, converted to sRGB alike */
    for (int chunk = 0; chunk < 3; chunk++) {
        struct sn_image i8, i16;
        write_png_as(sn_test_path("rgb8.png"), 4, 3, px, 8, chunk);
        write_png_as(sn_test_path("rgb16.png"), 4, 3, px, 16, chunk);
        assert_int_equal(sn_image_read(sn_test_path("rgb8.png"), &i8), SN_OK);
        assert_int_equal(sn_image_read(sn_test_path("rgb16.png"), &i16), SN_OK);
        assert_int_equal(i16.channels, 3);
        for (int i = 0; i < 36; i++) {
            if (chunk < 2)
                assert_int_equal(i16.data[i], px[i]);
            assert_true(abs((int)i16.data[i] - (int)i8.data[i]) <= 1);
        }
        sn_image_free(&i8);
        sn_image_free(&i16);
    }
}

static void write_palette_png(const char *path, const unsigned char map[6],
                              const unsigned char idx[4])
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = 2;
    img.height = 2;
    img.format = PNG_FORMAT_RGB_COLORMAP;
    img.colormap_entries = 2;
    assert_true(png_image_write_to_file(&img, path, 0, idx, 0, map));
}

/* A palette PNG reads as colour, and says it is one (convert folder
 * names it when it sits among grey images); one whose pixels are all
 * greys (pnmtopng writes small grey images so) reads as grey. */
static void test_image_png_palette(void **state)
{
    (void)state;
    const unsigned char greys[2 * 3] = { 0, 0, 0, 128, 128, 128 }, idx[4] = { 0, 1, 1, 0 };
    const unsigned char map[2 * 3] = { 0, 0, 0, 200, 100, 50 };
    struct sn_image got;
    write_palette_png(sn_test_path("pal.png"), map, idx);
    assert_int_equal(sn_image_read(sn_test_path("pal.png"), &got), SN_OK);
    assert_int_equal(got.channels, 3);
    assert_true(got.palette);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++)
            assert_int_equal(got.data[i * 3 + k], map[idx[i] * 3 + k]);
    sn_image_free(&got);
    write_palette_png(sn_test_path("palgrey.png"), greys, idx);
    assert_int_equal(sn_image_read(sn_test_path("palgrey.png"), &got), SN_OK);
    assert_int_equal(got.channels, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(got.data[i], greys[idx[i] * 3]);
    sn_image_free(&got);
    unsigned char px[12] = { 0 };
    write_png(sn_test_path("rgbplain.png"), 2, 2, 3, px);
    assert_int_equal(sn_image_read(sn_test_path("rgbplain.png"), &got), SN_OK);
    assert_false(got.palette);
    sn_image_free(&got);
}

/* An alpha channel is dropped and the colours read as stored, as PIL's
 * convert("RGB") and torchvision do: half-transparent white is 255 (it
 * read 188, composited onto black in linear light), a transparent pixel
 * keeps its colour; the same for grey with alpha. */
static void test_image_png_alpha(void **state)
{
    (void)state;
    const unsigned char rgba[3 * 4] = { 255, 255, 255, 128, 10, 20, 30, 0, 90, 160, 220, 255 };
    const unsigned char ga[3 * 2] = { 255, 128, 40, 0, 200, 255 };
    for (int grey = 0; grey < 2; grey++) {
        png_image img;
        memset(&img, 0, sizeof img);
        img.version = PNG_IMAGE_VERSION;
        img.width = 3;
        img.height = 1;
        img.format = grey ? PNG_FORMAT_GA : PNG_FORMAT_RGBA;
        const char *path = sn_test_path(grey ? "ga.png" : "rgba.png");
        assert_true(png_image_write_to_file(&img, path, 0, grey ? ga : rgba, 0, NULL));
        struct sn_image r;
        assert_int_equal(sn_image_read(path, &r), SN_OK);
        assert_int_equal(r.channels, grey ? 1 : 3);
        assert_int_equal(r.width * r.height, 3);
        for (int i = 0; i < 3; i++)
            for (int c = 0; c < r.channels; c++)
                assert_int_equal(r.data[i * r.channels + c],
                                 grey ? ga[2 * i] : rgba[4 * i + c]);
        sn_image_free(&r);
    }
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
    /* its frame marker made lossless (SOF3): a valid kind libjpeg does not
     * decode, not a damaged file */
    FILE *f = fopen(sn_test_path("a.jpg"), "rb");
    assert_non_null(f);
    unsigned char b[4096];
    const size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    size_t at = 0;
    while (at + 1 < n && !(b[at] == 0xff && b[at + 1] == 0xc0))
        at++;
    assert_true(at + 1 < n);
    b[at + 1] = 0xc3;
    f = fopen(sn_test_path("sof3.jpg"), "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    assert_int_equal(sn_image_read(sn_test_path("sof3.jpg"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "sof3.jpg: a kind of JPEG scratchnet does not read "
                                        "(Unsupported JPEG process: SOF type 0xc3)"));
}

/* A CMYK JPEG (no Adobe marker: plain, not inverted values) comes back
 * as RGB: R = (1 - C)(1 - K) and so on. */
static void test_image_jpeg_cmyk(void **state)
{
    (void)state;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    unsigned char row[8 * 4];
    for (int i = 0; i < 8; i++) {   /* C 0, M 255, Y 255, K 51: a darker red */
        row[4 * i] = 0;
        row[4 * i + 1] = 255;
        row[4 * i + 2] = 255;
        row[4 * i + 3] = 51;
    }
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    FILE *f = fopen(sn_test_path("cmyk.jpg"), "wb");
    jpeg_stdio_dest(&ci, f);
    ci.image_width = 8;
    ci.image_height = 4;
    ci.input_components = 4;
    ci.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&ci);
    ci.write_Adobe_marker = FALSE;
    jpeg_set_quality(&ci, 100, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    fclose(f);
    jpeg_destroy_compress(&ci);
    struct sn_image img;
    assert_int_equal(sn_image_read(sn_test_path("cmyk.jpg"), &img), SN_OK);
    assert_int_equal(img.channels, 3);
    assert_int_equal(img.width, 8);
    for (int i = 0; i < 8 * 4; i++) {
        assert_true(abs((int)img.data[3 * i] - 204) <= 4);   /* 255 * (1 - 51/255) */
        assert_true(img.data[3 * i + 1] <= 4 && img.data[3 * i + 2] <= 4);
    }
    sn_image_free(&img);
}

/* A PNG chunk of the given type and data, CRC and all, appended to f. */
static void put_chunk(FILE *f, const char *type, const unsigned char *data, size_t n)
{
    unsigned char len[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                             (unsigned char)(n >> 8), (unsigned char)n };
    uLong crc = crc32(crc32(0, NULL, 0), (const Bytef *)type, 4);
    crc = crc32(crc, data, (uInt)n);
    unsigned char c[4] = { (unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                           (unsigned char)(crc >> 8), (unsigned char)crc };
    fwrite(len, 1, 4, f);
    fwrite(type, 1, 4, f);
    fwrite(data, 1, n, f);
    fwrite(c, 1, 4, f);
}

/* A palette PNG whose pixels index past its palette (the specification's
 * error; a damaged or crafted file) is refused naming the entry: libpng's
 * RGB reading made those pixels black without a word.  The same file with
 * every index in the palette reads. */
static void test_image_png_index_past_palette(void **state)
{
    (void)state;
    for (int bad = 1; bad >= 0; bad--) {
        const char *path = sn_test_path(bad ? "palbad.png" : "palok.png");
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
        const unsigned char ihdr[13] = { 0, 0, 0, 2, 0, 0, 0, 2, 8, 3, 0, 0, 0 };
        const unsigned char plte[6] = { 0, 0, 0, 255, 255, 255 };
        const unsigned char rows[6] = { 0, 0, 1, 0, (unsigned char)(bad ? 7 : 1), 0 };
        unsigned char z[64];
        uLongf zn = sizeof z;
        assert_int_equal(compress(z, &zn, rows, sizeof rows), Z_OK);
        put_chunk(f, "IHDR", ihdr, sizeof ihdr);
        put_chunk(f, "PLTE", plte, sizeof plte);
        put_chunk(f, "IDAT", z, zn);
        put_chunk(f, "IEND", (const unsigned char *)"", 0);
        fclose(f);
        struct sn_image got;
        if (bad) {
            assert_int_equal(sn_image_read(path, &got), SN_EINVAL);
            assert_non_null(strstr(sn_errmsg(), "palbad.png: damaged PNG (a pixel is entry 7 of "
                                                "a palette of 2 entries)"));
        } else {
            assert_int_equal(sn_image_read(path, &got), SN_OK);
            assert_int_equal(got.data[0], 0);
            assert_int_equal(got.data[2 * got.channels], 255);
            sn_image_free(&got);
        }
    }
}

/* Text chunks change no pixel and cost no memory: 30 zTXt chunks of 7.5
 * MB of zeros each before the pixels (225 MB, were they inflated and
 * kept) and a text chunk after them; libpng's simplified reader inflates
 * and drops them, and the pixels read as the file without them.  40 are
 * past the 256 KiB of compressed text before the pixels that a PNG may
 * hold (2,000 such chunks took 26 s to inflate): refused. */
static void test_image_png_text_skipped(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE"))   /* the sanitizers' own memory hides the peak */
        skip();
    unsigned char px[4 * 2 * 3];
    for (int i = 0; i < 24; i++)
        px[i] = (unsigned char)(i * 11);
    write_png(sn_test_path("plain.png"), 4, 2, 3, px);
    char *plain = NULL;
    size_t plain_n = 0;
    FILE *f = fopen(sn_test_path("plain.png"), "rb");
    assert_non_null(f);
    plain = malloc(4096);
    plain_n = fread(plain, 1, 4096, f);
    fclose(f);
    assert_true(plain_n > 45 && plain_n < 4096);
    const uLong raw = 7500000;
    uLongf zn = compressBound(raw);
    unsigned char *zeros = calloc(raw, 1), *z = malloc(3 + zn);
    assert_true(zeros && z);
    memcpy(z, "k\0\0", 3);   /* keyword "k", compression method 0 */
    assert_int_equal(compress2(z + 3, &zn, zeros, raw, 9), Z_OK);
    for (int k = 0; k < 2; k++) {
        f = fopen(sn_test_path(k ? "ztxt40.png" : "ztxt.png"), "wb");
        fwrite(plain, 1, 33, f);   /* the signature and IHDR */
        for (int i = 0; i < (k ? 40 : 30); i++)
            put_chunk(f, "zTXt", z, 3 + zn);
        fwrite(plain + 33, 1, plain_n - 33 - 12, f);   /* up to IEND */
        put_chunk(f, "tEXt", (const unsigned char *)"Comment\0after the pixels", 25);
        fwrite(plain + plain_n - 12, 1, 12, f);
        fclose(f);
    }
    free(zeros);
    free(z);
    free(plain);
    struct sn_image img;
    sn_test_reset_peak();
    const long before = sn_test_status_kb("VmHWM");
    assert_int_equal(sn_image_read(sn_test_path("ztxt.png"), &img), SN_OK);
    const long rise = sn_test_status_kb("VmHWM") - before;
    assert_true(rise < 32 * 1024);
    assert_int_equal(img.width, 4);
    assert_int_equal(img.channels, 3);
    assert_memory_equal(img.data, px, 24);
    sn_image_free(&img);
    assert_int_equal(sn_image_read(sn_test_path("ztxt40.png"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "ztxt40.png: PNG holds more than 262144 bytes of "
                                        "compressed text and colour profile"));
}

/* plain.png (written first) with n empty private chunks before its pixels. */
static void png_with_chunks(const char *name, long n)
{
    unsigned char px[4 * 2 * 3] = { 0 }, plain[4096];
    write_png(sn_test_path("plain.png"), 4, 2, 3, px);
    FILE *f = fopen(sn_test_path("plain.png"), "rb");
    assert_non_null(f);
    const size_t plain_n = fread(plain, 1, sizeof plain, f);
    fclose(f);
    assert_true(plain_n > 45 && plain_n < sizeof plain);
    f = fopen(sn_test_path(name), "wb");
    assert_non_null(f);
    fwrite(plain, 1, 33, f);   /* the signature and IHDR */
    for (long i = 0; i < n; i++)
        put_chunk(f, "prVt", (const unsigned char *)"", 0);
    fwrite(plain + 33, 1, plain_n - 33, f);
    fclose(f);
}

/* libpng spends about 5 us on every chunk: a PNG of 22 million empty
 * chunks decoded for 115 s.  More than 300,000 chunks are refused before
 * libpng reads any; a thousand read as usual. */
static void test_image_png_chunk_count(void **state)
{
    (void)state;
    struct sn_image img;
    png_with_chunks("some.png", 1000);
    assert_int_equal(sn_image_read(sn_test_path("some.png"), &img), SN_OK);
    assert_int_equal(img.width, 4);
    sn_image_free(&img);
    png_with_chunks("many.png", 300001);
    assert_int_equal(sn_image_read(sn_test_path("many.png"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "many.png: PNG of more than 300000 chunks"));
}

/* A header claiming more pixels than the budget is refused before any
 * decoding; raising the budget admits it. */
static void test_image_pixel_budget(void **state)
{
    (void)state;
    FILE *f = fopen(sn_test_path("big.pgm"), "wb");
    fputs("P5\n300 200\n255\n", f);
    for (int i = 0; i < 300 * 200; i++)
        fputc(i & 0xff, f);
    fclose(f);
    struct sn_image img;
    size_t old = sn_image_get_max_pixels();
    sn_image_set_max_pixels(59999);
    assert_int_equal(sn_image_read(sn_test_path("big.pgm"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "more than the limit of 59999 pixels"));
    sn_image_set_max_pixels(60000);
    assert_int_equal(sn_image_read(sn_test_path("big.pgm"), &img), SN_OK);
    sn_image_free(&img);
    sn_image_set_max_pixels(old);
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
    assert_non_null(strstr(sn_errmsg(), "not a PNG, JPEG, PGM or PPM (P6) file"));
    /* a JPEG cut to a third */
    f = fopen(sn_test_path("a.jpg"), "rb");
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(sn_test_path("cut.jpg"), "wb");
    fwrite(buf, 1, n / 3, f);
    fclose(f);
    assert_int_equal(sn_image_read(sn_test_path("cut.jpg"), &img), SN_EINVAL);
    /* cut in its pixel data, after the headers: libjpeg would make the rest
     * up (grey) with a warning, which is a refusal */
    f = fopen(sn_test_path("cut.jpg"), "wb");
    fwrite(buf, 1, n - 8, f);
    fclose(f);
    assert_int_equal(sn_image_read(sn_test_path("cut.jpg"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "damaged JPEG (Premature end of JPEG file)"));
    f = fopen(sn_test_path("cut.png"), "wb");
    fwrite("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 1, 16, f);
    fclose(f);
    assert_int_equal(sn_image_read(sn_test_path("cut.png"), &img), SN_EINVAL);
    assert_int_equal(sn_image_read(sn_test_path("none.png"), &img), SN_EINVAL);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* The bytes of the file name into b (len bytes, more than the file): its
 * size. */
static size_t read_bytes(const char *name, unsigned char *b, size_t len)
{
    FILE *f = fopen(sn_test_path(name), "rb");
    assert_non_null(f);
    const size_t n = fread(b, 1, len, f);
    fclose(f);
    assert_true(n < len);
    return n;
}

/* The JPEG b of n bytes written as name with k bytes of fill before the
 * first 0xFF marker after its start (FF D9 is the end marker: within a
 * scan 0xFF is followed by 0 or a restart marker alone). */
static void with_bytes_before(const unsigned char *b, size_t n, unsigned char marker,
                              unsigned char fill, size_t k, const char *name)
{
    size_t at = 2;
    while (at + 1 < n && !(b[at] == 0xff && b[at + 1] == marker))
        at++;
    assert_true(at + 1 < n);
    unsigned char *out = malloc(n + k);
    assert_non_null(out);
    memcpy(out, b, at);
    memset(out + at, fill, k);
    memcpy(out + at + k, b + at, n - at);
    write_bytes(sn_test_path(name), out, n + k);
    free(out);
}

/* A JPEG's scan damaged: stuffed 0xFF bytes in the middle (all ones, no
 * Huffman code) refused; zeros there decode into another picture with
 * bytes left over before the end marker, which libjpeg skips: read, and
 * counted for the caller's warning, like an encoder's padding before the
 * end marker (whose pixels are the picture's own: hostile round 75 F1).
 * Bytes between the segments before the scan, as cameras leave them, are
 * neither. */
static void test_image_jpeg_scan_damage(void **state)
{
    (void)state;
    unsigned char px[28 * 28 * 3];
    for (int i = 0; i < 28 * 28 * 3; i++)
        px[i] = (unsigned char)((i * 37 + (i / 84) * 11) % 251);
    write_jpeg(sn_test_path("scan.jpg"), 28, 28, px);
    unsigned char b[16384], bad[16384];
    const size_t n = read_bytes("scan.jpg", b, sizeof b);
    assert_true(n > 1000);
    struct sn_image img, whole;
    assert_int_equal(sn_image_read(sn_test_path("scan.jpg"), &whole), SN_OK);
    assert_int_equal(whole.stray_bytes, 0);
    memcpy(bad, b, n);
    for (size_t i = 0; i < 30; i += 2)
        bad[n / 2 + i] = 0xff, bad[n / 2 + i + 1] = 0x00;
    write_bytes(sn_test_path("badcode.jpg"), bad, n);
    assert_int_equal(sn_image_read(sn_test_path("badcode.jpg"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "badcode.jpg: damaged JPEG (Corrupt JPEG data: bad "
                                        "Huffman code)"));
    memcpy(bad, b, n);
    memset(bad + n / 2, 0, 30);
    write_bytes(sn_test_path("zeroed.jpg"), bad, n);
    assert_int_equal(sn_image_read(sn_test_path("zeroed.jpg"), &img), SN_OK);
    assert_true(img.stray_bytes > 0);
    sn_image_free(&img);
    /* 8 bytes of padding before the end marker (FF D9) */
    with_bytes_before(b, n, 0xd9, 0x00, 8, "padded.jpg");
    assert_int_equal(sn_image_read(sn_test_path("padded.jpg"), &img), SN_OK);
    assert_true(img.stray_bytes > 0 && img.stray_bytes <= 8);   /* its bit buffer may take some */
    assert_memory_equal(img.data, whole.data, (size_t)28 * 28 * 3);
    sn_image_free(&img);
    /* 15 bytes before the quantisation tables (0xFF 0xDB) */
    with_bytes_before(b, n, 0xdb, 0x11, 15, "camera.jpg");
    assert_int_equal(sn_image_read(sn_test_path("camera.jpg"), &img), SN_OK);
    assert_int_equal(img.stray_bytes, 0);
    assert_memory_equal(img.data, whole.data, (size_t)28 * 28 * 3);
    sn_image_free(&img);
    sn_image_free(&whole);
}

/* Damage libjpeg decodes on from, each refused: a progressive scan whose
 * header skips coefficients the earlier scans did not send (a flipped bit:
 * "Inconsistent progression sequence", hostile round 76 F1), and bytes
 * before a restart marker, the rest of an interval whose data stopped
 * making sense (round 76 F2); the files themselves are read. */
static void test_image_jpeg_progression_and_restarts(void **state)
{
    (void)state;
    unsigned char px[32 * 32 * 3], b[16384], bad[16384];
    for (int i = 0; i < 32 * 32 * 3; i++)
        px[i] = (unsigned char)((i * 29 + (i / 96) * 7) % 251);
    struct sn_image img;
    write_jpeg_as(sn_test_path("prog.jpg"), 32, 32, px, true, 0);
    assert_int_equal(sn_image_read(sn_test_path("prog.jpg"), &img), SN_OK);
    sn_image_free(&img);
    size_t n = read_bytes("prog.jpg", b, sizeof b);
    /* the luma scan of coefficients 6-63 (libjpeg's script sent 1-5 before
     * it) from 1 instead: coefficients 1-5 again, as if never sent */
    size_t at = 0;
    while (at + 9 < n && !(b[at] == 0xff && b[at + 1] == 0xda && b[at + 4] == 1 && b[at + 7] == 6))
        at++;
    assert_true(at + 9 < n);
    memcpy(bad, b, n);
    bad[at + 7] = 1;
    write_bytes(sn_test_path("progbit.jpg"), bad, n);
    assert_int_equal(sn_image_read(sn_test_path("progbit.jpg"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "progbit.jpg: damaged JPEG (Inconsistent progression "
                                        "sequence for component 0 coefficient 1)"));
    write_jpeg_as(sn_test_path("rst.jpg"), 32, 32, px, false, 1);
    assert_int_equal(sn_image_read(sn_test_path("rst.jpg"), &img), SN_OK);
    assert_int_equal(img.stray_bytes, 0);
    sn_image_free(&img);
    n = read_bytes("rst.jpg", b, sizeof b);
    /* 5 bytes before the second restart marker (FF D1) */
    with_bytes_before(b, n, 0xd1, 0x00, 5, "rstgap.jpg");
    assert_int_equal(sn_image_read(sn_test_path("rstgap.jpg"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "rstgap.jpg: damaged JPEG (Corrupt JPEG data: "));
    assert_non_null(strstr(sn_errmsg(), " extraneous bytes before marker 0xd1)"));
}

/* The file name of len bytes text reads as a w x h image of c channels
 * holding the bytes want. */
static void netpbm_is(const char *name, const char *text, size_t len, int w, int h, int c,
                      const unsigned char *want)
{
    write_bytes(sn_test_path(name), text, len);
    struct sn_image img;
    assert_int_equal(sn_image_read(sn_test_path(name), &img), SN_OK);
    assert_int_equal(img.width, w);
    assert_int_equal(img.height, h);
    assert_int_equal(img.channels, c);
    assert_memory_equal(img.data, want, (size_t)(w * h * c));
    sn_image_free(&img);
}

/* PGM: binary P5 and ASCII P2, comments in the header, maxval < 255 scaled;
 * PPM: binary P6. */
static void test_image_pgm(void **state)
{
    (void)state;
    const char p5[] = "P5\n# a comment\n3 2\n255\n\x00\x10\x20\x30\x40\xff";
    const unsigned char want[6] = { 0x00, 0x10, 0x20, 0x30, 0x40, 0xff };
    netpbm_is("a.pgm", p5, sizeof p5 - 1, 3, 2, 1, want);
    struct sn_image img;

    const char p2[] = "P2 2 2 15\n0 15\n# mid\n5 10\n# end\n\n";
    write_bytes(sn_test_path("b.pgm"), p2, sizeof p2 - 1);
    assert_int_equal(sn_image_read(sn_test_path("b.pgm"), &img), SN_OK);
    const unsigned char want2[4] = { 0, 255, 85, 170 };   /* v * 255 / 15 */
    assert_memory_equal(img.data, want2, 4);
    sn_image_free(&img);

    /* P6, a colour pixmap: RGB interleaved, as a colour PNG is read */
    const char p6[] = "P6\n2 1\n255\n\x01\x02\x03\xfd\xfe\xff";
    const unsigned char want6[6] = { 1, 2, 3, 0xfd, 0xfe, 0xff };
    netpbm_is("d.ppm", p6, sizeof p6 - 1, 2, 1, 3, want6);
    const char p6cut[] = "P6\n2 1\n255\n\x01\x02\x03";
    write_bytes(sn_test_path("e.ppm"), p6cut, sizeof p6cut - 1);
    assert_int_equal(sn_image_read(sn_test_path("e.ppm"), &img), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "PPM pixel data is cut short"));

    /* a comment right after a number, as netpbm allows: its newline is the
     * one whitespace before the pixels (it was refused) */
    const char p5c[] = "P5 3# w\n2#h\n255# maxval\n\x00\x10\x20\x30\x40\xff";
    write_bytes(sn_test_path("c.pgm"), p5c, sizeof p5c - 1);
    assert_int_equal(sn_image_read(sn_test_path("c.pgm"), &img), SN_OK);
    assert_memory_equal(img.data, want, 6);
    sn_image_free(&img);

    static const char *const bad[][2] = {   /* the file, what the error says */
        { "P5\n3 2\n255\n\x01\x02", "PGM pixel data is cut short" },
        { "P5\n3 2\n65535\n\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c",
          "PGM maxval 65535: expected 1 to 255 (8-bit greymaps only)" },
        { "P5\n3 2\n0\n\x01", "PGM maxval 0: expected 1 to 255" },
        { "P5\n0 2\n255\n", "PGM of 2x0 pixels (height x width, as every size scratchnet "
                             "prints): each side must be 1 to 16384" },
        { "P5\nx 2\n255\n", "damaged PGM header (no width)" },
        { "P2 2 1 10\n3 11\n", "PGM pixel 1 is 11, above maxval 10" },
        { "P2 2 1 10\n3 99999999999999999999\n", "PGM pixel 1 is more than 100000000, above" },
        { "P2 2 1 10\n3 x\n", "PGM pixel 1 is missing or not a number" },
        /* text pixels take two bytes each: 21 bytes set aside 268 MB first */
        { "P2 8192 8192 255\n1\n", "PGM pixel data is cut short" },
        { "P2 2 1 10\n3 4 5\n", "more follows the PGM's 2 x 1 pixel values" },
        /* above maxval in binary: 101 would wrap to 2 */
        { "P5\n2 1\n100\n\x64\x65", "PGM pixel 1 is 101, above maxval 100" },
        { "P5\n0x1c 28\n255\n", "damaged PGM header (no width)" },   /* not ended by a blank */
        { "P5\n99999 99999\n255\n", "each side must be 1 to 16384" },
        { "P5\n4294967300 1\n255\n", "PGM width is more than 100000000: expected a number in "
                                      "[1, 100000000]" },
        { "P5\r\n2 1\r\n255\r\n\x01\x02", "bytes follow the PGM's pixel data (a header whose "
                                          "lines end in CR LF?" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_bytes(sn_test_path("bad.pgm"), bad[i][0], strlen(bad[i][0]));
        int rc = sn_image_read(sn_test_path("bad.pgm"), &img);
        if (rc != SN_EINVAL || !strstr(sn_errmsg(), bad[i][1]))
            fprintf(stderr, "bad PGM %zu: %d, %s\n", i, rc, sn_errmsg());
        assert_int_equal(rc, SN_EINVAL);
        assert_non_null(strstr(sn_errmsg(), bad[i][1]));
        assert_null(img.data);
    }
}

/* Fitting: the same size is the identity; shrinking by 2 averages 2x2
 * blocks (so undoes a 2x nearest enlargement exactly); growing keeps a
 * constant constant and interpolates a ramp; channels convert. */
static void test_image_fit(void **state)
{
    (void)state;
    unsigned char px[4 * 6], big[8 * 12], out[3 * 8 * 12];
    for (int i = 0; i < 24; i++)
        px[i] = (unsigned char)(i * 10);
    struct sn_image img = { .width = 6, .height = 4, .channels = 1, .data = px };
    sn_image_fit(&img, 1, 4, 6, out);
    assert_memory_equal(out, px, 24);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 12; x++)
            big[y * 12 + x] = px[(y / 2) * 6 + x / 2];
    struct sn_image bi = { .width = 12, .height = 8, .channels = 1, .data = big };
    sn_image_fit(&bi, 1, 4, 6, out);
    assert_memory_equal(out, px, 24);
    /* a 2x2 block average */
    unsigned char sq[4] = { 0, 100, 200, 255 };
    struct sn_image s2 = { .width = 2, .height = 2, .channels = 1, .data = sq };
    sn_image_fit(&s2, 1, 1, 1, out);
    assert_int_equal(out[0], 139);   /* 555 / 4 = 138.75 */
    /* growing: constant stays, a two-pixel ramp 0..200 becomes monotone */
    unsigned char c7[2] = { 77, 77 };
    struct sn_image ci = { .width = 2, .height = 1, .channels = 1, .data = c7 };
    sn_image_fit(&ci, 1, 5, 9, out);
    for (int i = 0; i < 45; i++)
        assert_int_equal(out[i], 77);
    unsigned char ramp[2] = { 0, 200 };
    struct sn_image ri = { .width = 2, .height = 1, .channels = 1, .data = ramp };
    sn_image_fit(&ri, 1, 1, 4, out);
    assert_int_equal(out[0], 0);      /* centres at -0.25, 0.25, 0.75, 1.25: clamped ends */
    assert_int_equal(out[1], 50);
    assert_int_equal(out[2], 150);
    assert_int_equal(out[3], 200);
    /* grey to colour repeats; colour to grey is the luma */
    sn_image_fit(&img, 3, 4, 6, out);
    for (int c = 0; c < 3; c++)
        assert_memory_equal(out + c * 24, px, 24);
    unsigned char rgb[3] = { 200, 100, 50 };
    struct sn_image col = { .width = 1, .height = 1, .channels = 3, .data = rgb };
    sn_image_fit(&col, 1, 1, 1, out);
    assert_int_equal(out[0], 124);    /* 0.299*200 + 0.587*100 + 0.114*50 = 123.2 */
    sn_image_fit(&col, 3, 2, 2, out);
    assert_int_equal(out[0], 200);
    assert_int_equal(out[4], 100);
    assert_int_equal(out[8], 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_png),
        cmocka_unit_test(test_image_png_alpha),
        cmocka_unit_test(test_image_png_palette),
        cmocka_unit_test(test_image_png_index_past_palette),
        cmocka_unit_test(test_image_jpeg),
        cmocka_unit_test(test_image_jpeg_cmyk),
        cmocka_unit_test(test_image_jpeg_scan_damage),
        cmocka_unit_test(test_image_jpeg_progression_and_restarts),
        cmocka_unit_test(test_image_png_text_skipped),
        cmocka_unit_test(test_image_png_chunk_count),
        cmocka_unit_test(test_image_pixel_budget),
        cmocka_unit_test(test_image_rejects_bad_files),
        cmocka_unit_test(test_image_pgm),
        cmocka_unit_test(test_image_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
