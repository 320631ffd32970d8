/*
 * Unit tests for probe_http.c against a small HTTP/1.1 server run here in
 * a thread on loopback.  The server answers by path with canned responses
 * and keeps the last request it read, so a test can check what the probe
 * sent.  No traffic leaves the machine.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "allowlist.h"
#include "log.h"
#include "probe_http.h"
#include "result.h"
#include "target.h"
#include "util.h"

#define REQ_MAX (96 * 1024) /* a request head and body */
#define IO_WAIT_MS 3000     /* for a peer that stops talking */
#define IDLE_WAIT_MS 10000  /* the server stops when left idle */
#define PROBE_US (3 * USEC_PER_SEC)
#define OK_BODY "hello pulse world\n"
#define BIG_BODY 4096 /* bytes of /big */
#define PAD_LINES 300 /* /headers: 300 lines of about 1 KiB */
#define PAD_LINE_BYTES 1000

/* printf 'hello from a gzip body\n' | gzip -9n | xxd -i */
static const unsigned char gzip_hello[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x48, 0x2b,
    0xca, 0xcf, 0x55, 0x48, 0x54, 0x48, 0xaf, 0xca, 0x2c, 0x50, 0x48, 0xca,
    0x4f, 0xa9, 0xe4, 0x02, 0x00, 0x01, 0x70, 0x2f, 0x25, 0x17, 0x00, 0x00,
    0x00};
#define GZIP_HELLO_TEXT "hello from a gzip body\n"

/* head -c 65536 /dev/zero | gzip -9n | xxd -i */
static const unsigned char gzip_zeros[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x03, 0xed, 0xc1, 0x01, 0x01, 0x00, 0x00, 0x00, 0x80,
    0x90, 0xfe, 0xaf, 0xee, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6a, 0xeb, 0x8e,
    0x97, 0xd7, 0x00, 0x00, 0x01, 0x00};
#define GZIP_ZEROS_LEN 65536

struct server {
	int lfd;
	uint16_t port;
	char addr[INET_ADDRSTRLEN];
	int stop[2]; /* a byte written here ends the server */
	pthread_t thread;
	pthread_mutex_t lock;
	char req[REQ_MAX + 1]; /* the last request read, head and body */
	size_t req_len;
	unsigned requests; /* requests read so far */
};

struct fixture {
	struct server main;
	struct server other; /* on 127.0.0.2 when the system allows it */
	struct probe_http_ctx *ctx;
	const struct allowlist *allow; /* set on every probe_line() target */
};

/* Send all of p, ignoring a peer that went away. */
static void
send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, c, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void
respond(int fd, int head, const char *status, const char *extra,
    const void *body, size_t len)
{
	char hdr[512];
	int n;

	n = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "%s\r\n",
	    status, len, extra);
	send_all(fd, hdr, (size_t)n);
	if (!head)
		send_all(fd, body, len);
}

/* Wait up to ms for fd to be readable; 1 if it is. */
static int
wait_readable(int fd, int ms)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, ms) == 1;
}

/* The value of a Content-Length header in a request head, or 0. */
static size_t
content_length(const char *head)
{
	const char *p = head;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return (size_t)strtoul(p + 15, NULL, 10);
	}
	return 0;
}

/* Read one request, head and body, into buf; its length, 0 if none. */
static size_t
read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0, want = 0;
	char *end = NULL;
	ssize_t n;

	while (len < cap && (end == NULL || len < want)) {
		if (!wait_readable(fd, IO_WAIT_MS) ||
		    (n = recv(fd, buf + len, cap - len, 0)) <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL)
			want = (size_t)(end - buf) + 4 + content_length(buf);
	}
	return len;
}

/* 300 KiB of header lines: more than any page needs. */
static void
send_huge_headers(int fd)
{
	char line[PAD_LINE_BYTES + 32];
	int i, n;

	send_all(fd, "HTTP/1.1 200 OK\r\n", 17);
	for (i = 0; i < PAD_LINES; i++) {
		n = snprintf(line, sizeof(line), "X-Pad-%03d: ", i);
		memset(line + n, 'h', PAD_LINE_BYTES);
		memcpy(line + n + PAD_LINE_BYTES, "\r\n", 2);
		send_all(fd, line, (size_t)n + PAD_LINE_BYTES + 2);
	}
	send_all(fd, "Content-Length: 0\r\n\r\n", 21);
}

