/* modelfile: model file parsing and model construction (see modelfile.h).
 *
 * libinih does the INI grammar.  Our line reader in front of it counts lines
 * (so every key knows its line), strips '#' comments and leading blanks,
 * and notices section headers itself, because libinih reports nothing for
 * a section without keys ("[flatten]").  Parsing collects sections and
 * keys; building then walks them with typed getters that mark each key used,
 * so any key left unused is unknown and reported with its line.
 */
#include "io/modelfile.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/activation.h"
#include "core/add.h"
#include "core/avgpool.h"
#include "core/batchnorm.h"
#include "core/checked.h"
#include "core/concat.h"
#include "core/conv.h"
#include "core/dense.h"
#include "core/dropout.h"
#include "core/flatten.h"
#include "core/gru.h"
#include "core/lstm.h"
#include "core/maxpool.h"
#include "core/number.h"
#include "core/rnn.h"
#include "core/interrupt.h"
#include "core/status.h"
#include "core/text.h"
#include "io/fsutil.h"

#define MAX_KEYS 48
#define MAX_VALUE 160
#define MAX_FILE_BYTES (1 << 20)

struct kv {
    char key[SN_NAME_LEN];
    char value[MAX_VALUE];
    int line;
    int used;
};

struct section {
    char word[SN_NAME_LEN];
    int line;
    int n_kv, cap_kv;
    struct kv *kv;    /* owned; grows as keys come (a layer holds a few, not MAX_KEYS) */
    struct asked *asked;   /* the parser's list of keys looked for (see struct asked) */
};

/* The keys the reader of one section looked for, what a typo is compared
 * with: copies (some keys are built in buffers), one list for the parser,
 * started again for each section as the sections are read one by one. */
enum { MAX_ASKED = 64 };
struct asked {
    const struct section *of;
    int n;
    char key[MAX_ASKED][SN_NAME_LEN];
};

struct parser {
    const char *fname;
    const char *text;
    size_t pos;
    int line;
    struct section *secs;
    int n_secs, cap;
    int rc;          /* first error, with its message recorded */
    struct asked asked;
};

/* ---- reading ------------------------------------------------------------ */

int sn_modelfile_read(const char *path, char **text)
{
    if (!path || !text)   /* library callers' mistakes: named, not a crash */
        return sn_fail(SN_EINVAL, "sn_modelfile_read: %s is NULL", !path ? "path" : "text");
    FILE *fp;
    int rc = sn_fs_open_input(path, "model file", SIZE_MAX, &fp, NULL);
    if (rc)
        return rc;
    char *buf = malloc(MAX_FILE_BYTES + 1);
    if (!buf) {
        fclose(fp);
        return sn_fail(SN_ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, MAX_FILE_BYTES + 1, fp);
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        return sn_fail(SN_EIO, "%s: cannot read model file", path);
    }
    /* HDF5's signature, or the seal scratchnet puts before it */
    if (sn_fs_is_hdf5(path)) {
        free(buf);
        return sn_fail(SN_EINVAL, "%s is an HDF5 file (a dataset, weights or a checkpoint), not a "
                       "model file: give the model's text file (models/*.cfg; are two file "
                       "names swapped?); the model a weights file holds is shown by `scratchnet "
                       "info --weights %s`", path, path);
    }
    size_t lead = 0;   /* a train --log's record, after blanks */
    while (lead < n && buf[lead] && strchr(" \t\r\n", buf[lead]))
        lead++;
    if (n - lead >= 8 && memcmp(buf + lead, "{\"epoch\"", 8) == 0) {
        free(buf);
        return sn_fail(SN_EINVAL, "%s is a training log (train --log), not a model file: give "
                       "the model's text file (models/*.cfg; are two file names swapped?)", path);
    }
    if (n > MAX_FILE_BYTES) {
        free(buf);
        return sn_fail(SN_EINVAL, "%s: model file is larger than 1 MiB"
                       SN_BUILD_LIMIT("MAX_FILE_BYTES", "src/io/modelfile.c"), path);
    }
    if (memchr(buf, '\0', n)) {
        /* UTF-32 or UTF-16, with a byte-order mark or without */
        bool big, marked;
        const int unit = sn_fs_wide_unit((const unsigned char *)buf, n, &big, &marked);
        free(buf);
        return sn_fail(SN_EINVAL, "%s: model file is not text (it contains NUL bytes)%s%s%s%s",
                       path, unit == 4 ? ": it is UTF-32" : unit == 2 ? ": it is UTF-16" : "",
                       unit > 1 && !marked ? (big ? "BE" : "LE") : "",
                       unit > 1 && !marked ? " without a byte-order mark" : "",
                       unit > 1 ? "; save it as UTF-8" : "");
    }
    buf[n] = '\0';
    *text = buf;
    return SN_OK;
}

/* ---- parsing ------------------------------------------------------------ */

