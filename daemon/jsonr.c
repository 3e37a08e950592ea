/*
 * jsonr: a single-pass JSON reader that builds jansson trees, as a faster
 * drop-in for json_loadb (jansson's lexer pulls every byte through a stream
 * callback, checks UTF-8 per byte, collects every token in a strbuffer and
 * copies strings twice; here strings without escapes are scanned 8 bytes at a
 * time and handed to json_stringn_nocheck straight from the input, and only
 * strings with a backslash are unescaped, into one scratch buffer reused for
 * the whole parse). Nesting uses an explicit stack of open containers (no
 * recursion, so a deep input cannot blow a thread's stack); a container is
 * attached to its parent as soon as it opens, so on any error freeing the
 * root frees everything built so far.
 *
 * Behaviour matched to jansson 2.14 (checked by experiment, and by
 * tests/unit/test_jsonr.c, a differential test against json_loadb):
 * - whitespace is exactly space, \t, \n, \r (not \f, \v, nor a UTF-8 BOM);
 *   top level must be '[' or '{' unless JSON_DECODE_ANY; anything but
 *   whitespace after the value is an error; empty input is an error.
 * - depth: jansson counts every value, scalars included, against
 *   JSON_PARSER_MAX_DEPTH 2048: 2048 nested empty arrays parse, 2048 nested
 *   arrays around a scalar do not (the scalar is level 2049), 2049 don't.
 * - strings: raw bytes < 0x20 (a NUL byte too, even with JSON_ALLOW_NUL) are
 *   errors; UTF-8 must be strict (no overlong forms, no encoded surrogates,
 *   nothing above U+10FFFF, no truncated sequence); \u escapes need a high
 *   surrogate followed by a \u low surrogate, a lone one is an error;
 *   \u0000 is accepted only with JSON_ALLOW_NUL, and never in an object key
 *   (jansson: "NUL byte in object key not supported" even with the flag).
 * - numbers: strict JSON grammar ("-", "01", "1.", ".5", "1e", "+1" are
 *   errors); no '.', 'e' or 'E' means an integer, "-0" is the integer 0,
 *   and an integer outside json_int_t is an error ("too big integer"), not
 *   a real; "1e2" is the real 100.0; reals go through strtod like jansson's
 *   (including its swap of '.' for the locale's decimal point), overflow to
 *   +-inf is an error, underflow gives 0.0 or a denormal as strtod does.
 * - a NUL byte right after a number or true/false/null is ignored (one
 *   only): jansson pushes the byte ending such a token back into its stream
 *   buffer, where a NUL means "empty", so the byte is lost: "[1\0]" and
 *   "1\0" (JSON_DECODE_ANY) parse, "[1\0\0]", "[1 \0]", "[\"a\"\0]" do not.
 *   Found by tests/fuzz/fuzz_jsonr.c.
 * - duplicate keys: the last value wins (its key keeps the first position),
 *   or an error under JSON_REJECT_DUPLICATES.
 * Other flags (JSON_DISABLE_EOF_CHECK, JSON_DECODE_INT_AS_REAL, unknown bits)
 * are handed to json_loadb itself. Error texts differ from jansson's; the
 * json_error_code (last byte of text) is set as jansson would set it.
 */
#include "daemon/jsonr.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/util.h"

#define JSONR_MAX_DEPTH    2048 /* jansson's JSON_PARSER_MAX_DEPTH */
#define JSONR_KNOWN_FLAGS  (JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES)
#define JSONR_STACK_INLINE 64
#define JSONR_NUM_INLINE   64

struct parser {
    const unsigned char *start;
    const unsigned char *end;
    size_t flags;
    json_error_t *error;
    char *scratch; /* owned; unescaped strings, grown on demand */
    size_t scratch_cap;
    char decimal_point; /* the locale's, looked up at the first real */
};

