#!/usr/bin/env python3
"""differential.py: driftsync's SigV4 signer against botocore's, request by request.

Generates --count requests from a seeded PRNG (deterministic: same seed, same
requests), feeds them all, as JSON lines, to the C tool (tests/sigv4/
sigv4-sign.c) in one run and to shared/tools/sigv4-oracle in one run (it is
slow to start), and requires identical signatures, canonical requests,
strings to sign, Authorization values and added headers; for presigned
requests, the same signature and the same set of query parameters.

What is generated: random methods; wire paths with reserved characters,
raw UTF-8, percent-escapes (upper and lower case hex, so '%' gets double
encoded), dot segments, "//" and trailing slashes; queries with repeated and
unsorted keys, keys without '=', empty values, raw reserved characters, '+',
raw UTF-8 and escapes; headers in mixed case, repeated (also across case),
with odd whitespace (runs of spaces and tabs, leading/trailing, obs-fold line
breaks), non-ASCII values and empty values, plus User-Agent / Expect /
X-Amzn-Trace-Id, which neither side signs; empty, text, binary and a few
>= 1 MiB bodies; with and without session tokens and sign_body; times from
2015 to 2035; and a share of presigned (query) requests with empty bodies.

The oracle is told normalize_query, so botocore decodes and re-encodes the
query itself, which is what our signer does with the wire query.

Where botocore and driftsync differ on purpose, the generator stays away
(each is a botocore quirk, not an AWS rule; README in shared/testdata/sigv4
lists the ones the vectors show):
  * percent-escapes in the query that decode to invalid UTF-8: botocore's
    unquote() substitutes U+FFFD, we keep the bytes ("%FF" stays "%FF");
  * empty query pieces ("a=1&&b=2"): botocore signs an empty "=" pair, we
    skip the piece;
  * a Date header: botocore then signs Date instead of X-Amz-Date;
  * caller-supplied Authorization / X-Amz-Date / X-Amz-Security-Token:
    botocore replaces them, we refuse the request;
  * header values with Unicode whitespace (U+00A0, U+2003...) or control
    characters: Python's str.split() folds them, we fold only SP/HTAB/obs-fold
    and refuse other control characters;
  * sign_body when presigning: the vectors (post-x-www-form-urlencoded*) do
    not add x-amz-content-sha256 to a presigned request, the oracle would;
  * presigned requests with repeated query keys, bodies, or the form
    Content-Type: botocore's presigner dedups keys (parse_qs), moves bodies
    into the query and drops that Content-Type;
  * the six *-unnormalized vectors and post-sts-header-after (botocore always
    normalizes non-S3 paths and always signs the token) are covered by the
    unit test against the vectors instead.

Prints a summary, the first few mismatches with a diff of the canonical
requests, the run time, and "N passed, N failed"; exit status 0 only when
every request matched and at least --count were compared.
"""

import argparse
import base64
import difflib
import json
import random
import subprocess
import sys
import threading
import time
from urllib.parse import unquote, urlsplit

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
HOSTS = [
    "config.us-east-1.amazonaws.com",
    "securityhub.eu-central-1.amazonaws.com",
    "example.amazonaws.com",
    "127.0.0.1:4566",
    "localhost:8443",
]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]
SERVICES = ["config", "securityhub", "sts", "service", "execute-api"]
UNICODE = ["é", "ሴ", "中文", "😀", "ß", "Ω", "ü"]
PATH_RESERVED = "!$&'()*+,;=:@[]\\|^`{}\"<>"
QUERY_RESERVED = "!$'()*,;:@/?[]|^`{}"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
HEADER_NAMES = ["X-Custom", "x-custom", "X-CUSTOM", "Content-Type", "Accept", "X-Amz-Target",
                "X-Amz-Meta-Data", "Content-Length", "Cache-Control", "X-Forwarded-For",
                "x-amz-user-agent", "If-None-Match", "X_Under", "X.Dot", "X~Tilde!#$%&'*+^`|"]
