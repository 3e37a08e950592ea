"""AWS Config (JSON 1.1): the read operations driftsync uses, over the dataset.

Design: configuration items live in a private on-disk SQLite database (an
empty file name: SQLite deletes it on close), one row per item version,
indexed by account, region, resource type and id; `current` marks the newest
version of each resource. An account/region is read from
accounts/<id>/<region>/resources.ndjson the first time a request needs it, so
a huge synthetic organisation costs nothing until queried. Several lines
for the same resource are its history (newest capture time is current); a
version whose configurationItemStatus is ResourceDeleted marks a deletion.
Staged drift (control endpoint) appends versions the same way, so
GetResourceConfigHistory shows it as AWS would. Advanced queries are parsed
by configsql.py and evaluated in Python over the rows in scope (resource
types in the WHERE clause are pushed down to SQLite, the WHERE clause is
compiled once per expression text); the full result list of a query (rows
already JSON-encoded) is cached, keyed by the versions of the accounts and
regions in its scope (loading or changing another account keeps it), at most
CACHE_MAX_ENTRIES results and CACHE_MAX_BYTES, so paging and repeated syncs
are cheap. Data is
always scoped by the caller's account (from its credentials) and the region
of its credential scope; aggregator queries cover the aggregator's accounts
and regions and are only allowed in the aggregator's own account and region.
"""

import collections
import hashlib
import json
import os
import sqlite3
import threading

from . import configsql, tokens
from .errors import ApiError
from .model import iso, parse_time

DELETED_STATUSES = ("ResourceDeleted", "ResourceDeletedNotRecorded")
BASE_FIELDS = ("version", "accountId", "configurationItemCaptureTime", "configurationItemStatus",
               "configurationStateId", "arn", "resourceType", "resourceId", "resourceName", "awsRegion",
               "availabilityZone", "resourceCreationTime")


# Query results kept for paging and for repeated identical queries (the same
# expression over unchanged data): at most this many, of this total size.
CACHE_MAX_ENTRIES = 256
CACHE_MAX_BYTES = 256 * 1024 * 1024


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.open()

    def open(self):
        self.db = sqlite3.connect("", check_same_thread=False)
        self.db.executescript("""
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE items(acct TEXT, region TEXT, rtype TEXT, rid TEXT, name TEXT,
                               capture REAL, seq INTEGER, current INTEGER, deleted INTEGER, doc TEXT);
            CREATE INDEX items_cur ON items(acct, region, current, rtype, rid);
            CREATE INDEX items_key ON items(acct, region, rtype, rid, capture);
        """)
        self.loaded = set()
        self.seq = 0
        self.version = getattr(self, "version", 0)   # monotonic across reloads
        self.versions = {}     # (acct, region) -> version of that scope's items

    def close(self):
        self.db.close()


def _item_error(path, lineno, msg):
    return ApiError(500, "InternalFailure", "emulator dataset error: %s:%d: %s" % (path, lineno, msg), sender_fault=False)


