// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "symbolize/procmaps.h"
#include "ledger/procstat.h"
#include "util/clock.h"

/* "   123 kB" as bytes; -1 if malformed. */
static int64_t kb_value(const char *p, size_t n)
{
	int64_t v = 0;
	size_t i = 0;
	bool digits = false;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (INT64_MAX / 1024 - 9) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
		digits = true;
	}
	return digits ? v * 1024 : -1;
}

/* If line is "key: N kB", its value in bytes; -2 if it is another key. */
static int64_t line_kb(const char *line, size_t llen, const char *key)
{
	size_t klen = strlen(key);

	if (llen <= klen || memcmp(line, key, klen) || line[klen] != ':')
		return -2;
	return kb_value(line + klen + 1, llen - klen - 1);
}

/* The value of "key:" in kB, as bytes; -1 if absent or malformed. */
static int64_t field_kb(const char *text, size_t len, const char *key)
{
	for (size_t at = 0; at < len;) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t llen = nl ? (size_t)(nl - line) : len - at;
		int64_t v = line_kb(line, llen, key);

		if (v != -2)
			return v;
		at += llen + 1;
	}
	return -1;
}

void pl_parse_status(const char *text, size_t len, struct pl_kernel_view *v)
{
	v->anon = field_kb(text, len, "RssAnon");
	v->file = field_kb(text, len, "RssFile");
	v->shmem = field_kb(text, len, "RssShmem");
	v->swap = field_kb(text, len, "VmSwap");
	v->have_status = v->anon >= 0 && v->file >= 0 && v->shmem >= 0;
}

void pl_parse_rollup(const char *text, size_t len, struct pl_kernel_view *v)
{
	v->lazy_free = field_kb(text, len, "LazyFree");
	v->anon_huge = field_kb(text, len, "AnonHugePages");
	v->have_rollup = v->lazy_free >= 0;
}

/* Reads a small /proc file whole. Returns its length, or -1. */
static ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)total < size - 1 &&
	       ((n = read(fd, buf + total, size - 1 - (size_t)total)) > 0 ||
		(n < 0 && errno == EINTR)))
		total += n > 0 ? n : 0;
	close(fd);
	buf[total] = '\0';
	return total;
}

int pl_kernel_view_read_status(pid_t pid, struct pl_kernel_view *v)
{
	char buf[8192];
	ssize_t n;

	memset(v, 0, sizeof(*v));
	n = read_proc(pid, "status", buf, sizeof(buf));
	if (n <= 0)
		return -1;
	pl_parse_status(buf, (size_t)n, v);
	return v->have_status ? 0 : -1;
}

void pl_kernel_view_read_rollup(pid_t pid, struct pl_kernel_view *v)
{
	char buf[8192];
	ssize_t n = read_proc(pid, "smaps_rollup", buf, sizeof(buf));

	if (n > 0)
		pl_parse_rollup(buf, (size_t)n, v);
}

int pl_kernel_view_read(pid_t pid, struct pl_kernel_view *v)
{
	if (pl_kernel_view_read_status(pid, v) < 0)
		return -1;
	pl_kernel_view_read_rollup(pid, v);
	return 0;
}

/* One field line of the VMA being read. */
static void smaps_field(struct pl_smaps_vma *v, const char *line, size_t llen)
{
	int64_t x;

	if ((x = line_kb(line, llen, "Rss")) != -2)
		v->rss = x;
	else if ((x = line_kb(line, llen, "LazyFree")) != -2)
		v->lazy_free = x;
	else if ((x = line_kb(line, llen, "AnonHugePages")) != -2)
		v->anon_huge = x;
	else if ((x = line_kb(line, llen, "Swap")) != -2)
		v->swap = x;
}

int pl_smaps_parse(const char *text, size_t len, pl_smaps_fn fn, void *ctx)
{
	struct pl_smaps_vma v;
	bool open_vma = false;
	int n = 0;

	for (size_t at = 0; at < len;) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t llen = nl ? (size_t)(nl - line) : len - at;
		struct pl_map m;

		if (!pl_maps_parse_line(line, llen, &m)) {
			if (open_vma)
				fn(ctx, &v), n++;
			memset(&v, 0, sizeof(v));
			v.start = m.start;
			v.end = m.end;
			v.rss = v.lazy_free = v.anon_huge = v.swap = -1;
			v.path = m.path;
			v.path_len = m.path_len;
			open_vma = true;
		} else if (open_vma) {
			smaps_field(&v, line, llen);
		}
		at += llen + 1;
	}
	if (open_vma)
		fn(ctx, &v), n++;
	return n;
}

/* Where the last VMA header line in text starts (0: none after the first byte). */
static size_t last_header(const char *text, size_t len)
{
	for (size_t at = len; at > 0; at--) {
		struct pl_map m;
		const char *line = text + at;
		const char *nl;

		if (text[at - 1] != '\n' || at == len)
			continue;
		nl = memchr(line, '\n', len - at);
		if (nl && !pl_maps_parse_line(line, (size_t)(nl - line), &m))
			return at;
	}
	return 0;
}

#define SMAPS_CHUNK (64 * 1024)
#define SMAPS_MAX_BLOCK (1024 * 1024) /* one VMA's lines: a path is at most 4 KiB */

/*
 * Streamed: a 64 KiB window, parsed up to its last VMA header, the rest
 * carried over. Memory stays the same whatever the number of mappings
 * (smaps of 65,000 mappings is 47 MB of text).
 */
int pl_smaps_read(pid_t pid, pl_smaps_fn fn, void *ctx)
{
	bool cut;

	return pl_smaps_read_until(pid, fn, ctx, 0, &cut);
}

int pl_smaps_read_until(pid_t pid, pl_smaps_fn fn, void *ctx, uint64_t deadline_ns, bool *cut)
{
	size_t cap = SMAPS_CHUNK, len = 0;
	char path[64], *buf = malloc(cap);
	int fd, n = 0;

	*cut = false;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	while (fd >= 0) {
		ssize_t got;
		size_t at;

		if (len == cap) { /* one block larger than the window: widen it, within bounds */
			char *wider = cap < SMAPS_MAX_BLOCK ? realloc(buf, cap * 2) : NULL;

			if (!wider)
				break;
			buf = wider;
			cap *= 2;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			n = got < 0 ? -1 : n + pl_smaps_parse(buf, len, fn, ctx);
			close(fd);
			free(buf);
			return n;
		}
		len += (size_t)got;
		at = last_header(buf, len);
		if (!at)
			continue;
		n += pl_smaps_parse(buf, at, fn, ctx);
		memmove(buf, buf + at, len - at);
		len -= at;
		if (deadline_ns && pl_now_ns() >= deadline_ns) { /* the rest stays unread */
			*cut = true;
			close(fd);
			free(buf);
			return n;
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}

void pl_self_rss(uint64_t *rss, uint64_t *peak)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "re");

	*rss = *peak = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*rss = strtoull(line + 6, NULL, 10) * 1024;
		else if (!strncmp(line, "VmHWM:", 6))
			*peak = strtoull(line + 6, NULL, 10) * 1024;
	}
	fclose(f);
}
