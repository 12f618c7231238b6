/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one place where strings the target controls (comm, paths, symbols,
 * memfd and cgroup names) are made safe to show. The traced program picks
 * these bytes, and we print them as root on someone's terminal, in JSON
 * that tools parse, and in SVG that browsers render.
 *
 * For a terminal (and the SVG, which shows the same text): printable ASCII
 * and valid UTF-8 pass; control bytes (C0, DEL), C1 controls, bidirectional
 * overrides, line separators, bytes that are not valid UTF-8 and the
 * backslash itself are written as "\x1b" (one per byte) and "\\". The result
 * holds no byte a terminal acts on, and reads back to the original exactly.
 * For JSON: RFC 8259 escapes, and bytes that are not valid UTF-8 as the text
 * "\xff", so that every document is valid UTF-8.
 */
#ifndef PL_ESCAPE_H
#define PL_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The UTF-8 character at p (n bytes readable): its length 1..4 and its code
 * point, or 0 if the bytes are not one (overlong, surrogate, past U+10FFFF,
 * cut short, a stray continuation byte).
 */
int pl_utf8_decode(const char *p, size_t n, uint32_t *cp);
/* Whether all of s[0..n) is valid UTF-8. */
bool pl_utf8_valid(const char *s, size_t n);

/*
 * Terminal-safe copy of in (at most n bytes, ending early at a NUL; in NULL
 * reads as ""). Writes at most len bytes with the NUL and never cuts an
 * escape or a character in two. Returns the bytes written, without the NUL.
 */
size_t pl_escape_n(char *out, size_t len, const char *in, size_t n);
size_t pl_escape(char *out, size_t len, const char *in);
/* The same, straight to f. */
void pl_escape_fputs(FILE *f, const char *in);

/* in as one quoted JSON string, valid UTF-8 whatever in holds. */
void pl_escape_json(FILE *f, const char *in);
/* in as XML 1.0 character data or attribute text (& < > " as entities). */
void pl_escape_xml(FILE *f, const char *in);

/*
 * Columns that text made safe by pl_escape takes on a terminal: wide East
 * Asian characters count two, combining marks none.
 */
int pl_text_width(const char *s);
/* Bytes of the longest head of s that fits in cols columns, never half a character. */
size_t pl_text_cut(const char *s, int cols);

#endif