/* 1 for bytes a string may hold as they are: printable ASCII but '"', '\\'. */
static const unsigned char plain[256] = {
    ['\x20'] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f, '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             /* 0x30-0x3f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             /* 0x40-0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,             /* 0x50-0x5f, '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             /* 0x60-0x6f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,             /* 0x70-0x7f */
};

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero when one of the 8 bytes at q is not plain: '"', '\\', < 0x20 or
 * >= 0x80 (the classic "has zero byte" tests; exact in the any-byte sense). */
static inline uint64_t
special8(const unsigned char *q)
{
    uint64_t x, qt, bs;

    memcpy(&x, q, 8);
    qt = x ^ (ONES * 0x22);
    bs = x ^ (ONES * 0x5c);
    return (x & HIGHS) | ((x - ONES * 0x20) & ~x & HIGHS) | ((qt - ONES) & ~qt & HIGHS) |
           ((bs - ONES) & ~bs & HIGHS);
}

static void
fail(struct parser *ps, const unsigned char *at, enum json_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fills ps->error (when given) for a problem at byte `at`: position is its
 * offset, line and column (both 1-based, column in characters) are counted
 * here, only on this error path. */
static void
fail(struct parser *ps, const unsigned char *at, enum json_error_code code, const char *fmt, ...)
{
    json_error_t *e = ps->error;
    const unsigned char *q;
    va_list ap;
    int line = 1, column = 1;

    if (e == NULL)
        return;
    for (q = ps->start; q < at; q++) {
        if (*q == '\n') {
            line++;
            column = 1;
        } else if ((*q & 0xc0) != 0x80) {
            column++;
        }
    }
    e->line = line;
    e->column = column;
    e->position = (int)(at - ps->start);
    snprintf(e->source, sizeof(e->source), "%s", "<buffer>");
    va_start(ap, fmt);
    vsnprintf(e->text, JSON_ERROR_TEXT_LENGTH - 1, fmt, ap);
    va_end(ap);
    e->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)code;
}

static void
fail_oom(struct parser *ps, const unsigned char *at)
{
    fail(ps, at, json_error_out_of_memory, "out of memory");
}

/* Makes room for need bytes in the scratch buffer; -1 (error set) on OOM. */
static int
scratch_reserve(struct parser *ps, size_t need, const unsigned char *at)
{
    size_t cap = ps->scratch_cap ? ps->scratch_cap : 256;
    char *n;

    if (need <= ps->scratch_cap)
        return 0;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            fail_oom(ps, at);
            return -1;
        }
        cap *= 2;
    }
    n = realloc(ps->scratch, cap);
    if (n == NULL) {
        fail_oom(ps, at);
        return -1;
    }
    ps->scratch = n;
    ps->scratch_cap = cap;
    return 0;
}

static inline const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static int
hex4(const unsigned char *q, uint32_t *ret)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned c = q[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    *ret = v;
    return 0;
}

/* Advances over bytes a string holds as they are (plain ASCII and valid
 * UTF-8); stops at '"', '\\', a control byte, an invalid sequence or end. */
static inline const unsigned char *
scan_plain(const unsigned char *q, const unsigned char *end)
{
    for (;;) {
        size_t n;

        while (end - q >= 8 && special8(q) == 0)
            q += 8;
        while (q < end && plain[*q])
            q++;
        if (q == end || *q < 0x80)
            return q;
        n = util_utf8_seq(q, (size_t)(end - q));
        if (n == 0)
            return q;
        q += n;
    }
}

/* Reports why scan_plain stopped at q (not at '"' or '\\'). */
static void
fail_in_string(struct parser *ps, const unsigned char *q)
{
    if (q == ps->end)
        fail(ps, q, json_error_premature_end_of_input, "unexpected end of input in string");
    else if (*q < 0x20)
        fail(ps, q, json_error_invalid_syntax, "control character 0x%02x in string", *q);
    else
        fail(ps, q, json_error_invalid_utf8, "invalid UTF-8 byte 0x%02x in string", *q);
}

