"""Tests of the emulator datasets: the committed sample organisation, its builder, the
synthetic generator and the dataset checker.

Design: everything runs the real scripts in tests/emulator/gen as subprocesses with this
interpreter (so the suite works with pip's or Debian's botocore), writing into temp dirs.
The sample is checked three ways: check-dataset accepts it, its numbers agree with
expected.json and README.md and reach the required size, and a fresh build reproduces it
byte for byte. The checker itself is tested on corrupted copies so a broken checker
cannot make the sample look valid.
"""

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(os.path.dirname(HERE), "gen")
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SAMPLE = os.path.join(ROOT, "examples", "sample-org")


def run(script, *args):
    p = subprocess.run([sys.executable, os.path.join(GEN, script)] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def check(path):
    return run("check-dataset", path, "--json", "--max-errors", "200")


def tree_files(d):
    out = []
    for base, _, files in os.walk(d):
        for f in files:
            out.append(os.path.relpath(os.path.join(base, f), d))
    return sorted(out)


def read_ndjson(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


class SampleOrg(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rc, out, err = check(SAMPLE)
        cls.check_rc, cls.check_err = rc, err
        cls.stats = json.loads(out) if rc == 0 else None
        with open(os.path.join(SAMPLE, "expected.json"), encoding="utf-8") as f:
            cls.expected = json.load(f)
        with open(os.path.join(SAMPLE, "org.json"), encoding="utf-8") as f:
            cls.org = json.load(f)

    def setUp(self):
        self.assertEqual(self.check_rc, 0, "check-dataset rejected the sample:\n" + self.check_err)

    def test_size_and_variety(self):
        s = self.stats
        self.assertGreaterEqual(s["accounts"], 3)
        self.assertEqual(s["regions"], ["eu-west-1", "us-east-1"])
        self.assertGreaterEqual(s["vpcs"], 6)
        self.assertGreaterEqual(s["resources"], 200)
        self.assertGreaterEqual(len(s["resource_types"]), 25)
        for t in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "AWS::EC2::InternetGateway",
                  "AWS::EC2::NatGateway", "AWS::EC2::EIP", "AWS::EC2::NetworkInterface", "AWS::EC2::SecurityGroup",
                  "AWS::EC2::NetworkAcl", "AWS::EC2::VPCEndpoint", "AWS::EC2::Instance", "AWS::EC2::Volume",
                  "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::Listener",
                  "AWS::RDS::DBInstance", "AWS::RDS::DBSubnetGroup", "AWS::RDS::DBCluster", "AWS::Lambda::Function",
                  "AWS::S3::Bucket", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Policy", "AWS::KMS::Key",
                  "AWS::CloudTrail::Trail", "AWS::EC2::FlowLog"):
            self.assertIn(t, s["resource_types"])
        self.assertEqual(set(s["findings_by_status"]), {"PASSED", "FAILED", "WARNING", "NOT_AVAILABLE"})
        self.assertIn("consolidated", s["findings_by_style"])
        self.assertIn("cis-1.2.0", s["findings_by_style"])
        self.assertIn("cis-1.4.0", s["findings_by_style"])
        self.assertGreaterEqual(s["findings_by_workflow"].get("SUPPRESSED", 0), 1)
        self.assertGreaterEqual(s["findings_by_record_state"].get("ARCHIVED", 0), 1)

    def test_matches_expected_and_readme(self):
        s, t = self.stats, self.expected["totals"]
        self.assertEqual(s["resources"], t["resources"])
        self.assertEqual(s["findings"], t["findings"])
        self.assertEqual(s["vpcs"], t["vpcs"])
        self.assertEqual(sorted(s["resource_types"]), t["resource_types"])
        self.assertEqual(s["findings_by_status"], t["findings_by_status"])
        per_type = {}
        for acct in self.expected["accounts"].values():
            for reg in acct.values():
                for k, v in reg["by_type"].items():
                    per_type[k] = per_type.get(k, 0) + v
                self.assertEqual(sum(reg["by_type"].values()), reg["resources"])
        self.assertEqual(per_type, s["resource_types"])
        with open(os.path.join(SAMPLE, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        line = "Totals: %d accounts, %d regions, %d VPCs, %d resources of %d resource types, %d findings" % (
            t["accounts"], len(t["regions"]), t["vpcs"], t["resources"], len(t["resource_types"]), t["findings"])
        self.assertIn(line, readme)
        for acct, regs in self.expected["accounts"].items():
            for region, reg in regs.items():
                self.assertIn("| %s | " % acct, readme)
                for vid in reg["vpcs"]:
                    self.assertIn(vid, readme)

    def test_org_layout(self):
        e = self.expected["accounts"]
        # one account/region without Security Hub, a VPC without workloads, default VPCs
        self.assertIsNone(e["333333333333"]["eu-west-1"]["security_hub"])
        self.assertFalse(os.path.exists(os.path.join(SAMPLE, "accounts/333333333333/eu-west-1/securityhub.json")))
        vpcs = [v for a in e.values() for r in a.values() for v in r["vpcs"].values()]
        self.assertTrue(any(v["default"] for v in vpcs))
        empty = [v for v in vpcs if v["resources"] == 4]
        self.assertTrue(empty and set(empty[0]["by_type"]) == {"AWS::EC2::VPC", "AWS::EC2::RouteTable",
                                                                "AWS::EC2::NetworkAcl", "AWS::EC2::SecurityGroup"})
        hubs = [r["security_hub"] for a in e.values() for r in a.values() if r["security_hub"]]
        self.assertTrue(any(h["consolidated_controls"] for h in hubs))
        self.assertTrue(any(not h["consolidated_controls"] for h in hubs))
        self.assertTrue(any(h["disabled_controls"] for h in hubs))
        roles = {r["arn"]: r for r in self.org["roles"]}
        for a in ("222222222222", "333333333333", "444444444444"):
            r = roles["arn:aws:iam::%s:role/DriftSyncReadOnly" % a]
            self.assertEqual(r["trusted"], ["arn:aws:iam::111111111111:root"])
        self.assertTrue(any(r["external_id"] for r in roles.values()))
        self.assertTrue(any(r["web_identity"] for r in roles.values()))
        self.assertEqual(self.org["base_identity"]["access_key_id"], "AKIAIOSFODNN7EXAMPLE")
        self.assertEqual(self.org["aggregators"][0]["account_id"], "111111111111")

    def test_deliberate_findings(self):
        items = read_ndjson(os.path.join(SAMPLE, "accounts/333333333333/us-east-1/resources.ndjson"))
        by_name = {it.get("resourceName"): it for it in items}
        bastion = by_name["staging-vpc-bastion"]
        perms = bastion["configuration"]["ipPermissions"]
        self.assertTrue(any(p.get("fromPort") == 22 and "0.0.0.0/0" in p["ipRanges"] for p in perms))
        db = by_name["staging-db"]
        self.assertFalse(db["configuration"]["storageEncrypted"])
        self.assertTrue(db["configuration"]["publiclyAccessible"])
        fs = read_ndjson(os.path.join(SAMPLE, "accounts/333333333333/us-east-1/findings.ndjson"))

        def one(gen, rid):
            hits = [f for f in fs if f["GeneratorId"] == gen and f["Resources"][0]["Id"] == rid]
            self.assertEqual(len(hits), 1, "%s on %s" % (gen, rid))
            return hits[0]

        f = one("security-control/EC2.13", bastion["arn"])
        self.assertEqual(f["Compliance"]["Status"], "FAILED")
        self.assertEqual(f["Compliance"]["SecurityControlId"], "EC2.13")
        self.assertEqual(f["Compliance"]["AssociatedStandards"], [{"StandardsId": "ruleset/cis-aws-foundations-benchmark/v/1.2.0"}])
        self.assertEqual(f["Severity"]["Label"], "HIGH")
        f = one("security-control/RDS.3", db["arn"])
        self.assertEqual((f["Compliance"]["Status"], f["Workflow"]["Status"]), ("FAILED", "NOTIFIED"))
        self.assertEqual([s["StandardsId"] for s in f["Compliance"]["AssociatedStandards"]],
                         ["standards/cis-aws-foundations-benchmark/v/1.4.0", "standards/cis-aws-foundations-benchmark/v/3.0.0"])
        # legacy findings in prod us-east-1, account-level resources
        fs = read_ndjson(os.path.join(SAMPLE, "accounts/222222222222/us-east-1/findings.ndjson"))
        gens = {f["GeneratorId"] for f in fs}
        self.assertIn("arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/4.1", gens)
        self.assertIn("cis-aws-foundations-benchmark/v/1.4.0/1.14", gens)
        acct = [f for f in fs if f["Resources"][0]["Id"] == "AWS::::Account:222222222222"]
        self.assertTrue(any(f["GeneratorId"].endswith("/rule/2.1") for f in acct))   # CloudTrail.1
        self.assertTrue(all(not f["GeneratorId"].startswith("security-control/") for f in fs))
        passed = [f for f in fs if f["Compliance"]["Status"] == "PASSED"]
        self.assertTrue(passed and all(f["Severity"]["Label"] == "INFORMATIONAL" for f in passed))

    def test_relationships_both_ways(self):
        items = read_ndjson(os.path.join(SAMPLE, "accounts/222222222222/us-east-1/resources.ndjson"))
        idx = {(it["resourceType"], it["resourceId"]): it for it in items}
        inst = next(it for it in items if it["resourceType"] == "AWS::EC2::Instance")
        rels = {(r["resourceType"], r["relationshipName"]) for r in inst["relationships"]}
        for want in (("AWS::EC2::VPC", "Is contained in Vpc"), ("AWS::EC2::Subnet", "Is contained in Subnet"),
                     ("AWS::EC2::SecurityGroup", "Is associated with SecurityGroup"),
                     ("AWS::EC2::NetworkInterface", "Contains NetworkInterface"),
                     ("AWS::EC2::Volume", "Is attached to Volume")):
            self.assertIn(want, rels)
        vpc = idx[("AWS::EC2::VPC", inst["configuration"]["vpcId"])]
        self.assertIn({"resourceType": "AWS::EC2::Instance", "resourceId": inst["resourceId"],
                       "relationshipName": "Contains Instance"}, vpc["relationships"])
        # the public route table sends 0.0.0.0/0 to the internet gateway, private ones to a NAT gateway
        rts = [it for it in items if it["resourceType"] == "AWS::EC2::RouteTable"]
        self.assertTrue(any(r.get("gatewayId", "").startswith("igw-") for t in rts for r in t["configuration"]["routes"]))
        self.assertTrue(any(r.get("natGatewayId", "").startswith("nat-") for t in rts for r in t["configuration"]["routes"]))


class Builder(unittest.TestCase):
    def test_deterministic_and_committed(self):
        with tempfile.TemporaryDirectory(prefix="h6-sample-") as d:
            out = os.path.join(d, "sample")
            rc, _, err = run("build-sample-org", "--out", out)
            self.assertEqual(rc, 0, err)
            self.assertEqual(tree_files(out), tree_files(SAMPLE))
            for rel in tree_files(out):
                self.assertTrue(filecmp.cmp(os.path.join(out, rel), os.path.join(SAMPLE, rel), shallow=False),
                                "%s differs from the committed sample: rerun tests/emulator/gen/build-sample-org" % rel)


class Generator(unittest.TestCase):
    ARGS = ["--accounts", "3", "--regions", "2", "--vpcs-per-region", "2", "--resources-per-vpc", "40",
            "--findings", "1234"]

    def gen(self, out, seed, *extra):
        rc, stdout, err = run("generate", "--out", out, "--seed", seed, *(list(extra) or self.ARGS))
        self.assertEqual(rc, 0, err)
        return json.loads(stdout)

    def test_counts_check_and_determinism(self):
        with tempfile.TemporaryDirectory(prefix="h6-gen-") as d:
            a, b, c = (os.path.join(d, x) for x in "abc")
            s = self.gen(a, "42")
            # 3 accounts x (4 global + 2 regions x 5 regional) + 3 x 2 x 2 VPCs x 40
            self.assertEqual(s["resources"], 3 * (4 + 2 * 5) + 3 * 2 * 2 * 40)
            self.assertEqual(s["findings"], 1234)
            self.assertEqual(s["vpcs"], 12)
            rc, out, err = check(a)
            self.assertEqual(rc, 0, err)
            st = json.loads(out)
            self.assertEqual((st["resources"], st["findings"], st["vpcs"], st["accounts"]), (s["resources"], 1234, 12, 3))
            self.assertIn("consolidated", st["findings_by_style"])
            self.assertIn("cis-1.2.0", st["findings_by_style"])
            self.assertGreaterEqual(len(st["resource_types"]), 20)
            self.gen(b, "42")
            self.assertEqual(tree_files(a), tree_files(b))
            for rel in tree_files(a):
                self.assertTrue(filecmp.cmp(os.path.join(a, rel), os.path.join(b, rel), shallow=False), rel)
            self.gen(c, "43")
            p = "accounts/000100010001/us-east-1/resources.ndjson"
            self.assertFalse(filecmp.cmp(os.path.join(a, p), os.path.join(c, p), shallow=False))

    def test_size_preset(self):
        with tempfile.TemporaryDirectory(prefix="h6-gen-") as d:
            s = self.gen(d, "1", "--size", "1k", "--findings", "3k")
            self.assertGreaterEqual(s["resources"], 1000)
            self.assertLess(s["resources"], 1100)
            self.assertEqual(s["findings"], 3000)
            rc, _, err = check(d)
            self.assertEqual(rc, 0, err)

    def test_small_vpc_and_more_findings_than_resources(self):
        with tempfile.TemporaryDirectory(prefix="h6-gen-") as d:
            s = self.gen(d, "9", "--accounts", "1", "--regions", "1", "--vpcs-per-region", "3",
                         "--resources-per-vpc", "4", "--findings", "500")
            self.assertEqual(s["resources"], 4 + 5 + 3 * 4)
            self.assertEqual(s["findings"], 500)
            rc, out, err = check(d)
            self.assertEqual(rc, 0, err)
            self.assertGreater(json.loads(out)["findings_by_record_state"]["ARCHIVED"], 0)

    def test_usage_errors(self):
        with tempfile.TemporaryDirectory(prefix="h6-gen-") as d:
            rc, _, err = run("generate", "--out", d, "--accounts", "2")
            self.assertEqual(rc, 2)
            self.assertIn("--regions", err)
            rc, _, err = run("generate", "--out", d, "--size", "3k")
            self.assertEqual(rc, 2)
            self.assertIn("--size", err)
            rc, _, err = run("generate", "--out", d, "--accounts", "2", "--regions", "2", "--vpcs-per-region", "1",
                             "--resources-per-vpc", "3", "--findings", "1")
            self.assertEqual(rc, 2)
            self.assertIn("--resources-per-vpc: 3", err)
            rc, _, err = run("generate", "--out", d, "--size", "1k", "--findings", "ten")
            self.assertEqual(rc, 2)
            self.assertIn("--findings: 'ten'", err)
            rc, _, err = run("generate", "--out", d, "--accounts", "1", "--regions", "99", "--vpcs-per-region", "1",
                             "--resources-per-vpc", "5", "--findings", "1")
            self.assertEqual(rc, 2)
            self.assertIn("--regions: 99", err)


class Checker(unittest.TestCase):
    """check-dataset must reject broken datasets, naming the file and line."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="h6-check-")
        self.d = os.path.join(self.tmp, "org")
        shutil.copytree(SAMPLE, self.d)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def edit(self, rel, fn):
        p = os.path.join(self.d, rel)
        with open(p, encoding="utf-8") as f:
            lines = f.read().splitlines()
        lines = fn(lines)
        with open(p, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return p

    def expect(self, *fragments):
        rc, _, err = check(self.d)
        self.assertEqual(rc, 1, "check-dataset accepted a broken dataset")
        for frag in fragments:
            self.assertIn(frag, err)

    def edit_item(self, rel, pred, change):
        def fn(lines):
            for i, line in enumerate(lines):
                obj = json.loads(line)
                if pred(obj):
                    change(obj)
                    lines[i] = json.dumps(obj)
                    self.line = i + 1
                    return lines
            self.fail("no matching line in %s" % rel)
        return self.edit(rel, fn)

    def test_unknown_resource_type(self):
        rel = "accounts/222222222222/us-east-1/resources.ndjson"
        self.edit_item(rel, lambda o: o["resourceType"] == "AWS::EC2::Subnet",
                       lambda o: o.update(resourceType="AWS::EC2::Subnetz"))
        self.expect("%s:%d: item.resourceType: 'AWS::EC2::Subnetz' is not a valid ResourceType" % (rel, self.line))

    def test_missing_reverse_relationship(self):
        rel = "accounts/222222222222/us-east-1/resources.ndjson"

        def drop(o):
            o["relationships"] = [r for r in o["relationships"] if r["resourceType"] != "AWS::EC2::Instance"]
        self.edit_item(rel, lambda o: o["resourceType"] == "AWS::EC2::VPC", drop)
        self.expect("relationship AWS::EC2::Instance ", "-> AWS::EC2::VPC ", "is not recorded back on")

    def test_dangling_relationship(self):
        rel = "accounts/333333333333/us-east-1/resources.ndjson"
        self.edit_item(rel, lambda o: o["resourceType"] == "AWS::EC2::Instance",
                       lambda o: o["relationships"].append({"resourceType": "AWS::EC2::Volume", "resourceId": "vol-0deadbeef",
                                                            "relationshipName": "Is attached to Volume"}))
        self.expect("%s:%d: relationship 'Is attached to Volume' to AWS::EC2::Volume vol-0deadbeef: no such resource" % (rel, self.line))

    def test_finding_shape_and_mode(self):
        rel = "accounts/333333333333/us-east-1/findings.ndjson"
        self.edit_item(rel, lambda o: True, lambda o: (o.pop("Title"), o["Compliance"].update(Status="BROKEN")))
        first = self.line
        rel2 = "accounts/222222222222/us-east-1/findings.ndjson"
        self.edit_item(rel2, lambda o: True, lambda o: o.update(GeneratorId="security-control/EC2.13"))
        self.expect("%s:%d: finding: missing required member Title" % (rel, first),
                    "%s:%d: finding.Compliance.Status: 'BROKEN' is not a valid ComplianceStatus" % (rel, first),
                    "%s:%d: consolidated finding in a hub with consolidated_controls false" % (rel2, self.line))

    def test_finding_names_unknown_resource_and_wrong_account(self):
        rel = "accounts/444444444444/us-east-1/findings.ndjson"
        self.edit_item(rel, lambda o: o["Resources"][0]["Id"].startswith("arn:aws:ec2:"),
                       lambda o: o["Resources"][0].update(Id="arn:aws:ec2:us-east-1:444444444444:security-group/sg-0nothere"))
        self.edit("accounts/444444444444/eu-west-1/findings.ndjson",
                  lambda lines: [lines[0].replace('"AwsAccountId":"444444444444"', '"AwsAccountId":"555555555555"')] + lines[1:])
        self.expect("%s:%d: finding resource arn:aws:ec2:us-east-1:444444444444:security-group/sg-0nothere is not a resource" % (rel, self.line),
                    "accounts/444444444444/eu-west-1/findings.ndjson:1: AwsAccountId '555555555555' but the file is under accounts/444444444444")

    def test_bad_json_and_misplaced_items(self):
        rel = "accounts/111111111111/eu-west-1/resources.ndjson"
        self.edit(rel, lambda lines: lines[:2] + ["{not json"] + lines[2:])
        rel2 = "accounts/444444444444/eu-west-1/resources.ndjson"
        self.edit_item(rel2, lambda o: True, lambda o: o.update(accountId="111111111111"))
        self.expect("%s:3: invalid JSON" % rel, "%s:%d: accountId '111111111111' but the file is under accounts/444444444444" % (rel2, self.line))

    def test_active_finding_of_disabled_control(self):
        rel = "accounts/444444444444/us-east-1/securityhub.json"

        def hub(lines):
            o = json.loads("\n".join(lines))
            o["disabled_controls"].append(
                "arn:aws:securityhub:us-east-1:444444444444:control/cis-aws-foundations-benchmark/v/1.2.0/4.3")
            return json.dumps(o, indent=1).splitlines()
        self.edit(rel, hub)
        self.expect("accounts/444444444444/us-east-1/findings.ndjson:",
                    "ACTIVE finding of a disabled control (arn:aws:securityhub:us-east-1:444444444444:control/"
                    "cis-aws-foundations-benchmark/v/1.2.0/4.3)")

    def test_org_and_hub_errors(self):
        def org(lines):
            o = json.loads("\n".join(lines))
            o["roles"][0]["arn"] = "arn:aws:iam::999999999999:role/Nope"
            del o["base_identity"]["secret_access_key"]
            return json.dumps(o, indent=1).splitlines()
        self.edit("org.json", org)

        def hub(lines):
            o = json.loads("\n".join(lines))
            o["disabled_controls"] = ["NoSuch.1"]
            o["standards_subscriptions"][0]["StandardsStatus"] = "SLEEPING"
            return json.dumps(o, indent=1).splitlines()
        self.edit("accounts/111111111111/us-east-1/securityhub.json", hub)
        self.expect("org.json: roles[0].arn is in account 999999999999, which is not in accounts",
                    "org.json: base_identity.secret_access_key must be a non-empty string",
                    "securityhub.json: disabled_controls: 'NoSuch.1' is not a SecurityControlId",
                    "StandardsStatus: 'SLEEPING' is not a valid StandardsStatus")


if __name__ == "__main__":
    unittest.main(verbosity=2)
