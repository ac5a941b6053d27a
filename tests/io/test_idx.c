/* test_idx: the IDX reader on files the test writes, plain and gzip. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/status.h"
#include "io/idx.h"

static void write_file(const char *path, const unsigned char *b, size_t n, bool gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb");
        gzwrite(g, b, (unsigned)n);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* 2 images of 2x3, plain and gzip, read back exactly. */
static void test_idx_reads_images(void **state)
{
    (void)state;
    unsigned char b[16 + 12] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3 };
    for (int i = 0; i < 12; i++)
        b[16 + i] = (unsigned char)(i * 20);
    for (int gz = 0; gz < 2; gz++) {
        const char *p = sn_test_path(gz ? "img.gz" : "img");
        write_file(p, b, sizeof b, gz);
        struct sn_idx x;
        assert_int_equal(sn_idx_read(p, &x), SN_OK);
        assert_int_equal(x.ndim, 3);
        assert_int_equal(x.dims[0], 2);
        assert_int_equal(x.dims[1], 2);
        assert_int_equal(x.dims[2], 3);
        assert_int_equal(x.len, 12);
        assert_memory_equal(x.data, b + 16, 12);
        sn_idx_free(&x);
    }
}

static void expect_bad(const unsigned char *b, size_t n, int code, const char *words)
{
    const char *p = sn_test_path("bad.idx");
    write_file(p, b, n, false);
    struct sn_idx x;
    int rc = sn_idx_read(p, &x);
    if (rc != code || !strstr(sn_errmsg(), words)) {
        fprintf(stderr, "got %d '%s', wanted %d '%s'\n", rc, sn_errmsg(), code, words);
        fail();
    }
    assert_null(x.data);
}

/* Bad magic, type, rank, zero size, truncation and trailing bytes are refused. */
static void test_idx_rejects_bad_files(void **state)
{
    (void)state;
    unsigned char ok[9] = { 0, 0, 8, 1, 0, 0, 0, 1, 7 };
    unsigned char b[32];
    memcpy(b, ok, 9);
    b[0] = 1;
    expect_bad(b, 9, SN_EINVAL, "magic");
    memcpy(b, ok, 9);
    b[2] = 0x0d;
    expect_bad(b, 9, SN_EINVAL, "type");
    memcpy(b, ok, 9);
    b[3] = 0;
    expect_bad(b, 9, SN_EINVAL, "rank");
    memcpy(b, ok, 9);
    b[7] = 0;
    expect_bad(b, 9, SN_EINVAL, "IDX dimension 0 has size 0");
    memcpy(b, ok, 9);
    b[7] = 5;
    expect_bad(b, 9, SN_EINVAL, "truncated");
    memcpy(b, ok, 9);
    b[9] = 1;
    expect_bad(b, 10, SN_EINVAL, "trailing");
    expect_bad(ok, 2, SN_EINVAL, "too short");
    expect_bad(ok, 6, SN_EINVAL, "truncated IDX header");
    /* sizes whose product overflows the 1 GiB limit, or exceeds it at
     * the last dimension: the message names them all and the limit */
    unsigned char huge[16] = { 0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1 };
    expect_bad(huge, 16, SN_EINVAL, "declares 4294967295 x 4294967295 x 1 bytes of data, more "
               "than the limit of 1073741824 (1 GiB");
    unsigned char mnist2m[16] = { 0, 0, 8, 3, 0, 0x1e, 0x84, 0x80, 0, 0, 0, 28, 0, 0, 0, 28 };
    expect_bad(mnist2m, 16, SN_EINVAL, "declares 2000000 x 28 x 28 bytes of data");
    struct sn_idx x;
    assert_int_equal(sn_idx_read(sn_test_path("nothing-here"), &x), SN_EINVAL);
}

/* A gzip file damaged, cut or followed by other bytes is named as such:
 * never read as a short IDX file, never converted as if whole. */
static void test_idx_rejects_bad_gzip(void **state)
{
    (void)state;
    unsigned char b[16 + 12] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3 };
    const char *p = sn_test_path("g.gz");
    write_file(p, b, sizeof b, true);
    FILE *f = fopen(p, "rb");
    unsigned char z[256];
    const size_t n = fread(z, 1, sizeof z, f);
    fclose(f);
    static const struct { int how; int code; const char *words; } cases[] = {
        { 0, SN_EDAMAGED, "damaged gzip data (incorrect data check)" },   /* CRC byte flipped */
        { 1, SN_EDAMAGED, "the gzip data is cut short" },                 /* trailer cut */
        { 2, SN_EDAMAGED, "the gzip data is cut short" },                 /* cut in the middle */
        { 3, SN_EINVAL, "bytes after the gzip stream" },                  /* junk after it */
        { 4, SN_EINVAL, "trailing bytes after the 12 data bytes" },       /* a second stream */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char c[600];
        size_t m = n;
        memcpy(c, z, n);
        if (cases[i].how == 0)
            c[n - 8] ^= 1;
        m = cases[i].how == 1 ? n - 6 : cases[i].how == 2 ? n / 2 : m;
        if (cases[i].how == 3)
            memcpy(c + n, "junkjunk", 8), m = n + 8;
        if (cases[i].how == 4)
            memcpy(c + n, z, n), m = 2 * n;
        write_file(p, c, m, false);
        struct sn_idx x;
        const int rc = sn_idx_read(p, &x);
        if (rc != cases[i].code || !strstr(sn_errmsg(), cases[i].words))
            fail_msg("case %zu: got %d '%s', wanted %d '%s'", i, rc, sn_errmsg(), cases[i].code,
                     cases[i].words);
        assert_null(x.data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_reads_images),
        cmocka_unit_test(test_idx_rejects_bad_files),
        cmocka_unit_test(test_idx_rejects_bad_gzip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
