// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <limits.h>
#include <string.h>
#include "util/escape.h"

static bool continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

int pl_utf8_decode(const char *p, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
	int len;

	if (!n)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		*cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		*cp = s[0] & 0x0f;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
		hi = s[0] == 0xed ? 0x9f : 0xbf; /* no surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		*cp = s[0] & 0x07;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf; /* nothing past U+10FFFF */
	} else {
		return 0;
	}
	if ((size_t)len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 1; i < len; i++) {
		if (!continuation(s[i]))
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return len;
}

bool pl_utf8_valid(const char *s, size_t n)
{
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		int k = pl_utf8_decode(s + i, n - i, &cp);

		if (!k)
			return false;
		i += (size_t)k;
	}
	return true;
}

/* Code points a terminal acts on, or that reorder or break the line shown. */
static bool unsafe_on_screen(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The next piece of in: how many bytes it spans, and whether they are
 * shown as they are or as \xNN each. A backslash is its own case.
 */
static int next_piece(const char *in, size_t n, bool *escaped)
{
	uint32_t cp;
	int k = pl_utf8_decode(in, n, &cp);

	*escaped = !k || unsafe_on_screen(cp);
	return k ? k : 1;
}

/* Length of in, up to n bytes and its first NUL. */
static size_t bounded_len(const char *in, size_t n)
{
	const char *nul = memchr(in, '\0', n);

	return nul ? (size_t)(nul - in) : n;
}

/* Writes the piece's shown form into buf (at least 17 bytes); returns its length. */
static size_t shown_piece(const char *in, int k, bool escaped, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0;

	if (k == 1 && *in == '\\') {
		memcpy(buf, "\\\\", 2);
		return 2;
	}
	if (!escaped) {
		memcpy(buf, in, (size_t)k);
		return (size_t)k;
	}
	for (int i = 0; i < k; i++) {
		unsigned char c = (unsigned char)in[i];

		buf[used++] = '\\';
		buf[used++] = 'x';
		buf[used++] = hex[c >> 4];
		buf[used++] = hex[c & 15];
	}
	return used;
}

size_t pl_escape_n(char *out, size_t len, const char *in, size_t n)
{
	char piece[17];
	size_t used = 0;

	if (!len)
		return 0;
	in = in ? in : "";
	n = bounded_len(in, n);
	for (size_t i = 0; i < n;) {
		bool escaped;
		int k = next_piece(in + i, n - i, &escaped);
		size_t m = shown_piece(in + i, k, escaped, piece);

		if (used + m >= len)
			break;
		memcpy(out + used, piece, m);
		used += m;
		i += (size_t)k;
	}
	out[used] = '\0';
	return used;
}

size_t pl_escape(char *out, size_t len, const char *in)
{
	return pl_escape_n(out, len, in, in ? strlen(in) : 0);
}

void pl_escape_fputs(FILE *f, const char *in)
{
	char piece[17];
	size_t n = in ? strlen(in) : 0;

	for (size_t i = 0; i < n;) {
		bool escaped;
		int k = next_piece(in + i, n - i, &escaped);

		fwrite(piece, 1, shown_piece(in + i, k, escaped, piece), f);
		i += (size_t)k;
	}
}

/* JSON's own escapes for the characters it needs escaped; NULL for the rest. */
static const char *json_short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		return NULL;
	}
}

/* Bytes from s on that need no escape anywhere: printable ASCII but for " \\ & < >. */
static size_t plain_run(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= 0x20 && s[i] < 0x7f && !strchr("\"\\&<>", s[i]))
		i++;
	return i;
}

void pl_escape_json(FILE *f, const char *in)
{
	size_t n = in ? strlen(in) : 0;
	uint32_t cp;

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)in[i];
		size_t run = plain_run(in + i, n - i);
		int k;
		const char *esc;

		if (run) { /* the common case, names in plain ASCII: one write */
			fwrite(in + i, 1, run, f);
			i += run;
			continue;
		}
		k = pl_utf8_decode(in + i, n - i, &cp);
		esc = json_short_escape(c);

		if (esc)
			fputs(esc, f);
		else if (!k) /* not UTF-8: kept readable as text, so the document stays valid */
			fprintf(f, "\\\\x%02x", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fwrite(in + i, 1, (size_t)k, f);
		i += k ? (size_t)k : 1;
	}
	fputc('"', f);
}

static const char *xml_entity(unsigned char c)
{
	switch (c) {
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '&':
		return "&amp;";
	case '"':
		return "&quot;";
	default:
		return NULL;
	}
}

void pl_escape_xml(FILE *f, const char *in)
{
	char piece[17];
	size_t n = in ? strlen(in) : 0;

	/* What a terminal is shown, so XML 1.0's forbidden characters never appear. */
	for (size_t i = 0; i < n;) {
		bool escaped;
		int k = next_piece(in + i, n - i, &escaped);
		const char *entity = xml_entity((unsigned char)in[i]);

		if (entity)
			fputs(entity, f);
		else
			fwrite(piece, 1, shown_piece(in + i, k, escaped, piece), f);
		i += (size_t)k;
	}
}

/* ---- width ------------------------------------------------------------------ */

static bool in_ranges(uint32_t cp, const uint32_t (*r)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cp >= r[i][0] && cp <= r[i][1])
			return true;
	return false;
}

/* Columns one code point takes: the common cases of Unicode's East Asian Width. */
static int columns_of(uint32_t cp)
{
	static const uint32_t zero[][2] = {
	    {0x0300, 0x036f}, {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff}, {0x200b, 0x200f},
	    {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f},
	};
	static const uint32_t wide[][2] = {
	    {0x1100, 0x115f},	{0x2e80, 0x303e},   {0x3041, 0x33ff},	{0x3400, 0x4dbf},
	    {0x4e00, 0x9fff},	{0xa000, 0xa4cf},   {0xac00, 0xd7a3},	{0xf900, 0xfaff},
	    {0xfe30, 0xfe4f},	{0xff00, 0xff60},   {0xffe0, 0xffe6},	{0x1f300, 0x1f64f},
	    {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
	};

	if (in_ranges(cp, zero, sizeof(zero) / sizeof(zero[0])))
		return 0;
	return in_ranges(cp, wide, sizeof(wide) / sizeof(wide[0])) ? 2 : 1;
}

/* Walks s while it fits in cols columns: the bytes walked, and in *used their columns. */
static size_t fit(const char *s, int cols, int *used)
{
	size_t n = strlen(s), i = 0;

	*used = 0;
	while (i < n) {
		uint32_t cp;
		int k = pl_utf8_decode(s + i, n - i, &cp);
		int w = k ? columns_of(cp) : 1;

		if (*used + w > cols)
			break;
		*used += w;
		i += k ? (size_t)k : 1;
	}
	return i;
}

size_t pl_text_cut(const char *s, int cols)
{
	int used;

	return fit(s, cols, &used);
}

int pl_text_width(const char *s)
{
	int used;

	fit(s, INT_MAX, &used);
	return used;
}
