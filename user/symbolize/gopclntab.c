// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Go's pc-line table (.gopclntab) read from an ELF image.
 *
 * Layout summary (see golang.org/s/go12symtab, runtime/symtab.go and
 * runtime/runtime2.go of each release):
 *
 *   header   magic u32, 0, 0, minLC (pc quantum), ptrsize, then words:
 *            1.2-1.15  nfunc; the function table follows at 8+ptrsize
 *            1.16-1.17 nfunc nfiles funcname cu filetab pctab pcln
 *            1.18+     nfunc nfiles textStart funcname cu filetab pctab pcln
 *   ftab     nfunc+1 (entry, funcoff) pairs, ptrsize each before 1.18,
 *            u32 each from 1.18 (entry then an offset from textStart);
 *            the last entry is the end of the last function
 *   _func    entry, nameoff, args, deferreturn, pcsp, pcfile, pcln, npcdata,
 *            [cuOffset 1.16+], [startLine 1.20+], funcID, flag, pad,
 *            nfuncdata; then npcdata u32 pc-value table offsets, then
 *            nfuncdata funcdata references (pointers before 1.18, aligned to
 *            ptrsize; from 1.18 u32 offsets from moduledata.gofunc)
 *   pc-value tables: (zig-zag value delta, pc delta / quantum) uvarint pairs
 *            from value -1 at the function entry, ending at a zero value
 *            delta (except for the first pair).
 *
 * Inlining: PCDATA_InlTreeIndex gives, at a pc, the index of an entry of the
 * FUNCDATA_InlTree array (or -1 when the pc is in the function itself). The
 * entry names the inlined callee and its parentPc, the offset from the entry
 * of an instruction whose position is the call site; repeating at that pc
 * walks outwards to the real function. File and line of each frame are the
 * pcfile/pcln values at that frame's pc (how runtime.CallersFrames does it).
 *
 * Finding the table: the .gopclntab (or .data.rel.ro.gopclntab) section;
 * else, as external linkers leave it inside .data.rel.ro or .rodata, a scan
 * of the allocated sections (or, with no section headers, of the loadable
 * segments) for a header that validates. The base of 1.18+ entry offsets
 * (runtime.text) and of funcdata offsets (go:func.*) are taken from the
 * header and from the runtime's moduledata, reading through RELATIVE
 * relocations where a position-independent image has zeros in the file.
 *
 * One ELF reader: the sections (and their names), program headers,
 * symbols and relocations come from elfsym.c's libelf handle on the same
 * file, while it loads; scans read the file through a window, so they cost
 * no memory of the image's. The table itself, and whatever lookups need,
 * is read from the image (the file's read-only view), lazily. Its owner
 * may rewrite the file under us: every read is bounds-checked where it is
 * made, names are copied out, and every loop has a bound that does not
 * depend on the data being sane.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "symbolize/gopclntab.h"
#include "symbolize/elfsym.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN (16u * 1024u) /* longest function or file name accepted */
#define INL_DEPTH_MAX 128	   /* deepest inline chain expanded */
#define INL_INDEX_MAX (1u << 20)   /* the runtime's own bound on tree indexes */
#define SCAN_CANDIDATES_MAX 16	   /* header candidates tried per image */
#define MD_RELOC_CANDIDATES_MAX 64 /* moduledata candidates via relocations */
#define VARINT_MAX_BYTES 10
/*
 * pc-value table steps one lookup may decode, over all its frames: far above
 * what real tables need (at most about 5000 per frame in large real
 * binaries), and what keeps a hostile table from making every lookup walk
 * megabytes of data once per frame.
 */
#define LOOKUP_STEPS_MAX (1u << 20)
#define RANGES_MAX 256 /* loadable segments (or sections) considered */
/* Bytes opening may read in scans: a hostile file must not make it read gigabytes. */
#define SCAN_BYTES_MAX (64ull << 20)

enum {
	VER_12 = 12,
	VER_116 = 116,
	VER_118 = 118,
	VER_120 = 120,
};

/* ---- ELF, through the libelf handle of elfsym.c ------------------------ */

#define PT_LOAD_ 1
#define PF_X_ 1
#define PF_W_ 2
#define SHT_PROGBITS_ 1
#define SHT_SYMTAB_ 2
#define SHT_RELA_ 4
#define SHT_NOBITS_ 8
#define SHF_WRITE_ 1
#define SHF_ALLOC_ 2
#define SHF_EXECINSTR_ 4
/* Scans read the file through a window this large (plus a pattern's length). */
#define SCAN_WINDOW (1u << 20)

/* File bytes [off, off + filesz) loaded at addr; memsz with the bss. */
struct arange {
	uint64_t off, addr, filesz, memsz;
	bool exec, write;
};

struct elfv {
	const uint8_t *b; /* the image: the file's read-only view */
	size_t n;
	bool is64, be;
	uint16_t machine;
	/* Sections, symbols and relocations, from elfsym's handle; NULL after opening. */
	struct pl_elf *elf;
	/* The loadable segments, or without them the allocated sections. */
	struct arange ranges[RANGES_MAX];
	unsigned nranges;
	bool have_exec; /* at least one executable range */
	/*
	 * Bytes that scans (of sections, symbols, relocations) may still
	 * read while opening: section headers may overlap, so without it an
	 * image could make open take sections x size. NULL after opening.
	 */
	uint64_t *budget;
};

struct sec {
	const char *name; /* NULL if none */
	uint32_t type, link;
	uint64_t flags, addr, off, size, entsize;
};

static bool in_file(size_t n, uint64_t off, uint64_t len)
{
	return off <= n && len <= n - off;
}

static uint64_t rdn(const uint8_t *p, unsigned len, bool be)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < len; i++) {
		unsigned k = be ? i : len - 1 - i;

		v = (v << 8) | p[k];
	}
	return v;
}

/* Reads a len-byte integer at off of a len-n buffer; false if out of range. */
static bool rd(const uint8_t *b, size_t n, uint64_t off, unsigned len, bool be, uint64_t *v)
{
	if (!in_file(n, off, len))
		return false;
	*v = rdn(b + off, len, be);
	return true;
}

