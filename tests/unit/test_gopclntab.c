// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for user/symbolize/gopclntab.c.
 *
 * Real binaries: tests/unit/build-go-fixtures.sh builds the Go program
 * tests/workloads/go/pclnprobe four ways and records, per pc, the frames the
 * Go runtime itself reports (runtime.CallersFrames, inlined frames
 * included). This test takes them from the environment:
 *
 *   PL_GO_BIN_PLAIN, PL_GO_BIN_STRIPPED, PL_GO_BIN_PIE,
 *   PL_GO_BIN_PIE_STRIPPED   the four builds
 *   PL_GO_EXPECT             the plain build's output (expect.jsonl)
 *   PL_GO_EXPECT_PIE         the PIE build's; default: expect-pie.jsonl next
 *                            to PL_GO_EXPECT
 *   PL_GO_BIN_PIE_EXTERNAL   optional; default: pclnprobe-pie-external next
 *                            to PL_GO_BIN_PIE, if the script built one
 *
 * and fails, saying so, when they are missing. The pcs in the expectations
 * are relative to main.main's entry, which the table itself gives, so they
 * hold for position-independent builds too.
 *
 * Synthetic images: tests/fuzz/make-gopclntab-seeds.py writes one small ELF
 * per table layout (Go 1.2 to 1.20+, 32/64-bit, both byte orders, PIE with
 * unapplied relocations...) into tests/fuzz/corpus/gopclntab; they describe
 * one known program and are checked here too (PL_GO_SEEDS overrides where).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbolize/elfsym.h"
#include "symbolize/gopclntab.h"

#define MAX_FRAMES 8
#define MAX_RECORDS 64

/* ---- helpers -------------------------------------------------------------- */

/*
 * A table opened as the symbolizer opens one: through elfsym's libelf
 * handle on the very bytes (no copy, so a read past them meets the guard),
 * loading ended before the first lookup. The pl_elf is kept beside it.
 */
static struct {
	struct pl_pclntab *t;
	struct pl_elf *e;
} opened[16];

static struct pl_pclntab *open_table(const uint8_t *buf, size_t size)
{
	struct pl_elf *e = buf ? pl_elf_from_buffer(buf, size) : NULL;
	struct pl_pclntab *t = pl_pclntab_open(e);

	pl_elf_end_load(e);
	for (size_t i = 0; t && i < sizeof(opened) / sizeof(opened[0]); i++)
		if (!opened[i].t) {
			opened[i].t = t;
			opened[i].e = e;
			return t;
		}
	pl_pclntab_close(t);
	pl_elf_close(e);
	return NULL;
}

static void close_table(struct pl_pclntab *t)
{
	pl_pclntab_close(t);
	for (size_t i = 0; t && i < sizeof(opened) / sizeof(opened[0]); i++)
		if (opened[i].t == t) {
			pl_elf_close(opened[i].e);
			opened[i].t = NULL;
			opened[i].e = NULL;
		}
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 1 << 20;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);

		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*size = n;
	return buf;
}

/* An environment variable the test cannot run without. */
static const char *need_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		fail_msg("%s is not set: run tests/unit/build-go-fixtures.sh and pass the "
			 "variables it prints (PL_GO_BIN_PLAIN, PL_GO_BIN_STRIPPED, PL_GO_BIN_PIE, "
			 "PL_GO_BIN_PIE_STRIPPED, PL_GO_EXPECT)",
			 name);
	return v;
}

static uint8_t *need_file(const char *path, size_t *size)
{
	uint8_t *b = read_file(path, size);

	if (!b)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return b;
}

/* path's directory joined with name, in buf. */
static const char *sibling(const char *path, const char *name, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	int dl = slash ? (int)(slash - path) : 1;

	snprintf(buf, len, "%.*s/%s", dl, slash ? path : ".", name);
	return buf;
}

/*
 * A copy of data[0..len) that ends exactly at an inaccessible page, so a
 * read past the end faults instead of passing unnoticed.
 */
struct guarded {
	uint8_t *map;
	size_t maplen;
	uint8_t *data;
};

static void guarded_init(struct guarded *g, size_t cap)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	g->maplen = (cap + pg - 1) / pg * pg + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + g->maplen - pg, pg, PROT_NONE), 0);
}

static const uint8_t *guarded_put(struct guarded *g, const uint8_t *src, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	assert_true(len <= g->maplen - pg);
	g->data = g->map + (g->maplen - pg) - len;
	memcpy(g->data, src, len);
	return g->data;
}

