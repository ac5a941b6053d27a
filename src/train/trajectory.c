/* trajectory: recording and comparing a run's settings (see trajectory.h). */
#include "train/trajectory.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/fingerprint.h"

static const char *const keys[] = { "data",     "model",    "seed",     "batch",
                                    "optimizer", "groups",   "lr",       "schedule",
                                    "horizon",  "augment",  "loss",     "shuffle",
                                    "accumulate", "compress" };
enum { N_KEYS = sizeof keys / sizeof keys[0] };

/* The shortest text that reads back as the same float ("0.9", not
 * "0.899999976"): equal texts, equal values. */
static const char *num(float v, char buf[32])
{
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, 32, "%.*g", digits, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    return buf;
}

static int optimizer_text(const struct sn_optim_cfg *c, char *out, size_t len)
{
    const char *name = sn_optim_name(c->kind);
    char a[32], b[32], d[32], w[32];
    num(c->weight_decay, w);
    switch (c->kind) {
    case SN_OPT_SGD:
        return snprintf(out, len, "%s momentum %s nesterov %d weight_decay %s", name,
                        num(c->momentum, a), c->nesterov, w);
    case SN_OPT_ADAM:
    case SN_OPT_ADAMW:
        return snprintf(out, len, "%s beta1 %s beta2 %s eps %s weight_decay %s", name,
                        num(c->beta1, a), num(c->beta2, b), num(c->eps, d), w);
    case SN_OPT_ADAGRAD:
        return snprintf(out, len, "%s eps %s weight_decay %s", name, num(c->eps, a), w);
    case SN_OPT_RMSPROP:
        return snprintf(out, len, "%s alpha %s eps %s momentum %s weight_decay %s", name,
                        num(c->alpha, a), num(c->eps, b), num(c->momentum, d), w);
    }
    return snprintf(out, len, "%s", name);
}

/* The optimizer, with " decoupled", Lookahead and the weight average only
 * when chosen (so the records of runs before those options read the same). */
static void optimizer_full(const struct sn_optim_cfg *c, char *out, size_t len)
{
    size_t n = (size_t)optimizer_text(c, out, len);
    if (c->decoupled_wd && c->kind != SN_OPT_ADAMW && n < len)
        n += (size_t)snprintf(out + n, len - n, " decoupled");
    char a[32];
    if (c->lookahead_k > 0 && n < len)
        n += (size_t)snprintf(out + n, len - n, " lookahead %d alpha %s", c->lookahead_k,
                              num(c->lookahead_alpha, a));
    if (c->ema > 0.0f && n < len)
        snprintf(out + n, len - n, " ema %s every %d warmup %d", num(c->ema, a), c->ema_every,
                 (int)c->ema_warmup);
}

static int schedule_text(const struct sn_sched *s, char *out, size_t len)
{
    const char *name = sn_sched_name(s->kind);
    char a[32];
    switch (s->kind) {
    case SN_SCHED_STEP:
        return snprintf(out, len, "%s step_size %lld gamma %s warmup %lld", name,
                        (long long)s->step_size, num(s->gamma, a), (long long)s->warmup_steps);
    case SN_SCHED_COSINE:
        return snprintf(out, len, "%s min_lr %s warmup %lld", name, num(s->min_lr, a),
                        (long long)s->warmup_steps);
    case SN_SCHED_ONECYCLE: {
        char b[32], c[32];
        return snprintf(out, len, "%s start_factor %s end_factor %s warmup_fraction %s "
                        "warmup %lld", name, num(s->start_factor, a), num(s->end_factor, b),
                        num(s->warmup_fraction, c), (long long)s->warmup_steps);
    }
    default:
        return snprintf(out, len, "%s warmup %lld", name, (long long)s->warmup_steps);
    }
}

