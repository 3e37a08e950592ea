/*
 * compliance.c: the judge, the component linker and the incremental merge
 * (rules in compliance.h). Everything is a pure function of its documents;
 * jansson objects serve as hash sets and indexes, and every output list is
 * sorted so equal inputs give byte-equal outputs whatever order AWS
 * returned the findings in.
 *
 * Inputs are produced by this program (summariser, catalogue reader,
 * store), so a wrong shape is reported as ERR_INTERNAL naming the entry
 * rather than skipped: skipping would turn a bug into a silent verdict.
 */
#include "mapping/compliance.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/jsonr.h"
#include "daemon/jsonw.h"

static const char *const severities[] = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"};
#define NSEV ((int)(sizeof(severities) / sizeof(severities[0])))

static int
severity_rank(const char *s)
{
    for (int i = 0; s != NULL && i < NSEV; i++) {
        if (strcmp(s, severities[i]) == 0)
            return i;
    }
    return -1;
}

int
compliance_control_cmp(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            char *ea, *eb;
            unsigned long long na = strtoull(a, &ea, 10), nb = strtoull(b, &eb, 10);
            if (na != nb)
                return na < nb ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return (*a != '\0') - (*b != '\0');
}

/* ---- small containers: a borrowed-key hash map and a pointer vector ---- */

/* Open addressing, keys borrowed C strings (they outlive the map), values
 * positions; replaces jansson objects used as indexes, which copy and
 * hash every key through a malloc'd pair. */
struct strmap {
    const char **key;
    size_t *val;
    uint64_t *hash;
    size_t cap, n; /* cap a power of two, 0 while empty */
};

/* Eight bytes at a time (the keys are mostly ARNs of 60-100 bytes, and the
 * model index hashes three per component). */
static uint64_t
str_hash(const char *s)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    size_t n = strlen(s), i;
    uint64_t h = n * k, w;

    for (i = 0; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (i < n) {
        w = 0;
        memcpy(&w, s + i, n - i);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    return h ^ (h >> 32);
}

static void
strmap_clear(struct strmap *m)
{
    free(m->key);
    free(m->val);
    free(m->hash);
    memset(m, 0, sizeof(*m));
}

/* The value slot of k, NULL when absent. */
static size_t *
strmap_get(const struct strmap *m, const char *k)
{
    uint64_t h;
    size_t i;

    if (m->n == 0)
        return NULL;
    h = str_hash(k);
    for (i = h & (m->cap - 1); m->key[i] != NULL; i = (i + 1) & (m->cap - 1)) {
        if (m->hash[i] == h && strcmp(m->key[i], k) == 0)
            return &m->val[i];
    }
    return NULL;
}

static int
strmap_grow(struct strmap *m)
{
    struct strmap g = {0};
    size_t cap = m->cap ? m->cap * 2 : 16;

    g.key = calloc(cap, sizeof(*g.key));
    g.val = calloc(cap, sizeof(*g.val));
    g.hash = calloc(cap, sizeof(*g.hash));
    if (g.key == NULL || g.val == NULL || g.hash == NULL) {
        strmap_clear(&g);
        return -1;
    }
    g.cap = cap;
    g.n = m->n;
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;

        if (m->key[i] == NULL)
            continue;
        for (j = m->hash[i] & (cap - 1); g.key[j] != NULL; j = (j + 1) & (cap - 1))
            ;
        g.key[j] = m->key[i];
        g.val[j] = m->val[i];
        g.hash[j] = m->hash[i];
    }
    strmap_clear(m);
    *m = g;
    return 0;
}

/* The value slot of k, added with value v when absent (*ret_added says
 * which); NULL when out of memory. */
static size_t *
strmap_put(struct strmap *m, const char *k, size_t v, int *ret_added)
{
    uint64_t h = str_hash(k);
    size_t i;

    if ((m->n + 1) * 2 > m->cap && strmap_grow(m) < 0)
        return NULL;
    for (i = h & (m->cap - 1); m->key[i] != NULL; i = (i + 1) & (m->cap - 1)) {
        if (m->hash[i] == h && strcmp(m->key[i], k) == 0) {
            *ret_added = 0;
            return &m->val[i];
        }
    }
    m->key[i] = k;
    m->val[i] = v;
    m->hash[i] = h;
    m->n++;
    *ret_added = 1;
    return &m->val[i];
}

/* Grows the array *pptr (a pointer to any element pointer; elements of
 * size sz) to hold at least n + 1; -1 out of memory, *pptr kept. The
 * pointer is moved with memcpy so no type is punned. */
static int
vec_reserve(void *pptr, size_t *cap, size_t n, size_t sz)
{
    void *p, *grown;
    size_t c;

    if (n < *cap)
        return 0;
    c = *cap ? *cap * 2 : 16;
    memcpy(&p, pptr, sizeof(p));
    grown = realloc(p, c * sz);
    if (grown == NULL)
        return -1;
    memcpy(pptr, &grown, sizeof(grown));
    *cap = c;
    /* grown is the caller's array now, stored through pptr by the memcpy
     * above, which cppcheck does not follow */
    /* cppcheck-suppress memleak */
    return 0;
}

struct pvec {
    const char **v;
    size_t n, cap;
};

static int
pvec_push(struct pvec *pv, const char *s)
{
    if (vec_reserve(&pv->v, &pv->cap, pv->n, sizeof(*pv->v)) < 0)
        return -1;
    pv->v[pv->n++] = s;
    return 0;
}

/* ---- summary sets (shape-checked) ---- */

enum sum_status { ST_NONE, ST_FAILED, ST_WARNING, ST_NA, ST_PASSED, ST_OTHER };

/* One entry of a summary's standard_ids with its control_ids. */
struct sum_std {
    const char *name; /* NULL: not a string */
    size_t sid;       /* position of name in the set's standards (when name) */
    size_t cid_off;   /* control_ids[name] in the set's cid (NULL: not a string) */
    size_t ncid;      /* 0 when control_ids[name] is absent or not a list */
};

struct sum {
    const char *id;
    const char *account_id;
    const char *status; /* NULL: not a control check */
    const char *workflow;
    const char *severity; /* NULL: unrated */
    const char *scid;     /* NULL when none */
    enum sum_status st;
    int sev_rank;
    int archived, suppressed;
    int counts; /* a counted FAILED finding naming a control (fc_counts) */
    size_t std_off, nstd;
    size_t res_off, nres; /* the string resources, in order */
};

struct sums_arena;
struct text_scratch;

struct compliance_sums {
    struct sum *v;
    size_t n, cap;
    struct sum_std *std;
    size_t nstd, capstd;
    const char **cid;
    size_t ncid, capcid;
    const char **res;
    size_t nres, capres;
    struct strmap stdmap; /* standard name -> sid */
    size_t nsid;
    size_t nfail; /* summaries that count */
    /* text-built summaries: the strings they point to (shared by refcount
     * with the sets compliance_select_sums makes from this one), and the
     * reader's per-text scratch (see "summaries from texts" below) */
    struct sums_arena *arena;
    struct text_scratch *scratch;
};

static void arena_unref(struct sums_arena *a);
static void text_scratch_free(struct text_scratch *ts);

void
compliance_sums_free(struct compliance_sums *set)
{
    if (set == NULL)
        return;
    free(set->v);
    free(set->std);
    free(set->cid);
    free(set->res);
    strmap_clear(&set->stdmap);
    arena_unref(set->arena);
    text_scratch_free(set->scratch);
    free(set);
}

size_t
compliance_sums_count(const struct compliance_sums *set)
{
    return set != NULL ? set->n : 0;
}

/* Empties the set, keeping its memory (the lazy readers use one slot). */
static void
sums_reset(struct compliance_sums *set)
{
    set->n = set->nstd = set->ncid = set->nres = 0;
    set->nfail = 0;
}

static enum sum_status
status_of(const char *s)
{
    if (s == NULL)
        return ST_NONE;
    if (strcmp(s, "FAILED") == 0)
        return ST_FAILED;
    if (strcmp(s, "PASSED") == 0)
        return ST_PASSED;
    if (strcmp(s, "WARNING") == 0)
        return ST_WARNING;
    if (strcmp(s, "NOT_AVAILABLE") == 0)
        return ST_NA;
    return ST_OTHER;
}

static int
sums_oom(struct err *err)
{
    /* -1 spelled out: the analyser cannot see that err_set returns it */
    (void)err_set(err, ERR_INTERNAL, "out of memory");
    return -1;
}

/* Adds standard entry name (NULL: not a string) with the control ids
 * cids[0..ncid) (NULL entries: not strings) to the last summary of set. */
static int
sums_push_std(struct compliance_sums *set, const char *name, const char *const *cids, size_t ncid,
    struct err *err)
{
    struct sum_std *e;
    size_t *sid;
    int added;

    if (vec_reserve(&set->std, &set->capstd, set->nstd, sizeof(*set->std)) < 0)
        return sums_oom(err);
    e = &set->std[set->nstd++];
    memset(e, 0, sizeof(*e));
    e->name = name;
    if (name == NULL)
        return 0;
    sid = strmap_put(&set->stdmap, name, set->nsid, &added);
    if (sid == NULL)
        return sums_oom(err);
    set->nsid += added;
    e->sid = *sid;
    e->cid_off = set->ncid;
    for (size_t i = 0; i < ncid; i++) {
        if (vec_reserve(&set->cid, &set->capcid, set->ncid, sizeof(*set->cid)) < 0)
            return sums_oom(err);
        set->cid[set->ncid++] = cids[i];
    }
    e->ncid = ncid;
    return 0;
}

/* sums_push_std for a tree: control_ids cids (a list, else none) of the
 * standard entry name (NULL: not a string). */
static int
sums_add_std(struct compliance_sums *set, const char *name, json_t *cids, struct err *err)
{
    size_t n = json_is_array(cids) ? json_array_size(cids) : 0;
    const char *stack[16], **v = stack;
    int rc;

    if (n > sizeof(stack) / sizeof(stack[0]) && (v = malloc(n * sizeof(*v))) == NULL)
        return sums_oom(err);
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(cids, i));
    rc = sums_push_std(set, name, v, n, err);
    if (v != stack)
        free(v);
    return rc;
}

/* Which of the fields the sets read a key names (0: none). */
enum tkey {
    K_NONE, K_ID, K_ACCT, K_WF, K_SEV, K_RS, K_ST, K_SC, K_STD, K_CIDS, K_RES
};

static enum tkey
tkey_of(const char *k, size_t n)
{
    switch (n) {
    case 2:
        return memcmp(k, "id", 2) == 0 ? K_ID : K_NONE;
    case 6:
        return memcmp(k, "status", 6) == 0 ? K_ST : K_NONE;
    case 8:
        if (memcmp(k, "workflow", 8) == 0)
            return K_WF;
        return memcmp(k, "severity", 8) == 0 ? K_SEV : K_NONE;
    case 9:
        return memcmp(k, "resources", 9) == 0 ? K_RES : K_NONE;
    case 10:
        return memcmp(k, "account_id", 10) == 0 ? K_ACCT : K_NONE;
    case 11:
        return memcmp(k, "control_ids", 11) == 0 ? K_CIDS : K_NONE;
    case 12:
        if (memcmp(k, "standard_ids", 12) == 0)
            return K_STD;
        return memcmp(k, "record_state", 12) == 0 ? K_RS : K_NONE;
    case 19:
        return memcmp(k, "security_control_id", 19) == 0 ? K_SC : K_NONE;
    default:
        return K_NONE;
    }
}

/* The error of a summary of the wrong shape, tree or text alike. */
static int
shape_error(struct err *err, size_t idx, const char *id)
{
    /* -1 spelled out, as sums_oom */
    (void)err_set(err, ERR_INTERNAL,
        "compliance: summary %zu%s%.200s%s is not a finding summary (id, account_id, status, "
        "workflow, severity, record_state, standard_ids, control_ids, resources)",
        idx + 1, id ? " ('" : "", id ? id : "", id ? "')" : "");
    return -1;
}

/* Reads summary s (position idx in its list, for messages) as the next
 * summary of set. One pass over its keys instead of a hash lookup each. */
static int
sums_add(struct compliance_sums *set, json_t *s, size_t idx, struct err *err)
{
    json_t *f[K_RES + 1] = {NULL}, *v;
    struct sum *out;
    const char *k;
    size_t i, n;

    json_object_foreach(s, k, v)
        f[tkey_of(k, json_object_iter_key_len(json_object_key_to_iter(k)))] = v;
    if (vec_reserve(&set->v, &set->cap, set->n, sizeof(*set->v)) < 0)
        return sums_oom(err);
    out = &set->v[set->n];
    memset(out, 0, sizeof(*out));
    out->id = json_string_value(f[K_ID]);
    out->account_id = json_string_value(f[K_ACCT]);
    out->workflow = json_string_value(f[K_WF]);
    if (!json_is_object(s) || out->id == NULL || out->account_id == NULL ||
        out->workflow == NULL || !json_is_string(f[K_RS]) ||
        !(json_is_string(f[K_SEV]) || json_is_null(f[K_SEV])) ||
        !(json_is_string(f[K_ST]) || json_is_null(f[K_ST])) ||
        !(json_is_string(f[K_SC]) || json_is_null(f[K_SC])) || !json_is_array(f[K_STD]) ||
        !json_is_object(f[K_CIDS]) || !json_is_array(f[K_RES]))
        return shape_error(err, idx, out->id);
    out->severity = json_string_value(f[K_SEV]);
    out->status = json_string_value(f[K_ST]);
    out->scid = json_string_value(f[K_SC]);
    out->st = status_of(out->status);
    out->sev_rank = severity_rank(out->severity);
    out->archived = strcmp(json_string_value(f[K_RS]), "ARCHIVED") == 0;
    out->suppressed = strcmp(out->workflow, "SUPPRESSED") == 0;
    out->std_off = set->nstd;
    n = json_array_size(f[K_STD]);
    for (i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(f[K_STD], i));

        if (sums_add_std(set, name, name != NULL ? json_object_get(f[K_CIDS], name) : NULL, err) <
            0)
            return -1;
        if (name != NULL && set->std[set->nstd - 1].ncid > 0)
            out->counts = 1; /* names a control; refined below */
    }
    out->nstd = n;
    out->counts = out->counts && !out->archived && out->st == ST_FAILED && !out->suppressed;
    out->res_off = set->nres;
    n = json_array_size(f[K_RES]);
    for (i = 0; i < n; i++) {
        const char *r = json_string_value(json_array_get(f[K_RES], i));

        if (r == NULL)
            continue;
        if (vec_reserve(&set->res, &set->capres, set->nres, sizeof(*set->res)) < 0)
            return sums_oom(err);
        set->res[set->nres++] = r;
    }
    out->nres = set->nres - out->res_off;
    set->nfail += out->counts;
    set->n++;
    return 0;
}

