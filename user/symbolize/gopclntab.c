// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Go's pc-line table (.gopclntab) read from an in-memory ELF image.
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
 * Everything is read from the caller's buffer; every read is bounds-checked
 * and every loop has a bound that does not depend on the data being sane.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "symbolize/gopclntab.h"

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
#define PHDRS_MAX 256 /* program headers considered */
/* Bytes opening may read in scans: a hostile file must not make it read gigabytes. */
#define SCAN_BYTES_MAX (64ull << 20)
/* Sections considered for addresses when an image has no program headers. */
#define SECS_ADDR_MAX 1024

enum {
	VER_12 = 12,
	VER_116 = 116,
	VER_118 = 118,
	VER_120 = 120,
};

/* ---- ELF --------------------------------------------------------------- */

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

struct elfv {
	const uint8_t *b;
	size_t n;
	bool is64, be;
	uint16_t machine;
	uint64_t phoff, shoff;
	uint32_t phnum, phentsize, shnum, shentsize, shstrndx;
	bool have_load; /* at least one usable PT_LOAD */
	bool have_exec; /* at least one executable segment or section */
	/*
	 * Bytes that scans (of sections, symbols, relocations) may still
	 * read while opening: section headers may overlap, so without it an
	 * image could make open take sections x size. NULL after opening.
	 */
	uint64_t *budget;
};

struct sec {
	uint32_t name, type, link;
	uint64_t flags, addr, off, size, entsize;
};

