"""The emulator's HTTP front end: routing, SigV4, validation, limits, faults.

Design: one ThreadingHTTPServer speaking HTTP/1.1 with persistent
connections serves every endpoint on one port: the AWS APIs (recognised by
their protocol: X-Amz-Target for JSON 1.1, an Action form for query, the
model's method + requestUri for REST-JSON), the EC2 instance metadata service
(/latest/...), the ECS container credentials endpoint (/v2/credentials/<id>)
and the control API (/__emulator/...). For an AWS API request the order is
the one AWS applies: find the operation, authenticate (Authorization parsed,
credential scope checked against the service, key and session token looked
up, expiry, signature recomputed with botocore, clock skew), validate the
input against the botocore model, apply the per-operation rate limit, run the
service (its handle_raw() when it has one: answers may carry pre-serialised
model.RawJson values), then serialise for the protocol. Every failure is an ApiError
rendered in the service's own error shape. Injected faults (faults.py) are
drawn once per API request. Request counts per service/operation/account are
kept for the stats endpoint.
"""

import argparse
import datetime
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from . import faults as faults_mod
from . import model as model_mod
from . import sigv4
from .errors import ApiError
from .state import DatasetError, State

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_DATA = os.path.join(REPO_ROOT, "examples", "sample-org")
SKEW_SECONDS = 300

SERVICE_ERRORS = {
    # service: (validation code, throttle (status, code), 5xx code, expired code,
    #           unknown key code, bad signature code, missing auth code, incomplete code)
    "config": dict(validation="ValidationException", throttle=(400, "ThrottlingException"),
                   unavailable="ServiceUnavailableException", expired=(400, "ExpiredTokenException"),
                   unknown_key="UnrecognizedClientException", signature="InvalidSignatureException",
                   missing="MissingAuthenticationTokenException", incomplete="IncompleteSignatureException",
                   serialization="SerializationException"),
    "securityhub": dict(validation="InvalidInputException", throttle=(429, "TooManyRequestsException"),
                        unavailable="ServiceUnavailableException", expired=(403, "ExpiredTokenException"),
                        unknown_key="UnrecognizedClientException", signature="InvalidSignatureException",
                        missing="MissingAuthenticationTokenException", incomplete="IncompleteSignatureException",
                        serialization="SerializationException"),
    "sts": dict(validation="ValidationError", throttle=(400, "Throttling"),
                unavailable="ServiceUnavailable", expired=(403, "ExpiredToken"),
                unknown_key="InvalidClientTokenId", signature="SignatureDoesNotMatch",
                missing="MissingAuthenticationToken", incomplete="IncompleteSignature",
                serialization="MalformedInput"),
}
SIG_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")


def _errs(service):
    return SERVICE_ERRORS.get(service, SERVICE_ERRORS["config"])


class Ctx:
    def __init__(self, cred, region, request_id, now):
        self.cred = cred
        self.account_id = cred.account if cred else None
        self.principal_arn = cred.arn if cred else None
        self.region = region
        self.request_id = request_id
        self.now = now


