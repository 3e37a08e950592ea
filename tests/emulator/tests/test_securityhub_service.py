"""Unit tests of the emulator's Security Hub service (emu/securityhub.py),
calling Service.handle directly with a fake state and ctx.  Each test class
builds its own small dataset in a temporary directory (shdata below); it
does not depend on examples/sample-org.  Outputs are checked against the
botocore securityhub model (output shapes, enums, required members).

Run: python3 -m unittest discover -s tests/emulator/tests -p 'test_securityhub*.py'
"""

import copy
import json
import os
import shutil
import sys
import tempfile
import types
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from emu import securityhub  # noqa: E402
from emu.errors import ApiError  # noqa: E402

A1, A2, A3 = "111111111111", "222222222222", "333333333333"
R1, R2 = "us-east-1", "eu-west-1"
NOW = 1790000000.0          # 2026-09-21T14:13:20Z: the fake clock of every ctx
CIS_ARN = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
FSBP_ARN = "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"
CIS3_ARN = "arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0"
CIS3_SUB_A2 = f"arn:aws:securityhub:{R1}:{A2}:subscription/cis-aws-foundations-benchmark/v/3.0.0"
CIS_SUB = f"arn:aws:securityhub:{R1}:{A1}:subscription/cis-aws-foundations-benchmark/v/1.2.0"
FSBP_SUB = f"arn:aws:securityhub:{R1}:{A1}:subscription/aws-foundational-security-best-practices/v/1.0.0"


def ctx(account=A1, region=R1, now=NOW):
    return types.SimpleNamespace(account_id=account, region=region,
                                 principal_arn=f"arn:aws:iam::{account}:user/t",
                                 request_id="req-1", now=now)


def iso(epoch):
    import datetime
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def finding(n, account=A1, region=R1, updated=None, **over):
    """A consolidated-control ASFF finding; n makes Id/times unique."""
    upd = iso(updated if updated is not None else NOW - 86400 * 30 + n * 3600)
    f = {
        "SchemaVersion": "2018-10-08",
        "Id": f"arn:aws:securityhub:{region}:{account}:security-control/EC2.2/finding/{n:08d}-0000-4000-8000-000000000000",
        "ProductArn": f"arn:aws:securityhub:{region}::product/aws/securityhub",
        "ProductName": "Security Hub",
        "CompanyName": "AWS",
        "Region": region,
        "GeneratorId": "security-control/EC2.2",
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "FirstObservedAt": iso(NOW - 86400 * 60),
        "LastObservedAt": upd,
        "CreatedAt": iso(NOW - 86400 * 60),
        "UpdatedAt": upd,
        "Severity": {"Label": "HIGH", "Normalized": 70, "Original": "HIGH"},
        "Title": "VPC default security groups should not allow inbound or outbound traffic",
        "Description": "This control checks whether the default security group of a VPC allows traffic.",
        "Remediation": {"Recommendation": {
            "Text": "For information on how to correct this issue, consult the documentation.",
            "Url": "https://docs.aws.amazon.com/console/securityhub/EC2.2/remediation"}},
        "ProductFields": {"aws/securityhub/ProductName": "Security Hub",
                          "aws/securityhub/CompanyName": "AWS"},
        "Resources": [{"Type": "AwsEc2SecurityGroup",
                       "Id": f"arn:aws:ec2:{region}:{account}:security-group/sg-{n:017x}",
                       "Partition": "aws", "Region": region,
                       "Tags": {"env": "prod"}}],
        "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.2",
                       "AssociatedStandards": [
                           {"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"}]},
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
        "FindingProviderFields": {"Severity": {"Label": "HIGH", "Original": "HIGH"},
                                  "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"]},
    }
    for k, v in over.items():
        if v is None:
            f.pop(k, None)
        else:
            f[k] = v
    return f


def cis_control(i):
    return {"ControlId": f"CIS.1.{i}", "SecurityControlId": f"IAM.{100 + i}",
            "Title": f"Ensure IAM setting {i}", "Description": f"CIS 1.{i} description",
            "SeverityRating": "LOW", "RemediationUrl": f"https://docs.aws.amazon.com/console/securityhub/IAM.{100 + i}/remediation",
            "RelatedRequirements": [f"CIS AWS Foundations 1.{i}"]}


def security_control(sid, sev="LOW"):
    return {"SecurityControlId": sid, "Title": f"{sid} title", "Description": f"{sid} description",
            "RemediationUrl": f"https://docs.aws.amazon.com/console/securityhub/{sid}/remediation",
            "SeverityRating": sev, "CurrentRegionAvailability": "AVAILABLE"}


CATALOG = {
    "standards": [
        {"StandardsArn": FSBP_ARN, "Name": "AWS Foundational Security Best Practices v1.0.0",
         "Description": "FSBP description", "EnabledByDefault": True,
         "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"},
         "controls": [{"ControlId": "EC2.2", "SecurityControlId": "EC2.2",
                       "Title": "EC2.2 title", "Description": "EC2.2 description",
                       "SeverityRating": "HIGH", "RemediationUrl": "https://docs.aws.amazon.com/console/securityhub/EC2.2/remediation",
                       "RelatedRequirements": ["NIST.800-53.r5 AC-4"]},
                      {"ControlId": "S3.1", "SecurityControlId": "S3.1", "Title": "S3.1 title",
                       "Description": "S3.1 description", "SeverityRating": "MEDIUM",
                       "RemediationUrl": "https://docs.aws.amazon.com/console/securityhub/S3.1/remediation",
                       "RelatedRequirements": []}]},
        {"StandardsArn": CIS_ARN, "Name": "CIS AWS Foundations Benchmark v1.2.0",
         "Description": "CIS description", "EnabledByDefault": False,
         "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"},
         "controls": [cis_control(i) for i in range(1, 31)]},
        # a "{region}" placeholder ARN and a ControlId shared by two security controls
        {"StandardsArn": CIS3_ARN, "Name": "CIS AWS Foundations Benchmark v3.0.0",
         "Description": "CIS v3 description", "EnabledByDefault": False,
         "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"},
         "controls": [{"ControlId": "2.1.4", "SecurityControlId": "S3.1", "Title": "2.1.4 S3.1",
                       "Description": "d", "SeverityRating": "MEDIUM", "RemediationUrl": "https://x/S3.1",
                       "RelatedRequirements": ["CIS AWS Foundations Benchmark v3.0.0/2.1.4"]},
                      {"ControlId": "2.1.4", "SecurityControlId": "EC2.2", "Title": "2.1.4 EC2.2",
                       "Description": "d", "SeverityRating": "HIGH", "RemediationUrl": "https://x/EC2.2",
                       "RelatedRequirements": ["CIS AWS Foundations Benchmark v3.0.0/2.1.4"]}]},
    ] + [
        {"StandardsArn": f"arn:aws:securityhub:us-east-1::standards/extra-{i}/v/1.0.0",
         "Name": f"Extra {i}", "Description": f"Extra standard {i}", "EnabledByDefault": False,
         "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"}, "controls": []}
        for i in range(9)
    ],
    "security_controls": [security_control("EC2.2", "HIGH"), security_control("S3.1", "MEDIUM")]
    + [security_control(f"IAM.{100 + i}") for i in range(1, 31)],
}


