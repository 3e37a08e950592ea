/*
 * sigv4.c: AWS Signature Version 4 (HMAC-SHA256), see sigv4.h for the
 * contract. Flow: validate every input -> canonical path, query, headers ->
 * canonical request -> string to sign -> signing key (cached per secret,
 * date, region, service) -> signature -> Authorization or presigned query.
 *
 * Invariants: pure (no I/O, clock or logging); *ret is written only on
 * success; the secret key and session token never reach an error message;
 * every buffer that held key material or the token is wiped with
 * OPENSSL_cleanse before it is freed. That last rule is why text is built in
 * a local wipe-on-grow buffer (struct sb) rather than daemon/buf.h: buf's
 * realloc would leave stale copies of the token behind. The cap is the same
 * idea as buf's: SIGV4_TEXT_MAX for any one string we build.
 *
 * Canonicalisation follows botocore where the published vectors are silent
 * (checked by tests/sigv4/differential.py): dot-segment removal keeps a
 * trailing '/' only when a segment survives ("/a/b/.." -> "/a"), header
 * values fold every run of SP/HTAB/obs-fold to one space, the hop-by-hop and
 * proxy-rewritten headers botocore never signs (User-Agent, Expect,
 * X-Amzn-Trace-Id, ...) are left unsigned, and a caller-supplied
 * x-amz-content-sha256 is used verbatim as the payload hash.
 */
#include "providers/aws/sigv4.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon/util.h"

#define SIGV4_ALGORITHM   "AWS4-HMAC-SHA256"
#define SIGV4_TEXT_MAX    ((size_t)16 * 1024 * 1024)
#define SIGV4_SECRET_MAX  4096
#define SIGV4_NAME_MAX    128                    /* region and service names */
#define SIGV4_EXPIRES_MAX 604800L                /* 7 days, the AWS limit */
#define SIGV4_TIME_MAX    ((time_t)253402300799) /* 9999-12-31T23:59:59Z */
#define SHA256_LEN        32

/* ------------------------------------------------------------------------ */
/* Wipe-on-grow text buffer.                                                */
/* ------------------------------------------------------------------------ */

struct sb {
    char *p;
    size_t len;
    size_t cap;
};

