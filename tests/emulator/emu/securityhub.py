"""The emulator's AWS Security Hub service (REST-JSON, botocore "securityhub").

Operations: GetFindings, GetEnabledStandards, DescribeHub (its
ControlFindingGenerator follows the hub's consolidated_controls), DescribeStandards,
DescribeStandardsControls, ListSecurityControlDefinitions.  Every one of them
needs Security Hub enabled in the caller's account and region (a
`securityhub.json` in accounts/<account>/<region>/ of the dataset, see
DATASET.md); otherwise AWS answers HTTP 401 InvalidAccessException
"Account <id> is not subscribed to AWS Security Hub", and so do we.

Data and scale
--------------
`reload()` eagerly reads and checks securityhub-catalog.json and every
securityhub.json (small).  findings.ndjson of an account+region is read lazily
on the first request that needs it, and then kept open: a finding is held as
the offset and length of its line in that file (its JSON text is read back
with pread only when it is returned or filtered on a non-hot attribute, and
returned exactly as stored, never with invented fields) plus its "hot"
filter values: the attributes many findings share (GeneratorId,
ComplianceStatus, SeverityLabel, Title, ...) as one interned tuple per
distinct combination, ResourceId as a tuple shared per resource, and the
four top-level dates as one packed bytes object of integer nanoseconds
(~530 bytes a finding in all: 1M findings take ~0.5 GB, not 4 GB).  Staged
findings (control API) are kept as their JSON bytes.  Filters on hot fields
never parse JSON; filters on any other attribute parse the finding's text
once per request.  Each account+region keeps its findings ordered by
(UpdatedAt desc, Id asc) so that UpdatedAt bounds are found by bisection
(cheap incremental "UpdatedAt >= T" queries); the matching list of a query
is cached per (hub version, filters, sort) for paging.  The HTTP server calls
handle_raw(), whose GetFindings answer carries the stored texts as
model.RawJson, spliced into the response body without a parse/encode round
trip; handle() returns them parsed (unit tests).  A findings file changed on
disk after loading answers 500 naming the file (reload the emulator).

GetFindings semantics (as documented for AwsSecurityFindingFilters)
------------------------------------------------------------------
* String filters: EQUALS, PREFIX, CONTAINS are positive, NOT_EQUALS,
  PREFIX_NOT_EQUALS, NOT_CONTAINS negative.  On one field the positive
  filters are OR'ed, the negative ones AND'ed, and a finding must satisfy
  both groups; different fields are AND'ed.  Values are case sensitive.  For
  a multi-valued attribute (Type, ResourceId over Resources[], ...) a
  positive filter matches when any value matches, a negative filter when no
  value matches (so a finding without the attribute passes a negative
  filter).  CONTAINS_WORD exists only for the V2 APIs: InvalidInputException.
* Date filters: Start/End (RFC 3339 timestamps, inclusive bounds; either may
  be omitted) or DateRange {Value, Unit DAYS, Comparison WITHIN (default:
  from now-Value days up to now) | OLDER_THAN (before now-Value days)};
  several DateFilters on one field are OR'ed.
* Number filters: Gte/Lte/Gt/Lt/Eq inside one NumberFilter are AND'ed,
  several NumberFilters on one field OR'ed.  Map filters (ProductFields,
  ResourceTags, UserDefinedFields, ResourceDetailsOther) follow the string
  rules per Key.  IP filters match addresses inside Cidr (OR'ed).  Boolean
  filters (Sample) compare Value.  The deprecated Keyword filter is refused
  with InvalidInputException.
* At most 10 attributes, at most 20 filters per attribute
  (InvalidInputException), as the API reference states.
* Order: without SortCriteria findings come by UpdatedAt descending, then Id
  ascending (the emulator's documented choice; AWS does not document its
  default order).  SortCriteria fields are filter attribute names
  (UpdatedAt, SeverityLabel, Title, SeverityNormalized, ...); SortOrder
  defaults to asc; findings without the attribute sort last; ties keep the
  default order.  An unknown sort field is InvalidInputException.
* MaxResults 1..100, default 100.  NextToken comes from emu.tokens, bound to
  the operation, account, region and the whole query; a token that is not
  valid for the query is InvalidInputException.  Pagination is by position,
  like AWS it is not a snapshot: drift staged between pages may shift items.
* Scope: the caller's account and region only (administrator/member
  aggregation is not emulated).

Page sizes when MaxResults is absent (AWS documents only the last one):
GetEnabledStandards 10, DescribeStandards 10, DescribeStandardsControls 25,
ListSecurityControlDefinitions 25.

Staged drift (called by the control API, under the state lock):
`put_findings(account, region, findings)` and
`delete_findings(account, region, ids)`, reachable over HTTP through
`control(action, doc)` (POST /__emulator/findings/put|delete); see their
docstrings.
"""

import array
import bisect
import calendar
import collections
import functools
import hashlib
import ipaddress
import json
import os
import re
import struct
import sys
import threading
import urllib.parse

from . import tokens
from .errors import ApiError
from .model import RawJson
from .state import DatasetError as _StateDatasetError

NS = 1_000_000_000
DAY_NS = 86400 * NS

GET_FINDINGS_DEFAULT = 100
PAGE_DEFAULTS = {
    "GetEnabledStandards": 10,
    "DescribeStandards": 10,
    "DescribeStandardsControls": 25,
    "ListSecurityControlDefinitions": 25,
}
MAX_FILTER_FIELDS = 10
MAX_FILTERS_PER_FIELD = 20


class DatasetError(_StateDatasetError, ValueError):
    """The dataset (or staged data) is malformed; the message names the file
    (and line) or the argument at fault.  A state.DatasetError, so the server
    reports it like its own dataset errors (start-up, reload, control API)."""


def _invalid_input(message):
    return ApiError(400, "InvalidInputException", message)


def _not_subscribed(account):
    return ApiError(401, "InvalidAccessException",
                    f"Account {account} is not subscribed to AWS Security Hub")


# ---------------------------------------------------------------- timestamps

_TS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$")


@functools.lru_cache(maxsize=65536)
def _days(y, mo, d):
    """Days since 1970-01-01 of a calendar date (strings), None if invalid."""
    y, mo, d = int(y), int(mo), int(d)
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
        return None
    return calendar.timegm((y, mo, d, 0, 0, 0, 0, 0, 0)) // 86400


def parse_ts(text):
    """RFC 3339 timestamp (the forms Security Hub accepts) -> integer
    nanoseconds since the epoch, or None when it is not one."""
    if not isinstance(text, str):
        return None
    m = _TS_RE.match(text)
    if not m:
        return None
    days = _days(m.group(1), m.group(2), m.group(3))
    h, mi, s = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if days is None or h > 23 or mi > 59 or s > 60:
        return None
    secs = days * 86400 + h * 3600 + mi * 60 + s
    frac = int(m.group(7).ljust(9, "0")) if m.group(7) else 0
    tz = m.group(8)
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            return None
        secs -= sign * (oh * 3600 + om * 60)
    return secs * NS + frac


# ------------------------------------------------------------- filter fields

def _p(path):
    """'Resources[].Details.AwsEc2Instance.VpcId' -> ((key, many), ...)."""
    out = []
    for part in path.split("."):
        many = part.endswith("[]")
        out.append((part[:-2] if many else part, many))
    return tuple(out)


