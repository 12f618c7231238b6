// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/symbolize/elfsym.c: the input is an ELF image, loaded
 * from memory with libelf; then offsets are translated and a spread of
 * addresses looked up, with the image kept and then dropped.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser \
 *         tests/fuzz/fuzz_elfsym.c user/symbolize/elfsym.c -lelf -lz -o build/fuzz_elfsym
 *   mkdir -p tests/fuzz/corpus-elfsym
 *   build/fuzz_elfsym -max_len=16384 tests/fuzz/corpus-elfsym tests/fuzz/corpus/elfsym
 *
 * The system libelf is not instrumented: a bad read inside it shows only if
 * it faults. Linking a libelf built from the elfutils sources with the same
 * -fsanitize flags (plus -fno-sanitize=alignment: libelf reads unaligned on
 * purpose where the CPU allows it) also covers it.
 */
#include <stdint.h>
#include <string.h>
#include "symbolize/elfsym.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void lookup(const struct pl_elf *e, uint64_t vaddr)
{
	uint64_t start = 0;
	const char *name = pl_elf_lookup(e, vaddr, &start);

	if (name) {
		check(start <= vaddr);
		check(name[0] != '\0' && strlen(name) <= PL_ELF_MAX_NAME);
	}
}

/* Addresses the file itself suggests (through its segments), and fixed ones. */
static void look_around(const struct pl_elf *e, size_t size)
{
	static const uint64_t fixed[] = {0, 1, 0x1000, 0x400000, 0x10000, UINT64_MAX};
	size_t step = size / 64 + 1;

	for (size_t off = 0; off < size + step; off += step) {
		uint64_t vaddr;

		if (pl_elf_offset_to_vaddr(e, off, &vaddr)) {
			lookup(e, vaddr);
			lookup(e, vaddr + 1);
			lookup(e, vaddr - 1);
		}
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		lookup(e, fixed[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_elf *e = pl_elf_from_memory(data, size);
	const uint8_t *image;
	size_t image_size;

	if (!e)
		return 0;
	image = pl_elf_image(e, &image_size);
	check(image && image_size == size && (size == 0 || !memcmp(image, data, size)));
	look_around(e, size);
	pl_elf_drop_image(e);
	look_around(e, size);
	pl_elf_close(e);
	return 0;
}
