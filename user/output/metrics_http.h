/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --metrics ADDR:PORT: the HTTP endpoint Prometheus scrapes. A thread of
 * its own reads up to PL_METRICS_CLIENTS requests at once, without
 * blocking, and answers GET /metrics with the latest text the metrics sink
 * published: a client that stalls holds only its own slot until its
 * deadline, and never the tracing. Requests are read to a bounded size;
 * anything but GET or HEAD of / or /metrics gets a short error status.
 */
#ifndef PL_OUTPUT_METRICS_HTTP_H
#define PL_OUTPUT_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PL_METRICS_REQUEST_MAX 8192   /* a request's head past this is refused (431) */
#define PL_METRICS_IO_TIMEOUT_MS 2000 /* a whole exchange, from accept to close */
#define PL_METRICS_CLIENTS 16	      /* connections read at once; past that the oldest goes */

#define PL_LISTEN_HOST_MAX 256
#define PL_LISTEN_PORT_MAX 6

struct pl_metrics_http;

/*
 * --metrics' address: "PORT", ":PORT", "HOST:PORT" or "[IPV6]:PORT", the
 * port 0 to 65535 (0: the kernel picks one). HOST defaults to 127.0.0.1.
 * Pure: 0, or -1 with host and port untouched.
 */
int pl_metrics_parse_listen(const char *s, char host[PL_LISTEN_HOST_MAX],
			    char port[PL_LISTEN_PORT_MAX]);

/*
 * Listens on addr (as pl_metrics_parse_listen reads it; port 0: one the
 * kernel picks) and starts serving. The address bound, as
 * "127.0.0.1:9464" or "[::1]:9464", goes to bound. NULL after one line on
 * stderr (a bad address, a port in use).
 */
struct pl_metrics_http *pl_metrics_http_start(const char *addr, char *bound, size_t bound_len);
/* The body every scrape from now on gets (copied). False: no memory, the last one stays. */
bool pl_metrics_http_publish(struct pl_metrics_http *h, const char *text, size_t len);
/* Scrapes answered with the metrics, and requests refused or cut short. */
void pl_metrics_http_counts(struct pl_metrics_http *h, uint64_t *scrapes, uint64_t *refused);
/* Stops the thread, closes the socket and frees h (NULL is fine). */
void pl_metrics_http_stop(struct pl_metrics_http *h);

/*
 * Pure: what a request head asks for. 200 (*head_only set for HEAD, *is_index
 * for "/"), or the error status to answer with (400, 404, 405, 431).
 */
int pl_metrics_http_route(const char *req, size_t len, bool *head_only, bool *is_index);

#endif
