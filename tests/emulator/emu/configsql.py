"""AWS Config advanced query SQL: the subset AWS documents, parsed and run.

Design: a tokenizer and a recursive-descent parser for
    SELECT property [, ...] [WHERE condition] [GROUP BY property]
           [ORDER BY property [ASC|DESC] [, ...]]
(no FROM; AWS Config queries have none). Properties are dotted paths
(resourceId, configuration.cidrBlock, tags.key, relationships.resourceId);
COUNT(*) (and the other aggregates SUM/MIN/MAX/AVG over one property) are
allowed with GROUP BY. Conditions: =, !=, <>, <, <=, >, >=, IN (...),
NOT IN, LIKE (with % wildcards), BETWEEN .. AND .., AND, OR, NOT and
parentheses; literals are 'strings' ('' escapes a quote), numbers, true/false.
A property that walks through arrays (tags, relationships, configuration
lists) matches when any element matches, as AWS evaluates it. Anything else
is InvalidExpressionException with the position of the problem.

Evaluation works on the configuration item in API form (dataset form with
`tags` turned into a key/value list): `project` builds each result row with
the selected fields nested the way AWS nests them.
"""

import functools
import re

from .errors import ApiError

TOP_LEVEL = {
    "accountId", "arn", "availabilityZone", "awsRegion", "configuration", "configurationItemCaptureTime",
    "configurationItemStatus", "configurationStateId", "relationships", "resourceCreationTime", "resourceId",
    "resourceName", "resourceType", "supplementaryConfiguration", "tags", "version",
}
TIME_FIELDS = {"configurationItemCaptureTime", "resourceCreationTime"}
AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG"}
KEYWORDS = {"SELECT", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "BETWEEN", "GROUP", "BY", "ORDER", "ASC", "DESC",
            "TRUE", "FALSE", "NULL", "IS", "FROM", "LIMIT", "DISTINCT", "JOIN", "HAVING"}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^']|'')*')
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,|\*)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.X)


def invalid(message):
    return ApiError(400, "InvalidExpressionException", message)


class Tok:
    def __init__(self, kind, value, pos):
        self.kind, self.value, self.pos = kind, value, pos

    def __repr__(self):
        return "%s(%r)" % (self.kind, self.value)


def tokenize(text):
    toks = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m:
            if text[i] == "'":
                raise invalid("Invalid expression: unterminated string literal at position %d" % (i + 1))
            raise invalid("Invalid expression: unexpected character '%s' at position %d" % (text[i], i + 1))
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "str":
            toks.append(Tok("str", val[1:-1].replace("''", "'"), i))
        elif kind == "num":
            toks.append(Tok("num", float(val) if "." in val else int(val), i))
        elif kind == "op":
            toks.append(Tok("op", val, i))
        elif kind == "name":
            if val.upper() in KEYWORDS and "." not in val:
                toks.append(Tok("kw", val.upper(), i))
            else:
                toks.append(Tok("name", val, i))
        i = m.end()
    toks.append(Tok("end", None, len(text)))
    return toks


class Query:
    def __init__(self):
        self.select = []       # list of (label, kind, path) kind: 'field' | aggregate name
        self.where = None
        self.where_fn = None   # compiled WHERE (set by parse)
        self.group_by = None
        self.order_by = []     # (label/path, desc)

    @property
    def is_aggregate(self):
        return any(k != "field" for _, k, _ in self.select)

    def select_names(self):
        return [label for label, _, _ in self.select]


