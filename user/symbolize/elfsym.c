// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "symbolize/elfsym.h"

/* Caps on counts a hostile header could make huge. */
#define MAX_PHDRS (1u << 16)
#define MAX_SECTIONS (1u << 20)

/* A function: [start, end) in link-time addresses. */
struct symbol {
	uint64_t start;
	uint64_t end;
	uint32_t name; /* offset in names */
};

struct segment {
	uint64_t offset;
	uint64_t filesz;
	uint64_t vaddr;
	uint64_t memsz;
};

struct pl_elf {
	uint8_t *image; /* the file's bytes, from image_alloc; NULL once dropped */
	size_t image_size;
	size_t image_alloc;
	struct symbol *syms;
	size_t nsyms;
	char *names;
	struct segment *segs;
	size_t nsegs;
};

/* A symbol as found in a table, before aliases at one address merge. */
struct candidate {
	uint64_t addr;
	uint64_t size;
	const char *name; /* in libelf's view of a string table; not NUL-ended */
	uint32_t name_len;
	uint8_t rank; /* binding: lower wins when names share an address */
};

struct candidates {
	struct candidate *v;
	size_t n, cap;
};

/* What one table needs to know about the file's sections. */
struct sections {
	size_t count;
	bool *exec; /* per index: SHF_EXECINSTR */
};

struct name_pool {
	char *buf;
	size_t len, cap;
};

/* ---- the in-memory copy ------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__)
#define PL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PL_ASAN 1
#endif
#endif

#ifdef PL_ASAN
/* Heap memory under AddressSanitizer, so a read past the end is caught. */
static uint8_t *image_alloc(size_t size)
{
	return malloc(size ? size : 1);
}

static void image_free(uint8_t *p, size_t alloc)
{
	(void)alloc;
	free(p);
}
#else
/* Own mappings: a dropped copy goes straight back to the kernel. */
static uint8_t *image_alloc(size_t size)
{
	void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void image_free(uint8_t *p, size_t alloc)
{
	if (p)
		munmap(p, alloc ? alloc : 1);
}
#endif

/* Reads up to len bytes at off; returns how many (fewer at end of file). */
static size_t read_at(int fd, uint8_t *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t got = pread(fd, buf + done, len - done, off + (off_t)done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		done += (size_t)got;
	}
	return done;
}

static bool in_image(const struct pl_elf *e, uint64_t off, uint64_t len)
{
	return off <= e->image_size && len <= e->image_size - off;
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

static void load_segments(struct pl_elf *e, Elf *elf, const GElf_Ehdr *eh)
{
	size_t n, entsize = gelf_fsize(elf, ELF_T_PHDR, 1, EV_CURRENT);

	if (elf_getphdrnum(elf, &n) != 0 || n == 0 || n > MAX_PHDRS)
		return;
	/* Checked here as well as in libelf: the table must be in the file. */
	if (!entsize || eh->e_phentsize != entsize ||
	    !in_image(e, eh->e_phoff, (uint64_t)n * entsize))
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

/* ---- symbol tables --------------------------------------------------- */

static int append_candidate(struct candidates *c, const struct candidate *cand)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;
		struct candidate *nv;

		if (ncap > PL_ELF_MAX_SYMBOLS)
			ncap = PL_ELF_MAX_SYMBOLS;
		nv = realloc(c->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		c->v = nv;
		c->cap = ncap;
	}
	c->v[c->n++] = *cand;
	return 0;
}

/* A name from a string table: NUL-ended within it, or cut at the cap. */
static const char *table_string(const Elf_Data *strs, uint64_t off, uint32_t *len)
{
	const char *s, *nul;
	size_t avail;

	if (off >= strs->d_size)
		return NULL;
	s = (const char *)strs->d_buf + off;
	avail = strs->d_size - off;
	nul = memchr(s, '\0', avail < PL_ELF_MAX_NAME ? avail : PL_ELF_MAX_NAME);
	if (nul)
		*len = (uint32_t)(nul - s);
	else if (avail > PL_ELF_MAX_NAME)
		*len = PL_ELF_MAX_NAME;
	else
		return NULL; /* runs off the end of the table */
	return *len ? s : NULL;
}

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
static bool is_code_symbol(const GElf_Sym *s, const struct sections *secs)
{
	switch (GELF_ST_TYPE(s->st_info)) {
	case STT_FUNC:
	case STT_GNU_IFUNC:
		return s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_ABS;
	case STT_NOTYPE:
		return s->st_size > 0 && s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE &&
		       s->st_shndx < secs->count && secs->exec[s->st_shndx];
	default:
		return false;
	}
}

static int consider_symbol(struct candidates *c, const GElf_Sym *s, const Elf_Data *strs,
			   const struct sections *secs)
{
	struct candidate cand;

	if (!is_code_symbol(s, secs))
		return 0;
	cand.name = table_string(strs, s->st_name, &cand.name_len);
	if (!cand.name || cand.name[0] == '$')
		return 0;
	cand.addr = s->st_value;
	cand.size = s->st_size;
	cand.rank = binding_rank(GELF_ST_BIND(s->st_info));
	return append_candidate(c, &cand);
}

/* The string table a symbol table links to, if it is sane. */
static Elf_Data *linked_strings(const struct pl_elf *e, Elf *elf, size_t link,
				const struct sections *secs)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *d;

	if (link == 0 || link >= secs->count)
		return NULL;
	scn = elf_getscn(elf, link);
	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB ||
	    !in_image(e, sh.sh_offset, sh.sh_size))
		return NULL;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size == 0)
		return NULL;
	return d;
}

