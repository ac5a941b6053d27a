/* text: class names that show as themselves (see text.h).  Unicode's
 * character properties and normalization come from GNU libunistring, its
 * confusables table from ICU: tables of a hundred thousand characters are
 * not hand-written here. */
#include "core/text.h"

#include "core/interrupt.h"
#include "core/status.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>
#include <uniwidth.h>

/* What c would do to a name shown on a screen, in words; NULL for none. */
static const char *trouble(ucs4_t c)
{
    if (uc_is_general_category(c, UC_CATEGORY_Cc))
        return "a control character";
    if (uc_is_property_bidi_control(c))
        return "a bidirectional control";
    if (uc_is_general_category(c, UC_CATEGORY_Zl))
        return "a line separator";
    if (uc_is_general_category(c, UC_CATEGORY_Zp))
        return "a paragraph separator";
    if (uc_is_property_default_ignorable_code_point(c))
        return "an invisible character";
    if (uc_is_general_category(c, UC_CATEGORY_Cf))   /* U+FFF9-U+FFFB, U+0600-U+0605 */
        return "a format character (shown as nothing, or as a box)";
    if (c == 0x2800)   /* a symbol, neither white space nor ignorable */
        return "a blank Braille pattern (shown as a blank)";
    if (uc_is_property_not_a_character(c))
        return "a noncharacter";
    return NULL;
}

bool sn_text_problem(const char *s, char *why, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
    while (p < end) {
        ucs4_t c;
        const int n = u8_mbtoucr(&c, p, (size_t)(end - p));
        if (n < 0) {
            snprintf(why, len, "the byte 0x%02x, which is not UTF-8", *p);
            return true;
        }
        const char *what = trouble(c);
        /* a mark joins the character before it: a name of marks alone
         * shows as nothing, or as part of the text beside it */
        if (!what && p == (const uint8_t *)s && uc_is_general_category(c, UC_CATEGORY_M))
            what = "a combining mark at its start";
        if (what) {
            snprintf(why, len, "%s (U+%04X)", what, (unsigned)c);
            return true;
        }
        p += n;
    }
    return false;
}

bool sn_text_blank_edge(const char *s)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
    if (p == end)
        return false;
    ucs4_t c;
    if (u8_mbtoucr(&c, p, (size_t)(end - p)) > 0 && uc_is_property_white_space(c))
        return true;
    const uint8_t *last = u8_prev(&c, end, p);
    return last && uc_is_property_white_space(c);
}

/* A set of Unicode scripts (ICU's UScriptCode, below 256), as bits. */
#define SCRIPT_WORDS 4
struct script_set {
    uint64_t w[SCRIPT_WORDS];
};

struct key {
    uint8_t *text;   /* NFKC form, or a copy of the bytes */
    size_t len;
    size_t index;
    struct script_set scripts;   /* with alike: the name's resolved scripts */
};

static int by_text(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    const int c = memcmp(x->text, y->text, x->len < y->len ? x->len : y->len);
    return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* name's skeleton by Unicode's confusables table (UTS #39, ICU's spoof
 * checker): names that show alike have one skeleton ("Coat" with a
 * Latin o or a Cyrillic о, "l" and "I", "rn" and "m").  NULL on failure. */
static uint8_t *skeleton_of(USpoofChecker *sc, const char *name, size_t *len)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = sc ? uspoof_getSkeletonUTF8(sc, 0, name, -1, NULL, 0, &st) : -1;
    char *out = n >= 0 && (st == U_BUFFER_OVERFLOW_ERROR || U_SUCCESS(st)) ? malloc((size_t)n + 1)
                                                                          : NULL;
    st = U_ZERO_ERROR;
    if (out && uspoof_getSkeletonUTF8(sc, 0, name, -1, out, n + 1, &st) != n) {
        free(out);
        out = NULL;
    }
    *len = out ? (size_t)n : 0;
    return (uint8_t *)out;
}

/* The name's normal form (a copy of its bytes when it is not UTF-8):
 * compatibility (NFKC), which also makes one of the forms that show
 * alike: a no-break space and a space, a ligature and its letters; given
 * a spoof checker (alike), its confusables skeleton instead. */