def hub_conf(account, region, subs, disabled=()):
    return {"hub_arn": f"arn:aws:securityhub:{region}:{account}:hub/default",
            "subscribed_at": "2025-01-10T10:00:00.000Z", "consolidated_controls": True,
            "standards_subscriptions": subs, "disabled_controls": list(disabled)}


def sub(std_arn, sub_arn, **extra):
    d = {"StandardsArn": std_arn, "StandardsSubscriptionArn": sub_arn,
         "StandardsInput": {}, "StandardsStatus": "READY"}
    d.update(extra)
    return d


def write_dataset(root, findings_a1=None, catalog=CATALOG):
    """Dataset: A1/us-east-1 enabled (CIS + FSBP, CIS.1.13 disabled, 20 findings);
    A1/eu-west-1 directory without securityhub.json (findings present, not
    enabled); A2/us-east-1 enabled with 3 findings; A2/eu-west-1 enabled with
    one NOT_READY_FOR_UPDATES subscription and no findings file."""
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "securityhub-catalog.json"), "w") as fh:
        json.dump(catalog, fh)

    def put(account, region, conf, findings):
        d = os.path.join(root, "accounts", account, region)
        os.makedirs(d, exist_ok=True)
        if conf is not None:
            with open(os.path.join(d, "securityhub.json"), "w") as fh:
                json.dump(conf, fh)
        if findings is not None:
            with open(os.path.join(d, "findings.ndjson"), "w") as fh:
                for f in findings:
                    fh.write(json.dumps(f) + "\n")

    if findings_a1 is None:
        findings_a1 = default_findings()
    put(A1, R1, hub_conf(A1, R1, [sub(CIS_ARN, CIS_SUB), sub(FSBP_ARN, FSBP_SUB)],
                         disabled=["CIS.1.13"]), findings_a1)
    put(A1, R2, None, [finding(900, region=R2)])
    put(A2, R1, hub_conf(A2, R1, [sub(FSBP_ARN, f"arn:aws:securityhub:{R1}:{A2}:subscription/"
                                  "aws-foundational-security-best-practices/v/1.0.0"),
                              sub(CIS3_ARN.format(region=R1), CIS3_SUB_A2)], disabled=["2.1.4"]),
        [finding(n, account=A2) for n in range(3)])
    put(A2, R2, hub_conf(A2, R2, [sub(CIS_ARN, f"arn:aws:securityhub:{R2}:{A2}:subscription/"
                                  "cis-aws-foundations-benchmark/v/1.2.0",
                                  StandardsControlsUpdatable="NOT_READY_FOR_UPDATES")]), None)


def default_findings():
    """20 findings of A1/us-east-1 with varied attributes (n = 0..19)."""
    out = []
    for n in range(20):
        over = {}
        if n % 4 == 1:
            over["Compliance"] = {"Status": "PASSED", "SecurityControlId": "S3.1",
                                  "AssociatedStandards": [{"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"}]}
            over["GeneratorId"] = "security-control/S3.1"
            over["Resources"] = [{"Type": "AwsS3Bucket", "Id": f"arn:aws:s3:::bucket-{n}",
                                  "Partition": "aws", "Region": R1, "Tags": {"env": "dev"}}]
            over["Severity"] = {"Label": "MEDIUM", "Normalized": 40, "Original": "MEDIUM"}
            over["Title"] = "S3 general purpose buckets should have block public access settings enabled"
        if n % 4 == 2:
            over["GeneratorId"] = f"arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.{n}"
            over["Compliance"] = {"Status": "WARNING"}
            over["Resources"] = [{"Type": "AwsAccount", "Id": f"AWS::::Account:{A1}",
                                  "Partition": "aws", "Region": R1}]
            over["Severity"] = {"Label": "LOW", "Normalized": 1, "Original": "LOW"}
            over["Title"] = f"1.{n} Ensure a CIS thing"
        if n % 4 == 3:
            over["Resources"] = [
                {"Type": "AwsEc2Instance", "Id": f"arn:aws:ec2:{R1}:{A1}:instance/i-{n:017x}",
                 "Partition": "aws", "Region": R1, "Tags": {"env": "prod", "team": "blue"},
                 "Details": {"AwsEc2Instance": {"VpcId": "vpc-0a1b2c3d4e5f60001",
                                                "SubnetId": "subnet-01", "IpV4Addresses": [f"10.0.1.{n}"]}}},
                {"Type": "AwsEc2SecurityGroup", "Id": f"arn:aws:ec2:{R1}:{A1}:security-group/sg-shared",
                 "Partition": "aws", "Region": R1}]
            over["Types"] = ["Software and Configuration Checks/Vulnerabilities/CVE", "TTPs/Discovery"]
            over["Sample"] = n == 3
        if n >= 16:
            over["RecordState"] = "ARCHIVED"
            over["Workflow"] = {"Status": "RESOLVED"}
        if n == 5:
            over["Severity"] = None           # no Severity at all
        out.append(finding(n, **over))
    return out


class FakeState:
    def __init__(self, data_dir):
        self.data_dir = data_dir


# ------------------------------------------------------------- shape checks

def _model():
    import botocore.loaders
    return botocore.loaders.Loader().load_service_model("securityhub", "service-2")


MODEL = _model()


def check_shape(tc, shape_name, value, where="$"):
    """Assert `value` conforms to botocore shape `shape_name` (members known,
    required present, types and enums right, timestamps ISO 8601)."""
    shape = MODEL["shapes"][shape_name]
    t = shape["type"]
    if t == "structure":
        tc.assertIsInstance(value, dict, where)
        for k in shape.get("required", []):
            tc.assertIn(k, value, f"{where}: required member {k} missing")
        for k, v in value.items():
            tc.assertIn(k, shape["members"], f"{where}: {k} is not a member of {shape_name}")
            check_shape(tc, shape["members"][k]["shape"], v, f"{where}.{k}")
    elif t == "list":
        tc.assertIsInstance(value, list, where)
        for i, v in enumerate(value):
            check_shape(tc, shape["member"]["shape"], v, f"{where}[{i}]")
    elif t == "map":
        tc.assertIsInstance(value, dict, where)
        for k, v in value.items():
            check_shape(tc, shape["value"]["shape"], v, f"{where}[{k}]")
    elif t == "string":
        tc.assertIsInstance(value, str, where)
        if "enum" in shape:
            tc.assertIn(value, shape["enum"], where)
    elif t == "boolean":
        tc.assertIsInstance(value, bool, where)
    elif t in ("integer", "long"):
        tc.assertTrue(isinstance(value, int) and not isinstance(value, bool), where)
    elif t in ("double", "float"):
        tc.assertTrue(isinstance(value, (int, float)) and not isinstance(value, bool), where)
    elif t == "timestamp":
        tc.assertIsNotNone(securityhub.parse_ts(value), f"{where}: {value!r} not ISO 8601")
    else:
        tc.fail(f"{where}: unexpected shape type {t}")