static void
sb_wipe(struct sb *b)
{
    if (b->p != NULL) {
        OPENSSL_cleanse(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

static int
sb_add(struct sb *b, const void *p, size_t n, struct err *err)
{
    size_t ncap;
    char *np;

    if (n > SIGV4_TEXT_MAX || b->len > SIGV4_TEXT_MAX - n)
        return err_set(err, ERR_CONFIG, "request too large to sign (over %zu bytes of text)",
                       SIGV4_TEXT_MAX);
    if (b->len + n + 1 > b->cap) {
        ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        np = malloc(ncap);
        if (np == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory building a %zu-byte string", ncap);
        if (b->p != NULL) {
            memcpy(np, b->p, b->len);
            OPENSSL_cleanse(b->p, b->cap);
            free(b->p);
        }
        b->p = np;
        b->cap = ncap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int
sb_adds(struct sb *b, const char *s, struct err *err)
{
    return sb_add(b, s, strlen(s), err);
}

static int
sb_addc(struct sb *b, char c, struct err *err)
{
    return sb_add(b, &c, 1, err);
}

/* Hands the text to the caller (who frees it) and empties b. */
static char *
sb_steal(struct sb *b, struct err *err)
{
    char *p;

    if (b->p == NULL && sb_add(b, "", 0, err) < 0)
        return NULL;
    p = b->p;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* Wipes and frees a string that may hold the token or other secrets. */
static void
free_wiped(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

/* free() for the const pointers in struct sigv4_header we own. */
static void
free_wiped_const(const char *s)
{
    free_wiped((char *)(uintptr_t)s);
}

static char *
dup_mem(const char *s, size_t n, struct err *err)
{
    char *p = malloc(n + 1);

    if (p == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory copying %zu bytes", n);
        return NULL;
    }
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ------------------------------------------------------------------------ */
/* Hashing.                                                                 */
/* ------------------------------------------------------------------------ */

static int
sha256_hex(const void *data, size_t len, char out[65], struct err *err)
{
    unsigned char md[SHA256_LEN];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != SHA256_LEN)
        return err_set(err, ERR_INTERNAL, "sha256 failed in libcrypto");
    util_hex(md, SHA256_LEN, out);
    return 0;
}

static int
hmac_sha256(const unsigned char *key, size_t keylen, const void *data, size_t len,
            unsigned char out[SHA256_LEN], struct err *err)
{
    unsigned int outlen = 0;

    if (keylen > INT_MAX || HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) == NULL ||
        outlen != SHA256_LEN)
        return err_set(err, ERR_INTERNAL, "hmac-sha256 failed in libcrypto");
    return 0;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"); every intermediate is wiped. */
static int
derive_key(const char *secret, size_t secret_len, const char *date, const char *region,
           const char *service, unsigned char out[SHA256_LEN], struct err *err)
{
    unsigned char k1[SHA256_LEN], k2[SHA256_LEN];
    unsigned char *ksecret = NULL;
    int rc = -1;

    ksecret = malloc(secret_len + 4);
    if (ksecret == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory deriving the signing key");
        goto out;
    }
    memcpy(ksecret, "AWS4", 4);
    memcpy(ksecret + 4, secret, secret_len);
    if (hmac_sha256(ksecret, secret_len + 4, date, strlen(date), k1, err) < 0 ||
        hmac_sha256(k1, SHA256_LEN, region, strlen(region), k2, err) < 0 ||
        hmac_sha256(k2, SHA256_LEN, service, strlen(service), k1, err) < 0 ||
        hmac_sha256(k1, SHA256_LEN, "aws4_request", 12, out, err) < 0)
        goto out;
    rc = 0;
out:
    if (ksecret != NULL) {
        OPENSSL_cleanse(ksecret, secret_len + 4);
        free(ksecret);
    }
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Signing-key cache.                                                       */
/* ------------------------------------------------------------------------ */

struct key_slot {
    int used;
    char date[9];
    char *region;
    char *service;
    char *secret; /* copy, to notice rotated credentials; wiped */
    size_t secret_len;
    unsigned char key[SHA256_LEN];
    unsigned long last_use;
};

struct sigv4_key_cache {
    struct key_slot slots[SIGV4_KEY_CACHE_SLOTS];
    unsigned long tick;
    size_t derivations;
};

static void
slot_clear(struct key_slot *s)
{
    free(s->region);
    free(s->service);
    if (s->secret != NULL) {
        OPENSSL_cleanse(s->secret, s->secret_len);
        free(s->secret);
    }
    OPENSSL_cleanse(s, sizeof(*s));
}

struct sigv4_key_cache *
sigv4_key_cache_new(void)
{
    return calloc(1, sizeof(struct sigv4_key_cache));
}

void
sigv4_key_cache_free(struct sigv4_key_cache *cache)
{
    size_t i;

    if (cache == NULL)
        return;
    for (i = 0; i < SIGV4_KEY_CACHE_SLOTS; i++)
        slot_clear(&cache->slots[i]);
    free(cache);
}

size_t
sigv4_key_cache_derivations(const struct sigv4_key_cache *cache)
{
    return cache != NULL ? cache->derivations : 0;
}

size_t
sigv4_key_cache_entries(const struct sigv4_key_cache *cache)
{
    size_t i, n = 0;

    if (cache == NULL)
        return 0;
    for (i = 0; i < SIGV4_KEY_CACHE_SLOTS; i++)
        n += cache->slots[i].used != 0;
    return n;
}

static int
slot_same_identity(const struct key_slot *s, const char *secret, size_t secret_len,
                   const char *region, const char *service)
{
    return s->used && s->secret_len == secret_len &&
           CRYPTO_memcmp(s->secret, secret, secret_len) == 0 && strcmp(s->region, region) == 0 &&
           strcmp(s->service, service) == 0;
}

/* Returns the signing key for (secret, date, region, service), deriving it
 * when the cache has none. A new date replaces the entry of the same
 * identity (so a daemon running for months holds one key per identity);
 * otherwise a free slot, else the least recently used one, is reused. */
static int
signing_key(struct sigv4_key_cache *cache, const struct sigv4_credentials *creds, const char *date,
            const char *region, const char *service, unsigned char out[SHA256_LEN], struct err *err)
{
    const char *secret = creds->secret_access_key;
    size_t secret_len = strlen(secret);
    struct key_slot *victim = NULL, fresh;
    size_t i;
    int rc = -1;

    memset(&fresh, 0, sizeof(fresh));
    if (cache == NULL)
        return derive_key(secret, secret_len, date, region, service, out, err);

    cache->tick++;
    for (i = 0; i < SIGV4_KEY_CACHE_SLOTS; i++) {
        struct key_slot *s = &cache->slots[i];

        if (slot_same_identity(s, secret, secret_len, region, service)) {
            if (strcmp(s->date, date) == 0) {
                s->last_use = cache->tick;
                memcpy(out, s->key, SHA256_LEN);
                return 0;
            }
            victim = s; /* same identity, older (or other) date: replace */
        }
    }
    for (i = 0; victim == NULL && i < SIGV4_KEY_CACHE_SLOTS; i++) {
        if (!cache->slots[i].used)
            victim = &cache->slots[i];
    }
    if (victim == NULL) {
        victim = &cache->slots[0];
        for (i = 1; i < SIGV4_KEY_CACHE_SLOTS; i++) {
            if (cache->slots[i].last_use < victim->last_use)
                victim = &cache->slots[i];
        }
    }

    if (derive_key(secret, secret_len, date, region, service, fresh.key, err) < 0)
        goto out;
    fresh.region = util_strdup(region, err);
    fresh.service = util_strdup(service, err);
    fresh.secret = dup_mem(secret, secret_len, err);
    if (fresh.region == NULL || fresh.service == NULL || fresh.secret == NULL)
        goto out;
    fresh.secret_len = secret_len;
    memcpy(fresh.date, date, sizeof(fresh.date));
    fresh.used = 1;
    fresh.last_use = cache->tick;
    memcpy(out, fresh.key, SHA256_LEN);
    slot_clear(victim);
    *victim = fresh;
    memset(&fresh, 0, sizeof(fresh));
    cache->derivations++;
    rc = 0;
out:
    slot_clear(&fresh);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Encoding, paths, queries.                                                */
/* ------------------------------------------------------------------------ */

static int
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *
sigv4_uri_encode(const char *s, size_t len, int keep_slash, struct err *err)
{
    static const char digits[] = "0123456789ABCDEF";
    char *out, *o;
    size_t i;

    if (s == NULL && len > 0) {
        err_set(err, ERR_CONFIG, "uri encode: NULL input with length %zu", len);
        return NULL;
    }
    if (len > (SIZE_MAX - 1) / 3) {
        err_set(err, ERR_CONFIG, "uri encode: input of %zu bytes is too long", len);
        return NULL;
    }
    out = malloc(3 * len + 1);
    if (out == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory encoding %zu bytes", len);
        return NULL;
    }
    o = out;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_unreserved(c) || (keep_slash && c == '/')) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = digits[c >> 4];
            *o++ = digits[c & 0xf];
        }
    }
    *o = '\0';
    return out;
}

int
sigv4_canonical_path(const char *wire_path, int normalize, char **ret, struct err *err)
{
    struct sb b = {0};
    size_t *seg_off = NULL, *seg_len = NULL;
    size_t len, nseg = 0, maxseg = 1, i, start;
    char *enc = NULL;
    int rc = -1;

    if (wire_path == NULL || *wire_path == '\0')
        wire_path = "/";
    if (wire_path[0] != '/')
        return err_set(err, ERR_CONFIG, "path '%.64s' does not start with '/'", wire_path);
    len = strlen(wire_path);
    if (!normalize) {
        enc = sigv4_uri_encode(wire_path, len, 1, err);
        if (enc == NULL)
            goto out;
        *ret = enc;
        return 0;
    }

    /* RFC 3986 5.2.4 dot-segment removal plus the AWS "//" collapse, on
     * whole segments: empty and "." segments vanish, ".." drops the last kept
     * one. Percent-encoded dots ("%2E") are plain text, as botocore has it. */
    for (i = 0; i < len; i++)
        maxseg += wire_path[i] == '/';
    seg_off = calloc(maxseg, sizeof(*seg_off));
    seg_len = calloc(maxseg, sizeof(*seg_len));
    if (seg_off == NULL || seg_len == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory normalizing a %zu-byte path", len);
        goto out;
    }
    start = 0;
    for (i = 0; i <= len; i++) {
        if (i < len && wire_path[i] != '/')
            continue;
        size_t n = i - start;
        const char *seg = wire_path + start;

        if (n == 0 || (n == 1 && seg[0] == '.')) {
            /* dropped */
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            if (nseg > 0)
                nseg--;
        } else {
            seg_off[nseg] = start;
            seg_len[nseg] = n;
            nseg++;
        }
        start = i + 1;
    }
    if (sb_addc(&b, '/', err) < 0)
        goto out;
    for (i = 0; i < nseg; i++) {
        if ((i > 0 && sb_addc(&b, '/', err) < 0) ||
            sb_add(&b, wire_path + seg_off[i], seg_len[i], err) < 0)
            goto out;
    }
    /* a trailing slash survives only with a segment before it (botocore) */
    if (nseg > 0 && wire_path[len - 1] == '/' && sb_addc(&b, '/', err) < 0)
        goto out;
    enc = sigv4_uri_encode(b.p, b.len, 1, err);
    if (enc == NULL)
        goto out;
    *ret = enc;
    rc = 0;
out:
    free(seg_off);
    free(seg_len);
    sb_wipe(&b);
    return rc;
}

struct qpair {
    char *key; /* encoded */
    char *val; /* encoded */
};

struct qlist {
    struct qpair *v;
    size_t n;
    size_t cap;
};

static void
qlist_clear(struct qlist *q)
{
    size_t i;

    for (i = 0; i < q->n; i++) {
        free_wiped(q->v[i].key);
        free_wiped(q->v[i].val);
    }
    free(q->v);
    q->v = NULL;
    q->n = 0;
    q->cap = 0;
}

/* Adds one pair given in decoded (raw byte) form; takes nothing. */
static int
qlist_add(struct qlist *q, const char *k, size_t klen, const char *v, size_t vlen, struct err *err)
{
    struct qpair p;

    if (q->n == q->cap) {
        size_t ncap = q->cap ? 2 * q->cap : 8;
        struct qpair *nv = realloc(q->v, ncap * sizeof(*nv));

        if (nv == NULL)
            return err_set(err, ERR_INTERNAL, "out of memory growing the query list");
        q->v = nv;
        q->cap = ncap;
    }
    p.key = sigv4_uri_encode(k, klen, 0, err);
    p.val = p.key != NULL ? sigv4_uri_encode(v, vlen, 0, err) : NULL;
    if (p.val == NULL) {
        free(p.key);
        return -1;
    }
    q->v[q->n++] = p;
    return 0;
}

/* Percent-decodes s[0..n) into out (which holds n bytes); *ret_len is the
 * decoded length. base is the offset of s in the query, for messages. */
static int
percent_decode(const char *s, size_t n, size_t base, char *out, size_t *ret_len, struct err *err)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        int hi = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;

        if (hi < 0 || lo < 0)
            return err_set(err, ERR_CONFIG,
                           "query: bad percent-escape at byte %zu (want '%%' and two hex digits)",
                           base + i);
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    *ret_len = o;
    return 0;
}

/* Splits a wire query on '&', each piece on its first '='; a piece without
 * '=' is a key with an empty value; empty pieces ("a=1&&b=2") carry nothing
 * and are skipped. */
static int
qlist_parse(const char *query, struct qlist *q, struct err *err)
{
    char *tmp = NULL;
    size_t len, start = 0, i;
    int rc = -1;

    if (query == NULL || *query == '\0')
        return 0;
    len = strlen(query);
    tmp = malloc(len + 1);
    if (tmp == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory parsing a %zu-byte query", len);
        goto out;
    }
    for (i = 0; i <= len; i++) {
        if (i < len && query[i] != '&')
            continue;
        const char *piece = query + start;
        size_t n = i - start, klen, vlen = 0, kdec = 0, vdec = 0;
        const char *eq = memchr(piece, '=', n);

        if (n > 0) {
            klen = eq != NULL ? (size_t)(eq - piece) : n;
            if (percent_decode(piece, klen, start, tmp, &kdec, err) < 0)
                goto out;
            if (eq != NULL) {
                vlen = n - klen - 1;
                if (percent_decode(eq + 1, vlen, start + klen + 1, tmp + kdec, &vdec, err) < 0)
                    goto out;
            }
            if (qlist_add(q, tmp, kdec, tmp + kdec, vdec, err) < 0)
                goto out;
        }
        start = i + 1;
    }
    rc = 0;
out:
    if (tmp != NULL) {
        OPENSSL_cleanse(tmp, len + 1);
        free(tmp);
    }
    return rc;
}

static int
qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c != 0 ? c : strcmp(x->val, y->val);
}

/* Sorted "k=v&k=v" of the encoded pairs (AWS: sort by encoded name, then
 * value, by byte). */
static int
qlist_join(struct qlist *q, struct sb *b, struct err *err)
{
    size_t i;

    if (q->n > 1)
        qsort(q->v, q->n, sizeof(q->v[0]), qpair_cmp);
    for (i = 0; i < q->n; i++) {
        if ((i > 0 && sb_addc(b, '&', err) < 0) || sb_adds(b, q->v[i].key, err) < 0 ||
            sb_addc(b, '=', err) < 0 || sb_adds(b, q->v[i].val, err) < 0)
            return -1;
    }
    return 0;
}

int
sigv4_canonical_query(const char *wire_query, char **ret, struct err *err)
{
    struct qlist q = {0};
    struct sb b = {0};
    char *s;
    int rc = -1;

    if (qlist_parse(wire_query, &q, err) < 0 || qlist_join(&q, &b, err) < 0)
        goto out;
    s = sb_steal(&b, err);
    if (s == NULL)
        goto out;
    *ret = s;
    rc = 0;
out:
    qlist_clear(&q);
    sb_wipe(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Headers.                                                                 */
/* ------------------------------------------------------------------------ */

struct chdr {
    char *lname;
    char *value; /* trimmed and folded */
    size_t order;
};

struct hlist {
    struct chdr *v;
    size_t n;
    size_t cap;
};

static void
hlist_clear(struct hlist *h)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        free(h->v[i].lname);
        free_wiped(h->v[i].value);
    }
    free(h->v);
    h->v = NULL;
    h->n = 0;
    h->cap = 0;
}

/* Takes ownership of lname and value, also on failure. */
static int
hlist_add(struct hlist *h, char *lname, char *value, struct err *err)
{
    if (h->n == h->cap) {
        size_t ncap = h->cap ? 2 * h->cap : 8;
        struct chdr *nv = realloc(h->v, ncap * sizeof(*nv));

        if (nv == NULL) {
            free(lname);
            free_wiped(value);
            return err_set(err, ERR_INTERNAL, "out of memory growing the header list");
        }
        h->v = nv;
        h->cap = ncap;
    }
    h->v[h->n].lname = lname;
    h->v[h->n].value = value;
    h->v[h->n].order = h->n;
    h->n++;
    return 0;
}

static int
chdr_cmp(const void *a, const void *b)
{
    const struct chdr *x = a, *y = b;
    int c = strcmp(x->lname, y->lname);

    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int
is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Headers botocore and the AWS SDKs never sign: hop-by-hop ones and those
 * proxies and load balancers rewrite. */
static int
is_unsigned_header(const char *lname)
{
    static const char *const names[] = {"connection",
                                        "expect",
                                        "keep-alive",
                                        "proxy-authenticate",
                                        "proxy-authorization",
                                        "te",
                                        "trailer",
                                        "transfer-encoding",
                                        "upgrade",
                                        "user-agent",
                                        "x-amzn-trace-id"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(lname, names[i]) == 0)
            return 1;
    }
    return 0;
}

/* Trimall: drops leading/trailing whitespace and folds every run of SP,
 * HTAB and obs-fold line breaks (CRLF or LF followed by SP/HTAB, see vector
 * get-header-value-multiline) into one space. Any other control byte, or a
 * line break that is not a fold, is refused: it would split the header on the
 * wire. idx and lname only name the header in messages. */
static int
fold_value(const char *value, size_t idx, const char *lname, char **ret, struct err *err)
{
    struct sb b = {0};
    size_t i, len = strlen(value);
    int pending = 0;
    char *s;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];

        if (c == '\r' || c == '\n') {
            size_t next = i + 1;

            if (c == '\r' && next < len && value[next] == '\n')
                next++;
            if (next >= len || (value[next] != ' ' && value[next] != '\t')) {
                sb_wipe(&b);
                return err_set(err, ERR_CONFIG,
                               "header %zu ('%.64s'): line break at byte %zu is not followed by "
                               "whitespace (only obs-fold continuations are allowed)",
                               idx, lname, i);
            }
            i = next - 1;
            pending = 1;
        } else if (c == ' ' || c == '\t') {
            pending = 1;
        } else if (c < 0x20 || c == 0x7f) {
            sb_wipe(&b);
            return err_set(err, ERR_CONFIG,
                           "header %zu ('%.64s'): control character 0x%02x at byte %zu", idx, lname,
                           c, i);
        } else {
            if (pending && b.len > 0 && sb_addc(&b, ' ', err) < 0)
                goto fail;
            pending = 0;
            if (sb_addc(&b, (char)c, err) < 0)
                goto fail;
        }
    }
    s = sb_steal(&b, err);
    if (s == NULL)
        goto fail;
    *ret = s;
    return 0;
fail:
    sb_wipe(&b);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Input checks. Messages name the field, never a secret's value.          */
/* ------------------------------------------------------------------------ */

static int
check_name(const char *what, const char *s, struct err *err)
{
    size_t i, len;

    if (s == NULL || *s == '\0')
        return err_set(err, ERR_CONFIG, "%s is missing or empty", what);
    len = strlen(s);
    if (len > SIGV4_NAME_MAX)
        return err_set(err, ERR_CONFIG, "%s is longer than %d bytes", what, SIGV4_NAME_MAX);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return err_set(err, ERR_CONFIG, "%s '%.64s' has an invalid character at byte %zu", what,
                           s, i);
    }
    return 0;
}

static int
check_inputs(const struct sigv4_request *req, const struct sigv4_credentials *creds,
             const struct sigv4_params *params, int presign, struct err *err)
{
    size_t i, len;

    if (req == NULL || creds == NULL || params == NULL)
        return err_set(err, ERR_INTERNAL, "sigv4: request, credentials or params is NULL");
    if (req->method == NULL || *req->method == '\0')
        return err_set(err, ERR_CONFIG, "HTTP method is missing or empty");
    for (i = 0; req->method[i] != '\0'; i++) {
        if (!is_tchar((unsigned char)req->method[i]))
            return err_set(err, ERR_CONFIG, "HTTP method '%.32s' has an invalid character",
                           req->method);
    }
    if (req->nheaders > 0 && req->headers == NULL)
        return err_set(err, ERR_CONFIG, "%zu headers announced but the list is NULL",
                       req->nheaders);
    if (req->body == NULL && req->body_len > 0)
        return err_set(err, ERR_CONFIG, "body is NULL but body_len is %zu", req->body_len);

    if (creds->access_key_id == NULL || *creds->access_key_id == '\0')
        return err_set(err, ERR_AUTH, "access key id is missing or empty");
    len = strlen(creds->access_key_id);
    if (len > SIGV4_NAME_MAX)
        return err_set(err, ERR_AUTH, "access key id is longer than %d bytes", SIGV4_NAME_MAX);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)creds->access_key_id[i];

        /* it goes into "Credential=AKID/scope, ..." unescaped in the header */
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',' || c == '=' || c == ';')
            return err_set(err, ERR_AUTH, "access key id has an invalid character at byte %zu", i);
    }
    if (creds->secret_access_key == NULL || *creds->secret_access_key == '\0')
        return err_set(err, ERR_AUTH, "secret access key is missing or empty");
    if (strlen(creds->secret_access_key) > SIGV4_SECRET_MAX)
        return err_set(err, ERR_AUTH, "secret access key is longer than %d bytes",
                       SIGV4_SECRET_MAX);
    if (creds->session_token != NULL) {
        for (i = 0; creds->session_token[i] != '\0'; i++) {
            unsigned char c = (unsigned char)creds->session_token[i];

            if (c < 0x20 || c == 0x7f)
                return err_set(err, ERR_AUTH, "session token has a control character at byte %zu",
                               i);
        }
    }

    if (check_name("region", params->region, err) < 0 ||
        check_name("service", params->service, err) < 0)
        return -1;
    if (params->now < 0 || params->now > SIGV4_TIME_MAX)
        return err_set(err, ERR_CONFIG, "signing time %lld is outside 1970..9999",
                       (long long)params->now);
    if (presign && (params->expires_s < 1 || params->expires_s > SIGV4_EXPIRES_MAX))
        return err_set(err, ERR_CONFIG, "presign expiry %ld s is outside 1..%ld", params->expires_s,
                       SIGV4_EXPIRES_MAX);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The pipeline.                                                            */
/* ------------------------------------------------------------------------ */

static int
has_token(const struct sigv4_credentials *creds)
{
    return creds->session_token != NULL && creds->session_token[0] != '\0';
}

/* Collects the canonical header list: the request's own headers minus the
 * never-signed ones, plus those the signer adds. *ret_payload gets a copy of
 * a caller-supplied x-amz-content-sha256 (NULL when none). */
static int
collect_headers(const struct sigv4_request *req, const struct sigv4_credentials *creds,
                const struct sigv4_params *params, int presign, const char *amz_date,
                const char *body_hash, struct hlist *h, char **ret_payload, struct err *err)
{
    char *payload = NULL, *lname = NULL, *value = NULL;
    size_t i, j, nhost = 0;
    int rc = -1;

    for (i = 0; i < req->nheaders; i++) {
        const char *name = req->headers[i].name;

        if (name == NULL || *name == '\0') {
            err_set(err, ERR_CONFIG, "header %zu has no name", i);
            goto out;
        }
        if (req->headers[i].value == NULL) {
            err_set(err, ERR_CONFIG, "header %zu ('%.64s') has no value", i, name);
            goto out;
        }
        lname = util_strdup(name, err);
        if (lname == NULL)
            goto out;
        for (j = 0; lname[j] != '\0'; j++) {
            unsigned char c = (unsigned char)lname[j];

            if (!is_tchar(c)) {
                err_set(err, ERR_CONFIG,
                        "header %zu name '%.64s' has an invalid character at byte %zu", i, name, j);
                goto out;
            }
            if (c >= 'A' && c <= 'Z')
                lname[j] = (char)(c - 'A' + 'a');
        }
        if (strcmp(lname, "authorization") == 0 || strcmp(lname, "x-amz-date") == 0 ||
            strcmp(lname, "x-amz-security-token") == 0 ||
            (strcmp(lname, "x-amz-content-sha256") == 0 && params->sign_body && !presign)) {
            err_set(err, ERR_CONFIG,
                    "header %zu ('%.64s') is set by the signer; leave it out of the request", i,
                    name);
            goto out;
        }
        if (is_unsigned_header(lname)) {
            free(lname);
            lname = NULL;
            continue;
        }
        if (fold_value(req->headers[i].value, i, name, &value, err) < 0)
            goto out;
        if (value == NULL) {
            err_set(err, ERR_INTERNAL, "header %zu: folding gave no value", i);
            goto out;
        }
        if (strcmp(lname, "host") == 0) {
            nhost++;
            if (*value == '\0') {
                err_set(err, ERR_CONFIG, "header %zu: Host is empty", i);
                goto out;
            }
        }
        if (strcmp(lname, "x-amz-content-sha256") == 0) {
            if (payload != NULL) {
                err_set(err, ERR_CONFIG, "header %zu: x-amz-content-sha256 given twice", i);
                goto out;
            }
            payload = util_strdup(value, err);
            if (payload == NULL)
                goto out;
        }
        if (hlist_add(h, lname, value, err) < 0) {
            lname = NULL;
            value = NULL;
            goto out;
        }
        lname = NULL;
        value = NULL;
    }
    if (nhost == 0) {
        err_set(err, ERR_CONFIG, "request has no Host header");
        goto out;
    }
    if (nhost > 1) {
        err_set(err, ERR_CONFIG, "request has %zu Host headers", nhost);
        goto out;
    }
    if (!presign) {
        struct {
            const char *name;
            const char *value;
            int want;
        } extra[] = {
            {"x-amz-date", amz_date, 1},
            {"x-amz-security-token", creds->session_token,
             has_token(creds) && !params->omit_session_token},
            {"x-amz-content-sha256", body_hash, params->sign_body},
        };
        for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
            if (!extra[i].want)
                continue;
            lname = util_strdup(extra[i].name, err);
            value = lname != NULL ? util_strdup(extra[i].value, err) : NULL;
            if (value == NULL)
                goto out;
            if (hlist_add(h, lname, value, err) < 0) {
                lname = NULL;
                value = NULL;
                goto out;
            }
            lname = NULL;
            value = NULL;
        }
    }
    *ret_payload = payload;
    payload = NULL;
    rc = 0;
out:
    free(lname);
    free_wiped(value);
    free(payload);
    return rc;
}

