// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The text output as a person reads it: golden summaries at 80 and 100
 * columns, event lines laid out for each width, and names the target chose
 * made safe everywhere they are shown (events, --stacks, sites, ranges).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "symbolize/attribution.h"
#include "symbolize/callers.h"
#include "output/sinks.h"
#include "output/text.h"
#include "util/escape.h"

#define MIB (1024 * 1024)
#define KIB 1024

static struct pl_ledger ledger; /* large: off the stack */

static char *text_of(void (*write)(FILE *, int), int width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	write(f, width);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* No line wider than width, no byte a terminal acts on. */
static void assert_fits(const char *text, int width)
{
	char line[4096];

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		if (pl_text_width(line) > width)
			fail_msg("%d columns, more than %d: '%s'", pl_text_width(line), width,
				 line);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
				fail_msg("control byte 0x%02x in '%s'", (unsigned char)line[i],
					 line);
		assert_true(pl_utf8_valid(line, n));
		p += n + (p[n] == '\n');
	}
}

static struct pl_syscall_event call(uint32_t sys, long advice, uint64_t addr, uint64_t len,
				    __s64 anon, __s64 file)
{
	struct pl_syscall_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = PL_EV_SYSCALL;
	e.hdr.ts_ns = 2000000000;
	e.hdr.pid = e.hdr.tid = 4242;
	e.sys = sys;
	e.args[0] = addr;
	e.args[1] = len;
	e.rss_delta[PL_RSS_ANON] = anon;
	e.rss_delta[PL_RSS_FILE] = file;
	switch (sys) {
	case PL_SYS_MMAP:
		e.ret = (int64_t)addr;
		e.args[2] = PROT_READ | PROT_WRITE;
		e.args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
		e.args[4] = (uint64_t)-1;
		break;
	case PL_SYS_MADVISE:
		e.args[2] = (uint64_t)advice;
		break;
	case PL_SYS_BRK:
		e.old_brk = addr;
		e.args[0] = addr + len;
		e.ret = (int64_t)(addr + len);
		break;
	}
	return e;
}

static void add(const struct pl_syscall_event *e, int times, int cls, const char *func,
		const char *module)
{
	for (int i = 0; i < times; i++) {
		pl_ledger_add_syscall(&ledger, e);
		pl_ledger_add_caller(&ledger, e, cls, func, module);
	}
}

static struct pl_range_row range(uint64_t start, uint64_t len, const char *name, uint64_t faulted,
				 uint64_t released, uint64_t lazy)
{
	struct pl_range_row w = {.start = start, .end = start + len, .mapped = len};

	snprintf(w.name, sizeof(w.name), "%s", name);
	w.faulted = faulted;
	w.released = released;
	w.lazy_pending = lazy;
	w.k_rss = w.k_lazy_free = w.k_anon_huge = -1;
	return w;
}

/*
 * A Go service after a run with GODEBUG=madvdontneed=0: the heap grew in 4
 * MiB arenas, the scavenger MADV_FREE'd most of it, and /proc still counts
 * it resident. One binary has a hostile name.
 */
