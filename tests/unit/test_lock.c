/*
 * test_lock.c: the one-daemon-per-state-directory lock (daemon/lock.c):
 * a second holder is refused with a message naming the first one's pid and
 * the lock file, the lock is free again after release, the state directory
 * is created, and unusable directories give a clear error.
 */
#include "daemon/lock.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char tmpdir[] = "/tmp/test_lock.XXXXXX";

static void
test_exclusive(void)
{
    struct lock *a = NULL, *b = NULL, *c = NULL;
    struct err err = {0};
    char state[256], lockpath[300], want[64];
    struct stat st;
    FILE *f;

    snprintf(state, sizeof(state), "%s/new/state", tmpdir);
    CHECK_INT(lock_acquire(state, &a, &err), 0);
    CHECK(a != NULL);
    /* created, 0700 */
    CHECK_INT(stat(state, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0700);
    /* the pid is in the file */
    snprintf(lockpath, sizeof(lockpath), "%s/driftsync.lock", state);
    f = fopen(lockpath, "r");
    CHECK(f != NULL);
    if (f != NULL) {
        char line[64] = "";
        CHECK(fgets(line, sizeof(line), f) != NULL);
        snprintf(want, sizeof(want), "%ld\n", (long)getpid());
        CHECK_STR(line, want);
        fclose(f);
    }
    /* a second holder (another open file description) is refused */
    CHECK_INT(lock_acquire(state, &b, &err), -1);
    CHECK(b == NULL);
    CHECK_INT(err.kind, ERR_TRANSIENT);
    CHECK_CONTAINS(err.msg, "another driftsync process");
    snprintf(want, sizeof(want), "(pid %ld:", (long)getpid());
    CHECK_CONTAINS(err.msg, want);
    CHECK_CONTAINS(err.msg, "driftsync.lock");
    lock_release(a);
    /* free again */
    err_clear(&err);
    CHECK_INT(lock_acquire(state, &c, &err), 0);
    lock_release(c);
    lock_release(NULL);
}

static void
test_bad_dirs(void)
{
    struct lock *a = NULL;
    struct err err = {0};
    char path[256];
    FILE *f;

    /* a plain file where the directory should be */
    snprintf(path, sizeof(path), "%s/file", tmpdir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f != NULL)
        fclose(f);
    snprintf(path, sizeof(path), "%s/file/state", tmpdir);
    CHECK_INT(lock_acquire(path, &a, &err), -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "cannot create");
    CHECK_CONTAINS(err.msg, "/file");
    err_clear(&err);
    CHECK_INT(lock_acquire("", &a, &err), -1);
    CHECK_CONTAINS(err.msg, "state_dir '' is not a usable path");
    /* the lock file is a symlink: refused (O_NOFOLLOW) */
    snprintf(path, sizeof(path), "%s/sym", tmpdir);
    CHECK_INT(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/sym/driftsync.lock", tmpdir);
    CHECK_INT(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof(path), "%s/sym", tmpdir);
    err_clear(&err);
    CHECK_INT(lock_acquire(path, &a, &err), -1);
    CHECK_CONTAINS(err.msg, "cannot open lock file");
    CHECK(a == NULL);
}

int
main(int argc, char **argv)
{
    char cmd[300];

    (void)argc;
    (void)argv;
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_exclusive();
    test_bad_dirs();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    TEST_END();
}