/* Answer by path: the canned responses the tests rely on. */
static void
route(int fd, const char *method, char *target)
{
	static char big[BIG_BODY];
	const char *path;
	int head = strcmp(method, "HEAD") == 0;
	char loc[256];
	unsigned n;

	path = strsep(&target, "?"); /* the query does not choose a route */
	if (strcmp(path, "/ok") == 0 || strcmp(path, "/echo") == 0)
		respond(fd, head, "200 OK", "Content-Type: text/plain\r\n",
		    OK_BODY, strlen(OK_BODY));
	else if (strncmp(path, "/status/", 8) == 0)
		respond(fd, head, path + 8, "", "status body\n", 12);
	else if (strcmp(path, "/to") == 0 && target != NULL &&
	    strlen(target) < sizeof(loc) - 16) {
		/* /to?URL: a redirect to URL, as written. */
		snprintf(loc, sizeof(loc), "Location: %s\r\n", target);
		respond(fd, head, "302 Found", loc, "", 0);
	} else if (sscanf(path, "/redir/%u", &n) == 1 && n > 0) {
		snprintf(loc, sizeof(loc), "Location: /redir/%u\r\n", n - 1);
		respond(fd, head, "302 Found", loc, "", 0);
	} else if (strcmp(path, "/redir/0") == 0)
		respond(fd, head, "200 OK", "", "landed\n", 7);
	else if (strcmp(path, "/big") == 0) {
		memset(big, 'x', sizeof(big));
		respond(fd, head, "200 OK", "", big, sizeof(big));
	} else if (strcmp(path, "/gzip") == 0)
		respond(fd, head, "200 OK", "Content-Encoding: gzip\r\n",
		    gzip_hello, sizeof(gzip_hello));
	else if (strcmp(path, "/bomb") == 0)
		respond(fd, head, "200 OK", "Content-Encoding: gzip\r\n",
		    gzip_zeros, sizeof(gzip_zeros));
	else if (strcmp(path, "/headers") == 0)
		send_huge_headers(fd);
	else if (strcmp(path, "/hang") == 0)
		(void)wait_readable(fd, IO_WAIT_MS); /* until the peer leaves */
	else
		respond(fd, head, "404 Not Found", "", "no\n", 3);
}

static void
serve_one(struct server *s, int fd)
{
	char *buf = xmalloc(REQ_MAX + 1), method[16] = "", path[256] = "";
	size_t len;

	buf[0] = '\0';
	len = read_request(fd, buf, REQ_MAX);
	pthread_mutex_lock(&s->lock);
	memcpy(s->req, buf, len);
	s->req[len] = '\0';
	s->req_len = len;
	s->requests++;
	pthread_mutex_unlock(&s->lock);
	if (len > 0 && sscanf(buf, "%15s %255s", method, path) == 2)
		route(fd, method, path);
	free(buf);
}

