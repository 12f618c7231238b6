// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading a binary that another user controls, within budgets.
 *
 * - libelf parses a private image: a sparse anonymous mapping as large as
 *   the file, into which only the headers are read (the ELF header, the
 *   program and section header tables, the section names). So libelf never
 *   sees bytes change under it, never allocates for a header table we did
 *   not size-check first, and untouched pages cost nothing.
 * - Symbol tables are never handed to elf_getdata (which copies a table
 *   that is misaligned or in the other byte order): they are streamed from
 *   the file in small windows and converted with elfNN_xlatetom, and their
 *   names are read through a small window of the string table.
 * - The file itself is mapped read-only (the view) for Go's pclntab, which
 *   is read lazily. If the file is cut short under the view, the pages past
 *   its end would raise SIGBUS: a handler maps zeros there instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "symbolize/elfsym.h"

/* Symbols converted per window, and the string window (plus one name). */
#define SYM_WINDOW 2048u
#define STR_WINDOW (64u << 10)
/* A string table up to this size is read whole; a larger one through the window. */
#define STR_HOLD_MAX (4u << 20)
/* Views registered with the SIGBUS guard (one per binary with a view). */
#define MAX_VIEWS 8192

struct symbol {
	uint64_t start;
	uint64_t end;  /* while collecting: the symbol's st_size */
	uint32_t name; /* offset in names */
	uint16_t name_len;
	uint8_t rank; /* binding: lower wins when names share an address */
};

struct segment {
	uint64_t offset;
	uint64_t filesz;
	uint64_t vaddr;
	uint64_t memsz;
};

/* Where loading reads the file from: a descriptor, or memory. */
struct source {
	int fd; /* our duplicate, or -1 */
	const uint8_t *mem;
	uint64_t size;
};

/* What only loading needs. */
struct loader {
	struct source src;
	uint8_t *image; /* private and sparse: headers only */
	size_t image_size;
	Elf *elf;
	int cls;		/* ELFCLASS32 or ELFCLASS64 */
	unsigned char encoding; /* ELFDATA2LSB or ELFDATA2MSB */
	size_t nsections;	/* as libelf sees them */
	size_t shstrndx;	/* the section names' section, or 0 */
	bool *exec;		/* per section: SHF_EXECINSTR */
	uint64_t read_left;	/* of PL_ELF_MAX_READ */
	bool read_budget_noted;
	size_t names_cap;
};

struct pl_elf {
	const uint8_t *view; /* the file's bytes; NULL once dropped */
	size_t view_size;
	bool view_mapped; /* a file mapping (else memory, owned when copied) */
	void *view_owned;
	struct loader *ld; /* NULL once loading ended */
	struct symbol *syms;
	size_t nsyms;
	char *names;
	size_t names_len;
	struct segment *segs;
	size_t nsegs;
	struct pl_elf_skips skips;
};

/* ---- the SIGBUS guard over views ----------------------------------------- */

static struct {
	volatile uintptr_t start, end; /* 0, 0: free */
} views[MAX_VIEWS];
static struct sigaction prev_sigbus;
static uintptr_t guard_page_size;

/*
 * Only a view's page can fault this way (the file was cut short under it,
 * or its disk failed): it becomes a page of zeros and the read goes on.
 * Anything else gets the previous disposition back, and faults again.
 */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;

	(void)uc;
	for (size_t i = 0; i < MAX_VIEWS; i++) {
		if (addr < views[i].start || addr >= views[i].end)
			continue;
		if (mmap((void *)(addr & ~(guard_page_size - 1)), guard_page_size, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
			return;
		break;
	}
	sigaction(sig, &prev_sigbus, NULL);
}

/* Checked at every new view: whoever set a handler since is chained behind ours. */
static bool guard_installed(void)
{
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER};
	struct sigaction cur;

	if (sigaction(SIGBUS, NULL, &cur) != 0)
		return false;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)
		return true;
	guard_page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, &prev_sigbus) == 0;
}

static bool guard_add(const void *p, size_t len)
{
	if (!guard_installed())
		return false;
	for (size_t i = 0; i < MAX_VIEWS; i++) {
		if (views[i].end)
			continue;
		views[i].start = (uintptr_t)p;
		views[i].end = (uintptr_t)p + len;
		return true;
	}
	return false;
}

static void guard_remove(const void *p)
{
	for (size_t i = 0; i < MAX_VIEWS; i++)
		if (views[i].start == (uintptr_t)p) {
			views[i].end = 0;
			views[i].start = 0;
			return;
		}
}

/* ---- what the budgets left out ------------------------------------------- */

static void format_mib(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= (1u << 20))
		snprintf(buf, len, "%.1fM", (double)bytes / (1u << 20));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(bytes + 1023) / 1024);
}

/* Counts one part left out; the first is described, e.g. "symbol table [5], 25.0M: ...". */
__attribute__((format(printf, 3, 4))) static void skip(struct pl_elf *e, uint64_t bytes,
						       const char *fmt, ...)
{
	va_list ap;

	e->skips.parts++;
	e->skips.bytes += bytes;
	if (e->skips.parts > 1)
		return;
	va_start(ap, fmt);
	vsnprintf(e->skips.first, sizeof(e->skips.first), fmt, ap);
	va_end(ap);
}

