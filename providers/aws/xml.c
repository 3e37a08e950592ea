/*
 * xml.c: a strict, single-pass XML reader that answers one question, "what
 * is the text of the element at this path?", for the small documents AWS
 * query-protocol services send (STS answers, <ErrorResponse> bodies).
 *
 * The whole document is checked even after the element was found, so a
 * truncated or hostile answer is always refused (with its byte offset)
 * rather than half-used. Bounds: XML_MAX_SIZE bytes, XML_MAX_DEPTH levels of
 * nesting; DOCTYPE (and so every DTD trick: external entities, billion
 * laughs) is refused outright. Attributes are checked for well-formedness and
 * skipped; namespace prefixes are dropped from element names.
 * Recursion is not used: the element stack is an explicit array.
 */
#include "providers/aws/xml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/buf.h"

#define XML_MAX_DEPTH 64
#define XML_MAX_SIZE  ((size_t)4 * 1024 * 1024)
#define XML_MAX_PATH  16

struct name_ref {
    const char *p; /* qualified name in the document */
    size_t len;
    size_t local_off; /* offset of the local name (after the last ':') */
};

struct path_part {
    const char *p;
    size_t len;
};

struct parser {
    const char *doc;
    size_t len;
    size_t pos;
    struct err *err;
    /* the query */
    struct path_part parts[XML_MAX_PATH];
    size_t nparts;
    int anywhere;
    /* element stack */
    struct name_ref stack[XML_MAX_DEPTH];
    size_t depth;
    /* capture state */
    int found;
    size_t capture_depth; /* depth of the element being captured, 0 = none */
    struct buf text;
};

static int
fail(struct parser *ps, size_t at, const char *what)
{
    return err_set(ps->err, ERR_REMOTE, "malformed XML at byte offset %zu: %s", at, what);
}

static int
at_eof(const struct parser *ps)
{
    return ps->pos >= ps->len;
}

static int
starts(const struct parser *ps, const char *lit)
{
    size_t n = strlen(lit);
    return ps->len - ps->pos >= n && memcmp(ps->doc + ps->pos, lit, n) == 0;
}

static int
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_space(struct parser *ps)
{
    while (!at_eof(ps) && is_space((unsigned char)ps->doc[ps->pos]))
        ps->pos++;
}

static int
is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static int
is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Characters XML 1.0 forbids in a document: C0 controls except TAB LF CR. */
static int
is_forbidden_byte(unsigned char c)
{
    return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

static int
parse_name(struct parser *ps, struct name_ref *ret)
{
    size_t start = ps->pos;
    size_t local = 0;

    if (at_eof(ps))
        return fail(ps, ps->pos, "document ends where a name was expected");
    if (!is_name_start((unsigned char)ps->doc[ps->pos]))
        return fail(ps, ps->pos, "a name was expected");
    while (!at_eof(ps) && is_name_char((unsigned char)ps->doc[ps->pos])) {
        if (ps->doc[ps->pos] == ':')
            local = ps->pos + 1 - start;
        ps->pos++;
    }
    if (local == ps->pos - start)
        return fail(ps, start, "name with an empty local part");
    ret->p = ps->doc + start;
    ret->len = ps->pos - start;
    ret->local_off = local;
    return 0;
}

static void
put_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* At '&': decodes one reference into out (up to 4 bytes), advancing pos. */
static int
parse_reference(struct parser *ps, char out[4], size_t *ret_n)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    size_t start = ps->pos;
    const char *semi;
    size_t n;

    ps->pos++;
    semi = memchr(ps->doc + ps->pos, ';', ps->len - ps->pos);
    if (semi == NULL || (size_t)(semi - (ps->doc + ps->pos)) > 12)
        return fail(ps, start, "'&' does not start a complete entity or character reference");
    n = (size_t)(semi - (ps->doc + ps->pos));
    *ret_n = 0;
    if (n > 0 && ps->doc[ps->pos] == '#') {
        const char *p = ps->doc + ps->pos + 1;
        const char *end = semi;
        int base = 10;
        uint32_t cp = 0;

        if (p < end && *p == 'x') {
            base = 16;
            p++;
        }
        if (p == end)
            return fail(ps, start, "empty character reference");
        for (; p < end; p++) {
            int d;
            if (*p >= '0' && *p <= '9')
                d = *p - '0';
            else if (base == 16 && *p >= 'a' && *p <= 'f')
                d = *p - 'a' + 10;
            else if (base == 16 && *p >= 'A' && *p <= 'F')
                d = *p - 'A' + 10;
            else
                return fail(ps, start, "bad digit in a character reference");
            cp = cp * (uint32_t)base + (uint32_t)d;
            if (cp > 0x10FFFF)
                return fail(ps, start, "character reference out of the Unicode range");
        }
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
            return fail(ps, start, "character reference to a character XML does not allow");
        put_utf8(out, ret_n, cp);
    } else {
        size_t i;
        for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
            if (strlen(named[i].name) == n && memcmp(named[i].name, ps->doc + ps->pos, n) == 0)
                break;
        }
        if (i == sizeof(named) / sizeof(named[0]))
            return fail(ps, start, "unknown entity (only the five predefined ones are allowed)");
        out[0] = named[i].c;
        *ret_n = 1;
    }
    ps->pos += n + 1;
    return 0;
}

