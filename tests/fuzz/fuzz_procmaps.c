// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/symbolize/procmaps.c: the input is parsed as one line and
 * as a whole maps text; the table's invariants are checked and looked up.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser \
 *         tests/fuzz/fuzz_procmaps.c user/symbolize/procmaps.c -o build/fuzz_procmaps
 *   mkdir -p tests/fuzz/corpus-procmaps
 *   build/fuzz_procmaps -max_len=4096 tests/fuzz/corpus-procmaps \
 *         tests/fuzz/corpus/procmaps
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "symbolize/procmaps.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void check_entry(const struct pl_map *m)
{
	check(m->start < m->end);
	if (m->path)
		check(strlen(m->path) == m->path_len);
	else
		check(m->path_len == 0);
}

static void check_lookup(const struct pl_maps *t, uint64_t addr)
{
	const struct pl_map *m = pl_maps_find(t, addr);

	if (m)
		check(addr >= m->start && addr < m->end);
}

static void check_table(const struct pl_maps *t)
{
	for (size_t i = 0; i < t->n; i++) {
		check_entry(&t->v[i]);
		check(i == 0 || t->v[i - 1].start <= t->v[i].start);
		check_lookup(t, t->v[i].start);
		check_lookup(t, t->v[i].end - 1);
		check_lookup(t, t->v[i].end);
		check_lookup(t, t->v[i].start - 1);
	}
	check_lookup(t, 0);
	check_lookup(t, UINT64_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading past the end is caught. */
	char *line = malloc(size ? size : 1);
	struct pl_maps t;
	struct pl_map m;

	if (!line)
		return 0;
	memcpy(line, data, size);
	if (pl_maps_parse_line(line, size, &m) == 0) {
		check(m.start < m.end);
		check(!m.path || (m.path >= line && m.path + m.path_len <= line + size));
	}
	free(line);
	if (pl_maps_parse((const char *)data, size, &t) == 0)
		check_table(&t);
	pl_maps_free(&t);
	return 0;
}
