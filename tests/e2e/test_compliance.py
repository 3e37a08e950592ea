#!/usr/bin/env python3
"""End-to-end test of compliance in the sync pipeline: the real driftsync
binary against the local AWS emulator serving the sample organisation.

The expected per-target, per-standard, per-control table is computed here
INDEPENDENTLY from examples/sample-org (findings.ndjson, securityhub.json,
securityhub-catalog.json) with the judging rule written afresh:
  a control disabled in the hub is DISABLED; else, over its ACTIVE findings
  whose workflow is not SUPPRESSED: any FAILED -> NON-COMPLIANT, else any
  WARNING -> WARNING, else any NOT_AVAILABLE -> NOT_AVAILABLE, else any
  finding at all (suppressed ones included) -> COMPLIANT, else NO_DATA;
  failed resources = Resources[].Id of the counted FAILED findings.
Legacy findings name standard and control in GeneratorId; consolidated ones
name their standards in Compliance.AssociatedStandards and the control
numbers in Compliance.RelatedRequirements (else through the catalogue's
SecurityControlId). Only the hub's enabled CIS standards count.

Scenario: first sync (full read) -> `compliance --json` per account equals
the table for every account x region, all three CIS versions, both finding
styles, suppressed, archived, WARNING and NOT_AVAILABLE cases; a legacy
finding flipped PASSED -> FAILED through the control API -> the next sync
writes exactly one line to events.ndjson (that control) and the table
follows; archiving it brings the control back (one more event); a sync with
nothing changed makes only the incremental GetFindings calls (one page per
pass per target with a hub); the webhook receiver on loopback gets POSTs
whose X-Driftsync-Signature is the HMAC-SHA256 of the body; with GetFindings
throttled past the retries the stored compliance is unchanged and the
targets are flagged with the error, and the next good sync clears it.

usage: test_compliance.py DRIFTSYNC_BINARY
"""

import glob
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_pipeline as tp  # noqa: E402  (Emulator, Driftsync helpers)

SAMPLE = tp.SAMPLE
SECRET = "e2e-webhook-secret"
FLIP = ("222222222222", "us-east-1")  # legacy hub: one finding = one standard


def cis_key(text):
    m = re.search(r"cis-aws-foundations-benchmark/v/(\d+)\.(\d+)\.\d+", text or "")
    return "cis-%s.%s" % (m.group(1), m.group(2)) if m else None


def load_catalogue():
    with open(os.path.join(SAMPLE, "securityhub-catalog.json")) as f:
        cat = json.load(f)
    out = {}
    for std in cat["standards"]:
        key = cis_key(std["StandardsArn"])
        if key is None:
            continue
        ctls = []
        for c in std["controls"]:
            cid = c["ControlId"]
            num = cid[4:] if cid.startswith("CIS.") else cid
            ctls.append({"num": num, "control_id": cid, "scid": c.get("SecurityControlId")})
        out[key] = ctls
    return out


