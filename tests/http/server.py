#!/usr/bin/env python3
"""Loopback HTTP(S) server for the real-socket test of providers/aws/http.c.

Started by tests/http/http_loopback.c; binds 127.0.0.1 on free ports and
prints one line "PORTS <http> <https>" (https is 0 without --tls-dir), then
serves until stdin closes (so it never outlives the test).

Each TCP connection gets a sequence number, sent back in X-Conn-Id, so the
client can tell whether keep-alive reused a connection; /stats reports how
many connections the server accepted (the server-side view).

Paths (plain text answers, "key=value" lines):
  /echo           method, path, user-agent, expect header, body length, body
  /stats          connections=N
  /big?n=N        N bytes of 'x'
  /slow?ms=N      answers after N ms
  /status?code=C  status C with an AWS-style JSON error body
  /truncated      promises 100 bytes, sends 10, closes
  /headers?n=N    N extra response headers
  /aws/...        (with --oracle) checks the request's SigV4 signature with
                  /work/shared/tools/sigv4-oracle --verify (botocore) using
                  --secret; 200 {"ok":true} when valid, else 403
                  SignatureDoesNotMatch listing botocore's problems

--tls-dir DIR: also serve HTTPS with a fresh self-signed certificate for
IP 127.0.0.1 only (written to DIR/cert.pem by the openssl CLI).
"""
import argparse
import base64
import json
import http.server
import os
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

ARGS = None
_lock = threading.Lock()
_connections = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global _connections
        super().setup()
        with _lock:
            _connections += 1
            self.conn_id = _connections

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def _send(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Conn-Id", str(self.conn_id))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path.startswith("/aws/") and ARGS.oracle:
            self._verify(body)
        elif url.path == "/echo":
            lines = [
                "method=" + self.command,
                "path=" + self.path,
                "user-agent=" + str(self.headers.get("User-Agent")),
                "expect=" + str(self.headers.get("Expect", "none")),
                "x-test=" + str(self.headers.get("X-Test", "none")),
                "length=%d" % len(body),
                "body=" + body.decode("utf-8", "replace"),
            ]
            self._send(200, "\n".join(lines) + "\n")
        elif url.path == "/stats":
            with _lock:
                n = _connections
            self._send(200, "connections=%d\n" % n)
        elif url.path == "/big":
            self._send(200, "x" * int(q.get("n", "0")))
        elif url.path == "/slow":
            time.sleep(int(q.get("ms", "1000")) / 1000.0)
            self._send(200, "slow\n")
        elif url.path == "/status":
            code = int(q.get("code", "500"))
            self._send(code, '{"__type":"ServiceUnavailableException","message":"try later"}',
                       [("x-amzn-RequestId", "loop-1")])
        elif url.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif url.path == "/headers":
            self._send(200, "ok\n", [("X-Many-%d" % i, "v" * 100) for i in range(int(q.get("n", "1")))])
        else:
            self._send(404, "no such path\n")

    def _verify(self, body):
        req = {
            "method": self.command,
            "url": "http://%s:%d%s" % (self.server.server_address[0],
                                       self.server.server_address[1], self.path),
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_b64": base64.b64encode(body).decode(),
            "secret_key": ARGS.secret,
        }
        p = subprocess.run([sys.executable, ARGS.oracle, "--verify"], input=json.dumps(req) + "\n",
                           capture_output=True, text=True)
        try:
            out = json.loads(p.stdout.splitlines()[0])
        except (IndexError, ValueError):
            self._send(500, '{"__type":"OracleFailed","message":%s}'
                       % json.dumps(p.stderr[-300:]))
            return
        if out.get("valid"):
            self._send(200, json.dumps({"ok": True, "signed_headers": out.get("signed_headers"),
                                        "canonical_request": out.get("canonical_request")}),
                       [("x-amzn-RequestId", "verified-1")])
        else:
            problems = out.get("problems") or [out.get("error", "invalid")]
            self._send(403, json.dumps({"__type": "SignatureDoesNotMatch",
                                        "message": "; ".join(problems)[:300]}))

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # resets and failed TLS handshakes are part of the test; keep stderr quiet
        pass


def make_cert(d):
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=driftsync-test", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def main():
    ap = argparse.ArgumentParser()
    global ARGS
    ap.add_argument("--tls-dir")
    ap.add_argument("--oracle")
    ap.add_argument("--secret", default="")
    args = ap.parse_args()
    ARGS = args
    plain = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    tls_port = 0
    if args.tls_dir:
        key, cert = make_cert(args.tls_dir)
        tls = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        threading.Thread(target=tls.serve_forever, daemon=True).start()
        tls_port = tls.server_address[1]
    print("PORTS %d %d" % (plain.server_address[1], tls_port), flush=True)
    sys.stdin.read()  # until the test closes our stdin (or dies)


if __name__ == "__main__":
    main()
