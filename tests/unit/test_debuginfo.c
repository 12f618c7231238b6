// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Separate debug files: the note and debuglink parsers on crafted bytes, and
 * the lookup on this very binary, stripped, beside its debug file (made
 * with binutils' objcopy and strip): by build ID, by debuglink with its
 * CRC, and refused when the CRC or the file's owner and mode are wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sys/stat.h>
#include "symbolize/debuginfo.h"
#include "symbolize/elfsym.h"

static const uint8_t gnu_note[] = {
    4, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 'G', 'N', 'U', 0, 0xaa, 0xbb, 0xcc, 0xdd, /* ABI tag */
    4, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0, 0x12, 0x34, 0x56, 0,	  /* build ID */
};

static void test_build_id_notes(void **state)
{
	uint8_t id[PL_BUILD_ID_MAX], big[64];

	(void)state;
	assert_int_equal(pl_parse_build_id_notes(gnu_note, sizeof(gnu_note), false, id, sizeof(id)),
			 3);
	assert_memory_equal(id, "\x12\x34\x56", 3);
	/* Cut anywhere: never a read past the end, at most the notes that fit. */
	for (size_t n = 0; n < sizeof(gnu_note) - 1; n++)
		assert_true(pl_parse_build_id_notes(gnu_note, n, false, id, sizeof(id)) == 0 ||
			    n >= 20 + 12 + 4 + 3);
	/* A size that would wrap around. */
	memcpy(big, gnu_note, 24);
	big[4] = big[5] = big[6] = big[7] = 0xff;
	assert_int_equal(pl_parse_build_id_notes(big, 24, false, id, sizeof(id)), 0);
	/* An ID larger than the room for it is not taken. */
	assert_int_equal(pl_parse_build_id_notes(gnu_note, sizeof(gnu_note), false, id, 2), 0);
}

static void test_debuglink(void **state)
{
	static const uint8_t good[] = {'l', 'i', 'b', '.', 'd',	 'e',  'b',  'u',
				       'g', 0,	 0,   0,   0x78, 0x56, 0x34, 0x12};
	static const uint8_t slash[] = {'.', '.', '/', 'x', 0, 0, 0, 0, 1, 2, 3, 4};
	char name[PL_DEBUGLINK_MAX];
	uint32_t crc;

	(void)state;
	assert_true(pl_parse_debuglink(good, sizeof(good), false, name, sizeof(name), &crc));
	assert_string_equal(name, "lib.debug");
	assert_int_equal(crc, 0x12345678);
	assert_true(pl_parse_debuglink(good, sizeof(good), true, name, sizeof(name), &crc));
	assert_int_equal(crc, 0x78563412);
	assert_false(pl_parse_debuglink(good, sizeof(good) - 1, false, name, sizeof(name), &crc));
	assert_false(pl_parse_debuglink(good, 9, false, name, sizeof(name), &crc)); /* no NUL */
	assert_false(pl_parse_debuglink(good, sizeof(good), false, name, 5, &crc));
	assert_false(pl_parse_debuglink(slash, sizeof(slash), false, name, sizeof(name), &crc));
	assert_false(pl_parse_debuglink((const uint8_t *)"\0\0\0\0\0\0\0\0", 8, false, name,
					sizeof(name), &crc));
}

/* A function only .symtab names: stripped away, back from the debug file. */
__attribute__((noinline, used)) static int only_in_symtab(int x)
{
	return x * 3 + 1;
}

static char dir[] = "/tmp/pl-debuginfo-XXXXXX";

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* The symbol only_in_symtab is found at in the stripped copy, through its debug file. */
static const char *name_via_debug(const char *bin, const char *path, const char *root)
{
	static char kept[128];
	struct pl_elf *e = pl_elf_open_path(bin), *d;
	uint64_t start, vaddr = 0;
	const char *sym;

	assert_non_null(e);
	/* Its link-time address, as binutils' nm reads it from the unstripped binary. */
	{
		char cmd[128];
		FILE *nm;

		snprintf(cmd, sizeof(cmd), "nm /proc/%d/exe | grep ' only_in_symtab$'",
			 (int)getpid());
		nm = popen(cmd, "r");
		assert_non_null(nm);
		assert_int_equal(fscanf(nm, "%" SCNx64, &vaddr), 1);
		pclose(nm);
	}
	assert_true(vaddr != 0);
	assert_null(pl_elf_lookup(e, vaddr, &start));
	d = pl_debuginfo_open(e, path, root);
	pl_elf_close(e);
	if (!d)
		return NULL;
	sym = pl_elf_lookup(d, vaddr, &start);
	snprintf(kept, sizeof(kept), "%s", sym ? sym : "(none)");
	pl_elf_close(d);
	return kept;
}

static void test_open_by_build_id_and_debuglink(void **state)
{
	uint8_t id[PL_BUILD_ID_MAX];
	char hex[2 * PL_BUILD_ID_MAX + 1] = "", bin[512], root[512];
	struct pl_elf *self = pl_elf_open_path("/proc/self/exe");
	size_t n;

	(void)state;
	assert_int_equal(only_in_symtab(1), 4);
	assert_non_null(self);
	n = pl_elf_build_id(self, id, sizeof(id));
	pl_elf_close(self);
	assert_true(n >= 2);
	for (size_t i = 1; i < n; i++)
		sprintf(hex + 2 * (i - 1), "%02x", id[i]);
	assert_non_null(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/root", dir);
	/* By build ID, as libc6-dbg installs them. */
	sh("mkdir -p %s/.build-id/%02x %s/dl && objcopy --only-keep-debug /proc/%d/exe "
	   "%s/.build-id/%02x/%s.debug && strip -o %s/bin /proc/%d/exe",
	   root, id[0], root, (int)getpid(), root, id[0], hex, dir, (int)getpid());
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	assert_string_equal(name_via_debug(bin, "/x/bin", root), "only_in_symtab");
	/* Writable by others: not ours to trust. */
	sh("chmod 666 %s/.build-id/%02x/%s.debug", root, id[0], hex);
	assert_null(name_via_debug(bin, "/x/bin", root));
	sh("rm -r %s/.build-id", root);
	/* By debuglink, beside the binary's own path under the root, CRC checked. */
	sh("objcopy --only-keep-debug /proc/%d/exe %s/dl/bin2.debug && "
	   "strip --remove-section=.note.gnu.build-id -o %s/bin2 /proc/%d/exe && "
	   "cd %s/dl && objcopy --add-gnu-debuglink=bin2.debug %s/bin2",
	   (int)getpid(), root, dir, (int)getpid(), root, dir);
	snprintf(bin, sizeof(bin), "%s/bin2", dir);
	assert_string_equal(name_via_debug(bin, "/dl/bin2", root), "only_in_symtab");
	assert_null(name_via_debug(bin, "/elsewhere/bin2", root));
	sh("printf x >> %s/dl/bin2.debug", root); /* another file now: the CRC says so */
	assert_null(name_via_debug(bin, "/dl/bin2", root));
	sh("rm -r %s", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_id_notes),
	    cmocka_unit_test(test_debuglink),
	    cmocka_unit_test(test_open_by_build_id_and_debuglink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
