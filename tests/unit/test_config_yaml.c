/*
 * test_config_yaml.c: the messages config.c writes while reading
 * driftsync.yaml through config/yamldoc (the cases data/config/bad/ cannot
 * show compactly): every wrong-kind and size message of the lists, the
 * string checks with their quoting, YAML syntax and alias errors in the
 * problem list, and the cap on collected problems.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "testutil.h"

#define BASE "regions: [us-east-1]\naccounts: [\"111111111111\"]\n"

struct bad_case {
    const char *text;
    const char *want; /* one of the problems is exactly this */
};

/* Texts built by the tests below (too big for the stack). */
static char text[300000];

static int
has_problem(const struct cfg_diag *d, const char *want)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->msgs[i], want) == 0)
            return 1;
    }
    return 0;
}

static void
test_messages(void)
{
    static const struct bad_case cases[] = {
        {"regions: us-east-1\naccounts: [\"111111111111\"]\n",
            "c.yaml:1:10: 'regions' must be a list like [us-east-1, eu-west-1], not a scalar"},
        {"regions: [us-east-1]\naccounts: {id: 1}\n",
            "c.yaml:2:11: 'accounts' must be a list of accounts, not a mapping"},
        {BASE "ignore: {tag: x}\n", "c.yaml:3:9: 'ignore' must be a list of rules, not a mapping"},
        {BASE "ignore: [x]\n", "c.yaml:3:10: an ignore rule must be a mapping, not a scalar"},
        {BASE "ignore: [{}]\n",
            "c.yaml:3:10: an ignore rule needs resource_type, tag or attribute"},
        {"regions: [us-east-1]\naccounts: [[1]]\n",
            "c.yaml:2:12: an account must be a mapping, not a list"},
        {"regions: [us-east-1]\naccounts: [{name: x}]\n", "c.yaml:2:12: account has no 'id'"},
        {BASE "state_dir: [a]\n", "c.yaml:3:12: 'state_dir' must be a string, not a list"},
        {BASE "state_dir: \"/a\\x7f\"\n", "c.yaml:3:12: 'state_dir' contains a control character"},
        {"regions: [us-east-1, [x]]\naccounts: [\"111111111111\"]\n",
            "c.yaml:1:22: 'regions[]' must be a string, not a list"},
        {"regions: [us-east-1, us-east-1]\naccounts: [\"111111111111\"]\n",
            "c.yaml:1:22: region 'us-east-1' is listed twice"},
        {BASE "compliance: {enabled: maybe}\n", "c.yaml:3:23: 'enabled' must be true or false"},
        {BASE "concurrency: 0\n", "c.yaml:3:14: 'concurrency' must be a whole number from 1 to 64"},
        {BASE "feed: [webhook]\n", "c.yaml:3:7: 'feed' must be a mapping, not a list"},
        {BASE "feed: {webhook: {url: x, url: y}}\n",
            "c.yaml:3:26: duplicate key 'url' in 'webhook'"},
        {BASE "? [a]\n: b\n", "c.yaml:3:3: keys in the configuration must be plain words"},
        {BASE "endpoints: {config: *e}\n", "c.yaml:3:21: found undefined alias"},
        {BASE "regions: [\n",
            "c.yaml:4:1: did not find expected node content while parsing a flow node"},
        {"~\n", "c.yaml: the configuration is empty"},
        {"", "c.yaml: the configuration is empty"},
        {"- a\n", "c.yaml:1:1: the configuration must be a mapping, not a list"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cfg *cfg = NULL;
        struct cfg_diag diag = {0};
        struct err err = {0};
        int rc = cfg_parse_buffer("c.yaml", cases[i].text, strlen(cases[i].text), &cfg, &diag,
            &err);

        CHECK_MSG(rc < 0, "case %zu loaded", i);
        CHECK(cfg == NULL);
        CHECK_INT(err.kind, ERR_CONFIG);
        CHECK_MSG(has_problem(&diag, cases[i].want), "case %zu: no [%s]; first [%s]", i,
            cases[i].want, diag.n > 0 ? diag.msgs[0] : "(none)");
        cfg_diag_clear(&diag);
    }
}

/* Lists too long for the caps, and strings too long. */
static void
test_sizes(void)
{
    size_t cap = sizeof(text), len = 0;
    struct cfg *cfg = NULL;
    struct cfg_diag diag = {0};
    struct err err = {0};

    len += (size_t)snprintf(text + len, cap - len, "regions: [");
    for (int i = 0; i < 65; i++)
        len += (size_t)snprintf(text + len, cap - len, "%sr%d-x", i ? ", " : "", i);
    len += (size_t)snprintf(text + len, cap - len, "]\naccounts: [");
    for (int i = 0; i < 10001; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s\"%012d\"", i ? "," : "", i);
    len += (size_t)snprintf(text + len, cap - len, "]\nignore: [");
    for (int i = 0; i < 10001; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s{}", i ? "," : "");
    len += (size_t)snprintf(text + len, cap - len, "]\nstate_dir: /");
    for (int i = 0; i < 4096; i++)
        text[len++] = 'd';
    text[len++] = '\n';
    CHECK(cfg_parse_buffer("s.yaml", text, len, &cfg, &diag, &err) < 0);
    CHECK(has_problem(&diag, "s.yaml:1:10: 'regions' has more than 64 entries"));
    CHECK(has_problem(&diag, "s.yaml:2:11: 'accounts' has more than 10000 entries"));
    CHECK(has_problem(&diag, "s.yaml:3:9: 'ignore' has more than 10000 rules"));
    CHECK(has_problem(&diag, "s.yaml:4:12: 'state_dir' is longer than 4096 characters"));
    /* the two more: no region and no account is left to sync */
    CHECK_STR(err.msg, "s.yaml:1:10: 'regions' has more than 64 entries (6 problems)");
    cfg_diag_clear(&diag);
}

/* Every problem is counted; the list keeps the first 200. */
static void
test_many(void)
{
    size_t len = (size_t)snprintf(text, sizeof(text), BASE);
    struct cfg *cfg = NULL;
    struct cfg_diag diag = {0};
    struct err err = {0};

    for (int i = 0; i < 250; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "k%d: 1\n", i);
    CHECK(cfg_parse_buffer("n.yaml", text, len, &cfg, &diag, &err) < 0);
    CHECK_INT(diag.n, 200);
    CHECK_CONTAINS(err.msg, "n.yaml:3:1: unknown key 'k0' in the configuration");
    CHECK_CONTAINS(err.msg, "(250 problems)");
    CHECK_CONTAINS(diag.msgs[199], "unknown key 'k199'");
    cfg_diag_clear(&diag);
    /* and without a list: the first and the count all the same */
    CHECK(cfg_parse_buffer("n.yaml", text, len, &cfg, NULL, &err) < 0);
    CHECK_CONTAINS(err.msg, "(250 problems)");
}

static void
test_size_cap(void)
{
    size_t len = 1024 * 1024 + 1;
    char *big = malloc(len);
    struct cfg *cfg = NULL;
    struct cfg_diag diag = {0};
    struct err err = {0};

    CHECK(big != NULL);
    if (big == NULL)
        return;
    memset(big, '#', len);
    CHECK(cfg_parse_buffer("big.yaml", big, len, &cfg, &diag, &err) < 0);
    CHECK_INT(err.kind, ERR_CONFIG);
    CHECK_STR(err.msg, "big.yaml: larger than 1048576 bytes");
    CHECK_INT(diag.n, 0);
    free(big);
}

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_messages();
    test_sizes();
    test_many();
    test_size_cap();
    TEST_END();
}
