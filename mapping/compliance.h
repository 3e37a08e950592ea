/*
 * compliance: the CIS compliance judge. Pure functions over jansson
 * documents (no I/O, no logging, no clock): finding summaries
 * (sh_finding_summarize in providers/aws/securityhub.h) and the control
 * catalogue (sh_read_catalogue) go in; per-control verdicts, links from
 * findings to model components, and merged summary sets come out.
 *
 * Catalogue: {"cis-1.2": {"standards_arn", "subscription_arn",
 *   "controls": [{"control_id": "1.1", "title", "severity",
 *                 "status": "ENABLED"|"DISABLED", "security_control_ids": [...]}]}}
 * Only the standards present in it are judged (the enabled ones).
 *
 * Verdict of one control in one standard, from the summaries mapped to it
 * (record_state ACTIVE only; ARCHIVED ones are gone from AWS's view):
 *  - DISABLED       the control is disabled in the catalogue (AWS stops
 *                   checking it and archives its findings; shown as
 *                   disabled like the console does, whatever is stored);
 *  - NON-COMPLIANT  any counted finding FAILED;
 *  - WARNING        else any counted WARNING;
 *  - NOT_AVAILABLE  else any counted NOT_AVAILABLE;
 *  - COMPLIANT      else at least one finding, all PASSED or suppressed;
 *  - NO_DATA        no active finding at all.
 * "Counted" means workflow not SUPPRESSED: a suppressed finding is an
 * accepted risk, so it never makes a control fail (AWS's control status
 * rule), but it is counted in "suppressed" and, when FAILED, its resources
 * are listed in "suppressed_resources". Precedence FAILED > WARNING >
 * NOT_AVAILABLE > PASSED: a check that could not run says less than a
 * failure and more than a pass. Findings without a compliance status (not
 * control checks) are counted in "findings" but decide nothing.
 *
 * Mapping a summary to controls: its control_ids for that standard; when
 * those are empty (a consolidated finding whose RelatedRequirements did not
 * name the number), every catalogue control of the standard whose
 * security_control_ids hold the finding's security_control_id; else it is
 * counted in the standard's "unmapped". Controls that findings name but the
 * catalogue lacks are reported too (title null), after the catalogue's.
 * Severity: the catalogue's rating of the control, else the highest
 * severity among its counted FAILED findings, else among all its findings,
 * else null.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

typedef struct json_t json_t;

/* *ret (caller decrefs): {"cis-1.2": {"controls": [{"control_id", "title",
 * "status", "severity", "failed_resources": [...], "suppressed_resources":
 * [...], "suppressed": N, "findings": N, "failed": N, "passed": N}],
 * "unmapped": N, "totals": {"COMPLIANT": N, ...}}}. Resource lists are
 * sorted and without duplicates. Malformed input (a summary or catalogue
 * entry of the wrong shape) is ERR_INTERNAL naming the entry: both are
 * produced by this program. */
MUST_CHECK int compliance_judge(json_t *catalogue, json_t *summaries, json_t **ret,
    struct err *err);

/* Links each ACTIVE summary to the model components its resources are:
 * a resource id matches a component of a model of the same account when it
 * equals the component's key or resource_id, or when the ARN tails (after
 * the last '/', else the last ':') of either side equal the other (this
 * also absorbs malformed finding ARNs such as arn:aws:us-east-1:ACCT:
 * instance/i-...). "AWS::::Account:NNN" resources, and findings none of
 * whose resources is in any model (IAM users, trails, account-wide checks),
 * link to their account.
 * *ret: {"models": [{"account_id", "region", "vpc_id", "components":
 *   {KEY: [REQ, ...]}}] (in the order of models), "accounts": {ACCT: [REQ...]}}
 * with REQ = {"finding_id", "standard", "control_id", "security_control_id",
 * "status", "workflow", "severity"}, one per standard and control of the
 * finding (standard and control_id null when it names none), sorted by
 * standard, control_id, finding_id. */
MUST_CHECK int compliance_link(json_t *summaries, json_t *models, json_t **ret, struct err *err);

/* What the store keeps per verdict: for each (standard, control) that a
 * counted FAILED summary (status FAILED, workflow not SUPPRESSED, ACTIVE)
 * names, the components compliance_link would link that summary to:
 * *ret = {"STANDARD\tCONTROL": [{"vpc_id": "vpc-..."|null, "key"}]}, each
 * key once, sorted by the model's position in models then key, and
 * {"vpc_id": null, "key": "account:ACCOUNT"} last for links to account_id
 * (links to other accounts are left out). Same matching rules as
 * compliance_link, without building its per-finding REQ lists: the index of
 * the models is built only when some summary counts as FAILED. Errors as
 * compliance_link. Caller decrefs *ret. */
