// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for pl_smaps_parse (user/ledger/procstat.c, over
 * pl_maps_parse_line): every VMA it reports is checked and every byte of its
 * path read, from an exact-size copy of the input, so ASan sees overreads.
 *
 *   make build/fuzz/fuzz_smaps && scripts/fuzz.sh 60 fuzz_smaps
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ledger/procstat.h"

struct seen {
	const char *text;
	size_t len;
	int calls;
	uint64_t sink;
};

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

/* -1 (absent) or whole kB as bytes. */
static void check_figure(int64_t v)
{
	check(v == -1 || (v >= 0 && v % 1024 == 0));
}

static void on_vma(void *ctx, const struct pl_smaps_vma *v)
{
	struct seen *s = ctx;

	s->calls++;
	check(v->start < v->end);
	check_figure(v->rss);
	check_figure(v->lazy_free);
	check_figure(v->anon_huge);
	check_figure(v->swap);
	if (!v->path) {
		check(v->path_len == 0);
		return;
	}
	check(v->path_len > 0);
	check(v->path >= s->text && v->path + v->path_len <= s->text + s->len);
	for (size_t i = 0; i < v->path_len; i++) {
		check(v->path[i] != '\n' && v->path[i] != '\0');
		s->sink += (unsigned char)v->path[i];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading past the end is caught. */
	char *text = malloc(size ? size : 1);
	struct seen s = {0};
	int n;

	if (!text)
		return 0;
	memcpy(text, data, size);
	s.text = text;
	s.len = size;
	n = pl_smaps_parse(text, size, on_vma, &s);
	check(n == s.calls);
	check(n >= 0 && (size_t)n <= size / 2 + 1);
	free(text);
	return 0;
}