/* Serve connections one at a time until told to stop or left idle. */
static void *
serve(void *arg)
{
	struct server *s = arg;
	struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
	int fd;

	while (poll(p, 2, IDLE_WAIT_MS) > 0 && p[1].revents == 0) {
		if ((fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		serve_one(s, fd);
		close(fd);
	}
	return NULL;
}

/* A listening socket on addr, any port; -1 if the address is not ours. */
static int
listen_on(const char *addr, uint16_t *port, int backlog)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (backlog > 0 && listen(fd, backlog) == -1) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
server_start(struct server *s, const char *addr)
{
	memset(s, 0, sizeof(*s));
	s->lfd = -1;
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	if ((s->lfd = listen_on(addr, &s->port, 16)) == -1)
		return -1;
	if (pipe(s->stop) == -1) {
		close(s->lfd);
		s->lfd = -1;
		return -1;
	}
	pthread_mutex_init(&s->lock, NULL);
	if (pthread_create(&s->thread, NULL, serve, s) != 0) {
		close(s->lfd);
		s->lfd = -1;
		return -1;
	}
	return 0;
}

static void
server_stop(struct server *s)
{
	if (s->lfd == -1)
		return;
	if (write(s->stop[1], "x", 1) != 1)
		fail_msg("cannot stop the server");
	pthread_join(s->thread, NULL);
	close(s->stop[0]);
	close(s->stop[1]);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
}

/* A copy of the last request the server read; the caller frees it. */
static char *
last_request(struct server *s, unsigned *requests)
{
	char *copy;

	pthread_mutex_lock(&s->lock);
	copy = xmalloc(s->req_len + 1);
	memcpy(copy, s->req, s->req_len + 1);
	if (requests != NULL)
		*requests = s->requests;
	pthread_mutex_unlock(&s->lock);
	return copy;
}

static unsigned
request_count(struct server *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || server_start(&fx->main, "127.0.0.1") == -1)
		return -1;
	/* Not every system lets a program use all of 127.0.0.0/8. */
	if (server_start(&fx->other, "127.0.0.2") == -1)
		fx->other.lfd = -1;
	fx->ctx = probe_http_ctx_new();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	probe_http_ctx_free(fx->ctx);
	server_stop(&fx->main);
	server_stop(&fx->other);
	free(fx);
	return 0;
}

/*
 * Parse a targets line (printf-style, so tests can put the server's port
 * in it) and probe it with the given time; return the time it took.  The
 * caller releases r.
 */
static int64_t probe_line(struct fixture *fx, struct result *r,
    int64_t timeout_us, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int64_t
probe_line(struct fixture *fx, struct result *r, int64_t timeout_us,
    const char *fmt, ...)
{
	char line[TARGET_LINE_MAX], err[256] = "";
	struct target t;
	va_list ap;
	int64_t t0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (target_parse_line(line, strlen(line), &t, err, sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
	t.allow = fx->allow;
	result_init(r);
	t0 = mono_now_us();
	probe_http_run(&t, t0 + timeout_us, fx->ctx, r);
	target_clear(&t);
	return mono_now_us() - t0;
}

/* Fail with the probe's own words when it is not up. */
static void
want_up(const struct result *r)
{
	if (!r->success)
		fail_msg("down: %s: %s", reason_name(r->reason), r->error);
	assert_int_equal(r->reason, REASON_NONE);
	assert_string_equal(r->error, "");
}

/* Fail unless the probe is down for reason with words in its message. */
static void
want_down(const struct result *r, enum reason reason, const char *words)
{
	assert_false(r->success);
	if (r->reason != reason || strstr(r->error, words) == NULL)
		fail_msg("got %s: \"%s\", want %s with \"%s\"",
		    reason_name(r->reason), r->error, reason_name(reason),
		    words);
}

/* A 200 whose body matches is up, with the response's status, version,
 * size and address, the phases of a plain-text request, and no redirect
 * or TLS fields. */
static void
test_get_ok(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok match=pulse",
	    fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.status, 200);
	assert_int_equal(r.http.version, 11);
	assert_int_equal(r.http.content_length, strlen(OK_BODY));
	assert_int_equal(r.http.body_matched, 1);
	assert_int_equal(r.http.redirects, 0);
	assert_null(r.http.final_url);
	assert_string_equal(r.address, "127.0.0.1");
	assert_true(r.dns_us >= 0);
	assert_true(r.connect_us >= 0);
	assert_int_equal(r.http.tls_us, -1);
	assert_true(r.http.processing_us >= 0);
	assert_true(r.http.transfer_us >= 0);
	assert_string_equal(r.http.tls_version, "");
	assert_string_equal(r.http.tls_cipher, "");
	assert_int_equal(r.http.cert_not_after, 0);
	result_release(&r);
}

/* The request is a plain GET of the path, naming the host and port and
 * pulse as the user agent, and offering compressed bodies. */
static void
test_get_request(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	char want[128], *req;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/echo?a=1",
	    fx->main.port);
	want_up(&r);
	req = last_request(&fx->main, NULL);
	assert_true(strncmp(req, "GET /echo?a=1 HTTP/1.1\r\n", 24) == 0);
	snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%u\r\n",
	    fx->main.port);
	assert_non_null(strstr(req, want));
	assert_non_null(
	    strstr(req, "\r\nUser-Agent: pulse/" PULSE_VERSION "\r\n"));
	assert_non_null(strstr(req, "\r\nAccept-Encoding: "));
	assert_non_null(strstr(req, "gzip"));
	assert_int_equal(strcmp(req + strlen(req) - 4, "\r\n\r\n"), 0);
	free(req);
	result_release(&r);
}

/* Without match= or not_match= nothing is judged: body_matched is unset
 * and the body is still counted. */
static void
test_no_pattern(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok", fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.body_matched, -1);
	assert_int_equal(r.http.content_length, strlen(OK_BODY));
	result_release(&r);
}

/* A body that does not match match= is down for reason match, with the
 * status still reported. */
static void
test_match_fails(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok match=absent",
	    fx->main.port);
	want_down(&r, REASON_MATCH, "does not match");
	assert_non_null(strstr(r.error, "absent"));
	assert_int_equal(r.http.body_matched, 0);
	assert_int_equal(r.http.status, 200);
	result_release(&r);
}