static int perr(struct parser *p, int line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int perr(struct parser *p, int line, int code, const char *fmt, ...)
{
    if (p->rc)
        return p->rc;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->rc = sn_fail(code, "%s:%d: %s", p->fname, line, msg);
    return p->rc;
}

static int new_section(struct parser *p, const char *word, size_t len)
{
    if (p->n_secs == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        struct section *s = realloc(p->secs, (size_t)cap * sizeof *s);
        if (!s)
            return perr(p, p->line, SN_ENOMEM, "out of memory");
        p->secs = s;
        p->cap = cap;
    }
    if (p->n_secs > SN_MAX_LAYERS + 1)
        return perr(p, p->line, SN_EINVAL, "a model may have at most %d layers"
                    SN_BUILD_LIMIT("SN_MAX_LAYERS", "src/core/model.h"), SN_MAX_LAYERS);
    struct section *s = &p->secs[p->n_secs++];
    memset(s, 0, sizeof *s);
    s->asked = &p->asked;
    if (len >= sizeof s->word)
        return perr(p, p->line, SN_EINVAL, "section name is too long");
    memcpy(s->word, word, len);
    s->line = p->line;
    return SN_OK;
}

/* libinih line reader: one line of p->text per call, cleaned (see top). */
static char *reader(char *str, int num, void *stream)
{
    struct parser *p = stream;
    if (p->text[p->pos] == '\0' || p->rc)
        return NULL;
    const char *start = p->text + p->pos;
    const char *nl = strchr(start, '\n');
    size_t len = nl ? (size_t)(nl - start) : strlen(start);
    p->pos += len + (nl ? 1 : 0);
    p->line++;

    while (len > 0 && (*start == ' ' || *start == '\t')) {
        start++;
        len--;
    }
    const char *cr = memchr(start, '\r', len);
    if (cr && cr + 1 < start + len) {   /* CRLF's CR is last; one inside is not a line end here */
        perr(p, p->line, SN_EINVAL, "a carriage return (CR) inside the line: the file's lines end "
             "in CR only (an old Mac file?) or a CR is stray; save it with LF line ends");
        return NULL;
    }
    const char *hash = memchr(start, '#', len);
    if (hash)
        len = (size_t)(hash - start);
    while (len > 0 && isspace((unsigned char)start[len - 1]))
        len--;
    if (len + 2 > (size_t)num) {
        perr(p, p->line, SN_EINVAL, "line is too long (at most %d characters)", num - 2);
        return NULL;
    }
    memcpy(str, start, len);
    str[len] = '\n';
    str[len + 1] = '\0';

    if (len > 0 && start[0] == '[') {
        const char *close = memchr(start, ']', len);
        if (!close) {
            perr(p, p->line, SN_EINVAL, "section header without ']'");
            return NULL;
        }
        const char *rest = close + 1 + strspn(close + 1, " \t");
        const bool comment = rest > close + 1 && rest < start + len && *rest == ';';
        if (close + 1 < start + len && !comment) {   /* libinih dropped `[net] lr = 5` */
            perr(p, p->line, SN_EINVAL, "text after the section header %.*s: '%.*s' (put each "
                 "key on its own line)", (int)(close + 1 - start), start,
                 (int)(start + len - rest), rest);
            return NULL;
        }
        const char *w = start + 1;
        size_t wl = (size_t)(close - w);
        while (wl > 0 && isspace((unsigned char)*w)) {
            w++;
            wl--;
        }
        while (wl > 0 && isspace((unsigned char)w[wl - 1]))
            wl--;
        if (new_section(p, w, wl))
            return NULL;
    }
    return str;
}

/* "character 1 is U+0430, not ASCII" for the character of name at byte
 * `at`: UTF-8 decoded; an ASCII one shown; a byte that is no UTF-8 named. */
static void odd_character(const char *name, size_t at, char *out, size_t len)
{
    const unsigned char *b = (const unsigned char *)name + at;
    size_t chars = 1;
    for (size_t i = 0; i < at; i++)
        chars += ((unsigned char)name[i] & 0xc0) != 0x80;   /* not a continuation byte */
    const int extra = b[0] >= 0xc2 && b[0] < 0xe0 ? 1 : b[0] >= 0xe0 && b[0] < 0xf0 ? 2
                    : b[0] >= 0xf0 && b[0] < 0xf5 ? 3 : 0;
    unsigned long code = b[0] & (0x3fu >> extra);
    bool whole = extra > 0;
    for (int i = 1; i <= extra && whole; i++) {
        whole = (b[i] & 0xc0) == 0x80;
        code = code << 6 | (b[i] & 0x3fu);
    }
    if (b[0] < 0x80 && isprint(b[0]))
        snprintf(out, len, "character %zu is '%c'", chars, b[0]);
    else if (b[0] < 0x80)
        snprintf(out, len, "character %zu is the byte 0x%02x", chars, b[0]);
    else if (whole)
        snprintf(out, len, "character %zu is U+%04lX, not ASCII", chars, code);
    else
        snprintf(out, len, "character %zu is the byte 0x%02x, which is not UTF-8", chars, b[0]);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    (void)section;
    struct parser *p = user;
    if (p->rc)
        return 0;
    if (p->n_secs == 0) {
        perr(p, p->line, SN_EINVAL, "'%s' appears before the first section", name);
        return 0;
    }
    struct section *s = &p->secs[p->n_secs - 1];
    const size_t ok = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (name[ok]) {
        /* a look-alike letter (full-width, Cyrillic) would only say the
         * real key is missing: the character is named by its code */
        char what[96];
        odd_character(name, ok, what, sizeof what);
        perr(p, p->line, SN_EINVAL, "[%s] '%s' is not a key: %s (keys are ASCII letters, digits "
             "and '_')", s->word, name, what);
        return 0;
    }
    for (int i = 0; i < s->n_kv; i++) {
        if (strcmp(s->kv[i].key, name) == 0) {
            perr(p, p->line, SN_EINVAL, "[%s] key '%s' is given twice (first on line %d)",
                 s->word, name, s->kv[i].line);
            return 0;
        }
    }
    if (s->n_kv == MAX_KEYS) {
        perr(p, p->line, SN_EINVAL, "[%s] has more than %d keys, more than any section takes: "
             "are some misspelt? (docs/FORMATS.md lists each section's keys)"
             SN_BUILD_LIMIT("MAX_KEYS", "src/io/modelfile.c"), s->word, MAX_KEYS);
        return 0;
    }
    if (s->n_kv == s->cap_kv) {
        int cap = s->cap_kv ? 2 * s->cap_kv : 4;
        struct kv *g = realloc(s->kv, (size_t)cap * sizeof *g);
        if (!g) {
            perr(p, p->line, SN_ENOMEM, "out of memory");
            return 0;
        }
        s->kv = g;
        s->cap_kv = cap;
    }
    struct kv *kv = &s->kv[s->n_kv++];
    memset(kv, 0, sizeof *kv);
    if (strlen(name) >= sizeof kv->key || strlen(value) >= sizeof kv->value) {
        perr(p, p->line, SN_EINVAL, "key or value is too long (keys up to %d bytes, values up "
             "to %d%s)", SN_NAME_LEN - 1, MAX_VALUE - 1,
             "; build limits: SN_NAME_LEN in src/core/layer.h, MAX_VALUE in src/io/modelfile.c");
        return 0;
    }
    snprintf(kv->key, sizeof kv->key, "%s", name);
    snprintf(kv->value, sizeof kv->value, "%s", value);
    kv->line = p->line;
    return 1;
}

/* ---- typed getters: each marks its key used ---------------------------- */

static struct kv *find(struct section *s, const char *key)
{
    struct asked *a = s->asked;
    if (a->of != s) {
        a->of = s;
        a->n = 0;
    }
    bool known = false;
    for (int i = 0; i < a->n && !known; i++)
        known = strcmp(a->key[i], key) == 0;
    if (!known && a->n < MAX_ASKED && strlen(key) < SN_NAME_LEN)
        snprintf(a->key[a->n++], SN_NAME_LEN, "%s", key);
    for (int i = 0; i < s->n_kv; i++)
        if (strcmp(s->kv[i].key, key) == 0) {
            s->kv[i].used = 1;
            return &s->kv[i];
        }
    return NULL;
}

/* A required key is missing: a key of the section that nobody asked for
 * and is a typo away from it is named instead (the line to fix), else
 * the section is said to need it; hint follows the key's name. */
static int missing(struct parser *p, struct section *s, const char *key, const char *hint)
{
    for (int i = 0; i < s->n_kv; i++)   /* UNITS: as far from units as any word */
        if (!s->kv[i].used && strcasecmp(s->kv[i].key, key) == 0)
            return perr(p, s->kv[i].line, SN_EINVAL, "[%s] unknown key '%s' (keys are lower "
                        "case: '%s')", s->word, s->kv[i].key, key);
    struct sn_text_nearest near = { key, NULL, 0 };
    int at = -1;
    for (int i = 0; i < s->n_kv; i++)
        if (!s->kv[i].used) {
            const char *was = near.best;
            sn_text_offer(&near, s->kv[i].key);
            at = near.best != was ? i : at;
        }
    if (at >= 0)
        return perr(p, s->kv[at].line, SN_EINVAL, "[%s] unknown key '%s' (did you mean "
                    "'%s'?)", s->word, s->kv[at].key, key);
    /* the required key of another kind of section, as [dense] filters
     * (not any key unread yet: the section's own are read after this one) */
    static const struct { const char *key, *of; } theirs[] = {
        { "input", "[net]" }, { "units", "[dense], [rnn], [lstm] and [gru]" },
        { "filters", "[conv]" },
    };
    for (int i = 0; i < s->n_kv; i++)
        for (size_t k = 0; k < sizeof theirs / sizeof theirs[0]; k++)
            if (!s->kv[i].used && strcmp(s->kv[i].key, theirs[k].key) == 0)
                return perr(p, s->line, SN_EINVAL, "[%s] needs '%s'%s; its '%s' (line %d) is "
                            "a key of %s", s->word, key, hint, s->kv[i].key, s->kv[i].line,
                            theirs[k].of);
    return perr(p, s->line, SN_EINVAL, "[%s] needs '%s'%s", s->word, key, hint);
}

static int get_int(struct parser *p, struct section *s, const char *key, long def, long min,
                   long max, long *out)
{
    struct kv *kv = find(s, key);
    long long v;
    *out = def;   /* also on error: callers stop at the error either way */
    if (!kv)
        return SN_OK;
    if (sn_parse_int(kv->value, min, max, &v))
        return perr(p, kv->line, SN_EINVAL, "[%s] %s: %s", s->word, key, sn_errmsg());
    *out = (long)v;
    return SN_OK;
}

static int get_float(struct parser *p, struct section *s, const char *key, double def,
                     double min, double max, float *out)
{
    struct kv *kv = find(s, key);
    double v;
    *out = (float)def;
    if (!kv)
        return SN_OK;
    if (sn_parse_real(kv->value, min, max, &v))
        return perr(p, kv->line, SN_EINVAL, "[%s] %s: %s", s->word, key, sn_errmsg());
    *out = (float)v;
    return SN_OK;
}

static int get_bool(struct parser *p, struct section *s, const char *key, bool *out)
{
    long v;
    int rc = get_int(p, s, key, 0, 0, 1, &v);
    *out = v != 0;
    return rc;
}

/* A key whose value an sn_*_parse function refused: report it at its line. */
static int bad_value(struct parser *p, struct section *s, struct kv *kv)
{
    return perr(p, kv->line, SN_EINVAL, "[%s] %s: %s", s->word, kv->key, sn_errmsg());
}

/* C,H,W or T,F or F: 1 to SN_MAX_DIMS integers in [1, 2^24] whose product
 * is at most SN_MAX_ELEMS. */
/* One item of a comma-separated list without its blanks, in place. */
static char *trim(char *tok)
{
    while (*tok == ' ' || *tok == '\t')
        tok++;
    char *end = tok + strlen(tok);
    while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return tok;
}

/* A comma-separated list (kv's value) with an empty item ("a,,b", "a,",
 * ",a", ""), which strtok would pass over: SN_EINVAL at its line. */
static int no_empty_item(struct parser *p, const struct section *s, const struct kv *kv)
{
    for (const char *c = kv->value;; c++) {
        c += strspn(c, " \t");
        if (*c == ',' || !*c)
            return perr(p, kv->line, SN_EINVAL, "[%s] %s: an empty item in '%s' (a comma at "
                        "the start or the end, or two together)", s->word, kv->key, kv->value);
        c += strcspn(c, ",");
        if (!*c)
            return SN_OK;
    }
}

static int get_shape(struct parser *p, struct section *s, const char *key,
                     struct sn_shape *out)
{
    struct kv *kv = find(s, key);
    if (!kv)
        return missing(p, s, key, " (e.g. 1,28,28 or 784)");
    struct sn_shape sh = { 0, { 0 } };
    char buf[MAX_VALUE], *save = NULL;
    snprintf(buf, sizeof buf, "%s", kv->value);
    size_t commas = 0;
    for (const char *c = kv->value; *c; c++)
        commas += *c == ',';
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long long v;
        tok = trim(tok);
        if (sh.ndim == SN_MAX_DIMS)
            return perr(p, kv->line, SN_EINVAL, "[%s] %s: at most %d dimensions, got '%s'",
                        s->word, key, SN_MAX_DIMS, kv->value);
        if (sn_parse_int(tok, 1, 1 << 24, &v))
            return perr(p, kv->line, SN_EINVAL, "[%s] %s: each dimension: %s", s->word, key,
                        sn_errmsg());
        sh.d[sh.ndim++] = (int)v;
    }
    size_t len;
    if (sh.ndim == 0 || (size_t)sh.ndim != commas + 1)
        return perr(p, kv->line, SN_EINVAL, "[%s] %s: expected 1 to %d positive integers "
                    "separated by commas, got '%s'", s->word, key, SN_MAX_DIMS, kv->value);
    if (!sn_shape_len_ok(&sh, SN_MAX_ELEMS, &len))
        return perr(p, kv->line, SN_EINVAL, "[%s] %s: %s holds more than %zu values", s->word,
                    key, kv->value, SN_MAX_ELEMS);
    *out = sh;
    return SN_OK;
}