static void skip_over(struct pl_elf *e, const char *what, uint64_t bytes, uint64_t cap,
		      const char *cap_name)
{
	char have[24], max[24];

	format_mib(have, sizeof(have), bytes);
	format_mib(max, sizeof(max), cap);
	skip(e, bytes, "%s, %s: over the %s %s", what, have, max, cap_name);
}

/* ---- reading the source ------------------------------------------------- */

static bool in_file(uint64_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/* Reads up to len bytes at off; returns how many (fewer at end of file). */
static size_t source_read(const struct source *s, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	if (off >= s->size)
		return 0;
	if (len > s->size - off)
		len = (size_t)(s->size - off);
	if (s->fd < 0) {
		memcpy(buf, s->mem + off, len);
		return len;
	}
	while (done < len) {
		ssize_t got = pread(s->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		done += (size_t)got;
	}
	return done;
}

/* Reads [off, off+len) of the file into the private image, at the same offset. */
static bool read_island(struct loader *ld, uint64_t off, uint64_t len)
{
	if (!in_file(ld->image_size, off, len))
		return false;
	return source_read(&ld->src, off, ld->image + off, (size_t)len) == len;
}

/* Takes bytes from the file's read budget; notes, once, when it runs out. */
static bool spend_read(struct pl_elf *e, uint64_t bytes, const char *what)
{
	struct loader *ld = e->ld;

	if (bytes <= ld->read_left) {
		ld->read_left -= bytes;
		return true;
	}
	if (!ld->read_budget_noted)
		skip_over(e, what, bytes, PL_ELF_MAX_READ, "a file may have read");
	else
		e->skips.parts++, e->skips.bytes += bytes;
	ld->read_budget_noted = true;
	return false;
}

/* ---- the private image and its headers -------------------------------- */

/* The header fields that size everything libelf will allocate. */
struct layout {
	uint64_t phoff, shoff;
	uint64_t phnum, shnum, shstrndx;
	unsigned phentsize, shentsize;
};

static bool xlate(const struct loader *ld, Elf_Type type, void *dst, const void *src, size_t len,
		  bool to_memory)
{
	Elf_Data d = {.d_buf = dst, .d_type = type, .d_size = len, .d_version = EV_CURRENT};
	Elf_Data s = {.d_buf = (void *)src, .d_type = type, .d_size = len, .d_version = EV_CURRENT};

	if (ld->cls == ELFCLASS64)
		return to_memory ? elf64_xlatetom(&d, &s, ld->encoding) != NULL
				 : elf64_xlatetof(&d, &s, ld->encoding) != NULL;
	return to_memory ? elf32_xlatetom(&d, &s, ld->encoding) != NULL
			 : elf32_xlatetof(&d, &s, ld->encoding) != NULL;
}

static size_t file_size_of(const struct loader *ld, Elf_Type type)
{
	return ld->cls == ELFCLASS64 ? elf64_fsize(type, 1, EV_CURRENT)
				     : elf32_fsize(type, 1, EV_CURRENT);
}

/* The ELF header, in memory form, both classes in one. */
union ehdr {
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;
};

static void layout_of(const struct loader *ld, const union ehdr *h, struct layout *l)
{
	if (ld->cls == ELFCLASS64) {
		*l = (struct layout){h->e64.e_phoff,	h->e64.e_shoff,	   h->e64.e_phnum,
				     h->e64.e_shnum,	h->e64.e_shstrndx, h->e64.e_phentsize,
				     h->e64.e_shentsize};
	} else {
		*l = (struct layout){h->e32.e_phoff,	h->e32.e_shoff,	   h->e32.e_phnum,
				     h->e32.e_shnum,	h->e32.e_shstrndx, h->e32.e_phentsize,
				     h->e32.e_shentsize};
	}
}

/* Extended numbering: counts that do not fit the header live in section 0. */
static void read_extended_counts(const struct loader *ld, struct layout *l)
{
	uint8_t raw[sizeof(Elf64_Shdr)];
	union {
		Elf64_Shdr s64;
		Elf32_Shdr s32;
	} s0;
	size_t len = file_size_of(ld, ELF_T_SHDR);
	bool ext_sh = l->shnum == 0, ext_ph = l->phnum == PN_XNUM,
	     ext_str = l->shstrndx == SHN_XINDEX;

	if (!l->shoff || !(ext_sh || ext_ph || ext_str))
		return;
	if (source_read(&ld->src, l->shoff, raw, len) != len ||
	    !xlate(ld, ELF_T_SHDR, &s0, raw, len, true))
		return;
	if (ext_sh)
		l->shnum = ld->cls == ELFCLASS64 ? s0.s64.sh_size : s0.s32.sh_size;
	if (ext_ph)
		l->phnum = ld->cls == ELFCLASS64 ? s0.s64.sh_info : s0.s32.sh_info;
	if (ext_str)
		l->shstrndx = ld->cls == ELFCLASS64 ? s0.s64.sh_link : s0.s32.sh_link;
}

/* A header table libelf may read: sane entries, within the file and the cap. */
static bool table_ok(struct pl_elf *e, uint64_t off, uint64_t num, unsigned entsize,
		     size_t want_entsize, uint64_t cap, const char *what)
{
	if (!off || !num || entsize != want_entsize || num > e->ld->image_size / entsize ||
	    !in_file(e->ld->image_size, off, num * entsize))
		return false;
	if (num > cap) {
		char desc[48];

		snprintf(desc, sizeof(desc), "%s of %llu entries", what, (unsigned long long)num);
		skip(e, num * entsize, "%s: over the %llu a file may have", desc,
		     (unsigned long long)cap);
		return false;
	}
	return true;
}

/* A header telling libelf there are no sections (or no program headers). */
static void drop_table(union ehdr *h, int cls, bool sections)
{
	if (cls == ELFCLASS64 && sections)
		h->e64.e_shoff = 0, h->e64.e_shnum = 0, h->e64.e_shstrndx = 0;
	else if (cls == ELFCLASS64)
		h->e64.e_phoff = 0, h->e64.e_phnum = 0;
	else if (sections)
		h->e32.e_shoff = 0, h->e32.e_shnum = 0, h->e32.e_shstrndx = 0;
	else
		h->e32.e_phoff = 0, h->e32.e_phnum = 0;
}

/*
 * Reads the ELF header and the header tables into the image. A table
 * that is insane or over its cap is left out, and the header written to
 * the image says it is absent, so libelf never sizes anything by it.
 */
static bool read_headers(struct pl_elf *e)
{
	struct loader *ld = e->ld;
	size_t ehlen = file_size_of(ld, ELF_T_EHDR);
	uint8_t raw[sizeof(Elf64_Ehdr)];
	union ehdr h;
	struct layout l;

	if (source_read(&ld->src, 0, raw, ehlen) != ehlen ||
	    !xlate(ld, ELF_T_EHDR, &h, raw, ehlen, true))
		return false;
	layout_of(ld, &h, &l);
	read_extended_counts(ld, &l);
	if (!table_ok(e, l.shoff, l.shnum, l.shentsize, file_size_of(ld, ELF_T_SHDR),
		      PL_ELF_MAX_SECTIONS, "section header table") ||
	    !read_island(ld, l.shoff, l.shnum * l.shentsize))
		drop_table(&h, ld->cls, true);
	if (!table_ok(e, l.phoff, l.phnum, l.phentsize, file_size_of(ld, ELF_T_PHDR),
		      PL_ELF_MAX_PHDRS, "program header table") ||
	    !read_island(ld, l.phoff, l.phnum * l.phentsize))
		drop_table(&h, ld->cls, false);
	return xlate(ld, ELF_T_EHDR, ld->image, &h, ehlen, false);
}

/* The section names, so sections can be found by name (Go's pclntab). */
static void read_section_names(struct pl_elf *e)
{
	struct loader *ld = e->ld;
	size_t ndx;
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(ld->elf, &ndx) != 0 || !(scn = elf_getscn(ld->elf, ndx)) ||
	    !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB ||
	    !in_file(ld->image_size, sh.sh_offset, sh.sh_size))
		return;
	if (sh.sh_size > PL_ELF_MAX_SECTION_NAMES) {
		skip_over(e, "section names", sh.sh_size, PL_ELF_MAX_SECTION_NAMES,
			  "the section names may have");
		return;
	}
	read_island(ld, sh.sh_offset, sh.sh_size);
}

static uint8_t *sparse_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The private image and libelf's handle on it. False: no ELF to read. */
static bool loader_open(struct pl_elf *e)
{
	struct loader *ld = e->ld;
	uint8_t ident[EI_NIDENT];

	if (source_read(&ld->src, 0, ident, EI_NIDENT) != EI_NIDENT ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0)
		return false;
	ld->cls = ident[EI_CLASS];
	ld->encoding = ident[EI_DATA];
	if ((ld->cls != ELFCLASS32 && ld->cls != ELFCLASS64) ||
	    (ld->encoding != ELFDATA2LSB && ld->encoding != ELFDATA2MSB))
		return false;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return false;
	ld->image_size = (size_t)ld->src.size;
	ld->image = sparse_alloc(ld->image_size);
	if (!ld->image || !read_headers(e))
		return false;
	ld->elf = elf_memory((char *)ld->image, ld->image_size);
	if (!ld->elf || elf_kind(ld->elf) != ELF_K_ELF)
		return false;
	if (elf_getshdrnum(ld->elf, &ld->nsections) != 0 || ld->nsections > PL_ELF_MAX_SECTIONS)
		ld->nsections = 0;
	if (elf_getshdrstrndx(ld->elf, &ld->shstrndx) != 0)
		ld->shstrndx = 0;
	read_section_names(e);
	return true;
}

static void loader_free(struct loader *ld)
{
	if (!ld)
		return;
	if (ld->elf)
		elf_end(ld->elf);
	if (ld->image)
		munmap(ld->image, ld->image_size);
	if (ld->src.fd >= 0)
		close(ld->src.fd);
	free(ld->exec);
	free(ld);
}

/* ---- segments ------------------------------------------------------------ */

static bool add_overflows(uint64_t a, uint64_t b)
{
	return a + b < a;
}

static void add_segment(struct pl_elf *e, const GElf_Phdr *ph)
{
	struct segment *s;

	if (ph->p_type != PT_LOAD || ph->p_filesz == 0 || e->nsegs >= PL_ELF_MAX_SEGMENTS)
		return;
	if (add_overflows(ph->p_offset, ph->p_filesz) || add_overflows(ph->p_vaddr, ph->p_memsz) ||
	    add_overflows(ph->p_vaddr, ph->p_filesz))
		return;
	s = &e->segs[e->nsegs++];
	s->offset = ph->p_offset;
	s->filesz = ph->p_filesz;
	s->vaddr = ph->p_vaddr;
	s->memsz = ph->p_memsz > ph->p_filesz ? ph->p_memsz : ph->p_filesz;
}

static void load_segments(struct pl_elf *e)
{
	Elf *elf = e->ld->elf;
	size_t n;

	/* read_headers sized the table: n is at most PL_ELF_MAX_PHDRS. */
	if (elf_getphdrnum(elf, &n) != 0 || n == 0 || n > PL_ELF_MAX_PHDRS)
		return;
	e->segs = calloc(n < PL_ELF_MAX_SEGMENTS ? n : PL_ELF_MAX_SEGMENTS, sizeof(*e->segs));
	if (!e->segs)
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph))
			add_segment(e, &ph);
	}
}