/* "name:v1,v2\n" per distinct lower-cased name, sorted; duplicates joined
 * with ',' in request order (vector get-header-value-order). */
static int
canonical_headers(struct hlist *h, struct sb *canon, struct sb *signed_names, struct err *err)
{
    size_t i;

    if (h->n > 1)
        qsort(h->v, h->n, sizeof(h->v[0]), chdr_cmp);
    for (i = 0; i < h->n; i++) {
        int first = i == 0 || strcmp(h->v[i - 1].lname, h->v[i].lname) != 0;
        int last = i + 1 == h->n || strcmp(h->v[i + 1].lname, h->v[i].lname) != 0;

        if (first) {
            if ((signed_names->len > 0 && sb_addc(signed_names, ';', err) < 0) ||
                sb_adds(signed_names, h->v[i].lname, err) < 0 ||
                sb_adds(canon, h->v[i].lname, err) < 0 || sb_addc(canon, ':', err) < 0)
                return -1;
        } else if (sb_addc(canon, ',', err) < 0) {
            return -1;
        }
        if (sb_adds(canon, h->v[i].value, err) < 0 || (last && sb_addc(canon, '\n', err) < 0))
            return -1;
    }
    return 0;
}

static int
is_auth_query_key(const char *enc_key)
{
    static const char *const keys[] = {
        "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",     "X-Amz-Expires",
        "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature"};
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcasecmp(enc_key, keys[i]) == 0)
            return 1;
    }
    return 0;
}