/* The words around a key's likely spelling: another case of it is said
 * so ("keys are lower case"), a typo is asked about. */
static const char *typo_hint(const char *key, const char *like)
{
    return !like                         ? ""
           : strcasecmp(key, like) == 0 ? " (keys are lower case: '"
                                        : " (did you mean '";
}

static const char *typo_end(const char *key, const char *like)
{
    return strcasecmp(key, like) == 0 ? "')" : "'?)";
}

/* The asked key a typo away from key (or another case of it), or NULL. */
static const char *nearest_asked(const struct section *s, const char *key)
{
    const struct asked *a = s->asked;
    for (int i = 0; a->of == s && i < a->n; i++)   /* LR: as far from lr as any word */
        if (strcasecmp(a->key[i], key) == 0)
            return a->key[i];
    struct sn_text_nearest near = { key, NULL, 0 };
    for (int i = 0; a->of == s && i < a->n; i++)
        sn_text_offer(&near, a->key[i]);
    return near.best;
}

/* Any key nobody asked for is unknown; one a typo away from a key the
 * section reads is named with it. */
static int check_unused(struct parser *p, struct section *s)
{
    for (int i = 0; i < s->n_kv; i++) {
        if (s->kv[i].used)
            continue;
        const char *like = nearest_asked(s, s->kv[i].key);
        return perr(p, s->kv[i].line, SN_EINVAL, "[%s] unknown key '%s'%s%s%s", s->word,
                    s->kv[i].key, typo_hint(s->kv[i].key, like), like ? like : "",
                    like ? typo_end(s->kv[i].key, like) : "");
    }
    return SN_OK;
}

/* A section that failed on a rule between keys ("nesterov needs momentum")
 * while it holds a typo of a key it read (momentm) failed because of the
 * typo: that is the line to fix, so it is the error. */
static void prefer_typo(struct parser *p, struct section *s)
{
    for (int i = 0; p->rc && i < s->n_kv; i++) {
        const char *like = s->kv[i].used ? NULL : nearest_asked(s, s->kv[i].key);
        if (like) {
            p->rc = SN_OK;
            perr(p, s->kv[i].line, SN_EINVAL, "[%s] unknown key '%s'%s%s%s", s->word,
                 s->kv[i].key, typo_hint(s->kv[i].key, like), like,
                 typo_end(s->kv[i].key, like));
        }
    }
}

/* ---- [net] --------------------------------------------------------------- */

/* target = labels (the dataset's y, default) | input (autoencoders). */
static int get_target(struct parser *p, struct section *s, bool *input)
{
    struct kv *kv = find(s, "target");
    *input = kv && strcmp(kv->value, "input") == 0;
    if (kv && !*input && strcmp(kv->value, "labels") != 0)
        return perr(p, kv->line, SN_EINVAL, "[net] target: expected labels or input, got '%s'",
                    kv->value);
    return SN_OK;
}

/* onecycle's keys: lr_start_factor, lr_end_factor (PyTorch's OneCycleLR
 * defaults 1/25 and 1/25/1e4), and the peak at warmup_steps or at
 * warmup_fraction of the run (default 0.3, PyTorch's pct_start). */
static int get_onecycle(struct parser *p, struct section *s, struct sn_sched *sc)
{
    static const char *const keys[] = { "lr_start_factor", "lr_end_factor", "warmup_fraction" };
    bool onecycle = sc->kind == SN_SCHED_ONECYCLE;
    for (int i = 0; i < 3; i++) {
        struct kv *kv = find(s, keys[i]);
        if (kv && !onecycle)
            return perr(p, kv->line, SN_EINVAL, "[net] %s is a key of lr_schedule = onecycle",
                        keys[i]);
    }
    struct kv *frac = find(s, "warmup_fraction");
    if (frac && find(s, "warmup_steps"))
        return perr(p, frac->line, SN_EINVAL, "[net] warmup_fraction and warmup_steps both place "
                    "the peak: give one");
    if (get_float(p, s, "lr_start_factor", 0.04, 0.0, 1.0, &sc->start_factor) ||
        get_float(p, s, "lr_end_factor", 4e-6, 0.0, 1.0, &sc->end_factor) ||
        get_float(p, s, "warmup_fraction", onecycle && !find(s, "warmup_steps") ? 0.3 : 0.0,
                  0.0, 1.0, &sc->warmup_fraction))
        return p->rc;
    return SN_OK;
}

/* <kind>_lr_mult and <kind>_wd_mult of [net], 1 unless given. */
static int get_mults(struct parser *p, struct section *s, const char *kind, struct sn_mults *m)
{
    char lr[32], wd[32];
    snprintf(lr, sizeof lr, "%s_lr_mult", kind);
    snprintf(wd, sizeof wd, "%s_wd_mult", kind);
    if (get_float(p, s, lr, 1.0, 0.0, 1e6, &m->lr) || get_float(p, s, wd, 1.0, 0.0, 1e6, &m->wd))
        return p->rc;
    return SN_OK;
}

/* Keys that some optimizers or schedules read and the others ignore:
 * given to another (momentum with adam, lr_min without cosine), they would
 * be silently ignored.  And a cosine floor above lr would make it rise. */
