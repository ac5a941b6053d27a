/* test_reducer_mpi: the reducer's strategies for several hosts, run as 1,
 * 2, 3 and 4 ranks by tests/run.sh, the hosts faked on this machine
 * (sn_dist_fake_hosts: K blocks of consecutive ranks, each with its own
 * window and leader):
 *   - hier against a sum made by hand and against the flat strategies at
 *     the same placement: the same bits where the order of the additions
 *     is the same, within float rounding where it must differ;
 *   - --compress against the compressed allreduce made by hand (rounding
 *     each contribution plus its residual, summing in float, the mean's
 *     own rounding and residual), over several steps, for the flat and
 *     hier strategies, and its bytes: half the float allreduce's;
 *   - the residuals through a checkpoint's arrays, and resume with them:
 *     a stopped and resumed compressed run ends bit for bit where an
 *     uninterrupted one does;
 *   - training: hier's parameters against flat's at 2 fake hosts.
 * Every rank computes every rank's gradients (a formula of rank, step and
 * index), so each can make the reference alone. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/half.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "dist/dist.h"
#include "io/ckpt.h"
#include "io/dataset.h"
#include "io/h5.h"
#include "io/modelfile.h"
#include "train/reducer.h"
#include "train/trainer.h"

/* 485 parameters; buckets of 64 floats cut them into 4 (whole
 * parameters, last first). */
static const char small_cfg[] = "[net]\ninput = 6\nbatch = 12\n[dense]\nunits = 40\n"
                                "[dense]\nunits = 5\n";

enum { MAXP = 8, STEPS = 3 };

/* Rank q's gradient i at step s: magnitudes from 2^-30 (below fp16's
 * smallest subnormal) to 2^13 (a sum over 4 ranks stays below fp16's
 * largest finite value), both signs, so that sums and roundings lose
 * different bits everywhere. */
static float grad(int q, int s, size_t i)
{
    int k = (int)((i * 7 + (size_t)q * 13 + (size_t)s * 5) % 101) - 50;
    return ldexpf((float)k * (1.0f + 0.37f * (float)q) + 0.011f * (float)s,
                  (int)(i % 37) - 30);
}

struct rig {
    struct sn_netcfg net;
    struct sn_model *m;
    struct sn_reducer *red;
};

static void rig_make(struct rig *g, enum sn_allreduce mode, enum sn_half compress)
{
    struct sn_rng rng;
    sn_rng_seed(&rng, 1, 2);
    assert_int_equal(sn_modelfile_parse(small_cfg, "small.cfg", &g->net, &g->m), SN_OK);
    assert_int_equal(sn_model_build(g->m, 4, &rng), SN_OK);
    struct sn_reducer_cfg c = { .mode = mode, .compress = compress, .overlap = true,
                                .bucket_floats = 64 };
    assert_int_equal(sn_reducer_create(&c, g->m, &g->red), SN_OK);
}

static void rig_free(struct rig *g)
{
    sn_model_destroy(g->m);
    sn_reducer_destroy(g->red);
}

/* One step: this rank's gradients of step s, backward's reports from the
 * last parameter to the first, the reduction; the mean into out (n +
 * SN_REDUCE_CTRL floats). */
static void rig_step(struct rig *g, int s, float *out)
{
    const struct sn_model *m = g->m;
    const int me = sn_dist_rank(), P = sn_dist_size();
    for (size_t i = 0; i < m->n_params; i++)
        m->grads[i] = grad(me, s, i);
    const float ctrl[SN_REDUCE_CTRL] = { me == P - 1 ? 1.0f : 0.0f, 0.0f };
    sn_reducer_begin(g->red, ctrl);
    for (int l = m->n_layers - 1; l >= 0; l--)
        for (int p = m->layers[l]->n_params - 1; p >= 0; p--)
            sn_reducer_ready(g->red, m->layers[l]->params[p].offset);
    struct sn_reduced red;
    assert_int_equal(sn_reducer_finish(g->red, &red), SN_OK);
    assert_int_equal(sn_reducer_after_update(g->red, m->params), SN_OK);
    memcpy(out, m->grads, m->n_params * sizeof *out);
    memcpy(out + m->n_params, red.ctrl, sizeof red.ctrl);
}

