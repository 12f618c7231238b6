// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/symbolize/gopclntab.c: the input is an ELF image; when a
 * table is found, a spread of pcs is looked up (edges, the functions of the
 * seed program, pcs taken from the input itself) and every returned string
 * is read to its end, so ASan sees any missing terminator.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser \
 *          tests/fuzz/fuzz_gopclntab.c user/symbolize/gopclntab.c user/symbolize/elfsym.c \
 *          -lelf -lz -o build/fuzz/fuzz_gopclntab
 * Seeds: tests/fuzz/make-gopclntab-seeds.py (tests/fuzz/corpus/gopclntab).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "symbolize/elfsym.h"
#include "symbolize/gopclntab.h"

static volatile size_t sink;

static void look(struct pl_pclntab *t, uint64_t pc, int max)
{
	struct pl_go_frame fr[8];
	int n = pl_pclntab_lookup(t, pc, fr, max);

	if (n < 0 || n > max)
		__builtin_trap();
	for (int i = 0; i < n; i++) {
		if (!fr[i].func)
			__builtin_trap();
		sink +=
		    strlen(fr[i].func) + (fr[i].file ? strlen(fr[i].file) : 0) + (size_t)fr[i].line;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As the symbolizer opens it: elfsym's libelf handle, on the input itself. */
	struct pl_elf *e = pl_elf_from_buffer(data, size);
	struct pl_pclntab *t = pl_pclntab_open(e);
	uint64_t anchors[4], tail = 0;

	pl_elf_end_load(e);
	if (!t) {
		pl_elf_close(e);
		return 0;
	}
	sink += (size_t)pl_pclntab_version(t);
	/* The seed program: main.first, main.outer (inlines), main.main. */
	anchors[0] = pl_pclntab_func_entry(t, "main.outer");
	anchors[1] = pl_pclntab_func_entry(t, "main.first");
	anchors[2] = pl_pclntab_func_entry(t, "main.main");
	anchors[3] = 0x400100;
	for (int a = 0; a < 4; a++)
		for (uint64_t d = 0; d < 0x1c0; d += 3)
			look(t, anchors[a] - 0x40 + d, 8);
	/* Edges. */
	look(t, 0, 8);
	look(t, 1, 8);
	look(t, UINT64_MAX, 8);
	look(t, UINT64_MAX - 1, 1);
	look(t, anchors[0] + 0x38, 1);
	look(t, anchors[0] + 0x38, 2);
	/* Addresses the input itself suggests. */
	if (size >= 8)
		memcpy(&tail, data + size - 8, 8);
	for (int i = 0; i < 16; i++)
		look(t, tail + (uint64_t)i * 0x11, 8);
	for (size_t off = 24; off + 8 <= size && off < 24 + 8 * 16; off += 8) {
		uint64_t pc;

		memcpy(&pc, data + off, 8);
		look(t, pc, 8);
	}
	pl_pclntab_close(t);
	pl_elf_close(e);
	return 0;
}
