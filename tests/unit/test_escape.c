// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one escaping module: terminal text, JSON strings, XML text, widths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "util/escape.h"

static char shown[256];

static const char *esc(const char *in)
{
	pl_escape(shown, sizeof(shown), in);
	return shown;
}

static char *to_string(void (*write)(FILE *, const char *), const char *in)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	write(f, in);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_terminal_controls_are_escaped(void **state)
{
	(void)state;
	assert_string_equal(esc("plain name.so"), "plain name.so");
	assert_string_equal(esc("red\x1b[31mX\x07"), "red\\x1b[31mX\\x07");
	assert_string_equal(esc("two\nlines\r\t"), "two\\x0alines\\x0d\\x09");
	assert_string_equal(esc("del\x7f"), "del\\x7f");
	assert_string_equal(esc("back\\slash"), "back\\\\slash");
	assert_string_equal(esc(NULL), "");
}

static void test_terminal_utf8(void **state)
{
	(void)state;
	/* Valid UTF-8 passes: names in any script stay readable. */
	assert_string_equal(esc("caf\xc3\xa9 \xe4\xb8\xad"), "caf\xc3\xa9 \xe4\xb8\xad");
	/* Invalid bytes, overlong forms, surrogates and cut sequences do not. */
	assert_string_equal(esc("a\xff"
				"b"),
			    "a\\xffb");
	assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_string_equal(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	assert_string_equal(esc("\xe2\x82"), "\\xe2\\x82");
	/* C1 controls (CSI as U+009B) and bidirectional overrides act on a terminal too. */
	assert_string_equal(esc("\xc2\x9b"
				"2J"),
			    "\\xc2\\x9b2J");
	assert_string_equal(esc("\xe2\x80\xae"
				"exe"),
			    "\\xe2\\x80\\xaeexe");
	assert_string_equal(esc("\xe2\x80\xa8"), "\\xe2\\x80\\xa8");
}

static void test_terminal_fixed_fields_and_short_buffers(void **state)
{
	const char comm[4] = {'a', '\x1b', 'b', 'c'}; /* no NUL, as in a full comm */
	char out[8];
	(void)state;
	assert_int_equal(pl_escape_n(out, sizeof(out), comm, sizeof(comm)), 7);
	assert_string_equal(out, "a\\x1bbc");
	/* Never half an escape or half a character. */
	assert_int_equal(pl_escape(out, 4, "a\x1b"), 1);
	assert_string_equal(out, "a");
	assert_int_equal(pl_escape(out, 3, "\xc3\xa9\xc3\xa9"), 2);
	assert_string_equal(out, "\xc3\xa9");
	assert_int_equal(pl_escape_n(out, sizeof(out), "ab\0cd", 5), 2);
	assert_int_equal(pl_escape(out, 0, "x"), 0);
}

static void test_fputs_matches_the_buffer(void **state)
{
	const char *in = "m\x1b\\\xff\xe2\x80\xae";
	char *text = to_string(pl_escape_fputs, in);
	(void)state;
	assert_string_equal(text, esc(in));
	free(text);
}

static void test_json_strings(void **state)
{
	char *t;
	(void)state;
	t = to_string(pl_escape_json, "q\"b\\\n\x01\x1b\x7f");
	assert_string_equal(t, "\"q\\\"b\\\\\\n\\u0001\\u001b\x7f\"");
	free(t);
	/* Not UTF-8: kept as readable text, so the document stays valid UTF-8. */
	t = to_string(pl_escape_json, "bin\xff"
				      "ary");
	assert_string_equal(t, "\"bin\\\\xffary\"");
	assert_true(pl_utf8_valid(t, strlen(t)));
	free(t);
	t = to_string(pl_escape_json, "caf\xc3\xa9");
	assert_string_equal(t, "\"caf\xc3\xa9\"");
	free(t);
}

static void test_xml_text(void **state)
{
	char *t = to_string(pl_escape_xml, "<a&\"b\">\x1b\xff");
	(void)state;
	assert_string_equal(t, "&lt;a&amp;&quot;b&quot;&gt;\\x1b\\xff");
	free(t);
}

static void test_utf8_decode(void **state)
{
	uint32_t cp;
	(void)state;
	assert_int_equal(pl_utf8_decode("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(pl_utf8_decode("\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(pl_utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(pl_utf8_decode("\xe2\x82\xac", 2, &cp), 0); /* cut short */
	assert_int_equal(pl_utf8_decode("\x80", 1, &cp), 0);
	assert_int_equal(pl_utf8_decode("\xc1\x81", 2, &cp), 0); /* overlong */
	assert_int_equal(pl_utf8_decode("", 0, &cp), 0);
	assert_true(pl_utf8_valid("ok \xc3\xa9", 5));
	assert_false(pl_utf8_valid("\xfe", 1));
}

static void test_width_and_cut(void **state)
{
	(void)state;
	assert_int_equal(pl_text_width("abc"), 3);
	assert_int_equal(pl_text_width("\xe2\x96\x88\xe2\x96\x88"), 2); /* block characters */
	assert_int_equal(pl_text_width("\xe4\xb8\xad\xe6\x96\x87"), 4); /* wide CJK */
	assert_int_equal(pl_text_width("e\xcc\x81"), 1);		/* a combining accent */
	assert_int_equal(pl_text_cut("abcdef", 4), 4);
	assert_int_equal(pl_text_cut("\xe4\xb8\xad\xe6\x96\x87", 3),
			 3); /* not half of the second */
	assert_int_equal(pl_text_cut("ab", 10), 2);
	assert_int_equal(pl_text_cut("ab", 0), 0);
}

int main(void)
{
	const struct CMUnitTest escape_tests[] = {
	    cmocka_unit_test(test_terminal_controls_are_escaped),
	    cmocka_unit_test(test_terminal_utf8),
	    cmocka_unit_test(test_terminal_fixed_fields_and_short_buffers),
	    cmocka_unit_test(test_fputs_matches_the_buffer),
	    cmocka_unit_test(test_json_strings),
	    cmocka_unit_test(test_xml_text),
	    cmocka_unit_test(test_utf8_decode),
	    cmocka_unit_test(test_width_and_cut),
	};

	return cmocka_run_group_tests_name("escape", escape_tests, NULL, NULL);
}