# attribute name -> (kind, path in the ASFF object)
FIELDS = {
    "ProductArn": ("str", "ProductArn"),
    "AwsAccountId": ("str", "AwsAccountId"),
    "Id": ("str", "Id"),
    "GeneratorId": ("str", "GeneratorId"),
    "Region": ("str", "Region"),
    "Type": ("str", "Types[]"),
    "FirstObservedAt": ("date", "FirstObservedAt"),
    "LastObservedAt": ("date", "LastObservedAt"),
    "CreatedAt": ("date", "CreatedAt"),
    "UpdatedAt": ("date", "UpdatedAt"),
    "SeverityProduct": ("num", "Severity.Product"),
    "SeverityNormalized": ("num", "Severity.Normalized"),
    "SeverityLabel": ("str", "Severity.Label"),
    "Confidence": ("num", "Confidence"),
    "Criticality": ("num", "Criticality"),
    "Title": ("str", "Title"),
    "Description": ("str", "Description"),
    "RecommendationText": ("str", "Remediation.Recommendation.Text"),
    "SourceUrl": ("str", "SourceUrl"),
    "ProductFields": ("map", "ProductFields"),
    "ProductName": ("str", "ProductName"),
    "CompanyName": ("str", "CompanyName"),
    "UserDefinedFields": ("map", "UserDefinedFields"),
    "MalwareName": ("str", "Malware[].Name"),
    "MalwareType": ("str", "Malware[].Type"),
    "MalwarePath": ("str", "Malware[].Path"),
    "MalwareState": ("str", "Malware[].State"),
    "NetworkDirection": ("str", "Network.Direction"),
    "NetworkProtocol": ("str", "Network.Protocol"),
    "NetworkSourceIpV4": ("ip", "Network.SourceIpV4"),
    "NetworkSourceIpV6": ("ip", "Network.SourceIpV6"),
    "NetworkSourcePort": ("num", "Network.SourcePort"),
    "NetworkSourceDomain": ("str", "Network.SourceDomain"),
    "NetworkSourceMac": ("str", "Network.SourceMac"),
    "NetworkDestinationIpV4": ("ip", "Network.DestinationIpV4"),
    "NetworkDestinationIpV6": ("ip", "Network.DestinationIpV6"),
    "NetworkDestinationPort": ("num", "Network.DestinationPort"),
    "NetworkDestinationDomain": ("str", "Network.DestinationDomain"),
    "ProcessName": ("str", "Process.Name"),
    "ProcessPath": ("str", "Process.Path"),
    "ProcessPid": ("num", "Process.Pid"),
    "ProcessParentPid": ("num", "Process.ParentPid"),
    "ProcessLaunchedAt": ("date", "Process.LaunchedAt"),
    "ProcessTerminatedAt": ("date", "Process.TerminatedAt"),
    "ThreatIntelIndicatorType": ("str", "ThreatIntelIndicators[].Type"),
    "ThreatIntelIndicatorValue": ("str", "ThreatIntelIndicators[].Value"),
    "ThreatIntelIndicatorCategory": ("str", "ThreatIntelIndicators[].Category"),
    "ThreatIntelIndicatorLastObservedAt": ("date", "ThreatIntelIndicators[].LastObservedAt"),
    "ThreatIntelIndicatorSource": ("str", "ThreatIntelIndicators[].Source"),
    "ThreatIntelIndicatorSourceUrl": ("str", "ThreatIntelIndicators[].SourceUrl"),
    "ResourceType": ("str", "Resources[].Type"),
    "ResourceId": ("str", "Resources[].Id"),
    "ResourcePartition": ("str", "Resources[].Partition"),
    "ResourceRegion": ("str", "Resources[].Region"),
    "ResourceTags": ("map", "Resources[].Tags"),
    "ResourceAwsEc2InstanceType": ("str", "Resources[].Details.AwsEc2Instance.Type"),
    "ResourceAwsEc2InstanceImageId": ("str", "Resources[].Details.AwsEc2Instance.ImageId"),
    "ResourceAwsEc2InstanceIpV4Addresses": ("ip", "Resources[].Details.AwsEc2Instance.IpV4Addresses[]"),
    "ResourceAwsEc2InstanceIpV6Addresses": ("ip", "Resources[].Details.AwsEc2Instance.IpV6Addresses[]"),
    "ResourceAwsEc2InstanceKeyName": ("str", "Resources[].Details.AwsEc2Instance.KeyName"),
    "ResourceAwsEc2InstanceIamInstanceProfileArn": ("str", "Resources[].Details.AwsEc2Instance.IamInstanceProfileArn"),
    "ResourceAwsEc2InstanceVpcId": ("str", "Resources[].Details.AwsEc2Instance.VpcId"),
    "ResourceAwsEc2InstanceSubnetId": ("str", "Resources[].Details.AwsEc2Instance.SubnetId"),
    "ResourceAwsEc2InstanceLaunchedAt": ("date", "Resources[].Details.AwsEc2Instance.LaunchedAt"),
    "ResourceAwsS3BucketOwnerId": ("str", "Resources[].Details.AwsS3Bucket.OwnerId"),
    "ResourceAwsS3BucketOwnerName": ("str", "Resources[].Details.AwsS3Bucket.OwnerName"),
    "ResourceAwsIamAccessKeyUserName": ("str", "Resources[].Details.AwsIamAccessKey.UserName"),
    "ResourceAwsIamAccessKeyPrincipalName": ("str", "Resources[].Details.AwsIamAccessKey.PrincipalName"),
    "ResourceAwsIamAccessKeyStatus": ("str", "Resources[].Details.AwsIamAccessKey.Status"),
    "ResourceAwsIamAccessKeyCreatedAt": ("date", "Resources[].Details.AwsIamAccessKey.CreatedAt"),
    "ResourceAwsIamUserUserName": ("str", "Resources[].Details.AwsIamUser.UserName"),
    "ResourceContainerName": ("str", "Resources[].Details.Container.Name"),
    "ResourceContainerImageId": ("str", "Resources[].Details.Container.ImageId"),
    "ResourceContainerImageName": ("str", "Resources[].Details.Container.ImageName"),
    "ResourceContainerLaunchedAt": ("date", "Resources[].Details.Container.LaunchedAt"),
    "ResourceDetailsOther": ("map", "Resources[].Details.Other"),
    "ComplianceStatus": ("str", "Compliance.Status"),
    "VerificationState": ("str", "VerificationState"),
    "WorkflowState": ("str", "WorkflowState"),
    "WorkflowStatus": ("str", "Workflow.Status"),
    "RecordState": ("str", "RecordState"),
    "RelatedFindingsProductArn": ("str", "RelatedFindings[].ProductArn"),
    "RelatedFindingsId": ("str", "RelatedFindings[].Id"),
    "NoteText": ("str", "Note.Text"),
    "NoteUpdatedAt": ("date", "Note.UpdatedAt"),
    "NoteUpdatedBy": ("str", "Note.UpdatedBy"),
    "Keyword": ("keyword", ""),
    "FindingProviderFieldsConfidence": ("num", "FindingProviderFields.Confidence"),
    "FindingProviderFieldsCriticality": ("num", "FindingProviderFields.Criticality"),
    "FindingProviderFieldsRelatedFindingsId": ("str", "FindingProviderFields.RelatedFindings[].Id"),
    "FindingProviderFieldsRelatedFindingsProductArn": ("str", "FindingProviderFields.RelatedFindings[].ProductArn"),
    "FindingProviderFieldsSeverityLabel": ("str", "FindingProviderFields.Severity.Label"),
    "FindingProviderFieldsSeverityOriginal": ("str", "FindingProviderFields.Severity.Original"),
    "FindingProviderFieldsTypes": ("str", "FindingProviderFields.Types[]"),
    "Sample": ("bool", "Sample"),
    "ComplianceSecurityControlId": ("str", "Compliance.SecurityControlId"),
    "ComplianceAssociatedStandardsId": ("str", "Compliance.AssociatedStandards[].StandardsId"),
    "VulnerabilitiesExploitAvailable": ("str", "Vulnerabilities[].ExploitAvailable"),
    "VulnerabilitiesFixAvailable": ("str", "Vulnerabilities[].FixAvailable"),
    "ComplianceSecurityControlParametersName": ("str", "Compliance.SecurityControlParameters[].Name"),
    "ComplianceSecurityControlParametersValue": ("str", "Compliance.SecurityControlParameters[].Value[]"),
    "AwsAccountName": ("str", "AwsAccountName"),
    "ResourceApplicationName": ("str", "Resources[].ApplicationName"),
    "ResourceApplicationArn": ("str", "Resources[].ApplicationArn"),
}
_PATHS = {name: _p(path) for name, (kind, path) in FIELDS.items() if path}