int sn_trajectory_record(const struct sn_netcfg *net, const char *model_text, bool shuffle,
                         int accumulate, const char *compress, struct sn_dataset *ds, float *row,
                         struct sn_run_record *out)
{
    memset(out, 0, sizeof *out);
    char text[SN_RECORD_VALUE_LEN];
    int rc = sn_dataset_fingerprint(ds, row, text, sizeof text);
    if (rc)
        return rc;
    sn_record_set(out, "data", "%s", text);
    sn_model_text_fingerprint(model_text, text, sizeof text);
    sn_record_set(out, "model", "%s", text);
    sn_record_set(out, "seed", "%llu", (unsigned long long)net->seed);
    sn_record_set(out, "batch", "%d", net->batch);
    optimizer_full(&net->optim, text, sizeof text);
    sn_record_set(out, "optimizer", "%s", text);
    char a[32], b[32], c[32], d[32], e[32], f[32];
    sn_record_set(out, "groups", "weights %s %s biases %s %s norms %s %s",
                  num(net->weights.lr, a), num(net->weights.wd, b), num(net->biases.lr, c),
                  num(net->biases.wd, d), num(net->norms.lr, e), num(net->norms.wd, f));
    sn_record_set(out, "lr", "%s", num(net->sched.lr, a));
    schedule_text(&net->sched, text, sizeof text);
    sn_record_set(out, "schedule", "%s", text);
    if (net->sched.kind == SN_SCHED_COSINE || net->sched.kind == SN_SCHED_ONECYCLE)
        sn_record_set(out, "horizon", "%lld", (long long)net->sched.total_steps);
    else
        sn_record_set(out, "horizon", "none");
    const struct sn_augment *aug = &net->augment;
    /* translate and alternate flips only when chosen: the records of runs
     * before they existed read the same */
    char more[64] = "";
    if (aug->translate)
        snprintf(more, sizeof more, " translate %d", aug->translate);
    if (aug->flip_alternate)
        snprintf(more + strlen(more), sizeof more - strlen(more), " flip alternate");
    sn_record_set(out, "augment", "shift %d flip %d rotate %s zoom %s%s", aug->shift, aug->flip,
                  num(aug->rotate, a), num(aug->zoom, b), more);
    sn_record_set(out, "loss", "%s label_smoothing %s clip_norm %s target %s",
                  sn_loss_name(net->loss), num(net->label_smoothing, a), num(net->clip_norm, c),
                  net->target_input ? "input" : "data");
    sn_record_set(out, "shuffle", "%s", shuffle ? "yes" : "no");
    sn_record_set(out, "accumulate", "%d", accumulate);
    sn_record_set(out, "compress", "%s", compress);
    return SN_OK;
}

/* Whether key is in the comma-separated list. */
static bool listed(const char *list, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, key, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* Whether the len bytes at p name a key a resume may change (all but
 * seed and batch: the example sequence would not continue). */
static bool overridable(const char *p, size_t len)
{
    for (int k = 0; k < N_KEYS; k++)
        if (strlen(keys[k]) == len && strncmp(p, keys[k], len) == 0)
            return strcmp(keys[k], "seed") != 0 && strcmp(keys[k], "batch") != 0;
    return false;
}

/* "data, model, ...": the keys a resume may change, for a message. */
static void overridable_list(char *out, size_t len)
{
    size_t at = 0;
    out[0] = '\0';
    for (int k = 0; k < N_KEYS && at < len; k++)
        if (overridable(keys[k], strlen(keys[k])))
            at += (size_t)snprintf(out + at, len - at, "%s%s", at ? ", " : "", keys[k]);
}

int sn_trajectory_check_keys(const char *overrides)
{
    char valid[256];
    if (!overrides)
        return SN_OK;
    overridable_list(valid, sizeof valid);
    if (!overrides[0])
        return sn_fail(SN_EUSAGE, "--resume-override: the list is empty; give one or more of "
                       "%s, separated by commas", valid);
    for (const char *p = overrides;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0)
            return sn_fail(SN_EUSAGE, "--resume-override '%s': an empty item (a comma at the "
                           "start or the end, or two together); give one or more of %s, "
                           "separated by commas", overrides, valid);
        if (!overridable(p, len))
            return sn_fail(SN_EUSAGE, "--resume-override: '%.*s' is not a setting that can be "
                           "changed on resume (%s)", (int)len, p, valid);
        p += len;
        if (!*p)
            return SN_OK;
    }
}

