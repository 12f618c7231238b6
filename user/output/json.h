/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A streaming JSON writer: objects and arrays nest, commas are placed for
 * the caller, strings are escaped per RFC 8259. Pure: writes to any FILE.
 */
#ifndef PL_JSON_H
#define PL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PL_JSON_MAX_DEPTH 16

struct pl_json {
	FILE *f;
	int depth;
	bool need_comma[PL_JSON_MAX_DEPTH];
	bool overflow; /* nesting went past PL_JSON_MAX_DEPTH */
};

void pl_json_init(struct pl_json *j, FILE *f);
void pl_json_object_begin(struct pl_json *j, const char *key);
void pl_json_object_end(struct pl_json *j);
void pl_json_array_begin(struct pl_json *j, const char *key);
void pl_json_array_end(struct pl_json *j);
/* key may be NULL inside arrays. */
void pl_json_str(struct pl_json *j, const char *key, const char *value);
void pl_json_u64(struct pl_json *j, const char *key, uint64_t value);
void pl_json_s64(struct pl_json *j, const char *key, int64_t value);
void pl_json_double(struct pl_json *j, const char *key, double value);
void pl_json_bool(struct pl_json *j, const char *key, bool value);
void pl_json_null(struct pl_json *j, const char *key);
/* Ends a top-level value with a newline: one JSON Lines record. */
void pl_json_line_end(struct pl_json *j);
/* Writes s as a quoted, escaped JSON string. */
void pl_json_write_string(FILE *f, const char *s);

#endif
