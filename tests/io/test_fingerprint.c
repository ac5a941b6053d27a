/* test_fingerprint: the dataset's line in the run record tells every
 * difference of its data, however long its description. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/dataset.h"
#include "io/fingerprint.h"
#include "io/h5.h"
#include "io/record.h"

enum { ROWS = 12 };

/* A table of F float features in /train, /test and /val with the file's
 * mean and std, feature k's std 1 + k (std_at's changed to 7.5); row
 * val_row of /val gets 0.25 added to its first feature. */
static const char *write_table(const char *name, int F, int std_at, int val_row)
{
    const char *p = sn_test_path(name);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(p, &f), SN_OK);
    float *x = malloc(sizeof(float) * ROWS * (size_t)F);
    double *mean = calloc((size_t)F, sizeof *mean), *std = malloc(sizeof(double) * (size_t)F);
    int32_t y[ROWS];
    static const char *const splits[] = { "/train", "/test", "/val" };
    for (int s = 0; s < 3; s++) {
        sn_test_fill(x, ROWS * (size_t)F, 10 + s, -1, 1);
        if (s == 2 && val_row >= 0)
            x[val_row * F] += 0.25f;
        for (int r = 0; r < ROWS; r++)
            y[r] = r % 2;
        char path[32];
        size_t xd[2] = { ROWS, (size_t)F }, yd[1] = { ROWS };
        snprintf(path, sizeof path, "%s/x", splits[s]);
        assert_int_equal(sn_h5_write(f, path, 2, xd, SN_H5_F32, x), SN_OK);
        snprintf(path, sizeof path, "%s/y", splits[s]);
        assert_int_equal(sn_h5_write(f, path, 1, yd, SN_H5_I32, y), SN_OK);
    }
    for (int k = 0; k < F; k++)
        std[k] = k == std_at ? 7.5 : 1.0 + k;
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "mean", mean, (size_t)F), SN_OK);
    assert_int_equal(sn_h5_attr_set_f64(f, "/", "std", std, (size_t)F), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    free(x);
    free(mean);
    free(std);
    return p;
}

/* The line of the file at p, as a run record holds it. */
static void line_of(const char *p, char out[SN_RECORD_VALUE_LEN])
{
    struct sn_dataset *d;
    assert_int_equal(sn_dataset_open(p, &d), SN_OK);
    assert_int_equal(sn_dataset_reserve(d, 1), SN_OK);
    float *row = malloc(sizeof(float) * d->train.row_len);
    assert_int_equal(sn_dataset_fingerprint(d, row, out, SN_RECORD_VALUE_LEN), SN_OK);
    free(row);
    sn_dataset_close(d);
}

/* A short description is written whole: each split, then the classes and
 * the rows' hash. */
static void test_fingerprint_short_line_whole(void **state)
{
    (void)state;
    char a[SN_RECORD_VALUE_LEN];
    line_of(write_table("short.h5", 2, -1, -1), a);
    assert_non_null(strstr(a, "train 12 x 2 f32 scale 1 mean/std 0/1,0/2; test 12 x 2 "));
    assert_non_null(strstr(a, "; val 12 x 2 f32 scale 1 mean/std 0/1,0/2; 0 classes "));
    assert_null(strstr(a, "..."));
    const char *rows = strstr(a, "; rows ");
    assert_non_null(rows);
    assert_int_equal(strlen(rows), strlen("; rows ") + 16);
}

/* Three splits of 200 features with their mean and std do not fit a
 * record's value: the line keeps its start, then the hash of all of it,
 * then the classes and the rows' hash, and still tells a change of one
 * std value or of one /val row (the line was cut before the hashes, and a
 * resume on other data went on without a word). */
static void test_fingerprint_long_line_tells_every_change(void **state)
{
    (void)state;
    char a[SN_RECORD_VALUE_LEN], b[SN_RECORD_VALUE_LEN], c[SN_RECORD_VALUE_LEN];
    char again[SN_RECORD_VALUE_LEN];
    line_of(write_table("long.h5", 200, -1, -1), a);
    line_of(sn_test_path("long.h5"), again);
    assert_string_equal(a, again);
    assert_int_equal(strlen(a), SN_RECORD_VALUE_LEN - 1);   /* fills the value */
    assert_int_equal(strncmp(a, "train 12 x 200 f32 scale 1 mean/std 0/1,0/2,", 44), 0);
    assert_non_null(strstr(a, " ...; all "));
    const char *rows = strstr(a, "; rows ");
    assert_non_null(rows);
    assert_int_equal(strlen(rows), strlen("; rows ") + 16);
    line_of(write_table("long_std.h5", 200, 150, -1), b);
    assert_string_not_equal(a, b);
    line_of(write_table("long_val.h5", 200, -1, 0), c);
    assert_string_not_equal(a, c);
    assert_string_not_equal(b, c);
}

/* What differs between two data lines, in words. */
static void test_fingerprint_difference_named(void **state)
{
    (void)state;
    char why[320];
    const char *base = "train 48 x 8 f32 scale 1; 3 classes 00000000000000aa; rows "
                       "0000000000000001";
    sn_dataset_fingerprint_difference(base, base, why, sizeof why);
    assert_string_equal(why, "");
    sn_dataset_fingerprint_difference("train 48 x 8 f32 scale 1; val 12 x 8 f32 scale 1; 3 classes "
                                      "00000000000000aa; rows 0000000000000002", base, why,
                                      sizeof why);
    assert_string_equal(why, "the data differ: /val is new (the checkpoint's data had none); "
                             "the sampled rows' contents differ, as they are sampled from every "
                             "split");   /* not a word that the other splits' rows changed */
    sn_dataset_fingerprint_difference("train 48 x 4 f32 scale 1; 2 classes 00000000000000bb; rows "
                                      "0000000000000001", base, why, sizeof why);
    assert_string_equal(why, "the data differ: /train differs in rows, shape, type or "
                             "preparation; the class names differ");
    /* cut lines: the hash of what was cut, when nothing shown differs */
    sn_dataset_fingerprint_difference("train 48 x 8 f32 scale 1 ...; all 0000000000000003; 0 "
                                      "classes 00000000000000aa; rows 0000000000000001",
                                      "train 48 x 8 f32 scale 1 ...; all 0000000000000004; 0 "
                                      "classes 00000000000000aa; rows 0000000000000001", why,
                                      sizeof why);
    assert_string_equal(why, "the data differ: the splits past the line's cut ('...') differ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_short_line_whole),
        cmocka_unit_test(test_fingerprint_long_line_tells_every_change),
        cmocka_unit_test(test_fingerprint_difference_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
