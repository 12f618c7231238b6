// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gtrim MIB: glibc gives memory back two ways. It fills the main arena
 * with small chunks, frees all but a pin at the top (so free cannot shrink
 * the heap itself), then malloc_trim(0) returns the free pages inside the
 * heap with madvise(MADV_DONTNEED). First, a chunk above the mmap threshold
 * is freed: free() unmaps it. Prints what it did as JSON lines.
 */
#include <malloc.h>
#include "common.h"

#define CHUNK 4000 /* below the mmap threshold: lives in the brk heap */

/* A chunk above M_MMAP_THRESHOLD has its own mapping: free() gives it back with munmap. */
static void big_free(void)
{
	size_t len = 8 * MiB;
	char *big = malloc(len);

	if (!big)
		die("malloc big");
	touch(big, len);
	printf("{\"op\":\"big-malloc\",\"addr\":%lu,\"len\":%zu}\n", (unsigned long)big, len);
	fflush(stdout);
	free(big);
	printf("{\"op\":\"big-free\",\"rss_anon_kb\":%ld}\n", status_kb("RssAnon"));
}

int main(int argc, char **argv)
{
	size_t total, n;
	char **chunks;
	void *pin;
	int trimmed;

	if (argc != 2) {
		fprintf(stderr, "usage: gtrim MIB\n");
		return 2;
	}
	no_thp();
	/* No automatic trimming from free(): only malloc_trim releases. */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	big_free(); /* first, while the heap has no free space to serve it from */
	total = (size_t)arg_long(argv[1], "MiB") * MiB;
	n = total / CHUNK;
	chunks = calloc(n, sizeof(*chunks));
	if (!chunks)
		die("calloc");
	for (size_t i = 0; i < n; i++) {
		chunks[i] = malloc(CHUNK);
		if (!chunks[i])
			die("malloc");
		memset(chunks[i], 1, CHUNK);
	}
	/* Printed, so the compiler cannot drop it: it keeps the freed chunks off the top. */
	pin = malloc(CHUNK);
	if (!pin)
		die("malloc pin");
	memset(pin, 1, CHUNK);
	printf("{\"op\":\"filled\",\"bytes\":%zu,\"pin\":%lu,\"rss_anon_kb\":%ld}\n", n * CHUNK,
	       (unsigned long)pin, status_kb("RssAnon"));
	for (size_t i = 0; i < n; i++)
		free(chunks[i]);
	printf("{\"op\":\"freed\",\"rss_anon_kb\":%ld}\n", status_kb("RssAnon"));
	fflush(stdout);
	trimmed = malloc_trim(0);
	printf("{\"op\":\"malloc_trim\",\"released\":%d,\"rss_anon_kb\":%ld}\n", trimmed,
	       status_kb("RssAnon"));
	free(pin);
	free(chunks);
	return 0;
}
