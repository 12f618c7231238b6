// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * purge MIB: an allocator returning memory when asked, built once per
 * allocator (the Makefile makes jepurge and tcrelease from this file).
 *   jemalloc (Debian's libjemalloc2): dirty pages go with MADV_FREE (lazy)
 *     or MADV_DONTNEED (forced); "arena.<all>.purge" forces it now.
 *   gperftools tcmalloc: MallocExtension_ReleaseFreeMemory() returns free
 *     spans with MADV_DONTNEED.
 * It allocates and touches MIB in 256 KiB objects, frees them, asks the
 * allocator to give the memory back, and prints what it did as JSON lines.
 */
#if defined(PURGE_JEMALLOC)
#include <jemalloc/jemalloc.h>
#elif defined(PURGE_TCMALLOC)
#include <gperftools/malloc_extension_c.h>
#else
#error "build with -DPURGE_JEMALLOC or -DPURGE_TCMALLOC"
#endif
#include "common.h"

#define OBJ (256 * 1024)

static void give_back(void)
{
#if defined(PURGE_JEMALLOC)
	/* MALLCTL_ARENAS_ALL (4096): purge every arena. */
	if (mallctl("arena.4096.purge", NULL, NULL, NULL, 0))
		die("mallctl arena.4096.purge");
#else
	MallocExtension_ReleaseFreeMemory();
#endif
}

int main(int argc, char **argv)
{
	size_t n;
	char **objs;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MIB\n", argv[0]);
		return 2;
	}
	no_thp();
	n = (size_t)arg_long(argv[1], "MiB") * MiB / OBJ;
	objs = calloc(n, sizeof(*objs));
	if (!objs)
		die("calloc");
	for (size_t i = 0; i < n; i++) {
		objs[i] = malloc(OBJ);
		if (!objs[i])
			die("malloc");
		touch(objs[i], OBJ);
	}
	printf("{\"op\":\"filled\",\"bytes\":%zu,\"rss_anon_kb\":%ld}\n", n * OBJ,
	       status_kb("RssAnon"));
	for (size_t i = 0; i < n; i++)
		free(objs[i]);
	give_back();
	printf("{\"op\":\"given-back\",\"rss_anon_kb\":%ld}\n", status_kb("RssAnon"));
	free(objs);
	return 0;
}
