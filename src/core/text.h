/* text: what a name a person gives (a class name) must be to show as
 * itself on a terminal, in a table and in a picture, and how any text is
 * made safe to print (messages, lines quoting files). */
#ifndef SN_CORE_TEXT_H
#define SN_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first character of s that could make it show as something else, in
 * words, into why (len bytes): "the byte 0xff, which is not UTF-8", "a
 * control character (U+001B)", "a bidirectional control (U+200F)", "a line
 * separator (U+2028)", "an invisible character (U+200B)" (Unicode's
 * Default_Ignorable_Code_Point: zero-width spaces and joiners, variation
 * selectors, soft hyphens, fillers, tags), "a noncharacter (U+FFFF)" or
 * "a combining mark at its start (U+0301)" (it would join what is shown
 * before the name):
 * true; false when s is clean text. */
bool sn_text_problem(const char *s, char *why, size_t len);

/* Whether s starts or ends with a blank (Unicode White_Space: ' ', the
 * no-break and ideographic spaces, ...): 'a' and 'a ' show alike. */
bool sn_text_blank_edge(const char *s);

/* Whether two of the n names are the same text (equal in Unicode's
 * normalization form KC: "é" as one character or as e and a combining
 * accent, "Å" as the letter or as the angstrom sign, "a b" with a space or
 * a no-break space, "ﬁ" and "fi", fullwidth and plain letters): *found, with their
 * indexes in pair[0] < pair[1].  Names that are not UTF-8 are compared as
 * bytes.  SN_OK or SN_ENOMEM. */
int sn_text_clash(const char *const *names, size_t n, bool *found, size_t pair[2]);

/* code (said, naming where) when two of the n names look alike across
 * scripts by Unicode's confusables table (UTS #39, ICU's spoof checker:
 * Latin "Coat" and "Cоat" with a Cyrillic о, "a" and a Cyrillic "а"), or
 * more than 64 names all look alike; look-alikes of one script, such as
 * '0' and 'O' or へ and ヘ, are the user's own letters.  Meant after
 * sn_text_clash, whose forms have a message of their own; SN_OK otherwise
 * (SN_ENOMEM). */
int sn_text_refuse_look_alike(const char *const *names, size_t n, int code, const char *where);

/* The columns s takes on a terminal: a wide (East Asian) character two, a
 * combining mark none, anything else one. */
int sn_text_width(const char *s);

/* s in exactly cols columns, into out (len bytes): padded with blanks, or,
 * when longer, cut after its last whole character that fits before a
 * closing "…"; a table's column of names stays straight whatever their
 * scripts, and a cut name says it is one. */
void sn_text_pad(const char *s, int cols, char *out, size_t len);

/* In place: every byte of a character that could act on a terminal or
 * hide becomes '?' (the characters sn_text_problem names: controls, C1,
 * bidirectional marks and overrides, line and paragraph separators,
 * invisible characters, noncharacters; and each byte that is not strict
 * UTF-8), as in the messages sn_errmsg returns; keep_lines spares newline
 * and tab. */
void sn_text_clean(char *s, bool keep_lines);
/* This machine's host name into host (len bytes), as messages, the rank
 * table and lock files show it: sn_text_clean'd, as sethostname(2) takes
 * any bytes (a newline forged a line of ours), cut to len - 1 bytes; "?"
 * when it cannot be read. */
void sn_text_host(char *host, size_t len);
/* Room for any host name the kernel takes (HOST_NAME_MAX, 64) and its end. */
#define SN_HOST_BYTES 65
/* Whether the character c is one sn_text_clean turns into '?': it would
 * act on the text around it or show as nothing. */
bool sn_text_hides(uint32_t c);

/* Whether two short names (under 64 bytes) are at most two edits apart
 * (one when either has 3 characters or fewer): a typo ("unitz", "unit",
 * "uints" for "units"; "--epoch" for "--epochs"). */
bool sn_text_near(const char *a, const char *b);

/* The nearest of the names offered (sn_text_offer) to word, a typo away,
 * the first offered of those equally near: { word } to start; best is
 * NULL when none is near. */
struct sn_text_nearest {
    const char *word, *best;
    int dist;
};
void sn_text_offer(struct sn_text_nearest *n, const char *name);

/* The extension of path's last part, its dot included (".png"), or NULL
 * when it has none (a name whose one dot leads it, ".profile", has none). */
const char *sn_text_ext(const char *path);

/* Whether path's extension is one of list's (".png .jpg .jpeg"), in any
 * case. */
bool sn_text_ext_in(const char *path, const char *list);

#endif
