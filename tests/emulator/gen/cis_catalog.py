"""CIS AWS Foundations Benchmark controls as AWS Security Hub lists them.

Design: plain data, no logic beyond assembling the catalog. Three standards
(v1.2.0, v1.4.0, v3.0.0), each a list of (ControlId, SecurityControlId,
title as the standard words it). Severities and consolidated titles belong to
the security control (since consolidation in 2023 Security Hub gives a
control one severity in every standard), so they live once in
SECURITY_CONTROLS. Sources: the Security Hub user guide pages "CIS AWS
Foundations Benchmark" (v1.2.0 / v1.4.0 / v3.0.0 control lists) and the
"Security Hub controls reference"; the recorded v1.2.0 findings under
testdata/aws/automated-security-response-on-aws agree with the titles below.
Known divergence: the 2022 recording of CIS 4.3 carries severity MEDIUM; the
consolidated control EC2.2 is HIGH today, which is what the catalog uses.

A (ControlId, SecurityControlId) pair is unique in a standard, a ControlId
alone is not (CIS v3.0.0 2.1.4 is implemented by S3.1 and S3.8) and neither is
a SecurityControlId (CIS v1.2.0 1.1 and 3.3 are both CloudWatch.1).
"""

CIS120_ARN = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
CIS140_PATH = "standards/cis-aws-foundations-benchmark/v/1.4.0"
CIS300_PATH = "standards/cis-aws-foundations-benchmark/v/3.0.0"

