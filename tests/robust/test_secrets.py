#!/usr/bin/env python3
"""Secrets never leak: every command at --log-level debug, with known secret
values, and then every byte driftsync wrote (stdout, stderr, every file
under the state directory: database, -wal, feed, metrics) is scanned for
each secret, its base64 and its hex form.

Secrets: the base secret access key (environment), the session tokens the
emulator issues for the assumed roles (scanned by their fixed prefix
"IQoJb3JpZ2luX2VtdWxhdG9y", which every issued token starts with, and its
decoded bytes), and the webhook key kept in the configuration file (a
loopback receiver checks it signs the deliveries without ever being sent). Runs with the emulator injecting expired-token errors too,
so error paths (refresh, failure messages) are covered.

usage: test_secrets.py DRIFTSYNC SHARED_DIR
"""

import base64
import hashlib
import hmac
import http.server
import os
import shutil
import threading
import unittest

import robustlib as rl

TOKEN_PREFIX = "IQoJb3JpZ2luX2VtdWxhdG9y"
WEBHOOK_KEY = "whk-7Qm2Zp9Lx4Rt8Vn1Sd6Fa3Jk"


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.got.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


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
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            with open(ds.config, "a") as f:
                f.write("metrics_file: %s/metrics.prom\n" % ds.state)
                f.write("feed:\n  webhook:\n    url: http://127.0.0.1:%d/hook\n"
                        "    secret: %s\n" % (srv.server_address[1], WEBHOOK_KEY))
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
                         ("compliance",), ("compliance", "--json"),
                         ("report", "--html", os.path.join(ds.state, "report.html")),
                         ("model", "show", rl.stage_drift.__globals__["NEW_VPC"][2]),
                         ("model", "show", "vpc-0340db5561cdd2b8a", "--json"),
                         ("model", "export", "vpc-0340db5561cdd2b8a"),
                         ("model", "list"), ("--help",)):
                run(*args)
            srv.shutdown()
            # the key signed every delivery, and was never sent itself
            self.assertTrue(Receiver.got, "no webhook delivery arrived")
            for headers, body in Receiver.got:
                sig = headers.get("X-Driftsync-Signature", "")
                want = "sha256=" + hmac.new(WEBHOOK_KEY.encode(), body, hashlib.sha256).hexdigest()
                self.assertEqual(sig, want)
                for n in forms(WEBHOOK_KEY):
                    self.assertNotIn(n.encode(), body)
                    self.assertNotIn(n, str(headers))
            self.assertTrue(any("debug" in o for _, o in outputs), "debug logging was on")
            needles = forms(rl.BASE_SECRET) | forms(WEBHOOK_KEY) | {
                TOKEN_PREFIX, base64.b64decode(TOKEN_PREFIX).decode("latin-1")}
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
