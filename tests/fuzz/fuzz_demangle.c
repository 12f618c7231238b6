// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/symbolize/demangle*.c: the input is a symbol
 * name. Each demangler runs on it, into a buffer of exactly the size it is
 * given (so ASan sees a write past it), and whatever it returns must be a
 * string that fits. The input is copied into a buffer of its own size, so
 * a read past the name is seen too.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser tests/fuzz/fuzz_demangle.c \
 *         user/symbolize/demangle.c user/symbolize/demangle_cxx.c \
 *         user/symbolize/demangle_rust.c -o build/fuzz/fuzz_demangle
 * Seeds: tests/fuzz/corpus/demangle (C++, Rust legacy and v0 names, a substitution bomb).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "symbolize/demangle.h"

typedef bool (*demangler)(const char *, size_t, char *, size_t);

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void run(demangler fn, const char *name, size_t len, size_t out_len)
{
	char *out = malloc(out_len);

	check(out != NULL);
	if (fn(name, len, out, out_len))
		check(memchr(out, '\0', out_len) != NULL);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const demangler all[] = {pl_demangle, pl_demangle_cxx, pl_demangle_rust_legacy,
					pl_demangle_rust_v0};
	char *name = malloc(size ? size : 1);

	check(name != NULL);
	memcpy(name, data, size);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		run(all[i], name, size, PL_DEMANGLE_MAX_OUT);
		run(all[i], name, size, 1 + size % 64); /* small buffers: cut, never overrun */
	}
	free(name);
	return 0;
}