/* End of the loaded segment holding vaddr, or 0 if none does. */
static uint64_t segment_end(const struct pl_elf *e, uint64_t vaddr)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct segment *s = &e->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->memsz)
			return s->vaddr + s->memsz;
	}
	return 0;
}

/* ---- a string table, read whole or through a window ------------------ */

struct strings {
	uint64_t off, size; /* the section, in the file */
	uint8_t *buf;	    /* the whole table, or the window */
	uint64_t at;	    /* table offset of buf[0] */
	size_t len;	    /* bytes in buf */
	bool whole;
};

/* The section a symbol table links to, if it is a string table in the file. */
static bool find_strings(struct pl_elf *e, size_t link, struct strings *st)
{
	struct loader *ld = e->ld;
	Elf_Scn *scn;
	GElf_Shdr sh;

	memset(st, 0, sizeof(*st));
	if (link == 0 || link >= ld->nsections || !(scn = elf_getscn(ld->elf, link)) ||
	    !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB || sh.sh_size == 0 ||
	    !in_file(ld->src.size, sh.sh_offset, sh.sh_size))
		return false;
	if (sh.sh_size > PL_ELF_MAX_STRINGS) {
		skip_over(e, "string table", sh.sh_size, PL_ELF_MAX_STRINGS,
			  "a string table may have");
		return false;
	}
	st->off = sh.sh_offset;
	st->size = sh.sh_size;
	st->whole = st->size <= STR_HOLD_MAX;
	st->buf = malloc(st->whole ? (size_t)st->size : STR_WINDOW + PL_ELF_MAX_NAME + 1);
	if (!st->buf)
		return false;
	if (st->whole) {
		if (!spend_read(e, st->size, "string table"))
			return false;
		st->len = source_read(&ld->src, st->off, st->buf, (size_t)st->size);
	}
	return true;
}

