/* LD_PRELOAD shim for bench/allocations.sh: counts the process's heap allocations by kind and
 * prints the totals to stderr at exit ("alloc-count malloc=.. aligned=.."). "aligned" is every
 * aligned allocation (aligned_alloc, memalign, posix_memalign): what Asio's recycling allocator
 * calls for a coroutine frame or an operation its per-thread cache could not serve. Counting
 * only: each call forwards to glibc's own entry point. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

extern void* __libc_malloc(size_t);
extern void* __libc_memalign(size_t, size_t);

static atomic_ulong mallocs, aligned;

void* malloc(size_t n) {
    atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
    return __libc_malloc(n);
}

void* aligned_alloc(size_t align, size_t n) {
    atomic_fetch_add_explicit(&aligned, 1, memory_order_relaxed);
    return __libc_memalign(align, n);
}

void* memalign(size_t align, size_t n) {
    atomic_fetch_add_explicit(&aligned, 1, memory_order_relaxed);
    return __libc_memalign(align, n);
}

int posix_memalign(void** out, size_t align, size_t n) {
    atomic_fetch_add_explicit(&aligned, 1, memory_order_relaxed);
    if (align < sizeof(void*) || (align & (align - 1)) != 0) return 22; /* EINVAL */
    void* p = __libc_memalign(align, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "alloc-count malloc=%lu aligned=%lu\n", atomic_load(&mallocs), atomic_load(&aligned));
}
