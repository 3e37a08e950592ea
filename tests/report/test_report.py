#!/usr/bin/env python3
"""The HTML report and the Threat Dragon export, end to end: the real
driftsync binary against the local AWS emulator and the sample organisation
(sync, model create --all, drift staged through the emulator's control API,
sync again), then

  Html:         `report --html FILE` writes one self-contained file (no script,
                no reference to anything outside it), which headless Chromium
                renders; the text a reader sees holds the totals, every VPC
                with its status word, the newest open drift entries and the
                CIS section. A screenshot is kept for a human to look at.
  ThreatDragon: `model export VPC FILE --format threat-dragon` for every
                modelled VPC validates against Threat Dragon's v2 JSON schema
                (tests/data/threatdragon/), and its cells match the model.

usage: test_report.py DRIFTSYNC_BINARY SHARED_DIR [Html|ThreatDragon]
Chromium and python3-jsonschema come from scripts/setup; when one is missing
the test fails saying so (it never skips).
"""

import glob
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import test_pipeline as pipeline  # noqa: E402  (Emulator, Driftsync, stage_drift)

SCHEMA = os.path.join(ROOT, "tests", "data", "threatdragon", "threat-dragon-v2.schema.json")
KEEP = os.environ.get("DRIFTSYNC_REPORT_KEEP")  # a directory to copy report + screenshot to

STATE = {}


def setUpModule():
    work = tempfile.mkdtemp(prefix="driftsync-report-")
    emu = pipeline.Emulator(work)
    try:
        ds = pipeline.Driftsync(work, emu)
        ds.run("sync", "--once")
        ds.run("model", "create", "--all")
        staged = pipeline.stage_drift(emu)
        ds.run("sync", "--once")
    except BaseException:
        emu.stop()
        raise
    STATE.update(work=work, emu=emu, ds=ds, staged=staged)


def tearDownModule():
    if "emu" in STATE:
        STATE["emu"].stop()
    if "work" in STATE and not os.environ.get("DRIFTSYNC_TEST_KEEP_WORK"):
        shutil.rmtree(STATE["work"], ignore_errors=True)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("chromium is not installed: run scripts/setup (Debian package "
                         "'chromium'); the report test needs a real browser")