/* Takes bytes from the scan budget; false (and nothing taken) if short. */
static bool spend(const struct elfv *e, uint64_t bytes)
{
	if (!e->budget || *e->budget < bytes)
		return false;
	*e->budget -= bytes;
	return true;
}

static bool rd32(const uint8_t *b, size_t n, uint64_t off, bool be, uint32_t *v)
{
	uint64_t x;

	if (!rd(b, n, off, 4, be, &x))
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool elf_sec(const struct elfv *e, uint32_t i, struct sec *s)
{
	struct pl_elf_section ps;

	if (!e->elf || !pl_elf_section(e->elf, i, &ps))
		return false;
	*s = (struct sec){ps.name, ps.type,   ps.link, ps.flags,
			  ps.addr, ps.offset, ps.size, ps.entsize};
	return true;
}

/* A section whose bytes are all in the file. */
static bool sec_has_data(const struct elfv *e, const struct sec *s)
{
	return s->type != SHT_NOBITS_ && s->size > 0 && in_file(e->n, s->off, s->size);
}

static bool sec_name_is(const struct sec *s, const char *name)
{
	return s->name && !strcmp(s->name, name);
}

static void add_range(struct elfv *e, uint64_t off, uint64_t addr, uint64_t filesz, uint64_t memsz,
		      bool exec, bool write)
{
	struct arange *r;

	if (e->nranges >= RANGES_MAX)
		return;
	/* Only the part of a segment that is in the file can be read. */
	if (!in_file(e->n, off, 0))
		filesz = 0;
	else if (filesz > e->n - off)
		filesz = e->n - off;
	r = &e->ranges[e->nranges++];
	*r = (struct arange){off, addr, filesz, memsz > filesz ? memsz : filesz, exec, write};
	e->have_exec |= exec;
}

/* PT_LOAD segments; with none, the allocated sections (objects, odd images). */
static void find_ranges(struct elfv *e)
{
	struct pl_elf_phdr ph;
	struct sec s;

	for (uint32_t i = 0; pl_elf_program_header(e->elf, i, &ph); i++)
		if (ph.type == PT_LOAD_)
			add_range(e, ph.offset, ph.vaddr, ph.filesz, ph.memsz, ph.flags & PF_X_,
				  ph.flags & PF_W_);
	if (e->nranges)
		return;
	for (uint32_t i = 0; elf_sec(e, i, &s); i++)
		if ((s.flags & SHF_ALLOC_) && sec_has_data(e, &s))
			add_range(e, s.off, s.addr, s.size, s.size, s.flags & SHF_EXECINSTR_,
				  s.flags & SHF_WRITE_);
}

static bool elfv_init(struct elfv *e, struct pl_elf *elf)
{
	struct pl_elf_info info;

	memset(e, 0, sizeof(*e));
	e->b = elf ? pl_elf_image(elf, &e->n) : NULL;
	if (!e->b || !pl_elf_info(elf, &info))
		return false;
	e->elf = elf;
	e->is64 = info.is64;
	e->be = info.big_endian;
	e->machine = info.machine;
	find_ranges(e);
	return true;
}

/* Maps [va, va+len) to a file offset, through the loadable ranges. */
static bool va_to_off(const struct elfv *e, uint64_t va, uint64_t len, uint64_t *off)
{
	for (unsigned i = 0; i < e->nranges; i++) {
		const struct arange *r = &e->ranges[i];

		if (va < r->addr || va - r->addr >= r->filesz || len > r->filesz - (va - r->addr))
			continue;
		*off = r->off + (va - r->addr);
		return true;
	}
	return false;
}

static bool va_is_exec(const struct elfv *e, uint64_t va)
{
	for (unsigned i = 0; i < e->nranges; i++) {
		const struct arange *r = &e->ranges[i];

		if (r->exec && va >= r->addr && va - r->addr < r->memsz)
			return true;
	}
	return false;
}

/*
 * The first occurrence of pat in file bytes [off + from, off + size), at or
 * after from: read through a window with the descriptor, so a scan costs
 * no memory of the view's. Its position from off goes to *at.
 */
static bool find_bytes(const struct elfv *e, uint64_t off, uint64_t size, uint64_t from,
		       const uint8_t *pat, size_t plen, uint64_t *at)
{
	size_t cap = (size - from < SCAN_WINDOW ? (size_t)(size - from) : SCAN_WINDOW) + plen;
	uint8_t *buf = from + plen <= size ? malloc(cap) : NULL;
	bool found = false;

	while (buf && !found && from + plen <= size) {
		size_t len = size - from < cap ? (size_t)(size - from) : cap;
		size_t got = pl_elf_read(e->elf, off + from, buf, len);
		const uint8_t *p = got >= plen ? memmem(buf, got, pat, plen) : NULL;

		if (p) {
			*at = from + (uint64_t)(p - buf);
			found = true;
		} else if (got < len || got < plen) {
			break;
		} else {
			from += got - plen + 1;
		}
	}
	free(buf);
	return found;
}

/* The pointer-sized RELATIVE relocation type of the image's machine. */
static bool relative_type(const struct elfv *e, uint32_t *type)
{
	switch (e->machine) {
	case 62: /* x86-64 */
		*type = 8;
		return true;
	case 183: /* aarch64 */
		*type = 1027;
		return true;
	case 21: /* ppc64 */
		*type = 22;
		return true;
	case 243: /* riscv */
	case 258: /* loongarch */
		*type = 3;
		return true;
	case 22: /* s390 */
		*type = 12;
		return true;
	case 3: /* i386 */
		*type = 8;
		return true;
	case 40: /* arm */
		*type = 23;
		return true;
	default:
		return false;
	}
}

/* Called for each RELATIVE relocation (place, addend); false stops. */
typedef bool (*relative_fn)(void *ctx, uint64_t place, uint64_t addend);

struct relative_pass {
	uint32_t type;
	relative_fn fn;
	void *ctx;
	bool stopped;
};

static bool relative_one(void *ctx, uint64_t offset, uint32_t type, uint64_t addend)
{
	struct relative_pass *pass = ctx;

	if (type != pass->type)
		return true;
	if (pass->fn(pass->ctx, offset, addend))
		return true;
	pass->stopped = true;
	return false;
}

/*
 * The RELATIVE relocations of the image's SHT_RELA sections, streamed by
 * elfsym. Only while opening: each section read is taken from the budget.
 */
static void each_relative(const struct elfv *e, relative_fn fn, void *ctx)
{
	struct relative_pass pass = {.fn = fn, .ctx = ctx};
	unsigned esz = e->is64 ? 24 : 12;
	struct sec s;

	if (!relative_type(e, &pass.type))
		return;
	for (uint32_t i = 0; !pass.stopped && elf_sec(e, i, &s); i++)
		if (s.type == SHT_RELA_ && s.entsize == esz && sec_has_data(e, &s) &&
		    spend(e, s.size))
			pl_elf_each_rela(e->elf, i, relative_one, &pass);
}

struct reloc_find {
	uint64_t va, value;
	bool found;
};

static bool reloc_match(void *ctx, uint64_t place, uint64_t addend)
{
	struct reloc_find *f = ctx;

	if (place != f->va)
		return true;
	f->value = addend;
	f->found = true;
	return false;
}

static bool reloc_at(const struct elfv *e, uint64_t va, uint64_t *value)
{
	struct reloc_find f = {.va = va};

	each_relative(e, reloc_match, &f);
	if (f.found)
		*value = f.value;
	return f.found;
}

/*
 * A pointer-sized word at va as the program sees it once loaded: the file's
 * bytes, or when those are zero, the addend of a RELATIVE relocation there
 * (linkers that do not apply dynamic relocations to the file leave zeros).
 */
static bool read_word_va(const struct elfv *e, uint64_t va, unsigned ptrsize, uint64_t *v)
{
	uint64_t off;

	if (!va_to_off(e, va, ptrsize, &off) || !rd(e->b, e->n, off, ptrsize, e->be, v))
		return false;
	if (*v == 0)
		reloc_at(e, va, v);
	return true;
}

/* Value of the symbol called name in .symtab, if any. */
static bool elf_symbol(const struct elfv *e, const char *name, uint64_t *value)
{
	struct sec s;

	for (uint32_t i = 0; elf_sec(e, i, &s); i++)
		if (s.type == SHT_SYMTAB_ && sec_has_data(e, &s) && spend(e, s.size) &&
		    pl_elf_find_symbol(e->elf, i, name, value))
			return true;
	return false;
}

/* ---- the table ----------------------------------------------------------- */

struct pl_pclntab {
	struct elfv e;
	const uint8_t *tab; /* the table, inside e.b */
	uint64_t tabsz;
	uint64_t tabva;
	bool has_va;
	int ver;
	bool be;
	unsigned quantum, ptrsize;
	uint64_t nfunc;
	uint64_t text;	       /* 1.18+: base of entry offsets */
	uint64_t funcname_off; /* bases inside the table */
	uint64_t cu_off, filetab_off, pctab_off, pcln_off;
	uint64_t ftab_off;   /* start of the (entry, funcoff) pairs */
	unsigned ftab_fsz;   /* size of one pair member */
	uint32_t nfiletab;   /* 1.2: entries of the file table */
	unsigned func_fixed; /* size of _func before its pcdata */
	unsigned entry_sz;   /* size of _func.entry */
	/* inline expansion */
	unsigned inl_pcdata, inl_funcdata;
	bool old_nfuncdata; /* 1.2-1.11: nfuncdata is an int32 */
	uint64_t gofunc;    /* 1.18+: base of funcdata offsets */
	bool have_gofunc;
	/*
	 * Names a lookup returns, copied out of the table: its owner may
	 * rewrite the file under us, so a terminator checked once may be gone
	 * by the time a caller reads the name. Sized for the deepest lookup.
	 */
	char *names;
	size_t names_cap, names_len;
};

struct gofunc {
	uint64_t off;	/* of the _func, inside the table */
	uint64_t entry; /* absolute */
	uint64_t end;
	uint32_t nameoff, pcfile, pcln, npcdata, cuoff;
	uint32_t nfuncdata;
};

static bool trd(const struct pl_pclntab *t, uint64_t off, unsigned len, uint64_t *v)
{
	return rd(t->tab, t->tabsz, off, len, t->be, v);
}

static bool trd32(const struct pl_pclntab *t, uint64_t off, uint32_t *v)
{
	return rd32(t->tab, t->tabsz, off, t->be, v);
}

/* A NUL-terminated string at base+off inside the table, or NULL. */
static const char *tstr(const struct pl_pclntab *t, uint64_t base, uint64_t off)
{
	uint64_t pos = base + off, lim;

	if (pos < base || pos >= t->tabsz)
		return NULL;
	lim = t->tabsz - pos;
	if (lim > NAME_MAX_LEN)
		lim = NAME_MAX_LEN;
	if (!memchr(t->tab + pos, 0, lim))
		return NULL;
	return (const char *)(t->tab + pos);
}

/* Bytes a name found by tstr at s may span: as far as tstr looked. */
static size_t name_room(const struct pl_pclntab *t, const char *s)
{
	size_t room = t->tabsz - (size_t)((const uint8_t *)s - t->tab);

	return room < NAME_MAX_LEN ? room : NAME_MAX_LEN;
}

/* A copy of a name from tstr in the lookup's space (NULL stays NULL). */
static const char *keep(struct pl_pclntab *t, const char *s)
{
	size_t len;
	char *copy;

	if (!s)
		return NULL;
	len = strnlen(s, name_room(t, s));
	if (len + 1 > t->names_cap - t->names_len)
		return NULL;
	copy = t->names + t->names_len;
	memcpy(copy, s, len);
	copy[len] = '\0';
	t->names_len += len + 1;
	return copy;
}

/* Room for every name a lookup of up to max frames can return. */
static bool names_reserve(struct pl_pclntab *t, int max)
{
	size_t frames = (size_t)(max < INL_DEPTH_MAX ? max : INL_DEPTH_MAX) + 1;
	size_t need = frames * 2 * (NAME_MAX_LEN + 1);
	char *buf;

	t->names_len = 0;
	if (need <= t->names_cap)
		return true;
	buf = realloc(t->names, need);
	if (!buf)
		return false;
	t->names = buf;
	t->names_cap = need;
	return true;
}

/* Whether the name tstr found at s is name, reading no further than tstr did. */
static bool name_is(const struct pl_pclntab *t, const char *s, const char *name)
{
	size_t room = name_room(t, s), len = strlen(name);

	return len < room && !memcmp(s, name, len) && s[len] == '\0';
}

/* ftab[i].entry as an absolute address. */
static bool ftab_entry(const struct pl_pclntab *t, uint64_t i, uint64_t *pc)
{
	uint64_t v;

	if (i > t->nfunc || !trd(t, t->ftab_off + i * 2 * t->ftab_fsz, t->ftab_fsz, &v))
		return false;
	*pc = t->ver >= VER_118 ? t->text + v : v;
	return true;
}

static bool ftab_funcoff(const struct pl_pclntab *t, uint64_t i, uint64_t *off)
{
	if (i >= t->nfunc)
		return false;
	return trd(t, t->ftab_off + (i * 2 + 1) * t->ftab_fsz, t->ftab_fsz, off);
}

/* Reads function i's _func, checking it agrees with the function table. */
static bool load_func(const struct pl_pclntab *t, uint64_t i, struct gofunc *f)
{
	uint64_t foff, v, e0;
	unsigned es = t->entry_sz;
	uint32_t last;

	memset(f, 0, sizeof(*f));
	if (!ftab_funcoff(t, i, &foff) || !ftab_entry(t, i, &f->entry) ||
	    !ftab_entry(t, i + 1, &f->end))
		return false;
	if (f->end <= f->entry)
		return false;
	f->off = t->pcln_off + foff;
	if (f->off < foff || !in_file(t->tabsz, f->off, t->func_fixed))
		return false;
	/* _func.entry must name the same function the table does. */
	trd(t, f->off, es, &v);
	e0 = t->ver >= VER_118 ? t->text + v : v;
	if (e0 != f->entry)
		return false;
	trd32(t, f->off + es, &f->nameoff);
	trd32(t, f->off + es + 16, &f->pcfile);
	trd32(t, f->off + es + 20, &f->pcln);
	trd32(t, f->off + es + 24, &f->npcdata);
	if (t->ver >= VER_116)
		trd32(t, f->off + es + 28, &f->cuoff);
	/* The last 4 bytes hold funcID .. nfuncdata (u8 each). */
	if (t->old_nfuncdata) {
		trd32(t, f->off + t->func_fixed - 4, &last);
		f->nfuncdata = last;
	} else {
		f->nfuncdata = t->tab[f->off + t->func_fixed - 1];
	}
	return true;
}

static const char *func_name(const struct pl_pclntab *t, const struct gofunc *f)
{
	const char *s = tstr(t, t->funcname_off, f->nameoff);

	return s && *s ? s : NULL;
}

static bool uvarint(const struct pl_pclntab *t, uint64_t *pos, uint32_t *out)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < VARINT_MAX_BYTES; i++) {
		uint8_t c;

		if (*pos >= t->tabsz)
			return false;
		c = t->tab[(*pos)++];
		if (i < 5)
			v |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			*out = (uint32_t)v;
			return true;
		}
	}
	return false;
}

