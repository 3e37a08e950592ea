"""botocore service models: loading, request validation, output shaping.

Design: the emulator never trusts a client to send what AWS accepts, so every
request is checked against the operation's input shape exactly the way the
real service front end (Coral) checks it: wrong JSON types are
SerializationException, constraint violations (required, min/max, length,
enum, pattern) are collected into one "N validation errors detected: ..."
message with AWS's wording and member paths ('resourceKeys.1.member.resourceId').
Outputs produced by service code are walked along the output shape so that
timestamps leave in the protocol's wire form (epoch seconds for JSON 1.1,
ISO 8601 for REST-JSON and query/XML) and XML answers follow the model's
element names. A service may hand over values already serialised
(RawJson, e.g. stored findings): they go into the body verbatim when no
timestamp or blob is reachable from their shape (plain(), memoised per
shape) and the text has no null, else they are parsed and shaped as usual.

Model choice: per service we use the newest model among the copies bundled in
tests/emulator/models/ (taken from botocore BUNDLED_BOTOCORE_VERSION) and the
data directory of the botocore importable by this interpreter; the newer
botocore version wins. Only JSON files are read, so the model code does not
depend on the botocore version (botocore itself is needed for SigV4 only).
"""

import base64
import datetime
import gzip
import json
import os
import re
from xml.sax.saxutils import escape as _xml_escape

from .errors import ApiError

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(os.path.dirname(HERE), "models")
BUNDLED_BOTOCORE_VERSION = "1.43.11"


def _version_tuple(v):
    out = []
    for part in str(v).split("."):
        m = re.match(r"\d+", part)
        out.append(int(m.group(0)) if m else 0)
    return tuple(out)