# SecurityControlId -> (consolidated title, severity, short description)
SECURITY_CONTROLS = {
    "CloudTrail.1": ("CloudTrail should be enabled and configured with at least one multi-Region trail that includes read and write management events", "HIGH",
                     "This control checks whether there is at least one multi-Region AWS CloudTrail trail that captures read and write management events."),
    "CloudTrail.2": ("CloudTrail should have encryption at-rest enabled", "MEDIUM",
                     "This control checks whether CloudTrail is configured to use server-side encryption with AWS KMS keys (SSE-KMS)."),
    "CloudTrail.4": ("CloudTrail log file validation should be enabled", "MEDIUM",
                     "This control checks whether log file integrity validation is enabled on a CloudTrail trail."),
    "CloudTrail.5": ("CloudTrail trails should be integrated with Amazon CloudWatch Logs", "LOW",
                     "This control checks whether CloudTrail trails are configured to send logs to CloudWatch Logs."),
    "CloudTrail.6": ("Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible", "CRITICAL",
                     "This control checks whether the S3 bucket that receives CloudTrail logs is publicly accessible."),
    "CloudTrail.7": ("Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket", "LOW",
                     "This control checks whether server access logging is enabled on the CloudTrail S3 bucket."),
    "CloudWatch.1": ("A log metric filter and alarm should exist for usage of the \"root\" user", "LOW",
                     "This control checks whether there is a log metric filter and alarm for use of the root user."),
    "CloudWatch.2": ("Ensure a log metric filter and alarm exist for unauthorized API calls", "LOW",
                     "This control checks whether there is a log metric filter and alarm for unauthorized API calls."),
    "CloudWatch.3": ("Ensure a log metric filter and alarm exist for Management Console sign-in without MFA", "LOW",
                     "This control checks whether there is a log metric filter and alarm for console sign-in without MFA."),
    "CloudWatch.4": ("Ensure a log metric filter and alarm exist for IAM policy changes", "LOW",
                     "This control checks whether there is a log metric filter and alarm for IAM policy changes."),
    "CloudWatch.5": ("Ensure a log metric filter and alarm exist for CloudTrail configuration changes", "LOW",
                     "This control checks whether there is a log metric filter and alarm for CloudTrail configuration changes."),
    "CloudWatch.6": ("Ensure a log metric filter and alarm exist for AWS Management Console authentication failures", "LOW",
                     "This control checks whether there is a log metric filter and alarm for failed console authentication attempts."),
    "CloudWatch.7": ("Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer created CMKs", "LOW",
                     "This control checks whether there is a log metric filter and alarm for disabling or scheduled deletion of customer managed keys."),
    "CloudWatch.8": ("Ensure a log metric filter and alarm exist for S3 bucket policy changes", "LOW",
                     "This control checks whether there is a log metric filter and alarm for S3 bucket policy changes."),
    "CloudWatch.9": ("Ensure a log metric filter and alarm exist for AWS Config configuration changes", "LOW",
                     "This control checks whether there is a log metric filter and alarm for AWS Config configuration changes."),
    "CloudWatch.10": ("Ensure a log metric filter and alarm exist for security group changes", "LOW",
                      "This control checks whether there is a log metric filter and alarm for security group changes."),
    "CloudWatch.11": ("Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)", "LOW",
                      "This control checks whether there is a log metric filter and alarm for network ACL changes."),
    "CloudWatch.12": ("Ensure a log metric filter and alarm exist for changes to network gateways", "LOW",
                      "This control checks whether there is a log metric filter and alarm for network gateway changes."),
    "CloudWatch.13": ("Ensure a log metric filter and alarm exist for route table changes", "LOW",
                      "This control checks whether there is a log metric filter and alarm for route table changes."),
    "CloudWatch.14": ("Ensure a log metric filter and alarm exist for VPC changes", "LOW",
                      "This control checks whether there is a log metric filter and alarm for VPC changes."),
    "Config.1": ("AWS Config should be enabled and use the service-linked role for resource recording", "MEDIUM",
                 "This control checks whether AWS Config is enabled in the current account and Region and records all resources."),
    "EC2.2": ("VPC default security groups should not allow inbound or outbound traffic", "HIGH",
              "This control checks whether the default security group of a VPC allows inbound or outbound traffic."),
    "EC2.6": ("VPC flow logging should be enabled in all VPCs", "MEDIUM",
              "This control checks whether VPC flow logs are found and enabled for VPCs."),
    "EC2.7": ("EBS default encryption should be enabled", "MEDIUM",
              "This control checks whether account-level encryption is enabled by default for Amazon EBS volumes."),
    "EC2.8": ("EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)", "HIGH",
              "This control checks whether an EC2 instance requires IMDSv2 (HttpTokens set to required)."),
    "EC2.13": ("Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22", "HIGH",
               "This control checks whether a security group allows unrestricted incoming traffic on port 22."),
    "EC2.14": ("Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 3389", "HIGH",
               "This control checks whether a security group allows unrestricted incoming traffic on port 3389."),
    "EC2.21": ("Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389", "MEDIUM",
               "This control checks whether a network ACL allows unrestricted ingress to the remote administration ports 22 and 3389."),
    "EC2.53": ("EC2 security groups should not allow ingress from 0.0.0.0/0 to remote server administration ports", "HIGH",
               "This control checks whether a security group allows ingress from 0.0.0.0/0 to remote server administration ports (22, 3389)."),
    "EC2.54": ("EC2 security groups should not allow ingress from ::/0 to remote server administration ports", "HIGH",
               "This control checks whether a security group allows ingress from ::/0 to remote server administration ports (22, 3389)."),
    "EFS.1": ("Elastic File System should be configured to encrypt file data at-rest using AWS KMS", "MEDIUM",
              "This control checks whether Amazon EFS file systems encrypt file data with AWS KMS."),
    "IAM.1": ("IAM policies should not allow full \"*\" administrative privileges", "HIGH",
              "This control checks whether a customer managed IAM policy grants \"Effect\": \"Allow\" with \"Action\": \"*\" over \"Resource\": \"*\"."),
    "IAM.2": ("IAM users should not have IAM policies attached", "LOW",
              "This control checks whether IAM users have policies attached directly instead of through groups or roles."),
    "IAM.3": ("IAM users' access keys should be rotated every 90 days or less", "MEDIUM",
              "This control checks whether active IAM access keys are rotated within 90 days."),
    "IAM.4": ("IAM root user access key should not exist", "CRITICAL",
              "This control checks whether the root user access key is present."),
    "IAM.5": ("MFA should be enabled for all IAM users that have a console password", "MEDIUM",
              "This control checks whether MFA is enabled for IAM users that use a console password."),
    "IAM.6": ("Hardware MFA should be enabled for the root user", "CRITICAL",
              "This control checks whether the root user uses a hardware MFA device."),
    "IAM.8": ("Unused IAM user credentials should be removed", "MEDIUM",
              "This control checks whether IAM users have passwords or active access keys unused for 90 days."),
    "IAM.9": ("MFA should be enabled for the root user", "CRITICAL",
              "This control checks whether MFA is enabled for the root user."),
    "IAM.11": ("Ensure IAM password policy requires at least one uppercase letter", "MEDIUM",
               "This control checks whether the account password policy requires at least one uppercase letter."),
    "IAM.12": ("Ensure IAM password policy requires at least one lowercase letter", "MEDIUM",
               "This control checks whether the account password policy requires at least one lowercase letter."),
    "IAM.13": ("Ensure IAM password policy requires at least one symbol", "MEDIUM",
               "This control checks whether the account password policy requires at least one symbol."),
    "IAM.14": ("Ensure IAM password policy requires at least one number", "MEDIUM",
               "This control checks whether the account password policy requires at least one number."),
    "IAM.15": ("Ensure IAM password policy requires minimum password length of 14 or greater", "MEDIUM",
               "This control checks whether the account password policy requires passwords of at least 14 characters."),
    "IAM.16": ("Ensure IAM password policy prevents password reuse", "LOW",
               "This control checks whether the account password policy prevents reuse of the last 24 passwords."),
    "IAM.17": ("Ensure IAM password policy expires passwords within 90 days or less", "LOW",
               "This control checks whether the account password policy expires passwords within 90 days."),
    "IAM.18": ("Ensure a support role has been created to manage incidents with AWS Support", "LOW",
               "This control checks whether an IAM role with the AWSSupportAccess policy attached exists."),
    "IAM.22": ("IAM user credentials unused for 45 days should be removed", "MEDIUM",
               "This control checks whether IAM users have passwords or active access keys unused for 45 days or more."),
    "IAM.26": ("Expired SSL/TLS certificates managed in IAM should be removed", "MEDIUM",
               "This control checks whether an SSL/TLS server certificate managed in IAM has expired."),
    "IAM.27": ("IAM identities should not have the AWSCloudShellFullAccess policy attached", "MEDIUM",
               "This control checks whether an IAM identity has the AWSCloudShellFullAccess managed policy attached."),
    "IAM.28": ("IAM Access Analyzer external access analyzer should be enabled", "HIGH",
               "This control checks whether the account has an IAM Access Analyzer external access analyzer enabled."),
    "KMS.4": ("AWS KMS key rotation should be enabled", "MEDIUM",
              "This control checks whether automatic key rotation is enabled for a customer managed KMS key."),
    "RDS.2": ("RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible configuration", "CRITICAL",
              "This control checks whether an Amazon RDS DB instance is publicly accessible (PubliclyAccessible)."),
    "RDS.3": ("RDS DB instances should have encryption at-rest enabled", "MEDIUM",
              "This control checks whether storage encryption is enabled for an Amazon RDS DB instance."),
    "RDS.13": ("RDS automatic minor version upgrades should be enabled", "HIGH",
               "This control checks whether automatic minor version upgrades are enabled for an RDS DB instance."),
    "S3.1": ("S3 general purpose buckets should have block public access settings enabled", "MEDIUM",
             "This control checks whether the account-level S3 Block Public Access settings are enabled."),
    "S3.4": ("S3 general purpose buckets should have server-side encryption enabled", "MEDIUM",
             "This control checks whether an S3 bucket has default server-side encryption enabled."),
    "S3.5": ("S3 general purpose buckets should require requests to use SSL", "MEDIUM",
             "This control checks whether an S3 bucket policy requires requests to use SSL (aws:SecureTransport)."),
    "S3.8": ("S3 general purpose buckets should block public access", "HIGH",
             "This control checks whether an S3 bucket has bucket-level Block Public Access settings enabled."),
    "S3.20": ("S3 general purpose buckets should have MFA delete enabled", "LOW",
              "This control checks whether MFA delete is enabled on a versioned S3 bucket."),
    "S3.22": ("S3 general purpose buckets should log object-level write events", "MEDIUM",
              "This control checks whether a multi-Region CloudTrail trail logs S3 object-level write data events."),
    "S3.23": ("S3 general purpose buckets should log object-level read events", "MEDIUM",
              "This control checks whether a multi-Region CloudTrail trail logs S3 object-level read data events."),
}

