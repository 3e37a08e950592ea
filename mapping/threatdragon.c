/*
 * threatdragon.c: driftsync model -> OWASP Threat Dragon v2 (see
 * threatdragon.h for the format and the mapping). Layout is computed
 * without recursion: boundary depths first (which also catches parent
 * cycles), then box sizes from the deepest level up, then positions from
 * the roots down, so a hostile imported model cannot exhaust the stack.
 * Nothing here reads a file or the clock.
 */
#include "mapping/threatdragon.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mapping/model.h"

/* Geometry, in Threat Dragon's pixels. */
#define CELL_W    160
#define CELL_H    80
#define GAP       40
#define PAD       30
#define HEADER    50
#define COLS      4
#define MARGIN    40
#define BOX_MIN_W 240
#define BOX_MIN_H 120

struct box {
    const json_t *b;   /* borrowed boundary object */
    const char *key;
    long parent;       /* index or -1 */
    int depth;
    int ncomp;         /* components directly inside */
    long w, h;         /* box size */
    long x, y;         /* box position */
    long grid_h;       /* height of the component grid inside */
    long next_child_y; /* where the next child box goes */
    int placed_comp;   /* components placed so far */
    char id[37];
};

struct conv {
    struct box *boxes;
    size_t nboxes;
    json_t *cells;       /* owned until moved into the diagram */
    json_t *outside;     /* keys of stand-in actors (owned) */
    long threat_no;
    struct err *err;
};

