/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading the address of a Go method's receiver out of its callers'
 * x86-64 code, without running anything: with the register ABI (Go 1.17+)
 * the receiver travels in RAX, and a call on a global, such as
 * mheap_.alloc(...), loads it with LEAQ runtime.mheap_(SB), AX (48 8D 05
 * disp32, RIP-relative) a few instructions before CALL (E8 rel32).
 *
 * Only the few instruction forms the Go compiler puts between the two are
 * decoded (moves, loads, LEAs into other registers, NOPs, tests); a call
 * site with anything else between, or with RAX written again, is not
 * used. The bytes come from a binary a user controls: every read is
 * bounds-checked and the scan is linear in the code's size.
 */
#ifndef PL_GOHEAP_X86SCAN_H
#define PL_GOHEAP_X86SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Furthest back from a call that the receiver's LEAQ is looked for. */
#define PL_X86_LEA_WINDOW 64

/*
 * Length of the instruction at p (avail bytes readable), if it is one of
 * the harmless forms; *writes_rax says whether it writes RAX (or part of
 * it). Returns 0 for anything else (unknown, control flow, truncated).
 */
size_t pl_x86_harmless_len(const uint8_t *p, size_t avail, bool *writes_rax);

/*
 * Scans code (n bytes at link address va) for calls to callee. For each,
 * the nearest LEAQ disp(RIP), AX before it from which the harmless forms
 * decode exactly up to the call, without writing RAX again, gives one
 * address (the LEAQ's target). Writes up to max of them to out, returns
 * how many; *calls (if not NULL) gets the number of calls seen.
 */
size_t pl_x86_call_receivers(const uint8_t *code, size_t n, uint64_t va, uint64_t callee,
			     uint64_t *out, size_t max, size_t *calls);
/*
 * The same for calls that start at offsets from..to-1 of code only (the
 * bytes before from are there for the LEAQ look-back): a window of a longer
 * code segment, read piece by piece.
 */
size_t pl_x86_call_receivers_in(const uint8_t *code, size_t n, size_t from, size_t to, uint64_t va,
				uint64_t callee, uint64_t *out, size_t max, size_t *calls);

#endif
