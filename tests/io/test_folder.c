/* test_folder: image folder trees and the CIFAR-10 binary batches. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>

#include "core/status.h"
#include "io/cifar10.h"
#include "io/folder.h"
#include "io/image.h"

static void png(const char *path, int w, int h, unsigned char v)
{
    unsigned char px[64 * 64 * 3];
    memset(px, v, sizeof px);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

static void png_pattern(const char *path, int w, int h);

static const char *mk(const char *rel)
{
    const char *p = sn_test_path(rel);
    mkdir(p, 0777);
    return p;
}

/* Two classes in name order, images in name order, labels by folder. */
static void test_folder_reads_tree(void **state)
{
    (void)state;
    mk("tr");
    mk("tr/cat");
    mk("tr/ant");
    png(sn_test_path("tr/cat/2.png"), 5, 4, 30);
    png(sn_test_path("tr/cat/1.png"), 5, 4, 20);
    png(sn_test_path("tr/ant/x.png"), 5, 4, 10);
    FILE *f = fopen(sn_test_path("tr/ant/notes.txt"), "w");
    fputs("not an image", f);
    fclose(f);
    mk("tr/ant/more");   /* a folder of images in a class folder: not read, counted */
    png(sn_test_path("tr/ant/more/y.png"), 5, 4, 10);
    struct sn_folder s;
    assert_int_equal(sn_folder_read(sn_test_path("tr"), NULL, &s), SN_OK);
    assert_int_equal(s.n_classes, 2);
    assert_string_equal(s.classes[0], "ant");
    assert_string_equal(s.classes[1], "cat");
    assert_int_equal(s.n, 3);
    assert_int_equal(s.C, 3);
    assert_int_equal(s.H, 4);
    assert_int_equal(s.W, 5);
    assert_int_equal(s.skipped, 1);   /* notes.txt */
    assert_int_equal(s.nested, 1);    /* more/y.png */
    assert_int_equal(s.y[0], 0);
    assert_int_equal(s.y[1], 1);
    assert_int_equal(s.x[0], 10);
    assert_int_equal(s.x[60], 20);    /* cat/1.png before cat/2.png */
    assert_int_equal(s.x[120], 30);

    /* a test tree must have the same classes and image size */
    mk("te");
    mk("te/ant");
    mk("te/cat");
    png(sn_test_path("te/ant/a.png"), 5, 4, 1);
    png(sn_test_path("te/cat/b.png"), 5, 4, 2);
    struct sn_folder t;
    assert_int_equal(sn_folder_read(sn_test_path("te"), &s, &t), SN_OK);
    assert_int_equal(t.n, 2);
    sn_folder_free(&t);
    /* a test class folder without images: that class would never be tested */
    unlink(sn_test_path("te/cat/b.png"));
    assert_int_equal(sn_folder_read(sn_test_path("te"), &s, &t), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "te/cat: a class folder without a .png, .jpg or .jpeg image"));
    png(sn_test_path("te/cat/b.png"), 5, 4, 2);
    mk("te/dog");
    png(sn_test_path("te/dog/c.png"), 5, 4, 2);
    assert_int_equal(sn_folder_read(sn_test_path("te"), &s, &t), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "te: its class folder 'dog' is not one of the training "
                                        "folder's 2 classes: every test class must be a "
                                        "training class"));
    rename(sn_test_path("te/dog"), sn_test_path("te/bee"));
    unlink(sn_test_path("te/cat/b.png"));
    rmdir(sn_test_path("te/cat"));
    assert_int_equal(sn_folder_read(sn_test_path("te"), &s, &t), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "its class folder 'bee' is not one of the training "
                                        "folder's 2 classes (and its 'cat' has no test folder)"));
    /* a training class missing; the same name in other letter case; in
     * another Unicode form (e-acute as e and a combining accent) */
    assert_int_equal(rename(sn_test_path("te/bee"), sn_test_path("bee")), 0);
    assert_int_equal(sn_folder_read(sn_test_path("te"), &s, &t), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "the training folder's class 'cat' has no folder here"));
    assert_int_equal(rename(sn_test_path("bee"), sn_test_path("te/CAT")), 0);
    assert_int_equal(sn_folder_read(sn_test_path("te"), &s, &t), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "its class folder 'CAT' is the training folder's 'cat' "
                                        "in other letter case"));
    sn_folder_free(&s);

    /* a class folder whose name is not UTF-8 text: refused, named */
    mk("tr/\xff\xfe");
    png(sn_test_path("tr/\xff\xfe/x.png"), 5, 4, 10);
    assert_int_equal(sn_folder_read(sn_test_path("tr"), NULL, &s), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "class folder 2 '?" "?' holds the byte 0xff, which is "
                                        "not UTF-8"));
    remove(sn_test_path("tr/\xff\xfe/x.png"));
    rmdir(sn_test_path("tr/\xff\xfe"));

    /* a class folder that is another's (a link): refused, both named */
    assert_int_equal(symlink("cat", sn_test_path("tr/dog")), 0);
    assert_int_equal(sn_folder_read(sn_test_path("tr"), NULL, &s), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "class folder 'dog' is the folder 'cat' (a link)"));
    remove(sn_test_path("tr/dog"));
    /* one image file in two class folders (a link): refused, both named */
    assert_int_equal(symlink("../cat/1.png", sn_test_path("tr/ant/dup.png")), 0);
    assert_int_equal(sn_folder_read(sn_test_path("tr"), NULL, &s), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "tr/ant/dup.png and "));
    assert_non_null(strstr(sn_errmsg(), "tr/cat/1.png are one file (a hard or symbolic link): "
                                        "one image would be an example of both 'ant' and 'cat'"));
    remove(sn_test_path("tr/ant/dup.png"));

    /* images of different sizes */
    png(sn_test_path("tr/cat/3.png"), 6, 4, 30);
    assert_int_equal(sn_folder_read(sn_test_path("tr"), NULL, &s), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "3.png"));
    /* a grey one of the same size: the hint names the colour too */
    png_pattern(sn_test_path("tr/cat/3.png"), 5, 4);
    assert_int_equal(sn_folder_read(sn_test_path("tr"), NULL, &s), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "3.png: 1x4x5, but the first image is 3x4x5 (--size HxW "
                                        "fits every image to one size, in colour when any image "
                                        "is colour; --grey reads every image as grey)"));
    assert_int_equal(sn_folder_read(sn_test_path("nowhere"), NULL, &s), SN_EINVAL);
    mk("empty");
    assert_int_equal(sn_folder_read(sn_test_path("empty"), NULL, &s), SN_EINVAL);
}