static void guarded_free(struct guarded *g)
{
	munmap(g->map, g->maplen);
}

/* ---- the expectation files (JSON lines written by pclnprobe) -------------- */

struct exp_frame {
	char func[256], file[512];
	int line;
};

struct record {
	enum { REC_MAIN, REC_LINKMAIN, REC_ENTRY, REC_PROBE } kind;
	char name[256];
	int64_t num; /* main / linkmain address, or rel */
	int nframes;
	struct exp_frame frames[MAX_FRAMES];
};

struct expect {
	struct record rec[MAX_RECORDS];
	int n;
	int64_t linkmain; /* -1: none */
};

/* A cursor over one line; any mismatch fails the test with the line. */
struct cur {
	const char *p, *line, *path;
};

static void bad_line(const struct cur *c, const char *what)
{
	fail_msg("%s: cannot parse (%s) at offset %d of: %s", c->path, what, (int)(c->p - c->line),
		 c->line);
}

static void lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if (strncmp(c->p, s, n) != 0)
		bad_line(c, s);
	c->p += n;
}

static bool peek(const struct cur *c, const char *s)
{
	return strncmp(c->p, s, strlen(s)) == 0;
}

static void str(struct cur *c, char *out, size_t len)
{
	size_t n = 0;

	lit(c, "\"");
	while (*c->p && *c->p != '"') {
		char ch = *c->p++;

		if (ch == '\\') {
			ch = *c->p++;
			switch (ch) {
			case 'u': {
				unsigned v;

				if (sscanf(c->p, "%4x", &v) != 1 || v > 0x7f)
					bad_line(c, "escape");
				ch = (char)v;
				c->p += 4;
				break;
			}
			case 'n':
				ch = '\n';
				break;
			case 't':
				ch = '\t';
				break;
			case '"':
			case '\\':
			case '/':
				break;
			default:
				bad_line(c, "escape");
			}
		}
		if (n + 1 >= len)
			bad_line(c, "string too long");
		out[n++] = ch;
	}
	out[n] = 0;
	lit(c, "\"");
}

static int64_t num(struct cur *c)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(c->p, &end, 10);
	if (end == c->p || errno)
		bad_line(c, "number");
	c->p = end;
	return v;
}

static void parse_line(const char *path, const char *line, struct record *r)
{
	struct cur c = {.p = line, .line = line, .path = path};

	memset(r, 0, sizeof(*r));
	if (peek(&c, "{\"main\":")) {
		lit(&c, "{\"main\":");
		r->kind = REC_MAIN;
		r->num = num(&c);
	} else if (peek(&c, "{\"linkmain\":")) {
		lit(&c, "{\"linkmain\":");
		r->kind = REC_LINKMAIN;
		r->num = num(&c);
	} else if (peek(&c, "{\"entry\":")) {
		lit(&c, "{\"entry\":");
		r->kind = REC_ENTRY;
		str(&c, r->name, sizeof(r->name));
		lit(&c, ",\"rel\":");
		r->num = num(&c);
	} else {
		lit(&c, "{\"probe\":");
		r->kind = REC_PROBE;
		str(&c, r->name, sizeof(r->name));
		lit(&c, ",\"rel\":");
		r->num = num(&c);
		lit(&c, ",\"frames\":[");
		do {
			struct exp_frame *f;

			if (r->nframes == MAX_FRAMES)
				bad_line(&c, "too many frames");
			f = &r->frames[r->nframes++];
			lit(&c, "{\"func\":");
			str(&c, f->func, sizeof(f->func));
			lit(&c, ",\"file\":");
			str(&c, f->file, sizeof(f->file));
			lit(&c, ",\"line\":");
			f->line = (int)num(&c);
			lit(&c, "}");
		} while (peek(&c, ",") && (c.p++, true));
		lit(&c, "]");
	}
	lit(&c, "}");
}

static void load_expect(const char *path, struct expect *e)
{
	size_t size;
	uint8_t *buf = need_file(path, &size);
	char *text = malloc(size + 1), *save = NULL;

	assert_non_null(text);
	memcpy(text, buf, size);
	text[size] = 0;
	free(buf);
	memset(e, 0, sizeof(*e));
	e->linkmain = -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (e->n == MAX_RECORDS)
			fail_msg("%s: more than %d records", path, MAX_RECORDS);
		parse_line(path, line, &e->rec[e->n]);
		if (e->rec[e->n].kind == REC_LINKMAIN)
			e->linkmain = e->rec[e->n].num;
		e->n++;
	}
	free(text);
	if (e->n < 5)
		fail_msg("%s: only %d records; was it written by build-go-fixtures.sh?", path,
			 e->n);
}

