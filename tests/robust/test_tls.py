#!/usr/bin/env python3
"""TLS: driftsync against the emulator behind a loopback HTTPS front.

A throwaway CA signs two server certificates (made with the openssl command
at test time): one for 127.0.0.1/localhost, one for another name. A small
TLS relay on 127.0.0.1 forwards to the plain emulator. Checked:
  - without AWS_CA_BUNDLE the self-signed chain is refused, with an error
    naming the certificate problem and the host;
  - with AWS_CA_BUNDLE=the CA, whoami and a whole sync work over HTTPS (the
    emulator still verifies every SigV4 signature behind the relay);
  - a certificate for another host name is refused even with the CA given.

usage: test_tls.py DRIFTSYNC_BINARY SHARED_DIR
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

import robustlib as rl


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_certs(d):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=driftsync test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    for name, san in (("good", "IP:127.0.0.1,DNS:localhost"),
                      ("wrong", "DNS:config.example.invalid")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % name,
                "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n" % san)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", name + ".ext",
                "-out", name + ".pem", cwd=d)


class TlsRelay:
    """Accepts TLS on 127.0.0.1 and relays the bytes to the emulator."""

    def __init__(self, certfile, keyfile, backend_port):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        self.backend = backend_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()  # the client refused our certificate: expected in some tests
            return
        back = socket.create_connection(("127.0.0.1", self.backend))

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(back, tls), daemon=True).start()
        pump(tls, back)

    def close(self):
        self.stopping = True
        self.sock.close()


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise RuntimeError("the openssl command is needed (Debian package openssl)")
        cls.work = tempfile.mkdtemp(prefix="driftsync-tls-")
        make_certs(cls.work)
        cls.emu = rl.Emulator(cls.work)
        port = int(cls.emu.url.rsplit(":", 1)[1])
        cls.good = TlsRelay(os.path.join(cls.work, "good.pem"),
                            os.path.join(cls.work, "good.key"), port)
        cls.wrong = TlsRelay(os.path.join(cls.work, "wrong.pem"),
                             os.path.join(cls.work, "wrong.key"), port)

    @classmethod
    def tearDownClass(cls):
        cls.good.close()
        cls.wrong.close()
        cls.emu.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def driftsync(self, relay, ca=True, accounts=None):
        ds = rl.Driftsync(tempfile.mkdtemp(dir=self.work), self.emu, accounts=accounts)
        ds.env["AWS_ENDPOINT_URL"] = "https://127.0.0.1:%d" % relay.port
        if ca:
            ds.env["AWS_CA_BUNDLE"] = os.path.join(self.work, "ca.pem")
        return ds

    def test_refused_without_the_ca(self):
        ds = self.driftsync(self.good, ca=False)
        p = ds.run("whoami", check=False)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        err = p.stderr.lower()
        self.assertIn("certificate", err, p.stderr)
        self.assertIn("127.0.0.1", p.stderr)
        self.assertNotIn("111111111111", p.stdout)

    def test_works_with_the_ca(self):
        ds = self.driftsync(self.good)
        p = ds.run("whoami", "--json")
        self.assertEqual(json.loads(p.stdout)["account"], "111111111111")
        # a whole sync over HTTPS: assume-role, Config, Security Hub
        p = ds.run("sync", "--once", "--json", check=False)
        run = json.loads(p.stdout)
        self.assertEqual(run["targets_failed"], 0, p.stdout + p.stderr)
        self.assertGreater(run["resources"], 200)

    def test_wrong_host_name_refused(self):
        ds = self.driftsync(self.wrong)
        p = ds.run("whoami", check=False)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertRegex(p.stderr.lower(), r"subject|name|match", p.stderr)
        # and a sync records every target as failed without a status change
        p = ds.run("sync", "--once", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertNotIn("run 1 ok", p.stdout)


if __name__ == "__main__":
    rl.main_args("test_tls.py DRIFTSYNC SHARED_DIR")
    rl.run_unittest()