/* A grey PNG whose pixel (r, c) is (r * 37 + c * 11) mod 256: a pattern
 * resampling changes. */
static void png_pattern(const char *path, int w, int h)
{
    unsigned char px[64 * 64];
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            px[r * w + c] = (unsigned char)((r * 37 + c * 11) % 256);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_GRAY;
    assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

/* With a size, images of mixed sizes and of grey and colour become one
 * dataset, colour as one image is colour whatever the order of the names
 * (grey images first did make the whole set grey): each row is exactly
 * what sn_image_fit (predict's resampling) makes of the file, and the
 * conversions are counted. */
static const struct sn_folder_fit to6x8 = { 0, 6, 8 }, to16k = { 0, 16384, 16384 };

static void test_folder_read_sized(void **state)
{
    (void)state;
    mk("mixed");
    mk("mixed/a");
    mk("mixed/b");
    png_pattern(sn_test_path("mixed/a/1.png"), 12, 10);   /* grey first */
    png_pattern(sn_test_path("mixed/a/2.png"), 5, 3);     /* grown */
    png(sn_test_path("mixed/b/1.png"), 16, 16, 90);       /* colour, shrunk: C = 3 */
    png_pattern(sn_test_path("mixed/b/2.png"), 8, 6);     /* already 8 wide, 6 high */
    struct sn_folder s;
    assert_int_equal(sn_folder_read(sn_test_path("mixed"), NULL, &s), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "--size HxW"));
    assert_int_equal(sn_folder_read_sized(sn_test_path("mixed"), NULL, &to6x8, &s), SN_OK);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.C, 3);
    assert_int_equal(s.H, 6);
    assert_int_equal(s.W, 8);
    assert_int_equal(s.resized, 3);
    assert_int_equal(s.recoloured, 3);   /* the three grey ones, three equal channels */
    static const char *const files[4] = { "mixed/a/1.png", "mixed/a/2.png", "mixed/b/1.png",
                                          "mixed/b/2.png" };
    for (int i = 0; i < 4; i++) {
        struct sn_image img;
        unsigned char want[3 * 6 * 8];
        assert_int_equal(sn_image_read(sn_test_path(files[i]), &img), SN_OK);
        sn_image_fit(&img, 3, 6, 8, want);
        sn_image_free(&img);
        assert_memory_equal(s.x + (size_t)i * 144, want, 144);
        if (i != 2)   /* grey: the three planes equal */
            assert_memory_equal(want, want + 2 * 48, 48);
    }
    assert_int_equal(s.x[2 * 144 + 2 * 48 + 17], 90);
    /* a test tree of other sizes is fitted to the same shape */
    mk("mixedte");
    mk("mixedte/a");
    mk("mixedte/b");
    png(sn_test_path("mixedte/a/x.png"), 3, 30, 10);
    png_pattern(sn_test_path("mixedte/b/y.png"), 7, 7);
    struct sn_folder t;
    assert_int_equal(sn_folder_read_sized(sn_test_path("mixedte"), &s, &to6x8, &t), SN_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.C * t.H * t.W, 144);   /* the training set's colour */
    sn_folder_free(&t);
    sn_folder_free(&s);
    /* a set of grey images stays grey */
    mk("grey");
    mk("grey/a");
    mk("grey/b");
    png_pattern(sn_test_path("grey/a/1.png"), 12, 10);
    png_pattern(sn_test_path("grey/b/1.png"), 5, 3);
    assert_int_equal(sn_folder_read_sized(sn_test_path("grey"), NULL, &to6x8, &s), SN_OK);
    assert_int_equal(s.C, 1);
    assert_int_equal(s.recoloured, 0);
    sn_folder_free(&s);
    /* images that --size makes more than half of the machine's memory are
     * refused before one is read (the buffer doubled until realloc failed) */
    const double half = 0.5 * (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    const int n = (int)(half / (16384.0 * 16384.0)) + 2;
    mk("huge");
    mk("huge/a");
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "huge/a/%d.png", i);
        png(sn_test_path(name), 2, 2, 10);
    }
    assert_int_equal(sn_folder_read_sized(sn_test_path("huge"), NULL, &to16k, &s),
                     SN_ENOMEM);
    char want[64];
    snprintf(want, sizeof want, ": %d images of 1x16384x16384 take", n);
    assert_non_null(strstr(sn_errmsg(), want));
    assert_non_null(strstr(sn_errmsg(), "MB of memory this process may use"));
    /* counted over every class folder, before any is read: two folders of
     * n / 2 + 1 images each are refused as one set */
    mk("huge2");
    mk("huge2/a");
    mk("huge2/b");
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "huge2/%c/%d.png", i % 2 ? 'b' : 'a', i);
        png(sn_test_path(name), 2, 2, 10);
    }
    assert_int_equal(sn_folder_read_sized(sn_test_path("huge2"), NULL, &to16k, &s),
                     SN_ENOMEM);
    assert_non_null(strstr(sn_errmsg(), want));
}

