#!/usr/bin/env python3
"""Secrets never leak: every command at --log-level debug, with known secret
values, and then every byte driftsync wrote (stdout, stderr, every file
under the state directory: database, -wal, feed, metrics) is scanned for
each secret, its base64 and its hex form.

Secrets: the base secret access key (environment), and the session tokens
the emulator issues for the assumed roles (scanned by their fixed prefix
"IQoJb3JpZ2luX2VtdWxhdG9y", which every issued token starts with, and its
decoded bytes). Runs with the emulator injecting expired-token errors too,
so error paths (refresh, failure messages) are covered.

usage: test_secrets.py DRIFTSYNC SHARED_DIR
"""

import base64
import os
import shutil
import unittest

import robustlib as rl

TOKEN_PREFIX = "IQoJb3JpZ2luX2VtdWxhdG9y"


def forms(secret):
    b = secret.encode()
    out = {secret, base64.b64encode(b).decode()[:len(b) * 4 // 3 - 2], b.hex(), b.hex().upper()}
    return {f for f in out if len(f) >= 12}


class SecretsTest(unittest.TestCase):
    def test_no_secret_anywhere(self):
        work = rl.workdir("secrets")
        emu = rl.Emulator(work)
        try:
            ds = rl.Driftsync(work, emu)
            outputs = []

            def run(*args):
                p = ds.run("--log-level", "debug", *args, check=False)
                outputs.append((" ".join(args), p.stdout + p.stderr))
                return p

            self.assertEqual(run("sync", "--once").returncode, 0, outputs[-1])
            self.assertEqual(run("model", "create", "--all").returncode, 0, outputs[-1])
            rl.stage_drift(emu)
            emu.control("faults", {"expired": 0.3, "5xx": 0.1, "seed": 5})
            run("sync", "--once")
            run("sync", "--once", "--json")
            emu.control("faults", {})
            for args in (("status",), ("status", "--json"), ("drift", "--all"),
                         ("drift", "--all", "--json"), ("log", "verify"), ("config", "check"),
                         ("whoami",), ("whoami", "--json"), ("help",), ("version",),
                         ("model", "list"), ("--help",)):
                run(*args)
            self.assertTrue(any("debug" in o for _, o in outputs), "debug logging was on")
            needles = forms(rl.BASE_SECRET) | {TOKEN_PREFIX, base64.b64decode(TOKEN_PREFIX)
                                               .decode("latin-1")}
            for what, text in outputs:
                for n in needles:
                    self.assertNotIn(n, text, "secret form %r in the output of `%s`" % (n, what))
            scanned = 0
            for dirpath, _, files in os.walk(ds.state):
                for name in files:
                    with open(os.path.join(dirpath, name), "rb") as f:
                        data = f.read()
                    scanned += 1
                    for n in needles:
                        self.assertNotIn(n.encode("latin-1"), data,
                                         "secret form %r in %s" % (n, os.path.join(dirpath, name)))
            self.assertGreater(scanned, 0)
            print("scanned %d commands' output and %d state files: %s" %
                  (len(outputs), scanned, sorted(os.listdir(ds.state))))
        finally:
            emu.stop()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    rl.main_args("test_secrets.py DRIFTSYNC SHARED_DIR")
    rl.run_unittest()