/* ---- checks against real Go binaries -------------------------------------- */

static void check_frames(struct pl_pclntab *t, uint64_t pc, const struct record *r, const char *bin)
{
	struct pl_go_frame fr[MAX_FRAMES + 2];
	int n = pl_pclntab_lookup(t, pc, fr, MAX_FRAMES + 2);

	if (n != r->nframes) {
		for (int i = 0; i < n; i++)
			print_message("  got %s %s:%d\n", fr[i].func, fr[i].file ? fr[i].file : "?",
				      fr[i].line);
		fail_msg("%s: probe %s pc %#" PRIx64 ": %d frames, the runtime reported %d", bin,
			 r->name, pc, n, r->nframes);
	}
	for (int i = 0; i < n; i++) {
		const struct exp_frame *want = &r->frames[i];

		assert_non_null(fr[i].func);
		if (strcmp(fr[i].func, want->func) != 0 || !fr[i].file ||
		    strcmp(fr[i].file, want->file) != 0 || fr[i].line != want->line)
			fail_msg("%s: probe %s pc %#" PRIx64 " frame %d: got %s %s:%d, the runtime "
				 "reported %s %s:%d",
				 bin, r->name, pc, i, fr[i].func,
				 fr[i].file ? fr[i].file : "(null)", fr[i].line, want->func,
				 want->file, want->line);
	}
	/* A smaller buffer gets the innermost frames. */
	if (n > 1) {
		struct pl_go_frame one;

		assert_int_equal(pl_pclntab_lookup(t, pc, &one, 1), 1);
		assert_string_equal(one.func, r->frames[0].func);
	}
}

static void check_binary(const char *bin, const char *expect_path)
{
	struct expect *e = calloc(1, sizeof(*e));
	size_t size;
	uint8_t *buf;
	struct pl_pclntab *t;
	uint64_t main_entry;
	int probes = 0, inlined = 0;

	assert_non_null(e);
	load_expect(expect_path, e);
	buf = need_file(bin, &size);
	t = open_table(buf, size);
	if (!t)
		fail_msg("%s: no Go pc-line table found", bin);
	assert_true(pl_pclntab_version(t) == 118 || pl_pclntab_version(t) == 120);
	main_entry = pl_pclntab_func_entry(t, "main.main");
	assert_true(main_entry != 0);
	if (e->linkmain >= 0 && main_entry != (uint64_t)e->linkmain)
		fail_msg("%s: main.main at %#" PRIx64 ", the symbol table says %#" PRIx64, bin,
			 main_entry, (uint64_t)e->linkmain);
	for (int i = 0; i < e->n; i++) {
		const struct record *r = &e->rec[i];
		uint64_t pc = main_entry + (uint64_t)r->num;

		if (r->kind == REC_ENTRY) {
			if (pl_pclntab_func_entry(t, r->name) != pc)
				fail_msg("%s: %s at %#" PRIx64 ", the runtime says %#" PRIx64, bin,
					 r->name, pl_pclntab_func_entry(t, r->name), pc);
		} else if (r->kind == REC_PROBE) {
			check_frames(t, pc, r, bin);
			probes++;
			inlined += r->nframes > 1;
		}
	}
	assert_true(probes >= 6);
	assert_true(inlined >= 3); /* leaf, leaf2 (two levels), the closure */

	/* Outside every function. */
	struct pl_go_frame fr[4];

	assert_int_equal(pl_pclntab_lookup(t, 0, fr, 4), 0);
	assert_int_equal(pl_pclntab_lookup(t, 1, fr, 4), 0);
	assert_int_equal(pl_pclntab_lookup(t, UINT64_MAX, fr, 4), 0);
	assert_int_equal(pl_pclntab_lookup(t, main_entry + (1ull << 40), fr, 4), 0);
	assert_int_equal(pl_pclntab_lookup(t, main_entry, fr, 0), 0);
	assert_int_equal(pl_pclntab_lookup(t, main_entry, NULL, 4), 0);
	assert_int_equal(pl_pclntab_lookup(t, main_entry, fr, 4), 1);
	assert_string_equal(fr[0].func, "main.main");
	assert_int_equal(pl_pclntab_func_entry(t, "main.no_such_function"), 0);

	close_table(t);
	free(buf);
	free(e);
}