# CIS v1.2.0: ControlId as DescribeStandardsControls returns it is "CIS.<n>".
CIS120 = [
    ("1.1", "CloudWatch.1", "Avoid the use of the \"root\" account"),
    ("1.2", "IAM.5", "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password"),
    ("1.3", "IAM.8", "Ensure credentials unused for 90 days or greater are disabled"),
    ("1.4", "IAM.3", "Ensure access keys are rotated every 90 days or less"),
    ("1.5", "IAM.11", "Ensure IAM password policy requires at least one uppercase letter"),
    ("1.6", "IAM.12", "Ensure IAM password policy requires at least one lowercase letter"),
    ("1.7", "IAM.13", "Ensure IAM password policy requires at least one symbol"),
    ("1.8", "IAM.14", "Ensure IAM password policy requires at least one number"),
    ("1.9", "IAM.15", "Ensure IAM password policy requires minimum password length of 14 or greater"),
    ("1.10", "IAM.16", "Ensure IAM password policy prevents password reuse"),
    ("1.11", "IAM.17", "Ensure IAM password policy expires passwords within 90 days or less"),
    ("1.12", "IAM.4", "Ensure no root account access key exists"),
    ("1.13", "IAM.9", "Ensure MFA is enabled for the \"root\" account"),
    ("1.14", "IAM.6", "Ensure hardware MFA is enabled for the \"root\" account"),
    ("1.16", "IAM.2", "Ensure IAM policies are attached only to groups or roles"),
    ("1.20", "IAM.18", "Ensure a support role has been created to manage incidents with AWS Support"),
    ("1.22", "IAM.1", "Ensure IAM policies that allow full \"*:*\" administrative privileges are not created"),
    ("2.1", "CloudTrail.1", "Ensure CloudTrail is enabled in all regions"),
    ("2.2", "CloudTrail.4", "Ensure CloudTrail log file validation is enabled"),
    ("2.3", "CloudTrail.6", "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible"),
    ("2.4", "CloudTrail.5", "Ensure CloudTrail trails are integrated with CloudWatch Logs"),
    ("2.5", "Config.1", "Ensure AWS Config is enabled"),
    ("2.6", "CloudTrail.7", "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"),
    ("2.7", "CloudTrail.2", "Ensure CloudTrail logs are encrypted at rest using KMS CMKs"),
    ("2.8", "KMS.4", "Ensure rotation for customer created CMKs is enabled"),
    ("2.9", "EC2.6", "Ensure VPC flow logging is enabled in all VPCs"),
    ("3.1", "CloudWatch.2", "Ensure a log metric filter and alarm exist for unauthorized API calls"),
    ("3.2", "CloudWatch.3", "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA"),
    ("3.3", "CloudWatch.1", "Ensure a log metric filter and alarm exist for usage of \"root\" account"),
    ("3.4", "CloudWatch.4", "Ensure a log metric filter and alarm exist for IAM policy changes"),
    ("3.5", "CloudWatch.5", "Ensure a log metric filter and alarm exist for CloudTrail configuration changes"),
    ("3.6", "CloudWatch.6", "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures"),
    ("3.7", "CloudWatch.7", "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer created CMKs"),
    ("3.8", "CloudWatch.8", "Ensure a log metric filter and alarm exist for S3 bucket policy changes"),
    ("3.9", "CloudWatch.9", "Ensure a log metric filter and alarm exist for AWS Config configuration changes"),
    ("3.10", "CloudWatch.10", "Ensure a log metric filter and alarm exist for security group changes"),
    ("3.11", "CloudWatch.11", "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)"),
    ("3.12", "CloudWatch.12", "Ensure a log metric filter and alarm exist for changes to network gateways"),
    ("3.13", "CloudWatch.13", "Ensure a log metric filter and alarm exist for route table changes"),
    ("3.14", "CloudWatch.14", "Ensure a log metric filter and alarm exist for VPC changes"),
    ("4.1", "EC2.13", "Ensure no security groups allow ingress from 0.0.0.0/0 to port 22"),
    ("4.2", "EC2.14", "Ensure no security groups allow ingress from 0.0.0.0/0 to port 3389"),
    ("4.3", "EC2.2", "Ensure the default security group of every VPC restricts all traffic"),
]

