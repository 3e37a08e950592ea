/*
 * bench/dataset: reading one target of a benchmark dataset
 * (bench/.work/<size>-s1/accounts/<account>/<region>, written by the
 * emulator's generator), and the small helpers bench/local.c and
 * bench/findings.c share. Not part of the daemon or of its tests.
 */
#pragma once

#include <stddef.h>

#include "daemon/err.h"

typedef struct json_t json_t;
struct map_rules;

#define BENCH_ACCOUNT_LEN 16 /* 12 digits and the NUL, rounded */
#define BENCH_REGION_LEN  48

/* dir = .../accounts/<account>/<region>: the last two components, checked
 * (a 12-digit account). ERR_CONFIG naming dir otherwise. */
MUST_CHECK int bench_target_names(const char *dir, char account[BENCH_ACCOUNT_LEN],
    char region[BENCH_REGION_LEN], struct err *err);

/* dir/resources.ndjson as the array of items a read would return (*ret,
 * caller decrefs): the newest version of each type+id, deletions dropped,
 * only types the rules know. Errors name the file and line. */
MUST_CHECK int bench_load_items(const struct map_rules *rules, const char *dir, json_t **ret,
    struct err *err);

/* The process's CPU clock in seconds (what the benchmarks time phases by). */
double bench_cpu_now(void);

/* Frees v (may be NULL) and its n strings. */
void bench_free_texts(char **v, size_t n);