static int
add_added(struct sigv4_result *res, const char *name, const char *value, struct err *err)
{
    char *v = util_strdup(value, err);

    if (v == NULL)
        return -1;
    res->added[res->nadded].name = name;
    res->added[res->nadded].value = v;
    res->nadded++;
    return 0;
}

static int
sign_common(const struct sigv4_request *req, const struct sigv4_credentials *creds,
            const struct sigv4_params *params, struct sigv4_key_cache *cache, int presign,
            struct sigv4_result *ret, struct err *err)
{
    struct sigv4_result res;
    struct hlist h = {0};
    struct qlist q = {0};
    struct sb canon = {0}, names = {0}, cq = {0}, tmp = {0};
    char *path = NULL, *payload = NULL, *cred_enc = NULL;
    char body_hash[65], cr_hash[65], date[9];
    unsigned char key[SHA256_LEN], sig[SHA256_LEN];
    char expires[24];
    size_t i;
    int rc = -1;

    memset(&res, 0, sizeof(res));
    if (check_inputs(req, creds, params, presign, err) < 0)
        return -1;
    util_time_amz(params->now, res.amz_date);
    memcpy(date, res.amz_date, 8);
    date[8] = '\0';

    if (sha256_hex(req->body != NULL ? req->body : "", req->body_len, body_hash, err) < 0)
        goto out;
    if (sigv4_canonical_path(req->path, !params->no_normalize_path, &path, err) < 0)
        goto out;
    if (qlist_parse(req->query, &q, err) < 0)
        goto out;
    if (collect_headers(req, creds, params, presign, res.amz_date, body_hash, &h, &payload, err) <
        0)
        goto out;
    if (canonical_headers(&h, &tmp, &names, err) < 0)
        goto out;
    if (sb_adds(&canon, date, err) < 0 || sb_addc(&canon, '/', err) < 0 ||
        sb_adds(&canon, params->region, err) < 0 || sb_addc(&canon, '/', err) < 0 ||
        sb_adds(&canon, params->service, err) < 0 || sb_adds(&canon, "/aws4_request", err) < 0)
        goto out;
    res.credential_scope = sb_steal(&canon, err);
    if (res.credential_scope == NULL)
        goto out;
    res.signed_headers = dup_mem(names.p, names.len, err);
    if (res.signed_headers == NULL)
        goto out;