static int
capturing(const struct parser *ps)
{
    return ps->capture_depth != 0 && ps->depth == ps->capture_depth;
}

static int
capture(struct parser *ps, const char *p, size_t n)
{
    if (!capturing(ps) || n == 0)
        return 0;
    return buf_append(&ps->text, p, n, ps->err);
}

/* Does the current element stack match the query? */
static int
stack_matches(const struct parser *ps)
{
    size_t off;

    if (ps->anywhere) {
        if (ps->depth < ps->nparts)
            return 0;
        off = ps->depth - ps->nparts;
    } else {
        if (ps->depth != ps->nparts)
            return 0;
        off = 0;
    }
    for (size_t i = 0; i < ps->nparts; i++) {
        const struct name_ref *nr = &ps->stack[off + i];
        size_t llen = nr->len - nr->local_off;
        if (llen != ps->parts[i].len || memcmp(nr->p + nr->local_off, ps->parts[i].p, llen) != 0)
            return 0;
    }
    return 1;
}

/* At "<!--". */
static int
parse_comment(struct parser *ps)
{
    size_t start = ps->pos;

    ps->pos += 4;
    for (;;) {
        if (at_eof(ps))
            return fail(ps, start, "unterminated comment");
        if (starts(ps, "--")) {
            if (!starts(ps, "-->"))
                return fail(ps, ps->pos, "'--' inside a comment");
            ps->pos += 3;
            return 0;
        }
        if (is_forbidden_byte((unsigned char)ps->doc[ps->pos]))
            return fail(ps, ps->pos, "control character");
        ps->pos++;
    }
}

/* At "<?": a processing instruction (the XML declaration only when first). */
static int
parse_pi(struct parser *ps, int first)
{
    size_t start = ps->pos;
    struct name_ref target = {0};

    ps->pos += 2;
    if (parse_name(ps, &target) < 0)
        return -1;
    if (target.len == 3 && strncasecmp(target.p, "xml", 3) == 0 && !first)
        return fail(ps, start, "XML declaration not at the start of the document");
    if (!at_eof(ps) && !is_space((unsigned char)ps->doc[ps->pos]) && !starts(ps, "?>"))
        return fail(ps, ps->pos, "bad processing instruction");
    for (;;) {
        if (at_eof(ps))
            return fail(ps, start, "unterminated processing instruction");
        if (starts(ps, "?>")) {
            ps->pos += 2;
            return 0;
        }
        if (is_forbidden_byte((unsigned char)ps->doc[ps->pos]))
            return fail(ps, ps->pos, "control character");
        ps->pos++;
    }
}

/* Comments, PIs and white space around the root element. */
static int
parse_misc(struct parser *ps)
{
    for (;;) {
        skip_space(ps);
        if (starts(ps, "<!--")) {
            if (parse_comment(ps) < 0)
                return -1;
        } else if (starts(ps, "<?")) {
            if (parse_pi(ps, 0) < 0)
                return -1;
        } else if (starts(ps, "<!DOCTYPE") || starts(ps, "<!doctype")) {
            return fail(ps, ps->pos, "DOCTYPE declarations are not accepted");
        } else {
            return 0;
        }
    }
}

