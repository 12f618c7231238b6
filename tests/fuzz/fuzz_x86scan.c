// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/goheap/x86scan.c: the input is a u32 (the
 * callee, as an offset from the code's address) and then code bytes. Every
 * receiver found must be a LEAQ's target (within 2 GiB of the code), and
 * every harmless instruction decoded must fit what was available.
 *
 * Seeds: tests/fuzz/make-goheap-seeds.py (tests/fuzz/corpus/x86scan).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "goheap/x86scan.h"

#define VA 0x40000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t out[8];
	uint32_t off;
	size_t calls, n;

	if (size < 4)
		return 0;
	memcpy(&off, data, 4);
	data += 4, size -= 4;
	n = pl_x86_call_receivers(data, size, VA, VA + off, out, 8, &calls);
	if (n > 8 || n > calls)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		int64_t d = (int64_t)(out[i] - VA);

		if (d < -(1ll << 31) || d >= (int64_t)size + (1ll << 31))
			__builtin_trap();
	}
	for (size_t at = 0; at < size; at++) {
		bool w = false;
		size_t len = pl_x86_harmless_len(data + at, size - at, &w);

		if (len > size - at || len > 15)
			__builtin_trap();
	}
	return 0;
}