static void
put_utf8(char *w, size_t *len, uint32_t cp)
{
    size_t n = *len;

    if (cp < 0x80) {
        w[n++] = (char)cp;
    } else if (cp < 0x800) {
        w[n++] = (char)(0xc0 | (cp >> 6));
        w[n++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        w[n++] = (char)(0xe0 | (cp >> 12));
        w[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        w[n++] = (char)(0x80 | (cp & 0x3f));
    } else {
        w[n++] = (char)(0xf0 | (cp >> 18));
        w[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        w[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        w[n++] = (char)(0x80 | (cp & 0x3f));
    }
    *len = n;
}

/*
 * Reads the string whose opening quote is at p. Without escapes *ret_s points
 * into the input; with escapes the unescaped text is written to the scratch
 * buffer at offset base (below base lives a pending object key) and *ret_s
 * points there (valid until the scratch buffer next grows). *ret_p is the byte
 * after the closing quote. Returns -1 with the error set.
 */
static int
read_string(struct parser *ps, const unsigned char *p, size_t base, const char **ret_s,
    size_t *ret_len, int *ret_scratch, const unsigned char **ret_p)
{
    const unsigned char *end = ps->end, *s = p + 1, *q, *run;
    size_t len;

    q = scan_plain(s, end);
    if (q < end && *q == '"') {
        *ret_s = (const char *)s;
        *ret_len = (size_t)(q - s);
        *ret_scratch = 0;
        *ret_p = q + 1;
        return 0;
    }
    if (q == end || *q != '\\') {
        fail_in_string(ps, q);
        return -1;
    }
    /* escapes: unescape into scratch[base..] */
    len = base;
    run = s;
    for (;;) {
        uint32_t cp, lo;

        if (scratch_reserve(ps, len + (size_t)(q - run) + 4, q) < 0)
            return -1;
        memcpy(ps->scratch + len, run, (size_t)(q - run));
        len += (size_t)(q - run);
        if (q < end && *q == '"')
            break;
        if (q == end || *q != '\\') {
            fail_in_string(ps, q);
            return -1;
        }
        if (end - q < 2) {
            fail(ps, end, json_error_premature_end_of_input, "unexpected end of input in string");
            return -1;
        }
        switch (q[1]) {
        case '"':
        case '\\':
        case '/':
            ps->scratch[len++] = (char)q[1];
            q += 2;
            break;
        case 'b':
            ps->scratch[len++] = '\b';
            q += 2;
            break;
        case 'f':
            ps->scratch[len++] = '\f';
            q += 2;
            break;
        case 'n':
            ps->scratch[len++] = '\n';
            q += 2;
            break;
        case 'r':
            ps->scratch[len++] = '\r';
            q += 2;
            break;
        case 't':
            ps->scratch[len++] = '\t';
            q += 2;
            break;
        case 'u':
            if (end - q < 6) {
                fail(ps, end, json_error_premature_end_of_input,
                    "unexpected end of input in \\u escape");
                return -1;
            }
            if (hex4(q + 2, &cp) < 0) {
                fail(ps, q, json_error_invalid_syntax, "invalid \\u escape in string");
                return -1;
            }
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                fail(ps, q, json_error_invalid_syntax,
                    "invalid Unicode: lone low surrogate \\u%04X", (unsigned)cp);
                return -1;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - q < 12 || q[6] != '\\' || q[7] != 'u') {
                    fail(ps, q, json_error_invalid_syntax,
                        "invalid Unicode: high surrogate \\u%04X without a low one",
                        (unsigned)cp);
                    return -1;
                }
                if (hex4(q + 8, &lo) < 0) {
                    fail(ps, q + 6, json_error_invalid_syntax, "invalid \\u escape in string");
                    return -1;
                }
                if (lo < 0xdc00 || lo > 0xdfff) {
                    fail(ps, q, json_error_invalid_syntax,
                        "invalid Unicode: \\u%04X\\u%04X is not a surrogate pair", (unsigned)cp,
                        (unsigned)lo);
                    return -1;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                q += 6;
            } else if (cp == 0 && !(ps->flags & JSON_ALLOW_NUL)) {
                fail(ps, q, json_error_null_character,
                    "\\u0000 is not allowed without JSON_ALLOW_NUL");
                return -1;
            }
            put_utf8(ps->scratch, &len, cp);
            q += 6;
            break;
        default:
            if (q[1] < 0x20 || q[1] >= 0x7f)
                fail(ps, q, json_error_invalid_syntax, "invalid escape '\\' 0x%02x in string",
                    q[1]);
            else
                fail(ps, q, json_error_invalid_syntax, "invalid escape '\\%c' in string", q[1]);
            return -1;
        }
        run = q;
        q = scan_plain(q, end);
    }
    *ret_s = ps->scratch + base;
    *ret_len = len - base;
    *ret_scratch = 1;
    *ret_p = q + 1;
    return 0;
}

static inline int
is_digit(const unsigned char *q, const unsigned char *end)
{
    return q < end && *q >= '0' && *q <= '9';
}

/* Reads the number at p ('-' or a digit) into a new integer or real;
 * NULL with the error set. */
static json_t *
read_number(struct parser *ps, const unsigned char *p, const unsigned char **ret_p)
{
    const unsigned char *end = ps->end, *q = p, *digits;
    char inline_buf[JSONR_NUM_INLINE], *text = inline_buf, *dot;
    json_t *v = NULL;
    int real = 0, neg = 0;
    double d;
    size_t n;

    if (*q == '-') {
        neg = 1;
        q++;
    }
    digits = q;
    if (!is_digit(q, end)) {
        fail(ps, q, json_error_invalid_syntax, "invalid number: digit expected");
        return NULL;
    }
    if (*q == '0') {
        q++;
        if (is_digit(q, end)) {
            fail(ps, q, json_error_invalid_syntax, "invalid number: leading zero");
            return NULL;
        }
    } else {
        while (is_digit(q, end))
            q++;
    }
    if (q < end && *q == '.') {
        q++;
        if (!is_digit(q, end)) {
            fail(ps, q, json_error_invalid_syntax, "invalid number: digit expected after '.'");
            return NULL;
        }
        while (is_digit(q, end))
            q++;
        real = 1;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (!is_digit(q, end)) {
            fail(ps, q, json_error_invalid_syntax, "invalid number: digit expected in exponent");
            return NULL;
        }
        while (is_digit(q, end))
            q++;
        real = 1;
    }
    if (!real) {
        /* strtoll's range, without copying: the magnitude may reach 2^63
         * only when negative */
        uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        const unsigned char *d_ = digits;

        for (; d_ < q; d_++) {
            unsigned dig = *d_ - '0';

            if (mag > (limit - dig) / 10) {
                fail(ps, p, json_error_numeric_overflow,
                    neg ? "too big negative integer" : "too big integer");
                return NULL;
            }
            mag = mag * 10 + dig;
        }
        if (neg)
            v = json_integer(mag == (uint64_t)INT64_MAX + 1 ? (json_int_t)INT64_MIN
                                                             : -(json_int_t)mag);
        else
            v = json_integer((json_int_t)mag);
        if (v == NULL)
            fail_oom(ps, p);
        *ret_p = q;
        return v;
    }
    n = (size_t)(q - p);
    if (n >= sizeof(inline_buf)) {
        text = malloc(n + 1);
        if (text == NULL) {
            fail_oom(ps, p);
            return NULL;
        }
    }
    memcpy(text, p, n);
    text[n] = '\0';
    if (ps->decimal_point == '\0') {
        const char *dp = localeconv()->decimal_point;

        ps->decimal_point = dp != NULL && dp[0] != '\0' ? dp[0] : '.';
    }
    if (ps->decimal_point != '.') {
        dot = strchr(text, '.');
        if (dot != NULL)
            *dot = ps->decimal_point;
    }
    errno = 0;
    d = strtod(text, NULL);
    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) {
        fail(ps, p, json_error_numeric_overflow, "real number overflow");
        goto out;
    }
    v = json_real(d);
    if (v == NULL)
        fail_oom(ps, p);
    *ret_p = q;
out:
    if (text != inline_buf)
        free(text);
    return v;
}

static json_t *
parse(struct parser *ps)
{
    const unsigned char *p = ps->start, *end = ps->end;
    json_t *stack_inline[JSONR_STACK_INLINE], **stack = stack_inline, **grown;
    size_t depth = 0, cap = JSONR_STACK_INLINE;
    json_t *root = NULL, *value = NULL, *top, *result = NULL;
    const char *key = NULL, *s;
    size_t key_len = 0, slen;
    int key_scratch = 0, in_scratch;

    p = skip_ws(p, end);
    if (!(ps->flags & JSON_DECODE_ANY) && (p == end || (*p != '[' && *p != '{'))) {
        fail(ps, p, p == end ? json_error_premature_end_of_input : json_error_invalid_syntax,
            "'[' or '{' expected at the top level");
        goto out;
    }

value: /* p: the first byte of a value, whitespace skipped */
    if (depth >= JSONR_MAX_DEPTH) {
        fail(ps, p, json_error_stack_overflow, "maximum parsing depth (%d) reached",
            JSONR_MAX_DEPTH);
        goto out;
    }
    if (p == end) {
        fail(ps, p, json_error_premature_end_of_input, "unexpected end of input, value expected");
        goto out;
    }
    switch (*p) {
    case '{':
    case '[':
        value = *p == '{' ? json_object() : json_array();
        if (value == NULL) {
            fail_oom(ps, p);
            goto out;
        }
        break;
    case '"':
        if (read_string(ps, p, key_scratch ? key_len : 0, &s, &slen, &in_scratch, &p) < 0)
            goto out;
        if (!(ps->flags & JSON_ALLOW_NUL) && in_scratch && memchr(s, '\0', slen) != NULL) {
            fail(ps, p, json_error_null_character, "\\u0000 is not allowed without JSON_ALLOW_NUL");
            goto out;
        }
        value = json_stringn_nocheck(s, slen);
        break;
    case 't':
        if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
            value = json_true();
            p += 4;
            break;
        }
        goto invalid;
    case 'f':
        if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
            value = json_false();
            p += 5;
            break;
        }
        goto invalid;
    case 'n':
        if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            value = json_null();
            p += 4;
            break;
        }
        goto invalid;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        value = read_number(ps, p, &p);
        if (value == NULL)
            goto out;
        break;
    default:
    invalid:
        if (*p >= 0x20 && *p < 0x7f)
            fail(ps, p, json_error_invalid_syntax, "invalid token starting with '%c'", *p);
        else
            fail(ps, p, json_error_invalid_syntax, "invalid token starting with byte 0x%02x",
                *p);
        goto out;
    }
    if (value == NULL) {
        fail_oom(ps, p);
        goto out;
    }
    /* jansson quirk: the byte after a number or literal is pushed back into
     * its stream, and a pushed-back NUL byte reads as "buffer empty", so
     * exactly one NUL right after such a token is skipped */
    if (p < end && *p == '\0' && !json_is_string(value))
        p++;
    /* attach to the parent at once (a container before it is filled), so
     * that the root owns everything built so far */
    if (depth == 0) {
        root = value;
    } else {
        top = stack[depth - 1];
        if (json_is_object(top)) {
            if (key_scratch)
                key = ps->scratch;
            if (json_object_setn_new_nocheck(top, key, key_len, value) < 0) {
                fail_oom(ps, p);
                goto out;
            }
            key_scratch = 0;
        } else if (json_array_append_new(top, value) < 0) {
            fail_oom(ps, p);
            goto out;
        }
    }
    if (json_is_object(value) || json_is_array(value)) {
        if (depth == cap) {
            grown = malloc(2 * cap * sizeof(*stack));
            if (grown == NULL) {
                fail_oom(ps, p);
                goto out;
            }
            memcpy(grown, stack, depth * sizeof(*stack));
            if (stack != stack_inline)
                free(stack);
            stack = grown;
            cap *= 2;
        }
        stack[depth++] = value;
        p = skip_ws(p + 1, end);
        if (json_is_object(value)) {
            if (p < end && *p == '}') {
                p++;
                depth--;
                goto done;
            }
            goto key;
        }
        if (p < end && *p == ']') {
            p++;
            depth--;
            goto done;
        }
        goto value;
    }