/* After the element name: attributes, then '>' or "/>". Sets *empty. */
static int
parse_attributes(struct parser *ps, int *empty)
{
    for (;;) {
        size_t before = ps->pos;
        struct name_ref an;
        char quote;

        skip_space(ps);
        if (at_eof(ps))
            return fail(ps, ps->pos, "document ends inside a start tag");
        if (starts(ps, "/>")) {
            ps->pos += 2;
            *empty = 1;
            return 0;
        }
        if (ps->doc[ps->pos] == '>') {
            ps->pos++;
            *empty = 0;
            return 0;
        }
        if (ps->pos == before)
            return fail(ps, ps->pos, "white space expected before an attribute");
        if (parse_name(ps, &an) < 0)
            return -1;
        skip_space(ps);
        if (at_eof(ps) || ps->doc[ps->pos] != '=')
            return fail(ps, ps->pos, "'=' expected after an attribute name");
        ps->pos++;
        skip_space(ps);
        if (at_eof(ps) || (ps->doc[ps->pos] != '"' && ps->doc[ps->pos] != '\''))
            return fail(ps, ps->pos, "quoted attribute value expected");
        quote = ps->doc[ps->pos++];
        for (;;) {
            char tmp[4];
            size_t n;
            unsigned char c;

            if (at_eof(ps))
                return fail(ps, ps->pos, "document ends inside an attribute value");
            c = (unsigned char)ps->doc[ps->pos];
            if (c == (unsigned char)quote) {
                ps->pos++;
                break;
            }
            if (c == '<')
                return fail(ps, ps->pos, "'<' inside an attribute value");
            if (is_forbidden_byte(c))
                return fail(ps, ps->pos, "control character");
            if (c == '&') {
                if (parse_reference(ps, tmp, &n) < 0)
                    return -1;
                continue;
            }
            ps->pos++;
        }
    }
}

static int
parse_cdata(struct parser *ps)
{
    size_t start = ps->pos;
    const char *p = ps->doc + ps->pos + 9;
    const char *end = ps->doc + ps->len;

    for (const char *q = p; q + 3 <= end; q++) {
        if (q[0] == ']' && q[1] == ']' && q[2] == '>') {
            for (const char *r = p; r < q; r++) {
                if (is_forbidden_byte((unsigned char)*r))
                    return fail(ps, (size_t)(r - ps->doc), "control character");
            }
            if (capture(ps, p, (size_t)(q - p)) < 0)
                return -1;
            ps->pos = (size_t)(q + 3 - ps->doc);
            return 0;
        }
    }
    return fail(ps, start, "unterminated CDATA section");
}

/* At '<' of the root element: the element tree, iteratively. */
static int
parse_elements(struct parser *ps)
{
    for (;;) {
        if (at_eof(ps)) {
            if (ps->depth == 0)
                return fail(ps, ps->pos, "document ends where the root element was expected");
            return fail(ps, ps->pos, "document ends inside an element (truncated)");
        }
        if (ps->depth == 0 || ps->doc[ps->pos] == '<') {
            if (ps->doc[ps->pos] != '<')
                return fail(ps, ps->pos, "the root element was expected");
            if (ps->depth > 0 && starts(ps, "<!--")) {
                if (parse_comment(ps) < 0)
                    return -1;
            } else if (ps->depth > 0 && starts(ps, "<![CDATA[")) {
                if (parse_cdata(ps) < 0)
                    return -1;
            } else if (ps->depth > 0 && starts(ps, "<?")) {
                if (parse_pi(ps, 0) < 0)
                    return -1;
            } else if (ps->depth > 0 && starts(ps, "</")) {
                size_t at = ps->pos;
                struct name_ref nr = {0};
                const struct name_ref *open = &ps->stack[ps->depth - 1];

                ps->pos += 2;
                if (parse_name(ps, &nr) < 0)
                    return -1;
                if (nr.len != open->len || (nr.len > 0 && memcmp(nr.p, open->p, nr.len) != 0))
                    return fail(ps, at, "end tag does not match the open element");
                skip_space(ps);
                if (at_eof(ps) || ps->doc[ps->pos] != '>')
                    return fail(ps, ps->pos, "'>' expected to close an end tag");
                ps->pos++;
                if (capturing(ps)) {
                    ps->found = 1;
                    ps->capture_depth = 0;
                }
                ps->depth--;
                if (ps->depth == 0)
                    return 0;
            } else if (starts(ps, "<!")) {
                if (starts(ps, "<!DOCTYPE") || starts(ps, "<!doctype"))
                    return fail(ps, ps->pos, "DOCTYPE declarations are not accepted");
                return fail(ps, ps->pos, "unexpected markup declaration");
            } else {
                struct name_ref nr;
                int empty = 0;
                size_t at = ps->pos;

                ps->pos++;
                if (ps->depth >= XML_MAX_DEPTH)
                    return fail(ps, at, "elements nested too deeply (limit 64)");
                if (parse_name(ps, &nr) < 0)
                    return -1;
                if (parse_attributes(ps, &empty) < 0)
                    return -1;
                ps->stack[ps->depth++] = nr;
                if (!ps->found && ps->capture_depth == 0 && stack_matches(ps))
                    ps->capture_depth = ps->depth;
                if (empty) {
                    if (capturing(ps)) {
                        ps->found = 1;
                        ps->capture_depth = 0;
                    }
                    ps->depth--;
                    if (ps->depth == 0)
                        return 0;
                }
            }
        } else {
            /* character data up to the next '<' */
            unsigned char c = (unsigned char)ps->doc[ps->pos];
            if (c == '&') {
                char tmp[4] = {0};
                size_t n = 0;
                if (parse_reference(ps, tmp, &n) < 0)
                    return -1;
                if (capture(ps, tmp, n) < 0)
                    return -1;
            } else if (is_forbidden_byte(c)) {
                return fail(ps, ps->pos, "control character");
            } else if (starts(ps, "]]>")) {
                return fail(ps, ps->pos, "']]>' outside a CDATA section");
            } else {
                size_t s = ps->pos;
                while (!at_eof(ps)) {
                    c = (unsigned char)ps->doc[ps->pos];
                    if (c == '<' || c == '&' || c == ']' || is_forbidden_byte(c))
                        break;
                    ps->pos++;
                }
                if (ps->pos == s) /* a ']' not starting "]]>" */
                    ps->pos++;
                if (capture(ps, ps->doc + s, ps->pos - s) < 0)
                    return -1;
            }
        }
    }
}

