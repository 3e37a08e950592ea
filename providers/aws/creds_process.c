/*
 * creds_process.c: credential_process, the shared-config hook that runs a
 * command and reads credentials from its standard output (JSON, "Version":
 * 1, AccessKeyId, SecretAccessKey, optional SessionToken and Expiration).
 *
 * The command runs as `/bin/sh -c CMD` through fork/execve (never
 * system(): we need both output streams, a timeout and no signal games).
 * The child gets its own process group so a timeout kills the whole
 * pipeline. stdout is capped at CREDS_PROCESS_OUT_MAX and wiped after use
 * (it holds the secret key); stderr is capped too and only its first line
 * goes into the error ("credential_process in profile 'ops' exited 3:
 * ..."). JSON errors give line and column but never jansson's "near '...'"
 * excerpt, which could quote a secret.
 */
#include "providers/aws/creds.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/buf.h"
#include "daemon/util.h"
#include "providers/aws/creds_int.h"

extern char **environ;

/* Reads what is available on fd into b; returns 1 at EOF, 0 for more, -1 when over the cap. */
static int
drain(int fd, struct buf *b, int *over)
{
    char chunk[4096];
    ssize_t n;

    n = read(fd, chunk, sizeof(chunk));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : 1;
    if (n == 0)
        return 1;
    if (!*over && buf_append(b, chunk, (size_t)n, NULL) < 0)
        *over = 1;
    explicit_bzero(chunk, sizeof(chunk));
    return 0;
}

static void
first_line(const struct buf *b, char *out, size_t outlen)
{
    const char *s = buf_str(b);
    size_t n;

    while (*s == '\n' || *s == '\r' || *s == ' ')
        s++;
    n = strcspn(s, "\r\n");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20)
            out[i] = ' ';
}

int
creds_process_run(const char *cmd, const char *what, long timeout_ms, time_t now,
    struct creds **ret, struct err *err)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    char *argv[] = {(char *)(uintptr_t) "sh", (char *)(uintptr_t) "-c", NULL, NULL};
    struct buf out, errb;
    int out_over = 0, err_over = 0, out_eof = 0, err_eof = 0, status = 0, rc = -1;
    int64_t deadline;
    pid_t pid = -1;
    char line[200];

    buf_init(&out, CREDS_PROCESS_OUT_MAX);
    buf_init(&errb, CREDS_PROCESS_ERR_MAX);
    if (cmd == NULL || cmd[0] == '\0')
        return err_set(err, ERR_CONFIG, "%s: empty command", what);
    if (timeout_ms <= 0)
        timeout_ms = CREDS_PROCESS_TIMEOUT_MS;
    argv[2] = (char *)(uintptr_t)cmd;
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        err_set(err, ERR_INTERNAL, "%s: pipe: %s", what, strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        err_set(err, ERR_INTERNAL, "%s: fork: %s", what, strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* child: async-signal-safe calls only */
        setpgid(0, 0);
        if (dup2(outp[1], STDOUT_FILENO) < 0 || dup2(errp[1], STDERR_FILENO) < 0)
            _exit(126);
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    /* also from the parent, so kill(-pid) works even before the child ran */
    (void)setpgid(pid, pid);
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;
    deadline = util_now_ms() + timeout_ms;
    while (!out_eof || !err_eof) {
        struct pollfd pfd[2];
        nfds_t nfd = 0;
        int64_t left = deadline - util_now_ms();
        int pr;

        if (left <= 0) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            pid = -1;
            err_set(err, ERR_AUTH, "%s timed out after %ld ms", what, timeout_ms);
            goto out;
        }
        if (!out_eof)
            pfd[nfd++] = (struct pollfd){.fd = outp[0], .events = POLLIN};
        if (!err_eof)
            pfd[nfd++] = (struct pollfd){.fd = errp[0], .events = POLLIN};
        pr = poll(pfd, nfd, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno != EINTR) {
            err_set(err, ERR_INTERNAL, "%s: poll: %s", what, strerror(errno));
            goto out;
        }
        for (nfds_t i = 0; pr > 0 && i < nfd; i++) {
            if (pfd[i].revents == 0)
                continue;
            if (pfd[i].fd == outp[0])
                out_eof = drain(outp[0], &out, &out_over);
            else
                err_eof = drain(errp[0], &errb, &err_over);
        }
        if (out_over) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            pid = -1;
            err_set(err, ERR_AUTH, "%s: output larger than %zu bytes", what,
                (size_t)CREDS_PROCESS_OUT_MAX);
            goto out;
        }
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            err_set(err, ERR_INTERNAL, "%s: waitpid: %s", what, strerror(errno));
            goto out;
        }
    }
    pid = -1;
    first_line(&errb, line, sizeof(line));
    if (WIFSIGNALED(status)) {
        err_set(err, ERR_AUTH, "%s killed by signal %d%s%s", what, WTERMSIG(status),
            line[0] ? ": " : "", line);
        goto out;
    }
    if (WEXITSTATUS(status) != 0) {
        err_set(err, ERR_AUTH, "%s exited %d%s%s", what, WEXITSTATUS(status),
            line[0] ? ": " : "", line[0] ? line : " (no message on stderr)");
        goto out;
    }
    rc = creds_process_parse(buf_str(&out), out.len, what, now, ret, err);
