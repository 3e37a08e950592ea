/*
 * test_creds_profile.c: the shared config/credentials parser (data files
 * in tests/data/creds/ini, one expected message per bad file), profile
 * resolution through a temporary HOME (static keys, credentials-file
 * precedence, credential_process, every role_arn misconfiguration,
 * source_profile cycles) and credential_process itself (good output, exit
 * codes with stderr, bad JSON, expired, wrong Version, timeout, output
 * cap). Also checks that no error message quotes a secret.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/buf.h"
#include "daemon/err.h"
#include "daemon/util.h"
#include "providers/aws/creds.h"
#include "providers/aws/creds_int.h"
#include "testutil.h"

#define PSECRET "proc-secret-value-1234"
#define PTOKEN  "proc-session-token-5678"

static char datadir[1024];
static char tmpdir[256];
static char seen[64][ERR_MSG_MAX];
static size_t nseen;

static void
remember(const struct err *e)
{
    if (nseen < 64)
        memcpy(seen[nseen++], e->msg, ERR_MSG_MAX);
}

static int
read_text(const char *path, struct buf *b)
{
    struct err e;

    buf_init(b, 1 << 20);
    if (util_read_file(path, b, &e) < 0) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    return 0;
}

static void
write_file(const char *name, const char *text)
{
    char path[600];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return;
    }
    fputs(text, f);
    fclose(f);
}

static void
test_parse_ok(void)
{
    struct creds_ini ini;
    struct buf cfg, cred;
    const struct creds_profile_data *p;
    const struct creds_kv *kv;
    char path[1100];
    struct err e;

    memset(&ini, 0, sizeof(ini));
    snprintf(path, sizeof(path), "%s/ini/config", datadir);
    if (read_text(path, &cfg) < 0)
        return;
    snprintf(path, sizeof(path), "%s/ini/credentials", datadir);
    if (read_text(path, &cred) < 0)
        return;
    CHECK(creds_ini_parse(&ini, "config", cfg.data, cfg.len, 1, &e) == 0);
    CHECK(creds_ini_parse(&ini, "credentials", cred.data, cred.len, 0, &e) == 0);

    p = creds_ini_profile(&ini, "default");
    CHECK(p != NULL);
    CHECK_STR(creds_ini_get(p, "region"), "eu-west-1");
    CHECK_STR(creds_ini_get(p, "output"), "json");
    CHECK_STR(creds_ini_get(p, "aws_access_key_id"), "AKIDDEFAULT");

    p = creds_ini_profile(&ini, "ops");
    CHECK(p != NULL);
    /* "[ops]" in the config file is not a profile; the s3 sub-section is skipped */
    CHECK_STR(creds_ini_get(p, "region"), "us-east-2");
    CHECK(creds_ini_get(p, "max_concurrent_requests") == NULL);
    CHECK(creds_ini_get(p, "s3") == NULL);
    CHECK_STR(creds_ini_get(p, "credential_process"), "/usr/bin/env printf '{\"Version\": 1}'");

    p = creds_ini_profile(&ini, "spaced");
    CHECK(p != NULL);
    CHECK_STR(creds_ini_get(p, "region"), "sa-east-1"); /* keys are case-insensitive */
    CHECK_STR(creds_ini_get(p, "source_profile"), "base");

    /* the credentials file wins key by key */
    p = creds_ini_profile(&ini, "base");
    CHECK(p != NULL);
    CHECK_STR(creds_ini_get(p, "aws_access_key_id"), "AKIDCONFIG");
    CHECK_STR(creds_ini_get(p, "aws_secret_access_key"), "credentials-file-wins");
    kv = creds_ini_get_kv(p, "aws_secret_access_key");
    CHECK(kv != NULL && strcmp(kv->where, "credentials:6") == 0);
    kv = creds_ini_get_kv(p, "aws_access_key_id");
    CHECK(kv != NULL && strcmp(kv->where, "config:27") == 0);

    /* "[profile x]" in the credentials file is taken literally */
    CHECK(creds_ini_profile(&ini, "profile literal") != NULL);
    CHECK(creds_ini_profile(&ini, "literal") == NULL);
    CHECK(creds_ini_profile(&ini, "corp") == NULL);
    CHECK(creds_ini_profile(&ini, "sso-session corp") == NULL);
    creds_ini_clear(&ini);
    creds_ini_clear(&ini);

    /* continuation lines, CRLF, comments between */
    {
        const char *t = "[profile c]\r\ncmd = first\r\n  second\r\n# note\r\nk=v\r\n";
        CHECK(creds_ini_parse(&ini, "mem", t, strlen(t), 1, &e) == 0);
        CHECK_STR(creds_ini_get(creds_ini_profile(&ini, "c"), "cmd"), "first\nsecond");
        CHECK_STR(creds_ini_get(creds_ini_profile(&ini, "c"), "k"), "v");
        creds_ini_clear(&ini);
        t = "[default]\nk = a\0b\n";
        CHECK(creds_ini_parse(&ini, "mem", t, 16, 1, &e) < 0);
        CHECK_CONTAINS(e.msg, "mem:2: NUL byte in line");
        creds_ini_clear(&ini);
    }
    buf_clear(&cfg);
    buf_clear(&cred);
}