/* Batches in the official record format: label byte, then the 3 planes. */
/* --grey: every image one channel, its luma, with a size or without one
 * (then every image has the first one's size). */
static void test_folder_grey(void **state)
{
    (void)state;
    mk("g");
    mk("g/a");
    mk("g/b");
    png_pattern(sn_test_path("g/a/1.png"), 8, 6);
    png(sn_test_path("g/b/1.png"), 8, 6, 90);   /* colour */
    struct sn_folder s;
    const struct sn_folder_fit grey = { 1, 0, 0 }, grey_sized = { 1, 3, 4 };
    assert_int_equal(sn_folder_read_sized(sn_test_path("g"), NULL, &grey, &s), SN_OK);
    assert_int_equal(s.C * 1000 + s.H * 10 + s.W, 1068);
    assert_int_equal(s.recoloured, 1);
    assert_int_equal(s.resized, 0);
    assert_int_equal(s.x[48 + 17], 90);   /* the luma of (90, 90, 90) */
    sn_folder_free(&s);
    assert_int_equal(sn_folder_read_sized(sn_test_path("g"), NULL, &grey_sized, &s), SN_OK);
    assert_int_equal(s.C * 1000 + s.H * 10 + s.W, 1034);
    assert_int_equal(s.resized, 2);
    sn_folder_free(&s);
    png_pattern(sn_test_path("g/b/2.png"), 5, 5);   /* another size, no --size: refused */
    assert_int_equal(sn_folder_read_sized(sn_test_path("g"), NULL, &grey, &s), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "g/b/2.png: 1x5x5, but the first image is 1x6x8"));
    /* without --grey, a colour image among grey ones of one size says --grey */
    assert_int_equal(unlink(sn_test_path("g/b/2.png")), 0);
    assert_int_equal(sn_folder_read(sn_test_path("g"), NULL, &s), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "--grey reads every image as grey"));
}

