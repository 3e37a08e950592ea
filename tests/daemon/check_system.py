#!/usr/bin/env python3
"""System integration checks, one group per argument:

  units    `systemd-analyze verify --man=no` accepts the three units (a temp
           copy naming the built binary), and `systemd-analyze security
           --offline=yes` rates driftsync.service and driftsync-once.service
           at an exposure of 1.5 or lower. Exit 77 (skipped) with the reason
           when systemd-analyze is absent.
  install  `cmake --install` into a DESTDIR puts binary, units (rewritten for
           the prefix), example config (not overwriting an edited one),
           mapping rules and man pages in place; `cpack -G DEB` builds a
           package holding them with the config as a conffile.
  man      both man pages format without groff warnings, and document every
           command and option of a fresh `driftsync --help` / `CMD --help`,
           and every top-level key of examples/driftsync.yaml.

usage: check_system.py GROUP DRIFTSYNC_BINARY BUILD_DIR SOURCE_DIR
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

UNITS = ("driftsync.service", "driftsync-once.service", "driftsync.timer")
MAX_EXPOSURE = 1.5

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED: " + what)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def units(binary, build, src):
    sa = shutil.which("systemd-analyze")
    if sa is None:
        print("skipped: systemd-analyze is not installed")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="driftsync-units-")
    try:
        for u in UNITS:
            with open(os.path.join(src, "systemd", u)) as f:
                text = f.read()
            with open(os.path.join(tmp, u), "w") as f:
                f.write(text.replace("/usr/bin/driftsync", os.path.abspath(binary)))
        paths = [os.path.join(tmp, u) for u in UNITS]
        p = run([sa, "verify", "--man=no"] + paths, cwd=tmp)
        print("verify: rc %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
        check(p.returncode == 0, "systemd-analyze verify exit %d" % p.returncode)
        noise = [ln for ln in (p.stdout + p.stderr).splitlines() if "driftsync" in ln]
        check(not noise, "systemd-analyze verify complains: %s" % noise)
        for u in ("driftsync.service", "driftsync-once.service"):
            p = run([sa, "security", "--offline=yes", "--no-pager",
                     os.path.join(src, "systemd", u)])
            m = re.search(r"Overall exposure level for %s: ([0-9.]+)" % re.escape(u),
                          p.stdout + p.stderr)
            check(m is not None, "no exposure level for %s:\n%s%s" % (u, p.stdout, p.stderr))
            if m:
                level = float(m.group(1))
                print("%s: exposure %.1f" % (u, level))
                check(level <= MAX_EXPOSURE, "%s exposure %.1f > %.1f" % (u, level, MAX_EXPOSURE))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read(path):
    with open(path) as f:
        return f.read()


def install(binary, build, src):
    tmp = tempfile.mkdtemp(prefix="driftsync-install-")
    try:
        root = os.path.join(tmp, "root")
        env = dict(os.environ, DESTDIR=root)
        p = run(["cmake", "--install", build, "--prefix", "/usr"], env=env)
        check(p.returncode == 0, "cmake --install: %s%s" % (p.stdout, p.stderr))
        want = {
            "usr/bin/driftsync": None,
            "usr/lib/systemd/system/driftsync.service": None,
            "usr/lib/systemd/system/driftsync-once.service": None,
            "usr/lib/systemd/system/driftsync.timer": None,
            "etc/driftsync/driftsync.yaml": os.path.join(src, "examples", "driftsync.yaml"),
            "usr/share/doc/driftsync/examples/driftsync.yaml":
                os.path.join(src, "examples", "driftsync.yaml"),
            "usr/share/driftsync/rules.yaml": os.path.join(src, "mapping", "rules.yaml"),
            "usr/share/man/man8/driftsync.8": os.path.join(src, "docs", "driftsync.8"),
            "usr/share/man/man5/driftsync.yaml.5": os.path.join(src, "docs", "driftsync.yaml.5"),
        }
        for rel, same_as in want.items():
            path = os.path.join(root, rel)
            check(os.path.isfile(path), "not installed: /" + rel)
            if same_as and os.path.isfile(path):
                check(read(path) == read(same_as), "/%s differs from %s" % (rel, same_as))
        svc = read(os.path.join(root, "usr/lib/systemd/system/driftsync.service"))
        check("ExecStart=/usr/bin/driftsync --config /etc/driftsync/driftsync.yaml daemon" in svc,
              "ExecStart of the installed unit")
        conf = os.path.join(root, "etc/driftsync/driftsync.yaml")
        mode = os.stat(conf).st_mode & 0o777
        check(mode & 0o022 == 0, "installed config is writable by others (%o)" % mode)
        # an edited configuration survives a second install
        with open(conf, "a") as f:
            f.write("# edited by the administrator\n")
        p = run(["cmake", "--install", build, "--prefix", "/usr"], env=env)
        check(p.returncode == 0, "second cmake --install")
        check("Keeping existing" in p.stdout, "no 'Keeping existing' message:\n" + p.stdout)
        check(read(conf).endswith("# edited by the administrator\n"), "config overwritten")
        # another prefix: units name that prefix
        root2 = os.path.join(tmp, "root2")
        p = run(["cmake", "--install", build, "--prefix", "/opt/ds"],
                env=dict(os.environ, DESTDIR=root2))
        check(p.returncode == 0, "cmake --install --prefix /opt/ds")
        svc = read(os.path.join(root2, "opt/ds/lib/systemd/system/driftsync.service"))
        check("ExecStart=/opt/ds/bin/driftsync --config /opt/ds/etc/driftsync/driftsync.yaml"
              in svc, "ExecStart under /opt/ds:\n" + svc)
        check(os.path.isfile(os.path.join(root2, "opt/ds/etc/driftsync/driftsync.yaml")),
              "config under /opt/ds/etc")
        # the Debian package
        cfg = os.path.join(build, "CPackConfig.cmake")
        check(os.path.isfile(cfg), "no CPackConfig.cmake in " + build)
        pkgdir = os.path.join(tmp, "pkg")
        p = run(["cpack", "-G", "DEB", "--config", cfg, "-B", pkgdir])
        check(p.returncode == 0, "cpack: %s%s" % (p.stdout, p.stderr))
        debs = [f for f in os.listdir(pkgdir) if f.endswith(".deb")] if p.returncode == 0 else []
        check(len(debs) == 1, "one .deb expected, got %s" % debs)
        if debs and shutil.which("dpkg-deb"):
            deb = os.path.join(pkgdir, debs[0])
            listing = run(["dpkg-deb", "-c", deb]).stdout
            for rel in want:
                check(re.search(r" \./%s$" % re.escape(rel), listing, re.M) is not None,
                      "package lacks /" + rel)
            info = run(["dpkg-deb", "-I", deb]).stdout
            check("Package: driftsync" in info, "package name")
            check("libcurl4" in info, "Depends")
            # every shared library the binary needs is a dependency of the
            # package: jemalloc (release builds) included
            ldd = run(["ldd", binary]).stdout if shutil.which("ldd") else ""
            if "libjemalloc.so" in ldd:
                check("libjemalloc2" in info, "Depends lacks libjemalloc2 (the binary links it)")
            conff = run(["dpkg-deb", "--ctrl-tarfile", deb]).stdout is not None
            ctl = os.path.join(tmp, "ctl")
            p = run(["dpkg-deb", "-e", deb, ctl])
            check(p.returncode == 0 and conff, "dpkg-deb -e")
            check(os.path.isfile(os.path.join(ctl, "conffiles")) and
                  "/etc/driftsync/driftsync.yaml" in read(os.path.join(ctl, "conffiles")),
                  "the configuration is not a conffile")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def roff_text(s):
    return s.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")


def man(binary, build, src):
    pages = {n: os.path.join(src, "docs", n) for n in ("driftsync.8", "driftsync.yaml.5")}
    for name, path in pages.items():
        p = run(["groff", "-man", "-Tutf8", "-ww", "-z", path], env=dict(os.environ,
                                                                        LC_ALL="C.UTF-8"))
        check(p.returncode == 0 and not p.stderr.strip(),
              "groff warnings for %s: %s" % (name, p.stderr))
    page8 = roff_text(read(pages["driftsync.8"]))
    top = run([binary, "--help"]).stdout
    section = top.split("commands:", 1)[1].split("\n\n", 1)[0]
    commands = [ln.split()[0] for ln in section.splitlines() if ln.strip()]
    check(len(commands) >= 5, "commands parsed from --help: %s" % commands)
    for cmd in commands:
        check(re.search(r"^\.B %s\b" % re.escape(cmd), page8, re.M) is not None,
              "driftsync.8 does not document command '%s'" % cmd)
        usage = run([binary, cmd, "--help"]).stdout
        for opt in sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", usage))):
            check(opt in page8, "driftsync.8 does not document %s %s" % (cmd, opt))
    for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", top):
        check(opt in page8, "driftsync.8 does not document global option %s" % opt)
    page5 = roff_text(read(pages["driftsync.yaml.5"]))
    example = read(os.path.join(src, "examples", "driftsync.yaml"))
    keys = set(re.findall(r"^#? ?([a-z_]+):", example, re.M))
    check(len(keys) >= 10, "keys parsed from the example: %s" % keys)
    for k in sorted(keys):
        check(re.search(r"^\.BR? %s\b" % re.escape(k), page5, re.M) is not None,
              "driftsync.yaml.5 does not document key '%s'" % k)


def malloc(binary, build, src):
    del src
    cache = read(os.path.join(build, "CMakeCache.txt"))
    on = re.search(r"^DRIFTSYNC_JEMALLOC:BOOL=(ON|TRUE|1)$", cache, re.M | re.I) is not None
    asan = re.search(r"^CMAKE_BUILD_TYPE:\w+=Asan$", cache, re.M) is not None
    want = on and not asan
    ldd = run(["ldd", binary]).stdout
    check(("libjemalloc.so" in ldd) == want,
          "links jemalloc: %s, the build asked for it: %s" % ("libjemalloc.so" in ldd, want))
    env = dict(os.environ)
    env.pop("MALLOC_CONF", None)
    out = run([binary, "version"], env=env).stdout
    line = [ln for ln in out.splitlines() if ln.startswith("memory allocator: ")]
    check(len(line) == 1, "`driftsync version` names no allocator: %r" % out)
    line = line[0] if line else ""
    if want:
        check(re.search(r"^memory allocator: jemalloc 5\.\S+, 1 arena$", line) is not None,
              "jemalloc with one arena (malloc_conf in main.c): %r" % line)
        env["MALLOC_CONF"] = "narenas:3"
        out = run([binary, "version"], env=env).stdout
        check("jemalloc" in out and ", 3 arenas" in out, "MALLOC_CONF overrides: %r" % out)
    else:
        check(line == "memory allocator: glibc malloc", "glibc's malloc: %r" % line)


if __name__ == "__main__":
    groups = {"units": units, "install": install, "man": man, "malloc": malloc}
    if len(sys.argv) != 5 or sys.argv[1] not in groups:
        sys.exit(__doc__)
    group, binary, build, src = sys.argv[1:]
    groups[group](binary, build, src)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)
