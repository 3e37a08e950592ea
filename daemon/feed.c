/*
 * feed.c: the run's feed files (see feed.h). Only POSIX file calls; the
 * JSON is rendered into memory first (jsonw), so a failure never leaves
 * a partial line or file behind (the temp file is removed).
 */
#include "daemon/feed.h"
#include "daemon/jsonw.h"
#include "daemon/testhook.h"
#include "daemon/util.h"

#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

static int
io_fail(struct err *err, const char *what, const char *path)
{
    return err_set(err, ERR_TRANSIENT, "feed: %s %s: %s", what, path, strerror(errno));
}

/* Appends with O_APPEND need a loop of their own; whole files go through
 * util_write_atomic. */
static int
write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        testhook_point("feed"); /* tests only: see daemon/testhook.h */

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
feed_write_atomic(const char *path, const void *data, size_t len, struct err *err)
{
    /* a failed feed write is retried by the next run: transient */
    static const struct util_atomic how = {.what = "feed file", .mode = 0640,
        .kind = ERR_TRANSIENT, .kill_point = "feed"};

    return util_write_atomic(path, data, len, &how, err);
}

/* A process killed mid-write leaves compliance.json.tmp.XXXXXX behind. Only
 * one run writes a state directory at a time (the instance lock), so any such
 * file found before a run writes is stale. (The webhook spool, which a
 * previous run's delivery thread may still be rewriting, is left alone.) */
static void
remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, FEED_STATUS_FILE ".tmp.", sizeof(FEED_STATUS_FILE ".tmp.") - 1) ==
            0)
            (void)unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

int
feed_dir(const char *state_dir, char **ret, struct err *err)
{
    char *dir = NULL;

    if (asprintf(&dir, "%s/%s", state_dir, FEED_DIR) < 0)
        return err_set(err, ERR_INTERNAL, "feed: out of memory");
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        io_fail(err, "creating", dir);
        free(dir);
        return -1;
    }
    remove_stale_temps(dir);
    *ret = dir;
    return 0;
}

int
feed_write_status(const char *feed_dir, const json_t *doc, struct err *err)
{
    char *path = NULL, *text = NULL;
    int rc = -1;

    /* jsonw: json_dumps's bytes, 6x faster on the feed's documents (it is
     * rewritten after every run, an unchanged one too) */
    text = jsonw_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text == NULL || asprintf(&path, "%s/%s", feed_dir, FEED_STATUS_FILE) < 0) {
        path = NULL;
        err_set(err, ERR_INTERNAL, "feed: out of memory");
        goto out;
    }
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (withnl == NULL) {
        err_set(err, ERR_INTERNAL, "feed: out of memory");
        goto out;
    }
    text = withnl;
    text[n] = '\n';
    text[n + 1] = '\0';
    rc = feed_write_atomic(path, text, n + 1, err);
out:
    free(text);
    free(path);
    return rc;
}

int
feed_append_events(const char *feed_dir, const json_t *events, long max_bytes, struct err *err)
{
    char *path = NULL, *rotated = NULL, *lines = NULL;
    size_t len = 0, cap = 0, i;
    const json_t *ev;
    struct stat sb;
    int fd = -1, rc = -1;

    if (!json_is_array(events))
        return err_set(err, ERR_INTERNAL, "feed: events is not an array");
    if (json_array_size(events) == 0)
        return 0;
    json_array_foreach(events, i, ev) {
        char *one = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
        size_t n = one != NULL ? strlen(one) : 0;

        if (one != NULL && len + n + 1 >= cap) {
            char *grown = realloc(lines, (len + n + 1) * 2);

            if (grown == NULL) {
                free(one);
                one = NULL;
            } else {
                lines = grown;
                cap = (len + n + 1) * 2;
            }
        }
        if (one == NULL) {
            err_set(err, ERR_INTERNAL, "feed: out of memory");
            goto out;
        }
        memcpy(lines + len, one, n);
        lines[len + n] = '\n';
        len += n + 1;
        free(one);
    }
    if (asprintf(&path, "%s/%s", feed_dir, FEED_EVENTS_FILE) < 0) {
        path = NULL;
        err_set(err, ERR_INTERNAL, "feed: out of memory");
        goto out;
    }
    if (max_bytes > 0 && stat(path, &sb) == 0 && sb.st_size > 0 &&
        (long long)sb.st_size + (long long)len > (long long)max_bytes) {
        if (asprintf(&rotated, "%s.1", path) < 0) {
            rotated = NULL;
            err_set(err, ERR_INTERNAL, "feed: out of memory");
            goto out;
        }
        if (rename(path, rotated) < 0) {
            io_fail(err, "rotating", path);
            goto out;
        }
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        io_fail(err, "opening", path);
        goto out;
    }
    if (write_all(fd, lines, len) < 0 || fsync(fd) < 0) {
        io_fail(err, "appending to", path);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(lines);
    free(path);
    free(rotated);
    return rc;
}
