/*
 * daemon.c: the resident loop (see daemon.h).
 *
 * Threads: the main thread owns the configuration, the store between runs,
 * the notify socket and the metrics; the worker thread owns the store and
 * reads the configuration only while a run is in flight, and tells the
 * main thread it is done through an eventfd. So the configuration is only
 * swapped when no run is in flight (a reload that arrives during a run is
 * parked in `pending` and applied when the run ends), and the store is
 * never used by two threads at once. Every signal the daemon handles is
 * blocked in all threads and read from a signalfd, so no handler code runs
 * at an arbitrary point and worker threads are never interrupted.
 */
#include "daemon/daemon.h"

#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "daemon/app.h"
#include "daemon/buf.h"
#include "daemon/lock.h"
#include "daemon/log.h"
#include "daemon/mem.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "daemon/sched.h"
#include "daemon/sync.h"
#include "daemon/util.h"
#include "mapping/map.h"
#include "store/compliance.h"
#include "store/store.h"

#define METRICS_MAX_BYTES ((size_t)4 * 1024 * 1024)

struct daemon {
    const char *config_path;
    int stop_timeout_s;
    struct cfg *cfg;
    struct map_rules *rules;
    struct cfg *pending_cfg;          /* a reload waiting for the run in flight */
    struct map_rules *pending_rules;
    struct store *store;
    struct lock *lock;
    struct notify *notify;
    struct metrics *metrics;
    struct sched sched;
    int sfd;                          /* signalfd */
    int efd;                          /* eventfd: the worker finished */
    /* the run in flight */
    int running;
    pthread_t worker;
    volatile int stop;                /* read by sync_run at its safe points */
    struct sync_env env;
    struct sync_report rep;
    struct err run_err;
    int run_rc;
    int64_t run_started_ms;
    /* the schedule */
    int64_t next_run_ms;
    int run_requested;                /* SIGUSR1 during a run */
    uint64_t watchdog_usec;
    int64_t next_watchdog_ms;
    char last_run[400];               /* summary of the last run, for STATUS= */
};

/* Logs a notify failure once per kind of message; never fatal. */
static void
send_notify(struct daemon *d, const char *msg)
{
    struct err err = {0};

    if (notify_send(d->notify, msg, &err) < 0)
        log_warnx("systemd notification '%.20s' failed: %s, ignoring", msg, err.msg);
}

