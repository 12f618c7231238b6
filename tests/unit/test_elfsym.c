// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for user/symbolize/elfsym.c. Real binaries: this test itself (PIE, built
 * with -g so it has .symtab), libc (stripped: .dynsym only), /bin/true cut
 * short. Crafted ones: small ELF images built here, to pin down alias,
 * size and filtering rules and to feed broken headers.
 */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbolize/elfsym.h"
#include "symbolize/procmaps.h"

/* ---- functions of this binary to look up --------------------------------- */

__attribute__((noinline, used)) int elfsym_marker_global(int x)
{
	return x * 7 + 3;
}

__attribute__((noinline, used)) static int elfsym_marker_static(int x)
{
	return x * 5 + 1;
}

/* Volatile pointers keep the compiler from folding the calls away. */
int (*volatile marker_global_ptr)(int) = elfsym_marker_global;
int (*volatile marker_static_ptr)(int) = elfsym_marker_static;

/* ---- helpers ----------------------------------------------------------- */

/*
 * A function of libc itself: RTLD_DEFAULT could find a sanitizer's
 * interceptor of the same name first.
 */
static void *libc_function(const char *name)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);

	assert_non_null(libc);
	return dlsym(libc, name);
}

/* Link-time address of a live address of this process, via its maps. */
static bool live_to_vaddr(const struct pl_elf *e, const void *p, uint64_t *vaddr)
{
	uint64_t addr = (uint64_t)(uintptr_t)p;
	const struct pl_map *m;
	struct pl_maps maps;
	bool ok = false;

	if (pl_maps_read(getpid(), &maps) < 0)
		return false;
	m = pl_maps_find(&maps, addr);
	if (m)
		ok = pl_elf_offset_to_vaddr(e, addr - m->start + m->offset, vaddr);
	pl_maps_free(&maps);
	return ok;
}

static void *read_file(const char *path, size_t *size)
{
	struct stat st;
	void *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) != NULL &&
	    read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	*size = (size_t)st.st_size;
	close(fd);
	return buf;
}