class Service:
    name = "config"

    def __init__(self, state, faults=None):
        self.state = state
        self.faults = faults
        self.store = Store()
        self.cache = collections.OrderedDict()   # query key -> (result rows, bytes)
        self.cache_bytes = 0

    def reload(self):
        with self.store.lock:
            self.store.close()
            self.store.open()
            self.cache.clear()
            self.cache_bytes = 0

    # -- loading --------------------------------------------------------------
    def _normalise(self, item, acct, region, where):
        if not isinstance(item, dict):
            raise ValueError("%s: a configuration item must be a JSON object" % where)
        for k in ("resourceType", "resourceId"):
            if not isinstance(item.get(k), str) or not item[k]:
                raise ValueError("%s: missing string field %r" % (where, k))
        if item.get("accountId", acct) != acct:
            raise ValueError("%s: accountId %s does not match the file's account %s" % (where, item.get("accountId"), acct))
        # global resources (IAM) are recorded in one region with awsRegion "global"
        if item.get("awsRegion", region) not in (region, "global"):
            raise ValueError("%s: awsRegion %s does not match the file's region %s" % (where, item.get("awsRegion"), region))
        item["accountId"] = acct
        item.setdefault("awsRegion", region)
        ct = item.get("configurationItemCaptureTime")
        if ct is None:
            raise ValueError("%s: missing configurationItemCaptureTime" % where)
        try:
            capture = parse_time(ct)
        except ValueError as exc:
            raise ValueError("%s: configurationItemCaptureTime: %s" % (where, exc))
        return capture

    def _insert(self, item, capture, region):
        s = self.store
        s.seq += 1
        deleted = 1 if item.get("configurationItemStatus") in DELETED_STATUSES else 0
        s.db.execute("INSERT INTO items VALUES(?,?,?,?,?,?,?,0,?,?)",
                     (item["accountId"], region, item["resourceType"], item["resourceId"],
                      item.get("resourceName"), capture, s.seq, deleted, json.dumps(item, separators=(",", ":"))))

    def ensure(self, acct, region):
        s = self.store
        with s.lock:
            if (acct, region) in s.loaded:
                return
            path = self.state.path("accounts", acct, region, "resources.ndjson")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        if not line.strip():
                            continue
                        try:
                            item = json.loads(line)
                            capture = self._normalise(item, acct, region, "item")
                        except json.JSONDecodeError as exc:
                            raise _item_error(path, lineno, "invalid JSON: %s" % exc.msg)
                        except ValueError as exc:
                            raise _item_error(path, lineno, str(exc))
                        self._insert(item, capture, region)
            self._recompute_current(acct, region)
            s.loaded.add((acct, region))
            s.version += 1
            s.versions[(acct, region)] = s.version

    def _recompute_current(self, acct, region):
        self.store.db.execute("""
            UPDATE items SET current = 1 WHERE rowid IN (
              SELECT (SELECT rowid FROM items i2 WHERE i2.acct = i.acct AND i2.region = i.region
                        AND i2.rtype = i.rtype AND i2.rid = i.rid ORDER BY capture DESC, seq DESC LIMIT 1)
              FROM items i WHERE i.acct = ? AND i.region = ? GROUP BY i.rtype, i.rid)""", (acct, region))

    def _recompute_key(self, acct, region, rtype, rid):
        db = self.store.db
        db.execute("UPDATE items SET current = 0 WHERE acct=? AND region=? AND rtype=? AND rid=?", (acct, region, rtype, rid))
        db.execute("""UPDATE items SET current = 1 WHERE rowid = (SELECT rowid FROM items WHERE acct=? AND region=?
                      AND rtype=? AND rid=? ORDER BY capture DESC, seq DESC LIMIT 1)""", (acct, region, rtype, rid))

    # -- helpers --------------------------------------------------------------
    @staticmethod
    def _limit(params, *names, default=100):
        for n in names:
            v = params.get(n)
            if v:
                return v
        return default

    def _page(self, ctx, operation, params, rows, limit, token_member):
        start = 0
        token = params.get(token_member)
        if token:
            start = tokens.parse(token, operation, ctx.account_id, ctx.region, params)
            if start is None:
                raise ApiError(400, "InvalidNextTokenException",
                               "The nextToken provided is invalid")
        page = rows[start:start + limit]
        nxt = None
        if start + limit < len(rows):
            nxt = tokens.make(operation, ctx.account_id, ctx.region, params, start + limit)
        return page, nxt

    def _aggregators(self, ctx):
        return [a for a in self.state.org.get("aggregators") or []
                if a.get("account_id") == ctx.account_id and a.get("region") == ctx.region]

    def _agg_scope(self, agg):
        accounts = self.state.account_ids() if agg.get("organization", True) else list(agg.get("accounts") or [])
        regions = self.state.regions() if agg.get("all_regions", True) else list(agg.get("regions") or [])
        return [(a, r) for a in accounts for r in regions]

    @staticmethod
    def _query_doc(item):
        d = dict(item)
        tags = item.get("tags")
        if isinstance(tags, dict):
            d["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        elif tags is None:
            d["tags"] = []
        for k in ("configuration",):
            if isinstance(d.get(k), str):
                try:
                    d[k] = json.loads(d[k])
                except json.JSONDecodeError:
                    pass
        return d

    # -- operations -------------------------------------------------------------
    def handle(self, ctx, operation, params):
        fn = getattr(self, "op_" + operation, None)
        if fn is None:
            raise ApiError(400, "UnknownOperationException", "The emulator does not implement %s" % operation)
        return fn(ctx, params)

    def _select(self, ctx, operation, params, scope):
        expr = params["Expression"]
        q = configsql.parse(expr)
        for acct, region in scope:
            self.ensure(acct, region)
        s = self.store
        with s.lock:
            # keyed by the versions of the scope's own items: loading or
            # changing another account/region keeps this result valid
            key = (operation, ctx.account_id, ctx.region, expr, params.get("ConfigurationAggregatorName"),
                   tuple(s.versions.get(sc, 0) for sc in scope))
            hit = self.cache.get(key)
            if hit is None:
                types = configsql.resource_type_pushdown(q.where)
                docs = self._docs(scope, types)
                rows = [json.dumps(r, separators=(",", ":")) for r in configsql.run(q, docs)]
                size = sum(len(r) for r in rows) + 64 * len(rows) + 256
                self.cache[key] = (rows, size)
                self.cache_bytes += size
                while self.cache and (len(self.cache) > CACHE_MAX_ENTRIES or self.cache_bytes > CACHE_MAX_BYTES) \
                        and next(iter(self.cache)) != key:
                    self.cache_bytes -= self.cache.popitem(last=False)[1][1]
            else:
                rows = hit[0]
                self.cache.move_to_end(key)
        limit = self._limit(params, "Limit", "MaxResults", default=100)
        page, nxt = self._page(ctx, operation, params, rows, limit, "NextToken")
        out = {"Results": page, "QueryInfo": {"SelectFields": [{"Name": n} for n in q.select_names()]}}
        if nxt:
            out["NextToken"] = nxt
        return out

    def _docs(self, scope, types):
        db = self.store.db
        for acct, region in scope:
            sql = "SELECT doc FROM items WHERE acct = ? AND region = ? AND current = 1 AND deleted = 0"
            args = [acct, region]
            if types is not None:
                sql += " AND rtype IN (%s)" % ",".join("?" * len(types))
                args += sorted(types)
            sql += " ORDER BY rtype, rid"
            for (doc,) in db.execute(sql, args):
                yield self._query_doc(json.loads(doc))

    def op_SelectResourceConfig(self, ctx, params):
        return self._select(ctx, "SelectResourceConfig", params, [(ctx.account_id, ctx.region)])

    def op_SelectAggregateResourceConfig(self, ctx, params):
        name = params["ConfigurationAggregatorName"]
        agg = next((a for a in self._aggregators(ctx) if a["name"] == name), None)
        if agg is None:
            raise ApiError(400, "NoSuchConfigurationAggregatorException",
                           "The configuration aggregator does not exist. Check the configuration aggregator name and try again.")
        return self._select(ctx, "SelectAggregateResourceConfig", params, self._agg_scope(agg))

    def op_DescribeConfigurationAggregators(self, ctx, params):
        aggs = self._aggregators(ctx)
        names = params.get("ConfigurationAggregatorNames")
        if names:
            known = {a["name"] for a in aggs}
            if any(n not in known for n in names):
                raise ApiError(400, "NoSuchConfigurationAggregatorException",
                               "The configuration aggregator does not exist. Check the configuration aggregator name and try again.")
            aggs = [a for a in aggs if a["name"] in names]
        out_list = []
        for a in sorted(aggs, key=lambda a: a["name"]):
            h = hashlib.sha256(("%s/%s/%s" % (a["account_id"], a["region"], a["name"])).encode()).hexdigest()[:8]
            d = {"ConfigurationAggregatorName": a["name"],
                 "ConfigurationAggregatorArn": "arn:aws:config:%s:%s:config-aggregator/config-aggregator-%s" % (a["region"], a["account_id"], h),
                 "CreationTime": a.get("created", "2025-01-10T10:00:00.000Z"),
                 "LastUpdatedTime": a.get("updated", a.get("created", "2025-01-10T10:00:00.000Z"))}
            if a.get("organization", True):
                src = {"RoleArn": a.get("role_arn", "arn:aws:iam::%s:role/service-role/AWSConfigRoleForOrganizations" % a["account_id"])}
                if a.get("all_regions", True):
                    src["AllAwsRegions"] = True
                else:
                    src["AwsRegions"] = list(a.get("regions") or [])
                    src["AllAwsRegions"] = False
                d["OrganizationAggregationSource"] = src
            else:
                src = {"AccountIds": list(a.get("accounts") or [])}
                if a.get("all_regions", True):
                    src["AllAwsRegions"] = True
                else:
                    src["AwsRegions"] = list(a.get("regions") or [])
                    src["AllAwsRegions"] = False
                d["AccountAggregationSources"] = [src]
            out_list.append(d)
        limit = self._limit(params, "Limit", default=100)
        page, nxt = self._page(ctx, "DescribeConfigurationAggregators", params, out_list, limit, "NextToken")
        out = {"ConfigurationAggregators": page}
        if nxt:
            out["NextToken"] = nxt
        return out

    def op_ListDiscoveredResources(self, ctx, params):
        self.ensure(ctx.account_id, ctx.region)
        sql = ("SELECT rid, name, deleted, capture FROM items WHERE acct = ? AND region = ? AND current = 1 AND rtype = ?")
        args = [ctx.account_id, ctx.region, params["resourceType"]]
        if not params.get("includeDeletedResources"):
            sql += " AND deleted = 0"
        ids = params.get("resourceIds")
        if ids:
            if len(ids) > 20:
                raise ApiError(400, "ValidationException", "The resourceIds list can contain at most 20 resource IDs.")
            sql += " AND rid IN (%s)" % ",".join("?" * len(ids))
            args += ids
        if params.get("resourceName"):
            sql += " AND name = ?"
            args.append(params["resourceName"])
        sql += " ORDER BY rid LIMIT ? OFFSET ?"
        limit = self._limit(params, "limit", default=100)
        start = 0
        if params.get("nextToken"):
            start = tokens.parse(params["nextToken"], "ListDiscoveredResources", ctx.account_id, ctx.region, params)
            if start is None:
                raise ApiError(400, "InvalidNextTokenException", "The nextToken provided is invalid")
        with self.store.lock:
            rows = list(self.store.db.execute(sql, args + [limit + 1, start]))
        idents = []
        for rid, name, deleted, capture in rows[:limit]:
            d = {"resourceType": params["resourceType"], "resourceId": rid}
            if name:
                d["resourceName"] = name
            if deleted:
                d["resourceDeletionTime"] = capture
            idents.append(d)
        out = {"resourceIdentifiers": idents}
        if len(rows) > limit:
            out["nextToken"] = tokens.make("ListDiscoveredResources", ctx.account_id, ctx.region, params, start + limit)
        return out

    @staticmethod
    def _strings_map(m):
        if not isinstance(m, dict):
            return {}
        return {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in m.items()}

    @staticmethod
    def _config_string(v):
        if v is None:
            return None
        return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))

    def op_BatchGetResourceConfig(self, ctx, params):
        self.ensure(ctx.account_id, ctx.region)
        items, unprocessed = [], []
        with self.store.lock:
            for key in params["resourceKeys"]:
                if self.faults is not None and self.faults.unprocessed():
                    unprocessed.append({"resourceType": key["resourceType"], "resourceId": key["resourceId"]})
                    continue
                row = self.store.db.execute(
                    "SELECT doc FROM items WHERE acct = ? AND region = ? AND current = 1 AND deleted = 0 AND rtype = ? AND rid = ?",
                    (ctx.account_id, ctx.region, key["resourceType"], key["resourceId"])).fetchone()
                if row is None:
                    continue
                doc = json.loads(row[0])
                base = {k: doc[k] for k in BASE_FIELDS if doc.get(k) is not None}
                base["configuration"] = self._config_string(doc.get("configuration"))
                base["supplementaryConfiguration"] = self._strings_map(doc.get("supplementaryConfiguration"))
                items.append(base)
        return {"baseConfigurationItems": items, "unprocessedResourceKeys": unprocessed}

    def op_GetResourceConfigHistory(self, ctx, params):
        self.ensure(ctx.account_id, ctx.region)
        later = params.get("laterTime")
        earlier = params.get("earlierTime")
        if later is not None and earlier is not None and earlier > later:
            raise ApiError(400, "InvalidTimeRangeException", "The earlier time can not be later than the later time")
        order = params.get("chronologicalOrder", "Reverse")
        with self.store.lock:
            rows = list(self.store.db.execute(
                "SELECT doc, capture FROM items WHERE acct = ? AND region = ? AND rtype = ? AND rid = ? ORDER BY capture %s, seq %s"
                % (("DESC",) * 2 if order == "Reverse" else ("ASC",) * 2),
                (ctx.account_id, ctx.region, params["resourceType"], params["resourceId"])))
        if not rows:
            raise ApiError(400, "ResourceNotDiscoveredException", "Resource %s of resourceType:%s is unknown or has not been discovered"
                           % (params["resourceId"], params["resourceType"]))
        items = []
        for doc, capture in rows:
            if later is not None and capture > later:
                continue
            if earlier is not None and capture < earlier:
                continue
            d = json.loads(doc)
            ci = {k: d[k] for k in BASE_FIELDS if d.get(k) is not None}
            tags = d.get("tags")
            if isinstance(tags, list):
                tags = {t.get("key"): t.get("value") for t in tags if isinstance(t, dict)}
            ci["tags"] = tags or {}
            ci["relatedEvents"] = list(d.get("relatedEvents") or [])
            ci["relationships"] = list(d.get("relationships") or [])
            ci["configurationItemMD5Hash"] = d.get("configurationItemMD5Hash", "")
            conf = self._config_string(d.get("configuration"))
            if conf is not None:
                ci["configuration"] = conf
            ci["supplementaryConfiguration"] = self._strings_map(d.get("supplementaryConfiguration"))
            items.append(ci)
        limit = self._limit(params, "limit", default=10)
        page, nxt = self._page(ctx, "GetResourceConfigHistory", params, items, limit, "nextToken")
        out = {"configurationItems": page}
        if nxt:
            out["nextToken"] = nxt
        return out

    def preload(self):
        """Loads every account and region of the organisation now (the control endpoint
        POST /__emulator/preload), as AWS has its data before anyone asks; returns the
        number of account/region pairs loaded."""
        pairs = [(a, r) for a in self.state.account_ids() for r in self.state.regions()]
        for acct, region in pairs:
            self.ensure(acct, region)
        return len(pairs)

    # -- staged drift (control endpoint) -----------------------------------------
    def control(self, action, body):
        """action 'put': body {"items": [item, ...]} (or one item / a list);
        'delete': body {"keys": [{accountId, awsRegion, resourceType, resourceId}]}."""
        s = self.store
        now = self.state.now()
        if action == "put":
            items = body.get("items") if isinstance(body, dict) and "items" in body else body
            if isinstance(items, dict):
                items = [items]
            if not isinstance(items, list) or not items:
                raise ValueError("body must be {\"items\": [configuration item, ...]}")
            done = 0
            touched = set()
            with s.lock:
                for i, item in enumerate(items):
                    where = "items[%d]" % i
                    if not isinstance(item, dict):
                        raise ValueError("%s must be an object" % where)
                    acct, region = item.get("accountId"), item.get("awsRegion")
                    if not isinstance(acct, str) or not isinstance(region, str):
                        raise ValueError("%s needs accountId and awsRegion" % where)
                    self.ensure(acct, region)
                    item = dict(item)
                    item.setdefault("configurationItemCaptureTime", iso(now))
                    item.setdefault("configurationItemStatus", "OK")
                    item.setdefault("configurationStateId", str(int(now * 1000)))
                    capture = self._normalise(item, acct, region, where)
                    prev = s.db.execute("SELECT doc FROM items WHERE acct=? AND region=? AND rtype=? AND rid=? AND current=1",
                                        (acct, region, item["resourceType"], item["resourceId"])).fetchone()
                    if prev:
                        old = json.loads(prev[0])
                        for k in ("resourceCreationTime", "arn", "resourceName", "availabilityZone", "version"):
                            if k not in item and k in old:
                                item[k] = old[k]
                    self._insert(item, capture, region)
                    self._recompute_key(acct, region, item["resourceType"], item["resourceId"])
                    done += 1
                    touched.add((acct, region))
                s.version += 1
                for t in touched:
                    s.versions[t] = s.version
            return {"put": done, "version": s.version}
        if action == "delete":
            keys = body.get("keys") if isinstance(body, dict) else None
            if not isinstance(keys, list) or not keys:
                raise ValueError("body must be {\"keys\": [{accountId, awsRegion, resourceType, resourceId}, ...]}")
            deleted, missing = 0, []
            touched = set()
            with s.lock:
                for i, k in enumerate(keys):
                    if not isinstance(k, dict) or not all(isinstance(k.get(f), str) for f in ("accountId", "awsRegion", "resourceType", "resourceId")):
                        raise ValueError("keys[%d] needs string accountId, awsRegion, resourceType, resourceId" % i)
                    self.ensure(k["accountId"], k["awsRegion"])
                    prev = s.db.execute("SELECT doc FROM items WHERE acct=? AND region=? AND rtype=? AND rid=? AND current=1 AND deleted=0",
                                        (k["accountId"], k["awsRegion"], k["resourceType"], k["resourceId"])).fetchone()
                    if prev is None:
                        missing.append(k)
                        continue
                    old = json.loads(prev[0])
                    item = {f: old[f] for f in ("version", "accountId", "arn", "resourceType", "resourceId", "resourceName",
                                                "awsRegion", "availabilityZone", "resourceCreationTime") if f in old}
                    item.update({"configurationItemCaptureTime": iso(now), "configurationItemStatus": "ResourceDeleted",
                                 "configurationStateId": str(int(now * 1000)), "tags": {}, "relationships": [],
                                 "supplementaryConfiguration": {}})
                    self._insert(item, now, k["awsRegion"])
                    self._recompute_key(k["accountId"], k["awsRegion"], k["resourceType"], k["resourceId"])
                    deleted += 1
                    touched.add((k["accountId"], k["awsRegion"]))
                s.version += 1
                for t in touched:
                    s.versions[t] = s.version
            return {"deleted": deleted, "missing": missing, "version": s.version}
        raise ValueError("unknown resources action %r (put, delete)" % action)
