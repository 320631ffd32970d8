/*
 * http_ceiling: how fast a client on this machine can possibly check the
 * benchmark's URLs, to put the HTTP table in scale.  Each request is a GET
 * on a fresh connection with its body searched for a word, as every tool
 * of the benchmark does it, with C requests in flight over epoll(7) in P
 * processes.  Two engines:
 *   raw      plain sockets and a fixed request: no HTTP library at all,
 *            only the kernel's and the server's work (the floor of any
 *            client);
 *   libcurl  libcurl's multi interface driven by curl_multi_socket_action,
 *            the leanest way libcurl runs many transfers (the floor of
 *            any client built on libcurl).
 * Neither is a prober: no redirects, no phases, no per-target options.
 *
 * Built with -DHTTP_CEILING_RAW and without -lcurl, it has the raw engine
 * alone.
 *
 * usage: http_ceiling --engine raw|libcurl --targets FILE --workers C
 *                     [--procs P] [--timeout S] [--match WORD]
 * Prints the peers' summary: {"total", "up", "down", "seconds", "errors"}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#ifndef HTTP_CEILING_RAW
#include <curl/curl.h>
#endif
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define URL_MAX 256
#define BUF_MAX 8192
#define EVENTS 256

struct url {
	char *text; /* as small as the peers keep theirs */
	struct sockaddr_in sa;
};

struct conn {
	int fd;
	const struct url *u;
	int sent;
	size_t got;
	double started;
#ifndef HTTP_CEILING_RAW
	CURL *easy;
#endif
	char buf[BUF_MAX];
};

static struct url *urls;
static size_t nurls, next_url;
static unsigned nprocs = 1, proc_index;
static const char *word = "pulse-bench-ok";
static double timeout_s = 5;
static int ep;
static unsigned long up, down;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "http://A.B.C.D:PORT/PATH": the only form the benchmark writes. */
static int
parse_url(const char *text, struct sockaddr_in *sa, char *host, char *path)
{
	int port;

	if (sscanf(text, "http://%63[0-9.]:%d%255s", host, &port, path) != 3 ||
	    port < 1 || port > 65535)
		return -1;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* The request for u, written as each is sent, as a client would. */
static int
request_of(const struct url *u, char *buf, size_t len)
{
	char host[64], path[URL_MAX];
	struct sockaddr_in sa;

	if (parse_url(u->text, &sa, host, path) == -1)
		return -1;
	return snprintf(buf, len,
	    "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: http_ceiling\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n",
	    path, host, ntohs(sa.sin_port));
}

static void
read_targets(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t cap = 0;
	struct url *grown;
	char host[64], url_path[URL_MAX];

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "http://", 7) != 0)
			continue;
		if (nurls == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((grown = realloc(urls, cap * sizeof(*urls))) ==
			    NULL) {
				perror("realloc");
				exit(2);
			}
			urls = grown;
		}
		line[strcspn(line, " \t\r\n")] = '\0';
		if (strlen(line) >= URL_MAX ||
		    parse_url(line, &urls[nurls].sa, host, url_path) == -1 ||
		    (urls[nurls].text = strdup(line)) == NULL) {
			fprintf(stderr, "%s: unsupported URL: %s\n", path,
			    line);
			exit(2);
		}
		nurls++;
	}
	fclose(f);
}

/* The next URL of this process's share, or NULL. */
static const struct url *
take(void)
{
	while (next_url < nurls) {
		size_t i = next_url++;

		if (i % nprocs == proc_index)
			return &urls[i];
	}
	return NULL;
}

static void
judge(int ok, const char *body, size_t len)
{
	if (ok && memmem(body, len, word, strlen(word)) != NULL)
		up++;
	else
		down++;
}

/* raw engine */

static void
raw_start(struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};

	if ((c->u = take()) == NULL) {
		c->fd = -1;
		return;
	}
	c->sent = 0;
	c->got = 0;
	c->started = now();
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd == -1 ||
	    (connect(c->fd, (const struct sockaddr *)&c->u->sa,
	         sizeof(c->u->sa)) == -1 &&
	        errno != EINPROGRESS) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		if (c->fd != -1)
			close(c->fd);
		down++;
		raw_start(c);
	}
}

static void
raw_end(struct conn *c, int ok)
{
	const char *status = c->buf;

	judge(ok && c->got > 12 && strncmp(status + 8, " 200", 4) == 0, c->buf,
	    c->got);
	close(c->fd);
	raw_start(c);
}

static void
raw_event(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	ssize_t n;
	char req[URL_MAX + 128];
	int len;

	if (!c->sent) {
		len = request_of(c->u, req, sizeof(req));
		if ((events & EPOLLERR) || len < 0 ||
		    send(c->fd, req, (size_t)len, MSG_NOSIGNAL) != len ||
		    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
			raw_end(c, 0);
			return;
		}
		c->sent = 1;
		return;
	}
	while (
	    (n = recv(c->fd, c->buf + c->got, sizeof(c->buf) - c->got, 0)) > 0)
		c->got += (size_t)n;
	if (n == 0 || c->got == sizeof(c->buf))
		raw_end(c, 1);
	else if (errno != EAGAIN)
		raw_end(c, 0);
}

static void
raw_run(unsigned inflight)
{
	struct conn *cs = calloc(inflight, sizeof(*cs));
	struct epoll_event ev[EVENTS];
	unsigned i, live;
	int n, k;

	for (i = 0; i < inflight; i++)
		raw_start(&cs[i]);
	for (;;) {
		for (i = live = 0; i < inflight; i++) {
			if (cs[i].fd < 0)
				continue;
			live++;
			if (now() - cs[i].started > timeout_s)
				raw_end(&cs[i], 0);
		}
		if (live == 0)
			break;
		n = epoll_wait(ep, ev, EVENTS, 100);
		for (k = 0; k < n; k++)
			raw_event(ev[k].data.ptr, ev[k].events);
	}
	free(cs);
}