/* not_match= fails when the body matches it and passes when it does
 * not; with match= both must hold. */
static void
test_not_match(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok not_match=pulse",
	    fx->main.port);
	want_down(&r, REASON_MATCH, "matches not_match");
	assert_int_equal(r.http.body_matched, 0);
	result_release(&r);

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok not_match=absent",
	    fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.body_matched, 1);
	result_release(&r);

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/ok match='^hello' not_match=world",
	    fx->main.port);
	want_down(&r, REASON_MATCH, "matches not_match");
	result_release(&r);
}

/* A status outside expect= is down for reason status, naming both; the
 * same status is up once expect= allows it. */
static void
test_status_expect(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/status/404",
	    fx->main.port);
	want_down(&r, REASON_STATUS, "status 404, expected 2xx");
	assert_int_equal(r.http.status, 404);
	assert_int_equal(r.http.version, 11);
	result_release(&r);

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/status/404 expect=404", fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.status, 404);
	result_release(&r);

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/status/404 expect=200,4xx", fx->main.port);
	want_up(&r);
	result_release(&r);

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/status/404 expect=500-503,200", fx->main.port);
	want_down(&r, REASON_STATUS, "status 404, expected 200,500-503");
	result_release(&r);
}

/* follow=0 returns the redirect itself: one request, no redirect
 * counted, no final URL, and a 302 is only up when expected. */
static void
test_redirect_follow_zero(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	unsigned before = request_count(&fx->main);

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/redir/2 follow=0",
	    fx->main.port);
	want_down(&r, REASON_STATUS, "status 302, expected 2xx");
	assert_int_equal(r.http.status, 302);
	assert_int_equal(r.http.redirects, 0);
	assert_null(r.http.final_url);
	assert_int_equal(request_count(&fx->main) - before, 1);
	result_release(&r);

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/redir/2 follow=0 expect=3xx", fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.status, 302);
	result_release(&r);
}

/* follow=N follows up to N redirects, counting them and reporting the
 * URL that answered last. */
static void
test_redirect_follow_n(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	char want[128];
	unsigned before = request_count(&fx->main);

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/redir/3 follow=3",
	    fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.status, 200);
	assert_int_equal(r.http.redirects, 3);
	assert_int_equal(r.http.content_length, 7);
	snprintf(want, sizeof(want), "http://127.0.0.1:%u/redir/0",
	    fx->main.port);
	assert_non_null(r.http.final_url);
	assert_string_equal(r.http.final_url, want);
	assert_int_equal(request_count(&fx->main) - before, 4);
	result_release(&r);

	/* Five are followed by default. */
	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/redir/5",
	    fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.redirects, 5);
	result_release(&r);
}

/* One redirect more than follow= allows is down for reason protocol,
 * saying how many were allowed. */
