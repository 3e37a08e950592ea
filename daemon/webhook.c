/*
 * webhook.c: signed, retried, spooled delivery (see webhook.h). The job
 * owns copies of everything it needs (URL, key, body, spool path), so a
 * detached thread never touches the caller's configuration. A process-wide
 * flag (with its mutex) keeps deliveries one at a time and serialises
 * spool rewrites between the caller and the thread.
 */
#include "daemon/webhook.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon/feed.h"
#include "daemon/util.h"
#include "providers/aws/http.h"

#define WEBHOOK_SECRET_MAX 4096

static pthread_mutex_t spool_lock = PTHREAD_MUTEX_INITIALIZER;
static int in_flight; /* under spool_lock */

struct webhook_job {
    pthread_t thread;
    char *url;
    unsigned char *key;
    size_t keylen;
    char *body;
    size_t body_len;
    size_t n_sent;     /* events in body: the first n_sent of the spool */
    char *spool_path;
    long total_ms;
    long first_backoff_ms;
    const struct http_transport *transport;
    /* result, written by the thread before it ends */
    int delivered;
    long last_status;
    struct err err;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished;
    int detached; /* the waiter gave up: the thread frees the job */
};

int
webhook_sign(const void *key, size_t keylen, const void *body, size_t len, char out[72],
    struct err *err)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (HMAC(EVP_sha256(), key, (int)keylen, body, len, mac, &maclen) == NULL || maclen != 32)
        return err_set(err, ERR_INTERNAL, "webhook: HMAC-SHA256 failed");
    snprintf(out, 8, "sha256=");
    util_hex(mac, maclen, out + 7);
    explicit_bzero(mac, sizeof(mac));
    return 0;
}

static int
load_key(const struct webhook_options *o, unsigned char **ret, size_t *ret_len, struct err *err)
{
    unsigned char *key = NULL;
    size_t n = 0;

    if (o->secret != NULL) {
        n = strlen(o->secret);
        key = malloc(n + 1);
        if (key == NULL)
            return err_set(err, ERR_INTERNAL, "webhook: out of memory");
        memcpy(key, o->secret, n);
    } else if (o->secret_file != NULL) {
        FILE *f = fopen(o->secret_file, "re");

        if (f == NULL)
            return err_set(err, ERR_CONFIG, "webhook: cannot read the secret file %s: %s",
                o->secret_file, strerror(errno));
        key = malloc(WEBHOOK_SECRET_MAX + 1);
        if (key == NULL) {
            fclose(f);
            return err_set(err, ERR_INTERNAL, "webhook: out of memory");
        }
        n = fread(key, 1, WEBHOOK_SECRET_MAX + 1, f);
        fclose(f);
        if (n > WEBHOOK_SECRET_MAX) {
            explicit_bzero(key, WEBHOOK_SECRET_MAX + 1);
            free(key);
            return err_set(err, ERR_CONFIG, "webhook: the secret file %s is larger than %d bytes",
                o->secret_file, WEBHOOK_SECRET_MAX);
        }
        if (n > 0 && key[n - 1] == '\n')
            n--;
        if (n > 0 && key[n - 1] == '\r')
            n--;
    } else {
        return err_set(err, ERR_CONFIG, "webhook: no secret configured for %s", o->url);
    }
    if (n == 0) {
        free(key);
        return err_set(err, ERR_CONFIG, "webhook: the secret is empty");
    }
    *ret = key;
    *ret_len = n;
    return 0;
}

/* Reads the spool (missing: empty) into a new array; unparsable lines are
 * dropped (they cannot be delivered anyway). */
static json_t *
read_spool(const char *path)
{
    json_t *arr = json_array();
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;

    if (f == NULL || arr == NULL) {
        if (f != NULL)
            fclose(f);
        return arr;
    }
    while (getline(&line, &cap, f) > 0) {
        json_t *ev = json_loads(line, 0, NULL);

        if (json_is_object(ev))
            json_array_append(arr, ev);
        json_decref(ev);
    }
    free(line);
    fclose(f);
    return arr;
}

