// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "trace/loader.h"
#include "pageledger.skel.h"
#include "trace/sysenv.h"
#include "trace/vlog.h"
#include "util/clock.h"

static bool verbose_libbpf;

static double ms_since(uint64_t t0_ns)
{
	return (double)(pl_now_ns() - t0_ns) / 1e6;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	if (!verbose_libbpf)
		return 0; /* our own messages say what failed, in one line */
	return vfprintf(stderr, fmt, args);
}

/* $PAGELEDGER_SKIP_PROBES: space-separated sections to leave out, as if missing. */
static bool skipped_by_request(const char *sec)
{
	const char *list = getenv("PAGELEDGER_SKIP_PROBES");
	size_t n = strlen(sec);

	for (const char *p = list; p && (p = strstr(p, sec)); p += n) {
		bool starts = p == list || p[-1] == ' ';
		bool ends = p[n] == '\0' || p[n] == ' ';

		if (starts && ends)
			return true;
	}
	return false;
}

/*
 * BTF tracepoints are found in BTF; the two syscall programs are attached
 * to each syscall's own tracepoint below (attach_syscalls), one by one.
 */
static bool probe_exists(const char *sec)
{
	if (!strncmp(sec, "tp_btf/", 7))
		return pl_btf_tracepoint_exists(sec + 7);
	return true;
}

/* Without these there is nothing to trace: their absence stops us, in one line. */
static bool probe_essential(const char *sec)
{
	return !strcmp(sec, "tp_btf/rss_stat") || !strncmp(sec, "tp/syscalls/", 12) ||
	       !strncmp(sec, "iter/", 5);
}

/* The calls we trace, by tracepoint name: the syscall programs go on each one. */
static const char *const traced_syscalls[PL_SYS_NR] = {
    [PL_SYS_MMAP] = "mmap",	  [PL_SYS_MUNMAP] = "munmap",
    [PL_SYS_MADVISE] = "madvise", [PL_SYS_MREMAP] = "mremap",
    [PL_SYS_BRK] = "brk",	  [PL_SYS_PROCESS_MADVISE] = "process_madvise",
};

static int attach_one_syscall(struct pl_tracer *t, const char *name)
{
	char enter[64], exit_[64];

	snprintf(enter, sizeof(enter), "sys_enter_%s", name);
	snprintf(exit_, sizeof(exit_), "sys_exit_%s", name);
	if (skipped_by_request(enter) || !pl_tracepoint_exists("syscalls", enter) ||
	    !pl_tracepoint_exists("syscalls", exit_)) {
		fprintf(stderr,
			"pageledger: warning: this kernel lacks syscalls:%s; %s is not traced\n",
			enter, name);
		t->probes_skipped++;
		return 0;
	}
	t->sys_links[t->n_sys_links] =
	    bpf_program__attach_tracepoint(t->skel->progs.on_sys_enter, "syscalls", enter);
	if (!t->sys_links[t->n_sys_links])
		return -errno;
	t->n_sys_links++;
	t->sys_links[t->n_sys_links] =
	    bpf_program__attach_tracepoint(t->skel->progs.on_sys_exit, "syscalls", exit_);
	if (!t->sys_links[t->n_sys_links])
		return -errno;
	t->n_sys_links++;
	return 0;
}

/* The exit program first would see calls whose entry it never saw: enter first, per call. */
static int attach_syscalls(struct pl_tracer *t)
{
	for (int sys = 0; sys < PL_SYS_NR; sys++) {
		int err = attach_one_syscall(t, traced_syscalls[sys]);

		if (err)
			return err;
	}
	if (!t->n_sys_links) {
		fprintf(stderr,
			"pageledger: this kernel has none of the memory syscalls' tracepoints\n");
		return -ENOENT;
	}
	return 0;
}

static int skip_missing_probes(struct pl_tracer *t)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, t->skel->obj)
	{
		const char *sec = bpf_program__section_name(prog);
		bool asked = skipped_by_request(sec);

		if (!asked && probe_exists(sec))
			continue;
		if (probe_essential(sec)) {
			fprintf(stderr, "pageledger: this kernel lacks %s, which tracing needs\n",
				sec);
			return -1;
		}
		if (asked)
			fprintf(stderr, "pageledger: skipping %s (PAGELEDGER_SKIP_PROBES)\n", sec);
		else
			fprintf(stderr, "pageledger: warning: this kernel lacks %s; skipping it\n",
				sec);
		bpf_program__set_autoload(prog, false);
		t->probes_skipped++;
	}
	return 0;
}

