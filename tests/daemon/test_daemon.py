#!/usr/bin/env python3
"""Drives the real `driftsync daemon` against the local AWS emulator, the
way systemd would: a NOTIFY_SOCKET the test listens on (READY, STATUS,
WATCHDOG, RELOADING with MONOTONIC_USEC, STOPPING), JOURNAL_STREAM log
priorities, SIGHUP with a good and a broken configuration, SIGUSR1, SIGTERM
during a run against a slow emulator (then a restart that finds the database
intact and the run recorded as aborted), SIGKILL during a run, a second
instance on the same state directory, and configuration files refused for
their permissions.

usage: test_daemon.py DRIFTSYNC_BINARY
"""

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402

BINARY = None
# generous bounds: the Asan build is several times slower
T = 60

PROM_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? '
                       r'-?[0-9.e+]+$')


def check_prometheus(tc, text):
    """Every line is a comment (# HELP/# TYPE) or a sample; every sample's
    family has a TYPE."""
    typed = set()
    tc.assertTrue(text.endswith("\n"))
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        tc.assertRegex(line, PROM_LINE)
        name = re.split(r"[{ ]", line)[0]
        base = re.sub(r"_(sum|count)$", "", name)
        tc.assertTrue(name in typed or base in typed, "no TYPE for " + line)


class Base(unittest.TestCase):
    latency_ms = None

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="driftsync-daemon-")
        cls.emu = dl.Emulator(cls.work, cls.latency_ms)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=self.work)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "driftsync.yaml")
        self.env = dl.clean_env(self.dir, self.emu)
        self.daemons = []
        self.sockets = []

    def tearDown(self):
        for d in self.daemons:
            d.kill()
        for s in self.sockets:
            s.close()

    def notify(self, abstract=False):
        s = dl.NotifySocket(self.dir, abstract)
        self.sockets.append(s)
        return s

    def start(self, notify=None, **kw):
        d = dl.Daemon(BINARY, self.dir, self.config, self.env, notify, **kw)
        self.daemons.append(d)
        return d

    def stop_ok(self, d, n=None, quiet=False):
        d.signal(signal.SIGTERM)
        if n is not None:
            n.wait_for(lambda m: m == "STOPPING=1", T, "STOPPING=1")
        rc = d.wait(T)
        self.assertEqual(rc, 0, d.output())
        if not quiet:
            self.assertIn("daemon stopped", d.output())
        self.assertNotIn(dl.BASE_SECRET, d.output())
        self.assertNotIn("ERROR: LeakSanitizer", d.output())

    def wait_run(self, n, number, status="ok"):
        msg = n.wait_for(lambda m: dl.status_run(m) is not None and
                         dl.status_run(m)[0] == number, T, "STATUS for run %d" % number)
        self.assertEqual(dl.status_run(msg)[1], status, msg)
        return msg


