"""Security Hub findings (ASFF) for CIS controls, in both styles Security Hub emits.

Design: one function builds a finding from (hub, control, resource, status);
the style follows the hub. With consolidated control findings off a finding
belongs to one standard: CIS v1.2.0 findings look like the 2022 recordings in
testdata/aws/automated-security-response-on-aws (GeneratorId
arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/N,
ProductFields.RuleId), CIS v1.4.0 / v3.0.0 ones like the 2023 FSBP recording
(GeneratorId cis-aws-foundations-benchmark/v/1.4.0/N, ProductFields.ControlId,
Compliance.SecurityControlId + one AssociatedStandards entry). With it on, one
finding per security control and resource (GeneratorId
security-control/<ID>, Compliance.AssociatedStandards naming every enabled
standard that contains the control, Compliance.RelatedRequirements).

Passing findings get severity INFORMATIONAL and workflow RESOLVED, as Security
Hub sets them. `evaluate` decides a control's status from a resource's Config
item so findings agree with the resources they name.
"""

import cis_catalog as cat

NORMALIZED = {"INFORMATIONAL": 0, "LOW": 30, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}
TYPES_STD = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
TYPES_CONSOLIDATED = "Software and Configuration Checks/Industry and Regulatory Standards"

# AWS Config managed rules behind the controls (Security Hub names its rule securityhub-<rule>-<8 hex>).
CONFIG_RULES = {
    "EC2.2": "vpc-default-security-group-closed", "EC2.6": "vpc-flow-logs-enabled", "EC2.7": "ec2-ebs-encryption-by-default",
    "EC2.8": "ec2-imdsv2-check", "EC2.13": "restricted-ssh", "EC2.21": "nacl-no-unrestricted-ssh-rdp",
    "RDS.2": "rds-instance-public-access-check", "RDS.3": "rds-storage-encrypted",
    "RDS.13": "rds-automatic-minor-version-upgrade-enabled", "S3.1": "s3-account-level-public-access-blocks-periodic",
    "S3.4": "s3-bucket-server-side-encryption-enabled", "S3.5": "s3-bucket-ssl-requests-only",
    "S3.8": "s3-bucket-level-public-access-prohibited", "KMS.4": "cmk-backing-key-rotation-enabled",
    "CloudTrail.1": "multi-region-cloudtrail-enabled", "CloudTrail.2": "cloud-trail-encryption-enabled",
    "CloudTrail.4": "cloud-trail-log-file-validation-enabled", "CloudTrail.5": "cloud-trail-cloud-watch-logs-enabled",
    "IAM.1": "iam-policy-no-statements-with-admin-access", "IAM.2": "iam-user-no-policies-check",
    "IAM.3": "access-keys-rotated", "IAM.4": "iam-root-access-key-check", "IAM.5": "mfa-enabled-for-iam-console-access",
    "IAM.6": "root-account-hardware-mfa-enabled", "IAM.8": "iam-user-unused-credentials-check",
    "IAM.9": "root-account-mfa-enabled", "IAM.22": "iam-user-unused-credentials-check", "EFS.1": "efs-encrypted-check",
}

# Which Config resource type a control evaluates (None: the account, Resources[].Id AWS::::Account:N).
CONTROL_TARGET = {
    "EC2.2": "AWS::EC2::SecurityGroup", "EC2.13": "AWS::EC2::SecurityGroup", "EC2.14": "AWS::EC2::SecurityGroup",
    "EC2.53": "AWS::EC2::SecurityGroup", "EC2.54": "AWS::EC2::SecurityGroup", "EC2.6": "AWS::EC2::VPC",
    "EC2.8": "AWS::EC2::Instance", "EC2.21": "AWS::EC2::NetworkAcl", "RDS.2": "AWS::RDS::DBInstance",
    "RDS.3": "AWS::RDS::DBInstance", "RDS.13": "AWS::RDS::DBInstance", "S3.4": "AWS::S3::Bucket",
    "S3.5": "AWS::S3::Bucket", "S3.8": "AWS::S3::Bucket", "S3.20": "AWS::S3::Bucket", "KMS.4": "AWS::KMS::Key",
    "CloudTrail.2": "AWS::CloudTrail::Trail", "CloudTrail.4": "AWS::CloudTrail::Trail",
    "CloudTrail.5": "AWS::CloudTrail::Trail", "CloudTrail.6": "AWS::S3::Bucket#trail",
    "CloudTrail.7": "AWS::S3::Bucket#trail", "EFS.1": "AWS::EFS::FileSystem", "IAM.1": "AWS::IAM::Policy",
    "IAM.2": "AWS::IAM::User", "IAM.3": "AWS::IAM::User", "IAM.5": "AWS::IAM::User", "IAM.8": "AWS::IAM::User",
    "IAM.22": "AWS::IAM::User", "IAM.27": "AWS::IAM::User",
}
# Controls on IAM (a global service): evaluated only where IAM is recorded (us-east-1 here).
GLOBAL_CONTROLS = {"IAM.1", "IAM.2", "IAM.3", "IAM.4", "IAM.5", "IAM.6", "IAM.8", "IAM.9", "IAM.11", "IAM.12",
                   "IAM.13", "IAM.14", "IAM.15", "IAM.16", "IAM.17", "IAM.18", "IAM.22", "IAM.26", "IAM.27"}


