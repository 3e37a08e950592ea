/*
 * fuzz_sigv4.c: the SigV4 canonicaliser. The input's NUL-separated parts
 * are: method, wire path, wire query, then header name/value pairs and
 * finally the body. They go through sigv4_canonical_path (normalised and
 * not), sigv4_canonical_query, sigv4_uri_encode and a full sigv4_sign and
 * sigv4_presign with a key cache. Invariants: canonical path and query are
 * idempotent on their own output where the spec says so (the canonical
 * query re-canonicalises to itself), a signature is 64 lower-case hex
 * digits, and the canonical request starts with the method.
 * Seeds: the request.txt files of ../shared/testdata sigv4 vectors, split
 * into parts by the seed builder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "providers/aws/sigv4.h"

#define MAX_HEADERS 6

static int
is_hex64(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sigv4_key_cache *cache;
    struct fuzz_parts p;
    struct sigv4_header h[MAX_HEADERS + 1];
    struct sigv4_request req;
    struct sigv4_credentials cr = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        NULL};
    struct sigv4_params prm;
    struct sigv4_result res;
    struct err err = {0};
    char *cpath = NULL, *cquery = NULL, *again = NULL, *enc;
    size_t nh = 0, next;

    if (cache == NULL && (cache = sigv4_key_cache_new()) == NULL)
        return 0;
    if (size > FUZZ_MAX_INPUT || fuzz_split(data, size, &p) < 0)
        return 0;
    if (p.n < 3)
        goto out;
    if (sigv4_canonical_path(p.part[1], 1, &cpath, &err) == 0) {
        free(cpath);
        cpath = NULL;
    }
    if (sigv4_canonical_path(p.part[1], 0, &cpath, &err) == 0) {
        free(cpath);
        cpath = NULL;
    }
    if (sigv4_canonical_query(p.part[2], &cquery, &err) == 0) {
        if (sigv4_canonical_query(cquery, &again, &err) != 0 || strcmp(again, cquery) != 0)
            abort(); /* canonical query not stable under re-canonicalisation */
        free(again);
        free(cquery);
    }
    enc = sigv4_uri_encode(p.part[1], p.len[1], (int)(p.len[0] & 1), &err);
    free(enc);

    /* headers: Host first (required), then fuzzed pairs */
    h[nh].name = "Host";
    h[nh].value = "config.us-east-1.amazonaws.com";
    nh++;
    for (next = 3; next + 1 < p.n && nh <= MAX_HEADERS; next += 2) {
        h[nh].name = p.part[next];
        h[nh].value = p.part[next + 1];
        nh++;
    }
    memset(&req, 0, sizeof(req));
    req.method = p.part[0];
    req.path = p.part[1];
    req.query = p.part[2];
    req.headers = h;
    req.nheaders = nh;
    if (next < p.n) {
        req.body = p.part[next];
        req.body_len = p.len[next];
    }
    memset(&prm, 0, sizeof(prm));
    prm.region = "us-east-1";
    prm.service = "config";
    prm.now = 1440938160 + (time_t)(size % 100000);
    prm.sign_body = (int)(size & 1);
    memset(&res, 0, sizeof(res));
    if (sigv4_sign(&req, &cr, &prm, cache, &res, &err) == 0) {
        if (!is_hex64(res.signature) || res.canonical_request == NULL ||
            strncmp(res.canonical_request, req.method, strlen(req.method)) != 0)
            abort(); /* malformed signing result */
        sigv4_result_clear(&res);
    }
    prm.expires_s = 900;
    cr.session_token = "fuzz-session-token";
    memset(&res, 0, sizeof(res));
    if (sigv4_presign(&req, &cr, &prm, cache, &res, &err) == 0)
        sigv4_result_clear(&res);
out:
    fuzz_parts_free(&p);
    return 0;
}
