"""Fault injection and per-operation rate limits.

Design: a fault spec is a comma list `name=value` (see README.md): the
probabilities 5xx, throttle, reset, truncate, malformed, drip, expired,
unprocessed; `burst5xx=N` (the next N matching requests answer 503);
`latency=MS` and `jitter=MS` (added delay, jitter uniform in [0, jitter]);
`drip_ms=MS` (how long a drip response takes); `seed=N`; `ops=A|B` (only
these operations; default all). The same keys may come as a JSON object
(file or control endpoint). Every matching request draws one random number
from a seeded generator, in arrival order, so a single-threaded client sees
exactly the same faults on every run with the same seed.

Rate limits are token buckets per (service, operation, account, region);
defaults follow AWS's published limits where published (Security Hub
GetFindings 3/s burst 6) and generous values elsewhere; each can be
overridden ("rates": {"Operation": [rate, burst]}).
"""

import json
import random
import threading
import time

FAULT_KINDS = ("5xx", "throttle", "reset", "truncate", "malformed", "drip", "expired", "unprocessed")
NUMERIC = ("latency", "jitter", "drip_ms", "seed", "burst5xx")

DEFAULT_RATES = {
    ("securityhub", "GetFindings"): (3.0, 6),
    ("securityhub", "*"): (10.0, 30),
    ("config", "SelectResourceConfig"): (10.0, 20),
    ("config", "SelectAggregateResourceConfig"): (10.0, 20),
    ("config", "*"): (20.0, 40),
    ("sts", "*"): (100.0, 200),
}


class FaultSpecError(ValueError):
    pass


def parse_spec(spec):
    """'5xx=0.1,seed=7,ops=A|B' or a JSON object (text or dict) -> dict."""
    if isinstance(spec, dict):
        items = spec.items()
    else:
        text = (spec or "").strip()
        if text.startswith("{"):
            try:
                items = json.loads(text).items()
            except (json.JSONDecodeError, AttributeError) as exc:
                raise FaultSpecError("fault spec is not a valid JSON object: %s" % exc)
        else:
            items = []
            for part in [p.strip() for p in text.split(",") if p.strip()]:
                k, sep, v = part.partition("=")
                if not sep:
                    raise FaultSpecError("fault spec item %r is not name=value" % part)
                items.append((k.strip(), v.strip()))
    out = {}
    for k, v in items:
        if k in FAULT_KINDS:
            try:
                p = float(v)
            except (TypeError, ValueError):
                raise FaultSpecError("fault %s=%r: probability must be a number" % (k, v))
            if not 0.0 <= p <= 1.0:
                raise FaultSpecError("fault %s=%s: probability must be between 0 and 1" % (k, v))
            out[k] = p
        elif k in NUMERIC:
            try:
                n = int(float(v))
            except (TypeError, ValueError):
                raise FaultSpecError("fault option %s=%r must be a number" % (k, v))
            if n < 0:
                raise FaultSpecError("fault option %s=%s must not be negative" % (k, v))
            out[k] = n
        elif k == "ops":
            ops = v if isinstance(v, list) else str(v).split("|")
            out["ops"] = [o.strip() for o in ops if o.strip()]
        elif k == "rates":
            if not isinstance(v, dict):
                raise FaultSpecError("'rates' must be an object {\"Operation\": [rate, burst]}")
            rates = {}
            for op, rb in v.items():
                if not (isinstance(rb, list) and len(rb) == 2 and all(isinstance(x, (int, float)) for x in rb) and rb[0] > 0 and rb[1] >= 1):
                    raise FaultSpecError("rates.%s must be [rate>0, burst>=1]" % op)
                rates[op] = (float(rb[0]), int(rb[1]))
            out["rates"] = rates
        else:
            raise FaultSpecError("unknown fault %r (known: %s, %s, ops, rates)" % (k, ", ".join(FAULT_KINDS), ", ".join(NUMERIC)))
    return out


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.config = {}
        self.rng = random.Random(0)
        self.burst_left = 0
        self.injected = {}
        self.base_latency_ms = 0
        self.buckets = {}
        self.rates = {}

    def set(self, spec, replace=True):
        cfg = parse_spec(spec)
        with self.lock:
            if replace:
                self.config = {}
                self.rates = {}
            self.config.update({k: v for k, v in cfg.items() if k not in ("burst5xx", "rates")})
            if "rates" in cfg:
                self.rates.update(cfg["rates"])
                self.buckets = {}
            self.rng = random.Random(self.config.get("seed", 0))
            self.burst_left = cfg.get("burst5xx", 0 if replace else self.burst_left)
        return self.describe()

    def describe(self):
        with self.lock:
            d = dict(self.config)
            d["burst5xx_left"] = self.burst_left
            d["rates"] = {k: list(v) for k, v in self.rates.items()}
            d["latency_ms_base"] = self.base_latency_ms
            d["injected"] = dict(self.injected)
            return d

    def _applies(self, operation):
        ops = self.config.get("ops")
        return not ops or operation in ops

    def draw(self, operation):
        """Returns (fault kind or None, delay seconds) for one API request."""
        with self.lock:
            delay = self.base_latency_ms / 1000.0
            if not self._applies(operation):
                return None, delay
            delay += self.config.get("latency", 0) / 1000.0
            if self.config.get("jitter"):
                delay += self.rng.uniform(0, self.config["jitter"]) / 1000.0
            kind = None
            if self.burst_left > 0:
                self.burst_left -= 1
                kind = "5xx"
            else:
                r = self.rng.random()
                acc = 0.0
                for k in ("5xx", "throttle", "reset", "truncate", "malformed", "drip", "expired"):
                    acc += self.config.get(k, 0.0)
                    if r < acc:
                        kind = k
                        break
            if kind:
                self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind, delay

    def unprocessed(self):
        with self.lock:
            p = self.config.get("unprocessed", 0.0)
            if p <= 0:
                return False
            hit = self.rng.random() < p
            if hit:
                self.injected["unprocessed"] = self.injected.get("unprocessed", 0) + 1
            return hit

    def drip_seconds(self):
        return self.config.get("drip_ms", 2000) / 1000.0

    def allow(self, service, operation, account, region):
        """Token bucket; False = throttle this request."""
        now = time.monotonic()
        with self.lock:
            rate = self.rates.get(operation) or DEFAULT_RATES.get((service, operation)) or DEFAULT_RATES.get((service, "*")) or (50.0, 100)
            key = (service, operation, account, region)
            tokens, last = self.buckets.get(key, (float(rate[1]), now))
            tokens = min(float(rate[1]), tokens + (now - last) * rate[0])
            if tokens < 1.0:
                self.buckets[key] = (tokens, now)
                return False
            self.buckets[key] = (tokens - 1.0, now)
            return True
