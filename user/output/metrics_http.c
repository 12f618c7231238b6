// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "output/metrics_http.h"
#include "util/clock.h"

#define IO_BUDGET_NS ((uint64_t)PL_METRICS_IO_TIMEOUT_MS * 1000000ull)

/* "0".."65535", digits only. */
static bool valid_port(const char *p, size_t n)
{
	unsigned long v = 0;

	if (!n || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v <= 65535;
}

int pl_metrics_parse_listen(const char *s, char host[PL_LISTEN_HOST_MAX],
			    char port[PL_LISTEN_PORT_MAX])
{
	const char *colon = strrchr(s, ':'), *h = s, *p = s;
	size_t hn = 0;

	if (colon) {
		p = colon + 1;
		hn = (size_t)(colon - s);
		if (hn && s[0] == '[') { /* [::1]:9464 */
			if (hn < 3 || s[hn - 1] != ']')
				return -1;
			h = s + 1;
			hn -= 2;
		} else if (memchr(s, ':', hn)) {
			return -1; /* an IPv6 address needs its brackets */
		}
	}
	if (!valid_port(p, strlen(p)) || hn >= PL_LISTEN_HOST_MAX || memchr(h, '[', hn) ||
	    memchr(h, ']', hn))
		return -1;
	if (hn)
		snprintf(host, PL_LISTEN_HOST_MAX, "%.*s", (int)hn, h);
	else
		snprintf(host, PL_LISTEN_HOST_MAX, "127.0.0.1");
	snprintf(port, PL_LISTEN_PORT_MAX, "%s", p);
	return 0;
}

struct pl_metrics_http {
	int listen_fd;
	int wake[2]; /* a byte on wake[1] ends the thread */
	pthread_t thread;
	pthread_mutex_t lock; /* guards body, len and the counts */
	char *body;
	size_t len;
	uint64_t scrapes, refused;
};

/* "GET /metrics HTTP/1.1": the method and the path up to '?', compared whole. */
static bool token_is(const char *p, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(p, want, n);
}

int pl_metrics_http_route(const char *req, size_t len, bool *head_only, bool *is_index)
{
	const char *sp1 = memchr(req, ' ', len), *path, *end;
	size_t path_len;

	*head_only = *is_index = false;
	if (!memmem(req, len, "\r\n\r\n", 4) && !memmem(req, len, "\n\n", 2))
		return len >= PL_METRICS_REQUEST_MAX ? 431 : 400;
	if (!sp1)
		return 400;
	path = sp1 + 1;
	end = memchr(path, ' ', len - (size_t)(path - req));
	if (!end)
		return 400;
	path_len = (size_t)(end - path);
	for (size_t i = 0; i < path_len; i++)
		if (path[i] == '?') { /* Prometheus may add params: they change nothing */
			path_len = i;
			break;
		}
	if (!token_is(req, (size_t)(sp1 - req), "GET") &&
	    !token_is(req, (size_t)(sp1 - req), "HEAD"))
		return 405;
	if (!token_is(path, path_len, "/") && !token_is(path, path_len, "/metrics"))
		return 404;
	*head_only = token_is(req, (size_t)(sp1 - req), "HEAD");
	*is_index = token_is(path, path_len, "/");
	return 200;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	}
	return "Error";
}