static int page_shift(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int shift = 0;

	while (page > 1 && shift < 31)
		page >>= 1, shift++;
	return shift;
}

static int configure(struct pl_tracer *t, const struct pl_tracer_opts *o)
{
	struct pageledger_bpf *skel = t->skel;

	t->nr_cpus = libbpf_num_possible_cpus();
	if (t->nr_cpus <= 0 || t->nr_cpus > PL_MAX_CPUS) {
		fprintf(stderr, "pageledger: unsupported CPU count %d (at most %d)\n", t->nr_cpus,
			PL_MAX_CPUS);
		return -1;
	}
	skel->rodata->targ_tgid = (__u32)o->tgid;
	skel->rodata->nr_cpus = (__u32)t->nr_cpus;
	skel->rodata->page_shift = (__u32)page_shift();
	skel->rodata->wakeup_bytes = o->ringbuf_size / 4;
	skel->rodata->capture_stacks = !o->no_stacks;
	/* This build's own syscall numbers: the kernel side compares raw ids. */
	skel->rodata->nr_mmap = SYS_mmap;
	skel->rodata->nr_munmap = SYS_munmap;
	skel->rodata->nr_madvise = SYS_madvise;
	skel->rodata->nr_mremap = SYS_mremap;
	skel->rodata->nr_brk = SYS_brk;
	skel->rodata->nr_process_madvise = SYS_process_madvise;
	skel->rodata->until_above = (__s64)o->until_above;
	skel->rodata->until_below = (__s64)o->until_below;
	skel->rodata->spawned = o->spawned;
	if (bpf_map__set_max_entries(skel->maps.events, (__u32)o->ringbuf_size)) {
		fprintf(stderr, "pageledger: cannot size the ring buffer to %llu bytes\n",
			(unsigned long long)o->ringbuf_size);
		return -1;
	}
	bpf_program__set_autoattach(skel->progs.seed, false);
	bpf_program__set_autoattach(skel->progs.on_sys_enter, false);
	bpf_program__set_autoattach(skel->progs.on_sys_exit, false);
	bpf_program__set_autoattach(skel->progs.seed_bounds, false);
	return skip_missing_probes(t);
}

/*
 * Runs the task iterator once: it learns the per-CPU offsets, the target's
 * mm and its RSS at this instant. Done before the tracepoints attach, so
 * every reading they take has a baseline.
 */
static int seed(struct pl_tracer *t, pid_t tgid, int pidfd)
{
	/*
	 * The target's threads only: no walk over every task on the machine.
	 * By pidfd when we have one: a PID is read in our own namespace, and
	 * tgid is the kernel's (initial namespace) number.
	 */
	union bpf_iter_link_info linfo = {.task.pid = (__u32)tgid};
	LIBBPF_OPTS(bpf_iter_attach_opts, iter_opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));

	if (pidfd >= 0)
		linfo = (union bpf_iter_link_info){.task.pid_fd = (__u32)pidfd};
	struct bpf_link *link;
	char buf[64];
	int fd;

	link = bpf_program__attach_iter(t->skel->progs.seed, &iter_opts);
	if (!link) {
		fprintf(stderr, "pageledger: cannot attach the task iterator: %s\n",
			strerror(errno));
		return -1;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		fprintf(stderr, "pageledger: cannot run the task iterator: %s\n", strerror(errno));
		bpf_link__destroy(link);
		return -1;
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	bpf_link__destroy(link);
	if (!t->skel->bss->totals.seeded) {
		fprintf(stderr, "pageledger: process %d has exited\n", tgid);
		return -1;
	}
	return 0;
}

/*
 * Every VMA of the target starts a segment of its chunk: run before the
 * baseline, so no fault is filed before the bounds are in place. A failure
 * only costs precision (faults of mappings sharing a chunk go together).
 */
