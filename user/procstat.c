// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procstat.h"

/* The value of "key:" in kB, as bytes; -1 if absent or malformed. */
static int64_t field_kb(const char *text, size_t len, const char *key)
{
	size_t klen = strlen(key);

	for (size_t at = 0; at < len;) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t llen = nl ? (size_t)(nl - line) : len - at;

		if (llen > klen && !memcmp(line, key, klen) && line[klen] == ':') {
			int64_t v = 0;
			size_t i = klen + 1;
			bool digits = false;

			while (i < llen && (line[i] == ' ' || line[i] == '\t'))
				i++;
			for (; i < llen && line[i] >= '0' && line[i] <= '9'; i++) {
				if (v > (INT64_MAX / 1024 - 9) / 10)
					return -1;
				v = v * 10 + (line[i] - '0');
				digits = true;
			}
			return digits ? v * 1024 : -1;
		}
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

int pl_kernel_view_read(pid_t pid, struct pl_kernel_view *v)
{
	char buf[8192];
	ssize_t n;

	memset(v, 0, sizeof(*v));
	n = read_proc(pid, "status", buf, sizeof(buf));
	if (n <= 0)
		return -1;
	pl_parse_status(buf, (size_t)n, v);
	n = read_proc(pid, "smaps_rollup", buf, sizeof(buf));
	if (n > 0)
		pl_parse_rollup(buf, (size_t)n, v);
	return v->have_status ? 0 : -1;
}