/*
 * The value of the pc-value table at off (relative to the pc tables) for
 * target, a pc inside f. False if there is no table or it does not cover
 * target. Each step reads at least two bytes and, for a well-formed table,
 * advances pc; the step count is bounded by both, and by *steps, the
 * lookup's remaining budget.
 */
static bool pcvalue(const struct pl_pclntab *t, const struct gofunc *f, uint32_t off,
		    uint64_t target, int32_t *out, uint64_t *steps)
{
	uint64_t pos = t->pctab_off + off, pc = f->entry;
	uint64_t steps_max = (target - f->entry) / t->quantum + 64;
	uint32_t val = UINT32_MAX; /* -1; wraps like the runtime's int32 */

	if (off == 0 || pos < off || target < f->entry || target >= f->end)
		return false;
	for (uint64_t step = 0; step < steps_max; step++) {
		uint32_t uv, pcd;

		if (*steps == 0)
			return false;
		--*steps;
		if (!uvarint(t, &pos, &uv))
			return false;
		if (uv == 0 && step > 0)
			return false;
		if (!uvarint(t, &pos, &pcd))
			return false;
		/* zig-zag: low bit set means negative */
		val += (uv & 1) ? ~(uv >> 1) : uv >> 1;
		pc += (uint64_t)pcd * t->quantum;
		if (target < pc) {
			*out = (int32_t)val;
			return true;
		}
		if (pc >= f->end)
			return false;
	}
	return false;
}

