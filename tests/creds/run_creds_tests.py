#!/usr/bin/env python3
"""End-to-end tests of the credentials chain through `driftsync whoami`.

Usage: run_creds_tests.py DRIFTSYNC_BINARY SOURCE_ROOT

STS is the project's emulator (tests/emulator/aws-emulator), started here on
a dataset written to a temp dir (base keys AKIAIOSFODNN7EXAMPLE in account
111111111111, a cross-account role with an external id, a web identity
role); it verifies every SigV4 signature with botocore. IMDS and the
container endpoint are tiny loopback servers defined below, so the exact
request shapes are checked: IMDSv2 token PUT first with the TTL header,
the token on every GET (IMDSv1 GETs are refused), the container
Authorization header. Each case runs the real binary with a clean
environment and a temp HOME and checks stdout, stderr and the exit code,
and that no secret ever shows up in the output.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

BASE_AKID = "AKIAIOSFODNN7EXAMPLE"
BASE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.driftsync-creds-test-token.sig"
CONTAINER_TOKEN = "Bearer container-auth-secret-42"
ROLE = "arn:aws:iam::222222222222:role/DriftSyncReadOnly"
WEB_ROLE = "arn:aws:iam::111111111111:role/DriftSyncWeb"
SECRETS = [BASE_SECRET, WEB_TOKEN, CONTAINER_TOKEN, "container-auth-secret-42"]

ORG = {
    "organization_id": "o-a1b2c3d4e5", "partition": "aws", "regions": ["us-east-1"],
    "base_identity": {"account_id": "111111111111", "arn": "arn:aws:iam::111111111111:user/driftsync",
                      "user_id": "AIDAEXAMPLEUSERID0001", "access_key_id": BASE_AKID,
                      "secret_access_key": BASE_SECRET},
    "accounts": [{"id": "111111111111", "name": "security", "email": "a@example.com"},
                 {"id": "222222222222", "name": "prod", "email": "b@example.com"}],
    "roles": [
        {"arn": ROLE, "trusted": ["arn:aws:iam::111111111111:root"], "external_id": "ext-123",
         "max_session_duration": 3600, "web_identity": False},
        {"arn": WEB_ROLE, "trusted": [], "external_id": None, "max_session_duration": 3600,
         "web_identity": True}],
    "web_identity_tokens": [WEB_TOKEN],
    "instance_role": {"role_name": "driftsync-host", "account_id": "111111111111"},
    "container_authorization_token": "Basic ZHJpZnRzeW5jOmVtdWxhdG9y",
    "aggregators": [],
}

BASE_CREDS_JSON = {"Code": "Success", "AccessKeyId": BASE_AKID, "SecretAccessKey": BASE_SECRET,
                   "Token": None, "Expiration": "2099-01-01T00:00:00Z"}


class Recorder(http.server.BaseHTTPRequestHandler):
    """Shared base: records (method, path, headers) and stays quiet."""
    log = None

    def log_message(self, *args):
        pass

    def record(self):
        self.server.requests.append((self.command, self.path, dict(self.headers.items())))

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ImdsHandler(Recorder):
    TOKEN = "imds-session-token-abc"

    def do_PUT(self):
        self.record()
        if self.path != "/latest/api/token":
            return self.reply(404, "not found")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, "missing or bad ttl")
        self.reply(200, self.TOKEN)

    def do_GET(self):
        self.record()
        if self.headers.get("X-aws-ec2-metadata-token") != self.TOKEN:
            return self.reply(401, "IMDSv1 refused")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, "driftsync-host")
        if self.path == base + "driftsync-host":
            body = dict(BASE_CREDS_JSON, LastUpdated="2026-01-01T00:00:00Z", Type="AWS-HMAC")
            del body["Token"]
            return self.reply(200, json.dumps(body), "application/json")
        self.reply(404, "not found")


class ContainerHandler(Recorder):
    def do_GET(self):
        self.record()
        if self.path != "/v2/credentials/test-id":
            return self.reply(404, "not found")
        if self.headers.get("Authorization") != CONTAINER_TOKEN:
            return self.reply(401, json.dumps({"code": "AccessDenied"}), "application/json")
        body = dict(BASE_CREDS_JSON)
        del body["Token"]
        del body["Code"]
        body["RoleArn"] = "arn:aws:iam::111111111111:role/task"
        self.reply(200, json.dumps(body), "application/json")


def serve(handler):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.requests = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Runner:
    def __init__(self, binary, tmp, sts_url):
        self.binary, self.tmp, self.sts_url = binary, tmp, sts_url
        self.passed = self.failed = 0

    def home(self, name, config=None, credentials=None):
        h = os.path.join(self.tmp, "home-" + name)
        os.makedirs(os.path.join(h, ".aws"), exist_ok=True)
        if config is not None:
            with open(os.path.join(h, ".aws", "config"), "w") as f:
                f.write(config)
        if credentials is not None:
            with open(os.path.join(h, ".aws", "credentials"), "w") as f:
                f.write(credentials)
        return h

    def run(self, name, env, args=(), home=None, rc=0, out=(), err=(), not_err=()):
        full = {"PATH": "/usr/bin:/bin", "HOME": home or self.home("empty"),
                "AWS_ENDPOINT_URL_STS": self.sts_url, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_MAX_ATTEMPTS": "1"}
        full.update(env)
        p = subprocess.run([self.binary, "whoami"] + list(args), env=full, capture_output=True,
                           text=True, timeout=60)
        problems = []
        if p.returncode != rc:
            problems.append("exit %d, want %d" % (p.returncode, rc))
        for s in out:
            if s not in p.stdout:
                problems.append("stdout lacks %r" % s)
        for s in err:
            if s not in p.stderr:
                problems.append("stderr lacks %r" % s)
        for s in not_err:
            if s in p.stderr:
                problems.append("stderr has %r" % s)
        for s in SECRETS:
            if s in p.stdout or s in p.stderr:
                problems.append("a secret leaked into the output")
        if problems:
            self.failed += 1
            print("FAIL %s: %s\n  stdout: %s\n  stderr: %s" % (name, "; ".join(problems),
                                                              p.stdout.strip(), p.stderr.strip()))
        else:
            self.passed += 1
            print("ok   %s" % name)
        return p

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   %s" % name)
        else:
            self.failed += 1
            print("FAIL %s %s" % (name, detail))


def start_emulator(root, tmp):
    data = os.path.join(tmp, "org")
    os.makedirs(data)
    with open(os.path.join(data, "org.json"), "w") as f:
        json.dump(ORG, f)
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "emulator.log"), "w")
    proc = subprocess.Popen([sys.executable, os.path.join(root, "tests/emulator/aws-emulator"),
                             "--data", data, "--port-file", port_file],
                            stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return proc, "http://127.0.0.1:%s" % open(port_file).read().strip()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    log.close()
    sys.exit("aws-emulator did not start; its log:\n" + open(os.path.join(tmp, "emulator.log")).read())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    tmp = tempfile.mkdtemp(prefix="driftsync-creds-")
    emu, sts_url = start_emulator(root, tmp)
    imds, cont = serve(ImdsHandler), serve(ContainerHandler)
    t = Runner(binary, tmp, sts_url)
    base_env = {"AWS_ACCESS_KEY_ID": BASE_AKID, "AWS_SECRET_ACCESS_KEY": BASE_SECRET}
    try:
        # 1. environment
        t.run("env keys", base_env, out=["account:     111111111111",
              "arn:         arn:aws:iam::111111111111:user/driftsync",
              "user id:     AIDAEXAMPLEUSERID0001", "credentials: environment"])
        p = t.run("env keys --json", base_env, args=["--json"])
        try:
            j = json.loads(p.stdout)
            t.check("json output", j == {"account": "111111111111",
                                         "arn": "arn:aws:iam::111111111111:user/driftsync",
                                         "user_id": "AIDAEXAMPLEUSERID0001", "source": "environment"}, p.stdout)
        except ValueError:
            t.check("json output", False, p.stdout)
        t.run("env partial", {"AWS_ACCESS_KEY_ID": BASE_AKID}, rc=1,
              err=["environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"])
        t.run("env wrong secret", {"AWS_ACCESS_KEY_ID": BASE_AKID,
                                   "AWS_SECRET_ACCESS_KEY": BASE_SECRET[:-3] + "xyz"}, rc=1,
              err=["SignatureDoesNotMatch"], not_err=[BASE_SECRET[:-3]])

        # 2. nothing anywhere: every source says why it was skipped
        t.run("nothing found", {}, rc=1, err=[
            "no AWS credentials found (", "environment: AWS_ACCESS_KEY_ID not set",
            "web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set", "shared config: profile 'default': neither",
            "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set",
            "imds: disabled by AWS_EC2_METADATA_DISABLED"])

        # 3. shared files: static keys, credential_process, assume role
        proc_dir = os.path.join(tmp, "proc")
        os.makedirs(proc_dir)
        scripts = {
            "good.sh": "printf '{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", "
                       "\"Expiration\": \"2099-01-01T00:00:00Z\"}'\n" % (BASE_AKID, BASE_SECRET),
            "fail.sh": "echo 'token expired: run login-helper' >&2\nexit 3\n",
            "badjson.sh": "printf '{\"Version\": 1, \"SecretAccessKey\": \"%s\"' \n" % BASE_SECRET,
            "expired.sh": "printf '{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", "
                          "\"Expiration\": \"2001-02-03T04:05:06Z\"}'\n" % (BASE_AKID, BASE_SECRET),
        }
        for name, body in scripts.items():
            with open(os.path.join(proc_dir, name), "w") as f:
                f.write("#!/bin/sh\n" + body)
        config = ("[default]\nregion = us-east-1\n\n"
                  "[profile ops]\ncredential_process = sh %(d)s/good.sh\n"
                  "[profile opsfail]\ncredential_process = sh %(d)s/fail.sh\n"
                  "[profile opsjson]\ncredential_process = sh %(d)s/badjson.sh\n"
                  "[profile opsexpired]\ncredential_process = sh %(d)s/expired.sh\n"
                  "[profile prod]\nrole_arn = %(r)s\nsource_profile = static\nexternal_id = ext-123\n"
                  "duration_seconds = 900\nrole_session_name = creds-e2e\n"
                  "[profile prod-noext]\nrole_arn = %(r)s\nsource_profile = static\n"
                  "[profile prod-via-ops]\nrole_arn = %(r)s\nsource_profile = ops\nexternal_id = ext-123\n"
                  "[profile prod-env]\nrole_arn = %(r)s\ncredential_source = Environment\nexternal_id = ext-123\n"
                  "[profile loop1]\nrole_arn = %(r)s\nsource_profile = loop2\n"
                  "[profile loop2]\nrole_arn = %(r)s\nsource_profile = loop1\n"
                  % {"d": proc_dir, "r": ROLE})
        credentials = ("[static]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                       "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                       % (BASE_AKID, BASE_SECRET, BASE_AKID, BASE_SECRET))
        home = t.home("profiles", config, credentials)
        t.run("profile default static keys", {}, home=home,
              out=["account:     111111111111", "credentials: profile 'default'"])
        t.run("profile static via AWS_PROFILE", {"AWS_PROFILE": "static"}, home=home,
              out=["credentials: profile 'static'"])
        t.run("credential_process good", {"AWS_PROFILE": "ops"}, home=home,
              out=["account:     111111111111", "credentials: profile 'ops' (credential_process)"])
        t.run("credential_process exit 3", {"AWS_PROFILE": "opsfail"}, home=home, rc=1,
              err=["credential_process in profile 'opsfail' exited 3: token expired: run login-helper"])
        t.run("credential_process bad JSON", {"AWS_PROFILE": "opsjson"}, home=home, rc=1,
              err=["credential_process in profile 'opsjson': output is not valid JSON (line 1"])
        t.run("credential_process expired", {"AWS_PROFILE": "opsexpired"}, home=home, rc=1,
              err=["credential_process in profile 'opsexpired' returned credentials that expired at "
                   "2001-02-03T04:05:06Z"])
        t.run("assume role via source_profile + external_id", {"AWS_PROFILE": "prod"}, home=home,
              out=["account:     222222222222",
                   "arn:         arn:aws:sts::222222222222:assumed-role/DriftSyncReadOnly/creds-e2e",
                   "credentials: profile 'prod' (assume-role %s)" % ROLE])
        t.run("assume role without the external id", {"AWS_PROFILE": "prod-noext"}, home=home, rc=1,
              err=["assume-role '%s'" % ROLE, "AccessDenied"])
        t.run("assume role from credential_process", {"AWS_PROFILE": "prod-via-ops"}, home=home,
              out=["account:     222222222222"])
        # the environment source comes first, so credential_source = Environment only shows
        # when it is missing: a configured profile must not fall through to the next source
        t.run("assume role credential_source Environment unset", {"AWS_PROFILE": "prod-env"},
              home=home, rc=1, err=["AWS_ACCESS_KEY_ID not set"], not_err=["no AWS credentials found"])
        t.run("source_profile cycle", {"AWS_PROFILE": "loop1"}, home=home, rc=1,
              err=["source_profile cycle: loop1 -> loop2 -> loop1"])
        t.run("unknown profile", {"AWS_PROFILE": "nope"}, home=home, rc=1,
              err=["profile 'nope' not found in"])
        t.run("--role-arn with env keys", base_env,
              args=["--role-arn", ROLE, "--external-id", "ext-123", "--json"],
              out=['"account": "222222222222"', '"source": "assume-role %s"' % ROLE])
        t.run("--role-arn wrong external id", base_env,
              args=["--role-arn", ROLE, "--external-id", "wrong"], rc=1, err=["AccessDenied"])
        t.run("--external-id without --role-arn", base_env, args=["--external-id", "x"], rc=2,
              err=["--external-id needs --role-arn"])

        # 4. web identity
        tok = os.path.join(tmp, "web-token")
        with open(tok, "w") as f:
            f.write(WEB_TOKEN + "\n")
        t.run("web identity", {"AWS_WEB_IDENTITY_TOKEN_FILE": tok, "AWS_ROLE_ARN": WEB_ROLE,
                               "AWS_ROLE_SESSION_NAME": "pod-1"},
              out=["arn:         arn:aws:sts::111111111111:assumed-role/DriftSyncWeb/pod-1",
                   "credentials: web-identity %s" % WEB_ROLE])
        bad = os.path.join(tmp, "bad-token")
        with open(bad, "w") as f:
            f.write("eyJ.not-accepted.sig")
        t.run("web identity bad token", {"AWS_WEB_IDENTITY_TOKEN_FILE": bad, "AWS_ROLE_ARN": WEB_ROLE},
              rc=1, err=["web-identity '%s'" % WEB_ROLE], not_err=["eyJ.not-accepted.sig"])
        t.run("web identity missing file", {"AWS_WEB_IDENTITY_TOKEN_FILE": tok + ".missing",
                                            "AWS_ROLE_ARN": WEB_ROLE},
              rc=1, err=["web identity token file: cannot open"])

        # 5. container endpoint (FULL_URI on loopback; RELATIVE_URI goes to 169.254.170.2)
        cont_url = "http://127.0.0.1:%d/v2/credentials/test-id" % cont.server_address[1]
        cont.requests.clear()
        t.run("container full URI + token", {"AWS_CONTAINER_CREDENTIALS_FULL_URI": cont_url,
                                             "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_TOKEN},
              out=["account:     111111111111", "credentials: container"])
        t.check("container request shape", len(cont.requests) == 1 and cont.requests[0][0] == "GET"
                and cont.requests[0][2].get("Authorization") == CONTAINER_TOKEN, str(cont.requests))
        tokfile = os.path.join(tmp, "container-token")
        with open(tokfile, "w") as f:
            f.write(CONTAINER_TOKEN + "\n")
        t.run("container token file wins", {"AWS_CONTAINER_CREDENTIALS_FULL_URI": cont_url,
                                            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong",
                                            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokfile},
              out=["credentials: container"])
        t.run("container wrong token", {"AWS_CONTAINER_CREDENTIALS_FULL_URI": cont_url,
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong"},
              rc=1, err=["container endpoint 127.0.0.1 answered HTTP 401"])
        t.run("container host not allowed", {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.10/creds"},
              rc=1, err=["host '192.0.2.10' is not allowed over http"])
        t.run("container relative URI", {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"},
              rc=1, err=["169.254.170.2"])

        # 6. IMDSv2
        imds_url = "http://127.0.0.1:%d" % imds.server_address[1]
        imds.requests.clear()
        t.run("imds v2", {"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_url},
              out=["account:     111111111111", "credentials: imds role 'driftsync-host'"])
        seq = [(m, pth) for m, pth, _ in imds.requests]
        t.check("imds request order", seq == [
            ("PUT", "/latest/api/token"),
            ("GET", "/latest/meta-data/iam/security-credentials/"),
            ("GET", "/latest/meta-data/iam/security-credentials/driftsync-host")], str(seq))
        t.check("imds ttl header", imds.requests and
                imds.requests[0][2].get("X-aws-ec2-metadata-token-ttl-seconds") == "21600")
        t.check("imds token on every GET", all(h.get("X-aws-ec2-metadata-token") == ImdsHandler.TOKEN
                                                for m, _, h in imds.requests if m == "GET"))
        imds.requests.clear()
        t.run("imds disabled", {"AWS_EC2_METADATA_DISABLED": "true",
                                "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_url},
              rc=1, err=["imds: disabled by AWS_EC2_METADATA_DISABLED"])
        t.check("imds disabled sends nothing", imds.requests == [], str(imds.requests))
        t.run("imds unreachable", {"AWS_EC2_METADATA_DISABLED": "",
                                   "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"},
              rc=1, err=["imds: no IMDS at http://127.0.0.1:1"])

        # 7. chain order: environment beats the profile, the profile beats IMDS
        t.run("chain order env first", dict(base_env, AWS_PROFILE="ops"), home=home,
              out=["credentials: environment"])
        t.run("chain order profile before imds", {"AWS_PROFILE": "ops", "AWS_EC2_METADATA_DISABLED": "",
                                                 "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_url},
              home=home, out=["credentials: profile 'ops' (credential_process)"])
    finally:
        emu.terminate()
        try:
            emu.wait(10)
        except subprocess.TimeoutExpired:
            emu.kill()
        imds.shutdown()
        cont.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (t.passed, t.failed))
    return 0 if t.failed == 0 and t.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