/* The placement of K fake hosts: rank q's host. */
static int host_of(int q, int K)
{
    const int P = sn_dist_size();
    return q * (K < P ? K : P) / P;
}

/* By hand, the mean of step s on K hosts of consecutive ranks: each
 * host's ranks added in rank order; floats: the host sums added in host
 * order (the order MPI cannot change for one or two hosts); compressed
 * (kind): each host sum plus its residual rounded (resid: K rows of n),
 * those added in host order, times 1/P, plus the mean's residual
 * (resid_mean, n), rounded.  Control words: their sum times 1/P. */
static void by_hand(int K, enum sn_half kind, int s, size_t n, float *resid, float *resid_mean,
                    float *out)
{
    const int P = sn_dist_size(), H = K < P ? K : P;
    const float inv = 1.0f / (float)P;
    for (size_t i = 0; i < n; i++) {
        float hs[MAXP] = { 0 };
        for (int h = 0; h < H; h++) {
            int first = 1;
            for (int q = 0; q < P; q++)
                if (host_of(q, K) == h) {
                    hs[h] = first ? grad(q, s, i) : hs[h] + grad(q, s, i);
                    first = 0;
                }
        }
        if (kind == SN_HALF_NONE || H == 1) {
            float sum = hs[0];
            for (int h = 1; h < H; h++)
                sum += hs[h];
            out[i] = sum * inv;
            continue;
        }
        float sum = 0.0f;
        for (int h = 0; h < H; h++) {
            float v = hs[h] + resid[(size_t)h * n + i];
            float c = sn_half_to_f32(kind, sn_half_from_f32(kind, v));
            resid[(size_t)h * n + i] = v - c;
            sum = h ? sum + c : c;
        }
        float v = sum * inv + resid_mean[i];
        out[i] = sn_half_to_f32(kind, sn_half_from_f32(kind, v));
        resid_mean[i] = v - out[i];
    }
    out[n] = inv;   /* one rank's stop word */
    out[n + 1] = 0.0f;
}

/* Every rank holds rank 0's bits of buf. */
static void assert_same_everywhere(const float *buf, size_t n)
{
    float *root = malloc(n * sizeof *root);
    memcpy(root, buf, n * sizeof *root);
    assert_int_equal(sn_dist_bcast(root, n * sizeof *root, 0), SN_OK);
    assert_memory_equal(buf, root, n * sizeof *root);
    free(root);
}

/* hier at K = 1, 2 and P fake hosts, three steps: the same bits as the
 * hand-made sum where it fixes the order (one or two hosts: the shared
 * strategy's rank order for one, host 0's sum plus host 1's for two), as
 * the flat allreduce at one rank per host (the leaders are every rank:
 * the same MPI_Iallreduce over the same count), and as the shared
 * strategy at one host.  Elsewhere (3 or 4 ranks on 2 hosts) the flat
 * allreduce adds the P values in the association its algorithm chooses
 * (Open MPI's recursive doubling pairs ranks 0+1 and 2+3, its ring for
 * large counts adds around the ring) while hier adds each host's first:
 * there the two agree to float rounding, asserted at 1e-6 of the largest
 * summand's size (the sums are of P values: a few ulps).  Every rank
 * holds the same bits, control words included. */