class Hub:
    """One account/region's Security Hub: consolidated mode and enabled CIS standards (keys of cat.STANDARDS)."""

    def __init__(self, account, region, consolidated, standards, disabled=()):
        self.account = account
        self.region = region
        self.consolidated = consolidated
        self.standards = list(standards)
        self.disabled = set(disabled)

    def state_json(self):
        subs = []
        for std in self.standards:
            ver, _, arn, _, _ = cat.STANDARDS[std]
            subs.append({"StandardsArn": arn.format(region=self.region),
                         "StandardsSubscriptionArn": "arn:aws:securityhub:%s:%s:subscription/cis-aws-foundations-benchmark/v/%s" % (self.region, self.account, ver),
                         "StandardsInput": {}, "StandardsStatus": "READY"})
        return {"hub_arn": "arn:aws:securityhub:%s:%s:hub/default" % (self.region, self.account),
                "subscribed_at": "2025-01-10T10:00:00.000Z", "consolidated_controls": self.consolidated,
                "standards_subscriptions": subs, "disabled_controls": sorted(self.disabled)}

    def work(self):
        """(security control id, [(std, n)]) for every enabled, not disabled control, in catalog order.

        In consolidated mode one entry per security control; otherwise one entry per
        standard control (the list holds a single (std, n))."""
        out = []
        if self.consolidated:
            seen = {}
            for std in self.standards:
                for n, sid, _ in cat.STANDARDS[std][1]:
                    if sid in self.disabled:
                        continue
                    if sid not in seen:
                        seen[sid] = []
                        out.append((sid, seen[sid]))
                    if (std, n) not in seen[sid]:
                        seen[sid].append((std, n))
        else:
            for std in self.standards:
                for n, sid, _ in cat.STANDARDS[std][1]:
                    if disabled_key(self, std, n) & self.disabled:
                        continue
                    out.append((sid, [(std, n)]))
        return out


def disabled_key(hub, std, n):
    """The names securityhub.json may give a disabled standard control when consolidation is off:
    its StandardsControlArn, or for CIS v1.2.0 also its ControlId (CIS.1.14)."""
    ver = cat.STANDARDS[std][0]
    keys = {"arn:aws:securityhub:%s:%s:control/cis-aws-foundations-benchmark/v/%s/%s" % (hub.region, hub.account, ver, n)}
    if std == "cis120":
        keys.add("CIS." + n)
    return keys


# -- resources ---------------------------------------------------------------

def account_resource(account, region):
    return {"Type": "AwsAccount", "Id": "AWS::::Account:" + account, "Partition": "aws", "Region": region}


def _perms(perms):
    out = []
    for p in perms:
        e = {"IpProtocol": p["ipProtocol"]}
        if "fromPort" in p:
            e["FromPort"] = p["fromPort"]
            e["ToPort"] = p["toPort"]
        if p.get("ipRanges"):
            e["IpRanges"] = [{"CidrIp": c} for c in p["ipRanges"]]
        if p.get("ipv6Ranges"):
            e["Ipv6Ranges"] = [{"CidrIpv6": c["cidrIpv6"]} for c in p["ipv6Ranges"]]
        if p.get("userIdGroupPairs"):
            e["UserIdGroupPairs"] = [{"GroupId": g["groupId"], "UserId": g["userId"]} for g in p["userIdGroupPairs"]]
        out.append(e)
    return out