/* Images one folder below their class folder are not read, and said:
 * counted with the first such folder named (a class of 70 read as 1);
 * a class folder whose only images are below it is refused naming them,
 * not guessed to be a folder of splits. */
static void test_folder_nested_images_said(void **state)
{
    (void)state;
    mk("nest");
    mk("nest/bag");
    mk("nest/shoe");
    mk("nest/shoe/batch1");
    mk("nest/shoe/empty");
    png_pattern(sn_test_path("nest/bag/1.png"), 4, 4);
    png_pattern(sn_test_path("nest/shoe/3.png"), 4, 4);
    png_pattern(sn_test_path("nest/shoe/batch1/1.png"), 4, 4);
    png_pattern(sn_test_path("nest/shoe/batch1/2.png"), 4, 4);
    FILE *t = fopen(sn_test_path("nest/shoe/notes.txt"), "w");
    assert_non_null(t);
    fclose(t);
    struct sn_folder s;
    assert_int_equal(sn_folder_read(sn_test_path("nest"), NULL, &s), SN_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.nested, 2);
    assert_non_null(strstr(s.first_nested, "nest/shoe/batch1"));
    assert_int_equal(s.skipped, 2);   /* notes.txt and the empty folder */
    assert_non_null(strstr(s.first_skipped, "nest/shoe/empty"));
    sn_folder_free(&s);
    assert_int_equal(unlink(sn_test_path("nest/shoe/3.png")), 0);
    assert_int_equal(sn_folder_read(sn_test_path("nest"), NULL, &s), SN_EINVAL);
    if (!strstr(sn_errmsg(), "nest/shoe: holds no images, but its sub-folders hold 2 (the "
                             "first: ") ||
        !strstr(sn_errmsg(), "nest/shoe/batch1/): is ") ||
        !strstr(sn_errmsg(), "a folder of splits (DIR/train/<class>/, DIR/test/<class>/)? Give "
                             "the training split's folder as DIR, and the test split's as --test; "
                             "if not, only DIR/<class>/<image> is read: move the images up into "))
        fail_msg("%s", sn_errmsg());
}

