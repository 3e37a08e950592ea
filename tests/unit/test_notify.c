/*
 * test_notify.c: the sd_notify datagram protocol (daemon/notify.c) against a
 * socket this test listens on, both a filesystem path and an abstract
 * "@name": READY, STATUS (control characters neutralised, length capped),
 * RELOADING with MONOTONIC_USEC, WATCHDOG_USEC/WATCHDOG_PID parsing, and the
 * failures: bad addresses, a socket nobody listens on.
 */
#include "daemon/notify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char tmpdir[] = "/tmp/test_notify.XXXXXX";

/* A listening datagram socket at name (path or "@abstract"); -1 on failure. */
static int
listen_at(const char *name)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    socklen_t alen;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || len >= sizeof(a.sun_path))
        return -1;
    memcpy(a.sun_path, name, len);
    alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (name[0] == '@')
        a.sun_path[0] = '\0';
    else
        alen++;
    if (bind(fd, (struct sockaddr *)&a, alen) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One datagram, NUL-terminated, or "" after 2 s. */
static void
recv_one(int fd, char *out, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n;

    out[0] = '\0';
    if (poll(&p, 1, 2000) != 1)
        return;
    n = recv(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
}

static void
exchange(const char *name)
{
    struct notify *n = NULL;
    struct err err = {0};
    char got[2048];
    int fd = listen_at(name);

    CHECK_MSG(fd >= 0, "cannot listen at %s", name);
    if (fd < 0)
        return;
    CHECK_INT(notify_open(name, &n, &err), 0);
    CHECK(n != NULL);
    CHECK_INT(notify_send(n, "READY=1", &err), 0);
    recv_one(fd, got, sizeof(got));
    CHECK_STR(got, "READY=1");
    CHECK_INT(notify_status(n, "run 3 ok\nFAKE=1\ttab", &err), 0);
    recv_one(fd, got, sizeof(got));
    CHECK_STR(got, "STATUS=run 3 ok FAKE=1 tab");
    /* capped at NOTIFY_STATUS_MAX */
    {
        char big[3000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        CHECK_INT(notify_status(n, big, &err), 0);
        recv_one(fd, got, sizeof(got));
        CHECK_INT(strlen(got), strlen("STATUS=") + NOTIFY_STATUS_MAX);
    }
    {
        struct timespec ts;
        unsigned long long before, us = 0;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        before = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
        CHECK_INT(notify_reloading(n, &err), 0);
        recv_one(fd, got, sizeof(got));
        CHECK(strncmp(got, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
        CHECK_INT(sscanf(got + 27, "%llu", &us), 1);
        CHECK(us >= before && us < before + 5000000ULL);
    }
    CHECK_INT(notify_send(n, "WATCHDOG=1", &err), 0);
    recv_one(fd, got, sizeof(got));
    CHECK_STR(got, "WATCHDOG=1");
    notify_close(n);
    close(fd);
}

static void
test_exchange(void)
{
    char path[200], abs_name[64];

    snprintf(path, sizeof(path), "%s/notify.sock", tmpdir);
    exchange(path);
    snprintf(abs_name, sizeof(abs_name), "@driftsync-test-notify-%ld", (long)getpid());
    exchange(abs_name);
}

static void
test_disabled(void)
{
    struct notify *n = (struct notify *)&n; /* must be overwritten with NULL */
    struct err err = {0};

    CHECK_INT(notify_open(NULL, &n, &err), 0);
    CHECK(n == NULL);
    n = (struct notify *)&n;
    CHECK_INT(notify_open("", &n, &err), 0);
    CHECK(n == NULL);
    /* every call is a no-op without a socket */
    CHECK_INT(notify_send(NULL, "READY=1", &err), 0);
    CHECK_INT(notify_status(NULL, "x", &err), 0);
    CHECK_INT(notify_reloading(NULL, &err), 0);
    notify_close(NULL);
}

static void
test_bad_addresses(void)
{
    struct notify *n = NULL;
    struct err err = {0};
    char longname[200];

    CHECK_INT(notify_open("relative/sock", &n, &err), -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "NOTIFY_SOCKET 'relative/sock' is neither an absolute path");
    err_clear(&err);
    CHECK_INT(notify_open("@", &n, &err), -1);
    CHECK_CONTAINS(err.msg, "not a usable socket name");
    err_clear(&err);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[0] = '/';
    longname[sizeof(longname) - 1] = '\0';
    CHECK_INT(notify_open(longname, &n, &err), -1);
    CHECK_CONTAINS(err.msg, "not a usable socket name");
    CHECK(n == NULL);
}

static void
test_nobody_listening(void)
{
    struct notify *n = NULL;
    struct err err = {0};
    char path[200];

    snprintf(path, sizeof(path), "%s/nobody.sock", tmpdir);
    CHECK_INT(notify_open(path, &n, &err), 0);
    CHECK_INT(notify_send(n, "READY=1", &err), -1);
    CHECK_INT(err.kind, ERR_TRANSIENT);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, "send:");
    notify_close(n);
}

static void
test_watchdog(void)
{
    struct err err = {0};
    uint64_t us = 99;

    CHECK_INT(notify_watchdog_usec(NULL, NULL, 100, &us, &err), 0);
    CHECK_INT(us, 0);
    CHECK_INT(notify_watchdog_usec("2000000", NULL, 100, &us, &err), 0);
    CHECK_INT(us, 2000000);
    CHECK_INT(notify_watchdog_usec("2000000", "100", 100, &us, &err), 0);
    CHECK_INT(us, 2000000);
    /* meant for another process */
    CHECK_INT(notify_watchdog_usec("2000000", "101", 100, &us, &err), 0);
    CHECK_INT(us, 0);
    us = 5;
    CHECK_INT(notify_watchdog_usec("2s", NULL, 100, &us, &err), -1);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_CONTAINS(err.msg, "WATCHDOG_USEC '2s'");
    CHECK_INT(us, 5); /* untouched on failure */
    err_clear(&err);
    CHECK_INT(notify_watchdog_usec("0", NULL, 100, &us, &err), -1);
    err_clear(&err);
    CHECK_INT(notify_watchdog_usec("1000", "abc", 100, &us, &err), -1);
    CHECK_CONTAINS(err.msg, "WATCHDOG_PID 'abc'");
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
    test_exchange();
    test_disabled();
    test_bad_addresses();
    test_nobody_listening();
    test_watchdog();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    TEST_END();
}