class TestNotify(Base):
    def test_ready_status_watchdog_metrics_journal(self):
        metrics = os.path.join(self.dir, "driftsync.prom")
        dl.write_config(self.config, self.state, extra="metrics_file: %s\n" % metrics)
        n = self.notify(abstract=True)
        d = self.start(n, extra_env={"WATCHDOG_USEC": "400000",
                                     "WATCHDOG_PID": "",
                                     "JOURNAL_STREAM": "8:12345"})
        first = n.wait_for(lambda m: True, T, "any")
        self.assertEqual(first, "READY=1", "READY must come first")
        msg = self.wait_run(n, 1)
        self.assertRegex(msg, r"^STATUS=run 1 ok at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: 8 targets "
                              r"\(0 failed\), \d+ resources, \d+ API calls, [\d.]+ s; "
                              r"next run in \d+ s$")
        # next run: 1h + up to 10 % jitter
        nxt = int(msg.rsplit("next run in ", 1)[1].split()[0])
        self.assertTrue(3500 <= nxt <= 3960, nxt)
        # WATCHDOG=1 every half of WATCHDOG_USEC (0.2 s): several within 2 s
        t0 = time.time()
        count = 0
        while time.time() - t0 < 2:
            m = n.poll(0.5)
            if m == "WATCHDOG=1":
                count += 1
        self.assertGreaterEqual(count, 4)
        self.assertLessEqual(count, 20)
        # metrics file: valid text format, the run counted
        with open(metrics) as f:
            text = f.read()
        check_prometheus(self, text)
        self.assertIn('driftsync_runs_total{status="ok"} 1\n', text)
        self.assertIn("driftsync_last_run_targets{state=\"ok\"} 8\n", text)
        self.assertRegex(text, r'driftsync_api_calls_total\{service="config",'
                               r'operation="SelectResourceConfig"\} \d+')
        self.assertRegex(text, r'driftsync_vpcs\{status="yellow"\} [1-9]')
        self.assertEqual(stat.S_IMODE(os.stat(metrics).st_mode), 0o644)
        self.stop_ok(d, n)
        # journal priorities: every line starts <N>
        lines = [ln for ln in d.output().splitlines() if ln.strip()]
        self.assertTrue(lines)
        for ln in lines:
            self.assertRegex(ln, r"^<[3467]>")
        self.assertTrue(any(ln.startswith("<6>daemon started") for ln in lines))

    def test_log_level_and_plain_lines(self):
        dl.write_config(self.config, self.state, accounts=[dl.ALL_ACCOUNTS[0]],
                        regions=["us-east-1"])
        n = self.notify()
        d = self.start(n, log_level="warn")
        n.wait_for(lambda m: m == "READY=1", T, "READY=1")
        self.wait_run(n, 1)
        self.stop_ok(d, n, quiet=True)
        # nothing below warn, and no "<N>" prefix outside the journal
        self.assertNotIn("info:", d.output())
        self.assertNotIn("daemon started", d.output())
        d2 = self.start(n, log_level="debug", name="debug")
        self.wait_run(n, 2)
        self.stop_ok(d2, n)
        self.assertIn("driftsync: info: daemon started", d2.output())
        self.assertIn("driftsync: debug:", d2.output())
        self.assertNotIn(dl.BASE_SECRET, d2.output())


