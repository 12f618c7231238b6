/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the reader needs to know about a Go executable, from its file
 * alone: the Go release (from the build information), the layout table
 * for it, and the link-time address of runtime.mheap_: from .symtab when
 * the binary has one, else from the code of the callers of a method whose
 * receiver is always &mheap_ (runtime.(*mheap).alloc and its siblings),
 * found by name in the Go function table, which stripped binaries keep.
 * Nothing here touches the running process.
 */
#ifndef PL_GOHEAP_GOBINARY_H
#define PL_GOHEAP_GOBINARY_H

#include <stddef.h>
#include <stdint.h>
#include "goheap/buildinfo.h"
#include "goheap/layout.h"
#include "symbolize/elfsym.h"

/* Receivers read per method: more call sites than the runtime has. */
#define PL_GO_SITES_MAX 64

struct pl_go_binary {
	char version[PL_GO_VERSION_MAX]; /* "go1.19.8"; "" if unknown */
	const struct pl_go_layout *layout;
	uint64_t mheap;	      /* link-time address of runtime.mheap_ */
	const char *found_by; /* "symtab" or "code" */
	unsigned sites;	      /* with "code": call sites that agree on it */
	unsigned sites_read;  /* with "code": call sites whose receiver was read */
};

enum pl_go_binary_status {
	PL_GO_BIN_OK = 0,
	PL_GO_BIN_NOT_GO = 1,	   /* no Go function table: not a Go binary */
	PL_GO_BIN_UNSUPPORTED = 2, /* Go, but nothing to read it with (release, arch) */
	PL_GO_BIN_NO_HEAP = 3,	   /* Go, but runtime.mheap_ was not found */
};

/*
 * Analyzes the executable e (its image must still be kept). Returns a
 * status; unless PL_GO_BIN_OK, why says in a few words what is missing.
 * out->version is filled whenever the build information is found.
 */
enum pl_go_binary_status pl_go_binary_analyze(struct pl_elf *e, struct pl_go_binary *out, char *why,
					      size_t whylen);
/*
 * Only the code method, whatever .symtab says (analyze uses it when there
 * is no symbol; tests hold it against the symbol). Fills out->mheap,
 * found_by, sites and sites_read. False if no address wins.
 */
bool pl_go_binary_heap_from_code(struct pl_elf *e, struct pl_go_binary *out);

#endif
