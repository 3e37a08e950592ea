"""Test fixture: a small organisation dataset written to a temp dir, and a
running emulator process on an ephemeral port.

Design: the emulator tests must not depend on the content of
examples/sample-org (written separately and free to change), so they build
their own dataset here: two accounts, two regions, one aggregator, roles for
AssumeRole (one with an external id) and AssumeRoleWithWebIdentity, VPC /
subnet / security-group items with history, and a Security Hub hub with one
finding. `Emulator` starts tests/emulator/aws-emulator with the given
interpreter, reads the "listening on" line and stops the process it started.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(os.path.dirname(HERE), "aws-emulator")

BASE_AK = "AKIAIOSFODNN7EXAMPLE"
BASE_SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCT_A = "111111111111"
ACCT_B = "222222222222"
REGIONS = ["us-east-1", "eu-west-1"]
ROLE_B = "arn:aws:iam::222222222222:role/DriftSyncReadOnly"
ROLE_B_EXT = "arn:aws:iam::222222222222:role/DriftSyncExternal"
ROLE_WEB = "arn:aws:iam::111111111111:role/DriftSyncWeb"
WEB_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkcmlmdHN5bmMiLCJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSIsImlzcyI6Imh0dHBzOi8vb2lkYy5leGFtcGxlIn0."
CONTAINER_TOKEN = "Basic ZHJpZnRzeW5jOmVtdWxhdG9y"
N_SG = 7   # security groups in account A, us-east-1 (enough to page with Limit 3)


def _vpc(acct, region, n, name, t="2026-10-01T08:00:00.000Z", cidr="10.0.0.0/16"):
    vid = "vpc-%s%04d" % (acct[:4], n)
    return {"version": "1.3", "accountId": acct, "configurationItemCaptureTime": t, "configurationItemStatus": "OK",
            "configurationStateId": "1727769600000", "arn": "arn:aws:ec2:%s:%s:vpc/%s" % (region, acct, vid),
            "resourceType": "AWS::EC2::VPC", "resourceId": vid, "resourceName": name, "awsRegion": region,
            "availabilityZone": "Multiple Availability Zones", "resourceCreationTime": "2025-01-10T10:00:00.000Z",
            "tags": {"Name": name, "env": "prod" if "prod" in name else "dev"},
            "relationships": [{"resourceType": "AWS::EC2::Subnet", "resourceId": "subnet-%s%04d" % (acct[:4], n),
                               "relationshipName": "Contains Subnet"}],
            "configuration": {"cidrBlock": cidr, "vpcId": vid, "state": "available", "isDefault": False},
            "supplementaryConfiguration": {}}


def _subnet(acct, region, n, vpc_n):
    sid = "subnet-%s%04d" % (acct[:4], n)
    vid = "vpc-%s%04d" % (acct[:4], vpc_n)
    return {"version": "1.3", "accountId": acct, "configurationItemCaptureTime": "2026-10-01T08:00:00.000Z",
            "configurationItemStatus": "OK", "configurationStateId": "1727769600001",
            "arn": "arn:aws:ec2:%s:%s:subnet/%s" % (region, acct, sid), "resourceType": "AWS::EC2::Subnet",
            "resourceId": sid, "awsRegion": region, "availabilityZone": region + "a",
            "resourceCreationTime": "2025-01-10T10:00:00.000Z", "tags": {},
            "relationships": [{"resourceType": "AWS::EC2::VPC", "resourceId": vid, "relationshipName": "Is contained in Vpc"}],
            "configuration": {"subnetId": sid, "vpcId": vid, "cidrBlock": "10.0.%d.0/24" % n, "mapPublicIpOnLaunch": n % 2 == 1},
            "supplementaryConfiguration": {}}


def _sg(acct, region, n, vpc_n, t="2026-10-01T08:00:00.000Z", ports=(443,)):
    gid = "sg-%s%04d" % (acct[:4], n)
    return {"version": "1.3", "accountId": acct, "configurationItemCaptureTime": t, "configurationItemStatus": "OK",
            "configurationStateId": "17277696%05d" % n, "arn": "arn:aws:ec2:%s:%s:security-group/%s" % (region, acct, gid),
            "resourceType": "AWS::EC2::SecurityGroup", "resourceId": gid, "resourceName": "sg-name-%d" % n,
            "awsRegion": region, "availabilityZone": "Not Applicable", "resourceCreationTime": "2025-02-01T00:00:00.000Z",
            "tags": {"team": "net"} if n % 2 == 0 else {},
            "relationships": [{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-%s%04d" % (acct[:4], vpc_n),
                               "relationshipName": "Is associated with Vpc"}],
            "configuration": {"groupId": gid, "groupName": "sg-name-%d" % n, "vpcId": "vpc-%s%04d" % (acct[:4], vpc_n),
                              "ipPermissions": [{"ipProtocol": "tcp", "fromPort": p, "toPort": p,
                                                 "ipRanges": [{"cidrIp": "0.0.0.0/0"}]} for p in ports]},
            "supplementaryConfiguration": {"Note": {"x": n}}}


def build_dataset(root):
    org = {
        "organization_id": "o-a1b2c3d4e5", "partition": "aws", "regions": REGIONS,
        "base_identity": {"account_id": ACCT_A, "arn": "arn:aws:iam::%s:user/driftsync" % ACCT_A,
                          "user_id": "AIDAEXAMPLEUSERID0001", "access_key_id": BASE_AK, "secret_access_key": BASE_SK},
        "accounts": [{"id": ACCT_A, "name": "security", "email": "a@example.com"},
                     {"id": ACCT_B, "name": "workloads", "email": "b@example.com"}],
        "roles": [
            {"arn": ROLE_B, "trusted": ["arn:aws:iam::%s:root" % ACCT_A], "external_id": None,
             "max_session_duration": 3600, "web_identity": False},
            {"arn": ROLE_B_EXT, "trusted": ["arn:aws:iam::%s:root" % ACCT_A], "external_id": "ext-123",
             "max_session_duration": 7200, "web_identity": False},
            {"arn": ROLE_WEB, "trusted": [], "external_id": None, "max_session_duration": 3600, "web_identity": True},
        ],
        "web_identity_tokens": [WEB_TOKEN],
        "instance_role": {"role_name": "driftsync-host", "account_id": ACCT_A},
        "container_authorization_token": CONTAINER_TOKEN,
        "aggregators": [{"name": "org-aggregator", "account_id": ACCT_A, "region": "us-east-1",
                         "organization": True, "all_regions": True}],
    }
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "org.json"), "w") as f:
        json.dump(org, f, indent=1)
    items = {
        (ACCT_A, "us-east-1"): [_vpc(ACCT_A, "us-east-1", 1, "prod-vpc"), _vpc(ACCT_A, "us-east-1", 2, "dev-vpc", cidr="10.1.0.0/16"),
                                # history: an older version of vpc 1
                                _vpc(ACCT_A, "us-east-1", 1, "prod-vpc", t="2026-09-01T08:00:00.000Z", cidr="10.9.0.0/16"),
                                _subnet(ACCT_A, "us-east-1", 1, 1), _subnet(ACCT_A, "us-east-1", 2, 2)]
                               + [_sg(ACCT_A, "us-east-1", n, 1 + n % 2, ports=(443, 22) if n == 3 else (443,)) for n in range(1, N_SG + 1)],
        (ACCT_A, "eu-west-1"): [_vpc(ACCT_A, "eu-west-1", 11, "prod-eu-vpc")],
        (ACCT_B, "us-east-1"): [_vpc(ACCT_B, "us-east-1", 21, "b-prod-vpc"), _subnet(ACCT_B, "us-east-1", 21, 21)],
    }
    for (acct, region), lst in items.items():
        d = os.path.join(root, "accounts", acct, region)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "resources.ndjson"), "w") as f:
            for it in lst:
                f.write(json.dumps(it) + "\n")
    # Security Hub enabled in account A us-east-1 with one finding
    d = os.path.join(root, "accounts", ACCT_A, "us-east-1")
    with open(os.path.join(d, "securityhub.json"), "w") as f:
        json.dump({"hub_arn": "arn:aws:securityhub:us-east-1:%s:hub/default" % ACCT_A,
                   "subscribed_at": "2025-01-10T10:00:00.000Z", "consolidated_controls": True,
                   "standards_subscriptions": [], "disabled_controls": []}, f)
    finding = {"SchemaVersion": "2018-10-08", "Id": "arn:aws:securityhub:us-east-1:%s:finding/0001" % ACCT_A,
               "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub", "GeneratorId": "security-control/EC2.2",
               "AwsAccountId": ACCT_A, "Types": ["Software and Configuration Checks"],
               "CreatedAt": "2026-10-01T08:00:00.000Z", "UpdatedAt": "2026-10-01T08:00:00.000Z",
               "Severity": {"Label": "MEDIUM", "Original": "MEDIUM"}, "Title": "EC2.2 default SG",
               "Description": "d", "Resources": [{"Type": "AwsEc2SecurityGroup", "Id": "arn:aws:ec2:us-east-1:%s:security-group/sg-11110001" % ACCT_A}],
               "Compliance": {"Status": "FAILED", "SecurityControlId": "EC2.2"}, "Workflow": {"Status": "NEW"},
               "RecordState": "ACTIVE", "Region": "us-east-1"}
    with open(os.path.join(d, "findings.ndjson"), "w") as f:
        f.write(json.dumps(finding) + "\n")
    return org


class Emulator:
    """Starts aws-emulator on a fresh dataset. Use as a context manager."""

    def __init__(self, python=None, extra_args=(), data=None):
        self.python = python or sys.executable
        self.extra_args = list(extra_args)
        self.tmp = tempfile.mkdtemp(prefix="emu-test-")
        self.data = data or os.path.join(self.tmp, "org")
        if data is None:
            build_dataset(self.data)
        self.proc = None
        self.port = None
        self.banner = []

    def start(self):
        port_file = os.path.join(self.tmp, "port")
        self.proc = subprocess.Popen([self.python, EMULATOR, "--data", self.data, "--port-file", port_file] + self.extra_args,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if not first.startswith("listening on http://127.0.0.1:"):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.stop()
            raise RuntimeError("emulator did not start: %r %s" % (first, err))
        self.banner.append(first.strip())
        self.port = int(first.strip().rsplit(":", 1)[1])
        with open(port_file) as f:
            if int(f.read().strip()) != self.port:
                raise RuntimeError("port file disagrees with the banner")
        self.url = "http://127.0.0.1:%d" % self.port
        for _ in range(2):
            self.banner.append(self.proc.stdout.readline().strip())
        return self

    def control(self, path, body=None, method=None):
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        if isinstance(data, str):
            data = data.encode()
        req = urllib.request.Request(self.url + "/__emulator/" + path, data=data,
                                     method=method or ("POST" if data is not None else "GET"))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            for s in (self.proc.stdout, self.proc.stderr):
                if s:
                    s.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_until(fn, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.05)
    return False
