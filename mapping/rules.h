/*
 * rules (internal to mapping/): the compiled form of mapping/rules.yaml and
 * the small path language rules use to read AWS Config items.
 *
 * rules.c parses YAML into these structs once (paths are split into
 * segments at load time, so mapping never re-parses text); map.c reads them.
 * Everything here is owned by the struct map_rules and freed with it. The
 * public API is in mapping/map.h; this header is for map.c and the tests.
 *
 * Path language (documented for users at the top of rules.yaml):
 *   configuration.dBSubnetGroup.vpcId   dotted keys into the item
 *   configuration.subnets[].subnetId    `[]` after a key collects over a list
 *   tags.Name                           tags are a {key: value} object
 * A string met where an object or list is expected is parsed as JSON when it
 * starts with '{' or '[' (AWS Config nests JSON in strings, e.g. in
 * supplementaryConfiguration). JSON null counts as absent.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

typedef struct json_t json_t;

/* What map_project keeps of an item (mapping/project.c; opaque here). */
struct map_keep;

struct map_path_seg {
    char *key;   /* in the path's segs block (NUL-terminated) */
    int collect; /* `key[]`: iterate the list */
    size_t klen; /* strlen(key), set by the compiler (0: not known, measured) */
};

/* The item member a path's first segment names when it is one map.c holds
 * already (so a walk starts there instead of looking it up again). */
enum map_path_root {
    MAP_ROOT_OTHER,         /* not known: walk from the item */
    MAP_ROOT_CONFIGURATION, /* `configuration.` */
    MAP_ROOT_TAGS,          /* `tags.` */
    MAP_ROOT_RESOURCE_ID,   /* `resourceId` */
    MAP_ROOT_RESOURCE_TYPE, /* `resourceType` */
    MAP_ROOT_RELATIONSHIPS, /* `relationships.` */
};

struct map_path {
    char *text; /* the source text, for messages; in the segs block */
    size_t n;
    /* owned: one allocation holding the n segments, then text, then the
       keys (rules.c's path_compile makes it, path_clear frees it) */
    struct map_path_seg *segs;
    /* Set by the compiler (a path made by hand leaves them 0, which is
     * always safe: map.c then measures collects and walks from the item). */
    int collects;            /* 1: some segment has `[]` (as map_path_collects) */
    int compiled;            /* 1: collects and root are set */
    enum map_path_root root; /* MAP_ROOT_OTHER when the first segment collects */
};

/* A reference from one item to others (used for VPC, boundary, security
 * groups and flow ends). */
enum map_ref_kind {
    MAP_REF_SELF,         /* `self` */
    MAP_REF_PATH,         /* `PATH`: ids or ARNs found at PATH, any type */
    MAP_REF_RELATIONSHIP, /* `relationship:TYPE`: related items of TYPE */
    MAP_REF_TYPED_PATH,   /* `TYPE@PATH`: ids at PATH naming items of TYPE */
    MAP_REF_INTERNET,     /* `internet`: the Internet external interactor (flows only) */
};

struct map_ref {
    enum map_ref_kind kind;
    char *type; /* owned; NULL for SELF and PATH */
    struct map_path path;
};

struct map_refs {
    size_t n;
    struct map_ref *v; /* owned */
};

/* One or more alternative paths: the first that yields a value wins. */
struct map_paths {
    size_t n;
    struct map_path *v; /* owned */
};

struct map_attr {
    char *name; /* owned */
    struct map_paths paths;
};

/* A label template: literal text with {PATH} or {PATH|PATH...} pieces
 * (alternatives: the first present wins). */
struct map_tpl_part {
    char *text;             /* owned literal, or NULL when this part is a value */
    struct map_paths paths; /* when text == NULL */
};

struct map_tpl {
    char *src; /* owned */
    size_t n;
    struct map_tpl_part *parts; /* owned */
};

struct map_flow_rule {
    struct map_refs from; /* empty means self */
    struct map_refs to;   /* empty means self */
    struct map_tpl label;
    struct map_paths protocol; /* optional */
    struct map_paths port;     /* optional */
};

/* What an item of the type becomes. */
enum map_emit {
    MAP_EMIT_COMPONENT, /* a component in its VPC's (or the account) model */
    MAP_EMIT_VPC,       /* a trust boundary of type vpc (and the key of a model) */
    MAP_EMIT_SUBNET,    /* a trust boundary public-subnet / private-subnet */
    MAP_EMIT_FLOWS,     /* only the flows of its rule (an ELBv2 listener) */
};

enum map_placement {
    MAP_PLACE_VPC,            /* must resolve a VPC, else skipped with a reason */
    MAP_PLACE_ACCOUNT,        /* the account model */
    MAP_PLACE_VPC_OR_ACCOUNT, /* its VPC when it has one, else the account model */
};

