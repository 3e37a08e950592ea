/*
 * securityhub: reads AWS Security Hub for one account and region (a client
 * bound to both): which standards are enabled, the control catalogue of
 * each, and the compliance findings of those standards, paginated to the
 * end and handed one by one to a callback (streaming, as discover.c does).
 * It also summarises one ASFF finding into the small normalised object the
 * compliance judge (mapping/compliance.h) and the store work on.
 *
 * Finding styles and why GetFindings runs in two passes:
 *  - legacy ("standard control") findings name their standard in GeneratorId:
 *    arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.1
 *    (CIS v1.2.0), cis-aws-foundations-benchmark/v/1.4.0/1.4 (v1.4.0/v3.0.0;
 *    some tools write it with a "standards/" head);
 *  - consolidated ("security control") findings have GeneratorId
 *    security-control/<ID> and name every standard of the control in
 *    Compliance.AssociatedStandards[].StandardsId.
 *  AwsSecurityFindingFilters OR the filters given for one attribute but AND
 *  different attributes, so "GeneratorId PREFIX p OR AssociatedStandardsId =
 *  s" cannot be one call. Pass 1 asks GeneratorId PREFIX (every legacy prefix
 *  of every standard, OR'ed); pass 2 asks ComplianceAssociatedStandardsId
 *  EQUALS (the standards ids, OR'ed) AND GeneratorId PREFIX
 *  "security-control/". The second condition keeps transition findings
 *  (a legacy GeneratorId plus AssociatedStandards, like the 2023 FSBP
 *  recording) out of pass 2, so no finding is emitted twice and nothing
 *  needs remembering between passes.
 *
 * Full reads add RecordState EQUALS ACTIVE. Incremental reads ask UpdatedAt
 * within [since, until] (a DateFilter, RFC 3339, both bounds inclusive) and
 * no RecordState filter: a finding archived since the last run (control
 * disabled, resource deleted) comes back ARCHIVED and is dropped by the
 * merge (compliance_merge). `until` should be the time the run started and
 * the next run's `since`, so nothing falls between two runs; a finding
 * updated exactly at the boundary is read twice, which the merge absorbs.
 * Findings archived long ago and missed (a gap longer than Security Hub keeps
 * them) are caught by the periodic full re-read, which replaces the stored
 * set.
 *
 * Rate: GetFindings is limited by AWS to 3 requests/s (burst 6) per account
 * and region; sh_configure_ratelimit sets that bucket. Guards: a repeated
 * NextToken or more than max_pages pages stops the read with ERR_REMOTE, as
 * does a malformed page (the message names operation and page). Errors from
 * AWS come as aws_call reports them; Security Hub not enabled is HTTP 401
 * InvalidAccessException (sh_err_not_enabled recognises it).
 */
#pragma once

#include <stddef.h>
#include <time.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct aws_client;
struct aws_ratelimit;

#define SH_FINDINGS_PAGE      100   /* MaxResults, the API's maximum */
#define SH_DEFAULT_MAX_PAGES  100000L
#define SH_MAX_STANDARDS      10    /* 20 filters per attribute, 2 legacy prefixes each */

/* Sets "securityhub:GetFindings" to 3/s burst 6 (AWS's documented limit) and
 * the rest of Security Hub to 10/s burst 30. */
MUST_CHECK int sh_configure_ratelimit(struct aws_ratelimit *rl, struct err *err);

/* True when err is Security Hub's "not subscribed" answer (HTTP 401
 * InvalidAccessException): the hub is off in that account and region. */
int sh_err_not_enabled(const struct err *err);

/* "cis-1.2" for any text containing cis-aws-foundations-benchmark/v/1.2.0
 * (a StandardsArn, a StandardsId, a GeneratorId, a subscription ARN),
 * written into out (at least 16 bytes); -1 when the text names no CIS
 * version. Versions are kept as major.minor: v/3.0.0 -> "cis-3.0". */
int sh_cis_key(const char *text, char *out, size_t outsz);

