// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /proc/PID/maps lines look like
 *   7f9796601000-7f9796757000 r-xp 00026000 fe:00 332835    /usr/lib/libc.so.6
 * The path is whatever the mapped file is called: it may hold spaces, end in
 * " (deleted)", or be absent. The kernel escapes only '\n' in it (as \012).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "symbolize/procmaps.h"

/*
 * PROCMAP_QUERY, from the kernel's uapi linux/fs.h (6.11): Debian 12's
 * headers predate it. The layout is fixed ABI; size tells the kernel which.
 */
#ifndef PROCMAP_QUERY
struct procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_EXECUTABLE 0x04
#define PROCMAP_QUERY_VMA_SHARED 0x08
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#endif

static const char deleted_suffix[] = " (deleted)";
#define DELETED_LEN (sizeof(deleted_suffix) - 1)

/* A read position in one line; p never passes end. */
struct cursor {
	const char *p;
	const char *end;
};

static bool take_char(struct cursor *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* 1 to max_digits hex digits; max_digits <= 16 keeps the value in range. */
static bool take_hex(struct cursor *c, unsigned max_digits, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;
	int d;

	while (c->p < c->end && (d = hex_digit(*c->p)) >= 0) {
		if (++n > max_digits)
			return false;
		v = v << 4 | (uint64_t)d;
		c->p++;
	}
	*out = v;
	return n > 0;
}

static bool take_decimal(struct cursor *c, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		uint64_t d = (uint64_t)(*c->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		n++;
		c->p++;
	}
	*out = v;
	return n > 0;
}

/* One of two letters, e.g. 'r' or '-'; sets *flag to whether it was yes. */
static bool take_flag(struct cursor *c, char yes, char no, bool *flag)
{
	if (c->p >= c->end || (*c->p != yes && *c->p != no))
		return false;
	*flag = *c->p == yes;
	c->p++;
	return true;
}

static bool take_perms(struct cursor *c, struct pl_map *m)
{
	return take_flag(c, 'r', '-', &m->readable) && take_flag(c, 'w', '-', &m->writable) &&
	       take_flag(c, 'x', '-', &m->executable) && take_flag(c, 's', 'p', &m->shared);
}

/* Major and minor are printed in hex; 8 digits is more than any kernel uses. */
static bool take_dev(struct cursor *c, struct pl_map *m)
{
	uint64_t major, minor;

	if (!take_hex(c, 8, &major) || !take_char(c, ':') || !take_hex(c, 8, &minor))
		return false;
	m->dev_major = (uint32_t)major;
	m->dev_minor = (uint32_t)minor;
	return true;
}

static bool take_range(struct cursor *c, struct pl_map *m)
{
	return take_hex(c, 16, &m->start) && take_char(c, '-') && take_hex(c, 16, &m->end) &&
	       m->start < m->end;
}

/* The rest of the line after the inode: padding, then an optional path. */
static bool take_path(struct cursor *c, struct pl_map *m)
{
	const char *path;
	size_t len;

	m->path = NULL;
	m->path_len = 0;
	m->deleted = false;
	if (c->p == c->end)
		return true;
	if (!take_char(c, ' '))
		return false;
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	path = c->p;
	len = (size_t)(c->end - c->p);
	if (len == 0)
		return true;
	/* The kernel never prints NUL; the table parser NUL-terminates paths. */
	if (memchr(path, '\0', len))
		return false;
	if (len > DELETED_LEN && !memcmp(path + len - DELETED_LEN, deleted_suffix, DELETED_LEN)) {
		m->deleted = true;
		len -= DELETED_LEN;
	}
	m->path = path;
	m->path_len = len;
	c->p = c->end;
	return true;
}

int pl_maps_parse_line(const char *line, size_t len, struct pl_map *out)
{
	struct cursor c = {line, line + len};
	struct pl_map m;

	memset(&m, 0, sizeof(m));
	if (!line)
		return -1;
	if (!take_range(&c, &m) || !take_char(&c, ' ') || !take_perms(&c, &m) ||
	    !take_char(&c, ' ') || !take_hex(&c, 16, &m.offset) || !take_char(&c, ' ') ||
	    !take_dev(&c, &m) || !take_char(&c, ' ') || !take_decimal(&c, &m.inode) ||
	    !take_path(&c, &m))
		return -1;
	*out = m;
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct pl_map *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

static bool sorted_by_start(const struct pl_maps *m)
{
	for (size_t i = 1; i < m->n; i++)
		if (m->v[i - 1].start > m->v[i].start)
			return false;
	return true;
}

static int append(struct pl_maps *m, size_t *cap, const struct pl_map *entry)
{
	if (m->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct pl_map *nv = realloc(m->v, ncap * sizeof(*nv));

		if (!nv)
			return -1;
		m->v = nv;
		*cap = ncap;
	}
	m->v[m->n++] = *entry;
	return 0;
}

/* Parses one line of m->text in place: its path is NUL-terminated there. */
static int parse_owned_line(struct pl_maps *m, size_t *cap, char *line, size_t len)
{
	struct pl_map entry;

	if (len == 0)
		return 0;
	if (pl_maps_parse_line(line, len, &entry) < 0) {
		m->bad_lines++;
		return 0;
	}
	if (entry.path)
		((char *)entry.path)[entry.path_len] = '\0';
	/* Past the cap the table is cut short rather than refused. */
	if (m->n >= PL_MAPS_MAX_ENTRIES)
		return 0;
	return append(m, cap, &entry);
}

/*
 * Parses text (len bytes, with room for one more), which out takes over:
 * a 65,000-line table read once is not held twice.
 */
static int parse_owned(char *text, size_t len, struct pl_maps *out)
{
	size_t cap = 0;
	char *p, *end;

	out->text = text;
	out->text[len] = '\0';
	for (p = out->text, end = out->text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (parse_owned_line(out, &cap, p, line_len) < 0)
			return -1;
		p += line_len + 1;
	}
	/* The kernel prints in address order; anything else is re-sorted. */
	if (!sorted_by_start(out))
		qsort(out->v, out->n, sizeof(*out->v), by_start);
	return 0;
}

int pl_maps_parse(const char *text, size_t len, struct pl_maps *out)
{
	char *copy;

	memset(out, 0, sizeof(*out));
	if (!text || len > PL_MAPS_MAX_TEXT)
		return -1;
	copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, text, len);
	return parse_owned(copy, len, out);
}

char *pl_read_all(int fd, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t got;

		if (n == cap) {
			char *nbuf = cap < PL_MAPS_MAX_TEXT ? realloc(buf, cap * 2) : NULL;

			if (!nbuf)
				break;
			buf = nbuf;
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n);
		if (got == 0) {
			*len = n;
			return buf;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		n += (size_t)got;
	}
	free(buf);
	return NULL;
}

int pl_maps_read(pid_t pid, struct pl_maps *out)
{
	char path[64];
	size_t len = 0;
	char *text;
	int fd, err;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	text = pl_read_all(fd, &len);
	err = errno;
	close(fd);
	if (!text) {
		errno = err ? err : ENOMEM;
		return -1;
	}
	/* pl_read_all leaves room for the NUL, and stops short of PL_MAPS_MAX_TEXT. */
	err = parse_owned(text, len, out);
	if (err < 0) {
		pl_maps_free(out);
		errno = ENOMEM;
	}
	return err;
}

/* The name as the maps text would print it: a newline becomes \012. */
static size_t maps_escaped(const char *raw, char *out, size_t cap)
{
	size_t n = 0;

	for (; *raw && n + 5 <= cap; raw++) {
		if (*raw == '\n') {
			memcpy(out + n, "\\012", 4);
			n += 4;
		} else {
			out[n++] = *raw;
		}
	}
	out[n] = '\0';
	return n;
}

static void fill_from_query(const struct procmap_query *q, struct pl_map *out)
{
	memset(out, 0, sizeof(*out));
	out->start = q->vma_start;
	out->end = q->vma_end;
	out->offset = q->vma_offset;
	out->inode = q->inode;
	out->dev_major = q->dev_major;
	out->dev_minor = q->dev_minor;
	out->readable = q->vma_flags & PROCMAP_QUERY_VMA_READABLE;
	out->writable = q->vma_flags & PROCMAP_QUERY_VMA_WRITABLE;
	out->executable = q->vma_flags & PROCMAP_QUERY_VMA_EXECUTABLE;
	out->shared = q->vma_flags & PROCMAP_QUERY_VMA_SHARED;
}

/* The path part of a query's name: " (deleted)" stripped, as the parser does. */
static void take_query_name(struct pl_map *out, char *name, size_t len)
{
	if (len > DELETED_LEN && !memcmp(name + len - DELETED_LEN, deleted_suffix, DELETED_LEN)) {
		out->deleted = true;
		len -= DELETED_LEN;
		name[len] = '\0';
	}
	out->path = len ? name : NULL;
	out->path_len = len;
}

int pl_maps_query(int fd, uint64_t addr, struct pl_map *out, char *name, size_t name_len)
{
	char raw[PATH_MAX + 64]; /* d_path's longest, and " (deleted)" */
	struct procmap_query q = {
	    .size = sizeof(q),
	    .query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
	    .query_addr = addr,
	    .vma_name_size = sizeof(raw),
	    .vma_name_addr = (uint64_t)(uintptr_t)raw,
	};

	if (!name || name_len == 0)
		return -1;
	if (ioctl(fd, PROCMAP_QUERY, &q) < 0)
		return errno == ENOENT ? 0 : -1;
	fill_from_query(&q, out);
	raw[sizeof(raw) - 1] = '\0';
	if (q.vma_name_size == 0)
		raw[0] = '\0';
	take_query_name(out, name, maps_escaped(raw, name, name_len));
	return 1;
}

const struct pl_map *pl_maps_find(const struct pl_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	/* The last mapping starting at or below addr is the only candidate. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= m->v[lo - 1].end)
		return NULL;
	return &m->v[lo - 1];
}

void pl_maps_free(struct pl_maps *m)
{
	if (!m)
		return;
	free(m->v);
	free(m->text);
	memset(m, 0, sizeof(*m));
}