static const char *pie_expect(char *buf, size_t len)
{
	const char *v = getenv("PL_GO_EXPECT_PIE");

	if (v && *v)
		return v;
	return sibling(need_env("PL_GO_EXPECT"), "expect-pie.jsonl", buf, len);
}

static void test_plain(void **state)
{
	(void)state;
	check_binary(need_env("PL_GO_BIN_PLAIN"), need_env("PL_GO_EXPECT"));
}

static void test_stripped(void **state)
{
	(void)state;
	check_binary(need_env("PL_GO_BIN_STRIPPED"), need_env("PL_GO_EXPECT"));
}

static void test_pie(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	check_binary(need_env("PL_GO_BIN_PIE"), pie_expect(buf, sizeof(buf)));
}

static void test_pie_stripped(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	check_binary(need_env("PL_GO_BIN_PIE_STRIPPED"), pie_expect(buf, sizeof(buf)));
}

/* Linked by the C toolchain: no .gopclntab section, runtime.text != .text. */
static void test_pie_external(void **state)
{
	char bin[PATH_MAX], exp[PATH_MAX];
	const char *b = getenv("PL_GO_BIN_PIE_EXTERNAL");

	(void)state;
	if (!b || !*b)
		b = sibling(need_env("PL_GO_BIN_PIE"), "pclnprobe-pie-external", bin, sizeof(bin));
	/* build-go-fixtures.sh fails when it cannot build it: missing is a failure. */
	assert_int_equal(access(b, R_OK), 0);
	check_binary(b, sibling(b, "expect-pie-external.jsonl", exp, sizeof(exp)));
}

/* Opening and a thousand lookups: a regression guard, not a benchmark. */
static void test_speed(void **state)
{
	size_t size;
	uint8_t *buf = need_file(need_env("PL_GO_BIN_PLAIN"), &size);
	struct timespec a, b;
	struct pl_pclntab *t;
	uint64_t entry, x = 88172645463325252ull;
	int frames = 0;
	double ms;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	t = open_table(buf, size);
	assert_non_null(t);
	entry = pl_pclntab_func_entry(t, "main.main");
	for (int i = 0; i < 1000; i++) {
		struct pl_go_frame fr[MAX_FRAMES];

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		frames += pl_pclntab_lookup(t, entry - 0x90000 + x % 0xa0000, fr, MAX_FRAMES);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	print_message("open + 1000 lookups (%d frames, name scan included): %.2f ms\n", frames, ms);
	assert_true(frames > 500);
	assert_true(ms < 1000);
	close_table(t);
	free(buf);
}

/* ---- malformed input -------------------------------------------------------- */

static void test_empty_and_null(void **state)
{
	static const uint8_t elf_magic[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
	uint8_t hdr[64];
	struct pl_go_frame fr[2];

	(void)state;
	assert_null(open_table(NULL, 0));
	assert_null(pl_pclntab_open(NULL));
	assert_null(open_table(elf_magic, 0));
	assert_null(open_table(elf_magic, sizeof(elf_magic)));
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, elf_magic, sizeof(elf_magic));
	assert_null(open_table(hdr, sizeof(hdr)));
	assert_int_equal(pl_pclntab_lookup(NULL, 0x401000, fr, 2), 0);
	assert_int_equal(pl_pclntab_version(NULL), 0);
	assert_int_equal(pl_pclntab_func_entry(NULL, "main.main"), 0);
	close_table(NULL);
}

static void test_not_go(void **state)
{
	const char *paths[] = {"/proc/self/exe", "/bin/true", "/bin/sh"};
	int tried = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		size_t size;
		uint8_t *buf = read_file(paths[i], &size);

		if (!buf)
			continue;
		tried++;
		if (open_table(buf, size))
			fail_msg("%s: a Go table found in a C program", paths[i]);
		free(buf);
	}
	assert_true(tried > 0);
}