done: /* a value ended just before p */
    if (depth == 0) {
        p = skip_ws(p, end);
        if (p != end) {
            fail(ps, p, json_error_end_of_input_expected,
                "end of input expected after the top-level value");
            goto out;
        }
        result = root;
        root = NULL;
        goto out;
    }
    p = skip_ws(p, end);
    if (p == end) {
        fail(ps, p, json_error_premature_end_of_input, "unexpected end of input in %s",
            json_is_object(stack[depth - 1]) ? "object" : "array");
        goto out;
    }
    if (json_is_object(stack[depth - 1])) {
        if (*p == '}') {
            p++;
            depth--;
            goto done;
        }
        if (*p != ',') {
            fail(ps, p, json_error_invalid_syntax, "',' or '}' expected in object");
            goto out;
        }
        p = skip_ws(p + 1, end);
        goto key;
    }
    if (*p == ']') {
        p++;
        depth--;
        goto done;
    }
    if (*p != ',') {
        fail(ps, p, json_error_invalid_syntax, "',' or ']' expected in array");
        goto out;
    }
    p = skip_ws(p + 1, end);
    goto value;

key: /* p: where an object key must start, whitespace skipped */
    if (p == end) {
        fail(ps, p, json_error_premature_end_of_input, "unexpected end of input in object");
        goto out;
    }
    if (*p != '"') {
        fail(ps, p, json_error_invalid_syntax, "string (object key) expected");
        goto out;
    }
    {
        const unsigned char *kp = p;

        if (read_string(ps, p, 0, &key, &key_len, &key_scratch, &p) < 0)
            goto out;
        if (key_scratch && memchr(key, '\0', key_len) != NULL) {
            fail(ps, kp, json_error_null_byte_in_key, "NUL byte in object key not supported");
            goto out;
        }
        if ((ps->flags & JSON_REJECT_DUPLICATES) &&
            json_object_getn(stack[depth - 1], key, key_len) != NULL) {
            fail(ps, kp, json_error_duplicate_key, "duplicate object key");
            goto out;
        }
    }
    p = skip_ws(p, end);
    if (p == end || *p != ':') {
        fail(ps, p, p == end ? json_error_premature_end_of_input : json_error_invalid_syntax,
            "':' expected after object key");
        goto out;
    }
    p = skip_ws(p + 1, end);
    goto value;

out:
    json_decref(root);
    if (stack != stack_inline)
        free(stack);
    return result;
}

json_t *
jsonr_loadb(const char *buf, size_t len, size_t flags, json_error_t *error)
{
    struct parser ps;
    json_t *root;

    if (flags & ~(size_t)JSONR_KNOWN_FLAGS)
        return json_loadb(buf, len, flags, error);
    if (error != NULL) {
        memset(error, 0, sizeof(*error));
        error->line = -1;
        error->column = -1;
        snprintf(error->source, sizeof(error->source), "%s", "<buffer>");
    }
    memset(&ps, 0, sizeof(ps));
    ps.error = error;
    ps.flags = flags;
    if (buf == NULL) {
        static const unsigned char none[1] = {0};

        ps.start = ps.end = none;
        fail(&ps, none, json_error_invalid_argument, "wrong arguments: NULL buffer");
        return NULL;
    }
    ps.start = (const unsigned char *)buf;
    ps.end = ps.start + len;
    root = parse(&ps);
    free(ps.scratch);
    return root;
}

json_t *
jsonr_loads(const char *s, size_t flags, json_error_t *error)
{
    return jsonr_loadb(s, s != NULL ? strlen(s) : 0, flags, error);
}