/* GetEnabledStandards, paginated. *ret (caller decrefs) is an array of
 * {"standards_arn", "subscription_arn", "standards_id" (the ARN's resource
 * part, as findings write it), "status" (READY, PENDING, ...), "key"
 * ("cis-1.2" or null for non-CIS standards)}. */
MUST_CHECK int sh_get_enabled_standards(struct aws_client *client, json_t **ret,
    struct err *err);

/* DescribeStandardsControls for one subscription, paginated. *ret is an
 * array of {"control_id" (the number within the standard: "1.1", the
 * "CIS." head of v1.2.0 ids removed), "aws_control_id" ("CIS.1.1"), "title",
 * "severity", "status" (ENABLED|DISABLED), "disabled_reason" (or null),
 * "security_control_ids" ([] or the one id that the control's
 * RemediationUrl .../securityhub/<ID>/remediation names; v1.2.0 controls
 * link to standards-cis-N pages instead, so theirs stay empty)}. */
MUST_CHECK int sh_describe_standards_controls(struct aws_client *client,
    const char *subscription_arn, json_t **ret, struct err *err);

/* ListSecurityControlDefinitions, paginated; standards_arn NULL lists every
 * control. *ret is an array of {"security_control_id", "title", "severity",
 * "availability"}. */
MUST_CHECK int sh_list_security_control_definitions(struct aws_client *client,
    const char *standards_arn, json_t **ret, struct err *err);

/* Reads the catalogue the judge needs: for each enabled CIS standard in
 * `standards` (sh_get_enabled_standards' array; entries with a null key or a
 * status other than READY/INCOMPLETE are skipped), its controls. *ret is
 * {"cis-1.2": {"standards_arn", "subscription_arn", "controls": [...]}}
 * (mapping/compliance.h describes it). */
MUST_CHECK int sh_read_catalogue(struct aws_client *client, json_t *standards, json_t **ret,
    struct err *err);

/*
 * Finding style of a hub: which of the two passes holds its findings (a hub
 * generates one kind at a time: DescribeHub's ControlFindingGenerator).
 * The caller remembers the style sh_get_findings learnt (counts.style) per
 * target and passes it back in the next query, which saves the empty pass.
 * The rule that keeps this from ever missing findings is at the top of
 * securityhub.c; in short: UNKNOWN reads both passes; a known style reads
 * its own pass and adds the other one, as a full ACTIVE read, whenever its
 * own pass shows a sign that the hub may have switched (a full read that
 * finds nothing, an incremental read that sees an ARCHIVED finding).
 */
enum sh_style {
    SH_STYLE_UNKNOWN = 0,  /* not known, or both kinds present: read both passes */
    SH_STYLE_LEGACY,       /* standard control findings (pass 1) */
    SH_STYLE_CONSOLIDATED, /* security control findings (pass 2) */
};

/* "legacy", "consolidated", or NULL for SH_STYLE_UNKNOWN / out of range. */
const char *sh_style_name(enum sh_style style);

/* DescribeHub: the hub's ControlFindingGenerator as a style (SECURITY_CONTROL:
 * consolidated, STANDARD_CONTROL: legacy; absent: UNKNOWN). ERR_REMOTE for
 * any other value; the call's own errors as aws_call's. */
MUST_CHECK int sh_describe_hub(struct aws_client *client, enum sh_style *ret, struct err *err);

struct sh_findings_query {
    const char *const *standards_arns; /* StandardsArn of each standard to read (borrowed) */
    size_t nstandards;                 /* 1..SH_MAX_STANDARDS */
    time_t since;                      /* 0: full read (ACTIVE only); else incremental */
    time_t until;                      /* incremental upper bound; 0: none */
    long max_pages;                    /* per pass; 0 = SH_DEFAULT_MAX_PAGES */
    enum sh_style style;               /* remembered style; UNKNOWN: both passes */
    int describe_hub;                  /* 1: a full read in an UNKNOWN style asks DescribeHub
                                          for the style first (sh_get_findings) */
};

#define SH_PASS_LEGACY       1 /* bits of sh_findings_counts.passes / .active_in */
#define SH_PASS_CONSOLIDATED 2