static int key_of(USpoofChecker *alike, const char *name, size_t index, struct key *k)
{
    const uint8_t *s = (const uint8_t *)name;
    const size_t len = strlen(name);
    const bool utf8 = len && !u8_check(s, len);
    k->index = index;
    k->text = !utf8 ? NULL : alike ? skeleton_of(alike, name, &k->len)
                                   : u8_normalize(UNINORM_NFKC, s, len, NULL, &k->len);
    if (!k->text && (k->text = malloc(len ? len : 1)))
        memcpy(k->text, s, k->len = len);
    return k->text ? SN_OK : sn_fail(SN_ENOMEM, "out of memory comparing class names");
}

static void script_add(struct script_set *s, int code)
{
    if (code >= 0 && code < 64 * SCRIPT_WORDS)
        s->w[code / 64] |= UINT64_C(1) << (code % 64);
}

static bool script_has(const struct script_set *s, int code)
{
    return code >= 0 && code < 64 * SCRIPT_WORDS && (s->w[code / 64] >> (code % 64)) & 1;
}

/* The scripts of character c (its Script_Extensions), with UTS #39's
 * augmentation: Han counts as Japanese, Korean and Han with Bopomofo too,
 * Hiragana and Katakana as Japanese, Hangul as Korean; false for Common
 * and Inherited, which go with any script. */
static bool char_scripts(ucs4_t c, struct script_set *out)
{
    UScriptCode sc[32];
    UErrorCode st = U_ZERO_ERROR;
    const int k = uscript_getScriptExtensions((UChar32)c, sc, 32, &st);
    if (U_FAILURE(st) || k <= 0 ||
        (k == 1 && (sc[0] == USCRIPT_COMMON || sc[0] == USCRIPT_INHERITED)))
        return false;
    *out = (struct script_set){ { 0 } };
    for (int i = 0; i < k; i++)
        script_add(out, sc[i]);
    if (script_has(out, USCRIPT_HAN)) {
        script_add(out, USCRIPT_JAPANESE);
        script_add(out, USCRIPT_KOREAN);
        script_add(out, USCRIPT_HAN_WITH_BOPOMOFO);
    }
    if (script_has(out, USCRIPT_HIRAGANA) || script_has(out, USCRIPT_KATAKANA))
        script_add(out, USCRIPT_JAPANESE);
    if (script_has(out, USCRIPT_HANGUL))
        script_add(out, USCRIPT_KOREAN);
    if (script_has(out, USCRIPT_BOPOMOFO))
        script_add(out, USCRIPT_HAN_WITH_BOPOMOFO);
    return true;
}

/* name's resolved script set (UTS #39): the scripts every one of its
 * characters belongs to; all of them for a name of Common characters
 * alone ("0", "-"), none for a name that mixes scripts ("Cоat" with a
 * Cyrillic о). */
static struct script_set resolved_scripts(const char *name)
{
    struct script_set r;
    memset(&r, 0xff, sizeof r);
    const uint8_t *p = (const uint8_t *)name;
    size_t n = strlen(name);
    while (n > 0) {
        ucs4_t c;
        const int len = u8_mbtouc(&c, p, n);
        struct script_set here;
        if (char_scripts(c, &here))
            for (int w = 0; w < SCRIPT_WORDS; w++)
                r.w[w] &= here.w[w];
        p += len;
        n -= (size_t)len;
    }
    return r;
}

/* Whether two names of one skeleton pass for each other across scripts
 * (ICU's uspoof_areConfusable's mixed- and whole-script cases, from each
 * name's resolved scripts, worked out once a name): their resolved sets
 * share no script, or one is empty.  Look-alikes of one script are the
 * user's own choice of letters, not another script's letter passing for
 * one: '0' and 'O', 'l' and 'I' of EMNIST's classes; へ and ヘ, ニ and 二
 * of a Japanese character set; '-' and '−' of handwritten mathematics. */
static bool across_scripts(const struct key *a, const struct key *b)
{
    for (int w = 0; w < SCRIPT_WORDS; w++)
        if (a->scripts.w[w] & b->scripts.w[w])
            return false;
    return true;
}

