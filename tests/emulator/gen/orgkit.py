"""Building blocks for emulator datasets: AWS Config items and ASFF findings.

Design: the sample organisation (build-sample-org) and the synthetic generator
(generate) share these templates so synthetic items look exactly like the
sample's. Everything is deterministic: identifiers are hashes of a seed and a
path of names ("222222222222/us-east-1/prod/sg/web"), never random draws, so a
finding can name a resource ARN by recomputing its identifier instead of
remembering the resource (the generator streams and keeps nothing).

Shapes follow the recordings in /work/shared/testdata/aws: configuration
bodies use the field names AWS Config records (camelCase for the EC2, ELBv2,
RDS, Lambda, S3 types, the CloudFormation-style PascalCase bodies of the newer
CloudFormation-registry types such as ECS, EKS, FlowLog, Listener), and
relationship names are copied from the recordings: old verbose names between
EC2 network types ("Is contained in Vpc"), newer "Is associated with " names
(type dropped, trailing space) on newer types. Relationships between EC2
network types are recorded both ways; other services point one way at EC2
(AWS Config's VPC item does not list the load balancers or databases in it,
see the aws-config-rdk VPC sample).

A Unit collects the items of one VPC or one account/region, links them, and
writes them sorted by (resourceType, resourceId), one JSON object a line with
sorted keys, so files are byte-stable.
"""

import hashlib
import ipaddress
import json
import os

PARTITION = "aws"
CAPTURE = "2026-10-01T08:00:00.000Z"
CAPTURE_MS = "1790841600000"   # CAPTURE as epoch milliseconds


