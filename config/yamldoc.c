/*
 * yamldoc.c: libyaml events -> an arena tree of nodes, plus the walking and
 * scalar helpers config.c and rules.c share. The only file that includes
 * <yaml.h> (besides the version line of daemon/cmd_version.c).
 *
 * Why events and not yaml_parser_load: libyaml's document tree costs several
 * allocations per node (the node array grown by doubling, a copied tag
 * string, a 16-slot array per list and mapping) and the built-in rules are
 * parsed at every process start. Here nodes, child arrays and scalar text go
 * into a few large chunks, freed at once. Positions, alias handling and
 * every error text are libyaml's loader's, so results are unchanged:
 * libyaml marks are 0-based, hence the +1 everywhere.
 */
#include "config/yamldoc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define CHUNK_MIN (8 * 1024)
#define CHUNK_MAX (1024 * 1024)
#define ALIGN     _Alignof(struct yamldoc_node) /* enough for nodes, pointers and text */

struct yamldoc_node {
    enum yamldoc_kind kind;
    int plain;   /* scalar written without quotes */
    size_t line; /* 1-based */
    size_t col;  /* 1-based */
    const char *value; /* scalar: NUL-terminated; "" otherwise */
    size_t len;        /* scalar: bytes of value */
    size_t nkids;      /* list: items; mapping: 2 * pairs */
    const struct yamldoc_node *const *kids; /* mapping: key, value, key, value... */
};

struct chunk {
    struct chunk *next;
    size_t size, used;
    max_align_t data[]; /* size bytes */
};

struct yamldoc {
    struct chunk *chunks; /* newest first */
    size_t next_size;
    unsigned flags;
    const struct yamldoc_node *root;
};

/* ---- errors ---- */

void
yamldoc_errs_init(struct yamldoc_errs *e, const char *name, yamldoc_sink_fn sink, void *sink_arg)
{
    memset(e, 0, sizeof(*e));
    e->name = name;
    e->sink = sink;
    e->sink_arg = sink_arg;
}

static void
keep_line(struct yamldoc_errs *e, const char *line)
{
    if (e->n++ == 0)
        snprintf(e->first, sizeof(e->first), "%s", line);
    if (e->sink != NULL)
        e->sink(e, line, e->sink_arg);
}