static bool pcdata(const struct pl_pclntab *t, const struct gofunc *f, uint32_t idx,
		   uint64_t target, int32_t *out, uint64_t *steps)
{
	uint32_t off;

	if (idx >= f->npcdata || !trd32(t, f->off + t->func_fixed + 4ull * idx, &off))
		return false;
	return pcvalue(t, f, off, target, out, steps);
}

static const char *file_name(const struct pl_pclntab *t, const struct gofunc *f, int32_t fno)
{
	uint32_t off;

	if (fno < 0)
		return NULL;
	if (t->ver == VER_12) {
		if (fno == 0 || (uint32_t)fno >= t->nfiletab)
			return NULL;
		if (!trd32(t, t->filetab_off + 4ull * (uint32_t)fno, &off))
			return NULL;
		return tstr(t, 0, off);
	}
	if (!trd32(t, t->cu_off + 4ull * ((uint64_t)f->cuoff + (uint32_t)fno), &off) ||
	    off == UINT32_MAX)
		return NULL;
	return tstr(t, t->filetab_off, off);
}

static void file_line(struct pl_pclntab *t, const struct gofunc *f, uint64_t pc,
		      struct pl_go_frame *fr, uint64_t *steps)
{
	int32_t v;

	fr->file = NULL;
	fr->line = 0;
	if (pcvalue(t, f, f->pcfile, pc, &v, steps))
		fr->file = keep(t, file_name(t, f, v));
	if (pcvalue(t, f, f->pcln, pc, &v, steps) && v > 0)
		fr->line = v;
}