def dumps(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Ids:
    """Deterministic identifiers: hex digits from sha256(seed|path)."""

    def __init__(self, seed):
        self.seed = str(seed)

    def hexd(self, path, n=16):
        h = hashlib.sha256((self.seed + "|" + path).encode()).hexdigest()
        while len(h) < n:
            h += hashlib.sha256(h.encode()).hexdigest()
        return h[:n]

    def ec2(self, prefix, path):
        # Modern EC2 ids: prefix-0 followed by 16 hex digits (vpc-0a1b2c3d4e5f60001).
        return "%s-0%s" % (prefix, self.hexd(prefix + ":" + path, 16))

    def upper(self, path, n):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        h = hashlib.sha256((self.seed + "|U|" + path).encode()).digest()
        while len(h) < n:
            h += hashlib.sha256(h).digest()
        return "".join(alphabet[b % 32] for b in h[:n])

    def uuid(self, path):
        h = self.hexd("uuid:" + path, 32)
        return "%s-%s-4%s-a%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])


def day_time(day, hour=10, minute=0):
    """An ISO time on a day given as 'YYYY-MM-DD'."""
    return "%sT%02d:%02d:00.000Z" % (day, hour, minute)


class RegionCtx:
    def __init__(self, ids, account, region, created_day="2025-03-04"):
        self.ids = ids
        self.account = account
        self.region = region
        self.azs = [region + s for s in ("a", "b", "c")]
        self.created_day = created_day

    def arn(self, service, rest, region=True, account=True):
        return "arn:%s:%s:%s:%s:%s" % (PARTITION, service, self.region if region else "",
                                       self.account if account else "", rest)


def tag_list(tags, key="key", value="value"):
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def config_item(rc, rtype, rid, arn, name, az, created, tags, configuration, supplementary=None,
                region=None, status="OK"):
    item = {
        "version": "1.3",
        "accountId": rc.account,
        "configurationItemCaptureTime": CAPTURE,
        "configurationItemStatus": status,
        "configurationStateId": CAPTURE_MS,
        "configurationItemMD5Hash": "",
        "arn": arn,
        "resourceType": rtype,
        "resourceId": rid,
        "awsRegion": region or rc.region,
        "availabilityZone": az,
        "tags": dict(tags),
        "relatedEvents": [],
        "relationships": [],
        "configuration": configuration,
        "supplementaryConfiguration": supplementary or {},
    }
    if name is not None:
        item["resourceName"] = name
    if created is not None:
        item["resourceCreationTime"] = created
    return item


# Relationship names between EC2 network types, recorded on both items
# (a -> b name, b -> a name), copied from the aws-config-rdk and cloud-custodian recordings.
BIDI = {
    ("AWS::EC2::VPC", "AWS::EC2::Subnet"): ("Contains Subnet", "Is contained in Vpc"),
    ("AWS::EC2::VPC", "AWS::EC2::SecurityGroup"): ("Contains SecurityGroup", "Is contained in Vpc"),
    ("AWS::EC2::VPC", "AWS::EC2::NetworkInterface"): ("Contains NetworkInterface", "Is contained in Vpc"),
    ("AWS::EC2::VPC", "AWS::EC2::Instance"): ("Contains Instance", "Is contained in Vpc"),
    ("AWS::EC2::VPC", "AWS::EC2::NetworkAcl"): ("Contains NetworkAcl", "Is contained in Vpc"),
    ("AWS::EC2::VPC", "AWS::EC2::RouteTable"): ("Contains RouteTable", "Is contained in Vpc"),
    ("AWS::EC2::VPC", "AWS::EC2::InternetGateway"): ("Is attached to InternetGateway", "Is attached to Vpc"),
    ("AWS::EC2::Subnet", "AWS::EC2::NetworkAcl"): ("Is attached to NetworkAcl", "Is attached to Subnet"),
    ("AWS::EC2::Subnet", "AWS::EC2::NetworkInterface"): ("Contains NetworkInterface", "Is contained in Subnet"),
    ("AWS::EC2::Subnet", "AWS::EC2::Instance"): ("Contains Instance", "Is contained in Subnet"),
    ("AWS::EC2::RouteTable", "AWS::EC2::Subnet"): ("Contains Subnet", "Is contained in RouteTable"),
    ("AWS::EC2::Instance", "AWS::EC2::NetworkInterface"): ("Contains NetworkInterface", "Is attached to Instance"),
    ("AWS::EC2::Instance", "AWS::EC2::SecurityGroup"): ("Is associated with SecurityGroup", "Is associated with Instance"),
    ("AWS::EC2::Instance", "AWS::EC2::Volume"): ("Is attached to Volume", "Is attached to Instance"),
    ("AWS::EC2::NetworkInterface", "AWS::EC2::SecurityGroup"): ("Is associated with SecurityGroup", "Is associated with NetworkInterface"),
    ("AWS::EC2::EIP", "AWS::EC2::NetworkInterface"): ("Is attached to NetworkInterface", "Is attached to ElasticIp"),
    ("AWS::EC2::EIP", "AWS::EC2::Instance"): ("Is attached to Instance", "Is attached to ElasticIp"),
}


class Unit:
    """Items of one VPC or one account/region, keyed by (type, id)."""

    def __init__(self):
        self.items = {}

    def add(self, item):
        key = (item["resourceType"], item["resourceId"])
        if key in self.items:
            raise ValueError("duplicate resource %s %s" % key)
        self.items[key] = item
        return item

    def link(self, a, b):
        """Record a two-way EC2 relationship between items a and b."""
        ta, tb = a["resourceType"], b["resourceType"]
        if (ta, tb) in BIDI:
            n1, n2 = BIDI[(ta, tb)]
        elif (tb, ta) in BIDI:
            n2, n1 = BIDI[(tb, ta)]
        else:
            raise ValueError("no two-way relationship between %s and %s" % (ta, tb))
        _rel(a, b, n1)
        _rel(b, a, n2)

    def ref(self, a, b, name, with_name=False):
        """Record a one-way relationship from a to b."""
        _rel(a, b, name, with_name)

    def sorted_items(self):
        for key in sorted(self.items):
            it = self.items[key]
            it["relationships"].sort(key=lambda r: (r["resourceType"], r.get("resourceId", ""), r["relationshipName"]))
            yield it

    def write(self, fh):
        n = 0
        for it in self.sorted_items():
            fh.write(dumps({k: v for k, v in it.items() if not k.startswith("_")}))
            fh.write("\n")
            n += 1
        return n


def _rel(a, b, name, with_name=False):
    r = {"resourceType": b["resourceType"], "resourceId": b["resourceId"], "relationshipName": name}
    if with_name and b.get("resourceName"):
        r["resourceName"] = b["resourceName"]
    if r not in a["relationships"]:
        a["relationships"].append(r)


def perm(proto, from_port, to_port, cidrs=(), groups=(), owner=None, cidrs6=()):
    """One ipPermissions entry in AWS Config's SecurityGroup form (ipRanges and ipv4Ranges)."""
    p = {"ipProtocol": proto, "ipRanges": list(cidrs), "ipv4Ranges": [{"cidrIp": c} for c in cidrs],
         "ipv6Ranges": [{"cidrIpv6": c} for c in cidrs6], "prefixListIds": [],
         "userIdGroupPairs": [{"groupId": g, "userId": owner} for g in groups]}
    if proto != "-1":
        p["fromPort"] = from_port
        p["toPort"] = to_port
    return p


ALL_EGRESS = None  # marker: default egress rule


class VpcBuilder:
    """Builds one VPC and everything in it into a Unit.

    Keeps per-subnet address counters so private IPs are unique and inside the
    subnet's CIDR. All ids derive from '<account>/<region>/<vpc name>/<kind>/<name>'.
    """

    def __init__(self, unit, rc, name, cidr, default=False, tags=None, flow_logs=False):
        self.u = unit
        self.rc = rc
        self.name = name
        self.net = ipaddress.ip_network(cidr)
        self.path = "%s/%s/%s" % (rc.account, rc.region, name)
        self.default = default
        self.subnets = []
        self.next_ip = {}
        self.public_rt = None
        self.private_rts = {}
        self.igw = None
        self.nats = {}
        extra = dict(tags or {})
        vtags = {} if default else dict({"Name": name}, **extra)
        self.vpc_id = rc.ids.ec2("vpc", self.path)
        created = day_time(rc.created_day, 9)
        self.vpc = self._add(config_item(
            rc, "AWS::EC2::VPC", self.vpc_id, rc.arn("ec2", "vpc/" + self.vpc_id), None,
            "Multiple Availability Zones", created, vtags,
            {"cidrBlock": cidr, "cidrBlockAssociationSet": [{"associationId": rc.ids.ec2("vpc-cidr-assoc", self.path),
                                                             "cidrBlock": cidr, "cidrBlockState": {"state": "associated"}}],
             "dhcpOptionsId": rc.ids.ec2("dopt", "%s/%s" % (rc.account, rc.region)),
             "instanceTenancy": "default", "ipv6CidrBlockAssociationSet": [], "isDefault": default,
             "ownerId": rc.account, "state": "available", "tags": tag_list(vtags), "vpcId": self.vpc_id}))
        # Every VPC has a main route table, a default network ACL and a default security group.
        self.main_rt = self._route_table("main", main=True, routes=[])
        self.default_nacl = self._nacl("default", default=True)
        self.default_sg = self.security_group(
            "default", "default VPC security group",
            [perm("-1", None, None, groups=["SELF"], owner=rc.account)], group_name="default", name_tag=False)
        if flow_logs:
            self.flow_log("s3" if flow_logs == "s3" else "cloud-watch-logs")

    # -- helpers ------------------------------------------------------------
    def _add(self, item):
        item["_vpc"] = self.vpc_id if hasattr(self, "vpc_id") else None
        return self.u.add(item)

    def p(self, kind, name):
        return "%s/%s/%s" % (self.path, kind, name)

    def ip(self, subnet):
        sid = subnet["resourceId"]
        net = ipaddress.ip_network(subnet["configuration"]["cidrBlock"])
        n = self.next_ip.get(sid, 10)
        self.next_ip[sid] = n + 1
        if n >= net.num_addresses - 1:
            raise ValueError("subnet %s is full" % subnet["configuration"]["cidrBlock"])
        return str(net.network_address + n)

    def _dns(self, ip):
        suffix = "ec2.internal" if self.rc.region == "us-east-1" else "%s.compute.internal" % self.rc.region
        return "ip-%s.%s" % (ip.replace(".", "-"), suffix)

    # -- network ------------------------------------------------------------
    def _route_table(self, name, main=False, routes=()):
        rc = self.rc
        rid = rc.ids.ec2("rtb", self.p("rtb", name))
        tags = {} if main else {"Name": "%s-%s" % (self.name, name)}
        all_routes = [{"destinationCidrBlock": str(self.net), "gatewayId": "local", "origin": "CreateRouteTable",
                       "state": "active"}] + list(routes)
        assoc = []
        if main:
            assoc.append({"main": True, "routeTableAssociationId": rc.ids.ec2("rtbassoc", self.p("rtbassoc", name)),
                          "routeTableId": rid, "associationState": {"state": "associated"}})
        item = self._add(config_item(
            rc, "AWS::EC2::RouteTable", rid, rc.arn("ec2", "route-table/" + rid), None, "Not Applicable", None, tags,
            {"associations": assoc, "ownerId": rc.account, "propagatingVgws": [], "routeTableId": rid,
             "routes": all_routes, "tags": tag_list(tags), "vpcId": self.vpc_id}))
        self.u.link(self.vpc, item)
        return item

    def _nacl(self, name, default=False, entries=None):
        rc = self.rc
        rid = rc.ids.ec2("acl", self.p("acl", name))
        tags = {} if default else {"Name": "%s-%s" % (self.name, name)}
        if entries is None:
            entries = []
            for egress in (True, False):
                entries.append({"ruleNumber": 100, "protocol": "-1", "egress": egress, "cidrBlock": "0.0.0.0/0",
                                "ruleAction": "allow"})
                entries.append({"ruleNumber": 32767, "protocol": "-1", "egress": egress, "cidrBlock": "0.0.0.0/0",
                                "ruleAction": "deny"})
        item = self._add(config_item(
            rc, "AWS::EC2::NetworkAcl", rid, rc.arn("ec2", "network-acl/" + rid), None, "Not Applicable", None, tags,
            {"associations": [], "entries": entries, "isDefault": default, "networkAclId": rid,
             "ownerId": rc.account, "tags": tag_list(tags), "vpcId": self.vpc_id}))
        self.u.link(self.vpc, item)
        return item

    def internet_gateway(self):
        rc = self.rc
        rid = rc.ids.ec2("igw", self.p("igw", "igw"))
        tags = {} if self.default else {"Name": self.name + "-igw"}
        self.igw = self._add(config_item(
            rc, "AWS::EC2::InternetGateway", rid, rc.arn("ec2", "internet-gateway/" + rid), None, "Not Applicable",
            None, tags, {"attachments": [{"state": "available", "vpcId": self.vpc_id}], "internetGatewayId": rid,
                         "ownerId": rc.account, "tags": tag_list(tags)}))
        self.u.link(self.vpc, self.igw)
        if self.default:
            # The default VPC routes 0.0.0.0/0 to its gateway from the main table.
            self.main_rt["configuration"]["routes"].append(
                {"destinationCidrBlock": "0.0.0.0/0", "gatewayId": rid, "origin": "CreateRoute", "state": "active"})
        else:
            self.public_rt = self._route_table("public", routes=[
                {"destinationCidrBlock": "0.0.0.0/0", "gatewayId": rid, "origin": "CreateRoute", "state": "active"}])
        return self.igw

    def subnet(self, name, az_index, public, prefix=24, index=None):
        """A subnet; public ones route 0.0.0.0/0 to the internet gateway, private ones to a NAT (if any)."""
        rc = self.rc
        idx = len(self.subnets) if index is None else index
        cidr = ipaddress.ip_network((int(self.net.network_address) + idx * (1 << (32 - prefix)), prefix))
        if not cidr.subnet_of(self.net):
            raise ValueError("subnet %d of /%d does not fit in %s" % (idx, prefix, self.net))
        az = rc.azs[az_index % len(rc.azs)]
        rid = rc.ids.ec2("subnet", self.p("subnet", name))
        tags = {} if self.default else {"Name": "%s-%s" % (self.name, name),
                                        "Tier": "public" if public else "private"}
        item = self._add(config_item(
            rc, "AWS::EC2::Subnet", rid, rc.arn("ec2", "subnet/" + rid), None, az, None, tags,
            {"assignIpv6AddressOnCreation": False, "availabilityZone": az,
             "availabilityZoneId": "%s-az%d" % ({"us-east-1": "use1", "eu-west-1": "euw1"}.get(rc.region, rc.region[:4]), az_index % 3 + 1),
             "availableIpAddressCount": cidr.num_addresses - 5, "cidrBlock": str(cidr),
             "defaultForAz": self.default, "ipv6CidrBlockAssociationSet": [],
             "mapPublicIpOnLaunch": bool(public), "ownerId": rc.account, "state": "available",
             "subnetArn": rc.arn("ec2", "subnet/" + rid), "subnetId": rid, "tags": tag_list(tags),
             "vpcId": self.vpc_id}))
        self.subnets.append(item)
        self.u.link(self.vpc, item)
        self.u.link(item, self.default_nacl)
        self.default_nacl["configuration"]["associations"].append(
            {"networkAclAssociationId": rc.ids.ec2("aclassoc", self.p("aclassoc", name)),
             "networkAclId": self.default_nacl["resourceId"], "subnetId": rid})
        if public and self.public_rt is not None:
            self._associate(self.public_rt, item)
        elif not public and not self.default:
            rt = self.private_rts.get(az)
            if rt is None:
                routes = []
                nat = self.nats.get(az) or (next(iter(self.nats.values())) if self.nats else None)
                if nat is not None:
                    routes.append({"destinationCidrBlock": "0.0.0.0/0", "natGatewayId": nat["resourceId"],
                                   "origin": "CreateRoute", "state": "active"})
                rt = self._route_table("private-" + az, routes=routes)
                self.private_rts[az] = rt
            self._associate(rt, item)
        else:
            # Subnets without an explicit association use the main route table.
            pass
        return item

    def _associate(self, rt, subnet):
        rt["configuration"]["associations"].append(
            {"main": False, "routeTableAssociationId": self.rc.ids.ec2(
                "rtbassoc", self.p("rtbassoc", subnet["resourceId"])),
             "routeTableId": rt["resourceId"], "subnetId": subnet["resourceId"],
             "associationState": {"state": "associated"}})
        self.u.link(rt, subnet)

    def nat_gateway(self, subnet):
        """A NAT gateway with its EIP and requester-managed ENI in a public subnet."""
        rc = self.rc
        name = subnet["resourceId"]
        nid = "nat-0" + rc.ids.hexd("nat:" + self.p("nat", name), 16)
        ip = self.ip(subnet)
        eni = self.network_interface(subnet, [], "Interface for NAT Gateway " + nid, requester=True,
                                     interface_type="nat_gateway", key="nat-" + name, private_ip=ip)
        eip = self.eip("nat-" + name, eni=eni, tags={"Name": "%s-nat-%s" % (self.name, subnet["configuration"]["availabilityZone"])})
        tags = {"Name": "%s-nat-%s" % (self.name, subnet["configuration"]["availabilityZone"])}
        item = self._add(config_item(
            rc, "AWS::EC2::NatGateway", nid, rc.arn("ec2", "natgateway/" + nid), None, "Not Applicable",
            day_time(rc.created_day, 11), tags,
            {"connectivityType": "public", "createTime": day_time(rc.created_day, 11),
             "natGatewayAddresses": [{"allocationId": eip["resourceId"], "networkInterfaceId": eni["resourceId"],
                                      "privateIp": ip, "publicIp": eip["configuration"]["publicIp"]}],
             "natGatewayId": nid, "state": "available", "subnetId": subnet["resourceId"],
             "tags": tag_list(tags), "vpcId": self.vpc_id}))
        self.u.ref(item, self.vpc, "Is contained in Vpc")
        self.u.ref(item, subnet, "Is contained in Subnet")
        self.u.ref(item, eni, "Is attached to NetworkInterface")
        self.nats[subnet["configuration"]["availabilityZone"]] = item
        return item

    def eip(self, key, eni=None, instance=None, tags=None):
        rc = self.rc
        aid = "eipalloc-0" + rc.ids.hexd("eip:" + self.p("eip", key), 16)
        h = rc.ids.hexd("eipaddr:" + self.p("eip", key), 4)
        first = {"us-east-1": 3, "eu-west-1": 34}.get(rc.region, 52)
        public_ip = "%d.%d.%d.%d" % (first, 200 + int(h[0], 16), int(h[1:3], 16), 1 + int(h[3], 16) * 15)
        conf = {"allocationId": aid, "domain": "vpc", "publicIp": public_ip, "publicIpv4Pool": "amazon",
                "networkBorderGroup": rc.region, "tags": tag_list(tags or {})}
        if instance is not None and eni is None:
            # An EIP on an instance is associated with its primary network interface.
            eni = self.u.items[("AWS::EC2::NetworkInterface", instance["configuration"]["networkInterfaces"][0]["networkInterfaceId"])]
            instance["configuration"]["publicIpAddress"] = public_ip
            instance["configuration"]["publicDnsName"] = "ec2-%s.compute-1.amazonaws.com" % public_ip.replace(".", "-") \
                if rc.region == "us-east-1" else "ec2-%s.%s.compute.amazonaws.com" % (public_ip.replace(".", "-"), rc.region)
        if eni is not None:
            conf["networkInterfaceId"] = eni["resourceId"]
            conf["networkInterfaceOwnerId"] = rc.account
            conf["privateIpAddress"] = eni["configuration"]["privateIpAddress"]
            conf["associationId"] = "eipassoc-0" + rc.ids.hexd("eipassoc:" + self.p("eip", key), 16)
        if instance is not None:
            conf["instanceId"] = instance["resourceId"]
        item = self._add(config_item(rc, "AWS::EC2::EIP", aid, rc.arn("ec2", "eip-allocation/" + aid), None,
                                      "Not Applicable", None, tags or {}, conf))
        if eni is not None:
            self.u.link(item, eni)
            eni["configuration"]["association"] = {"allocationId": aid, "associationId": conf["associationId"],
                                                   "ipOwnerId": rc.account, "publicDnsName": "", "publicIp": public_ip}
        if instance is not None:
            self.u.link(item, instance)
        return item

    def flow_log(self, destination="cloud-watch-logs"):
        rc = self.rc
        fid = rc.ids.ec2("fl", self.p("fl", "vpc"))
        if destination == "s3":
            dest = "arn:aws:s3:::org-flow-logs-%s" % rc.account
        else:
            dest = rc.arn("logs", "log-group:/vpc/flow-logs/" + self.name)
        tags = {"Name": self.name + "-flow-logs"}
        item = self._add(config_item(
            rc, "AWS::EC2::FlowLog", fid, rc.arn("ec2", "vpc-flow-log/" + fid), None, "Regional", None, tags,
            {"DeliverLogsPermissionArn": "arn:aws:iam::%s:role/vpc-flow-logs" % rc.account if destination != "s3" else None,
             "Id": fid, "LogDestination": dest, "LogDestinationType": destination,
             "LogFormat": "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}",
             "MaxAggregationInterval": 600, "ResourceId": self.vpc_id, "ResourceType": "VPC",
             "Tags": tag_list(tags, "Key", "Value"), "TrafficType": "ALL"}))
        if item["configuration"]["DeliverLogsPermissionArn"] is None:
            del item["configuration"]["DeliverLogsPermissionArn"]
        return item

    # -- security groups and interfaces ---------------------------------------
    def security_group(self, name, description, ingress, egress=ALL_EGRESS, group_name=None, name_tag=True, tags=None):
        rc = self.rc
        gid = rc.ids.ec2("sg", self.p("sg", name))
        gname = group_name or "%s-%s" % (self.name, name)
        t = dict(tags or {})
        if name_tag:
            t["Name"] = gname
        ingress = [dict(x, userIdGroupPairs=[{"groupId": gid if g["groupId"] == "SELF" else g["groupId"],
                                              "userId": g["userId"]} for g in x["userIdGroupPairs"]])
                   for x in ingress]
        if egress is ALL_EGRESS:
            egress = [perm("-1", None, None, cidrs=["0.0.0.0/0"])]
        item = self._add(config_item(
            rc, "AWS::EC2::SecurityGroup", gid, rc.arn("ec2", "security-group/" + gid), gname, "Not Applicable",
            None, t, {"description": description, "groupId": gid, "groupName": gname, "ipPermissions": ingress,
                      "ipPermissionsEgress": egress, "ownerId": rc.account, "tags": tag_list(t),
                      "vpcId": self.vpc_id}))
        self.u.link(self.vpc, item)
        return item

    def network_interface(self, subnet, sgs, description, requester=False, interface_type="interface",
                          key=None, private_ip=None, instance=None, public_ip=None):
        rc = self.rc
        eid = rc.ids.ec2("eni", self.p("eni", key or description))
        ip = private_ip or self.ip(subnet)
        mac = rc.ids.hexd("mac:" + eid, 10)
        conf = {"availabilityZone": subnet["configuration"]["availabilityZone"], "description": description,
                "groups": [{"groupId": g["resourceId"], "groupName": g["configuration"]["groupName"]} for g in sgs],
                "interfaceType": interface_type, "ipv6Addresses": [],
                "macAddress": "02:" + ":".join(mac[i:i + 2] for i in range(0, 10, 2)),
                "networkInterfaceId": eid, "ownerId": rc.account,
                "privateDnsName": self._dns(ip), "privateIpAddress": ip,
                "privateIpAddresses": [{"primary": True, "privateDnsName": self._dns(ip), "privateIpAddress": ip}],
                "requesterManaged": requester, "sourceDestCheck": interface_type != "nat_gateway",
                "status": "in-use", "subnetId": subnet["resourceId"], "tagSet": [], "vpcId": self.vpc_id}
        if instance is not None:
            conf["attachment"] = {"attachTime": instance["configuration"]["launchTime"],
                                  "attachmentId": "eni-attach-0" + rc.ids.hexd("attach:" + eid, 16),
                                  "deleteOnTermination": True, "deviceIndex": 0, "instanceId": instance["resourceId"],
                                  "instanceOwnerId": rc.account, "status": "attached"}
        if public_ip:
            conf["association"] = {"ipOwnerId": "amazon", "publicDnsName": "", "publicIp": public_ip}
        item = self._add(config_item(
            rc, "AWS::EC2::NetworkInterface", eid, rc.arn("ec2", "network-interface/" + eid), None,
            subnet["configuration"]["availabilityZone"], None, {}, conf))
        self.u.link(self.vpc, item)
        self.u.link(subnet, item)
        for g in sgs:
            self.u.link(item, g)
        return item

    # -- compute --------------------------------------------------------------
    def instance(self, name, subnet, sgs, itype="t3.medium", profile=None, public_ip=None, imdsv2=True,
                 volumes=1, encrypted=True, platform=None, image="ami-0c7217cdde317cfec", tags=None):
        rc = self.rc
        iid = rc.ids.ec2("i", self.p("i", name))
        az = subnet["configuration"]["availabilityZone"]
        launch = day_time(rc.created_day, 14)
        ip = self.ip(subnet)
        t = dict({"Name": name}, **(tags or {}))
        if public_ip == "auto":
            h = rc.ids.hexd("pubip:" + iid, 4)
            public_ip = "%d.%d.%d.%d" % ({"us-east-1": 54, "eu-west-1": 52}.get(rc.region, 18),
                                         160 + int(h[0], 16), int(h[1:3], 16), 1 + int(h[3], 16) * 15)
        public_dns = ""
        if public_ip:
            public_dns = ("ec2-%s.compute-1.amazonaws.com" % public_ip.replace(".", "-") if rc.region == "us-east-1"
                          else "ec2-%s.%s.compute.amazonaws.com" % (public_ip.replace(".", "-"), rc.region))
        conf = {
            "amiLaunchIndex": 0, "architecture": "x86_64", "blockDeviceMappings": [],
            "ebsOptimized": True, "enaSupport": True, "hypervisor": "xen",
            "iamInstanceProfile": None, "imageId": image, "instanceId": iid, "instanceType": itype,
            "launchTime": launch,
            "metadataOptions": {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 2 if imdsv2 else 1,
                                "httpTokens": "required" if imdsv2 else "optional", "state": "applied"},
            "monitoring": {"state": "disabled"}, "networkInterfaces": [],
            "placement": {"availabilityZone": az, "groupName": "", "tenancy": "default"},
            "platform": platform, "privateDnsName": self._dns(ip), "privateIpAddress": ip,
            "publicDnsName": public_dns, "publicIpAddress": public_ip, "rootDeviceName": "/dev/xvda",
            "rootDeviceType": "ebs", "securityGroups": [{"groupId": g["resourceId"],
                                                        "groupName": g["configuration"]["groupName"]} for g in sgs],
            "sourceDestCheck": True, "state": {"code": 16, "name": "running"}, "subnetId": subnet["resourceId"],
            "tags": tag_list(t), "virtualizationType": "hvm", "vpcId": self.vpc_id}
        if profile:
            conf["iamInstanceProfile"] = {"arn": "arn:aws:iam::%s:instance-profile/%s" % (rc.account, profile),
                                          "id": "AIPA" + rc.ids.upper("ip:" + rc.account + profile, 17)}
        item = self._add(config_item(rc, "AWS::EC2::Instance", iid, rc.arn("ec2", "instance/" + iid), None, az,
                                      launch, t, conf))
        self.u.link(self.vpc, item)
        self.u.link(subnet, item)
        for g in sgs:
            self.u.link(item, g)
        eni = self.network_interface(subnet, sgs, "", key="i-" + name, private_ip=ip, instance=item,
                                     public_ip=public_ip)
        self.u.link(item, eni)
        conf["networkInterfaces"].append({
            "attachment": dict(eni["configuration"]["attachment"]), "description": "",
            "groups": eni["configuration"]["groups"], "macAddress": eni["configuration"]["macAddress"],
            "networkInterfaceId": eni["resourceId"], "ownerId": rc.account, "privateDnsName": self._dns(ip),
            "privateIpAddress": ip, "sourceDestCheck": True, "status": "in-use",
            "subnetId": subnet["resourceId"], "vpcId": self.vpc_id})
        for v in range(volumes):
            dev = "/dev/xvda" if v == 0 else "/dev/sd%s" % "fghijklmnop"[v - 1]
            vol = self.volume(name + "-" + str(v), az, 8 if v == 0 else 100, encrypted, instance=item, device=dev)
            conf["blockDeviceMappings"].append({"deviceName": dev, "ebs": {
                "attachTime": launch, "deleteOnTermination": v == 0, "status": "attached",
                "volumeId": vol["resourceId"]}})
        return item

    def volume(self, key, az, size, encrypted, instance=None, device="/dev/xvda"):
        rc = self.rc
        vid = rc.ids.ec2("vol", self.p("vol", key))
        conf = {"attachments": [], "availabilityZone": az, "createTime": day_time(rc.created_day, 14),
                "encrypted": encrypted, "iops": 3000, "multiAttachEnabled": False, "size": size,
                "snapshotId": "" if size != 8 else "snap-0" + rc.ids.hexd("snap:" + key, 16),
                "state": "in-use" if instance else "available", "tags": [], "throughput": 125,
                "volumeId": vid, "volumeType": "gp3"}
        if encrypted:
            conf["kmsKeyId"] = "arn:aws:kms:%s:%s:key/%s" % (rc.region, rc.account,
                                                               rc.ids.uuid("ebs-default-key:" + rc.account + rc.region))
        if instance is not None:
            conf["attachments"].append({"attachTime": instance["configuration"]["launchTime"],
                                        "deleteOnTermination": device == "/dev/xvda", "device": device,
                                        "instanceId": instance["resourceId"], "state": "attached", "volumeId": vid})
        item = self._add(config_item(rc, "AWS::EC2::Volume", vid, rc.arn("ec2", "volume/" + vid), None, az,
                                      day_time(rc.created_day, 14), {}, conf))
        if instance is not None:
            self.u.link(instance, item)
        return item

    # -- load balancing ---------------------------------------------------------
    def load_balancer(self, name, scheme, subnets, sgs, target_instances=(), port=443, target_port=8080):
        """An application load balancer with its ENIs, a listener and a target group."""
        rc = self.rc
        lbid = rc.ids.hexd("alb:" + self.p("alb", name), 16)
        arn = rc.arn("elasticloadbalancing", "loadbalancer/app/%s/%s" % (name, lbid))
        dns = "%s%s-%d.%s.elb.amazonaws.com" % ("internal-" if scheme == "internal" else "", name,
                                               int(lbid[:8], 16) % 2000000000, rc.region)
        tags = {"Name": name}
        item = self._add(config_item(
            rc, "AWS::ElasticLoadBalancingV2::LoadBalancer", arn, arn, name, "Multiple Availability Zones",
            day_time(rc.created_day, 15), tags,
            {"availabilityZones": [{"loadBalancerAddresses": [], "subnetId": s["resourceId"],
                                    "zoneName": s["configuration"]["availabilityZone"]} for s in subnets],
             "canonicalHostedZoneId": {"us-east-1": "Z35SXDOTRQ7X7K", "eu-west-1": "Z32O12XQLNTSW2"}.get(rc.region, "Z0000000000000"),
             "createdTime": day_time(rc.created_day, 15), "dNSName": dns, "ipAddressType": "ipv4",
             "loadBalancerArn": arn, "loadBalancerName": name, "scheme": scheme,
             "securityGroups": [g["resourceId"] for g in sgs], "state": {"code": "active"},
             "type": "application", "vpcId": self.vpc_id},
            {"LoadBalancerAttributes": [{"key": "access_logs.s3.enabled", "value": "false"},
                                        {"key": "deletion_protection.enabled", "value": "true"},
                                        {"key": "idle_timeout.timeout_seconds", "value": "60"},
                                        {"key": "routing.http.drop_invalid_header_fields.enabled", "value": "true"}],
             "Tags": tag_list(tags)}))
        for g in sgs:
            self.u.ref(item, g, "Is associated with SecurityGroup")
        for s in subnets:
            self.u.ref(item, s, "Is attached to Subnet")
            self.network_interface(s, sgs, "ELB app/%s/%s" % (name, lbid), requester=True,
                                   key="elb-%s-%s" % (name, s["resourceId"]))
        self.u.ref(item, self.vpc, "Is contained in Vpc")
        tg_arn = rc.arn("elasticloadbalancing", "targetgroup/%s-tg/%s" % (name, rc.ids.hexd("tg:" + arn, 16)))
        tg = self._add(config_item(
            rc, "AWS::ElasticLoadBalancingV2::TargetGroup", tg_arn, tg_arn, name + "-tg", "Regional", None, {},
            {"HealthCheckEnabled": True, "HealthCheckPath": "/health", "HealthCheckPort": "traffic-port",
             "HealthCheckProtocol": "HTTP", "IpAddressType": "ipv4", "LoadBalancerArns": [arn],
             "Matcher": {"HttpCode": "200"}, "Name": name + "-tg", "Port": target_port, "Protocol": "HTTP",
             "ProtocolVersion": "HTTP1", "TargetGroupArn": tg_arn, "TargetGroupName": name + "-tg",
             "TargetType": "instance", "Targets": [{"Id": i["resourceId"], "Port": target_port} for i in target_instances],
             "VpcId": self.vpc_id}))
        self.u.ref(tg, self.vpc, "Is associated with ")
        lis_arn = rc.arn("elasticloadbalancing", "listener/app/%s/%s/%s" % (name, lbid, rc.ids.hexd("lis:" + arn, 16)))
        https = port == 443
        lconf = {"DefaultActions": [{"TargetGroupArn": tg_arn, "Type": "forward"}], "ListenerArn": lis_arn,
                 "LoadBalancerArn": arn, "Port": port, "Protocol": "HTTPS" if https else "HTTP"}
        if https:
            lconf["Certificates"] = [{"CertificateArn": rc.arn("acm", "certificate/" + rc.ids.uuid("cert:" + arn))}]
            lconf["SslPolicy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
        lis = self._add(config_item(rc, "AWS::ElasticLoadBalancingV2::Listener", lis_arn, lis_arn, None, "Regional",
                                     None, {}, lconf))
        self.u.ref(lis, item, "Is associated with ")
        return item

    # -- databases --------------------------------------------------------------
    def db_subnet_group(self, name, subnets):
        rc = self.rc
        arn = rc.arn("rds", "subgrp:" + name)
        conf = {"dBSubnetGroupArn": arn, "dBSubnetGroupDescription": name, "dBSubnetGroupName": name,
                "subnetGroupStatus": "Complete",
                "subnets": [{"subnetAvailabilityZone": {"name": s["configuration"]["availabilityZone"]},
                             "subnetIdentifier": s["resourceId"], "subnetStatus": "Active"} for s in subnets],
                "vpcId": self.vpc_id}
        item = self._add(config_item(rc, "AWS::RDS::DBSubnetGroup", name, arn, name, "Multiple Availability Zones",
                                      None, {}, conf, {"Tags": []}))
        for s in subnets:
            self.u.ref(item, s, "Is associated with Subnet")
        self.u.ref(item, self.vpc, "Is associated with Vpc")
        return item

    def db_instance(self, name, subnet_group, sgs, engine="postgres", version="16.3", cls="db.r6g.large",
                    encrypted=True, public=False, multi_az=True, cluster=None, minor_upgrade=True, port=5432):
        rc = self.rc
        dbi = "db-" + rc.ids.upper("dbi:" + self.p("db", name), 26)
        arn = rc.arn("rds", "db:" + name)
        sg_conf = subnet_group["configuration"]
        subnets = sg_conf["subnets"]
        az = subnets[0]["subnetAvailabilityZone"]["name"]
        conf = {
            "allocatedStorage": 1 if cluster else 200, "autoMinorVersionUpgrade": minor_upgrade,
            "availabilityZone": az, "backupRetentionPeriod": 7, "cACertificateIdentifier": "rds-ca-rsa2048-g1",
            "copyTagsToSnapshot": True, "dBInstanceArn": arn, "dBInstanceClass": cls,
            "dBInstanceIdentifier": name, "dBInstanceStatus": "available", "dBParameterGroups": [
                {"dBParameterGroupName": "default.%s%s" % (engine, version.split(".")[0]), "parameterApplyStatus": "in-sync"}],
            "dBSecurityGroups": [], "dBSubnetGroup": {k: sg_conf[k] for k in ("dBSubnetGroupDescription", "dBSubnetGroupName",
                                                                               "subnetGroupStatus", "subnets", "vpcId")},
            "dbInstancePort": 0, "dbiResourceId": dbi, "deletionProtection": True, "domainMemberships": [],
            "endpoint": {"address": "%s.c%s.%s.rds.amazonaws.com" % (name, rc.ids.hexd("rdsdns:" + rc.account + rc.region, 11), rc.region),
                         "hostedZoneId": "Z2R2ITUGPM61AM", "port": port},
            "engine": engine, "engineVersion": version, "iAMDatabaseAuthenticationEnabled": False,
            "instanceCreateTime": day_time(rc.created_day, 16), "licenseModel": "postgresql-license" if "postgres" in engine else "general-public-license",
            "masterUsername": "dbadmin", "monitoringInterval": 60,
            "monitoringRoleArn": "arn:aws:iam::%s:role/rds-monitoring-role" % rc.account,
            "multiAZ": multi_az, "optionGroupMemberships": [{"optionGroupName": "default:%s-%s" % (engine, version.split(".")[0]), "status": "in-sync"}],
            "pendingModifiedValues": {}, "preferredBackupWindow": "03:00-03:30",
            "preferredMaintenanceWindow": "sun:05:00-sun:05:30", "publiclyAccessible": public,
            "readReplicaDBInstanceIdentifiers": [], "statusInfos": [], "storageEncrypted": encrypted,
            "storageType": "aurora" if cluster else "gp3",
            "vpcSecurityGroups": [{"status": "active", "vpcSecurityGroupId": g["resourceId"]} for g in sgs]}
        if encrypted:
            conf["kmsKeyId"] = "arn:aws:kms:%s:%s:key/%s" % (rc.region, rc.account, rc.ids.uuid("rds-key:" + rc.account + rc.region))
        if cluster is not None:
            conf["dBClusterIdentifier"] = cluster
        tags = {"Name": name}
        conf["tagList"] = tag_list(tags)
        item = self._add(config_item(rc, "AWS::RDS::DBInstance", dbi, arn, name, az if not multi_az else "Multiple Availability Zones",
                                      day_time(rc.created_day, 16), tags, conf, {"Tags": tag_list(tags)}))
        self.u.ref(item, subnet_group, "Is associated with DBSubnetGroup")
        for g in sgs:
            self.u.ref(item, g, "Is associated with SecurityGroup")
        return item

    def db_cluster(self, name, subnet_group, sgs, engine="aurora-postgresql", version="16.2", encrypted=True,
                   members=2):
        rc = self.rc
        cid = "cluster-" + rc.ids.upper("cluster:" + self.p("db", name), 26)
        arn = rc.arn("rds", "cluster:" + name)
        az_names = [s["subnetAvailabilityZone"]["name"] for s in subnet_group["configuration"]["subnets"]]
        instances = []
        for i in range(members):
            instances.append(self.db_instance("%s-%d" % (name, i + 1), subnet_group, sgs, engine=engine, version=version,
                                              encrypted=encrypted, multi_az=False, cluster=name, port=5432))
        conf = {"allocatedStorage": 1, "associatedRoles": [], "availabilityZones": sorted(set(az_names)),
                "backupRetentionPeriod": 7, "copyTagsToSnapshot": True, "crossAccountClone": False,
                "databaseName": name.replace("-", "_"), "dbClusterResourceId": cid, "dbclusterArn": arn,
                "dbclusterIdentifier": name, "dbclusterMembers": [
                    {"dbClusterParameterGroupStatus": "in-sync", "dbinstanceIdentifier": x["resourceName"],
                     "isClusterWriter": i == 0, "promotionTier": 1} for i, x in enumerate(instances)],
                "dbclusterParameterGroup": "default.%s%s" % (engine, version.split(".")[0]),
                "dbsubnetGroup": subnet_group["resourceId"], "deletionProtection": True,
                "endpoint": "%s.cluster-c%s.%s.rds.amazonaws.com" % (name, rc.ids.hexd("rdsdns:" + rc.account + rc.region, 11), rc.region),
                "engine": engine, "engineMode": "provisioned", "engineVersion": version,
                "iamdatabaseAuthenticationEnabled": False, "masterUsername": "dbadmin", "multiAZ": members > 1,
                "port": 5432, "preferredBackupWindow": "03:00-03:30", "preferredMaintenanceWindow": "sun:05:00-sun:05:30",
                "readReplicaIdentifiers": [], "status": "available", "storageEncrypted": encrypted,
                "vpcSecurityGroups": [{"status": "active", "vpcSecurityGroupId": g["resourceId"]} for g in sgs]}
        if encrypted:
            conf["kmsKeyId"] = "arn:aws:kms:%s:%s:key/%s" % (rc.region, rc.account, rc.ids.uuid("rds-key:" + rc.account + rc.region))
        item = self._add(config_item(rc, "AWS::RDS::DBCluster", cid, arn, name, "Multiple Availability Zones",
                                      day_time(rc.created_day, 16), {"Name": name}, conf,
                                      {"Tags": [{"key": "Name", "value": name}]}))
        for g in sgs:
            self.u.ref(item, g, "Is associated with ")
        self.u.ref(item, subnet_group, "Is associated with ")
        return item

    # -- serverless and containers ---------------------------------------------
    def lambda_function(self, name, subnets, sgs, role_arn, runtime="python3.12", memory=256):
        rc = self.rc
        item = self._add(lambda_item(rc, name, subnets, sgs, role_arn, runtime, memory))
        for s in subnets:
            # Hyperplane ENIs that Lambda creates in each subnet of a VPC function.
            self.network_interface(s, sgs, "AWS Lambda VPC ENI-" + name, requester=True, interface_type="lambda",
                                   key="lambda-%s-%s" % (name, s["resourceId"]))
            self.u.ref(item, s, "Is associated with ")
        for g in sgs:
            self.u.ref(item, g, "Is associated with ")
        return item

    def ecs_service(self, cluster_arn, name, subnets, sgs, task_family, desired=2):
        rc = self.rc
        arn = rc.arn("ecs", "service/%s/%s" % (cluster_arn.rsplit("/", 1)[1], name))
        conf = {"Cluster": cluster_arn, "DeploymentConfiguration": {
                    "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                    "MaximumPercent": 200, "MinimumHealthyPercent": 100},
                "DesiredCount": desired, "EnableECSManagedTags": True, "LaunchType": "FARGATE", "LoadBalancers": [],
                "Name": name, "NetworkConfiguration": {"AwsvpcConfiguration": {
                    "AssignPublicIp": "DISABLED", "SecurityGroups": [g["resourceId"] for g in sgs],
                    "Subnets": [s["resourceId"] for s in subnets]}},
                "PlacementConstraints": [], "PlacementStrategies": [], "PlatformVersion": "LATEST",
                "SchedulingStrategy": "REPLICA", "ServiceArn": arn, "ServiceName": name, "ServiceRegistries": [],
                "Tags": [], "TaskDefinition": rc.arn("ecs", "task-definition/%s:3" % task_family)}
        item = self._add(config_item(rc, "AWS::ECS::Service", arn, arn, name, "Regional", None, {}, conf))
        for i in range(desired):
            s = subnets[i % len(subnets)]
            self.network_interface(s, sgs, "arn:aws:ecs:%s:%s:attachment/%s" % (rc.region, rc.account, rc.ids.uuid("ecs-att:%s:%d" % (arn, i))),
                                   requester=True, interface_type="interface", key="ecs-%s-%d" % (name, i))
        return item

    def eks_cluster(self, name, subnets, sgs, role_arn, version="1.30", public_endpoint=True):
        rc = self.rc
        arn = rc.arn("eks", "cluster/" + name)
        conf = {"Arn": arn, "Endpoint": "https://%s.gr7.%s.eks.amazonaws.com" % (rc.ids.hexd("eks:" + arn, 32).upper(), rc.region),
                "Name": name, "ResourcesVpcConfig": {"EndpointPrivateAccess": True, "EndpointPublicAccess": public_endpoint,
                                                     "PublicAccessCidrs": ["0.0.0.0/0"] if public_endpoint else [],
                                                     "SecurityGroupIds": [g["resourceId"] for g in sgs],
                                                     "SubnetIds": [s["resourceId"] for s in subnets]},
                "RoleArn": role_arn, "Version": version}
        item = self._add(config_item(rc, "AWS::EKS::Cluster", name, arn, name, "Regional", None, {}, conf))
        for s in subnets[:2]:
            self.network_interface(s, sgs, "Amazon EKS " + name, requester=True, key="eks-%s-%s" % (name, s["resourceId"]))
        return item

    def efs(self, name, subnets, sgs, encrypted=True):
        rc = self.rc
        fsid = "fs-0" + rc.ids.hexd("efs:" + self.p("efs", name), 16)
        arn = rc.arn("elasticfilesystem", "file-system/" + fsid)
        conf = {"Arn": arn, "BackupPolicy": {"Status": "ENABLED"}, "Encrypted": encrypted,
                "FileSystemId": fsid, "FileSystemTags": [{"Key": "Name", "Value": name}],
                "PerformanceMode": "generalPurpose", "ThroughputMode": "elastic"}
        if encrypted:
            conf["KmsKeyId"] = "arn:aws:kms:%s:%s:key/%s" % (rc.region, rc.account, rc.ids.uuid("efs-key:" + rc.account + rc.region))
        item = self._add(config_item(rc, "AWS::EFS::FileSystem", fsid, arn, name, "Regional", None, {"Name": name}, conf))
        for s in subnets:
            self.network_interface(s, sgs, "EFS mount target for %s (fsmt-0%s)" % (fsid, rc.ids.hexd("fsmt:" + fsid + s["resourceId"], 16)),
                                   requester=True, interface_type="interface", key="efs-%s-%s" % (name, s["resourceId"]))
        return item

    def autoscaling_group(self, name, subnets, instances, lt_name, target_group_arns=()):
        rc = self.rc
        arn = rc.arn("autoscaling", "autoScalingGroup:%s:autoScalingGroupName/%s" % (rc.ids.uuid("asg:" + name + self.path), name))
        conf = {"autoScalingGroupARN": arn, "autoScalingGroupName": name,
                "availabilityZones": sorted({s["configuration"]["availabilityZone"] for s in subnets}),
                "createdTime": day_time(rc.created_day, 14), "defaultCooldown": 300, "desiredCapacity": len(instances),
                "healthCheckGracePeriod": 300, "healthCheckType": "ELB",
                "instances": [{"availabilityZone": i["configuration"]["placement"]["availabilityZone"], "healthStatus": "Healthy",
                               "instanceId": i["resourceId"], "lifecycleState": "InService", "protectedFromScaleIn": False}
                              for i in instances],
                "launchTemplate": {"launchTemplateName": lt_name, "version": "$Latest"},
                "loadBalancerNames": [], "maxSize": 6, "minSize": len(instances), "newInstancesProtectedFromScaleIn": False,
                "serviceLinkedRoleARN": "arn:aws:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling" % rc.account,
                "suspendedProcesses": [], "targetGroupARNs": list(target_group_arns), "terminationPolicies": ["Default"],
                "vpcZoneIdentifier": ",".join(s["resourceId"] for s in subnets)}
        item = self._add(config_item(rc, "AWS::AutoScaling::AutoScalingGroup", arn, arn, name, "Multiple Availability Zones",
                                      day_time(rc.created_day, 14), {}, conf))
        for s in subnets:
            self.u.ref(item, s, "Is associated with Subnet")
        for i in instances:
            self.u.ref(item, i, "Contains Instance")
        return item

    def vpc_endpoint(self, service, kind, subnets=(), sgs=(), route_tables=()):
        """A gateway (S3, DynamoDB) or interface endpoint."""
        rc = self.rc
        short = service.rsplit(".", 1)[1]
        vid = rc.ids.ec2("vpce", self.p("vpce", short))
        conf = {"creationTimestamp": day_time(rc.created_day, 12), "dnsEntries": [], "groups": [],
                "networkInterfaceIds": [], "ownerId": rc.account,
                "policyDocument": "{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
                "privateDnsEnabled": kind == "Interface", "requesterManaged": False,
                "routeTableIds": [r["resourceId"] for r in route_tables], "serviceName": service, "state": "available",
                "subnetIds": [s["resourceId"] for s in subnets], "tags": [{"key": "Name", "value": "%s-%s" % (self.name, short)}],
                "vpcEndpointId": vid, "vpcEndpointType": kind, "vpcId": self.vpc_id}
        item = self._add(config_item(rc, "AWS::EC2::VPCEndpoint", vid, rc.arn("ec2", "vpc-endpoint/" + vid), None,
                                      "Not Applicable", day_time(rc.created_day, 12), {"Name": "%s-%s" % (self.name, short)}, conf))
        self.u.ref(item, self.vpc, "Is contained in ")
        if kind == "Interface":
            for s in subnets:
                eni = self.network_interface(s, sgs, "VPC Endpoint Interface " + vid, requester=True,
                                             interface_type="vpc_endpoint", key="vpce-%s-%s" % (short, s["resourceId"]))
                conf["networkInterfaceIds"].append(eni["resourceId"])
                conf["dnsEntries"].append({"dnsName": "%s-%s-%s.%s.%s.vpce.amazonaws.com" % (vid, rc.ids.hexd(vid, 8), s["configuration"]["availabilityZone"], short, rc.region),
                                           "hostedZoneId": "Z7HUB22UULQXV"})
                self.u.ref(item, s, "Is associated with ")
            conf["groups"] = [{"groupId": g["resourceId"], "groupName": g["configuration"]["groupName"]} for g in sgs]
            for g in sgs:
                self.u.ref(item, g, "Is associated with ")
        for r in route_tables:
            self.u.ref(item, r, "Is associated with ")
            r["configuration"]["routes"].append({"destinationPrefixListId": "pl-63a5400a" if rc.region == "us-east-1" else "pl-6da54004",
                                                 "gatewayId": vid, "origin": "CreateRoute", "state": "active"})
        return item


# -- account-level and regional resources outside VPCs ------------------------

class AccountBuilder:
    """IAM (awsRegion 'global', stored with the account's us-east-1 items), S3, KMS, CloudTrail, messaging."""

    def __init__(self, unit, rc):
        self.u = unit
        self.rc = rc

    def role(self, name, trust_service=None, trust_account=None, path="/", policies=()):
        rc = self.rc
        rid = "AROA" + rc.ids.upper("role:%s/%s" % (rc.account, name), 17)
        arn = "arn:aws:iam::%s:role%s%s" % (rc.account, path, name)
        principal = {"Service": trust_service} if trust_service else {"AWS": "arn:aws:iam::%s:root" % trust_account}
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal,
                                                         "Action": "sts:AssumeRole"}]}
        conf = {"arn": arn, "assumeRolePolicyDocument": _urlquote(json.dumps(doc, separators=(",", ":"))),
                "attachedManagedPolicies": [{"policyArn": p, "policyName": p.rsplit("/", 1)[1]} for p in policies],
                "createDate": day_time("2025-01-20", 10), "instanceProfileList": [], "path": path,
                "permissionsBoundary": None, "roleId": rid, "roleName": name, "rolePolicyList": [], "tags": []}
        item = self.u.add(config_item(rc, "AWS::IAM::Role", rid, arn, name, "Not Applicable",
                                      day_time("2025-01-20", 10), {}, conf, region="global"))
        for p in policies:
            if ":aws:policy/" not in p:
                pol = self.u.items.get(("AWS::IAM::Policy", self._policy_id(p.rsplit("/", 1)[1])))
                if pol is not None:
                    self.u.ref(item, pol, "Is attached to CustomerManagedPolicy")
        return item

    def instance_profile(self, role):
        role["configuration"]["instanceProfileList"].append({
            "arn": "arn:aws:iam::%s:instance-profile/%s" % (self.rc.account, role["resourceName"]),
            "createDate": role["configuration"]["createDate"], "instanceProfileId": "AIPA" + self.rc.ids.upper(
                "ip:" + self.rc.account + role["resourceName"], 17),
            "instanceProfileName": role["resourceName"], "path": "/", "roles": []})

    def _policy_id(self, name):
        return "ANPA" + self.rc.ids.upper("policy:%s/%s" % (self.rc.account, name), 17)

    def policy(self, name, statements):
        rc = self.rc
        pid = self._policy_id(name)
        arn = "arn:aws:iam::%s:policy/%s" % (rc.account, name)
        doc = {"Version": "2012-10-17", "Statement": statements}
        conf = {"arn": arn, "attachmentCount": 1, "createDate": day_time("2025-01-20", 9), "defaultVersionId": "v1",
                "isAttachable": True, "path": "/", "permissionsBoundaryUsageCount": 0, "policyId": pid,
                "policyName": name, "policyVersionList": [{"createDate": day_time("2025-01-20", 9),
                                                           "document": _urlquote(json.dumps(doc, separators=(",", ":"))),
                                                           "isDefaultVersion": True, "versionId": "v1"}],
                "updateDate": day_time("2025-01-20", 9)}
        return self.u.add(config_item(rc, "AWS::IAM::Policy", pid, arn, name, "Not Applicable",
                                      day_time("2025-01-20", 9), {}, conf, region="global"))

    def user(self, name, policies=(), key_age_days=30, mfa=True, console=False):
        rc = self.rc
        uid = "AIDA" + rc.ids.upper("user:%s/%s" % (rc.account, name), 17)
        arn = "arn:aws:iam::%s:user/%s" % (rc.account, name)
        conf = {"arn": arn, "attachedManagedPolicies": [{"policyArn": p, "policyName": p.rsplit("/", 1)[1]} for p in policies],
                "createDate": day_time("2025-01-20", 11), "groupList": [], "path": "/", "permissionsBoundary": None,
                "tags": [], "userId": uid, "userName": name, "userPolicyList": []}
        item = self.u.add(config_item(rc, "AWS::IAM::User", uid, arn, name, "Not Applicable",
                                      day_time("2025-01-20", 11), {}, conf, region="global"))
        item["_meta"] = {"key_age_days": key_age_days, "mfa": mfa, "console": console}
        for p in policies:
            if ":aws:policy/" not in p:
                pol = self.u.items.get(("AWS::IAM::Policy", self._policy_id(p.rsplit("/", 1)[1])))
                if pol is not None:
                    self.u.ref(item, pol, "Is attached to CustomerManagedPolicy")
        return item

    def bucket(self, name, encrypted=True, block_public=True, versioning=True, logging_to=None, policy_ssl=True):
        rc = self.rc
        arn = "arn:aws:s3:::" + name
        conf = {"creationDate": day_time("2025-02-01", 10), "name": name,
                "owner": {"displayName": None, "id": rc.ids.hexd("s3owner:" + rc.account, 64)}}
        supp = {
            "BucketAccelerateConfiguration": {},
            "BucketLoggingConfiguration": {"destinationBucketName": logging_to, "logFilePrefix": name + "/" if logging_to else None},
            "BucketNotificationConfiguration": {"configurations": {}},
            "BucketPolicy": {"policyText": _ssl_policy(name) if policy_ssl else None},
            "BucketVersioningConfiguration": {"isMfaDeleteEnabled": None, "status": "Enabled" if versioning else "Off"},
            "IsRequesterPaysEnabled": False,
            "PublicAccessBlockConfiguration": {"blockPublicAcls": block_public, "blockPublicPolicy": block_public,
                                               "ignorePublicAcls": block_public, "restrictPublicBuckets": block_public},
        }
        if encrypted:
            supp["ServerSideEncryptionConfiguration"] = {"rules": [{"applyServerSideEncryptionByDefault": {
                "kmsMasterKeyID": None, "sseAlgorithm": "aws:kms" if encrypted == "kms" else "AES256"}, "bucketKeyEnabled": encrypted == "kms"}]}
        return self.u.add(config_item(rc, "AWS::S3::Bucket", name, arn, name, "Regional", day_time("2025-02-01", 10),
                                      {}, conf, supp))

    def kms_key(self, alias, rotation=True):
        rc = self.rc
        kid = rc.ids.uuid("kms:%s/%s/%s" % (rc.account, rc.region, alias))
        arn = rc.arn("kms", "key/" + kid)
        conf = {"aWSAccountId": rc.account, "arn": arn, "creationDate": day_time("2025-02-01", 9), "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
                "description": alias, "enabled": True, "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "keyId": kid,
                "keyManager": "CUSTOMER", "keySpec": "SYMMETRIC_DEFAULT", "keyState": "Enabled", "keyUsage": "ENCRYPT_DECRYPT",
                "multiRegion": False, "origin": "AWS_KMS"}
        item = self.u.add(config_item(rc, "AWS::KMS::Key", kid, arn, None, "Regional", day_time("2025-02-01", 9), {}, conf,
                                      {"KeyRotationStatus": rotation}))
        return item

    def trail(self, name, bucket, kms_arn=None, multi_region=True, validation=True, organization=False, cw_logs=True):
        rc = self.rc
        arn = rc.arn("cloudtrail", "trail/" + name)
        conf = {"CloudWatchLogsLogGroupArn": rc.arn("logs", "log-group:aws-cloudtrail-logs:*") if cw_logs else None,
                "EnableLogFileValidation": validation, "IncludeGlobalServiceEvents": True,
                "IsLogging": True, "IsMultiRegionTrail": multi_region, "IsOrganizationTrail": organization,
                "KMSKeyId": kms_arn, "S3BucketName": bucket, "TrailName": name,
                "EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
                                    "IncludeManagementEvents": True, "ReadWriteType": "All"}]}
        conf = {k: v for k, v in conf.items() if v is not None}
        return self.u.add(config_item(rc, "AWS::CloudTrail::Trail", name, arn, name, "Regional", None, {}, conf))

    def topic(self, name, kms=None):
        rc = self.rc
        arn = rc.arn("sns", name)
        conf = {"DisplayName": "", "KmsMasterKeyId": kms, "TopicArn": arn, "TopicName": name}
        conf = {k: v for k, v in conf.items() if v is not None}
        return self.u.add(config_item(rc, "AWS::SNS::Topic", arn, arn, name, "Regional", None, {}, conf))

    def queue(self, name, sse=True):
        rc = self.rc
        url = "https://sqs.%s.amazonaws.com/%s/%s" % (rc.region, rc.account, name)
        arn = rc.arn("sqs", name)
        conf = {"Arn": arn, "DelaySeconds": 0, "MaximumMessageSize": 262144, "MessageRetentionPeriod": 345600,
                "QueueName": name, "QueueUrl": url, "ReceiveMessageWaitTimeSeconds": 20,
                "SqsManagedSseEnabled": sse, "VisibilityTimeout": 60}
        return self.u.add(config_item(rc, "AWS::SQS::Queue", url, arn, name, "Regional", None, {}, conf))

    def table(self, name, pitr=True):
        rc = self.rc
        arn = rc.arn("dynamodb", "table/" + name)
        conf = {"attributeDefinitions": [{"attributeName": "pk", "attributeType": "S"}],
                "billingModeSummary": {"billingMode": "PAY_PER_REQUEST"}, "creationDateTime": day_time("2025-03-01", 10),
                "deletionProtectionEnabled": True, "itemCount": 0,
                "keySchema": [{"attributeName": "pk", "keyType": "HASH"}],
                "sSEDescription": {"sSEType": "KMS", "status": "ENABLED"}, "tableArn": arn,
                "tableId": rc.ids.uuid("ddb:" + arn), "tableName": name, "tableSizeBytes": 0, "tableStatus": "ACTIVE"}
        return self.u.add(config_item(rc, "AWS::DynamoDB::Table", name, arn, name, "Regional",
                                      day_time("2025-03-01", 10), {}, conf,
                                      {"ContinuousBackupsDescription": {"continuousBackupsStatus": "ENABLED",
                                                                        "pointInTimeRecoveryDescription": {"pointInTimeRecoveryStatus": "ENABLED" if pitr else "DISABLED"}}}))

    def secret(self, name, kms_arn=None, rotation=False):
        rc = self.rc
        sid = "%s-%s" % (name, rc.ids.hexd("secret:" + name + rc.account + rc.region, 6))
        arn = rc.arn("secretsmanager", "secret:" + sid)
        conf = {"Description": "", "Id": arn, "Name": name, "ReplicaRegions": [], "RotationEnabled": rotation}
        if kms_arn:
            conf["KmsKeyId"] = kms_arn
        return self.u.add(config_item(rc, "AWS::SecretsManager::Secret", arn, arn, name, "Regional", None, {}, conf))

    def lambda_function(self, name, role, runtime="python3.12", handler="app.handler"):
        """A Lambda function outside any VPC (empty vpcConfig, as in the cloud-custodian recording)."""
        item = self.u.add(lambda_item(self.rc, name, [], [], role["arn"], runtime, handler=handler))
        self.u.ref(item, role, "Is associated with ", with_name=True)
        return item

    def ecs_cluster(self, name):
        rc = self.rc
        arn = rc.arn("ecs", "cluster/" + name)
        conf = {"Arn": arn, "CapacityProviders": ["FARGATE", "FARGATE_SPOT"], "ClusterName": name,
                "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
                "DefaultCapacityProviderStrategy": [], "Tags": []}
        return self.u.add(config_item(rc, "AWS::ECS::Cluster", name, arn, name, "Regional", None, {}, conf))

    def launch_template(self, name, image, itype, sgs, profile_arn=None, imdsv2=True):
        rc = self.rc
        ltid = "lt-0" + rc.ids.hexd("lt:%s/%s/%s" % (rc.account, rc.region, name), 16)
        arn = rc.arn("ec2", "launch-template/" + ltid)
        data = {"ImageId": image, "InstanceType": itype, "SecurityGroupIds": [g["resourceId"] for g in sgs],
                "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": "required" if imdsv2 else "optional"}}
        if profile_arn:
            data["IamInstanceProfile"] = {"Arn": profile_arn}
        conf = {"DefaultVersionNumber": 3, "LatestVersionNumber": 3, "LaunchTemplateData": data,
                "LaunchTemplateId": ltid, "LaunchTemplateName": name}
        return self.u.add(config_item(rc, "AWS::EC2::LaunchTemplate", ltid, arn, name, "Not Applicable", None, {}, conf))


