/*
 * notify.c: sd_notify(3) datagrams (see notify.h), after systemd's
 * man/notify-selfcontained-example.c. The socket is opened once with
 * SOCK_CLOEXEC and kept; each message is a single sendto(), so a message
 * is delivered whole or not at all.
 */
#include "daemon/notify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/util.h"

struct notify {
    int fd;
    struct sockaddr_un addr;
    socklen_t addrlen;
    char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1]; /* for messages */
};

int
notify_open(const char *address, struct notify **ret, struct err *err)
{
    struct notify *n = NULL;
    size_t len;

    if (address == NULL || address[0] == '\0') {
        *ret = NULL;
        return 0;
    }
    len = strlen(address);
    if (address[0] != '/' && address[0] != '@')
        return err_set(err, ERR_CONFIG,
            "NOTIFY_SOCKET '%.200s' is neither an absolute path nor an @abstract name", address);
    if (len >= sizeof(n->addr.sun_path) || (address[0] == '@' && len < 2))
        return err_set(err, ERR_CONFIG, "NOTIFY_SOCKET '%.200s' is not a usable socket name",
            address);
    n = calloc(1, sizeof(*n));
    if (n == NULL)
        return err_set(err, ERR_INTERNAL, "out of memory");
    n->addr.sun_family = AF_UNIX;
    memcpy(n->addr.sun_path, address, len);
    if (address[0] == '@')
        n->addr.sun_path[0] = '\0'; /* abstract namespace: no NUL terminator counted */
    n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                             (address[0] == '@' ? 0 : 1));
    memcpy(n->name, address, len + 1);
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (n->fd < 0) {
        err_set(err, ERR_INTERNAL, "NOTIFY_SOCKET '%s': socket: %s", n->name, strerror(errno));
        free(n);
        return -1;
    }
    *ret = n;
    return 0;
}

void
notify_close(struct notify *n)
{
    if (n == NULL)
        return;
    close(n->fd);
    free(n);
}

int
notify_send(struct notify *n, const char *msg, struct err *err)
{
    size_t len = strlen(msg);
    ssize_t r;

    if (n == NULL)
        return 0;
    do {
        r = sendto(n->fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&n->addr, n->addrlen);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return err_set(err, ERR_TRANSIENT, "NOTIFY_SOCKET '%s': send: %s", n->name,
            strerror(errno));
    if ((size_t)r != len)
        return err_set(err, ERR_TRANSIENT, "NOTIFY_SOCKET '%s': short send (%zd of %zu bytes)",
            n->name, r, len);
    return 0;
}

int
notify_status(struct notify *n, const char *text, struct err *err)
{
    char msg[sizeof("STATUS=") + NOTIFY_STATUS_MAX];
    size_t off = sizeof("STATUS=") - 1;

    if (n == NULL)
        return 0;
    memcpy(msg, "STATUS=", off);
    for (size_t i = 0; i < NOTIFY_STATUS_MAX && text[i] != '\0'; i++) {
        unsigned char c = (unsigned char)text[i];
        msg[off++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    msg[off] = '\0';
    return notify_send(n, msg, err);
}

int
notify_reloading(struct notify *n, struct err *err)
{
    struct timespec ts;
    char msg[80];

    if (n == NULL)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
        (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
    return notify_send(n, msg, err);
}

int
notify_watchdog_usec(const char *usec, const char *pid, pid_t self, uint64_t *ret_usec,
    struct err *err)
{
    long long v = 0, p = 0;

    if (usec == NULL || usec[0] == '\0') {
        *ret_usec = 0;
        return 0;
    }
    if (util_parse_ll(usec, 1, (long long)1 << 62, &v) < 0)
        return err_set(err, ERR_CONFIG, "WATCHDOG_USEC '%.40s' is not a positive number of us",
            usec);
    if (pid != NULL && pid[0] != '\0') {
        if (util_parse_ll(pid, 1, 0x7fffffff, &p) < 0)
            return err_set(err, ERR_CONFIG, "WATCHDOG_PID '%.40s' is not a process id", pid);
        if ((pid_t)p != self) {
            *ret_usec = 0;
            return 0;
        }
    }
    *ret_usec = (uint64_t)v;
    return 0;
}