static void
send_status(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
send_status(struct daemon *d, const char *fmt, ...)
{
    char text[NOTIFY_STATUS_MAX];
    struct err err = {0};
    va_list ap;

    if (d->notify == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (notify_status(d->notify, text, &err) < 0)
        log_warnx("systemd notification STATUS failed: %s, ignoring", err.msg);
}

/* Loads and checks a configuration and its mapping rules, logging every
 * problem (each configuration error on its own line). */
static int
load_config(const char *path, struct cfg **ret_cfg, struct map_rules **ret_rules,
    struct err *err)
{
    struct cfg_diag diag = {0};
    struct cfg *cfg = NULL;
    struct map_rules *rules = NULL;

    if (cfg_load(path, &cfg, &diag, err) < 0) {
        for (size_t i = 0; i < diag.n; i++)
            log_error("%s", diag.msgs[i]);
        cfg_diag_clear(&diag);
        return -1;
    }
    if (cfg_check_file_secrecy(path, cfg->holds_secrets, err) < 0 ||
        map_rules_load(cfg->mapping_path, &rules, err) < 0) {
        cfg_free(cfg);
        return -1;
    }
    *ret_cfg = cfg;
    *ret_rules = rules;
    return 0;
}

static void *
worker_main(void *arg)
{
    struct daemon *d = arg;
    uint64_t one = 1;

    d->run_rc = sync_run(&d->env, &d->rep, &d->run_err);
    /* the eventfd counter cannot overflow with one write per run */
    if (write(d->efd, &one, sizeof(one)) < 0)
        log_warn("run %lld: cannot wake the main loop", (long long)d->rep.run_id);
    return NULL;
}

static int
start_run(struct daemon *d)
{
    int e;

    err_clear(&d->run_err);
    memset(&d->rep, 0, sizeof(d->rep));
    d->env.cfg = d->cfg;
    d->env.rules = d->rules;
    d->env.store = d->store;
    d->env.stop = &d->stop;
    d->run_rc = -1;
    d->run_started_ms = util_now_ms();
    e = pthread_create(&d->worker, NULL, worker_main, d);
    if (e != 0) {
        errno = e;
        log_warn("cannot start a run thread, retrying in %ld s", d->cfg->interval_s);
        d->next_run_ms = d->run_started_ms + (int64_t)d->cfg->interval_s * 1000;
        return -1;
    }
    d->running = 1;
    send_status(d, "run in progress%s%s", d->last_run[0] ? "; last: " : "", d->last_run);
    return 0;
}

static void
apply_pending(struct daemon *d)
{
    if (d->pending_cfg == NULL)
        return;
    cfg_free(d->cfg);
    map_rules_free(d->rules);
    d->cfg = d->pending_cfg;
    d->rules = d->pending_rules;
    d->pending_cfg = NULL;
    d->pending_rules = NULL;
    log_info("configuration '%s' reloaded (interval %ld s)", d->config_path, d->cfg->interval_s);
}

static void
write_metrics(struct daemon *d, time_t finished_at)
{
    struct err err = {0};
    struct buf out;
    json_t *status = NULL;

    buf_init(&out, METRICS_MAX_BYTES);
    if (metrics_add_run(d->metrics, &d->rep, finished_at, &err) < 0) {
        log_warnx("metrics: %s, skipping this run", err.msg);
        err_clear(&err);
    }
    if (d->cfg->metrics_file == NULL)
        goto out;
    if (store_status(d->store, &status, &err) < 0 ||
        metrics_set_vpcs(d->metrics, status, &err) < 0) {
        log_warnx("metrics: VPC counts: %s, keeping the previous ones", err.msg);
        err_clear(&err);
    }
    if (d->cfg->compliance_enabled) {
        json_t *totals = NULL;
        long findings = -1;

        if (store_compliance_totals(d->store, &totals, &findings, &err) < 0 ||
            metrics_set_compliance(d->metrics, totals, findings, &err) < 0) {
            log_warnx("metrics: compliance counts: %s, keeping the previous ones", err.msg);
            err_clear(&err);
        }
        json_decref(totals);
    }
    if (metrics_render(d->metrics, &out, &err) < 0 ||
        metrics_write_file(d->cfg->metrics_file, buf_str(&out), out.len, &err) < 0) {
        log_warnx("metrics: %s, skipping", err.msg);
        goto out;
    }
    log_debug("metrics written to '%s' (%zu bytes)", d->cfg->metrics_file, out.len);
out:
    json_decref(status);
    buf_clear(&out);
}

/* The worker has signalled: join it, report, schedule the next run. */
static void
finish_run(struct daemon *d)
{
    int64_t now_ms;
    time_t now = time(NULL);
    char when[21];

    pthread_join(d->worker, NULL);
    d->running = 0;
    now_ms = util_now_ms();
    if (d->rep.status[0] == '\0')
        snprintf(d->rep.status, sizeof(d->rep.status), "failed");
    if (d->run_rc < 0)
        log_error("run %lld %s: %s", (long long)d->rep.run_id, d->rep.status, d->run_err.msg);
    log_info("run %lld %s: %ld target%s (%ld failed), %ld resources, %ld API calls "
             "(%ld throttled), %.1f s",
        (long long)d->rep.run_id, d->rep.status, d->rep.targets, d->rep.targets == 1 ? "" : "s",
        d->rep.targets_failed, d->rep.resources, d->rep.api_calls, d->rep.throttles,
        (double)d->rep.elapsed_ms / 1000.0);
    util_time_rfc3339(now, when);
    snprintf(d->last_run, sizeof(d->last_run),
        "run %lld %s at %s: %ld targets (%ld failed), %ld resources, %ld API calls, %.1f s",
        (long long)d->rep.run_id, d->rep.status, when, d->rep.targets, d->rep.targets_failed,
        d->rep.resources, d->rep.api_calls, (double)d->rep.elapsed_ms / 1000.0);
    write_metrics(d, now);
    sync_report_clear(&d->rep);
    /* a run frees tens of MB of JSON in small blocks that malloc keeps for
     * reuse, and SQLite keeps the pages it cached (the staging area's
     * included); hand both back so the idle daemon stays small between runs */
    store_release_memory(d->store);
    if (mem_release() < 0)
        log_warnx("the allocator (%s) refused to return free memory", mem_allocator());
    apply_pending(d);
    d->next_run_ms = sched_next_ms(&d->sched, d->cfg->interval_s, d->run_started_ms, now_ms);
    if (d->run_requested) {
        d->run_requested = 0;
        d->next_run_ms = now_ms;
    }
    send_status(d, "%s; next run in %lld s", d->last_run,
        (long long)((d->next_run_ms - now_ms + 999) / 1000));
}

static void
reload(struct daemon *d)
{
    struct cfg *cfg = NULL;
    struct map_rules *rules = NULL;
    struct err err = {0};
    char buf[64];

    {
        struct err nerr = {0};
        if (notify_reloading(d->notify, &nerr) < 0)
            log_warnx("systemd notification RELOADING failed: %s, ignoring", nerr.msg);
    }
    log_info("SIGHUP: reloading configuration '%s'", d->config_path);
    if (load_config(d->config_path, &cfg, &rules, &err) < 0) {
        log_error("reload: %s; keeping the current configuration", err.msg);
        goto done;
    }
    if (strcmp(cfg->state_dir, d->cfg->state_dir) != 0) {
        err_set(&err, ERR_CONFIG, "state_dir changed from '%s' to '%s', which needs a restart",
            d->cfg->state_dir, cfg->state_dir);
        log_error("reload: %s; keeping the current configuration", err.msg);
        cfg_free(cfg);
        map_rules_free(rules);
        goto done;
    }
    cfg_free(d->pending_cfg);
    map_rules_free(d->pending_rules);
    d->pending_cfg = cfg;
    d->pending_rules = rules;
    if (d->running) {
        log_info("reload: new configuration accepted; it applies when the run in flight ends");
    } else {
        long old_interval = d->cfg->interval_s;
        apply_pending(d);
        if (d->cfg->interval_s != old_interval && d->run_started_ms != 0) {
            int64_t now = util_now_ms();
            d->next_run_ms = sched_next_ms(&d->sched, d->cfg->interval_s, d->run_started_ms, now);
        }
    }
done:
    send_notify(d, "READY=1");
    snprintf(buf, sizeof(buf), "%s", err.kind == ERR_OK ? "configuration reloaded"
                                                         : "configuration reload failed");
    send_status(d, "%s%s%s", buf, d->last_run[0] ? "; last: " : "", d->last_run);
}

static void
watchdog_tick(struct daemon *d, int64_t now)
{
    if (d->watchdog_usec == 0 || now < d->next_watchdog_ms)
        return;
    send_notify(d, "WATCHDOG=1");
    d->next_watchdog_ms = now + (int64_t)(d->watchdog_usec / 2000);
}

/* Waits up to stop_timeout_s for the run in flight; 0 when it returned. */
static int
wait_for_run(struct daemon *d)
{
    int64_t deadline = util_now_ms() + (int64_t)d->stop_timeout_s * 1000;

    while (d->running) {
        struct pollfd pfd[2] = {{.fd = d->efd, .events = POLLIN}, {.fd = d->sfd, .events = POLLIN}};
        int64_t now = util_now_ms();
        int timeout;

        if (now >= deadline)
            return -1;
        timeout = sched_wait_ms(now, deadline, 1000);
        if (d->watchdog_usec != 0)
            timeout = sched_wait_ms(now, d->next_watchdog_ms < deadline ? d->next_watchdog_ms
                                                                         : deadline, timeout);
        if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
            log_warn("poll");
            return -1;
        }
        watchdog_tick(d, util_now_ms());
        if (pfd[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                log_info("signal %u while stopping, ignoring", si.ssi_signo);
        }
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            if (read(d->efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
                finish_run(d);
        }
    }
    return 0;
}

/* The loop proper; returns the exit code. */
static int
loop(struct daemon *d)
{
    for (;;) {
        struct pollfd pfd[2] = {{.fd = d->sfd, .events = POLLIN}, {.fd = d->efd, .events = POLLIN}};
        int64_t now = util_now_ms();
        int timeout = -1;

        if (!d->running && now >= d->next_run_ms)
            start_run(d);
        if (!d->running)
            timeout = sched_wait_ms(now, d->next_run_ms, -1);
        if (d->watchdog_usec != 0) {
            int w = sched_wait_ms(now, d->next_watchdog_ms, -1);
            timeout = timeout < 0 || w < timeout ? w : timeout;
        }
        if (poll(pfd, 2, timeout) < 0) {
            if (errno == EINTR)
                continue;
            log_warn("poll");
            return CLI_EXIT_FAILURE;
        }
        watchdog_tick(d, util_now_ms());
        if (pfd[1].revents & POLLIN) {
            uint64_t v;
            if (read(d->efd, &v, sizeof(v)) == (ssize_t)sizeof(v) && d->running)
                finish_run(d);
        }
        if (!(pfd[0].revents & POLLIN))
            continue;
        struct signalfd_siginfo si;
        if (read(d->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
            continue;
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT:
            send_notify(d, "STOPPING=1");
            if (!d->running) {
                log_info("%s: stopping", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                return CLI_EXIT_OK;
            }
            log_info("%s: stopping; abandoning the run in flight (waiting up to %d s)",
                si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT", d->stop_timeout_s);
            send_status(d, "stopping: abandoning the run in flight");
            d->stop = 1;
            if (wait_for_run(d) < 0) {
                log_error("the run in flight did not stop within %d s; exiting anyway "
                          "(the next start records it as aborted)",
                    d->stop_timeout_s);
                return -1; /* see daemon_main: the worker still uses the store */
            }
            return CLI_EXIT_OK;
        case SIGHUP:
            reload(d);
            break;
        case SIGUSR1:
            if (d->running) {
                d->run_requested = 1;
                log_info("SIGUSR1: a run is in flight; another starts when it ends");
            } else {
                log_info("SIGUSR1: starting a run now");
                d->next_run_ms = util_now_ms();
            }
            break;
        default:
            break;
        }
    }
}

static uint64_t
random_seed(void)
{
    uint64_t seed = 0;

    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)util_now_ms();
    return seed;
}

int
daemon_main(const struct cli_globals *g, const struct daemon_options *opts)
{
    struct daemon d = {.config_path = g->config_path, .sfd = -1, .efd = -1};
    struct err err = {0};
    sigset_t mask;
    char *db = NULL;
    int rc = CLI_EXIT_FAILURE;

    d.stop_timeout_s = opts->stop_timeout_s > 0 ? opts->stop_timeout_s : DAEMON_STOP_TIMEOUT_S;
    /* before any thread exists, so every thread inherits the mask */
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0) {
        log_error("cannot block signals");
        return CLI_EXIT_FAILURE;
    }
    signal(SIGPIPE, SIG_IGN);
    d.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    d.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d.sfd < 0 || d.efd < 0) {
        log_warn("cannot create the signal and event descriptors");
        goto out;
    }
    if (notify_open(getenv("NOTIFY_SOCKET"), &d.notify, &err) < 0) {
        log_warnx("%s; running without systemd notifications", err.msg);
        err_clear(&err);
    }
    if (notify_watchdog_usec(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid(),
            &d.watchdog_usec, &err) < 0) {
        log_warnx("%s; running without the watchdog", err.msg);
        err_clear(&err);
    }
    if (load_config(d.config_path, &d.cfg, &d.rules, &err) < 0) {
        log_error("%s", err.msg);
        rc = app_exit_code(&err);
        goto out;
    }
    if (lock_acquire(d.cfg->state_dir, &d.lock, &err) < 0) {
        log_error("%s", err.msg);
        rc = app_exit_code(&err);
        goto out;
    }
    db = app_db_path(d.cfg);
    if (db == NULL) {
        log_error("out of memory");
        goto out;
    }
    if (store_open(db, &d.store, &err) < 0) {
        log_error("%s", err.msg);
        rc = app_exit_code(&err);
        goto out;
    }
    if (metrics_new(&d.metrics, &err) < 0) {
        log_error("%s", err.msg);
        goto out;
    }
    sched_init(&d.sched, random_seed());
    log_info("daemon started: pid %ld, configuration '%s', state directory '%s', every %ld s%s",
        (long)getpid(), d.config_path, d.cfg->state_dir, d.cfg->interval_s,
        d.watchdog_usec ? ", watchdog on" : "");
    send_notify(&d, "READY=1");
    send_status(&d, "first run starting");
    d.next_run_ms = util_now_ms();
    d.next_watchdog_ms = d.next_run_ms;
    rc = loop(&d);
    if (rc < 0) {
        /* a run that did not stop still uses the store, the configuration
         * and the rules: leave them to the process exit */
        d.store = NULL;
        d.cfg = NULL;
        d.rules = NULL;
        d.lock = NULL; /* held until exit: the run may still write */
        d.efd = -1;    /* the worker still signals it */
        rc = CLI_EXIT_FAILURE;
    }
out:
    if (rc == CLI_EXIT_OK)
        log_info("daemon stopped");
    free(db);
    metrics_free(d.metrics);
    store_close(d.store);
    lock_release(d.lock);
    cfg_free(d.pending_cfg);
    map_rules_free(d.pending_rules);
    cfg_free(d.cfg);
    map_rules_free(d.rules);
    notify_close(d.notify);
    if (d.efd >= 0)
        close(d.efd);
    if (d.sfd >= 0)
        close(d.sfd);
    return rc;
}