void
threatdragon_id(const char *kind, const char *key, char out[37])
{
    uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
    const char *parts[3] = {kind, ":", key};
    unsigned char b[16];

    for (int p = 0; p < 3; p++) {
        for (const unsigned char *s = (const unsigned char *)parts[p]; *s != '\0'; s++) {
            h1 = (h1 ^ *s) * 0x100000001b3ULL;
            h2 = (h2 ^ (unsigned char)(*s + 0x5b)) * 0x100000001b3ULL;
        }
    }
    /* one more round mixes h1 into h2 so equal-prefix keys differ everywhere */
    h2 ^= h1 >> 29;
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(h1 >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(h2 >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x80); /* version 8: vendor-defined (RFC 9562) */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
        b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int
oom(struct conv *c)
{
    return err_set(c->err, ERR_INTERNAL, "threat dragon export: out of memory");
}

static const char *
str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *
str_or(const json_t *o, const char *k, const char *dflt)
{
    const char *s = str(o, k);
    return s != NULL ? s : dflt;
}

static long
box_find(const struct conv *c, const char *key)
{
    if (key == NULL)
        return -1;
    for (size_t i = 0; i < c->nboxes; i++) {
        if (strcmp(c->boxes[i].key, key) == 0)
            return (long)i;
    }
    return -1;
}

static const json_t *
component_find(const json_t *comps, const char *key)
{
    size_t i;
    json_t *v;

    json_array_foreach(comps, i, v) {
        const char *k = str(v, "key");
        if (k != NULL && strcmp(k, key) == 0)
            return v;
    }
    return NULL;
}

static const char *
stride_word(char letter)
{
    switch (letter) {
    case 'S':
        return "Spoofing";
    case 'T':
        return "Tampering";
    case 'R':
        return "Repudiation";
    case 'I':
        return "Information disclosure";
    case 'D':
        return "Denial of service";
    case 'E':
        return "Elevation of privilege";
    default:
        return NULL;
    }
}

/* Threat Dragon knows High, Medium and Low. */
static const char *
severity_word(const char *s)
{
    if (s == NULL)
        return "Medium";
    if (strcasecmp(s, "critical") == 0 || strcasecmp(s, "high") == 0)
        return "High";
    if (strcasecmp(s, "low") == 0 || strcasecmp(s, "informational") == 0)
        return "Low";
    return "Medium";
}

/* "Security Hub controls: RDS.2, RDS.3" or "" (caller frees; NULL on OOM) */
static char *
controls_text(const json_t *controls)
{
    static const char lead[] = "Security Hub controls: ";
    size_t i, n = sizeof(lead), used = 0;
    json_t *v;
    char *out;

    json_array_foreach(controls, i, v) {
        if (json_is_string(v))
            n += strlen(json_string_value(v)) + 2;
    }
    out = calloc(1, n);
    if (out == NULL)
        return NULL;
    json_array_foreach(controls, i, v) {
        const char *s = json_string_value(v);
        const char *sep = used == 0 ? lead : ", ";

        if (s == NULL)
            continue;
        memcpy(out + used, sep, strlen(sep));
        used += strlen(sep);
        memcpy(out + used, s, strlen(s));
        used += strlen(s);
    }
    out[used] = '\0';
    return out;
}

/* Appends the Threat Dragon threats of one driftsync threat to list. */
static int
add_threats(struct conv *c, const json_t *comp, const json_t *t, size_t ti, json_t *list)
{
    const char *ckey = str(comp, "key"), *tid = str(t, "id"), *title = str(t, "title");
    const json_t *stride = json_object_get(t, "stride");
    char *ctl = NULL, *desc = NULL, *idkey = NULL;
    char idx[32], uuid[37];
    size_t i;
    json_t *v;
    int rc = -1;

    if (!json_is_object(t) || title == NULL || !json_is_array(stride) ||
        json_array_size(stride) == 0) {
        return err_set(c->err, ERR_CONFIG,
            "component '%s': threats[%zu] needs a title and a non-empty stride list", ckey, ti);
    }
    snprintf(idx, sizeof(idx), "%zu", ti);
    if (tid == NULL)
        tid = idx;
    ctl = controls_text(json_object_get(t, "controls"));
    if (ctl == NULL) {
        oom(c);
        goto out;
    }
    json_array_foreach(stride, i, v) {
        const char *letter = json_string_value(v);
        const char *word = letter != NULL && strlen(letter) == 1 ? stride_word(letter[0]) : NULL;
        json_t *th;

        if (word == NULL) {
            err_set(c->err, ERR_CONFIG,
                "component '%s': threat '%s': stride[%zu] is not one of S, T, R, I, D, E", ckey,
                tid, i);
            goto out;
        }
        free(desc);
        free(idkey);
        desc = idkey = NULL;
        if (str(t, "description") != NULL) {
            desc = strdup(str(t, "description"));
        } else if (asprintf(&desc, "%s (driftsync threat '%s' of %s '%s').%s%s", title, tid,
                       str_or(comp, "type", "component"), str_or(comp, "name", ckey),
                       ctl[0] ? " " : "", ctl) < 0) {
            desc = NULL;
        }
        if (desc == NULL || asprintf(&idkey, "%s|%s|%s", ckey, tid, letter) < 0) {
            idkey = NULL;
            oom(c);
            goto out;
        }
        threatdragon_id("threat", idkey, uuid);
        c->threat_no++;
        th = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", uuid, "number",
            (json_int_t)c->threat_no, "title", title, "type", word, "status", "Open", "severity",
            severity_word(str(t, "severity")), "description", desc, "mitigation",
            str_or(t, "mitigation", ctl), "modelType", "STRIDE", "score", "");
        if (th == NULL || json_array_append_new(list, th) < 0) {
            oom(c);
            goto out;
        }
    }
    rc = 0;
out:
    free(ctl);
    free(desc);
    free(idkey);
    return rc;
}

static json_t *
line_style(int open)
{
    /* "none", not null: the schema types strokeDasharray as a string */
    return json_pack("{s:s, s:f, s:s}", "stroke", open ? "#dc3545" : "#333333", "strokeWidth",
        open ? 2.5 : 1.0, "strokeDasharray", "none");
}

/* One node cell for a component (comp may be NULL for a stand-in actor). */
static int
add_node(struct conv *c, const json_t *comp, const char *key, long x, long y, int z)
{
    const char *role = comp != NULL ? str_or(comp, "role", "") : MODEL_ROLE_EXTERNAL;
    const char *name = comp != NULL ? str_or(comp, "name", key) : key;
    const json_t *threats = comp != NULL ? json_object_get(comp, "threats") : NULL;
    const json_t *attrs_in = comp != NULL ? json_object_get(comp, "attributes") : NULL;
    const char *shape, *type;
    json_t *cell = NULL, *data = NULL, *list = NULL, *attrs = NULL, *t;
    char id[37], *desc = NULL;
    size_t i;
    int open;

    if (threats != NULL && !json_is_array(threats))
        return err_set(c->err, ERR_CONFIG, "component '%s': 'threats' is not an array", key);
    list = json_array();
    if (list == NULL)
        return oom(c);
    json_array_foreach(threats, i, t) {
        if (add_threats(c, comp, t, i, list) < 0) {
            json_decref(list);
            return -1;
        }
    }
    open = json_array_size(list) > 0;
    if (strcmp(role, MODEL_ROLE_DATA_STORE) == 0) {
        shape = "store";
        type = "tm.Store";
    } else if (strcmp(role, MODEL_ROLE_EXTERNAL) == 0) {
        shape = "actor";
        type = "tm.Actor";
    } else {
        shape = "process";
        type = "tm.Process";
    }
    if (comp == NULL) {
        desc = strdup("Flow endpoint outside this VPC's model");
    } else if (asprintf(&desc, "%s%s: %s", strcmp(role, MODEL_ROLE_BOUNDARY) == 0
                                               ? "Network control (driftsync role boundary), "
                                               : "",
                   str_or(comp, "type", "component"), key) < 0) {
        desc = NULL;
    }
    threatdragon_id("cell", key, id);
    data = json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:b, s:b}", "type", type, "name", name,
        "description", desc != NULL ? desc : "", "outOfScope", comp == NULL, "reasonOutOfScope",
        comp == NULL ? "not part of this VPC's model" : "", "threats", list, "hasOpenThreats", open,
        "isTrustBoundary", 0);
    list = NULL;
    if (data == NULL || desc == NULL)
        goto fail;
    if (strcmp(type, "tm.Store") == 0) {
        const json_t *enc = json_object_get(attrs_in, "storage_encrypted");
        if (json_object_set_new(data, "isALog", json_false()) < 0 ||
            json_object_set_new(data, "isEncrypted", json_boolean(json_is_true(enc))) < 0 ||
            json_object_set_new(data, "isSigned", json_false()) < 0 ||
            json_object_set_new(data, "storesCredentials", json_false()) < 0 ||
            json_object_set_new(data, "storesInventory", json_false()) < 0)
            goto fail;
        attrs = json_pack("{s:{s:s}, s:o, s:o}", "text", "text", name, "topLine", line_style(open),
            "bottomLine", line_style(open));
    } else {
        if (strcmp(type, "tm.Actor") == 0) {
            if (json_object_set_new(data, "providesAuthentication", json_false()) < 0)
                goto fail;
        } else if (json_object_set_new(data, "handlesCardPayment", json_false()) < 0 ||
                   json_object_set_new(data, "handlesGoodsOrServices", json_false()) < 0 ||
                   json_object_set_new(data, "isWebApplication", json_false()) < 0 ||
                   json_object_set_new(data, "privilegeLevel", json_string("")) < 0) {
            goto fail;
        }
        attrs = json_pack("{s:{s:s}, s:o}", "text", "text", name, "body", line_style(open));
    }
    if (attrs == NULL)
        goto fail;
    cell = json_pack("{s:s, s:s, s:i, s:b, s:{s:I, s:I}, s:{s:i, s:i}, s:o, s:o}", "id", id,
        "shape", shape, "zIndex", z, "visible", 1, "position", "x", (json_int_t)x, "y",
        (json_int_t)y, "size", "width", CELL_W, "height", CELL_H, "attrs", attrs, "data", data);
    attrs = data = NULL;
    if (cell == NULL || json_array_append_new(c->cells, cell) < 0)
        goto fail;
    free(desc);
    return 0;
