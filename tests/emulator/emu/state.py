"""Emulator state: the organisation dataset, issued credentials, the clock.

Design: one State object is shared by every request thread; everything
mutable sits behind `lock` (an RLock, so service code called under it may
take it again). The dataset directory is read at start and on reload
(control endpoint or SIGHUP); per-account/region data files are left to the
services, which load them lazily (see configservice.py) so a 500,000-item
synthetic organisation starts instantly. Credentials issued by STS, IMDS and
the container endpoint live here and survive reloads (they are not dataset
content). The clock is the real clock plus an offset settable through the
control API, so tests can expire sessions without sleeping.
"""

import json
import os
import secrets
import string
import threading
import time

from .errors import ApiError


class DatasetError(Exception):
    pass


class Cred:
    def __init__(self, access_key, secret_key, account, arn, user_id, token=None, expiration=None, source="static"):
        self.access_key = access_key
        self.secret_key = secret_key
        self.account = account
        self.arn = arn
        self.user_id = user_id
        self.token = token
        self.expiration = expiration   # epoch seconds, None = long-term key
        self.source = source           # static | assume-role | web-identity | imds | container

    @property
    def is_role_session(self):
        return ":assumed-role/" in self.arn


def _rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_access_key(prefix="ASIA"):
    return prefix + _rand(string.ascii_uppercase + "234567", 16)


def new_secret():
    return _rand(string.ascii_letters + string.digits + "+/", 40)


def new_token():
    return "IQoJb3JpZ2luX2VtdWxhdG9y" + _rand(string.ascii_letters + string.digits + "+/", 200)


class State:
    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(data_dir)
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.generation = 0
        self.creds = {}
        self.static_keys = set()
        self.org = {}
        self.credential_ttl = 6 * 3600     # IMDS / container credential lifetime
        self.imds_tokens = {}              # token -> expiry (epoch)
        self.load_org()

    # -- clock ----------------------------------------------------------------
    def now(self):
        return time.time() + self.clock_offset

    # -- dataset ----------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.data_dir, *parts)

    def load_org(self):
        p = self.path("org.json")
        try:
            with open(p, encoding="utf-8") as f:
                org = json.load(f)
        except FileNotFoundError:
            raise DatasetError("%s: no org.json (is --data a dataset directory? see tests/emulator/DATASET.md)" % p)
        except json.JSONDecodeError as exc:
            raise DatasetError("%s:%d:%d: invalid JSON: %s" % (p, exc.lineno, exc.colno, exc.msg))
        if not isinstance(org, dict):
            raise DatasetError("%s: top level must be an object" % p)
        base = org.get("base_identity")
        if not isinstance(base, dict):
            raise DatasetError("%s: missing object 'base_identity'" % p)
        identities = [base] + list(org.get("identities") or [])
        for i, ident in enumerate(identities):
            where = "base_identity" if i == 0 else "identities[%d]" % (i - 1)
            for k in ("account_id", "arn", "access_key_id", "secret_access_key"):
                if not isinstance(ident.get(k), str) or not ident.get(k):
                    raise DatasetError("%s: %s.%s must be a non-empty string" % (p, where, k))
        for i, role in enumerate(org.get("roles") or []):
            if not isinstance(role, dict) or not isinstance(role.get("arn"), str) or ":role/" not in role["arn"]:
                raise DatasetError("%s: roles[%d].arn must be an IAM role ARN" % (p, i))
        regions = org.get("regions")
        if not isinstance(regions, list) or not regions or not all(isinstance(r, str) for r in regions):
            raise DatasetError("%s: 'regions' must be a non-empty list of region names" % p)
        for i, agg in enumerate(org.get("aggregators") or []):
            for k in ("name", "account_id", "region"):
                if not isinstance(agg.get(k), str):
                    raise DatasetError("%s: aggregators[%d].%s must be a string" % (p, i, k))
        with self.lock:
            for k in self.static_keys:
                self.creds.pop(k, None)
            self.static_keys = set()
            for ident in identities:
                c = Cred(ident["access_key_id"], ident["secret_access_key"], ident["account_id"], ident["arn"],
                         ident.get("user_id") or "AIDA" + ident["account_id"])
                self.creds[c.access_key] = c
                self.static_keys.add(c.access_key)
            self.org = org
            self.generation += 1

    def account_ids(self):
        ids = [a["id"] for a in self.org.get("accounts") or [] if isinstance(a, dict) and "id" in a]
        base = self.org["base_identity"]["account_id"]
        if base not in ids:
            ids.insert(0, base)
        return ids

    def regions(self):
        return list(self.org["regions"])

    def role(self, arn):
        for r in self.org.get("roles") or []:
            if r.get("arn") == arn:
                return r
        return None

    # -- credentials ------------------------------------------------------------
    def lookup(self, access_key):
        with self.lock:
            return self.creds.get(access_key)

    def issue(self, account, arn, user_id, duration, source):
        c = Cred(new_access_key(), new_secret(), account, arn, user_id, token=new_token(),
                 expiration=int(self.now()) + int(duration), source=source)
        with self.lock:
            self.creds[c.access_key] = c
        return c

    def instance_role(self):
        ir = self.org.get("instance_role")
        if not isinstance(ir, dict) or not ir.get("role_name") or not ir.get("account_id"):
            raise ApiError(404, "NotFound", "no instance_role in org.json")
        return ir["role_name"], ir["account_id"]