CIS140 = [
    ("1.4", "IAM.4", "Ensure no 'root' user account access key exists"),
    ("1.5", "IAM.9", "Ensure MFA is enabled for the 'root' user account"),
    ("1.6", "IAM.6", "Ensure hardware MFA is enabled for the 'root' user account"),
    ("1.7", "CloudWatch.1", "Eliminate use of the 'root' user for administrative and daily tasks"),
    ("1.8", "IAM.15", "Ensure IAM password policy requires minimum length of 14 or greater"),
    ("1.9", "IAM.16", "Ensure IAM password policy prevents password reuse"),
    ("1.10", "IAM.5", "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password"),
    ("1.12", "IAM.22", "Ensure credentials unused for 45 days or greater are disabled"),
    ("1.14", "IAM.3", "Ensure access keys are rotated every 90 days or less"),
    ("1.16", "IAM.1", "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached"),
    ("1.17", "IAM.18", "Ensure a support role has been created to manage incidents with AWS Support"),
    ("2.1.1", "S3.4", "Ensure all S3 buckets employ encryption-at-rest"),
    ("2.1.2", "S3.5", "Ensure S3 Bucket Policy is set to deny HTTP requests"),
    ("2.1.5.1", "S3.1", "S3 Block Public Access setting should be enabled"),
    ("2.1.5.2", "S3.8", "S3 Block Public Access setting should be enabled at the bucket-level"),
    ("2.2.1", "EC2.7", "Ensure EBS volume encryption is enabled"),
    ("2.3.1", "RDS.3", "Ensure that encryption is enabled for RDS Instances"),
    ("3.1", "CloudTrail.1", "Ensure CloudTrail is enabled in all regions"),
    ("3.2", "CloudTrail.4", "Ensure CloudTrail log file validation is enabled"),
    ("3.3", "CloudTrail.6", "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible"),
    ("3.4", "CloudTrail.5", "Ensure CloudTrail trails are integrated with CloudWatch Logs"),
    ("3.5", "Config.1", "Ensure AWS Config is enabled in all regions"),
    ("3.6", "CloudTrail.7", "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"),
    ("3.7", "CloudTrail.2", "Ensure CloudTrail logs are encrypted at rest using KMS CMKs"),
    ("3.8", "KMS.4", "Ensure rotation for customer created CMKs is enabled"),
    ("3.9", "EC2.6", "Ensure VPC flow logging is enabled in all VPCs"),
    ("4.3", "CloudWatch.1", "Ensure a log metric filter and alarm exist for usage of 'root' account"),
    ("4.4", "CloudWatch.4", "Ensure a log metric filter and alarm exist for IAM policy changes"),
    ("4.5", "CloudWatch.5", "Ensure a log metric filter and alarm exist for CloudTrail configuration changes"),
    ("4.6", "CloudWatch.6", "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures"),
    ("4.7", "CloudWatch.7", "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer created CMKs"),
    ("4.8", "CloudWatch.8", "Ensure a log metric filter and alarm exist for S3 bucket policy changes"),
    ("4.9", "CloudWatch.9", "Ensure a log metric filter and alarm exist for AWS Config configuration changes"),
    ("4.10", "CloudWatch.10", "Ensure a log metric filter and alarm exist for security group changes"),
    ("4.11", "CloudWatch.11", "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)"),
    ("4.12", "CloudWatch.12", "Ensure a log metric filter and alarm exist for changes to network gateways"),
    ("4.13", "CloudWatch.13", "Ensure a log metric filter and alarm exist for route table changes"),
    ("4.14", "CloudWatch.14", "Ensure a log metric filter and alarm exist for VPC changes"),
    ("5.1", "EC2.21", "Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports"),
    ("5.3", "EC2.2", "Ensure the default security group of every VPC restricts all traffic"),
]