static void test_reducer_hier_same_bits(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    assert_true(P <= MAXP);
    const int Ks[3] = { 1, 2, P };
    for (int k = 0; k < 3; k++) {
        const int K = Ks[k], H = K < P ? K : P;
        assert_int_equal(sn_dist_fake_hosts(K), SN_OK);
        struct rig hier, flat;
        rig_make(&hier, SN_ALLREDUCE_HIER, SN_HALF_NONE);
        rig_make(&flat, SN_ALLREDUCE_FLAT, SN_HALF_NONE);
        assert_string_equal(sn_reducer_name(hier.red), "hier");
        assert_string_equal(sn_reducer_name(flat.red),
                            H == 1 && P > 1 ? "shared" : "buckets");
        const size_t n = hier.m->n_params, len = n + SN_REDUCE_CTRL;
        float *a = malloc(len * sizeof *a), *b = malloc(len * sizeof *b),
              *want = malloc(len * sizeof *want);
        for (int s = 0; s < STEPS; s++) {
            rig_step(&hier, s, a);
            rig_step(&flat, s, b);
            assert_same_everywhere(a, len);
            if (H <= 2) {
                by_hand(K, SN_HALF_NONE, s, n, NULL, NULL, want);
                assert_memory_equal(a, want, len * sizeof *a);
            }
            if (H == 1 || H == P || P <= 2) {
                assert_memory_equal(a, b, len * sizeof *a);
            } else {
                for (size_t i = 0; i < n; i++)
                    assert_true(fabsf(a[i] - b[i]) <= 1e-6f * fabsf(grad(P - 1, s, i)) * 4.0f);
            }
        }
        free(a);
        free(b);
        free(want);
        rig_free(&hier);
        rig_free(&flat);
    }
    assert_int_equal(sn_dist_fake_hosts(0), SN_OK);
}

