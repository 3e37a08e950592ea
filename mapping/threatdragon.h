/*
 * threatdragon: converts one driftsync model document (mapping/model.h,
 * docs/model-schema.md) into an OWASP Threat Dragon v2 model, so a VPC's
 * model opens in that tool (`driftsync model export VPC --format
 * threat-dragon`). Pure: JSON in, JSON out, no I/O, no clock.
 *
 * What the v2 format expects (learnt from Threat Dragon's
 * td.vue/src/assets/schema/threat-dragon-v2.schema.json and its demo
 * models; a copy of the schema is test data in tests/data/threatdragon/):
 *   {"version", "summary": {"title", "owner", "description", "id"},
 *    "detail": {"contributors": [], "diagrams": [DIAGRAM], "diagramTop",
 *               "reviewer", "threatTop"}}
 *   DIAGRAM = {"id", "title", "diagramType": "STRIDE", "placeholder",
 *              "thumbnail", "version", "description", "cells": [CELL]}
 *   a CELL is an X6 graph node or edge: "id", "shape", "zIndex", and a
 *   "data" object whose "type" (tm.Process, tm.Store, tm.Actor,
 *   tm.BoundaryBox, tm.Flow) and "hasOpenThreats" are required; nodes
 *   carry "position"/"size", edges "source"/"target" {"cell": ID}; threats
 *   live in data.threats [{"id", "number", "title", "type" (a STRIDE
 *   category in words), "status", "severity", "description", "mitigation",
 *   "modelType": "STRIDE", "score"}].
 *
 * Mapping: role process -> shape "process", data_store -> "store",
 * external_interactor -> "actor"; components with role "boundary"
 * (security groups, network ACLs, route tables...) have no DFD shape of
 * their own and become processes whose description says they are network
 * controls. Each trust boundary becomes a "trust-boundary-box" that
 * encloses its components (a grid, COLS per row, in model order) and its
 * child boundaries (stacked below them); components outside every
 * boundary, and stand-in actors for flow endpoints that are not components
 * of this model, sit in a row above the boxes. Every driftsync threat
 * yields one Threat Dragon threat per STRIDE letter, status "Open".
 *
 * Ids are deterministic (UUID version 8 strings derived from the key by
 * two FNV-1a hashes), so exporting the same model twice gives equal bytes.
 */
#pragma once

#include "daemon/err.h"

typedef struct json_t json_t;

/* The Threat Dragon version written into the export. */
#define THREATDRAGON_VERSION "2.3.0"

/* Converts model (borrowed) into a Threat Dragon v2 document; *ret is
 * owned by the caller (json_decref). ERR_CONFIG names the offending item
 * when the model is malformed (not an object, components/boundaries/flows
 * not arrays, an item without a key, a boundary parent cycle, nesting
 * deeper than THREATDRAGON_MAX_DEPTH); ERR_INTERNAL on OOM. */
#define THREATDRAGON_MAX_DEPTH 32
MUST_CHECK int threatdragon_from_model(const json_t *model, json_t **ret, struct err *err);

/* Writes the deterministic id of `kind:key` as a 36-character UUID string
 * into out (37 bytes). Exposed for the tests. */
void threatdragon_id(const char *kind, const char *key, char out[37]);
