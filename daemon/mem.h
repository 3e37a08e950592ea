/*
 * mem: which malloc the process runs on, and handing its free memory back
 * to the kernel. The binary links jemalloc when it is built with
 * DRIFTSYNC_JEMALLOC (see the note in mem.c for why); tests and sanitizer
 * builds run on glibc's malloc. Nothing here decides which allocator is
 * used: that is the link. These functions ask the running process.
 */
#pragma once

#include <stddef.h>

/* Once, first thing in main, before any thread starts: tunes glibc's malloc
 * (one arena for all threads) when it is the allocator; nothing otherwise. */
void mem_init(void);

/* "jemalloc 5.3.0-..." or "glibc malloc". Static storage. */
const char *mem_allocator(void);

/* Hands the memory free()d so far back to the kernel: jemalloc purges the
 * unused pages of every arena, glibc trims its arenas (malloc_trim).
 * Called after a target has been mapped and after a run, when the trees of
 * a run are freed and the daemon is about to idle. Returns 0, or -1 when
 * the allocator refused (nothing is lost then; memory just stays mapped). */
int mem_release(void);
