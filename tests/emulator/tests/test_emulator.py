#!/usr/bin/env python3
"""The emulator's own test suite (unittest; run with any python3 that has
botocore: the pip one and Debian's /usr/bin/python3 with botocore 1.29).

Design: each TestCase class starts its own emulator on a fresh fixture
dataset (fixture.py), so clock, fault and drift changes cannot leak between
classes. Clients are the real ones: botocore clients and the `aws` command
line on PATH (--endpoint-url), plus raw HTTP for what no SDK sends on
purpose (missing Authorization, a tampered body, wrong types). Assertions
check AWS's error codes, HTTP statuses and message texts. Prints
"N passed, N failed" at the end; exit status 1 on any failure.
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import botocore.session  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config as BotoConfig  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import fixture  # noqa: E402
from fixture import ACCT_A, ACCT_B, BASE_AK, BASE_SK  # noqa: E402

NO_RETRY = BotoConfig(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=20)
AWS_CLI = shutil.which("aws")


class EmuCase(unittest.TestCase):
    emulator_args = ()

    @classmethod
    def setUpClass(cls):
        cls.emu = fixture.Emulator(extra_args=cls.emulator_args).start()
        cls.session = botocore.session.get_session()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def client(self, service, ak=BASE_AK, sk=BASE_SK, token=None, region="us-east-1", retry=False):
        return self.session.create_client(service, region_name=region, endpoint_url=self.emu.url,
                                          aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=token,
                                          config=None if retry else NO_RETRY)

    def assertError(self, code, fn, *args, status=None, message=None, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kw)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if status is not None:
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        if message is not None:
            self.assertIn(message, err.get("Message", ""))
        return cm.exception

    def raw(self, method, path, body=b"", headers=None, sign=None, tamper=None):
        """sign: dict(service=, ak=, sk=, token=, region=) or None (unsigned)."""
        headers = dict(headers or {})
        if sign:
            req = AWSRequest(method=method, url=self.emu.url + path, data=body, headers=headers)
            SigV4Auth(Credentials(sign.get("ak", BASE_AK), sign.get("sk", BASE_SK), sign.get("token")),
                      sign["service"], sign.get("region", "us-east-1")).add_auth(req)
            headers = dict(req.headers.items())
        if tamper:
            body = tamper(body)
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        finally:
            conn.close()

    def config_raw(self, op, doc, sign=True, **kw):
        body = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
        headers = {"X-Amz-Target": "StarlingDoveService." + op, "Content-Type": "application/x-amz-json-1.1"}
        s = dict(service="config", **kw) if sign else None
        return self.raw("POST", "/", body, headers, sign=s)

    def cli(self, *args, ak=BASE_AK, sk=BASE_SK, token=None, region="us-east-1", check=True):
        if AWS_CLI is None:
            self.fail("the aws command line is not on PATH")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk, "AWS_DEFAULT_REGION": region,
                    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                    "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard", "AWS_EC2_METADATA_DISABLED": "true"})
        if token:
            env["AWS_SESSION_TOKEN"] = token
        p = subprocess.run([AWS_CLI, "--endpoint-url", self.emu.url, "--output", "json"] + list(args),
                           env=env, capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            self.fail("aws %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
        return p


# ---------------------------------------------------------------------------
class TestStartup(EmuCase):
    def test_banner_and_models(self):
        self.assertTrue(self.emu.banner[0].startswith("listening on http://127.0.0.1:"))
        status, doc = self.emu.control("health")
        self.assertEqual(status, 200)
        self.assertTrue(doc["ok"])

    def test_bad_dataset_is_reported(self):
        bad = os.path.join(self.emu.tmp, "bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "org.json"), "w") as f:
            f.write("{\"regions\": [\"us-east-1\"],\n \"base_identity\": 5}")
        p = subprocess.run([sys.executable, fixture.EMULATOR, "--data", bad], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("org.json: missing object 'base_identity'", p.stderr)
        p = subprocess.run([sys.executable, fixture.EMULATOR, "--data", os.path.join(bad, "nope")], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("does not exist", p.stderr)
        p = subprocess.run([sys.executable, fixture.EMULATOR, "--data", self.emu.data, "--faults", "5xx=2"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("probability must be between 0 and 1", p.stderr)
        spec = os.path.join(bad, "faults.json")
        with open(spec, "w") as f:
            f.write('{"throttle": 0.5, "seed": "x"}')
        p = subprocess.run([sys.executable, fixture.EMULATOR, "--data", self.emu.data, "--faults", "@" + spec], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("fault option seed='x' must be a number", p.stderr)
        p = subprocess.run([sys.executable, fixture.EMULATOR, "--data", self.emu.data, "--faults", "@" + spec + ".missing"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("No such file", p.stderr)

    def test_unknown_routes(self):
        st, h, body = self.raw("GET", "/nothing/here")
        self.assertEqual(st, 404)
        st, doc = self.emu.control("nope")
        self.assertEqual(st, 404)
        self.assertIn("unknown control endpoint", doc["error"])
        st, h, body = self.config_raw("NoSuchOperation", {})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body)["__type"], "UnknownOperationException")


# ---------------------------------------------------------------------------
class TestSts(EmuCase):
    def test_caller_identity(self):
        r = self.client("sts").get_caller_identity()
        self.assertEqual(r["Account"], ACCT_A)
        self.assertEqual(r["Arn"], "arn:aws:iam::%s:user/driftsync" % ACCT_A)

    def test_raw_xml_shapes(self):
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        st, h, out = self.raw("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                              sign=dict(service="sts"))
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "text/xml")
        text = out.decode()
        self.assertIn('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">', text)
        self.assertIn("<GetCallerIdentityResult>", text)
        self.assertIn("<Account>%s</Account>" % ACCT_A, text)
        self.assertIn("<RequestId>%s</RequestId>" % h["x-amzn-requestid"], text)
        st, h, out = self.raw("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"},
                              sign=dict(service="sts", sk="wrong"))
        self.assertEqual(st, 403)
        text = out.decode()
        self.assertIn("<ErrorResponse", text)
        self.assertIn("<Type>Sender</Type>", text)
        self.assertIn("<Code>SignatureDoesNotMatch</Code>", text)

    def test_assume_role_and_scoping(self):
        r = self.client("sts").assume_role(RoleArn=fixture.ROLE_B, RoleSessionName="sync")
        c = r["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(r["AssumedRoleUser"]["Arn"], "arn:aws:sts::%s:assumed-role/DriftSyncReadOnly/sync" % ACCT_B)
        who = self.client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
        self.assertEqual(who["Account"], ACCT_B)
        cfg_b = self.client("config", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        ids_b = [json.loads(x)["resourceId"] for x in cfg_b.select_resource_config(
            Expression="SELECT resourceId WHERE resourceType = 'AWS::EC2::VPC'")["Results"]]
        self.assertEqual(ids_b, ["vpc-22220021"])
        ids_a = [json.loads(x)["resourceId"] for x in self.client("config").select_resource_config(
            Expression="SELECT resourceId WHERE resourceType = 'AWS::EC2::VPC'")["Results"]]
        self.assertEqual(ids_a, ["vpc-11110001", "vpc-11110002"])
        # session keys without their token are refused
        self.assertError("UnrecognizedClientException", self.client("config", c["AccessKeyId"], c["SecretAccessKey"]).select_resource_config,
                         Expression="SELECT resourceId", status=403, message="security token included in the request is invalid")
        self.assertError("InvalidClientTokenId", self.client("sts", c["AccessKeyId"], c["SecretAccessKey"], "bogus").get_caller_identity, status=403)

    def test_assume_role_refusals(self):
        sts = self.client("sts")
        self.assertError("AccessDenied", sts.assume_role, RoleArn=fixture.ROLE_B_EXT, RoleSessionName="s1", status=403,
                         message="is not authorized to perform: sts:AssumeRole on resource: " + fixture.ROLE_B_EXT)
        r = sts.assume_role(RoleArn=fixture.ROLE_B_EXT, RoleSessionName="s1", ExternalId="ext-123", DurationSeconds=7200)
        self.assertIn("AccessKeyId", r["Credentials"])
        self.assertError("ValidationError", sts.assume_role, RoleArn=fixture.ROLE_B, RoleSessionName="s2", DurationSeconds=7200,
                         message="exceeds the MaxSessionDuration set for this role")
        self.assertError("AccessDenied", sts.assume_role, RoleArn="arn:aws:iam::333333333333:role/Nope", RoleSessionName="s3")
        # account B's session is not trusted by the roles
        c = sts.assume_role(RoleArn=fixture.ROLE_B, RoleSessionName="s4")["Credentials"]
        sts_b = self.client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        self.assertError("AccessDenied", sts_b.assume_role, RoleArn=fixture.ROLE_B_EXT, RoleSessionName="s5", ExternalId="ext-123")
        # query-protocol validation: DurationSeconds below the model minimum (raw: botocore checks it client side)
        body = ("Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=s6&DurationSeconds=60" % fixture.ROLE_B).encode()
        st, h, out = self.raw("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"}, sign=dict(service="sts"))
        self.assertEqual(st, 400)
        self.assertIn("<Code>ValidationError</Code>", out.decode())
        self.assertIn("1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: "
                      "Member must have value greater than or equal to 900", out.decode())

    def test_web_identity(self):
        sts = self.session.create_client("sts", region_name="us-east-1", endpoint_url=self.emu.url,
                                         config=BotoConfig(signature_version=botocore.UNSIGNED, retries={"max_attempts": 0}))
        r = sts.assume_role_with_web_identity(RoleArn=fixture.ROLE_WEB, RoleSessionName="web", WebIdentityToken=fixture.WEB_TOKEN)
        self.assertEqual(r["SubjectFromWebIdentityToken"], "driftsync")
        self.assertEqual(r["Provider"], "https://oidc.example")
        self.assertEqual(r["AssumedRoleUser"]["Arn"], "arn:aws:sts::%s:assumed-role/DriftSyncWeb/web" % ACCT_A)
        self.assertError("InvalidIdentityToken", sts.assume_role_with_web_identity, RoleArn=fixture.ROLE_WEB,
                         RoleSessionName="web", WebIdentityToken="not-a-known-token-at-all")
        self.assertError("AccessDenied", sts.assume_role_with_web_identity, RoleArn=fixture.ROLE_B,
                         RoleSessionName="web", WebIdentityToken=fixture.WEB_TOKEN)

    def test_expired_session(self):
        c = self.client("sts").assume_role(RoleArn=fixture.ROLE_B, RoleSessionName="short", DurationSeconds=900)["Credentials"]
        cfg = self.client("config", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        sts = self.client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        cfg.select_resource_config(Expression="SELECT resourceId")
        try:
            # 901 s later the session is over (the token check comes before the clock-skew check)
            self.assertEqual(self.emu.control("clock", {"advance_seconds": 901})[0], 200)
            self.assertError("ExpiredTokenException", cfg.select_resource_config, Expression="SELECT resourceId", status=400,
                             message="The security token included in the request is expired")
            self.assertError("ExpiredToken", sts.get_caller_identity, status=403)
            # raw wire shape of the JSON error
            st, h, out = self.config_raw("SelectResourceConfig", {"Expression": "SELECT resourceId"},
                                         ak=c["AccessKeyId"], sk=c["SecretAccessKey"], token=c["SessionToken"])
            self.assertEqual(st, 400)
            self.assertEqual(json.loads(out), {"__type": "ExpiredTokenException", "message": "The security token included in the request is expired"})
        finally:
            self.emu.control("clock", {"offset_seconds": 0})
        # the expired-token fault answers the STS shape too
        self.emu.control("faults", "expired=1,ops=GetCallerIdentity")
        try:
            self.assertError("ExpiredToken", sts.get_caller_identity, status=403, message="expired")
        finally:
            self.emu.control("faults", {})


# ---------------------------------------------------------------------------
class TestAuth(EmuCase):
    def test_wrong_signature(self):
        e = self.assertError("InvalidSignatureException", self.client("config", sk="wrongsecret").select_resource_config,
                             Expression="SELECT resourceId", status=403)
        self.assertTrue(e.response["Error"]["Message"].startswith(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."))
        self.assertError("SignatureDoesNotMatch", self.client("sts", sk="wrongsecret").get_caller_identity, status=403)

    def test_tampered_body(self):
        st, h, out = self.config_raw("SelectResourceConfig", {"Expression": "SELECT resourceId"})
        self.assertEqual(st, 200)
        body = json.dumps({"Expression": "SELECT resourceId"}).encode()
        headers = {"X-Amz-Target": "StarlingDoveService.SelectResourceConfig", "Content-Type": "application/x-amz-json-1.1"}
        st, h, out = self.raw("POST", "/", body, headers, sign=dict(service="config"),
                              tamper=lambda b: b.replace(b"resourceId", b"resourceXd"))
        self.assertEqual(st, 403)
        self.assertEqual(json.loads(out)["__type"], "InvalidSignatureException")
        self.assertIn("The Canonical String for this request should have been", json.loads(out)["message"])

    def test_unknown_key(self):
        self.assertError("UnrecognizedClientException", self.client("config", ak="AKIAUNKNOWNKEY000000").select_resource_config,
                         Expression="SELECT resourceId", status=403, message="The security token included in the request is invalid.")
        self.assertError("InvalidClientTokenId", self.client("sts", ak="AKIAUNKNOWNKEY000000").get_caller_identity, status=403)

    def test_missing_authentication(self):
        st, h, out = self.config_raw("SelectResourceConfig", {"Expression": "SELECT resourceId"}, sign=False)
        self.assertEqual(st, 403)
        self.assertEqual(json.loads(out), {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
        st, h, out = self.raw("POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15", {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 403)
        self.assertIn("<Code>MissingAuthenticationToken</Code>", out.decode())

    def test_scope_service_and_region(self):
        body = json.dumps({"Expression": "SELECT resourceId"}).encode()
        headers = {"X-Amz-Target": "StarlingDoveService.SelectResourceConfig", "Content-Type": "application/x-amz-json-1.1"}
        st, h, out = self.raw("POST", "/", body, headers, sign=dict(service="securityhub"))
        self.assertEqual(st, 403)
        self.assertEqual(json.loads(out)["message"], "Credential should be scoped to correct service: 'config'. ")
        # the region of the credential scope is the request's region
        r = self.client("config", region="eu-west-1").select_resource_config(Expression="SELECT resourceId, awsRegion")
        self.assertEqual([json.loads(x) for x in r["Results"]], [{"resourceId": "vpc-11110011", "awsRegion": "eu-west-1"}])

    def test_clock_skew(self):
        try:
            self.emu.control("clock", {"offset_seconds": -600})
            e = self.assertError("InvalidSignatureException", self.client("config").select_resource_config,
                                 Expression="SELECT resourceId", status=403)
            self.assertRegex(e.response["Error"]["Message"], r"^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$")
            self.emu.control("clock", {"offset_seconds": 400})
            e = self.assertError("InvalidSignatureException", self.client("config").select_resource_config,
                                 Expression="SELECT resourceId", status=403)
            self.assertIn("Signature expired: ", e.response["Error"]["Message"])
            e = self.assertError("SignatureDoesNotMatch", self.client("sts").get_caller_identity, status=403)
            self.assertIn("Signature expired: ", e.response["Error"]["Message"])
            self.emu.control("clock", {"offset_seconds": 200})   # within 5 minutes: accepted
            self.client("config").select_resource_config(Expression="SELECT resourceId")
        finally:
            self.emu.control("clock", {"offset_seconds": 0})


# ---------------------------------------------------------------------------
class TestValidation(EmuCase):
    def test_limit_too_large(self):
        e = self.assertError("ValidationException", self.client("config").list_discovered_resources,
                             resourceType="AWS::EC2::SecurityGroup", limit=500, status=400)
        self.assertEqual(e.response["Error"]["Message"], "1 validation error detected: Value '500' at 'limit' failed to satisfy "
                         "constraint: Member must have value less than or equal to 100")

    def test_raw_validation_messages(self):
        st, h, out = self.config_raw("ListDiscoveredResources", {"limit": 5})
        self.assertEqual((st, json.loads(out)["message"]), (400, "1 validation error detected: Value null at 'resourceType' failed "
                                                                 "to satisfy constraint: Member must not be null"))
        st, h, out = self.config_raw("ListDiscoveredResources", {"resourceType": "AWS::Nope::Thing", "limit": 101})
        msg = json.loads(out)["message"]
        self.assertTrue(msg.startswith("2 validation errors detected: "), msg)
        self.assertIn("Value 'AWS::Nope::Thing' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [", msg)
        st, h, out = self.config_raw("ListDiscoveredResources", {"resourceType": "AWS::EC2::VPC", "limit": "ten"})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(out)["__type"], "com.amazon.coral.service#SerializationException")
        st, h, out = self.config_raw("ListDiscoveredResources", b"{not json")
        self.assertEqual(json.loads(out)["__type"], "SerializationException")
        keys = [{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-%d" % i} for i in range(101)]
        st, h, out = self.config_raw("BatchGetResourceConfig", {"resourceKeys": keys})
        self.assertIn("at 'resourceKeys' failed to satisfy constraint: Member must have length less than or equal to 100",
                      json.loads(out)["message"])
        st, h, out = self.config_raw("BatchGetResourceConfig", {"resourceKeys": [{"resourceType": "AWS::EC2::VPC"}]})
        self.assertIn("Value null at 'resourceKeys.1.member.resourceId' failed to satisfy constraint: Member must not be null",
                      json.loads(out)["message"])
        # unknown members are ignored, as AWS's JSON front end does
        st, h, out = self.config_raw("SelectResourceConfig", {"Expression": "SELECT resourceId", "Bogus": 1})
        self.assertEqual(st, 200)

    def test_json_headers(self):
        st, h, out = self.config_raw("DescribeConfigurationAggregators", {})
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "application/x-amz-json-1.1")
        self.assertEqual(int(h["content-length"]), len(out))
        self.assertRegex(h["x-amzn-requestid"], r"^[0-9a-f-]{36}$")

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=20)
        try:
            for _ in range(3):
                conn.request("GET", "/__emulator/health")
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                self.assertEqual(r.version, 11)
                self.assertIsNone(r.getheader("Connection"))
        finally:
            conn.close()


# ---------------------------------------------------------------------------
class TestConfig(EmuCase):
    def sel(self, expr, **kw):
        return [json.loads(x) for x in self.client("config", **kw).select_resource_config(Expression=expr)["Results"]]

    def test_select_fields_and_nesting(self):
        r = self.client("config").select_resource_config(
            Expression="SELECT resourceId, resourceName, configuration.cidrBlock, tags WHERE resourceType = 'AWS::EC2::VPC' AND resourceName = 'prod-vpc'")
        self.assertEqual(r["QueryInfo"]["SelectFields"], [{"Name": "resourceId"}, {"Name": "resourceName"},
                                                          {"Name": "configuration.cidrBlock"}, {"Name": "tags"}])
        self.assertEqual([json.loads(x) for x in r["Results"]], [{
            "resourceId": "vpc-11110001", "resourceName": "prod-vpc", "configuration": {"cidrBlock": "10.0.0.0/16"},
            "tags": [{"key": "Name", "value": "prod-vpc"}, {"key": "env", "value": "prod"}]}])

    def test_where_operators(self):
        ids = lambda rows: [r["resourceId"] for r in rows]  # noqa: E731
        self.assertEqual(ids(self.sel("SELECT resourceId WHERE resourceType IN ('AWS::EC2::VPC', 'AWS::EC2::Subnet') AND resourceId LIKE 'subnet-%'")),
                         ["subnet-11110001", "subnet-11110002"])
        self.assertEqual(ids(self.sel("SELECT resourceId WHERE configuration.ipPermissions.fromPort = 22")), ["sg-11110003"])
        self.assertEqual(ids(self.sel("SELECT resourceId WHERE tags.key = 'team' AND tags.value = 'net' AND resourceId = 'sg-11110002'")), ["sg-11110002"])
        self.assertEqual(ids(self.sel("SELECT resourceId WHERE tags.tag = 'env=dev'")), ["vpc-11110002"])
        self.assertEqual(ids(self.sel("SELECT resourceId WHERE relationships.resourceId = 'vpc-11110002' AND resourceType = 'AWS::EC2::Subnet'")), ["subnet-11110002"])
        self.assertEqual(ids(self.sel("SELECT resourceId WHERE resourceType = 'AWS::EC2::VPC' AND NOT (resourceName = 'prod-vpc' OR resourceName = 'nothing')")), ["vpc-11110002"])
        self.assertEqual(len(self.sel("SELECT resourceId WHERE configurationItemCaptureTime BETWEEN '2026-09-30T00:00:00Z' AND '2026-10-02T00:00:00.000Z'")), 11)
        self.assertEqual(len(self.sel("SELECT resourceId WHERE configurationItemCaptureTime < '2026-09-30T00:00:00Z'")), 0)
        self.assertEqual(ids(self.sel("SELECT resourceId WHERE resourceName = 'it''s'")), [])
        rows = self.sel("SELECT resourceType, COUNT(*) WHERE resourceType LIKE 'AWS::EC2::%' GROUP BY resourceType ORDER BY resourceType")
        self.assertEqual(rows, [{"resourceType": "AWS::EC2::SecurityGroup", "COUNT(*)": 7}, {"resourceType": "AWS::EC2::Subnet", "COUNT(*)": 2},
                                {"resourceType": "AWS::EC2::VPC", "COUNT(*)": 2}])

    def test_invalid_expressions(self):
        cfg = self.client("config")
        for expr in ("SELECT *", "SELECT resourceId FROM resources", "SELECT resourceId WHERE", "SELECT bogus",
                     "SELECT resourceId WHERE resourceId = 'x", "SELECT resourceId WHERE resourceId ~ 'x'",
                     "SELECT resourceType, COUNT(*)", "DELETE resourceId"):
            with self.subTest(expr=expr):
                self.assertError("InvalidExpressionException", cfg.select_resource_config, Expression=expr, status=400)

    def test_select_pagination_and_tokens(self):
        cfg = self.client("config")
        expr = "SELECT resourceId WHERE resourceType = 'AWS::EC2::SecurityGroup'"
        pages = list(cfg.get_paginator("select_resource_config").paginate(Expression=expr, PaginationConfig={"PageSize": 3}))
        self.assertEqual([len(p["Results"]) for p in pages], [3, 3, 1])
        got = [json.loads(x)["resourceId"] for p in pages for x in p["Results"]]
        self.assertEqual(got, ["sg-1111%04d" % n for n in range(1, 8)])
        token = pages[0]["NextToken"]
        self.assertError("InvalidNextTokenException", cfg.select_resource_config,
                         Expression="SELECT resourceId WHERE resourceType = 'AWS::EC2::VPC'", NextToken=token, status=400)
        self.assertError("InvalidNextTokenException", cfg.select_resource_config, Expression=expr, NextToken="Zm9yZWlnbg")
        self.assertError("InvalidNextTokenException", self.client("config", region="eu-west-1").select_resource_config,
                         Expression=expr, NextToken=token)
        # the same token again with the same query is fine (AWS accepts reuse)
        self.assertEqual(len(cfg.select_resource_config(Expression=expr, NextToken=token, Limit=3)["Results"]), 3)

    def test_aggregate(self):
        cfg = self.client("config")
        agg = cfg.describe_configuration_aggregators()["ConfigurationAggregators"]
        self.assertEqual([a["ConfigurationAggregatorName"] for a in agg], ["org-aggregator"])
        self.assertTrue(agg[0]["ConfigurationAggregatorArn"].startswith("arn:aws:config:us-east-1:%s:config-aggregator/config-aggregator-" % ACCT_A))
        self.assertTrue(agg[0]["OrganizationAggregationSource"]["AllAwsRegions"])
        self.assertError("NoSuchConfigurationAggregatorException", cfg.describe_configuration_aggregators, ConfigurationAggregatorNames=["nope"])
        r = cfg.select_aggregate_resource_config(ConfigurationAggregatorName="org-aggregator",
                                                 Expression="SELECT accountId, awsRegion, resourceId WHERE resourceType = 'AWS::EC2::VPC'")
        rows = sorted((x["accountId"], x["awsRegion"], x["resourceId"]) for x in map(json.loads, r["Results"]))
        self.assertEqual(rows, [(ACCT_A, "eu-west-1", "vpc-11110011"), (ACCT_A, "us-east-1", "vpc-11110001"),
                                (ACCT_A, "us-east-1", "vpc-11110002"), (ACCT_B, "us-east-1", "vpc-22220021")])
        pages = list(cfg.get_paginator("select_aggregate_resource_config").paginate(
            ConfigurationAggregatorName="org-aggregator", Expression="SELECT resourceId", PaginationConfig={"PageSize": 5}))
        self.assertEqual(sum(len(p["Results"]) for p in pages), 14)
        self.assertError("NoSuchConfigurationAggregatorException", self.client("config", region="eu-west-1").select_aggregate_resource_config,
                         ConfigurationAggregatorName="org-aggregator", Expression="SELECT resourceId")

    def test_list_discovered(self):
        cfg = self.client("config")
        pages = list(cfg.get_paginator("list_discovered_resources").paginate(resourceType="AWS::EC2::SecurityGroup",
                                                                             PaginationConfig={"PageSize": 3}))
        self.assertEqual([len(p["resourceIdentifiers"]) for p in pages], [3, 3, 1])
        self.assertEqual(pages[0]["resourceIdentifiers"][0], {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-11110001", "resourceName": "sg-name-1"})
        r = cfg.list_discovered_resources(resourceType="AWS::EC2::VPC", resourceIds=["vpc-11110002"])
        self.assertEqual([x["resourceId"] for x in r["resourceIdentifiers"]], ["vpc-11110002"])
        self.assertError("InvalidNextTokenException", cfg.list_discovered_resources, resourceType="AWS::EC2::VPC",
                         nextToken=pages[0]["nextToken"])

    def test_batch_get(self):
        cfg = self.client("config")
        r = cfg.batch_get_resource_config(resourceKeys=[{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-11110001"},
                                                        {"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-missing"},
                                                        {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-11110003"}])
        items = r["baseConfigurationItems"]
        self.assertEqual([i["resourceId"] for i in items], ["vpc-11110001", "sg-11110003"])
        self.assertEqual(r["unprocessedResourceKeys"], [])
        self.assertIsInstance(items[0]["configuration"], str)
        self.assertEqual(json.loads(items[0]["configuration"])["cidrBlock"], "10.0.0.0/16")
        self.assertEqual(items[1]["supplementaryConfiguration"], {"Note": '{"x":3}'})
        self.assertNotIn("tags", items[0])
        # wire form: epoch seconds
        st, h, out = self.config_raw("BatchGetResourceConfig", {"resourceKeys": [{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-11110001"}]})
        self.assertIsInstance(json.loads(out)["baseConfigurationItems"][0]["configurationItemCaptureTime"], (int, float))
        # unprocessed keys under the fault
        self.emu.control("faults", "unprocessed=1,seed=3")
        try:
            r = cfg.batch_get_resource_config(resourceKeys=[{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-11110001"}])
            self.assertEqual(r["baseConfigurationItems"], [])
            self.assertEqual(r["unprocessedResourceKeys"], [{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-11110001"}])
        finally:
            self.emu.control("faults", {})

    def test_history(self):
        cfg = self.client("config")
        r = cfg.get_resource_config_history(resourceType="AWS::EC2::VPC", resourceId="vpc-11110001")
        items = r["configurationItems"]
        self.assertEqual([json.loads(i["configuration"])["cidrBlock"] for i in items], ["10.0.0.0/16", "10.9.0.0/16"])
        self.assertEqual(items[0]["tags"], {"Name": "prod-vpc", "env": "prod"})
        self.assertEqual(items[0]["relationships"][0]["relationshipName"], "Contains Subnet")
        pages = list(cfg.get_paginator("get_resource_config_history").paginate(
            resourceType="AWS::EC2::VPC", resourceId="vpc-11110001", chronologicalOrder="Forward", PaginationConfig={"PageSize": 1}))
        self.assertEqual([json.loads(p["configurationItems"][0]["configuration"])["cidrBlock"] for p in pages], ["10.9.0.0/16", "10.0.0.0/16"])
        import datetime
        r = cfg.get_resource_config_history(resourceType="AWS::EC2::VPC", resourceId="vpc-11110001",
                                            laterTime=datetime.datetime(2026, 9, 15, tzinfo=datetime.timezone.utc))
        self.assertEqual(len(r["configurationItems"]), 1)
        self.assertError("InvalidTimeRangeException", cfg.get_resource_config_history, resourceType="AWS::EC2::VPC", resourceId="vpc-11110001",
                         laterTime=datetime.datetime(2026, 1, 1), earlierTime=datetime.datetime(2026, 2, 1))
        self.assertError("ResourceNotDiscoveredException", cfg.get_resource_config_history, resourceType="AWS::EC2::VPC", resourceId="vpc-nope",
                         message="Resource vpc-nope of resourceType:AWS::EC2::VPC is unknown or has not been discovered")


# ---------------------------------------------------------------------------
class TestLimitsAndFaults(EmuCase):
    def tearDown(self):
        self.emu.control("faults", {})

    def test_throttling_shapes(self):
        st, doc = self.emu.control("faults", {"rates": {"ListDiscoveredResources": [0.01, 1], "GetCallerIdentity": [0.01, 1]}})
        self.assertEqual(st, 200)
        cfg = self.client("config")
        cfg.list_discovered_resources(resourceType="AWS::EC2::VPC")
        self.assertError("ThrottlingException", cfg.list_discovered_resources, resourceType="AWS::EC2::VPC", status=400, message="Rate exceeded")
        # per account+region: another region has its own bucket
        self.client("config", region="eu-west-1").list_discovered_resources(resourceType="AWS::EC2::VPC")
        sts = self.client("sts")
        sts.get_caller_identity()
        self.assertError("Throttling", sts.get_caller_identity, status=400)

    def test_5xx_burst_then_recovery(self):
        self.emu.control("faults", "burst5xx=2")
        cfg = self.client("config")
        for _ in range(2):
            self.assertError("ServiceUnavailableException", cfg.describe_configuration_aggregators, status=503)
        cfg.describe_configuration_aggregators()
        # botocore's own retry rides over a burst
        self.emu.control("faults", "burst5xx=2")
        self.client("config", retry=True).describe_configuration_aggregators()

    def test_transport_faults(self):
        from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
        from botocore.parsers import ResponseParserError
        cfg = self.client("config")
        self.emu.control("faults", "reset=1")
        with self.assertRaises((ConnectionClosedError, EndpointConnectionError, ConnectionError, Exception)) as cm:
            cfg.describe_configuration_aggregators()
        self.assertNotIsInstance(cm.exception, ClientError)
        self.emu.control("faults", "truncate=1")
        with self.assertRaises(Exception) as cm:
            cfg.describe_configuration_aggregators()
        self.assertNotIsInstance(cm.exception, ClientError)
        self.emu.control("faults", "malformed=1")
        # botocore swallows an unparseable JSON body (it returns no members)
        self.assertNotIn("ConfigurationAggregators", cfg.describe_configuration_aggregators())
        st, h, out = self.config_raw("DescribeConfigurationAggregators", {})
        self.assertEqual(st, 200)
        self.assertEqual(int(h["content-length"]), len(out))
        with self.assertRaises(ValueError):
            json.loads(out)
        # a malformed STS answer is a parser error
        with self.assertRaises(ResponseParserError):
            self.client("sts").get_caller_identity()
        self.emu.control("faults", "drip=1,drip_ms=800")
        t0 = time.time()
        cfg.describe_configuration_aggregators()
        self.assertGreaterEqual(time.time() - t0, 0.6)
        self.emu.control("faults", "expired=1")
        self.assertError("ExpiredTokenException", cfg.describe_configuration_aggregators, status=400)
        self.emu.control("faults", "latency=300,jitter=50")
        t0 = time.time()
        cfg.describe_configuration_aggregators()
        self.assertGreaterEqual(time.time() - t0, 0.3)
        st, doc = self.emu.control("stats")
        for k in ("reset", "truncate", "malformed", "drip", "expired"):
            self.assertGreaterEqual(doc["faults"]["injected"].get(k, 0), 1, k)

    def test_seeded_and_scoped(self):
        cfg = self.client("config")

        def run():
            self.emu.control("faults", "throttle=0.5,seed=7,ops=ListDiscoveredResources")
            out = []
            for _ in range(12):
                try:
                    cfg.list_discovered_resources(resourceType="AWS::EC2::VPC")
                    out.append("ok")
                except ClientError as e:
                    out.append(e.response["Error"]["Code"])
            return out
        a, b = run(), run()
        self.assertEqual(a, b)
        self.assertIn("ThrottlingException", a)
        self.assertIn("ok", a)
        # other operations untouched
        for _ in range(5):
            cfg.describe_configuration_aggregators()

    def test_bad_spec(self):
        st, doc = self.emu.control("faults", "explode=1")
        self.assertEqual(st, 400)
        self.assertIn("unknown fault 'explode'", doc["error"])
        st, doc = self.emu.control("faults", {"rates": {"X": [0, 1]}})
        self.assertEqual(st, 400)


# ---------------------------------------------------------------------------
class TestDriftAndStats(EmuCase):
    def ids(self, rtype="AWS::EC2::VPC"):
        r = self.client("config").select_resource_config(Expression="SELECT resourceId, configuration.cidrBlock WHERE resourceType = '%s'" % rtype)
        return {json.loads(x)["resourceId"]: json.loads(x).get("configuration", {}).get("cidrBlock") for x in r["Results"]}

    def test_put_modify_delete_reload(self):
        base = self.ids()
        new = fixture._vpc(ACCT_A, "us-east-1", 9, "new-vpc", t="2026-11-01T00:00:00.000Z", cidr="10.50.0.0/16")
        st, doc = self.emu.control("resources/put", {"items": [new]})
        self.assertEqual((st, doc["put"]), (200, 1))
        self.assertEqual(self.ids()["vpc-11110009"], "10.50.0.0/16")
        mod = fixture._vpc(ACCT_A, "us-east-1", 1, "prod-vpc", t="2026-11-02T00:00:00.000Z", cidr="10.0.0.0/8")
        self.emu.control("resources/put", {"items": [mod]})
        self.assertEqual(self.ids()["vpc-11110001"], "10.0.0.0/8")
        hist = self.client("config").get_resource_config_history(resourceType="AWS::EC2::VPC", resourceId="vpc-11110001")["configurationItems"]
        self.assertEqual(len(hist), 3)
        st, doc = self.emu.control("resources/delete", {"keys": [{"accountId": ACCT_A, "awsRegion": "us-east-1",
                                                                  "resourceType": "AWS::EC2::VPC", "resourceId": "vpc-11110002"}]})
        self.assertEqual(doc["deleted"], 1)
        self.assertNotIn("vpc-11110002", self.ids())
        cfg = self.client("config")
        r = cfg.list_discovered_resources(resourceType="AWS::EC2::VPC", includeDeletedResources=True)
        deleted = [x for x in r["resourceIdentifiers"] if x["resourceId"] == "vpc-11110002"]
        self.assertIn("resourceDeletionTime", deleted[0])
        self.assertEqual(cfg.batch_get_resource_config(resourceKeys=[{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-11110002"}])["baseConfigurationItems"], [])
        hist = cfg.get_resource_config_history(resourceType="AWS::EC2::VPC", resourceId="vpc-11110002")["configurationItems"]
        self.assertEqual(hist[0]["configurationItemStatus"], "ResourceDeleted")
        # bad drift requests name the problem
        st, doc = self.emu.control("resources/put", {"items": [{"accountId": ACCT_A, "awsRegion": "us-east-1", "resourceType": "AWS::EC2::VPC"}]})
        self.assertEqual(st, 400)
        self.assertIn("items[0]: missing string field 'resourceId'", doc["error"])
        st, doc = self.emu.control("resources/delete", b"{oops")
        self.assertEqual(st, 400)
        # reload from disk discards staged drift
        st, doc = self.emu.control("reload", {})
        self.assertEqual(st, 200)
        self.assertEqual(self.ids(), base)
        # SIGHUP reloads too (the dataset file changes on disk)
        path = os.path.join(self.emu.data, "accounts", ACCT_A, "us-east-1", "resources.ndjson")
        with open(path, "a") as f:
            f.write(json.dumps(fixture._vpc(ACCT_A, "us-east-1", 8, "hup-vpc")) + "\n")
        gen = self.emu.control("health")[1]["generation"]
        os.kill(self.emu.proc.pid, signal.SIGHUP)
        self.assertTrue(fixture.wait_until(lambda: self.emu.control("health")[1]["generation"] > gen))
        self.assertIn("vpc-11110008", self.ids())

    def test_findings_control_routes_to_security_hub(self):
        sh = self.client("securityhub")
        before = sh.get_findings()["Findings"]
        self.assertEqual(len(before), 1)
        st, doc = self.emu.control("findings/put", b"[1,")
        self.assertEqual(st, 400)

    def test_preload(self):
        # every account x region of the organisation and every hub read now,
        # without counting as AWS requests; reading again finds them loaded
        with open(os.path.join(self.emu.data, "org.json")) as f:
            org = json.load(f)
        # Security Hub keeps one hub per account/region directory of the dataset
        hubs = sum(1 for a in org["accounts"] for r in org["regions"]
                   if os.path.isdir(os.path.join(self.emu.data, "accounts", a["id"], r)))
        self.emu.control("stats", {})
        st, doc = self.emu.control("preload", {})
        self.assertEqual(st, 200)
        self.assertEqual(doc["loaded"], {"config": len(org["accounts"]) * len(org["regions"]),
                                         "securityhub": hubs})
        self.assertGreater(hubs, 0)
        self.assertEqual(self.emu.control("stats")[1]["total"], 0)
        self.assertIn("vpc-11110001", self.ids())
        st, doc = self.emu.control("preload")
        self.assertEqual(st, 404)
        self.assertIn("unknown control endpoint GET", doc["error"])

    def test_stats_counts(self):
        self.emu.control("stats", {})
        cfg = self.client("config")
        cfg.describe_configuration_aggregators()
        cfg.describe_configuration_aggregators()
        self.client("sts").get_caller_identity()
        st, doc = self.emu.control("stats")
        self.assertEqual(doc["requests"]["config"]["DescribeConfigurationAggregators"][ACCT_A], 2)
        self.assertEqual(doc["requests"]["sts"]["GetCallerIdentity"][ACCT_A], 1)
        self.assertEqual(doc["total"], 3)


# ---------------------------------------------------------------------------
class TestCredentialEndpoints(EmuCase):
    def test_imds_v2(self):
        from botocore.utils import InstanceMetadataFetcher
        creds = InstanceMetadataFetcher(base_url=self.emu.url + "/", timeout=5).retrieve_iam_role_credentials()
        self.assertEqual(creds["role_name"], "driftsync-host")
        who = self.client("sts", creds["access_key"], creds["secret_key"], creds["token"]).get_caller_identity()
        self.assertEqual(who["Arn"], "arn:aws:sts::%s:assumed-role/driftsync-host/%s" % (ACCT_A, "i-0e1f2d3c4b5a69788"))

    def test_imds_protocol_details(self):
        st, h, body = self.raw("GET", "/latest/meta-data/iam/security-credentials/")
        self.assertEqual(st, 401)   # IMDSv1 refused
        st, h, body = self.raw("PUT", "/latest/api/token")
        self.assertEqual(st, 400)   # TTL header missing
        st, h, body = self.raw("PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "99999"})
        self.assertEqual(st, 400)
        st, h, tok = self.raw("PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        self.assertEqual(st, 200)
        self.assertEqual(h["x-aws-ec2-metadata-token-ttl-seconds"], "60")
        hdr = {"X-aws-ec2-metadata-token": tok.decode()}
        st, h, body = self.raw("GET", "/latest/meta-data/iam/security-credentials/", headers=hdr)
        self.assertEqual((st, body), (200, b"driftsync-host"))
        st, h, body = self.raw("GET", "/latest/meta-data/iam/security-credentials/driftsync-host", headers=hdr)
        doc = json.loads(body)
        self.assertEqual((doc["Code"], doc["Type"]), ("Success", "AWS-HMAC"))
        self.assertRegex(doc["Expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        st, h, body = self.raw("GET", "/latest/meta-data/iam/security-credentials/other-role", headers=hdr)
        self.assertEqual(st, 404)
        st, h, body = self.raw("GET", "/latest/meta-data/iam/security-credentials/", headers={"X-aws-ec2-metadata-token": "forged"})
        self.assertEqual(st, 401)
        try:
            self.emu.control("clock", {"advance_seconds": 61})
            st, h, body = self.raw("GET", "/latest/meta-data/iam/security-credentials/", headers=hdr)
            self.assertEqual(st, 401)   # token expired
        finally:
            self.emu.control("clock", {"offset_seconds": 0})

    def test_imds_credentials_expire(self):
        self.emu.control("settings", {"credential_ttl": 900})
        st, h, tok = self.raw("PUT", "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        hdr = {"X-aws-ec2-metadata-token": tok.decode()}
        doc = json.loads(self.raw("GET", "/latest/meta-data/iam/security-credentials/driftsync-host", headers=hdr)[2])
        cfg = self.client("config", doc["AccessKeyId"], doc["SecretAccessKey"], doc["Token"])
        cfg.describe_configuration_aggregators()
        st, d = self.emu.control("settings", {"credential_ttl": "x"})
        self.assertEqual(st, 400)

    def test_container_endpoint(self):
        from botocore.utils import ContainerMetadataFetcher, MetadataRetrievalError
        f = ContainerMetadataFetcher()
        doc = f.retrieve_full_uri(self.emu.url + "/v2/credentials/task-1", headers={"Authorization": fixture.CONTAINER_TOKEN})
        self.assertEqual(doc["RoleArn"], "arn:aws:iam::%s:role/driftsync-host" % ACCT_A)
        who = self.client("sts", doc["AccessKeyId"], doc["SecretAccessKey"], doc["Token"]).get_caller_identity()
        self.assertEqual(who["Account"], ACCT_A)
        st, h, body = self.raw("GET", "/v2/credentials/task-1")
        self.assertEqual(st, 401)
        st, h, body = self.raw("GET", "/v2/credentials/task-1", headers={"Authorization": "Basic d3Jvbmc="})
        self.assertEqual(st, 403)
        with self.assertRaises(MetadataRetrievalError):
            ContainerMetadataFetcher().retrieve_full_uri(self.emu.url + "/v2/credentials/task-1", headers={"Authorization": "bad"})


# ---------------------------------------------------------------------------
class TestSecurityHubRouting(EmuCase):
    def test_routing_and_error_shapes(self):
        sh = self.client("securityhub")
        r = sh.get_findings(MaxResults=1)
        self.assertEqual(r["Findings"][0]["Id"], "arn:aws:securityhub:us-east-1:%s:finding/0001" % ACCT_A)
        st, h, body = self.raw("POST", "/findings", json.dumps({"MaxResults": 500}).encode(),
                               {"Content-Type": "application/json"}, sign=dict(service="securityhub"))
        self.assertEqual(st, 400)
        self.assertEqual(h["x-amzn-errortype"], "InvalidInputException")
        self.assertEqual(json.loads(body)["Code"], "InvalidInputException")
        self.emu.control("faults", {"rates": {"GetFindings": [0.01, 1]}})
        try:
            sh.get_findings(MaxResults=1)
            self.assertError("TooManyRequestsException", sh.get_findings, MaxResults=1, status=429)
        finally:
            self.emu.control("faults", {})
        self.assertError("InvalidSignatureException", self.client("securityhub", sk="bad").get_findings, status=403)


# ---------------------------------------------------------------------------
class TestAwsCli(EmuCase):
    """The real `aws` command line against the emulator, every operation."""

    def j(self, *args, **kw):
        return json.loads(self.cli(*args, **kw).stdout or "{}")

    def test_sts(self):
        self.assertEqual(self.j("sts", "get-caller-identity")["Account"], ACCT_A)
        c = self.j("sts", "assume-role", "--role-arn", fixture.ROLE_B, "--role-session-name", "cli")["Credentials"]
        who = self.j("sts", "get-caller-identity", ak=c["AccessKeyId"], sk=c["SecretAccessKey"], token=c["SessionToken"])
        self.assertEqual(who["Arn"], "arn:aws:sts::%s:assumed-role/DriftSyncReadOnly/cli" % ACCT_B)
        r = self.j("sts", "assume-role-with-web-identity", "--role-arn", fixture.ROLE_WEB, "--role-session-name", "web",
                   "--web-identity-token", fixture.WEB_TOKEN)
        self.assertEqual(r["SubjectFromWebIdentityToken"], "driftsync")

    def test_config_operations(self):
        r = self.j("configservice", "select-resource-config", "--expression", "SELECT resourceId WHERE resourceType = 'AWS::EC2::SecurityGroup'",
                   "--page-size", "2")
        self.assertEqual(len(r["Results"]), 7)   # the CLI paginated (4 calls)
        r = self.j("configservice", "select-aggregate-resource-config", "--configuration-aggregator-name", "org-aggregator",
                   "--expression", "SELECT resourceId WHERE resourceType = 'AWS::EC2::VPC'")
        self.assertEqual(len(r["Results"]), 4)
        r = self.j("configservice", "describe-configuration-aggregators")
        self.assertEqual(r["ConfigurationAggregators"][0]["ConfigurationAggregatorName"], "org-aggregator")
        r = self.j("configservice", "list-discovered-resources", "--resource-type", "AWS::EC2::SecurityGroup", "--page-size", "3")
        self.assertEqual(len(r["resourceIdentifiers"]), 7)
        r = self.j("configservice", "batch-get-resource-config", "--resource-keys", "resourceType=AWS::EC2::VPC,resourceId=vpc-11110001")
        self.assertEqual(r["baseConfigurationItems"][0]["resourceId"], "vpc-11110001")
        r = self.j("configservice", "get-resource-config-history", "--resource-type", "AWS::EC2::VPC", "--resource-id", "vpc-11110001")
        self.assertEqual(len(r["configurationItems"]), 2)
        st, doc = self.emu.control("stats")
        self.assertEqual(doc["requests"]["config"]["SelectResourceConfig"][ACCT_A], 4)
        self.assertEqual(doc["requests"]["config"]["ListDiscoveredResources"][ACCT_A], 3)

    def test_securityhub(self):
        r = self.j("securityhub", "get-findings", "--max-items", "1")
        self.assertEqual(len(r["Findings"]), 1)

    def test_errors_as_aws_answers(self):
        p = self.cli("configservice", "describe-configuration-aggregators", sk="wrong", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("An error occurred (InvalidSignatureException) when calling the DescribeConfigurationAggregators operation", p.stderr)
        self.assertIn("The request signature we calculated does not match the signature you provided.", p.stderr)
        p = self.cli("configservice", "list-discovered-resources", "--resource-type", "AWS::EC2::VPC", "--limit", "500", check=False)
        self.assertIn("An error occurred (ValidationException) when calling the ListDiscoveredResources operation", p.stderr)
        self.assertIn("1 validation error detected: Value '500' at 'limit' failed to satisfy constraint: "
                      "Member must have value less than or equal to 100", p.stderr)
        p = self.cli("configservice", "select-resource-config", "--expression", "SELECT *", check=False)
        self.assertIn("(InvalidExpressionException)", p.stderr)
        self.emu.control("faults", {"rates": {"DescribeConfigurationAggregators": [0.01, 1]}})
        try:
            self.cli("configservice", "describe-configuration-aggregators")
            p = self.cli("configservice", "describe-configuration-aggregators", check=False)
            self.assertIn("An error occurred (ThrottlingException) when calling the DescribeConfigurationAggregators operation", p.stderr)
        finally:
            self.emu.control("faults", {})


# ---------------------------------------------------------------------------
class TestUnits(unittest.TestCase):
    """In-process checks of the SQL subset, the fault spec and the model loader."""

    def test_sql_parse_errors_name_position(self):
        from emu import configsql
        from emu.errors import ApiError
        with self.assertRaises(ApiError) as cm:
            configsql.parse("SELECT resourceId WHERE resourceType = ")
        self.assertEqual(cm.exception.code, "InvalidExpressionException")
        self.assertIn("position 40", cm.exception.message)
        q = configsql.parse("SELECT configuration.a.b, resourceId WHERE configuration.a.c >= 3")
        doc = {"resourceId": "r", "configuration": {"a": [{"b": 1, "c": 2}, {"b": 5, "c": 4}]}}
        self.assertEqual(configsql.run(q, [doc]), [{"configuration": {"a": [{"b": 1}, {"b": 5}]}, "resourceId": "r"}])
        self.assertEqual(configsql.resource_type_pushdown(configsql.parse(
            "SELECT resourceId WHERE resourceType IN ('A','B') AND resourceId = 'x'").where), {"A", "B"})
        self.assertIsNone(configsql.resource_type_pushdown(configsql.parse(
            "SELECT resourceId WHERE resourceType = 'A' OR resourceId = 'x'").where))

    def test_fault_spec(self):
        from emu import faults
        spec = faults.parse_spec("5xx=0.1,throttle=0.05,reset=0.05,truncate=0.02,malformed=0.02,drip=0.01,expired=0.01,seed=7,ops=SelectResourceConfig|GetFindings")
        self.assertEqual(spec["ops"], ["SelectResourceConfig", "GetFindings"])
        self.assertEqual(spec["seed"], 7)
        for bad, msg in (("5xx", "not name=value"), ("latency=-1", "must not be negative"), ("drip=x", "must be a number")):
            with self.assertRaises(faults.FaultSpecError) as cm:
                faults.parse_spec(bad)
            self.assertIn(msg, str(cm.exception))
        f = faults.Faults()
        f.set("throttle=1,ops=A")
        self.assertEqual(f.draw("A")[0], "throttle")
        self.assertIsNone(f.draw("B")[0])

    def test_model_choice(self):
        from emu import model
        path, desc = model.choose_model("config")
        self.assertTrue(os.path.exists(path))
        self.assertTrue("bundled" in desc or "on this machine" in desc)
        m = model.Model("config")
        self.assertEqual(m.target_prefix, "StarlingDoveService")
        with self.assertRaises(RuntimeError):
            model.choose_model("no-such-service-xyz")


class _Result(unittest.TextTestResult):
    pass


if __name__ == "__main__":
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_Result)
    prog = unittest.main(testRunner=runner, exit=False, argv=sys.argv)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (r.testsRun - failed - len(r.skipped), failed))
    sys.exit(1 if failed or not r.wasSuccessful() else 0)