# Precomputed per finding (no JSON parsing needed to filter or sort on them).
HOT = ("ProductArn", "AwsAccountId", "Id", "GeneratorId", "Region", "Type",
       "SeverityLabel", "Title", "ProductName", "ResourceType", "ResourceId",
       "ComplianceStatus", "ComplianceSecurityControlId",
       "ComplianceAssociatedStandardsId", "RecordState", "WorkflowStatus",
       "WorkflowState", "FirstObservedAt", "LastObservedAt", "CreatedAt",
       "UpdatedAt")


def _extract(obj, segs):
    cur = [obj]
    for key, many in segs:
        nxt = []
        for o in cur:
            if isinstance(o, dict):
                v = o.get(key)
                if v is None:
                    continue
                if many:
                    if isinstance(v, list):
                        nxt.extend(x for x in v if x is not None)
                else:
                    nxt.append(v)
        cur = nxt
        if not cur:
            break
    return cur


def _typed(kind, raw_values):
    """Leaf values of one attribute, as a tuple of comparable values."""
    if kind in ("str", "ip"):
        return tuple(v for v in raw_values if isinstance(v, str))
    if kind == "date":
        return tuple(t for t in (parse_ts(v) for v in raw_values) if t is not None)
    if kind == "num":
        return tuple(float(v) for v in raw_values
                     if isinstance(v, (int, float)) and not isinstance(v, bool))
    if kind == "bool":
        return tuple(v for v in raw_values if isinstance(v, bool))
    if kind == "map":
        return tuple(v for v in raw_values if isinstance(v, dict))
    return ()


def field_values(finding, name):
    """The values of filter attribute `name` in an ASFF dict (a tuple)."""
    kind = FIELDS[name][0]
    return _typed(kind, _extract(finding, _PATHS[name]))


def _plain_getter(name):
    """A faster field_values for a path without lists (most hot fields)."""
    segs = _PATHS[name]
    if any(many for _, many in segs):
        return lambda obj: field_values(obj, name)
    keys = [k for k, _ in segs]
    kind = FIELDS[name][0]

    def get(obj):
        for k in keys:
            if not isinstance(obj, dict):
                return ()
            obj = obj.get(k)
        if kind == "str":
            return (obj,) if isinstance(obj, str) else ()
        if kind == "date":
            t = parse_ts(obj)
            return () if t is None else (t,)
        return _typed(kind, () if obj is None else (obj,))
    return get


_intern = sys.intern
_SHARED = {}      # one tuple object per distinct short hot value tuple (memory)

# The hot values are kept in three forms (memory: ~1M findings at 500k):
# the attributes many findings share (generator, status, severity, title,
# ...) as one interned tuple per distinct combination; ResourceId as a tuple
# shared by the findings of one resource; the four dates as one packed
# bytes object (UpdatedAt also as the int `upd`, the order key).
_DATES = ("FirstObservedAt", "LastObservedAt", "CreatedAt", "UpdatedAt")
_OWN = ("Id", "ResourceId") + _DATES
_COMBO = tuple(n for n in HOT if n not in _OWN)
_COMBO_GETTERS = [(name, _plain_getter(name), FIELDS[name][0] == "str") for name in _COMBO]
_PACK = struct.Struct("<4q")
_NO_DATE = -(1 << 63)          # an absent date in the packed form


def _hot_reader(name):
    """f -> the tuple of values of hot attribute `name` of finding f."""
    if name == "Id":
        return lambda f: (f.id,)
    if name == "ResourceId":
        return lambda f: f.rid
    if name == "UpdatedAt":
        return lambda f: (f.upd,)
    if name in _DATES:
        k = _DATES.index(name)

        def date(f):
            t = _PACK.unpack(f.dates)[k]
            return () if t == _NO_DATE else (t,)
        return date
    j = _COMBO.index(name)
    return lambda f: f.combo[j]


_HOT_READ = {name: _hot_reader(name) for name in HOT}


def _shared(vals):
    if len(_SHARED) < 1_000_000:
        return _SHARED.setdefault(vals, vals)
    return vals


class _Finding:
    """One stored finding: where its JSON text is (`src`: an offset into its
    hub's findings.ndjson with `ln` bytes, or the bytes themselves for a
    staged finding) and its hot values (see _hot_reader)."""
    __slots__ = ("src", "ln", "id", "upd", "combo", "rid", "dates")

    def __init__(self, src, ln, obj, rids=None):
        self.src = src
        self.ln = ln
        combo = []
        for name, get, is_str in _COMBO_GETTERS:
            vals = get(obj)
            if vals and is_str:
                vals = tuple(_intern(v) if len(v) <= 128 else v for v in vals)
            combo.append(vals)
        self.combo = _shared(tuple(combo))
        rid = _HOT_GET_RID(obj)
        self.rid = rids.setdefault(rid, rid) if rids is not None else rid
        dates = []
        for get in _DATE_GETTERS:
            vals = get(obj)
            dates.append(vals[0] if vals else _NO_DATE)
        self.dates = _PACK.pack(*dates)
        self.id = obj["Id"]
        self.upd = dates[3]


_HOT_GET_RID = _plain_getter("ResourceId")
_TS_MEMO = {}


def _date_getter(name):
    """_plain_getter for a top-level date, memoising parse_ts per text (the
    four dates of a finding and of its neighbours are often the same)."""
    memo = _TS_MEMO

    def get(obj):
        text = obj.get(name)
        if not isinstance(text, str):
            return ()
        t = memo.get(text)
        if t is None:
            t = parse_ts(text)
            if t is None:
                return ()
            if len(memo) > 100_000:
                memo.clear()
            memo[text] = t
        return (t,)
    return get


_DATE_GETTERS = [_date_getter(n) for n in _DATES]