/* Virtual address of f's inline tree (FUNCDATA_InlTree), if it has one. */
static bool inl_tree(const struct pl_pclntab *t, const struct gofunc *f, uint64_t *tree)
{
	uint64_t p, va;

	if (t->inl_funcdata >= f->nfuncdata)
		return false;
	p = f->off + t->func_fixed + 4ull * f->npcdata;
	if (t->ver >= VER_118) {
		uint32_t o;

		if (!t->have_gofunc || !trd32(t, p + 4ull * t->inl_funcdata, &o) || o == UINT32_MAX)
			return false;
		va = t->gofunc + o;
	} else {
		/* Pointer-aligned, as the runtime aligns the absolute address. */
		if (t->ptrsize == 8 && ((t->has_va ? t->tabva : 0) + p) % 8 != 0)
			p += 4;
		if (!trd(t, p + (uint64_t)t->inl_funcdata * t->ptrsize, t->ptrsize, &va) || va == 0)
			return false;
	}
	*tree = va;
	return true;
}

struct inl_entry {
	int32_t parent; /* old layout only */
	int32_t file, line;
	uint32_t nameoff;
	int32_t parent_pc; /* new layouts only */
	bool old;
};

/*
 * Entry ix of the inline tree at virtual address tree. Three layouts:
 * 1.9-1.11 {parent i32, file, line, func}, 1.12-1.19 {parent i16, funcID,
 * pad, file, line, func, parentPc}, 1.20+ {funcID, pad[3], nameOff, parentPc,
 * startLine}. The oldest is told apart by entry 0, whose parent is always -1:
 * a 32-bit -1 there, where 1.12-1.19 have a zero pad byte.
 */
static bool inl_entry(const struct pl_pclntab *t, uint64_t tree, int32_t ix, struct inl_entry *ie)
{
	const struct elfv *e = &t->e;
	uint64_t off, v;
	unsigned sz;

	memset(ie, 0, sizeof(*ie));
	if (ix < 0 || (uint32_t)ix >= INL_INDEX_MAX)
		return false;
	if (t->ver >= VER_120) {
		sz = 16;
	} else {
		if (!va_to_off(e, tree, 4, &off))
			return false;
		ie->old = t->ver == VER_12 && e->b[off + 2] == 0xff && e->b[off + 3] == 0xff;
		sz = ie->old ? 16 : 20;
	}
	if (!va_to_off(e, tree + (uint64_t)ix * sz, sz, &off))
		return false;
	if (t->ver >= VER_120) {
		ie->nameoff = (uint32_t)rdn(e->b + off + 4, 4, t->be);
		ie->parent_pc = (int32_t)rdn(e->b + off + 8, 4, t->be);
	} else if (ie->old) {
		ie->parent = (int32_t)rdn(e->b + off, 4, t->be);
		ie->file = (int32_t)rdn(e->b + off + 4, 4, t->be);
		ie->line = (int32_t)rdn(e->b + off + 8, 4, t->be);
		ie->nameoff = (uint32_t)rdn(e->b + off + 12, 4, t->be);
	} else {
		v = rdn(e->b + off, 2, t->be);
		ie->parent = (int16_t)v;
		ie->file = (int32_t)rdn(e->b + off + 4, 4, t->be);
		ie->line = (int32_t)rdn(e->b + off + 8, 4, t->be);
		ie->nameoff = (uint32_t)rdn(e->b + off + 12, 4, t->be);
		ie->parent_pc = (int32_t)rdn(e->b + off + 16, 4, t->be);
	}
	return true;
}

static const char *inl_name(const struct pl_pclntab *t, const struct inl_entry *ie)
{
	const char *s = tstr(t, t->funcname_off, ie->nameoff);

	return s && *s ? s : NULL;
}

/* Binary search of the function table; false if pc is in no function. */
static bool find_func(const struct pl_pclntab *t, uint64_t pc, struct gofunc *f)
{
	uint64_t lo = 0, hi = t->nfunc, first, last, v;

	if (t->nfunc == 0 || !ftab_entry(t, 0, &first) || !ftab_entry(t, t->nfunc, &last))
		return false;
	if (pc < first || pc >= last)
		return false;
	/* invariant: entry(lo) <= pc < entry(hi) */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (!ftab_entry(t, mid, &v))
			return false;
		if (v <= pc)
			lo = mid;
		else
			hi = mid;
	}
	if (!load_func(t, lo, f))
		return false;
	return pc >= f->entry && pc < f->end;
}

int pl_pclntab_lookup(struct pl_pclntab *t, uint64_t pc, struct pl_go_frame *out, int max)
{
	struct gofunc f;
	const char *outer;
	uint64_t tree = 0, cur = pc, steps = LOOKUP_STEPS_MAX;
	bool have_tree;
	int n = 0;

	if (!t || !out || max <= 0 || !names_reserve(t, max) || !find_func(t, pc, &f))
		return 0;
	outer = keep(t, func_name(t, &f));
	if (!outer)
		return 0;
	have_tree = inl_tree(t, &f, &tree);
	for (int depth = 0; n < max && depth < INL_DEPTH_MAX; depth++) {
		struct inl_entry ie;
		int32_t ix;
		const char *name;

		if (!have_tree || !pcdata(t, &f, t->inl_pcdata, cur, &ix, &steps) || ix < 0 ||
		    !inl_entry(t, tree, ix, &ie) || !(name = keep(t, inl_name(t, &ie)))) {
			out[n].func = outer;
			file_line(t, &f, cur, &out[n], &steps);
			return n + 1;
		}
		out[n].func = name;
		file_line(t, &f, cur, &out[n], &steps);
		n++;
		if (ie.old) {
			/*
			 * 1.9-1.11: no parentPc; the entry itself holds the
			 * call site and its parent's index.
			 */
			for (; n < max && depth < INL_DEPTH_MAX; depth++) {
				struct inl_entry pe;
				const char *pn = NULL;

				out[n].file = keep(t, file_name(t, &f, ie.file));
				out[n].line = ie.line > 0 ? ie.line : 0;
				if (ie.parent < 0 || !inl_entry(t, tree, ie.parent, &pe) ||
				    !pe.old || !(pn = keep(t, inl_name(t, &pe)))) {
					out[n].func = outer;
					return n + 1;
				}
				out[n++].func = pn;
				ie = pe;
			}
			return n;
		}
		if (ie.parent_pc < 0 || (uint64_t)ie.parent_pc >= f.end - f.entry)
			break;
		cur = f.entry + (uint64_t)ie.parent_pc;
	}
	if (n < max) {
		/* A broken chain: still name the real function. */
		out[n].func = outer;
		out[n].file = NULL;
		out[n].line = 0;
		n++;
	}
	return n;
}