fail:
    free(desc);
    json_decref(list);
    json_decref(attrs);
    json_decref(data);
    return oom(c);
}

/* Depth of every boundary; refuses parent cycles and deep nesting. */
static int
compute_depths(struct conv *c)
{
    for (size_t i = 0; i < c->nboxes; i++) {
        long p = c->boxes[i].parent;
        int d = 0;

        while (p >= 0) {
            if (++d > THREATDRAGON_MAX_DEPTH || (size_t)p == i)
                return err_set(c->err, ERR_CONFIG,
                    "boundary '%s': its parent chain %s", c->boxes[i].key,
                    (size_t)p == i ? "loops back to it" : "is deeper than 32 levels (or loops)");
            p = c->boxes[p].parent;
        }
        c->boxes[i].depth = d;
    }
    return 0;
}

static long
grid_w(int n)
{
    int cols = n < COLS ? n : COLS;
    return n > 0 ? cols * CELL_W + (cols - 1) * GAP : 0;
}

static long
grid_h(int n)
{
    int rows = (n + COLS - 1) / COLS;
    return n > 0 ? rows * CELL_H + (rows - 1) * GAP : 0;
}

static void
compute_sizes(struct conv *c)
{
    for (int d = THREATDRAGON_MAX_DEPTH; d >= 0; d--) {
        for (size_t i = 0; i < c->nboxes; i++) {
            struct box *b = &c->boxes[i];
            long cw = 0, ch = 0;
            int nchild = 0;

            if (b->depth != d)
                continue;
            for (size_t j = 0; j < c->nboxes; j++) {
                if (c->boxes[j].parent != (long)i)
                    continue;
                cw = c->boxes[j].w > cw ? c->boxes[j].w : cw;
                ch += c->boxes[j].h + (nchild++ > 0 ? GAP : 0);
            }
            b->grid_h = grid_h(b->ncomp);
            b->w = (grid_w(b->ncomp) > cw ? grid_w(b->ncomp) : cw) + 2 * PAD;
            b->h = HEADER + b->grid_h + (b->grid_h > 0 && ch > 0 ? GAP : 0) + ch + PAD;
            b->w = b->w < BOX_MIN_W ? BOX_MIN_W : b->w;
            b->h = b->h < BOX_MIN_H ? BOX_MIN_H : b->h;
        }
    }
}