CIS300 = [
    ("1.4", "IAM.4", "Ensure no 'root' user account access key exists"),
    ("1.5", "IAM.9", "Ensure MFA is enabled for the 'root' user account"),
    ("1.6", "IAM.6", "Ensure hardware MFA is enabled for the 'root' user account"),
    ("1.8", "IAM.15", "Ensure IAM password policy requires minimum length of 14 or greater"),
    ("1.9", "IAM.16", "Ensure IAM password policy prevents password reuse"),
    ("1.10", "IAM.5", "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password"),
    ("1.12", "IAM.22", "Ensure credentials unused for 45 days or greater are disabled"),
    ("1.14", "IAM.3", "Ensure access keys are rotated every 90 days or less"),
    ("1.15", "IAM.2", "Ensure IAM Users Receive Permissions Only Through Groups"),
    ("1.16", "IAM.1", "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached"),
    ("1.17", "IAM.18", "Ensure a support role has been created to manage incidents with AWS Support"),
    ("1.19", "IAM.26", "Ensure that all the expired SSL/TLS certificates stored in AWS IAM are removed"),
    ("1.20", "IAM.28", "Ensure that IAM Access analyzer is enabled for all regions"),
    ("1.22", "IAM.27", "Ensure access to AWSCloudShellFullAccess is restricted"),
    ("2.1.1", "S3.5", "Ensure S3 Bucket Policy is set to deny HTTP requests"),
    ("2.1.2", "S3.20", "Ensure MFA Delete is enabled on S3 buckets"),
    ("2.1.4", "S3.1", "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'"),
    ("2.1.4", "S3.8", "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'"),
    ("2.2.1", "EC2.7", "Ensure EBS Volume Encryption is Enabled in all Regions"),
    ("2.3.1", "RDS.3", "Ensure that encryption-at-rest is enabled for RDS Instances"),
    ("2.3.2", "RDS.13", "Ensure Auto Minor Version Upgrade feature is Enabled for RDS Instances"),
    ("2.3.3", "RDS.2", "Ensure that public access is not given to RDS Instance"),
    ("2.4.1", "EFS.1", "Ensure that encryption is enabled for EFS file systems"),
    ("3.1", "CloudTrail.1", "Ensure CloudTrail is enabled in all regions"),
    ("3.2", "CloudTrail.4", "Ensure CloudTrail log file validation is enabled"),
    ("3.3", "Config.1", "Ensure AWS Config is enabled in all regions"),
    ("3.4", "CloudTrail.7", "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket"),
    ("3.5", "CloudTrail.2", "Ensure CloudTrail logs are encrypted at rest using KMS CMKs"),
    ("3.6", "KMS.4", "Ensure rotation for customer-created symmetric CMKs is enabled"),
    ("3.7", "EC2.6", "Ensure VPC flow logging is enabled in all VPCs"),
    ("3.8", "S3.22", "Ensure that Object-level logging for write events is enabled for S3 bucket"),
    ("3.9", "S3.23", "Ensure that Object-level logging for read events is enabled for S3 bucket"),
    ("5.1", "EC2.21", "Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports"),
    ("5.2", "EC2.53", "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports"),
    ("5.3", "EC2.54", "Ensure no security groups allow ingress from ::/0 to remote server administration ports"),
    ("5.4", "EC2.2", "Ensure the default security group of every VPC restricts all traffic"),
    ("5.6", "EC2.8", "Ensure that EC2 Metadata Service only allows IMDSv2"),
]