/* Offset of the table's header (the first magic that opens), or 0. */
static size_t find_header(const uint8_t *buf, size_t size)
{
	for (size_t off = 0; off + 8 <= size; off += 4) {
		uint32_t m = (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8 |
			     (uint32_t)buf[off + 2] << 16 | (uint32_t)buf[off + 3] << 24;

		if ((m == 0xfffffff0u || m == 0xfffffff1u) && buf[off + 4] == 0 &&
		    buf[off + 5] == 0)
			return off;
	}
	return 0;
}

/*
 * Looks up a spread of pcs around base and reads every returned string to
 * its end (inside a guarded buffer, a missing terminator faults).
 */
static int poke(struct pl_pclntab *t, uint64_t base)
{
	struct pl_go_frame fr[MAX_FRAMES];
	size_t chars = 0;
	int total = 0;

	for (uint64_t d = 0; d < 0x200000; d += 0x1003) {
		int n = pl_pclntab_lookup(t, base - 0x100000 + d, fr, MAX_FRAMES);

		assert_true(n >= 0 && n <= MAX_FRAMES);
		for (int k = 0; k < n; k++) {
			assert_non_null(fr[k].func);
			chars += strlen(fr[k].func) + (fr[k].file ? strlen(fr[k].file) : 0);
		}
		total += n;
	}
	return total + (chars == SIZE_MAX);
}

static void test_truncated(void **state)
{
	size_t size, hdr;
	uint8_t *buf = need_file(need_env("PL_GO_BIN_STRIPPED"), &size);
	struct guarded g;
	struct pl_pclntab *full;
	uint64_t base;
	int opened = 0;

	(void)state;
	full = open_table(buf, size);
	assert_non_null(full);
	base = pl_pclntab_func_entry(full, "main.main");
	close_table(full);
	hdr = find_header(buf, size);
	assert_true(hdr != 0);
	guarded_init(&g, size);
	/* Cut points: everywhere, densely at the start and around the table. */
	for (int i = 0; i < 1400; i++) {
		size_t cut;

		if (i < 200)
			cut = (size_t)i;
		else if (i < 600)
			cut = hdr - 200 + (size_t)(i - 200);
		else if (i < 800)
			cut = size - 200 + (size_t)(i - 600);
		else
			cut = (size_t)((uint64_t)size * (uint64_t)(i - 800) / 600);
		if (cut > size)
			continue;
		const uint8_t *p = guarded_put(&g, buf, cut);
		struct pl_pclntab *t = open_table(p, cut);

		if (!t)
			continue;
		opened++;
		poke(t, base);
		pl_pclntab_func_entry(t, "main.main");
		close_table(t);
	}
	/* The section headers are at the end: most cuts lose them. */
	print_message("%d of 1400 truncated copies still opened\n", opened);
	guarded_free(&g);
	free(buf);
}

static void test_corrupted(void **state)
{
	size_t size, hdr;
	uint8_t *buf = need_file(need_env("PL_GO_BIN_STRIPPED"), &size);
	uint8_t *copy = malloc(size);
	struct guarded g;
	struct pl_pclntab *t;
	uint64_t base, x = 0x9e3779b97f4a7c15ull;
	int opened = 0;

	(void)state;
	assert_non_null(copy);
	t = open_table(buf, size);
	assert_non_null(t);
	base = pl_pclntab_func_entry(t, "main.main");
	close_table(t);
	hdr = find_header(buf, size);
	assert_true(hdr != 0);
	guarded_init(&g, size);
	for (int round = 0; round < 300; round++) {
		int flips = 1 + round % 40;

		memcpy(copy, buf, size);
		for (int i = 0; i < flips; i++) {
			size_t at;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Mostly the header and function table, some anywhere. */
			switch (i % 3) {
			case 0:
				at = hdr + x % 256;
				break;
			case 1:
				at = hdr + (x >> 8) % (1u << 16);
				break;
			default:
				at = (x >> 16) % size;
			}
			if (at < size)
				copy[at] ^= (uint8_t)(1u << (x >> 59) % 8) | (uint8_t)(x >> 40);
		}
		const uint8_t *p = guarded_put(&g, copy, size);

		t = open_table(p, size);
		if (!t)
			continue;
		opened++;
		poke(t, base);
		close_table(t);
	}
	print_message("%d of 300 corrupted copies still opened\n", opened);
	guarded_free(&g);
	free(copy);
	free(buf);
}

/* ---- synthetic images of every layout --------------------------------------- */

struct want {
	uint64_t off; /* from main.outer's entry */
	int n;
	const char *f[3];
	const char *file[3];
	int line[3];
};

static const struct want synth_wants[] = {
    {0x38,
     3,
     {"main.leaf", "main.middle", "main.outer"},
     {"leaf.go", "mid.go", "outer.go"},
     {41, 31, 21}},
    {0x24, 2, {"main.middle", "main.outer"}, {"mid.go", "outer.go"}, {31, 21}},
    {0x00, 1, {"main.outer"}, {"outer.go"}, {20}},
    {0x60, 1, {"main.outer"}, {"outer.go"}, {22}},
    {0xff, 1, {"main.outer"}, {"outer.go"}, {22}},
    {(uint64_t)-0x40, 1, {"main.first"}, {"a.go"}, {10}},
    {(uint64_t)-0x1f, 1, {"main.first"}, {"a.go"}, {11}},
    {0x100, 1, {"main.main"}, {"main.go"}, {50}},
    {0x13f, 1, {"main.main"}, {"main.go"}, {50}},
    {0x140, 0, {0}, {0}, {0}},
    {(uint64_t)-0x41, 0, {0}, {0}, {0}},
};

static void check_synthetic(const char *path, const uint8_t *img, size_t size)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int ver = strncmp(base, "go11", 4) == 0 && base[4] >= '1' && base[4] <= '5' ? 12
		  : strncmp(base, "go116", 5) == 0				    ? 116
		  : strncmp(base, "go118", 5) == 0				    ? 118
										    : 120;
	struct pl_pclntab *t = open_table(img, size);
	uint64_t outer;

	if (!t)
		fail_msg("%s: not opened", path);
	assert_int_equal(pl_pclntab_version(t), ver);
	outer = pl_pclntab_func_entry(t, "main.outer");
	assert_int_equal(outer, 0x400140);
	for (size_t i = 0; i < sizeof(synth_wants) / sizeof(synth_wants[0]); i++) {
		const struct want *w = &synth_wants[i];
		struct pl_go_frame fr[4];
		int n = pl_pclntab_lookup(t, outer + w->off, fr, 4);

		if (n != w->n)
			fail_msg("%s: +%#" PRIx64 ": %d frames, want %d", path, w->off, n, w->n);
		for (int k = 0; k < n; k++) {
			if (strcmp(fr[k].func, w->f[k]) != 0 || !fr[k].file ||
			    strcmp(fr[k].file, w->file[k]) != 0 || fr[k].line != w->line[k])
				fail_msg("%s: +%#" PRIx64 " frame %d: %s %s:%d, want %s %s:%d",
					 path, w->off, k, fr[k].func,
					 fr[k].file ? fr[k].file : "(null)", fr[k].line, w->f[k],
					 w->file[k], w->line[k]);
		}
	}
	close_table(t);
}