def _make_finding(obj, where, src=None, ln=0, rids=None):
    """src/ln: where the object's JSON text is in its file (kept there, read
    back when the finding is returned); None to keep obj serialised in
    memory (staged findings)."""
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: a finding must be a JSON object")
    fid = obj.get("Id")
    if not isinstance(fid, str) or not fid:
        raise DatasetError(f"{where}: finding has no string Id")
    if parse_ts(obj.get("UpdatedAt")) is None:
        raise DatasetError(f"{where}: finding {fid}: UpdatedAt {obj.get('UpdatedAt')!r} "
                           "is missing or not an RFC 3339 timestamp")
    if src is None:
        src = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        ln = len(src)
    return _Finding(src, ln, obj, rids)


class _Hub:
    """Security Hub of one account+region: its securityhub.json state and
    (lazily) its findings."""

    def __init__(self, account, region, directory, conf):
        self.account = account
        self.region = region
        self.dir = directory
        self.conf = conf            # parsed securityhub.json, or None (not enabled)
        self.findings = None        # Id -> _Finding, None until loaded
        self.order = None           # findings by (UpdatedAt desc, Id asc); None = stale
        self.neg_upd = None         # array of -upd for f in order, ascending, for bisect
        self.version = 0
        self.file = None            # findings.ndjson, open (binary) once loaded

    def load(self):
        if self.findings is not None:
            return
        findings = {}
        path = os.path.join(self.dir, "findings.ndjson") if self.dir else None
        if path and os.path.exists(path):
            fh = open(path, "rb")
            try:
                rids = {}
                off = 0
                for lineno, line in enumerate(fh, 1):
                    start, n = off, len(line)
                    off += n
                    text = line.strip()
                    if not text:
                        continue
                    where = f"{path}:{lineno}"
                    try:
                        obj = json.loads(text.decode("utf-8"))
                    except UnicodeDecodeError as e:
                        raise DatasetError(f"{where}: not UTF-8: {e}") from None
                    except ValueError as e:
                        raise DatasetError(f"{where}: not JSON: {e}") from None
                    f = _make_finding(obj, where, start + (n - len(line.lstrip())), len(text), rids)
                    if f.id in findings:
                        raise DatasetError(f"{where}: duplicate finding Id {f.id}")
                    findings[f.id] = f
            except BaseException:
                fh.close()
                raise
            self.file = fh
        self.findings = findings
        self.order = None
        self.version += 1

    def raw(self, f):
        """The JSON text (bytes) of one of this hub's findings."""
        if isinstance(f.src, bytes):
            return f.src
        data = os.pread(self.file.fileno(), f.ln, f.src)
        if len(data) != f.ln:
            raise DatasetError(f"{self.file.name}: changed on disk since it was loaded "
                               "(reload the emulator)")
        return data

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None

    def ordered(self):
        self.load()
        if self.order is None:
            self.order = sorted(self.findings.values(), key=lambda f: (-f.upd, f.id))
            self.neg_upd = array.array("q", (-f.upd for f in self.order))
        return self.order


# ------------------------------------------------------- filter compilation

def _str_pred(comparison, value):
    if comparison in ("EQUALS", "NOT_EQUALS"):
        return lambda v: v == value
    if comparison in ("PREFIX", "PREFIX_NOT_EQUALS"):
        return lambda v: v.startswith(value)
    return lambda v: value in v          # CONTAINS / NOT_CONTAINS


_POSITIVE = ("EQUALS", "PREFIX", "CONTAINS")
_NEGATIVE = ("NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS")


def _compile_string(name, flist):
    pos, neg = [], []
    for i, f in enumerate(flist):
        if not isinstance(f, dict):
            raise _invalid_input(f"Filters.{name}[{i}] must be a StringFilter object")
        comp, value = f.get("Comparison"), f.get("Value")
        if not isinstance(value, str) or not value:
            raise _invalid_input(f"Filters.{name}[{i}]: Value is required")
        if comp == "CONTAINS_WORD":
            raise _invalid_input(f"Filters.{name}[{i}]: Comparison CONTAINS_WORD is only "
                                 "supported by GetFindingsV2 and the other V2 operations")
        if comp in _POSITIVE:
            pos.append(_str_pred(comp, value))
        elif comp in _NEGATIVE:
            neg.append(_str_pred(comp, value))
        else:
            raise _invalid_input(f"Filters.{name}[{i}]: Comparison {comp!r} is not one of "
                                 "EQUALS, PREFIX, NOT_EQUALS, PREFIX_NOT_EQUALS, CONTAINS, NOT_CONTAINS")

    def match(values):
        if pos and not any(p(v) for v in values for p in pos):
            return False
        for n in neg:
            if any(n(v) for v in values):
                return False
        return True
    return match


def _compile_map(name, flist):
    pos, neg = [], []
    for i, f in enumerate(flist):
        if not isinstance(f, dict):
            raise _invalid_input(f"Filters.{name}[{i}] must be a MapFilter object")
        key, value, comp = f.get("Key"), f.get("Value"), f.get("Comparison")
        if not isinstance(key, str) or not key or not isinstance(value, str) or not value:
            raise _invalid_input(f"Filters.{name}[{i}]: Key and Value are required")
        if comp in ("EQUALS", "CONTAINS"):
            pos.append((key, _str_pred(comp, value)))
        elif comp in ("NOT_EQUALS", "NOT_CONTAINS"):
            neg.append((key, _str_pred(comp, value)))
        else:
            raise _invalid_input(f"Filters.{name}[{i}]: Comparison {comp!r} is not one of "
                                 "EQUALS, NOT_EQUALS, CONTAINS, NOT_CONTAINS")

    def hit(maps, key, pred):
        return any(isinstance(m.get(key), str) and pred(m[key]) for m in maps)

    def match(maps):
        if pos and not any(hit(maps, k, p) for k, p in pos):
            return False
        return not any(hit(maps, k, p) for k, p in neg)
    return match


def _compile_date(name, flist, now_ns):
    ranges = []
    for i, f in enumerate(flist):
        if not isinstance(f, dict):
            raise _invalid_input(f"Filters.{name}[{i}] must be a DateFilter object")
        start, end, dr = f.get("Start"), f.get("End"), f.get("DateRange")
        if dr is not None and (start is not None or end is not None):
            raise _invalid_input(f"Filters.{name}[{i}]: give either Start/End or DateRange, not both")
        if dr is not None:
            if not isinstance(dr, dict) or not isinstance(dr.get("Value"), int) \
                    or isinstance(dr.get("Value"), bool) or dr.get("Unit") != "DAYS":
                raise _invalid_input(f"Filters.{name}[{i}].DateRange needs an integer Value "
                                     "and Unit DAYS")
            if dr["Value"] < 0:
                raise _invalid_input(f"Filters.{name}[{i}].DateRange.Value must not be negative")
            comp = dr.get("Comparison", "WITHIN")
            cut = now_ns - dr["Value"] * DAY_NS
            if comp == "WITHIN":
                ranges.append((cut, now_ns))
            elif comp == "OLDER_THAN":
                ranges.append((None, cut - 1))
            else:
                raise _invalid_input(f"Filters.{name}[{i}].DateRange.Comparison {comp!r} "
                                     "is not WITHIN or OLDER_THAN")
            continue
        if start is None and end is None:
            raise _invalid_input(f"Filters.{name}[{i}]: a DateFilter needs Start, End or DateRange")
        lo = hi = None
        if start is not None:
            lo = parse_ts(start)
            if lo is None:
                raise _invalid_input(f"Filters.{name}[{i}].Start {start!r} is not a valid "
                                     "timestamp (RFC 3339, e.g. 2024-01-31T10:00:00.000Z)")
        if end is not None:
            hi = parse_ts(end)
            if hi is None:
                raise _invalid_input(f"Filters.{name}[{i}].End {end!r} is not a valid "
                                     "timestamp (RFC 3339, e.g. 2024-01-31T10:00:00.000Z)")
        ranges.append((lo, hi))

    def match(values):
        return any((lo is None or v >= lo) and (hi is None or v <= hi)
                   for v in values for lo, hi in ranges)
    return match, ranges


