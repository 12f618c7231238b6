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

struct client;

struct pl_metrics_http {
	int listen_fd;
	int wake[2]; /* a byte on wake[1] ends the thread */
	pthread_t thread;
	pthread_mutex_t lock; /* guards body, len and the counts */
	char *body;
	size_t len;
	uint64_t scrapes, refused;
	struct client *clients; /* PL_METRICS_CLIENTS slots, touched by the thread only */
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

/*
 * The whole answer within the budget: the socket does not block, and each
 * wait for room is bounded by what is left of it.
 */
static bool send_all(int fd, const char *p, size_t n, uint64_t deadline_ns)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		uint64_t now;

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		now = pl_now_ns();
		if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || now >= deadline_ns)
			return false;
		poll(&(struct pollfd){.fd = fd, .events = POLLOUT}, 1,
		     (int)((deadline_ns - now) / 1000000 + 1));
	}
	return true;
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

static void count(struct pl_metrics_http *h, uint64_t *counter)
{
	pthread_mutex_lock(&h->lock);
	(*counter)++;
	pthread_mutex_unlock(&h->lock);
}

/* A connection whose request head is still coming in. */
struct client {
	int fd; /* -1: a free slot */
	size_t n;
	uint64_t deadline_ns; /* the whole exchange's, from accept */
	char buf[PL_METRICS_REQUEST_MAX];
};

static bool head_complete(const struct client *c)
{
	return memmem(c->buf, c->n, "\r\n\r\n", 4) || memmem(c->buf, c->n, "\n\n", 2);
}

/* Lets the client read the answer before the close: what it still sends is read and dropped. */
static void close_client(struct client *c)
{
	char sink[4096];

	shutdown(c->fd, SHUT_WR);
	for (int i = 0; i < 16 && recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	close(c->fd);
	c->fd = -1;
}

static void answer(struct pl_metrics_http *h, struct client *c)
{
	char head[320];
	size_t len = 0;
	bool head_only, is_index;
	int status = pl_metrics_http_route(c->buf, c->n, &head_only, &is_index);
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
		 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		 "Connection: close\r\n\r\n",
		 status, status_text(status), type, len,
		 status == 405 ? "Allow: GET, HEAD\r\n" : "");
	ok = send_all(c->fd, head, strlen(head), c->deadline_ns);
	if (ok && !head_only) {
		if (status != 200)
			ok = send_all(c->fd, status_text(status), len - 1, c->deadline_ns) &&
			     send_all(c->fd, "\n", 1, c->deadline_ns);
		else
			ok = send_all(c->fd, is_index ? index_page : body, len, c->deadline_ns);
	}
	if (!ok || status != 200)
		count(h, &h->refused);
	else if (!is_index)
		count(h, &h->scrapes);
	free(body);
	close_client(c);
}

/* Reads what a client sent; answers once its head is complete or too large. */
static void read_client(struct pl_metrics_http *h, struct client *c)
{
	ssize_t r = recv(c->fd, c->buf + c->n, sizeof(c->buf) - c->n, MSG_DONTWAIT);

	if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r <= 0) { /* gone before it asked */
		count(h, &h->refused);
		close_client(c);
		return;
	}
	c->n += (size_t)r;
	if (head_complete(c) || c->n == sizeof(c->buf))
		answer(h, c);
}

/* A free slot, or the one closest to its deadline given up: the newest asker is served. */
static struct client *free_slot(struct pl_metrics_http *h)
{
	struct client *oldest = &h->clients[0];

	for (int i = 0; i < PL_METRICS_CLIENTS; i++) {
		if (h->clients[i].fd < 0)
			return &h->clients[i];
		if (h->clients[i].deadline_ns < oldest->deadline_ns)
			oldest = &h->clients[i];
	}
	count(h, &h->refused);
	close_client(oldest);
	return oldest;
}

/* Takes every pending connection. False when accept failed for want of resources. */
static bool accept_all(struct pl_metrics_http *h)
{
	for (;;) {
		int fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *c;

		if (fd < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			       errno == ECONNABORTED;
		c = free_slot(h);
		c->fd = fd;
		c->n = 0;
		c->deadline_ns = pl_now_ns() + IO_BUDGET_NS;
	}
}

/* Waits for the next event: the earliest client deadline, or 100 ms after a failed accept. */
static int poll_timeout_ms(const struct pl_metrics_http *h, bool backoff)
{
	uint64_t now = pl_now_ns(), first = UINT64_MAX;
	int ms = backoff ? 100 : -1;

	for (int i = 0; i < PL_METRICS_CLIENTS; i++)
		if (h->clients[i].fd >= 0 && h->clients[i].deadline_ns < first)
			first = h->clients[i].deadline_ns;
	if (first != UINT64_MAX) {
		int left = first <= now ? 0 : (int)((first - now) / 1000000 + 1);

		ms = ms < 0 || left < ms ? left : ms;
	}
	return ms;
}

/*
 * One thread, several connections: heads are read as they come, so a
 * client that stalls holds only its own slot, until its deadline.
 */
static void *serve(void *arg)
{
	struct pl_metrics_http *h = arg;
	bool backoff = false;

	for (;;) {
		struct pollfd fds[2 + PL_METRICS_CLIENTS] = {{.fd = h->listen_fd, .events = POLLIN},
							     {.fd = h->wake[0], .events = POLLIN}};
		struct client *polled[PL_METRICS_CLIENTS];
		int n = 0;

		for (int i = 0; i < PL_METRICS_CLIENTS; i++)
			if (h->clients[i].fd >= 0) {
				fds[2 + n] =
				    (struct pollfd){.fd = h->clients[i].fd, .events = POLLIN};
				polled[n++] = &h->clients[i];
			}
		if (poll(fds, (nfds_t)(2 + n), poll_timeout_ms(h, backoff)) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		for (int i = 0; i < n; i++)
			if (fds[2 + i].revents && polled[i]->fd >= 0)
				read_client(h, polled[i]);
		for (int i = 0; i < PL_METRICS_CLIENTS; i++)
			if (h->clients[i].fd >= 0 && pl_now_ns() >= h->clients[i].deadline_ns) {
				count(h, &h->refused);
				close_client(&h->clients[i]);
			}
		backoff = (fds[0].revents & POLLIN) && !accept_all(h);
	}
	for (int i = 0; i < PL_METRICS_CLIENTS; i++)
		if (h->clients[i].fd >= 0)
			close_client(&h->clients[i]);
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
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
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

struct pl_metrics_http *pl_metrics_http_start(const char *addr, char *bound, size_t bound_len)
{
	char host[PL_LISTEN_HOST_MAX], port[PL_LISTEN_PORT_MAX];
	struct pl_metrics_http *h;

	if (pl_metrics_parse_listen(addr, host, port)) {
		fprintf(stderr, "pageledger: --metrics: invalid address '%s'\n", addr);
		return NULL;
	}
	h = calloc(1, sizeof(*h));

	if (!h) {
		fprintf(stderr, "pageledger: --metrics: out of memory\n");
		return NULL;
	}
	h->wake[0] = h->wake[1] = -1;
	h->clients = calloc(PL_METRICS_CLIENTS, sizeof(*h->clients));
	if (!h->clients) {
		fprintf(stderr, "pageledger: --metrics: out of memory\n");
		free(h);
		return NULL;
	}
	for (int i = 0; i < PL_METRICS_CLIENTS; i++)
		h->clients[i].fd = -1;
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
	free(h->clients);
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
	free(h->clients);
	free(h);
}
