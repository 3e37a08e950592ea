#!/usr/bin/env python3
"""make_seeds.py: builds the seed corpora in tests/fuzz/corpus/<harness>/.

Reads the recorded AWS responses in ../shared/testdata/aws (placebo
recordings of cloud-custodian, AWS Config RDK example items, Security Hub
findings of automated-security-response-on-aws), the SigV4 vectors in
../shared/testdata/sigv4, the sample organisation in examples/sample-org
and the unit-test data under tests/data, and writes small seed files in the
input format of each harness (tests/fuzz/fuzz_<name>.c describes it: a
selector byte and NUL-separated parts where the harness takes several).

Usage: tests/fuzz/make_seeds.py [--shared DIR] [--out DIR]
The seeds are committed (a few hundred KB in all, each at most MAX_SEED
bytes), so the fuzz run and the replay tests stand alone; rerun this after
the recorded data changes. Writes are deterministic (sorted inputs, names
from a content hash), so a rerun on the same data changes nothing.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_SEED = 12 * 1024
NUL = b"\x00"


class Corpus:
    def __init__(self, out):
        self.out = out
        self.count = {}

    def add(self, harness, data):
        if isinstance(data, str):
            data = data.encode()
        if len(data) > MAX_SEED:
            return
        d = os.path.join(self.out, harness)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        self.count[harness] = self.count.get(harness, 0) + 1


def read(path):
    with open(path, "rb") as f:
        return f.read()


def load_json(path):
    try:
        return json.loads(read(path))
    except (ValueError, OSError) as e:
        print(f"make_seeds: {path}: {e}, skipped", file=sys.stderr)
        return None


def compact(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def placebo(shared, pattern):
    """(path, data) of placebo recordings matching pattern, status 200 only."""
    for p in sorted(glob.glob(os.path.join(shared, "testdata/aws/cloud-custodian/placebo", pattern))):
        doc = load_json(p)
        if isinstance(doc, dict) and "data" in doc:
            yield p, doc["data"]


def ndjson(path, limit):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
            if len(out) >= limit:
                break
    return out


def strip_meta(d):
    d = dict(d)
    d.pop("ResponseMetadata", None)
    return d


def seeds_config(c):
    for p in sorted(glob.glob(os.path.join(ROOT, "examples/*.yaml")) +
                    glob.glob(os.path.join(ROOT, "tests/data/config/*/*.yaml"))):
        c.add("config", read(p))


def seeds_rules(c):
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/data/mapping/*.yaml")) +
                    glob.glob(os.path.join(ROOT, "tests/data/mapping/bad/*.yaml"))):
        c.add("rules", read(p))
    # the built-in rules, cut into documents of a few rules each
    text = read(os.path.join(ROOT, "mapping/rules.yaml")).decode()
    body = text.split("\nrules:\n", 1)
    if len(body) == 2:
        rules = re.split(r"\n(?=  - resource_type:)", body[1])
        for i in range(0, len(rules), 6):
            c.add("rules", "version: 1\nrules:\n" + "\n".join(rules[i:i + 6]) + "\n")


def sample_items(limit_per_file):
    items = []
    for p in sorted(glob.glob(os.path.join(ROOT, "examples/sample-org/accounts/*/*/resources.ndjson"))):
        items.append(ndjson(p, limit_per_file))
    return items


def seeds_models(c):
    for p in [os.path.join(ROOT, "tests/data/store/model.json"),
              os.path.join(ROOT, "tests/data/diff/base.json")]:
        if os.path.exists(p):
            c.add("model", read(p))
            c.add("store", b"vpc-1" + NUL + b"changed" + NUL + read(p))
    models = load_json(os.path.join(ROOT, "tests/data/compliance/models.json"))
    if isinstance(models, list):
        for m in models[:4]:
            c.add("model", compact(m))
    for spec in [b"vpc-1", b"prod", b"111111111111/us-east-1/vpc-2", b"staging", b"vpc-%",
                 b"111111111111/us-east-1/", b"'; DROP TABLE vpcs; --"]:
        for kind in [b"only_in_model", b"only_in_vpc", b"changed", b"x' OR 1=1 --"]:
            c.add("store", spec + NUL + kind)
    for p, item in enumerate(sample_items(8)):
        c.add("map", compact(item))


def seeds_discover(c, shared):
    for p, data in placebo(shared, "*/config.SelectResourceConfig_*.json"):
        body = compact(strip_meta(data)).encode()
        c.add("discover", b"\x00" + body)
        c.add("discover", b"\x02" + body)
        for row in data.get("Results", [])[:3]:
            c.add("discover_item", row if isinstance(row, str) else compact(row))
    cis = []
    for p in sorted(glob.glob(os.path.join(shared, "testdata/aws/aws-config-rdk/rdk/template/example_ci/*.json"))):
        ci = load_json(p)
        if ci is None:
            continue
        c.add("discover_item", compact(ci))
        cis.append(ci)
    lists = [strip_meta(d) for _, d in placebo(shared, "*/config.ListDiscoveredResources_*.json")]
    for i, lst in enumerate(lists):
        batch = {"baseConfigurationItems": [], "unprocessedResourceKeys": []}
        for ci in cis[i:i + 2]:
            b = dict(ci)
            if isinstance(b.get("configuration"), (dict, list)):
                b["configuration"] = compact(b["configuration"])
            batch["baseConfigurationItems"].append(b)
        c.add("discover", b"\x01" + compact(lst).encode() + NUL + compact(batch).encode())
    # select pages built from the sample organisation (rows are JSON strings)
    for items in sample_items(6):
        page = {"Results": [compact(it) for it in items]}
        c.add("discover", b"\x00" + compact(page).encode())
        c.add("discover", b"\x00" + compact(dict(page, NextToken="t1")).encode() + NUL +
              compact({"Results": []}).encode())
        for it in items[:2]:
            c.add("discover_item", compact(it))


def seeds_securityhub(c, shared):
    for p, data in placebo(shared, "*/securityhub.GetFindings_*.json"):
        f = strip_meta(data)
        c.add("sh_findings", b"\x00" + compact(f).encode())
        if f.get("Findings"):
            c.add("sh_findings", b"\x01" + compact({"Findings": f["Findings"][:1]}).encode())
    for p in sorted(glob.glob(os.path.join(shared, "testdata/aws/automated-security-response-on-aws/simtest/simdata/*.json")))[:8]:
        ev = load_json(p)
        findings = ev.get("detail", {}).get("findings") if isinstance(ev, dict) else None
        if findings:
            c.add("sh_findings", b"\x00" + compact({"Findings": findings}).encode())
    for p in sorted(glob.glob(os.path.join(ROOT, "examples/sample-org/accounts/*/*/findings.ndjson")))[:3]:
        fs = ndjson(p, 3)
        c.add("sh_findings", b"\x00" + compact({"Findings": fs}).encode())
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/data/securityhub/*.json"))):
        c.add("sh_findings", b"\x00" + compact({"Findings": [load_json(p)]}).encode())
    for p in sorted(glob.glob(os.path.join(ROOT, "examples/sample-org/accounts/*/*/securityhub.json")))[:2]:
        hub = load_json(p) or {}
        subs = {"StandardsSubscriptions": hub.get("standards_subscriptions", [])}
        c.add("sh_standards", b"\x00" + compact(subs).encode())
    cat = load_json(os.path.join(ROOT, "examples/sample-org/securityhub-catalog.json")) or {}
    for key, val in sorted(cat.items()):
        if isinstance(val, list) and val:
            c.add("sh_standards", b"\x02" + compact({"SecurityControlDefinitions": val[:8]}).encode())
            c.add("sh_standards", b"\x01" + compact({"Controls": val[:8]}).encode())
        elif isinstance(val, dict):
            for k2, v2 in sorted(val.items())[:2]:
                if isinstance(v2, list):
                    c.add("sh_standards", b"\x01" + compact({"Controls": v2[:8]}).encode())
    c.add("sh_standards", b"\x03arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0")


def seeds_creds(c, shared):
    meta = {"Code": "Success", "LastUpdated": "2024-01-02T12:00:00Z", "Type": "AWS-HMAC",
            "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret",
            "Token": "token", "Expiration": "2024-01-02T18:00:00Z"}
    c.add("creds", b"\x00" + compact(meta).encode())
    c.add("creds", b"\x02token-abc" + NUL + b"driftsync-role" + NUL + compact(meta).encode())
    cont = {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret", "Token": "token",
            "Expiration": "2024-01-02T18:00:00Z"}
    c.add("creds", b"\x03" + compact(cont).encode())
    proc = {"Version": 1, "AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "secret",
            "SessionToken": "token", "Expiration": "2024-01-02T18:00:00Z"}
    c.add("creds", b"\x01" + compact(proc).encode())
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/data/creds/proc/*.sh"))):
        m = re.search(rb"(\{.*\})", read(p), re.S)
        if m:
            c.add("creds", b"\x01" + m.group(1))


def seeds_xml(c, shared):
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/data/xml/*.xml")) +
                    glob.glob(os.path.join(ROOT, "tests/data/xml/bad/*"))):
        data = read(p)
        for sel in (b"\x00", b"\x02", b"\x03"):
            c.add("sts", sel + data)
        c.add("awserr", b"\x90\x02" + data)
    ident = (b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
             b"<GetCallerIdentityResult><Arn>arn:aws:iam::111111111111:user/driftsync</Arn>"
             b"<UserId>AIDAEXAMPLE</UserId><Account>111111111111</Account>"
             b"</GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId>"
             b"</ResponseMetadata></GetCallerIdentityResponse>")
    c.add("sts", b"\x02" + ident)
    c.add("sts", b"\x03" + ident)
    for body, etype in [
            ({"__type": "com.amazonaws.starlingdove#ThrottlingException", "message": "Rate exceeded"}, None),
            ({"__type": "AccessDeniedException", "Message": "denied"}, None),
            ({"message": "not subscribed"}, b"InvalidAccessException:http://internal.amazon.com/"),
            ({"code": "ValidationException", "message": "bad"}, None),
            ({"Code": "InternalError"}, None)]:
        data = compact(body).encode()
        if etype is None:
            c.add("awserr", b"\x00\x00" + data)
            c.add("awserr", b"\x64\x01" + data)
        else:
            c.add("awserr", b"\x01\x01" + data + NUL + etype)


def parse_request(text):
    """request.txt -> (method, path, query, [(name, value)], body)."""
    head, _, body = text.partition(b"\n\n")
    lines = head.split(b"\n")
    m = re.match(rb"(\S+) (\S*) HTTP/1\.1", lines[0])
    if not m:
        return None
    target = m.group(2)
    path, _, query = target.partition(b"?")
    headers = []
    for ln in lines[1:]:
        if b":" in ln:
            k, _, v = ln.partition(b":")
            headers.append((k, v))
    return m.group(1), path, query, headers[:6], body


def seeds_sigv4(c, shared):
    dirs = sorted(glob.glob(os.path.join(shared, "testdata/sigv4/v4/*")) +
                  glob.glob(os.path.join(ROOT, "tests/data/sigv4/*")))
    for d in dirs:
        p = os.path.join(d, "request.txt")
        if not os.path.exists(p):
            continue
        r = parse_request(read(p))
        if r is None:
            continue
        method, path, query, headers, body = r
        parts = [method, path, query]
        for k, v in headers:
            if k.lower() != b"host":
                parts += [k, v]
        parts.append(body)
        c.add("sigv4", NUL.join(parts))


def seeds_jsonr(c, shared):
    """fuzz_jsonr: first byte = flags (bit 0 JSON_DECODE_ANY, 1 JSON_ALLOW_NUL,
    2 JSON_REJECT_DUPLICATES), then the text: recorded answers, one Select row, and the
    edges the differential test found in jansson (escapes, NULs, numbers, depth)."""
    for p in sorted(glob.glob(os.path.join(shared, "testdata/aws/cloud-custodian/placebo",
                                           "config.*.json")))[:2]:
        c.add("jsonr", NUL + read(p))
    for p in sorted(glob.glob(os.path.join(shared, "testdata/aws/cloud-custodian/placebo",
                                           "securityhub.*.json")))[:1]:
        c.add("jsonr", NUL + read(p))
    for p in sorted(glob.glob(os.path.join(shared, "testdata/aws/aws-config-rdk", "**",
                                           "*.json"), recursive=True))[:1]:
        c.add("jsonr", b"\x01" + read(p))
    for text in (b'{"a\\n":"b\\u00e9\\ud83d\\ude00","c":[1,-0,1e2,-1.5E-3,true,false,null]}',
                 b'["a\\u0000b",{"k":"\\"\\\\\\/\\b\\f\\n\\r\\t"}]',
                 b'{"a":1,"b":{"a":2},"a":3}', b' -0.0e-0 ',
                 b'[9223372036854775807,-9223372036854775808,9223372036854775808]',
                 "[\"\u00e9\u20ac\U0001f600\ud7ff\"]".encode(), b"[1\x00]",
                 b"[" * 2048 + b"]" * 2048, b"[" * 2049 + b"]" * 2049):
        for flags in (0, 1, 2, 3, 4):
            c.add("jsonr", bytes([flags]) + text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/fuzz/corpus"))
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.shared, "testdata")):
        sys.exit(f"make_seeds: {a.shared}/testdata: not found (pass --shared DIR)")
    if os.path.isdir(a.out):
        shutil.rmtree(a.out)
    c = Corpus(a.out)
    seeds_config(c)
    seeds_rules(c)
    seeds_models(c)
    seeds_discover(c, a.shared)
    seeds_securityhub(c, a.shared)
    seeds_creds(c, a.shared)
    seeds_xml(c, a.shared)
    seeds_sigv4(c, a.shared)
    seeds_jsonr(c, a.shared)
    for h in sorted(c.count):
        print(f"{h}: {c.count[h]} seeds")


if __name__ == "__main__":
    main()