static void collect_table(const struct pl_elf *e, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
			  const struct sections *secs, struct candidates *c)
{
	size_t entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	Elf_Data *data, *strs;
	size_t n;

	if (!entsize || sh->sh_entsize != entsize || !in_image(e, sh->sh_offset, sh->sh_size))
		return;
	strs = linked_strings(e, elf, sh->sh_link, secs);
	data = strs ? elf_getdata(scn, NULL) : NULL;
	if (!data || !data->d_buf || data->d_type != ELF_T_SYM)
		return;
	n = data->d_size / entsize;
	/* Entry 0 is the reserved null symbol. */
	for (size_t i = 1; i < n && c->n < PL_ELF_MAX_SYMBOLS; i++) {
		GElf_Sym s;

		if (gelf_getsym(data, (int)i, &s) && consider_symbol(c, &s, strs, secs) < 0)
			return;
	}
}

/* Marks executable sections, so untyped symbols can be judged. */
static bool map_sections(Elf *elf, struct sections *secs)
{
	Elf_Scn *scn = NULL;

	secs->exec = calloc(secs->count, sizeof(*secs->exec));
	if (!secs->exec)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		size_t ndx = elf_ndxscn(scn);
		GElf_Shdr sh;

		if (ndx < secs->count && gelf_getshdr(scn, &sh))
			secs->exec[ndx] = (sh.sh_flags & SHF_EXECINSTR) != 0;
	}
	return true;
}

static bool section_table_sane(const struct pl_elf *e, Elf *elf, const GElf_Ehdr *eh, size_t count)
{
	size_t entsize = gelf_fsize(elf, ELF_T_SHDR, 1, EV_CURRENT);

	return count > 0 && count <= MAX_SECTIONS && entsize && eh->e_shentsize == entsize &&
	       in_image(e, eh->e_shoff, (uint64_t)count * entsize);
}

static void collect_candidates(const struct pl_elf *e, Elf *elf, const GElf_Ehdr *eh,
			       struct candidates *c)
{
	struct sections secs = {0};
	Elf_Scn *scn = NULL;

	/* A binary with program headers only simply has no symbols here. */
	if (elf_getshdrnum(elf, &secs.count) != 0 || !section_table_sane(e, elf, eh, secs.count))
		return;
	if (!map_sections(elf, &secs))
		return;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			collect_table(e, elf, scn, &sh, &secs, c);
	}
	free(secs.exec);
}

/* ---- merging aliases into a sorted table -------------------------------- */

static size_t leading_underscores(const struct candidate *c)
{
	size_t n = 0;

	while (n < c->name_len && c->name[n] == '_')
		n++;
	return n;
}

/*
 * By address; at one address the best name first: global over weak over
 * local, sized over unsized, then the plainest ("malloc" before
 * "__libc_malloc"), then the shortest, then alphabetical so the choice
 * never depends on table order.
 */
static int candidate_order(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	size_t ux, uy;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if ((x->size == 0) != (y->size == 0))
		return x->size ? -1 : 1;
	ux = leading_underscores(x);
	uy = leading_underscores(y);
	if (ux != uy)
		return ux < uy ? -1 : 1;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return memcmp(x->name, y->name, x->name_len);
}

/* Appends a NUL-ended copy; returns its offset, or -1 past the cap. */
static int64_t pool_add(struct name_pool *p, const char *s, size_t len)
{
	size_t need = p->len + len + 1;
	int64_t off = (int64_t)p->len;

	if (need > PL_ELF_MAX_NAME_BYTES)
		return -1;
	if (need > p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 4096;
		char *nbuf;

		while (ncap < need)
			ncap *= 2;
		nbuf = realloc(p->buf, ncap);
		if (!nbuf)
			return -1;
		p->buf = nbuf;
		p->cap = ncap;
	}
	memcpy(p->buf + p->len, s, len);
	p->buf[p->len + len] = '\0';
	p->len = need;
	return off;
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

	if (e->nsyms == 0) {
		free(e->syms);
		e->syms = NULL;
		return;
	}
	v = realloc(e->syms, e->nsyms * sizeof(*v));
	if (v)
		e->syms = v;
}