static int check_used_keys(struct parser *p, struct section *s, const struct sn_netcfg *net)
{
    enum { ANY = 0xff, STEP = 1 << SN_SCHED_STEP, COSINE = 1 << SN_SCHED_COSINE };
    static const struct {
        const char *key, *whose;
        unsigned scheds;
    } rules[] = {
        { "momentum", "optimizer = sgd or rmsprop", ANY },
        { "beta1", "optimizer = adam or adamw", ANY },
        { "beta2", "optimizer = adam or adamw", ANY },
        { "eps", "optimizer = adam, adamw, adagrad or rmsprop", ANY },
        { "alpha", "optimizer = rmsprop", ANY },
        { "lr_step", "lr_schedule = step", STEP },
        { "lr_gamma", "lr_schedule = step", STEP },
        { "lr_min", "lr_schedule = cosine", COSINE },
    };
    const unsigned sched = 1u << net->sched.kind;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        struct kv *kv = find(s, rules[i].key);
        if (kv && (!sn_optim_reads(net->optim.kind, rules[i].key) || !(rules[i].scheds & sched)))
            return perr(p, kv->line, SN_EINVAL, "[net] %s is a key of %s; this file's "
                        "optimizer is %s and its lr_schedule %s, which do not read it (remove "
                        "it)", rules[i].key, rules[i].whose, sn_optim_name(net->optim.kind),
                        sn_sched_name(net->sched.kind));
    }
    if (net->sched.kind == SN_SCHED_COSINE && net->sched.min_lr > net->sched.lr)
        return perr(p, find(s, "lr_min")->line, SN_EINVAL, "[net] lr_min %g is above lr %g: the "
                    "cosine schedule would rise to it (lr_min is the floor it decays to)",
                    (double)net->sched.min_lr, (double)net->sched.lr);
    return SN_OK;
}

static int parse_net(struct parser *p, struct section *s, struct sn_netcfg *net)
{
    long v;
    enum sn_optim_kind kind;
    memset(net, 0, sizeof *net);
    if (get_shape(p, s, "input", &net->input))
        return p->rc;
    if (get_int(p, s, "batch", 64, 1, 1 << 20, &v))
        return p->rc;
    net->batch = (int)v;
    if (get_int(p, s, "epochs", 10, 0, SN_EPOCHS_MAX, &v))
        return p->rc;
    net->epochs = (int)v;
    struct kv *kv;
    net->loss = SN_LOSS_CROSS_ENTROPY;
    if ((kv = find(s, "loss")) && sn_loss_parse(kv->value, &net->loss))
        return bad_value(p, s, kv);
    kind = SN_OPT_SGD;
    if ((kv = find(s, "optimizer")) && sn_optim_parse(kv->value, &kind))
        return bad_value(p, s, kv);
    struct sn_optim_cfg *o = &net->optim;
    *o = sn_optim_defaults(kind);
    if (get_float(p, s, "momentum", 0.0, 0.0, 0.999999, &o->momentum) ||
        get_bool(p, s, "nesterov", &o->nesterov) ||
        get_float(p, s, "weight_decay", o->weight_decay, 0.0, 1.0, &o->weight_decay) ||
        get_float(p, s, "beta1", o->beta1, 0.0, 0.999999, &o->beta1) ||
        get_float(p, s, "beta2", o->beta2, 0.0, 0.999999, &o->beta2) ||
        get_float(p, s, "eps", o->eps, 1e-30, 1.0, &o->eps) ||
        get_float(p, s, "alpha", o->alpha, 0.0, 0.999999, &o->alpha))
        return p->rc;
    /* a file switched from sgd to another optimizer: both keys named at once */
    if (o->nesterov && kind != SN_OPT_SGD && (kv = find(s, "momentum")) &&
        !sn_optim_reads(kind, "momentum"))
        return perr(p, find(s, "nesterov")->line, SN_EINVAL, "[net] nesterov = 1 needs optimizer "
                    "= sgd and momentum > 0; this file's optimizer is %s, which reads neither "
                    "nesterov nor momentum (line %d): remove both", sn_optim_name(kind), kv->line);
    if (o->nesterov && !(kind == SN_OPT_SGD && o->momentum > 0.0f))
        return perr(p, find(s, "nesterov")->line, SN_EINVAL,
                    "[net] nesterov = 1 needs optimizer = sgd and momentum > 0");
    if (get_bool(p, s, "decoupled_weight_decay", &o->decoupled_wd) ||
        get_mults(p, s, "weight", &net->weights) || get_mults(p, s, "bias", &net->biases) ||
        get_mults(p, s, "norm", &net->norms) ||
        get_float(p, s, "ema", 0.0, 0.0, 0.999999, &o->ema) ||
        get_int(p, s, "ema_every", 1, 1, 1L << 20, &v) || get_bool(p, s, "ema_warmup", &o->ema_warmup))
        return p->rc;
    o->ema_every = (int)v;
    if (o->ema == 0.0f && (find(s, "ema_every") || find(s, "ema_warmup")))
        return perr(p, find(s, find(s, "ema_every") ? "ema_every" : "ema_warmup")->line,
                    SN_EINVAL, "[net] ema_every and ema_warmup need ema > 0");
    if (get_int(p, s, "lookahead_k", 0, 0, 1L << 20, &v) ||
        get_float(p, s, "lookahead_alpha", 0.5, 1e-6, 1.0, &o->lookahead_alpha))
        return p->rc;
    o->lookahead_k = (int)v;
    if (o->lookahead_k == 0 && find(s, "lookahead_alpha"))
        return perr(p, find(s, "lookahead_alpha")->line, SN_EINVAL,
                    "[net] lookahead_alpha needs lookahead_k > 0");

    struct sn_sched *sc = &net->sched;
    sc->kind = SN_SCHED_CONSTANT;
    if ((kv = find(s, "lr_schedule")) && sn_sched_parse(kv->value, &sc->kind))
        return bad_value(p, s, kv);
    if (get_float(p, s, "lr", 0.01, 0.0, 1e6, &sc->lr) ||
        get_int(p, s, "warmup_steps", 0, 0, 1L << 40, &v))
        return p->rc;
    sc->warmup_steps = v;
    if (get_int(p, s, "lr_step", 1000, 1, 1L << 40, &v))
        return p->rc;
    sc->step_size = v;
    if (get_float(p, s, "lr_gamma", 0.1, 0.0, 1.0, &sc->gamma) ||
        get_float(p, s, "lr_min", 0.0, 0.0, 1e6, &sc->min_lr) || get_onecycle(p, s, sc) ||
        get_float(p, s, "clip_norm", 0.0, 0.0, 1e12, &net->clip_norm) ||
        get_float(p, s, "label_smoothing", 0.0, 0.0, 0.999, &net->label_smoothing) ||
        get_target(p, s, &net->target_input) ||
        get_int(p, s, "seed", 1, 0, 0x7fffffffL, &v))
        return p->rc;
    net->seed = (uint64_t)v;
    if (net->label_smoothing > 0.0f && net->loss != SN_LOSS_CROSS_ENTROPY)
        return perr(p, find(s, "label_smoothing")->line, SN_EINVAL,
                    "[net] label_smoothing needs loss = cross_entropy");
    if (check_used_keys(p, s, net))
        return p->rc;
    return check_unused(p, s);
}

/* ---- layers -------------------------------------------------------------- */

struct build {
    struct parser *p;
    const struct sn_netcfg *net;
    struct sn_model *m;
    int *sec_of;                            /* per layer: its section in p->secs */
    int prev;                               /* the previous layer (-1: model input) */
    int n_in;                               /* this layer's inputs */
    int in[SN_MAX_INPUTS];
    struct sn_shape in_shape[SN_MAX_INPUTS];
};

bool sn_input_looks_hwc(const struct sn_shape *in)
{
    return in->ndim == 3 && in->d[2] <= 4 && in->d[2] != 2 && in->d[0] > 4 && in->d[1] > 4;
}

/* For a layer that does not fit its input (code SN_ESHAPE): when [net]
 * input looks like H,W,C, that it reads C,H,W. */
static void channels_last_hint(const struct sn_shape *in, int code, char *out, size_t len)
{
    out[0] = '\0';
    if (code == SN_ESHAPE && sn_input_looks_hwc(in))
        snprintf(out, len, " ([net] input %d,%d,%d reads as C,H,W: %d channels of %dx%d; "
                 "%d channel%s of %dx%d %s %d,%d,%d)", in->d[0], in->d[1], in->d[2], in->d[0],
                 in->d[1], in->d[2], in->d[2], in->d[2] == 1 ? "" : "s", in->d[0], in->d[1],
                 in->d[2] == 1 ? "is" : "are", in->d[2], in->d[0], in->d[1]);
}