struct map_switch_case {
    char *value;     /* owned */
    char *component; /* owned */
    json_t *component_json; /* owned: component as a JSON string, shared by every
                               component of the case; NULL when not built */
};

struct map_rule {
    char *resource_type; /* owned */
    char *component;     /* owned; NULL unless emit is COMPONENT */
    char *role;          /* owned; one of MODEL_ROLE_* */
    enum map_emit emit;
    enum map_placement placement;
    struct map_paths name;
    struct map_refs vpc;
    struct map_refs boundary;
    struct map_refs security_groups;
    size_t nattrs;
    struct map_attr *attrs; /* owned, sorted by name */
    size_t nflows;
    struct map_flow_rule *flows; /* owned */
    /* component_from: the component type picked by a value (ALB vs NLB) */
    struct map_path switch_path;
    size_t ncases;
    struct map_switch_case *cases; /* owned */
    json_t *threats;      /* owned: [{id, title, stride, controls}] */
    json_t *requirements; /* owned: [{id, title, controls}] */
    char *origin;         /* owned: "file:line" of the rule, for messages */
    struct map_keep *keep; /* owned: what map_project keeps of this type's items */
    /* Built once at load (map_rules_parse) and shared read-only by every
     * component of the type; NULL when not built (then map.c makes its own). */
    json_t *component_json; /* owned: component (or "AWS Resource") as a JSON string */
    json_t *role_json;      /* owned: role as a JSON string */
};

struct map_rules {
    size_t n;
    struct map_rule *v;          /* owned, sorted by resource_type */
    struct map_keep *keep_other; /* owned: what map_project keeps of types without a rule */
    char digest[65];             /* map_rules_digest: set by map_rules_load */
};

/* The rule for a type, or NULL (borrowed). */
const struct map_rule *map_rules_find(const struct map_rules *rules, const char *resource_type);

/* Evaluates path on root, appending every value found (new references) to
 * out, a JSON array. JSON null values are not appended. Returns the number
 * appended, or -1 when out of memory. */
MUST_CHECK int map_path_eval(const struct map_path *path, json_t *root, json_t *out);

/* The first value any of the paths yields (a new reference, the caller
 * decrefs), or NULL when none does (or out of memory). */
json_t *map_paths_first(const struct map_paths *paths, json_t *root);

/* The first value path yields on root (a new reference), or NULL; a path
 * without `[]` is walked without allocating. *ret_oom is set to 1 when NULL
 * means out of memory. */
json_t *map_path_first(const struct map_path *path, json_t *root, int *ret_oom);

/* As map_path_first and map_path_eval, starting at segment `from` of path
 * with v the value the segments before it led to (map.c starts items'
 * `configuration.` paths at the configuration object it already holds). */
json_t *map_path_first_at(const struct map_path *path, size_t from, json_t *v, int *ret_oom);
MUST_CHECK int map_path_eval_at(const struct map_path *path, size_t from, json_t *v, json_t *out);

/* Calls fn for each value map_path_eval_at would append, in the same order,
 * without the list: the value is borrowed for the call only. fn returns 0,
 * or -1 to stop (then this returns -1). Returns the number of calls, or -1
 * (fn stopped it, or out of memory parsing JSON nested in a string is not
 * an error: such a string yields nothing, as in map_path_eval). */
typedef int (*map_path_fn)(json_t *v, void *arg);
MUST_CHECK int map_path_visit_at(const struct map_path *path, size_t from, json_t *v,
    map_path_fn fn, void *arg);

/* 1 when a segment of path has `[]` (it may yield several values). */
int map_path_collects(const struct map_path *path);

/* A string holding JSON ('{' or '[' first after blanks, at most 1 MiB) parsed
 * as map_path_eval parses it when a path goes through it: a new reference,
 * or NULL when v is not such a string (or does not parse). */
json_t *map_json_nested(json_t *v);

/* project.c: the keep plan of one rule (rule NULL: the plan for types
 * without a rule). *ret is owned by the caller (map_keep_free). Returns -1
 * only when out of memory. */
MUST_CHECK int map_keep_build(const struct map_rule *rule, struct map_keep **ret);
void map_keep_free(struct map_keep *keep);

/* Built-in rules text (generated from mapping/rules.yaml by cmake/Embed.cmake). */
extern const unsigned char map_rules_builtin[];
extern const size_t map_rules_builtin_len;

/* Parses a rules document held in memory; name is used in messages
 * ("name:line:col: ..."). Exposed for tests. */
MUST_CHECK int map_rules_parse(const char *name, const char *text, size_t len, struct map_rules **ret,
    struct err *err);