MUST_CHECK int compliance_failing_components(json_t *summaries, json_t *models,
    const char *account_id, json_t **ret, struct err *err);

/* A model (borrowed) cut down to what linking reads, as canonical JSON
 * text: {"account_id", "vpc_id", "components": [{"key", "resource_id"}]},
 * a missing field as null (what store_staged_link_texts cuts out of a
 * model text in SQL). The worker stages it beside each model, so the
 * commit parses ~10% of the bytes. New string (free()), NULL when out of
 * memory or model is not an object. */
char *compliance_link_text(const json_t *model);

/* 1 when compliance_failing_components would read the models for these
 * summaries (some summary counts as FAILED and names a control), 0 when
 * its result cannot depend on them (any list of models of the right shape
 * gives {}), so a caller may skip loading them. A malformed summary is
 * ERR_INTERNAL as in compliance_judge. */
MUST_CHECK int compliance_links_models(json_t *summaries, struct err *err);

/* What makes an incremental re-judge possible: a verdict depends only on
 * the catalogue and the summaries judged under its own control (and its
 * components on the models and those summaries), so when the catalogue and
 * the models are unchanged only the controls the changed summaries (their
 * new and their stored versions) are judged under can change.
 * compliance_controls_of adds to set (an object) a key "STANDARD\tCONTROL"
 * for every control of the catalogue's standards that a summary of
 * summaries is judged under (compliance_judge's mapping: control_ids, else
 * the catalogue's security_control_ids; whatever the record_state).
 * compliance_select: *ret (caller decrefs) is the array of the summaries
 * (same objects, in order) judged under at least one control of only (an
 * object keyed like set); compliance_judge of that array gives every
 * control of only the verdict that the whole array gives it, and
 * compliance_failing_components the same components for those controls.
 * Malformed input is ERR_INTERNAL as in compliance_judge. */
MUST_CHECK int compliance_controls_of(json_t *catalogue, json_t *summaries, json_t *set,
    struct err *err);
MUST_CHECK int compliance_select(json_t *catalogue, json_t *summaries, json_t *only,
    json_t **ret, struct err *err);

/* A set of finding summaries read once into plain C structs, for the
 * callers that judge, link and select over the same summaries (the
 * store's commit: compliance_judge_sums, compliance_links_models_sums and
 * compliance_failing_components_sums on one set instead of three walks of
 * the jansson trees). compliance_sums_read checks every summary's shape as
 * compliance_judge does (the same ERR_INTERNAL messages naming the entry)
 * and keeps borrowed pointers into the trees: summaries (and every summary
 * in it) must outlive the set and must not change while it lives. The
 * *_sums functions give exactly what their json counterparts give on the
 * array the set was read from (the same objects, byte for byte, and the
 * same errors). *ret belongs to the caller: compliance_sums_free (NULL is
 * fine). */
struct compliance_sums;

MUST_CHECK int compliance_sums_read(json_t *summaries, struct compliance_sums **ret,
    struct err *err);
void compliance_sums_free(struct compliance_sums *set);

/* Sets built from summary TEXTS, without jansson trees (the store's commit
 * reads the compact dumps the worker staged). compliance_sums_new makes an
 * empty set (*ret: compliance_sums_free). compliance_sums_add_row with a
 * NULL row (see below for a row's text) reads
 * text[0..len) (a JSON object; need not be NUL-terminated, and may be gone
 * after the call: the set keeps copies of what it reads, in an arena it
 * owns) as the next summary of set: any key order, unknown keys and
 * whitespace as JSON allows, every string escape. A summary of the wrong
 * shape is ERR_INTERNAL with compliance_sums_read's message (its position
 * in the set, from 1); a text that is not JSON (or not what jansson's
 * reader accepts: lone surrogates, \u0000, too deep, an integer out of
 * range, a NUL byte) is ERR_INTERNAL naming the summary and the byte
 * offset. After an error the set holds what it held before. *ret_id (may
 * be NULL) gets the summary's id, valid while the set (or a set selected
 * from it) lives; *ret_active (may be NULL) 1 when its record_state is
 * "ACTIVE". The *_sums functions give on a text-built set exactly what
 * they give on the set compliance_sums_read makes from the texts' trees;
 * a set selected from it (compliance_select_sums) shares the arena, so it
 * stays valid after set is freed. Sets are not thread-safe (the sharing
 * is counted without atomics): one thread at a time per family of sets. */
