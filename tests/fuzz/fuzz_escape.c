// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the terminal and XML escaping (user/util/escape.c):
 * whatever bytes a target names a file or a symbol, the text shown holds no
 * byte a terminal acts on, is valid UTF-8, reads back to the input exactly,
 * is cut only between whole pieces, and measures and cuts by columns.
 *
 *   make build/fuzz/fuzz_escape && scripts/fuzz.sh 60 fuzz_escape
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/escape.h"
#include "fuzz_check.h"

/* Reads escaped text back; entities too when xml. Returns the length, or -1 if malformed. */
static long unescape(const char *s, size_t n, char *out, int xml)
{
	static const char *const ent[][2] = {
	    {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", "\""}};
	long used = 0;

	for (size_t i = 0; i < n;) {
		if (xml && s[i] == '&') {
			size_t e = 0;

			while (e < 4 && strncmp(s + i, ent[e][0], strlen(ent[e][0])))
				e++;
			if (e == 4)
				return -1;
			out[used++] = ent[e][1][0];
			i += strlen(ent[e][0]);
		} else if (s[i] != '\\') {
			check(!xml || (s[i] != '<' && s[i] != '>' && s[i] != '"'));
			out[used++] = s[i++];
		} else if (i + 1 < n && s[i + 1] == '\\') {
			out[used++] = '\\';
			i += 2;
		} else if (i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
			   hexval(s[i + 3]) >= 0) {
			out[used++] = (char)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
			i += 4;
		} else {
			return -1;
		}
	}
	return used;
}

/* Nothing a terminal acts on: no C0, DEL, C1, bidi control or line separator. */
static void check_safe(const char *s, size_t n)
{
	check(pl_utf8_valid(s, n));
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int k = pl_utf8_decode(s + i, n - i, &cp);

		check(k > 0);
		check(cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f));
		check(!(cp >= 0x2028 && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069));
		check(cp != 0x061c && cp != 0x200e && cp != 0x200f);
		i += (size_t)k;
	}
}

static void check_terminal(const char *in, size_t n, size_t shown_len)
{
	size_t cap = 4 * n + 1;
	char *full = malloc(cap), *cut = malloc(cap), *back = malloc(n + 1);
	size_t len = pl_escape_n(full, cap, in, n);
	size_t small = pl_escape_n(cut, shown_len % cap + 1, in, n);
	long m;

	check(len == strlen(full) && len < cap);
	check_safe(full, len);
	m = unescape(full, len, back, 0);
	check(m >= 0 && (size_t)m == strnlen(in, n) && !memcmp(back, in, (size_t)m));
	/* A short buffer holds a head of the same text, ending between pieces. */
	check(small <= shown_len % cap && small <= len && !memcmp(cut, full, small));
	check(unescape(cut, small, back, 0) >= 0);
	/* Columns: a cut fits, and the next character would not. */
	{
		int cols = (int)(shown_len % 97), w = pl_text_width(full);
		size_t head = pl_text_cut(full, cols);

		check(w >= 0 && head <= len);
		memcpy(cut, full, head);
		cut[head] = '\0';
		check(pl_text_width(cut) <= cols);
		if (head < len) { /* the next character would not have fitted */
			uint32_t cp;
			int k = pl_utf8_decode(full + head, len - head, &cp);

			check(k > 0);
			memcpy(cut + head, full + head, (size_t)k);
			cut[head + (size_t)k] = '\0';
			check(pl_text_width(cut) > cols);
		}
	}
	free(full);
	free(cut);
	free(back);
}

static void check_xml(const char *in)
{
	char *text = NULL, *back;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	long m;

	check(f != NULL);
	pl_escape_xml(f, in);
	check(fclose(f) == 0);
	check_safe(text, len);
	back = malloc(strlen(in) + 1);
	m = unescape(text, len, back, 1);
	check(m >= 0 && (size_t)m == strlen(in) && !memcmp(back, in, (size_t)m));
	free(back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, no NUL: pl_escape_n must stop at n. */
	char *in = malloc(size ? size : 1), *z = malloc(size + 1);
	size_t shown_len = size ? data[0] * 3u : 0;

	memcpy(in, data, size);
	check_terminal(in, size, shown_len);
	memcpy(z, data, size);
	z[size] = '\0';
	check_xml(z);
	free(in);
	free(z);
	return 0;
}
