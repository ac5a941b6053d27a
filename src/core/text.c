/* text: class names that show as themselves (see text.h).  Unicode's
 * character properties and normalization come from GNU libunistring:
 * tables of a hundred thousand characters are not hand-written here. */
#include "core/text.h"

#include "core/status.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct key {
    uint8_t *text;   /* NFKC form, or a copy of the bytes */
    size_t len;
    size_t index;
};

static int by_text(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    const int c = memcmp(x->text, y->text, x->len < y->len ? x->len : y->len);
    return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* Cyrillic and Greek letters drawn as a Latin one in common fonts, and
 * that Latin letter: "Coat" with a Cyrillic о is another name that shows
 * as "Coat".  The letters of Unicode's confusables table (security/
 * confusables.txt) most fonts draw alike; that table itself is not in
 * libunistring or another Debian library. */
static const struct { ucs4_t from; char to; } look_alike[] = {
    { 0x0405, 'S' }, { 0x0406, 'I' }, { 0x0408, 'J' }, { 0x0410, 'A' }, { 0x0412, 'B' },
    { 0x0415, 'E' }, { 0x041A, 'K' }, { 0x041C, 'M' }, { 0x041D, 'H' }, { 0x041E, 'O' },
    { 0x0420, 'P' }, { 0x0421, 'C' }, { 0x0422, 'T' }, { 0x0423, 'Y' }, { 0x0425, 'X' },
    { 0x0430, 'a' }, { 0x0435, 'e' }, { 0x043E, 'o' }, { 0x0440, 'p' }, { 0x0441, 'c' },
    { 0x0443, 'y' }, { 0x0445, 'x' }, { 0x0455, 's' }, { 0x0456, 'i' }, { 0x0458, 'j' },
    { 0x04BB, 'h' }, { 0x0501, 'd' }, { 0x0391, 'A' }, { 0x0392, 'B' }, { 0x0395, 'E' },
    { 0x0396, 'Z' }, { 0x0397, 'H' }, { 0x0399, 'I' }, { 0x039A, 'K' }, { 0x039C, 'M' },
    { 0x039D, 'N' }, { 0x039F, 'O' }, { 0x03A1, 'P' }, { 0x03A4, 'T' }, { 0x03A5, 'Y' },
    { 0x03A7, 'X' }, { 0x03BF, 'o' }, { 0x03BD, 'v' }, { 0x03C1, 'p' },
};

/* text (len bytes of UTF-8) with each letter of look_alike replaced by its
 * Latin letter, in place (each is 2 bytes of UTF-8, the letter 1). */
static void latin_of(uint8_t *text, size_t *len)
{
    size_t at = 0, to = 0;
    while (at < *len) {
        ucs4_t c;
        const int n = u8_mbtouc(&c, text + at, *len - at);
        char latin = 0;
        for (size_t i = 0; i < sizeof look_alike / sizeof look_alike[0] && !latin; i++)
            latin = look_alike[i].from == c ? look_alike[i].to : 0;
        if (latin)
            text[to++] = (uint8_t)latin;
        else
            memmove(text + to, text + at, (size_t)n), to += (size_t)n;
        at += (size_t)n;
    }
    *len = to;
}

/* The name's normal form (a copy of its bytes when it is not UTF-8):
 * compatibility (NFKC), which also makes one of the forms that show
 * alike: a no-break space and a space, a ligature and its letters; with
 * latin, look-alike letters of other scripts made Latin too. */
static int key_of(const char *name, size_t index, bool latin, struct key *k)
{
    const uint8_t *s = (const uint8_t *)name;
    const size_t len = strlen(name);
    const bool utf8 = len && !u8_check(s, len);
    k->index = index;
    k->text = utf8 ? u8_normalize(UNINORM_NFKC, s, len, NULL, &k->len) : NULL;
    if (!k->text && (k->text = malloc(len ? len : 1)))
        memcpy(k->text, s, k->len = len);
    if (k->text && utf8 && latin)
        latin_of(k->text, &k->len);
    return k->text ? SN_OK : sn_fail(SN_ENOMEM, "out of memory comparing class names");
}

/* Sorted by their keys, names that are the same text (or look alike) are
 * neighbours. */
static int clash(const char *const *names, size_t n, bool latin, bool *found, size_t pair[2])
{
    *found = false;
    struct key *k = calloc(n ? n : 1, sizeof *k);
    int rc = k ? SN_OK : sn_fail(SN_ENOMEM, "out of memory comparing class names");
    for (size_t i = 0; i < n && !rc; i++)
        rc = key_of(names[i], i, latin, &k[i]);
    if (!rc)
        qsort(k, n, sizeof *k, by_text);
    for (size_t i = 1; i < n && !rc && !*found; i++)
        if (by_text(&k[i - 1], &k[i]) == 0) {
            *found = true;
            pair[0] = k[i - 1].index < k[i].index ? k[i - 1].index : k[i].index;
            pair[1] = k[i - 1].index ^ k[i].index ^ pair[0];
        }
    for (size_t i = 0; k && i < n; i++)
        free(k[i].text);
    free(k);
    return rc;
}

int sn_text_clash(const char *const *names, size_t n, bool *found, size_t pair[2])
{
    return clash(names, n, false, found, pair);
}

int sn_text_refuse_look_alike(const char *const *names, size_t n, int code, const char *where)
{
    bool found;
    size_t k[2];
    int rc = clash(names, n, true, &found, k);
    if (!rc && found)
        rc = sn_fail(code, "%s: the class names '%s' (%zu) and '%s' (%zu) look alike (one has a "
                     "Cyrillic or Greek letter drawn as a Latin one): rename one", where,
                     names[k[0]], k[0], names[k[1]], k[1]);
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

bool sn_text_hides(uint32_t c)
{
    return trouble(c) != NULL;
}

/* Edit distance of two short names, stopping early above 2. */
#define TEXT_NEAR_MAX 64

bool sn_text_near(const char *a, const char *b)
{
    const size_t la = strlen(a), lb = strlen(b);
    int row[TEXT_NEAR_MAX + 1];
    if (la >= TEXT_NEAR_MAX || lb >= TEXT_NEAR_MAX || (la > lb ? la - lb : lb - la) > 2)
        return false;
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
            return false;
    }
    return row[lb] <= 2;
}