/* Positions roots left to right at y0, children stacked inside parents. */
static void
compute_positions(struct conv *c, long y0)
{
    long x = MARGIN;

    for (int d = 0; d <= THREATDRAGON_MAX_DEPTH; d++) {
        for (size_t i = 0; i < c->nboxes; i++) {
            struct box *b = &c->boxes[i];

            if (b->depth != d)
                continue;
            if (b->parent < 0) {
                b->x = x;
                b->y = y0;
                x += b->w + GAP;
            } else {
                struct box *p = &c->boxes[b->parent];
                b->x = p->x + PAD;
                b->y = p->next_child_y;
            }
            b->next_child_y = b->y + HEADER + b->grid_h + (b->grid_h > 0 ? GAP : 0);
            if (b->parent >= 0)
                c->boxes[b->parent].next_child_y += b->h + GAP;
        }
    }
}

static int
add_boxes(struct conv *c)
{
    for (size_t i = 0; i < c->nboxes; i++) {
        const struct box *b = &c->boxes[i];
        const char *name = str_or(b->b, "name", b->key), *type = str_or(b->b, "type", "boundary");
        char *desc = NULL, *label = NULL;
        json_t *cell;

        if (asprintf(&desc, "%s %s", type, b->key) < 0)
            return oom(c);
        if (asprintf(&label, "%s (%s)", name, type) < 0) {
            free(desc);
            return oom(c);
        }
        cell = json_pack("{s:s, s:s, s:i, s:b, s:{s:I, s:I}, s:{s:I, s:I},"
                         " s:{s:{s:s}, s:{s:s, s:f, s:s}},"
                         " s:{s:s, s:s, s:s, s:b, s:b, s:[]}}",
            "id", b->id, "shape", "trust-boundary-box", "zIndex", -100 + b->depth, "visible", 1,
            "position", "x", (json_int_t)b->x, "y", (json_int_t)b->y, "size", "width",
            (json_int_t)b->w, "height", (json_int_t)b->h, "attrs", "headerText", "text", label,
            "body", "stroke", "#333333", "strokeWidth", 2.0, "strokeDasharray", "5 5", "data",
            "type", "tm.BoundaryBox", "name", label, "description", desc, "isTrustBoundary", 1,
            "hasOpenThreats", 0, "threats");
        free(desc);
        free(label);
        if (cell == NULL || json_array_append_new(c->cells, cell) < 0)
            return oom(c);
    }
    return 0;
}

static int
role_is_external(const json_t *comps, const char *key)
{
    const json_t *comp = component_find(comps, key);
    const char *role = comp != NULL ? str(comp, "role") : MODEL_ROLE_EXTERNAL;
    return role != NULL && strcmp(role, MODEL_ROLE_EXTERNAL) == 0;
}

