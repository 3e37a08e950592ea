/*
 * config: driftsync.yaml -> struct cfg. YAML itself is read by
 * config/yamldoc.h (shared with the mapping rules).
 *
 * OpenBSD parse.y habit: the whole file is parsed and checked before
 * anything is used, every error is collected as "file:line:col: message"
 * (libyaml marks are 0-based; we add 1), and the caller only sees pass or
 * fail plus the list. Unknown and duplicate keys are errors, so a typo
 * ("intervall") never silently falls back to a default. Parsing (YAML ->
 * struct) and checking (cross-field rules) are kept apart; cfg_load does
 * both. Nothing here touches AWS or the state directory.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

enum cfg_discovery { CFG_DISCOVERY_SELECT = 0, CFG_DISCOVERY_LIST };

struct cfg_account {
    char *id;           /* 12 digits */
    char *name;         /* optional label */
    char *role_arn;     /* optional: assumed via STS */
    char *external_id;  /* optional, secret-ish: never logged */
    char *session_name; /* optional */
};

/* An ignore rule: a difference is ignored when every given field matches. */
struct cfg_ignore {
    char *resource_type; /* "AWS::EC2::Instance", or NULL */
    char *tag_key;       /* resource carries this tag (with tag_value when set) */
    char *tag_value;
    char *attribute;     /* attribute path, trailing '*' allowed: "tags.*" */
};

struct cfg {
    char *path;               /* file it came from */
    char *state_dir;          /* default /var/lib/driftsync */
    long interval_s;          /* default 900 */
    char **regions;
    size_t nregions;
    struct cfg_account *accounts;
    size_t naccounts;
    char *org_aggregator;     /* organisation mode when set */
    char *org_region;
    char *org_account_id;     /* account holding the aggregator (optional) */
    char *org_role_arn;       /* role to assume in it (optional) */
    enum cfg_discovery discovery;
    char *mapping_path;       /* optional rules file extending the built-in ones */
    char *endpoint_config;    /* optional endpoint overrides */
    char *endpoint_securityhub;
    char *endpoint_sts;
    struct cfg_ignore *ignores;
    size_t nignores;
    int max_attempts;         /* AWS retries, default 3 */
    int concurrency;          /* targets in parallel, default 4 */
    char *metrics_file;       /* optional Prometheus textfile */
    int compliance_enabled;   /* default 1 */
    long compliance_full_refresh_s; /* default 86400 */
    char *webhook_url;        /* optional */
    char *webhook_secret_file;/* file holding the HMAC key (LoadCredential=) */
    int holds_secrets;        /* the file itself holds a secret (webhook.secret) */
    char *webhook_secret;     /* secret; wiped on free */
    long feed_max_bytes;      /* events.ndjson rotation size, default 10 MiB */
};

/* Every problem found, in file order. */
struct cfg_diag {
    char **msgs;
    size_t n;
};
void cfg_diag_clear(struct cfg_diag *d);

/* Reads and checks path. On failure returns -1 with err (ERR_CONFIG, the
 * first problem and the count) and every problem in *diag (may be NULL). */
MUST_CHECK int cfg_load(const char *path, struct cfg **ret, struct cfg_diag *diag,
    struct err *err);
/* Same on a buffer; name is used in messages. */
MUST_CHECK int cfg_parse_buffer(const char *name, const char *data, size_t len, struct cfg **ret,
    struct cfg_diag *diag, struct err *err);
void cfg_free(struct cfg *cfg);

/* Parses "90s", "15m", "2h", "1d" or plain seconds; -1 on garbage. */
MUST_CHECK int cfg_parse_duration(const char *s, long *ret_s);

/* Refuses a configuration file writable by group/others, or (when it holds
 * secrets) readable by them (OpenSMTPD's check_file_secrecy). */
MUST_CHECK int cfg_check_file_secrecy(const char *path, int holds_secrets, struct err *err);
