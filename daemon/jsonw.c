/*
 * jsonw: json_dumps for JSON_COMPACT and/or JSON_INDENT(n) [| JSON_SORT_KEYS]
 * [| JSON_ENCODE_ANY], written straight into one growing buffer.
 *
 * What jansson 2.14 writes, and so what this writes (unit.jsonw compares the
 * two on the sample organisation, the recorded AWS answers and generated
 * trees):
 *   - separators "," and ":" (JSON_COMPACT) or ": " after a key; with
 *     JSON_INDENT(n), each member of a non-empty object or array on a line
 *     of its own indented by n x (depth + 1) spaces and the closing bracket
 *     on one indented by n x depth (empty ones stay "{}" and "[]"); no
 *     newline at the end;
 *   - objects in insertion order, or with JSON_SORT_KEYS by key bytes
 *     (memcmp over the shorter length, the shorter key first on a tie);
 *   - strings: '"' and '\\' escaped, \b \f \n \r \t by name, every other
 *     byte below 0x20 as \u00XX (upper-case hex), everything else (incl.
 *     0x7f and non-ASCII) as is; a string that is not valid UTF-8 fails
 *     the whole dump, as in jansson (which, for a key, ignores the failure
 *     and writes broken JSON: here it fails too);
 *   - integers with "%" JSON_INTEGER_FORMAT; reals are handed to jansson
 *     (json_dumps with JSON_ENCODE_ANY), they are rare and their format has
 *     locale and exponent rules not worth repeating;
 *   - a top-level scalar only with JSON_ENCODE_ANY.
 * A tree deeper than JSONW_MAX_DEPTH fails (jansson fails on cycles; a
 * parsed tree is at most 2048 deep).
 * Two shortcuts that change no byte: an object whose keys are already in
 * order is not sorted, and an array held by more than one reference (a
 * model's threats and requirements are the rules' own arrays, one per
 * component) is written once per dump and copied from the output after
 * (compact dumps only: indented, its text depends on where it is met).
 */
#include "daemon/jsonw.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/util.h"

#define JSONW_MAX_DEPTH 4096
#define JSONW_SORT_STACK 32 /* keys sorted without allocating */
#define JSONW_FIRST_CAP  256 /* the output buffer's first size; it doubles */

/* An array referenced more than once (the rules' threats and
 * requirements arrays, shared by every component of a type) is written once
 * per dump: later meetings copy the bytes it produced the first time. The
 * tree is const for the whole dump, so the same pointer writes the same
 * bytes (flags do not change within a dump). */
struct memo {
    const json_t *j; /* NULL: free slot */
    size_t off, len; /* its text in the output buffer */
};

#define JSONW_MEMO_FIRST 64 /* slots; the table doubles at half full */

struct wbuf {
    char *p;
    size_t len, cap;
    int failed;
    unsigned indent;     /* JSON_INDENT's n; 0: members on one line */
    const char *key_sep; /* ":" or ": " */
    struct memo *memo; /* owned, open addressing, cap a power of two */
    size_t memo_n, memo_cap;
};

