// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/goheap/buildinfo.c: the input is a file image
 * seen through two segments (the whole input at 0x500000, and its second
 * half at an address the input's first word names), searched for the Go
 * build information. The version must come back printable and terminated.
 *
 * Seeds: tests/fuzz/make-goheap-seeds.py (tests/fuzz/corpus/gobuildinfo).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "goheap/buildinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_elf_segment segs[2] = {{0, size, 0x500000, size},
					 {size / 2, size - size / 2, 0, 0}};
	char v[PL_GO_VERSION_MAX];

	if (size >= 8)
		memcpy(&segs[1].vaddr, data, 8);
	segs[1].memsz = segs[1].filesz;
	if (pl_go_buildinfo_version(data, size, segs, 2, v, sizeof(v)) == 0) {
		size_t n = strlen(v);

		if (n == 0 || n >= sizeof(v))
			__builtin_trap();
		for (size_t i = 0; i < n; i++)
			if (v[i] < 0x20 || v[i] > 0x7e)
				__builtin_trap();
	}
	return 0;
}