/* auto takes hier only across hosts with more than one rank on some. */
static void test_reducer_auto_choice(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    const int Ks[3] = { 1, 2, P };
    for (int k = 0; k < 3; k++) {
        const int H = Ks[k] < P ? Ks[k] : P;
        assert_int_equal(sn_dist_fake_hosts(Ks[k]), SN_OK);
        struct rig g;
        rig_make(&g, SN_ALLREDUCE_AUTO, SN_HALF_NONE);
        const char *want = H == 1 ? (P > 1 ? "shared" : "buckets")
                           : H < P ? "hier" : "buckets";
        assert_string_equal(sn_reducer_name(g.red), want);
        rig_free(&g);
    }
    assert_int_equal(sn_dist_fake_hosts(0), SN_OK);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The residuals of a reducer whole on rank 0 (a checkpoint's arrays). */
static void saved_state(struct rig *g, struct sn_ckpt_extra *e)
{
    assert_int_equal(sn_reducer_state_save(g->red, e), SN_OK);
}

/* Compressed, flat (every rank sends: mpi, the messages of one host) and
 * hier at 2 fake hosts, bf16 and fp16, three steps: every rank holds the
 * hand-made compressed mean bit for bit, and rank 0 the residuals (every
 * sender's rows in rank order; the mean's residual, in pieces by owner,
 * summed: each element has one owner).  At one rank nothing crosses a
 * host: the plain mean, no state. */
static void test_reducer_compress_reference(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    for (int v = 0; v < 4; v++) {
        const enum sn_half kind = v % 2 ? SN_HALF_FP16 : SN_HALF_BF16;
        const bool hier = v >= 2;
        const int K = hier ? 2 : P, H = K < P ? K : P;
        assert_int_equal(sn_dist_fake_hosts(hier ? 2 : 0), SN_OK);
        struct rig g;
        rig_make(&g, hier ? SN_ALLREDUCE_HIER : SN_ALLREDUCE_MPI, kind);
        const size_t n = g.m->n_params, len = n + SN_REDUCE_CTRL;
        char want_name[32];
        snprintf(want_name, sizeof want_name, "%s%s%s", hier ? "hier" : "buckets",
                 H > 1 ? "+" : "", H > 1 ? sn_half_name(kind) : "");
        assert_string_equal(sn_reducer_name(g.red), want_name);
        float *got = malloc(len * sizeof *got), *want = malloc(len * sizeof *want);
        float *resid = calloc((size_t)H * n, sizeof *resid), *rmean = calloc(n, sizeof *rmean);
        for (int s = 0; s < STEPS; s++) {
            rig_step(&g, s, got);
            by_hand(K, kind, s, n, resid, rmean, want);
            assert_memory_equal(got, want, len * sizeof *got);
        }
        struct sn_ckpt_extra e;
        saved_state(&g, &e);
        if (sn_dist_rank() == 0 && H > 1) {
            assert_int_equal(e.n, 2);
            assert_string_equal(e.a[0].name, "residual");
            assert_int_equal(e.a[0].len, (size_t)H * n);
            assert_memory_equal(e.a[0].data, resid, (size_t)H * n * sizeof *resid);
            assert_string_equal(e.a[1].name, "residual_mean");
            /* each element of the mean has one owner, whose piece holds its
             * residual where the blocks put it: the same values, sorted, as
             * by hand (the control words' places hold zeros) */
            assert_int_equal(e.a[1].len, n + SN_REDUCE_CTRL);
            float *mine = e.a[1].data, *hand = calloc(n + SN_REDUCE_CTRL, sizeof *hand);
            memcpy(hand, rmean, n * sizeof *hand);
            qsort(mine, n + SN_REDUCE_CTRL, sizeof *mine, cmp_float);
            qsort(hand, n + SN_REDUCE_CTRL, sizeof *hand, cmp_float);
            assert_memory_equal(mine, hand, (n + SN_REDUCE_CTRL) * sizeof *hand);
            free(hand);
        } else {
            assert_int_equal(e.n, 0);
        }
        sn_ckpt_extra_free(&e);
        free(got);
        free(want);
        free(resid);
        free(rmean);
        rig_free(&g);
    }
    assert_int_equal(sn_dist_fake_hosts(0), SN_OK);
}

/* The bytes a rank hands to MPI across hosts: compressed, exactly half of
 * floats (the same blocks, two bytes a value instead of four); floats:
 * what a reduce-scatter and allgather of each bucket send.  Hier counts
 * the leaders' stage only: nothing on the other ranks. */
static void test_reducer_compress_bytes_halved(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    for (int hier = 0; hier < 2; hier++) {
        assert_int_equal(sn_dist_fake_hosts(hier ? 2 : 0), SN_OK);
        struct sn_dist_hosts h;
        sn_dist_hosts(&h);
        struct rig a, b;
        const enum sn_allreduce mode = hier ? SN_ALLREDUCE_HIER : SN_ALLREDUCE_MPI;
        rig_make(&a, mode, SN_HALF_NONE);
        rig_make(&b, mode, SN_HALF_BF16);
        float *out = malloc((a.m->n_params + SN_REDUCE_CTRL) * sizeof *out);
        for (int s = 0; s < 2; s++) {
            rig_step(&a, s, out);
            rig_step(&b, s, out);
        }
        const uint64_t fa = sn_reducer_bytes_sent(a.red), fb = sn_reducer_bytes_sent(b.red);
        const int G = hier ? h.n_hosts : P;
        const bool sends = G > 1 && (!hier || h.local_rank == 0);
        if (!sends) {
            assert_int_equal(fb, 0);
            if (hier && h.local_rank > 0)
                assert_int_equal(fa, 0);
        } else {
            assert_int_equal(fb * 2, fa);
            /* 2 steps of n + 2 floats in blocks of 1/G: about 2 (G-1)/G of them, 4 bytes each */
            const double want = 2.0 * 2.0 * (G - 1) / G * (double)(a.m->n_params + 2) * 4.0;
            assert_true(fabs((double)fa - want) <= 2.0 * 4.0 * 4.0 * G * 4);
        }
        free(out);
        rig_free(&a);
        rig_free(&b);
    }
    assert_int_equal(sn_dist_fake_hosts(0), SN_OK);
}

/* The residuals through a checkpoint's arrays: saved from one reducer,
 * loaded into a fresh one, the next step gives the bits the first
 * reducer's next step gives; arrays that do not fit this run (another
 * rank count's pieces) or are missing start from zero, named. */
static void test_reducer_state_roundtrip(void **state)
{
    (void)state;
    const int P = sn_dist_size(), me = sn_dist_rank();
    struct rig a, b;
    rig_make(&a, SN_ALLREDUCE_MPI, SN_HALF_FP16);
    rig_make(&b, SN_ALLREDUCE_MPI, SN_HALF_FP16);
    const size_t len = a.m->n_params + SN_REDUCE_CTRL;
    float *x = malloc(len * sizeof *x), *y = malloc(len * sizeof *y);
    for (int s = 0; s < 2; s++)
        rig_step(&a, s, x);
    struct sn_ckpt_extra e;
    saved_state(&a, &e);
    char dropped[128] = "?";
    assert_int_equal(sn_reducer_state_load(b.red, &e, dropped, sizeof dropped), SN_OK);
    if (me == 0)
        assert_string_equal(dropped, "");
    rig_step(&a, 2, x);
    rig_step(&b, 2, y);
    assert_memory_equal(x, y, len * sizeof *x);
    if (P > 1 && me == 0)   /* written by one rank more */
        e.a[0].n_counts = P + 1;
    struct sn_ckpt_extra none = { 0 };
    assert_int_equal(sn_reducer_state_load(b.red, P > 1 ? &e : &none, dropped, sizeof dropped),
                     SN_OK);
    if (me == 0 && P > 1)
        assert_string_equal(dropped, "residual");
    if (P > 1 && me == 0)
        e.a[0].n_counts = P;
    sn_ckpt_extra_free(&e);
    free(x);
    free(y);
    rig_free(&a);
    rig_free(&b);
}

/* ---- training ---- */

static char data_path[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(data_path, sizeof data_path, "%s", sn_test_path("blobs.h5"));
    sn_test_write_blobs(data_path, (struct sn_test_blobs){ 0 });
    return 0;
}

/* Batchnorm, Adam, two dense layers (several buckets of 64 floats). */
static const char cfg[] =
    "[net]\ninput = 8\nbatch = 24\nepochs = 2\noptimizer = adam\nlr = 0.01\nseed = 5\n"
    "[dense]\nunits = 16\nactivation = relu\n[batchnorm]\n[dense]\nunits = 3\n";

static struct sn_train_opts opts(enum sn_allreduce mode, enum sn_half compress)
{
    struct sn_train_opts o;
    sn_train_opts_defaults(&o);
    o.allreduce = mode;
    o.compress = compress;
    o.bucket_mb = 64 * 4 / 1048576.0;
    return o;
}

/* Steps until the run is over, or until rank 0 asks to stop before step
 * stop_at (0: never). */
static int run(struct sn_trainer *t, int64_t stop_at)
{
    struct sn_step_info last = { 0 };
    struct sn_epoch_info e;
    int rc = SN_OK;
    while (!rc && !sn_trainer_done(t) && !last.stop) {
        if (stop_at && sn_trainer_state(t)->global_step + 1 == stop_at && sn_dist_rank() == 0)
            sn_trainer_request_stop(t, 15);
        rc = sn_trainer_step(t, &last);
        if (!rc && last.epoch_done && !last.stop)
            rc = sn_trainer_end_epoch(t, &e);
    }
    return rc ? rc : sn_trainer_finish(t);
}

static float *train(const struct sn_train_opts *o, const char *want_reducer, size_t *n)
{
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, o, &s, &t), SN_OK);
    if (want_reducer)
        assert_string_equal(sn_trainer_reducer_name(t), want_reducer);
    assert_int_equal(run(t, 0), SN_OK);
    const struct sn_model *m = sn_trainer_model(t);
    *n = m->n_params;
    float *p = malloc(*n * sizeof *p);
    memcpy(p, m->params, *n * sizeof *p);
    sn_trainer_destroy(t);
    sn_dataset_close(ds);
    return p;
}