static void go_service(void)
{
	struct pl_syscall_event grow = call(PL_SYS_MMAP, 0, 0xc000000000, 4 * MIB, 0, 0);
	struct pl_syscall_event free8 = call(PL_SYS_MADVISE, 8, 0xc000000000, 2 * MIB, 0, 0);
	struct pl_syscall_event noh = call(PL_SYS_MADVISE, 15, 0xc000000000, 2 * MIB, 0, 0);
	struct pl_syscall_event unmap = call(PL_SYS_MUNMAP, 0, 0x7f0000000000, 1 * MIB, -MIB, 0);
	struct pl_syscall_event brk = call(PL_SYS_BRK, 0, 0x5600000000, 132 * KIB, 0, 0);
	struct pl_balance b = {.when = "end"};
	struct pl_totals t = {0};
	const char *evil = "/srv/app\x1b[31m\xff";

	pl_ledger_free(&ledger); /* the previous test's sites */
	pl_ledger_init(&ledger, 4242, 1000000000);
	add(&grow, 16, PL_CALLER_GO_HEAP_GROW, "runtime.(*mheap).grow", evil);
	add(&free8, 100, PL_CALLER_GO_SCAV_BACKGROUND, "runtime.(*pageAlloc).scavengeOne", evil);
	add(&noh, 40, PL_CALLER_GO_SCAV_BACKGROUND, "runtime.(*pageAlloc).scavengeOne", evil);
	add(&unmap, 1, PL_CALLER_GO_RUNTIME, "runtime.sysFree\x07\n", evil);
	add(&brk, 3, PL_CALLER_UNKNOWN, NULL, NULL);
	pl_ledger_sort_sites(&ledger);
	t.rss_start[PL_RSS_ANON] = 2 * MIB;
	t.rss_start[PL_RSS_FILE] = 3 * MIB;
	t.rss_peak[PL_RSS_ANON] = 70 * MIB;
	t.rss_peak[PL_RSS_FILE] = 3 * MIB;
	t.rss_peak_total = 73 * MIB;
	t.rss_cur[PL_RSS_ANON] = 68 * MIB;
	t.rss_cur[PL_RSS_FILE] = 3 * MIB;
	pl_ledger_finish(&ledger, &t, 17408, 13500000000);
	ledger.causes.delta[PL_CAUSE_FAULT][PL_RSS_ANON] = 67 * MIB;
	ledger.causes.updates[PL_CAUSE_FAULT] = 17408;
	b.ledger[PL_RSS_ANON] = 68 * MIB;
	b.ledger[PL_RSS_FILE] = 3 * MIB;
	b.kernel = (struct pl_kernel_view){.anon = 68 * MIB,
					   .file = 3 * MIB,
					   .lazy_free = 64 * MIB,
					   .anon_huge = 0,
					   .have_status = true,
					   .have_rollup = true};
	b.settled = true; /* read while the target made no change */
	pl_ledger_add_balance(&ledger, &b);
	/* The made-up calls need not add up: the closing identity is not this test's. */
	memset(ledger.closure_end, 0, sizeof(ledger.closure_end));
	ledger.have_ranges = true;
	for (int i = 0; i < 16; i++) /* one region to a person, 16 mappings to the ledger */
		ledger.ranges_top[i] = range(0xc000000000 + (uint64_t)i * 4 * MIB, 4 * MIB,
					     "[anon]", 4 * MIB, 0, 4 * MIB);
	ledger.ranges_top[16] = range(0x400000, 2 * MIB, "app\x1b]0;owned\x07", 1536 * KIB, 0, 0);
	ledger.ranges_top[17] = range(0x7ffd00000000, 132 * KIB, "[stack]", 12 * KIB, 0, 0);
	ledger.n_ranges_top = 18;
	ledger.ranges_live = range(0, 0, "(mapped)", 67 * MIB + 1548 * KIB, 0, 64 * MIB);
	ledger.ranges_live.mapped = 70 * MIB;
	ledger.ranges_gone = range(0, 0, "(unmapped)", MIB, MIB, 0);
	ledger.ranges_all = ledger.ranges_live;
	ledger.ranges_all.refaulted = 2 * MIB;
	ledger.ranges_all.refaults = 512;
	ledger.ranges_all.refault_delay_min_ns = 1500000;
	ledger.ranges_all.refault_delay_mean_ns = 12000000;
}

static void write_summary(FILE *f, int width)
{
	go_service();
	pl_text_summary(f, &ledger, width, false);
}

/*
 * The layout, fixed: what a person sees at 80 and at 100 columns (the
 * default off a terminal). The 16 arenas are one row, freed bytes are
 * positive, bytes of unlike kinds are never summed, names are made safe,
 * and the churn is summed over the run apart from the resident bytes.
 */