/*
 * libcurl engine: left out of the build with -DHTTP_CEILING_RAW, so that
 * the raw engine's memory is not that of libcurl's libraries.
 */
#ifndef HTTP_CEILING_RAW
static CURLM *multi;
static long curl_timer_ms = -1;

static size_t
curl_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct conn *c = arg;
	size_t n = size * nmemb, room = sizeof(c->buf) - c->got;

	memcpy(c->buf + c->got, data, n < room ? n : room);
	c->got += n < room ? n : room;
	return n;
}

static int
curl_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct epoll_event ev = {.data.fd = fd};

	(void)easy, (void)arg, (void)sockp;
	if (what == CURL_POLL_REMOVE)
		return epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL), 0;
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == -1)
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

static int
curl_timer(CURLM *m, long ms, void *arg)
{
	(void)m, (void)arg;
	curl_timer_ms = ms;
	return 0;
}

static void
curl_start(struct conn *c)
{
	if ((c->u = take()) == NULL) {
		c->fd = -1;
		return;
	}
	c->fd = 0;
	c->got = 0;
	curl_easy_reset(c->easy);
	curl_easy_setopt(c->easy, CURLOPT_URL, c->u->text);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, curl_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
	curl_multi_add_handle(multi, c->easy);
}

static void
curl_collect(void)
{
	struct conn *c;
	CURLMsg *m;
	long code;
	int left;

	while ((m = curl_multi_info_read(multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		code = 0;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &c);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE,
		    &code);
		judge(m->data.result == CURLE_OK && code == 200, c->buf,
		    c->got);
		curl_multi_remove_handle(multi, c->easy);
		curl_start(c);
	}
}

static void
curl_run(unsigned inflight)
{
	struct conn *cs = calloc(inflight, sizeof(*cs));
	struct epoll_event ev[EVENTS];
	unsigned i, live;
	int n, k, running = 0, mask;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, curl_socket);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, curl_timer);
	for (i = 0; i < inflight; i++) {
		cs[i].easy = curl_easy_init();
		curl_start(&cs[i]);
	}
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	for (;;) {
		for (i = live = 0; i < inflight; i++)
			live += cs[i].fd != -1;
		if (live == 0)
			break;
		n = epoll_wait(ep, ev, EVENTS,
		    curl_timer_ms < 0 ? 100 : (int)curl_timer_ms);
		if (n <= 0)
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0,
			    &running);
		for (k = 0; k < n; k++) {
			mask = ((ev[k].events & (EPOLLIN | EPOLLHUP))
			               ? CURL_CSELECT_IN
			               : 0) |
			    ((ev[k].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0);
			curl_multi_socket_action(multi, ev[k].data.fd, mask,
			    &running);
		}
		curl_collect();
	}
	for (i = 0; i < inflight; i++)
		curl_easy_cleanup(cs[i].easy);
	curl_multi_cleanup(multi);
	free(cs);
}

#else
static void
curl_run(unsigned inflight)
{
	(void)inflight;
	fprintf(stderr, "http_ceiling: built without libcurl\n");
	exit(2);
}
#endif

static void
usage(void)
{
	fprintf(stderr,
	    "usage: http_ceiling --engine raw|libcurl --targets "
	    "FILE --workers C [--procs P] [--timeout S] "
	    "[--match WORD]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *engine = NULL, *targets = NULL;
	unsigned workers = 64, i;
	unsigned long counts[2];
	int fds[2], k;
	double t0;

	for (k = 1; k + 1 < argc; k += 2) {
		if (strcmp(argv[k], "--engine") == 0)
			engine = argv[k + 1];
		else if (strcmp(argv[k], "--targets") == 0)
			targets = argv[k + 1];
		else if (strcmp(argv[k], "--workers") == 0)
			workers = (unsigned)atoi(argv[k + 1]);
		else if (strcmp(argv[k], "--procs") == 0)
			nprocs = (unsigned)atoi(argv[k + 1]);
		else if (strcmp(argv[k], "--timeout") == 0)
			timeout_s = atof(argv[k + 1]);
		else if (strcmp(argv[k], "--match") == 0)
			word = argv[k + 1];
		else
			usage();
	}
	if (k != argc || engine == NULL || targets == NULL || workers < 1 ||
	    nprocs < 1 || nprocs > workers || timeout_s <= 0 ||
	    (strcmp(engine, "raw") != 0 && strcmp(engine, "libcurl") != 0))
		usage();
	read_targets(targets);
	if (pipe(fds) == -1)
		return perror("pipe"), 2;
	t0 = now();
	for (i = 0; i < nprocs; i++) {
		if (fork() != 0)
			continue;
		proc_index = i;
		ep = epoll_create1(0);
		if (strcmp(engine, "raw") == 0)
			raw_run(workers / nprocs + (i < workers % nprocs));
		else
			curl_run(workers / nprocs + (i < workers % nprocs));
		counts[0] = up;
		counts[1] = down;
		if (write(fds[1], counts, sizeof(counts)) != sizeof(counts))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	while (read(fds[0], counts, sizeof(counts)) == sizeof(counts)) {
		up += counts[0];
		down += counts[1];
	}
	while (wait(NULL) > 0)
		;
	printf("{\"total\": %lu, \"up\": %lu, \"down\": %lu, \"seconds\": "
	       "%.6f, \"errors\": {",
	    up + down, up, down, now() - t0);
	if (down > 0)
		printf("\"down\": %lu", down);
	printf("}}\n");
	return up + down == nurls ? 0 : 1;
}