static void
test_parse_bad(void)
{
    char dir[1100], path[1400];
    struct dirent *de;
    int n = 0;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/ini/bad", datadir);
    d = opendir(dir);
    CHECK(d != NULL);
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        struct creds_ini ini;
        struct buf text, want;
        struct err e;
        size_t l = strlen(de->d_name);

        if (de->d_name[0] == '.' || (l > 4 && strcmp(de->d_name + l - 4, ".err") == 0))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (read_text(path, &text) < 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s.err", dir, de->d_name);
        if (read_text(path, &want) < 0) {
            buf_clear(&text);
            continue;
        }
        while (want.len > 0 && want.data[want.len - 1] == '\n')
            want.data[--want.len] = '\0';
        memset(&ini, 0, sizeof(ini));
        CHECK_MSG(creds_ini_parse(&ini, de->d_name, text.data, text.len, 1, &e) < 0, "%s",
            de->d_name);
        CHECK_INT(e.kind, ERR_CONFIG);
        CHECK_CONTAINS(e.msg, want.data);
        creds_ini_clear(&ini);
        buf_clear(&text);
        buf_clear(&want);
        n++;
    }
    closedir(d);
    CHECK(n >= 7);
}

static int
get_via_profile(const char *profile, struct creds **ret, struct err *e)
{
    struct creds_provider *p = NULL;
    int rc;

    if (creds_provider_profile(NULL, profile, &p, e) < 0)
        return -1;
    rc = creds_provider_get(p, ret, e);
    creds_provider_free(p);
    return rc;
}