static void test_synthetic_layouts(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	const char *d = getenv("PL_GO_SEEDS");
	struct guarded g;
	DIR *dh;
	struct dirent *de;
	int seen = 0, v12 = 0, v116 = 0, v118 = 0, v120 = 0;

	(void)state;
	if (!d || !*d)
		d = sibling(__FILE__, "../fuzz/corpus/gopclntab", dir, sizeof(dir));
	dh = opendir(d);
	if (!dh)
		fail_msg("cannot open %s (the seed images; set PL_GO_SEEDS, or run from the "
			 "repository root): %s",
			 d, strerror(errno));
	guarded_init(&g, 1 << 16);
	while ((de = readdir(dh))) {
		size_t size, n = strlen(de->d_name);
		uint8_t *buf;

		if (n < 4 || strcmp(de->d_name + n - 4, ".elf") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, de->d_name);
		buf = need_file(path, &size);
		assert_true(size <= 1 << 16);
		check_synthetic(path, guarded_put(&g, buf, size), size);
		/* Every prefix: nothing may read past the end. */
		for (size_t cut = 0; cut < size; cut++) {
			struct pl_pclntab *t = open_table(guarded_put(&g, buf, cut), cut);

			if (t) {
				poke(t, 0x400140);
				close_table(t);
			}
		}
		free(buf);
		seen++;
		v12 += strncmp(de->d_name, "go11", 4) == 0 && de->d_name[4] <= '5';
		v116 += strncmp(de->d_name, "go116", 5) == 0;
		v118 += strncmp(de->d_name, "go118", 5) == 0;
		v120 += strncmp(de->d_name, "go120", 5) == 0;
	}
	closedir(dh);
	guarded_free(&g);
	if (!v12 || !v116 || !v118 || !v120)
		fail_msg("%s: seeds of some layout are missing (%d files); run "
			 "tests/fuzz/make-gopclntab-seeds.py",
			 d, seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_stripped),
	    cmocka_unit_test(test_pie),
	    cmocka_unit_test(test_pie_stripped),
	    cmocka_unit_test(test_pie_external),
	    cmocka_unit_test(test_speed),
	    cmocka_unit_test(test_empty_and_null),
	    cmocka_unit_test(test_not_go),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_corrupted),
	    cmocka_unit_test(test_synthetic_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
