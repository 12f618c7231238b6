// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/symbolize/debuginfo.c's parsers: the input is a
 * note section or a .gnu_debuglink section of a target's binary (first
 * byte: which, and the byte order). The rest is copied into a buffer of
 * its own size, so a read past it is seen.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser -Ibpf \
 *         tests/fuzz/fuzz_debuginfo.c user/symbolize/debuginfo.c user/symbolize/elfsym.c \
 *         -lelf -lz -o build/fuzz/fuzz_debuginfo
 * Seeds: tests/fuzz/corpus/debuginfo.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "symbolize/debuginfo.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t id[PL_BUILD_ID_MAX], *copy;
	char name[PL_DEBUGLINK_MAX];
	bool be;
	uint32_t crc;

	if (!size)
		return 0;
	be = data[0] & 2;
	copy = malloc(size - 1 ? size - 1 : 1);
	check(copy != NULL);
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1) {
		if (pl_parse_debuglink(copy, size - 1, be, name, sizeof(name), &crc))
			check(memchr(name, '\0', sizeof(name)) && name[0] && !strchr(name, '/'));
	} else {
		size_t n = pl_parse_build_id_notes(copy, size - 1, be, id, sizeof(id));

		check(n <= sizeof(id) && n + 16 <= size - 1 + (n ? 0 : 16));
	}
	free(copy);
	return 0;
}
