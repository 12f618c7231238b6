// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Which demangler a name is for: Rust's legacy names look like C++ ones
 * (_ZN...E) and end in a 17h<hash> component, so they are tried first;
 * then C++ (_Z), then Rust v0 (_R).
 */
#include "symbolize/demangle.h"

bool pl_demangle(const char *name, size_t len, char *out, size_t out_len)
{
	if (!name || len < 3 || len > PL_DEMANGLE_MAX_IN)
		return false;
	return pl_demangle_rust_legacy(name, len, out, out_len) ||
	       pl_demangle_cxx(name, len, out, out_len) ||
	       pl_demangle_rust_v0(name, len, out, out_len);
}
