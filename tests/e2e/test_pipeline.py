#!/usr/bin/env python3
"""End-to-end test of the sync pipeline: the real driftsync binary against the
local AWS emulator serving the sample organisation (examples/sample-org).

Walks the scenario of the sync-pipeline issue:
  first sync -> every VPC yellow; model create --all -> green;
  staged drift (a resource added, one removed, one security-relevant attribute
  changed, a new VPC) -> exactly the expected red/yellow/green rows and drift
  entries; model sync -> green with the entries resolved (accepted);
  log verify passes, and fails after one byte of the log is altered.
The same scenario runs with discovery: select, discovery: list, and with 20%
injected faults (5xx, throttling, connection resets), and must end in the same
state. An account whose role cannot be assumed is reported, keeps its VPCs'
previous status, and the other accounts still sync.

usage: test_pipeline.py DRIFTSYNC_BINARY
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(ROOT, "examples", "sample-org")
EMULATOR = os.path.join(ROOT, "tests", "emulator", "aws-emulator")
BINARY = None

BASE_KEY = "AKIAIOSFODNN7EXAMPLE"
BASE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# Staged drift (see the sample organisation's README for what these are).
CHANGED = ("222222222222", "eu-west-1", "AWS::RDS::DBInstance")  # publiclyAccessible flipped
REMOVED = ("222222222222", "us-east-1", "AWS::EC2::Instance", "i-00bc2845b24e9bf37")
ADDED_IN = ("444444444444", "us-east-1", "i-0d3d028eb408dec20")  # a copy of this instance
NEW_VPC = ("333333333333", "eu-west-1", "vpc-0e2e0e2e0e2e0e2e0")


def load_items(account, region):
    path = os.path.join(SAMPLE, "accounts", account, region, "resources.ndjson")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Emulator:
    def __init__(self, workdir, faults=None):
        self.port_file = os.path.join(workdir, "port")
        args = [sys.executable, EMULATOR, "--data", SAMPLE, "--port-file", self.port_file]
        if faults:
            args += ["--faults", faults]
        self.log = open(os.path.join(workdir, "emulator.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not (os.path.exists(self.port_file) and open(self.port_file).read().strip()):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("emulator did not start: " +
                                   open(os.path.join(workdir, "emulator.log")).read())
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%s" % open(self.port_file).read().strip()

    def control(self, path, doc=None):
        data = json.dumps(doc).encode() if doc is not None else None
        req = urllib.request.Request(self.url + "/__emulator/" + path, data=data,
                                     method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Driftsync:
    """Runs the binary with a config of its own and a clean environment."""

    def __init__(self, workdir, emulator, discovery="select", max_attempts=3, accounts=None):
        self.workdir = workdir
        self.state = os.path.join(workdir, "state")
        self.config = os.path.join(workdir, "driftsync.yaml")
        if accounts is None:
            accounts = [("111111111111", None)] + [
                (a, "arn:aws:iam::%s:role/DriftSyncReadOnly" % a)
                for a in ("222222222222", "333333333333", "444444444444")]
        lines = ["state_dir: %s" % self.state, "regions: [us-east-1, eu-west-1]",
                 "discovery: %s" % discovery, "max_attempts: %d" % max_attempts,
                 "concurrency: 4", "accounts:"]
        for acct, role in accounts:
            lines.append('  - id: "%s"' % acct)
            if role:
                lines.append("    role_arn: %s" % role)
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.config, 0o600)
        home = os.path.join(workdir, "home")
        os.makedirs(home, exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "AWS_ACCESS_KEY_ID": BASE_KEY,
            "AWS_SECRET_ACCESS_KEY": BASE_SECRET,
            "AWS_ENDPOINT_URL": emulator.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_COLOR": "1",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                self.env[k] = os.environ[k]

    def run(self, *args, check=True):
        p = subprocess.run([BINARY, "--config", self.config] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=300)
        if check and p.returncode != 0:
            raise AssertionError("driftsync %s exited %d\nstdout:\n%s\nstderr:\n%s" %
                                 (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)

    def status_rows(self):
        doc = self.json("status")
        return {(v["account_id"], v["region"], v["vpc_id"]): v for v in doc["vpcs"]}, doc


def expected_vpcs():
    with open(os.path.join(SAMPLE, "expected.json")) as f:
        exp = json.load(f)
    out = set()
    for acct, regions in exp["accounts"].items():
        for region, d in regions.items():
            for vpc in d.get("vpcs", {}):
                out.add((acct, region, vpc))
    return out


def stage_drift(emu):
    """Adds, removes and changes resources through the emulator's control API.
    Returns what was staged, for the checks."""
    acct, region, rtype = CHANGED
    rds = [i for i in load_items(acct, region) if i["resourceType"] == rtype][0]
    rds = json.loads(json.dumps(rds))
    before = rds["configuration"]["publiclyAccessible"]
    rds["configuration"]["publiclyAccessible"] = not before
    acct2, region2, src_id = ADDED_IN
    inst = [i for i in load_items(acct2, region2) if i["resourceId"] == src_id][0]
    new = json.loads(json.dumps(inst).replace(src_id, "i-0e2e0e2e0e2e0e2e1"))
    new["tags"] = dict(new.get("tags", {}), Name="e2e-added")
    if isinstance(new["configuration"].get("tags"), list):
        new["configuration"]["tags"] = [t for t in new["configuration"]["tags"]
                                        if t.get("key") != "Name"] + [
            {"key": "Name", "value": "e2e-added"}]
    vacct, vregion, vpc_id = NEW_VPC
    vpc = {
        "version": "1.3", "accountId": vacct, "awsRegion": vregion,
        "configurationItemStatus": "ResourceDiscovered",
        "arn": "arn:aws:ec2:%s:%s:vpc/%s" % (vregion, vacct, vpc_id),
        "resourceType": "AWS::EC2::VPC", "resourceId": vpc_id, "resourceName": "e2e-new",
        "availabilityZone": "Multiple Availability Zones", "tags": {"Name": "e2e-new"},
        "relationships": [],
        "configuration": {"cidrBlock": "10.99.0.0/16", "vpcId": vpc_id, "state": "available",
                          "isDefault": False, "instanceTenancy": "default",
                          "tags": [{"key": "Name", "value": "e2e-new"}]},
        "supplementaryConfiguration": {},
    }
    emu.control("resources/put", {"items": [rds, new, vpc]})
    racct, rregion, rtype2, rid = REMOVED
    emu.control("resources/delete", {"keys": [{"accountId": racct, "awsRegion": rregion,
                                               "resourceType": rtype2, "resourceId": rid}]})
    return {
        "changed_vpc": (acct, region, rds["configuration"]["dBSubnetGroup"]["vpcId"]),
        "changed_id": rds["resourceId"],
        "removed_vpc": (racct, rregion, [i for i in load_items(racct, rregion)
                                         if i["resourceId"] == rid][0]["configuration"]["vpcId"]),
        "added_vpc": (acct2, region2, inst["configuration"]["vpcId"]),
        "new_vpc": NEW_VPC,
    }


def final_state(ds):
    """The part of the state that must not depend on discovery mode or faults."""
    rows, doc = ds.status_rows()
    drift = ds.json("drift", "--all")
    entries = sorted((d["account_id"], d["region"], d["vpc_id"], d["kind"],
                      d["resource_type"] or "", d["resource_id"] or "",
                      json.dumps(d["details"], sort_keys=True), d["resolved"] or "")
                     for d in drift)
    table = sorted((k, v["status"], v["only_in_model"], v["only_in_vpc"], v["changed"],
                    v["error"]) for k, v in rows.items())
    return {"summary": doc["summary"], "table": table, "drift": entries}


class Scenario:
    """The whole walk; returns the final state and checks each step on the way."""

    def __init__(self, tc, discovery="select", faults=None, max_attempts=3):
        self.tc = tc
        self.discovery = discovery
        self.faults = faults
        self.max_attempts = max_attempts

    def run(self):
        tc = self.tc
        work = tempfile.mkdtemp(prefix="driftsync-e2e-")
        emu = Emulator(work, self.faults)
        try:
            ds = Driftsync(work, emu, self.discovery, self.max_attempts)
            # 1. first sync: every VPC yellow
            p = ds.run("sync", "--once")
            rows, doc = ds.status_rows()
            tc.assertEqual(set(rows), expected_vpcs(), "VPCs after the first sync")
            tc.assertTrue(all(v["status"] == "yellow" for v in rows.values()),
                          [(k, v["status"]) for k, v in rows.items()])
            tc.assertEqual(doc["summary"]["models"], 0)
            tc.assertEqual(doc["summary"]["accounts"], 4)
            # 2. model create --all: green
            ds.run("model", "create", "--all")
            rows, doc = ds.status_rows()
            tc.assertTrue(all(v["status"] == "green" for v in rows.values()),
                          [(k, v["status"]) for k, v in rows.items() if v["status"] != "green"])
            tc.assertEqual(doc["summary"]["models"], len(rows))
            tc.assertEqual(doc["summary"]["out_of_sync"], 0)
            # a second sync with nothing changed keeps everything green, and
            # does no work it did before: no VPC diffed again, and in select
            # mode no item parsed or mapped again (every target reused)
            again = json.loads(ds.run("sync", "--once", "--json").stdout)
            if again["targets_failed"] == 0:
                tc.assertEqual(again["vpcs_unchanged"], again["vpcs"], again)
                if self.discovery == "select":
                    tc.assertEqual(again["targets_reused"], again["targets"], again)
                    tc.assertEqual(again["resources_cached"], again["resources"], again)
                else:
                    tc.assertEqual(again["targets_reused"], 0, again)
            rows, _ = ds.status_rows()
            tc.assertTrue(all(v["status"] == "green" for v in rows.values()),
                          [(k, v["status"]) for k, v in rows.items() if v["status"] != "green"])
            # 3. staged drift
            staged = stage_drift(emu)
            drifted = json.loads(ds.run("sync", "--once", "--json").stdout)
            if self.discovery == "select" and drifted["targets_failed"] == 0:
                # the changed targets are mapped again, the rest reused
                tc.assertLess(drifted["targets_reused"], drifted["targets"], drifted)
                tc.assertLess(drifted["resources_cached"], drifted["resources"], drifted)
                tc.assertGreater(drifted["resources_cached"], 0, drifted)
                tc.assertLess(drifted["vpcs_unchanged"], drifted["vpcs"], drifted)
            rows, doc = ds.status_rows()
            red = {staged["changed_vpc"], staged["removed_vpc"], staged["added_vpc"]}
            for k, v in rows.items():
                if k in red:
                    tc.assertEqual(v["status"], "red", k)
                elif k == staged["new_vpc"]:
                    tc.assertEqual(v["status"], "yellow", k)
                else:
                    tc.assertEqual(v["status"], "green", (k, v))
            tc.assertIn(staged["new_vpc"], rows)
            tc.assertEqual(doc["summary"]["out_of_sync"], 3)
            tc.assertGreaterEqual(rows[staged["changed_vpc"]]["changed"], 1)
            tc.assertGreaterEqual(rows[staged["removed_vpc"]]["only_in_model"], 1)
            tc.assertGreaterEqual(rows[staged["added_vpc"]]["only_in_vpc"], 1)
            drift = ds.json("drift")
            by = {}
            for d in drift:
                by.setdefault((d["account_id"], d["region"], d["vpc_id"]), []).append(d)
            tc.assertEqual(set(by), red, "VPCs with open drift")
            changed = [d for d in by[staged["changed_vpc"]] if d["kind"] == "changed"]
            tc.assertTrue(any("publicly" in json.dumps(d["details"]) for d in changed), changed)
            tc.assertTrue(any(d["kind"] == "only_in_model" and
                              d["resource_id"] == REMOVED[3]
                              for d in by[staged["removed_vpc"]]), by[staged["removed_vpc"]])
            tc.assertTrue(any(d["kind"] == "only_in_vpc" and
                              d["resource_id"] == "i-0e2e0e2e0e2e0e2e1"
                              for d in by[staged["added_vpc"]]), by[staged["added_vpc"]])
            for d in drift:
                tc.assertIsNone(d["resolved"])
                tc.assertTrue(d["first_seen"] and d["last_seen"])
            # the filters of `drift`
            only = ds.json("drift", "--kind", "changed")
            tc.assertTrue(only and all(d["kind"] == "changed" for d in only))
            one = ds.json("drift", "--vpc", staged["added_vpc"][2])
            tc.assertTrue(one and all(d["vpc_id"] == staged["added_vpc"][2] for d in one))
            # 4. model sync: accept the deployed state
            for k in sorted(red):
                ds.run("model", "sync", "/".join(k))
            rows, doc = ds.status_rows()
            for k, v in rows.items():
                tc.assertEqual(v["status"], "yellow" if k == staged["new_vpc"] else "green",
                               (k, v))
            tc.assertEqual(ds.json("drift"), [])
            resolved = ds.json("drift", "--all")
            tc.assertEqual(len(resolved), len(drift))
            tc.assertTrue(all(d["resolved"] == "accepted" for d in resolved), resolved)
            # 5. the log verifies...
            p = ds.run("log", "verify")
            tc.assertIn("OK", p.stdout)
            state = final_state(ds)
            # ... and not after one byte is altered
            self.tamper(os.path.join(ds.state, "driftsync.db"))
            p = ds.run("log", "verify", check=False)
            tc.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            tc.assertIn("BROKEN", p.stdout)
            tc.assertIn("event", p.stdout)
            return state
        finally:
            emu.stop()
            shutil.rmtree(work, ignore_errors=True)

    @staticmethod
    def tamper(db):
        """What an attacker with the database file would do: flip one byte of a
        logged event, bypassing driftsync (and its append-only triggers)."""
        con = sqlite3.connect(db)
        try:
            triggers = con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='trigger' "
                "AND tbl_name='drift_events'").fetchall()
            for name, _ in triggers:
                con.execute('DROP TRIGGER "%s"' % name)
            cols = [r[1] for r in con.execute("PRAGMA table_info(drift_events)")]
            col = "entry" if "entry" in cols else [c for c in cols if c not in
                                                    ("seq", "hash", "prev_hash", "id")][0]
            seq_col = "seq" if "seq" in cols else "rowid"
            row = con.execute("SELECT %s, %s FROM drift_events ORDER BY %s LIMIT 1 OFFSET 1"
                              % (seq_col, col, seq_col)).fetchone()
            value = row[1]
            if isinstance(value, bytes):
                value = bytes([value[0] ^ 1]) + value[1:]
            else:
                value = str(value)
                i = value.find("i-")
                i = i if i >= 0 else len(value) // 2
                value = value[:i] + chr(ord(value[i]) ^ 1) + value[i + 1:]
            con.execute("UPDATE drift_events SET %s = ? WHERE %s = ?" % (col, seq_col),
                        (value, row[0]))
            for _, sql in triggers:
                con.execute(sql)
            con.commit()
        finally:
            con.close()


class PipelineTest(unittest.TestCase):
    states = {}

    def test_1_select(self):
        PipelineTest.states["select"] = Scenario(self, "select").run()

    def test_2_list(self):
        state = Scenario(self, "list").run()
        if "select" in PipelineTest.states:
            self.assertEqual(state["table"], PipelineTest.states["select"]["table"])
            self.assertEqual(state["summary"], PipelineTest.states["select"]["summary"])

    def test_3_faults(self):
        faults = "5xx=0.07,throttle=0.07,reset=0.06,seed=11"
        state = Scenario(self, "select", faults=faults, max_attempts=10).run()
        if "select" in PipelineTest.states:
            self.assertEqual(state, PipelineTest.states["select"])

    def test_4_role_cannot_be_assumed(self):
        work = tempfile.mkdtemp(prefix="driftsync-e2e-")
        emu = Emulator(work)
        try:
            ds = Driftsync(work, emu)
            ds.run("sync", "--once")
            ds.run("model", "create", "--all")
            before, _ = ds.status_rows()
            # the same accounts, but 333's role is one it does not trust us for
            bad = Driftsync(work, emu, accounts=[
                ("111111111111", None),
                ("222222222222", "arn:aws:iam::222222222222:role/DriftSyncReadOnly"),
                ("333333333333", "arn:aws:iam::333333333333:role/NoSuchRole"),
                ("444444444444", "arn:aws:iam::444444444444:role/DriftSyncReadOnly")])
            stage_drift(emu)
            p = bad.run("sync", "--once", check=False)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("333333333333", p.stdout)
            self.assertIn("AssumeRole", p.stdout + p.stderr)
            after, doc = bad.status_rows()
            for k, v in after.items():
                if k[0] == "333333333333" and k in before:
                    self.assertEqual(v["status"], before[k]["status"], k)
                    self.assertIsNotNone(v["error"], k)
                    self.assertIn("AssumeRole", v["error"])
                elif k[0] != "333333333333":
                    self.assertIsNone(v["error"], (k, v))
            # the other accounts did sync: their staged drift is visible
            self.assertTrue(any(v["status"] == "red" for k, v in after.items()
                                if k[0] == "222222222222"))
            run = json.loads(bad.run("sync", "--once", "--json", check=False).stdout)
            self.assertEqual(run["status"], "partial")
            self.assertEqual(run["targets_failed"], 2)
        finally:
            emu.stop()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_pipeline.py DRIFTSYNC_BINARY")
    BINARY = os.path.abspath(sys.argv.pop(1))
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed or result.testsRun == 0 else 0)
