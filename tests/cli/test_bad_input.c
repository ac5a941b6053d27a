/* test_bad_input: every row of tests/cli/bad_inputs.md, run for real.
 *
 * Each row names a command, the rank counts to run it at and the message it
 * must print.  Every run must exit 2, print exactly one error line holding
 * the message, end within 10 s under a 1 GiB address-space limit, and leave
 * the fixture folder as it was: the same entries (files, folders, FIFOs,
 * links), no file written (the same size, inode and times; the out.* files
 * still hold their precious contents), none added or removed. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>
#include <jpeglib.h>
#include <zlib.h>

#include "core/status.h"
#include "io/h5.h"

#define BIN SN_TEST_BIN
#define TABLE "tests/cli/bad_inputs.md"

static const char *mpirun(void)
{
    return sn_test_mpirun();
}

static char fx[1024];   /* the fixture folder */

static const char *fx_path(const char *name)
{
    static char buf[4][1200];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", fx, name);
    return p;
}

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(fx_path(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_bytes(const char *name, const void *bytes, size_t n)
{
    FILE *f = fopen(fx_path(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* text (ASCII) as UTF-16 (unit 2) or UTF-32 (unit 4), as PowerShell's >,
 * iconv and some editors save it: marks byte-order marks (U+FEFF) before
 * it, 0 (iconv -t UTF-16LE), 1, or 2 (iconv's from a file that had a
 * UTF-8 mark). */
static void write_wide(const char *name, const char *text, int unit, bool big_endian, int marks)
{
    const size_t n = strlen(text);
    unsigned char *b = calloc((n + 2) * (size_t)unit, 1), *at = b;
    assert_non_null(b);
    for (size_t i = 0; i < n + (size_t)marks; i++, at += unit) {
        const unsigned c = i < (size_t)marks ? 0xfeff : (unsigned char)text[i - (size_t)marks];
        for (int k = 0; k < unit; k++)
            at[big_endian ? unit - 1 - k : k] = (unsigned char)(c >> (8 * k));
    }
    write_bytes(name, b, (size_t)(at - b));
    free(b);
}

static void make_hostile_fixtures(void);
static void with_classes(const char *to, const char *const *names, size_t n);
static void classes_at(const char *from, const char *to, const char *obj,
                       const char *const *names, size_t n);
static void target_dataset(const char *name, float v);
static void long_cfg(const char *to);
static void with_cfg(const char *to, const char *text);

static const char m_cfg[] =
    "[net]\ninput = 8\nbatch = 24\nepochs = 3\nloss = cross_entropy\noptimizer = sgd\n"
    "lr = 0.05\nmomentum = 0.9\nseed = 3\n"
    "[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n";

/* Model files with one mistake each, and the logs and texts the commands refuse */
static void fixtures_model_files(void)
{
    write_text("m.cfg", m_cfg);
    write_text("other.cfg", "[net]\ninput = 8\nbatch = 24\noptimizer = sgd\nmomentum = 0.9\n"
                            "seed = 3\n[dense]\nunits = 5\n[dense]\nunits = 3\n");
    write_text("wide.cfg", "[net]\ninput = 10\n[dense]\nunits = 3\n");
    write_text("badkey.cfg", "[net]\ninput = 8\n[dense]\nunits = 3\nunitz = 4\n");
    write_text("empty.cfg", "");
    write_text("runlog.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n");   /* a --log at rest */
    write_text("notelog.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n# runs 1-2: old data");
    write_text("typonest.cfg", "[net]\ninput = 8\noptimizer = sgd\nmomentm = 0.9\nnesterov = 1\n"
                               "[dense]\nunits = 3\n");
    write_text("dence.cfg", "[net]\ninput = 8\n[dence]\nunits = 3\n");
    write_text("densefilters.cfg", "[net]\ninput = 8\n[dense]\nfilters = 3\n");
    write_text("netnoinput.cfg", "[net]\nbatch = 32\nlr = 0.05\n[dense]\nunits = 10\n");
    write_text("cronly.cfg", "[net]\rinput = 8\r[dense]\runits = 3\r");
    write_text("fullwidth.cfg", "[net]\ninput = 8\n[dense]\n\xef\xbd\x95nits = 3\n");
    write_text("badsection.cfg", "[net]\ninput = 8\n[convolution]\nfilters = 3\n");
    write_text("badact.cfg", "[net]\ninput = 8\n[dense]\nunits = 3\nactivation = swish\n");
    write_text("badfrom.cfg", "[net]\ninput = 8\n[dense]\nunits = 3\n[add]\nfrom = nowhere\n");
    write_text("convflat.cfg", "[net]\ninput = 8\n[conv]\nfilters = 3\nsize = 3\n");
    write_text("notint.cfg", "[net]\ninput = 8\n[dense]\nunits = ten\n");
    write_text("twice.cfg", "[net]\ninput = 8\nlr = 0.1\nlr = 0.2\n[dense]\nunits = 3\n");
    write_text("badloss.cfg", "[net]\ninput = 8\nloss = hinge\n[dense]\nunits = 3\n");
    write_text("bracket.cfg", "[net]\ninput = 8\n[dense\nunits = 3\n");
    write_text("samename.cfg", "[net]\ninput = 8\n[dense]\nname = a\nunits = 3\n[dense]\nname = a\n"
                               "units = 3\n");
    write_text("rate.cfg", "[net]\ninput = 8\n[dense]\nunits = 3\n[dropout]\nrate = 1.5\n");
    write_text("bigkernel.cfg", "[net]\ninput = 1,8,8\n[conv]\nfilters = 3\nsize = 9\n[dense]\n"
                                "units = 3\n");
}

/* M.cfg and its variants (optimizers, freezing, schedules) */
static void fixtures_model_variants(void)
{
    write_text("img.cfg", "[net]\ninput = 1,2,4\nbatch = 24\n[conv]\nfilters = 2\nsize = 1\n"
                          "[flatten]\n[dense]\nunits = 3\n");
    write_text("img3.cfg", "[net]\ninput = 3,2,4\nbatch = 24\n[conv]\nfilters = 2\nsize = 1\n"
                           "[flatten]\n[dense]\nunits = 3\n");
    /* img.cfg's flatten named as the exporter names conv0's output */
    write_text("imgclash.cfg", "[net]\ninput = 1,2,4\nbatch = 24\n[conv]\nfilters = 2\nsize = 1\n"
                               "[flatten]\nname = conv0.conv\n[dense]\nname = dense2\nunits = 3\n");
    write_text("mom0.cfg", "[net]\ninput = 8\nbatch = 24\nepochs = 3\nloss = cross_entropy\n"
                           "optimizer = sgd\nlr = 0.05\nmomentum = 0\nseed = 3\n[dense]\nunits = 16\n"
                           "activation = relu\n[dense]\nunits = 3\n");
    write_text("adam.cfg", "[net]\ninput = 8\nbatch = 24\nepochs = 3\nloss = cross_entropy\n"
                           "optimizer = adam\nlr = 0.05\nseed = 3\n[dense]\nunits = 16\n"
                           "activation = relu\n[dense]\nunits = 3\n");
    write_text("freeze.cfg", "[net]\ninput = 8\nbatch = 24\nepochs = 3\nloss = cross_entropy\n"
                             "optimizer = sgd\nlr = 0.05\nmomentum = 0.9\nseed = 3\n[dense]\n"
                             "units = 16\nactivation = relu\nfreeze = 1\n[dense]\nunits = 3\n");
    write_text("adammom.cfg", "[net]\ninput = 8\noptimizer = adam\nmomentum = 0.9\n"
                              "[dense]\nunits = 3\n");
    write_text("lrmin.cfg", "[net]\ninput = 8\nlr_min = 0.001\n[dense]\nunits = 3\n");
    write_text("cosmin.cfg", "[net]\ninput = 8\nbatch = 24\nlr_schedule = cosine\nlr = 0.05\n"
                             "lr_min = 0.01\n[dense]\nunits = 3\n");
    write_text("lrminhigh.cfg", "[net]\ninput = 8\nlr_schedule = cosine\nlr = 0.01\nlr_min = 1\n"
                                "[dense]\nunits = 3\n");
    write_text("ema.cfg", "[net]\ninput = 8\nbatch = 24\nepochs = 3\nloss = cross_entropy\n"
                          "optimizer = sgd\nlr = 0.05\nmomentum = 0.9\nema = 0.9\nseed = 3\n"
                          "[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n");
    write_text("mse.cfg", "[net]\ninput = 8\nloss = mse\n[dense]\nunits = 16\nactivation = relu\n"
                          "[dense]\nunits = 3\n");
}

/* Texts that are no model, logs plot refuses */
static void fixtures_text_files(void)
{
    write_text("notcfg.h5", "hello");
    write_text("settings.json", "{\n  \"lr\": 0.1\n}");   /* pretty JSON, no final newline */
    write_text("mine.jsonl", "{\"epoch\":1,\"note\":\"mine\"}");
    write_text("notimage.png", "this is not a picture");
    write_text("badlog.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\nnot json\n");
    write_text("junk, the most plot .jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\nnot json\n");
    write_text("plotword.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n\"x, the most plot y\"\n");
    write_text("jsonlast.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n{\"epoch\": 3}");
    write_text("fraclog.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n"
                                "{\"epoch\": 1.5, \"train_loss\": 0.4}\n");
    write_text("ranklog.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5, \"ranks\": 1e300}\n");
    FILE *lf = fopen(fx_path("longlog.jsonl"), "w");   /* one record more than plot reads */
    assert_non_null(lf);
    for (int e = 1; e <= 100001; e++)
        fprintf(lf, "{\"epoch\": %d, \"train_loss\": 1}\n", e);
    fclose(lf);
}

/* Datasets, IDX files and image folders, each with one mistake */
static void fixtures_data_files(void)
{
    sn_test_write_blobs(fx_path("blobs.h5"), (struct sn_test_blobs){ 0 });
    sn_test_write_blobs(fx_path("images.h5"), (struct sn_test_blobs){ .image = true });
    sn_test_write_blobs(fx_path("label3.h5"), (struct sn_test_blobs){ .label_shift = 1 });
    sn_test_write_blobs(fx_path("negative.h5"), (struct sn_test_blobs){ .set_label5 = true, .label5 = -1 });
    sn_test_write_blobs(fx_path("noy.h5"), (struct sn_test_blobs){ .no_y = true });
    sn_test_write_blobs(fx_path("rows.h5"), (struct sn_test_blobs){ .y_rows = 400 });
    sn_test_write_blobs(fx_path("testshape.h5"), (struct sn_test_blobs){ .test_f = 9 });
    sn_test_write_blobs(fx_path("floaty.h5"), (struct sn_test_blobs){ .float_y = true });
    sn_test_write_blobs(fx_path("nan.h5"), (struct sn_test_blobs){ .nan_row7 = true });
    sn_test_write_blobs(fx_path("inftest.h5"), (struct sn_test_blobs){ .inf_test_row3 = true });
    sn_test_write_blobs(fx_path("hugetest.h5"), (struct sn_test_blobs){ .test_row3 = 3e38f });
    sn_test_write_blobs(fx_path("trainscale.h5"), (struct sn_test_blobs){ .train_scale = 0.5 });
    sn_test_write_blobs(fx_path("mean3.h5"), (struct sn_test_blobs){ .root_norm = 3 });

    /* IDX: a bad magic, 2 images of 2x2 against 3 labels, a short body */
    static const unsigned char img2[] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2,
                                          'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
    static const unsigned char lab3[] = { 0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2 };
    write_bytes("badmagic.idx", "garbage!", 8);
    write_bytes("images2.idx", img2, sizeof img2);
    write_bytes("short.idx", img2, 16 + 3);
    write_bytes("labels3.idx", lab3, sizeof lab3);
    static const unsigned char lab2[] = { 0, 0, 8, 1, 0, 0, 0, 2, 0, 2 };   /* labels 0 and 2 */
    write_bytes("labels2.idx", lab2, sizeof lab2);
    static const unsigned char img32[] = { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2,
                                           'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k',
                                           'l' };   /* 2 images of 3x2 */
    write_bytes("images32.idx", img32, sizeof img32);
    /* images2.idx gzipped, then damaged: its CRC changed, its end cut, junk after it */
    assert_int_equal(sn_test_run("cd %s && gzip -nc images2.idx > gzcrc.idx.gz && "
                                 "cp gzcrc.idx.gz gzcut.idx.gz && cp gzcrc.idx.gz gzjunk.idx.gz && "
                                 "printf '\\377\\377' | dd of=gzcrc.idx.gz bs=1 seek=$(( $(stat -c %%s "
                                 "gzcrc.idx.gz) - 8 )) conv=notrunc 2>/dev/null && truncate -s -5 "
                                 "gzcut.idx.gz && printf junk >> gzjunk.idx.gz", fx), 0);

    assert_int_equal(mkdir(fx_path("sub"), 0777), 0);
    assert_int_equal(mkdir(fx_path("classes"), 0777), 0);
    assert_int_equal(mkdir(fx_path("classes/cat"), 0777), 0);
    write_text("classes/cat/a.png", "not a png");
    /* folders given as --data: CIFAR-10 as its tarball unpacks, IDX files,
     * HDF5 files, a folder under a checkpoint's name */
    assert_int_equal(sn_test_run("cd %s && mkdir -p cifpar/cifar-10-batches-bin idxdir h5dir "
                                 "ckdirs/ckpt-00000001.h5 && : > cifpar/cifar-10-batches-bin/"
                                 "data_batch_1.bin && : > idxdir/train-images-idx3-ubyte.gz && "
                                 ": > h5dir/part1.h5", fx), 0);
    /* a class folder without images (first in name order), a link to nowhere */
    assert_int_equal(sn_test_run("cd %s && mkdir -p emptycls/a emptycls/b danglink/a && "
                                 "echo x > emptycls/b/1.png && ln -s nowhere.png danglink/a/1.png "
                                 "&& mkdir -p blankcls/a 'blankcls/a ' && echo x > blankcls/a/1.png "
                                 "&& echo x > 'blankcls/a /1.png' && mkdir -p linktest/tr/cat "
                                 "linktest/te && echo x > linktest/tr/cat/1.png && "
                                 "ln -s ../tr/cat linktest/te/cat",
                                 fx), 0);
    /* a CIFAR-10 folder of one record a batch, a link to its class list */
    assert_int_equal(sn_test_run("cd %s && mkdir cifsub && for f in 1 2 3 4 5; do head -c 3073 "
                                 "/dev/zero > cifsub/data_batch_$f.bin; done && cp "
                                 "cifsub/data_batch_1.bin cifsub/test_batch.bin && printf "
                                 "'a\\nb\\nc\\nd\\ne\\nf\\ng\\nh\\ni\\nj\\n' > "
                                 "cifsub/batches.meta.txt && ln -s cifsub/batches.meta.txt "
                                 "metalink.h5", fx), 0);
    /* test images that are training images: a hard link, a symbolic link */
    static const unsigned char png2x2[] =
        "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x02\0\0\0\x02\x08\0\0\0\0\x57\xdd\x52\xf8"
        "\0\0\0\x0eIDAT\x78\x9c\x63\x10\x50\x60\x30\x70\0\0\x01\x76\0\xa1\xec\x30\x8a\xf4"
        "\0\0\0\0IEND\xae\x42\x60\x82";
    assert_int_equal(sn_test_run("cd %s && mkdir -p linkimg/tr/cat linkimg/tr/dog linkimg/te/cat "
                                 "linkimg/te/dog linkimg/ts/cat linkimg/ts/dog", fx), 0);
    write_bytes("linkimg/tr/cat/1.png", png2x2, sizeof png2x2 - 1);
    write_bytes("linkimg/tr/dog/1.png", png2x2, sizeof png2x2 - 1);
    write_bytes("linkimg/te/cat/2.png", png2x2, sizeof png2x2 - 1);
    write_bytes("linkimg/ts/cat/2.png", png2x2, sizeof png2x2 - 1);
    write_bytes("photo.png", png2x2, sizeof png2x2 - 1);   /* another program's picture */
    assert_int_equal(sn_test_run("cd %s && mkdir -p nfdtr/caf\xc3\xa9 nfdte/cafe\xcc\x81", fx), 0);
    write_bytes("nfdtr/caf\xc3\xa9/1.png", png2x2, sizeof png2x2 - 1);
    write_bytes("nfdte/cafe\xcc\x81/1.png", png2x2, sizeof png2x2 - 1);
    assert_int_equal(sn_test_run("cd %s/linkimg && ln tr/dog/1.png te/dog/3.png && ln -s "
                                 "../../tr/cat/1.png ts/dog/3.png && mkdir -p tc/Cat tc/dog && "
                                 "cp tr/cat/1.png tc/Cat/ && cp tr/cat/1.png tc/dog/", fx), 0);
    /* class folders that show alike: e-acute in its two Unicode forms; an
     * invisible zero-width space */
    assert_int_equal(sn_test_run("cd %s && mkdir -p nfdcls/caf\xc3\xa9 nfdcls/cafe\xcc\x81 "
                                 "zwcls/a zwcls/a\xe2\x80\x8b && echo x > nfdcls/caf\xc3\xa9/1.png "
                                 "&& echo x > nfdcls/cafe\xcc\x81/1.png && echo x > zwcls/a/1.png "
                                 "&& echo x > zwcls/a\xe2\x80\x8b/1.png", fx), 0);
}

/* Weights and checkpoints the commands make themselves, and damaged copies */
/* bomb.h5: /train/x of 100 x 8 floats in deflated chunks of 10 rows
 * (320 bytes), the one from row `row` a 64 KB stream of 64 MiB of zeros;
 * /train/y 100 labels of 3 classes. */
static void write_chunk_bomb(const char *path, hsize_t row)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t xd[2] = { 100, 8 }, chunk[2] = { 10, 8 }, yd = 100, at[2] = { row, 0 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    H5Pset_deflate(pl, 6);
    hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sx = H5Screate_simple(2, xd, NULL), sy = H5Screate_simple(1, &yd, NULL);
    hid_t dx = H5Dcreate2(f, "/train/x", H5T_NATIVE_FLOAT, sx, H5P_DEFAULT, pl, H5P_DEFAULT);
    hid_t dy = H5Dcreate2(f, "/train/y", H5T_NATIVE_INT32, sy, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    float x[800];
    int32_t y[100];
    for (int i = 0; i < 800; i++)
        x[i] = (float)(i % 13) / 13.0f;
    for (int i = 0; i < 100; i++)
        y[i] = i % 3;
    assert_true(H5Dwrite(dx, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
    assert_true(H5Dwrite(dy, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    const uLong big = 64ul << 20;
    uint8_t *zero = calloc(big, 1), *packed = malloc(compressBound(big));
    uLongf len = compressBound(big);
    assert_true(zero && packed);
    assert_int_equal(compress2(packed, &len, zero, big, 9), Z_OK);
    assert_true(H5Dwrite_chunk(dx, H5P_DEFAULT, 0, at, len, packed) >= 0);
    free(zero);
    free(packed);
    H5Dclose(dx);
    H5Dclose(dy);
    H5Sclose(sx);
    H5Sclose(sy);
    H5Gclose(g);
    H5Pclose(pl);
    H5Fclose(f);
}

static void fixtures_made_files(void)
{
    /* run/: the checkpoint folder that run left (a checkpoint and .lock) */
    assert_int_equal(sn_test_run("cd %s && " BIN " train --model m.cfg --data blobs.h5 --steps 3 "
                                 "--out w.h5 --checkpoint-dir run --quiet && cp run/ckpt-00000003.h5 ck.h5 && "
                                 BIN " train --model m.cfg --data blobs.h5 --steps 1 "
                                 "--checkpoint-dir run1 --quiet && mv run1/ckpt-00000001.h5 ck1.h5 && "
                                 "rm -r run1 && "
                                 BIN " train --model img.cfg --data images.h5 --steps 2 "
                                 "--out wimg.h5 --quiet && "
                                 BIN " export --weights w.h5 -o w.onnx > /dev/null && "
                                 BIN " predict --weights w.h5 --input blobs.h5 -o preds.h5 "
                                 "> /dev/null", fx), 0);
    struct stat st;
    assert_int_equal(stat(fx_path("ck.h5"), &st), 0);
    assert_int_equal(sn_test_run("cd %s && head -c %lld ck.h5 > trunc.h5 && cp ck.h5 flip.h5 && "
                                 "mkdir dmg && cp trunc.h5 dmg/ckpt-00000003.h5 && mkdir tmpleft && "
                                 "cp ck.h5 tmpleft/ckpt-00000003.h5 && "
                                 "echo partial > tmpleft/.ckpt-00000004.h5.tmp.4242 && "
                                 "mkdir dataind && cp ck.h5 dataind/ckpt-00000001.h5 && "
                                 "cp blobs.h5 dataind/ckpt-00000003.h5 && "
                                 "ln dataind/ckpt-00000003.h5 dataindlink.h5 && "
                                 "mkdir misname && cp ck.h5 misname/ckpt-00000009.h5", fx,
                                 (long long)st.st_size / 2), 0);
    FILE *f = fopen(fx_path("flip.h5"), "r+b");
    assert_non_null(f);
    fseek(f, (long)st.st_size - 100, SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)st.st_size - 100, SEEK_SET);
    fputc(c ^ 0xff, f);
    fclose(f);
}

/* A Unix socket at the fixture name (opening one fails with ENXIO, which
 * said nothing of what the file is). */
static void make_socket(const char *name)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    assert_true(snprintf(a.sun_path, sizeof a.sun_path, "%s", fx_path(name)) <
                (int)sizeof a.sun_path);
    const int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    close(s);
}

static void make_fixtures(void)
{
    fixtures_model_files();
    fixtures_model_variants();
    fixtures_text_files();
    fixtures_data_files();
    fixtures_made_files();
    write_chunk_bomb(fx_path("bomb.h5"), 0);
    write_chunk_bomb(fx_path("lastbomb.h5"), 90);   /* the last row's: the probe reads it */
    assert_int_equal(sn_test_run("mkdir -p %s/sockck", fx), 0);
    assert_int_equal(sn_test_run("ln -s photo.jpg %s/piclink && ln -s predout.txt "
                                 "%s/predlink.csv && printf 'all:\\n' > %s/Makefile && "
                                 "ln -s Makefile %s/mkpic.png && ln -s Makefile %s/mklink.h5 && "
                                 "ln -s Makefile %s/mklink.onnx", fx, fx, fx, fx, fx, fx), 0);
    /* a link to a file of the kernel's (/proc/kmsg's read waits for good) */
    assert_int_equal(sn_test_run("ln -s /proc/self/status %s/procimg.png", fx), 0);
    /* a dangling link into a class folder of `classes` */
    assert_int_equal(sn_test_run("ln -s classes/cat/new.h5 %s/intocls.h5", fx), 0);
    /* a TOML file (its first byte '[', as a JSON array's) and a tar archive
     * whose first member is weights (HDF5 at byte 512, after its header) */
    assert_int_equal(sn_test_run("cd %s && printf '[tool]\\nname = 1\\n' > proj.toml && "
                                 "tar cf wtar.tar w.h5 Makefile", fx), 0);
    /* a Core ML model: its first bytes are an ONNX model's (a version,
     * then a length-delimited field 2); its model is field 500 */
    assert_int_equal(sn_test_run("cd %s && printf '\\010\\004\\022\\003\\012\\001a"
                                 "\\242\\037\\002\\010\\001' > cml.mlmodel && "
                                 "printf '{\"site\": \"A\", \"ph\": 7.2}\\n' > ph.json && "
                                 "printf 'notes\\n' > notes.png && "
                                 "printf 'a,b\\n1,2\\n' > sheet.csv && "
                                 "printf '{\"run\": 1}\\n{\"traceEvents\": [], \"run\": 2}\\n' "
                                 "> runs.jsonl && printf '{\"traceEvents\": [], \"run\": 1}\\n"
                                 "{\"run\": 2}\\n' > runs1.jsonl", fx), 0);
    /* JSON Lines whose first record is longer than a first read, and a
     * trace with a NUL and other data after it */
    assert_int_equal(sn_test_run("cd %s && { printf '{\"traceEvents\": [], \"pad\": \"'; "
                                 "head -c 5000 /dev/zero | tr '\\000' x; "
                                 "printf '\"}\\n{\"run\": 2}\\n'; } > runsbig.jsonl && "
                                 "printf '{\"traceEvents\": []}\\000notes\\n' > nul.json && "
                                 "printf '{\"traceEvents\": [], \"otherData\": {\"producer\": "
                                 "\"pytorch\"}}\\n' > torch.json", fx), 0);
    make_socket("sock");
    make_socket("sockck/.lock");
    make_hostile_fixtures();
}

/* ---- hostile fixtures ---------------------------------------------------- */

/* Recompute the seal of a scratchnet file (src/io/h5.c: "SNSEAL1", the
 * length and an FNV-1a 64 of every byte after the 512-byte block), as
 * anyone can: a hostile file is not stopped by the seal. */
static void reseal(const char *name)
{
    FILE *f = fopen(fx_path(name), "r+b");
    assert_non_null(f);
    uint64_t h = 0xcbf29ce484222325ULL, len = 512;
    int c;
    fseek(f, 512, SEEK_SET);
    while ((c = fgetc(f)) != EOF) {
        h = (h ^ (unsigned char)c) * 0x100000001b3ULL;
        len++;
    }
    unsigned char block[32] = "SNSEAL1";
    memcpy(block + 8, &len, 8);
    memcpy(block + 16, &h, 8);
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fwrite(block, 1, sizeof block, f), sizeof block);
    fclose(f);
}

/* A dataset file whose /train/x is made by make_x (rows x 8 floats by
 * default) and whose /train/y holds `rows` int32 labels. */
static void write_h5(const char *name, void (*make_x)(hid_t f), hsize_t rows)
{
    hid_t f = H5Fcreate(fx_path(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    make_x(f);
    hid_t s = H5Screate_simple(1, &rows, NULL);
    hid_t d = H5Dcreate2(f, "/train/y", H5T_NATIVE_INT32, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int32_t *y = calloc(rows, sizeof *y);
    H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, y);
    free(y);
    H5Dclose(d);
    H5Sclose(s);
    H5Gclose(g);
    H5Fclose(f);
}

/* /train/x of dims, with the creation properties pl, data written or not. */
static void x_dataset(hid_t f, int nd, const hsize_t *dims, hid_t type, hid_t pl, bool write)
{
    hid_t s = H5Screate_simple(nd, dims, NULL);
    hid_t d = H5Dcreate2(f, "/train/x", type, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    assert_true(d >= 0);
    if (write) {
        size_t n = 1;
        for (int i = 0; i < nd; i++)
            n *= dims[i];
        void *buf = calloc(n, 8);
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        free(buf);
    }
    H5Dclose(d);
    H5Sclose(s);
}

/* (2^31-1, 8) floats in chunks, none written: the file is a few KB */
static void x_unwritten(hid_t f)
{
    hsize_t dims[2] = { 2147483647, 8 }, chunk[2] = { 4096, 8 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    x_dataset(f, 2, dims, H5T_NATIVE_FLOAT, pl, false);
    H5Pclose(pl);
}

/* the data in another file: /dev/zero */
static void x_external(hid_t f)
{
    hsize_t dims[2] = { 480, 8 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(pl, "/dev/zero", 0, 480 * 8 * 4);
    x_dataset(f, 2, dims, H5T_NATIVE_FLOAT, pl, false);
    H5Pclose(pl);
}

/* h5py's lzf (32000), which no libhdf5 here has, set optional as h5py
 * sets it: chunks it shrank cannot be read (the file was called damaged,
 * or trained on when no chunk shrank) */
static void x_optional_filter(hid_t f)
{
    hsize_t dims[2] = { 480, 8 }, chunk[2] = { 16, 8 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    assert_true(H5Pset_filter(pl, 32000, H5Z_FLAG_OPTIONAL, 0, NULL) >= 0);
    x_dataset(f, 2, dims, H5T_NATIVE_FLOAT, pl, true);
    H5Pclose(pl);
}

static void x_int8(hid_t f)
{
    hsize_t dims[2] = { 480, 8 };
    x_dataset(f, 2, dims, H5T_NATIVE_INT8, H5P_DEFAULT, true);
}

/* one chunk of 1 GiB */
static void x_bigchunk(hid_t f)
{
    hsize_t dims[2] = { 1 << 25, 8 }, chunk[2] = { 1 << 25, 8 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    x_dataset(f, 2, dims, H5T_NATIVE_FLOAT, pl, false);
    H5Pclose(pl);
}

/* rows of 130x130 floats in one-value chunks: a row spans 16,900 chunks
 * (libhdf5 keeps about 5.5 KB for each chunk a read touches) */
static void x_tinychunks(hid_t f)
{
    hsize_t dims[3] = { 480, 130, 130 }, chunk[3] = { 1, 1, 1 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 3, chunk);
    x_dataset(f, 3, dims, H5T_NATIVE_FLOAT, pl, false);
    H5Pclose(pl);
}

/* /train/x of dims floats in deflated chunks of chunk, every one the same
 * stream (not all zeros: under deflate's ratio of about 1000), written as
 * it is: a file of a few MB */
static void x_deflated_chunks(hid_t f, const hsize_t dims[2], const hsize_t chunk[2])
{
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    H5Pset_deflate(pl, 6);
    hid_t s = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, "/train/x", H5T_NATIVE_FLOAT, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    const size_t n = (size_t)(chunk[0] * chunk[1]);
    float *raw = calloc(n, sizeof *raw);
    uLongf packed_len = compressBound(n * sizeof *raw);
    Bytef *packed = malloc(packed_len);
    assert_true(d >= 0 && raw && packed);
    for (size_t i = 0; i < n; i += 61)
        raw[i] = (float)(i % 977);
    assert_int_equal(compress2(packed, &packed_len, (const Bytef *)raw, n * sizeof *raw, 6),
                     Z_OK);
    for (hsize_t r = 0; r < dims[0]; r += chunk[0])
        for (hsize_t c = 0; c < dims[1]; c += chunk[1]) {
            hsize_t at[2] = { r, c };
            assert_true(H5Dwrite_chunk(d, H5P_DEFAULT, 0, at, packed_len, packed) >= 0);
        }
    free(raw);
    free(packed);
    H5Dclose(d);
    H5Sclose(s);
    H5Pclose(pl);
}

/* 36,000 rows of 4,096 floats in chunks that each hold every row and 32
 * columns: the 128 chunks that hold a row take 590 MB, each 4.6 MB
 * compressed to a few KB */
enum { BAND_ROWS = 36000, BAND_COLS = 4096, BAND_CHUNK_COLS = 32 };
static void x_band(hid_t f)
{
    x_deflated_chunks(f, (const hsize_t[]){ BAND_ROWS, BAND_COLS },
                      (const hsize_t[]){ BAND_ROWS, BAND_CHUNK_COLS });
}

/* 307,200 rows of 1,024 floats in 48 deflated chunks of 6,400 rows (26 MB
 * each, a band each): a shuffled batch of 64 rows touches up to 48 of
 * them, 1.26 GB of inflation a step */
enum { SHUF_ROWS = 307200, SHUF_COLS = 1024, SHUF_CHUNK_ROWS = 6400 };
static void x_shuffled_bands(hid_t f)
{
    x_deflated_chunks(f, (const hsize_t[]){ SHUF_ROWS, SHUF_COLS },
                      (const hsize_t[]){ SHUF_CHUNK_ROWS, SHUF_COLS });
}

/* 64 GiB declared, compressed, one chunk of zeros written */
static void x_zipbomb(hid_t f)
{
    hsize_t dims[2] = { 2147483647, 8 }, chunk[2] = { 65536, 8 }, one[2] = { 65536, 8 };
    hsize_t start[2] = { 0, 0 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    H5Pset_deflate(pl, 9);
    hid_t s = H5Screate_simple(2, dims, NULL), m = H5Screate_simple(2, one, NULL);
    hid_t d = H5Dcreate2(f, "/train/x", H5T_NATIVE_FLOAT, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    float *buf = calloc(65536 * 8, sizeof *buf);
    H5Sselect_hyperslab(s, H5S_SELECT_SET, start, NULL, one, NULL);
    H5Dwrite(d, H5T_NATIVE_FLOAT, m, s, H5P_DEFAULT, buf);
    free(buf);
    H5Dclose(d);
    H5Sclose(m);
    H5Sclose(s);
    H5Pclose(pl);
}

static void x_plain(hid_t f)
{
    hsize_t dims[2] = { 480, 8 };
    x_dataset(f, 2, dims, H5T_NATIVE_FLOAT, H5P_DEFAULT, true);
}

static void x_meannan(hid_t f)
{
    hsize_t dims[2] = { 480, 8 }, one = 1;
    x_plain(f);
    double nan = NAN, sd = 1;
    hid_t s = H5Screate_simple(1, &one, NULL), d = H5Dopen2(f, "/train/x", H5P_DEFAULT);
    hid_t a = H5Acreate2(d, "mean", H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &nan);
    H5Aclose(a);
    a = H5Acreate2(d, "std", H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &sd);
    H5Aclose(a);
    H5Dclose(d);
    H5Sclose(s);
    (void)dims;
}

/* /train/x is a soft link to /elsewhere */
static void x_softlink(hid_t f)
{
    hsize_t dims[2] = { 480, 8 };
    hid_t s = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, "/elsewhere", H5T_NATIVE_FLOAT, s, H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
    H5Dclose(d);
    H5Sclose(s);
    H5Lcreate_soft("/elsewhere", f, "/train/x", H5P_DEFAULT, H5P_DEFAULT);
}

/* A copy of an HDF5 file with attribute `attr` of `obj` set to v
 * (resealed, for a file scratchnet wrote). */
/* from copied to to, with the attribute attr of obj n doubles v */
static void with_attr_n(const char *from, const char *to, const char *obj, const char *attr,
                        const double *v, hsize_t n, bool sealed)
{
    assert_int_equal(sn_test_run("cd %s && cp %s %s", fx, from, to), 0);
    hid_t f = H5Fopen(fx_path(to), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
    if (H5Aexists(o, attr) > 0)
        H5Adelete(o, attr);
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(o, attr, H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, v);
    H5Aclose(a);
    H5Sclose(s);
    H5Oclose(o);
    H5Fclose(f);
    if (sealed)
        reseal(to);
}

static void with_attr_as(const char *from, const char *to, const char *obj, const char *attr,
                         double v, bool sealed)
{
    with_attr_n(from, to, obj, attr, &v, 1, sealed);
}

static void with_attr(const char *from, const char *to, const char *obj, const char *attr, double v)
{
    with_attr_as(from, to, obj, attr, v, true);
}

/* w.h5 with the first value of dense0's weight replaced by v, resealed. */
static void with_weight(const char *to, float v, bool every)
{
    assert_int_equal(sn_test_run("cd %s && cp w.h5 %s", fx, to), 0);
    hid_t f = H5Fopen(fx_path(to), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "/params/dense0/weight", H5P_DEFAULT), s = H5Dget_space(d);
    assert_true(d >= 0);
    float all[16 * 8];   /* m.cfg's dense0: 16 x 8 */
    for (int i = 0; i < 16 * 8; i++)
        all[i] = v;
    hsize_t at[2] = { 0, 0 }, one = 1;
    if (!every)
        H5Sselect_elements(s, H5S_SELECT_SET, 1, at);
    hid_t m = every ? H5S_ALL : H5Screate_simple(1, &one, NULL);
    assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, m, s, H5P_DEFAULT, all) >= 0);
    if (!every)
        H5Sclose(m);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    reseal(to);
}

/* w.h5 copied to `to` with a float array of 4 zeros at path, resealed. */
static void with_array(const char *to, const char *path)
{
    assert_int_equal(sn_test_run("cd %s && cp w.h5 %s", fx, to), 0);
    hid_t f = H5Fopen(fx_path(to), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hsize_t n = 4;
    const float zeros[4] = { 0 };
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(f, path, H5T_NATIVE_FLOAT, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros) >= 0);
    H5Dclose(d);
    H5Sclose(s);
    H5Pclose(lcpl);
    H5Fclose(f);
    reseal(to);
}

/* wbnneg.h5: weights of bn.cfg (dense, batchnorm, dense) whose
 * running_var is -1 everywhere, resealed */
static void negative_variance(const char *to)
{
    write_text("bn.cfg", "[net]\ninput = 8\nbatch = 24\n[dense]\nunits = 16\n[batchnorm]\n"
                         "[dense]\nunits = 3\n");
    assert_int_equal(sn_test_run("cd %s && " BIN " train --model bn.cfg --data blobs.h5 --steps 2 "
                                 "--out %s --quiet", fx, to), 0);
    hid_t f = H5Fopen(fx_path(to), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "/params/batchnorm1/running_var", H5P_DEFAULT);
    assert_true(d >= 0);
    float v[16];
    for (int i = 0; i < 16; i++)
        v[i] = -1.0f;
    assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Fclose(f);
    reseal(to);
}

/* blobs.h5 with /train/y stored as type (64-bit), row 5 holding 2^64-1
 * (unsigned) or -2^63 (signed). */
static void wide_labels(const char *name, hid_t type)
{
    assert_int_equal(sn_test_run("cd %s && cp blobs.h5 %s", fx, name), 0);
    hid_t f = H5Fopen(fx_path(name), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "/train/y", H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t n;
    H5Sget_simple_extent_dims(s, &n, NULL);
    int64_t *y = malloc(n * sizeof *y);
    assert_true(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    H5Dclose(d);
    H5Ldelete(f, "/train/y", H5P_DEFAULT);
    y[5] = INT64_MIN;   /* as uint64: 2^63; set below */
    uint64_t *u = (uint64_t *)y;
    if (H5Tget_sign(type) == H5T_SGN_NONE)
        u[5] = UINT64_MAX;
    d = H5Dcreate2(f, "/train/y", type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, H5Tget_sign(type) == H5T_SGN_NONE ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64,
                         H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    free(y);
    H5Dclose(d);
    H5Sclose(s);
    H5Fclose(f);
}

/* A copy of a scratchnet file damaged the way heapsegv.h5 is: the size of
 * the first object of its global heap (the strings of its attributes) made
 * 2^64-1, resealed: libhdf5 1.10 crashes reading that attribute.  (The
 * global heap collection: "GCOL", version, 3 reserved bytes and its size,
 * then each object's index, reference count, 4 reserved bytes and size.) */
static void crashing_copy(const char *from, const char *to)
{
    assert_int_equal(sn_test_run("cd %s && cp %s %s", fx, from, to), 0);
    size_t n;
    char *b = sn_test_slurp(fx_path(to));
    FILE *f = fopen(fx_path(to), "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = (size_t)ftell(f);
    size_t at = 512;
    while (at + 32 <= n && memcmp(b + at, "GCOL", 4) != 0)
        at++;
    assert_true(at + 32 <= n);
    fseek(f, (long)(at + 24), SEEK_SET);
    for (int i = 0; i < 8; i++)
        fputc(0xff, f);
    fclose(f);
    free(b);
    reseal(to);
}

/* ck.h5 with /metrics/epoch declared 2^28 rows, chunked, never written */
static void big_metrics(void)
{
    assert_int_equal(sn_test_run("cd %s && cp ck.h5 bigmetrics.h5", fx), 0);
    hid_t f = H5Fopen(fx_path("bigmetrics.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Ldelete(f, "/metrics/epoch", H5P_DEFAULT);
    hsize_t dims = (hsize_t)1 << 28, chunk = 65536;
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 1, &chunk);
    hid_t s = H5Screate_simple(1, &dims, NULL);
    hid_t d = H5Dcreate2(f, "/metrics/epoch", H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Dclose(d);
    H5Sclose(s);
    H5Pclose(pl);
    H5Fclose(f);
    reseal("bigmetrics.h5");
}

/* ck.h5 with a /reducer array of 1000 pieces (a checkpoint of 1 rank):
 * 100,000 floats of zeros that no run of this file could use. */
static void reducer_pieces(void)
{
    assert_int_equal(sn_test_run("cd %s && cp ck.h5 reducerpieces.h5", fx), 0);
    hid_t f = H5Fopen(fx_path("reducerpieces.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gcreate2(f, "/reducer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 4);
    hsize_t one = 1, nc = 1000, nd = 100000;
    hid_t s = H5Screate_simple(1, &one, NULL);
    hid_t a = H5Acreate2(g, "names", t, s, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, t, "bomb") >= 0);
    int64_t *counts = malloc(nc * sizeof *counts);
    float *zeros = calloc(nd, sizeof *zeros);
    for (hsize_t i = 0; i < nc; i++)
        counts[i] = 100;
    hid_t sc = H5Screate_simple(1, &nc, NULL), sd = H5Screate_simple(1, &nd, NULL);
    hid_t lc = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lc, 1);
    hid_t dc = H5Dcreate2(f, "/reducer/bomb/counts", H5T_NATIVE_INT64, sc, lc, H5P_DEFAULT,
                          H5P_DEFAULT);
    hid_t dd = H5Dcreate2(f, "/reducer/bomb/data", H5T_NATIVE_FLOAT, sd, lc, H5P_DEFAULT,
                          H5P_DEFAULT);
    assert_true(H5Dwrite(dc, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts) >= 0);
    assert_true(H5Dwrite(dd, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros) >= 0);
    free(counts);
    free(zeros);
    H5Dclose(dc);
    H5Dclose(dd);
    H5Pclose(lc);
    H5Sclose(sc);
    H5Sclose(sd);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    H5Gclose(g);
    H5Fclose(f);
    reseal("reducerpieces.h5");
}

/* w.h5 with dense0's weight replaced by an external link to another
 * file's array (welink.h5), or deleted (whalf.h5: the layer in part);
 * ck.h5 with /metrics/epoch a soft link (cklink.h5). */
static void link_and_half(void)
{
    const char *name[2] = { "welink.h5", "whalf.h5" };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sn_test_run("cd %s && cp w.h5 %s", fx, name[i]), 0);
        hid_t f = H5Fopen(fx_path(name[i]), H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        assert_true(H5Ldelete(f, "/params/dense0/weight", H5P_DEFAULT) >= 0);
        if (i == 0)
            assert_true(H5Lcreate_external("w.h5", "/params/dense0/weight", f,
                                           "/params/dense0/weight", H5P_DEFAULT,
                                           H5P_DEFAULT) >= 0);
        H5Fclose(f);
        reseal(name[i]);
    }
    assert_int_equal(sn_test_run("cd %s && cp ck.h5 cklink.h5", fx), 0);
    hid_t f = H5Fopen(fx_path("cklink.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0 && H5Ldelete(f, "/metrics/epoch", H5P_DEFAULT) >= 0);
    assert_true(H5Lcreate_soft("/metrics/step", f, "/metrics/epoch", H5P_DEFAULT,
                               H5P_DEFAULT) >= 0);
    H5Fclose(f);
    reseal("cklink.h5");
    /* without its run record, which the checksum does not cover */
    assert_int_equal(sn_test_run("cd %s && cp ck.h5 norun.h5", fx), 0);
    f = H5Fopen(fx_path("norun.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0 && H5Ldelete(f, "/run", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    reseal("norun.h5");
    /* a counter stored as a float: 3.7 would be read as step 3 */
    assert_int_equal(sn_test_run("cd %s && cp ck.h5 stepf.h5", fx), 0);
    f = H5Fopen(fx_path("stepf.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0 && H5Ldelete(f, "/state/global_step", H5P_DEFAULT) >= 0);
    const double step = 3.7;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(f, "/state/global_step", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &step) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(f);
    reseal("stepf.h5");
    /* the optimizer's step count a fraction, and more than the run's steps */
    static const char *const tname[2] = { "tfrac.h5", "tbig.h5" };
    const double tv[2] = { 2.5, 7 };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sn_test_run("cd %s && cp ck.h5 %s", fx, tname[i]), 0);
        f = H5Fopen(fx_path(tname[i]), H5F_ACC_RDWR, H5P_DEFAULT);
        /* written anew: libhdf5 1.10 cannot rewrite this attribute in place */
        assert_true(f >= 0 && H5Adelete_by_name(f, "/optimizer", "t", H5P_DEFAULT) >= 0);
        sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate_by_name(f, "/optimizer", "t", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
                                    H5P_DEFAULT, H5P_DEFAULT);
        assert_true(a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &tv[i]) >= 0);
        H5Aclose(a);
        H5Sclose(sp);
        H5Fclose(f);
        reseal(tname[i]);
    }
}

/* w.h5 with 40 empty groups nested under /params (wdeep.h5), resealed:
 * 2000 of them held every reader for over 60 s. */
static void deep_groups(void)
{
    assert_int_equal(sn_test_run("cd %s && cp w.h5 wdeep.h5", fx), 0);
    hid_t f = H5Fopen(fx_path("wdeep.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gopen2(f, "/params", H5P_DEFAULT);
    for (int i = 0; i < 40 && g >= 0; i++) {
        hid_t next = H5Gcreate2(g, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Gclose(g);
        g = next;
    }
    assert_true(g >= 0);
    H5Gclose(g);
    H5Fclose(f);
    reseal("wdeep.h5");
}

/* w.h5 with 86,100 entries in /params/junk, resealed, in the newest
 * format (15 MB, not 68: every row checksums every fixture): empty groups
 * (wmany.h5; 120,000 held every reader for 25 s), or hard links to one
 * empty group (wlinks.h5; one object to a walk of objects, 300,000 took
 * every reader 9 s). */
static void junk_entries(const char *name, bool links)
{
    assert_int_equal(sn_test_run("cd %s && cp w.h5 %s", fx, name), 0);
    hid_t fa = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fa, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t f = H5Fopen(fx_path(name), H5F_ACC_RDWR, fa);
    H5Pclose(fa);
    assert_true(f >= 0);
    hid_t g = H5Gcreate2(f, "/params/junk", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t one = links ? H5Gcreate2(g, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : g;
    assert_true(g >= 0 && one >= 0);
    char entry[32];
    for (int i = 0; i < 86100; i++) {
        snprintf(entry, sizeof entry, "e%d", i);
        if (links) {
            assert_true(H5Lcreate_hard(one, ".", g, entry, H5P_DEFAULT, H5P_DEFAULT) >= 0);
            continue;
        }
        hid_t e = H5Gcreate2(g, entry, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(e >= 0);
        H5Gclose(e);
    }
    if (links)
        H5Gclose(one);
    H5Gclose(g);
    H5Fclose(f);
    reseal(name);
}

/* Copy attribute name of object o to the object *(hid_t *)to. */
static herr_t copy_attr(hid_t o, const char *name, const H5A_info_t *info, void *to)
{
    (void)info;
    hid_t a = H5Aopen(o, name, H5P_DEFAULT), t = H5Aget_type(a), s = H5Aget_space(a);
    size_t bytes = H5Tget_size(t) * (size_t)H5Sget_simple_extent_npoints(s);
    void *buf = calloc(1, bytes);
    assert_true(H5Aread(a, t, buf) >= 0);
    hid_t b = H5Acreate2(*(hid_t *)to, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Awrite(b, t, buf) >= 0);
    H5Aclose(b);
    free(buf);   /* variable-length strings left to the process's end */
    H5Sclose(s);
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

/* The attribute classes of obj (there before or not): n fixed-length names
 * of len bytes, each all 'c'. */
static void fixed_names(hid_t obj, size_t n, size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len);
    hsize_t dims = n;
    hid_t s = H5Screate_simple(1, &dims, NULL);
    char *names = malloc(n * len);
    assert_non_null(names);
    memset(names, 'c', n * len);
    if (H5Aexists(obj, "classes") > 0)
        H5Adelete(obj, "classes");
    hid_t a = H5Acreate2(obj, "classes", t, s, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, t, names) >= 0);
    free(names);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
}

/* from (weights) with n one-letter class names on /model, resealed.  More than
 * about 60,000 do not fit an object header of the format scratchnet
 * writes: /model is made again in the newest one (dense attribute
 * storage), its attributes copied. */
static void many_classes(const char *from, const char *to, size_t n)
{
    assert_int_equal(sn_test_run("cd %s && cp %s %s", fx, from, to), 0);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t f = H5Fopen(fx_path(to), H5F_ACC_RDWR, fapl);
    assert_true(f >= 0);
    assert_true(H5Lmove(f, "/model", f, "/old", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    hid_t old = H5Gopen2(f, "/old", H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Aiterate2(old, H5_INDEX_NAME, H5_ITER_INC, NULL, copy_attr, &g);
    fixed_names(g, n, 1);
    H5Gclose(g);
    H5Gclose(old);
    H5Ldelete(f, "/old", H5P_DEFAULT);
    H5Fclose(f);
    H5Pclose(fapl);
    reseal(to);
}

/* A side x side RGB JPEG, grey (flat) or of a fixed pattern, at quality
 * (libjpeg's default 75 when 0), in memory (free it). */
static unsigned char *pattern_jpeg(int side, int quality, bool progressive, bool flat,
                                   unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *buf = NULL, row[64 * 3];
    assert_true(side <= 64);
    *len = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, len);
    c.image_width = c.image_height = (JDIMENSION)side;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    if (quality)
        jpeg_set_quality(&c, quality, TRUE);
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    for (int y = 0; y < side; y++) {
        for (int i = 0; i < side * 3; i++)
            row[i] = flat ? 128 : (unsigned char)(((y * side * 3 + i) * 37 + y * 11) % 251);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return buf;
}

/* A 28x28 baseline JPEG with 30 bytes of its scan overwritten by stuffed
 * 0xFF bytes (FF 00): all ones, which no Huffman code is. */
static void overwritten_jpeg(const char *name)
{
    unsigned long len;
    unsigned char *buf = pattern_jpeg(28, 100, false, false, &len);
    for (unsigned long i = 0; i < 30; i += 2)
        buf[len / 2 + i] = 0xff, buf[len / 2 + i + 1] = 0x00;
    write_bytes(name, buf, len);
    free(buf);
}

/* A 16x16 progressive JPEG whose frame header claims 65500 x 65500. */
static void bomb_jpeg(const char *name)
{
    unsigned long len;
    unsigned char *buf = pattern_jpeg(16, 0, true, true, &len);
    for (unsigned long i = 0; i + 9 < len; i++)
        if (buf[i] == 0xff && buf[i + 1] == 0xc2) {   /* SOF2: height, width at +5 */
            buf[i + 5] = buf[i + 7] = 0xff;
            buf[i + 6] = buf[i + 8] = 0xdc;
            break;
        }
    write_bytes(name, buf, len);
    free(buf);
}

/* One PNG chunk at b: length, type, data, CRC; returns its size. */
static size_t png_chunk(unsigned char *b, const char *type, const unsigned char *data, uint32_t n)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(n >> (24 - 8 * i));
    memcpy(b + 4, type, 4);
    if (n)
        memcpy(b + 8, data, n);
    uLong crc = crc32(0, b + 4, 4 + n);
    for (int i = 0; i < 4; i++)
        b[8 + n + i] = (unsigned char)(crc >> (24 - 8 * i));
    return 12 + n;
}

/* A PNG whose IHDR claims w x h grey pixels, with an empty IDAT. */
static void png_header(const char *name, uint32_t w, uint32_t h)
{
    unsigned char b[64] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' }, ihdr[13] = { 0 };
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8;   /* bit depth; colour type 0: grey */
    size_t n = 8 + png_chunk(b + 8, "IHDR", ihdr, 13);
    n += png_chunk(b + n, "IDAT", NULL, 0);
    n += png_chunk(b + n, "IEND", NULL, 0);
    write_bytes(name, b, n);
}

/* A 4x2 grey PNG header, then a tEXt chunk declaring 2^31-1 bytes with
 * 100 present: libpng allocated the declared length (2 GB) first. */
static void png_long_chunk(const char *name)
{
    unsigned char b[256] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    unsigned char ihdr[13] = { 0, 0, 0, 4, 0, 0, 0, 2, 8 };
    size_t n = 8 + png_chunk(b + 8, "IHDR", ihdr, 13);
    memcpy(b + n, "\x7f\xff\xff\xfftEXt", 8);
    memset(b + n + 8, 'x', 100);
    write_bytes(name, b, n + 108);
}

/* A 4x2 grey PNG whose IDAT chunks hold n bytes (not inflated by the
 * check: what they hold does not matter). */
static void png_idat(const char *name, size_t n)
{
    unsigned char ihdr[13] = { 0, 0, 0, 4, 0, 0, 0, 2, 8 }, *b = calloc(n + 64, 1);
    assert_non_null(b);
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    size_t at = 8 + png_chunk(b + 8, "IHDR", ihdr, 13);
    unsigned char *zeros = calloc(n, 1);
    at += png_chunk(b + at, "IDAT", zeros, n);
    at += png_chunk(b + at, "IEND", NULL, 0);
    write_bytes(name, b, at);
    free(zeros);
    free(b);
}

/* ycol.h5: blobs.h5 with /train/y stored as a column (N, 1) of int32 */
/* blobs.h5 whose held-out split is /train under another name: the group
 * (hardtest.h5: h5py's f["test"] = f["train"]) or the arrays of /val
 * (hardval.h5). */
static void hard_linked_splits(void)
{
    assert_int_equal(sn_test_run("cd %s && cp blobs.h5 hardtest.h5 && cp blobs.h5 hardval.h5", fx),
                     0);
    hid_t f = H5Fopen(fx_path("hardtest.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Ldelete(f, "/test", H5P_DEFAULT) >= 0);
    assert_true(H5Lcreate_hard(f, "/train", f, "/test", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(f);
    f = H5Fopen(fx_path("hardval.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gcreate2(f, "/val", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(g >= 0);
    H5Gclose(g);
    assert_true(H5Lcreate_hard(f, "/train/x", f, "/val/x", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    assert_true(H5Lcreate_hard(f, "/train/y", f, "/val/y", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(f);
}

static void column_labels(void)
{
    assert_int_equal(sn_test_run("cd %s && cp blobs.h5 ycol.h5", fx), 0);
    hid_t f = H5Fopen(fx_path("ycol.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, "/train/y", H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t dims[2] = { 0, 1 };
    H5Sget_simple_extent_dims(s, dims, NULL);
    int32_t *y = malloc(dims[0] * sizeof *y);
    assert_true(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    H5Dclose(d);
    H5Sclose(s);
    H5Ldelete(f, "/train/y", H5P_DEFAULT);
    s = H5Screate_simple(2, dims, NULL);
    d = H5Dcreate2(f, "/train/y", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    free(y);
    H5Dclose(d);
    H5Sclose(s);
    H5Fclose(f);
}

/* longnorm.h5: blobs.h5 whose root mean and std, 8 values each of many
 * digits, make the data's line in a run record longer than a record value
 * holds; cklong/, a run of 3 steps on it; longnorm2.h5, the same with one
 * /test value changed (its hash was cut from the line, and a resume on it
 * went on without a word). */
static void long_record_pair(void)
{
    const double mean[8] = { 0.1234567, 1.1234567, 2.1234567, 3.1234567, 4.1234567, 5.1234567,
                             6.1234567, 7.1234567 };
    const double std[8] = { 1.7654321, 2.7654321, 3.7654321, 4.7654321, 5.7654321, 6.7654321,
                            7.7654321, 8.7654321 };
    sn_test_write_blobs(fx_path("ln2tmp.h5"), (struct sn_test_blobs){ .test_row3 = 0.5f });
    with_attr_n("blobs.h5", "lntmp.h5", "/", "mean", mean, 8, false);
    with_attr_n("lntmp.h5", "longnorm.h5", "/", "std", std, 8, false);
    with_attr_n("ln2tmp.h5", "lntmp.h5", "/", "mean", mean, 8, false);
    with_attr_n("lntmp.h5", "longnorm2.h5", "/", "std", std, 8, false);
    assert_int_equal(sn_test_run("cd %s && rm lntmp.h5 ln2tmp.h5 && " BIN " train --model m.cfg "
                                 "--data longnorm.h5 --steps 3 --checkpoint-dir cklong --quiet",
                                 fx), 0);
}

/* Model files: sizes that overflow, values out of range, reserved names */
static void hostile_model_values(void)
{
    write_text("huge4.cfg", "[net]\ninput = 65536,65536,65536,65536\n[dense]\nunits = 3\n");
    write_text("band.cfg", "[net]\ninput = 4096\nbatch = 24\n[dense]\nunits = 3\n");
    write_text("convparam.cfg", "[net]\ninput = 16384,8,8\n[conv]\nfilters = 65536\nsize = 8\n"
                                "[dense]\nunits = 3\n");
    write_text("convout.cfg", "[net]\ninput = 1,16384,16384\n[conv]\nfilters = 65536\nsize = 1\n"
                              "[dense]\nunits = 3\n");
    write_text("concatbig.cfg", "[net]\ninput = 128,16777215\n[concat]\nfrom = input,input\n"
                                "[dense]\nunits = 3\n");
    write_text("densebig.cfg", "[net]\ninput = 8\n[dense]\nunits = 16777216\n[dense]\n"
                               "units = 16777216\n");
    write_text("netbatch.cfg", "[net]\ninput = 8\nbatch = 4294967296\n[dense]\nunits = 3\n");
    write_text("netepochs.cfg", "[net]\ninput = 8\nepochs = 99999999999999999999\n[dense]\nunits = 3\n");
    write_text("netlr.cfg", "[net]\ninput = 8\nlr = 1e999\n[dense]\nunits = 3\n");
    write_text("seedneg.cfg", "[net]\ninput = 8\nseed = -1\n[dense]\nunits = 3\n");
    write_text("unitshex.cfg", "[net]\ninput = 8\n[dense]\nunits = 0x10\n");
    write_text("lrhex.cfg", "[net]\ninput = 8\nlr = 0x1p-4\n[dense]\nunits = 3\n");
    write_text("typokey.cfg", "[net]\ninput = 8\n[dense]\nunitz = 3\n");
    write_text("typoinput.cfg", "[net]\ninptu = 8\n[dense]\nunits = 3\n");
    write_text("dims5.cfg", "[net]\ninput = 1,2,3,4,5\n[dense]\nunits = 3\n");
    write_text("dim0.cfg", "[net]\ninput = 0\n[dense]\nunits = 3\n");
    write_text("emptydim.cfg", "[net]\ninput = 1,,8\n[dense]\nunits = 3\n");
    write_text("dotname.cfg", "[net]\ninput = 8\n[dense]\nname = .\nunits = 3\n");
    write_text("inputname.cfg", "[net]\ninput = 8\n[dense]\nname = input\nunits = 3\n");
    write_text("smdrop.cfg", "[net]\ninput = 8\n[dense]\nunits = 3\nactivation = softmax\n"
                             "[dropout]\n");
    write_text("smaug.cfg", "[net]\ninput = 1,2,4\n[flatten]\n[dense]\nunits = 3\n"
                            "activation = softmax\n[augment]\nflip = 1\n");
    write_text("bcesig.cfg", "[net]\ninput = 8\nloss = binary_cross_entropy\n[dense]\nunits = 3\n"
                             "activation = sigmoid\n[flatten]\n");
    write_text("whitencount.cfg", "[net]\ninput = 1,2,4\n[conv]\nfilters = 5\nsize = 2\n"
                                  "init = whiten\n[dense]\nunits = 3\n");
    write_text("whitendeep.cfg", "[net]\ninput = 1,2,4\n[conv]\nfilters = 2\nsize = 1\n[conv]\n"
                                 "filters = 4\nsize = 1\ninit = whiten\n[dense]\nunits = 3\n");
    write_text("freezebias.cfg", "[net]\ninput = 8\n[dense]\nunits = 3\nfreeze = bias\n");
}

/* Model files in odd encodings and shapes: marks, long heads, long names, deep */
static void hostile_model_text(void)
{
    write_text("bom.cfg", "\xef\xbb\xbf[net]\ninput = 8\n[dense]\nunitz = 3\n");
    write_text("bom2.cfg", "\xef\xbb\xbf\xef\xbb\xbf\n[net]\ninput = 8\n[dense]\nunits = 3\n");
    write_text("ffhead.cfg", "\f\n\v\n[net]\ninput = 8\n[dense]\nunits = 3\n");
    write_text("bomlog.jsonl", "\xef\xbb\xbf{\"epoch\": 1, \"train_loss\": 0.5}\n");
    {   /* m.cfg after 5,000 blank lines and 60 comment lines: 5.9 KB before [net] */
        char *t = malloc(8192 + sizeof m_cfg);
        assert_non_null(t);
        size_t at = 0;
        for (int i = 0; i < 5000; i++)
            t[at++] = '\n';
        for (int i = 0; i < 60; i++)
            at += (size_t)sprintf(t + at, "# comment line %02d of the model's notes ....\n", i);
        strcpy(t + at, m_cfg);
        write_text("longhead.cfg", t);
        free(t);
    }
    write_text("longname.cfg", "[net]\ninput = 8\n[dense]\nname = "
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nunits = 3\n");
    write_text("emptyfrom.cfg", "[net]\ninput = 8\n[dense]\nname = a\nunits = 3\n[dense]\n"
                                "name = b\nunits = 3\n[add]\nfrom = a,,b\n");
    write_text("emptyview.cfg", "[net]\ninput = 1,2,4\n[augment]\ntest_views = 0 0,,flip\n"
                                "[flatten]\n[dense]\nunits = 3\n");
    write_text("ctrlkey.cfg", "[net]\ninput = 8\n[dense]\nunits = 3\nun\x1bits = 3\n");
    {   /* one layer more than SN_MAX_LAYERS */
        FILE *f = fopen(fx_path("deep.cfg"), "w");
        assert_non_null(f);
        fputs("[net]\ninput = 8\n", f);
        for (int i = 0; i < 4097; i++)
            fputs("[flatten]\n", f);
        fclose(f);
    }
}

/* Logs: CR and UTF-16 line ends, cut, huge values, long lines */
static void hostile_logs(void)
{
    write_text("log.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n{\"epoch\": 2, \"train_loss\": 0.4}\n");
    write_text("cutonly.jsonl", "{\"epoch\": 1, \"train_lo");
    write_text("crlog.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\r{\"epoch\": 2, "
                              "\"train_loss\": 0.4}\r");
    write_wide("u16log.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n", 2, false, 1);
    write_wide("u16.cfg", m_cfg, 2, true, 1);
    write_wide("u16feff.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n", 2, false, 2);
    write_wide("u16feff.cfg", m_cfg, 2, false, 2);
    write_wide("u32.cfg", m_cfg, 4, false, 1);
    write_wide("u16le.cfg", m_cfg, 2, false, 0);
    write_wide("u32be.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n", 4, true, 0);
    write_text("lfcrlog.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n{\"epoch\": 2, "
                                "\"train_loss\": 0.4}\r{\"epoch\": 3, \"train_loss\": 0.3}\r");
    write_bytes("wideblank.jsonl", "\xff\xfe\r\0\n\0", 6);   /* PowerShell 5's "" > f */
    {   /* 2 MiB of newlines: read no further than a record's length */
        FILE *f = fopen(fx_path("blanks.jsonl"), "w");
        assert_non_null(f);
        for (int i = 0; i < (2 << 20); i++)
            fputc('\n', f);
        fclose(f);
        /* then a record: a log to plot, which skips blank lines */
        assert_int_equal(sn_test_run("cd %s && cp blanks.jsonl blankhead.jsonl && cat runlog.jsonl "
                                     ">> blankhead.jsonl && cp blanks.jsonl blankbad.jsonl && "
                                     "echo 'not json' >> blankbad.jsonl", fx), 0);
    }
    write_text("longtail.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n");
    assert_int_equal(truncate(fx_path("longtail.jsonl"), 64LL << 30), 0);   /* sparse: 4 KB */
    write_text("crm.cfg", "# a model saved with CR line ends\r[net]\rinput = 8\r");
    write_text("hugeloss.jsonl", "{\"epoch\": 1, \"train_loss\": 1e308}\n"
                                 "{\"epoch\": 2, \"train_loss\": -1e308}\n");
    {   /* a record of 6,000 keys: 66,030 bytes */
        FILE *f = fopen(fx_path("longline.jsonl"), "w");
        assert_non_null(f);
        fputs("{\"epoch\": 1, \"train_loss\": 1", f);
        for (int i = 0; i < 6000; i++)
            fprintf(f, ",\"k%05d\":1", i);
        fputs("}\n", f);
        fclose(f);
    }
}

/* Things that are not regular files, where files are expected */
static void hostile_non_files(void)
{
    assert_int_equal(mkfifo(fx_path("pipe"), 0666), 0);
    assert_int_equal(symlink("/dev/null", fx_path("null.csv")), 0);
    assert_int_equal(symlink("/dev/zero", fx_path("zero.png")), 0);
    /* outputs behind links: an open descriptor's, one into a missing folder */
    assert_int_equal(symlink("/dev/stdout", fx_path("stdout.json")), 0);
    assert_int_equal(symlink("nodir/x.h5", fx_path("danglink.h5")), 0);
    /* a checkpoint folder whose lock file is a link to a precious file */
    assert_int_equal(mkdir(fx_path("locklink"), 0777), 0);
    assert_int_equal(symlink("../out.csv", fx_path("locklink/.lock")), 0);
    /* checkpoint folders with a folder and a FIFO under checkpoints' names */
    assert_int_equal(mkdir(fx_path("ckdir"), 0777), 0);
    assert_int_equal(mkdir(fx_path("ckdir/ckpt-00000010.h5"), 0777), 0);
    assert_int_equal(mkdir(fx_path("ckfifo"), 0777), 0);
    assert_int_equal(mkfifo(fx_path("ckfifo/ckpt-00000004.h5"), 0666), 0);
    assert_int_equal(mkdir(fx_path("lockdir"), 0777), 0);
    assert_int_equal(mkdir(fx_path("lockdir/.lock"), 0777), 0);
    /* a link to a precious file under the name of a checkpoint to come, and
     * outputs that are links to a checkpoint and to a lock file */
    assert_int_equal(mkdir(fx_path("cklink"), 0777), 0);
    assert_int_equal(symlink("../out.csv", fx_path("cklink/ckpt-00000009.h5")), 0);
    assert_int_equal(symlink("run/ckpt-00000003.h5", fx_path("ckalias.h5")), 0);
    assert_int_equal(symlink("run/.lock", fx_path("locktrace.json")), 0);
    assert_int_equal(mkdir(fx_path("fifoclass"), 0777), 0);
    assert_int_equal(mkdir(fx_path("fifoclass/cat"), 0777), 0);
    assert_int_equal(mkfifo(fx_path("fifoclass/cat/a.png"), 0666), 0);
}

/* Images and HDF5 files that declare more than they hold, or crash libhdf5 */
static void hostile_bombs(void)
{
    /* image bombs */
    png_idat("idatbomb.png", 200000);
    png_long_chunk("longchunk.png");
    bomb_jpeg("bomb.jpg");
    write_text("big.pgm", "P5\n9000 9000\n255\n");
    png_header("bigpng.png", 16000, 16000);
    png_header("wide.png", 100000, 1);
    assert_int_equal(mkdir(fx_path("bombs"), 0777), 0);
    assert_int_equal(mkdir(fx_path("bombs/cat"), 0777), 0);
    bomb_jpeg("bombs/cat/a.jpg");
    overwritten_jpeg("overwritten.jpg");
    assert_int_equal(mkdir(fx_path("damaged"), 0777), 0);
    assert_int_equal(mkdir(fx_path("damaged/cat"), 0777), 0);
    overwritten_jpeg("damaged/cat/a.jpg");

    /* HDF5 datasets that declare more than they hold, or hold it elsewhere */
    write_h5("unwritten.h5", x_unwritten, 480);
    /* another tool's dataset (no seal) cut to its first 1,000 bytes */
    write_h5("cutdata.h5", x_plain, 480);
    assert_int_equal(sn_test_run("truncate -s 1000 %s", fx_path("cutdata.h5")), 0);
    write_h5("external.h5", x_external, 480);
    write_h5("int8.h5", x_int8, 480);
    write_h5("lzf.h5", x_optional_filter, 480);
    write_h5("bigchunk.h5", x_bigchunk, 480);
    write_h5("zipbomb.h5", x_zipbomb, 480);
    write_h5("tinychunks.h5", x_tinychunks, 480);
    write_h5("band.h5", x_band, BAND_ROWS);
    write_h5("shufband.h5", x_shuffled_bands, SHUF_ROWS);
    write_text("wide1024.cfg", "[net]\ninput = 1024\nbatch = 64\n[dense]\nunits = 3\n");
    write_h5("meannan.h5", x_meannan, 480);
    write_h5("softlink.h5", x_softlink, 480);
    assert_int_equal(sn_test_run("cp tests/cli/fixtures/hdf5-crash.h5 %s/crash.h5", fx), 0);
    /* a class name's size in the global heap made larger than its
     * collection: libhdf5 reads past it (an abort at close, a SIGSEGV) */
    assert_int_equal(sn_test_run("cp tests/cli/fixtures/hdf5-heap-abort.h5 %s/heapabort.h5", fx), 0);
    assert_int_equal(sn_test_run("cp tests/cli/fixtures/hdf5-heap-segv.h5 %s/heapsegv.h5", fx), 0);
    /* fuzz_dataset's: libhdf5 spins 60 s reading more of them than the
     * commands read (every attribute; the class names of a file whose
     * rows cannot be read); the probe reads no more than the commands */
    assert_int_equal(sn_test_run("cp tests/cli/fixtures/hdf5-spin-attrs.h5 %s/spin1.h5", fx), 0);
    assert_int_equal(sn_test_run("cp tests/cli/fixtures/hdf5-spin-classes.h5 %s/spin2.h5", fx), 0);
    /* fuzz_dataset's: libhdf5 loops in its global heap reading the three
     * class names the commands need: the probe's CPU limit ends it */
    assert_int_equal(sn_test_run("cp tests/cli/fixtures/hdf5-heap-loop.h5 %s/heaploop.h5", fx), 0);
    /* h5py's writer (libver latest) killed after a flush: the superblock
     * still marks the file open for writing, and libhdf5 refuses it */
    assert_int_equal(sn_test_run("cp tests/cli/fixtures/hdf5-open-for-write.h5 %s/openw.h5", fx),
                     0);
    /* a dataset compressed with a filter no libhdf5 has (id 40000): libhdf5
     * would load every library of HDF5_PLUGIN_PATH looking for it */
    assert_int_equal(sn_test_run("cp tests/cli/fixtures/hdf5-filter.h5 %s/filter.h5", fx), 0);
}

/* Weights, checkpoints and datasets with hostile values, resealed */
static void hostile_weights(void)
{
    write_bytes("img.pgm", "P5\n4 2\n255\n01234567", 19);
    with_attr("wimg.h5", "scale0.h5", "/model", "input_scale", 0.0);
    with_attr("wimg.h5", "scalenan.h5", "/model", "input_scale", NAN);
    with_attr("wimg.h5", "scalebig.h5", "/model", "input_scale", 1e300);
    with_attr_as("blobs.h5", "scale300.h5", "/", "scale", 1e300, false);
    with_attr_as("trainscale.h5", "ownscale.h5", "/test/x", "scale", 0.5, false);
    with_attr_as("ownscale.h5", "rootnan.h5", "/", "scale", NAN, false);
    sn_test_write_blobs(fx_path("norm1.h5"), (struct sn_test_blobs){ .root_norm = 1 });
    with_attr_as("norm1.h5", "mean300.h5", "/", "mean", 1e300, false);
    with_attr_as("norm1.h5", "stdtiny.h5", "/", "std", 1e-300, false);
    with_attr_n("blobs.h5", "mean8.h5", "/", "mean", (const double[]){ 0, 0, 0, 0, 0, 0, 0, 0 }, 8,
                false);
    {   /* a mean of 11 million values (88 MB in dense storage): libhdf5 reads
         * all of it to look at any attribute of /train/x */
        const size_t n = 11000000;
        double *zeros = calloc(n, sizeof *zeros);
        assert_non_null(zeros);
        with_attr_n("blobs.h5", "bigmean.h5", "/train/x", "mean", zeros, n, false);
        free(zeros);
    }
    with_attr_n("mean8.h5", "std0.h5", "/", "std", (const double[]){ 1, 1, 0, 1, 1, 1, 1, 1 }, 8,
                false);
    /* normalisations that map the data beyond +-1e6: std 2e-38 or scale
     * 1e30 (both floats) on one split's x, or on the root */
    with_attr_as("blobs.h5", "mean0train.h5", "/train/x", "mean", 0.0, false);
    with_attr_as("mean0train.h5", "stdtrain.h5", "/train/x", "std", 2e-38, false);
    with_attr_as("blobs.h5", "mean0test.h5", "/test/x", "mean", 0.0, false);
    with_attr_as("mean0test.h5", "stdtest.h5", "/test/x", "std", 2e-38, false);
    with_attr_as("blobs.h5", "scaletrain.h5", "/train/x", "scale", 1e30, false);
    with_attr_as("blobs.h5", "scaletest.h5", "/test/x", "scale", 1e30, false);
    with_attr_as("norm1.h5", "stdroot.h5", "/", "std", 2e-38, false);
    big_metrics();
    reducer_pieces();
    link_and_half();
    deep_groups();
    junk_entries("wmany.h5", false);
    junk_entries("wlinks.h5", true);
    /* one batch of blobs.h5: ck.h5's step 3 of its epoch is past this data's 1-step epochs */
    assert_int_equal(sn_test_run("cd %s && " BIN " convert subset blobs.h5 --classes 0-2 "
                                 "--per-class 8 -o onebatch.h5 > /dev/null", fx), 0);
    many_classes("w.h5", "manyclasses.h5", 2000000);
    many_classes("wimg.h5", "wimgcls1.h5", 1);
    with_classes(fx_path("cls2.h5"), (const char *const[]){ "a", "b" }, 2);
    with_classes(fx_path("cls5.h5"), (const char *const[]){ "a", "b", "c", "d", "e" }, 5);
    with_classes(fx_path("clsdup.h5"), (const char *const[]){ "a", "b", "a" }, 3);
    with_classes(fx_path("clscyr.h5"), (const char *const[]){ "Coat", "C\xd0\xbe" "at", "c" }, 3);
    with_classes(fx_path("clsutf.h5"), (const char *const[]){ "a", "\xff\xfe", "c" }, 3);
    with_classes(fx_path("clsempty.h5"), (const char *const[]){ "a", "", "c" }, 3);
    with_classes(fx_path("clsblank.h5"), (const char *const[]){ "a", "a ", "c" }, 3);
    /* a terminal sequence, two names that differ in a control byte only, a
     * bidirectional override: refused, never shown or stored changed */
    with_classes(fx_path("clsesc.h5"), (const char *const[]){ "a\x1b[31mRED", "b", "c" }, 3);
    with_classes(fx_path("clsctl.h5"), (const char *const[]){ "a\x01", "a\x02", "c" }, 3);
    with_classes(fx_path("clsbidi.h5"), (const char *const[]){ "\xe2\x80\xae" "evil", "b", "c" },
                 3);
    /* names that would show as another's: a right-to-left mark, a zero-width
     * space, a no-break space at the end, a line separator, e-acute as one
     * character and as e with a combining accent */
    with_classes(fx_path("clsrlm.h5"), (const char *const[]){ "a\xe2\x80\x8f", "b", "c" }, 3);
    with_classes(fx_path("clszw.h5"), (const char *const[]){ "a", "a\xe2\x80\x8b", "c" }, 3);
    with_classes(fx_path("clsnbsp.h5"), (const char *const[]){ "a", "a\xc2\xa0", "c" }, 3);
    with_classes(fx_path("clsls.h5"), (const char *const[]){ "a\xe2\x80\xa8" "b", "b", "c" }, 3);
    with_classes(fx_path("clsnfd.h5"),
                 (const char *const[]){ "caf\xc3\xa9", "b", "cafe\xcc\x81" }, 3);
    /* and a compatibility form: a no-break space inside a name */
    with_classes(fx_path("clsnfkc.h5"), (const char *const[]){ "a b", "a\xc2\xa0" "b", "c" }, 3);
    with_classes(fx_path("clscomb.h5"), (const char *const[]){ "a", "\xcc\x81", "c" }, 3);
    {   /* labels 0 and 1, one name: which class is 'a'? */
        assert_int_equal(sn_test_run("cd %s && " BIN " convert subset blobs.h5 --classes 0-1 "
                                     "-o bin2tmp.h5 > /dev/null", fx), 0);
        char from[1100];
        snprintf(from, sizeof from, "%s", fx_path("bin2tmp.h5"));
        classes_at(from, fx_path("cls1.h5"), "/", (const char *const[]){ "a" }, 1);
        assert_int_equal(sn_test_run("rm %s/bin2tmp.h5", fx), 0);
    }
}

/* Weights with hostile data descriptions: more class names than outputs,
 * an input_std without input_mean, preparations out of range, resealed. */
static void hostile_weights_meta(void)
{
    /* weights naming a class more than the model's 3 outputs; an input_std
     * without input_mean */
    char w[1100];
    snprintf(w, sizeof w, "%s", fx_path("w.h5"));
    classes_at(w, fx_path("wcls4.h5"), "/model", (const char *const[]){ "a", "b", "c", "d" }, 4);
    reseal("wcls4.h5");
    {   /* wcls4.h5 without its model text: --init checks it against its own run's model */
        assert_int_equal(sn_test_run("cd %s && cp wcls4.h5 wcls4nocfg.h5", fx), 0);
        hid_t f = H5Fopen(fx_path("wcls4nocfg.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        assert_true(H5Adelete_by_name(f, "/model", "cfg", H5P_DEFAULT) >= 0);
        H5Fclose(f);
        reseal("wcls4nocfg.h5");
    }
    with_attr_n("w.h5", "wstdonly.h5", "/model", "input_std", (const double[]){ 0.5 }, 1, true);
    with_attr_n("wimg.h5", "wimgbig.h5", "/model", "input_scale", (const double[]){ 1e30 }, 1,
                true);
    /* two mean/std values in runs of 3 elements, on the 8 inputs of m.cfg;
     * and a run that is no whole number */
    with_attr_n("w.h5", "wblk1.h5", "/model", "input_mean", (const double[]){ 0, 0 }, 2, false);
    with_attr_n("wblk1.h5", "wblk2.h5", "/model", "input_std", (const double[]){ 1, 1 }, 2, false);
    with_attr_as("wblk2.h5", "wblock.h5", "/model", "input_norm_block", 3, true);
    with_attr_as("wblk2.h5", "wblockhalf.h5", "/model", "input_norm_block", 0.5, true);
    assert_int_equal(sn_test_run("cd %s && rm wblk1.h5 wblk2.h5", fx), 0);
    /* blobs.h5 with a variable-length source of 250 MB: its length is known
     * only once it is read, which the probe's bounded address space stops */
    assert_int_equal(sn_test_run("cd %s && cp blobs.h5 bigsource.h5", fx), 0);
    {
        const size_t n = (size_t)250 << 20;
        char *text = malloc(n + 1);
        assert_non_null(text);
        memset(text, 's', n);
        text[n] = '\0';
        hid_t h = H5Fopen(fx_path("bigsource.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
        hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
        H5Tset_size(t, H5T_VARIABLE);
        if (H5Aexists(h, "source") > 0)
            H5Adelete(h, "source");
        hid_t a = H5Acreate2(h, "source", t, sp, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(a >= 0 && H5Awrite(a, t, &text) >= 0);
        H5Aclose(a);
        H5Sclose(sp);
        H5Tclose(t);
        H5Fclose(h);
        free(text);
    }
    /* blobs.h5 naming 5,000 classes of 3,500 bytes each: 16.7 MB of names */
    assert_int_equal(sn_test_run("cd %s && cp blobs.h5 bignames.h5", fx), 0);
    {
        hid_t h = H5Fopen(fx_path("bignames.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(h >= 0);
        fixed_names(h, 5000, 3500);
        H5Fclose(h);
    }
    /* labels written as x and samples as y */
    {
        struct sn_h5 *h;
        int32_t lab[24] = { 0 };
        uint8_t px[24 * 8] = { 0 };
        const size_t ld[1] = { 24 }, pd[2] = { 24, 8 };
        assert_int_equal(sn_h5_create(fx_path("swapxy.h5"), &h), SN_OK);
        assert_int_equal(sn_h5_write(h, "/train/x", 1, ld, SN_H5_I32, lab), SN_OK);
        assert_int_equal(sn_h5_write(h, "/train/y", 2, pd, SN_H5_U8, px), SN_OK);
        assert_int_equal(sn_h5_close(h), SN_OK);
    }
    /* blobs.h5 with its /test also under the name /validation, which no reader takes */
    assert_int_equal(sn_test_run("cd %s && cp blobs.h5 validsplit.h5", fx), 0);
    {
        hid_t h = H5Fopen(fx_path("validsplit.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(h >= 0);
        assert_true(H5Lcreate_hard(h, "/test", h, "/validation", H5P_DEFAULT, H5P_DEFAULT) >= 0);
        H5Fclose(h);
    }
    /* a dataset convert wrote, then changed by another tool (its seal no longer matches) */
    with_attr_n("onebatch.h5", "dataedit.h5", "/", "note", (const double[]){ 1 }, 1, false);
    long_cfg("cfgbig.h5");
    /* weights whose model text was edited (dense0 of 17 units), and weights
     * missing an array (dense1's bias) */
    with_cfg("wedit.h5", "[net]\ninput = 8\nbatch = 24\nloss = cross_entropy\n"
                         "[dense]\nunits = 17\nactivation = relu\n[dense]\nunits = 3\n");
    assert_int_equal(sn_test_run("cd %s && cp w.h5 wnobias.h5", fx), 0);
    {
        hid_t f = H5Fopen(fx_path("wnobias.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0 && H5Ldelete(f, "/params/dense1/bias", H5P_DEFAULT) >= 0);
        H5Fclose(f);
        reseal("wnobias.h5");
    }
    with_attr_n("w.h5", "scale2.h5", "/model", "input_scale", (const double[]){ 1, 2 }, 2, true);
}

/* Sizes past the budgets, labels and targets out of range, odd folders */
static void hostile_sizes(void)
{
    /* models within every per-layer limit but too big in all: 1 G
     * parameters (8 GB with gradients) in 61 bytes; 256 M parameters
     * (2 GB with gradients, within the budget) that w.h5 does not fit */
    write_text("bigmodel.cfg", "[net]\ninput = 8\n[dense]\nunits = 1000000\n[dense]\nunits = 1000\n");
    /* small outputs, large state: an lstm's 65536 time steps, a pool's input batch */
    write_text("lstmsteps.cfg", "[net]\ninput = 1,65536,1\n[lstm]\nunits = 1024\n[dense]\nunits = 3\n");
    write_text("poolinput.cfg", "[net]\ninput = 1,2048,2048\nbatch = 256\n[maxpool]\nsize = 2048\n"
               "[flatten]\n[dense]\nunits = 3\n");
    write_text("wbig.cfg", "[net]\ninput = 12\n[dense]\nunits = 16000000\n[dense]\nunits = 3\n");
    /* an IDX header declaring 2,000,000 x 28 x 28 bytes (1.57 GB); labels
     * of 2^64-1 and -2^63 as uint64 and int64 */
    static const unsigned char bigidx[] = { 0, 0, 8, 3, 0, 0x1e, 0x84, 0x80, 0, 0, 0, 28,
                                            0, 0, 0, 28 };
    write_bytes("bigidx.idx", bigidx, sizeof bigidx);
    /* headers alone: 10^9 one-pixel images and 10^9 labels, each under
     * 1 GiB, together (with the labels as int32) 6 GB */
    const unsigned char manyimg[16] = { 0, 0, 8, 3, 0x3b, 0x9a, 0xca, 0, 0, 0, 0, 1, 0, 0, 0, 1 };
    const unsigned char manylab[8] = { 0, 0, 8, 1, 0x3b, 0x9a, 0xca, 0 };
    write_bytes("manyimg.idx", manyimg, sizeof manyimg);
    /* a PNG header of 1000001 x 1 pixels, past libpng's own side limit */
    const unsigned char widepng[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                      'I', 'H', 'D', 'R', 0, 0x0f, 0x42, 0x41, 0, 0, 0, 1, 8, 0,
                                      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae,
                                      0x42, 0x60, 0x82 };
    write_bytes("widepng.png", widepng, sizeof widepng);
    write_bytes("manylab.idx", manylab, sizeof manylab);
    wide_labels("u64label.h5", H5T_STD_U64LE);
    wide_labels("i64label.h5", H5T_STD_I64LE);
    crashing_copy("w.h5", "crashw.h5");
    crashing_copy("ck.h5", "crashck.h5");
    with_weight("wnan.h5", NAN, false);
    with_array("wghost.h5", "/params/ghost/weight");
    with_array("wextra.h5", "/params/dense0/extra");
    with_weight("winf.h5", INFINITY, false);
    with_weight("wbig.h5", 3e38f, true);   /* finite, but every sum overflows */
    negative_variance("wbnneg.h5");
    target_dataset("bcetarget.h5", 1.5f);   /* outside binary_cross_entropy's [0, 1] */
    target_dataset("bigtarget.h5", 3e38f);   /* finite, but its square is not */
    target_dataset("widetarget.h5", INFINITY);   /* float64 1e300 */
    {   /* two rows of 2^20 float targets: one past the limit (8 MB) */
        float *y = calloc((size_t)2 << 20, sizeof *y), x[16] = { 0 };
        assert_non_null(y);
        struct sn_h5 *f;
        const size_t xd[2] = { 2, 8 }, yd[2] = { 2, (size_t)1 << 20 };
        assert_int_equal(sn_h5_create(fx_path("manytargets.h5"), &f), SN_OK);
        assert_int_equal(sn_h5_write(f, "/train/x", 2, xd, SN_H5_F32, x), SN_OK);
        assert_int_equal(sn_h5_write(f, "/train/y", 2, yd, SN_H5_F32, y), SN_OK);
        assert_int_equal(sn_h5_close(f), SN_OK);
        free(y);
    }
    write_text("bce1.cfg", "[net]\ninput = 8\nbatch = 24\nloss = binary_cross_entropy\n"
                           "[dense]\nunits = 1\n");
    write_text("bce.cfg", "[net]\ninput = 8\nbatch = 24\nloss = binary_cross_entropy\n"
                          "[dense]\nunits = 3\n");
    long_record_pair();
    column_labels();
    hard_linked_splits();
    {   /* a checkpoint folder whose .lock holds 5,000 bytes: no lock file of ours */
        assert_int_equal(mkdir(fx_path("biglock"), 0777), 0);
        FILE *lf = fopen(fx_path("biglock/.lock"), "w");
        assert_non_null(lf);
        for (int i = 0; i < 5000; i++)
            fputc('x', lf);
        fclose(lf);
    }
    {   /* 4 values for images of 1 x 2 x 4: one per column, as channels-last data has */
        const double m4[4] = { 0.1, 0.2, 0.3, 0.4 }, s4[4] = { 1, 1, 1, 1 };
        with_attr_n("images.h5", "m4tmp.h5", "/", "mean", m4, 4, false);
        with_attr_n("m4tmp.h5", "mean4img.h5", "/", "std", s4, 4, false);
        assert_int_equal(sn_test_run("rm %s/m4tmp.h5", fx), 0);
    }
    write_text("mse1.cfg", "[net]\ninput = 8\nbatch = 24\nloss = mse\n[dense]\nunits = 1\n");
}

/* rank9.h5: /train/x of 9 dimensions (HDF5 allows 32), (4, 1 x 7, 2). */
static void write_rank9(void)
{
    hsize_t dims[9] = { 4, 1, 1, 1, 1, 1, 1, 1, 2 }, n = 4;
    const uint8_t x[8] = { 0 };
    const int32_t y[4] = { 0, 1, 0, 1 };
    hid_t f = H5Fcreate(fx_path("rank9.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sx = H5Screate_simple(9, dims, NULL), sy = H5Screate_simple(1, &n, NULL);
    hid_t dx = H5Dcreate2(f, "/train/x", H5T_NATIVE_UINT8, sx, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    hid_t dy = H5Dcreate2(f, "/train/y", H5T_NATIVE_INT32, sy, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    assert_true(H5Dwrite(dx, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
    assert_true(H5Dwrite(dy, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    H5Dclose(dx);
    H5Dclose(dy);
    H5Sclose(sx);
    H5Sclose(sy);
    H5Gclose(g);
    H5Fclose(f);
}

/* Another program's HDF5 with a scratchnet name among its own: sim.h5, a
 * simulation's (a /params group of settings, /positions); dsparams.h5, a
 * dataset (/train/x, /train/y) with a /params group beside it; simpred.h5,
 * /pred and /probs with notes beside them.  Each kind holds its names
 * alone: these are none, and no output replaces them. */
static void write_mixed_h5(void)
{
    struct sn_h5 *f;
    size_t n8 = 8, n4 = 4, d2[2] = { 4, 2 };
    const float x[8] = { 0 };
    const int32_t y[4] = { 0, 1, 0, 1 };
    assert_int_equal(sn_h5_create(fx_path("sim.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_mkgroup(f, "/params"), SN_OK);
    assert_int_equal(sn_h5_write(f, "/positions", 1, &n8, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_h5_create(fx_path("dsparams.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 2, d2, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, &n4, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_mkgroup(f, "/params"), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_h5_create(fx_path("simpred.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/pred", 1, &n4, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_write(f, "/probs", 2, d2, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/notes", 1, &n8, SN_H5_U8, "precious"), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    /* fit.h5: a curve fit's /params vector alone; predx.h5: groups named
     * pred and probs of other data */
    assert_int_equal(sn_h5_create(fx_path("fit.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params", 1, &n8, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_h5_create(fx_path("predx.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/pred/notes", 1, &n8, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/probs/more", 1, &n8, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    /* dsids.h5: a dataset whose split holds ids beside x and y */
    assert_int_equal(sn_h5_create(fx_path("dsids.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 2, d2, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, &n4, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/ids", 1, &n4, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* A scalar (0-d) int at path in the fixture file (sn_h5_write writes
 * arrays). */
static void add_scalar(const char *file, const char *path)
{
    hid_t f = H5Fopen(fx_path(file), H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t lp = H5Pcreate(H5P_LINK_CREATE);
    hid_t sp = H5Screate(H5S_SCALAR);
    assert_true(f >= 0 && lp >= 0 && sp >= 0 && H5Pset_create_intermediate_group(lp, 1) >= 0);
    hid_t d = H5Dcreate2(f, path, H5T_NATIVE_INT, sp, lp, H5P_DEFAULT, H5P_DEFAULT);
    const int one = 1;
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &one) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Pclose(lp);
    H5Fclose(f);
}

/* ys.h5: 4 rows of x, and a scalar /train/y (its row count was read from
 * the stack: "has 65024 rows"); simset.h5, a simulation's settings
 * grouped under /params as scalars; simrec.h5, grouped settings of arrays
 * with recordings under /metrics; simmodel.h5 and cfgyaml.h5, another
 * program's /model group beside its arrays. */
static void write_scalars(void)
{
    struct sn_h5 *f;
    size_t d2[2] = { 4, 2 }, n8 = 8;
    const float x[8] = { 0 };
    assert_int_equal(sn_h5_create(fx_path("ys.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/x", 2, d2, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    add_scalar("ys.h5", "/train/y");
    assert_int_equal(sn_h5_create(fx_path("simset.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    add_scalar("simset.h5", "/params/thermostat/temperature");
    assert_int_equal(sn_h5_create(fx_path("simrec.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/thermostat/t", 1, &n8, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/metrics/energy", 1, &n8, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    /* simmodel.h5: settings arrays under /params beside a /model group of
     * another program's attribute;
     * cfgyaml.h5, another tool's /model cfg (YAML) beside its /metrics */
    assert_int_equal(sn_h5_create(fx_path("simmodel.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_write(f, "/params/thermostat/t", 1, &n8, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_mkgroup(f, "/model"), SN_OK);
    assert_int_equal(sn_h5_attr_set_str(f, "/model", "name", "lennard-jones"), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    assert_int_equal(sn_h5_create(fx_path("cfgyaml.h5"), &f), SN_OK);
    assert_int_equal(sn_h5_mkgroup(f, "/model"), SN_OK);
    assert_int_equal(sn_h5_attr_set_str(f, "/model", "cfg", "lr: 0.1\nbackbone: resnet50\n"),
                     SN_OK);
    assert_int_equal(sn_h5_write(f, "/metrics/loss", 1, &n8, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

static void make_hostile_fixtures(void)
{
    static const char torch[] = "\x08\x07\x12\x07pytorch\x3a\x00";   /* another's ONNX */
    write_bytes("torch.onnx", torch, sizeof torch - 1);
    write_rank9();
    write_scalars();
    write_mixed_h5();
    hostile_model_values();
    hostile_model_text();
    hostile_logs();
    hostile_non_files();
    hostile_bombs();
    hostile_weights();
    hostile_weights_meta();
    hostile_sizes();
}

static const char *outs[] = { "out.h5", "out.csv", "out.png", "out.jsonl", "out.onnx" };

/* A whole file's bytes (binary: HDF5 holds NULs), or NULL if unreadable. */
static char *read_whole(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    char *b = NULL;
    *n = 0;
    if (fp && fseek(fp, 0, SEEK_END) == 0) {
        const long size = ftell(fp);
        rewind(fp);
        b = size >= 0 ? malloc((size_t)size + 1) : NULL;
        if (b && fread(b, 1, (size_t)size, fp) == (size_t)size)
            *n = (size_t)size;
        else if (b) {
            free(b);
            b = NULL;
        }
    }
    if (fp)
        fclose(fp);
    return b;
}

/* What write_precious put in each out.* file for the row, to compare. */
static char *precious[sizeof outs / sizeof outs[0]];
static size_t precious_len[sizeof outs / sizeof outs[0]];

/* The bytes of fixture name, read once (the fixtures never change). */
static const char *fixture_bytes(const char *name, size_t *n)
{
    static struct { const char *name; char *b; size_t n; } cache[6];
    size_t i = 0;
    while (cache[i].name && strcmp(cache[i].name, name) != 0)
        i++;
    if (!cache[i].name) {
        assert_true(i < sizeof cache / sizeof cache[0] - 1);
        cache[i].b = read_whole(fx_path(name), &cache[i].n);
        assert_non_null(cache[i].b);
        cache[i].name = name;
    }
    *n = cache[i].n;
    return cache[i].b;
}

/* out.h5 before a row: a file of the kind the row's command writes, which
 * the output guard lets it replace (train --out weights, convert -o a
 * dataset, predict -o predictions, export -o an ONNX model), so the row's
 * own error is what stops it; for other commands, HDF5 of another program
 * (/precious). */
static const char *precious_h5(const char *cmd, size_t *n)
{
    cmd += strspn(cmd, " ");
    while (strchr(cmd, '=') && strchr(cmd, '=') < strchr(cmd, ' '))   /* NAME=value words */
        cmd = strchr(cmd, ' ') + 1;
    const char *kind = !strncmp(cmd, "train ", 6)     ? "w.h5"
                     : !strncmp(cmd, "convert ", 8)   ? "blobs.h5"
                     : !strncmp(cmd, "predict ", 8)   ? "preds.h5"
                     : !strncmp(cmd, "export ", 7)    ? "precious.onnx"
                                                      : "precious.h5";
    return fixture_bytes(kind, n);
}

/* The outputs' precious contents, of the kind each output may replace:
 * out.h5 by the row's command (precious_h5), out.onnx an ONNX model of
 * export's (ir_version 7, producer "scratchnet", an empty graph), out.png a PNG's
 * signature and the word, out.csv predict's header and the word, out.jsonl
 * the word. */
static void write_precious(const char *cmd)
{
    static const char onnx[] = "\x08\x07\x12\x0ascratchnet\x3a\x00";
    if (access(fx_path("precious.h5"), F_OK) != 0) {   /* made once: libhdf5 stamps times */
        struct sn_h5 *f;
        size_t n = 8;
        assert_int_equal(sn_h5_create(fx_path("precious.h5"), &f), SN_OK);
        assert_int_equal(sn_h5_write(f, "/precious", 1, &n, SN_H5_U8, "precious"), SN_OK);
        assert_int_equal(sn_h5_close(f), SN_OK);
        write_bytes("precious.onnx", onnx, sizeof onnx - 1);
    }
    static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\x13tEXtSoftware\0scratchnet\0\0\0\0precious";
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        const char *b = "precious";
        size_t n;
        if (strcmp(outs[i], "out.h5") == 0)
            b = precious_h5(cmd, &n);
        else if (strcmp(outs[i], "out.onnx") == 0)
            b = onnx, n = sizeof onnx - 1;
        else if (strcmp(outs[i], "out.png") == 0)   /* scratchnet's mark; its CRC not read */
            b = png, n = sizeof png - 1;
        else if (strcmp(outs[i], "out.csv") == 0)
            b = "index,pred,p0,p1\nprecious", n = strlen(b);
        else
            n = strlen(b);
        write_bytes(outs[i], b, n);
        free(precious[i]);
        precious[i] = malloc(n + 1);
        assert_non_null(precious[i]);
        memcpy(precious[i], b, n);
        precious_len[i] = n;
    }
}

/* One line per entry under the fixture folder, in name order: its type,
 * mode and path, a link's target, and for a regular file its size, inode,
 * and change and modification times to the nanosecond (any write, rename
 * or chmod moves the change time); by their contents instead, the out.*
 * files, rewritten before every row, and a checkpoint folder's .lock,
 * which a run that takes it writes its name into.  Walked here rather
 * than by find and md5sum, which took 0.18 s of every row's 0.4 s. */
static bool is_out(const char *rel)
{
    const char *base = strrchr(rel, '/');
    if (base && strcmp(base, "/.lock") == 0)
        return true;
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        if (strcmp(rel, outs[i]) == 0)
            return true;
    return false;
}

static void snap_entry(FILE *to, const char *path, const char *rel, const struct stat *st)
{
    char link[1024] = "";
    if (S_ISLNK(st->st_mode)) {
        ssize_t n = readlink(path, link, sizeof link - 1);
        link[n > 0 ? n : 0] = '\0';
    }
    fprintf(to, "%o %s -> %s", (unsigned)st->st_mode, rel, link);
    size_t out = 0;
    while (out < sizeof outs / sizeof outs[0] && strcmp(rel, outs[out]) != 0)
        out++;
    if (S_ISREG(st->st_mode) && out < sizeof outs / sizeof outs[0]) {   /* every byte */
        size_t n;
        char *b = read_whole(path, &n);
        if (b && n == precious_len[out] && !memcmp(b, precious[out], n))
            fprintf(to, " [precious]");
        else
            fprintf(to, " [changed: %zu bytes]", n);
        free(b);
    } else if (S_ISREG(st->st_mode) && is_out(rel)) {   /* a .lock: its text */
        char *text = sn_test_slurp(path);
        fprintf(to, " [%s]", text);
        free(text);
    } else if (S_ISREG(st->st_mode)) {
        fprintf(to, " %lld %llu %lld.%09ld %lld.%09ld", (long long)st->st_size,
                (unsigned long long)st->st_ino, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
                (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    }
    fputc('\n', to);
}

static void snap_folder(FILE *to, const char *dir, const char *rel)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[2048], sub[1024];
        struct stat st;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, name);
            snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", name);
            assert_int_equal(lstat(path, &st), 0);
            snap_entry(to, path, sub, &st);
            if (S_ISDIR(st.st_mode))
                snap_folder(to, path, sub);
        }
        free(names[i]);
    }
    free(names);
}

static char *snapshot(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *to = open_memstream(&text, &len);
    assert_non_null(to);
    snap_folder(to, fx, "");
    fclose(to);
    return text;
}

struct row {
    int num;
    int ranks[4], n_ranks;
    char cmd[512], msg[256];
};

/* "| 12 | 1,2 | `cmd` | `message` |" -> row; false for other lines. */
static bool parse_row(const char *line, struct row *r)
{
    char ranks[32];
    memset(r, 0, sizeof *r);
    if (sscanf(line, "| %d | %31[0-9,] | `%511[^`]` | `%255[^`]` |", &r->num, ranks, r->cmd, r->msg) != 4)
        return false;
    for (char *t = strtok(ranks, ","); t && r->n_ranks < 4; t = strtok(NULL, ","))
        r->ranks[r->n_ranks++] = atoi(t);
    return r->n_ranks > 0;
}

/* Limits of every run: the whole job within max_seconds() and its address
 * space (each process's) within MAX_AS_KB, so a bomb fails the row instead
 * of the machine; the sanitizers reserve terabytes of address space, so
 * under make sanitize only the time is limited. */
#define MAX_AS_KB 1048576

/* 30 s: five ranks on two loaded cores take up to 15 s to start and stop,
 * and the bombs of bad_inputs.md took 20 s to minutes before their budgets;
 * the sanitizers make every run 3-5 times slower. */
static double max_seconds(void)
{
    return getenv("SN_SANITIZE") ? 90.0 : 30.0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of the finished commands this process ran. */
static double children_cpu(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_CHILDREN, &u) != 0)
        return 0.0;
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/* Within the time limit: max_seconds() of wall time, or twice that when
 * the command used no more than max_seconds() of CPU: other work on the
 * cores stretches a row that spends 8 s of CPU in libhdf5 (a probe's
 * budget) past 30 s of wall, and a bomb shows in the CPU time too. */
static bool in_time(double wall, double cpu)
{
    return wall <= max_seconds() || (wall <= 2 * max_seconds() && cpu <= max_seconds());
}

/* The shell prefix that limits a run's address space, empty under make
 * sanitize (see above). */
static const char *mem_limit(void)
{
    static char limit[64];
    if (!getenv("SN_SANITIZE"))
        snprintf(limit, sizeof limit, "ulimit -v %d && ", MAX_AS_KB);
    return limit;
}

/* The first line of after that differs from before's, for the report. */
static void first_change(const char *before, const char *after, char *line, size_t len)
{
    size_t at = 0;
    while (before[at] && before[at] == after[at])
        at++;
    while (at > 0 && after[at - 1] != '\n')
        at--;
    snprintf(line, len, "%.*s", (int)strcspn(after + at, "\n"), after + at);
}

static int run_row(const struct row *r, int np, const char *before)
{
    write_precious(r->cmd);
    const char *limit = mem_limit();
    char env[256] = "";   /* a row may start with NAME=value words: the command's environment */
    const char *cmd = r->cmd, *eq, *sp;
    while ((eq = strchr(cmd, '=')) && (sp = strchr(cmd, ' ')) && eq < sp &&
           strspn(cmd, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == (size_t)(eq - cmd)) {
        snprintf(env + strlen(env), sizeof env - strlen(env), "%.*s", (int)(sp + 1 - cmd), cmd);
        cmd = sp + 1;
    }
    double t0 = now(), c0 = children_cpu();
    int rc = np == 1 ? sn_test_run("cd %s && %s%stimeout 120 " BIN " %s", fx, limit, env, cmd)
                     : sn_test_run("cd %s && %s%stimeout 120 %s -np %d " BIN " %s", fx, limit, env,
                                   mpirun(), np, cmd);
    double secs = now() - t0, cpu = children_cpu() - c0;
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    int lines = 0;
    for (const char *p = err; (p = strstr(p, "scratchnet: error:")); p++)
        lines++;
    char *after = snapshot();
    bool ok = rc == 2 && strstr(err, r->msg) && lines == 1 && strcmp(before, after) == 0 &&
              in_time(secs, cpu);
    char changed[512] = "unchanged";
    if (strcmp(before, after))
        first_change(before, after, changed, sizeof changed);
    if (!ok)
        fprintf(stderr, "row %d at %d rank(s): %s\n  exit %d (want 2), %d error lines (want 1), "
                "%.1f s, %.1f s of CPU (at most %.0f), files: %s\n  wanted: %s\n  stderr:\n%s\n",
                r->num, np, r->cmd, rc, lines, secs, cpu, max_seconds(), changed, r->msg, err);
    free(err);
    free(after);
    return ok ? 0 : 1;
}

static void test_every_bad_input(void **state)
{
    (void)state;
    FILE *t = fopen(TABLE, "r");
    if (!t)
        fail_msg("%s: cannot open (run from the top of the source tree)", TABLE);
    write_precious("");
    char *before = snapshot();
    char line[2048];
    int rows = 0, runs = 0, failed = 0, last = 0;
    bool all = getenv("SN_BAD_INPUT_ALL") && atoi(getenv("SN_BAD_INPUT_ALL"));
    /* SN_BAD_INPUT_ROWS=A-B runs rows A to B only (while working on them) */
    int from = 1, to = 1 << 30;
    if (getenv("SN_BAD_INPUT_ROWS"))
        sscanf(getenv("SN_BAD_INPUT_ROWS"), "%d-%d", &from, &to);
    while (fgets(line, sizeof line, t)) {
        struct row r;
        if (!parse_row(line, &r))
            continue;
        assert_int_equal(r.num, last + 1);   /* numbered in order, none lost */
        last = r.num;
        rows++;
        if (r.num < from || r.num > to)
            continue;
        /* every row at its first rank count (make test); every rank count
         * with SN_BAD_INPUT_ALL=1, as make faults does */
        for (int k = 0; k < r.n_ranks; k++)
            if (k == 0 || all) {
                failed += run_row(&r, r.ranks[k], before);
                runs++;
            }
    }
    fclose(t);
    free(before);
    printf("%d bad inputs, %d runs, %d failed\n", rows, runs, failed);
    assert_true(rows >= 160);
    assert_int_equal(failed, 0);
}

/* w.h5 copied to `to` with /model cfg replaced by text, resealed. */
static void with_cfg(const char *to, const char *text)
{
    assert_int_equal(sn_test_run("cd %s && cp w.h5 %s", fx, to), 0);
    hid_t f = H5Fopen(fx_path(to), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t o = H5Oopen(f, "/model", H5P_DEFAULT);
    H5Adelete(o, "cfg");
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t a = H5Acreate2(o, "cfg", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Awrite(a, t, &text) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Oclose(o);
    H5Fclose(f);
    reseal(to);
}

/* w.h5 whose /model cfg is a text of 1.5 MiB (a model file holds at most
 * 1 MiB), resealed. */
static void long_cfg(const char *to)
{
    const size_t n = (size_t)3 << 19;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, '#', n);
    memcpy(text, "[net]\ninput = 8\n", 16);
    text[n] = '\0';
    with_cfg(to, text);
    free(text);
}

/* 480 train and 120 test rows of 8 features, 3 float targets each in
 * [0, 1]; train row 5's second target is v (Inf: /train/y as float64,
 * that target 1e300). */
static void target_dataset(const char *name, float v)
{
    enum { NTR = 480, NTE = 120 };
    static float x[NTR * 8], y[NTR * 3];
    for (int i = 0; i < NTR * 8; i++)
        x[i] = (float)(i % 7) / 7.0f;
    for (int i = 0; i < NTR * 3; i++)
        y[i] = (float)(i % 5) / 4.0f;
    y[5 * 3 + 1] = v;
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(fx_path(name), &f), SN_OK);
    const size_t xtr[2] = { NTR, 8 }, ytr[2] = { NTR, 3 }, xte[2] = { NTE, 8 }, yte[2] = { NTE, 3 };
    assert_int_equal(sn_h5_write(f, "/train/x", 2, xtr, SN_H5_F32, x), SN_OK);
    if (v == INFINITY) {   /* stored as float64: a finite 1e300, beyond a float's range */
        static double wide[NTR * 3];
        for (int i = 0; i < NTR * 3; i++)
            wide[i] = i == 5 * 3 + 1 ? 1e300 : (double)y[i];
        assert_int_equal(sn_h5_write(f, "/train/y", 2, ytr, SN_H5_F64, wide), SN_OK);
    } else {
        assert_int_equal(sn_h5_write(f, "/train/y", 2, ytr, SN_H5_F32, y), SN_OK);
    }
    assert_int_equal(sn_h5_write(f, "/test/x", 2, xte, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/y", 2, yte, SN_H5_F32, y + NTR * 3 - NTE * 3), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
}

/* The attribute classes of object obj in a copy of from (paths): n names. */
static void classes_at(const char *from, const char *to, const char *obj,
                       const char *const *names, size_t n)
{
    assert_int_equal(sn_test_run("cp %s %s", from, to), 0);
    hid_t f = H5Fopen(to, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
    assert_true(o >= 0);
    if (H5Aexists(o, "classes") > 0)
        H5Adelete(o, "classes");
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hsize_t dims = n;
    hid_t sp = H5Screate_simple(1, &dims, NULL);
    hid_t a = H5Acreate2(o, "classes", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Awrite(a, t, names) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Oclose(o);
    H5Fclose(f);
}

/* Root attribute classes of a copy of blobs.h5: n names. */
static void with_classes(const char *to, const char *const *names, size_t n)
{
    char from[1100];
    snprintf(from, sizeof from, "%s/blobs.h5", fx);
    classes_at(from, to, "/", names, n);
}

/* Strings are data: class names, a log name and output names that try to
 * run `touch pwned` through gnuplot only show as text; the pictures are
 * drawn and no file appears (a class name with a newline, the issue's
 * case, is refused when read: no control byte is ever shown).  400
 * classes of 60-character names (the old script buffer held 80 bytes per
 * class) draw too. */
static void test_hostile_names_draw_safely(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/names", sn_test_tmpdir());
    assert_int_equal(mkdir(dir, 0777), 0);
    static const char *const newline[] = { "a\nsystem \"touch pwned\"\n", "b", "c" };
    static const char *const evil[] = {
        "a system \"touch pwned\" #", "b'`touch pwned`'\\", "c\"; system('touch pwned'); \"",
    };
    char path[1200];
    snprintf(path, sizeof path, "%s/newline.h5", dir);
    with_classes(path, newline, 3);
    int rc = sn_test_run("cd %s && " BIN " eval --weights %s/w.h5 --data newline.h5 "
                         "--confusion-png nl.png", dir, fx);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    if (rc != 2 || !strstr(err, "string 0 holds a control character (U+000A)"))
        fail_msg("a class name with a newline: exit %d: %s", rc, err);
    free(err);
    snprintf(path, sizeof path, "%s/evil.h5", dir);
    with_classes(path, evil, 3);
    rc = sn_test_run("cd %s && " BIN " eval --weights %s/w.h5 --data evil.h5 --confusion-png "
                         "\"$(printf 'c\\nsystem(\\047touch pwned\\047)\\n.png')\"", dir, fx);
    if (rc)
        fail_msg("eval: exit %d: %s", rc, sn_test_slurp(sn_test_path("err.txt")));
    write_text("../names/log.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\n");
    rc = sn_test_run("cd %s && mv log.jsonl \"$(printf 'l\\047\\nsystem \"touch pwned\"\\n\\047.jsonl')\" && "
                     BIN " plot l* -o \"$(printf 'p`touch pwned`\\n.png')\"", dir);
    if (rc)
        fail_msg("plot: exit %d: %s", rc, sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(sn_test_run("cd %s && ls | grep -c png", dir), 0);
    char *n = sn_test_slurp(sn_test_path("out.txt"));
    assert_int_equal(atoi(n), 2);   /* both pictures, under their hostile names */
    free(n);
    snprintf(path, sizeof path, "%s/pwned", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    /* 400 classes of 60-character names, a 400-unit head */
    static char names400[400][64];
    const char *p400[400];
    for (int k = 0; k < 400; k++) {
        snprintf(names400[k], sizeof names400[k], "%03d-a-long-class-name-'with`quotes`\\and \"more\"-%12d", k, k);
        p400[k] = names400[k];
    }
    snprintf(path, sizeof path, "%s/c400.h5", dir);
    with_classes(path, p400, 400);
    write_text("../names/m400.cfg", "[net]\ninput = 8\nbatch = 24\n[dense]\nunits = 400\n");
    rc = sn_test_run("cd %s && " BIN " train --model m400.cfg --data c400.h5 --steps 1 --out w400.h5 "
                     "--quiet && " BIN " eval --weights w400.h5 --data c400.h5 --confusion-png c400.png",
                     dir);
    if (rc)
        fail_msg("400 classes: exit %d: %s", rc, sn_test_slurp(sn_test_path("err.txt")));
    struct stat st;
    snprintf(path, sizeof path, "%s/c400.png", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 1000);
}

/* Whether process pid has a file whose path ends in name open. */
static int has_open(pid_t pid, const char *name)
{
    char dir[64], link[1200], target[1200];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    int found = 0;
    struct dirent *e;
    while (d && !found && (e = readdir(d))) {
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        size_t k = strlen(name);
        if (n >= (ssize_t)k) {
            target[n] = '\0';
            found = strcmp(target + n - k, name) == 0;
        }
    }
    if (d)
        closedir(d);
    return found;
}

/* Run cmd (sh, ending in exec), SIGTERM it while it still runs: 2 s after
 * it starts, or, given opened, as soon as it has a file ending in opened
 * open (a wait on the process's own progress, not on the machine's speed).
 * It must end within 5 s of the signal, exit 1, with msg on stderr. */
static void stopped_by_sigterm(const char *cmd, const char *msg, const char *opened)
{
    char full[5000];
    snprintf(full, sizeof full, "%s 2>%s", cmd, sn_test_path("sigterm.txt"));
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    if (!opened)
        sleep(2);
    const struct timespec tick = { 0, 10000000 };
    for (int i = 0; opened && i < 6000 && !has_open(pid, opened); i++)
        nanosleep(&tick, NULL);
    int st;
    assert_int_equal(waitpid(pid, &st, WNOHANG), 0);   /* still at work */
    double t0 = now();
    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    double secs = now() - t0;
    char *err = sn_test_slurp(sn_test_path("sigterm.txt"));
    printf("ended %.2f s after SIGTERM (%s %d): %s", secs,
           WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), err);
    assert_true(secs < 5.0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    char want[600];   /* msg: one text, or several separated by '|' */
    snprintf(want, sizeof want, "%s", msg);
    bool said = false;
    for (char *m = strtok(want, "|"); m && !said; m = strtok(NULL, "|"))
        said = strstr(err, m) != NULL;
    if (!said)
        fail_msg("none of '%s' in: %s", msg, err);
    free(err);
}

/* SIGTERM while a command loads ends it promptly: a dataset whose labels
 * take about 2 s to check (2^26 rows in compressed 4 MB chunks, read
 * per 65536 rows) is interrupted once it has the file open and ends within 5 s
 * of the signal, exit 1, naming the signal (SIGTERM). */
static void test_sigterm_during_load(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/slowload.h5", sn_test_tmpdir());
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = (hsize_t)1 << 26, xd[2] = { n, 1 }, chunk[2] = { 1 << 20, 1 }, one[2] = { 1 << 20, 1 };
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    H5Pset_deflate(pl, 1);
    hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sx = H5Screate_simple(2, xd, NULL), sy = H5Screate_simple(1, &n, NULL);
    hid_t dx = H5Dcreate2(f, "/train/x", H5T_NATIVE_UINT8, sx, H5P_DEFAULT, pl, H5P_DEFAULT);
    H5Pset_chunk(pl, 1, chunk);
    hid_t dy = H5Dcreate2(f, "/train/y", H5T_NATIVE_INT32, sy, H5P_DEFAULT, pl, H5P_DEFAULT);
    int32_t *zero = calloc(one[0], sizeof *zero);
    hid_t mx = H5Screate_simple(2, one, NULL), my = H5Screate_simple(1, one, NULL);
    for (hsize_t at = 0; at < n; at += one[0]) {
        hsize_t start[2] = { at, 0 };
        H5Sselect_hyperslab(sx, H5S_SELECT_SET, start, NULL, one, NULL);
        H5Sselect_hyperslab(sy, H5S_SELECT_SET, start, NULL, one, NULL);
        H5Dwrite(dx, H5T_NATIVE_UINT8, mx, sx, H5P_DEFAULT, zero);
        H5Dwrite(dy, H5T_NATIVE_INT32, my, sy, H5P_DEFAULT, zero);
    }
    free(zero);
    H5Sclose(mx);
    H5Sclose(my);
    H5Dclose(dx);
    H5Dclose(dy);
    H5Sclose(sx);
    H5Sclose(sy);
    H5Gclose(g);
    H5Pclose(pl);
    H5Fclose(f);
    write_text("../m1.cfg", "[net]\ninput = 1\nbatch = 24\n[dense]\nunits = 2\n");
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "exec \"$SN_BIN\" train --model %s/../m1.cfg --data %s --steps 1 "
             "--cache-mb 0 --quiet", fx, path);
    stopped_by_sigterm(cmd, "interrupted by SIGTERM while", "/slowload.h5");
    remove(path);
}

/* A data file of zeros, 8 features: ntrain rows in /train, ntest in /test. */
static void zeros_dataset(const char *path, size_t ntrain, size_t ntest)
{
    size_t most = ntrain > ntest ? ntrain : ntest;
    float *x = calloc(most * 8, sizeof *x);
    int32_t *y = calloc(most, sizeof *y);
    struct sn_h5 *f;
    assert_int_equal(sn_h5_create(path, &f), SN_OK);
    size_t dtr[2] = { ntrain, 8 }, dte[2] = { ntest, 8 };
    assert_int_equal(sn_h5_write(f, "/train/x", 2, dtr, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/train/y", 1, &ntrain, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/x", 2, dte, SN_H5_F32, x), SN_OK);
    assert_int_equal(sn_h5_write(f, "/test/y", 1, &ntest, SN_H5_I32, y), SN_OK);
    assert_int_equal(sn_h5_close(f), SN_OK);
    free(x);
    free(y);
}

/* The slow evaluation: 1,000,000 test rows (data) through two 2048-unit
 * layers (weights w), far more work than any wait below.  The weights are
 * trained for one step on a small file, so that training's own test pass
 * stays short. */
static void slow_eval_fixture(char *data, char *w, size_t len)
{
    char cfg[1200], small[1200];
    snprintf(data, len, "%s/slow.h5", sn_test_tmpdir());
    snprintf(small, sizeof small, "%s/slow_small.h5", sn_test_tmpdir());
    snprintf(cfg, sizeof cfg, "%s/slow.cfg", sn_test_tmpdir());
    snprintf(w, len, "%s/slow_w.h5", sn_test_tmpdir());
    if (access(w, F_OK) == 0)
        return;
    zeros_dataset(data, 480, 1000000);
    zeros_dataset(small, 480, 480);
    FILE *c = fopen(cfg, "w");
    assert_non_null(c);
    fputs("[net]\ninput = 8\nbatch = 24\n[dense]\nunits = 2048\nactivation = relu\n"
          "[dense]\nunits = 2048\nactivation = relu\n[dense]\nunits = 3\n", c);
    fclose(c);
    assert_int_equal(sn_test_run(BIN " train --model %s --data %s --steps 1 --out %s --quiet",
                                 cfg, small, w), 0);
}

/* SIGTERM to eval and predict while they compute (2 s into the slow
 * evaluation) ends them within 5 s, exit 1, saying so; predict writes
 * nothing. */
static void test_sigterm_during_eval_and_predict(void **state)
{
    (void)state;
    char data[1200], w[1200], out[1200];
    slow_eval_fixture(data, w, sizeof data);
    snprintf(out, sizeof out, "%s/slow.csv", sn_test_tmpdir());
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "exec \"$SN_BIN\" eval --weights %s --data %s", w, data);
    /* 2 s in, a slow machine (make sanitize, a loaded one) may still be
     * reading the weights or checking the labels */
    stopped_by_sigterm(cmd, "interrupted by SIGTERM while evaluating: no result, nothing written|"
                            "interrupted by SIGTERM while checking the labels|"
                            "interrupted by SIGTERM while reading the weights", NULL);
    snprintf(cmd, sizeof cmd, "exec \"$SN_BIN\" predict --weights %s --input %s -o %s", w, data,
             out);
    stopped_by_sigterm(cmd, "interrupted by SIGTERM while predicting, after |"
                            "interrupted by SIGTERM while checking the HDF5 file|"
                            "interrupted by SIGTERM while reading the weights", NULL);
    assert_int_not_equal(access(out, F_OK), 0);
}

/* Runs `verb args` (args naming w, a file of the command line) at 2
 * ranks, sends SIGTERM to rank 1's process (not mpirun) 2 s in, and checks
 * that the job ends within limit_ms, exit 1, with one of the messages msgs
 * (NULL-ended). */
static void sigterm_rank1(const char *verb, const char *args, const char *w,
                          const char *const *msgs, long limit_ms)
{
    int rc = sn_test_run(
        "timeout 120 %s -np 2 " BIN " %s %s & job=$!; "
        "for i in $(seq 600); do [ $(pgrep -fc '^[^ ]*scratchnet %s .*%s') = 2 ] && break; "
        "sleep 0.1; done; sleep 2; pid=$(pgrep -f '^[^ ]*scratchnet %s .*%s' | tail -n 1); "
        "[ -n \"$pid\" ] || { kill $job; wait $job; exit 99; }; "
        "start=$(date +%%s%%N); kill -TERM $pid; wait $job; st=$?; "
        "echo $(( ($(date +%%s%%N) - start) / 1000000 )) > %s/ms; exit $st",
        mpirun(), verb, args, verb, w, verb, w, sn_test_tmpdir());
    char path[1200];
    snprintf(path, sizeof path, "%s/ms", sn_test_tmpdir());
    char *ms = sn_test_slurp(path), *err = sn_test_slurp(sn_test_path("err.txt"));
    long took = ms ? atol(ms) : -1;
    printf("%s ended %ld ms after SIGTERM to rank 1: exit %d\n", verb, took, rc);
    bool said = false;
    for (int k = 0; msgs[k]; k++)
        said |= strstr(err, msgs[k]) != NULL;
    if (rc != 1 || took < 0 || took >= limit_ms || !said)
        fail_msg("%s: exit %d (want 1) after %ld ms (want < %ld): %s", verb, rc, took, limit_ms,
                 err);
    free(ms);
    free(err);
}

/* convert subset of a split larger than its memory budget (half of the
 * address space here: 300 rows of 1 MiB, stored as one deflated chunk of
 * zeros each, under a 1 GiB limit): refused before reading, not grown
 * until the kernel ends it (14.9 GB resident from a 60 MB file).  Not
 * under make sanitize, which runs without the limit. */
static void test_subset_past_memory_budget(void **state)
{
    (void)state;
    if (getenv("SN_SANITIZE"))
        skip();
    char path[1100];
    snprintf(path, sizeof path, "%s/widesub.h5", fx);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t xd[2] = { 300, 1 << 20 }, chunk[2] = { 1, 1 << 20 }, yd = 300;
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 2, chunk);
    H5Pset_deflate(pl, 1);
    hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sx = H5Screate_simple(2, xd, NULL), sy = H5Screate_simple(1, &yd, NULL);
    hid_t dx = H5Dcreate2(f, "/train/x", H5T_NATIVE_UINT8, sx, H5P_DEFAULT, pl, H5P_DEFAULT);
    hid_t dy = H5Dcreate2(f, "/train/y", H5T_NATIVE_INT32, sy, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    int32_t y[300];
    for (int i = 0; i < 300; i++)
        y[i] = i % 2;
    assert_true(H5Dwrite(dy, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0);
    uint8_t *zero = calloc(1 << 20, 1), *packed = malloc(compressBound(1 << 20));
    uLongf len = compressBound(1 << 20);
    assert_true(zero && packed);
    assert_int_equal(compress2(packed, &len, zero, 1 << 20, 1), Z_OK);
    for (hsize_t r = 0; r < 300; r++)
        assert_true(H5Dwrite_chunk(dx, H5P_DEFAULT, 0, (hsize_t[2]){ r, 0 }, len, packed) >= 0);
    free(zero);
    free(packed);
    H5Dclose(dx);
    H5Dclose(dy);
    H5Sclose(sx);
    H5Sclose(sy);
    H5Gclose(g);
    H5Pclose(pl);
    H5Fclose(f);
    int rc = sn_test_run("cd %s && ulimit -v 1048576 && " BIN " convert subset widesub.h5 "
                         "--classes 0 --per-class 1 -o widesub_out.h5", fx);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    if (rc != 2 || !strstr(err, "widesub.h5: convert subset holds its splits in memory (315 MB, "
                                "and up to 315 MB more for the rows kept), more than the 537 MB"))
        fail_msg("exit %d: %s", rc, err);
    free(err);
    remove(path);
}

/* SIGTERM to one rank of a 2-rank eval, 2 s into the slow evaluation: the
 * ranks agree on a stop after every batch, so the whole job ends (a rank
 * that went on alone ended 43 s after it), one line naming the signal.
 * On a loaded machine (make sanitize beside other jobs) the signal can
 * come while the ranks still read the weights, check the labels, or the
 * HDF5 file in the probe's child: those stops end the job too and name
 * their phase. */
static void test_sigterm_one_rank_of_eval(void **state)
{
    (void)state;
    char data[1200], w[1200], args[2600];
    slow_eval_fixture(data, w, sizeof data);
    snprintf(args, sizeof args, "--weights %s --data %s --threads 1", w, data);
    static const char *const msgs[] = {
        "interrupted by SIGTERM while evaluating: no result, nothing written",
        "interrupted by SIGTERM while checking the labels",
        "interrupted by SIGTERM while checking the HDF5 file",
        "interrupted by SIGTERM while reading the weights", NULL
    };
    sigterm_rank1("eval", args, w, msgs, 15000);   /* a margin for a loaded machine */
}

/* The same for predict, where rank 0 does the work and rank 1 waits for
 * it: the waiting rank passes its stop to rank 0, which stops at its next
 * batch and says so, once (rank 0 predicted on for 30 s to exit 0 when
 * the stop was swallowed; rank 1 said "nothing written" and aborted the
 * job when rank 0 may have written); nothing is written. */
static void test_sigterm_waiting_rank_of_predict(void **state)
{
    (void)state;
    char data[1200], w[1200], args[4000], out[1200];
    slow_eval_fixture(data, w, sizeof data);
    snprintf(out, sizeof out, "%s/rank1_stop.h5", sn_test_tmpdir());
    snprintf(args, sizeof args, "--weights %s --input %s -o %s", w, data, out);
    static const char *const msgs[] = {
        "scratchnet: interrupted by SIGTERM while predicting, after ",
        "scratchnet: interrupted by SIGTERM while checking the HDF5 file",
        "scratchnet: interrupted by SIGTERM while reading the weights", NULL
    };
    sigterm_rank1("predict", args, w, msgs, 15000);
    assert_int_not_equal(access(out, F_OK), 0);
}

/* SIGTERM to one rank while both check an HDF5 file that libhdf5 spins on
 * (spin2.h5: each rank's probe child runs to its 8 s CPU limit): rank 1's
 * stop reaches rank 0's probe at its next look, and the job ends naming
 * the signal (rank 0 probed on for 7-30 s, and the job reported the file).
 * 6 s: a stop that waited for rank 0's probe took 7 s or more. */
static void test_sigterm_one_rank_of_train_probe(void **state)
{
    (void)state;
    char data[1200], args[2600];
    snprintf(data, sizeof data, "%s/spin2.h5", fx);
    snprintf(args, sizeof args, "--model %s/m.cfg --data %s --batch 6 --threads 1", fx, data);
    static const char *const msgs[] = {
        "interrupted by SIGTERM while checking the HDF5 file, before the first step", NULL
    };
    sigterm_rank1("train", args, data, msgs, 6000);
}

/* The command args run in the fixtures with SN_MODEL_MAX_BYTES=limit
 * exits 2 with msg on stderr. */
static void refused_with(const char *limit, const char *args, const char *msg)
{
    int rc = sn_test_run("cd %s && SN_MODEL_MAX_BYTES=%s " BIN " %s", fx, limit, args);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    if (rc != 2 || !strstr(err, msg))
        fail_msg("%s: exit %d (want 2): %s\nwanted: %s", args, rc, err, msg);
    free(err);
}

/* An existing output that a rename may not replace is refused before any
 * work, untouched: chattr +i and +a (as root too), and, for a user other
 * than root, another user's file in a folder with the sticky bit.  Parts
 * the machine cannot set up (a file system without chattr, a build that
 * user cannot run) are said and left out. */

/* An output that is a mount point (a file bound onto its name) cannot be
 * renamed over: refused before any work (a run trained to its end, then
 * lost its weights at the rename, exit 1).  In a mount namespace of its
 * own (as root; left out otherwise). */
static void outputs_on_mount_points(void)
{
    if (sn_test_run("unshare -m true")) {
        printf("unshare -m is not allowed here: the mount point case is left out\n");
        return;
    }
    int rc = sn_test_run("cd %s && echo precious > mnt.h5 && unshare -m sh -c 'mount --bind "
                         "m.cfg mnt.h5 && " BIN " train --model m.cfg --data blobs.h5 --epochs 1 "
                         "--out mnt.h5'", fx);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    if (rc != 2 || !strstr(err, "--out mnt.h5 is a mount point (a file bound onto its name"))
        fail_msg("an --out that is a mount point: exit %d (want 2): %s", rc, err);
    free(err);
    assert_int_equal(sn_test_run("cd %s && grep -qx precious mnt.h5 && rm mnt.h5", fx), 0);
}

/* A file its owner made read-only (mode 444) is kept, as shell redirection
 * keeps it: the output is refused.  Run as a user without root's right to
 * write any file (nobody, through setpriv, when the test runs as root). */
static void test_read_only_output_kept(void **state)
{
    (void)state;
    const char *as = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    char dir[] = "/tmp/sn_ro_XXXXXX";
    assert_non_null(mkdtemp(dir));
    int rc = sn_test_run("chmod 777 %s && cp %s/w.h5 %s/blobs.h5 %s/ && cd %s && chmod 644 w.h5 "
                         "blobs.h5 && printf 'index,pred,p0\\nprecious\\n' > ro.csv && "
                         "chmod 444 ro.csv && "
                         "%s[ ! -w ro.csv ]", dir, fx, fx, dir, dir, as);
    if (rc) {
        printf("no user without write access to a 444 file here: left out\n");
        sn_test_run("rm -rf %s", dir);
        return;
    }
    if (geteuid() == 0)
        assert_int_equal(sn_test_run("chown 65534 %s/ro.csv", dir), 0);
    rc = sn_test_run("cd %s && %s" BIN " predict --weights w.h5 --input blobs.h5 -o ro.csv", dir,
                     as);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, "-o ro.csv is read-only: this output would replace it"));
    free(err);
    assert_int_equal(sn_test_run("cd %s && grep -qx precious ro.csv && [ \"$(stat -c %%a ro.csv)\" "
                                 "= 444 ]", dir), 0);
    sn_test_run("rm -rf %s", dir);
}

/* A user at the process limit (ulimit -u): the HDF5 file's check cannot
 * start its child, which is said with the limit, exit 1, not called a bad
 * file.  As user 65534 (root is not held to it); left out where that user
 * has other processes, which the limit counts too. */
static void test_process_limit_named(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    char dir[] = "/tmp/sn-nproc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(sn_test_run("cp %s/blobs.h5 %s/m.cfg %s && cp %s/blobs.h5 %s/prev.h5 && "
                                 "chmod 777 %s && chmod 666 %s/*", fx, fx, dir, fx, dir, dir, dir),
                     0);
    /* an input; an existing output (not a file to remove first) */
    static const char *const cmds[] = { "info --data blobs.h5",
                                        "train --model m.cfg --data blobs.h5 --out prev.h5" };
    for (int i = 0; i < 2; i++) {
        int rc = sn_test_run("cd %s && prlimit --nproc=1 setpriv --reuid=65534 --regid=65534 "
                             "--clear-groups " BIN " %s", dir, cmds[i]);
        char *err = sn_test_slurp(sn_test_path("err.txt"));
        if (strstr(err, "setpriv")) {
            printf("user 65534 cannot start here (other processes of it?): left out: %s", err);
        } else if (rc != 1 || !strstr(err, ".h5: cannot start the process that checks it: this "
                                           "user's process limit (ulimit -u 1) is reached") ||
                   strstr(err, "remove it first")) {
            fail_msg("%s: exit %d (want 1): %s", cmds[i], rc, err);
        }
        free(err);
    }
    sn_test_run("rm -rf %s", dir);
}

static void test_outputs_not_replaceable(void **state)
{
    (void)state;
    const char *run = "train --model m.cfg --data blobs.h5 --epochs 1 --out";
    for (int k = 0; k < 2; k++) {
        const char *flag = k ? "+a" : "+i";
        if (sn_test_run("cd %s && echo precious > keep.h5 && chattr %s keep.h5", fx, flag)) {
            printf("chattr %s is not supported here: left out\n", flag);
            sn_test_run("cd %s && rm -f keep.h5", fx);
            continue;
        }
        int rc = sn_test_run("cd %s && " BIN " %s keep.h5", fx, run);
        char *err = sn_test_slurp(sn_test_path("err.txt"));
        sn_test_run("cd %s && chattr -%c keep.h5 && grep -qx precious keep.h5 && rm keep.h5", fx,
                    flag[1]);
        if (rc != 2 || !strstr(err, k ? "is append-only (chattr +a)" : "is immutable (chattr +i)"))
            fail_msg("chattr %s: exit %d (want 2): %s", flag, rc, err);
        free(err);
    }
    /* --log is appended to in place: append-only is what it needs */
    if (sn_test_run("cd %s && " BIN " %s lg.h5 --log lg.jsonl && chattr +a lg.jsonl", fx, run) == 0) {
        int rc = sn_test_run("cd %s && " BIN " %s lg.h5 --log lg.jsonl", fx, run);
        sn_test_run("cd %s && chattr -a lg.jsonl", fx);
        assert_int_equal(rc, 0);
        assert_int_equal(sn_test_run("cd %s && test $(wc -l < lg.jsonl) = 2", fx), 0);
    }
    sn_test_run("cd %s && rm -f lg.h5 lg.jsonl", fx);
    char dir[] = "/tmp/sn-sticky-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int rc = sn_test_run("cd %s && cp m.cfg blobs.h5 %s && echo precious > %s/root.h5 && "
                         "chmod 1777 %s && chmod 644 %s/*", fx, dir, dir, dir, dir);
    assert_int_equal(rc, 0);
    if (sn_test_run("setpriv --reuid=65534 --regid=65534 --clear-groups " BIN " --help")) {
        printf("user 65534 cannot run the build here: the sticky folder case is left out\n");
    } else {
        rc = sn_test_run("cd %s && setpriv --reuid=65534 --regid=65534 --clear-groups " BIN
                         " %s root.h5", dir, run);
        char *err = sn_test_slurp(sn_test_path("err.txt"));
        if (rc != 2 || !strstr(err, "root.h5 belongs to root (uid 0) and its folder has the "
                                    "sticky bit"))
            fail_msg("sticky folder: exit %d (want 2): %s", rc, err);
        free(err);
        assert_int_equal(sn_test_run("grep -qx precious %s/root.h5", dir), 0);
    }
    sn_test_run("rm -rf %s", dir);
    outputs_on_mount_points();
}

/* The model budget: info describes a model over it from its layers
 * without allocating them (a 1 G-parameter model within a 1 GiB address
 * space), names the limit and how to raise it; SN_MODEL_MAX_BYTES lowers
 * and raises it and is refused when it is not a number. */
static void test_model_budget(void **state)
{
    (void)state;
    int rc = sn_test_run("cd %s && %s" BIN " info --model bigmodel.cfg", fx, mem_limit());
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc)
        fail_msg("info: exit %d: %s", rc, sn_test_slurp(sn_test_path("err.txt")));
    assert_non_null(strstr(out, "parameters: 1009001000 learnt"));
    assert_non_null(strstr(out, "about 9096 MB"));
    assert_non_null(strstr(out, "over the limit of 4295 MB (SN_MODEL_MAX_BYTES=4294967296)"));
    free(out);
    refused_with("1000", "eval --weights w.h5 --data blobs.h5",
                 "more than the limit of 0.001 MB (SN_MODEL_MAX_BYTES=1000)");
    refused_with("4k", "predict --weights w.h5 --input img.pgm",
                 "SN_MODEL_MAX_BYTES: expected an integer in [1, ");
    rc = sn_test_run("cd %s && SN_MODEL_MAX_BYTES=100000000000 " BIN " info --model bigmodel.cfg",
                     fx);
    out = sn_test_slurp(sn_test_path("out.txt"));
    assert_int_equal(rc, 0);
    assert_null(strstr(out, "over the limit"));
    free(out);
}

/* eval at 2 ranks whose hosts hold different files under one path (here:
 * each rank starts in its own folder, named by the rank variable of Open
 * MPI or of MPICH's hydra): every rank ends with exit 2 and
 * the one error names the rank that differs, both sizes and checksums;
 * the same file everywhere evaluates. */
static void test_eval_ranks_read_same_weights(void **state)
{
    (void)state;
    const char *t = sn_test_tmpdir();
    assert_int_equal(sn_test_run("cd %s && mkdir -p same/r0 same/r1 differ/r0 differ/r1 && "
                                 "cp %s/w.h5 same/r0/w.h5 && cp %s/w.h5 same/r1/w.h5 && "
                                 "cp %s/w.h5 differ/r0/w.h5 && cp %s/ck.h5 differ/r1/w.h5",
                                 t, fx, fx, fx, fx), 0);
    for (int differ = 0; differ < 2; differ++) {
        int rc = sn_test_run("cd %s/%s && timeout 120 %s -np 2 sh -c 'cd r${OMPI_COMM_WORLD_RANK:-$PMI_RANK} && "
                             "exec \"$SN_BIN\" eval --weights w.h5 --data %s/blobs.h5'", t,
                             differ ? "differ" : "same", mpirun(), fx);
        char *err = sn_test_slurp(sn_test_path("err.txt"));
        int lines = 0;
        for (const char *p = err; (p = strstr(p, "scratchnet: error:")); p++)
            lines++;
        if (rc != (differ ? 2 : 0))
            fail_msg("%s: exit %d: %s", differ ? "differ" : "same", rc, err);
        if (differ) {
            assert_int_equal(lines, 1);
            assert_non_null(strstr(err, "w.h5: rank 1 reads another weights file than rank 0 ("));
            assert_non_null(strstr(err, "a different file at this path on rank 1's host, "));
        }
        free(err);
    }
    /* a model file of other text on rank 1's host, the command the same:
     * not called an MPMD launch */
    assert_int_equal(sn_test_run("cd %s/differ && cp %s/m.cfg r0/m.cfg && printf '[net]\\ninput = "
                                 "8\\n[dense]\\nunits = 3\\n' > r1/m.cfg", t, fx), 0);
    int rc = sn_test_run("cd %s/differ && timeout 120 %s -np 2 sh -c 'cd r${OMPI_COMM_WORLD_RANK:-"
                         "$PMI_RANK} && exec \"$SN_BIN\" train --model m.cfg --data %s/blobs.h5 "
                         "--steps 1 --out %s/differ/never.h5'", t, mpirun(), fx, t);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    if (rc != 2 || !strstr(err, "the model file differs on rank 1 (") ||
        !strstr(err, "a different file at this path on rank 1's host, "))
        fail_msg("a model file of other text on rank 1: exit %d: %s", rc, err);
    free(err);
}

/* Ranks in different folders read different data under one path (one
 * label changed: same size, same shapes): train and eval refuse on every
 * rank, naming rank 1, instead of a result from two datasets.  Row 5 is
 * among the rows the fingerprint samples; row 2 is not, and train, which
 * holds the data in memory, compares all of it. */
static void test_ranks_read_same_data(void **state)
{
    (void)state;
    const char *t = sn_test_tmpdir();
    static const struct {
        int row;
        const char *cmd, *want;
    } cases[] = {
        { 5, "eval --weights %s/w.h5 --data blobs.h5", "rank 1 reads other data than rank 0" },
        { 5, "train --model %s/m.cfg --data blobs.h5 --steps 2 --quiet",
          "rank 1 reads other data than rank 0" },
        { 2, "train --model %s/m.cfg --data blobs.h5 --steps 2 --quiet",
          "rank 1 holds other data in memory than rank 0" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        assert_int_equal(sn_test_run("cd %s && rm -rf data && mkdir -p data/r0 data/r1", t), 0);
        for (int r = 0; r < 2; r++) {
            char path[512];
            snprintf(path, sizeof path, "%s/data/r%d/blobs.h5", t, r);
            sn_test_write_blobs(path, (struct sn_test_blobs){ .set_label5 = true, .label5 = r,
                                                              .label_row = cases[c].row });
        }
        char cmd[512];
        snprintf(cmd, sizeof cmd, cases[c].cmd, fx);
        int rc = sn_test_run("cd %s/data && timeout 120 %s -np 2 sh -c 'cd r${OMPI_COMM_WORLD_RANK:-$PMI_RANK} "
                             "&& exec \"$SN_BIN\" %s'", t, mpirun(), cmd);
        char *err = sn_test_slurp(sn_test_path("err.txt"));
        int lines = 0;
        for (const char *p = err; (p = strstr(p, "scratchnet: error:")); p++)
            lines++;
        if (rc != 2 || lines != 1 || !strstr(err, cases[c].want))
            fail_msg("row %d, %s: exit %d (want 2), %d error lines (want 1): %s", cases[c].row,
                     cmd, rc, lines, err);
        free(err);
    }
}

/* A bad SN_DIST_FAKE_HOSTS, refused while MPI starts, is agreed over the
 * ranks: exit 2, one error line for the job (not one per rank).  The
 * variable is set through env(1), which every launcher runs (Open MPI's
 * -x has no MPICH spelling). */
static void test_fake_hosts_said_once(void **state)
{
    (void)state;
    int rc = sn_test_run("cd %s && timeout 120 %s -np 2 env SN_DIST_FAKE_HOSTS=0 " BIN
                         " eval --weights w.h5 --data blobs.h5", fx, mpirun());
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    int lines = 0;
    for (const char *p = err; (p = strstr(p, "scratchnet: error:")); p++)
        lines++;
    if (rc != 2 || lines != 1 || !strstr(err, "SN_DIST_FAKE_HOSTS='0': a whole number of hosts"))
        fail_msg("exit %d (want 2), %d error lines (want 1): %s", rc, lines, err);
    free(err);
}

/* --init loads a layer whole or not at all: a file holding dense0's bias
 * but not its weight leaves dense0 fresh and names it; dense1 is loaded. */
static void test_init_loads_whole_layers(void **state)
{
    (void)state;
    int rc = sn_test_run("cd %s && " BIN " train --model m.cfg --data blobs.h5 --init whalf.h5 "
                         "--steps 1 --threads 1 --out whalf_out.h5", fx);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc != 0 || !strstr(out, "init: 2 parameter arrays from whalf.h5; re-initialised (the "
                                "file holds them in other shapes or in part): dense0"))
        fail_msg("exit %d: %s", rc, out);
    free(out);
}

/* Every line a command prints is cleaned like its error lines: an output
 * name holding a terminal sequence is shown with '?' in "wrote NAME". */
static void test_printed_names_are_clean(void **state)
{
    (void)state;
    int rc = sn_test_run("cd %s && " BIN " predict --weights w.h5 --input blobs.h5 "
                         "-o \"$(printf 'p\\033]0;t\\007.csv')\"", fx);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc != 0 || strchr(out, 0x1b) || strchr(out, 0x07) || !strstr(out, "wrote p?]0;t?.csv"))
        fail_msg("exit %d: %s", rc, out);
    free(out);
    /* train's lines never wait for a reader (progress.c): cleaned there too */
    rc = sn_test_run("cd %s && " BIN " train --model m.cfg --data blobs.h5 --steps 2 "
                     "--out \"$(printf 'q\\033]0;t\\007.h5')\"", fx);
    out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc != 0 || strchr(out, 0x1b) || strchr(out, 0x07) || !strstr(out, "wrote q?]0;t?.h5"))
        fail_msg("train: exit %d: %s", rc, out);
    free(out);
}

/* SN_DIST_FAKE_HOSTS set on rank 1 only (an MPMD launch): the ranks
 * would build their hosts by different collectives and wait forever;
 * they compare it first and refuse together, naming rank 1. */
static void test_fake_hosts_on_one_rank(void **state)
{
    (void)state;
    int rc = sn_test_run("cd %s && timeout 120 %s -np 1 " BIN " eval --weights w.h5 --data "
                         "blobs.h5 : -np 1 env SN_DIST_FAKE_HOSTS=5 " BIN " eval --weights w.h5 "
                         "--data blobs.h5", fx, mpirun());
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    int lines = 0;
    for (const char *p = err; (p = strstr(p, "scratchnet: error:")); p++)
        lines++;
    if (rc != 2 || lines != 1 ||
        !strstr(err, "SN_DIST_FAKE_HOSTS differs over the ranks: unset on rank 0, 5 on rank 1"))
        fail_msg("exit %d (want 2), %d error lines (want 1): %s", rc, lines, err);
    free(err);
}

static int setup(void **state)
{
    (void)state;
    if (sn_test_use_bin() != 0)   /* absolute: the runs cd into the fixtures */
        return -1;
    snprintf(fx, sizeof fx, "%s/fx", sn_test_tmpdir());
    if (mkdir(fx, 0777) != 0)
        return -1;
    make_fixtures();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_bad_input),
        cmocka_unit_test(test_hostile_names_draw_safely),
        cmocka_unit_test(test_sigterm_during_load),
        cmocka_unit_test(test_sigterm_during_eval_and_predict),
        cmocka_unit_test(test_subset_past_memory_budget),
        cmocka_unit_test(test_sigterm_one_rank_of_eval),
        cmocka_unit_test(test_sigterm_waiting_rank_of_predict),
        cmocka_unit_test(test_sigterm_one_rank_of_train_probe),
        cmocka_unit_test(test_model_budget),
        cmocka_unit_test(test_eval_ranks_read_same_weights),
        cmocka_unit_test(test_fake_hosts_said_once),
        cmocka_unit_test(test_ranks_read_same_data),
        cmocka_unit_test(test_fake_hosts_on_one_rank),
        cmocka_unit_test(test_outputs_not_replaceable),
        cmocka_unit_test(test_process_limit_named),
        cmocka_unit_test(test_read_only_output_kept),
        cmocka_unit_test(test_init_loads_whole_layers),
        cmocka_unit_test(test_printed_names_are_clean),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