/* A required positive integer key. */
static int need_int(struct build *b, struct section *s, const char *key, long max, long *out)
{
    if (!find(s, key))
        return missing(b->p, s, key, "");
    return get_int(b->p, s, key, 0, 1, max, out);
}

static int get_act(struct build *b, struct section *s, enum sn_act *act)
{
    *act = SN_ACT_LINEAR;
    struct kv *kv = find(s, "activation");
    if (kv && sn_act_parse(kv->value, act))
        return bad_value(b->p, s, kv);
    return SN_OK;
}

static int get_init(struct build *b, struct section *s, enum sn_init *init)
{
    *init = SN_INIT_FANIN_UNIFORM;
    struct kv *kv = find(s, "init");
    if (!kv)
        return SN_OK;
    if (strcmp(kv->value, "pytorch") == 0)
        *init = SN_INIT_FANIN_UNIFORM;
    else if (strcmp(kv->value, "he") == 0)
        *init = SN_INIT_HE;
    else if (strcmp(kv->value, "xavier") == 0)
        *init = SN_INIT_XAVIER;
    else if (strcmp(kv->value, "dirac") == 0 && strcmp(s->word, "conv") == 0)
        *init = SN_INIT_DIRAC;
    else if (strcmp(kv->value, "whiten") == 0 && strcmp(s->word, "conv") == 0)
        *init = SN_INIT_WHITEN;
    else
        return perr(b->p, kv->line, SN_EINVAL,
                    "[%s] init: expected pytorch, he, xavier%s, got '%s'", s->word,
                    strcmp(s->word, "conv") == 0 ? ", dirac or whiten"
                                                 : " (dirac, whiten: conv only)", kv->value);
    return SN_OK;
}

/* A key that only means something with one init. */
static int init_only(struct build *b, struct section *s, const char *key, enum sn_init init,
                     enum sn_init needs, const char *needs_word)
{
    struct kv *kv = find(s, key);
    if (kv && init != needs)
        return perr(b->p, kv->line, SN_EINVAL, "[%s] %s needs init = %s", s->word, key,
                    needs_word);
    return SN_OK;
}

/* init = whiten: its keys, and a conv that reads the model input (the
 * trainer computes its filters from training images). */
static int get_whiten(struct build *b, struct section *s, enum sn_init init, long *images,
                      float *eps)
{
    /* whiten_eps alone scales a direction the patches do not vary in (its
     * eigenvalue 0 or rounding noise), by 1 / sqrt(eps): from 1e-12, at most
     * 1e6 (1e-30 made filters of 9e14 and a loss of 3e15, trained to the
     * end: hostile round 75 F4) */
    if (get_int(b->p, s, "whiten_images", 5000, 1, 1L << 30, images) ||
        get_float(b->p, s, "whiten_eps", 5e-4, 1e-12, 1e30, eps) ||
        init_only(b, s, "whiten_images", init, SN_INIT_WHITEN, "whiten") ||
        init_only(b, s, "whiten_eps", init, SN_INIT_WHITEN, "whiten"))
        return b->p->rc;
    if (init == SN_INIT_WHITEN && (b->n_in != 1 || b->in[0] != -1))
        return perr(b->p, find(s, "init")->line, SN_EINVAL, "[conv] init = whiten: the layer "
                    "must read the model input (its filters whiten the training images' patches)");
    return SN_OK;
}

static int build_dense(struct build *b, struct section *s, const char *name,
                       struct sn_layer **out)
{
    long units;
    enum sn_act act;
    enum sn_init init;
    float scale;
    if (need_int(b, s, "units", 1 << 24, &units) || get_act(b, s, &act) || get_init(b, s, &init) ||
        get_float(b->p, s, "scale", 1.0, SN_DENSE_SCALE_MIN, SN_DENSE_SCALE_MAX, &scale))
        return b->p->rc;
    int rc = sn_dense_create(name, b->in_shape[0], (int)units, act, init, out);
    if (!rc && (rc = sn_dense_set_scale(*out, scale))) {
        sn_layer_destroy(*out);
        *out = NULL;
    }
    return rc;
}

static int build_activation(struct build *b, struct section *s, const char *name,
                            struct sn_layer **out)
{
    enum sn_act act;
    if (!find(s, "activation"))
        return missing(b->p, s, "activation", "");
    if (get_act(b, s, &act))
        return b->p->rc;
    return sn_activation_create(name, b->in_shape[0], act, out);
}

static int build_conv(struct build *b, struct section *s, const char *name,
                      struct sn_layer **out)
{
    long filters, size, stride, pad, images = 0;
    enum sn_act act;
    enum sn_init init;
    float frac, eps = 0.0f;
    if (need_int(b, s, "filters", 1 << 16, &filters) || need_int(b, s, "size", 1 << 12, &size) ||
        get_int(b->p, s, "stride", 1, 1, 1 << 12, &stride) ||
        get_int(b->p, s, "pad", 0, 0, 1 << 12, &pad) || get_act(b, s, &act) ||
        get_init(b, s, &init) || get_float(b->p, s, "dirac_fraction", 1.0, 0.0, 1.0, &frac) ||
        init_only(b, s, "dirac_fraction", init, SN_INIT_DIRAC, "dirac") ||
        get_whiten(b, s, init, &images, &eps))
        return b->p->rc;
    int rc = sn_conv_create(name, b->in_shape[0], (int)filters, (int)size, (int)stride, (int)pad,
                            act, init, out);
    if (rc)
        return rc;
    struct sn_param *w = &(*out)->params[0];
    /* identities on that fraction of the min(C, filters) the layer allows */
    w->n_dirac = (int)lroundf(frac * (float)w->n_dirac);
    if (init == SN_INIT_WHITEN) {
        w->whiten_images = (int)images;
        w->whiten_eps = eps;
    }
    return SN_OK;
}

static int build_pool(struct build *b, struct section *s, const char *name,
                      struct sn_layer **out)
{
    long size, stride;
    if (need_int(b, s, "size", 1 << 12, &size) ||
        get_int(b->p, s, "stride", size, 1, 1 << 12, &stride))
        return b->p->rc;
    return strcmp(s->word, "maxpool") == 0
               ? sn_maxpool_create(name, b->in_shape[0], (int)size, (int)stride, out)
               : sn_avgpool_create(name, b->in_shape[0], (int)size, (int)stride, out);
}

static int build_flatten(struct build *b, struct section *s, const char *name,
                         struct sn_layer **out)
{
    (void)s;
    return sn_flatten_create(name, b->in_shape[0], out);
}

static int build_dropout(struct build *b, struct section *s, const char *name,
                         struct sn_layer **out)
{
    float rate;
    if (get_float(b->p, s, "rate", 0.5, 0.0, 0.999, &rate))
        return b->p->rc;
    return sn_dropout_create(name, b->in_shape[0], rate, out);
}

/* affine = 1 (weight and bias learnt, the default) | bias (weight fixed at 1). */
static int get_affine(struct build *b, struct section *s, enum sn_bn_affine *affine)
{
    struct kv *kv = find(s, "affine");
    *affine = SN_BN_AFFINE;
    if (!kv || strcmp(kv->value, "1") == 0)
        return SN_OK;
    if (strcmp(kv->value, "bias") == 0) {
        *affine = SN_BN_SHIFT;
        return SN_OK;
    }
    return perr(b->p, kv->line, SN_EINVAL, "[%s] affine: expected 1 (weight and bias learnt) or "
                "bias (only the bias; the weight stays 1), got '%s'", s->word, kv->value);
}

static int build_batchnorm(struct build *b, struct section *s, const char *name,
                           struct sn_layer **out)
{
    float momentum, eps;
    enum sn_bn_affine affine;
    enum sn_act act;
    if (get_float(b->p, s, "momentum", 0.1, 0.0, 1.0, &momentum) ||
        get_float(b->p, s, "eps", 1e-5, 1e-12, 1.0, &eps) || get_affine(b, s, &affine) ||
        get_act(b, s, &act))
        return b->p->rc;
    return sn_batchnorm_create(name, b->in_shape[0], momentum, eps, affine, act, out);
}

