// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests for user/symbolize/demangle*.c, on real names: C++ from
 * libstdc++, LLVM and the cxxpool workload this repository builds
 * (PL_CXX_BINARY, default build/workloads/cxxpool; each of its _Z symbols
 * is also held against binutils' c++filt), Rust legacy and v0 names from
 * binaries rustc 1.95 built (v0 printed as rustc-demangle's alternate form
 * does: no crate hashes). And hostile ones: substitution and back-reference
 * bombs, deep nesting, cut names, small buffers.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbolize/demangle.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct pair {
	const char *mangled, *want;
};

static void assert_demangles(const char *mangled, const char *want)
{
	char out[PL_DEMANGLE_MAX_OUT];

	if (!pl_demangle(mangled, strlen(mangled), out, sizeof(out)))
		fail_msg("%s: not demangled (want %s)", mangled, want);
	if (strcmp(out, want) != 0)
		fail_msg("%s:\n  got  %s\n  want %s", mangled, out, want);
}

static void assert_left_alone(const char *name)
{
	char out[PL_DEMANGLE_MAX_OUT] = "untouched";

	if (pl_demangle(name, strlen(name), out, sizeof(out)))
		fail_msg("%s: demangled to %s", name, out);
	assert_string_equal(out, "untouched");
}

/* ---- C++ ------------------------------------------------------------------- */

/* As c++filt prints them (checked with binutils 2.40). */
static const struct pair cxx[] = {
    {"_Z22TCMalloc_SystemReleasePvm", "TCMalloc_SystemRelease(void*, unsigned long)"},
    {"_ZN8tcmalloc8PageHeap20ReleaseAtLeastNPagesEm",
     "tcmalloc::PageHeap::ReleaseAtLeastNPages(unsigned long)"},
    {"_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__normal_iteratorIPiS1_"
     "EEDpOT_",
     "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(__gnu_cxx::"
     "__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int const&)"},
    {"_ZNKSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE4sizeEv",
     "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::size() "
     "const"},
    {"_ZNSaIcEC1ERKS_", "std::allocator<char>::allocator(std::allocator<char> const&)"},
    {"_ZNSt13runtime_errorD2Ev", "std::runtime_error::~runtime_error()"},
    {"_ZSt4swapIiEvRT_S1_", "void std::swap<int>(int&, int&)"},
    {"_ZZ4mainENKUlvE_clEv", "main::{lambda()#1}::operator()() const"},
    {"_ZN12_GLOBAL__N_14helpEv", "(anonymous namespace)::help()"},
    {"_ZTVN10__cxxabiv117__class_type_infoE", "vtable for __cxxabiv1::__class_type_info"},
    {"_ZThn8_N3Foo3barEv", "non-virtual thunk to Foo::bar()"},
    {"_Z1fPFviEPA10_iM1AKFvvE", "f(void (*)(int), int (*) [10], void (A::*)() const)"},
    {"_ZNSt8ios_base7failureB5cxx11C1EPKcRKSt10error_code",
     "std::ios_base::failure[abi:cxx11]::failure(char const*, std::error_code const&)"},
    {"_ZStlsISt11char_traitsIcEERSt13basic_ostreamIcT_ES5_PKa",
     "std::basic_ostream<char, std::char_traits<char> >& std::operator<< "
     "<std::char_traits<char> >(std::basic_ostream<char, std::char_traits<char> >&, signed "
     "char const*)"},
    {"_Z3maxILi5EEvv", "void max<5>()"},
    {"_ZNKSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE4sizeEv.cold",
     "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::size() "
     "const [clone .cold]"},
    {"_ZN2pl4PoolIiE7releaseEv.isra.0", "pl::Pool<int>::release() [clone .isra.0]"},
};

static void test_cxx_known_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(cxx); i++)
		assert_demangles(cxx[i].mangled, cxx[i].want);
}