struct seg {
	uint32_t type, flags;
	uint64_t off, vaddr, filesz, memsz;
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

static bool elf_parse(struct elfv *e, const uint8_t *b, size_t n)
{
	memset(e, 0, sizeof(*e));
	if (!b || n < 52 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F')
		return false;
	if (b[4] != 1 && b[4] != 2)
		return false;
	if (b[5] != 1 && b[5] != 2)
		return false;
	e->b = b;
	e->n = n;
	e->is64 = b[4] == 2;
	e->be = b[5] == 2;
	if (e->is64 && n < 64)
		return false;
	e->machine = (uint16_t)rdn(b + 18, 2, e->be);
	if (e->is64) {
		e->phoff = rdn(b + 32, 8, e->be);
		e->shoff = rdn(b + 40, 8, e->be);
		e->phentsize = (uint32_t)rdn(b + 54, 2, e->be);
		e->phnum = (uint32_t)rdn(b + 56, 2, e->be);
		e->shentsize = (uint32_t)rdn(b + 58, 2, e->be);
		e->shnum = (uint32_t)rdn(b + 60, 2, e->be);
		e->shstrndx = (uint32_t)rdn(b + 62, 2, e->be);
	} else {
		e->phoff = rdn(b + 28, 4, e->be);
		e->shoff = rdn(b + 32, 4, e->be);
		e->phentsize = (uint32_t)rdn(b + 42, 2, e->be);
		e->phnum = (uint32_t)rdn(b + 44, 2, e->be);
		e->shentsize = (uint32_t)rdn(b + 46, 2, e->be);
		e->shnum = (uint32_t)rdn(b + 48, 2, e->be);
		e->shstrndx = (uint32_t)rdn(b + 50, 2, e->be);
	}
	if (e->phnum > PHDRS_MAX)
		e->phnum = PHDRS_MAX;
	/* Unusable header tables are treated as absent, not as errors. */
	if (e->phentsize < (e->is64 ? 56u : 32u) || e->phoff == 0 ||
	    !in_file(n, e->phoff, (uint64_t)e->phnum * e->phentsize))
		e->phnum = 0;
	if (e->shentsize < (e->is64 ? 64u : 40u) || e->shoff == 0 ||
	    !in_file(n, e->shoff, (uint64_t)e->shnum * e->shentsize))
		e->shnum = 0;
	return true;
}

static bool elf_seg(const struct elfv *e, uint32_t i, struct seg *s)
{
	const uint8_t *p;

	if (i >= e->phnum)
		return false;
	p = e->b + e->phoff + (uint64_t)i * e->phentsize;
	s->type = (uint32_t)rdn(p, 4, e->be);
	if (e->is64) {
		s->flags = (uint32_t)rdn(p + 4, 4, e->be);
		s->off = rdn(p + 8, 8, e->be);
		s->vaddr = rdn(p + 16, 8, e->be);
		s->filesz = rdn(p + 32, 8, e->be);
		s->memsz = rdn(p + 40, 8, e->be);
	} else {
		s->off = rdn(p + 4, 4, e->be);
		s->vaddr = rdn(p + 8, 4, e->be);
		s->filesz = rdn(p + 16, 4, e->be);
		s->memsz = rdn(p + 20, 4, e->be);
		s->flags = (uint32_t)rdn(p + 24, 4, e->be);
	}
	/* Only the part of a segment that is in the file can be read. */
	if (!in_file(e->n, s->off, 0))
		s->filesz = 0;
	else if (s->filesz > e->n - s->off)
		s->filesz = e->n - s->off;
	return true;
}

static bool elf_sec(const struct elfv *e, uint32_t i, struct sec *s)
{
	const uint8_t *p;

	if (i >= e->shnum)
		return false;
	p = e->b + e->shoff + (uint64_t)i * e->shentsize;
	s->name = (uint32_t)rdn(p, 4, e->be);
	s->type = (uint32_t)rdn(p + 4, 4, e->be);
	if (e->is64) {
		s->flags = rdn(p + 8, 8, e->be);
		s->addr = rdn(p + 16, 8, e->be);
		s->off = rdn(p + 24, 8, e->be);
		s->size = rdn(p + 32, 8, e->be);
		s->link = (uint32_t)rdn(p + 40, 4, e->be);
		s->entsize = rdn(p + 56, 8, e->be);
	} else {
		s->flags = rdn(p + 8, 4, e->be);
		s->addr = rdn(p + 12, 4, e->be);
		s->off = rdn(p + 16, 4, e->be);
		s->size = rdn(p + 20, 4, e->be);
		s->link = (uint32_t)rdn(p + 24, 4, e->be);
		s->entsize = rdn(p + 36, 4, e->be);
	}
	return true;
}

/* A section whose bytes are all in the file. */
static bool sec_has_data(const struct elfv *e, const struct sec *s)
{
	return s->type != SHT_NOBITS_ && s->size > 0 && in_file(e->n, s->off, s->size);
}

/* Compares the name of section s with name, reading within bounds. */
static bool sec_name_is(const struct elfv *e, const struct sec *s, const char *name)
{
	struct sec str;
	size_t len = strlen(name) + 1;

	if (!elf_sec(e, e->shstrndx, &str) || !sec_has_data(e, &str))
		return false;
	if (s->name >= str.size || len > str.size - s->name)
		return false;
	return memcmp(e->b + str.off + s->name, name, len) == 0;
}

/*
 * Maps [va, va+len) to a file offset: through PT_LOAD segments, or through
 * allocated sections when the image has no usable program headers.
 */
static bool va_to_off(const struct elfv *e, uint64_t va, uint64_t len, uint64_t *off)
{
	if (e->have_load) {
		struct seg s;

		for (uint32_t i = 0; elf_seg(e, i, &s); i++) {
			if (s.type != PT_LOAD_ || va < s.vaddr)
				continue;
			if (va - s.vaddr >= s.filesz || len > s.filesz - (va - s.vaddr))
				continue;
			*off = s.off + (va - s.vaddr);
			return true;
		}
		return false;
	}
	struct sec s;

	for (uint32_t i = 0; i < SECS_ADDR_MAX && elf_sec(e, i, &s); i++) {
		if (!(s.flags & SHF_ALLOC_) || !sec_has_data(e, &s) || va < s.addr)
			continue;
		if (va - s.addr >= s.size || len > s.size - (va - s.addr))
			continue;
		*off = s.off + (va - s.addr);
		return true;
	}
	return false;
}

static bool va_is_exec(const struct elfv *e, uint64_t va)
{
	if (e->have_load) {
		struct seg s;

		for (uint32_t i = 0; elf_seg(e, i, &s); i++)
			if (s.type == PT_LOAD_ && (s.flags & PF_X_) && va >= s.vaddr &&
			    va - s.vaddr < s.memsz)
				return true;
		return false;
	}
	struct sec s;

	for (uint32_t i = 0; i < SECS_ADDR_MAX && elf_sec(e, i, &s); i++)
		if ((s.flags & SHF_ALLOC_) && (s.flags & SHF_EXECINSTR_) && va >= s.addr &&
		    va - s.addr < s.size)
			return true;
	return false;
}

static void elf_scan_kinds(struct elfv *e)
{
	struct seg g;
	struct sec s;

	for (uint32_t i = 0; elf_seg(e, i, &g); i++) {
		if (g.type != PT_LOAD_)
			continue;
		e->have_load = true;
		if (g.flags & PF_X_)
			e->have_exec = true;
	}
	if (e->have_load)
		return;
	for (uint32_t i = 0; elf_sec(e, i, &s); i++)
		if ((s.flags & SHF_ALLOC_) && (s.flags & SHF_EXECINSTR_))
			e->have_exec = true;
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

/*
 * Iterates over the RELATIVE relocations (place, addend) of the image's
 * SHT_RELA sections. Only used while opening: each section read is taken
 * from the scan budget.
 */
struct rela_iter {
	const struct elfv *e;
	uint32_t sec, type;
	uint64_t idx;
	struct sec s;
	bool have_sec;
};

static bool rela_next(struct rela_iter *it, uint64_t *r_off, uint64_t *addend)
{
	const struct elfv *e = it->e;
	unsigned esz = e->is64 ? 24 : 12;

	for (;;) {
		if (!it->have_sec) {
			if (!elf_sec(e, it->sec, &it->s))
				return false;
			it->sec++;
			if (it->s.type != SHT_RELA_ || it->s.entsize != esz ||
			    !sec_has_data(e, &it->s) || !spend(e, it->s.size))
				continue;
			it->have_sec = true;
			it->idx = 0;
		}
		if (it->idx >= it->s.size / esz) {
			it->have_sec = false;
			continue;
		}
		const uint8_t *p = e->b + it->s.off + it->idx * esz;
		uint64_t info;

		it->idx++;
		if (e->is64) {
			*r_off = rdn(p, 8, e->be);
			info = rdn(p + 8, 8, e->be) & 0xffffffffu;
			*addend = rdn(p + 16, 8, e->be);
		} else {
			*r_off = rdn(p, 4, e->be);
			info = rdn(p + 4, 4, e->be) & 0xffu;
			*addend = rdn(p + 8, 4, e->be);
		}
		if (info == it->type)
			return true;
	}
}

static bool rela_init(struct rela_iter *it, const struct elfv *e)
{
	memset(it, 0, sizeof(*it));
	it->e = e;
	return e->shnum > 0 && relative_type(e, &it->type);
}

static bool reloc_at(const struct elfv *e, uint64_t va, uint64_t *value)
{
	struct rela_iter it;
	uint64_t off, add;

	if (!rela_init(&it, e))
		return false;
	while (rela_next(&it, &off, &add))
		if (off == va) {
			*value = add;
			return true;
		}
	return false;
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
	size_t len = strlen(name) + 1;
	unsigned esz = e->is64 ? 24 : 16;
	struct sec s, str;

	for (uint32_t i = 0; elf_sec(e, i, &s); i++) {
		if (s.type != SHT_SYMTAB_ || !sec_has_data(e, &s))
			continue;
		if (!elf_sec(e, s.link, &str) || !sec_has_data(e, &str) || !spend(e, s.size))
			continue;
		for (uint64_t k = 0; k < s.size / esz; k++) {
			const uint8_t *p = e->b + s.off + k * esz;
			uint32_t nm = (uint32_t)rdn(p, 4, e->be);

			if (nm >= str.size || len > str.size - nm)
				continue;
			if (memcmp(e->b + str.off + nm, name, len) != 0)
				continue;
			*value = e->is64 ? rdn(p + 8, 8, e->be) : rdn(p + 4, 4, e->be);
			return true;
		}
	}
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
	const uint8_t *base = e->b + off;
	uint8_t pat[8];
	uint64_t k = 0;

	if (!spend(e, size))
		return false;
	for (unsigned i = 0; i < ps; i++)
		pat[e->be ? ps - 1 - i : i] = (uint8_t)(want >> (8 * i));
	while (k + 2ull * ps <= size) {
		const uint8_t *p = memmem(base + k, size - k, pat, ps);
		uint64_t pos;

		if (!p)
			return false;
		pos = (uint64_t)(p - base);
		k = pos + 1;
		if ((va + pos) % ps != 0 || pos + 2ull * ps > size)
			continue;
		if (rdn(p + ps, ps, e->be) == want2) {
			*at = va + pos;
			return true;
		}
	}
	return false;
}

/*
 * 1.16+ moduledata starts {pcHeader *, funcnametab []byte, ...}; the
 * runtime's copy lives in a writable data section. Finds its address.
 */
static bool find_moduledata(const struct pl_pclntab *t, uint64_t *md)
{
	const struct elfv *e = &t->e;
	unsigned ps = t->ptrsize;
	uint64_t want = t->tabva, want2 = t->tabva + t->funcname_off, v;
	struct sec s;
	struct seg g;

	if (!t->has_va)
		return false;
	for (uint32_t i = 0; elf_sec(e, i, &s); i++)
		if ((s.flags & SHF_ALLOC_) && (s.flags & SHF_WRITE_) && sec_has_data(e, &s) &&
		    scan_words(e, ps, s.off, s.size, s.addr, want, want2, md))
			return true;
	if (e->shnum == 0)
		for (uint32_t i = 0; elf_seg(e, i, &g); i++)
			if (g.type == PT_LOAD_ && (g.flags & PF_W_) && g.filesz &&
			    scan_words(e, ps, g.off, g.filesz, g.vaddr, want, want2, md))
				return true;
	/* Zeros in the file: the relocations say where the pointer goes. */
	struct rela_iter it;
	uint64_t off, add;
	unsigned tries = 0;

	if (!rela_init(&it, e))
		return false;
	while (tries < MD_RELOC_CANDIDATES_MAX && rela_next(&it, &off, &add)) {
		if (add != want)
			continue;
		tries++;
		if (read_word_va(e, off + ps, ps, &v) && v == want2) {
			*md = off;
			return true;
		}
	}
	return false;
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
		if (sec_name_is(e, &s, ".text"))
			return try_text(t, s.addr);
	return false;
}

static bool has_buildinfo(const struct elfv *e)
{
	static const char magic[] = "\xff Go buildinf:";
	struct sec s;

	for (uint32_t i = 0; elf_sec(e, i, &s); i++) {
		if (sec_name_is(e, &s, ".go.buildinfo"))
			return true;
		if ((s.flags & SHF_WRITE_) && sec_has_data(e, &s) && spend(e, s.size) &&
		    memmem(e->b + s.off, s.size, magic, sizeof(magic) - 1))
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
	const uint8_t *base = e->b + off, *pat = e->be ? be : le;
	size_t plen = e->be ? sizeof(be) : sizeof(le);
	uint64_t k = 0, delta = e->be ? 0 : 1;

	if (!spend(e, size))
		return NULL;
	while (k + 16 <= size && *tries < SCAN_CANDIDATES_MAX) {
		const uint8_t *p = memmem(base + k, size - k, pat, plen);
		struct pl_pclntab *t;
		uint64_t hit, pos;

		if (!p)
			return NULL;
		hit = (uint64_t)(p - base);
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

struct pl_pclntab *pl_pclntab_open(const uint8_t *elf, size_t size)
{
	struct elfv e;
	struct sec s;
	struct seg g;
	struct pl_pclntab *t;
	unsigned tries = 0;
	uint64_t budget;

	if (!elf_parse(&e, elf, size))
		return NULL;
	elf_scan_kinds(&e);
	budget = 16 * (uint64_t)size + (1u << 20);
	if (budget > SCAN_BYTES_MAX)
		budget = SCAN_BYTES_MAX;
	e.budget = &budget;
	/* The linker's own section, internally linked (PIE or not). */
	for (uint32_t i = 0; elf_sec(&e, i, &s); i++) {
		if (!sec_has_data(&e, &s))
			continue;
		if (!sec_name_is(&e, &s, ".gopclntab") &&
		    !sec_name_is(&e, &s, ".data.rel.ro.gopclntab"))
			continue;
		t = try_table(&e, s.off, s.size, s.addr, (s.flags & SHF_ALLOC_) != 0);
		if (t)
			goto found;
	}
	/* Externally linked PIE: inside .data.rel.ro or .rodata, no own section. */
	for (uint32_t i = 0; elf_sec(&e, i, &s); i++) {
		if (s.type != SHT_PROGBITS_ || !(s.flags & SHF_ALLOC_) ||
		    (s.flags & SHF_EXECINSTR_) || !sec_has_data(&e, &s))
			continue;
		t = scan_range(&e, s.off, s.size, s.addr, true, &tries);
		if (t)
			goto found;
	}
	/* No section headers at all: the loadable segments. */
	if (e.shnum == 0) {
		for (uint32_t i = 0; elf_seg(&e, i, &g); i++) {
			if (g.type != PT_LOAD_ || g.filesz == 0)
				continue;
			t = scan_range(&e, g.off, g.filesz, g.vaddr, true, &tries);
			if (t)
				goto found;
		}
	}
	return NULL;
found:
	t->e.budget = NULL;
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
