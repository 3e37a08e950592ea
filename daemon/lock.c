/*
 * lock.c: the per-state-directory instance lock (see lock.h). flock locks
 * belong to the open file description, so a second open of the same file in
 * the same process conflicts too, which is what the unit test relies on.
 * The fd is O_CLOEXEC so no child ever inherits (and prolongs) the lock.
 */
#include "daemon/lock.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/util.h"

struct lock {
    int fd;
};

int
lock_acquire(const char *state_dir, struct lock **ret, struct err *err)
{
    struct lock *lk = NULL;
    char path[4200], pidtxt[32];
    int fd = -1, n, rc = -1;

    if (util_mkdir_state(state_dir, err) < 0)
        return -1;
    n = snprintf(path, sizeof(path), "%s/%s", state_dir, LOCK_FILE_NAME);
    if (n < 0 || (size_t)n >= sizeof(path))
        return err_set(err, ERR_CONFIG, "state_dir '%.200s' is too long", state_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return err_set(err, ERR_CONFIG, "cannot open lock file '%s': %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            long long other = 0;
            ssize_t r = pread(fd, pidtxt, sizeof(pidtxt) - 1, 0);

            if (r > 0) {
                pidtxt[r] = '\0';
                other = strtoll(pidtxt, NULL, 10);
            }
            /* ERR_TRANSIENT: not a configuration problem; the caller exits 1 */
            if (other > 0)
                err_set(err, ERR_TRANSIENT,
                    "another driftsync process (pid %lld: a daemon or a sync) is running on state directory '%s' "
                    "(it holds %s)", other, state_dir, path);
            else
                err_set(err, ERR_TRANSIENT,
                    "another driftsync process is running on state directory '%s' (it holds %s)",
                    state_dir, path);
        } else {
            err_set(err, ERR_INTERNAL, "cannot lock '%s': %s", path, strerror(errno));
        }
        goto out;
    }
    n = snprintf(pidtxt, sizeof(pidtxt), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pidtxt, (size_t)n, 0) != n) {
        err_set(err, ERR_INTERNAL, "cannot write pid to '%s': %s", path, strerror(errno));
        goto out;
    }
    lk = calloc(1, sizeof(*lk));
    if (lk == NULL) {
        err_set(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    lk->fd = fd;
    fd = -1;
    *ret = lk;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

void
lock_release(struct lock *lk)
{
    if (lk == NULL)
        return;
    flock(lk->fd, LOCK_UN);
    close(lk->fd);
    free(lk);
}
