/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * /proc/PID/maps: a bounds-checked parser over a text buffer (pure, so it
 * can be fuzzed) and a reader for a live process. The text comes from a
 * process an untrusted user controls (its paths are theirs), so nothing in
 * it is trusted: every field is range-checked and bad lines are skipped.
 */
#ifndef PL_PROCMAPS_H
#define PL_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Hard limits: what a real kernel prints stays far below them. */
#define PL_MAPS_MAX_TEXT (64u << 20)
#define PL_MAPS_MAX_ENTRIES (1u << 20)

/* One mapping: [start, end) maps the file at offset. */
struct pl_map {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	bool readable, writable, executable, shared;
	bool deleted;	  /* the path ended in " (deleted)", now stripped */
	const char *path; /* NUL-terminated; NULL for anonymous memory */
	size_t path_len;
};

/* A whole table, sorted by start. Paths point into text, which it owns. */
struct pl_maps {
	struct pl_map *v;
	size_t n;
	size_t bad_lines; /* lines that did not parse and were skipped */
	char *text;
};

/*
 * Parses one line (without its '\n'; len bytes, no NUL needed). On success
 * out->path points into line and is NOT NUL-terminated: use path_len.
 * Returns 0, or -1 if the line is malformed.
 */
int pl_maps_parse_line(const char *line, size_t len, struct pl_map *out);
/*
 * Parses a whole maps text (len bytes). Malformed lines are counted in
 * bad_lines and skipped. Returns 0, or -1 on allocation failure or text
 * over PL_MAPS_MAX_TEXT. Free with pl_maps_free() either way.
 */
int pl_maps_parse(const char *text, size_t len, struct pl_maps *out);
/*
 * Reads all of fd (a /proc text), less than PL_MAPS_MAX_TEXT bytes, with room
 * for a NUL after them. Caller frees; NULL on error.
 */
char *pl_read_all(int fd, size_t *len);
/* Reads and parses /proc/PID/maps. Returns 0, or -1 (errno set). */
int pl_maps_read(pid_t pid, struct pl_maps *out);
/*
 * One mapping by PROCMAP_QUERY (Linux 6.11+) on fd, an open /proc/PID/maps:
 * the one covering addr, or else the next one above it. Its path (as the
 * maps text prints it: " (deleted)" stripped, a newline as \012) goes to
 * name, name_len bytes; out->path points there. Returns 1, 0 if no mapping
 * is at or above addr, or -1 (errno ENOTTY: this kernel has no query).
 */
int pl_maps_query(int fd, uint64_t addr, struct pl_map *out, char *name, size_t name_len);
/* The mapping containing addr, or NULL. */
const struct pl_map *pl_maps_find(const struct pl_maps *m, uint64_t addr);
void pl_maps_free(struct pl_maps *m);

#endif
