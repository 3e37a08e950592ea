/*
 * mem.c: the allocator underneath (see mem.h).
 *
 * Why the binary links jemalloc. A sync builds and frees jansson trees of
 * millions of small blocks, while SQLite, libcurl and the JSON writer ask
 * for blocks of hundreds of kilobytes in between (a VPC's model text, a
 * page of findings). glibc's malloc does badly on exactly that mix: a large
 * free consolidates every small block parked in its fast bins, and a large
 * request sorts its unsorted list first, so the cost of a large block grows
 * with the number of small ones freed before it; and with one arena for all
 * threads (what keeps glibc's peak RSS down) the workers queue on its lock.
 * perf put 40-50% of the mapping and of the commit inside malloc and free.
 * jemalloc keeps small blocks in per-size slabs with a per-thread cache, so
 * neither happens. bench/run, 10k resources + 5k findings at 0 ms latency:
 * the first sync's CPU went from 2.3-2.6 s to 1.4 s with the same peak RSS
 * (52 MB), given one arena (malloc_conf "narenas:1" in main.c; the default,
 * four per core, doubled the peak RSS for no CPU gain). Writing a slab
 * allocator for jansson by hand would have been the alternative; it would
 * have to solve the same problems (cross-thread frees, returning memory).
 *
 * Nothing here links against jemalloc: mallctl is looked up in the running
 * process (dlsym), so the core library and its tests build and run on any
 * malloc, and only the binary decides. Under valgrind (the soak test) the
 * preloaded malloc of valgrind comes before jemalloc's, so every block is
 * still checked; mallctl still answers, and purging then touches only
 * jemalloc's own empty arena.
 */
#include "daemon/mem.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* jemalloc's mallctl(3) */
typedef int (*mem_mallctl_fn)(const char *name, void *oldp, size_t *oldlenp, void *newp,
    size_t newlen);

/* MALLCTL_ARENAS_ALL (4096 in jemalloc 5): every arena at once */
#define MEM_PURGE_ALL "arena.4096.purge"

static pthread_once_t mem_once = PTHREAD_ONCE_INIT;
static mem_mallctl_fn mem_mallctl;
static char mem_name[96] = "glibc malloc";

static void
mem_probe(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "mallctl");
    const char *version = NULL;
    unsigned narenas = 0;
    size_t len;

    if (sym == NULL) {
#ifndef __GLIBC__
        snprintf(mem_name, sizeof(mem_name), "libc malloc");
#endif
        return;
    }
    /* ISO C has no object-to-function pointer cast; POSIX guarantees the
     * representation is the same */
    memcpy(&mem_mallctl, &sym, sizeof(mem_mallctl));
    len = sizeof(version);
    if (mem_mallctl("version", &version, &len, NULL, 0) != 0 || version == NULL)
        version = "(unknown version)";
    len = sizeof(narenas);
    if (mem_mallctl("opt.narenas", &narenas, &len, NULL, 0) != 0)
        narenas = 0;
    snprintf(mem_name, sizeof(mem_name), "jemalloc %s, %u arena%s", version, narenas,
        narenas == 1 ? "" : "s");
}

void
mem_init(void)
{
    pthread_once(&mem_once, mem_probe);
#ifdef __GLIBC__
    /* one malloc arena for all threads (see main.c); MALLOC_ARENA_MAX
     * overrides: memory one thread frees is reused by the next instead of
     * stranded in another arena */
    if (mem_mallctl == NULL && getenv("MALLOC_ARENA_MAX") == NULL)
        mallopt(M_ARENA_MAX, 1);
#endif
}

const char *
mem_allocator(void)
{
    pthread_once(&mem_once, mem_probe);
    return mem_name;
}

int
mem_release(void)
{
    pthread_once(&mem_once, mem_probe);
    if (mem_mallctl != NULL) {
        /* the calling thread's cache first: what it holds is not free to
         * the arena and so would not be purged */
        (void)mem_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
        return mem_mallctl(MEM_PURGE_ALL, NULL, NULL, NULL, 0) == 0 ? 0 : -1;
    }
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    return 0;
}