def resource_for(item, region):
    """The ASFF Resources[] entry for a Config item, with Details where the shape is short."""
    t = item["resourceType"]
    c = item["configuration"]
    r = {"Partition": "aws", "Region": region, "Id": item["arn"]}
    if t == "AWS::EC2::SecurityGroup":
        r["Type"] = "AwsEc2SecurityGroup"
        r["Details"] = {"AwsEc2SecurityGroup": {"GroupName": c["groupName"], "GroupId": c["groupId"],
                                                "OwnerId": c["ownerId"], "VpcId": c["vpcId"],
                                                "IpPermissions": _perms(c["ipPermissions"]),
                                                "IpPermissionsEgress": _perms(c["ipPermissionsEgress"])}}
    elif t == "AWS::EC2::VPC":
        r["Type"] = "AwsEc2Vpc"
        r["Details"] = {"AwsEc2Vpc": {"CidrBlockAssociationSet": [{"AssociationId": a["associationId"], "CidrBlock": a["cidrBlock"],
                                                                   "CidrBlockState": a["cidrBlockState"]["state"]}
                                                                  for a in c["cidrBlockAssociationSet"]],
                                      "DhcpOptionsId": c["dhcpOptionsId"], "State": c["state"]}}
    elif t == "AWS::EC2::Instance":
        r["Type"] = "AwsEc2Instance"
        d = {"ImageId": c["imageId"], "Type": c["instanceType"], "VpcId": c["vpcId"], "SubnetId": c["subnetId"],
             "LaunchedAt": c["launchTime"], "IpV4Addresses": [c["privateIpAddress"]] + ([c["publicIpAddress"]] if c.get("publicIpAddress") else []),
             "NetworkInterfaces": [{"NetworkInterfaceId": n["networkInterfaceId"]} for n in c["networkInterfaces"]],
             "VirtualizationType": c["virtualizationType"],
             "MetadataOptions": {"HttpEndpoint": c["metadataOptions"]["httpEndpoint"],
                                 "HttpPutResponseHopLimit": c["metadataOptions"]["httpPutResponseHopLimit"],
                                 "HttpTokens": c["metadataOptions"]["httpTokens"]},
             "Monitoring": {"State": c["monitoring"]["state"]}}
        if c.get("iamInstanceProfile"):
            d["IamInstanceProfileArn"] = c["iamInstanceProfile"]["arn"]
        r["Details"] = {"AwsEc2Instance": d}
    elif t == "AWS::EC2::NetworkAcl":
        r["Type"] = "AwsEc2NetworkAcl"
        r["Details"] = {"AwsEc2NetworkAcl": {"IsDefault": c["isDefault"], "NetworkAclId": c["networkAclId"],
                                             "OwnerId": c["ownerId"], "VpcId": c["vpcId"],
                                             "Entries": [{"CidrBlock": e["cidrBlock"], "Egress": e["egress"], "Protocol": e["protocol"],
                                                          "RuleAction": e["ruleAction"], "RuleNumber": e["ruleNumber"]} for e in c["entries"]]}}
    elif t == "AWS::RDS::DBInstance":
        r["Type"] = "AwsRdsDbInstance"
        r["Details"] = {"AwsRdsDbInstance": {"DBInstanceIdentifier": c["dBInstanceIdentifier"], "DbiResourceId": c["dbiResourceId"],
                                             "DBInstanceClass": c["dBInstanceClass"], "Engine": c["engine"],
                                             "EngineVersion": c["engineVersion"], "PubliclyAccessible": c["publiclyAccessible"],
                                             "StorageEncrypted": c["storageEncrypted"], "MultiAz": c["multiAZ"],
                                             "AutoMinorVersionUpgrade": c["autoMinorVersionUpgrade"],
                                             "VpcSecurityGroups": [{"VpcSecurityGroupId": g["vpcSecurityGroupId"], "Status": g["status"]}
                                                                   for g in c["vpcSecurityGroups"]]}}
    elif t == "AWS::S3::Bucket":
        r["Type"] = "AwsS3Bucket"
        r["Details"] = {"AwsS3Bucket": {"OwnerId": c["owner"]["id"], "CreatedAt": c["creationDate"]}}
    elif t == "AWS::KMS::Key":
        r["Type"] = "AwsKmsKey"
        r["Details"] = {"AwsKmsKey": {"KeyId": c["keyId"], "KeyManager": c["keyManager"], "KeyState": c["keyState"],
                                      "Origin": c["origin"], "KeyRotationStatus": item["supplementaryConfiguration"]["KeyRotationStatus"]}}
    elif t == "AWS::CloudTrail::Trail":
        r["Type"] = "AwsCloudTrailTrail"
        d = {"Name": c["TrailName"], "IsMultiRegionTrail": c["IsMultiRegionTrail"], "LogFileValidationEnabled": c["EnableLogFileValidation"],
             "S3BucketName": c["S3BucketName"], "HomeRegion": region, "IsOrganizationTrail": c["IsOrganizationTrail"],
             "IncludeGlobalServiceEvents": c["IncludeGlobalServiceEvents"], "TrailArn": item["arn"]}
        if c.get("KMSKeyId"):
            d["KmsKeyId"] = c["KMSKeyId"]
        if c.get("CloudWatchLogsLogGroupArn"):
            d["CloudWatchLogsLogGroupArn"] = c["CloudWatchLogsLogGroupArn"]
        r["Details"] = {"AwsCloudTrailTrail": d}
    elif t == "AWS::IAM::User":
        r["Type"] = "AwsIamUser"
        r["Details"] = {"AwsIamUser": {"UserName": c["userName"], "UserId": c["userId"], "Path": c["path"], "CreateDate": c["createDate"],
                                       "AttachedManagedPolicies": [{"PolicyArn": p["policyArn"], "PolicyName": p["policyName"]}
                                                                   for p in c["attachedManagedPolicies"]]}}
    elif t == "AWS::IAM::Policy":
        r["Type"] = "AwsIamPolicy"
        r["Details"] = {"AwsIamPolicy": {"PolicyName": c["policyName"], "PolicyId": c["policyId"], "Path": c["path"],
                                         "DefaultVersionId": c["defaultVersionId"], "AttachmentCount": c["attachmentCount"],
                                         "IsAttachable": c["isAttachable"], "CreateDate": c["createDate"], "UpdateDate": c["updateDate"]}}
    elif t == "AWS::EFS::FileSystem":
        r["Type"] = "AwsEfsFileSystem"
        r["Details"] = {"AwsEfsFileSystem": {"Id": c["FileSystemId"], "Encryption": c["Encrypted"]}}
        if c.get("KmsKeyId"):
            r["Details"]["AwsEfsFileSystem"]["KmsKeyId"] = c["KmsKeyId"]
    else:
        raise ValueError("no ASFF resource form for %s" % t)
    return r


