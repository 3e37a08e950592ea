"""End-to-end tests of the emulator's Security Hub through the real wire:
a botocore securityhub client (SigV4-signed REST-JSON, botocore's own
parsing, paginators and error handling) against a running aws-emulator on
a small dataset built in a temporary directory (the same one as
test_securityhub_service.py, plus an org.json).

The emulator is started as a subprocess (tests/emulator/aws-emulator, or
emu/server.py's main() while the launcher does not exist yet) on an
ephemeral port and stopped by its pid.  When neither exists the tests are
skipped with the reason printed.

Run: python3 -m unittest discover -s tests/emulator/tests -p 'test_securityhub_e2e.py'
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
EMU_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, EMU_DIR)

import test_securityhub_service as base  # noqa: E402

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
LAUNCHER = os.path.join(EMU_DIR, "aws-emulator")
SERVER_PY = os.path.join(EMU_DIR, "emu", "server.py")


def _org():
    return {"organization_id": "o-a1b2c3d4e5", "partition": "aws",
            "regions": [base.R1, base.R2],
            "base_identity": {"account_id": base.A1, "arn": f"arn:aws:iam::{base.A1}:user/driftsync",
                              "user_id": "AIDAEXAMPLEUSERID0001", "access_key_id": ACCESS_KEY,
                              "secret_access_key": SECRET_KEY},
            "accounts": [{"id": base.A1, "name": "security", "email": "aws-security@example.com"},
                         {"id": base.A2, "name": "workload", "email": "aws-workload@example.com"}],
            "roles": [], "aggregators": []}


def _command(data, port_file):
    args = ["--data", data, "--listen", "127.0.0.1:0", "--port-file", port_file]
    if os.path.exists(LAUNCHER):
        return [LAUNCHER] + args
    return [sys.executable, "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); from emu.server import main; "
            "sys.exit(main(sys.argv[2:]))", EMU_DIR] + args


class SecurityHubE2E(unittest.TestCase):
    proc = None

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(LAUNCHER) and not os.path.exists(SERVER_PY):
            reason = "aws-emulator (tests/emulator/aws-emulator) is not present yet"
            print(f"SKIP test_securityhub_e2e: {reason}", file=sys.stderr)
            raise unittest.SkipTest(reason)
        import botocore.session
        cls.tmp = tempfile.mkdtemp(prefix="shub-e2e-")
        cls.data = os.path.join(cls.tmp, "org")
        base.write_dataset(cls.data)
        with open(os.path.join(cls.data, "org.json"), "w") as fh:
            json.dump(_org(), fh)
        port_file = os.path.join(cls.tmp, "port")
        cls.log = open(os.path.join(cls.tmp, "emulator.log"), "w+")
        cls.proc = subprocess.Popen(_command(cls.data, port_file), stdout=cls.log,
                                    stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if cls.proc.poll() is not None or time.time() > deadline:
                cls._stop()
                cls.log.seek(0)
                raise RuntimeError("aws-emulator did not start:\n" + cls.log.read())
            time.sleep(0.05)
        with open(port_file) as fh:
            cls.port = int(fh.read().strip())
        cls.endpoint = f"http://127.0.0.1:{cls.port}"
        session = botocore.session.get_session()
        cls.clients = {}
        for region in (base.R1, base.R2):
            cls.clients[region] = session.create_client(
                "securityhub", region_name=region, endpoint_url=cls.endpoint,
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    @classmethod
    def _stop(cls):
        if cls.proc is not None and cls.proc.poll() is None:
            cls.proc.terminate()
            try:
                cls.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()

    @classmethod
    def tearDownClass(cls):
        cls._stop()
        cls.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @property
    def sh(self):
        return self.clients[base.R1]

    def control(self, path, doc=None):
        req = urllib.request.Request(f"{self.endpoint}/__emulator/{path}", method="POST",
                                     data=json.dumps(doc or {}).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def client_error(self, fn, **kw):
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response

    @staticmethod
    def nums(findings):
        return [int(f["Id"].split("/finding/")[1][:8]) for f in findings]

    # ------------------------------------------------------------- findings

    def test_get_findings_paginated_as_stored(self):
        pages = list(self.sh.get_paginator("get_findings").paginate(
            Filters={"RecordState": [{"Comparison": "EQUALS", "Value": "ACTIVE"}]},
            PaginationConfig={"PageSize": 7}))
        self.assertEqual([len(p["Findings"]) for p in pages], [7, 7, 2])
        got = [f for p in pages for f in p["Findings"]]
        self.assertEqual(self.nums(got), list(range(15, -1, -1)))
        stored = {f["Id"]: f for f in base.default_findings()}
        for f in got:
            self.assertEqual(f, stored[f["Id"]])

    def test_filters_and_sort_over_the_wire(self):
        fs = base.default_findings()
        out = self.sh.get_findings(
            Filters={"UpdatedAt": [{"Start": fs[4]["UpdatedAt"], "End": fs[12]["UpdatedAt"]}],
                     "SeverityNormalized": [{"Gte": 40}],
                     "ResourceType": [{"Comparison": "PREFIX", "Value": "AwsEc2"},
                                      {"Comparison": "NOT_EQUALS", "Value": "AwsEc2Instance"}]},
            SortCriteria=[{"Field": "UpdatedAt", "SortOrder": "asc"}])
        self.assertEqual(self.nums(out["Findings"]), [4, 8, 12])
        self.assertNotIn("NextToken", out)
        out = self.sh.get_findings(Filters={"UpdatedAt": [{"DateRange": {"Value": 3650, "Unit": "DAYS"}}],
                                            "ComplianceSecurityControlId": [{"Comparison": "EQUALS", "Value": "S3.1"}]})
        self.assertEqual(self.nums(out["Findings"]), [17, 13, 9, 5, 1])

    def test_not_subscribed(self):
        r = self.client_error(self.clients[base.R2].get_findings)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 401)
        self.assertEqual(r["Error"]["Code"], "InvalidAccessException")
        self.assertEqual(r["Error"]["Message"], f"Account {base.A1} is not subscribed to AWS Security Hub")
        r = self.client_error(self.clients[base.R2].describe_standards)
        self.assertEqual(r["Error"]["Code"], "InvalidAccessException")

    def test_bad_next_token(self):
        tok = self.sh.get_findings(MaxResults=5)["NextToken"]
        r = self.client_error(self.sh.get_findings, NextToken=tok,
                              Filters={"RecordState": [{"Comparison": "EQUALS", "Value": "ACTIVE"}]})
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(r["Error"]["Code"], "InvalidInputException")
        r = self.client_error(self.sh.get_findings, NextToken="garbage")
        self.assertEqual(r["Error"]["Code"], "InvalidInputException")

    def test_contains_word_refused(self):
        r = self.client_error(self.sh.get_findings,
                              Filters={"Title": [{"Comparison": "CONTAINS_WORD", "Value": "S3"}]})
        self.assertEqual(r["Error"]["Code"], "InvalidInputException")
        self.assertIn("CONTAINS_WORD", r["Error"]["Message"])

    # ------------------------------------------------------------ standards

    def test_enabled_standards(self):
        subs = [s for p in self.sh.get_paginator("get_enabled_standards").paginate(
            PaginationConfig={"PageSize": 1}) for s in p["StandardsSubscriptions"]]
        self.assertEqual([s["StandardsSubscriptionArn"] for s in subs], [base.CIS_SUB, base.FSBP_SUB])
        self.assertEqual(subs[0]["StandardsStatus"], "READY")

    def test_describe_standards(self):
        stds = [s for p in self.sh.get_paginator("describe_standards").paginate()
                for s in p["Standards"]]
        self.assertEqual(len(stds), 12)
        self.assertEqual(stds[1]["StandardsArn"], base.CIS_ARN)
        self.assertNotIn("controls", stds[0])

    def test_describe_standards_controls(self):
        import datetime
        ctl = [c for p in self.sh.get_paginator("describe_standards_controls").paginate(
            StandardsSubscriptionArn=base.CIS_SUB) for c in p["Controls"]]
        self.assertEqual(len(ctl), 30)
        self.assertEqual(ctl[12]["ControlId"], "CIS.1.13")
        self.assertEqual(ctl[12]["ControlStatus"], "DISABLED")
        self.assertEqual(ctl[12]["StandardsControlArn"],
                         f"arn:aws:securityhub:{base.R1}:{base.A1}:control/cis-aws-foundations-benchmark/v/1.2.0/1.13")
        self.assertIsInstance(ctl[0]["ControlStatusUpdatedAt"], datetime.datetime)
        self.assertEqual(ctl[0]["ControlStatusUpdatedAt"],
                         datetime.datetime(2025, 1, 10, 10, 0, tzinfo=datetime.timezone.utc))
        r = self.client_error(self.sh.describe_standards_controls,
                              StandardsSubscriptionArn=base.CIS_SUB.replace(base.A1, base.A2))
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(r["Error"]["Code"], "ResourceNotFoundException")

    def test_list_security_control_definitions(self):
        defs = [d for p in self.sh.get_paginator("list_security_control_definitions").paginate(
            StandardsArn=base.FSBP_ARN) for d in p["SecurityControlDefinitions"]]
        self.assertEqual([d["SecurityControlId"] for d in defs], ["EC2.2", "S3.1"])
        first = self.sh.list_security_control_definitions()
        self.assertEqual(len(first["SecurityControlDefinitions"]), 25)
        self.assertIn("NextToken", first)
        r = self.client_error(self.sh.list_security_control_definitions,
                              StandardsArn="arn:aws:securityhub:::ruleset/nope/v/1")
        self.assertEqual(r["Error"]["Code"], "InvalidInputException")

    # ------------------------------------------------------ staged drift

    def test_control_put_delete_and_reload(self):
        new = base.finding(77, updated=time.time() - 5)
        status, out = self.control("findings/put", {"account": base.A1, "region": base.R1,
                                                    "findings": [new]})
        if status == 404:
            self.skipTest(f"control API has no findings endpoint yet: {out}")
        self.assertEqual((status, out), (200, {"stored": 1}))
        try:
            got = self.sh.get_findings(MaxResults=1)
            self.assertEqual(got["Findings"], [new])       # the newest UpdatedAt comes first
            self.assertEqual(len(self.sh.get_findings()["Findings"]), 21)
            status, out = self.control("findings/put", {"account": base.A1, "region": base.R1,
                                                        "findings": [{"Title": "no id"}]})
            self.assertEqual(status, 400)
            self.assertIn("finding has no string Id", out["error"])
            status, out = self.control("findings/delete", {"account": base.A1, "region": base.R1,
                                                           "ids": [new["Id"]]})
            self.assertEqual((status, out), (200, {"deleted": 1, "missing": []}))
            self.assertEqual(len(self.sh.get_findings()["Findings"]), 20)
            self.control("findings/put", {"account": base.A1, "region": base.R1, "findings": [new]})
        finally:
            status, _ = self.control("reload")
            self.assertEqual(status, 200)
        self.assertEqual(len(self.sh.get_findings()["Findings"]), 20)


if __name__ == "__main__":
    unittest.main()
