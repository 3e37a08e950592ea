#!/usr/bin/env python3
"""Soak test: one `driftsync daemon` process does many runs against the
local AWS emulator (each started with SIGUSR1 as soon as the previous one
reported its STATUS), then stops with SIGTERM. Passes when every run
succeeded, the daemon exits 0, no leak is reported (run it on the Asan
build, where LeakSanitizer checks at exit, or with --valgrind), and, with
--max-rss-growth-kb, the resident size after the warm-up runs grew by at
most that much by the last run (memory stays flat).

usage: soak.py DRIFTSYNC_BINARY [--runs N] [--valgrind] [--max-rss-growth-kb K]
The suite runs a short version (see tests.cmake); the long one is e.g.
  tests/daemon/soak.py build/h10-asan/driftsync --runs 5000
  tests/daemon/soak.py build/h10/driftsync --runs 5000 --max-rss-growth-kb 4096
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib as dl  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--valgrind", action="store_true")
    ap.add_argument("--max-rss-growth-kb", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if args.runs < 2:
        sys.exit("soak: --runs must be at least 2")
    work = tempfile.mkdtemp(prefix="driftsync-soak-")
    emu = dl.Emulator(work)
    ok = False
    d = None
    try:
        state = os.path.join(work, "state")
        config = os.path.join(work, "driftsync.yaml")
        # one account read directly, one through AssumeRole: both credential paths
        dl.write_config(config, state, accounts=dl.ALL_ACCOUNTS[:2], regions=["us-east-1"],
                        extra="metrics_file: %s\n" % os.path.join(work, "driftsync.prom"))
        n = dl.NotifySocket(work)
        wrapper = ()
        timeout = 60
        if args.valgrind:
            wrapper = ("valgrind", "--quiet", "--leak-check=full",
                       "--show-leak-kinds=definite,indirect",
                       "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99")
            timeout = 300
        env = dl.clean_env(work, emu)
        d = dl.Daemon(args.binary, work, config, env, n, wrapper=wrapper, log_level="warn")
        warm = max(1, min(50, args.runs // 5))
        rss_warm = rss_end = 0
        t0 = time.time()
        for k in range(1, args.runs + 1):
            msg = n.wait_for(lambda m: dl.status_run(m) is not None, timeout, "run %d" % k)
            num, status = dl.status_run(msg)
            if num != k or status != "ok":
                raise AssertionError("run %d: %s" % (k, msg))
            # the runs table records every run, and never two at once
            if k == warm:
                rss_warm = dl.rss_kb(d.proc.pid)
            if k == args.runs:
                rss_end = dl.rss_kb(d.proc.pid)
                break
            d.signal(signal.SIGUSR1)
        elapsed = time.time() - t0
        d.signal(signal.SIGTERM)
        rc = d.wait(timeout)
        out = d.output()
        print("%d runs in %.1f s; RSS %d kB after run %d, %d kB after run %d; exit %d" %
              (args.runs, elapsed, rss_warm, warm, rss_end, args.runs, rc))
        if rc != 0 or "LeakSanitizer" in out or "definitely lost" in out:
            print(out[-20000:])
            raise AssertionError("daemon exited %d (leaks or errors above)" % rc)
        runs = dl.runs(state)
        if len(runs) != args.runs or any(s != "ok" for _, s in runs):
            raise AssertionError("runs table: %d rows, statuses %s" %
                                 (len(runs), sorted(set(s for _, s in runs))))
        if args.max_rss_growth_kb is not None and rss_end - rss_warm > args.max_rss_growth_kb:
            raise AssertionError("RSS grew by %d kB between run %d and run %d (limit %d kB)" %
                                 (rss_end - rss_warm, warm, args.runs, args.max_rss_growth_kb))
        ok = True
    finally:
        if d is not None:
            d.kill()
        emu.stop()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work directory kept: " + work)
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("soak failed: %s" % e)
        print("0 passed, 1 failed")
        sys.exit(1)
