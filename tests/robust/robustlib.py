"""Shared helpers of the robustness tests (tests/robust/test_*.py).

Reuses the end-to-end helpers (Emulator, Driftsync, stage_drift, ...) of
tests/e2e/test_pipeline.py by importing that file as a module, and adds what
several robustness tests need: the logical state of a database (the part a
run may change, without timestamps), state-directory snapshots, and the
common command-line handling (binary, shared dir, counts).
"""

import json
import os
import shutil
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import test_pipeline as tp  # noqa: E402

Emulator = tp.Emulator
Driftsync = tp.Driftsync
stage_drift = tp.stage_drift
BASE_KEY = tp.BASE_KEY
BASE_SECRET = tp.BASE_SECRET


def set_binary(path):
    tp.BINARY = os.path.abspath(path)
    return tp.BINARY


def binary():
    return tp.BINARY


def db_path(ds):
    return os.path.join(ds.state, "driftsync.db")


def integrity(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()


def logical_state(db):
    """What a sync run changes, minus clocks and run ids: VPC rows, models,
    drift entries and the drift log's events. Two runs over the same data
    produce equal values."""
    con = sqlite3.connect(db)
    try:
        def rows(sql):
            return [tuple(r) for r in con.execute(sql).fetchall()]
        return {
            "vpcs": rows("SELECT account_id, region, vpc_id, name, status, only_in_model, "
                         "only_in_vpc, changed, error FROM vpcs ORDER BY 1, 2, 3"),
            "models": rows("SELECT account_id, region, vpc_id, model FROM models ORDER BY 1, 2, 3"),
            "drift": rows("SELECT account_id, region, vpc_id, entry_id, kind, resource_type, "
                          "resource_id, key, resolved FROM drift ORDER BY id"),
            "events": rows("SELECT event, account_id, region, vpc_id, entry_id FROM drift_events "
                           "ORDER BY seq"),
            "discovered": rows("SELECT account_id, region, vpc_id, model FROM discovered "
                               "ORDER BY 1, 2, 3"),
        }
    finally:
        con.close()


def runs(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    finally:
        con.close()


def snapshot(src, dst):
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def read_feed(state):
    """{file name: bytes} of STATE_DIR/feed, or None when there is no feed."""
    d = os.path.join(state, "feed")
    if not os.path.isdir(d):
        return None
    out = {}
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                out[name] = f.read()
    return out


def workdir(prefix):
    return tempfile.mkdtemp(prefix="driftsync-robust-%s-" % prefix)


def main_args(usage, ncounts=0):
    """argv: BINARY SHARED_DIR [COUNT ...] -> (binary, shared, [counts])."""
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit("usage: " + usage)
    set_binary(args[0])
    counts = [int(a) for a in args[2:2 + ncounts]]
    del sys.argv[1:]
    return args[0], os.path.abspath(args[1]), counts


def run_unittest():
    import unittest
    result = unittest.main(exit=False, verbosity=2, warnings="ignore").result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed or result.testsRun == 0 else 0)


def dumps(x):
    return json.dumps(x, sort_keys=True, default=str)