/* A grey w x w JPEG with 8 bytes of padding before its end marker, as
 * some encoders leave them. */
static void jpeg_padded(const char *path, int w)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *buf = NULL, row[64];
    unsigned long len = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, &len);
    c.image_width = c.image_height = (JDIMENSION)w;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w; x++)
            row[x] = (unsigned char)(x * 7 + y * 13);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(buf, 1, len - 2, f);
    fwrite("\0\0\0\0\0\0\0\0\xff\xd9", 1, 10, f);
    fclose(f);
    free(buf);
}

/* A JPEG whose scan leaves bytes over (padding, or damage that decodes) is
 * read, counted and named for the command's warning. */
static void test_folder_stray_jpeg_bytes_counted(void **state)
{
    (void)state;
    mk("pad");
    mk("pad/a");
    mk("pad/b");
    png_pattern(sn_test_path("pad/a/1.png"), 8, 8);
    jpeg_padded(sn_test_path("pad/a/2.jpg"), 8);
    jpeg_padded(sn_test_path("pad/b/1.jpg"), 8);
    struct sn_folder s;
    assert_int_equal(sn_folder_read(sn_test_path("pad"), NULL, &s), SN_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.stray, 2);
    assert_non_null(strstr(s.first_stray, "pad/a/2.jpg"));
    sn_folder_free(&s);
}

/* Image files that are no image (empty, text named .png, cut short) are
 * all named in one refusal, the first with its reason; a class whose only
 * image is such a file is not called empty. */
static void test_folder_unreadable_named_at_once(void **state)
{
    (void)state;
    mk("bad");
    mk("bad/cat");
    mk("bad/dog");
    png_pattern(sn_test_path("bad/cat/1.png"), 4, 4);
    png_pattern(sn_test_path("bad/dog/1.png"), 4, 4);
    FILE *f = fopen(sn_test_path("bad/cat/zero.jpg"), "w");
    assert_non_null(f);
    fclose(f);
    f = fopen(sn_test_path("bad/dog/text.png"), "w");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    mk("bad/owl");
    f = fopen(sn_test_path("bad/owl/only.png"), "w");
    assert_non_null(f);
    fclose(f);
    struct sn_folder s;
    assert_int_equal(sn_folder_read(sn_test_path("bad"), NULL, &s), SN_EINVAL);
    if (!strstr(sn_errmsg(), "3 image files could not be read: ") ||
        !strstr(sn_errmsg(), "bad/cat/zero.jpg: ") || !strstr(sn_errmsg(), "; also ") ||
        !strstr(sn_errmsg(), "bad/dog/text.png") || !strstr(sn_errmsg(), "bad/owl/only.png") ||
        !strstr(sn_errmsg(), "(fix or remove them)"))
        fail_msg("%s", sn_errmsg());
}

static void write_batch(const char *name, int n, int first_label)
{
    FILE *f = fopen(sn_test_path(name), "wb");
    unsigned char rec[3073];
    for (int i = 0; i < n; i++) {
        rec[0] = (unsigned char)((first_label + i) % 10);
        for (int k = 0; k < 3072; k++)
            rec[1 + k] = (unsigned char)(k / 1024 * 100 + i);
        fwrite(rec, 1, sizeof rec, f);
    }
    fclose(f);
}

/* The official binary batches in folder dir: 3 records in each of the
 * five training batches, 2 in the test batch. */
static void cifar_set(const char *dir)
{
    mk(dir);
    char name[64];
    for (int b = 1; b <= 5; b++) {
        snprintf(name, sizeof name, "%s/data_batch_%d.bin", dir, b);
        write_batch(name, 3, b);
    }
    snprintf(name, sizeof name, "%s/test_batch.bin", dir);
    write_batch(name, 2, 7);
}