/* 40 steps of Adam at 2 fake hosts: hier's parameters are flat's bit for
 * bit where the order of additions is the same (one or two ranks; with 3
 * ranks hier's (r0 + r1) + r2 is Open MPI's order too but not a promise:
 * compared as at 4); at 4 ranks (2 x 2) within the rounding that Adam's
 * 40 steps grow from a few ulps of difference in the gradient means
 * (2e-5 relative seen; the sharded optimizer's test allows the same). */
static void test_reducer_hier_training(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    assert_int_equal(sn_dist_fake_hosts(2), SN_OK);
    size_t n, n2;
    struct sn_train_opts o = opts(SN_ALLREDUCE_FLAT, SN_HALF_NONE);
    float *flat = train(&o, "buckets", &n);
    o = opts(SN_ALLREDUCE_AUTO, SN_HALF_NONE);
    float *hier = train(&o, P > 2 ? "hier" : "buckets", &n2);
    assert_int_equal(n, n2);
    if (P <= 2)
        assert_memory_equal(hier, flat, n * sizeof *flat);
    else
        assert_close_arrays(hier, flat, n, 1e-5, 1e-4);
    assert_same_everywhere(hier, n);
    free(flat);
    free(hier);
    assert_int_equal(sn_dist_fake_hosts(0), SN_OK);
}