/* Whether two names of the same key clash: the same text always, with
 * alike only across scripts. */
static bool clash_pair(const struct key *a, const struct key *b, bool alike)
{
    return !alike || across_scripts(a, b);
}

/* The most names of one skeleton compared pair by pair; more than that
 * many names that all look alike are no set of classes anyone reads, and
 * are refused as they are (pair by pair, 4^8 names made of l, I, 1 and |
 * would cost billions of comparisons). */
#define ALIKE_RUN_MAX 64

/* Sorted by their keys, names that are the same text (or look alike) are
 * neighbours: each run of one key is compared pair by pair. */
static int clash(const char *const *names, size_t n, bool alike, bool *found, size_t pair[2],
                 bool *many)
{
    *found = *many = false;
    size_t bytes = 0, looked = 0;   /* a stop looked at by the work: 4,095 names of 4 KB took 6 s */
    struct key *k = calloc(n ? n : 1, sizeof *k);
    int rc = k ? SN_OK : sn_fail(SN_ENOMEM, "out of memory comparing class names");
    UErrorCode st = U_ZERO_ERROR;
    USpoofChecker *sc = alike && !rc ? uspoof_open(&st) : NULL;
    if (alike && !rc && (!sc || U_FAILURE(st)))
        rc = sn_fail(SN_ENOMEM, "ICU's spoof checker could not be opened (%s)", u_errorName(st));
    for (size_t i = 0; i < n && !rc; i++) {
        rc = key_of(sc, names[i], i, &k[i]);
        if (!rc && alike)
            k[i].scripts = resolved_scripts(names[i]);
        bytes += strlen(names[i]) + 64;   /* 100,000 names take about a second */
        if (!rc && bytes - looked > (256u << 10)) {
            looked = bytes;
            rc = sn_interrupt_check("comparing the class names");
        }
    }
    if (sc)
        uspoof_close(sc);
    if (!rc)
        qsort(k, n, sizeof *k, by_text);
    for (size_t i = 1, run = 1; i < n && !rc && !*found; i++) {
        run = by_text(&k[i - 1], &k[i]) == 0 ? run + 1 : 1;
        for (size_t j = i; j-- > 0 && !*found && by_text(&k[j], &k[i]) == 0;)
            if (run > ALIKE_RUN_MAX || clash_pair(&k[j], &k[i], alike)) {
                *found = true;
                *many = run > ALIKE_RUN_MAX;
                pair[0] = k[j].index < k[i].index ? k[j].index : k[i].index;
                pair[1] = k[j].index ^ k[i].index ^ pair[0];
            }
    }
    for (size_t i = 0; k && i < n; i++)
        free(k[i].text);
    free(k);
    return rc;
}

int sn_text_clash(const char *const *names, size_t n, bool *found, size_t pair[2])
{
    bool many;
    return clash(names, n, false, found, pair, &many);
}

int sn_text_refuse_look_alike(const char *const *names, size_t n, int code, const char *where)
{
    bool found, many;
    size_t k[2];
    int rc = clash(names, n, true, &found, k, &many);
    if (!rc && found && many)
        return sn_fail(code, "%s: more than %d class names look alike by Unicode's confusables "
                       "(among them '%s' (%zu) and '%s' (%zu)); at most %d of one look are "
                       "compared: rename some", where, ALIKE_RUN_MAX, names[k[0]], k[0],
                       names[k[1]], k[1], ALIKE_RUN_MAX);
    if (!rc && found)
        rc = sn_fail(code, "%s: the class names '%s' (%zu) and '%s' (%zu) look alike (Unicode "
                     "lists them as confusable across scripts, such as a Cyrillic o among Latin "
                     "letters): rename one", where, names[k[0]], k[0], names[k[1]], k[1]);
    return rc;
}

/* The columns of the character at p (n bytes left) into *cols; its bytes. */
static int next_char(const uint8_t *p, size_t n, int *cols)
{
    ucs4_t c;
    const int len = u8_mbtoucr(&c, p, n);
    const int w = len > 0 ? uc_width(c, "UTF-8") : 1;
    *cols = w < 0 ? 1 : w;
    return len > 0 ? len : 1;
}