/* Makes table bytes [pos, pos + want) present in buf, as far as the table goes. */
static bool strings_cover(struct pl_elf *e, struct strings *st, uint64_t pos, uint64_t want)
{
	uint64_t end = pos + want < st->size ? pos + want : st->size;
	size_t len;

	if (st->whole || (pos >= st->at && end <= st->at + st->len))
		return true;
	len = STR_WINDOW + PL_ELF_MAX_NAME + 1;
	if (len > st->size - pos)
		len = (size_t)(st->size - pos);
	if (!spend_read(e, len, "string table"))
		return false;
	st->at = pos;
	st->len = source_read(&e->ld->src, st->off + pos, st->buf, len);
	return true;
}

/* A name: NUL-ended within the table, or cut at the cap. NULL if bad or empty. */
static const char *table_string(struct pl_elf *e, struct strings *st, uint64_t off, uint16_t *len)
{
	const char *s, *nul;
	size_t avail;

	if (off >= st->size || !strings_cover(e, st, off, PL_ELF_MAX_NAME + 1))
		return NULL;
	if (off < st->at || off - st->at >= st->len)
		return NULL;
	s = (const char *)st->buf + (off - st->at);
	avail = st->len - (size_t)(off - st->at);
	nul = memchr(s, '\0', avail < PL_ELF_MAX_NAME ? avail : PL_ELF_MAX_NAME);
	if (nul)
		*len = (uint16_t)(nul - s);
	else if (avail > PL_ELF_MAX_NAME)
		*len = PL_ELF_MAX_NAME;
	else
		return NULL; /* runs off the end of the table */
	return *len ? s : NULL;
}

/* ---- symbol tables --------------------------------------------------- */

static uint8_t binding_rank(unsigned char bind)
{
	switch (bind) {
	case STB_GLOBAL:
	case STB_GNU_UNIQUE:
		return 0;
	case STB_WEAK:
		return 1;
	default:
		return 2;
	}
}

/*
 * Functions, and sized untyped symbols in code (hand-written assembly
 * often lacks .type). Zero-size untyped ones are labels or ARM mapping
 * symbols ($x, $d) and would only shadow real functions.
 */
static bool is_code_symbol(const GElf_Sym *s, const struct loader *ld)
{
	switch (GELF_ST_TYPE(s->st_info)) {
	case STT_FUNC:
	case STT_GNU_IFUNC:
		return s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_ABS;
	case STT_NOTYPE:
		return s->st_size > 0 && s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE &&
		       s->st_shndx < ld->nsections && ld->exec[s->st_shndx];
	default:
		return false;
	}
}