struct sh_findings_counts {
    long pages;
    long findings;      /* emitted */
    long legacy;        /* of which from pass 1 */
    long consolidated;  /* of which from pass 2 */
    int passes;         /* SH_PASS_* bits: the passes sent */
    int fallback;       /* 1: the other pass was added to a known style's (see above) */
    int active_in;      /* SH_PASS_* bits: the passes that returned an ACTIVE finding */
    enum sh_style style; /* the style to remember for the next read of this target */
};

/* Called once per finding; finding is borrowed for the call (json_incref
 * to keep). Returning -1 (with err set) stops the read with that error. */
typedef int (*sh_emit_fn)(void *ctx, json_t *finding, struct err *err);

/* Runs the passes q->style calls for (both for SH_STYLE_UNKNOWN). counts
 * may be NULL; counts->style is what to remember only when the call
 * succeeds. ERR_CONFIG for a query that cannot be expressed (no standards,
 * too many, a standards ARN that is not one, a style out of range). */
MUST_CHECK int sh_get_findings(struct aws_client *client, const struct sh_findings_query *q,
    sh_emit_fn emit, void *ctx, struct sh_findings_counts *counts, struct err *err);

/* The request bodies sh_get_findings sends (pass 1 = legacy, 2 =
 * consolidated), without NextToken; exposed for tests. Caller decrefs.
 * full_override: build the full (ACTIVE only) body whatever q->since says,
 * as the fall-back pass does. */
json_t *sh_findings_request(const struct sh_findings_query *q, int pass, struct err *err);
json_t *sh_findings_request_ex(const struct sh_findings_query *q, int pass, int full_override,
    struct err *err);

/* The security control ids a DescribeStandardsControls RemediationUrl
 * names: [<ID>] for ".../securityhub/<ID>/remediation" when <ID> looks like
 * one (Service.N), else [] (also for a url that is not a string). New
 * reference; NULL only when out of memory. */
json_t *sh_control_ids_from_url(json_t *url);

/* Normalises one ASFF finding into a new object (*ret, caller decrefs):
 * {"id", "account_id", "region", "standard_ids": ["cis-1.2", ...],
 *  "control_ids": {"cis-1.2": ["1.1"], ...}, "security_control_id": "IAM.3"|null,
 *  "status": PASSED|FAILED|WARNING|NOT_AVAILABLE|null (null: not a control
 *  check), "workflow": NEW|NOTIFIED|SUPPRESSED|RESOLVED,
 *  "record_state": ACTIVE|ARCHIVED, "severity": CRITICAL|HIGH|MEDIUM|LOW|INFORMATIONAL|null,
 *  "resources": [ids], "updated_at", "title"}.
 * control_ids values are lists because one security control can implement
 * several requirements of one standard (CloudWatch.1 is CIS v1.2.0 1.1 and
 * 3.3). Legacy findings take the number from GeneratorId, else
 * ProductFields.RuleId / ControlId; consolidated ones from
 * Compliance.RelatedRequirements ("CIS AWS Foundations Benchmark v1.4.0/1.10"),
 * for the standards they are associated with only; a standard with no
 * number there is left for the judge to map through the catalogue.
 * Severity: Severity.Label, else Severity.Normalized by AWS's ranges (0,
 * 1-39, 40-69, 70-89, 90-100), else ProductFields["aws/securityhub/SeverityLabel"],
 * else FindingProviderFields.Severity.Label, else null (a rating is not
 * needed to judge compliance; the judge then uses the control's).
 * Workflow: Workflow.Status, else the deprecated WorkflowState (DEFERRED
 * counts as SUPPRESSED). Region: Region, else the first resource's, else
 * the finding ARN's. Anything malformed (missing Id/AwsAccountId/UpdatedAt,
 * wrong types, unknown enum values, over-long strings, more than 32
 * resources) is ERR_REMOTE naming the field and the finding.
 * *ret (the caller's) may share string values with finding (references,
 * not copies): change neither in place while the other is used. */
MUST_CHECK int sh_finding_summarize(json_t *finding, json_t **ret, struct err *err);
