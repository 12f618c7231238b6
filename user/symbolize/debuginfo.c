// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <sys/stat.h>
#include "symbolize/debuginfo.h"
#include "symbolize/elfsym.h"

#define NOTE_SECTION_MAX (64u << 10) /* a note section read in; build-id notes are tiny */
#define DEBUGLINK_SECTION_MAX 4096
#define PATH_MAX_DEBUG 4096
#define DEBUGLINK_FILE_MAX (256ll << 20) /* a debug file found by name is read whole: its CRC */

static uint32_t get32(const uint8_t *p, bool be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

size_t pl_parse_build_id_notes(const uint8_t *buf, size_t len, bool big_endian, uint8_t *id,
			       size_t cap)
{
	size_t off = 0;

	while (len - off >= 12) {
		uint32_t namesz = get32(buf + off, big_endian),
			 descsz = get32(buf + off + 4, big_endian),
			 type = get32(buf + off + 8, big_endian);
		size_t name_at = off + 12, desc_at;

		/* Sizes past what is left end the walk: no wrap, no read past len. */
		if (namesz > len - name_at || align4(namesz) > len - name_at)
			return 0;
		desc_at = name_at + align4(namesz);
		if (descsz > len - desc_at)
			return 0;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(buf + name_at, "GNU", 4) &&
		    descsz && descsz <= cap) {
			memcpy(id, buf + desc_at, descsz);
			return descsz;
		}
		if (align4(descsz) > len - desc_at)
			return 0;
		off = desc_at + align4(descsz);
	}
	return 0;
}

bool pl_parse_debuglink(const uint8_t *buf, size_t len, bool big_endian, char *name, size_t cap,
			uint32_t *crc)
{
	const uint8_t *nul = memchr(buf, '\0', len);
	size_t n, crc_at;

	if (!nul || nul == buf)
		return false;
	n = (size_t)(nul - buf);
	crc_at = align4(n + 1);
	if (n + 1 > cap || crc_at > len || len - crc_at < 4 || memchr(buf, '/', n))
		return false;
	memcpy(name, buf, n + 1);
	*crc = get32(buf + crc_at, big_endian);
	return true;
}