/* Appends a NUL-ended copy to the names; returns its offset, or -1 past the cap. */
static int64_t names_add(struct pl_elf *e, const char *s, size_t len)
{
	size_t need = e->names_len + len + 1;
	int64_t off = (int64_t)e->names_len;

	if (need > PL_ELF_MAX_NAME_BYTES)
		return -1;
	if (need > e->ld->names_cap) {
		size_t ncap = e->ld->names_cap ? e->ld->names_cap * 2 : 4096;
		char *nbuf;

		while (ncap < need)
			ncap *= 2;
		nbuf = realloc(e->names, ncap);
		if (!nbuf)
			return -1;
		e->names = nbuf;
		e->ld->names_cap = ncap;
	}
	memcpy(e->names + e->names_len, s, len);
	e->names[e->names_len + len] = '\0';
	e->names_len = need;
	return off;
}

struct collect {
	size_t cap;
	bool full; /* a cap was hit: the rest of every table is left out */
};

static bool append_symbol(struct pl_elf *e, struct collect *c, const struct symbol *sym)
{
	if (e->nsyms == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		struct symbol *nv;

		if (ncap > PL_ELF_MAX_SYMBOLS)
			ncap = PL_ELF_MAX_SYMBOLS;
		nv = realloc(e->syms, ncap * sizeof(*nv));
		if (!nv)
			return false;
		e->syms = nv;
		c->cap = ncap;
	}
	e->syms[e->nsyms++] = *sym;
	return true;
}

/* False once a cap is reached: nothing more is collected. */
static bool consider_symbol(struct pl_elf *e, struct collect *c, const GElf_Sym *s,
			    struct strings *st)
{
	struct symbol sym = {0};
	const char *name;
	int64_t off;

	if (!is_code_symbol(s, e->ld))
		return true;
	name = table_string(e, st, s->st_name, &sym.name_len);
	if (!name || name[0] == '$')
		return true;
	if (e->nsyms >= PL_ELF_MAX_SYMBOLS) {
		skip(e, 0, "symbols past the %u a binary may have", PL_ELF_MAX_SYMBOLS);
		return false;
	}
	off = names_add(e, name, sym.name_len);
	if (off < 0) {
		skip(e, 0, "names past the %uM a binary may have", PL_ELF_MAX_NAME_BYTES >> 20);
		return false;
	}
	sym.start = s->st_value;
	sym.end = s->st_size;
	sym.name = (uint32_t)off;
	sym.rank = binding_rank(GELF_ST_BIND(s->st_info));
	return append_symbol(e, c, &sym);
}

static void to_gelf_sym(const struct loader *ld, const void *native, size_t i, GElf_Sym *out)
{
	if (ld->cls == ELFCLASS64) {
		*out = ((const Elf64_Sym *)native)[i];
		return;
	}
	const Elf32_Sym *s = &((const Elf32_Sym *)native)[i];

	out->st_name = s->st_name;
	out->st_info = s->st_info;
	out->st_other = s->st_other;
	out->st_shndx = s->st_shndx;
	out->st_value = s->st_value;
	out->st_size = s->st_size;
}

/* Gets each window of converted entries (the first has index first); false stops. */
typedef bool (*window_fn)(struct pl_elf *e, void *ctx, const void *native, size_t count,
			  uint64_t first);

/*
 * A table's entries of one type, SYM_WINDOW at a time, read raw and
 * converted by libelf through two small buffers (for symbols and
 * relocations, the memory form is as large as the file form).
 */
static void stream_table(struct pl_elf *e, const GElf_Shdr *sh, Elf_Type type, window_fn fn,
			 void *ctx)
{
	size_t entsize = file_size_of(e->ld, type);
	uint64_t n = entsize ? sh->sh_size / entsize : 0;
	uint8_t *raw = malloc(SYM_WINDOW * entsize);
	void *native = malloc(SYM_WINDOW * entsize);

	for (uint64_t i = 0; raw && native && i < n; i += SYM_WINDOW) {
		size_t count = n - i < SYM_WINDOW ? (size_t)(n - i) : SYM_WINDOW;
		size_t got =
		    source_read(&e->ld->src, sh->sh_offset + i * entsize, raw, count * entsize);

		if (got != count * entsize || !xlate(e->ld, type, native, raw, got, true) ||
		    !fn(e, ctx, native, count, i))
			break;
	}
	free(raw);
	free(native);
}

struct symbols_pass {
	struct collect *c;
	struct strings *st;
};

static bool consider_window(struct pl_elf *e, void *ctx, const void *native, size_t count,
			    uint64_t first)
{
	struct symbols_pass *pass = ctx;

	/* Entry 0 of a table is the reserved null symbol. */
	for (size_t i = first == 0 ? 1 : 0; i < count; i++) {
		GElf_Sym s;

		to_gelf_sym(e->ld, native, i, &s);
		if (!consider_symbol(e, pass->c, &s, pass->st)) {
			pass->c->full = true;
			return false;
		}
	}
	return true;
}

static void stream_symbols(struct pl_elf *e, struct collect *c, const GElf_Shdr *sh,
			   struct strings *st)
{
	struct symbols_pass pass = {c, st};

	stream_table(e, sh, ELF_T_SYM, consider_window, &pass);
}