_NUM_OPS = {"Gte": lambda v, x: v >= x, "Lte": lambda v, x: v <= x,
            "Gt": lambda v, x: v > x, "Lt": lambda v, x: v < x,
            "Eq": lambda v, x: v == x}


def _compile_number(name, flist):
    alts = []
    for i, f in enumerate(flist):
        if not isinstance(f, dict):
            raise _invalid_input(f"Filters.{name}[{i}] must be a NumberFilter object")
        conds = []
        for op, fn in _NUM_OPS.items():
            x = f.get(op)
            if x is None:
                continue
            if not isinstance(x, (int, float)) or isinstance(x, bool):
                raise _invalid_input(f"Filters.{name}[{i}].{op} must be a number")
            conds.append((fn, float(x)))
        if not conds:
            raise _invalid_input(f"Filters.{name}[{i}]: a NumberFilter needs Gte, Lte, Gt, Lt or Eq")
        alts.append(conds)

    def match(values):
        return any(all(fn(v, x) for fn, x in conds) for v in values for conds in alts)
    return match


def _compile_ip(name, flist):
    nets = []
    for i, f in enumerate(flist):
        cidr = f.get("Cidr") if isinstance(f, dict) else None
        try:
            nets.append(ipaddress.ip_network(cidr, strict=False))
        except (TypeError, ValueError):
            raise _invalid_input(f"Filters.{name}[{i}].Cidr {cidr!r} is not a valid CIDR") from None

    def match(values):
        for v in values:
            try:
                addr = ipaddress.ip_address(v.split("/")[0])
            except ValueError:
                continue
            if any(addr.version == n.version and addr in n for n in nets):
                return True
        return False
    return match


def _compile_bool(name, flist):
    wanted = set()
    for i, f in enumerate(flist):
        v = f.get("Value") if isinstance(f, dict) else None
        if not isinstance(v, bool):
            raise _invalid_input(f"Filters.{name}[{i}].Value must be true or false")
        wanted.add(v)
    return lambda values: any(v in wanted for v in values)


class _Query:
    """Compiled Filters: a list of (field, matcher) and UpdatedAt bounds."""

    def __init__(self, filters, now_ns):
        if filters is None:
            filters = {}
        if not isinstance(filters, dict):
            raise _invalid_input("Filters must be an AwsSecurityFindingFilters object")
        used = {k: v for k, v in filters.items() if v}
        if len(used) > MAX_FILTER_FIELDS:
            raise _invalid_input(f"Filters: at most {MAX_FILTER_FIELDS} finding attributes "
                                 f"may be filtered on, got {len(used)}")
        self.preds = []
        self.upd_lo = self.upd_hi = None
        self.upd_pruned = False
        for name, flist in used.items():
            if name not in FIELDS:
                raise _invalid_input(f"Filters.{name} is not a finding attribute that can be filtered on")
            if not isinstance(flist, list):
                raise _invalid_input(f"Filters.{name} must be a list")
            if len(flist) > MAX_FILTERS_PER_FIELD:
                raise _invalid_input(f"Filters.{name}: at most {MAX_FILTERS_PER_FIELD} filter "
                                     f"values per attribute, got {len(flist)}")
            kind = FIELDS[name][0]
            if kind == "str":
                m = _compile_string(name, flist)
            elif kind == "date":
                m, ranges = _compile_date(name, flist, now_ns)
                if name == "UpdatedAt":
                    los = [lo for lo, _ in ranges]
                    his = [hi for _, hi in ranges]
                    self.upd_lo = None if None in los else min(los)
                    self.upd_hi = None if None in his else max(his)
                    self.upd_pruned = True
            elif kind == "num":
                m = _compile_number(name, flist)
            elif kind == "map":
                m = _compile_map(name, flist)
            elif kind == "ip":
                m = _compile_ip(name, flist)
            elif kind == "bool":
                m = _compile_bool(name, flist)
            else:
                raise _invalid_input(f"Filters.{name}: the deprecated Keyword filter is not supported")
            self.preds.append((name, _HOT_READ.get(name), m))

    def matches(self, f, hub):
        obj = None
        for name, read, m in self.preds:
            if read is not None:
                values = read(f)
            else:
                if obj is None:
                    obj = json.loads(hub.raw(f))
                values = field_values(obj, name)
            if not m(values):
                return False
        return True


def _sort_key_fn(name, hub):
    kind = FIELDS[name][0]
    read = _HOT_READ.get(name)

    def key(f):
        vals = read(f) if read is not None else field_values(json.loads(hub.raw(f)), name)
        return vals[0] if vals else None
    return kind, key


# ------------------------------------------------------------------- service