static void
test_redirect_too_many(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/redir/3 follow=2",
	    fx->main.port);
	want_down(&r, REASON_PROTOCOL, "more than 2 redirects");
	result_release(&r);

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/redir/6",
	    fx->main.port);
	want_down(&r, REASON_PROTOCOL, "more than 5 redirects");
	result_release(&r);
}

/* A body larger than max_body is down for reason protocol naming the
 * limit; a body of exactly max_body is up. */
static void
test_max_body(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/big max_body=1k",
	    fx->main.port);
	want_down(&r, REASON_PROTOCOL, "max_body");
	assert_non_null(strstr(r.error, "1024"));
	result_release(&r);

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/big max_body=4095",
	    fx->main.port);
	want_down(&r, REASON_PROTOCOL, "max_body");
	result_release(&r);

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/big max_body=4096 match='x{4096}'",
	    fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.content_length, BIG_BODY);
	assert_int_equal(r.http.body_matched, 1);
	result_release(&r);
}

/* A gzip body is decoded before it is matched and counted. */
static void
test_gzip_decoded(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/gzip match='^hello from a gzip body$'",
	    fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.content_length, strlen(GZIP_HELLO_TEXT));
	assert_int_equal(r.http.body_matched, 1);
	result_release(&r);
}

/* max_body bounds the decoded body: 96 bytes of gzip that inflate to
 * 64 KiB are refused under max_body=16k and accepted by default. */
static void
test_gzip_bomb(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/bomb max_body=16k",
	    fx->main.port);
	want_down(&r, REASON_PROTOCOL, "max_body");
	result_release(&r);

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/bomb", fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.content_length, GZIP_ZEROS_LEN);
	result_release(&r);
}

/* A server that accepts and never answers is down for reason timeout
 * when the probe's time is up, and not much later. */
static void
test_timeout(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	int64_t took;

	took = probe_line(fx, &r, 300 * USEC_PER_MSEC,
	    "http://127.0.0.1:%u/hang", fx->main.port);
	want_down(&r, REASON_TIMEOUT, "timed out");
	assert_int_equal(r.http.status, 0);
	assert_int_equal(r.http.version, 0);
	assert_true(r.connect_us >= 0);
	assert_true(took >= 250 * USEC_PER_MSEC);
	if (took > USEC_PER_SEC)
		fail_msg("300ms probe took %lld us", (long long)took);
	result_release(&r);
}

/* A port with nothing listening is down for reason refused, quickly. */
static void
test_refused(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	uint16_t port;
	int64_t took;
	int fd = listen_on("127.0.0.1", &port, 0); /* bound, not listening */

	assert_true(fd >= 0);
	took = probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/", port);
	close(fd);
	want_down(&r, REASON_REFUSED, "refused");
	assert_int_equal(r.http.status, 0);
	assert_true(took < USEC_PER_SEC);
	result_release(&r);
}

/* method=HEAD sends a HEAD and reads no body, though the server names
 * its length. */
static void
test_head(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	char *req;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok method=HEAD",
	    fx->main.port);
	want_up(&r);
	assert_int_equal(r.http.status, 200);
	assert_int_equal(r.http.content_length, 0);
	req = last_request(&fx->main, NULL);
	assert_true(strncmp(req, "HEAD /ok HTTP/1.1\r\n", 19) == 0);
	free(req);
	result_release(&r);
}

/* body= makes a POST that carries the body and its length, and does not
 * wait for a "100 Continue"; method= changes the verb, not the body. */
static void
test_post_body(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	char *req;

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/echo body='name=pulse&x=1'", fx->main.port);
	want_up(&r);
	req = last_request(&fx->main, NULL);
	assert_true(strncmp(req, "POST /echo HTTP/1.1\r\n", 21) == 0);
	assert_non_null(strstr(req, "\r\nContent-Length: 14\r\n"));
	assert_null(strstr(req, "\r\nExpect:"));
	assert_string_equal(strstr(req, "\r\n\r\n"), "\r\n\r\nname=pulse&x=1");
	free(req);
	result_release(&r);

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/echo method=PUT body='{\"a\": 1}'",
	    fx->main.port);
	want_up(&r);
	req = last_request(&fx->main, NULL);
	assert_true(strncmp(req, "PUT /echo HTTP/1.1\r\n", 20) == 0);
	assert_non_null(strstr(req, "\r\nContent-Length: 8\r\n"));
	assert_string_equal(strstr(req, "\r\n\r\n"), "\r\n\r\n{\"a\": 1}");
	free(req);
	result_release(&r);
}