/* --compress where nothing is sent (1 rank; the shared window of one
 * host) is refused, naming why. */
static void test_reducer_compress_refused(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    struct sn_train_opts o = opts(P > 1 ? SN_ALLREDUCE_FLAT : SN_ALLREDUCE_MPI, SN_HALF_FP16);
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "--compress fp16: no gradients are sent"));
    assert_non_null(strstr(sn_errmsg(), P > 1 ? "shared window" : "1 rank"));
    o.shard_optimizer = true;
    o.compress = SN_HALF_BF16;
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "--shard-optimizer"));
    sn_dataset_close(ds);
}

/* A compressed run (bf16 through messages, hier at 2 fake hosts when
 * there are more than 2 ranks) stopped after step 7 and resumed from its
 * checkpoint, residuals included, ends bit for bit where the
 * uninterrupted run ends; the run record says compress bf16, and a run
 * without compression is refused that checkpoint, naming the setting.
 * One rank sends nothing to compress (refused above). */
static void test_reducer_compress_resume_exact(void **state)
{
    (void)state;
    const int P = sn_dist_size();
    if (P == 1)
        return;
    assert_int_equal(sn_dist_fake_hosts(P > 2 ? 2 : 0), SN_OK);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/compress", sn_test_tmpdir());
    struct sn_train_opts o = opts(P > 2 ? SN_ALLREDUCE_AUTO : SN_ALLREDUCE_MPI, SN_HALF_BF16);
    o.steps = 14;
    size_t n;
    float *ref = train(&o, NULL, &n);
    o.ckpt_dir = dir;
    struct sn_dataset *ds;
    struct sn_trainer *t;
    struct sn_train_start s;
    assert_int_equal(sn_dataset_open(data_path, &ds), SN_OK);
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(run(t, 7), SN_OK);
    assert_int_equal(sn_trainer_state(t)->global_step, 7);
    sn_trainer_destroy(t);
    sn_interrupt_clear();   /* the request is the process's: forget it to go on */
    if (sn_dist_rank() == 0) {
        char path[1200], *v = NULL;
        struct sn_h5 *f;
        snprintf(path, sizeof path, "%s/ckpt-00000007.h5", dir);
        assert_int_equal(sn_h5_open(path, &f), SN_OK);
        assert_int_equal(sn_h5_attr_get_str(f, "/run", "compress", &v), SN_OK);
        assert_string_equal(v, "bf16");
        assert_true(sn_h5_exists(f, "/reducer/residual/counts"));
        free(v);
        sn_h5_close(f);
    }
    o.resume = "auto";
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_OK);
    assert_int_equal(sn_trainer_state(t)->global_step, 7);
    assert_int_equal(run(t, 0), SN_OK);
    assert_memory_equal(sn_trainer_model(t)->params, ref, n * sizeof *ref);
    sn_trainer_destroy(t);
    o.compress = SN_HALF_NONE;
    assert_int_equal(sn_trainer_create(cfg, "t.cfg", ds, &o, &s, &t), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "compress none (checkpoint: bf16)"));
    sn_dataset_close(ds);
    free(ref);
    assert_int_equal(sn_dist_fake_hosts(0), SN_OK);
}

int main(int argc, char **argv)
{
    if (sn_dist_init(&argc, &argv)) {
        fprintf(stderr, "%s\n", sn_errmsg());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reducer_hier_same_bits),
        cmocka_unit_test(test_reducer_auto_choice),
        cmocka_unit_test(test_reducer_compress_reference),
        cmocka_unit_test(test_reducer_compress_bytes_halved),
        cmocka_unit_test(test_reducer_state_roundtrip),
        cmocka_unit_test(test_reducer_hier_training),
        cmocka_unit_test(test_reducer_compress_refused),
        cmocka_unit_test(test_reducer_compress_resume_exact),
    };
    int failed = cmocka_run_group_tests(tests, setup, NULL);
    int any = failed != 0;
    sn_dist_allreduce_max_int(&any, 1);
    sn_dist_finalize();
    return any;
}