static struct compliance_sums *
sums_new(struct err *err)
{
    struct compliance_sums *set = calloc(1, sizeof(*set));

    if (set == NULL)
        sums_oom(err);
    return set;
}

int
compliance_sums_read(json_t *summaries, struct compliance_sums **ret, struct err *err)
{
    struct compliance_sums *set;
    size_t n;

    if (!json_is_array(summaries))
        return err_set(err, ERR_INTERNAL, "compliance: summaries is not a list");
    if ((set = sums_new(err)) == NULL)
        return -1;
    n = json_array_size(summaries);
    for (size_t i = 0; i < n; i++) {
        if (sums_add(set, json_array_get(summaries, i), i, err) < 0) {
            compliance_sums_free(set);
            return -1;
        }
    }
    *ret = set;
    return 0;
}

/* ---- summaries from texts ----
 *
 * The commit reads the summaries the worker staged as compact JSON texts
 * (its own jsonw dumps of sh_finding_summarize objects); building a jansson
 * tree per text only to read ten fields and free it again was most of the
 * commit's CPU. This reader walks one text once, keeps the fields the sets
 * read as NUL-terminated copies in the set's arena (a list of chunks that
 * never move, so the sets' pointers stay valid; shared by refcount with
 * the sets compliance_select_sums makes), and checks what jansson's reader
 * (daemon/jsonr.c, as store_sql_col_json uses it) checks: the JSON grammar
 * and nesting depth, strict UTF-8, escapes (\u surrogate pairs; \u0000 is
 * refused as there, no JSON_ALLOW_NUL), integers within json_int_t, reals
 * without overflow; any key order, unknown keys skipped, a repeated key's
 * last value wins. One difference: a NUL byte inside len is an error here,
 * where a C-string reader would have stopped at it. */

#define TEXT_MAX_DEPTH 2048     /* jansson's JSON_PARSER_MAX_DEPTH, scalars count */
#define ARENA_CHUNK    (64 * 1024)

struct arena_chunk {
    struct arena_chunk *prev;
    size_t cap, used;
    char data[];
};

struct sums_arena {
    size_t refs;
    struct arena_chunk *head;
};

struct arena_mark {
    struct arena_chunk *head;
    size_t used;
};

static void
arena_unref(struct sums_arena *a)
{
    if (a == NULL || --a->refs > 0)
        return;
    while (a->head != NULL) {
        struct arena_chunk *prev = a->head->prev;

        free(a->head);
        a->head = prev;
    }
    free(a);
}

static struct arena_mark
arena_mark(const struct sums_arena *a)
{
    struct arena_mark m = {a->head, a->head != NULL ? a->head->used : 0};

    return m;
}

/* Back to mark m: chunks opened since are freed. */
static void
arena_rollback(struct sums_arena *a, struct arena_mark m)
{
    while (a->head != m.head) {
        struct arena_chunk *prev = a->head->prev;

        free(a->head);
        a->head = prev;
    }
    if (a->head != NULL)
        a->head->used = m.used;
}

/* Room for n bytes at the end of the current chunk (not yet used: the
 * caller writes, then arena_commit's what it wrote); NULL out of memory. */
static char *
arena_room(struct sums_arena *a, size_t n)
{
    struct arena_chunk *c = a->head;

    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;

        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->prev = a->head;
        c->cap = cap;
        c->used = 0;
        a->head = c;
    }
    return c->data + c->used;
}

static void
arena_commit(struct sums_arena *a, size_t n)
{
    a->head->used += n;
}

/* A string-or-null field of the summary as read: kind and value. */
enum tkind { TK_ABSENT, TK_STRING, TK_NULL, TK_OTHER };

struct tfield {
    enum tkind kind;
    const char *s; /* TK_STRING: in the arena */
};

/* One member of control_ids: its key and its list (cid_off/ncid into the
 * scratch cids; list 0: the value is not a list). */
struct tctl {
    const char *key;
    size_t cid_off, ncid;
    int list;
};

/* What one text gives before it is checked and added; reused per text. */
struct text_scratch {
    const char **std; /* standard_ids entries, NULL for a non-string */
    size_t nstd, capstd;
    struct tctl *ctl;
    size_t nctl, capctl;
    const char **cid; /* control ids, NULL for a non-string */
    size_t ncid, capcid;
    const char **res; /* the string resources */
    size_t nres, capres;
    char *key; /* an unescaped object key */
    size_t capkey;
    char num[64]; /* a number's text for strtoll/strtod (longer: key buffer) */
};

static void
text_scratch_free(struct text_scratch *ts)
{
    if (ts == NULL)
        return;
    free(ts->std);
    free(ts->ctl);
    free(ts->cid);
    free(ts->res);
    free(ts->key);
    free(ts);
}

/* The reader of one text. */
struct treader {
    const unsigned char *start, *p, *end;
    struct compliance_sums *set;
    struct text_scratch *ts;
    size_t idx;        /* position of the summary in its list, for messages */
    const char *error; /* static text of the first problem; NULL: out of memory */
    size_t error_at;   /* its byte offset */
    char decimal_point;
};

/* Records the problem at p (the first one stands); always -1. */
static int
tr_bad(struct treader *r, const unsigned char *p, const char *what)
{
    if (r->error == NULL) {
        r->error = p >= r->end ? "unexpected end of text" : what;
        r->error_at = (size_t)(p - r->start);
    }
    return -1;
}

static int
tr_oom(struct treader *r)
{
    r->error = NULL;
    r->error_at = SIZE_MAX;
    return -1;
}

static void
tr_ws(struct treader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

/* The length of the strict UTF-8 sequence at p (lead byte >= 0x80), 0 when
 * it is not one (overlong, surrogate, above U+10FFFF, truncated). */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n, i;
    uint32_t cp;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800u) || (n == 4 && (cp < 0x10000u || cp > 0x10ffffu)) ||
        (cp >= 0xd800u && cp <= 0xdfffu))
        return 0;
    return n;
}

static int
hex4(const unsigned char *p, uint32_t *ret)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *ret = v;
    return 0;
}

/* Reads the string at r->p (its opening quote) and leaves r->p after the
 * closing one. out NULL: checked only. Else the unescaped bytes are written
 * to out (room for at least the raw length + 1) and NUL-terminated, and
 * *ret_len gets their count. */
static int
tr_string(struct treader *r, char *out, size_t *ret_len)
{
    const unsigned char *p = r->p + 1;
    size_t n = 0;

    for (;;) {
        const unsigned char *q = p;

        while (q < r->end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\')
            q++;
        if (out != NULL && q > p) {
            memcpy(out + n, p, (size_t)(q - p));
            n += (size_t)(q - p);
        }
        p = q;
        if (p >= r->end)
            return tr_bad(r, p, "unterminated string");
        if (*p == '"')
            break;
        if (*p < 0x20)
            return tr_bad(r, p, "control character in a string");
        if (*p >= 0x80) {
            size_t l = utf8_len(p, r->end);

            if (l == 0)
                return tr_bad(r, p, "invalid UTF-8 in a string");
            if (out != NULL) {
                memcpy(out + n, p, l);
                n += l;
            }
            p += l;
            continue;
        }
        /* a backslash */
        if (r->end - p < 2)
            return tr_bad(r, p, "unterminated string");
        {
            char c = 0;
            uint32_t cp, lo;
            unsigned char u[4];
            size_t ul;

            switch (p[1]) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': break;
            default: return tr_bad(r, p, "invalid escape in a string");
            }
            if (c != 0) {
                if (out != NULL)
                    out[n++] = c;
                p += 2;
                continue;
            }
            if (r->end - p < 6 || hex4(p + 2, &cp) < 0)
                return tr_bad(r, p, "invalid \\u escape in a string");
            if (cp >= 0xdc00u && cp <= 0xdfffu)
                return tr_bad(r, p, "lone low surrogate escape in a string");
            if (cp >= 0xd800u && cp <= 0xdbffu) {
                if (r->end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) < 0 ||
                    lo < 0xdc00u || lo > 0xdfffu)
                    return tr_bad(r, p, "lone high surrogate escape in a string");
                cp = 0x10000u + ((cp - 0xd800u) << 10) + (lo - 0xdc00u);
                p += 12;
            } else {
                if (cp == 0)
                    return tr_bad(r, p, "\\u0000 in a string");
                p += 6;
            }
            /* the UTF-8 form is never longer than the escape it comes from */
            if (cp < 0x80u) {
                u[0] = (unsigned char)cp;
                ul = 1;
            } else if (cp < 0x800u) {
                u[0] = (unsigned char)(0xc0u | (cp >> 6));
                u[1] = (unsigned char)(0x80u | (cp & 0x3fu));
                ul = 2;
            } else if (cp < 0x10000u) {
                u[0] = (unsigned char)(0xe0u | (cp >> 12));
                u[1] = (unsigned char)(0x80u | ((cp >> 6) & 0x3fu));
                u[2] = (unsigned char)(0x80u | (cp & 0x3fu));
                ul = 3;
            } else {
                u[0] = (unsigned char)(0xf0u | (cp >> 18));
                u[1] = (unsigned char)(0x80u | ((cp >> 12) & 0x3fu));
                u[2] = (unsigned char)(0x80u | ((cp >> 6) & 0x3fu));
                u[3] = (unsigned char)(0x80u | (cp & 0x3fu));
                ul = 4;
            }
            if (out != NULL) {
                memcpy(out + n, u, ul);
                n += ul;
            }
        }
    }
    if (out != NULL) {
        out[n] = '\0';
        *ret_len = n;
    }
    r->p = p + 1;
    return 0;
}

/* The string at r->p copied into the arena: *ret the copy. */
static int
tr_string_arena(struct treader *r, const char **ret)
{
    const unsigned char *q = r->p + 1;
    size_t len;
    char *out;

    /* the raw length bounds the unescaped one: find the closing quote */
    while (q < r->end && *q != '"')
        q += *q == '\\' && q + 1 < r->end ? 2 : 1;
    out = arena_room(r->set->arena, (size_t)(q - r->p));
    if (out == NULL)
        return tr_oom(r);
    if (tr_string(r, out, &len) < 0)
        return -1;
    arena_commit(r->set->arena, len + 1);
    *ret = out;
    return 0;
}

/* The ':' after an object key, and the whitespace around it. */
static int
tr_colon(struct treader *r)
{
    tr_ws(r);
    if (r->p >= r->end || *r->p != ':')
        return tr_bad(r, r->p, "expected ':' after an object key");
    r->p++;
    tr_ws(r);
    return 0;
}

/* An object key at r->p: *ret (r->ts->key, valid until the next key) and
 * *ret_len; then the ':' after it. */
static int
tr_key(struct treader *r, const char **ret, size_t *ret_len)
{
    const unsigned char *q = r->p + 1;
    struct text_scratch *ts = r->ts;

    if (r->p >= r->end || *r->p != '"')
        return tr_bad(r, r->p, "expected a string as object key");
    while (q < r->end && *q != '"')
        q += *q == '\\' && q + 1 < r->end ? 2 : 1;
    if ((size_t)(q - r->p) > ts->capkey) {
        size_t cap = (size_t)(q - r->p) + 64;
        char *k = realloc(ts->key, cap);

        if (k == NULL)
            return tr_oom(r);
        ts->key = k;
        ts->capkey = cap;
    }
    if (tr_string(r, ts->key, ret_len) < 0)
        return -1;
    *ret = ts->key;
    return tr_colon(r);
}

static int
tr_literal(struct treader *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return tr_bad(r, r->p, "invalid token");
    r->p += n;
    return 0;
}

/* A number at r->p, as jansson takes it: the JSON grammar, an integer
 * (no '.', 'e', 'E') within json_int_t, a real that does not overflow. */
