/*
 * xml: a small, strict reader for the XML that AWS query-protocol services
 * (STS) send: elements, attributes (skipped), text, the five predefined
 * entities and numeric character references, CDATA, comments and the XML
 * declaration. No DTDs (refused), no namespaces beyond ignoring prefixes.
 * Depth and size are bounded. Chosen over libxml2 to keep the dependency set
 * to the five chosen libraries: STS answers are tiny and flat.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

/* Finds the text of the element at slash-separated path of local names,
 * searched from the root element down ("AssumeRoleResponse/AssumeRoleResult/
 * Credentials/AccessKeyId"), or anywhere when path starts with "//"
 * ("//Code"). Returns 1 and sets *ret (caller frees) when found, 0 when the
 * document is well-formed but has no such element, -1 (err, ERR_REMOTE,
 * naming the byte offset) when it is malformed. */
int xml_find_text(const char *doc, size_t len, const char *path, char **ret, struct err *err);