# key -> (version, controls, StandardsArn template ({region} placeholder), standards id used in
#         Compliance.AssociatedStandards, name)
STANDARDS = {
    "cis120": ("1.2.0", CIS120, CIS120_ARN, "ruleset/cis-aws-foundations-benchmark/v/1.2.0",
               "CIS AWS Foundations Benchmark v1.2.0"),
    "cis140": ("1.4.0", CIS140, "arn:aws:securityhub:{region}::" + CIS140_PATH, CIS140_PATH,
               "CIS AWS Foundations Benchmark v1.4.0"),
    "cis300": ("3.0.0", CIS300, "arn:aws:securityhub:{region}::" + CIS300_PATH, CIS300_PATH,
               "CIS AWS Foundations Benchmark v3.0.0"),
}

STANDARD_DESCRIPTIONS = {
    "cis120": "The Center for Internet Security (CIS) AWS Foundations Benchmark v1.2.0 is a set of security configuration best practices for AWS. This Security Hub standard automatically checks for your compliance readiness against a subset of CIS requirements.",
    "cis140": "The Center for Internet Security (CIS) AWS Foundations Benchmark v1.4.0 is a set of security configuration best practices for AWS. This Security Hub standard automatically checks for your compliance readiness against a subset of CIS requirements.",
    "cis300": "The Center for Internet Security (CIS) AWS Foundations Benchmark v3.0.0 is a set of security configuration best practices for AWS. This Security Hub standard automatically checks for your compliance readiness against a subset of CIS requirements.",
}