class TestSignals(Base):
    def test_sigusr1_runs_now(self):
        dl.write_config(self.config, self.state)
        n = self.notify()
        d = self.start(n)
        self.wait_run(n, 1)
        d.signal(signal.SIGUSR1)
        self.wait_run(n, 2)
        d.signal(signal.SIGUSR1)
        self.wait_run(n, 3)
        self.assertEqual(dl.runs(self.state), [(1, "ok"), (2, "ok"), (3, "ok")])
        self.assertEqual(d.output().count("SIGUSR1: starting a run now"), 2)
        self.stop_ok(d, n)

    def test_sighup_good_and_broken(self):
        m1 = os.path.join(self.dir, "one.prom")
        m2 = os.path.join(self.dir, "two.prom")
        dl.write_config(self.config, self.state, extra="metrics_file: %s\n" % m1)
        n = self.notify()
        d = self.start(n)
        self.wait_run(n, 1)
        self.assertTrue(os.path.exists(m1))
        # a good new configuration: RELOADING=1 with MONOTONIC_USEC, READY=1
        dl.write_config(self.config, self.state, accounts=[dl.ALL_ACCOUNTS[0]],
                        regions=["us-east-1"], extra="metrics_file: %s\n" % m2)
        before = time.monotonic()
        d.signal(signal.SIGHUP)
        msg = n.wait_for(lambda m: m.startswith("RELOADING=1"), T, "RELOADING=1")
        mono = re.fullmatch(r"RELOADING=1\nMONOTONIC_USEC=(\d+)", msg)
        self.assertIsNotNone(mono, msg)
        usec = int(mono.group(1))
        self.assertTrue(before * 1e6 - 1e6 <= usec <= time.monotonic() * 1e6 + 1e6)
        n.wait_for(lambda m: m == "READY=1", T, "READY=1 after reload")
        n.wait_for(lambda m: m.startswith("STATUS=configuration reloaded"), T, "STATUS")
        d.signal(signal.SIGUSR1)
        msg = self.wait_run(n, 2)
        self.assertIn(": 1 targets", msg)  # the new configuration is in use
        self.assertTrue(os.path.exists(m2))
        self.assertIn("configuration '%s' reloaded" % self.config, d.output())
        # a broken one: rejected with its error logged, the old one kept
        with open(self.config, "a") as f:
            f.write("intervall: 5m\n")
        d.signal(signal.SIGHUP)
        n.wait_for(lambda m: m.startswith("RELOADING=1"), T, "RELOADING=1")
        n.wait_for(lambda m: m == "READY=1", T, "READY=1 after a failed reload")
        n.wait_for(lambda m: m.startswith("STATUS=configuration reload failed"), T, "STATUS")
        out = d.output()
        self.assertRegex(out, r"error: .*driftsync\.yaml:\d+:\d+: .*intervall")
        self.assertIn("keeping the current configuration", out)
        os.unlink(m2)
        d.signal(signal.SIGUSR1)
        msg = self.wait_run(n, 3)
        self.assertIn(": 1 targets", msg)
        self.assertTrue(os.path.exists(m2), "the kept configuration writes metrics")
        # an unsafe file (writable by others) is refused on reload as well
        dl.write_config(self.config, self.state)
        os.chmod(self.config, 0o666)
        d.signal(signal.SIGHUP)
        n.wait_for(lambda m: m.startswith("STATUS=configuration reload failed"), T, "STATUS")
        self.assertRegex(d.output(), r"writable by (group|others|other users)")
        # state_dir cannot change without a restart
        dl.write_config(self.config, os.path.join(self.dir, "other-state"))
        d.signal(signal.SIGHUP)
        n.wait_for(lambda m: m.startswith("STATUS=configuration reload failed"), T, "STATUS")
        self.assertIn("state_dir changed", d.output())
        self.assertEqual(d.proc.poll(), None, "still running")
        self.stop_ok(d, n)

    def test_second_instance_refused(self):
        dl.write_config(self.config, self.state)
        n = self.notify()
        d = self.start(n)
        n.wait_for(lambda m: m == "READY=1", T, "READY=1")
        p = subprocess.run([BINARY, "--config", self.config, "daemon"], env=self.env,
                           capture_output=True, text=True, timeout=T)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("another driftsync process (pid %d: a daemon or a sync) is running on state directory '%s'"
                      % (d.proc.pid, self.state), p.stderr)
        self.assertIn("driftsync.lock", p.stderr)
        self.stop_ok(d, n)
        # once the first has stopped, a new one starts
        d2 = self.start(n, name="again")
        n.wait_for(lambda m: m == "READY=1", T, "READY=1")
        self.stop_ok(d2, n)

    def test_config_refused_at_start(self):
        # writable by others
        dl.write_config(self.config, self.state)
        os.chmod(self.config, 0o646)
        p = subprocess.run([BINARY, "--config", self.config, "daemon"], env=self.env,
                           capture_output=True, text=True, timeout=T)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(self.config, p.stderr)
        # a file holding a webhook secret must not be readable by others
        dl.write_config(self.config, self.state, extra=(
            "feed:\n  webhook:\n    url: https://hooks.example.com/x\n"
            "    secret: not-a-real-key\n"))
        os.chmod(self.config, 0o644)
        p = subprocess.run([BINARY, "--config", self.config, "daemon"], env=self.env,
                           capture_output=True, text=True, timeout=T)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(self.config, p.stderr)
        self.assertNotIn("not-a-real-key", p.stderr)
        # invalid: every problem with its place, exit 78, no state created
        with open(self.config, "w") as f:
            f.write("state_dir: %s\nregions: [us-east-1]\ninterval: 1s\n" % self.state)
        os.chmod(self.config, 0o600)
        p = subprocess.run([BINARY, "--config", self.config, "daemon"], env=self.env,
                           capture_output=True, text=True, timeout=T)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertRegex(p.stderr, r"driftsync\.yaml:3:\d+: .*interval")
        self.assertFalse(os.path.exists(self.state))
        # usage errors
        p = subprocess.run([BINARY, "--config", self.config, "daemon", "--stop-timeout", "0"],
                           env=self.env, capture_output=True, text=True, timeout=T)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--stop-timeout '0'", p.stderr)