out:
    if (pid > 0) {
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    buf_clear_secure(&out);
    buf_clear(&errb);
    return rc;
}

static const char *
get_str(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int
creds_process_parse(const char *json, size_t len, const char *what, time_t now,
    struct creds **ret, struct err *err)
{
    json_error_t jerr;
    json_t *root, *ver;
    const char *akid, *secret, *token, *exp;
    time_t expiration = 0;
    int rc = -1;

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        /* jerr.text may end in "near '<token>'": keep only what precedes it */
        char *near = strstr(jerr.text, " near ");
        if (near != NULL)
            *near = '\0';
        err_set(err, ERR_AUTH, "%s: output is not valid JSON (line %d column %d: %s)", what,
            jerr.line, jerr.column, jerr.text);
        explicit_bzero(&jerr, sizeof(jerr));
        return -1;
    }
    if (!json_is_object(root)) {
        err_set(err, ERR_AUTH, "%s: output is not a JSON object", what);
        goto out;
    }
    ver = json_object_get(root, "Version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        err_set(err, ERR_AUTH, "%s: output must have \"Version\": 1", what);
        goto out;
    }
    akid = get_str(root, "AccessKeyId");
    secret = get_str(root, "SecretAccessKey");
    token = get_str(root, "SessionToken");
    exp = get_str(root, "Expiration");
    if (akid == NULL || akid[0] == '\0') {
        err_set(err, ERR_AUTH, "%s: output has no string \"AccessKeyId\"", what);
        goto out;
    }
    if (secret == NULL || secret[0] == '\0') {
        err_set(err, ERR_AUTH, "%s: output has no string \"SecretAccessKey\"", what);
        goto out;
    }
    if (json_object_get(root, "SessionToken") != NULL && token == NULL) {
        err_set(err, ERR_AUTH, "%s: \"SessionToken\" is not a string", what);
        goto out;
    }
    if (json_object_get(root, "Expiration") != NULL && !json_is_null(json_object_get(root,
                                                           "Expiration"))) {
        if (exp == NULL || util_time_parse(exp, &expiration) < 0) {
            err_set(err, ERR_AUTH, "%s: \"Expiration\" is not an RFC 3339 time", what);
            goto out;
        }
        if (expiration <= now) {
            char when[21];
            util_time_rfc3339(expiration, when);
            err_set(err, ERR_AUTH, "%s returned credentials that expired at %s", what, when);
            goto out;
        }
    }
    rc = creds_make(akid, secret, token, expiration, "credential_process", ret, err);
out:
    /* wipe the secret strings inside the parsed tree before it is freed */
    {
        static const char *const secrets[] = {"SecretAccessKey", "SessionToken"};
        for (size_t i = 0; i < 2; i++) {
            json_t *v = json_object_get(root, secrets[i]);
            if (json_is_string(v))
                explicit_bzero((void *)(uintptr_t)json_string_value(v), json_string_length(v));
        }
    }
    json_decref(root);
    return rc;
}

struct proc_src {
    char *cmd;
    char *what;
};

static int
proc_fetch(struct creds_provider *p, time_t now, struct creds **ret, struct err *err)
{
    struct proc_src *ps = p->impl;

    return creds_process_run(ps->cmd, ps->what, 0, now, ret, err);
}

static void
proc_destroy(struct creds_provider *p)
{
    struct proc_src *ps = p->impl;

    if (ps == NULL)
        return;
    free(ps->cmd);
    free(ps->what);
    free(ps);
}

static const struct creds_provider_ops proc_ops = {
    .name = "credential_process",
    .fetch = proc_fetch,
    .destroy = proc_destroy,
};

int
creds_provider_process(const struct creds_options *opts, const char *cmd, const char *what,
    struct creds_provider **ret, struct err *err)
{
    struct proc_src *ps;

    ps = calloc(1, sizeof(*ps));
    if (ps == NULL)
        return err_set(err, ERR_INTERNAL, "credential_process: out of memory");
    ps->cmd = strdup(cmd);
    ps->what = strdup(what);
    if (ps->cmd == NULL || ps->what == NULL) {
        free(ps->cmd);
        free(ps->what);
        free(ps);
        return err_set(err, ERR_INTERNAL, "credential_process: out of memory");
    }
    return creds_provider_new(&proc_ops, ps, "credential_process", opts, ret, err);
}