def control_id(std, n):
    """The ControlId as Security Hub shows it in that standard."""
    return "CIS." + n if std == "cis120" else n


def related_requirement(std, n):
    if std == "cis120":
        return "CIS AWS Foundations %s" % n
    return "CIS AWS Foundations Benchmark v%s/%s" % (STANDARDS[std][0], n)


def remediation_url(std, n, sec_id):
    if std == "cis120":
        return "https://docs.aws.amazon.com/console/securityhub/standards-cis-%s/remediation" % n
    return "https://docs.aws.amazon.com/console/securityhub/%s/remediation" % sec_id


def requirements_for(sec_id):
    """Every CIS requirement a security control implements, in standard order."""
    out = []
    for std in ("cis120", "cis140", "cis300"):
        for n, sid, _ in STANDARDS[std][1]:
            if sid == sec_id:
                r = "CIS AWS Foundations Benchmark v%s/%s" % (STANDARDS[std][0], n)
                if r not in out:
                    out.append(r)
    return out


def build_catalog():
    standards = []
    for std in ("cis120", "cis140", "cis300"):
        ver, ctrls, arn, _, name = STANDARDS[std]
        controls = []
        for n, sid, title in ctrls:
            _, sev, desc = SECURITY_CONTROLS[sid]
            controls.append({"ControlId": control_id(std, n), "SecurityControlId": sid, "Title": title,
                             "Description": desc, "SeverityRating": sev,
                             "RemediationUrl": remediation_url(std, n, sid),
                             "RelatedRequirements": [related_requirement(std, n)]})
        standards.append({"StandardsArn": arn, "Name": name, "Description": STANDARD_DESCRIPTIONS[std],
                          "EnabledByDefault": False,
                          "StandardsManagedBy": {"Company": "AWS", "Product": "Security Hub"},
                          "controls": controls})
    sec = []
    for sid in sorted(SECURITY_CONTROLS, key=_sec_sort_key):
        title, sev, desc = SECURITY_CONTROLS[sid]
        sec.append({"SecurityControlId": sid, "Title": title, "Description": desc,
                    "RemediationUrl": "https://docs.aws.amazon.com/console/securityhub/%s/remediation" % sid,
                    "SeverityRating": sev, "CurrentRegionAvailability": "AVAILABLE"})
    return {"standards": standards, "security_controls": sec}


def _sec_sort_key(sid):
    svc, num = sid.split(".")
    return (svc, int(num))