/* A 2x2 palette PNG of two entries (an RGB colormap), pixels idx. */
static void palette_png(const char *path, const unsigned char map[6])
{
    const unsigned char idx[4] = { 0, 1, 1, 0 };
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = 2;
    img.height = 2;
    img.format = PNG_FORMAT_RGB_COLORMAP;
    img.colormap_entries = 2;
    assert_true(png_image_write_to_file(&img, path, 0, idx, 0, map));
}

/* A palette PNG read grey because its pixels are (a grey icon among
 * colour ones) joins a colour set of its size as three equal channels,
 * first or later (it was refused, "read as colour" said of a grey image);
 * a set of such images alone stays grey; an ordinary grey PNG among colour
 * ones still needs --size. */
static void test_folder_palette_greys(void **state)
{
    (void)state;
    const unsigned char col[6] = { 10, 20, 30, 200, 100, 50 }, grey[6] = { 0, 0, 0, 90, 90, 90 };
    struct sn_folder s;
    for (int first = 0; first < 2; first++) {
        const char *dir = mk(first ? "palf" : "pall");
        char p[1200];
        for (int c = 0; c < 2; c++) {
            snprintf(p, sizeof p, "%s/%c", dir, 'a' + c);
            mkdir(p, 0777);
            for (int k = 0; k < 2; k++) {
                snprintf(p, sizeof p, "%s/%c/%d.png", dir, 'a' + c, k);
                palette_png(p, (first ? c == 0 && k == 0 : c == 1 && k == 1) ? grey : col);
            }
        }
        assert_int_equal(sn_folder_read(dir, NULL, &s), SN_OK);
        assert_int_equal(s.C, 3);
        assert_int_equal(s.n, 4);
        assert_int_equal(s.recoloured, 1);
        const size_t at = first ? 0 : 3 * 12;   /* the grey image, its three planes */
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 3; c++)
                assert_int_equal(s.x[at + (size_t)c * 4 + (size_t)i], i == 0 || i == 3 ? 0 : 90);
        sn_folder_free(&s);
    }
    const char *dir = mk("palg");
    char p[1200];
    for (int c = 0; c < 2; c++) {
        snprintf(p, sizeof p, "%s/%c", dir, 'a' + c);
        mkdir(p, 0777);
        snprintf(p, sizeof p, "%s/%c/0.png", dir, 'a' + c);
        palette_png(p, grey);
    }
    assert_int_equal(sn_folder_read(dir, NULL, &s), SN_OK);
    assert_int_equal(s.C, 1);
    sn_folder_free(&s);
    snprintf(p, sizeof p, "%s/b/1.png", dir);   /* an ordinary colour PNG: widens them */
    png(p, 2, 2, 7);
    assert_int_equal(sn_folder_read(dir, NULL, &s), SN_OK);
    assert_int_equal(s.C, 3);
    sn_folder_free(&s);
    dir = mk("plaing");
    for (int c = 0; c < 2; c++) {
        snprintf(p, sizeof p, "%s/%c", dir, 'a' + c);
        mkdir(p, 0777);
        snprintf(p, sizeof p, "%s/%c/0.png", dir, 'a' + c);
        palette_png(p, col);
    }
    unsigned char g[4] = { 1, 2, 3, 4 };
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = img.height = 2;
    img.format = PNG_FORMAT_GRAY;
    snprintf(p, sizeof p, "%s/b/1.png", dir);
    assert_true(png_image_write_to_file(&img, p, 0, g, 0, NULL));
    assert_int_equal(sn_folder_read(dir, NULL, &s), SN_EINVAL);
}

/* The batches read in order, labels and planes where they belong, and
 * CIFAR-10's own class names without batches.meta.txt. */
