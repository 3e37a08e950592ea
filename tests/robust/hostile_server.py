"""A deliberately malicious AWS endpoint for the hostile-input tests.

Speaks just enough of STS (GetCallerIdentity, query/XML) and AWS Config
(JSON 1.1: SelectResourceConfig, ListDiscoveredResources,
BatchGetResourceConfig) for driftsync to get to the part under test; no
signature check. The misbehaviour is chosen by `mode`:
  endless    a fresh NextToken on every page, forever
  repeat     the same NextToken on every page
  huge       a 2 GiB body, streamed (Content-Length announced)
  hugechunk  the same 2 GiB, chunked: no length announced, so the cap is only
             met by reading up to it
  invalid    200 with a body that is not JSON
  truncated  Content-Length larger than the body, then the connection closes
  deep       a select result nested 10,000 levels deep
  badutf8    invalid UTF-8 bytes inside a string
  surrogate  a lone UTF-16 surrogate escape (\ud800) inside a string
Threaded, HTTP/1.1 keep-alive; counts requests per operation.
"""

import http.server
import json
import socketserver
import threading

ACCOUNT = "111111111111"
STS_IDENTITY = ("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                "<GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/robust</Arn>"
                "<UserId>AIDAROBUST</UserId><Account>%s</Account></GetCallerIdentityResult>"
                "<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>"
                "</ResponseMetadata></GetCallerIdentityResponse>") % (ACCOUNT, ACCOUNT)

VPC_ITEM = json.dumps({"accountId": ACCOUNT, "awsRegion": "us-east-1",
                       "resourceType": "AWS::EC2::VPC", "resourceId": "vpc-0aaaaaaaaaaaaaaaa",
                       "resourceName": "hostile", "configurationItemStatus": "OK",
                       "configuration": {"vpcId": "vpc-0aaaaaaaaaaaaaaaa",
                                         "cidrBlock": "10.0.0.0/16"},
                       "tags": [], "relationships": [], "supplementaryConfiguration": {}})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="application/x-amz-json-1.1", length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("x-amzn-RequestId", "11111111-2222-3333-4444-555555555555")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        srv = self.server
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        target = self.headers.get("X-Amz-Target") or ""
        op = target.rpartition(".")[2] if target else "sts"
        with srv.lock:
            srv.counts[op] = srv.counts.get(op, 0) + 1
            count = srv.counts[op]
        if not target:
            return self.send(200, STS_IDENTITY.encode(), "text/xml")
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        mode = srv.mode
        page_field = "nextToken" if op == "ListDiscoveredResources" else "NextToken"
        if op == "ListDiscoveredResources":
            page = {"resourceIdentifiers": []}
        elif op == "BatchGetResourceConfig":
            page = {"baseConfigurationItems": [], "unprocessedResourceKeys": []}
        else:
            page = {"Results": [VPC_ITEM],
                    "QueryInfo": {"SelectFields": [{"Name": "resourceId"}]}}
        if mode == "endless":
            page[page_field] = "token-%d" % count
        elif mode == "repeat":
            # a new resource on every page, so only the token gives it away
            if "Results" in page:
                page["Results"] = [VPC_ITEM.replace("vpc-0aaaaaaaaaaaaaaaa",
                                                    "vpc-0%016d" % count)]
            page[page_field] = "the-same-token"
        elif mode == "invalid":
            return self.send(200, b"{\"Results\": [\"oops\", <html>not json</html>")
        elif mode == "truncated":
            data = json.dumps(page).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data) * 4))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        elif mode in ("badutf8", "surrogate"):
            bad = b"\xff\xfe\xc3(" if mode == "badutf8" else b"\\ud800"
            data = json.dumps(page).encode().replace(b"hostile", b"host" + bad + b"ile")
            return self.send(200, data)
        elif mode in ("huge", "hugechunk"):
            total = 2 * 1024 ** 3
            chunked = mode == "hugechunk"
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(total))
            self.end_headers()
            chunk = b"{\"Results\": [\"" + b"A" * (1024 * 1024 - 14)
            chunk_a = b"A" * (1024 * 1024)

            def frame(b):
                return b"%x\r\n%s\r\n" % (len(b), b) if chunked else b
            sent = 0
            try:
                self.wfile.write(frame(chunk))
                sent = len(chunk)
                while sent < total and not srv.stopping:
                    self.wfile.write(frame(chunk_a))
                    sent += len(chunk_a)
                    with srv.lock:
                        srv.huge_sent = sent
            except OSError:
                pass
            self.close_connection = True
            return
        elif mode == "deep":
            depth = 10000
            inner = "[" * depth + "]" * depth
            page["Results"] = [json.dumps({"resourceType": "AWS::EC2::VPC",
                                           "resourceId": "vpc-0aaaaaaaaaaaaaaaa",
                                           "accountId": ACCOUNT, "awsRegion": "us-east-1"})
                               [:-1] + ", \"configuration\": " + inner + "}"]
            data = ("{\"Results\": " + json.dumps(page["Results"]) + ", \"deep\": " + inner +
                    "}").encode()
            return self.send(200, data)
        self.send(200, json.dumps(page).encode())


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode):
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = mode
        self.lock = threading.Lock()
        self.counts = {}
        self.huge_sent = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def stop(self):
        self.stopping = True
        self.shutdown()
        self.server_close()