void pl_tracer_seed_bounds(struct pl_tracer *t, pid_t tgid)
{
	union bpf_iter_link_info linfo = {.task.pid = (__u32)tgid};
	LIBBPF_OPTS(bpf_iter_attach_opts, iter_opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));
	struct bpf_link *link = bpf_program__attach_iter(t->skel->progs.seed_bounds, &iter_opts);
	char buf[64];
	int fd;

	if (!link) {
		t->bounds_unseeded = true;
		return;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		t->bounds_unseeded = true;
	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
}

#define VERIFIER_LOG_SIZE 4096
#define VERIFIER_FULL_LOG_SIZE (16u << 20)

/*
 * -v: the verifier's own time and work per program (log level 4:
 * statistics only). -vv: its whole log too (level 1), printed if it refuses.
 */
static void ask_verifier_stats(struct pl_tracer *t, int verbose)
{
	size_t size = verbose > 1 ? VERIFIER_FULL_LOG_SIZE : VERIFIER_LOG_SIZE;
	struct bpf_program *prog;
	int i = 0;

	bpf_object__for_each_program(prog, t->skel->obj)
	{
		if (i >= PL_MAX_PROGS || !bpf_program__autoload(prog))
			continue;
		t->vlog[i] = calloc(1, size);
		if (!t->vlog[i])
			continue;
		bpf_program__set_log_buf(prog, t->vlog[i], size);
		bpf_program__set_log_level(prog, verbose > 1 ? 1 | 4 : 4);
		i++;
	}
}

static void print_verifier_stats(struct pl_tracer *t)
{
	struct bpf_program *prog;
	int i = 0;

	bpf_object__for_each_program(prog, t->skel->obj)
	{
		struct pl_vlog_stats st;

		if (i >= PL_MAX_PROGS || !bpf_program__autoload(prog))
			continue;
		if (!t->vlog[i]) {
			i++;
			continue;
		}
		if (pl_vlog_parse(t->vlog[i], &st))
			fprintf(stderr,
				"pageledger:   %-22s verified in %6.2f ms, %lu insns processed, "
				"%lu states\n",
				bpf_program__name(prog), st.verify_ms, st.insns, st.states);
		else
			fprintf(stderr, "pageledger:   %-22s verified, its log gave no figures\n",
				bpf_program__name(prog));
		free(t->vlog[i]);
		t->vlog[i++] = NULL;
	}
}

/* The verifier's word on the program it refused: the end of its log, where the reason is. */
static void print_failed_logs(struct pl_tracer *t)
{
	struct bpf_program *prog;
	int i = 0;

	bpf_object__for_each_program(prog, t->skel->obj)
	{
		const char *log;
		size_t len;

		if (i >= PL_MAX_PROGS || !bpf_program__autoload(prog))
			continue;
		log = t->vlog[i++];
		if (!log || !log[0] || bpf_program__fd(prog) >= 0)
			continue;
		len = strlen(log);
		fprintf(stderr, "pageledger: the verifier refused %s:\n%s\n",
			bpf_program__name(prog), len > 2048 ? log + len - 2048 : log);
	}
}

static int load(struct pl_tracer *t, const struct pl_tracer_opts *o)
{
	uint64_t t0;
	int err;

	t0 = pl_now_ns();
	if (o->verbose)
		ask_verifier_stats(t, o->verbose);
	err = pageledger_bpf__load(t->skel);
	if (err) {
		fprintf(stderr, "pageledger: cannot load the BPF programs: %s%s\n", strerror(-err),
			o->verbose ? "" : " (run with -v for the verifier's statistics)");
		print_failed_logs(t);
		return -1;
	}
	if (o->verbose) {
		fprintf(stderr, "pageledger: loaded in %.1f ms\n", ms_since(t0));
		print_verifier_stats(t);
	}
	return 0;
}

/*
 * Open, configure, load, attach, then seed: the programs are attached
 * before the baseline is read, so every call that enters after the
 * baseline is traced, and every counter update after it is claimed by an
 * event (updates before it are in the baseline).
 */