static void test_folder_cifar10_binary(void **state)
{
    (void)state;
    cifar_set("cb");
    struct sn_folder tr, te;
    assert_int_equal(sn_cifar10_read(sn_test_path("cb"), &tr, &te), SN_OK);
    assert_int_equal(tr.n, 15);
    assert_int_equal(te.n, 2);
    assert_int_equal(tr.y[0], 1);
    assert_int_equal(tr.y[14], (5 + 2) % 10);
    assert_int_equal(te.y[1], 8);
    assert_int_equal(tr.x[1024], 100);      /* green plane of record 0 */
    assert_int_equal(tr.x[3072 + 2048], 201);
    assert_string_equal(tr.classes[9], "truck");
    sn_folder_free(&tr);
    sn_folder_free(&te);
}

/* batches.meta.txt names the classes, one a line: a name too long or
 * missing would shift or repeat the names of the labels after it; a list
 * that is there but cannot be read is an error, never the default names in
 * its place. */
static void test_folder_cifar10_class_list(void **state)
{
    (void)state;
    cifar_set("cbm");
    struct sn_folder tr, te;
    FILE *f;
    static const struct { const char *text, *err; } metas[] = {
        { "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n", NULL },
        { "a\nb\n\nd\ne\nf\ng\nh\ni\nj\n", "batches.meta.txt:3: an empty line" },
        { "a\nb\nc\n", "names 3 classes; CIFAR-10 has 10" },
        { "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\nk\n", "batches.meta.txt:12: more than 10 class names" },
        { "a\nb\nc\nd\ne\nf\ng\nh\ni\nb\n", "batches.meta.txt:10: the class name 'b' again (line 2)" },
        { "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nj\r\n", NULL },
        { "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nj", NULL },
        { "\xef\xbb\xbf" "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", NULL },   /* a byte-order mark */
        { "air\rplane\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
          "batches.meta.txt:1: a carriage return inside a class name" },
        { NULL, "batches.meta.txt:1: a class name longer than 254 bytes" },
    };
    for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
        f = fopen(sn_test_path("cbm/batches.meta.txt"), "w");
        if (metas[i].text)
            fputs(metas[i].text, f);
        else
            for (int k = 0; k < 300; k++)
                fputc('x', f);
        fclose(f);
        int rc = sn_cifar10_read(sn_test_path("cbm"), &tr, &te);
        if (!metas[i].err) {
            assert_int_equal(rc, SN_OK);
            assert_string_equal(tr.classes[0], "a");
            assert_string_equal(tr.classes[2], "c");
            assert_string_equal(te.classes[9], "j");
            sn_folder_free(&tr);
            sn_folder_free(&te);
        } else {
            assert_int_equal(rc, SN_EINVAL);
            assert_non_null(strstr(sn_errmsg(), metas[i].err));
        }
    }
    f = fopen(sn_test_path("cbm/batches.meta.txt"), "w");
    fwrite("a\0x\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", 1, 21, f);
    fclose(f);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbm"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "batches.meta.txt:1: a NUL byte in a class name"));
    /* in the last name too, with no newline after it */
    f = fopen(sn_test_path("cbm/batches.meta.txt"), "w");
    fwrite("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\0junk", 1, 24, f);
    fclose(f);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbm"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "batches.meta.txt:10: a NUL byte in a class name"));
    /* UTF-16, with its byte-order mark or without: named, not a NUL byte */
    static const char u16[] = "\xff\xfe" "a\0\n\0b\0\n\0";
    for (int marked = 1; marked >= 0; marked--) {
        f = fopen(sn_test_path("cbm/batches.meta.txt"), "w");
        fwrite(u16 + (marked ? 0 : 2), 1, sizeof u16 - 1 - (marked ? 0 : 2), f);
        fclose(f);
        assert_int_equal(sn_cifar10_read(sn_test_path("cbm"), &tr, &te), SN_EINVAL);
        assert_non_null(strstr(sn_errmsg(), marked ? "the class list is UTF-16; save it as UTF-8"
                                                   : "the class list is UTF-16LE without a "
                                                     "byte-order mark; save it as UTF-8"));
    }
    /* a list that is there but cannot be read is an error, never the
     * default names in its place: too large, not a regular file */
    f = fopen(sn_test_path("cbm/batches.meta.txt"), "w");
    fputs("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", f);
    for (int k = 0; k < (1 << 20); k++)
        fputc('\n', f);
    fclose(f);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbm"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "the class list is larger than 1048576 bytes"));
    remove(sn_test_path("cbm/batches.meta.txt"));
    assert_int_equal(mkdir(sn_test_path("cbm/batches.meta.txt"), 0755), 0);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbm"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "the class list is a folder, not a regular file"));
    rmdir(sn_test_path("cbm/batches.meta.txt"));
}