static int
wb_grow(struct wbuf *b, size_t need)
{
    size_t cap;
    char *p;

    if (b->failed)
        return -1;
    cap = b->cap;
    while (cap - b->len < need) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline int
wb_put(struct wbuf *b, const char *s, size_t n)
{
    if (b->cap - b->len < n && wb_grow(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

static inline int
wb_ch(struct wbuf *b, char c)
{
    if (b->cap == b->len && wb_grow(b, 1) < 0)
        return -1;
    b->p[b->len++] = c;
    return 0;
}

/* 1 for bytes that leave the plain-ASCII run: escapes and non-ASCII. */
static const unsigned char special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80.. */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static int
put_string(struct wbuf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    if (wb_ch(b, '"') < 0)
        return -1;
    while (i < n) {
        size_t run = i;
        while (run < n && !special[s[run]])
            run++;
        if (run > i && wb_put(b, str + i, run - i) < 0)
            return -1;
        i = run;
        if (i == n)
            break;
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t k = util_utf8_seq(s + i, n - i);
            if (k == 0) {
                b->failed = 1; /* jansson: invalid UTF-8 fails the dump */
                return -1;
            }
            if (wb_put(b, str + i, k) < 0)
                return -1;
            i += k;
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (wb_put(b, esc, elen) < 0)
            return -1;
        i++;
    }
    return wb_ch(b, '"');
}

struct kv {
    const char *key;
    size_t len;
    json_t *value;
};

static int
kv_cmp(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);

    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int put_value(struct wbuf *b, const json_t *j, size_t flags, int depth);
static int put_array(struct wbuf *b, const json_t *j, size_t flags, int depth);

/* Before a member (first: no comma) at depth, and before a closing bracket
 * (comma 0, depth of the container): the comma, then with an indent a
 * newline and n x depth spaces. */
static int
wb_break(struct wbuf *b, int comma, int depth)
{
    size_t spaces = (size_t)b->indent * (size_t)depth;

    if (comma && wb_ch(b, ',') < 0)
        return -1;
    if (b->indent == 0)
        return 0;
    if (b->cap - b->len < spaces + 1 && wb_grow(b, spaces + 1) < 0)
        return -1;
    b->p[b->len++] = '\n';
    memset(b->p + b->len, ' ', spaces);
    b->len += spaces;
    return 0;
}

static size_t
memo_slot(const struct memo *m, size_t cap, const json_t *j)
{
    size_t i = (size_t)(((uintptr_t)j >> 4) * 0x9E3779B97F4A7C15ULL) & (cap - 1);

    while (m[i].j != NULL && m[i].j != j)
        i = (i + 1) & (cap - 1);
    return i;
}

static const struct memo *
memo_find(const struct wbuf *b, const json_t *j)
{
    const struct memo *e;

    if (b->memo_cap == 0)
        return NULL;
    e = &b->memo[memo_slot(b->memo, b->memo_cap, j)];
    return e->j == j ? e : NULL;
}

/* Remembers j's text; out of memory only loses the shortcut. */
static void
memo_add(struct wbuf *b, const json_t *j, size_t off, size_t len)
{
    if (2 * (b->memo_n + 1) > b->memo_cap) {
        size_t cap = b->memo_cap == 0 ? JSONW_MEMO_FIRST : 2 * b->memo_cap;
        struct memo *m = calloc(cap, sizeof(*m));

        if (m == NULL)
            return;
        for (size_t i = 0; i < b->memo_cap; i++)
            if (b->memo[i].j != NULL)
                m[memo_slot(m, cap, b->memo[i].j)] = b->memo[i];
        free(b->memo);
        b->memo = m;
        b->memo_cap = cap;
    }
    struct memo *e = &b->memo[memo_slot(b->memo, b->memo_cap, j)];
    e->j = j;
    e->off = off;
    e->len = len;
    b->memo_n++;
}

/* Writes a shared array from the memo, or writes it and remembers it.
 * (Shared objects are mostly items' tags, met once per dump: not worth it.) */
static int
put_shared(struct wbuf *b, const json_t *j, size_t flags, int depth)
{
    const struct memo *e = memo_find(b, j);
    size_t off;
    int rc;

    if (e != NULL) {
        /* grow first: the copy's source is the buffer itself */
        if (b->cap - b->len < e->len && wb_grow(b, e->len) < 0)
            return -1;
        memcpy(b->p + b->len, b->p + e->off, e->len);
        b->len += e->len;
        return 0;
    }
    off = b->len;
    rc = put_array(b, j, flags, depth);
    if (rc == 0)
        memo_add(b, j, off, b->len - off);
    return rc;
}

/* jansson's iterators take a non-const object but only read it (json_dumps
 * itself takes const and does the same). */
static json_t *
mut(const json_t *j)
{
    return (json_t *)(uintptr_t)j;
}

static int
put_object(struct wbuf *b, const json_t *j, size_t flags, int depth)
{
    size_t n = json_object_size(j), k = 0;
    struct kv stack[JSONW_SORT_STACK], *kv = stack;
    void *it;
    int rc = -1, unsorted = 0;

    if (wb_ch(b, '{') < 0)
        return -1;
    if (!(flags & JSON_SORT_KEYS) || n < 2) {
        for (it = json_object_iter(mut(j)); it != NULL;
             it = json_object_iter_next(mut(j), it)) {
            if (wb_break(b, k++ > 0, depth + 1) < 0 ||
                put_string(b, json_object_iter_key(it), json_object_iter_key_len(it)) < 0 ||
                wb_put(b, b->key_sep, strlen(b->key_sep)) < 0 ||
                put_value(b, json_object_iter_value(it), flags, depth + 1) < 0)
                return -1;
        }
        if (k > 0 && wb_break(b, 0, depth) < 0)
            return -1;
        return wb_ch(b, '}');
    }
    if (n > JSONW_SORT_STACK) {
        kv = malloc(n * sizeof(*kv));
        if (kv == NULL) {
            b->failed = 1;
            return -1;
        }
    }
    for (it = json_object_iter(mut(j)); it != NULL && k < n;
         it = json_object_iter_next(mut(j), it), k++) {
        kv[k].key = json_object_iter_key(it);
        kv[k].len = json_object_iter_key_len(it);
        kv[k].value = json_object_iter_value(it);
        if (k > 0 && !unsorted && kv_cmp(&kv[k - 1], &kv[k]) > 0)
            unsorted = 1;
    }
    /* Objects built in key order (the mapping's) need no sort. */
    if (unsorted)
        qsort(kv, k, sizeof(*kv), kv_cmp);
    for (size_t i = 0; i < k; i++) {
        if (wb_break(b, i > 0, depth + 1) < 0 || put_string(b, kv[i].key, kv[i].len) < 0 ||
            wb_put(b, b->key_sep, strlen(b->key_sep)) < 0 ||
            put_value(b, kv[i].value, flags, depth + 1) < 0)
            goto out;
    }
    if (k > 0 && wb_break(b, 0, depth) < 0)
        goto out;
    rc = wb_ch(b, '}');
out:
    if (kv != stack)
        free(kv);
    return rc;
}

static int
put_array(struct wbuf *b, const json_t *j, size_t flags, int depth)
{
    size_t len = json_array_size(j);

    if (wb_ch(b, '[') < 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (wb_break(b, i > 0, depth + 1) < 0 ||
            put_value(b, json_array_get(j, i), flags, depth + 1) < 0)
            return -1;
    }
    if (len > 0 && wb_break(b, 0, depth) < 0)
        return -1;
    return wb_ch(b, ']');
}

static int
put_real(struct wbuf *b, const json_t *j)
{
    char *t = json_dumps(j, JSON_ENCODE_ANY);
    int rc;

    if (t == NULL) {
        b->failed = 1;
        return -1;
    }
    rc = wb_put(b, t, strlen(t));
    free(t);
    return rc;
}

static int
put_value(struct wbuf *b, const json_t *j, size_t flags, int depth)
{
    char num[32];
    int n;

    if (depth > JSONW_MAX_DEPTH) {
        b->failed = 1;
        return -1;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return put_object(b, j, flags, depth);
    case JSON_ARRAY:
        return j->refcount > 1 && b->indent == 0 ? put_shared(b, j, flags, depth)
                                                 : put_array(b, j, flags, depth);
    case JSON_STRING:
        return put_string(b, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return wb_put(b, num, (size_t)n);
    case JSON_REAL:
        return put_real(b, j);
    case JSON_TRUE:
        return wb_put(b, "true", 4);
    case JSON_FALSE:
        return wb_put(b, "false", 5);
    case JSON_NULL:
        return wb_put(b, "null", 4);
    }
    b->failed = 1;
    return -1;
}

char *
jsonw_dumps(const json_t *json, size_t flags)
{
    struct wbuf b = {0};

    if (json == NULL)
        return NULL;
    /* without JSON_COMPACT and without an indent jansson writes ", ": its own */
    if ((flags & ~(size_t)(JSONW_FLAGS | JSON_MAX_INDENT)) != 0 ||
        (!(flags & JSON_COMPACT) && JSON_INDENT(flags) == 0))
        return json_dumps(json, flags);
    b.indent = (unsigned)JSON_INDENT(flags);
    b.key_sep = (flags & JSON_COMPACT) ? ":" : ": ";
    if (!(flags & JSON_ENCODE_ANY) && !json_is_object(json) && !json_is_array(json))
        return NULL;
    b.cap = JSONW_FIRST_CAP; /* the buffer is never NULL from here on */
    b.p = malloc(b.cap);
    if (b.p == NULL)
        return NULL;
    if (put_value(&b, json, flags, 0) < 0 || wb_ch(&b, '\0') < 0) {
        free(b.memo);
        free(b.p);
        return NULL;
    }
    free(b.memo);
    /* the caller often keeps the text (a worker's projected items, staged
     * models): give back the doubling's slack, up to half the buffer */
    if (b.cap - b.len > b.len / 8 + 64) {
        char *fit = realloc(b.p, b.len);

        if (fit != NULL)
            b.p = fit;
    }
    return b.p;
}