class TestSlowEmulator(Base):
    latency_ms = 1500

    def test_sigterm_during_run_then_restart(self):
        dl.write_config(self.config, self.state)
        n = self.notify()
        d = self.start(n, args=["--stop-timeout", "30"])
        n.wait_for(lambda m: m == "READY=1", T, "READY=1")
        n.wait_for(lambda m: m.startswith("STATUS=run in progress"), T, "run in progress")
        time.sleep(1.0)  # well inside the run: every call takes 1.5 s
        self.assertEqual(dl.runs(self.state), [(1, "running")])
        t0 = time.time()
        d.signal(signal.SIGTERM)
        n.wait_for(lambda m: m == "STOPPING=1", T, "STOPPING=1")
        rc = d.wait(T)
        took = time.time() - t0
        self.assertEqual(rc, 0, d.output())
        self.assertLess(took, 30, "the stop is bounded")
        self.assertIn("abandoning the run in flight", d.output())
        self.assertEqual(dl.runs(self.state), [(1, "aborted")])
        self.assertEqual(dl.integrity(self.state), "ok")
        # restart: the database opens, the aborted run stays aborted
        d2 = self.start(n, name="restart")
        n.wait_for(lambda m: m == "READY=1", T, "READY=1 after restart")
        self.assertEqual(dl.runs(self.state)[0], (1, "aborted"))
        p = subprocess.run([BINARY, "--config", self.config, "status", "--json"],
                           env=self.env, capture_output=True, text=True, timeout=T)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.stop_ok(d2, n)

    def test_sigkill_during_run_recorded_aborted_on_restart(self):
        dl.write_config(self.config, self.state, accounts=[dl.ALL_ACCOUNTS[1]])
        n = self.notify()
        d = self.start(n)
        n.wait_for(lambda m: m.startswith("STATUS=run in progress"), T, "run in progress")
        time.sleep(0.5)
        d.signal(signal.SIGKILL)
        d.wait(T)
        self.assertEqual(dl.runs(self.state), [(1, "running")])
        d2 = self.start(n, name="restart")
        n.wait_for(lambda m: m == "READY=1", T, "READY=1 after restart")
        self.assertEqual(dl.runs(self.state)[0], (1, "aborted"))
        self.assertEqual(dl.integrity(self.state), "ok")
        self.stop_ok(d2, n)

    def test_sigusr1_during_run_queues_one(self):
        dl.write_config(self.config, self.state, accounts=[dl.ALL_ACCOUNTS[0]],
                        regions=["us-east-1"])
        n = self.notify()
        d = self.start(n)
        n.wait_for(lambda m: m.startswith("STATUS=run in progress"), T, "run in progress")
        d.signal(signal.SIGUSR1)
        d.signal(signal.SIGUSR1)
        self.wait_run(n, 1)
        self.wait_run(n, 2)  # right after the first, never alongside it
        time.sleep(0.5)
        self.assertIn("SIGUSR1: a run is in flight", d.output())
        # no overlap: each run finished before the next began (ids ascending,
        # never two running at once)
        self.assertEqual([r[1] for r in dl.runs(self.state)][:2], ["ok", "ok"])
        self.stop_ok(d, n)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_daemon.py DRIFTSYNC_BINARY")
    BINARY = os.path.abspath(sys.argv.pop(1))
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed or result.testsRun == 0 else 0)