static int build_recurrent(struct build *b, struct section *s, const char *name,
                           struct sn_layer **out)
{
    long units;
    bool seq;
    if (need_int(b, s, "units", 1 << 20, &units) || get_bool(b->p, s, "return_sequences", &seq))
        return b->p->rc;
    if (strcmp(s->word, "rnn") == 0)
        return sn_rnn_create(name, b->in_shape[0], (int)units, seq, out);
    if (strcmp(s->word, "lstm") == 0)
        return sn_lstm_create(name, b->in_shape[0], (int)units, seq, out);
    return sn_gru_create(name, b->in_shape[0], (int)units, seq, out);
}

static int build_merge(struct build *b, struct section *s, const char *name,
                       struct sn_layer **out)
{
    return strcmp(s->word, "concat") == 0 ? sn_concat_create(name, b->in_shape, b->n_in, out)
                                          : sn_add_create(name, b->in_shape, b->n_in, out);
}

/* The one table from section words to constructors; `many` kinds take the
 * layers named by `from` (two or more), the others one input. */
static const struct {
    const char *word;
    int (*build)(struct build *b, struct section *s, const char *name, struct sn_layer **out);
    bool many;
} kinds[] = {
    { "dense", build_dense, false },         { "conv", build_conv, false },
    { "maxpool", build_pool, false },        { "avgpool", build_pool, false },
    { "flatten", build_flatten, false },     { "dropout", build_dropout, false },
    { "batchnorm", build_batchnorm, false }, { "activation", build_activation, false },
    { "rnn", build_recurrent, false },       { "lstm", build_recurrent, false },
    { "gru", build_recurrent, false },       { "concat", build_merge, true },
    { "add", build_merge, true },
};

/* A `from` name no earlier layer has: the nearest earlier one a typo away
 * ("concat5" for concat4: the default names count every layer from 0, a
 * named one too), or NULL.  Looked for only on this error. */
static const char *nearest_layer(const struct sn_model *m, const char *name)
{
    struct sn_text_nearest near = { name, NULL, 0 };
    for (int i = m->n_layers - 1; i >= 0; i--)
        sn_text_offer(&near, m->layers[i]->name);
    return near.best;
}

/* The line of a section below s named name (`name = NAME`, or by default:
 * its kind and layer index, counted on from s's, index), or 0: a `from`
 * that names a layer below its own, which it cannot read yet.  The keys
 * are read directly (find would mark them asked of this section). */
/* The section's `name =` value, or NULL: read directly, as find would
 * mark the key asked of this section. */
static const char *name_line_value(const struct section *t)
{
    const char *named = NULL;
    for (int i = 0; i < t->n_kv; i++)
        if (strcmp(t->kv[i].key, "name") == 0)
            named = t->kv[i].value;
    return named;
}

static int later_layer_line(const struct parser *p, const struct section *s, int index,
                            const char *name, bool *by_default)
{
    for (const struct section *t = s + 1; t < p->secs + p->n_secs; t++) {
        if (strcmp(t->word, "augment") == 0)
            continue;
        const char *named = name_line_value(t);
        char fallback[64];
        snprintf(fallback, sizeof fallback, "%.40s%d", t->word, ++index);
        *by_default = !named;
        if (strcmp(named ? named : fallback, name) == 0)
            return t->line;
    }
    return 0;
}

/* Resolve `from` (names of earlier layers, or "input") into b->in[];
 * without it a layer reads the previous one.  self: this layer's name. */
static int resolve_inputs(struct build *b, struct section *s, const char *self, bool many)
{
    struct kv *kv = find(s, "from");
    b->n_in = 0;
    if (!kv) {
        if (many)
            return perr(b->p, s->line, SN_EINVAL, "[%s] needs 'from' (two or more earlier layers)",
                        s->word);
        b->in[0] = b->prev;
        b->in_shape[0] = sn_model_shape(b->m, b->prev);
        b->n_in = 1;
        return SN_OK;
    }
    int rc = no_empty_item(b->p, s, kv);
    if (rc)
        return rc;
    char buf[MAX_VALUE];
    snprintf(buf, sizeof buf, "%s", kv->value);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        bool is_input = strcmp(tok, "input") == 0;
        int idx = is_input ? -1 : sn_model_find(b->m, tok);
        bool by_default = false;
        if (idx == -1 && strcmp(tok, self) == 0)
            return perr(b->p, kv->line, SN_ESHAPE, "[%s] from: '%s' is this layer's own name: a "
                        "layer may only read layers above it", s->word, tok);
        const int below = idx == -1 && !is_input
                              ? later_layer_line(b->p, s, b->m->n_layers, tok, &by_default) : 0;
        if (below)
            return perr(b->p, kv->line, SN_ESHAPE, "[%s] from: '%s' is the layer at line %d%s, "
                        "below this one: a layer may only read layers above it (move it up)",
                        s->word, tok, below, by_default ? " (its default name)" : "");
        const char *like = idx == -1 && !is_input ? nearest_layer(b->m, tok) : NULL;
        if (idx == -1 && !is_input)
            return perr(b->p, kv->line, SN_ESHAPE, "[%s] from: no earlier layer is named '%s' "
                        "(%s%s%sa layer may only read layers above it)", s->word, tok,
                        like ? "did you mean '" : "", like ? like : "", like ? "'? " : "");
        if (b->n_in == SN_MAX_INPUTS)
            return perr(b->p, kv->line, SN_EINVAL, "[%s] from: at most %d inputs", s->word,
                        SN_MAX_INPUTS);
        b->in[b->n_in] = idx;
        b->in_shape[b->n_in] = sn_model_shape(b->m, idx);
        b->n_in++;
    }
    if (many && b->n_in < 2)
        return perr(b->p, kv->line, SN_EINVAL, "[%s] from: needs two or more layers", s->word);
    if (!many && b->n_in != 1)
        return perr(b->p, kv->line, SN_EINVAL, "[%s] from: takes one layer", s->word);
    return SN_OK;
}

/* flip = 0 | 1 (at random) | alternate (every other epoch). */
static int get_flip(struct parser *p, struct section *s, struct sn_augment *a)
{
    struct kv *kv = find(s, "flip");
    if (!kv || strcmp(kv->value, "0") == 0)
        return SN_OK;
    if (strcmp(kv->value, "1") == 0)
        a->flip = true;
    else if (strcmp(kv->value, "alternate") == 0)
        a->flip_alternate = true;
    else
        return perr(p, kv->line, SN_EINVAL, "[augment] flip: expected 0, 1 (at random) or "
                    "alternate (every other epoch), got '%s'", kv->value);
    return SN_OK;
}