static void collect_table(struct pl_elf *e, struct collect *c, const GElf_Shdr *sh, size_t ndx)
{
	struct strings st;
	char what[48];

	if (sh->sh_entsize != file_size_of(e->ld, ELF_T_SYM) ||
	    !in_file(e->ld->src.size, sh->sh_offset, sh->sh_size))
		return;
	snprintf(what, sizeof(what), "symbol table [%zu]", ndx);
	if (sh->sh_size > PL_ELF_MAX_TABLE) {
		skip_over(e, what, sh->sh_size, PL_ELF_MAX_TABLE, "a table may have");
		return;
	}
	if (!find_strings(e, sh->sh_link, &st)) {
		free(st.buf);
		return;
	}
	if (spend_read(e, sh->sh_size, what))
		stream_symbols(e, c, sh, &st);
	free(st.buf);
}

/* Marks executable sections, so untyped symbols can be judged. */
static bool map_sections(struct loader *ld)
{
	Elf_Scn *scn = NULL;

	ld->exec = calloc(ld->nsections ? ld->nsections : 1, sizeof(*ld->exec));
	if (!ld->exec)
		return false;
	while ((scn = elf_nextscn(ld->elf, scn)) != NULL) {
		size_t ndx = elf_ndxscn(scn);
		GElf_Shdr sh;

		if (ndx < ld->nsections && gelf_getshdr(scn, &sh))
			ld->exec[ndx] = (sh.sh_flags & SHF_EXECINSTR) != 0;
	}
	return true;
}

static void collect_symbols(struct pl_elf *e)
{
	struct loader *ld = e->ld;
	struct collect c = {0};
	Elf_Scn *scn = NULL;

	/* A binary with program headers only simply has no symbols here. */
	if (ld->nsections == 0 || !map_sections(ld))
		return;
	while ((scn = elf_nextscn(ld->elf, scn)) != NULL && !c.full) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			collect_table(e, &c, &sh, elf_ndxscn(scn));
	}
}

/* ---- merging aliases into a sorted table -------------------------------- */

static size_t leading_underscores(const char *name, size_t len)
{
	size_t n = 0;

	while (n < len && name[n] == '_')
		n++;
	return n;
}

/* qsort has no context argument: the names of the table being sorted. */
static const char *sorting_names;

/*
 * By address; at one address the best name first: global over weak over
 * local, sized over unsized, then the plainest ("malloc" before
 * "__libc_malloc"), then the shortest, then alphabetical so the choice
 * never depends on table order.
 */
static int symbol_order(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;
	const char *nx = sorting_names + x->name, *ny = sorting_names + y->name;
	size_t ux, uy;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if ((x->end == 0) != (y->end == 0))
		return x->end ? -1 : 1;
	ux = leading_underscores(nx, x->name_len);
	uy = leading_underscores(ny, y->name_len);
	if (ux != uy)
		return ux < uy ? -1 : 1;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return memcmp(nx, ny, x->name_len);
}

/* A sized symbol ends where it says; an unsized one at the next symbol. */
static uint64_t symbol_end(const struct pl_elf *e, uint64_t addr, uint64_t size,
			   const uint64_t *next_addr)
{
	uint64_t seg_end;

	if (size)
		return add_overflows(addr, size) ? UINT64_MAX : addr + size;
	seg_end = segment_end(e, addr);
	if (next_addr && (!seg_end || *next_addr < seg_end))
		return *next_addr;
	return seg_end ? seg_end : addr + 1;
}

/* Aliases made the table shorter than the candidate list it was sized for. */
static void shrink_table(struct pl_elf *e)
{
	struct symbol *v;
	char *names;

	if (e->nsyms == 0) {
		free(e->syms);
		e->syms = NULL;
		return;
	}
	v = realloc(e->syms, e->nsyms * sizeof(*v));
	if (v)
		e->syms = v;
	names = realloc(e->names, e->names_len ? e->names_len : 1);
	if (names)
		e->names = names;
}

/* Sorts the candidates, then merges each address's aliases in place. */
static void build_table(struct pl_elf *e)
{
	size_t i, j, w = 0, n = e->nsyms;

	if (n == 0)
		return;
	sorting_names = e->names;
	qsort(e->syms, n, sizeof(*e->syms), symbol_order);
	for (i = 0; i < n; i = j) {
		struct symbol best = e->syms[i];
		uint64_t size = 0;

		for (j = i; j < n && e->syms[j].start == best.start; j++)
			size = e->syms[j].end > size ? e->syms[j].end : size;
		best.end = symbol_end(e, best.start, size, j < n ? &e->syms[j].start : NULL);
		e->syms[w++] = best;
	}
	e->nsyms = w;
	shrink_table(e);
}

/* ---- the object ------------------------------------------------------- */

static void load(struct pl_elf *e)
{
	if (!loader_open(e))
		return;
	load_segments(e);
	collect_symbols(e);
	build_table(e);
}

static struct pl_elf *new_object(int fd, const uint8_t *mem, uint64_t size)
{
	struct pl_elf *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->ld = calloc(1, sizeof(*e->ld));
	if (!e->ld) {
		free(e);
		return NULL;
	}
	e->ld->src = (struct source){.fd = fd, .mem = mem, .size = size};
	e->ld->read_left = PL_ELF_MAX_READ;
	return e;
}

struct pl_elf *pl_elf_from_buffer(const void *image, size_t size)
{
	struct pl_elf *e = new_object(-1, image, size);