/* Section i's bytes, read whole (at most max bytes): NULL if it is larger or unreadable. */
static uint8_t *read_section(const struct pl_elf *e, const struct pl_elf_section *sec, size_t max)
{
	uint8_t *buf;

	if (!sec->size || sec->size > max)
		return NULL;
	buf = malloc(sec->size);
	if (buf && pl_elf_read(e, sec->offset, buf, sec->size) != sec->size) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

size_t pl_elf_build_id(const struct pl_elf *e, uint8_t *id, size_t cap)
{
	struct pl_elf_info info;
	struct pl_elf_section sec;
	size_t n = 0;

	if (!pl_elf_info(e, &info))
		return 0;
	for (size_t i = 1; !n && pl_elf_section(e, i, &sec); i++) {
		uint8_t *buf;

		if (sec.type != SHT_NOTE || !(buf = read_section(e, &sec, NOTE_SECTION_MAX)))
			continue;
		n = pl_parse_build_id_notes(buf, sec.size, info.big_endian, id, cap);
		free(buf);
	}
	return n;
}

bool pl_elf_debuglink(const struct pl_elf *e, char *name, size_t cap, uint32_t *crc)
{
	struct pl_elf_info info;
	struct pl_elf_section sec;
	bool found = false;

	if (!pl_elf_info(e, &info))
		return false;
	for (size_t i = 1; !found && pl_elf_section(e, i, &sec); i++) {
		uint8_t *buf;

		if (!sec.name || strcmp(sec.name, ".gnu_debuglink") ||
		    !(buf = read_section(e, &sec, DEBUGLINK_SECTION_MAX)))
			continue;
		found = pl_parse_debuglink(buf, sec.size, info.big_endian, name, cap, crc);
		free(buf);
	}
	return found;
}

/* Ours to trust: a regular file root owns and only root may write. */
static int open_trusted(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The CRC-32 (zlib's, as GNU debuglink uses) of the whole file behind fd. */
static bool file_crc(int fd, uint32_t *out)
{
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crc = crc32(crc, buf, (uInt)n);
	*out = (uint32_t)crc;
	return n == 0 && lseek(fd, 0, SEEK_SET) == 0;
}

static struct pl_elf *open_by_build_id(const uint8_t *id, size_t n, const char *root)
{
	char path[PATH_MAX_DEBUG];
	uint8_t got[PL_BUILD_ID_MAX];
	struct pl_elf *d;
	size_t len;
	int fd;

	if (n < 2)
		return NULL;
	len = (size_t)snprintf(path, sizeof(path), "%s/.build-id/%02x/", root, id[0]);
	for (size_t i = 1; i < n && len + 3 < sizeof(path); i++)
		len += (size_t)snprintf(path + len, sizeof(path) - len, "%02x", id[i]);
	if (len + sizeof(".debug") > sizeof(path))
		return NULL;
	memcpy(path + len, ".debug", sizeof(".debug"));
	fd = open_trusted(path);
	if (fd < 0)
		return NULL;
	d = pl_elf_open_fd(fd);
	close(fd);
	/* The same build: a stale debug file would name other code. */
	if (d && (pl_elf_build_id(d, got, sizeof(got)) != n || memcmp(got, id, n))) {
		pl_elf_close(d);
		d = NULL;
	}
	return d;
}

/* An ELF file of a size worth reading whole for its CRC (the tracing waits meanwhile). */
static bool worth_a_crc(int fd)
{
	unsigned char magic[4];
	struct stat st;

	return !fstat(fd, &st) && st.st_size <= DEBUGLINK_FILE_MAX &&
	       pread(fd, magic, sizeof(magic), 0) == sizeof(magic) &&
	       !memcmp(magic, ELFMAG, SELFMAG);
}

static struct pl_elf *open_checked_crc(const char *path, uint32_t want)
{
	struct pl_elf *d;
	uint32_t crc;
	int fd = open_trusted(path);

	if (fd < 0)
		return NULL;
	d = worth_a_crc(fd) && file_crc(fd, &crc) && crc == want ? pl_elf_open_fd(fd) : NULL;
	close(fd);
	return d;
}

static struct pl_elf *open_by_debuglink(const struct pl_elf *e, const uint8_t *id, size_t id_len,
					const char *path, const char *root)
{
	char name[PL_DEBUGLINK_MAX], dir[PATH_MAX_DEBUG], cand[PATH_MAX_DEBUG];
	const char *slash = path ? strrchr(path, '/') : NULL;
	struct pl_elf *d = NULL;
	uint32_t crc;

	if (!pl_elf_debuglink(e, name, sizeof(name), &crc))
		return NULL;
	/* The binary's directory, only when its path is absolute and plain. */
	if (slash && path[0] == '/' && (size_t)(slash - path) < sizeof(dir) &&
	    !strstr(path, "/../"))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		dir[0] = '\0';
	if (dir[0] &&
	    (size_t)snprintf(cand, sizeof(cand), "%s%s/%s", root, dir, name) < sizeof(cand))
		d = open_checked_crc(cand, crc);
	if (!d && dir[0] &&
	    (size_t)snprintf(cand, sizeof(cand), "%s%s/.debug/%s", root, dir, name) < sizeof(cand))
		d = open_checked_crc(cand, crc);
	/* Debian's: the name is the build ID's tail, in its .build-id/xx directory. */
	if (!d && id_len &&
	    (size_t)snprintf(cand, sizeof(cand), "%s/.build-id/%02x/%s", root, id[0], name) <
		sizeof(cand))
		d = open_checked_crc(cand, crc);
	return d;
}

struct pl_elf *pl_debuginfo_open(const struct pl_elf *e, const char *path, const char *root)
{
	uint8_t id[PL_BUILD_ID_MAX];
	size_t n = pl_elf_build_id(e, id, sizeof(id));
	struct pl_elf *d = n ? open_by_build_id(id, n, root) : NULL;

	return d ? d : open_by_debuglink(e, id, n, path, root);
}