class Parser:
    def __init__(self, text):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i]

    def take(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def accept(self, kind, value=None):
        t = self.peek()
        if t.kind == kind and (value is None or t.value == value):
            self.i += 1
            return t
        return None

    def expect(self, kind, value=None, what=None):
        t = self.accept(kind, value)
        if t is None:
            got = self.peek()
            raise invalid("Invalid expression: expected %s at position %d but found %s"
                          % (what or value or kind, got.pos + 1, "end of query" if got.kind == "end" else "'%s'" % got.value))
        return t

    def parse(self):
        q = Query()
        self.expect("kw", "SELECT", "SELECT")
        q.select.append(self.select_item())
        while self.accept("op", ","):
            q.select.append(self.select_item())
        t = self.peek()
        if t.kind == "kw" and t.value in ("FROM", "JOIN", "HAVING", "LIMIT", "DISTINCT"):
            raise invalid("Invalid expression: %s is not supported in AWS Config queries (position %d)" % (t.value, t.pos + 1))
        if self.accept("kw", "WHERE"):
            q.where = self.or_expr()
        if self.accept("kw", "GROUP"):
            self.expect("kw", "BY", "BY")
            q.group_by = self.prop()
        if self.accept("kw", "ORDER"):
            self.expect("kw", "BY", "BY")
            while True:
                t = self.peek()
                nxt = self.toks[self.i + 1]
                if t.kind == "name" and t.value.upper() in AGGREGATES and nxt.kind == "op" and nxt.value == "(":
                    label = self.select_item()[0]
                elif t.kind == "name":
                    label = self.take().value
                else:
                    raise invalid("Invalid expression: expected a property after ORDER BY at position %d" % (t.pos + 1))
                desc = False
                if self.accept("kw", "DESC"):
                    desc = True
                else:
                    self.accept("kw", "ASC")
                q.order_by.append((label, desc))
                if not self.accept("op", ","):
                    break
        t = self.peek()
        if t.kind != "end":
            raise invalid("Invalid expression: unexpected '%s' at position %d" % (t.value, t.pos + 1))
        if q.is_aggregate:
            plain = [p for _, k, p in q.select if k == "field"]
            if plain and (q.group_by is None or any(p != q.group_by for p in plain)):
                raise invalid("Invalid expression: when using aggregate functions, every selected property must be the GROUP BY property")
        elif q.group_by is not None:
            raise invalid("Invalid expression: GROUP BY requires an aggregate function such as COUNT(*) in the SELECT list")
        return q

    def select_item(self):
        t = self.peek()
        if t.kind == "op" and t.value == "*":
            raise invalid("Invalid expression: SELECT * is not supported; list the properties (position %d)" % (t.pos + 1))
        if t.kind in ("kw", "name") and str(t.value).upper() in AGGREGATES and self.toks[self.i + 1].kind == "op" and self.toks[self.i + 1].value == "(":
            fn = str(self.take().value).upper()
            self.expect("op", "(")
            if self.accept("op", "*"):
                if fn != "COUNT":
                    raise invalid("Invalid expression: %s(*) is not supported; only COUNT(*)" % fn)
                arg = "*"
            else:
                arg = self.prop()
            self.expect("op", ")")
            return ("%s(%s)" % (fn, arg), fn, arg)
        path = self.prop()
        return (path, "field", path)

    def prop(self):
        t = self.peek()
        if t.kind != "name":
            raise invalid("Invalid expression: expected a property name at position %d but found %s"
                          % (t.pos + 1, "end of query" if t.kind == "end" else "'%s'" % t.value))
        self.take()
        top = t.value.split(".")[0]
        if top not in TOP_LEVEL:
            raise invalid("Invalid expression: unknown property '%s' at position %d" % (t.value, t.pos + 1))
        return t.value

    def or_expr(self):
        left = self.and_expr()
        while self.accept("kw", "OR"):
            left = ("or", left, self.and_expr())
        return left

    def and_expr(self):
        left = self.not_expr()
        while self.accept("kw", "AND"):
            left = ("and", left, self.not_expr())
        return left

    def not_expr(self):
        if self.accept("kw", "NOT"):
            return ("not", self.not_expr())
        if self.accept("op", "("):
            e = self.or_expr()
            self.expect("op", ")", "')'")
            return e
        return self.comparison()

    def literal(self):
        t = self.take()
        if t.kind in ("str", "num"):
            return t.value
        if t.kind == "kw" and t.value in ("TRUE", "FALSE"):
            return t.value == "TRUE"
        raise invalid("Invalid expression: expected a literal at position %d but found %s"
                      % (t.pos + 1, "end of query" if t.kind == "end" else "'%s'" % t.value))

    def comparison(self):
        path = self.prop()
        neg = bool(self.accept("kw", "NOT"))
        t = self.peek()
        if t.kind == "kw" and t.value == "IN":
            self.take()
            self.expect("op", "(", "'('")
            vals = [self.literal()]
            while self.accept("op", ","):
                vals.append(self.literal())
            self.expect("op", ")", "')'")
            node = ("in", path, vals)
        elif t.kind == "kw" and t.value == "LIKE":
            self.take()
            pat = self.literal()
            if not isinstance(pat, str):
                raise invalid("Invalid expression: LIKE needs a string pattern at position %d" % (t.pos + 1))
            rx = re.compile("^" + ".*".join(re.escape(p) for p in pat.split("%")) + "$", re.S)
            node = ("like", path, rx)
        elif t.kind == "kw" and t.value == "BETWEEN":
            self.take()
            lo = self.literal()
            self.expect("kw", "AND", "AND")
            hi = self.literal()
            node = ("between", path, lo, hi)
        elif not neg and t.kind == "op" and t.value in ("=", "!=", "<>", "<", "<=", ">", ">="):
            self.take()
            op = "!=" if t.value == "<>" else t.value
            node = ("cmp", op, path, self.literal())
        elif not neg and t.kind == "kw" and t.value == "IS":
            raise invalid("Invalid expression: IS [NOT] NULL is not supported (position %d)" % (t.pos + 1))
        else:
            raise invalid("Invalid expression: expected a comparison operator after '%s' at position %d"
                          % (path, t.pos + 1))
        return ("not", node) if neg else node


@functools.lru_cache(maxsize=256)
def parse(text):
    """The parsed query (cached per expression text: a Query is never
    modified after parsing; errors are raised again, never cached)."""
    q = Parser(text).parse()
    q.where_fn = None if q.where is None else compile_where(q.where)
    return q


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------
def values(doc, path):
    """All values reached by a dotted path, flattening arrays at every step."""
    if "." not in path:     # a top-level field: the loop below, unrolled
        if path not in doc:
            return []
        v = doc[path]
        return list(v) if isinstance(v, list) else [v]
    if path == "tags.tag":  # virtual: "key=value" of every tag
        return ["%s=%s" % (t.get("key"), t.get("value")) for t in doc.get("tags") or [] if isinstance(t, dict)]
    cur = [doc]
    for part in path.split("."):
        nxt = []
        for v in cur:
            if isinstance(v, list):
                for x in v:
                    if isinstance(x, dict) and part in x:
                        nxt.append(x[part])
            elif isinstance(v, dict) and part in v:
                nxt.append(v[part])
        cur = nxt
    out = []
    for v in cur:
        if isinstance(v, list):
            out.extend(v)
        else:
            out.append(v)
    return out


def _norm(a, b):
    """Make a value and a literal comparable (numbers vs numeric strings)."""
    if isinstance(b, (int, float)) and not isinstance(b, bool) and isinstance(a, str):
        try:
            return float(a), float(b)
        except ValueError:
            return a, str(b)
    if isinstance(a, (int, float)) and not isinstance(a, bool) and isinstance(b, str):
        try:
            return float(a), float(b)
        except ValueError:
            return str(a), b
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower(), str(b).lower()
    return a, b


def _cmp(op, a, b):
    a, b = _norm(a, b)
    try:
        if op == "=":
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        if op == ">=":
            return a >= b
    except TypeError:
        return False
    return False


def _time_key(v):
    """Capture/creation times compare as instants whatever their spelling."""
    from .model import parse_time
    try:
        return parse_time(v)
    except (ValueError, TypeError):
        return v


def matches(node, doc):
    kind = node[0]
    if kind == "and":
        return matches(node[1], doc) and matches(node[2], doc)
    if kind == "or":
        return matches(node[1], doc) or matches(node[2], doc)
    if kind == "not":
        return not matches(node[1], doc)
    path = node[1] if kind != "cmp" else node[2]
    vals = values(doc, path)
    timed = path in TIME_FIELDS
    if timed:
        vals = [_time_key(v) for v in vals]
    lit = (lambda x: _time_key(x)) if timed else (lambda x: x)
    if kind == "cmp":
        op, b = node[1], lit(node[3])
        if op == "!=":
            return bool(vals) and all(_cmp("!=", v, b) for v in vals)
        return any(_cmp(op, v, b) for v in vals)
    if kind == "in":
        lits = [lit(x) for x in node[2]]
        return any(_cmp("=", v, b) for v in vals for b in lits)
    if kind == "like":
        return any(isinstance(v, str) and node[2].match(v) for v in vals)
    if kind == "between":
        lo, hi = lit(node[2]), lit(node[3])
        return any(_cmp(">=", v, lo) and _cmp("<=", v, hi) for v in vals)
    raise AssertionError(kind)


def compile_where(node):
    """A predicate doc -> bool equal to matches(node, doc), with the common
    shapes (IN / = over string literals, AND / OR / NOT) precomputed: a
    string value against string literals compares as plain equality in
    _cmp, so a set lookup gives the same answer; any other value goes
    through _cmp as before."""
    kind = node[0]
    if kind in ("and", "or"):
        a, b = compile_where(node[1]), compile_where(node[2])
        if kind == "and":
            return lambda doc: a(doc) and b(doc)
        return lambda doc: a(doc) or b(doc)
    if kind == "not":
        a = compile_where(node[1])
        return lambda doc: not a(doc)
    path = node[1] if kind != "cmp" else node[2]
    if path in TIME_FIELDS or path == "tags.tag":
        return lambda doc: matches(node, doc)
    if kind == "in" or (kind == "cmp" and node[1] == "="):
        lits = list(node[2]) if kind == "in" else [node[3]]
        if lits and all(type(x) is str for x in lits):
            wanted = frozenset(lits)

            def match_in(doc):
                for v in values(doc, path):
                    if type(v) is str:
                        if v in wanted:
                            return True
                    elif any(_cmp("=", v, b) for b in lits):
                        return True
                return False
            return match_in
    return lambda doc: matches(node, doc)


def _project(value, parts):
    if not parts:
        return value
    if isinstance(value, list):
        out = [_project(x, parts) for x in value]
        return [x for x in out if x is not _MISSING]
    if isinstance(value, dict) and parts[0] in value:
        inner = _project(value[parts[0]], parts[1:])
        return _MISSING if inner is _MISSING else {parts[0]: inner}
    return _MISSING


_MISSING = object()


def _merge(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(out[k], v) if k in out else v
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [_merge(x, y) for x, y in zip(a, b)]
    return b


def project(q, doc):
    row = {}
    for _, _, path in q.select:
        if path == "tags.tag":
            p = {"tags": [{"tag": v} for v in values(doc, path)]}
        else:
            p = _project(doc, path.split("."))
        if p is not _MISSING:
            row = _merge(row, p)
    return row


def _sort_value(v):
    if v is None:
        return (0, "")
    if isinstance(v, bool):
        return (1, str(v))
    if isinstance(v, (int, float)):
        return (2, v)
    return (3, str(v))


def run(q, docs):
    """docs: iterable of API-form items. Returns the list of result rows (dicts)."""
    if q.is_aggregate:
        groups = {}
        for d in docs:
            if q.where is not None and not matches(q.where, d):
                continue
            keys = values(d, q.group_by) if q.group_by else [None]
            for k in (keys or [None]) if q.group_by else [None]:
                hk = repr(k)
                g = groups.setdefault(hk, {"key": k, "docs": []})
                g["docs"].append(d)
        rows = []
        for g in groups.values():
            row = {}
            if q.group_by:
                if g["key"] is None:
                    continue
                row = _merge(row, _nest(q.group_by, g["key"]))
            for label, fn, arg in q.select:
                if fn == "field":
                    continue
                if fn == "COUNT":
                    n = len(g["docs"]) if arg == "*" else sum(len(values(d, arg)) for d in g["docs"])
                    row[label] = n
                else:
                    nums = [float(v) for d in g["docs"] for v in values(d, arg) if isinstance(v, (int, float)) and not isinstance(v, bool)]
                    if not nums:
                        continue
                    row[label] = {"SUM": sum(nums), "MIN": min(nums), "MAX": max(nums), "AVG": sum(nums) / len(nums)}[fn]
            rows.append(row)
        if not q.group_by and not rows:
            rows = [{label: 0 for label, fn, _ in q.select if fn == "COUNT"}]
    else:
        where = getattr(q, "where_fn", None) or (None if q.where is None else (lambda d: matches(q.where, d)))
        rows = [project(q, d) for d in docs if where is None or where(d)]
    for label, desc in reversed(q.order_by):
        rows.sort(key=lambda r: _sort_value(_first(r, label)), reverse=desc)
    return rows


def _nest(path, value):
    out = value
    for part in reversed(path.split(".")):
        out = {part: out}
    return out


def _first(row, label):
    if label in row:
        return row[label]
    vals = values(row, label)
    return vals[0] if vals else None


def resource_type_pushdown(node):
    """Set of resource types the WHERE clause restricts to, when it is a
    top-level AND chain containing resourceType = / IN; None = no restriction."""
    if node is None:
        return None
    if node[0] == "and":
        a = resource_type_pushdown(node[1])
        b = resource_type_pushdown(node[2])
        if a is None:
            return b
        if b is None:
            return a
        return a & b
    if node[0] == "cmp" and node[1] == "=" and node[2] == "resourceType" and isinstance(node[3], str):
        return {node[3]}
    if node[0] == "in" and node[1] == "resourceType" and all(isinstance(x, str) for x in node[2]):
        return set(node[2])
    return None