/* ---- opening --------------------------------------------------------------- */

/* The header fields and bounds common to all checks of a candidate. */
static bool parse_header(struct pl_pclntab *t)
{
	uint32_t magic;
	uint64_t w[8] = {0}, end;
	unsigned nw, ps;

	if (t->tabsz < 16 || !trd32(t, 0, &magic))
		return false;
	switch (magic) {
	case 0xfffffffbu:
		t->ver = VER_12;
		break;
	case 0xfffffffau:
		t->ver = VER_116;
		break;
	case 0xfffffff0u:
		t->ver = VER_118;
		break;
	case 0xfffffff1u:
		t->ver = VER_120;
		break;
	default:
		return false;
	}
	if (t->tab[4] != 0 || t->tab[5] != 0)
		return false;
	t->quantum = t->tab[6];
	t->ptrsize = ps = t->tab[7];
	if (t->quantum != 1 && t->quantum != 2 && t->quantum != 4)
		return false;
	if (ps != 4 && ps != 8)
		return false;
	nw = t->ver == VER_12 ? 1 : t->ver == VER_116 ? 7 : 8;
	for (unsigned i = 0; i < nw; i++)
		if (!trd(t, 8 + (uint64_t)i * ps, ps, &w[i]))
			return false;
	t->nfunc = w[0];
	t->entry_sz = t->ver >= VER_118 ? 4 : ps;
	if (t->ver == VER_12) {
		t->ftab_off = 8 + ps;
		t->ftab_fsz = ps;
		t->funcname_off = t->pctab_off = t->pcln_off = 0;
		t->func_fixed = ps + 32;
	} else {
		unsigned k = t->ver == VER_116 ? 2 : 3;

		t->text = t->ver == VER_116 ? 0 : w[2];
		t->funcname_off = w[k];
		t->cu_off = w[k + 1];
		t->filetab_off = w[k + 2];
		t->pctab_off = w[k + 3];
		t->pcln_off = w[k + 4];
		for (unsigned i = k; i <= k + 4; i++)
			if (w[i] < 8 + (uint64_t)nw * ps || w[i] >= t->tabsz)
				return false;
		t->ftab_off = t->pcln_off;
		t->ftab_fsz = t->ver >= VER_118 ? 4 : ps;
		t->func_fixed = t->entry_sz + (t->ver >= VER_120 ? 40 : 36);
	}
	/* nfunc pairs and the end entry must fit. */
	if (t->nfunc == 0 || t->ftab_off >= t->tabsz ||
	    t->nfunc > (t->tabsz - t->ftab_off) / (2ull * t->ftab_fsz))
		return false;
	end = t->ftab_off + (2 * t->nfunc + 1) * t->ftab_fsz;
	if (end > t->tabsz)
		return false;
	if (t->ver == VER_12) {
		uint32_t fo, nf;

		if (!trd32(t, end, &fo) || !trd32(t, fo, &nf) || nf == 0 ||
		    !in_file(t->tabsz, fo, 4ull * nf))
			return false;
		t->filetab_off = fo;
		t->nfiletab = nf;
	}
	return true;
}

/* Function i must load and be named; with executable code known, be in it. */
static bool check_func(const struct pl_pclntab *t, uint64_t i)
{
	struct gofunc f;

	if (!load_func(t, i, &f) || !func_name(t, &f))
		return false;
	if (t->e.have_exec && (!va_is_exec(&t->e, f.entry) || !va_is_exec(&t->e, f.end - 1)))
		return false;
	return true;
}

static bool check_table(const struct pl_pclntab *t)
{
	uint64_t first, last;

	if (!ftab_entry(t, 0, &first) || !ftab_entry(t, t->nfunc, &last) || first >= last)
		return false;
	return check_func(t, 0) && check_func(t, t->nfunc - 1) &&
	       (t->nfunc < 3 || check_func(t, t->nfunc / 2));
}

/* Scans [off, off+size) at va for the words {want, want2}, pointer-aligned. */
static bool scan_words(const struct elfv *e, unsigned ps, uint64_t off, uint64_t size, uint64_t va,
		       uint64_t want, uint64_t want2, uint64_t *at)
{
	uint8_t pat[8];
	uint64_t k = 0, pos, next;

	if (!spend(e, size))
		return false;
	for (unsigned i = 0; i < ps; i++)
		pat[e->be ? ps - 1 - i : i] = (uint8_t)(want >> (8 * i));
	while (k + 2ull * ps <= size && find_bytes(e, off, size, k, pat, ps, &pos)) {
		k = pos + 1;
		if ((va + pos) % ps != 0 || pos + 2ull * ps > size)
			continue;
		if (rd(e->b, e->n, off + pos + ps, ps, e->be, &next) && next == want2) {
			*at = va + pos;
			return true;
		}
	}
	return false;
}

struct md_reloc {
	const struct elfv *e;
	unsigned ps, tries;
	uint64_t want, want2, md;
	bool found;
};