# ------------------------------------------------------------------ tests

class Base(unittest.TestCase):
    findings_a1 = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="shub-test-")
        self.data = os.path.join(self.tmp, "org")
        write_dataset(self.data, self.findings_a1)
        self.svc = securityhub.Service(FakeState(self.data))

    def tearDown(self):
        self.svc.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def call(self, op, params=None, c=None):
        out = self.svc.handle(c or ctx(), op, params or {})
        check_shape(self, MODEL["operations"][op]["output"]["shape"], out, op)
        return out

    def err(self, op, params=None, c=None):
        with self.assertRaises(ApiError) as cm:
            self.svc.handle(c or ctx(), op, params or {})
        return cm.exception

    def ids(self, filters=None, **params):
        if filters is not None:
            params["Filters"] = filters
        out = []
        while True:
            page = self.call("GetFindings", params)
            out += [int(f["Id"].split("/finding/")[1][:8]) for f in page["Findings"]]
            if "NextToken" not in page:
                return out
            params["NextToken"] = page["NextToken"]


def S(comparison, value):
    return {"Comparison": comparison, "Value": value}


class TestNotSubscribed(Base):
    def test_every_operation_needs_security_hub(self):
        ops = {"GetFindings": {}, "GetEnabledStandards": {}, "DescribeStandards": {},
               "DescribeHub": {},
               "DescribeStandardsControls": {"StandardsSubscriptionArn": CIS_SUB},
               "ListSecurityControlDefinitions": {}}
        for op, params in ops.items():
            for c in (ctx(A1, R2), ctx(A3, R1)):
                e = self.err(op, params, c)
                self.assertEqual((e.status, e.code), (401, "InvalidAccessException"), op)
                self.assertEqual(e.message,
                                 f"Account {c.account_id} is not subscribed to AWS Security Hub")

    def test_unknown_operation(self):
        e = self.err("BatchImportFindings", {"Findings": []})
        self.assertEqual(e.code, "InvalidInputException")
        self.assertIn("BatchImportFindings", e.message)


class TestDescribeHub(Base):
    def test_generator_follows_consolidated_controls(self):
        out = self.call("DescribeHub")
        self.assertEqual(out["HubArn"], f"arn:aws:securityhub:{R1}:{A1}:hub/default")
        self.assertEqual(out["ControlFindingGenerator"], "SECURITY_CONTROL")
        self.assertEqual(out["SubscribedAt"], "2025-01-10T10:00:00.000Z")
        self.svc._hubs[(A1, R1)].conf["consolidated_controls"] = False
        self.assertEqual(self.call("DescribeHub")["ControlFindingGenerator"], "STANDARD_CONTROL")

    def test_hub_arn(self):
        arn = f"arn:aws:securityhub:{R1}:{A1}:hub/default"
        self.assertEqual(self.call("DescribeHub", {"HubArn": arn})["HubArn"], arn)
        e = self.err("DescribeHub", {"HubArn": f"arn:aws:securityhub:{R1}:{A2}:hub/default"})
        self.assertEqual((e.status, e.code), (404, "ResourceNotFoundException"))


class TestGetFindingsBasics(Base):
    def test_all_findings_default_order_and_as_stored(self):
        out = self.call("GetFindings")
        self.assertNotIn("NextToken", out)
        self.assertEqual(len(out["Findings"]), 20)
        # UpdatedAt descending (finding n is updated at base + n hours)
        self.assertEqual([int(f["Id"].split("/finding/")[1][:8]) for f in out["Findings"]],
                         list(range(19, -1, -1)))
        stored = {f["Id"]: f for f in default_findings()}
        for f in out["Findings"]:
            self.assertEqual(f, stored[f["Id"]])
            self.assertEqual(f["AwsAccountId"], A1)

    def test_scope_is_caller_account_and_region(self):
        out = self.call("GetFindings", c=ctx(A2, R1))
        self.assertEqual(len(out["Findings"]), 3)
        self.assertTrue(all(f["AwsAccountId"] == A2 for f in out["Findings"]))
        self.assertEqual(self.call("GetFindings", c=ctx(A2, R2))["Findings"], [])

    def test_ties_on_updated_at_by_id(self):
        self.tearDown()
        self.findings_a1 = [finding(n, updated=NOW - 10) for n in (5, 2, 9, 1)]
        self.setUp()
        self.assertEqual(self.ids(), [1, 2, 5, 9])

    def test_returned_objects_are_copies(self):
        first = self.call("GetFindings", {"MaxResults": 1})["Findings"][0]
        first["Title"] = "changed"
        again = self.call("GetFindings", {"MaxResults": 1})["Findings"][0]
        self.assertNotEqual(again["Title"], "changed")