static int
parse_path(struct parser *ps, const char *path)
{
    const char *p = path;

    if (strncmp(p, "//", 2) == 0) {
        ps->anywhere = 1;
        p += 2;
    }
    while (*p != '\0') {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);

        if (n == 0 || ps->nparts == XML_MAX_PATH)
            return err_set(ps->err, ERR_INTERNAL, "bad XML path '%s'", path);
        ps->parts[ps->nparts].p = p;
        ps->parts[ps->nparts].len = n;
        ps->nparts++;
        p += n;
        if (*p == '/')
            p++;
    }
    if (ps->nparts == 0)
        return err_set(ps->err, ERR_INTERNAL, "empty XML path");
    return 0;
}

int
xml_find_text(const char *doc, size_t len, const char *path, char **ret, struct err *err)
{
    struct parser ps;
    int rc = -1;

    memset(&ps, 0, sizeof(ps));
    ps.doc = doc;
    ps.len = len;
    ps.err = err;
    buf_init(&ps.text, len + 1);
    if (doc == NULL || path == NULL) {
        err_set(err, ERR_INTERNAL, "xml_find_text: NULL argument");
        goto out;
    }
    if (parse_path(&ps, path) < 0)
        goto out;
    if (len > XML_MAX_SIZE) {
        err_set(err, ERR_REMOTE, "XML document of %zu bytes exceeds the %zu-byte limit", len,
                XML_MAX_SIZE);
        goto out;
    }
    if (memchr(doc, '\0', len) != NULL) {
        fail(&ps, (size_t)((const char *)memchr(doc, '\0', len) - doc), "NUL byte");
        goto out;
    }
    if (len >= 3 && memcmp(doc, "\xEF\xBB\xBF", 3) == 0)
        ps.pos = 3;
    if (starts(&ps, "<?xml") && ps.pos + 5 < len && is_space((unsigned char)doc[ps.pos + 5])) {
        if (parse_pi(&ps, 1) < 0)
            goto out;
    }
    if (parse_misc(&ps) < 0)
        goto out;
    if (parse_elements(&ps) < 0)
        goto out;
    if (parse_misc(&ps) < 0)
        goto out;
    if (!at_eof(&ps)) {
        fail(&ps, ps.pos, "content after the root element");
        goto out;
    }
    if (ps.found) {
        char *s = buf_steal(&ps.text);
        if (s == NULL) {
            err_set(err, ERR_INTERNAL, "out of memory copying XML text");
            goto out;
        }
        *ret = s;
        rc = 1;
    } else {
        rc = 0;
    }
out:
    buf_clear(&ps.text);
    return rc;
}