/* Writes len bytes to a new temporary file; its path goes to path. */
static void write_temp(const void *data, size_t len, char path[64])
{
	int fd;

	strcpy(path, "/tmp/pl-elfsym-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* ---- crafted images ---------------------------------------------------- */

#define BASE 0x10000ull
#define TEXT_OFF 0x200u
#define TEXT_SIZE 0x1000u
#define DATA_OFF 0x1200u
#define DATA_SIZE 0x100u
#define SYMTAB_OFF 0x1300u
#define TEXT_ADDR (BASE + TEXT_OFF)
#define DATA_ADDR (BASE + DATA_OFF)
#define SEG_END (BASE + DATA_OFF + DATA_SIZE + 0x100) /* memsz includes bss */

enum { SEC_TEXT = 1, SEC_DATA = 2, SEC_SYMTAB = 3, SEC_STRTAB = 4, SEC_SHSTRTAB = 5, NSEC = 6 };

struct test_sym {
	const char *name; /* NULL: st_name is name_off */
	uint64_t value;
	uint64_t size;
	unsigned char type, bind;
	uint16_t shndx;
	uint32_t name_off;
};

static const char shstrtab[] = "\0.text\0.data\0.symtab\0.strtab\0.shstrtab";

struct image {
	uint8_t *buf;
	size_t size;
	Elf64_Ehdr *eh;
	Elf64_Shdr *sh;
};

static void fill_header(struct image *im, size_t shoff)
{
	Elf64_Ehdr *eh = im->eh = (Elf64_Ehdr *)im->buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(im->buf + sizeof(*eh));

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_shoff = shoff;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = NSEC;
	eh->e_shstrndx = SEC_SHSTRTAB;
	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_X;
	ph->p_vaddr = ph->p_paddr = BASE;
	ph->p_filesz = DATA_OFF + DATA_SIZE;
	ph->p_memsz = SEG_END - BASE;
	ph->p_align = 0x1000;
}

static void fill_section(struct image *im, int i, uint32_t name, uint32_t type, uint64_t flags,
			 uint64_t off, uint64_t size)
{
	Elf64_Shdr *s = &im->sh[i];

	s->sh_name = name;
	s->sh_type = type;
	s->sh_flags = flags;
	s->sh_addr = flags & SHF_ALLOC ? BASE + off : 0;
	s->sh_offset = off;
	s->sh_size = size;
}

static void fill_sections(struct image *im, size_t nsyms, size_t strtab_off, size_t strtab_size,
			  size_t shstr_off)
{
	fill_section(im, SEC_TEXT, 1, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, TEXT_OFF, TEXT_SIZE);
	fill_section(im, SEC_DATA, 7, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, DATA_OFF, DATA_SIZE);
	fill_section(im, SEC_SYMTAB, 13, SHT_SYMTAB, 0, SYMTAB_OFF,
		     (nsyms + 1) * sizeof(Elf64_Sym));
	im->sh[SEC_SYMTAB].sh_link = SEC_STRTAB;
	im->sh[SEC_SYMTAB].sh_info = 1;
	im->sh[SEC_SYMTAB].sh_entsize = sizeof(Elf64_Sym);
	im->sh[SEC_SYMTAB].sh_addralign = 8;
	fill_section(im, SEC_STRTAB, 21, SHT_STRTAB, 0, strtab_off, strtab_size);
	fill_section(im, SEC_SHSTRTAB, 29, SHT_STRTAB, 0, shstr_off, sizeof(shstrtab));
}

static size_t fill_symbols(struct image *im, const struct test_sym *syms, size_t n, size_t str_off)
{
	Elf64_Sym *out = (Elf64_Sym *)(im->buf + SYMTAB_OFF);
	size_t str_len = 1;

	for (size_t i = 0; i < n; i++) {
		Elf64_Sym *s = &out[i + 1];

		s->st_name = syms[i].name_off;
		if (syms[i].name) {
			s->st_name = (uint32_t)str_len;
			strcpy((char *)im->buf + str_off + str_len, syms[i].name);
			str_len += strlen(syms[i].name) + 1;
		}
		s->st_value = syms[i].value;
		s->st_size = syms[i].size;
		s->st_info = ELF64_ST_INFO(syms[i].bind, syms[i].type);
		s->st_shndx = syms[i].shndx;
	}
	return str_len;
}

/* An x86-64 ELF image: one PT_LOAD, .text, .data and a .symtab of syms. */
static struct image craft(const struct test_sym *syms, size_t n)
{
	size_t names = 1, str_off = SYMTAB_OFF + (n + 1) * sizeof(Elf64_Sym), str_len, shstr_off,
	       shoff;
	struct image im;

	for (size_t i = 0; i < n; i++)
		names += syms[i].name ? strlen(syms[i].name) + 1 : 0;
	shstr_off = str_off + names;
	shoff = (shstr_off + sizeof(shstrtab) + 7) & ~(size_t)7;
	im.size = shoff + NSEC * sizeof(Elf64_Shdr);
	im.buf = calloc(1, im.size);
	assert_non_null(im.buf);
	im.sh = (Elf64_Shdr *)(im.buf + shoff);
	fill_header(&im, shoff);
	str_len = fill_symbols(&im, syms, n, str_off);
	memcpy(im.buf + shstr_off, shstrtab, sizeof(shstrtab));
	fill_sections(&im, n, str_off, str_len, shstr_off);
	return im;
}

static struct pl_elf *load_image(struct image *im)
{
	struct pl_elf *e = pl_elf_from_memory(im->buf, im->size);

	free(im->buf);
	im->buf = NULL;
	assert_non_null(e);
	return e;
}

static struct pl_elf *load_crafted(const struct test_sym *syms, size_t n)
{
	struct image im = craft(syms, n);

	return load_image(&im);
}

/* The fields of a function in .text, inside braces at the use site. */
#define FUNC(name, off, size, bind) name, TEXT_ADDR + (off), size, STT_FUNC, bind, SEC_TEXT, 0
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void assert_lookup(const struct pl_elf *e, uint64_t vaddr, const char *name, uint64_t start)
{
	uint64_t got = 0;
	const char *found = pl_elf_lookup(e, vaddr, &got);

	if (!name) {
		if (found)
			fail_msg("%#llx: expected nothing, got %s", (unsigned long long)vaddr,
				 found);
		return;
	}
	if (!found)
		fail_msg("%#llx: expected %s, got nothing", (unsigned long long)vaddr, name);
	assert_string_equal(found, name);
	assert_int_equal(got, start);
}

/* ---- this binary ----------------------------------------------------- */

static void test_self_global_and_static(void **state)
{
	struct pl_elf *e = pl_elf_open_path("/proc/self/exe");
	uint64_t v;

	(void)state;
	assert_non_null(e);
	assert_true(pl_elf_symbol_count(e) > 10);
	assert_true(live_to_vaddr(e, (void *)marker_global_ptr, &v));
	assert_lookup(e, v, "elfsym_marker_global", v);
	assert_lookup(e, v + 3, "elfsym_marker_global", v);
	assert_true(live_to_vaddr(e, (void *)marker_static_ptr, &v));
	assert_lookup(e, v, "elfsym_marker_static", v);
	assert_lookup(e, v + 1, "elfsym_marker_static", v);
	pl_elf_close(e);
}

/* A PIE is linked near 0 and loaded high: the segments bridge the two. */
static void test_self_is_pie_and_translated(void **state)
{
	struct pl_elf *e = pl_elf_open_path("/proc/self/exe");
	const Elf64_Ehdr *eh;
	size_t size;
	uint64_t v;

	(void)state;
	assert_non_null(e);
	eh = (const Elf64_Ehdr *)pl_elf_image(e, &size);
	assert_non_null(eh);
	assert_true(size > sizeof(*eh));
	assert_int_equal(eh->e_type, ET_DYN);
	assert_true(pl_elf_segment_count(e) >= 2);
	assert_true(live_to_vaddr(e, (void *)marker_global_ptr, &v));
	assert_true(v != (uint64_t)(uintptr_t)marker_global_ptr);
	pl_elf_close(e);
}

/* ---- libc ---------------------------------------------------------------- */

static void test_libc_malloc(void **state)
{
	void *fn = libc_function("malloc");
	uint64_t v, start = 0;
	const char *name;
	struct pl_elf *e;
	Dl_info info;

	(void)state;
	assert_non_null(fn);
	assert_true(dladdr(fn, &info) != 0);
	assert_non_null(info.dli_fname);
	e = pl_elf_open_path(info.dli_fname);
	assert_non_null(e);
	assert_true(live_to_vaddr(e, fn, &v));
	name = pl_elf_lookup(e, v, &start);
	assert_non_null(name);
	/* Whatever alias we chose, it names the same function dladdr sees. */
	assert_ptr_equal(libc_function(name), fn);
	assert_ptr_equal(info.dli_saddr, fn);
	assert_int_equal(start, v);
	/* malloc and __libc_malloc are both global: the plainer one wins. */
	assert_string_equal(name, "malloc");
	assert_lookup(e, v + 16, name, v);
	pl_elf_close(e);
}

static void test_libc_many_functions(void **state)
{
	static const char *const names[] = {"free",  "calloc", "realloc", "open",  "read",
					    "write", "qsort",  "strtol",  "fopen", "mmap"};
	Dl_info info;
	struct pl_elf *e;

	(void)state;
	assert_true(dladdr(libc_function("free"), &info) != 0);
	e = pl_elf_open_path(info.dli_fname);
	assert_non_null(e);
	for (size_t i = 0; i < COUNT(names); i++) {
		void *fn = libc_function(names[i]);
		uint64_t v, start;
		const char *name;

		assert_non_null(fn);
		assert_true(live_to_vaddr(e, fn, &v));
		name = pl_elf_lookup(e, v, &start);
		assert_non_null(name);
		assert_ptr_equal(libc_function(name), fn);
	}
	pl_elf_close(e);
}

/* ---- broken files ---------------------------------------------------- */

static void test_truncated_true(void **state)
{
	size_t size, cuts[] = {0, 3, 4, 16, 63, 64, 120, 1000, 4096, 0, 0, 0};
	uint8_t *bytes = read_file("/bin/true", &size);
	char path[64];

	(void)state;
	assert_non_null(bytes);
	cuts[9] = size / 2;
	cuts[10] = size - 64;
	cuts[11] = size - 1;
	for (size_t i = 0; i < COUNT(cuts); i++) {
		struct pl_elf *e;

		write_temp(bytes, cuts[i], path);
		e = pl_elf_open_path(path);
		unlink(path);
		if (cuts[i] < SELFMAG) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		assert_int_equal(pl_elf_symbol_count(e), 0);
		assert_null(pl_elf_lookup(e, 0x1000, NULL));
		pl_elf_close(e);
	}
	free(bytes);
}

static void test_truncated_libc_keeps_segments(void **state)
{
	Dl_info info;
	size_t size;
	uint8_t *bytes;
	struct pl_elf *e;
	uint64_t v;

	(void)state;
	assert_true(dladdr(libc_function("free"), &info) != 0);
	bytes = read_file(info.dli_fname, &size);
	assert_non_null(bytes);
	/* Section headers live at the end: without them, no symbols. */
	e = pl_elf_from_memory(bytes, size - 100);
	assert_non_null(e);
	assert_int_equal(pl_elf_symbol_count(e), 0);
	assert_true(pl_elf_segment_count(e) >= 2);
	assert_true(pl_elf_offset_to_vaddr(e, 0x100, &v));
	pl_elf_close(e);
	e = pl_elf_from_memory(bytes, size);
	assert_true(pl_elf_symbol_count(e) > 1000);
	pl_elf_close(e);
	free(bytes);
}

static void test_not_elf(void **state)
{
	static const char text[] = "#!/bin/sh\necho not an ELF file\n";
	char path[64];

	(void)state;
	write_temp(text, sizeof(text) - 1, path);
	assert_null(pl_elf_open_path(path));
	unlink(path);
	assert_null(pl_elf_open_path("/nonexistent/file"));
	assert_null(pl_elf_open_path("/tmp"));
	assert_null(pl_elf_open_path("/dev/null"));
	assert_null(pl_elf_open_fd(-1));
}

/* A FIFO would block a plain open; it is refused without waiting. */
static void test_fifo_refused(void **state)
{
	char path[] = "/tmp/pl-elfsym-fifo-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(pl_elf_open_path(path));
	unlink(path);
}

static void test_memory_not_elf(void **state)
{
	static const uint8_t junk[] = "\x7f"
				      "ELF\x02\x01\x01 and then nonsense follows here";
	struct pl_elf *e;

	(void)state;
	e = pl_elf_from_memory(junk, sizeof(junk));
	assert_non_null(e);
	assert_int_equal(pl_elf_symbol_count(e), 0);
	assert_int_equal(pl_elf_segment_count(e), 0);
	pl_elf_close(e);
	e = pl_elf_from_memory(junk, 0);
	assert_non_null(e);
	assert_int_equal(pl_elf_symbol_count(e), 0);
	pl_elf_close(e);
}

/* Random bytes behind a valid header: whatever they say, no crash. */
static void test_random_garbage(void **state)
{
	static const struct test_sym syms[] = {{FUNC("f", 0, 16, STB_GLOBAL)}};
	struct image im = craft(syms, COUNT(syms));
	uint8_t *copy = malloc(im.size);
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	(void)state;
	assert_non_null(copy);
	for (int round = 0; round < 3000; round++) {
		struct pl_elf *e;

		memcpy(copy, im.buf, im.size);
		for (int k = 0; k < 1 + round % 16; k++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			copy[(rng >> 16) % im.size] = (uint8_t)rng;
		}
		e = pl_elf_from_memory(copy, im.size);
		assert_non_null(e);
		for (uint64_t a = BASE; a < SEG_END + 0x100; a += 0x40)
			pl_elf_lookup(e, a, NULL);
		pl_elf_close(e);
	}
	free(copy);
	free(im.buf);
}

/* ---- crafted symbol tables --------------------------------------------- */

static void test_alias_preference(void **state)
{
	static const struct test_sym syms[] = {
	    {FUNC("local_name", 0x100, 32, STB_LOCAL)},
	    {FUNC("weak_name", 0x100, 32, STB_WEAK)},
	    {FUNC("global_name", 0x100, 32, STB_GLOBAL)},
	    {FUNC("__libc_thing", 0x200, 32, STB_GLOBAL)},
	    {FUNC("thing", 0x200, 32, STB_GLOBAL)},
	    {FUNC("only_local", 0x300, 32, STB_LOCAL)},
	    {FUNC("weak_over_local", 0x400, 8, STB_WEAK)},
	    {FUNC("a_local", 0x400, 8, STB_LOCAL)},
	};
	struct pl_elf *e = load_crafted(syms, COUNT(syms));

	(void)state;
	assert_int_equal(pl_elf_symbol_count(e), 4);
	assert_lookup(e, TEXT_ADDR + 0x100, "global_name", TEXT_ADDR + 0x100);
	assert_lookup(e, TEXT_ADDR + 0x210, "thing", TEXT_ADDR + 0x200);
	assert_lookup(e, TEXT_ADDR + 0x31f, "only_local", TEXT_ADDR + 0x300);
	assert_lookup(e, TEXT_ADDR + 0x404, "weak_over_local", TEXT_ADDR + 0x400);
	pl_elf_close(e);
}

/* The same input in any order gives the same choice. */
static void test_alias_choice_independent_of_order(void **state)
{
	static const struct test_sym a[] = {{FUNC("zeta", 0, 8, STB_GLOBAL)},
					    {FUNC("beta", 0, 8, STB_GLOBAL)}};
	static const struct test_sym b[] = {{FUNC("beta", 0, 8, STB_GLOBAL)},
					    {FUNC("zeta", 0, 8, STB_GLOBAL)}};
	struct pl_elf *ea = load_crafted(a, 2), *eb = load_crafted(b, 2);

	(void)state;
	assert_lookup(ea, TEXT_ADDR, "beta", TEXT_ADDR);
	assert_lookup(eb, TEXT_ADDR, "beta", TEXT_ADDR);
	pl_elf_close(ea);
	pl_elf_close(eb);
}

/* An alias with a size lends it to an unsized preferred name. */
static void test_alias_size_merged(void **state)
{
	static const struct test_sym syms[] = {
	    {FUNC("sized_local", 0x100, 64, STB_LOCAL)},
	    {FUNC("unsized_global", 0x100, 0, STB_GLOBAL)},
	    {FUNC("far", 0x800, 8, STB_GLOBAL)},
	};
	struct pl_elf *e = load_crafted(syms, COUNT(syms));

	(void)state;
	assert_lookup(e, TEXT_ADDR + 0x13f, "unsized_global", TEXT_ADDR + 0x100);
	assert_lookup(e, TEXT_ADDR + 0x140, NULL, 0);
	pl_elf_close(e);
}

static void test_sized_bounds(void **state)
{
	static const struct test_sym syms[] = {{FUNC("f", 0x10, 0x20, STB_GLOBAL)},
					       {FUNC("g", 0x40, 0x10, STB_GLOBAL)}};
	struct pl_elf *e = load_crafted(syms, COUNT(syms));

	(void)state;
	assert_lookup(e, TEXT_ADDR + 0x0f, NULL, 0);
	assert_lookup(e, TEXT_ADDR + 0x10, "f", TEXT_ADDR + 0x10);
	assert_lookup(e, TEXT_ADDR + 0x2f, "f", TEXT_ADDR + 0x10);
	assert_lookup(e, TEXT_ADDR + 0x30, NULL, 0); /* the gap */
	assert_lookup(e, TEXT_ADDR + 0x4f, "g", TEXT_ADDR + 0x40);
	assert_lookup(e, TEXT_ADDR + 0x50, NULL, 0);
	assert_lookup(e, 0, NULL, 0);
	assert_lookup(e, UINT64_MAX, NULL, 0);
	pl_elf_close(e);
}

/* Unsized: up to the next symbol, the last one up to its segment's end. */
static void test_zero_size_extends(void **state)
{
	static const struct test_sym syms[] = {{FUNC("a", 0x10, 0, STB_GLOBAL)},
					       {FUNC("b", 0x80, 0, STB_GLOBAL)}};
	struct pl_elf *e = load_crafted(syms, COUNT(syms));

	(void)state;
	assert_lookup(e, TEXT_ADDR + 0x10, "a", TEXT_ADDR + 0x10);
	assert_lookup(e, TEXT_ADDR + 0x7f, "a", TEXT_ADDR + 0x10);
	assert_lookup(e, TEXT_ADDR + 0x80, "b", TEXT_ADDR + 0x80);
	assert_lookup(e, SEG_END - 1, "b", TEXT_ADDR + 0x80);
	assert_lookup(e, SEG_END, NULL, 0);
	pl_elf_close(e);
}

static void test_symbol_filter(void **state)
{
	static const struct test_sym syms[] = {
	    {"asm_routine", TEXT_ADDR + 0x100, 16, STT_NOTYPE, STB_GLOBAL, SEC_TEXT, 0},
	    {"label", TEXT_ADDR + 0x200, 0, STT_NOTYPE, STB_LOCAL, SEC_TEXT, 0},
	    {"data_blob", DATA_ADDR, 16, STT_NOTYPE, STB_GLOBAL, SEC_DATA, 0},
	    {"an_object", TEXT_ADDR + 0x300, 16, STT_OBJECT, STB_GLOBAL, SEC_TEXT, 0},
	    {"imported", 0, 0, STT_FUNC, STB_GLOBAL, SHN_UNDEF, 0},
	    {"absolute", TEXT_ADDR + 0x400, 16, STT_FUNC, STB_GLOBAL, SHN_ABS, 0},
	    {"$x", TEXT_ADDR + 0x500, 16, STT_FUNC, STB_LOCAL, SEC_TEXT, 0},
	    {NULL, TEXT_ADDR + 0x600, 16, STT_FUNC, STB_GLOBAL, SEC_TEXT, 0}, /* empty name */
	    {"resolver", TEXT_ADDR + 0x700, 16, STT_GNU_IFUNC, STB_GLOBAL, SEC_TEXT, 0},
	    {"a_section", TEXT_ADDR, 0, STT_SECTION, STB_LOCAL, SEC_TEXT, 0},
	    {"a_file", 0, 0, STT_FILE, STB_LOCAL, SHN_ABS, 0},
	};
	struct pl_elf *e = load_crafted(syms, COUNT(syms));

	(void)state;
	assert_int_equal(pl_elf_symbol_count(e), 2);
	assert_lookup(e, TEXT_ADDR + 0x108, "asm_routine", TEXT_ADDR + 0x100);
	assert_lookup(e, TEXT_ADDR + 0x708, "resolver", TEXT_ADDR + 0x700);
	assert_lookup(e, DATA_ADDR, NULL, 0);
	pl_elf_close(e);
}

static void test_bad_name_offsets_skipped(void **state)
{
	static const struct test_sym syms[] = {
	    {NULL, TEXT_ADDR + 0x100, 16, STT_FUNC, STB_GLOBAL, SEC_TEXT, 0xfffffff0u},
	    {NULL, TEXT_ADDR + 0x200, 16, STT_FUNC, STB_GLOBAL, SEC_TEXT, 0x7fffffffu},
	    {FUNC("fine", 0x300, 16, STB_GLOBAL)},
	};
	struct pl_elf *e = load_crafted(syms, COUNT(syms));

	(void)state;
	assert_int_equal(pl_elf_symbol_count(e), 1);
	assert_lookup(e, TEXT_ADDR + 0x300, "fine", TEXT_ADDR + 0x300);
	pl_elf_close(e);
}

static void test_long_name_cut(void **state)
{
	char *name = malloc(PL_ELF_MAX_NAME * 3);
	struct test_sym syms[] = {{FUNC(NULL, 0x100, 16, STB_GLOBAL)}};
	const char *found;
	struct pl_elf *e;

	(void)state;
	assert_non_null(name);
	memset(name, 'n', PL_ELF_MAX_NAME * 3 - 1);
	name[PL_ELF_MAX_NAME * 3 - 1] = '\0';
	syms[0].name = name;
	e = load_crafted(syms, 1);
	found = pl_elf_lookup(e, TEXT_ADDR + 0x100, NULL);
	assert_non_null(found);
	assert_int_equal(strlen(found), PL_ELF_MAX_NAME);
	pl_elf_close(e);
	free(name);
}

/* Symbols at the top of the address space do not wrap. */
static void test_extreme_values(void **state)
{
	static const struct test_sym syms[] = {
	    {"top", UINT64_MAX - 8, 100, STT_FUNC, STB_GLOBAL, SEC_TEXT, 0},
	    {"huge", TEXT_ADDR, UINT64_MAX, STT_FUNC, STB_GLOBAL, SEC_TEXT, 0},
	};
	struct pl_elf *e = load_crafted(syms, COUNT(syms));

	(void)state;
	assert_lookup(e, UINT64_MAX - 1, "top", UINT64_MAX - 8);
	assert_lookup(e, TEXT_ADDR + 5, "huge", TEXT_ADDR);
	pl_elf_close(e);
}

/* ---- crafted headers ------------------------------------------------- */

static const struct test_sym one_func[] = {{FUNC("f", 0x100, 16, STB_GLOBAL)}};

static void test_crafted_baseline(void **state)
{
	struct pl_elf *e = load_crafted(one_func, 1);
	uint64_t v;

	(void)state;
	assert_int_equal(pl_elf_symbol_count(e), 1);
	assert_int_equal(pl_elf_segment_count(e), 1);
	assert_true(pl_elf_offset_to_vaddr(e, TEXT_OFF + 0x100, &v));
	assert_int_equal(v, TEXT_ADDR + 0x100);
	assert_false(pl_elf_offset_to_vaddr(e, DATA_OFF + DATA_SIZE, &v));
	pl_elf_close(e);
}

/* sstrip'ed binaries: program headers only. */
static void test_no_section_headers(void **state)
{
	struct image im = craft(one_func, 1);
	struct pl_elf *e;
	uint64_t v;

	(void)state;
	im.eh->e_shoff = 0;
	im.eh->e_shnum = 0;
	im.eh->e_shstrndx = 0;
	e = load_image(&im);
	assert_int_equal(pl_elf_symbol_count(e), 0);
	assert_int_equal(pl_elf_segment_count(e), 1);
	assert_true(pl_elf_offset_to_vaddr(e, TEXT_OFF, &v));
	assert_int_equal(v, TEXT_ADDR);
	pl_elf_close(e);
}

static void test_no_program_headers(void **state)
{
	struct image im = craft(one_func, 1);
	struct pl_elf *e;
	uint64_t v;

	(void)state;
	im.eh->e_phoff = 0;
	im.eh->e_phnum = 0;
	e = load_image(&im);
	assert_int_equal(pl_elf_symbol_count(e), 1);
	assert_int_equal(pl_elf_segment_count(e), 0);
	assert_false(pl_elf_offset_to_vaddr(e, TEXT_OFF, &v));
	pl_elf_close(e);
}

static void test_bad_section_table(void **state)
{
	static const uint64_t shoffs[] = {UINT64_MAX, UINT64_MAX - 100, 1u << 30, 3};
	static const uint16_t shnums[] = {0xffff, 0xff00, 1000};
	struct pl_elf *e;

	(void)state;
	for (size_t i = 0; i < COUNT(shoffs); i++) {
		struct image im = craft(one_func, 1);

		im.eh->e_shoff = shoffs[i];
		e = load_image(&im);
		assert_int_equal(pl_elf_symbol_count(e), 0);
		pl_elf_close(e);
	}
	for (size_t i = 0; i < COUNT(shnums); i++) {
		struct image im = craft(one_func, 1);

		im.eh->e_shnum = shnums[i];
		e = load_image(&im);
		assert_int_equal(pl_elf_symbol_count(e), 0);
		pl_elf_close(e);
	}
}

static void test_bad_symtab_section(void **state)
{
	struct pl_elf *e;

	(void)state;
	for (int variant = 0; variant < 8; variant++) {
		struct image im = craft(one_func, 1);
		Elf64_Shdr *sym = &im.sh[SEC_SYMTAB], *str = &im.sh[SEC_STRTAB];

		switch (variant) {
		case 0:
			sym->sh_link = 0;
			break;
		case 1:
			sym->sh_link = 99;
			break;
		case 2:
			sym->sh_link = SEC_TEXT;
			break; /* not a string table */
		case 3:
			sym->sh_entsize = 7;
			break;
		case 4:
			sym->sh_offset = UINT64_MAX - 8;
			break;
		case 5:
			sym->sh_size = 1ull << 40;
			break;
		case 6:
			str->sh_offset = im.size;
			break;
		case 7:
			str->sh_size = UINT64_MAX;
			break;
		}
		e = load_image(&im);
		if (pl_elf_symbol_count(e) != 0)
			fail_msg("variant %d gave symbols", variant);
		pl_elf_close(e);
	}
}

static void test_bad_program_headers(void **state)
{
	struct pl_elf *e;

	(void)state;
	for (int variant = 0; variant < 4; variant++) {
		struct image im = craft(one_func, 1);
		Elf64_Phdr *ph = (Elf64_Phdr *)(im.buf + sizeof(Elf64_Ehdr));

		switch (variant) {
		case 0:
			im.eh->e_phoff = UINT64_MAX - 4;
			break;
		case 1:
			im.eh->e_phnum = 0xffff;
			break;
		case 2:
			ph->p_offset = UINT64_MAX - 1;
			break;
		case 3:
			ph->p_vaddr = UINT64_MAX - 1;
			break;
		}
		e = load_image(&im);
		assert_int_equal(pl_elf_segment_count(e), 0);
		pl_elf_close(e);
	}
}

/* ---- the kept image ------------------------------------------------- */

static void test_image_kept_then_dropped(void **state)
{
	struct image im = craft(one_func, 1);
	struct pl_elf *e = pl_elf_from_memory(im.buf, im.size);
	const uint8_t *bytes;
	size_t size;

	(void)state;
	assert_non_null(e);
	bytes = pl_elf_image(e, &size);
	assert_non_null(bytes);
	assert_int_equal(size, im.size);
	assert_memory_equal(bytes, im.buf, size);
	assert_ptr_not_equal(bytes, im.buf);
	pl_elf_drop_image(e);
	assert_null(pl_elf_image(e, &size));
	assert_int_equal(size, 0);
	pl_elf_drop_image(e);
	assert_lookup(e, TEXT_ADDR + 0x100, "f", TEXT_ADDR + 0x100);
	pl_elf_close(e);
	pl_elf_close(NULL);
	free(im.buf);
}

/* ---- budgets: what a hostile file may cost --------------------------------- */

/* Writes the image to a new temporary file, grown (sparse) to size bytes. */
static void write_sparse(const struct image *im, uint64_t size, char path[64])
{
	int fd;

	write_temp(im->buf, im->size, path);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static struct pl_elf *open_sparse(struct image *im, uint64_t size)
{
	char path[64];
	struct pl_elf *e;

	write_sparse(im, size, path);
	free(im->buf);
	im->buf = NULL;
	e = pl_elf_open_path(path);
	unlink(path);
	assert_non_null(e);
	return e;
}

/* Appends len bytes of src (zeros if NULL) at an offset with off % 8 == mod. */
static size_t append_at(struct image *im, const void *src, size_t len, size_t mod)
{
	size_t off = (im->size + 7) / 8 * 8 + mod;
	size_t shoff = (size_t)((uint8_t *)im->sh - im->buf);

	/* src may lie in the image itself, which the realloc may move: copied first. */
	void *copy = src ? malloc(len) : NULL;

	if (src) {
		assert_non_null(copy);
		memcpy(copy, src, len);
	}
	im->buf = realloc(im->buf, off + len);
	assert_non_null(im->buf);
	memset(im->buf + im->size, 0, off + len - im->size);
	if (copy)
		memcpy(im->buf + off, copy, len);
	free(copy);
	im->size = off + len;
	im->eh = (Elf64_Ehdr *)im->buf;
	im->sh = (Elf64_Shdr *)(im->buf + shoff);
	return off;
}

static void assert_skipped(const struct pl_elf *e, unsigned parts, const char *what)
{
	const struct pl_elf_skips *sk = pl_elf_skips(e);

	if (sk->parts != parts || !strstr(sk->first, what))
		fail_msg("expected %u part(s) skipped, the first with \"%s\"; got %u: \"%s\"",
			 parts, what, sk->parts, sk->first);
}

/* libelf would copy a misaligned table: it is streamed instead, and still read. */
static void test_misaligned_symtab_streamed(void **state)
{
	static const struct test_sym syms[] = {{FUNC("f", 0x100, 16, STB_GLOBAL)},
					       {FUNC("g", 0x200, 16, STB_LOCAL)}};
	struct image im = craft(syms, COUNT(syms));
	Elf64_Shdr *sym;
	size_t off;
	struct pl_elf *e;

	(void)state;
	sym = &im.sh[SEC_SYMTAB];
	off = append_at(&im, im.buf + sym->sh_offset, sym->sh_size, 3);
	im.sh[SEC_SYMTAB].sh_offset = off;
	e = load_image(&im);
	assert_int_equal(pl_elf_symbol_count(e), 2);
	assert_lookup(e, TEXT_ADDR + 0x108, "f", TEXT_ADDR + 0x100);
	assert_lookup(e, TEXT_ADDR + 0x200, "g", TEXT_ADDR + 0x200);
	assert_int_equal(pl_elf_skips(e)->parts, 0);
	pl_elf_close(e);
}

/* Both byte orders and both classes go through the same streaming conversion. */
static void test_seed_images_every_layout(void **state)
{
	static const char *const seeds[] = {"crafted_le64", "crafted_be64", "crafted_le32",
					    "crafted_be32"};
	const char *dir =
	    getenv("PL_ELF_SEEDS") ? getenv("PL_ELF_SEEDS") : "tests/fuzz/corpus/elfsym";

	(void)state;
	for (size_t i = 0; i < COUNT(seeds); i++) {
		char path[512];
		struct pl_elf *e;

		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i]);
		e = pl_elf_open_path(path);
		if (!e)
			fail_msg(
			    "cannot load %s (set PL_ELF_SEEDS, or run from the repository root)",
			    path);
		assert_lookup(e, 0x10100, "alpha", 0x10100);
		assert_lookup(e, 0x1010f, "alpha", 0x10100);
		pl_elf_close(e);
	}
}

/* A symbol table over the per-table cap is skipped, counted and described. */
static void test_symtab_over_table_budget(void **state)
{
	struct image im = craft(one_func, 1);
	uint64_t size = (PL_ELF_MAX_TABLE / sizeof(Elf64_Sym) + 1) * sizeof(Elf64_Sym);
	struct pl_elf *e;

	(void)state;
	im.sh[SEC_SYMTAB].sh_size = size;
	e = open_sparse(&im, SYMTAB_OFF + size + 4096);
	assert_int_equal(pl_elf_symbol_count(e), 0);
	assert_skipped(e, 1, "symbol table [3], 32.0M: over the 32.0M a table may have");
	assert_int_equal(pl_elf_skips(e)->bytes, size);
	pl_elf_close(e);
}

/* Two tables at the per-table cap use the file's read budget: the third is left out. */
static void test_read_budget_per_file(void **state)
{
	struct image im = craft(one_func, 1);
	uint64_t big = PL_ELF_MAX_TABLE / sizeof(Elf64_Sym) * sizeof(Elf64_Sym);
	uint64_t hole = 1u << 20;
	struct pl_elf *e;

	(void)state;
	/* .text and .data become zero-filled symbol tables over a sparse hole. */
	for (int i = SEC_TEXT; i <= SEC_DATA; i++) {
		fill_section(&im, i, 0, SHT_SYMTAB, 0, hole + (uint64_t)(i - 1) * big + 1, big);
		im.sh[i].sh_link = SEC_STRTAB;
		im.sh[i].sh_entsize = sizeof(Elf64_Sym);
	}
	e = open_sparse(&im, hole + 2 * big + 4096);
	assert_int_equal(pl_elf_symbol_count(e), 0);
	assert_skipped(e, 1, "symbol table [3]");
	assert_true(strstr(pl_elf_skips(e)->first, "a file may have read") != NULL);
	pl_elf_close(e);
}

/* A section header table past the cap is never handed to libelf. */
static void test_too_many_sections(void **state)
{
	struct image im = craft(one_func, 1);
	uint64_t shoff = 1u << 20, n = PL_ELF_MAX_SECTIONS + 1;
	struct pl_elf *e;

	(void)state;
	im.eh->e_shoff = shoff;
	im.eh->e_shnum = 0; /* extended numbering: the count is section 0's size */
	e = open_sparse(&im, shoff + n * sizeof(Elf64_Shdr));
	assert_int_equal(pl_elf_symbol_count(e), 0);
	assert_int_equal(pl_elf_segment_count(e), 1);
	pl_elf_close(e);

	im = craft(one_func, 1);
	im.eh->e_shoff = shoff;
	im.eh->e_shnum = 0;
	{
		Elf64_Shdr s0 = {.sh_size = n};
		size_t at = append_at(&im, NULL, 0, 0);

		(void)at;
		im.buf = realloc(im.buf, shoff + sizeof(s0));
		assert_non_null(im.buf);
		memset(im.buf + im.size, 0, shoff - im.size);
		memcpy(im.buf + shoff, &s0, sizeof(s0));
		im.size = shoff + sizeof(s0);
		im.eh = (Elf64_Ehdr *)im.buf;
	}
	e = open_sparse(&im, shoff + n * sizeof(Elf64_Shdr));
	assert_int_equal(pl_elf_symbol_count(e), 0);
	assert_skipped(e, 1, "section header table of 16385 entries");
	pl_elf_close(e);
}

/* Past PL_ELF_MAX_SYMBOLS symbols, the rest is left out, and said so. */
static void test_symbol_count_cap(void **state)
{
	size_t n = PL_ELF_MAX_SYMBOLS + 5;
	struct test_sym *syms = calloc(n, sizeof(*syms));
	char *names = malloc(n * 8);
	struct pl_elf *e;

	(void)state;
	assert_non_null(syms);
	assert_non_null(names);
	for (size_t i = 0; i < n; i++) {
		snprintf(names + i * 8, 8, "f%06zx", i);
		syms[i] = (struct test_sym){FUNC(names + i * 8, i * 4, 4, STB_GLOBAL)};
	}
	e = load_crafted(syms, n);
	assert_int_equal(pl_elf_symbol_count(e), PL_ELF_MAX_SYMBOLS);
	assert_skipped(e, 1, "symbols past the 262144 a binary may have");
	assert_lookup(e, TEXT_ADDR + 4, "f000001", TEXT_ADDR + 4);
	pl_elf_close(e);
	free(syms);
	free(names);
}

/* A string table too large to hold is read through a window, backwards too. */
static void test_large_string_table_windowed(void **state)
{
	static const struct test_sym syms[] = {{FUNC("first", 0x100, 16, STB_GLOBAL)},
					       {FUNC("second", 0x200, 16, STB_GLOBAL)},
					       {FUNC("third", 0x300, 16, STB_GLOBAL)}};
	struct image im = craft(syms, COUNT(syms));
	size_t pad = 6u << 20, old_size = im.sh[SEC_STRTAB].sh_size, off;
	uint8_t *table = calloc(1, pad + old_size);
	Elf64_Sym *sym;
	struct pl_elf *e;

	(void)state;
	assert_non_null(table);
	memcpy(table + pad, im.buf + im.sh[SEC_STRTAB].sh_offset, old_size);
	off = append_at(&im, table, pad + old_size, 0);
	im.sh[SEC_STRTAB].sh_offset = off;
	im.sh[SEC_STRTAB].sh_size = pad + old_size;
	sym = (Elf64_Sym *)(im.buf + SYMTAB_OFF);
	/* Names far apart, the middle one first: the window moves both ways. */
	sym[1].st_name += (uint32_t)pad;
	sym[2].st_name = 0;
	memcpy(im.buf + off + 1, "second", 7);
	sym[2].st_name = 1;
	sym[3].st_name += (uint32_t)pad;
	e = load_image(&im);
	assert_lookup(e, TEXT_ADDR + 0x100, "first", TEXT_ADDR + 0x100);
	assert_lookup(e, TEXT_ADDR + 0x200, "second", TEXT_ADDR + 0x200);
	assert_lookup(e, TEXT_ADDR + 0x300, "third", TEXT_ADDR + 0x300);
	pl_elf_close(e);
	free(table);
}

static long rss_kib(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* A 512 MiB file costs a view, not a copy: memory stays where it was. */
static void test_open_maps_instead_of_copying(void **state)
{
	struct image im = craft(one_func, 1);
	uint64_t size = 512ull << 20;
	long before, after;
	const uint8_t *view;
	size_t view_size;
	struct pl_elf *e;

	(void)state;
	before = rss_kib();
	e = open_sparse(&im, size);
	after = rss_kib();
	view = pl_elf_image(e, &view_size);
	assert_non_null(view);
	assert_int_equal(view_size, size);
	assert_memory_equal(view, ELFMAG, SELFMAG);
	assert_lookup(e, TEXT_ADDR + 0x100, "f", TEXT_ADDR + 0x100);
	if (after - before > 4096)
		fail_msg("opening grew RSS by %ld KiB", after - before);
	pl_elf_close(e);
}

/* A file cut short under its view reads as zeros past the cut, never SIGBUS. */
static void test_view_survives_truncation(void **state)
{
	struct image im = craft(one_func, 1);
	const volatile uint8_t *view;
	size_t size, pg = (size_t)sysconf(_SC_PAGESIZE);
	char path[64];
	struct pl_elf *e;
	unsigned sum = 0;
	int fd;

	(void)state;
	write_sparse(&im, 64 * pg, path);
	free(im.buf);
	e = pl_elf_open_path(path);
	assert_non_null(e);
	pl_elf_end_load(e);
	view = pl_elf_image(e, &size);
	assert_int_equal(size, 64 * pg);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)pg), 0);
	close(fd);
	unlink(path);
	for (size_t off = 0; off < size; off += 512)
		sum += view[off];
	assert_int_equal(view[0], 0x7f); /* the first page is still in the file */
	assert_int_equal(view[size - 1], 0);
	assert_true(sum >= 0x7f);
	assert_lookup(e, TEXT_ADDR + 0x100, "f", TEXT_ADDR + 0x100);
	pl_elf_close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_self_global_and_static),
	    cmocka_unit_test(test_self_is_pie_and_translated),
	    cmocka_unit_test(test_libc_malloc),
	    cmocka_unit_test(test_libc_many_functions),
	    cmocka_unit_test(test_truncated_true),
	    cmocka_unit_test(test_truncated_libc_keeps_segments),
	    cmocka_unit_test(test_not_elf),
	    cmocka_unit_test(test_fifo_refused),
	    cmocka_unit_test(test_memory_not_elf),
	    cmocka_unit_test(test_random_garbage),
	    cmocka_unit_test(test_alias_preference),
	    cmocka_unit_test(test_alias_choice_independent_of_order),
	    cmocka_unit_test(test_alias_size_merged),
	    cmocka_unit_test(test_sized_bounds),
	    cmocka_unit_test(test_zero_size_extends),
	    cmocka_unit_test(test_symbol_filter),
	    cmocka_unit_test(test_bad_name_offsets_skipped),
	    cmocka_unit_test(test_long_name_cut),
	    cmocka_unit_test(test_extreme_values),
	    cmocka_unit_test(test_crafted_baseline),
	    cmocka_unit_test(test_no_section_headers),
	    cmocka_unit_test(test_no_program_headers),
	    cmocka_unit_test(test_bad_section_table),
	    cmocka_unit_test(test_bad_symtab_section),
	    cmocka_unit_test(test_bad_program_headers),
	    cmocka_unit_test(test_image_kept_then_dropped),
	    cmocka_unit_test(test_misaligned_symtab_streamed),
	    cmocka_unit_test(test_seed_images_every_layout),
	    cmocka_unit_test(test_symtab_over_table_budget),
	    cmocka_unit_test(test_read_budget_per_file),
	    cmocka_unit_test(test_too_many_sections),
	    cmocka_unit_test(test_symbol_count_cap),
	    cmocka_unit_test(test_large_string_table_windowed),
	    cmocka_unit_test(test_open_maps_instead_of_copying),
	    cmocka_unit_test(test_view_survives_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