class TestStringFilters(Base):
    def test_equals(self):
        self.assertEqual(sorted(self.ids({"ComplianceStatus": [S("EQUALS", "PASSED")]})),
                         [1, 5, 9, 13, 17])
        self.assertEqual(self.ids({"ComplianceStatus": [S("EQUALS", "passed")]}), [])  # case sensitive

    def test_not_equals(self):
        got = self.ids({"ComplianceStatus": [S("NOT_EQUALS", "FAILED")]})
        self.assertEqual(sorted(got), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18])

    def test_prefix(self):
        got = self.ids({"GeneratorId": [S("PREFIX", "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/")]})
        self.assertEqual(sorted(got), [2, 6, 10, 14, 18])

    def test_prefix_not_equals(self):
        got = self.ids({"GeneratorId": [S("PREFIX_NOT_EQUALS", "security-control/")]})
        self.assertEqual(sorted(got), [2, 6, 10, 14, 18])

    def test_contains_and_not_contains(self):
        self.assertEqual(sorted(self.ids({"Title": [S("CONTAINS", "block public access")]})),
                         [1, 5, 9, 13, 17])
        got = self.ids({"Title": [S("NOT_CONTAINS", "security group"), S("NOT_CONTAINS", "CIS")]})
        self.assertEqual(sorted(got), [1, 5, 9, 13, 17])

    def test_positive_same_field_ored(self):
        got = self.ids({"ComplianceStatus": [S("EQUALS", "PASSED"), S("EQUALS", "WARNING")]})
        self.assertEqual(sorted(got), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18])

    def test_negative_same_field_anded(self):
        got = self.ids({"ComplianceStatus": [S("NOT_EQUALS", "PASSED"), S("NOT_EQUALS", "WARNING")]})
        self.assertEqual(sorted(got), [0, 3, 4, 7, 8, 11, 12, 15, 16, 19])

    def test_prefix_then_not_equals_same_field(self):
        # The documented example: PREFIX AwsEc2 minus NOT_EQUALS AwsEc2Instance.
        got = self.ids({"ResourceType": [S("PREFIX", "AwsEc2"), S("NOT_EQUALS", "AwsEc2Instance")]})
        self.assertEqual(sorted(got), [0, 4, 8, 12, 16])
        got = self.ids({"ResourceType": [S("PREFIX", "AwsS3"), S("PREFIX", "AwsAcc"),
                                         S("PREFIX_NOT_EQUALS", "AwsAccount")]})
        self.assertEqual(sorted(got), [1, 5, 9, 13, 17])

    def test_different_fields_anded(self):
        got = self.ids({"ComplianceStatus": [S("EQUALS", "FAILED")],
                        "RecordState": [S("EQUALS", "ACTIVE")],
                        "WorkflowStatus": [S("NOT_EQUALS", "RESOLVED")]})
        self.assertEqual(sorted(got), [0, 3, 4, 7, 8, 11, 12, 15])

    def test_multi_valued_attributes(self):
        # instances carry two resources; the shared SG matches on its second resource
        got = self.ids({"ResourceId": [S("EQUALS", f"arn:aws:ec2:{R1}:{A1}:security-group/sg-shared")]})
        self.assertEqual(sorted(got), [3, 7, 11, 15, 19])
        # NOT_EQUALS excludes a finding if any of its values is equal
        got = self.ids({"ResourceType": [S("NOT_EQUALS", "AwsEc2SecurityGroup")]})
        self.assertEqual(sorted(got), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18])
        got = self.ids({"Type": [S("EQUALS", "TTPs/Discovery")]})
        self.assertEqual(sorted(got), [3, 7, 11, 15, 19])

    def test_missing_attribute(self):
        # finding 5 has no Severity: no positive match, passes negative filters
        self.assertNotIn(5, self.ids({"SeverityLabel": [S("CONTAINS", "M")]}))
        self.assertIn(5, self.ids({"SeverityLabel": [S("NOT_EQUALS", "MEDIUM")]}))
        self.assertEqual(sorted(self.ids({"SeverityLabel": [S("EQUALS", "MEDIUM")]})), [1, 9, 13, 17])

    def test_consolidated_control_fields(self):
        self.assertEqual(sorted(self.ids({"ComplianceSecurityControlId": [S("EQUALS", "S3.1")]})),
                         [1, 5, 9, 13, 17])
        got = self.ids({"ComplianceAssociatedStandardsId": [
            S("EQUALS", "standards/aws-foundational-security-best-practices/v/1.0.0")]})
        self.assertEqual(len(got), 15)
        self.assertEqual(self.ids({"AwsAccountId": [S("EQUALS", A2)]}), [])
        self.assertEqual(len(self.ids({"Region": [S("EQUALS", R1)], "ProductName": [S("EQUALS", "Security Hub")]})), 20)
        one = default_findings()[7]["Id"]
        self.assertEqual(self.ids({"Id": [S("EQUALS", one)]}), [7])

    def test_non_precomputed_fields(self):
        self.assertEqual(sorted(self.ids({"ResourceAwsEc2InstanceVpcId": [S("EQUALS", "vpc-0a1b2c3d4e5f60001")]})),
                         [3, 7, 11, 15, 19])
        self.assertEqual(len(self.ids({"RecommendationText": [S("PREFIX", "For information")]})), 20)
        self.assertEqual(sorted(self.ids({"FindingProviderFieldsSeverityLabel": [S("EQUALS", "HIGH")],
                                          "ResourceType": [S("EQUALS", "AwsAccount")]})),
                         [2, 6, 10, 14, 18])

    def test_string_filter_errors(self):
        cases = [({"Title": [S("CONTAINS_WORD", "x")]}, "CONTAINS_WORD"),
                 ({"Title": [S("LIKE", "x")]}, "'LIKE'"),
                 ({"Title": [{"Comparison": "EQUALS"}]}, "Filters.Title[0]: Value is required"),
                 ({"Title": [S("EQUALS", f"t{i}") for i in range(21)]}, "at most 20"),
                 ({name: [S("EQUALS", "x")] for name in list(securityhub.HOT)[:11]
                   if securityhub.FIELDS[name][0] == "str"}, "at most 10"),
                 ({"NoSuchField": [S("EQUALS", "x")]}, "NoSuchField"),
                 ({"Keyword": [{"Value": "x"}]}, "Keyword"),
                 ({"Title": {"Comparison": "EQUALS", "Value": "x"}}, "must be a list")]
        for filters, needle in cases:
            e = self.err("GetFindings", {"Filters": filters})
            self.assertEqual((e.status, e.code), (400, "InvalidInputException"), needle)
            self.assertIn(needle, e.message)

    def test_twenty_values_and_ten_fields_allowed(self):
        self.assertEqual(len(self.ids({"Title": [S("NOT_EQUALS", f"t{i}") for i in range(20)]})), 20)
        names = [n for n in securityhub.HOT if securityhub.FIELDS[n][0] == "str"][:10]
        self.assertEqual(len(self.ids({n: [S("NOT_EQUALS", "zzz")] for n in names})), 20)


