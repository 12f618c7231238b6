// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for user/output/metrics_http.c's parsers of untrusted
 * bytes: any local user can send the endpoint a request, and --metrics'
 * address comes from the command line. The first byte picks the parser;
 * the rest is copied into a buffer of its own size, so a read past it is
 * seen.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser tests/fuzz/fuzz_metrics.c \
 *         user/output/metrics_http.c user/util/clock.c -lpthread -o build/fuzz/fuzz_metrics
 * Seeds: tests/fuzz/corpus/metrics (requests and addresses, good and bad).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "output/metrics_http.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void fuzz_route(const char *req, size_t len)
{
	bool head = true, index = true;
	int status = pl_metrics_http_route(req, len, &head, &index);

	check(status == 200 || status == 400 || status == 404 || status == 405 || status == 431);
	if (status != 200)
		check(!head && !index);
}

static void fuzz_listen(const char *in, size_t len)
{
	char *s = malloc(len + 1), host[PL_LISTEN_HOST_MAX], port[PL_LISTEN_PORT_MAX];

	check(s != NULL);
	memcpy(s, in, len);
	s[len] = '\0';
	if (!pl_metrics_parse_listen(s, host, port)) {
		check(memchr(host, '\0', sizeof(host)) && memchr(port, '\0', sizeof(port)));
		check(host[0] && port[0] && strtoul(port, NULL, 10) <= 65535);
		check(!strchr(host, '[') && !strchr(host, ']'));
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (!size)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1);
	check(copy != NULL);
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		fuzz_listen(copy, size - 1);
	else
		fuzz_route(copy, size - 1);
	free(copy);
	return 0;
}
