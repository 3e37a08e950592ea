/*
 * out: how commands print. Human output goes to stdout as aligned tables;
 * names that came from AWS or from files (tags, resource names) are passed
 * through out_clean first, so escape sequences and control characters in
 * them can never drive the terminal. Colour only when stdout is a TTY and
 * NO_COLOR is unset. --json output is one document via out_json.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

typedef struct json_t json_t;

/* Copies s into dst (size n), replacing control characters (C0, DEL, C1)
 * and invalid UTF-8 with '?'; truncates with "..." when longer. Returns dst. */
char *out_clean(const char *s, char *dst, size_t n);

/* True when colour should be used on stdout. */
int out_color(void);
/* ANSI colour for a status word ("red", "yellow", "green"), "" without colour. */
const char *out_status_color(const char *status);
const char *out_reset(void);

/* Prints doc as indented JSON with sorted keys and a newline; returns 0 or -1. */
int out_json(FILE *f, const json_t *doc);