static void build_table(struct pl_elf *e, struct candidates *c)
{
	struct name_pool pool = {0};
	size_t i, j;

	if (c->n == 0)
		return;
	qsort(c->v, c->n, sizeof(*c->v), candidate_order);
	e->syms = malloc(c->n * sizeof(*e->syms));
	if (!e->syms)
		return;
	for (i = 0; i < c->n; i = j) {
		const struct candidate *best = &c->v[i];
		uint64_t size = 0;
		int64_t name;

		for (j = i; j < c->n && c->v[j].addr == best->addr; j++)
			size = c->v[j].size > size ? c->v[j].size : size;
		name = pool_add(&pool, best->name, best->name_len);
		if (name < 0)
			break;
		e->syms[e->nsyms].start = best->addr;
		e->syms[e->nsyms].end =
		    symbol_end(e, best->addr, size, j < c->n ? &c->v[j].addr : NULL);
		e->syms[e->nsyms].name = (uint32_t)name;
		e->nsyms++;
	}
	e->names = pool.buf;
	shrink_table(e);
}

static void load_symbols(struct pl_elf *e, Elf *elf, const GElf_Ehdr *eh)
{
	struct candidates c = {0};

	collect_candidates(e, elf, eh, &c);
	build_table(e, &c);
	free(c.v);
}

/* ---- the object ------------------------------------------------------- */

static void load(struct pl_elf *e)
{
	GElf_Ehdr eh;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	elf = elf_memory((char *)e->image, e->image_size);
	if (!elf)
		return;
	if (elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh)) {
		load_segments(e, elf, &eh);
		load_symbols(e, elf, &eh);
	}
	elf_end(elf);
}

/* Takes the image (from image_alloc) whatever happens. */
static struct pl_elf *from_image(uint8_t *image, size_t size, size_t alloc)
{
	struct pl_elf *e = calloc(1, sizeof(*e));

	if (!e) {
		image_free(image, alloc);
		return NULL;
	}
	e->image = image;
	e->image_size = size;
	e->image_alloc = alloc;
	load(e);
	return e;
}

struct pl_elf *pl_elf_from_memory(const void *image, size_t size)
{
	uint8_t *copy = image_alloc(size);

	if (!copy)
		return NULL;
	if (size)
		memcpy(copy, image, size);
	return from_image(copy, size, size);
}

static bool starts_like_elf(int fd)
{
	uint8_t magic[SELFMAG];

	return read_at(fd, magic, SELFMAG, 0) == SELFMAG && !memcmp(magic, ELFMAG, SELFMAG);
}

struct pl_elf *pl_elf_open_fd(int fd)
{
	struct stat st;
	uint8_t *image;
	size_t size, got;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < SELFMAG ||
	    (uint64_t)st.st_size > PL_ELF_MAX_FILE)
		return NULL;
	/* Not-ELF files (data, fonts, locale archives) cost one small read. */
	if (!starts_like_elf(fd))
		return NULL;
	size = (size_t)st.st_size;
	image = image_alloc(size);
	if (!image)
		return NULL;
	/* The file may shrink under us: keep what was really read. */
	got = read_at(fd, image, size, 0);
	if (got < SELFMAG) {
		image_free(image, size);
		return NULL;
	}
	return from_image(image, got, size);
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

const uint8_t *pl_elf_image(const struct pl_elf *e, size_t *size)
{
	*size = e->image ? e->image_size : 0;
	return e->image;
}

void pl_elf_drop_image(struct pl_elf *e)
{
	image_free(e->image, e->image_alloc);
	e->image = NULL;
	e->image_size = e->image_alloc = 0;
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

static bool object_named(Elf *elf, const GElf_Shdr *sh, const GElf_Sym *s, const char *name)
{
	const char *n;

	if (GELF_ST_TYPE(s->st_info) != STT_OBJECT || s->st_shndx == SHN_UNDEF)
		return false;
	n = elf_strptr(elf, sh->sh_link, s->st_name);
	return n && strcmp(n, name) == 0;
}

static bool find_object(const struct pl_elf *e, Elf *elf, const char *name, uint64_t *value)
{
	Elf_Scn *scn = NULL;
	size_t seen = 0;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Data *data;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize ||
		    !in_image(e, sh.sh_offset, sh.sh_size))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || data->d_type != ELF_T_SYM)
			continue;
		for (size_t i = 1; i < data->d_size / sh.sh_entsize && seen < PL_ELF_MAX_SYMBOLS;
		     i++, seen++) {
			GElf_Sym s;

			if (gelf_getsym(data, (int)i, &s) && object_named(elf, &sh, &s, name)) {
				*value = s.st_value;
				return true;
			}
		}
	}
	return false;
}

bool pl_elf_object(const struct pl_elf *e, const char *name, uint64_t *value)
{
	bool found = false;
	GElf_Ehdr eh;
	Elf *elf;

	if (!e->image || elf_version(EV_CURRENT) == EV_NONE)
		return false;
	elf = elf_memory((char *)e->image, e->image_size);
	if (!elf)
		return false;
	/* Only a section table that lies inside the file is walked. */
	if (elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh)) {
		size_t count;

		if (elf_getshdrnum(elf, &count) == 0 && section_table_sane(e, elf, &eh, count))
			found = find_object(e, elf, name, value);
	}
	elf_end(elf);
	return found;
}
