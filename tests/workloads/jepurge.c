// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * jepurge MIB: jemalloc (Debian's libjemalloc2) returns memory by purging:
 * dirty pages go with MADV_FREE (lazy) or MADV_DONTNEED (forced). It
 * allocates and touches MIB in 256 KiB objects, frees them, then asks every
 * arena to purge now. Prints what it did as JSON lines.
 */
#include <jemalloc/jemalloc.h>
#include "common.h"

#define OBJ (256 * 1024)

int main(int argc, char **argv)
{
	size_t n;
	char **objs;

	if (argc != 2) {
		fprintf(stderr, "usage: jepurge MIB\n");
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
	/* MALLCTL_ARENAS_ALL (4096): purge every arena. */
	if (mallctl("arena.4096.purge", NULL, NULL, NULL, 0))
		die("mallctl arena.4096.purge");
	printf("{\"op\":\"purged\",\"rss_anon_kb\":%ld}\n", status_kb("RssAnon"));
	free(objs);
	return 0;
}
