/*
 * util.c: see util.h. Nothing here logs; errors come back in struct err.
 */
#include "daemon/util.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/buf.h"
#include "daemon/testhook.h"

int
util_parse_ll(const char *s, long long min, long long max, long long *ret)
{
    char *end = NULL;
    long long v;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *ret = v;
    return 0;
}

void
util_time_rfc3339(time_t t, char out[21])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
util_time_amz(time_t t, char out[17])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int
util_time_parse(const char *s, time_t *ret)
{
    struct tm tm;
    const char *p;
    int off_sign = 0, off_h = 0, off_m = 0;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL)
        return -1;
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        /* exactly "+HH:MM": sscanf's %2d also takes one digit or a sign,
         * and stepping 6 bytes past a shorter offset read beyond the string
         * (fuzz_sh_findings found it) */
        off_sign = *p == '-' ? -1 : 1;
        for (int i = 1; i <= 5; i++) {
            if (i == 3 ? p[i] != ':' : (p[i] < '0' || p[i] > '9'))
                return -1;
        }
        off_h = (p[1] - '0') * 10 + (p[2] - '0');
        off_m = (p[4] - '0') * 10 + (p[5] - '0');
        if (off_h > 23 || off_m > 59)
            return -1;
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *ret = t - off_sign * (off_h * 3600 + off_m * 60);
    return 0;
}

int
util_read_file(const char *path, struct buf *b, struct err *err)
{
    char chunk[8192];
    ssize_t n;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, ERR_CONFIG, "cannot open '%s': %s", path, strerror(errno));
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err_set(err, ERR_CONFIG, "cannot read '%s': %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (buf_append(b, chunk, (size_t)n, err) < 0) {
            err_prefix(err, "'%s'", path);
            goto out;
        }
    }
    rc = 0;
out:
    explicit_bzero(chunk, sizeof(chunk));
    close(fd);
    return rc;
}

int
util_mkdir_state(const char *path, struct err *err)
{
    char tmp[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(tmp))
        return err_set(err, ERR_CONFIG, "state_dir '%.200s' is not a usable path", path);
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
            return err_set(err, ERR_CONFIG, "cannot create '%s': %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
        return err_set(err, ERR_CONFIG, "cannot create state_dir '%s': %s", tmp, strerror(errno));
    return 0;
}

static int
fsync_dir_of(const char *path)
{
    char *dir = strdup(path), *slash;
    int fd, rc = 0;

    if (dir == NULL)
        return -1;
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, strlen(dir) + 1, ".");
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        rc = -1;
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

static int
atomic_fail(const struct util_atomic *how, const char *path, const char *step, struct err *err)
{
    return err_set(err, how->kind, "cannot write %s '%s': %s (%s)", how->what, path,
        strerror(errno), step);
}

int
util_write_atomic(const char *path, const void *data, size_t len, const struct util_atomic *how,
    struct err *err)
{
    const char *p = data;
    char *tmp = NULL;
    int fd = -1, rc = -1;

    if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
        return err_set(err, ERR_INTERNAL, "%s: out of memory", how->what);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        atomic_fail(how, path, "creating a temporary file", err);
        goto out;
    }
    if (fchmod(fd, (mode_t)how->mode) < 0) {
        atomic_fail(how, path, "chmod", err);
        goto out;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (how->kill_point != NULL)
            testhook_point(how->kill_point);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            atomic_fail(how, path, "write", err);
            goto out;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) < 0) {
        atomic_fail(how, path, "fsync", err);
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        atomic_fail(how, path, "close", err);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        atomic_fail(how, path, "rename", err);
        goto out;
    }
    if (fsync_dir_of(path) < 0) {
        atomic_fail(how, path, "syncing its directory", err);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        (void)unlink(tmp);
    free(tmp);
    return rc;
}

char *
util_strdup(const char *s, struct err *err)
{
    char *p = strdup(s != NULL ? s : "");

    if (p == NULL)
        err_set(err, ERR_INTERNAL, "out of memory");
    return p;
}

void
util_free_secret(char *s)
{
    if (s == NULL)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

int64_t
util_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
util_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * n] = '\0';
}

size_t
util_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xc2 || c > 0xf4)
        return 0; /* continuation byte, overlong 2-byte lead, beyond U+10FFFF */
    if (c < 0xe0)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c < 0xf0) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* U+D800-DFFF */
        return 3;
    }
    if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
        return 0;
    if (c == 0xf0 && s[1] < 0x90)
        return 0; /* overlong */
    if (c == 0xf4 && s[1] >= 0x90)
        return 0; /* above U+10FFFF */
    return 4;
}