class TestDateFilters(Base):
    def upd(self, n):
        return default_findings()[n]["UpdatedAt"]

    def test_start_end_inclusive(self):
        got = self.ids({"UpdatedAt": [{"Start": self.upd(4), "End": self.upd(7)}]})
        self.assertEqual(got, [7, 6, 5, 4])

    def test_open_bounds(self):
        self.assertEqual(self.ids({"UpdatedAt": [{"Start": self.upd(17)}]}), [19, 18, 17])
        self.assertEqual(self.ids({"UpdatedAt": [{"End": self.upd(1)}]}), [1, 0])

    def test_offsets_and_precision(self):
        t = securityhub.parse_ts(self.upd(10)) // securityhub.NS
        import datetime
        local = datetime.datetime.fromtimestamp(t, datetime.timezone(datetime.timedelta(hours=2)))
        start = local.strftime("%Y-%m-%dT%H:%M:%S+02:00")
        self.assertEqual(self.ids({"UpdatedAt": [{"Start": start, "End": start}]}), [10])
        nano = self.upd(10)[:-1] + "000001Z"      # 1 ns after finding 10
        self.assertEqual(self.ids({"UpdatedAt": [{"Start": nano}]})[-1], 11)

    def test_several_ranges_ored(self):
        got = self.ids({"UpdatedAt": [{"Start": self.upd(1), "End": self.upd(2)},
                                      {"Start": self.upd(15), "End": self.upd(15)}]})
        self.assertEqual(got, [15, 2, 1])

    def test_date_range_within_and_older(self):
        # finding n is updated at NOW - 30 days + n hours
        within = self.ids({"UpdatedAt": [{"DateRange": {"Value": 30, "Unit": "DAYS"}}]})
        self.assertEqual(len(within), 20)
        self.assertEqual(self.ids({"UpdatedAt": [{"DateRange": {"Value": 29, "Unit": "DAYS",
                                                                "Comparison": "WITHIN"}}]}), [])
        older = self.ids({"UpdatedAt": [{"DateRange": {"Value": 29, "Unit": "DAYS",
                                                       "Comparison": "OLDER_THAN"}}]})
        self.assertEqual(len(older), 20)
        # the clock moves: 10 hours later, findings 0..9 are older than 30 days
        later = ctx(now=NOW + 10 * 3600 - 1)
        page = self.call("GetFindings", {"Filters": {"UpdatedAt": [
            {"DateRange": {"Value": 30, "Unit": "DAYS", "Comparison": "OLDER_THAN"}}]}}, c=later)
        self.assertEqual(len(page["Findings"]), 10)

    def test_other_date_fields(self):
        self.assertEqual(len(self.ids({"CreatedAt": [{"End": iso(NOW - 86400 * 59)}]})), 20)
        self.assertEqual(self.ids({"FirstObservedAt": [{"Start": iso(NOW - 86400 * 59)}]}), [])
        self.assertEqual(self.ids({"LastObservedAt": [{"Start": self.upd(18)}],
                                   "RecordState": [S("EQUALS", "ARCHIVED")]}), [19, 18])

    def test_date_filter_errors(self):
        cases = [([{"Start": "yesterday"}], "Filters.UpdatedAt[0].Start 'yesterday' is not a valid timestamp"),
                 ([{"End": "2024-02-30T00:00:00Z"}], "End"),
                 ([{}], "needs Start, End or DateRange"),
                 ([{"Start": self.upd(1), "DateRange": {"Value": 1, "Unit": "DAYS"}}], "not both"),
                 ([{"DateRange": {"Unit": "DAYS"}}], "integer Value"),
                 ([{"DateRange": {"Value": -1, "Unit": "DAYS"}}], "negative")]
        for flist, needle in cases:
            e = self.err("GetFindings", {"Filters": {"UpdatedAt": flist}})
            self.assertEqual(e.code, "InvalidInputException", needle)
            self.assertIn(needle, e.message)


class TestOtherFilterKinds(Base):
    def test_number(self):
        self.assertEqual(sorted(self.ids({"SeverityNormalized": [{"Gte": 40, "Lte": 40}]})),
                         [1, 9, 13, 17])
        self.assertEqual(sorted(self.ids({"SeverityNormalized": [{"Eq": 1}, {"Eq": 40}]})),
                         [1, 2, 6, 9, 10, 13, 14, 17, 18])
        self.assertEqual(sorted(self.ids({"SeverityNormalized": [{"Gt": 1, "Lt": 70}]})),
                         [1, 9, 13, 17])
        e = self.err("GetFindings", {"Filters": {"SeverityNormalized": [{}]}})
        self.assertIn("Filters.SeverityNormalized[0]", e.message)

    def test_map(self):
        self.assertEqual(sorted(self.ids({"ResourceTags": [{"Key": "env", "Value": "dev", "Comparison": "EQUALS"}]})),
                         [1, 5, 9, 13, 17])
        self.assertEqual(sorted(self.ids({"ResourceTags": [{"Key": "team", "Value": "blue", "Comparison": "EQUALS"}]})),
                         [3, 7, 11, 15, 19])
        got = self.ids({"ResourceTags": [{"Key": "env", "Value": "prod", "Comparison": "NOT_EQUALS"}]})
        self.assertEqual(sorted(got), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18])
        self.assertEqual(len(self.ids({"ProductFields": [{"Key": "aws/securityhub/ProductName",
                                                          "Value": "Hub", "Comparison": "CONTAINS"}]})), 20)
        e = self.err("GetFindings", {"Filters": {"ResourceTags": [{"Key": "env", "Comparison": "EQUALS"}]}})
        self.assertIn("Key and Value are required", e.message)

    def test_ip(self):
        self.assertEqual(sorted(self.ids({"ResourceAwsEc2InstanceIpV4Addresses": [{"Cidr": "10.0.1.0/29"}]})),
                         [3, 7])
        self.assertEqual(self.ids({"ResourceAwsEc2InstanceIpV4Addresses": [{"Cidr": "fd00::/8"}]}), [])
        e = self.err("GetFindings", {"Filters": {"NetworkSourceIpV4": [{"Cidr": "10.0.0.300/8"}]}})
        self.assertIn("10.0.0.300/8", e.message)

    def test_boolean(self):
        self.assertEqual(self.ids({"Sample": [{"Value": True}]}), [3])
        self.assertEqual(sorted(self.ids({"Sample": [{"Value": False}]})), [7, 11, 15, 19])
        e = self.err("GetFindings", {"Filters": {"Sample": [{}]}})
        self.assertIn("true or false", e.message)


class TestSorting(Base):
    def test_sort_by_title_then_default(self):
        got = self.ids(SortCriteria=[{"Field": "Title", "SortOrder": "asc"}])
        titles = {n: f["Title"] for n, f in enumerate(default_findings())}
        self.assertEqual([titles[n] for n in got], sorted(titles[n] for n in got))
        # ties keep UpdatedAt desc
        s3 = [n for n in got if titles[n].startswith("S3")]
        self.assertEqual(s3, [17, 13, 9, 5, 1])

    def test_sort_number_desc_missing_last(self):
        got = self.ids(SortCriteria=[{"Field": "SeverityNormalized", "SortOrder": "desc"}])
        self.assertEqual(got[-1], 5)              # no Severity: last
        sev = {n: (f.get("Severity") or {}).get("Normalized") for n, f in enumerate(default_findings())}
        vals = [sev[n] for n in got[:-1]]
        self.assertEqual(vals, sorted(vals, reverse=True))

    def test_two_keys_and_default_asc(self):
        got = self.ids(SortCriteria=[{"Field": "ComplianceStatus"}, {"Field": "UpdatedAt", "SortOrder": "asc"}])
        self.assertEqual(got[:5], [0, 3, 4, 7, 8])  # FAILED first (asc), oldest first

    def test_sort_errors(self):
        e = self.err("GetFindings", {"SortCriteria": [{"Field": "Bogus"}]})
        self.assertEqual(e.code, "InvalidInputException")
        self.assertIn("'Bogus'", e.message)
        e = self.err("GetFindings", {"SortCriteria": [{"Field": "Title", "SortOrder": "up"}]})
        self.assertIn("'up'", e.message)