static const char golden_80[] =
    "\n"
    "Summary for pid 4242 over 12.500 s\n"
    "  SYSCALL                         CALLS ERRORS    BYTES    FREED   GAINED\n"
    "  mmap                               16      0    64.0M       0B       0B\n"
    "  munmap                              1      0     1.0M     1.0M       0B\n"
    "  madvise MADV_FREE                 100      0   200.0M       0B       0B\n"
    "  madvise MADV_NOHUGEPAGE            40      0    80.0M       0B       0B\n"
    "  brk                                 3      0   396.0K       0B       0B\n"
    "  all calls                         160      0        -     1.0M       0B\n"
    "  bytes the calls named: mapped 64.0M, unmapped 1.0M, advised 280.0M, break\n"
    "    moved 396.0K\n"
    "  FREED, GAINED: resident bytes (anon, file, shmem) that left or joined RSS\n"
    "    during the calls.\n"
    "\n"
    "  By caller:\n"
    "  Go heap growth: 64.0M mapped in 16 calls (mmap); RSS unchanged\n"
    "  Go background scavenger: 200.0M advised in 100 calls (MADV_FREE); RSS\n"
    "    unchanged\n"
    "  Go background scavenger: 80.0M advised in 40 calls (MADV_NOHUGEPAGE); RSS\n"
    "    unchanged\n"
    "  Go runtime (other): 1.0M unmapped in 1 call (munmap); freed 1.0M\n"
    "  unknown caller: moved the break by 396.0K in 3 calls (brk); RSS unchanged\n"
    "\n"
    "  Top call sites by bytes (each row one syscall, its bytes of one kind):\n"
    "     BYTES   CALLS    FREED SYSCALL SITE\n"
    "    280.0M     140       0B madvise runtime.(*pageAlloc).scavengeOne\n"
    "     64.0M      16       0B mmap    runtime.(*mheap).grow (/srv/app\\x1b[31m\\xff)\n"
    "      1.0M       1     1.0M munmap  runtime.sysFree\\x07\\x0a (app\\x1b[31m\\xff)\n"
    "    396.0K       3       0B brk     ? (?)\n"
    "\n"
    "  note: 200.0M advised with MADV_FREE; 0B left RSS at the call and 200.0M stayed\n"
    "    resident, lazily freed (LazyFree in smaps): it goes only when memory\n"
    "    pressure reclaims it or it is unmapped. Go: GODEBUG=madvdontneed=1 returns\n"
    "    memory eagerly.\n"
    "\n"
    "  page faults: 17408\n"
    "  ledger closes: start + every call + every cause = end, to the byte\n"
    "\n"
    "  RSS                    ANON       FILE      SHMEM       SWAP   RESIDENT\n"
    "  start                  2.0M       3.0M         0B         0B       5.0M\n"
    "  end                   68.0M       3.0M         0B         0B      71.0M\n"
    "  peak                  70.0M       3.0M         0B         0B      73.0M\n"
    "  change               +66.0M          0          0          0     +66.0M\n"
    "  highest resident total: 73.0M\n"
    "\n"
    "  RSS changes outside the syscalls, by cause:\n"
    "  fault                  anon +67.0M\n"
    "\n"
    "  Ranges by resident bytes:\n"
    "    START        NAME           RESIDENT   MAPPED  FAULTED RELEASED LAZYFREE\n"
    "    c000000000   [anon]            64.0M    64.0M    64.0M       0B    64.0M\n"
    "    400000       app\\x1b]0;own~     1.5M     2.0M     1.5M       0B       0B\n"
    "    7ffd00000000 [stack]           12.0K   132.0K    12.0K       0B       0B\n"
    "    all mapped                     68.5M    70.0M    68.5M       0B    64.0M\n"
    "    unmapped     since attach          -       0B     1.0M     1.0M       0B\n"
    "    RESIDENT: held now (seeded + faulted + collapsed - released - reclaimed);\n"
    "      the other columns are totals since attach. FAULTED: brought in by page\n"
    "      faults. RELEASED: given back by its calls. LAZYFREE: MADV_FREE'd, still\n"
    "      resident.\n"
    "\n"
    "  Diagnosis: resident 71.0M at the end (/proc's figures), by cause:\n"
    "    in use (mapped and touched)                  4.0M\n"
    "    MADV_FREE'd, not yet reclaimed              64.0M\n"
    "      MADV_FREE'd pages stay resident until memory pressure reclaims them; for\n"
    "        Go, GODEBUG=madvdontneed=1 returns memory eagerly\n"
    "    huge-page holes filled (THP collapse)          0B\n"
    "    file-backed                                  3.0M\n"
    "    shmem                                          0B\n"
    "    (of which anon in huge pages)                  0B\n"
    "  Apart from them:\n"
    "    swapped out (not resident)                     0B\n"
    "  Over the run (summed: not a share of what is resident):\n"
    "    released, then faulted back (churn)          2.0M\n"
    "      512 refaults, the soonest 1.5 ms after its release, 12.0 ms on average\n"
    "      released pages were faulted straight back: the allocator gives memory back\n"
    "        too eagerly (Go: raise GOGC/GOMEMLIMIT headroom; glibc:\n"
    "        M_TRIM_THRESHOLD; jemalloc: dirty_decay_ms)\n"
    "\n"
    "  balance (end): ledger and /proc agree to the byte: anon 68.0M file 3.0M shmem\n"
    "    0B\n"
    "  kernel LazyFree (MADV_FREE'd, not yet reclaimed): 64.0M\n"
    "  lost events: 0\n";

