/* fingerprint: dataset and model-text fingerprints (see fingerprint.h). */
#include "io/fingerprint.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/status.h"
#include "io/h5.h"

uint64_t sn_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The line as it is written: what fits of it in out, and a hash of all of
 * it (a split's per-channel mean and std alone may be thousands of numbers;
 * a cut line must still tell every difference). */
struct fp_line {
    char *out;
    size_t len, at;
    bool cut;
    uint64_t h;
};

static void put(struct fp_line *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct fp_line *t, const char *fmt, ...)
{
    char piece[256];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    const size_t k = n < 0 ? 0 : (size_t)n < sizeof piece ? (size_t)n : sizeof piece - 1;
    t->h = sn_fnv1a(t->h, piece, k);
    if (!t->cut && t->at + k < t->len) {
        memcpy(t->out + t->at, piece, k + 1);
        t->at += k;
    } else {
        t->cut = true;
    }
}

/* One split's part of the line, and its rows into *h. */
static int split_part(struct sn_dataset *d, const struct sn_split *s, float *row, uint64_t *h,
                      struct fp_line *t)
{
    char shape[64];
    sn_shape_str(&s->shape, shape, sizeof shape);
    put(t, "%s %zu x %s %s scale %.9g", s->name, s->n, shape, s->x_u8 ? "u8" : "f32", s->scale);
    for (int c = 0; c < s->n_norm; c++)
        put(t, "%s%.6g/%.6g", c ? "," : " mean/std ", s->mean[c], s->std[c]);
    const size_t samples = s->n < 256 ? s->n : 256;
    int rc = SN_OK;
    for (size_t k = 0; k < samples && !rc; k++) {
        size_t at = k * s->n / samples;
        int label = 0;
        rc = sn_dataset_read_block(d, s, at, 1, row, s->y_int ? &label : NULL, NULL);
        *h = sn_fnv1a(*h, row, s->row_len * sizeof *row);
        *h = sn_fnv1a(*h, &label, sizeof label);
    }
    return rc;
}

/* The count and hash of the file's class names into *n, *h. */
static int classes_hash(struct sn_dataset *d, size_t *n, uint64_t *h)
{
    char **classes = NULL;
    *n = 0;
    *h = SN_FNV_START;
    if (d->f && sn_h5_has_attr(d->f, "/", "classes")) {
        int rc = sn_h5_attr_get_strs(d->f, "/", "classes", &classes, n);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < *n; i++)
        *h = sn_fnv1a(*h, classes[i], strlen(classes[i]) + 1);
    if (classes)
        sn_h5_free_strs(classes, *n);
    return SN_OK;
}

int sn_dataset_fingerprint(struct sn_dataset *d, float *row, char *out, size_t len)
{
    static const char *const splits[] = { "train", "test", "val" };
    uint64_t rows = SN_FNV_START, ch;
    struct fp_line t = { .out = out, .len = len, .h = SN_FNV_START };
    out[0] = '\0';
    for (int i = 0; i < 3; i++) {
        const struct sn_split *s = sn_dataset_split(d, splits[i]);
        if (!s)
            continue;
        if (t.h != SN_FNV_START)
            put(&t, "; ");
        int rc = split_part(d, s, row, &rows, &t);
        if (rc)
            return rc;
    }
    size_t n;
    int rc = classes_hash(d, &n, &ch);
    if (rc)
        return rc;
    char tail[96], mark[48];
    snprintf(tail, sizeof tail, "; %zu classes %016llx; rows %016llx", n,
             (unsigned long long)ch, (unsigned long long)rows);
    snprintf(mark, sizeof mark, " ...; all %016llx", (unsigned long long)t.h);
    const size_t need = strlen(tail) + strlen(mark);
    if (!t.cut && t.at + strlen(tail) < len) {
        memcpy(out + t.at, tail, strlen(tail) + 1);
    } else if (len > need) {   /* what fits, then the hash of the whole and the tail */
        size_t keep = t.at < len - 1 - need ? t.at : len - 1 - need;
        for (size_t k = keep; k > keep / 2; k--)   /* at a word's end, for the reader */
            if (out[k] == ' ' || out[k] == ',') {
                keep = k;
                break;
            }
        snprintf(out + keep, len - keep, "%s%s", mark, tail);
    }
    return SN_OK;
}

/* Bytes at p folded into h: CRC-32 of their count and contents. */
static uint64_t fold_crc(uint64_t h, const void *p, uint64_t n)
{
    uLong c = crc32_z(0L, p, (z_size_t)n);
    h = sn_fnv1a(h, &n, sizeof n);
    return sn_fnv1a(h, &c, sizeof c);
}

uint64_t sn_dataset_held_hash(const struct sn_dataset *d, uint64_t *bytes)
{
    const struct sn_split *const splits[] = { &d->train, &d->test, &d->val };
    uint64_t h = SN_FNV_START;
    *bytes = 0;
    for (int i = 0; i < 3; i++) {
        const struct sn_split *s = splits[i];
        if (!s->present || !s->x_mem)
            continue;
        const uint64_t xb = (uint64_t)s->n * s->row_len * (s->x_u8 ? 1 : sizeof(float));
        const uint64_t yb = s->has_y ? (uint64_t)s->n * (s->y_int ? 1 : (size_t)s->y_k) * 4 : 0;
        h = fold_crc(h, s->x_mem, xb);
        h = fold_crc(h, s->y_mem, yb);
        *bytes += xb + yb;
    }
    return h;
}

/* Whether a line opens a section, and which: "[net]" -> "net". */
static bool section_of(const char *line, size_t n, char *name, size_t name_len)
{
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    const char *end = n ? memchr(line, ']', n) : NULL;
    if (!n || *line != '[' || !end)
        return false;
    snprintf(name, name_len, "%.*s", (int)(end - line - 1), line + 1);
    return true;
}

