/*
 * fuzz_common.h: shared helpers for the libFuzzer harnesses in tests/fuzz/.
 *
 * Every harness defines LLVMFuzzerTestOneInput and nothing else global, so
 * the same file links either with libFuzzer (clang, -fsanitize=fuzzer) or
 * with replay_main.c (any compiler), which feeds saved inputs to it; that
 * is how crash regressions run under gcc's ASan build.
 *
 * Inputs that carry several parts (path, query, headers; several HTTP
 * pages) separate them with NUL bytes: recorded JSON and XML never hold a
 * NUL, so a seed that is one recorded body is a one-part input, and the
 * fuzzer finds the separator quickly by itself.
 *
 * fuzz_aws_env builds a real aws_client (static credentials, no retries,
 * a fake clock) whose transport answers call i with part i of the input
 * (status 200) and fails with a transport error once the parts run out, so
 * the real request builders and page parsers of discover.c and
 * securityhub.c run on the fuzz data. Everything here is static inline:
 * each harness is a single translation unit.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/buf.h"
#include "daemon/err.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "providers/aws/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are ignored: the parsers' own caps are far
 * larger, and big inputs only slow the search down. */
#define FUZZ_MAX_INPUT ((size_t)256 * 1024)
#define FUZZ_MAX_PARTS 16

/* A harness often only cares that a call returns; the result of a
 * MUST_CHECK function is "used" by passing it here (a cast to void does
 * not silence gcc's warn_unused_result). */
static inline void
fuzz_ignore(int rc)
{
    (void)rc;
}

struct fuzz_parts {
    char *text;                   /* owned: the input, NULs kept, plus one NUL */
    const char *part[FUZZ_MAX_PARTS];
    size_t len[FUZZ_MAX_PARTS];
    size_t n;
};

/* Copies data into a NUL-terminated buffer and splits it at NUL bytes
 * (at most FUZZ_MAX_PARTS parts; the last part keeps any further NULs,
 * its len counting up to the end). Returns -1 on OOM. */
static inline int
fuzz_split(const uint8_t *data, size_t size, struct fuzz_parts *p)
{
    size_t i, start = 0;

    memset(p, 0, sizeof(*p));
    p->text = malloc(size + 1);
    if (p->text == NULL)
        return -1;
    if (size > 0)
        memcpy(p->text, data, size);
    p->text[size] = '\0';
    for (i = 0; i < size && p->n + 1 < FUZZ_MAX_PARTS; i++) {
        if (p->text[i] == '\0') {
            p->part[p->n] = p->text + start;
            p->len[p->n] = i - start;
            p->n++;
            start = i + 1;
        }
    }
    p->part[p->n] = p->text + start;
    p->len[p->n] = size - start;
    p->n++;
    return 0;
}

static inline void
fuzz_parts_free(struct fuzz_parts *p)
{
    free(p->text);
    p->text = NULL;
}

/* A NUL-terminated copy of data (the parsers under test take C strings
 * with a length; the copy gives ASan an exact-size allocation). */
static inline char *
fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        return NULL;
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

struct fuzz_aws_env {
    struct fuzz_parts parts;
    size_t next;                 /* next part to serve */
    long calls;
    struct creds_provider *creds;
    struct aws_client *client;
};

static inline int
fuzz_aws_send(void *ctx, const struct http_request *req, struct http_response *resp,
    struct err *err)
{
    struct fuzz_aws_env *e = ctx;
    size_t i;

    (void)req;
    e->calls++;
    if (e->next >= e->parts.n)
        return err_set(err, ERR_TRANSIENT, "fuzz transport: no more pages");
    i = e->next++;
    resp->status = 200;
    if (http_response_add_header(resp, "x-amzn-requestid", "fuzz-request", err) < 0)
        return -1;
    return buf_append(&resp->body, e->parts.part[i], e->parts.len[i], err);
}

static inline void
fuzz_aws_sleep(void *ctx, long ms)
{
    (void)ctx;
    (void)ms;
}

static inline time_t
fuzz_aws_now(void *ctx)
{
    (void)ctx;
    return 1704200000;
}

/* Sets up e for one input; returns -1 (nothing to free) on failure. */
static inline int
fuzz_aws_open(struct fuzz_aws_env *e, const uint8_t *data, size_t size)
{
    struct aws_client_options o;
    struct http_transport t;
    struct creds c;
    struct err err;
    char akid[] = "AKIDEXAMPLE";
    char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    memset(e, 0, sizeof(*e));
    if (fuzz_split(data, size, &e->parts) < 0)
        return -1;
    memset(&c, 0, sizeof(c));
    c.access_key_id = akid;
    c.secret_access_key = secret;
    if (creds_provider_static(&c, &e->creds, &err) < 0)
        goto fail;
    memset(&o, 0, sizeof(o));
    o.region = "us-east-1";
    o.account_id = "111111111111";
    o.creds = e->creds;
    o.max_attempts = 1;
    o.jitter_seed = 7;
    o.sleep_ms = fuzz_aws_sleep;
    o.now = fuzz_aws_now;
    o.clock_ctx = e;
    if (aws_client_new(&o, &e->client, &err) < 0)
        goto fail;
    t.send = fuzz_aws_send;
    t.ctx = e;
    aws_client_set_transport(e->client, &t);
    return 0;
fail:
    creds_provider_free(e->creds);
    fuzz_parts_free(&e->parts);
    return -1;
}

static inline void
fuzz_aws_close(struct fuzz_aws_env *e)
{
    aws_client_free(e->client);
    creds_provider_free(e->creds);
    fuzz_parts_free(&e->parts);
}