def _open_to(perms, port, cidr):
    for p in perms:
        world = cidr in p.get("ipRanges", []) or any(r.get("cidrIpv6") == cidr for r in p.get("ipv6Ranges", []))
        if not world:
            continue
        if p["ipProtocol"] == "-1":
            return True
        if p.get("fromPort") is not None and p["fromPort"] <= port <= p["toPort"]:
            return True
    return False


def evaluate(sid, item, ctx=None):
    """(status, reasons) of control sid for one Config item; ctx carries account facts."""
    c = item["configuration"]
    meta = item.get("_meta", {})
    fail = ("FAILED", [])
    ok = ("PASSED", [])
    if sid == "EC2.13":
        return fail if _open_to(c["ipPermissions"], 22, "0.0.0.0/0") or _open_to(c["ipPermissions"], 22, "::/0") else ok
    if sid == "EC2.14":
        return fail if _open_to(c["ipPermissions"], 3389, "0.0.0.0/0") or _open_to(c["ipPermissions"], 3389, "::/0") else ok
    if sid == "EC2.53":
        return fail if any(_open_to(c["ipPermissions"], p, "0.0.0.0/0") for p in (22, 3389)) else ok
    if sid == "EC2.54":
        return fail if any(_open_to(c["ipPermissions"], p, "::/0") for p in (22, 3389)) else ok
    if sid == "EC2.2":
        return fail if (c["ipPermissions"] or c["ipPermissionsEgress"]) else ok
    if sid == "EC2.6":
        return ok if (ctx or {}).get("flow_logs", {}).get(item["resourceId"]) else fail
    if sid == "EC2.8":
        return ok if c["metadataOptions"]["httpTokens"] == "required" else fail
    if sid == "EC2.21":
        for e in c["entries"]:
            if not e["egress"] and e["ruleAction"] == "allow" and e["cidrBlock"] == "0.0.0.0/0" and e["protocol"] in ("-1", "6"):
                rng = e.get("portRange")
                if rng is None or rng["from"] <= 22 <= rng["to"] or rng["from"] <= 3389 <= rng["to"]:
                    return fail
        return ok
    if sid == "RDS.2":
        return fail if c["publiclyAccessible"] else ok
    if sid == "RDS.3":
        return ok if c["storageEncrypted"] else fail
    if sid == "RDS.13":
        return ok if c["autoMinorVersionUpgrade"] else fail
    s = item["supplementaryConfiguration"]
    if sid == "S3.4":
        return ok if "ServerSideEncryptionConfiguration" in s else fail
    if sid == "S3.5":
        return ok if s["BucketPolicy"]["policyText"] and "SecureTransport" in s["BucketPolicy"]["policyText"] else fail
    if sid == "S3.8":
        return ok if all(s["PublicAccessBlockConfiguration"].values()) else fail
    if sid == "S3.20":
        return ok if s["BucketVersioningConfiguration"].get("isMfaDeleteEnabled") else fail
    if sid == "KMS.4":
        return ok if s["KeyRotationStatus"] else fail
    if sid == "CloudTrail.2":
        return ok if c.get("KMSKeyId") else fail
    if sid == "CloudTrail.4":
        return ok if c["EnableLogFileValidation"] else fail
    if sid == "CloudTrail.5":
        return ok if c.get("CloudWatchLogsLogGroupArn") else fail
    if sid == "CloudTrail.6":
        return ok if all(s["PublicAccessBlockConfiguration"].values()) else fail
    if sid == "CloudTrail.7":
        return ok if s["BucketLoggingConfiguration"].get("destinationBucketName") else fail
    if sid == "EFS.1":
        return ok if c["Encrypted"] else fail
    if sid == "IAM.1":
        doc = c["policyVersionList"][0]["document"]
        return fail if "%22Action%22%3A%22%2A%22" in doc and "%22Resource%22%3A%22%2A%22" in doc else ok
    if sid == "IAM.2":
        return fail if c["attachedManagedPolicies"] or c["userPolicyList"] else ok
    if sid == "IAM.3":
        return fail if meta.get("key_age_days", 0) > 90 else ok
    if sid == "IAM.5":
        return fail if meta.get("console") and not meta.get("mfa") else ok
    if sid == "IAM.8":
        return fail if meta.get("key_age_days", 0) > 90 else ok
    if sid == "IAM.22":
        return fail if meta.get("key_age_days", 0) > 45 else ok
    if sid == "IAM.27":
        return fail if any(p["policyName"] == "AWSCloudShellFullAccess" for p in c["attachedManagedPolicies"]) else ok
    raise ValueError("no evaluation for %s on %s" % (sid, item["resourceType"]))


