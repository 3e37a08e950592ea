"""SigV4 verification of received requests, with botocore's own signer.

Design: a server must recompute the signature from what it received, so we
rebuild a botocore AWSRequest from the raw method, the raw path (botocore
encodes it once more, exactly as it does for the requests it signs itself),
the raw query string, only the headers listed in SignedHeaders, and the body;
then run SigV4Auth.canonical_request / string_to_sign / signature with
request.context['timestamp'] set to the received X-Amz-Date (so no clock
patching is needed; these methods read the time from the context in every
botocore from 1.29 to 1.43). Headers botocore itself never signs
(User-Agent, Expect, X-Amzn-Trace-Id) are put back when the client signed
them. Parsing of the Authorization header and the AWS error texts live here;
which error code a failure maps to is the server's business (JSON services
and STS name them differently).
"""

import hmac
import re

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTH_RE = re.compile(r"^\s*AWS4-HMAC-SHA256\s+(.*)$", re.S)


class AuthProblem(Exception):
    """kind: 'missing', 'incomplete', 'scope', 'signature'."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


class ParsedAuth:
    def __init__(self, access_key, date, region, service, signed_headers, signature):
        self.access_key = access_key
        self.date = date
        self.region = region
        self.service = service
        self.signed_headers = signed_headers
        self.signature = signature


def parse_authorization(headers):
    """headers: list of (name, value). Returns ParsedAuth or raises AuthProblem."""
    values = [v for n, v in headers if n.lower() == "authorization"]
    if not values:
        raise AuthProblem("missing", "Missing Authentication Token")
    value = values[0]
    m = _AUTH_RE.match(value)
    if not m:
        raise AuthProblem("incomplete", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                          "Authorization=%s" % value[:60] if "AWS4" in value else
                          "Authorization header must use AWS4-HMAC-SHA256 (got %r)" % value.split(" ")[0])
    fields = {}
    for part in m.group(1).split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
    if missing:
        raise AuthProblem("incomplete", "Authorization header requires '%s' parameter. Authorization=%s"
                          % (missing[0], value))
    cred = fields["Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request" or not cred[0]:
        raise AuthProblem("incomplete", "Credential should be scoped to a valid region. ")
    names = [n for n in fields["SignedHeaders"].split(";") if n]
    return ParsedAuth(cred[0], cred[1], cred[2], cred[3], names, fields["Signature"])


class _VerifyingSigner(SigV4Auth):
    def __init__(self, credentials, service, region, signed_names):
        super().__init__(credentials, service, region)
        self._signed = set(signed_names)

    def headers_to_sign(self, request):
        header_map = super().headers_to_sign(request)
        for name, value in request.headers.items():
            if name.lower() in SIGNED_HEADERS_BLACKLIST and name.lower() in self._signed:
                header_map[name.lower()] = value
        return header_map


def verify(method, raw_path, raw_query, headers, body, auth, secret_key, amz_date, host_fallback):
    """Recomputes the signature. Returns (ok, canonical_request, string_to_sign).

    headers: list of (name, value) as received; only the signed ones are used.
    amz_date: the X-Amz-Date value (20150830T123600Z)."""
    signed = set(auth.signed_headers)
    url = "http://%s%s" % (host_fallback, raw_path or "/")
    if raw_query:
        url += "?" + raw_query
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        if name.lower() in signed:
            request.headers[name] = value
    request.context["timestamp"] = amz_date
    signer = _VerifyingSigner(Credentials(auth.access_key, secret_key), auth.service, auth.region, signed)
    canonical = signer.canonical_request(request)
    # The canonical request must sign exactly the client's header list.
    sts = signer.string_to_sign(request, canonical)
    expected = signer.signature(sts, request)
    ok = hmac.compare_digest(expected, auth.signature)
    listed = canonical.split("\n")[-2].split(";")
    if sorted(listed) != sorted(signed):
        ok = False
    return ok, canonical, sts
