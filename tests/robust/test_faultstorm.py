#!/usr/bin/env python3
"""Fault storms: runs against the emulator injecting 30 % faults of every
kind it can (5xx, throttling, connection resets, truncated and malformed
bodies, slow drips, expired-token errors; plus unprocessed BatchGet keys in
list mode) must each end in exactly the state a fault-free run produces, per
target, or with that target's failure recorded and named: its VPCs keep
their previous status (never turned green), carry the error, and the run
reports it. After the storm a fault-free run reaches the reference exactly
and the drift log verifies. Runs for discovery select and list.

usage: test_faultstorm.py DRIFTSYNC SHARED_DIR [SELECT_RUNS [LIST_RUNS]]  (default 50 12;
the long version: 50 50, about 10 minutes)
"""

import json
import re
import shutil
import unittest

import robustlib as rl

COUNTS = {"select": 50, "list": 12}
STORM = {"5xx": 0.05, "throttle": 0.05, "reset": 0.04, "truncate": 0.04, "malformed": 0.04,
         "drip": 0.04, "expired": 0.04, "drip_ms": 20,
         # the emulator's own rate limits would throttle on top of the storm
         "rates": {"ListDiscoveredResources": [500, 500], "BatchGetResourceConfig": [500, 500],
                   "SelectResourceConfig": [500, 500]}}
NAMED = re.compile(r"^(config|sts|securityhub) [A-Za-z]+[ :]")


def by_target(state):
    """logical_state split per account/region: {(a, r): {vpcs, drift}}."""
    out = {}
    for row in state["vpcs"]:
        out.setdefault(row[:2], {"vpcs": [], "drift": []})["vpcs"].append(row)
    for row in state["drift"]:
        out.setdefault(row[:2], {"vpcs": [], "drift": []})["drift"].append(row)
    return out


class FaultStormTest(unittest.TestCase):
    def storm(self, discovery, runs):
        work = rl.workdir("storm-" + discovery)
        emu = rl.Emulator(work)
        try:
            ds = rl.Driftsync(work, emu, discovery, max_attempts=8)
            db = rl.db_path(ds)
            ds.run("sync", "--once")
            ds.run("model", "create", "--all")
            ds.run("sync", "--once")
            rl.stage_drift(emu)
            saved = work + "/saved"
            rl.snapshot(ds.state, saved)
            ds.run("sync", "--once")
            ref = rl.logical_state(db)
            ref_t = by_target(ref)
            rl.snapshot(saved, ds.state)
            prev = by_target(rl.logical_state(db))
            spec = dict(STORM, seed=7)
            if discovery == "list":
                spec["unprocessed"] = 0.3
            emu.control("faults", spec)
            complete = partial = 0
            reached = set()
            for i in range(runs):
                p = ds.run("sync", "--once", "--json", check=False)
                ctx = "%s run %d" % (discovery, i)
                self.assertIn(p.returncode, (0, 1), ctx + "\n" + p.stdout + p.stderr)
                doc = json.loads(p.stdout)
                failed = {}
                for e in doc["errors"]:
                    if e["target"].endswith(" securityhub"):
                        self.assertRegex(e["error"], r"securityhub [A-Za-z]+", ctx)
                    else:
                        self.assertTrue(NAMED.match(e["error"]),
                                        ctx + ": error does not name the call: %r" % e)
                    self.assertIn(e["kind"], ("auth", "remote", "transient", "throttled",
                                              "network", "timeout"), ctx + repr(e))
                    if " " in e["target"]:  # "acct/region securityhub": not a VPC read
                        continue
                    a, _, r = e["target"].partition("/")
                    failed[(a, r)] = e["error"]
                self.assertGreaterEqual(doc["targets_failed"], len(failed), ctx)
                if failed:  # a failed VPC read is never reported as an ok run
                    self.assertIn(doc["status"], ("partial", "failed"), ctx)
                    self.assertEqual(p.returncode, 1, ctx)
                complete += not failed
                partial += bool(failed)
                self.assertEqual(rl.integrity(db), [("ok",)], ctx)
                now = by_target(rl.logical_state(db))
                for tgt in set(ref_t) | set(now):
                    got = now.get(tgt, {"vpcs": [], "drift": []})
                    if tgt not in failed:
                        self.assertEqual(got, ref_t.get(tgt), ctx + ": %s/%s differs from the "
                                         "fault-free run" % tgt)
                        reached.add(tgt)
                        continue
                    was = prev.get(tgt, {"vpcs": [], "drift": []})
                    # the failure is recorded on every VPC known for the target,
                    # whose status and drift stay what they were
                    self.assertEqual([v[:8] for v in got["vpcs"]], [v[:8] for v in was["vpcs"]],
                                     ctx + ": %s/%s changed although its read failed" % tgt)
                    self.assertEqual(got["drift"], was["drift"], ctx)
                    for v in got["vpcs"]:
                        self.assertTrue(v[8], ctx + ": %s has no error recorded" % (v[:3],))
                        self.assertIn(failed[tgt][:40], v[8], ctx)
                prev = now
            print("%s storm: %d runs, %d complete, %d with named failures; targets that "
                  "reached the reference: %d of %d" % (discovery, runs, complete, partial,
                                                        len(reached), len(ref_t)))
            self.assertTrue(reached, "no target ever synced through the storm")
            faults = emu.control("faults")["injected"]
            total = emu.control("stats")["total"]
            print("%s storm: %d requests, injected %s" % (discovery, total, rl.dumps(faults)))
            kinds = ["5xx", "throttle", "reset", "truncate", "malformed", "drip", "expired"]
            if discovery == "list":
                kinds.append("unprocessed")
            if total >= 400:  # >= 12 expected of each kind: all must have happened
                for k in kinds:
                    self.assertGreater(faults.get(k, 0), 0, "fault %s was never injected" % k)
            emu.control("faults", {})
            ds.run("sync", "--once")
            end = rl.logical_state(db)
            self.assertEqual(end["vpcs"], ref["vpcs"])
            self.assertEqual(sorted(end["drift"]), sorted(ref["drift"]))
            self.assertEqual(sorted(end["events"]), sorted(ref["events"]))
            self.assertIn("OK", ds.run("log", "verify").stdout)
        finally:
            emu.stop()
            shutil.rmtree(work, ignore_errors=True)

    def test_select(self):
        self.storm("select", COUNTS["select"])

    def test_list(self):
        self.storm("list", COUNTS["list"])


if __name__ == "__main__":
    _, _, counts = rl.main_args("test_faultstorm.py DRIFTSYNC SHARED_DIR [SELECT_RUNS [LIST_RUNS]]", 2)
    if counts:
        COUNTS["select"] = counts[0]
    if len(counts) > 1:
        COUNTS["list"] = counts[1]
    rl.run_unittest()