/* One view of test_views: "[DY DX] [flip]" (translation, then mirror). */
static int parse_view(char *tok, struct sn_view *v)
{
    int n_int = 0, vals[2] = { 0, 0 };
    *v = (struct sn_view){ 0, 0, false };
    char *save = NULL;
    for (char *w = strtok_r(tok, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        long long x;
        if (strcmp(w, "flip") == 0 && !v->flip)
            v->flip = true;
        else if (n_int < 2 && !v->flip && sn_parse_int(w, -1024, 1024, &x) == SN_OK)
            vals[n_int++] = (int)x;
        else
            return SN_EINVAL;
    }
    v->dy = vals[0];
    v->dx = vals[1];
    return n_int == 1 || (n_int == 0 && !v->flip) ? SN_EINVAL : SN_OK;
}

/* test_views = VIEW, VIEW, ... and test_weights = W, W, ... (default
 * equal; normalised to sum 1); test_flip = 1 is the views 0 0 and flip. */
static int get_views(struct parser *p, struct section *s, struct sn_augment *a, int H, int W)
{
    struct kv *kv = find(s, "test_views"), *wkv = find(s, "test_weights");
    if (a->test_flip && kv)
        return perr(p, kv->line, SN_EINVAL, "[augment] test_views and test_flip both name "
                    "the views: give one");
    if (wkv && !kv)
        return perr(p, wkv->line, SN_EINVAL, "[augment] test_weights needs test_views");
    if (a->test_flip) {
        a->n_views = 2;
        a->views[1].flip = true;
        a->view_weight[0] = a->view_weight[1] = 0.5f;
        return SN_OK;
    }
    if (!kv)
        return SN_OK;
    int rc = no_empty_item(p, s, kv);
    if (!rc && wkv)
        rc = no_empty_item(p, s, wkv);
    if (rc)
        return rc;
    char buf[MAX_VALUE], *save = NULL;
    snprintf(buf, sizeof buf, "%s", kv->value);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        struct sn_view *v = &a->views[a->n_views];
        if (a->n_views == SN_MAX_VIEWS || parse_view(tok, v))
            return perr(p, kv->line, SN_EINVAL, "[augment] test_views: expected up to %d views "
                        "separated by commas, each 'DY DX', 'flip' or 'DY DX flip', got '%s'",
                        SN_MAX_VIEWS, kv->value);
        if (abs(v->dy) >= H || abs(v->dx) >= W)
            return perr(p, kv->line, SN_EINVAL, "[augment] test_views: a translation by "
                        "(%d, %d) does not fit the %dx%d input", v->dy, v->dx, H, W);
        a->view_weight[a->n_views++] = 1.0f;
    }
    if (wkv) {
        int n = 0;
        snprintf(buf, sizeof buf, "%s", wkv->value);
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            double w;
            tok = trim(tok);
            if (n == a->n_views)
                return perr(p, wkv->line, SN_EINVAL, "[augment] test_weights: more weights "
                            "than the %d views in '%s'", a->n_views, wkv->value);
            if (sn_parse_real(tok, 1e-6, 1e6, &w))
                return perr(p, wkv->line, SN_EINVAL, "[augment] test_weights: each weight: %s",
                            sn_errmsg());
            a->view_weight[n++] = (float)w;
        }
        if (n != a->n_views)
            return perr(p, wkv->line, SN_EINVAL, "[augment] test_weights: %d weights for %d "
                        "views", n, a->n_views);
    }
    double sum = 0.0;
    for (int k = 0; k < a->n_views; k++)
        sum += a->view_weight[k];
    for (int k = 0; k < a->n_views; k++)
        a->view_weight[k] = (float)(a->view_weight[k] / sum);
    return SN_OK;
}

/* [augment]: shift, flip, rotate, zoom, translate; test_flip, test_views,
 * test_weights; for (C,H,W) inputs. */
static int parse_augment(struct parser *p, struct section *s, struct sn_netcfg *net)
{
    long shift, translate;
    struct sn_augment *a = &net->augment;
    if (net->input.ndim != 3)
        return perr(p, s->line, SN_EINVAL, "[augment] needs an image input (C,H,W)");
    const int H = net->input.d[1], W = net->input.d[2];
    if (get_int(p, s, "shift", 0, 0, 64, &shift) || get_flip(p, s, a) ||
        get_float(p, s, "rotate", 0.0, 0.0, 180.0, &a->rotate) ||
        get_float(p, s, "zoom", 0.0, 0.0, 0.9, &a->zoom) ||
        get_int(p, s, "translate", 0, 0, 64, &translate) ||
        get_bool(p, s, "test_flip", &a->test_flip) || get_views(p, s, a, H, W))
        return p->rc;
    a->shift = (int)shift;
    a->translate = (int)translate;
    if (shift >= H || shift >= W)   /* every image moved out of the frame, zeros trained on */
        return perr(p, find(s, "shift")->line, SN_EINVAL, "[augment] shift: %ld pixels do not "
                    "fit the %dx%d input (give fewer than the side)", shift, H, W);
    if (translate >= H || translate >= W)
        return perr(p, find(s, "translate")->line, SN_EINVAL, "[augment] translate: %ld pixels "
                    "do not fit the %dx%d input (reflection needs fewer than the side)",
                    translate, H, W);
    if (a->n_views && net->target_input)
        return perr(p, find(s, a->test_flip ? "test_flip" : "test_views")->line, SN_EINVAL,
                    "[augment] %s averages class scores; it does not apply with target = input",
                    a->test_flip ? "test_flip" : "test_views");
    return check_unused(p, s);
}

/* Each learnt parameter's lr_mult and wd_mult: the layer's lr_mult and
 * wd_mult (1 unless given) times its kind's from [net]. */
static int set_mults(struct build *b, struct section *s, struct sn_layer *l)
{
    struct sn_mults layer;
    if (get_float(b->p, s, "lr_mult", 1.0, 0.0, 1e6, &layer.lr) ||
        get_float(b->p, s, "wd_mult", 1.0, 0.0, 1e6, &layer.wd))
        return b->p->rc;
    int learnt = 0;
    for (int i = 0; i < l->n_params; i++) {
        struct sn_param *pr = &l->params[i];
        if (pr->buffer)
            continue;
        const struct sn_mults *kind = strcmp(l->ops->kind, "batchnorm") == 0 ? &b->net->norms
                                      : strncmp(pr->name, "bias", 4) == 0 ? &b->net->biases
                                      : &b->net->weights;
        pr->lr_mult = layer.lr * kind->lr;
        pr->wd_mult = layer.wd * kind->wd;
        learnt++;
    }
    struct kv *kv = find(s, "lr_mult") ? find(s, "lr_mult") : find(s, "wd_mult");
    if (kv && !learnt)
        return perr(b->p, kv->line, SN_EINVAL, "[%s] %s: this layer has no parameters", s->word,
                    kv->key);
    return SN_OK;
}

/* freeze = 1 (every parameter of the layer stays as it is), 0, or weight
 * (only its weights: weight, weight_ih, weight_hh; the biases learn). */
static int set_freeze(struct build *b, struct section *s, struct sn_layer *l)
{
    struct kv *kv = find(s, "freeze");
    if (!kv)
        return SN_OK;
    if (strcmp(kv->value, "weight") != 0) {
        long long all;
        if (sn_parse_int(kv->value, 0, 1, &all))
            return perr(b->p, kv->line, SN_EINVAL, "[%s] freeze: expected 0, 1 or weight, got "
                        "'%s'", s->word, kv->value);
        l->freeze = all != 0;
        return SN_OK;
    }
    int n = 0;
    for (int i = 0; i < l->n_params; i++) {
        struct sn_param *pr = &l->params[i];
        if (!pr->buffer && strncmp(pr->name, "weight", 6) == 0 && pr->trainable) {
            pr->trainable = false;
            n++;
        }
    }
    if (n == 0)
        return perr(b->p, kv->line, SN_EINVAL, "[%s] freeze = weight: this layer has no "
                    "learnt weights", s->word);
    return SN_OK;
}

/* A name an earlier layer has: said with both lines, and which of the two
 * is a default name (a kind and its place: dense1), which the file does not
 * show. */
static int name_taken(struct build *b, const struct section *s, const char *name, bool given)
{
    const int j = sn_model_find(b->m, name);
    if (j < 0)
        return SN_OK;
    const struct section *t = &b->p->secs[b->sec_of[j]];
    if (!given)
        return perr(b->p, s->line, SN_ESHAPE, "[%s] is named '%s' by default (its kind and "
                    "place), which line %d gives another layer: name one of them", s->word, name,
                    t->line);
    if (!name_line_value(t))
        return perr(b->p, s->line, SN_ESHAPE, "layer name '%s' is the default name of the [%s] "
                    "at line %d (its kind and place): name one of them otherwise", name, t->word,
                    t->line);
    return perr(b->p, s->line, SN_ESHAPE, "layer name '%s' is used twice (lines %d and %d)", name,
                t->line, s->line);
}

