/* test_h5: rows read by index (sn_h5_read_rows, which reads contiguous
 * datasets directly with pread) are the rows written, in files with the
 * seal's 512-byte user block (everything scratchnet writes) and without
 * (h5py's files).  Labels sorted by class are the hard case: a read at a
 * wrong place finds the same first label and every other one shifted. */
#include "testutil.h"

#include <hdf5.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/interrupt.h"
#include "core/status.h"
#include "io/h5.h"

enum { ROWS = 600, COLS = 5 };

struct table {
    float x[ROWS * COLS];
    int32_t y[ROWS];
};

static int fill(struct sn_h5 *f, const void *ctx)
{
    const struct table *t = ctx;
    size_t xd[2] = { ROWS, COLS }, yd[1] = { ROWS };
    int rc = sn_h5_write(f, "/train/x", 2, xd, SN_H5_F32, t->x);
    return rc ? rc : sn_h5_write(f, "/train/y", 1, yd, SN_H5_I32, t->y);
}

static void check_rows(const char *path, const struct table *t)
{
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    /* runs of consecutive rows and single ones, the last row included */
    const int32_t rows[] = { 0, 1, 2, 3, 127, 128, 129, 300, 301, 450, 598, 599 };
    const size_t n = sizeof rows / sizeof rows[0];
    float x[sizeof rows / sizeof rows[0] * COLS];
    int32_t y[sizeof rows / sizeof rows[0]];
    for (int pass = 0; pass < 2; pass++) {   /* the second read uses the checked direct entry */
        memset(x, 0, sizeof x);
        memset(y, 0, sizeof y);
        assert_int_equal(sn_h5_read_rows(f, "/train/x", rows, n, COLS, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_read_rows(f, "/train/y", rows, n, 1, SN_H5_I32, y), SN_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(y[i], t->y[rows[i]]);
            assert_memory_equal(&x[i * COLS], &t->x[rows[i] * COLS], COLS * sizeof(float));
        }
    }
    const int32_t past = ROWS;
    assert_int_equal(sn_h5_read_rows(f, "/train/y", &past, 1, 1, SN_H5_I32, y), SN_EINVAL);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

static void test_h5_read_rows(void **state)
{
    (void)state;
    static struct table t;
    for (int r = 0; r < ROWS; r++) {
        t.y[r] = r / 200;   /* sorted by class: y[0] == y[128] */
        for (int c = 0; c < COLS; c++)
            t.x[r * COLS + c] = (float)(r * 10 + c);
    }
    const char *sealed = sn_test_path("sealed.h5"), *plain = sn_test_path("plain.h5");
    assert_int_equal(sn_h5_write_atomic(sealed, fill, &t), SN_OK);
    assert_int_equal(sn_h5_check_seal(sealed), SN_OK);
    sn_interrupt_set(SIGTERM);   /* the seal's hash looks at a stop (a GB takes seconds) */
    assert_int_equal(sn_h5_check_seal(sealed), SN_EINTR);
    assert_non_null(strstr(sn_errmsg(), "interrupted by SIGTERM while checking "));
    sn_interrupt_clear();
    /* a seal's magic and 1 GiB of hole: its length tells, nothing is hashed */
    const char *holed = sn_test_path("holed.h5");
    FILE *hf = fopen(holed, "w");
    assert_non_null(hf);
    fwrite("SNSEAL1", 1, 8, hf);
    fclose(hf);
    assert_int_equal(truncate(holed, 1L << 30), 0);
    const clock_t t0 = clock();
    assert_int_equal(sn_h5_check_seal(holed), SN_EDAMAGED);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
    remove(holed);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(plain, &f), SN_OK);
    assert_int_equal(fill(f, &t), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    check_rows(sealed, &t);
    check_rows(plain, &t);
    /* HDF5 that was never sealed is another program's; a sealed file that
     * lost its first 512 bytes (the seal) reads as HDF5 all the same, and
     * is damaged, not another program's (user 42 U4) */
    assert_int_equal(sn_h5_check_seal(plain), SN_EINVAL);
    const char *cut = sn_test_path("cut.h5");
    assert_int_equal(sn_test_run("tail -c +513 %s > %s", sealed, cut), 0);
    assert_int_equal(sn_h5_check_seal(cut), SN_EDAMAGED);
    assert_non_null(strstr(sn_errmsg(), "its first 512 bytes are gone"));
    check_rows(cut, &t);   /* libhdf5 finds its superblock at 0 */
}

/* A compressed dataset stored as one 4 MB chunk, read 16 rows at a time
 * in order (as eval reads): the chunk is read from the file and inflated
 * once, not once a batch.  Counted in bytes this process read from files
 * (/proc/self/io, rchar), so a busy machine changes nothing: without a
 * chunk cache that holds the chunk, each of the 255 later batches reads
 * the whole compressed chunk (102 KB) again: 26.6 MB in all. */
enum { BIG_ROWS = 4096, BIG_COLS = 1024, BATCH = 16 };

static uint8_t big_value(size_t i)
{
    return (uint8_t)((i * 2654435761u) >> 7 & 0x0f);
}

static void write_one_chunk(const char *path)
{
    uint8_t *x = malloc((size_t)BIG_ROWS * BIG_COLS);
    assert_non_null(x);
    for (size_t i = 0; i < (size_t)BIG_ROWS * BIG_COLS; i++)
        x[i] = big_value(i);
    hsize_t dims[2] = { BIG_ROWS, BIG_COLS };
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate_simple(2, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, dims);
    H5Pset_deflate(pl, 1);
    hid_t d = H5Dcreate2(g, "x", H5T_NATIVE_UINT8, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
    H5Dclose(d);
    H5Pclose(pl);
    H5Sclose(s);
    H5Gclose(g);
    H5Fclose(f);
    free(x);
}

static long long bytes_read(void)
{
    FILE *io = fopen("/proc/self/io", "r");
    long long rchar = -1;
    assert_non_null(io);
    assert_int_equal(fscanf(io, "rchar: %lld", &rchar), 1);
    fclose(io);
    return rchar;
}

static void test_h5_big_chunk_read_once(void **state)
{
    (void)state;
    const char *path = sn_test_path("one_chunk.h5");
    write_one_chunk(path);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    uint8_t *rows = malloc((size_t)BATCH * BIG_COLS);
    assert_non_null(rows);
    long long after_first = 0;
    for (size_t at = 0; at < BIG_ROWS; at += BATCH) {
        assert_int_equal(sn_h5_read_block(f, "/train/x", at, BATCH, BIG_COLS, SN_H5_U8, rows),
                         SN_OK);
        for (size_t i = 0; i < (size_t)BATCH * BIG_COLS; i += 333)
            assert_int_equal(rows[i], big_value(at * BIG_COLS + i));
        if (at == 0)
            after_first = bytes_read();
    }
    const long long later = bytes_read() - after_first;
    print_message("the %d batches after the first read %lld bytes\n", BIG_ROWS / BATCH - 1,
                  later);
    assert_true(later < 256 * 1024);
    free(rows);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* A dataset stored in one-value chunks: libhdf5 (1.10.8) keeps about
 * 5.5 KB for every chunk one H5Dread touches, so reading these 78,400
 * chunks at once raised the peak resident size by about 430 MB; rows are
 * read in pieces of about 4096 chunks.  Measured as the rise of VmHWM after
 * /proc/self/clear_refs resets it (ASan's quarantine keeps freed memory
 * resident: the values alone are checked under the sanitizers). */
enum { TINY_ROWS = 100, TINY_COLS = 784 };

static void write_tiny_chunks(const char *path)
{
    hsize_t dims[2] = { TINY_ROWS, TINY_COLS }, one[2] = { 1, 1 }, row[2] = { 1, TINY_COLS };
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate_simple(2, dims, NULL), m = H5Screate_simple(2, row, NULL);
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, one);
    hid_t d = H5Dcreate2(f, "x", H5T_NATIVE_UINT8, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    assert_true(d >= 0);
    uint8_t v[TINY_COLS];
    for (hsize_t r = 0; r < TINY_ROWS; r++) {   /* a row at a time: writing has the same cost */
        hsize_t start[2] = { r, 0 };
        for (size_t c = 0; c < TINY_COLS; c++)
            v[c] = big_value(r * TINY_COLS + c);
        H5Sselect_hyperslab(s, H5S_SELECT_SET, start, NULL, row, NULL);
        assert_true(H5Dwrite(d, H5T_NATIVE_UINT8, m, s, H5P_DEFAULT, v) >= 0);
    }
    H5Dclose(d);
    H5Pclose(pl);
    H5Sclose(m);
    H5Sclose(s);
    H5Fclose(f);
}

static void test_h5_tiny_chunks_bounded_memory(void **state)
{
    (void)state;
    const char *path = sn_test_path("tiny_chunks.h5");
    write_tiny_chunks(path);
    uint8_t *x = malloc((size_t)TINY_ROWS * TINY_COLS);
    assert_non_null(x);
    for (int how = 0; how < 2; how++) {   /* by rows, then the whole array */
        struct sn_h5 *f;
        assert_int_equal(sn_h5_open(path, &f), SN_OK);
        memset(x, 0xff, (size_t)TINY_ROWS * TINY_COLS);
        sn_test_reset_peak();
        const long before = sn_test_status_kb("VmHWM");
        assert_int_equal(how ? sn_h5_read_all(f, "/x", SN_H5_U8, x, TINY_ROWS * TINY_COLS)
                             : sn_h5_read_block(f, "/x", 0, TINY_ROWS, TINY_COLS, SN_H5_U8, x),
                         SN_OK);
        const long rise = sn_test_status_kb("VmHWM") - before;
        print_message("%s: the peak resident size rose by %ld KB\n",
                      how ? "sn_h5_read_all" : "sn_h5_read_block", rise);
        for (size_t i = 0; i < (size_t)TINY_ROWS * TINY_COLS; i++)
            assert_int_equal(x[i], big_value(i));
        if (!getenv("SN_SANITIZE"))
            assert_true(rise < 100 * 1024);
        assert_int_equal(sn_h5_close(f), SN_OK);
    }
    free(x);
}

/* A dataset whose chunks each hold every row (chunk N x 1 x 1): one row
 * spans 16,384 chunks, so a piece may hold one row's worth of chunks; read
 * one row at a time, each piece visited (and read from the file) every
 * chunk again: bytes read grew with the square of the rows (hostile round
 * 13: 400 rows of 128x128 took 63 s).  Pieces never split a row of chunks:
 * the chunks are read from the file about once. */
enum { COL_ROWS = 40, COL_SIDE = 128 };

static void write_column_chunks(const char *path)
{
    hsize_t dims[3] = { COL_ROWS, COL_SIDE, COL_SIDE }, chunk[3] = { COL_ROWS, 1, 1 };
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate_simple(3, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 3, chunk);
    H5Pset_deflate(pl, 1);
    hid_t d = H5Dcreate2(f, "x", H5T_NATIVE_UINT8, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    uint8_t *x = malloc((size_t)COL_ROWS * COL_SIDE * COL_SIDE);
    assert_true(d >= 0 && x);
    for (size_t i = 0; i < (size_t)COL_ROWS * COL_SIDE * COL_SIDE; i++)
        x[i] = big_value(i);
    assert_true(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
    free(x);
    H5Dclose(d);
    H5Pclose(pl);
    H5Sclose(s);
    H5Fclose(f);
}

static void test_h5_chunks_of_every_row_read_once(void **state)
{
    (void)state;
    const char *path = sn_test_path("column_chunks.h5");
    write_column_chunks(path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    const size_t n = (size_t)COL_ROWS * COL_SIDE * COL_SIDE;
    uint8_t *x = malloc(n);
    assert_non_null(x);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    const long long before = bytes_read();
    assert_int_equal(sn_h5_read_block(f, "/x", 0, COL_ROWS, COL_SIDE * COL_SIDE, SN_H5_U8, x),
                     SN_OK);
    const long long read = bytes_read() - before;
    print_message("a %lld-byte file: %lld bytes read\n", (long long)st.st_size, read);
    for (size_t i = 0; i < n; i += 97)
        assert_int_equal(x[i], big_value(i));
    assert_true(read < 3 * (long long)st.st_size);
    free(x);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* A read libhdf5 has no memory for says so: one compressed 128 MB chunk
 * read with 64 MB of address space to spare (was: "type or size mismatch,
 * or damaged file").  Not under the sanitizers, which reserve terabytes of
 * address space. */
static void test_h5_out_of_memory_said(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE"))
        skip();
    const char *path = sn_test_path("zeros_chunk.h5");
    hsize_t dims[2] = { 32768, 4096 };
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate_simple(2, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, dims);
    H5Pset_deflate(pl, 1);
    hid_t d = H5Dcreate2(f, "x", H5T_NATIVE_UINT8, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    uint8_t *zeros = calloc(32768, 4096), *row = malloc(4096);
    assert_true(d >= 0 && zeros && row);
    assert_true(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros) >= 0);
    free(zeros);
    H5Dclose(d);
    H5Pclose(pl);
    H5Sclose(s);
    H5Fclose(f);
    struct sn_h5 *h;
    assert_int_equal(sn_h5_open(path, &h), SN_OK);
    struct rlimit was, tight;
    assert_int_equal(getrlimit(RLIMIT_AS, &was), 0);
    tight = was;
    tight.rlim_cur = (rlim_t)sn_test_status_kb("VmSize") * 1024 + ((rlim_t)64 << 20);
    assert_int_equal(setrlimit(RLIMIT_AS, &tight), 0);
    const int rc = sn_h5_read_block(h, "/x", 7, 1, 4096, SN_H5_U8, row);
    assert_int_equal(setrlimit(RLIMIT_AS, &was), 0);
    assert_int_equal(rc, SN_ENOMEM);
    assert_non_null(strstr(sn_errmsg(), "out of memory reading /x"));
    free(row);
    assert_int_equal(sn_h5_close(h), SN_OK);
}

/* A dataset may name SN_H5_MAX_STRS classes: their attribute (1.6 MB of
 * references here) is far past the 64 KiB an object header holds, so the
 * files scratchnet writes must keep it in dense storage; the earliest
 * HDF5 format cannot create it at all ("cannot create attribute"). */
struct names {
    char **s;
    size_t n;
};

static int fill_names(struct sn_h5 *f, const void *ctx)
{
    const struct names *nm = ctx;
    int rc = sn_h5_mkgroup(f, "/model");
    return rc ? rc : sn_h5_attr_set_strs(f, "/model", "classes", (const char *const *)nm->s,
                                         nm->n);
}

static void test_h5_attribute_past_64k(void **state)
{
    (void)state;
    struct names nm = { calloc(SN_H5_MAX_STRS, sizeof(char *)), SN_H5_MAX_STRS };
    assert_non_null(nm.s);
    for (size_t i = 0; i < nm.n; i++) {
        nm.s[i] = malloc(32);
        assert_non_null(nm.s[i]);
        snprintf(nm.s[i], 32, "class-%06zu", i);
    }
    const char *path = sn_test_path("names.h5");
    assert_int_equal(sn_h5_write_atomic(path, fill_names, &nm), SN_OK);
    struct sn_h5 *f;
    char **back = NULL;
    size_t n = 0;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    assert_int_equal(sn_h5_attr_get_strs(f, "/model", "classes", &back, &n), SN_OK);
    assert_int_equal(n, nm.n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(back[i], nm.s[i]);
    assert_int_equal(sn_h5_close(f), SN_OK);
    sn_h5_free_strs(back, n);
    sn_h5_free_strs(nm.s, nm.n);
}

/* The filters of write_deflated's /x, in the order they apply. */
enum pipe { GZ, SHUF_GZ_FLET, FLET_GZ, GZ_SHUF, GZ_GZ, SZIP };

/* /x of 64 x 8 floats in chunks of 8 rows behind a user block of 512
 * bytes, stored through pipe: honest, or its first chunk a stream of 4 MiB
 * of zeros (bomb; SHUF_GZ_FLET: a stream of 10 bytes, short of the
 * chunk's 256). */
static void write_deflated(const char *path, bool bomb, enum pipe pipe)
{
    const bool checked = pipe == SHUF_GZ_FLET;
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_userblock(fcpl, 512);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    hsize_t d[2] = { 64, 8 }, c[2] = { 8, 8 }, at[2] = { 0, 0 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, c);
    if (pipe == SHUF_GZ_FLET)
        H5Pset_shuffle(pl);
    if (pipe == FLET_GZ)
        H5Pset_fletcher32(pl);
    if (pipe == SZIP)
        H5Pset_szip(pl, H5_SZIP_NN_OPTION_MASK, 8);
    else
        H5Pset_deflate(pl, 6);
    if (pipe == SHUF_GZ_FLET)
        H5Pset_fletcher32(pl);
    if (pipe == GZ_SHUF)
        H5Pset_shuffle(pl);
    if (pipe == GZ_GZ)
        H5Pset_deflate(pl, 6);
    hid_t s = H5Screate_simple(2, d, NULL);
    hid_t x = H5Dcreate2(f, "/x", H5T_NATIVE_FLOAT, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    float v[512];
    for (int i = 0; i < 512; i++)
        v[i] = (float)i;
    assert_true(H5Dwrite(x, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    if (bomb && checked) {   /* a stream of 10 bytes: short of the chunk's 256 */
        uint8_t ten[10] = { 7 }, packed[64];
        uLongf len = sizeof packed;
        assert_int_equal(compress2(packed, &len, ten, sizeof ten, 6), Z_OK);
        assert_true(H5Dwrite_chunk(x, H5P_DEFAULT, 0x4, at, len, packed) >= 0);  /* no checksum */
    } else if (bomb) {
        const uLong big = 4ul << 20;
        uint8_t *zero = calloc(big, 1), *packed = malloc(compressBound(big));
        uLongf len = compressBound(big);
        assert_true(zero && packed);
        assert_int_equal(compress2(packed, &len, zero, big, 9), Z_OK);
        assert_true(H5Dwrite_chunk(x, H5P_DEFAULT, 0, at, len, packed) >= 0);
        free(zero);
        free(packed);
    }
    H5Dclose(x);
    H5Sclose(s);
    H5Pclose(pl);
    H5Pclose(fcpl);
    H5Fclose(f);
}

/* A compressed chunk is inflated through a window and counted before
 * libhdf5 reads any of the dataset (not when only its shape is asked):
 * one past its own size is refused (libhdf5 1.10
 * inflated a 3 MB stream of a 78 KB chunk to 3 GiB), and one short of it
 * (libhdf5 crashed); honest ones, also behind a user block and with
 * shuffle and a checksum, read. */
static void test_h5_chunk_streams_counted(void **state)
{
    (void)state;
    const char *path = sn_test_path("deflated.h5");
    for (int k = 0; k < 4; k++) {
        write_deflated(path, k >= 2, k == 1 || k == 3 ? SHUF_GZ_FLET : GZ);
        struct sn_h5 *f;
        assert_int_equal(sn_h5_open(path, &f), SN_OK);
        int nd;
        size_t dims[SN_H5_MAX_DIMS], size;
        enum sn_h5_class cls;
        assert_int_equal(sn_h5_info(f, "/x", &nd, dims, &cls, &size), SN_OK);   /* no read */
        float v[512];
        const int rc = sn_h5_read_all(f, "/x", SN_H5_F32, v, 512);
        if (k < 2) {
            assert_int_equal(rc, SN_OK);
            assert_true(v[511] == 511.0f);
        } else if (k == 2) {
            assert_int_equal(rc, SN_EINVAL);
            assert_non_null(strstr(sn_errmsg(), "/x has a compressed chunk ("));
            assert_non_null(strstr(sn_errmsg(), "inflates past the chunk's own 256 bytes"));
        } else {   /* a chunk that unpacks short crashed libhdf5 (SIGSEGV in H5VM_memcpyvv) */
            assert_int_equal(rc, SN_EINVAL);
            assert_non_null(strstr(sn_errmsg(), "unpacks to 10 bytes, not the chunk's own 256"));
        }
        sn_h5_close(f);
    }
    /* a checksum taken before deflate (h5repack -f FLET -f GZIP=4) is
     * inside the stream: an honest file reads, the bomb is refused */
    for (int bomb = 0; bomb < 2; bomb++) {
        write_deflated(path, bomb, FLET_GZ);
        struct sn_h5 *f;
        int nd;
        size_t dims[SN_H5_MAX_DIMS], size;
        enum sn_h5_class cls;
        float v[512];
        assert_int_equal(sn_h5_open(path, &f), SN_OK);
        assert_int_equal(sn_h5_info(f, "/x", &nd, dims, &cls, &size), SN_OK);
        const int rc = sn_h5_read_all(f, "/x", SN_H5_F32, v, 512);
        if (bomb)
            assert_non_null(strstr(sn_errmsg(), "inflates past the chunk's own 256 bytes"));
        assert_int_equal(rc, bomb ? SN_EINVAL : SN_OK);
        sn_h5_close(f);
    }
}

/* The file at path opens, and sn_h5_info refuses its /x saying said. */
static void info_refused(const char *path, const char *said)
{
    struct sn_h5 *f;
    int nd;
    size_t dims[SN_H5_MAX_DIMS], size;
    enum sn_h5_class cls;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    assert_int_equal(sn_h5_info(f, "/x", &nd, dims, &cls, &size), SN_EINVAL);
    if (!strstr(sn_errmsg(), said))
        fail_msg("%s", sn_errmsg());
    sn_h5_close(f);
}

/* Pipelines whose stored bytes the chunk count cannot follow are refused
 * before any chunk is read: shuffle after deflate, deflate twice (an 18 KB
 * file inflated 768 MiB), szip (its decoder takes sizes from the chunk's
 * own bytes: a short chunk crashed libhdf5). */
static void test_h5_pipelines_refused(void **state)
{
    (void)state;
    const char *path = sn_test_path("pipe.h5");
    const enum pipe pipes[3] = { GZ_SHUF, GZ_GZ, SZIP };
    const char *said[3] = { "/x is stored with shuffle after gzip, which scratchnet does not "
                            "read (gzip once, shuffle before it",
                            "/x is stored with a filter applied twice",
                            "/x is stored with HDF5 filter 4 (szip), which scratchnet does not "
                            "read (it reads gzip, shuffle and fletcher32" };
    for (int k = 0; k < 3; k++) {
        if (pipes[k] == SZIP && H5Zfilter_avail(H5Z_FILTER_SZIP) <= 0)
            continue;   /* a libhdf5 without szip cannot write one */
        write_deflated(path, false, pipes[k]);
        info_refused(path, said[k]);
    }
}

/* An array of a null dataspace (h5py.Empty, a placeholder some tools
 * write): said to be empty (it was said to declare one element's bytes
 * that the file did not hold). */
static void test_h5_null_dataspace_said(void **state)
{
    (void)state;
    const char *path = sn_test_path("null.h5");
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sp = H5Screate(H5S_NULL);
    hid_t d = H5Dcreate2(file, "/x", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(file >= 0 && sp >= 0 && d >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(file);
    info_refused(path, "/x is an empty array (a null dataspace, as h5py.Empty writes)");
}

/* What a group holds, as the output-kind test reads it: a split of x and
 * y alone, a split with more, a missing group, an array where a group is
 * expected; a layer tree (groups of float arrays) and what is none. */
static void test_h5_group_members(void **state)
{
    (void)state;
    struct sn_h5 *f;
    const size_t n[1] = { 2 };
    const float v[2] = { 1, 2 };
    const int32_t k[2] = { 0, 1 };
    assert_int_equal(sn_h5_create(sn_test_path("groups.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 1, n, SN_H5_F32, v), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, n, SN_H5_I32, k), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/x", 1, n, SN_H5_F32, v), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/ids", 1, n, SN_H5_I32, k), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/dense1/w", 1, n, SN_H5_F32, v), SN_OK);
    assert_int_equal(sn_h5_write(f, "/fit/a", 1, n, SN_H5_I32, k), SN_OK);
    static const char *const xy[] = { "x", "y", NULL };
    assert_true(sn_h5_group_holds_only(f, "/train", xy));
    assert_false(sn_h5_group_holds_only(f, "/test", xy));
    assert_false(sn_h5_group_holds_only(f, "/val", xy));
    assert_false(sn_h5_group_holds_only(f, "/train/x", xy));
    assert_true(sn_h5_is_layer_tree(f, "/params"));
    assert_false(sn_h5_is_layer_tree(f, "/train"));   /* arrays, not groups of them */
    assert_false(sn_h5_is_layer_tree(f, "/fit"));
    /* attributes: only those named, on an object that exists */
    static const char *const settings[] = { "classes", "input_scale", NULL };
    assert_int_equal(sn_h5_mkgroup(f, "/model"), SN_OK);
    assert_true(sn_h5_attrs_only(f, "/model", settings));   /* none at all */
    assert_int_equal(sn_h5_attr_set_str(f, "/model", "classes", "a"), SN_OK);
    assert_true(sn_h5_attrs_only(f, "/model", settings));
    assert_int_equal(sn_h5_attr_set_str(f, "/model", "name", "lennard-jones"), SN_OK);
    assert_false(sn_h5_attrs_only(f, "/model", settings));
    assert_false(sn_h5_attrs_only(f, "/nothing", settings));
    assert_int_equal(sn_h5_close(f), SN_OK);
}

static int fill_x(struct sn_h5 *f, const void *ctx)
{
    (void)ctx;
    const size_t d[1] = { 2 };
    const float v[2] = { 1, 2 };
    return sn_h5_write(f, "/x", 1, d, SN_H5_F32, v);
}

/* A file another process holds open for writing (HDF5's exclusive lock,
 * as h5py's mode 'a' takes it) is named as such, not as damaged; once
 * the lock is gone it opens. */
static void test_h5_held_for_writing(void **state)
{
    (void)state;
    if (getenv("HDF5_USE_FILE_LOCKING"))   /* the lock may be switched off */
        skip();
    const char *path = sn_test_path("held.h5");
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    const size_t d[1] = { 2 };
    const float v[2] = { 1, 2 };
    assert_int_equal(sn_h5_write(f, "/x", 1, d, SN_H5_F32, v), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);   /* the writer's lock */
    assert_int_equal(sn_h5_open(path, &f), SN_EINVAL);
    if (!strstr(sn_errmsg(), "held.h5: another program has the file open for writing (it holds "
                             "HDF5's lock): close it there, or open it read-only"))
        fail_msg("%s", sn_errmsg());
    close(fd);
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    /* a sealed file (weights, a checkpoint) open for writing elsewhere:
     * libhdf5 rewrites superblock bytes while it holds it, so the seal
     * fails; said as held, not as damaged (--resume auto set such a good
     * checkpoint aside as damaged and redid its steps) */
    const char *sealed = sn_test_path("sealed.h5");
    assert_int_equal(sn_h5_write_atomic(sealed, fill_x, NULL), SN_OK);
    fd = open(sealed, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, 600), 1);
    b ^= 1;   /* as the writer's library does */
    assert_int_equal(pwrite(fd, &b, 1, 600), 1);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(sn_h5_check_seal(sealed), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "sealed.h5: another program has the file open for "
                                        "writing"));
    close(fd);
    assert_int_equal(sn_h5_check_seal(sealed), SN_EDAMAGED);   /* and left so: damaged */
}

/* Rows of a chunked image dataset, (N, 1, 28, 28) in chunks of 1000 rows
 * as h5py writes them when asked, read in eval's blocks of 256 rows: the
 * same values as from its contiguous twin, for about the same CPU time
 * (read as one line of elements, libhdf5 mapped each element onto its
 * chunk: 10 times the time, 55 s for Fashion-MNIST's eval).  CPU time of
 * this thread, the median of three: a loaded machine slows both alike
 * (the values alone are checked under the sanitizers). */
enum { IMG_ROWS = 12000, IMG_SIDE = 28 };

static void write_images(const char *path, bool chunked)
{
    hsize_t dims[4] = { IMG_ROWS, 1, IMG_SIDE, IMG_SIDE }, chunk[4] = { 1000, 1, 28, 28 };
    const size_t n = (size_t)IMG_ROWS * IMG_SIDE * IMG_SIDE;
    uint8_t *v = malloc(n);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = big_value(i);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate_simple(4, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked)
        H5Pset_chunk(pl, 4, chunk);
    hid_t d = H5Dcreate2(f, "x", H5T_NATIVE_UINT8, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    assert_true(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Pclose(pl);
    H5Sclose(s);
    H5Fclose(f);
    free(v);
}

/* CPU seconds this thread took to read path's rows in blocks of 256 (each
 * checked). */
static double read_blocks_cpu(const char *path, uint8_t *rows)
{
    struct sn_h5 *f;
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (size_t at = 0; at < IMG_ROWS; at += 256) {
        const size_t n = IMG_ROWS - at < 256 ? IMG_ROWS - at : 256, len = IMG_SIDE * IMG_SIDE;
        assert_int_equal(sn_h5_read_block(f, "/x", at, n, len, SN_H5_U8, rows), SN_OK);
        for (size_t i = 0; i < n * len; i += 97)
            assert_int_equal(rows[i], big_value(at * len + i));
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    assert_int_equal(sn_h5_close(f), SN_OK);
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_h5_chunked_rows_read_fast(void **state)
{
    (void)state;
    char cont[1200], chunk[1200];
    snprintf(cont, sizeof cont, "%s", sn_test_path("img_cont.h5"));
    snprintf(chunk, sizeof chunk, "%s", sn_test_path("img_chunk.h5"));
    write_images(cont, false);
    write_images(chunk, true);
    uint8_t *rows = malloc(256 * IMG_SIDE * IMG_SIDE);
    assert_non_null(rows);
    double a[3], b[3];
    for (int k = 0; k < 3; k++) {
        a[k] = read_blocks_cpu(cont, rows);
        b[k] = read_blocks_cpu(chunk, rows);
    }
    qsort(a, 3, sizeof a[0], by_value);
    qsort(b, 3, sizeof b[0], by_value);
    print_message("CPU time of the reads: contiguous %.3f s, chunked %.3f s\n", a[1], b[1]);
    if (!getenv("SN_SANITIZE"))   /* the sanitizers slow this program's code, not libhdf5's */
        assert_true(b[1] < 4.0 * a[1] + 0.05);
    free(rows);
    remove(cont);
    remove(chunk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h5_read_rows),
        cmocka_unit_test(test_h5_big_chunk_read_once),
        cmocka_unit_test(test_h5_tiny_chunks_bounded_memory),
        cmocka_unit_test(test_h5_chunks_of_every_row_read_once),
        cmocka_unit_test(test_h5_out_of_memory_said),
        cmocka_unit_test(test_h5_attribute_past_64k),
        cmocka_unit_test(test_h5_held_for_writing),
        cmocka_unit_test(test_h5_chunk_streams_counted),
        cmocka_unit_test(test_h5_pipelines_refused),
        cmocka_unit_test(test_h5_null_dataspace_said),
        cmocka_unit_test(test_h5_group_members),
        cmocka_unit_test(test_h5_chunked_rows_read_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