/* A RELATIVE relocation putting the table's address somewhere: moduledata's first word? */
static bool md_reloc_one(void *ctx, uint64_t place, uint64_t addend)
{
	struct md_reloc *m = ctx;
	uint64_t v;

	if (addend != m->want)
		return true;
	if (read_word_va(m->e, place + m->ps, m->ps, &v) && v == m->want2) {
		m->md = place;
		m->found = true;
		return false;
	}
	return ++m->tries < MD_RELOC_CANDIDATES_MAX;
}

static bool has_sections(const struct elfv *e)
{
	struct sec s;

	return elf_sec(e, 0, &s);
}

/*
 * 1.16+ moduledata starts {pcHeader *, funcnametab []byte, ...}; the
 * runtime's copy lives in a writable data section. Finds its address.
 */
static bool find_moduledata(const struct pl_pclntab *t, uint64_t *md)
{
	const struct elfv *e = &t->e;
	unsigned ps = t->ptrsize;
	uint64_t want = t->tabva, want2 = t->tabva + t->funcname_off;
	struct md_reloc m = {.e = e, .ps = ps, .want = want, .want2 = want2};
	struct sec s;

	if (!t->has_va)
		return false;
	for (uint32_t i = 0; elf_sec(e, i, &s); i++)
		if ((s.flags & SHF_ALLOC_) && (s.flags & SHF_WRITE_) && sec_has_data(e, &s) &&
		    scan_words(e, ps, s.off, s.size, s.addr, want, want2, md))
			return true;
	if (!has_sections(e))
		for (unsigned i = 0; i < e->nranges; i++) {
			const struct arange *r = &e->ranges[i];

			if (r->write && r->filesz &&
			    scan_words(e, ps, r->off, r->filesz, r->addr, want, want2, md))
				return true;
		}
	/* Zeros in the file: the relocations say where the pointer goes. */
	each_relative(e, md_reloc_one, &m);
	if (m.found)
		*md = m.md;
	return m.found;
}

/* moduledata word indexes (1.18+): minpc 20, text 22; gofunc 38 or 40. */
static bool md_text(const struct pl_pclntab *t, uint64_t md, uint64_t *text)
{
	uint64_t minpc, e0;
	unsigned ps = t->ptrsize;

	if (!read_word_va(&t->e, md + 22ull * ps, ps, text) ||
	    !read_word_va(&t->e, md + 20ull * ps, ps, &minpc))
		return false;
	if (!trd(t, t->ftab_off, 4, &e0))
		return false;
	return *text != 0 && minpc == *text + e0;
}

static bool try_text(struct pl_pclntab *t, uint64_t text)
{
	if (!text)
		return false;
	t->text = text;
	return check_table(t);
}

/*
 * 1.18+: function entries are offsets from runtime.text. The header holds
 * it, but a position-independent image may hold zero there until the
 * dynamic loader relocates it. Tries, in order: the header value, the
 * RELATIVE relocation of that field, moduledata.text, the runtime.text
 * symbol, and the .text section's address (what Go's debug/gosym uses; it
 * is wrong by the C start-up code for externally linked images).
 */
static bool resolve_text(struct pl_pclntab *t, const uint64_t *md, bool have_md)
{
	const struct elfv *e = &t->e;
	uint64_t v;
	struct sec s;

	if (try_text(t, t->text))
		return true;
	if (t->has_va && reloc_at(e, t->tabva + 8 + 2ull * t->ptrsize, &v) && try_text(t, v))
		return true;
	if (have_md && md_text(t, *md, &v) && try_text(t, v))
		return true;
	if (elf_symbol(e, "runtime.text", &v) && try_text(t, v))
		return true;
	for (uint32_t i = 0; elf_sec(e, i, &s); i++)
		if (sec_name_is(&s, ".text"))
			return try_text(t, s.addr);
	return false;
}

static bool has_buildinfo(const struct elfv *e)
{
	static const char magic[] = "\xff Go buildinf:";
	struct sec s;
	uint64_t at;

	for (uint32_t i = 0; elf_sec(e, i, &s); i++) {
		if (sec_name_is(&s, ".go.buildinfo"))
			return true;
		if ((s.flags & SHF_WRITE_) && sec_has_data(e, &s) && spend(e, s.size) &&
		    find_bytes(e, s.off, s.size, 0, (const uint8_t *)magic, sizeof(magic) - 1, &at))
			return true;
	}
	return false;
}

/*
 * 1.2-magic tables before Go 1.12 end _func with an int32 nfuncdata; later
 * ones with funcID, 2 pad bytes and a u8 nfuncdata. On little-endian images
 * the two put the count in different bytes: look at a sample of functions.
 */
static void detect_old_func(struct pl_pclntab *t)
{
	bool new_seen = false, old_seen = false;
	uint64_t step = t->nfunc / 64 + 1, foff, off;

	if (t->be)
		return;
	for (uint64_t i = 0; i < t->nfunc; i += step) {
		if (!ftab_funcoff(t, i, &foff))
			continue;
		off = t->pcln_off + foff;
		if (!in_file(t->tabsz, off, t->func_fixed))
			continue;
		if (t->tab[off + t->func_fixed - 1])
			new_seen = true;
		else if (t->tab[off + t->func_fixed - 4])
			old_seen = true;
	}
	t->old_nfuncdata = old_seen && !new_seen;
}

static void setup_inlining(struct pl_pclntab *t, const uint64_t *md, bool have_md)
{
	const struct elfv *e = &t->e;
	uint64_t v, off;

	switch (t->ver) {
	case VER_12:
		detect_old_func(t);
		if (has_buildinfo(e)) { /* 1.13-1.15 */
			t->inl_pcdata = 2;
			t->inl_funcdata = 4;
		} else { /* 1.9-1.12 */
			t->inl_pcdata = 1;
			t->inl_funcdata = 2;
		}
		return;
	case VER_116:
		t->inl_pcdata = 2;
		t->inl_funcdata = 3;
		return;
	default:
		t->inl_pcdata = 2;
		t->inl_funcdata = 3;
		break;
	}
	/* 1.18+: funcdata are offsets from moduledata.gofunc ("go:func.*"). */
	if (have_md) {
		unsigned w = t->ver >= VER_120 ? 40 : 38;

		if (read_word_va(e, *md + (uint64_t)w * t->ptrsize, t->ptrsize, &v) && v &&
		    va_to_off(e, v, 1, &off)) {
			t->gofunc = v;
			t->have_gofunc = true;
			return;
		}
	}
	if ((elf_symbol(e, "go:func.*", &v) || elf_symbol(e, "go.func.*", &v)) && v &&
	    va_to_off(e, v, 1, &off)) {
		t->gofunc = v;
		t->have_gofunc = true;
	}
}