static const char golden_100[] =
    "\n"
    "Summary for pid 4242 over 12.500 s\n"
    "  SYSCALL                         CALLS ERRORS    BYTES    FREED   GAINED\n"
    "  mmap                               16      0    64.0M       0B       0B\n"
    "  munmap                              1      0     1.0M     1.0M       0B\n"
    "  madvise MADV_FREE                 100      0   200.0M       0B       0B\n"
    "  madvise MADV_NOHUGEPAGE            40      0    80.0M       0B       0B\n"
    "  brk                                 3      0   396.0K       0B       0B\n"
    "  all calls                         160      0        -     1.0M       0B\n"
    "  bytes the calls named: mapped 64.0M, unmapped 1.0M, advised 280.0M, break moved 396.0K\n"
    "  FREED, GAINED: resident bytes (anon, file, shmem) that left or joined RSS during the "
    "calls.\n"
    "\n"
    "  By caller:\n"
    "  Go heap growth: 64.0M mapped in 16 calls (mmap); RSS unchanged\n"
    "  Go background scavenger: 200.0M advised in 100 calls (MADV_FREE); RSS unchanged\n"
    "  Go background scavenger: 80.0M advised in 40 calls (MADV_NOHUGEPAGE); RSS unchanged\n"
    "  Go runtime (other): 1.0M unmapped in 1 call (munmap); freed 1.0M\n"
    "  unknown caller: moved the break by 396.0K in 3 calls (brk); RSS unchanged\n"
    "\n"
    "  Top call sites by bytes (each row one syscall, its bytes of one kind):\n"
    "     BYTES   CALLS    FREED CALLER                  SYSCALL SITE\n"
    "    280.0M     140       0B go-scavenger-background madvise runtime.(*pageAlloc).scavengeOne\n"
    "     64.0M      16       0B go-heap-grow            mmap    runtime.(*mheap).grow "
    "(app\\x1b[31m\\xff)\n"
    "      1.0M       1     1.0M go-runtime              munmap  runtime.sysFree\\x07\\x0a\n"
    "    396.0K       3       0B unknown                 brk     ? (?)\n"
    "\n"
    "  note: 200.0M advised with MADV_FREE; 0B left RSS at the call and 200.0M stayed resident, "
    "lazily\n"
    "    freed (LazyFree in smaps): it goes only when memory pressure reclaims it or it is "
    "unmapped. Go:\n"
    "    GODEBUG=madvdontneed=1 returns memory eagerly.\n"
    "\n"
    "  page faults: 17408\n"
    "  ledger closes: start + every call + every cause = end, to the byte\n"
    "\n"
    "  RSS                    ANON       FILE      SHMEM       SWAP   RESIDENT\n"
    "  start                  2.0M       3.0M         0B         0B       5.0M\n"
    "  end                   68.0M       3.0M         0B         0B      71.0M\n"
    "  peak                  70.0M       3.0M         0B         0B      73.0M\n"
    "  change               +66.0M          0          0          0     +66.0M\n"
    "  highest resident total: 73.0M\n"
    "\n"
    "  RSS changes outside the syscalls, by cause:\n"
    "  fault                  anon +67.0M\n"
    "\n"
    "  Ranges by resident bytes:\n"
    "    START        NAME           RESIDENT   MAPPED  FAULTED RELEASED LAZYFREE REFAULTED    "
    "DELAY\n"
    "    c000000000   [anon]            64.0M    64.0M    64.0M       0B    64.0M        0B        "
    "-\n"
    "    400000       app\\x1b]0;own~     1.5M     2.0M     1.5M       0B       0B        0B       "
    " -\n"
    "    7ffd00000000 [stack]           12.0K   132.0K    12.0K       0B       0B        0B        "
    "-\n"
    "    all mapped                     68.5M    70.0M    68.5M       0B    64.0M        0B        "
    "-\n"
    "    unmapped     since attach          -       0B     1.0M     1.0M       0B        0B        "
    "-\n"
    "    RESIDENT: held now (seeded + faulted + collapsed - released - reclaimed); the other "
    "columns are\n"
    "      totals since attach. FAULTED: brought in by page faults. RELEASED: given back by its "
    "calls.\n"
    "      LAZYFREE: MADV_FREE'd, still resident. REFAULTED: released, then faulted back in "
    "(churn).\n"
    "      DELAY: the mean time from a release to its refault.\n"
    "\n"
    "  Diagnosis: resident 71.0M at the end (/proc's figures), by cause:\n"
    "    in use (mapped and touched)                  4.0M\n"
    "    MADV_FREE'd, not yet reclaimed              64.0M\n"
    "      MADV_FREE'd pages stay resident until memory pressure reclaims them; for Go,\n"
    "        GODEBUG=madvdontneed=1 returns memory eagerly\n"
    "    huge-page holes filled (THP collapse)          0B\n"
    "    file-backed                                  3.0M\n"
    "    shmem                                          0B\n"
    "    (of which anon in huge pages)                  0B\n"
    "  Apart from them:\n"
    "    swapped out (not resident)                     0B\n"
    "  Over the run (summed: not a share of what is resident):\n"
    "    released, then faulted back (churn)          2.0M\n"
    "      512 refaults, the soonest 1.5 ms after its release, 12.0 ms on average\n"
    "      released pages were faulted straight back: the allocator gives memory back too eagerly "
    "(Go:\n"
    "        raise GOGC/GOMEMLIMIT headroom; glibc: M_TRIM_THRESHOLD; jemalloc: dirty_decay_ms)\n"
    "\n"
    "  balance (end): ledger and /proc agree to the byte: anon 68.0M file 3.0M shmem 0B\n"
    "  kernel LazyFree (MADV_FREE'd, not yet reclaimed): 64.0M\n"
    "  lost events: 0\n";