static void
test_profiles(void)
{
    char home[300], text[4096];
    struct creds *c = NULL;
    struct err e;

    snprintf(home, sizeof(home), "%s/home", tmpdir);
    setenv("HOME", home, 1);
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_DEFAULT_PROFILE");

    /* no files: not found for the default profile, an error for a named one */
    CHECK(get_via_profile(NULL, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_NOTFOUND);
    CHECK_CONTAINS(e.msg, "profile 'default': neither ");
    setenv("AWS_PROFILE", "ops", 1);
    CHECK(get_via_profile(NULL, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_CONFIG);
    unsetenv("AWS_PROFILE");

    mkdir(home, 0700);
    snprintf(text, sizeof(text), "%s/home/.aws", tmpdir);
    mkdir(text, 0700);
    write_file("home/.aws/credentials",
        "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = " PSECRET "\n"
        "aws_session_token = " PTOKEN "\n"
        "[partial]\naws_access_key_id = AKIDPARTIAL\n"
        "[regiononly]\nregion = eu-west-1\n");
    snprintf(text, sizeof(text),
        "[profile proc]\ncredential_process = sh %s/proc/good.sh 2099-01-01T00:00:00Z\n"
        "[profile procfail]\ncredential_process = sh %s/proc/fail.sh\n"
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
        "[profile missing-src]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = nope\n"
        "[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"
        "credential_source = Environment\n"
        "[profile badsrc]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Laptop\n"
        "[profile nosrc]\nrole_arn = arn:aws:iam::1:role/x\n"
        "[profile baddur]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n"
        "duration_seconds = 10\n"
        "[profile wit]\nweb_identity_token_file = /tmp/t\n"
        "[profile self]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = self\n"
        "[profile deep]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = a\n",
        datadir, datadir);
    write_file("home/.aws/config", text);

    CHECK(get_via_profile(NULL, &c, &e) == 0);
    if (c != NULL) {
        CHECK_STR(c->access_key_id, "AKIDHOME");
        CHECK_STR(c->secret_access_key, PSECRET);
        CHECK_STR(c->session_token, PTOKEN);
        CHECK_STR(c->source, "profile 'default'");
        creds_free(c);
        c = NULL;
    }
    setenv("AWS_PROFILE", "proc", 1);
    CHECK(get_via_profile(NULL, &c, &e) == 0);
    if (c != NULL) {
        CHECK_STR(c->access_key_id, "ASIAPROCESS");
        CHECK_STR(c->session_token, PTOKEN);
        CHECK_STR(c->source, "profile 'proc' (credential_process)");
        CHECK_INT(c->expiration, 4070908800);
        creds_free(c);
        c = NULL;
    }
    unsetenv("AWS_PROFILE");

#define BAD(profile, want_kind, text)                                                                   \
    do {                                                                                           \
        CHECK_MSG(get_via_profile(profile, &c, &e) < 0, "profile %s", profile);                    \
        CHECK_INT(e.kind, want_kind);                                                              \
        CHECK_CONTAINS(e.msg, text);                                                               \
        remember(&e);                                                                              \
    } while (0)
    BAD("procfail", ERR_AUTH,
        "credential_process in profile 'procfail' exited 3: sso session expired, run aws sso "
        "login");
    BAD("a", ERR_CONFIG, "source_profile cycle: a -> b -> a");
    BAD("deep", ERR_CONFIG, "source_profile cycle: deep -> a -> b -> a");
    BAD("missing-src", ERR_CONFIG, "profile 'missing-src': source_profile 'nope' not found in");
    BAD("both", ERR_CONFIG, "profile 'both' sets both source_profile and credential_source");
    BAD("badsrc", ERR_CONFIG, "unknown credential_source 'Laptop'");
    BAD("nosrc", ERR_CONFIG,
        "profile 'nosrc' has role_arn but no source_profile, credential_source or "
        "web_identity_token_file");
    BAD("baddur", ERR_CONFIG, "duration_seconds '10' must be a number in 900..43200");
    BAD("wit", ERR_CONFIG, "profile 'wit' has web_identity_token_file but no role_arn");
    BAD("self", ERR_CONFIG, "profile 'self' is its own source_profile but has no static keys");
    BAD("partial", ERR_CONFIG, "profile 'partial' has aws_access_key_id but not "
                               "aws_secret_access_key");
    BAD("regiononly", ERR_NOTFOUND, "profile 'regiononly' has no credentials");
    BAD("nosuch", ERR_CONFIG, "profile 'nosuch' not found in ");
    /* places are named: the config file and line */
    CHECK(get_via_profile("baddur", &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "/home/.aws/config:26: duration_seconds");
#undef BAD

    /* AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE move the files; a syntax error is reported */
    snprintf(text, sizeof(text), "%s/alt-config", tmpdir);
    write_file("alt-config", "[default]\nbroken line\n");
    setenv("AWS_CONFIG_FILE", text, 1);
    CHECK(get_via_profile(NULL, &c, &e) < 0);
    CHECK_INT(e.kind, ERR_CONFIG);
    CHECK_CONTAINS(e.msg, "alt-config:2: expected 'key = value'");
    unsetenv("AWS_CONFIG_FILE");
}

static void
test_process(void)
{
    char cmd[1400];
    struct creds *c = NULL;
    struct err e;
    const char *what = "credential_process in profile 'ops'";
    time_t now = time(NULL);
    int64_t t0;

    snprintf(cmd, sizeof(cmd), "sh %s/proc/good.sh 2099-01-01T00:00:00Z", datadir);
    CHECK(creds_process_run(cmd, what, 0, now, &c, &e) == 0);
    if (c != NULL) {
        CHECK_STR(c->access_key_id, "ASIAPROCESS");
        CHECK_STR(c->secret_access_key, PSECRET);
        CHECK_STR(c->session_token, PTOKEN);
        CHECK_STR(c->source, "credential_process");
        creds_free(c);
        c = NULL;
    }
    snprintf(cmd, sizeof(cmd), "sh %s/proc/static.sh", datadir);
    CHECK(creds_process_run(cmd, what, 0, now, &c, &e) == 0);
    if (c != NULL) {
        CHECK(c->session_token == NULL);
        CHECK_INT(c->expiration, 0);
        creds_free(c);
        c = NULL;
    }
    setenv("CREDS_TEST_AKID", "AKIAFROMENV", 1);
    snprintf(cmd, sizeof(cmd), "sh %s/proc/env.sh", datadir);
    CHECK(creds_process_run(cmd, what, 0, now, &c, &e) == 0);
    if (c != NULL) {
        CHECK_STR(c->access_key_id, "AKIAFROMENV");
        creds_free(c);
        c = NULL;
    }

#define BADP(command, want_kind, text)                                                                  \
    do {                                                                                           \
        CHECK_MSG(creds_process_run(command, what, 2000, now, &c, &e) < 0, "%s", command);        \
        CHECK_INT(e.kind, want_kind);                                                              \
        CHECK_CONTAINS(e.msg, text);                                                               \
        remember(&e);                                                                              \
    } while (0)
    snprintf(cmd, sizeof(cmd), "sh %s/proc/fail.sh", datadir);
    BADP(cmd, ERR_AUTH,
        "credential_process in profile 'ops' exited 3: sso session expired, run aws sso login");
    CHECK(strstr(e.msg, "second line") == NULL);
    BADP("exit 5", ERR_AUTH, "credential_process in profile 'ops' exited 5 (no message on stderr)");
    BADP("/nonexistent/helper --flag", ERR_AUTH, "exited 127: ");
    BADP("kill -9 $$", ERR_AUTH, "credential_process in profile 'ops' killed by signal 9");
    BADP("", ERR_CONFIG, "credential_process in profile 'ops': empty command");
    snprintf(cmd, sizeof(cmd), "sh %s/proc/badjson.sh", datadir);
    BADP(cmd, ERR_AUTH, "credential_process in profile 'ops': output is not valid JSON (line 1");
    CHECK(strstr(e.msg, "near") == NULL);
    snprintf(cmd, sizeof(cmd), "sh %s/proc/good.sh 2001-01-01T00:00:00Z", datadir);
    BADP(cmd, ERR_AUTH, "returned credentials that expired at 2001-01-01T00:00:00Z");
    snprintf(cmd, sizeof(cmd), "sh %s/proc/good.sh not-a-date", datadir);
    BADP(cmd, ERR_AUTH, "\"Expiration\" is not an RFC 3339 time");
    snprintf(cmd, sizeof(cmd), "sh %s/proc/version2.sh", datadir);
    BADP(cmd, ERR_AUTH, "output must have \"Version\": 1");
    BADP("echo '[1]'", ERR_AUTH, "output is not a JSON object");
    BADP("echo '{\"Version\": 1, \"SecretAccessKey\": \"" PSECRET "\"}'", ERR_AUTH,
        "no string \"AccessKeyId\"");
    BADP("echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'", ERR_AUTH,
        "no string \"SecretAccessKey\"");
    BADP("echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" PSECRET
         "\", \"SessionToken\": 7}'",
        ERR_AUTH, "\"SessionToken\" is not a string");
    snprintf(cmd, sizeof(cmd), "sh %s/proc/huge.sh", datadir);
    BADP(cmd, ERR_AUTH, "output larger than 65536 bytes");
    t0 = util_now_ms();
    snprintf(cmd, sizeof(cmd), "sh %s/proc/slow.sh", datadir);
    CHECK(creds_process_run(cmd, what, 300, now, &c, &e) < 0);
    CHECK_CONTAINS(e.msg, "credential_process in profile 'ops' timed out after 300 ms");
    CHECK(util_now_ms() - t0 < 5000);
#undef BADP
}

static void
test_no_secret_in_errors(void)
{
    CHECK(nseen >= 20);
    for (size_t i = 0; i < nseen; i++) {
        CHECK_MSG(strstr(seen[i], PSECRET) == NULL, "secret key in [%s]", seen[i]);
        CHECK_MSG(strstr(seen[i], PTOKEN) == NULL, "session token in [%s]", seen[i]);
    }
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int
main(int argc, char **argv)
{
    char arg[1024];

    if (argc < 2) {
        fprintf(stderr, "usage: test_creds_profile DATADIR\n");
        return 2;
    }
    /* the data lives in tests/data/creds beside this test's own data dir */
    snprintf(arg, sizeof(arg), "%s", argv[1]);
    snprintf(datadir, sizeof(datadir), "%s/creds", dirname(arg));
    {
        /* realpath(3) wants a PATH_MAX buffer; let it allocate instead */
        char *real = realpath(datadir, NULL);
        if (real != NULL)
            snprintf(datadir, sizeof(datadir), "%s", real);
        free(real);
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_creds_profile.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_parse_ok();
    test_parse_bad();
    test_profiles();
    test_process();
    test_no_secret_in_errors();
    if (nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_END();
}