static int
add_flows(struct conv *c, const json_t *comps, const json_t *flows)
{
    size_t i;
    json_t *f;

    json_array_foreach(flows, i, f) {
        const char *from = str(f, "from"), *to = str(f, "to");
        const char *label = str_or(f, "label", ""), *proto = str_or(f, "protocol", "");
        char sid[37], tid[37], fid[37], *fkey = NULL;
        json_t *cell;

        if (!json_is_object(f) || from == NULL || to == NULL)
            return err_set(c->err, ERR_CONFIG, "flows[%zu]: needs string 'from' and 'to' keys", i);
        if (asprintf(&fkey, "%s->%s:%s", from, to, label) < 0)
            return oom(c);
        threatdragon_id("flow", fkey, fid);
        free(fkey);
        threatdragon_id("cell", from, sid);
        threatdragon_id("cell", to, tid);
        cell = json_pack("{s:s, s:s, s:i, s:s, s:{s:s}, s:{s:s}, s:[],"
                         " s:{s:{s:s, s:i, s:{s:s}, s:{s:s}}},"
                         " s:[{s:f, s:[{s:s, s:s}, {s:s, s:s}],"
                         "     s:{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:i}}}],"
                         " s:{s:s, s:s, s:s, s:s, s:b, s:s, s:b, s:b, s:b, s:b, s:b, s:[]}}",
            "id", fid, "shape", "flow", "zIndex", 10, "connector", "smooth", "source", "cell", sid,
            "target", "cell", tid, "vertices", "attrs", "line", "stroke", "#333333",
            "strokeWidth", 1, "targetMarker", "name", "block", "sourceMarker", "name", "",
            "labels", "position", 0.5, "markup", "tagName", "ellipse",
            "selector", "labelBody", "tagName", "text", "selector", "labelText", "attrs",
            "labelText", "text", label, "textAnchor", "middle", "textVerticalAnchor", "middle",
            "labelBody", "ref", "labelText", "refRx", "50%", "refRy", "60%", "fill", "#fff",
            "strokeWidth", 0, "data", "type", "tm.Flow", "name", label, "description", "",
            "protocol", proto, "outOfScope", 0, "reasonOutOfScope", "", "hasOpenThreats", 0,
            "isBidirectional", 0, "isEncrypted", 0, "isPublicNetwork",
            role_is_external(comps, from) || role_is_external(comps, to), "isTrustBoundary", 0,
            "threats");
        if (cell == NULL || json_array_append_new(c->cells, cell) < 0)
            return oom(c);
    }
    return 0;
}

static int
check_array(const json_t *model, const char *field, struct err *err)
{
    const json_t *a = json_object_get(model, field);
    size_t i;
    json_t *v;

    if (a == NULL)
        return 0;
    if (!json_is_array(a))
        return err_set(err, ERR_CONFIG, "model: '%s' is not an array", field);
    json_array_foreach(a, i, v) {
        if (!json_is_object(v))
            return err_set(err, ERR_CONFIG, "model: %s[%zu] is not an object", field, i);
        if (strcmp(field, "flows") != 0 && str(v, "key") == NULL)
            return err_set(err, ERR_CONFIG, "model: %s[%zu] has no string 'key'", field, i);
    }
    return 0;
}

/* Collects flow endpoints that are not components (stand-in actors). */
static int
collect_outside(struct conv *c, const json_t *comps, const json_t *flows)
{
    size_t i;
    json_t *f;

    json_array_foreach(flows, i, f) {
        const char *ends[2] = {str(f, "from"), str(f, "to")};

        for (int e = 0; e < 2; e++) {
            size_t j;
            json_t *k;
            int seen = 0;

            if (ends[e] == NULL || component_find(comps, ends[e]) != NULL)
                continue;
            json_array_foreach(c->outside, j, k) {
                seen |= strcmp(json_string_value(k), ends[e]) == 0;
            }
            if (!seen && json_array_append_new(c->outside, json_string(ends[e])) < 0)
                return oom(c);
        }
    }
    return 0;
}