static void test_summary_golden_80(void **state)
{
	char *t = text_of(write_summary, 80);
	(void)state;
	assert_string_equal(t, golden_80);
	free(t);
}

static void test_summary_golden_100(void **state)
{
	char *t = text_of(write_summary, 100);
	(void)state;
	assert_string_equal(t, golden_100);
	free(t);
}

/* ---- the event stream ------------------------------------------------------------ */

static struct pl_text_events ev;

static const char *event_line(const struct pl_syscall_event *e, const char *caller, int width)
{
	static char line[1024];

	pl_text_events_layout(&ev, width, false);
	ev.t0_ns = 1000000000;
	pl_text_syscall_line(&ev, e, caller, line, sizeof(line));
	return line;
}

static const char *header(int width, bool wall_clock)
{
	static char line[1024];

	pl_text_events_layout(&ev, width, wall_clock);
	pl_text_events_header(&ev, line, sizeof(line));
	return line;
}

static void test_event_columns_by_width(void **state)
{
	struct pl_syscall_event e = call(PL_SYS_MADVISE, 4, 0x7f0000000000, 32 * MIB, -32 * MIB, 0);
	(void)state;
	/* Wide: everything, the whole range. */
	assert_string_equal(
	    header(140, false),
	    "TIME(s)        TID SYSCALL RANGE                        SIZE RSS-CHANGE    "
	    "CALLER                  DETAIL");
	assert_string_equal(
	    event_line(&e, "go-scavenger-background", 140),
	    "1.000000      4242 madvise 7f0000000000-7f0002000000   32.0M anon -32.0M   "
	    "go-scavenger-background MADV_DONTNEED");
	/* 100 columns: the thread goes, then the range is its start. */
	assert_string_equal(header(100, false),
			    "TIME(s)    SYSCALL ADDRESS         SIZE RSS-CHANGE    "
			    "CALLER                  DETAIL");
	assert_string_equal(event_line(&e, "go-scavenger-background", 100),
			    "1.000000   madvise 7f0000000000   32.0M anon -32.0M   "
			    "go-scavenger-background MADV_DONTNEED");
	/* 80: no address either. */
	assert_string_equal(
	    header(80, false),
	    "TIME(s)    SYSCALL    SIZE RSS-CHANGE    CALLER                  DETAIL");
	assert_string_equal(event_line(&e, "app", 80),
			    "1.000000   madvise   32.0M anon -32.0M   app                     "
			    "MADV_DONTNEED");
	/* Wall-clock times take more room: the advice loses its MADV_ prefix. */
	assert_string_equal(
	    header(80, true),
	    "TIME            SYSCALL    SIZE RSS-CHANGE    CALLER                  DETAIL");
	pl_text_events_layout(&ev, 80, true);
	ev.t0_ns = 1000000000;
	ev.wall_t0_ns = 0;
	{
		char line[256];

		pl_text_syscall_line(&ev, &e, "go-scavenger-background", line, sizeof(line));
		assert_string_equal(line + 16,
				    "madvise   32.0M anon -32.0M   go-scavenger-background "
				    "DONTNEED");
	}
	for (int w = 80; w <= 200; w += 7) {
		assert_true(pl_text_width(event_line(&e, "go-scavenger-background", w)) <= w);
		assert_true(pl_text_width(header(w, true)) <= w);
	}
}