	if (!e)
		return NULL;
	e->view = image;
	e->view_size = size;
	load(e);
	return e;
}

struct pl_elf *pl_elf_from_memory(const void *image, size_t size)
{
	void *copy = malloc(size ? size : 1);
	struct pl_elf *e;

	if (!copy)
		return NULL;
	if (size)
		memcpy(copy, image, size);
	e = pl_elf_from_buffer(copy, size);
	if (!e) {
		free(copy);
		return NULL;
	}
	e->view_owned = copy;
	return e;
}

static bool starts_like_elf(int fd)
{
	struct source s = {.fd = fd, .size = SELFMAG};
	uint8_t magic[SELFMAG];

	return source_read(&s, 0, magic, SELFMAG) == SELFMAG && !memcmp(magic, ELFMAG, SELFMAG);
}

/* The read-only view; NULL if it cannot be mapped or guarded. */
static void map_view(struct pl_elf *e, int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

	if (p == MAP_FAILED)
		return;
	if (!guard_add(p, size)) {
		munmap(p, size);
		return;
	}
	e->view = p;
	e->view_size = size;
	e->view_mapped = true;
}

struct pl_elf *pl_elf_open_fd(int fd)
{
	struct pl_elf *e;
	struct stat st;
	int own;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < SELFMAG)
		return NULL;
	/* Not-ELF files (data, fonts, locale archives) cost one small read. */
	if (!starts_like_elf(fd))
		return NULL;
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return NULL;
	e = new_object(own, NULL, (uint64_t)st.st_size);
	if (!e) {
		close(own);
		return NULL;
	}
	if ((uint64_t)st.st_size > PL_ELF_MAX_FILE) {
		skip_over(e, "the file", (uint64_t)st.st_size, PL_ELF_MAX_FILE,
			  "a binary may have");
		return e;
	}
	map_view(e, own, (size_t)st.st_size);
	load(e);
	return e;
}

struct pl_elf *pl_elf_open_path(const char *path)
{
	struct pl_elf *e;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	e = pl_elf_open_fd(fd);
	close(fd);
	return e;
}

void pl_elf_end_load(struct pl_elf *e)
{
	if (!e || !e->ld)
		return;
	loader_free(e->ld);
	e->ld = NULL;
	/* What loading read of the view goes back; later reads page it in again. */
	if (e->view_mapped)
		madvise((void *)e->view, e->view_size, MADV_DONTNEED);
}

const uint8_t *pl_elf_image(const struct pl_elf *e, size_t *size)
{
	*size = e->view ? e->view_size : 0;
	return e->view;
}

void pl_elf_drop_image(struct pl_elf *e)
{
	if (e->view_mapped) {
		guard_remove(e->view);
		munmap((void *)e->view, e->view_size);
	}
	free(e->view_owned);
	e->view_owned = NULL;
	e->view = NULL;
	e->view_size = 0;
	e->view_mapped = false;
}

/* ---- the handle, for other parsers of the file, while loading -------- */

static Elf *loading_elf(const struct pl_elf *e)
{
	return e && e->ld ? e->ld->elf : NULL;
}

bool pl_elf_info(const struct pl_elf *e, struct pl_elf_info *out)
{
	GElf_Ehdr eh;
	Elf *elf = loading_elf(e);

	if (!elf || !gelf_getehdr(elf, &eh))
		return false;
	out->is64 = e->ld->cls == ELFCLASS64;
	out->big_endian = e->ld->encoding == ELFDATA2MSB;
	out->machine = eh.e_machine;
	return true;
}

bool pl_elf_section(const struct pl_elf *e, size_t i, struct pl_elf_section *out)
{
	Elf *elf = loading_elf(e);
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (!elf || i >= e->ld->nsections || !(scn = elf_getscn(elf, i)) || !gelf_getshdr(scn, &sh))
		return false;
	*out = (struct pl_elf_section){.type = sh.sh_type,
				       .link = sh.sh_link,
				       .flags = sh.sh_flags,
				       .addr = sh.sh_addr,
				       .offset = sh.sh_offset,
				       .size = sh.sh_size,
				       .entsize = sh.sh_entsize};
	out->name = e->ld->shstrndx ? elf_strptr(elf, e->ld->shstrndx, sh.sh_name) : NULL;
	if (out->name && !*out->name)
		out->name = NULL;
	return true;
}

bool pl_elf_program_header(const struct pl_elf *e, size_t i, struct pl_elf_phdr *out)
{
	Elf *elf = loading_elf(e);
	GElf_Phdr ph;
	size_t n;

	if (!elf || elf_getphdrnum(elf, &n) != 0 || i >= n || i >= PL_ELF_MAX_PHDRS ||
	    !gelf_getphdr(elf, (int)i, &ph))
		return false;
	*out = (struct pl_elf_phdr){ph.p_type,	ph.p_flags,  ph.p_offset,
				    ph.p_vaddr, ph.p_filesz, ph.p_memsz};
	return true;
}

size_t pl_elf_read(const struct pl_elf *e, uint64_t off, void *buf, size_t len)
{
	return e && e->ld ? source_read(&e->ld->src, off, buf, len) : 0;
}