void
yamldoc_error(struct yamldoc_errs *e, const struct yamldoc_node *at, const char *fmt, ...)
{
    char msg[600];
    char line[YAMLDOC_LINE_MAX];
    va_list ap;

    if (e->n > 0 && e->sink == NULL) { /* only the first is kept: skip the formatting */
        e->n++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (at != NULL)
        snprintf(line, sizeof(line), "%s:%zu:%zu: %s", e->name, at->line, at->col, msg);
    else
        snprintf(line, sizeof(line), "%s: %s", e->name, msg);
    keep_line(e, line);
}

int
yamldoc_errs_status(const struct yamldoc_errs *e, struct err *err)
{
    if (e->oom)
        return err_set(err, ERR_INTERNAL, "out of memory while reading %s", e->name);
    if (e->n > 0)
        return err_set(err, ERR_CONFIG, "%.440s (%zu problem%s)", e->first, e->n,
            e->n == 1 ? "" : "s");
    return 0;
}

/* ---- arena ---- */

static void *
arena_alloc(struct yamldoc *doc, size_t size)
{
    struct chunk *c = doc->chunks;
    void *p;

    size = (size + ALIGN - 1) & ~(ALIGN - 1);
    if (c == NULL || c->size - c->used < size) {
        size_t want = doc->next_size;

        if (want < size)
            want = size;
        c = malloc(sizeof(*c) + want);
        if (c == NULL)
            return NULL;
        c->size = want;
        c->used = 0;
        c->next = doc->chunks;
        doc->chunks = c;
        if (doc->next_size < CHUNK_MAX)
            doc->next_size *= 2;
    }
    p = (char *)c->data + c->used;
    c->used += size;
    return p;
}

void
yamldoc_free(struct yamldoc *doc)
{
    struct chunk *c, *next;

    if (doc == NULL)
        return;
    for (c = doc->chunks; c != NULL; c = next) {
        next = c->next;
        if (doc->flags & YAMLDOC_SECRET)
            explicit_bzero(c->data, c->used);
        free(c);
    }
    free(doc);
}

/* ---- building from events ---- */

struct anchor {
    char *name; /* owned (taken from the event) */
    struct yamldoc_node *node;
};

struct open_coll {
    struct yamldoc_node *node;
    size_t first; /* where its children start on the kid stack */
};

struct builder {
    struct yamldoc *doc;
    const struct yamldoc_node **kids; /* children of the open collections, in order */
    size_t nkids, kids_cap;
    struct open_coll *open;
    size_t nopen, open_cap;
    struct anchor *anchors;
    size_t nanchors, anchors_cap;
};

/* Grows *v (elements of size sz) to hold one more; 0 or -1. */
static int
grow(void **v, size_t *cap, size_t n, size_t sz)
{
    void *g;
    size_t ncap;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 64;
    g = realloc(*v, ncap * sz);
    if (g == NULL)
        return -1;
    *v = g;
    *cap = ncap;
    return 0;
}

static struct yamldoc_node *
new_node(struct builder *b, enum yamldoc_kind kind, const yaml_mark_t *m)
{
    struct yamldoc_node *n = arena_alloc(b->doc, sizeof(*n));

    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->line = (size_t)m->line + 1;
    n->col = (size_t)m->column + 1;
    n->value = "";
    return n;
}

/* A finished node becomes a child of the innermost open collection, or the
 * root. */
static int
attach(struct builder *b, const struct yamldoc_node *n)
{
    if (b->nopen == 0) {
        b->doc->root = n;
        return 0;
    }
    if (grow((void **)&b->kids, &b->kids_cap, b->nkids, sizeof(*b->kids)) < 0)
        return -1;
    b->kids[b->nkids++] = n;
    return 0;
}

/* libyaml's loader words for anchor and alias problems, reported the way a
 * parser error is (problem at its mark, then the context). */
static int
composer_error(struct yamldoc_errs *e, const char *problem, const yaml_mark_t *m,
    const char *context, struct err *err)
{
    char line[YAMLDOC_LINE_MAX];

    snprintf(line, sizeof(line), "%s:%zu:%zu: %s%s%s", e->name, (size_t)m->line + 1,
        (size_t)m->column + 1, problem, context ? " " : "", context ? context : "");
    keep_line(e, line);
    return err_set(err, ERR_CONFIG, "%s", line);
}

/* Registers an event's anchor for n; takes the anchor string. */
static int
add_anchor(struct builder *b, struct yamldoc_errs *e, yaml_char_t **anchor,
    struct yamldoc_node *n, const yaml_mark_t *m, struct err *err)
{
    if (*anchor == NULL)
        return 0;
    for (size_t i = 0; i < b->nanchors; i++) {
        if (strcmp(b->anchors[i].name, (const char *)*anchor) == 0)
            return composer_error(e, "second occurrence", m,
                "found duplicate anchor; first occurrence", err);
    }
    if (grow((void **)&b->anchors, &b->anchors_cap, b->nanchors, sizeof(*b->anchors)) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    b->anchors[b->nanchors].name = (char *)*anchor;
    b->anchors[b->nanchors].node = n;
    b->nanchors++;
    *anchor = NULL; /* ours now: yaml_event_delete skips it */
    return 0;
}

static int
on_scalar(struct builder *b, struct yamldoc_errs *e, yaml_event_t *ev, struct err *err)
{
    struct yamldoc_node *n = new_node(b, YAMLDOC_SCALAR, &ev->start_mark);
    size_t len = ev->data.scalar.length;
    char *v;

    if (n == NULL || (v = arena_alloc(b->doc, len + 1)) == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    memcpy(v, ev->data.scalar.value, len);
    v[len] = '\0';
    n->value = v;
    n->len = len;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (add_anchor(b, e, &ev->data.scalar.anchor, n, &ev->start_mark, err) < 0)
        return -1;
    if (attach(b, n) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    return 0;
}

static int
on_start(struct builder *b, struct yamldoc_errs *e, yaml_event_t *ev, struct err *err)
{
    int list = ev->type == YAML_SEQUENCE_START_EVENT;
    struct yamldoc_node *n = new_node(b, list ? YAMLDOC_LIST : YAMLDOC_MAP, &ev->start_mark);
    yaml_char_t **anchor = list ? &ev->data.sequence_start.anchor
                                : &ev->data.mapping_start.anchor;

    if (n == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    /* registered before the children, as libyaml does: an alias inside
       may name its own parent */
    if (add_anchor(b, e, anchor, n, &ev->start_mark, err) < 0)
        return -1;
    if (grow((void **)&b->open, &b->open_cap, b->nopen, sizeof(*b->open)) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    b->open[b->nopen].node = n;
    b->open[b->nopen].first = b->nkids;
    b->nopen++;
    return 0;
}

static int
on_end(struct builder *b, struct err *err)
{
    struct open_coll *o = &b->open[b->nopen - 1];
    size_t nk = b->nkids - o->first;
    const struct yamldoc_node **kids = NULL;

    if (nk > 0) {
        kids = arena_alloc(b->doc, nk * sizeof(*kids));
        if (kids == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory");
        memcpy(kids, b->kids + o->first, nk * sizeof(*kids));
    }
    o->node->kids = kids;
    o->node->nkids = nk;
    b->nkids = o->first;
    b->nopen--;
    if (attach(b, o->node) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    return 0;
}

static int
on_alias(struct builder *b, struct yamldoc_errs *e, const yaml_event_t *ev, struct err *err)
{
    for (size_t i = 0; i < b->nanchors; i++) {
        if (strcmp(b->anchors[i].name, (const char *)ev->data.alias.anchor) == 0) {
            if (attach(b, b->anchors[i].node) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
            return 0;
        }
    }
    return composer_error(e, "found undefined alias", &ev->start_mark, NULL, err);
}

static int
parser_error(struct yamldoc_errs *e, const yaml_parser_t *parser, struct err *err)
{
    const yaml_mark_t *m = parser->problem != NULL ? &parser->problem_mark : &parser->context_mark;

    if (parser->error == YAML_MEMORY_ERROR)
        return err_set(err, ERR_INTERNAL, "out of memory while reading %s", e->name);
    return composer_error(e, parser->problem ? parser->problem : "invalid YAML", m,
        parser->context, err);
}

/* Events up to the end of the first document (libyaml's loader reads no
 * further either, so what follows a first document is never looked at). */
static int
build(struct builder *b, struct yamldoc_errs *e, yaml_parser_t *parser, struct err *err)
{
    int rc = 0, done = 0;

    while (!done && rc == 0) {
        yaml_event_t ev;

        if (!yaml_parser_parse(parser, &ev))
            return parser_error(e, parser, err);
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
            rc = on_scalar(b, e, &ev, err);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            rc = on_start(b, e, &ev, err);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (b->nopen > 0) /* libyaml pairs them: never false */
                rc = on_end(b, err);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(b, e, &ev, err);
            break;
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default: /* stream and document start: nothing to build */
            break;
        }
        yaml_event_delete(&ev);
    }
    return rc;
}

int
yamldoc_parse(struct yamldoc_errs *e, const char *text, size_t len, unsigned flags,
    struct yamldoc **ret, struct err *err)
{
    yaml_parser_t parser;
    struct builder b;
    struct yamldoc *doc;
    int rc = -1, have_parser = 0;

    memset(&b, 0, sizeof(b));
    doc = calloc(1, sizeof(*doc));
    if (doc == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    doc->flags = flags;
    /* a node, its child slot and its text take a few times the text's size */
    doc->next_size = len * 4 < CHUNK_MIN ? CHUNK_MIN : len * 4 > CHUNK_MAX ? CHUNK_MAX : len * 4;
    b.doc = doc;
    if (!yaml_parser_initialize(&parser)) {
        err_set(err, ERR_INTERNAL, "cannot initialise the YAML parser");
        goto out;
    }
    have_parser = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (build(&b, e, &parser, err) < 0)
        goto out;
    *ret = doc;
    doc = NULL;
    rc = 0;
out:
    for (size_t i = 0; i < b.nanchors; i++)
        free(b.anchors[i].name);
    free(b.anchors);
    free(b.kids);
    free(b.open);
    if (have_parser)
        yaml_parser_delete(&parser);
    yamldoc_free(doc);
    return rc;
}

/* ---- reading nodes ---- */

const struct yamldoc_node *
yamldoc_root(const struct yamldoc *doc)
{
    return doc->root;
}

enum yamldoc_kind
yamldoc_kind(const struct yamldoc_node *n)
{
    return n->kind;
}

const char *
yamldoc_kind_name(const struct yamldoc_node *n)
{
    switch (n->kind) {
    case YAMLDOC_SCALAR:
        return "a scalar";
    case YAMLDOC_LIST:
        return "a list";
    case YAMLDOC_MAP:
        return "a mapping";
    }
    return "empty";
}

size_t
yamldoc_line(const struct yamldoc_node *n)
{
    return n->line;
}

size_t
yamldoc_col(const struct yamldoc_node *n)
{
    return n->col;
}

const char *
yamldoc_scalar(const struct yamldoc_node *n)
{
    return n->value;
}

size_t
yamldoc_scalar_len(const struct yamldoc_node *n)
{
    return n->len;
}

int
yamldoc_is_null(const struct yamldoc_node *n)
{
    const char *v = n->value;

    if (n->kind != YAMLDOC_SCALAR || !n->plain)
        return 0;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
        strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

size_t
yamldoc_count(const struct yamldoc_node *n)
{
    if (n->kind == YAMLDOC_MAP)
        return n->nkids / 2;
    return n->kind == YAMLDOC_LIST ? n->nkids : 0;
}

const struct yamldoc_node *
yamldoc_item(const struct yamldoc_node *n, size_t i)
{
    return n->kind == YAMLDOC_LIST && i < n->nkids ? n->kids[i] : NULL;
}

const struct yamldoc_node *
yamldoc_get(const struct yamldoc_node *n, const char *key)
{
    if (n->kind != YAMLDOC_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < n->nkids; i += 2) {
        const struct yamldoc_node *k = n->kids[i];
        if (k->kind == YAMLDOC_SCALAR && strcmp(k->value, key) == 0)
            return n->kids[i + 1];
    }
    return NULL;
}

void
yamldoc_walk_mapping(struct yamldoc_errs *e, const struct yamldoc_node *map, const char *what,
    yamldoc_pair_fn fn, void *ctx)
{
    if (map->kind != YAMLDOC_MAP) {
        yamldoc_error(e, map, "%s must be a mapping, not %s", what, yamldoc_kind_name(map));
        return;
    }
    for (size_t i = 0; i + 1 < map->nkids; i += 2) {
        const struct yamldoc_node *k = map->kids[i];
        int dup = 0;

        if (k->kind != YAMLDOC_SCALAR) {
            yamldoc_error(e, k, "keys in %s must be plain words", what);
            continue;
        }
        for (size_t j = 0; j < i && !dup; j += 2) {
            const struct yamldoc_node *other = map->kids[j];
            dup = other->kind == YAMLDOC_SCALAR && strcmp(other->value, k->value) == 0;
        }
        if (dup) {
            yamldoc_error(e, k, "duplicate key '%s' in %s", k->value, what);
            continue;
        }
        fn(e, k->value, k, map->kids[i + 1], ctx);
    }
}

void
yamldoc_each_item(struct yamldoc_errs *e, const struct yamldoc_node *v, yamldoc_item_fn fn,
    void *ctx)
{
    if (v->kind == YAMLDOC_SCALAR) {
        fn(e, v, ctx);
        return;
    }
    if (v->kind != YAMLDOC_LIST) {
        yamldoc_error(e, v, "expected a string or a list, not %s", yamldoc_kind_name(v));
        return;
    }
    for (size_t i = 0; i < v->nkids; i++)
        fn(e, v->kids[i], ctx);
}

const char *
yamldoc_text(struct yamldoc_errs *e, const struct yamldoc_node *n, const char *what,
    size_t max_len, unsigned flags)
{
    if (n->kind != YAMLDOC_SCALAR) {
        yamldoc_error(e, n, "%s must be a string, not %s", what, yamldoc_kind_name(n));
        return NULL;
    }
    if (strlen(n->value) != n->len) {
        yamldoc_error(e, n, "%s contains a NUL byte", what);
        return NULL;
    }
    for (size_t i = 0; i < n->len; i++) {
        unsigned char c = (unsigned char)n->value[i];
        if (c < 0x20 || c == 0x7f) {
            yamldoc_error(e, n, "%s contains a control character", what);
            return NULL;
        }
    }
    if (max_len > 0 && n->len > max_len) {
        yamldoc_error(e, n, "%s is longer than %zu characters", what, max_len);
        return NULL;
    }
    if ((flags & YAMLDOC_NONEMPTY) && n->len == 0) {
        yamldoc_error(e, n, "%s is empty", what);
        return NULL;
    }
    return n->value;
}