static struct pl_pclntab *try_table(const struct elfv *e, uint64_t off, uint64_t size, uint64_t va,
				    bool has_va)
{
	struct pl_pclntab *t = calloc(1, sizeof(*t));
	uint64_t md = 0;
	bool have_md = false;

	if (!t)
		return NULL;
	t->e = *e;
	t->tab = e->b + off;
	t->tabsz = size;
	t->tabva = va;
	t->has_va = has_va;
	t->be = e->be;
	if (!parse_header(t))
		goto fail;
	if (t->ver >= VER_118) {
		have_md = find_moduledata(t, &md);
		if (!resolve_text(t, &md, have_md))
			goto fail;
	} else if (!check_table(t)) {
		goto fail;
	}
	setup_inlining(t, &md, have_md);
	return t;
fail:
	free(t);
	return NULL;
}

static bool magic_at(const struct elfv *e, uint64_t off)
{
	uint32_t m;

	if (!rd32(e->b, e->n, off, e->be, &m) || !in_file(e->n, off, 8))
		return false;
	if (m != 0xfffffffbu && m != 0xfffffffau && m != 0xfffffff0u && m != 0xfffffff1u)
		return false;
	const uint8_t *p = e->b + off;

	return p[4] == 0 && p[5] == 0 && (p[6] == 1 || p[6] == 2 || p[6] == 4) &&
	       (p[7] == 4 || p[7] == 8);
}

/*
 * Scans [off, off+size) for header candidates, 4-byte aligned in memory:
 * memmem finds the magic's three 0xff bytes (and, little-endian, the two
 * zero bytes after them), magic_at checks the rest.
 */
static struct pl_pclntab *scan_range(const struct elfv *e, uint64_t off, uint64_t size, uint64_t va,
				     bool has_va, unsigned *tries)
{
	static const uint8_t le[] = {0xff, 0xff, 0xff, 0, 0}, be[] = {0xff, 0xff, 0xff};
	const uint8_t *pat = e->be ? be : le;
	size_t plen = e->be ? sizeof(be) : sizeof(le);
	uint64_t k = 0, delta = e->be ? 0 : 1, hit;

	if (!spend(e, size))
		return NULL;
	while (k + 16 <= size && *tries < SCAN_CANDIDATES_MAX &&
	       find_bytes(e, off, size, k, pat, plen, &hit)) {
		struct pl_pclntab *t;
		uint64_t pos;

		k = hit + 1;
		if (hit < delta)
			continue;
		pos = hit - delta;
		if ((has_va ? va + pos : pos) % 4 != 0 || pos + 16 > size ||
		    !magic_at(e, off + pos))
			continue;
		(*tries)++;
		t = try_table(e, off + pos, size - pos, va + pos, has_va);
		if (t)
			return t;
	}
	return NULL;
}

/* The linker's own section, internally linked (PIE or not). */
static struct pl_pclntab *named_table(const struct elfv *e)
{
	struct pl_pclntab *t;
	struct sec s;

	for (uint32_t i = 0; elf_sec(e, i, &s); i++) {
		if (!sec_has_data(e, &s) ||
		    (!sec_name_is(&s, ".gopclntab") && !sec_name_is(&s, ".data.rel.ro.gopclntab")))
			continue;
		t = try_table(e, s.off, s.size, s.addr, (s.flags & SHF_ALLOC_) != 0);
		if (t)
			return t;
	}
	return NULL;
}

/*
 * Externally linked PIE: inside .data.rel.ro or .rodata, no own section;
 * with no section headers at all, the loadable segments.
 */
static struct pl_pclntab *scanned_table(const struct elfv *e)
{
	struct pl_pclntab *t = NULL;
	unsigned tries = 0;
	struct sec s;

	for (uint32_t i = 0; !t && elf_sec(e, i, &s); i++)
		if (s.type == SHT_PROGBITS_ && (s.flags & SHF_ALLOC_) &&
		    !(s.flags & SHF_EXECINSTR_) && sec_has_data(e, &s))
			t = scan_range(e, s.off, s.size, s.addr, true, &tries);
	for (unsigned i = 0; !t && !has_sections(e) && i < e->nranges; i++)
		if (e->ranges[i].filesz)
			t = scan_range(e, e->ranges[i].off, e->ranges[i].filesz, e->ranges[i].addr,
				       true, &tries);
	return t;
}

struct pl_pclntab *pl_pclntab_open(struct pl_elf *elf)
{
	struct pl_pclntab *t;
	struct elfv e;
	uint64_t budget;

	if (!elfv_init(&e, elf))
		return NULL;
	budget = 16 * (uint64_t)e.n + (1u << 20);
	if (budget > SCAN_BYTES_MAX)
		budget = SCAN_BYTES_MAX;
	e.budget = &budget;
	t = named_table(&e);
	if (!t)
		t = scanned_table(&e);
	if (!t)
		return NULL;
	/* Lookups read the image alone: the handle and the budget were for opening. */
	t->e.budget = NULL;
	t->e.elf = NULL;
	return t;
}

int pl_pclntab_version(const struct pl_pclntab *t)
{
	return t ? t->ver : 0;
}

uint64_t pl_pclntab_func_entry(const struct pl_pclntab *t, const char *name)
{
	struct gofunc f;

	if (!t || !name)
		return 0;
	for (uint64_t i = 0; i < t->nfunc; i++) {
		const char *n;

		if (!load_func(t, i, &f) || !(n = func_name(t, &f)))
			continue;
		if (name_is(t, n, name))
			return f.entry;
	}
	return 0;
}

void pl_pclntab_close(struct pl_pclntab *t)
{
	if (t)
		free(t->names);
	free(t);
}
