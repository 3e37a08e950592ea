"""Tests of the emulator's speed and memory paths: they must answer exactly
what the plain paths answer.

- configsql: compile_where (IN / = over string literals as set lookups)
  against the interpreted matches() over documents of every value type;
  parse() caching; values() on top-level fields.
- model: RawJson splicing (dumps), plain() (no timestamp/blob below a
  shape), shape_output falling back to parsing for nulls and for shapes
  with timestamps.
- Security Hub light store: findings kept as offsets into findings.ndjson
  plus hot values; handle_raw returns the stored text, equal to what
  handle() parses; staged findings live in memory; a file changed on disk
  after loading is a clear error, not a wrong answer; reload closes files;
  hot values (dates, ResourceId, shared attributes) read back right.
- Config: Select results cached per account+region version: loading
  another account keeps them, staged drift in the same scope refreshes them.

Run: python3 -m unittest -v test_fastpaths (in tests/emulator/tests).
"""

import json
import os
import shutil
import sys
import tempfile
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from emu import configservice, configsql, model, securityhub  # noqa: E402
from emu.errors import ApiError  # noqa: E402
import test_securityhub_service as shs  # noqa: E402


# ------------------------------------------------------------------ configsql

DOCS = [
    {"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-1", "configuration": {"cidrBlock": "10.0.0.0/16", "n": 5},
     "tags": [{"key": "env", "value": "prod"}], "version": "1.3"},
    {"resourceType": "AWS::EC2::Subnet", "resourceId": "subnet-1", "configuration": {"n": "5", "list": ["a", "b"]},
     "tags": [], "version": 1.3},
    {"resourceType": ["AWS::EC2::VPC", "AWS::S3::Bucket"], "resourceId": "odd-list", "configuration": {"n": True}},
    {"resourceType": None, "resourceId": 7, "configuration": {"list": [{"x": "a"}, {"x": "c"}]}},
    {"resourceType": "AWS::S3::Bucket", "resourceId": "b", "configuration": {"n": "true"}},
    {"resourceId": "no-type"},
]
EXPRESSIONS = [
    "SELECT resourceId WHERE resourceType IN ('AWS::EC2::VPC', 'AWS::S3::Bucket')",
    "SELECT resourceId WHERE resourceType = 'AWS::EC2::Subnet'",
    "SELECT resourceId WHERE resourceType NOT IN ('AWS::EC2::VPC')",
    "SELECT resourceId WHERE resourceId IN ('7', 'b')",
    "SELECT resourceId WHERE resourceId = 7",
    "SELECT resourceId WHERE configuration.n IN ('5', 'true')",
    "SELECT resourceId WHERE configuration.n = 5",
    "SELECT resourceId WHERE configuration.n = 'true'",
    "SELECT resourceId WHERE version = '1.3'",
    "SELECT resourceId WHERE configuration.list IN ('a') OR configuration.list.x = 'c'",
    "SELECT resourceId WHERE NOT resourceType = 'AWS::EC2::VPC' AND resourceId != 'b'",
    "SELECT resourceId WHERE tags.key = 'env' AND tags.value IN ('prod', 'dev')",
    "SELECT resourceId WHERE resourceType IN ('AWS::EC2::VPC') AND configuration.cidrBlock LIKE '10.%'",
]


class TestCompiledWhere(unittest.TestCase):
    def test_compiled_equals_interpreted(self):
        checked = 0
        for expr in EXPRESSIONS:
            q = configsql.parse(expr)
            self.assertIsNotNone(q.where_fn, expr)
            for d in DOCS:
                with self.subTest(expr=expr, doc=d.get("resourceId")):
                    self.assertEqual(q.where_fn(d), configsql.matches(q.where, d))
                    checked += 1
        self.assertEqual(checked, len(EXPRESSIONS) * len(DOCS))

    def test_known_answers(self):
        run = lambda e: [r["resourceId"] for r in configsql.run(configsql.parse(e), DOCS)]  # noqa: E731
        self.assertEqual(run(EXPRESSIONS[0]), ["vpc-1", "odd-list", "b"])
        self.assertEqual(run(EXPRESSIONS[5]), ["vpc-1", "subnet-1", "odd-list", "b"])
        self.assertEqual(run(EXPRESSIONS[4]), [7])
        self.assertEqual(run(EXPRESSIONS[9]), ["subnet-1", 7])

    def test_parse_cached_and_errors_not_cached(self):
        self.assertIs(configsql.parse(EXPRESSIONS[0]), configsql.parse(EXPRESSIONS[0]))
        for _ in range(2):
            with self.assertRaises(ApiError) as cm:
                configsql.parse("SELECT resourceId WHERE resourceType ==")
            self.assertEqual(cm.exception.code, "InvalidExpressionException")

    def test_values_top_level(self):
        self.assertEqual(configsql.values({"a": [1, 2]}, "a"), [1, 2])
        self.assertEqual(configsql.values({"a": None}, "a"), [None])
        self.assertEqual(configsql.values({}, "a"), [])