static void test_event_details(void **state)
{
	struct pl_syscall_event mm = call(PL_SYS_MMAP, 0, 0x7f0000000000, 8 * KIB, 0, 0);
	struct pl_syscall_event file = mm;
	struct pl_syscall_event failed = mm;
	struct pl_syscall_event unknown = call(PL_SYS_MUNMAP, 0, 0x7f0000000000, 4096, 0, 0);
	struct pl_syscall_event grow = call(PL_SYS_BRK, 0, 0x5600000000, 132 * KIB, 0, 0);
	(void)state;
	assert_string_equal(event_line(&mm, NULL, 80), "1.000000   mmap       8.0K 0             -"
						       "                       rw-p anon");
	file.args[3] = MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE;
	file.args[4] = 3;
	assert_non_null(strstr(event_line(&file, NULL, 140), " rw-p fd=3 FIXED|DENYWRITE"));
	/* The detail is cut to the line, and says so. */
	assert_non_null(strstr(event_line(&file, NULL, 100), " rw-p fd=3 FIXED|DENYW~"));
	failed.ret = -12;
	assert_non_null(strstr(event_line(&failed, NULL, 100), " ENOMEM "));
	unknown.flags = PL_SCF_RSS_UNKNOWN;
	assert_non_null(strstr(event_line(&unknown, NULL, 100), "    4.0K ?  "));
	assert_non_null(strstr(event_line(&grow, NULL, 100), " 132.0K 0 "));
	assert_string_equal(event_line(&grow, NULL, 100) + strlen(event_line(&grow, NULL, 100)) - 5,
			    " grow");
}

/* ---- the sink: what the target named, made safe ---------------------------------- */

struct capture {
	char *buf;
	size_t len;
	FILE *f;
	struct pl_sinks sinks;
};

static void open_text(struct capture *c, bool stacks, bool wall_clock)
{
	struct pl_text_opts opts = {.stacks = stacks, .wall_clock = wall_clock, .width = 100};
	struct pl_run_info info = {.pid = 4242, .comm = "x", .t0_ns = 1000000000};
	struct pl_output o;

	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	assert_int_equal(pl_output_text_init(&o, c->f, &opts), 0);
	assert_int_equal(pl_sinks_add(&c->sinks, &o), 0);
	pl_sinks_begin(&c->sinks, &info);
}

static const char *close_text(struct capture *c)
{
	pl_sinks_end(&c->sinks);
	assert_int_equal(fclose(c->f), 0);
	return c->buf;
}

static void test_stacks_and_names_are_escaped(void **state)
{
	static struct pl_caller caller;
	struct pl_syscall_event e = call(PL_SYS_MADVISE, 4, 0x7f0000000000, 2 * MIB, -2 * MIB, 0);
	struct pl_exec_event exec = {.hdr = {.type = PL_EV_EXEC, .ts_ns = 1500000000, .tid = 9}};
	struct pl_record r = {.type = PL_EV_SYSCALL, .sys = &e, .caller = &caller};
	struct capture c;
	const char *out;
	(void)state;
	caller.cls = PL_CALLER_APP;
	caller.nframes = 2;
	caller.site = 1;
	caller.frames[0] =
	    (struct pl_frame){.addr = 0x401000, .func = "madvise", .module = "/lib/libc"};
	caller.frames[1] = (struct pl_frame){.addr = 0x402000,
					     .func = "evil\x1b[2J\x1b]0;pwned\x07\nFORGED LINE",
					     .module = "/tmp/\xff\x9b"};
	strcpy(exec.comm, "new\x1b[31mname\r");
	open_text(&c, true, false);
	pl_sinks_record(&c.sinks, &r);
	r = (struct pl_record){.type = PL_EV_EXEC, .exec = &exec};
	pl_sinks_record(&c.sinks, &r);
	out = close_text(&c);
	assert_fits(out, 100);
	assert_non_null(
	    strstr(out, "    #1        402000 evil\\x1b[2J\\x1b]0;pwned\\x07\\x0aFORGED LINE+0x0 "
			"(/tmp/\\xff\\x9b)  <- call site\n"));
	assert_non_null(strstr(out, "exec    new\\x1b[31mname\\x0d: new address space"));
	free(c.buf);
}