int sn_text_width(const char *s)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
    int cols = 0, w;
    while (p < end) {
        p += next_char(p, (size_t)(end - p), &w);
        cols += w;
    }
    return cols;
}

void sn_text_pad(const char *s, int cols, char *out, size_t len)
{
    static const char dots[] = "\xe2\x80\xa6";   /* U+2026, one column */
    const bool cut = sn_text_width(s) > cols && cols > 0;
    const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
    size_t at = 0;
    int used = 0, w;
    while (p < end) {
        const int n = next_char(p, (size_t)(end - p), &w);
        if (used + w > cols - cut || at + (size_t)n + (cut ? 3 : 0) + 1 > len)
            break;
        memcpy(out + at, p, (size_t)n);
        at += (size_t)n, used += w, p += n;
    }
    if (cut && at + 4 <= len) {   /* a name cut short says so */
        memcpy(out + at, dots, 3);
        at += 3, used++;
    }
    for (; used < cols && at + 1 < len; used++)
        out[at++] = ' ';
    if (len)
        out[at] = '\0';
}

void sn_text_clean(char *s, bool keep_lines)
{
    uint8_t *p = (uint8_t *)s, *end = p + strlen(s);
    while (p < end) {
        ucs4_t c;
        const int n = u8_mbtoucr(&c, p, (size_t)(end - p));
        if (keep_lines && (*p == '\n' || *p == '\t'))
            p++;
        else if (n < 0)   /* not UTF-8: each such byte on its own */
            *p++ = '?';
        else if (trouble(c))
            p = memset(p, '?', (size_t)n) + n;
        else
            p += n;
    }
}

void sn_text_host(char *host, size_t len)
{
    char whole[256] = "";   /* HOST_NAME_MAX is 64: a buffer that size failed for such a name */
    if (len == 0)
        return;
    if (gethostname(whole, sizeof whole - 1) != 0 || !whole[0])
        snprintf(whole, sizeof whole, "?");
    snprintf(host, len, "%s", whole);   /* cut to fit: still the host's own first bytes */
    sn_text_clean(host, false);
}

bool sn_text_hides(uint32_t c)
{
    return trouble(c) != NULL;
}

/* Edit distance of two short names, 3 for any above 2 (it stops early). */
#define TEXT_NEAR_MAX 64

static int text_distance(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    int row[TEXT_NEAR_MAX + 1];
    if (la >= TEXT_NEAR_MAX || lb >= TEXT_NEAR_MAX || (la > lb ? la - lb : lb - la) > 2)
        return 3;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0], best = row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            const int up = row[j];
            int v = diag + (a[i - 1] != b[j - 1]);
            v = up + 1 < v ? up + 1 : v;
            v = row[j - 1] + 1 < v ? row[j - 1] + 1 : v;
            row[j] = v, diag = up;
            best = v < best ? v : best;
        }
        if (best > 2)
            return 3;
    }
    return row[lb] <= 2 ? row[lb] : 3;
}

/* Two edits at most, one when either name has 3 characters or fewer ("ot"
 * is no typo of "lr"). */
static int near_limit(const char *a, const char *b)
{
    return strlen(a) <= 3 || strlen(b) <= 3 ? 1 : 2;
}

bool sn_text_near(const char *a, const char *b)
{
    return text_distance(a, b) <= near_limit(a, b);
}

void sn_text_offer(struct sn_text_nearest *n, const char *name)
{
    const int d = text_distance(n->word, name);
    if (d <= near_limit(n->word, name) && (!n->best || d < n->dist)) {
        n->best = name;
        n->dist = d;
    }
}

const char *sn_text_ext(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot : NULL;
}

bool sn_text_ext_in(const char *path, const char *list)
{
    const char *ext = sn_text_ext(path);
    const size_t n = ext ? strlen(ext) : 0;
    for (const char *at = list; ext && *at; at += strspn(at, " ")) {
        const size_t len = strcspn(at, " ");
        if (len == n && strncasecmp(at, ext, n) == 0)
            return true;
        at += len;
    }
    return false;
}
