// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * symbench BINARY [LOOKUPS]: cold symbolization cost of one big binary, as
 * pageledger pays it. The binary's file is mapped into this process the way
 * the loader maps it, so it shows up in /proc/self/maps, and a fresh
 * symbolizer resolves LOOKUPS addresses spread over its code: the first
 * lookup reads and parses the file (ELF symbols, Go's pclntab), the rest hit
 * the cache. Prints one JSON line.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "symbolize/symbolizer.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The executable PT_LOAD segment's file range: where code addresses map from. */
static int code_range(const unsigned char *img, size_t size, uint64_t *off, uint64_t *len)
{
	const Elf64_Ehdr *eh = (const void *)img;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > size || eh->e_phnum > (size - eh->e_phoff) / sizeof(Elf64_Phdr))
		return -1;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff) + i;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && ph->p_filesz &&
		    ph->p_offset + ph->p_filesz <= size) {
			*off = ph->p_offset;
			*len = ph->p_filesz;
			return 0;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct pl_frame frames[8];
	uint64_t off, len, resolved = 0;
	int lookups = argc > 2 ? atoi(argv[2]) : 1000;
	struct pl_symbolizer *sym;
	unsigned char *img;
	double t0, t_first, t_end;
	struct stat st;
	int fd;

	if (argc < 2 || lookups <= 0) {
		fprintf(stderr, "usage: symbench BINARY [LOOKUPS]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	/* Mapped executable like the loader does, but never touched by us. */
	img = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED || code_range(img, (size_t)st.st_size, &off, &len)) {
		fprintf(stderr, "symbench: %s: not a 64-bit ELF with code\n", argv[1]);
		return 1;
	}
	t0 = now_ms();
	sym = pl_symbolizer_new();
	pl_symbolizer_add_process(sym, getpid());
	t_first = 0;
	for (int i = 0; i < lookups; i++) {
		uint64_t at = off + (len / (uint64_t)lookups) * (uint64_t)i;
		int n = pl_symbolize(sym, getpid(), (uint64_t)(uintptr_t)img + at, frames, 8);

		resolved += n > 0 && frames[0].func;
		if (i == 0)
			t_first = now_ms();
	}
	t_end = now_ms();
	printf("{\"binary\":\"%s\",\"size\":%lld,\"lookups\":%d,\"resolved\":%llu,"
	       "\"first_ms\":%.3f,\"total_ms\":%.3f}\n",
	       argv[1], (long long)st.st_size, lookups, (unsigned long long)resolved, t_first - t0,
	       t_end - t0);
	pl_symbolizer_free(sym);
	munmap(img, (size_t)st.st_size);
	close(fd);
	return 0;
}