MUST_CHECK int compliance_sums_new(struct compliance_sums **ret, struct err *err);

/*
 * A summary as a stored (or staged) ROW keeps it: the text leaves out what
 * the row holds or what goes without saying, a third of a summary's bytes,
 * written three times by a full read's commit (WAL, checkpoint, staging):
 * "id" (the row's finding_id), "account_id" and "region" when they are the
 * row's target's (a finding of a member account read in an administrator's
 * hub names another account, and keeps it), and "record_state" when it is
 * "ACTIVE" (what the store keeps). Texts of the earlier form, with every
 * field, read the same.
 */
struct compliance_row {
    const char *id;         /* the row's finding id (NULL: the text must name it) */
    const char *account_id; /* the target's account */
    const char *region;     /* the target's region */
};
/* Reads text as above; for a row's text (row not NULL) a field the text
 * leaves out is row's (copied), record_state "ACTIVE"; a field the text has
 * wins. */
MUST_CHECK int compliance_sums_add_row(struct compliance_sums *set, const char *text, size_t len,
    const struct compliance_row *row, const char **ret_id, int *ret_active, struct err *err);
/* The row form of a summary (sh_finding_summarize's object) for a target's
 * row: *ret_id its id and *ret_text its compact text without what the row
 * leaves out (see above); both new strings (free()). The members left out
 * are removed from summary (the caller's, which it drops next).
 * ERR_INTERNAL when summary has no string id, or out of memory. */
MUST_CHECK int compliance_row_text(json_t *summary, const char *account_id,
    const char *region, char **ret_id, char **ret_text, struct err *err);
/* Puts back into a row's summary tree (parsed from its text) what the row
 * form left out, so that it reads as sh_finding_summarize made it. */
MUST_CHECK int compliance_row_fill(json_t *summary, const struct compliance_row *row,
    struct err *err);
/* Number of summaries in the set. */
size_t compliance_sums_count(const struct compliance_sums *set);
MUST_CHECK int compliance_judge_sums(json_t *catalogue, const struct compliance_sums *set,
    json_t **ret, struct err *err);
MUST_CHECK int compliance_links_models_sums(const struct compliance_sums *set, struct err *err);
MUST_CHECK int compliance_failing_components_sums(const struct compliance_sums *set,
    json_t *models, const char *account_id, json_t **ret, struct err *err);

/* compliance_failing_components_sums over models given as link TEXTS
 * (compliance_link_text's documents, or the same shape cut out of a model
 * in SQL: the store's staged links), read here without a jansson tree.
 * text[0..len) need not be NUL-terminated and is read only during the
 * call (borrowed). models[0..n) are the models in order; account (NULL:
 * none) is the account-level document, appended as the last model when it
 * is an object with an account_id member, as the store does with its tree.
 * *ret (caller decrefs) is byte for byte what
 * compliance_failing_components_sums gives on the texts parsed into trees
 * (jsonr) and put in an array in that order, with its shape errors (the
 * same messages, "model N" counting from 1 in that array); a text that is
 * not JSON (what jansson's reader refuses, as for compliance_sums_add_row,
 * a NUL byte too) is ERR_INTERNAL naming the model ("the account model"
 * for account) and the byte offset. Every text is read and checked even
 * when no summary counts as FAILED. */
struct compliance_link_doc {
    const char *text;
    size_t len;
};
MUST_CHECK int compliance_failing_components_texts(const struct compliance_sums *set,
    const struct compliance_link_doc *models, size_t n, const struct compliance_link_doc *account,
    const char *account_id, json_t **ret, struct err *err);
/* compliance_select over a set: *ret is a new set (compliance_sums_free)
 * of the selected summaries, in order, borrowing from the same trees as
 * set (which must outlive it too; set itself may be freed first), or
 * sharing a text-built set's copies. */
MUST_CHECK int compliance_select_sums(json_t *catalogue, const struct compliance_sums *set,
    json_t *only, struct compliance_sums **ret, struct err *err);
MUST_CHECK int compliance_controls_of_sums(json_t *catalogue, const struct compliance_sums *set,
    json_t *add, struct err *err);

/* Incremental update: stored summaries plus the ones read since, by id:
 * an updated summary replaces the stored one, an ARCHIVED one removes it
 * (and is not kept). *ret is a new array sorted by id. A periodic full
 * re-read simply replaces the stored set (it only holds ACTIVE findings). */
MUST_CHECK int compliance_merge(json_t *stored, json_t *updated, json_t **ret, struct err *err);

/* Natural order of control numbers: "1.2" < "1.10" < "2.1"; for sorting. */
int compliance_control_cmp(const char *a, const char *b);