static int
write_spool(const char *path, const json_t *events, struct err *err)
{
    char *text = NULL;
    size_t len = 0, cap = 0, i;
    const json_t *ev;
    int rc;

    if (json_array_size(events) == 0) {
        if (unlink(path) < 0 && errno != ENOENT)
            return err_set(err, ERR_TRANSIENT, "webhook: removing %s: %s", path, strerror(errno));
        return 0;
    }
    json_array_foreach(events, i, ev) {
        char *one = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
        size_t n = one != NULL ? strlen(one) : 0;

        if (one != NULL && len + n + 1 > cap) {
            char *grown = realloc(text, (len + n + 1) * 2);
            if (grown == NULL) {
                free(one);
                one = NULL;
            } else {
                text = grown;
                cap = (len + n + 1) * 2;
            }
        }
        if (one == NULL) {
            free(text);
            return err_set(err, ERR_INTERNAL, "webhook: out of memory");
        }
        /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): '\n' follows, NUL at the end */
        memcpy(text + len, one, n);
        text[len + n] = '\n';
        len += n + 1;
        free(one);
    }
    rc = feed_write_atomic(path, text, len, err);
    free(text);
    return rc;
}

static void
job_free(struct webhook_job *j)
{
    if (j == NULL)
        return;
    if (j->key != NULL) {
        explicit_bzero(j->key, j->keylen);
        free(j->key);
    }
    free(j->url);
    free(j->body);
    free(j->spool_path);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    free(j);
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int
post_once(struct webhook_job *j, struct http_client *c, const char *sig, long timeout_ms,
    struct err *err)
{
    char ct_name[] = "Content-Type", ct_value[] = "application/json";
    char sig_name[] = WEBHOOK_SIG_HEADER, sig_value[72];
    struct http_header hdrs[2] = {
        {.name = ct_name, .value = ct_value},
        {.name = sig_name, .value = sig_value},
    };
    struct http_request req = {
        .method = "POST", .url = j->url, .headers = hdrs, .nheaders = 2,
        .body = j->body, .body_len = j->body_len, .timeout_ms = timeout_ms,
    };
    struct http_response resp;
    int rc = -1;

    snprintf(sig_value, sizeof(sig_value), "%s", sig);
    http_response_init(&resp, 64 * 1024);
    if (http_send(c, &req, &resp, err) < 0)
        goto out;
    j->last_status = resp.status;
    if (resp.status < 200 || resp.status > 299) {
        err_set(err, resp.status >= 500 || resp.status == 429 ? ERR_TRANSIENT : ERR_REMOTE,
            "webhook: HTTP %ld from the receiver", resp.status);
        goto out;
    }
    rc = 0;
out:
    http_response_clear(&resp);
    return rc;
}

static void *
deliver(void *arg)
{
    struct webhook_job *j = arg;
    struct http_client *c = NULL;
    struct http_options ho = {.timeout_ms = WEBHOOK_REQUEST_MS, .connect_timeout_ms = 3000};
    int64_t start = util_now_ms();
    long backoff = j->first_backoff_ms;
    char sig[72];
    int attempt = 0, detached;

    if (webhook_sign(j->key, j->keylen, j->body, j->body_len, sig, &j->err) < 0)
        goto done;
    explicit_bzero(j->key, j->keylen);
    if (http_client_new(&ho, &c, &j->err) < 0)
        goto done;
    if (j->transport != NULL)
        http_client_set_transport(c, j->transport);
    for (;;) {
        long left = j->total_ms - (long)(util_now_ms() - start);

        attempt++;
        if (post_once(j, c, sig, left < WEBHOOK_REQUEST_MS ? (left > 100 ? left : 100)
                                                           : WEBHOOK_REQUEST_MS,
                &j->err) == 0) {
            j->delivered = 1;
            break;
        }
        if (j->err.kind == ERR_REMOTE) /* a 4xx will not change by retrying */
            break;
        left = j->total_ms - (long)(util_now_ms() - start);
        if (left <= backoff)
            break;
        sleep_ms(backoff);
        backoff *= 2;
    }
    if (!j->delivered)
        err_prefix(&j->err, "after %d attempt%s", attempt, attempt == 1 ? "" : "s");
done:
    http_client_free(c);
    pthread_mutex_lock(&spool_lock);
    if (j->delivered) {
        /* the job carried the first n_sent spooled events; calls made while
         * it ran only appended after them */
        struct err ignored = {0};
        json_t *left = read_spool(j->spool_path);

        for (size_t k = 0; k < j->n_sent && json_array_size(left) > 0; k++)
            json_array_remove(left, 0);
        /* on failure the spool keeps delivered events: a receiver sees them twice */
        (void)write_spool(j->spool_path, left, &ignored);
        json_decref(left);
    }
    in_flight = 0;
    pthread_mutex_unlock(&spool_lock);
    pthread_mutex_lock(&j->lock);
    j->finished = 1;
    detached = j->detached;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (detached)
        job_free(j);
    return NULL;
}

int
webhook_start(const struct webhook_options *o, int64_t run_id, json_t *events,
    struct webhook_job **ret, struct err *err)
{
    struct webhook_job *j = NULL;
    json_t *pending = NULL, *body = NULL, *ev;
    size_t i;
    int locked = 0, rc = -1;

    *ret = NULL;
    if (o->url == NULL || !http_url_allowed(o->url))
        return err_set(err, ERR_CONFIG,
            "webhook: URL '%s' is not https (plain http only to loopback)",
            o->url ? o->url : "(none)");
    if (o->spool_path == NULL)
        return err_set(err, ERR_INTERNAL, "webhook: no spool path");
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        return err_set(err, ERR_INTERNAL, "webhook: out of memory");
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    j->total_ms = o->total_ms > 0 ? o->total_ms : WEBHOOK_TOTAL_MS;
    j->first_backoff_ms = o->first_backoff_ms > 0 ? o->first_backoff_ms : WEBHOOK_FIRST_BACKOFF_MS;
    j->transport = o->transport;
    if ((j->url = strdup(o->url)) == NULL || (j->spool_path = strdup(o->spool_path)) == NULL) {
        err_set(err, ERR_INTERNAL, "webhook: out of memory");
        goto out;
    }
    if (load_key(o, &j->key, &j->keylen, err) < 0)
        goto out;
    pthread_mutex_lock(&spool_lock);
    locked = 1;
    pending = read_spool(j->spool_path);
    if (pending == NULL) {
        err_set(err, ERR_INTERNAL, "webhook: out of memory");
        goto out;
    }
    json_array_foreach(events, i, ev)
        json_array_append(pending, ev);
    if (json_array_size(pending) > WEBHOOK_SPOOL_MAX) {
        size_t drop = json_array_size(pending) - WEBHOOK_SPOOL_MAX;
        for (i = 0; i < drop; i++)
            json_array_remove(pending, 0);
        err_set(err, ERR_TRANSIENT, "webhook: spool over %d events, dropped the %zu oldest",
            WEBHOOK_SPOOL_MAX, drop);
    }
    if (write_spool(j->spool_path, pending, err) < 0)
        goto out;
    if (json_array_size(pending) == 0 || in_flight) {
        rc = 0; /* nothing to send, or the running delivery's successor sends it */
        goto out;
    }
    body = json_pack("{s:s, s:I, s:O}", "source", "driftsync", "run", (json_int_t)run_id,
        "events", pending);
    j->body = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (j->body == NULL) {
        err_set(err, ERR_INTERNAL, "webhook: out of memory");
        goto out;
    }
    j->body_len = strlen(j->body);
    j->n_sent = json_array_size(pending);
    if (pthread_create(&j->thread, NULL, deliver, j) != 0) {
        err_set(err, ERR_INTERNAL, "webhook: cannot start the delivery thread");
        goto out;
    }
    in_flight = 1;
    *ret = j;
    j = NULL;
    rc = 0;
out:
    if (locked)
        pthread_mutex_unlock(&spool_lock);
    json_decref(pending);
    json_decref(body);
    job_free(j);
    return rc;
}

int
webhook_finish(struct webhook_job *j, long wait_ms, struct err *err)
{
    struct timespec until;
    pthread_t thread;
    int finished, delivered;

    if (j == NULL)
        return 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->lock);
    while (!j->finished && wait_ms > 0) {
        if (pthread_cond_timedwait(&j->cond, &j->lock, &until) == ETIMEDOUT)
            break;
    }
    finished = j->finished;
    thread = j->thread;
    if (!finished)
        j->detached = 1; /* from here on the thread owns (and frees) the job */
    pthread_mutex_unlock(&j->lock);
    if (!finished) {
        pthread_detach(thread);
        err_set(err, ERR_TRANSIENT,
            "webhook: delivery still running after %ld ms, continuing in the background "
            "(events stay spooled until delivered)",
            wait_ms);
        return 0;
    }
    pthread_join(j->thread, NULL);
    delivered = j->delivered;
    if (!delivered)
        *err = j->err;
    job_free(j);
    return delivered;
}
