/* test_record: the run record of weights files and checkpoints (/run). */
#include "testutil.h"

#include <string.h>

#include <hdf5.h>

#include "core/status.h"
#include "io/h5.h"
#include "io/record.h"

/* A record reads back as written; one whose key list is damaged (a key
 * named "keys", a key without its value) is refused naming the file, not
 * taken for a file written without one. */
static void test_record_round_trip_and_damage(void **state)
{
    (void)state;
    const char *path = sn_test_path("rec.h5");
    struct sn_run_record r, back;
    memset(&r, 0, sizeof r);
    assert_int_equal(sn_record_set(&r, "lr", "%g", 0.05), SN_OK);
    assert_int_equal(sn_record_set(&r, "batch", "%d", 64), SN_OK);
    assert_int_equal(sn_record_set(&r, "keys", "x"), SN_EINVAL);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    assert_int_equal(sn_record_write(f, &r), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_h5_open(path, &f), SN_OK);
    assert_int_equal(sn_record_read(f, &back), SN_OK);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.kv[0].key, "lr");
    assert_string_equal(back.kv[0].value, "0.05");
    sn_h5_close(f);
    static const char *const bad[2][2] = { { "keys", NULL }, { "nosuch", NULL } };
    static const char *const want[2] = { "rec.h5: /run: record: bad key 'keys'",
                                         "nosuch" };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sn_h5_create(path, &f), SN_OK);
        assert_int_equal(sn_h5_mkgroup(f, "/run"), SN_OK);
        assert_int_equal(sn_h5_attr_set_strs(f, "/run", "keys", bad[i], 1), SN_OK);
        assert_int_equal(sn_h5_close(f), SN_OK);
        assert_int_equal(sn_h5_open(path, &f), SN_OK);
        assert_int_equal(sn_record_read(f, &back), SN_EINVAL);
        assert_non_null(strstr(sn_errmsg(), want[i]));
        assert_int_equal(back.n, 0);
        sn_h5_close(f);
    }
}

/* A record of many keys (a run's has 17) copies with H5Ocopy, as h5py's
 * Group.copy and h5copy do: libhdf5 1.10.8 crashed copying a group whose
 * string attributes were in dense storage (past 8). */
static void test_record_copies(void **state)
{
    (void)state;
    const char *path = sn_test_path("rec17.h5"), *copy = sn_test_path("copy.h5");
    struct sn_run_record r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof key, "key%d", i);
        assert_int_equal(sn_record_set(&r, key, "value %d", i), SN_OK);
    }
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    assert_int_equal(sn_record_write(f, &r), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    hid_t src = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dst = H5Fcreate(copy, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(src >= 0 && dst >= 0);
    assert_true(H5Ocopy(src, "/run", dst, "/run", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(dst);
    H5Fclose(src);
    struct sn_run_record back;
    assert_int_equal(sn_h5_open(copy, &f), SN_OK);
    assert_int_equal(sn_record_read(f, &back), SN_OK);
    assert_int_equal(back.n, 20);
    assert_string_equal(back.kv[19].value, "value 19");
    sn_h5_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trip_and_damage),
        cmocka_unit_test(test_record_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