/* Section i's header, if it is a table of type entries wholly in the file. */
static bool table_section(const struct pl_elf *e, size_t i, Elf_Type type, GElf_Shdr *sh)
{
	Elf *elf = loading_elf(e);
	Elf_Scn *scn;

	return elf && i < e->ld->nsections && (scn = elf_getscn(elf, i)) && gelf_getshdr(scn, sh) &&
	       sh->sh_entsize == file_size_of(e->ld, type) &&
	       in_file(e->ld->src.size, sh->sh_offset, sh->sh_size);
}

struct rela_pass {
	pl_elf_rela_fn fn;
	void *ctx;
};

static bool rela_window(struct pl_elf *e, void *ctx, const void *native, size_t count,
			uint64_t first)
{
	struct rela_pass *pass = ctx;

	(void)first;
	for (size_t i = 0; i < count; i++) {
		uint64_t off, add;
		uint32_t type;

		if (e->ld->cls == ELFCLASS64) {
			const Elf64_Rela *r = &((const Elf64_Rela *)native)[i];

			off = r->r_offset;
			type = (uint32_t)ELF64_R_TYPE(r->r_info);
			add = (uint64_t)r->r_addend;
		} else {
			const Elf32_Rela *r = &((const Elf32_Rela *)native)[i];

			off = r->r_offset;
			type = ELF32_R_TYPE(r->r_info);
			add = (uint32_t)r->r_addend;
		}
		if (!pass->fn(pass->ctx, off, type, add))
			return false;
	}
	return true;
}

void pl_elf_each_rela(struct pl_elf *e, size_t i, pl_elf_rela_fn fn, void *ctx)
{
	struct rela_pass pass = {fn, ctx};
	GElf_Shdr sh;

	if (table_section(e, i, ELF_T_RELA, &sh) && sh.sh_type == SHT_RELA)
		stream_table(e, &sh, ELF_T_RELA, rela_window, &pass);
}

struct find_pass {
	struct strings *st;
	const char *name;
	size_t len;
	uint64_t *value;
	bool found;
};

static bool find_window(struct pl_elf *e, void *ctx, const void *native, size_t count,
			uint64_t first)
{
	struct find_pass *pass = ctx;

	(void)first;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym s;
		uint16_t len;
		const char *name;

		to_gelf_sym(e->ld, native, i, &s);
		name = table_string(e, pass->st, s.st_name, &len);
		if (name && len == pass->len && !memcmp(name, pass->name, len)) {
			*pass->value = s.st_value;
			pass->found = true;
			return false;
		}
	}
	return true;
}

bool pl_elf_find_symbol(struct pl_elf *e, size_t i, const char *name, uint64_t *value)
{
	struct strings st = {0};
	struct find_pass pass = {&st, name, strlen(name), value, false};
	GElf_Shdr sh;

	if (!table_section(e, i, ELF_T_SYM, &sh) ||
	    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || pass.len > PL_ELF_MAX_NAME)
		return false;
	if (find_strings(e, sh.sh_link, &st))
		stream_table(e, &sh, ELF_T_SYM, find_window, &pass);
	free(st.buf);
	return pass.found;
}

const struct pl_elf_skips *pl_elf_skips(const struct pl_elf *e)
{
	return &e->skips;
}

size_t pl_elf_kept_bytes(const struct pl_elf *e)
{
	return e->nsyms * sizeof(*e->syms) + e->names_len + e->nsegs * sizeof(*e->segs);
}

size_t pl_elf_symbol_count(const struct pl_elf *e)
{
	return e->nsyms;
}

size_t pl_elf_segment_count(const struct pl_elf *e)
{
	return e->nsegs;
}

bool pl_elf_offset_to_vaddr(const struct pl_elf *e, uint64_t file_off, uint64_t *vaddr)
{
	for (size_t i = 0; i < e->nsegs; i++) {
		const struct segment *s = &e->segs[i];

		if (file_off >= s->offset && file_off - s->offset < s->filesz) {
			*vaddr = file_off - s->offset + s->vaddr;
			return true;
		}
	}
	return false;
}

const char *pl_elf_lookup(const struct pl_elf *e, uint64_t vaddr, uint64_t *start)
{
	size_t lo = 0, hi = e->nsyms;
	const struct symbol *s;

	/* The last symbol starting at or below vaddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->syms[mid].start <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	s = &e->syms[lo - 1];
	if (vaddr >= s->end)
		return NULL;
	if (start)
		*start = s->start;
	return e->names + s->name;
}

void pl_elf_close(struct pl_elf *e)
{
	if (!e)
		return;
	loader_free(e->ld);
	pl_elf_drop_image(e);
	free(e->syms);
	free(e->names);
	free(e->segs);
	free(e);
}

/* ---- for readers of a Go binary's data (user/goheap) ---------------------- */

bool pl_elf_segment(const struct pl_elf *e, size_t i, struct pl_elf_segment *out)
{
	if (i >= e->nsegs)
		return false;
	out->offset = e->segs[i].offset;
	out->filesz = e->segs[i].filesz;
	out->vaddr = e->segs[i].vaddr;
	out->memsz = e->segs[i].memsz;
	return true;
}

bool pl_elf_object(struct pl_elf *e, const char *name, uint64_t *value)
{
	struct pl_elf_section sec;

	/* .symtab through the loader's streamed, budgeted reads: nothing copied. */
	for (size_t i = 1; pl_elf_section(e, i, &sec); i++)
		if (sec.type == SHT_SYMTAB && pl_elf_find_symbol(e, i, name, value))
			return true;
	return false;
}