def chromium(*args):
    profile = tempfile.mkdtemp(prefix="driftsync-chromium-")
    try:
        p = subprocess.run([find_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-quic", "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--user-data-dir=" + profile] + list(args),
                           capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return p


class Visible(html.parser.HTMLParser):
    """The text a reader sees (no head, style or script), per section and per
    table row."""

    def __init__(self):
        super().__init__()
        self.hidden = 0
        self.section = None
        self.sections = {}
        self.rows = []          # (section id, table id, [cell texts])
        self.table = None
        self.row = None
        self.cell = None
        self.all = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("head", "style", "script", "title"):
            self.hidden += 1
        elif tag == "section":
            self.section = a.get("id")
        elif tag == "table":
            self.table = a.get("id") or a.get("class")
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("head", "style", "script", "title"):
            self.hidden -= 1
        elif tag == "section":
            self.section = None
        elif tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append((self.section, self.table, self.row))
            self.row = None

    def handle_data(self, data):
        if self.hidden:
            return
        self.all.append(data)
        if self.section:
            self.sections.setdefault(self.section, []).append(data)
        if self.cell is not None:
            self.cell.append(data)

    def text(self, section=None):
        parts = self.all if section is None else self.sections.get(section, [])
        return " ".join(" ".join(parts).split())


class Html(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ds = STATE["ds"]
        cls.out = os.path.join(STATE["work"], "out")
        os.makedirs(cls.out)
        cls.path = os.path.join(cls.out, "report.html")
        cls.title = "Drift <report> & \"friends\" 'q'"
        cls.status = ds.json("status")
        cls.drift = ds.json("drift")
        p = ds.run("report", "--html", cls.path, "--title", cls.title)
        assert "wrote the report" in p.stdout, p.stdout
        with open(cls.path, encoding="utf-8") as f:
            cls.raw = f.read()

    def test_1_self_contained(self):
        raw = self.raw
        self.assertTrue(raw.startswith("<!DOCTYPE html>"))
        self.assertNotRegex(raw, r"(?i)<script")
        for tag in ("link", "img", "iframe", "object", "embed", "base", "form", "audio", "video"):
            self.assertNotRegex(raw, r"(?i)<%s[\s>]" % tag, tag)
        self.assertNotRegex(raw, r"(?i)\b(src|href|srcset|action|poster)\s*=")
        self.assertNotRegex(raw, r"(?i)url\s*\(")
        self.assertNotRegex(raw, r"(?i)@import")
        # no http(s) reference in any tag or in the style sheet
        for tag in re.findall(r"<[^>]*>", raw):
            self.assertNotRegex(tag, r"(?i)(https?:)?//", tag)
        style = re.search(r"(?s)<style>(.*?)</style>", raw).group(1)
        self.assertNotRegex(style, r"(?i)https?://")
        self.assertIn("default-src 'none'", raw)

    def test_2_escaped(self):
        self.assertIn("Drift &lt;report&gt; &amp; &quot;friends&quot; &#39;q&#39;", self.raw)
        self.assertNotIn(self.title, self.raw)

    def test_3_atomic(self):
        ds = STATE["ds"]
        leftovers = [f for f in os.listdir(self.out) if f != "report.html"]
        self.assertEqual(leftovers, [])
        # rewriting replaces the file whole
        p = ds.run("report", "--html", self.path, "--title", "second")
        with open(self.path, encoding="utf-8") as f:
            self.assertIn("<title>second</title>", f.read())
        self.assertEqual(sorted(os.listdir(self.out)), ["report.html"])
        ds.run("report", "--html", self.path, "--title", self.title)
        # a directory that does not exist: a clear error, no file
        bad = os.path.join(self.out, "missing", "r.html")
        p = ds.run("report", "--html", bad, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot write report", p.stderr)
        self.assertIn("missing/r.html", p.stderr)
        self.assertIn("No such file or directory", p.stderr)
        # usage errors
        p = ds.run("report", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--html FILE is required", p.stderr)
        p = ds.run("report", "--html", bad, "--drift-limit", "zero", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--drift-limit", p.stderr)

    def test_4_browser_shows_it(self):
        p = chromium("--dump-dom", "file://" + self.path)
        self.assertEqual(p.returncode, 0, p.stderr)
        dom = p.stdout
        self.assertIn("</html>", dom)
        v = Visible()
        v.feed(dom)
        seen = v.text()
        # the header: the title as text, the totals
        self.assertIn("Drift <report> & \"friends\" 'q'", seen)
        sm = self.status["summary"]
        header = v.text(None)
        for n, label in ((sm["accounts"], "accounts"), (sm["vpcs"], "VPCs"),
                         (sm["models"], "threat models"), (sm["out_of_sync"], "out of sync"),
                         (len(self.drift), "open drift entries")):
            self.assertIn("%d %s" % (n, label), header, label)
        self.assertEqual(sm["out_of_sync"], 3)
        # every VPC with its status in words
        words = {"red": "red: out of sync", "yellow": "yellow: no threat model",
                 "green": "green: in sync"}
        table = [r for s, t, r in v.rows if t == "vpc-status"]
        head = table[0]
        col = {name: head.index(name) for name in ("Account", "VPC", "Status", "Only in model",
                                                    "Only in VPC", "Changed", "Last sync")}
        vpc_rows = {r[col["VPC"]]: r for r in table[1:]}
        self.assertEqual(len(vpc_rows), len(self.status["vpcs"]))
        for row in self.status["vpcs"]:
            self.assertIn(row["vpc_id"], vpc_rows, row["vpc_id"])
            cells = vpc_rows[row["vpc_id"]]
            self.assertEqual(cells[col["Account"]], row["account_id"])
            self.assertEqual(cells[col["Status"]], words[row["status"]], row["vpc_id"])
            self.assertEqual([cells[col["Only in model"]], cells[col["Only in VPC"]],
                              cells[col["Changed"]]],
                             [str(row["only_in_model"]), str(row["only_in_vpc"]),
                              str(row["changed"])])
            self.assertEqual(cells[col["Last sync"]], row["last_sync"] or "never")
        staged = STATE["staged"]
        for key in (staged["changed_vpc"], staged["removed_vpc"], staged["added_vpc"]):
            self.assertEqual(vpc_rows[key[2]][col["Status"]], words["red"])
        self.assertEqual(vpc_rows[staged["new_vpc"][2]][col["Status"]], words["yellow"])
        # the drift summary: per VPC and kind, as the drift query counts them
        summary = {r[2]: r for s, t, r in v.rows if t == "drift-summary" and r[0] != "Account"}
        want = {}
        for d in self.drift:
            c = want.setdefault(d["vpc_id"], {"only_in_model": 0, "only_in_vpc": 0, "changed": 0})
            c[d["kind"]] += 1
        self.assertEqual(set(summary), set(want))
        for vpc, c in want.items():
            self.assertEqual(summary[vpc][3:6], [str(c["only_in_model"]), str(c["only_in_vpc"]),
                                                 str(c["changed"])], vpc)
        # the newest entries, with details
        entries = [r for s, t, r in v.rows if t == "drift-entries" and r[0] != "Last seen"]
        self.assertEqual(len(entries), min(50, len(self.drift)))
        text = v.text("drift")
        self.assertIn(pipeline.REMOVED[3], text)
        self.assertIn("i-0e2e0e2e0e2e0e2e1", text)
        self.assertRegex(text, r"publiclyAccessible|publicly_accessible")
        changed = [r for r in entries if r[3] == "changed"]
        self.assertTrue(changed and all("→" in r[6] for r in changed), changed)
        # the CIS section is there and says something
        # the CIS section: per standard the counts `compliance --json` gives, and
        # every NON-COMPLIANT control with its severity and failing resources
        cis = v.text("cis")
        self.assertTrue(cis.startswith("CIS compliance"), cis[:200])
        self.assertNotIn("not available", cis)
        comp = STATE["ds"].json("compliance")
        self.assertTrue(comp["standards"])
        total_bad = 0
        for std in comp["standards"]:
            bad_rows = {r[0]: r for s, t, r in v.rows
                        if t == "noncompliant-" + std["id"] and r[0] != "Control"}
            self.assertEqual(len(bad_rows), sum(1 for c in std["controls"]
                                                if c["status"] == "NON-COMPLIANT"), std["id"])
            self.assertIn("%s (%d controls)" % (std["id"], len(std["controls"])), cis)
            for st in ("NON-COMPLIANT", "WARNING", "NOT_AVAILABLE", "COMPLIANT", "NO_DATA"):
                n = sum(1 for c in std["controls"] if c["status"] == st)
                self.assertIn("%s: %d" % (st, n), cis, (std["id"], st))
            for c in std["controls"]:
                if c["status"] != "NON-COMPLIANT":
                    continue
                total_bad += 1
                row = bad_rows.get(c["control_id"])
                self.assertIsNotNone(row, c["control_id"])
                self.assertEqual(row[1], c["title"])
                self.assertEqual(row[2], c["severity"] or "unknown")
                for res in c["failed_resources"][:10]:
                    self.assertIn(res, row[3])
        self.assertGreater(total_bad, 0)
        self.assertIn("%d non-compliant controls" % total_bad, header)

    def test_5_screenshot(self):
        shot = os.path.join(self.out, "report.png")
        p = chromium("--screenshot=" + shot, "--window-size=1280,2000",
                     "--hide-scrollbars", "file://" + self.path)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(shot, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(png), 20000)  # a page with tables, not a blank sheet
        if KEEP:
            os.makedirs(KEEP, exist_ok=True)
            shutil.copy(shot, KEEP)
            shutil.copy(self.path, KEEP)


def jsonschema_python():
    for py in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if py and subprocess.run([py, "-c", "import jsonschema"],
                                 capture_output=True).returncode == 0:
            return py
    raise AssertionError("no python3 here has jsonschema: run scripts/setup (Debian package "
                         "python3-jsonschema)")


VALIDATE = r"""
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
validator = cls(schema)
threat = cls(schema["properties"]["detail"]["properties"]["diagrams"]["items"]["properties"]
             ["cells"]["items"]["properties"]["threats"]["items"])
bad = 0
for path in sys.argv[2:]:
    doc = json.load(open(path))
    errs = [e for e in validator.iter_errors(doc)]
    for d in doc["detail"]["diagrams"]:
        for c in d["cells"]:
            for t in c.get("data", {}).get("threats", []):
                errs += list(threat.iter_errors(t))
    for e in errs[:5]:
        print("%s: %s at %s" % (path, e.message, "/".join(map(str, e.absolute_path))))
    bad += bool(errs)
print("validated %d, invalid %d" % (len(sys.argv) - 2, bad))
sys.exit(1 if bad else 0)
"""


class ThreatDragon(unittest.TestCase):
    SHAPES = {"process": ("process", "tm.Process"), "data_store": ("store", "tm.Store"),
              "external_interactor": ("actor", "tm.Actor"), "boundary": ("process", "tm.Process")}

    def test_every_vpc_validates(self):
        ds = STATE["ds"]
        out = os.path.join(STATE["work"], "td")
        os.makedirs(out, exist_ok=True)
        status = ds.json("status")
        files = []
        for row in status["vpcs"]:
            spec = "%s/%s/%s" % (row["account_id"], row["region"], row["vpc_id"])
            path = os.path.join(out, row["vpc_id"] + ".json")
            if row["status"] == "yellow":
                p = ds.run("model", "export", spec, path, "--format", "threat-dragon",
                           check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("has no threat model", p.stderr)
                continue
            ds.run("model", "export", spec, path, "--format", "threat-dragon")
            files.append(path)
            model = json.loads(ds.run("model", "export", spec).stdout)
            with open(path) as f:
                td = json.load(f)
            self.check_against_model(model, td, spec)
            # deterministic: a second export is byte for byte the same
            again = ds.run("model", "export", spec, "--format=threat-dragon").stdout
            self.assertEqual(json.loads(again), td)
        self.assertGreaterEqual(len(files), 5)
        p = subprocess.run([jsonschema_python(), "-c", VALIDATE, SCHEMA] + files,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("validated %d, invalid 0" % len(files), p.stdout)
        self.assertEqual(glob.glob(os.path.join(out, "*.tmp")), [])

    def check_against_model(self, model, td, spec):
        cells = td["detail"]["diagrams"][0]["cells"]
        self.assertEqual(td["detail"]["diagrams"][0]["diagramType"], "STRIDE")
        ids = [c["id"] for c in cells]
        self.assertEqual(len(ids), len(set(ids)), spec)
        nodes = [c for c in cells if c["shape"] in ("process", "store", "actor")]
        boxes = [c for c in cells if c["shape"] == "trust-boundary-box"]
        flows = [c for c in cells if c["shape"] == "flow"]
        self.assertEqual(len(boxes), len(model["boundaries"]), spec)
        self.assertEqual(len(flows), len(model["flows"]), spec)
        by_desc = {c["data"]["description"].rsplit(": ", 1)[-1]: c for c in nodes}
        nthreats = 0
        for comp in model["components"]:
            cell = by_desc.get(comp["key"])
            self.assertIsNotNone(cell, (spec, comp["key"]))
            self.assertEqual((cell["shape"], cell["data"]["type"]), self.SHAPES[comp["role"]],
                             comp["key"])
            self.assertEqual(cell["data"]["name"], comp["name"])
            want = sum(len(t["stride"]) for t in comp.get("threats") or [])
            self.assertEqual(len(cell["data"]["threats"]), want, comp["key"])
            self.assertEqual(cell["data"]["hasOpenThreats"], want > 0)
            nthreats += want
            for t in cell["data"]["threats"]:
                self.assertEqual(t["status"], "Open")
                self.assertEqual(t["modelType"], "STRIDE")
        self.assertEqual(td["detail"]["threatTop"], nthreats)
        # every component sits inside the box of its boundary
        box_by_key = {b["data"]["description"].split(" ", 1)[1]: b for b in boxes}
        for comp in model["components"]:
            box = box_by_key.get(comp.get("boundary"))
            if box is None:
                continue
            cell = by_desc[comp["key"]]
            self.assertTrue(box["position"]["x"] <= cell["position"]["x"] and
                            cell["position"]["x"] + cell["size"]["width"] <=
                            box["position"]["x"] + box["size"]["width"] and
                            box["position"]["y"] <= cell["position"]["y"] and
                            cell["position"]["y"] + cell["size"]["height"] <=
                            box["position"]["y"] + box["size"]["height"], (spec, comp["key"]))
        # flows join existing cells
        for f in flows:
            self.assertIn(f["source"]["cell"], ids)
            self.assertIn(f["target"]["cell"], ids)
            self.assertEqual(f["data"]["type"], "tm.Flow")

    def test_bad_format(self):
        ds = STATE["ds"]
        vpc = ds.json("status")["vpcs"][0]["vpc_id"]
        p = ds.run("model", "export", vpc, "--format", "visio", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown format 'visio'", p.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: test_report.py DRIFTSYNC_BINARY SHARED_DIR [Html|ThreatDragon]")
    pipeline.BINARY = os.path.abspath(sys.argv.pop(1))
    sys.argv.pop(1)  # SHARED_DIR: the sample organisation lives in the source tree
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed or result.testsRun == 0 else 0)