# -- findings ----------------------------------------------------------------

def make_finding(ids, hub, sid, stds, resource, status, reasons=(), workflow=None, record_state="ACTIVE",
                 first="2026-09-14T06:12:40.120Z", last="2026-11-21T06:15:02.450Z", key=""):
    """One ASFF finding. stds: [(std, n)], one entry unless hub.consolidated."""
    title_c, sev, desc = cat.SECURITY_CONTROLS[sid]
    label = "INFORMATIONAL" if status == "PASSED" else sev
    if workflow is None:
        workflow = "RESOLVED" if status == "PASSED" else "NEW"
    acct, region = hub.account, hub.region
    uid = ids.uuid("finding:%s/%s/%s/%s/%s/%s" % (acct, region, sid, ",".join("%s:%s" % x for x in stds), resource["Id"], key))
    product_arn = "arn:aws:securityhub:%s::product/aws/securityhub" % region
    pf = {}
    rule = CONFIG_RULES.get(sid)
    if hub.consolidated:
        fid = "arn:aws:securityhub:%s:%s:security-control/%s/finding/%s" % (region, acct, sid, uid)
        gen = "security-control/" + sid
        title = title_c
        types = [TYPES_CONSOLIDATED]
        rem = ("For information on how to correct this issue, consult the AWS Security Hub controls documentation.",
               "https://docs.aws.amazon.com/console/securityhub/%s/remediation" % sid)
        compliance = {"Status": status, "SecurityControlId": sid,
                      "AssociatedStandards": [{"StandardsId": cat.STANDARDS[s][3]} for s in _uniq(s for s, _ in stds)],
                      "RelatedRequirements": cat.requirements_for(sid)}
    else:
        std, n = stds[0]
        ver, ctrls, arn_t, std_id, _ = cat.STANDARDS[std]
        title_s = next(t for cn, cs, t in ctrls if cn == n and cs == sid)
        title = "%s %s" % (n, title_s)
        types = [TYPES_STD]
        sub = "arn:aws:securityhub:%s:%s:subscription/cis-aws-foundations-benchmark/v/%s" % (region, acct, ver)
        fid = "%s/%s/finding/%s" % (sub, n, uid)
        ctl_arn = "arn:aws:securityhub:%s:%s:control/cis-aws-foundations-benchmark/v/%s/%s" % (region, acct, ver, n)
        if std == "cis120":
            gen = "%s/rule/%s" % (cat.CIS120_ARN, n)
            rem = ("For directions on how to fix this issue, consult the AWS Security Hub CIS documentation.",
                   cat.remediation_url(std, n, sid))
            pf.update({"StandardsGuideArn": cat.CIS120_ARN, "StandardsGuideSubscriptionArn": sub, "RuleId": n})
            compliance = {"Status": status}
        else:
            gen = "cis-aws-foundations-benchmark/v/%s/%s" % (ver, n)
            rem = ("For information on how to correct this issue, consult the AWS Security Hub controls documentation.",
                   cat.remediation_url(std, n, sid))
            pf.update({"StandardsArn": arn_t.format(region=region), "StandardsSubscriptionArn": sub, "ControlId": n})
            compliance = {"Status": status, "SecurityControlId": sid, "AssociatedStandards": [{"StandardsId": std_id}]}
        pf["RecommendationUrl"] = rem[1]
        pf["StandardsControlArn"] = ctl_arn
    if reasons:
        compliance["StatusReasons"] = [{"ReasonCode": c, "Description": d} for c, d in reasons]
    if rule:
        pf["RelatedAWSResources:0/name"] = "securityhub-%s-%s" % (rule, ids.hexd("rule:%s/%s/%s" % (acct, region, rule), 8))
        pf["RelatedAWSResources:0/type"] = "AWS::Config::ConfigRule"
    pf["aws/securityhub/ProductName"] = "Security Hub"
    pf["aws/securityhub/CompanyName"] = "AWS"
    pf["Resources:0/Id"] = resource["Id"]
    pf["aws/securityhub/FindingId"] = "%s/%s" % (product_arn, fid)
    updated = last if record_state == "ACTIVE" else "2026-11-02T09:30:00.000Z"
    f = {
        "SchemaVersion": "2018-10-08", "Id": fid, "ProductArn": product_arn, "ProductName": "Security Hub",
        "CompanyName": "AWS", "Region": region, "GeneratorId": gen, "AwsAccountId": acct, "Types": types,
        "FirstObservedAt": first, "LastObservedAt": last, "CreatedAt": first, "UpdatedAt": updated,
        "Severity": {"Product": NORMALIZED[label], "Label": label, "Normalized": NORMALIZED[label], "Original": label},
        "Title": title, "Description": desc,
        "Remediation": {"Recommendation": {"Text": rem[0], "Url": rem[1]}},
        "ProductFields": pf, "Resources": [resource], "Compliance": compliance,
        "WorkflowState": "RESOLVED" if workflow == "RESOLVED" else "NEW", "Workflow": {"Status": workflow},
        "RecordState": record_state,
        "FindingProviderFields": {"Severity": {"Label": label, "Original": label}, "Types": types},
        "ProcessedAt": updated[:-4] + "%03dZ" % (int(updated[-4:-1]) + 7 if int(updated[-4:-1]) < 990 else 999),
    }
    if workflow == "SUPPRESSED":
        f["Note"] = {"Text": "Accepted risk: bastion access is restricted by the corporate VPN egress IPs (ticket SEC-1042).",
                     "UpdatedBy": "arn:aws:iam::%s:role/SecurityAuditor" % acct, "UpdatedAt": "2026-10-15T12:00:00.000Z"}
    return f