/* A name of the C++ workload: the binary's own symbols, found through libelf. */
static size_t cxx_binary_names(char names[][PL_DEMANGLE_MAX_IN + 1], size_t max)
{
	const char *path =
	    getenv("PL_CXX_BINARY") ? getenv("PL_CXX_BINARY") : "build/workloads/cxxpool";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf_Scn *scn = NULL;
	size_t n = 0;
	Elf *elf;

	if (fd < 0)
		fail_msg("cannot open %s (build it: make workloads; or set PL_CXX_BINARY)", path);
	assert_true(elf_version(EV_CURRENT) != EV_NONE);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize && n < max; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) ||
			    !(name = elf_strptr(elf, sh.sh_link, sym.st_name)) ||
			    strncmp(name, "_Z", 2) || strlen(name) > PL_DEMANGLE_MAX_IN)
				continue;
			strcpy(names[n++], name);
		}
	}
	elf_end(elf);
	close(fd);
	return n;
}

/* c++filt's reading of name (binutils), the independent oracle. */
static void cxxfilt(const char *name, char *out, size_t len)
{
	char cmd[PL_DEMANGLE_MAX_IN + 32];
	FILE *p;

	if (strlen(name) > PL_DEMANGLE_MAX_IN)
		fail_msg("%.40s...: too long", name);
	snprintf(cmd, sizeof(cmd), "c++filt '%.*s'", PL_DEMANGLE_MAX_IN, name);
	p = popen(cmd, "r");
	if (!p || !fgets(out, (int)len, p))
		fail_msg("c++filt failed on %s (binutils is in scripts/deps.sh)", name);
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static void test_cxx_binary_against_cxxfilt(void **state)
{
	static char names[512][PL_DEMANGLE_MAX_IN + 1];
	size_t n = cxx_binary_names(names, COUNT(names));
	bool grow_int = false, grow_pair = false;

	(void)state;
	assert_true(n >= 4);
	for (size_t i = 0; i < n; i++) {
		char ours[PL_DEMANGLE_MAX_OUT], theirs[PL_DEMANGLE_MAX_OUT];

		cxxfilt(names[i], theirs, sizeof(theirs));
		if (!pl_demangle(names[i], strlen(names[i]), ours, sizeof(ours)))
			fail_msg("%s: not demangled (c++filt: %s)", names[i], theirs);
		if (strcmp(ours, theirs))
			fail_msg("%s:\n  ours     %s\n  c++filt  %s", names[i], ours, theirs);
		grow_int |= !strcmp(ours, "pl::Pool<int>::grow(unsigned long)");
		grow_pair |= !strcmp(ours, "pl::Pool<std::pair<char, long> >::grow(unsigned long)");
	}
	assert_true(grow_int && grow_pair);
}

/* ---- Rust -------------------------------------------------------------------- */

/* From tests of rustc 1.95 (RUSTC_BOOTSTRAP=1 for -C symbol-mangling-version=legacy). */
static const struct pair rust_legacy[] = {
    {"_ZN1m13Pool$LT$T$GT$4grow17h4e24a3aa675d3087E", "m::Pool<T>::grow"},
    {"_ZN48_$LT$m..Pool$LT$u8$GT$$u20$as$u20$m..Release$GT$7release17h23e0e7284f2d4f8fE",
     "<m::Pool<u8> as m::Release>::release"},
    {"_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h168e94e611939a97E",
     "std::rt::lang_start::{{closure}}"},
    {"_ZN4core3ops8function6FnOnce40call_once$u7b$$u7b$vtable.shim$u7d$$u7d$"
     "17h586cf6476555c1edE",
     "core::ops::function::FnOnce::call_once{{vtable.shim}}"},
    {"_ZN103_$LT$std..sys..thread_local..abort_on_dtor_unwind..DtorUnwindGuard$u20$as$u20$"
     "core..ops..drop..Drop$GT$4drop17h89b1b288af29ce99E.2321",
     "<std::sys::thread_local::abort_on_dtor_unwind::DtorUnwindGuard as "
     "core::ops::drop::Drop>::drop"},
    {"_ZN1m4main17h4009bc0cd8b193aaE.llvm.12345", "m::main"},
};

static const struct pair rust_v0[] = {
    {"_RINvCskK7mfDs1mzF_1m5touchNCNvB2_4main0EB2_", "m::touch::<m::main::{closure#0}>"},
    {"_RINvMNtCsgEmfK2I1SDS_4core3stre18trim_start_matchesReECsgY6Mt91CT9J_14rustc_demangle",
     "<str>::trim_start_matches::<&str>"},
    {"_RINvMNtCsgEmfK2I1SDS_4core5sliceSh11copy_withinINtNtNtB5_3ops5range14RangeInclusivejEE"
     "CsfEOYDRpO4Ta_11miniz_oxide",
     "<[u8]>::copy_within::<core::ops::range::RangeInclusive<usize>>"},
    {"_RNvCs1234_7mycrate3foo", "mycrate::foo"},
    {"_RNvCs0_4testu8gdel_5qa", "test::g\xc3\xb6"
				"del"},
    {"_RNvCs0_4testu5mxacd", "test::\xce\xb1\xce\xb2\xce\xb3"},
    {"_RINvCs0_1a1fAhj4_E", "a::f::<[u8; 4]>"},
    {"_RINvCs0_1a1fTheEE", "a::f::<(u8, str)>"},
    {"_RINvCs0_1a1fFUKCjEuE", "a::f::<unsafe extern \"C\" fn(usize)>"},
    {"_RINvCs0_1a1fDNvB2_1tEL_E", "a::f::<dyn a::t>"},
};

static void test_rust_legacy(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(rust_legacy); i++)
		assert_demangles(rust_legacy[i].mangled, rust_legacy[i].want);
	/* A C++ name is no Rust legacy one: no 17h<hash> component. */
	assert_demangles("_ZN1m4mainEv", "m::main()");
}