static void test_wall_clock_times(void **state)
{
	struct pl_syscall_event e = call(PL_SYS_MUNMAP, 0, 0x7f0000000000, MIB, -MIB, 0);
	struct pl_record r = {.type = PL_EV_SYSCALL, .sys = &e};
	struct capture c;
	const char *out, *line;
	(void)state;
	open_text(&c, false, true);
	pl_sinks_record(&c.sinks, &r);
	out = close_text(&c);
	assert_int_equal(strncmp(out, "TIME            SYSCALL", 23), 0);
	line = strchr(out, '\n') + 1;
	/* "14:03:59.123456 munmap": hours, minutes, seconds, microseconds. */
	for (int i = 0; i < 15; i++)
		if (i == 2 || i == 5)
			assert_int_equal(line[i], ':');
		else if (i == 8)
			assert_int_equal(line[i], '.');
		else
			assert_true(line[i] >= '0' && line[i] <= '9');
	assert_int_equal(strncmp(line + 15, " munmap ", 8), 0);
	free(c.buf);
}

/* ---- the summary --------------------------------------------------------------- */

static void test_summary_fits_every_width(void **state)
{
	(void)state;
	for (int w = 80; w <= 240; w += 8) {
		char *t = text_of(write_summary, w);

		assert_fits(t, w);
		/* Freed bytes are positive under their heading; no sum of unlike bytes. */
		assert_null(strstr(t, "-1.0M"));
		assert_non_null(strstr(t, "all calls"));
		assert_null(strstr(t, "moved the break by in"));
		free(t);
	}
}

static void write_losses(FILE *f, int width)
{
	go_service();
	ledger.stacks_dropped = 1;
	ledger.sites_dropped = 2;
	ledger.ranges_alloc_failures = 3;
	ledger.probes_skipped = 1;
	ledger.symbol_cache_hits = 40;
	ledger.symbol_cache_misses = 2;
	pl_text_summary(f, &ledger, width, true);
}

/* Nothing lost silently: what the run could not keep is said, and -v says what it cost. */
static void test_summary_reports_losses_and_counters(void **state)
{
	char *t = text_of(write_losses, 200);
	(void)state;
	assert_non_null(
	    strstr(t, "  not counted: user stacks the stack map had no room for "
		      "(callers unknown): 1; calls whose site the site table had no room "
		      "for: 2; range rows that found no memory: 3; probes this kernel lacks: "
		      "1\n"));
	assert_non_null(strstr(t, "  run: records decoded: 160; balances off: 0; symbol cache: 40 "
				  "hits, 2 misses\n"));
	free(t);
	/* Without -v, no counters; with nothing lost, no "not counted" line. */
	t = text_of(write_summary, 200);
	assert_null(strstr(t, "not counted"));
	assert_null(strstr(t, "symbol cache"));
	free(t);
}

int main(void)
{
	/* PL_PRINT_GOLDEN=1: print the summaries to review and paste as the new goldens. */
	if (getenv("PL_PRINT_GOLDEN")) {
		char *t80 = text_of(write_summary, 80), *t100 = text_of(write_summary, 100);

		printf("%s\f%s", t80, t100);
		free(t80);
		free(t100);
		return 0;
	}
	const struct CMUnitTest text_tests[] = {
	    cmocka_unit_test(test_summary_golden_80),
	    cmocka_unit_test(test_summary_golden_100),
	    cmocka_unit_test(test_event_columns_by_width),
	    cmocka_unit_test(test_event_details),
	    cmocka_unit_test(test_stacks_and_names_are_escaped),
	    cmocka_unit_test(test_wall_clock_times),
	    cmocka_unit_test(test_summary_fits_every_width),
	    cmocka_unit_test(test_summary_reports_losses_and_counters),
	};

	return cmocka_run_group_tests_name("text", text_tests, NULL, NULL);
}