int pl_tracer_start(struct pl_tracer *t, const struct pl_tracer_opts *o)
{
	uint64_t t0;
	int err;

	memset(t, 0, sizeof(*t));
	verbose_libbpf = o->verbose > 1;
	libbpf_set_print(print_libbpf);
	t->skel = pageledger_bpf__open();
	if (!t->skel) {
		fprintf(stderr, "pageledger: cannot open the BPF object: %s\n", strerror(errno));
		return -1;
	}
	if (configure(t, o) || load(t, o))
		return -1;
	t0 = pl_now_ns();
	err = pageledger_bpf__attach(t->skel);
	if (!err)
		err = attach_syscalls(t);
	if (err) {
		fprintf(stderr, "pageledger: cannot attach the BPF programs: %s\n", strerror(-err));
		return -1;
	}
	if (o->verbose)
		fprintf(stderr, "pageledger: attached in %.1f ms\n", ms_since(t0));
	t0 = pl_now_ns();
	pl_tracer_seed_bounds(t, o->tgid);
	if (seed(t, o->tgid, o->pidfd))
		return -1;
	if (o->verbose)
		fprintf(stderr, "pageledger: seeded in %.1f ms\n", ms_since(t0));
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), o->on_record, o->ctx, NULL);
	if (!t->rb) {
		fprintf(stderr, "pageledger: cannot open the ring buffer: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int pl_tracer_poll(struct pl_tracer *t, int timeout_ms)
{
	int n = ring_buffer__poll(t->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	/* Batched submits do not wake us: take what queued while we slept. */
	return ring_buffer__consume(t->rb);
}

int pl_tracer_drain(struct pl_tracer *t)
{
	return ring_buffer__consume(t->rb);
}

/* Sums the per-CPU begun/ended counts (bpf/pageledger.bpf.h: struct pl_progress). */
static void read_progress(const struct pl_tracer *t, struct pl_totals *out)
{
	struct {
		__u64 begun, ended;
	} per_cpu[PL_MAX_CPUS];
	__u32 zero = 0;

	out->rss_begin = out->rss_end = 0;
	if (bpf_map__lookup_elem(t->skel->maps.progress, &zero, sizeof(zero), per_cpu,
				 sizeof(per_cpu[0]) * (size_t)t->nr_cpus, 0))
		return;
	for (int cpu = 0; cpu < t->nr_cpus; cpu++) {
		out->rss_begin += per_cpu[cpu].begun;
		out->rss_end += per_cpu[cpu].ended;
	}
}

/*
 * The progress counts on both sides of the copy: if they moved, an update
 * landed inside it, and the copy is marked unsettled (begun != ended).
 */
void pl_tracer_totals(const struct pl_tracer *t, struct pl_totals *out)
{
	struct pl_totals before, after;

	read_progress(t, &before);
	memcpy(out, (const void *)&t->skel->bss->totals, sizeof(*out));
	read_progress(t, &after);
	out->rss_begin = after.rss_begin;
	out->rss_end = after.rss_end;
	if (before.rss_begin != after.rss_begin || before.rss_end != after.rss_end)
		out->rss_begin++;
}

uint64_t pl_tracer_page_faults(const struct pl_tracer *t)
{
	__u64 *per_cpu = calloc((size_t)t->nr_cpus, sizeof(__u64));
	__u32 zero = 0;
	uint64_t sum = 0;

	if (!per_cpu)
		return 0;
	if (!bpf_map__lookup_elem(t->skel->maps.fault_count, &zero, sizeof(zero), per_cpu,
				  sizeof(__u64) * (size_t)t->nr_cpus, 0))
		for (int i = 0; i < t->nr_cpus; i++)
			sum += per_cpu[i];
	free(per_cpu);
	return sum;
}

int pl_tracer_stack(const struct pl_tracer *t, __u64 key, __u64 *ips, int max)
{
	__u64 buf[PL_MAX_STACK];
	int n = 0;

	if (!key || max <= 0)
		return 0;
	if (bpf_map__lookup_elem(t->skel->maps.stacks, &key, sizeof(key), buf, sizeof(buf), 0))
		return 0;
	while (n < max && n < PL_MAX_STACK && buf[n])
		ips[n] = buf[n], n++;
	return n;
}

int pl_tracer_causes(const struct pl_tracer *t, struct pl_cause_acc *out)
{
	struct pl_cause_acc *per_cpu = calloc((size_t)t->nr_cpus, sizeof(*per_cpu));
	__u32 zero = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!per_cpu)
		return -1;
	err = bpf_map__lookup_elem(t->skel->maps.cause_acc, &zero, sizeof(zero), per_cpu,
				   sizeof(*per_cpu) * (size_t)t->nr_cpus, 0);
	for (int cpu = 0; !err && cpu < t->nr_cpus; cpu++) {
		for (int c = 0; c < PL_CAUSE_NR; c++) {
			for (int m = 0; m < PL_RSS_NR; m++)
				out->delta[c][m] += per_cpu[cpu].delta[c][m];
			out->updates[c] += per_cpu[cpu].updates[c];
		}
	}
	free(per_cpu);
	return err ? -1 : 0;
}

int pl_tracer_fault_caches(const struct pl_tracer *t, struct pl_fault_cache *out)
{
	__u32 zero = 0;

	if (bpf_map__lookup_elem(t->skel->maps.fault_cache, &zero, sizeof(zero), out,
				 sizeof(*out) * (size_t)t->nr_cpus, 0))
		return -1;
	return t->nr_cpus;
}

int pl_tracer_chunk(const struct pl_tracer *t, __u64 idx, struct pl_chunk *out)
{
	return bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.chunks), &idx, out) ? -1 : 0;
}

