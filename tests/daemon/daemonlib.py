"""Helpers shared by the daemon tests (test_daemon.py) and the soak test
(soak.py): the local AWS emulator, a systemd-style notification socket the
test listens on, and a running `driftsync daemon` with its own config,
state directory and clean environment."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(ROOT, "examples", "sample-org")
EMULATOR = os.path.join(ROOT, "tests", "emulator", "aws-emulator")

BASE_KEY = "AKIAIOSFODNN7EXAMPLE"
BASE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

ALL_ACCOUNTS = [("111111111111", None)] + [
    (a, "arn:aws:iam::%s:role/DriftSyncReadOnly" % a)
    for a in ("222222222222", "333333333333", "444444444444")]


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Emulator:
    def __init__(self, workdir, latency_ms=None):
        self.port_file = os.path.join(workdir, "emulator.port")
        args = [sys.executable, EMULATOR, "--data", SAMPLE, "--port-file", self.port_file]
        if latency_ms:
            args += ["--latency-ms", str(latency_ms)]
        self.logpath = os.path.join(workdir, "emulator.log")
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not read_text(self.port_file).strip():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("emulator did not start: " + read_text(self.logpath))
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%s" % read_text(self.port_file).strip()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class NotifySocket:
    """A datagram socket standing in for systemd's notification socket.
    abstract=True binds "@name" (the abstract namespace)."""

    def __init__(self, workdir, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "driftsync-test-%d-%d" % (os.getpid(), int(time.time() * 1000) % 1000000)
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(workdir, "notify.sock")
            self.sock.bind(self.address)
        self.messages = []  # every datagram received, in order, as text

    def poll(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(8192)
        except socket.timeout:
            return None
        msg = data.decode("utf-8", "replace")
        self.messages.append(msg)
        return msg

    def wait_for(self, pred, timeout, what):
        """Returns the first new message for which pred(msg) holds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = self.poll(deadline - time.time())
            if msg is not None and pred(msg):
                return msg
        raise AssertionError("no notification %s within %.0f s; got %r" %
                             (what, timeout, self.messages[-20:]))

    def close(self):
        self.sock.close()


def write_config(path, state, accounts=None, regions=("us-east-1", "eu-west-1"), extra=""):
    if accounts is None:
        accounts = ALL_ACCOUNTS
    lines = ["state_dir: %s" % state, "regions: [%s]" % ", ".join(regions),
             "interval: 1h", "concurrency: 4", "accounts:"]
    for acct, role in accounts:
        lines.append('  - id: "%s"' % acct)
        if role:
            lines.append("    role_arn: %s" % role)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    os.chmod(path, 0o600)


def clean_env(workdir, emulator):
    home = os.path.join(workdir, "home")
    os.makedirs(home, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "AWS_ACCESS_KEY_ID": BASE_KEY,
        "AWS_SECRET_ACCESS_KEY": BASE_SECRET,
        "AWS_ENDPOINT_URL": emulator.url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


class Daemon:
    """`driftsync --config CONFIG [--log-level L] daemon [ARGS]` in the
    background, stderr to a file."""

    def __init__(self, binary, workdir, config, env, notify=None, args=(), log_level=None,
                 wrapper=(), extra_env=None, name="daemon"):
        self.logpath = os.path.join(workdir, name + ".log")
        self.log = open(self.logpath, "w")
        env = dict(env)
        if notify is not None:
            env["NOTIFY_SOCKET"] = notify.address
        env.update(extra_env or {})
        cmd = list(wrapper) + [binary, "--config", config]
        if log_level:
            cmd += ["--log-level", log_level]
        cmd += ["daemon"] + list(args)
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        rc = self.proc.wait(timeout=timeout)
        self.log.close()
        return rc

    def output(self):
        with open(self.logpath) as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log.closed:
            self.log.close()


def runs(state):
    """[(id, status)] from the store, read directly with sqlite3."""
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(state, "driftsync.db"), uri=True)
    try:
        return db.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    finally:
        db.close()


def integrity(state):
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(state, "driftsync.db"), uri=True)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def status_run(msg):
    """The run number in a 'STATUS=run N STATUS at ...' message, else None."""
    if not msg.startswith("STATUS=run "):
        return None
    parts = msg[len("STATUS=run "):].split(" ")
    return (int(parts[0]), parts[1]) if parts and parts[0].isdigit() else None


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def dump(obj):
    return json.dumps(obj, indent=1, sort_keys=True)