/* An empty batch, a truncated one, a bad label, a batch or a set past the
 * limits, one file linked as two batches and a missing batch are refused. */
static void test_folder_cifar10_bad_batches(void **state)
{
    (void)state;
    cifar_set("cbb");
    struct sn_folder tr, te;
    FILE *f;
    write_batch("cbb/test_batch.bin", 0, 0);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbb"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "test_batch.bin: the file is empty"));
    write_batch("cbb/test_batch.bin", 2, 7);
    f = fopen(sn_test_path("cbb/test_batch.bin"), "ab");
    fputc(1, f);
    fclose(f);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbb"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "whole number of"));
    write_batch("cbb/test_batch.bin", 1, 0);
    f = fopen(sn_test_path("cbb/test_batch.bin"), "r+b");
    fputc(42, f);
    fclose(f);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbb"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "label 42"));
    write_batch("cbb/test_batch.bin", 1, 0);
    /* a batch of 100,001 records (sparse: no disk) is no batch of the set:
     * refused before anything is allocated for it (3 GB was read whole) */
    assert_int_equal(sn_test_run("truncate -s %d %s", 3073 * 100001,
                                 sn_test_path("cbb/data_batch_2.bin")), 0);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbb"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "data_batch_2.bin: the CIFAR-10 batch is larger than "
                                        "307300000 bytes"));
    write_batch("cbb/data_batch_2.bin", 1, 0);
    /* each batch within its limit, the set not: three of 100,000 records
     * (1.8 GB was read from six); one file linked as two batches */
    assert_int_equal(sn_test_run("cd %s && truncate -s %d data_batch_2.bin data_batch_3.bin "
                                 "data_batch_4.bin", sn_test_path("cbb"), 3073 * 100000), 0);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbb"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "the six batches hold 300007 records; CIFAR-10 has "
                                        "60,000 and scratchnet reads at most 200000"));
    write_batch("cbb/data_batch_2.bin", 1, 0);
    write_batch("cbb/data_batch_3.bin", 1, 0);
    remove(sn_test_path("cbb/data_batch_4.bin"));
    assert_int_equal(link(sn_test_path("cbb/data_batch_1.bin"), sn_test_path("cbb/data_batch_4.bin")),
                     0);
    assert_int_equal(sn_cifar10_read(sn_test_path("cbb"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "data_batch_4.bin is the same file as "));
    assert_non_null(strstr(sn_errmsg(), "data_batch_1.bin (a link)"));
    remove(sn_test_path("cbb/data_batch_4.bin"));
    write_batch("cbb/data_batch_4.bin", 1, 0);
    remove(sn_test_path("cbb/data_batch_3.bin"));
    assert_int_equal(sn_cifar10_read(sn_test_path("cbb"), &tr, &te), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "data_batch_3.bin"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folder_reads_tree),
        cmocka_unit_test(test_folder_read_sized),
        cmocka_unit_test(test_folder_grey),
        cmocka_unit_test(test_folder_nested_images_said),
        cmocka_unit_test(test_folder_stray_jpeg_bytes_counted),
        cmocka_unit_test(test_folder_unreadable_named_at_once),
        cmocka_unit_test(test_folder_palette_greys),
        cmocka_unit_test(test_folder_cifar10_binary),
        cmocka_unit_test(test_folder_cifar10_class_list),
        cmocka_unit_test(test_folder_cifar10_bad_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