class Service:
    """Security Hub.  See the module docstring for the semantics."""

    name = "securityhub"

    def __init__(self, state):
        self.state = state
        self._lock = threading.RLock()
        self._hubs = {}
        self._catalog = {"standards": [], "security_controls": []}
        self._std_by_key = {}
        self._sc_by_id = {}
        self._cache = collections.OrderedDict()
        self.reload()

    # ---------------------------------------------------------- dataset

    def _data_dir(self):
        v = getattr(self.state, "data_dir", None)
        if not isinstance(v, (str, os.PathLike)):
            raise DatasetError("securityhub: the emulator state has no dataset directory "
                               "(state.data_dir)")
        return os.fspath(v)

    def reload(self):
        """Re-read securityhub-catalog.json and every securityhub.json now;
        findings are re-read lazily.  Staged puts/deletes are discarded.
        Raises DatasetError naming the file at fault."""
        with self._lock:
            root = self._data_dir()
            catalog = self._read_catalog(os.path.join(root, "securityhub-catalog.json"))
            hubs = {}
            acc_root = os.path.join(root, "accounts")
            if os.path.isdir(acc_root):
                for account in sorted(os.listdir(acc_root)):
                    adir = os.path.join(acc_root, account)
                    if not os.path.isdir(adir):
                        continue
                    for region in sorted(os.listdir(adir)):
                        rdir = os.path.join(adir, region)
                        if not os.path.isdir(rdir):
                            continue
                        conf = None
                        p = os.path.join(rdir, "securityhub.json")
                        if os.path.exists(p):
                            conf = self._read_hub_conf(p, catalog)
                        hubs[(account, region)] = _Hub(account, region, rdir, conf)
            self._catalog = catalog
            self._std_by_key = {_std_key(s["StandardsArn"]): s for s in catalog["standards"]}
            self._sc_by_id = {c["SecurityControlId"]: c for c in catalog["security_controls"]}
            for old in self._hubs.values():
                old.close()
            self._hubs = hubs
            self._cache.clear()

    def close(self):
        """At shutdown: closes the findings files held open by loaded hubs
        and forgets their findings (staged ones included); a later request
        loads the files again."""
        with self._lock:
            for hub in self._hubs.values():
                hub.close()
                hub.findings = None
                hub.order = None
            self._cache.clear()

    @staticmethod
    def _read_json(path):
        try:
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
        except ValueError as e:
            raise DatasetError(f"{path}: not valid JSON: {e}") from None
        except OSError as e:
            raise DatasetError(f"{path}: cannot read: {e.strerror}") from None

    def _read_catalog(self, path):
        if not os.path.exists(path):
            return {"standards": [], "security_controls": []}
        doc = self._read_json(path)
        if not isinstance(doc, dict):
            raise DatasetError(f"{path}: must be a JSON object")
        standards = doc.get("standards", [])
        controls = doc.get("security_controls", [])
        if not isinstance(standards, list) or not isinstance(controls, list):
            raise DatasetError(f"{path}: 'standards' and 'security_controls' must be lists")
        sc_ids = set()
        for i, c in enumerate(controls):
            where = f"{path}: security_controls[{i}]"
            if not isinstance(c, dict):
                raise DatasetError(f"{where}: must be an object")
            for k in ("SecurityControlId", "Title", "Description", "RemediationUrl",
                      "SeverityRating", "CurrentRegionAvailability"):
                if not isinstance(c.get(k), str) or not c.get(k):
                    raise DatasetError(f"{where}: {k} is required (a non-empty string)")
            if c["SecurityControlId"] in sc_ids:
                raise DatasetError(f"{where}: duplicate SecurityControlId {c['SecurityControlId']}")
            sc_ids.add(c["SecurityControlId"])
        keys = set()
        for i, s in enumerate(standards):
            where = f"{path}: standards[{i}]"
            if not isinstance(s, dict):
                raise DatasetError(f"{where}: must be an object")
            arn = s.get("StandardsArn")
            if not isinstance(arn, str) or _std_key(arn) is None:
                raise DatasetError(f"{where}: StandardsArn {arn!r} is not a Security Hub "
                                   "standards ARN (arn:aws:securityhub:[region]::standards/... or ::ruleset/...)")
            if _std_key(arn) in keys:
                raise DatasetError(f"{where}: duplicate StandardsArn {arn}")
            keys.add(_std_key(arn))
            ctl = s.get("controls", [])
            if not isinstance(ctl, list):
                raise DatasetError(f"{where}: 'controls' must be a list")
            pairs = set()
            for j, c in enumerate(ctl):
                cw = f"{where}.controls[{j}]"
                if not isinstance(c, dict) or not isinstance(c.get("ControlId"), str) or not c["ControlId"]:
                    raise DatasetError(f"{cw}: needs a ControlId string")
                sid = c.get("SecurityControlId")
                # A ControlId alone is not unique (CIS v3.0.0 2.1.4 is S3.1 and S3.8)
                if (c["ControlId"], sid) in pairs:
                    raise DatasetError(f"{cw}: duplicate control {c['ControlId']} / {sid}")
                pairs.add((c["ControlId"], sid))
                if sid is not None and sid not in sc_ids:
                    raise DatasetError(f"{cw}: SecurityControlId {sid!r} is not in security_controls")
        return {"standards": standards, "security_controls": controls}

    def _read_hub_conf(self, path, catalog):
        conf = self._read_json(path)
        if not isinstance(conf, dict):
            raise DatasetError(f"{path}: must be a JSON object")
        subs = conf.get("standards_subscriptions", [])
        if not isinstance(subs, list):
            raise DatasetError(f"{path}: standards_subscriptions must be a list")
        known = {_std_key(s["StandardsArn"]) for s in catalog["standards"]}
        for i, s in enumerate(subs):
            where = f"{path}: standards_subscriptions[{i}]"
            if not isinstance(s, dict):
                raise DatasetError(f"{where}: must be an object")
            for k in ("StandardsArn", "StandardsSubscriptionArn", "StandardsStatus"):
                if not isinstance(s.get(k), str) or not s.get(k):
                    raise DatasetError(f"{where}: {k} is required (a non-empty string)")
            if _std_key(s["StandardsArn"]) not in known:
                raise DatasetError(f"{where}: StandardsArn {s['StandardsArn']} is not in "
                                   "securityhub-catalog.json")
            if _sub_arn_parts(s["StandardsSubscriptionArn"]) is None:
                raise DatasetError(f"{where}: StandardsSubscriptionArn "
                                   f"{s['StandardsSubscriptionArn']} is not a subscription ARN")
        disabled = conf.get("disabled_controls", [])
        if not isinstance(disabled, list) or not all(isinstance(x, str) for x in disabled):
            raise DatasetError(f"{path}: disabled_controls must be a list of control ids")
        if "subscribed_at" in conf and parse_ts(conf["subscribed_at"]) is None:
            raise DatasetError(f"{path}: subscribed_at {conf['subscribed_at']!r} is not a timestamp")
        return conf

    def _hub(self, account, region, create=False):
        hub = self._hubs.get((account, region))
        if hub is None and create:
            hub = _Hub(account, region, None, None)
            self._hubs[(account, region)] = hub
        return hub

    def _enabled_hub(self, ctx):
        hub = self._hubs.get((ctx.account_id, ctx.region))
        if hub is None or hub.conf is None:
            raise _not_subscribed(ctx.account_id)
        return hub

    # ------------------------------------------------------ staged drift

    def put_findings(self, account, region, findings):
        """Upsert ASFF findings (dicts, matched by Id) into account/region.

        The findings are stored exactly as given (GetFindings returns them
        as they are), so the caller sets UpdatedAt etc. itself.  Each needs a
        non-empty string Id and an RFC 3339 UpdatedAt.  Works whether or not
        Security Hub is enabled there (GetFindings still answers "not
        subscribed" without a securityhub.json).  Returns the number of
        findings stored.  Raises DatasetError (naming the list index) and
        stores nothing when one finding is malformed."""
        if not isinstance(findings, list):
            raise DatasetError("put_findings: findings must be a list of ASFF objects")
        made = [_make_finding(obj, f"put_findings[{i}]") for i, obj in enumerate(findings)]
        with self._lock:
            hub = self._hub(account, region, create=True)
            hub.load()
            for f in made:
                hub.findings[f.id] = f
            hub.order = None
            hub.version += 1
            self._cache.clear()
        return len(made)

    def delete_findings(self, account, region, ids):
        """Remove the findings with these Ids from account/region.  Returns
        the list of Ids that were not there (nothing else happens for
        them).  Raises DatasetError when ids is not a list of strings."""
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise DatasetError("delete_findings: ids must be a list of finding Id strings")
        missing = []
        with self._lock:
            hub = self._hub(account, region)
            if hub is None:
                return list(ids)
            hub.load()
            for i in ids:
                if hub.findings.pop(i, None) is None:
                    missing.append(i)
            hub.order = None
            hub.version += 1
            self._cache.clear()
        return missing

    def preload(self):
        """Reads every hub's findings now (POST /__emulator/preload) instead of at its
        first GetFindings; returns the number of hubs."""
        with self._lock:
            hubs = list(self._hubs.values())
            for hub in hubs:
                hub.load()
        return len(hubs)

    def control(self, action, doc):
        """The control API hook: POST /__emulator/findings/<action> with a
        JSON body `doc` (the server calls this under the state lock).

        findings/put     {"account": "111111111111", "region": "us-east-1",
                          "findings": [ASFF, ...]}  -> {"stored": N}
        findings/delete  {"account": ..., "region": ..., "ids": [Id, ...]}
                          -> {"deleted": N, "missing": [Id, ...]}

        Bad input raises DatasetError (the server answers 400 with the
        message)."""
        if action not in ("put", "delete"):
            raise DatasetError(f"findings/{action}: unknown action (use findings/put or "
                               "findings/delete)")
        if not isinstance(doc, dict):
            raise DatasetError(f"findings/{action}: body must be a JSON object")
        account, region = doc.get("account"), doc.get("region")
        if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
            raise DatasetError(f"findings/{action}: 'account' must be a 12-digit account id, "
                               f"got {account!r}")
        if not isinstance(region, str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
            raise DatasetError(f"findings/{action}: 'region' must be a region name, got {region!r}")
        if action == "put":
            if "findings" not in doc:
                raise DatasetError("findings/put: 'findings' (a list of ASFF objects) is required")
            return {"stored": self.put_findings(account, region, doc["findings"])}
        if "ids" not in doc:
            raise DatasetError("findings/delete: 'ids' (a list of finding Ids) is required")
        ids = doc["ids"]
        missing = self.delete_findings(account, region, ids)
        return {"deleted": len(ids) - len(missing), "missing": missing}

    # ------------------------------------------------------------ dispatch

    def handle_raw(self, ctx, operation, params):
        """handle() for the HTTP server: GetFindings returns the findings as
        model.RawJson (their stored JSON text, not parsed and re-encoded);
        every other answer is the same as handle()'s."""
        return self.handle(ctx, operation, params, _raw=True)

    def handle(self, ctx, operation, params, _raw=False):
        fn = {
            "GetFindings": self._get_findings,
            "GetEnabledStandards": self._get_enabled_standards,
            "DescribeHub": self._describe_hub,
            "DescribeStandards": self._describe_standards,
            "DescribeStandardsControls": self._describe_standards_controls,
            "ListSecurityControlDefinitions": self._list_security_control_definitions,
        }.get(operation)
        if fn is None:
            raise ApiError(400, "InvalidInputException",
                           f"Operation {operation} is not supported by the emulator's Security Hub")
        params = dict(params or {})
        with self._lock:
            try:
                if _raw and operation == "GetFindings":
                    return self._get_findings(ctx, params, raw=True)
                return fn(ctx, params)
            except DatasetError as e:
                raise ApiError(500, "InternalException", f"emulator dataset error: {e}",
                               sender_fault=False) from None

    # ---------------------------------------------------------- helpers

    @staticmethod
    def _page_size(params, default):
        n = params.get("MaxResults")
        if n is None:
            return default
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 100:
            raise _invalid_input(f"MaxResults {n!r} must be an integer between 1 and 100")
        return n

    @staticmethod
    def _start(ctx, operation, params):
        tok = params.get("NextToken")
        if tok is None or tok == "":
            return 0
        off = tokens.parse(tok, operation, ctx.account_id, ctx.region, params)
        if off is None:
            raise _invalid_input("The NextToken is invalid or does not belong to this request")
        return off

    def _paginate(self, ctx, operation, params, items, default, key):
        size = self._page_size(params, default)
        start = self._start(ctx, operation, params)
        page = items[start:start + size]
        out = {key: page}
        if start + size < len(items):
            out["NextToken"] = tokens.make(operation, ctx.account_id, ctx.region, params,
                                           start + size)
        return out

    # --------------------------------------------------------- GetFindings

    def _get_findings(self, ctx, params, raw=False):
        hub = self._enabled_hub(ctx)
        size = self._page_size(params, GET_FINDINGS_DEFAULT)
        start = self._start(ctx, "GetFindings", params)
        now_ns = int(float(ctx.now) * NS)
        query = _Query(params.get("Filters"), now_ns)
        sort = self._sort_spec(params.get("SortCriteria"))
        matched = self._matching(hub, query, sort, params, now_ns)
        page = matched[start:start + size]
        if raw:
            # the stored text itself, spliced into the answer (server path)
            out = {"Findings": [RawJson(hub.raw(f)) for f in page]}
        else:
            out = {"Findings": [json.loads(hub.raw(f)) for f in page]}
        if start + size < len(matched):
            out["NextToken"] = tokens.make("GetFindings", ctx.account_id, ctx.region,
                                           params, start + size)
        return out

    @staticmethod
    def _sort_spec(criteria):
        if criteria is None:
            return []
        if not isinstance(criteria, list):
            raise _invalid_input("SortCriteria must be a list")
        spec = []
        for i, c in enumerate(criteria):
            if not isinstance(c, dict) or not isinstance(c.get("Field"), str):
                raise _invalid_input(f"SortCriteria[{i}] needs a Field")
            field = c["Field"]
            if field not in FIELDS or FIELDS[field][0] in ("map", "keyword"):
                raise _invalid_input(f"SortCriteria[{i}].Field {field!r} is not a sortable "
                                     "finding attribute")
            order = c.get("SortOrder", "asc")
            if order not in ("asc", "desc"):
                raise _invalid_input(f"SortCriteria[{i}].SortOrder {order!r} is not asc or desc")
            spec.append((field, order == "desc"))
        return spec

    def _matching(self, hub, query, sort, params, now_ns):
        """All findings of hub matching the query, in response order.  The
        result is cached per (hub version, query) for cheap paging."""
        hub.load()
        ckey = None
        if not any(isinstance(f, dict) and "DateRange" in f
                   for flist in (params.get("Filters") or {}).values()
                   if isinstance(flist, list) for f in flist):
            ckey = (hub.account, hub.region, hub.version,
                    hashlib.sha256(json.dumps([params.get("Filters"), params.get("SortCriteria")],
                                              sort_keys=True, default=str).encode()).hexdigest())
            hit = self._cache.get(ckey)
            if hit is not None:
                self._cache.move_to_end(ckey)
                return hit
        order = hub.ordered()
        lo_i, hi_i = 0, len(order)
        if query.upd_pruned:
            if query.upd_hi is not None:
                lo_i = bisect.bisect_left(hub.neg_upd, -query.upd_hi)
            if query.upd_lo is not None:
                hi_i = bisect.bisect_right(hub.neg_upd, -query.upd_lo)
        cand = order[lo_i:hi_i] if (lo_i, hi_i) != (0, len(order)) else order
        result = [f for f in cand if query.matches(f, hub)] if query.preds else list(cand)
        for field, desc in reversed(sort):
            kind, keyfn = _sort_key_fn(field, hub)
            keyed = [(keyfn(f), f) for f in result]
            present = [(k, f) for k, f in keyed if k is not None]
            missing = [f for k, f in keyed if k is None]
            present.sort(key=lambda kf: kf[0], reverse=desc)
            result = [f for _, f in present] + missing
        if ckey is not None:
            self._cache[ckey] = result
            while len(self._cache) > 8:
                self._cache.popitem(last=False)
        return result

    # --------------------------------------------------------- standards

    def _get_enabled_standards(self, ctx, params):
        hub = self._enabled_hub(ctx)
        subs = hub.conf.get("standards_subscriptions", [])
        wanted = params.get("StandardsSubscriptionArns")
        if wanted is not None:
            if not isinstance(wanted, list) or not all(isinstance(a, str) for a in wanted):
                raise _invalid_input("StandardsSubscriptionArns must be a list of ARNs")
            for a in wanted:
                if _sub_arn_parts(a) is None:
                    raise _invalid_input(f"StandardsSubscriptionArns: {a!r} is not a valid "
                                         "standards subscription ARN")
            subs = [s for s in subs if s["StandardsSubscriptionArn"] in set(wanted)]
        items = [self._subscription_out(s) for s in subs]
        return self._paginate(ctx, "GetEnabledStandards", params, items,
                              PAGE_DEFAULTS["GetEnabledStandards"], "StandardsSubscriptions")

    def _describe_hub(self, ctx, params):
        """The hub's settings; ControlFindingGenerator follows securityhub.json's
        consolidated_controls (SECURITY_CONTROL when on), as the findings' style does."""
        hub = self._enabled_hub(ctx)
        arn = hub.conf.get("hub_arn") or f"arn:aws:securityhub:{ctx.region}:{ctx.account_id}:hub/default"
        wanted = params.get("HubArn")
        if wanted is not None and wanted != arn:
            raise ApiError(404, "ResourceNotFoundException", f"Hub {wanted} not found")
        out = {"HubArn": arn, "AutoEnableControls": True,
               "ControlFindingGenerator": "SECURITY_CONTROL"
               if hub.conf.get("consolidated_controls") else "STANDARD_CONTROL"}
        if hub.conf.get("subscribed_at"):
            out["SubscribedAt"] = hub.conf["subscribed_at"]
        return out

    @staticmethod
    def _subscription_out(s):
        out = {"StandardsSubscriptionArn": s["StandardsSubscriptionArn"],
               "StandardsArn": s["StandardsArn"],
               "StandardsInput": dict(s.get("StandardsInput") or {}),
               "StandardsStatus": s["StandardsStatus"]}
        for k in ("StandardsControlsUpdatable", "StandardsStatusReason"):
            if k in s:
                out[k] = s[k]
        return out

    def _describe_standards(self, ctx, params):
        self._enabled_hub(ctx)
        items = []
        for s in self._catalog["standards"]:
            out = {"StandardsArn": _regional(s["StandardsArn"], ctx.region)}
            for k in ("Name", "Description", "EnabledByDefault", "StandardsManagedBy"):
                if k in s:
                    out[k] = s[k]
            items.append(out)
        return self._paginate(ctx, "DescribeStandards", params, items,
                              PAGE_DEFAULTS["DescribeStandards"], "Standards")

    def _describe_standards_controls(self, ctx, params):
        hub = self._enabled_hub(ctx)
        arn = params.get("StandardsSubscriptionArn")
        if isinstance(arn, str) and "%" in arn:
            arn = urllib.parse.unquote(arn)
        if not isinstance(arn, str) or _sub_arn_parts(arn) is None:
            raise _invalid_input(f"StandardsSubscriptionArn {arn!r} is not a valid standards "
                                 "subscription ARN")
        sub = next((s for s in hub.conf.get("standards_subscriptions", [])
                    if s["StandardsSubscriptionArn"] == arn), None)
        if sub is None:
            raise ApiError(404, "ResourceNotFoundException",
                           f"StandardsSubscription {arn} not found")
        items = []
        if sub.get("StandardsControlsUpdatable") != "NOT_READY_FOR_UPDATES":
            std = self._std_by_key[_std_key(sub["StandardsArn"])]
            partition = arn.split(":")[1]
            std_path = _std_key(sub["StandardsArn"])[1].split("/", 1)[1]
            disabled = set(hub.conf.get("disabled_controls", []))
            # a hub with consolidated controls disables a security control
            # (EC2.21) in every standard that uses it, as AWS does
            consolidated = bool(hub.conf.get("consolidated_controls"))
            updated = hub.conf.get("subscribed_at")
            for c in std.get("controls", []):
                suffix = c["ControlId"][4:] if c["ControlId"].startswith("CIS.") else c["ControlId"]
                carn = (f"arn:{partition}:securityhub:{ctx.region}:{ctx.account_id}:"
                        f"control/{std_path}/{suffix}")
                out = {"StandardsControlArn": carn,
                       "ControlStatus": "DISABLED" if (
                           c["ControlId"] in disabled or carn in disabled or
                           (consolidated and c.get("SecurityControlId") in disabled))
                       else "ENABLED"}
                if updated is not None:
                    out["ControlStatusUpdatedAt"] = updated
                for k in ("ControlId", "Title", "Description", "RemediationUrl",
                          "SeverityRating", "RelatedRequirements"):
                    if k in c:
                        out[k] = c[k]
                items.append(out)
        params = dict(params, StandardsSubscriptionArn=arn)
        return self._paginate(ctx, "DescribeStandardsControls", params, items,
                              PAGE_DEFAULTS["DescribeStandardsControls"], "Controls")

    def _list_security_control_definitions(self, ctx, params):
        self._enabled_hub(ctx)
        std_arn = params.get("StandardsArn")
        if std_arn is None:
            defs = self._catalog["security_controls"]
        else:
            key = _std_key(std_arn) if isinstance(std_arn, str) else None
            std = self._std_by_key.get(key) if key else None
            if std is None:
                raise _invalid_input(f"StandardsArn {std_arn!r} is not a valid standard ARN")
            seen, defs = set(), []
            for c in std.get("controls", []):
                sid = c.get("SecurityControlId")
                if sid is not None and sid not in seen:
                    seen.add(sid)
                    defs.append(self._sc_by_id[sid])
        items = [dict(d) for d in defs]
        return self._paginate(ctx, "ListSecurityControlDefinitions", params, items,
                              PAGE_DEFAULTS["ListSecurityControlDefinitions"],
                              "SecurityControlDefinitions")


# ------------------------------------------------------------------ ARNs

_STD_ARN_RE = re.compile(r"^arn:([a-z-]+):securityhub:(\{region\}|[a-z0-9-]*)::((?:standards|ruleset)/.+)$")
_SUB_ARN_RE = re.compile(r"^arn:([a-z-]+):securityhub:([a-z0-9-]+):(\d{12}):subscription/.+$")


def _std_key(arn):
    """A standards ARN without its region (the catalogue is global; newer
    standards have regional ARNs, written in the catalogue with the region or
    a "{region}" placeholder): (partition, resource) or None."""
    m = _STD_ARN_RE.match(arn) if isinstance(arn, str) else None
    return (m.group(1), m.group(3)) if m else None


def _regional(arn, region):
    """arn:aws:securityhub:us-east-1::standards/... (or {region}) -> the
    caller's region; region-less ARNs (the CIS v1.2.0 ruleset) are returned unchanged."""
    m = _STD_ARN_RE.match(arn)
    if m and m.group(2):
        return f"arn:{m.group(1)}:securityhub:{region}::{m.group(3)}"
    return arn


def _sub_arn_parts(arn):
    m = _SUB_ARN_RE.match(arn) if isinstance(arn, str) else None
    return m.groups() if m else None
