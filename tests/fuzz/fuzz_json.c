// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for JSON strings (pl_json_write_string, user/util/escape.c
 * through user/output/json.c): whatever bytes a name holds, the record is
 * valid UTF-8, every control character is escaped, and a strict RFC 8259
 * reader gets the name back, with bytes that are not UTF-8 as "\xNN" text.
 *
 *   make build/fuzz/fuzz_json && scripts/fuzz.sh 60 fuzz_json
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output/json.h"
#include "util/escape.h"
#include "fuzz_check.h"

static long put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | cp >> 12);
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* One JSON string at s, strictly; its decoded bytes in out. Length read, or -1. */
static long read_string(const char *s, size_t n, char *out, long *out_len)
{
	static const char simple[] = "\"\\/bfnrt", value[] = "\"\\/\b\f\n\r\t";
	size_t i = 1;
	long used = 0;

	if (!n || s[0] != '"')
		return -1;
	while (i < n && s[i] != '"') {
		unsigned char c = (unsigned char)s[i];
		const char *e;

		if (c < 0x20)
			return -1; /* raw control characters are not JSON */
		if (c != '\\') {
			out[used++] = s[i++];
			continue;
		}
		if (i + 1 >= n)
			return -1;
		e = strchr(simple, s[i + 1]);
		if (e && s[i + 1]) {
			out[used++] = value[e - simple];
			i += 2;
		} else if (s[i + 1] == 'u' && i + 5 < n) {
			uint32_t cp = 0;

			for (int k = 2; k < 6; k++) {
				if (hexval(s[i + k]) < 0)
					return -1;
				cp = cp << 4 | (uint32_t)hexval(s[i + k]);
			}
			check(cp < 0xd800 || cp > 0xdfff); /* we never write surrogates */
			used += put_utf8(out + used, cp);
			i += 6;
		} else {
			return -1;
		}
	}
	if (i >= n)
		return -1;
	*out_len = used;
	return (long)i + 1;
}

/* What the reader must get back: the input, with non-UTF-8 bytes as "\xNN". */
static size_t expected(const char *in, size_t n, char *out)
{
	size_t used = 0;
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		int k = pl_utf8_decode(in + i, n - i, &cp);

		if (k) {
			memcpy(out + used, in + i, (size_t)k);
			used += (size_t)k;
			i += (size_t)k;
		} else {
			used += (size_t)sprintf(out + used, "\\x%02x", (unsigned char)in[i++]);
		}
	}
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *text = NULL, *got = malloc(4 * size + 8),
	     *want = malloc(4 * size + 8);
	size_t len = 0, n, wn;
	FILE *f = open_memstream(&text, &len);
	struct pl_json j;
	long got_len, at;

	memcpy(in, data, size);
	in[size] = '\0';
	n = strlen(in);
	check(f != NULL);
	/* As a record would hold it: a key and a value of the same bytes. */
	pl_json_init(&j, f);
	pl_json_object_begin(&j, NULL);
	pl_json_str(&j, in, in);
	pl_json_object_end(&j);
	pl_json_line_end(&j);
	check(fclose(f) == 0);

	check(pl_utf8_valid(text, len));
	check(len >= 4 && text[0] == '{' && text[len - 2] == '}' && text[len - 1] == '\n');
	wn = expected(in, n, want);
	at = read_string(text + 1, len - 1, got, &got_len);
	check(at > 0 && (size_t)got_len == wn && !memcmp(got, want, wn));
	check(text[1 + at] == ':');
	at = read_string(text + 2 + at, len - 2 - (size_t)at, got, &got_len);
	check(at > 0 && (size_t)got_len == wn && !memcmp(got, want, wn));
	free(text);
	free(in);
	free(got);
	free(want);
	return 0;
}
