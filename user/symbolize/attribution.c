// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include "symbolize/attribution.h"
#include "decode/decode.h"
#include "trace/loader.h"

#define CACHE_SLOTS 512

struct pl_caller_cache_entry {
	bool used;
	pid_t pid;
	__u64 stack_key;
	__u64 user_ip, ret_addr;
	bool is_release;
	struct pl_caller caller;
};

static unsigned int cache_slot(pid_t pid, __u64 stack_key, __u64 ip, __u64 ret)
{
	__u64 h = (__u64)pid * 0x9e3779b97f4a7c15ull ^ stack_key * 0xff51afd7ed558ccdull ^
		  ip * 0xc4ceb9fe1a85ec53ull ^ ret;

	return (unsigned int)((h ^ (h >> 29)) % CACHE_SLOTS);
}

/*
 * A symbolizer warning, one line on stderr. It names a binary of the
 * target's, so every byte that could drive a terminal is written as \xNN.
 */
static void warn_line(void *ctx, const char *msg)
{
	(void)ctx;
	fputs("pageledger: warning: ", stderr);
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

int pl_attributor_init(struct pl_attributor *a, const struct pl_tracer *tracer, pid_t target)
{
	memset(a, 0, sizeof(*a));
	a->tracer = tracer;
	a->sym = pl_symbolizer_new();
	a->cache = calloc(CACHE_SLOTS, sizeof(*a->cache));
	if (!a->sym || !a->cache)
		return -1;
	pl_symbolizer_set_warn(a->sym, warn_line, NULL);
	/* Now, while the target is alive: its maps are needed even after it exits. */
	pl_symbolizer_add_process(a->sym, target);
	return 0;
}

/*
 * The addresses, innermost first: the syscall instruction, then the word at
 * the stack pointer when it is a return address the frame walk skipped, then
 * the kernel's frame-pointer walk (whose first entry is the syscall ip).
 */
static int collect_ips(struct pl_attributor *a, const struct pl_syscall_event *e, __u64 *ips,
		       int max)
{
	__u64 walk[PL_MAX_STACK];
	int nwalk = pl_tracer_stack(a->tracer, e->stack_key, walk, PL_MAX_STACK);
	int n = 0, from = 0;

	if (e->user_ip)
		ips[n++] = e->user_ip;
	if (nwalk > 0 && walk[0] == e->user_ip)
		from = 1;
	if (e->ret_addr && (from >= nwalk || walk[from] != e->ret_addr) && n < max)
		ips[n++] = e->ret_addr;
	for (int i = from; i < nwalk && n < max; i++)
		ips[n++] = walk[i];
	return n;
}

/* Symbolizes ips into out; a return address is looked up one byte back, in its call. */
static int symbolize_ips(struct pl_attributor *a, pid_t pid, const __u64 *ips, int n,
			 bool ret_is_guess, struct pl_frame *out, int max)
{
	int count = 0;
	bool leaf_stub = false;

	for (int i = 0; i < n && count < max; i++) {
		__u64 lookup = i == 0 ? ips[i] : ips[i] - 1;
		int got = pl_symbolize(a->sym, pid, lookup, out + count, max - count);

		for (int k = 0; k < got; k++)
			out[count + k].addr = ips[i];
		if (i == 0 && got > 0)
			leaf_stub = pl_is_leaf_syscall_stub(&out[0]);
		/*
		 * The stack-pointer word is only a return address if it lands in
		 * code: in a named function, or, under a leaf syscall stub (which
		 * keeps no frame, so the word is its return address), anywhere in
		 * an executable mapping (a stripped binary's local functions).
		 */
		if (i == 1 && ret_is_guess &&
		    (got <= 0 || !(out[count].func || (leaf_stub && out[count].code))))
			continue;
		count += got > 0 ? got : 0;
	}
	return count;
}

static void resolve(struct pl_attributor *a, const struct pl_syscall_event *e,
		    struct pl_caller *out)
{
	__u64 ips[PL_MAX_FRAMES];
	pid_t pid = (pid_t)e->hdr.pid;
	int n;

	memset(out, 0, sizeof(*out));
	out->site = -1;
	if (!e->stack_key && !e->user_ip)
		return;
	n = collect_ips(a, e, ips, PL_MAX_FRAMES);
	out->nframes =
	    symbolize_ips(a, pid, ips, n, e->ret_addr != 0 && n > 1 && ips[1] == e->ret_addr,
			  out->frames, PL_MAX_FRAMES);
	out->cls = pl_classify_caller(out->frames, out->nframes, pl_syscall_is_release(e));
	out->site = pl_call_site(out->frames, out->nframes);
}

/*
 * A new code mapping (the kernel woke us for it): learn it while the
 * process lives, from its range alone, not by reading all of its maps.
 */
static void refresh_on_code_mapping(struct pl_attributor *a, const struct pl_syscall_event *e)
{
	uint64_t start = pl_syscall_addr(e);

	if (e->sys == PL_SYS_MMAP && (e->args[2] & PROT_EXEC) && !(e->args[3] & MAP_ANONYMOUS) &&
	    !pl_syscall_failed(e))
		pl_symbolizer_add_range(a->sym, (pid_t)e->hdr.pid, start,
					start + pl_syscall_len(e));
}

void pl_attributor_exec(struct pl_attributor *a, pid_t pid)
{
	/* A new address space: read it now (a short-lived one may be gone by its next record). */
	pl_symbolizer_add_process(a->sym, pid);
	/* The same stack keys now name other code. */
	memset(a->cache, 0, CACHE_SLOTS * sizeof(*a->cache));
}

void pl_attribute(struct pl_attributor *a, const struct pl_syscall_event *e, struct pl_caller *out)
{
	pid_t pid = (pid_t)e->hdr.pid;
	bool rel = pl_syscall_is_release(e);
	struct pl_caller_cache_entry *c =
	    &a->cache[cache_slot(pid, e->stack_key, e->user_ip, e->ret_addr)];

	refresh_on_code_mapping(a, e);
	/* A stack key names one stack for the whole run: entries are never replaced. */
	if (e->stack_key && c->used && c->pid == pid && c->stack_key == e->stack_key &&
	    c->user_ip == e->user_ip && c->ret_addr == e->ret_addr && c->is_release == rel) {
		a->cache_hits++;
		*out = c->caller;
		return;
	}
	a->cache_misses++;
	resolve(a, e, out);
	if (!e->stack_key)
		return;
	c->used = true;
	c->pid = pid;
	c->stack_key = e->stack_key;
	c->user_ip = e->user_ip;
	c->ret_addr = e->ret_addr;
	c->is_release = rel;
	c->caller = *out;
}

void pl_attributor_free(struct pl_attributor *a)
{
	free(a->cache);
	a->cache = NULL;
	pl_symbolizer_free(a->sym);
	a->sym = NULL;
}
