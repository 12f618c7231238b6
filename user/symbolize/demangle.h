/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Symbol names as people read them: C++ (the Itanium ABI's _Z names, as
 * GCC and Clang emit them) and Rust (legacy _ZN...17h<hash>E names and v0
 * _R names). The names come from binaries that other users control, so
 * both demanglers are our own, bounded in time and memory whatever the
 * name says (libstdc++'s __cxa_demangle is not: substitutions can expand
 * a few hundred bytes into gigabytes). A name that is not mangled, uses a
 * construct they do not know, or would demangle past the output's size is
 * left as it is. Not thread-safe: the C++ demangler works in one static
 * arena.
 */
#ifndef PL_DEMANGLE_H
#define PL_DEMANGLE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest input considered, and the most a demangled name may take. */
#define PL_DEMANGLE_MAX_IN 1024
#define PL_DEMANGLE_MAX_OUT 4096

/*
 * Writes the demangled form of name (len bytes, no NUL needed) to out
 * (out_len bytes, NUL-terminated) and returns true; false, with out
 * untouched, if name is not a mangled name this can demangle.
 */
bool pl_demangle(const char *name, size_t len, char *out, size_t out_len);

/* The parts, for tests and the fuzzer: the same contract as pl_demangle. */
bool pl_demangle_cxx(const char *name, size_t len, char *out, size_t out_len);
bool pl_demangle_rust_legacy(const char *name, size_t len, char *out, size_t out_len);
bool pl_demangle_rust_v0(const char *name, size_t len, char *out, size_t out_len);

#endif