class Response:
    def __init__(self, status, body=b"", headers=None, fault=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = list(headers or [])
        self.fault = fault      # reset | truncate | malformed | drip
        self.delay = 0.0


def _amz_to_epoch(amz):
    dt = datetime.datetime.strptime(amz, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def _amz(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class Emulator:
    def __init__(self, data_dir, fault_spec=None, latency_ms=0, quiet=True):
        self.state = State(data_dir)
        self.faults = faults_mod.Faults()
        self.faults.base_latency_ms = latency_ms
        if fault_spec:
            self.faults.set(fault_spec)
        self.quiet = quiet
        self.models = {}
        self.services = {}
        self.notes = []
        self.stats_lock = threading.Lock()
        self.reset_stats()
        from . import configservice, sts
        self._add(sts.Service(self.state))
        self._add(configservice.Service(self.state, self.faults))
        try:
            from . import securityhub
        except ImportError as exc:
            if getattr(exc, "name", None) not in ("emu.securityhub", "securityhub"):
                raise
            self.notes.append("securityhub: emu/securityhub.py not present, Security Hub not served")
        else:
            self._add(securityhub.Service(self.state))

    def _add(self, svc):
        m = model_mod.Model(svc.name)
        self.models[svc.name] = m
        self.services[svc.name] = svc
        self.notes.append("model %s %s: %s" % (svc.name, m.api_version, m.description))

    def reset_stats(self):
        with self.stats_lock:
            self.stats = {"total": 0, "requests": {}, "statuses": {}, "errors": {}}

    def count(self, service, operation, account, status, code=None):
        with self.stats_lock:
            s = self.stats
            s["total"] += 1
            ops = s["requests"].setdefault(service, {}).setdefault(operation or "?", {})
            ops[account or "anonymous"] = ops.get(account or "anonymous", 0) + 1
            s["statuses"][str(status)] = s["statuses"].get(str(status), 0) + 1
            if code:
                s["errors"][code] = s["errors"].get(code, 0) + 1

    def reload(self):
        with self.state.lock:
            self.state.load_org()
            for svc in self.services.values():
                svc.reload()
            return self.state.generation

    # ------------------------------------------------------------------ API --
    def detect(self, method, raw_path, raw_query, headers, body):
        """Returns (service, operation, raw params dict, from_strings)."""
        target = headers.get("x-amz-target")
        if target:
            prefix, _, op = target.rpartition(".")
            for name, m in self.models.items():
                if m.protocol == "json" and m.target_prefix == prefix:
                    if op not in m.operations:
                        raise _Early(name, None, ApiError(400, "UnknownOperationException", ""))
                    try:
                        params = json.loads(body.decode("utf-8")) if body.strip() else {}
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        raise _Early(name, op, ApiError(400, "SerializationException", "Unable to parse the request body as JSON"))
                    if not isinstance(params, dict):
                        raise _Early(name, op, ApiError(400, "SerializationException", "Start of list found where not expected"))
                    return name, op, params, False
            raise _Early("config", None, ApiError(400, "UnknownOperationException", "Unknown X-Amz-Target %s" % target))
        ctype = headers.get("content-type", "")
        form = None
        if method == "POST" and ctype.startswith("application/x-www-form-urlencoded") and raw_path in ("", "/"):
            form = body.decode("utf-8", "replace")
        elif method == "GET" and raw_path in ("", "/") and "Action=" in raw_query:
            form = raw_query
        if form is not None:
            pairs = parse_qsl(form, keep_blank_values=True)
            if method == "POST" and raw_query:
                pairs += parse_qsl(raw_query, keep_blank_values=True)
            flat = dict(pairs)
            action = flat.get("Action")
            qsvc = [n for n, m in self.models.items() if m.protocol == "query"]
            name = qsvc[0] if qsvc else "sts"
            if not action:
                raise _Early(name, None, ApiError(400, "MissingAction", "Missing Action"))
            m = self.models[name]
            if action not in m.operations:
                raise _Early(name, None, ApiError(400, "InvalidAction", "Could not find operation %s for version %s" % (action, m.api_version)))
            return name, action, _unflatten(m, m.input_shape(action), flat, ""), True
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        for name, m in self.models.items():
            if m.protocol != "rest-json":
                continue
            hit = m.route(method, raw_path, pairs)
            if hit:
                op, labels = hit
                return name, op, _rest_params(m, op, labels, pairs, headers, body, name), True
        raise _Early("securityhub" if "securityhub" in self.models else "config", None,
                     ApiError(404, "UnknownOperationException", "No operation matches %s %s" % (method, raw_path)))

    def authenticate(self, service, operation, method, raw_path, raw_query, header_list, headers, body):
        m = self.models[service]
        e = _errs(service)
        op = m.operations[operation]
        if op.get("authtype") == "none" or "smithy.api#noAuth" in (op.get("auth") or []):
            if "authorization" not in headers:
                return None, "us-east-1"
        try:
            auth = sigv4.parse_authorization(header_list)
        except sigv4.AuthProblem as p:
            if p.kind == "missing":
                if "X-Amz-Signature=" in raw_query:
                    raise ApiError(403, e["incomplete"], "Query-string (presigned) authentication is not supported by the emulator")
                msg = "Request is missing Authentication Token" if service == "sts" else "Missing Authentication Token"
                raise ApiError(403, e["missing"], msg)
            raise ApiError(400, e["incomplete"], p.message)
        if auth.service != m.signing_name:
            raise ApiError(403, e["signature"], "Credential should be scoped to correct service: '%s'. " % m.signing_name)
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", auth.region):
            raise ApiError(403, e["signature"], "Credential should be scoped to a valid region. ")
        amz_date = headers.get("x-amz-date")
        if not amz_date:
            raise ApiError(400, e["incomplete"], "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s" % headers.get("authorization", "")[:120])
        try:
            signed_at = _amz_to_epoch(amz_date)
        except ValueError:
            raise ApiError(400, e["incomplete"], "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601" % amz_date)
        if amz_date[:8] != auth.date:
            raise ApiError(403, e["signature"], "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'."
                           % (auth.date, amz_date[:8], amz_date))
        cred = self.state.lookup(auth.access_key)
        invalid = "The security token included in the request is invalid."
        if cred is None:
            raise ApiError(403, e["unknown_key"], invalid)
        token = headers.get("x-amz-security-token")
        if (cred.token or token) and token != cred.token:
            raise ApiError(403, e["unknown_key"], invalid)
        now = self.state.now()
        if cred.expiration is not None and now >= cred.expiration:
            raise ApiError(e["expired"][0], e["expired"][1], "The security token included in the request is expired")
        ok, canonical, sts_text = sigv4.verify(method, raw_path, raw_query, header_list, body, auth, cred.secret_key,
                                               amz_date, headers.get("host", "localhost"))
        if not ok:
            msg = SIG_MISMATCH
            if service != "sts":
                msg += ("\n\nThe Canonical String for this request should have been\n'%s'\n\n"
                        "The String-to-Sign should have been\n'%s'\n" % (canonical, sts_text))
            raise ApiError(403, e["signature"], msg)
        if signed_at < now - SKEW_SECONDS:
            raise ApiError(403, e["signature"], "Signature expired: %s is now earlier than %s (%s - 5 min.)"
                           % (amz_date, _amz(now - SKEW_SECONDS), _amz(now)))
        if signed_at > now + SKEW_SECONDS:
            raise ApiError(403, e["signature"], "Signature not yet current: %s is still later than %s (%s + 5 min.)"
                           % (amz_date, _amz(now + SKEW_SECONDS), _amz(now)))
        return cred, auth.region

    def api(self, method, raw_path, raw_query, header_list, body):
        headers = {}
        for n, v in header_list:
            headers.setdefault(n.lower(), v)
        request_id = str(uuid.uuid4())
        service, operation, account = None, None, None
        try:
            try:
                service, operation, raw, from_strings = self.detect(method, raw_path, raw_query, headers, body)
            except _Early as early:
                service, operation = early.service, early.operation
                raise early.error
            e = _errs(service)
            fault, delay = self.faults.draw(operation)
            if fault == "reset":
                r = Response(0, fault="reset")
                r.delay = delay
                self.count(service, operation, None, "reset")
                return r
            if fault == "5xx":
                raise ApiError(503, e["unavailable"], "Service Unavailable" if service != "sts" else "Service is unavailable. Please retry.", sender_fault=False)
            if fault == "throttle":
                raise ApiError(e["throttle"][0], e["throttle"][1], "Rate exceeded")
            cred, region = self.authenticate(service, operation, method, raw_path, raw_query, header_list, headers, body)
            account = cred.account if cred else None
            if fault == "expired" and cred is not None:
                raise ApiError(e["expired"][0], e["expired"][1], "The security token included in the request is expired")
            m = self.models[service]
            if service == "config":
                ser_code = "com.amazon.coral.service#SerializationException"
            else:
                ser_code = e["serialization"]
            params = m.validate(operation, raw, from_strings=from_strings, code=e["validation"],
                                serialization_code=ser_code, lower_first=True)
            if not self.faults.allow(service, operation, account or "anonymous", region):
                raise ApiError(e["throttle"][0], e["throttle"][1], "Rate exceeded")
            ctx = Ctx(cred, region, request_id, self.state.now())
            svc = self.services[service]
            result = getattr(svc, "handle_raw", svc.handle)(ctx, operation, params) or {}
            resp = self.render(service, operation, result, request_id)
            if fault in ("truncate", "malformed", "drip"):
                resp.fault = fault
            resp.delay = delay
            self.count(service, operation, account, resp.status)
            return resp
        except ApiError as err:
            resp = self.render_error(service or "config", err, request_id)
            self.count(service or "?", operation, account, err.status, err.code)
            return resp
        except Exception:  # a bug in the emulator: answer 500 and show it
            traceback.print_exc()
            err = ApiError(500, "InternalFailure", "emulator internal error (see its stderr)", sender_fault=False)
            self.count(service or "?", operation, account, 500, "InternalFailure")
            return self.render_error(service or "config", err, request_id)

    def render(self, service, operation, result, request_id):
        m = self.models[service]
        out_shape = m.output_shape(operation)
        if m.protocol == "json":
            body = model_mod.dumps(m.shape_output(out_shape, result, "unixTimestamp"))
            return Response(200, body, [("x-amzn-RequestId", request_id),
                                        ("Content-Type", "application/x-amz-json-%s" % m.meta.get("jsonVersion", "1.1"))])
        if m.protocol == "rest-json":
            body = model_mod.dumps(m.shape_output(out_shape, result, "iso8601"))
            return Response(200, body, [("x-amzn-RequestId", request_id), ("Content-Type", "application/json")])
        wrapper = m.operations[operation].get("output", {}).get("resultWrapper", operation + "Result")
        lines = ['<%sResponse xmlns="%s">' % (operation, m.meta.get("xmlNamespace", ""))]
        m.to_xml(out_shape, result, wrapper, lines)
        lines.append("  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>" % request_id)
        lines.append("</%sResponse>\n" % operation)
        return Response(200, "\n".join(lines), [("x-amzn-RequestId", request_id), ("Content-Type", "text/xml")])

    def render_error(self, service, err, request_id):
        m = self.models.get(service)
        protocol = m.protocol if m else "json"
        headers = [("x-amzn-RequestId", request_id)] + list(err.headers.items())
        if protocol == "query":
            from xml.sax.saxutils import escape
            body = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n'
                    '    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
                    % (m.meta.get("xmlNamespace", ""), "Sender" if err.sender_fault else "Receiver",
                       escape(err.code), escape(err.message), request_id))
            return Response(err.status, body, headers + [("Content-Type", "text/xml")])
        if protocol == "rest-json":
            body = json.dumps({"Code": err.code, "Message": err.message})
            return Response(err.status, body, headers + [("x-amzn-ErrorType", err.code), ("Content-Type", "application/json")])
        body = {"__type": err.code}
        if err.message:
            body["message"] = err.message
        return Response(err.status, json.dumps(body), headers + [("Content-Type", "application/x-amz-json-1.1")])


class _Early(Exception):
    def __init__(self, service, operation, error):
        super().__init__(error.message)
        self.service = service
        self.operation = operation
        self.error = error


def _unflatten(m, shape, flat, prefix):
    """Query-protocol params (Member.1, Struct.Field, Map.entry.1.key) -> nested dict of strings."""
    t = shape.get("type")
    if t == "structure":
        out = {}
        for name, ref in shape.get("members", {}).items():
            key = prefix + ref.get("locationName", name)
            sub = m.shapes[ref["shape"]]
            st = sub.get("type")
            if st in ("structure", "list", "map"):
                v = _unflatten(m, sub, flat, key + ".")
                if v is not None and v != {} and v != []:
                    out[name] = v
                elif st == "list" and key in flat:  # "Name=" (empty list)
                    out[name] = []
            elif key in flat:
                out[name] = flat[key]
        return out
    if t == "list":
        mref = shape["member"]
        flattened = shape.get("flattened")
        base = prefix if flattened else prefix + mref.get("locationName", "member") + "."
        out = []
        i = 1
        sub = m.shapes[mref["shape"]]
        while True:
            key = base + str(i)
            if sub.get("type") in ("structure", "list", "map"):
                v = _unflatten(m, sub, flat, key + ".")
                if not v:
                    break
                out.append(v)
            elif key in flat:
                out.append(flat[key])
            else:
                break
            i += 1
        return out
    if t == "map":
        out = {}
        i = 1
        while (prefix + "entry.%d.key" % i) in flat:
            out[flat[prefix + "entry.%d.key" % i]] = flat.get(prefix + "entry.%d.value" % i, "")
            i += 1
        return out
    return flat.get(prefix.rstrip("."))


def _rest_params(m, op, labels, pairs, headers, body, service):
    shape = m.input_shape(op)
    params = {}
    payload_member = shape.get("payload")
    body_members = {}
    for name, ref in shape.get("members", {}).items():
        loc = ref.get("location")
        lname = ref.get("locationName", name)
        sub = m.shapes[ref["shape"]]
        if loc == "uri":
            if lname in labels:
                params[name] = labels[lname]
        elif loc == "querystring":
            vals = [v for k, v in pairs if k == lname]
            if vals:
                params[name] = vals if sub.get("type") == "list" else vals[0]
        elif loc == "header":
            if lname.lower() in headers:
                params[name] = headers[lname.lower()]
        else:
            body_members[name] = ref
    if body.strip() and (body_members or payload_member):
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _Early(service, op, ApiError(400, "SerializationException", "Unable to parse the request body as JSON"))
        if not isinstance(doc, dict):
            raise _Early(service, op, ApiError(400, "SerializationException", "Request body must be a JSON object"))
        if payload_member:
            params[payload_member] = doc
        else:
            # JSON body values are typed; mark them so string conversion does not apply
            for k, v in doc.items():
                params[k] = model_mod.JsonValue(v) if k in body_members else v
    return model_mod.RestParams(params)




# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonEmulator"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if not self.server.app.quiet:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537).strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(65537).strip():
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _any(self):
        app = self.server.app
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return self._send(Response(400, json.dumps({"error": "unreadable request body"}), [("Content-Type", "application/json")]))
        raw_path, _, raw_query = self.path.partition("?")
        if raw_path.startswith("http://") or raw_path.startswith("https://"):
            raw_path = "/" + raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else "/"
        header_list = list(self.headers.items())
        if raw_path.startswith("/__emulator/") or raw_path == "/__emulator":
            resp = control(app, self.command, raw_path, raw_query, body)
        elif raw_path.startswith("/latest/") or raw_path == "/latest":
            resp = imds(app, self.command, raw_path, self.headers)
        elif raw_path.startswith("/v2/credentials"):
            resp = container(app, self.command, raw_path, self.headers)
        else:
            resp = app.api(self.command, raw_path, raw_query, header_list, body)
        self._send(resp)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _any

    def _send(self, resp):
        if resp.delay > 0:
            time.sleep(resp.delay)
        if resp.fault == "reset":
            self._reset()
            return
        body = resp.body
        if resp.fault == "malformed":
            body = body[: max(1, len(body) // 2)] + b"\x00<<malformed>>{"
        self.send_response(resp.status)
        names = {n.lower() for n, _ in resp.headers}
        for n, v in resp.headers:
            self.send_header(n, v)
        if "content-type" not in names:
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            if resp.fault == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self._reset()
                return
            if resp.fault == "drip" and body:
                total = self.server.app.faults.drip_seconds()
                pieces = min(len(body), 20)
                step = -(-len(body) // pieces)
                for i in range(0, len(body), step):
                    self.wfile.write(body[i:i + step])
                    self.wfile.flush()
                    time.sleep(total / pieces)
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a client opening more connections at
    # once (driftsync: two per target, eight targets at a time) had SYNs dropped and
    # retried a second later, a stall AWS's endpoints never show
    request_queue_size = 128

    def __init__(self, addr, app):
        self.app = app
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, OSError)):
            return
        super().handle_error(request, client_address)


# ---------------------------------------------------------------------------
# IMDSv2 and the container credentials endpoint
# ---------------------------------------------------------------------------
INSTANCE_ID = "i-0e1f2d3c4b5a69788"


def _text(status, text, ctype="text/plain"):
    return Response(status, text, [("Content-Type", ctype)])


def _cred_doc(app, source):
    role, account = app.state.instance_role()
    arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (account, role, INSTANCE_ID if source == "imds" else "ecs-task")
    c = app.state.issue(account, arn, "AROAEMULATORINSTANCE:%s" % INSTANCE_ID, app.state.credential_ttl, source)
    return role, account, c


def imds(app, method, raw_path, headers):
    state = app.state
    now = state.now()
    if raw_path == "/latest/api/token":
        if method != "PUT":
            return _text(405, "Method Not Allowed")
        if headers.get("X-Forwarded-For"):
            return _text(403, "Forbidden")
        ttl = headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl is None or not ttl.strip().isdigit() or not 1 <= int(ttl) <= 21600:
            return _text(400, "Bad Request")
        token = "AQAEAEmu" + uuid.uuid4().hex + uuid.uuid4().hex
        with state.lock:
            state.imds_tokens[token] = now + int(ttl)
        return Response(200, token, [("Content-Type", "text/plain"), ("X-aws-ec2-metadata-token-ttl-seconds", ttl)])
    if method not in ("GET", "HEAD"):
        return _text(405, "Method Not Allowed")
    token = headers.get("X-aws-ec2-metadata-token")
    if token is None:
        return _text(401, "Unauthorized")   # IMDSv1 is disabled (HttpTokens=required)
    with state.lock:
        exp = state.imds_tokens.get(token)
    if exp is None or now >= exp:
        return _text(401, "Unauthorized")
    base = "/latest/meta-data/iam/security-credentials"
    try:
        role, account = state.instance_role()
    except ApiError:
        return _text(404, "Not Found")
    if raw_path in (base, base + "/"):
        return _text(200, role)
    if raw_path.rstrip("/") == base + "/" + role:
        _, _, c = _cred_doc(app, "imds")
        doc = {"Code": "Success", "LastUpdated": model_mod.iso(now, millis=False), "Type": "AWS-HMAC",
               "AccessKeyId": c.access_key, "SecretAccessKey": c.secret_key, "Token": c.token,
               "Expiration": model_mod.iso(c.expiration, millis=False)}
        return _text(200, json.dumps(doc, indent=2))
    if raw_path == "/latest/meta-data/placement/region":
        return _text(200, state.regions()[0])
    if raw_path == "/latest/meta-data/instance-id":
        return _text(200, INSTANCE_ID)
    if raw_path == "/latest/dynamic/instance-identity/document":
        region = state.regions()[0]
        return _text(200, json.dumps({"accountId": account, "region": region, "instanceId": INSTANCE_ID,
                                      "availabilityZone": region + "a", "architecture": "x86_64"}, indent=2))
    return _text(404, "Not Found")


def container(app, method, raw_path, headers):
    if method != "GET":
        return _text(405, "Method Not Allowed")
    want = app.state.org.get("container_authorization_token")
    got = headers.get("Authorization")
    parts = raw_path.split("/")
    if len(parts) != 4 or not parts[3]:
        return Response(404, json.dumps({"code": "NotFound", "message": "Credentials id missing: use /v2/credentials/<id>"}),
                        [("Content-Type", "application/json")])
    if not want or got != want:
        return Response(401 if not got else 403,
                        json.dumps({"code": "AccessDenied", "message": "Authorization token %s" % ("missing" if not got else "invalid")}),
                        [("Content-Type", "application/json")])
    role, account, c = _cred_doc(app, "container")
    doc = {"RoleArn": "arn:aws:iam::%s:role/%s" % (account, role), "AccessKeyId": c.access_key,
           "SecretAccessKey": c.secret_key, "Token": c.token, "Expiration": model_mod.iso(c.expiration, millis=False)}
    return Response(200, json.dumps(doc), [("Content-Type", "application/json")])


# ---------------------------------------------------------------------------
# Control API
# ---------------------------------------------------------------------------
def _json(status, obj):
    return Response(status, json.dumps(obj, indent=1, sort_keys=True), [("Content-Type", "application/json")])


def control(app, method, raw_path, raw_query, body):
    what = raw_path[len("/__emulator/"):].strip("/")
    try:
        doc = None
        if method == "POST" and body.strip():
            text = body.decode("utf-8")
            if what == "faults" and not text.lstrip().startswith("{"):
                doc = text
            else:
                try:
                    doc = json.loads(text)
                except json.JSONDecodeError as exc:
                    return _json(400, {"error": "%s: body is not JSON: %s (line %d column %d)" % (what, exc.msg, exc.lineno, exc.colno)})
        if what == "health" and method == "GET":
            return _json(200, {"ok": True, "generation": app.state.generation, "data": app.state.data_dir})
        if what == "stats":
            if method == "GET":
                with app.stats_lock:
                    s = json.loads(json.dumps(app.stats))
                s["faults"] = app.faults.describe()
                return _json(200, s)
            if method == "POST":   # reset
                app.reset_stats()
                return _json(200, {"ok": True})
        if what == "preload" and method == "POST":
            # what a service would otherwise read at its first request (Config's items per
            # account/region, each hub's findings): benchmarks time the client, not this
            loaded = {}
            for name in ("config", "securityhub"):
                svc = app.services.get(name)
                if svc is not None and hasattr(svc, "preload"):
                    loaded[name] = svc.preload()
            return _json(200, {"loaded": loaded})
        if what == "reload" and method == "POST":
            return _json(200, {"generation": app.reload()})
        if what == "faults":
            if method == "GET":
                return _json(200, app.faults.describe())
            if method == "POST":
                merge = "merge=1" in raw_query or "merge=true" in raw_query
                return _json(200, app.faults.set(doc or {}, replace=not merge))
        if what == "clock":
            if method == "POST":
                d = doc or {}
                if not isinstance(d, dict):
                    return _json(400, {"error": "clock: body must be an object"})
                with app.state.lock:
                    if "offset_seconds" in d:
                        app.state.clock_offset = float(d["offset_seconds"])
                    if "advance_seconds" in d:
                        app.state.clock_offset += float(d["advance_seconds"])
                    if "now" in d:
                        app.state.clock_offset = model_mod.parse_time(d["now"]) - time.time()
            return _json(200, {"now": model_mod.iso(app.state.now()), "offset_seconds": app.state.clock_offset})
        if what == "settings" and method == "POST":
            d = doc or {}
            if "credential_ttl" in d:
                ttl = d["credential_ttl"]
                if not isinstance(ttl, int) or ttl < 1:
                    return _json(400, {"error": "settings.credential_ttl must be a positive integer (seconds)"})
                app.state.credential_ttl = ttl
            return _json(200, {"credential_ttl": app.state.credential_ttl})
        if what.startswith("resources/") or what.startswith("findings/"):
            if method != "POST":
                return _json(405, {"error": "%s: use POST" % what})
            svc = app.services.get("config" if what.startswith("resources/") else "securityhub")
            if svc is None or not hasattr(svc, "control"):
                return _json(404, {"error": "%s: service not loaded or it has no control hook" % what})
            with app.state.lock:
                return _json(200, svc.control(what.split("/", 1)[1], doc))
        return _json(404, {"error": "unknown control endpoint %s %s (see tests/emulator/README.md)" % (method, raw_path)})
    except (faults_mod.FaultSpecError, ValueError, TypeError, KeyError, DatasetError) as exc:
        return _json(400, {"error": "%s: %s" % (what, exc)})


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(prog="aws-emulator", description="Local AWS emulator for driftsync (see tests/emulator/README.md)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="dataset directory (default: examples/sample-org)")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (default 127.0.0.1:0, an ephemeral port)")
    ap.add_argument("--port-file", help="write the port number to this file once listening")
    ap.add_argument("--faults", help="fault spec (name=value,...) or @FILE with a JSON object")
    ap.add_argument("--latency-ms", type=int, default=0, help="fixed latency added to every AWS API answer")
    ap.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = ap.parse_args(argv)
    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        ap.error("--listen must be HOST:PORT, got %r" % args.listen)
    spec = args.faults
    if spec and spec.startswith("@"):
        try:
            with open(spec[1:], encoding="utf-8") as f:
                spec = f.read()
        except OSError as exc:
            ap.error("--faults %s: %s" % (args.faults, exc))
    if args.latency_ms < 0:
        ap.error("--latency-ms must not be negative")
    if not os.path.isdir(args.data):
        sys.stderr.write("aws-emulator: dataset directory %s does not exist (pass --data DIR)\n" % args.data)
        return 2
    try:
        app = Emulator(args.data, spec, args.latency_ms, quiet=not args.verbose)
    except (DatasetError, faults_mod.FaultSpecError) as exc:
        sys.stderr.write("aws-emulator: %s\n" % exc)
        return 2
    try:
        srv = Server((host or "127.0.0.1", int(port)), app)
    except OSError as exc:
        sys.stderr.write("aws-emulator: cannot listen on %s: %s\n" % (args.listen, exc))
        return 2
    real_port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % real_port)
        os.replace(tmp, args.port_file)
    print("listening on http://%s:%d" % (srv.server_address[0], real_port), flush=True)
    print("data %s" % app.state.data_dir, flush=True)
    for note in app.notes:
        print(note, flush=True)

    def on_hup(signum, frame):
        def run():
            try:
                app.reload()
                print("reloaded dataset (generation %d)" % app.state.generation, flush=True)
            except Exception as exc:  # keep serving the old data
                sys.stderr.write("aws-emulator: reload failed: %s\n" % exc)
        threading.Thread(target=run, daemon=True).start()

    def on_term(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    srv.server_close()
    return 0
