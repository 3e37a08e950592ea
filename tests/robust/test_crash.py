#!/usr/bin/env python3
"""Crash consistency: `driftsync sync --once` killed with SIGKILL at many
points must leave a database and feed that are exactly the state before the
run or exactly the state of the same run completed, never a mix.

Setup: the sample organisation is synced, every VPC gets a model, drift is
staged in the emulator (so the next run changes statuses, drift entries and
the drift log), and the state directory is saved. The reference is that
saved state plus one complete run. Then RUNS times: restore the saved state,
start a run and kill it:
  - deterministically, through the product's test hook
    (DRIFTSYNC_TEST_KILL_AT=<point>:<n>, daemon/testhook.h): after the n-th
    HTTP exchange ("http"), between targets inside the transaction
    ("store-apply"), just before COMMIT ("commit"), mid-feed-write ("feed",
    only when the product writes a feed);
  - or after a random delay (seeded) while the emulator adds latency and
    jitter, so the kill lands anywhere.
After each kill: PRAGMA integrity_check is ok; the killed run is marked
aborted on the next start; `driftsync log verify` passes; the logical state
(VPC rows, models, drift entries, drift events, discovered models) equals the
saved one or the reference (and the saved one whenever the kill came before
COMMIT); each feed file is the old or the new document (valid JSON; compared
without timestamps and run ids); every
fifth time a complete run afterwards reaches exactly the reference.

usage: test_crash.py DRIFTSYNC SHARED_DIR [RUNS [SEED]]   (default 200 runs, seed 1)
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

import robustlib as rl

RUNS = 200
SEED = 1


TIMESTAMP = re.compile(rb'"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"|"(run_id|since_run|run)": *[0-9]+')


def untimed(data):
    """A feed file without its clocks and run ids (the kill runs and the
    reference run happen at different times)."""
    return None if data is None else TIMESTAMP.sub(b"T", data)


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.work = rl.workdir("crash")
        self.emu = rl.Emulator(self.work)
        self.ds = rl.Driftsync(self.work, self.emu)

    def tearDown(self):
        self.emu.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def start(self, env_extra=None):
        env = dict(self.ds.env)
        env.update(env_extra or {})
        return subprocess.Popen([rl.binary(), "--config", self.ds.config, "sync", "--once"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def test_kill_anywhere(self):
        ds, emu = self.ds, self.emu
        ds.run("sync", "--once")
        ds.run("model", "create", "--all")
        ds.run("sync", "--once")
        rl.stage_drift(emu)
        saved = os.path.join(self.work, "saved-state")
        rl.snapshot(ds.state, saved)
        db = rl.db_path(ds)
        before = rl.logical_state(db)
        feed_before = rl.read_feed(ds.state)

        # the reference: the same run, complete; and how many HTTP exchanges it makes
        total0 = emu.control("stats")["total"]
        ds.run("sync", "--once")
        exchanges = emu.control("stats")["total"] - total0
        after = rl.logical_state(db)
        feed_after = rl.read_feed(ds.state)
        self.assertNotEqual(before, after, "the staged drift must change the state")
        targets = len([1 for _ in rl.runs(db)]) and json.loads(
            ds.run("sync", "--once", "--json").stdout)["targets"]
        self.assertGreater(exchanges, 0)
        if feed_after is None:
            print("feed: STATE_DIR/feed does not exist after a complete run; "
                  "feed checks and the 'feed' kill point are SKIPPED")
        points = [("http", n) for n in range(1, exchanges + 1)]
        points += [("store-apply", n) for n in range(1, targets + 1)]
        points += [("commit", 1)]
        if feed_after is not None:
            points += [("feed", 1)]

        # the duration of a run with latency, for the random kills
        rl.snapshot(saved, ds.state)
        emu.control("faults", {"latency": 10, "jitter": 30, "seed": SEED})
        t0 = time.time()
        ds.run("sync", "--once")
        slow_run = time.time() - t0
        rng = random.Random(SEED)
        counts = {"killed": 0, "completed": 0, "old": 0, "new": 0}
        by_point = {}
        for i in range(RUNS):
            rl.snapshot(saved, ds.state)
            runs_before = rl.runs(db)
            deterministic = i % 2 == 0
            if deterministic:
                point, n = points[(i // 2) % len(points)]
                emu.control("faults", {})
                p = self.start({"DRIFTSYNC_TEST_KILL_AT": "%s:%d" % (point, n)})
                out, errout = p.communicate(timeout=120)
                what = "%s:%d" % (point, n)
                self.assertEqual(p.returncode, -signal.SIGKILL,
                                 "%s: the hook did not kill the run (exit %s)\n%s" %
                                 (what, p.returncode, errout.decode(errors="replace")))
            else:
                emu.control("faults", {"latency": 10, "jitter": 30, "seed": SEED + i})
                delay = rng.uniform(0, slow_run * 1.1)
                what = "after %.3f s" % delay
                point = "random"
                p = self.start()
                time.sleep(delay)
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                p.communicate(timeout=120)
            killed = p.returncode == -signal.SIGKILL
            counts["killed" if killed else "completed"] += 1
            by_point[point] = by_point.get(point, 0) + 1
            ctx = "run %d (%s)" % (i, what)

            self.assertEqual(rl.integrity(db), [("ok",)], ctx)
            mid = rl.runs(db)
            state = rl.logical_state(db)
            self.assertIn(state, (before, after), ctx + ": neither the old nor the new state")
            if deterministic and point in ("http", "store-apply", "commit"):
                self.assertEqual(state, before, ctx + ": a kill before COMMIT changed the state")
            counts["old" if state == before else "new"] += 1
            # (a run that completed before its kill may differ from the reference
            # run: the emulator's Security Hub rate limit throttles repeated runs)
            if feed_after is not None and killed:
                feed = rl.read_feed(ds.state)
                for name, data in (feed or {}).items():
                    if ".tmp" in name:  # a temp file the kill left; never read as the feed
                        continue
                    olds = (feed_before or {}).get(name)
                    self.assertIn(untimed(data), (untimed(olds), untimed(feed_after.get(name))),
                                  ctx + ": feed/%s is neither the old nor the new file" % name)
                    if name.endswith(".json"):
                        json.loads(data)
            v = ds.run("log", "verify", check=False)
            self.assertEqual(v.returncode, 0, ctx + ": log verify\n" + v.stdout + v.stderr)
            self.assertIn("OK", v.stdout, ctx)
            new_runs = [r for r in mid if r not in runs_before and r[0] not in
                        dict(runs_before)]
            for run_id, status in new_runs:
                if killed and status == "running":
                    final = dict(rl.runs(db))[run_id]
                    self.assertEqual(final, "aborted",
                                     ctx + ": run %d not marked aborted on the next start" % run_id)
            if i % 5 == 4:
                ds.run("sync", "--once")
                self.assertEqual(rl.integrity(db), [("ok",)], ctx + " then a complete run")
                self.assertEqual(rl.logical_state(db), after,
                                 ctx + ": a complete run after the kill did not reach the reference")
        print("crash runs: %d (%s), killed %d, completed before the kill %d; state old %d, new %d"
              % (RUNS, ", ".join("%s %d" % kv for kv in sorted(by_point.items())),
                 counts["killed"], counts["completed"], counts["old"], counts["new"]))
        self.assertGreaterEqual(counts["killed"], RUNS // 2)


if __name__ == "__main__":
    _, _, counts = rl.main_args("test_crash.py DRIFTSYNC SHARED_DIR [RUNS [SEED]]", 2)
    if counts:
        RUNS = counts[0]
    if len(counts) > 1:
        SEED = counts[1]
    rl.run_unittest()