def load_findings(acct, region):
    path = os.path.join(SAMPLE, "accounts", acct, region, "findings.ndjson")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def hub_of(acct, region):
    path = os.path.join(SAMPLE, "accounts", acct, region, "securityhub.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def targets():
    out = []
    for d in sorted(glob.glob(os.path.join(SAMPLE, "accounts", "*", "*"))):
        out.append((os.path.basename(os.path.dirname(d)), os.path.basename(d)))
    return out


def controls_of(f, enabled, catalogue):
    """[(standard, control number)] a finding speaks for."""
    gen = f.get("GeneratorId", "")
    comp = f.get("Compliance", {})
    if not gen.startswith("security-control/"):
        key = cis_key(gen)
        if key is None or key not in enabled:
            return []
        num = gen.rsplit("/rule/", 1)[1] if "/rule/" in gen else gen.rsplit("/", 1)[1]
        return [(key, num)]
    out = []
    scid = comp.get("SecurityControlId") or gen.split("/", 1)[1]
    for a in comp.get("AssociatedStandards", []):
        key = cis_key(a.get("StandardsId"))
        if key is None or key not in enabled:
            continue
        version = key[4:]
        nums = []
        for r in comp.get("RelatedRequirements", []):
            m = re.match(r"CIS AWS Foundations Benchmark v(\d+\.\d+)\.\d+/(.+)$", r)
            if m and m.group(1) == version:
                nums.append(m.group(2))
        if not nums:
            nums = [c["num"] for c in catalogue[key] if c["scid"] == scid]
        out += [(key, n) for n in nums]
    return out


def expected_table(overrides=None):
    """{(acct, region): {standard: {control: (status, sorted failed resources)}}}.
    overrides: {(acct, region): {finding Id: ASFF}} replacing/adding findings."""
    catalogue = load_catalogue()
    out = {}
    for acct, region in targets():
        hub = hub_of(acct, region)
        if hub is None:
            continue
        enabled = set()
        for sub in hub["standards_subscriptions"]:
            key = cis_key(sub["StandardsArn"])
            if key and sub["StandardsStatus"] in ("READY", "INCOMPLETE"):
                enabled.add(key)
        disabled = set(hub.get("disabled_controls", []))
        findings = {f["Id"]: f for f in load_findings(acct, region)}
        findings.update((overrides or {}).get((acct, region), {}))
        per = {}
        for key in enabled:
            per[key] = {}
            for c in catalogue[key]:
                # Consolidated hubs disable SecurityControlIds (EC2.21), in every
                # standard that uses the control; standard-specific hubs disable
                # ControlIds (CIS.1.14) or StandardsControlArns.
                if hub.get("consolidated_controls"):
                    off = c["scid"] in disabled
                else:
                    off = c["control_id"] in disabled or any(
                        d.endswith("/" + key_path(key) + "/" + c["num"]) for d in disabled)
                per[key][c["num"]] = {"disabled": off, "fs": []}
        for f in findings.values():
            if f.get("RecordState") != "ACTIVE":
                continue
            for key, num in controls_of(f, enabled, catalogue):
                per[key].setdefault(num, {"disabled": False, "fs": []})["fs"].append(f)
        table = {}
        for key, ctls in per.items():
            table[key] = {}
            for num, d in ctls.items():
                counted = [f for f in d["fs"]
                           if f.get("Workflow", {}).get("Status") != "SUPPRESSED"]
                sts = {f["Compliance"]["Status"] for f in counted}
                if d["disabled"]:
                    status = "DISABLED"
                elif "FAILED" in sts:
                    status = "NON-COMPLIANT"
                elif "WARNING" in sts:
                    status = "WARNING"
                elif "NOT_AVAILABLE" in sts:
                    status = "NOT_AVAILABLE"
                elif d["fs"]:
                    status = "COMPLIANT"
                else:
                    status = "NO_DATA"
                failed = sorted({r["Id"] for f in counted if f["Compliance"]["Status"] == "FAILED"
                                 for r in f.get("Resources", [])}) if status != "DISABLED" else None
                table[key][num] = (status, failed)
        out[(acct, region)] = table
    return out


def key_path(key):
    return "cis-aws-foundations-benchmark/v/%s.0" % key[4:]


def actual_table(ds):
    out = {}
    doc = ds.json("compliance")
    for std in doc["standards"]:
        for c in std["controls"]:
            for t in c["targets"]:
                tgt = (t["account_id"], t["region"])
                failed = sorted(t["failed_resources"]) if t["status"] != "DISABLED" else None
                out.setdefault(tgt, {}).setdefault(std["id"], {})[c["control_id"]] = (
                    t["status"], failed)
    return out, doc


class Receiver(http.server.BaseHTTPRequestHandler):
    posts = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.posts.append((dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class ComplianceE2E(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="driftsync-compliance-")
        cls.emu = tp.Emulator(cls.work)
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.ds = tp.Driftsync(cls.work, cls.emu, max_attempts=2)
        with open(cls.ds.config, "a") as f:
            f.write("compliance:\n  enabled: true\n  full_refresh: 1d\n"
                    "feed:\n  max_bytes: 1000000\n  webhook:\n"
                    "    url: http://127.0.0.1:%d/hook\n    secret: %s\n"
                    % (cls.server.server_address[1], SECRET))
        cls.events = os.path.join(cls.ds.state, "feed", "events.ndjson")

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.server.shutdown()
        if os.environ.get("KEEP_WORKDIR") is None:
            shutil.rmtree(cls.work, ignore_errors=True)

    def event_lines(self):
        if not os.path.exists(self.events):
            return []
        with open(self.events) as f:
            return [json.loads(line) for line in f if line.strip()]

    def sync(self, check=True):
        p = self.ds.run("sync", "--once", "--json", check=check)
        return json.loads(p.stdout)

    def assert_tables(self, expected):
        actual, _ = actual_table(self.ds)
        self.assertEqual(sorted(actual), sorted(expected))
        for tgt in expected:
            self.assertEqual(sorted(actual[tgt]), sorted(expected[tgt]), tgt)
            for std in expected[tgt]:
                for ctl, exp in expected[tgt][std].items():
                    self.assertEqual(actual[tgt][std].get(ctl), exp, (tgt, std, ctl))
                self.assertEqual(sorted(actual[tgt][std]), sorted(expected[tgt][std]),
                                 (tgt, std))

    def test_scenario(self):
        expected = expected_table()
        # the dataset really has the cases the issue names
        statuses = {s for t in expected.values() for c in t.values() for s, _ in c.values()}
        for s in ("COMPLIANT", "NON-COMPLIANT", "WARNING", "NOT_AVAILABLE", "NO_DATA",
                  "DISABLED"):
            self.assertIn(s, statuses)
        self.assertEqual({k for t in expected.values() for k in t},
                         {"cis-1.2", "cis-1.4", "cis-3.0"})
        all_f = [f for a, r in targets() for f in load_findings(a, r)]
        self.assertTrue(any(f.get("Workflow", {}).get("Status") == "SUPPRESSED" for f in all_f))
        self.assertTrue(any(f.get("RecordState") == "ARCHIVED" for f in all_f))

        # 1. first sync: full read, table matches
        rep = self.sync()
        self.assertEqual(rep["status"], "ok", rep["errors"])
        self.assert_tables(expected)
        _, doc = actual_table(self.ds)
        hubs = {(t["account_id"], t["region"]): t["hub"] for t in doc["targets"]}
        self.assertEqual(hubs[("333333333333", "eu-west-1")], "not_enabled")
        # per-account filter gives the same rows
        one = self.ds.json("compliance", "--account", "444444444444")
        accts = {t["account_id"] for s in one["standards"] for c in s["controls"]
                 for t in c["targets"]}
        self.assertEqual(accts, {"444444444444"})
        # a suppressed FAILED finding alone never makes a control fail
        sup = [(a, r, f) for a, r in targets() for f in load_findings(a, r)
               if f.get("Workflow", {}).get("Status") == "SUPPRESSED"
               and f["RecordState"] == "ACTIVE" and f["Compliance"]["Status"] == "FAILED"]
        self.assertTrue(sup)
        base_events = len(self.event_lines())
        self.assertGreater(base_events, 0)
        with open(os.path.join(self.ds.state, "feed", "compliance.json")) as f:
            feed = json.load(f)
        self.assertEqual(feed["standards"], doc["standards"])
        self.assertTrue(Receiver.posts, "webhook got nothing after the first run")
        for headers, body in Receiver.posts:
            sig = {k.lower(): v for k, v in headers.items()}["x-driftsync-signature"]
            self.assertEqual(sig, "sha256=" + hmac.new(SECRET.encode(), body,
                                                       hashlib.sha256).hexdigest())
        posted = sum(len(json.loads(b)["events"]) for _, b in Receiver.posts)
        self.assertEqual(posted, base_events)

        # 2. flip one legacy PASSED finding of a control with only passes
        acct, region = FLIP
        fs = load_findings(acct, region)
        by_ctl = {}
        for f in fs:
            if f["RecordState"] == "ACTIVE":
                by_ctl.setdefault(f["GeneratorId"], []).append(f)
        gen, group = next((g, grp) for g, grp in sorted(by_ctl.items())
                          if all(x["Compliance"]["Status"] == "PASSED" for x in grp))
        flipped = json.loads(json.dumps(group[0]))
        flipped["Compliance"]["Status"] = "FAILED"
        flipped["Workflow"] = {"Status": "NEW"}
        time.sleep(1.1)
        flipped["UpdatedAt"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        time.sleep(1.1)
        self.emu.control("findings/put", {"account": acct, "region": region,
                                          "findings": [flipped]})
        rep = self.sync()
        self.assertEqual(rep["status"], "ok", rep["errors"])
        new = self.event_lines()[base_events:]
        self.assertEqual(len(new), 1, new)
        key, num = cis_key(gen), gen.rsplit("/", 1)[1]
        self.assertEqual((new[0]["account_id"], new[0]["region"], new[0]["standard"],
                          new[0]["control"], new[0]["old"], new[0]["new"]),
                         (acct, region, key, num, "COMPLIANT", "NON-COMPLIANT"))
        self.assertEqual(new[0]["run"], rep["run_id"])
        overrides = {FLIP: {flipped["Id"]: flipped}}
        self.assert_tables(expected_table(overrides))

        # 3. archived since the last run: the merge drops it, the control recovers
        archived = json.loads(json.dumps(flipped))
        archived["RecordState"] = "ARCHIVED"
        time.sleep(1.1)
        archived["UpdatedAt"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        time.sleep(1.1)
        self.emu.control("findings/put", {"account": acct, "region": region,
                                          "findings": [archived]})
        self.sync()
        new = self.event_lines()[base_events + 1:]
        self.assertEqual(len(new), 1, new)
        self.assertEqual((new[0]["control"], new[0]["old"]), (num, "NON-COMPLIANT"))
        overrides = {FLIP: {archived["Id"]: archived}}
        self.assert_tables(expected_table(overrides))

        # 4. nothing changed: only the incremental pages, one pass per hub
        # whose finding style the earlier reads learnt (legacy or
        # consolidated), both passes where it is still unknown
        self.emu.control("stats", {})
        n_events = len(self.event_lines())
        db = sqlite3.connect(os.path.join(self.ds.state, "driftsync.db"))
        styles = dict(((a, r), s) for a, r, s in db.execute(
            "SELECT account_id, region, style FROM sh_targets WHERE hub = 'enabled'"))
        db.close()
        self.sync()
        stats = self.emu.control("stats")["requests"]["securityhub"]
        hubs = [(a, r) for a, r in targets() if (a, r) in expected and expected[(a, r)]]
        hubs_with_cis = len(hubs)
        self.assertGreater(sum(1 for h in hubs if styles.get(h)), 0, styles)
        self.assertEqual(sum(stats["GetFindings"].values()),
                         sum(1 if styles.get(h) else 2 for h in hubs), (stats, styles))
        self.assertEqual(len(self.event_lines()), n_events)
        self.assert_tables(expected_table(overrides))

        # 5. Security Hub failing past the retries: stored compliance unchanged, flagged
        before = self.ds.json("compliance")["standards"]
        self.emu.control("faults", {"throttle": 1.0, "ops": "GetFindings"})
        try:
            rep = self.sync(check=False)
        finally:
            self.emu.control("faults", {})
        self.assertTrue(any("securityhub" in e["target"] for e in rep["errors"]), rep)
        self.assertEqual(rep["status"], "partial", rep)  # and `sync` exits 1
        self.assertEqual(rep["compliance_failed"], hubs_with_cis, rep)
        after = self.ds.json("compliance")
        self.assertEqual(after["standards"], before)
        flagged = [t for t in after["targets"] if t["error"]]
        self.assertEqual(len(flagged), hubs_with_cis, after["targets"])
        rows, _ = self.ds.status_rows()
        self.assertTrue(all(v["error"] is None for v in rows.values()))  # Config part fine
        rep = self.sync()
        self.assertEqual(rep["status"], "ok", rep["errors"])
        self.assertFalse([t for t in self.ds.json("compliance")["targets"] if t["error"]])
        self.assert_tables(expected_table(overrides))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_compliance.py DRIFTSYNC_BINARY")
    tp.BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