int
threatdragon_from_model(const json_t *model, json_t **ret, struct err *err)
{
    struct conv c = {.err = err};
    const json_t *comps, *bounds, *flows, *comp;
    const char *vpc, *name, *acct, *region;
    char *title = NULL, *desc = NULL;
    json_t *doc = NULL;
    long loose = 0, loose_h, y0;
    size_t i, nloose_total;
    int z = 1, rc = -1;

    if (!json_is_object(model))
        return err_set(err, ERR_CONFIG, "model: not a JSON object");
    if (check_array(model, "components", err) < 0 || check_array(model, "boundaries", err) < 0 ||
        check_array(model, "flows", err) < 0)
        return -1;
    comps = json_object_get(model, "components");
    bounds = json_object_get(model, "boundaries");
    flows = json_object_get(model, "flows");
    vpc = str_or(model, "vpc_id", "unknown VPC");
    name = str(model, "name");
    acct = str_or(model, "account_id", "?");
    region = str_or(model, "region", "?");

    c.cells = json_array();
    c.outside = json_array();
    c.nboxes = json_array_size(bounds);
    c.boxes = calloc(c.nboxes > 0 ? c.nboxes : 1, sizeof(*c.boxes));
    if (c.cells == NULL || c.outside == NULL || c.boxes == NULL) {
        oom(&c);
        goto out;
    }
    for (i = 0; i < c.nboxes; i++) {
        c.boxes[i].b = json_array_get(bounds, i);
        c.boxes[i].key = str(c.boxes[i].b, "key");
        if (box_find(&c, c.boxes[i].key) != (long)i) {
            err_set(err, ERR_CONFIG, "model: boundary key '%s' is used twice", c.boxes[i].key);
            goto out;
        }
        threatdragon_id("boundary", c.boxes[i].key, c.boxes[i].id);
    }
    for (i = 0; i < c.nboxes; i++)
        c.boxes[i].parent = box_find(&c, str(c.boxes[i].b, "parent"));
    if (compute_depths(&c) < 0)
        goto out;
    json_array_foreach(comps, i, comp) {
        long bi = box_find(&c, str(comp, "boundary"));
        if (bi >= 0)
            c.boxes[bi].ncomp++;
        else
            loose++;
    }
    if (collect_outside(&c, comps, flows) < 0)
        goto out;
    nloose_total = (size_t)loose + json_array_size(c.outside);
    compute_sizes(&c);
    loose_h = grid_h((int)nloose_total);
    y0 = MARGIN + loose_h + (loose_h > 0 ? GAP : 0);
    compute_positions(&c, y0);
    if (add_boxes(&c) < 0)
        goto out;

    loose = 0;
    json_array_foreach(comps, i, comp) {
        long bi = box_find(&c, str(comp, "boundary")), x, y;

        if (bi >= 0) {
            struct box *b = &c.boxes[bi];
            x = b->x + PAD + (b->placed_comp % COLS) * (CELL_W + GAP);
            y = b->y + HEADER + (b->placed_comp / COLS) * (CELL_H + GAP);
            b->placed_comp++;
        } else {
            x = MARGIN + (loose % COLS) * (CELL_W + GAP);
            y = MARGIN + (loose / COLS) * (CELL_H + GAP);
            loose++;
        }
        if (add_node(&c, comp, str(comp, "key"), x, y, z++) < 0)
            goto out;
    }
    for (i = 0; i < json_array_size(c.outside); i++, loose++) {
        if (add_node(&c, NULL, json_string_value(json_array_get(c.outside, i)),
                MARGIN + (loose % COLS) * (CELL_W + GAP), MARGIN + (loose / COLS) * (CELL_H + GAP),
                z++) < 0)
            goto out;
    }
    if (add_flows(&c, comps, flows) < 0)
        goto out;

    if (asprintf(&title, "%s%s%s%s", vpc, name ? " (" : "", name ? name : "", name ? ")" : "") < 0 ||
        asprintf(&desc,
            "Threat model of %s/%s/%s, exported by driftsync from its saved model. Trust "
            "boundaries are the VPC and its subnets; threats come from driftsync's mapping rules.",
            acct, region, vpc) < 0) {
        title = desc = NULL;
        oom(&c);
        goto out;
    }
    doc = json_pack("{s:s, s:{s:s, s:s, s:s, s:i},"
                    " s:{s:[], s:[{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:O}], s:i, s:s, s:I}}",
        "version", THREATDRAGON_VERSION, "summary", "title", title, "owner", "driftsync",
        "description", desc, "id", 0, "detail", "contributors", "diagrams", "id", 0, "title",
        title, "diagramType", "STRIDE", "placeholder", "Data-flow diagram of the VPC",
        "thumbnail", "./public/content/images/thumbnail.stride.jpg", "version",
        THREATDRAGON_VERSION, "description", desc, "cells", c.cells, "diagramTop", 1, "reviewer",
        "", "threatTop", (json_int_t)c.threat_no);
    if (doc == NULL) {
        oom(&c);
        goto out;
    }
    *ret = doc;
    rc = 0;
out:
    free(title);
    free(desc);
    free(c.boxes);
    json_decref(c.cells);
    json_decref(c.outside);
    return rc;
}