int pl_tracer_seg(const struct pl_tracer *t, __u64 idx, __u32 page, struct pl_seg *out)
{
	__u64 key = PL_SEG_KEY(idx, page);

	return bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.segs), &key, out) ? -1 : 0;
}

#define CHUNK_BATCH 256

/* One key at a time: kernels or maps without batch lookups. */
static int walk_map(int fd, void *val, void (*each)(void *ctx, __u64 key, const void *val),
		    void *ctx)
{
	__u64 key, next;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, val))
			continue;
		each(ctx, key, val);
		n++;
	}
	return n;
}

/*
 * Up to CHUNK_BATCH entries a system call, into buffers the caller sized.
 * Returns the count, or -1 to walk instead (a fold is idempotent: the walk
 * may see some again).
 */
static int batch_map(int fd, __u64 *keys, void *vals, size_t val_size,
		     void (*each)(void *ctx, __u64 key, const void *val), void *ctx)
{
	__u64 token = 0;
	void *in = NULL;
	int n = 0, err;

	do {
		__u32 count = CHUNK_BATCH;

		err = bpf_map_lookup_batch(fd, in, &token, keys, vals, &count, NULL);
		if (err && errno != ENOENT)
			return n ? n : -1;
		for (__u32 i = 0; i < count; i++)
			each(ctx, keys[i], (const char *)vals + i * val_size);
		n += (int)count;
		in = &token;
	} while (!err);
	return n;
}

struct chunk_walk {
	pl_chunk_fn chunk_fn;
	pl_seg_fn seg_fn;
	void *ctx;
};

static void each_chunk(void *ctx, __u64 key, const void *val)
{
	struct chunk_walk *w = ctx;

	w->chunk_fn(w->ctx, key, val);
}

static void each_seg(void *ctx, __u64 key, const void *val)
{
	struct chunk_walk *w = ctx;

	w->seg_fn(w->ctx, key >> 9, (__u32)(key & (PL_CHUNK_PAGES - 1)), val);
}

static int read_map(int fd, size_t val_size, void (*each)(void *, __u64, const void *),
		    struct chunk_walk *w)
{
	__u64 *keys = calloc(CHUNK_BATCH, sizeof(*keys));
	void *vals = calloc(CHUNK_BATCH, val_size);
	int n = -1;

	if (keys && vals)
		n = batch_map(fd, keys, vals, val_size, each, w);
	if (n < 0 && vals)
		n = walk_map(fd, vals, each, w);
	free(keys);
	free(vals);
	return n < 0 ? 0 : n;
}

/*
 * Chunks first, then segments: the readers take the fault caches after
 * both, so a flush between the readings is missed for a moment (a lag),
 * never counted twice.
 */