# ---------------------------------------------------------------------- model

class TestRawJson(unittest.TestCase):
    def setUp(self):
        self.sh = model.Model("securityhub")
        self.cfg = model.Model("config")

    def test_dumps_splices(self):
        v = {"Findings": [model.RawJson(b'{"Id":"a","X":[1,2]}'), model.RawJson('{"Id":"\u00e9"}')],
             "NextToken": "t\"q"}
        out = model.dumps(v)
        self.assertIsInstance(out, bytes)
        self.assertEqual(json.loads(out), {"Findings": [{"Id": "a", "X": [1, 2]}, {"Id": "\u00e9"}],
                                           "NextToken": "t\"q"})
        self.assertEqual(model.dumps({"a": [1, {"b": None}]}), b'{"a":[1,{"b":null}]}')

    def test_plain(self):
        self.assertTrue(self.sh.plain(self.sh.shapes["AwsSecurityFinding"]))
        # ConfigurationItem has captureTime (a timestamp)
        self.assertFalse(self.cfg.plain(self.cfg.shapes["ConfigurationItem"]))
        self.assertFalse(self.cfg.plain(self.cfg.output_shape("GetResourceConfigHistory")))

    def test_shape_output(self):
        out_shape = self.sh.output_shape("GetFindings")
        raw = model.RawJson(b'{"Id":"a","Title":"t"}')
        kept = self.sh.shape_output(out_shape, {"Findings": [raw]}, "iso8601")
        self.assertIs(kept["Findings"][0], raw)
        # a null in the text: parsed and shaped (nulls dropped), as without RawJson
        nul = model.RawJson(b'{"Id":"a","Title":null,"Note":{"Text":"x","UpdatedBy":null}}')
        got = self.sh.shape_output(out_shape, {"Findings": [nul]}, "iso8601")
        self.assertEqual(got["Findings"][0], {"Id": "a", "Note": {"Text": "x"}})
        # a shape with a timestamp below it: converted like a parsed value
        item = self.cfg.shapes["ConfigurationItem"]
        got = self.cfg.shape_output(item, model.RawJson(b'{"configurationItemCaptureTime":"2026-01-02T03:04:05Z"}'),
                                    "unixTimestamp")
        self.assertEqual(got, {"configurationItemCaptureTime": 1767323045})


# ----------------------------------------------------------------- securityhub

class TestLightStore(shs.Base):
    def test_raw_equals_parsed(self):
        for params in ({}, {"MaxResults": 7}, {"Filters": {"ComplianceStatus": [shs.S("EQUALS", "PASSED")]}},
                       {"SortCriteria": [{"Field": "Title", "SortOrder": "desc"}]}):
            a = self.svc.handle(shs.ctx(), "GetFindings", dict(params))
            b = self.svc.handle_raw(shs.ctx(), "GetFindings", dict(params))
            self.assertTrue(a["Findings"])
            self.assertTrue(all(isinstance(f, model.RawJson) for f in b["Findings"]))
            self.assertEqual([json.loads(f.text) for f in b["Findings"]], a["Findings"])
            self.assertEqual(a.get("NextToken") is None, b.get("NextToken") is None)
        # other operations are not affected
        self.assertEqual(self.svc.handle_raw(shs.ctx(), "GetEnabledStandards", {}),
                         self.svc.handle(shs.ctx(), "GetEnabledStandards", {}))

    def test_stored_text_is_the_file_line(self):
        path = os.path.join(self.data, "accounts", shs.A1, shs.R1, "findings.ndjson")
        with open(path, "rb") as fh:
            lines = {json.loads(line)["Id"]: line.strip() for line in fh if line.strip()}
        out = self.svc.handle_raw(shs.ctx(), "GetFindings", {"MaxResults": 100})
        self.assertEqual(len(out["Findings"]), len(lines))
        for f in out["Findings"]:
            self.assertEqual(f.text, lines[json.loads(f.text)["Id"]])

    def test_hot_values_read_back(self):
        hub = self.svc._hubs[(shs.A1, shs.R1)]
        hub.load()
        for f in hub.findings.values():
            obj = json.loads(hub.raw(f))
            for name in securityhub.HOT:
                self.assertEqual(securityhub._HOT_READ[name](f), securityhub.field_values(obj, name),
                                 "%s of %s" % (name, f.id))
        # shared attributes are stored once per distinct combination
        combos = {id(f.combo) for f in hub.findings.values()}
        self.assertLess(len(combos), len(hub.findings))

    def test_staged_finding_in_memory(self):
        f = shs.finding(77, Title="staged \u00e9")
        self.svc.put_findings(shs.A1, shs.R1, [f])
        hub = self.svc._hubs[(shs.A1, shs.R1)]
        self.assertIsInstance(hub.findings[f["Id"]].src, bytes)
        out = self.svc.handle_raw(shs.ctx(), "GetFindings", {"Filters": {"Id": [shs.S("EQUALS", f["Id"])]}})
        self.assertEqual([json.loads(x.text) for x in out["Findings"]], [f])

    def test_file_changed_on_disk(self):
        self.svc.handle(shs.ctx(), "GetFindings", {})
        path = os.path.join(self.data, "accounts", shs.A1, shs.R1, "findings.ndjson")
        with open(path, "r+b") as fh:
            fh.truncate(10)
        with self.assertRaises(ApiError) as cm:
            self.svc.handle(shs.ctx(), "GetFindings", {})
        self.assertEqual(cm.exception.status, 500)
        self.assertIn("changed on disk since it was loaded", cm.exception.message)
        self.assertIn("findings.ndjson", cm.exception.message)

    def test_reload_closes_files(self):
        self.svc.handle(shs.ctx(), "GetFindings", {})
        hub = self.svc._hubs[(shs.A1, shs.R1)]
        fh = hub.file
        self.assertFalse(fh.closed)
        self.svc.reload()
        self.assertTrue(fh.closed)
        self.assertEqual(len(self.svc.handle(shs.ctx(), "GetFindings", {})["Findings"]), 20)

    def test_bad_utf8_line(self):
        path = os.path.join(self.data, "accounts", shs.A2, shs.R1, "findings.ndjson")
        with open(path, "ab") as fh:
            fh.write(b'{"Id": "\xff"}\n')
        self.svc.reload()
        with self.assertRaises(ApiError) as cm:
            self.svc.handle(shs.ctx(shs.A2), "GetFindings", {})
        self.assertIn("findings.ndjson:4: not UTF-8", cm.exception.message)


