/*
 * compliance_query: the requirements summary behind `driftsync compliance`,
 * the feed's compliance.json and the HTML report, read from the store
 * (store/compliance.h); and the annotation of a model's component
 * requirements with their current status.
 *
 * Document (compliance_query_run):
 * {"standards": [{"id": "cis-1.4", "controls": [{
 *     "control_id", "title", "status", "severity",
 *     "failed_resources": [...], "components": [...],
 *     "targets": [{"account_id", "region", "status", "severity",
 *                  "failed_resources", "suppressed_resources", "components",
 *                  "findings", "suppressed", "since", "since_run"}]}]}],
 *  "targets": [store_compliance_targets rows (hub, read times, error)]}
 * Standards sorted by id, controls in natural order. A control's status
 * over several targets is the worst of theirs (NON-COMPLIANT > WARNING >
 * NOT_AVAILABLE > COMPLIANT > NO_DATA > DISABLED, the order a CIS report
 * groups them), its severity the highest, its resources and components
 * the union; "targets" (an addition to the shape) keeps each
 * target's own verdict. "components" are model component keys; findings
 * on account-wide resources (IAM, CloudTrail, ...) name "account:ACCOUNT".
 * Only components of counted FAILED findings are listed (the failing ones).
 *
 * Filters (NULL = none): account_id (12 digits); vpc_spec (anything
 * store_vpc_resolve takes) limits to that VPC's account and region and its
 * components to that VPC's and the account-wide ones; standard
 * ("cis-1.2", "cis-1.4", "cis-3.0"); status (one of the statuses above,
 * case-insensitive) applies to the control's combined status. A target
 * whose last Security Hub read failed keeps its stored verdicts, and
 * "targets" carries the error.
 */
#pragma once

#include "daemon/err.h"

typedef struct json_t json_t;
struct store;

struct compliance_query {
    const char *account_id;
    const char *vpc_spec;
    const char *standard;
    const char *status;
};

/* *ret owned by the caller. ERR_CONFIG for a bad filter value (naming it),
 * ERR_NOTFOUND for an unknown VPC, store errors as they come. */
MUST_CHECK int compliance_query_run(struct store *st, const struct compliance_query *q,
    json_t **ret, struct err *err);

/*
 * Adds to each requirement of each component of model (a model document,
 * modified in place; requirements arrays are replaced by annotated copies,
 * so arrays shared with the mapping rules are never touched):
 * "status" (COMPLIANT|NON-COMPLIANT|WARNING|NOT_AVAILABLE|NO_DATA, judged
 * from the target's stored findings on that component whose security
 * control is one of the requirement's "controls", directly or through the
 * catalogue's control mapping), "failed_findings" (ids of counted FAILED
 * findings), "findings" (count) and "suppressed" (count).
 */
MUST_CHECK int compliance_annotate_model(struct store *st, json_t *model, struct err *err);