def _uniq(seq):
    out = []
    for x in seq:
        if x not in out:
            out.append(x)
    return out


IAM_REGION = "us-east-1"
WARN_CROSS = ("S3_BUCKET_CROSS_ACCOUNT_CROSS_REGION",
              "The finding is in a WARNING state, because the S3 Bucket associated with this rule is in a different region/account. "
              "This rule does not support cross-region/cross-account checks, so it is recommended to disable this control in this "
              "region/account and only run it in the region/account where the resource is located.")


def _disabled_work(hub):
    """Entries of controls disabled in this hub (their findings are archived)."""
    all_hub = Hub(hub.account, hub.region, hub.consolidated, hub.standards)
    enabled = {(sid, tuple(stds)) for sid, stds in hub.work()}
    return [(sid, stds) for sid, stds in all_hub.work() if (sid, tuple(stds)) not in enabled]


def _targets(hub, sid, by_type, account_facts, trail_bucket):
    """[(resource entry, item or None, status, reasons)] for one control in one hub."""
    target = CONTROL_TARGET.get(sid)
    if target is None:
        st, reasons = account_facts.get(sid, ("PASSED", []))
        return [(account_resource(hub.account, hub.region), None, st, reasons)]
    out = []
    if target == "AWS::S3::Bucket#trail":
        if trail_bucket is None:
            return []
        owner, bucket = trail_bucket
        mine = [b for b in by_type.get("AWS::S3::Bucket", []) if b["resourceId"] == bucket]
        if mine:
            return [(resource_for(mine[0], hub.region), mine[0]) + evaluate(sid, mine[0])]
        if owner != hub.account:
            return [({"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::" + bucket, "Partition": "aws", "Region": hub.region},
                     None, "WARNING", [WARN_CROSS])]
        return []
    for it in by_type.get(target, []):
        if sid == "EC2.2" and it["configuration"]["groupName"] != "default":
            continue
        out.append((resource_for(it, hub.region), it) + evaluate(sid, it, {"flow_logs": by_type.get("_flow_logs", {})}))
    return out