static int build_layer(struct build *b, struct section *s, int index)
{
    struct parser *p = b->p;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(s->word, kinds[i].word) != 0)
            continue;
        char name[SN_NAME_LEN];
        struct kv *nkv = find(s, "name");
        if (nkv) {
            if (strlen(nkv->value) >= sizeof name || !nkv->value[0])
                return perr(p, nkv->line, SN_EINVAL, "[%s] name must be 1 to %d characters",
                            s->word, SN_NAME_LEN - 1);
            for (const char *c = nkv->value; *c; c++)
                if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
                    return perr(p, nkv->line, SN_EINVAL,
                                "[%s] name '%s' may hold only letters, digits, '_', '-', '.'",
                                s->word, nkv->value);
            /* "." and ".." would be path steps in the HDF5 files (/params/./weight);
             * "input" is what `from` calls the model input */
            if (!strcmp(nkv->value, ".") || !strcmp(nkv->value, "..") ||
                !strcmp(nkv->value, "input"))
                return perr(p, nkv->line, SN_EINVAL, "[%s] name '%s' is reserved", s->word,
                            nkv->value);
            snprintf(name, sizeof name, "%s", nkv->value);
        } else {
            snprintf(name, sizeof name, "%.40s%d", s->word, index);
        }
        if (name_taken(b, s, name, nkv != NULL) || resolve_inputs(b, s, name, kinds[i].many))
            return p->rc;
        struct sn_layer *l = NULL;
        int rc = kinds[i].build(b, s, name, &l);
        if (rc) {
            char hint[160];
            channels_last_hint(&b->net->input, rc, hint, sizeof hint);
            return p->rc ? p->rc : perr(p, s->line, rc, "%s%s", sn_errmsg(), hint);
        }
        if (set_freeze(b, s, l) || set_mults(b, s, l)) {
            sn_layer_destroy(l);
            return p->rc;
        }
        l->n_in = b->n_in;
        for (int j = 0; j < b->n_in; j++)
            l->in[j] = b->in[j];
        if (check_unused(p, s)) {
            sn_layer_destroy(l);
            return p->rc;
        }
        if ((rc = sn_model_add(b->m, l)))
            return perr(p, s->line, rc, "%s", sn_errmsg());
        b->prev = b->m->n_layers - 1;
        b->sec_of[b->prev] = (int)(s - p->secs);
        return SN_OK;
    }
    if (strcmp(s->word, "net") == 0)
        return perr(p, s->line, SN_EINVAL, "[net] may appear only once, first");
    struct sn_text_nearest near = { s->word, NULL, 0 };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcasecmp(s->word, kinds[i].word) == 0)   /* [Dense]: nearest of all */
            near.best = kinds[i].word, near.dist = -1;
        else
            sn_text_offer(&near, kinds[i].word);
    const char *like = near.best;
    return perr(p, s->line, SN_EINVAL, "unknown section [%s]%s%s%s", s->word,
                like ? " (did you mean [" : "", like ? like : "", like ? "]?)" : "");
}

/* Every layer but the last is read by a later one: a path left out of a
 * [concat] or [add] `from` ran every step, took no gradient, and was
 * saved and exported as dead weight, without a word. */
static void check_all_read(struct parser *p, const struct build *b)
{
    const struct sn_model *m = b->m;
    bool *read = calloc((size_t)m->n_layers, sizeof *read);
    if (!read) {
        perr(p, 0, SN_ENOMEM, "out of memory");
        return;
    }
    for (int j = 0; j < m->n_layers; j++)
        for (int k = 0; k < m->layers[j]->n_in; k++)
            if (m->layers[j]->in[k] >= 0)
                read[m->layers[j]->in[k]] = true;
    for (int i = 0; i + 1 < m->n_layers && !p->rc; i++)
        if (!read[i])
            perr(p, p->secs[b->sec_of[i]].line, SN_EINVAL, "[%s] %s: no later layer reads its "
                 "output (a path left out of a [concat] or [add] `from`?): it would run every "
                 "step and learn nothing; add it to one, or remove it",
                 p->secs[b->sec_of[i]].word, m->layers[i]->name);
    free(read);
}

int sn_modelfile_parse(const char *text, const char *fname, struct sn_netcfg *net,
                       struct sn_model **model)
{
    if (!text || !net || !model)
        return sn_fail(SN_EINVAL, "sn_modelfile_parse: %s is NULL", !text ? "text" : !net ? "net"
                       : "model");
    if (!fname)
        fname = "(model text)";
    if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
        text += 3;   /* a UTF-8 byte-order mark, as some Windows editors write */
    if (strncmp(text, "\xef\xbb\xbf", 3) == 0)   /* libinih would take a second one */
        return sn_fail(SN_EINVAL, "%s:1: two UTF-8 byte-order marks at the start (saved twice "
                       "by an editor?): remove one", fname);
    struct parser p = { .fname = fname, .text = text };
    int ini_rc = ini_parse_stream(reader, &p, handler, &p);
    if (!p.rc && ini_rc > 0)
        perr(&p, ini_rc, SN_EINVAL, "cannot parse this line (expected [section] or key = value)");
    if (!p.rc && ini_rc < 0)
        perr(&p, 0, SN_ENOMEM, "the INI parser failed (%d)", ini_rc);
    if (!p.rc && (p.n_secs == 0 || strcmp(p.secs[0].word, "net") != 0))
        perr(&p, p.n_secs ? p.secs[0].line : 1, SN_EINVAL, "the first section must be [net]%s",
             p.n_secs && strcasecmp(p.secs[0].word, "net") == 0
                 ? " (section names are lower case)" : "");
    if (!p.rc && p.n_secs < 2)
        perr(&p, p.secs[0].line, SN_EINVAL, "the model has no layers after [net]");
    if (!p.rc) {
        parse_net(&p, &p.secs[0], net);
        prefer_typo(&p, &p.secs[0]);
    }

    struct sn_model *m = NULL;
    if (!p.rc && sn_model_create(net->input, &m))
        perr(&p, 0, SN_ENOMEM, "%s", sn_errmsg());
    struct build b = { .p = &p, .net = net, .m = m, .prev = -1 };
    if (!p.rc && !(b.sec_of = malloc((size_t)p.n_secs * sizeof *b.sec_of)))
        perr(&p, 0, SN_ENOMEM, "out of memory");
    int n_aug = 0;
    for (int i = 1; i < p.n_secs && !p.rc; i++) {
        if (strcmp(p.secs[i].word, "augment") == 0) {
            if (n_aug++)
                perr(&p, p.secs[i].line, SN_EINVAL, "[augment] may appear only once");
            else
                parse_augment(&p, &p.secs[i], net);
            continue;
        }
        if ((p.rc = sn_interrupt_check("building the model")))
            break;
        build_layer(&b, &p.secs[i], i - 1 - n_aug);
        prefer_typo(&p, &p.secs[i]);
    }
    if (!p.rc && m->n_layers == 0)
        perr(&p, p.secs[0].line, SN_EINVAL, "the model has no layers after [net]");
    if (!p.rc && net->target_input && net->loss == SN_LOSS_CROSS_ENTROPY)
        perr(&p, p.secs[0].line, SN_EINVAL, "[net] target = input needs loss = mse or "
             "binary_cross_entropy");
    /* The losses apply their own softmax / sigmoid to the model's output:
     * the last layer's, looking through layers that pass values on
     * unchanged in kind (dropout, flatten), whatever sections follow. */
    if (!p.rc && m->n_layers > 0) {
        int out = m->n_layers - 1;
        while (out >= 0 && (!strcmp(m->layers[out]->ops->kind, "dropout") ||
                            !strcmp(m->layers[out]->ops->kind, "flatten")))
            out = m->layers[out]->in[0];
        struct section *last = out >= 0 ? &p.secs[b.sec_of[out]] : &p.secs[0];
        for (int i = 0; i < last->n_kv; i++) {
            const struct kv *kv = &last->kv[i];
            if (strcmp(kv->key, "activation") != 0)
                continue;
            if (net->loss == SN_LOSS_CROSS_ENTROPY && strcmp(kv->value, "softmax") == 0)
                perr(&p, kv->line, SN_EINVAL, "[%s] activation = softmax before loss = "
                     "cross_entropy: the loss applies softmax itself; use linear", last->word);
            if (net->loss == SN_LOSS_BCE && strcmp(kv->value, "sigmoid") == 0)
                perr(&p, kv->line, SN_EINVAL, "[%s] activation = sigmoid before loss = "
                     "binary_cross_entropy: the loss applies sigmoid itself; use linear",
                     last->word);
        }
    }
    if (!p.rc)
        check_all_read(&p, &b);
    free(b.sec_of);
    for (int i = 0; i < p.n_secs; i++)
        free(p.secs[i].kv);
    free(p.secs);
    if (p.rc) {
        sn_model_destroy(m);
        return p.rc;
    }
    *model = m;
    return SN_OK;
}
