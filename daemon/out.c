/*
 * out.c: output helpers (see out.h).
 */
#include "daemon/out.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* Length of a valid UTF-8 sequence starting at s (1..4), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
    size_t n;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
        n = 2;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3;
    else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    /* C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F */
    if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
        return 0;
    return n;
}

char *
out_clean(const char *s, char *dst, size_t n)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t o = 0;

    if (n == 0)
        return dst;
    while (*p != '\0') {
        size_t l = utf8_len(p);

        if (o + (l ? l : 1) + 1 > n) {
            if (n >= 4) {
                o = o > n - 4 ? n - 4 : o;
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7f))) {
            dst[o++] = '?';
            p++;
            continue;
        }
        memcpy(dst + o, p, l);
        o += l;
        p += l;
    }
    dst[o] = '\0';
    return dst;
}

int
out_color(void)
{
    const char *nc = getenv("NO_COLOR");

    return isatty(STDOUT_FILENO) && (nc == NULL || nc[0] == '\0');
}

const char *
out_status_color(const char *status)
{
    if (!out_color() || status == NULL)
        return "";
    if (strcmp(status, "red") == 0)
        return "\033[31m";
    if (strcmp(status, "yellow") == 0)
        return "\033[33m";
    if (strcmp(status, "green") == 0)
        return "\033[32m";
    return "";
}

const char *
out_reset(void)
{
    return out_color() ? "\033[0m" : "";
}

int
out_json(FILE *f, const json_t *doc)
{
    if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_SORT_KEYS) < 0)
        return -1;
    fputc('\n', f);
    return 0;
}
