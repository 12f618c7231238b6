// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/goheap/gobinary.c (with buildinfo.c, x86scan.c,
 * layout.c, and the ELF and pclntab readers it goes through): the input is
 * an executable's bytes, analyzed as the live reader does, then by the
 * code method alone. Every string returned is read to its end.
 *
 * Seeds: tests/fuzz/make-goheap-seeds.py (tests/fuzz/corpus/gobinary).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "goheap/gobinary.h"

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_elf *e = pl_elf_from_memory(data, size);
	struct pl_go_binary b;
	char why[256];

	if (!e)
		return 0;
	why[0] = '\0';
	sink += (size_t)pl_go_binary_analyze(e, &b, why, sizeof(why));
	sink += strlen(why) + strlen(b.version) + (b.found_by ? strlen(b.found_by) : 0);
	if (pl_go_binary_heap_from_code(e, &b) && (b.sites == 0 || b.sites > b.sites_read))
		__builtin_trap();
	pl_elf_close(e);
	return 0;
}