/* Walking a model file's layer sections line by line: every section but
 * [net] and [augment] (training settings, recorded apart). */
struct layer_walk {
    const char *at;
    int lineno;
    bool layers;
};

/* The next line of a layer section into *line (n bytes, its line number
 * in *lineno); false at the end of the text. */
static bool next_layer_line(struct layer_walk *w, const char **line, size_t *n, int *lineno)
{
    while (*w->at) {
        const char *nl = strchr(w->at, '\n');
        *line = w->at;
        *n = nl ? (size_t)(nl - w->at) : strlen(w->at);
        *lineno = ++w->lineno;
        w->at += *n + (nl != NULL);
        char name[32];
        if (section_of(*line, *n, name, sizeof name))
            w->layers = strcmp(name, "net") != 0 && strcmp(name, "augment") != 0;
        if (w->layers)
            return true;
    }
    return false;
}

/* The line without comments and white space: into buf (at most len - 1
 * bytes of it); its whole length. */
static size_t squeeze(const char *line, size_t n, char *buf, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < n && line[i] != '#' && line[i] != ';'; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
            if (k + 1 < len)
                buf[k] = line[i];
            k++;
        }
    buf[k + 1 < len ? k : len - 1] = '\0';
    return k;
}

void sn_model_text_fingerprint(const char *text, char *out, size_t len)
{
    /* without comments and white space; blank lines do not count */
    uint64_t h = SN_FNV_START;
    struct layer_walk w = { .at = text };
    const char *line;
    size_t n;
    int lineno;
    char buf[4096];
    while (next_layer_line(&w, &line, &n, &lineno)) {
        const size_t k = squeeze(line, n, buf, sizeof buf);
        if (k < sizeof buf) {
            h = sn_fnv1a(h, buf, k);
        } else {   /* longer than buf: the same bytes, one at a time */
            for (size_t i = 0; i < n && line[i] != '#' && line[i] != ';'; i++)
                if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                    h = sn_fnv1a(h, line + i, 1);
        }
        if (k)
            h = sn_fnv1a(h, "\n", 1);
    }
    snprintf(out, len, "layers %016llx", (unsigned long long)h);
}

/* The next non-blank layer line, squeezed into buf; false at the end. */
static bool next_kept(struct layer_walk *w, char *buf, size_t len, int *lineno)
{
    const char *line;
    size_t n;
    while (next_layer_line(w, &line, &n, lineno))
        if (squeeze(line, n, buf, len))
            return true;
    return false;
}

void sn_model_text_difference(const char *run, const char *ckpt, char *out, size_t len)
{
    struct layer_walk a = { .at = run }, b = { .at = ckpt };
    char la[96], lb[96];
    int na = 0, nb = 0;
    out[0] = '\0';
    for (;;) {
        const bool more_a = next_kept(&a, la, sizeof la, &na);
        const bool more_b = next_kept(&b, lb, sizeof lb, &nb);
        if (!more_a && !more_b)
            return;
        if (more_a && more_b && strcmp(la, lb) == 0)
            continue;
        if (more_a)
            snprintf(out, len, "the layers first differ at line %d of this run's model file, "
                     "'%s' (the checkpoint's: '%s')", na, la, more_b ? lb : "its end");
        else
            snprintf(out, len, "the checkpoint's layers go on after this run's end with '%s' "
                     "(its line %d)", lb, nb);
        return;
    }
}

/* The part of a data line that starts with word (a split's name, "all",
 * "rows") into out ("" when the line has none); "N classes ..." for word
 * "classes". */
static void data_part(const char *line, const char *word, char *out, size_t len)
{
    out[0] = '\0';
    for (const char *p = line; p && *p;) {
        const char *end = strstr(p, "; ");
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *sp = memchr(p, ' ', n);
        const size_t w = sp ? (size_t)(sp - p) : n;
        const bool hit = strcmp(word, "classes") == 0
            ? sp && (size_t)(sp - p) < n && strncmp(sp + 1, "classes ", 8) == 0
            : w == strlen(word) && strncmp(p, word, w) == 0;
        if (hit) {
            snprintf(out, len, "%.*s", (int)n, p);
            return;
        }
        p = end ? end + 2 : NULL;
    }
}

void sn_dataset_fingerprint_difference(const char *run, const char *ckpt, char *out, size_t len)
{
    static const char *const parts[] = { "train", "test", "val", "all", "classes", "rows" };
    static const char *const said[] = { "/train", "/test", "/val",
                                        "the splits past the line's cut ('...')",
                                        "the class names", "the sampled rows' contents" };
    size_t at = 0;
    bool split_set = false;   /* a split new or gone: the rows sampled from it changed too */
    out[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && at < len; i++) {
        char a[SN_FP_PART], b[SN_FP_PART];
        data_part(run, parts[i], a, sizeof a);
        data_part(ckpt, parts[i], b, sizeof b);
        if (strcmp(a, b) == 0 || (i == 3 && at > 0))   /* a cut line's hash: if nothing else */
            continue;
        split_set |= i <= 2 && (!a[0] || !b[0]);
        const char *how = i == 5 && split_set ? "differ, as they are sampled from every split"
                        : i > 2 ? "differ" : !b[0] ? "is new (the checkpoint's data had none)"
                        : !a[0] ? "is gone (the checkpoint's data had it)"
                                : "differs in rows, shape, type or preparation";
        at += (size_t)snprintf(out + at, len - at, "%s%s %s", at ? "; " : "the data differ: ",
                               said[i], how);
    }
}

