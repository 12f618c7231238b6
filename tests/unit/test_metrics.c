// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --metrics: its address parser, the request router and the exposition text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cli.h"
#include "output/metrics.h"
#include "util/escape.h"

static void test_listen_addresses(void **state)
{
	static const struct {
		const char *in, *host, *port;
	} good[] = {
	    {"9464", "127.0.0.1", "9464"},
	    {":0", "127.0.0.1", "0"},
	    {"0.0.0.0:80", "0.0.0.0", "80"},
	    {"[::1]:9464", "::1", "9464"},
	    {"localhost:65535", "localhost", "65535"},
	};
	static const char *const bad[] = {"",	    "abc",	"65536",  "1.2.3.4:",  ":",
					  "::1:80", "[::1:80",	"[]:80",  "a:b:1",     "h:+1",
					  "h: 1",   "h:123456", "[x]y:1", "1.2.3.4:-1"};
	char host[PL_LISTEN_HOST_MAX], port[PL_LISTEN_PORT_MAX];
	char longhost[PL_LISTEN_HOST_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(pl_metrics_parse_listen(good[i].in, host, port), 0);
		assert_string_equal(host, good[i].host);
		assert_string_equal(port, good[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(host, "untouched");
		assert_int_equal(pl_metrics_parse_listen(bad[i], host, port), -1);
		assert_string_equal(host, "untouched");
	}
	memset(longhost, 'h', sizeof(longhost));
	memcpy(longhost + sizeof(longhost) - 4, ":80", 4);
	assert_int_equal(pl_metrics_parse_listen(longhost, host, port), -1);
}

static int route(const char *req, bool *head, bool *index)
{
	return pl_metrics_http_route(req, strlen(req), head, index);
}

static void test_routes(void **state)
{
	bool head, index;
	char big[PL_METRICS_REQUEST_MAX];

	(void)state;
	assert_int_equal(route("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &head, &index), 200);
	assert_false(head);
	assert_false(index);
	assert_int_equal(route("GET /metrics?x=1 HTTP/1.0\n\n", &head, &index), 200);
	assert_int_equal(route("HEAD /metrics HTTP/1.1\r\n\r\n", &head, &index), 200);
	assert_true(head);
	assert_int_equal(route("GET / HTTP/1.1\r\n\r\n", &head, &index), 200);
	assert_true(index);
	assert_int_equal(route("GET /metricsx HTTP/1.1\r\n\r\n", &head, &index), 404);
	assert_int_equal(route("GET /metric HTTP/1.1\r\n\r\n", &head, &index), 404);
	assert_int_equal(route("POST /metrics HTTP/1.1\r\n\r\n", &head, &index), 405);
	assert_int_equal(route("GETX /metrics HTTP/1.1\r\n\r\n", &head, &index), 405);
	assert_int_equal(route("GET\r\n\r\n", &head, &index), 400);
	assert_int_equal(route("GET /metrics\r\n\r\n", &head, &index), 400);
	assert_int_equal(route("GET /metrics HTTP/1.1\r\n", &head, &index), 400); /* cut short */
	assert_int_equal(route("", &head, &index), 400);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	assert_int_equal(pl_metrics_http_route(big, sizeof(big), &head, &index), 431);
}

static char *render(const struct pl_metrics_view *v, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	assert_non_null(f);
	assert_int_equal(pl_metrics_render(f, v), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Each family once, its samples right after its header, every line well formed. */
static void check_grouped(const char *text)
{
	char current[128] = "", seen[4096] = " ";
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		char name[128];

		assert_non_null(nl);
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", current), 1);
			snprintf(name, sizeof(name), " %s ", current);
			assert_null(strstr(seen, name));
			strncat(seen, name + 1, sizeof(seen) - strlen(seen) - 1);
		} else if (line[0] != '#') {
			size_t n = strcspn(line, "{");

			assert_int_equal(n, strlen(current));
			assert_memory_equal(line, current, n);
		}
		line = nl + 1;
	}
}

static void test_render_hostile_comm(void **state)
{
	static struct pl_ledger l;
	__s64 rss[PL_RSS_NR] = {[PL_RSS_ANON] = 4096 * 3, [PL_RSS_FILE] = 8192};
	struct pl_metrics_view v = {.pid = 42,
				    .comm = "a\"b\\c\n\x1b[2J\xff",
				    .up = true,
				    .rss = rss,
				    .lazy_pending = -1,
				    .ledger = &l};
	size_t len;
	char *text;

	(void)state;
	pl_ledger_init(&l, 42, 0);
	l.stats[PL_SYS_MADVISE][4].calls = 2;
	l.stats[PL_SYS_MADVISE][4].bytes = 1 << 20;
	l.stats[PL_SYS_MADVISE][4].rss_released = 12288;
	text = render(&v, &len);
	assert_true(pl_utf8_valid(text, len));
	for (size_t i = 0; i < len; i++)
		assert_true(text[i] == '\n' || (unsigned char)text[i] >= 0x20);
	/* Made safe first (\x1b, \xff, \\ for the backslash), then escaped as a label value. */
	assert_non_null(
	    strstr(text, "{pid=\"42\",comm=\"a\\\"b\\\\\\\\c\\\\x0a\\\\x1b[2J\\\\xff\","));
	assert_non_null(strstr(text, ",member=\"anon\"} 12288\n"));
	/* --no-stacks: the syscall rows, as class unknown. */
	assert_non_null(strstr(text, "pageledger_released_bytes_total{pid=\"42\",comm="));
	assert_non_null(strstr(text,
			       ",class=\"unknown\",syscall=\"madvise\",advice=\"MADV_DONTNEED\"} "
			       "12288\n"));
	assert_non_null(strstr(text, "syscall=\"madvise\"} 2\n"));
	assert_null(strstr(text, "pageledger_lazy_free_pending_bytes{")); /* unknown: no sample */
	assert_null(strstr(text, "pageledger_go_heap_bytes{"));
	assert_null(strstr(text, "pageledger_balance_settled{"));
	check_grouped(text);
	free(text);
	pl_ledger_free(&l);
}

static void test_render_go_heap_and_balance(void **state)
{
	static struct pl_ledger l;
	__s64 rss[PL_RSS_NR] = {0};
	struct pl_go_heap go = {.known = true,
				.version = "go1.19.8",
				.total = {.inuse = 1, .idle = 2, .released = 3, .retained = 4}};
	struct pl_range_row live = {.refaulted = 4096, .refaults = 1, .collapsed_khugepaged = 7},
			    gone = {.refaulted = 8192, .refaults = 2, .collapsed_madvise = 9};
	struct pl_metrics_view v = {.pid = 1,
				    .comm = "go",
				    .rss = rss,
				    .lazy_pending = 5,
				    .ledger = &l,
				    .ranges_live = &live,
				    .ranges_gone = &gone,
				    .go = &go,
				    .lost_events = 6};
	size_t len;
	char *text;

	(void)state;
	pl_ledger_init(&l, 1, 0);
	l.have_balance = true;
	l.last_balance.settled = true;
	l.last_balance.diff[PL_RSS_ANON] = -4096;
	l.causes.updates[PL_CAUSE_LAZYFREE_RECLAIM] = 1;
	l.causes.delta[PL_CAUSE_LAZYFREE_RECLAIM][PL_RSS_ANON] = -65536;
	text = render(&v, &len);
	assert_non_null(strstr(text, "state=\"retained\",version=\"go1.19.8\"} 4\n"));
	assert_non_null(strstr(text, "state=\"inuse\",version=\"go1.19.8\"} 1\n"));
	assert_non_null(strstr(text, "pageledger_target_up{pid=\"1\",comm=\"go\"} 0\n"));
	assert_non_null(
	    strstr(text, "pageledger_lazy_free_pending_bytes{pid=\"1\",comm=\"go\"} 5\n"));
	assert_non_null(
	    strstr(text, "pageledger_refaulted_bytes_total{pid=\"1\",comm=\"go\"} 12288\n"));
	assert_non_null(strstr(text, "by=\"khugepaged\"} 7\n"));
	assert_non_null(strstr(text, "by=\"madvise\"} 9\n"));
	assert_non_null(strstr(text, "kind=\"lazyfree\"} 65536\n"));
	assert_non_null(strstr(text, "member=\"anon\"} -4096\n"));
	assert_non_null(strstr(text, "pageledger_balance_settled{pid=\"1\",comm=\"go\"} 1\n"));
	assert_non_null(strstr(text, "pageledger_lost_events_total{pid=\"1\",comm=\"go\"} 6\n"));
	check_grouped(text);
	free(text);
	pl_ledger_free(&l);
}

static void test_label_value(void **state)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	pl_metrics_label_value(f, "a\\b\"c\nd");
	fclose(f);
	assert_string_equal(text, "a\\\\b\\\"c\\nd");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listen_addresses),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_render_hostile_comm),
	    cmocka_unit_test(test_render_go_heap_and_balance),
	    cmocka_unit_test(test_label_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