def region_findings(ids, hub, items, account_facts=None, overrides=None, trail_bucket=None, limit=None):
    """Yield the findings of one hub over the given Config items.

    Round 0 is the current state (ACTIVE); disabled controls' findings are
    ARCHIVED. When `limit` asks for more findings than that, further rounds
    add ARCHIVED findings of earlier observations (Security Hub keeps archived
    findings for 90 days), so any count can be reached. overrides maps
    (security control id, resource Id) -> dict(status=, reasons=, workflow=, record_state=)."""
    by_type = {}
    flow = {}
    for it in items:
        by_type.setdefault(it["resourceType"], []).append(it)
        if it["resourceType"] == "AWS::EC2::FlowLog" and it["configuration"].get("ResourceType") == "VPC":
            flow[it["configuration"]["ResourceId"]] = True
    by_type["_flow_logs"] = flow
    account_facts = account_facts or {}
    overrides = overrides or {}
    n = 0
    rnd = 0
    work = hub.work()
    disabled = _disabled_work(hub)
    while True:
        produced = 0
        for entries, archived in ((work, False), (disabled, True)):
            if rnd > 0 and archived:
                continue
            for sid, stds in entries:
                if sid in GLOBAL_CONTROLS and hub.region != IAM_REGION:
                    continue
                for res, _item, status, reasons in _targets(hub, sid, by_type, account_facts, trail_bucket):
                    o = overrides.get((sid, res["Id"]), {}) if rnd == 0 else {}
                    st = o.get("status", status)
                    rs = o.get("reasons", reasons)
                    record = "ARCHIVED" if (archived or rnd > 0) else o.get("record_state", "ACTIVE")
                    wf = o.get("workflow")
                    if rnd > 0:
                        first, last = "2026-%02d-0%dT06:12:40.120Z" % (8 - (rnd - 1) % 6, 1 + (rnd - 1) // 6 % 9), "2026-09-01T06:15:02.450Z"
                    else:
                        first, last = "2026-09-14T06:12:40.120Z", "2026-11-21T06:15:02.450Z"
                    yield make_finding(ids, hub, sid, stds, res, st, rs, workflow=wf, record_state=record,
                                       first=first, last=last, key=str(rnd))
                    n += 1
                    produced += 1
                    if limit is not None and n >= limit:
                        return
        rnd += 1
        if limit is None or produced == 0:
            return