/* body_file= sends the file's bytes as they are, NULs included. */
static void
test_post_body_file(void **state)
{
	static const char data[] = "a\0b\0c";
	struct fixture *fx = *state;
	char path[] = "/tmp/pulse-body.XXXXXX", *req, *end;
	struct result r;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, sizeof(data) - 1), sizeof(data) - 1);
	close(fd);
	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/echo body_file=%s",
	    fx->main.port, path);
	unlink(path);
	want_up(&r);
	req = last_request(&fx->main, NULL);
	assert_true(strncmp(req, "POST /echo HTTP/1.1\r\n", 21) == 0);
	assert_non_null(strstr(req, "\r\nContent-Length: 5\r\n"));
	end = strstr(req, "\r\n\r\n");
	assert_non_null(end);
	pthread_mutex_lock(&fx->main.lock);
	assert_int_equal(fx->main.req_len, (size_t)(end - req) + 4 + 5);
	pthread_mutex_unlock(&fx->main.lock);
	assert_memory_equal(end + 4, data, 5);
	free(req);
	result_release(&r);
}

/* Every header= goes out as written. */
static void
test_headers_sent(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	char *req;

	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/echo header='X-Probe: one' "
	    "header=\"X-Other: two words\"",
	    fx->main.port);
	want_up(&r);
	req = last_request(&fx->main, NULL);
	assert_non_null(strstr(req, "\r\nX-Probe: one\r\n"));
	assert_non_null(strstr(req, "\r\nX-Other: two words\r\n"));
	free(req);
	result_release(&r);
}

/*
 * host= changes the Host header but not where the probe connects: the
 * server is on 127.0.0.2 and "localhost" is 127.0.0.1, so an answer
 * proves the connection went to the URL's address.
 */
static void
test_host_header(void **state)
{
	struct fixture *fx = *state;
	struct server *s = fx->other.lfd != -1 ? &fx->other : &fx->main;
	struct result r;
	char want[128], *req;

	probe_line(fx, &r, PROBE_US, "http://%s:%u/echo host=localhost",
	    s->addr, s->port);
	want_up(&r);
	assert_string_equal(r.address, s->addr);
	req = last_request(s, NULL);
	snprintf(want, sizeof(want), "\r\nHost: localhost:%u\r\n", s->port);
	assert_non_null(strstr(req, want));
	assert_null(strstr(req, "Host: 127.0.0."));
	free(req);
	result_release(&r);
}

/* 300 KiB of response headers is down for reason protocol, naming the
 * headers. */
static void
test_headers_too_large(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/headers",
	    fx->main.port);
	want_down(&r, REASON_PROTOCOL, "header");
	result_release(&r);
}

/* More distinct patterns than the worker caches all still match: the
 * cache drops old ones without losing the current one. */
static void
test_many_patterns(void **state)
{
	struct fixture *fx = *state;
	struct result r;
	int i;

	for (i = 0; i < 12; i++) {
		probe_line(fx, &r, PROBE_US,
		    "http://127.0.0.1:%u/ok match='^hello.{%d}'", fx->main.port,
		    i);
		want_up(&r);
		assert_int_equal(r.http.body_matched, 1);
		result_release(&r);
	}
	/* The first pattern again, long since evicted. */
	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/ok match='^hello.{0}'", fx->main.port);
	want_up(&r);
	result_release(&r);
}

/* http_version=2 against a server that speaks only HTTP/1.1 is down for
 * reason protocol, naming HTTP/2. */
static void
test_http2_refused(void **state)
{
	struct fixture *fx = *state;
	struct result r;

	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok http_version=2",
	    fx->main.port);
	want_down(&r, REASON_PROTOCOL, "HTTP/2");
	result_release(&r);
}