UNSIGNED_NAMES = ["User-Agent", "Expect", "X-Amzn-Trace-Id", "user-agent"]


def pct(s, rng):
    """Percent-encode every byte of s, with upper- or lower-case hex."""
    out = "".join("%%%02X" % b for b in s.encode("utf-8"))
    return out.lower() if rng.random() < 0.3 else out


def word(rng, n=None):
    n = n if n is not None else rng.randint(1, 8)
    return "".join(rng.choice(UNRESERVED) for _ in range(n))


def gen_segment(rng):
    kind = rng.random()
    if kind < 0.08:
        return rng.choice([".", "..", ""])
    parts = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.35:
            parts.append(word(rng))
        elif r < 0.5:
            parts.append(rng.choice(PATH_RESERVED))
        elif r < 0.65:
            parts.append(rng.choice(UNICODE))
        elif r < 0.85:
            parts.append(pct(rng.choice([":", "/", " ", "%", "?", "#"] + UNICODE), rng))
        else:
            parts.append(word(rng, 2) + " " + word(rng, 2))  # raw space, never trailing
    return "".join(parts)


def gen_path(rng):
    if rng.random() < 0.1:
        return "/"
    segs = [gen_segment(rng) for _ in range(rng.randint(1, 6))]
    path = "/" + "/".join(segs)
    if rng.random() < 0.3:
        path += "/"
    if rng.random() < 0.1:
        path = "/" + path  # leading "//"
    return path


def gen_query_token(rng):
    r = rng.random()
    if r < 0.35:
        return word(rng)
    if r < 0.5:
        return word(rng, 2) + rng.choice(QUERY_RESERVED) + word(rng, 2)
    if r < 0.6:
        return word(rng, 2) + "+" + word(rng, 2)
    if r < 0.7:
        return rng.choice(UNICODE)
    if r < 0.9:
        return pct(rng.choice(["a b", "/", "=", "&", "+", "%", "#", "é", "x:y"]), rng)
    return ""


def gen_query(rng, unique):
    if rng.random() < 0.3:
        return ""
    pool = [word(rng, rng.randint(1, 4)) for _ in range(3)] + ["Action", "Filter.1.Name"]
    pairs, used = [], set()
    for _ in range(rng.randint(1, 7)):
        if rng.random() < 0.5:
            key = rng.choice(pool)  # repeats likely
        else:
            key = gen_query_token(rng) or "k"
        if unique:  # as botocore's presigner sees them: decoded
            if unquote(key) in used or unquote(key).startswith("X-Amz-"):
                continue
            used.add(unquote(key))
        r = rng.random()
        if r < 0.1:
            pairs.append(key)  # no '='
        elif r < 0.2:
            pairs.append(key + "=")
        else:
            val = gen_query_token(rng)
            if rng.random() < 0.1:
                val += "=" + word(rng, 2)  # '=' inside the value
            pairs.append(key + "=" + val)
    return "&".join(pairs)


def gen_value(rng):
    r = rng.random()
    if r < 0.05:
        return ""
    parts = []
    for _ in range(rng.randint(1, 4)):
        t = rng.random()
        if t < 0.6:
            parts.append(word(rng))
        elif t < 0.7:
            parts.append(rng.choice(UNICODE))
        else:
            parts.append(rng.choice(["/", ";", "=", ",", "\"", ":", "(x)", "a=b; c=d"]))
    sep = lambda: rng.choice([" ", "  ", "\t", " \t ", "     ", "\n ", "\r\n\t", " "])
    value = parts[0]
    for p in parts[1:]:
        value += sep() + p
    if rng.random() < 0.3:
        value = rng.choice([" ", "  ", "\t"]) + value
    if rng.random() < 0.3:
        value += rng.choice([" ", "  ", "\t", " \t"])
    return value


