/*
 * pool: runs fn(ctx, i) for i in [0, n) on up to `threads` threads and
 * waits for all of them. Work is handed out one index at a time, so slow
 * targets do not hold up the rest. fn must only touch item i and
 * thread-safe shared state. Falls back to running inline when a thread
 * cannot be created, so it never loses work.
 */
#pragma once

#include <stddef.h>

void pool_run(size_t n, int threads, void (*fn)(void *ctx, size_t i), void *ctx);