/* The whole answer within the budget: a reader that drains a byte at a time is cut off. */
static bool send_all(int fd, const char *p, size_t n, uint64_t deadline_ns)
{
	while (n) {
		if (pl_now_ns() > deadline_ns)
			return false;
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads a request head: up to the blank line, PL_METRICS_REQUEST_MAX bytes, or the timeout. */
static size_t read_head(int fd, char *buf, size_t cap, uint64_t deadline_ns)
{
	size_t n = 0;

	while (n < cap && pl_now_ns() < deadline_ns) {
		ssize_t r = recv(fd, buf + n, cap - n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memmem(buf, n, "\r\n\r\n", 4) || memmem(buf, n, "\n\n", 2))
			break;
	}
	return n;
}

static const char index_page[] =
    "pageledger: the metrics are at /metrics (Prometheus text format 0.0.4)\n";

/* The body to send: a copy of the published text, taken under the lock. */
static char *take_body(struct pl_metrics_http *h, size_t *len)
{
	char *copy;

	pthread_mutex_lock(&h->lock);
	copy = malloc(h->len ? h->len : 1);
	*len = copy ? h->len : 0;
	if (copy && h->len)
		memcpy(copy, h->body, h->len);
	pthread_mutex_unlock(&h->lock);
	return copy;
}

static void count(struct pl_metrics_http *h, bool scraped)
{
	pthread_mutex_lock(&h->lock);
	if (scraped)
		h->scrapes++;
	else
		h->refused++;
	pthread_mutex_unlock(&h->lock);
}

static void answer(struct pl_metrics_http *h, int fd)
{
	char req[PL_METRICS_REQUEST_MAX], head[256];
	uint64_t deadline = pl_now_ns() + IO_BUDGET_NS;
	size_t n = read_head(fd, req, sizeof(req), deadline), len = 0;
	bool head_only, is_index;
	int status = pl_metrics_http_route(req, n, &head_only, &is_index);
	char *body = NULL;
	const char *type = "text/plain; charset=utf-8";
	bool ok;

	if (status == 200 && is_index)
		len = sizeof(index_page) - 1;
	else if (status == 200) {
		body = take_body(h, &len);
		type = "text/plain; version=0.0.4; charset=utf-8";
		if (!body)
			status = 503;
	}
	if (status != 200)
		len = strlen(status_text(status)) + 1;
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n",
		 status, status_text(status), type, len);
	ok = send_all(fd, head, strlen(head), deadline);
	if (ok && !head_only) {
		if (status != 200)
			ok = send_all(fd, status_text(status), len - 1, deadline) &&
			     send_all(fd, "\n", 1, deadline);
		else
			ok = send_all(fd, is_index ? index_page : body, len, deadline);
	}
	count(h, ok && status == 200 && !is_index);
	free(body);
}

static void *serve(void *arg)
{
	struct pl_metrics_http *h = arg;
	struct timeval tv = {.tv_sec = PL_METRICS_IO_TIMEOUT_MS / 1000,
			     .tv_usec = (PL_METRICS_IO_TIMEOUT_MS % 1000) * 1000};

	for (;;) {
		struct pollfd fds[2] = {{.fd = h->listen_fd, .events = POLLIN},
					{.fd = h->wake[0], .events = POLLIN}};
		int fd;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (!(fds[0].revents & POLLIN))
			continue;
		fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* A client that stalls holds this thread for the timeout, no longer. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		answer(h, fd);
		close(fd);
	}
	return NULL;
}

static void format_bound(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(out, len, "[%s]:%u", host, port);
		return;
	}
	inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	snprintf(out, len, "%s:%u", host, port);
}

/* A socket listening on the first address host:port resolves to; -1 after one line. */
static int listen_on(const char *host, const char *port, char *bound, size_t bound_len)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG};
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, fd, rc;

	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "pageledger: --metrics: cannot resolve '%s': %s\n", host,
			gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		fprintf(stderr, "pageledger: --metrics: cannot listen on %s port %s: %s\n", host,
			port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	format_bound((struct sockaddr *)&ss, bound, bound_len);
	return fd;
}

/*
 * The thread starts with every signal blocked: Ctrl-C must reach the main
 * thread, whose wait it interrupts, not this one.
 */
static int start_thread(struct pl_metrics_http *h)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&h->thread, NULL, serve, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

struct pl_metrics_http *pl_metrics_http_start(const char *host, const char *port, char *bound,
					      size_t bound_len)
{
	struct pl_metrics_http *h = calloc(1, sizeof(*h));

	if (!h) {
		fprintf(stderr, "pageledger: --metrics: out of memory\n");
		return NULL;
	}
	h->wake[0] = h->wake[1] = -1;
	h->listen_fd = listen_on(host, port, bound, bound_len);
	if (h->listen_fd < 0)
		goto fail;
	if (pipe2(h->wake, O_CLOEXEC)) {
		fprintf(stderr, "pageledger: --metrics: pipe: %s\n", strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&h->lock, NULL);
	if (start_thread(h)) {
		fprintf(stderr, "pageledger: --metrics: cannot start its thread\n");
		pthread_mutex_destroy(&h->lock);
		goto fail;
	}
	return h;
fail:
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->wake[0] >= 0)
		close(h->wake[0]), close(h->wake[1]);
	free(h);
	return NULL;
}

bool pl_metrics_http_publish(struct pl_metrics_http *h, const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return false;
	memcpy(copy, text, len);
	pthread_mutex_lock(&h->lock);
	free(h->body);
	h->body = copy;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
	return true;
}

void pl_metrics_http_counts(struct pl_metrics_http *h, uint64_t *scrapes, uint64_t *refused)
{
	pthread_mutex_lock(&h->lock);
	*scrapes = h->scrapes;
	*refused = h->refused;
	pthread_mutex_unlock(&h->lock);
}

void pl_metrics_http_stop(struct pl_metrics_http *h)
{
	if (!h)
		return;
	/* The pipe has room: the write cannot block, and the thread sees it at its poll. */
	if (write(h->wake[1], "x", 1) == 1)
		pthread_join(h->thread, NULL);
	else
		pthread_cancel(h->thread), pthread_join(h->thread, NULL);
	close(h->wake[0]);
	close(h->wake[1]);
	close(h->listen_fd);
	pthread_mutex_destroy(&h->lock);
	free(h->body);
	free(h);
}