int sn_trajectory_differ(const struct sn_run_record *ckpt, const struct sn_run_record *run,
                         const char *overrides, char *differ, size_t len)
{
    size_t at = 0;
    differ[0] = '\0';
    for (int k = 0; k < N_KEYS && ckpt->n > 0; k++) {
        const char *was = sn_record_get(ckpt, keys[k]), *now = sn_record_get(run, keys[k]);
        if (!was || !now || strcmp(was, now) == 0)
            continue;
        if (overridable(keys[k], strlen(keys[k])) && listed(overrides, keys[k]))
            continue;
        if (at < len)
            at += (size_t)snprintf(differ + at, len - at, "%s%s", at ? ", " : "", keys[k]);
    }
    return ckpt->n == 0 ? -1 : at > 0;
}

int sn_trajectory_compare(const struct sn_run_record *ckpt, const struct sn_run_record *run,
                          const char *path, const char *overrides, const char *horizon_why,
                          const char *model_why, char *overridden, size_t overridden_len)
{
    char refused[960] = "", keys_refused[160] = "", fixed[160] = "";
    size_t at = 0, kat = 0, fat = 0, oat = 0;
    overridden[0] = '\0';
    if (ckpt->n == 0)   /* /run is outside the checksum: its absence proves nothing */
        return sn_fail(SN_EINVAL, "%s has no run record (/run): nothing tells whether it "
                       "continues this run (its data, seed, batch and settings); to start "
                       "from its weights, give --init %s instead", path, path);
    for (int k = 0; k < N_KEYS && ckpt->n > 0; k++) {
        const char *was = sn_record_get(ckpt, keys[k]), *now = sn_record_get(run, keys[k]);
        if (!was || !now || strcmp(was, now) == 0)
            continue;   /* older checkpoints lack later keys */
        const bool can = overridable(keys[k], strlen(keys[k]));
        bool ok = can && listed(overrides, keys[k]);
        char *dst = ok ? overridden : refused;
        size_t *pos = ok ? &oat : &at, cap = ok ? overridden_len : sizeof refused;
        char data_why[320] = "";
        if (strcmp(keys[k], "data") == 0)
            sn_dataset_fingerprint_difference(now, was, data_why, sizeof data_why);
        const char *why = strcmp(keys[k], "horizon") == 0 ? horizon_why
                        : strcmp(keys[k], "model") == 0 ? model_why
                        : strcmp(keys[k], "data") == 0 ? data_why : NULL;
        why = why && why[0] ? why : NULL;
        if (*pos < cap)
            *pos += (size_t)snprintf(dst + *pos, cap - *pos, "%s%s %s (%s%scheckpoint: %s)",
                                     *pos ? "; " : "", keys[k], now, why ? why : "",
                                     why ? "; " : "", was);
        if (!ok && can && kat < sizeof keys_refused)
            kat += (size_t)snprintf(keys_refused + kat, sizeof keys_refused - kat, "%s%s",
                                    kat ? "," : "", keys[k]);
        if (!can && fat < sizeof fixed)   /* seed, batch: the checkpoint's, as flags */
            fat += (size_t)snprintf(fixed + fat, sizeof fixed - fat, "%s--%s %s",
                                    fat ? " " : "", keys[k], was);
    }
    if (!refused[0])
        return SN_OK;
    return sn_fail(SN_EINVAL, "%s belongs to another run: this run's %s%s%s%s%s%s%s", path, refused,
                   kat ? "; to continue it with this run's settings anyway, add "
                         "--resume-override " : "", keys_refused,
                   fat ? "; the seed and the batch cannot change on a resume (the example "
                         "sequence would not continue): give the checkpoint's (" : "", fixed,
                   fat ? ") or another --checkpoint-dir" : "",
                   kat && !fat ? " (a new run, another experiment, takes another "
                                 "--checkpoint-dir)" : "");
}
