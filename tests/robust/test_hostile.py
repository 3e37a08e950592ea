#!/usr/bin/env python3
"""Hostile input: what AWS (or something pretending to be it) may send.

Through the emulator's control API, configuration items with terminal escape
sequences (CSI, OSC, bare ESC) and SQL metacharacters in names and tags, a
1 MiB string and NUL bytes: every run must end (exit 0 or 1, never a crash), the
database stays intact with its tables, names are stored verbatim (all SQL is
parameterised), and `status` / `drift` printed on a terminal (a pty) carry
no raw ESC byte. A target whose data cannot be read fails with a named error.

Against a malicious Config endpoint (hostile_server.py, via AWS_ENDPOINT_URL):
a repeated NextToken, invalid JSON, a truncated body, 10,000-deep nesting and
invalid UTF-8 (raw bytes, a lone surrogate
escape) and a 2 GiB body each stop with a clear error naming the operation, in bounded
time and memory (driftsync's max RSS, from wait4, under 200 MB).

usage: test_hostile.py DRIFTSYNC SHARED_DIR
"""

import copy
import os
import pty
import shutil
import sqlite3
import subprocess
import time
import unittest

import robustlib as rl
import hostile_server as hs

ESC_NAME = "evil\x1b[31mRED\x1b[0m\x1b]0;pwned\x07\x1b[2J\x9b1m"
SQL_NAME = "x'); DROP TABLE vpcs;-- \"q\" ; -- `"
HUGE = "A" * (1024 * 1024)


