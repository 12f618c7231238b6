// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <math.h>
#include "output/json.h"
#include "util/escape.h"

void pl_json_init(struct pl_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma[0] = false;
	j->overflow = false;
}

void pl_json_write_string(FILE *f, const char *s)
{
	pl_escape_json(f, s);
}

/* Separator and key for the next value at the current depth. */
static void prefix(struct pl_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	if (key) {
		pl_json_write_string(j->f, key);
		fputc(':', j->f);
	}
}

static void open_scope(struct pl_json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	if (j->depth + 1 >= PL_JSON_MAX_DEPTH) {
		j->overflow = true;
		return;
	}
	j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_scope(struct pl_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void pl_json_object_begin(struct pl_json *j, const char *key)
{
	open_scope(j, key, '{');
}

void pl_json_object_end(struct pl_json *j)
{
	close_scope(j, '}');
}

void pl_json_array_begin(struct pl_json *j, const char *key)
{
	open_scope(j, key, '[');
}

void pl_json_array_end(struct pl_json *j)
{
	close_scope(j, ']');
}

void pl_json_str(struct pl_json *j, const char *key, const char *value)
{
	prefix(j, key);
	pl_json_write_string(j->f, value);
}

void pl_json_u64(struct pl_json *j, const char *key, uint64_t value)
{
	prefix(j, key);
	fprintf(j->f, "%" PRIu64, value);
}

void pl_json_s64(struct pl_json *j, const char *key, int64_t value)
{
	prefix(j, key);
	fprintf(j->f, "%" PRId64, value);
}

void pl_json_double(struct pl_json *j, const char *key, double value)
{
	prefix(j, key);
	/* JSON has no NaN or infinity. */
	if (isfinite(value))
		fprintf(j->f, "%.6g", value);
	else
		fputs("null", j->f);
}

void pl_json_bool(struct pl_json *j, const char *key, bool value)
{
	prefix(j, key);
	fputs(value ? "true" : "false", j->f);
}

void pl_json_null(struct pl_json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}

void pl_json_line_end(struct pl_json *j)
{
	fputc('\n', j->f);
	j->depth = 0;
	j->need_comma[0] = false;
}