int pl_tracer_chunks(const struct pl_tracer *t, pl_chunk_fn chunk_fn, pl_seg_fn seg_fn, void *ctx)
{
	struct chunk_walk w = {chunk_fn, seg_fn, ctx};
	int n =
	    read_map(bpf_map__fd(t->skel->maps.chunks), sizeof(struct pl_chunk), each_chunk, &w);

	read_map(bpf_map__fd(t->skel->maps.segs), sizeof(struct pl_seg), each_seg, &w);
	return n;
}

/* The segments a chunk's bounds start, and the one at page 0. */
static void range_segs(int fd, __u64 idx, const struct pl_chunk *c, pl_seg_fn fn, void *ctx)
{
	struct pl_seg s;

	for (__u32 p = 0; p < PL_CHUNK_PAGES; p++) {
		__u64 key = PL_SEG_KEY(idx, p);

		if (p && !((c->bounds[p / 64] >> (p % 64)) & 1))
			continue;
		if (!bpf_map_lookup_elem(fd, &key, &s))
			fn(ctx, idx, p, &s);
	}
}

void pl_tracer_chunk_range(const struct pl_tracer *t, __u64 first, __u64 last, pl_chunk_fn chunk_fn,
			   pl_seg_fn seg_fn, void *ctx)
{
	int fd = bpf_map__fd(t->skel->maps.chunks), seg_fd = bpf_map__fd(t->skel->maps.segs);
	struct pl_chunk c;

	for (__u64 idx = first; idx <= last; idx++) {
		if (bpf_map_lookup_elem(fd, &idx, &c))
			continue;
		chunk_fn(ctx, idx, &c);
		range_segs(seg_fd, idx, &c, seg_fn, ctx);
	}
}

void pl_tracer_forget_chunk(const struct pl_tracer *t, __u64 idx, const __u64 *bounds)
{
	int seg_fd = bpf_map__fd(t->skel->maps.segs);

	bpf_map_delete_elem(bpf_map__fd(t->skel->maps.chunks), &idx);
	for (__u32 p = 0; p < PL_CHUNK_PAGES; p++) {
		__u64 key = PL_SEG_KEY(idx, p);

		if (!p || (bounds[p / 64] >> (p % 64)) & 1)
			bpf_map_delete_elem(seg_fd, &key);
	}
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Each tracepoint link's release waits for an RCU grace period, about
 * 70 ms here: one after another, ten links held the exit for a second.
 * Released on threads at once, the BTF tracepoints' share the wait. The
 * twelve syscall tracepoints' perf links do not: each release syncs under
 * the kernel's event_mutex, so they still go one by one (strace: 25-40 ms
 * each, 0.43-0.46 s of the end, which -v shows as "detached"). A link
 * whose thread cannot start is released here, in turn.
 */
static void destroy_links_at_once(struct bpf_link **links, int n)
{
	pthread_t tids[PL_MAX_PROGS + PL_MAX_SYS_LINKS];
	bool started[PL_MAX_PROGS + PL_MAX_SYS_LINKS] = {0};

	for (int i = 0; i < n; i++)
		started[i] = links[i] && !pthread_create(&tids[i], NULL, destroy_link, links[i]);
	for (int i = 0; i < n; i++) {
		if (started[i])
			pthread_join(tids[i], NULL);
		else
			bpf_link__destroy(links[i]);
	}
}

static void release_links(struct pl_tracer *t)
{
	struct bpf_link *links[PL_MAX_PROGS + PL_MAX_SYS_LINKS];
	struct bpf_object_skeleton *s = t->skel->skeleton;
	int n = 0;

	for (int i = 0; i < t->n_sys_links; i++)
		links[n++] = t->sys_links[i];
	t->n_sys_links = 0;
	for (int i = 0; i < s->prog_cnt && n < PL_MAX_PROGS + PL_MAX_SYS_LINKS; i++) {
		if (!s->progs[i].link)
			continue;
		links[n++] = *s->progs[i].link;
		*s->progs[i].link = NULL;
	}
	destroy_links_at_once(links, n);
}

void pl_tracer_stop(struct pl_tracer *t)
{
	if (t->skel)
		release_links(t);
	for (int i = 0; i < PL_MAX_PROGS; i++) {
		free(t->vlog[i]);
		t->vlog[i] = NULL;
	}
	ring_buffer__free(t->rb);
	t->rb = NULL;
	pageledger_bpf__destroy(t->skel);
	t->skel = NULL;
}