class TestPagination(Base):
    def test_pages_concatenate_to_full_result(self):
        full = self.call("GetFindings")["Findings"]
        for size in (1, 7, 10, 19, 20):
            got, params, pages = [], {"MaxResults": size}, 0
            while True:
                page = self.call("GetFindings", params)
                pages += 1
                self.assertLessEqual(len(page["Findings"]), size)
                got += page["Findings"]
                if "NextToken" not in page:
                    break
                params["NextToken"] = page["NextToken"]
            self.assertEqual(got, full, size)
            self.assertEqual(pages, -(-20 // size))

    def test_filtered_and_sorted_pages(self):
        f = {"ComplianceStatus": [S("NOT_EQUALS", "FAILED")]}
        sort = [{"Field": "Title", "SortOrder": "desc"}]
        whole = self.ids(f, SortCriteria=sort)
        self.assertEqual(self.ids(f, SortCriteria=sort, MaxResults=3), whole)

    def test_max_results_range(self):
        for bad in (0, 101, -1):
            e = self.err("GetFindings", {"MaxResults": bad})
            self.assertEqual(e.code, "InvalidInputException")
            self.assertIn("MaxResults", e.message)
        self.assertEqual(len(self.call("GetFindings", {"MaxResults": 100})["Findings"]), 20)

    def test_token_bound_to_query_account_region_operation(self):
        f = {"RecordState": [S("EQUALS", "ACTIVE")]}
        tok = self.call("GetFindings", {"Filters": f, "MaxResults": 2})["NextToken"]
        # same query, other page size: accepted (MaxResults is not part of the binding)
        self.assertEqual(len(self.call("GetFindings", {"Filters": f, "MaxResults": 5, "NextToken": tok})["Findings"]), 5)
        bad = [({"Filters": {"RecordState": [S("EQUALS", "ARCHIVED")]}, "NextToken": tok}, ctx()),
               ({"NextToken": tok}, ctx()),
               ({"Filters": f, "SortCriteria": [{"Field": "Title"}], "NextToken": tok}, ctx()),
               ({"Filters": f, "NextToken": tok}, ctx(A2, R1)),
               ({"Filters": f, "NextToken": tok + "x"}, ctx()),
               ({"Filters": f, "NextToken": "not-a-token"}, ctx())]
        for params, c in bad:
            e = self.err("GetFindings", params, c)
            self.assertEqual((e.status, e.code), (400, "InvalidInputException"))
            self.assertIn("NextToken", e.message)
        tok2 = self.call("DescribeStandards", {"MaxResults": 1})["NextToken"]
        e = self.err("GetFindings", {"NextToken": tok2})
        self.assertEqual(e.code, "InvalidInputException")

    def test_empty_token_means_first_page(self):
        self.assertEqual(len(self.call("GetFindings", {"NextToken": ""})["Findings"]), 20)


class TestDrift(Base):
    def test_put_new_and_update_and_incremental_query(self):
        before = self.call("GetFindings")["Findings"]
        mark = iso(NOW - 60)
        new = finding(50, updated=NOW - 30)
        changed = copy.deepcopy(default_findings()[0])
        changed["Compliance"]["Status"] = "PASSED"
        changed["UpdatedAt"] = iso(NOW - 20)
        self.assertEqual(self.svc.put_findings(A1, R1, [new, changed]), 2)
        after = self.call("GetFindings")["Findings"]
        self.assertEqual(len(after), 21)
        self.assertEqual(after[0], changed)
        self.assertEqual(after[1], new)
        self.assertNotEqual(before, after)
        self.assertEqual(self.ids({"UpdatedAt": [{"Start": mark}]}), [0, 50])
        self.assertEqual(self.ids({"UpdatedAt": [{"Start": mark}],
                                   "ComplianceStatus": [S("EQUALS", "FAILED")]}), [50])

    def test_delete(self):
        ids = [default_findings()[n]["Id"] for n in (3, 4)]
        self.assertEqual(self.svc.delete_findings(A1, R1, ids + ["nope"]), ["nope"])
        got = self.ids()
        self.assertEqual(len(got), 18)
        self.assertNotIn(3, got)
        self.assertEqual(self.svc.delete_findings(A3, R1, ["x"]), ["x"])
        with self.assertRaises(securityhub.DatasetError):
            self.svc.delete_findings(A1, R1, "not-a-list")

    def test_bad_put_stores_nothing(self):
        good = finding(60, updated=NOW)
        for bad, needle in (([good, {"Title": "no id"}], "put_findings[1]: finding has no string Id"),
                            ([finding(61, UpdatedAt="soon")], "UpdatedAt 'soon'"),
                            ([good, "text"], "put_findings[1]: a finding must be a JSON object"),
                            ({"Id": "x"}, "must be a list")):
            with self.assertRaises(securityhub.DatasetError) as cm:
                self.svc.put_findings(A1, R1, bad)
            self.assertIn(needle, str(cm.exception))
        self.assertEqual(len(self.ids()), 20)

    def test_put_in_region_without_hub(self):
        self.svc.put_findings(A1, R2, [finding(70, region=R2)])
        e = self.err("GetFindings", {}, ctx(A1, R2))
        self.assertEqual(e.code, "InvalidAccessException")

    def test_control_hook(self):
        out = self.svc.control("put", {"account": A1, "region": R1,
                                       "findings": [finding(90, updated=NOW)]})
        self.assertEqual(out, {"stored": 1})
        self.assertEqual(self.ids()[0], 90)
        out = self.svc.control("delete", {"account": A1, "region": R1,
                                          "ids": [finding(90)["Id"], "gone"]})
        self.assertEqual(out, {"deleted": 1, "missing": ["gone"]})
        self.assertEqual(len(self.ids()), 20)
        bad = [("upsert", {}, "unknown action"),
               ("put", [], "body must be a JSON object"),
               ("put", {"account": "1", "region": R1, "findings": []}, "12-digit"),
               ("put", {"account": A1, "region": "mars", "findings": []}, "'mars'"),
               ("put", {"account": A1, "region": R1}, "'findings'"),
               ("delete", {"account": A1, "region": R1}, "'ids'"),
               ("put", {"account": A1, "region": R1, "findings": [{}]}, "put_findings[0]")]
        for action, doc, needle in bad:
            with self.assertRaises(securityhub.DatasetError) as cm:
                self.svc.control(action, doc)
            self.assertIn(needle, str(cm.exception))

    def test_cached_pages_see_drift(self):
        tok = self.call("GetFindings", {"MaxResults": 10})["NextToken"]
        self.svc.delete_findings(A1, R1, [default_findings()[n]["Id"] for n in range(0, 5)])
        self.assertEqual(len(self.call("GetFindings", {"NextToken": tok})["Findings"]), 5)

    def test_reload_rereads_and_drops_staged(self):
        self.svc.put_findings(A1, R1, [finding(80, updated=NOW)])
        path = os.path.join(self.data, "accounts", A1, R1, "findings.ndjson")
        with open(path, "a") as fh:
            fh.write(json.dumps(finding(81, updated=NOW)) + "\n")
        self.svc.reload()
        got = self.ids()
        self.assertEqual(len(got), 21)
        self.assertIn(81, got)
        self.assertNotIn(80, got)
        # a new securityhub.json is picked up by reload
        with open(os.path.join(self.data, "accounts", A1, R2, "securityhub.json"), "w") as fh:
            json.dump(hub_conf(A1, R2, []), fh)
        self.svc.reload()
        self.assertEqual(len(self.call("GetFindings", c=ctx(A1, R2))["Findings"]), 1)


class TestDatasetErrors(Base):
    def test_bad_findings_line(self):
        path = os.path.join(self.data, "accounts", A2, R1, "findings.ndjson")
        with open(path, "a") as fh:
            fh.write("\n{not json\n")
        self.svc.reload()
        e = self.err("GetFindings", {}, ctx(A2, R1))
        self.assertEqual((e.status, e.code), (500, "InternalException"))
        self.assertIn(f"{path}:5: not JSON", e.message)

    def test_duplicate_id_and_missing_updated_at(self):
        path = os.path.join(self.data, "accounts", A2, R1, "findings.ndjson")
        with open(path, "a") as fh:
            fh.write(json.dumps(finding(0, account=A2)) + "\n")
        self.svc.reload()
        self.assertIn(f"{path}:4: duplicate finding Id", self.err("GetFindings", {}, ctx(A2, R1)).message)
        with open(path, "w") as fh:
            fh.write(json.dumps(finding(0, account=A2, UpdatedAt=None)) + "\n")
        self.svc.reload()
        self.assertIn(f"{path}:1: finding", self.err("GetFindings", {}, ctx(A2, R1)).message)

    def test_bad_hub_conf_and_catalog(self):
        conf_path = os.path.join(self.data, "accounts", A2, R1, "securityhub.json")
        with open(conf_path, "w") as fh:
            json.dump(hub_conf(A2, R1, [sub("arn:aws:securityhub:::ruleset/unknown/v/1", CIS_SUB)]), fh)
        with self.assertRaises(securityhub.DatasetError) as cm:
            self.svc.reload()
        self.assertIn(conf_path, str(cm.exception))
        self.assertIn("not in securityhub-catalog.json", str(cm.exception))
        with open(conf_path, "w") as fh:
            fh.write("{")
        with self.assertRaises(securityhub.DatasetError) as cm:
            self.svc.reload()
        self.assertIn(f"{conf_path}: not valid JSON", str(cm.exception))
        with open(conf_path, "w") as fh:
            json.dump(dict(hub_conf(A2, R1, []), disabled_controls="CIS.1.1"), fh)
        with self.assertRaises(securityhub.DatasetError) as cm:
            self.svc.reload()
        self.assertIn("disabled_controls", str(cm.exception))

        cat = copy.deepcopy(CATALOG)
        cat["standards"][0]["controls"][0]["SecurityControlId"] = "Nope.1"
        cat_path = os.path.join(self.data, "securityhub-catalog.json")
        with open(cat_path, "w") as fh:
            json.dump(cat, fh)
        with self.assertRaises(securityhub.DatasetError) as cm:
            self.svc.reload()
        self.assertIn(f"{cat_path}: standards[0].controls[0]: SecurityControlId 'Nope.1'", str(cm.exception))
        cat = copy.deepcopy(CATALOG)
        cat["standards"][2]["controls"][1]["SecurityControlId"] = "S3.1"
        with open(cat_path, "w") as fh:
            json.dump(cat, fh)
        with self.assertRaises(securityhub.DatasetError) as cm:
            self.svc.reload()
        self.assertIn("standards[2].controls[1]: duplicate control 2.1.4 / S3.1", str(cm.exception))
        cat = copy.deepcopy(CATALOG)
        cat["standards"][3]["StandardsArn"] = "arn:aws:securityhub:{zone}::standards/x/v/1"
        with open(cat_path, "w") as fh:
            json.dump(cat, fh)
        with self.assertRaises(securityhub.DatasetError) as cm:
            self.svc.reload()
        self.assertIn("standards[3]: StandardsArn", str(cm.exception))
        cat = copy.deepcopy(CATALOG)
        del cat["security_controls"][1]["Title"]
        with open(cat_path, "w") as fh:
            json.dump(cat, fh)
        with self.assertRaises(securityhub.DatasetError) as cm:
            self.svc.reload()
        self.assertIn("security_controls[1]: Title is required", str(cm.exception))

    def test_state_without_dataset_dir(self):
        with self.assertRaises(securityhub.DatasetError):
            securityhub.Service(object())


class TestStandards(Base):
    def test_get_enabled_standards(self):
        out = self.call("GetEnabledStandards")
        self.assertEqual(out, {"StandardsSubscriptions": [
            {"StandardsSubscriptionArn": CIS_SUB, "StandardsArn": CIS_ARN,
             "StandardsInput": {}, "StandardsStatus": "READY"},
            {"StandardsSubscriptionArn": FSBP_SUB, "StandardsArn": FSBP_ARN,
             "StandardsInput": {}, "StandardsStatus": "READY"}]})
        only = self.call("GetEnabledStandards", {"StandardsSubscriptionArns": [FSBP_SUB]})
        self.assertEqual([s["StandardsArn"] for s in only["StandardsSubscriptions"]], [FSBP_ARN])
        p1 = self.call("GetEnabledStandards", {"MaxResults": 1})
        self.assertEqual(len(p1["StandardsSubscriptions"]), 1)
        p2 = self.call("GetEnabledStandards", {"MaxResults": 1, "NextToken": p1["NextToken"]})
        self.assertNotIn("NextToken", p2)
        self.assertEqual(p2["StandardsSubscriptions"][0]["StandardsSubscriptionArn"], FSBP_SUB)
        e = self.err("GetEnabledStandards", {"StandardsSubscriptionArns": ["cis"]})
        self.assertEqual(e.code, "InvalidInputException")
        self.assertIn("'cis'", e.message)
        e = self.err("GetEnabledStandards", {"StandardsSubscriptionArns": [FSBP_SUB], "NextToken": p1["NextToken"]})
        self.assertEqual(e.code, "InvalidInputException")

    def test_describe_standards(self):
        out = self.call("DescribeStandards")
        self.assertEqual(len(out["Standards"]), 10)
        self.assertIn("NextToken", out)
        rest = self.call("DescribeStandards", {"NextToken": out["NextToken"]})
        self.assertEqual(len(rest["Standards"]), 2)
        self.assertNotIn("NextToken", rest)
        first = out["Standards"][0]
        self.assertEqual(first, {"StandardsArn": FSBP_ARN,
                                 "Name": "AWS Foundational Security Best Practices v1.0.0",
                                 "Description": "FSBP description", "EnabledByDefault": True,
                                 "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"}})
        # regional standards ARNs follow the caller's region; the CIS ruleset has none
        eu = self.call("DescribeStandards", {"MaxResults": 2}, c=ctx(A2, R2))["Standards"]
        self.assertEqual(eu[0]["StandardsArn"], FSBP_ARN.replace("us-east-1", R2))
        self.assertEqual(eu[1]["StandardsArn"], CIS_ARN)
        cis3 = [s for s in out["Standards"] if s["Name"].endswith("v3.0.0")][0]
        self.assertEqual(cis3["StandardsArn"], CIS3_ARN.format(region=R1))

    def test_shared_control_id(self):
        ctl = self.call("DescribeStandardsControls", {"StandardsSubscriptionArn": CIS3_SUB_A2},
                        c=ctx(A2, R1))["Controls"]
        self.assertEqual([(c["ControlId"], c["Title"], c["ControlStatus"]) for c in ctl],
                         [("2.1.4", "2.1.4 S3.1", "DISABLED"), ("2.1.4", "2.1.4 EC2.2", "DISABLED")])
        self.assertEqual(ctl[0]["StandardsControlArn"],
                         f"arn:aws:securityhub:{R1}:{A2}:control/cis-aws-foundations-benchmark/v/3.0.0/2.1.4")
        defs = self.call("ListSecurityControlDefinitions", {"StandardsArn": CIS3_ARN.format(region=R2)},
                         c=ctx(A2, R1))["SecurityControlDefinitions"]
        self.assertEqual([d["SecurityControlId"] for d in defs], ["S3.1", "EC2.2"])

    def test_describe_standards_controls(self):
        out = self.call("DescribeStandardsControls", {"StandardsSubscriptionArn": CIS_SUB})
        ctl = out["Controls"]
        self.assertEqual(len(ctl), 25)
        self.assertEqual(ctl[0]["StandardsControlArn"],
                         f"arn:aws:securityhub:{R1}:{A1}:control/cis-aws-foundations-benchmark/v/1.2.0/1.1")
        self.assertEqual(ctl[0]["ControlId"], "CIS.1.1")
        self.assertEqual(ctl[0]["ControlStatus"], "ENABLED")
        self.assertEqual(ctl[0]["ControlStatusUpdatedAt"], "2025-01-10T10:00:00.000Z")
        self.assertEqual(ctl[0]["RelatedRequirements"], ["CIS AWS Foundations 1.1"])
        self.assertEqual(ctl[0]["SeverityRating"], "LOW")
        self.assertEqual([c["ControlId"] for c in ctl if c["ControlStatus"] == "DISABLED"], ["CIS.1.13"])
        rest = self.call("DescribeStandardsControls", {"StandardsSubscriptionArn": CIS_SUB,
                                                       "NextToken": out["NextToken"]})
        self.assertEqual([c["ControlId"] for c in rest["Controls"]], [f"CIS.1.{i}" for i in range(26, 31)])
        self.assertNotIn("NextToken", rest)
        # the ARN may arrive still URL-encoded from the greedy path label
        enc = urllib.parse.quote(FSBP_SUB, safe="/")
        fs = self.call("DescribeStandardsControls", {"StandardsSubscriptionArn": enc})["Controls"]
        self.assertEqual([c["StandardsControlArn"] for c in fs], [
            f"arn:aws:securityhub:{R1}:{A1}:control/aws-foundational-security-best-practices/v/1.0.0/EC2.2",
            f"arn:aws:securityhub:{R1}:{A1}:control/aws-foundational-security-best-practices/v/1.0.0/S3.1"])

    def test_describe_standards_controls_errors_and_not_ready(self):
        e = self.err("DescribeStandardsControls", {"StandardsSubscriptionArn": CIS_SUB.replace(A1, A2)})
        self.assertEqual((e.status, e.code), (404, "ResourceNotFoundException"))
        self.assertIn(CIS_SUB.replace(A1, A2), e.message)
        e = self.err("DescribeStandardsControls", {"StandardsSubscriptionArn": "cis-1.2.0"})
        self.assertEqual((e.status, e.code), (400, "InvalidInputException"))
        self.assertIn("'cis-1.2.0'", e.message)
        nr = f"arn:aws:securityhub:{R2}:{A2}:subscription/cis-aws-foundations-benchmark/v/1.2.0"
        self.assertEqual(self.call("DescribeStandardsControls", {"StandardsSubscriptionArn": nr},
                                   c=ctx(A2, R2)), {"Controls": []})

    def test_list_security_control_definitions(self):
        out = self.call("ListSecurityControlDefinitions")
        self.assertEqual(len(out["SecurityControlDefinitions"]), 25)
        rest = self.call("ListSecurityControlDefinitions", {"NextToken": out["NextToken"]})
        self.assertEqual(len(rest["SecurityControlDefinitions"]), 7)
        self.assertEqual(out["SecurityControlDefinitions"][0], security_control("EC2.2", "HIGH"))
        fs = self.call("ListSecurityControlDefinitions", {"StandardsArn": FSBP_ARN})
        self.assertEqual([d["SecurityControlId"] for d in fs["SecurityControlDefinitions"]], ["EC2.2", "S3.1"])
        # the regional ARN of another region names the same standard
        fs2 = self.call("ListSecurityControlDefinitions",
                        {"StandardsArn": FSBP_ARN.replace("us-east-1", R2)}, c=ctx(A2, R2))
        self.assertEqual(fs2["SecurityControlDefinitions"], fs["SecurityControlDefinitions"])
        cis = self.call("ListSecurityControlDefinitions", {"StandardsArn": CIS_ARN, "MaxResults": 100})
        self.assertEqual(len(cis["SecurityControlDefinitions"]), 30)
        for bad in ("arn:aws:securityhub:::ruleset/none/v/1", "CIS"):
            e = self.err("ListSecurityControlDefinitions", {"StandardsArn": bad})
            self.assertEqual(e.code, "InvalidInputException")
            self.assertIn(repr(bad), e.message)
        e = self.err("ListSecurityControlDefinitions", {"StandardsArn": CIS_ARN, "NextToken": out["NextToken"]})
        self.assertEqual(e.code, "InvalidInputException")


class TestTimestamps(unittest.TestCase):
    def test_parse(self):
        p = securityhub.parse_ts
        self.assertEqual(p("1970-01-01T00:00:00Z"), 0)
        self.assertEqual(p("1970-01-01T00:00:01.5Z"), 1_500_000_000)
        self.assertEqual(p("1970-01-01T01:00:00+01:00"), 0)
        self.assertEqual(p("2024-02-29T00:00:00.123456789Z") % securityhub.NS, 123456789)
        for bad in ("2024-02-30T00:00:00Z", "2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z",
                    "2024-01-01T24:00:00Z", "2024-01-01T00:00:00.1234567890Z", None, 17):
            self.assertIsNone(p(bad), bad)


class TestScale(Base):
    """5,000 findings: the UpdatedAt index answers incremental queries."""
    findings_a1 = [finding(n, updated=NOW - 5000 * 60 + n * 60) for n in range(5000)]

    def test_incremental_and_full_paging(self):
        got = self.ids({"UpdatedAt": [{"Start": iso(NOW - 10 * 60)}]})
        self.assertEqual(got, list(range(4999, 4989, -1)))
        total, params = 0, {"MaxResults": 100, "Filters": {"RecordState": [S("EQUALS", "ACTIVE")]}}
        while True:
            page = self.svc.handle(ctx(), "GetFindings", params)
            total += len(page["Findings"])
            if "NextToken" not in page:
                break
            params["NextToken"] = page["NextToken"]
        self.assertEqual(total, 5000)


if __name__ == "__main__":
    unittest.main()
