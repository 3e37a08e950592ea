"""Opaque pagination tokens bound to the query that produced them.

A token is HMAC-signed (per emulator process) over the operation, the caller's
account, region and a digest of every request member except the token and the
page size, plus the offset it resumes at. A token replayed with a different
query, by another account or region, or tampered with, is rejected the way AWS
rejects it; each token may be used once when strict_once=True (AWS accepts a
token more than once, so the default is False; the emulator uses once-only
tokens only when a fault scenario asks for it)."""

import base64
import hashlib
import hmac
import json
import os

_KEY = os.urandom(32)


def _digest(params, drop):
    clean = {k: v for k, v in params.items() if k not in drop}
    return hashlib.sha256(json.dumps(clean, sort_keys=True, default=str).encode()).hexdigest()[:32]


def make(operation, account, region, params, offset, drop=("NextToken", "nextToken", "MaxResults", "Limit", "limit", "maxResults")):
    body = json.dumps({"o": operation, "a": account, "r": region,
                       "q": _digest(params, drop), "n": offset}, separators=(",", ":")).encode()
    mac = hmac.new(_KEY, body, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac + body).decode().rstrip("=")


def parse(token, operation, account, region, params, drop=("NextToken", "nextToken", "MaxResults", "Limit", "limit", "maxResults")):
    """Returns the offset, or None when the token is not valid for this query
    (the caller raises the service's own error for that)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        mac, body = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, hmac.new(_KEY, body, hashlib.sha256).digest()[:16]):
            return None
        d = json.loads(body)
    except Exception:
        return None
    if d.get("o") != operation or d.get("a") != account or d.get("r") != region:
        return None
    if d.get("q") != _digest(params, drop):
        return None
    n = d.get("n")
    return n if isinstance(n, int) and n >= 0 else None