# --------------------------------------------------------------------- config

class _State:
    def __init__(self, root):
        self.root = root

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def now(self):
        return 1790000000.0


def _item(acct, region, rid, cidr="10.0.0.0/16"):
    return {"resourceType": "AWS::EC2::VPC", "resourceId": rid, "accountId": acct, "awsRegion": region,
            "configurationItemCaptureTime": "2026-01-01T00:00:00Z", "configurationItemStatus": "OK",
            "configuration": {"cidrBlock": cidr}}


class TestSelectCache(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="p3-config-")
        for acct in ("111111111111", "222222222222"):
            d = os.path.join(self.tmp, "accounts", acct, "us-east-1")
            os.makedirs(d)
            with open(os.path.join(d, "resources.ndjson"), "w") as fh:
                for i in range(3):
                    fh.write(json.dumps(_item(acct, "us-east-1", "vpc-%d" % i)) + "\n")
        self.svc = configservice.Service(_State(self.tmp))

    def tearDown(self):
        self.svc.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def select(self, acct):
        c = types.SimpleNamespace(account_id=acct, region="us-east-1")
        out = self.svc.handle(c, "SelectResourceConfig",
                              {"Expression": "SELECT resourceId, configuration.cidrBlock WHERE resourceType = 'AWS::EC2::VPC'"})
        return [json.loads(r) for r in out["Results"]]

    def test_cache_kept_and_refreshed(self):
        first = self.select("111111111111")
        self.assertEqual(len(first), 3)
        self.assertEqual(len(self.svc.cache), 1)
        rows = next(iter(self.svc.cache.values()))[0]
        self.select("222222222222")          # loads another account
        self.select("111111111111")
        self.assertEqual(len(self.svc.cache), 2)
        self.assertIs(self.svc.cache[next(k for k in self.svc.cache if k[1] == "111111111111")][0], rows)
        # staged drift in the scope: a fresh result
        self.svc.control("put", {"items": [_item("111111111111", "us-east-1", "vpc-1", "10.9.0.0/16")]})
        after = self.select("111111111111")
        self.assertIn({"resourceId": "vpc-1", "configuration": {"cidrBlock": "10.9.0.0/16"}}, after)
        self.assertEqual(len(self.select("222222222222")), 3)
        self.assertGreater(self.svc.cache_bytes, 0)

    def test_cache_bounded(self):
        old = configservice.CACHE_MAX_ENTRIES
        configservice.CACHE_MAX_ENTRIES = 1
        try:
            self.select("111111111111")
            self.select("222222222222")
            self.assertEqual(len(self.svc.cache), 1)
            self.assertEqual(self.svc.cache_bytes, next(iter(self.svc.cache.values()))[1])
        finally:
            configservice.CACHE_MAX_ENTRIES = old


if __name__ == "__main__":
    unittest.main()