def on_tty(ds, *args):
    """Runs driftsync with stdout and stderr on a pty; returns the bytes."""
    master, slave = pty.openpty()
    env = dict(ds.env)
    # NO_COLOR stays: the product's own colours would be ESC bytes too
    env["TERM"] = "xterm"
    p = subprocess.Popen([rl.binary(), "--config", ds.config] + list(args), env=env,
                         stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    rc = p.wait(timeout=60)
    return rc, out


def vpc_item(account, region, vpc_id, name, tags=None):
    tags = dict(tags or {}, Name=name)
    return {
        "version": "1.3", "accountId": account, "awsRegion": region,
        "configurationItemStatus": "ResourceDiscovered",
        "arn": "arn:aws:ec2:%s:%s:vpc/%s" % (region, account, vpc_id),
        "resourceType": "AWS::EC2::VPC", "resourceId": vpc_id, "resourceName": name,
        "availabilityZone": "Multiple Availability Zones", "tags": tags,
        "relationships": [],
        "configuration": {"cidrBlock": "10.77.0.0/16", "vpcId": vpc_id, "state": "available",
                          "isDefault": False, "instanceTenancy": "default",
                          "tags": [{"key": k, "value": v} for k, v in tags.items()]},
        "supplementaryConfiguration": {},
    }


class HostileItemsTest(unittest.TestCase):
    def test_items(self):
        work = rl.workdir("hostile")
        emu = rl.Emulator(work)
        try:
            ds = rl.Driftsync(work, emu)
            ds.run("sync", "--once")
            ds.run("model", "create", "--all")
            a, r = "111111111111", "us-east-1"
            items = [
                vpc_item(a, r, "vpc-0e5c0e5c0e5c0e5c0", ESC_NAME, {"\x1b[1mk": "v\x1b]8;;x\x07"}),
                vpc_item(a, r, "vpc-05a105a105a105a10", SQL_NAME, {"'; DELETE FROM models;--": "`"}),
                vpc_item(a, r, "vpc-0b19b19b19b19b190", "big", {"huge": HUGE[:256]}),
            ]
            big = copy.deepcopy(items[2])
            big["configuration"]["description"] = HUGE
            items[2] = big
            # NUL bytes in a name and a tag: read (the strings are cut at the NUL
            # where C uses them), never costing the account and region
            nul = vpc_item("222222222222", "eu-west-1", "vpc-0a0a0a0a0a0a0a0a0", "nul\x00name",
                           {"nul": "a\x00b\x00"})
            items.append(nul)
            # (invalid UTF-8 cannot pass the emulator: see MaliciousServerTest.badutf8)
            emu.control("resources/put", {"items": items})
            p = ds.run("sync", "--once", "--json", check=False)
            self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
            doc = __import__("json").loads(p.stdout)
            self.assertEqual(doc["errors"], [], "no target fails over hostile items")
            db = rl.db_path(ds)
            self.assertEqual(rl.integrity(db), [("ok",)])
            con = sqlite3.connect(db)
            try:
                names = {row[0]: row[1] for row in con.execute(
                    "SELECT vpc_id, name FROM vpcs WHERE account_id = ?", (a,))}
                nmodels = con.execute("SELECT count(*) FROM models").fetchone()[0]
            finally:
                con.close()
            self.assertEqual(names.get("vpc-05a105a105a105a10"), SQL_NAME, "stored verbatim")
            self.assertEqual(names.get("vpc-0e5c0e5c0e5c0e5c0"), ESC_NAME, "stored verbatim")
            self.assertIn("vpc-0b19b19b19b19b190", names)
            self.assertEqual(nmodels, 8, "models untouched")
            rows, _ = ds.status_rows()
            self.assertIn((a, r, "vpc-05a105a105a105a10"), rows)
            self.assertIn(("222222222222", "eu-west-1", "vpc-0a0a0a0a0a0a0a0a0"), rows)
            # on a terminal: no raw ESC (or C1 CSI) byte reaches it
            for args in (("status",), ("drift", "--all"), ("status", "--vpc",
                                                           "vpc-0e5c0e5c0e5c0e5c0")):
                rc, out = on_tty(ds, *args)
                self.assertIn(rc, (0, 1, 2), (args, out[-500:]))
                self.assertNotIn(b"\x1b", out, "raw ESC on the terminal from %s: %r" %
                                 (args, out[:2000]))
                self.assertNotIn("\x9b".encode(), out, args)
            rc, out = on_tty(ds, "status")
            self.assertIn(b"vpc-0e5c0e5c0e5c0e5c0", out)
            # model create for the hostile VPCs and a second sync are fine too
            ds.run("model", "create", "--all")
            p = ds.run("sync", "--once", check=False)
            self.assertIn(p.returncode, (0, 1), p.stderr)
            self.assertIn("OK", ds.run("log", "verify").stdout)
            self.assertEqual(rl.integrity(db), [("ok",)])
        finally:
            emu.stop()
            shutil.rmtree(work, ignore_errors=True)


def rss_limit_mb():
    """200 MB; an ASan build keeps freed buffers in quarantine: 512 MB."""
    with open(rl.binary(), "rb") as f:
        return 512 if b"__asan_init" in f.read() else 200


class MaliciousServerTest(unittest.TestCase):
    EXPECT = {
        "repeat": "repeats an earlier NextToken",
        "invalid": "malformed answer",
        "truncated": "SelectResourceConfig",
        "deep": "maximum parsing depth",
        "huge": "byte limit",
        "hugechunk": "byte limit",
        "badutf8": "malformed answer",
        "surrogate": "malformed answer",
    }

    def check(self, mode, time_limit=60):
        srv = hs.Server(mode)
        work = rl.workdir("malicious-" + mode)
        try:
            class Endpoint:
                url = srv.url
            ds = rl.Driftsync(work, Endpoint, accounts=[("111111111111", None)])
            t0 = time.time()
            with open(os.path.join(work, "out"), "w+") as f:
                p = subprocess.Popen([rl.binary(), "--config", ds.config, "sync", "--once"],
                                     env=ds.env, stdout=f, stderr=subprocess.STDOUT)
                _, status, usage = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                f.seek(0)
                out = f.read()
            elapsed = time.time() - t0
            rss_mb = usage.ru_maxrss / 1024
            self.assertEqual(p.returncode, 1, out)
            self.assertIn("config SelectResourceConfig", out, mode)
            self.assertIn(self.EXPECT[mode], out, mode)
            self.assertIn("111111111111/us-east-1", out)
            self.assertLess(elapsed, time_limit, mode)
            self.assertLess(rss_mb, RSS_LIMIT_MB, "%s: max RSS %.0f MB" % (mode, rss_mb))
            print("%s: %.2f s, children max RSS %.0f MB, requests %s" %
                  (mode, elapsed, rss_mb, srv.counts))
            if mode in ("huge", "hugechunk"):
                self.assertLess(srv.huge_sent, 1024 ** 3, "read far past the cap")
        finally:
            srv.stop()
            shutil.rmtree(work, ignore_errors=True)

    def test_repeated_token(self):
        self.check("repeat")

    def test_invalid_json(self):
        self.check("invalid")

    def test_truncated_body(self):
        self.check("truncated")

    def test_deep_nesting(self):
        self.check("deep")

    def test_invalid_utf8(self):
        self.check("badutf8")

    def test_lone_surrogate(self):
        self.check("surrogate")

    def test_huge_body(self):
        self.check("huge")

    def test_huge_chunked_body(self):
        # no length announced: read up to the 64 MiB cap, then refused
        self.check("hugechunk")

    def test_endless_pagination(self):
        # a fresh NextToken on every page, with the same resource each time:
        # stopped on the second page, where the resource comes back
        self.EXPECT["endless"] = "again, which an earlier page already did"
        self.check("endless", time_limit=60)


if __name__ == "__main__":
    rl.main_args("test_hostile.py DRIFTSYNC SHARED_DIR")
    RSS_LIMIT_MB = rss_limit_mb()
    rl.run_unittest()