static void test_rust_v0(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(rust_v0); i++)
		assert_demangles(rust_v0[i].mangled, rust_v0[i].want);
}

/* ---- bad and hostile names ------------------------------------------------- */

static void test_not_mangled(void **state)
{
	static const char *const plain[] = {"malloc", "_init", "main",	"_Z",	   "_ZN",
					    "_R",     "__Z",   "_Zfoo", "_ZN1aE.", "_RNv"};

	(void)state;
	for (size_t i = 0; i < COUNT(plain); i++)
		assert_left_alone(plain[i]);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* S_ for the first candidate, S<base 36>_ for the others. */
static void sub_ref(char *buf, size_t len, int k)
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

	if (k == 0)
		snprintf(buf, len, "S_");
	else if (k - 1 < 36)
		snprintf(buf, len, "S%c_", digits[k - 1]);
	else
		snprintf(buf, len, "S%c%c_", digits[(k - 1) / 36], digits[(k - 1) % 36]);
}

/*
 * f(pair<int,int>, pair<P1,P1>, pair<P2,P2>, ...): each by substitutions
 * of the one before, so the output doubles every few bytes. libstdc++'s
 * __cxa_demangle takes gigabytes for 250 bytes of it.
 */
static void test_cxx_substitution_bomb(void **state)
{
	char name[PL_DEMANGLE_MAX_IN + 1] = "_Z1fSt4pairIiiE", sub[8];
	struct timespec t0;

	(void)state;
	for (int k = 1; strlen(name) + 16 < PL_DEMANGLE_MAX_IN; k++) {
		sub_ref(sub, sizeof(sub), k);
		strcat(name, "S_I");
		strcat(name, sub);
		strcat(name, sub);
		strcat(name, "E");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_left_alone(name);
	printf("substitution bomb of %zu bytes: refused in %.2f ms\n", strlen(name), ms_since(&t0));
}

/* 1000 pointers deep, and a name one byte over the cap: refused, no stack overflow. */
static void test_deep_and_long(void **state)
{
	char name[PL_DEMANGLE_MAX_IN + 2];

	(void)state;
	strcpy(name, "_Z1f");
	memset(name + 4, 'P', PL_DEMANGLE_MAX_IN - 5);
	strcpy(name + PL_DEMANGLE_MAX_IN - 1, "i");
	assert_left_alone(name);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "_ZN1m", 5);
	assert_left_alone(name);
	/* v0: a back-reference to itself */
	assert_left_alone("_RNvB0_1a");
}