    if (presign) {
        struct sb c = {0};

        for (i = 0; i < q.n; i++) {
            if (is_auth_query_key(q.v[i].key)) {
                err_set(err, ERR_CONFIG,
                        "query parameter '%.64s' is set by the presigner; leave it out",
                        q.v[i].key);
                goto out;
            }
        }
        if (sb_adds(&c, creds->access_key_id, err) < 0 || sb_addc(&c, '/', err) < 0 ||
            sb_adds(&c, res.credential_scope, err) < 0) {
            sb_wipe(&c);
            goto out;
        }
        snprintf(expires, sizeof(expires), "%ld", params->expires_s);
        if (qlist_add(&q, "X-Amz-Algorithm", 15, SIGV4_ALGORITHM, strlen(SIGV4_ALGORITHM), err) <
                0 ||
            qlist_add(&q, "X-Amz-Credential", 16, c.p, c.len, err) < 0 ||
            qlist_add(&q, "X-Amz-Date", 10, res.amz_date, strlen(res.amz_date), err) < 0 ||
            qlist_add(&q, "X-Amz-Expires", 13, expires, strlen(expires), err) < 0 ||
            qlist_add(&q, "X-Amz-SignedHeaders", 19, names.p, names.len, err) < 0 ||
            (has_token(creds) && !params->omit_session_token &&
             qlist_add(&q, "X-Amz-Security-Token", 20, creds->session_token,
                       strlen(creds->session_token), err) < 0)) {
            sb_wipe(&c);
            goto out;
        }
        sb_wipe(&c);
    }
    if (qlist_join(&q, &cq, err) < 0)
        goto out;

