// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcrelease MIB: gperftools' tcmalloc returns free pages to the kernel with
 * madvise(MADV_DONTNEED) when asked (or by its background release rate). It
 * allocates and touches MIB in 256 KiB objects, frees them, then calls
 * MallocExtension_ReleaseFreeMemory(). Prints what it did as JSON lines.
 */
#include <gperftools/malloc_extension_c.h>
#include "common.h"

#define OBJ (256 * 1024)

int main(int argc, char **argv)
{
	size_t n;
	char **objs;

	if (argc != 2) {
		fprintf(stderr, "usage: tcrelease MIB\n");
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
	MallocExtension_ReleaseFreeMemory();
	printf("{\"op\":\"released\",\"rss_anon_kb\":%ld}\n", status_kb("RssAnon"));
	free(objs);
	return 0;
}