def _read_json(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _find_service_file(data_dir, service):
    """Newest api-version directory of `service` under a botocore data dir."""
    sdir = os.path.join(data_dir, service)
    if not os.path.isdir(sdir):
        return None
    for ver in sorted(os.listdir(sdir), reverse=True):
        for name in ("service-2.json.gz", "service-2.json"):
            p = os.path.join(sdir, ver, name)
            if os.path.exists(p):
                return p
    return None


def choose_model(service):
    """Returns (path, description) of the model the emulator uses."""
    bundled = _find_service_file(MODELS_DIR, service)
    machine = None
    machine_version = None
    try:
        import botocore  # noqa: F401 (only its version and data dir)
        machine_version = botocore.__version__
        machine = _find_service_file(os.path.join(os.path.dirname(botocore.__file__), "data"), service)
    except ImportError:
        pass
    if machine and (not bundled or _version_tuple(machine_version) > _version_tuple(BUNDLED_BOTOCORE_VERSION)):
        return machine, "botocore %s on this machine (%s)" % (machine_version, machine)
    if not bundled:
        raise RuntimeError("no botocore model for service %r (bundled dir %s)" % (service, MODELS_DIR))
    return bundled, "bundled copy from botocore %s (%s)" % (BUNDLED_BOTOCORE_VERSION, os.path.relpath(bundled, os.path.dirname(MODELS_DIR)))


# ---------------------------------------------------------------------------
# Time helpers shared by the emulator.
# ---------------------------------------------------------------------------
def parse_time(value):
    """ISO 8601 string or epoch number -> epoch float. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("not a time: %r" % (value,))
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise ValueError("not a time: %r" % (value,))
    s = value.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", s):
        return float(s)
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    m = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:?\d\d)?", s)
    if not m:
        raise ValueError("not an ISO 8601 time: %r" % (value,))
    base, frac, tz = m.group(1), m.group(2) or "", m.group(3) or "+00:00"
    if len(tz) == 5:
        tz = tz[:3] + ":" + tz[3:]
    dt = datetime.datetime.fromisoformat(base + tz)
    return dt.timestamp() + (float("0" + frac) if frac else 0.0)


def iso(epoch, millis=True):
    dt = datetime.datetime.fromtimestamp(float(epoch), datetime.timezone.utc)
    if millis:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
class SerializationError(Exception):
    pass


class JsonValue:
    """A REST-JSON body member inside RestParams: already JSON-typed."""

    def __init__(self, v):
        self.v = v


class RestParams(dict):
    """REST-JSON input: uri/querystring/header members are strings to be
    converted to their shape's type; body members are JsonValue."""


class RawJson:
    """A value a service hands over already serialised (JSON text, bytes),
    e.g. a stored Security Hub finding: it is spliced into the answer as is
    when its shape needs no wire conversion (no timestamp or blob anywhere
    below it) and the text has no null (which shape_output would drop);
    otherwise it is parsed and shaped like any other value."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text if isinstance(text, bytes) else text.encode("utf-8")

    def value(self):
        return json.loads(self.text)


def dumps(value):
    """json.dumps(value, separators=(",", ":")) as UTF-8 bytes, with RawJson
    texts spliced in verbatim (they only occur inside dicts and lists)."""
    if isinstance(value, RawJson):
        return value.text
    if isinstance(value, dict):
        if not _has_raw(value):
            return json.dumps(value, separators=(",", ":")).encode("utf-8")
        return b"{" + b",".join(json.dumps(str(k)).encode("utf-8") + b":" + dumps(v)
                                for k, v in value.items()) + b"}"
    if isinstance(value, list):
        if not _has_raw(value):
            return json.dumps(value, separators=(",", ":")).encode("utf-8")
        return b"[" + b",".join(dumps(v) for v in value) + b"]"
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _has_raw(value):
    """Whether a RawJson sits in value at depth 1 or 2 (where services put
    them: {"Findings": [raw, ...]}); deeper ones are found by the same test
    one level down."""
    items = value.values() if isinstance(value, dict) else value
    for v in items:
        if isinstance(v, RawJson):
            return True
        if isinstance(v, (dict, list)) and _has_raw(v):
            return True
    return False


class Model:
    def __init__(self, service, path=None, description=None):
        if path is None:
            path, description = choose_model(service)
        self.service = service
        self.path = path
        self.description = description
        self.data = _read_json(path)
        self.meta = self.data["metadata"]
        self.shapes = self.data["shapes"]
        self.operations = self.data["operations"]
        self.protocol = self.meta.get("protocol")
        self.signing_name = self.meta.get("signingName") or self.meta.get("endpointPrefix")
        self.target_prefix = self.meta.get("targetPrefix")
        self.api_version = self.meta.get("apiVersion")
        self._routes = None
        self._plain = {}          # id(shape) -> no timestamp/blob below it

    # -- routing (REST-JSON) ----------------------------------------------
    def routes(self):
        if self._routes is None:
            routes = []
            for name, op in self.operations.items():
                http = op.get("http", {})
                uri = http.get("requestUri", "/")
                path, _, query = uri.partition("?")
                parts = [p for p in path.split("/") if p != ""]
                static_query = dict(q.partition("=")[::2] for q in query.split("&") if q)
                routes.append((http.get("method", "POST"), parts, static_query, name))
            # literal segments first: more literal segments = more specific
            routes.sort(key=lambda r: (-sum(1 for p in r[1] if not p.startswith("{")), -len(r[1])))
            self._routes = routes
        return self._routes

    def route(self, method, raw_path, query_pairs):
        """Returns (operation, {label: value}) or None."""
        from urllib.parse import unquote
        segs = [s for s in raw_path.split("/") if s != ""]
        qkeys = {k for k, _ in query_pairs}
        for m, parts, static_query, name in self.routes():
            if m != method:
                continue
            if any(k not in qkeys for k in static_query):
                continue
            labels = {}
            ok = True
            i = 0
            for j, p in enumerate(parts):
                if p.startswith("{") and p.endswith("+}"):
                    rest = segs[i:]
                    if not rest:
                        ok = False
                        break
                    labels[p[1:-2]] = unquote("/".join(rest))
                    i = len(segs)
                    break
                if i >= len(segs):
                    ok = False
                    break
                if p.startswith("{"):
                    labels[p[1:-1]] = unquote(segs[i])
                elif p != segs[i]:
                    ok = False
                    break
                i += 1
            if ok and i == len(segs):
                return name, labels
        return None

    # -- validation ---------------------------------------------------------
    def input_shape(self, operation):
        ref = self.operations[operation].get("input")
        return self.shapes[ref["shape"]] if ref else {"type": "structure", "members": {}}

    def output_shape(self, operation):
        ref = self.operations[operation].get("output")
        return self.shapes[ref["shape"]] if ref else {"type": "structure", "members": {}}

    def check_types(self, shape, value, path="", from_strings=False):
        """Type-checks `value` (JSON-decoded) against `shape`, converting
        string-typed input (query protocol / querystring) to the shape's type.
        Returns the converted value; raises SerializationError."""
        t = shape.get("type")
        if isinstance(value, RestParams):
            out = {}
            members = shape.get("members", {})
            for k, v in value.items():
                if k not in members:
                    continue
                sub = self.shapes[members[k]["shape"]]
                if isinstance(v, JsonValue):
                    if v.v is not None:
                        out[k] = self.check_types(sub, v.v, k, False)
                else:
                    out[k] = self.check_types(sub, v, k, True)
            return out
        if t == "structure":
            if not isinstance(value, dict):
                raise SerializationError("Start of list found where not expected" if isinstance(value, list)
                                         else "Expected a structure at '%s'" % (path or "body"))
            out = {}
            members = shape.get("members", {})
            for k, v in value.items():
                if k not in members:
                    continue  # unknown members are ignored, as AWS's JSON front end does
                if v is None:
                    continue
                out[k] = self.check_types(self.shapes[members[k]["shape"]], v, _join(path, k), from_strings)
            return out
        if t == "list":
            if not isinstance(value, list):
                raise SerializationError("Start of structure or map found where not expected." if isinstance(value, dict)
                                         else "Expected a list at '%s'" % path)
            ms = self.shapes[shape["member"]["shape"]]
            return [self.check_types(ms, v, "%s.%d.member" % (path, i + 1), from_strings) for i, v in enumerate(value)]
        if t == "map":
            if not isinstance(value, dict):
                raise SerializationError("Expected a map at '%s'" % path)
            vs = self.shapes[shape["value"]["shape"]]
            return {str(k): self.check_types(vs, v, "%s.%s" % (path, k), from_strings) for k, v in value.items()}
        if t == "string":
            if not isinstance(value, str):
                raise SerializationError("%s can not be converted to a String" % _json_kind(value))
            return value
        if t in ("integer", "long"):
            if from_strings and isinstance(value, str):
                if not re.fullmatch(r"-?\d+", value.strip()):
                    raise SerializationError("Value '%s' at '%s' can not be converted to an %s"
                                             % (value, path, "Integer" if t == "integer" else "Long"))
                return int(value)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
                raise SerializationError("%s can not be converted to an %s"
                                         % (_json_kind(value), "Integer" if t == "integer" else "Long"))
            return int(value)
        if t in ("double", "float"):
            if from_strings and isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    raise SerializationError("Value '%s' at '%s' can not be converted to a Double" % (value, path))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SerializationError("%s can not be converted to a Double" % _json_kind(value))
            return float(value)
        if t == "boolean":
            if from_strings and isinstance(value, str):
                if value.lower() in ("true", "false"):
                    return value.lower() == "true"
                raise SerializationError("Value '%s' at '%s' can not be converted to a Boolean" % (value, path))
            if not isinstance(value, bool):
                raise SerializationError("%s can not be converted to a Boolean" % _json_kind(value))
            return value
        if t == "timestamp":
            try:
                return parse_time(value)
            except ValueError:
                raise SerializationError("%s can not be converted to a Timestamp" % _json_kind(value))
        if t == "blob":
            if not isinstance(value, str):
                raise SerializationError("%s can not be converted to a Blob" % _json_kind(value))
            try:
                return base64.b64decode(value, validate=True)
            except ValueError:
                raise SerializationError("Value at '%s' is not valid base64" % path)
        return value

    def constraints(self, shape, value, path, problems, lower_first=True):
        """Collects AWS-style constraint messages into `problems`."""
        t = shape.get("type")
        if t == "structure":
            members = shape.get("members", {})
            for req in shape.get("required", []):
                if req in members and value.get(req) is None:
                    problems.append("Value null at '%s' failed to satisfy constraint: Member must not be null"
                                    % _join(path, _name(req, lower_first)))
            for k, v in value.items():
                self.constraints(self.shapes[members[k]["shape"]], v, _join(path, _name(k, lower_first)), problems, lower_first)
            return
        shown = _show(value)
        if t in ("list", "map", "string", "blob"):
            n = len(value)
            if "min" in shape and n < shape["min"]:
                problems.append("Value %s at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d"
                                % (shown, path, shape["min"]))
            if "max" in shape and n > shape["max"]:
                problems.append("Value %s at '%s' failed to satisfy constraint: Member must have length less than or equal to %d"
                                % (shown, path, shape["max"]))
        if t == "string":
            if "enum" in shape and value not in shape["enum"]:
                problems.append("Value %s at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]"
                                % (shown, path, ", ".join(shape["enum"])))
            pat = shape.get("pattern")
            if pat and len(pat) < 300:
                try:
                    if re.search(pat if pat.startswith("^") else "^(?:%s)$" % pat, value, re.S) is None:
                        problems.append("Value %s at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s"
                                        % (shown, path, pat))
                except re.error:
                    pass
        if t in ("integer", "long", "double", "float"):
            if "min" in shape and value < shape["min"]:
                problems.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %s"
                                % (value, path, _num(shape["min"])))
            if "max" in shape and value > shape["max"]:
                problems.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value less than or equal to %s"
                                % (value, path, _num(shape["max"])))
        if t == "list":
            ms = self.shapes[shape["member"]["shape"]]
            for i, v in enumerate(value):
                self.constraints(ms, v, "%s.%d.member" % (path, i + 1), problems, lower_first)
        if t == "map":
            ks = self.shapes[shape["key"]["shape"]]
            vs = self.shapes[shape["value"]["shape"]]
            for k, v in value.items():
                self.constraints(ks, k, "%s.key" % path, problems, lower_first)
                self.constraints(vs, v, "%s.value" % path, problems, lower_first)

    def validate(self, operation, params, from_strings=False, code="ValidationException",
                 serialization_code="SerializationException", lower_first=True):
        """Type-check + constraints. Returns the converted params or raises ApiError."""
        shape = self.input_shape(operation)
        try:
            clean = self.check_types(shape, params, "", from_strings)
        except SerializationError as exc:
            raise ApiError(400, serialization_code, str(exc))
        problems = []
        self.constraints(shape, clean, "", problems, lower_first)
        if problems:
            n = len(problems)
            raise ApiError(400, code, "%d validation error%s detected: %s"
                           % (n, "" if n == 1 else "s", "; ".join(problems)))
        return clean

    # -- output shaping -----------------------------------------------------
    def plain(self, shape):
        """True when no timestamp or blob is reachable from shape (its
        values need no wire conversion). Memoised per shape (a full walk per
        asked shape, so cycles in the model cannot leave a wrong answer)."""
        key = id(shape)
        hit = self._plain.get(key)
        if hit is not None:
            return hit
        seen, todo, r = set(), [shape], True
        while todo and r:
            s = todo.pop()
            if id(s) in seen:
                continue
            seen.add(id(s))
            t = s.get("type")
            if t in ("timestamp", "blob"):
                r = False
            elif t == "structure":
                todo.extend(self.shapes[ref["shape"]] for ref in s.get("members", {}).values())
            elif t == "list":
                todo.append(self.shapes[s["member"]["shape"]])
            elif t == "map":
                todo.append(self.shapes[s["value"]["shape"]])
        self._plain[key] = r
        return r

    def shape_output(self, shape, value, ts_format):
        """Converts timestamps for the wire; unknown members pass through."""
        if value is None:
            return None
        if isinstance(value, RawJson):
            if b"null" not in value.text and self.plain(shape):
                return value
            value = value.value()
        t = shape.get("type")
        if t == "structure" and isinstance(value, dict):
            members = shape.get("members", {})
            out = {}
            for k, v in value.items():
                if v is None:
                    continue
                if k in members:
                    out[k] = self.shape_output(self.shapes[members[k]["shape"]], v, ts_format)
                else:
                    out[k] = v
            return out
        if t == "list" and isinstance(value, list):
            ms = self.shapes[shape["member"]["shape"]]
            return [self.shape_output(ms, v, ts_format) for v in value]
        if t == "map" and isinstance(value, dict):
            vs = self.shapes[shape["value"]["shape"]]
            return {k: self.shape_output(vs, v, ts_format) for k, v in value.items()}
        if t == "timestamp":
            fmt = shape.get("timestampFormat", ts_format)
            try:
                epoch = parse_time(value)
            except ValueError:
                return value
            if fmt == "unixTimestamp":
                return int(epoch) if float(epoch).is_integer() else round(epoch, 3)
            return iso(epoch, millis=(fmt != "iso8601-seconds"))
        if t == "blob" and isinstance(value, (bytes, bytearray)):
            return base64.b64encode(value).decode()
        return value

    def to_xml(self, shape, value, name, out, indent="  "):
        """Appends the XML for `value` as element <name> to list `out`."""
        if value is None:
            return
        t = shape.get("type")
        if t == "structure":
            out.append("%s<%s>" % (indent, name))
            for k, ref in shape.get("members", {}).items():
                if k in value:
                    self.to_xml(self.shapes[ref["shape"]], value[k], ref.get("locationName", k), out, indent + "  ")
            out.append("%s</%s>" % (indent, name))
        elif t == "list":
            mref = shape["member"]
            out.append("%s<%s>" % (indent, name))
            for v in value:
                self.to_xml(self.shapes[mref["shape"]], v, mref.get("locationName", "member"), out, indent + "  ")
            out.append("%s</%s>" % (indent, name))
        elif t == "map":
            out.append("%s<%s>" % (indent, name))
            for k, v in value.items():
                out.append("%s  <entry><key>%s</key>" % (indent, _xml_escape(str(k))))
                self.to_xml(self.shapes[shape["value"]["shape"]], v, "value", out, indent + "    ")
                out.append("%s  </entry>" % indent)
            out.append("%s</%s>" % (indent, name))
        else:
            if t == "timestamp":
                text = iso(parse_time(value), millis=False)
            elif t == "boolean":
                text = "true" if value else "false"
            elif t == "blob" and isinstance(value, (bytes, bytearray)):
                text = base64.b64encode(value).decode()
            else:
                text = str(value)
            out.append("%s<%s>%s</%s>" % (indent, name, _xml_escape(text), name))


def _join(path, name):
    return name if not path else "%s.%s" % (path, name)


def _name(member, lower_first):
    return member[:1].lower() + member[1:] if lower_first else member


def _show(value):
    if isinstance(value, (list, dict)):
        return "'%s'" % json.dumps(value, separators=(",", ":"))[:200]
    if isinstance(value, (bytes, bytearray)):
        return "'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]'" % (len(value), len(value))
    return "'%s'" % value


def _num(x):
    return str(int(x)) if float(x).is_integer() else str(x)


def _json_kind(value):
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    if isinstance(value, float):
        return "DECIMAL_VALUE"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, dict):
        return "START_OBJECT"
    return "NULL"