    /* canonical request */
    if (sb_adds(&canon, req->method, err) < 0 || sb_addc(&canon, '\n', err) < 0 ||
        sb_adds(&canon, path, err) < 0 || sb_addc(&canon, '\n', err) < 0 ||
        sb_add(&canon, cq.p != NULL ? cq.p : "", cq.len, err) < 0 ||
        sb_addc(&canon, '\n', err) < 0 || sb_add(&canon, tmp.p, tmp.len, err) < 0 ||
        sb_addc(&canon, '\n', err) < 0 || sb_add(&canon, names.p, names.len, err) < 0 ||
        sb_addc(&canon, '\n', err) < 0 ||
        sb_adds(&canon, payload != NULL ? payload : body_hash, err) < 0)
        goto out;
    if (sha256_hex(canon.p, canon.len, cr_hash, err) < 0)
        goto out;
    res.canonical_request = sb_steal(&canon, err);
    if (res.canonical_request == NULL)
        goto out;

    /* string to sign */
    if (sb_adds(&canon, SIGV4_ALGORITHM "\n", err) < 0 || sb_adds(&canon, res.amz_date, err) < 0 ||
        sb_addc(&canon, '\n', err) < 0 || sb_adds(&canon, res.credential_scope, err) < 0 ||
        sb_addc(&canon, '\n', err) < 0 || sb_adds(&canon, cr_hash, err) < 0)
        goto out;
    res.string_to_sign = sb_steal(&canon, err);
    if (res.string_to_sign == NULL)
        goto out;