def lambda_item(rc, name, subnets, sgs, role_arn, runtime="python3.12", memory=256, handler="app.handler"):
    arn = rc.arn("lambda", "function:" + name)
    conf = {"architectures": ["arm64"], "codeSha256": rc.ids.hexd("code:" + arn, 43) + "=", "codeSize": 48213,
            "description": "", "ephemeralStorage": {"size": 512}, "functionArn": arn, "functionName": name,
            "handler": handler, "lastModified": "%s.000+0000" % day_time(rc.created_day, 17)[:19],
            "layers": [], "memorySize": memory, "packageType": "Zip",
            "revisionId": rc.ids.uuid("rev:" + arn), "role": role_arn, "runtime": runtime,
            "timeout": 30, "tracingConfig": {"mode": "PassThrough"}, "version": "$LATEST",
            "vpcConfig": {"securityGroupIds": [g["resourceId"] for g in sgs],
                          "subnetIds": [s["resourceId"] for s in subnets]}}
    return config_item(rc, "AWS::Lambda::Function", name, arn, name, "Not Applicable", None,
                       {"Name": name}, conf, {"Tags": {"Name": name}})


def _urlquote(s):
    from urllib.parse import quote
    return quote(s, safe="")


def _ssl_policy(bucket):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}, separators=(",", ":"))


def strip_meta(item):
    item.pop("_meta", None)
    return item


# -- writing ------------------------------------------------------------------

def region_dir(out, account, region):
    d = os.path.join(out, "accounts", account, region)
    os.makedirs(d, exist_ok=True)
    return d


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False))
        f.write("\n")