static int
tr_number(struct treader *r)
{
    const unsigned char *p = r->p, *s = r->p;
    int real = 0;
    size_t n;
    char *buf, *end;

    if (p < r->end && *p == '-')
        p++;
    if (p >= r->end || *p < '0' || *p > '9')
        return tr_bad(r, s, "invalid number");
    if (*p == '0') {
        p++;
    } else {
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < r->end && *p == '.') {
        real = 1;
        p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return tr_bad(r, s, "invalid number");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < r->end && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;
        if (p < r->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= r->end || *p < '0' || *p > '9')
            return tr_bad(r, s, "invalid number");
        while (p < r->end && *p >= '0' && *p <= '9')
            p++;
    }
    n = (size_t)(p - s);
    buf = r->ts->num;
    if (n >= sizeof(r->ts->num)) {
        if (!real)
            return tr_bad(r, s, "too big integer");
        if (n >= r->ts->capkey) {
            char *k = realloc(r->ts->key, n + 1);

            if (k == NULL)
                return tr_oom(r);
            r->ts->key = k;
            r->ts->capkey = n + 1;
        }
        buf = r->ts->key;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    if (!real) {
        (void)strtoll(buf, &end, 10);
        if (errno == ERANGE)
            return tr_bad(r, s, "too big integer");
    } else {
        double d;
        char *dot;

        if (r->decimal_point == 0) {
            const struct lconv *lc = localeconv();
            r->decimal_point = lc->decimal_point != NULL && lc->decimal_point[0] != '\0'
                                   ? lc->decimal_point[0]
                                   : '.';
        }
        if (r->decimal_point != '.' && (dot = strchr(buf, '.')) != NULL)
            *dot = r->decimal_point;
        d = strtod(buf, &end);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
            return tr_bad(r, s, "real number overflow");
    }
    r->p = p;
    return 0;
}

/* Checks the value at r->p (at nesting level depth) and steps over it. */
static int
tr_skip(struct treader *r, int depth)
{
    char stack[TEXT_MAX_DEPTH + 1];
    int sp = 0;

    for (;;) {
        /* a value */
        if (depth + sp > TEXT_MAX_DEPTH)
            return tr_bad(r, r->p, "maximum parsing depth reached");
        if (r->p >= r->end)
            return tr_bad(r, r->p, "unexpected end of text");
        switch (*r->p) {
        case '{':
        case '[':
            stack[sp++] = (char)*r->p;
            r->p++;
            tr_ws(r);
            if (r->p < r->end && *r->p == (stack[sp - 1] == '{' ? '}' : ']')) {
                r->p++;
                sp--;
                break; /* an empty container: a value done */
            }
            if (stack[sp - 1] == '{') {
                const char *k;
                size_t kl;

                if (tr_key(r, &k, &kl) < 0)
                    return -1;
            }
            continue;
        case '"':
            if (tr_string(r, NULL, NULL) < 0)
                return -1;
            break;
        case 't':
            if (tr_literal(r, "true", 4) < 0)
                return -1;
            break;
        case 'f':
            if (tr_literal(r, "false", 5) < 0)
                return -1;
            break;
        case 'n':
            if (tr_literal(r, "null", 4) < 0)
                return -1;
            break;
        default:
            if (*r->p != '-' && (*r->p < '0' || *r->p > '9'))
                return tr_bad(r, r->p, "invalid token");
            if (tr_number(r) < 0)
                return -1;
            break;
        }
        /* after a value: close containers, or go to the next member */
        for (;;) {
            if (sp == 0)
                return 0;
            tr_ws(r);
            if (r->p >= r->end)
                return tr_bad(r, r->p, "unexpected end of text");
            if (*r->p == (stack[sp - 1] == '{' ? '}' : ']')) {
                r->p++;
                sp--;
                continue;
            }
            if (*r->p != ',')
                return tr_bad(r, r->p, stack[sp - 1] == '{' ? "expected ',' or '}'"
                                                           : "expected ',' or ']'");
            r->p++;
            tr_ws(r);
            if (stack[sp - 1] == '{') {
                const char *k;
                size_t kl;

                if (tr_key(r, &k, &kl) < 0)
                    return -1;
            }
            break;
        }
    }
}

/* A string-or-null field: anything else is TK_OTHER (checked, skipped). */
static int
tr_field(struct treader *r, struct tfield *f)
{
    if (r->p < r->end && *r->p == '"') {
        f->kind = TK_STRING;
        return tr_string_arena(r, &f->s);
    }
    if (r->p < r->end && *r->p == 'n' && r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
        f->kind = TK_NULL;
        r->p += 4;
        return 0;
    }
    f->kind = TK_OTHER;
    return tr_skip(r, 2);
}

/* Steps over ',' (then *ret_more = 1) or the closing c (0). */
static int
tr_next(struct treader *r, char c, int *ret_more)
{
    tr_ws(r);
    if (r->p < r->end && *r->p == ',') {
        r->p++;
        tr_ws(r);
        *ret_more = 1;
        return 0;
    }
    if (r->p < r->end && *r->p == (unsigned char)c) {
        r->p++;
        *ret_more = 0;
        return 0;
    }
    return tr_bad(r, r->p, c == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

/* A list of strings at level depth (r->p at its '['): each element's copy
 * (NULL for a non-string, left out when keep_null is 0) is pushed on
 * the vector v, its count n and capacity cap. */
static int
tr_strings(struct treader *r, int depth, const char ***v, size_t *n, size_t *cap, int keep_null)
{
    int more = 1;

    r->p++;
    tr_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return 0;
    }
    while (more) {
        const char *s = NULL;

        if (depth + 1 > TEXT_MAX_DEPTH)
            return tr_bad(r, r->p, "maximum parsing depth reached");
        if (r->p < r->end && *r->p == '"') {
            if (tr_string_arena(r, &s) < 0)
                return -1;
        } else if (tr_skip(r, depth + 1) < 0) {
            return -1;
        }
        if (s != NULL || keep_null) {
            if (vec_reserve(v, cap, *n, sizeof(**v)) < 0)
                return tr_oom(r);
            (*v)[(*n)++] = s;
        }
        if (tr_next(r, ']', &more) < 0)
            return -1;
    }
    return 0;
}

/* control_ids (r->p at its '{', level 2): its members in order, keys
 * copied into the arena (the judge looks the standards up by them). */
static int
tr_controls(struct treader *r)
{
    struct text_scratch *ts = r->ts;
    int more = 1;

    r->p++;
    tr_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    while (more) {
        struct tctl *c;
        const char *k = NULL;

        if (r->p >= r->end || *r->p != '"')
            return tr_bad(r, r->p, "expected a string as object key");
        if (tr_string_arena(r, &k) < 0 || tr_colon(r) < 0)
            return -1;
        if (vec_reserve(&ts->ctl, &ts->capctl, ts->nctl, sizeof(*ts->ctl)) < 0)
            return tr_oom(r);
        c = &ts->ctl[ts->nctl];
        memset(c, 0, sizeof(*c));
        c->key = k;
        c->cid_off = ts->ncid;
        if (r->p < r->end && *r->p == '[') {
            c->list = 1;
            if (tr_strings(r, 3, &ts->cid, &ts->ncid, &ts->capcid, 1) < 0)
                return -1;
        } else if (tr_skip(r, 3) < 0) {
            return -1;
        }
        /* tr_strings may have moved ts->ctl's neighbours, not ts->ctl */
        ts->ctl[ts->nctl].ncid = ts->ncid - ts->ctl[ts->nctl].cid_off;
        ts->nctl++;
        if (tr_next(r, '}', &more) < 0)
            return -1;
    }
    return 0;
}

int
compliance_sums_new(struct compliance_sums **ret, struct err *err)
{
    struct compliance_sums *set = sums_new(err);

    if (set == NULL)
        return -1;
    *ret = set;
    return 0;
}

/* The members of the summary object (r->p after its '{'); f indexed by
 * enum tkey (the string-or-null ones), *lists the kinds of standard_ids,
 * control_ids and resources (1: of the right type, 2: another). */
static int
tr_summary(struct treader *r, struct tfield *f, int lists[3])
{
    struct text_scratch *ts = r->ts;
    int more = 1;

    tr_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    while (more) {
        const char *k = NULL;
        size_t kl = 0;
        enum tkey key;
        int rc;

        if (tr_key(r, &k, &kl) < 0)
            return -1;
        key = tkey_of(k, kl);
        switch (key) {
        case K_NONE:
            rc = tr_skip(r, 2);
            break;
        case K_STD:
            ts->nstd = 0;
            lists[0] = r->p < r->end && *r->p == '[' ? 1 : 2;
            rc = lists[0] == 1 ? tr_strings(r, 2, &ts->std, &ts->nstd, &ts->capstd, 1)
                               : tr_skip(r, 2);
            break;
        case K_CIDS:
            ts->nctl = ts->ncid = 0;
            lists[1] = r->p < r->end && *r->p == '{' ? 1 : 2;
            rc = lists[1] == 1 ? tr_controls(r) : tr_skip(r, 2);
            break;
        case K_RES:
            ts->nres = 0;
            lists[2] = r->p < r->end && *r->p == '[' ? 1 : 2;
            rc = lists[2] == 1 ? tr_strings(r, 2, &ts->res, &ts->nres, &ts->capres, 0)
                               : tr_skip(r, 2);
            break;
        default:
            rc = tr_field(r, &f[key]);
            break;
        }
        if (rc < 0 || tr_next(r, '}', &more) < 0)
            return -1;
    }
    return 0;
}

/* The shape check and the message of sums_add, for a text. */
static int
text_shape(const struct tfield *f, const int lists[3], size_t idx, struct err *err)
{
    const char *id = f[K_ID].kind == TK_STRING ? f[K_ID].s : NULL;

    if (id == NULL || f[K_ACCT].kind != TK_STRING || f[K_WF].kind != TK_STRING ||
        f[K_RS].kind != TK_STRING || (f[K_SEV].kind != TK_STRING && f[K_SEV].kind != TK_NULL) ||
        (f[K_ST].kind != TK_STRING && f[K_ST].kind != TK_NULL) ||
        (f[K_SC].kind != TK_STRING && f[K_SC].kind != TK_NULL) || lists[0] != 1 ||
        lists[1] != 1 || lists[2] != 1)
        return shape_error(err, idx, id);
    return 0;
}

/* Adds the checked fields of the text just read as the next summary. */
static int
text_add(struct compliance_sums *set, const struct tfield *f, struct err *err)
{
    const struct text_scratch *ts = set->scratch;
    struct sum *out;

    if (vec_reserve(&set->v, &set->cap, set->n, sizeof(*set->v)) < 0)
        return sums_oom(err);
    out = &set->v[set->n];
    memset(out, 0, sizeof(*out));
    out->id = f[K_ID].s;
    out->account_id = f[K_ACCT].s;
    out->workflow = f[K_WF].s;
    out->severity = f[K_SEV].kind == TK_STRING ? f[K_SEV].s : NULL;
    out->status = f[K_ST].kind == TK_STRING ? f[K_ST].s : NULL;
    out->scid = f[K_SC].kind == TK_STRING ? f[K_SC].s : NULL;
    out->st = status_of(out->status);
    out->sev_rank = severity_rank(out->severity);
    /* text_shape made these strings (the analyser does not follow it) */
    out->archived = f[K_RS].s != NULL && strcmp(f[K_RS].s, "ARCHIVED") == 0;
    out->suppressed = out->workflow != NULL && strcmp(out->workflow, "SUPPRESSED") == 0;
    out->std_off = set->nstd;
    for (size_t i = 0; i < ts->nstd; i++) {
        const char *name = ts->std[i];
        const struct tctl *c = NULL;

        /* a repeated key: the last one stands, as in a tree */
        for (size_t j = ts->nctl; name != NULL && j-- > 0;) {
            if (strcmp(ts->ctl[j].key, name) == 0) {
                c = &ts->ctl[j];
                break;
            }
        }
        if (sums_push_std(set, name, c != NULL ? ts->cid + c->cid_off : NULL,
                c != NULL ? c->ncid : 0, err) < 0)
            return -1;
        if (name != NULL && set->std[set->nstd - 1].ncid > 0)
            out->counts = 1;
    }
    out->nstd = ts->nstd;
    out->counts = out->counts && !out->archived && out->st == ST_FAILED && !out->suppressed;
    out->res_off = set->nres;
    for (size_t i = 0; i < ts->nres; i++) {
        if (vec_reserve(&set->res, &set->capres, set->nres, sizeof(*set->res)) < 0)
            return sums_oom(err);
        set->res[set->nres++] = ts->res[i];
    }
    out->nres = ts->nres;
    set->nfail += out->counts;
    set->n++;
    return 0;
}

/* A field the row's text left out, from the row: copied into the arena
 * (v NULL: left absent, for the shape check to name). */
static int
row_field(struct treader *r, struct tfield *f, const char *v)
{
    size_t n;
    char *out;

    if (f->kind != TK_ABSENT || v == NULL)
        return 0;
    n = strlen(v);
    out = arena_room(r->set->arena, n + 1);
    if (out == NULL)
        return tr_oom(r);
    memcpy(out, v, n + 1);
    arena_commit(r->set->arena, n + 1);
    f->kind = TK_STRING;
    f->s = out;
    return 0;
}

static int
row_fields(struct treader *r, struct tfield *f, const struct compliance_row *row)
{
    static const char active[] = "ACTIVE";

    if (row == NULL)
        return 0;
    if (row_field(r, &f[K_ID], row->id) < 0 || row_field(r, &f[K_ACCT], row->account_id) < 0)
        return -1;
    if (f[K_RS].kind == TK_ABSENT) {
        f[K_RS].kind = TK_STRING;
        f[K_RS].s = active; /* read, never kept: text_add only compares it */
    }
    return 0;
}

int
compliance_sums_add_row(struct compliance_sums *set, const char *text, size_t len,
    const struct compliance_row *row, const char **ret_id, int *ret_active, struct err *err)
{
    struct tfield f[K_RES + 1];
    int lists[3] = {0, 0, 0};
    struct treader r;
    struct arena_mark mark;
    const unsigned char *nul;
    size_t nstd, ncid, nres;

    if (set == NULL || text == NULL)
        return err_set(err, ERR_INTERNAL, "compliance: no set or no summary text");
    if (set->arena == NULL) {
        set->arena = calloc(1, sizeof(*set->arena));
        if (set->arena == NULL)
            return sums_oom(err);
        set->arena->refs = 1;
    }
    if (set->scratch == NULL && (set->scratch = calloc(1, sizeof(*set->scratch))) == NULL)
        return sums_oom(err);
    memset(f, 0, sizeof(f));
    memset(&r, 0, sizeof(r));
    r.start = r.p = (const unsigned char *)text;
    r.end = r.start + len;
    r.set = set;
    r.ts = set->scratch;
    r.ts->nstd = r.ts->nctl = r.ts->ncid = r.ts->nres = 0;
    mark = arena_mark(set->arena);
    nstd = set->nstd;
    ncid = set->ncid;
    nres = set->nres;
    if ((nul = memchr(r.start, '\0', len)) != NULL) {
        tr_bad(&r, nul, "NUL byte in the text");
        goto bad;
    }
    tr_ws(&r);
    if (r.p < r.end && *r.p == '{') {
        r.p++;
        if (tr_summary(&r, f, lists) < 0)
            goto bad;
    } else if (tr_skip(&r, 1) < 0) {
        goto bad;
    }
    tr_ws(&r);
    if (r.p != r.end) {
        tr_bad(&r, r.p, "end of text expected");
        goto bad;
    }
    if (row_fields(&r, f, row) < 0)
        goto bad;
    if (text_shape(f, lists, set->n, err) < 0)
        goto undo;
    if (text_add(set, f, err) < 0) {
        /* out of memory: stdmap may name new standards by arena copies,
         * so the arena keeps what was read */
        set->nstd = nstd;
        set->ncid = ncid;
        set->nres = nres;
        return -1;
    }
    if (ret_id != NULL)
        *ret_id = set->v[set->n - 1].id;
    if (ret_active != NULL)
        *ret_active = f[K_RS].s != NULL && strcmp(f[K_RS].s, "ACTIVE") == 0;
    return 0;
bad:
    if (r.error == NULL)
        sums_oom(err);
    else
        err_set(err, ERR_INTERNAL, "compliance: summary %zu is not JSON: %s at byte %zu of %zu",
            set->n + 1, r.error, r.error_at, len);
undo:
    /* nothing was added to the set: only the arena goes back */
    arena_rollback(set->arena, mark);
    return -1;
}

/* Copies summary i of from (already read) as the next summary of to. */
static int
sums_copy(struct compliance_sums *to, const struct compliance_sums *from, size_t i,
    struct err *err)
{
    const struct sum *s = &from->v[i];
    struct sum *d;

    if (vec_reserve(&to->v, &to->cap, to->n, sizeof(*to->v)) < 0)
        return sums_oom(err);
    d = &to->v[to->n];
    *d = *s;
    d->std_off = to->nstd;
    for (size_t j = 0; j < s->nstd; j++) {
        const struct sum_std *e = &from->std[s->std_off + j];

        if (vec_reserve(&to->std, &to->capstd, to->nstd, sizeof(*to->std)) < 0)
            return sums_oom(err);
        to->std[to->nstd] = *e;
        if (e->name != NULL) {
            int added;
            size_t *sid = strmap_put(&to->stdmap, e->name, to->nsid, &added);

            if (sid == NULL)
                return sums_oom(err);
            to->nsid += added;
            to->std[to->nstd].sid = *sid;
            to->std[to->nstd].cid_off = to->ncid;
            for (size_t c = 0; c < e->ncid; c++) {
                if (vec_reserve(&to->cid, &to->capcid, to->ncid, sizeof(*to->cid)) < 0)
                    return sums_oom(err);
                to->cid[to->ncid++] = from->cid[e->cid_off + c];
            }
        }
        to->nstd++;
    }
    d->res_off = to->nres;
    for (size_t j = 0; j < s->nres; j++) {
        if (vec_reserve(&to->res, &to->capres, to->nres, sizeof(*to->res)) < 0)
            return sums_oom(err);
        to->res[to->nres++] = from->res[s->res_off + j];
    }
    to->nfail += d->counts;
    to->n++;
    return 0;
}

/* The entry of standard sid in s, NULL when s does not list it. */
static const struct sum_std *
sum_in(const struct compliance_sums *set, const struct sum *s, size_t sid)
{
    for (size_t j = 0; j < s->nstd; j++) {
        const struct sum_std *e = &set->std[s->std_off + j];
        if (e->name != NULL && e->sid == sid)
            return e;
    }
    return NULL;
}

/* ---- string sets ---- */

static int
set_add(json_t *set, const char *s)
{
    return json_object_set_new(set, s, json_true());
}

/* Keys of a set as a sorted array (new reference, NULL on OOM). */
static int
strcmp_p(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *
set_sorted(json_t *set)
{
    size_t n = json_object_size(set), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    json_t *out = json_array(), *v;
    const char *k;

    if (keys == NULL || out == NULL) {
        free(keys);
        json_decref(out);
        return NULL;
    }
    json_object_foreach(set, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof(*keys), strcmp_p);
    for (i = 0; i < n; i++)
        json_array_append_new(out, json_string(keys[i]));
    free(keys);
    return out;
}

/* ---- judge ---- */

struct acc {
    const char *control_id;
    json_t *ctl; /* catalogue entry, NULL for controls only findings name */
    int disabled; /* the catalogue's status is DISABLED */
    long findings, failed, warning, na, passed, suppressed;
    int sev_failed, sev_any;
    struct pvec failed_res, supp_res; /* borrowed, sorted and made unique on output */
};

struct stdjudge {
    struct acc *v;
    size_t n, cap;
    struct strmap index; /* control_id -> position in v */
    struct strmap by_sc; /* security control id -> position in sc */
    struct pvec *sc;     /* control ids per security control id, catalogue order */
    size_t nsc, capsc;
    long unmapped;
};

static void
stdjudge_clear(struct stdjudge *sj)
{
    for (size_t i = 0; i < sj->n; i++) {
        free(sj->v[i].failed_res.v);
        free(sj->v[i].supp_res.v);
    }
    free(sj->v);
    for (size_t i = 0; i < sj->nsc; i++)
        free(sj->sc[i].v);
    free(sj->sc);
    strmap_clear(&sj->index);
    strmap_clear(&sj->by_sc);
    memset(sj, 0, sizeof(*sj));
}

static struct acc *
acc_get(struct stdjudge *sj, const char *control_id, json_t *ctl, struct err *err)
{
    size_t *pos;
    struct acc *a;
    int added;

    pos = strmap_put(&sj->index, control_id, sj->n, &added);
    if (pos == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (!added)
        return &sj->v[*pos];
    if (vec_reserve(&sj->v, &sj->cap, sj->n, sizeof(*sj->v)) < 0) {
        /* take the key back out: the map must only name existing entries */
        struct strmap keep = sj->index;
        memset(&sj->index, 0, sizeof(sj->index));
        for (size_t i = 0; i < keep.cap; i++) {
            if (keep.key[i] != NULL && keep.val[i] != sj->n &&
                strmap_put(&sj->index, keep.key[i], keep.val[i], &added) == NULL)
                break;
        }
        strmap_clear(&keep);
        err_set(err, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    a = &sj->v[sj->n];
    memset(a, 0, sizeof(*a));
    a->control_id = control_id;
    a->ctl = ctl;
    if (ctl != NULL) {
        const char *cst = json_string_value(json_object_get(ctl, "status"));
        a->disabled = cst != NULL && strcmp(cst, "DISABLED") == 0;
    }
    a->sev_failed = a->sev_any = -1;
    sj->n++;
    return a;
}

static int
stdjudge_init(struct stdjudge *sj, const char *key, json_t *entry, struct err *err)
{
    json_t *controls = json_object_get(entry, "controls"), *c;
    size_t i;

    memset(sj, 0, sizeof(*sj));
    if (!json_is_object(entry) || !json_is_array(controls))
        return err_set(err, ERR_INTERNAL, "compliance: catalogue entry '%s' has no controls list",
            key);
    json_array_foreach(controls, i, c) {
        const char *cid = json_string_value(json_object_get(c, "control_id"));
        json_t *scs = json_object_get(c, "security_control_ids"), *sc;
        size_t j;

        if (cid == NULL || !json_is_string(json_object_get(c, "status")))
            return err_set(err, ERR_INTERNAL, "compliance: catalogue '%s' control %zu lacks "
                                              "control_id or status", key, i + 1);
        if (strmap_get(&sj->index, cid) != NULL)
            continue; /* listed twice: the first entry stands */
        if (acc_get(sj, cid, c, err) == NULL)
            return -1;
        json_array_foreach(scs, j, sc) {
            size_t *pos;
            int added;

            if (!json_is_string(sc))
                continue;
            pos = strmap_put(&sj->by_sc, json_string_value(sc), sj->nsc, &added);
            if (pos == NULL)
                return err_set(err, ERR_INTERNAL, "out of memory");
            if (added) {
                if (vec_reserve(&sj->sc, &sj->capsc, sj->nsc, sizeof(*sj->sc)) < 0) {
                    *pos = (size_t)-1; /* never read: the judge fails */
                    return err_set(err, ERR_INTERNAL, "out of memory");
                }
                memset(&sj->sc[sj->nsc++], 0, sizeof(*sj->sc));
            }
            if (pvec_push(&sj->sc[*pos], cid) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
        }
    }
    return 0;
}

/* The catalogue's control ids for security control id scid, NULL if none. */
static const struct pvec *
stdjudge_by_sc(const struct stdjudge *sj, const char *scid)
{
    const size_t *pos = scid != NULL ? strmap_get(&sj->by_sc, scid) : NULL;

    return pos != NULL ? &sj->sc[*pos] : NULL;
}

static int
tally(struct acc *a, const struct compliance_sums *set, const struct sum *s, struct err *err)
{
    const char *const *res = set->res + s->res_off;

    a->findings++;
    if (s->sev_rank > a->sev_any)
        a->sev_any = s->sev_rank;
    if (s->suppressed) {
        a->suppressed++;
        if (s->st == ST_FAILED) {
            for (size_t i = 0; i < s->nres; i++) {
                if (pvec_push(&a->supp_res, res[i]) < 0)
                    return err_set(err, ERR_INTERNAL, "out of memory");
            }
        }
        return 0;
    }
    switch (s->st) {
    case ST_FAILED:
        a->failed++;
        if (s->sev_rank > a->sev_failed)
            a->sev_failed = s->sev_rank;
        for (size_t i = 0; i < s->nres; i++) {
            if (pvec_push(&a->failed_res, res[i]) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
        }
        break;
    case ST_WARNING:
        a->warning++;
        break;
    case ST_NA:
        a->na++;
        break;
    case ST_PASSED:
        a->passed++;
        break;
    case ST_NONE:
    case ST_OTHER:
        break;
    }
    return 0;
}

/* Feeds one active summary, whose standard_ids entry for key is e, to the
 * standard key. */
static int
judge_summary(struct stdjudge *sj, const char *key, const struct compliance_sums *set,
    const struct sum *s, const struct sum_std *e, struct err *err)
{
    const struct pvec *byc;

    if (e->ncid > 0) {
        for (size_t i = 0; i < e->ncid; i++) {
            const char *cid = set->cid[e->cid_off + i];
            struct acc *a;
            if (cid == NULL)
                return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': control_ids of "
                                                  "%s holds a non-string", s->id, key);
            a = acc_get(sj, cid, NULL, err);
            if (a == NULL || tally(a, set, s, err) < 0)
                return -1;
        }
        return 0;
    }
    byc = stdjudge_by_sc(sj, s->scid);
    if (byc == NULL || byc->n == 0) {
        sj->unmapped++;
        return 0;
    }
    for (size_t i = 0; i < byc->n; i++) {
        struct acc *a = acc_get(sj, byc->v[i], NULL, err);
        if (a == NULL || tally(a, set, s, err) < 0)
            return -1;
    }
    return 0;
}

static const char *const verdicts[] = {"NON-COMPLIANT", "WARNING", "NOT_AVAILABLE", "COMPLIANT",
    "NO_DATA", "DISABLED"};
#define NVERDICTS (sizeof(verdicts) / sizeof(verdicts[0]))

/* Position of the verdict of a in verdicts. */
static size_t
verdict(const struct acc *a)
{
    if (a->disabled)
        return 5;
    if (a->failed > 0)
        return 0;
    if (a->warning > 0)
        return 1;
    if (a->na > 0)
        return 2;
    if (a->passed > 0 || a->suppressed > 0)
        return 3;
    return 4;
}

/* The strings of pv sorted and without duplicates, as a new array (NULL
 * when out of memory); sorts pv in place. */
static json_t *
pvec_sorted(struct pvec *pv)
{
    json_t *out = json_array();

    if (out == NULL)
        return NULL;
    if (pv->n > 1)
        qsort(pv->v, pv->n, sizeof(*pv->v), strcmp_p);
    for (size_t i = 0; i < pv->n; i++) {
        if (i > 0 && strcmp(pv->v[i], pv->v[i - 1]) == 0)
            continue;
        /* as the sets of keys this replaces: a string jansson refuses is left out */
        json_array_append_new(out, json_string(pv->v[i]));
    }
    return out;
}

/* Sets key of o to v (taking it); -1 when v is NULL or out of memory. */
static int
put(json_t *o, const char *key, json_t *v)
{
    return v == NULL ? -1 : json_object_set_new_nocheck(o, key, v);
}

/* The severity a control reports (new reference): the catalogue's rating,
 * else the highest among its counted FAILED findings, else among all. */
static json_t *
acc_sev(const struct acc *a)
{
    json_t *csev = a->ctl ? json_object_get(a->ctl, "severity") : NULL;

    if (json_is_string(csev) && severity_rank(json_string_value(csev)) >= 0)
        return json_incref(csev);
    if (a->sev_failed >= 0)
        return json_string_nocheck(severities[a->sev_failed]);
    if (a->sev_any >= 0)
        return json_string_nocheck(severities[a->sev_any]);
    return json_null();
}

/* Built key by key (in the order json_pack used to give) rather than
 * through json_pack's format parser. */
static json_t *
acc_out(struct acc *a)
{
    json_t *title = a->ctl ? json_object_get(a->ctl, "title") : NULL;
    json_t *o = json_object();

    if (o == NULL || put(o, "control_id", json_string(a->control_id)) < 0 ||
        put(o, "title", json_incref(json_is_string(title) ? title : json_null())) < 0 ||
        put(o, "status", json_string_nocheck(verdicts[verdict(a)])) < 0 ||
        put(o, "severity", acc_sev(a)) < 0 ||
        put(o, "failed_resources", pvec_sorted(&a->failed_res)) < 0 ||
        put(o, "suppressed_resources", pvec_sorted(&a->supp_res)) < 0 ||
        put(o, "suppressed", json_integer((json_int_t)a->suppressed)) < 0 ||
        put(o, "findings", json_integer((json_int_t)a->findings)) < 0 ||
        put(o, "failed", json_integer((json_int_t)a->failed)) < 0 ||
        put(o, "passed", json_integer((json_int_t)a->passed)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int
acc_cmp(const void *x, const void *y)
{
    const struct acc *a = x, *b = y;
    return compliance_control_cmp(a->control_id, b->control_id);
}

static json_t *
stdjudge_out(struct stdjudge *sj, size_t ncatalogue)
{
    json_t *controls = json_array(), *totals = json_object(), *res;
    long count[NVERDICTS] = {0};

    if (controls == NULL || totals == NULL)
        goto oom;
    /* controls only findings named come after the catalogue's, in natural order */
    if (sj->n > ncatalogue)
        qsort(sj->v + ncatalogue, sj->n - ncatalogue, sizeof(*sj->v), acc_cmp);
    for (size_t i = 0; i < sj->n; i++) {
        json_t *o = acc_out(&sj->v[i]);
        if (o == NULL || json_array_append_new(controls, o) < 0)
            goto oom;
        count[verdict(&sj->v[i])]++;
    }
    /* every verdict present, in a fixed order, so reports need no lookups */
    for (size_t i = 0; i < NVERDICTS; i++) {
        if (put(totals, verdicts[i], json_integer((json_int_t)count[i])) < 0)
            goto oom;
    }
    res = json_object();
    if (put(res, "controls", controls) < 0) {
        controls = NULL;
        goto oom_res;
    }
    controls = NULL;
    if (put(res, "unmapped", json_integer((json_int_t)sj->unmapped)) < 0)
        goto oom_res;
    if (put(res, "totals", totals) < 0) {
        totals = NULL;
        goto oom_res;
    }
    return res;
oom_res:
    json_decref(res);
oom:
    json_decref(controls);
    json_decref(totals);
    return NULL;
}

int
compliance_judge_sums(json_t *catalogue, const struct compliance_sums *set, json_t **ret,
    struct err *err)
{
    json_t *out = NULL, *entry;
    const char *key;
    int rc = -1;

    if (!json_is_object(catalogue))
        return err_set(err, ERR_INTERNAL, "compliance: catalogue is not an object");
    if (set == NULL)
        return err_set(err, ERR_INTERNAL, "compliance: summaries is not a list");
    out = json_object();
    if (out == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    json_object_foreach(catalogue, key, entry) {
        struct stdjudge sj;
        const size_t *sid;
        size_t ncat;
        json_t *res;

        if (stdjudge_init(&sj, key, entry, err) < 0) {
            stdjudge_clear(&sj);
            goto out;
        }
        ncat = sj.n;
        sid = strmap_get(&set->stdmap, key); /* NULL: no summary names it */
        for (size_t i = 0; i < set->n && sid != NULL; i++) {
            const struct sum *s = &set->v[i];
            const struct sum_std *e;

            if (s->archived || (e = sum_in(set, s, *sid)) == NULL)
                continue;
            if (judge_summary(&sj, key, set, s, e, err) < 0) {
                stdjudge_clear(&sj);
                goto out;
            }
        }
        res = stdjudge_out(&sj, ncat);
        stdjudge_clear(&sj);
        if (res == NULL || json_object_set_new(out, key, res) < 0) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    json_decref(out);
    return rc;
}

int
compliance_judge(json_t *catalogue, json_t *summaries, json_t **ret, struct err *err)
{
    struct compliance_sums *set = NULL;
    int rc;

    if (!json_is_object(catalogue))
        return err_set(err, ERR_INTERNAL, "compliance: catalogue is not an object");
    if (compliance_sums_read(summaries, &set, err) < 0)
        return -1;
    rc = compliance_judge_sums(catalogue, set, ret, err);
    compliance_sums_free(set);
    return rc;
}

/* ---- controls of summaries (incremental re-judge) ---- */

/* The catalogue's standards with their security control index, built once. */
struct catidx {
    size_t n;
    const char **key;     /* borrowed from the catalogue */
    struct stdjudge *sj;
    size_t *sid;          /* per standard: its position in a set's standards */
};

static void
catidx_clear(struct catidx *ci)
{
    for (size_t i = 0; ci->sj != NULL && i < ci->n; i++)
        stdjudge_clear(&ci->sj[i]);
    free(ci->sj);
    free(ci->key);
    free(ci->sid);
    memset(ci, 0, sizeof(*ci));
}

static int
catidx_init(struct catidx *ci, json_t *catalogue, struct err *err)
{
    size_t n = json_object_size(catalogue), i = 0;
    const char *key;
    json_t *entry;

    memset(ci, 0, sizeof(*ci));
    if (!json_is_object(catalogue))
        return err_set(err, ERR_INTERNAL, "compliance: catalogue is not an object");
    ci->key = calloc(n ? n : 1, sizeof(*ci->key));
    ci->sj = calloc(n ? n : 1, sizeof(*ci->sj));
    ci->sid = calloc(n ? n : 1, sizeof(*ci->sid));
    if (ci->key == NULL || ci->sj == NULL || ci->sid == NULL) {
        catidx_clear(ci);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    json_object_foreach(catalogue, key, entry) {
        ci->key[i] = key;
        ci->n = ++i;
        if (stdjudge_init(&ci->sj[i - 1], key, entry, err) < 0) {
            catidx_clear(ci);
            return -1;
        }
    }
    return 0;
}

/* Looks the catalogue's standards up among set's (SIZE_MAX: none of its
 * summaries names it). */
static void
catidx_bind(struct catidx *ci, const struct compliance_sums *set)
{
    for (size_t k = 0; k < ci->n; k++) {
        const size_t *sid = strmap_get(&set->stdmap, ci->key[k]);
        ci->sid[k] = sid != NULL ? *sid : SIZE_MAX;
    }
}

/* The (standard, control) pairs s is judged under, by judge_summary's
 * rules whatever its record_state, as "STD\tCTL": added to add (when not
 * NULL); returns 1 as soon as one is in only (when not NULL), else 0.
 * ci must be bound to set. */
static int
summary_pairs(const struct catidx *ci, const struct compliance_sums *set, const struct sum *s,
    json_t *only, json_t *add, struct err *err)
{
    for (size_t k = 0; k < ci->n; k++) {
        const struct sum_std *e;
        const struct pvec *byc = NULL;
        size_t n;

        if (ci->sid[k] == SIZE_MAX || (e = sum_in(set, s, ci->sid[k])) == NULL)
            continue;
        if (e->ncid == 0) {
            byc = stdjudge_by_sc(&ci->sj[k], s->scid);
            n = byc != NULL ? byc->n : 0;
        } else {
            n = e->ncid;
        }
        for (size_t i = 0; i < n; i++) {
            const char *c = byc != NULL ? byc->v[i] : set->cid[e->cid_off + i];
            char pair[256];

            if (c == NULL)
                return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': control_ids "
                                                  "of %s holds a non-string", s->id, ci->key[k]);
            snprintf(pair, sizeof(pair), "%s\t%s", ci->key[k], c);
            if (add != NULL && set_add(add, pair) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
            if (only != NULL && json_object_get(only, pair) != NULL)
                return 1;
        }
    }
    return 0;
}

int
compliance_controls_of_sums(json_t *catalogue, const struct compliance_sums *set, json_t *add,
    struct err *err)
{
    struct catidx ci;
    int rc = -1;

    if (set == NULL || !json_is_object(add))
        return err_set(err, ERR_INTERNAL, "compliance_controls_of: summaries must be a list "
                                          "and set an object");
    if (catidx_init(&ci, catalogue, err) < 0)
        return -1;
    catidx_bind(&ci, set);
    for (size_t i = 0; i < set->n; i++) {
        if (summary_pairs(&ci, set, &set->v[i], NULL, add, err) < 0)
            goto out;
    }
    rc = 0;
out:
    catidx_clear(&ci);
    return rc;
}

/* compliance_controls_of reads and maps one summary at a time, so the
 * first bad summary in list order is the one reported, whichever way it
 * is bad (a one-slot set, emptied before each). */
int
compliance_controls_of(json_t *catalogue, json_t *summaries, json_t *set, struct err *err)
{
    struct compliance_sums *one = NULL;
    struct catidx ci;
    size_t i;
    int rc = -1;

    if (!json_is_array(summaries) || !json_is_object(set))
        return err_set(err, ERR_INTERNAL, "compliance_controls_of: summaries must be a list "
                                          "and set an object");
    if (catidx_init(&ci, catalogue, err) < 0)
        return -1;
    if ((one = sums_new(err)) == NULL)
        goto out;
    for (i = 0; i < json_array_size(summaries); i++) {
        sums_reset(one);
        if (sums_add(one, json_array_get(summaries, i), i, err) < 0)
            goto out;
        catidx_bind(&ci, one);
        if (summary_pairs(&ci, one, &one->v[0], NULL, set, err) < 0)
            goto out;
    }
    rc = 0;
out:
    compliance_sums_free(one);
    catidx_clear(&ci);
    return rc;
}

int
compliance_select_sums(json_t *catalogue, const struct compliance_sums *set, json_t *only,
    struct compliance_sums **ret, struct err *err)
{
    struct compliance_sums *out = NULL;
    struct catidx ci;
    int rc = -1, r;

    if (set == NULL || !json_is_object(only))
        return err_set(err, ERR_INTERNAL, "compliance_select: summaries must be a list and "
                                          "only an object");
    if (catidx_init(&ci, catalogue, err) < 0)
        return -1;
    if ((out = sums_new(err)) == NULL)
        goto out;
    if (set->arena != NULL) {
        /* the selected summaries point into set's arena: share it */
        out->arena = set->arena;
        out->arena->refs++;
    }
    catidx_bind(&ci, set);
    for (size_t i = 0; i < set->n; i++) {
        if ((r = summary_pairs(&ci, set, &set->v[i], only, NULL, err)) < 0)
            goto out;
        if (r == 1 && sums_copy(out, set, i, err) < 0)
            goto out;
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    compliance_sums_free(out);
    catidx_clear(&ci);
    return rc;
}

int
compliance_select(json_t *catalogue, json_t *summaries, json_t *only, json_t **ret,
    struct err *err)
{
    struct compliance_sums *one = NULL;
    struct catidx ci;
    json_t *out = json_array();
    size_t i;
    int rc = -1, r;

    if (out == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if (!json_is_array(summaries) || !json_is_object(only)) {
        json_decref(out);
        return err_set(err, ERR_INTERNAL, "compliance_select: summaries must be a list and "
                                          "only an object");
    }
    if (catidx_init(&ci, catalogue, err) < 0) {
        json_decref(out);
        return -1;
    }
    if ((one = sums_new(err)) == NULL)
        goto out;
    for (i = 0; i < json_array_size(summaries); i++) {
        json_t *j = json_array_get(summaries, i);

        sums_reset(one);
        if (sums_add(one, j, i, err) < 0)
            goto out;
        catidx_bind(&ci, one);
        if ((r = summary_pairs(&ci, one, &one->v[0], only, NULL, err)) < 0)
            goto out;
        if (r == 1 && json_array_append(out, j) < 0) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    compliance_sums_free(one);
    catidx_clear(&ci);
    json_decref(out);
    return rc;
}

/* ---- link ---- */

/* The tail of an ARN after its last '/', else its last ':'; NULL for a
 * value that is not an ARN or has no tail. */
static const char *
arn_tail(const char *s)
{
    const char *p;

    if (strncmp(s, "arn:", 4) != 0)
        return NULL;
    p = strrchr(s, '/');
    if (p == NULL)
        p = strrchr(s, ':');
    return p != NULL && p[1] != '\0' ? p + 1 : NULL;
}

/* index key: ACCOUNT '\x1f' ID -> [[model, component key], ...] */
static int
index_add(json_t *idx, const char *acct, const char *id, size_t model, const char *ckey,
    struct err *err)
{
    char *k = NULL;
    json_t *list, *e;
    size_t i;

    if (asprintf(&k, "%s\x1f%s", acct, id) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    list = json_object_get(idx, k);
    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(idx, k, list) < 0) {
            free(k);
            return err_set(err, ERR_INTERNAL, "out of memory");
        }
    }
    free(k);
    json_array_foreach(list, i, e) {
        if ((size_t)json_integer_value(json_array_get(e, 0)) == model &&
            strcmp(json_string_value(json_array_get(e, 1)), ckey) == 0)
            return 0;
    }
    if (json_array_append_new(list, json_pack("[I, s]", (json_int_t)model, ckey)) < 0)
        return err_set(err, ERR_INTERNAL, "out of memory");
    return 0;
}

static json_t *
index_get(json_t *idx, const char *acct, const char *id)
{
    char *k = NULL;
    json_t *v;

    if (asprintf(&k, "%s\x1f%s", acct, id) < 0)
        return NULL;
    v = json_object_get(idx, k);
    free(k);
    return v;
}

static int
req_cmp(const void *x, const void *y)
{
    json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    static const char *const fields[] = {"standard", "control_id", "finding_id"};

    for (size_t i = 0; i < 3; i++) {
        const char *sa = json_string_value(json_object_get(a, fields[i]));
        const char *sb = json_string_value(json_object_get(b, fields[i]));
        int c;
        if (sa == NULL || sb == NULL) {
            if (sa != sb)
                return sa == NULL ? 1 : -1;
            continue;
        }
        c = i == 1 ? compliance_control_cmp(sa, sb) : strcmp(sa, sb);
        if (c != 0)
            return c;
    }
    return 0;
}

/* Sorts every REQ list under the object `lists` in place. */
static int
sort_lists(json_t *lists, struct err *err)
{
    const char *k;
    json_t *list;

    json_object_foreach(lists, k, list) {
        size_t n = json_array_size(list);
        json_t **v = calloc(n ? n : 1, sizeof(*v));
        if (v == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < n; i++)
            v[i] = json_incref(json_array_get(list, i));
        qsort(v, n, sizeof(*v), req_cmp);
        json_array_clear(list);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, v[i]);
        free(v);
    }
    return 0;
}

/* Appends the REQs of summary s to the list `key` of object `lists`. */
static int
add_reqs(json_t *lists, const char *key, const struct compliance_sums *set, const struct sum *s,
    struct err *err)
{
    json_t *list = json_object_get(lists, key);
    size_t i;

    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(lists, key, list) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
    }
#define REQ(std, cid)                                                                              \
    json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:o}", "finding_id", s->id, "standard",             \
        (std) ? json_string(std) : json_null(), "control_id",                                      \
        (cid) ? json_string(cid) : json_null(), "security_control_id",                             \
        s->scid ? json_string(s->scid) : json_null(), "status",                                    \
        s->status ? json_string(s->status) : json_null(), "workflow", s->workflow, "severity",      \
        s->severity ? json_string(s->severity) : json_null())
    if (s->nstd == 0) {
        if (json_array_append_new(list, REQ(NULL, NULL)) < 0)
            return err_set(err, ERR_INTERNAL, "out of memory");
        return 0;
    }
    for (i = 0; i < s->nstd; i++) {
        const struct sum_std *e = &set->std[s->std_off + i];
        const char *std = e->name;

        if (std == NULL)
            return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': standard_ids holds "
                                              "a non-string", s->id);
        if (e->ncid == 0) {
            if (json_array_append_new(list, REQ(std, NULL)) < 0)
                return err_set(err, ERR_INTERNAL, "out of memory");
            continue;
        }
        for (size_t j = 0; j < e->ncid; j++) {
            const char *c = set->cid[e->cid_off + j];

            if (c == NULL || json_array_append_new(list, REQ(std, c)) < 0)
                return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': bad control "
                                                  "ids", s->id);
        }
    }
#undef REQ
    return 0;
}

int
compliance_link(json_t *summaries, json_t *models, json_t **ret, struct err *err)
{
    json_t *idx = json_object(), *outm = json_array(), *accounts = json_object(), *m;
    json_t *result = NULL;
    struct compliance_sums *one = sums_new(err);
    size_t mi, i;
    int rc = -1;

    if (one == NULL)
        goto out;
    if (idx == NULL || outm == NULL || accounts == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (!json_is_array(summaries) || !json_is_array(models)) {
        err_set(err, ERR_INTERNAL, "compliance_link: summaries and models must be lists");
        goto out;
    }
    json_array_foreach(models, mi, m) {
        const char *acct = json_string_value(json_object_get(m, "account_id"));
        json_t *comps = json_object_get(m, "components"), *c;

        if (acct == NULL || !json_is_array(comps)) {
            err_set(err, ERR_INTERNAL, "compliance_link: model %zu has no account_id or "
                                       "components", mi + 1);
            goto out;
        }
        {
            json_t *region = json_object_get(m, "region"), *vpc = json_object_get(m, "vpc_id");
            if (json_array_append_new(outm, json_pack("{s:s, s:O, s:O, s:{}}", "account_id", acct,
                                                "region", region ? region : json_null(), "vpc_id",
                                                vpc ? vpc : json_null(), "components")) < 0) {
                err_set(err, ERR_INTERNAL, "out of memory");
                goto out;
            }
        }
        json_array_foreach(comps, i, c) {
            const char *key = json_string_value(json_object_get(c, "key"));
            const char *rid = json_string_value(json_object_get(c, "resource_id"));
            const char *tail;

            if (key == NULL) {
                err_set(err, ERR_INTERNAL, "compliance_link: model %zu component %zu has no key",
                    mi + 1, i + 1);
                goto out;
            }
            tail = arn_tail(key);
            if (index_add(idx, acct, key, mi, key, err) < 0 ||
                (rid != NULL && index_add(idx, acct, rid, mi, key, err) < 0) ||
                (tail != NULL && index_add(idx, acct, tail, mi, key, err) < 0))
                goto out;
        }
    }
    for (i = 0; i < json_array_size(summaries); i++) {
        const struct sum *s;
        json_t *seen = NULL;
        size_t j;
        int linked = 0;

        /* one summary at a time: its errors come in list order */
        sums_reset(one);
        if (sums_add(one, json_array_get(summaries, i), i, err) < 0)
            goto out;
        s = &one->v[0];
        if (s->archived)
            continue;
        seen = json_object(); /* "model\x1fkey" already given this finding */
        if (seen == NULL) {
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        for (j = 0; j < s->nres; j++) {
            const char *id = one->res[s->res_off + j], *tail;
            json_t *hits[2], *h;
            size_t k;

            if (strncmp(id, "AWS::::Account:", 15) == 0 && id[15] != '\0') {
                if (json_object_get(seen, id) == NULL) {
                    if (set_add(seen, id) < 0 || add_reqs(accounts, id + 15, one, s, err) < 0) {
                        json_decref(seen);
                        goto out;
                    }
                }
                linked = 1;
                continue;
            }
            tail = arn_tail(id);
            hits[0] = index_get(idx, s->account_id, id);
            hits[1] = tail != NULL ? index_get(idx, s->account_id, tail) : NULL;
            for (int hi = 0; hi < 2; hi++) {
                json_array_foreach(hits[hi], k, h) {
                    size_t model = (size_t)json_integer_value(json_array_get(h, 0));
                    const char *ckey = json_string_value(json_array_get(h, 1));
                    char *sk = NULL;
                    json_t *comps;

                    if (asprintf(&sk, "%zu\x1f%s", model, ckey) < 0) {
                        json_decref(seen);
                        err_set(err, ERR_INTERNAL, "out of memory");
                        goto out;
                    }
                    linked = 1;
                    if (json_object_get(seen, sk) != NULL) {
                        free(sk);
                        continue;
                    }
                    comps = json_object_get(json_array_get(outm, model), "components");
                    if (set_add(seen, sk) < 0 || add_reqs(comps, ckey, one, s, err) < 0) {
                        free(sk);
                        json_decref(seen);
                        goto out;
                    }
                    free(sk);
                }
            }
        }
        json_decref(seen);
        if (!linked && add_reqs(accounts, s->account_id, one, s, err) < 0)
            goto out;
    }
    json_array_foreach(outm, mi, m) {
        if (sort_lists(json_object_get(m, "components"), err) < 0)
            goto out;
    }
    if (sort_lists(accounts, err) < 0)
        goto out;
    result = json_pack("{s:O, s:O}", "models", outm, "accounts", accounts);
    if (result == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    *ret = result;
    rc = 0;
out:
    compliance_sums_free(one);
    json_decref(idx);
    json_decref(outm);
    json_decref(accounts);
    return rc;
}

/* ---- failing components ----
 *
 * One engine over plain C structures (struct fc_run), fed with the models
 * either as jansson trees (compliance_failing_components_sums) or as link
 * texts read here without a tree (compliance_failing_components_texts):
 *  - wanted: the resource ids (and their ARN tails) of the counted FAILED
 *    summaries, the only ids the lookups ask for;
 *  - index: "ACCOUNT\x1fID" (the key of the first version, whose json
 *    object it replaces: ids that would not fit its 1200-byte buffer are
 *    neither indexed nor looked up) -> the components of ACCOUNT's models
 *    bearing ID as key, resource_id or the key's ARN tail, each once, in
 *    model then component order; only wanted ids are indexed;
 *  - pairs: per "STANDARD\tCONTROL" (cut at 255 bytes, as before) the
 *    component keys linked to it, each with the first model that linked
 *    it, in first-seen order of the pairs.
 * Index keys and the keys of components read from texts are copied into
 * the run's arena; a tree's keys are borrowed from the tree.
 */

struct fc_hit {
    size_t model;
    const char *key; /* borrowed from the model, the arena or the run */
};

static int
fc_hit_cmp(const void *a, const void *b)
{
    const struct fc_hit *x = a, *y = b;

    if (x->model != y->model)
        return x->model < y->model ? -1 : 1;
    return strcmp(x->key, y->key);
}

#define FC_IKEY_MAX 1200 /* an index key's buffer, NUL included */
#define FC_PAIR_MAX 256  /* a pair name's, NUL included */
#define FC_NONE     SIZE_MAX

/* A component indexed under an index key: entries of one key are chained. */
struct fc_ent {
    size_t model, comp;
    const char *ckey; /* the component's key */
    size_t next;      /* next entry of the same index key, FC_NONE: last */
};

struct fc_slot {
    size_t first, last;
};

struct fc_pair {
    const char *name;   /* "STANDARD\tCONTROL", in the arena */
    struct strmap keys; /* component key -> position in hits */
    struct fc_hit *hits;
    size_t nhits, caphits;
};

struct fc_run {
    const struct compliance_sums *set;
    const char *account_id;
    char acct_key[64]; /* "account:ACCOUNT", the account's link */
    struct strmap wanted;
    struct strmap index; /* index key (arena) -> position in slot */
    struct fc_slot *slot;
    size_t nslot, capslot;
    struct fc_ent *ent;
    size_t nent, capent;
    json_t **vpc; /* per model its vpc_id (a reference; NULL: none) */
    size_t nm, capm;
    struct strmap pairmap; /* pair name -> position in pair */
    struct fc_pair *pair;
    size_t npair, cappair;
    size_t *spair; /* the pairs of the summary being linked */
    size_t nspair, capspair;
    struct sums_arena *arena;
};

int
compliance_links_models_sums(const struct compliance_sums *set, struct err *err)
{
    if (set == NULL)
        return err_set(err, ERR_INTERNAL, "compliance_links_models: summaries is not a list");
    return set->nfail > 0;
}

/* Reads one summary at a time and stops at the first that counts, so a
 * malformed summary after it is not reported (as before the sets). */
int
compliance_links_models(json_t *summaries, struct err *err)
{
    struct compliance_sums *one;
    size_t i;
    int rc = 0;

    if (!json_is_array(summaries))
        return err_set(err, ERR_INTERNAL, "compliance_links_models: summaries is not a list");
    if ((one = sums_new(err)) == NULL)
        return -1;
    for (i = 0; i < json_array_size(summaries) && rc == 0; i++) {
        sums_reset(one);
        if (sums_add(one, json_array_get(summaries, i), i, err) < 0)
            rc = -1;
        else if (one->nfail > 0)
            rc = 1;
    }
    compliance_sums_free(one);
    return rc;
}

/* The resource ids (and their ARN tails) of the counted FAILED summaries
 * as a set (keys borrowed from the summaries): the only ids
 * compliance_failing_components looks up. */
static int
fc_wanted(const struct compliance_sums *set, struct strmap *wanted, struct err *err)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct sum *s = &set->v[i];

        if (!s->counts)
            continue;
        for (size_t j = 0; j < s->nres; j++) {
            const char *id = set->res[s->res_off + j], *tail;
            int added;

            if (strncmp(id, "AWS::::Account:", 15) == 0 && id[15] != '\0')
                continue;
            tail = arn_tail(id);
            if (strmap_put(wanted, id, 0, &added) == NULL ||
                (tail != NULL && strmap_put(wanted, tail, 0, &added) == NULL))
                return err_set(err, ERR_INTERNAL, "out of memory");
        }
    }
    return 0;
}


static int
fc_run_init(struct fc_run *run, const struct compliance_sums *set, const char *account_id,
    struct err *err)
{
    memset(run, 0, sizeof(*run));
    run->set = set;
    run->account_id = account_id;
    snprintf(run->acct_key, sizeof(run->acct_key), "account:%s", account_id);
    run->arena = calloc(1, sizeof(*run->arena));
    if (run->arena == NULL)
        return sums_oom(err);
    run->arena->refs = 1;
    return set->nfail > 0 ? fc_wanted(set, &run->wanted, err) : 0;
}

static void
fc_run_done(struct fc_run *run)
{
    strmap_clear(&run->wanted);
    strmap_clear(&run->index);
    free(run->slot);
    free(run->ent);
    for (size_t i = 0; i < run->nm; i++)
        json_decref(run->vpc[i]);
    free(run->vpc);
    strmap_clear(&run->pairmap);
    for (size_t i = 0; i < run->npair; i++) {
        strmap_clear(&run->pair[i].keys);
        free(run->pair[i].hits);
    }
    free(run->pair);
    free(run->spair);
    arena_unref(run->arena);
    memset(run, 0, sizeof(*run));
}

/* A copy of s[0..n) in the run's arena, NUL-terminated; NULL out of memory. */
static const char *
fc_copy(struct fc_run *run, const char *s, size_t n)
{
    char *out = arena_room(run->arena, n + 1);

    if (out == NULL)
        return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    arena_commit(run->arena, n + 1);
    return out;
}

/* The index key ACCOUNT '\x1f' ID into buf (FC_IKEY_MAX bytes); 0 when it
 * does not fit (the first version's snprintf bound). */
static int
fc_ikey(char *buf, const char *acct, const char *id)
{
    size_t la = strlen(acct), li = strlen(id);

    if (la + 1 + li >= FC_IKEY_MAX)
        return 0;
    memcpy(buf, acct, la + 1);
    buf[la] = '\x1f';
    memcpy(buf + la + 1, id, li + 1);
    return 1;
}

/* The next model, vpc its vpc_id (the run takes the reference; NULL for
 * none): its position is the run's nm before the call. */
static int
fc_model(struct fc_run *run, json_t *vpc, struct err *err)
{
    if (vec_reserve(&run->vpc, &run->capm, run->nm, sizeof(*run->vpc)) < 0) {
        json_decref(vpc);
        return sums_oom(err);
    }
    run->vpc[run->nm++] = vpc;
    return 0;
}

/* Indexes component comp of model under (acct, id), once; *ckey is the
 * component's key, copied from key into the arena on first use when NULL. */
static int
fc_index_add(struct fc_run *run, const char *acct, const char *id, size_t model, size_t comp,
    const char **ckey, const char *key, struct err *err)
{
    char k[FC_IKEY_MAX];
    size_t *pos, e;
    struct fc_slot *sl;

    if (!fc_ikey(k, acct, id))
        return 0; /* longer than any resource id a summary holds: cannot match */
    pos = strmap_get(&run->index, k);
    if (pos == NULL) {
        const char *copy = fc_copy(run, k, strlen(k));
        int added;

        if (copy == NULL ||
            vec_reserve(&run->slot, &run->capslot, run->nslot, sizeof(*run->slot)) < 0 ||
            (pos = strmap_put(&run->index, copy, run->nslot, &added)) == NULL)
            return sums_oom(err);
        run->slot[run->nslot].first = run->slot[run->nslot].last = FC_NONE;
        run->nslot++;
    }
    sl = &run->slot[*pos];
    /* components are indexed one after the other, so a component already
     * under this key (its key, resource_id or tail being equal) is last */
    if (sl->last != FC_NONE && run->ent[sl->last].model == model &&
        run->ent[sl->last].comp == comp)
        return 0;
    if (*ckey == NULL && (*ckey = fc_copy(run, key, strlen(key))) == NULL)
        return sums_oom(err);
    if (vec_reserve(&run->ent, &run->capent, run->nent, sizeof(*run->ent)) < 0)
        return sums_oom(err);
    e = run->nent++;
    run->ent[e].model = model;
    run->ent[e].comp = comp;
    run->ent[e].ckey = *ckey;
    run->ent[e].next = FC_NONE;
    if (sl->last == FC_NONE)
        sl->first = e;
    else
        run->ent[sl->last].next = e;
    sl->last = e;
    return 0;
}

/* Component comp (key, resource_id rid or NULL) of model (of account acct)
 * into the index under each of its ids some lookup wants. stable: key
 * outlives the run (a tree's), else it is copied when indexed. */
static int
fc_component(struct fc_run *run, size_t model, size_t comp, const char *acct, const char *key,
    const char *rid, int stable, struct err *err)
{
    const char *tail = arn_tail(key), *ckey = stable ? key : NULL;

    if ((strmap_get(&run->wanted, key) != NULL &&
            fc_index_add(run, acct, key, model, comp, &ckey, key, err) < 0) ||
        (rid != NULL && strmap_get(&run->wanted, rid) != NULL &&
            fc_index_add(run, acct, rid, model, comp, &ckey, key, err) < 0) ||
        (tail != NULL && strmap_get(&run->wanted, tail) != NULL &&
            fc_index_add(run, acct, tail, model, comp, &ckey, key, err) < 0))
        return -1;
    return 0;
}

/* The pairs of summary s into run->spair (its standards x control ids, in
 * order); a control id that is not a string is an error. */
static int
fc_pairs_of(struct fc_run *run, const struct sum *s, struct err *err)
{
    const struct compliance_sums *set = run->set;

    run->nspair = 0;
    for (size_t i = 0; i < s->nstd; i++) {
        const struct sum_std *e = &set->std[s->std_off + i];

        for (size_t j = 0; j < e->ncid; j++) {
            const char *c = set->cid[e->cid_off + j];
            char k[FC_PAIR_MAX];
            size_t *pos;

            if (c == NULL)
                return err_set(err, ERR_INTERNAL, "compliance: summary '%.200s': bad control "
                                                  "ids", s->id);
            snprintf(k, sizeof(k), "%s\t%s", e->name, c);
            pos = strmap_get(&run->pairmap, k);
            if (pos == NULL) {
                const char *copy = fc_copy(run, k, strlen(k));
                int added;

                if (copy == NULL ||
                    vec_reserve(&run->pair, &run->cappair, run->npair, sizeof(*run->pair)) < 0 ||
                    (pos = strmap_put(&run->pairmap, copy, run->npair, &added)) == NULL)
                    return sums_oom(err);
                memset(&run->pair[run->npair], 0, sizeof(run->pair[run->npair]));
                run->pair[run->npair++].name = copy;
            }
            if (vec_reserve(&run->spair, &run->capspair, run->nspair, sizeof(*run->spair)) < 0)
                return sums_oom(err);
            run->spair[run->nspair++] = *pos;
        }
    }
    return 0;
}

/* Links component key of model to every pair of summary s (*pairs_read:
 * 0 until its pairs are in run->spair); a key is listed once per pair,
 * with the first model that linked it. */
static int
fc_add(struct fc_run *run, const struct sum *s, int *pairs_read, size_t model, const char *key,
    struct err *err)
{
    if (!*pairs_read) {
        if (fc_pairs_of(run, s, err) < 0)
            return -1;
        *pairs_read = 1;
    }
    for (size_t i = 0; i < run->nspair; i++) {
        struct fc_pair *p = &run->pair[run->spair[i]];
        int added;

        if (strmap_put(&p->keys, key, p->nhits, &added) == NULL)
            return sums_oom(err);
        if (!added)
            continue;
        if (vec_reserve(&p->hits, &p->caphits, p->nhits, sizeof(*p->hits)) < 0)
            return sums_oom(err);
        p->hits[p->nhits].model = model;
        p->hits[p->nhits].key = key;
        p->nhits++;
    }
    return 0;
}

/* The components indexed under (acct, id) linked to s; *linked 1 when any. */
static int
fc_lookup(struct fc_run *run, const struct sum *s, int *pairs_read, const char *id, int *linked,
    struct err *err)
{
    char k[FC_IKEY_MAX];
    const size_t *pos;

    if (!fc_ikey(k, s->account_id, id) || (pos = strmap_get(&run->index, k)) == NULL)
        return 0;
    for (size_t e = run->slot[*pos].first; e != FC_NONE; e = run->ent[e].next) {
        *linked = 1;
        if (fc_add(run, s, pairs_read, run->ent[e].model, run->ent[e].ckey, err) < 0)
            return -1;
    }
    return 0;
}

/* The lookups of every counted FAILED summary, then the result. */
static int
fc_finish(struct fc_run *run, json_t **ret, struct err *err)
{
    const struct compliance_sums *set = run->set;
    json_t *out = json_object();
    int rc = -1;

    if (out == NULL)
        return sums_oom(err);
    for (size_t i = 0; i < set->n && set->nfail > 0; i++) {
        const struct sum *s = &set->v[i];
        int linked = 0, pairs_read = 0;

        if (!s->counts)
            continue;
        for (size_t j = 0; j < s->nres; j++) {
            const char *id = set->res[s->res_off + j], *tail;

            if (strncmp(id, "AWS::::Account:", 15) == 0 && id[15] != '\0') {
                linked = 1;
                if (strcmp(id + 15, run->account_id) == 0 &&
                    fc_add(run, s, &pairs_read, run->nm, run->acct_key, err) < 0)
                    goto out;
                continue;
            }
            tail = arn_tail(id);
            if (fc_lookup(run, s, &pairs_read, id, &linked, err) < 0 ||
                (tail != NULL && fc_lookup(run, s, &pairs_read, tail, &linked, err) < 0))
                goto out;
        }
        if (!linked && strcmp(s->account_id, run->account_id) == 0 &&
            fc_add(run, s, &pairs_read, run->nm, run->acct_key, err) < 0)
            goto out;
    }
    for (size_t i = 0; i < run->npair; i++) {
        struct fc_pair *p = &run->pair[i];
        json_t *list = json_array();

        if (list == NULL || json_object_set_new(out, p->name, list) < 0) {
            sums_oom(err);
            goto out;
        }
        qsort(p->hits, p->nhits, sizeof(*p->hits), fc_hit_cmp);
        for (size_t h = 0; h < p->nhits; h++) {
            json_t *vpc = p->hits[h].model < run->nm ? run->vpc[p->hits[h].model] : NULL;
            json_t *o = json_object();

            if (o == NULL || json_array_append_new(list, o) < 0 ||
                put(o, "vpc_id", json_incref(vpc != NULL ? vpc : json_null())) < 0 ||
                put(o, "key", json_string(p->hits[h].key)) < 0) {
                sums_oom(err);
                goto out;
            }
        }
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    json_decref(out);
    return rc;
}

int
compliance_failing_components_sums(const struct compliance_sums *set, json_t *models,
    const char *account_id, json_t **ret, struct err *err)
{
    struct fc_run run;
    json_t *m;
    size_t mi;
    int rc = -1;

    if (set == NULL || !json_is_array(models) || account_id == NULL)
        return err_set(err, ERR_INTERNAL,
            "compliance_failing_components: summaries and models must be lists");
    if (fc_run_init(&run, set, account_id, err) < 0)
        goto out;
    json_array_foreach(models, mi, m) {
        const char *acct = json_string_value(json_object_get(m, "account_id"));
        json_t *comps = json_object_get(m, "components"), *c;
        size_t i;

        if (acct == NULL || !json_is_array(comps)) {
            err_set(err, ERR_INTERNAL, "compliance_failing_components: model %zu has no "
                                       "account_id or components", mi + 1);
            goto out;
        }
        if (fc_model(&run, json_incref(json_object_get(m, "vpc_id")), err) < 0)
            goto out;
        if (set->nfail == 0)
            continue; /* nothing to link: shapes checked, no index needed */
        json_array_foreach(comps, i, c) {
            const char *key = json_string_value(json_object_get(c, "key"));

            if (key == NULL) {
                err_set(err, ERR_INTERNAL, "compliance_failing_components: model %zu component "
                                           "%zu has no key", mi + 1, i + 1);
                goto out;
            }
            if (fc_component(&run, mi, i, acct, key,
                    json_string_value(json_object_get(c, "resource_id")), 1, err) < 0)
                goto out;
        }
    }
    rc = fc_finish(&run, ret, err);
out:
    fc_run_done(&run);
    return rc;
}

/* ---- failing components from link texts ----
 *
 * A link text is {"account_id", "vpc_id", "components": [{"key",
 * "resource_id"}]} in any key order, with anything else skipped; it is read
 * with the summary texts' reader (the treader helpers above: the same
 * grammar, strictness and messages), the strings unescaped into a scratch
 * buffer that is reused per text (offsets, as it moves when it grows). */

/* A string-or-null member as read: kind, the unescaped string (off, len
 * in buf) or the raw value (raw, raw_len: TK_OTHER). */
struct lt_field {
    enum tkind kind;
    size_t off, len;
    const unsigned char *raw;
    size_t raw_len;
};

struct lt_comp {
    struct lt_field key, rid;
};

struct link_reader {
    struct treader r;
    struct text_scratch *ts; /* tr_key's and tr_number's buffers */
    char *buf;               /* the strings read from one text */
    size_t nbuf, capbuf;
    struct lt_comp *comp;
    size_t ncomp, capcomp;
    struct lt_field acct, vpc;
    int object; /* the text is an object */
    int comps;  /* components: 0 absent, 1 a list, 2 another value */
};

static void
link_reader_done(struct link_reader *lr)
{
    text_scratch_free(lr->ts);
    free(lr->buf);
    free(lr->comp);
    memset(lr, 0, sizeof(*lr));
}

static const char *
lt_str(const struct link_reader *lr, const struct lt_field *f)
{
    return f->kind == TK_STRING ? lr->buf + f->off : NULL;
}

/* A member's value at r->p (nesting level depth): a string is unescaped
 * into buf, null noted, anything else checked and skipped. */
static int
lt_field(struct link_reader *lr, struct lt_field *f, int depth)
{
    struct treader *r = &lr->r;
    const unsigned char *q;
    size_t room;

    memset(f, 0, sizeof(*f));
    if (r->p < r->end && *r->p == '"') {
        /* the raw length bounds the unescaped one */
        for (q = r->p + 1; q < r->end && *q != '"';)
            q += *q == '\\' && q + 1 < r->end ? 2 : 1;
        room = (size_t)(q - r->p) + 1;
        if (lr->capbuf - lr->nbuf < room) {
            size_t cap = lr->capbuf ? lr->capbuf : 4096;
            char *grown;

            while (cap - lr->nbuf < room)
                cap *= 2;
            if ((grown = realloc(lr->buf, cap)) == NULL)
                return tr_oom(r);
            lr->buf = grown;
            lr->capbuf = cap;
        }
        if (tr_string(r, lr->buf + lr->nbuf, &f->len) < 0)
            return -1;
        f->kind = TK_STRING;
        f->off = lr->nbuf;
        lr->nbuf += f->len + 1;
        return 0;
    }
    if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
        f->kind = TK_NULL;
        r->p += 4;
        return 0;
    }
    f->kind = TK_OTHER;
    f->raw = r->p;
    if (tr_skip(r, depth) < 0)
        return -1;
    f->raw_len = (size_t)(r->p - f->raw);
    return 0;
}

/* Steps into the object or list at r->p: *ret_more 0 when it is empty. */
static void
lt_open(struct treader *r, int *ret_more)
{
    unsigned char close = *r->p == '{' ? '}' : ']';

    r->p++;
    tr_ws(r);
    *ret_more = 1;
    if (r->p < r->end && *r->p == close) {
        r->p++;
        *ret_more = 0;
    }
}

/* One element of components (level 3): an object's key and resource_id;
 * any other value is a component without them. */
static int
lt_component(struct link_reader *lr)
{
    struct treader *r = &lr->r;
    struct lt_comp *c;
    int more;

    if (vec_reserve(&lr->comp, &lr->capcomp, lr->ncomp, sizeof(*lr->comp)) < 0)
        return tr_oom(r);
    c = &lr->comp[lr->ncomp++];
    memset(c, 0, sizeof(*c));
    if (r->p >= r->end || *r->p != '{')
        return tr_skip(r, 3);
    lt_open(r, &more);
    while (more) {
        const char *k = NULL;
        size_t kl = 0;
        int rc;

        if (tr_key(r, &k, &kl) < 0)
            return -1;
        /* lt_field may move comp, not the position of c in it */
        c = &lr->comp[lr->ncomp - 1];
        if (kl == 3 && memcmp(k, "key", 3) == 0)
            rc = lt_field(lr, &c->key, 4);
        else if (kl == 11 && memcmp(k, "resource_id", 11) == 0)
            rc = lt_field(lr, &c->rid, 4);
        else
            rc = tr_skip(r, 4);
        if (rc < 0 || tr_next(r, '}', &more) < 0)
            return -1;
    }
    return 0;
}

/* The components list at r->p ('[', level 2). */
static int
lt_components(struct link_reader *lr)
{
    int more;

    lt_open(&lr->r, &more);
    while (more) {
        if (lt_component(lr) < 0 || tr_next(&lr->r, ']', &more) < 0)
            return -1;
    }
    return 0;
}

/* Reads text[0..len) into lr (the previous text's fields are dropped). */
static int
lt_read(struct link_reader *lr, const char *text, size_t len)
{
    struct treader *r = &lr->r;
    const unsigned char *nul;
    int more;

    memset(r, 0, sizeof(*r));
    r->start = r->p = (const unsigned char *)text;
    r->end = r->start + len;
    r->ts = lr->ts;
    lr->nbuf = lr->ncomp = 0;
    memset(&lr->acct, 0, sizeof(lr->acct));
    memset(&lr->vpc, 0, sizeof(lr->vpc));
    lr->object = lr->comps = 0;
    if ((nul = memchr(r->start, '\0', len)) != NULL)
        return tr_bad(r, nul, "NUL byte in the text");
    tr_ws(r);
    if (r->p >= r->end || *r->p != '{') {
        if (tr_skip(r, 1) < 0)
            return -1;
    } else {
        lr->object = 1;
        lt_open(r, &more);
        while (more) {
            const char *k = NULL;
            size_t kl = 0;
            int rc;

            if (tr_key(r, &k, &kl) < 0)
                return -1;
            if (kl == 10 && memcmp(k, "account_id", 10) == 0) {
                rc = lt_field(lr, &lr->acct, 2);
            } else if (kl == 6 && memcmp(k, "vpc_id", 6) == 0) {
                rc = lt_field(lr, &lr->vpc, 2);
            } else if (kl == 10 && memcmp(k, "components", 10) == 0) {
                /* a repeated key: the last value stands, as in a tree */
                lr->ncomp = 0;
                lr->comps = r->p < r->end && *r->p == '[' ? 1 : 2;
                rc = lr->comps == 1 ? lt_components(lr) : tr_skip(r, 2);
            } else {
                rc = tr_skip(r, 2);
            }
            if (rc < 0 || tr_next(r, '}', &more) < 0)
                return -1;
        }
    }
    tr_ws(r);
    if (r->p != r->end)
        return tr_bad(r, r->p, "end of text expected");
    return 0;
}

/* The vpc_id read as a value (new reference; NULL when absent), as the
 * tree has it. */
static json_t *
lt_vpc(const struct link_reader *lr, int *ret_oom)
{
    json_t *v = NULL;

    *ret_oom = 0;
    switch (lr->vpc.kind) {
    case TK_ABSENT:
        return NULL;
    case TK_NULL:
        return json_null();
    case TK_STRING:
        v = json_stringn_nocheck(lr->buf + lr->vpc.off, lr->vpc.len);
        break;
    case TK_OTHER:
        /* a number, list or object (not from our texts): as jsonr makes it */
        v = jsonr_loadb((const char *)lr->vpc.raw, lr->vpc.raw_len, JSON_DECODE_ANY, NULL);
        break;
    }
    *ret_oom = v == NULL;
    return v;
}

/* The model just read by lr as model number mi of the run. */
static int
lt_model(struct fc_run *run, const struct link_reader *lr, size_t mi, struct err *err)
{
    const char *acct = lt_str(lr, &lr->acct);
    json_t *vpc;
    int oom;

    if (acct == NULL || lr->comps != 1)
        return err_set(err, ERR_INTERNAL, "compliance_failing_components: model %zu has no "
                                          "account_id or components", mi + 1);
    vpc = lt_vpc(lr, &oom);
    if (oom)
        return sums_oom(err);
    if (fc_model(run, vpc, err) < 0)
        return -1;
    if (run->set->nfail == 0)
        return 0; /* nothing to link: shapes checked, no index needed */
    for (size_t i = 0; i < lr->ncomp; i++) {
        const char *key = lt_str(lr, &lr->comp[i].key);

        if (key == NULL)
            return err_set(err, ERR_INTERNAL, "compliance_failing_components: model %zu "
                                              "component %zu has no key", mi + 1, i + 1);
        if (fc_component(run, mi, i, acct, key, lt_str(lr, &lr->comp[i].rid), 0, err) < 0)
            return -1;
    }
    return 0;
}

/* lt_read's failure as an error naming model mi (from 1; 0: the account's). */
static int
lt_error(const struct link_reader *lr, size_t mi, size_t len, struct err *err)
{
    char what[40] = "the account model";

    if (lr->r.error == NULL)
        return sums_oom(err);
    if (mi > 0)
        snprintf(what, sizeof(what), "model %zu", mi);
    return err_set(err, ERR_INTERNAL,
        "compliance_failing_components: %s is not JSON: %s at byte %zu of %zu", what,
        lr->r.error, lr->r.error_at, len);
}

int
compliance_failing_components_texts(const struct compliance_sums *set,
    const struct compliance_link_doc *models, size_t n, const struct compliance_link_doc *account,
    const char *account_id, json_t **ret, struct err *err)
{
    struct link_reader lr;
    struct fc_run run;
    int rc = -1;

    memset(&lr, 0, sizeof(lr));
    memset(&run, 0, sizeof(run));
    if (set == NULL || (models == NULL && n > 0) || account_id == NULL)
        return err_set(err, ERR_INTERNAL,
            "compliance_failing_components: no summaries, models or account id");
    if (fc_run_init(&run, set, account_id, err) < 0)
        goto out;
    if ((lr.ts = calloc(1, sizeof(*lr.ts))) == NULL) {
        sums_oom(err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (models[i].text == NULL) {
            err_set(err, ERR_INTERNAL, "compliance_failing_components: model %zu has no text",
                i + 1);
            goto out;
        }
        if (lt_read(&lr, models[i].text, models[i].len) < 0) {
            lt_error(&lr, i + 1, models[i].len, err);
            goto out;
        }
        if (lt_model(&run, &lr, i, err) < 0)
            goto out;
    }
    if (account != NULL) {
        if (account->text == NULL) {
            err_set(err, ERR_INTERNAL, "compliance_failing_components: the account model has "
                                       "no text");
            goto out;
        }
        if (lt_read(&lr, account->text, account->len) < 0) {
            lt_error(&lr, 0, account->len, err);
            goto out;
        }
        /* the store links it only when it is an object with an account_id */
        if (lr.object && lr.acct.kind != TK_ABSENT && lt_model(&run, &lr, n, err) < 0)
            goto out;
    }
    rc = fc_finish(&run, ret, err);
out:
    fc_run_done(&run);
    link_reader_done(&lr);
    return rc;
}


int
compliance_failing_components(json_t *summaries, json_t *models, const char *account_id,
    json_t **ret, struct err *err)
{
    struct compliance_sums *set = NULL;
    int rc;

    if (!json_is_array(summaries) || !json_is_array(models) || account_id == NULL)
        return err_set(err, ERR_INTERNAL,
            "compliance_failing_components: summaries and models must be lists");
    if (compliance_sums_read(summaries, &set, err) < 0)
        return -1;
    rc = compliance_failing_components_sums(set, models, account_id, ret, err);
    compliance_sums_free(set);
    return rc;
}

/* ---- merge ---- */

int
compliance_merge(json_t *stored, json_t *updated, json_t **ret, struct err *err)
{
    json_t *byid = json_object(), *out = NULL, *list[2] = {stored, updated}, *s;
    const char *names[2] = {"stored", "updated"};
    struct compliance_sums *one = NULL;
    size_t i;
    int rc = -1;

    if (byid == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    if ((one = sums_new(err)) == NULL)
        goto out;
    for (int l = 0; l < 2; l++) {
        if (!json_is_array(list[l])) {
            err_set(err, ERR_INTERNAL, "compliance_merge: %s summaries is not a list", names[l]);
            goto out;
        }
        json_array_foreach(list[l], i, s) {
            const struct sum *sum;

            sums_reset(one);
            if (sums_add(one, s, i, err) < 0) {
                err_prefix(err, "%s", names[l]);
                goto out;
            }
            sum = &one->v[0];
            if (sum->archived) {
                json_object_del(byid, sum->id);
                continue;
            }
            if (json_object_set(byid, sum->id, s) < 0) {
                err_set(err, ERR_INTERNAL, "out of memory");
                goto out;
            }
        }
    }
    {
        json_t *ids = set_sorted(byid), *id;
        out = json_array();
        if (ids == NULL || out == NULL) {
            json_decref(ids);
            err_set(err, ERR_INTERNAL, "out of memory");
            goto out;
        }
        json_array_foreach(ids, i, id)
            json_array_append(out, json_object_get(byid, json_string_value(id)));
        json_decref(ids);
    }
    *ret = out;
    out = NULL;
    rc = 0;
out:
    compliance_sums_free(one);
    json_decref(out);
    json_decref(byid);
    return rc;
}

/* Borrowed field or a new null, as json_extract gives a missing one. */
static json_t *
field_or_null(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return v != NULL ? json_incref(v) : json_null();
}

char *
compliance_link_text(const json_t *model)
{
    json_t *doc, *comps, *c;
    size_t i;
    char *text = NULL;

    if (!json_is_object(model))
        return NULL;
    comps = json_array();
    doc = json_object();
    if (comps == NULL || doc == NULL)
        goto out;
    /* the *_new calls take their value even when they fail */
    json_array_foreach(json_object_get(model, "components"), i, c) {
        json_t *one = json_object();

        if (json_array_append_new(comps, one) < 0 ||
            json_object_set_new_nocheck(one, "key", field_or_null(c, "key")) < 0 ||
            json_object_set_new_nocheck(one, "resource_id", field_or_null(c, "resource_id")) < 0)
            goto out;
    }
    if (json_object_set_new_nocheck(doc, "account_id", field_or_null(model, "account_id")) < 0)
        goto out;
    json_t *cs = comps;
    comps = NULL;
    if (json_object_set_new_nocheck(doc, "components", cs) < 0 ||
        json_object_set_new_nocheck(doc, "vpc_id", field_or_null(model, "vpc_id")) < 0)
        goto out;
    text = jsonw_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
out:
    json_decref(comps);
    json_decref(doc);
    return text;
}

/* ---- the row form of a summary ---- */

/* 1 when summary's member key is the string v. */
static int
member_is(json_t *summary, const char *key, const char *v)
{
    const char *s = json_string_value(json_object_get(summary, key));

    return s != NULL && v != NULL && strcmp(s, v) == 0;
}

int
compliance_row_text(json_t *summary, const char *account_id, const char *region, char **ret_id,
    char **ret_text, struct err *err)
{
    const char *id = json_string_value(json_object_get(summary, "id"));
    char *copy, *text;

    *ret_id = *ret_text = NULL;
    if (id == NULL)
        return err_set(err, ERR_INTERNAL, "compliance: a finding summary without an id");
    if ((copy = strdup(id)) == NULL)
        return sums_oom(err);
    (void)json_object_del(summary, "id");
    if (member_is(summary, "account_id", account_id))
        (void)json_object_del(summary, "account_id");
    if (member_is(summary, "region", region))
        (void)json_object_del(summary, "region");
    if (member_is(summary, "record_state", "ACTIVE"))
        (void)json_object_del(summary, "record_state");
    text = jsonw_dumps(summary, JSON_COMPACT);
    if (text == NULL) {
        free(copy);
        return sums_oom(err);
    }
    *ret_id = copy;
    *ret_text = text;
    return 0;
}

/* Sets summary's member key to v when it has none. */
static int
fill_member(json_t *summary, const char *key, const char *v)
{
    if (v == NULL || json_object_get(summary, key) != NULL)
        return 0;
    return json_object_set_new(summary, key, json_string(v));
}

int
compliance_row_fill(json_t *summary, const struct compliance_row *row, struct err *err)
{
    if (!json_is_object(summary))
        return 0; /* the shape check names it */
    if (fill_member(summary, "id", row->id) < 0 ||
        fill_member(summary, "account_id", row->account_id) < 0 ||
        fill_member(summary, "region", row->region) < 0 ||
        fill_member(summary, "record_state", "ACTIVE") < 0)
        return sums_oom(err);
    return 0;
}