    if (signing_key(cache, creds, date, params->region, params->service, key, err) < 0)
        goto out;
    if (hmac_sha256(key, SHA256_LEN, res.string_to_sign, strlen(res.string_to_sign), sig, err) < 0)
        goto out;
    util_hex(sig, SHA256_LEN, res.signature);

    if (presign) {
        if (sb_add(&canon, cq.p, cq.len, err) < 0)
            goto out;
        if (has_token(creds) && params->omit_session_token) {
            cred_enc = sigv4_uri_encode(creds->session_token, strlen(creds->session_token), 0, err);
            if (cred_enc == NULL || sb_adds(&canon, "&X-Amz-Security-Token=", err) < 0 ||
                sb_adds(&canon, cred_enc, err) < 0)
                goto out;
        }
        if (sb_adds(&canon, "&X-Amz-Signature=", err) < 0 ||
            sb_adds(&canon, res.signature, err) < 0)
            goto out;
        res.presigned_query = sb_steal(&canon, err);
        if (res.presigned_query == NULL)
            goto out;
    } else {
        if (sb_adds(&canon, SIGV4_ALGORITHM " Credential=", err) < 0 ||
            sb_adds(&canon, creds->access_key_id, err) < 0 || sb_addc(&canon, '/', err) < 0 ||
            sb_adds(&canon, res.credential_scope, err) < 0 ||
            sb_adds(&canon, ", SignedHeaders=", err) < 0 ||
            sb_adds(&canon, res.signed_headers, err) < 0 ||
            sb_adds(&canon, ", Signature=", err) < 0 || sb_adds(&canon, res.signature, err) < 0)
            goto out;
        res.authorization = sb_steal(&canon, err);
        if (res.authorization == NULL)
            goto out;
        if (add_added(&res, "X-Amz-Date", res.amz_date, err) < 0)
            goto out;
        if (has_token(creds) &&
            add_added(&res, "X-Amz-Security-Token", creds->session_token, err) < 0)
            goto out;
        if (params->sign_body) {
            res.content_sha256 = util_strdup(body_hash, err);
            if (res.content_sha256 == NULL ||
                add_added(&res, "x-amz-content-sha256", body_hash, err) < 0)
                goto out;
        }
    }
    *ret = res;
    memset(&res, 0, sizeof(res));
    rc = 0;
out:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(sig, sizeof(sig));
    sigv4_result_clear(&res);
    hlist_clear(&h);
    qlist_clear(&q);
    sb_wipe(&canon);
    sb_wipe(&names);
    sb_wipe(&cq);
    sb_wipe(&tmp);
    free(path);
    free(payload);
    free_wiped(cred_enc);
    return rc;
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
           const struct sigv4_params *params, struct sigv4_key_cache *cache,
           struct sigv4_result *ret, struct err *err)
{
    return sign_common(req, creds, params, cache, 0, ret, err);
}

int
sigv4_presign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
              const struct sigv4_params *params, struct sigv4_key_cache *cache,
              struct sigv4_result *ret, struct err *err)
{
    return sign_common(req, creds, params, cache, 1, ret, err);
}

void
sigv4_result_clear(struct sigv4_result *res)
{
    size_t i;

    if (res == NULL)
        return;
    /* everything may carry the token (canonical request, presigned query) */
    free_wiped(res->canonical_request);
    free_wiped(res->string_to_sign);
    free_wiped(res->signed_headers);
    free_wiped(res->credential_scope);
    free_wiped(res->authorization);
    free_wiped(res->content_sha256);
    free_wiped(res->presigned_query);
    for (i = 0; i < res->nadded && i < sizeof(res->added) / sizeof(res->added[0]); i++)
        free_wiped_const(res->added[i].value);
    OPENSSL_cleanse(res, sizeof(*res));
}
