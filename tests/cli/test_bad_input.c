/* test_bad_input: every row of tests/cli/bad_inputs.md, run for real.
 *
 * Each row names a command, the rank counts to run it at and the message it
 * must print.  Every run must exit 2, print exactly one error line holding
 * the message, end within 60 s and leave every file of the fixture folder as
 * it was (the out.* files hold "precious"; no file appears or changes). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "io/h5.h"

#define BIN SN_TEST_BIN
#define TABLE "tests/cli/bad_inputs.md"

static const char *mpirun(void)
{
    const char *m = getenv("SN_MPIRUN");
    return m ? m : "mpirun --oversubscribe";
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

static const char m_cfg[] =
    "[net]\ninput = 8\nbatch = 24\nepochs = 3\nloss = cross_entropy\noptimizer = sgd\n"
    "lr = 0.05\nmomentum = 0.9\nseed = 3\n"
    "[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n";

static void make_fixtures(void)
{
    write_text("m.cfg", m_cfg);
    write_text("other.cfg", "[net]\ninput = 8\nbatch = 24\noptimizer = sgd\nmomentum = 0.9\n"
                            "seed = 3\n[dense]\nunits = 5\n[dense]\nunits = 3\n");
    write_text("wide.cfg", "[net]\ninput = 10\n[dense]\nunits = 3\n");
    write_text("badkey.cfg", "[net]\ninput = 8\n[dense]\nunits = 3\nunitz = 4\n");
    write_text("empty.cfg", "");
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
    write_text("img.cfg", "[net]\ninput = 1,2,4\nbatch = 24\n[conv]\nfilters = 2\nsize = 1\n"
                          "[flatten]\n[dense]\nunits = 3\n");
    write_text("notcfg.h5", "hello");
    write_text("notimage.png", "this is not a picture");
    write_text("badlog.jsonl", "{\"epoch\": 1, \"train_loss\": 0.5}\nnot json\n");

    sn_test_write_blobs(fx_path("blobs.h5"), (struct sn_test_blobs){ 0 });
    sn_test_write_blobs(fx_path("images.h5"), (struct sn_test_blobs){ .image = true });
    sn_test_write_blobs(fx_path("label3.h5"), (struct sn_test_blobs){ .label_shift = 1 });
    sn_test_write_blobs(fx_path("negative.h5"), (struct sn_test_blobs){ .set_label5 = true, .label5 = -1 });
    sn_test_write_blobs(fx_path("noy.h5"), (struct sn_test_blobs){ .no_y = true });
    sn_test_write_blobs(fx_path("rows.h5"), (struct sn_test_blobs){ .y_rows = 400 });
    sn_test_write_blobs(fx_path("testshape.h5"), (struct sn_test_blobs){ .test_f = 9 });
    sn_test_write_blobs(fx_path("floaty.h5"), (struct sn_test_blobs){ .float_y = true });
    sn_test_write_blobs(fx_path("nan.h5"), (struct sn_test_blobs){ .nan_row7 = true });
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

    assert_int_equal(mkdir(fx_path("sub"), 0777), 0);
    assert_int_equal(mkdir(fx_path("classes"), 0777), 0);
    assert_int_equal(mkdir(fx_path("classes/cat"), 0777), 0);
    write_text("classes/cat/a.png", "not a png");

    /* weights and checkpoints the commands make themselves */
    assert_int_equal(sn_test_run("cd %s && " BIN " train --model m.cfg --data blobs.h5 --steps 3 "
                                 "--out w.h5 --checkpoint-dir ck --quiet && cp ck/ckpt-00000003.h5 ck.h5 && "
                                 "rm -r ck && " BIN " train --model img.cfg --data images.h5 --steps 2 "
                                 "--out wimg.h5 --quiet", fx), 0);
    struct stat st;
    assert_int_equal(stat(fx_path("ck.h5"), &st), 0);
    assert_int_equal(sn_test_run("cd %s && head -c %lld ck.h5 > trunc.h5 && cp ck.h5 flip.h5", fx,
                                 (long long)st.st_size / 2), 0);
    FILE *f = fopen(fx_path("flip.h5"), "r+b");
    assert_non_null(f);
    fseek(f, (long)st.st_size - 100, SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)st.st_size - 100, SEEK_SET);
    fputc(c ^ 0xff, f);
    fclose(f);
}

static const char *outs[] = { "out.h5", "out.csv", "out.png", "out.jsonl" };

/* The names and checksums of every file under the fixture folder. */
static char *snapshot(void)
{
    assert_int_equal(sn_test_run("cd %s && find . -type f -o -type d | sort | "
                                 "while read f; do if [ -f \"$f\" ]; then md5sum \"$f\"; else echo \"dir $f\"; fi; done",
                                 fx), 0);
    return sn_test_slurp(sn_test_path("out.txt"));
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

static int run_row(const struct row *r, int np, const char *before)
{
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        write_text(outs[i], "precious");
    int rc = np == 1 ? sn_test_run("cd %s && timeout 60 " BIN " %s", fx, r->cmd)
                     : sn_test_run("cd %s && timeout 60 %s -np %d " BIN " %s", fx, mpirun(), np, r->cmd);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    int lines = 0;
    for (const char *p = err; (p = strstr(p, "scratchnet: error:")); p++)
        lines++;
    char *after = snapshot();
    bool ok = rc == 2 && strstr(err, r->msg) && lines == 1 && strcmp(before, after) == 0;
    if (!ok)
        fprintf(stderr, "row %d at %d rank(s): %s\n  exit %d (want 2), %d error lines (want 1), "
                "files %s\n  wanted: %s\n  stderr:\n%s\n", r->num, np, r->cmd, rc, lines,
                strcmp(before, after) ? "CHANGED" : "unchanged", r->msg, err);
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
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++)
        write_text(outs[i], "precious");
    char *before = snapshot();
    char line[2048];
    int rows = 0, runs = 0, failed = 0, last = 0;
    bool all = getenv("SN_BAD_INPUT_ALL") && atoi(getenv("SN_BAD_INPUT_ALL"));
    while (fgets(line, sizeof line, t)) {
        struct row r;
        if (!parse_row(line, &r))
            continue;
        assert_int_equal(r.num, last + 1);   /* numbered in order, none lost */
        last = r.num;
        rows++;
        /* every row at its first rank count; the others for every third row
         * (all of them with SN_BAD_INPUT_ALL=1, as make faults does) */
        for (int k = 0; k < r.n_ranks; k++)
            if (k == 0 || all || r.num % 3 == 0) {
                failed += run_row(&r, r.ranks[k], before);
                runs++;
            }
    }
    fclose(t);
    free(before);
    printf("%d bad inputs, %d runs, %d failed\n", rows, runs, failed);
    assert_true(rows >= 40);
    assert_int_equal(failed, 0);
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
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