/* B<offset>: offset after "_R", as "_" for 0 and base 62 of offset - 1 then "_". */
static void backref(char *buf, size_t len, size_t offset)
{
	static const char digits[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char rev[16];
	size_t n = 0, v;

	if (offset == 0) {
		snprintf(buf, len, "B_");
		return;
	}
	for (v = offset - 1; n == 0 || v; v /= 62)
		rev[n++] = digits[v % 62];
	buf[0] = 'B';
	for (size_t i = 0; i < n && i + 2 < len; i++)
		buf[1 + i] = rev[n - 1 - i];
	buf[1 + n] = '_';
	buf[2 + n] = '\0';
}

/* v0 tuples of the tuple before, twice, by back-references: doubling each time. */
static void test_rust_backref_bomb(void **state)
{
	char name[PL_DEMANGLE_MAX_IN + 1] = "_RINvCs0_1a1fThhE", ref[16];
	size_t prev = strlen("INvCs0_1a1f");
	struct timespec t0;

	(void)state;
	while (strlen(name) + 20 < PL_DEMANGLE_MAX_IN) {
		size_t here = strlen(name) - 2;

		backref(ref, sizeof(ref), prev);
		strcat(name, "T");
		strcat(name, ref);
		strcat(name, ref);
		strcat(name, "E");
		prev = here;
	}
	strcat(name, "E");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_left_alone(name);
	printf("back-reference bomb of %zu bytes: refused in %.2f ms\n", strlen(name),
	       ms_since(&t0));
	/* The same with three levels is a real name. */
	assert_demangles("_RINvCs0_1a1fThhETBa_Ba_EE", "a::f::<(u8, u8), ((u8, u8), (u8, u8))>");
}

/* Every cut of a real name is demangled or refused; never read past the end. */
static void test_every_cut(void **state)
{
	const struct pair *all[] = {cxx, rust_legacy, rust_v0};
	size_t counts[] = {COUNT(cxx), COUNT(rust_legacy), COUNT(rust_v0)};
	struct timespec t0;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t a = 0; a < COUNT(all); a++)
		for (size_t i = 0; i < counts[a]; i++) {
			size_t len = strlen(all[a][i].mangled);

			for (size_t cut = 0; cut < len; cut++) {
				char *copy = malloc(cut ? cut : 1), out[64];

				assert_non_null(copy);
				memcpy(copy, all[a][i].mangled, cut);
				pl_demangle(copy, cut, out, sizeof(out));
				free(copy);
			}
		}
	printf("every cut of %zu names: %.1f ms\n",
	       COUNT(cxx) + COUNT(rust_legacy) + COUNT(rust_v0), ms_since(&t0));
}

/* A buffer too small: false, and not a byte written. */
static void test_small_buffer(void **state)
{
	char out[8] = "1234567";

	(void)state;
	assert_false(pl_demangle("_Z22TCMalloc_SystemReleasePvm", 27, out, sizeof(out)));
	assert_string_equal(out, "1234567");
	assert_false(pl_demangle("_RNvCs1234_7mycrate3foo", 23, out, sizeof(out)));
	assert_string_equal(out, "1234567");
	assert_false(pl_demangle("_ZN1m4main17h4009bc0cd8b193aaE", 30, out, 7));
	assert_string_equal(out, "1234567");
	assert_true(pl_demangle("_ZN1m4main17h4009bc0cd8b193aaE", 30, out, sizeof(out)));
	assert_string_equal(out, "m::main");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cxx_known_names),
	    cmocka_unit_test(test_cxx_binary_against_cxxfilt),
	    cmocka_unit_test(test_rust_legacy),
	    cmocka_unit_test(test_rust_v0),
	    cmocka_unit_test(test_not_mangled),
	    cmocka_unit_test(test_cxx_substitution_bomb),
	    cmocka_unit_test(test_deep_and_long),
	    cmocka_unit_test(test_rust_backref_bomb),
	    cmocka_unit_test(test_every_cut),
	    cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests_name("demangle", tests, NULL, NULL);
}