static void
count_done(void *arg, void *cookie)
{
	unsigned *done = arg;

	done[(uintptr_t)cookie]++;
}

static void parse_target(struct target *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
parse_target(struct target *t, const char *fmt, ...)
{
	char line[256], err[256] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (target_parse_line(line, strlen(line), t, err, sizeof(err)) != 1)
		fail_msg("\"%s\": %s", line, err);
}

/*
 * Probes run side by side in one batch: each is answered once through the
 * callback with its own result (up, a wrong status, refused), and the
 * batch takes no more than PROBE_HTTP_BATCH_MAX at a time.
 */
static void
test_batch(void **state)
{
	struct fixture *fx = *state;
	struct target t[PROBE_HTTP_BATCH_MAX + 1];
	struct result r[PROBE_HTTP_BATCH_MAX + 1];
	unsigned done[PROBE_HTTP_BATCH_MAX + 1] = {0}, i, rounds = 0;
	uint16_t closed;
	int fd = listen_on("127.0.0.1", &closed, 0); /* bound, not listening */
	int64_t deadline = mono_now_us() + PROBE_US;

	assert_true(fd >= 0);
	parse_target(&t[0], "http://127.0.0.1:%u/ok match=hello",
	    fx->main.port);
	parse_target(&t[1], "http://127.0.0.1:%u/missing", fx->main.port);
	parse_target(&t[2], "http://127.0.0.1:%u/", closed);
	for (i = 3; i <= PROBE_HTTP_BATCH_MAX; i++)
		parse_target(&t[i], "http://127.0.0.1:%u/ok", fx->main.port);
	for (i = 0; i < PROBE_HTTP_BATCH_MAX; i++) {
		result_init(&r[i]);
		assert_int_equal(probe_http_batch_add(fx->ctx, &t[i], deadline,
		                     &r[i], (void *)(uintptr_t)i),
		    0);
	}
	assert_int_equal(probe_http_batch_active(fx->ctx),
	    PROBE_HTTP_BATCH_MAX);
	result_init(&r[i]);
	assert_int_equal(probe_http_batch_add(fx->ctx, &t[i], deadline, &r[i],
	                     (void *)(uintptr_t)i),
	    -1);
	while (probe_http_batch_active(fx->ctx) > 0 && rounds++ < 50)
		(void)probe_http_batch_run(fx->ctx, -1, count_done, done);
	for (i = 0; i < PROBE_HTTP_BATCH_MAX; i++)
		assert_int_equal(done[i], 1);
	assert_int_equal(done[PROBE_HTTP_BATCH_MAX], 0);
	want_up(&r[0]);
	assert_int_equal(r[0].http.body_matched, 1);
	want_down(&r[1], REASON_STATUS, "status 404");
	want_down(&r[2], REASON_REFUSED, "refused");
	for (i = 3; i < PROBE_HTTP_BATCH_MAX; i++)
		want_up(&r[i]);
	for (i = 0; i <= PROBE_HTTP_BATCH_MAX; i++) {
		result_release(&r[i]);
		target_clear(&t[i]);
	}
	close(fd);
}

/* While probes run, the batch also watches the caller's descriptor. */
static void
test_batch_watches_fd(void **state)
{
	struct fixture *fx = *state;
	struct target t;
	struct result r;
	unsigned done[1] = {0}, rounds = 0;
	int p[2], readable = 0;
	char c;

	assert_int_equal(pipe(p), 0);
	parse_target(&t, "http://127.0.0.1:%u/ok", fx->main.port);
	result_init(&r);
	assert_int_equal(probe_http_batch_add(fx->ctx, &t,
	                     mono_now_us() + PROBE_US, &r, (void *)0),
	    0);
	assert_int_equal(write(p[1], "x", 1), 1);
	while (probe_http_batch_active(fx->ctx) > 0 && rounds++ < 50) {
		if (probe_http_batch_run(fx->ctx, readable ? -1 : p[0],
		        count_done, done) == 1) {
			readable = 1;
			assert_int_equal(read(p[0], &c, 1), 1);
		}
	}
	assert_int_equal(done[0], 1);
	want_up(&r);
	/* Unless the probe ended before the first wait, the fd was seen. */
	assert_true(readable || rounds == 1);
	result_release(&r);
	target_clear(&t);
	close(p[0]);
	close(p[1]);
}

#define TEST(f) cmocka_unit_test(f)

/* Held to an allowlist, a probe connects only to addresses in it, and
 * says which address it refused; the server never hears of it. */
static void
test_allow_connect(void **state)
{
	struct fixture *fx = *state;
	struct allowlist al = {0};
	struct result r;
	char why[128];
	unsigned before;

	assert_int_equal(allowlist_add(&al, "127.0.0.2/32", why, sizeof(why)),
	    0);
	fx->allow = &al;
	before = request_count(&fx->main);
	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok", fx->main.port);
	want_down(&r, REASON_DENIED,
	    "address 127.0.0.1 is outside the allowlist");
	assert_int_equal(request_count(&fx->main), before);
	result_release(&r);
	assert_int_equal(allowlist_add(&al, "127.0.0.0/24", why, sizeof(why)),
	    0);
	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/ok", fx->main.port);
	want_up(&r);
	result_release(&r);
	fx->allow = NULL;
	allowlist_free(&al);
}

/* A redirect is followed only to a host the allowlist names: a relative
 * one stays, one to another address or to a name no pattern matches is
 * refused before it is followed; with follow=0 nothing is followed. */
static void
test_allow_redirect(void **state)
{
	struct fixture *fx = *state;
	struct allowlist al = {0};
	struct result r;
	char why[128];
	unsigned p = fx->main.port;

	assert_int_equal(allowlist_add(&al, "127.0.0.1,localhost", why,
	                     sizeof(why)),
	    0);
	fx->allow = &al;
	probe_line(fx, &r, PROBE_US, "http://127.0.0.1:%u/redir/2", p);
	want_up(&r);
	assert_int_equal(r.http.redirects, 2);
	result_release(&r);
	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/to?http://127.0.0.2:%u/ok", p, p);
	want_down(&r, REASON_DENIED,
	    "redirect to 127.0.0.2 is outside the allowlist");
	assert_int_equal(r.http.redirects, 0);
	result_release(&r);
	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/to?http://[::ffff:127.0.0.2]:%u/ok", p, p);
	want_down(&r, REASON_DENIED,
	    "redirect to ::ffff:127.0.0.2 is outside the allowlist");
	result_release(&r);
	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/to?http://nowhere.invalid/", p);
	want_down(&r, REASON_DENIED,
	    "redirect to nowhere.invalid is outside the allowlist");
	result_release(&r);
	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/to?http://LOCALHOST.:%u/ok", p, p);
	if (!r.success)
		assert_int_not_equal(r.reason, REASON_DENIED);
	result_release(&r);
	probe_line(fx, &r, PROBE_US,
	    "http://127.0.0.1:%u/to?http://127.0.0.2:%u/ok follow=0 expect=302",
	    p, p);
	want_up(&r);
	result_release(&r);
	fx->allow = NULL;
	allowlist_free(&al);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_get_ok),
	    TEST(test_get_request),
	    TEST(test_no_pattern),
	    TEST(test_match_fails),
	    TEST(test_not_match),
	    TEST(test_status_expect),
	    TEST(test_redirect_follow_zero),
	    TEST(test_redirect_follow_n),
	    TEST(test_redirect_too_many),
	    TEST(test_max_body),
	    TEST(test_gzip_decoded),
	    TEST(test_gzip_bomb),
	    TEST(test_timeout),
	    TEST(test_refused),
	    TEST(test_head),
	    TEST(test_post_body),
	    TEST(test_post_body_file),
	    TEST(test_headers_sent),
	    TEST(test_host_header),
	    TEST(test_headers_too_large),
	    TEST(test_many_patterns),
	    TEST(test_http2_refused),
	    TEST(test_allow_connect),
	    TEST(test_allow_redirect),
	    TEST(test_batch),
	    TEST(test_batch_watches_fd),
	};

	signal(SIGPIPE, SIG_IGN);
	log_init("test_probe_http", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