def gen_headers(rng, host, presign):
    headers = []
    for _ in range(rng.randint(0, 6)):
        name = rng.choice(HEADER_NAMES)
        headers.append([name, gen_value(rng)])
    if rng.random() < 0.2:
        headers.append([rng.choice(UNSIGNED_NAMES), "driftsync/0.1 " + word(rng)])
    if not presign and rng.random() < 0.15:
        headers.append(["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"])
    pos = rng.randint(0, len(headers))
    headers.insert(pos, [rng.choice(["Host", "host", "HOST"]), host])
    return headers


def gen_body(rng, index, large_at):
    if index in large_at:
        size = (1 << 20) + rng.randint(0, 4096)
        return {"body_b64": base64.b64encode(rng.randbytes(size)).decode()}
    r = rng.random()
    if r < 0.4:
        return {}
    if r < 0.7:
        text = json.dumps({"Expression": word(rng, 20), "Limit": rng.randint(1, 100),
                           "Name": rng.choice(UNICODE)}, ensure_ascii=False)
        return {"body": text}
    return {"body_b64": base64.b64encode(rng.randbytes(rng.randint(1, 3000))).decode()}


def gen_request(rng, index, large_at):
    presign = rng.random() < 0.06
    host = rng.choice(HOSTS)
    path = gen_path(rng)
    query = gen_query(rng, unique=presign)
    url = "https://" + host + path + ("?" + query if query else "")
    obj = {
        "id": index,
        "method": rng.choice(METHODS),
        "url": url,
        "headers": gen_headers(rng, host, presign),
        "region": rng.choice(REGIONS),
        "service": rng.choice(SERVICES),
        "access_key": rng.choice(["AKIA", "ASIA"]) + "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        # a few identities repeat so the C tool's key cache gets hits too
        "secret_key": rng.choice(["wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                  "".join(rng.choice(B64) for _ in range(40))]),
        "time": time.strftime("%Y%m%dT%H%M%SZ",
                              time.gmtime(rng.randint(1420070400, 2051222400))),
        "normalize_query": True,
    }
    if rng.random() < 0.4:
        obj["token"] = "".join(rng.choice(B64) for _ in range(rng.randint(20, 400))) + "=="
    if presign:
        obj["presign"] = True
        obj["expires"] = rng.choice([1, 60, 3600, 86400, 604800, rng.randint(1, 604800)])
    else:
        obj["sign_body"] = rng.random() < 0.4
        obj.update(gen_body(rng, index, large_at))
    return obj


def run(argv, payload):
    start = time.monotonic()
    proc = subprocess.run(argv, input=payload, capture_output=True, check=False)
    elapsed = time.monotonic() - start
    lines = [json.loads(l) for l in proc.stdout.decode("utf-8").splitlines() if l.strip()]
    return proc.returncode, lines, proc.stderr.decode("utf-8", "replace"), elapsed


def query_params(query):
    return sorted(p for p in query.split("&") if p)


def compare(req, ours, theirs):
    """Returns a list of problems (empty when the two agree)."""
    problems = []
    if "error" in ours or "error" in theirs:
        return ["driftsync: %s / botocore: %s" % (ours.get("error"), theirs.get("error"))]
    for field in ("canonical_request", "string_to_sign", "signature", "signed_headers",
                  "credential_scope", "timestamp"):
        if ours.get(field) != theirs.get(field):
            problems.append(field)
    if req.get("presign"):
        want = query_params(urlsplit(theirs["url"]).query)
        got = query_params(ours.get("presigned_query") or "")
        if got != want:
            problems.append("presigned query: %s != %s" % (
                sorted(set(got) - set(want)), sorted(set(want) - set(got))))
    else:
        if ours.get("authorization") != theirs.get("authorization"):
            problems.append("authorization")
        if ours.get("added_headers") != theirs.get("added_headers"):
            problems.append("added headers: %s != %s" % (ours.get("added_headers"),
                                                         theirs.get("added_headers")))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True, help="path of the sigv4-sign test tool")
    ap.add_argument("--oracle", required=True, help="path of shared/tools/sigv4-oracle")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20150830)
    ap.add_argument("--large", type=int, default=4, help="how many >= 1 MiB bodies")
    ap.add_argument("--show", type=int, default=5, help="mismatches to print in full")
    args = ap.parse_args()

    t0 = time.monotonic()
    rng = random.Random(args.seed)
    large_at = set(rng.sample(range(args.count), min(args.large, args.count)))
    reqs = [gen_request(rng, i, large_at) for i in range(args.count)]
    payload = ("\n".join(json.dumps(r, ensure_ascii=False) for r in reqs) + "\n").encode()

    results = {}

    def worker(name, argv):
        results[name] = run(argv, payload)

    threads = [threading.Thread(target=worker, args=("ours", [args.tool])),
               threading.Thread(target=worker,
                                args=("oracle", [sys.executable, args.oracle]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rc_o, ours, err_o, time_o = results["ours"]
    rc_b, theirs, err_b, time_b = results["oracle"]
    if len(ours) != len(reqs) or len(theirs) != len(reqs):
        print("output count mismatch: %d requests, driftsync %d (rc %d), botocore %d (rc %d)"
              % (len(reqs), len(ours), rc_o, len(theirs), rc_b))
        print(err_o[-2000:], err_b[-2000:])
        print("0 passed, %d failed" % len(reqs))
        return 1

    # negative control: the comparison itself must notice a one-character
    # change in each compared field, or a pass would mean nothing
    for field in ("signature", "canonical_request", "string_to_sign"):
        bent = dict(ours[0])
        bent[field] = (bent.get(field) or "") + "x"
        if not compare(reqs[0], bent, theirs[0]):
            print("self-check failed: a changed %s went unnoticed" % field)
            print("0 passed, %d failed" % len(reqs))
            return 1

    passed = failed = shown = 0
    stats = {"presign": 0, "token": 0, "sign_body": 0, "large": 0, "binary": 0,
             "repeated_query_keys": 0, "pct_in_path": 0}
    version = theirs[0].get("botocore_version", "?")
    for req, o, b in zip(reqs, ours, theirs):
        if o.get("id") != req["id"] or b.get("id") != req["id"]:
            problems = ["id mismatch %r %r %r" % (req["id"], o.get("id"), b.get("id"))]
        else:
            problems = compare(req, o, b)
        stats["presign"] += bool(req.get("presign"))
        stats["token"] += "token" in req
        stats["sign_body"] += bool(req.get("sign_body"))
        stats["large"] += len(req.get("body_b64", "")) > (1 << 20)
        stats["binary"] += "body_b64" in req
        keys = [p.partition("=")[0] for p in urlsplit(req["url"]).query.split("&") if p]
        stats["repeated_query_keys"] += len(keys) != len(set(keys))
        stats["pct_in_path"] += "%" in urlsplit(req["url"]).path
        if not problems:
            passed += 1
            continue
        failed += 1
        if shown < args.show:
            shown += 1
            print("MISMATCH request %s: %s" % (req["id"], "; ".join(problems)))
            print("  input:", json.dumps(req, ensure_ascii=False)[:1500])
            if "canonical_request" in o and "canonical_request" in b:
                diff = difflib.unified_diff(b["canonical_request"].splitlines(),
                                            o["canonical_request"].splitlines(),
                                            "botocore", "driftsync", lineterm="")
                print("\n".join("  " + l for l in diff))
    elapsed = time.monotonic() - t0
    print("differential: %d requests (seed %d) vs botocore %s: %s" % (
        len(reqs), args.seed, version, ", ".join("%s %d" % kv for kv in stats.items())))
    print("time: %.1fs total (driftsync %.2fs, botocore %.1fs)" % (elapsed, time_o, time_b))
    print("%d passed, %d failed" % (passed, failed))
    if rc_o not in (0,) or rc_b not in (0,):
        print("exit codes: driftsync %d, botocore %d" % (rc_o, rc_b))
    return 0 if failed == 0 and passed >= args.count and rc_o == 0 and rc_b == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
